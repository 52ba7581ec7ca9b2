"""Read-only mode and the reviewed list of reads with side effects, and secret-read consent,
end to end through the official MCP client against `aws-mcp stdio` and moto_server."""

import uuid

import boto3

from conftest import AWS_MCP, base_env
from mcpclient import with_stdio_session


def run(moto_url, body, **env):
    return with_stdio_session(AWS_MCP, ["stdio"], base_env(AWS_ENDPOINT_URL=moto_url, **env), body)


def boto(moto_url, service):
    return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


async def call(session, command):
    r = await session.call_tool("aws___call_aws", {"cli_command": command})
    return r.structuredContent["results"][0]


def test_read_only_mode_refuses_reads_with_side_effects(moto_url):
    group = f"ro-{uuid.uuid4().hex[:10]}"
    boto(moto_url, "logs").create_log_group(logGroupName=group)

    async def body(session, init):
        start = await call(session, f"aws logs start-query --log-group-name {group} "
                                    "--start-time 1 --end-time 2 --query-string 'fields @message'")
        listed = await call(session, f"aws logs describe-log-groups --log-group-name-prefix {group}")
        # The CLI has no invoke-agent (its answer is an event stream): scripts can call it.
        script = await session.call_tool("aws___run_script", {"code": (
            "try:\n"
            "    call_aws('bedrock-agent-runtime', 'InvokeAgent', {'agentId': 'A1', "
            "'agentAliasId': 'B1', 'sessionId': 's1', 'inputText': 'hi'})\n"
            "    r = 'invoked'\n"
            "except Exception as e:\n"
            "    r = str(e)\n"
            "r")})
        return start, listed, script

    start, listed, script = run(moto_url, body, AWS_MCP_READ_ONLY="true")
    assert start["error"]["kind"] == "policy", start
    message = start["error"]["message"]
    assert "has side effects despite being a read in IAM" in message and "Logs Insights" in message
    assert listed["status"] == "success", listed
    result = script.structuredContent["result"]
    assert result.startswith("PolicyDenied") and "runs an agent" in result, result


def test_secret_reads_ask_first_and_refuse_when_the_client_cannot_answer(moto_url):
    name = f"secret-{uuid.uuid4().hex[:10]}"
    boto(moto_url, "secretsmanager").create_secret(Name=name, SecretString="hunter2")
    boto(moto_url, "ssm").put_parameter(Name=f"/{name}", Value="hunter2", Type="SecureString")

    async def body(session, init):
        return [await call(session, c) for c in (
            f"aws secretsmanager get-secret-value --secret-id {name}",
            f"aws ssm get-parameter --name /{name} --with-decryption",
            f"aws ssm get-parameter --name /{name} --no-with-decryption",
            f"aws secretsmanager describe-secret --secret-id {name}",
        )]

    # This client offers no elicitation: the secret reads are refused, saying how to allow them.
    secret, decrypted, encrypted, described = run(moto_url, body, AWS_MCP_SECRET_READ_CONSENT="true")
    for refused in (secret, decrypted):
        assert refused["error"]["kind"] == "policy", refused
        assert "AWS_MCP_SECRET_READ_CONSENT=false" in refused["error"]["message"]
    assert encrypted["status"] == "success", encrypted
    assert described["status"] == "success", described

    # Off (the default on the user's machine): the value is returned.
    secret, decrypted, _, _ = run(moto_url, body)
    assert secret["status"] == "success" and secret["output"]["SecretString"] == "hunter2", secret
    assert decrypted["status"] == "success", decrypted
