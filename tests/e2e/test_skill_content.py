"""Skills as MCP resources and workflow prompts, through the official MCP client over stdio
and over Streamable HTTP; a server without the knowledge group declares neither."""

from pathlib import Path

import anyio
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError

from conftest import AWS_MCP, CLIENT_BIN, ROOT, base_env
from mcpclient import with_stdio_session

SKILLS = ROOT / "infra" / "skills"


def on_disk():
    """Every skill file as its expected URI and text."""
    return {f"skill://{p.relative_to(SKILLS).as_posix()}": p.read_text()
            for p in SKILLS.rglob("*") if p.is_file()}


def with_http_session(url, body):
    async def main():
        async with streamable_http_client(url) as (read, write, _):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await body(session, init)

    return anyio.run(main)


async def check_content(session, init, direct=True):
    assert init.capabilities.resources is not None
    assert init.capabilities.prompts is not None
    expected = on_disk()
    listed = (await session.list_resources()).resources
    assert {str(r.uri) for r in listed} == set(expected)
    skill_md = next(r for r in listed if str(r.uri) == "skill://lambda-troubleshooting/SKILL.md")
    assert skill_md.name == "lambda-troubleshooting"
    assert skill_md.mimeType == "text/markdown"
    assert skill_md.description
    for uri in ("skill://lambda-troubleshooting/SKILL.md",
                "skill://s3-bucket-setup/references/bucket-policies.md"):
        read = (await session.read_resource(uri)).contents
        assert len(read) == 1 and read[0].text == expected[uri]
        assert read[0].mimeType == "text/markdown"

    with pytest.raises(McpError) as e:
        await session.read_resource("skill://no-such-skill/SKILL.md")
    # The proxy answers unknown URIs itself, from the list it fetched, with its own code.
    assert e.value.error.code == (-32602 if direct else -32002)
    if direct:
        assert "no-such-skill" in e.value.error.message
        with pytest.raises(McpError) as e:
            await session.read_resource("file:///etc/passwd")
        assert "skill://<skill-name>/SKILL.md" in e.value.error.message

    prompts = {p.name: p for p in (await session.list_prompts()).prompts}
    assert {"secure-s3-bucket", "troubleshoot-lambda", "investigate-cloudformation-failure",
            "least-privilege-iam-policy"} <= set(prompts)
    assert [a.name for a in prompts["troubleshoot-lambda"].arguments if a.required] == ["function_name"]
    got = await session.get_prompt("troubleshoot-lambda",
                                   {"function_name": "orders-api", "symptom": "Task timed out"})
    assert "orders-api" in got.messages[0].content.text
    assert "Task timed out" in got.messages[0].content.text
    embedded = got.messages[1].content.resource
    assert str(embedded.uri) == "skill://lambda-troubleshooting/SKILL.md"
    assert embedded.text == expected["skill://lambda-troubleshooting/SKILL.md"]

    with pytest.raises(McpError) as e:
        await session.get_prompt("troubleshoot-lambda", {})
    assert e.value.error.code == -32602 and "function_name" in e.value.error.message
    with pytest.raises(McpError) as e:
        await session.get_prompt("make-coffee", {})
    if direct:
        assert e.value.error.code == -32602 and "secure-s3-bucket" in e.value.error.message
    return True


def test_skills_as_resources_and_prompts_over_stdio():
    assert with_stdio_session(AWS_MCP, ["stdio"], base_env(), check_content)


def test_skills_as_resources_and_prompts_over_http(http_server):
    url, _ = http_server()
    assert with_http_session(url, check_content)


def test_servers_without_knowledge_declare_no_resources_or_prompts():
    async def body(session, init):
        assert init.capabilities.resources is None
        assert init.capabilities.prompts is None
        with pytest.raises(McpError) as e:
            await session.list_resources()
        assert e.value.error.code == -32601
        return True

    assert with_stdio_session(AWS_MCP, ["stdio", "--groups", "api"], base_env(), body)


def test_skills_reach_clients_through_the_signing_proxy(http_server):
    """The deployed path: mcp-proxy-for-aws (pinned) passes resources and prompts through."""
    url, _ = http_server()
    proxy = CLIENT_BIN / "mcp-proxy-for-aws"
    args = [url, "--service", "lambda", "--region", "us-east-1"]
    assert with_stdio_session(proxy, args, base_env(),
                              lambda session, init: check_content(session, init, direct=False))
