#!/usr/bin/env python3
"""Resolve every service's endpoint in every Region with botocore, for the `aws-engine` crate.

For each botocore service and each Region of every partition, botocore's endpoint rule set is
evaluated (no request is sent) for the service's first operation with no parameters, giving
the endpoint URL and the SigV4 signing Region and name. The result is stored compactly in
shared/engine/data/endpoints.json.gz:
  {"source": {...}, "regions": [...],
   "services": {<service>: {"url": "<most common URL, with {region} for the Region>",
                            "urls": {<region>: "<URL where it differs>"},
                            "signing_name": "<name>",
                            "signing_regions": {<region>: "<signing Region where it differs>"},
                            "variants": {"fips" | "dualstack" | "fips_dualstack":
                                {"url": ..., "urls": {...}, "missing": [<Regions the rules refuse>]}}}}}
The variants are what AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT select. A service
whose rules need an account id in every operation (s3control) is resolved with a stand-in id,
which is taken out of the host again: the operation's host prefix puts the real one there.
Operation-level rules (S3 bucket addressing, access points) are not captured here.

Refresh: bash infra/scripts/refresh_data.sh (all data), or .venv-tools/bin/python infra/scripts/generate_endpoints.py
with the botocore pinned in tests/requirements-tools.txt installed.
Deterministic (sorted keys, gzip mtime 0).
"""

import collections
import gzip
import io
import json
import re
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "data"


def regions_of(botocore_module):
    data = json.loads((Path(botocore_module.__file__).parent / "data" / "partitions.json").read_text())
    out = []
    for partition in data["partitions"]:
        regex = re.compile(partition["regionRegex"])
        for region in partition["regions"]:
            if regex.match(region):
                out.append(region)
    return sorted(set(out))


# Endpoint rule built-ins for each variant the settings can select.
VARIANTS = {
    "base": {},
    "fips": {"AWS::UseFIPS": True},
    "dualstack": {"AWS::UseDualStack": True},
    "fips_dualstack": {"AWS::UseFIPS": True, "AWS::UseDualStack": True},
}
STAND_IN_ACCOUNT = "000000000000"


def resolve(client, model, region, flags):
    """(URL template, properties) of the service's endpoint with these built-ins, or None when
    the rules refuse (for example FIPS in a partition that has none)."""
    resolver = client._ruleset_resolver
    saved = dict(resolver._builtins)
    resolver._builtins.update(flags)
    try:
        if not model.operation_names:
            return None
        op = model.operation_model(model.operation_names[0])
        for call_args in ({}, {"AccountId": STAND_IN_ACCOUNT}):
            try:
                url, _headers, props = client._resolve_endpoint_ruleset(op, call_args, {})
            except Exception:  # noqa: BLE001 - refused with these arguments
                continue
            url = url.replace(f"{STAND_IN_ACCOUNT}.", "")
            return (url.replace(region, "{region}") if region in url else url), props
        return None
    finally:
        resolver._builtins.clear()
        resolver._builtins.update(saved)


def templates(urls):
    """The most common URL template, the Regions where it differs, and the Regions with none."""
    present = {r: u for r, u in urls.items() if u}
    common = collections.Counter(present.values()).most_common(1)[0][0] if present else ""
    out = {"url": common, "urls": {r: u for r, u in sorted(present.items()) if u != common}}
    missing = sorted(r for r, u in urls.items() if not u)
    if missing:
        out["missing"] = missing
    return out


def main() -> int:
    import botocore
    import botocore.session

    if botocore.__version__ != PINNED["botocore"] and "--allow-version-mismatch" not in sys.argv:
        print(f"botocore {botocore.__version__} installed, {PINNED['botocore']} pinned", file=sys.stderr)
        return 2
    session = botocore.session.get_session()
    regions = regions_of(botocore)
    services = {}
    failures = 0
    for service in session.get_available_services():
        found = {name: {} for name in VARIANTS}
        signing_regions, names = {}, collections.Counter()
        for region in regions:
            try:
                client = session.create_client(service, region_name=region,
                                               aws_access_key_id="a", aws_secret_access_key="b")
                model = client.meta.service_model
                resolved = {name: resolve(client, model, region, flags) for name, flags in VARIANTS.items()}
            except Exception:  # noqa: BLE001 - a Region the rules reject keeps the template
                failures += 1
                continue
            if resolved["base"] is None:
                failures += 1
                continue
            for name, answer in resolved.items():
                found[name][region] = answer and answer[0]
            props = resolved["base"][1]
            scheme = (props.get("authSchemes") or [{}])[0]
            signing_region = scheme.get("signingRegion", region)
            if signing_region != region:
                signing_regions[region] = signing_region
            names[scheme.get("signingName") or model.signing_name or model.endpoint_prefix] += 1
        if not found["base"]:
            continue
        base = templates(found["base"])
        services[service] = {
            "url": base["url"],
            "urls": base["urls"],
            "signing_name": names.most_common(1)[0][0],
            "signing_regions": dict(sorted(signing_regions.items())),
            "variants": {name: templates(urls) for name, urls in found.items() if name != "base"},
        }
    doc = {"source": {"generator": "infra/scripts/generate_endpoints.py",
                      "packages": {"botocore": botocore.__version__}},
           "regions": regions, "services": services}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "endpoints.json.gz").write_bytes(buf.getvalue())
    print(f"{len(services)} services x {len(regions)} Regions; {failures} combinations the rules "
          f"reject; {len(buf.getvalue()) / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
