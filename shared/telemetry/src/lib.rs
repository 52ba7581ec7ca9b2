//! Telemetry for the MCP server: CloudWatch Embedded Metric Format (EMF) lines for tool
//! metrics and usage counters, and one audit record per tool call.
//!
//! Everything is written as single JSON lines to a [`LineSink`]. In Lambda the sink is
//! stderr, which CloudWatch Logs ingests (EMF lines become metrics without any API call);
//! locally it is stderr too, so that stdout stays reserved for the MCP protocol in stdio
//! mode. This crate knows nothing about MCP transports or AWS SDKs: the protocol crate
//! hands it finished facts ([`ToolCallEvent`]) and it formats them.
//!
//! Audit records carry no secrets: `params` and any kept response pass through [`redact`]
//! (with the server's [`redact::ModelRedactor`] for what the service models mark sensitive),
//! and responses are summarised (status, error code, ARNs, sizes) unless bodies are asked for.
//!
//! Central types: [`Telemetry`], [`ToolCallEvent`], [`Outcome`], [`LineSink`].

#![warn(unreachable_pub)]

pub mod redact;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where finished JSON lines go.
pub trait LineSink: Send + Sync {
    fn write_line(&self, line: &str);
}

/// Writes each line to the process's stderr in one `write` so concurrent lines never
/// interleave.
#[derive(Debug, Default)]
pub struct StderrSink;

impl LineSink for StderrSink {
    fn write_line(&self, line: &str) {
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        // A closed stderr must never take a request down with it.
        let _ = std::io::stderr().lock().write_all(buf.as_bytes());
    }
}

/// Appends lines to a file (the optional audit log file).
#[derive(Debug)]
pub struct FileSink {
    file: Mutex<std::fs::File>,
}

impl FileSink {
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }
}

impl LineSink for FileSink {
    fn write_line(&self, line: &str) {
        if let Ok(mut f) = self.file.lock() {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// Keeps lines in memory; for tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<String>>,
}

impl MemorySink {
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl LineSink for MemorySink {
    fn write_line(&self, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line.to_owned());
        }
    }
}

/// How a tool call ended, as the `AWS-MCP` metrics classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The caller's fault (bad input, unknown names, denied by policy); not throttles.
    UserError,
    /// The server's or a downstream service's fault.
    SystemError,
    Throttle,
}

impl Outcome {
    pub fn metric_name(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::UserError => "UserError",
            Outcome::SystemError => "SystemError",
            Outcome::Throttle => "Throttle",
        }
    }
}

/// The identity a call was made with, as the audit record's `userIdentity` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditIdentity {
    /// `IAMUser`, `AssumedRole`, `Root`, `LocalCredentials` or `Local`.
    pub kind: String,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
}

/// An AWS resource a tool call touched, when the tool knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditResource {
    pub resource_type: String,
    pub arn: String,
    pub account_id: Option<String>,
}

/// Everything known about one finished `tools/call`.
#[derive(Debug, Clone)]
pub struct ToolCallEvent {
    /// The tool name as clients see it (`aws___list_regions`).
    pub tool_name: String,
    /// The exact `params` of the JSON-RPC request.
    pub params: Value,
    pub request_id: Value,
    /// The `content` array of the result.
    pub response_content: Value,
    pub is_error: bool,
    pub outcome: Outcome,
    /// Why a call was refused before its tool ran (`UnknownTool`, `InvalidParams`).
    pub error_code: Option<String>,
    pub read_only: bool,
    pub resources: Vec<AuditResource>,
    pub identity: AuditIdentity,
    pub region: String,
    pub source_ip: Option<String>,
    pub session_id: String,
    pub protocol_version: String,
    pub execution_time_ms: u64,
}

/// Settings for what the telemetry emits.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// Namespace of the per-tool metrics (default `AWS-MCP`).
    pub metrics_namespace: String,
    /// Namespace of the usage counters (default `AWS-MCP/Usage`; CloudWatch reserves `AWS/`).
    pub usage_namespace: String,
    /// `mcpServerName` and `eventSource` in audit records.
    pub server_name: String,
    pub server_version: String,
    /// Longest response text kept in an audit record, in bytes.
    pub audit_max_response_bytes: usize,
    /// Keep (redacted) response bodies in audit records, not only their summary.
    pub audit_response_bodies: bool,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            metrics_namespace: "AWS-MCP".into(),
            usage_namespace: "AWS-MCP/Usage".into(),
            server_name: "aws-mcp".into(),
            server_version: env!("CARGO_PKG_VERSION").into(),
            audit_max_response_bytes: 4096,
            audit_response_bodies: false,
        }
    }
}

/// Formats and emits metric and audit lines.
#[derive(Clone)]
pub struct Telemetry {
    config: TelemetryConfig,
    metrics: Arc<dyn LineSink>,
    audit: Vec<Arc<dyn LineSink>>,
    models: Option<Arc<dyn redact::ModelRedactor>>,
}

/// How a call that continued as a task ended.
#[derive(Debug, Clone)]
pub struct TaskCompletion<'a> {
    pub task_id: &'a str,
    /// The tool name as clients see it.
    pub tool_name: &'a str,
    /// The JSON-RPC id of the `tools/call` that started the task.
    pub request_id: &'a Value,
    /// `completed` or `failed`.
    pub status: &'a str,
    /// The stored result.
    pub result: &'a Value,
    /// The caller the task belongs to (an ARN or a local key).
    pub owner: &'a str,
    pub region: &'a str,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

const TOOL_METRICS: [&str; 5] = [
    "Invocation",
    "Success",
    "UserError",
    "SystemError",
    "Throttle",
];

impl Telemetry {
    /// Metrics go to `metrics`; audit records to every sink in `audit`.
    pub fn new(
        config: TelemetryConfig,
        metrics: Arc<dyn LineSink>,
        audit: Vec<Arc<dyn LineSink>>,
    ) -> Self {
        Self {
            config,
            metrics,
            audit,
            models: None,
        }
    }

    /// Adds the model-aware redaction (sensitive members, CLI command lines).
    pub fn with_redactor(mut self, models: Arc<dyn redact::ModelRedactor>) -> Self {
        self.models = Some(models);
        self
    }

    fn write_audit(&self, record: &Value) {
        let line = record.to_string();
        for sink in &self.audit {
            sink.write_line(&line);
        }
    }

    /// A value as it may appear in an audit record.
    fn redacted(&self, value: &Value) -> Value {
        let mut v = value.clone();
        redact::redact_value(&mut v, self.models.as_deref());
        v
    }

    /// Everything to stderr.
    pub fn stderr(config: TelemetryConfig) -> Self {
        let sink: Arc<dyn LineSink> = Arc::new(StderrSink);
        Self::new(config, sink.clone(), vec![sink])
    }

    pub fn config(&self) -> &TelemetryConfig {
        &self.config
    }

    /// Emits the tool metrics and the audit record of one call.
    pub fn tool_call(&self, event: &ToolCallEvent) {
        let now = OffsetDateTime::now_utc();
        self.metrics
            .write_line(&self.tool_metrics_line(event, now).to_string());
        self.write_audit(&self.audit_record(event, now));
    }

    /// The audit record of a task's end, linked to the call that started it.
    pub fn task_completed(&self, done: &TaskCompletion<'_>) {
        let text = done.result.to_string();
        let is_error = done.status != "completed";
        let response =
            self.response_elements(&json!([{"type": "text", "text": text}]), is_error, None);
        let record = json!({
            "eventVersion": "1.08",
            "eventCategory": "Data",
            "eventType": "AwsMcpEvent",
            "userIdentity": {"arn": done.owner},
            "eventTime": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            "eventSource": self.config.server_name,
            "eventName": "CompleteTask",
            "awsRegion": done.region,
            "requestParameters": {
                "method": done.tool_name.strip_prefix("aws___").unwrap_or(done.tool_name),
                "taskId": done.task_id,
                "id": done.request_id,
            },
            "responseElements": response,
            "taskStatus": done.status,
            "eventID": uuid::Uuid::new_v4().to_string(),
        });
        self.write_audit(&record);
    }

    /// An invocation refused before any tool ran: an internal event without a valid tag, an
    /// untagged task event, or a request this function does not serve. `claimed` is the
    /// identity the event named, which is not to be trusted.
    pub fn invocation_refused(&self, reason: &str, event_kind: &str, claimed: Option<&str>) {
        let record = json!({
            "eventVersion": "1.08",
            "eventCategory": "Management",
            "eventType": "AwsMcpEvent",
            "eventTime": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
            "eventSource": self.config.server_name,
            "eventName": "RefuseInvocation",
            "errorCode": "InvocationRefused",
            "errorMessage": reason,
            "requestParameters": {"eventKind": event_kind, "claimedIdentity": claimed},
            "eventID": uuid::Uuid::new_v4().to_string(),
        });
        self.write_audit(&record);
    }

    /// A `tools/call` refused by the rate quota before it ran: `Invocation` and `Throttle`
    /// metrics and an audit record (the request was not read further, so no params).
    pub fn tool_throttled(&self, tool_name: &str) {
        let now = OffsetDateTime::now_utc();
        let mut line = self.tool_metrics_template(tool_name, now);
        for metric in TOOL_METRICS {
            line[metric] = json!(u8::from(metric == "Invocation" || metric == "Throttle"));
        }
        self.metrics.write_line(&line.to_string());
        self.write_audit(&json!({
            "eventVersion": "1.08",
            "eventCategory": "Data",
            "eventType": "AwsMcpEvent",
            "eventTime": now.format(&Rfc3339).unwrap_or_default(),
            "eventSource": self.config.server_name,
            "eventName": "CallTool",
            "requestParameters": {"method": tool_name.strip_prefix("aws___").unwrap_or(tool_name)},
            "responseElements": {"status": "error", "outcome": "Throttle", "errorCode": "Throttling"},
            "errorCode": "Throttling",
            "eventID": uuid::Uuid::new_v4().to_string(),
        }));
    }

    /// One `CallCount` (Type `API`, Resource `Request`) for every MCP request served.
    pub fn request_served(&self) {
        self.usage("API", "Request", "CallCount", 1);
    }

    /// Current session counts, emitted whenever a session starts or ends.
    pub fn session_counts(&self, account_sessions: u64, user_sessions: u64) {
        self.usage(
            "Resource",
            "AccountSessionCount",
            "ResourceCount",
            account_sessions,
        );
        self.usage(
            "Resource",
            "UserSessionCount",
            "ResourceCount",
            user_sessions,
        );
    }

    /// Connections open in this process at the moment one more arrived.
    pub fn concurrent_connections(&self, count: u64) {
        self.usage("Resource", "ConcurrentConnection", "ResourceCount", count);
    }

    fn usage(&self, kind: &str, resource: &str, metric: &str, value: u64) {
        let line = json!({
            "_aws": {
                "Timestamp": epoch_millis(OffsetDateTime::now_utc()),
                "CloudWatchMetrics": [{
                    "Namespace": self.config.usage_namespace,
                    "Dimensions": [["Type", "Resource", "Service", "Class"]],
                    "Metrics": [{"Name": metric, "Unit": "Count"}],
                }],
            },
            "Type": kind,
            "Resource": resource,
            "Service": "AWS MCP",
            "Class": "None",
            metric: value,
        });
        self.metrics.write_line(&line.to_string());
    }

    fn tool_metrics_template(&self, tool_name: &str, now: OffsetDateTime) -> Value {
        json!({
            "_aws": {
                "Timestamp": epoch_millis(now),
                "CloudWatchMetrics": [{
                    "Namespace": self.config.metrics_namespace,
                    "Dimensions": [["ToolName"]],
                    "Metrics": TOOL_METRICS
                        .iter()
                        .map(|m| json!({"Name": m, "Unit": "Count"}))
                        .collect::<Vec<_>>(),
                }],
            },
            "ToolName": tool_name,
        })
    }

    fn tool_metrics_line(&self, event: &ToolCallEvent, now: OffsetDateTime) -> Value {
        let mut line = self.tool_metrics_template(&event.tool_name, now);
        let outcome = event.outcome.metric_name();
        for metric in TOOL_METRICS {
            let value = u8::from(metric == "Invocation" || metric == outcome);
            line[metric] = json!(value);
        }
        line
    }

    fn audit_record(&self, event: &ToolCallEvent, now: OffsetDateTime) -> Value {
        let method = event
            .tool_name
            .strip_prefix("aws___")
            .unwrap_or(&event.tool_name);
        let mut response = self.response_elements(
            &event.response_content,
            event.is_error,
            event.error_code.as_deref(),
        );
        response["outcome"] = json!(event.outcome.metric_name());
        let identity = &event.identity;
        let mut record = json!({
            "eventVersion": "1.08",
            "eventCategory": "Data",
            "eventType": "AwsMcpEvent",
            "userIdentity": {
                "type": identity.kind,
                "principalId": identity.principal_id,
                "arn": identity.arn,
                "accountId": identity.account_id,
            },
            "eventTime": now.format(&Rfc3339).unwrap_or_default(),
            "eventSource": self.config.server_name,
            "eventName": "CallTool",
            "awsRegion": event.region,
            "sourceIPAddress": event.source_ip,
            "requestParameters": {
                "method": method,
                "params": self.redacted(&event.params),
                "id": event.request_id,
            },
            "responseElements": response,
            "requestID": uuid::Uuid::new_v4().to_string(),
            "eventID": uuid::Uuid::new_v4().to_string(),
            "readOnly": event.read_only,
            "recipientAccountId": identity.account_id,
            "resources": event.resources.iter().map(|r| json!({
                "type": r.resource_type,
                "ARN": r.arn,
                "accountId": r.account_id,
            })).collect::<Vec<_>>(),
            "mcpEventDetails": {
                "sessionId": event.session_id,
                "mcpProtocolVersion": event.protocol_version,
                "serverVersion": self.config.server_version,
                "mcpServerName": self.config.server_name,
                "executionTimeMs": event.execution_time_ms,
            },
        });
        if let Some(code) = &event.error_code {
            record["errorCode"] = json!(code);
        }
        record
    }

    /// What an auditor needs of a response: status, error code, ARNs, sizes and item counts;
    /// the redacted body too when the setting asks for it.
    fn response_elements(&self, content: &Value, is_error: bool, code: Option<&str>) -> Value {
        let mut summary = summarize(content, is_error);
        if let Some(code) = code {
            summary["errorCode"] = json!(code);
        }
        if self.config.audit_response_bodies {
            let (body, cut) = bounded_content(
                &self.redacted(content),
                self.config.audit_max_response_bytes,
            );
            summary["content"] = body;
            if cut {
                summary["truncated"] = json!(true);
            }
        }
        summary
    }
}

static ARN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:[^\s\x22',\\]+")
        .unwrap_or_else(|_| regex::Regex::new("[^\\s\\S]").unwrap_or_else(|_| unreachable!()))
});

/// Most ARNs and item counts one summary lists.
const SUMMARY_LIMIT: usize = 50;

/// Status, error code, ARNs found, bytes and item counts of a `content` array.
fn summarize(content: &Value, is_error: bool) -> Value {
    let texts: Vec<&str> = content
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let mut arns: Vec<String> = Vec::new();
    let mut counts = serde_json::Map::new();
    let mut error_code = None;
    for text in &texts {
        for m in ARN.find_iter(text) {
            let arn = redact::redact_text(m.as_str());
            if arns.len() < SUMMARY_LIMIT && !arns.contains(&arn) {
                arns.push(arn);
            }
        }
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            count_items(&v, "", &mut counts, 0);
            error_code = error_code.or_else(|| find_error_code(&v));
        }
    }
    let mut out = json!({
        "status": if is_error { "error" } else { "success" },
        "isError": is_error,
        "bytes": bytes,
        "resourceArns": arns,
    });
    if !counts.is_empty() {
        out["itemCounts"] = Value::Object(counts);
    }
    if let Some(code) = error_code {
        out["errorCode"] = json!(code);
    }
    out
}

/// Lengths of the arrays in the first levels of an answer (`results[0].response.Buckets`).
fn count_items(v: &Value, path: &str, out: &mut serde_json::Map<String, Value>, depth: usize) {
    if depth > 4 || out.len() >= SUMMARY_LIMIT {
        return;
    }
    match v {
        Value::Array(items) => {
            let key = if path.is_empty() { "." } else { path };
            out.insert(key.to_owned(), json!(items.len()));
            if items.len() <= 20 {
                for (i, item) in items.iter().enumerate() {
                    count_items(item, &format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                count_items(item, &sub, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// The first `error.code` (or `code` next to a `kind`) in an answer.
fn find_error_code(v: &Value) -> Option<String> {
    match v {
        Value::Object(map) => {
            if let Some(code) = map
                .get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
            {
                return Some(code.to_owned());
            }
            map.values().find_map(find_error_code)
        }
        Value::Array(items) => items.iter().find_map(find_error_code),
        _ => None,
    }
}

fn epoch_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Cuts the text items of a `content` array so their total stays within `budget` bytes.
/// Returns the (possibly cut) content and whether anything was cut.
fn bounded_content(content: &Value, budget: usize) -> (Value, bool) {
    let Some(items) = content.as_array() else {
        return (content.clone(), false);
    };
    let mut left = budget;
    let mut cut = false;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item.get("text").and_then(Value::as_str) {
            Some(text) if text.len() > left => {
                let mut end = left;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let mut kept = item.clone();
                kept["text"] = json!(&text[..end]);
                out.push(kept);
                cut = true;
                left = 0;
            }
            Some(text) => {
                left -= text.len();
                out.push(item.clone());
            }
            None => out.push(item.clone()),
        }
    }
    (Value::Array(out), cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(outcome: Outcome, text: &str) -> ToolCallEvent {
        ToolCallEvent {
            tool_name: "aws___retrieve_skill".into(),
            params: json!({"name": "aws___retrieve_skill", "arguments": {"skill_name": "x"}}),
            request_id: json!(7),
            response_content: json!([{"type": "text", "text": text}]),
            is_error: outcome != Outcome::Success,
            outcome,
            error_code: None,
            read_only: true,
            resources: vec![AuditResource {
                resource_type: "AWS::S3::Bucket".into(),
                arn: "arn:aws:s3:::b".into(),
                account_id: Some("123456789012".into()),
            }],
            identity: AuditIdentity {
                kind: "AssumedRole".into(),
                principal_id: Some("AROAEXAMPLE:dev".into()),
                arn: Some("arn:aws:sts::123456789012:assumed-role/dev/dev".into()),
                account_id: Some("123456789012".into()),
            },
            region: "us-east-1".into(),
            source_ip: None,
            session_id: "s1".into(),
            protocol_version: "2025-11-25".into(),
            execution_time_ms: 12,
        }
    }

    fn lines(sink: &MemorySink) -> Vec<Value> {
        sink.lines()
            .iter()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }

    #[test]
    fn tool_call_emits_emf_with_one_outcome_and_an_audit_record() {
        let metrics = Arc::new(MemorySink::default());
        let audit = Arc::new(MemorySink::default());
        let t = Telemetry::new(
            TelemetryConfig::default(),
            metrics.clone(),
            vec![audit.clone()],
        );
        t.tool_call(&event(Outcome::UserError, "bad"));

        let m = &lines(&metrics)[0];
        assert_eq!(m["_aws"]["CloudWatchMetrics"][0]["Namespace"], "AWS-MCP");
        assert_eq!(
            m["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["ToolName"]])
        );
        assert_eq!(m["ToolName"], "aws___retrieve_skill");
        assert_eq!(m["Invocation"], 1);
        assert_eq!(m["UserError"], 1);
        assert_eq!(m["Success"], 0);
        assert_eq!(m["SystemError"], 0);
        assert_eq!(m["Throttle"], 0);

        let a = &lines(&audit)[0];
        assert_eq!(a["eventType"], "AwsMcpEvent");
        assert_eq!(a["eventName"], "CallTool");
        assert_eq!(a["requestParameters"]["method"], "retrieve_skill");
        assert_eq!(a["requestParameters"]["id"], 7);
        assert_eq!(a["responseElements"]["isError"], true);
        assert_eq!(a["readOnly"], true);
        assert_eq!(a["resources"][0]["ARN"], "arn:aws:s3:::b");
        assert_eq!(a["mcpEventDetails"]["sessionId"], "s1");
        assert_eq!(a["mcpEventDetails"]["mcpProtocolVersion"], "2025-11-25");
        assert_eq!(a["mcpEventDetails"]["executionTimeMs"], 12);
        assert_eq!(a["recipientAccountId"], "123456789012");
        assert!(a["eventTime"].as_str().is_some_and(|s| s.ends_with('Z')));
    }

    #[test]
    fn audit_content_is_cut_to_the_budget_on_a_char_boundary() {
        let audit = Arc::new(MemorySink::default());
        let config = TelemetryConfig {
            audit_max_response_bytes: 5,
            audit_response_bodies: true,
            ..TelemetryConfig::default()
        };
        let t = Telemetry::new(config, Arc::new(MemorySink::default()), vec![audit.clone()]);
        t.tool_call(&event(Outcome::Success, "ééééé"));
        let a = &lines(&audit)[0];
        assert_eq!(a["responseElements"]["content"][0]["text"], "éé");
        assert_eq!(a["responseElements"]["truncated"], true);
    }

    #[test]
    fn usage_counters_use_the_usage_namespace_and_fixed_dimensions() {
        let metrics = Arc::new(MemorySink::default());
        let t = Telemetry::new(TelemetryConfig::default(), metrics.clone(), vec![]);
        t.request_served();
        t.session_counts(3, 2);
        let l = lines(&metrics);
        assert_eq!(l.len(), 3);
        assert_eq!(
            l[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "AWS-MCP/Usage"
        );
        assert_eq!(l[0]["CallCount"], 1);
        assert_eq!(l[0]["Service"], "AWS MCP");
        assert_eq!(l[0]["Class"], "None");
        assert_eq!(l[1]["Resource"], "AccountSessionCount");
        assert_eq!(l[1]["ResourceCount"], 3);
        assert_eq!(l[2]["Resource"], "UserSessionCount");
        assert_eq!(l[2]["ResourceCount"], 2);
    }
}
