"""Forwarding overhead of the one endpoint, measured locally: the same tools/call sent to the
api function directly (its own Function URL) and through the front function (which forwards a
sealed event with the Lambda Invoke API), side by side in one run. Each function is its
release bootstrap under the fake Lambda Runtime API (tests/e2e/fake_lambda.py); AWS is
moto_server. Not part of the test suite: figures go to docs/benchmarks.md.

    cargo lambda build --release --package knowledge --package api   # once
    N=200 .venv-test/bin/python tests/bench_forwarding.py
"""

import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "e2e"))

import boto3  # noqa: E402

from conftest import TARGET, TOOLS_BIN, Proc, base_env, free_port, wait_until  # noqa: E402
from fake_lambda import ACCOUNT, FakeRuntime, LambdaInvokeStandIn  # noqa: E402
from test_act_as_caller import Endpoint, trust_anyone  # noqa: E402

CALLER = f"arn:aws:iam::{ACCOUNT}:user/bench"
CALLS = [
    ("suggest_aws_commands (no AWS)", "aws___suggest_aws_commands", {"query": "list lambda functions"}),
    ("call_aws sts get-caller-identity", "aws___call_aws", {"cli_command": "aws sts get-caller-identity"}),
]


def timed(session, tool, arguments, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        session.call(tool, arguments)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)]


def main():
    n = int(os.environ.get("N", "100"))
    port = free_port()
    moto = f"http://127.0.0.1:{port}"
    moto_proc = Proc([str(TOOLS_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], base_env())
    runtimes = []
    invoke = LambdaInvokeStandIn()
    try:
        import httpx
        wait_until(lambda: httpx.get(moto + "/moto-api/").status_code < 500, 30, "moto")
        boto = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing",
                    aws_secret_access_key="testing")
        boto3.client("iam", **boto).create_role(RoleName="Bench", AssumeRolePolicyDocument=trust_anyone())
        boto3.client("secretsmanager", **boto).create_secret(
            Name="bench-key", SecretString=base64.b64encode(b"k" * 36).decode())
        env = base_env(AWS_ENDPOINT_URL=moto, **invoke.env(), AWS_MCP_INTERNAL_KEY_SECRET="bench-key",
                       AWS_MCP_STATE_DIR=Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-fwd-{port}",
                       AWS_MCP_DOCS_LIVE="false", AWS_MCP_REQUESTS_PER_SECOND="0",
                       AWS_MCP_CALLER_ROLE_MAP=json.dumps([{"caller": CALLER,
                                                            "role": f"arn:aws:iam::{ACCOUNT}:role/Bench"}]))
        front = FakeRuntime("bench-front", TARGET / "lambda/knowledge/bootstrap",
                            {**env, "AWS_MCP_GROUP_FUNCTIONS": json.dumps({"api": "bench-api"})})
        behind = FakeRuntime("bench-api", TARGET / "lambda/api/bootstrap",
                             {**env, "AWS_MCP_SERVE_URL_EVENTS": "false"})
        direct = FakeRuntime("bench-api-direct", TARGET / "lambda/api/bootstrap", env)
        runtimes = [front, behind, direct]
        invoke.register("bench-api", behind)
        via_front = Endpoint(front).session(CALLER)
        own = Endpoint(direct).session(CALLER)
        for label, tool, arguments in CALLS:
            # Warm both paths (models, credentials, connections) before timing.
            timed(via_front, tool, arguments, 5)
            timed(own, tool, arguments, 5)
            d_med, d_p90 = timed(own, tool, arguments, n)
            f_med, f_p90 = timed(via_front, tool, arguments, n)
            print(f"{label}: direct median {d_med:.2f} ms (p90 {d_p90:.2f}); "
                  f"through the front median {f_med:.2f} ms (p90 {f_p90:.2f}); "
                  f"overhead {f_med - d_med:+.2f} ms, n={n}")
    finally:
        for runtime in runtimes:
            runtime.stop()
        invoke.stop()
        moto_proc.stop()


if __name__ == "__main__":
    main()
