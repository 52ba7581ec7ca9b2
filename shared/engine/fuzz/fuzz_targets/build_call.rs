//! Arguments given to real operations (shorthand, JSON, scalars) become parameters or a
//! clear error, never a panic; accepted parameters serialise or fail cleanly too.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Operations whose arguments cover every shape: structures, lists, maps, blobs, numbers,
/// booleans, timestamps, across the json, query, ec2, rest-json and rest-xml protocols.
const PREFIXES: [&str; 8] = [
    "aws dynamodb put-item --table-name t --item ",
    "aws ec2 run-instances --image-id ami-1 --block-device-mappings ",
    "aws s3api put-bucket-tagging --bucket b --tagging ",
    "aws lambda create-function --function-name f --role r --code ",
    "aws sqs send-message --queue-url q --message-attributes ",
    "aws cloudwatch put-metric-alarm --alarm-name a --dimensions ",
    "aws iam create-role --role-name r --assume-role-policy-document ",
    "aws ecs run-task --task-definition t --overrides ",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    let prefix = PREFIXES[usize::from(selector) % PREFIXES.len()];
    let quoted = format!("'{}'", value.replace('\'', ""));
    let Ok(parsed) = aws_engine::parse_command(&format!("{prefix}{quoted}")) else {
        return;
    };
    let Ok(call) = aws_engine::build_call(&parsed) else {
        return;
    };
    let Ok(model) = aws_models::models().service(&call.service) else {
        return;
    };
    if let Some(op) = model.operation(&call.operation) {
        let _ = aws_engine::serialize::serialize(&model, op, &call.params);
    }
});

