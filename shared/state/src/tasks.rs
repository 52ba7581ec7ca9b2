//! Tasks: long-running tool calls (`call_aws`, `run_script`) that clients poll with
//! `get_tasks`.
//!
//! A task is created `working` with a lease; its worker extends the lease with heartbeats
//! (which also carry progress) and finally completes it (`completed`, `failed` or
//! `cancelled`, with a result). A task whose lease runs out while `working` has lost its
//! worker (timeout or crash): readers see it, and the store records it, as `failed`. Tasks
//! are visible only to their owner and live 8 hours from creation (the session storage
//! limit), after which they read as not found.
//!
//! The rules live here as pure functions on [`TaskRecord`], so that every store
//! ([`MemoryTaskStore`], [`crate::DirTaskStore`], [`crate::DynamoTaskStore`]) applies the
//! same ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long a task is kept after it is created.
pub const TASK_TTL: Duration = Duration::from_secs(8 * 3600);
/// Longest progress text and summary stored (bytes); longer ones are cut at a character
/// boundary, so a chatty worker cannot grow a record without bound.
pub const MAX_TEXT_BYTES: usize = 4096;

/// Where a task stands. Serialised lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Working,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Working => "working",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "working" => Some(TaskStatus::Working),
            "completed" => Some(TaskStatus::Completed),
            "failed" => Some(TaskStatus::Failed),
            "cancelled" => Some(TaskStatus::Cancelled),
            _ => None,
        }
    }

    /// Whether the task has finished (anything but `working`).
    pub fn is_terminal(self) -> bool {
        self != TaskStatus::Working
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One task as stored. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// 256 random bits, hex: unguessable, and safe in file names and keys.
    pub task_id: String,
    /// The caller's owner key (principal ARN); only it can read the task.
    pub owner: String,
    pub tool: String,
    pub summary: String,
    pub status: TaskStatus,
    pub progress: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub lease_expires_at: u64,
    /// `created_at` + 8 hours; after it the task reads as not found.
    pub expires_at: u64,
    pub result: Option<Value>,
}

/// Failures of a task store.
#[derive(Debug, thiserror::Error)]
pub enum TaskStoreError {
    #[error("task {0} not found (unknown or expired)")]
    NotFound(String),
    /// A heartbeat or completion for a task that already finished (completed, cancelled, or
    /// failed because its lease ran out): its worker should stop.
    #[error("task {task_id} has already finished: {status}")]
    Finished { task_id: String, status: TaskStatus },
    #[error("a task can only be completed as completed, failed or cancelled, not working")]
    NotTerminal,
    #[error("task store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("task record is corrupt: {0}")]
    Corrupt(String),
    #[error("task store backend failed: {0}")]
    Backend(String),
}

/// Where tasks live: DynamoDB in Lambda, a shared directory locally, memory in tests.
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// A new `working` task of `owner`, leased for `lease`.
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        summary: &str,
        lease: Duration,
    ) -> Result<TaskRecord, TaskStoreError>;
    /// Extends the lease to now + `lease` and records progress. Fails with
    /// [`TaskStoreError::Finished`] once the task has finished (the worker should stop) and
    /// [`TaskStoreError::NotFound`] for unknown or expired ids.
    async fn heartbeat(
        &self,
        task_id: &str,
        progress: &str,
        lease: Duration,
    ) -> Result<(), TaskStoreError>;
    /// Finishes a working task with `status` (not `working`) and its result. The result is
    /// stored whole, whatever its size.
    async fn complete(
        &self,
        task_id: &str,
        status: TaskStatus,
        result: Value,
    ) -> Result<(), TaskStoreError>;
    /// Only the owner's tasks are returned; unknown, expired or foreign ids → None (caller says not_found).
    /// A Working task whose lease has run out is reported (and stored) as Failed with a message
    /// saying its worker stopped (timeout or crash).
    async fn get(&self, owner: &str, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError>;
}

/// Milliseconds since the Unix epoch, from the system clock or, in tests, from anywhere.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        }))
    }

    pub fn from_fn(f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    pub fn now_ms(&self) -> u64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The clock and lifetime a store works with.
#[derive(Debug, Clone)]
pub struct TaskTimes {
    pub clock: Clock,
    pub ttl: Duration,
}

impl Default for TaskTimes {
    fn default() -> Self {
        TaskTimes {
            clock: Clock::system(),
            ttl: TASK_TTL,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `s` cut to at most [`MAX_TEXT_BYTES`], at a character boundary.
pub fn clip(s: &str) -> String {
    if s.len() <= MAX_TEXT_BYTES {
        return s.to_owned();
    }
    let mut end = MAX_TEXT_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// A fresh unguessable task id: 256 random bits, hex.
pub fn new_task_id() -> Result<String, TaskStoreError> {
    mcp_protocol::session::new_session_id().map_err(|e| TaskStoreError::Backend(e.to_string()))
}

/// Whether `id` has the shape [`new_task_id`] produces (and so is safe in paths and keys).
pub fn is_well_formed_task_id(id: &str) -> bool {
    mcp_protocol::session::is_well_formed_session_id(id)
}

/// The message a task gets when its lease runs out.
pub const LOST_WORKER_MESSAGE: &str = "the task's worker stopped before finishing (it timed out or crashed); \
     its lease was not renewed. Run the call again.";

impl TaskRecord {
    /// A new working task.
    pub fn new(
        owner: &str,
        tool: &str,
        summary: &str,
        lease: Duration,
        times: &TaskTimes,
    ) -> Result<Self, TaskStoreError> {
        let now = times.clock.now_ms();
        let expires_at = now.saturating_add(ms(times.ttl));
        Ok(TaskRecord {
            task_id: new_task_id()?,
            owner: owner.to_owned(),
            tool: tool.to_owned(),
            summary: clip(summary),
            status: TaskStatus::Working,
            progress: String::new(),
            created_at: now,
            updated_at: now,
            lease_expires_at: now.saturating_add(ms(lease)).min(expires_at),
            expires_at,
            result: None,
        })
    }

    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at <= now
    }

    /// Working, but nobody renewed the lease in time.
    pub fn lease_lapsed(&self, now: u64) -> bool {
        self.status == TaskStatus::Working && self.lease_expires_at <= now
    }

    /// The status a reader should see at `now` (a lapsed lease counts as failed).
    pub fn effective_status(&self, now: u64) -> TaskStatus {
        if self.lease_lapsed(now) {
            TaskStatus::Failed
        } else {
            self.status
        }
    }

    /// The record marked failed because its worker stopped.
    pub fn into_lost(mut self, now: u64) -> Self {
        self.status = TaskStatus::Failed;
        self.updated_at = now;
        self.result = Some(serde_json::json!({
            "error": "worker_stopped",
            "message": LOST_WORKER_MESSAGE,
            "last_progress": self.progress,
        }));
        self
    }

    /// Checks that a worker may still update this task at `now`.
    pub fn check_updatable(&self, now: u64) -> Result<(), TaskStoreError> {
        if self.is_expired(now) {
            return Err(TaskStoreError::NotFound(self.task_id.clone()));
        }
        let status = self.effective_status(now);
        if status.is_terminal() {
            return Err(TaskStoreError::Finished {
                task_id: self.task_id.clone(),
                status,
            });
        }
        Ok(())
    }

    /// Applies a heartbeat (after [`Self::check_updatable`]).
    pub fn apply_heartbeat(&mut self, progress: &str, lease: Duration, now: u64) {
        self.progress = clip(progress);
        self.updated_at = now;
        self.lease_expires_at = now.saturating_add(ms(lease)).min(self.expires_at);
    }

    /// Applies a completion (after [`Self::check_updatable`]).
    pub fn apply_complete(&mut self, status: TaskStatus, result: Value, now: u64) {
        self.status = status;
        self.result = Some(result);
        self.updated_at = now;
    }
}

/// Tasks in process memory: for tests and single-process use.
#[derive(Debug, Default)]
pub struct MemoryTaskStore {
    tasks: Mutex<HashMap<String, TaskRecord>>,
    times: TaskTimes,
}

impl MemoryTaskStore {
    pub fn new(times: TaskTimes) -> Self {
        Self {
            tasks: Mutex::default(),
            times,
        }
    }

    fn with_tasks<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, TaskRecord>) -> Result<T, TaskStoreError>,
    ) -> Result<T, TaskStoreError> {
        let mut tasks = self
            .tasks
            .lock()
            .map_err(|_| TaskStoreError::Backend("task map poisoned".into()))?;
        f(&mut tasks)
    }

    fn update(
        &self,
        task_id: &str,
        f: impl FnOnce(&mut TaskRecord, u64),
    ) -> Result<(), TaskStoreError> {
        let now = self.times.clock.now_ms();
        self.with_tasks(|tasks| {
            let record = tasks
                .get_mut(task_id)
                .ok_or_else(|| TaskStoreError::NotFound(task_id.to_owned()))?;
            record.check_updatable(now)?;
            f(record, now);
            Ok(())
        })
    }
}

#[async_trait]
impl TaskStore for MemoryTaskStore {
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        summary: &str,
        lease: Duration,
    ) -> Result<TaskRecord, TaskStoreError> {
        let record = TaskRecord::new(owner, tool, summary, lease, &self.times)?;
        let now = record.created_at;
        self.with_tasks(|tasks| {
            tasks.retain(|_, r| !r.is_expired(now));
            tasks.insert(record.task_id.clone(), record.clone());
            Ok(())
        })?;
        Ok(record)
    }

    async fn heartbeat(
        &self,
        task_id: &str,
        progress: &str,
        lease: Duration,
    ) -> Result<(), TaskStoreError> {
        self.update(task_id, |r, now| r.apply_heartbeat(progress, lease, now))
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
        self.update(task_id, |r, now| r.apply_complete(status, result, now))
    }

    async fn get(&self, owner: &str, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError> {
        let now = self.times.clock.now_ms();
        self.with_tasks(|tasks| {
            let Some(record) = tasks.get_mut(task_id) else {
                return Ok(None);
            };
            if record.owner != owner || record.is_expired(now) {
                return Ok(None);
            }
            if record.lease_lapsed(now) {
                *record = record.clone().into_lost(now);
            }
            Ok(Some(record.clone()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn status_serialises_lowercase() {
        for s in [
            TaskStatus::Working,
            TaskStatus::Completed,
            TaskStatus::Failed,
            TaskStatus::Cancelled,
        ] {
            let json = serde_json::to_value(s).expect("json");
            assert_eq!(json, Value::String(s.as_str().into()));
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn ids_are_random_and_well_formed() {
        let a = new_task_id().expect("id");
        let b = new_task_id().expect("id");
        assert_ne!(a, b);
        assert!(is_well_formed_task_id(&a));
        assert!(!is_well_formed_task_id("../x"));
    }

    #[test]
    fn long_text_is_clipped_at_a_char_boundary() {
        let s = "é".repeat(MAX_TEXT_BYTES);
        let c = clip(&s);
        assert!(c.len() <= MAX_TEXT_BYTES && c.len() >= MAX_TEXT_BYTES - 1);
        assert!(c.chars().all(|ch| ch == 'é'));
    }

    #[tokio::test]
    async fn memory_store_lifecycle() {
        let now = Arc::new(AtomicU64::new(1_000_000));
        let clock = {
            let now = now.clone();
            Clock::from_fn(move || now.load(Ordering::SeqCst))
        };
        let store = MemoryTaskStore::new(TaskTimes {
            clock,
            ttl: TASK_TTL,
        });
        let t = store
            .create("alice", "call_aws", "s3 ls", Duration::from_secs(30))
            .await
            .expect("create");
        assert_eq!(t.lease_expires_at, 1_030_000);
        assert_eq!(t.expires_at, 1_000_000 + 8 * 3600 * 1000);
        now.fetch_add(20_000, Ordering::SeqCst);
        store
            .heartbeat(&t.task_id, "half", Duration::from_secs(30))
            .await
            .expect("heartbeat");
        now.fetch_add(20_000, Ordering::SeqCst);
        let got = store.get("alice", &t.task_id).await.expect("get");
        assert_eq!(
            got.map(|r| (r.status, r.progress)),
            Some((TaskStatus::Working, "half".into()))
        );
        assert!(store.get("bob", &t.task_id).await.expect("get").is_none());
        // Lease runs out: failed, and the late worker is told to stop.
        now.fetch_add(20_000, Ordering::SeqCst);
        let got = store
            .get("alice", &t.task_id)
            .await
            .expect("get")
            .expect("some");
        assert_eq!(got.status, TaskStatus::Failed);
        assert!(matches!(
            store
                .complete(&t.task_id, TaskStatus::Completed, Value::Null)
                .await,
            Err(TaskStoreError::Finished {
                status: TaskStatus::Failed,
                ..
            })
        ));
    }
}
