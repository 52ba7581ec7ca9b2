//! Why a server could not start.

use mcp_protocol::StoreError;

use crate::settings::{GroupName, SettingsError};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot open the session store: {0}")]
    Store(#[from] StoreError),
    #[error("this program does not serve the {} group", .0.as_str())]
    NotServed(GroupName),
    #[error("cannot start the API tools: {0}")]
    Api(String),
    #[error("cannot open the audit log {path}: {source}")]
    AuditLog {
        path: String,
        source: std::io::Error,
    },
}
