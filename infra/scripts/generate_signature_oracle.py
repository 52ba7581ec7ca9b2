#!/usr/bin/env python3
"""Sign every request of the request oracle with botocore's SigV4, at a fixed time.

Reads shared/engine/tests/data/request_oracle.json.gz, builds each request against the endpoint
botocore resolves in us-east-1 (path, query, the serialiser's headers and body), signs it with
botocore's `SigV4Auth` with fixed credentials, session token and time, and writes
shared/engine/tests/data/signature_oracle.json.gz:
  {"source": {...}, "time": "20260102T030405Z", "access_key": ..., "secret_key": ..., "token": ...,
   "cases": [{"command", "method", "url", "signing_region", "signing_name", "headers": [[k, v], ...],
              "body_base64", "authorization", "x_amz_date", "s3_variant", "canonical_request"}]}
S3 and S3 Control are signed with botocore's S3 variant (`S3SigV4Auth`: an
X-Amz-Content-SHA256 header, the path neither normalised nor re-encoded); the serialiser's
headers carry no checksum header, so the payload hash is always signed here.

Refresh (after the request oracle): python3 infra/scripts/generate_signature_oracle.py
"""

import base64
import datetime
import gzip
import io
import json
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore")
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "shared" / "engine" / "tests" / "data"
TIME = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
ACCESS_KEY, SECRET_KEY, TOKEN = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-example"


def main() -> int:
    import botocore
    import botocore.auth
    import botocore.session
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    if botocore.__version__ != PINNED["botocore"] and "--allow-version-mismatch" not in sys.argv:
        print(f"botocore {botocore.__version__} installed, {PINNED['botocore']} pinned", file=sys.stderr)
        return 2
    botocore.auth.get_current_datetime = lambda: TIME.replace(tzinfo=None)
    oracle = json.loads(gzip.decompress((DATA / "request_oracle.json.gz").read_bytes()))
    session = botocore.session.get_session()
    credentials = Credentials(ACCESS_KEY, SECRET_KEY, TOKEN)
    cases = []
    for case in oracle["cases"]:
        if "error" in case:
            continue
        client = session.create_client(case["service"], region_name="us-east-1",
                                       aws_access_key_id="a", aws_secret_access_key="b")
        model = client.meta.service_model
        op = model.operation_model(case["operation"])
        try:
            endpoint, _, props = client._resolve_endpoint_ruleset(op, {}, {})
        except Exception:  # noqa: BLE001 - rules that need parameters are skipped
            continue
        scheme = (props.get("authSchemes") or [{}])[0]
        if scheme.get("name", "sigv4") != "sigv4":
            continue
        signing_region = scheme.get("signingRegion", "us-east-1")
        signing_name = scheme.get("signingName") or model.signing_name or model.endpoint_prefix
        host_prefix = case.get("host_prefix") or ""
        if host_prefix:
            scheme_part, rest = endpoint.split("://", 1)
            endpoint = f"{scheme_part}://{host_prefix}{rest}"
        url = endpoint + case["url_path"]
        if case["query_string"]:
            url += ("&" if "?" in url else "?") + case["query_string"]
        body = base64.b64decode(case["body_base64"])
        request = AWSRequest(method=case["method"], url=url, headers=dict(case["headers"]), data=body)
        s3_variant = case["service"] in ("s3", "s3control")
        signer_class = botocore.auth.S3SigV4Auth if s3_variant else botocore.auth.SigV4Auth
        signer = signer_class(credentials, signing_name, signing_region)
        canonical = None
        original = signer.canonical_request

        def capture(req, _orig=original):
            nonlocal canonical
            canonical = _orig(req)
            return canonical

        signer.canonical_request = capture
        signer.add_auth(request)
        cases.append({
            "command": case["command"],
            "method": case["method"],
            "url": url,
            "signing_region": signing_region,
            "signing_name": signing_name,
            "headers": case["headers"],
            "body_base64": case["body_base64"],
            "authorization": request.headers["Authorization"],
            "x_amz_date": request.headers["X-Amz-Date"],
            "s3_variant": s3_variant,
            "canonical_request": canonical,
        })
    doc = {"source": {"generator": "infra/scripts/generate_signature_oracle.py",
                      "packages": {"botocore": botocore.__version__}},
           "time": TIME.strftime("%Y%m%dT%H%M%SZ"), "access_key": ACCESS_KEY,
           "secret_key": SECRET_KEY, "token": TOKEN, "cases": cases}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    (DATA / "signature_oracle.json.gz").write_bytes(buf.getvalue())
    print(f"{len(cases)} signed requests over {len({c['command'].split()[1] for c in cases})} services")
    return 0


if __name__ == "__main__":
    sys.exit(main())
