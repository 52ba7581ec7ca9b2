//! Durable stores for MCP sessions (and, later, tasks).
//!
//! - [`DynamoSessionStore`]: the DynamoDB table of `template.yaml`, used by the Lambda
//!   functions (and locally when `AWS_MCP_STATE_TABLE` is set).
//! - [`DirSessionStore`]: one JSON file per session in a local directory. Several processes
//!   may share it (`cargo lambda watch` runs every function as its own process): records are
//!   written to a temporary file and hard-linked into place, so a reader never sees half a
//!   record and an id is never overwritten.
//!
//! Both implement [`mcp_protocol::SessionStore`]; the in-memory one lives in the protocol
//! crate for tests.

mod dir;
mod dynamo;

pub use dir::DirSessionStore;
pub use dynamo::{DynamoSessionStore, StateTableLayout};
