//! Composition of the AWS MCP server: settings, tool groups, session store and telemetry
//! assembled into one [`App`], served either as a Lambda function behind a Function URL
//! ([`lambda::run`]) or locally over stdio or HTTP ([`local`]). Both paths call the same
//! protocol engine, so a tool behaves identically everywhere.
//!
//! This crate decides wiring only; protocol rules live in `mcp-protocol`, tools in their
//! group crates.

#![warn(unreachable_pub)]

pub mod api_context;
pub mod app;
pub mod aws;
pub mod credentials;
pub mod dispatch;
pub mod error;
pub mod forward;
pub mod groups;
pub mod identity;
pub mod internal;
pub mod lambda;
pub mod local;
pub mod settings;
pub mod setup;
pub mod skills_s3;

pub use app::{App, StartupError};
pub use settings::{GroupName, Mode, Settings};

/// The hidden first argument that makes a server binary run as a script worker.
pub const SCRIPT_WORKER_ARG: &str = "__script-worker";

/// Call first in `main`: when this process was started as a script worker, it runs the
/// script and exits; otherwise it returns at once.
pub fn run_script_worker_if_asked() {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == SCRIPT_WORKER_ARG)
    {
        script_sandbox::worker_main();
    }
}

/// Logs go to stderr (stdout is the protocol in stdio mode); JSON in Lambda.
pub fn init_tracing(mode: Mode) {
    use tracing_subscriber::EnvFilter;
    let default = if mode == Mode::Lambda { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = if mode == Mode::Lambda {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
