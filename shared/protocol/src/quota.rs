//! Request-rate and connection quotas kept in a store that every server instance shares
//! (DynamoDB in Lambda, the state directory locally, memory in tests and over stdio).
//!
//! Rate: a generic cell rate algorithm (a token bucket stored as one number). Each account
//! has a "theoretical arrival time" `tat`; a request at `now` is admitted when
//! `max(tat, now) - now <= tolerance` and then moves `tat` on by one interval
//! (`1 / rate`). `tolerance = (burst - 1) * interval`, so an idle account may send `burst`
//! requests at once and `rate` per second after that.
//!
//! Connections: each request in flight holds a slot with a lease that its holder renews;
//! a slot whose lease ran out (its process died) no longer counts and is removed by the
//! next acquirer that finds the account full.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::session::StoreError;

/// Microseconds since the Unix epoch: the clock every instance shares.
pub fn now_epoch_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A rate quota in store units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Microseconds between requests at the sustained rate.
    pub interval_us: u64,
    /// How far ahead of `now` the arrival time may run (the burst).
    pub tolerance_us: u64,
}

impl RateLimit {
    /// `rate` requests per second with bursts of `burst` (at least one).
    pub fn per_second(rate: f64, burst: f64) -> Self {
        let interval_us = (1_000_000.0 / rate.max(1e-6)).round().max(1.0) as u64;
        let extra = (burst.max(1.0).floor() - 1.0) as u64;
        Self {
            interval_us,
            tolerance_us: interval_us * extra,
        }
    }

    /// Applies the algorithm to a stored arrival time: the new one, or `Err(wait)` in
    /// microseconds until a request would be admitted.
    pub fn step(&self, tat: Option<u64>, now: u64) -> Result<u64, u64> {
        let start = tat.unwrap_or(now).max(now);
        if start - now > self.tolerance_us {
            Err(start - now - self.tolerance_us)
        } else {
            Ok(start + self.interval_us)
        }
    }

    /// Takes a token against the stored arrival time `tat`, moving it on when admitted.
    pub fn take(&self, tat: &mut Option<u64>, now: u64) -> RateDecision {
        match self.step(*tat, now) {
            Ok(next) => {
                *tat = Some(next);
                RateDecision::Admitted
            }
            Err(wait) => RateDecision::refused_for(wait),
        }
    }
}

/// The answer to one request for a rate token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Admitted,
    /// Over the rate; a request would be admitted after this many seconds (at least 1).
    Refused {
        retry_after_secs: u64,
    },
}

impl RateDecision {
    pub fn refused_for(wait_us: u64) -> Self {
        RateDecision::Refused {
            retry_after_secs: wait_us.div_ceil(1_000_000).max(1),
        }
    }
}

/// The connection slots of one account: slot id to lease expiry (microseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slots(pub HashMap<String, u64>);

impl Slots {
    /// Drops expired leases and adds `slot` if fewer than `limit` remain; the count after.
    pub fn acquire(&mut self, slot: &str, limit: u64, lease_until: u64, now: u64) -> Option<u64> {
        self.0.retain(|_, until| *until > now);
        if self.0.len() as u64 >= limit {
            return None;
        }
        self.0.insert(slot.to_owned(), lease_until);
        Some(self.0.len() as u64)
    }
}

/// Where the shared quota counters live.
#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// Takes one request token of `account`.
    async fn take_request(
        &self,
        account: &str,
        limit: RateLimit,
        now_us: u64,
    ) -> Result<RateDecision, StoreError>;

    /// Holds connection `slot` of `account` until `lease_until_us` when fewer than `limit`
    /// live slots are held; the number held afterwards, or `None` when full.
    async fn acquire_connection(
        &self,
        account: &str,
        slot: &str,
        limit: u64,
        lease_until_us: u64,
        now_us: u64,
    ) -> Result<Option<u64>, StoreError>;

    /// Extends a held slot's lease (a long request keeps its slot).
    async fn renew_connection(
        &self,
        account: &str,
        slot: &str,
        lease_until_us: u64,
    ) -> Result<(), StoreError>;

    /// Gives a slot back.
    async fn release_connection(&self, account: &str, slot: &str) -> Result<(), StoreError>;
}

/// Quotas in process memory: exact within one process.
#[derive(Debug, Default)]
pub struct MemoryQuotaStore {
    rates: Mutex<HashMap<String, Option<u64>>>,
    slots: Mutex<HashMap<String, Slots>>,
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Backend("quota map poisoned".into())
}

#[async_trait]
impl QuotaStore for MemoryQuotaStore {
    async fn take_request(
        &self,
        account: &str,
        limit: RateLimit,
        now_us: u64,
    ) -> Result<RateDecision, StoreError> {
        let mut rates = self.rates.lock().map_err(poisoned)?;
        Ok(limit.take(rates.entry(account.to_owned()).or_default(), now_us))
    }

    async fn acquire_connection(
        &self,
        account: &str,
        slot: &str,
        limit: u64,
        lease_until_us: u64,
        now_us: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut slots = self.slots.lock().map_err(poisoned)?;
        Ok(slots.entry(account.to_owned()).or_default().acquire(
            slot,
            limit,
            lease_until_us,
            now_us,
        ))
    }

    async fn renew_connection(
        &self,
        account: &str,
        slot: &str,
        lease_until_us: u64,
    ) -> Result<(), StoreError> {
        let mut slots = self.slots.lock().map_err(poisoned)?;
        if let Some(held) = slots.get_mut(account).and_then(|s| s.0.get_mut(slot)) {
            *held = lease_until_us;
        }
        Ok(())
    }

    async fn release_connection(&self, account: &str, slot: &str) -> Result<(), StoreError> {
        let mut slots = self.slots.lock().map_err(poisoned)?;
        if let Some(s) = slots.get_mut(account) {
            s.0.remove(slot);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn burst_then_sustained_rate() {
        let store = MemoryQuotaStore::default();
        let limit = RateLimit::per_second(3.0, 10.0);
        let t0 = 1_000_000_000;
        let mut admitted = 0;
        for _ in 0..20 {
            if store.take_request("a", limit, t0).await.expect("take") == RateDecision::Admitted {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 10);
        // One second later three more tokens have accrued, no more.
        let t1 = t0 + 1_000_000;
        let mut later = 0;
        for _ in 0..10 {
            if store.take_request("a", limit, t1).await.expect("take") == RateDecision::Admitted {
                later += 1;
            }
        }
        assert_eq!(later, 3);
        assert!(matches!(
            store.take_request("a", limit, t1).await.expect("take"),
            RateDecision::Refused {
                retry_after_secs: 1
            }
        ));
        // Another account is untouched.
        assert_eq!(
            store.take_request("b", limit, t1).await.expect("take"),
            RateDecision::Admitted
        );
    }

    #[tokio::test]
    async fn slots_are_capped_released_and_expire() {
        let store = MemoryQuotaStore::default();
        let now = 5_000_000;
        assert_eq!(
            store
                .acquire_connection("a", "s1", 2, now + 10, now)
                .await
                .expect("acquire"),
            Some(1)
        );
        assert_eq!(
            store
                .acquire_connection("a", "s2", 2, now + 10, now)
                .await
                .expect("acquire"),
            Some(2)
        );
        assert_eq!(
            store
                .acquire_connection("a", "s3", 2, now + 10, now)
                .await
                .expect("acquire"),
            None
        );
        store.release_connection("a", "s1").await.expect("release");
        assert_eq!(
            store
                .acquire_connection("a", "s3", 2, now + 10, now)
                .await
                .expect("acquire"),
            Some(2)
        );
        // Leases that ran out (a crashed holder) stop counting.
        assert_eq!(
            store
                .acquire_connection("a", "s4", 2, now + 30, now + 11)
                .await
                .expect("acquire"),
            Some(1)
        );
    }
}
