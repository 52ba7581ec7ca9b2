#!/usr/bin/env bash
# Create (or harden) an S3 general purpose bucket: private, ACLs disabled, encrypted, versioned,
# TLS-only, with a lifecycle rule that archives to Glacier Flexible Retrieval after N days.
#
# On an existing bucket nothing the owner configured is thrown away:
#   - encryption: an SSE-KMS / DSSE-KMS default is kept unless a KMS key is passed;
#   - lifecycle:  the archive rule is added next to the existing rules (skipped, with a message,
#                 when a rule with the same ID exists or the configuration uses legacy prefixes);
#   - policy:     the TLS-only statement is added to the existing policy (skipped when the policy
#                 already denies aws:SecureTransport=false).
# The final check fails unless the bucket policy denies plain-HTTP requests.
#
# Needs the AWS CLI and python3. Works with bash 3.2 (macOS) and newer.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: create-secure-bucket.sh [--dry-run] <bucket> <region> [archive-days=90] [kms-key-arn]

Creates the bucket if it does not exist, then applies Block Public Access, BucketOwnerEnforced,
default encryption (SSE-S3, or SSE-KMS with a bucket key when kms-key-arn is given), versioning,
a lifecycle rule "archive-after-<days>-days" and a bucket policy that denies plain HTTP.
Existing lifecycle rules, bucket policy statements and SSE-KMS settings are kept.

--dry-run reads the bucket's current configuration and prints every change it would make
(each write call as an "aws s3api ..." line) without changing anything.
EOF
}

dry_run=false
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --dry-run) dry_run=true; shift ;;
esac
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  ""|-*) usage >&2; exit 2 ;;
esac

bucket="$1"
region="${2:?region required (see --help)}"
days="${3:-90}"
kms_key="${4:-}"
case "$days" in
  ''|*[!0-9]*) echo "archive-days must be a positive integer, got '$days'" >&2; exit 2 ;;
esac
rule_id="archive-after-${days}-days"

s3() { aws s3api "$@" --bucket "$bucket" --region "$region"; }
# Every call that changes the bucket goes through change(): printed instead of run in a dry run.
change() {
  if [ "$dry_run" = true ]; then
    echo "would run: aws s3api $* --bucket $bucket --region $region"
  else
    s3 "$@"
  fi
}
# Reports a change made (or, in a dry run, one that would be made).
done_msg() {
  if [ "$dry_run" = true ]; then echo "(dry run) $*"; else echo "$*"; fi
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- bucket -----------------------------------------------------------------------------------
if s3 head-bucket >/dev/null 2>"$tmp/head.err"; then
  echo "bucket $bucket exists and is accessible: hardening it"
elif grep -q -e '404' -e 'Not Found' "$tmp/head.err"; then
  if [ "$dry_run" = true ]; then
    echo "would create bucket $bucket in $region, then apply every setting in --help to it"
    exit 0
  fi
  if [ "$region" = "us-east-1" ]; then
    s3 create-bucket --object-ownership BucketOwnerEnforced >/dev/null
  else
    s3 create-bucket --create-bucket-configuration "LocationConstraint=$region" \
      --object-ownership BucketOwnerEnforced >/dev/null
  fi
  s3 wait bucket-exists
  echo "created bucket $bucket in $region"
else
  echo "cannot use bucket $bucket:" >&2
  cat "$tmp/head.err" >&2
  echo "(403 means the name belongs to another account or your identity may not read it)" >&2
  exit 1
fi

change put-public-access-block --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
change put-bucket-ownership-controls --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'

# --- default encryption -----------------------------------------------------------------------
current_sse="$(s3 get-bucket-encryption \
  --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' \
  --output text 2>/dev/null || echo none)"
if [ -n "$kms_key" ]; then
  change put-bucket-encryption --server-side-encryption-configuration \
    "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"$kms_key\"},\"BucketKeyEnabled\":true}]}"
  done_msg "default encryption: SSE-KMS with $kms_key"
else
  case "$current_sse" in
    aws:kms|aws:kms:dsse)
      echo "default encryption: keeping the existing $current_sse configuration (no key given)" ;;
    *)
      change put-bucket-encryption --server-side-encryption-configuration \
        '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
      done_msg "default encryption: SSE-S3" ;;
  esac
fi

change put-bucket-versioning --versioning-configuration Status=Enabled

# --- lifecycle: add our rule, keep the others -------------------------------------------------
if ! s3 get-bucket-lifecycle-configuration --output json >"$tmp/lifecycle.json" 2>"$tmp/lc.err"; then
  if grep -q NoSuchLifecycleConfiguration "$tmp/lc.err"; then
    echo '{}' >"$tmp/lifecycle.json"
  else
    cat "$tmp/lc.err" >&2
    exit 1
  fi
fi
# (Python goes to a file first: bash 3.2 misparses here-documents inside $(...).)
cat >"$tmp/lifecycle.py" <<'PY'
import json, sys
current_path, rule_id, days, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
current = json.load(open(current_path))
rules = current.get("Rules", [])
if any(r.get("ID") == rule_id for r in rules):
    print(f"skip: a lifecycle rule named {rule_id} already exists")
    sys.exit(0)
if any("Prefix" in r for r in rules):
    print("skip: the existing lifecycle configuration uses legacy top-level Prefix rules; "
          f"add {rule_id} by hand (Filter-based rules cannot be mixed with them)")
    sys.exit(0)
rules.append({
    "ID": rule_id,
    "Status": "Enabled",
    "Filter": {},
    "Transitions": [{"Days": days, "StorageClass": "GLACIER"}],
    "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
})
json.dump({"Rules": rules}, open(out_path, "w"))
size = current.get("TransitionDefaultMinimumObjectSize") or ""
print(f"put {len(rules) - 1} {size}")
PY
lifecycle_plan="$(python3 "$tmp/lifecycle.py" "$tmp/lifecycle.json" "$rule_id" "$days" "$tmp/lifecycle-new.json")"
case "$lifecycle_plan" in
  skip:*) echo "lifecycle: ${lifecycle_plan#skip: }" ;;
  put*)
    # "put <kept-rule-count> [minimum-object-size]"
    read -r _ kept min_size <<EOF
$lifecycle_plan
EOF
    if [ -n "$min_size" ]; then
      change put-bucket-lifecycle-configuration --lifecycle-configuration "file://$tmp/lifecycle-new.json" \
        --transition-default-minimum-object-size "$min_size"
    else
      change put-bucket-lifecycle-configuration --lifecycle-configuration "file://$tmp/lifecycle-new.json"
    fi
    done_msg "lifecycle: added $rule_id, kept $kept existing rule(s)" ;;
esac

# --- bucket policy: add the TLS-only deny, keep the other statements ------------------------
cat >"$tmp/policy.py" <<'PY'
import json, sys
mode, bucket = sys.argv[1], sys.argv[2]
policy = json.load(sys.stdin) if mode == "verify" else json.load(open(sys.argv[3]))
statements = policy.get("Statement", [])
statements = [statements] if isinstance(statements, dict) else statements

def listed(value):
    return [value] if isinstance(value, str) else list(value or [])

def not_denied(statements):
    """The bucket and object ARNs that no statement denies to everyone over plain HTTP."""
    need = {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    for s in statements:
        cond = s.get("Condition", {}).get("Bool", {})
        if s.get("Effect") == "Deny" and s.get("Principal") in ("*", {"AWS": "*"}) \
                and str(cond.get("aws:SecureTransport", "")).lower() == "false" \
                and {"s3:*", "*"} & set(listed(s.get("Action"))):
            need -= set(listed(s.get("Resource")))
    return sorted(need)

if mode == "verify":
    missing = not_denied(statements)
    if missing:
        sys.exit("plain HTTP is NOT denied for: " + ", ".join(missing))
    print("plain HTTP: denied for the bucket and its objects (aws:SecureTransport=false)")
    sys.exit(0)

if not not_denied(statements):
    print("skip: the bucket policy already denies requests without TLS")
    sys.exit(0)
sids = {s.get("Sid") for s in statements}
sid = "DenyInsecureTransport"
while sid in sids:
    sid += "X"
statements.append({
    "Sid": sid,
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
})
policy["Statement"] = statements
policy.setdefault("Version", "2012-10-17")
json.dump(policy, open(sys.argv[4], "w"))
print(f"put {len(statements) - 1}")
PY
if ! s3 get-bucket-policy --query Policy --output text >"$tmp/policy.json" 2>"$tmp/pol.err"; then
  if grep -q NoSuchBucketPolicy "$tmp/pol.err"; then
    echo '{"Version": "2012-10-17", "Statement": []}' >"$tmp/policy.json"
  else
    cat "$tmp/pol.err" >&2
    exit 1
  fi
fi
policy_plan="$(python3 "$tmp/policy.py" plan "$bucket" "$tmp/policy.json" "$tmp/policy-new.json")"
case "$policy_plan" in
  skip:*) echo "bucket policy: ${policy_plan#skip: }" ;;
  put*)
    change put-bucket-policy --policy "file://$tmp/policy-new.json"
    done_msg "bucket policy: added the TLS-only statement, kept ${policy_plan#put } existing statement(s)" ;;
esac

# --- verification -----------------------------------------------------------------------------
if [ "$dry_run" = true ]; then
  echo "dry run: nothing was changed"
  exit 0
fi
echo "--- verification"
echo "versioning: $(s3 get-bucket-versioning --query Status --output text)"
echo "encryption: $(s3 get-bucket-encryption \
  --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' --output text)"
echo "public:     $(s3 get-bucket-policy-status --query PolicyStatus.IsPublic --output text)"
echo "lifecycle:  $(s3 get-bucket-lifecycle-configuration --query 'Rules[].ID' --output text)"
# The policy as S3 stored it must deny every request made without TLS (HTTPS-only access).
s3 get-bucket-policy --query Policy --output text | python3 "$tmp/policy.py" verify "$bucket"
