//! The call policy: which AWS API calls the server makes on a caller's behalf, refuses, or
//! makes only after the user confirms.
//!
//! Every API call (from `call_aws`, and later from `run_script`) is checked with
//! [`Policy::check`] before it is signed and sent. The policy has four settings, read by
//! [`Policy::from_env`] from the environment and an optional JSON file:
//! - a deny list of [`CommandPattern`]s (`aws s3api delete-*`, `aws iam *`): matching calls are
//!   refused;
//! - read-only mode: calls that are not read-only ([`is_read_only`]) are refused;
//! - a consent list: matching calls need the user's confirmation;
//! - require-mutation-consent: every call that is not read-only needs confirmation;
//! - secret-read consent: calls that reveal stored secret values ([`is_secret_read`]) need
//!   confirmation (on by default in the deployed server).
//!
//! Read-only classification comes from the IAM access levels of each operation's action
//! (`List` and `Read` are read-only), bundled as `data/readonly.json.gz` by
//! `infra/scripts/generate_readonly.py`; operations that issue credentials or tokens are never
//! read-only, nor are the reviewed operations of `data/side_effect_reads.json` (reads in IAM
//! that change state, run code or are billed per call). `docs/policy.md` describes the
//! settings and the data.
//!
//! This module decides; it does not ask the user or send anything.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cli_table::cli_table;
use crate::names::xform_name;

static READONLY_GZ: &[u8] = include_bytes!("../data/readonly.json.gz");
static SIDE_EFFECT_READS: &str = include_str!("../data/side_effect_reads.json");

/// Environment variable names read by [`Policy::from_env`].
pub const ENV_READ_ONLY: &str = "AWS_MCP_READ_ONLY";
pub const ENV_REQUIRE_MUTATION_CONSENT: &str = "AWS_MCP_REQUIRE_MUTATION_CONSENT";
pub const ENV_DENY: &str = "AWS_MCP_DENY";
pub const ENV_CONSENT: &str = "AWS_MCP_CONSENT";
pub const ENV_POLICY_FILE: &str = "AWS_MCP_POLICY_FILE";
pub const ENV_SECRET_READ_CONSENT: &str = "AWS_MCP_SECRET_READ_CONSENT";

const FILE_FIELDS: [&str; 5] = [
    "readOnly",
    "requireMutationConsent",
    "secretReadConsent",
    "denyList",
    "consentList",
];

// ---------------------------------------------------------------------------------------
// Read-only classification
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct RawReadOnly {
    read_only: HashMap<String, Vec<String>>,
    credential_issuing: HashMap<String, Vec<String>>,
    stats: HashMap<String, Value>,
}

#[derive(Deserialize)]
struct RawSideEffects {
    operations: Vec<SideEffectEntry>,
}

#[derive(Deserialize)]
struct SideEffectEntry {
    service: String,
    operation: String,
    reason: String,
}

struct ReadOnlyData {
    /// IAM's reads minus the credential-issuing and side-effect operations.
    read_only: HashMap<String, HashSet<String>>,
    credential_issuing: HashMap<String, HashSet<String>>,
    /// service -> operation -> why it is not read-only although IAM rates it a read.
    side_effects: HashMap<String, HashMap<String, String>>,
    total: usize,
}

fn decode_readonly() -> Result<ReadOnlyData, String> {
    let mut raw = Vec::new();
    GzDecoder::new(READONLY_GZ)
        .read_to_end(&mut raw)
        .map_err(|e| format!("bundled read-only table is not gzip: {e}"))?;
    let data: RawReadOnly =
        serde_json::from_slice(&raw).map_err(|e| format!("bundled read-only table: {e}"))?;
    let sets = |m: HashMap<String, Vec<String>>| {
        m.into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect()
    };
    let total = data
        .stats
        .get("operations")
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    let listed: RawSideEffects = serde_json::from_str(SIDE_EFFECT_READS)
        .map_err(|e| format!("bundled side-effect list: {e}"))?;
    let mut read_only: HashMap<String, HashSet<String>> = sets(data.read_only);
    let mut side_effects: HashMap<String, HashMap<String, String>> = HashMap::new();
    for entry in listed.operations {
        if let Some(ops) = read_only.get_mut(&entry.service) {
            ops.remove(&entry.operation);
        }
        side_effects
            .entry(entry.service)
            .or_default()
            .insert(entry.operation, entry.reason);
    }
    Ok(ReadOnlyData {
        read_only,
        credential_issuing: sets(data.credential_issuing),
        side_effects,
        total,
    })
}

fn readonly_data() -> Option<&'static ReadOnlyData> {
    static DATA: OnceLock<Result<ReadOnlyData, String>> = OnceLock::new();
    // A broken bundle (caught by the tests) makes every call non-read-only: the safe side.
    DATA.get_or_init(decode_readonly).as_ref().ok()
}

/// Whether an API operation only reads: its IAM action's access level is `List` or `Read`
/// (or, where IAM has no entry, its name starts with a read verb such as `Describe`, `List`,
/// `Get`). Operations that issue credentials, tokens or authenticated session URLs (sts
/// `AssumeRole`, `GetSessionToken`, ecr `GetAuthorizationToken`, sso `GetRoleCredentials`, ...)
/// are never read-only, nor are the operations of the reviewed side-effect list
/// ([`side_effect_reason`]). Unknown services and operations are not read-only.
///
/// `service` is the botocore service name (`s3`, `dynamodb`), `operation` the API name
/// (`ListBuckets`).
pub fn is_read_only(service: &str, operation: &str) -> bool {
    // Assume* operations hand out role credentials in every service that has them.
    if operation.starts_with("Assume") {
        return false;
    }
    readonly_data()
        .and_then(|d| d.read_only.get(service))
        .is_some_and(|ops| ops.contains(operation))
}

/// Whether an operation issues credentials, tokens, passwords for new access or authenticated
/// session URLs (the list in `infra/scripts/generate_readonly.py`, plus every `Assume*`).
pub fn is_credential_issuing(service: &str, operation: &str) -> bool {
    operation.starts_with("Assume")
        || readonly_data()
            .and_then(|d| d.credential_issuing.get(service))
            .is_some_and(|ops| ops.contains(operation))
}

/// Why an operation that IAM rates List or Read is not read-only here (it changes state, runs
/// the caller's code or is billed per call): the reason from the reviewed list
/// `data/side_effect_reads.json`, or `None` when it is not on the list.
pub fn side_effect_reason(service: &str, operation: &str) -> Option<&'static str> {
    readonly_data()
        .and_then(|d| d.side_effects.get(service))
        .and_then(|ops| ops.get(operation))
        .map(String::as_str)
}

/// Every entry of the reviewed side-effect list: `(service, operation, reason)`.
pub fn side_effect_reads() -> Vec<(&'static str, &'static str, &'static str)> {
    readonly_data().map_or_else(Vec::new, |d| {
        d.side_effects
            .iter()
            .flat_map(|(s, ops)| {
                ops.iter()
                    .map(move |(o, r)| (s.as_str(), o.as_str(), r.as_str()))
            })
            .collect()
    })
}

/// Operations that reveal a stored secret value, and the input member that must be `true` for
/// them to do so (`None`: always). `kms GenerateDataKey*` is not here: it returns new key
/// material, not a stored secret (decrypting its blob later is the secret read).
const SECRET_READS: &[(&str, &str, Option<&str>)] = &[
    ("acm", "ExportCertificate", None),
    ("apigateway", "GetApiKey", Some("includeValue")),
    ("apigateway", "GetApiKeys", Some("includeValues")),
    ("kms", "Decrypt", None),
    ("secretsmanager", "BatchGetSecretValue", None),
    ("secretsmanager", "GetSecretValue", None),
    ("ssm", "GetParameter", Some("WithDecryption")),
    ("ssm", "GetParameterHistory", Some("WithDecryption")),
    ("ssm", "GetParameters", Some("WithDecryption")),
    ("ssm", "GetParametersByPath", Some("WithDecryption")),
];

/// Whether a call reveals a stored secret value in plain text: secretsmanager
/// `GetSecretValue` / `BatchGetSecretValue`, ssm `GetParameter*` with `WithDecryption=true`,
/// kms `Decrypt`, acm `ExportCertificate` (a private key), apigateway `GetApiKey(s)` with the
/// key value. `params` is the call's input; when it is unknown (`None`) a call that reveals
/// secrets only with some flag counts as a secret read (the safe side).
pub fn is_secret_read(service: &str, operation: &str, params: Option<&Map<String, Value>>) -> bool {
    SECRET_READS
        .iter()
        .find(|(s, o, _)| *s == service && *o == operation)
        .is_some_and(|(_, _, flag)| match (flag, params) {
            (None, _) | (Some(_), None) => true,
            (Some(flag), Some(params)) => params.get(*flag).and_then(Value::as_bool) == Some(true),
        })
}

/// `(read-only operations, all operations)` over the bundled models.
pub fn read_only_counts() -> (usize, usize) {
    readonly_data().map_or((0, 0), |d| {
        (d.read_only.values().map(HashSet::len).sum(), d.total)
    })
}

// ---------------------------------------------------------------------------------------
// Command patterns
// ---------------------------------------------------------------------------------------

/// Why a command pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("the pattern is empty; write `aws <service> <operation>`, e.g. `aws s3api delete-*`")]
    Empty,
    #[error(
        "`{0}` has more than two words after `aws`; write `aws <service> <operation>` (arguments are not matched)"
    )]
    TooManyWords(String),
    #[error(
        "`{pattern}` contains `{ch}`; patterns use only letters, digits, `-` and the wildcard `*`"
    )]
    BadCharacter { pattern: String, ch: char },
    #[error(
        "`{pattern}`: `{service}` is not an AWS CLI service, so the pattern would never match{hint}"
    )]
    UnknownService {
        pattern: String,
        service: String,
        hint: String,
    },
}

/// A command pattern: `aws <service> <operation>` with `*` wildcards in either word, the
/// leading `aws` optional, case-insensitive. `aws iam` (one word) means `aws iam *`.
///
/// A call matches when the pattern matches its CLI spelling (`s3 rm`, `s3api delete-object`)
/// or its API spelling (the service's CLI name, its botocore name, or `s3` for S3 API calls,
/// plus the operation in kebab case), so `aws s3api delete-*` also covers `aws s3 rm`, which
/// calls DeleteObject, while `aws s3 rm` covers only the high-level command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandPattern {
    service: String,
    operation: String,
}

impl CommandPattern {
    /// Parses and checks a pattern.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let lower = text.trim().to_ascii_lowercase();
        let mut words: Vec<&str> = lower.split_whitespace().collect();
        if words.first() == Some(&"aws") {
            words.remove(0);
        }
        let (service, operation) = match words.as_slice() {
            [] => return Err(PatternError::Empty),
            [s] => (*s, "*"),
            [s, o] => (*s, *o),
            _ => return Err(PatternError::TooManyWords(text.trim().to_owned())),
        };
        let bad = |word: &str, allow_dot: bool| {
            word.chars().find(|&c| {
                !(c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || c == '-'
                    || c == '*'
                    || (allow_dot && c == '.'))
            })
        };
        // `.` only in the service word: the CLI has one dotted service (`runtime.sagemaker`).
        if let Some(ch) = bad(service, true).or_else(|| bad(operation, false)) {
            let ch = text
                .chars()
                .find(|c| c.to_ascii_lowercase() == ch)
                .unwrap_or(ch);
            return Err(PatternError::BadCharacter {
                pattern: text.trim().to_owned(),
                ch,
            });
        }
        if !service.contains('*') && !known_service(service) {
            let hint = closest_service(service)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(PatternError::UnknownService {
                pattern: text.trim().to_owned(),
                service: service.to_owned(),
                hint,
            });
        }
        Ok(CommandPattern {
            service: service.to_owned(),
            operation: operation.to_owned(),
        })
    }

    /// Whether the call matches (see the type's documentation).
    pub fn matches(&self, call: &GateCall<'_>) -> bool {
        let cli_service = call.cli_service.to_ascii_lowercase();
        let cli_operation = call.cli_operation.to_ascii_lowercase();
        if glob(&self.service, &cli_service) && glob(&self.operation, &cli_operation) {
            return true;
        }
        if call.operation.is_empty() || !glob(&self.operation, &xform_name(call.operation, '-')) {
            return false;
        }
        api_service_names(call.service)
            .iter()
            .any(|name| glob(&self.service, name))
    }
}

impl FromStr for CommandPattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CommandPattern::parse(s)
    }
}

impl fmt::Display for CommandPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "aws {} {}", self.service, self.operation)
    }
}

/// `*` matches any run of characters (also none); everything else matches itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was and which text position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// botocore service name -> the names a pattern may use for its API calls.
fn api_service_names(service: &str) -> Vec<String> {
    static NAMES: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        if let Ok(table) = cli_table() {
            for (cli, botocore) in table.services.botocore_names() {
                map.entry(botocore.to_owned())
                    .or_default()
                    .push(cli.to_owned());
            }
        }
        // Users write `aws s3 delete-object` for the s3api command: S3's API calls answer to
        // `s3` as well (the high-level commands' own names, `rm`, `cp`, never clash with an
        // API operation's kebab-case name).
        if let Some(v) = map.get_mut("s3") {
            v.push("s3".to_owned());
        }
        map
    });
    let mut out = names.get(service).cloned().unwrap_or_default();
    let botocore = service.to_ascii_lowercase();
    if !out.contains(&botocore) {
        out.push(botocore);
    }
    out
}

fn known_service(name: &str) -> bool {
    let Ok(table) = cli_table() else {
        // Without the table nothing can be checked; accept rather than refuse every pattern.
        return true;
    };
    table.services.contains_key(name)
        || table.custom_commands.iter().any(|c| c == name)
        || table
            .services
            .botocore_names()
            .any(|(_, botocore)| botocore == name)
}

fn closest_service(name: &str) -> Option<String> {
    let table = cli_table().ok()?;
    table
        .services
        .keys()
        .chain(table.custom_commands.iter())
        .map(|s| (strsim::jaro_winkler(name, s), s))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| s.clone())
}

// ---------------------------------------------------------------------------------------
// The policy
// ---------------------------------------------------------------------------------------

/// One API call as the gate sees it, before it is sent.
#[derive(Debug, Clone, Copy)]
pub struct GateCall<'a> {
    /// The service as typed in the command (`s3api`, or the high-level `s3`).
    pub cli_service: &'a str,
    /// The operation as typed (`delete-object`, or `rm`).
    pub cli_operation: &'a str,
    /// The botocore service the call goes to (`s3`).
    pub service: &'a str,
    /// The API operation it calls (`DeleteObject`).
    pub operation: &'a str,
    pub region: &'a str,
    /// The call's input, where the caller has it (it decides whether `ssm GetParameter`
    /// reveals a secret); `None` counts as "may".
    pub params: Option<&'a Map<String, Value>>,
}

/// What to do with a call. The strings are for the caller: why, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
    NeedsConsent(String),
}

/// The server's call policy. `Policy::default()` allows everything.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Refuse every call that is not read-only.
    pub read_only: bool,
    /// Calls matching any of these are refused (checked first).
    pub deny: Vec<CommandPattern>,
    /// Calls matching any of these need the user's confirmation, read-only or not.
    pub consent: Vec<CommandPattern>,
    /// Every call that is not read-only needs the user's confirmation.
    pub require_mutation_consent: bool,
    /// Calls that reveal stored secret values ([`is_secret_read`]) need the user's
    /// confirmation. [`Policy::from_env_in`] turns it on for the deployed server.
    pub secret_read_consent: bool,
}

/// A configuration error: names the setting (file and field, or variable) and what is valid.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{ENV_POLICY_FILE}: cannot read the policy file {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{ENV_POLICY_FILE}: the policy file {} is not valid JSON: {message}", path.display())]
    FileJson { path: PathBuf, message: String },
    #[error("{ENV_POLICY_FILE}: the policy file {}: {field}: {message}", path.display())]
    FileField {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{var}: {message}")]
    Env { var: &'static str, message: String },
}

impl Policy {
    /// Reads the policy from the environment (`env` looks a variable up; pass
    /// `&|k| std::env::var(k).ok()` for the process environment):
    /// - `AWS_MCP_POLICY_FILE`: a JSON object with any of `readOnly` (bool),
    ///   `requireMutationConsent` (bool), `denyList` and `consentList` (arrays of patterns);
    ///   other fields are errors;
    /// - `AWS_MCP_READ_ONLY`, `AWS_MCP_REQUIRE_MUTATION_CONSENT`: `true`/`false` (also `1`/`0`,
    ///   `yes`/`no`), override the file's value when set;
    /// - `AWS_MCP_DENY`, `AWS_MCP_CONSENT`: comma-separated patterns, added to the file's lists.
    ///
    /// A variable that is unset or only whitespace counts as not set.
    ///
    /// This is the policy of a server on the user's machine; [`Policy::from_env_in`] also
    /// serves the deployed one.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Policy, PolicyError> {
        Policy::from_env_in(env, false)
    }

    /// [`Policy::from_env`] for a server that is `deployed` (the Lambda function) or not:
    /// secret-read consent (`secretReadConsent` in the file, `AWS_MCP_SECRET_READ_CONSENT`,
    /// the variable winning) defaults to on when deployed, off on the user's machine, where
    /// the user already holds the credentials.
    pub fn from_env_in(
        env: &dyn Fn(&str) -> Option<String>,
        deployed: bool,
    ) -> Result<Policy, PolicyError> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut policy = match var(ENV_POLICY_FILE) {
            Some(path) => Policy::from_file_in(Path::new(path.trim()), deployed)?,
            None => Policy {
                secret_read_consent: deployed,
                ..Policy::default()
            },
        };
        if let Some(v) = var(ENV_SECRET_READ_CONSENT) {
            policy.secret_read_consent = parse_env_bool(ENV_SECRET_READ_CONSENT, &v)?;
        }
        if let Some(v) = var(ENV_READ_ONLY) {
            policy.read_only = parse_env_bool(ENV_READ_ONLY, &v)?;
        }
        if let Some(v) = var(ENV_REQUIRE_MUTATION_CONSENT) {
            policy.require_mutation_consent = parse_env_bool(ENV_REQUIRE_MUTATION_CONSENT, &v)?;
        }
        if let Some(v) = var(ENV_DENY) {
            policy.deny.extend(parse_env_list(ENV_DENY, &v)?);
        }
        if let Some(v) = var(ENV_CONSENT) {
            policy.consent.extend(parse_env_list(ENV_CONSENT, &v)?);
        }
        Ok(policy)
    }

    /// [`Policy::from_env`] over the process environment.
    pub fn from_process_env() -> Result<Policy, PolicyError> {
        Policy::from_env(&|k| std::env::var(k).ok())
    }

    /// [`Policy::from_env_in`] over the process environment.
    pub fn from_process_env_in(deployed: bool) -> Result<Policy, PolicyError> {
        Policy::from_env_in(&|k| std::env::var(k).ok(), deployed)
    }

    /// Reads a policy file (the format of `AWS_MCP_POLICY_FILE`) for a server on the user's
    /// machine.
    pub fn from_file(path: &Path) -> Result<Policy, PolicyError> {
        Policy::from_file_in(path, false)
    }

    /// Reads a policy file; `deployed` is the default of `secretReadConsent`.
    pub fn from_file_in(path: &Path, deployed: bool) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|e| PolicyError::FileJson {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let field_error = |field: &str, message: String| PolicyError::FileField {
            path: path.to_owned(),
            field: field.to_owned(),
            message,
        };
        let Value::Object(map) = value else {
            return Err(field_error(
                "(top level)",
                format!(
                    "expected a JSON object with the fields {}, found {}",
                    FILE_FIELDS.join(", "),
                    kind(&value)
                ),
            ));
        };
        let mut policy = Policy {
            secret_read_consent: deployed,
            ..Policy::default()
        };
        for (key, value) in &map {
            match key.as_str() {
                "readOnly" | "requireMutationConsent" | "secretReadConsent" => {
                    let Value::Bool(b) = value else {
                        return Err(field_error(
                            key,
                            format!("expected true or false, found {}", kind(value)),
                        ));
                    };
                    match key.as_str() {
                        "readOnly" => policy.read_only = *b,
                        "requireMutationConsent" => policy.require_mutation_consent = *b,
                        _ => policy.secret_read_consent = *b,
                    }
                }
                "denyList" | "consentList" => {
                    let Value::Array(items) = value else {
                        return Err(field_error(
                            key,
                            format!(
                                "expected an array of patterns such as [\"aws s3api delete-*\"], found {}",
                                kind(value)
                            ),
                        ));
                    };
                    let mut patterns = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let field = format!("{key}[{i}]");
                        let Value::String(s) = item else {
                            return Err(field_error(
                                &field,
                                format!(
                                    "expected a pattern string such as \"aws iam *\", found {}",
                                    kind(item)
                                ),
                            ));
                        };
                        patterns.push(
                            CommandPattern::parse(s)
                                .map_err(|e| field_error(&field, e.to_string()))?,
                        );
                    }
                    if key == "denyList" {
                        policy.deny = patterns;
                    } else {
                        policy.consent = patterns;
                    }
                }
                other => {
                    return Err(field_error(
                        other,
                        format!("unknown field; valid fields are {}", FILE_FIELDS.join(", ")),
                    ));
                }
            }
        }
        Ok(policy)
    }

    /// Whether the server refuses every call that is not read-only.
    pub fn is_read_only_mode(&self) -> bool {
        self.read_only
    }

    /// Decides one call: the deny list first, then read-only mode, then the consent list,
    /// secret-read consent and require-mutation-consent.
    pub fn check(&self, call: &GateCall<'_>) -> Decision {
        let command = format!("aws {} {}", call.cli_service, call.cli_operation);
        let api = format!("{} {}", call.service, call.operation);
        if let Some(p) = self.deny.iter().find(|p| p.matches(call)) {
            return Decision::Deny(format!(
                "`{command}` (API call {api}) is denied by the server's policy: it matches the deny \
                 pattern `{p}` ({ENV_DENY} or denyList in {ENV_POLICY_FILE}). Do not retry it; use \
                 another command or ask the server's operator to change the deny list."
            ));
        }
        let read_only = is_read_only(call.service, call.operation);
        if self.read_only && !read_only {
            let why = if is_credential_issuing(call.service, call.operation) {
                "it issues credentials or tokens, which read-only mode never allows".to_owned()
            } else if let Some(reason) = side_effect_reason(call.service, call.operation) {
                format!("it has side effects despite being a read in IAM: {reason}")
            } else {
                "it is not a read-only operation (its IAM access level is not List or Read)"
                    .to_owned()
            };
            return Decision::Deny(format!(
                "the server runs read-only ({ENV_READ_ONLY}=true or readOnly in {ENV_POLICY_FILE}), \
                 and `{command}` (API call {api}) cannot run: {why}. Only List and Read operations \
                 are allowed; the server's operator can set {ENV_READ_ONLY}=false to allow changes."
            ));
        }
        if let Some(p) = self.consent.iter().find(|p| p.matches(call)) {
            return Decision::NeedsConsent(format!(
                "`{command}` (API call {api}) matches the consent pattern `{p}` ({ENV_CONSENT} or \
                 consentList in {ENV_POLICY_FILE}): ask the user to confirm before it runs."
            ));
        }
        if self.secret_read_consent && is_secret_read(call.service, call.operation, call.params) {
            return Decision::NeedsConsent(format!(
                "`{command}` (API call {api}) reveals a stored secret value, and the server asks \
                 the user before every such read ({ENV_SECRET_READ_CONSENT}=true, the default of \
                 the deployed server): ask the user to confirm before it runs. The server's \
                 operator can set {ENV_SECRET_READ_CONSENT}=false (or secretReadConsent in \
                 {ENV_POLICY_FILE}) to allow such reads without asking."
            ));
        }
        if self.require_mutation_consent && !read_only {
            return Decision::NeedsConsent(format!(
                "`{command}` (API call {api}) is not read-only and the server requires the user's \
                 confirmation for every such call ({ENV_REQUIRE_MUTATION_CONSENT}): ask the user to \
                 confirm before it runs."
            ));
        }
        Decision::Allow
    }
}

/// One line for start-up logs: `read-only: yes, mutation consent: no, secret-read consent: yes,
/// deny: [aws iam *], consent: []`.
impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let list = |v: &[CommandPattern]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "read-only: {}, mutation consent: {}, secret-read consent: {}, deny: [{}], consent: [{}]",
            yes_no(self.read_only),
            yes_no(self.require_mutation_consent),
            yes_no(self.secret_read_consent),
            list(&self.deny),
            list(&self.consent)
        )
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_env_bool(var: &'static str, value: &str) -> Result<bool, PolicyError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(PolicyError::Env {
            var,
            message: format!("`{other}` is not a boolean; use true or false (or 1/0, yes/no)"),
        }),
    }
}

fn parse_env_list(var: &'static str, value: &str) -> Result<Vec<CommandPattern>, PolicyError> {
    value
        .split(',')
        .enumerate()
        .map(|(i, item)| {
            CommandPattern::parse(item).map_err(|e| PolicyError::Env {
                var,
                message: format!("item {} of the comma-separated list: {e}", i + 1),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_wildcards_anywhere() {
        assert!(glob("delete-*", "delete-object"));
        assert!(glob("*", ""));
        assert!(glob("*-object", "delete-object"));
        assert!(glob("d*e*t", "delete-object"));
        assert!(glob("*bucket*", "put-bucket-acl"));
        assert!(!glob("delete-*", "put-object"));
        assert!(!glob("delete", "delete-object"));
        assert!(!glob("*-objects", "delete-object"));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(!glob("a*b*c", "aXbYbZ"));
    }

    proptest::proptest! {
        /// The wildcard matcher agrees with the equivalent anchored regex.
        #[test]
        fn glob_agrees_with_a_regex(pattern in "[ab*-]{0,8}", text in "[ab-]{0,10}") {
            let re = format!("^{}$", regex::escape(&pattern).replace("\\*", ".*"));
            let expected = regex::Regex::new(&re).unwrap().is_match(&text);
            proptest::prop_assert_eq!(glob(&pattern, &text), expected, "{} vs {}", pattern, text);
        }
    }

    #[test]
    fn one_word_means_every_operation() {
        let p = CommandPattern::parse("IAM").unwrap();
        assert_eq!(p.to_string(), "aws iam *");
        let p = CommandPattern::parse("  aws   S3API  Delete-*  ").unwrap();
        assert_eq!(p.to_string(), "aws s3api delete-*");
    }

    #[test]
    fn bad_characters_are_reported_as_typed() {
        let err = CommandPattern::parse("aws s3api delete_object").unwrap_err();
        assert_eq!(
            err,
            PatternError::BadCharacter {
                pattern: "aws s3api delete_object".into(),
                ch: '_'
            }
        );
        assert!(CommandPattern::parse("aws s3api delete-?").is_err());
        assert!(CommandPattern::parse("aws runtime.sagemaker invoke-endpoint").is_ok());
        assert!(CommandPattern::parse("aws s3api get.object").is_err());
    }

    /// The classification was generated from the models the engine bundles: same operation
    /// count, and every listed operation exists.
    #[test]
    fn classification_agrees_with_the_bundled_models() {
        let index = aws_models::models().index().expect("models index");
        let data = readonly_data().expect("read-only data");
        assert_eq!(data.total, index.operation_count());
        for (table, what) in [
            (&data.read_only, "read-only"),
            (&data.credential_issuing, "credential-issuing"),
        ] {
            for (service, ops) in table {
                let entry = index
                    .service(service)
                    .unwrap_or_else(|| panic!("{what} service {service} not in the models"));
                for op in ops {
                    assert!(
                        entry.operations.binary_search(op).is_ok(),
                        "{what} {service} {op} not in the models"
                    );
                }
            }
        }
        for (service, ops) in &data.credential_issuing {
            for op in ops {
                assert!(!is_read_only(service, op), "{service} {op}");
            }
        }
    }

    /// Every entry of the reviewed side-effect list names a real operation that IAM rates a
    /// read (else the entry would be dead weight or a typo), once, with a reason.
    #[test]
    fn side_effect_list_names_iam_reads() {
        let index = aws_models::models().index().expect("models index");
        let mut raw = Vec::new();
        GzDecoder::new(READONLY_GZ)
            .read_to_end(&mut raw)
            .expect("gzip");
        let iam: RawReadOnly = serde_json::from_slice(&raw).expect("table");
        let listed: RawSideEffects = serde_json::from_str(SIDE_EFFECT_READS).expect("list");
        let mut seen = HashSet::new();
        for e in &listed.operations {
            let entry = index
                .service(&e.service)
                .unwrap_or_else(|| panic!("{} not in the models", e.service));
            assert!(
                entry.operations.binary_search(&e.operation).is_ok(),
                "{} {} not in the models",
                e.service,
                e.operation
            );
            assert!(
                seen.insert((&e.service, &e.operation)),
                "{} {} listed twice",
                e.service,
                e.operation
            );
            assert!(
                e.reason.len() > 15,
                "{} {}: no reason",
                e.service,
                e.operation
            );
            assert!(
                iam.read_only
                    .get(&e.service)
                    .is_some_and(|ops| ops.contains(&e.operation)),
                "{} {} is not a read in the IAM table: the list is for reads only",
                e.service,
                e.operation
            );
            assert!(!is_read_only(&e.service, &e.operation));
        }
        assert!(
            listed.operations.len() >= 100,
            "{}",
            listed.operations.len()
        );
        let (read_only, _) = read_only_counts();
        let iam_reads: usize = iam.read_only.values().map(Vec::len).sum();
        assert_eq!(read_only + listed.operations.len(), iam_reads);
    }

    /// The secret-read table names real operations and real input members.
    #[test]
    fn secret_reads_name_real_members() {
        for (service, operation, flag) in SECRET_READS {
            let model = aws_models::models()
                .service(service)
                .unwrap_or_else(|e| panic!("{service}: {e}"));
            let op = model
                .operation(operation)
                .unwrap_or_else(|| panic!("{service} {operation} not in the models"));
            if let Some(flag) = flag {
                let input = op.input.as_ref().expect("input");
                let shape = model.shape(&input.shape).expect("input shape");
                assert!(
                    shape.members.contains_key(*flag),
                    "{service} {operation} has no member {flag}"
                );
            }
        }
    }

    #[test]
    fn bundled_classification_decodes() {
        let (ro, total) = read_only_counts();
        assert!(total > 18_000, "{total}");
        assert!(ro > 7_000 && ro < total / 2, "{ro} of {total}");
    }
}
