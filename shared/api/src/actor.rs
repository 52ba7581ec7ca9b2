//! Who a deployed server's AWS calls are signed as.
//!
//! In Lambda the server never lends its own role: each caller maps to a role
//! (`AWS_MCP_CALLER_ROLE_MAP`, first match wins, or the caller's own role when it is an
//! assumed-role session), which the server assumes with session tags, a source identity
//! and a session policy that denies the stack's own resources. Credentials are cached per
//! (caller, role) until shortly before they expire. Local servers sign with the local
//! credentials as they always did.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_engine::execute::{CallError, CredentialError, CredentialSource, Executor};
use aws_engine::protected::ProtectedResources;
use aws_engine::sign::SigningKeys;
use mcp_protocol::{CallerIdentity, ToolError};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Refresh assumed credentials this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Tags every assumed session carries; IAM sees them as `aws:PrincipalTag/<key>`.
pub const TAG_VIA: &str = "ViaAWSMCPService";
pub const TAG_CALLED_VIA: &str = "CalledViaAWSMCP";
pub const TAG_CALLER: &str = "AWSMCPCaller";

/// One entry of the caller-to-role map.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleMapEntry {
    /// A principal ARN pattern; `*` matches any run of characters.
    pub caller: String,
    /// The role ARN such callers act as.
    pub role: String,
}

/// Why a role map cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RoleMapError(pub String);

/// Reads a role map: a JSON list of `{"caller": ..., "role": ...}`.
pub fn parse_role_map(source: &str, text: &str) -> Result<Vec<RoleMapEntry>, RoleMapError> {
    let entries: Vec<RoleMapEntry> = serde_json::from_str(text).map_err(|e| {
        RoleMapError(format!(
            "{source} is not a JSON list of {{\"caller\": \"<principal ARN pattern>\", \"role\": \"<role ARN>\"}} ({e})"
        ))
    })?;
    for entry in &entries {
        if !entry.caller.starts_with("arn:") && entry.caller != "*" {
            return Err(RoleMapError(format!(
                "{source}: caller pattern '{}' is not an ARN pattern (e.g. arn:aws:sts::123456789012:assumed-role/Dev/*)",
                entry.caller
            )));
        }
        if split_role_arn(&entry.role).is_none() {
            return Err(RoleMapError(format!(
                "{source}: '{}' is not a role ARN (arn:aws:iam::<account>:role/<name>)",
                entry.role
            )));
        }
    }
    Ok(entries)
}

/// `*` wildcard match over the whole text.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    if !text.ends_with(last) {
        return false;
    }
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// The six fields of an ARN: `arn`, partition, service, Region, account, resource.
fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    let mut fields = arn.splitn(6, ':');
    let mut out = [""; 6];
    for slot in &mut out {
        *slot = fields.next()?;
    }
    (out[0] == "arn").then_some(out)
}

/// `(account, role name)` of `arn:<partition>:iam::<account>:role/<path/>name`.
fn split_role_arn(arn: &str) -> Option<(&str, &str)> {
    let [_, _, service, _, account, resource] = arn_fields(arn)?;
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    (service == "iam" && !account.is_empty() && !name.is_empty()).then_some((account, name))
}

/// `(partition, account, role name, session)` of an assumed-role session ARN.
fn split_assumed_role(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let [_, partition, service, _, account, resource] = arn_fields(arn)?;
    let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    (service == "sts" && !role.is_empty()).then_some((partition, account, role, session))
}

/// Characters STS accepts in `RoleSessionName` and `SourceIdentity`: `[\w+=,.@-]`, 2-64.
pub fn sts_name(caller_arn: &str) -> String {
    let last = caller_arn.rsplit(['/', ':']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.len() < 2 {
        name = format!("mcp-{name}");
    }
    name
}

/// Tag values allow letters, digits, spaces and `_.:/=+-@`, at most 256 characters.
fn tag_value(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

/// The session policy: whatever the role allows, except the stack's own resources.
pub fn session_policy(protected: &ProtectedResources) -> Result<Option<String>, RoleMapError> {
    if protected.is_empty() {
        return Ok(None);
    }
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RoleAllows", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NotTheServer", "Effect": "Deny", "Action": "*", "Resource": protected.arns()},
        ]
    })
    .to_string();
    if policy.len() > 2048 {
        return Err(RoleMapError(format!(
            "the session policy denying the server's resources is {} characters; STS takes at most 2,048 (shorten AWS_MCP_PROTECTED_RESOURCES, e.g. with * wildcards)",
            policy.len()
        )));
    }
    Ok(Some(policy))
}

/// Settings for acting as callers.
#[derive(Debug, Clone)]
pub struct CallerRoleSettings {
    pub map: Vec<RoleMapEntry>,
    /// A caller that is an assumed-role session and matches no entry acts as that role.
    pub assume_own_role: bool,
    /// The `CalledViaAWSMCP` tag's value.
    pub server_name: String,
    pub session_seconds: u64,
    /// The Region whose STS endpoint is used.
    pub region: String,
}

type CachedKeys = Option<(SigningKeys, SystemTime)>;
/// One slot per (caller ARN, role ARN), each locked on its own so a slow STS answer for one
/// caller never holds up another.
type SessionSlots = HashMap<(String, String), Arc<tokio::sync::Mutex<CachedKeys>>>;

/// Assumes the roles callers map to, with the server's own credentials.
pub struct CallerRoles {
    settings: CallerRoleSettings,
    /// The server's own executor (its execution role), for STS and IAM.
    own: Executor,
    protected: Arc<ProtectedResources>,
    policy: Option<String>,
    sessions: std::sync::Mutex<SessionSlots>,
    role_arns: tokio::sync::Mutex<HashMap<String, String>>,
}

impl CallerRoles {
    pub fn new(
        settings: CallerRoleSettings,
        own: Executor,
        protected: Arc<ProtectedResources>,
    ) -> Result<Self, RoleMapError> {
        let policy = session_policy(&protected)?;
        Ok(Self {
            settings,
            own,
            protected,
            policy,
            sessions: std::sync::Mutex::default(),
            role_arns: tokio::sync::Mutex::default(),
        })
    }

    /// The role a caller acts as, or why it has none.
    pub async fn role_for(&self, caller: &CallerIdentity) -> Result<String, ToolError> {
        let Some(arn) = caller.arn.as_deref() else {
            return Err(ToolError::Denied(
                "AWS tools need an IAM caller: sign requests with SigV4 (mcp-proxy-for-aws)".into(),
            ));
        };
        if let Some(entry) = self
            .settings
            .map
            .iter()
            .find(|e| wildcard_match(&e.caller, arn))
        {
            return Ok(entry.role.clone());
        }
        let own_role = split_assumed_role(arn);
        match own_role {
            Some((_, _, role, _)) if self.settings.assume_own_role => {
                if role.starts_with("AWSReservedSSO_") {
                    return Err(unmapped(
                        arn,
                        "IAM Identity Center roles cannot trust another principal, so map this caller to a role that can",
                    ));
                }
                self.own_role_arn(arn).await
            }
            _ => Err(unmapped(
                arn,
                if own_role.is_some() {
                    "acting as the caller's own role is turned off (AWS_MCP_ASSUME_CALLER_ROLE=false)"
                } else {
                    "IAM users and federated callers must be mapped"
                },
            )),
        }
    }

    /// The full ARN (with its path) of an assumed-role caller's role, from IAM.
    async fn own_role_arn(&self, caller_arn: &str) -> Result<String, ToolError> {
        let Some((partition, account, role, _)) = split_assumed_role(caller_arn) else {
            return Err(unmapped(caller_arn, "it is not an assumed-role session"));
        };
        let key = format!("{partition}:{account}:{role}");
        if let Some(found) = self.role_arns.lock().await.get(&key) {
            return Ok(found.clone());
        }
        let mut params = Map::new();
        params.insert("RoleName".into(), json!(role));
        let answer = self
            .call_own("iam", "GetRole", &params)
            .await
            .map_err(|e| {
                ToolError::Denied(format!(
                    "cannot look up role {role} of caller {caller_arn} ({e}); the server's role needs iam:GetRole, or map the caller in AWS_MCP_CALLER_ROLE_MAP"
                ))
            })?;
        let arn = answer
            .get("Role")
            .and_then(|r| r.get("Arn"))
            .and_then(Value::as_str)
            .filter(|a| a.ends_with(&format!("/{role}")) && a.contains(&format!(":{account}:")))
            .map(str::to_owned)
            .ok_or_else(|| {
                ToolError::Internal(format!("IAM GetRole for {role} answered without its ARN"))
            })?;
        self.role_arns.lock().await.insert(key, arn.clone());
        Ok(arn)
    }

    /// Credentials for `caller` acting as `role`: cached, assumed when missing or stale.
    pub async fn keys(
        &self,
        caller: &CallerIdentity,
        role: &str,
    ) -> Result<SigningKeys, ToolError> {
        let caller_arn = caller.arn.clone().unwrap_or_default();
        let slot = {
            let mut sessions = self
                .sessions
                .lock()
                .map_err(|_| ToolError::Internal("credential cache unavailable".into()))?;
            sessions
                .entry((caller_arn.clone(), role.to_owned()))
                .or_default()
                .clone()
        };
        let mut cached = slot.lock().await;
        if let Some((keys, expiry)) = cached.as_ref()
            && *expiry > SystemTime::now() + REFRESH_MARGIN
        {
            return Ok(keys.clone());
        }
        let (keys, expiry) = self.assume(&caller_arn, role).await?;
        *cached = Some((keys.clone(), expiry));
        Ok(keys)
    }

    /// The AssumeRole request for one caller (what reaches STS).
    pub fn assume_role_params(&self, caller_arn: &str, role: &str) -> Map<String, Value> {
        let name = sts_name(caller_arn);
        let mut params = Map::new();
        params.insert("RoleArn".into(), json!(role));
        params.insert("RoleSessionName".into(), json!(name));
        params.insert("SourceIdentity".into(), json!(name));
        params.insert(
            "DurationSeconds".into(),
            json!(self.settings.session_seconds),
        );
        params.insert(
            "Tags".into(),
            json!([
                {"Key": TAG_VIA, "Value": "true"},
                {"Key": TAG_CALLED_VIA, "Value": tag_value(&self.settings.server_name)},
                {"Key": TAG_CALLER, "Value": tag_value(caller_arn)},
            ]),
        );
        params.insert("TransitiveTagKeys".into(), json!([TAG_VIA, TAG_CALLED_VIA]));
        if let Some(policy) = &self.policy {
            params.insert("Policy".into(), json!(policy));
        }
        params
    }

    async fn assume(
        &self,
        caller_arn: &str,
        role: &str,
    ) -> Result<(SigningKeys, SystemTime), ToolError> {
        let params = self.assume_role_params(caller_arn, role);
        let answer = match self.call_own("sts", "AssumeRole", &params).await {
            Ok(answer) => answer,
            Err(CallError::Service(e))
                if e.code.contains("AccessDenied") || e.code == "InvalidClientTokenId" =>
            {
                return Err(ToolError::Denied(self.untrusted(role, &e.message).await));
            }
            Err(e) => {
                return Err(ToolError::Downstream(format!(
                    "cannot assume role {role} for {caller_arn}: {e}"
                )));
            }
        };
        let creds = answer.get("Credentials").cloned().unwrap_or_default();
        let text = |k: &str| creds.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(access_key), Some(secret_key)) = (text("AccessKeyId"), text("SecretAccessKey"))
        else {
            return Err(ToolError::Internal(format!(
                "STS AssumeRole of {role} answered without credentials"
            )));
        };
        let lifetime = Duration::from_secs(self.settings.session_seconds);
        let expiry = text("Expiration")
            .and_then(|t| {
                time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(SystemTime::from)
            .unwrap_or_else(|| SystemTime::now() + lifetime);
        tracing::info!(%role, caller = %caller_arn, "assumed the caller's role");
        Ok((
            SigningKeys {
                access_key,
                secret_key,
                session_token: text("SessionToken"),
            },
            expiry,
        ))
    }

    /// The message for a role that refused to be assumed, with the statement to add.
    async fn untrusted(&self, role: &str, why: &str) -> String {
        let server = match self.call_own("sts", "GetCallerIdentity", &Map::new()).await {
            Ok(me) => me
                .get("Arn")
                .and_then(Value::as_str)
                .map(server_role_arn)
                .unwrap_or_else(|| "<the server's execution role ARN>".into()),
            Err(_) => "<the server's execution role ARN>".into(),
        };
        let statement = json!({
            "Effect": "Allow",
            "Principal": {"AWS": server},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        });
        format!(
            "role {role} does not trust the server ({why}). Add this statement to the role's trust policy: {statement}; and let the server's role assume it (tag the role aws-mcp-actor=true or list it in the stack's ActorRoleArns)"
        )
    }

    async fn call_own(
        &self,
        service: &str,
        operation: &str,
        params: &Map<String, Value>,
    ) -> Result<Map<String, Value>, CallError> {
        let answer = self
            .own
            .call_named(service, operation, params, &self.settings.region)
            .await?;
        Ok(answer.output)
    }

    /// The executor that signs as `caller` acting as `role`.
    pub fn executor_for(self: &Arc<Self>, caller: &CallerIdentity, role: &str) -> Executor {
        let source = Arc::new(CallerCredentials {
            roles: self.clone(),
            caller: caller.clone(),
            role: role.to_owned(),
        });
        self.own
            .with_credentials(source)
            .with_protected(self.protected.clone())
    }
}

/// `arn:aws:iam::A:role/R` from the server's own `assumed-role/R/session` ARN.
fn server_role_arn(arn: &str) -> String {
    match split_assumed_role(arn) {
        Some((partition, account, role, _)) => {
            format!("arn:{partition}:iam::{account}:role/{role}")
        }
        None => arn.to_owned(),
    }
}

fn unmapped(arn: &str, why: &str) -> ToolError {
    ToolError::Denied(format!(
        "caller {arn} maps to no role, so it cannot make AWS calls through this server ({why}). Add an entry {{\"caller\": \"{arn}\", \"role\": \"arn:aws:iam::<account>:role/<role>\"}} to AWS_MCP_CALLER_ROLE_MAP (stack parameter CallerRoleMap)"
    ))
}

/// A caller's assumed-role credentials, refreshed through the cache as they near expiry.
struct CallerCredentials {
    roles: Arc<CallerRoles>,
    caller: CallerIdentity,
    role: String,
}

#[async_trait]
impl CredentialSource for CallerCredentials {
    async fn keys(&self) -> Result<SigningKeys, CredentialError> {
        self.roles
            .keys(&self.caller, &self.role)
            .await
            .map_err(|e| CredentialError(e.to_string()))
    }

    fn for_profile(&self, profile: &str) -> Result<Arc<dyn CredentialSource>, CredentialError> {
        Err(CredentialError(format!(
            "--profile {profile} cannot be used with the deployed server: it acts as your mapped role (remove --profile)"
        )))
    }
}

/// How the AWS tools sign.
#[derive(Clone)]
pub enum Acting {
    /// Local servers: the local credentials, as configured.
    Local,
    /// A deployed server with `AWS_MCP_ACT_AS=function`: its own role, never its own
    /// resources.
    Function(Arc<ProtectedResources>),
    /// A deployed server acting as each caller.
    Caller(Arc<CallerRoles>),
}

impl Acting {
    /// The runner for one caller's commands; refuses a caller that maps to no role, or
    /// whose role cannot be assumed, before any request is made for it.
    pub async fn runner_for(
        &self,
        base: &Arc<aws_engine::Runner>,
        caller: &CallerIdentity,
    ) -> Result<Arc<aws_engine::Runner>, ToolError> {
        match self {
            Acting::Local => Ok(base.clone()),
            Acting::Function(protected) => Ok(Arc::new(
                base.for_caller(base.executor.with_protected(protected.clone())),
            )),
            Acting::Caller(roles) => {
                let role = roles.role_for(caller).await?;
                roles.keys(caller, &role).await?;
                Ok(Arc::new(base.for_caller(roles.executor_for(caller, &role))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_arns() {
        let arn = "arn:aws:sts::123456789012:assumed-role/Dev/alice";
        assert!(wildcard_match(arn, arn));
        assert!(wildcard_match("*", arn));
        assert!(wildcard_match(
            "arn:aws:sts::123456789012:assumed-role/Dev/*",
            arn
        ));
        assert!(wildcard_match("arn:aws:sts::*:assumed-role/*/alice", arn));
        assert!(!wildcard_match(
            "arn:aws:sts::123456789012:assumed-role/Ops/*",
            arn
        ));
        assert!(!wildcard_match(
            "arn:aws:sts::123456789012:assumed-role/Dev",
            arn
        ));
        assert!(!wildcard_match("*alice*bob", arn));
        assert!(!wildcard_match("arn:aws:*:x", "arn:aws:x"));
    }

    #[test]
    fn role_maps_are_checked() {
        let ok = parse_role_map(
            "AWS_MCP_CALLER_ROLE_MAP",
            r#"[{"caller": "arn:aws:iam::1:user/*", "role": "arn:aws:iam::1:role/team/Reader"}]"#,
        )
        .expect("valid");
        assert_eq!(ok[0].role, "arn:aws:iam::1:role/team/Reader");
        for bad in [
            r#"{"caller": "x"}"#,
            r#"[{"caller": "alice", "role": "arn:aws:iam::1:role/R"}]"#,
            r#"[{"caller": "arn:aws:iam::1:user/a", "role": "arn:aws:iam::1:user/R"}]"#,
            r#"[{"caller": "arn:aws:iam::1:user/a", "role": "arn:aws:iam::1:role/R", "x": 1}]"#,
        ] {
            let err = parse_role_map("AWS_MCP_CALLER_ROLE_MAP", bad).expect_err(bad);
            assert!(err.0.contains("AWS_MCP_CALLER_ROLE_MAP"), "{err}");
        }
    }

    #[test]
    fn session_names_follow_sts_rules() {
        assert_eq!(sts_name("arn:aws:iam::1:user/dev"), "dev");
        assert_eq!(
            sts_name("arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_1/alice@example.com"),
            "alice@example.com"
        );
        assert_eq!(sts_name("arn:aws:sts::1:federated-user/a b!"), "a-b-");
        assert_eq!(sts_name("arn:aws:iam::1:user/x"), "mcp-x");
        assert_eq!(
            sts_name(&format!("arn:aws:iam::1:user/{}", "a".repeat(100))).len(),
            64
        );
    }

    #[test]
    fn assumed_role_arns_split() {
        assert_eq!(
            split_assumed_role("arn:aws:sts::123:assumed-role/Dev/alice/x"),
            Some(("aws", "123", "Dev", "alice/x"))
        );
        assert_eq!(split_assumed_role("arn:aws:iam::123:user/Dev"), None);
        assert_eq!(
            server_role_arn("arn:aws:sts::123:assumed-role/Fn-Role/fn"),
            "arn:aws:iam::123:role/Fn-Role"
        );
    }

    /// A server whose own calls cannot leave the process (role mapping needs none).
    fn roles(map: &str, assume_own_role: bool) -> CallerRoles {
        use aws_engine::execute::{
            HttpRequest, HttpResponse, HttpSender, StaticCredentials, TransportError,
        };
        struct NoNetwork;
        #[async_trait]
        impl HttpSender for NoNetwork {
            async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
                Err(TransportError::new(
                    aws_engine::execute::TransportPhase::Connect,
                    "no network in unit tests",
                ))
            }
        }
        let keys = SigningKeys {
            access_key: "AKIDSERVER".into(),
            secret_key: "secret".into(),
            session_token: None,
        };
        let own = Executor::new(
            Arc::new(NoNetwork),
            Arc::new(StaticCredentials(keys)),
            Arc::new(|_: &str| None),
        );
        let settings = CallerRoleSettings {
            map: parse_role_map("test map", map).expect("map"),
            assume_own_role,
            server_name: "aws-mcp".into(),
            session_seconds: 3600,
            region: "us-east-1".into(),
        };
        CallerRoles::new(settings, own, Arc::default()).expect("roles")
    }

    fn caller(arn: &str) -> CallerIdentity {
        CallerIdentity {
            kind: mcp_protocol::IdentityKind::Iam,
            arn: Some(arn.into()),
            ..CallerIdentity::local()
        }
    }

    fn refusal(result: Result<String, ToolError>) -> String {
        match result {
            Err(ToolError::Denied(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_first_matching_entry_wins() {
        let r = roles(
            r#"[{"caller": "arn:aws:iam::1:user/alice", "role": "arn:aws:iam::1:role/A"},
                {"caller": "arn:aws:*", "role": "arn:aws:iam::1:role/Everyone"}]"#,
            true,
        );
        let role = |arn: &str| {
            let r = &r;
            let c = caller(arn);
            async move { r.role_for(&c).await.expect("mapped") }
        };
        assert_eq!(
            role("arn:aws:iam::1:user/alice").await,
            "arn:aws:iam::1:role/A"
        );
        assert_eq!(
            role("arn:aws:iam::1:user/bob").await,
            "arn:aws:iam::1:role/Everyone"
        );
        // A mapped assumed-role caller uses the map, not its own role.
        assert_eq!(
            role("arn:aws:sts::1:assumed-role/Dev/x").await,
            "arn:aws:iam::1:role/Everyone"
        );
    }

    #[tokio::test]
    async fn callers_that_map_to_nothing_are_refused_with_the_fix() {
        let r = roles("[]", true);
        let user = refusal(r.role_for(&caller("arn:aws:iam::1:user/carol")).await);
        assert!(user.contains("arn:aws:iam::1:user/carol"), "{user}");
        assert!(user.contains("AWS_MCP_CALLER_ROLE_MAP"), "{user}");
        let sso = refusal(
            r.role_for(&caller(
                "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0a/gina",
            ))
            .await,
        );
        assert!(sso.contains("Identity Center"), "{sso}");
        let nobody = refusal(r.role_for(&CallerIdentity::local()).await);
        assert!(nobody.contains("IAM caller"), "{nobody}");

        let off = roles("[]", false);
        let own = refusal(
            off.role_for(&caller("arn:aws:sts::1:assumed-role/Dev/x"))
                .await,
        );
        assert!(own.contains("AWS_MCP_ASSUME_CALLER_ROLE=false"), "{own}");
    }

    #[tokio::test]
    async fn own_role_lookups_that_fail_say_what_is_missing() {
        let r = roles("[]", true);
        let message = refusal(
            r.role_for(&caller("arn:aws:sts::1:assumed-role/Dev/x"))
                .await,
        );
        assert!(message.contains("iam:GetRole"), "{message}");
    }

    #[test]
    fn assume_role_requests_carry_the_callers_marks() {
        let r = roles("[]", true);
        let p = r.assume_role_params("arn:aws:iam::1:user/alice", "arn:aws:iam::1:role/R");
        assert_eq!(p["RoleSessionName"], "alice");
        assert_eq!(p["SourceIdentity"], "alice");
        assert_eq!(
            p["Tags"][0],
            json!({"Key": "ViaAWSMCPService", "Value": "true"})
        );
        assert_eq!(p["Tags"][2]["Value"], "arn:aws:iam::1:user/alice");
        assert_eq!(
            p["TransitiveTagKeys"],
            json!(["ViaAWSMCPService", "CalledViaAWSMCP"])
        );
        // No protected resources: no session policy to send.
        assert!(!p.contains_key("Policy"));
    }

    #[test]
    fn the_session_policy_denies_the_server_and_fits_sts() {
        let protected = ProtectedResources::new(vec![
            "arn:aws:s3:::stack-staging".into(),
            "arn:aws:s3:::stack-staging/*".into(),
        ]);
        let policy = session_policy(&protected).expect("fits").expect("some");
        let doc: Value = serde_json::from_str(&policy).expect("json");
        assert_eq!(doc["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            doc["Statement"][1]["Resource"][1],
            "arn:aws:s3:::stack-staging/*"
        );
        let long = ProtectedResources::new(
            (0..60)
                .map(|i| format!("arn:aws:s3:::bucket-with-a-long-name-{i}"))
                .collect(),
        );
        assert!(session_policy(&long).is_err());
        assert!(
            session_policy(&ProtectedResources::default())
                .expect("ok")
                .is_none()
        );
    }
}
