//! In-process conformance of the protocol engine: Streamable HTTP exchanges and the stdio
//! loop, driven with a small tool group and the in-memory session store.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use mcp_protocol::{
    CallerIdentity, HttpBody, HttpOptions, IdentityKind, IdentitySource, KnownIdentity, McpServer,
    MemorySessionStore, OriginPolicy, Quotas, ServerConfig, Tool, ToolAnnotations, ToolContext,
    ToolDescriptor, ToolError, ToolGroup, ToolHandler, ToolOutput, ToolRegistry, serve_stdio,
};
use mcp_telemetry::{MemorySink, Telemetry, TelemetryConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

struct Echo;

#[async_trait]
impl ToolHandler for Echo {
    async fn call(&self, ctx: &ToolContext, args: Value) -> Result<ToolOutput, ToolError> {
        match args.get("fail").and_then(Value::as_str) {
            Some("user") => Err(ToolError::InvalidArgument(
                "bad input: use fail=none".into(),
            )),
            Some("system") => Err(ToolError::Internal("broken".into())),
            _ => Ok(ToolOutput::structured(
                json!({"echo": args, "region": ctx.region, "owner": ctx.identity.snapshot().owner_key()}),
            )),
        }
    }
}

struct TestGroup;

impl ToolGroup for TestGroup {
    fn name(&self) -> &'static str {
        "test"
    }
    fn tools(&self) -> Vec<Tool> {
        vec![Tool {
            descriptor: ToolDescriptor {
                name: "echo",
                title: "Echo",
                description: "Echoes its arguments.".into(),
                input_schema: json!({"type": "object"}),
                output_schema: Some(json!({"type": "object"})),
                annotations: ToolAnnotations::READ_ONLY_LOCAL,
            },
            handler: Arc::new(Echo),
        }]
    }
}

fn server(quotas: Quotas) -> (Arc<McpServer>, Arc<MemorySink>) {
    let sink = Arc::new(MemorySink::default());
    let telemetry = Telemetry::new(TelemetryConfig::default(), sink.clone(), vec![sink.clone()]);
    let config = ServerConfig {
        quotas,
        ..ServerConfig::default()
    };
    let registry = ToolRegistry::new().with_group(&TestGroup);
    (
        Arc::new(McpServer::new(
            registry,
            Arc::new(MemorySessionStore::default()),
            telemetry,
            config,
        )),
        sink,
    )
}

fn iam(arn: &str) -> Arc<dyn IdentitySource> {
    Arc::new(KnownIdentity(CallerIdentity {
        kind: IdentityKind::Iam,
        account_id: Some("123456789012".into()),
        arn: Some(arn.into()),
        user_id: Some("AIDA".into()),
        caller_id: None,
        source_ip: None,
    }))
}

fn options() -> HttpOptions {
    HttpOptions {
        origins: OriginPolicy::Any,
        streaming: true,
    }
}

fn post(body: Value, session: Option<&str>) -> Request<Bytes> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(s) = session {
        b = b.header("mcp-session-id", s);
    }
    b.body(Bytes::from(body.to_string())).expect("request")
}

fn body(r: &http::Response<HttpBody>) -> Value {
    serde_json::from_slice(r.body().as_bytes().expect("buffered body")).expect("json body")
}

async fn open(server: &Arc<McpServer>, who: Arc<dyn IdentitySource>) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let r = server.handle_http(post(init, None), who, &options()).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn sessions_are_bound_to_the_caller_that_opened_them() {
    let (server, _) = server(Quotas::default());
    let alice = iam("arn:aws:iam::123456789012:user/alice");
    let bob = iam("arn:aws:iam::123456789012:user/bob");
    let sid = open(&server, alice.clone()).await;
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let r = server
        .handle_http(post(ping.clone(), Some(&sid)), alice, &options())
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Another principal holding the id is told the session does not exist.
    let r = server
        .handle_http(post(ping, Some(&sid)), bob, &options())
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tool_results_errors_and_telemetry() {
    let (server, sink) = server(Quotas::default());
    let who = iam("arn:aws:iam::123456789012:user/alice");
    let sid = open(&server, who.clone()).await;
    let call = |id: i64, args: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "aws___echo", "arguments": args, "_meta": {"AWS_REGION": "eu-west-3"}}})
    };
    let ok = body(
        &server
            .handle_http(
                post(call(2, json!({"x": 1})), Some(&sid)),
                who.clone(),
                &options(),
            )
            .await,
    );
    assert_eq!(ok["result"]["isError"], false);
    assert_eq!(ok["result"]["structuredContent"]["region"], "eu-west-3");
    assert_eq!(
        serde_json::from_str::<Value>(ok["result"]["content"][0]["text"].as_str().expect("text"))
            .expect("json text"),
        ok["result"]["structuredContent"]
    );
    let user = body(
        &server
            .handle_http(
                post(call(3, json!({"fail": "user"})), Some(&sid)),
                who.clone(),
                &options(),
            )
            .await,
    );
    assert_eq!(user["result"]["isError"], true);
    assert!(user["result"].get("structuredContent").is_none());
    let system = body(
        &server
            .handle_http(
                post(call(4, json!({"fail": "system"})), Some(&sid)),
                who,
                &options(),
            )
            .await,
    );
    assert_eq!(system["result"]["isError"], true);

    let lines: Vec<Value> = sink
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let outcomes: Vec<(i64, i64, i64)> = lines
        .iter()
        .filter(|l| l.get("ToolName").is_some())
        .map(|l| {
            (
                l["Success"].as_i64().unwrap_or(-1),
                l["UserError"].as_i64().unwrap_or(-1),
                l["SystemError"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(outcomes, vec![(1, 0, 0), (0, 1, 0), (0, 0, 1)]);
    let audits: Vec<&Value> = lines
        .iter()
        .filter(|l| l["eventType"] == "AwsMcpEvent")
        .collect();
    assert_eq!(audits.len(), 3);
    assert_eq!(audits[0]["userIdentity"]["type"], "IAMUser");
    assert_eq!(audits[0]["awsRegion"], "eu-west-3");
    assert_eq!(audits[0]["mcpEventDetails"]["sessionId"], sid.as_str());
    assert_eq!(
        audits[0]["mcpEventDetails"]["mcpProtocolVersion"],
        "2025-06-18"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["Resource"] == "AccountSessionCount" && l["ResourceCount"] == 1)
    );
}

#[tokio::test]
async fn concurrency_quota_refuses_beyond_the_limit() {
    let (server, _) = server(Quotas {
        max_concurrent_connections: 1,
        requests_per_second: None,
        ..Quotas::default()
    });
    let (admitted, slot) = server.admit("123456789012").await;
    assert_eq!(admitted, mcp_protocol::server::Admission::Admitted);
    let (second, _) = server.admit("123456789012").await;
    assert_eq!(second, mcp_protocol::server::Admission::TooManyConnections);
    drop(slot);
    // The slot is given back by a task (stores are asynchronous).
    tokio::task::yield_now().await;
    let (third, _) = server.admit("123456789012").await;
    assert_eq!(third, mcp_protocol::server::Admission::Admitted);
}

#[tokio::test]
async fn stdio_answers_every_request_and_only_protocol() {
    let (server, _) = server(Quotas::default());
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_end);
    let who: Arc<dyn IdentitySource> = Arc::new(KnownIdentity(CallerIdentity::local()));
    let task = tokio::spawn(serve_stdio(
        server,
        who,
        "s".repeat(64),
        BufReader::new(server_read),
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client);
    let input = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26"}}).to_string(),
        "{broken".to_owned(),
        json!([{"jsonrpc": "2.0", "id": 2, "method": "ping"}, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}]).to_string(),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "aws___echo", "arguments": {}}}).to_string(),
    ];
    for line in &input {
        client_write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write");
    }
    client_write.shutdown().await.expect("close");
    let mut lines = BufReader::new(client_read).lines();
    let mut answers = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        answers.push(serde_json::from_str::<Value>(&line).expect("every stdout line is JSON"));
    }
    task.await.expect("join").expect("serve");
    let mut ids: Vec<Value> = answers.iter().map(|a| a["id"].clone()).collect();
    ids.sort_by_key(|v| v.as_i64().unwrap_or(0));
    assert_eq!(
        ids,
        vec![Value::Null, json!(1), json!(2), json!(3), json!(4)]
    );
    let parse_error = answers
        .iter()
        .find(|a| a["id"].is_null())
        .expect("parse error");
    assert_eq!(parse_error["error"]["code"], -32700);
}

/// Hostile lines (not UTF-8, longer than the body limit, ids that would come back
/// rewritten) each get an error answer, and the loop keeps serving the next line.
#[tokio::test]
async fn stdio_survives_hostile_lines() {
    let (server, _) = server(Quotas::default());
    let limit = server.config().max_body_bytes;
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_end);
    let who: Arc<dyn IdentitySource> = Arc::new(KnownIdentity(CallerIdentity::local()));
    let task = tokio::spawn(serve_stdio(
        server,
        who,
        "s".repeat(64),
        BufReader::new(server_read),
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client);
    let writer = tokio::spawn(async move {
        let mut input: Vec<u8> = Vec::new();
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":\"\xff\xfe\",\"method\":\"ping\"}\n");
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\r\n");
        let mut long =
            b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\",\"params\":{\"x\":\"".to_vec();
        long.resize(limit + 10, b'a');
        long.extend_from_slice(b"\"}}\n");
        input.extend_from_slice(&long);
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}\n");
        input.extend_from_slice(
            b"{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,\"method\":\"ping\"}\n",
        );
        input.extend_from_slice(
            b"{\"jsonrpc\":\"2.0\",\"id\":18446744073709551615,\"method\":\"ping\"}\n",
        );
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}\n");
        client_write.write_all(&input).await.expect("write");
        client_write.shutdown().await.expect("close");
    });
    let mut lines = BufReader::new(client_read).lines();
    let mut answers = Vec::new();
    while let Some(line) = lines.next_line().await.expect("read") {
        answers.push(serde_json::from_str::<Value>(&line).expect("every stdout line is JSON"));
    }
    writer.await.expect("writer");
    task.await.expect("join").expect("serve");
    let codes = |code: i64| {
        answers
            .iter()
            .filter(|a| a["id"].is_null() && a["error"]["code"] == code)
            .map(|a| {
                a["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    let parse = codes(-32700);
    assert_eq!(parse.len(), 1, "{answers:?}");
    assert!(parse[0].contains("not valid UTF-8"), "{parse:?}");
    let invalid = codes(-32600);
    assert_eq!(invalid.len(), 3, "{answers:?}");
    assert!(
        invalid.iter().any(|m| m.contains("exceeds the limit")),
        "{invalid:?}"
    );
    assert_eq!(
        invalid.iter().filter(|m| m.contains("integer")).count(),
        2,
        "{invalid:?}"
    );
    let mut served: Vec<String> = answers
        .iter()
        .filter(|a| a.get("result").is_some())
        .map(|a| a["id"].to_string())
        .collect();
    served.sort();
    assert_eq!(
        served,
        ["1", "18446744073709551615", "2", "4"],
        "{answers:?}"
    );
}
