//! The call policy: read-only classification of well-known operations, pattern matching in
//! both spellings, the order of the checks, and configuration from a file and the environment.

use std::collections::HashMap;

use aws_engine::policy::{
    CommandPattern, Decision, GateCall, PatternError, Policy, PolicyError, is_credential_issuing,
    is_read_only, is_secret_read, read_only_counts, side_effect_reads, side_effect_reason,
};
use aws_engine::run::is_read_only_command;
use serde_json::{Map, Value, json};

fn call<'a>(cli: &'a str, cli_op: &'a str, service: &'a str, op: &'a str) -> GateCall<'a> {
    GateCall {
        cli_service: cli,
        cli_operation: cli_op,
        service,
        operation: op,
        region: "us-east-1",
        params: None,
    }
}

fn pattern(text: &str) -> CommandPattern {
    CommandPattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[test]
fn well_known_operations_are_classified() {
    let read = [
        ("s3", "ListBuckets"),
        ("s3", "GetObject"),
        ("s3", "HeadObject"),
        ("s3", "ListObjectsV2"),
        ("ec2", "DescribeVpcs"),
        ("ec2", "DescribeInstances"),
        ("sts", "GetCallerIdentity"),
        ("dynamodb", "Scan"),
        ("dynamodb", "Query"),
        ("dynamodb", "GetItem"),
        ("iam", "ListRoles"),
        ("iam", "GetRole"),
        ("lambda", "ListFunctions"),
        ("logs", "FilterLogEvents"),
        ("cloudwatch", "GetMetricData"),
        ("cloudformation", "DescribeStacks"),
        ("apigateway", "GetRestApis"),
        // Reading a stored secret is Read in IAM and stays allowed (documented).
        ("secretsmanager", "GetSecretValue"),
        ("ssm", "GetParameter"),
    ];
    for (s, op) in read {
        assert!(is_read_only(s, op), "{s} {op} should be read-only");
    }
    let not_read = [
        ("s3", "PutObject"),
        ("s3", "DeleteObject"),
        ("s3", "DeleteBucket"),
        ("s3", "CreateBucket"),
        ("ec2", "RunInstances"),
        ("ec2", "TerminateInstances"),
        ("ec2", "CreateTags"),
        ("dynamodb", "PutItem"),
        ("iam", "CreateAccessKey"),
        ("iam", "AttachRolePolicy"),
        ("iam", "TagRole"),
        ("lambda", "Invoke"),
        ("lambda", "UpdateFunctionCode"),
        ("sqs", "ReceiveMessage"),
        ("stepfunctions", "GetActivityTask"),
        ("apigateway", "DeleteRestApi"),
        // Unknown names are never read-only.
        ("s3", "NoSuchOperation"),
        ("no-such-service", "ListThings"),
    ];
    for (s, op) in not_read {
        assert!(!is_read_only(s, op), "{s} {op} should not be read-only");
    }
}

#[test]
fn credential_issuing_calls_are_never_read_only() {
    let issuing = [
        ("sts", "AssumeRole"),
        ("sts", "AssumeRoleWithWebIdentity"),
        ("sts", "AssumeRoleWithSAML"),
        ("sts", "GetSessionToken"),
        ("sts", "GetFederationToken"),
        ("iam", "CreateAccessKey"),
        ("sso", "GetRoleCredentials"),
        ("cognito-identity", "GetCredentialsForIdentity"),
        ("cognito-identity", "GetOpenIdToken"),
        ("cognito-identity", "GetOpenIdTokenForDeveloperIdentity"),
        ("ecr", "GetAuthorizationToken"),
        ("ecr-public", "GetAuthorizationToken"),
        ("codeartifact", "GetAuthorizationToken"),
        ("eks-auth", "AssumeRoleForPodIdentity"),
        ("redshift", "GetClusterCredentials"),
        ("lakeformation", "GetTemporaryGlueTableCredentials"),
        ("s3control", "GetDataAccess"),
        ("deadline", "AssumeQueueRoleForUser"),
    ];
    for (s, op) in issuing {
        assert!(!is_read_only(s, op), "{s} {op} issues credentials");
        assert!(is_credential_issuing(s, op), "{s} {op} should be listed");
    }
    // The list does not swallow ordinary reads.
    assert!(!is_credential_issuing("sts", "GetCallerIdentity"));
    assert!(!is_credential_issuing("secretsmanager", "GetSecretValue"));
}

#[test]
fn counts_cover_the_models() {
    let (read_only, total) = read_only_counts();
    // Every operation of the bundled botocore 1.44.8 models (docs/policy.md, Coverage).
    assert_eq!(total, 20_027);
    assert!((7_000..9_000).contains(&read_only), "{read_only}");
}

#[test]
fn patterns_match_the_cli_and_the_api_spelling() {
    let rm = call("s3", "rm", "s3", "DeleteObject");
    let delete_object = call("s3api", "delete-object", "s3", "DeleteObject");
    let get_object = call("s3api", "get-object", "s3", "GetObject");

    // API spelling: the s3api pattern covers the high-level command that calls DeleteObject.
    let p = pattern("aws s3api delete-*");
    assert!(p.matches(&rm));
    assert!(p.matches(&delete_object));
    assert!(!p.matches(&get_object));

    // The high-level spelling covers only the high-level command.
    let p = pattern("aws s3 rm");
    assert!(p.matches(&rm));
    assert!(!p.matches(&delete_object));

    // `s3` with an API operation name is the s3api command.
    let p = pattern("s3 delete-object");
    assert!(p.matches(&delete_object));
    assert!(p.matches(&rm));
    assert!(!p.matches(&get_object));

    let p = pattern("aws s3 *");
    assert!(p.matches(&get_object) && p.matches(&rm));
    assert!(!p.matches(&call("s3control", "list-jobs", "s3control", "ListJobs")));

    // Wildcards in the service word, case-insensitive patterns and calls.
    let p = pattern("AWS * Delete-*");
    assert!(p.matches(&rm));
    assert!(p.matches(&call("ec2", "delete-vpc", "ec2", "DeleteVpc")));
    assert!(!p.matches(&call("ec2", "describe-vpcs", "ec2", "DescribeVpcs")));
    assert!(p.matches(&call("EC2", "DELETE-VPC", "ec2", "DeleteVpc")));

    // A whole service, and renamed services by either name.
    let p = pattern("aws iam *");
    assert!(p.matches(&call("iam", "list-roles", "iam", "ListRoles")));
    assert!(!p.matches(&call(
        "sts",
        "get-caller-identity",
        "sts",
        "GetCallerIdentity"
    )));
    let put_rule = call(
        "configservice",
        "put-config-rule",
        "config",
        "PutConfigRule",
    );
    assert!(pattern("aws configservice put-*").matches(&put_rule));
    assert!(pattern("aws config put-*").matches(&put_rule));

    // A call without a CLI spelling (from a script) still matches by its API spelling.
    let scripted = call("", "", "dynamodb", "DeleteTable");
    assert!(pattern("aws dynamodb delete-table").matches(&scripted));
    assert!(!pattern("aws dynamodb put-*").matches(&scripted));
}

#[test]
fn invalid_patterns_are_rejected_with_reasons() {
    assert_eq!(CommandPattern::parse("  "), Err(PatternError::Empty));
    assert_eq!(CommandPattern::parse("aws"), Err(PatternError::Empty));
    let e = CommandPattern::parse("aws s3 rm --recursive").unwrap_err();
    assert!(matches!(e, PatternError::TooManyWords(_)));
    assert!(e.to_string().contains("more than two words"), "{e}");
    let e = CommandPattern::parse("aws s3api delete_object").unwrap_err();
    assert!(e.to_string().contains("`_`"), "{e}");
    let e = CommandPattern::parse("aws ec22 describe-vpcs").unwrap_err();
    assert!(
        e.to_string().contains("did you mean `ec2`"),
        "unknown service should suggest the right one: {e}"
    );
}

#[test]
fn deny_list_wins_then_read_only_then_consent() {
    let rm = call("s3", "rm", "s3", "DeleteObject");
    let ls = call("s3", "ls", "s3", "ListObjectsV2");
    let put = call("s3api", "put-object", "s3", "PutObject");
    let describe = call("ec2", "describe-vpcs", "ec2", "DescribeVpcs");

    assert_eq!(Policy::default().check(&rm), Decision::Allow);

    let policy = Policy {
        read_only: true,
        deny: vec![pattern("aws s3 ls")],
        consent: vec![pattern("aws s3api *"), pattern("aws ec2 describe-*")],
        require_mutation_consent: true,
        secret_read_consent: false,
    };
    // Deny first, even for a read.
    let Decision::Deny(why) = policy.check(&ls) else {
        panic!("s3 ls is on the deny list")
    };
    assert!(why.contains("deny pattern `aws s3 ls`"), "{why}");
    // Read-only mode next: a write is refused, not sent for consent.
    let Decision::Deny(why) = policy.check(&put) else {
        panic!("read-only mode refuses PutObject")
    };
    assert!(why.contains("read-only"), "{why}");
    assert!(why.contains("AWS_MCP_READ_ONLY=false"), "{why}");
    // A read on the consent list still needs consent.
    let Decision::NeedsConsent(why) = policy.check(&describe) else {
        panic!("ec2 describe-* is on the consent list")
    };
    assert!(why.contains("aws ec2 describe-*"), "{why}");

    // Read-only mode names credential-issuing calls as such.
    let Decision::Deny(why) = policy.check(&call("sts", "assume-role", "sts", "AssumeRole")) else {
        panic!("AssumeRole is never read-only")
    };
    assert!(why.contains("issues credentials"), "{why}");

    // Without read-only mode: require-mutation-consent asks for writes, not for reads.
    let policy = Policy {
        require_mutation_consent: true,
        ..Policy::default()
    };
    assert!(matches!(policy.check(&rm), Decision::NeedsConsent(_)));
    assert!(matches!(policy.check(&put), Decision::NeedsConsent(_)));
    assert_eq!(policy.check(&ls), Decision::Allow);
    assert_eq!(policy.check(&describe), Decision::Allow);
    assert!(!policy.is_read_only_mode());
}

#[test]
fn environment_alone() {
    let policy = Policy::from_env(&env_of(&[
        ("AWS_MCP_READ_ONLY", "TRUE"),
        ("AWS_MCP_DENY", "aws iam *, s3api delete-*"),
        ("AWS_MCP_CONSENT", "aws ec2 describe-instances"),
        ("AWS_MCP_REQUIRE_MUTATION_CONSENT", " "),
    ]))
    .unwrap();
    assert!(policy.is_read_only_mode());
    assert!(!policy.require_mutation_consent);
    let deny: Vec<String> = policy.deny.iter().map(ToString::to_string).collect();
    assert_eq!(deny, ["aws iam *", "aws s3api delete-*"]);
    assert_eq!(policy.consent.len(), 1);

    assert_eq!(
        policy.to_string(),
        "read-only: yes, mutation consent: no, secret-read consent: no, \
         deny: [aws iam *, aws s3api delete-*], consent: [aws ec2 describe-instances]"
    );

    let policy = Policy::from_env(&env_of(&[])).unwrap();
    assert!(!policy.read_only && policy.deny.is_empty() && policy.consent.is_empty());
}

#[test]
fn file_then_environment_overrides_and_adds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(
        &path,
        r#"{"readOnly": true, "requireMutationConsent": true,
            "denyList": ["aws iam delete-*"], "consentList": ["aws s3 rm"]}"#,
    )
    .unwrap();
    let file = path.to_str().unwrap();

    let policy = Policy::from_env(&env_of(&[("AWS_MCP_POLICY_FILE", file)])).unwrap();
    assert!(policy.read_only && policy.require_mutation_consent);
    assert_eq!(policy.deny, vec![pattern("aws iam delete-*")]);
    assert_eq!(policy.consent, vec![pattern("aws s3 rm")]);

    // Booleans from the environment override the file; lists add to it.
    let policy = Policy::from_env(&env_of(&[
        ("AWS_MCP_POLICY_FILE", file),
        ("AWS_MCP_READ_ONLY", "false"),
        ("AWS_MCP_REQUIRE_MUTATION_CONSENT", "0"),
        ("AWS_MCP_DENY", "aws organizations *"),
        ("AWS_MCP_CONSENT", "aws ec2 terminate-instances"),
    ]))
    .unwrap();
    assert!(!policy.read_only && !policy.require_mutation_consent);
    assert_eq!(
        policy.deny,
        vec![pattern("aws iam delete-*"), pattern("aws organizations *")]
    );
    assert_eq!(
        policy.consent,
        vec![pattern("aws s3 rm"), pattern("aws ec2 terminate-instances")]
    );
    assert!(matches!(
        policy.check(&call("iam", "delete-role", "iam", "DeleteRole")),
        Decision::Deny(_)
    ));
    assert_eq!(
        policy.check(&call("iam", "create-role", "iam", "CreateRole")),
        Decision::Allow
    );
}

fn file_error(contents: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, contents).unwrap();
    let err =
        Policy::from_env(&env_of(&[("AWS_MCP_POLICY_FILE", path.to_str().unwrap())])).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("AWS_MCP_POLICY_FILE") && message.contains("bad.json"),
        "the error names the setting and the file: {message}"
    );
    message
}

#[test]
fn file_errors_name_the_file_the_field_and_what_is_valid() {
    let m = file_error(r#"{"readOnly": "yes"}"#);
    assert!(
        m.contains("readOnly") && m.contains("expected true or false") && m.contains("a string"),
        "{m}"
    );
    let m = file_error(r#"{"denyList": "aws iam *"}"#);
    assert!(
        m.contains("denyList") && m.contains("array of patterns"),
        "{m}"
    );
    let m = file_error(r#"{"denyList": ["aws iam *", "aws s3 rm -r x"]}"#);
    assert!(
        m.contains("denyList[1]") && m.contains("more than two words"),
        "{m}"
    );
    let m = file_error(r#"{"consentList": [42]}"#);
    assert!(
        m.contains("consentList[0]") && m.contains("a number"),
        "{m}"
    );
    let m = file_error(r#"{"readonly": true}"#);
    assert!(
        m.contains("readonly") && m.contains("unknown field") && m.contains("readOnly"),
        "{m}"
    );
    let m = file_error(r#"["aws iam *"]"#);
    assert!(m.contains("expected a JSON object"), "{m}");
    let m = file_error(r#"{"readOnly": true,"#);
    assert!(m.contains("not valid JSON") && m.contains("line"), "{m}");

    let err = Policy::from_env(&env_of(&[(
        "AWS_MCP_POLICY_FILE",
        "/nonexistent/policy.json",
    )]))
    .unwrap_err();
    assert!(matches!(err, PolicyError::ReadFile { .. }));
    assert!(
        err.to_string().contains("/nonexistent/policy.json"),
        "{err}"
    );
}

#[test]
fn environment_errors_name_the_variable() {
    let err = Policy::from_env(&env_of(&[("AWS_MCP_READ_ONLY", "maybe")])).unwrap_err();
    let m = err.to_string();
    assert!(
        m.starts_with("AWS_MCP_READ_ONLY:") && m.contains("`maybe`") && m.contains("true or false"),
        "{m}"
    );
    let err = Policy::from_env(&env_of(&[("AWS_MCP_DENY", "aws iam *,,aws s3 rm")])).unwrap_err();
    let m = err.to_string();
    assert!(
        m.starts_with("AWS_MCP_DENY:") && m.contains("item 2") && m.contains("empty"),
        "{m}"
    );
    let err =
        Policy::from_env(&env_of(&[("AWS_MCP_CONSENT", "aws s3api put_object")])).unwrap_err();
    assert!(err.to_string().starts_with("AWS_MCP_CONSENT:"), "{err}");
}

/// One operation of each class on the reviewed side-effect list: the reason the read-only
/// refusal gives.
const SIDE_EFFECT_CLASSES: [(&str, &str, &str, &str, &str); 9] = [
    (
        "bedrock-agent-runtime",
        "invoke-agent",
        "bedrock-agent-runtime",
        "InvokeAgent",
        "runs an agent",
    ),
    (
        "bedrock-runtime",
        "invoke-model",
        "bedrock-runtime",
        "InvokeModel",
        "foundation model",
    ),
    (
        "sagemaker-runtime",
        "invoke-endpoint",
        "sagemaker-runtime",
        "InvokeEndpoint",
        "model container",
    ),
    (
        "configservice",
        "deliver-config-snapshot",
        "config",
        "DeliverConfigSnapshot",
        "S3 bucket",
    ),
    (
        "logs",
        "start-query",
        "logs",
        "StartQuery",
        "starts a Logs Insights query",
    ),
    (
        "logs",
        "stop-query",
        "logs",
        "StopQuery",
        "stops a running query",
    ),
    (
        "comprehend",
        "detect-sentiment",
        "comprehend",
        "DetectSentiment",
        "billed per call",
    ),
    (
        "iot",
        "test-invoke-authorizer",
        "iot",
        "TestInvokeAuthorizer",
        "Lambda function",
    ),
    (
        "cloudformation",
        "detect-stack-drift",
        "cloudformation",
        "DetectStackDrift",
        "drift status",
    ),
];

#[test]
fn side_effect_reads_are_refused_in_read_only_mode_with_their_reason() {
    let policy = Policy {
        read_only: true,
        ..Policy::default()
    };
    for (cli, cli_op, service, op, reason) in SIDE_EFFECT_CLASSES {
        assert!(!is_read_only(service, op), "{service} {op}");
        let listed = side_effect_reason(service, op).unwrap_or_else(|| panic!("{service} {op}"));
        assert!(listed.contains(reason), "{service} {op}: {listed}");
        let Decision::Deny(why) = policy.check(&call(cli, cli_op, service, op)) else {
            panic!("read-only mode refuses {service} {op}")
        };
        assert!(
            why.contains("has side effects despite being a read in IAM: ") && why.contains(listed),
            "{why}"
        );
        // Outside read-only mode they run, but mutation consent covers them.
        assert_eq!(
            Policy::default().check(&call(cli, cli_op, service, op)),
            Decision::Allow
        );
        let consent = Policy {
            require_mutation_consent: true,
            ..Policy::default()
        };
        assert!(matches!(
            consent.check(&call(cli, cli_op, service, op)),
            Decision::NeedsConsent(_)
        ));
    }
    // Their neighbours that only read stay allowed.
    for (cli, cli_op, service, op) in [
        ("logs", "get-query-results", "logs", "GetQueryResults"),
        ("logs", "filter-log-events", "logs", "FilterLogEvents"),
        (
            "bedrock-agent-runtime",
            "get-agent-memory",
            "bedrock-agent-runtime",
            "GetAgentMemory",
        ),
        (
            "configservice",
            "select-resource-config",
            "config",
            "SelectResourceConfig",
        ),
        (
            "iam",
            "simulate-principal-policy",
            "iam",
            "SimulatePrincipalPolicy",
        ),
    ] {
        assert!(side_effect_reason(service, op).is_none(), "{service} {op}");
        assert_eq!(
            policy.check(&call(cli, cli_op, service, op)),
            Decision::Allow
        );
    }
    let all = side_effect_reads();
    assert!(all.len() >= 100, "{}", all.len());
    assert!(all.iter().all(|(s, o, _)| !is_read_only(s, o)));
}

/// `is_read_only_command` (tool annotations, safe re-runs) uses the same classification.
/// (The CLI has no `invoke-agent`: its event-stream answer is for scripts only.)
#[test]
fn command_classification_agrees_with_the_side_effect_list() {
    for line in [
        "aws logs start-query --log-group-name g --start-time 1 --end-time 2 --query-string 'fields @message'",
        "aws bedrock-runtime invoke-model --model-id m --body '{}' out.json",
        "aws sagemaker-runtime invoke-endpoint --endpoint-name e --body 'x' out.json",
        "aws configservice deliver-config-snapshot --delivery-channel-name default",
        "aws comprehend detect-sentiment --text hi --language-code en",
    ] {
        assert!(!is_read_only_command(line), "{line}");
    }
    for line in [
        "aws logs get-query-results --query-id q",
        "aws configservice describe-delivery-channels",
        "aws secretsmanager get-secret-value --secret-id s",
    ] {
        assert!(is_read_only_command(line), "{line}");
    }
}

fn params(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => panic!("an object"),
    }
}

#[test]
fn secret_reads_depend_on_the_parameters() {
    let decrypt = params(json!({"Name": "/db/password", "WithDecryption": true}));
    let plain = params(json!({"Name": "/db/password", "WithDecryption": false}));
    let unset = params(json!({"Name": "/db/password"}));
    assert!(is_secret_read("ssm", "GetParameter", Some(&decrypt)));
    assert!(!is_secret_read("ssm", "GetParameter", Some(&plain)));
    assert!(!is_secret_read("ssm", "GetParameter", Some(&unset)));
    assert!(is_secret_read("ssm", "GetParametersByPath", Some(&decrypt)));
    // Unknown input counts as a secret read.
    assert!(is_secret_read("ssm", "GetParameters", None));
    assert!(is_secret_read(
        "secretsmanager",
        "GetSecretValue",
        Some(&unset)
    ));
    assert!(is_secret_read(
        "secretsmanager",
        "BatchGetSecretValue",
        None
    ));
    assert!(is_secret_read("kms", "Decrypt", None));
    let with_value = params(json!({"apiKey": "k", "includeValue": true}));
    assert!(is_secret_read("apigateway", "GetApiKey", Some(&with_value)));
    assert!(!is_secret_read(
        "apigateway",
        "GetApiKey",
        Some(&params(json!({"apiKey": "k"})))
    ));
    // New key material and metadata are not stored secrets.
    assert!(!is_secret_read("kms", "GenerateDataKey", None));
    assert!(!is_secret_read("secretsmanager", "DescribeSecret", None));
    assert!(!is_secret_read("ssm", "DescribeParameters", None));
}

fn secret_call<'a>(op: &'a str, api: &'a str, p: &'a Map<String, Value>) -> GateCall<'a> {
    GateCall {
        cli_service: "ssm",
        cli_operation: op,
        service: "ssm",
        operation: api,
        region: "us-east-1",
        params: Some(p),
    }
}

#[test]
fn secret_reads_need_consent_by_default_when_deployed_only() {
    let get_secret = call(
        "secretsmanager",
        "get-secret-value",
        "secretsmanager",
        "GetSecretValue",
    );
    let decrypt = params(json!({"Name": "/db/password", "WithDecryption": true}));
    let plain = params(json!({"Name": "/db/password", "WithDecryption": false}));

    let deployed = Policy::from_env_in(&env_of(&[]), true).unwrap();
    assert!(deployed.secret_read_consent);
    let Decision::NeedsConsent(why) = deployed.check(&get_secret) else {
        panic!("the deployed server asks before revealing a secret")
    };
    assert!(
        why.contains("secret value") && why.contains("AWS_MCP_SECRET_READ_CONSENT=false"),
        "{why}"
    );
    assert!(matches!(
        deployed.check(&secret_call("get-parameter", "GetParameter", &decrypt)),
        Decision::NeedsConsent(_)
    ));
    assert!(matches!(
        deployed.check(&call("kms", "decrypt", "kms", "Decrypt")),
        Decision::NeedsConsent(_)
    ));
    assert_eq!(
        deployed.check(&secret_call("get-parameter", "GetParameter", &plain)),
        Decision::Allow
    );
    assert_eq!(
        deployed.check(&call(
            "secretsmanager",
            "list-secrets",
            "secretsmanager",
            "ListSecrets"
        )),
        Decision::Allow
    );
    // Read-only mode allows the read itself; consent is still asked.
    let deployed_read_only =
        Policy::from_env_in(&env_of(&[("AWS_MCP_READ_ONLY", "true")]), true).unwrap();
    assert!(matches!(
        deployed_read_only.check(&get_secret),
        Decision::NeedsConsent(_)
    ));
    // The deny list still comes first.
    let denied = Policy::from_env_in(
        &env_of(&[("AWS_MCP_DENY", "aws secretsmanager get-secret-value")]),
        true,
    )
    .unwrap();
    assert!(matches!(denied.check(&get_secret), Decision::Deny(_)));

    // On the user's machine: no consent by default.
    let local = Policy::from_env(&env_of(&[])).unwrap();
    assert!(!local.secret_read_consent);
    assert_eq!(local.check(&get_secret), Decision::Allow);
    assert_eq!(
        Policy::from_env_in(&env_of(&[]), false)
            .unwrap()
            .check(&get_secret),
        Decision::Allow
    );

    // The setting overrides the default either way.
    let off =
        Policy::from_env_in(&env_of(&[("AWS_MCP_SECRET_READ_CONSENT", "false")]), true).unwrap();
    assert_eq!(off.check(&get_secret), Decision::Allow);
    let on = Policy::from_env(&env_of(&[("AWS_MCP_SECRET_READ_CONSENT", "yes")])).unwrap();
    assert!(matches!(on.check(&get_secret), Decision::NeedsConsent(_)));
    assert!(on.to_string().contains("secret-read consent: yes"), "{on}");
    let err =
        Policy::from_env(&env_of(&[("AWS_MCP_SECRET_READ_CONSENT", "sometimes")])).unwrap_err();
    assert!(
        err.to_string().starts_with("AWS_MCP_SECRET_READ_CONSENT:"),
        "{err}"
    );
}

#[test]
fn secret_read_consent_from_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, r#"{"secretReadConsent": false}"#).unwrap();
    let file = path.to_str().unwrap();
    // The file turns the deployed default off; the variable beats the file.
    let policy = Policy::from_env_in(&env_of(&[("AWS_MCP_POLICY_FILE", file)]), true).unwrap();
    assert!(!policy.secret_read_consent);
    let policy = Policy::from_env_in(
        &env_of(&[
            ("AWS_MCP_POLICY_FILE", file),
            ("AWS_MCP_SECRET_READ_CONSENT", "true"),
        ]),
        false,
    )
    .unwrap();
    assert!(policy.secret_read_consent);
    // A file without the field keeps the default of where the server runs.
    std::fs::write(&path, r#"{"readOnly": true}"#).unwrap();
    assert!(
        Policy::from_env_in(&env_of(&[("AWS_MCP_POLICY_FILE", file)]), true)
            .unwrap()
            .secret_read_consent
    );
    assert!(
        !Policy::from_env_in(&env_of(&[("AWS_MCP_POLICY_FILE", file)]), false)
            .unwrap()
            .secret_read_consent
    );
    let m = file_error(r#"{"secretReadConsent": "yes"}"#);
    assert!(
        m.contains("secretReadConsent") && m.contains("expected true or false"),
        "{m}"
    );
}
