#!/usr/bin/env python3
"""Point the agent plugins at a deployed stack: write each plugin's .mcp.json from the stack outputs.

The stack's `McpEndpoint` output (the front function's Function URL, which serves every tool of
every group) becomes the one MCP server entry, `aws-mcp`, that runs the pinned stdio proxy:

    uvx mcp-proxy-for-aws@1.7.0 <endpoint> --service lambda --region <stack region>
        --metadata AWS_REGION=<default region>

Usage (from the repository root, after `sam deploy`):

    python3 infra/scripts/configure_plugins.py --stack-name aws-mcp [--region R] [--profile P]
    python3 infra/scripts/configure_plugins.py --outputs-json outputs.json   # offline

The outputs come from `aws cloudformation describe-stacks --stack-name <name> --query
'Stacks[0].Outputs' --output json`, or from --outputs-json FILE holding that JSON list of
{"OutputKey", "OutputValue"} objects. The stack Region is --region, else the Region in the
endpoint host (`<id>.lambda-url.<region>.on.aws`). The default Region for AWS work (the
proxy's AWS_REGION metadata) is --default-region, else the one in the stack's
ClientConfig output, else the stack Region.

Python 3.11+, standard library only.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_plugins  # noqa: E402  (shares the plugin table and the JSON format)

ENDPOINT_KEY = "McpEndpoint"
# Outputs of stacks deployed before the single endpoint (one endpoint per tool group).
OLD_ENDPOINT_KEY = re.compile(r"^[A-Z][A-Za-z0-9]*McpEndpoint$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
HOST_REGION = re.compile(r"\.(?:lambda-url|execute-api)\.([a-z]{2}(?:-[a-z]+)+-\d+)\.")


class ConfigError(Exception):
    pass


def describe_stack_outputs(stack: str, region: str | None, profile: str | None) -> list:
    aws = shutil.which("aws")
    if aws is None:
        raise ConfigError(
            "the AWS CLI (`aws`) is not on PATH. Install AWS CLI v2, or run `aws cloudformation "
            f"describe-stacks --stack-name {stack} --query 'Stacks[0].Outputs' --output json` "
            "elsewhere, save the result and pass it with --outputs-json FILE.")
    cmd = [aws, "cloudformation", "describe-stacks", "--stack-name", stack,
           "--query", "Stacks[0].Outputs", "--output", "json"]
    if region:
        cmd += ["--region", region]
    if profile:
        cmd += ["--profile", profile]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise ConfigError("aws cloudformation describe-stacks did not answer within 120 s") from None
    where = f"Region {region}" if region else "the default Region of your AWS configuration"
    if profile:
        where += f" (profile {profile})"
    if p.returncode != 0:
        err = p.stderr.strip()
        if "does not exist" in err:
            raise ConfigError(
                f"stack {stack!r} not found in {where}. Check --stack-name (samconfig.toml's "
                "stack_name is aws-mcp), --region and --profile.")
        raise ConfigError(f"aws cloudformation describe-stacks failed (exit {p.returncode}): {err}")
    try:
        outputs = json.loads(p.stdout or "null")
    except json.JSONDecodeError as e:
        raise ConfigError(f"aws cloudformation describe-stacks printed something that is not JSON: {e}")
    if outputs is None:
        raise ConfigError(f"stack {stack!r} in {where} has no outputs; has `sam deploy` finished?")
    return outputs


def load_outputs_file(path: Path) -> list:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path} is not JSON: {e}") from None
    if isinstance(data, dict) and isinstance(data.get("Stacks"), list) and data["Stacks"]:
        data = data["Stacks"][0].get("Outputs") or []  # a whole describe-stacks answer
    return data


def outputs_by_key(outputs) -> dict[str, str]:
    if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and isinstance(o.get("OutputKey"), str)
            and isinstance(o.get("OutputValue"), str) for o in outputs):
        raise ConfigError('stack outputs must be a JSON list of {"OutputKey": ..., "OutputValue": ...}')
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def region_metadata(client_config: str) -> str | None:
    """The AWS_REGION metadata in a *ClientConfig output (mcpServers JSON), if any."""
    try:
        servers = json.loads(client_config).get("mcpServers", {})
    except (json.JSONDecodeError, AttributeError):
        return None
    for server in servers.values() if isinstance(servers, dict) else []:
        args = server.get("args", []) if isinstance(server, dict) else []
        for flag, value in zip(args, args[1:]):
            if flag == "--metadata" and isinstance(value, str) and value.startswith("AWS_REGION="):
                return value.split("=", 1)[1]
    return None


def mcp_config(outputs: dict[str, str], region: str | None, default_region: str | None) -> tuple[dict, str]:
    """The .mcp.json content for these stack outputs, and the stack Region."""
    url = outputs.get(ENDPOINT_KEY, "").strip()
    if not url:
        keys = ", ".join(sorted(outputs)) or "none"
        if any(OLD_ENDPOINT_KEY.match(k) for k in outputs):
            raise ConfigError(f"the stack has no {ENDPOINT_KEY} output, only per-group endpoints "
                              f"(outputs: {keys}): it predates the single endpoint. Redeploy it "
                              "(sam build && sam deploy) and run this again.")
        raise ConfigError(f"the stack has no {ENDPOINT_KEY} output (outputs: {keys}). Is it the "
                          "aws-mcp stack, and did the deployment finish?")
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        raise ConfigError(f"{ENDPOINT_KEY} is not an http(s) URL: {url!r}")
    m = HOST_REGION.search(parsed.hostname + ".")
    host_region = m.group(1) if m else None
    if region:
        if not REGION.match(region):
            raise ConfigError(f"--region {region!r} is not a Region code such as eu-west-1")
        if host_region and host_region != region:
            raise ConfigError(f"--region {region} differs from the Region of the endpoint "
                              f"({host_region}); the proxy must sign for the stack's Region")
    elif host_region:
        region = host_region
    else:
        raise ConfigError("cannot tell the stack's Region from the endpoint URL; pass --region")
    if default_region is None:
        found = {region_metadata(v) for k, v in outputs.items() if k.endswith("ClientConfig")} - {None}
        default_region = sorted(found)[0] if len(found) == 1 else region
    if not REGION.match(default_region):
        raise ConfigError(f"default Region {default_region!r} is not a Region code such as eu-west-1")
    server = {"command": "uvx", "args": build_plugins.proxy_args(url, region, default_region)}
    return {"mcpServers": {build_plugins.SERVER_NAME: server}}, region


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stack-name", default="aws-mcp", help="CloudFormation stack (default: aws-mcp)")
    ap.add_argument("--region", help="the stack's Region (default: from the endpoint URL)")
    ap.add_argument("--profile", help="AWS CLI profile for describe-stacks")
    ap.add_argument("--outputs-json", type=Path, metavar="FILE",
                    help="read the stack outputs from FILE instead of calling the AWS CLI")
    ap.add_argument("--default-region", metavar="REGION",
                    help="default Region for AWS work, sent as --metadata AWS_REGION=... "
                         "(default: the stack's ClientConfig output, else the stack Region)")
    ap.add_argument("--plugins-dir", type=Path, default=build_plugins.PLUGINS_DIR,
                    help="folder holding the plugin folders (default: infra/plugins)")
    ap.add_argument("--print", dest="print_only", action="store_true",
                    help="print the mcpServers JSON instead of writing .mcp.json files")
    args = ap.parse_args(argv)

    try:
        if args.outputs_json:
            raw = load_outputs_file(args.outputs_json)
        else:
            raw = describe_stack_outputs(args.stack_name, args.region, args.profile)
        config, region = mcp_config(outputs_by_key(raw), args.region, args.default_region)
        if args.print_only:
            print(build_plugins.dump_json(config), end="")
            return 0
        folders = [args.plugins_dir / name for name in build_plugins.PLUGIN_NAMES]
        missing = [f for f in folders if not f.is_dir()]
        if missing:
            raise ConfigError(f"plugin folder(s) missing: {', '.join(map(str, missing))}; run "
                              "python3 infra/scripts/build_plugins.py first")
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    text = build_plugins.dump_json(config)
    for folder in folders:
        (folder / ".mcp.json").write_text(text, encoding="utf-8")
        print(f"wrote {build_plugins.rel(folder / '.mcp.json')}")
    for name, server in sorted(config["mcpServers"].items()):
        print(f"  {name}: {server['args'][1]} (signing Region {region})")
    print("Install or update the plugins in your agent to use it (see infra/plugins/README.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
