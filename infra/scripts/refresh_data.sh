#!/usr/bin/env bash
# Regenerate every bundled snapshot from the versions pinned in tests/requirements-tools.txt:
# service models, CLI table, endpoints, read-only table, knowledge data, parity oracles and the
# offline search index (with the associations learned from the CLI's example titles). Bumping a pin there and running this is the whole data refresh.
#
#   bash infra/scripts/refresh_data.sh              # everything
#   bash infra/scripts/refresh_data.sh --no-response # skip the moto recording session
#
# Uses .venv-tools (the end-to-end tools virtualenv, rebuilt when the requirements change, as
# tests/run.sh does). Stops at the first failing step. Cargo honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."

response=1
for arg in "$@"; do
    case $arg in
        --no-response) response=0 ;;
        *) echo "usage: $0 [--no-response]" >&2; exit 64 ;;
    esac
done

requirements=tests/requirements-tools.txt
venv=.venv-tools
sum=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" != "$sum" ]; then
    echo "== installing $requirements into $venv"
    rm -rf "$venv"
    python3.11 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$sum" > "$venv/.requirements.sha"
fi
# The response oracle starts moto_server and cross-checks with `aws` from this virtualenv.
export PATH="$PWD/$venv/bin:$PATH"

step() {
    local name=$1
    shift
    echo "== $name [$(date -u +%T)]"
    if ! "$@"; then
        echo "refresh_data: step '$name' failed ($*); later steps were not run" >&2
        exit 1
    fi
}

# Order matters: the read-only table reads the models index, the request oracle replays the
# parameter oracle, the signature oracle signs the request oracle's requests, and the search
# index is built from the bundled models.
step models "$venv/bin/python" infra/scripts/generate_models.py
step "CLI table" "$venv/bin/python" infra/scripts/generate_cli_table.py
step endpoints "$venv/bin/python" infra/scripts/generate_endpoints.py
step "read-only table" "$venv/bin/python" infra/scripts/generate_readonly.py
step "knowledge data" "$venv/bin/python" infra/scripts/generate_knowledge_data.py
# After the knowledge data: it adds its paragraph to the NOTICE that step rewrites.
step "CLI example titles" "$venv/bin/python" infra/scripts/generate_cli_examples.py
for oracle in param request signature presign waiter url; do
    step "$oracle oracle" "$venv/bin/python" "infra/scripts/generate_${oracle}_oracle.py"
done
if [ "$response" = 1 ]; then
    step "response oracle" env TZ=UTC "$venv/bin/python" infra/scripts/generate_response_oracle.py
fi
# A debug build writes the same bytes as a release one; it only runs slower.
step "search index" cargo run --quiet --locked -p knowledge-tools --example search_index_gen

echo "== summary"
"$venv/bin/python" - <<'EOF'
import importlib.metadata as md
names = ["botocore", "awscli", "moto", "cfn-lint", "jmespath"]
print("pinned versions: " + ", ".join(f"{n} {md.version(n)}" for n in names))
EOF
changed=$(git status --porcelain -- shared/models/data shared/engine/data shared/engine/tests/data \
    shared/knowledge/data)
if [ -n "$changed" ]; then
    echo "changed files:"
    echo "$changed"
else
    echo "no generated file changed"
fi
