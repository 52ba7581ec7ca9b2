//! `aws___recommend`: pages related to a documentation page, from the live recommendations
//! service (four groups flattened) or, offline, related operations from the service model.

use std::sync::Arc;

use async_trait::async_trait;
use aws_models::{api_docs, models};
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Docs;
use super::apiref;
use super::fetch::{check_url, error_chain};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    url: String,
}

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "recommend",
        title: "Recommend related AWS documentation",
        description: "Get pages related to an AWS documentation page: highly rated, new, similar and commonly viewed next pages (group highlyRated, new, similar, journey) from the AWS documentation recommendations. Offline, or when that service cannot be reached, API reference pages get the related operations of the same service from the service model (group related_operations), labelled as such.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {"url": {"type": "string", "description": "A documentation page URL."}},
            "required": ["url"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "recommendations": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string"}, "title": {"type": "string"},
                        "context": {"type": "string"}, "group": {"type": "string"}
                    },
                    "required": ["url", "title", "context", "group"]
                }},
                "source": {"type": "string", "enum": ["live", "offline_model"]},
                "note": {"type": "string"}
            },
            "required": ["recommendations", "source"]
        })),
        annotations: ToolAnnotations::READ_ONLY_REMOTE,
    }
}

pub struct Recommend {
    pub docs: Arc<Docs>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Flattens the four groups of a recommendations answer.
pub fn flatten(answer: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let items = |group: &str| -> Vec<Value> {
        answer
            .pointer(&format!("/{group}/items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for group in ["highlyRated", "similar"] {
        for item in items(group) {
            out.push(
                json!({"url": text(&item, "url"), "title": text(&item, "assetTitle"),
                            "context": text(&item, "abstract"), "group": group}),
            );
        }
    }
    for item in items("new") {
        out.push(json!({"url": text(&item, "url"), "title": text(&item, "assetTitle"),
                        "context": format!("New page (added {})", text(&item, "dateCreated")), "group": "new"}));
    }
    for item in items("journey") {
        let intent = text(&item, "intent");
        for u in item
            .get("urls")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            out.push(json!({"url": text(&u, "url"), "title": text(&u, "assetTitle"),
                            "context": format!("Commonly viewed next: {intent}"), "group": "journey"}));
        }
    }
    out.retain(|r| !r["url"].as_str().unwrap_or_default().is_empty());
    out
}

impl Recommend {
    async fn live(&self, url: &str) -> Result<Vec<Value>, String> {
        let endpoint =
            url::Url::parse_with_params(&self.docs.config.recommend_url, &[("path", url)])
                .map_err(|e| format!("recommendations URL is invalid: {e}"))?;
        let response = self
            .docs
            .search_http()
            .get(endpoint)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("recommendations answered HTTP {status}"));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|e| format!("recommendations answer is not JSON: {}", error_chain(&e)))?;
        Ok(flatten(&answer))
    }
}

fn offline(url: &url::Url) -> Result<Vec<Value>, String> {
    let index = models().index().map_err(|e| e.to_string())?;
    let page = apiref::resolve(url, index)?
        .ok_or_else(|| "offline recommendations exist only for API reference pages".to_owned())?;
    let service = index
        .service(&page.service)
        .ok_or_else(|| format!("unknown service {}", page.service))?;
    let si = index
        .services
        .iter()
        .position(|s| s.service_name == page.service);
    let docs = api_docs().map_err(|e| e.to_string())?;
    Ok(apiref::related_operations(&page, 10)
        .into_iter()
        .map(|op| {
            let summary = docs
                .iter()
                .find(|d| Some(d.service) == si && d.operation == op)
                .map(|d| d.text.chars().take(400).collect::<String>())
                .unwrap_or_default();
            json!({
                "url": service.api_reference_url(&op),
                "title": format!("{} API Reference: {op}", service.display_name()),
                "context": summary,
                "group": "related_operations",
            })
        })
        .collect())
}

#[async_trait]
impl ToolHandler for Recommend {
    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let input: Input = parse_arguments("recommend", arguments)?;
        let url = check_url(&input.url).map_err(|e| ToolError::InvalidArgument(e.to_string()))?;
        let mut note = None;
        if self.docs.config.live {
            match self.live(url.as_str()).await {
                Ok(recommendations) => {
                    return Ok(ToolOutput::structured(
                        json!({"recommendations": recommendations, "source": "live"}),
                    ));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live recommendations failed");
                    note = Some(format!("The live recommendations service failed ({e})."));
                }
            }
        }
        let why = note.clone().unwrap_or_else(|| {
            "Live recommendations are disabled (AWS_MCP_DOCS_LIVE=false).".into()
        });
        match offline(&url) {
            Ok(recommendations) => Ok(ToolOutput::structured(json!({
                "recommendations": recommendations,
                "source": "offline_model",
                "note": format!("{why} These are related operations of the same service from the service model, not live recommendations."),
            }))),
            Err(e) => Err(ToolError::Downstream(format!(
                "{why} No offline recommendations either: {e}."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_groups_flatten_into_one_list() {
        let answer = json!({
            "highlyRated": {"items": [{"url": "https://docs.aws.amazon.com/a", "assetTitle": "A", "abstract": "about a"}]},
            "journey": {"items": [{"intent": "next", "urls": [{"url": "https://docs.aws.amazon.com/b", "assetTitle": "B"}]}]},
            "new": {"items": [{"url": "https://docs.aws.amazon.com/c", "assetTitle": "C", "dateCreated": "2026-01-01"}]},
            "similar": {"items": [{"url": "https://docs.aws.amazon.com/d", "assetTitle": "D", "abstract": "about d"}]}
        });
        let flat = flatten(&answer);
        let groups: Vec<&str> = flat
            .iter()
            .map(|r| r["group"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(groups, vec!["highlyRated", "similar", "new", "journey"]);
        assert_eq!(flat[3]["title"], "B");
    }
}
