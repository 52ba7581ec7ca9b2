//! The policy gate every API call passes: the deny list, read-only mode and the consent
//! list (see `docs/policy.md`). Consent is asked through a [`ConsentAsker`] (MCP
//! elicitation where the client offers it); without one the call is refused with the reason
//! and the setting that would allow it.

use std::sync::Arc;

use async_trait::async_trait;
use aws_engine::policy::{Decision, Policy};
use aws_engine::{CallGate, GateCall};

/// Asks the user whether a call may go ahead.
#[async_trait]
pub trait ConsentAsker: Send + Sync {
    /// `None` when the client cannot be asked.
    async fn ask(&self, message: &str) -> Option<bool>;
}

pub struct PolicyGate {
    pub policy: Policy,
    pub consent: Option<Arc<dyn ConsentAsker>>,
}

impl PolicyGate {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            consent: None,
        }
    }

    /// The same policy, asking `consent` for the calls that need it.
    pub fn with_consent(&self, consent: Arc<dyn ConsentAsker>) -> Self {
        Self {
            policy: self.policy.clone(),
            consent: Some(consent),
        }
    }
}

#[async_trait]
impl CallGate for PolicyGate {
    async fn admit(&self, call: &GateCall<'_>) -> Result<(), String> {
        let decision = self.policy.check(call);
        match decision {
            Decision::Allow => Ok(()),
            Decision::Deny(why) => Err(why),
            Decision::NeedsConsent(why) => {
                let question = format!(
                    "Allow this AWS call? aws {} {} ({} {} in {}). {why}",
                    call.cli_service, call.cli_operation, call.service, call.operation, call.region
                );
                match &self.consent {
                    Some(asker) => match asker.ask(&question).await {
                        Some(true) => Ok(()),
                        Some(false) => Err(format!("the user declined: {why}")),
                        None => Err(no_consent_channel(&why)),
                    },
                    None => Err(no_consent_channel(&why)),
                }
            }
        }
    }
}

/// Asks through MCP elicitation: a yes/no form the client shows to its user.
pub struct PeerConsent(pub Arc<dyn mcp_protocol::ClientPeer>);

#[async_trait]
impl ConsentAsker for PeerConsent {
    async fn ask(&self, message: &str) -> Option<bool> {
        if !self.0.can_elicit() {
            return None;
        }
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"allow": {"type": "boolean", "title": "Allow this AWS call"}},
            "required": ["allow"]
        });
        match self.0.elicit(message, schema).await {
            Ok(answer) => Some(
                answer.action == "accept"
                    && answer
                        .content
                        .as_ref()
                        .and_then(|c| c.get("allow"))
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(false),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "consent could not be asked");
                None
            }
        }
    }
}

fn no_consent_channel(why: &str) -> String {
    format!(
        "{why} This client cannot be asked for consent (it does not support MCP elicitation), so the call was not made; ask the user, and if they agree the server's operator can allow it without asking: remove the matching entry from the consent list (AWS_MCP_CONSENT or consentList in AWS_MCP_POLICY_FILE), turn off AWS_MCP_REQUIRE_MUTATION_CONSENT, or for secret values set AWS_MCP_SECRET_READ_CONSENT=false."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Answer(Option<bool>);

    #[async_trait]
    impl ConsentAsker for Answer {
        async fn ask(&self, _message: &str) -> Option<bool> {
            self.0
        }
    }

    fn call<'a>(op: &'a str, api: &'a str) -> GateCall<'a> {
        GateCall {
            cli_service: "s3api",
            cli_operation: op,
            service: "s3",
            operation: api,
            region: "us-east-1",
            params: None,
        }
    }

    #[tokio::test]
    async fn read_only_mode_refuses_writes_and_admits_reads() {
        let gate = PolicyGate::new(Policy {
            read_only: true,
            ..Policy::default()
        });
        assert!(
            gate.admit(&call("list-buckets", "ListBuckets"))
                .await
                .is_ok()
        );
        let refused = gate
            .admit(&call("delete-bucket", "DeleteBucket"))
            .await
            .expect_err("refused");
        assert!(refused.contains("read-only"), "{refused}");
    }

    #[tokio::test]
    async fn consent_is_asked_and_respected() {
        let policy = Policy {
            require_mutation_consent: true,
            ..Policy::default()
        };
        let gate = PolicyGate::new(policy);
        let no_channel = gate
            .admit(&call("delete-bucket", "DeleteBucket"))
            .await
            .expect_err("no channel");
        assert!(no_channel.contains("elicitation"), "{no_channel}");
        let yes = gate.with_consent(Arc::new(Answer(Some(true))));
        assert!(
            yes.admit(&call("delete-bucket", "DeleteBucket"))
                .await
                .is_ok()
        );
        let no = gate.with_consent(Arc::new(Answer(Some(false))));
        assert!(
            no.admit(&call("delete-bucket", "DeleteBucket"))
                .await
                .is_err()
        );
        assert!(no.admit(&call("list-buckets", "ListBuckets")).await.is_ok());
    }

    /// A secret read without a way to ask says how the operator allows it; the input
    /// decides whether an ssm read is one.
    #[tokio::test]
    async fn secret_reads_without_a_consent_channel_say_how_to_allow_them() {
        let gate = PolicyGate::new(Policy {
            secret_read_consent: true,
            ..Policy::default()
        });
        let decrypt = serde_json::json!({"Name": "p", "WithDecryption": true});
        let plain = serde_json::json!({"Name": "p", "WithDecryption": false});
        let get_parameter = |params| GateCall {
            cli_service: "ssm",
            cli_operation: "get-parameter",
            service: "ssm",
            operation: "GetParameter",
            region: "us-east-1",
            params,
        };
        let refused = gate
            .admit(&get_parameter(decrypt.as_object()))
            .await
            .expect_err("needs consent");
        assert!(
            refused.contains("elicitation")
                && refused.contains("AWS_MCP_SECRET_READ_CONSENT=false"),
            "{refused}"
        );
        assert!(gate.admit(&get_parameter(plain.as_object())).await.is_ok());
        let yes = gate.with_consent(Arc::new(Answer(Some(true))));
        assert!(yes.admit(&get_parameter(decrypt.as_object())).await.is_ok());
    }
}
