"""Deployment checks with the pinned SAM CLI (tests/requirements-sam.txt, its own virtualenv):
`sam validate --lint` passes offline, `sam build` (which tests/run.sh uses for the release
build) finds every function built and fresh, each function's
deployment zip stays within Lambda's limits (and the size goal), and the dashboard and alarms
in the template use the metric names and dimensions the server emits."""

import io
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, TARGET, TOOLS_BIN
from test_deployment import FUNCTIONS, GROUPS, resources, template  # noqa: F401 - fixture

SAM_BIN = Path(os.environ.get("AWS_MCP_SAM_BIN", ROOT / ".venv-sam" / "bin"))
MB = 1024 * 1024
# Lambda refuses a directly uploaded zip above 50 MB; the project's goal is 15 MB per function.
LAMBDA_ZIP_LIMIT = 50 * MB
ZIP_GOAL = 15 * MB
TELEMETRY = ROOT / "shared" / "telemetry" / "src" / "lib.rs"
PROTOCOL_TOOL = ROOT / "shared" / "protocol" / "src" / "tool.rs"


def sam_env(**extra) -> dict:
    """No AWS credentials, profile or region, no telemetry: the checks must not need them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAM_"))}
    env.update({"SAM_CLI_TELEMETRY": "0", "AWS_EC2_METADATA_DISABLED": "true",
                "PATH": f"{SAM_BIN}{os.pathsep}{TOOLS_BIN}{os.pathsep}{os.environ['PATH']}"})
    env.update(extra)
    return env


def sam() -> str:
    path = SAM_BIN / "sam"
    assert path.exists(), f"missing {path}: create .venv-sam from tests/requirements-sam.txt"
    return str(path)


def offline(command: list[str]) -> list[str]:
    """Run in a network namespace of its own (no network at all) where the kernel allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn", *command]
    return command


def test_sam_validate_lint_passes_offline():
    # Dead proxies as well, for machines where a network namespace is not available.
    env = sam_env(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    p = subprocess.run(offline([sam(), "validate", "--lint", "--template-file", "template.yaml"]),
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "is a valid SAM Template" in p.stdout + p.stderr


def bootstrap(function: str) -> Path:
    path = TARGET / "lambda" / function / "bootstrap"
    assert path.exists(), f"build it first: cargo lambda build --release (missing {path})"
    return path


def zipped_size(path: Path) -> int:
    """Size of the deployment zip SAM and cargo lambda make: the binary alone, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "bootstrap")
    return len(buffer.getvalue())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_zip_within_lambda_limit(function, record_property):
    size = zipped_size(bootstrap(function))
    record_property(f"{function}_zip_bytes", size)
    print(f"{function}: zip {size / MB:.1f} MB, bootstrap {bootstrap(function).stat().st_size / MB:.1f} MB")
    assert size <= LAMBDA_ZIP_LIMIT, f"{function}: {size / MB:.1f} MB zipped"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_zip_meets_size_goal(function):
    size = zipped_size(bootstrap(function))
    if size > ZIP_GOAL:
        # A goal: presign and tasks meet it, api and knowledge (25-27 MiB zipped by sam build on
        # 2026-12-03, docs/benchmarks.md) not yet; reported, not failed.
        pytest.xfail(f"{function}: {size / MB:.1f} MB zipped, goal {ZIP_GOAL / MB:.0f} MB")


def test_sam_build_reuses_the_release_build(tmp_path):
    """tests/run.sh builds the functions with `sam build` itself; building again must find
    everything fresh (each function's `cargo lambda build --release --bin <fn>` in the
    workspace target directory compiles nothing) and hand SAM the same binaries."""
    for function in FUNCTIONS:
        bootstrap(function)
    deps = TARGET / "x86_64-unknown-linux-gnu" / "release" / "deps"
    started = time.time()
    env = sam_env(CARGO_TARGET_DIR=str(TARGET))
    p = subprocess.run([sam(), "build", "--beta-features", "--no-cached", "--build-dir", str(tmp_path / "build"),
                        "--template-file", "template.yaml"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    compiled = [f.name for f in deps.iterdir() if f.stat().st_mtime >= started]
    assert not compiled, f"sam build compiled again: {compiled[:10]}"
    for function, logical in GROUPS.items():
        built = tmp_path / "build" / logical / "bootstrap"
        assert built.read_bytes() == bootstrap(function).read_bytes(), function


# ------------------------------------------------------------------ dashboard and alarms

def emitted_metrics() -> dict:
    """{namespace parameter: {metric name: dimension names}} as shared/telemetry writes them."""
    source = TELEMETRY.read_text()
    tool_metrics = re.search(r"const TOOL_METRICS: \[&str; \d+\] = \[(.*?)\];", source, re.S).group(1)
    tool_dims = re.search(r'"Namespace": self\.config\.metrics_namespace,\s*"Dimensions": \[\[(.*?)\]\]',
                          source, re.S).group(1)
    usage_dims = re.search(r'"Namespace": self\.config\.usage_namespace,\s*"Dimensions": \[\[(.*?)\]\]',
                           source, re.S).group(1)
    usage_metrics = set(re.findall(r'self\.usage\(\s*"[^"]+",\s*"[^"]+",\s*"([^"]+)"', source))
    names = lambda text: tuple(re.findall(r'"([^"]+)"', text))  # noqa: E731
    assert usage_metrics and names(tool_metrics), "telemetry source changed shape: update this test"
    return {"MetricsNamespace": {m: names(tool_dims) for m in names(tool_metrics)},
            "UsageNamespace": {m: names(usage_dims) for m in usage_metrics}}


def tool_prefix() -> str:
    return re.search(r'pub const TOOL_PREFIX: &str = "([^"]+)";', PROTOCOL_TOOL.read_text()).group(1)


def namespace_parameter(value) -> str:
    """The parameter a namespace refers to ({"Ref": P} or a dashboard "${P}")."""
    if isinstance(value, dict):
        return value["Ref"]
    return re.fullmatch(r"\$\{(\w+)\}", value).group(1)


def check_metric(emitted, namespace, name, dimensions: dict):
    assert name in emitted[namespace], f"{namespace} has no metric {name}"
    assert tuple(dimensions) == emitted[namespace][name], f"{name}: dimensions {list(dimensions)}"
    if "ToolName" in dimensions:
        assert dimensions["ToolName"] == f"{tool_prefix()}call_aws"


def check_query(emitted, query):
    m = re.fullmatch(r'SELECT SUM\((\w+)\) FROM SCHEMA\("\$\{(\w+)\}", ([\w, ]+)\)( GROUP BY \w+)?', query)
    assert m, query
    name, namespace, dims = m.group(1), m.group(2), tuple(d.strip() for d in m.group(3).split(","))
    assert name in emitted[namespace] and dims == emitted[namespace][name], query


def test_alarms_use_the_emitted_metrics(template):  # noqa: F811
    emitted = emitted_metrics()
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {"CallAwsSuccessRateAlarm", "SystemErrorAlarm", "ThrottleAlarm"}
    seen = set()
    for alarm in alarms.values():
        for query in alarm["Properties"]["Metrics"]:
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                check_metric(emitted, namespace_parameter(metric["Namespace"]), metric["MetricName"],
                             {d["Name"]: d["Value"] for d in metric["Dimensions"]})
                seen.add(metric["MetricName"])
            elif isinstance(query["Expression"], dict):
                check_query(emitted, query["Expression"]["Fn::Sub"])
                seen.add(re.search(r"SUM\((\w+)\)", query["Expression"]["Fn::Sub"]).group(1))
        topic = alarm["Properties"]["AlarmActions"]["Fn::If"]
        assert topic[0] == "HasAlarmTopic" and topic[1] == [{"Ref": "AlarmTopicArn"}]
    assert {"Success", "Invocation", "SystemError", "Throttle"} <= seen
    rate = alarms["CallAwsSuccessRateAlarm"]["Properties"]
    assert (rate["ComparisonOperator"], rate["Threshold"]) == ("LessThanThreshold", 95)
    assert alarms["SystemErrorAlarm"]["Properties"]["Threshold"] == 0
    assert alarms["ThrottleAlarm"]["Properties"]["Threshold"] == {"Ref": "ThrottleAlarmThreshold"}


def test_dashboard_uses_the_emitted_metrics(template):  # noqa: F811
    emitted = emitted_metrics()
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for name in variables:
        body = body.replace("${%s}" % name, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")
    body = body.replace("${AWS::Region}", "us-east-1")
    widgets = json.loads(body)["widgets"]
    metrics = [m for w in widgets for m in w["properties"].get("metrics", [])]
    assert metrics
    for line in metrics:
        options = line[-1] if isinstance(line[-1], dict) else {}
        if "expression" in options and options["expression"].startswith("SELECT"):
            check_query(emitted, options["expression"])
        elif "expression" not in options:
            fields = [f for f in line if not isinstance(f, dict)]
            namespace, name, dims = fields[0], fields[1], fields[2:]
            check_metric(emitted, namespace_parameter(namespace), name, dict(zip(dims[::2], dims[1::2])))
    alarms = [a for w in widgets if w["type"] == "alarm" for a in w["properties"]["alarms"]]
    assert len(alarms) == len(variables) == 3
