#!/usr/bin/env bash
# Smoke-test a deployed SAM HTTP API: read the ApiUrl output and call a path.
# Usage: smoke-test.sh <stack-name> [path] [expected-status]
# Works with bash 3.2 (macOS) and newer; needs the AWS CLI and curl.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
stack="${1:?stack name required (see --help)}"
path="${2:-}"
expected="${3:-200}"

url="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue" --output text)"
if [[ -z "$url" || "$url" == "None" ]]; then
  echo "stack $stack has no ApiUrl output" >&2
  exit 2
fi

body="$(mktemp)"
trap 'rm -f "$body"' EXIT
status="$(curl -s -o "$body" -w '%{http_code}' "${url%/}/${path#/}")"
echo "GET ${url%/}/${path#/} -> $status (expected $expected)"
head -c 500 "$body"; echo
[ "$status" = "$expected" ]
