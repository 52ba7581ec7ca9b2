#!/usr/bin/env python3
"""Capture the AWS CLI's command table for the `aws-engine` crate.

The AWS CLI names services, operations and parameters by converting the model's names
(plus customisations: `s3api` for s3, `configservice` for config, renamed or hidden
operations, extra arguments). This script records, from the pinned CLI, every API service
command, every operation and every argument with the model member it fills, so the engine
parses commands exactly as the CLI does without running Python.

Writes shared/engine/data/cli_table.pack, read one service at a time (a process that runs
one command decodes one service's table, not all 424):
  4 bytes: little-endian length N of the header member, then N bytes: a gzip member of
  {"source": {...},
   "services": {<cli name>: {"service": <botocore name>, "offset": <o>, "length": <l>}},
   "custom_commands": [<cli names of high-level commands such as s3, configure>],
   "xform_special_cases": [[<model name>, <cli name>], ...]}  (botocore's pre-seeded conversions)
  then, for each service at <o> (counted after the header) and <l> bytes long, a gzip member of
  {"operations": {<cli op>: {"name": <Operation>, "args": {<cli arg>: <member> | "!<kind>"}}}}
An argument without a model member is recorded as "!<kind>" (e.g. "!cli-input-json",
"!paging", "!outfile" for the positional output file, "!custom:<class>"). A boolean argument
that sets its member to false ("no-dry-run", or ec2's "ingress" for Egress) is "!no:<Member>".
"preview_services" lists services the CLI refuses unless enabled; "paramfile_disabled" the
arguments ("<service>.<operation>.<argument>") whose values are never read as file:// paths.

Also writes shared/engine/tests/data/xform_names.json.gz: [[model name, botocore xform_name(name, "-")], ...]
for every operation and top-level input member name, the oracle for the Rust port.

Refresh: bash infra/scripts/refresh_data.sh (all data), or .venv-tools/bin/python infra/scripts/generate_cli_table.py
with the awscli and botocore pinned in tests/requirements-tools.txt installed.
Deterministic (sorted keys, gzip mtime 0).
"""

import argparse
import gzip
import io
import json
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("awscli", "botocore")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "data"


def gzip_member(value) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())
    return buf.getvalue()


def pack(doc) -> bytes:
    """The table as a header member plus one gzip member per service (see the module doc)."""
    body = bytearray()
    index = {}
    for cli_name in sorted(doc["services"]):
        entry = doc["services"][cli_name]
        member = gzip_member({"operations": entry["operations"]})
        index[cli_name] = {"service": entry["service"], "offset": len(body), "length": len(member)}
        body += member
    header = gzip_member({**doc, "services": index})
    return len(header).to_bytes(4, "little") + header + bytes(body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allow-version-mismatch", action="store_true")
    args = ap.parse_args()

    # awscli 1.46 carries its own copy of botocore and, once awscli is imported, aliases
    # `import botocore` to it; importing the pinned botocore first keeps the table on the models
    # the engine bundles.
    import botocore

    # botocore pre-seeds its name cache with conversions its rules get wrong; copy it before
    # anything else fills the cache.
    special = sorted([name, value] for (name, sep), value in botocore._xform_cache.items() if sep == "-")

    import awscli
    from awscli.argprocess import ParamShorthand  # noqa: F401 - imported to fail early if absent
    from awscli.arguments import BooleanArgument, CLIArgument
    from awscli.clidriver import ServiceCommand, ServiceOperation, create_clidriver

    installed = {"awscli": awscli.__version__, "botocore": botocore.__version__}
    if installed != PINNED and not args.allow_version_mismatch:
        print(f"installed {installed}, pinned {PINNED}; install the pinned versions or pass "
              "--allow-version-mismatch", file=sys.stderr)
        return 2

    driver = create_clidriver()
    table = driver._get_command_table()
    services = {}
    custom = []
    for cli_name, command in sorted(table.items()):
        if not isinstance(command, ServiceCommand):
            custom.append(cli_name)
            continue
        operations = {}
        for cli_op, op in sorted(command._get_command_table().items()):
            if not isinstance(op, ServiceOperation):
                continue  # a customisation (e.g. `ec2 wait`, `s3api ... wait`)
            arg_map = {}
            for arg_name, arg in sorted(op.arg_table.items()):
                member = getattr(arg, "_serialized_name", None)
                kind = type(arg).__name__
                negative = arg_name.startswith("no-") or getattr(arg, "_action", "") == "store_false"
                if isinstance(arg, BooleanArgument) and member and negative:
                    arg_map[arg_name] = f"!no:{member}"
                elif kind == "StreamingOutputArgument":
                    arg_map[arg_name] = "!outfile"
                elif kind == "PageArgument":
                    arg_map[arg_name] = "!paging"
                elif kind == "CliInputJSONArgument":
                    arg_map[arg_name] = "!cli-input-json"
                elif kind == "GenerateCliSkeletonArgument":
                    arg_map[arg_name] = "!generate-cli-skeleton"
                elif isinstance(arg, CLIArgument) and member and getattr(arg, "argument_model", None) is not None:
                    arg_map[arg_name] = member
                else:
                    arg_map[arg_name] = f"!custom:{kind}"
            operations[cli_op] = {"name": op._operation_model.name, "args": arg_map}
        services[cli_name] = {"service": command._service_name, "operations": operations}

    OUT.mkdir(parents=True, exist_ok=True)
    from awscli.customizations.preview import PREVIEW_SERVICES
    from awscli.paramfile import PARAMFILE_DISABLED
    doc = {"source": {"generator": "infra/scripts/generate_cli_table.py", "packages": installed},
           "services": services, "custom_commands": custom, "xform_special_cases": special,
           "preview_services": sorted(PREVIEW_SERVICES),
           "paramfile_disabled": sorted(PARAMFILE_DISABLED)}
    table = pack(doc)
    (OUT / "cli_table.pack").write_bytes(table)
    notice = ("cli_table.pack is derived from the command table of the AWS CLI "
              f"{awscli.__version__} and the service models of botocore {botocore.__version__}, "
              "both Apache License 2.0, Copyright Amazon.com, Inc. or its affiliates.\n")
    # The NOTICE covers every file in data/: replace this file's paragraph, keep the others.
    path = OUT / "NOTICE"
    others = [p for p in (path.read_text().split("\n\n") if path.exists() else [])
              if p.strip() and not p.startswith("cli_table")]
    path.write_text("\n\n".join([notice.strip(), *[p.strip() for p in others]]) + "\n")
    # Oracle for the Rust port of xform_name: every operation and member name of every model.
    from botocore import xform_name
    from botocore.session import get_session
    session = get_session()
    names = set()
    for service_name in session.get_available_services():
        model = session.get_service_model(service_name)
        for op_name in model.operation_names:
            names.add(op_name)
            shape = model.operation_model(op_name).input_shape
            if shape is not None:
                names.update(shape.members)
    fixture = sorted([n, xform_name(n, "-")] for n in names)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(fixture, separators=(",", ":")).encode())
    tests = ROOT / "shared" / "engine" / "tests" / "data"
    tests.mkdir(parents=True, exist_ok=True)
    (tests / "xform_names.json.gz").write_bytes(buf.getvalue())

    ops = sum(len(s["operations"]) for s in services.values())
    print(f"{len(services)} CLI services, {ops} operations, custom commands: {', '.join(custom)}; "
          f"{len(table) / 1e6:.2f} MB; {len(special)} special name cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
