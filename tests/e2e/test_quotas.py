"""Quotas shared across instances: two `aws-mcp http` processes on one state store (the
directory store, and the DynamoDB table on moto_server), driven at once by clients of one
account, admit the configured rate, connections and sessions between them and answer 429
(with Retry-After and the Throttle metric) to the rest."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import HEADERS, init_body
from test_aws_backends import create_state_table
from test_hardening import silent_backend  # noqa: F401 - a fixture used below
from test_http_protocol import open_session, session_headers


@pytest.fixture(params=["directory", "dynamodb"])
def two_servers(request, http_server, moto_url, tmp_path):
    """Starts two servers on one store with the given limits; returns their /mcp URLs and
    processes."""
    if request.param == "directory":
        store = {}  # http_server's default: both on tmp_path / "state"
    else:
        table = f"quotas-{uuid.uuid4().hex[:8]}"
        create_state_table(moto_url, table)
        # Only DynamoDB goes to moto: the local identity stays the same all through the test.
        store = {"AWS_MCP_STATE_TABLE": table, "AWS_ENDPOINT_URL_DYNAMODB": moto_url}

    def start(**limits):
        env = {"AWS_MCP_DOCS_LIVE": "false", **store, **limits}
        return [http_server(**env) for _ in range(2)]

    start.kind = request.param
    return start


def post_all(requests, stagger=0.0):
    """Sends (url, body, headers) triples at once, or `stagger` seconds apart; returns the
    responses in order."""
    barrier = threading.Barrier(len(requests))

    def send(numbered):
        i, (url, body, headers) = numbered
        barrier.wait()
        time.sleep(i * stagger)
        return httpx.post(url, json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, enumerate(requests)))


def test_the_rate_is_shared(two_servers):
    # One request per 1,000 s refills nothing while the test runs: exactly the burst of 4 is
    # admitted between the two servers, whatever the machine's speed.
    (a, pa), (b, pb) = two_servers(AWS_MCP_REQUESTS_PER_SECOND="0.001", AWS_MCP_BURST="4")
    sessions = {url: open_session(url)[0] for url in (a, b)}
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "aws___list_regions", "arguments": {}}}
    answers = [httpx.post(url, json=call, headers=session_headers(sessions[url])) for url in [a, b] * 7]
    admitted = 2 + sum(r.status_code == 200 for r in answers)
    refused = [r for r in answers if r.status_code == 429]
    assert admitted + len(refused) == 16
    assert admitted == 4, admitted
    assert all(r.headers.get("retry-after") for r in refused)
    logs = pa.stderr() + pb.stderr()
    assert logs.count('"Throttle":1') == len(refused), logs[-3000:]


def test_connections_are_shared(two_servers, silent_backend):  # noqa: F811
    (a, _), (b, _) = two_servers(AWS_MCP_MAX_CONCURRENT_CONNECTIONS="2",
                                 AWS_MCP_COMMAND_TIMEOUT_SECONDS="3",
                                 AWS_MCP_INLINE_BUDGET_SECONDS="30")
    sessions = {url: open_session(url)[0] for url in (a, b)}
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "aws___call_aws",
        "arguments": {"cli_command": f"aws sqs list-queues --region us-east-1 --endpoint-url {silent_backend}"}}}
    # moto applies conditional writes without DynamoDB's per-item serialisation, so against
    # it the calls start 0.2 s apart; they still all overlap (each is in flight for 3 s).
    stagger = 0.2 if two_servers.kind == "dynamodb" else 0.0
    answers = post_all([(url, call, session_headers(sessions[url])) for url in [a, b] * 3], stagger)
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 200, 429, 429, 429, 429], codes
    # Slots come back when the calls end.
    r = httpx.post(a, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=session_headers(sessions[a]))
    assert r.status_code == 200


def test_sessions_per_user_are_shared(two_servers):
    (a, _), (b, _) = two_servers(AWS_MCP_MAX_SESSIONS_PER_USER="3")
    # Against moto, 0.15 s apart (see test_connections_are_shared); the directory store,
    # whose locking is the server's own, takes them all at once.
    stagger = 0.15 if two_servers.kind == "dynamodb" else 0.0
    answers = post_all([(url, init_body(), HEADERS) for url in [a, b] * 4], stagger)
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 200, 200, 429, 429, 429, 429, 429], [r.text[:300] for r in answers]
    refused = next(r for r in answers if r.status_code == 429)
    assert "AWS_MCP_MAX_SESSIONS_PER_USER" in refused.text or "sessions" in refused.text
