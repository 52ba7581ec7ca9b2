//! Quota counters in the DynamoDB state table, one item per account and kind, changed only
//! by conditional `UpdateItem`s so that every instance sees one sequence of updates.
//!
//! - `pk = "quota#rate#<account>"`: `tat`, the account's next theoretical arrival time in
//!   microseconds (see [`mcp_protocol::quota`]). A request is one conditional update in the
//!   common case: "move `tat` on by one interval if it lies between now and now + burst"
//!   (busy account) or "set it to now + one interval if it is in the past" (idle account);
//!   the two are tried in turn, at most three writes, since `tat` only grows.
//! - `pk = "quota#conn#<account>"`: `slots`, a map of slot id to lease expiry. Acquiring is
//!   one update conditioned on `size(slots) < limit`; only when that fails are expired
//!   leases read and removed (each conditioned on its old value) before one more try.
//!
//! Both items carry `expires_at` (the table's TTL attribute) so idle accounts vanish.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use mcp_protocol::{QuotaStore, RateDecision, RateLimit, StoreError};

/// How long an idle counter item stays before TTL removes it.
const IDLE_TTL_SECS: u64 = 3600;

/// Rate and connection counters in the state table.
#[derive(Debug, Clone)]
pub struct DynamoQuotaStore {
    client: Client,
    table: String,
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn backend<E: std::error::Error + 'static>(e: SdkError<E>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

/// `Ok(Some(item))` when the update was made, `Ok(None)` when its condition failed.
type Updated = Result<Option<HashMap<String, AttributeValue>>, StoreError>;

fn conditional(
    result: Result<Option<HashMap<String, AttributeValue>>, SdkError<UpdateItemError>>,
) -> Updated {
    match result {
        Ok(item) => Ok(Some(item.unwrap_or_default())),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(backend(e)),
    }
}

fn ttl(now_us: u64) -> AttributeValue {
    n(now_us / 1_000_000 + IDLE_TTL_SECS)
}

impl DynamoQuotaStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// An update of the account's `kind` item (`rate` or `conn`).
    fn update_on(&self, kind: &str, account: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", Self::key(kind, account))
    }

    fn key(kind: &str, account: &str) -> AttributeValue {
        AttributeValue::S(format!("quota#{kind}#{account}"))
    }

    /// Busy account: `tat` in `(now, now + tolerance]` moves on by one interval.
    async fn rate_busy(&self, account: &str, limit: RateLimit, now: u64) -> Updated {
        let r = self
            .update_on("rate", account)
            .update_expression("SET tat = tat + :step, expires_at = :ttl")
            .condition_expression("tat > :now AND tat <= :latest")
            .expression_attribute_values(":step", n(limit.interval_us))
            .expression_attribute_values(":ttl", ttl(now))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":latest", n(now + limit.tolerance_us))
            .send()
            .await
            .map(|o| o.attributes);
        conditional(r)
    }

    /// Idle account: a `tat` in the past (or none) restarts at now + one interval.
    async fn rate_idle(&self, account: &str, limit: RateLimit, now: u64) -> Updated {
        let r = self
            .update_on("rate", account)
            .update_expression("SET tat = :next, expires_at = :ttl")
            .condition_expression("attribute_not_exists(tat) OR tat <= :now")
            .expression_attribute_values(":next", n(now + limit.interval_us))
            .expression_attribute_values(":ttl", ttl(now))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map(|o| o.attributes);
        conditional(r)
    }

    async fn read(
        &self,
        kind: &str,
        account: &str,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", Self::key(kind, account))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item.unwrap_or_default())
    }

    async fn add_slot(
        &self,
        account: &str,
        slot: &str,
        limit: u64,
        until: u64,
        now: u64,
    ) -> Updated {
        let r = self
            .update_on("conn", account)
            .update_expression("SET slots.#s = :until, expires_at = :ttl")
            .condition_expression("attribute_exists(slots) AND size(slots) < :limit")
            .expression_attribute_names("#s", slot)
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":ttl", ttl(now))
            .expression_attribute_values(":limit", n(limit))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map(|o| o.attributes);
        conditional(r)
    }

    async fn first_slot(&self, account: &str, slot: &str, until: u64, now: u64) -> Updated {
        let r = self
            .update_on("conn", account)
            .update_expression("SET slots = :one, expires_at = :ttl")
            .condition_expression("attribute_not_exists(slots)")
            .expression_attribute_values(
                ":one",
                AttributeValue::M(HashMap::from([(slot.to_owned(), n(until))])),
            )
            .expression_attribute_values(":ttl", ttl(now))
            .send()
            .await
            .map(|o| o.attributes);
        conditional(r)
    }

    /// Removes leases that ran out; `true` when any was removed.
    async fn prune(&self, account: &str, now: u64) -> Result<bool, StoreError> {
        let item = self.read("conn", account).await?;
        let mut removed = false;
        for (slot, until) in slot_map(&item) {
            if until > now {
                continue;
            }
            let r = self
                .update_on("conn", account)
                .update_expression("REMOVE slots.#s")
                .condition_expression("slots.#s = :old")
                .expression_attribute_names("#s", &slot)
                .expression_attribute_values(":old", n(until))
                .send()
                .await
                .map(|o| o.attributes);
            removed |= conditional(r)?.is_some();
        }
        Ok(removed)
    }
}

fn slot_map(item: &HashMap<String, AttributeValue>) -> Vec<(String, u64)> {
    item.get("slots")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn live_slots(item: &HashMap<String, AttributeValue>, now: u64) -> u64 {
    slot_map(item)
        .iter()
        .filter(|(_, until)| *until > now)
        .count() as u64
}

#[async_trait]
impl QuotaStore for DynamoQuotaStore {
    async fn take_request(
        &self,
        account: &str,
        limit: RateLimit,
        now_us: u64,
    ) -> Result<RateDecision, StoreError> {
        if self.rate_busy(account, limit, now_us).await?.is_some()
            || self.rate_idle(account, limit, now_us).await?.is_some()
            || self.rate_busy(account, limit, now_us).await?.is_some()
        {
            return Ok(RateDecision::Admitted);
        }
        // Both failed in turn, and `tat` only grows: it lies beyond now + tolerance.
        let item = self.read("rate", account).await?;
        let tat = item
            .get("tat")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok());
        Ok(match limit.step(tat, now_us) {
            Err(wait) => RateDecision::refused_for(wait),
            Ok(_) => RateDecision::refused_for(1),
        })
    }

    async fn acquire_connection(
        &self,
        account: &str,
        slot: &str,
        limit: u64,
        lease_until_us: u64,
        now_us: u64,
    ) -> Result<Option<u64>, StoreError> {
        if limit == 0 {
            return Ok(None);
        }
        if let Some(item) = self
            .add_slot(account, slot, limit, lease_until_us, now_us)
            .await?
        {
            return Ok(Some(live_slots(&item, now_us)));
        }
        if self
            .first_slot(account, slot, lease_until_us, now_us)
            .await?
            .is_some()
        {
            return Ok(Some(1));
        }
        // Another request created the map between the two writes above (the first burst
        // on an account): there may well be room in it.
        if let Some(item) = self
            .add_slot(account, slot, limit, lease_until_us, now_us)
            .await?
        {
            return Ok(Some(live_slots(&item, now_us)));
        }
        if !self.prune(account, now_us).await? {
            return Ok(None);
        }
        Ok(self
            .add_slot(account, slot, limit, lease_until_us, now_us)
            .await?
            .map(|item| live_slots(&item, now_us)))
    }

    async fn renew_connection(
        &self,
        account: &str,
        slot: &str,
        lease_until_us: u64,
    ) -> Result<(), StoreError> {
        let r = self
            .update_on("conn", account)
            .update_expression("SET slots.#s = :until")
            .condition_expression("attribute_exists(slots.#s)")
            .expression_attribute_names("#s", slot)
            .expression_attribute_values(":until", n(lease_until_us))
            .send()
            .await
            .map(|o| o.attributes);
        if conditional(r)?.is_none() {
            tracing::warn!("connection lease ran out before renewal");
        }
        Ok(())
    }

    async fn release_connection(&self, account: &str, slot: &str) -> Result<(), StoreError> {
        let r = self
            .update_on("conn", account)
            .update_expression("REMOVE slots.#s")
            .condition_expression("attribute_exists(slots)")
            .expression_attribute_names("#s", slot)
            .send()
            .await
            .map(|o| o.attributes);
        conditional(r).map(|_| ())
    }
}
