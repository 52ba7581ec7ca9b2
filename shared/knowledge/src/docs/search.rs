//! `aws___search_documentation`: the live AWS documentation search merged with the offline
//! index of skills and API reference pages.

use std::sync::Arc;

use async_trait::async_trait;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Docs;
use super::fetch::error_chain;
use super::index::DocKind;

pub const TOPICS: [&str; 10] = [
    "reference_documentation",
    "current_awareness",
    "troubleshooting",
    "amplify_docs",
    "cdk_docs",
    "cdk_constructs",
    "cloudformation",
    "strands_docs",
    "agent_skills",
    "general",
];

/// A skill scoring at least this share of the best hit goes first (tuned on the dev half of
/// `retrieval_queries.json` and `search_queries.json`; see docs/retrieval.md).
const SKILL_FIRST: f32 = 0.6;

fn default_limit() -> usize {
    4
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    search_phrase: String,
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    topics: Vec<String>,
}

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "search_documentation",
        title: "Search AWS documentation and skills",
        description: "Search AWS documentation, API references and skills. Topics (up to 3): reference_documentation (API references first), current_awareness, troubleshooting, amplify_docs, cdk_docs, cdk_constructs, cloudformation, strands_docs, agent_skills (skills only; load one with aws___retrieve_skill), general (default: everything). Results have rank_order, url, title and context (a chunk of the page); skill hits carry skill_name, API reference hits carry service and operation. Works offline: skills and the API reference of every service are always searched; the live AWS documentation search is added when reachable, and the answer says when it was not.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "search_phrase": {"type": "string", "minLength": 1, "maxLength": 1000},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 4},
                "topics": {"type": "array", "maxItems": 3, "items": {"type": "string", "enum": TOPICS}, "default": ["general"]}
            },
            "required": ["search_phrase"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "rank_order": {"type": "integer"},
                        "url": {"type": "string"},
                        "title": {"type": "string"},
                        "context": {"type": "string"},
                        "source": {"type": "string", "enum": ["live", "skill", "api_reference"]},
                        "skill_name": {"type": "string"},
                        "service": {"type": "string"},
                        "operation": {"type": "string"}
                    },
                    "required": ["rank_order", "url", "title", "context", "source"]
                }},
                "sources": {"type": "object", "properties": {"live": {"type": "string"}, "offline": {"type": "string"}}},
                "note": {"type": "string"}
            },
            "required": ["results", "sources"]
        })),
        annotations: ToolAnnotations::READ_ONLY_REMOTE,
    }
}

pub struct SearchDocumentation {
    pub docs: Arc<Docs>,
}

#[derive(Debug, Deserialize)]
struct LiveAnswer {
    #[serde(default)]
    suggestions: Vec<LiveSuggestion>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveSuggestion {
    text_excerpt_suggestion: Option<LiveExcerpt>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiveExcerpt {
    link: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    suggestion_body: Option<String>,
}

impl SearchDocumentation {
    async fn live(&self, phrase: &str, limit: usize) -> Result<Vec<Value>, String> {
        let body = json!({
            "textQuery": {"input": phrase},
            "contextAttributes": [{"key": "domain", "value": "docs.aws.amazon.com"}],
            "acceptSuggestionBody": "RawText",
            "locales": ["en_us"],
        });
        let response = self
            .docs
            .search_http()
            .post(&self.docs.config.search_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("search answered HTTP {status}"));
        }
        let answer: LiveAnswer = response.json().await.map_err(|e| {
            format!(
                "search answer is not the expected JSON: {}",
                error_chain(&e)
            )
        })?;
        Ok(answer
            .suggestions
            .into_iter()
            .filter_map(|s| s.text_excerpt_suggestion)
            .filter_map(|e| {
                let url = e.link?;
                let context = e.suggestion_body.or(e.summary).unwrap_or_default();
                Some(json!({
                    "url": url,
                    "title": e.title.unwrap_or_else(|| url.clone()),
                    "context": context,
                    "source": "live",
                }))
            })
            .take(limit)
            .collect())
    }
}

#[async_trait]
impl ToolHandler for SearchDocumentation {
    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let input: Input = parse_arguments("search_documentation", arguments)?;
        let phrase = input.search_phrase.trim().to_owned();
        if phrase.is_empty() || phrase.chars().count() > 1000 {
            return Err(ToolError::InvalidArgument(
                "search_phrase must be 1-1000 characters of text".into(),
            ));
        }
        if !(1..=50).contains(&input.limit) {
            return Err(ToolError::InvalidArgument(format!(
                "limit {} is out of range: give 1-50 (default 4)",
                input.limit
            )));
        }
        if input.topics.len() > 3 {
            return Err(ToolError::InvalidArgument(format!(
                "at most 3 topics may be given, not {}",
                input.topics.len()
            )));
        }
        if let Some(bad) = input.topics.iter().find(|t| !TOPICS.contains(&t.as_str())) {
            return Err(ToolError::InvalidArgument(format!(
                "unknown topic '{bad}'; valid topics: {}",
                TOPICS.join(", ")
            )));
        }
        let topics: Vec<&str> = if input.topics.is_empty() {
            vec!["general"]
        } else {
            input.topics.iter().map(String::as_str).collect()
        };
        let skills_only = topics == ["agent_skills"];
        let want_skills = topics
            .iter()
            .any(|t| matches!(*t, "agent_skills" | "general"));
        let api_first = topics.contains(&"reference_documentation");

        // Live search, unless only skills were asked for.
        let mut live_status = "not_used".to_owned();
        let mut live_hits = Vec::new();
        if !skills_only {
            if self.docs.config.live {
                match self.live(&phrase, input.limit).await {
                    Ok(hits) => {
                        live_status = "ok".into();
                        live_hits = hits;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live documentation search failed");
                        live_status = format!("failed: {e}");
                    }
                }
            } else {
                live_status = "disabled".into();
            }
        }

        // Offline: one BM25 index; skills only when a skill topic is asked for, API
        // reference entries whenever documentation is wanted.
        let docs = self.docs.clone();
        let query = phrase.clone();
        let limit = input.limit;
        let offline = tokio::task::spawn_blocking(move || {
            let index = docs.index.get();
            let hits = index.search(&query, |kind| match kind {
                DocKind::Skill { .. } => want_skills,
                DocKind::Api { .. } => !skills_only,
            });
            let mut hits = hits;
            // Keep the sources diverse: a relevant skill is worth a top slot even when
            // many short API entries score a little higher.
            if want_skills && !skills_only {
                let is_skill =
                    |h: &super::index::Hit| matches!(index.docs[h.doc].kind, DocKind::Skill { .. });
                let top = hits.first().map(|h| h.score).unwrap_or(0.0);
                let early = limit.div_ceil(2).min(hits.len());
                if let Some(pos) = hits.iter().position(is_skill)
                    && pos > 0
                    && hits[pos].score >= SKILL_FIRST * top
                {
                    // A skill that fits nearly as well as the best API page is the better
                    // first answer: it says how to do the task, not one call of it.
                    let skill = hits.remove(pos);
                    hits.insert(0, skill);
                } else if !hits[..early].iter().any(is_skill)
                    && let Some(pos) = hits.iter().position(is_skill)
                    && hits[pos].score >= 0.25 * top
                {
                    let skill = hits.remove(pos);
                    hits.insert(1.min(hits.len()), skill);
                }
            }
            hits.truncate(limit * 2);
            hits.into_iter()
                .map(|hit| {
                    let d = &index.docs[hit.doc];
                    let mut v = json!({
                        "url": d.url,
                        "title": d.title,
                        "context": index.context(hit.doc),
                    });
                    match &d.kind {
                        DocKind::Skill { name } => {
                            v["source"] = json!("skill");
                            v["skill_name"] = json!(name);
                        }
                        DocKind::Api { service, operation } => {
                            v["source"] = json!("api_reference");
                            v["service"] = json!(service);
                            v["operation"] = json!(operation);
                        }
                    }
                    v
                })
                .collect::<Vec<Value>>()
        })
        .await
        .map_err(|e| ToolError::Internal(format!("offline search failed: {e}")))?;

        // Offline hits keep their BM25 order; live hits are interleaved with them so
        // neither source crowds the other out (API reference first for that topic).
        let (first, second) = if api_first {
            (offline, live_hits)
        } else {
            (live_hits, offline)
        };
        let mut merged: Vec<Value> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let (mut a, mut b) = (first.into_iter(), second.into_iter());
        while merged.len() < input.limit {
            let next = match (a.next(), b.next()) {
                (None, None) => break,
                (x, y) => [x, y],
            };
            for hit in next.into_iter().flatten() {
                let url = hit["url"].as_str().unwrap_or_default().to_owned();
                if merged.len() < input.limit && seen.insert(url) {
                    merged.push(hit);
                }
            }
        }
        for (i, hit) in merged.iter_mut().enumerate() {
            hit["rank_order"] = json!(i + 1);
        }
        let mut out = json!({
            "results": merged,
            "sources": {"live": live_status, "offline": "ok"},
        });
        if live_status.starts_with("failed") {
            out["note"] = json!(format!(
                "The live AWS documentation search failed ({}); these results come from the offline index of skills and API references.",
                live_status.trim_start_matches("failed: ")
            ));
        }
        Ok(ToolOutput::structured(out))
    }
}
