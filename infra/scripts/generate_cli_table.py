#!/usr/bin/env python3
"""Capture the AWS CLI's command table for the `aws-engine` crate.

The AWS CLI names services, operations and parameters by converting the model's names
(plus customisations: `s3api` for s3, `configservice` for config, renamed or hidden
operations, extra arguments). This script records, from the pinned CLI, every API service
command, every operation and every argument with the model member it fills, so the engine
parses commands exactly as the CLI does without running Python.

Writes shared/engine/data/cli_table.json.gz:
  {"source": {...},
   "services": {<cli name>: {"service": <botocore name>,
                             "operations": {<cli op>: {"name": <Operation>,
                                                       "args": {<cli arg>: <member> | "!<kind>"}}}}},
   "custom_commands": [<cli names of high-level commands such as s3, configure>],
   "xform_special_cases": [[<model name>, <cli name>], ...]}  (botocore's pre-seeded conversions)
An argument without a model member is recorded as "!<kind>" (e.g. "!cli-input-json",
"!paging", "!outfile" for the positional output file, "!custom:<class>"). A boolean argument
that sets its member to false ("no-dry-run", or ec2's "ingress" for Egress) is "!no:<Member>".
"preview_services" lists services the CLI refuses unless enabled; "paramfile_disabled" the
arguments ("<service>.<operation>.<argument>") whose values are never read as file:// paths.

Also writes shared/engine/tests/data/xform_names.json.gz: [[model name, botocore xform_name(name, "-")], ...]
for every operation and top-level input member name, the oracle for the Rust port.

Refresh: python3.11 -m venv /tmp/c && /tmp/c/bin/pip install awscli==1.45.11 botocore==1.43.11 &&
         /tmp/c/bin/python infra/scripts/generate_cli_table.py
Deterministic (sorted keys, gzip mtime 0).
"""

import argparse
import gzip
import io
import json
import sys
from pathlib import Path

PINNED = {"awscli": "1.45.11", "botocore": "1.43.11"}
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allow-version-mismatch", action="store_true")
    args = ap.parse_args()

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
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    table_buf = io.BytesIO()
    with gzip.GzipFile(fileobj=table_buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(raw)
    (OUT / "cli_table.json.gz").write_bytes(table_buf.getvalue())
    notice = ("cli_table.json.gz is derived from the command table of the AWS CLI "
              f"{awscli.__version__} and the service models of botocore {botocore.__version__}, "
              "both Apache License 2.0, Copyright Amazon.com, Inc. or its affiliates.\n")
    (OUT / "NOTICE").write_text(notice)
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
          f"{len(table_buf.getvalue()) / 1e6:.2f} MB; {len(special)} special name cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
