//! Long-running calls as tasks, and `aws___get_tasks`.
//!
//! A tool's work starts at once; if it finishes within the inline budget its answer goes
//! back inline. Otherwise the answer is `{task_id, status: "working"}` and the work goes on:
//! locally in the background (a watcher heartbeats the task's lease and stores the result),
//! and in Lambda, where nothing may run after the answer, by an asynchronous invocation of
//! the same function that redoes restartable work (reads) from the start; work that is not
//! safe to redo (writes) is waited for inline instead. A task whose worker dies is reported
//! `failed` once its lease runs out (the store's rule).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use mcp_protocol::{
    ToolAnnotations, ToolContext, ToolDescriptor, ToolError, ToolHandler, ToolOutput,
    parse_arguments,
};
use mcp_state::{TaskRecord, TaskStatus, TaskStore};
use mcp_telemetry::Outcome;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A tool's finished answer: its structured content and whether it reports a failure.
#[derive(Debug, Clone)]
pub struct Answer {
    pub structured: Value,
    pub failure: Option<Outcome>,
}

impl Answer {
    pub fn into_output(self) -> ToolOutput {
        ToolOutput {
            structured: self.structured,
            failure: self.failure,
            ..ToolOutput::default()
        }
    }

    /// An answer for a tool error (kept in a task as the error text).
    pub fn from_error(e: &ToolError) -> Self {
        Self {
            structured: json!({"error": {"code": e.code(), "message": e.to_string()}}),
            failure: Some(e.outcome()),
        }
    }
}

/// Progress text a running tool updates and the watcher publishes.
#[derive(Clone, Default)]
pub struct Progress(Arc<Mutex<String>>);

impl Progress {
    pub fn set(&self, text: impl Into<String>) {
        if let Ok(mut p) = self.0.lock() {
            *p = text.into();
        }
    }

    pub fn get(&self) -> String {
        self.0.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Work handed to another invocation of this function (Lambda).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskJob {
    pub task_id: String,
    pub owner: String,
    pub tool: String,
    pub arguments: Value,
    pub region: String,
    /// The JSON-RPC id of the call that started the task (its completion's audit links it).
    #[serde(default)]
    pub request_id: Value,
}

/// Starts a [`TaskJob`] elsewhere (an asynchronous self-invocation in Lambda).
#[async_trait]
pub trait TaskDispatcher: Send + Sync {
    async fn dispatch(&self, job: &TaskJob) -> Result<(), String>;
}

/// Where work continues after the inline budget.
#[derive(Clone)]
pub enum Detach {
    /// In this process (local servers).
    Background,
    /// In another invocation (Lambda).
    Dispatch(Arc<dyn TaskDispatcher>),
}

#[derive(Clone)]
pub struct TaskRunner {
    pub store: Arc<dyn TaskStore>,
    /// Work still running after this becomes a task (`AWS_MCP_INLINE_BUDGET_SECONDS`).
    pub inline_budget: Duration,
    /// How long a task stays `working` without a heartbeat.
    pub lease: Duration,
    pub detach: Detach,
    /// The tasks this process runs in the background, at most `max_background` at once.
    pub background: Arc<BackgroundTasks>,
    /// Where a task's completion is audited.
    pub audit: Option<mcp_telemetry::Telemetry>,
}

/// The background tasks of one process: capped, and marked when the process stops so none
/// is left `working` until its lease lapses.
#[derive(Debug)]
pub struct BackgroundTasks {
    max: usize,
    /// Slots taken, including those whose record is still being written.
    taken: std::sync::atomic::AtomicUsize,
    running: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl BackgroundTasks {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            taken: std::sync::atomic::AtomicUsize::new(0),
            running: std::sync::Mutex::default(),
        }
    }

    /// Takes a slot unless all `max` are taken.
    fn reserve(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.taken
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    fn release(&self) {
        self.taken.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn started(&self, task_id: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(task_id.to_owned());
        }
    }

    fn finished(&self, task_id: &str) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(task_id);
        }
        self.release();
    }

    /// Marks every task still running as failed because the server stopped (SIGTERM, end
    /// of input), so clients polling them learn it at once.
    pub async fn abandon_all(&self, store: &dyn TaskStore, reason: &str) -> usize {
        let ids: Vec<String> = match self.running.lock() {
            Ok(mut running) => running.drain().collect(),
            Err(_) => return 0,
        };
        for id in &ids {
            let result = json!({"error": {"code": "server_stopped", "message": reason}});
            if let Err(e) = store.complete(id, TaskStatus::Failed, result).await {
                tracing::warn!(task_id = %id, error = %e, "could not mark the stopped task");
            }
        }
        ids.len()
    }
}

/// What the audit record of a task's end names.
struct TaskAudit {
    telemetry: mcp_telemetry::Telemetry,
    tool: String,
    request_id: Value,
    owner: String,
    region: String,
}

impl TaskAudit {
    fn record(&self, task_id: &str, status: TaskStatus, result: &Value) {
        let status = match status {
            TaskStatus::Completed => "completed",
            _ => "failed",
        };
        self.telemetry
            .task_completed(&mcp_telemetry::TaskCompletion {
                task_id,
                tool_name: &format!("aws___{}", self.tool),
                request_id: &self.request_id,
                status,
                result,
                owner: &self.owner,
                region: &self.region,
            });
    }
}

/// What a deferred call says about itself.
pub struct CallInfo {
    pub owner: String,
    pub tool: &'static str,
    pub summary: String,
    pub arguments: Value,
    pub region: String,
    /// The JSON-RPC id of the call.
    pub request_id: Value,
    /// Safe to run again from the start (it only reads).
    pub restartable: bool,
}

impl TaskRunner {
    /// Runs `work`, inline when it is quick, else as a task.
    pub async fn run<F>(
        &self,
        info: CallInfo,
        progress: Progress,
        work: F,
    ) -> Result<ToolOutput, ToolError>
    where
        F: Future<Output = Answer> + Send + 'static,
    {
        // Until the work becomes a task, it belongs to this request: a client that goes away
        // (the request future is dropped) stops it.
        let mut handle = AbortOnDrop(Some(tokio::spawn(work)));
        let joined = match handle.0.as_mut() {
            Some(h) => tokio::time::timeout(self.inline_budget, h).await,
            None => return Err(ToolError::Internal("the call was not started".into())),
        };
        if let Ok(done) = joined {
            return done
                .map(Answer::into_output)
                .map_err(|e| ToolError::Internal(format!("the call stopped unexpectedly: {e}")));
        }
        match &self.detach {
            Detach::Dispatch(dispatcher) if info.restartable => {
                // The record first: without it the read goes on here rather than vanish.
                let task = match self.create(&info).await {
                    Ok(task) => task,
                    Err(e) => {
                        tracing::warn!(error = %e, "answering inline");
                        return wait_inline(handle).await;
                    }
                };
                // Dropped, it stops: the dispatched invocation runs the read again.
                drop(handle);
                let job = TaskJob {
                    task_id: task.task_id.clone(),
                    owner: info.owner.clone(),
                    tool: info.tool.into(),
                    arguments: info.arguments.clone(),
                    region: info.region.clone(),
                    request_id: info.request_id.clone(),
                };
                if let Err(e) = dispatcher.dispatch(&job).await {
                    let _ = self
                        .store
                        .complete(
                            &task.task_id,
                            TaskStatus::Failed,
                            json!({"error": {"code": "dispatch_failed", "message": e}}),
                        )
                        .await;
                    return Err(ToolError::Internal(format!(
                        "the call needs longer than {} s and could not be continued in the background: {e}",
                        self.inline_budget.as_secs()
                    )));
                }
                Ok(working(&task.task_id))
            }
            // A write must not run twice: wait for it here.
            Detach::Dispatch(_) => wait_inline(handle).await,
            Detach::Background => {
                // No room for another background task, or no record of one: the call is
                // waited for here, so its answer is never lost and never run twice.
                if !self.background.reserve() {
                    tracing::warn!("background task cap reached; answering inline");
                    return wait_inline(handle).await;
                }
                let task = match self.create(&info).await {
                    Ok(task) => task,
                    Err(e) => {
                        self.background.release();
                        tracing::warn!(error = %e, "answering inline");
                        return wait_inline(handle).await;
                    }
                };
                self.background.started(&task.task_id);
                let store = self.store.clone();
                let lease = self.lease;
                let task_id = task.task_id.clone();
                let audit = self.task_audit(info.tool, &info.request_id, &info.owner, &info.region);
                let background = self.background.clone();
                let Some(handle) = handle.detach() else {
                    return Err(ToolError::Internal("the call was not started".into()));
                };
                tokio::spawn(async move {
                    watch(store, &task_id, lease, progress, handle, audit).await;
                    background.finished(&task_id);
                });
                Ok(working(&task.task_id))
            }
        }
    }

    async fn create(&self, info: &CallInfo) -> Result<TaskRecord, ToolError> {
        self.store
            .create(&info.owner, info.tool, &info.summary, self.lease)
            .await
            .map_err(|e| ToolError::Internal(format!("cannot record the task: {e}")))
    }

    fn task_audit(
        &self,
        tool: &str,
        request_id: &Value,
        owner: &str,
        region: &str,
    ) -> Option<TaskAudit> {
        self.audit.clone().map(|telemetry| TaskAudit {
            telemetry,
            tool: tool.to_owned(),
            request_id: request_id.clone(),
            owner: owner.to_owned(),
            region: region.to_owned(),
        })
    }

    /// Runs a dispatched job to the end (the Lambda worker side).
    pub async fn finish_job<F>(&self, job: &TaskJob, work: F)
    where
        F: Future<Output = Answer> + Send + 'static,
    {
        let handle = tokio::spawn(work);
        watch(
            self.store.clone(),
            &job.task_id,
            self.lease,
            Progress::default(),
            handle,
            self.task_audit(&job.tool, &job.request_id, &job.owner, &job.region),
        )
        .await;
    }
}

/// A call's work while it belongs to its request: aborted when dropped, unless detached
/// (handed to a background task).
struct AbortOnDrop(Option<tokio::task::JoinHandle<Answer>>);

impl AbortOnDrop {
    fn detach(mut self) -> Option<tokio::task::JoinHandle<Answer>> {
        self.0.take()
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

/// Waits for the work to finish and answers with it (stopping it if the request goes away).
async fn wait_inline(mut work: AbortOnDrop) -> Result<ToolOutput, ToolError> {
    let Some(handle) = work.0.as_mut() else {
        return Err(ToolError::Internal("the call was not started".into()));
    };
    handle
        .await
        .map(Answer::into_output)
        .map_err(|e| ToolError::Internal(format!("the call stopped unexpectedly: {e}")))
}

fn working(task_id: &str) -> ToolOutput {
    ToolOutput {
        structured: json!({
            "task_id": task_id,
            "status": "working",
            "note": "The call continues in the background; poll aws___get_tasks with this task_id for its result.",
        }),
        ..ToolOutput::default()
    }
}

/// Heartbeats while `handle` runs, then stores its answer.
async fn watch(
    store: Arc<dyn TaskStore>,
    task_id: &str,
    lease: Duration,
    progress: Progress,
    mut handle: tokio::task::JoinHandle<Answer>,
    audit: Option<TaskAudit>,
) {
    let beat = (lease / 3).max(Duration::from_millis(200));
    loop {
        tokio::select! {
            joined = &mut handle => {
                let (status, result) = match joined {
                    Ok(answer) => {
                        let status = if answer.failure.is_some() { TaskStatus::Failed } else { TaskStatus::Completed };
                        (status, answer.structured)
                    }
                    Err(e) => (TaskStatus::Failed, json!({"error": {"code": "internal_error", "message": format!("the work stopped unexpectedly: {e}")}})),
                };
                if let Some(audit) = &audit {
                    audit.record(task_id, status, &result);
                }
                if let Err(e) = store.complete(task_id, status, result).await {
                    tracing::warn!(task_id, error = %e, "task result not stored");
                }
                return;
            }
            _ = tokio::time::sleep(beat) => {
                let text = progress.get();
                let text = if text.is_empty() { "running".to_owned() } else { text };
                if let Err(e) = store.heartbeat(task_id, &text, lease).await {
                    // Finished elsewhere (cancelled, lapsed): stop working on it.
                    tracing::warn!(task_id, error = %e, "task heartbeat refused; stopping");
                    handle.abort();
                    return;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------- get_tasks

/// Most ids one `get_tasks` call reads.
const MAX_TASK_IDS: usize = 50;

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: "get_tasks",
        title: "Get task status",
        description: "Status and results of long-running aws___call_aws and aws___run_script calls that answered with a task_id. Poll every few seconds until status is completed, failed or cancelled; result then holds exactly what the call would have answered inline. Unknown, expired (8 hours) or other callers' ids answer status not_found.".into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "task_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_TASK_IDS}
            },
            "required": ["task_ids"],
            "additionalProperties": false
        }),
        output_schema: Some(json!({
            "type": "object",
            "properties": {
                "tasks": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "string"},
                        "status": {"type": "string", "enum": ["working", "completed", "failed", "cancelled", "not_found"]},
                        "tool": {"type": "string"},
                        "summary": {"type": "string"},
                        "progress": {"type": "string"},
                        "created_at": {"type": "string"},
                        "updated_at": {"type": "string"},
                        "result": {}
                    },
                    "required": ["task_id", "status"]
                }}
            },
            "required": ["tasks"]
        })),
        annotations: ToolAnnotations::READ_ONLY_LOCAL,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetTasksArgs {
    task_ids: Vec<String>,
}

pub struct GetTasks {
    pub store: Arc<dyn TaskStore>,
}

fn iso_ms(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[async_trait]
impl ToolHandler for GetTasks {
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<ToolOutput, ToolError> {
        let args: GetTasksArgs = parse_arguments("get_tasks", arguments)?;
        if args.task_ids.is_empty() || args.task_ids.len() > MAX_TASK_IDS {
            return Err(ToolError::InvalidArgument(format!(
                "task_ids must list 1 to {MAX_TASK_IDS} ids; got {}",
                args.task_ids.len()
            )));
        }
        let owner = ctx.identity.snapshot().owner_key();
        let mut tasks = Vec::with_capacity(args.task_ids.len());
        for id in &args.task_ids {
            let found = if mcp_state::tasks::is_well_formed_task_id(id) {
                self.store
                    .get(&owner, id)
                    .await
                    .map_err(|e| ToolError::Downstream(format!("cannot read tasks: {e}")))?
            } else {
                None
            };
            tasks.push(match found {
                None => json!({"task_id": id, "status": "not_found"}),
                Some(t) => {
                    let mut v = json!({
                        "task_id": t.task_id,
                        "status": t.status.as_str(),
                        "tool": t.tool,
                        "summary": t.summary,
                        "progress": t.progress,
                        "created_at": iso_ms(t.created_at),
                        "updated_at": iso_ms(t.updated_at),
                    });
                    if let Some(result) = t.result {
                        v["result"] = result;
                    }
                    v
                }
            });
        }
        Ok(ToolOutput::structured(json!({"tasks": tasks})))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_state::{MemoryTaskStore, TaskTimes};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct CountingDispatcher(AtomicUsize);

    #[async_trait]
    impl TaskDispatcher for CountingDispatcher {
        async fn dispatch(&self, _job: &TaskJob) -> Result<(), String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn runner(detach: Detach) -> TaskRunner {
        TaskRunner {
            store: Arc::new(MemoryTaskStore::new(TaskTimes::default())),
            inline_budget: Duration::from_millis(50),
            lease: Duration::from_secs(5),
            detach,
            background: Arc::new(BackgroundTasks::new(2)),
            audit: None,
        }
    }

    fn info(restartable: bool) -> CallInfo {
        CallInfo {
            owner: "me".into(),
            tool: "call_aws",
            summary: "aws x y".into(),
            arguments: json!({"cli_command": "aws x y"}),
            region: "us-east-1".into(),
            request_id: json!(1),
            restartable,
        }
    }

    async fn answer_after(ms: u64) -> Answer {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Answer {
            structured: json!({"done": ms}),
            failure: None,
        }
    }

    #[tokio::test]
    async fn quick_work_answers_inline() {
        let r = runner(Detach::Background);
        let out = r
            .run(info(true), Progress::default(), answer_after(1))
            .await
            .expect("ok");
        assert_eq!(out.structured, json!({"done": 1}));
    }

    #[tokio::test]
    async fn slow_work_continues_in_the_background_and_lands_in_the_task() {
        let r = runner(Detach::Background);
        let out = r
            .run(info(false), Progress::default(), answer_after(300))
            .await
            .expect("ok");
        assert_eq!(out.structured["status"], "working");
        let id = out.structured["task_id"].as_str().expect("id").to_owned();
        let t = r.store.get("me", &id).await.expect("get").expect("task");
        assert_eq!(t.status, TaskStatus::Working);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let t = r.store.get("me", &id).await.expect("get").expect("task");
        assert_eq!(t.status, TaskStatus::Completed);
        assert_eq!(t.result, Some(json!({"done": 300})));
        assert!(
            r.store
                .get("someone-else", &id)
                .await
                .expect("get")
                .is_none()
        );
    }

    #[tokio::test]
    async fn in_lambda_restartable_work_is_dispatched_and_writes_wait_inline() {
        let dispatcher = Arc::new(CountingDispatcher(AtomicUsize::new(0)));
        let r = runner(Detach::Dispatch(dispatcher.clone()));
        let out = r
            .run(info(true), Progress::default(), answer_after(300))
            .await
            .expect("ok");
        assert_eq!(out.structured["status"], "working");
        assert_eq!(dispatcher.0.load(Ordering::SeqCst), 1);
        let out = r
            .run(info(false), Progress::default(), answer_after(200))
            .await
            .expect("ok");
        assert_eq!(out.structured, json!({"done": 200}));
        assert_eq!(dispatcher.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failed_answers_complete_the_task_as_failed() {
        let r = runner(Detach::Background);
        let work = async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Answer::from_error(&ToolError::InvalidArgument("bad".into()))
        };
        let out = r
            .run(info(false), Progress::default(), work)
            .await
            .expect("ok");
        let id = out.structured["task_id"].as_str().expect("id").to_owned();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let t = r.store.get("me", &id).await.expect("get").expect("task");
        assert_eq!(t.status, TaskStatus::Failed);
        assert_eq!(t.result.expect("result")["error"]["message"], "bad");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_goes_away_stops_its_call_unless_it_became_a_task() {
        let finished = Arc::new(AtomicUsize::new(0));
        let work = |done: Arc<AtomicUsize>| async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            done.fetch_add(1, Ordering::SeqCst);
            Answer {
                structured: json!({}),
                failure: None,
            }
        };
        // Gone within the inline budget (10 ms of 50): the call stops.
        let r = runner(Detach::Background);
        let request = {
            let (r, work) = (r.clone(), work(finished.clone()));
            tokio::spawn(async move { r.run(info(false), Progress::default(), work).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        request.abort();
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        // A call that became a task goes on after its request ends.
        let out = r
            .run(info(false), Progress::default(), work(finished.clone()))
            .await
            .expect("ok");
        assert_eq!(out.structured["status"], "working");
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(finished.load(Ordering::SeqCst), 1);
    }

    /// A store that cannot record new tasks (full or read-only).
    struct FullStore(MemoryTaskStore);

    #[async_trait]
    impl TaskStore for FullStore {
        async fn create(
            &self,
            _: &str,
            _: &str,
            _: &str,
            _: Duration,
        ) -> Result<mcp_state::TaskRecord, mcp_state::TaskStoreError> {
            Err(mcp_state::TaskStoreError::Backend("no space left".into()))
        }
        async fn heartbeat(
            &self,
            id: &str,
            p: &str,
            l: Duration,
        ) -> Result<(), mcp_state::TaskStoreError> {
            self.0.heartbeat(id, p, l).await
        }
        async fn complete(
            &self,
            id: &str,
            s: TaskStatus,
            r: Value,
        ) -> Result<(), mcp_state::TaskStoreError> {
            self.0.complete(id, s, r).await
        }
        async fn get(
            &self,
            o: &str,
            id: &str,
        ) -> Result<Option<mcp_state::TaskRecord>, mcp_state::TaskStoreError> {
            self.0.get(o, id).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_cannot_be_recorded_is_answered_inline_not_lost() {
        let full = Arc::new(FullStore(MemoryTaskStore::new(TaskTimes::default())));
        let dispatcher = Arc::new(CountingDispatcher(AtomicUsize::new(0)));
        for detach in [Detach::Background, Detach::Dispatch(dispatcher.clone())] {
            let r = TaskRunner {
                store: full.clone(),
                ..runner(detach)
            };
            let out = r
                .run(info(true), Progress::default(), answer_after(5_000))
                .await
                .expect("answered");
            assert_eq!(out.structured, json!({"done": 5000}));
        }
        assert_eq!(dispatcher.0.load(Ordering::SeqCst), 0, "nothing ran twice");
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_background_cap_calls_are_answered_inline() {
        let r = runner(Detach::Background);
        for _ in 0..2 {
            let out = r
                .run(info(false), Progress::default(), answer_after(60_000))
                .await
                .expect("ok");
            assert_eq!(out.structured["status"], "working");
        }
        let third = r
            .run(info(false), Progress::default(), answer_after(1_000))
            .await
            .expect("ok");
        assert_eq!(third.structured, json!({"done": 1000}));
        // A slot frees when a background task ends.
        tokio::time::sleep(Duration::from_secs(61)).await;
        let again = r
            .run(info(false), Progress::default(), answer_after(60_000))
            .await
            .expect("ok");
        assert_eq!(again.structured["status"], "working");
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_marks_running_tasks_failed_with_the_reason() {
        let r = runner(Detach::Background);
        let out = r
            .run(info(false), Progress::default(), answer_after(60_000))
            .await
            .expect("ok");
        let id = out.structured["task_id"].as_str().expect("id").to_owned();
        let marked = r
            .background
            .abandon_all(r.store.as_ref(), "the server stopped")
            .await;
        assert_eq!(marked, 1);
        let t = r.store.get("me", &id).await.expect("get").expect("task");
        assert_eq!(t.status, TaskStatus::Failed);
        assert_eq!(t.result.expect("result")["error"]["code"], "server_stopped");
    }
}
