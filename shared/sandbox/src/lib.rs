//! The `run_script` sandbox: runs untrusted Python with AWS access through one host function.
//!
//! Scripts run in [monty](https://crates.io/crates/monty), a Python interpreter written in Rust
//! with no access to files, network or environment of its own. Because hostile input can still
//! abort an interpreter process (deep nesting that overflows the parser's stack, an allocation
//! refused), every script runs in a **child process** (the worker, [`worker_main`]) that limits
//! itself (address space, CPU seconds, no core dumps, no files) and talks to the parent over
//! JSON lines on stdin/stdout. The parent ([`Sandbox::run`]) owns the wall-clock deadline (the
//! interpreter's own time limit does not count time spent waiting for AWS), the call budget and
//! the output cap, and answers each `call_aws` through an [`AwsHost`].
//!
//! Below the interpreter the worker has more layers, each of which holds on its own if the
//! interpreter is subverted (see `layers.rs`):
//! - a **seccomp-bpf allow-list** on every worker thread (x86_64 Linux): no sockets, no exec or
//!   fork, no new files, no ptrace, no namespace, mount or identity calls; a forbidden call
//!   stops the worker and the run ends in [`ScriptError::SandboxViolation`];
//! - a **separate unprivileged user** ([`WorkerUser`], default nobody) when the server runs as
//!   root; without root (Lambda) the worker keeps the server's user;
//! - the **server non-dumpable** (set by [`Sandbox::new`]), so that a worker of the same user
//!   cannot read its `/proc/<pid>/environ` or memory;
//! - rlimits (address space, CPU seconds, no core dumps, no file writes, few descriptors),
//!   `PR_SET_NO_NEW_PRIVS`, an empty environment and a private empty working directory.
//!
//! A layer the platform refuses (no seccomp on another architecture, say) is skipped and
//! logged once by the server as a warning; it never stops scripts from running, except the
//! separate user: a root server whose worker cannot give up root runs no script.
//!
//! The worker is the same program re-executed: give [`Sandbox`] a [`WorkerCommand`] that starts
//! a binary which calls [`worker_main`] (this crate ships `script-worker` for its tests).

#![warn(unreachable_pub)]

mod convert;
mod layers;
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub mod probe;
mod protocol;
mod sandbox;
mod worker;

use std::time::Duration;

pub use layers::WorkerUser;
pub use sandbox::{Sandbox, WorkerCommand};
pub use worker::worker_main;

/// The counting global allocator that makes the worker's memory limit exact.
///
/// Declare it in the binary that hosts [`worker_main`]:
/// `#[global_allocator] static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;`.
/// With no limit armed (the parent process never arms one) it only counts live bytes. Without
/// it the worker still stops at its address-space limit, reported as [`ScriptError::MemoryLimit`].
pub use monty_alloc::LimitedAllocator as WorkerAllocator;

/// An AWS error (or a host refusal) for one call, raised in the script as an exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct HostCallError {
    /// The AWS error code (`AccessDenied`, `NoSuchBucket`, ...) or a host code.
    pub code: String,
    pub message: String,
}

impl HostCallError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Performs AWS calls on the script's behalf.
#[async_trait::async_trait]
pub trait AwsHost: Send + Sync {
    /// One AWS call: `service` as botocore names it (`"s3"`), `operation` in API form
    /// (`"ListBuckets"`), `params` the operation's input (a JSON object, `{}` when the script
    /// gave none). `Err` becomes `RuntimeError("<code>: <message>")` in the script, which it
    /// can catch.
    async fn call_aws(
        &self,
        service: String,
        operation: String,
        params: serde_json::Value,
        region: Option<String>,
    ) -> Result<serde_json::Value, HostCallError>;
}

/// Limits for one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for the whole run, AWS calls included.
    pub timeout: Duration,
    /// Memory the script may allocate (the worker's address space is capped a little above).
    pub max_memory_bytes: u64,
    /// `print` output kept; the rest is dropped and a marker says how much.
    pub max_output_bytes: usize,
    /// Largest result (as JSON text) returned; a larger one is [`ScriptError::ResultTooLarge`].
    pub max_result_bytes: usize,
    /// AWS calls per run; one more stops the script with [`ScriptError::TooManyCalls`].
    pub max_aws_calls: u32,
    /// AWS calls in flight at once (from `call_aws_async` + `asyncio.gather`).
    pub max_parallel_calls: usize,
}

impl Limits {
    /// Longest timeout [`Limits::with_timeout`] accepts.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);

    /// These limits with a caller-chosen timeout, clamped to 1 s ..= [`Limits::MAX_TIMEOUT`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.clamp(Duration::from_secs(1), Self::MAX_TIMEOUT);
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_memory_bytes: 256 * 1024 * 1024,
            max_output_bytes: 1024 * 1024,
            max_result_bytes: 4 * 1024 * 1024,
            max_aws_calls: 100,
            max_parallel_calls: 8,
        }
    }
}

/// A script that ran to the end.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptOutcome {
    /// The value of the script's last expression as JSON (`null` when it ends with a statement).
    pub result: serde_json::Value,
    /// Captured `print` output (cut at [`Limits::max_output_bytes`] with a marker).
    pub stdout: String,
    /// AWS calls made.
    pub aws_calls: u32,
}

impl ScriptOutcome {
    /// The structured tool result: `{"result", "stdout", "aws_calls"}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"result": self.result, "stdout": self.stdout, "aws_calls": self.aws_calls})
    }
}

/// Why a script did not produce a result. Every variant carries the output printed before it
/// stopped, where there was any, so the caller can see how far the script got.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The script raised an exception it did not catch, or has a syntax error.
    #[error("{exc_type}: {message}{}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Python {
        /// Exception type name (`NameError`, `SyntaxError`, `RuntimeError`, ...).
        exc_type: String,
        message: String,
        /// Line in the script where it was raised.
        line: Option<u32>,
        /// The traceback as CPython prints it.
        traceback: String,
        stdout: String,
        aws_calls: u32,
    },
    /// The run took longer than [`Limits::timeout`].
    #[error("the script ran longer than its {seconds} s time limit and was stopped")]
    Timeout {
        seconds: u64,
        stdout: String,
        aws_calls: u32,
    },
    /// The script tried to use more memory than [`Limits::max_memory_bytes`].
    #[error("the script exceeded its memory limit of {limit_bytes} bytes and was stopped")]
    MemoryLimit {
        limit_bytes: u64,
        stdout: String,
        aws_calls: u32,
    },
    /// The interpreter's stack ran out (source or data nested too deeply).
    #[error(
        "the script is nested too deeply for the interpreter (stack exhausted) and was stopped"
    )]
    TooDeep { stdout: String, aws_calls: u32 },
    /// The script's result is larger than [`Limits::max_result_bytes`].
    #[error(
        "the script's result is larger than {limit_bytes} bytes of JSON; return less (or print a summary)"
    )]
    ResultTooLarge {
        limit_bytes: usize,
        stdout: String,
        aws_calls: u32,
    },
    /// The script asked for more than [`Limits::max_aws_calls`] AWS calls.
    #[error("the script made more than {limit} AWS calls and was stopped")]
    TooManyCalls {
        limit: u32,
        stdout: String,
        aws_calls: u32,
    },
    /// The worker made a system call the sandbox forbids and was stopped: the script got the
    /// interpreter to do something it never does on its own.
    #[error("the sandbox stopped the script: its worker made a forbidden system call ({call})")]
    SandboxViolation {
        /// The call's name (`socket`, `execve`, ...) or number.
        call: String,
        stdout: String,
        aws_calls: u32,
    },
    /// The worker process could not be started or failed in an unexpected way.
    #[error("sandbox worker failure: {0}")]
    Worker(String),
}

impl ScriptError {
    /// Output printed before the script stopped.
    #[must_use]
    pub fn stdout(&self) -> &str {
        match self {
            Self::Python { stdout, .. }
            | Self::Timeout { stdout, .. }
            | Self::MemoryLimit { stdout, .. }
            | Self::TooDeep { stdout, .. }
            | Self::ResultTooLarge { stdout, .. }
            | Self::TooManyCalls { stdout, .. }
            | Self::SandboxViolation { stdout, .. } => stdout,
            Self::Worker(_) => "",
        }
    }

    /// AWS calls made before the script stopped.
    #[must_use]
    pub fn aws_calls(&self) -> u32 {
        match self {
            Self::Python { aws_calls, .. }
            | Self::Timeout { aws_calls, .. }
            | Self::MemoryLimit { aws_calls, .. }
            | Self::TooDeep { aws_calls, .. }
            | Self::ResultTooLarge { aws_calls, .. }
            | Self::TooManyCalls { aws_calls, .. }
            | Self::SandboxViolation { aws_calls, .. } => *aws_calls,
            Self::Worker(_) => 0,
        }
    }

    /// A short machine-readable name for the failure (`python_error`, `timeout`, ...).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Python { .. } => "python_error",
            Self::Timeout { .. } => "timeout",
            Self::MemoryLimit { .. } => "memory_limit",
            Self::TooDeep { .. } => "too_deep",
            Self::ResultTooLarge { .. } => "result_too_large",
            Self::TooManyCalls { .. } => "too_many_aws_calls",
            Self::SandboxViolation { .. } => "sandbox_violation",
            Self::Worker(_) => "sandbox_failure",
        }
    }
}

/// What scripts can use, in a form fit for the tool description.
pub const PYTHON_SUBSET_DOC: &str = "\
Scripts run in Monty, a sandboxed interpreter for a subset of Python 3 (not CPython: no pip \
packages, no files, no network, an empty environment). AWS is reached only through:
- call_aws(service, operation, params=None, region=None) -> dict: service as boto3 names it \
(\"s3\", \"ec2\", \"dynamodb\"), operation in API form (\"ListBuckets\", \"DescribeInstances\"), \
params the operation's input as a dict of API member names (e.g. {\"Bucket\": \"b\"}). Returns \
the parsed response as a dict. When AWS answers with an error it raises \
RuntimeError(\"<ErrorCode>: <message>\"): catch it with `except RuntimeError as e:` and read the \
code with `str(e).split(':', 1)[0]`.
- call_aws_async(...): the same arguments, returns an awaitable; run calls in parallel with \
`results = await asyncio.gather(call_aws_async(...), call_aws_async(...))` (top-level await works).
The script's result is the value of its last expression (or of a top-level `return value`), \
returned as JSON; print() output is returned as stdout.
Supported: functions (defaults, *args, **kwargs, closures, lambdas, decorators), async def / \
await, classes without inheritance, @dataclass, if/for/while/try/except/finally/with, \
comprehensions, f-strings, walrus, starred assignment, int/float/str/bytes/list/tuple/dict/set, \
most builtins (len, range, sorted, min, max, sum, enumerate, zip, map, filter, any, all, \
isinstance, ...), and the modules json, re, math, datetime (now() and today() work), base64, \
collections, itertools, functools, typing, dataclasses, asyncio (gather, run), sys.
Not supported: class inheritance, generators (yield), match statements, del, `async for` / \
`async with`, eval/exec, and every other module (no time, random, boto3, os beyond an empty \
getenv; open() and pathlib file access raise PermissionError).
Limits (defaults): 30 s wall clock with AWS calls included, 256 MiB of memory, 1 MiB of printed \
output, a 4 MiB result, 100 AWS calls per script.";
