#!/usr/bin/env bash
# Print the earliest *_FAILED event of the most recent stack operation, then recurse into a
# failed nested stack if that is where the error came from.
# Usage: first-failure.sh <stack-name-or-arn> [region]
# Works with bash 3.2 (macOS) and newer; needs the AWS CLI and python3.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
stack="${1:?stack name or ARN required (see --help)}"
region="${2:-}"

events() {
  # No optional-argument array: bash < 4.4 treats an empty "${array[@]}" as unbound under set -u.
  if [ -n "$region" ]; then
    aws cloudformation describe-stack-events --stack-name "$1" --region "$region" --output json
  else
    aws cloudformation describe-stack-events --stack-name "$1" --output json
  fi
}

show() {
  events "$1" |
  python3 -c '
import json, sys
events = json.load(sys.stdin)["StackEvents"]  # newest first
stack_id = events[0]["StackId"] if events else ""
# The current operation starts at the newest *_IN_PROGRESS event of the stack itself
# whose status is a user-initiated one.
starts = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS")
op = []
for e in events:
    op.append(e)
    if e["PhysicalResourceId"] == stack_id and e["ResourceStatus"] in starts \
            and "User Initiated" in (e.get("ResourceStatusReason") or ""):
        break
failed = [e for e in reversed(op) if e["ResourceStatus"].endswith("FAILED")]
if not failed:
    print("no failures in the latest operation")
    sys.exit(0)
first = failed[0]
ts, lid, rtype = first["Timestamp"], first["LogicalResourceId"], first["ResourceType"]
status, reason = first["ResourceStatus"], first.get("ResourceStatusReason", "")
print(f"{ts}  {lid} ({rtype})")
print(f"  {status}: {reason}")
if rtype == "AWS::CloudFormation::Stack" and first["PhysicalResourceId"] != stack_id:
    print("NESTED " + first["PhysicalResourceId"])
'
}

out="$(show "$stack")"
echo "$out" | grep -v '^NESTED ' || true
nested="$(echo "$out" | sed -n 's/^NESTED //p')"
if [ -n "$nested" ]; then
  echo "--- nested stack $nested"
  exec "$0" "$nested" "$region"
fi
