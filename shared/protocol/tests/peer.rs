//! Server-to-client messages while a tool runs: progress notifications and elicitation,
//! over stdio (an in-memory duplex pipe) and over Streamable HTTP with event-stream answers.
//! The fake tool reports the progress values it is given and, when asked to, elicits a
//! yes/no consent and echoes the answer.

use std::sync::Arc;
use std::time::Duration;

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
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf};

fn consent_schema() -> Value {
    json!({"type": "object", "properties": {"allow": {"type": "boolean"}}, "required": ["allow"]})
}

struct Asker;

#[async_trait]
impl ToolHandler for Asker {
    async fn call(&self, ctx: &ToolContext, args: Value) -> Result<ToolOutput, ToolError> {
        let steps: Vec<f64> = args
            .get("progress")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        for step in steps {
            ctx.progress(step, Some(3.0), Some(format!("step {step}")))
                .await;
        }
        let mut out = json!({
            "peer": ctx.peer.is_some(),
            "can_elicit": ctx.can_elicit(),
            "answer": null,
            "error": null,
        });
        if args.get("ask").and_then(Value::as_bool) == Some(true) {
            let Some(peer) = &ctx.peer else {
                return Ok(ToolOutput::structured(out));
            };
            let question = format!(
                "Allow aws s3api delete-bucket --bucket {}?",
                args["bucket"].as_str().unwrap_or("b")
            );
            match peer.elicit(&question, consent_schema()).await {
                Ok(answer) => {
                    out["answer"] = json!({"action": answer.action, "content": answer.content});
                }
                Err(e) => out["error"] = json!(format!("{e:?}")),
            }
        }
        Ok(ToolOutput::structured(out))
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
                name: "ask",
                title: "Ask",
                description: "Reports progress and asks for consent.".into(),
                input_schema: json!({"type": "object"}),
                output_schema: Some(json!({"type": "object"})),
                annotations: ToolAnnotations::READ_ONLY_LOCAL,
            },
            handler: Arc::new(Asker),
        }]
    }
}

fn server(elicitation_timeout: Duration) -> Arc<McpServer> {
    let sink = Arc::new(MemorySink::default());
    let telemetry = Telemetry::new(TelemetryConfig::default(), sink.clone(), vec![sink]);
    let config = ServerConfig {
        quotas: Quotas {
            requests_per_second: None,
            ..Quotas::default()
        },
        elicitation_timeout,
        ..ServerConfig::default()
    };
    Arc::new(McpServer::new(
        ToolRegistry::new().with_group(&TestGroup),
        Arc::new(MemorySessionStore::default()),
        telemetry,
        config,
    ))
}

fn call(id: i64, args: Value, progress_token: Option<Value>) -> Value {
    let mut params = json!({"name": "aws___ask", "arguments": args});
    if let Some(token) = progress_token {
        params["_meta"] = json!({"progressToken": token});
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
}

fn structured(answer: &Value) -> &Value {
    &answer["result"]["structuredContent"]
}

// ---------------------------------------------------------------- stdio

struct StdioClient {
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
    write: tokio::io::WriteHalf<DuplexStream>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl StdioClient {
    /// Starts the stdio loop and initializes with `capabilities`.
    async fn start(server: Arc<McpServer>, version: &str, capabilities: Value) -> Self {
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
        let (read, write) = tokio::io::split(client);
        let mut c = Self {
            lines: BufReader::new(read).lines(),
            write,
            task,
        };
        c.send(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": capabilities,
                       "clientInfo": {"name": "t", "version": "1"}}}))
            .await;
        let init = c.recv().await.expect("initialize answer");
        assert_eq!(init["result"]["protocolVersion"], version);
        c
    }

    async fn send(&mut self, message: Value) {
        self.write
            .write_all(format!("{message}\n").as_bytes())
            .await
            .expect("write");
    }

    async fn recv(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("an answer within 10 s")
            .expect("read")?;
        Some(serde_json::from_str(&line).expect("every stdout line is one JSON message"))
    }

    async fn finish(mut self) -> Vec<Value> {
        self.write.shutdown().await.expect("close");
        let mut rest = Vec::new();
        while let Some(m) = self.recv().await {
            rest.push(m);
        }
        self.task.await.expect("join").expect("serve");
        rest
    }
}

#[tokio::test]
async fn stdio_progress_then_consent_accepted() {
    let mut c = StdioClient::start(
        server(Duration::from_secs(30)),
        "2025-06-18",
        json!({"elicitation": {}}),
    )
    .await;
    c.send(call(
        7,
        json!({"progress": [1, 2, 2, 3], "ask": true, "bucket": "logs"}),
        Some(json!("tok-1")),
    ))
    .await;
    let mut progress = Vec::new();
    let request = loop {
        let m = c.recv().await.expect("message");
        match m["method"].as_str() {
            Some("notifications/progress") => progress.push(m["params"].clone()),
            Some("elicitation/create") => break m,
            _ => panic!("unexpected before the elicitation: {m}"),
        }
    };
    // The repeated 2 is dropped: progress must increase with every notification.
    assert_eq!(
        progress,
        vec![
            json!({"progressToken": "tok-1", "progress": 1.0, "total": 3.0, "message": "step 1"}),
            json!({"progressToken": "tok-1", "progress": 2.0, "total": 3.0, "message": "step 2"}),
            json!({"progressToken": "tok-1", "progress": 3.0, "total": 3.0, "message": "step 3"}),
        ]
    );
    assert_eq!(
        request["params"]["message"],
        "Allow aws s3api delete-bucket --bucket logs?"
    );
    assert_eq!(request["params"]["requestedSchema"], consent_schema());
    assert!(
        request["id"].is_string(),
        "server ids are strings: {request}"
    );
    c.send(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"allow": true}}}))
        .await;
    let answer = c.recv().await.expect("result");
    assert_eq!(answer["id"], 7);
    assert_eq!(
        structured(&answer)["answer"],
        json!({"action": "accept", "content": {"allow": true}})
    );
    assert_eq!(structured(&answer)["can_elicit"], true);
    assert!(c.finish().await.is_empty());
}

#[tokio::test]
async fn stdio_routes_concurrent_answers_to_their_own_calls() {
    let mut c = StdioClient::start(
        server(Duration::from_secs(30)),
        "2025-11-25",
        json!({"elicitation": {"form": {}}}),
    )
    .await;
    c.send(call(1, json!({"ask": true, "bucket": "one"}), None))
        .await;
    c.send(call(2, json!({"ask": true, "bucket": "two"}), None))
        .await;
    let mut asks = Vec::new();
    while asks.len() < 2 {
        let m = c.recv().await.expect("elicitation");
        assert_eq!(m["method"], "elicitation/create");
        asks.push(m);
    }
    assert_ne!(asks[0]["id"], asks[1]["id"], "server ids must not collide");
    // Answer in reverse order: "one" is declined, "two" cancelled.
    for ask in asks.iter().rev() {
        let action = if ask["params"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("one")
        {
            "decline"
        } else {
            "cancel"
        };
        c.send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": action}}))
            .await;
    }
    let mut results = [c.recv().await.expect("r"), c.recv().await.expect("r")];
    results.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(structured(&results[0])["answer"]["action"], "decline");
    assert_eq!(structured(&results[1])["answer"]["action"], "cancel");
    assert!(c.finish().await.is_empty());
}

#[tokio::test]
async fn stdio_client_without_the_capability_is_not_asked() {
    let mut c = StdioClient::start(server(Duration::from_secs(30)), "2025-06-18", json!({})).await;
    // Progress without a token sends nothing; the elicitation fails at once.
    c.send(call(3, json!({"progress": [1, 2], "ask": true}), None))
        .await;
    let answer = c.recv().await.expect("result");
    assert_eq!(answer["id"], 3, "nothing but the result: {answer}");
    assert_eq!(structured(&answer)["peer"], true);
    assert_eq!(structured(&answer)["can_elicit"], false);
    assert_eq!(structured(&answer)["error"], "NotSupported");
    assert!(c.finish().await.is_empty());
}

#[tokio::test]
async fn stdio_elicitation_does_not_exist_in_2025_03_26() {
    let mut c = StdioClient::start(
        server(Duration::from_secs(30)),
        "2025-03-26",
        json!({"elicitation": {}}),
    )
    .await;
    c.send(call(3, json!({"ask": true}), None)).await;
    let answer = c.recv().await.expect("result");
    assert_eq!(structured(&answer)["error"], "NotSupported");
    c.finish().await;
}

#[tokio::test]
async fn stdio_unanswered_elicitation_times_out_and_is_cancelled() {
    let server = server(Duration::from_millis(200));
    let mut c = StdioClient::start(server.clone(), "2025-06-18", json!({"elicitation": {}})).await;
    c.send(call(4, json!({"ask": true}), None)).await;
    let ask = c.recv().await.expect("elicitation");
    assert_eq!(ask["method"], "elicitation/create");
    let cancelled = c.recv().await.expect("cancellation");
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], ask["id"]);
    let answer = c.recv().await.expect("result");
    assert_eq!(answer["id"], 4);
    assert_eq!(structured(&answer)["error"], "TimedOut(200ms)");
    assert!(server.pending().is_empty());
    // A late answer finds no waiter and changes nothing.
    c.send(json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept"}}))
        .await;
    assert!(c.finish().await.is_empty());
}

#[tokio::test]
async fn stdio_closing_input_fails_a_waiting_elicitation_at_once() {
    let server = server(Duration::from_secs(300));
    let mut c = StdioClient::start(server.clone(), "2025-06-18", json!({"elicitation": {}})).await;
    c.send(call(5, json!({"ask": true}), None)).await;
    let ask = c.recv().await.expect("elicitation");
    assert_eq!(ask["method"], "elicitation/create");
    let started = std::time::Instant::now();
    let rest = c.finish().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(structured(&rest[0])["error"], "Disconnected");
    assert!(server.pending().is_empty());
}

// ---------------------------------------------------------------- HTTP

fn alice() -> Arc<dyn IdentitySource> {
    Arc::new(KnownIdentity(CallerIdentity {
        kind: IdentityKind::Iam,
        account_id: Some("123456789012".into()),
        arn: Some("arn:aws:iam::123456789012:user/alice".into()),
        user_id: Some("AIDA".into()),
        caller_id: None,
        source_ip: None,
    }))
}

fn options(streaming: bool) -> HttpOptions {
    HttpOptions {
        origins: OriginPolicy::Any,
        streaming,
    }
}

const BOTH: &str = "application/json, text/event-stream";

fn post(body: Value, session: Option<&str>, accept: &str) -> Request<Bytes> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("content-type", "application/json")
        .header("accept", accept);
    if let Some(s) = session {
        b = b.header("mcp-session-id", s);
    }
    b.body(Bytes::from(body.to_string())).expect("request")
}

async fn open(server: &Arc<McpServer>, version: &str, capabilities: Value) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": capabilities,
                   "clientInfo": {"name": "t", "version": "1"}}});
    let r = server
        .handle_http(post(init, None, BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn content_type(r: &http::Response<HttpBody>) -> &str {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn json_body(r: http::Response<HttpBody>) -> Value {
    assert_eq!(content_type(&r), "application/json");
    serde_json::from_slice(&r.into_body().collect_bytes().await).expect("json body")
}

/// Reads `event: message` / `data:` events from a streamed body.
struct Events {
    body: HttpBody,
    buffer: String,
}

impl Events {
    fn new(r: http::Response<HttpBody>) -> Self {
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(content_type(&r), "text/event-stream");
        Self {
            body: r.into_body(),
            buffer: String::new(),
        }
    }

    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let mut kind = None;
                let mut data = String::new();
                for line in event.lines() {
                    if let Some(k) = line.strip_prefix("event: ") {
                        kind = Some(k.to_owned());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    }
                }
                assert_eq!(kind.as_deref(), Some("message"), "{event:?}");
                return Some(serde_json::from_str(&data).expect("event data is JSON"));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next_chunk())
                .await
                .expect("an event within 10 s")?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }
}

#[tokio::test]
async fn http_streams_progress_and_elicitation_then_the_result() {
    let server = server(Duration::from_secs(30));
    let sid = open(&server, "2025-06-18", json!({"elicitation": {}})).await;
    let r = server
        .handle_http(
            post(
                call(9, json!({"progress": [1, 2], "ask": true}), Some(json!(42))),
                Some(&sid),
                BOTH,
            ),
            alice(),
            &options(true),
        )
        .await;
    let mut events = Events::new(r);
    for expected in [1.0, 2.0] {
        let p = events.next().await.expect("progress");
        assert_eq!(p["method"], "notifications/progress");
        assert_eq!(p["params"]["progressToken"], 42);
        assert_eq!(p["params"]["progress"], expected);
    }
    let ask = events.next().await.expect("elicitation");
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["params"]["requestedSchema"], consent_schema());

    // The answer comes as a separate POST in the same session.
    let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"allow": false}}});
    let r = server
        .handle_http(post(reply, Some(&sid), BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(r.body().as_bytes().is_none(), "202 has no body");

    let result = events.next().await.expect("result");
    assert_eq!(result["id"], 9);
    assert_eq!(
        structured(&result)["answer"],
        json!({"action": "accept", "content": {"allow": false}})
    );
    assert!(
        events.next().await.is_none(),
        "the stream ends after the result"
    );
    assert!(server.pending().is_empty());
}

#[tokio::test]
async fn http_answers_from_another_session_are_refused() {
    let server = server(Duration::from_secs(30));
    let sid = open(&server, "2025-11-25", json!({"elicitation": {}})).await;
    let other = open(&server, "2025-11-25", json!({"elicitation": {}})).await;
    let r = server
        .handle_http(
            post(call(2, json!({"ask": true}), None), Some(&sid), BOTH),
            alice(),
            &options(true),
        )
        .await;
    let mut events = Events::new(r);
    let ask = events.next().await.expect("elicitation");
    let reply =
        |action: &str| json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": action}});

    // Same caller, another live session: no request of that session waits for this id.
    let r = server
        .handle_http(
            post(reply("accept"), Some(&other), BOTH),
            alice(),
            &options(true),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // An unknown session, and no session at all.
    let r = server
        .handle_http(
            post(reply("accept"), Some(&"0".repeat(64)), BOTH),
            alice(),
            &options(true),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = server
        .handle_http(post(reply("accept"), None, BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // An unknown id in the right session.
    let wrong_id = json!({"jsonrpc": "2.0", "id": "srv-999999", "result": {"action": "accept"}});
    let r = server
        .handle_http(post(wrong_id, Some(&sid), BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The tool is still waiting, and the rightful answer reaches it.
    let r = server
        .handle_http(
            post(reply("decline"), Some(&sid), BOTH),
            alice(),
            &options(true),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let result = events.next().await.expect("result");
    assert_eq!(
        structured(&result)["answer"],
        json!({"action": "decline", "content": null})
    );
}

#[tokio::test]
async fn http_client_error_answer_reaches_the_tool() {
    let server = server(Duration::from_secs(30));
    let sid = open(&server, "2025-06-18", json!({"elicitation": {}})).await;
    let r = server
        .handle_http(
            post(call(2, json!({"ask": true}), None), Some(&sid), BOTH),
            alice(),
            &options(true),
        )
        .await;
    let mut events = Events::new(r);
    let ask = events.next().await.expect("elicitation");
    let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "error": {"code": -32600, "message": "user closed the dialog"}});
    let r = server
        .handle_http(post(reply, Some(&sid), BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let result = events.next().await.expect("result");
    assert!(
        structured(&result)["error"]
            .as_str()
            .unwrap_or("")
            .contains("user closed the dialog"),
        "{result}"
    );
}

#[tokio::test]
async fn http_stays_json_when_the_tool_sends_nothing_first() {
    let server = server(Duration::from_secs(30));
    // No elicitation capability: the tool is refused at once, and with no progress token
    // its progress goes nowhere, so the answer is plain JSON even though SSE is accepted.
    let sid = open(&server, "2025-06-18", json!({})).await;
    let r = server
        .handle_http(
            post(
                call(3, json!({"progress": [1, 2], "ask": true}), None),
                Some(&sid),
                BOTH,
            ),
            alice(),
            &options(true),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer = json_body(r).await;
    assert_eq!(structured(&answer)["peer"], true);
    assert_eq!(structured(&answer)["can_elicit"], false);
    assert_eq!(structured(&answer)["error"], "NotSupported");
}

#[tokio::test]
async fn http_without_event_stream_gives_the_tool_no_peer() {
    let server = server(Duration::from_secs(30));
    let sid = open(&server, "2025-06-18", json!({"elicitation": {}})).await;
    let args = json!({"progress": [1], "ask": true});
    // A client that accepts only JSON, and a buffered transport (Lambda).
    for (accept, streaming) in [("application/json", true), (BOTH, false)] {
        let r = server
            .handle_http(
                post(call(4, args.clone(), Some(json!("t"))), Some(&sid), accept),
                alice(),
                &options(streaming),
            )
            .await;
        let answer = json_body(r).await;
        assert_eq!(
            structured(&answer),
            &json!({"peer": false, "can_elicit": false, "answer": null, "error": null})
        );
    }
}

#[tokio::test]
async fn http_elicitation_times_out_inside_the_stream() {
    let server = server(Duration::from_millis(200));
    let sid = open(&server, "2025-06-18", json!({"elicitation": {}})).await;
    let r = server
        .handle_http(
            post(call(5, json!({"ask": true}), None), Some(&sid), BOTH),
            alice(),
            &options(true),
        )
        .await;
    let mut events = Events::new(r);
    let ask = events.next().await.expect("elicitation");
    let cancelled = events.next().await.expect("cancellation");
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], ask["id"]);
    let result = events.next().await.expect("result");
    assert_eq!(structured(&result)["error"], "TimedOut(200ms)");
    // The late answer is refused: nothing waits for it any more.
    let late = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept"}});
    let r = server
        .handle_http(post(late, Some(&sid), BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn http_dropping_the_stream_stops_the_tool_and_withdraws_its_question() {
    let server = server(Duration::from_secs(300));
    let sid = open(&server, "2025-06-18", json!({"elicitation": {}})).await;
    let r = server
        .handle_http(
            post(call(6, json!({"ask": true}), None), Some(&sid), BOTH),
            alice(),
            &options(true),
        )
        .await;
    let mut events = Events::new(r);
    let ask = events.next().await.expect("elicitation");
    assert_eq!(server.pending().len(), 1);
    drop(events);
    // The aborted task drops its waiter; give the runtime a moment to run the abort.
    for _ in 0..50 {
        if server.pending().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(server.pending().is_empty());
    let r = server
        .handle_http(
            post(
                json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept"}}),
                Some(&sid),
                BOTH,
            ),
            alice(),
            &options(true),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn http_stream_holds_the_connection_slot_until_it_ends() {
    let sink = Arc::new(MemorySink::default());
    let server = Arc::new(McpServer::new(
        ToolRegistry::new().with_group(&TestGroup),
        Arc::new(MemorySessionStore::default()),
        Telemetry::new(TelemetryConfig::default(), sink.clone(), vec![sink]),
        ServerConfig {
            quotas: Quotas {
                requests_per_second: None,
                max_concurrent_connections: 2,
                ..Quotas::default()
            },
            ..ServerConfig::default()
        },
    ));
    let sid = open(&server, "2025-06-18", json!({"elicitation": {}})).await;
    let r = server
        .handle_http(
            post(call(7, json!({"ask": true}), None), Some(&sid), BOTH),
            alice(),
            &options(true),
        )
        .await;
    let mut events = Events::new(r);
    let ask = events.next().await.expect("elicitation");
    // One slot is held by the open stream, so only one more is free...
    let (_, third) = server.admit("123456789012").await;
    assert!(third.is_some(), "one slot must still be free");
    let (over, _) = server.admit("123456789012").await;
    assert_eq!(
        over,
        mcp_protocol::server::Admission::TooManyConnections,
        "the open stream holds a slot"
    );
    if let Some(slot) = third {
        slot.release().await;
    }
    let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "cancel"}});
    let r = server
        .handle_http(post(reply, Some(&sid), BOTH), alice(), &options(true))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(events.next().await.is_some());
    assert!(events.next().await.is_none());
    // ...and once the stream has ended both slots are free again (given back by tasks).
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    let (a, s1) = server.admit("123456789012").await;
    let (b, s2) = server.admit("123456789012").await;
    assert_eq!(a, mcp_protocol::server::Admission::Admitted);
    assert_eq!(b, mcp_protocol::server::Admission::Admitted);
    drop((s1, s2));
}
