#!/usr/bin/env python3
"""Record real AWS-protocol responses from moto together with what the AWS CLI prints for them.

Starts `moto_server` on a free loopback port, creates resources in a dozen services (so lists
are not empty) and drives well over 80 operations over all five protocols with botocore,
configured exactly as the AWS CLI v1 configures it with `cli_timestamp_format = iso8601`:
timestamps become `parse_timestamp(value).isoformat()` strings and blobs stay base64 (the
parser defaults set by awscli.customizations.scalarparse). For every call the raw HTTP answer
is captured in botocore's `before-parse` event (status as received, headers, body), and the
expected value is the parsed dictionary after every botocore/CLI `after-call` handler, with
ResponseMetadata and streaming members removed and written with the CLI's own JSON encoder
(`awscli.utils.json_encoder`) -- what `aws ... --output json` prints. Errors keep the code and
message the CLI shows. A few commands are also run through the real `aws` CLI and compared with
the in-process value, so the shortcut is checked against the reference.

Writes shared/engine/tests/data/response_oracle.json.gz:
  {"source": {...}, "cases": [{"service", "operation", "params", "status", "headers": [[k, v]],
    "body_base64", "encoding_type_auto_set", "expected": {...}} or {..., "error": {"code",
    "message", "status"}}]}

Rerun: TZ=UTC python3 infra/scripts/generate_response_oracle.py
Pinned: botocore, awscli and moto as in tests/requirements-tools.txt (Python 3.11).
"""

import base64
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

from pins import pinned

os.environ["TZ"] = "UTC"
time.tzset()

PINNED = pinned("botocore", "awscli", "moto")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "tests" / "data" / "response_oracle.json.gz"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto_server did not start")


def lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


TEMPLATE = json.dumps(
    {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "oracle stack",
        "Parameters": {"Name": {"Type": "String", "Default": "oracle-topic"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}}}},
        "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}},
    }
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}
)


def plan(ctx):
    """The calls, in order: (service, operation, params or a function of ctx giving them)."""
    C = []

    def add(service, operation, params=None):
        C.append((service, operation, params if params is not None else {}))

    # ---------------------------------------------------------------- s3 (rest-xml)
    add("s3", "CreateBucket", {"Bucket": "oracle-bucket"})
    add("s3", "CreateBucket", {"Bucket": "oracle-eu", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}})
    add("s3", "PutObject", {"Bucket": "oracle-bucket", "Key": "a/one.txt", "Body": b"hello", "Metadata": {"owner": "me", "team": "x"}, "ContentType": "text/plain", "Tagging": "k1=v1&k2=v2"})
    add("s3", "PutObject", {"Bucket": "oracle-bucket", "Key": "a/two words+plus.txt", "Body": b"x" * 20, "CacheControl": "no-cache", "Expires": "Wed, 01 Dec 2027 21:13:29 GMT"})
    add("s3", "PutObject", {"Bucket": "oracle-bucket", "Key": "b/\u00e9t\u00e9.txt", "Body": b"ete"})
    add("s3", "ListBuckets")
    add("s3", "ListObjects", {"Bucket": "oracle-bucket"})
    add("s3", "ListObjects", {"Bucket": "oracle-bucket", "Delimiter": "/"})
    add("s3", "ListObjectsV2", {"Bucket": "oracle-bucket"})
    add("s3", "ListObjectsV2", {"Bucket": "oracle-bucket", "Prefix": "a/", "MaxKeys": 1})
    add("s3", "ListObjectsV2", {"Bucket": "oracle-bucket", "EncodingType": "url"})
    add("s3", "HeadObject", {"Bucket": "oracle-bucket", "Key": "a/one.txt"})
    add("s3", "HeadObject", {"Bucket": "oracle-bucket", "Key": "a/two words+plus.txt"})
    add("s3", "HeadObject", {"Bucket": "oracle-bucket", "Key": "missing"})
    add("s3", "GetObject", {"Bucket": "oracle-bucket", "Key": "a/one.txt"})
    add("s3", "GetObject", {"Bucket": "oracle-bucket", "Key": "missing"})
    add("s3", "GetBucketLocation", {"Bucket": "oracle-bucket"})
    add("s3", "GetBucketLocation", {"Bucket": "oracle-eu"})
    add("s3", "PutBucketTagging", {"Bucket": "oracle-bucket", "Tagging": {"TagSet": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "core"}]}})
    add("s3", "GetBucketTagging", {"Bucket": "oracle-bucket"})
    add("s3", "GetObjectTagging", {"Bucket": "oracle-bucket", "Key": "a/one.txt"})
    add("s3", "PutBucketVersioning", {"Bucket": "oracle-bucket", "VersioningConfiguration": {"Status": "Enabled"}})
    add("s3", "GetBucketVersioning", {"Bucket": "oracle-bucket"})
    add("s3", "PutObject", {"Bucket": "oracle-bucket", "Key": "a/one.txt", "Body": b"hello again"})
    add("s3", "ListObjectVersions", {"Bucket": "oracle-bucket"})
    add("s3", "PutBucketPolicy", {"Bucket": "oracle-bucket", "Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::oracle-bucket/*"}]})})
    add("s3", "GetBucketPolicy", {"Bucket": "oracle-bucket"})
    add("s3", "GetBucketAcl", {"Bucket": "oracle-bucket"})
    add("s3", "GetObjectAcl", {"Bucket": "oracle-bucket", "Key": "a/one.txt"})
    add("s3", "GetBucketCors", {"Bucket": "oracle-bucket"})
    add("s3", "PutBucketCors", {"Bucket": "oracle-bucket", "CORSConfiguration": {"CORSRules": [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["*"], "MaxAgeSeconds": 300}]}})
    add("s3", "GetBucketCors", {"Bucket": "oracle-bucket"})
    add("s3", "CopyObject", {"Bucket": "oracle-bucket", "Key": "c/copy.txt", "CopySource": "oracle-bucket/a/one.txt"})
    add("s3", "CreateMultipartUpload", {"Bucket": "oracle-bucket", "Key": "big.bin"})
    add("s3", "ListMultipartUploads", {"Bucket": "oracle-bucket"})
    add("s3", "DeleteObjects", {"Bucket": "oracle-bucket", "Delete": {"Objects": [{"Key": "c/copy.txt"}, {"Key": "nope"}]}})
    add("s3", "HeadBucket", {"Bucket": "oracle-bucket"})
    add("s3", "HeadBucket", {"Bucket": "no-such-bucket-oracle"})
    add("s3", "ListObjectsV2", {"Bucket": "no-such-bucket-oracle"})
    add("s3", "GetBucketEncryption", {"Bucket": "oracle-bucket"})
    add("s3", "PutBucketLifecycleConfiguration", {"Bucket": "oracle-bucket", "LifecycleConfiguration": {"Rules": [{"ID": "r1", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}]}})
    add("s3", "GetBucketLifecycleConfiguration", {"Bucket": "oracle-bucket"})
    add("s3", "DeleteObject", {"Bucket": "oracle-bucket", "Key": "b/\u00e9t\u00e9.txt"})

    # ---------------------------------------------------------------- route53 (rest-xml)
    add("route53", "CreateHostedZone", {"Name": "oracle.example.com", "CallerReference": "ref-1", "HostedZoneConfig": {"Comment": "oracle zone", "PrivateZone": False}})
    add("route53", "ListHostedZones")
    add("route53", "GetHostedZone", lambda c: {"Id": c["zone_id"]})
    add("route53", "ChangeResourceRecordSets", lambda c: {"HostedZoneId": c["zone_id"], "ChangeBatch": {"Comment": "add", "Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.oracle.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.0.1"}, {"Value": "10.0.0.2"}]}}]}})
    add("route53", "ListResourceRecordSets", lambda c: {"HostedZoneId": c["zone_id"]})
    add("route53", "ChangeTagsForResource", lambda c: {"ResourceType": "hostedzone", "ResourceId": c["zone_id"].split("/")[-1], "AddTags": [{"Key": "env", "Value": "test"}]})
    add("route53", "ListTagsForResource", lambda c: {"ResourceType": "hostedzone", "ResourceId": c["zone_id"].split("/")[-1]})
    add("route53", "GetHostedZone", {"Id": "ZNOSUCHZONE"})
    add("route53", "CreateHealthCheck", {"CallerReference": "hc-1", "HealthCheckConfig": {"Type": "HTTP", "IPAddress": "10.0.0.5", "Port": 80, "ResourcePath": "/health", "RequestInterval": 30, "FailureThreshold": 3}})
    add("route53", "ListHealthChecks")
    add("route53", "GetHostedZoneCount")

    # ---------------------------------------------------------------- dynamodb (json)
    add("dynamodb", "CreateTable", {"TableName": "oracle", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}], "BillingMode": "PAY_PER_REQUEST", "Tags": [{"Key": "env", "Value": "test"}]})
    add("dynamodb", "DescribeTable", {"TableName": "oracle"})
    add("dynamodb", "PutItem", {"TableName": "oracle", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "data": {"B": b"\x00\x01binary"}, "flag": {"BOOL": True}, "tags": {"SS": ["x", "y"]}, "n": {"NULL": True}, "m": {"M": {"inner": {"L": [{"N": "1.5"}, {"S": "s"}]}}}}})
    add("dynamodb", "PutItem", {"TableName": "oracle", "Item": {"pk": {"S": "a"}, "sk": {"N": "2"}, "v": {"S": "second"}}, "ReturnValues": "ALL_OLD"})
    add("dynamodb", "GetItem", {"TableName": "oracle", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}})
    add("dynamodb", "Query", {"TableName": "oracle", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}})
    add("dynamodb", "Scan", {"TableName": "oracle", "Limit": 1})
    add("dynamodb", "UpdateItem", {"TableName": "oracle", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}, "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "third"}}, "ReturnValues": "ALL_NEW"})
    add("dynamodb", "ListTables")
    add("dynamodb", "DescribeTimeToLive", {"TableName": "oracle"})
    add("dynamodb", "DescribeTable", {"TableName": "missing"})
    add("dynamodb", "GetItem", {"TableName": "oracle", "Key": {"pk": {"S": "a"}}})

    # ---------------------------------------------------------------- kms (json)
    add("kms", "CreateKey", {"Description": "oracle key", "Tags": [{"TagKey": "env", "TagValue": "test"}]})
    add("kms", "DescribeKey", lambda c: {"KeyId": c["key_id"]})
    add("kms", "ListKeys")
    add("kms", "Encrypt", lambda c: {"KeyId": c["key_id"], "Plaintext": b"secret data"})
    add("kms", "GenerateDataKey", lambda c: {"KeyId": c["key_id"], "KeySpec": "AES_256"})
    add("kms", "CreateAlias", lambda c: {"AliasName": "alias/oracle", "TargetKeyId": c["key_id"]})
    add("kms", "ListAliases")
    add("kms", "GetKeyPolicy", lambda c: {"KeyId": c["key_id"], "PolicyName": "default"})
    add("kms", "GetKeyRotationStatus", lambda c: {"KeyId": c["key_id"]})
    add("kms", "DescribeKey", {"KeyId": "00000000-0000-0000-0000-000000000000"})

    # ---------------------------------------------------------------- logs (json)
    add("logs", "CreateLogGroup", {"logGroupName": "/oracle/app"})
    add("logs", "CreateLogGroup", {"logGroupName": "/oracle/app"})
    add("logs", "CreateLogStream", {"logGroupName": "/oracle/app", "logStreamName": "s1"})
    add("logs", "PutLogEvents", {"logGroupName": "/oracle/app", "logStreamName": "s1", "logEvents": [{"timestamp": 1767225600000, "message": "first"}, {"timestamp": 1767225601000, "message": "second"}]})
    add("logs", "DescribeLogGroups")
    add("logs", "DescribeLogStreams", {"logGroupName": "/oracle/app"})
    add("logs", "GetLogEvents", {"logGroupName": "/oracle/app", "logStreamName": "s1"})
    add("logs", "FilterLogEvents", {"logGroupName": "/oracle/app"})

    # ---------------------------------------------------------------- secretsmanager (json)
    add("secretsmanager", "CreateSecret", {"Name": "oracle/secret", "SecretString": "s3cr3t", "Description": "d"})
    add("secretsmanager", "DescribeSecret", {"SecretId": "oracle/secret"})
    add("secretsmanager", "GetSecretValue", {"SecretId": "oracle/secret"})
    add("secretsmanager", "PutSecretValue", {"SecretId": "oracle/secret", "SecretBinary": b"\xff\x00bin"})
    add("secretsmanager", "GetSecretValue", {"SecretId": "oracle/secret"})
    add("secretsmanager", "ListSecrets")
    add("secretsmanager", "GetSecretValue", {"SecretId": "missing/secret"})

    # ---------------------------------------------------------------- ssm (json)
    add("ssm", "PutParameter", {"Name": "/oracle/p1", "Value": "v1", "Type": "String"})
    add("ssm", "PutParameter", {"Name": "/oracle/p2", "Value": "a,b", "Type": "StringList"})
    add("ssm", "GetParameter", {"Name": "/oracle/p1"})
    add("ssm", "GetParameters", {"Names": ["/oracle/p1", "/oracle/nope"]})
    add("ssm", "GetParametersByPath", {"Path": "/oracle"})
    add("ssm", "DescribeParameters")
    add("ssm", "GetParameter", {"Name": "/oracle/missing"})

    # ---------------------------------------------------------------- events (json)
    add("events", "PutRule", {"Name": "oracle-rule", "ScheduleExpression": "rate(5 minutes)", "State": "ENABLED"})
    add("events", "DescribeRule", {"Name": "oracle-rule"})
    add("events", "ListRules")
    add("events", "PutTargets", {"Rule": "oracle-rule", "Targets": [{"Id": "t1", "Arn": "arn:aws:sns:us-east-1:123456789012:oracle-topic"}]})
    add("events", "ListTargetsByRule", {"Rule": "oracle-rule"})
    add("events", "DescribeRule", {"Name": "missing-rule"})

    # ---------------------------------------------------------------- sqs (json, query compatible)
    add("sqs", "CreateQueue", {"QueueName": "oracle-q", "Attributes": {"VisibilityTimeout": "45"}})
    add("sqs", "ListQueues")
    add("sqs", "GetQueueAttributes", lambda c: {"QueueUrl": c["queue_url"], "AttributeNames": ["All"]})
    add("sqs", "SendMessage", lambda c: {"QueueUrl": c["queue_url"], "MessageBody": "hi", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "b"}}})
    add("sqs", "ReceiveMessage", lambda c: {"QueueUrl": c["queue_url"], "MessageAttributeNames": ["All"], "AttributeNames": ["All"]})
    add("sqs", "GetQueueUrl", {"QueueName": "missing-q"})

    # ---------------------------------------------------------------- cloudwatch (json since 2025)
    add("cloudwatch", "PutMetricData", {"Namespace": "Oracle", "MetricData": [{"MetricName": "m", "Value": 1.5, "Unit": "Count", "Dimensions": [{"Name": "d", "Value": "v"}]}]})
    add("cloudwatch", "ListMetrics", {"Namespace": "Oracle"})
    add("cloudwatch", "PutMetricAlarm", {"AlarmName": "oracle-alarm", "MetricName": "m", "Namespace": "Oracle", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold"})
    add("cloudwatch", "DescribeAlarms")

    # ---------------------------------------------------------------- apigateway (rest-json)
    add("apigateway", "CreateRestApi", {"name": "oracle-api", "description": "d", "tags": {"env": "test"}})
    add("apigateway", "GetRestApis")
    add("apigateway", "GetResources", lambda c: {"restApiId": c["api_id"]})
    add("apigateway", "CreateResource", lambda c: {"restApiId": c["api_id"], "parentId": c["root_id"], "pathPart": "items"})
    add("apigateway", "GetRestApi", {"restApiId": "nosuchapi"})

    # ---------------------------------------------------------------- iot (rest-json)
    add("iot", "CreateThing", {"thingName": "oracle-thing", "attributePayload": {"attributes": {"color": "red"}}})
    add("iot", "DescribeThing", {"thingName": "oracle-thing"})
    add("iot", "ListThings")
    add("iot", "DescribeThing", {"thingName": "missing-thing"})

    # ---------------------------------------------------------------- iam (query)
    add("iam", "CreateUser", {"UserName": "oracle-user", "Tags": [{"Key": "env", "Value": "test"}]})
    add("iam", "GetUser", {"UserName": "oracle-user"})
    add("iam", "ListUsers")
    add("iam", "CreateRole", {"RoleName": "oracle-role", "AssumeRolePolicyDocument": TRUST, "Description": "r"})
    add("iam", "GetRole", {"RoleName": "oracle-role"})
    add("iam", "ListRoles")
    add("iam", "PutRolePolicy", {"RoleName": "oracle-role", "PolicyName": "inline", "PolicyDocument": POLICY})
    add("iam", "GetRolePolicy", {"RoleName": "oracle-role", "PolicyName": "inline"})
    add("iam", "CreatePolicy", {"PolicyName": "oracle-policy", "PolicyDocument": POLICY})
    add("iam", "GetPolicyVersion", lambda c: {"PolicyArn": c["policy_arn"], "VersionId": "v1"})
    add("iam", "AttachRolePolicy", lambda c: {"RoleName": "oracle-role", "PolicyArn": c["policy_arn"]})
    add("iam", "ListAttachedRolePolicies", {"RoleName": "oracle-role"})
    add("iam", "CreateAccessKey", {"UserName": "oracle-user"})
    add("iam", "ListAccessKeys", {"UserName": "oracle-user"})
    add("iam", "CreateGroup", {"GroupName": "oracle-group"})
    add("iam", "AddUserToGroup", {"GroupName": "oracle-group", "UserName": "oracle-user"})
    add("iam", "GetGroup", {"GroupName": "oracle-group"})
    add("iam", "GetAccountAuthorizationDetails", {"Filter": ["Role"]})
    add("iam", "GetUser", {"UserName": "missing-user"})
    add("iam", "CreateUser", {"UserName": "oracle-user"})

    # ---------------------------------------------------------------- sts (query)
    add("sts", "GetCallerIdentity")
    add("sts", "AssumeRole", lambda c: {"RoleArn": c["role_arn"], "RoleSessionName": "oracle"})
    add("sts", "GetSessionToken", {"DurationSeconds": 900})

    # ---------------------------------------------------------------- lambda (rest-json)
    add("lambda", "CreateFunction", lambda c: {"FunctionName": "oracle-fn", "Runtime": "python3.12", "Role": c["role_arn"], "Handler": "index.handler", "Code": {"ZipFile": lambda_zip()}, "Tags": {"env": "test"}, "Environment": {"Variables": {"A": "1"}}})
    add("lambda", "GetFunction", {"FunctionName": "oracle-fn"})
    add("lambda", "GetFunctionConfiguration", {"FunctionName": "oracle-fn"})
    add("lambda", "ListFunctions")
    add("lambda", "ListTags", lambda c: {"Resource": c["function_arn"]})
    add("lambda", "PublishVersion", {"FunctionName": "oracle-fn"})
    add("lambda", "ListVersionsByFunction", {"FunctionName": "oracle-fn"})
    add("lambda", "GetFunction", {"FunctionName": "missing-fn"})
    add("lambda", "GetAccountSettings")

    # ---------------------------------------------------------------- sns (query)
    add("sns", "CreateTopic", {"Name": "oracle-topic", "Attributes": {"DisplayName": "Oracle"}, "Tags": [{"Key": "env", "Value": "test"}]})
    add("sns", "ListTopics")
    add("sns", "GetTopicAttributes", lambda c: {"TopicArn": c["topic_arn"]})
    add("sns", "Subscribe", lambda c: {"TopicArn": c["topic_arn"], "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:123456789012:oracle-q"})
    add("sns", "ListSubscriptions")
    add("sns", "Publish", lambda c: {"TopicArn": c["topic_arn"], "Message": "hello"})
    add("sns", "ListTagsForResource", lambda c: {"ResourceArn": c["topic_arn"]})
    add("sns", "GetTopicAttributes", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:missing"})

    # ---------------------------------------------------------------- cloudformation (query)
    add("cloudformation", "ValidateTemplate", {"TemplateBody": TEMPLATE})
    add("cloudformation", "CreateStack", {"StackName": "oracle-stack", "TemplateBody": TEMPLATE, "Tags": [{"Key": "env", "Value": "test"}]})
    add("cloudformation", "DescribeStacks", {"StackName": "oracle-stack"})
    add("cloudformation", "ListStacks")
    add("cloudformation", "GetTemplate", {"StackName": "oracle-stack"})
    add("cloudformation", "DescribeStackResources", {"StackName": "oracle-stack"})
    add("cloudformation", "ListStackResources", {"StackName": "oracle-stack"})
    add("cloudformation", "DescribeStacks", {"StackName": "missing-stack"})

    # ---------------------------------------------------------------- ec2 (ec2)
    add("ec2", "DescribeRegions")
    add("ec2", "DescribeAvailabilityZones")
    add("ec2", "CreateVpc", {"CidrBlock": "10.10.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "oracle"}]}]})
    add("ec2", "DescribeVpcs", lambda c: {"VpcIds": [c["vpc_id"]]})
    add("ec2", "DescribeVpcAttribute", lambda c: {"VpcId": c["vpc_id"], "Attribute": "enableDnsSupport"})
    add("ec2", "CreateSubnet", lambda c: {"VpcId": c["vpc_id"], "CidrBlock": "10.10.1.0/24"})
    add("ec2", "DescribeSubnets", lambda c: {"Filters": [{"Name": "vpc-id", "Values": [c["vpc_id"]]}]})
    add("ec2", "CreateSecurityGroup", lambda c: {"GroupName": "oracle-sg", "Description": "sg", "VpcId": c["vpc_id"]})
    add("ec2", "AuthorizeSecurityGroupIngress", lambda c: {"GroupId": c["sg_id"], "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}]}]})
    add("ec2", "DescribeSecurityGroups", lambda c: {"GroupIds": [c["sg_id"]]})
    add("ec2", "CreateKeyPair", {"KeyName": "oracle-kp"})
    add("ec2", "DescribeKeyPairs")
    add("ec2", "RunInstances", {"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
    add("ec2", "DescribeInstances", lambda c: {"InstanceIds": [c["instance_id"]]})
    add("ec2", "CreateTags", lambda c: {"Resources": [c["instance_id"]], "Tags": [{"Key": "role", "Value": "web"}]})
    add("ec2", "DescribeTags", lambda c: {"Filters": [{"Name": "resource-id", "Values": [c["instance_id"]]}]})
    add("ec2", "GetConsoleOutput", lambda c: {"InstanceId": c["instance_id"]})
    add("ec2", "DescribeInstanceStatus", {"IncludeAllInstances": True})
    add("ec2", "DescribeImages", {"ImageIds": ["ami-12c6146b"]})
    add("ec2", "DescribeInstances", {"InstanceIds": ["i-00000000000000000"]})
    add("ec2", "DescribeVpcs", {"VpcIds": ["vpc-nope"]})
    return C


def remember(ctx, service, operation, parsed):
    """Ids later calls need."""
    if service == "route53" and operation == "CreateHostedZone":
        ctx["zone_id"] = parsed["HostedZone"]["Id"]
    elif service == "kms" and operation == "CreateKey":
        ctx["key_id"] = parsed["KeyMetadata"]["KeyId"]
    elif service == "sqs" and operation == "CreateQueue":
        ctx["queue_url"] = parsed["QueueUrl"]
    elif service == "iam" and operation == "CreateRole":
        ctx["role_arn"] = parsed["Role"]["Arn"]
    elif service == "iam" and operation == "CreatePolicy":
        ctx["policy_arn"] = parsed["Policy"]["Arn"]
    elif service == "lambda" and operation == "CreateFunction":
        ctx["function_arn"] = parsed["FunctionArn"]
    elif service == "apigateway" and operation == "CreateRestApi":
        ctx["api_id"] = parsed["id"]
    elif service == "apigateway" and operation == "GetResources":
        ctx["root_id"] = parsed["items"][0]["id"]
    elif service == "sns" and operation == "CreateTopic":
        ctx["topic_arn"] = parsed["TopicArn"]
    elif service == "ec2" and operation == "CreateVpc":
        ctx["vpc_id"] = parsed["Vpc"]["VpcId"]
    elif service == "ec2" and operation == "CreateSecurityGroup":
        ctx["sg_id"] = parsed["GroupId"]
    elif service == "ec2" and operation == "RunInstances":
        ctx["instance_id"] = parsed["Instances"][0]["InstanceId"]


def jsonable(params):
    """Call parameters as JSON for the record (bytes as text or base64)."""
    def conv(v):
        if isinstance(v, bytes):
            try:
                return v.decode("utf-8")
            except UnicodeDecodeError:
                return {"__bytes_base64__": base64.b64encode(v).decode()}
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return conv(params)


def main() -> int:
    # awscli 1.46 carries its own copy of botocore and, once awscli is imported, aliases
    # `import botocore` to it. Importing the pinned botocore first keeps every generated file
    # on one set of models (the bundled ones come from this botocore).
    import botocore
    import botocore.session
    import awscli
    import moto
    from awscli.customizations.scalarparse import identity, iso_format
    from awscli.utils import json_encoder
    from botocore import handlers
    from botocore.config import Config
    from botocore.exceptions import ClientError

    versions = {"botocore": botocore.__version__, "awscli": awscli.__version__, "moto": moto.__version__}
    if versions != PINNED and "--allow-version-mismatch" not in sys.argv:
        print(f"installed {versions}, pinned {PINNED}", file=sys.stderr)
        return 2

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = start_moto(port)
    try:
        session = botocore.session.get_session()
        # The AWS CLI's scalar parsers with cli_timestamp_format = iso8601.
        factory = session.get_component("response_parser_factory")
        factory.set_parser_defaults(timestamp_parser=iso_format, blob_parser=identity)
        # The CLI's own after-call handlers that change printed values.
        from awscli.customizations.s3errormsg import enhance_error_msg
        session.register("after-call.s3", enhance_error_msg)

        raw = {}

        def capture(response_dict, **_):
            body = response_dict["body"]
            raw["status"] = response_dict["status_code"]
            raw["headers"] = [[k, v] for k, v in response_dict["headers"].items()]
            raw["body"] = body if isinstance(body, bytes) else None

        # Record before botocore's S3 handlers rewrite the status (200 errors) or drop a bad Expires.
        session.unregister("before-parse.s3.*", handlers._handle_200_error)
        session.unregister("before-parse.s3.*", handlers.handle_expires_header)

        def capture_then_check(operation_model, response_dict, **kw):
            capture(response_dict)
            if operation_model.service_model.service_name != "s3":
                return
            handlers._handle_200_error(operation_model=operation_model, response_dict=response_dict, **kw)
            handlers.handle_expires_header(operation_model=operation_model, response_dict=response_dict, **kw)

        session.get_component("event_emitter").register_first("before-parse", capture_then_check)

        config = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})
        clients = {}
        ctx = {}
        cases = []
        for service, operation, params in plan(ctx):
            if callable(params):
                try:
                    params = params(ctx)
                except KeyError as e:
                    print(f"skip {service}.{operation}: no {e}", file=sys.stderr)
                    continue
            client = clients.get(service)
            if client is None:
                client = clients[service] = session.create_client(
                    service, region_name=REGION, endpoint_url=endpoint,
                    aws_access_key_id="testing", aws_secret_access_key="testing", config=config)
            method = getattr(client, botocore.xform_name(operation))
            raw.clear()
            case = {"service": service, "operation": operation, "params": jsonable(params)}
            if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
                case["encoding_type_auto_set"] = "EncodingType" not in params
            try:
                parsed = method(**params)
                remember(ctx, service, operation, parsed)
                parsed.pop("ResponseMetadata", None)
                op_model = client.meta.service_model.operation_model(operation)
                out = op_model.output_shape
                if out is not None:
                    for name, member in out.members.items():
                        if member.serialization.get("streaming") or (
                            name == out.serialization.get("payload") and member.type_name == "blob"):
                            if hasattr(parsed.get(name), "read"):
                                parsed.pop(name)
                expected = json.loads(json.dumps(parsed, default=json_encoder, ensure_ascii=False))
                case["expected"] = expected
            except ClientError as e:
                err = e.response.get("Error", {})
                case["error"] = {"code": str(err.get("Code", "Unknown")), "message": str(err.get("Message", "Unknown")),
                                 "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), "text": str(e)}
            except Exception as e:  # noqa: BLE001 - parser failures are not cases
                print(f"skip {service}.{operation}: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            if "status" not in raw:
                print(f"skip {service}.{operation}: no response captured", file=sys.stderr)
                continue
            case["status"] = raw["status"]
            case["headers"] = raw["headers"]
            case["body_base64"] = base64.b64encode(raw["body"] or b"").decode()
            cases.append(case)

        def call(service, operation, params):
            client = clients[service]
            parsed = getattr(client, botocore.xform_name(operation))(**params)
            parsed.pop("ResponseMetadata", None)
            return json.loads(json.dumps(parsed, default=json_encoder, ensure_ascii=False))

        cli_checked = check_with_cli(endpoint, call)
        run_synthetic(session, config, raw, cases, json_encoder, ClientError)
        source = dict(versions, generator="infra/scripts/generate_response_oracle.py", tz="UTC",
                      cli_timestamp_format="iso8601", cli_cross_checked=cli_checked)
        data = json.dumps({"source": source, "cases": cases}, ensure_ascii=False, separators=(",", ":")).encode()
        OUT.write_bytes(gzip.compress(data, 9, mtime=0))
        services = sorted({c["service"] for c in cases})
        errors = sum(1 for c in cases if "error" in c)
        print(f"{len(cases)} cases ({errors} errors) over {len(services)} services: {', '.join(services)}; "
              f"{cli_checked} cross-checked with the aws CLI; {OUT.stat().st_size} bytes")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


def b64json(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


# Hand-written answers for what moto does not produce (error forms, quirks, time formats),
# fed to the same CLI-configured botocore through its `before-send` hook:
# (service, operation, params, status, headers, body).
SYNTHETIC = [
    ("lex-runtime", "PostContent", {"botName": "b", "botAlias": "a", "userId": "user-1", "contentType": "text/plain; charset=utf-8", "inputStream": b"hi"},
     200, {"Content-Type": "audio/mpeg", "x-amz-lex-slots": b64json({"size": "large", "n": 2}), "x-amz-lex-session-attributes": b64json({}),
           "x-amz-lex-intent-name": "Order", "x-amz-lex-dialog-state": "Fulfilled", "x-amz-lex-sentiment": "POSITIVE"}, b"\x00\x01audio"),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, 200,
     {"Content-Length": "3", "Expires": "not a date", "x-amz-meta-Owner": "me", "X-Amz-Meta-lower": "x", "Last-Modified": "Tue, 02 Jan 2024 03:04:05 GMT",
      "x-amz-version-id": "v1", "x-amz-delete-marker": "false", "x-amz-missing-meta": "2", "x-amz-mp-parts-count": "3"}, b"abc"),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "b/j"}, 200, {},
     b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>R1</RequestId><HostId>H1</HostId></Error>"),
    ("s3", "ListObjectsV2", {"Bucket": "b"}, 200, {},
     b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>a%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>false</IsTruncated>"
     b"<Contents><Key>a%2Fx%20y%2Bz.txt</Key><LastModified>2024-01-02T03:04:05.678Z</LastModified><ETag>&quot;e&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>"
     b"<CommonPrefixes><Prefix>a%2Fsub%C3%A9%2F</Prefix></CommonPrefixes><EncodingType>url</EncodingType></ListBucketResult>"),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, 304, {"x-amz-request-id": "R3"}, b""),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, 403, {"x-amz-request-id": "R4"}, b""),
    ("dynamodb", "DescribeTable", {"TableName": "t"}, 503, {"x-amzn-RequestId": "Q1"}, b""),
    ("dynamodb", "DescribeTable", {"TableName": "t"}, 502, {}, b"<html><body><b>Http/1.1 Bad Gateway</b></body></html>"),
    ("dynamodb", "DescribeTable", {"TableName": "t"}, 400, {"x-amzn-RequestId": "Q2"},
     b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}'),
    ("dynamodb", "DescribeTable", {"TableName": "t"}, 400, {}, b'{"__type":"ValidationException:http://internal/","Message":"capital M"}'),
    ("dynamodb", "DescribeTable", {"TableName": "t"}, 400, {}, b'not json at all'),
    ("dynamodb", "DescribeTable", {"TableName": "t"}, 200, {},
     json.dumps({"Table": {"TableName": "t", "CreationDateTime": 1700000000.5, "ItemCount": 0, "TableSizeBytes": 12,
                           "ProvisionedThroughput": {"LastIncreaseDateTime": 1700000000.123456789, "LastDecreaseDateTime": 1e9, "ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                           "ArchivalSummary": {"ArchivalDateTime": 0.000001}, "Unknown": 1, "TableStatus": None}}).encode()),
    ("sqs", "GetQueueUrl", {"QueueName": "q"}, 400, {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"},
     b'{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}'),
    ("lambda", "GetFunction", {"FunctionName": "f"}, 404, {"x-amzn-ErrorType": "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.lambda/", "x-amzn-RequestId": "L1"},
     b'{"Type":"User","message":"Function not found"}'),
    ("apigateway", "GetRestApi", {"restApiId": "a"}, 429, {}, b'{"code":"TooManyRequestsException","message":"slow down"}'),
    ("lambda", "GetAccountSettings", {}, 200, {},
     b'{"AccountLimit":{"TotalCodeSize":80530636800,"CodeSizeUnzipped":262144000.0,"ConcurrentExecutions":"1000","UnreservedConcurrentExecutions":999},"AccountUsage":{"TotalCodeSize":0,"FunctionCount":3}}'),
    ("ec2", "DescribeInstances", {}, 200, {},
     b"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>E1</requestId><reservationSet><item><reservationId>r-1</reservationId><ownerId>1</ownerId><groupSet/>"
     b"<instancesSet><item><instanceId>i-1</instanceId><launchTime>2024-01-02T03:04:05.123456789Z</launchTime><ebsOptimized>false</ebsOptimized><amiLaunchIndex>0</amiLaunchIndex>"
     b"<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-1</volumeId><attachTime>2024-01-02T08:34:05+05:30</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>"
     b"<tagSet><item><key>Name</key><value>web &amp; api</value></item><item><key>empty</key><value/></item></tagSet><cpuOptions><coreCount>2</coreCount></cpuOptions>"
     b"<usageOperationUpdateTime>2024-01-02T03:04:05</usageOperationUpdateTime></item></instancesSet></item></reservationSet></DescribeInstancesResponse>"),
    ("ec2", "DescribeInstances", {}, 400, {},
     b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>E2</RequestID></Response>"),
    ("iam", "GetUser", {}, 400, {},
     b"<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message/></Error><RequestId>I1</RequestId></ErrorResponse>"),
    ("iam", "GetAccountSummary", {}, 200, {},
     b"<GetAccountSummaryResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetAccountSummaryResult><SummaryMap>"
     b"<entry><key>Users</key><value>3</value></entry><entry><key>Groups</key><value>0</value></entry></SummaryMap></GetAccountSummaryResult>"
     b"<ResponseMetadata><RequestId>I2</RequestId></ResponseMetadata></GetAccountSummaryResponse>"),
    ("route53", "GetHostedZone", {"Id": "Z1"}, 400, {},
     b"<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>InvalidInput</Code></Error><RequestId>R5</RequestId></ErrorResponse>"),
    ("route53", "GetHostedZone", {"Id": "Z1"}, 400, {}, b"<oops"),
    ("sts", "GetCallerIdentity", {}, 200, {},
     b"<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/x</Arn><UserId>AID</UserId><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"),
    ("cloudformation", "GetTemplate", {"StackName": "s"}, 200, {},
     b"<GetTemplateResponse><GetTemplateResult><TemplateBody>Resources:\n  T:\n    Type: AWS::SNS::Topic\n</TemplateBody></GetTemplateResult></GetTemplateResponse>"),
]


class FakeRaw:
    """Enough of urllib3's response for botocore to read a canned body."""

    def __init__(self, body: bytes):
        self._body = io.BytesIO(body)

    def stream(self, *args, **kwargs):
        yield self._body.read()

    def read(self, *args, **kwargs):
        return self._body.read(*args)


def run_synthetic(session, config, raw, cases, json_encoder, ClientError):
    from botocore.awsrequest import AWSResponse, HeadersDict

    canned = {}

    def answer(request, **_):
        status, headers, body = canned["next"]
        return AWSResponse(request.url, status, HeadersDict(headers), FakeRaw(body))

    session.register("before-send", answer)
    clients = {}
    try:
        for service, operation, params, status, headers, body in SYNTHETIC:
            client = clients.get(service)
            if client is None:
                client = clients[service] = session.create_client(
                    service, region_name=REGION, endpoint_url="https://example.invalid",
                    aws_access_key_id="testing", aws_secret_access_key="testing", config=config)
            canned["next"] = (status, headers, body)
            raw.clear()
            case = {"service": service, "operation": operation, "params": jsonable(params), "synthetic": True}
            if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
                case["encoding_type_auto_set"] = "EncodingType" not in params
            try:
                parsed = getattr(client, __import__("botocore").xform_name(operation))(**params)
                parsed.pop("ResponseMetadata", None)
                for name in list(parsed):
                    if hasattr(parsed[name], "read"):
                        parsed.pop(name)
                case["expected"] = json.loads(json.dumps(parsed, default=json_encoder, ensure_ascii=False))
            except ClientError as e:
                err = e.response.get("Error", {})
                case["error"] = {"code": str(err.get("Code", "Unknown")), "message": str(err.get("Message", "Unknown")),
                                 "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), "text": str(e)}
            except Exception as e:  # noqa: BLE001 - botocore itself fails on these
                if os.environ.get("ORACLE_DEBUG"):
                    import traceback
                    traceback.print_exc(limit=-8)
                print(f"skip synthetic {service}.{operation}: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            case["status"] = raw["status"]
            case["headers"] = raw["headers"]
            case["body_base64"] = base64.b64encode(raw["body"] or body).decode()
            cases.append(case)
    finally:
        session.unregister("before-send", answer)


CLI_CHECKS = [
    (["s3api", "list-objects-v2", "--bucket", "oracle-bucket", "--no-paginate"], "s3", "ListObjectsV2", {"Bucket": "oracle-bucket"}),
    (["s3api", "get-bucket-tagging", "--bucket", "oracle-bucket"], "s3", "GetBucketTagging", {"Bucket": "oracle-bucket"}),
    (["s3api", "head-object", "--bucket", "oracle-bucket", "--key", "a/two words+plus.txt"], "s3", "HeadObject", {"Bucket": "oracle-bucket", "Key": "a/two words+plus.txt"}),
    (["dynamodb", "describe-table", "--table-name", "oracle"], "dynamodb", "DescribeTable", {"TableName": "oracle"}),
    (["dynamodb", "get-item", "--table-name", "oracle", "--key", '{"pk": {"S": "a"}, "sk": {"N": "1"}}'], "dynamodb", "GetItem", {"TableName": "oracle", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    (["secretsmanager", "describe-secret", "--secret-id", "oracle/secret"], "secretsmanager", "DescribeSecret", {"SecretId": "oracle/secret"}),
    (["iam", "get-role", "--role-name", "oracle-role"], "iam", "GetRole", {"RoleName": "oracle-role"}),
    (["iam", "get-role-policy", "--role-name", "oracle-role", "--policy-name", "inline"], "iam", "GetRolePolicy", {"RoleName": "oracle-role", "PolicyName": "inline"}),
    (["sts", "get-caller-identity"], "sts", "GetCallerIdentity", {}),
    (["lambda", "get-function-configuration", "--function-name", "oracle-fn"], "lambda", "GetFunctionConfiguration", {"FunctionName": "oracle-fn"}),
    (["ec2", "describe-key-pairs"], "ec2", "DescribeKeyPairs", {}),
    (["cloudformation", "get-template", "--stack-name", "oracle-stack"], "cloudformation", "GetTemplate", {"StackName": "oracle-stack"}),
    (["sns", "get-topic-attributes", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:oracle-topic"], "sns", "GetTopicAttributes", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:oracle-topic"}),
]


def check_with_cli(endpoint, call):
    """Runs a few commands through the real AWS CLI and checks that it prints what the
    in-process botocore (configured as the CLI) gives for the same call made right after."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config"
        cfg.write_text("[default]\nregion = us-east-1\noutput = json\ncli_timestamp_format = iso8601\n")
        env = dict(os.environ, AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(Path(tmp) / "none"),
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", TZ="UTC")
        env.pop("AWS_PROFILE", None)
        checked = 0
        for argv, service, operation, params in CLI_CHECKS:
            out = subprocess.run(["aws", *argv, "--endpoint-url", endpoint], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"aws {' '.join(argv)} failed: {out.stderr}")
            printed = json.loads(out.stdout) if out.stdout.strip() else {}
            expected = call(service, operation, params)
            # Volatile values (moto regenerates some ids and times per call) are compared by form.
            if not same_shape(printed, expected):
                raise SystemExit(f"aws {' '.join(argv)} printed\n{out.stdout}\nbut the in-process value is\n"
                                 f"{json.dumps(expected, indent=2)}")
            checked += 1
        return checked


def same_shape(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_shape(a[k], b[k], f"{path}.{k}") for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_shape(x, y, path) for x, y in zip(a, b))
    if type(a) is not type(b):
        print(f"type differs at {path}: {a!r} vs {b!r}", file=sys.stderr)
        return False
    if isinstance(a, str) and a != b:
        # Same time format (same length and punctuation) when the value itself moved.
        ok = len(a) == len(b) and [c for c in a if not c.isalnum()] == [c for c in b if not c.isalnum()]
        if not ok:
            print(f"value differs at {path}: {a!r} vs {b!r}", file=sys.stderr)
        return ok
    return True


if __name__ == "__main__":
    sys.exit(main())
