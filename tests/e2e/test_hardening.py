"""Hostile and broken input against the real binaries: every case gets a clear answer and the
server keeps serving. Covers stdio (bytes that are not UTF-8, over-long lines, ids that would
come back rewritten), deep nesting in --query and shorthand, the local HTTP server (declared
lengths over the limit, slow headers and bodies, the bearer token off loopback), the working
directory's default, the state store failing, and the Lambda-only refusals."""

import json
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import AWS_MCP, HEADERS, Proc, base_env, free_port, init_body, wait_until


class StdioServer:
    """`aws-mcp stdio` spoken to line by line, bytes in and JSON out. stderr goes to a file (a
    pipe nobody reads would stall a chatty server), and every answer has a deadline, so a server
    that goes quiet fails the test instead of hanging the run."""

    def __init__(self, env, answer_timeout: float = 120.0):
        self.stderr_file = tempfile.NamedTemporaryFile("w+b", suffix=".stderr", delete=False)
        self.p = subprocess.Popen([str(AWS_MCP), "stdio"], env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.stderr_file)
        self.answer_timeout = answer_timeout
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_lines(self):
        for line in iter(self.p.stdout.readline, b""):
            self.lines.put(line)
        self.lines.put(b"")

    def stderr(self) -> str:
        return Path(self.stderr_file.name).read_text(errors="replace")

    def send(self, raw: bytes):
        self.p.stdin.write(raw + b"\n")
        self.p.stdin.flush()

    def answer(self) -> dict:
        try:
            line = self.lines.get(timeout=self.answer_timeout)
        except queue.Empty:
            self.p.kill()
            raise AssertionError(f"no answer within {self.answer_timeout}s: {self.stderr()[-2000:]}")
        assert line, f"the server stopped: {self.stderr()[-2000:]}"
        return json.loads(line)

    def ask(self, message: dict) -> dict:
        self.send(json.dumps(message).encode())
        return self.answer()

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=30)
        finally:
            if self.p.poll() is None:
                self.p.kill()
            Path(self.stderr_file.name).unlink(missing_ok=True)
        return self.p.returncode


def call(req_id, name, arguments):
    return {"jsonrpc": "2.0", "id": req_id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}


@pytest.fixture
def stdio(tmp_path):
    env = base_env(AWS_MCP_STATE_DIR=tmp_path / "state", HOME=tmp_path / "home",
                   AWS_MCP_DOCS_LIVE="false", AWS_MCP_MAX_BODY_BYTES="200000")
    env.pop("XDG_DATA_HOME", None)
    server = StdioServer(env)
    assert "result" in server.ask(init_body())
    server.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    yield server
    server.close()


def test_stdio_keeps_serving_after_hostile_lines(stdio):
    stdio.send(b'{"jsonrpc":"2.0","id":"\xff\xfe","method":"ping"}')
    bad_utf8 = stdio.answer()
    assert bad_utf8["error"]["code"] == -32700 and "UTF-8" in bad_utf8["error"]["message"]
    stdio.send(b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":"' + b"a" * 250000 + b'"}}')
    too_long = stdio.answer()
    assert too_long["error"]["code"] == -32600 and "exceeds the limit" in too_long["error"]["message"]
    stdio.send(b'{"jsonrpc":"2.0","id":1e3,"method":"ping"}')
    float_id = stdio.answer()
    assert float_id["id"] is None and "integer" in float_id["error"]["message"]
    assert stdio.ask({"jsonrpc": "2.0", "id": 18446744073709551615, "method": "ping"}) == \
        {"jsonrpc": "2.0", "id": 18446744073709551615, "result": {}}


@pytest.mark.parametrize("command, expected", [
    ("aws s3api list-buckets --query '" + "(" * 3000 + "a" + ")" * 3000 + "'", "nests too deeply"),
    ("aws s3api list-buckets --query '" + "a." * 5000 + "a'", "nests too deeply"),
    ("aws dynamodb put-item --table-name t --item a=" + "{a=" * 5000 + "x" + "}" * 5000,
     "deeper than 64 levels"),
    ("aws ec2 describe-vpcs --filters Name=a,Values=" + "[" * 5000 + "x" + "]" * 5000,
     "deeper than 64 levels"),
])
def test_deep_nesting_is_refused_and_the_server_lives(stdio, command, expected):
    answer = stdio.ask(call(5, "aws___call_aws", {"cli_command": command}))
    result = answer["result"]["structuredContent"]["results"][0]
    assert result["status"] == "error" and expected in result["error"]["message"], result
    assert len(result["error"]["message"]) < 2000
    assert stdio.ask({"jsonrpc": "2.0", "id": 6, "method": "ping"})["result"] == {}


def test_argument_errors_name_the_cause_without_echoing_it(stdio):
    wrong_type = stdio.ask(call(7, "aws___call_aws", {"cli_command": 42}))
    text = wrong_type["result"]["content"][0]["text"]
    assert wrong_type["result"]["isError"] and "must be a string" in text and "a number" in text
    assert "untagged enum" not in text
    long_command = "aws s3api list-buckets --query " + "x" * 120_000
    refused = stdio.ask(call(8, "aws___call_aws", {"cli_command": long_command}))
    result = refused["result"]["structuredContent"]["results"][0]
    assert "at most 100000" in result["error"]["message"]
    assert len(result["cli_command"]) < 400 and "more characters" in result["cli_command"]


def test_relative_files_are_read_from_the_dedicated_folder_only(stdio, tmp_path):
    # The server runs in the repository: README.md there must not be reachable as a relative
    # path; the dedicated folder under the (test) home is.
    folder = tmp_path / "home" / ".local" / "share" / "aws-mcp" / "files"
    assert folder.is_dir(), "created at start"
    (folder / "item.json").write_text('{"id": {"S": "1"}}')
    answer = stdio.ask(call(9, "aws___call_aws", {"cli_command": [
        "aws dynamodb put-item --table-name t --item file://README.md --region us-east-1",
        "aws dynamodb put-item --table-name t --item file://item.json --region us-east-1 "
        "--endpoint-url http://127.0.0.1:9"]}))
    missing, found = answer["result"]["structuredContent"]["results"]
    assert missing["status"] == "error" and "README.md" in missing["error"]["message"], missing
    assert missing["error"]["kind"] == "validation", missing
    # The second file was read: the call got as far as the (closed) endpoint.
    assert found["error"]["kind"] == "network", found


# ---------------------------------------------------------------------------------- HTTP

def raw_exchange(port: int, payload: bytes, wait: float = 0.0, read_timeout: float = 20.0) -> bytes:
    """Sends `payload`, optionally waits, and returns what the server answers (until close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(payload)
        if wait:
            time.sleep(wait)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"content-length: 0" not in b"".join(chunks).lower():
                    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                    length = [int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                              if line.startswith(b"content-length:")]
                    if length and len(body) >= length[0]:
                        break
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def start_http(tmp_path, listen_host="127.0.0.1", **env):
    port = free_port()
    env.setdefault("AWS_MCP_STATE_DIR", tmp_path / "state")
    proc = Proc([str(AWS_MCP), "http", "--listen", f"{listen_host}:{port}"], base_env(**env))
    return port, proc


def test_http_refuses_oversized_declarations_and_cuts_off_slow_clients(tmp_path):
    port, proc = start_http(tmp_path, AWS_MCP_HTTP_HEADER_TIMEOUT_SECONDS="1",
                            AWS_MCP_HTTP_BODY_TIMEOUT_SECONDS="1")
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 30, "aws-mcp http")
        huge = (b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000000000\r\n\r\n{")
        answer = raw_exchange(port, huge)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"AWS_MCP_MAX_BODY_BYTES" in answer
        # Headers that never finish: the connection is closed without an answer.
        started = time.monotonic()
        partial = raw_exchange(port, b"POST /mcp HTTP/1.1\r\nHost: x\r\n", read_timeout=20)
        assert time.monotonic() - started < 15 and not partial.startswith(b"HTTP/1.1 200")
        # A body that stalls: 408 naming the wait.
        slow = (b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{\"jsonrpc\"")
        answer = raw_exchange(port, slow)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        # Still serving.
        r = httpx.post(f"http://127.0.0.1:{port}/mcp", json=init_body(), headers=HEADERS)
        assert r.status_code == 200
        # A session id that is not text is an unknown session, not a missing one.
        r = httpx.post(f"http://127.0.0.1:{port}/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
                       headers={**HEADERS, "mcp-session-id": b"\xff" * 64})
        assert r.status_code == 404, r.text
    finally:
        proc.stop()


def test_http_off_loopback_requires_a_token(tmp_path):
    port, proc = start_http(tmp_path, listen_host="0.0.0.0")
    try:
        proc.p.wait(timeout=30)
        assert proc.p.returncode != 0
        assert "AWS_MCP_HTTP_TOKEN" in proc.stderr()
    finally:
        proc.stop()
    token = "s3cr3t-token-for-tests"
    port, proc = start_http(tmp_path, listen_host="0.0.0.0", AWS_MCP_HTTP_TOKEN=token)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(url + "/healthz").status_code == 200, 30, "aws-mcp http")
        r = httpx.post(url + "/mcp", json=init_body(), headers=HEADERS)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = httpx.post(url + "/mcp", json=init_body(), headers={**HEADERS, "authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = httpx.post(url + "/mcp", json=init_body(),
                       headers={**HEADERS, "authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert token not in proc.stderr()
    finally:
        proc.stop()


def test_a_failing_session_store_is_a_server_fault_with_its_cause(tmp_path):
    state = tmp_path / "state"
    port, proc = start_http(tmp_path, AWS_MCP_STATE_DIR=state)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(url + "/healthz").status_code == 200, 30, "aws-mcp http")
        # The store breaks while serving: its folder becomes a file.
        shutil.rmtree(state)
        state.write_text("x")
        r = httpx.post(url + "/mcp", json=init_body(), headers=HEADERS)
        assert r.status_code == 500, r.text
        message = r.json()["error"]["message"]
        assert "session store failed" in message and "server fault" in message, message
    finally:
        proc.stop()


def test_a_store_that_cannot_open_stops_the_start_naming_it(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    _, proc = start_http(tmp_path, AWS_MCP_STATE_DIR=blocker / "state")
    try:
        assert proc.p.wait(timeout=30) != 0
        assert "cannot open the session store" in proc.stderr()
    finally:
        proc.stop()


# ------------------------------------------------------------------ backends and tasks

@pytest.fixture
def silent_backend():
    """A TCP endpoint that accepts connections and never answers (a hung AWS backend)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in accepted:
        conn.close()


def test_a_hung_backend_fails_within_the_command_timeout_naming_the_read(tmp_path, silent_backend):
    env = base_env(AWS_MCP_STATE_DIR=tmp_path / "state", AWS_MCP_DOCS_LIVE="false",
                   AWS_MCP_COMMAND_TIMEOUT_SECONDS="2")
    server = StdioServer(env)
    try:
        assert "result" in server.ask(init_body())
        answer = server.ask(call(2, "aws___call_aws", {
            "cli_command": f"aws sqs list-queues --region us-east-1 --endpoint-url {silent_backend}"}))
        result = answer["result"]["structuredContent"]["results"][0]
        message = result["error"]["message"]
        assert result["error"]["kind"] == "network", result
        assert message.startswith("Read timeout on endpoint URL"), message
        assert "AWS_MCP_COMMAND_TIMEOUT_SECONDS" in message and "Could not connect" not in message
    finally:
        server.close()


def test_a_stopped_server_marks_its_running_tasks(tmp_path, silent_backend):
    env = base_env(AWS_MCP_STATE_DIR=tmp_path / "state", AWS_MCP_DOCS_LIVE="false",
                   AWS_MCP_INLINE_BUDGET_SECONDS="0.2", AWS_MCP_COMMAND_TIMEOUT_SECONDS="300")
    server = StdioServer(env)
    assert "result" in server.ask(init_body())
    answer = server.ask(call(2, "aws___call_aws", {
        "cli_command": f"aws sqs list-queues --region us-east-1 --endpoint-url {silent_backend}"}))
    task_id = answer["result"]["structuredContent"]["task_id"]
    assert answer["result"]["structuredContent"]["status"] == "working"
    server.p.terminate()
    assert server.p.wait(timeout=30) == 0
    # A new server on the same state reads the task: failed, saying why, not `working`.
    again = StdioServer(env)
    try:
        assert "result" in again.ask(init_body())
        polled = again.ask(call(3, "aws___get_tasks", {"task_ids": [task_id]}))
        task = polled["result"]["structuredContent"]["tasks"][0]
        assert task["status"] == "failed", task
        assert task["result"]["error"]["code"] == "server_stopped", task
    finally:
        again.close()


def test_a_client_that_goes_away_stops_its_call(tmp_path):
    """The request ends before the inline budget: the server drops the AWS call (its
    connection to the backend closes) and gives the connection slot back."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(30)
    backend = f"http://127.0.0.1:{listener.getsockname()[1]}"
    port, proc = start_http(tmp_path, AWS_MCP_MAX_CONCURRENT_CONNECTIONS="1",
                            AWS_MCP_COMMAND_TIMEOUT_SECONDS="120", AWS_MCP_INLINE_BUDGET_SECONDS="60")
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, 30, "aws-mcp http")
        r = httpx.post(url, json=init_body(), headers=HEADERS)
        headers = {**HEADERS, "mcp-session-id": r.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        with pytest.raises(httpx.TimeoutException):
            httpx.post(url, json=call(2, "aws___call_aws", {
                "cli_command": f"aws sqs list-queues --region us-east-1 --endpoint-url {backend}"}),
                headers=headers, timeout=2)
        conn, _ = listener.accept()  # the call reached the backend before the client left
        conn.settimeout(20)
        assert conn.recv(65536)  # the request
        rest = b"x"
        while rest:
            rest = conn.recv(65536)  # b"" once the server closes its side
        conn.close()
        # The slot is free again (the limit is one).
        r = httpx.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=headers)
        assert r.status_code == 200, r.text
    finally:
        listener.close()
        proc.stop()


def vm_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def test_memory_returns_to_its_baseline_after_hostile_input(stdio):
    for _ in range(3):
        stdio.ask({"jsonrpc": "2.0", "id": 2, "method": "ping"})
    baseline = vm_rss_mb(stdio.p.pid)
    for _ in range(20):
        # Under the limit (200 kB in this fixture), over it 25 times, and nested 100,000 deep.
        stdio.send(b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"x":"' + b"a" * 190_000 + b'"}}')
        assert stdio.answer()["result"] == {}
        stdio.send(b'{"jsonrpc":"2.0","id":4,"method":"ping","params":{"x":"' + b"a" * 5_000_000 + b'"}}')
        assert stdio.answer()["error"]["code"] == -32600
        stdio.send(b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        assert "error" in stdio.answer()
    after = vm_rss_mb(stdio.p.pid)
    # 100 MB went past the server; what it keeps is a few MB of allocator slack.
    assert after - baseline < 24, (baseline, after)
    assert stdio.ask({"jsonrpc": "2.0", "id": 5, "method": "ping"})["result"] == {}
