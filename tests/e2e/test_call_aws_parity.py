"""`call_aws` against the AWS CLI itself: the same commands, the same moto_server state, equal
answers.

A fresh moto_server is started for this module. Resources are created through the CLI; then
every read command runs through the CLI (`--output json`, `cli_timestamp_format = iso8601`,
TZ=UTC) and through `aws___call_aws` in one long-lived `aws-mcp stdio` session, and the JSON
values (or, for `aws s3 ls/mb/rb/rm/cp`, the printed text) must be equal. Failures must agree
too: the error code call_aws reports equals the one in the CLI's "An error occurred (Code)"
message, and commands the CLI refuses before sending are refused by call_aws as validation
errors.

Writes cannot be compared by running them twice, so each write runs once per side on its own
name (`pcli` through the CLI, `pmcp` through call_aws): the answers must be equal once the name
is normalised, and CLI reads of both resources afterwards must be equal in the same way.

Paginated commands with `--max-items` are resumed with the CLI's `NextToken` on both sides.

The CLI runs in one interpreter of the tools virtualenv (`cli_oracle.py`) so that a few hundred
commands take minutes rather than the interpreter start-up of each.
"""

import difflib
import json
import re
import shlex
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import httpx
import pytest

from conftest import AWS_MCP, TOOLS_BIN, Proc, base_env, free_port, wait_until
from mcpclient import with_stdio_session

HERE = Path(__file__).resolve().parent
BATCH = 20  # call_aws's largest batch


@dataclass(frozen=True)
class Case:
    """One command compared between the CLI and call_aws. `cmd` may name setup facts as
    `{fact}`; `expect` is what the CLI must do ("ok" or "error"), so a broken setup cannot make a
    case pass vacuously; `resume` adds a case that continues from the CLI's NextToken;
    `unordered` compares printed lines as a set (the CLI's transfer threads print in completion
    order)."""

    id: str
    cmd: str
    expect: str = "ok"
    resume: bool = False
    unordered: bool = False


def ok(id, cmd, resume=False):
    return Case(id, cmd, "ok", resume)


def err(id, cmd):
    return Case(id, cmd, "error")


# ---------------------------------------------------------------------------------------------
# Setup, run through the CLI in stages (later stages use facts read from earlier answers).

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
    "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]})
MACHINE = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
TEMPLATE = json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue",
                                           "Properties": {"QueueName": "parity-cfn-q"}}}})
CONTAINERS = json.dumps([{"name": "web", "image": "nginx", "memory": 128, "essential": True}])

SETUP_1 = [
    ("bucket", "aws s3api create-bucket --bucket parity-src"),
    ("bucket-eu", "aws s3api create-bucket --bucket parity-eu --region eu-west-1 "
                  "--create-bucket-configuration LocationConstraint=eu-west-1"),
    ("table", "aws dynamodb create-table --table-name parity-table "
              "--attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=N "
              "--key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE "
              "--billing-mode PAY_PER_REQUEST --tags Key=team,Value=parity"),
    ("vpc", "aws ec2 create-vpc --cidr-block 10.1.0.0/16 "
            "--tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=parity}]'"),
    ("igw", "aws ec2 create-internet-gateway"),
    ("key-pair", "aws ec2 create-key-pair --key-name parity-key"),
    ("role", f"aws iam create-role --role-name parity-role --assume-role-policy-document '{TRUST}' "
             "--description 'parity role' --tags Key=team,Value=parity"),
    ("policy", f"aws iam create-policy --policy-name parity-policy --policy-document '{POLICY}'"),
    ("group", "aws iam create-group --group-name parity-group"),
    ("queue", "aws sqs create-queue --queue-name parity-q1 --attributes VisibilityTimeout=45 "
              "--tags team=parity"),
    ("queue-fifo", "aws sqs create-queue --queue-name parity-q2.fifo "
                   "--attributes FifoQueue=true,ContentBasedDeduplication=true"),
    ("topic", "aws sns create-topic --name parity-topic --tags Key=team,Value=parity"),
    ("topic2", "aws sns create-topic --name parity-topic-2"),
    ("alarm", "aws cloudwatch put-metric-alarm --alarm-name parity-alarm --metric-name CPU "
              "--namespace Parity --statistic Average --period 60 --evaluation-periods 1 "
              "--threshold 80 --comparison-operator GreaterThanThreshold"),
    ("metric", "aws cloudwatch put-metric-data --namespace Parity --metric-name Hits "
               "--value 3 --unit Count --timestamp {minute}"),
    ("log-group", "aws logs create-log-group --log-group-name /parity/app --tags team=parity"),
    ("log-group-2", "aws logs create-log-group --log-group-name /parity/web"),
    ("zone", "aws route53 create-hosted-zone --name parity.example.com --caller-reference parity-1"),
    ("key", "aws kms create-key --description parity --tags TagKey=team,TagValue=parity"),
    ("secret", "aws secretsmanager create-secret --name parity/s1 --secret-string hunter2 "
               "--description 'parity secret'"),
    ("secure", "aws ssm put-parameter --name /parity-secure/token --value s3cr3t --type SecureString"),
    ("param-eu", "aws ssm put-parameter --name /parity-eu/p --value eu --type String --region eu-west-1"),
    ("stack", "aws cloudformation create-stack --stack-name parity-stack --template-body file://stack.json"),
    ("rule", "aws events put-rule --name parity-rule --schedule-expression 'rate(5 minutes)' "
             "--description 'parity rule'"),
    ("bus", "aws events create-event-bus --name parity-bus"),
    ("repo", "aws ecr create-repository --repository-name parity-repo --tags Key=team,Value=parity"),
    ("cluster", "aws ecs create-cluster --cluster-name parity-cluster"),
    ("taskdef", f"aws ecs register-task-definition --family parity-task --container-definitions '{CONTAINERS}'"),
    ("stream", "aws kinesis create-stream --stream-name parity-stream --shard-count 2"),
] + [
    (f"obj-{k}", f"aws s3api put-object --bucket parity-src --key {k} --body obj.txt")
    for k in ["a/1.txt", "a/2.txt", "a/3.txt", "a/deep/4.txt", "b/5.txt", "b/6.txt", "c.txt",
              "d.txt", "e.txt", "f.txt", "g.txt", "h.txt"]
] + [
    (f"param-{i}", f"aws ssm put-parameter --name /parity/p{i:02} --value value-{i} --type String")
    for i in range(1, 31)
] + [
    (f"user-{i}", f"aws iam create-user --user-name parity-user-{i} --tags Key=n,Value={i}")
    for i in range(1, 6)
] + [
    ("items", "aws dynamodb batch-write-item --request-items file://items.json"),
]

SETUP_2 = [
    ("subnet", "aws ec2 create-subnet --vpc-id {vpc} --cidr-block 10.1.1.0/24 --availability-zone us-east-1a"),
    ("sg", "aws ec2 create-security-group --group-name parity-sg --description 'parity sg' --vpc-id {vpc}"),
    ("igw-attach", "aws ec2 attach-internet-gateway --internet-gateway-id {igw} --vpc-id {vpc}"),
    ("attach", "aws iam attach-role-policy --role-name parity-role --policy-arn {policy_arn}"),
    ("inline", f"aws iam put-user-policy --user-name parity-user-1 --policy-name inline --policy-document '{POLICY}'"),
    ("member", "aws iam add-user-to-group --group-name parity-group --user-name parity-user-2"),
    ("subscribe", "aws sns subscribe --topic-arn {topic_arn} --protocol sqs --notification-endpoint {queue_arn}"),
    ("stream-log", "aws logs create-log-stream --log-group-name /parity/app --log-stream-name s1"),
    ("retention", "aws logs put-retention-policy --log-group-name /parity/app --retention-in-days 7"),
    ("record", "aws route53 change-resource-record-sets --hosted-zone-id {zone_id} --change-batch file://records.json"),
    ("alias", "aws kms create-alias --alias-name alias/parity --target-key-id {key_id}"),
    ("targets", "aws events put-targets --rule parity-rule --targets Id=t1,Arn={queue_arn}"),
    ("function", "aws lambda create-function --function-name parity-fn --runtime python3.12 "
                 "--role {role_arn} --handler lambda_function.handler --zip-file fileb://fn.zip "
                 "--description 'parity function' --tags team=parity"),
    ("machine", f"aws stepfunctions create-state-machine --name parity-machine --definition '{MACHINE}' "
                "--role-arn {role_arn}"),
    ("bucket-tags", "aws s3api put-bucket-tagging --bucket parity-src "
                    "--tagging 'TagSet=[{Key=team,Value=parity}]'"),
    ("object-tags", "aws s3api put-object-tagging --bucket parity-src --key a/1.txt "
                    "--tagging 'TagSet=[{Key=kind,Value=text}]'"),
    ("versioning", "aws s3api put-bucket-versioning --bucket parity-eu "
                   "--versioning-configuration Status=Enabled --region eu-west-1"),
    ("service", "aws ecs create-service --cluster parity-cluster --service-name parity-svc "
                "--task-definition parity-task --desired-count 0"),
]

SETUP_3 = [
    ("ingress", "aws ec2 authorize-security-group-ingress --group-id {sg_id} --protocol tcp "
                "--port 22 --cidr 10.0.0.0/8"),
    ("events", "aws logs put-log-events --log-group-name /parity/app --log-stream-name s1 "
               "--log-events file://events.json"),
]


def facts_from(out: dict, facts: dict) -> dict:
    """Ids the later commands need, read from the setup answers."""
    def get(key, *path):
        value = out.get(key)
        for p in path:
            if value is None:
                return
            value = value[p]
        return value

    found = {
        "vpc": get("vpc", "Vpc", "VpcId"),
        "igw": get("igw", "InternetGateway", "InternetGatewayId"),
        "policy_arn": get("policy", "Policy", "Arn"),
        "role_arn": get("role", "Role", "Arn"),
        "topic_arn": get("topic", "TopicArn"),
        "queue_url": get("queue", "QueueUrl"),
        "zone_id": (get("zone", "HostedZone", "Id") or "").split("/")[-1] or None,
        "key_id": get("key", "KeyMetadata", "KeyId"),
        "subnet_id": get("subnet", "Subnet", "SubnetId"),
        "sg_id": get("sg", "GroupId"),
        "machine_arn": get("machine", "stateMachineArn"),
        "secret_arn": get("secret", "ARN"),
    }
    if found["queue_url"]:
        found["queue_arn"] = "arn:aws:sqs:us-east-1:123456789012:parity-q1"
    return {**facts, **{k: v for k, v in found.items() if v}}


# ---------------------------------------------------------------------------------------------
# Read-only commands: both sides run them against the same state.

READS = [
    # STS
    ok("sts-identity", "aws sts get-caller-identity"),
    ok("sts-identity-query", "aws sts get-caller-identity --query Account"),
    # S3 API
    ok("s3api-list-buckets", "aws s3api list-buckets"),
    ok("s3api-list-buckets-query", "aws s3api list-buckets --query 'Buckets[].Name'"),
    ok("s3api-list-objects-v2", "aws s3api list-objects-v2 --bucket parity-src"),
    ok("s3api-list-objects-v2-prefix", "aws s3api list-objects-v2 --bucket parity-src --prefix a/ --delimiter /"),
    ok("s3api-list-objects-v2-page-size", "aws s3api list-objects-v2 --bucket parity-src --page-size 5"),
    ok("s3api-list-objects-v2-max-items", "aws s3api list-objects-v2 --bucket parity-src --max-items 4", resume=True),
    ok("s3api-list-objects-v2-query", "aws s3api list-objects-v2 --bucket parity-src --query 'Contents[?Size > `0`].Key'"),
    ok("s3api-list-objects", "aws s3api list-objects --bucket parity-src --prefix b/"),
    ok("s3api-list-object-versions", "aws s3api list-object-versions --bucket parity-src --prefix a/"),
    ok("s3api-head-object", "aws s3api head-object --bucket parity-src --key a/1.txt"),
    ok("s3api-head-bucket", "aws s3api head-bucket --bucket parity-src"),
    ok("s3api-get-bucket-location", "aws s3api get-bucket-location --bucket parity-eu --region eu-west-1"),
    ok("s3api-get-bucket-location-us", "aws s3api get-bucket-location --bucket parity-src"),
    ok("s3api-get-bucket-tagging", "aws s3api get-bucket-tagging --bucket parity-src"),
    ok("s3api-get-object-tagging", "aws s3api get-object-tagging --bucket parity-src --key a/1.txt"),
    ok("s3api-get-bucket-versioning", "aws s3api get-bucket-versioning --bucket parity-eu --region eu-west-1"),
    ok("s3api-get-bucket-versioning-none", "aws s3api get-bucket-versioning --bucket parity-src"),
    ok("s3api-get-bucket-acl", "aws s3api get-bucket-acl --bucket parity-src"),
    ok("s3api-get-object-acl", "aws s3api get-object-acl --bucket parity-src --key c.txt"),
    ok("s3api-get-object", "aws s3api get-object --bucket parity-src --key c.txt got.txt"),
    err("s3api-get-bucket-policy-missing", "aws s3api get-bucket-policy --bucket parity-src"),
    err("s3api-head-object-missing", "aws s3api head-object --bucket parity-src --key nope.txt"),
    err("s3api-get-object-tagging-no-bucket", "aws s3api get-object-tagging --bucket parity-nobucket --key k"),
    err("s3api-list-objects-no-bucket", "aws s3api list-objects-v2 --bucket parity-nobucket"),
    # S3 high-level
    ok("s3-ls", "aws s3 ls"),
    ok("s3-ls-bucket", "aws s3 ls s3://parity-src"),
    ok("s3-ls-prefix", "aws s3 ls s3://parity-src/a/"),
    ok("s3-ls-recursive", "aws s3 ls s3://parity-src --recursive"),
    ok("s3-ls-summarize", "aws s3 ls s3://parity-src --recursive --human-readable --summarize"),
    ok("s3-ls-page-size", "aws s3 ls s3://parity-src --recursive --page-size 3"),
    err("s3-ls-no-bucket", "aws s3 ls s3://parity-nobucket"),
    # DynamoDB
    ok("ddb-list-tables", "aws dynamodb list-tables"),
    ok("ddb-describe-table", "aws dynamodb describe-table --table-name parity-table"),
    ok("ddb-get-item", "aws dynamodb get-item --table-name parity-table --key '{\"pk\":{\"S\":\"user#1\"},\"sk\":{\"N\":\"1\"}}'"),
    ok("ddb-get-item-projection", "aws dynamodb get-item --table-name parity-table "
       "--key '{\"pk\":{\"S\":\"user#2\"},\"sk\":{\"N\":\"2\"}}' --projection-expression 'pk,score'"),
    ok("ddb-query", "aws dynamodb query --table-name parity-table --key-condition-expression 'pk = :p' "
       "--expression-attribute-values '{\":p\":{\"S\":\"user#1\"}}'"),
    ok("ddb-query-count", "aws dynamodb query --table-name parity-table --key-condition-expression 'pk = :p' "
       "--expression-attribute-values '{\":p\":{\"S\":\"user#3\"}}' --select COUNT"),
    ok("ddb-scan", "aws dynamodb scan --table-name parity-table"),
    ok("ddb-scan-page-size", "aws dynamodb scan --table-name parity-table --page-size 4"),
    ok("ddb-scan-max-items", "aws dynamodb scan --table-name parity-table --max-items 5", resume=True),
    ok("ddb-scan-filter", "aws dynamodb scan --table-name parity-table --filter-expression 'score > :s' "
       "--expression-attribute-values '{\":s\":{\"N\":\"40\"}}' --query 'Items[].pk.S'"),
    ok("ddb-batch-get", "aws dynamodb batch-get-item --request-items "
       "'{\"parity-table\":{\"Keys\":[{\"pk\":{\"S\":\"user#1\"},\"sk\":{\"N\":\"1\"}}]}}'"),
    ok("ddb-describe-ttl", "aws dynamodb describe-time-to-live --table-name parity-table"),
    ok("ddb-list-tags", "aws dynamodb list-tags-of-resource --resource-arn "
       "arn:aws:dynamodb:us-east-1:123456789012:table/parity-table"),
    ok("ddb-describe-backups", "aws dynamodb describe-continuous-backups --table-name parity-table"),
    ok("ddb-list-tables-eu", "aws dynamodb list-tables --region eu-west-1"),
    err("ddb-describe-missing", "aws dynamodb describe-table --table-name parity-nope"),
    err("ddb-get-item-missing-key", "aws dynamodb get-item --table-name parity-table"),
    # EC2
    ok("ec2-describe-vpcs", "aws ec2 describe-vpcs"),
    ok("ec2-describe-vpcs-filter", "aws ec2 describe-vpcs --filters Name=cidr,Values=10.1.0.0/16"),
    ok("ec2-describe-vpcs-ids", "aws ec2 describe-vpcs --vpc-ids {vpc}"),
    ok("ec2-describe-vpcs-query", "aws ec2 describe-vpcs --query 'Vpcs[].[VpcId,CidrBlock,IsDefault]'"),
    ok("ec2-describe-subnets", "aws ec2 describe-subnets --filters Name=vpc-id,Values={vpc}"),
    ok("ec2-describe-security-groups", "aws ec2 describe-security-groups --group-ids {sg_id}"),
    ok("ec2-describe-sg-rules", "aws ec2 describe-security-group-rules --filters Name=group-id,Values={sg_id}"),
    ok("ec2-describe-key-pairs", "aws ec2 describe-key-pairs --key-names parity-key"),
    ok("ec2-describe-igw", "aws ec2 describe-internet-gateways --internet-gateway-ids {igw}"),
    ok("ec2-describe-route-tables", "aws ec2 describe-route-tables --filters Name=vpc-id,Values={vpc}"),
    ok("ec2-describe-nacls", "aws ec2 describe-network-acls --filters Name=vpc-id,Values={vpc}"),
    ok("ec2-describe-tags", "aws ec2 describe-tags --filters Name=resource-id,Values={vpc}"),
    ok("ec2-describe-regions", "aws ec2 describe-regions --region-names us-east-1 eu-west-1"),
    ok("ec2-describe-azs", "aws ec2 describe-availability-zones"),
    ok("ec2-describe-azs-eu", "aws ec2 describe-availability-zones --region eu-west-1"),
    ok("ec2-describe-instances", "aws ec2 describe-instances"),
    ok("ec2-describe-addresses", "aws ec2 describe-addresses"),
    ok("ec2-describe-volumes", "aws ec2 describe-volumes"),
    ok("ec2-describe-instance-types", "aws ec2 describe-instance-types --instance-types t2.micro"),
    ok("ec2-describe-account-attributes", "aws ec2 describe-account-attributes"),
    err("ec2-describe-vpcs-missing", "aws ec2 describe-vpcs --vpc-ids vpc-00000000"),
    err("ec2-unknown-option", "aws ec2 describe-vpcs --bogus-option 1"),
    # IAM
    ok("iam-list-users", "aws iam list-users"),
    ok("iam-list-users-max-items", "aws iam list-users --max-items 2", resume=True),
    ok("iam-list-users-query", "aws iam list-users --query 'Users[].UserName'"),
    ok("iam-get-user", "aws iam get-user --user-name parity-user-1"),
    ok("iam-list-user-tags", "aws iam list-user-tags --user-name parity-user-3"),
    ok("iam-list-user-policies", "aws iam list-user-policies --user-name parity-user-1"),
    ok("iam-get-user-policy", "aws iam get-user-policy --user-name parity-user-1 --policy-name inline"),
    ok("iam-list-groups", "aws iam list-groups"),
    ok("iam-get-group", "aws iam get-group --group-name parity-group"),
    ok("iam-list-groups-for-user", "aws iam list-groups-for-user --user-name parity-user-2"),
    ok("iam-list-roles", "aws iam list-roles"),
    ok("iam-get-role", "aws iam get-role --role-name parity-role"),
    ok("iam-list-role-tags", "aws iam list-role-tags --role-name parity-role"),
    ok("iam-list-attached-role-policies", "aws iam list-attached-role-policies --role-name parity-role"),
    ok("iam-list-policies-local", "aws iam list-policies --scope Local"),
    ok("iam-get-policy", "aws iam get-policy --policy-arn {policy_arn}"),
    ok("iam-get-policy-version", "aws iam get-policy-version --policy-arn {policy_arn} --version-id v1"),
    ok("iam-list-instance-profiles", "aws iam list-instance-profiles"),
    ok("iam-list-access-keys", "aws iam list-access-keys --user-name parity-user-4"),
    err("iam-get-user-missing", "aws iam get-user --user-name parity-nobody"),
    err("iam-get-user-empty-name", "aws iam get-user --user-name ''"),
    # SQS
    ok("sqs-list-queues", "aws sqs list-queues"),
    ok("sqs-list-queues-prefix", "aws sqs list-queues --queue-name-prefix parity-q2"),
    ok("sqs-list-queues-west", "aws sqs list-queues --region us-west-2"),
    ok("sqs-get-queue-url", "aws sqs get-queue-url --queue-name parity-q1"),
    ok("sqs-get-queue-attributes", "aws sqs get-queue-attributes --queue-url {queue_url} "
       "--attribute-names VisibilityTimeout DelaySeconds QueueArn"),
    ok("sqs-get-queue-attributes-fifo", "aws sqs get-queue-attributes --queue-url "
       "{queue_base}/parity-q2.fifo --attribute-names All"),
    ok("sqs-list-queue-tags", "aws sqs list-queue-tags --queue-url {queue_url}"),
    err("sqs-get-queue-url-missing", "aws sqs get-queue-url --queue-name parity-nope"),
    err("sqs-get-queue-url-no-name", "aws sqs get-queue-url"),
    # SNS
    ok("sns-list-topics", "aws sns list-topics"),
    ok("sns-get-topic-attributes", "aws sns get-topic-attributes --topic-arn {topic_arn}"),
    ok("sns-list-subscriptions", "aws sns list-subscriptions --query 'Subscriptions[].[TopicArn,Protocol,Endpoint]'"),
    ok("sns-list-subscriptions-by-topic", "aws sns list-subscriptions-by-topic --topic-arn {topic_arn} "
       "--query 'Subscriptions[].Protocol'"),
    ok("sns-list-tags", "aws sns list-tags-for-resource --resource-arn {topic_arn}"),
    err("sns-get-topic-attributes-missing", "aws sns get-topic-attributes --topic-arn "
        "arn:aws:sns:us-east-1:123456789012:parity-nope"),
    # Lambda
    ok("lambda-list-functions", "aws lambda list-functions"),
    ok("lambda-get-function-configuration", "aws lambda get-function-configuration --function-name parity-fn"),
    ok("lambda-get-function", "aws lambda get-function --function-name parity-fn"),
    ok("lambda-list-versions", "aws lambda list-versions-by-function --function-name parity-fn"),
    ok("lambda-list-aliases", "aws lambda list-aliases --function-name parity-fn"),
    ok("lambda-list-tags", "aws lambda list-tags --resource "
       "arn:aws:lambda:us-east-1:123456789012:function:parity-fn"),
    ok("lambda-query", "aws lambda list-functions --query 'Functions[].[FunctionName,Runtime,Handler]'"),
    err("lambda-get-function-missing", "aws lambda get-function --function-name parity-nope"),
    # CloudWatch
    ok("cw-describe-alarms", "aws cloudwatch describe-alarms"),
    ok("cw-describe-alarms-names", "aws cloudwatch describe-alarms --alarm-names parity-alarm "
       "--query 'MetricAlarms[].[AlarmName,Threshold,ComparisonOperator]'"),
    ok("cw-list-metrics", "aws cloudwatch list-metrics --namespace Parity"),
    ok("cw-get-metric-statistics", "aws cloudwatch get-metric-statistics --namespace Parity "
       "--metric-name Hits --start-time {start} --end-time {end} --period 60 --statistics Sum"),
    ok("cw-list-dashboards", "aws cloudwatch list-dashboards"),
    # Logs
    ok("logs-describe-log-groups", "aws logs describe-log-groups"),
    ok("logs-describe-log-groups-prefix", "aws logs describe-log-groups --log-group-name-prefix /parity/a"),
    ok("logs-describe-log-streams", "aws logs describe-log-streams --log-group-name /parity/app"),
    ok("logs-get-log-events", "aws logs get-log-events --log-group-name /parity/app --log-stream-name s1"),
    ok("logs-filter-log-events", "aws logs filter-log-events --log-group-name /parity/app "
       "--query 'events[].message'"),
    ok("logs-list-tags", "aws logs list-tags-log-group --log-group-name /parity/app"),
    err("logs-describe-streams-missing", "aws logs describe-log-streams --log-group-name /parity/nope"),
    # Route 53
    ok("r53-list-hosted-zones", "aws route53 list-hosted-zones"),
    ok("r53-get-hosted-zone", "aws route53 get-hosted-zone --id {zone_id}"),
    ok("r53-list-rrsets", "aws route53 list-resource-record-sets --hosted-zone-id {zone_id}"),
    ok("r53-list-rrsets-max-items", "aws route53 list-resource-record-sets --hosted-zone-id {zone_id} "
       "--max-items 2", resume=True),
    ok("r53-list-by-name", "aws route53 list-hosted-zones-by-name --dns-name parity.example.com"),
    ok("r53-count", "aws route53 get-hosted-zone-count"),
    err("r53-get-hosted-zone-missing", "aws route53 get-hosted-zone --id ZNOPE0000"),
    # KMS
    ok("kms-describe-key", "aws kms describe-key --key-id alias/parity"),
    ok("kms-list-keys", "aws kms list-keys"),
    ok("kms-list-aliases-key", "aws kms list-aliases --key-id {key_id}"),
    ok("kms-key-policy", "aws kms get-key-policy --key-id {key_id} --policy-name default"),
    ok("kms-rotation", "aws kms get-key-rotation-status --key-id {key_id}"),
    ok("kms-tags", "aws kms list-resource-tags --key-id {key_id}"),
    err("kms-describe-missing", "aws kms describe-key --key-id alias/parity-nope"),
    # Secrets Manager
    ok("sm-describe-secret", "aws secretsmanager describe-secret --secret-id parity/s1"),
    ok("sm-get-secret-value", "aws secretsmanager get-secret-value --secret-id parity/s1"),
    ok("sm-list-secrets", "aws secretsmanager list-secrets"),
    # moto stamps these versions with the time of each request: leave the dates out.
    ok("sm-list-versions", "aws secretsmanager list-secret-version-ids --secret-id parity/s1 "
       "--query 'Versions[].[VersionId,VersionStages]'"),
    err("sm-get-missing", "aws secretsmanager get-secret-value --secret-id parity/nope"),
    # SSM
    ok("ssm-get-parameter", "aws ssm get-parameter --name /parity/p07"),
    ok("ssm-get-parameter-secure", "aws ssm get-parameter --name /parity-secure/token --with-decryption"),
    ok("ssm-get-parameters", "aws ssm get-parameters --names /parity/p01 /parity/p02 /parity/nope"),
    ok("ssm-by-path", "aws ssm get-parameters-by-path --path /parity"),
    ok("ssm-by-path-page-size", "aws ssm get-parameters-by-path --path /parity --page-size 7"),
    ok("ssm-by-path-max-items", "aws ssm get-parameters-by-path --path /parity --page-size 7 --max-items 5",
       resume=True),
    ok("ssm-by-path-query", "aws ssm get-parameters-by-path --path /parity --query 'Parameters[].Value'"),
    ok("ssm-describe-parameters", "aws ssm describe-parameters --page-size 7"),
    ok("ssm-describe-max-items", "aws ssm describe-parameters --max-items 5", resume=True),
    ok("ssm-describe-no-paginate", "aws ssm describe-parameters --no-paginate --max-results 4"),
    ok("ssm-describe-filter", "aws ssm describe-parameters --parameter-filters Key=Name,Values=/parity/p1,Option=BeginsWith"),
    ok("ssm-history", "aws ssm get-parameter-history --name /parity/p03"),
    ok("ssm-region", "aws ssm get-parameter --name /parity-eu/p --region eu-west-1"),
    err("ssm-region-missing", "aws ssm get-parameter --name /parity-eu/p"),
    err("ssm-get-missing", "aws ssm get-parameter --name /parity/nope"),
    err("ssm-get-no-name", "aws ssm get-parameter"),
    # CloudFormation
    ok("cfn-describe-stacks", "aws cloudformation describe-stacks --stack-name parity-stack"),
    ok("cfn-list-stacks", "aws cloudformation list-stacks --query 'StackSummaries[].[StackName,StackStatus]'"),
    ok("cfn-get-template", "aws cloudformation get-template --stack-name parity-stack"),
    ok("cfn-list-stack-resources", "aws cloudformation list-stack-resources --stack-name parity-stack"),
    ok("cfn-describe-stack-resources", "aws cloudformation describe-stack-resources --stack-name parity-stack"),
    err("cfn-describe-missing", "aws cloudformation describe-stacks --stack-name parity-nope"),
    # EventBridge
    ok("events-list-rules", "aws events list-rules"),
    ok("events-describe-rule", "aws events describe-rule --name parity-rule"),
    ok("events-list-targets", "aws events list-targets-by-rule --rule parity-rule"),
    ok("events-list-buses", "aws events list-event-buses"),
    ok("events-describe-bus", "aws events describe-event-bus --name parity-bus"),
    err("events-describe-missing", "aws events describe-rule --name parity-nope"),
    # ECR
    ok("ecr-describe-repositories", "aws ecr describe-repositories"),
    ok("ecr-describe-repo", "aws ecr describe-repositories --repository-names parity-repo"),
    ok("ecr-list-images", "aws ecr list-images --repository-name parity-repo"),
    err("ecr-lifecycle-missing", "aws ecr get-lifecycle-policy --repository-name parity-repo"),
    err("ecr-describe-missing", "aws ecr describe-repositories --repository-names parity-nope"),
    # ECS
    ok("ecs-list-clusters", "aws ecs list-clusters"),
    ok("ecs-describe-clusters", "aws ecs describe-clusters --clusters parity-cluster"),
    ok("ecs-list-task-definitions", "aws ecs list-task-definitions"),
    ok("ecs-describe-task-definition", "aws ecs describe-task-definition --task-definition parity-task"),
    ok("ecs-list-services", "aws ecs list-services --cluster parity-cluster"),
    ok("ecs-describe-services", "aws ecs describe-services --cluster parity-cluster --services parity-svc "
       "--query 'services[].[serviceName,status,desiredCount,launchType]'"),
    # Kinesis
    ok("kinesis-list-streams", "aws kinesis list-streams"),
    ok("kinesis-describe-summary", "aws kinesis describe-stream-summary --stream-name parity-stream"),
    ok("kinesis-describe-stream", "aws kinesis describe-stream --stream-name parity-stream"),
    ok("kinesis-list-shards", "aws kinesis list-shards --stream-name parity-stream"),
    err("kinesis-describe-missing", "aws kinesis describe-stream --stream-name parity-nope"),
    # Step Functions
    ok("sfn-list-state-machines", "aws stepfunctions list-state-machines"),
    ok("sfn-describe-state-machine", "aws stepfunctions describe-state-machine --state-machine-arn {machine_arn}"),
    err("sfn-describe-missing", "aws stepfunctions describe-state-machine --state-machine-arn "
        "arn:aws:states:us-east-1:123456789012:stateMachine:parity-nope"),
]

# ---------------------------------------------------------------------------------------------
# Writes: `{n}` is `pcli` on the CLI side and `pmcp` on the call_aws side. Stages run in order.

WRITES = [
    [
        ok("w-s3api-create-bucket", "aws s3api create-bucket --bucket parity-w-{n}"),
        ok("w-s3-mb", "aws s3 mb s3://parity-hl-{n}"),
        ok("w-sqs-create-queue", "aws sqs create-queue --queue-name parity-w-{n} --attributes DelaySeconds=5"),
        ok("w-sns-create-topic", "aws sns create-topic --name parity-w-{n}"),
        ok("w-ssm-put-parameter", "aws ssm put-parameter --name /parity-w/{n} --value v1 --type String"),
        ok("w-ddb-put-item", "aws dynamodb put-item --table-name parity-table "
           "--item '{\"pk\":{\"S\":\"w-{n}\"},\"sk\":{\"N\":\"1\"},\"v\":{\"S\":\"x\"}}'"),
        ok("w-logs-create-group", "aws logs create-log-group --log-group-name /parity-w/{n}"),
        ok("w-events-put-rule", "aws events put-rule --name parity-w-{n} --schedule-expression 'rate(1 hour)'"),
        ok("w-iam-create-user", "aws iam create-user --user-name parity-w-{n} --query 'User.[UserName,Path,Arn]'"),
        ok("w-ecr-create-repo", "aws ecr create-repository --repository-name parity-w-{n} "
           "--query 'repository.[repositoryName,repositoryUri,imageTagMutability]'"),
        ok("w-secret-create", "aws secretsmanager create-secret --name parity-w-{n} --secret-string x --query Name"),
        ok("w-lambda-create-function", "aws lambda create-function --function-name parity-w-{n} "
           "--runtime python3.12 --role {role_arn} --handler lambda_function.handler --zip-file fileb://fn.zip "
           "--query '{name:FunctionName,runtime:Runtime,handler:Handler,size:CodeSize,sha:CodeSha256,role:Role}'"),
        ok("w-ec2-create-tags", "aws ec2 create-tags --resources {vpc} --tags Key=w-{n},Value=yes"),
        ok("w-kinesis-create-stream", "aws kinesis create-stream --stream-name parity-w-{n} --shard-count 1"),
        err("w-s3api-create-bucket-taken", "aws s3api create-bucket --bucket parity-src --region eu-west-1 "
            "--create-bucket-configuration LocationConstraint=eu-west-1"),
        err("w-sqs-send-no-queue", "aws sqs send-message --queue-url {queue_url}-nope-{n} --message-body x"),
    ],
    [
        ok("w-s3api-put-object", "aws s3api put-object --bucket parity-w-{n} --key k.txt --body obj.txt"),
        ok("w-s3-cp-upload", "aws s3 cp obj.txt s3://parity-hl-{n}/obj.txt"),
        ok("w-s3-cp-upload-2", "aws s3 cp obj.txt s3://parity-hl-{n}/dir/"),
        ok("w-sqs-send-message", "aws sqs send-message --queue-url {queue_base}/parity-w-{n} "
           "--message-body hello --query MD5OfMessageBody"),
        ok("w-ssm-overwrite", "aws ssm put-parameter --name /parity-w/{n} --value v2 --overwrite"),
        ok("w-ddb-update-item", "aws dynamodb update-item --table-name parity-table "
           "--key '{\"pk\":{\"S\":\"w-{n}\"},\"sk\":{\"N\":\"1\"}}' --update-expression 'SET v = :v' "
           "--expression-attribute-values '{\":v\":{\"S\":\"y\"}}' --return-values ALL_NEW"),
        ok("w-logs-create-stream", "aws logs create-log-stream --log-group-name /parity-w/{n} --log-stream-name s"),
        ok("w-iam-tag-user", "aws iam tag-user --user-name parity-w-{n} --tags Key=k,Value=v"),
        ok("w-sns-tag", "aws sns tag-resource --resource-arn arn:aws:sns:us-east-1:123456789012:parity-w-{n} "
           "--tags Key=k,Value=v"),
        err("w-s3-mb-again", "aws s3 mb s3://parity-hl-{n} --region eu-west-1"),
    ],
    [
        ok("w-s3-cp-download", "aws s3 cp s3://parity-w-{n}/k.txt dl-{n}.txt"),
        ok("w-s3-cp-copy", "aws s3 cp s3://parity-w-{n}/k.txt s3://parity-hl-{n}/copied.txt"),
        ok("w-sqs-delete-queue", "aws sqs delete-queue --queue-url {queue_base}/parity-w-{n}"),
        ok("w-sns-delete-topic", "aws sns delete-topic --topic-arn arn:aws:sns:us-east-1:123456789012:parity-w-{n}"),
        ok("w-ddb-delete-item", "aws dynamodb delete-item --table-name parity-table "
           "--key '{\"pk\":{\"S\":\"w-{n}\"},\"sk\":{\"N\":\"1\"}}' --return-values ALL_OLD"),
        ok("w-events-delete-rule", "aws events delete-rule --name parity-w-{n}"),
        err("w-s3-rb-not-empty", "aws s3 rb s3://parity-hl-{n}"),
    ],
    [
        ok("w-s3api-delete-object", "aws s3api delete-object --bucket parity-w-{n} --key k.txt"),
        ok("w-s3-rm", "aws s3 rm s3://parity-hl-{n}/obj.txt"),
    ],
    [
        Case("w-s3-rm-recursive", "aws s3 rm s3://parity-hl-{n} --recursive", unordered=True),
        ok("w-s3api-delete-bucket", "aws s3api delete-bucket --bucket parity-w-{n}"),
    ],
    [
        ok("w-s3-rb", "aws s3 rb s3://parity-hl-{n}"),
    ],
]

# The effect of the writes, read back through the CLI for both names.
READBACKS = [
    ok("rb-ssm-parameter", "aws ssm get-parameter --name /parity-w/{n} --query 'Parameter.[Name,Value,Version,Type]'"),
    err("rb-sqs-queue-gone", "aws sqs get-queue-url --queue-name parity-w-{n}"),
    err("rb-sns-topic-gone", "aws sns get-topic-attributes --topic-arn arn:aws:sns:us-east-1:123456789012:parity-w-{n}"),
    ok("rb-ddb-item-gone", "aws dynamodb get-item --table-name parity-table "
       "--key '{\"pk\":{\"S\":\"w-{n}\"},\"sk\":{\"N\":\"1\"}}'"),
    ok("rb-logs-streams", "aws logs describe-log-streams --log-group-name /parity-w/{n} "
       "--query 'logStreams[].logStreamName'"),
    ok("rb-iam-user-tags", "aws iam list-user-tags --user-name parity-w-{n}"),
    ok("rb-ecr-repo", "aws ecr describe-repositories --repository-names parity-w-{n} "
       "--query 'repositories[].repositoryName'"),
    ok("rb-secret", "aws secretsmanager get-secret-value --secret-id parity-w-{n} --query SecretString"),
    ok("rb-lambda", "aws lambda get-function-configuration --function-name parity-w-{n} "
       "--query '[FunctionName,CodeSha256,Handler]'"),
    ok("rb-ec2-tag", "aws ec2 describe-tags --filters Name=key,Values=w-{n} --query 'Tags[].[Key,Value]'"),
    ok("rb-kinesis", "aws kinesis describe-stream-summary --stream-name parity-w-{n} "
       "--query 'StreamDescriptionSummary.[StreamName,OpenShardCount]'"),
    err("rb-events-rule-gone", "aws events describe-rule --name parity-w-{n}"),
    err("rb-s3-bucket-gone", "aws s3api head-bucket --bucket parity-w-{n}"),
    err("rb-s3-hl-bucket-gone", "aws s3api head-bucket --bucket parity-hl-{n}"),
]

SIDES = {"cli": "pcli", "mcp": "pmcp"}


# ---------------------------------------------------------------------------------------------
# Running both sides.

def is_high_level(argv: list[str]) -> bool:
    return argv[:1] == ["s3"]


def normalise_text(text: str) -> str:
    """The CLI's transfer progress lines (ended by a carriage return) and the padding that
    blanks them out are terminal artefacts, not part of the answer."""
    text = re.sub(r"Completed [^\r\n]*\r", "", text)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def cli_view(argv: list[str], raw: dict) -> dict:
    """What the CLI did: `{"status": "success", "output": ...}` or `{"status": "error",
    "code": ...}` (code None when the CLI refused the command before sending it)."""
    if raw["rc"] == 0:
        if is_high_level(argv):
            return {"status": "success", "output": normalise_text(raw["stdout"])}
        out = raw["stdout"].strip()
        return {"status": "success", "output": json.loads(out) if out else {}}
    m = re.search(r"An error occurred \(([^)]+)\)", raw["stderr"])
    return {"status": "error", "code": m.group(1) if m else None, "stderr": raw["stderr"].strip()}


def mcp_view(argv: list[str], result: dict) -> dict:
    if result.get("status") == "success":
        output = result.get("output")
        if is_high_level(argv) and isinstance(output, str):
            output = normalise_text(output)
        return {"status": "success", "output": output}
    error = result.get("error") or {}
    return {"status": "error", "code": error.get("code"), "kind": error.get("kind"),
            "message": error.get("message")}


class Both:
    """Runs the CLI (through cli_oracle.py) and call_aws (through one stdio session)."""

    def __init__(self, session, oracle, moto_url: str):
        self.session = session
        self.oracle = oracle
        self.moto_url = moto_url

    def cli_argv(self, cmd: str) -> list[str]:
        argv = shlex.split(cmd)[1:]
        extra = ["--endpoint-url", self.moto_url]
        if not is_high_level(argv):
            extra += ["--output", "json"]
        return argv + extra

    def run_cli_sync(self, cmds: list[str]) -> list[dict]:
        argvs = [self.cli_argv(c) for c in cmds]
        self.oracle.stdin.write(json.dumps(argvs) + "\n")
        self.oracle.stdin.flush()
        line = self.oracle.stdout.readline()
        assert line, "cli_oracle.py stopped (see the captured stderr)"
        return json.loads(line)

    async def cli(self, cmds: list[str]) -> list[dict]:
        return await anyio.to_thread.run_sync(self.run_cli_sync, cmds)

    async def mcp(self, cmds: list[str]) -> list[dict]:
        out = []
        for i in range(0, len(cmds), BATCH):
            batch = cmds[i:i + BATCH]
            r = await self.session.call_tool("aws___call_aws", {"cli_command": batch})
            assert r.structuredContent is not None, r.content[0].text
            results = r.structuredContent["results"]
            assert [x["cli_command"] for x in results] == batch
            out.extend(results)
        return out


def make_workdir(path: Path, moto_url: str):
    (path / "config").write_text("[default]\nregion = us-east-1\ncli_timestamp_format = iso8601\n")
    (path / "server-config").write_text("[default]\nregion = us-east-1\n")
    (path / "obj.txt").write_text("parity object body\n")
    (path / "stack.json").write_text(TEMPLATE)
    with zipfile.ZipFile(path / "fn.zip", "w") as z:
        # A fixed date keeps the archive's bytes (and so CodeSha256) the same on every run.
        info = zipfile.ZipInfo("lambda_function.py", date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(info, "def handler(event, context):\n    return event\n")
    items = [{"PutRequest": {"Item": {"pk": {"S": f"user#{i % 5}"}, "sk": {"N": str(i)},
                                      "score": {"N": str(i * 7 % 50)},
                                      "tags": {"SS": ["a", f"t{i}"]}}}}
             for i in range(1, 23)]
    (path / "items.json").write_text(json.dumps({"parity-table": items}))
    (path / "records.json").write_text(json.dumps({"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"{n}.parity.example.com", "Type": "A", "TTL": 300,
            "ResourceRecords": [{"Value": f"192.0.2.{i}"}]}}
        for i, n in enumerate(["www", "api", "db"], start=1)]}))
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    ms = int(now.timestamp() * 1000)
    (path / "events.json").write_text(json.dumps(
        [{"timestamp": ms + i, "message": f"line {i}"} for i in range(3)]))
    return {
        "minute": now.isoformat(),
        "start": (now - timedelta(minutes=10)).isoformat(),
        "end": (now + timedelta(minutes=10)).isoformat(),
        "queue_base": f"{moto_url}/123456789012",
    }


def fmt(cmd: str, facts: dict, **extra) -> str:
    """Fills `{fact}` placeholders; other braces (JSON, shorthand) are left alone."""
    values = {**facts, **extra}

    def fill(m):
        if m.group(1) not in values:
            raise KeyError(f"no fact {m.group(1)} for: {cmd}")
        return str(values[m.group(1)])
    return re.sub(r"\{([a-z_]+)\}", fill, cmd)


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """Starts moto_server, sets up resources, runs every case on both sides; returns the raw
    answers by case id."""
    port = free_port()
    moto_url = f"http://127.0.0.1:{port}"
    moto = Proc([str(TOOLS_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], base_env())
    workdir = tmp_path_factory.mktemp("parity-work")
    oracle = None
    try:
        wait_until(lambda: httpx.get(moto_url + "/moto-api/").status_code < 500, 30, "moto_server")
        facts = make_workdir(workdir, moto_url)
        cli_env = base_env(AWS_CONFIG_FILE=workdir / "config", AWS_SHARED_CREDENTIALS_FILE=workdir / "none",
                           TZ="UTC", AWS_PAGER="")
        # The server gets neither the CLI's config file nor TZ=UTC: its answers must not depend
        # on them (another zone here proves its times are printed in UTC).
        mcp_env = base_env(AWS_ENDPOINT_URL=moto_url, AWS_MCP_WORK_DIR=workdir, TZ="Asia/Kolkata",
                           AWS_CONFIG_FILE=workdir / "server-config",
                           AWS_SHARED_CREDENTIALS_FILE=workdir / "none", AWS_MCP_DOCS_LIVE="false")
        answers = {}
        oracle = subprocess.Popen([str(TOOLS_BIN / "python"), str(HERE / "cli_oracle.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=cli_env, cwd=workdir)

        async def body(session, init):
            both = Both(session, oracle, moto_url)
            nonlocal facts
            for stage in (SETUP_1, SETUP_2, SETUP_3):
                cmds = [fmt(c, facts) for _, c in stage]
                results = await both.cli(cmds)
                outs = {}
                for (key, _), cmd, raw in zip(stage, cmds, results):
                    assert raw["rc"] == 0, f"setup {key} failed: {cmd}\n{raw['stderr']}"
                    text = raw["stdout"].strip()
                    outs[key] = json.loads(text) if text.startswith("{") else text
                facts = facts_from(outs, facts)
            cmds = [fmt(c.cmd, facts) for c in READS]
            cli = await both.cli(cmds)
            # Outfiles of both sides have the same name: keep the CLI's apart.
            if (workdir / "got.txt").exists():
                (workdir / "got.txt").rename(workdir / "got-cli.txt")
            mcp = await both.mcp(cmds)
            for case, cmd, c, m in zip(READS, cmds, cli, mcp):
                answers[case.id] = (cmd, c, m)

            resumes = []
            for case in READS:
                if not case.resume:
                    continue
                cmd, c, _ = answers[case.id]
                token = None
                if c["rc"] == 0 and c["stdout"].strip():
                    token = json.loads(c["stdout"]).get("NextToken")
                resumes.append((case.id + "-resume", f"{cmd} --starting-token {token}" if token else None))
            todo = [(i, c) for i, c in resumes if c]
            cli = await both.cli([c for _, c in todo])
            mcp = await both.mcp([c for _, c in todo])
            for (rid, cmd), c, m in zip(todo, cli, mcp):
                answers[rid] = (cmd, c, m)
            for rid, cmd in resumes:
                answers.setdefault(rid, (None, None, None))

            for stage in WRITES:
                cli_cmds = [fmt(c.cmd, facts, n=SIDES["cli"]) for c in stage]
                mcp_cmds = [fmt(c.cmd, facts, n=SIDES["mcp"]) for c in stage]
                cli = await both.cli(cli_cmds)
                mcp = await both.mcp(mcp_cmds)
                for case, cc, mc, c, m in zip(stage, cli_cmds, mcp_cmds, cli, mcp):
                    answers[case.id] = ((cc, mc), c, m)

            cli_cmds = [fmt(c.cmd, facts, n=SIDES["cli"]) for c in READBACKS]
            mcp_cmds = [fmt(c.cmd, facts, n=SIDES["mcp"]) for c in READBACKS]
            got = await both.cli(cli_cmds + mcp_cmds)
            for case, cc, mc, c, m in zip(READBACKS, cli_cmds, mcp_cmds, got[:len(READBACKS)],
                                          got[len(READBACKS):]):
                answers[case.id] = ((cc, mc), c, m)

        with_stdio_session(AWS_MCP, ["stdio"], mcp_env, body)
        answers["_workdir"] = workdir
        yield answers
    finally:
        if oracle is not None:
            oracle.stdin.close()
            oracle.wait(timeout=30)
        moto.stop()


def show(value) -> list[str]:
    if isinstance(value, str):
        return value.splitlines()
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def compare(cmd, cli: dict, mcp: dict, expect: str):
    """Fails with both answers and their diff unless call_aws answered as the CLI did."""
    header = f"\ncommand: {cmd}\n"
    assert cli["status"] == ("success" if expect == "ok" else "error"), (
        f"{header}the CLI itself did not {'succeed' if expect == 'ok' else 'fail'} (test setup problem): {cli}")
    if cli["status"] == "success":
        assert mcp["status"] == "success", f"{header}CLI succeeded but call_aws failed: {mcp}"
        if mcp["output"] != cli["output"]:
            diff = "\n".join(difflib.unified_diff(show(cli["output"]), show(mcp["output"]),
                                                  "aws CLI", "call_aws", lineterm=""))
            pytest.fail(f"{header}outputs differ:\n{diff}", pytrace=False)
        return
    assert mcp["status"] == "error", f"{header}CLI failed ({cli['stderr']}) but call_aws succeeded: {mcp}"
    if cli["code"] is None:
        # The CLI refused the command before sending anything.
        assert mcp["kind"] == "validation", f"{header}CLI refused it:\n{cli['stderr']}\ncall_aws: {mcp}"
    else:
        assert mcp["code"] == cli["code"], f"{header}CLI: {cli['stderr']}\ncall_aws: {mcp}"


def resume_ids():
    return [c.id + "-resume" for c in READS if c.resume]


# Known divergences of call_aws from the CLI (none at present); strict, so a fix shows up.
KNOWN: dict[str, str] = {}


def params(cases):
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=KNOWN[c.id], strict=True)]
                         if c.id in KNOWN else []) for c in cases]


@pytest.mark.parametrize("case", params(READS + [ok(i, "") for i in resume_ids()]))
def test_read_matches_cli(parity, case):
    cmd, cli_raw, mcp_raw = parity[case.id]
    assert cmd is not None, "the CLI gave no NextToken to resume from"
    argv = shlex.split(cmd)[1:]
    cli = cli_view(argv, cli_raw)
    mcp = mcp_view(argv, mcp_raw)
    compare(cmd, cli, mcp, case.expect)
    if case.resume and cli["status"] == "success":
        # The resume token is also given outside the output, equal to the CLI's.
        assert mcp_raw.get("next_token") == cli["output"].get("NextToken")


def swap_names(value):
    return json.loads(json.dumps(value).replace(SIDES["mcp"], SIDES["cli"]))


@pytest.mark.parametrize("case", params([c for stage in WRITES for c in stage]))
def test_write_matches_cli(parity, case):
    (cli_cmd, mcp_cmd), cli_raw, mcp_raw = parity[case.id]
    argv = shlex.split(mcp_cmd)[1:]
    cli = cli_view(argv, cli_raw)
    mcp = swap_names(mcp_view(argv, mcp_raw))
    if case.unordered:
        for side in (cli, mcp):
            if isinstance(side.get("output"), str):
                side["output"] = "\n".join(sorted(side["output"].splitlines()))
    compare(f"{cli_cmd}\ncall_aws: {mcp_cmd}", cli, mcp, case.expect)


@pytest.mark.parametrize("case", params(READBACKS))
def test_write_effect_read_back_through_cli(parity, case):
    (cli_cmd, mcp_cmd), on_cli, on_mcp = parity[case.id]
    argv = shlex.split(cli_cmd)[1:]
    a = cli_view(argv, on_cli)
    b = swap_names(cli_view(argv, on_mcp))
    b.pop("stderr", None)
    a.pop("stderr", None)
    assert a["status"] == ("success" if case.expect == "ok" else "error"), (cli_cmd, on_cli)
    assert a == b, f"\nread of the CLI's resource: {cli_cmd}\nread of call_aws's resource: {mcp_cmd}"


def test_downloads_and_outfiles_are_written_in_the_work_dir(parity):
    work = parity["_workdir"]
    body = (work / "obj.txt").read_text()
    assert (work / f"dl-{SIDES['cli']}.txt").read_text() == body
    assert (work / f"dl-{SIDES['mcp']}.txt").read_text() == body
    assert (work / "got-cli.txt").read_text() == body
    assert (work / "got.txt").read_text() == body

