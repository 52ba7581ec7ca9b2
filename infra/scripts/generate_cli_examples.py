#!/usr/bin/env python3
"""Extract the titles of the AWS CLI's usage examples into shared/knowledge/data/.

awscli ships one reStructuredText file of examples per command
(`awscli/examples/<cli service>/<command>.rst`); each example opens with a bold title such as
"**To list the objects in a bucket**". A title is a person's phrasing of a task, labelled with
the command that does it: the offline search learns paraphrases from these pairs
(shared/knowledge/src/docs/associations.rs).

Writes `cli_example_titles.json.gz`: gzip (mtime 0) compact JSON with sorted keys,
`{"source": {...}, "commands": [[cli service, command, [title, ...]], ...]}`, sorted by service
and command. A file without a bold title contributes its first sentence instead. Titles keep
their words only: "Example 2:", the leading "To " and reStructuredText markup are removed.
High-level commands (`s3/cp.rst`) are kept; the search maps what it can to API operations.

    .venv-tools/bin/python infra/scripts/generate_cli_examples.py

The awscli version is pinned in tests/requirements-tools.txt; output is byte-for-byte
reproducible for a given version.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.util
import json
import re
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("awscli")
OUT = Path(__file__).resolve().parents[2] / "shared" / "knowledge" / "data"
NAME = "cli_example_titles.json.gz"

BOLD = re.compile(r"^\*\*(.+?)\*\*\s*$")
NUMBERED = re.compile(r"^(?:example\s*\d*\s*:?|\d+\.)\s*", re.IGNORECASE)
LITERAL = re.compile(r"``([^`]*)``|`([^`]*)`")


def package_dir(module: str) -> Path:
    """Locate an installed package directory without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"error: package {module!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def clean(text: str) -> str:
    text = LITERAL.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = NUMBERED.sub("", text.strip())
    text = re.sub(r"^to\s+", "", text, flags=re.IGNORECASE)
    return " ".join(text.replace("*", "").split()).rstrip(":.")


def titles(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for line in lines:
        match = BOLD.match(line.strip())
        if match and not match.group(1).lower().startswith("note"):
            title = clean(match.group(1))
            if title and title not in found:
                found.append(title)
    if found:
        return found
    # No titled example: the first prose sentence ("The following command copies ...").
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("aws ", "..", "::")) and line[0].isalpha():
            sentence = clean(line.split(". ")[0].split("::")[0])
            return [sentence] if sentence else []
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--allow-version-mismatch", action="store_true")
    args = ap.parse_args()
    installed = {"awscli": importlib.metadata.version("awscli")}
    if installed != PINNED and not args.allow_version_mismatch:
        print(f"installed {installed}, pinned {PINNED}; install the pinned version or pass "
              "--allow-version-mismatch", file=sys.stderr)
        return 2
    root = package_dir("awscli") / "examples"
    commands = []
    for path in sorted(root.glob("*/*.rst")):
        if path.name.startswith("_"):
            continue  # concept pages (s3/_concepts.rst), not commands
        found = titles(path)
        if found:
            commands.append([path.parent.name, path.stem, found])
    doc = {
        "source": {"generator": "infra/scripts/generate_cli_examples.py",
                   "inputs": ["awscli/examples/<cli service>/<command>.rst"],
                   "packages": installed},
        "commands": commands,
    }
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    data = gzip.compress(raw, compresslevel=9, mtime=0)
    (OUT / NAME).write_bytes(data)
    total = sum(len(c[2]) for c in commands)
    print(f"wrote {NAME}: {len(commands)} commands, {total} titles, {len(data)} bytes "
          f"({len(raw)} uncompressed)")
    update_notice(installed["awscli"])
    return 0


def update_notice(version: str) -> None:
    """Put this data's paragraph in data/NOTICE, before the Apache licence text.

    generate_knowledge_data.py rewrites NOTICE without it, and runs first in refresh_data.sh.
    """
    rule = "=" * 78
    block = (f"{rule}\n{NAME}, search_assoc.bin.gz, search_index.bin.gz: the titles of the\n"
             f"usage examples of the AWS CLI {version} (awscli/examples/*/*.rst), Apache License 2.0.\n"
             f"{rule}\nAWS Command Line Interface\n"
             "Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved.\n\n")
    path = OUT / "NOTICE"
    text = path.read_text(encoding="utf-8")
    # Drop an earlier copy of the block: its heading (between two rules) and body, up to the
    # next heading.
    text = re.sub(rf"{rule}\n{re.escape(NAME)}.*?{rule}\n.*?(?={rule}\n)", "", text,
                  flags=re.DOTALL)
    licence = f"{rule}\nApache License 2.0"
    at = text.find(licence)
    text = text + "\n" + block if at < 0 else text[:at] + block + text[at:]
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
