//! The parent side: starts a worker process per script, answers its AWS calls through an
//! [`AwsHost`], and enforces the wall-clock deadline, the call budget and the output cap.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::layers::{self, WorkerUser};
use crate::protocol::{CallRequest, Failure, FailureKind, FromWorker, StartRequest, ToWorker};
use crate::{AwsHost, HostCallError, Limits, ScriptError, ScriptOutcome};

/// Worker stderr kept for diagnosing crashes.
const MAX_STDERR_BYTES: usize = 16 * 1024;
/// Extra time the parent gives the worker past the timeout, so that the interpreter's own,
/// cleaner time-limit error wins the race when the script spends its time computing.
const DEADLINE_GRACE: Duration = Duration::from_millis(750);

/// How to start a worker process: a program that calls [`crate::worker_main`] when started
/// with these arguments and environment (the environment is otherwise empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// The user the worker switches to when this process runs as root (otherwise unused).
    pub user: WorkerUser,
}

impl WorkerCommand {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            user: WorkerUser::default(),
        }
    }

    /// The running executable, started with `args` (for example a hidden subcommand).
    pub fn current_exe(args: &[&str]) -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            args: args.iter().map(OsString::from).collect(),
            env: Vec::new(),
            user: WorkerUser::default(),
        })
    }

    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// The user workers run as when this process is root (default [`WorkerUser::NOBODY`]).
    #[must_use]
    pub fn user(mut self, user: WorkerUser) -> Self {
        self.user = user;
        self
    }

    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// Runs scripts, one worker process each.
#[derive(Debug, Clone)]
pub struct Sandbox {
    worker: WorkerCommand,
    limits: Limits,
}

type HostFuture<'a> =
    Pin<Box<dyn Future<Output = (u32, Result<serde_json::Value, HostCallError>)> + Send + 'a>>;

/// What the run loop has gathered so far.
struct Progress {
    stdout: String,
    aws_calls: u32,
}

impl Sandbox {
    /// A sandbox starting `worker`. Makes this process non-dumpable (once), so that workers
    /// cannot read its environment or memory through `/proc`.
    pub fn new(worker: WorkerCommand, limits: Limits) -> Self {
        layers::protect_parent();
        Self { worker, limits }
    }

    /// The user a worker should switch to: the configured one when this process is root.
    fn run_as(&self) -> Option<WorkerUser> {
        static NOT_ROOT: std::sync::Once = std::sync::Once::new();
        if layers::is_root() {
            return Some(self.worker.user);
        }
        NOT_ROOT.call_once(|| {
            tracing::info!(
                "not running as root: script workers keep this process's user (the system-call filter and rlimits still apply)"
            );
        });
        None
    }

    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Runs `code` with these limits.
    pub async fn run(&self, code: &str, host: &dyn AwsHost) -> Result<ScriptOutcome, ScriptError> {
        self.run_with(code, host, &self.limits).await
    }

    /// Runs `code` with other limits (for example a caller-chosen timeout).
    pub async fn run_with(
        &self,
        code: &str,
        host: &dyn AwsHost,
        limits: &Limits,
    ) -> Result<ScriptOutcome, ScriptError> {
        let run_as = self.run_as();
        let workdir = tempfile::tempdir()
            .map_err(|e| ScriptError::Worker(format!("temporary directory: {e}")))?;
        let mut command = Command::new(&self.worker.program);
        command
            .args(&self.worker.args)
            .env_clear()
            .envs(self.worker.env.iter().map(|(k, v)| (k, v)))
            .current_dir(workdir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            ScriptError::Worker(format!(
                "cannot start {}: {e}",
                self.worker.program.display()
            ))
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ScriptError::Worker("worker pipes missing".to_owned()));
        };
        let stderr_task = tokio::spawn(async move {
            let mut buf = Vec::new();
            // Read to the end so the worker never blocks on a full pipe; keep only the head.
            let mut chunk = [0u8; 4096];
            let mut stderr = stderr;
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                let room = MAX_STDERR_BYTES.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
            }
            String::from_utf8_lossy(&buf).into_owned()
        });

        let mut progress = Progress {
            stdout: String::new(),
            aws_calls: 0,
        };
        let deadline = tokio::time::sleep(limits.timeout + DEADLINE_GRACE);
        tokio::pin!(deadline);
        let outcome = tokio::select! {
            outcome = converse(stdin, stdout, code, run_as, host, limits, &mut progress) => outcome,
            () = &mut deadline => Ended::TimedOut,
        };
        let result = match outcome {
            Ended::Done { result, dropped } => {
                add_drop_marker(&mut progress.stdout, dropped);
                Ok(ScriptOutcome {
                    result,
                    stdout: progress.stdout,
                    aws_calls: progress.aws_calls,
                })
            }
            Ended::Failed(failure) => {
                add_drop_marker(&mut progress.stdout, failure.dropped_output_bytes);
                Err(failure_error(failure, limits, progress))
            }
            Ended::TimedOut => Err(ScriptError::Timeout {
                seconds: limits.timeout.as_secs(),
                stdout: progress.stdout,
                aws_calls: progress.aws_calls,
            }),
            Ended::TooManyCalls => Err(ScriptError::TooManyCalls {
                limit: limits.max_aws_calls,
                stdout: progress.stdout,
                aws_calls: progress.aws_calls,
            }),
            Ended::TooLarge => Err(ScriptError::ResultTooLarge {
                limit_bytes: limits.max_result_bytes,
                stdout: progress.stdout,
                aws_calls: progress.aws_calls,
            }),
            Ended::Vanished(detail) => {
                let status = finish(&mut child).await;
                let stderr = stderr_task.await.unwrap_or_default();
                return Err(crash_error(status, &stderr, &detail, limits, progress));
            }
        };
        // The worker has nothing more to say (or is over its limits): end it now.
        let _ = child.start_kill();
        let _ = child.wait().await;
        stderr_task.abort();
        result
    }
}

/// How the conversation with the worker ended.
enum Ended {
    Done {
        result: serde_json::Value,
        dropped: u64,
    },
    Failed(Failure),
    TimedOut,
    TooManyCalls,
    TooLarge,
    /// The worker closed its stdout (exited, crashed) or broke the protocol.
    Vanished(String),
}

async fn converse(
    stdin: ChildStdin,
    stdout: ChildStdout,
    code: &str,
    run_as: Option<WorkerUser>,
    host: &dyn AwsHost,
    limits: &Limits,
    progress: &mut Progress,
) -> Ended {
    let start = ToWorker::Start(StartRequest {
        code: code.to_owned(),
        timeout_ms: u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
        max_memory_bytes: limits.max_memory_bytes,
        max_output_bytes: limits.max_output_bytes,
        max_result_bytes: limits.max_result_bytes,
        run_as,
    });
    // Writes go through their own task: the worker reads its stdin only while it waits for an
    // answer, so a large answer written inline could block this loop while the worker blocks
    // on a full stdout pipe that this loop is no longer reading.
    let (to_worker, mut outbox) = tokio::sync::mpsc::unbounded_channel::<ToWorker>();
    let writer = tokio::spawn(async move {
        let mut stdin = stdin;
        while let Some(message) = outbox.recv().await {
            if write_message(&mut stdin, &message).await.is_err() {
                // The worker is gone; the read side notices and reports why.
                break;
            }
        }
    });
    let _abort_writer = AbortOnDrop(writer);
    if to_worker.send(start).is_err() {
        return Ended::Vanished("the writer to the worker stopped".to_owned());
    }
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    // A message is at most one result, one output chunk or one call, plus framing.
    let max_line = limits
        .max_result_bytes
        .saturating_add(limits.max_output_bytes)
        .saturating_add(64 * 1024);
    let mut in_flight: FuturesUnordered<HostFuture<'_>> = FuturesUnordered::new();
    let mut queued: VecDeque<CallRequest> = VecDeque::new();
    let max_parallel = limits.max_parallel_calls.max(1);
    loop {
        while in_flight.len() < max_parallel {
            let Some(call) = queued.pop_front() else {
                break;
            };
            tracing::debug!(service = %call.service, operation = %call.operation, "script AWS call");
            in_flight.push(Box::pin(async move {
                (
                    call.id,
                    host.call_aws(call.service, call.operation, call.params, call.region)
                        .await,
                )
            }));
        }
        tokio::select! {
            read = read_line(&mut reader, &mut line, max_line) => {
                match read {
                    Ok(true) => {}
                    Ok(false) => return Ended::Vanished("worker closed its output".to_owned()),
                    Err(LineError::TooLong) => return Ended::TooLarge,
                    Err(LineError::Io(e)) => return Ended::Vanished(format!("reading from the worker: {e}")),
                }
                let parsed = serde_json::from_slice::<FromWorker>(&line);
                line.clear();
                let message = match parsed {
                    Ok(m) => m,
                    Err(e) => return Ended::Vanished(format!("bad message from the worker: {e}")),
                };
                match message {
                    FromWorker::Layers { missing } => note_missing_layers(&missing),
                    FromWorker::Output { text } => {
                        // The worker caps output itself; this cap only guards against a broken one.
                        let room = limits.max_output_bytes.saturating_sub(progress.stdout.len());
                        let mut cut = text.len().min(room);
                        while !text.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        progress.stdout.push_str(&text[..cut]);
                    }
                    FromWorker::Call(call) => {
                        if progress.aws_calls >= limits.max_aws_calls {
                            return Ended::TooManyCalls;
                        }
                        progress.aws_calls += 1;
                        queued.push_back(call);
                    }
                    FromWorker::Done { result, dropped_output_bytes } => {
                        return Ended::Done { result, dropped: dropped_output_bytes };
                    }
                    FromWorker::Failed(failure) => return Ended::Failed(failure),
                }
            }
            Some((id, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                let message = match answer {
                    Ok(value) => ToWorker::Result { id, value },
                    Err(HostCallError { code, message }) => ToWorker::Error { id, code, message },
                };
                if to_worker.send(message).is_err() {
                    return Ended::Vanished("the writer to the worker stopped".to_owned());
                }
            }
        }
    }
}

/// Logs, once per process, the sandbox layers this platform refused the worker.
fn note_missing_layers(missing: &[String]) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if !missing.is_empty() {
        WARNED.call_once(|| {
            tracing::warn!(
                ?missing,
                "script workers run without some sandbox layers on this platform"
            );
        });
    }
}

/// Aborts a spawned task when dropped (the run ended or was cancelled).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn write_message(stdin: &mut ChildStdin, message: &ToWorker) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    stdin.write_all(&bytes).await?;
    stdin.flush().await
}

enum LineError {
    TooLong,
    Io(std::io::Error),
}

/// Appends to `line` until it holds one whole line; `Ok(false)` at end of input.
///
/// Cancel-safe (it runs inside `select!`): bytes move from the reader to `line` without an
/// await in between, and `line` is cleared by the caller only once a whole line was handled.
async fn read_line(
    reader: &mut BufReader<ChildStdout>,
    line: &mut Vec<u8>,
    max: usize,
) -> Result<bool, LineError> {
    loop {
        let available = reader.fill_buf().await.map_err(LineError::Io)?;
        if available.is_empty() {
            return Ok(false);
        }
        let (take, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > max {
            return Err(LineError::TooLong);
        }
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if complete {
            return Ok(true);
        }
    }
}

fn add_drop_marker(stdout: &mut String, dropped: u64) {
    if dropped > 0 {
        if !stdout.ends_with('\n') && !stdout.is_empty() {
            stdout.push('\n');
        }
        stdout.push_str(&format!(
            "[output truncated: {dropped} more bytes were printed]\n"
        ));
    }
}

fn failure_error(failure: Failure, limits: &Limits, progress: Progress) -> ScriptError {
    let Progress { stdout, aws_calls } = progress;
    match failure.kind {
        FailureKind::Timeout => ScriptError::Timeout {
            seconds: limits.timeout.as_secs(),
            stdout,
            aws_calls,
        },
        FailureKind::Memory => ScriptError::MemoryLimit {
            limit_bytes: limits.max_memory_bytes,
            stdout,
            aws_calls,
        },
        FailureKind::ResultTooLarge => ScriptError::ResultTooLarge {
            limit_bytes: limits.max_result_bytes,
            stdout,
            aws_calls,
        },
        FailureKind::Internal => ScriptError::Worker(failure.message),
        FailureKind::Python => ScriptError::Python {
            exc_type: failure.exc_type,
            message: failure.message,
            line: failure.line,
            traceback: failure.traceback,
            stdout,
            aws_calls,
        },
    }
}

/// Waits briefly for a worker that closed its output to exit, killing it if it lingers.
async fn finish(child: &mut Child) -> Option<ExitStatus> {
    match tokio::time::timeout(Duration::from_secs(2), child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            let _ = child.start_kill();
            child.wait().await.ok()
        }
    }
}

/// The forbidden call that stopped a worker: its handler's report, or a bare `SIGSYS` death
/// (the handler replaced, or the signal blocked, so the kernel killed it).
fn violation(code: Option<i32>, signal: Option<i32>, stderr: &str) -> Option<String> {
    if code == Some(layers::VIOLATION_EXIT_CODE)
        && let Some(nr) = layers::violation_in(stderr)
    {
        return Some(layers::syscall_name(nr));
    }
    #[cfg(unix)]
    if signal == Some(libc::SIGSYS) {
        return Some("unknown".to_owned());
    }
    let _ = signal;
    None
}

/// Names what killed a worker from its exit status and the head of its stderr.
fn crash_error(
    status: Option<ExitStatus>,
    stderr: &str,
    detail: &str,
    limits: &Limits,
    progress: Progress,
) -> ScriptError {
    let Progress { stdout, aws_calls } = progress;
    let code = status.and_then(|s| s.code());
    #[cfg(unix)]
    let signal = status.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s));
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    if code == Some(monty_types::OOM_EXIT_CODE)
        || stderr.contains("memory allocation of")
        || stderr.contains("allocation of")
        || stderr.contains("exceeds the memory limit")
    {
        return ScriptError::MemoryLimit {
            limit_bytes: limits.max_memory_bytes,
            stdout,
            aws_calls,
        };
    }
    if let Some(call) = violation(code, signal, stderr) {
        tracing::warn!(%call, "a script's worker made a forbidden system call and was stopped");
        return ScriptError::SandboxViolation {
            call,
            stdout,
            aws_calls,
        };
    }
    if stderr.contains("overflowed its stack") {
        return ScriptError::TooDeep { stdout, aws_calls };
    }
    #[cfg(unix)]
    if signal == Some(libc::SIGXCPU) {
        return ScriptError::Timeout {
            seconds: limits.timeout.as_secs(),
            stdout,
            aws_calls,
        };
    }
    let how = match (code, signal) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        (None, None) => "ended".to_owned(),
    };
    let stderr = stderr.trim();
    tracing::warn!(%how, %detail, stderr, "script worker failed");
    ScriptError::Worker(if stderr.is_empty() {
        format!("the worker {how} ({detail})")
    } else {
        format!("the worker {how} ({detail}): {stderr}")
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn progress() -> Progress {
        Progress {
            stdout: "partial".to_owned(),
            aws_calls: 2,
        }
    }

    #[test]
    fn crashes_are_named_from_status_and_stderr() {
        let limits = Limits::default();
        // The counting allocator's exit status.
        let oom = crash_error(
            Some(ExitStatus::from_raw(65 << 8)),
            "",
            "eof",
            &limits,
            progress(),
        );
        assert!(
            matches!(&oom, ScriptError::MemoryLimit { stdout, aws_calls: 2, .. } if stdout == "partial")
        );
        // Rust's abort on a refused allocation (address-space limit).
        let abort = ExitStatus::from_raw(libc::SIGABRT);
        let err = crash_error(
            Some(abort),
            "memory allocation of 4096 bytes failed\n",
            "eof",
            &limits,
            progress(),
        );
        assert!(matches!(err, ScriptError::MemoryLimit { .. }), "{err:?}");
        let err = crash_error(
            Some(abort),
            "thread 'script' has overflowed its stack\n",
            "eof",
            &limits,
            progress(),
        );
        assert!(matches!(err, ScriptError::TooDeep { .. }), "{err:?}");
        let err = crash_error(
            Some(ExitStatus::from_raw(libc::SIGXCPU)),
            "",
            "eof",
            &limits,
            progress(),
        );
        assert!(
            matches!(err, ScriptError::Timeout { seconds: 30, .. }),
            "{err:?}"
        );
        let err = crash_error(
            Some(ExitStatus::from_raw(libc::SIGSEGV)),
            "boom",
            "eof",
            &limits,
            progress(),
        );
        match err {
            ScriptError::Worker(message) => {
                assert!(
                    message.contains("signal 11") && message.contains("boom"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_worker_stopped_by_the_filter_is_a_sandbox_violation() {
        let limits = Limits::default();
        let reported = crash_error(
            Some(ExitStatus::from_raw(layers::VIOLATION_EXIT_CODE << 8)),
            &format!("{}41\n", layers::VIOLATION_MARKER),
            "eof",
            &limits,
            progress(),
        );
        match reported {
            ScriptError::SandboxViolation {
                call,
                stdout,
                aws_calls: 2,
            } if stdout == "partial" => {
                // Calls are named on x86_64, numbered elsewhere.
                let expected = if cfg!(target_arch = "x86_64") {
                    "socket"
                } else {
                    "system call 41"
                };
                assert_eq!(call, expected);
            }
            other => panic!("{other:?}"),
        }
        // Killed by the kernel (the handler could not run): still a violation.
        let killed = crash_error(
            Some(ExitStatus::from_raw(libc::SIGSYS)),
            "",
            "eof",
            &limits,
            progress(),
        );
        assert!(
            matches!(&killed, ScriptError::SandboxViolation { call, .. } if call == "unknown"),
            "{killed:?}"
        );
        // The exit status alone, without the report, is not taken for one.
        let plain = crash_error(
            Some(ExitStatus::from_raw(layers::VIOLATION_EXIT_CODE << 8)),
            "",
            "eof",
            &limits,
            progress(),
        );
        assert!(matches!(plain, ScriptError::Worker(_)), "{plain:?}");
    }

    #[test]
    fn dropped_output_gets_a_marker() {
        let mut out = "abc".to_owned();
        add_drop_marker(&mut out, 0);
        assert_eq!(out, "abc");
        add_drop_marker(&mut out, 12);
        assert_eq!(out, "abc\n[output truncated: 12 more bytes were printed]\n");
    }
}
