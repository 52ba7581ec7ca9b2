//! `aws___get_presigned_url`: an S3 upload or download URL signed with the server's
//! credentials, valid for at most 15 minutes; read-only mode refuses uploads.

use std::sync::Arc;

use async_trait::async_trait;
use aws_engine::presign::{MAX_EXPIRES_IN, PresignMethod, PresignRequest};
use aws_engine::{CallGate, GateCall};
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::context::ApiContext;

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "get_presigned_url",
        title: "Get a pre-signed S3 URL",
        description: format!(
            "Creates a pre-signed URL to download (GET) or upload (PUT) one S3 object, valid for expires_in seconds (at most {MAX_EXPIRES_IN}). Use it to move files between your machine and S3 (for example with curl), then refer to the object as s3://bucket/key in aws___call_aws. Without a bucket, the file is staged in the server's staging bucket under your own prefix: after uploading key `code.zip`, commands can name it as a local file (`fileb://code.zip`, `aws s3 cp code.zip s3://...`). An upload must send the returned headers (a content_type given here is signed and must be sent as Content-Type)."
        ),
        input_schema: json!({
            "type": "object",
            "properties": {
                "bucket": {"type": "string", "minLength": 3, "maxLength": 63, "description": "Omit to stage a file for aws___call_aws in the server's staging bucket."},
                "key": {"type": "string", "minLength": 1, "maxLength": 1024},
                "method": {"type": "string", "enum": ["GET", "PUT"]},
                "expires_in": {"type": "integer", "minimum": 1, "maximum": MAX_EXPIRES_IN, "default": MAX_EXPIRES_IN},
                "content_type": {"type": "string", "description": "PUT only: the Content-Type the upload will send."},
                "region": {"type": "string", "description": "The bucket's Region (default: the client's AWS_REGION)."}
            },
            "required": ["key", "method"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "url": {"type": "string"},
                "method": {"type": "string"},
                "expires_at": {"type": "string"},
                "headers": {"type": "object"}
            },
            "required": ["url", "expires_at", "headers"]
        })),
        annotations: ToolAnnotations {
            read_only: false,
            destructive: false,
            idempotent: true,
            open_world: true,
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    bucket: Option<String>,
    key: String,
    method: String,
    expires_in: Option<u64>,
    content_type: Option<String>,
    region: Option<String>,
}

pub struct GetPresignedUrl {
    pub ctx: ApiContext,
}

#[async_trait]
impl ToolHandler for GetPresignedUrl {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_arguments("get_presigned_url", arguments)?;
        let method = match args.method.to_ascii_uppercase().as_str() {
            "GET" => PresignMethod::Get,
            "PUT" => PresignMethod::Put,
            other => {
                return Err(ToolError::InvalidArgument(format!(
                    "method '{other}' is not valid; use GET (download) or PUT (upload)"
                )));
            }
        };
        let expires_in = args.expires_in.unwrap_or(MAX_EXPIRES_IN);
        let (bucket, key, region, staged) = match (&args.bucket, &self.ctx.staging) {
            (Some(b), _) => (
                b.clone(),
                args.key.clone(),
                args.region.clone().unwrap_or_else(|| ctx.region.clone()),
                false,
            ),
            (None, Some(staging)) => {
                let owner = ctx.identity.snapshot().owner_key();
                let name = aws_engine::staging::clean_relative(&args.key)
                    .map_err(|e| ToolError::InvalidArgument(e.message))?;
                (
                    staging.bucket.clone(),
                    format!("{}{name}", aws_engine::staging::owner_prefix(&owner)),
                    staging.region.clone(),
                    true,
                )
            }
            (None, None) => {
                return Err(ToolError::InvalidArgument(
                    "bucket is required: this server has no staging bucket (AWS_MCP_STAGING_BUCKET) for files without one".into(),
                ));
            }
        };
        let (cli_operation, operation) = match method {
            PresignMethod::Get => ("get-object", "GetObject"),
            PresignMethod::Put => ("put-object", "PutObject"),
        };
        let gate: Arc<dyn CallGate> = self.ctx.gate_for(ctx);
        gate.admit(&GateCall {
            cli_service: "s3api",
            cli_operation,
            service: "s3",
            operation,
            region: &region,
            params: None,
        })
        .await
        .map_err(ToolError::Denied)?;
        // Staged files are the server's to sign (under the caller's prefix); any other
        // bucket is signed as the caller, who may not name the staging bucket.
        let executor = if staged {
            self.ctx.runner.own.clone()
        } else {
            let caller = ctx.identity.snapshot();
            self.ctx.for_caller(&caller).await?.runner.executor.clone()
        };
        let endpoint = executor.s3_endpoint_setting();
        let presigned = executor
            .presign(&PresignRequest {
                bucket: &bucket,
                key: &key,
                method,
                expires_in,
                content_type: args.content_type.as_deref(),
                region: &region,
                endpoint_url: endpoint.as_deref(),
            })
            .await
            .map_err(|e| match e {
                aws_engine::execute::CallError::Validation(m) => ToolError::InvalidArgument(m),
                e @ aws_engine::execute::CallError::Protected(_) => {
                    ToolError::Denied(e.to_string())
                }
                other => ToolError::Downstream(other.to_string()),
            })?;
        let headers: Map<String, Value> = presigned
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let expires_at = presigned
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut answer = json!({
            "url": presigned.url,
            "method": method.as_str(),
            "expires_at": expires_at,
            "headers": headers,
        });
        if staged {
            answer["staged_as"] = json!(args.key);
            answer["note"] = json!(format!(
                "Staged file: once uploaded, name it as a local file in aws___call_aws (fileb://{0}, file://{0}, aws s3 cp {0} s3://...). Staged files are deleted after a day.",
                args.key
            ));
        }
        let mut output = ToolOutput::structured(answer);
        output.read_only = Some(method == PresignMethod::Get);
        Ok(output)
    }
}
