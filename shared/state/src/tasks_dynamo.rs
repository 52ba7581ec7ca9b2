//! Tasks in the DynamoDB state table of `template.yaml` (the sessions' table; its only key
//! is the string `pk`).
//!
//! Item layout:
//! - the task: `pk = "task#<id>"`, `kind = "task"`, `owner`, `tool`, `summary`, `status`,
//!   `progress`, `created_at`, `updated_at`, `lease_expires_at`, `expires_at_ms`
//!   (milliseconds), `expires_at` (seconds: the table's TTL attribute), and the result:
//!   inline as JSON text in `result` when it is at most [`INLINE_RESULT_BYTES`], otherwise
//!   split into `result_chunks` items.
//! - result chunks: `pk = "task#<id>#result#<generation>#<n>"`, `kind = "task-chunk"`,
//!   `data` (binary, at most [`CHUNK_BYTES`]), `expires_at`. DynamoDB items hold at most
//!   400 KB, so a large result is cut into pieces and put back together on read. The random
//!   generation in the key means a refused second completion can never overwrite the pieces
//!   of the first.
//!
//! Task items carry neither `account_key` nor `user_key`, so they stay out of the session
//! count indexes. Updates are conditional (`status = working` and the lease still running),
//! so a late worker cannot overwrite a cancellation or a lost-worker failure. TTL deletion
//! lags by up to days, so every read also checks the expiry.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use serde_json::Value;

use crate::StateTableLayout;
use crate::tasks::{
    TaskRecord, TaskStatus, TaskStore, TaskStoreError, TaskTimes, is_well_formed_task_id,
    new_task_id,
};

/// Results up to this size (JSON bytes) are stored in the task item itself.
pub const INLINE_RESULT_BYTES: usize = 300_000;
/// The size of one result chunk: under DynamoDB's 400 KB item limit with a margin.
pub const CHUNK_BYTES: usize = 350_000;
// Key, attribute names and the other fields leave room under DynamoDB's 400 KB item limit.
const _: () = assert!(CHUNK_BYTES + 1024 < 400 * 1024);
const _: () = assert!(INLINE_RESULT_BYTES + 3 * crate::tasks::MAX_TEXT_BYTES + 2048 < 400 * 1024);
/// BatchWriteItem takes 25 requests; BatchGetItem answers at most 16 MB, so ask for fewer
/// chunks than would exceed it.
const WRITE_BATCH: usize = 25;
const READ_BATCH: usize = 40;
/// Rounds of retrying unprocessed batch items before giving up.
const BATCH_ROUNDS: u32 = 8;

/// Tasks stored in DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoTaskStore {
    client: Client,
    table: String,
    times: TaskTimes,
}

fn backend<E: std::error::Error + 'static>(e: SdkError<E>) -> TaskStoreError {
    TaskStoreError::Backend(DisplayErrorContext(&e).to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn task_key(id: &str) -> String {
    format!("task#{id}")
}

fn chunk_key(id: &str, generation: &str, index: usize) -> String {
    format!("task#{id}#result#{generation}#{index}")
}

/// The TTL attribute: whole seconds, rounded up so that DynamoDB never deletes early.
fn ttl_seconds(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

/// Splits `bytes` into pieces of at most `size` bytes (at least one piece).
pub(crate) fn split_chunks(bytes: &[u8], size: usize) -> Vec<&[u8]> {
    if bytes.is_empty() {
        return vec![bytes];
    }
    bytes.chunks(size.max(1)).collect()
}

/// Where a stored result is.
enum StoredResult {
    None,
    Inline(String),
    Chunked { generation: String, count: usize },
}

impl DynamoTaskStore {
    /// The state table of `layout`, with the system clock and the standard 8-hour TTL.
    pub fn new(client: Client, layout: &StateTableLayout) -> Self {
        Self::with_times(client, layout, TaskTimes::default())
    }

    /// As [`Self::new`], with another clock or TTL (tests).
    pub fn with_times(client: Client, layout: &StateTableLayout, times: TaskTimes) -> Self {
        Self {
            client,
            table: layout.table.clone(),
            times,
        }
    }

    fn item_of(record: &TaskRecord) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_owned(), s(&task_key(&record.task_id))),
            ("kind".to_owned(), s("task")),
            ("owner".to_owned(), s(&record.owner)),
            ("tool".to_owned(), s(&record.tool)),
            ("summary".to_owned(), s(&record.summary)),
            ("status".to_owned(), s(record.status.as_str())),
            ("progress".to_owned(), s(&record.progress)),
            ("created_at".to_owned(), n(record.created_at)),
            ("updated_at".to_owned(), n(record.updated_at)),
            ("lease_expires_at".to_owned(), n(record.lease_expires_at)),
            ("expires_at_ms".to_owned(), n(record.expires_at)),
            ("expires_at".to_owned(), n(ttl_seconds(record.expires_at))),
        ])
    }

    /// The record of a task item, without its result, and where the result is.
    fn decode(
        item: &HashMap<String, AttributeValue>,
    ) -> Result<(TaskRecord, StoredResult), TaskStoreError> {
        let text = |k: &str| -> Result<String, TaskStoreError> {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .ok_or_else(|| TaskStoreError::Corrupt(format!("task item lacks {k}")))
        };
        let number = |k: &str| -> Result<u64, TaskStoreError> {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| TaskStoreError::Corrupt(format!("task item lacks numeric {k}")))
        };
        let pk = text("pk")?;
        let status = text("status")?;
        let record = TaskRecord {
            task_id: pk.strip_prefix("task#").unwrap_or(&pk).to_owned(),
            owner: text("owner")?,
            tool: text("tool")?,
            summary: text("summary")?,
            status: TaskStatus::parse(&status)
                .ok_or_else(|| TaskStoreError::Corrupt(format!("unknown task status {status}")))?,
            progress: text("progress")?,
            created_at: number("created_at")?,
            updated_at: number("updated_at")?,
            lease_expires_at: number("lease_expires_at")?,
            expires_at: number("expires_at_ms")?,
            result: None,
        };
        let stored = if let Ok(inline) = text("result") {
            StoredResult::Inline(inline)
        } else if let Ok(count) = number("result_chunks") {
            StoredResult::Chunked {
                generation: text("result_generation")?,
                count: usize::try_from(count)
                    .map_err(|_| TaskStoreError::Corrupt("chunk count".into()))?,
            }
        } else {
            StoredResult::None
        };
        Ok((record, stored))
    }

    /// The task item, consistently read, or None.
    async fn load(
        &self,
        task_id: &str,
    ) -> Result<Option<(TaskRecord, StoredResult)>, TaskStoreError> {
        if !is_well_formed_task_id(task_id) {
            return Ok(None);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&task_key(task_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(Self::decode).transpose()
    }

    /// The error a refused update should report, from the task as it is now.
    async fn refusal(&self, task_id: &str) -> TaskStoreError {
        let now = self.times.clock.now_ms();
        match self.load(task_id).await {
            Ok(Some((record, _))) => match record.check_updatable(now) {
                Err(e) => e,
                // It changed back under us (cannot happen with the conditions used); say so.
                Ok(()) => TaskStoreError::Backend(format!("task {task_id} changed concurrently")),
            },
            Ok(None) => TaskStoreError::NotFound(task_id.to_owned()),
            Err(e) => e,
        }
    }

    /// A working task, checked updatable at `now`.
    async fn load_updatable(&self, task_id: &str, now: u64) -> Result<TaskRecord, TaskStoreError> {
        let (record, _) = self
            .load(task_id)
            .await?
            .ok_or_else(|| TaskStoreError::NotFound(task_id.to_owned()))?;
        record.check_updatable(now)?;
        Ok(record)
    }

    async fn read_result(
        &self,
        task_id: &str,
        stored: StoredResult,
    ) -> Result<Option<Value>, TaskStoreError> {
        let text = match stored {
            StoredResult::None => return Ok(None),
            StoredResult::Inline(text) => text.into_bytes(),
            StoredResult::Chunked { generation, count } => {
                self.read_chunks(task_id, &generation, count).await?
            }
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| TaskStoreError::Corrupt(format!("task {task_id} result: {e}")))
    }

    async fn read_chunks(
        &self,
        task_id: &str,
        generation: &str,
        count: usize,
    ) -> Result<Vec<u8>, TaskStoreError> {
        let keys: Vec<String> = (0..count)
            .map(|i| chunk_key(task_id, generation, i))
            .collect();
        let mut pieces: HashMap<String, Vec<u8>> = HashMap::with_capacity(count);
        for batch in keys.chunks(READ_BATCH) {
            let mut pending: Vec<HashMap<String, AttributeValue>> = batch
                .iter()
                .map(|k| HashMap::from([("pk".to_owned(), s(k))]))
                .collect();
            let mut round = 0;
            while !pending.is_empty() {
                round += 1;
                if round > BATCH_ROUNDS {
                    return Err(TaskStoreError::Backend(format!(
                        "task {task_id}: result chunks still unprocessed after {BATCH_ROUNDS} rounds"
                    )));
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| TaskStoreError::Backend(e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(backend)?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let pk = item.get("pk").and_then(|v| v.as_s().ok()).cloned();
                    let data = item.get("data").and_then(|v| v.as_b().ok());
                    if let (Some(pk), Some(data)) = (pk, data) {
                        pieces.insert(pk, data.as_ref().to_vec());
                    }
                }
                if let Some(rest) = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    pending = rest.keys;
                    backoff(round).await;
                }
            }
        }
        let mut whole = Vec::new();
        for key in &keys {
            let piece = pieces.remove(key).ok_or_else(|| {
                TaskStoreError::Corrupt(format!("task {task_id}: result chunk {key} is missing"))
            })?;
            whole.extend_from_slice(&piece);
        }
        Ok(whole)
    }

    /// Writes (or, with `delete`, removes) the chunk items of one result generation.
    async fn write_chunks(
        &self,
        task_id: &str,
        generation: &str,
        pieces: &[&[u8]],
        ttl: u64,
        delete: bool,
    ) -> Result<(), TaskStoreError> {
        let requests: Vec<WriteRequest> = pieces
            .iter()
            .enumerate()
            .map(|(i, piece)| {
                let key = chunk_key(task_id, generation, i);
                if delete {
                    DeleteRequest::builder()
                        .key("pk", s(&key))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                } else {
                    PutRequest::builder()
                        .item("pk", s(&key))
                        .item("kind", s("task-chunk"))
                        .item("data", AttributeValue::B(Blob::new(piece.to_vec())))
                        .item("expires_at", n(ttl))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                }
            })
            .collect::<Result<_, _>>()
            .map_err(|e| TaskStoreError::Backend(e.to_string()))?;
        for batch in requests.chunks(WRITE_BATCH) {
            let mut pending = batch.to_vec();
            let mut round = 0;
            while !pending.is_empty() {
                round += 1;
                if round > BATCH_ROUNDS {
                    return Err(TaskStoreError::Backend(format!(
                        "task {task_id}: result chunks still unwritten after {BATCH_ROUNDS} rounds"
                    )));
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(backend)?;
                if let Some(rest) = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                {
                    pending = rest;
                    backoff(round).await;
                }
            }
        }
        Ok(())
    }
}

/// Exponential backoff for unprocessed batch items (throttling).
async fn backoff(round: u32) {
    tokio::time::sleep(Duration::from_millis(25u64 << round.min(6))).await;
}

fn is_condition_failure<E>(e: &SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

#[async_trait]
impl TaskStore for DynamoTaskStore {
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        summary: &str,
        lease: Duration,
    ) -> Result<TaskRecord, TaskStoreError> {
        let record = TaskRecord::new(owner, tool, summary, lease, &self.times)?;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item_of(&record)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(record),
            Err(e) if is_condition_failure(&e) => Err(TaskStoreError::Backend(format!(
                "task id collision on {}",
                record.task_id
            ))),
            Err(e) => Err(backend(e)),
        }
    }

    async fn heartbeat(
        &self,
        task_id: &str,
        progress: &str,
        lease: Duration,
    ) -> Result<(), TaskStoreError> {
        let now = self.times.clock.now_ms();
        let mut record = self.load_updatable(task_id, now).await?;
        record.apply_heartbeat(progress, lease, now);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&task_key(task_id)))
            .update_expression("SET progress = :p, updated_at = :now, lease_expires_at = :lease")
            .condition_expression("#st = :working AND lease_expires_at > :now")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":p", s(&record.progress))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":lease", n(record.lease_expires_at))
            .expression_attribute_values(":working", s(TaskStatus::Working.as_str()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(self.refusal(task_id).await),
            Err(e) => Err(backend(e)),
        }
    }

    async fn complete(
        &self,
        task_id: &str,
        status: TaskStatus,
        result: Value,
    ) -> Result<(), TaskStoreError> {
        if !status.is_terminal() {
            return Err(TaskStoreError::NotTerminal);
        }
        let now = self.times.clock.now_ms();
        let record = self.load_updatable(task_id, now).await?;
        let text = serde_json::to_vec(&result)
            .map_err(|e| TaskStoreError::Corrupt(format!("cannot encode result: {e}")))?;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&task_key(task_id)))
            .condition_expression("#st = :working AND lease_expires_at > :now")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":working", s(TaskStatus::Working.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":status", s(status.as_str()));
        let (update, chunks) = if text.len() <= INLINE_RESULT_BYTES {
            let inline = String::from_utf8(text)
                .map_err(|e| TaskStoreError::Corrupt(format!("result is not UTF-8: {e}")))?;
            let update = update
                .update_expression(
                    "SET #st = :status, updated_at = :now, #res = :result \
                     REMOVE result_chunks, result_generation",
                )
                .expression_attribute_names("#res", "result")
                .expression_attribute_values(":result", s(&inline));
            (update, None)
        } else {
            // The pieces go first: the task points at them only once they are all stored.
            let generation = new_task_id()?[..16].to_owned();
            let pieces = split_chunks(&text, CHUNK_BYTES);
            let ttl = ttl_seconds(record.expires_at);
            self.write_chunks(task_id, &generation, &pieces, ttl, false)
                .await?;
            let update = update
                .update_expression(
                    "SET #st = :status, updated_at = :now, result_chunks = :count, \
                     result_generation = :generation REMOVE #res",
                )
                .expression_attribute_names("#res", "result")
                .expression_attribute_values(":count", n(pieces.len() as u64))
                .expression_attribute_values(":generation", s(&generation));
            (update, Some((generation, pieces)))
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                if let Some((generation, pieces)) = chunks {
                    // Nothing points at these pieces; remove them now rather than at TTL.
                    if let Err(cleanup) = self
                        .write_chunks(task_id, &generation, &pieces, 0, true)
                        .await
                    {
                        tracing::warn!(error = %cleanup, task_id, "orphaned result chunks left to TTL");
                    }
                }
                if is_condition_failure(&e) {
                    Err(self.refusal(task_id).await)
                } else {
                    Err(backend(e))
                }
            }
        }
    }

    async fn get(&self, owner: &str, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError> {
        let now = self.times.clock.now_ms();
        let Some((record, stored)) = self.load(task_id).await? else {
            return Ok(None);
        };
        if record.owner != owner || record.is_expired(now) {
            return Ok(None);
        }
        if record.lease_lapsed(now) {
            let lost = record.clone().into_lost(now);
            let text = serde_json::to_string(&lost.result)
                .map_err(|e| TaskStoreError::Corrupt(format!("cannot encode result: {e}")))?;
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&task_key(task_id)))
                .update_expression("SET #st = :failed, updated_at = :now, #res = :result")
                .condition_expression("#st = :working AND lease_expires_at = :lease")
                .expression_attribute_names("#st", "status")
                .expression_attribute_names("#res", "result")
                .expression_attribute_values(":failed", s(TaskStatus::Failed.as_str()))
                .expression_attribute_values(":working", s(TaskStatus::Working.as_str()))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":lease", n(record.lease_expires_at))
                .expression_attribute_values(":result", s(&text))
                .send()
                .await;
            return match out {
                Ok(_) => Ok(Some(lost)),
                // Someone else changed it first (another reader marked it): read again.
                Err(e) if is_condition_failure(&e) => match self.load(task_id).await? {
                    Some((mut again, stored)) => {
                        again.result = self.read_result(task_id, stored).await?;
                        Ok(Some(again))
                    }
                    None => Ok(None),
                },
                Err(e) => Err(backend(e)),
            };
        }
        let mut record = record;
        record.result = self.read_result(task_id, stored).await?;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_bytes_in_order_and_fit_an_item() {
        let bytes: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let pieces = split_chunks(&bytes, CHUNK_BYTES);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.len() <= CHUNK_BYTES));
        assert_eq!(pieces.concat(), bytes);
        assert_eq!(split_chunks(&[], CHUNK_BYTES).len(), 1);
    }

    #[test]
    fn ttl_rounds_up_and_records_round_trip() {
        assert_eq!(ttl_seconds(1_000), 1);
        assert_eq!(ttl_seconds(1_001), 2);
        let record = TaskRecord::new(
            "arn:aws:iam::123456789012:user/alice",
            "call_aws",
            "summary",
            Duration::from_secs(30),
            &TaskTimes::default(),
        )
        .expect("record");
        let item = DynamoTaskStore::item_of(&record);
        assert!(!item.contains_key("user_key") && !item.contains_key("account_key"));
        let (decoded, stored) = DynamoTaskStore::decode(&item).expect("decode");
        assert_eq!(decoded, record);
        assert!(matches!(stored, StoredResult::None));
    }
}
