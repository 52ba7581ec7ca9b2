"""Audit records with no secrets and no gaps, against the real server and moto_server.

Known secret values are planted through every way a secret reaches the server (a CLI value,
a JSON input, a shorthand member the service model marks sensitive, a script's code and its
API parameters, arguments of a tool that does not exist, a pre-signed URL's signature, a
secret read back from AWS) and the audit file and stderr are searched for them. Every
`tools/call` must leave a record, whatever its outcome. conftest.py also points every server
of the suite at one audit file and scans it for the planted marker when the run ends."""

import json
import re
import uuid

import boto3
import httpx
import pytest

from conftest import HEADERS, PLANTED_SECRET_MARK
from test_http_protocol import open_session, session_headers


def planted() -> str:
    return f"{PLANTED_SECRET_MARK}{uuid.uuid4().hex[:12]}"


def tool_call(req_id, name, arguments):
    return {"jsonrpc": "2.0", "id": req_id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}


@pytest.fixture
def audited_server(http_server, moto_url, tmp_path):
    """A server writing its audit to a file of its own, with response bodies kept (redacted),
    the strictest case for redaction."""
    audit = tmp_path / "audit.jsonl"
    url, proc = http_server(AWS_ENDPOINT_URL=moto_url, AWS_MCP_AUDIT_LOG=audit,
                            AWS_MCP_AUDIT_RESPONSE_BODIES="true", AWS_MCP_DOCS_LIVE="false")
    sid, _ = open_session(url)

    def call(req_id, name, arguments):
        r = httpx.post(url, json=tool_call(req_id, name, arguments), headers=session_headers(sid),
                       timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    return call, audit, proc


def records(audit):
    return [json.loads(line) for line in audit.read_text().splitlines() if line.strip()]


def test_planted_secrets_never_reach_the_audit_or_the_logs(audited_server, moto_url):
    call, audit, proc = audited_server
    secrets = {name: planted() for name in
               ("cli", "json", "ssm", "lambda_env", "script_code", "script_param", "unknown_tool",
                "not_an_object")}
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="audit-bucket")

    answers = {}
    answers[2] = call(2, "aws___call_aws", {"cli_command":
        f"aws secretsmanager create-secret --name audit-a --secret-string {secrets['cli']} --region us-east-1"})
    answers[3] = call(3, "aws___call_aws", {"cli_command":
        "aws secretsmanager get-secret-value --secret-id audit-a --region us-east-1"})
    answers[4] = call(4, "aws___call_aws", {"cli_command":
        "aws secretsmanager create-secret --region us-east-1 --cli-input-json "
        + json.dumps(json.dumps({"Name": "audit-b", "SecretString": secrets["json"]}))})
    answers[5] = call(5, "aws___call_aws", {"cli_command":
        f"aws ssm put-parameter --name /audit/p --type SecureString --value {secrets['ssm']} --region us-east-1"})
    answers[11] = call(11, "aws___call_aws", {"cli_command":
        "aws ssm get-parameter --name /audit/p --with-decryption --region us-east-1"})
    answers[6] = call(6, "aws___call_aws", {"cli_command":
        "aws lambda update-function-configuration --function-name nope --region us-east-1 "
        f"--environment Variables={{DB_PASSWORD={secrets['lambda_env']}}}"})
    script = (f"token = '{secrets['script_code']}'\n"
              "call_aws('secretsmanager', 'CreateSecret', "
              f"{{'Name': 'audit-c', 'SecretString': '{secrets['script_param']}'}})\n"
              "result = len(token)")
    answers[7] = call(7, "aws___run_script", {"code": script})
    answers[8] = call(8, "aws___get_presigned_url", {"bucket": "audit-bucket", "key": "k.txt",
                                                    "method": "GET"})
    answers[9] = call(9, "aws___no_such_tool", {"password": secrets["unknown_tool"]})
    answers[10] = call(10, "aws___call_aws", secrets["not_an_object"])

    # The calls did what they were asked, so the secrets really passed through the server.
    read_back = answers[3]["result"]["structuredContent"]["results"][0]
    assert secrets["cli"] in json.dumps(read_back), read_back
    ssm_read = answers[11]["result"]["structuredContent"]["results"][0]
    assert secrets["ssm"] in json.dumps(ssm_read), ssm_read
    assert not answers[7]["result"].get("isError"), answers[7]
    url = answers[8]["result"]["structuredContent"]["url"]
    signature = re.search(r"X-Amz-Signature=([0-9a-f]+)", url).group(1)

    text = audit.read_text()
    logs = proc.stderr()
    for name, value in secrets.items():
        assert value not in text, f"the {name} secret is in the audit file"
        assert value not in logs, f"the {name} secret is in the server's stderr"
    assert signature not in text and signature not in logs
    # Redacted, not dropped: the records still say what was called.
    by_id = {}
    for record in records(audit):
        if record.get("eventName") == "CallTool":
            by_id.setdefault(record["requestParameters"]["id"], []).append(record)
    assert set(by_id) >= set(answers), sorted(by_id)
    cli_line = json.dumps(by_id[2][0]["requestParameters"]["params"])
    assert "create-secret" in cli_line and "--secret-string" in cli_line and "audit-a" in cli_line


def test_every_tools_call_is_audited_whatever_its_outcome(audited_server):
    call, audit, _ = audited_server
    call(20, "aws___no_such_tool", {})
    call(21, "aws___call_aws", [1, 2, 3])
    call(22, "aws___call_aws", {"cli_command": 42})
    call(23, "aws___call_aws", {"cli_command": "aws s3api nonsense-operation"})
    call(24, "aws___list_regions", {})
    seen = {r["requestParameters"]["id"]: r for r in records(audit) if r.get("eventName") == "CallTool"}
    assert set(seen) >= {20, 21, 22, 23, 24}, sorted(seen)
    assert seen[20]["requestParameters"]["method"] == "no_such_tool"
    assert seen[21]["requestParameters"]["params"] != [1, 2, 3]  # only the type is kept
    assert seen[24]["responseElements"]["outcome"] == "Success"
    assert seen[20]["responseElements"]["outcome"] != "Success"
