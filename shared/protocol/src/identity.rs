//! Who is calling: the IAM identity a Function URL request was signed with, or the local
//! user's credentials.

use async_trait::async_trait;
use mcp_telemetry::AuditIdentity;

/// How the identity was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// From a SigV4-signed Function URL request (`requestContext.authorizer.iam`).
    Iam,
    /// From the local credentials (STS `GetCallerIdentity`).
    LocalCredentials,
    /// Local, with no credentials found (or not looked up yet).
    Local,
    /// A Lambda request with no IAM identity, admitted by the development setting.
    Unauthenticated,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub kind: IdentityKind,
    pub account_id: Option<String>,
    pub arn: Option<String>,
    pub user_id: Option<String>,
    pub caller_id: Option<String>,
    pub source_ip: Option<String>,
}

impl CallerIdentity {
    /// The local identity before (or without) any credential lookup.
    pub fn local() -> Self {
        Self {
            kind: IdentityKind::Local,
            account_id: None,
            arn: None,
            user_id: None,
            caller_id: None,
            source_ip: None,
        }
    }

    /// The key a session or task is bound to. Local identities share one key, since the
    /// credential lookup may finish after a session was opened.
    pub fn owner_key(&self) -> String {
        match self.kind {
            IdentityKind::Iam => self
                .arn
                .clone()
                .or_else(|| self.user_id.clone())
                .unwrap_or_else(|| "iam:unknown".into()),
            IdentityKind::Unauthenticated => "unauthenticated".into(),
            IdentityKind::Local | IdentityKind::LocalCredentials => "local".into(),
        }
    }

    /// The account the quotas count against.
    pub fn account_key(&self) -> String {
        match self.kind {
            IdentityKind::Iam => self
                .account_id
                .clone()
                .unwrap_or_else(|| "iam:unknown".into()),
            IdentityKind::Unauthenticated => "unauthenticated".into(),
            IdentityKind::Local | IdentityKind::LocalCredentials => "local".into(),
        }
    }

    pub fn to_audit(&self) -> AuditIdentity {
        let kind = match self.kind {
            IdentityKind::Iam | IdentityKind::LocalCredentials => match self.arn.as_deref() {
                Some(arn) if arn.contains(":assumed-role/") => "AssumedRole",
                Some(arn) if arn.ends_with(":root") => "Root",
                Some(arn) if arn.contains(":user/") => "IAMUser",
                Some(arn) if arn.contains(":federated-user/") => "FederatedUser",
                _ => "Unknown",
            },
            IdentityKind::Local => "Local",
            IdentityKind::Unauthenticated => "Unauthenticated",
        };
        AuditIdentity {
            kind: kind.into(),
            principal_id: self.user_id.clone(),
            arn: self.arn.clone(),
            account_id: self.account_id.clone(),
        }
    }
}

/// Supplies the caller's identity to tools, metrics and audit.
#[async_trait]
pub trait IdentitySource: Send + Sync {
    /// What is known now; never waits.
    fn snapshot(&self) -> CallerIdentity;

    /// The full identity; may look it up (tools that need AWS call this).
    async fn resolve(&self) -> CallerIdentity {
        self.snapshot()
    }
}

/// An identity known up front (a Function URL request's authorizer context).
#[derive(Debug, Clone)]
pub struct KnownIdentity(pub CallerIdentity);

#[async_trait]
impl IdentitySource for KnownIdentity {
    fn snapshot(&self) -> CallerIdentity {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_identities_share_one_owner_key() {
        let mut resolved = CallerIdentity::local();
        resolved.kind = IdentityKind::LocalCredentials;
        resolved.arn = Some("arn:aws:iam::123456789012:user/dev".into());
        assert_eq!(resolved.owner_key(), CallerIdentity::local().owner_key());
        assert_eq!(resolved.to_audit().kind, "IAMUser");
    }

    #[test]
    fn iam_identities_are_keyed_by_arn_and_account() {
        let id = CallerIdentity {
            kind: IdentityKind::Iam,
            account_id: Some("123456789012".into()),
            arn: Some("arn:aws:sts::123456789012:assumed-role/dev/s".into()),
            user_id: Some("AROA:s".into()),
            caller_id: None,
            source_ip: None,
        };
        assert_eq!(
            id.owner_key(),
            "arn:aws:sts::123456789012:assumed-role/dev/s"
        );
        assert_eq!(id.account_key(), "123456789012");
        assert_eq!(id.to_audit().kind, "AssumedRole");
    }
}
