//! The shared quota counters, checked on every store: memory, the directory store (two
//! handles, as two processes would have), and DynamoDB on a `moto_server` this test starts
//! (the test fails when it cannot). Time is passed in, so no test waits.

use std::sync::Arc;

use aws_mcp_testkit::MotoServer;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use mcp_protocol::quota::now_epoch_micros;
use mcp_protocol::session::{new_session_id, now_epoch_seconds};
use mcp_protocol::{
    MemoryQuotaStore, QuotaStore, RateDecision, RateLimit, SessionAdmission, SessionLimits,
    SessionRecord, SessionStore,
};
use mcp_state::{
    DirQuotaStore, DirSessionStore, DynamoQuotaStore, DynamoSessionStore, StateTableLayout,
};

const SECOND: u64 = 1_000_000;

/// Fires `n` requests (at once when `concurrent`), spread over the handles; how many were admitted.
async fn burst(
    concurrent: bool,
    stores: &[Arc<dyn QuotaStore>],
    account: &str,
    limit: RateLimit,
    now: u64,
    n: usize,
) -> usize {
    let mut tasks = Vec::new();
    for i in 0..n {
        let store = stores[i % stores.len()].clone();
        let account = account.to_owned();
        let task = tokio::spawn(async move {
            store
                .take_request(&account, limit, now)
                .await
                .expect("take")
        });
        if !concurrent {
            tasks.push(tokio::spawn(std::future::ready(task.await.expect("join"))));
            continue;
        }
        tasks.push(task);
    }
    let mut admitted = 0;
    for t in tasks {
        if t.await.expect("join") == RateDecision::Admitted {
            admitted += 1;
        }
    }
    admitted
}

/// Takes `n` slots (at once when `concurrent`); the slot ids admitted.
async fn connect(
    concurrent: bool,
    stores: &[Arc<dyn QuotaStore>],
    account: &str,
    limit: u64,
    now: u64,
    n: usize,
) -> Vec<String> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let store = stores[i % stores.len()].clone();
        let account = account.to_owned();
        let task = tokio::spawn(async move {
            let slot = format!("slot{i}-{now}");
            let held = store
                .acquire_connection(&account, &slot, limit, now + 30 * SECOND, now)
                .await
                .expect("acquire");
            held.map(|_| slot)
        });
        if !concurrent {
            tasks.push(tokio::spawn(std::future::ready(task.await.expect("join"))));
            continue;
        }
        tasks.push(task);
    }
    let mut held = Vec::new();
    for t in tasks {
        held.extend(t.await.expect("join"));
    }
    held
}

/// Every quota rule, on handles that share one store; `concurrent` runs each rush at
/// once, else one request after another (alternating handles).
async fn conformance(concurrent: bool, stores: &[Arc<dyn QuotaStore>]) {
    // Real time: DynamoDB (and moto) delete items whose TTL attribute has passed.
    let t0 = now_epoch_micros();
    // Rate 3/s, burst 10: exactly ten of a concurrent burst, then three a second.
    let limit = RateLimit::per_second(3.0, 10.0);
    assert_eq!(
        burst(concurrent, stores, "111111111111", limit, t0, 25).await,
        10
    );
    assert_eq!(
        burst(concurrent, stores, "111111111111", limit, t0 + SECOND, 10).await,
        3
    );
    assert_eq!(
        burst(
            concurrent,
            stores,
            "111111111111",
            limit,
            t0 + 3 * SECOND,
            20
        )
        .await,
        6
    );
    match stores[0]
        .take_request("111111111111", limit, t0 + 3 * SECOND)
        .await
        .expect("take")
    {
        RateDecision::Refused { retry_after_secs } => assert_eq!(retry_after_secs, 1),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Another account has its own bucket.
    assert_eq!(
        burst(concurrent, stores, "222222222222", limit, t0, 12).await,
        10
    );

    // Connections: exactly the limit of a concurrent rush, freed by release or lease expiry.
    let held = connect(concurrent, stores, "111111111111", 4, t0, 12).await;
    assert_eq!(held.len(), 4);
    assert!(
        connect(concurrent, stores, "111111111111", 4, t0 + 1, 3)
            .await
            .is_empty()
    );
    stores[1 % stores.len()]
        .release_connection("111111111111", &held[0])
        .await
        .expect("release");
    assert_eq!(
        connect(concurrent, stores, "111111111111", 4, t0 + 2, 3)
            .await
            .len(),
        1
    );
    // A renewed lease keeps its slot past the others' expiry (they crashed).
    stores[0]
        .renew_connection("111111111111", &held[1], t0 + 90 * SECOND)
        .await
        .expect("renew");
    let after = connect(concurrent, stores, "111111111111", 4, t0 + 60 * SECOND, 6).await;
    assert_eq!(
        after.len(),
        3,
        "three slots came free when their leases ran out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_quotas() {
    let store: Arc<dyn QuotaStore> = Arc::new(MemoryQuotaStore::default());
    conformance(true, &[store]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_quotas_shared_by_two_handles() {
    let root = tempfile::tempdir().expect("tempdir");
    let a: Arc<dyn QuotaStore> = Arc::new(DirQuotaStore::open(root.path()).expect("open"));
    let b: Arc<dyn QuotaStore> = Arc::new(DirQuotaStore::open(root.path()).expect("open"));
    conformance(true, &[a, b]).await;
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

async fn create_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_quotas_shared_by_two_clients() {
    let moto = MotoServer::start().expect("moto_server is needed for this test (put it on PATH)");
    let first = client(&moto.url);
    create_table(&first, "state-quotas").await;
    let a: Arc<dyn QuotaStore> = Arc::new(DynamoQuotaStore::new(first, "state-quotas"));
    let b: Arc<dyn QuotaStore> = Arc::new(DynamoQuotaStore::new(client(&moto.url), "state-quotas"));
    // moto applies a conditional `SET` without holding a lock (two racing updates can
    // both pass their condition), unlike DynamoDB; so here the two clients alternate, and
    // races are exercised on the directory store, whose locking is ours.
    conformance(false, &[a, b]).await;
}

fn session(owner: &str) -> SessionRecord {
    let now = now_epoch_seconds();
    SessionRecord {
        id: new_session_id().expect("random"),
        owner: owner.into(),
        account: "123456789012".into(),
        protocol_version: "2025-11-25".into(),
        client_name: None,
        can_elicit: false,
        created_at: now,
        expires_at: now + 3600,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_sessions_are_counted_and_created_as_one() {
    let root = tempfile::tempdir().expect("tempdir");
    let stores: Vec<Arc<dyn SessionStore>> = vec![
        Arc::new(DirSessionStore::open(root.path()).expect("open")),
        Arc::new(DirSessionStore::open(root.path()).expect("open")),
    ];
    let limits = SessionLimits {
        per_account: 7,
        per_user: 5,
    };
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = stores[i % 2].clone();
        let owner = if i % 3 == 0 { "alice" } else { "bob" };
        let record = session(owner);
        tasks.push(tokio::spawn(async move {
            store.create_within(&record, limits).await.expect("create")
        }));
    }
    let mut created = 0;
    for t in tasks {
        if matches!(t.await.expect("join"), SessionAdmission::Created { .. }) {
            created += 1;
        }
    }
    assert_eq!(created, 7);
    assert_eq!(
        stores[0]
            .count_for_account("123456789012")
            .await
            .expect("count"),
        7
    );
    assert!(stores[1].count_for_owner("bob").await.expect("count") <= 5);
    assert!(stores[1].count_for_owner("alice").await.expect("count") <= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_sessions_are_counted_and_created_as_one() {
    let moto = MotoServer::start().expect("moto_server is needed for this test (put it on PATH)");
    let first = client(&moto.url);
    create_table(&first, "state-sessions").await;
    let stores: Vec<Arc<dyn SessionStore>> = vec![
        Arc::new(DynamoSessionStore::new(
            first,
            StateTableLayout::standard("state-sessions"),
        )),
        Arc::new(DynamoSessionStore::new(
            client(&moto.url),
            StateTableLayout::standard("state-sessions"),
        )),
    ];
    let limits = SessionLimits {
        per_account: 7,
        per_user: 5,
    };
    // Alternating handles, one at a time (moto does not serialise racing conditions the way
    // DynamoDB does; the races are exercised on the directory store and end to end).
    let mut created = Vec::new();
    for i in 0..16 {
        let owner = if i % 3 == 0 { "alice" } else { "bob" };
        let record = session(owner);
        match stores[i % 2]
            .create_within(&record, limits)
            .await
            .expect("create")
        {
            SessionAdmission::Created { .. } => created.push(record),
            SessionAdmission::UserFull(n) => assert_eq!((owner, n), ("bob", 5)),
            SessionAdmission::AccountFull(n) => assert_eq!(n, 7),
        }
    }
    assert_eq!(created.len(), 7);
    // Ending a session gives its place back, to the other handle too.
    let ended = created.pop().expect("one");
    assert!(stores[0].delete(&ended.id).await.expect("delete"));
    let again = session(&ended.owner);
    assert!(matches!(
        stores[1]
            .create_within(&again, limits)
            .await
            .expect("create"),
        SessionAdmission::Created { account: 7, .. }
    ));
    // An id already taken is a conflict, not a place used.
    let roomy = SessionLimits {
        per_account: 100,
        per_user: 100,
    };
    assert!(matches!(
        stores[0].create_within(&again, roomy).await,
        Err(mcp_protocol::StoreError::Conflict(_))
    ));
}
