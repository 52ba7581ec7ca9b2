#!/usr/bin/env python3
"""Record how the real AWS CLI v1 turns command lines into API parameters (parameter oracle).

The `aws-engine` crate re-implements the AWS CLI's argument parsing (shorthand, JSON,
booleans, lists, maps, --cli-input-json merging, pagination arguments, the CLI's
customisations...). This script runs every command line of tests/data/param_commands.txt
through the pinned CLI's own driver, in-process and with nothing sent to AWS, and records
the API parameter dict the CLI built, or the CLI's error if it refused the command.

How a command is run:
  * the line is split with shlex.split and the leading `aws` dropped;
  * a fresh `awscli.clidriver.create_clidriver()` runs `driver.main(args)` with stdout and
    stderr captured, sys.argv[0] = "aws", dummy credentials and region
    (AWS_ACCESS_KEY_ID=testing, AWS_SECRET_ACCESS_KEY=testing, AWS_DEFAULT_REGION=us-east-1,
    AWS_EC2_METADATA_DISABLED=true), empty temporary AWS_CONFIG_FILE /
    AWS_SHARED_CREDENTIALS_FILE and HOME, and every other AWS_* variable removed;
  * `awscli.clidriver.CLIOperationCaller.invoke` is replaced by a recorder: it stores
    (service_name, operation_name, parameters, parsed globals) and returns 0, so no client is
    created and nothing is sent. invoke() receives the dict after the CLI built it
    (argument table, shorthand/JSON parsing, the `calling-command` customisations such as
    --cli-input-json merging and ec2's PageSize injection) and BEFORE it chooses between a
    direct client call and the paginator. The paginator path therefore needs no separate
    patch: the CLI hands the same dict, with a "PaginationConfig" entry, to
    `client.get_paginator(op).paginate(**parameters)`, which takes PaginationConfig out;
  * a few awscli customisations act later, as handlers of the botocore client events
    provide-client-params / before-parameter-build (ec2 run-instances: default
    MinCount/MaxCount 1 and moving --subnet-id etc. into NetworkInterfaces; ec2
    create/replace-network-acl-entry: protocol names tcp/udp/icmp/all to numbers). Those
    handlers, and only those defined in awscli modules, are run on the recorded dict, the
    way the client would call them. botocore's own handlers (idempotency-token UUIDs,
    route53 id prefixes, glacier account id, s3 SSE-C MD5, EC2 UserData base64...) are
    not applied: they belong to botocore, after the CLI, like validation and serialisation.
    (They are run, with botocore's validation, only for the diagnostic warning below.)
  * as a safety net sockets cannot connect while a command runs;
  * commands run with shared/engine as the working directory (where `cargo test` runs the
    parity test), so relative `fileb://tests/data/files/...` paths name the same files for the
    CLI and the engine. write_fixtures() (re)writes those files deterministically before the
    run: function.zip (a zip holding one small Python file, fixed timestamp), image.png
    (a few bytes of PNG header and filler) and not-a-zip.bin (bytes that are no zip archive).

Output: shared/engine/tests/data/param_oracle.json.gz (gzip with mtime 0, sorted keys,
deterministic):
  {"source": {"awscli": "...", "botocore": "..."},
   "cases": [{"command": <line>, "ok": true, "service": <botocore service name, e.g. "s3" for
              s3api>, "operation": <API operation, e.g. "DescribeVpcs">,
              "params": {...}, "paging": {...} | null},
             {"command": <line>, "ok": false, "error": <first line of the CLI's error>}]}
  "command" is the line as written, without a trailing "# expect-error" marker.
  "paging" is null when the CLI would call the operation directly (not paginated, or
  pagination off: --no-paginate or a service-specific paging argument such as --max-results
  was given). Otherwise the CLI would use botocore's paginator and "paging" is its
  PaginationConfig ({} when no --max-items/--page-size/--starting-token was given), which is
  then removed from "params".
  Values are JSON: the CLI leaves timestamps and non-streaming blobs as the strings typed,
  but should bytes appear they are written as {"__bytes_base64__": "<base64>"}, and datetime /
  date objects as ISO-8601 strings (datetime.isoformat()). decimal.Decimal values (the
  `cloudwatch put-metric-data --value/--statistic-values` customisation builds them to keep
  the typed digits) are written as {"__decimal__": "<str(value)>"}. Any other non-JSON value
  is an error. The error line is the first non-empty stderr line after the CLI's generic usage
  banner (e.g. "aws: error: the following arguments are required: --table-name",
  "Unknown options: --foo", "Error parsing parameter '--tags': Expected: '=', received: ...").

Command file: one command per line starting with `aws`; blank lines and lines starting with
`#` are ignored. A line meant to be refused ends with " # expect-error" (only that trailing
marker is stripped; other `#` characters, e.g. inside quotes, are kept). The script checks
that exactly the marked lines are refused, and warns when an accepted command's parameters
would fail botocore's own parameter validation.

Summary on stdout: cases, valid, refused, services covered, unexpected refusals and
acceptances. Exit status 0 when clean, 1 when a line did not behave as marked (the oracle is
still written), 2 on a version mismatch (unless --allow-version-mismatch).

Refresh: bash infra/scripts/refresh_data.sh (all data), or .venv-tools/bin/python infra/scripts/generate_param_oracle.py
with the awscli and botocore pinned in tests/requirements-tools.txt installed.
To move to a new CLI, bump the pins there, rerun, fix any command the new CLI refuses, and review
the diff of the decompressed oracle.
"""

import argparse
import base64
import collections
import contextlib
import copy
import datetime
import decimal
import functools
import gzip
import io
import json
import os
import re
import shlex
import socket
import sys
import tempfile
from pathlib import Path

from pins import pinned

PINNED = pinned("awscli", "botocore")
ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "tests" / "data" / "param_commands.txt"
OUT = ROOT / "shared" / "engine" / "tests" / "data" / "param_oracle.json.gz"
ENGINE = ROOT / "shared" / "engine"
FIXTURES = ENGINE / "tests" / "data" / "files"
EXPECT_ERROR = re.compile(r"\s+#\s*expect-error\s*$")
MIN_COMMANDS, MIN_SERVICES = 300, 80


def read_commands(path):
    """[(line number, command, expect_error)] from the command file."""
    cases = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        expect_error = bool(EXPECT_ERROR.search(line))
        if expect_error:
            line = EXPECT_ERROR.sub("", line)
        cases.append((number, line, expect_error))
    return cases


def to_json(value):
    """Convert the CLI's parameter values to JSON values (see the module docstring)."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes_base64__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return {"__decimal__": str(value)}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"parameter value of type {type(value).__name__} is not JSON: {value!r}")


def write_fixtures():
    """The local files some commands read (fileb://), with the same bytes on every run."""
    import zipfile

    FIXTURES.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0))
        zf.writestr(info, "def handler(event, context):\n    return {'ok': True}\n")
    (FIXTURES / "function.zip").write_bytes(buffer.getvalue())
    (FIXTURES / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(24)))
    (FIXTURES / "not-a-zip.bin").write_bytes(b"this is not a zip archive\n")


class _NoNetwork:
    """Refuse every outgoing connection while active."""

    def __enter__(self):
        def refuse(*args, **kwargs):
            raise ConnectionRefusedError("network disabled by generate_param_oracle.py")

        self._saved = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection)
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        return self

    def __exit__(self, *exc):
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection = self._saved


def error_line(stderr, usage):
    """First non-empty line of the CLI's error output, skipping its generic usage banner."""
    text = stderr.replace("\r", "")
    banner = usage.replace("\r", "")
    text = text.replace("usage: " + banner, "").replace(banner, "")
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _handler_module(handler):
    """Module that defines an event handler (function, bound method, partial or callable)."""
    while isinstance(handler, functools.partial):
        handler = handler.func
    module = getattr(handler, "__module__", None)
    return module if isinstance(module, str) else type(handler).__module__


def _handlers(session, event_name):
    """The handlers botocore would call for event_name, in its calling order."""
    aliaser = session.get_component("event_emitter")  # botocore.hooks.EventAliaser
    name = aliaser._alias_event_name(event_name)
    return list(aliaser._emitter._handlers.prefix_search(name))


def emit_client_events(session, service_name, operation_name, params, from_awscli):
    """Run the client-time parameter events a botocore client emits before serialising.

    A client call emits provide-client-params.<service id>.<Operation> (the first non-None
    response replaces the parameters) and then before-parameter-build.<service id>.<Operation>
    (handlers edit the dict in place). Only handlers defined in awscli modules run when
    from_awscli is true, only the others (botocore's own) otherwise. Returns the parameters.
    """
    service_model = session.get_service_model(service_name)
    operation_model = service_model.operation_model(operation_name)
    service_id = service_model.service_id.hyphenize()
    for event in ("provide-client-params", "before-parameter-build"):
        event_name = f"{event}.{service_id}.{operation_name}"
        replaced = False
        for handler in _handlers(session, event_name):
            if _handler_module(handler).startswith("awscli.") != from_awscli:
                continue
            response = handler(params=params, model=operation_model, context={},
                               event_name=event_name)
            if event == "provide-client-params" and response is not None and not replaced:
                params, replaced = response, True
    return params


class Runner:
    def __init__(self, home):
        import awscli.clidriver
        from awscli.argparser import USAGE
        from awscli.customizations.paginate import get_paginator_config

        self._clidriver = awscli.clidriver
        self._usage = USAGE
        self._get_paginator_config = get_paginator_config
        self._calls = []
        config = Path(home) / "config"
        credentials = Path(home) / "credentials"
        config.write_text("")
        credentials.write_text("")
        self._env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "HOME": str(home),
        }
        calls = self._calls

        def record_invoke(caller, service_name, operation_name, parameters, parsed_globals):
            calls.append((service_name, operation_name, parameters, parsed_globals))
            return 0

        awscli.clidriver.CLIOperationCaller.invoke = record_invoke

    @contextlib.contextmanager
    def _isolated(self, stderr):
        """Dummy credentials, no network, captured output, argv[0] "aws", empty stdin."""
        saved_env = dict(os.environ)
        saved_argv = sys.argv[:]
        saved_stdin = sys.stdin
        # AWS_DATA_PATH is set by `import awscli` (its own data directory); keep it, drop
        # every other AWS_* variable of the caller's environment.
        for key in list(os.environ):
            if key.startswith("AWS_") and key != "AWS_DATA_PATH":
                del os.environ[key]
        os.environ.update(self._env)
        sys.argv[:] = ["aws"]
        sys.stdin = io.StringIO("")
        try:
            with _NoNetwork(), contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(stderr):
                yield
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            sys.argv[:] = saved_argv
            sys.stdin = saved_stdin

    def run(self, command):
        """(case, CLI parameters after the awscli client hooks or None, session or None)."""
        words = shlex.split(command)
        if not words or words[0] != "aws":
            return {"command": command, "ok": False, "error": "(line does not start with aws)"}, None, None
        del self._calls[:]
        err = io.StringIO()
        session = None
        with self._isolated(err):
            try:
                driver = self._clidriver.create_clidriver()
                session = driver.session
                rc = driver.main(words[1:])
            except SystemExit as e:  # argparse errors exit
                rc = e.code if isinstance(e.code, int) else 1
        if rc != 0 or len(self._calls) != 1:
            message = error_line(err.getvalue(), self._usage)
            if rc == 0:
                message = f"({len(self._calls)} API calls were made) {message}"
            return {"command": command, "ok": False, "error": message}, None, session

        service, operation, params, parsed_globals = self._calls[0]
        params = copy.deepcopy(params)
        paging = None
        if parsed_globals.paginate and \
                self._get_paginator_config(session, service, operation) is not None:
            # The CLI would call client.get_paginator(...).paginate(**params); the paginator
            # takes PaginationConfig out and calls the operation with the rest.
            paging = params.pop("PaginationConfig", {})
        # awscli also customises some calls through botocore client events (ec2 run-instances
        # --count default and network-interface rewrite, ec2 network ACL protocol names...):
        # apply those handlers, and only those, as the client would.
        err = io.StringIO()
        with self._isolated(err):
            try:
                params = emit_client_events(session, service, operation, params, from_awscli=True)
            except Exception as e:  # the CLI would print the exception and exit 255
                return {"command": command, "ok": False,
                        "error": (str(e).strip().splitlines() or [type(e).__name__])[0]}, None, session
        case = {"command": command, "ok": True, "service": service, "operation": operation,
                "params": to_json(params), "paging": to_json(paging)}
        return case, params, session


def botocore_problems(session, case, params):
    """botocore's own handlers and validation on the CLI's parameters (diagnostic only)."""
    from botocore.validate import ParamValidator

    params = copy.deepcopy(params)
    try:
        with _NoNetwork(), contextlib.redirect_stderr(io.StringIO()):
            params = emit_client_events(session, case["service"], case["operation"], params,
                                        from_awscli=False)
    except Exception as e:
        return f"botocore handler failed: {e}"
    model = session.get_service_model(case["service"]).operation_model(case["operation"])
    if model.input_shape is None:
        return "" if not params else f"operation takes no input: {params}"
    report = ParamValidator().validate(params, model.input_shape)
    return report.generate_report() if report.has_errors() else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allow-version-mismatch", action="store_true")
    ap.add_argument("--commands", type=Path, default=COMMANDS)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    # The commands run from shared/engine (see write_fixtures); resolve paths first.
    args.commands, args.out = args.commands.resolve(), args.out.resolve()

    # `import awscli` adds its data directory to AWS_DATA_PATH; start from a clean one so
    # that no user-supplied model directory is searched.
    os.environ.pop("AWS_DATA_PATH", None)
    # awscli 1.46 carries its own copy of botocore and, once awscli is imported, aliases
    # `import botocore` to it. Importing the pinned botocore first keeps every generated file
    # on one set of models (the bundled ones come from this botocore).
    import botocore
    import botocore.session
    import awscli

    installed = {"awscli": awscli.__version__, "botocore": botocore.__version__}
    if installed != PINNED and not args.allow_version_mismatch:
        print(f"installed {installed}, pinned {PINNED}; install the pinned versions or pass "
              "--allow-version-mismatch", file=sys.stderr)
        return 2

    commands = read_commands(args.commands)
    seen = {}
    problems = []
    for number, command, _ in commands:
        if command in seen:
            problems.append(f"line {number}: duplicate of line {seen[command]}: {command}")
        seen.setdefault(command, number)

    cases = []
    unexpected_refusals, unexpected_accepts, botocore_warnings = [], [], []
    write_fixtures()
    os.chdir(ENGINE)
    with tempfile.TemporaryDirectory(prefix="param-oracle-") as home:
        runner = Runner(home)
        for number, command, expect_error in commands:
            case, params, session = runner.run(command)
            if case["ok"]:
                if expect_error:
                    unexpected_accepts.append(f"line {number}: {command}")
                else:
                    report = botocore_problems(session, case, params)
                    if report:
                        botocore_warnings.append(f"line {number}: {command}\n    "
                                                 + report.replace("\n", "\n    "))
            elif not expect_error:
                unexpected_refusals.append(f"line {number}: {command}\n    -> {case['error']}")
            cases.append(case)

    document = {"source": installed, "cases": cases}
    raw = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    args.out.write_bytes(buffer.getvalue())

    valid = [c for c in cases if c["ok"]]
    services = sorted({c["service"] for c in valid})
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    print(f"cases: {len(cases)}  valid: {len(valid)}  refused: {len(cases) - len(valid)}  "
          f"services covered: {len(services)}")
    print(f"operations covered: {len({(c['service'], c['operation']) for c in valid})}  "
          f"paginated calls: {sum(c['paging'] is not None for c in valid)}")
    print("services: " + " ".join(services))
    models = botocore.session.get_session()
    protocols = collections.Counter(models.get_service_model(c["service"]).protocol for c in valid)
    print("valid cases by protocol: "
          + ", ".join(f"{name} {count}" for name, count in sorted(protocols.items())))
    if len(valid) < MIN_COMMANDS:
        problems.append(f"only {len(valid)} valid commands (want >= {MIN_COMMANDS})")
    if len(services) < MIN_SERVICES:
        problems.append(f"only {len(services)} services (want >= {MIN_SERVICES})")
    for title, items in (("unexpected refusals (line not marked # expect-error)", unexpected_refusals),
                         ("unexpected acceptances (line marked # expect-error)", unexpected_accepts),
                         ("other problems", problems)):
        print(f"{title}: {len(items)}")
        for item in items:
            print("  " + item)
    print(f"accepted commands botocore's validation would reject (warning): {len(botocore_warnings)}")
    for item in botocore_warnings:
        print("  " + item)
    return 1 if unexpected_refusals or unexpected_accepts or problems else 0


if __name__ == "__main__":
    sys.exit(main())
