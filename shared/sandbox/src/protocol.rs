//! The JSON-lines protocol between the parent ([`crate::Sandbox`]) and the worker process.
//!
//! One message per line. The worker's stdout carries nothing but these messages: the script's
//! `print` output travels inside [`FromWorker::Output`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest message the worker accepts from the parent (an AWS response); the parent bounds
/// what it reads from the worker by the limits of the run instead.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// Messages the parent sends to the worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ToWorker {
    /// The first message: the script and the limits the worker applies to itself.
    Start(StartRequest),
    /// The answer to one [`FromWorker::Call`].
    Result { id: u32, value: Value },
    /// AWS (or the host) answered a call with an error.
    Error {
        id: u32,
        code: String,
        message: String,
    },
}

/// The script and its limits.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StartRequest {
    pub code: String,
    pub timeout_ms: u64,
    pub max_memory_bytes: u64,
    pub max_output_bytes: usize,
    pub max_result_bytes: usize,
    /// The user the worker switches to before the script runs (set when the server is root).
    #[serde(default)]
    pub run_as: Option<crate::WorkerUser>,
}

/// Messages the worker sends to the parent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FromWorker {
    /// Sent once before the script starts: the sandbox layers that could not be put in place
    /// on this platform (empty when all are).
    Layers { missing: Vec<String> },
    /// The script called `call_aws` (or `call_aws_async`); answered by id.
    Call(CallRequest),
    /// A chunk of the script's `print` output (already within the output cap).
    Output { text: String },
    /// The script finished.
    Done {
        result: Value,
        /// Bytes of `print` output dropped past the cap.
        dropped_output_bytes: u64,
    },
    /// The script ended with an exception or hit a limit the interpreter enforces.
    Failed(Failure),
}

/// One AWS call requested by the script.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CallRequest {
    pub id: u32,
    pub service: String,
    pub operation: String,
    pub params: Value,
    pub region: Option<String>,
}

/// How a script failed, as the worker saw it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Failure {
    pub kind: FailureKind,
    /// The Python exception type name (`ValueError`, `SyntaxError`, ...).
    pub exc_type: String,
    pub message: String,
    pub line: Option<u32>,
    /// The traceback as CPython would print it.
    pub traceback: String,
    pub dropped_output_bytes: u64,
}

/// What kind of failure a [`Failure`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailureKind {
    /// An ordinary Python exception (syntax errors included).
    Python,
    /// The interpreter's own execution-time limit.
    Timeout,
    /// The interpreter's own memory limit.
    Memory,
    /// The result's JSON is larger than the limit.
    ResultTooLarge,
    /// A fault inside the worker (interpreter panic, bad message).
    Internal,
}
