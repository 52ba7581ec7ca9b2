//! The labelled query sets of `tests/data/` read into one shape, for the `retrieval_eval`
//! example and the test that keeps the sets well-formed (see `tests/data/README.md`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum QuerySetError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a JSON array: {source}")]
    NotArray {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: entry {index} ({query}): {reason}")]
    Entry {
        path: PathBuf,
        index: usize,
        query: String,
        reason: String,
    },
}

/// Which half of `retrieval_queries.json` an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Dev,
    Holdout,
}

/// How a request is phrased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phrasing {
    Question,
    Error,
    Goal,
    Operation,
}

impl Phrasing {
    pub const ALL: [Phrasing; 4] = [
        Phrasing::Question,
        Phrasing::Error,
        Phrasing::Goal,
        Phrasing::Operation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phrasing::Question => "question",
            Phrasing::Error => "error",
            Phrasing::Goal => "goal",
            Phrasing::Operation => "operation",
        }
    }
}

/// An API operation: botocore's service name and the PascalCase operation name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiOperation {
    pub service: String,
    pub operation: String,
}

/// A request and every answer accepted for it.
#[derive(Debug, Clone)]
pub struct Case {
    pub query: String,
    /// Set in `retrieval_queries.json` only.
    pub phrasing: Option<Phrasing>,
    pub split: Option<Split>,
    pub skills: Vec<String>,
    pub operations: Vec<ApiOperation>,
    /// `aws sts get-caller-identity`, `aws s3 cp`.
    pub commands: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrievalEntry {
    query: String,
    kind: Phrasing,
    split: Split,
    #[serde(default)]
    skills: Vec<String>,
    #[serde(default)]
    operations: Vec<ApiOperation>,
    #[serde(default)]
    commands: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchEntry {
    query: String,
    expected: SearchExpected,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchExpected {
    skill_name: Option<String>,
    service: Option<String>,
    operation: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestEntry {
    query: String,
    expected: Vec<String>,
}

/// `tests/data/retrieval_queries.json`.
pub fn load_retrieval(path: &Path) -> Result<Vec<Case>, QuerySetError> {
    load(path, |e: RetrievalEntry| Case {
        query: e.query,
        phrasing: Some(e.kind),
        split: Some(e.split),
        skills: e.skills,
        operations: e.operations,
        commands: e.commands,
    })
}

/// `tests/data/search_queries.json`: one skill or one operation per request.
pub fn load_search(path: &Path) -> Result<Vec<Case>, QuerySetError> {
    load(path, |e: SearchEntry| {
        let operations = match (e.expected.service, e.expected.operation) {
            (Some(service), Some(operation)) => vec![ApiOperation { service, operation }],
            _ => Vec::new(),
        };
        Case {
            query: e.query,
            phrasing: None,
            split: None,
            skills: e.expected.skill_name.into_iter().collect(),
            operations,
            commands: Vec::new(),
        }
    })
}

/// `tests/data/suggest_queries*.json`: the commands that answer each request.
pub fn load_suggest(path: &Path) -> Result<Vec<Case>, QuerySetError> {
    load(path, |e: SuggestEntry| Case {
        query: e.query,
        phrasing: None,
        split: None,
        skills: Vec::new(),
        operations: Vec::new(),
        commands: e.expected,
    })
}

/// Reads a JSON array entry by entry, so an error names the entry it is in.
fn load<T: for<'de> Deserialize<'de>>(
    path: &Path,
    convert: impl Fn(T) -> Case,
) -> Result<Vec<Case>, QuerySetError> {
    let raw = std::fs::read_to_string(path).map_err(|source| QuerySetError::Read {
        path: path.to_owned(),
        source,
    })?;
    let entries: Vec<Value> =
        serde_json::from_str(&raw).map_err(|source| QuerySetError::NotArray {
            path: path.to_owned(),
            source,
        })?;
    entries
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let bad = |reason: String, value: &Value| QuerySetError::Entry {
                path: path.to_owned(),
                index,
                query: value["query"].as_str().unwrap_or("no query").to_owned(),
                reason,
            };
            let entry: T =
                serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string(), &value))?;
            let case = convert(entry);
            if case.query.trim().is_empty() {
                return Err(bad("the query is empty".into(), &value));
            }
            if case.skills.is_empty() && case.operations.is_empty() && case.commands.is_empty() {
                return Err(bad("no accepted answer".into(), &value));
            }
            Ok(case)
        })
        .collect()
}
