//! The send path against a scripted backend: throttling, 5xx answers and dropped connections
//! are retried with backoff (on tokio's paused clock, so no test waits), other errors are not,
//! `Retry-After` is honoured, and checksums go out with the request and are checked on the
//! answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_engine::execute::{
    CallAnswer, CallError, CallTarget, Executor, HttpRequest, HttpResponse, HttpSender,
    RetryPolicy, StaticCredentials, TransportError, TransportPhase,
};
use aws_engine::sign::SigningKeys;
use serde_json::{Map, Value, json};

type Scripted = Result<HttpResponse, TransportError>;

/// Answers each request with the next scripted outcome and keeps what it was sent.
struct Backend {
    script: Mutex<VecDeque<Scripted>>,
    sent: Mutex<Vec<HttpRequest>>,
}

impl Backend {
    fn new(script: Vec<Scripted>) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script.into()),
            sent: Mutex::new(Vec::new()),
        })
    }

    fn sent(&self) -> Vec<HttpRequest> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl HttpSender for Backend {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(request);
        }
        let next = self.script.lock().ok().and_then(|mut s| s.pop_front());
        next.unwrap_or_else(|| Err(TransportError::new(TransportPhase::Other, "script ended")))
    }
}

fn answer(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Scripted {
    Ok(HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_vec(),
    })
}

fn dynamodb_error(status: u16, code: &str) -> Scripted {
    let body =
        json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": code});
    answer(
        status,
        &[("content-type", "application/x-amz-json-1.0")],
        body.to_string().as_bytes(),
    )
}

fn tables() -> Scripted {
    answer(
        200,
        &[("content-type", "application/x-amz-json-1.0")],
        br#"{"TableNames":["orders"]}"#,
    )
}

fn reset() -> Scripted {
    Err(TransportError::new(
        TransportPhase::Closed,
        "connection reset by peer",
    ))
}

fn executor(backend: Arc<Backend>, max_attempts: u32) -> Executor {
    let keys = SigningKeys {
        access_key: "AKIDEXAMPLE".into(),
        secret_key: "secret".into(),
        session_token: None,
    };
    Executor::new(
        backend,
        Arc::new(StaticCredentials(keys)),
        Arc::new(|_: &str| None),
    )
    .with_retry(RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(20),
    })
}

async fn call(
    executor: &Executor,
    service: &str,
    operation: &str,
    params: Value,
) -> Result<CallAnswer, CallError> {
    let model = aws_models::models().service(service).expect("model");
    let op = model.operation(operation).expect("operation");
    let params: Map<String, Value> = serde_json::from_value(params).expect("object");
    let target = CallTarget {
        region: "us-west-2",
        endpoint_url: None,
    };
    executor.call(&model, op, &params, &target).await
}

/// DynamoDB `ListTables` against `backend`, with at most `max_attempts` attempts.
async fn list_tables(backend: &Arc<Backend>, max_attempts: u32) -> Result<CallAnswer, CallError> {
    call(
        &executor(backend.clone(), max_attempts),
        "dynamodb",
        "ListTables",
        json!({}),
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn throttling_5xx_and_resets_are_retried_until_an_answer() {
    let backend = Backend::new(vec![
        dynamodb_error(400, "ThrottlingException"),
        dynamodb_error(500, "InternalServerError"),
        reset(),
        tables(),
    ]);
    let started = tokio::time::Instant::now();
    let answer = list_tables(&backend, 4)
        .await
        .expect("the fourth attempt answers");
    assert_eq!(answer.attempts, 4);
    assert_eq!(answer.output["TableNames"], json!(["orders"]));
    assert_eq!(backend.sent().len(), 4);
    // Three pauses, each at most the capped exponential delay: 200, 400 and 800 ms.
    assert!(
        started.elapsed() <= Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn other_errors_are_answered_at_once() {
    let backend = Backend::new(vec![dynamodb_error(400, "AccessDeniedException"), tables()]);
    let err = list_tables(&backend, 3).await.expect_err("access denied");
    match err {
        CallError::Service(e) => assert_eq!(e.code, "AccessDeniedException"),
        other => panic!("expected a service error, got {other:?}"),
    }
    assert_eq!(backend.sent().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_last_error_stands_when_attempts_run_out() {
    let backend = Backend::new(
        (0..5)
            .map(|_| dynamodb_error(503, "ServiceUnavailable"))
            .collect(),
    );
    let err = list_tables(&backend, 3).await.expect_err("unavailable");
    assert!(
        matches!(&err, CallError::Service(e) if e.status == 503),
        "{err:?}"
    );
    assert_eq!(backend.sent().len(), 3);

    let backend = Backend::new(vec![reset(), reset(), reset()]);
    let err = list_tables(&backend, 3).await.expect_err("reset");
    let text = err.to_string();
    assert!(
        text.contains("Connection was closed") && text.contains("after 3 attempt(s)"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_sets_the_pause() {
    let mut throttled = dynamodb_error(400, "ThrottlingException").expect("scripted");
    throttled.headers.push(("Retry-After".into(), "7".into()));
    let backend = Backend::new(vec![Ok(throttled), tables()]);
    let started = tokio::time::Instant::now();
    list_tables(&backend, 3)
        .await
        .expect("answered after the pause");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn checksums_go_out_and_corrupt_answers_are_refused() {
    let backend = Backend::new(vec![answer(200, &[("ETag", "\"e\"")], b"")]);
    call(
        &executor(backend.clone(), 1),
        "s3",
        "PutObject",
        json!({"Bucket": "b", "Key": "k", "Body": "hello world", "ChecksumAlgorithm": "SHA256"}),
    )
    .await
    .expect("stored");
    let sent = backend.sent();
    let header = |name: &str| {
        sent[0]
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("x-amz-checksum-sha256").as_deref(),
        Some("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
    );

    let object = |crc: &str| {
        answer(
            200,
            &[("x-amz-checksum-crc32", crc), ("content-length", "11")],
            b"hello world",
        )
    };
    let get = json!({"Bucket": "b", "Key": "k"});
    let backend = Backend::new(vec![object("DUoRhQ==")]);
    let ok = call(
        &executor(backend.clone(), 1),
        "s3",
        "GetObject",
        get.clone(),
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    let asked = backend.sent()[0]
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("x-amz-checksum-mode") && v == "ENABLED");
    assert!(asked, "GetObject asks for the object's checksum");
    let backend = Backend::new(vec![object("AAAAAA==")]);
    let err = call(&executor(backend, 1), "s3", "GetObject", get)
        .await
        .expect_err("corrupt body");
    assert!(
        err.to_string()
            .contains("did not match calculated checksum"),
        "{err}"
    );
}
