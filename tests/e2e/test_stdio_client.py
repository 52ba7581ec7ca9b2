"""The official MCP client over stdio against `aws-mcp stdio`: every knowledge tool, its
schemas and annotations, and every documented error."""

import json
import subprocess

import pytest

from conftest import AWS_MCP, TOOLS_BIN, base_env, parse_lines
from mcpclient import with_stdio_session

KNOWLEDGE_TOOLS = {"aws___list_regions", "aws___get_regional_availability", "aws___retrieve_skill",
                   "aws___search_documentation", "aws___read_documentation", "aws___recommend"}


def run(body, **env):
    return with_stdio_session(AWS_MCP, ["stdio"], base_env(**env), body)


def structured(result):
    assert not result.isError, result.content[0].text
    # Structured results are also given as JSON text.
    assert json.loads(result.content[0].text) == result.structuredContent
    return result.structuredContent


def expected_commercial_regions():
    """Every commercial Region and its name, read from the pinned botocore."""
    code = ("import botocore, json, os;"
            "p=json.load(open(os.path.join(os.path.dirname(botocore.__file__),'data','partitions.json')));"
            "aws=[x for x in p['partitions'] if x['id']=='aws'][0];"
            "print(json.dumps({k:v['description'] for k,v in aws['regions'].items() if not k.endswith('-global')}))")
    out = subprocess.run([str(TOOLS_BIN / "python"), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_initialize_and_tools_list_show_accurate_schemas_and_annotations():
    async def body(session, init):
        assert init.protocolVersion == "2025-11-25"
        assert init.serverInfo.name == "aws-mcp"
        tools = (await session.list_tools()).tools
        return init, tools

    _, tools = run(body)
    by_name = {t.name: t for t in tools if t.name in KNOWLEDGE_TOOLS}
    assert set(by_name) == KNOWLEDGE_TOOLS
    for t in by_name.values():
        assert t.annotations.readOnlyHint is True
        assert t.annotations.destructiveHint is False
        assert t.inputSchema["type"] == "object"
        assert t.outputSchema["type"] == "object"
        assert t.description
    assert by_name["aws___retrieve_skill"].inputSchema["required"] == ["skill_name"]
    assert by_name["aws___get_regional_availability"].inputSchema["properties"]["resource_type"]["enum"] == ["product", "api", "cfn"]
    assert by_name["aws___list_regions"].annotations.openWorldHint is True
    assert by_name["aws___retrieve_skill"].annotations.openWorldHint is False


def test_list_regions_returns_every_commercial_region_with_its_name():
    async def body(session, init):
        return await session.call_tool("aws___list_regions", {})

    out = structured(run(body))
    got = {r["region_id"]: r["region_long_name"] for r in out["regions"]}
    expected = expected_commercial_regions()
    assert len(expected) >= 30
    for region, name in expected.items():
        assert got.get(region) == name, region
    assert all(r["partition"] == "aws" for r in out["regions"])
    assert out["count"] == len(out["regions"])


def test_list_regions_can_include_other_partitions():
    async def body(session, init):
        return await session.call_tool("aws___list_regions", {"include_all_partitions": True})

    out = structured(run(body))
    partitions = {r["partition"] for r in out["regions"]}
    assert {"aws", "aws-cn", "aws-us-gov"} <= partitions
    ids = {r["region_id"] for r in out["regions"]}
    assert {"cn-north-1", "us-gov-west-1"} <= ids


def test_regional_availability_answers_all_three_resource_types():
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2"]

    async def body(session, init):
        product = await session.call_tool("aws___get_regional_availability", {
            "resource_type": "product", "regions": regions, "filters": ["s3", "AWS Lambda"]})
        api = await session.call_tool("aws___get_regional_availability", {
            "resource_type": "api", "regions": regions, "filters": ["CloudFormation+CreateStack", "EC2"]})
        cfn = await session.call_tool("aws___get_regional_availability", {
            "resource_type": "cfn", "regions": regions + ["cn-north-1"], "filters": ["AWS::EC2::Instance", "AWS::Lambda::Function"]})
        return product, api, cfn

    product, api, cfn = (structured(r) for r in run(body))
    assert [p["code"] for p in product["products"]] == ["s3", "lambda"]
    for p in product["products"]:
        assert set(p["availability"]) == set(regions)
        assert all(v == "isAvailableIn" for v in p["availability"].values())
    names = [a["name"] for a in api["service_apis"]]
    assert names == ["CloudFormation+CreateStack", "EC2"]
    assert api["service_apis"][0]["operation"] == "CreateStack"
    assert "service level" in api["note"]
    assert all(v == "isAvailableIn" for a in api["service_apis"] for v in a["availability"].values())
    assert cfn["cfn_resources"][0]["name"] == "AWS::EC2::Instance"
    assert cfn["cfn_resources"][0]["availability"]["cn-north-1"] == "isAvailableIn"


def test_regional_availability_reports_unavailable_and_pages_without_filters():
    async def body(session, init):
        # A service that exists in only some Regions: check where it is not offered.
        first = await session.call_tool("aws___get_regional_availability", {
            "resource_type": "cfn", "regions": ["ap-southeast-7"]})
        token = first.structuredContent["next_token"]
        second = await session.call_tool("aws___get_regional_availability", {
            "resource_type": "cfn", "regions": ["ap-southeast-7"], "next_token": token})
        return first, second

    first, second = (structured(r) for r in run(body))
    page1 = first["cfn_resources"]
    page2 = second["cfn_resources"]
    assert len(page1) == 100 and len(page2) == 100
    assert page1[-1]["name"] < page2[0]["name"]
    statuses = {e["availability"]["ap-southeast-7"] for e in page1 + page2}
    assert statuses <= {"isAvailableIn", "isNotAvailableIn"}
    assert "isNotAvailableIn" in statuses


def test_regional_availability_defaults_to_the_proxy_region_metadata():
    async def body(session, init):
        return await session.call_tool("aws___get_regional_availability",
                                       {"resource_type": "product", "filters": ["s3"]},
                                       meta={"AWS_REGION": "eu-central-1"})

    out = structured(run(body))
    assert out["regions"] == ["eu-central-1"]


@pytest.mark.parametrize("args, needle", [
    ({"resource_type": "product", "regions": ["us-east-1"], "filters": ["simple-storage-servce"]},
     "do not exist"),
    ({"resource_type": "api", "regions": ["us-east-1"], "filters": ["CloudFormation+CreateStak"]},
     "CreateStack"),
    ({"resource_type": "cfn", "regions": ["us-east-1"], "filters": ["AWS::EC2::Instanse"]},
     "AWS::EC2::Instance"),
    ({"resource_type": "api", "regions": ["us-east-1", "eu-west-1"]}, "filters are required"),
    ({"resource_type": "cfn", "regions": [f"us-east-{i}" for i in range(11)], "filters": ["AWS::S3::Bucket"]},
     "at most 10"),
    ({"resource_type": "cfn", "regions": ["us-east-7"], "filters": ["AWS::S3::Bucket"]}, "Unknown Region"),
    ({"resource_type": "service"}, "unknown variant"),
    ({"resource_type": "cfn", "regions": ["us-east-1"], "next_token": "bogus"}, "next_token"),
    ({"resource_type": "cfn", "bogus": 1}, "unknown field"),
])
def test_regional_availability_bad_input_gets_a_clear_error(args, needle):
    async def body(session, init):
        return await session.call_tool("aws___get_regional_availability", args)

    result = run(body)
    assert result.isError
    assert needle in result.content[0].text


def test_retrieve_skill_returns_skill_md_and_reference_files():
    async def body(session, init):
        main = await session.call_tool("aws___retrieve_skill", {"skill_name": "iam-least-privilege-policies"})
        ref_name = next(f for f in main.structuredContent["files"] if f.startswith("references/"))
        ref = await session.call_tool("aws___retrieve_skill",
                                      {"skill_name": "iam-least-privilege-policies", "file": ref_name})
        return main, ref, ref_name

    main, ref, ref_name = run(body)
    main, ref = structured(main), structured(ref)
    assert main["file"] == "SKILL.md"
    assert main["content"].startswith("---\nname: iam-least-privilege-policies\n")
    assert ref["file"] == ref_name
    assert ref["content"].strip()
    assert ref["content"] != main["content"]


@pytest.mark.parametrize("args, needle", [
    ({"skill_name": "iam-least-privilege"}, "Did you mean: iam-least-privilege-policies"),
    ({"skill_name": "iam-least-privilege-policies", "file": "../../../etc/passwd"}, "refused"),
    ({"skill_name": "iam-least-privilege-policies", "file": "/etc/passwd"}, "refused"),
    ({"skill_name": "iam-least-privilege-policies", "file": "references/%2e%2e/SKILL.md"}, "refused"),
    ({"skill_name": "iam-least-privilege-policies", "file": "references/nope.md"}, "has no file"),
    ({}, "missing field `skill_name`"),
])
def test_retrieve_skill_bad_input_gets_a_clear_error(args, needle):
    async def body(session, init):
        return await session.call_tool("aws___retrieve_skill", args)

    result = run(body)
    assert result.isError
    assert needle in result.content[0].text


def test_unknown_tool_is_a_protocol_error():
    async def body(session, init):
        try:
            await session.call_tool("aws___nope", {})
        except Exception as e:  # noqa: BLE001 - the client raises McpError
            return str(e)
        return None

    message = run(body)
    assert message and "Unknown tool" in message


def test_stdout_carries_only_protocol_and_stderr_carries_metrics_and_audit():
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "aws___list_regions", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": "aws___retrieve_skill", "arguments": {"skill_name": "zzz"}}},
    ]
    stdin = "".join(json.dumps(m) + "\n" for m in lines)
    p = subprocess.run([str(AWS_MCP), "stdio"], input=stdin, capture_output=True, text=True,
                       env=base_env(), timeout=30)
    out = [json.loads(l) for l in p.stdout.splitlines()]
    assert all(m.get("jsonrpc") == "2.0" for m in out)
    assert {m["id"] for m in out} == {1, 2, 3}
    assert next(m for m in out if m["id"] == 1)["result"]["protocolVersion"] == "2025-06-18"

    err = parse_lines(p.stderr)
    metrics = [e for e in err if e.get("ToolName")]
    assert {(m["ToolName"], m["Success"], m["UserError"]) for m in metrics} == {
        ("aws___list_regions", 1, 0), ("aws___retrieve_skill", 0, 1)}
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AWS-MCP" for m in metrics)
    usage = [e for e in err if e.get("Resource") == "Request"]
    assert len(usage) == 3 and all(u["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AWS-MCP/Usage" for u in usage)
    audits = [e for e in err if e.get("eventType") == "AwsMcpEvent"]
    assert len(audits) == 2
    a = next(x for x in audits if x["requestParameters"]["method"] == "retrieve_skill")
    assert a["eventName"] == "CallTool"
    assert a["requestParameters"]["id"] == 3
    assert a["requestParameters"]["params"]["arguments"] == {"skill_name": "zzz"}
    assert a["responseElements"]["isError"] is True
    assert a["readOnly"] is True
    assert a["mcpEventDetails"]["mcpProtocolVersion"] == "2025-06-18"
    assert len(a["mcpEventDetails"]["sessionId"]) == 64
    assert isinstance(a["mcpEventDetails"]["executionTimeMs"], int)
    assert a["userIdentity"]["type"] == "Local"


def test_organisation_skills_folder_is_merged(tmp_path):
    skill = tmp_path / "team-runbook"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: team-runbook\ndescription: Our deploy runbook. Use before deploying.\n---\nStep 1.\n")

    async def body(session, init):
        return await session.call_tool("aws___retrieve_skill", {"skill_name": "team-runbook"})

    out = structured(run(body, AWS_MCP_SKILLS_DIR=tmp_path))
    assert out["content"].endswith("Step 1.\n")
