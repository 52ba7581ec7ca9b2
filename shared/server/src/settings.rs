//! Configuration from environment variables, every one documented in the README's table.

use std::path::PathBuf;
use std::time::Duration;

/// The tool groups that exist; each is one Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupName {
    Knowledge,
    /// call_aws, suggest_aws_commands, run_script.
    Api,
    /// get_presigned_url.
    Presign,
    /// get_tasks.
    Tasks,
}

impl GroupName {
    pub const ALL: [GroupName; 4] = [
        GroupName::Knowledge,
        GroupName::Api,
        GroupName::Presign,
        GroupName::Tasks,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupName::Knowledge => "knowledge",
            GroupName::Api => "api",
            GroupName::Presign => "presign",
            GroupName::Tasks => "tasks",
        }
    }

    pub fn parse(s: &str) -> Result<Self, SettingsError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s.trim())
            .ok_or_else(|| SettingsError::Invalid {
                name: "groups".into(),
                value: s.into(),
                expected: format!(
                    "a comma-separated list of: {}",
                    Self::ALL.map(|g| g.as_str()).join(", ")
                ),
            })
    }

    /// Parses `knowledge,api`; an empty list means every group.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, SettingsError> {
        let mut out = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let g = Self::parse(part)?;
            if !out.contains(&g) {
                out.push(g);
            }
        }
        if out.is_empty() {
            out = Self::ALL.to_vec();
        }
        Ok(out)
    }
}

/// Where the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Lambda,
    LocalHttp,
    Stdio,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("setting {name}={value:?} is invalid: expected {expected}")]
    Invalid {
        name: String,
        value: String,
        expected: String,
    },
}

/// How a Lambda request without an IAM identity is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnauthenticatedPolicy {
    /// Refused with 403 (the default: Function URLs use `AWS_IAM` auth).
    Refuse,
    /// Served as the local credentials' identity (`cargo lambda watch`).
    Local,
}

/// Whose role signs the AWS calls a deployed server makes for its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActAs {
    /// Each caller's mapped role (the default in Lambda).
    Caller,
    /// The function's own execution role, for every caller (single-user stacks only).
    Function,
}

/// The settings of a deployed stack: acting as callers, internal events, the one endpoint.
#[derive(Debug, Clone)]
pub struct DeployedSettings {
    pub act_as: ActAs,
    /// `AWS_MCP_CALLER_ROLE_MAP`, checked.
    pub role_map: Vec<api_tools::actor::RoleMapEntry>,
    /// `AWS_MCP_CALLER_ROLE_MAP_PARAMETER`: an SSM parameter with more entries.
    pub role_map_parameter: Option<String>,
    /// `AWS_MCP_ASSUME_CALLER_ROLE`.
    pub assume_own_role: bool,
    /// `AWS_MCP_PROTECTED_RESOURCES`: the stack's own resource ARNs.
    pub protected: Vec<String>,
    /// `AWS_MCP_INTERNAL_KEY_SECRET`: the secret holding the internal events' key.
    pub internal_key_secret: Option<String>,
    /// `AWS_MCP_GROUP_FUNCTIONS`: the functions that own the groups this one forwards.
    pub group_functions: Vec<(GroupName, String)>,
    /// `AWS_MCP_ACTOR_SESSION_SECONDS`.
    pub session_seconds: u64,
    /// `AWS_MCP_SERVE_URL_EVENTS`: false for functions reached only through the front.
    pub serve_url_events: bool,
}

impl DeployedSettings {
    fn from_env() -> Result<Self, SettingsError> {
        let act_as = match var("AWS_MCP_ACT_AS").as_deref().map(str::trim) {
            None | Some("caller") => ActAs::Caller,
            Some("function") => ActAs::Function,
            Some(other) => {
                return Err(SettingsError::Invalid {
                    name: "AWS_MCP_ACT_AS".into(),
                    value: other.into(),
                    expected: "caller (each caller's mapped role) or function (the function's own role for everyone)".into(),
                });
            }
        };
        let invalid = |name: &str, value: String, expected: String| SettingsError::Invalid {
            name: name.into(),
            value,
            expected,
        };
        let role_map = match var("AWS_MCP_CALLER_ROLE_MAP") {
            None => Vec::new(),
            Some(text) => api_tools::actor::parse_role_map("AWS_MCP_CALLER_ROLE_MAP", &text)
                .map_err(|e| invalid("AWS_MCP_CALLER_ROLE_MAP", text, e.0))?,
        };
        let protected = match var("AWS_MCP_PROTECTED_RESOURCES") {
            None => Vec::new(),
            Some(text) => serde_json::from_str::<Vec<String>>(&text).map_err(|e| {
                invalid(
                    "AWS_MCP_PROTECTED_RESOURCES",
                    text,
                    format!("a JSON list of ARNs ({e})"),
                )
            })?,
        };
        let group_functions = match var("AWS_MCP_GROUP_FUNCTIONS") {
            None => Vec::new(),
            Some(text) => {
                let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                    .map_err(|e| {
                    invalid(
                        "AWS_MCP_GROUP_FUNCTIONS",
                        text.clone(),
                        format!("a JSON object of group name to function name or ARN ({e})"),
                    )
                })?;
                let mut out = Vec::new();
                for (group, function) in map {
                    let group = GroupName::parse(&group)?;
                    let Some(function) = function.as_str().filter(|f| !f.is_empty()) else {
                        return Err(invalid(
                            "AWS_MCP_GROUP_FUNCTIONS",
                            text,
                            format!("a function name or ARN for group {}", group.as_str()),
                        ));
                    };
                    out.push((group, function.to_owned()));
                }
                out
            }
        };
        let session_seconds = number(
            "AWS_MCP_ACTOR_SESSION_SECONDS",
            3600u64,
            "seconds between 900 and 3600",
        )?;
        if !(900..=3600).contains(&session_seconds) {
            return Err(invalid(
                "AWS_MCP_ACTOR_SESSION_SECONDS",
                session_seconds.to_string(),
                "seconds between 900 and 3600 (a role chained from the function's role lasts at most an hour)".into(),
            ));
        }
        Ok(Self {
            act_as,
            role_map,
            role_map_parameter: var("AWS_MCP_CALLER_ROLE_MAP_PARAMETER"),
            assume_own_role: match var("AWS_MCP_ASSUME_CALLER_ROLE") {
                None => true,
                Some(_) => flag("AWS_MCP_ASSUME_CALLER_ROLE")?,
            },
            protected,
            internal_key_secret: var("AWS_MCP_INTERNAL_KEY_SECRET"),
            group_functions,
            session_seconds,
            serve_url_events: match var("AWS_MCP_SERVE_URL_EVENTS") {
                None => true,
                Some(_) => flag("AWS_MCP_SERVE_URL_EVENTS")?,
            },
        })
    }
}

/// Every setting, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub groups: Vec<GroupName>,
    /// How a deployed server signs for callers, authenticates internal events and forwards.
    pub deployed: DeployedSettings,
    pub state_table: Option<String>,
    pub state_dir: PathBuf,
    pub metrics_namespace: String,
    pub usage_namespace: String,
    pub audit_log: Option<PathBuf>,
    /// Keep redacted response bodies in audit records (`AWS_MCP_AUDIT_RESPONSE_BODIES`);
    /// by default only their summary.
    pub audit_response_bodies: bool,
    pub allowed_origins: Vec<String>,
    pub unauthenticated: UnauthenticatedPolicy,
    /// The bearer token `aws-mcp http` requires (`AWS_MCP_HTTP_TOKEN`); mandatory on a
    /// non-loopback address.
    pub http_token: Option<String>,
    /// How long `aws-mcp http` waits for a request's headers, then for its body.
    pub http_header_timeout: Duration,
    pub http_body_timeout: Duration,
    pub default_region: String,
    pub session_ttl: Duration,
    pub max_sessions_per_account: u64,
    pub max_sessions_per_user: u64,
    pub max_concurrent_connections: u64,
    pub requests_per_second: Option<f64>,
    pub burst: f64,
    pub max_body_bytes: usize,
    pub live_region_data: bool,
    pub skills_dir: Option<PathBuf>,
    pub skills_s3_uri: Option<String>,
    pub server_name: String,
    pub docs: knowledge_tools::DocsConfig,
    /// Where `file://` arguments, outfiles and `s3 cp` read and write locally; `None` in
    /// Lambda (refused until files are staged through S3).
    pub work_dir: Option<PathBuf>,
    /// Bytes of merged output one command may return before it is cut with a token.
    pub max_output_bytes: usize,
    /// Seconds one command may spend walking pages.
    pub command_timeout: Duration,
    /// Work still running after this becomes a task (well below the proxy's 120 s).
    pub inline_budget: Duration,
    /// How long a task stays `working` without a heartbeat from its worker.
    pub task_lease: Duration,
    /// Most calls one local process runs in the background at once; further long calls
    /// are answered inline.
    pub max_background_tasks: usize,
    /// Default and largest run time of one script.
    pub script_timeout: Duration,
    /// The unprivileged user script workers switch to when the server runs as root.
    pub script_user: script_sandbox::WorkerUser,
    /// The bucket files are staged in when the server has no local files (the stack's).
    pub staging_bucket: Option<String>,
}

/// The longest a session may live: the seed's 8-hour storage limit.
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether this process runs in AWS Lambda itself rather than under `cargo lambda watch`:
/// Lambda sets `LAMBDA_TASK_ROOT`, a reserved variable a function's configuration cannot
/// set, and the emulator does not (the tests' runtime stand-in sets it, as Lambda does).
pub fn in_aws_lambda() -> bool {
    var("LAMBDA_TASK_ROOT").is_some()
}

/// A development-only setting, honoured off Lambda and ignored (with a warning) in it, where
/// it would open the deployed server.
fn development_only(name: &str) -> Option<String> {
    let value = var(name)?;
    if in_aws_lambda() {
        tracing::warn!(
            setting = name,
            "ignored in AWS Lambda: this setting is for local development only"
        );
        return None;
    }
    Some(value)
}

/// Where a local server reads and writes `file://` paths unless `AWS_MCP_WORK_DIR` says:
/// a folder of its own, so a relative path never reaches the user's home or project files.
pub fn default_work_dir() -> PathBuf {
    if let Some(x) = var("XDG_DATA_HOME") {
        return PathBuf::from(x).join("aws-mcp/files");
    }
    match var("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/aws-mcp/files"),
        None => std::env::temp_dir().join("aws-mcp-files"),
    }
}

fn number<T: std::str::FromStr>(
    name: &str,
    default: T,
    expected: &str,
) -> Result<T, SettingsError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| SettingsError::Invalid {
            name: name.into(),
            value: v,
            expected: expected.into(),
        }),
    }
}

fn flag(name: &str) -> Result<bool, SettingsError> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(SettingsError::Invalid {
            name: name.into(),
            value: other.into(),
            expected: "true or false".into(),
        }),
    }
}

fn default_state_dir(mode: Mode) -> PathBuf {
    if mode == Mode::Lambda {
        return PathBuf::from("/tmp/aws-mcp");
    }
    if let Some(x) = var("XDG_STATE_HOME") {
        return PathBuf::from(x).join("aws-mcp");
    }
    match var("HOME") {
        Some(h) => PathBuf::from(h).join(".local/state/aws-mcp"),
        None => std::env::temp_dir().join("aws-mcp"),
    }
}

fn docs_config() -> Result<knowledge_tools::DocsConfig, SettingsError> {
    let mut c = knowledge_tools::DocsConfig {
        live: match var("AWS_MCP_DOCS_LIVE") {
            None => true,
            Some(_) => flag("AWS_MCP_DOCS_LIVE")?,
        },
        ..knowledge_tools::DocsConfig::default()
    };
    if let Some(u) = var("AWS_MCP_DOCS_SEARCH_URL") {
        c.search_url = u;
    }
    if let Some(u) = var("AWS_MCP_DOCS_RECOMMEND_URL") {
        c.recommend_url = u;
    }
    if let Some(u) = development_only("AWS_MCP_DOCS_UPSTREAM") {
        c.upstream = Some(url::Url::parse(&u).map_err(|e| SettingsError::Invalid {
            name: "AWS_MCP_DOCS_UPSTREAM".into(),
            value: u.clone(),
            expected: format!("an http(s) base URL ({e})"),
        })?);
    }
    let secs: u64 = number("AWS_MCP_DOCS_TIMEOUT_SECONDS", 15, "seconds (1-120)")?;
    if !(1..=120).contains(&secs) {
        return Err(SettingsError::Invalid {
            name: "AWS_MCP_DOCS_TIMEOUT_SECONDS".into(),
            value: secs.to_string(),
            expected: "seconds between 1 and 120".into(),
        });
    }
    c.page_timeout = Duration::from_secs(secs);
    c.search_timeout = Duration::from_secs(secs.min(5));
    Ok(c)
}

impl Settings {
    /// Reads the environment. `groups` comes from the caller (the function binary or the
    /// command line).
    pub fn from_env(mode: Mode, groups: Vec<GroupName>) -> Result<Self, SettingsError> {
        let ttl = number(
            "AWS_MCP_SESSION_TTL_SECONDS",
            MAX_SESSION_TTL.as_secs(),
            "seconds between 60 and 28800",
        )?;
        if !(60..=MAX_SESSION_TTL.as_secs()).contains(&ttl) {
            return Err(SettingsError::Invalid {
                name: "AWS_MCP_SESSION_TTL_SECONDS".into(),
                value: ttl.to_string(),
                expected: "seconds between 60 and 28800 (8 hours)".into(),
            });
        }
        // Local use serves one person; the per-account rate quota applies in Lambda unless set.
        let default_rps = if mode == Mode::Lambda { 3.0 } else { 0.0 };
        let rps: f64 = number(
            "AWS_MCP_REQUESTS_PER_SECOND",
            default_rps,
            "a number of requests per second (0 turns the limit off)",
        )?;
        if !rps.is_finite() || rps < 0.0 {
            return Err(SettingsError::Invalid {
                name: "AWS_MCP_REQUESTS_PER_SECOND".into(),
                value: rps.to_string(),
                expected: "a non-negative number".into(),
            });
        }
        let unauthenticated = match development_only("AWS_MCP_ALLOW_UNAUTHENTICATED")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("0" | "false" | "no" | "off") => UnauthenticatedPolicy::Refuse,
            Some("1" | "true" | "yes" | "on" | "local") => UnauthenticatedPolicy::Local,
            Some(other) => {
                return Err(SettingsError::Invalid {
                    name: "AWS_MCP_ALLOW_UNAUTHENTICATED".into(),
                    value: other.into(),
                    expected: "true (development only: serve unsigned requests as the local identity) or false".into(),
                });
            }
        };
        let usage_namespace =
            var("AWS_MCP_USAGE_NAMESPACE").unwrap_or_else(|| "AWS-MCP/Usage".into());
        if usage_namespace.starts_with("AWS/") {
            return Err(SettingsError::Invalid {
                name: "AWS_MCP_USAGE_NAMESPACE".into(),
                value: usage_namespace,
                expected: "a namespace that does not start with AWS/ (CloudWatch reserves those)"
                    .into(),
            });
        }
        Ok(Self {
            groups,
            deployed: DeployedSettings::from_env()?,
            state_table: var("AWS_MCP_STATE_TABLE"),
            state_dir: var("AWS_MCP_STATE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| default_state_dir(mode)),
            metrics_namespace: var("AWS_MCP_METRICS_NAMESPACE").unwrap_or_else(|| "AWS-MCP".into()),
            usage_namespace,
            audit_log: var("AWS_MCP_AUDIT_LOG").map(PathBuf::from),
            audit_response_bodies: flag("AWS_MCP_AUDIT_RESPONSE_BODIES")?,
            allowed_origins: var("AWS_MCP_ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            unauthenticated,
            http_token: var("AWS_MCP_HTTP_TOKEN"),
            http_header_timeout: Duration::from_secs(
                number(
                    "AWS_MCP_HTTP_HEADER_TIMEOUT_SECONDS",
                    10u64,
                    "a number of seconds",
                )?
                .max(1),
            ),
            http_body_timeout: Duration::from_secs(
                number(
                    "AWS_MCP_HTTP_BODY_TIMEOUT_SECONDS",
                    30u64,
                    "a number of seconds",
                )?
                .max(1),
            ),
            default_region: var("AWS_MCP_DEFAULT_REGION")
                .or_else(|| var("AWS_REGION"))
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            session_ttl: Duration::from_secs(ttl),
            max_sessions_per_account: number(
                "AWS_MCP_MAX_SESSIONS_PER_ACCOUNT",
                180,
                "a whole number",
            )?,
            max_sessions_per_user: number("AWS_MCP_MAX_SESSIONS_PER_USER", 90, "a whole number")?,
            max_concurrent_connections: number(
                "AWS_MCP_MAX_CONCURRENT_CONNECTIONS",
                27,
                "a whole number",
            )?,
            requests_per_second: (rps > 0.0).then_some(rps),
            burst: number("AWS_MCP_BURST", 10.0, "a number of requests")?,
            max_body_bytes: number("AWS_MCP_MAX_BODY_BYTES", 2 * 1024 * 1024, "a size in bytes")?,
            live_region_data: flag("AWS_MCP_LIVE_REGION_DATA")?,
            skills_dir: var("AWS_MCP_SKILLS_DIR").map(PathBuf::from),
            skills_s3_uri: var("AWS_MCP_SKILLS_S3_URI"),
            server_name: var("AWS_MCP_SERVER_NAME").unwrap_or_else(|| "aws-mcp".into()),
            docs: docs_config()?,
            work_dir: if mode == Mode::Lambda {
                None
            } else {
                Some(
                    var("AWS_MCP_WORK_DIR")
                        .map(PathBuf::from)
                        .unwrap_or_else(default_work_dir),
                )
            },
            max_output_bytes: number(
                "AWS_MCP_MAX_OUTPUT_BYTES",
                262_144usize,
                "a number of bytes (at least 1024)",
            )?
            .max(1024),
            command_timeout: Duration::from_secs(number(
                "AWS_MCP_COMMAND_TIMEOUT_SECONDS",
                300u64,
                "a number of seconds",
            )?),
            inline_budget: Duration::from_secs_f64(
                number(
                    "AWS_MCP_INLINE_BUDGET_SECONDS",
                    25.0f64,
                    "a number of seconds between 0.1 and 100",
                )?
                .clamp(0.1, 100.0),
            ),
            task_lease: Duration::from_secs(
                number("AWS_MCP_TASK_LEASE_SECONDS", 60u64, "a number of seconds")?.max(2),
            ),
            max_background_tasks: number(
                "AWS_MCP_MAX_BACKGROUND_TASKS",
                32usize,
                "a whole number of tasks",
            )?
            .max(1),
            staging_bucket: var("AWS_MCP_STAGING_BUCKET"),
            script_timeout: Duration::from_secs(
                number(
                    "AWS_MCP_SCRIPT_TIMEOUT_SECONDS",
                    30u64,
                    "a number of seconds (1-300)",
                )?
                .clamp(1, 300),
            ),
            script_user: script_user(var("AWS_MCP_SCRIPT_USER").as_deref())?,
        })
    }
}

/// `UID` or `UID:GID` (numbers, not root); the default is nobody (65534:65534).
fn script_user(value: Option<&str>) -> Result<script_sandbox::WorkerUser, SettingsError> {
    let Some(value) = value else {
        return Ok(script_sandbox::WorkerUser::NOBODY);
    };
    let (uid, gid) = value.trim().split_once(':').unwrap_or((value.trim(), ""));
    let parsed = uid.parse::<u32>().ok().and_then(|uid| {
        let gid = if gid.is_empty() {
            Ok(uid)
        } else {
            gid.parse::<u32>()
        };
        gid.ok().map(|gid| script_sandbox::WorkerUser { uid, gid })
    });
    match parsed {
        Some(user) if user.uid != 0 && user.gid != 0 => Ok(user),
        _ => Err(SettingsError::Invalid {
            name: "AWS_MCP_SCRIPT_USER".into(),
            value: value.into(),
            expected: "UID or UID:GID, numbers other than 0".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_user_is_numeric_and_never_root() {
        use script_sandbox::WorkerUser;
        assert_eq!(script_user(None).expect("default"), WorkerUser::NOBODY);
        assert_eq!(
            script_user(Some("1000")).expect("uid"),
            WorkerUser {
                uid: 1000,
                gid: 1000
            }
        );
        assert_eq!(
            script_user(Some(" 1000:2000 ")).expect("uid:gid"),
            WorkerUser {
                uid: 1000,
                gid: 2000
            }
        );
        for bad in ["0", "1000:0", "nobody", "1:x", ":5"] {
            assert!(script_user(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn group_lists_parse_and_unknown_groups_name_the_valid_ones() {
        assert_eq!(
            GroupName::parse_list("").expect("empty"),
            GroupName::ALL.to_vec()
        );
        assert_eq!(
            GroupName::parse_list("knowledge,knowledge").expect("dup"),
            vec![GroupName::Knowledge]
        );
        let err = GroupName::parse_list("knowledge,bogus")
            .expect_err("bogus")
            .to_string();
        assert!(err.contains("bogus") && err.contains("knowledge"), "{err}");
    }
}
