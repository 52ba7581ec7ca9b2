//! The server side of the Model Context Protocol, shared by every tool group, the Lambda
//! functions and the local server.
//!
//! It owns JSON-RPC 2.0 framing ([`jsonrpc`]), the MCP methods (`initialize` with version
//! negotiation, `ping`, `tools/list`, `tools/call`, notifications) in [`McpServer`], the
//! Streamable HTTP rules as a function from `http::Request` to `http::Response`
//! ([`McpServer::handle_http`]), and the stdio loop ([`serve_stdio`]). While a tool runs it
//! can send progress and ask the user questions (elicitation) through a [`ClientPeer`]
//! where the transport can carry them (stdio, and event-stream answers of the local HTTP
//! server). Tools come from [`ToolGroup`]s composed into a [`ToolRegistry`]; sessions live
//! behind [`SessionStore`]; the caller comes from an [`IdentitySource`]. Resources and
//! prompts come from a [`ResourceProvider`] and a [`PromptProvider`] when a server has them
//! ([`content`]).
//!
//! It holds no Lambda and no AWS code: the `mcp-server` crate adapts Lambda events and
//! hyper connections to it, and `mcp-state` provides the durable session stores.
//!
//! Why our own layer rather than an SDK crate: the server needs only the tools slice of MCP
//! (plus progress and elicitation), must also run as a buffered request/response function
//! inside Lambda (no long-lived streams there), and must control status codes, session
//! binding to the IAM caller, quotas and audit exactly; a few hundred lines of serde types
//! do that with few dependencies and keep start-up and `tools/list` in the microsecond
//! range. Conformance is proven end to end with the official Python MCP client and with
//! `mcp-proxy-for-aws` (see `tests/e2e`).

#![warn(unreachable_pub)]

pub mod body;
pub mod content;
pub mod http;
pub mod identity;
pub mod jsonrpc;
pub mod peer;
pub mod quota;
pub mod server;
pub mod session;
pub mod stdio;
pub mod tool;

pub use body::HttpBody;
pub use content::{
    ContentError, FilledPrompt, PromptArgument, PromptDescriptor, PromptMessage, PromptProvider,
    ResourceDescriptor, ResourceProvider, ResourceText,
};
pub use http::{HttpOptions, OriginPolicy};
pub use identity::{CallerIdentity, IdentityKind, IdentitySource, KnownIdentity};
pub use peer::{ClientChannel, ClientPeer, ElicitAnswer, PeerError, PendingRequests};
pub use quota::{MemoryQuotaStore, QuotaStore, RateDecision, RateLimit, Slots};
pub use server::{
    LATEST_PROTOCOL_VERSION, McpServer, Quotas, RequestScope, SUPPORTED_PROTOCOL_VERSIONS,
    ServerConfig,
};
pub use session::{
    MemorySessionStore, SessionAdmission, SessionLimits, SessionRecord, SessionStore, StoreError,
};
pub use stdio::serve_stdio;
pub use tool::{
    Tool, ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolGroup, ToolHandler,
    ToolOutput, ToolRegistry, parse_arguments,
};
