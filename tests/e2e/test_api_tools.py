"""The AWS tools end to end through the official MCP client against `aws-mcp stdio` and
moto_server: call_aws (validation ladder, batches, pagination, high-level s3 commands,
local files), the policy, suggest_aws_commands, run_script, get_presigned_url and tasks."""

import json
import time
import uuid

import boto3
import httpx
import pytest

from conftest import AWS_MCP, base_env
from mcpclient import with_stdio_session


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run(moto_url, body, work_dir=None, **env):
    extra = {"AWS_ENDPOINT_URL": moto_url, **env}
    if work_dir is not None:
        extra["AWS_MCP_WORK_DIR"] = work_dir
    return with_stdio_session(AWS_MCP, ["stdio"], base_env(**extra), body)


def call_aws_all(moto_url, commands, work_dir=None, max_results=None, **env):
    """Runs each entry of `commands` (a command or a list) as one call_aws call."""

    async def body(session, init):
        out = []
        for c in commands:
            args = {"cli_command": c}
            if max_results is not None:
                args["max_results"] = max_results
            r = await session.call_tool("aws___call_aws", args)
            assert json.loads(r.content[0].text) == r.structuredContent
            out.append((r.isError, r.structuredContent))
        return out

    return run(moto_url, body, work_dir, **env)


def results_of(moto_url, commands, **kw):
    return [sc["results"] for _, sc in call_aws_all(moto_url, commands, **kw)]


def one(moto_url, command, **kw):
    [[result]] = results_of(moto_url, [command], **kw)
    return result


def boto(moto_url, service):
    return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


# ------------------------------------------------------------------------------ tools/list

def test_aws_tools_are_listed_with_accurate_annotations(moto_url):
    async def body(session, init):
        return (await session.list_tools()).tools

    tools = {t.name: t for t in run(moto_url, body)}
    for name in ["aws___call_aws", "aws___suggest_aws_commands", "aws___run_script",
                 "aws___get_presigned_url", "aws___get_tasks"]:
        assert name in tools, name
        assert tools[name].outputSchema["type"] == "object"
    assert tools["aws___call_aws"].annotations.readOnlyHint is False
    assert tools["aws___call_aws"].annotations.destructiveHint is True
    assert tools["aws___run_script"].annotations.readOnlyHint is False
    assert tools["aws___suggest_aws_commands"].annotations.readOnlyHint is True
    assert tools["aws___get_tasks"].annotations.readOnlyHint is True
    assert "call_aws(service, operation" in tools["aws___run_script"].description


# -------------------------------------------------------------------- the validation ladder

LADDER = [
    ("aws s3api list-buckets; rm -rf /", "ShellSyntaxRefused", None),
    ("aws s3api list-buckets && echo hi", "ShellSyntaxRefused", None),
    ("aws s3api list-buckets | head", "ShellSyntaxRefused", None),
    ("aws s3api list-buckets $(whoami)", "ShellSyntaxRefused", None),
    ("ls -la", "ValidationError", "must start with 'aws'"),
    ("aws s3apii list-buckets", "UnknownService", "s3api"),
    ("aws dynamodb list-tabels", "UnknownOperation", "list-tables"),
    ("aws dynamodb list-tables --limitt 3", "UnknownArgument", "--limit"),
    ("aws dynamodb describe-table", "MissingArgument", "--table-name"),
    ("aws dynamodb create-table --table-name t --billing-mode FAST", "ValidationError", "PAY_PER_REQUEST"),
    ("aws dynamodb list-tables --limit 0", "ValidationError", "Limit"),
    ("aws s3api list-buckets --debug", "DeniedOption", "--debug"),
    ("aws s3api list-buckets --no-verify-ssl", "DeniedOption", None),
    ("aws s3api list-buckets --no-sign-request", "DeniedOption", None),
    ("aws s3api list-buckets --query 'Buckets[.Name'", "ValidationError", "--query"),
    ("aws s3api list-buckets --endpoint-url http://169.254.169.254", "DeniedOption", "loopback"),
]


@pytest.mark.parametrize("command,code,mentions", LADDER)
def test_invalid_commands_are_refused_before_anything_is_sent(moto_url, command, code, mentions):
    r = one(moto_url, command)
    assert r["status"] == "error", r
    assert r["error"]["kind"] == "validation", r
    assert r["error"]["code"] == code, r
    if mentions:
        assert mentions in r["error"]["message"], r


def test_a_batch_keeps_its_order_and_one_failure_does_not_fail_it(moto_url):
    table = unique("batch")
    [(is_error, sc)] = call_aws_all(moto_url, [[
        f"aws dynamodb create-table --table-name {table} --attribute-definitions AttributeName=id,AttributeType=S "
        "--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST",
        "aws dynamodb describe-table --table-name does-not-exist",
        "aws sts get-caller-identity",
        "aws s3apii list-buckets",
    ]])
    assert not is_error
    r = sc["results"]
    assert [x["status"] for x in r] == ["success", "error", "success", "error"]
    assert r[0]["output"]["TableDescription"]["TableName"] == table
    assert r[1]["error"] == {"kind": "service", "code": "ResourceNotFoundException",
                             "message": r[1]["error"]["message"]}
    assert r[2]["output"]["Account"] == "123456789012"
    assert r[3]["error"]["kind"] == "validation"
    assert all(x["cli_command"] for x in r)


def test_a_batch_where_every_command_fails_is_an_error_result(moto_url):
    [(is_error, sc)] = call_aws_all(moto_url, [["aws nope nope", "aws s3api nope"]])
    assert is_error
    assert len(sc["results"]) == 2


def test_more_than_twenty_commands_are_refused(moto_url):
    async def body(session, init):
        return await session.call_tool("aws___call_aws", {"cli_command": ["aws sts get-caller-identity"] * 21})

    r = run(moto_url, body)
    assert r.isError and "at most 20" in r.content[0].text


def test_help_describes_the_operation(moto_url):
    r = one(moto_url, "aws dynamodb get-item help")
    assert r["status"] == "success"
    assert "--table-name (string) (required)" in r["output"]
    assert "--key (map) (required)" in r["output"]


def test_region_comes_from_the_option_then_an_arn_then_the_default(moto_url):
    r = results_of(moto_url, [[
        "aws sqs list-queues --region eu-west-1",
        "aws lambda get-function --function-name arn:aws:lambda:ap-south-1:123456789012:function:nope",
        "aws sqs list-queues",
    ]])[0]
    assert [x["region"] for x in r] == ["eu-west-1", "ap-south-1", "us-east-1"]


# --------------------------------------------------------------------------- pagination

def test_max_results_caps_items_and_the_token_resumes(moto_url):
    prefix = "/" + unique("pages")
    ssm = boto(moto_url, "ssm")
    names = sorted(f"{prefix}/p{i:02d}" for i in range(23))
    for n in names:
        ssm.put_parameter(Name=n, Value="v", Type="String")
    cmd = f"aws ssm get-parameters-by-path --path {prefix} --page-size 4"
    first = one(moto_url, cmd, max_results=10)
    assert first["status"] == "success", first
    assert len(first["output"]["Parameters"]) == 10
    token = first["next_token"]
    assert first["output"]["NextToken"] == token
    rest = one(moto_url, f"{cmd} --starting-token {token}")
    assert "next_token" not in rest
    got = [p["Name"] for p in first["output"]["Parameters"] + rest["output"]["Parameters"]]
    assert sorted(got) == names and len(got) == 23


def test_pages_are_merged_and_query_applies_after_the_merge(moto_url):
    prefix = "/" + unique("merge")
    ssm = boto(moto_url, "ssm")
    for i in range(12):
        ssm.put_parameter(Name=f"{prefix}/x{i:02d}", Value=str(i), Type="String")
    r = one(moto_url, f"aws ssm get-parameters-by-path --path {prefix} --page-size 5 "
                      "--query 'length(Parameters)'")
    assert r["output"] == 12


def test_the_byte_budget_cuts_with_a_token(moto_url):
    prefix = "/" + unique("budget")
    ssm = boto(moto_url, "ssm")
    for i in range(15):
        ssm.put_parameter(Name=f"{prefix}/b{i:02d}", Value="x" * 200, Type="String")
    cmd = f"aws ssm get-parameters-by-path --path {prefix} --page-size 5"
    r = one(moto_url, cmd, AWS_MCP_MAX_OUTPUT_BYTES="2048")
    assert r["truncated"] is True and r["next_token"]
    kept = len(r["output"]["Parameters"])
    assert 0 < kept < 15
    rest = one(moto_url, f"{cmd} --starting-token {r['next_token']}")
    assert kept + len(rest["output"]["Parameters"]) == 15


# ------------------------------------------------------------------ high-level s3, files

def test_high_level_s3_commands_print_what_the_cli_prints(moto_url, tmp_path):
    bucket = unique("hl")
    (tmp_path / "notes.txt").write_text("hello from the work dir\n")
    r = results_of(moto_url, [
        f"aws s3 mb s3://{bucket}",
        f"aws s3 cp notes.txt s3://{bucket}/docs/",
        f"aws s3 ls s3://{bucket}",
        f"aws s3 ls s3://{bucket}/docs/ --summarize",
        f"aws s3 cp s3://{bucket}/docs/notes.txt copy.txt",
        f"aws s3 rm s3://{bucket}/docs/notes.txt",
        f"aws s3 rb s3://{bucket}",
        "aws s3 sync . s3://somewhere",
    ], work_dir=tmp_path)
    outs = [x[0] for x in r]
    assert outs[0]["output"] == f"make_bucket: {bucket}\n"
    assert outs[1]["output"] == f"upload: ./notes.txt to s3://{bucket}/docs/notes.txt\n"
    assert outs[2]["output"] == "                           PRE docs/\n"
    lines = outs[3]["output"].splitlines()
    assert lines[0].endswith("         24 notes.txt") and len(lines[0]) == 19 + 1 + 10 + 1 + 9
    assert lines[-2:] == ["Total Objects: 1", "   Total Size: 24"]
    assert outs[4]["output"] == f"download: s3://{bucket}/docs/notes.txt to ./copy.txt\n"
    assert (tmp_path / "copy.txt").read_text() == "hello from the work dir\n"
    assert outs[5]["output"] == f"delete: s3://{bucket}/docs/notes.txt\n"
    assert outs[6]["output"] == f"remove_bucket: {bucket}\n"
    assert outs[7]["status"] == "error" and "aws s3 cp" in outs[7]["error"]["message"]


def test_local_files_stay_inside_the_work_dir(moto_url, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    (work / "item.json").write_text('{"id": {"S": "a"}}')
    table = unique("files")
    boto(moto_url, "dynamodb").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    bucket = unique("files")
    boto(moto_url, "s3").create_bucket(Bucket=bucket)
    boto(moto_url, "s3").put_object(Bucket=bucket, Key="k", Body=b"object body")
    r = results_of(moto_url, [
        f"aws dynamodb put-item --table-name {table} --item file://item.json",
        f"aws dynamodb put-item --table-name {table} --item file://../secret.txt",
        f"aws dynamodb put-item --table-name {table} --item file://{tmp_path}/secret.txt",
        f"aws s3api get-object --bucket {bucket} --key k ../escape.bin",
        f"aws s3api get-object --bucket {bucket} --key k body.bin",
        f"aws s3 cp ../secret.txt s3://{bucket}/x",
    ], work_dir=work)
    outs = [x[0] for x in r]
    assert outs[0]["status"] == "success"
    for bad in outs[1:4] + outs[5:]:
        assert bad["status"] == "error" and "outside the working directory" in bad["error"]["message"], bad
    assert not (tmp_path / "escape.bin").exists()
    assert outs[4]["status"] == "success" and "Body" not in outs[4]["output"]
    assert (work / "body.bin").read_bytes() == b"object body"


# ------------------------------------------------------------------------------- policy

def test_read_only_mode_refuses_writes_everywhere(moto_url):
    bucket = unique("ro")

    async def body(session, init):
        listed = await session.call_tool("aws___call_aws", {"cli_command": "aws s3api list-buckets"})
        write = await session.call_tool("aws___call_aws", {"cli_command": f"aws s3api create-bucket --bucket {bucket}"})
        high = await session.call_tool("aws___call_aws", {"cli_command": f"aws s3 mb s3://{bucket}"})
        creds = await session.call_tool("aws___call_aws", {"cli_command": "aws sts get-session-token"})
        script = await session.call_tool("aws___run_script", {"code": (
            "try:\n"
            f"    call_aws('s3', 'CreateBucket', {{'Bucket': '{bucket}'}})\n"
            "    r = 'created'\n"
            "except Exception as e:\n"
            "    r = str(e)\n"
            "r")})
        upload = await session.call_tool("aws___get_presigned_url", {"bucket": bucket, "key": "k", "method": "PUT"})
        return listed, write, high, creds, script, upload

    listed, write, high, creds, script, upload = run(moto_url, body, AWS_MCP_READ_ONLY="true")
    assert listed.structuredContent["results"][0]["status"] == "success"
    for refused in (write, high, creds):
        r = refused.structuredContent["results"][0]
        assert r["error"]["kind"] == "policy", r
        assert "read-only" in r["error"]["message"]
    assert script.structuredContent["result"].startswith("PolicyDenied")
    assert upload.isError and "read-only" in upload.content[0].text
    assert bucket not in [b["Name"] for b in boto(moto_url, "s3").list_buckets()["Buckets"]]


def test_deny_list_matches_both_s3_spellings_and_consent_is_refused_without_elicitation(moto_url):
    bucket = unique("deny")
    s3 = boto(moto_url, "s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = results_of(moto_url, [[
        f"aws s3 rm s3://{bucket}/k",
        f"aws s3api delete-object --bucket {bucket} --key k",
        f"aws s3api put-bucket-tagging --bucket {bucket} --tagging TagSet=[{{Key=a,Value=b}}]",
        f"aws s3api list-objects-v2 --bucket {bucket}",
    ]], AWS_MCP_DENY="aws s3api delete-*", AWS_MCP_CONSENT="aws s3api put-bucket-*")[0]
    assert r[0]["error"]["kind"] == "policy" and "delete-*" in r[0]["error"]["message"]
    assert r[1]["error"]["kind"] == "policy"
    assert r[2]["error"]["kind"] == "policy" and "consent" in r[2]["error"]["message"].lower()
    assert r[3]["status"] == "success" and r[3]["output"]["Contents"][0]["Key"] == "k"


def test_a_bad_policy_setting_stops_the_server_with_a_clear_message(moto_url):
    import subprocess
    p = subprocess.run([str(AWS_MCP), "stdio"], input="", capture_output=True, text=True, timeout=30,
                       env=base_env(AWS_MCP_DENY="aws s3api delete object now"))
    assert p.returncode != 0
    assert "AWS_MCP_DENY" in p.stderr


# ------------------------------------------------------------------------------ suggest

def test_suggest_finds_commands_offline(moto_url):
    async def body(session, init):
        a = await session.call_tool("aws___suggest_aws_commands", {"query": "create a dynamodb table"})
        b = await session.call_tool("aws___suggest_aws_commands", {"query": "send a message to an sqs queue", "limit": 3})
        c = await session.call_tool("aws___suggest_aws_commands", {"query": "   "})
        return a, b, c

    a, b, c = run("http://127.0.0.1:9", body)
    top = [s["command"] for s in a.structuredContent["suggestions"]]
    assert "aws dynamodb create-table" in top
    assert len(b.structuredContent["suggestions"]) == 3
    send = next(s for s in b.structuredContent["suggestions"] if s["command"] == "aws sqs send-message")
    assert send["required_parameters"] == ["--queue-url", "--message-body"]
    assert 0 < send["confidence"] <= 1
    assert c.isError


# --------------------------------------------------------------------------- run_script

def test_scripts_list_and_create_resources_through_call_aws(moto_url, tmp_path):
    bucket = unique("script")
    code = f"""
made = call_aws("s3", "CreateBucket", {{"Bucket": "{bucket}"}})
names = [b["Name"] for b in call_aws("s3", "ListBuckets")["Buckets"]]
print("buckets:", len(names))
try:
    call_aws("s3", "HeadBucket", {{"Bucket": "no-such-bucket-here"}})
except Exception as e:
    print("caught", str(e)[:3])
{{"mine": "{bucket}" in names, "count": len(names)}}
"""

    async def body(session, init):
        return await session.call_tool("aws___run_script", {"code": code})

    audit = tmp_path / "audit.jsonl"
    r = run(moto_url, body, AWS_MCP_AUDIT_LOG=audit)
    assert not r.isError, r.content[0].text
    sc = r.structuredContent
    # Each AWS call of the script has its own audit record, as a call_aws call would.
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    via = [x["requestParameters"]["params"] for x in records
           if x["requestParameters"]["params"].get("via") == "aws___run_script"]
    assert [(v["service"], v["operation"]) for v in via] == [
        ("s3", "CreateBucket"), ("s3", "ListBuckets"), ("s3", "HeadBucket")]
    assert sc["result"]["mine"] is True
    assert sc["aws_calls"] == 3
    assert "buckets:" in sc["stdout"] and "caught 404" in sc["stdout"]
    assert bucket in [b["Name"] for b in boto(moto_url, "s3").list_buckets()["Buckets"]]


ESCAPES = [
    ("import os\nos.system('id')", None),
    ("import socket", None),
    ("import subprocess", None),
    ("open('/etc/passwd').read()", None),
    ("__import__('os')", None),
    ("eval('1+1')", None),
    ("().__class__.__base__.__subclasses__()", None),
    ("x = 1\nwhile True:\n    x += 1", "timeout"),
    ("a = 'a' * (10 ** 10)", "memory_limit"),
    ("l = []\nwhile True:\n    l.append('x' * 100000)", "memory_limit"),
]


@pytest.mark.parametrize("code,kind", ESCAPES)
def test_sandbox_escapes_are_refused_or_stopped_and_the_server_keeps_serving(moto_url, code, kind):
    async def body(session, init):
        bad = await session.call_tool("aws___run_script", {"code": code, "timeout_seconds": 3})
        good = await session.call_tool("aws___run_script", {"code": "1 + 1"})
        return bad, good

    bad, good = run(moto_url, body)
    assert bad.isError
    if kind:
        assert bad.structuredContent["error"]["kind"] == kind, bad.structuredContent
    assert not good.isError and good.structuredContent["result"] == 2


def test_script_errors_name_the_line(moto_url):
    async def body(session, init):
        return await session.call_tool("aws___run_script", {"code": "x = 1\ny = 2\nz = x / 0\n"})

    r = run(moto_url, body)
    assert r.isError
    err = r.structuredContent["error"]
    assert err["type"] == "ZeroDivisionError" and err["line"] == 3


def test_script_output_floods_are_cut(moto_url):
    async def body(session, init):
        return await session.call_tool("aws___run_script", {"code": "for i in range(200000):\n    print('flood line', i)\n'done'"})

    r = run(moto_url, body)
    sc = r.structuredContent
    assert len(sc["stdout"]) <= 1_100_000
    assert "truncated" in sc["stdout"]


# ----------------------------------------------------------------------- presigned URLs

def test_presigned_urls_upload_then_download_against_moto(moto_url):
    bucket = unique("presign")
    boto(moto_url, "s3").create_bucket(Bucket=bucket)

    async def body(session, init):
        put = await session.call_tool("aws___get_presigned_url", {
            "bucket": bucket, "key": "dir/a file.txt", "method": "PUT", "expires_in": 300,
            "content_type": "text/plain"})
        get = await session.call_tool("aws___get_presigned_url", {
            "bucket": bucket, "key": "dir/a file.txt", "method": "GET"})
        too_long = await session.call_tool("aws___get_presigned_url", {
            "bucket": bucket, "key": "k", "method": "GET", "expires_in": 901})
        bad_bucket = await session.call_tool("aws___get_presigned_url", {
            "bucket": "Bad..Bucket", "key": "k", "method": "GET"})
        return put, get, too_long, bad_bucket

    put, get, too_long, bad_bucket = run(moto_url, body)
    up = put.structuredContent
    assert up["headers"] == {"Content-Type": "text/plain"}
    assert "X-Amz-Expires=300" in up["url"]
    r = httpx.put(up["url"], content=b"staged through a URL", headers=up["headers"])
    assert r.status_code == 200, r.text
    down = httpx.get(get.structuredContent["url"])
    assert down.status_code == 200 and down.content == b"staged through a URL"
    assert too_long.isError
    assert bad_bucket.isError


# -------------------------------------------------------------------------------- tasks

SLOW_SCRIPT = "t = 0\nfor i in range(1500000):\n    t += i\n{'sum': t}"


def test_long_calls_become_tasks_whose_result_equals_the_inline_answer(moto_url, tmp_path):
    state = tmp_path / "state"

    async def body(session, init):
        started = await session.call_tool("aws___run_script", {"code": SLOW_SCRIPT})
        sc = started.structuredContent
        assert sc["status"] == "working", sc
        task_id = sc["task_id"]
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            polled = await session.call_tool("aws___get_tasks", {"task_ids": [task_id, "f" * 64, "../../etc"]})
            tasks = polled.structuredContent["tasks"]
            seen.append(tasks[0]["status"])
            if tasks[0]["status"] != "working":
                return tasks, seen
            time.sleep(0.3)
        raise AssertionError(f"task never finished: {seen}")

    tasks, seen = run(moto_url, body, AWS_MCP_INLINE_BUDGET_SECONDS="0.1", AWS_MCP_STATE_DIR=state)
    assert tasks[0]["status"] == "completed"
    assert tasks[0]["tool"] == "run_script"
    assert tasks[1] == {"task_id": "f" * 64, "status": "not_found"}
    assert tasks[2] == {"task_id": "../../etc", "status": "not_found"}

    async def inline(session, init):
        return await session.call_tool("aws___run_script", {"code": SLOW_SCRIPT})

    direct = run(moto_url, inline, AWS_MCP_STATE_DIR=state)
    assert tasks[0]["result"] == direct.structuredContent


def test_a_long_read_command_becomes_a_task(moto_url, tmp_path):
    prefix = "/" + unique("slow")
    ssm = boto(moto_url, "ssm")
    for i in range(30):
        ssm.put_parameter(Name=f"{prefix}/s{i:02d}", Value="v", Type="String")

    async def body(session, init):
        started = await session.call_tool("aws___call_aws", {
            "cli_command": f"aws ssm get-parameters-by-path --path {prefix} --page-size 1"})
        sc = started.structuredContent
        if "results" in sc:  # finished within the budget after all
            return sc
        for _ in range(200):
            polled = await session.call_tool("aws___get_tasks", {"task_ids": [sc["task_id"]]})
            t = polled.structuredContent["tasks"][0]
            if t["status"] != "working":
                return t["result"]
            time.sleep(0.2)
        raise AssertionError("task never finished")

    result = run(moto_url, body, AWS_MCP_INLINE_BUDGET_SECONDS="0.1", AWS_MCP_STATE_DIR=tmp_path / "s")
    assert len(result["results"][0]["output"]["Parameters"]) == 30


def test_a_task_whose_worker_dies_ends_failed(moto_url, tmp_path):
    """The server is killed while its task runs; another process reports the task failed
    once its lease runs out."""
    import subprocess

    state = tmp_path / "state"
    env = base_env(AWS_ENDPOINT_URL=moto_url, AWS_MCP_STATE_DIR=state,
                   AWS_MCP_INLINE_BUDGET_SECONDS="0.1", AWS_MCP_TASK_LEASE_SECONDS="2")
    p = subprocess.Popen([str(AWS_MCP), "stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)

    def rpc(msg):
        p.stdin.write(json.dumps(msg) + "\n")
        p.stdin.flush()
        if "id" in msg:
            while True:
                line = json.loads(p.stdout.readline())
                if line.get("id") == msg["id"]:
                    return line

    rpc({"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    rpc({"jsonrpc": "2.0", "method": "notifications/initialized"})
    started = rpc({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "aws___run_script", "arguments": {"code": "while True:\n    pass", "timeout_seconds": 10}}})
    task_id = started["result"]["structuredContent"]["task_id"]
    worker = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    assert worker, "the script worker should be running"
    p.kill()
    p.wait()
    # The orphaned worker notices its server is gone and stops.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and __import__("os").path.exists(f"/proc/{worker[0]}/status"):
        time.sleep(0.1)
    status = __import__("pathlib").Path(f"/proc/{worker[0]}/status")
    assert not status.exists() or "zombie" in status.read_text(), "worker outlived its server"

    async def body(session, init):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = await session.call_tool("aws___get_tasks", {"task_ids": [task_id]})
            t = r.structuredContent["tasks"][0]
            if t["status"] != "working":
                return t
            time.sleep(0.5)
        raise AssertionError("still working")

    t = run(moto_url, body, AWS_MCP_STATE_DIR=state)
    assert t["status"] == "failed"
    assert "stopped" in json.dumps(t["result"])


def run_with_elicitation(moto_url, answer, body, **env):
    """Like `run`, with a client that answers elicitation requests with `answer(message)`
    and records what it was asked; progress notifications are recorded too."""
    import anyio
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.types import ElicitResult

    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        return answer(params.message)

    async def main():
        server = StdioServerParameters(command=str(AWS_MCP), args=["stdio"],
                                       env=base_env(AWS_ENDPOINT_URL=moto_url, **env))
        async with stdio_client(server) as (read, write):
            async with ClientSession(read, write, elicitation_callback=on_elicit) as session:
                await session.initialize()
                return await body(session)

    return anyio.run(main), asked, ElicitResult


def test_consent_is_asked_through_elicitation(moto_url):
    from mcp.types import ElicitResult
    yes_bucket, no_bucket = unique("consent-yes"), unique("consent-no")

    answers = iter([True, False])

    def answer(message):
        return ElicitResult(action="accept", content={"allow": next(answers)})

    async def body(session):
        yes = await session.call_tool("aws___call_aws", {
            "cli_command": f"aws s3api create-bucket --bucket {yes_bucket}"})
        no = await session.call_tool("aws___call_aws", {
            "cli_command": f"aws s3api create-bucket --bucket {no_bucket}"})
        read = await session.call_tool("aws___call_aws", {"cli_command": "aws s3api list-buckets"})
        return yes, no, read

    (yes, no, read), asked, _ = run_with_elicitation(
        moto_url, answer, body, AWS_MCP_REQUIRE_MUTATION_CONSENT="true")
    assert yes.structuredContent["results"][0]["status"] == "success"
    refused = no.structuredContent["results"][0]
    assert refused["error"]["kind"] == "policy" and "declined" in refused["error"]["message"]
    assert read.structuredContent["results"][0]["status"] == "success"
    # Asked for the two writes only, naming the command.
    assert len(asked) == 2 and "create-bucket" in asked[0]
    names = [b["Name"] for b in boto(moto_url, "s3").list_buckets()["Buckets"]]
    assert yes_bucket in names and no_bucket not in names


def test_progress_notifications_follow_a_batch(moto_url):
    import anyio
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    async def main():
        server = StdioServerParameters(command=str(AWS_MCP), args=["stdio"],
                                       env=base_env(AWS_ENDPOINT_URL=moto_url))
        async with stdio_client(server) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool(
                    "aws___call_aws",
                    {"cli_command": ["aws sts get-caller-identity", "aws s3api list-buckets", "aws sqs list-queues"]},
                    progress_callback=on_progress)

    r = anyio.run(main)
    assert not r.isError
    assert [p for p, _, _ in seen] == [1, 2, 3]
    assert all(t == 3 for _, t, _ in seen)


def test_profile_selects_named_credentials_locally(moto_url, tmp_path):
    (tmp_path / "credentials").write_text("[dev]\naws_access_key_id = devkey\naws_secret_access_key = devsecret\n")
    (tmp_path / "config").write_text("[profile dev]\nregion = us-east-1\n")
    r = results_of(moto_url, [[
        "aws sts get-caller-identity --profile dev",
        "aws s3 ls --profile dev",
        "aws sts get-caller-identity --profile nosuch",
        "aws sts get-caller-identity --prof dev",
    ]], AWS_SHARED_CREDENTIALS_FILE=tmp_path / "credentials", AWS_CONFIG_FILE=tmp_path / "config")[0]
    assert r[0]["status"] == "success" and r[1]["status"] == "success"
    assert r[2]["status"] == "error" and "profile nosuch" in r[2]["error"]["message"]
    assert r[3]["status"] == "error" and "--profile dev" in r[3]["error"]["message"]
