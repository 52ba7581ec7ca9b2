//! `aws___get_regional_availability`: whether products, service APIs and CloudFormation
//! resource types are offered in given Regions.
//!
//! Sources: products from the SSM global-infrastructure tree (live when configured, else
//! the snapshot), APIs at service level from the endpoints in the service models, and
//! CloudFormation types from the per-Region provider schemas that cfn-lint ships.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data;
use crate::directory::RegionDirectory;
use crate::suggest::closest;

const MAX_REGIONS: usize = 10;
const MAX_FILTERS: usize = 50;
const PAGE_SIZE: usize = 100;

const AVAILABLE: &str = "isAvailableIn";
const NOT_AVAILABLE: &str = "isNotAvailableIn";
const NOT_FOUND: &str = "Not Found";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ResourceType {
    Product,
    Api,
    Cfn,
}

impl ResourceType {
    fn as_str(self) -> &'static str {
        match self {
            ResourceType::Product => "product",
            ResourceType::Api => "api",
            ResourceType::Cfn => "cfn",
        }
    }

    fn result_key(self) -> &'static str {
        match self {
            ResourceType::Product => "products",
            ResourceType::Api => "service_apis",
            ResourceType::Cfn => "cfn_resources",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    resource_type: ResourceType,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    filters: Vec<String>,
    #[serde(default)]
    next_token: Option<String>,
}

pub fn descriptor() -> ToolDescriptor {
    let entry = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "availability": {
                "type": "object",
                "additionalProperties": {
                    "type": "string",
                    "enum": [AVAILABLE, NOT_AVAILABLE, "isPlannedIn", NOT_FOUND]
                }
            }
        },
        "required": ["name", "availability"]
    });
    ToolDescriptor {
        name: "get_regional_availability",
        title: "Get regional availability",
        description: "Check whether AWS products, service APIs or CloudFormation resource types are available in given AWS Regions. resource_type: 'product' (filters are product codes or names, e.g. 's3' or 'AWS Lambda'), 'api' (filters are 'Service+Operation' such as 'CloudFormation+CreateStack', or a whole service such as 'EC2'; availability is judged at service level from the service's Regional endpoints), or 'cfn' (filters are resource type names such as 'AWS::EC2::Instance'). regions: up to 10 Region ids; defaults to the session's Region. With more than one Region, filters are required. Without filters, every entry for the one Region is listed, 100 per page; pass next_token to continue. Statuses: isAvailableIn, isNotAvailableIn, isPlannedIn, Not Found (the source has no data for that Region). Unknown filter values are an error that suggests close names.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "resource_type": {"type": "string", "enum": ["product", "api", "cfn"]},
                "regions": {
                    "type": "array", "items": {"type": "string"}, "maxItems": MAX_REGIONS,
                    "description": "Region ids such as us-east-1 (at most 10). Defaults to the session's Region."
                },
                "filters": {
                    "type": "array", "items": {"type": "string"}, "maxItems": MAX_FILTERS,
                    "description": "Exact names to check: product codes or names, 'Service+Operation' or 'Service', or CloudFormation type names."
                },
                "next_token": {"type": "string", "description": "Token from a previous answer to get the next page."}
            },
            "required": ["resource_type"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "resource_type": {"type": "string"},
                "regions": {"type": "array", "items": {"type": "string"}},
                "products": {"type": "array", "items": entry},
                "service_apis": {"type": "array", "items": entry},
                "cfn_resources": {"type": "array", "items": entry},
                "next_token": {"type": "string"},
                "source": {"type": "string"},
                "note": {"type": "string"}
            },
            "required": ["resource_type", "regions", "source"]
        })),
        annotations: ToolAnnotations::READ_ONLY_REMOTE,
    }
}

pub struct RegionalAvailability {
    pub live: Option<Arc<dyn RegionDirectory>>,
}

/// One candidate answer row before paging.
struct Row {
    name: String,
    extra: Vec<(&'static str, Value)>,
    /// Indices (into the snapshot's region list) where it is available.
    available: Vec<u16>,
    /// SSM product codes to try for a live lookup, in order.
    live_keys: Vec<String>,
    /// Regions answered by a live lookup instead, when there was one.
    live_regions: Option<Vec<String>>,
}

fn encode_token(kind: ResourceType, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{offset}", kind.as_str()))
}

fn decode_token(kind: ResourceType, token: &str) -> Result<usize, ToolError> {
    let bad = || {
        ToolError::InvalidArgument(
            "next_token is not valid for this request: pass the next_token of the previous answer unchanged, with the same resource_type".into(),
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (k, offset) = text.split_once(':').ok_or_else(bad)?;
    if k != kind.as_str() {
        return Err(bad());
    }
    offset.parse().map_err(|_| bad())
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn unknown_filter(value: &str, candidates: &[String], hint: &str) -> ToolError {
    let close = closest(value, candidates.iter().map(String::as_str), 5);
    let suggestion = if close.is_empty() {
        String::new()
    } else {
        format!(" Did you mean: {}?", close.join(", "))
    };
    ToolError::NotFound(format!(
        "The values in filter parameter do not exist: '{value}'.{suggestion} {hint}"
    ))
}

impl RegionalAvailability {
    fn product_rows(&self, filters: &[String]) -> Result<Vec<Row>, ToolError> {
        let snap = data::products()?;
        let row = |p: &data::Product| Row {
            name: p.name.clone(),
            extra: vec![("code", json!(p.code))],
            available: p.regions.clone(),
            live_keys: vec![p.code.clone()],
            live_regions: None,
        };
        if filters.is_empty() {
            return Ok(snap.products.iter().map(row).collect());
        }
        filters
            .iter()
            .map(|f| {
                let key = normalise(f);
                snap.products
                    .iter()
                    .find(|p| normalise(&p.code) == key || normalise(&p.name) == key)
                    .map(row)
                    .ok_or_else(|| {
                        let names: Vec<String> = snap
                            .products
                            .iter()
                            .flat_map(|p| [p.code.clone(), p.name.clone()])
                            .collect();
                        unknown_filter(f, &names, "Product filters are SSM product codes (e.g. 's3', 'lambda') or their names (e.g. 'AWS Lambda').")
                    })
            })
            .collect()
    }

    fn api_rows(filters: &[String]) -> Result<Vec<Row>, ToolError> {
        let snap = data::service_apis()?;
        let basis = |s: &data::ServiceApi| match s.regions_source.as_str() {
            "partition-default" => {
                "no Regional endpoint data for this service; assumed available in every commercial Region"
            }
            "global" => "global service: one endpoint serves every Region of the partition",
            "ssm" => "Regions from the SSM product list",
            _ => "Regional endpoints in the service model",
        };
        let service_row = |s: &data::ServiceApi, op: Option<&str>| Row {
            name: match op {
                Some(op) => format!("{}+{op}", s.service_id.replace(' ', "")),
                None => s.service_id.replace(' ', ""),
            },
            extra: vec![
                ("service", json!(s.service_id)),
                ("service_name", json!(s.service_name)),
                ("operation", op.map_or(Value::Null, |o| json!(o))),
                ("basis", json!(basis(s))),
            ],
            available: s.regions.clone(),
            live_keys: vec![s.service_name.clone(), s.endpoint_prefix.clone()],
            live_regions: None,
        };
        if filters.is_empty() {
            return Ok(snap.services.iter().map(|s| service_row(s, None)).collect());
        }
        let service_names = || -> Vec<String> {
            snap.services
                .iter()
                .map(|s| s.service_id.replace(' ', ""))
                .collect()
        };
        filters
            .iter()
            .map(|f| {
                let (svc, op) = match f.split_once('+') {
                    Some((s, o)) => (s.trim(), Some(o.trim())),
                    None => (f.trim(), None),
                };
                let key = normalise(svc);
                let service = snap
                    .services
                    .iter()
                    .find(|s| normalise(&s.service_id) == key)
                    .or_else(|| snap.services.iter().find(|s| {
                        normalise(&s.service_name) == key || normalise(&s.endpoint_prefix) == key
                    }))
                    .ok_or_else(|| unknown_filter(svc, &service_names(), "API filters look like 'CloudFormation+CreateStack' or 'EC2' (service ids as in the SDKs)."))?;
                match op {
                    None => Ok(service_row(service, None)),
                    Some(op) => {
                        let found = service
                            .operations
                            .iter()
                            .find(|o| o.eq_ignore_ascii_case(op))
                            .ok_or_else(|| unknown_filter(op, &service.operations, &format!("Operations of {} are named like '{}'.", service.service_id, service.operations.first().map(String::as_str).unwrap_or("ListThings"))))?;
                        Ok(service_row(service, Some(found)))
                    }
                }
            })
            .collect()
    }

    fn cfn_rows(filters: &[String]) -> Result<Vec<Row>, ToolError> {
        let snap = data::cfn_resources()?;
        let row = |t: &data::CfnType| Row {
            name: t.name.clone(),
            extra: vec![],
            available: t.regions.clone(),
            live_keys: vec![],
            live_regions: None,
        };
        if filters.is_empty() {
            return Ok(snap.types.iter().map(row).collect());
        }
        filters
            .iter()
            .map(|f| {
                snap.types
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(f.trim()))
                    .map(row)
                    .ok_or_else(|| {
                        let names: Vec<String> = snap.types.iter().map(|t| t.name.clone()).collect();
                        unknown_filter(f, &names, "CloudFormation filters are resource type names such as 'AWS::EC2::Instance'.")
                    })
            })
            .collect()
    }
}

#[async_trait]
impl ToolHandler for RegionalAvailability {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let input: Input = parse_arguments("get_regional_availability", arguments)?;
        let known = data::regions()?;
        let known_ids: Vec<String> = known.regions.iter().map(|r| r.id.clone()).collect();

        let mut regions = if input.regions.is_empty() {
            vec![ctx.region.clone()]
        } else {
            input
                .regions
                .iter()
                .map(|r| r.trim().to_ascii_lowercase())
                .collect()
        };
        regions.dedup();
        if regions.len() > MAX_REGIONS {
            return Err(ToolError::InvalidArgument(format!(
                "regions lists {} Regions; at most {MAX_REGIONS} can be checked at once",
                regions.len()
            )));
        }
        for r in &regions {
            if !known_ids.contains(r) {
                let close = closest(r, known_ids.iter().map(String::as_str), 3);
                return Err(ToolError::NotFound(format!(
                    "Unknown Region '{r}'. Did you mean: {}? Use aws___list_regions for every Region id.",
                    close.join(", ")
                )));
            }
        }
        if input.filters.len() > MAX_FILTERS {
            return Err(ToolError::InvalidArgument(format!(
                "filters lists {} values; at most {MAX_FILTERS} can be checked at once",
                input.filters.len()
            )));
        }
        if regions.len() > 1 && input.filters.is_empty() {
            return Err(ToolError::InvalidArgument(format!(
                "With more than one Region, filters are required (e.g. {}). Check one Region at a time to list everything.",
                match input.resource_type {
                    ResourceType::Product => "[\"s3\", \"AWS Lambda\"]",
                    ResourceType::Api => "[\"CloudFormation+CreateStack\", \"EC2\"]",
                    ResourceType::Cfn => "[\"AWS::EC2::Instance\"]",
                }
            )));
        }
        let offset = match &input.next_token {
            Some(t) => decode_token(input.resource_type, t)?,
            None => 0,
        };

        let mut note = None;
        let (mut rows, mut source) = match input.resource_type {
            ResourceType::Product => (
                self.product_rows(&input.filters)?,
                data::describe_source(&data::products()?.source),
            ),
            ResourceType::Api => {
                note = Some("API availability is judged at service level: an operation is reported available wherever its service has a Regional endpoint.".to_owned());
                (
                    Self::api_rows(&input.filters)?,
                    data::describe_source(&data::service_apis()?.source),
                )
            }
            ResourceType::Cfn => (
                Self::cfn_rows(&input.filters)?,
                data::describe_source(&data::cfn_resources()?.source),
            ),
        };

        // Filtered product and API lookups go live when a live directory is configured;
        // CloudFormation types have no public live source, so they stay on the snapshot.
        if input.resource_type != ResourceType::Cfn
            && !input.filters.is_empty()
            && let Some(live) = &self.live
        {
            let mut failures = Vec::new();
            for row in &mut rows {
                for key in &row.live_keys {
                    match live.product_regions(key).await {
                        Ok(Some(found)) => {
                            row.live_regions = Some(found);
                            break;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            failures.push(e);
                            break;
                        }
                    }
                }
            }
            if failures.is_empty() {
                source = live.describe();
            } else {
                for row in &mut rows {
                    row.live_regions = None;
                }
                let failed = format!(
                    "the live source failed ({}); answered from the bundled snapshot",
                    failures[0]
                );
                note = Some(match note {
                    Some(n) => format!("{n} {failed}"),
                    None => failed,
                });
            }
        }

        // Regions a source has no data for at all answer "Not Found" rather than "no".
        let snapshot_regions: &[String] = match input.resource_type {
            ResourceType::Product => &data::products()?.regions,
            ResourceType::Api => &data::service_apis()?.regions,
            ResourceType::Cfn => &data::cfn_resources()?.regions,
        };
        let covered = match input.resource_type {
            ResourceType::Product => coverage(
                snapshot_regions.len(),
                data::products()?.products.iter().map(|p| &p.regions),
            ),
            ResourceType::Api => coverage(
                snapshot_regions.len(),
                data::service_apis()?.services.iter().map(|s| &s.regions),
            ),
            ResourceType::Cfn => coverage(
                snapshot_regions.len(),
                data::cfn_resources()?.types.iter().map(|t| &t.regions),
            ),
        };

        let total = rows.len();
        let page: Vec<Row> = rows.drain(..).skip(offset).take(PAGE_SIZE).collect();
        let entries: Vec<Value> = page
            .into_iter()
            .map(|row| {
                let mut availability = BTreeMap::new();
                for region in &regions {
                    let status = match &row.live_regions {
                        Some(live) => {
                            if live.contains(region) {
                                AVAILABLE
                            } else {
                                NOT_AVAILABLE
                            }
                        }
                        None => match snapshot_regions.iter().position(|r| r == region) {
                            Some(i) if row.available.contains(&(i as u16)) => AVAILABLE,
                            Some(i) if covered.get(i).copied().unwrap_or(false) => NOT_AVAILABLE,
                            _ => NOT_FOUND,
                        },
                    };
                    availability.insert(region.clone(), status);
                }
                let mut entry = json!({"name": row.name, "availability": availability});
                for (k, v) in row.extra {
                    if !v.is_null() {
                        entry[k] = v;
                    }
                }
                entry
            })
            .collect();

        let mut out = json!({
            "resource_type": input.resource_type.as_str(),
            "regions": regions,
            input.resource_type.result_key(): entries,
            "source": source,
        });
        if offset + PAGE_SIZE < total {
            out["next_token"] = json!(encode_token(input.resource_type, offset + PAGE_SIZE));
        }
        if let Some(note) = note {
            out["note"] = json!(note);
        }
        Ok(ToolOutput::structured(out))
    }
}

fn coverage<'a>(len: usize, lists: impl Iterator<Item = &'a Vec<u16>>) -> Vec<bool> {
    let mut seen = vec![false; len];
    for list in lists {
        for &i in list {
            if let Some(s) = seen.get_mut(i as usize) {
                *s = true;
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_other_kinds() {
        let t = encode_token(ResourceType::Cfn, 200);
        assert_eq!(decode_token(ResourceType::Cfn, &t).expect("valid"), 200);
        assert!(decode_token(ResourceType::Api, &t).is_err());
        assert!(decode_token(ResourceType::Cfn, "garbage!").is_err());
    }
}
