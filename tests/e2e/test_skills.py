"""The skills' own content: every `aws ...` command of a ```bash block checked against the AWS
CLI's command table and service models (skill_commands.py, run under the tools venv, which has
the AWS CLI), every ```python block compiles, every skill has the sections a reader relies on,
and the README's skill table is generated from the library."""

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, TOOLS_BIN, base_env
from skill_commands import aws_commands, python_blocks

SKILLS_DIR = ROOT / "infra" / "skills"
SKILLS = sorted(d for d in SKILLS_DIR.iterdir() if (d / "SKILL.md").is_file())
DOCS = sorted(p for d in SKILLS for p in [d / "SKILL.md", *sorted((d / "references").glob("*.md"))])
CHECKER = ROOT / "tests" / "e2e" / "skill_commands.py"


def doc_id(path):
    return str(path.relative_to(SKILLS_DIR))


def test_the_library_has_at_least_72_skills():
    assert len(SKILLS) >= 72


def test_command_extraction_joins_lines_and_finds_nested_commands():
    text = "\n".join([
        "```bash",
        "# a comment with aws s3 ls in it",
        "aws s3api put-bucket-versioning --bucket b \\",
        "  --versioning-configuration Status=Enabled",
        'ID=$(aws sts get-caller-identity --query Account --output text) && echo "aws not this"',
        "aws sqs create-queue --queue-name q --attributes '{",
        '  "VisibilityTimeout": "60"}\' | jq .',
        "cat <<'EOF' > x.json",
        "aws inside heredoc",
        "EOF",
        "```",
        "```text",
        "aws s3 ls",
        "```",
    ])
    assert aws_commands(text) == [
        (3, ["s3api", "put-bucket-versioning", "--bucket", "b", "--versioning-configuration",
             "Status=Enabled"]),
        (5, ["sts", "get-caller-identity", "--query", "Account", "--output", "text"]),
        (6, ["sqs", "create-queue", "--queue-name", "q", "--attributes",
             '{\n  "VisibilityTimeout": "60"}']),
    ]


def run_checker(*paths):
    python = TOOLS_BIN / "python"
    if not python.exists():
        pytest.skip(f"no tools venv at {TOOLS_BIN} (set AWS_MCP_TOOLS_BIN)")
    return subprocess.run([str(python), str(CHECKER), *map(str, paths)], capture_output=True,
                          text=True, timeout=300, env=base_env())


def test_the_checker_catches_wrong_commands(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("\n".join([
        "```bash",
        "aws s3api put-bucket-versioning --bucket x --versioning-configuration Status=On",
        "aws lambda create-function --function-name f --runtime python9 --role r",
        "aws sqs create-queue --queue-name q --attributes '{\"Bogus\": \"1\"}'",
        "aws cloudwatch put-metric-alarm --alarm-name a --metrics '[{\"Id\":\"m\",\"Expresion\":\"x\"}]'",
        "aws s3 cp a b --recursiv",
        "aws nosuch thing",
        "aws ec2 describe-instance",
        "aws ecr get-login --no-include-email",
        'aws ec2 describe-instances --region "$REGION" --instance-ids "$ID"',
        "aws logs tail /aws/lambda/f --follow --since 1h",
        "aws cloudformation deploy --template-file t.yaml --stack-name s --capabilities CAPABILITY_IAM",
        "aws mgn update-launch-configuration --source-server-id s-1 --copy-tags true",
        "aws ec2 describe-instances --query 'Reservations[].Instances[].[InstanceId,InstanceTyp]'",
        "aws sts get-caller-identity --query Account --output text 2>/dev/null",
        "aws ec2 describe-addresses --query 'Addresses[?AssociationId==`null`].PublicIp'",
        "```",
    ]))
    p = run_checker(bad)
    problems = [(x["line"], x["problem"]) for x in json.loads(p.stdout)]
    assert p.returncode == 1
    assert [line for line, _ in problems] == [2, 3, 4, 5, 6, 7, 8, 9, 13, 14]
    text = "\n".join(problem for _, problem in problems)
    for needle in ("'On' not one of Enabled, Suspended", "python9 not one of", "key 'Bogus'",
                   "unknown key 'Expresion'", "unknown option --recursiv", "unknown service 'nosuch'",
                   "unknown command 'aws ec2 describe-instance'", "get-login-password",
                   "unexpected word(s) true (--copy-tags takes no value)",
                   "no field 'InstanceTyp' in Instance"):
        assert needle in text


def test_every_aws_command_in_the_skills_exists_with_its_options():
    p = run_checker(*DOCS)
    assert p.returncode in (0, 1), p.stderr
    problems = json.loads(p.stdout)
    listing = "\n".join(f"{x['file']}:{x['line']}: {x['problem']}" for x in problems)
    assert not problems, listing
    commands = sum(len(aws_commands(d.read_text())) for d in DOCS)
    assert commands >= 600, f"only {commands} aws commands found: extraction broke?"


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_python_snippets_compile(doc):
    for line, code in python_blocks(doc.read_text()):
        try:
            compile(code, f"{doc_id(doc)}:{line}", "exec")
        except SyntaxError as e:
            pytest.fail(f"{doc_id(doc)}: the python block at line {line} does not compile: {e}")


def test_python_scripts_compile():
    scripts = sorted(SKILLS_DIR.glob("*/scripts/*.py"))
    assert scripts
    for script in scripts:
        compile(script.read_text(), str(script), "exec")


@pytest.mark.parametrize("skill", SKILLS, ids=lambda d: d.name)
def test_skill_has_when_to_use_steps_verification_and_troubleshooting(skill):
    text = skill.joinpath("SKILL.md").read_text()
    headings = [h.lower() for h in re.findall(r"^#{2,3} (.+)$", text, re.M)]
    assert any("when to use" in h for h in headings), f"{skill.name}: no 'When to use' section"
    assert any("verif" in h for h in headings), f"{skill.name}: no verification section"
    assert any(k in h for h in headings for k in ("troubleshoot", "pitfall", "common failures")), \
        f"{skill.name}: no troubleshooting or pitfalls section"
    assert re.search(r"^```\w+", text, re.M), f"{skill.name}: no code block"  # SDK skills: code, not CLI
    assert re.search(r"^name: " + re.escape(skill.name) + r"$", text, re.M)
    assert re.search(r"^  plugin: [\w-]+$", text, re.M), f"{skill.name}: no metadata.plugin"


def test_readme_skill_table_is_generated():
    p = subprocess.run([sys.executable, str(ROOT / "infra" / "scripts" / "build_plugins.py"), "--check"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index("<!-- skills:start -->"), readme.index("<!-- skills:end -->")
    table = readme[start:end]
    for skill in SKILLS:
        assert f"`{skill.name}`" in table, f"{skill.name} is missing from the README's skill table"
    assert re.search(rf"infra/skills\s+{len(SKILLS)} skills", readme)


def fake_aws_for_existing_bucket(tmp_path):
    """An `aws` on PATH that answers the reads of create-secure-bucket.sh for an existing bucket
    with SSE-KMS, one lifecycle rule and one policy statement, and logs every call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text("\n".join([
        "#!/bin/sh",
        f'echo "$*" >> "{tmp_path}/calls.log"',
        'case "$2" in',
        "  head-bucket) exit 0 ;;",
        "  get-bucket-encryption) echo aws:kms ;;",
        "  get-bucket-lifecycle-configuration) echo '{\"Rules\":[{\"ID\":\"keep-me\",\"Status\":\"Enabled\","
        "\"Filter\":{},\"Expiration\":{\"Days\":30}}]}' ;;",
        f'  get-bucket-policy) if [ -f "{tmp_path}/policy.json" ]; then cat "{tmp_path}/policy.json"; else',
        "    echo '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Mine\",\"Effect\":\"Allow\","
        "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::acme-b/*\"}]}'; fi ;;",
        # Writes that take a file:// document keep it, so the test can read what was sent.
        "  put-bucket-policy|put-bucket-lifecycle-configuration)",
        '    for a in "$@"; do case "$a" in file://*) cat "${a#file://}" > "' + str(tmp_path) + '/$2.json" ;; esac; done',
        f'    [ "$2" = put-bucket-policy ] && cp "{tmp_path}/$2.json" "{tmp_path}/policy.json" ;;',
        "esac",
        "exit 0",
    ]) + "\n")
    aws.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}


def test_secure_bucket_script_dry_run_changes_nothing_and_keeps_existing_settings(tmp_path):
    script = SKILLS_DIR / "s3-bucket-setup" / "scripts" / "create-secure-bucket.sh"
    p = subprocess.run(["bash", str(script), "--dry-run", "acme-b", "eu-west-1"], capture_output=True,
                       text=True, timeout=60, env=fake_aws_for_existing_bucket(tmp_path))
    assert p.returncode == 0, p.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls and not [c for c in calls if c.split()[1].startswith(("put-", "create-", "delete-"))], calls
    out = p.stdout
    assert "keeping the existing aws:kms configuration" in out           # SSE-KMS not reset to AES256
    assert "would run: aws s3api put-bucket-lifecycle-configuration" in out
    assert "(dry run) lifecycle: added archive-after-90-days, kept 1 existing rule(s)" in out
    assert "(dry run) bucket policy: added the TLS-only statement, kept 1 existing statement(s)" in out
    assert "put-bucket-encryption" not in out
    assert out.rstrip().endswith("dry run: nothing was changed")


def test_secure_bucket_script_merges_into_an_existing_bucket(tmp_path):
    script = SKILLS_DIR / "s3-bucket-setup" / "scripts" / "create-secure-bucket.sh"
    p = subprocess.run(["bash", str(script), "acme-b", "eu-west-1", "60"], capture_output=True,
                       text=True, timeout=60, env=fake_aws_for_existing_bucket(tmp_path))
    assert p.returncode == 0, p.stdout + p.stderr
    calls = (tmp_path / "calls.log").read_text()
    assert "put-bucket-encryption" not in calls                     # SSE-KMS kept, no key given
    rules = json.loads((tmp_path / "put-bucket-lifecycle-configuration.json").read_text())["Rules"]
    assert [r["ID"] for r in rules] == ["keep-me", "archive-after-60-days"]
    policy = json.loads((tmp_path / "put-bucket-policy.json").read_text())
    assert [st["Sid"] for st in policy["Statement"]] == ["Mine", "DenyInsecureTransport"]
    assert "plain HTTP: denied for the bucket and its objects" in p.stdout


def test_build_regenerates_only_the_readme_skill_table_and_count(tmp_path):
    script = tmp_path / "infra" / "scripts" / "build_plugins.py"
    script.parent.mkdir(parents=True)
    script.write_bytes((ROOT / "infra" / "scripts" / "build_plugins.py").read_bytes())
    skill = tmp_path / "infra" / "skills" / "alpha"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text('---\nname: alpha\ndescription: "Does alpha things. Use when testing."\n'
                                    "metadata:\n  type: procedure\n  plugin: aws-core\n---\n\n# Alpha\n")
    before = ("# Project\n\ninfra/skills           3 skills (SKILL.md + references/)\n\nKeep this.\n\n"
              "<!-- skills:start -->\nold table\n<!-- skills:end -->\n\nAnd this.\n")
    (tmp_path / "README.md").write_text(before)
    run = lambda *a: subprocess.run([sys.executable, str(script), *a], capture_output=True, text=True, timeout=60)
    assert run().returncode == 0
    after = (tmp_path / "README.md").read_text()
    assert "infra/skills           1 skills (SKILL.md" in after
    assert "| [`alpha`](infra/skills/alpha/SKILL.md) | aws-core | Does alpha things. |" in after
    assert "old table" not in after and "Keep this.\n" in after and after.endswith("And this.\n")
    assert run("--check").returncode == 0
    (tmp_path / "README.md").write_text(after.replace("| aws-core |", "| aws-agents |"))
    p = run("--check")
    assert p.returncode == 1 and "README.md: skill table out of date" in p.stdout
