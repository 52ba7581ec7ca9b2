//! The Lambda adapter with real Function URL events (kept in `tests/data/`).

use lambda_http::Body;
use std::sync::Arc;

use mcp_server::internal::{EventKind, InternalKey};
use mcp_server::settings::{ActAs, UnauthenticatedPolicy};
use mcp_server::{App, GroupName, Mode, Settings};
use serde_json::Value;

const INITIALIZE: &str = include_str!("data/function_url_initialize.json");

async fn build_app(unauthenticated: UnauthenticatedPolicy) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings =
        Settings::from_env(Mode::Lambda, vec![GroupName::Knowledge]).expect("settings");
    settings.state_table = None;
    settings.state_dir = dir.path().to_owned();
    settings.unauthenticated = unauthenticated;
    (
        App::build(settings, Mode::Lambda, &mcp_server::groups::EVERY_GROUP)
            .await
            .expect("app"),
        dir,
    )
}

fn json(body: &Body) -> Value {
    match body {
        Body::Text(t) => serde_json::from_str(t).expect("json"),
        other => panic!("unexpected body {other:?}"),
    }
}

#[tokio::test]
async fn signed_function_url_request_opens_a_session() {
    let (app, _dir) = build_app(UnauthenticatedPolicy::Refuse).await;
    let request = lambda_http::request::from_str(INITIALIZE).expect("event");
    let response = mcp_server::lambda::handle(&app, request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["mcp-session-id"].len(), 64);
    assert_eq!(
        json(response.body())["result"]["protocolVersion"],
        "2025-11-25"
    );
}

#[tokio::test]
async fn request_without_iam_identity_is_refused_unless_allowed() {
    let unsigned = INITIALIZE.replacen("\"authorizer\"", "\"unused\"", 1);
    let (app, _dir) = build_app(UnauthenticatedPolicy::Refuse).await;
    let response = mcp_server::lambda::handle(
        &app,
        lambda_http::request::from_str(&unsigned).expect("event"),
    )
    .await;
    assert_eq!(response.status(), 403);
    assert!(
        json(response.body())["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("AWS_IAM")
    );

    let (app, _dir) = build_app(UnauthenticatedPolicy::Local).await;
    let response = mcp_server::lambda::handle(
        &app,
        lambda_http::request::from_str(&unsigned).expect("event"),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn paths_other_than_the_mcp_endpoint_are_not_found() {
    let (app, _dir) = build_app(UnauthenticatedPolicy::Refuse).await;
    let other = INITIALIZE.replace("\"/mcp\"", "\"/admin\"");
    let response =
        mcp_server::lambda::handle(&app, lambda_http::request::from_str(&other).expect("event"))
            .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn raw_function_url_events_get_function_url_response_documents() {
    let (app, _dir) = build_app(UnauthenticatedPolicy::Refuse).await;
    let event: Value = serde_json::from_str(INITIALIZE).expect("event json");
    let answer = mcp_server::lambda::dispatch_event(&app, event)
        .await
        .expect("served");
    assert_eq!(answer["statusCode"], 200);
    assert_eq!(answer["isBase64Encoded"], false);
    assert_eq!(
        answer["headers"]["mcp-session-id"].as_str().map(str::len),
        Some(64)
    );
    let body: Value = serde_json::from_str(answer["body"].as_str().expect("body")).expect("json");
    assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn task_events_run_the_job_and_store_its_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::from_env(Mode::Lambda, vec![GroupName::Api]).expect("settings");
    settings.state_table = None;
    settings.state_dir = dir.path().to_owned();
    // The job's own help command needs no role; acting as callers is tried end to end.
    settings.deployed.act_as = ActAs::Function;
    let mut app = App::build(settings, Mode::Lambda, &mcp_server::groups::EVERY_GROUP)
        .await
        .expect("app");
    app.internal = Arc::new(InternalKey::fixed(b"a per-stack key for this test only"));
    let store = app.api.as_ref().expect("api context").tasks.store.clone();
    let task = store
        .create(
            "arn:aws:iam::123456789012:user/dev",
            "call_aws",
            "aws dynamodb get-item help",
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("task");
    let job = serde_json::json!({
        "task_id": task.task_id,
        "owner": "arn:aws:iam::123456789012:user/dev",
        "tool": "call_aws",
        "arguments": {"cli_command": "aws dynamodb get-item help"},
        "region": "eu-west-1",
    });
    // Unsealed, or sealed under another key, the same job is refused and left alone.
    let unsealed = serde_json::json!({"aws_mcp_task": job});
    assert!(
        mcp_server::lambda::dispatch_event(&app, unsealed)
            .await
            .is_err()
    );
    let forged = InternalKey::fixed(b"a key somebody guessed at")
        .seal(EventKind::Task, &job)
        .await
        .expect("seal");
    assert!(
        mcp_server::lambda::dispatch_event(&app, forged)
            .await
            .is_err()
    );
    let pending = store
        .get("arn:aws:iam::123456789012:user/dev", &task.task_id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(pending.status, mcp_state::TaskStatus::Working);

    let event = app
        .internal
        .seal(EventKind::Task, &job)
        .await
        .expect("seal");
    mcp_server::lambda::dispatch_event(&app, event)
        .await
        .expect("job ran");
    let done = store
        .get("arn:aws:iam::123456789012:user/dev", &task.task_id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(done.status, mcp_state::TaskStatus::Completed);
    let result = done.result.expect("result");
    assert_eq!(result["results"][0]["status"], "success");
    assert!(
        result["results"][0]["output"]
            .as_str()
            .expect("help text")
            .contains("--table-name")
    );
    // Someone else's id is not found.
    assert!(
        store
            .get("arn:aws:iam::123456789012:user/other", &task.task_id)
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn events_that_are_neither_requests_nor_tasks_are_refused() {
    let (app, _dir) = build_app(UnauthenticatedPolicy::Refuse).await;
    let outcome = mcp_server::lambda::dispatch_event(&app, serde_json::json!({"hello": 1})).await;
    assert!(outcome.is_err());
}

#[tokio::test]
async fn a_function_serves_only_the_group_its_program_carries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::from_env(Mode::Lambda, vec![GroupName::Api]).expect("settings");
    settings.state_table = None;
    settings.state_dir = dir.path().to_owned();
    settings.deployed.act_as = ActAs::Function;
    let refused = App::build(
        settings.clone(),
        Mode::Lambda,
        &[&mcp_server::groups::Presign],
    )
    .await
    .err()
    .expect("a program without the api group cannot serve it");
    assert_eq!(
        refused.to_string(),
        "this program does not serve the api group"
    );

    // The presign function's program lists its own tool and runs no handed-over tasks.
    settings.groups = vec![GroupName::Presign];
    let app = App::build(settings, Mode::Lambda, &[&mcp_server::groups::Presign])
        .await
        .expect("app");
    assert_eq!(
        app.server.registry().names(),
        vec!["aws___get_presigned_url"]
    );
    assert!(app.jobs.is_none());
}
