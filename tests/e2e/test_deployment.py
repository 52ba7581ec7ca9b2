"""Deployment assets: the SAM template passes cfn-lint and keeps its security properties (the
execution roles hold no data-plane access and assume callers' roles instead, one front function
with the only Function URL forwards to the others, the internal key is readable by the stack's
roles only, the stack's own resources are protected), and every Lambda bootstrap built by
`cargo lambda build --release` runs on provided.al2023 (glibc 2.34)."""

import json
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


# ------------------------------------------------------------------ the template's contents
# The template is read with cfn-lint's own YAML decoder (it knows the CloudFormation tags),
# run by the tools virtualenv's Python, so these tests work from either virtualenv.

STACK, REGION, ACCOUNT = "teststack", "us-east-1", "123456789012"
GROUPS = {"knowledge": "KnowledgeFunction", "api": "ApiFunction", "presign": "PresignFunction",
          "tasks": "TasksFunction"}
FRONT = "KnowledgeFunction"
# Roles whose functions make AWS calls for callers (by assuming the callers' roles).
ACTING_ROLES = {"ApiRole", "PresignRole"}
ACTOR_ACTIONS = {"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}
# Everything an execution role may be allowed: the server's own work, never data-plane
# access for callers (that comes from the roles callers act as).
SERVER_ACTIONS = {
    "logs:CreateLogStream", "logs:PutLogEvents",
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:BatchWriteItem",
    "secretsmanager:GetSecretValue", "lambda:InvokeFunction",
    "s3:GetObject", "s3:PutObject", "s3:ListBucket",
    "ssm:GetParameter", "ssm:GetParametersByPath",
    "iam:GetRole", *ACTOR_ACTIONS,
}

_DECODE = """
import json, sys
from cfnlint.decode import decode
template, errors = decode(sys.argv[1])
if errors or template is None:
    sys.exit("cannot read the template: " + "; ".join(str(e) for e in errors))
json.dump(template, sys.stdout)
"""


@pytest.fixture(scope="module")
def template():
    python = TOOLS_BIN / "python"
    assert python.exists(), f"missing {python}: create .venv-tools from tests/requirements-tools.txt"
    p = subprocess.run([str(python), "-c", _DECODE, str(ROOT / "template.yaml")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def resources(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def as_list(value):
    return value if isinstance(value, list) else [value]


class Stack:
    """Renders intrinsic functions for a made-up deployment with the parameters' defaults,
    so that values built with !Sub can be parsed and compared."""

    def __init__(self, template, stack=STACK):
        self.t = template
        self.stack = stack
        self.pseudo = {"AWS::StackName": stack, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
        self.physical = {"StateTable": f"{self.stack}-StateTable-ABC123",
                         "StagingBucket": f"{self.stack}-stagingbucket-abc123",
                         "InternalKeySecret": self.secret_arn()}

    def secret_arn(self):
        return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{self.stack}-internal-key-AbCdEf"

    def ref(self, name):
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.t.get("Parameters", {}):
            return str(self.t["Parameters"][name].get("Default", ""))
        if name in self.physical:
            return self.physical[name]
        resource = self.t["Resources"][name]
        if resource["Type"] == "AWS::Serverless::Function":
            return self.render(resource["Properties"]["FunctionName"])
        return f"{self.stack}-{name}-XYZ"

    def get_att(self, name, attribute):
        if attribute == "Arn":
            kind = self.t["Resources"][name]["Type"]
            if kind == "AWS::DynamoDB::Table":
                return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(name)}"
            if kind == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{self.ref(name)}"
            if kind == "AWS::IAM::Role":
                return f"arn:aws:iam::{ACCOUNT}:role/{self.stack}-{name}-XYZ"
            if kind == "AWS::Logs::LogGroup":
                return (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
                        f"{self.render(self.t['Resources'][name]['Properties']['LogGroupName'])}:*")
        if attribute == "FunctionUrl":
            # SAM names a function's AWS::Lambda::Url <Function>Url.
            function = self.t["Resources"][name.removesuffix("Url")]
            assert "FunctionUrlConfig" in function["Properties"], f"{name} has no Function URL"
            return f"https://{name.lower()}.lambda-url.{REGION}.on.aws/"
        raise AssertionError(f"cannot render !GetAtt {name}.{attribute}")

    def render(self, value, local=None):
        local = local or {}
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self.render(v, local) for v in value]
        assert isinstance(value, dict) and len(value) == 1, value
        (fn, arg), = value.items()
        if fn == "Ref":
            return self.ref(arg)
        if fn == "Fn::GetAtt":
            name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(name, attribute)
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            values = {k: self.render(v, local) for k, v in variables.items()}

            def one(m):
                name = m.group(1)
                if name in values:
                    return values[name]
                if "." in name:
                    return self.get_att(*name.split(".", 1))
                return self.ref(name)
            return re.sub(r"\$\{([^}!]+)\}", one, text)
        if fn == "Fn::Join":
            sep, items = arg
            return sep.join(as_list(self.render(items, local)))
        if fn == "Fn::If":
            raise AssertionError(f"render the branches of {value} explicitly")
        raise AssertionError(f"cannot render {fn}")


def environment(template, function):
    merged = dict(template["Globals"]["Function"].get("Environment", {}).get("Variables", {}))
    merged.update(template["Resources"][function]["Properties"].get("Environment", {})
                  .get("Variables", {}))
    return merged


def role_of(template, function):
    role = template["Resources"][function]["Properties"].get("Role")
    assert isinstance(role, dict) and "Fn::GetAtt" in role, \
        f"{function} must use an explicit role of the template (no SAM-generated role)"
    target = role["Fn::GetAtt"]
    return (target if isinstance(target, list) else target.split("."))[0]


def statements(role):
    """(condition or None, statement) for every inline statement of a role."""
    out = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                condition, yes, no = statement["Fn::If"]
                assert no == {"Ref": "AWS::NoValue"}, statement
                out.append((condition, yes))
            else:
                out.append((None, statement))
    return out


def execution_roles(template):
    out = {}
    for name, role in resources(template, "AWS::IAM::Role").items():
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if any(s.get("Principal", {}).get("Service") == "lambda.amazonaws.com" for s in trust):
            out[name] = role
    return out


def test_every_function_has_its_own_explicit_role(template):
    roles = {f: role_of(template, f) for f in GROUPS.values()}
    assert len(set(roles.values())) == len(roles), roles
    assert set(roles.values()) == set(execution_roles(template)), \
        "every execution role belongs to exactly one function"
    for function in GROUPS.values():
        props = template["Resources"][function]["Properties"]
        assert "Policies" not in props, f"{function}: SAM would add a generated role"


def test_execution_roles_hold_no_data_plane_policy_unless_acting_as_function(template):
    assert template["Conditions"]["ActAsFunction"] == {"Fn::Equals": [{"Ref": "ActAs"}, "function"]}
    assert template["Parameters"]["ActAs"]["Default"] == "caller"
    assert set(template["Parameters"]["ActAs"]["AllowedValues"]) == {"caller", "function"}
    stack = Stack(template)
    table = stack.get_att("StateTable", "Arn")
    bucket = stack.get_att("StagingBucket", "Arn")
    for name, role in execution_roles(template).items():
        managed = role["Properties"].get("ManagedPolicyArns")
        if managed is not None:
            # Only the single-user mode attaches the chosen policies, to the api role.
            assert name == "ApiRole", f"{name} has managed policies"
            assert managed == {"Fn::If": ["ActAsFunction", {"Ref": "ApiAccessPolicyArns"},
                                          {"Ref": "AWS::NoValue"}]}, managed
        for condition, s in statements(role):
            if s["Effect"] != "Allow":
                continue
            actions = set(as_list(s["Action"]))
            assert actions <= SERVER_ACTIONS, f"{name} {s.get('Sid')}: {actions - SERVER_ACTIONS}"
            if s["Resource"] == {"Ref": "ActorRoleArns"}:
                rendered = []  # the deployer's list (a parameter, empty by default)
            else:
                rendered = [stack.render(r) for r in as_list(s["Resource"])]
            assert "*" not in rendered, f"{name} {s.get('Sid')}: Resource *"
            if any(a.startswith("dynamodb:") for a in actions):
                assert rendered == [table, f"{table}/index/*"], rendered
            if actions & {"s3:GetObject", "s3:PutObject"} and s.get("Sid") == "StagedFiles":
                assert rendered == [f"{bucket}/*"], rendered
            if actions & ACTOR_ACTIONS:
                assert name in ACTING_ROLES, f"{name} may assume roles"
                assert actions == ACTOR_ACTIONS, actions
                assert condition in ("ActAsCaller", "AssumesListedActorRoles"), condition
            if "iam:GetRole" in actions:
                assert name in ACTING_ROLES and condition == "LooksUpCallerRoles"


def test_acting_roles_assume_tagged_or_listed_actor_roles(template):
    conditions = template["Conditions"]
    assert conditions["ActAsCaller"] == {"Fn::Equals": [{"Ref": "ActAs"}, "caller"]}
    # An empty ActorRoleArns adds no statement (an empty Resource list is invalid).
    assert conditions["HasActorRoleArns"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "ActorRoleArns"}]}, ""]}]}
    assert {"Condition": "HasActorRoleArns"} in conditions["AssumesListedActorRoles"]["Fn::And"]
    assert template["Parameters"]["ActorRoleArns"]["Type"] == "CommaDelimitedList"
    assert template["Parameters"]["ActorRoleArns"]["Default"] == ""
    for name in ACTING_ROLES:
        found = {c: s for c, s in statements(template["Resources"][name])
                 if set(as_list(s["Action"])) == ACTOR_ACTIONS}
        tagged = found["ActAsCaller"]
        assert tagged["Condition"] == {"StringEquals": {"aws:ResourceTag/aws-mcp-actor": "true"}}
        assert tagged["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}
        assert found["AssumesListedActorRoles"]["Resource"] == {"Ref": "ActorRoleArns"}
    for name in set(execution_roles(template)) - ACTING_ROLES:
        for _, s in statements(template["Resources"][name]):
            assert not set(as_list(s["Action"])) & ACTOR_ACTIONS, name


def test_front_function_forwards_to_the_other_three(template):
    stack = Stack(template)
    names = {g: stack.render(template["Resources"][f]["Properties"]["FunctionName"])
             for g, f in GROUPS.items()}
    assert names == {g: f"{STACK}-{g}" for g in GROUPS}
    forward = environment(template, FRONT)["AWS_MCP_GROUP_FUNCTIONS"]
    assert json.loads(stack.render(forward)) == {g: names[g] for g in ("api", "presign", "tasks")}
    for function in set(GROUPS.values()) - {FRONT}:
        assert "AWS_MCP_GROUP_FUNCTIONS" not in environment(template, function), function
    # The front may invoke exactly those functions.
    invoke = [stack.render(r) for c, s in statements(template["Resources"][role_of(template, FRONT)])
              if "lambda:InvokeFunction" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert sorted(invoke) == sorted(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{names[g]}"
                                    for g in ("api", "presign", "tasks"))
    # Forwarded calls wait for the api group's inline budget (at most 100 s).
    assert template["Resources"][FRONT]["Properties"]["Timeout"] >= \
        template["Parameters"]["InlineBudgetSeconds"]["MaxValue"] + 10


def iam_match(pattern, arn):
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), arn) is not None


def test_every_function_gets_the_internal_key_and_protected_resources(template):
    stack = Stack(template)
    for function in GROUPS.values():
        env = environment(template, function)
        assert env["AWS_MCP_INTERNAL_KEY_SECRET"] == {"Ref": "InternalKeySecret"}, function
        assert env["AWS_MCP_ACT_AS"] == {"Ref": "ActAs"}, function
        protected = json.loads(stack.render(env["AWS_MCP_PROTECTED_RESOURCES"]))
        assert all(isinstance(a, str) and a.startswith("arn:aws:") for a in protected), protected
        table = stack.get_att("StateTable", "Arn")
        bucket = stack.get_att("StagingBucket", "Arn")
        must_cover = [table, f"{table}/index/by-account", bucket, f"{bucket}/some/key",
                      stack.secret_arn()]
        for group in GROUPS:
            fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-{group}"
            must_cover += [fn, f"{fn}:1", f"{fn}:live",
                           f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{STACK}-{group}",
                           f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{STACK}-{group}:log-stream:x"]
        for arn in must_cover:
            assert any(iam_match(p, arn) for p in protected), f"{function}: {arn} is not protected"
        for other in (f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders",
                      "arn:aws:s3:::my-bucket/key",
                      f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other-api",
                      f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-password-AbCdEf"):
            assert not any(iam_match(p, other) for p in protected), other
    # The list becomes an STS session policy (at most 2,048 characters), even for the longest
    # stack name the function names allow (<stack>-knowledge is at most 64 characters).
    longest = Stack(template, stack="s" * (64 - len("-knowledge")))
    protected = json.loads(longest.render(environment(template, FRONT)["AWS_MCP_PROTECTED_RESOURCES"]))
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RoleAllows", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NotTheServer", "Effect": "Deny", "Action": "*", "Resource": protected}]})
    assert len(policy) < 2048 - 300, len(policy)


def test_acting_functions_get_the_caller_role_settings(template):
    params = template["Parameters"]
    assert params["CallerRoleMap"]["Default"] == "[]"
    assert params["CallerRoleMapParameter"]["Default"] == ""
    assert params["AssumeCallerRole"]["Default"] == "true"
    assert params["CreateExampleActorRole"]["Default"] == "false"
    for function in ("ApiFunction", "PresignFunction"):
        env = environment(template, function)
        assert env["AWS_MCP_CALLER_ROLE_MAP"] == {"Ref": "CallerRoleMap"}
        assert env["AWS_MCP_CALLER_ROLE_MAP_PARAMETER"] == {"Ref": "CallerRoleMapParameter"}
        assert env["AWS_MCP_ASSUME_CALLER_ROLE"] == {"Ref": "AssumeCallerRole"}
        assert role_of(template, function) in ACTING_ROLES


def test_internal_key_is_readable_only_by_the_stack_roles(template):
    secret = template["Resources"]["InternalKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-internal-key"}
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32 and "SecretStringTemplate" not in generated
    roles = set(execution_roles(template))
    assert roles == {role_of(template, f) for f in GROUPS.values()}

    # The resource policy denies everyone else, whatever their own policies allow.
    policies = [r for r in resources(template, "AWS::SecretsManager::ResourcePolicy").values()
                if r["Properties"]["SecretId"] == {"Ref": "InternalKeySecret"}]
    assert len(policies) == 1
    document = policies[0]["Properties"]["ResourcePolicy"]
    assert not [s for s in document["Statement"] if s["Effect"] == "Allow"]
    deny = [s for s in document["Statement"] if s["Effect"] == "Deny"
            and "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    assert len(deny) == 1 and deny[0]["Principal"] == "*"
    allowed = deny[0]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert sorted(a["Fn::GetAtt"][0] if isinstance(a["Fn::GetAtt"], list) else a["Fn::GetAtt"].split(".")[0]
                  for a in allowed) == sorted(roles)

    # Each execution role reads this secret and nothing else; no other role reads it.
    for name, role in resources(template, "AWS::IAM::Role").items():
        reads = [s for _, s in statements(role)
                 if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
        if name in roles:
            assert [s["Resource"] for s in reads] == [{"Ref": "InternalKeySecret"}], name
            assert [s["Action"] for s in reads] == ["secretsmanager:GetSecretValue"], name
        else:
            assert not reads, name


def test_example_actor_role_trusts_the_acting_roles(template):
    role = template["Resources"]["ExampleActorRole"]
    assert role["Condition"] == "CreatesExampleActorRole"
    assert {"Key": "aws-mcp-actor", "Value": "true"} in role["Properties"]["Tags"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1 and set(trust[0]["Action"]) == ACTOR_ACTIONS
    principals = trust[0]["Principal"]["AWS"]
    assert sorted(p["Fn::GetAtt"][0] for p in principals) == sorted(ACTING_ROLES)
    assert template["Outputs"]["ExampleActorRoleArn"]["Condition"] == "CreatesExampleActorRole"


def test_one_mcp_endpoint_output(template):
    stack = Stack(template)
    outputs = template["Outputs"]
    endpoint = stack.render(outputs["McpEndpoint"]["Value"])
    front_url = stack.get_att(f"{FRONT}Url", "FunctionUrl")
    assert endpoint == f"{front_url}mcp"
    value = outputs["ClientConfig"]["Value"]["Fn::Sub"]
    config = json.loads(stack.render({"Fn::Sub": [value[0], {"RegionMetadata": ""}]}))
    assert list(config["mcpServers"]) == ["aws-mcp"]
    assert config["mcpServers"]["aws-mcp"]["args"][:6] == [
        "mcp-proxy-for-aws@1.7.0", endpoint, "--service", "lambda", "--region", REGION]


def test_only_the_front_function_has_a_function_url(template):
    # cfn-lint 1.58 (SAM CLI 1.170) refuses FunctionUrlConfig under Globals.Function (E3724).
    assert "FunctionUrlConfig" not in template["Globals"]["Function"]
    front = template["Resources"][FRONT]["Properties"]["FunctionUrlConfig"]
    assert front == {"AuthType": "AWS_IAM", "InvokeMode": "BUFFERED"}
    assert environment(template, FRONT).get("AWS_MCP_SERVE_URL_EVENTS", "true") == "true"
    for function in set(GROUPS.values()) - {FRONT}:
        assert "FunctionUrlConfig" not in template["Resources"][function]["Properties"], function
        # Reached only through the front: a URL-shaped event from a direct Invoke is refused.
        assert environment(template, function)["AWS_MCP_SERVE_URL_EVENTS"] == "false", function
