#!/usr/bin/env python3
"""Bundle the botocore service models for the `aws-models` crate.

Writes into shared/models/data/:
  services.pack      every service's newest model, one gzip member per service, concatenated;
                     each member is JSON {"model": service-2, "paginators": {...}, "waiters": {...}}
                     with every `documentation` taken out (requests never need it, and it is
                     most of a large model: decoding stays fast and small)
  docs.pack          that documentation, one gzip member per service: {"documentation",
                     "operations": {op: html}, "shapes": {shape: {"documentation", "members":
                     {member: html}}}}, empty entries left out
  index.json.gz      {"source", "services": [{service_name, api_version, uid, service_id,
                     endpoint_prefix, full_name, abbreviation, protocol, protocols,
                     signing_name, global_endpoint?, offset, length, docs_offset,
                     docs_length, operations: [...]}]}
  api_docs.json.gz   {"source", "operations": [[service_index, operation, plain-text docs]]}
                     (HTML stripped, cut at MAX_DOC_CHARS): the offline API-reference corpus.
  NOTICE             botocore's notice; the data is Apache-2.0.
Each model has its `*.sdk-extras.json` merged in, as botocore's loader does.

Refresh: bash infra/scripts/refresh_data.sh (all data), or .venv-tools/bin/python infra/scripts/generate_models.py
with the botocore pinned in tests/requirements-tools.txt installed.
Deterministic: sorted keys (models keep their own order), gzip mtime 0; running twice gives identical bytes.
"""

import argparse
import gzip
import html
import io
import json
import os
import re
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore")
MAX_DOC_CHARS = 3000
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "models" / "data"


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def dumps(obj, sort_keys=True) -> bytes:
    return json.dumps(obj, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False).encode()


def load_json(path: Path):
    if path.exists():
        return json.loads(path.read_text())
    gzp = path.with_name(path.name + ".gz")
    if gzp.exists():
        return json.loads(gzip.decompress(gzp.read_bytes()))
    return None


def deep_merge(base: dict, extra: dict) -> None:
    """Merge `extra` into `base` recursively, extra winning (botocore's sdk-extras rule)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value


def load_with_extras(path: Path):
    """A model file with its `*.sdk-extras.json` merged in, as botocore loads it."""
    data = load_json(path)
    extras = load_json(path.with_name(path.name.replace(".json", ".sdk-extras.json")))
    if data is not None and extras and "merge" in extras:
        deep_merge(data, extras["merge"])
    return data


TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")


def plain(doc: str) -> str:
    text = TAG.sub(" ", doc or "")
    return SPACE.sub(" ", html.unescape(text)).strip()


def split_documentation(model: dict) -> dict:
    """Removes every `documentation` from `model` and returns it, keyed by where it was."""
    def take(node: dict) -> str:
        return node.pop("documentation", "") or ""

    docs = {"documentation": take(model), "operations": {}, "shapes": {}}
    for name, op in model.get("operations", {}).items():
        for key in ("input", "output"):
            if isinstance(op.get(key), dict):
                take(op[key])
        for ref in op.get("errors", []):
            take(ref)
        text = take(op)
        if text:
            docs["operations"][name] = text
    for name, shape in model.get("shapes", {}).items():
        for key in ("member", "key", "value"):
            if isinstance(shape.get(key), dict):
                take(shape[key])
        members = {}
        for member_name, ref in shape.get("members", {}).items():
            text = take(ref)
            if text:
                members[member_name] = text
        text = take(shape)
        if text or members:
            entry = {"members": members} if members else {}
            if text:
                entry["documentation"] = text
            docs["shapes"][name] = entry
    return docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allow-version-mismatch", action="store_true")
    args = ap.parse_args()

    import botocore

    if botocore.__version__ != PINNED["botocore"] and not args.allow_version_mismatch:
        print(f"botocore {botocore.__version__} installed, {PINNED['botocore']} pinned; "
              "install the pinned version or pass --allow-version-mismatch", file=sys.stderr)
        return 2
    data = Path(botocore.__file__).parent / "data"
    source = {"generator": "infra/scripts/generate_models.py", "packages": {"botocore": botocore.__version__}}

    OUT.mkdir(parents=True, exist_ok=True)
    pack = bytearray()
    docs_pack = bytearray()
    services = []
    docs = []
    for service_dir in sorted(p for p in data.iterdir() if p.is_dir()):
        versions = sorted(v for v in service_dir.iterdir() if v.is_dir() and
                          ((v / "service-2.json").exists() or (v / "service-2.json.gz").exists()))
        if not versions:
            continue
        newest = versions[-1]
        model = load_with_extras(newest / "service-2.json")
        paginators = (load_with_extras(newest / "paginators-1.json") or {}).get("pagination", {})
        waiters = (load_json(newest / "waiters-2.json") or {}).get("waiters", {})
        for name in sorted(model["operations"]):
            text = plain(model["operations"][name].get("documentation", ""))
            docs.append([len(services), name, text[:MAX_DOC_CHARS]])
        docs_member = gz(dumps(split_documentation(model)))
        # Model order is kept: serialisers emit members in the order the model lists them.
        member = gz(dumps({"model": model, "paginators": paginators, "waiters": waiters}, sort_keys=False))
        meta = model["metadata"]
        entry = {
            "service_name": service_dir.name,
            "api_version": meta.get("apiVersion", newest.name),
            "uid": meta.get("uid", f"{meta.get('endpointPrefix', service_dir.name)}-{newest.name}"),
            "service_id": meta.get("serviceId", service_dir.name),
            "endpoint_prefix": meta.get("endpointPrefix", service_dir.name),
            "full_name": meta.get("serviceFullName", service_dir.name),
            "abbreviation": meta.get("serviceAbbreviation"),
            "protocol": meta.get("protocol"),
            "protocols": meta.get("protocols", [meta.get("protocol")]),
            "signing_name": meta.get("signingName", meta.get("endpointPrefix", service_dir.name)),
            "global_endpoint": meta.get("globalEndpoint"),
            "offset": len(pack),
            "length": len(member),
            "docs_offset": len(docs_pack),
            "docs_length": len(docs_member),
            "operations": sorted(model["operations"]),
        }
        services.append(entry)
        pack += member
        docs_pack += docs_member

    (OUT / "services.pack").write_bytes(bytes(pack))
    (OUT / "docs.pack").write_bytes(bytes(docs_pack))
    (OUT / "index.json.gz").write_bytes(gz(dumps({"source": source, "services": services})))
    (OUT / "api_docs.json.gz").write_bytes(gz(dumps({"source": source, "operations": docs})))
    notice = (Path(botocore.__file__).parent.parent / f"botocore-{botocore.__version__}.dist-info" / "NOTICE")
    header = ("The files in this folder are derived from the service models of botocore "
              f"{botocore.__version__} (Apache License 2.0).\n\n")
    (OUT / "NOTICE").write_text(header + (notice.read_text() if notice.exists() else
                                          "botocore\nCopyright 2012-2024 Amazon.com, Inc. or its affiliates. All Rights Reserved.\n"))
    ops = sum(len(s["operations"]) for s in services)
    print(f"{len(services)} services, {ops} operations; services.pack {len(pack) / 1e6:.1f} MB, "
          f"docs.pack {len(docs_pack) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
