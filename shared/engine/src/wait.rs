//! The AWS CLI's `aws <service> wait <waiter> [--arguments]` commands, run from botocore's
//! waiter models (`waiters-2.json`, bundled with the service models).
//!
//! A waiter names one operation, a delay, a number of attempts and an ordered list of
//! acceptors. The operation is called with the parameters `aws <service> <operation>
//! [--arguments]` would send (the line is rewritten and goes through the ordinary parser and
//! validation), then polled until an acceptor moves the waiter to `success` or `failure`, as
//! botocore's `Waiter.wait` does:
//! - acceptors are tried in order and the first match sets the state (`success` ends, `failure`
//!   fails, `retry` keeps polling);
//! - `path` compares the JMESPath result with `expected`; `pathAll` / `pathAny` need a
//!   non-empty list whose every / some element equals it; path matchers never match an error;
//! - `status` compares the HTTP status (the error's status, or 200 for a parsed answer, since
//!   every success-side status acceptor in the models expects 200);
//! - `error` compares the service error code; `expected: true` means "any error" and
//!   `false` means "no error";
//! - an error that no acceptor matched fails the waiter at once;
//! - equality is Python's (`1 == 1.0`, `True == 1`), because JMESPath turns numbers into
//!   floats.
//!
//! On top of botocore: a time budget (`settings.budget.max_time`) after which the wait stops
//! with `WaiterTimeout` and asks to be run again, the policy gate before every poll, and a
//! progress line per attempt.

use std::future::Future;
use std::time::Duration;

// The tokio clock, so that tests run the waiting on a paused clock.
use tokio::time::Instant;

use aws_models::{ServiceModel, models};
use serde_json::{Map, Value};

use crate::call::{
    CallGate, CallNames, CommandOutcome, FailureKind, RunError, RunSettings, region_in_arns,
};
use crate::cli_table::cli_table;
use crate::command::{parse_command, shell_words};
use crate::execute::{CallError, CallTarget};
use crate::names::xform_name;
use crate::params::{CallOptions, build_call_with};
use crate::policy::GateCall;
use crate::response::ServiceError;
use crate::runner::Runner;

/// A waiter model that cannot be used (missing fields, a bad JMESPath expression).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("waiter {waiter}: {reason}")]
pub struct WaiterConfigError {
    pub waiter: String,
    pub reason: String,
}

/// Where an acceptor moves the waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptorState {
    Success,
    Failure,
    Retry,
}

impl AcceptorState {
    pub fn as_str(self) -> &'static str {
        match self {
            AcceptorState::Success => "success",
            AcceptorState::Failure => "failure",
            AcceptorState::Retry => "retry",
        }
    }
}

/// What an acceptor looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matcher {
    Path,
    PathAll,
    PathAny,
    Status,
    Error,
}

/// One acceptor of a waiter.
#[derive(Debug, Clone)]
pub struct Acceptor {
    pub state: AcceptorState,
    pub matcher: Matcher,
    pub expected: Value,
    /// The JMESPath expression of path matchers.
    pub argument: Option<String>,
}

/// What one poll returned: the parsed answer or the service's error.
#[derive(Debug, Clone)]
pub enum PollResult {
    Output(Map<String, Value>),
    Error(ServiceError),
}

impl PollResult {
    fn status(&self) -> u16 {
        match self {
            PollResult::Output(_) => 200,
            PollResult::Error(e) => e.status,
        }
    }
}

/// One waiter, decoded from its model.
#[derive(Debug, Clone)]
pub struct Waiter {
    /// The model's name (`TableExists`).
    pub name: String,
    pub operation: String,
    pub delay: Duration,
    pub max_attempts: u32,
    pub acceptors: Vec<Acceptor>,
    pub description: Option<String>,
}

impl Waiter {
    /// Decodes one entry of `waiters-2.json`'s `waiters` map.
    pub fn parse(name: &str, config: &Value) -> Result<Self, WaiterConfigError> {
        let bad = |reason: String| WaiterConfigError {
            waiter: name.to_owned(),
            reason,
        };
        let operation = config
            .get("operation")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no operation".into()))?
            .to_owned();
        let delay = config
            .get("delay")
            .and_then(Value::as_f64)
            .filter(|d| d.is_finite() && *d >= 0.0)
            .ok_or_else(|| bad("no delay".into()))?;
        let max_attempts = config
            .get("maxAttempts")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad("no maxAttempts".into()))?;
        let acceptors = config
            .get("acceptors")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no acceptors".into()))?
            .iter()
            .map(|a| parse_acceptor(a).map_err(&bad))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: name.to_owned(),
            operation,
            delay: Duration::from_secs_f64(delay),
            max_attempts,
            acceptors,
            description: config
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .map(str::to_owned),
        })
    }

    /// The first acceptor that matches, as botocore tries them.
    pub fn evaluate(&self, result: &PollResult) -> Option<&Acceptor> {
        self.acceptors.iter().find(|a| a.matches(result))
    }

    /// The CLI's description of the waiter (its `help` text).
    pub fn cli_description(&self) -> String {
        let mut text = match &self.description {
            Some(d) => d.clone(),
            None => {
                let mut d = String::from("Wait until ");
                if let Some(a) = self
                    .acceptors
                    .iter()
                    .find(|a| a.state == AcceptorState::Success)
                {
                    let expected = crate::python::py_str(&a.expected);
                    let arg = a.argument.as_deref().unwrap_or_default();
                    d.push_str(&match a.matcher {
                        Matcher::Error => format!("{expected} is thrown "),
                        Matcher::Path => format!("JMESPath query {arg} returns {expected} "),
                        Matcher::PathAll => {
                            format!("JMESPath query {arg} returns {expected} for all elements ")
                        }
                        Matcher::PathAny => {
                            format!("JMESPath query {arg} returns {expected} for any element ")
                        }
                        Matcher::Status => format!("{expected} response is received "),
                    });
                }
                d.push_str(&format!(
                    "when polling with ``{}``.",
                    xform_name(&self.operation, '-')
                ));
                d
            }
        };
        text.push_str(&format!(
            " It will poll every {} seconds until a successful state has been reached. This will exit with a return code of 255 after {} failed checks.",
            self.delay.as_secs_f64(),
            self.max_attempts
        ));
        text
    }
}

fn parse_acceptor(a: &Value) -> Result<Acceptor, String> {
    let state = match a.get("state").and_then(Value::as_str) {
        Some("success") => AcceptorState::Success,
        Some("failure") => AcceptorState::Failure,
        Some("retry") => AcceptorState::Retry,
        other => return Err(format!("unknown acceptor state {other:?}")),
    };
    let matcher = match a.get("matcher").and_then(Value::as_str) {
        Some("path") => Matcher::Path,
        Some("pathAll") => Matcher::PathAll,
        Some("pathAny") => Matcher::PathAny,
        Some("status") => Matcher::Status,
        Some("error") => Matcher::Error,
        other => return Err(format!("unknown acceptor matcher {other:?}")),
    };
    let expected = a
        .get("expected")
        .cloned()
        .ok_or_else(|| "an acceptor has no expected value".to_owned())?;
    let argument = a.get("argument").and_then(Value::as_str).map(str::to_owned);
    if matches!(matcher, Matcher::Path | Matcher::PathAll | Matcher::PathAny) {
        let expr = argument
            .as_deref()
            .ok_or_else(|| "a path acceptor has no argument".to_owned())?;
        crate::query::compile(expr).map_err(|e| format!("bad expression {expr}: {e}"))?;
    }
    Ok(Acceptor {
        state,
        matcher,
        expected,
        argument,
    })
}

impl Acceptor {
    /// Whether this acceptor matches one poll's result (botocore's matcher functions).
    pub fn matches(&self, result: &PollResult) -> bool {
        match self.matcher {
            Matcher::Path | Matcher::PathAll | Matcher::PathAny => {
                let PollResult::Output(output) = result else {
                    return false;
                };
                let Some(found) = self.search(output) else {
                    return false;
                };
                match self.matcher {
                    Matcher::Path => py_eq(&found, &self.expected),
                    Matcher::PathAll => match &found {
                        Value::Array(items) if !items.is_empty() => {
                            items.iter().all(|i| py_eq(i, &self.expected))
                        }
                        _ => false,
                    },
                    _ => match &found {
                        Value::Array(items) if !items.is_empty() => {
                            items.iter().any(|i| py_eq(i, &self.expected))
                        }
                        _ => false,
                    },
                }
            }
            Matcher::Status => py_eq(&Value::from(result.status()), &self.expected),
            Matcher::Error => match (&self.expected, result) {
                (Value::Bool(true), r) => matches!(r, PollResult::Error(_)),
                (Value::Bool(false), r) => matches!(r, PollResult::Output(_)),
                (Value::String(code), PollResult::Error(e)) => e.code == *code,
                // botocore compares the code ("" when there is no error) with the expected
                // value, so a non-string expectation never matches.
                _ => false,
            },
        }
    }

    /// The JMESPath result on an answer, `None` when the expression fails on it.
    fn search(&self, output: &Map<String, Value>) -> Option<Value> {
        let expr = crate::query::compile(self.argument.as_deref()?).ok()?;
        // Serialised straight from the map: no copy of a possibly large answer.
        let found = expr.search(output).ok()?;
        serde_json::to_value(&*found).ok()
    }

    /// botocore's explanation of a match, used in failure messages.
    pub fn explanation(&self) -> String {
        let arg = self.argument.as_deref().unwrap_or_default();
        let expected = crate::python::py_str(&self.expected);
        match self.matcher {
            Matcher::Path => {
                format!("For expression \"{arg}\" we matched expected path: \"{expected}\"")
            }
            Matcher::PathAll => format!(
                "For expression \"{arg}\" all members matched expected path: \"{expected}\""
            ),
            Matcher::PathAny => format!(
                "For expression \"{arg}\" we matched expected path: \"{expected}\" at least once"
            ),
            Matcher::Status => format!("Matched expected HTTP status code: {expected}"),
            Matcher::Error => format!("Matched expected service error code: {expected}"),
        }
    }
}

/// Python's `==` on decoded JSON: numbers compare by value (`1 == 1.0`) and booleans are
/// the numbers 0 and 1.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
    let integer = |n: &serde_json::Number| n.is_i64() || n.is_u64();
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        // Exact for integers beyond f64's 53 bits.
        (Value::Number(x), Value::Number(y)) if integer(x) && integer(y) => x == y,
        (Value::Number(_) | Value::Bool(_), Value::Number(_) | Value::Bool(_)) => num(a) == num(b),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Test and task overrides of the model's timing.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitOptions {
    pub delay_override: Option<Duration>,
    pub max_attempts_override: Option<u32>,
}

/// How one wait is paced.
#[derive(Debug, Clone, Copy)]
pub struct WaitPlan {
    pub delay: Duration,
    pub max_attempts: u32,
    /// The whole wait, sleeps included.
    pub max_time: Duration,
}

/// How a finished wait went.
#[derive(Debug, Clone, Copy)]
pub struct WaitDone {
    pub attempts: u32,
    pub elapsed: Duration,
}

fn waiter_error(waiter: &str, reason: &str) -> RunError {
    RunError {
        kind: FailureKind::Service,
        code: "WaiterError".into(),
        message: format!("Waiter {waiter} failed: {reason}"),
        call: None,
    }
}

/// A short account of what a poll saw, for the progress line.
fn observed(waiter: &Waiter, result: &PollResult) -> String {
    match result {
        PollResult::Error(e) => format!("error {} (HTTP {})", e.code, e.status),
        PollResult::Output(output) => {
            let seen = waiter.acceptors.iter().find_map(|a| {
                let arg = a.argument.as_deref()?;
                let found = a.search(output)?;
                let mut text = found.to_string();
                if text.len() > 160 {
                    let mut end = 157;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                    text.push_str("...");
                }
                Some(format!("{arg} = {text}"))
            });
            seen.unwrap_or_else(|| "HTTP 200".into())
        }
    }
}

/// The polling loop of botocore's `Waiter.wait`, with a time budget. `poll` makes one call;
/// its `Err` (policy, network) ends the wait as it is.
pub async fn poll_until<F, Fut>(
    waiter: &Waiter,
    plan: &WaitPlan,
    mut poll: F,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<WaitDone, RunError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<PollResult, RunError>>,
{
    let started = Instant::now();
    let max_attempts = plan.max_attempts.max(1);
    let mut last_matched: Option<&Acceptor> = None;
    let mut attempts = 0;
    loop {
        let result = poll().await?;
        attempts += 1;
        let matched = waiter.evaluate(&result);
        let state = matched.map_or("waiting", |a| a.state.as_str());
        progress(format!(
            "attempt {attempts}/{max_attempts}: {state} ({})",
            observed(waiter, &result)
        ));
        match matched {
            Some(a) => {
                last_matched = Some(a);
                match a.state {
                    AcceptorState::Success => {
                        return Ok(WaitDone {
                            attempts,
                            elapsed: started.elapsed(),
                        });
                    }
                    AcceptorState::Failure => {
                        return Err(waiter_error(
                            &waiter.name,
                            &format!(
                                "Waiter encountered a terminal failure state: {}",
                                a.explanation()
                            ),
                        ));
                    }
                    AcceptorState::Retry => {}
                }
            }
            None => {
                if let PollResult::Error(e) = &result {
                    return Err(waiter_error(
                        &waiter.name,
                        &format!("An error occurred ({}): {}", e.code, e.message),
                    ));
                }
            }
        }
        if attempts >= max_attempts {
            // botocore explains with the acceptor its loop looked at last: the one matched
            // in this attempt, else the last of the list (not the one matched before).
            let reason = match (last_matched, matched.or(waiter.acceptors.last())) {
                (Some(_), Some(a)) => format!(
                    "Max attempts exceeded. Previously accepted state: {}",
                    a.explanation()
                ),
                _ => "Max attempts exceeded".to_owned(),
            };
            return Err(waiter_error(&waiter.name, &reason));
        }
        let elapsed = started.elapsed();
        if elapsed + plan.delay > plan.max_time {
            return Err(RunError {
                kind: FailureKind::Service,
                code: "WaiterTimeout".into(),
                message: format!(
                    "Waiter {} is still waiting after {} s ({attempts} of {max_attempts} attempts, last state: {}); the condition may still be reached: run the wait again to keep waiting",
                    waiter.name,
                    elapsed.as_secs(),
                    observed(waiter, &result)
                ),
                call: None,
            });
        }
        tokio::time::sleep(plan.delay).await;
    }
}

/// Global options that take a value (the words after them are not commands).
const VALUE_GLOBALS: [&str; 10] = [
    "--region",
    "--profile",
    "--output",
    "--query",
    "--endpoint-url",
    "--cli-read-timeout",
    "--cli-connect-timeout",
    "--color",
    "--cli-binary-format",
    "--ca-bundle",
];

/// Global options that are flags.
const FLAG_GLOBALS: [&str; 7] = [
    "--no-paginate",
    "--no-cli-pager",
    "--no-cli-auto-prompt",
    "--debug",
    "--no-verify-ssl",
    "--no-sign-request",
    "--version",
];

/// Whether an option word is followed by its value (argparse accepts unique prefixes).
fn takes_value(word: &str) -> bool {
    if word.contains('=') {
        return false;
    }
    if VALUE_GLOBALS.contains(&word) {
        return true;
    }
    let mut hits = VALUE_GLOBALS
        .iter()
        .chain(FLAG_GLOBALS.iter())
        .filter(|g| g.starts_with(word));
    matches!((hits.next(), hits.next()), (Some(g), None) if VALUE_GLOBALS.contains(g))
}

/// Indexes of the first `n` words that are neither options nor option values.
fn positionals(words: &[String], n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < words.len() && out.len() < n {
        let w = words[i].as_str();
        if w.starts_with("--") {
            i += if takes_value(w) { 2 } else { 1 };
            continue;
        }
        out.push(i);
        i += 1;
    }
    out
}

/// The service model behind a CLI service name, when it has waiters.
fn waiter_model(cli_service: &str) -> Option<std::sync::Arc<ServiceModel>> {
    let service = cli_table().ok()?.services.get(cli_service)?;
    let model = models().service(&service.service).ok()?;
    (!model.waiters.is_empty()).then_some(model)
}

/// True when the line is `aws <service> wait ...` for a service with waiters (so the runner
/// can route it here).
pub fn is_wait_command(line: &str) -> bool {
    let Ok(words) = shell_words(line) else {
        return false;
    };
    if words.first().map(String::as_str) != Some("aws") {
        return false;
    }
    let pos = positionals(&words, 2);
    match pos.as_slice() {
        [service, wait] if words[*wait] == "wait" => waiter_model(&words[*service]).is_some(),
        _ => false,
    }
}

/// The CLI names of a service's waiters, sorted.
pub fn waiter_cli_names(model: &ServiceModel) -> Vec<String> {
    let mut names: Vec<String> = model.waiters.keys().map(|k| xform_name(k, '-')).collect();
    names.sort();
    names
}

/// The waiter a CLI name stands for.
pub fn find_waiter(model: &ServiceModel, cli_name: &str) -> Option<Waiter> {
    let (name, config) = model
        .waiters
        .iter()
        .find(|(k, _)| xform_name(k, '-') == cli_name)?;
    Waiter::parse(name, config).ok()
}

/// Single-quotes a word so the command parser reads it back unchanged.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// A resolved wait command.
#[derive(Debug)]
struct WaitCommand {
    cli_service: String,
    waiter: Waiter,
    /// `aws <service> <operation> [--arguments]`.
    operation_line: String,
    help: bool,
}

#[derive(Debug)]
enum Resolved {
    Run(Box<WaitCommand>),
    /// `aws <service> wait help`.
    ListHelp(String, String),
}

fn resolve(line: &str) -> Result<Resolved, RunError> {
    let words = shell_words(line).map_err(RunError::from)?;
    if words.first().map(String::as_str) != Some("aws") {
        return Err(RunError::validation(
            "commands must start with 'aws' (for example: aws ec2 wait instance-running --instance-ids i-1)",
        ));
    }
    let pos = positionals(&words, 3);
    let (Some(&si), Some(&wi)) = (pos.first(), pos.get(1)) else {
        return Err(RunError::validation(
            "write aws <service> wait <waiter> [--arguments]",
        ));
    };
    if words[wi] != "wait" {
        return Err(RunError::validation(format!(
            "not a wait command: aws {} {}",
            words[si], words[wi]
        )));
    }
    let cli_service = words[si].clone();
    let model = waiter_model(&cli_service).ok_or_else(|| {
        RunError::validation(format!(
            "aws {cli_service} has no wait commands (its API defines no waiters)"
        ))
    })?;
    let valid = waiter_cli_names(&model);
    let Some(&ni) = pos.get(2) else {
        return Err(RunError::validation(format!(
            "no waiter given: write aws {cli_service} wait <waiter> [--arguments]; valid waiters: {}",
            valid.join(", ")
        )));
    };
    let cli_waiter = words[ni].as_str();
    if cli_waiter == "help" {
        return Ok(Resolved::ListHelp(
            cli_service.clone(),
            format!(
                "aws {cli_service} wait <waiter>\n\nWait until a particular condition is satisfied. Each subcommand polls an API until the listed requirement is met.\n\nWaiters:\n  {}\n",
                valid.join("\n  ")
            ),
        ));
    }
    let Some((name, config)) = model
        .waiters
        .iter()
        .find(|(k, _)| xform_name(k, '-') == cli_waiter)
    else {
        let mut scored: Vec<(f64, &String)> = valid
            .iter()
            .map(|v| (strsim::jaro_winkler(cli_waiter, v), v))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let close: Vec<&str> = scored.iter().take(3).map(|(_, v)| v.as_str()).collect();
        return Err(RunError {
            code: "UnknownWaiter".into(),
            ..RunError::validation(format!(
                "unknown waiter '{cli_waiter}' for aws {cli_service} wait; did you mean: {}? Valid waiters: {}",
                close.join(", "),
                valid.join(", ")
            ))
        });
    };
    let waiter = Waiter::parse(name, config).map_err(|e| RunError {
        code: "InternalError".into(),
        ..RunError::validation(e.to_string())
    })?;
    let table = cli_table().map_err(RunError::validation)?;
    // The table knows the CLI's own spelling of operations it renames.
    let Some(cli_operation) = table.services.get(&cli_service).and_then(|s| {
        s.operations
            .iter()
            .find(|(_, op)| op.name == waiter.operation)
            .map(|(k, _)| k.clone())
    }) else {
        // The CLI replaces a few operations with its own commands (emr describe-cluster);
        // their arguments are not in the table, so the parameters cannot be built here.
        return Err(RunError {
            code: "UnsupportedWaiter".into(),
            ..RunError::validation(format!(
                "aws {cli_service} wait {cli_waiter} polls {} through a customised CLI command this server does not parse; poll aws {cli_service} {} yourself instead",
                waiter.operation,
                xform_name(&waiter.operation, '-')
            ))
        });
    };
    let help = words.get(ni + 1).is_some_and(|w| w == "help");
    let rewritten: Vec<String> = words
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ni)
        .map(|(i, w)| {
            if i == wi {
                quote(&cli_operation)
            } else {
                quote(w)
            }
        })
        .collect();
    Ok(Resolved::Run(Box::new(WaitCommand {
        cli_service,
        waiter,
        operation_line: rewritten.join(" "),
        help,
    })))
}

fn help_outcome(service: &str, operation: &str, text: String) -> CommandOutcome {
    CommandOutcome {
        service: service.to_owned(),
        operation: operation.to_owned(),
        region: String::new(),
        output: Value::String(text),
        next_token: None,
        truncated: false,
        read_only_hint: Some(true),
        notes: Vec::new(),
    }
}

/// Runs `aws <service> wait <waiter> [--arguments]` with the model's delay and attempts.
/// Success prints nothing in the CLI, so the output is an empty object.
pub async fn run_wait(
    runner: &Runner,
    line: &str,
    settings: &RunSettings,
    gate: &dyn CallGate,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<CommandOutcome, RunError> {
    run_wait_with(
        runner,
        line,
        settings,
        gate,
        progress,
        &WaitOptions::default(),
    )
    .await
}

/// [`run_wait`] with the delay and attempts overridden (tests; callers that poll in tasks).
pub async fn run_wait_with(
    runner: &Runner,
    line: &str,
    settings: &RunSettings,
    gate: &dyn CallGate,
    progress: &(dyn Fn(String) + Send + Sync),
    options: &WaitOptions,
) -> Result<CommandOutcome, RunError> {
    let command = match resolve(line)? {
        Resolved::Run(c) => c,
        Resolved::ListHelp(service, text) => return Ok(help_outcome(&service, "wait", text)),
    };
    let waiter = &command.waiter;
    let parsed = parse_command(&command.operation_line)?;
    if command.help {
        let text = format!(
            "aws {} wait {}\n\n{}\n\nParameters: those of aws {} {} (see its help).\n",
            command.cli_service,
            xform_name(&waiter.name, '-'),
            waiter.cli_description(),
            parsed.cli_service,
            parsed.cli_operation
        );
        return Ok(help_outcome(&parsed.service, &parsed.operation, text));
    }
    let call = build_call_with(
        &parsed,
        &CallOptions {
            local_files: runner.files.clone(),
        },
    )?;
    let model = models()
        .service(&call.service)
        .map_err(|e| RunError::validation(e.to_string()))?;
    let operation = model.operation(&call.operation).ok_or_else(|| {
        RunError::validation(format!(
            "{} has no operation {} (used by waiter {})",
            call.service, call.operation, waiter.name
        ))
    })?;
    crate::validate::validate(&model, &call.operation, &call.params)
        .map_err(|r| RunError::validation(r.to_string()))?;
    // No service with waiters is pinned to one Region, so the runner's order is enough:
    // --region, a Region inside an ARN parameter, the default.
    let region = parsed
        .globals
        .region
        .clone()
        .or_else(|| region_in_arns(&Value::Object(call.params.clone())))
        .unwrap_or_else(|| settings.default_region.clone());
    let names = CallNames {
        service: call.service.clone(),
        operation: call.operation.clone(),
        region: Some(region.clone()),
    };
    let target = CallTarget {
        region: &region,
        endpoint_url: parsed.globals.endpoint_url.as_deref(),
    };
    let plan = WaitPlan {
        delay: options.delay_override.unwrap_or(waiter.delay),
        max_attempts: options.max_attempts_override.unwrap_or(waiter.max_attempts),
        max_time: settings.budget.max_time,
    };
    let gate_call = GateCall {
        cli_service: &command.cli_service,
        cli_operation: "wait",
        service: &call.service,
        operation: &call.operation,
        region: &region,
        params: Some(&call.params),
    };
    // Plain references, so every poll's future can copy them.
    let (gate_call, model, params, target) = (&gate_call, &*model, &call.params, &target);
    let poll = move || async move {
        gate.admit(gate_call).await.map_err(RunError::policy)?;
        match runner.executor.call(model, operation, params, target).await {
            Ok(answer) => Ok(PollResult::Output(answer.output)),
            Err(CallError::Service(e)) => Ok(PollResult::Error(e)),
            Err(other) => Err(RunError::from(other)),
        }
    };
    let done = poll_until(waiter, &plan, poll, progress)
        .await
        .map_err(|mut e| {
            e.call = Some(Box::new(names.clone()));
            e
        })?;
    tracing::debug!(
        waiter = %waiter.name,
        attempts = done.attempts,
        elapsed_ms = done.elapsed.as_millis() as u64,
        "wait succeeded"
    );
    Ok(CommandOutcome {
        service: call.service.clone(),
        operation: call.operation.clone(),
        region,
        output: Value::Object(Map::new()),
        next_token: None,
        truncated: false,
        read_only_hint: Some(crate::policy::is_read_only(&call.service, &call.operation)),
        notes: vec![format!(
            "waiter {} succeeded after {} attempt(s) in {} s",
            waiter.name,
            done.attempts,
            done.elapsed.as_secs()
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    fn waiter(service: &str, name: &str) -> Waiter {
        let model = models().service(service).expect("model");
        Waiter::parse(name, &model.waiters[name]).expect("waiter")
    }

    fn out(v: Value) -> PollResult {
        match v {
            Value::Object(m) => PollResult::Output(m),
            _ => panic!("not an object"),
        }
    }

    fn error(code: &str, status: u16) -> PollResult {
        PollResult::Error(ServiceError {
            code: code.into(),
            message: "canned".into(),
            status,
            request_id: None,
            operation: "Op".into(),
        })
    }

    /// The index of the first matching acceptor.
    fn first(w: &Waiter, r: &PollResult) -> Option<usize> {
        w.evaluate(r)
            .and_then(|a| w.acceptors.iter().position(|b| std::ptr::eq(a, b)))
    }

    #[test]
    fn path_matchers_compare_the_expression_result() {
        let w = waiter("dynamodb", "TableExists");
        assert_eq!(w.operation, "DescribeTable");
        assert_eq!((w.delay, w.max_attempts), (Duration::from_secs(20), 25));
        let t = |s: &str| out(json!({"Table": {"TableStatus": s}}));
        assert_eq!(first(&w, &t("ACTIVE")), Some(0));
        assert_eq!(first(&w, &t("CREATING")), None);
        assert_eq!(first(&w, &out(json!({}))), None);
        // Path matchers never match an error; the error matcher takes it.
        assert_eq!(first(&w, &error("ResourceNotFoundException", 400)), Some(1));
        assert_eq!(first(&w, &error("AccessDeniedException", 400)), None);
    }

    #[test]
    fn path_all_needs_a_non_empty_list_and_path_any_one_element() {
        let w = waiter("ec2", "InstanceRunning");
        let inst = |states: &[&str]| {
            out(json!({"Reservations": [{"Instances": states.iter()
                .map(|s| json!({"State": {"Name": s}})).collect::<Vec<_>>()}]}))
        };
        assert_eq!(first(&w, &inst(&["running", "running"])), Some(0));
        assert_eq!(first(&w, &inst(&["running", "pending"])), None);
        assert_eq!(first(&w, &inst(&["running", "terminated"])), Some(2));
        assert_eq!(first(&w, &inst(&["stopping"])), Some(3));
        assert_eq!(first(&w, &inst(&[])), None);
        assert_eq!(first(&w, &out(json!({"Reservations": []}))), None);
        assert_eq!(
            first(&w, &error("InvalidInstanceID.NotFound", 400)),
            Some(4)
        );
        // A non-list result never satisfies pathAll / pathAny.
        let any = Acceptor {
            state: AcceptorState::Success,
            matcher: Matcher::PathAny,
            expected: json!("x"),
            argument: Some("A".into()),
        };
        assert!(!any.matches(&out(json!({"A": "x"}))));
        assert!(any.matches(&out(json!({"A": ["y", "x"]}))));
    }

    #[test]
    fn status_matchers_read_the_error_status_or_200() {
        let w = waiter("s3", "BucketExists");
        assert_eq!(first(&w, &out(json!({}))), Some(0));
        assert_eq!(first(&w, &error("301", 301)), Some(1));
        assert_eq!(first(&w, &error("403", 403)), Some(2));
        assert_eq!(first(&w, &error("404", 404)), Some(3));
        assert_eq!(first(&w, &error("400", 400)), None);
    }

    #[test]
    fn error_matchers_take_codes_and_booleans() {
        let w = waiter("lambda", "FunctionExists");
        // expected false: any answer that is not an error.
        assert_eq!(first(&w, &out(json!({"Configuration": {}}))), Some(0));
        assert_eq!(first(&w, &error("ResourceNotFoundException", 404)), Some(1));
        assert_eq!(first(&w, &error("Throttling", 400)), None);
        let any_error = Acceptor {
            state: AcceptorState::Failure,
            matcher: Matcher::Error,
            expected: json!(true),
            argument: None,
        };
        assert!(any_error.matches(&error("Whatever", 500)));
        assert!(!any_error.matches(&out(json!({}))));
    }

    #[test]
    fn equality_is_pythons() {
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(!py_eq(&json!(true), &json!("true")));
        assert!(py_eq(&json!([1, {"a": 2.0}]), &json!([1.0, {"a": 2}])));
        assert!(!py_eq(&json!(u64::MAX), &json!(u64::MAX - 1)));
        // JMESPath hands numbers back as floats: a numeric expectation still matches.
        let a = Acceptor {
            state: AcceptorState::Success,
            matcher: Matcher::Path,
            expected: json!(2),
            argument: Some("length(Items)".into()),
        };
        assert!(a.matches(&out(json!({"Items": [1, 2]}))));
        assert!(!a.matches(&out(json!({"Items": [1]}))));
    }

    #[test]
    fn every_bundled_waiter_decodes_and_resolves() {
        let index = models().index().expect("index");
        let table = cli_table().expect("table");
        let (mut count, mut problems, mut unsupported) = (0, Vec::new(), Vec::new());
        for entry in &index.services {
            let model = models().service(&entry.service_name).expect("model");
            if model.waiters.is_empty() {
                continue;
            }
            let Some((cli_service, _)) = table
                .services
                .iter()
                .find(|(_, s)| s.service == entry.service_name)
            else {
                continue;
            };
            for (name, config) in &model.waiters {
                count += 1;
                if let Err(e) = Waiter::parse(name, config) {
                    problems.push(e.to_string());
                    continue;
                }
                let line = format!("aws {cli_service} wait {}", xform_name(name, '-'));
                match resolve(&line) {
                    Ok(Resolved::Run(c)) if c.waiter.name == *name => {
                        // Required arguments are missing here; anything else is a problem.
                        match parse_command(&c.operation_line) {
                            Ok(_) | Err(crate::command::CommandError::MissingArgument(_)) => {}
                            Err(e) => problems.push(format!("{line}: {e}")),
                        }
                    }
                    Err(e) if e.code == "UnsupportedWaiter" => unsupported.push(line),
                    _ => problems.push(format!("{line}: not resolved")),
                }
            }
        }
        assert!(count > 350, "{count} waiters");
        assert!(problems.is_empty(), "{problems:#?}");
        // Only emr's cluster waiters poll an operation the CLI replaced with its own command.
        assert_eq!(
            unsupported,
            [
                "aws emr wait cluster-running",
                "aws emr wait cluster-terminated"
            ]
        );
    }

    #[test]
    fn wait_commands_are_recognised() {
        assert!(is_wait_command(
            "aws ec2 wait instance-running --instance-ids i-1"
        ));
        assert!(is_wait_command(
            "aws --region eu-west-1 dynamodb wait table-exists"
        ));
        assert!(is_wait_command(
            "aws s3api --output json wait bucket-exists --bucket b"
        ));
        assert!(is_wait_command("aws ec2 wait"));
        assert!(is_wait_command("aws --reg eu-west-1 --no-pag ec2 wait x"));
        assert!(is_wait_command("aws --region=eu-west-1 ec2 wait x"));
        assert!(!is_wait_command("aws ec2 describe-instances"));
        assert!(!is_wait_command("aws sts wait"), "sts has no waiters");
        assert!(!is_wait_command("aws s3 wait"));
        assert!(!is_wait_command("ec2 wait instance-running"));
        assert!(!is_wait_command("aws ec2 wait x; rm -rf /"));
    }

    fn resolved(line: &str) -> WaitCommand {
        match resolve(line) {
            Ok(Resolved::Run(c)) => *c,
            Ok(Resolved::ListHelp(..)) => panic!("help for {line}"),
            Err(e) => panic!("{line}: {e}"),
        }
    }

    #[test]
    fn waiter_names_resolve_and_the_line_becomes_the_operation() {
        let c = resolved("aws dynamodb wait table-exists --table-name 'my t'");
        assert_eq!(c.waiter.name, "TableExists");
        let parsed = parse_command(&c.operation_line).expect("parses");
        assert_eq!(parsed.operation, "DescribeTable");
        let call = build_call_with(&parsed, &CallOptions::default()).expect("builds");
        assert_eq!(
            call.params,
            *json!({"TableName": "my t"}).as_object().expect("obj")
        );

        let c = resolved(
            "aws --region eu-west-1 ec2 wait instance-running --instance-ids i-1 \"i-'2\" --filters Name=tag:a,Values=b",
        );
        assert_eq!(c.waiter.name, "InstanceRunning");
        let parsed = parse_command(&c.operation_line).expect("parses");
        assert_eq!(parsed.globals.region.as_deref(), Some("eu-west-1"));
        let call = build_call_with(&parsed, &CallOptions::default()).expect("builds");
        assert_eq!(call.params["InstanceIds"], json!(["i-1", "i-'2"]));
        assert_eq!(call.params["Filters"][0]["Values"], json!(["b"]));

        // Unknown and missing waiters list the valid ones.
        let e = resolve("aws dynamodb wait table-exist").expect_err("refused");
        assert_eq!(e.code, "UnknownWaiter");
        assert!(
            e.message.contains("did you mean: table-exists"),
            "{}",
            e.message
        );
        assert!(e.message.contains("table-not-exists"), "{}", e.message);
        let e = resolve("aws ec2 wait").expect_err("refused");
        assert!(
            e.message.contains("instance-running") && e.message.contains("volume-available"),
            "{}",
            e.message
        );
        assert!(matches!(
            resolve("aws ec2 wait help"),
            Ok(Resolved::ListHelp(..))
        ));
        assert!(
            resolve("aws ec2 wait instance-running help").is_ok_and(|r| match r {
                Resolved::Run(c) => c.help,
                _ => false,
            })
        );
    }

    #[test]
    fn descriptions_follow_the_cli() {
        assert_eq!(
            waiter("dynamodb", "TableExists").cli_description(),
            "Wait until JMESPath query Table.TableStatus returns ACTIVE when polling with ``describe-table``. It will poll every 20 seconds until a successful state has been reached. This will exit with a return code of 255 after 25 failed checks."
        );
        assert!(
            waiter("s3", "BucketExists").cli_description().starts_with(
                "Wait until 200 response is received when polling with ``head-bucket``."
            )
        );
    }

    fn plan(max_attempts: u32, delay_ms: u64, max_time_ms: u64) -> WaitPlan {
        WaitPlan {
            delay: Duration::from_millis(delay_ms),
            max_attempts,
            max_time: Duration::from_millis(max_time_ms),
        }
    }

    async fn run_canned(
        w: &Waiter,
        plan: &WaitPlan,
        answers: Vec<PollResult>,
    ) -> (Result<WaitDone, RunError>, Vec<String>) {
        let lines = Mutex::new(Vec::new());
        let queue = Mutex::new(answers.into_iter());
        let progress = |l: String| lines.lock().expect("lock").push(l);
        let result = poll_until(
            w,
            plan,
            || {
                let next = queue.lock().expect("lock").next();
                async move { next.ok_or_else(|| RunError::validation("no more canned answers")) }
            },
            &progress,
        )
        .await;
        (result, lines.into_inner().expect("lock"))
    }

    #[tokio::test]
    async fn the_loop_reports_progress_and_ends_like_botocore() {
        let w = waiter("dynamodb", "TableExists");
        let t = |s: &str| out(json!({"Table": {"TableStatus": s}}));
        let (r, lines) = run_canned(
            &w,
            &plan(5, 0, 10_000),
            vec![
                error("ResourceNotFoundException", 400),
                t("CREATING"),
                t("ACTIVE"),
            ],
        )
        .await;
        assert_eq!(r.expect("success").attempts, 3);
        assert_eq!(
            lines,
            [
                "attempt 1/5: retry (error ResourceNotFoundException (HTTP 400))",
                "attempt 2/5: waiting (Table.TableStatus = \"CREATING\")",
                "attempt 3/5: success (Table.TableStatus = \"ACTIVE\")",
            ]
        );

        let (r, _) = run_canned(&w, &plan(2, 0, 10_000), vec![t("CREATING"), t("CREATING")]).await;
        let e = r.expect_err("fails");
        assert_eq!(
            (e.kind, e.code.as_str()),
            (FailureKind::Service, "WaiterError")
        );
        assert_eq!(
            e.message,
            "Waiter TableExists failed: Max attempts exceeded"
        );

        let (r, lines) = run_canned(
            &w,
            &plan(9, 0, 10_000),
            vec![t("CREATING"), error("AccessDeniedException", 400)],
        )
        .await;
        assert_eq!(
            r.expect_err("fails").message,
            "Waiter TableExists failed: An error occurred (AccessDeniedException): canned"
        );
        assert_eq!(lines.len(), 2);

        let w = waiter("ec2", "InstanceRunning");
        let (r, _) = run_canned(
            &w,
            &plan(9, 0, 10_000),
            vec![out(
                json!({"Reservations": [{"Instances": [{"State": {"Name": "terminated"}}]}]}),
            )],
        )
        .await;
        assert_eq!(
            r.expect_err("fails").message,
            "Waiter InstanceRunning failed: Waiter encountered a terminal failure state: For expression \"Reservations[].Instances[].State.Name\" we matched expected path: \"terminated\" at least once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_time_budget_stops_the_wait_before_a_sleep_that_would_overrun() {
        let w = waiter("dynamodb", "TableExists");
        let t = || out(json!({"Table": {"TableStatus": "CREATING"}}));
        let started = Instant::now();
        let (r, lines) = run_canned(&w, &plan(25, 40, 100), vec![t(), t(), t(), t()]).await;
        let e = r.expect_err("stops");
        assert_eq!(e.code, "WaiterTimeout");
        assert!(e.message.contains("run the wait again"), "{}", e.message);
        // Polls at 0, 40 and 80 ms; a fourth would start after the 100 ms budget.
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(started.elapsed(), Duration::from_millis(80));
        // A failing poll (policy, network) ends the wait as it is.
        let (r, lines) = run_canned(&w, &plan(25, 0, 1000), vec![]).await;
        assert_eq!(r.expect_err("fails").message, "no more canned answers");
        assert!(lines.is_empty());
    }

    #[test]
    fn run_wait_can_be_spawned() {
        fn send<T: Send>(_: &T) {}
        let runner = Runner::new(
            crate::execute::Executor::new(
                std::sync::Arc::new(
                    crate::execute::ReqwestSender::new(
                        Duration::from_secs(1),
                        Duration::from_secs(1),
                    )
                    .expect("client"),
                ),
                std::sync::Arc::new(crate::execute::StaticCredentials(
                    crate::sign::SigningKeys {
                        access_key: "a".into(),
                        secret_key: "s".into(),
                        session_token: None,
                    },
                )),
                std::sync::Arc::new(|_: &str| None),
            ),
            crate::params::LocalFiles::Refused("tests".into()),
        );
        let settings = RunSettings {
            default_region: "us-east-1".into(),
            max_results: None,
            budget: Default::default(),
            owner: None,
        };
        let progress = |_: String| {};
        let future = run_wait(
            &runner,
            "aws dynamodb wait table-exists --table-name t",
            &settings,
            &crate::call::OpenGate,
            &progress,
        );
        send(&future);
    }
}
