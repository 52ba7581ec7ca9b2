"""Deployment assets: the SAM template passes cfn-lint, and every Lambda bootstrap built by
`cargo lambda build --release` runs on provided.al2023 (glibc 2.34)."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, TARGET, TOOLS_BIN

AL2023_GLIBC = (2, 34)
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists())


def test_template_is_cfn_lint_clean():
    p = subprocess.run([str(TOOLS_BIN / "cfn-lint"), str(ROOT / "template.yaml")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_template_declares_every_function():
    text = (ROOT / "template.yaml").read_text()
    for name in FUNCTIONS:
        assert f"Binary: {name}" in text, name


@pytest.mark.parametrize("function", FUNCTIONS)
def test_bootstrap_needs_at_most_glibc_2_34(function):
    bootstrap = TARGET / "lambda" / function / "bootstrap"
    assert bootstrap.exists(), f"build it first: cargo lambda build --release (missing {bootstrap})"
    out = subprocess.run(["objdump", "-T", str(bootstrap)], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", out)}
    assert versions, "no GLIBC symbols found; is it a dynamically linked glibc binary?"
    assert max(versions) <= AL2023_GLIBC, f"{function} needs GLIBC_{'.'.join(map(str, max(versions)))}"
