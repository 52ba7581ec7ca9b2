//! Caller identity: from a Function URL request's IAM authorizer context, or, locally, from
//! the local credentials through STS `GetCallerIdentity`, looked up only when a tool asks.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use lambda_http::request::RequestContext;
use mcp_protocol::{CallerIdentity, IdentityKind, IdentitySource};
use tokio::sync::OnceCell;

use crate::aws::SharedSdkConfig;

/// The identity a Function URL request with `AWS_IAM` auth was signed with, if any.
pub fn from_request_context(ctx: &RequestContext) -> Option<CallerIdentity> {
    #[allow(irrefutable_let_patterns)]
    let RequestContext::ApiGatewayV2(ctx) = ctx else {
        return None;
    };
    let iam = ctx.authorizer.as_ref()?.iam.as_ref()?;
    iam.account_id.as_ref()?;
    Some(CallerIdentity {
        kind: IdentityKind::Iam,
        account_id: iam.account_id.clone(),
        arn: iam.user_arn.clone(),
        user_id: iam.user_id.clone(),
        caller_id: iam.caller_id.clone(),
        source_ip: ctx.http.source_ip.clone(),
    })
}

/// The local user's identity: `local` until looked up. The lookup starts in the background
/// the first time the identity is read (after the first request, never at start-up), and a
/// tool that needs AWS can wait for it with [`IdentitySource::resolve`].
pub struct LocalIdentity {
    inner: Arc<LocalInner>,
}

struct LocalInner {
    config: SharedSdkConfig,
    resolved: OnceCell<CallerIdentity>,
    started: std::sync::atomic::AtomicBool,
}

impl LocalInner {
    async fn resolve(&self) -> CallerIdentity {
        self.resolved
            .get_or_init(|| async {
                let config = self.config.get().await;
                LocalIdentity::lookup(&config).await
            })
            .await
            .clone()
    }
}

impl LocalIdentity {
    pub fn new(config: SharedSdkConfig) -> Self {
        Self {
            inner: Arc::new(LocalInner {
                config,
                resolved: OnceCell::new(),
                started: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    async fn lookup(config: &SdkConfig) -> CallerIdentity {
        let client = aws_sdk_sts::Client::new(config);
        let call = client.get_caller_identity().send();
        match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(out)) => CallerIdentity {
                kind: IdentityKind::LocalCredentials,
                account_id: out.account,
                arn: out.arn,
                user_id: out.user_id,
                caller_id: None,
                source_ip: None,
            },
            Ok(Err(e)) => {
                tracing::info!(error = %aws_sdk_sts::error::DisplayErrorContext(&e), "no usable local credentials; identity is 'local'");
                CallerIdentity::local()
            }
            Err(_) => {
                tracing::info!("credential lookup timed out; identity is 'local'");
                CallerIdentity::local()
            }
        }
    }

    fn start_background_lookup(&self) {
        use std::sync::atomic::Ordering;
        if self.inner.started.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let inner = self.inner.clone();
            runtime.spawn(async move {
                inner.resolve().await;
            });
        }
    }
}

#[async_trait]
impl IdentitySource for LocalIdentity {
    fn snapshot(&self) -> CallerIdentity {
        match self.inner.resolved.get() {
            Some(id) => id.clone(),
            None => {
                self.start_background_lookup();
                CallerIdentity::local()
            }
        }
    }

    async fn resolve(&self) -> CallerIdentity {
        self.inner.resolve().await
    }
}

/// A request's identity that falls back to the shared local one.
pub fn shared(identity: &Arc<LocalIdentity>) -> Arc<dyn IdentitySource> {
    identity.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(with_iam: bool) -> lambda_http::Request {
        let authorizer = if with_iam {
            r#""authorizer": {"iam": {"accessKey": "AKIAEXAMPLE", "accountId": "123456789012", "callerId": "AIDAEXAMPLE", "userArn": "arn:aws:iam::123456789012:user/dev", "userId": "AIDAEXAMPLE"}},"#
        } else {
            ""
        };
        let body = format!(
            r#"{{"version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
            "headers": {{"content-type": "application/json"}},
            "requestContext": {{"accountId": "anonymous", "apiId": "abc", {authorizer}
              "domainName": "abc.lambda-url.us-east-1.on.aws", "domainPrefix": "abc",
              "http": {{"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "test"}},
              "requestId": "r1", "routeKey": "$default", "stage": "$default", "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 1795687200000}},
            "body": "{{}}", "isBase64Encoded": false}}"#
        );
        lambda_http::request::from_str(&body).expect("a Function URL event")
    }

    #[test]
    fn iam_identity_comes_from_the_function_url_authorizer() {
        use lambda_http::RequestExt;
        let req = event(true);
        let id = from_request_context(&req.request_context()).expect("iam identity");
        assert_eq!(id.kind, IdentityKind::Iam);
        assert_eq!(id.account_id.as_deref(), Some("123456789012"));
        assert_eq!(
            id.arn.as_deref(),
            Some("arn:aws:iam::123456789012:user/dev")
        );
        assert_eq!(id.source_ip.as_deref(), Some("203.0.113.9"));

        let req = event(false);
        assert!(from_request_context(&req.request_context()).is_none());
    }
}
