//! The deployed server's own resources (its state table, staging bucket, functions, log
//! groups and internal key), which no request made for a caller may name.
//!
//! The session policy of every assumed caller role denies these ARNs in AWS; this guard
//! refuses the same requests before they are signed, so a caller learns why at once and a
//! server running with its own role (`AWS_MCP_ACT_AS=function`) still cannot be turned on
//! itself.

use std::borrow::Cow;

/// Resources a request must not name, matched in its decoded URL and its body.
#[derive(Debug, Clone, Default)]
pub struct ProtectedResources {
    arns: Vec<String>,
    /// Every ARN and the resource name inside it, the text a request would carry.
    needles: Vec<String>,
}

/// A request that names a protected resource.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "refused: the request names {found}, one of this server's own resources; calls made for a caller may not reach the server's state table, staging bucket, functions, log groups or internal key"
)]
pub struct ProtectedResourceError {
    pub found: String,
}

impl ProtectedResources {
    /// From ARNs as the stack lists them (`arn:aws:s3:::bucket/*`, a trailing `*` for
    /// prefixes such as log groups).
    pub fn new(arns: Vec<String>) -> Self {
        let mut needles: Vec<String> = Vec::new();
        for arn in &arns {
            for needle in [stem(arn), resource_name(arn)].into_iter().flatten() {
                // Very short names would match unrelated text; the stack's names are long.
                if needle.len() >= 3 && !needles.contains(&needle) {
                    needles.push(needle);
                }
            }
        }
        Self { arns, needles }
    }

    pub fn is_empty(&self) -> bool {
        self.arns.is_empty()
    }

    /// The ARNs, for the session policy.
    pub fn arns(&self) -> &[String] {
        &self.arns
    }

    /// Refuses a request whose URL or body names a protected resource.
    pub fn check_request(&self, url: &str, body: &[u8]) -> Result<(), ProtectedResourceError> {
        let decoded_url = percent_encoding::percent_decode_str(url).decode_utf8_lossy();
        let body = String::from_utf8_lossy(body);
        let decoded_body: Cow<'_, str> = if body.contains('%') {
            percent_encoding::percent_decode_str(&body).decode_utf8_lossy()
        } else {
            Cow::Borrowed(&body)
        };
        self.check_texts(&[&decoded_url, &body, &decoded_body])
    }

    /// Refuses a bucket/key pair (pre-signed URLs) inside a protected bucket.
    pub fn check_object(&self, bucket: &str, key: &str) -> Result<(), ProtectedResourceError> {
        let arn = format!("arn:aws:s3:::{bucket}/{key}");
        self.check_texts(&[bucket, &arn])
    }

    fn check_texts(&self, texts: &[&str]) -> Result<(), ProtectedResourceError> {
        for needle in &self.needles {
            if texts.iter().any(|t| t.contains(needle.as_str())) {
                return Err(ProtectedResourceError {
                    found: needle.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The ARN without a trailing wildcard.
fn stem(arn: &str) -> Option<String> {
    let s = arn.trim_end_matches('*').trim_end_matches(['/', ':', '-']);
    (!s.is_empty()).then(|| s.to_owned())
}

/// The name a request carries for an ARN: `bucket` for `arn:aws:s3:::bucket/*`, the
/// function name, the table name, the secret's name, the log group prefix.
fn resource_name(arn: &str) -> Option<String> {
    let mut fields = arn.splitn(6, ':');
    let (_, _, service) = (fields.next()?, fields.next()?, fields.next()?);
    let resource = fields.nth(2)?;
    let resource = resource.trim_end_matches('*');
    let name = match service {
        "s3" => resource.split('/').next()?,
        "dynamodb" => resource.strip_prefix("table/")?.split('/').next()?,
        "lambda" => resource.strip_prefix("function:")?.split(':').next()?,
        "secretsmanager" => resource.strip_prefix("secret:")?,
        "logs" => resource
            .strip_prefix("log-group:")?
            .trim_end_matches(":log-stream:")
            .trim_end_matches(':'),
        _ => resource.rsplit(['/', ':']).next()?,
    };
    let name = name.trim_end_matches(['-', '/', ':']);
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> ProtectedResources {
        ProtectedResources::new(vec![
            "arn:aws:dynamodb:us-east-1:123456789012:table/mcp-stack-state".into(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/mcp-stack-state/*".into(),
            "arn:aws:s3:::mcp-stack-staging-abc".into(),
            "arn:aws:s3:::mcp-stack-staging-abc/*".into(),
            "arn:aws:lambda:us-east-1:123456789012:function:mcp-stack-api".into(),
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/mcp-stack-*".into(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:mcp-stack-internal-key-*".into(),
        ])
    }

    #[test]
    fn names_inside_urls_and_bodies_are_found() {
        let g = stack();
        let refused = [
            (
                "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/mcp-stack-api/invocations",
                "",
            ),
            (
                "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amcp-stack-api/invocations",
                "",
            ),
            (
                "https://dynamodb.us-east-1.amazonaws.com/",
                r#"{"TableName":"mcp-stack-state"}"#,
            ),
            (
                "https://mcp-stack-staging-abc.s3.us-east-1.amazonaws.com/k",
                "",
            ),
            (
                "https://logs.us-east-1.amazonaws.com/",
                r#"{"logGroupName":"/aws/lambda/mcp-stack-api"}"#,
            ),
            (
                "https://secretsmanager.us-east-1.amazonaws.com/",
                r#"{"SecretId":"mcp-stack-internal-key"}"#,
            ),
            (
                "https://sqs.us-east-1.amazonaws.com/",
                "Action=X&Arn=arn%3Aaws%3As3%3A%3A%3Amcp-stack-staging-abc",
            ),
        ];
        for (url, body) in refused {
            let err = g.check_request(url, body.as_bytes()).expect_err(url);
            assert!(err.to_string().contains("own resources"), "{err}");
        }
    }

    #[test]
    fn other_resources_pass() {
        let g = stack();
        for (url, body) in [
            (
                "https://dynamodb.us-east-1.amazonaws.com/",
                r#"{"TableName":"orders"}"#,
            ),
            ("https://my-bucket.s3.us-east-1.amazonaws.com/key", ""),
            (
                "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/other-api/invocations",
                "",
            ),
        ] {
            g.check_request(url, body.as_bytes()).expect(url);
        }
        g.check_object("my-bucket", "mcp-stack")
            .expect("other bucket");
        g.check_object("mcp-stack-staging-abc", "x")
            .expect_err("staging bucket");
    }

    #[test]
    fn an_empty_list_refuses_nothing() {
        let g = ProtectedResources::new(vec![]);
        assert!(g.is_empty());
        g.check_request("https://x/", b"anything").expect("empty");
    }
}
