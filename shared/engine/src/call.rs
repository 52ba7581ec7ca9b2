//! What running a command takes and gives: the settings, the policy gate every API call
//! passes, the outcome and the failure. The dispatcher (`run`) and the commands it hands work
//! to (`highlevel`, `wait`, `staging`) all speak it, so it imports none of them.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::Value;

use crate::command::CommandError;
use crate::execute::CallError;
use crate::paginate::PageBudget;
use crate::policy::GateCall;

/// Admits or refuses API calls (read-only mode, deny and consent lists).
#[async_trait]
pub trait CallGate: Send + Sync {
    /// `Err` carries the reason shown to the agent.
    async fn admit(&self, call: &GateCall<'_>) -> Result<(), String>;
}

/// A gate that admits everything (tests, explain).
pub struct OpenGate;

#[async_trait]
impl CallGate for OpenGate {
    async fn admit(&self, _call: &GateCall<'_>) -> Result<(), String> {
        Ok(())
    }
}

/// The kinds of failure a structured answer names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Validation,
    Policy,
    Service,
    Network,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Validation => "validation",
            FailureKind::Policy => "policy",
            FailureKind::Service => "service",
            FailureKind::Network => "network",
        }
    }
}

/// A failed command.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RunError {
    pub kind: FailureKind,
    pub code: String,
    pub message: String,
    /// The API call it belongs to, once known.
    pub call: Option<Box<CallNames>>,
}

/// Which API call a failure belongs to.
#[derive(Debug, Clone)]
pub struct CallNames {
    pub service: String,
    pub operation: String,
    pub region: Option<String>,
}

impl RunError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Validation,
            code: "ValidationError".into(),
            message: message.into(),
            call: None,
        }
    }

    pub fn policy(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Policy,
            code: "PolicyDenied".into(),
            ..Self::validation(message)
        }
    }

    pub(crate) fn with_call(
        mut self,
        service: &str,
        operation: &str,
        region: Option<&str>,
    ) -> Self {
        self.call = Some(Box::new(CallNames {
            service: service.to_owned(),
            operation: operation.to_owned(),
            region: region.map(str::to_owned),
        }));
        self
    }
}

impl From<CommandError> for RunError {
    fn from(e: CommandError) -> Self {
        let code = match &e {
            CommandError::Shell(_) => "ShellSyntaxRefused",
            CommandError::UnknownService(_) => "UnknownService",
            CommandError::UnknownOperation(_) => "UnknownOperation",
            CommandError::UnknownArgument(_) => "UnknownArgument",
            CommandError::MissingArgument(_) => "MissingArgument",
            CommandError::DeniedOption(_) => "DeniedOption",
            _ => "ValidationError",
        };
        Self {
            code: code.into(),
            ..Self::validation(e.to_string())
        }
    }
}

impl From<CallError> for RunError {
    fn from(e: CallError) -> Self {
        let kind = match &e {
            CallError::Validation(_) => FailureKind::Validation,
            CallError::Service(_) => FailureKind::Service,
            CallError::Protected(_) => FailureKind::Policy,
            _ => FailureKind::Network,
        };
        Self {
            kind,
            code: e.code(),
            message: e.to_string(),
            call: None,
        }
    }
}

/// A successful command.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub service: String,
    pub operation: String,
    pub region: String,
    /// The JSON the CLI prints (`--output json`), after `--query`.
    pub output: Value,
    pub next_token: Option<String>,
    /// The server's budget ended the walk early (not the caller's `--max-items`).
    pub truncated: bool,
    /// Whether the operation only reads.
    pub read_only_hint: Option<bool>,
    pub notes: Vec<String>,
}

/// Per-call settings.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The Region when the command names none (the proxy's `AWS_REGION` metadata, the
    /// server's default).
    pub default_region: String,
    pub max_results: Option<usize>,
    pub budget: PageBudget,
    /// The caller (its staged files live under a prefix of its own).
    pub owner: Option<String>,
}

/// The Region of the first ARN among the parameters that names one.
pub fn region_in_arns(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.starts_with("arn:") => {
            let region = s.split(':').nth(3)?;
            (!region.is_empty()).then(|| region.to_owned())
        }
        Value::Array(items) => items.iter().find_map(region_in_arns),
        Value::Object(map) => map.values().find_map(region_in_arns),
        _ => None,
    }
}

/// A path inside `root` for writing: `..`, absolute paths and links that leave it are refused.
pub fn confined_path(root: &Path, raw: &str) -> Result<PathBuf, RunError> {
    let outside = || {
        RunError::validation(format!(
            "{raw} is outside the working directory {}; only paths inside it can be written",
            root.display()
        ))
    };
    let real_root = root
        .canonicalize()
        .map_err(|e| RunError::validation(format!("working directory {}: {e}", root.display())))?;
    let candidate = Path::new(raw);
    let joined = if candidate.is_absolute() {
        candidate.to_path_buf()
    } else {
        real_root.join(candidate)
    };
    let file_name = joined.file_name().ok_or_else(outside)?.to_owned();
    let parent = joined.parent().ok_or_else(outside)?;
    let real_parent = parent
        .canonicalize()
        .map_err(|e| RunError::validation(format!("cannot write {raw}: {e}")))?;
    if !real_parent.starts_with(&real_root) {
        return Err(outside());
    }
    let path = real_parent.join(file_name);
    // An existing link could point anywhere.
    if let Ok(meta) = std::fs::symlink_metadata(&path)
        && meta.file_type().is_symlink()
    {
        return Err(outside());
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arn_regions_are_found_and_empty_ones_skipped() {
        assert_eq!(
            region_in_arns(
                &json!({"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:f"})
            ),
            Some("eu-west-1".into())
        );
        assert_eq!(
            region_in_arns(&json!({"RoleArn": "arn:aws:iam::123456789012:role/r"})),
            None
        );
        assert_eq!(region_in_arns(&json!({"Name": "plain"})), None);
    }

    #[test]
    fn outfiles_stay_inside_the_working_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(confined_path(dir.path(), "out.json").is_ok());
        assert!(confined_path(dir.path(), "../out.json").is_err());
        assert!(confined_path(dir.path(), "/etc/passwd").is_err());
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).expect("link");
        assert!(confined_path(dir.path(), "link").is_err());
    }
}
