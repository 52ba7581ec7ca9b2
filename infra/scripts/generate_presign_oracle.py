#!/usr/bin/env python3
"""Pre-signed S3 URLs from botocore, at a fixed time, for the presign parity test.

Writes shared/engine/tests/data/presign_oracle.json.gz:
  {"source": {...}, "time": "20260102T030405Z", "epoch": <seconds>, "access_key", "secret_key",
   "cases": [{"region", "bucket", "key", "method": "GET"|"PUT", "content_type", "endpoint_url",
              "token", "expires_in", "url"}]}
Each URL is `s3.generate_presigned_url('get_object'|'put_object', Params={'Bucket', 'Key'
[, 'ContentType']}, ExpiresIn=N)` on a client made with `Config(signature_version='s3v4')`.
That setting matters: left unset, botocore still presigns S3 with the deprecated SigV2
(`AWSAccessKeyId`/`Signature`/`Expires`) in the Regions that accept it; the server always
presigns with SigV4, which is what botocore produces once `s3v4` is configured. Everything
else (addressing, the global endpoint for presigned URLs, key encoding, query order) is
botocore's default behaviour.

Rerun: python3 infra/scripts/generate_presign_oracle.py   (botocore pinned in
tests/requirements-tools.txt; pass --allow-version-mismatch to try another version)
"""

import datetime
import gzip
import io
import itertools
import json
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "tests" / "data" / "presign_oracle.json.gz"
TIME = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
ACCESS_KEY, SECRET_KEY = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKENS = [None, "FwoGZXIvYXdzEJr//////////wEaDH+token/with=special+chars"]

REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2",
           "sa-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "eusc-de-east-1",
           "us-iso-east-1", "ap-future-9", "cn-future-1"]
BUCKETS = ["my-bucket", "my.dotted.bucket", "MyLegacyBucket", "legacy_bucket", "abc", "123bucket",
           "a" * 63, "double--hyphen", "xn--punycode-ish", "b" * 64]
KEYS = ["file.txt", "dir/sub dir/file name.txt", "ünïcödé/日本語.txt", "a+b=c&d?e#f",
        "~tilde/!$'()*,;:@[]", "//leading//slashes", "../dots/./x", "percent%20sign",
        "emoji 😀.png", "trailing/", "spaces  twice ", "UPPER/lower/MiXeD-_.", "tab\there",
        "quote\"back\\slash", "x" * 1024]
CONTENT_TYPES = [None, "text/plain", "application/json; charset=utf-8", "image/png",
                 "multipart/form-data; boundary=xyz", "application/octet-stream"]
ENDPOINTS = [None, "http://127.0.0.1:5000", "http://localhost:5000", "https://s3.example.com",
             "https://minio.local:9000/base/", "http://[::1]:4566", "https://s3.example.com:443",
             "http://storage.example.com:80/"]
EXPIRES = [1, 60, 300, 900]


def cases():
    """A deterministic spread over the inputs, plus every region and every endpoint once."""
    out = []
    n = 0
    for region, bucket in itertools.product(REGIONS, BUCKETS):
        key = KEYS[n % len(KEYS)]
        method = "PUT" if n % 3 == 0 else "GET"
        ct = CONTENT_TYPES[n % len(CONTENT_TYPES)] if method == "PUT" else None
        out.append(dict(region=region, bucket=bucket, key=key, method=method, content_type=ct,
                        endpoint_url=None, token=TOKENS[n % 2], expires_in=EXPIRES[n % len(EXPIRES)]))
        n += 1
    for endpoint, bucket in itertools.product(ENDPOINTS[1:], BUCKETS[:4]):
        key = KEYS[n % len(KEYS)]
        method = "PUT" if n % 2 == 0 else "GET"
        ct = CONTENT_TYPES[n % len(CONTENT_TYPES)] if method == "PUT" else None
        out.append(dict(region=REGIONS[n % 7], bucket=bucket, key=key, method=method,
                        content_type=ct, endpoint_url=endpoint, token=TOKENS[n % 2],
                        expires_in=EXPIRES[n % len(EXPIRES)]))
        n += 1
    for key, token in itertools.product(KEYS, TOKENS):
        for method in ("GET", "PUT"):
            out.append(dict(region="eu-west-1", bucket="keys-bucket", key=key, method=method,
                            content_type="text/plain" if method == "PUT" else None,
                            endpoint_url=None, token=token, expires_in=900))
    return out


def main() -> int:
    import botocore
    import botocore.auth
    import botocore.session
    from botocore.config import Config

    if botocore.__version__ != PINNED["botocore"] and "--allow-version-mismatch" not in sys.argv:
        print(f"botocore {botocore.__version__} installed, {PINNED['botocore']} pinned", file=sys.stderr)
        return 2
    # SigV4 takes its timestamp from this hook; freezing it freezes X-Amz-Date.
    botocore.auth.get_current_datetime = lambda: TIME.replace(tzinfo=None)
    session = botocore.session.get_session()
    clients = {}
    result = []
    for case in cases():
        ck = (case["region"], case["endpoint_url"], case["token"])
        if ck not in clients:
            clients[ck] = session.create_client(
                "s3", region_name=case["region"], endpoint_url=case["endpoint_url"],
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                aws_session_token=case["token"], config=Config(signature_version="s3v4"))
        params = {"Bucket": case["bucket"], "Key": case["key"]}
        if case["content_type"] is not None:
            params["ContentType"] = case["content_type"]
        method = "get_object" if case["method"] == "GET" else "put_object"
        try:
            case["url"] = clients[ck].generate_presigned_url(method, Params=params,
                                                             ExpiresIn=case["expires_in"])
        except Exception as e:  # noqa: BLE001 - botocore refusals are skipped, reported
            print(f"skipped {case['bucket']!r} {case['key']!r}: {e}", file=sys.stderr)
            continue
        result.append(case)
    doc = {"source": {"generator": "infra/scripts/generate_presign_oracle.py",
                      "packages": {"botocore": botocore.__version__},
                      "config": "signature_version=s3v4"},
           "time": TIME.strftime("%Y%m%dT%H%M%SZ"), "epoch": int(TIME.timestamp()),
           "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "cases": result}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    OUT.write_bytes(buf.getvalue())
    print(f"{len(result)} presigned URLs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
