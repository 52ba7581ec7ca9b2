//! The sandbox layers under the interpreter, each proven by attempting forbidden calls from
//! inside a worker (`script-worker-probe`, which puts up the worker's own layers and then makes
//! the call; see `script_sandbox::probe`).
//!
//! How these tests were checked to fail without their layer (run as root, as CI does): with
//! `layers::install_filter` made to return `Ok` at once, `the_filter_stops_each_forbidden_call`,
//! `every_forbidden_call_is_refused_with_all_layers` and `a_violation_is_reported_as_such`
//! failed (the socket was created, the worker answered instead of being stopped); with
//! `layers::drop_user` made to return `Ok` at once,
//! `the_separate_user_cannot_reach_root_or_the_server` failed (`setresuid(0)` succeeded). The
//! non-dumpable layer has its own test binary, `tests/parent_protection.rs`.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::process::Command;

use script_sandbox::{
    AwsHost, HostCallError, Limits, Sandbox, ScriptError, WorkerCommand, WorkerUser,
};

const PROBE: &str = env!("CARGO_BIN_EXE_script-worker-probe");
/// The probe's exit status when the filter stopped it, and the report it then writes.
const STOPPED_EXIT: i32 = 159;
const STOPPED_MARKER: &str = "script-sandbox: forbidden system call ";

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The call returned: `result` (negative on failure) and `errno`.
    Returned { result: i64, errno: i32 },
    /// The filter stopped the worker at this system call.
    Stopped { syscall: i64 },
}

impl Outcome {
    fn refused(&self) -> bool {
        match self {
            Self::Stopped { .. } => true,
            Self::Returned { result, errno } => {
                *result < 0 && (*errno == libc::EPERM || *errno == libc::EACCES)
            }
        }
    }

    fn allowed(&self) -> bool {
        matches!(self, Self::Returned { result, .. } if *result >= 0)
    }
}

fn probe(layers: &str, call: &str, extra: &[&str]) -> Outcome {
    let out = Command::new(PROBE)
        .arg(layers)
        .arg(call)
        .args(extra)
        .env_clear()
        .output()
        .expect("the probe starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(STOPPED_EXIT)
        && let Some(at) = stderr.find(STOPPED_MARKER)
    {
        let number: String = stderr[at + STOPPED_MARKER.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return Outcome::Stopped {
            syscall: number.parse().expect("a system call number"),
        };
    }
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{layers} {call}: {e}; status {:?}, stdout {stdout:?}, stderr {stderr:?}",
            out.status
        )
    });
    Outcome::Returned {
        result: line["result"].as_i64().expect("result"),
        errno: i32::try_from(line["errno"].as_i64().expect("errno")).expect("errno"),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A loopback listener for the `connect` probe, and its port as an argument.
fn listener() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    (listener, port)
}

/// Every probe, with the system call it makes (when that call is the one the filter stops).
const PROBES: [(&str, i64); 12] = [
    ("socket", libc::SYS_socket),
    ("connect", libc::SYS_connect),
    ("execve", libc::SYS_execve),
    ("fork", libc::SYS_clone),
    ("create-file", libc::SYS_openat),
    ("parent-environ", libc::SYS_openat),
    ("parent-mem", libc::SYS_openat),
    ("ptrace", libc::SYS_ptrace),
    ("kill-parent", libc::SYS_kill),
    ("unshare", libc::SYS_unshare),
    ("mount", libc::SYS_mount),
    ("setuid-root", libc::SYS_setresuid),
];

/// Opens are refused with EPERM instead of stopping the worker (the C library probes a
/// `/proc` file under memory pressure).
fn is_open(call: &str) -> bool {
    matches!(call, "create-file" | "parent-environ" | "parent-mem")
}

#[test]
fn every_forbidden_call_is_refused_with_all_layers() {
    let (_listener, port) = listener();
    for (call, _) in PROBES {
        let outcome = probe("all", call, &[&port]);
        assert!(outcome.refused(), "{call}: {outcome:?}");
    }
}

#[test]
fn the_filter_stops_each_forbidden_call() {
    let (_listener, port) = listener();
    // Without layers, the harmless probes go through on any machine: the probes work, so a
    // refusal below is the filter's.
    for call in ["socket", "connect", "execve", "fork", "create-file"] {
        let outcome = probe("none", call, &[&port]);
        assert!(outcome.allowed(), "{call} without layers: {outcome:?}");
    }
    for (call, syscall) in PROBES {
        let outcome = probe("filter", call, &[&port]);
        if is_open(call) {
            assert_eq!(
                outcome,
                Outcome::Returned {
                    result: -1,
                    errno: libc::EPERM
                },
                "{call}"
            );
        } else if call == "fork" {
            // The C library forks with clone (or clone3 where it has it).
            assert!(
                matches!(outcome, Outcome::Stopped { syscall } if syscall == libc::SYS_clone || syscall == libc::SYS_clone3),
                "{call}: {outcome:?}"
            );
        } else {
            assert_eq!(outcome, Outcome::Stopped { syscall }, "{call}");
        }
    }
}

#[test]
fn the_separate_user_cannot_reach_root_or_the_server() {
    if !is_root() {
        eprintln!("not root: the separate-user layer only exists under root; nothing to test");
        return;
    }
    // Without the layer (root worker) these all succeed; the test process is the "server".
    for call in ["setuid-root", "parent-environ", "ptrace", "kill-parent"] {
        let outcome = probe("none", call, &[]);
        assert!(outcome.allowed(), "{call} as root: {outcome:?}");
    }
    for call in [
        "setuid-root",
        "parent-environ",
        "parent-mem",
        "ptrace",
        "kill-parent",
    ] {
        let outcome = probe("user", call, &[]);
        assert!(
            matches!(outcome, Outcome::Returned { result, .. } if result < 0) && outcome.refused(),
            "{call} after dropping root: {outcome:?}"
        );
    }
}

struct NoAws;

#[async_trait::async_trait]
impl AwsHost for NoAws {
    async fn call_aws(
        &self,
        _service: String,
        _operation: String,
        _params: serde_json::Value,
        _region: Option<String>,
    ) -> Result<serde_json::Value, HostCallError> {
        Err(HostCallError::new("Unavailable", "no AWS in this test"))
    }
}

#[tokio::test]
async fn a_violation_is_reported_as_such() {
    for (call, name) in [("socket", "socket"), ("execve", "execve")] {
        let worker = WorkerCommand::new(PROBE).arg("as-worker").arg(call);
        let out = Sandbox::new(worker, Limits::default())
            .run("1", &NoAws)
            .await;
        match out {
            Err(e @ ScriptError::SandboxViolation { .. }) => {
                assert_eq!(e.kind(), "sandbox_violation");
                assert!(e.to_string().contains(name), "{e}");
            }
            other => panic!("{call}: expected a sandbox violation, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn under_root_scripts_run_as_the_configured_user_and_never_as_root() {
    if !is_root() {
        eprintln!("not root: workers keep this process's user; nothing to test");
        return;
    }
    let worker = || WorkerCommand::new(env!("CARGO_BIN_EXE_script-worker"));
    let other = WorkerUser {
        uid: 4321,
        gid: 4321,
    };
    let out = Sandbox::new(worker().user(other), Limits::default())
        .run("print('hi')\n6 * 7", &NoAws)
        .await
        .expect("a script runs as another unprivileged user");
    assert_eq!(out.result, serde_json::json!(42));
    let root = WorkerUser { uid: 0, gid: 0 };
    match Sandbox::new(worker().user(root), Limits::default())
        .run("1", &NoAws)
        .await
    {
        Err(ScriptError::Worker(message)) => {
            assert!(message.contains("could not drop root"), "{message}");
        }
        other => panic!("a worker told to stay root must refuse: {other:?}"),
    }
}
