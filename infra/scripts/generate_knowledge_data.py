#!/usr/bin/env python3
"""Generate the offline AWS knowledge snapshots embedded by the Rust `knowledge` crate.

Reads data shipped inside pinned PyPI packages and writes deterministic,
gzip-compressed JSON files (plus NOTICE) into shared/knowledge/data/:

  regions.json.gz        region ids, names, partitions   (moto SSM snapshot + botocore partitions.json)
  products.json.gz       AWS products and their regions  (moto SSM snapshot)
  service_apis.json.gz   API services, operations, regions (botocore service models + endpoints.json)
  cfn_resources.json.gz  CloudFormation resource types per region (cfn-lint provider modules)
  NOTICE                 attribution/licence text carried from the source packages

How to refresh (from the repository root):

    bash infra/scripts/refresh_data.sh          # every bundled snapshot, this one included
    .venv-tools/bin/python infra/scripts/generate_knowledge_data.py   # only these files

The versions are pinned in tests/requirements-tools.txt. To move to newer ones, change the pins
there and run infra/scripts/refresh_data.sh; review the printed summary and commit the regenerated files.
Output is byte-for-byte reproducible for a given set of package versions.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore", "moto", "cfn-lint")
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "shared" / "knowledge" / "data"
SSM_ROOT = ("aws", "service", "global-infrastructure")


def package_dir(module: str) -> Path:
    """Locate an installed package directory without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"error: package {module!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def load_json(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def ssm_tree(name: str) -> dict:
    tree = load_json(package_dir("moto") / "ssm" / "resources" / f"{name}.json.gz")
    for key in SSM_ROOT:
        tree = tree[key]
    return tree[name]


def write_gz(out_dir: Path, name: str, doc: dict) -> None:
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    (out_dir / name).write_bytes(data := gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"wrote {name}: {len(data)} bytes ({len(raw)} uncompressed)")


def source(versions: dict, *inputs: str) -> dict:
    return {"generator": "infra/scripts/generate_knowledge_data.py", "inputs": sorted(inputs),
            "packages": dict(sorted(versions.items()))}


def index_of(region_ids: list[str], wanted, dropped: Counter) -> list[int]:
    """Map region ids to indices into the file's `regions` array; unknown ids are counted and dropped."""
    pos = {r: i for i, r in enumerate(region_ids)}
    for r in set(wanted) - pos.keys():
        dropped[r] += 1
    return sorted(pos[r] for r in set(wanted) if r in pos)


def build_regions() -> list[dict]:
    regions = {}
    for rid, node in ssm_tree("regions").items():
        regions[rid] = {"id": rid, "name": node.get("longName", {}).get("Value", rid),
                        "partition": node.get("partition", {}).get("Value", "aws")}
    for part in load_json(package_dir("botocore") / "data" / "partitions.json")["partitions"]:
        regex = re.compile(part["regionRegex"])
        for rid, info in part["regions"].items():
            if not regex.match(rid):  # pseudo-regions such as aws-global
                continue
            if rid not in regions:
                regions[rid] = {"id": rid, "name": info.get("description", rid), "partition": part["id"]}
            elif regions[rid]["partition"] != part["id"]:
                print(f"note: {rid} partition differs: moto={regions[rid]['partition']} botocore={part['id']}")
    return [regions[r] for r in sorted(regions)]


def build_products(region_ids: list[str], dropped: Counter) -> tuple[list[dict], dict]:
    products = [{"code": code, "name": node.get("longName", {}).get("Value", code),
                 "regions": index_of(region_ids, node.get("regions", {}).keys(), dropped)}
                for code, node in sorted(ssm_tree("services").items())]
    return products, {p["code"]: p["regions"] for p in products}


def endpoint_regions(regions: list[dict]) -> dict[str, tuple[set, bool]]:
    """endpointPrefix -> (region ids, is_global) from botocore endpoints.json."""
    by_partition: dict[str, set] = {}
    for r in regions:
        by_partition.setdefault(r["partition"], set()).add(r["id"])
    result: dict[str, tuple[set, bool]] = {}
    for part in load_json(package_dir("botocore") / "data" / "endpoints.json")["partitions"]:
        pid, real = part["partition"], set(part["regions"])
        for prefix, svc in part["services"].items():
            eps = svc.get("endpoints", {})
            found = {k for k, e in eps.items()
                     if k in real and "fips" not in k and not e.get("deprecated", False)}
            has_global = any(k == f"{pid}-global" or k == svc.get("partitionEndpoint") for k in eps)
            is_global = svc.get("isRegionalized") is False or (not found and has_global)
            if is_global:
                found = set(by_partition.get(pid, ()))
            regs, glob = result.get(prefix, (set(), False))
            result[prefix] = (regs | found, glob or is_global)
    return result


def newest_model(service_dir: Path) -> Path | None:
    for version in sorted((p for p in service_dir.iterdir() if p.is_dir()), reverse=True):
        for name in ("service-2.json", "service-2.json.gz"):
            if (version / name).exists():
                return version / name
    return None


def build_services(regions: list[dict], region_ids: list[str], ssm_products: dict,
                   dropped: Counter) -> list[dict]:
    endpoints = endpoint_regions(regions)
    aws_default = [r["id"] for r in regions if r["partition"] == "aws"]
    services = []
    for service_dir in sorted(p for p in (package_dir("botocore") / "data").iterdir() if p.is_dir()):
        model_path = newest_model(service_dir)
        if model_path is None:
            print(f"note: {service_dir.name} has no service-2.json; skipped")
            continue
        model, name = load_json(model_path), service_dir.name
        meta = model["metadata"]
        prefix = meta.get("endpointPrefix", name)
        ep_regs, is_global = endpoints.get(prefix, (set(), False))
        if ep_regs:
            regs, src = index_of(region_ids, ep_regs, dropped), "global" if is_global else "endpoints"
        elif ssm_products.get(name) or ssm_products.get(prefix):
            regs, src = ssm_products.get(name) or ssm_products[prefix], "ssm"
        else:
            regs, src = index_of(region_ids, aws_default, dropped), "partition-default"
        if prefix in endpoints and not ep_regs:
            print(f"note: {name} ({prefix}) in endpoints.json but no usable regions; used {src}")
        services.append({
            "service_name": name, "service_id": meta.get("serviceId", name), "endpoint_prefix": prefix,
            "full_name": meta.get("serviceFullName", meta.get("serviceId", name)),
            "operations": sorted(model.get("operations", {})), "regions": regs, "regions_source": src,
        })
    counts = Counter(s["regions_source"] for s in services)
    print(f"service_apis: {len(services)} services, {sum(len(s['operations']) for s in services)} operations, "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return services


def build_cfn(region_ids: list[str], dropped: Counter) -> list[dict]:
    # cfn-lint 1.58 ships one `<region>.json` per region ({resource type: schema hash}); it
    # used to ship Python modules with a `types` dict.
    providers = package_dir("cfnlint") / "data" / "schemas" / "providers"
    by_type: dict[str, set] = {}
    for path in sorted(providers.glob("*.json")):
        for type_name in json.loads(path.read_text()):
            by_type.setdefault(type_name, set()).add(path.stem)
    if not by_type:
        sys.exit(f"error: no resource types under {providers}")
    return [{"name": t, "regions": index_of(region_ids, by_type[t], dropped)} for t in sorted(by_type)]


def dist_text(dist: str, filename: str) -> str:
    for f in importlib.metadata.distribution(dist).files or []:
        if f.name == filename and ".dist-info" in str(f):
            return f.read_text(encoding="utf-8").strip("\n").rstrip()
    sys.exit(f"error: {filename} not found in {dist} metadata")


def build_notice(versions: dict) -> str:
    boto = dist_text("botocore", "NOTICE").split("\n----")[0].strip()  # vendored-library notices don't apply
    moto = "\n".join(line.strip() for line in dist_text("moto", "LICENSE").splitlines()
                     if line.strip().startswith("Copyright ") and "[" not in line)
    rule = "=" * 78
    return "\n\n".join([
        "Third-party notices for the data files in this directory.\n"
        "These files are derived from data shipped in the packages below; they were generated by\n"
        "infra/scripts/generate_knowledge_data.py and the derived data is redistributed under\n"
        "the licences of the packages it came from.",
        f"{rule}\nregions.json.gz, service_apis.json.gz: derived from botocore {versions['botocore']}\n"
        f"(botocore/data/*/service-2.json, endpoints.json, partitions.json), Apache License 2.0.\n{rule}\n{boto}",
        f"{rule}\nregions.json.gz, products.json.gz, service_apis.json.gz: derived from moto {versions['moto']}\n"
        "(moto/ssm/resources/regions.json.gz, services.json.gz), Apache License 2.0.\n"
        f"{rule}\nmoto\n{moto}\nContributors are listed in moto's AUTHORS.md.",
        f"{rule}\ncfn_resources.json.gz: derived from cfn-lint {versions['cfn-lint']}\n"
        "(cfnlint/data/schemas/providers/*.json), MIT No Attribution (MIT-0).\n"
        f"{rule}\ncfn-lint's NOTICE and LICENSE files read:\n\n{dist_text('cfn-lint', 'NOTICE')}\n\n{dist_text('cfn-lint', 'LICENSE')}",
        f"{rule}\nApache License 2.0 (applies to the botocore-, moto- and awscli-derived data)\n{rule}\n"
        f"{dist_text('botocore', 'LICENSE.txt')}",
    ]) + "\n"


def check_versions(allow_mismatch: bool) -> dict:
    versions, bad = {}, []
    for dist, want in PINNED.items():
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            sys.exit(f"error: {dist} is not installed (need {dist}=={want})")
        if versions[dist] != want:
            bad.append(f"{dist}: installed {versions[dist]}, pinned {want}")
    if bad and not allow_mismatch:
        print("error: installed package versions differ from the pinned ones:\n  " + "\n  ".join(bad)
              + "\nInstall the pinned versions (see this script's docstring), update PINNED, "
              "or pass --allow-version-mismatch.", file=sys.stderr)
        sys.exit(2)
    for line in bad:  # only reached with --allow-version-mismatch
        print(f"warning: version mismatch allowed: {line}", file=sys.stderr)
    return versions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    ap.add_argument("--allow-version-mismatch", action="store_true",
                    help="run even if installed botocore/moto/cfn-lint differ from the pinned versions")
    args = ap.parse_args()
    versions = check_versions(args.allow_version_mismatch)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    dropped: Counter = Counter()

    regions = build_regions()
    region_ids = [r["id"] for r in regions]
    write_gz(args.out_dir, "regions.json.gz", {"source": source(
        versions, "botocore/data/partitions.json", "moto/ssm/resources/regions.json.gz"), "regions": regions})

    products, ssm_products = build_products(region_ids, dropped)
    write_gz(args.out_dir, "products.json.gz", {"source": source(
        versions, "moto/ssm/resources/services.json.gz"), "regions": region_ids, "products": products})

    services = build_services(regions, region_ids, ssm_products, dropped)
    write_gz(args.out_dir, "service_apis.json.gz", {"source": source(
        versions, "botocore/data/*/<newest>/service-2.json", "botocore/data/endpoints.json",
        "moto/ssm/resources/services.json.gz"), "regions": region_ids, "services": services})

    types = build_cfn(region_ids, dropped)
    write_gz(args.out_dir, "cfn_resources.json.gz", {"source": source(
        versions, "cfnlint/data/schemas/providers/*.json"), "regions": region_ids, "types": types})
    print(f"cfn_resources: {len(types)} resource types")

    (args.out_dir / "NOTICE").write_text(build_notice(versions), encoding="utf-8")
    if dropped:
        print(f"note: region ids not in regions.json were dropped: {dict(sorted(dropped.items()))}")


if __name__ == "__main__":
    main()
