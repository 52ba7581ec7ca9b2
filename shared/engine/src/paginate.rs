//! Walking the pages of a paginated operation and merging them as the AWS CLI does
//! (botocore's `PageIterator` and `build_full_result`), within a budget.
//!
//! Wire rules kept from botocore, because the output and the resume tokens must be the
//! CLI's:
//! - the paginator model names the input token(s), output token expression(s), the limit key,
//!   the result key(s) (the first one is "primary": `--max-items` counts its items), an
//!   optional `more_results` expression and `non_aggregate_keys`;
//! - result keys are concatenated over pages (lists extended, strings joined, numbers summed);
//!   non-aggregate keys come from the first page (missing ones as `null`); every other member
//!   is dropped;
//! - a resume token is `base64(json({"<InputToken>": value, ..., "boto_truncate_amount": n}))`,
//!   `n` being how many items of the page named by the token were already returned.
//!
//! The budget (items, bytes, time) ends the walk early the same way `--max-items` does, so a
//! cut answer always carries a token that `--starting-token` resumes.

use std::time::{Duration, Instant};

use aws_models::{Operation, ServiceModel};
use base64::Engine;
use serde_json::{Map, Value};

use crate::execute::{CallAnswer, CallError, CallTarget, Executor};
use crate::python::truthy;

/// How far one `call_aws` may walk.
#[derive(Debug, Clone, Copy)]
pub struct PageBudget {
    /// Items of the primary result key (the tool's `max_results`).
    pub max_items: Option<usize>,
    /// Approximate JSON size of the merged result.
    pub max_bytes: usize,
    pub max_time: Duration,
    pub max_pages: u32,
}

impl Default for PageBudget {
    fn default() -> Self {
        Self {
            max_items: None,
            max_bytes: 256 * 1024,
            max_time: Duration::from_secs(30),
            max_pages: 100,
        }
    }
}

/// A merged answer.
#[derive(Debug, Clone)]
pub struct Paged {
    pub output: Map<String, Value>,
    /// Set when the walk stopped before the last page: `--starting-token` resumes.
    pub next_token: Option<String>,
    /// Stopped by the server's budget (bytes, time, pages) rather than by the caller's
    /// `--max-items` / `max_results`.
    pub truncated_by_budget: bool,
    pub pages: u32,
    pub attempts: u32,
}

/// The paginator of an operation, decoded.
#[derive(Debug, Clone)]
pub struct Paginator {
    pub input_tokens: Vec<String>,
    pub output_tokens: Vec<String>,
    pub limit_key: Option<String>,
    pub result_keys: Vec<String>,
    pub more_results: Option<String>,
    pub non_aggregate_keys: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

impl Paginator {
    pub fn of(model: &ServiceModel, operation: &str) -> Option<Self> {
        let p = model.paginators.get(operation)?;
        let result_keys = strings(p.get("result_key"));
        let input_tokens = strings(p.get("input_token"));
        if input_tokens.is_empty() {
            return None;
        }
        Some(Self {
            input_tokens,
            output_tokens: strings(p.get("output_token")),
            limit_key: p
                .get("limit_key")
                .and_then(Value::as_str)
                .map(str::to_owned),
            result_keys,
            more_results: p
                .get("more_results")
                .and_then(Value::as_str)
                .map(str::to_owned),
            non_aggregate_keys: strings(p.get("non_aggregate_keys")),
        })
    }
}

/// Settings from the command line: `--starting-token`, `--page-size`, `--max-items`.
#[derive(Debug, Clone, Default)]
pub struct PagingArgs {
    pub starting_token: Option<String>,
    pub page_size: Option<i64>,
    pub max_items: Option<i64>,
}

impl PagingArgs {
    pub fn from_map(paging: &Map<String, Value>) -> Self {
        Self {
            starting_token: paging
                .get("StartingToken")
                .and_then(Value::as_str)
                .map(str::to_owned),
            page_size: paging.get("PageSize").and_then(Value::as_i64),
            max_items: paging.get("MaxItems").and_then(Value::as_i64),
        }
    }
}

/// Evaluates a JMESPath expression on a page (token expressions may use `||`, indexes).
fn search(expr: &str, data: &Map<String, Value>) -> Result<Value, CallError> {
    let compiled = crate::query::compile(expr)
        .map_err(|e| CallError::Internal(format!("bad paginator expression {expr}: {e}")))?;
    let found = compiled
        .search(Value::Object(data.clone()))
        .map_err(|e| CallError::Internal(format!("paginator expression {expr}: {e}")))?;
    serde_json::to_value(&*found).map_err(|e| CallError::Internal(e.to_string()))
}

/// `a.b.c` lookup (result and non-aggregate keys are plain dotted paths).
fn get_path<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = data.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// botocore's `set_value_from_jmespath`: creates the intermediate objects.
fn set_path(data: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            data.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = data
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// The resume token botocore's `TokenEncoder` writes.
pub fn encode_token(token: &Map<String, Value>) -> String {
    let text = crate::serialize::python_json(&Value::Object(token.clone()));
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// Reads a resume token: the input tokens and how many items of that page to skip.
pub fn decode_token(token: &str) -> Result<(Map<String, Value>, usize), CallError> {
    let invalid = || {
        CallError::Validation(format!(
            "Bad starting token: {token}. Pass the NextToken value of an earlier answer unchanged."
        ))
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    let mut map: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let skip = match map.remove("boto_truncate_amount") {
        Some(v) => v.as_u64().ok_or_else(invalid)? as usize,
        None => 0,
    };
    Ok((map, skip))
}

fn item_count(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Array(a)) => a.len(),
        Some(Value::String(s)) => s.chars().count(),
        _ => 0,
    }
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0)
}

/// Walks the pages of `operation` and merges them.
#[allow(clippy::too_many_arguments)]
pub async fn paginate(
    executor: &Executor,
    model: &ServiceModel,
    operation: &Operation,
    paginator: &Paginator,
    params: &Map<String, Value>,
    target: &CallTarget<'_>,
    args: &PagingArgs,
    budget: &PageBudget,
) -> Result<Paged, CallError> {
    let started = Instant::now();
    let mut kwargs = params.clone();
    let mut next_token: Map<String, Value> = paginator
        .input_tokens
        .iter()
        .map(|k| (k.clone(), Value::Null))
        .collect();
    let mut starting_truncation = 0usize;
    if let Some(token) = &args.starting_token {
        let (decoded, skip) = decode_token(token)?;
        next_token = decoded;
        starting_truncation = skip;
        inject_tokens(&mut kwargs, &next_token);
    }
    if let (Some(limit), Some(size)) = (&paginator.limit_key, args.page_size) {
        kwargs.insert(limit.clone(), Value::from(size));
    }
    // The caller's --max-items and the tool's max_results: the smaller wins.
    let caller_max = match (args.max_items, budget.max_items) {
        (Some(a), Some(b)) => Some((a.max(0) as usize).min(b)),
        (Some(a), None) => Some(a.max(0) as usize),
        (None, b) => b,
    };
    let primary = paginator.result_keys.first().cloned();

    let mut pages: Vec<Map<String, Value>> = Vec::new();
    let mut non_aggregate = Map::new();
    let mut resume: Option<Map<String, Value>> = None;
    let mut by_budget = false;
    let mut total_items = 0usize;
    let mut total_bytes = 0usize;
    let mut previous: Option<Map<String, Value>> = None;
    let mut attempts = 0;
    let mut first = true;

    loop {
        let CallAnswer {
            output: mut page,
            attempts: a,
            ..
        } = executor.call(model, operation, &kwargs, target).await?;
        attempts += a;
        let mut skipped_now = 0;
        if first {
            if args.starting_token.is_some() {
                skipped_now = starting_truncation;
                truncate_first(
                    &mut page,
                    paginator,
                    primary.as_deref(),
                    starting_truncation,
                );
            }
            for key in &paginator.non_aggregate_keys {
                let v = search(key, &page)?;
                set_path(&mut non_aggregate, key, v);
            }
            first = false;
        }
        let count = item_count(primary.as_deref().and_then(|p| get_path(&page, p)));
        let page_bytes: usize = paginator
            .result_keys
            .iter()
            .filter_map(|k| get_path(&page, k))
            .map(json_len)
            .sum();

        // Items allowed from this page: the caller's cap, then the byte budget.
        let mut keep = count;
        let mut capped_by_caller = false;
        if let Some(max) = caller_max
            && total_items + count > max
        {
            keep = max.saturating_sub(total_items);
            capped_by_caller = true;
        }
        if total_bytes + page_bytes > budget.max_bytes && count > 0 {
            let per_item = page_bytes / count.max(1);
            let room = budget.max_bytes.saturating_sub(total_bytes) / per_item.max(1);
            // Always make progress: at least one item per answer.
            let fit = room.max(usize::from(total_items == 0));
            if fit < keep {
                keep = fit;
                capped_by_caller = false;
                by_budget = true;
            }
        }
        if keep < count {
            if let Some(p) = &primary
                && let Some(Value::Array(items)) = get_path(&page, p).cloned()
            {
                set_path(&mut page, p, Value::Array(items[..keep].to_vec()));
            }
            let mut token = next_token.clone();
            token.insert(
                "boto_truncate_amount".into(),
                Value::from(keep + skipped_now),
            );
            resume = Some(token);
            by_budget = by_budget && !capped_by_caller;
            pages.push(page);
            break;
        }
        total_items += count;
        total_bytes += page_bytes;
        let following = next_tokens(paginator, &page)?;
        pages.push(page);
        if following.values().all(Value::is_null) {
            break;
        }
        if caller_max.is_some_and(|m| total_items == m) {
            resume = Some(following);
            break;
        }
        if previous.as_ref() == Some(&following) {
            return Err(CallError::Service(crate::response::ServiceError {
                code: "PaginationError".into(),
                message: format!(
                    "The same next token was received twice: {}",
                    Value::Object(following)
                ),
                status: 200,
                request_id: None,
                operation: operation.name.clone(),
            }));
        }
        let over_budget = total_bytes >= budget.max_bytes
            || started.elapsed() >= budget.max_time
            || pages.len() as u32 >= budget.max_pages;
        if over_budget {
            resume = Some(following);
            by_budget = true;
            break;
        }
        inject_tokens(&mut kwargs, &following);
        next_token = following.clone();
        previous = Some(following);
    }

    let page_count = pages.len() as u32;
    let mut output = merge(paginator, pages);
    for (k, v) in non_aggregate {
        merge_into(&mut output, k, v);
    }
    let next = resume.map(|t| encode_token(&t));
    if let Some(token) = &next {
        output.insert("NextToken".into(), Value::String(token.clone()));
    }
    Ok(Paged {
        output,
        next_token: next,
        truncated_by_budget: by_budget,
        pages: page_count,
        attempts,
    })
}

/// botocore's `_handle_first_request`: skip what the token says was already returned and
/// empty the secondary result keys (they were returned whole with that page).
fn truncate_first(
    page: &mut Map<String, Value>,
    paginator: &Paginator,
    primary: Option<&str>,
    skip: usize,
) {
    let Some(primary) = primary else { return };
    let data = match get_path(page, primary) {
        Some(Value::Array(a)) => Value::Array(a.iter().skip(skip).cloned().collect()),
        Some(Value::String(s)) => Value::String(s.chars().skip(skip).collect()),
        _ => Value::Null,
    };
    set_path(page, primary, data);
    for key in paginator.result_keys.iter().skip(1) {
        let empty = match get_path(page, key) {
            Some(Value::Array(_)) => Value::Array(Vec::new()),
            Some(Value::String(_)) => Value::String(String::new()),
            // Counts (DynamoDB's Count/ScannedCount) keep what the server evaluated.
            Some(Value::Number(n)) => Value::Number(n.clone()),
            _ => Value::Null,
        };
        set_path(page, key, empty);
    }
}

fn next_tokens(
    paginator: &Paginator,
    page: &Map<String, Value>,
) -> Result<Map<String, Value>, CallError> {
    if let Some(more) = &paginator.more_results
        && !truthy(&search(more, page)?)
    {
        return Ok(Map::new());
    }
    let mut out = Map::new();
    for (expr, input) in paginator.output_tokens.iter().zip(&paginator.input_tokens) {
        let v = search(expr, page)?;
        out.insert(input.clone(), if truthy(&v) { v } else { Value::Null });
    }
    Ok(out)
}

fn inject_tokens(kwargs: &mut Map<String, Value>, tokens: &Map<String, Value>) {
    for (name, token) in tokens {
        if token.is_null() || token.as_str() == Some("None") {
            kwargs.remove(name);
        } else {
            kwargs.insert(name.clone(), token.clone());
        }
    }
}

/// `build_full_result`.
fn merge(paginator: &Paginator, pages: Vec<Map<String, Value>>) -> Map<String, Value> {
    let mut complete = Map::new();
    for page in pages {
        for key in &paginator.result_keys {
            let Some(value) = get_path(&page, key).cloned() else {
                continue;
            };
            if value.is_null() {
                continue;
            }
            let existing = get_path(&complete, key).cloned();
            let merged = match (existing, value) {
                (None | Some(Value::Null), v) => v,
                (Some(Value::Array(mut a)), Value::Array(b)) => {
                    a.extend(b);
                    Value::Array(a)
                }
                (Some(Value::String(a)), Value::String(b)) => Value::String(a + &b),
                (Some(Value::Number(a)), Value::Number(b)) => add_numbers(&a, &b),
                (Some(e), _) => e,
            };
            set_path(&mut complete, key, merged);
        }
    }
    complete
}

fn add_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Value {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Value::from(x.saturating_add(y)),
        _ => serde_json::Number::from_f64(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))
            .map_or(Value::Null, Value::Number),
    }
}

/// botocore's `merge_dicts`: nested objects merge, other values replace.
fn merge_into(into: &mut Map<String, Value>, key: String, value: Value) {
    match (into.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(incoming)) => {
            for (k, v) in incoming {
                merge_into(existing, k, v);
            }
        }
        (_, v) => {
            into.insert(key, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_round_trip_like_botocore() {
        let mut t = Map::new();
        t.insert("Marker".into(), json!("abc"));
        t.insert("boto_truncate_amount".into(), json!(2));
        let encoded = encode_token(&t);
        // base64 of Python's json.dumps({"Marker": "abc", "boto_truncate_amount": 2})
        assert_eq!(
            encoded,
            "eyJNYXJrZXIiOiAiYWJjIiwgImJvdG9fdHJ1bmNhdGVfYW1vdW50IjogMn0="
        );
        let (back, skip) = decode_token(&encoded).expect("decodes");
        assert_eq!(back["Marker"], json!("abc"));
        assert_eq!(skip, 2);
        assert!(decode_token("not a token").is_err());
    }

    #[test]
    fn merge_extends_lists_and_keeps_only_result_keys() {
        let p = Paginator {
            input_tokens: vec!["NextToken".into()],
            output_tokens: vec!["NextToken".into()],
            limit_key: None,
            result_keys: vec!["Items".into(), "Dist.Count".into()],
            more_results: None,
            non_aggregate_keys: vec![],
        };
        let pages = vec![
            json!({"Items": [1, 2], "Dist": {"Count": 2}, "Other": 1}),
            json!({"Items": [3], "Dist": {"Count": 1}}),
        ]
        .into_iter()
        .map(|v| v.as_object().cloned().expect("object"))
        .collect();
        let merged = merge(&p, pages);
        assert_eq!(
            Value::Object(merged),
            json!({"Items": [1, 2, 3], "Dist": {"Count": 3}})
        );
    }

    #[test]
    fn more_results_false_ends_the_walk() {
        let p = Paginator {
            input_tokens: vec!["Marker".into()],
            output_tokens: vec!["NextMarker || Contents[-1].Key".into()],
            limit_key: None,
            result_keys: vec!["Contents".into()],
            more_results: Some("IsTruncated".into()),
            non_aggregate_keys: vec![],
        };
        let page = json!({"IsTruncated": false, "Contents": [{"Key": "a"}]});
        let t = next_tokens(&p, page.as_object().expect("object")).expect("ok");
        assert!(t.is_empty());
        let page = json!({"IsTruncated": true, "Contents": [{"Key": "a"}, {"Key": "b"}]});
        let t = next_tokens(&p, page.as_object().expect("object")).expect("ok");
        assert_eq!(t["Marker"], json!("b"));
    }
}
