"""The package versions the generators pin, read from tests/requirements-tools.txt.

The pins live in that one file so that a version bump is one edit: the end-to-end tools
virtualenv, infra/scripts/refresh_data.sh and every generator's version check then agree.
"""

import re
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[2] / "tests" / "requirements-tools.txt"


def pinned(*names: str) -> dict:
    """{name: version} for each package, from its `name==version` line (extras allowed)."""
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    missing = [name for name in names if name not in found]
    if missing:
        raise SystemExit(f"{REQUIREMENTS}: no exact pin for {', '.join(missing)}")
    return {name: found[name] for name in names}
