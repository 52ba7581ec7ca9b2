//! Test support for the workspace's integration tests (a dev-dependency only).
//!
//! [`MotoServer`] starts `moto_server` (the AWS API emulator the test command installs into
//! `.venv-tools` and puts on `PATH`) on a free loopback port and stops it when dropped. Where
//! moto cannot start, the tests that need it fail, naming what to install, unless
//! `AWS_MCP_SKIP_MOTO_TESTS=1` asks to skip them.
//!
//! [`module_graph::assert_no_cycles`] fails a crate's test when its top-level modules import
//! each other in a circle. [`json_diff`] names the paths where two JSON documents differ, for
//! parity tests' failure messages.

#![warn(unreachable_pub)]

mod json_diff;
pub mod module_graph;

pub use json_diff::{json_diff, json_diff_text};

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`, stopped on drop.
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test that needs moto fails when moto cannot start, so a missing emulator never passes
/// for a green run; `AWS_MCP_SKIP_MOTO_TESTS=1` skips such tests instead, on purpose.
fn skip(reason: &str) -> Option<MotoServer> {
    if std::env::var("AWS_MCP_SKIP_MOTO_TESTS").as_deref() != Ok("1") {
        panic!(
            "moto_server is needed for this test: {reason} (bash tests/run.sh installs it into .venv-tools; or set AWS_MCP_SKIP_MOTO_TESTS=1 to skip)"
        );
    }
    println!("SKIPPED (AWS_MCP_SKIP_MOTO_TESTS=1): {reason}");
    None
}

impl MotoServer {
    /// Starts one; panics when it cannot (`None` only when skipping was asked for).
    pub fn start() -> Option<Self> {
        let port = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => return skip(&format!("no free loopback port: {e}")),
        };
        let child = match Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                return skip(&format!(
                    "moto_server is not on PATH ({e}); pip install 'moto[server]'"
                ));
            }
        };
        let server = MotoServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(server);
        skip("moto_server did not start within 30 s")
    }
}
