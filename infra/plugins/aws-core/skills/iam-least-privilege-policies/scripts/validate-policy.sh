#!/usr/bin/env bash
# Validate an IAM policy document with IAM Access Analyzer.
# Usage: validate-policy.sh <policy.json> [IDENTITY_POLICY|RESOURCE_POLICY|SERVICE_CONTROL_POLICY|RESOURCE_CONTROL_POLICY] [resource-type]
# Exits 1 if any ERROR or SECURITY_WARNING finding is returned.
# Works with bash 3.2 (macOS) and newer; needs the AWS CLI and python3.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

doc="${1:?policy file required (see --help)}"
type="${2:-IDENTITY_POLICY}"
rtype="${3:-}"

args=(accessanalyzer validate-policy --policy-type "$type" --policy-document "file://$doc" --output json)
if [[ -n "$rtype" ]]; then
  args+=(--validate-policy-resource-type "$rtype")
fi

out="$(aws "${args[@]}")"
echo "$out" | python3 -c '
import json, sys
findings = json.load(sys.stdin).get("findings", [])
blocking = 0
for f in findings:
    kind, code, details = f["findingType"], f["issueCode"], f["findingDetails"]
    print(f"{kind:17} {code}: {details}")
    if kind in ("ERROR", "SECURITY_WARNING"):
        blocking += 1
print(f"{len(findings)} finding(s), {blocking} blocking")
sys.exit(1 if blocking else 0)
'
