//! The MCP method dispatcher: `initialize`, `ping`, `tools/list`, `tools/call` and
//! notifications, shared by every transport.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_telemetry::{Outcome, Telemetry, ToolCallEvent};
use serde_json::{Map, Value, json};

use crate::content::{self, PromptProvider, ResourceProvider};
use crate::identity::IdentitySource;
use crate::jsonrpc::{self, Incoming, RpcError};
use crate::peer::{ClientChannel, ClientPeer, PendingRequests, RequestPeer, progress_token};
use crate::quota::{MemoryQuotaStore, QuotaStore, RateDecision, RateLimit, now_epoch_micros};
use crate::session::SessionStore;
use crate::tool::{ToolContext, ToolError, ToolRegistry};

/// Protocol revisions this server speaks, newest first.
pub const SUPPORTED_PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
pub const LATEST_PROTOCOL_VERSION: &str = SUPPORTED_PROTOCOL_VERSIONS[0];
/// The revision assumed when an HTTP request carries no `MCP-Protocol-Version` header.
pub const DEFAULT_HTTP_PROTOCOL_VERSION: &str = "2025-03-26";

pub fn is_supported_version(v: &str) -> bool {
    SUPPORTED_PROTOCOL_VERSIONS.contains(&v)
}

/// Limits applied per account (the seed's quotas).
#[derive(Debug, Clone)]
pub struct Quotas {
    pub max_sessions_per_account: u64,
    pub max_sessions_per_user: u64,
    /// Requests in flight at once in this process, per account.
    pub max_concurrent_connections: u64,
    /// Sustained requests per second per account; `None` turns the limiter off.
    pub requests_per_second: Option<f64>,
    /// Requests allowed in a burst above the sustained rate.
    pub burst: f64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            max_sessions_per_account: 180,
            max_sessions_per_user: 90,
            max_concurrent_connections: 27,
            requests_per_second: Some(3.0),
            burst: 10.0,
        }
    }
}

/// Server-wide settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub server_name: String,
    pub server_title: String,
    pub server_version: String,
    pub instructions: Option<String>,
    /// Region for AWS work when the request names none and the proxy sends no metadata.
    pub default_region: String,
    pub session_ttl: Duration,
    pub quotas: Quotas,
    /// Largest accepted HTTP body.
    pub max_body_bytes: usize,
    /// How long a tool waits for the user to answer an elicitation.
    pub elicitation_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            server_name: "aws-mcp".into(),
            server_title: "AWS MCP Server (self-hosted)".into(),
            server_version: env!("CARGO_PKG_VERSION").into(),
            instructions: None,
            default_region: "us-east-1".into(),
            session_ttl: Duration::from_secs(8 * 3600),
            quotas: Quotas::default(),
            max_body_bytes: 2 * 1024 * 1024,
            elicitation_timeout: Duration::from_secs(300),
        }
    }
}

/// The per-request facts a transport knows.
#[derive(Clone)]
pub struct RequestScope {
    pub identity: Arc<dyn IdentitySource>,
    pub session_id: String,
    pub protocol_version: String,
    /// How this request can send messages to the client while it runs; `None` when the
    /// transport cannot carry them (a plain JSON HTTP answer, a batch).
    pub channel: Option<ClientChannel>,
}

/// Why a request is refused before it reaches the dispatcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    OverRate { retry_after_secs: u64 },
    TooManyConnections,
}

/// How long a connection slot counts without renewal: a process that dies mid-request
/// (a Lambda that times out or crashes) stops holding its slot after this.
pub const CONNECTION_LEASE: Duration = Duration::from_secs(30);

/// The protocol engine: one per process, shared by every transport.
pub struct McpServer {
    registry: ToolRegistry,
    sessions: Arc<dyn SessionStore>,
    telemetry: Telemetry,
    config: ServerConfig,
    quota_store: Arc<dyn QuotaStore>,
    pending: Arc<PendingRequests>,
    resources: Option<Arc<dyn ResourceProvider>>,
    prompts: Option<Arc<dyn PromptProvider>>,
}

/// Holds one connection slot of an account until dropped: a task renews its lease while
/// it is held, and dropping it gives the slot back. It owns its share of the count, so a
/// streamed answer can keep it after the handler returns.
pub struct ConnectionSlot {
    store: Arc<dyn QuotaStore>,
    account: String,
    slot: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl ConnectionSlot {
    /// Gives the slot back now, so the caller's next request finds it free.
    pub async fn release(mut self) {
        self.renewer.abort();
        let slot = std::mem::take(&mut self.slot);
        if let Err(error) = self.store.release_connection(&self.account, &slot).await {
            tracing::warn!(%error, "connection slot not released; its lease will expire");
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.renewer.abort();
        if self.slot.is_empty() {
            return;
        }
        let (store, account, slot) = (
            self.store.clone(),
            std::mem::take(&mut self.account),
            std::mem::take(&mut self.slot),
        );
        // Without a runtime (process shutting down) the lease runs out instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = store.release_connection(&account, &slot).await {
                    tracing::warn!(%error, "connection slot not released; its lease will expire");
                }
            });
        }
    }
}

impl McpServer {
    pub fn new(
        registry: ToolRegistry,
        sessions: Arc<dyn SessionStore>,
        telemetry: Telemetry,
        config: ServerConfig,
    ) -> Self {
        Self {
            registry,
            sessions,
            telemetry,
            config,
            quota_store: Arc::new(MemoryQuotaStore::default()),
            pending: Arc::new(PendingRequests::default()),
            resources: None,
            prompts: None,
        }
    }

    /// Keeps the rate and connection counters in `store` (shared by every instance).
    pub fn with_quota_store(mut self, store: Arc<dyn QuotaStore>) -> Self {
        self.quota_store = store;
        self
    }

    /// Serves `resources/*` from `provider` and declares the `resources` capability.
    pub fn with_resources(mut self, provider: Arc<dyn ResourceProvider>) -> Self {
        self.resources = Some(provider);
        self
    }

    /// Serves `prompts/*` from `provider` and declares the `prompts` capability.
    pub fn with_prompts(mut self, provider: Arc<dyn PromptProvider>) -> Self {
        self.prompts = Some(provider);
        self
    }

    /// Server requests (elicitations) waiting for a client's response.
    pub fn pending(&self) -> &Arc<PendingRequests> {
        &self.pending
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    pub fn registry(&self) -> &ToolRegistry {
        &self.registry
    }

    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.sessions
    }

    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Applies the rate and concurrency quotas to one incoming HTTP request. The slot must
    /// be held while the request is served. A failing quota store admits the request (the
    /// quotas protect the service, they are not worth an outage) and logs the fault.
    pub async fn admit(&self, account: &str) -> (Admission, Option<ConnectionSlot>) {
        let quotas = &self.config.quotas;
        if let Some(rate) = quotas.requests_per_second {
            let limit = RateLimit::per_second(rate, quotas.burst);
            match self
                .quota_store
                .take_request(account, limit, now_epoch_micros())
                .await
            {
                Ok(RateDecision::Admitted) => {}
                Ok(RateDecision::Refused { retry_after_secs }) => {
                    return (Admission::OverRate { retry_after_secs }, None);
                }
                Err(error) => tracing::error!(%error, "rate quota store failed; admitting"),
            }
        }
        let slot = match crate::session::new_session_id() {
            Ok(id) => id[..32].to_owned(),
            Err(error) => {
                tracing::error!(%error, "no slot id; admitting without a slot");
                return (Admission::Admitted, None);
            }
        };
        let now = now_epoch_micros();
        let lease_until = now + CONNECTION_LEASE.as_micros() as u64;
        let held = self
            .quota_store
            .acquire_connection(
                account,
                &slot,
                quotas.max_concurrent_connections,
                lease_until,
                now,
            )
            .await;
        match held {
            Ok(Some(count)) => {
                self.telemetry.concurrent_connections(count);
                (Admission::Admitted, Some(self.hold(account, &slot)))
            }
            Ok(None) => (Admission::TooManyConnections, None),
            Err(error) => {
                tracing::error!(%error, "connection quota store failed; admitting");
                (Admission::Admitted, None)
            }
        }
    }

    fn hold(&self, account: &str, slot: &str) -> ConnectionSlot {
        let (store, acc, id) = (
            self.quota_store.clone(),
            account.to_owned(),
            slot.to_owned(),
        );
        let renewer = tokio::spawn(async move {
            let mut tick = tokio::time::interval(CONNECTION_LEASE / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                let until = now_epoch_micros() + CONNECTION_LEASE.as_micros() as u64;
                if let Err(error) = store.renew_connection(&acc, &id, until).await {
                    tracing::warn!(%error, "connection lease not renewed");
                }
            }
        });
        ConnectionSlot {
            store: self.quota_store.clone(),
            account: account.to_owned(),
            slot: slot.to_owned(),
            renewer,
        }
    }

    /// Picks the protocol version for an `initialize` request: the client's when supported,
    /// else the newest, and builds the answer.
    pub fn initialize(&self, params: Option<Value>) -> Result<(String, Value), RpcError> {
        let params = jsonrpc::params_object(params)?;
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                RpcError::invalid_params("initialize needs params.protocolVersion (a string)")
            })?;
        let version = if is_supported_version(requested) {
            requested
        } else {
            LATEST_PROTOCOL_VERSION
        };
        let mut result = json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {
                "name": self.config.server_name,
                "title": self.config.server_title,
                "version": self.config.server_version,
            },
        });
        if let Some(instructions) = &self.config.instructions {
            result["instructions"] = json!(instructions);
        }
        self.declare_content_capabilities(&mut result["capabilities"]);
        Ok((version.to_owned(), result))
    }

    /// Serves one classified message. Returns the response for requests (and invalid
    /// messages), `None` for notifications and responses.
    pub async fn handle(&self, incoming: Incoming, scope: &RequestScope) -> Option<Value> {
        match incoming {
            Incoming::Invalid { id, error } => Some(jsonrpc::error_response(&id, &error)),
            Incoming::Notification { method, .. } => {
                tracing::debug!(%method, "notification");
                None
            }
            Incoming::Response { id, outcome } => {
                if !self.pending.resolve(&scope.session_id, &id, outcome) {
                    tracing::debug!(%id, "client response matches no waiting request");
                }
                None
            }
            Incoming::Request { id, method, params } => {
                self.telemetry.request_served();
                let answer = match method.as_str() {
                    "initialize" => self.initialize(params).map(|(_, result)| result),
                    "ping" => Ok(json!({})),
                    "tools/list" => Ok(self.list_tools()),
                    "tools/call" => self.call_tool(&id, params, scope).await,
                    "logging/setLevel" => Ok(json!({})),
                    m if m.starts_with("resources/") || m.starts_with("prompts/") => {
                        self.serve_content(m, params)
                    }
                    other => Err(RpcError::method_not_found(other)),
                };
                Some(match answer {
                    Ok(result) => jsonrpc::response(&id, result),
                    Err(error) => jsonrpc::error_response(&id, &error),
                })
            }
        }
    }

    fn declare_content_capabilities(&self, capabilities: &mut Value) {
        if self.resources.is_some() {
            capabilities["resources"] = json!({"subscribe": false, "listChanged": false});
        }
        if self.prompts.is_some() {
            capabilities["prompts"] = json!({"listChanged": false});
        }
    }

    /// `resources/*` and `prompts/*`; a method whose provider is absent is not found.
    fn serve_content(&self, method: &str, params: Option<Value>) -> Result<Value, RpcError> {
        let resources = self.resources.as_deref();
        let prompts = self.prompts.as_deref();
        match (method, resources, prompts) {
            ("resources/list", Some(r), _) => Ok(content::list_resources(r)),
            ("resources/read", Some(r), _) => content::read_resource(r, params),
            ("resources/templates/list", Some(_), _) => Ok(json!({"resourceTemplates": []})),
            ("prompts/list", _, Some(p)) => Ok(content::list_prompts(p)),
            ("prompts/get", _, Some(p)) => content::get_prompt(p, params),
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    fn list_tools(&self) -> Value {
        json!({"tools": self.registry.iter().map(|t| t.descriptor.to_value()).collect::<Vec<_>>()})
    }

    /// Runs a `tools/call`; a call refused before its tool runs (no or unknown tool name,
    /// arguments not an object) is audited here, the others where they finish.
    async fn call_tool(
        &self,
        id: &Value,
        params: Option<Value>,
        scope: &RequestScope,
    ) -> Result<Value, RpcError> {
        let started = Instant::now();
        let original_params = params.clone().unwrap_or_else(|| json!({}));
        let answer = self.run_tool_call(id, params, scope, started).await;
        if let Err(error) = &answer {
            self.audit_refused_call(id, &original_params, scope, error, started);
        }
        answer
    }

    fn audit_refused_call(
        &self,
        id: &Value,
        params: &Value,
        scope: &RequestScope,
        error: &RpcError,
        started: Instant,
    ) {
        let name = params.get("name").and_then(Value::as_str).unwrap_or("");
        let known = self.registry.get(name);
        let code = if name.is_empty() {
            "MissingToolName"
        } else if known.is_none() {
            "UnknownTool"
        } else {
            "InvalidParams"
        };
        // Arguments that are not an object have no names to redact by: keep only their type.
        let mut params = params.clone();
        if let Some(args) = params.get_mut("arguments")
            && !(args.is_object() || args.is_null())
        {
            *args = json!(format!("<redacted: not an object ({})>", json_type(args)));
        }
        if !params.is_object() {
            params = json!(format!(
                "<redacted: not an object ({})>",
                json_type(&params)
            ));
        }
        let identity = scope.identity.snapshot();
        self.telemetry.tool_call(&ToolCallEvent {
            tool_name: name.to_owned(),
            params,
            request_id: id.clone(),
            response_content: json!([{"type": "text", "text": error.message}]),
            is_error: true,
            outcome: Outcome::UserError,
            error_code: Some(code.to_owned()),
            read_only: known.is_some_and(|t| t.descriptor.annotations.read_only),
            resources: Vec::new(),
            identity: identity.to_audit(),
            region: self.config.default_region.clone(),
            source_ip: identity.source_ip.clone(),
            session_id: scope.session_id.clone(),
            protocol_version: scope.protocol_version.clone(),
            execution_time_ms: started.elapsed().as_millis() as u64,
        });
    }

    async fn run_tool_call(
        &self,
        id: &Value,
        params: Option<Value>,
        scope: &RequestScope,
        started: Instant,
    ) -> Result<Value, RpcError> {
        let original_params = params.clone().unwrap_or_else(|| json!({}));
        let mut params = jsonrpc::params_object(params)?;
        let name = match params.remove("name") {
            Some(Value::String(name)) => name,
            _ => {
                return Err(RpcError::invalid_params(
                    "tools/call needs params.name (the tool's name, e.g. aws___list_regions)",
                ));
            }
        };
        let Some(tool) = self.registry.get(&name) else {
            return Err(RpcError::invalid_params(format!(
                "Unknown tool: {name}. Available tools: {}",
                self.registry.names().join(", ")
            )));
        };
        let arguments = match params.remove("arguments") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v,
            Some(_) => {
                return Err(RpcError::invalid_params(
                    "params.arguments must be an object",
                ));
            }
        };
        let meta = params.remove("_meta");
        let region = meta
            .as_ref()
            .and_then(|m| m.get("AWS_REGION"))
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .unwrap_or(&self.config.default_region)
            .to_owned();
        let peer = scope.channel.clone().map(|channel| {
            Arc::new(RequestPeer {
                channel,
                pending: self.pending.clone(),
                session_id: scope.session_id.clone(),
                progress_token: progress_token(meta.as_ref()),
                timeout: self.config.elicitation_timeout,
                last_progress: Mutex::new(None),
            }) as Arc<dyn ClientPeer>
        });
        let ctx = ToolContext {
            identity: scope.identity.clone(),
            session_id: scope.session_id.clone(),
            protocol_version: scope.protocol_version.clone(),
            region: region.clone(),
            request_id: id.clone(),
            meta,
            peer,
        };

        let outcome = tool.handler.call(&ctx, arguments).await;
        let descriptor = &tool.descriptor;
        let (result, outcome_class, read_only, resources) = match outcome {
            Ok(output) => {
                let text = match output.text {
                    Some(t) => t,
                    None => serde_json::to_string(&output.structured)
                        .map_err(|e| RpcError::internal(format!("result not serialisable: {e}")))?,
                };
                let mut result = json!({
                    "content": [{"type": "text", "text": text}],
                    "isError": output.failure.is_some(),
                });
                if descriptor.output_schema.is_some() {
                    result["structuredContent"] = output.structured;
                }
                (
                    result,
                    output.failure.unwrap_or(Outcome::Success),
                    output.read_only.unwrap_or(descriptor.annotations.read_only),
                    output.resources,
                )
            }
            Err(err) => {
                if matches!(err, ToolError::Internal(_) | ToolError::Downstream(_)) {
                    tracing::warn!(tool = %name, error = %err, "tool failed");
                }
                (
                    json!({
                        "content": [{"type": "text", "text": err.to_string()}],
                        "isError": true,
                    }),
                    err.outcome(),
                    descriptor.annotations.read_only,
                    Vec::new(),
                )
            }
        };
        let identity = scope.identity.snapshot();
        self.telemetry.tool_call(&ToolCallEvent {
            tool_name: name,
            params: original_params,
            request_id: id.clone(),
            response_content: result["content"].clone(),
            is_error: outcome_class != Outcome::Success,
            outcome: outcome_class,
            error_code: None,
            read_only,
            resources,
            identity: identity.to_audit(),
            region,
            source_ip: identity.source_ip.clone(),
            session_id: scope.session_id.clone(),
            protocol_version: scope.protocol_version.clone(),
            execution_time_ms: started.elapsed().as_millis() as u64,
        });
        Ok(result)
    }

    /// Emits the current session counts of an account and a caller.
    pub async fn report_session_counts(&self, account: &str, owner: &str) {
        let (a, u) = (
            self.sessions.count_for_account(account).await,
            self.sessions.count_for_owner(owner).await,
        );
        match (a, u) {
            (Ok(a), Ok(u)) => self.telemetry.session_counts(a, u),
            (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, "session count failed"),
        }
    }
}

/// A JSON value's type, as an audit record names it.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
