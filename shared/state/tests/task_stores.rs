//! The same task-store behaviour, checked on every store: the memory store, the directory
//! store, and the DynamoDB store against a `moto_server` this test starts on a free port
//! (skipped, with a message, when `moto_server` is not on PATH). Time is a manual clock, so
//! lease expiry and the 8-hour lifetime are tested without waiting.

use aws_mcp_testkit::MotoServer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use mcp_protocol::session::{new_session_id, now_epoch_seconds};
use mcp_protocol::{SessionRecord, SessionStore};
use mcp_state::tasks::{LOST_WORKER_MESSAGE, TASK_TTL};
use mcp_state::{
    Clock, DirTaskStore, DynamoSessionStore, DynamoTaskStore, INLINE_RESULT_BYTES, MemoryTaskStore,
    StateTableLayout, TaskStatus, TaskStore, TaskStoreError, TaskTimes,
};
use serde_json::{Value, json};

const START: u64 = 1_767_323_045_000;

/// A clock the test moves by hand.
#[derive(Clone)]
struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    fn new() -> Self {
        ManualClock(Arc::new(AtomicU64::new(START)))
    }
    fn times(&self) -> TaskTimes {
        let now = self.0.clone();
        TaskTimes {
            clock: Clock::from_fn(move || now.load(Ordering::SeqCst)),
            ttl: TASK_TTL,
        }
    }
    fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as u64, Ordering::SeqCst);
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const BOB: &str = "arn:aws:iam::123456789012:user/bob";
const LEASE: Duration = Duration::from_secs(30);

/// A result of about `bytes` of JSON, with non-ASCII text so that chunk edges fall inside
/// multi-byte characters.
fn big_result(bytes: usize) -> Value {
    let line = "é-ü-日本-0123456789-abcdefghijklmnopqrstuvwxyz";
    let count = bytes / (line.len() + 3) + 1;
    json!({ "lines": vec![line; count], "count": count })
}

/// Every rule of the task store, on one store.
async fn conformance(store: &dyn TaskStore, clock: &ManualClock, large: usize) {
    // Create and read back; only the owner sees it.
    let t = store
        .create(ALICE, "call_aws", "aws s3 sync ...", LEASE)
        .await
        .expect("create");
    assert_eq!(t.task_id.len(), 64, "256 bits, hex");
    assert_eq!(
        (t.status, t.created_at, t.updated_at),
        (TaskStatus::Working, START, START)
    );
    assert_eq!(t.lease_expires_at, START + 30_000);
    assert_eq!(t.expires_at, START + 8 * 3600 * 1000);
    assert_eq!(
        store.get(ALICE, &t.task_id).await.expect("get"),
        Some(t.clone())
    );
    assert_eq!(store.get(BOB, &t.task_id).await.expect("get"), None);
    assert_eq!(store.get(ALICE, &"0".repeat(64)).await.expect("get"), None);
    assert_eq!(
        store.get(ALICE, "../../etc/passwd").await.expect("get"),
        None
    );
    let other = store
        .create(ALICE, "call_aws", "second", LEASE)
        .await
        .expect("create");
    assert_ne!(other.task_id, t.task_id);

    // Heartbeats extend the lease and carry progress.
    clock.advance(Duration::from_secs(20));
    store
        .heartbeat(&t.task_id, "3 of 10 files", LEASE)
        .await
        .expect("heartbeat");
    clock.advance(Duration::from_secs(20));
    let got = store
        .get(ALICE, &t.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(
        got.status,
        TaskStatus::Working,
        "the heartbeat kept it alive"
    );
    assert_eq!(got.progress, "3 of 10 files");
    assert_eq!(got.lease_expires_at, START + 50_000);

    // Completion: not as working; then stored with its result; then final.
    assert!(matches!(
        store
            .complete(&t.task_id, TaskStatus::Working, Value::Null)
            .await,
        Err(TaskStoreError::NotTerminal)
    ));
    let result = json!({"stdout": "done", "exit_code": 0});
    store
        .complete(&t.task_id, TaskStatus::Completed, result.clone())
        .await
        .expect("complete");
    let got = store
        .get(ALICE, &t.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(
        (got.status, got.result),
        (TaskStatus::Completed, Some(result.clone()))
    );
    assert!(matches!(
        store.heartbeat(&t.task_id, "late", LEASE).await,
        Err(TaskStoreError::Finished {
            status: TaskStatus::Completed,
            ..
        })
    ));
    assert!(matches!(
        store
            .complete(&t.task_id, TaskStatus::Failed, json!("again"))
            .await,
        Err(TaskStoreError::Finished {
            status: TaskStatus::Completed,
            ..
        })
    ));
    let got = store
        .get(ALICE, &t.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(
        got.result,
        Some(result),
        "a refused completion changes nothing"
    );

    // Cancellation stops the worker's heartbeats.
    let c = store
        .create(ALICE, "run_script", "loop", LEASE)
        .await
        .expect("create");
    store
        .complete(&c.task_id, TaskStatus::Cancelled, json!({"reason": "user"}))
        .await
        .expect("cancel");
    assert!(matches!(
        store.heartbeat(&c.task_id, "still here", LEASE).await,
        Err(TaskStoreError::Finished {
            status: TaskStatus::Cancelled,
            ..
        })
    ));

    // A lease that runs out: failed, stored as such, and the late worker is refused.
    let lost = store
        .create(ALICE, "run_script", "crashes", LEASE)
        .await
        .expect("create");
    store
        .heartbeat(&lost.task_id, "almost", LEASE)
        .await
        .expect("heartbeat");
    clock.advance(LEASE + Duration::from_millis(1));
    let seen_at = clock.now();
    let got = store
        .get(ALICE, &lost.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(got.status, TaskStatus::Failed);
    assert_eq!(got.updated_at, seen_at);
    let message = got.result.as_ref().expect("result")["message"].clone();
    assert_eq!(message, json!(LOST_WORKER_MESSAGE));
    assert!(LOST_WORKER_MESSAGE.contains("timed out or crashed"));
    assert_eq!(
        got.result.as_ref().expect("result")["last_progress"],
        json!("almost")
    );
    assert!(matches!(
        store
            .complete(&lost.task_id, TaskStatus::Completed, json!(1))
            .await,
        Err(TaskStoreError::Finished {
            status: TaskStatus::Failed,
            ..
        })
    ));
    clock.advance(Duration::from_secs(5));
    let again = store
        .get(ALICE, &lost.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(
        again, got,
        "the failure was stored when first seen, not recomputed"
    );
    assert!(store.get(BOB, &lost.task_id).await.expect("get").is_none());

    // A large result comes back whole.
    let big = store
        .create(ALICE, "call_aws", "big output", LEASE)
        .await
        .expect("create");
    let value = big_result(large);
    assert!(serde_json::to_vec(&value).expect("json").len() >= large);
    store
        .complete(&big.task_id, TaskStatus::Completed, value.clone())
        .await
        .expect("complete big");
    let got = store
        .get(ALICE, &big.task_id)
        .await
        .expect("get")
        .expect("some");
    assert!(
        got.result == Some(value),
        "large result differs after the round trip"
    );
    // Just over the inline limit.
    let edge = store
        .create(ALICE, "call_aws", "edge", LEASE)
        .await
        .expect("create");
    let value = Value::String("x".repeat(INLINE_RESULT_BYTES - 1));
    store
        .complete(&edge.task_id, TaskStatus::Failed, value.clone())
        .await
        .expect("complete edge");
    let got = store
        .get(ALICE, &edge.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!((got.status, got.result), (TaskStatus::Failed, Some(value)));

    // After 8 hours every task reads as not found and cannot be updated.
    clock.advance(TASK_TTL);
    for id in [&t.task_id, &other.task_id, &lost.task_id, &big.task_id] {
        assert_eq!(store.get(ALICE, id).await.expect("get"), None);
    }
    assert!(matches!(
        store.heartbeat(&other.task_id, "x", LEASE).await,
        Err(TaskStoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn memory_store() {
    let clock = ManualClock::new();
    let store = MemoryTaskStore::new(clock.times());
    conformance(&store, &clock, 3_000_000).await;
}

#[tokio::test]
async fn directory_store_shared_by_two_handles() {
    let clock = ManualClock::new();
    let root = tempfile::tempdir().expect("tempdir");
    let store = DirTaskStore::open_with(root.path(), clock.times()).expect("open");
    conformance(&store, &clock, 3_000_000).await;

    // The conformance run ended past every task's lifetime; their files are still there
    // until the next create sweeps them.
    let files = |dir: &std::path::Path| {
        std::fs::read_dir(dir.join("tasks"))
            .expect("dir")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".json"))
            })
            .count()
    };
    assert!(files(root.path()) > 5);
    // A second handle (another process) sees what the first wrote.
    let other = DirTaskStore::open_with(root.path(), clock.times()).expect("open");
    let t = store
        .create(ALICE, "call_aws", "x", LEASE)
        .await
        .expect("create");
    assert_eq!(files(root.path()), 1);
    other
        .complete(&t.task_id, TaskStatus::Completed, json!([1, 2]))
        .await
        .expect("complete");
    let got = store
        .get(ALICE, &t.task_id)
        .await
        .expect("get")
        .expect("some");
    assert_eq!(got.result, Some(json!([1, 2])));
}

fn client(url: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// The state table as `template.yaml` defines it.
async fn create_state_table(client: &Client, name: &str) {
    let attr = |n: &str, t| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
            .expect("attr")
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("key")
    };
    let gsi = |index: &str, hash: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(hash, KeyType::Hash))
            .key_schema(key("expires_at", KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::KeysOnly)
                    .build(),
            )
            .build()
            .expect("gsi")
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("account_key", ScalarAttributeType::S))
        .attribute_definitions(attr("user_key", ScalarAttributeType::S))
        .attribute_definitions(attr("expires_at", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi("by-account", "account_key"))
        .global_secondary_indexes(gsi("by-user", "user_key"))
        .send()
        .await
        .expect("create table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_store_against_moto() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let client = client(&moto.url);
    let layout = StateTableLayout::standard("state-tasks");
    create_state_table(&client, &layout.table).await;
    let clock = ManualClock::new();
    let store = DynamoTaskStore::with_times(client.clone(), &layout, clock.times());
    conformance(&store, &clock, 5_000_000).await;

    // Layout: a large result is split into chunk items that each fit an item; the task item
    // carries the TTL attribute in seconds; sessions in the same table are counted as before.
    let store = DynamoTaskStore::new(client.clone(), &layout);
    let t = store
        .create(ALICE, "call_aws", "layout", LEASE)
        .await
        .expect("create");
    store
        .complete(&t.task_id, TaskStatus::Completed, big_result(1_200_000))
        .await
        .expect("complete");
    let item = client
        .get_item()
        .table_name(&layout.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("task#{}", t.task_id)),
        )
        .send()
        .await
        .expect("get item")
        .item
        .expect("item");
    let number = |k: &str| -> u64 { item[k].as_n().expect("n").parse().expect("number") };
    assert_eq!(number("result_chunks"), 4, "1.2 MB in 350 KB chunks");
    assert!(!item.contains_key("result"));
    assert_eq!(number("expires_at"), number("expires_at_ms").div_ceil(1000));
    let generation = item["result_generation"].as_s().expect("s").clone();
    let chunk = client
        .get_item()
        .table_name(&layout.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!(
                "task#{}#result#{generation}#0",
                t.task_id
            )),
        )
        .send()
        .await
        .expect("get chunk")
        .item
        .expect("chunk");
    assert_eq!(chunk["data"].as_b().expect("b").as_ref().len(), 350_000);
    assert_eq!(chunk["expires_at"], item["expires_at"]);

    let sessions = DynamoSessionStore::new(client.clone(), layout.clone());
    let now = now_epoch_seconds();
    let session = SessionRecord {
        id: new_session_id().expect("id"),
        owner: ALICE.into(),
        account: "123456789012".into(),
        protocol_version: "2025-11-25".into(),
        client_name: None,
        can_elicit: true,
        created_at: now,
        expires_at: now + 3600,
    };
    sessions.create(&session).await.expect("session");
    // The elicitation flag survives the round trip through the item's attributes.
    assert_eq!(
        sessions.get(&session.id).await.expect("get"),
        Some(session.clone())
    );
    assert_eq!(sessions.count_for_owner(ALICE).await.expect("count"), 1);
    assert_eq!(
        sessions
            .count_for_account("123456789012")
            .await
            .expect("count"),
        1
    );
}
