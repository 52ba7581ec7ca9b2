#!/usr/bin/env bash
# Smoke-test a deployed SAM HTTP API: read the ApiUrl output and call a path.
# Usage: smoke-test.sh <stack-name> [path] [expected-status]
set -euo pipefail
stack="${1:?stack name required}"
path="${2:-}"
expected="${3:-200}"

url="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue" --output text)"
if [[ -z "$url" || "$url" == "None" ]]; then
  echo "stack $stack has no ApiUrl output" >&2
  exit 2
fi

status="$(curl -s -o /tmp/smoke-body.$$ -w '%{http_code}' "${url%/}/${path#/}")"
echo "GET ${url%/}/${path#/} -> $status"
head -c 500 /tmp/smoke-body.$$; echo
rm -f /tmp/smoke-body.$$
[[ "$status" == "$expected" ]]
