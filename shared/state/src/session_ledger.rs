//! Exact session quotas in DynamoDB.
//!
//! The indexes of the state table are eventually consistent, so counting through them and
//! then creating lets simultaneous `initialize`s pass the limit together. Instead one ledger
//! item per account (`pk = "sessions#account#<account>"`) and per caller
//! (`sessions#user#<owner>`) lists the live sessions as a map of id to expiry. A new session
//! is written in one `TransactWriteItems` with both ledgers, each put on the condition that
//! its `version` is still the one read: of two racing creations one commits and the other
//! reads again. Ending a session removes it from both ledgers and bumps their versions.
//! Cost of an `initialize`: two consistent `GetItem`s and one transaction of three writes.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use mcp_protocol::session::now_epoch_seconds;
use mcp_protocol::{SessionAdmission, SessionLimits, SessionRecord, StoreError};

use crate::dynamo::{DynamoSessionStore, backend, n, s};

/// Rounds of read-and-commit before a crowded ledger is reported as a store failure.
const ATTEMPTS: u32 = 12;

/// One ledger as read: its version (0 when absent) and live sessions.
struct Ledger {
    key: AttributeValue,
    version: Option<u64>,
    live: HashMap<String, u64>,
}

impl Ledger {
    fn count(&self) -> u64 {
        self.live.len() as u64
    }

    /// The conditional put that records `record` in this ledger.
    fn put_with(
        &self,
        table: &str,
        record: &SessionRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut live: HashMap<String, AttributeValue> = self
            .live
            .iter()
            .map(|(id, exp)| (id.clone(), n(*exp)))
            .collect();
        live.insert(record.id.clone(), n(record.expires_at));
        // The item outlives its last session by nothing: the table's TTL removes idle ledgers.
        let last_expiry = self
            .live
            .values()
            .copied()
            .chain([record.expires_at])
            .max()
            .unwrap_or(record.expires_at);
        let mut put = Put::builder()
            .table_name(table)
            .item("pk", self.key.clone())
            .item("kind", s("session-ledger"))
            .item("live", AttributeValue::M(live))
            .item("version", n(self.version.unwrap_or(0) + 1))
            .item("expires_at", n(last_expiry));
        put = match self.version {
            Some(v) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v)),
            None => put.condition_expression("attribute_not_exists(pk)"),
        };
        let put = put
            .build()
            .map_err(|e| StoreError::Backend(format!("ledger write: {e}")))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

fn ledger_key(scope: &str, value: &str) -> AttributeValue {
    s(&format!("sessions#{scope}#{value}"))
}

/// Why a transaction was cancelled, by item: `ConditionalCheckFailed` and the like.
fn cancellation_codes(e: &SdkError<TransactWriteItemsError>) -> Option<Vec<String>> {
    match e.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(t) => Some(
            t.cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None").to_owned())
                .collect(),
        ),
        _ => None,
    }
}

impl DynamoSessionStore {
    async fn read_ledger(&self, key: AttributeValue, now: u64) -> Result<Ledger, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.layout.table)
            .key("pk", key.clone())
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let Some(item) = out.item else {
            return Ok(Ledger {
                key,
                version: None,
                live: HashMap::new(),
            });
        };
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Corrupt("session ledger lacks its version".into()))?;
        let live = match item.get("live") {
            Some(AttributeValue::M(m)) => m
                .iter()
                .filter_map(|(id, exp)| Some((id.clone(), exp.as_n().ok()?.parse::<u64>().ok()?)))
                .filter(|(_, exp)| *exp > now)
                .collect(),
            _ => HashMap::new(),
        };
        Ok(Ledger {
            key,
            version: Some(version),
            live,
        })
    }

    /// Counts and creates in one step (see the module docs).
    pub(crate) async fn create_in_ledgers(
        &self,
        record: &SessionRecord,
        limits: SessionLimits,
    ) -> Result<SessionAdmission, StoreError> {
        for attempt in 0..ATTEMPTS {
            let now = now_epoch_seconds();
            let account = self
                .read_ledger(ledger_key("account", &record.account), now)
                .await?;
            if account.count() >= limits.per_account {
                return Ok(SessionAdmission::AccountFull(account.count()));
            }
            let user = self
                .read_ledger(ledger_key("user", &record.owner), now)
                .await?;
            if user.count() >= limits.per_user {
                return Ok(SessionAdmission::UserFull(user.count()));
            }
            let table = &self.layout.table;
            let sent = self
                .client
                .transact_write_items()
                .transact_items(account.put_with(table, record)?)
                .transact_items(user.put_with(table, record)?)
                .transact_items(self.session_put(record)?)
                .send()
                .await;
            let e = match sent {
                Ok(_) => {
                    return Ok(SessionAdmission::Created {
                        account: account.count() + 1,
                        user: user.count() + 1,
                    });
                }
                Err(e) => e,
            };
            match cancellation_codes(&e) {
                // The session id itself was taken (the third write's condition).
                Some(codes) if codes.get(2).is_some_and(|c| c == "ConditionalCheckFailed") => {
                    return Err(StoreError::Conflict(record.id.clone()));
                }
                // A ledger changed since it was read, or another transaction held it
                // (`TransactionConflict`): read again.
                Some(_) => {
                    tokio::time::sleep(Duration::from_millis(5 + 10 * u64::from(attempt))).await;
                }
                None => return Err(backend(e)),
            }
        }
        Err(StoreError::Backend(format!(
            "the session ledgers changed under {ATTEMPTS} attempts in a row; try again"
        )))
    }

    /// Removes an ended session from its ledgers. A ledger that is gone needs nothing.
    pub(crate) async fn forget_in_ledgers(
        &self,
        id: &str,
        account: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        for key in [ledger_key("account", account), ledger_key("user", owner)] {
            let updated = self
                .client
                .update_item()
                .table_name(&self.layout.table)
                .key("pk", key)
                .update_expression("REMOVE live.#id SET version = version + :one")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#id", id)
                .expression_attribute_values(":one", n(1))
                .send()
                .await;
            if let Err(e) = updated
                && !e
                    .as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception())
            {
                return Err(backend(e));
            }
        }
        Ok(())
    }
}
