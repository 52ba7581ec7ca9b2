//! `aws___list_regions`: every Region with its id and long name.

use std::sync::Arc;

use async_trait::async_trait;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data;
use crate::directory::RegionDirectory;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    /// Also list the China, GovCloud, sovereign and isolated partitions.
    #[serde(default)]
    include_all_partitions: bool,
}

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "list_regions",
        title: "List AWS Regions",
        description: "Retrieve a list of all AWS Regions, including their identifiers (e.g. us-east-1) and long names (e.g. US East (N. Virginia)). By default only the commercial partition (aws) is listed; set include_all_partitions to also list China, GovCloud, sovereign and isolated Regions. Works without AWS credentials.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "include_all_partitions": {
                    "type": "boolean",
                    "default": false,
                    "description": "Also list Regions of the aws-cn, aws-us-gov, aws-eusc and isolated partitions."
                }
            },
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "regions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "region_id": {"type": "string"},
                            "region_long_name": {"type": "string"},
                            "partition": {"type": "string"}
                        },
                        "required": ["region_id", "region_long_name", "partition"]
                    }
                },
                "count": {"type": "integer"},
                "source": {"type": "string"},
                "note": {"type": "string"}
            },
            "required": ["regions", "count", "source"]
        })),
        annotations: ToolAnnotations::READ_ONLY_REMOTE,
    }
}

pub struct ListRegions {
    pub live: Option<Arc<dyn RegionDirectory>>,
}

#[async_trait]
impl ToolHandler for ListRegions {
    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let input: Input = parse_arguments("list_regions", arguments)?;
        let snapshot = data::regions()?;
        let mut note = None;
        let mut source = data::describe_source(&snapshot.source);
        let mut regions: Vec<(String, String, String)> = snapshot
            .regions
            .iter()
            .map(|r| (r.id.clone(), r.name.clone(), r.partition.clone()))
            .collect();
        if let Some(live) = &self.live {
            match live.regions().await {
                Ok(found) if !found.is_empty() => {
                    regions = found
                        .into_iter()
                        .map(|(id, name)| {
                            let partition = snapshot
                                .regions
                                .iter()
                                .find(|r| r.id == id)
                                .map(|r| r.partition.clone())
                                .unwrap_or_else(|| aws_models::partition_of(&id).0.to_owned());
                            (id, name, partition)
                        })
                        .collect();
                    source = live.describe();
                }
                Ok(_) => {
                    note = Some(
                        "the live source returned no Regions; answered from the bundled snapshot"
                            .to_owned(),
                    )
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live region lookup failed");
                    note = Some(format!(
                        "the live source failed ({e}); answered from the bundled snapshot"
                    ));
                }
            }
        }
        let regions: Vec<Value> = regions
            .into_iter()
            .filter(|(_, _, p)| input.include_all_partitions || p == "aws")
            .map(|(id, name, partition)| {
                json!({"region_id": id, "region_long_name": name, "partition": partition})
            })
            .collect();
        let mut out = json!({"regions": regions, "count": regions.len(), "source": source});
        if let Some(note) = note {
            out["note"] = json!(note);
        }
        Ok(ToolOutput::structured(out))
    }
}
