//! The Lambda adapter with real Function URL events (kept in `tests/data/`).

use lambda_http::Body;
use mcp_server::settings::UnauthenticatedPolicy;
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
    (App::build(settings, Mode::Lambda).await.expect("app"), dir)
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
