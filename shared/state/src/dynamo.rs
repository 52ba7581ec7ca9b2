//! Sessions in the DynamoDB state table of `template.yaml`.
//!
//! Item layout: `pk = "session#<id>"`, `account_key`, `user_key`, `expires_at` (epoch
//! seconds; also the table's TTL attribute), plus the record's other fields. Two indexes,
//! `by-account` and `by-user`, keyed by `account_key` / `user_key` with `expires_at` as sort
//! key, count live sessions without a scan. TTL deletion lags by up to days, so every read
//! also checks `expires_at`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, Select, TransactWriteItem};
use mcp_protocol::session::now_epoch_seconds;
use mcp_protocol::{SessionAdmission, SessionLimits, SessionRecord, SessionStore, StoreError};

/// Names in the state table.
#[derive(Debug, Clone)]
pub struct StateTableLayout {
    pub table: String,
    pub account_index: String,
    pub user_index: String,
}

impl StateTableLayout {
    /// The layout `template.yaml` creates.
    pub fn standard(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            account_index: "by-account".into(),
            user_index: "by-user".into(),
        }
    }
}

/// Sessions stored in DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoSessionStore {
    pub(crate) client: Client,
    pub(crate) layout: StateTableLayout,
}

pub(crate) fn backend<E: std::error::Error + 'static>(e: SdkError<E>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

pub(crate) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

pub(crate) fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoSessionStore {
    pub fn new(client: Client, layout: StateTableLayout) -> Self {
        Self { client, layout }
    }

    pub(crate) fn key(id: &str) -> AttributeValue {
        s(&format!("session#{id}"))
    }

    fn decode(item: &HashMap<String, AttributeValue>) -> Result<SessionRecord, StoreError> {
        let text = |k: &str| -> Result<String, StoreError> {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("session item lacks {k}")))
        };
        let number = |k: &str| -> Result<u64, StoreError> {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("session item lacks numeric {k}")))
        };
        let pk = text("pk")?;
        Ok(SessionRecord {
            id: pk.strip_prefix("session#").unwrap_or(&pk).to_owned(),
            owner: text("user_key")?,
            account: text("account_key")?,
            protocol_version: text("protocol_version")?,
            client_name: item.get("client_name").and_then(|v| v.as_s().ok()).cloned(),
            // Absent on items written before the flag existed.
            can_elicit: item
                .get("can_elicit")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            created_at: number("created_at")?,
            expires_at: number("expires_at")?,
        })
    }

    async fn count(&self, index: &str, key: &str, value: &str) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.layout.table)
                .index_name(index)
                .key_condition_expression("#k = :v AND expires_at > :now")
                .expression_attribute_names("#k", key)
                .expression_attribute_values(":v", s(value))
                .expression_attribute_values(":now", n(now_epoch_seconds()))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            total += page.count().max(0) as u64;
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(total),
            }
        }
    }
}

/// The attributes of a session's item.
fn session_item(record: &SessionRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("pk".to_owned(), DynamoSessionStore::key(&record.id)),
        ("kind".to_owned(), s("session")),
        ("user_key".to_owned(), s(&record.owner)),
        ("account_key".to_owned(), s(&record.account)),
        ("protocol_version".to_owned(), s(&record.protocol_version)),
        ("created_at".to_owned(), n(record.created_at)),
        ("expires_at".to_owned(), n(record.expires_at)),
    ]);
    if let Some(name) = &record.client_name {
        item.insert("client_name".into(), s(name));
    }
    if record.can_elicit {
        item.insert("can_elicit".into(), AttributeValue::Bool(true));
    }
    item
}

impl DynamoSessionStore {
    /// A new session's item as one write of a transaction (never overwriting an id).
    pub(crate) fn session_put(
        &self,
        record: &SessionRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.layout.table)
            .set_item(Some(session_item(record)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Backend(format!("session write: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl SessionStore for DynamoSessionStore {
    async fn create(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let put = session_item(record)
            .into_iter()
            .fold(self.client.put_item(), |put, (k, v)| put.item(k, v))
            .table_name(&self.layout.table)
            .condition_expression("attribute_not_exists(pk)");
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict(record.id.clone()))
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn create_within(
        &self,
        record: &SessionRecord,
        limits: SessionLimits,
    ) -> Result<SessionAdmission, StoreError> {
        self.create_in_ledgers(record, limits).await
    }

    async fn get(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.layout.table)
            .key("pk", Self::key(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        match out.item {
            Some(item) => {
                let record = Self::decode(&item)?;
                Ok(record.is_live(now_epoch_seconds()).then_some(record))
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.layout.table)
            .key("pk", Self::key(id))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        let Some(old) = out.attributes.filter(|a| !a.is_empty()) else {
            return Ok(false);
        };
        let field = |k: &str| old.get(k).and_then(|v| v.as_s().ok()).cloned();
        if let (Some(account), Some(owner)) = (field("account_key"), field("user_key")) {
            self.forget_in_ledgers(id, &account, &owner).await?;
        }
        Ok(true)
    }

    async fn count_for_account(&self, account: &str) -> Result<u64, StoreError> {
        self.count(&self.layout.account_index, "account_key", account)
            .await
    }

    async fn count_for_owner(&self, owner: &str) -> Result<u64, StoreError> {
        self.count(&self.layout.user_index, "user_key", owner).await
    }
}
