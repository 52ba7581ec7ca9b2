//! Test-only entry point: puts the worker's layers in place, then attempts one forbidden call
//! and reports what happened. Only the crate's `script-worker-probe` binary calls it (servers
//! never do), so no production binary has this mode; it attempts forbidden things and reports,
//! nothing more.
//!
//! Usage: `script-worker-probe <layers> <probe> [arg]`, where `<layers>` is `all` (the worker's
//! own sequence: rlimits, no-new-privileges, the separate user when root, the filter),
//! `filter`, `user` or `none`. It prints one JSON line `{"probe", "result", "errno"}` (the
//! call's return value and errno), or is stopped by the filter (exit status 159 and the
//! filter's report on stderr). `script-worker-probe as-worker <probe>` stands in for a worker
//! whose interpreter was subverted: it takes the server's start message, puts up all layers,
//! then makes the call, so a test can see how the server reports the violation.

use std::ffi::CString;

use crate::layers::{self, WorkerUser};
use crate::protocol::StartRequest;

/// The argument that makes the probe binary, executed by the `execve` probe, report success.
const EXEC_MARKER: &str = "exec-marker";

#[doc(hidden)]
pub fn probe_main() -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    if arg(0) == EXEC_MARKER {
        report("execve", 0, 0);
    }
    if arg(0) == "as-worker" {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let prepared = prepare(arg(1), arg(2)).unwrap_or_else(|e| fail(&e));
        apply("all").unwrap_or_else(|e| fail(&e));
        let result = attempt(arg(1), &prepared);
        // Not a protocol message: a server that gets here reports a broken worker.
        report(arg(1), result, 0);
    }
    let (mode, probe, extra) = (arg(0), arg(1), arg(2));
    let prepared = match prepare(probe, extra) {
        Ok(p) => p,
        Err(e) => fail(&e),
    };
    if let Err(e) = apply(mode) {
        fail(&e);
    }
    let result = attempt(probe, &prepared);
    let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    report(probe, result, if result < 0 { errno } else { 0 })
}

fn report(probe: &str, result: i64, errno: i32) -> ! {
    println!(
        "{}",
        serde_json::json!({"probe": probe, "result": result, "errno": errno})
    );
    std::process::exit(0)
}

fn fail(message: &str) -> ! {
    eprintln!("probe setup failed: {message}");
    std::process::exit(2)
}

/// What a probe needs made before the layers go up.
#[derive(Default)]
struct Prepared {
    /// A TCP socket for `connect` (created while sockets are still allowed).
    socket: i32,
    port: u16,
    exe: Option<CString>,
    ppid: i32,
}

fn prepare(probe: &str, extra: &str) -> Result<Prepared, String> {
    // SAFETY: getppid has no preconditions.
    let mut prepared = Prepared {
        ppid: unsafe { libc::getppid() },
        ..Prepared::default()
    };
    match probe {
        "connect" => {
            prepared.port = extra.parse().map_err(|_| "connect needs a port")?;
            // SAFETY: plain socket creation.
            prepared.socket = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
            if prepared.socket < 0 {
                return Err("cannot create the socket to connect with".to_owned());
            }
        }
        "execve" => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            prepared.exe =
                Some(CString::new(exe.to_string_lossy().into_owned()).map_err(|e| e.to_string())?);
        }
        _ => {}
    }
    Ok(prepared)
}

/// Puts up the layers `mode` names, in the worker's order.
fn apply(mode: &str) -> Result<(), String> {
    match mode {
        "all" => {
            crate::worker::harden_process(&StartRequest {
                code: String::new(),
                timeout_ms: 10_000,
                max_memory_bytes: 64 * 1024 * 1024,
                max_output_bytes: 0,
                max_result_bytes: 0,
                run_as: None,
            });
            if layers::is_root() {
                layers::drop_user(WorkerUser::NOBODY).map_err(|e| e.to_string())?;
            }
            layers::install_violation_handler();
            layers::install_filter().map_err(|e| e.to_string())
        }
        "filter" => {
            layers::install_violation_handler();
            layers::install_filter().map_err(|e| e.to_string())
        }
        "user" => layers::drop_user(WorkerUser::NOBODY).map_err(|e| e.to_string()),
        "none" => Ok(()),
        other => Err(format!("unknown layers {other:?}")),
    }
}

/// Makes the forbidden call; returns its raw result (errno is read right after).
fn attempt(probe: &str, p: &Prepared) -> i64 {
    let proc_file = |name: &str| CString::new(format!("/proc/{}/{name}", p.ppid)).ok();
    // SAFETY: each call gets valid pointers (NUL-terminated strings, live buffers) or none;
    // the calls only affect this process, or are refused.
    unsafe {
        match probe {
            "socket" => i64::from(libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0)),
            "connect" => {
                let addr = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: p.port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
                    },
                    sin_zero: [0; 8],
                };
                i64::from(libc::connect(
                    p.socket,
                    (&raw const addr).cast(),
                    size_of::<libc::sockaddr_in>() as libc::socklen_t,
                ))
            }
            "execve" => {
                let Some(exe) = &p.exe else { return -1 };
                let Ok(marker) = CString::new(EXEC_MARKER) else {
                    return -1;
                };
                let argv = [exe.as_ptr(), marker.as_ptr(), std::ptr::null()];
                let envp = [std::ptr::null()];
                i64::from(libc::execve(exe.as_ptr(), argv.as_ptr(), envp.as_ptr()))
            }
            "fork" => {
                let pid = libc::fork();
                if pid == 0 {
                    libc::_exit(0);
                }
                i64::from(pid)
            }
            "create-file" => {
                let path =
                    std::env::temp_dir().join(format!("script-sandbox-probe-{}", libc::getpid()));
                let Ok(c_path) = CString::new(path.to_string_lossy().into_owned()) else {
                    return -1;
                };
                let fd = libc::open(
                    c_path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL,
                    0o600,
                );
                if fd >= 0 {
                    libc::unlink(c_path.as_ptr());
                }
                i64::from(fd)
            }
            "parent-environ" => {
                let Some(path) = proc_file("environ") else {
                    return -1;
                };
                let fd = libc::open(path.as_ptr(), libc::O_RDONLY);
                if fd < 0 {
                    return -1;
                }
                let mut buf = [0u8; 4096];
                // The bytes read: the parent's environment was readable.
                libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) as i64
            }
            "parent-mem" => {
                let Some(path) = proc_file("mem") else {
                    return -1;
                };
                i64::from(libc::open(path.as_ptr(), libc::O_RDONLY))
            }
            // SEIZE does not stop the parent; the attachment ends with this process.
            "ptrace" => libc::ptrace(libc::PTRACE_SEIZE, p.ppid, 0, 0),
            // Signal 0 only checks that the parent could be signalled.
            "kill-parent" => i64::from(libc::kill(p.ppid, 0)),
            "unshare" => i64::from(libc::unshare(libc::CLONE_NEWUSER)),
            // A target that does not exist: should the call pass every check, nothing mounts.
            "mount" => i64::from(libc::mount(
                c"none".as_ptr(),
                c"/nonexistent-script-sandbox-probe".as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            )),
            "setuid-root" => libc::syscall(libc::SYS_setresuid, 0, 0, 0),
            _ => {
                fail(&format!("unknown probe {probe:?}"));
            }
        }
    }
}
