"""Agent plugins and rules files: the marketplace and plugin manifests, generated skills kept in
sync with infra/skills (`build_plugins.py --check`), `.mcp.json` written from stack outputs by
`configure_plugins.py`, a configured `.mcp.json` starting the real proxy against the local
server, and the rules files in their four formats."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CLIENT_BIN, ROOT, base_env
from mcpclient import with_stdio_session

PLUGINS = ["aws-core", "aws-agents", "aws-data-analytics"]
PLUGINS_DIR = ROOT / "infra" / "plugins"
SKILLS_DIR = ROOT / "infra" / "skills"
BUILD = ROOT / "infra" / "scripts" / "build_plugins.py"
CONFIGURE = ROOT / "infra" / "scripts" / "configure_plugins.py"
MARKETPLACE = ROOT / ".claude-plugin" / "marketplace.json"
PROXY = CLIENT_BIN / "mcp-proxy-for-aws"
PROXY_PACKAGE = "mcp-proxy-for-aws@1.7.0"
SERVER = "aws-mcp"  # the one server entry: the stack's McpEndpoint serves every tool
MANIFEST_KEYS = {"name", "version", "description", "author", "homepage", "repository", "license", "keywords"}
RULES = {
    "claude": ROOT / "infra" / "rules" / "CLAUDE.md",
    "codex": ROOT / "infra" / "rules" / "AGENTS.md",
    "cursor": ROOT / "infra" / "rules" / ".cursor" / "rules" / "aws.mdc",
    "kiro": ROOT / "infra" / "rules" / ".kiro" / "steering" / "aws.md",
}


def run(script, *args, env=None):
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)


def front_matter(text):
    """The `key: value` lines between the leading `---` lines."""
    assert text.startswith("---\n"), "no front matter"
    block, sep, _ = text[4:].partition("\n---\n")
    assert sep, "front matter is not closed"
    out = {}
    for line in block.splitlines():
        key, colon, value = line.partition(":")
        assert colon and key.strip() and not key.startswith(" "), f"not a key: value line: {line!r}"
        out[key.strip()] = value.strip()
    return out


def skill_plugin(skill_md):
    fm = skill_md.read_text().split("\n---", 1)[0]
    m = re.search(r"^\s+plugin:\s*[\"']?([\w-]+)", fm, re.M)
    return m.group(1) if m else None


def copy_plugins(tmp_path):
    dest = tmp_path / "plugins"
    shutil.copytree(PLUGINS_DIR, dest)
    return dest


def outputs_file(tmp_path, outputs, name="outputs.json"):
    path = tmp_path / name
    path.write_text(json.dumps([{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]))
    return path


def servers(plugins_dir, plugin="aws-core"):
    return json.loads((plugins_dir / plugin / ".mcp.json").read_text())["mcpServers"]


# ------------------------------------------------------------------------ manifests

def test_marketplace_lists_the_three_plugins():
    market = json.loads(MARKETPLACE.read_text())
    assert market["name"] == "aws-mcp-self-hosted"
    assert market["owner"]["name"]
    assert market["metadata"]["description"] and market["metadata"]["version"]
    assert [p["name"] for p in market["plugins"]] == PLUGINS
    for entry in market["plugins"]:
        assert entry["source"].startswith("./")
        folder = ROOT / entry["source"]
        assert (folder / ".claude-plugin" / "plugin.json").is_file(), entry["source"]
        manifest = json.loads((folder / ".claude-plugin" / "plugin.json").read_text())
        assert manifest["name"] == entry["name"] and manifest["version"] == entry["version"]
        assert entry["description"] and entry["category"] and entry["keywords"]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_manifests_have_the_required_keys(plugin):
    claude = json.loads((PLUGINS_DIR / plugin / ".claude-plugin" / "plugin.json").read_text())
    codex = json.loads((PLUGINS_DIR / plugin / ".codex-plugin" / "plugin.json").read_text())
    assert MANIFEST_KEYS <= claude.keys()
    assert MANIFEST_KEYS | {"skills", "mcpServers", "interface"} <= codex.keys()
    for manifest in (claude, codex):
        assert manifest["name"] == plugin
        assert manifest["license"] == "Apache-2.0"
        assert manifest["author"]["name"] and manifest["keywords"] and manifest["description"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert {k: codex[k] for k in MANIFEST_KEYS} == claude
    assert codex["skills"] == "./skills/" and (PLUGINS_DIR / plugin / "skills").is_dir()
    assert codex["mcpServers"] == "./.mcp.json"
    assert {"displayName", "shortDescription", "longDescription", "category"} <= codex["interface"].keys()
    assert (PLUGINS_DIR / plugin / "README.md").is_file()


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_mcp_json_runs_the_pinned_proxy(plugin):
    # Placeholders as committed, or real endpoints after configure_plugins.py.
    entries = servers(PLUGINS_DIR, plugin)
    assert list(entries) == [SERVER]
    for server in entries.values():
        assert server["command"] == "uvx"
        assert server["args"][0] == PROXY_PACKAGE
        assert server["args"][2:6] == ["--service", "lambda", "--region", server["args"][5]]


def test_generated_plugins_are_in_sync_with_the_skills():
    p = run(BUILD, "--check")
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_skills_come_from_infra_skills(plugin):
    bundled = sorted(d.name for d in (PLUGINS_DIR / plugin / "skills").iterdir() if d.is_dir())
    for name in bundled:
        source = SKILLS_DIR / name / "SKILL.md"
        assert source.is_file(), f"{plugin} bundles {name}, which is not in infra/skills"
        assert skill_plugin(source) == plugin, f"{name} belongs to {skill_plugin(source)}"
    assigned = sorted(d.name for d in SKILLS_DIR.iterdir() if (d / "SKILL.md").is_file()
                      and skill_plugin(d / "SKILL.md") == plugin)
    assert bundled == assigned


def test_build_check_detects_drift_and_build_repairs_it(tmp_path):
    # A miniature repository: the script finds infra/skills and infra/plugins next to itself.
    script = tmp_path / "infra" / "scripts" / "build_plugins.py"
    script.parent.mkdir(parents=True)
    shutil.copy(BUILD, script)
    skills = tmp_path / "infra" / "skills"

    def skill(name, plugin, body="# Steps\n\nDo it.\n"):
        meta = f"metadata:\n  type: procedure\n  plugin: {plugin}\n" if plugin else ""
        (skills / name / "references").mkdir(parents=True, exist_ok=True)
        (skills / name / "SKILL.md").write_text(
            f'---\nname: {name}\ndescription: "Does {name}: a test skill."\n{meta}---\n\n{body}')
        (skills / name / "references" / "more.md").write_text("More.\n")

    skill("alpha", "aws-core")
    (skills / "alpha" / "scripts").mkdir()
    (skills / "alpha" / "scripts" / "go.sh").write_text("#!/bin/sh\necho go\n")
    (skills / "alpha" / "scripts" / "go.sh").chmod(0o755)
    skill("beta", "aws-data-analytics")
    skill("unassigned", None)
    (skills / "half-written").mkdir()

    p = run(script)
    assert p.returncode == 0, p.stderr
    assert "unassigned" in p.stderr and "half-written" in p.stderr
    plugins = tmp_path / "infra" / "plugins"
    assert sorted(os.listdir(plugins / "aws-core" / "skills")) == ["alpha"]
    assert os.access(plugins / "aws-core" / "skills" / "alpha" / "scripts" / "go.sh", os.X_OK)
    assert (plugins / "aws-core" / "skills" / "alpha" / "references" / "more.md").read_text() == "More.\n"
    assert "`beta`" in (plugins / "aws-data-analytics" / "README.md").read_text()
    market = json.loads((tmp_path / ".claude-plugin" / "marketplace.json").read_text())
    assert [e["source"] for e in market["plugins"]] == [f"./infra/plugins/{n}" for n in PLUGINS]
    assert run(script, "--check").returncode == 0
    first = {f: f.read_bytes() for f in sorted(tmp_path.rglob("*")) if f.is_file()}
    assert run(script).returncode == 0
    assert {f: f.read_bytes() for f in sorted(tmp_path.rglob("*")) if f.is_file()} == first

    skill("alpha", "aws-core", body="# Steps\n\nDo it differently.\n")
    skill("beta", "aws-agents")
    (plugins / "aws-core" / "skills" / "old" ).mkdir()
    (plugins / "aws-core" / "skills" / "old" / "SKILL.md").write_text("stale\n")
    p = run(script, "--check")
    assert p.returncode == 1
    assert "infra/plugins/aws-core/skills/alpha/SKILL.md: out of date" in p.stdout
    assert "infra/plugins/aws-core/skills/old/SKILL.md: stale" in p.stdout
    assert "infra/plugins/aws-agents/skills/beta/SKILL.md: missing" in p.stdout
    assert "infra/plugins/aws-data-analytics/skills/beta/SKILL.md: stale" in p.stdout

    configured = {"mcpServers": {SERVER: {"command": "uvx", "args": [PROXY_PACKAGE, "https://x.lambda-url.eu-west-1.on.aws/mcp", "--service", "lambda", "--region", "eu-west-1"]}}}
    (plugins / "aws-core" / ".mcp.json").write_text(json.dumps(configured))
    assert run(script).returncode == 0
    assert run(script, "--check").returncode == 0
    assert not (plugins / "aws-core" / "skills" / "old").exists()
    assert sorted(os.listdir(plugins / "aws-agents" / "skills")) == ["beta"]
    assert not (plugins / "aws-data-analytics" / "skills").exists() or \
        not os.listdir(plugins / "aws-data-analytics" / "skills")
    assert "Do it differently." in (plugins / "aws-core" / "skills" / "alpha" / "SKILL.md").read_text()
    assert json.loads((plugins / "aws-core" / ".mcp.json").read_text()) == configured  # kept
    assert run(script, "--reset").returncode == 0
    assert servers(plugins)[SERVER]["args"][1:6:4] == ["<MCP_ENDPOINT>", "<REGION>"]

    # A .mcp.json still holding the placeholder of the former per-group layout is regenerated.
    old = {"mcpServers": {"aws-knowledge": {"command": "uvx", "args": [PROXY_PACKAGE, "<KNOWLEDGE_MCP_ENDPOINT>", "--service", "lambda", "--region", "<REGION>"]}}}
    (plugins / "aws-agents" / ".mcp.json").write_text(json.dumps(old))
    p = run(script, "--check")
    assert p.returncode == 1 and "infra/plugins/aws-agents/.mcp.json: out of date" in p.stdout
    assert run(script).returncode == 0
    assert list(servers(plugins, "aws-agents")) == [SERVER]


# ------------------------------------------------------------------------ configure

def test_configure_writes_one_server_for_the_mcp_endpoint(tmp_path):
    before = {p: (PLUGINS_DIR / p / ".mcp.json").read_bytes() for p in PLUGINS}
    plugins = copy_plugins(tmp_path)
    url = "https://abc123.lambda-url.eu-west-1.on.aws/mcp"
    client_config = json.dumps({"mcpServers": {SERVER: {"command": "uvx", "args": [
        PROXY_PACKAGE, url, "--service", "lambda", "--region", "eu-west-1"]}}})
    outputs = outputs_file(tmp_path, {
        "McpEndpoint": url, "ClientConfig": client_config,
        "ApiRoleArn": "arn:aws:iam::111122223333:role/aws-mcp-ApiRole-X",
        "StateTableName": "aws-mcp-StateTable-1"})

    p = run(CONFIGURE, "--stack-name", "aws-mcp", "--outputs-json", outputs, "--plugins-dir", plugins)
    assert p.returncode == 0, p.stderr
    for plugin in PLUGINS:
        assert servers(plugins, plugin) == {SERVER: {"command": "uvx", "args": [
            PROXY_PACKAGE, url, "--service", "lambda", "--region", "eu-west-1",
            "--metadata", "AWS_REGION=eu-west-1"]}}
        text = (plugins / plugin / ".mcp.json").read_text()
        assert text.endswith("}\n") and text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert {p: (PLUGINS_DIR / p / ".mcp.json").read_bytes() for p in PLUGINS} == before

    # The default Region comes from ClientConfig's metadata; --default-region overrides it.
    # Other endpoint-like outputs never add servers: McpEndpoint serves every tool.
    region_config = json.dumps({"mcpServers": {SERVER: {"command": "uvx", "args": [
        PROXY_PACKAGE, url, "--service", "lambda", "--region", "eu-west-1",
        "--metadata", "AWS_REGION=us-west-2"]}}})
    more = outputs_file(tmp_path, {
        "McpEndpoint": url, "ClientConfig": region_config,
        "ApiMcpEndpoint": "https://api1.lambda-url.eu-west-1.on.aws/mcp"}, "more.json")
    p = run(CONFIGURE, "--outputs-json", more, "--plugins-dir", plugins)
    assert p.returncode == 0, p.stderr
    entries = servers(plugins, "aws-data-analytics")
    assert list(entries) == [SERVER]
    assert entries[SERVER]["args"] == [PROXY_PACKAGE, url, "--service", "lambda", "--region", "eu-west-1",
                                       "--metadata", "AWS_REGION=us-west-2"]
    p = run(CONFIGURE, "--outputs-json", more, "--plugins-dir", plugins, "--default-region", "ap-south-1")
    assert p.returncode == 0, p.stderr
    assert servers(plugins)[SERVER]["args"][-1] == "AWS_REGION=ap-south-1"
    p = run(CONFIGURE, "--outputs-json", more, "--print")
    assert p.returncode == 0 and list(json.loads(p.stdout)["mcpServers"]) == [SERVER]


def test_configure_explains_what_is_wrong(tmp_path):
    plugins = copy_plugins(tmp_path)
    no_endpoint = outputs_file(tmp_path, {"StateTableName": "t"})
    p = run(CONFIGURE, "--outputs-json", no_endpoint, "--plugins-dir", plugins)
    assert p.returncode == 1 and "no McpEndpoint output" in p.stderr

    # A stack deployed before the single endpoint: one endpoint per group.
    old = outputs_file(tmp_path, {"KnowledgeMcpEndpoint": "https://k.lambda-url.eu-west-1.on.aws/mcp",
                                  "ApiMcpEndpoint": "https://a.lambda-url.eu-west-1.on.aws/mcp"}, "old.json")
    p = run(CONFIGURE, "--outputs-json", old, "--plugins-dir", plugins)
    assert p.returncode == 1 and "predates the single endpoint" in p.stderr and "Redeploy" in p.stderr

    wrong = outputs_file(tmp_path, {"McpEndpoint": "https://k.lambda-url.eu-west-1.on.aws/mcp"}, "wrong.json")
    p = run(CONFIGURE, "--outputs-json", wrong, "--region", "us-east-1", "--plugins-dir", plugins)
    assert p.returncode == 1 and "differs from the Region of the endpoint (eu-west-1)" in p.stderr

    local = outputs_file(tmp_path, {"McpEndpoint": "http://127.0.0.1:9/mcp"}, "local.json")
    p = run(CONFIGURE, "--outputs-json", local, "--plugins-dir", plugins)
    assert p.returncode == 1 and "pass --region" in p.stderr

    p = run(CONFIGURE, "--outputs-json", tmp_path / "absent.json", "--plugins-dir", plugins)
    assert p.returncode == 1 and "cannot read" in p.stderr

    empty = tmp_path / "empty-bin"
    empty.mkdir()
    p = run(CONFIGURE, "--stack-name", "aws-mcp", "--plugins-dir", plugins, env={**base_env(), "PATH": str(empty)})
    assert p.returncode == 1 and "AWS CLI" in p.stderr and "--outputs-json" in p.stderr


def fake_aws(tmp_path, script):
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    aws = bin_dir / "aws"
    aws.write_text("#!/bin/sh\n" + script)
    aws.chmod(0o755)
    return {**base_env(), "PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_configure_reads_the_stack_with_the_aws_cli(tmp_path):
    plugins = copy_plugins(tmp_path)
    outputs = [{"OutputKey": "McpEndpoint", "OutputValue": "https://abc123.lambda-url.eu-west-1.on.aws/mcp"}]
    (tmp_path / "answer.json").write_text(json.dumps(outputs))
    env = fake_aws(tmp_path, f'echo "$@" > {tmp_path}/argv\ncat {tmp_path}/answer.json\n')
    p = run(CONFIGURE, "--stack-name", "my-stack", "--region", "eu-west-1", "--profile", "dev",
            "--plugins-dir", plugins, env=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "argv").read_text().split() == [
        "cloudformation", "describe-stacks", "--stack-name", "my-stack", "--query", "Stacks[0].Outputs",
        "--output", "json", "--region", "eu-west-1", "--profile", "dev"]
    assert servers(plugins)[SERVER]["args"][-4:] == ["--region", "eu-west-1", "--metadata", "AWS_REGION=eu-west-1"]

    env = fake_aws(tmp_path, 'echo "An error occurred (ValidationError) when calling the DescribeStacks '
                             'operation: Stack with id nope does not exist" >&2\nexit 254\n')
    p = run(CONFIGURE, "--stack-name", "nope", "--region", "eu-west-1", "--plugins-dir", plugins, env=env)
    assert p.returncode == 1 and "stack 'nope' not found in Region eu-west-1" in p.stderr


def test_configured_mcp_json_starts_the_proxy(tmp_path, http_server):
    url, _ = http_server()
    plugins = copy_plugins(tmp_path)
    p = run(CONFIGURE, "--outputs-json", outputs_file(tmp_path, {"McpEndpoint": url}),
            "--region", "us-east-1", "--plugins-dir", plugins)
    assert p.returncode == 0, p.stderr
    server = servers(plugins)[SERVER]
    assert server["command"] == "uvx" and server["args"][:2] == [PROXY_PACKAGE, url]
    assert (plugins / "aws-core" / "skills" / "iam-least-privilege-policies" / "SKILL.md").is_file()

    async def body(session, init):
        tools = {t.name for t in (await session.list_tools()).tools}
        skill = await session.call_tool("aws___retrieve_skill", {"skill_name": "iam-least-privilege-policies"})
        return tools, skill

    # `uvx mcp-proxy-for-aws@1.7.0 ARGS...` is the installed pinned proxy run with ARGS.
    tools, skill = with_stdio_session(PROXY, server["args"][1:], base_env(), body)
    assert "aws___retrieve_skill" in tools
    assert not skill.isError and "iam-least-privilege-policies" in skill.content[0].text


# ------------------------------------------------------------------------ rules files

@pytest.mark.parametrize("agent", sorted(RULES))
def test_rules_file_names_the_skill_tools(agent):
    text = RULES[agent].read_text()
    for needle in ("aws___retrieve_skill", "aws___search_documentation", "agent_skills",
                   "aws___get_regional_availability", "aws___get_tasks", "aws___get_presigned_url",
                   "aws___suggest_aws_commands"):
        assert needle in text, f"{RULES[agent].name} does not mention {needle}"
    assert len(text.splitlines()) <= 80


def test_cursor_rule_front_matter():
    fm = front_matter(RULES["cursor"].read_text())
    assert fm["description"] and "globs" in fm and fm["alwaysApply"] == "true"


def test_kiro_steering_front_matter():
    assert front_matter(RULES["kiro"].read_text()) == {"inclusion": "always"}


def test_rules_readme_says_where_each_file_goes():
    text = (ROOT / "infra" / "rules" / "README.md").read_text()
    for place in ("CLAUDE.md", "AGENTS.md", ".cursor/rules/aws.mdc", ".kiro/steering/aws.md"):
        assert place in text
