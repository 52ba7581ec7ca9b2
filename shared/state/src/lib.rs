//! Durable stores for MCP sessions and tasks.
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
//!
//! Tasks (long-running tool calls polled with `get_tasks`) follow the same split:
//! [`TaskStore`] with [`DynamoTaskStore`] (same table, `task#` keys), [`DirTaskStore`]
//! (`<root>/tasks`) and [`MemoryTaskStore`]; the rules they share are in [`tasks`].

#![warn(unreachable_pub)]

mod dir;
mod dynamo;
mod quota_dir;
mod quota_dynamo;
mod session_ledger;
pub mod tasks;
mod tasks_dir;
mod tasks_dynamo;

pub use dir::DirSessionStore;
pub use dynamo::{DynamoSessionStore, StateTableLayout};
pub use quota_dir::DirQuotaStore;
pub use quota_dynamo::DynamoQuotaStore;
pub use tasks::{
    Clock, MemoryTaskStore, TaskRecord, TaskStatus, TaskStore, TaskStoreError, TaskTimes,
};
pub use tasks_dir::DirTaskStore;
pub use tasks_dynamo::{CHUNK_BYTES, DynamoTaskStore, INLINE_RESULT_BYTES};
