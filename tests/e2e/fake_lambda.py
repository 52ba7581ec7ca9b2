"""Stand-ins for the Lambda service, so end-to-end tests can run each function's real release
binary (`target/lambda/<fn>/bootstrap`) on this machine:

- `FakeRuntime`: the Lambda Runtime API (what a `bootstrap` polls), one per function, running
  `concurrency` bootstrap processes; `invoke` / `invoke_async` hand it events.
- `function_url_event`: a Function URL event (payload format 2.0), optionally IAM-signed.
- `LambdaInvokeStandIn`: the Lambda `Invoke` API routed to registered `FakeRuntime`s (point
  SDKs at it with `AWS_ENDPOINT_URL_LAMBDA`).
- `RecordingProxy`: a recording reverse proxy in front of moto_server (point SDKs at it with
  `AWS_ENDPOINT_URL_STS`), to assert what reached STS.

Like real Lambda, one environment (bootstrap process) serves one invocation at a time; events
wait in a queue until a process asks for the next one. A *synchronous* invoke of a function
from inside one of its own invocations therefore waits forever when every process of that
function is busy (with the default `concurrency=1`, always): tests must not do that, or must
give the runtime `concurrency >= 2`. `Event` invocations (fire and forget, what the api
function uses to hand itself a task) are only queued, so they never deadlock.

A process that exits fails the invocation it was running (`Runtime.ExitError`), or, if it
died before asking for its first event, the oldest queued one (its init error when it posted
one); it is then started again, like a fresh Lambda environment, up to `max_restarts` times.
An invocation past its deadline gets `Sandbox.Timedout` and its process is killed.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import http.client
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from conftest import Proc, base_env

REGION = "us-east-1"
ACCOUNT = "123456789012"
RUNTIME_PREFIX = "/2018-06-01/runtime"
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding", "upgrade"}


# ---------------------------------------------------------------------------------------------
# Small HTTP plumbing shared by the servers.


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # never join handler threads (a runtime's /next may be blocked)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Rust runtime client expects
    # Headers and body go out in two writes; with Nagle's algorithm on, the second waits for
    # the peer's delayed ACK (about 40 ms) and every invocation would pay it.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def read_body(self) -> tuple[bytes, dict[str, str]]:
        """The request body (Content-Length or chunked) and any chunked trailers."""
        trailers: dict[str, str] = {}
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                        k, _, v = t.decode("latin-1").partition(":")
                        trailers[k.strip().lower()] = v.strip()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks), trailers
        n = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(n) if n else b""), trailers

    def reply(self, status: int, body: bytes | str | dict | list | None = b"",
              headers: dict[str, str] | None = None, content_type: str = "application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        body = body or b""
        self.send_response(status)
        if body or status not in (202, 204):
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if body and status != 204:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a bootstrap stopped mid-poll): nothing to tell it

    def lower_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in self.headers.items():
            k = k.lower()
            out[k] = f"{out[k]}, {v}" if k in out else v
        return out


def _serve(handler: type, name: str, **attrs) -> tuple[_Server, threading.Thread]:
    server = _Server(("127.0.0.1", 0), handler)
    for k, v in attrs.items():
        setattr(server, k, v)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=name, daemon=True)
    thread.start()
    return server, thread


def _shutdown(server: _Server, thread: threading.Thread):
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _loads(raw: bytes) -> Any:
    """JSON if it parses, else the text (or the bytes, if not UTF-8)."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return raw


def _access_key(authorization: str | None) -> str | None:
    """The access key id a SigV4 `Authorization` header names."""
    m = re.search(r"Credential=([^/,\s]+)/", authorization or "")
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------------
# The Runtime API.


class LambdaError(Exception):
    """An invocation that ended in a function error (the runtime's `/error`, a crash, a
    timeout). `body` is the error document (parsed JSON when it is JSON)."""

    def __init__(self, invocation: Invocation, stderr: str = ""):
        self.invocation = invocation
        self.function = invocation.function
        self.request_id = invocation.request_id
        self.body = invocation.error
        self.error_type = invocation.error_type
        self.stderr = stderr
        detail = self.body.get("errorMessage", self.body) if isinstance(self.body, dict) else self.body
        msg = f"{self.function} invocation {self.request_id} failed: {self.error_type}: {detail}"
        if stderr:
            msg += f"\n--- bootstrap stderr (tail) ---\n{stderr[-4000:]}"
        super().__init__(msg)

    @property
    def error_message(self) -> str | None:
        return self.body.get("errorMessage") if isinstance(self.body, dict) else None


class Invocation:
    """One event handed to a `FakeRuntime`, and what became of it."""

    def __init__(self, runtime: FakeRuntime, payload: bytes, invocation_type: str,
                 client_context: str | None = None):
        self.runtime = runtime
        self.function = runtime.name
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        self.event = _loads(payload)
        self.invocation_type = invocation_type
        self.client_context = client_context
        self.trace_id = (f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
                         f"Parent={uuid.uuid4().hex[:16]};Sampled=0")
        self.status = "queued"  # queued | running | succeeded | failed
        self.queued_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.deadline_ms: int | None = None
        self.worker: int | None = None
        self.response: Any = None  # parsed response (success)
        self.response_raw: bytes | None = None
        self.error: Any = None  # parsed error document (failure)
        self.error_raw: bytes | None = None
        self.error_type: str | None = None
        self.done = threading.Event()

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def wait(self, timeout: float = 60) -> bool:
        return self.done.wait(timeout)

    def result(self, timeout: float = 60) -> Any:
        """The parsed response; raises `LambdaError` on a function error, `TimeoutError`."""
        if not self.done.wait(timeout):
            raise TimeoutError(
                f"{self.function} invocation {self.request_id} ({self.status}) has no answer "
                f"after {timeout}s (a synchronous invoke of a function from inside its own "
                f"invocation deadlocks when all its processes are busy)\n"
                f"--- bootstrap stderr (tail) ---\n{self.runtime.stderr()[-4000:]}")
        if self.status != "succeeded":
            raise LambdaError(self, self.runtime.stderr())
        return self.response

    def __repr__(self):
        return f"<Invocation {self.function} {self.request_id} {self.invocation_type} {self.status}>"


class _Worker:
    """One bootstrap process (one Lambda environment) and its own Runtime API listener, so an
    exit maps to exactly the invocation it was running."""

    def __init__(self, runtime: FakeRuntime, index: int):
        self.runtime = runtime
        self.index = index
        self.server, self.thread = _serve(_RuntimeHandler, f"runtime-{runtime.name}-{index}",
                                          worker=self)
        self.port = self.server.server_address[1]
        self.proc: Proc | None = None
        self.procs: list[Proc] = []
        self.current: Invocation | None = None
        self.polled = False  # the current process asked for an event at least once
        self.exit_handled = False
        self.init_error: Any = None
        self.init_error_type: str | None = None
        self.timed_out: Invocation | None = None

    def start(self):
        rt = self.runtime
        env = base_env()
        env.update({k: str(v) for k, v in rt.env.items() if v is not None})
        for k in [k for k, v in rt.env.items() if v is None]:
            env.pop(k, None)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.port}",
            "AWS_LAMBDA_FUNCTION_NAME": rt.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{rt.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "test",
            # Real Lambda names the deployment package's folder; code tells Lambda by it.
            "LAMBDA_TASK_ROOT": str(Path(rt.bootstrap).parent),
        })
        self.polled = False
        self.exit_handled = False
        self.init_error = None
        self.init_error_type = None
        self.timed_out = None
        self.proc = Proc([str(rt.bootstrap)], env, cwd=rt.bootstrap.parent)
        self.procs.append(self.proc)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.p.poll() is None


class FakeRuntime:
    """The Lambda Runtime API for one function, running `concurrency` bootstrap processes.

    Recorded for assertions: `invocations` (every `Invocation`, in queue order), `events`
    (every event handed to a process, in that order), `responses` (every successful response),
    `errors` (every error document), `init_errors`, `exits` ((worker, exit code) pairs)."""

    def __init__(self, name: str, bootstrap: str | Path, env: dict | None = None, *,
                 concurrency: int = 1, timeout: float = 60.0, max_restarts: int = 3):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.name = name
        self.arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        self.bootstrap = Path(bootstrap).resolve()
        if not self.bootstrap.is_file():
            raise FileNotFoundError(f"no bootstrap at {self.bootstrap} (run `cargo lambda build --release`)")
        self.env = dict(env or {})
        self.timeout = timeout
        self.concurrency = concurrency
        self.invocations: list[Invocation] = []
        self.events: list[Any] = []
        self.responses: list[Any] = []
        self.errors: list[Any] = []
        self.init_errors: list[dict] = []
        self.exits: list[tuple[int, int | None]] = []
        self.restarts_left = max_restarts
        self._queue: collections.deque[Invocation] = collections.deque()
        self._by_id: dict[str, Invocation] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._dead = False
        self.workers = [_Worker(self, i) for i in range(concurrency)]
        for w in self.workers:
            w.start()
        self._monitor = threading.Thread(target=self._watch, name=f"runtime-{name}-monitor",
                                         daemon=True)
        self._monitor.start()

    # -- invoking ---------------------------------------------------------------------------

    def invoke(self, event: Any, timeout: float = 60) -> Any:
        """Runs one event and returns the parsed response; raises `LambdaError` when the
        function answers with an error (or crashes, or times out)."""
        return self.enqueue(json.dumps(event).encode(), "RequestResponse").result(timeout)

    def invoke_async(self, event: Any) -> Invocation:
        """Queues one event without waiting (`Invocation.result()` waits)."""
        return self.enqueue(json.dumps(event).encode(), "Event")

    def enqueue(self, payload: bytes, invocation_type: str = "RequestResponse",
                client_context: str | None = None) -> Invocation:
        """Queues a raw JSON payload (what the Invoke stand-in uses)."""
        inv = Invocation(self, payload, invocation_type, client_context)
        with self._cond:
            self.invocations.append(inv)
            self._by_id[inv.request_id] = inv
            if self._dead and not self._stopping and self.init_errors:
                last = self.init_errors[-1]
                self._fail(inv, last["error_type"] or "Runtime.InitError", last["body"])
            elif self._stopping or self._dead:
                why = "stopped" if self._stopping else "every process exited"
                self._fail(inv, "Runtime.ExitError",
                           {"errorType": "Runtime.ExitError",
                            "errorMessage": f"RequestId: {inv.request_id} Error: the runtime is {why}"})
            else:
                self._queue.append(inv)
                self._cond.notify_all()
        return inv

    def wait_idle(self, timeout: float = 60):
        """Waits until nothing is queued or running (e.g. after `Event` invocations)."""
        with self._cond:
            if not self._cond.wait_for(lambda: all(i.done.is_set() for i in self.invocations),
                                       timeout):
                busy = [i for i in self.invocations if not i.done.is_set()]
                raise TimeoutError(f"{self.name} still busy after {timeout}s: {busy}\n"
                                   f"--- bootstrap stderr (tail) ---\n{self.stderr()[-4000:]}")

    def wait_ready(self, timeout: float = 60):
        """Waits until every process has asked for its first event (initialised)."""
        with self._cond:
            if not self._cond.wait_for(
                    lambda: self._dead or all(w.polled for w in self.workers), timeout):
                raise TimeoutError(f"{self.name} not ready after {timeout}s\n{self.stderr()[-4000:]}")
            if self._dead:
                raise RuntimeError(f"{self.name}: every bootstrap process exited\n{self.stderr()[-4000:]}")

    # -- inspection -------------------------------------------------------------------------

    def stderr(self) -> str:
        """Everything the bootstrap processes wrote to stderr so far."""
        procs = [(w.index, p) for w in self.workers for p in w.procs]
        if len(procs) == 1:
            return procs[0][1].stderr()
        return "".join(f"--- worker {i} pid {p.p.pid} ---\n{p.stderr()}" for i, p in procs)

    @property
    def pids(self) -> list[int]:
        return [w.proc.p.pid for w in self.workers if w.proc is not None]

    # -- shutting down ----------------------------------------------------------------------

    def stop(self):
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
        for w in self.workers:
            for p in w.procs:
                p.stop()
        self._monitor.join(timeout=5)
        with self._cond:
            for inv in self.invocations:
                if not inv.done.is_set():
                    self._fail(inv, "Runtime.ExitError",
                               {"errorType": "Runtime.ExitError",
                                "errorMessage": f"RequestId: {inv.request_id} Error: the runtime was stopped"})
        for w in self.workers:
            _shutdown(w.server, w.thread)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- internals (called with self._cond held) --------------------------------------------

    def _finish(self, inv: Invocation):
        inv.finished_at = time.time()
        for w in self.workers:
            if w.current is inv:
                w.current = None
        inv.done.set()
        self._cond.notify_all()

    def _fail(self, inv: Invocation, error_type: str | None, body: Any, raw: bytes | None = None):
        inv.status = "failed"
        inv.error = body
        inv.error_raw = raw if raw is not None else json.dumps(body).encode()
        inv.error_type = error_type or (body.get("errorType") if isinstance(body, dict) else None)
        self.errors.append(body)
        self._finish(inv)

    def _succeed(self, inv: Invocation, raw: bytes, parsed: Any):
        inv.status = "succeeded"
        inv.response_raw = raw
        inv.response = parsed
        self.responses.append(parsed)
        self._finish(inv)

    def _next_for(self, worker: _Worker) -> Invocation | None:
        """Blocks until an event is queued for `worker`'s process (None: stop)."""
        with self._cond:
            proc = worker.proc  # read under the lock: a restart replaces it under the lock
            worker.polled = True
            self._cond.notify_all()
            while True:
                if self._stopping or worker.proc is not proc or proc.p.poll() is not None:
                    return None
                if self._queue:
                    inv = self._queue.popleft()
                    inv.status = "running"
                    inv.started_at = time.time()
                    inv.deadline_ms = int((time.time() + self.timeout) * 1000)
                    inv.worker = worker.index
                    worker.current = inv
                    self.events.append(inv.event)
                    return inv
                self._cond.wait(0.2)

    def _requeue(self, inv: Invocation):
        """An event that could not be delivered goes back to the front of the queue."""
        with self._cond:
            if inv.status == "running" and not inv.done.is_set():
                for w in self.workers:
                    if w.current is inv:
                        w.current = None
                inv.status = "queued"
                inv.worker = None
                self.events.pop()
                self._queue.appendleft(inv)
                self._cond.notify_all()

    def _watch(self):
        """Handles process exits and deadlines (the monitor thread)."""
        while True:
            with self._cond:
                if self._stopping:
                    return
                now_ms = time.time() * 1000
                for w in self.workers:
                    inv = w.current
                    if (inv is not None and not inv.done.is_set() and w.timed_out is None
                            and inv.deadline_ms is not None and now_ms > inv.deadline_ms + 500):
                        w.timed_out = inv
                        w.proc.p.kill()
                for w in self.workers:
                    if w.proc is None or w.exit_handled or w.proc.p.poll() is None:
                        continue
                    self._handle_exit(w)
                if not self._dead and not any(w.alive() for w in self.workers):
                    self._dead = True
                    while self._queue:
                        inv = self._queue.popleft()
                        self._fail(inv, "Runtime.ExitError",
                                   {"errorType": "Runtime.ExitError",
                                    "errorMessage": f"RequestId: {inv.request_id} Error: every "
                                                    f"bootstrap process exited"})
                    self._cond.notify_all()
                self._cond.wait(0.1)

    def _handle_exit(self, w: _Worker):
        w.exit_handled = True
        code = w.proc.p.returncode
        self.exits.append((w.index, code))
        status = f"exit status {code}" if code is not None and code >= 0 else f"signal: {-(code or 0)}"
        victim = w.current if w.current is not None and not w.current.done.is_set() else None
        if victim is not None and w.timed_out is victim:
            self._fail(victim, "Sandbox.Timedout",
                       {"errorType": "Sandbox.Timedout",
                        "errorMessage": f"RequestId: {victim.request_id} Error: Task timed out "
                                        f"after {self.timeout:.2f} seconds"})
        elif victim is not None:
            self._fail(victim, "Runtime.ExitError",
                       {"errorType": "Runtime.ExitError",
                        "errorMessage": f"RequestId: {victim.request_id} Error: Runtime exited "
                                        f"with error: {status}"})
        elif not w.polled and self._queue:
            # Died while initialising: the invocation that was waiting for it fails.
            inv = self._queue.popleft()
            if w.init_error is not None:
                self._fail(inv, w.init_error_type or "Runtime.InitError", w.init_error)
            else:
                self._fail(inv, "Runtime.ExitError",
                           {"errorType": "Runtime.ExitError",
                            "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited "
                                            f"during init with error: {status}"})
        w.current = None
        if not self._stopping and self.restarts_left > 0:
            self.restarts_left -= 1
            w.start()


class _RuntimeHandler(_Handler):
    server: _Server

    @property
    def worker(self) -> _Worker:
        return self.server.worker  # type: ignore[attr-defined]

    def do_GET(self):
        path = urlsplit(self.path).path
        if path != f"{RUNTIME_PREFIX}/invocation/next":
            return self.reply(404, {"errorType": "NotFound", "errorMessage": f"no route {path}"})
        worker = self.worker
        rt = worker.runtime
        inv = rt._next_for(worker)
        if inv is None:
            # Stopping (or this process was replaced): let the client go.
            self.close_connection = True
            return self.reply(410, {"errorType": "Runtime.Stopped", "errorMessage": "stopping"})
        headers = {
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": rt.arn,
            "Lambda-Runtime-Trace-Id": inv.trace_id,
        }
        if inv.client_context:
            headers["Lambda-Runtime-Client-Context"] = inv.client_context
        try:
            self.reply(200, inv.payload, headers)
        except OSError:
            rt._requeue(inv)
            raise

    def do_POST(self):
        path = urlsplit(self.path).path
        body, trailers = self.read_body()
        rt = self.worker.runtime
        if path == f"{RUNTIME_PREFIX}/init/error":
            doc = _loads(body)
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") or (
                doc.get("errorType") if isinstance(doc, dict) else None)
            with rt._cond:
                self.worker.init_error = doc
                self.worker.init_error_type = error_type
                rt.init_errors.append({"worker": self.worker.index, "body": doc,
                                       "error_type": error_type})
            self.reply(202, {"status": "OK"})
            # Real Lambda resets an environment whose init failed.
            proc = self.worker.proc
            if proc is not None:
                proc.p.terminate()
            return
        m = re.fullmatch(re.escape(RUNTIME_PREFIX) + r"/invocation/([^/]+)/(response|error)", path)
        if not m:
            return self.reply(404, {"errorType": "NotFound", "errorMessage": f"no route {path}"})
        request_id, kind = m.group(1), m.group(2)
        with rt._cond:
            inv = rt._by_id.get(request_id)
            if inv is None:
                answer = (400, {"errorType": "InvalidRequestID", "errorMessage": f"unknown request id {request_id}"})
            elif inv.done.is_set() or inv.status != "running":
                answer = (400, {"errorType": "InvalidStateTransition",
                                "errorMessage": f"invocation {request_id} is {inv.status}"})
            else:
                answer = (202, {"status": "OK"})
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                if kind == "error":
                    rt._fail(inv, error_type, _loads(body), body)
                elif "lambda-runtime-function-error-type" in trailers:
                    raw = base64.b64decode(trailers.get("lambda-runtime-function-error-body", ""))
                    rt._fail(inv, trailers["lambda-runtime-function-error-type"], _loads(raw), raw)
                elif (self.headers.get("Lambda-Runtime-Function-Response-Mode") or "").lower() == "streaming":
                    rt._succeed(inv, body, _streamed(body))
                else:
                    rt._succeed(inv, body, _loads(body))
        self.reply(*answer)


def _streamed(body: bytes) -> Any:
    """A streamed Function URL response: a JSON prelude, 8 NUL bytes, then the body."""
    prelude, sep, rest = body.partition(b"\x00" * 8)
    if not sep:
        return _loads(body)
    doc = _loads(prelude)
    if not isinstance(doc, dict):
        return _loads(body)
    try:
        doc["body"] = rest.decode()
    except UnicodeDecodeError:
        doc["body"] = base64.b64encode(rest).decode()
        doc["isBase64Encoded"] = True
    return doc


# ---------------------------------------------------------------------------------------------
# Function URL events.

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _fake_id(prefix: str, seed: str, n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(alphabet[b % 32] for b in digest[:n])


def iam_authorizer(caller_arn: str, account: str = ACCOUNT) -> dict:
    """The `requestContext.authorizer` a Function URL with `AWS_IAM` auth adds for a caller."""
    kind = caller_arn.split(":", 5)[-1]
    if kind.startswith("assumed-role/"):
        session = kind.split("/")[-1]
        role_id = _fake_id("AROA", caller_arn.rsplit("/", 1)[0], 17)
        user_id = caller_id = f"{role_id}:{session}"
        access_key = _fake_id("ASIA", caller_arn, 16)
    elif kind == "root":
        user_id = caller_id = account
        access_key = _fake_id("AKIA", caller_arn, 16)
    elif kind.startswith("federated-user/"):
        user_id = caller_id = f"{account}:{kind.split('/', 1)[1]}"
        access_key = _fake_id("ASIA", caller_arn, 16)
    else:
        user_id = caller_id = _fake_id("AIDA", caller_arn, 17)
        access_key = _fake_id("AKIA", caller_arn, 16)
    return {"iam": {"accessKey": access_key, "accountId": account, "callerId": caller_id,
                    "cognitoIdentity": None, "principalOrgId": None,
                    "userArn": caller_arn, "userId": user_id}}


def function_url_event(body: str | bytes | dict | list | None, *, caller_arn: str | None,
                       account: str = ACCOUNT, method: str = "POST", path: str = "/mcp",
                       headers: dict | None = None, request_id: str | None = None,
                       source_ip: str = "127.0.0.1", url_id: str = "abcdefghijklmnopqrstuvwxyz012345") -> dict:
    """A Function URL event (payload format 2.0). With `caller_arn`, the request looks signed
    by that principal (`requestContext.authorizer.iam`); without it, as with `AuthType NONE`.
    `headers` add to / override the defaults (a None value removes one); `path` may carry a
    query string. A dict or list body is sent as JSON; bytes that are not UTF-8 go base64."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    encoded = False
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(body).decode(), True
    raw_path, _, query = path.partition("?")
    domain = f"{url_id}.lambda-url.{REGION}.on.aws"
    now = datetime.now(timezone.utc)
    request_id = request_id or str(uuid.uuid4())
    hdrs = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "host": domain,
        "user-agent": "fake-lambda-e2e",
        "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    for k, v in (headers or {}).items():
        if v is None:
            hdrs.pop(k.lower(), None)
        else:
            hdrs[k.lower()] = str(v)
    context: dict[str, Any] = {
        "accountId": "anonymous",
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {"method": method.upper(), "path": raw_path, "protocol": "HTTP/1.1",
                 "sourceIp": source_ip, "userAgent": hdrs.get("user-agent", "")},
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": f"{now.day:02d}/{_MONTHS[now.month - 1]}/{now.year}:{now:%H:%M:%S} +0000",
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if caller_arn is not None:
        context["authorizer"] = iam_authorizer(caller_arn, account)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in
                                          parse_qs(query, keep_blank_values=True).items()}
    if body is not None:
        event["body"] = body
    return event


# ---------------------------------------------------------------------------------------------
# The Invoke API.


@dataclass
class InvokeRequest:
    """One request the Invoke stand-in received."""
    function: str  # the function name, out of a name, partial ARN or ARN
    target: str  # the FunctionName as sent (URL-decoded)
    qualifier: str | None
    invocation_type: str
    headers: dict[str, str]  # lower-case names
    payload: bytes
    event: Any = None
    status: int | None = None
    invocation: Invocation | None = None  # None for DryRun, unknown functions, bad requests

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def access_key(self) -> str | None:
        return _access_key(self.authorization)


def function_name(target: str) -> tuple[str, str | None]:
    """(name, qualifier) from a function name, `name:qualifier`, partial ARN or ARN."""
    parts = target.split(":")
    if parts[0] == "arn" and len(parts) >= 7:
        return parts[6], (parts[7] if len(parts) > 7 else None)
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2], (parts[3] if len(parts) > 3 else None)
    return parts[0], (parts[1] if len(parts) > 1 else None)


class LambdaInvokeStandIn:
    """`POST /2015-03-31/functions/<name>/invocations`, routed to registered `FakeRuntime`s.
    Every request is recorded in `requests` (before it is answered)."""

    def __init__(self, *, timeout: float | None = None):
        self.timeout = timeout  # a RequestResponse wait; None: the function's timeout + 5 s
        self.functions: dict[str, FakeRuntime] = {}
        self.requests: list[InvokeRequest] = []
        self.server, self.thread = _serve(_InvokeHandler, "lambda-invoke-stand-in", stand_in=self)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def register(self, name: str, runtime: FakeRuntime):
        self.functions[name] = runtime

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_LAMBDA": self.url}

    def requests_for(self, name: str) -> list[InvokeRequest]:
        return [r for r in self.requests if r.function == name]

    def stop(self):
        _shutdown(self.server, self.thread)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _error_doc(error_type: str, message: str) -> tuple[dict, dict]:
    return {"Type": "User", "message": message}, {"x-amzn-ErrorType": error_type}


class _InvokeHandler(_Handler):
    def do_POST(self):
        stand_in: LambdaInvokeStandIn = self.server.stand_in  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        body, _ = self.read_body()
        m = INVOKE_PATH.match(url.path)
        if not m:
            doc, hdrs = _error_doc("UnknownOperationException", f"no route {url.path}")
            return self.reply(404, doc, hdrs)
        target = unquote(m.group("name"))
        name, qualifier = function_name(target)
        qualifier = parse_qs(url.query).get("Qualifier", [qualifier])[0]
        itype = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        record = InvokeRequest(function=name, target=target, qualifier=qualifier,
                               invocation_type=itype, headers=self.lower_headers(), payload=body)
        stand_in.requests.append(record)
        payload = body if body.strip() else b"{}"
        try:
            record.event = json.loads(payload)
        except ValueError:
            record.event = _loads(payload)
            return self._answer(record, 400, *_error_doc(
                "InvalidRequestContentException", "Could not parse request body into json"))
        runtime = stand_in.functions.get(name)
        if runtime is None:
            return self._answer(record, 404, *_error_doc(
                "ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"))
        if itype == "DryRun":
            return self._answer(record, 204, b"", {})
        if itype == "Event":
            record.invocation = runtime.enqueue(payload, "Event")
            return self._answer(record, 202, b"", {"x-amzn-RequestId": record.invocation.request_id})
        if itype != "RequestResponse":
            return self._answer(record, 400, *_error_doc(
                "InvalidParameterValueException", f"unknown invocation type {itype}"))
        context = self.headers.get("X-Amz-Client-Context")
        if context:
            try:
                context = base64.b64decode(context).decode()
            except ValueError:
                pass
        inv = record.invocation = runtime.enqueue(payload, "RequestResponse", context or None)
        headers = {"x-amzn-RequestId": inv.request_id, "X-Amz-Executed-Version": "$LATEST"}
        wait = stand_in.timeout if stand_in.timeout is not None else runtime.timeout + 5
        finished = inv.wait(wait)
        if (self.headers.get("X-Amz-Log-Type") or "").lower() == "tail":
            tail = runtime.stderr().encode(errors="replace")[-4096:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        if not finished:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return self._answer(record, 200, {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {inv.request_id} Error: no answer after {wait:.2f} seconds"},
                headers)
        if inv.ok:
            return self._answer(record, 200, inv.response_raw or b"", headers)
        headers["X-Amz-Function-Error"] = "Unhandled"
        return self._answer(record, 200, inv.error_raw or b"", headers)

    def _answer(self, record: InvokeRequest, status: int, body, headers: dict):
        record.status = status
        self.reply(status, body, headers)

    def do_GET(self):
        doc, hdrs = _error_doc("UnknownOperationException", f"no route {self.path}")
        self.reply(404, doc, hdrs)


# ---------------------------------------------------------------------------------------------
# The recording reverse proxy.


@dataclass
class ProxiedRequest:
    """One request that went through a `RecordingProxy`, and the upstream's answer."""
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    form: dict[str, list[str]] | None = None  # parse_qs of a form-urlencoded body
    json: Any = None  # the parsed body when it is JSON
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    @property
    def params(self) -> dict[str, str]:
        """Query string and form parameters, first value of each."""
        merged = parse_qs(self.query, keep_blank_values=True)
        merged.update(self.form or {})
        return {k: v[0] for k, v in merged.items()}

    @property
    def action(self) -> str | None:
        return self.params.get("Action")

    @property
    def access_key(self) -> str | None:
        return _access_key(self.headers.get("authorization"))


class RecordingProxy:
    """Forwards every request unchanged (the Host header too, as SigV4 signed it) to
    `upstream` and records it in `requests` before answering the client."""

    def __init__(self, upstream: str, *, timeout: float = 60.0):
        up = urlsplit(upstream)
        self.upstream = upstream.rstrip("/")
        self.upstream_scheme = up.scheme or "http"
        self.upstream_host = up.hostname or "127.0.0.1"
        self.upstream_port = up.port or (443 if self.upstream_scheme == "https" else 80)
        self.upstream_prefix = up.path.rstrip("/")
        self.timeout = timeout
        self.requests: list[ProxiedRequest] = []
        self.server, self.thread = _serve(_ProxyHandler, "recording-proxy", proxy=self)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def env(self, service: str = "STS") -> dict[str, str]:
        return {f"AWS_ENDPOINT_URL_{service.upper()}": self.url}

    def with_action(self, action: str) -> list[ProxiedRequest]:
        return [r for r in self.requests if r.action == action]

    def connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.upstream_scheme == "https" else http.client.HTTPConnection
        return cls(self.upstream_host, self.upstream_port, timeout=self.timeout)

    def stop(self):
        _shutdown(self.server, self.thread)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class _ProxyHandler(_Handler):
    def _forward(self):
        proxy: RecordingProxy = self.server.proxy  # type: ignore[attr-defined]
        body, _ = self.read_body()
        url = urlsplit(self.path)
        headers = self.lower_headers()
        record = ProxiedRequest(method=self.command, path=url.path, query=url.query,
                                headers=headers, body=body)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            record.form = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
        elif body:
            parsed = _loads(body)
            if not isinstance(parsed, (str, bytes)):
                record.json = parsed
        conn = proxy.connect()
        try:
            conn.putrequest(self.command, proxy.upstream_prefix + self.path,
                            skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    conn.putheader(k, v)
            if body or self.command in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
            status, reason, resp_headers = resp.status, resp.reason, resp.getheaders()
        except OSError as e:
            status, reason, data = 502, "Bad Gateway", f"upstream {proxy.upstream}: {e}".encode()
            resp_headers = [("Content-Type", "text/plain")]
        finally:
            conn.close()
        record.status = status
        record.response_headers = {k.lower(): v for k, v in resp_headers}
        record.response_body = data
        proxy.requests.append(record)
        self.send_response_only(status, reason)
        for k, v in resp_headers:
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        if self.command == "HEAD":
            length = record.response_headers.get("content-length")
            if length is not None:
                self.send_header("Content-Length", length)
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward


# ---------------------------------------------------------------------------------------------
# A Function URL in front of a runtime.


class FunctionUrlServer:
    """An HTTP endpoint that turns each request into a Function URL event for `runtime` and
    the function's answer back into HTTP, as a Function URL with `AWS_IAM` auth does. The
    caller is the principal whose access key signed the request (`callers` maps access key
    ids to ARNs; an unknown or missing signature gets 403 as the real service gives).
    Signatures themselves are not verified: the stand-in is about who the function is told
    is calling, not about SigV4."""

    def __init__(self, runtime: FakeRuntime, callers: dict[str, str]):
        self.runtime = runtime
        self.callers = dict(callers)
        self.server, self.thread = _serve(_UrlHandler, "function-url", front=self)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        _shutdown(self.server, self.thread)


class _UrlHandler(_Handler):
    def _serve_any(self):
        front: FunctionUrlServer = self.server.front
        body, _ = self.read_body()
        caller = front.callers.get(_access_key(self.headers.get("Authorization")) or "")
        if caller is None:
            self.reply(403, {"Message": "Forbidden"})
            return
        headers = {k: v for k, v in self.lower_headers().items()
                   if k not in ("authorization", "content-length", "host")}
        event = function_url_event(body, caller_arn=caller, method=self.command, path=self.path,
                                   headers=headers)
        try:
            answer = front.runtime.invoke(event)
        except LambdaError as e:
            self.reply(502, {"Message": f"function error: {e}"})
            return
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else payload.encode()
        out_headers = {k: v for k, v in (answer.get("headers") or {}).items()
                       if k.lower() not in ("content-length", "content-type")}
        self.reply(answer.get("statusCode", 200), data, out_headers,
                   content_type=(answer.get("headers") or {}).get("content-type", "application/json"))

    do_GET = do_POST = do_DELETE = _serve_any
