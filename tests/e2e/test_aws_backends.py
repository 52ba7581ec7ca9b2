"""Backends against moto_server: the DynamoDB session store (table shaped as in
template.yaml) and live Region data from SSM public parameters."""

import json
import time

import boto3
import httpx
import pytest

from conftest import AWS_MCP, HEADERS, base_env, init_body
from mcpclient import with_stdio_session
from test_http_protocol import open_session, session_headers


def create_state_table(moto_url, name):
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    gsi = lambda index, key: {  # noqa: E731
        "IndexName": index,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"},
                      {"AttributeName": "expires_at", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                              [("pk", "S"), ("account_key", "S"), ("user_key", "S"), ("expires_at", "N")]],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[gsi("by-account", "account_key"), gsi("by-user", "user_key")],
    )
    return ddb


@pytest.mark.parametrize("table", ["sessions-e2e"])
def test_dynamodb_session_store(moto_url, http_server, table):
    ddb = create_state_table(moto_url, table)
    url, proc = http_server(AWS_MCP_STATE_TABLE=table, AWS_ENDPOINT_URL=moto_url,
                            AWS_MCP_MAX_SESSIONS_PER_USER=3)
    sid, _ = open_session(url, "2025-06-18")
    item = ddb.get_item(TableName=table, Key={"pk": {"S": f"session#{sid}"}})["Item"]
    assert item["protocol_version"]["S"] == "2025-06-18"
    assert item["user_key"]["S"] == "local"
    assert int(item["expires_at"]["N"]) - int(item["created_at"]["N"]) == 8 * 3600

    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=session_headers(sid, "2025-06-18"))
    assert r.status_code == 200

    # The per-user quota counts live sessions through the by-user index.
    open_session(url)
    open_session(url)
    r = httpx.post(url, json=init_body(), headers=HEADERS)
    assert r.status_code == 429, r.text

    r = httpx.delete(url, headers=session_headers(sid))
    assert r.status_code == 200
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": f"session#{sid}"}})
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=session_headers(sid))
    assert r.status_code == 404
    # Session count metrics were emitted as sessions changed.
    assert '"Resource":"UserSessionCount"' in proc.stderr()


def test_live_region_data_from_ssm(moto_url, http_server):
    url, _ = http_server(AWS_MCP_LIVE_REGION_DATA="true", AWS_ENDPOINT_URL=moto_url)
    sid, _ = open_session(url)
    h = session_headers(sid)
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                              "params": {"name": "aws___list_regions", "arguments": {}}}, headers=h)
    out = r.json()["result"]["structuredContent"]
    assert out["source"].startswith("live")
    names = {x["region_id"]: x["region_long_name"] for x in out["regions"]}
    assert names["eu-west-1"] == "Europe (Ireland)"
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                              "params": {"name": "aws___get_regional_availability",
                                         "arguments": {"resource_type": "product", "regions": ["us-east-1", "eu-west-1"],
                                                       "filters": ["s3"]}}}, headers=h)
    out = r.json()["result"]["structuredContent"]
    assert out["source"].startswith("live")
    assert out["products"][0]["availability"] == {"us-east-1": "isAvailableIn", "eu-west-1": "isAvailableIn"}
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                              "params": {"name": "aws___get_regional_availability",
                                         "arguments": {"resource_type": "api", "regions": ["us-east-1"],
                                                       "filters": ["DynamoDB+ListTables"]}}}, headers=h)
    out = r.json()["result"]["structuredContent"]
    assert out["source"].startswith("live")
    assert out["service_apis"][0]["availability"] == {"us-east-1": "isAvailableIn"}


def test_local_identity_is_looked_up_in_the_background(moto_url, http_server, tmp_path):
    audit = tmp_path / "audit.jsonl"
    url, _ = http_server(AWS_ENDPOINT_URL=moto_url, AWS_MCP_AUDIT_LOG=audit)
    sid, _ = open_session(url)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "aws___list_regions", "arguments": {}}}
    deadline = time.monotonic() + 20
    kinds = []
    while time.monotonic() < deadline:
        assert httpx.post(url, json=call, headers=session_headers(sid)).status_code == 200
        records = [json.loads(l) for l in audit.read_text().splitlines()]
        kinds = [r["userIdentity"] for r in records]
        if kinds[-1]["type"] != "Local":
            break
        time.sleep(0.2)
    # moto answers GetCallerIdentity for its default account.
    assert kinds[-1]["accountId"] == "123456789012", kinds
    assert kinds[-1]["arn"].startswith("arn:aws:")


def test_live_region_data_falls_back_when_ssm_is_unreachable(http_server):
    # Nothing listens on port 9; the answer says so and still lists the snapshot.
    url, _ = http_server(AWS_MCP_LIVE_REGION_DATA="true", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    sid, _ = open_session(url)
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                              "params": {"name": "aws___list_regions", "arguments": {}}},
                   headers=session_headers(sid), timeout=60)
    out = r.json()["result"]["structuredContent"]
    assert "live source failed" in out["note"]
    assert len(out["regions"]) >= 30


def test_organisation_skills_from_s3_win_over_bundled(moto_url, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="org-skills")
    s3.put_object(Bucket="org-skills", Key="skills/release-runbook/SKILL.md",
                  Body=b"---\nname: release-runbook\ndescription: Our release steps. Use before a release.\n---\nSee [checks](references/checks.md).\n")
    s3.put_object(Bucket="org-skills", Key="skills/release-runbook/references/checks.md", Body=b"Run the smoke tests.\n")
    # Same name as a bundled skill: the organisation's version wins.
    s3.put_object(Bucket="org-skills", Key="skills/s3-bucket-setup/SKILL.md",
                  Body=b"---\nname: s3-bucket-setup\ndescription: Our own bucket standard.\n---\nUse the org module.\n")
    # A broken skill is left out without hiding the others.
    s3.put_object(Bucket="org-skills", Key="skills/Broken Skill/SKILL.md", Body=b"no front matter")

    async def body(session, init):
        own = await session.call_tool("aws___retrieve_skill", {"skill_name": "release-runbook"})
        ref = await session.call_tool("aws___retrieve_skill", {"skill_name": "release-runbook", "file": "references/checks.md"})
        replaced = await session.call_tool("aws___retrieve_skill", {"skill_name": "s3-bucket-setup"})
        found = await session.call_tool("aws___search_documentation",
                                        {"search_phrase": "release steps runbook", "topics": ["agent_skills"]})
        return own, ref, replaced, found

    env = base_env(AWS_ENDPOINT_URL=moto_url, AWS_MCP_SKILLS_S3_URI="s3://org-skills/skills/", AWS_MCP_DOCS_LIVE="false")
    own, ref, replaced, found = with_stdio_session(AWS_MCP, ["stdio"], env, body)
    assert not own.isError and "See [checks]" in own.structuredContent["content"]
    assert ref.structuredContent["content"] == "Run the smoke tests.\n"
    assert replaced.structuredContent["description"] == "Our own bucket standard."
    assert found.structuredContent["results"][0]["skill_name"] == "release-runbook"
