//! Tools, tool groups and the registry that composes them.
//!
//! A tool group is a library module that hands out its [`Tool`]s; a Lambda function and
//! the local server both build a [`ToolRegistry`] from the groups they serve, so the same
//! code answers in both places.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use mcp_telemetry::{AuditResource, Outcome};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::identity::IdentitySource;
use crate::peer::ClientPeer;

/// Every tool name carries this prefix, as clients of the managed server know it.
pub const TOOL_PREFIX: &str = "aws___";

/// Behaviour hints a client (and the proxy's `--read-only`) relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolAnnotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    /// Reaches outside this server (AWS, the web).
    pub open_world: bool,
}

impl ToolAnnotations {
    /// A tool that only reads data the server holds.
    pub const READ_ONLY_LOCAL: Self = Self {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    };
    /// A tool that only reads, possibly from AWS or the web.
    pub const READ_ONLY_REMOTE: Self = Self {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
    };

    fn to_value(self, title: &str) -> Value {
        json!({
            "title": title,
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        })
    }
}

/// What `tools/list` says about a tool.
#[derive(Debug, Clone)]
pub struct ToolDescriptor {
    /// Without the `aws___` prefix (`list_regions`).
    pub name: &'static str,
    pub title: &'static str,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    pub annotations: ToolAnnotations,
}

impl ToolDescriptor {
    /// The name clients call (`aws___list_regions`).
    pub fn full_name(&self) -> String {
        format!("{TOOL_PREFIX}{}", self.name)
    }

    pub fn to_value(&self) -> Value {
        let mut v = json!({
            "name": self.full_name(),
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "annotations": self.annotations.to_value(self.title),
        });
        if let Some(schema) = &self.output_schema {
            v["outputSchema"] = schema.clone();
        }
        v
    }
}

/// Why a tool call failed. Each kind maps to one metric outcome; the message is shown to
/// the agent, so it says what was wrong and what would be valid.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ToolError {
    /// The arguments are malformed or out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// A named thing (skill, region, filter value) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Refused by policy (read-only mode, deny list, missing consent).
    #[error("{0}")]
    Denied(String),
    /// The caller or a downstream service is over its rate.
    #[error("{0}")]
    Throttled(String),
    /// A downstream service failed.
    #[error("{0}")]
    Downstream(String),
    /// A fault of this server.
    #[error("{0}")]
    Internal(String),
}

impl ToolError {
    pub fn outcome(&self) -> Outcome {
        match self {
            ToolError::InvalidArgument(_) | ToolError::NotFound(_) | ToolError::Denied(_) => {
                Outcome::UserError
            }
            ToolError::Throttled(_) => Outcome::Throttle,
            ToolError::Downstream(_) | ToolError::Internal(_) => Outcome::SystemError,
        }
    }

    /// A short machine-readable code for structured error answers.
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::InvalidArgument(_) => "validation_error",
            ToolError::NotFound(_) => "not_found",
            ToolError::Denied(_) => "denied",
            ToolError::Throttled(_) => "throttled",
            ToolError::Downstream(_) => "downstream_error",
            ToolError::Internal(_) => "internal_error",
        }
    }
}

/// Reads a tool's arguments into its input type. The message names the offending field by
/// its path (`requests[0].start_index`) and, for unknown fields, the valid ones.
pub fn parse_arguments<T: DeserializeOwned>(tool: &str, args: Value) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ToolError::InvalidArgument(format!("invalid arguments for {tool}: {inner}"))
        } else {
            ToolError::InvalidArgument(format!("invalid arguments for {tool}: {path}: {inner}"))
        }
    })
}

/// A successful tool answer.
#[derive(Debug, Clone, Default)]
pub struct ToolOutput {
    /// The structured content; also sent as JSON text unless `text` is set.
    pub structured: Value,
    /// Text content to send instead of the JSON rendering of `structured`.
    pub text: Option<String>,
    /// Overrides the tool's `readOnlyHint` in the audit record (e.g. a write command).
    pub read_only: Option<bool>,
    pub resources: Vec<AuditResource>,
    /// Set when the answer reports a failure but still carries structured content (a batch
    /// whose every command failed): sent with `isError: true`, counted with this outcome.
    pub failure: Option<Outcome>,
}

impl ToolOutput {
    pub fn structured(value: Value) -> Self {
        Self {
            structured: value,
            ..Self::default()
        }
    }
}

/// What a tool knows about the call it serves.
#[derive(Clone)]
pub struct ToolContext {
    pub identity: Arc<dyn IdentitySource>,
    pub session_id: String,
    pub protocol_version: String,
    /// The Region for AWS work: `params._meta.AWS_REGION`, else the server default.
    pub region: String,
    pub request_id: Value,
    /// The request's `params._meta`, if any.
    pub meta: Option<Value>,
    /// Progress and elicitation towards the client; `None` when the transport cannot carry
    /// messages before the result (a plain JSON HTTP answer, Lambda).
    pub peer: Option<Arc<dyn ClientPeer>>,
}

impl ToolContext {
    /// Reports progress when the transport and the request allow it; a no-op otherwise.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        if let Some(peer) = &self.peer {
            peer.progress(progress, total, message).await;
        }
    }

    /// Whether the client can be asked a question now.
    pub fn can_elicit(&self) -> bool {
        self.peer.as_ref().is_some_and(|p| p.can_elicit())
    }
}

/// Serves one tool.
#[async_trait]
pub trait ToolHandler: Send + Sync {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError>;
}

/// A tool: what `tools/list` shows plus the code that answers it.
#[derive(Clone)]
pub struct Tool {
    pub descriptor: ToolDescriptor,
    pub handler: Arc<dyn ToolHandler>,
}

/// A named set of tools that is deployed together (one Lambda function per group).
pub trait ToolGroup: Send + Sync {
    fn name(&self) -> &'static str;
    fn tools(&self) -> Vec<Tool>;
}

/// The tools one server instance offers, in a stable order.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Tool>,
    groups: Vec<&'static str>,
}

impl ToolRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every tool of `group`. A later group's tool replaces an earlier one of the same
    /// name, so a registry never lists a name twice.
    pub fn with_group(mut self, group: &dyn ToolGroup) -> Self {
        for tool in group.tools() {
            self.tools.insert(tool.descriptor.full_name(), tool);
        }
        self.groups.push(group.name());
        self
    }

    pub fn get(&self, full_name: &str) -> Option<&Tool> {
        self.tools.get(full_name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tool> {
        self.tools.values()
    }

    pub fn names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    pub fn groups(&self) -> &[&'static str] {
        &self.groups
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}
