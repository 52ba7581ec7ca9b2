//! `aws___read_documentation`: documentation pages as markdown, paged by character
//! offsets; API reference pages render from the service model when the live page cannot be
//! read.

use std::sync::Arc;

use async_trait::async_trait;
use aws_models::models;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::Docs;
use super::apiref;
use super::fetch::{FetchError, check_url};
use super::page::{table_of_contents, window};

const MAX_REQUESTS: usize = 5;
const MAX_LENGTH: usize = 100_000;

fn default_max_length() -> usize {
    10_000
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageRequest {
    url: String,
    #[serde(default = "default_max_length")]
    max_length: usize,
    #[serde(default)]
    start_index: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    requests: Vec<PageRequest>,
}

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "read_documentation",
        title: "Read AWS documentation pages",
        description: "Fetch AWS documentation pages (docs.aws.amazon.com, aws.amazon.com except Marketplace, repost.aws/knowledge-center, docs.amplify.aws, strandsagents.com) and convert them to markdown. requests: 1-5 pages, each {url, max_length (default 10000, at most 100000), start_index (default 0)}, fetched concurrently. Long pages are paged by character offsets: when truncated is true, call again with start_index = end_index; a truncated page includes a table of contents with the start_index of each section. API reference pages (e.g. .../APIReference/API_DescribeVpcs.html) render from the service model when the live page cannot be fetched. Each result has status success or error with error_code not_found, invalid_url, throttled, downstream_error or validation_error.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "requests": {
                    "type": "array", "minItems": 1, "maxItems": MAX_REQUESTS,
                    "items": {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string"},
                            "max_length": {"type": "integer", "minimum": 1, "maximum": MAX_LENGTH, "default": 10000},
                            "start_index": {"type": "integer", "minimum": 0, "default": 0}
                        },
                        "required": ["url"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["requests"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string"},
                        "status": {"type": "string", "enum": ["success", "error"]},
                        "content": {"type": "string"},
                        "title": {"type": "string"},
                        "total_length": {"type": "integer"},
                        "start_index": {"type": "integer"},
                        "end_index": {"type": "integer"},
                        "truncated": {"type": "boolean"},
                        "redirected_url": {"type": "string"},
                        "table_of_contents": {"type": "array", "items": {"type": "object"}},
                        "source": {"type": "string", "enum": ["live", "offline_model"]},
                        "error_code": {"type": "string", "enum": ["not_found", "invalid_url", "throttled", "downstream_error", "validation_error"]},
                        "error": {"type": "string"}
                    },
                    "required": ["url", "status"]
                }}
            },
            "required": ["results"]
        })),
        annotations: ToolAnnotations::READ_ONLY_REMOTE,
    }
}

pub struct ReadDocumentation {
    pub docs: Arc<Docs>,
}

fn error_item(url: &str, code: &str, message: impl Into<String>) -> Value {
    json!({"url": url, "status": "error", "error_code": code, "error": message.into()})
}

/// A page as markdown, from the live site or the service model.
struct Rendered {
    markdown: String,
    title: Option<String>,
    final_url: Option<Url>,
    source: &'static str,
}

async fn render(docs: &Docs, url: &Url) -> Result<Rendered, FetchError> {
    let offline = |why: &str| -> Result<Option<Rendered>, FetchError> {
        let index = models()
            .index()
            .map_err(|e| FetchError::Downstream(e.to_string()))?;
        match apiref::resolve(url, index) {
            Ok(Some(page)) => apiref::render(&page, why)
                .map(|markdown| {
                    Some(Rendered {
                        markdown,
                        title: Some(page.operation.clone()),
                        final_url: None,
                        source: "offline_model",
                    })
                })
                .map_err(FetchError::NotFound),
            Ok(None) => Ok(None),
            Err(why) => Err(FetchError::NotFound(why)),
        }
    };
    if !docs.config.live {
        return offline("live reading is disabled (AWS_MCP_DOCS_LIVE=false)")?.ok_or_else(|| {
            FetchError::Downstream(format!(
                "live reading is disabled (AWS_MCP_DOCS_LIVE=false) and {url} is not an API reference page that can be rendered offline"
            ))
        });
    }
    match docs.http().get_page(url).await {
        Ok(page) => {
            let body = page.body;
            let (markdown, title) = if page.content_type.contains("html") {
                tokio::task::spawn_blocking(move || super::html::page_to_markdown(&body))
                    .await
                    .map_err(|e| FetchError::Downstream(format!("conversion failed: {e}")))?
            } else {
                (body, None)
            };
            Ok(Rendered {
                markdown,
                title,
                final_url: Some(page.final_url),
                source: "live",
            })
        }
        Err(e @ FetchError::InvalidUrl(_)) => Err(e),
        Err(e) => match offline(&format!("the live page could not be read ({e})")) {
            Ok(Some(r)) => Ok(r),
            _ => Err(e),
        },
    }
}

async fn read_one(docs: Arc<Docs>, request: PageRequest) -> Value {
    let url = match check_url(&request.url) {
        Ok(u) => u,
        Err(e) => return error_item(&request.url, e.code(), e.to_string()),
    };
    let rendered = match render(&docs, &url).await {
        Ok(r) => r,
        Err(e) => return error_item(&request.url, e.code(), e.to_string()),
    };
    let Some(w) = window(&rendered.markdown, request.start_index, request.max_length) else {
        return error_item(
            &request.url,
            "validation_error",
            format!(
                "start_index {} is past the end of the page ({} characters)",
                request.start_index,
                rendered.markdown.chars().count()
            ),
        );
    };
    let mut item = json!({
        "url": request.url,
        "status": "success",
        "content": w.content,
        "total_length": w.total_length,
        "start_index": w.start_index,
        "end_index": w.end_index,
        "truncated": w.truncated,
        "source": rendered.source,
    });
    if let Some(title) = rendered.title {
        item["title"] = json!(title);
    }
    if let Some(final_url) = rendered.final_url
        && final_url != url
    {
        item["redirected_url"] = json!(final_url.as_str());
    }
    if w.truncated {
        item["table_of_contents"] = json!(table_of_contents(&rendered.markdown));
    }
    item
}

#[async_trait]
impl ToolHandler for ReadDocumentation {
    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let input: Input = parse_arguments("read_documentation", arguments)?;
        if input.requests.is_empty() || input.requests.len() > MAX_REQUESTS {
            return Err(ToolError::InvalidArgument(format!(
                "requests must list 1-{MAX_REQUESTS} pages, not {}",
                input.requests.len()
            )));
        }
        if let Some(bad) = input
            .requests
            .iter()
            .find(|r| !(1..=MAX_LENGTH).contains(&r.max_length))
        {
            return Err(ToolError::InvalidArgument(format!(
                "max_length {} for {} is out of range: give 1-{MAX_LENGTH}",
                bad.max_length, bad.url
            )));
        }
        let mut tasks = tokio::task::JoinSet::new();
        let count = input.requests.len();
        for (i, request) in input.requests.into_iter().enumerate() {
            let docs = self.docs.clone();
            tasks.spawn(async move { (i, read_one(docs, request).await) });
        }
        let mut results = vec![Value::Null; count];
        while let Some(done) = tasks.join_next().await {
            let (i, item) =
                done.map_err(|e| ToolError::Internal(format!("page task failed: {e}")))?;
            results[i] = item;
        }
        Ok(ToolOutput::structured(json!({"results": results})))
    }
}
