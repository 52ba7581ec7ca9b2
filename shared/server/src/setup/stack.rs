//! Reading a deployed stack's `McpEndpoint` output with the caller's credentials.

use std::sync::Arc;
use std::time::Duration;

use aws_engine::execute::{CallError, Executor, ReqwestSender};
use serde_json::{Map, Value, json};

use super::SetupError;
use crate::aws::SharedSdkConfig;
use crate::credentials::SdkCredentials;

const ENDPOINT_KEY: &str = "McpEndpoint";
const CLIENT_CONFIG_KEY: &str = "ClientConfig";

/// What setup needs from a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEndpoint {
    pub url: String,
    /// The Region the stack was read in (the proxy signs for it).
    pub region: String,
    /// The default Region for AWS work the stack's `ClientConfig` names, if any.
    pub default_region: Option<String>,
}

/// Reads `stack`'s outputs in `region` (else the configured Region) with the default
/// credential chain or `profile`. `AWS_ENDPOINT_URL_CLOUDFORMATION` and `AWS_ENDPOINT_URL`
/// are honoured.
pub async fn stack_endpoint(
    stack: &str,
    region: Option<&str>,
    profile: Option<&str>,
) -> Result<StackEndpoint, SetupError> {
    let region = match region {
        Some(r) => r.to_owned(),
        None => configured_region(profile).await.ok_or_else(|| {
            SetupError::Invalid(
                "no Region configured for reading the stack: pass --region (or set AWS_REGION)"
                    .into(),
            )
        })?,
    };
    let sender = ReqwestSender::new(Duration::from_secs(10), Duration::from_secs(60))
        .map_err(|e| SetupError::Stack(e.to_string()))?;
    let credentials = Arc::new(SdkCredentials::new(SharedSdkConfig::default(), true));
    let mut executor = Executor::new(
        Arc::new(sender),
        credentials,
        Arc::new(|k: &str| std::env::var(k).ok()),
    );
    if let Some(p) = profile {
        executor = executor
            .with_profile(p)
            .map_err(|e| SetupError::Invalid(e.to_string()))?;
    }
    let mut params = Map::new();
    params.insert("StackName".into(), json!(stack));
    let answer = executor
        .call_named("cloudformation", "DescribeStacks", &params, &region)
        .await
        .map_err(|e| describe_error(stack, &region, e))?;
    endpoint_from_outputs(stack, &region, &answer.output)
}

/// The Region of the profile or the environment, as the AWS CLI would pick it.
async fn configured_region(profile: Option<&str>) -> Option<String> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = std::env::var(var).ok().filter(|r| !r.is_empty()) {
            return Some(r);
        }
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    loader.load().await.region().map(|r| r.to_string())
}

fn describe_error(stack: &str, region: &str, e: CallError) -> SetupError {
    let text = e.to_string();
    if text.contains("does not exist") {
        return SetupError::Stack(format!(
            "stack '{stack}' not found in {region}: check --stack (samconfig.toml's stack_name is aws-mcp), --region and --profile"
        ));
    }
    SetupError::Stack(format!(
        "cannot read stack '{stack}' in {region} (CloudFormation DescribeStacks): {text}"
    ))
}

fn endpoint_from_outputs(
    stack: &str,
    region: &str,
    output: &Map<String, Value>,
) -> Result<StackEndpoint, SetupError> {
    let outputs: Vec<(&str, &str)> = output
        .get("Stacks")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("Outputs"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|o| {
                    Some((
                        o.get("OutputKey")?.as_str()?,
                        o.get("OutputValue")?.as_str()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let find = |key: &str| outputs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let Some(url) = find(ENDPOINT_KEY).map(str::trim).filter(|u| !u.is_empty()) else {
        let keys: Vec<&str> = outputs.iter().map(|(k, _)| *k).collect();
        return Err(SetupError::Stack(format!(
            "stack '{stack}' in {region} has no {ENDPOINT_KEY} output (outputs: {}); is it the aws-mcp stack, and has the deployment finished?",
            if keys.is_empty() {
                "none".to_owned()
            } else {
                keys.join(", ")
            }
        )));
    };
    Ok(StackEndpoint {
        url: url.to_owned(),
        region: region.to_owned(),
        default_region: find(CLIENT_CONFIG_KEY).and_then(metadata_region),
    })
}

/// The `--metadata AWS_REGION=<r>` in a `ClientConfig` output (an `mcpServers` JSON).
fn metadata_region(client_config: &str) -> Option<String> {
    let v: Value = serde_json::from_str(client_config).ok()?;
    v.get("mcpServers")?
        .as_object()?
        .values()
        .find_map(|server| {
            let args: Vec<&str> = server
                .get("args")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            args.windows(2).find_map(|w| {
                (w[0] == "--metadata")
                    .then(|| w[1].strip_prefix("AWS_REGION="))
                    .flatten()
                    .map(str::to_owned)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(outputs: Value) -> Map<String, Value> {
        json!({"Stacks": [{"StackName": "s", "Outputs": outputs}]})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn reads_the_endpoint_and_the_default_region() {
        let config = r#"{"mcpServers": {"aws-mcp": {"command": "uvx", "args": ["p", "u", "--metadata", "AWS_REGION=eu-central-1"]}}}"#;
        let out = answer(json!([
            {"OutputKey": "McpEndpoint", "OutputValue": "https://a.lambda-url.eu-west-1.on.aws/"},
            {"OutputKey": "ClientConfig", "OutputValue": config},
        ]));
        let e = endpoint_from_outputs("s", "eu-west-1", &out).expect("endpoint");
        assert_eq!(e.url, "https://a.lambda-url.eu-west-1.on.aws/");
        assert_eq!(e.default_region.as_deref(), Some("eu-central-1"));
    }

    #[test]
    fn a_stack_without_the_output_is_named_with_its_outputs() {
        let out = answer(json!([{"OutputKey": "Other", "OutputValue": "x"}]));
        let e = endpoint_from_outputs("s", "eu-west-1", &out).unwrap_err();
        assert!(
            e.to_string()
                .contains("no McpEndpoint output (outputs: Other)"),
            "{e}"
        );
    }
}
