"""`aws-mcp setup <client>`: the real binary writes each client's configuration file into a
temporary home and project; the written entry then starts a server the official MCP
client talks to. Stack mode reads a CloudFormation stack's outputs from moto_server."""

import json
import subprocess
import tomllib
import uuid
from pathlib import Path

import boto3
import pytest

from conftest import AWS_MCP, ROOT, base_env
from mcpclient import with_stdio_session

PROXY = "mcp-proxy-for-aws@1.7.0"
# client -> (file under the project or home for the default scope, where the entry lives)
CLIENTS = {
    "claude-code": ("project", ".mcp.json"),
    "codex": ("home", ".codex/config.toml"),
    "cursor": ("project", ".cursor/mcp.json"),
    "kiro": ("project", ".kiro/settings/mcp.json"),
    "claude-desktop": ("home", ".config/Claude/claude_desktop_config.json"),
}


@pytest.fixture
def dirs(tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    return home, project


def setup_env(home, **extra):
    env = base_env(**extra)
    env["HOME"] = str(home)
    for k in ("XDG_CONFIG_HOME", "CODEX_HOME", "APPDATA"):
        env.pop(k, None)
    return env


def run_setup(home, project, *args, env=None, check=True):
    p = subprocess.run([str(AWS_MCP), "setup", *args], cwd=project, env=env or setup_env(home),
                       capture_output=True, text=True, timeout=60)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def entry_of(path: Path):
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())["mcp_servers"]["aws-mcp"]
    return json.loads(path.read_text())["mcpServers"]["aws-mcp"]


def config_file(client, home, project):
    where, rel = CLIENTS[client]
    return (project if where == "project" else home) / rel


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_local_entry_starts_a_working_server(client, dirs):
    home, project = dirs
    out = run_setup(home, project, client).stdout
    path = config_file(client, home, project)
    assert f"server entry aws-mcp: added in {path}" in out
    entry = entry_of(path)
    assert Path(entry["command"]) == AWS_MCP.resolve()
    assert entry["args"] == ["stdio"]

    async def body(session, init):
        return {t.name for t in (await session.list_tools()).tools}

    env = base_env(**entry.get("env", {}))
    tools = with_stdio_session(entry["command"], entry["args"], env, body)
    assert "aws___retrieve_skill" in tools

    written = path.read_text()
    again = run_setup(home, project, client).stdout
    assert "server entry aws-mcp: unchanged" in again
    assert path.read_text() == written


def test_merge_keeps_other_servers_and_comments_and_backs_up(dirs):
    home, project = dirs
    codex = home / ".codex" / "config.toml"
    codex.parent.mkdir()
    original = '# mine\nmodel = "o3"\n\n[mcp_servers.docs]\ncommand = "docs-server" # keep\n'
    codex.write_text(original)
    out = run_setup(home, project, "codex", "--profile", "dev").stdout
    assert "added" in out and "previous copy" in out
    text = codex.read_text()
    assert "# mine" in text and "# keep" in text
    data = tomllib.loads(text)
    assert data["mcp_servers"]["docs"]["command"] == "docs-server"
    assert data["mcp_servers"]["aws-mcp"]["env"] == {"AWS_PROFILE": "dev"}
    assert (home / ".codex" / "config.toml.bak").read_text() == original

    cursor = project / ".cursor" / "mcp.json"
    cursor.parent.mkdir()
    cursor.write_text(json.dumps({"mcpServers": {"aws-mcp": {"command": "old", "args": []},
                                                 "other": {"url": "https://x"}}}))
    assert "replaced" in run_setup(home, project, "cursor").stdout
    servers = json.loads(cursor.read_text())["mcpServers"]
    assert servers["other"] == {"url": "https://x"}
    assert servers["aws-mcp"]["args"] == ["stdio"]


def test_unparsable_file_is_refused_and_left_alone(dirs):
    home, project = dirs
    broken = project / ".mcp.json"
    broken.write_text('{"mcpServers": {"x": ')
    p = run_setup(home, project, "claude-code", check=False)
    assert p.returncode != 0
    assert str(broken) in p.stderr and "cannot be parsed" in p.stderr and "line 1" in p.stderr
    assert broken.read_text() == '{"mcpServers": {"x": '
    assert not (project / ".mcp.json.bak").exists()


def test_rules_are_installed_once_and_user_text_kept(dirs):
    home, project = dirs
    (project / "CLAUDE.md").write_text("# My project\n\nUse tabs.\n")
    run_setup(home, project, "claude-code", "--rules")
    run_setup(home, project, "claude-code", "--rules")
    text = (project / "CLAUDE.md").read_text()
    assert text.startswith("# My project\n\nUse tabs.\n")
    assert text.count("BEGIN aws-mcp rules") == 1
    assert (ROOT / "infra/rules/CLAUDE.md").read_text().strip() in text
    run_setup(home, project, "kiro", "--rules")
    assert (project / ".kiro/steering/aws.md").read_text() == \
        (ROOT / "infra/rules/.kiro/steering/aws.md").read_text()
    run_setup(home, project, "cursor", "--rules")
    assert (project / ".cursor/rules/aws.mdc").read_text() == \
        (ROOT / "infra/rules/.cursor/rules/aws.mdc").read_text()
    run_setup(home, project, "codex", "--rules")
    assert "BEGIN aws-mcp rules" in (project / "AGENTS.md").read_text()


def test_print_writes_nothing(dirs):
    home, project = dirs
    out = run_setup(home, project, "codex", "--print", "--url",
                    "https://abc.lambda-url.eu-west-1.on.aws/").stdout
    entry = tomllib.loads(out)["mcp_servers"]["aws-mcp"]
    assert entry["command"] == "uvx"
    assert entry["args"][:6] == [PROXY, "https://abc.lambda-url.eu-west-1.on.aws/",
                                 "--service", "lambda", "--region", "eu-west-1"]
    assert not any(home.rglob("*")) and not any(project.rglob("*"))


STACK_TEMPLATE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {
        "McpEndpoint": {"Value": "https://abc123.lambda-url.us-east-1.on.aws/"},
        "ClientConfig": {"Value": json.dumps({"mcpServers": {"aws-mcp": {"command": "uvx", "args": [
            PROXY, "https://abc123.lambda-url.us-east-1.on.aws/", "--service", "lambda",
            "--region", "us-east-1", "--metadata", "AWS_REGION=eu-central-1"]}}})},
    },
}


def test_stack_mode_reads_the_endpoint_from_cloudformation(dirs, moto_url):
    home, project = dirs
    name = f"aws-mcp-{uuid.uuid4().hex[:8]}"
    cfn = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(STACK_TEMPLATE))
    env = setup_env(home, AWS_ENDPOINT_URL=moto_url)

    out = run_setup(home, project, "kiro", "--stack", name, "--region", "us-east-1", env=env).stdout
    assert "added" in out
    entry = entry_of(project / ".kiro/settings/mcp.json")
    assert entry["command"] == "uvx"
    assert entry["args"] == [PROXY, "https://abc123.lambda-url.us-east-1.on.aws/", "--service",
                             "lambda", "--region", "us-east-1", "--metadata",
                             "AWS_REGION=eu-central-1"]

    # The Region comes from the environment when --region is absent.
    out = run_setup(home, project, "claude-code", "--stack", name, "--default-region", "eu-west-1",
                    env=env).stdout
    assert "added" in out
    args = entry_of(project / ".mcp.json")["args"]
    assert args[-2:] == ["--metadata", "AWS_REGION=eu-west-1"]

    missing = run_setup(home, project, "cursor", "--stack", "no-such-stack", env=env, check=False)
    assert missing.returncode != 0
    assert "stack 'no-such-stack' not found in us-east-1" in missing.stderr
    assert not (project / ".cursor").exists()
