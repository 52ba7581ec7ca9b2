"""Self-tests of fake_lambda.py (no Rust build needed): a tiny Python bootstrap stands in for a
function's release binary."""

import json
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import boto3
import httpx
import pytest
from botocore.config import Config

from conftest import DUMMY_AWS, free_port, wait_until
from fake_lambda import (FakeRuntime, LambdaError, LambdaInvokeStandIn, RecordingProxy,
                         function_name, function_url_event)

# Echoes each event back with what the runtime told it. Markers in the event:
# {"fail": true} posts an error; {"crash": true} exits; {"hang": true} never answers;
# {"meet": {"mine": A, "peer": B}} creates A and waits (with a deadline) for B;
# {"invoke_async": {"url": U, "event": E}} hands E to its own function as an Event invoke.
BOOTSTRAP = r'''#!@PYTHON@
import json, os, sys, time, urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
base = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(url, body, headers=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers=headers or {})
    with opener.open(req) as r:
        return r.status


if os.environ.get("FAIL_INIT"):
    post(base + "/init/error", {"errorType": "InitFailed", "errorMessage": "no config"},
         {"Lambda-Runtime-Function-Error-Type": "InitFailed"})
    sys.exit(1)

while True:
    with opener.open(base + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        info = {"request_id": rid,
                "deadline_ms": int(r.headers["Lambda-Runtime-Deadline-Ms"]),
                "arn": r.headers["Lambda-Runtime-Invoked-Function-Arn"],
                "trace": r.headers.get("Lambda-Runtime-Trace-Id")}
        event = json.loads(r.read())
    print("handling", rid, file=sys.stderr, flush=True)
    marks = event if isinstance(event, dict) else {}
    if marks.get("fail"):
        post(f"{base}/invocation/{rid}/error", {"errorType": "Marker", "errorMessage": "asked to fail"},
             {"Lambda-Runtime-Function-Error-Type": "Marker"})
        continue
    if marks.get("crash"):
        print("crashing on purpose", file=sys.stderr, flush=True)
        sys.exit(3)
    if marks.get("hang"):
        while True:
            time.sleep(1)
    if "meet" in marks:
        open(event["meet"]["mine"], "w").close()
        deadline = time.monotonic() + 10
        while not os.path.exists(event["meet"]["peer"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        info["met"] = os.path.exists(event["meet"]["peer"])
    if "invoke_async" in marks:
        target = event["invoke_async"]
        name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        info["async_status"] = post(
            f"{target['url']}/2015-03-31/functions/{name}/invocations", target["event"],
            {"X-Amz-Invocation-Type": "Event",
             "Authorization": "AWS4-HMAC-SHA256 Credential=AKIASELF/20260101/us-east-1/lambda/aws4_request"})
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_LAMBDA_") or k == "EXTRA"}
    post(f"{base}/invocation/{rid}/response",
         {"echo": event, "pid": os.getpid(), "cwd": os.getcwd(), "env": env, **info})
'''


@pytest.fixture
def bootstrap(tmp_path):
    path = tmp_path / "fn" / "bootstrap"
    path.parent.mkdir()
    path.write_text(BOOTSTRAP.replace("@PYTHON@", sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def runtimes():
    started = []

    def start(*args, **kwargs):
        rt = FakeRuntime(*args, **kwargs)
        started.append(rt)
        return rt

    yield start
    for rt in started:
        rt.stop()


@pytest.fixture
def stand_in():
    s = LambdaInvokeStandIn()
    yield s
    s.stop()


def test_invoke_round_trips_with_the_runtime_api_headers_and_environment(bootstrap, runtimes):
    rt = runtimes("echo-fn", bootstrap, {"EXTRA": "yes"})
    before = time.time() * 1000
    resp = rt.invoke({"hello": 1})
    assert resp["echo"] == {"hello": 1}
    assert resp["request_id"] == rt.invocations[0].request_id
    assert resp["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:echo-fn"
    assert before + 55_000 < resp["deadline_ms"] < time.time() * 1000 + 61_000
    assert resp["trace"].startswith("Root=1-")
    assert resp["cwd"] == str(bootstrap.parent)
    env = resp["env"]
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "echo-fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/echo-fn"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == "test"
    assert env["EXTRA"] == "yes"

    second = rt.invoke(["a", "list"])  # any JSON value is an event
    assert second["echo"] == ["a", "list"] and second["pid"] == resp["pid"]
    assert rt.events == [{"hello": 1}, ["a", "list"]]
    assert rt.responses == [resp, second]
    assert [i.invocation_type for i in rt.invocations] == ["RequestResponse"] * 2
    assert all(i.ok for i in rt.invocations)
    assert "handling" in rt.stderr()


def test_function_errors_crashes_and_timeouts_surface_as_lambda_errors(bootstrap, runtimes):
    rt = runtimes("echo-fn", bootstrap, timeout=1.0)
    with pytest.raises(LambdaError) as err:
        rt.invoke({"fail": True})
    assert err.value.body == {"errorType": "Marker", "errorMessage": "asked to fail"}
    assert err.value.error_type == "Marker" and err.value.error_message == "asked to fail"
    assert rt.errors == [err.value.body]

    with pytest.raises(LambdaError) as err:
        rt.invoke({"crash": True})
    assert err.value.error_type == "Runtime.ExitError"
    assert "exit status 3" in err.value.error_message
    assert "crashing on purpose" in str(err.value)  # the stderr tail
    assert rt.exits == [(0, 3)]

    # The process was started again, like a fresh environment.
    assert rt.invoke({"after": "crash"})["echo"] == {"after": "crash"}

    with pytest.raises(LambdaError) as err:
        rt.invoke({"hang": True}, timeout=20)
    assert err.value.error_type == "Sandbox.Timedout"
    assert rt.invoke({"after": "timeout"})["echo"] == {"after": "timeout"}


def test_an_init_error_fails_the_waiting_invocation(bootstrap, runtimes):
    rt = runtimes("broken-fn", bootstrap, {"FAIL_INIT": "1"}, max_restarts=1)
    with pytest.raises(LambdaError) as err:
        rt.invoke({"x": 1}, timeout=20)
    assert err.value.body == {"errorType": "InitFailed", "errorMessage": "no config"}
    assert err.value.error_type == "InitFailed"
    assert rt.init_errors and rt.init_errors[0]["body"]["errorMessage"] == "no config"
    # Every process gone for good: later invocations fail at once.
    with pytest.raises(LambdaError):
        rt.invoke({"x": 2}, timeout=20)
    assert rt.events == []


def test_concurrency_runs_invocations_side_by_side(bootstrap, runtimes, tmp_path):
    rt = runtimes("wide-fn", bootstrap, concurrency=2)
    a, b = tmp_path / "a", tmp_path / "b"
    # Each waits for the other's file: only possible when both run at once.
    first = rt.invoke_async({"meet": {"mine": str(a), "peer": str(b)}})
    second = rt.invoke_async({"meet": {"mine": str(b), "peer": str(a)}})
    r1, r2 = first.result(20), second.result(20)
    assert r1["met"] and r2["met"]
    assert r1["pid"] != r2["pid"] and {r1["pid"], r2["pid"]} == set(rt.pids)
    assert {first.worker, second.worker} == {0, 1}
    rt.wait_idle(5)


def test_invoke_stand_in_routes_request_response_event_dry_run_and_unknown(bootstrap, runtimes, stand_in):
    rt = runtimes("echo-fn", bootstrap)
    stand_in.register("echo-fn", rt)
    auth = ("AWS4-HMAC-SHA256 Credential=AKIATESTKEY/20260101/us-east-1/lambda/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00")
    base = f"{stand_in.url}/2015-03-31/functions"
    with httpx.Client(timeout=30, trust_env=False) as http:
        r = http.post(f"{base}/echo-fn/invocations", json={"n": 1}, headers={"Authorization": auth})
        assert r.status_code == 200 and r.json()["echo"] == {"n": 1}
        assert r.headers["x-amz-executed-version"] == "$LATEST"
        assert "x-amz-function-error" not in r.headers

        arn = quote("arn:aws:lambda:us-east-1:123456789012:function:echo-fn", safe="")
        r = http.post(f"{base}/{arn}/invocations", json={"fail": True},
                      headers={"X-Amz-Invocation-Type": "RequestResponse"})
        assert r.status_code == 200 and r.headers["x-amz-function-error"] == "Unhandled"
        assert r.json() == {"errorType": "Marker", "errorMessage": "asked to fail"}

        r = http.post(f"{base}/echo-fn/invocations", json={"n": 2},
                      headers={"X-Amz-Invocation-Type": "Event", "Authorization": auth})
        assert r.status_code == 202 and r.content == b""
        event_request = stand_in.requests[-1]
        assert event_request.invocation.result(20)["echo"] == {"n": 2}

        r = http.post(f"{base}/echo-fn/invocations", content=b"",
                      headers={"X-Amz-Invocation-Type": "DryRun"})
        assert r.status_code == 204

        r = http.post(f"{base}/nope/invocations", json={})
        assert r.status_code == 404
        assert r.headers["x-amzn-errortype"] == "ResourceNotFoundException"
        assert r.json() == {"Type": "User", "message":
                            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"}

    reqs = stand_in.requests
    assert [(q.function, q.invocation_type, q.status) for q in reqs] == [
        ("echo-fn", "RequestResponse", 200), ("echo-fn", "RequestResponse", 200),
        ("echo-fn", "Event", 202), ("echo-fn", "DryRun", 204), ("nope", "RequestResponse", 404)]
    assert reqs[0].access_key == "AKIATESTKEY" and reqs[0].authorization == auth
    assert reqs[1].target == "arn:aws:lambda:us-east-1:123456789012:function:echo-fn"
    assert reqs[0].event == {"n": 1} and json.loads(reqs[2].payload) == {"n": 2}
    assert rt.events == [{"n": 1}, {"fail": True}, {"n": 2}]  # DryRun runs nothing


def test_invoke_stand_in_answers_a_real_sdk_client(bootstrap, runtimes, stand_in):
    rt = runtimes("echo-fn", bootstrap)
    stand_in.register("echo-fn", rt)
    creds = {k: v for k, v in DUMMY_AWS.items() if k.startswith("AWS_")}
    client = boto3.client(
        "lambda", region_name="us-east-1", endpoint_url=stand_in.url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}))
    out = client.invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:echo-fn",
                        Payload=json.dumps({"sdk": True}))
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert json.loads(out["Payload"].read())["echo"] == {"sdk": True}
    out = client.invoke(FunctionName="echo-fn", InvocationType="Event", Payload=b"{}")
    assert out["StatusCode"] == 202
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="missing", Payload=b"{}")
    assert stand_in.requests[0].access_key == "testing"
    rt.wait_idle(20)
    assert rt.events == [{"sdk": True}, {}]


def test_an_event_invoke_of_itself_does_not_deadlock_with_one_process(bootstrap, runtimes, stand_in):
    rt = runtimes("api-fn", bootstrap)
    stand_in.register("api-fn", rt)
    resp = rt.invoke({"invoke_async": {"url": stand_in.url, "event": {"task": 7}}}, timeout=20)
    assert resp["async_status"] == 202
    rt.wait_idle(20)
    assert rt.events[-1] == {"task": 7}
    assert [(q.function, q.invocation_type, q.access_key) for q in stand_in.requests] == [
        ("api-fn", "Event", "AKIASELF")]
    assert stand_in.requests[0].invocation.ok


def test_function_name_forms():
    assert function_name("fn") == ("fn", None)
    assert function_name("fn:live") == ("fn", "live")
    assert function_name("123456789012:function:fn") == ("fn", None)
    assert function_name("arn:aws:lambda:eu-west-1:123456789012:function:fn:3") == ("fn", "3")


def test_function_url_event_shape():
    role = "arn:aws:sts::111122223333:assumed-role/Dev/alice"
    ev = function_url_event('{"jsonrpc": "2.0"}', caller_arn=role, account="111122223333",
                            request_id="r-1", headers={"Mcp-Session-Id": "s1", "accept": None})
    assert ev["version"] == "2.0" and ev["routeKey"] == "$default"
    assert ev["rawPath"] == "/mcp" and ev["rawQueryString"] == ""
    assert ev["body"] == '{"jsonrpc": "2.0"}' and ev["isBase64Encoded"] is False
    assert ev["headers"]["content-type"] == "application/json"
    assert ev["headers"]["mcp-session-id"] == "s1" and "accept" not in ev["headers"]
    ctx = ev["requestContext"]
    assert ctx["accountId"] == "anonymous" and ctx["requestId"] == "r-1"
    assert ctx["domainName"] == f"{ctx['domainPrefix']}.lambda-url.us-east-1.on.aws" == ev["headers"]["host"]
    assert ctx["http"] == {"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1",
                           "sourceIp": "127.0.0.1", "userAgent": "fake-lambda-e2e"}
    assert ctx["stage"] == "$default" and isinstance(ctx["timeEpoch"], int)
    iam = ctx["authorizer"]["iam"]
    assert iam["userArn"] == role and iam["accountId"] == "111122223333"
    assert iam["callerId"].startswith("AROA") and iam["callerId"].endswith(":alice")
    assert iam["userId"] == iam["callerId"] and iam["accessKey"].startswith("ASIA")
    assert iam["cognitoIdentity"] is None and iam["principalOrgId"] is None

    user = function_url_event(b"{}", caller_arn="arn:aws:iam::123456789012:user/dev")
    assert user["requestContext"]["authorizer"]["iam"]["callerId"].startswith("AIDA")
    assert user["requestContext"]["authorizer"]["iam"]["accountId"] == "123456789012"
    assert user["headers"]["accept"] == "application/json, text/event-stream"

    anon = function_url_event("", caller_arn=None, method="get", path="/healthz?a=1&b=2")
    assert "authorizer" not in anon["requestContext"]
    assert anon["rawPath"] == "/healthz" and anon["rawQueryString"] == "a=1&b=2"
    assert anon["requestContext"]["http"]["method"] == "GET"
    assert anon["queryStringParameters"] == {"a": "1", "b": "2"}
    assert function_url_event(b"\xff\x00", caller_arn=None)["isBase64Encoded"] is True


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(body)

    def do_GET(self):
        self._answer(b"")

    def _answer(self, body):
        out = json.dumps({"host": self.headers["Host"], "path": self.path,
                          "body": body.decode(), "auth": self.headers.get("Authorization")}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_recording_proxy_records_a_form_body_and_passes_the_answer_through(upstream):
    proxy = RecordingProxy(upstream)
    try:
        form = ("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FR"
                "&SourceIdentity=alice&Tags.member.1.Key=ViaAWSMCPService&Tags.member.1.Value=true&Policy=")
        auth = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/sts/aws4_request, Signature=0"
        with httpx.Client(timeout=30, trust_env=False) as http:
            r = http.post(proxy.url + "/", content=form, headers={
                "Host": "sts.us-east-1.amazonaws.com", "Authorization": auth,
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
            g = http.get(proxy.url + "/moto-api/?x=1")
        assert r.status_code == 201 and r.headers["x-upstream"] == "yes"
        echoed = r.json()
        assert echoed == {"host": "sts.us-east-1.amazonaws.com", "path": "/", "body": form, "auth": auth}
        assert g.status_code == 201 and g.json()["path"] == "/moto-api/?x=1"

        first, second = proxy.requests
        assert first.method == "POST" and first.path == "/" and first.status == 201
        assert first.form["Action"] == ["AssumeRole"] and first.form["Policy"] == [""]
        assert first.action == "AssumeRole" and first.access_key == "ASIAEXAMPLE"
        assert first.params["Tags.member.1.Key"] == "ViaAWSMCPService"
        assert first.params["RoleArn"] == "arn:aws:iam::123456789012:role/R"
        assert first.headers["host"] == "sts.us-east-1.amazonaws.com"
        assert json.loads(first.response_body) == echoed
        assert proxy.with_action("AssumeRole") == [first]
        assert second.method == "GET" and second.query == "x=1" and second.form is None
        assert proxy.env() == {"AWS_ENDPOINT_URL_STS": proxy.url}
    finally:
        proxy.stop()


def test_recording_proxy_answers_502_when_the_upstream_is_down():
    proxy = RecordingProxy(f"http://127.0.0.1:{free_port()}")
    try:
        r = httpx.post(proxy.url + "/", content=b"Action=GetCallerIdentity", trust_env=False,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 502
        assert proxy.requests[0].action == "GetCallerIdentity" and proxy.requests[0].status == 502
    finally:
        proxy.stop()


def test_stop_releases_everything(bootstrap):
    rt = FakeRuntime("short-lived", bootstrap, concurrency=2)
    rt.wait_ready(20)
    pending = rt.invoke_async({"hang": True})
    wait_until(lambda: pending.status == "running", 20, "the hanging invocation")
    procs = [w.proc.p for w in rt.workers]
    started = time.monotonic()
    rt.stop()
    assert time.monotonic() - started < 10
    assert all(p.poll() is not None for p in procs)
    with pytest.raises(LambdaError):  # what was running is failed, not left waiting
        pending.result(1)
    with pytest.raises(LambdaError):
        rt.invoke({"late": True}, timeout=5)
    assert not [t for t in threading.enumerate() if t.name.startswith("runtime-short-lived")]
