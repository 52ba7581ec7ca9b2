//! An event-stream answer sent by hyper over a real TCP connection, as the local server
//! does: the elicitation request must reach the client while the tool is still waiting
//! for the answer, which proves the body is streamed rather than buffered.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mcp_protocol::{
    CallerIdentity, HttpOptions, IdentitySource, KnownIdentity, McpServer, MemorySessionStore,
    OriginPolicy, ServerConfig, Tool, ToolAnnotations, ToolContext, ToolDescriptor, ToolError,
    ToolGroup, ToolHandler, ToolOutput, ToolRegistry,
};
use mcp_telemetry::{MemorySink, Telemetry, TelemetryConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Consent;

#[async_trait]
impl ToolHandler for Consent {
    async fn call(&self, ctx: &ToolContext, _args: Value) -> Result<ToolOutput, ToolError> {
        let peer = ctx
            .peer
            .as_ref()
            .ok_or_else(|| ToolError::Internal("no peer".into()))?;
        let answer = peer
            .elicit(
                "Allow?",
                json!({"type": "object", "properties": {"allow": {"type": "boolean"}}}),
            )
            .await
            .map_err(|e| ToolError::Denied(e.to_string()))?;
        Ok(ToolOutput::structured(json!({"action": answer.action})))
    }
}

struct Group;

impl ToolGroup for Group {
    fn name(&self) -> &'static str {
        "test"
    }
    fn tools(&self) -> Vec<Tool> {
        vec![Tool {
            descriptor: ToolDescriptor {
                name: "consent",
                title: "Consent",
                description: "Asks for consent.".into(),
                input_schema: json!({"type": "object"}),
                output_schema: Some(json!({"type": "object"})),
                annotations: ToolAnnotations::READ_ONLY_LOCAL,
            },
            handler: Arc::new(Consent),
        }]
    }
}

fn options() -> HttpOptions {
    HttpOptions {
        origins: OriginPolicy::Any,
        streaming: true,
    }
}

fn local() -> Arc<dyn IdentitySource> {
    Arc::new(KnownIdentity(CallerIdentity::local()))
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

/// Reads from `stream` until `buffer` contains `needle`.
async fn read_until(stream: &mut TcpStream, buffer: &mut String, needle: &str) {
    let mut chunk = [0u8; 4096];
    while !buffer.contains(needle) {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("data within 10 s")
            .expect("read");
        assert!(n > 0, "connection closed before {needle:?}; got {buffer}");
        buffer.push_str(std::str::from_utf8(&chunk[..n]).expect("utf-8"));
    }
}

#[tokio::test]
async fn hyper_streams_the_events_as_they_happen() {
    let sink = Arc::new(MemorySink::default());
    let server = Arc::new(McpServer::new(
        ToolRegistry::new().with_group(&Group),
        Arc::new(MemorySessionStore::default()),
        Telemetry::new(TelemetryConfig::default(), sink.clone(), vec![sink]),
        ServerConfig::default(),
    ));
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let r = server
        .handle_http(post(init, None), local(), &options())
        .await;
    let sid = r.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_owned();

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = server.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
            let server = served.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = body.collect().await.expect("body").to_bytes();
                Ok::<_, Infallible>(
                    server
                        .handle_http(Request::from_parts(parts, bytes), local(), &options())
                        .await,
                )
            }
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    });

    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "aws___consent", "arguments": {}}})
    .to_string();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            format!(
                "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 Accept: application/json, text/event-stream\r\nMcp-Session-Id: {sid}\r\n\
                 Content-Length: {}\r\n\r\n{call}",
                call.len()
            )
            .as_bytes(),
        )
        .await
        .expect("send");
    let mut received = String::new();
    read_until(&mut stream, &mut received, "elicitation/create").await;
    read_until(&mut stream, &mut received, "\n\n").await;
    let head = received.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{received}");
    assert!(
        head.contains("content-type: text/event-stream"),
        "{received}"
    );
    assert!(head.contains("transfer-encoding: chunked"), "{received}");
    // The tool is blocked on the question, yet the question has arrived: it was streamed.
    let data = received
        .split("data: ")
        .nth(1)
        .and_then(|d| d.split('\n').next())
        .expect("a data line");
    let ask: Value = serde_json::from_str(data).expect("event JSON");
    assert_eq!(ask["method"], "elicitation/create");
    assert!(!received.contains("\"result\""));

    let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"allow": true}}});
    let r = server
        .handle_http(post(reply, Some(&sid)), local(), &options())
        .await;
    assert_eq!(r.status(), http::StatusCode::ACCEPTED);

    // The result follows, then the chunked body's last chunk ends the stream.
    read_until(&mut stream, &mut received, "\r\n0\r\n\r\n").await;
    assert!(
        received.contains(r#""structuredContent":{"action":"accept"}"#),
        "{received}"
    );
}
