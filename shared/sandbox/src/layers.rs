//! The layers under the interpreter: what still holds if a script subverts monty itself.
//!
//! - **System-call filter** (x86_64 Linux): a seccomp-bpf allow-list installed on every thread
//!   of the worker before the script starts. Only what the interpreter and the pipes to the
//!   server need passes: reading stdin, writing stdout/stderr, memory (never executable),
//!   futexes, clocks, sleeping, signals to itself, exiting. File opens fail with `EPERM` (the C
//!   library probes a `/proc` file under memory pressure and copes with a refusal); any other
//!   call (sockets, exec, fork, ptrace, namespaces, mounts, identity changes, ...) stops the
//!   worker at once through `SIGSYS`, and the server reports a sandbox violation naming the
//!   call. Stopping rather than failing the call: the worker never makes such calls, so one
//!   means the interpreter is no longer under control, and it should not get to try the next.
//! - **Separate user**: when the server runs as root, the worker gives up root for an
//!   unprivileged uid/gid (default 65534, nobody) with no supplementary groups, and checks that
//!   it cannot take root back. Without root (Lambda) this layer does not exist.
//! - **Parent unreadable**: the server makes itself non-dumpable, so a worker of the same user
//!   cannot read its `/proc/<pid>/environ` (credentials live there in Lambda) or `mem`, nor
//!   attach to it with ptrace.
//!
//! The worker's own rlimits and empty environment are set in `worker.rs`.

/// Exit status of a worker stopped by the filter (128 + `SIGSYS`, as a shell reports it).
pub(crate) const VIOLATION_EXIT_CODE: i32 = 128 + 31;
/// What the worker writes to stderr before that exit, followed by the call's number.
pub(crate) const VIOLATION_MARKER: &str = "script-sandbox: forbidden system call ";

/// The unprivileged identity a worker started by root takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkerUser {
    pub uid: u32,
    pub gid: u32,
}

impl WorkerUser {
    /// `nobody` / `nogroup` on Linux distributions.
    pub const NOBODY: Self = Self {
        uid: 65534,
        gid: 65534,
    };
}

impl Default for WorkerUser {
    fn default() -> Self {
        Self::NOBODY
    }
}

/// A layer that could not be put in place.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LayerError {
    #[error("refusing to run scripts as root (uid {uid}, gid {gid})")]
    RootTarget { uid: u32, gid: u32 },
    #[error("{step} failed: {source}")]
    Os {
        step: &'static str,
        source: std::io::Error,
    },
    #[cfg(not(target_os = "linux"))]
    #[error("switching users is implemented for Linux only")]
    NoUserSwitch,
    #[error("the worker could take root back after dropping it")]
    RootRegained,
    #[error("dropping to uid {uid}, gid {gid} left uid {got_uid}, gid {got_gid}")]
    NotDropped {
        uid: u32,
        gid: u32,
        got_uid: u32,
        got_gid: u32,
    },
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[error("building the system-call filter: {0}")]
    Build(#[from] seccompiler::BackendError),
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[error("installing the system-call filter: {0}")]
    Install(#[from] seccompiler::Error),
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    #[error("no system-call filter on this platform (x86_64 Linux only)")]
    Unsupported,
}

/// Makes this (the server) process non-dumpable, once.
///
/// Chosen over the alternatives because it needs no privilege and covers every way a worker of
/// the same user could look in: the kernel then owns `/proc/<pid>/*` by root and refuses
/// `environ`, `mem` and ptrace attach to anyone without `CAP_SYS_PTRACE`. Moving secrets out
/// of the environment instead would miss what the runtime put there; a separate user for the
/// worker needs root, which Lambda does not give. The cost is no core dumps of the server,
/// which is wanted anyway (they would hold credentials).
pub(crate) fn protect_parent() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: prctl with constant arguments changes only this process's attributes.
            let rc = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) };
            if rc != 0 {
                tracing::warn!(
                    error = %std::io::Error::last_os_error(),
                    "cannot make this process non-dumpable: script workers of the same user could read its environment"
                );
            }
        }
    });
}

/// Whether this process runs as root.
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Gives up root for `user` (groups, then gid, then uid), then checks it cannot be regained.
/// Call while the process has a single thread.
#[cfg(target_os = "linux")]
pub(crate) fn drop_user(user: WorkerUser) -> Result<(), LayerError> {
    let os_error = |step: &'static str| LayerError::Os {
        step,
        source: std::io::Error::last_os_error(),
    };
    let WorkerUser { uid, gid } = user;
    if uid == 0 || gid == 0 {
        return Err(LayerError::RootTarget { uid, gid });
    }
    // SAFETY: plain identity calls on this process; the null list with length 0 is valid.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(os_error("setgroups"));
        }
        if libc::setresgid(gid, gid, gid) != 0 {
            return Err(os_error("setresgid"));
        }
        if libc::setresuid(uid, uid, uid) != 0 {
            return Err(os_error("setresuid"));
        }
    }
    let (mut ruid, mut euid, mut suid) = (0, 0, 0);
    let (mut rgid, mut egid, mut sgid) = (0, 0, 0);
    // SAFETY: the out-pointers are valid locals; getgroups with size 0 only counts.
    let (groups, regained) = unsafe {
        libc::getresuid(&mut ruid, &mut euid, &mut suid);
        libc::getresgid(&mut rgid, &mut egid, &mut sgid);
        let groups = libc::getgroups(0, std::ptr::null_mut());
        let regained = libc::setresuid(0, 0, 0) == 0 || libc::setresgid(0, 0, 0) == 0;
        (groups, regained)
    };
    if regained {
        return Err(LayerError::RootRegained);
    }
    if [ruid, euid, suid] != [uid; 3] || [rgid, egid, sgid] != [gid; 3] || groups != 0 {
        return Err(LayerError::NotDropped {
            uid,
            gid,
            got_uid: euid,
            got_gid: egid,
        });
    }
    Ok(())
}

/// Elsewhere a root server runs no script (the calls used above are Linux's).
#[cfg(not(target_os = "linux"))]
pub(crate) fn drop_user(_user: WorkerUser) -> Result<(), LayerError> {
    Err(LayerError::NoUserSwitch)
}

/// Installs the `SIGSYS` handler that reports a filtered call and ends the worker.
pub(crate) fn install_violation_handler() {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    // SAFETY: the handler only formats into a stack buffer, writes and exits
    // (async-signal-safe); the sigaction struct is fully initialised.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigsys as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGSYS, &action, std::ptr::null_mut());
    }
}

/// Writes the marker and the call's number to stderr and exits with [`VIOLATION_EXIT_CODE`].
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
extern "C" fn on_sigsys(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // The kernel's SIGSYS siginfo holds the call address at offset 16 and the call's number
    // (an int) right after it (`_sigsys` in <asm-generic/siginfo.h>); libc has no accessor.
    // SAFETY: `info` is the kernel-provided siginfo of this signal, which is that large.
    let nr = unsafe { info.cast::<u8>().add(24).cast::<i32>().read_unaligned() };
    let mut line = [0u8; 64];
    let marker = VIOLATION_MARKER.as_bytes();
    line[..marker.len()].copy_from_slice(marker);
    let mut len = marker.len();
    let mut digits = [0u8; 12];
    let mut n = nr.unsigned_abs();
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if nr < 0 {
        line[len] = b'-';
        len += 1;
    }
    for i in (0..count).rev() {
        line[len] = digits[i];
        len += 1;
    }
    line[len] = b'\n';
    len += 1;
    // SAFETY: write and _exit are async-signal-safe; the buffer is valid for `len` bytes.
    unsafe {
        libc::write(2, line.as_ptr().cast(), len);
        libc::_exit(VIOLATION_EXIT_CODE);
    }
}

/// Installs the system-call filter on every thread of this process.
pub(crate) fn install_filter() -> Result<(), LayerError> {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        filter::install()
    }
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        Err(LayerError::Unsupported)
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod filter {
    use std::collections::BTreeMap;

    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };

    use super::LayerError;

    type Rules = BTreeMap<i64, Vec<SeccompRule>>;

    /// Two filters, the kernel applying the stricter answer of both: first one that turns file
    /// opens into `EPERM`, then the allow-list that traps everything it does not name (opens
    /// included in it, so that the first filter's `EPERM` is the answer for them). TSYNC puts
    /// both on every thread, so no thread of the worker runs unfiltered.
    pub(super) fn install() -> Result<(), LayerError> {
        let opens = compile(
            open_calls(),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
        )?;
        let allowed = compile(allow_list()?, SeccompAction::Trap, SeccompAction::Allow)?;
        seccompiler::apply_filter_all_threads(&opens)?;
        seccompiler::apply_filter_all_threads(&allowed)?;
        Ok(())
    }

    fn compile(
        rules: Rules,
        mismatch: SeccompAction,
        matched: SeccompAction,
    ) -> Result<BpfProgram, LayerError> {
        let filter = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)?;
        Ok(filter.try_into()?)
    }

    fn open_calls() -> Rules {
        [libc::SYS_open, libc::SYS_openat, libc::SYS_openat2]
            .into_iter()
            .map(|nr| (nr, Vec::new()))
            .collect()
    }

    fn arg_is(index: u8, value: u64) -> Result<SeccompRule, LayerError> {
        Ok(SeccompRule::new(vec![SeccompCondition::new(
            index,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            value,
        )?])?)
    }

    /// `prot` (argument 2) without `PROT_EXEC`: no new executable memory.
    fn not_executable() -> Result<SeccompRule, LayerError> {
        Ok(SeccompRule::new(vec![SeccompCondition::new(
            2,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )?])?)
    }

    /// What the worker does once the script runs, found by tracing the escape suite: the
    /// pipes, memory, locks, time, the parent watchdog, thread exit and the abort path (a
    /// refused allocation or a stack overflow ends in `SIGABRT` sent to itself).
    fn allow_list() -> Result<Rules, LayerError> {
        // SAFETY: getpid has no preconditions and cannot fail.
        let pid = unsafe { libc::getpid() } as u64;
        let mut rules = Rules::new();
        for nr in [
            libc::SYS_brk,
            libc::SYS_munmap,
            libc::SYS_mremap,
            libc::SYS_madvise,
            libc::SYS_futex,
            libc::SYS_sched_yield,
            // Only reads a CPU mask; the C library asks for it when it sizes malloc arenas.
            libc::SYS_sched_getaffinity,
            libc::SYS_clock_gettime,
            libc::SYS_clock_getres,
            libc::SYS_gettimeofday,
            libc::SYS_time,
            libc::SYS_clock_nanosleep,
            libc::SYS_nanosleep,
            libc::SYS_getrandom,
            libc::SYS_getpid,
            libc::SYS_gettid,
            libc::SYS_getppid,
            libc::SYS_rt_sigreturn,
            libc::SYS_rt_sigprocmask,
            libc::SYS_rt_sigaction,
            libc::SYS_sigaltstack,
            libc::SYS_restart_syscall,
            libc::SYS_exit,
            libc::SYS_exit_group,
            // Refused with EPERM by the first filter.
            libc::SYS_open,
            libc::SYS_openat,
            libc::SYS_openat2,
        ] {
            rules.insert(nr, Vec::new());
        }
        rules.insert(libc::SYS_read, vec![arg_is(0, 0)?]);
        rules.insert(libc::SYS_write, vec![arg_is(0, 1)?, arg_is(0, 2)?]);
        rules.insert(libc::SYS_mmap, vec![not_executable()?]);
        rules.insert(libc::SYS_mprotect, vec![not_executable()?]);
        // Signals only to this process (abort raises SIGABRT with tgkill).
        rules.insert(libc::SYS_tgkill, vec![arg_is(0, pid)?]);
        Ok(rules)
    }
}

/// A readable name for a system call the filter stopped.
pub(crate) fn syscall_name(nr: i64) -> String {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        let known = [
            (libc::SYS_socket, "socket"),
            (libc::SYS_socketpair, "socketpair"),
            (libc::SYS_connect, "connect"),
            (libc::SYS_bind, "bind"),
            (libc::SYS_listen, "listen"),
            (libc::SYS_accept, "accept"),
            (libc::SYS_accept4, "accept4"),
            (libc::SYS_sendto, "sendto"),
            (libc::SYS_sendmsg, "sendmsg"),
            (libc::SYS_recvfrom, "recvfrom"),
            (libc::SYS_recvmsg, "recvmsg"),
            (libc::SYS_execve, "execve"),
            (libc::SYS_execveat, "execveat"),
            (libc::SYS_fork, "fork"),
            (libc::SYS_vfork, "vfork"),
            (libc::SYS_clone, "clone"),
            (libc::SYS_clone3, "clone3"),
            (libc::SYS_ptrace, "ptrace"),
            (libc::SYS_process_vm_readv, "process_vm_readv"),
            (libc::SYS_process_vm_writev, "process_vm_writev"),
            (libc::SYS_unshare, "unshare"),
            (libc::SYS_setns, "setns"),
            (libc::SYS_mount, "mount"),
            (libc::SYS_umount2, "umount2"),
            (libc::SYS_pivot_root, "pivot_root"),
            (libc::SYS_chroot, "chroot"),
            (libc::SYS_setuid, "setuid"),
            (libc::SYS_setgid, "setgid"),
            (libc::SYS_setresuid, "setresuid"),
            (libc::SYS_setresgid, "setresgid"),
            (libc::SYS_setreuid, "setreuid"),
            (libc::SYS_setgroups, "setgroups"),
            (libc::SYS_kill, "kill"),
            (libc::SYS_tkill, "tkill"),
            (libc::SYS_tgkill, "tgkill"),
            (libc::SYS_creat, "creat"),
            (libc::SYS_mkdir, "mkdir"),
            (libc::SYS_unlink, "unlink"),
            (libc::SYS_rename, "rename"),
            (libc::SYS_chmod, "chmod"),
            (libc::SYS_chown, "chown"),
            (libc::SYS_close, "close"),
            (libc::SYS_ioctl, "ioctl"),
            (libc::SYS_prctl, "prctl"),
            (libc::SYS_seccomp, "seccomp"),
            (libc::SYS_bpf, "bpf"),
            (libc::SYS_mmap, "mmap"),
            (libc::SYS_mprotect, "mprotect"),
            (libc::SYS_read, "read"),
            (libc::SYS_write, "write"),
        ];
        if let Some((_, name)) = known.iter().find(|(n, _)| *n == nr) {
            return (*name).to_owned();
        }
    }
    format!("system call {nr}")
}

/// The number a violating worker wrote to stderr, if it did.
pub(crate) fn violation_in(stderr: &str) -> Option<i64> {
    let rest = &stderr[stderr.find(VIOLATION_MARKER)? + VIOLATION_MARKER.len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_read_back_from_stderr() {
        assert_eq!(
            violation_in("x\nscript-sandbox: forbidden system call 41\n"),
            Some(41)
        );
        assert_eq!(violation_in("memory allocation of 5 bytes failed"), None);
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        {
            assert_eq!(syscall_name(libc::SYS_socket), "socket");
            assert_eq!(syscall_name(libc::SYS_execve), "execve");
        }
        assert_eq!(syscall_name(100_000), "system call 100000");
    }
}
