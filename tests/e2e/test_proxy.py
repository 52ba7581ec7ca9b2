"""`mcp-proxy-for-aws` (pinned) with dummy credentials, driven by the official client,
against the local HTTP server and against `cargo lambda watch`."""

import json

import pytest

from conftest import CLIENT_BIN, base_env
from mcpclient import with_stdio_session

PROXY = CLIENT_BIN / "mcp-proxy-for-aws"


def through_proxy(endpoint, extra, body):
    args = [endpoint, "--service", "lambda", "--region", "us-east-1", *extra]
    return with_stdio_session(PROXY, args, base_env(), body)


async def exercise(session, init):
    tools = sorted(t.name for t in (await session.list_tools()).tools)
    regions = await session.call_tool("aws___list_regions", {})
    skill = await session.call_tool("aws___retrieve_skill", {"skill_name": "iam-least-privilege-policies"})
    avail = await session.call_tool("aws___get_regional_availability",
                                    {"resource_type": "cfn", "filters": ["AWS::S3::Bucket"]})
    bad = await session.call_tool("aws___retrieve_skill", {"skill_name": "nope-nope"})
    return init.protocolVersion, tools, regions, skill, avail, bad


KNOWLEDGE = ["aws___get_regional_availability", "aws___list_regions", "aws___read_documentation",
             "aws___recommend", "aws___retrieve_skill", "aws___search_documentation"]
# Every tool of every group, as the local server serves them all by default.
ALL_TOOLS = sorted(KNOWLEDGE + ["aws___call_aws", "aws___get_presigned_url", "aws___get_tasks",
                                "aws___run_script", "aws___suggest_aws_commands"])
# What --read-only leaves: tools whose readOnlyHint is true.
READ_ONLY_TOOLS = sorted(KNOWLEDGE + ["aws___get_tasks", "aws___suggest_aws_commands"])


def check(outcome, region="us-east-1", tools_expected=ALL_TOOLS):
    version, tools, regions, skill, avail, bad = outcome
    assert version == "2025-11-25"
    assert tools == tools_expected
    assert not regions.isError
    assert any(r["region_id"] == "us-west-2" for r in json.loads(regions.content[0].text)["regions"])
    assert not skill.isError and "iam-least-privilege-policies" in skill.content[0].text
    # The proxy always sends AWS_REGION metadata; it decides the default Region.
    assert json.loads(avail.content[0].text)["regions"] == [region]
    assert bad.isError and "Unknown skill" in bad.content[0].text


def test_proxy_against_local_http_server(http_server):
    url, _ = http_server()
    check(through_proxy(url, [], exercise))


def test_proxy_metadata_sets_the_default_region(http_server):
    url, _ = http_server()
    check(through_proxy(url, ["--metadata", "AWS_REGION=eu-west-2"], exercise), region="eu-west-2")


def test_proxy_read_only_keeps_the_read_only_tools(http_server):
    url, _ = http_server()
    check(through_proxy(url, ["--read-only"], exercise), tools_expected=READ_ONLY_TOOLS)


def test_proxy_against_cargo_lambda_watch(lambda_watch):
    check(through_proxy(f"{lambda_watch}/knowledge/mcp", [], exercise), tools_expected=KNOWLEDGE)
