//! Tasks as files in a directory shared by local processes (`cargo lambda watch` runs the
//! API and task-polling functions as separate processes).
//!
//! One `<id>.json` per task under `<root>/tasks/`. A new task is written to a temporary file
//! and hard-linked into place (an id is never overwritten); an update writes a temporary
//! file and renames it over the old one, so a reader sees the old record or the new one,
//! never half of one. Read-modify-write updates (heartbeat, complete, marking a lost worker)
//! hold an exclusive lock on `<root>/tasks/.lock`, so that a cancellation and a heartbeat
//! racing each other cannot undo one another.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::tasks::{
    TaskRecord, TaskStatus, TaskStore, TaskStoreError, TaskTimes, is_well_formed_task_id,
    new_task_id,
};

/// Tasks stored as files under `<root>/tasks`.
#[derive(Debug, Clone)]
pub struct DirTaskStore {
    dir: PathBuf,
    times: TaskTimes,
}

/// The directory lock, released when dropped (closing the file releases it).
struct DirLock(File);

impl DirLock {
    fn take(dir: &Path) -> Result<Self, TaskStoreError> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))?;
        file.lock()?;
        Ok(DirLock(file))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl DirTaskStore {
    /// Uses (and creates) `<root>/tasks`, with the system clock and the standard 8-hour TTL.
    pub fn open(root: &Path) -> Result<Self, TaskStoreError> {
        Self::open_with(root, TaskTimes::default())
    }

    /// As [`Self::open`], with another clock or TTL (tests).
    pub fn open_with(root: &Path, times: TaskTimes) -> Result<Self, TaskStoreError> {
        let dir = root.join("tasks");
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, times })
    }

    fn path_of(&self, id: &str) -> Option<PathBuf> {
        // Only ids of our own shape become file names, so no id can escape the directory.
        is_well_formed_task_id(id).then(|| self.dir.join(format!("{id}.json")))
    }

    fn read(path: &Path) -> Result<Option<TaskRecord>, TaskStoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| TaskStoreError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn write_temp(&self, record: &TaskRecord) -> Result<PathBuf, TaskStoreError> {
        let tmp = self.dir.join(format!(".{}.tmp", new_task_id()?));
        let bytes = serde_json::to_vec(record)
            .map_err(|e| TaskStoreError::Corrupt(format!("cannot encode task: {e}")))?;
        // A write that fails half way (a full disk) leaves no partial file behind.
        std::fs::write(&tmp, bytes).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        Ok(tmp)
    }

    fn replace(&self, path: &Path, record: &TaskRecord) -> Result<(), TaskStoreError> {
        let tmp = self.write_temp(record)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        Ok(())
    }

    /// Removes expired task files (and stray temporary files of crashed writers).
    fn sweep(&self, now: u64) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".json") {
                match Self::read(&path) {
                    Ok(Some(r)) if r.is_expired(now) => {
                        let _ = std::fs::remove_file(&path);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "skipping unreadable task file"),
                }
            } else if name.ends_with(".tmp")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(3600))
            {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    fn create_blocking(&self, record: &TaskRecord) -> Result<(), TaskStoreError> {
        let path = self.path_of(&record.task_id).ok_or_else(|| {
            TaskStoreError::Corrupt(format!("malformed task id {}", record.task_id))
        })?;
        self.sweep(record.created_at);
        let tmp = self.write_temp(record)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(TaskStoreError::Backend(
                format!("task id collision on {}", record.task_id),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Read-modify-write of a working task under the directory lock.
    fn update_blocking(
        &self,
        task_id: &str,
        f: impl FnOnce(&mut TaskRecord, u64),
    ) -> Result<(), TaskStoreError> {
        let path = self
            .path_of(task_id)
            .ok_or_else(|| TaskStoreError::NotFound(task_id.to_owned()))?;
        let _lock = DirLock::take(&self.dir)?;
        let now = self.times.clock.now_ms();
        let mut record =
            Self::read(&path)?.ok_or_else(|| TaskStoreError::NotFound(task_id.to_owned()))?;
        record.check_updatable(now)?;
        f(&mut record, now);
        self.replace(&path, &record)
    }

    fn get_blocking(
        &self,
        owner: &str,
        task_id: &str,
    ) -> Result<Option<TaskRecord>, TaskStoreError> {
        let Some(path) = self.path_of(task_id) else {
            return Ok(None);
        };
        let now = self.times.clock.now_ms();
        let visible = |r: &TaskRecord| r.owner == owner && !r.is_expired(now);
        let Some(record) = Self::read(&path)?.filter(visible) else {
            return Ok(None);
        };
        if !record.lease_lapsed(now) {
            return Ok(Some(record));
        }
        // Mark the lost worker under the lock, re-reading in case the task just changed.
        let _lock = DirLock::take(&self.dir)?;
        let Some(record) = Self::read(&path)?.filter(visible) else {
            return Ok(None);
        };
        if !record.lease_lapsed(now) {
            return Ok(Some(record));
        }
        let lost = record.into_lost(now);
        self.replace(&path, &lost)?;
        Ok(Some(lost))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, TaskStoreError> + Send + 'static,
) -> Result<T, TaskStoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TaskStoreError::Backend(format!("store task failed: {e}")))?
}

#[async_trait]
impl TaskStore for DirTaskStore {
    async fn create(
        &self,
        owner: &str,
        tool: &str,
        summary: &str,
        lease: Duration,
    ) -> Result<TaskRecord, TaskStoreError> {
        let record = TaskRecord::new(owner, tool, summary, lease, &self.times)?;
        let (store, stored) = (self.clone(), record.clone());
        blocking(move || store.create_blocking(&stored)).await?;
        Ok(record)
    }

    async fn heartbeat(
        &self,
        task_id: &str,
        progress: &str,
        lease: Duration,
    ) -> Result<(), TaskStoreError> {
        let (store, id, progress) = (self.clone(), task_id.to_owned(), progress.to_owned());
        blocking(move || {
            store.update_blocking(&id, |r, now| r.apply_heartbeat(&progress, lease, now))
        })
        .await
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
        let (store, id) = (self.clone(), task_id.to_owned());
        blocking(move || store.update_blocking(&id, |r, now| r.apply_complete(status, result, now)))
            .await
    }

    async fn get(&self, owner: &str, task_id: &str) -> Result<Option<TaskRecord>, TaskStoreError> {
        let (store, owner, id) = (self.clone(), owner.to_owned(), task_id.to_owned());
        blocking(move || store.get_blocking(&owner, &id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hostile_ids_never_touch_the_file_system() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = DirTaskStore::open(root.path()).expect("open");
        std::fs::write(root.path().join("secret.json"), b"{}").expect("write");
        for id in ["../secret", "..%2fsecret", "/etc/passwd", ""] {
            assert!(store.get("alice", id).await.expect("get").is_none());
            assert!(matches!(
                store.heartbeat(id, "x", Duration::from_secs(1)).await,
                Err(TaskStoreError::NotFound(_))
            ));
        }
        assert_eq!(
            std::fs::read(root.path().join("secret.json")).expect("read"),
            b"{}"
        );
    }

    #[tokio::test]
    async fn concurrent_heartbeats_and_a_cancel_from_two_handles() {
        let root = tempfile::tempdir().expect("tempdir");
        let a = DirTaskStore::open(root.path()).expect("open");
        let b = DirTaskStore::open(root.path()).expect("open");
        let t = a
            .create("alice", "run_script", "loop", Duration::from_secs(60))
            .await
            .expect("create");
        let beats: Vec<_> = (0..20)
            .map(|i| {
                let (a, id) = (a.clone(), t.task_id.clone());
                tokio::spawn(async move {
                    a.heartbeat(&id, &format!("step {i}"), Duration::from_secs(60))
                        .await
                })
            })
            .collect();
        b.complete(
            &t.task_id,
            TaskStatus::Cancelled,
            serde_json::json!({"by": "user"}),
        )
        .await
        .expect("cancel");
        for beat in beats {
            // Each heartbeat either landed before the cancel or was told the task finished.
            match beat.await.expect("join") {
                Ok(()) => {}
                Err(TaskStoreError::Finished { status, .. }) => {
                    assert_eq!(status, TaskStatus::Cancelled)
                }
                Err(e) => panic!("{e}"),
            }
        }
        let got = a
            .get("alice", &t.task_id)
            .await
            .expect("get")
            .expect("some");
        assert_eq!(got.status, TaskStatus::Cancelled);
        // No temporary files are left behind.
        let stray = std::fs::read_dir(root.path().join("tasks"))
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(stray, 0);
    }
}
