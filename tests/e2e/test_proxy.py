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


def test_aws_tool_groups_through_the_proxy_and_cargo_lambda_watch(lambda_watch, moto_url):
    import boto3
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="watch-bucket")

    async def api(session, init):
        tools = sorted(t.name for t in (await session.list_tools()).tools)
        listed = await session.call_tool("aws___call_aws", {"cli_command": [
            "aws s3api list-buckets --query Buckets[].Name", "aws s3 ls",
            "aws dynamodb put-item --table-name t --item file://item.json"]})
        script = await session.call_tool("aws___run_script", {
            "code": "len(call_aws('s3', 'ListBuckets')['Buckets'])"})
        suggest = await session.call_tool("aws___suggest_aws_commands", {"query": "list lambda functions"})
        return tools, listed, script, suggest

    tools, listed, script, suggest = through_proxy(f"{lambda_watch}/api/mcp", [], api)
    assert tools == ["aws___call_aws", "aws___run_script", "aws___suggest_aws_commands"]
    results = json.loads(listed.content[0].text)["results"]
    assert "watch-bucket" in results[0]["output"]
    assert "watch-bucket" in results[1]["output"]
    # The deployed server has no local files.
    assert results[2]["status"] == "error" and "presigned" in results[2]["error"]["message"]
    assert not script.isError and json.loads(script.content[0].text)["result"] >= 1
    assert "aws lambda list-functions" in suggest.content[0].text

    async def presign(session, init):
        return await session.call_tool("aws___get_presigned_url",
                                       {"bucket": "watch-bucket", "key": "k.txt", "method": "GET"})

    url = json.loads(through_proxy(f"{lambda_watch}/presign/mcp", [], presign).content[0].text)["url"]
    assert url.startswith(f"{moto_url}/watch-bucket/k.txt?")

    async def tasks(session, init):
        return await session.call_tool("aws___get_tasks", {"task_ids": ["0" * 64]})

    polled = json.loads(through_proxy(f"{lambda_watch}/tasks/mcp", [], tasks).content[0].text)
    assert polled["tasks"] == [{"task_id": "0" * 64, "status": "not_found"}]


def test_files_are_staged_through_the_staging_bucket_in_lambda(lambda_watch, moto_url):
    import boto3
    import httpx
    from conftest import WATCH_STAGING_BUCKET
    kw = dict(endpoint_url=moto_url, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    s3 = boto3.client("s3", **kw)
    s3.create_bucket(Bucket=WATCH_STAGING_BUCKET)
    s3.create_bucket(Bucket="watch-data")
    s3.put_object(Bucket="watch-data", Key="report.csv", Body=b"a,b\n1,2\n")
    boto3.client("dynamodb", **kw).create_table(
        TableName="watch-items", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])

    async def upload_url(session, init):
        return await session.call_tool("aws___get_presigned_url", {
            "key": "items/one.json", "method": "PUT", "content_type": "application/json"})

    up = json.loads(through_proxy(f"{lambda_watch}/presign/mcp", [], upload_url).content[0].text)
    assert up["staged_as"] == "items/one.json"
    r = httpx.put(up["url"], content=b'{"id": {"S": "staged"}}', headers=up["headers"])
    assert r.status_code == 200, r.text

    async def use(session, init):
        # Commands of one batch run concurrently: the read goes in a later call.
        first = await session.call_tool("aws___call_aws", {"cli_command": [
            "aws dynamodb put-item --table-name watch-items --item file://items/one.json",
            "aws s3 cp s3://watch-data/report.csv report.csv",
            "aws dynamodb put-item --table-name watch-items --item file://missing.json",
            "aws dynamodb put-item --table-name watch-items --item file://../../etc/passwd",
        ]})
        read = await session.call_tool("aws___call_aws", {"cli_command":
            "aws dynamodb get-item --table-name watch-items --key '{\"id\": {\"S\": \"staged\"}}'"})
        return first, read

    first, read = through_proxy(f"{lambda_watch}/api/mcp", [], use)
    got = json.loads(first.content[0].text)["results"]
    results = [got[0], json.loads(read.content[0].text)["results"][0]] + got[1:]
    assert results[0]["status"] == "success", results[0]
    assert results[1]["output"]["Item"]["id"] == {"S": "staged"}
    assert results[2]["output"] == "download: s3://watch-data/report.csv to ./report.csv\n"
    [note] = results[2]["notes"]
    url = note.split(": ", 1)[1]
    assert httpx.get(url).content == b"a,b\n1,2\n"
    assert results[3]["status"] == "error" and "not staged" in results[3]["error"]["message"]
    assert results[4]["status"] == "error"
