//! The server makes itself non-dumpable when it creates a [`Sandbox`], so a worker of the same
//! user cannot read its environment or memory through `/proc`, nor attach to it.
//!
//! Its own test binary: under root it gives up root for the whole process (root reads any
//! `/proc` file, so the layer only shows between two processes of one ordinary user, which is
//! Lambda's case). Checked to fail without the layer: with `layers::protect_parent` made to do
//! nothing, the probe read this process's environment after `Sandbox::new`.
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::Command;

use script_sandbox::{Limits, Sandbox, WorkerCommand};

const NOBODY: u32 = 65534;

/// Runs a probe with no layers of its own (a same-user worker whose filter is gone).
fn probe(program: &PathBuf, call: &str) -> (i64, i32) {
    let out = Command::new(program)
        .args(["none", call])
        .env_clear()
        .output()
        .expect("the probe starts");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{call}: {e}; status {:?}, stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        line["result"].as_i64().expect("result"),
        i32::try_from(line["errno"].as_i64().expect("errno")).expect("errno"),
    )
}

/// Under root: a copy of the probe that `nobody` can run, then this process becomes `nobody`.
fn become_ordinary_user(dir: &tempfile::TempDir) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let program = PathBuf::from(env!("CARGO_BIN_EXE_script-worker-probe"));
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return program;
    }
    let copy = dir.path().join("script-worker-probe");
    std::fs::copy(&program, &copy).expect("copy the probe");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    // Owned by nobody, so that the directory can still be removed at the end.
    for path in [dir.path(), copy.as_path()] {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
    // SAFETY: identity calls on this process (the C library applies them to every thread).
    unsafe {
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
        assert_eq!(libc::setresgid(NOBODY, NOBODY, NOBODY), 0);
        assert_eq!(libc::setresuid(NOBODY, NOBODY, NOBODY), 0);
    }
    copy
}

#[test]
fn a_same_user_worker_cannot_read_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let program = become_ordinary_user(&dir);
    // A change of user leaves a process non-dumpable on its own: start from dumpable, as a
    // server does, so that what follows is the layer's doing.
    // SAFETY: prctl with constant arguments on this process.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1 as libc::c_ulong, 0, 0, 0) },
        0
    );
    let (read, errno) = probe(&program, "parent-environ");
    assert!(
        read > 0,
        "without the layer a same-user worker reads the server's environment ({read}, errno {errno})"
    );

    let _sandbox = Sandbox::new(WorkerCommand::new(&program), Limits::default());

    for call in ["parent-environ", "parent-mem"] {
        assert_eq!(probe(&program, call), (-1, libc::EACCES), "{call}");
    }
    assert_eq!(probe(&program, "ptrace"), (-1, libc::EPERM), "ptrace");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
}
