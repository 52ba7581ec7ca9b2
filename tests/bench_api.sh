#!/usr/bin/env bash
# Benchmarks the AWS tools against moto_server, side by side in one run with the direct-request
# floor (a kept-alive boto3 client, ../shared/bench/floor.py) and, when PEERS names a virtualenv
# holding awslabs-aws-api-mcp-server (see ../shared/bench/README.md), the Python predecessor:
#   - call_aws median latency for s3api list-buckets, dynamodb list-tables, ec2 describe-vpcs;
#   - first call on a new service (a fresh server per service, model decoded on first use);
#   - run_script overhead: a trivial script, and one making 10 AWS calls;
#   - suggest_aws_commands warm latency;
#   - peak RSS of the server.
# Not part of the test suite: timings belong in docs/benchmarks.md, not in assertions.
#
#   PEERS=/path/to/peers-venv N=100 bash tests/bench_api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-../shared/bench}
n=${N:-100}
peer_n=${PEER_N:-30}
if [ ! -f "$bench/bench_mcp.py" ]; then
    echo "bench harness not found at $bench (set BENCH_DIR)" >&2
    exit 2
fi
tools=${AWS_MCP_TOOLS_BIN:-$PWD/.venv-tools/bin}
if [ ! -x "$tools/moto_server" ]; then
    echo "moto_server not found in $tools: run bash tests/run.sh once (it creates .venv-tools) or set AWS_MCP_TOOLS_BIN" >&2
    exit 2
fi
cargo build --release --locked -p mcp-server --bin aws-mcp >&2
bin=$PWD/target/release/aws-mcp
state=$(mktemp -d)
port=${MOTO_PORT:-5056}
"$tools/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true; rm -rf "$state"' EXIT
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.2
done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$port \
    AWS_EC2_METADATA_DISABLED=true AWS_MCP_STATE_DIR=$state \
    AWS_API_MCP_SUPPRESS_DEPRECATION_WARNING=true

# Something to list.
"$tools/python" - <<EOF
import boto3
for i in range(3):
    boto3.client("s3").create_bucket(Bucket=f"bench-{i}")
    boto3.client("dynamodb").create_table(TableName=f"bench-{i}", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
EOF

run() {
    local label=$1 tool=$2 args=$3 count=$4
    shift 4
    printf '%-52s ' "$label"
    "$tools/python" "$bench/bench_mcp.py" --tool "$tool" --args "$args" --n "$count" -- "$@"
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
for pair in "s3 list_buckets|aws s3api list-buckets" \
            "dynamodb list_tables|aws dynamodb list-tables" \
            "ec2 describe_vpcs|aws ec2 describe-vpcs"; do
    floor=${pair%%|*}
    command=${pair#*|}
    printf '%-52s ' "floor $floor"
    "$tools/python" "$bench/floor.py" $floor "$n"
    run "aws-mcp call_aws $command" aws___call_aws "{\"cli_command\":\"$command\"}" "$n" "$bin" stdio
    if [ -n "${PEERS:-}" ]; then
        run "predecessor call_aws $command" call_aws "{\"cli_command\":\"$command\"}" "$peer_n" \
            "$PEERS/bin/python" "$bench/peer_api_server.py"
    fi
done

# First call of a fresh process (credentials, HTTP pool, the service's tables all new).
for command in "aws sqs list-queues" "aws iam list-roles"; do
    run "aws-mcp first call of a process: $command" aws___call_aws "{\"cli_command\":\"$command\"}" 1 "$bin" stdio
done
# moto's own first answer per service (a fresh moto_server, as the server's test below
# also meets it fresh): what a first call costs before this server adds anything.
"$tools/python" - <<'PY'
import time, boto3
for service, op in [("sqs", "list_queues"), ("iam", "list_roles"), ("kms", "list_keys"),
                    ("sns", "list_topics"), ("ec2", "describe_vpcs"), ("lambda", "list_functions")]:
    client = boto3.client(service)
    getattr(client, "_make_api_call")  # built before timing
    t = time.perf_counter(); getattr(client, op)(); first = (time.perf_counter() - t) * 1000
    t = time.perf_counter(); getattr(client, op)(); second = (time.perf_counter() - t) * 1000
    print(f"{'floor first call: ' + service + ' ' + op:<52} first {first:.1f} ms, second {second:.1f} ms")
PY
# First call on a service a running server has not used yet (its model and CLI table are
# decoded then), after one call to another service.
"$tools/python" - "$bench" "$bin" <<'PY'
import json, sys, time
sys.path.insert(0, sys.argv[1])
import mcpc
c = mcpc.StdioClient([sys.argv[2], "stdio"])
c.initialize()
mcpc.call(c, "aws___call_aws", {"cli_command": "aws sts get-caller-identity"})
for command in ["aws sqs list-queues", "aws iam list-roles", "aws kms list-keys", "aws sns list-topics",
                "aws ec2 describe-vpcs", "aws lambda list-functions"]:
    t = time.perf_counter()
    r = mcpc.call(c, "aws___call_aws", {"cli_command": command})
    first = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    mcpc.call(c, "aws___call_aws", {"cli_command": command})
    second = (time.perf_counter() - t) * 1000
    status = r["result"]["structuredContent"]["results"][0]["status"]
    print(f"{'aws-mcp first call on a new service: ' + command:<52} first {first:.1f} ms, second {second:.1f} ms ({status})")
rss = [l for l in open(f"/proc/{c.p.pid}/status") if l.startswith("VmHWM")][0].split()[1]
print(f"{'aws-mcp peak RSS after 7 services':<52} {rss} kB")
c.close()
PY

run "aws-mcp run_script trivial" aws___run_script '{"code":"1 + 1"}' "$n" "$bin" stdio
ten_calls='{"code":"n = 0\nfor i in range(10):\n    n += len(call_aws(\"s3\", \"ListBuckets\")[\"Buckets\"])\nn"}'
run "aws-mcp run_script 10 AWS calls" aws___run_script "$ten_calls" "$n" "$bin" stdio
if [ -n "${PEERS:-}" ]; then
    run "predecessor call_aws 10 commands (batch)" call_aws \
        '{"cli_command":["aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets","aws s3api list-buckets"]}' \
        "$peer_n" "$PEERS/bin/python" "$bench/peer_api_server.py" || true
fi
run "aws-mcp suggest_aws_commands (warm)" aws___suggest_aws_commands \
    '{"query":"create a dynamodb table with a partition key"}' "$n" "$bin" stdio
