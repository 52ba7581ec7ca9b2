"""A deployed stack acts as its callers: each function's release binary runs under a fake
Lambda Runtime API (tests/e2e/fake_lambda.py), handed Function URL events with different IAM
identities; moto_server stands in for STS, IAM, S3, DynamoDB and Secrets Manager, a recording
proxy shows what reaches STS, and a Lambda Invoke stand-in carries forwarded calls and task
continuations between the functions.

The stack: `stack-knowledge` fronts (the one endpoint, listing every tool), `stack-api`,
`stack-presign` and `stack-tasks` are reached only through it (sealed internal events).
"""

import base64
import json
import time

import boto3
import pytest

from conftest import CLIENT_BIN, TARGET, TOOLS_BIN, Proc, base_env, free_port, wait_until
from fake_lambda import (ACCOUNT, FakeRuntime, FunctionUrlServer, LambdaError, LambdaInvokeStandIn,
                         RecordingProxy, function_url_event)
from mcpclient import with_stdio_session

REGION = "us-east-1"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
CAROL = f"arn:aws:iam::{ACCOUNT}:user/carol"
# An assumed-role caller matching no map entry: acts as its own role (path looked up in IAM).
DAVE = f"arn:aws:sts::{ACCOUNT}:assumed-role/DevRole/dave"
READER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ReaderRole"
WRITER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/WriterRole"
DEV_ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/DevRole"
STAGING = "stack-staging-bucket"
KEY_SECRET = "stack-internal-key"
PROTECTED = [
    f"arn:aws:s3:::{STAGING}", f"arn:aws:s3:::{STAGING}/*",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stack-*",
    f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/stack-*",
    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{KEY_SECRET}-*",
]
GROUPS = {"api": "stack-api", "presign": "stack-presign", "tasks": "stack-tasks"}
ALL_TOOLS = sorted([
    "aws___call_aws", "aws___get_presigned_url", "aws___get_regional_availability",
    "aws___get_tasks", "aws___list_regions", "aws___read_documentation", "aws___recommend",
    "aws___retrieve_skill", "aws___run_script", "aws___search_documentation",
    "aws___suggest_aws_commands",
])


def bootstrap(function: str):
    path = TARGET / "lambda" / function / "bootstrap"
    assert path.exists(), f"build it first: cargo lambda build --release (missing {path})"
    return path


def client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def trust_anyone(principal: str = f"arn:aws:iam::{ACCOUNT}:root") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": principal},
        "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}]})


class Endpoint:
    """MCP over Function URL events handed to one function."""

    def __init__(self, runtime: FakeRuntime):
        self.runtime = runtime

    def post(self, caller, message, session=None):
        headers = {"mcp-protocol-version": "2025-11-25"}
        if session:
            headers["mcp-session-id"] = session
        answer = self.runtime.invoke(function_url_event(message, caller_arn=caller, headers=headers))
        body = json.loads(answer["body"]) if answer.get("body") else None
        return answer, body

    def session(self, caller) -> "Session":
        answer, body = self.post(caller, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "e2e", "version": "1"}}})
        assert answer["statusCode"] == 200, answer
        sid = {k.lower(): v for k, v in answer["headers"].items()}["mcp-session-id"]
        self.post(caller, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
        return Session(self, caller, sid)


class Session:
    def __init__(self, endpoint: Endpoint, caller: str, sid: str):
        self.endpoint, self.caller, self.sid = endpoint, caller, sid
        self.next_id = 10

    def request(self, method, params=None, caller=None):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        return self.endpoint.post(caller or self.caller, message, self.sid)

    def call(self, tool, arguments):
        answer, body = self.request("tools/call", {"name": tool, "arguments": arguments})
        assert answer["statusCode"] == 200, answer
        assert "result" in body, body
        return body["result"]

    def aws(self, command):
        result = self.call("aws___call_aws", {"cli_command": command})
        assert "structuredContent" in result, result
        return result["structuredContent"]["results"][0]


def identity_arn(entry) -> str:
    assert entry["status"] == "success", entry
    return entry["output"]["Arn"]


@pytest.fixture(scope="module")
def stack(moto_url, tmp_path_factory):
    """The four functions, moto set up with roles, the key secret and buckets."""
    iam = client("iam", moto_url)
    for name, path in [("ReaderRole", "/"), ("WriterRole", "/"), ("DevRole", "/team/")]:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust_anyone())
    client("secretsmanager", moto_url).create_secret(
        Name=KEY_SECRET, SecretString=base64.b64encode(b"k" * 36).decode())
    s3 = client("s3", moto_url)
    s3.create_bucket(Bucket=STAGING)
    s3.create_bucket(Bucket="alice-data")

    sts = RecordingProxy(moto_url)
    invoke = LambdaInvokeStandIn()
    state = tmp_path_factory.mktemp("stack-state")
    role_map = [{"caller": ALICE, "role": READER_ROLE}, {"caller": BOB, "role": WRITER_ROLE}]
    # Long maps live in SSM; its entries follow the inline ones.
    client("ssm", moto_url).put_parameter(
        Name="/stack/caller-role-map", Type="String",
        Value=json.dumps([{"caller": f"arn:aws:iam::{ACCOUNT}:user/team-*", "role": READER_ROLE}]))
    common = base_env(
        AWS_ENDPOINT_URL=moto_url, **sts.env("STS"), **invoke.env(),
        AWS_MCP_STATE_DIR=state, AWS_MCP_INTERNAL_KEY_SECRET=KEY_SECRET,
        AWS_MCP_PROTECTED_RESOURCES=json.dumps(PROTECTED),
        AWS_MCP_CALLER_ROLE_MAP=json.dumps(role_map),
        AWS_MCP_CALLER_ROLE_MAP_PARAMETER="/stack/caller-role-map", AWS_MCP_STAGING_BUCKET=STAGING,
        AWS_MCP_SERVER_NAME="team-mcp", AWS_MCP_INLINE_BUDGET_SECONDS="3",
        AWS_MCP_DOCS_LIVE="false", AWS_MCP_REQUESTS_PER_SECOND="0",
        # Secret reads would otherwise ask for consent first (the deployed default, which this
        # client cannot answer); the stack's own key must be refused by its protection alone,
        # as it is for a user who consents.
        AWS_MCP_SECRET_READ_CONSENT="false")
    runtimes = {
        "stack-knowledge": FakeRuntime("stack-knowledge", bootstrap("knowledge"),
                                       {**common, "AWS_MCP_GROUP_FUNCTIONS": json.dumps(GROUPS)}),
        # Two environments: a task continuation may run while another call is served.
        "stack-api": FakeRuntime("stack-api", bootstrap("api"),
                                 {**common, "AWS_MCP_SERVE_URL_EVENTS": "false"}, concurrency=2),
        "stack-presign": FakeRuntime("stack-presign", bootstrap("presign"),
                                     {**common, "AWS_MCP_SERVE_URL_EVENTS": "false"}),
        "stack-tasks": FakeRuntime("stack-tasks", bootstrap("tasks"),
                                   {**common, "AWS_MCP_SERVE_URL_EVENTS": "false"}),
    }
    for name, runtime in runtimes.items():
        invoke.register(name, runtime)
    try:
        yield {"front": Endpoint(runtimes["stack-knowledge"]), "runtimes": runtimes,
               "sts": sts, "invoke": invoke, "moto": moto_url}
    finally:
        for runtime in runtimes.values():
            runtime.stop()
        invoke.stop()
        sts.stop()


def assume_requests(stack, role=None):
    return [r for r in stack["sts"].with_action("AssumeRole")
            if role is None or r.params.get("RoleArn") == role]


def test_one_endpoint_lists_every_tool(stack):
    session = stack["front"].session(ALICE)
    _, body = session.request("tools/list")
    assert sorted(t["name"] for t in body["result"]["tools"]) == ALL_TOOLS


def test_callers_act_as_their_mapped_roles(stack):
    alice = stack["front"].session(ALICE)
    bob = stack["front"].session(BOB)
    assert identity_arn(alice.aws("aws sts get-caller-identity")).endswith(
        ":assumed-role/ReaderRole/alice")
    assert identity_arn(bob.aws("aws sts get-caller-identity")).endswith(
        ":assumed-role/WriterRole/bob")
    script = alice.call("aws___run_script",
                        {"code": "call_aws('sts', 'GetCallerIdentity')['Arn']"})
    assert not script.get("isError"), script
    assert script["structuredContent"]["result"].endswith(":assumed-role/ReaderRole/alice")
    # A wildcard entry, from the SSM parameter.
    team = stack["front"].session(f"arn:aws:iam::{ACCOUNT}:user/team-erin")
    assert identity_arn(team.aws("aws sts get-caller-identity")).endswith(
        ":assumed-role/ReaderRole/team-erin")


def test_assume_role_carries_tags_source_identity_and_session_policy(stack):
    stack["front"].session(ALICE).aws("aws sts get-caller-identity")
    request = assume_requests(stack, READER_ROLE)[0]
    p = request.params
    assert p["RoleSessionName"] == "alice" and p["SourceIdentity"] == "alice"
    tags = {p[f"Tags.member.{i}.Key"]: p[f"Tags.member.{i}.Value"] for i in (1, 2, 3)}
    assert tags == {"ViaAWSMCPService": "true", "CalledViaAWSMCP": "team-mcp", "AWSMCPCaller": ALICE}
    assert {p["TransitiveTagKeys.member.1"], p["TransitiveTagKeys.member.2"]} == {
        "ViaAWSMCPService", "CalledViaAWSMCP"}
    policy = json.loads(p["Policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"][0]
    assert deny["Resource"] == PROTECTED
    # Signed with the server's own keys, never the caller's.
    assert request.access_key == "testing"


def test_credentials_are_cached_per_caller_and_role(stack):
    def assumed_for(name):
        return [r for r in assume_requests(stack, READER_ROLE)
                if r.params.get("RoleSessionName") == name]

    alice = stack["front"].session(ALICE)
    before = len(assumed_for("alice"))
    alice.aws("aws sts get-caller-identity")
    for _ in range(3):
        alice.aws("aws s3api list-buckets")
    alice.call("aws___run_script", {"code": "call_aws('s3', 'ListBuckets')"})
    # Five calls; each api environment (the stack runs two, each with its own cache) asks STS
    # at most once for alice's session. Without the cache every call would.
    api_environments = stack["runtimes"]["stack-api"].concurrency
    assert len(assumed_for("alice")) - before <= api_environments
    # Another caller mapped to the same role gets its own session, never alice's keys.
    team = stack["front"].session(f"arn:aws:iam::{ACCOUNT}:user/team-frank")
    assert identity_arn(team.aws("aws sts get-caller-identity")).endswith("/team-frank")
    assert len(assumed_for("team-frank")) == 1


def test_own_role_parity_finds_the_roles_path(stack):
    dave = stack["front"].session(DAVE)
    assert identity_arn(dave.aws("aws sts get-caller-identity")).endswith(
        ":assumed-role/DevRole/dave")
    assert assume_requests(stack, DEV_ROLE), [r.params for r in assume_requests(stack)]


def test_unmapped_callers_are_refused_before_any_aws_request(stack):
    carol = stack["front"].session(CAROL)
    before = len(stack["sts"].requests)
    result = carol.call("aws___call_aws", {"cli_command": "aws s3api list-buckets"})
    assert result["isError"]
    text = result["content"][0]["text"]
    assert CAROL in text and "AWS_MCP_CALLER_ROLE_MAP" in text, text
    script = carol.call("aws___run_script", {"code": "call_aws('s3', 'ListBuckets')"})
    assert script["isError"] and CAROL in script["content"][0]["text"]
    assert len(stack["sts"].requests) == before
    # Knowledge tools need no AWS and keep working.
    regions = carol.call("aws___list_regions", {})
    assert not regions.get("isError")
    # An SSO role cannot trust the server: the map is the way, and the message says so.
    sso = stack["front"].session(f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/gina")
    text = sso.call("aws___call_aws", {"cli_command": "aws s3 ls"})["content"][0]["text"]
    assert "Identity Center" in text and "AWS_MCP_CALLER_ROLE_MAP" in text, text


def test_the_stacks_own_resources_are_refused(stack):
    bob = stack["front"].session(BOB)
    forged = json.dumps(function_url_event({"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                           caller_arn=ALICE))
    invoked_before = len(stack["invoke"].requests)
    for command in [
        f"aws lambda invoke --function-name stack-api --payload '{forged}' out.json",
        f"aws lambda invoke --function-name arn:aws:lambda:{REGION}:{ACCOUNT}:function:stack-tasks out.json",
        f"aws s3 ls s3://{STAGING}/",
        f"aws s3api get-object --bucket {STAGING} --key x out.bin",
        f"aws secretsmanager get-secret-value --secret-id {KEY_SECRET}",
        "aws logs filter-log-events --log-group-name /aws/lambda/stack-api",
    ]:
        entry = bob.aws(command)
        assert entry["status"] == "error", (command, entry)
        assert entry["error"]["kind"] == "policy", (command, entry)
        assert entry["error"]["code"] == "ProtectedResource", (command, entry)
    # Loopback in Lambda is the Runtime API, which hands out the function's invocations.
    for command in ["aws s3api list-buckets --endpoint-url http://127.0.0.1:9001",
                    "aws s3 ls --endpoint-url http://localhost:9001",
                    "aws s3 presign s3://alice-data/k --endpoint-url http://127.0.0.1:9001"]:
        entry = bob.aws(command)
        assert entry["status"] == "error" and "deployed server" in entry["error"]["message"], entry
    script = bob.call("aws___run_script", {
        "code": f"call_aws('secretsmanager', 'GetSecretValue', {{'SecretId': '{KEY_SECRET}'}})"})
    assert "own resources" in json.dumps(script), script
    url = bob.call("aws___get_presigned_url", {"bucket": STAGING, "key": "other/x", "method": "GET"})
    assert url["isError"] and "own resources" in url["content"][0]["text"], url
    # No invocation reached the stack's functions from those calls (only forwarded tool calls).
    calls = stack["invoke"].requests[invoked_before:]
    assert all("aws_mcp_internal" in (r.event or {}) for r in calls), [r.event for r in calls]


def test_forged_events_are_refused_and_audited(stack):
    api = stack["runtimes"]["stack-api"]
    # A hand-made Function URL event, sent by direct invoke to a function behind the front.
    forged = function_url_event({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                                caller_arn=ALICE)
    with pytest.raises(LambdaError) as refused:
        api.invoke(forged)
    assert "reached only through" in str(refused.value)
    # An unsealed task naming alice, and one sealed with a guessed key.
    job = {"task_id": "0" * 64, "owner": ALICE, "tool": "call_aws",
           "arguments": {"cli_command": "aws sts get-caller-identity"}, "region": REGION}
    with pytest.raises(LambdaError):
        api.invoke({"aws_mcp_task": job})
    body = json.dumps(job)
    with pytest.raises(LambdaError) as bad_tag:
        api.invoke({"aws_mcp_internal": {"kind": "task", "issued_at": int(time.time()),
                                         "body": body, "tag": base64.b64encode(b"x" * 32).decode()}})
    assert "tag" in str(bad_tag.value)
    # A forged forwarded call.
    with pytest.raises(LambdaError):
        api.invoke({"aws_mcp_internal": {"kind": "call", "issued_at": int(time.time()),
                                         "body": json.dumps({"tool": "aws___call_aws", "caller": {"arn": ALICE}}),
                                         "tag": "AAAA"}})
    wait_until(lambda: api.stderr().count('"eventName":"RefuseInvocation"') >= 4, 10, "audit records")
    audit = [json.loads(line) for line in api.stderr().splitlines() if '"RefuseInvocation"' in line]
    assert {a["requestParameters"]["claimedIdentity"] for a in audit} >= {ALICE}


def test_tasks_continue_as_the_caller_and_stay_the_callers(stack):
    table = "appears-later"
    alice = stack["front"].session(ALICE)
    bob = stack["front"].session(BOB)
    answer = alice.call("aws___call_aws", {
        "cli_command": f"aws dynamodb wait table-exists --table-name {table}"})
    task_id = answer["structuredContent"]["task_id"]
    assert answer["structuredContent"]["status"] == "working"
    handed = [r for r in stack["invoke"].requests_for("stack-api") if r.invocation_type == "Event"]
    assert handed and "aws_mcp_internal" in handed[-1].event
    # The task item and the event carry no credentials.
    assert "SecretAccessKey" not in json.dumps(handed[-1].event)
    client("dynamodb", stack["moto"]).create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])

    def polled(session):
        return session.call("aws___get_tasks", {"task_ids": [task_id]})["structuredContent"]["tasks"][0]

    assert polled(bob)["status"] == "not_found"
    # The waiter polls every 20 s: look once a second.
    deadline = time.monotonic() + 60
    while polled(alice)["status"] == "working" and time.monotonic() < deadline:
        time.sleep(1)
    done = polled(alice)
    assert done["status"] == "completed", done
    assert polled(bob)["status"] == "not_found"
    # Someone else's session id is not a way in either.
    answer, body = alice.request("tools/list", caller=BOB)
    assert answer["statusCode"] in (400, 403, 404) or "error" in body, (answer, body)


def test_forwarded_answers_equal_the_owning_functions(stack, tmp_path_factory):
    """The api function served directly (its own URL allowed for this comparison) answers
    tools/call exactly as the front does when it forwards."""
    env = dict(stack["runtimes"]["stack-api"].env)
    env["AWS_MCP_SERVE_URL_EVENTS"] = "true"
    direct = FakeRuntime("stack-api-direct", bootstrap("api"), env)
    try:
        calls = [
            ("aws___suggest_aws_commands", {"query": "list lambda functions"}),
            ("aws___call_aws", {"cli_command": "aws sts get-caller-identity"}),
            ("aws___call_aws", {"cli_command": "aws s3api list-objects-v2 --bucket"}),
            ("aws___call_aws", {"cli_command": ["aws s3api list-buckets --query Buckets[].Name",
                                                "aws ec2 describe-nope"]}),
            ("aws___run_script", {"code": "1 +"}),
            ("aws___call_aws", {"unknown": 1}),
        ]
        via_front = stack["front"].session(ALICE)
        own = Endpoint(direct).session(ALICE)
        for tool, arguments in calls:
            assert via_front.call(tool, arguments) == own.call(tool, arguments), (tool, arguments)
    finally:
        direct.stop()


def test_mcp_proxy_for_aws_reaches_every_tool_through_the_one_endpoint(stack):
    """The pinned stdio proxy signs for alice; the Function URL stand-in tells the front who
    signed; every tool answers through the one endpoint, AWS calls as alice's role."""
    url = FunctionUrlServer(stack["runtimes"]["stack-knowledge"], {"AKIAALICEEXAMPLE0001": ALICE})

    async def body(session, init):
        tools = sorted(t.name for t in (await session.list_tools()).tools)
        who = await session.call_tool("aws___call_aws", {"cli_command": "aws sts get-caller-identity"})
        regions = await session.call_tool("aws___list_regions", {})
        polled = await session.call_tool("aws___get_tasks", {"task_ids": ["0" * 64]})
        return tools, who, regions, polled

    env = base_env(AWS_ACCESS_KEY_ID="AKIAALICEEXAMPLE0001", AWS_SECRET_ACCESS_KEY="alice-secret")
    env.pop("AWS_SESSION_TOKEN", None)
    try:
        tools, who, regions, polled = with_stdio_session(
            CLIENT_BIN / "mcp-proxy-for-aws",
            [f"{url.url}/mcp", "--service", "lambda", "--region", REGION], env, body)
    finally:
        url.stop()
    assert tools == ALL_TOOLS
    assert not who.isError, who
    assert json.loads(who.content[0].text)["results"][0]["output"]["Arn"].endswith(
        ":assumed-role/ReaderRole/alice")
    assert not regions.isError
    assert json.loads(polled.content[0].text)["tasks"][0]["status"] == "not_found"


def test_a_role_that_may_only_read_s3_cannot_create_a_bucket(tmp_path):
    """moto enforcing IAM: the server's own user may assume roles; alice's mapped role may only
    read S3. Through the server alice lists buckets but cannot create one."""
    port = free_port()
    moto = f"http://127.0.0.1:{port}"
    # Setup below makes exactly this many unauthenticated requests; then IAM is enforced.
    setup_requests = 8
    proc = Proc([str(TOOLS_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                base_env(INITIAL_NO_AUTH_ACTION_COUNT=str(setup_requests)))
    runtime = None
    try:
        wait_until(lambda: __import__("httpx").get(moto + "/moto-api/").status_code < 500, 30, "moto")
        iam = client("iam", moto)
        iam.create_user(UserName="server")                                             # 1
        keys = iam.create_access_key(UserName="server")["AccessKey"]                   # 2
        iam.put_user_policy(UserName="server", PolicyName="assume", PolicyDocument=json.dumps({  # 3
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
                "sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"], "Resource": "*"}]}))
        iam.create_role(RoleName="S3Reader",                                           # 4
                        AssumeRolePolicyDocument=trust_anyone(f"arn:aws:iam::{ACCOUNT}:user/server"))
        iam.put_role_policy(RoleName="S3Reader", PolicyName="read", PolicyDocument=json.dumps({  # 5
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
                "s3:List*", "s3:Get*"], "Resource": "*"}]}))
        client("s3", moto).create_bucket(Bucket="existing")                             # 6
        client("s3", moto).list_buckets()                                               # 7
        iam.create_role(RoleName="TrustsSomeoneElse",                                  # 8
                        AssumeRolePolicyDocument=trust_anyone(f"arn:aws:iam::{ACCOUNT}:user/other"))
        env = base_env(
            AWS_ENDPOINT_URL=moto, AWS_ACCESS_KEY_ID=keys["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"], AWS_MCP_STATE_DIR=tmp_path,
            AWS_MCP_CALLER_ROLE_MAP=json.dumps([
                {"caller": ALICE, "role": f"arn:aws:iam::{ACCOUNT}:role/S3Reader"},
                {"caller": BOB, "role": f"arn:aws:iam::{ACCOUNT}:role/TrustsSomeoneElse"}]))
        env["AWS_SESSION_TOKEN"] = None  # the runtime's defaults carry a dummy one
        runtime = FakeRuntime("enforced-api", bootstrap("api"), env)
        alice = Endpoint(runtime).session(ALICE)
        listed = alice.aws("aws s3api list-buckets --query Buckets[].Name")
        assert listed["status"] == "success" and listed["output"] == ["existing"], listed
        created = alice.aws("aws s3api create-bucket --bucket made-through-mcp")
        assert created["status"] == "error" and created["error"]["code"] == "AccessDenied", created
        # Nothing was made: the server's own user could not have made it either way.
        assert "made-through-mcp" not in json.dumps(alice.aws("aws s3api list-buckets"))
        # A role that does not trust the server: a user error naming the statement to add.
        refused = Endpoint(runtime).session(BOB).call("aws___call_aws", {"cli_command": "aws s3 ls"})
        text = refused["content"][0]["text"]
        assert refused["isError"] and "does not trust the server" in text, text
        assert '"sts:AssumeRole"' in text and "Principal" in text, text
    finally:
        if runtime:
            runtime.stop()
        proc.stop()


def test_allow_unauthenticated_is_ignored_in_lambda(stack):
    """The development switch that lets `cargo lambda watch` serve unsigned requests has no
    effect in AWS Lambda itself: an unsigned Function URL event is still refused, and the
    function says at start-up that it ignored the setting."""
    env = dict(stack["runtimes"]["stack-knowledge"].env)
    env["AWS_MCP_ALLOW_UNAUTHENTICATED"] = "true"
    runtime = FakeRuntime("unsigned-knowledge", bootstrap("knowledge"), env)
    try:
        unsigned = runtime.invoke(function_url_event(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "e2e", "version": "1"}}}, caller_arn=None))
        assert unsigned["statusCode"] == 403, unsigned
        signed = runtime.invoke(function_url_event(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "e2e", "version": "1"}}}, caller_arn=ALICE))
        assert signed["statusCode"] == 200, signed
        assert "AWS_MCP_ALLOW_UNAUTHENTICATED" in runtime.stderr()
    finally:
        runtime.stop()
