#!/usr/bin/env python3
"""Record the URL botocore sends each real-endpoint case to, for the engine's URL parity test.

The parity oracles built from the AWS CLI's own commands run against moto (path-style, no host
prefix, one Region). This oracle covers what only real endpoints exercise: S3 virtual-hosted
and path-style addressing (dotted and non-DNS bucket names), S3 access point ARNs, operations
with a host prefix, global services, other partitions, and the FIPS and dual-stack settings.

Each case goes through a full botocore client (endpoint rules, host prefix, S3 addressing) and
is stopped just before it is sent. Cases come from CASES below; the result is
shared/engine/tests/data/url_oracle.json (readable: one case per line):
  {"source": {...}, "cases": [{"name", "service", "operation", "params", "region",
    "settings": {ENV_VAR: value}, "url", "scope": "<signing region>/<signing name>"} |
    {..., "error": "<what botocore refused>"}]}

Refresh: bash infra/scripts/refresh_data.sh (all data), or
.venv-tools/bin/python infra/scripts/generate_url_oracle.py with the pinned botocore installed.
"""

import json
import os
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "tests" / "data" / "url_oracle.json"

FIPS = {"AWS_USE_FIPS_ENDPOINT": "true"}
DUALSTACK = {"AWS_USE_DUALSTACK_ENDPOINT": "true"}
AP_ARN = "arn:aws:s3:us-west-2:123456789012:accesspoint/reports"


def case(name, service, operation, params=None, region="us-west-2", settings=None):
    return {"name": name, "service": service, "operation": operation, "params": params or {},
            "region": region, "settings": settings or {}}


CASES = [
    # S3 bucket addressing.
    case("s3 virtual-hosted", "s3", "ListObjectsV2", {"Bucket": "my-bucket"}),
    case("s3 virtual-hosted in us-east-1", "s3", "ListObjectsV2", {"Bucket": "my-bucket"}, "us-east-1"),
    case("s3 object key", "s3", "GetObject", {"Bucket": "my-bucket", "Key": "a b/c+d~e.txt"}),
    case("s3 dotted bucket is path-style", "s3", "GetObject", {"Bucket": "my.dotted.bucket", "Key": "k"}),
    case("s3 non-DNS bucket is path-style", "s3", "HeadBucket", {"Bucket": "My_Bucket"}),
    case("s3 list buckets", "s3", "ListBuckets"),
    case("s3 list buckets in us-east-1", "s3", "ListBuckets", region="us-east-1"),
    case("s3 in China", "s3", "ListObjectsV2", {"Bucket": "my-bucket"}, "cn-north-1"),
    case("s3 in GovCloud", "s3", "ListObjectsV2", {"Bucket": "my-bucket"}, "us-gov-west-1"),
    case("s3 fips", "s3", "ListObjectsV2", {"Bucket": "my-bucket"}, settings=FIPS),
    case("s3 dual-stack", "s3", "ListObjectsV2", {"Bucket": "my-bucket"}, settings=DUALSTACK),
    case("s3 dual-stack in us-east-1", "s3", "GetObject", {"Bucket": "my-bucket", "Key": "k"}, "us-east-1",
         DUALSTACK),
    case("s3 fips and dual-stack", "s3", "GetObject", {"Bucket": "my-bucket", "Key": "k"},
         settings={**FIPS, **DUALSTACK}),
    case("s3 access point", "s3", "GetObject", {"Bucket": AP_ARN, "Key": "k"}),
    case("s3 access point list", "s3", "ListObjectsV2", {"Bucket": AP_ARN}),
    case("s3 access point dual-stack", "s3", "GetObject", {"Bucket": AP_ARN, "Key": "k"}, settings=DUALSTACK),
    case("s3 access point fips", "s3", "GetObject", {"Bucket": AP_ARN, "Key": "k"}, settings=FIPS),
    case("s3 access point in another Region", "s3", "GetObject", {"Bucket": AP_ARN, "Key": "k"}, "eu-west-1"),
    case("s3 access point, colon form", "s3", "HeadObject",
         {"Bucket": "arn:aws:s3:ap-south-1:123456789012:accesspoint:team", "Key": "a/b"}, "ap-south-1"),
    case("s3control in GovCloud", "s3control", "GetPublicAccessBlock", {"AccountId": "123456789012"},
         "us-gov-west-1"),
    case("s3control fips", "s3control", "ListAccessPoints", {"AccountId": "123456789012"}, "us-east-1", FIPS),
    # Host prefixes.
    case("host prefix: Cloud Map data plane", "servicediscovery", "DiscoverInstances",
         {"NamespaceName": "ns", "ServiceName": "svc"}, "eu-west-1"),
    case("host prefix: Step Functions sync", "stepfunctions", "StartSyncExecution",
         {"stateMachineArn": "arn:aws:states:us-west-2:123456789012:stateMachine:m"}),
    case("host prefix: IoT SiteWise api", "iotsitewise", "ListAssets"),
    case("host prefix with a member: s3control", "s3control", "ListAccessPoints",
         {"AccountId": "123456789012"}),
    case("host prefix: logs live tail", "logs", "StartLiveTail",
         {"logGroupIdentifiers": ["arn:aws:logs:us-west-2:123456789012:log-group:g"]}),
    # Global services and partitions.
    case("iam is global", "iam", "ListUsers", region="eu-west-1"),
    case("iam in China", "iam", "ListUsers", region="cn-north-1"),
    case("iam in GovCloud", "iam", "ListUsers", region="us-gov-west-1"),
    case("route53 is global", "route53", "ListHostedZones", region="ap-southeast-2"),
    case("cloudfront is global", "cloudfront", "ListDistributions", region="eu-central-1"),
    case("organizations is global", "organizations", "ListAccounts", region="eu-west-2"),
    case("sts is regional", "sts", "GetCallerIdentity", region="eu-west-1"),
    case("sts in us-east-1", "sts", "GetCallerIdentity", region="us-east-1"),
    case("ec2 in China", "ec2", "DescribeVpcs", region="cn-northwest-1"),
    case("dynamodb in an opt-in Region", "dynamodb", "ListTables", region="me-central-1"),
    # FIPS and dual-stack for regional services.
    case("dynamodb fips", "dynamodb", "ListTables", settings=FIPS),
    case("dynamodb dual-stack", "dynamodb", "ListTables", settings=DUALSTACK),
    case("lambda fips", "lambda", "ListFunctions", region="us-east-2", settings=FIPS),
    case("lambda dual-stack", "lambda", "ListFunctions", region="eu-west-1", settings=DUALSTACK),
    case("ec2 dual-stack", "ec2", "DescribeVpcs", settings=DUALSTACK),
    case("ec2 fips and dual-stack", "ec2", "DescribeVpcs", region="us-east-1", settings={**FIPS, **DUALSTACK}),
    case("sts fips", "sts", "GetCallerIdentity", settings=FIPS),
    case("iam fips", "iam", "ListUsers", region="us-east-1", settings=FIPS),
    case("kms fips in GovCloud", "kms", "ListKeys", region="us-gov-west-1", settings=FIPS),
    case("sqs dual-stack", "sqs", "ListQueues", region="ap-northeast-1", settings=DUALSTACK),
    case("fips where the partition has none", "dynamodb", "ListTables", region="eu-west-1", settings=FIPS),
]


def signing_scope(authorization):
    """`<region>/<service>` of a SigV4 Authorization header's credential scope."""
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    credential = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    _key, _date, region, service, _terminator = credential.split("/")
    return f"{region}/{service}"


class Stop(Exception):
    """Raised by the before-send hook: the request is recorded, never sent."""


def record(botocore_session, c):
    sent = {}

    def capture(request, **_):
        sent["url"] = request.url
        sent["scope"] = signing_scope(request.headers.get("Authorization"))
        raise Stop()

    for key in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"):
        os.environ.pop(key, None)
    os.environ.update(c["settings"])
    session = botocore_session.get_session()
    client = session.create_client(c["service"], region_name=c["region"],
                                   aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    client.meta.events.register("before-send", capture)
    method = client.meta.method_to_api_mapping
    name = next(k for k, v in method.items() if v == c["operation"])
    try:
        getattr(client, name)(**c["params"])
    except Stop:
        return {**c, "url": sent["url"], "scope": sent["scope"]}
    except Exception as e:  # noqa: BLE001 - what botocore refuses is part of the record
        return {**c, "error": f"{type(e).__name__}: {e}"}
    raise RuntimeError(f"{c['name']}: the request was not stopped")


def main() -> int:
    import botocore
    import botocore.session

    if botocore.__version__ != PINNED["botocore"] and "--allow-version-mismatch" not in sys.argv:
        print(f"botocore {botocore.__version__} installed, {PINNED['botocore']} pinned", file=sys.stderr)
        return 2
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    recorded = [record(botocore.session, c) for c in CASES]
    lines = ",\n".join("  " + json.dumps(r, sort_keys=True) for r in recorded)
    source = json.dumps({"generator": "infra/scripts/generate_url_oracle.py",
                         "packages": {"botocore": botocore.__version__}}, sort_keys=True)
    OUT.write_text(f'{{"source": {source},\n "cases": [\n{lines}\n]}}\n')
    errors = sum("error" in r for r in recorded)
    print(f"{len(recorded)} cases ({errors} refused by botocore) -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
