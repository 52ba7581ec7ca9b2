#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, the Lambda release build, and the
# end-to-end suite (official MCP client, mcp-proxy-for-aws, cargo lambda watch, moto_server,
# cfn-lint, SAM CLI). Installs its Python tools into three virtualenvs at the repository root
# (.venv-test: client and proxy; .venv-tools: moto, cfn-lint, cargo-lambda; .venv-sam: SAM
# CLI, whose boto3 pin conflicts with moto's); they are rebuilt whenever their requirements
# file changes.
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_venv() {
    local dir=$1 requirements=$2
    local sum
    sum=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements.sha" 2>/dev/null)" != "$sum" ]; then
        echo "== installing $requirements into $dir"
        rm -rf "$dir"
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        echo "$sum" > "$dir/.requirements.sha"
    fi
}

ensure_venv .venv-test tests/requirements-client.txt
ensure_venv .venv-tools tests/requirements-tools.txt
ensure_venv .venv-sam tests/requirements-sam.txt
export PATH="$PWD/.venv-tools/bin:$PATH"
export AWS_MCP_TOOLS_BIN="$PWD/.venv-tools/bin"
export AWS_MCP_SAM_BIN="$PWD/.venv-sam/bin"

# The parity oracles come from the pinned AWS CLI and botocore themselves: regenerate them so
# the engine is compared with what those tools do now, not only with the committed copies.
# (The response oracle needs a recording session against moto and stays committed.)
echo "== parity oracles from the AWS CLI and botocore [$(date -u +%T)]"
for generator in param request signature presign waiter url; do
    .venv-tools/bin/python "infra/scripts/generate_${generator}_oracle.py" > /dev/null
done

echo "== cargo test [$(date -u +%T)]"
cargo build --workspace --locked
cargo test --workspace --locked

echo "== Lambda release build: sam build (cargo lambda, x86_64, for provided.al2023) [$(date -u +%T)]"
# The deployment's own build: `sam build` runs `cargo lambda build --release --bin <fn>` for each
# function in the workspace's target directory, so the shared crates compile once (for the
# first function) and the others only link. The binaries land in target/lambda/<fn>/, where
# the end-to-end tests run them; SAM's copies go to .aws-sam/build.
SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam build --beta-features --no-cached --template-file template.yaml \
    --build-dir .aws-sam/build

echo "== end-to-end tests [$(date -u +%T)]"
# A hung test fails on its own (pytest-timeout) instead of stalling the whole run.
.venv-test/bin/python -m pytest tests/e2e -q -p no:cacheprovider --timeout 900 --durations 25 "$@"
