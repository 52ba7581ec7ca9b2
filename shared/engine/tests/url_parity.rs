//! Request URLs for real AWS endpoints, compared with botocore's own.
//!
//! `data/url_oracle.json` (from `infra/scripts/generate_url_oracle.py`) holds, for each case, the
//! URL a full botocore client sent the request to: S3 virtual-hosted, path-style and access
//! point addressing, host prefixes, global services, other partitions, FIPS and dual-stack. Each
//! case runs here through the engine's own call path up to the wire (a sender that records the
//! request and sends nothing), and the two URLs, and the two signatures' credential scopes
//! (signing Region and name), must be equal.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_engine::execute::{
    CallTarget, Executor, HttpRequest, HttpResponse, HttpSender, RetryPolicy, StaticCredentials,
    TransportError, TransportPhase,
};
use aws_engine::sign::SigningKeys;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Deserialize)]
struct Oracle {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    service: String,
    operation: String,
    params: Map<String, Value>,
    region: String,
    settings: Map<String, Value>,
    url: Option<String>,
    scope: Option<String>,
    error: Option<String>,
}

/// Records the request and answers with a connection failure, so nothing leaves the process.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<HttpRequest>>,
}

#[async_trait]
impl HttpSender for Recorder {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(request);
        }
        Err(TransportError::new(
            TransportPhase::Connect,
            "recorded, not sent",
        ))
    }
}

fn oracle() -> Oracle {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/url_oracle.json");
    let text = std::fs::read_to_string(path).expect("url oracle");
    serde_json::from_str(&text).expect("url oracle is JSON")
}

/// `<region>/<service>` of the request's SigV4 credential scope.
fn signing_scope(request: &HttpRequest) -> String {
    let authorization = request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let credential = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split(',').next())
        .unwrap_or_default();
    let parts: Vec<&str> = credential.split('/').collect();
    match parts[..] {
        [_, _, region, service, _] => format!("{region}/{service}"),
        _ => format!("no credential scope in {authorization:?}"),
    }
}

/// What the engine sends for one case: `Ok((url, scope))`, or the error it refused with.
async fn engine_request(case: &Case) -> Result<(String, String), String> {
    let settings: Vec<(String, String)> = case
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let env = Arc::new(move |key: &str| {
        settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    });
    let recorder = Arc::new(Recorder::default());
    let keys = SigningKeys {
        access_key: "AKIDEXAMPLE".into(),
        secret_key: "secret".into(),
        session_token: None,
    };
    let executor = Executor::new(recorder.clone(), Arc::new(StaticCredentials(keys)), env)
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    let model = aws_models::models()
        .service(&case.service)
        .map_err(|e| e.to_string())?;
    let operation = model
        .operation(&case.operation)
        .ok_or_else(|| format!("no operation {}", case.operation))?;
    let target = CallTarget {
        region: &case.region,
        endpoint_url: None,
    };
    let outcome = executor
        .call(&model, operation, &case.params, &target)
        .await;
    let sent = recorder
        .sent
        .lock()
        .ok()
        .and_then(|sent| sent.first().map(|r| (r.url.clone(), signing_scope(r))));
    match (sent, outcome) {
        (Some(request), _) => Ok(request),
        (None, Err(e)) => Err(e.to_string()),
        (None, Ok(_)) => Err("answered without sending".into()),
    }
}

#[tokio::test]
async fn request_urls_match_botocore_for_real_endpoints() {
    let oracle = oracle();
    assert!(oracle.cases.len() >= 40, "the oracle lost its cases");
    let mut differences = Vec::new();
    for case in &oracle.cases {
        let ours = engine_request(case).await;
        let expected_scope = case.scope.clone().unwrap_or_default();
        let same = match (&case.url, &case.error, &ours) {
            (Some(url), _, Ok((got_url, got_scope))) => {
                url == got_url && &expected_scope == got_scope
            }
            (None, Some(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            let expected = match (&case.url, &case.error) {
                (Some(url), _) => format!("{url} (signed for {expected_scope})"),
                (None, error) => error.clone().unwrap_or_default(),
            };
            let got = match ours {
                Ok((url, scope)) => format!("{url} (signed for {scope})"),
                Err(e) => format!("error: {e}"),
            };
            differences.push(format!(
                "{}\n    botocore: {expected}\n    engine:   {got}",
                case.name
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} cases differ from botocore:\n{}",
        differences.len(),
        oracle.cases.len(),
        differences.join("\n")
    );
}
