"""Fixtures for the end-to-end suite: the built binaries, moto_server, the local HTTP
server and `cargo lambda watch`, each started on a free loopback port and stopped after."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
AWS_MCP = Path(os.environ.get("AWS_MCP_BIN", TARGET / "debug" / "aws-mcp"))
TOOLS_BIN = Path(os.environ.get("AWS_MCP_TOOLS_BIN", ROOT / ".venv-tools" / "bin"))
CLIENT_BIN = Path(sys.executable).parent

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Secret values the tests plant start with this mark; every server of the run appends its
# audit records to SUITE_AUDIT_LOG (unless a test names its own file), and the run fails if
# the mark shows up there (pytest_sessionfinish below).
PLANTED_SECRET_MARK = "pl4nted-s3cret-"
SUITE_AUDIT_LOG = Path(tempfile.gettempdir()) / f"aws-mcp-e2e-audit-{os.getpid()}.jsonl"
# The stderr of every process the tests start (Lambda functions write their audit there).
STDERR_FILES: list = []


def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(DUMMY_AWS)
    env["AWS_MCP_AUDIT_LOG"] = str(SUITE_AUDIT_LOG)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as e:  # noqa: BLE001 - keep polling until the deadline
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout}s (last error: {last})")


class Proc:
    """A child process whose stderr is kept in a file for assertions."""

    def __init__(self, argv, env, cwd=ROOT):
        self.stderr_file = tempfile.NamedTemporaryFile("w+", suffix=".stderr", delete=False)
        STDERR_FILES.append(Path(self.stderr_file.name))
        self.p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                  stderr=self.stderr_file, stdin=subprocess.DEVNULL)

    def stderr(self) -> str:
        return Path(self.stderr_file.name).read_text(errors="replace")

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@pytest.fixture(scope="session")
def moto_url():
    port = free_port()
    proc = Proc([str(TOOLS_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], base_env())
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/moto-api/").status_code < 500, 30, "moto_server")
        yield url
    finally:
        proc.stop()


@pytest.fixture
def http_server(tmp_path):
    """Starts `aws-mcp http` with extra environment; returns (mcp_url, proc)."""
    started = []

    def start(**env):
        port = free_port()
        full_env = base_env(AWS_MCP_STATE_DIR=tmp_path / "state", **env)
        proc = Proc([str(AWS_MCP), "http", "--listen", f"127.0.0.1:{port}"], full_env)
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(base + "/healthz").status_code == 200, 30, "aws-mcp http")
        return base + "/mcp", proc

    yield start
    for p in started:
        p.stop()


# The staging bucket the functions under `cargo lambda watch` use (tests create it in moto).
WATCH_STAGING_BUCKET = "watch-staging"


@pytest.fixture(scope="session")
def lambda_watch(tmp_path_factory, moto_url):
    """`cargo lambda watch` serving every function (AWS calls go to moto_server); returns the
    base URL of Function URLs."""
    port = free_port()
    state = tmp_path_factory.mktemp("watch-state")
    # `cargo lambda watch` sends no IAM identity: it is a one-developer server, so its AWS
    # calls use the function's own credentials (acting as callers is tried under
    # tests/e2e/test_act_as_caller.py, which hands the functions real identities).
    env = base_env(AWS_MCP_ALLOW_UNAUTHENTICATED="true", AWS_MCP_STATE_DIR=state,
                   AWS_ENDPOINT_URL=moto_url, AWS_MCP_STAGING_BUCKET=WATCH_STAGING_BUCKET,
                   AWS_MCP_ACT_AS="function")
    env["PATH"] = f"{TOOLS_BIN}:{os.environ.get('PATH', '')}"
    proc = Proc([str(TOOLS_BIN / "cargo-lambda"), "lambda", "watch", "--invoke-port", str(port)], env)
    base = f"http://127.0.0.1:{port}/lambda-url"
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/").status_code > 0, 120, "cargo lambda watch")
        yield base
    finally:
        proc.stop()


def init_body(version="2025-11-25", req_id=1):
    return {"jsonrpc": "2.0", "id": req_id, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {},
                       "clientInfo": {"name": "e2e", "version": "1"}}}


HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def parse_lines(text: str):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def pytest_sessionfinish(session, exitstatus):
    """Fails the run when a planted secret reached an audit record or a log written during
    it: the suite's audit file and the stderr of every process started through Proc."""
    files = [SUITE_AUDIT_LOG, *STDERR_FILES]
    leaks, records = [], 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            records += '"eventType":"AwsMcpEvent"' in line
            if PLANTED_SECRET_MARK in line:
                leaks.append(f"{path.name}: {line[:400]}")
    for path in files:
        path.unlink(missing_ok=True)
    print(f"\nsecret scan: {records} audit records and {len(files) - 1} process logs, "
          f"{len(leaks)} lines with a planted secret")
    if leaks:
        print("\n".join("  " + leak for leak in leaks[:5]))
        session.exitstatus = 1
