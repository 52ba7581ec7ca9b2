//! The worker process: applies resource limits to itself, gives up root when started by root,
//! puts the system-call filter on all its threads (`layers.rs`), then runs one script in the
//! monty interpreter, asking the parent over stdout/stdin for every AWS call.
//!
//! Any binary can become the worker by calling [`worker_main`] (for example on a hidden
//! subcommand). The interpreter runs on a thread with a large stack, because the parser recurses
//! on nested source before monty's own nesting limit applies; whatever still goes wrong in here
//! (a stack overflow, an allocation refused) ends only this process.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Stdin, Write};
use std::time::{Duration, Instant};

use monty::{MontyRun, RunProgress};
use monty_types::{
    CompileOptions, DictPairs, ExcType, ExtFunctionResult, MontyDate, MontyDateTime,
    MontyException, MontyObject, NameLookupResult, OsFunctionCall, PrintWriter,
    PrintWriterCallback, ResourceLimits, ResourceTracker,
};
use serde_json::Value;

use crate::convert::{json_to_object, params_to_json, result_to_json};
use crate::layers;
use crate::protocol::{
    CallRequest, Failure, FailureKind, FromWorker, MAX_LINE_BYTES, StartRequest, ToWorker,
};

/// Stack of the interpreter thread: generous, since hostile nesting recurses in the parser.
const INTERPRETER_STACK_BYTES: usize = 256 * 1024 * 1024;
/// Address space allowed beyond the memory budget and the interpreter stack: the binary's own
/// mappings, allocator arenas, thread stacks. `RLIMIT_AS` is a backstop; the counting allocator
/// (when installed) is the precise limit.
const ADDRESS_SPACE_SLACK_BYTES: u64 = 1024 * 1024 * 1024;
/// Output is sent to the parent in chunks of about this size, or sooner when time passes.
const OUTPUT_CHUNK_BYTES: usize = 8 * 1024;
const OUTPUT_FLUSH_INTERVAL: Duration = Duration::from_millis(200);
/// Exit status for faults of the worker itself (EX_SOFTWARE).
const INTERNAL_EXIT_CODE: i32 = 70;
/// Name under which the interpreter reports the script in tracebacks.
pub(crate) const SCRIPT_NAME: &str = "script.py";

/// Entry point of a worker process: reads one script from stdin, runs it, exits.
///
/// Call this first thing in `main` of whatever binary the [`crate::WorkerCommand`] starts
/// (before any other threads or runtimes exist: the change of user and the filter must cover
/// every thread), when it was started as a worker. For the
/// memory limit to be exact rather than an address-space backstop, that binary should also
/// declare `#[global_allocator] static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;`.
pub fn worker_main() -> ! {
    let stdin = std::io::stdin();
    let mut input = BufReader::new(stdin);
    let start = match read_message(&mut input) {
        Some(ToWorker::Start(start)) => start,
        _ => std::process::exit(INTERNAL_EXIT_CODE),
    };
    harden_process(&start);
    // Identity changes before any thread exists; a worker that should drop root and cannot
    // does not run the script.
    if let Some(user) = start.run_as
        && let Err(e) = layers::drop_user(user)
    {
        fail_internal(&format!("the sandbox could not drop root: {e}"));
        std::process::exit(INTERNAL_EXIT_CODE);
    }
    layers::install_violation_handler();
    // The filter forbids creating threads and what a new thread does to set itself up, so
    // every thread is made and running first, and the filter is then put on all of them at
    // once; the script starts only after that.
    let (started, all_started) = std::sync::mpsc::channel::<()>();
    let threads = 1 + usize::from(watch_parent(started.clone()));
    let (go, ready) = std::sync::mpsc::sync_channel::<()>(1);
    let handle = std::thread::Builder::new()
        .name("script".to_owned())
        .stack_size(INTERPRETER_STACK_BYTES)
        .spawn(move || {
            let _ = started.send(());
            if ready.recv().is_ok() {
                run_script(start, input);
            }
        });
    if handle.is_ok() {
        for _ in 0..threads {
            let _ = all_started.recv();
        }
    }
    let missing = match layers::install_filter() {
        Ok(()) => Vec::new(),
        Err(e) => vec![e.to_string()],
    };
    send(&FromWorker::Layers { missing });
    let _ = go.send(());
    let code = match handle.map(std::thread::JoinHandle::join) {
        Ok(Ok(())) => 0,
        _ => {
            fail_internal("the interpreter failed unexpectedly");
            INTERNAL_EXIT_CODE
        }
    };
    std::process::exit(code)
}

/// Reports a fault of the worker itself.
fn fail_internal(message: &str) {
    send(&FromWorker::Failed(Failure {
        kind: FailureKind::Internal,
        exc_type: "InternalError".to_owned(),
        message: message.to_owned(),
        line: None,
        traceback: String::new(),
        dropped_output_bytes: 0,
    }));
}

/// Ends the worker when the server that started it is gone (killed or crashed): its parent
/// then changes. A watchdog thread rather than a parent-death signal, which Linux ties to the
/// parent's thread, and the server's runtime threads come and go.
/// Returns whether the watchdog runs; it reports on `started` once it does.
fn watch_parent(started: std::sync::mpsc::Sender<()>) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: getppid has no preconditions and cannot fail.
        let parent = unsafe { libc::getppid() };
        std::thread::Builder::new()
            .name("parent-watch".to_owned())
            .stack_size(64 * 1024)
            .spawn(move || {
                let _ = started.send(());
                drop(started);
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    // SAFETY: as above.
                    if unsafe { libc::getppid() } != parent {
                        std::process::exit(INTERNAL_EXIT_CODE);
                    }
                }
            })
            .is_ok()
    }
    #[cfg(not(unix))]
    {
        drop(started);
        false
    }
}

/// `setrlimit` with soft = hard = `value`; a macro because the resource's type differs between
/// C libraries.
#[cfg(unix)]
macro_rules! set_rlimit {
    ($resource:expr, $value:expr) => {{
        let value = $value as libc::rlim_t;
        let limit = libc::rlimit {
            rlim_cur: value,
            rlim_max: value,
        };
        // SAFETY: `limit` is a valid, initialised rlimit that outlives the call.
        unsafe {
            libc::setrlimit($resource, &limit);
        }
    }};
}
/// Limits the worker places on itself before touching the script.
pub(crate) fn harden_process(start: &StartRequest) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with constant arguments only changes this process's own attributes.
    unsafe {
        // Never gain privileges through exec (there is no exec, but it costs nothing).
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0);
    }
    #[cfg(unix)]
    {
        let address_space = start
            .max_memory_bytes
            .saturating_add(INTERPRETER_STACK_BYTES as u64)
            .saturating_add(ADDRESS_SPACE_SLACK_BYTES);
        // CPU seconds back up the parent's wall-clock deadline, and end a worker whose parent
        // died while the script spins.
        let cpu = start.timeout_ms.div_ceil(1000).saturating_add(2);
        // Failures are ignored: each limit is one layer among several.
        set_rlimit!(libc::RLIMIT_AS, address_space);
        set_rlimit!(libc::RLIMIT_CPU, cpu);
        set_rlimit!(libc::RLIMIT_CORE, 0);
        set_rlimit!(libc::RLIMIT_FSIZE, 0);
        set_rlimit!(libc::RLIMIT_NOFILE, 16);
    }
    // Exact accounting when the binary installed the counting allocator; otherwise the
    // address-space limit above is what stops a runaway allocation.
    let budget = usize::try_from(start.max_memory_bytes).unwrap_or(usize::MAX);
    let _ = monty_alloc::set_limit(Some(budget), false);
}

/// Writes one protocol message to stdout. A failed write means the parent is gone.
fn send(msg: &FromWorker) {
    let Ok(mut line) = serde_json::to_vec(msg) else {
        std::process::exit(INTERNAL_EXIT_CODE);
    };
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    if out.write_all(&line).and_then(|()| out.flush()).is_err() {
        std::process::exit(INTERNAL_EXIT_CODE);
    }
}

/// Reads one message; `None` on end of input or a malformed line.
fn read_message(input: &mut BufReader<Stdin>) -> Option<ToWorker> {
    let mut line = Vec::new();
    let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
    let n = input
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .ok()?;
    if n == 0 {
        return None;
    }
    serde_json::from_slice(&line).ok()
}

/// Buffers the script's `print` output, sends it in chunks and drops what exceeds the cap.
struct Printer {
    pending: String,
    sent_and_pending: usize,
    max: usize,
    dropped: u64,
    last_flush: Instant,
}

impl Printer {
    fn new(max: usize) -> Self {
        Self {
            pending: String::new(),
            sent_and_pending: 0,
            max,
            dropped: 0,
            last_flush: Instant::now(),
        }
    }

    fn push(&mut self, text: &str) {
        let room = self.max.saturating_sub(self.sent_and_pending);
        if text.len() <= room {
            self.pending.push_str(text);
            self.sent_and_pending += text.len();
        } else {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.pending.push_str(&text[..cut]);
            self.sent_and_pending += cut;
            self.dropped += (text.len() - cut) as u64;
        }
        if self.pending.len() >= OUTPUT_CHUNK_BYTES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        if !self.pending.is_empty() {
            send(&FromWorker::Output {
                text: std::mem::take(&mut self.pending),
            });
        }
    }
}

impl PrintWriterCallback for Printer {
    fn stdout_write(&mut self, output: Cow<'_, str>) -> Result<(), MontyException> {
        self.push(&output);
        Ok(())
    }

    fn stdout_push(&mut self, end: char) -> Result<(), MontyException> {
        let mut buf = [0u8; 4];
        self.push(end.encode_utf8(&mut buf));
        Ok(())
    }

    fn poll_flush(&mut self) -> Result<(), MontyException> {
        if !self.pending.is_empty() && self.last_flush.elapsed() >= OUTPUT_FLUSH_INTERVAL {
            self.flush();
        }
        Ok(())
    }
}

/// Answers from the parent that arrived before the script asked for them.
struct Answers {
    input: BufReader<Stdin>,
    ready: HashMap<u32, ExtFunctionResult>,
}

impl Answers {
    /// Blocks until the answer to `id` is there.
    fn wait_for(&mut self, id: u32) -> ExtFunctionResult {
        loop {
            if let Some(result) = self.ready.remove(&id) {
                return result;
            }
            self.receive_one();
        }
    }

    /// Blocks until at least one of `ids` is answered; returns every answered one.
    fn wait_any(&mut self, ids: &[u32]) -> Vec<(u32, ExtFunctionResult)> {
        loop {
            let done: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|id| self.ready.contains_key(id))
                .collect();
            if !done.is_empty() {
                return done
                    .into_iter()
                    .filter_map(|id| self.ready.remove(&id).map(|r| (id, r)))
                    .collect();
            }
            self.receive_one();
        }
    }

    fn receive_one(&mut self) {
        match read_message(&mut self.input) {
            Some(ToWorker::Result { id, value }) => {
                self.ready
                    .insert(id, ExtFunctionResult::Return(json_to_object(&value)));
            }
            Some(ToWorker::Error { id, code, message }) => {
                self.ready
                    .insert(id, ExtFunctionResult::Error(aws_exception(&code, &message)));
            }
            // The parent closed the pipe or broke the protocol: nothing left to do.
            Some(ToWorker::Start(_)) | None => std::process::exit(INTERNAL_EXIT_CODE),
        }
    }
}

/// The exception an AWS error becomes: `RuntimeError("<Code>: <message>")`.
fn aws_exception(code: &str, message: &str) -> MontyException {
    MontyException::new(ExcType::RuntimeError, Some(format!("{code}: {message}")))
}

/// The names the script sees as host functions.
const CALL_AWS: &str = "call_aws";
const CALL_AWS_ASYNC: &str = "call_aws_async";

fn run_script(start: StartRequest, input: BufReader<Stdin>) {
    let mut printer = Printer::new(start.max_output_bytes);
    let mut answers = Answers {
        input,
        ready: HashMap::new(),
    };
    let outcome = interpret(&start, &mut printer, &mut answers);
    printer.flush();
    let dropped = printer.dropped;
    match outcome {
        Ok(value) => {
            let result = result_to_json(&value);
            let size = serde_json::to_vec(&result).map_or(usize::MAX, |v| v.len());
            if size > start.max_result_bytes {
                send(&FromWorker::Failed(Failure {
                    kind: FailureKind::ResultTooLarge,
                    exc_type: "ResultTooLarge".to_owned(),
                    message: format!("the result is {size} bytes of JSON"),
                    line: None,
                    traceback: String::new(),
                    dropped_output_bytes: dropped,
                }));
            } else {
                send(&FromWorker::Done {
                    result,
                    dropped_output_bytes: dropped,
                });
            }
        }
        Err(exc) => send(&FromWorker::Failed(failure(&exc, dropped))),
    }
}

fn interpret(
    start: &StartRequest,
    printer: &mut Printer,
    answers: &mut Answers,
) -> Result<MontyObject, MontyException> {
    let inputs = vec![CALL_AWS.to_owned(), CALL_AWS_ASYNC.to_owned()];
    let runner = MontyRun::new(
        start.code.clone(),
        SCRIPT_NAME,
        inputs,
        CompileOptions::default(),
    )?;
    let limits = ResourceLimits::default()
        .max_duration(Duration::from_millis(start.timeout_ms))
        .max_memory(usize::try_from(start.max_memory_bytes).unwrap_or(usize::MAX));
    let functions = vec![
        MontyObject::Function {
            name: CALL_AWS.to_owned(),
            docstring: Some(CALL_AWS_DOC.to_owned()),
        },
        MontyObject::Function {
            name: CALL_AWS_ASYNC.to_owned(),
            docstring: Some(CALL_AWS_ASYNC_DOC.to_owned()),
        },
    ];
    let mut progress = runner.start(
        functions,
        ResourceTracker::new(limits),
        PrintWriter::Callback(printer),
    )?;
    loop {
        progress = match progress {
            RunProgress::Complete(value) => return Ok(value),
            RunProgress::FunctionCall(call) => {
                let name = call.function_name.as_str();
                if call.object_id.is_some() || (name != CALL_AWS && name != CALL_AWS_ASYNC) {
                    let name = call.function_name.clone();
                    call.resume(
                        ExtFunctionResult::NotFound(name),
                        PrintWriter::Callback(printer),
                    )?
                } else {
                    match parse_call(call.call_id, &call.args, &call.kwargs) {
                        Err(exc) => call.resume(exc, PrintWriter::Callback(printer))?,
                        Ok(request) => {
                            // Output printed before the call reaches the parent before the call does.
                            printer.flush();
                            send(&FromWorker::Call(request));
                            if name == CALL_AWS_ASYNC {
                                call.resume_pending(PrintWriter::Callback(printer))?
                            } else {
                                let result = answers.wait_for(call.call_id);
                                call.resume(result, PrintWriter::Callback(printer))?
                            }
                        }
                    }
                }
            }
            RunProgress::ResolveFutures(pending) => {
                printer.flush();
                let ids = pending.pending_call_ids().to_vec();
                let results = answers.wait_any(&ids);
                pending.resume(results, PrintWriter::Callback(printer))?
            }
            RunProgress::NameLookup(lookup) => {
                lookup.resume(NameLookupResult::Undefined, PrintWriter::Callback(printer))?
            }
            RunProgress::OsCall(os) => {
                let result = os_call(&os.function_call);
                os.resume(result, PrintWriter::Callback(printer))?
            }
        };
    }
}

/// Reads `call_aws(service, operation, params=None, region=None)` arguments.
fn parse_call(
    id: u32,
    args: &[MontyObject],
    kwargs: &[(MontyObject, MontyObject)],
) -> Result<CallRequest, MontyException> {
    const NAMES: [&str; 4] = ["service", "operation", "params", "region"];
    let type_error = |msg: String| MontyException::new(ExcType::TypeError, Some(msg));
    if args.len() > NAMES.len() {
        return Err(type_error(format!(
            "call_aws() takes at most 4 arguments ({} given)",
            args.len()
        )));
    }
    let mut slots: [Option<&MontyObject>; 4] = [None; 4];
    for (slot, arg) in slots.iter_mut().zip(args) {
        *slot = Some(arg);
    }
    for (key, value) in kwargs {
        let MontyObject::String(key) = key else {
            return Err(type_error("call_aws() keywords must be strings".to_owned()));
        };
        let Some(index) = NAMES.iter().position(|n| n == key) else {
            return Err(type_error(format!(
                "call_aws() got an unexpected keyword argument '{key}'"
            )));
        };
        if slots[index].is_some() {
            return Err(type_error(format!(
                "call_aws() got multiple values for argument '{key}'"
            )));
        }
        slots[index] = Some(value);
    }
    let text = |index: usize, required: bool| -> Result<Option<String>, MontyException> {
        match slots[index] {
            Some(MontyObject::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            None | Some(MontyObject::None) if !required => Ok(None),
            None => Err(type_error(format!(
                "call_aws() missing required argument: '{}'",
                NAMES[index]
            ))),
            Some(other) => Err(type_error(format!(
                "call_aws() argument '{}' must be a non-empty str, not {}",
                NAMES[index],
                other.py_repr()
            ))),
        }
    };
    let service = text(0, true)?.unwrap_or_default();
    let operation = text(1, true)?.unwrap_or_default();
    let region = text(3, false)?;
    let params = match slots[2] {
        None | Some(MontyObject::None) => Value::Object(serde_json::Map::new()),
        Some(obj @ MontyObject::Dict(_)) => {
            params_to_json(obj).map_err(|e| type_error(format!("call_aws(): {e}")))?
        }
        Some(other) => {
            return Err(type_error(format!(
                "call_aws() argument 'params' must be a dict, not {}",
                other.py_repr()
            )));
        }
    };
    Ok(CallRequest {
        id,
        service,
        operation,
        params,
        region,
    })
}

/// The sandbox has no files and an empty environment; the clock is allowed.
fn os_call(call: &OsFunctionCall) -> ExtFunctionResult {
    match call {
        OsFunctionCall::Getenv(args) => ExtFunctionResult::Return(args.default.clone()),
        OsFunctionCall::GetEnviron => {
            ExtFunctionResult::Return(MontyObject::Dict(DictPairs::from(Vec::new())))
        }
        OsFunctionCall::DateToday => {
            let now = time::OffsetDateTime::now_utc();
            ExtFunctionResult::Return(MontyObject::Date(MontyDate {
                year: now.year(),
                month: u8::from(now.month()),
                day: now.day(),
            }))
        }
        OsFunctionCall::DateTimeNow(tz) => {
            let offset = tz.as_ref().map(|tz| tz.offset_seconds);
            let now = time::OffsetDateTime::now_utc();
            let local = offset
                .and_then(|s| time::UtcOffset::from_whole_seconds(s).ok())
                .map_or(now, |o| now.to_offset(o));
            ExtFunctionResult::Return(MontyObject::DateTime(MontyDateTime {
                year: local.year(),
                month: u8::from(local.month()),
                day: local.day(),
                hour: local.hour(),
                minute: local.minute(),
                second: local.second(),
                microsecond: local.microsecond(),
                offset_seconds: offset,
                timezone_name: tz.as_ref().and_then(|tz| tz.name.clone()),
            }))
        }
        other => ExtFunctionResult::Error(MontyException::new(
            ExcType::PermissionError,
            Some(format!(
                "{}: this sandbox has no file system; use call_aws (for example S3 GetObject/PutObject) instead",
                other.fs_primary_path().unwrap_or("operation")
            )),
        )),
    }
}

fn failure(exc: &MontyException, dropped: u64) -> Failure {
    let message = shorten(exc.message().unwrap_or_default(), MAX_MESSAGE_BYTES);
    let kind = match exc.exc_type() {
        ExcType::TimeoutError if message.starts_with("time limit exceeded") => FailureKind::Timeout,
        ExcType::MemoryError if message.starts_with("memory limit exceeded") => FailureKind::Memory,
        _ => FailureKind::Python,
    };
    // The innermost frame that lies in the script names the line the user should look at.
    let line = exc
        .traceback()
        .iter()
        .rev()
        .find(|frame| frame.filename == SCRIPT_NAME)
        .map(|frame| frame.start.line);
    Failure {
        kind,
        exc_type: exc.exc_type().to_string(),
        message,
        line,
        traceback: shorten(&exc.to_string(), MAX_TRACEBACK_BYTES),
        dropped_output_bytes: dropped,
    }
}

/// Tracebacks quote source lines, which hostile scripts make huge.
const MAX_TRACEBACK_BYTES: usize = 16 * 1024;
const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// `text` cut to about `max` bytes: its head and its tail (where the error itself is).
fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut head = max / 4;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - (max - max / 4);
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{} [... {} bytes ...] {}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

const CALL_AWS_DOC: &str = "call_aws(service, operation, params=None, region=None) -> dict: one AWS API call, \
e.g. call_aws('s3', 'ListBuckets'); raises RuntimeError('<ErrorCode>: <message>') when AWS answers with an error.";
const CALL_AWS_ASYNC_DOC: &str = "call_aws_async(service, operation, params=None, region=None): like call_aws but \
returns an awaitable, so several calls can run at once with asyncio.gather.";
