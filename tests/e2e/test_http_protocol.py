"""Streamable HTTP conformance of `aws-mcp http`, request by request: status codes,
sessions, protocol versions, batches, JSON-RPC errors, Origin checks and body limits."""

import httpx
import pytest

from conftest import HEADERS, init_body


def open_session(url, version="2025-11-25"):
    r = httpx.post(url, json=init_body(version), headers=HEADERS)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    sid = r.headers["mcp-session-id"]
    assert len(sid) == 64
    return sid, r.json()


def session_headers(sid, version="2025-11-25"):
    return {**HEADERS, "mcp-session-id": sid, "mcp-protocol-version": version}


@pytest.fixture
def url(http_server):
    return http_server()[0]


@pytest.mark.parametrize("asked, answered", [
    ("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"),
    ("2024-11-05", "2025-11-25"), ("1999-01-01", "2025-11-25"),
])
def test_version_negotiation(url, asked, answered):
    _, body = open_session(url, asked)
    assert body["result"]["protocolVersion"] == answered


def test_session_lifecycle_and_status_codes(url):
    sid, _ = open_session(url)
    h = session_headers(sid)
    # A notification gets 202 with no body.
    r = httpx.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
    assert r.status_code == 202 and r.content == b""
    # A response to no question the server asked is refused (400); answers to real
    # questions get 202 (tests/e2e/test_api_tools.py, shared/protocol/tests/peer.rs).
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": "srv-1", "result": {}}, headers=h)
    assert r.status_code == 400
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=h)
    assert r.status_code == 200 and r.json() == {"jsonrpc": "2.0", "id": 2, "result": {}}
    # No session header: 400. Unknown session: 404.
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=HEADERS)
    assert r.status_code == 400 and "Mcp-Session-Id" in r.json()["error"]["message"]
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"},
                   headers=session_headers("0" * 64))
    assert r.status_code == 404
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"},
                   headers=session_headers("../../etc/passwd"))
    assert r.status_code == 404
    # GET opens no stream.
    r = httpx.get(url, headers=h)
    assert r.status_code == 405 and "POST" in r.headers["allow"]
    # DELETE ends the session; it is gone afterwards.
    r = httpx.delete(url, headers=h)
    assert r.status_code == 200
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers=h)
    assert r.status_code == 404
    r = httpx.delete(url, headers=h)
    assert r.status_code == 404


def test_unsupported_protocol_version_header_is_400(url):
    sid, _ = open_session(url)
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
                   headers=session_headers(sid, "2023-01-01"))
    assert r.status_code == 400
    assert "2025-11-25" in r.json()["error"]["message"]


def test_jsonrpc_errors(url):
    sid, _ = open_session(url)
    h = session_headers(sid)
    r = httpx.post(url, content=b"{not json", headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == -32700
    r = httpx.post(url, json={"jsonrpc": "1.0", "id": 5, "method": "ping"}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == -32600 and r.json()["id"] == 5
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 6, "method": "resources/subscribe", "params": {"uri": "skill://x/SKILL.md"}}, headers=h)
    assert r.status_code == 200 and r.json()["error"]["code"] == -32601
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                              "params": {"name": "aws___nope", "arguments": {}}}, headers=h)
    err = r.json()["error"]
    assert err["code"] == -32602 and "aws___list_regions" in err["message"]
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                              "params": {"name": "aws___list_regions", "arguments": [1]}}, headers=h)
    assert r.json()["error"]["code"] == -32602
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": {}}, headers=HEADERS)
    assert r.json()["error"]["code"] == -32602


def test_batches_only_for_2025_03_26(url):
    sid, _ = open_session(url, "2025-03-26")
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "ping"},
             {"jsonrpc": "2.0", "method": "notifications/initialized"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    r = httpx.post(url, json=batch, headers={**HEADERS, "mcp-session-id": sid})
    assert r.status_code == 200
    answers = r.json()
    assert [a["id"] for a in answers] == [1, 2]
    assert len(answers[1]["result"]["tools"]) == 11

    sid2, _ = open_session(url, "2025-11-25")
    r = httpx.post(url, json=batch, headers=session_headers(sid2))
    assert r.status_code == 400 and r.json()["error"]["code"] == -32600
    r = httpx.post(url, json=[], headers={**HEADERS, "mcp-session-id": sid})
    assert r.status_code == 400
    r = httpx.post(url, json=[init_body()], headers={**HEADERS, "mcp-session-id": sid})
    assert r.status_code == 400


@pytest.mark.parametrize("origin, status", [
    ("http://localhost:5173", 200), ("http://127.0.0.1", 200), ("http://[::1]:3000", 200),
    ("https://evil.example", 403), ("http://localhost.evil.example", 403), ("null", 403),
])
def test_origin_check(url, origin, status):
    r = httpx.post(url, json=init_body(), headers={**HEADERS, "origin": origin})
    assert r.status_code == status


def test_configured_origin_is_allowed(http_server):
    url, _ = http_server(AWS_MCP_ALLOWED_ORIGINS="https://ide.example.com")
    r = httpx.post(url, json=init_body(), headers={**HEADERS, "origin": "https://ide.example.com"})
    assert r.status_code == 200


def test_content_type_accept_and_body_limit(http_server):
    url, _ = http_server(AWS_MCP_MAX_BODY_BYTES=4096)
    r = httpx.post(url, content=b"{}", headers={"content-type": "text/plain", "accept": "application/json"})
    assert r.status_code == 415
    r = httpx.post(url, json=init_body(), headers={"content-type": "application/json", "accept": "text/html"})
    assert r.status_code == 406
    big = init_body()
    big["params"]["clientInfo"]["name"] = "x" * 10_000
    r = httpx.post(url, json=big, headers=HEADERS)
    assert r.status_code == 413
    assert "4096" in r.json()["error"]["message"]
    r = httpx.post(url.replace("/mcp", "/other"), json=init_body(), headers=HEADERS)
    assert r.status_code == 404


def test_rate_quota_gives_429_with_retry_after(http_server):
    url, _ = http_server(AWS_MCP_REQUESTS_PER_SECOND=1, AWS_MCP_BURST=2)
    responses = [httpx.post(url, json=init_body(), headers=HEADERS) for _ in range(6)]
    assert [r.status_code for r in responses[:2]] == [200, 200]
    throttled = [r for r in responses if r.status_code == 429]
    assert throttled, [r.status_code for r in responses]
    assert throttled[0].headers["retry-after"] == "1"
    assert "Rate exceeded" in throttled[0].json()["error"]["message"]


def test_throttled_tool_calls_count_as_throttle(http_server):
    url, proc = http_server(AWS_MCP_REQUESTS_PER_SECOND=0.5, AWS_MCP_BURST=1)
    sid, _ = open_session(url)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "aws___list_regions", "arguments": {}}}
    codes = [httpx.post(url, json=call, headers=session_headers(sid)).status_code for _ in range(3)]
    assert 429 in codes
    lines = [l for l in proc.stderr().splitlines() if '"ToolName"' in l]
    assert any('"Throttle":1' in l and "aws___list_regions" in l for l in lines), lines


def test_session_quota_per_user(http_server):
    url, _ = http_server(AWS_MCP_MAX_SESSIONS_PER_USER=2)
    open_session(url)
    open_session(url)
    r = httpx.post(url, json=init_body(), headers=HEADERS)
    assert r.status_code == 429
    assert "Session quota" in r.json()["error"]["message"]


def test_sessions_are_shared_by_processes_on_one_state_dir(http_server):
    url_a, _ = http_server()
    url_b, _ = http_server()
    sid, _ = open_session(url_a)
    r = httpx.post(url_b, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=session_headers(sid))
    assert r.status_code == 200


def test_tool_call_over_http_returns_structured_content(url):
    sid, _ = open_session(url)
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                              "params": {"name": "aws___list_regions", "arguments": {},
                                         "_meta": {"AWS_REGION": "eu-west-1"}}},
                   headers=session_headers(sid))
    result = r.json()["result"]
    assert result["isError"] is False
    assert any(x["region_id"] == "eu-west-1" for x in result["structuredContent"]["regions"])
