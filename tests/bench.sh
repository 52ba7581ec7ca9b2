#!/usr/bin/env bash
# Benchmarks aws-mcp over stdio with the shared side-by-side harness (../shared/bench, or
# BENCH_DIR): start to initialized, tools/list, first call, median and p95 of N tool calls,
# and peak RSS. With PEERS set to a virtualenv holding awslabs-aws-api-mcp-server (see the
# harness README), the Python predecessor is measured in the same run for comparison.
# Not part of the test suite: timings belong in docs/benchmarks.md, not in assertions.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_DIR:-../shared/bench}
n=${N:-200}
if [ ! -f "$bench/bench_mcp.py" ]; then
    echo "bench harness not found at $bench (set BENCH_DIR)" >&2
    exit 2
fi
cargo build --release --locked -p mcp-server --bin aws-mcp
bin=$PWD/target/release/aws-mcp
state=$(mktemp -d)
export AWS_MCP_STATE_DIR=$state AWS_EC2_METADATA_DISABLED=true

run() {
    local label=$1 tool=$2 args=$3
    shift 3
    printf '%-44s ' "$label"
    python3 "$bench/bench_mcp.py" --tool "$tool" --args "$args" --n "$n" -- "$@"
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
run "aws-mcp list_regions" aws___list_regions '{}' "$bin" stdio
run "aws-mcp retrieve_skill" aws___retrieve_skill '{"skill_name":"iam-least-privilege-policies"}' "$bin" stdio
run "aws-mcp get_regional_availability (cfn)" aws___get_regional_availability \
    '{"resource_type":"cfn","regions":["us-east-1","eu-west-1","ap-southeast-2"],"filters":["AWS::EC2::Instance","AWS::S3::Bucket"]}' \
    "$bin" stdio
(
    export AWS_MCP_DOCS_LIVE=false
    run "aws-mcp search_documentation (offline)" aws___search_documentation \
        '{"search_phrase":"list the VPCs in my account","limit":5}' "$bin" stdio
    run "aws-mcp read_documentation (offline API page)" aws___read_documentation \
        '{"requests":[{"url":"https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcs.html"}]}' "$bin" stdio
)
if [ -n "${PEERS:-}" ]; then
    # The predecessor only starts with AWS settings; give it moto_server from PEERS.
    port=${MOTO_PORT:-5055}
    "$PEERS/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    moto=$!
    trap 'kill $moto 2>/dev/null || true' EXIT
    sleep 2
    (
        export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
            AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$port \
            AWS_API_MCP_SUPPRESS_DEPRECATION_WARNING=true
        n=${PEER_N:-50}
        run "predecessor call_aws s3api list-buckets" call_aws '{"cli_command":"aws s3api list-buckets"}' \
            "$PEERS/bin/python" "$bench/peer_api_server.py"
    )
fi
rm -rf "$state"
