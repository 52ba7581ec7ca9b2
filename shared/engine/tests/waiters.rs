//! The CLI's `wait` commands: acceptor evaluation and the polling loop equal to botocore's
//! `Waiter.wait` on the canned answers of `tests/data/waiter_oracle.json.gz` (oracle:
//! `infra/scripts/generate_waiter_oracle.py`), waiter names equal to the CLI's for every
//! bundled waiter, and whole waits against a `moto_server` this test starts (skipped, with
//! a message, when moto is not installed).

use aws_mcp_testkit::MotoServer;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_engine::execute::{Executor, ReqwestSender, StaticCredentials};
use aws_engine::paginate::PageBudget;
use aws_engine::params::LocalFiles;
use aws_engine::response::ServiceError;
use aws_engine::run::{CallGate, GateCall, OpenGate, RunError, RunSettings, Runner};
use aws_engine::sign::SigningKeys;
use aws_engine::wait::{
    PollResult, WaitOptions, WaitPlan, Waiter, is_wait_command, poll_until, run_wait_with,
    waiter_cli_names,
};
use aws_engine::xform_name;
use aws_models::models;
use serde_json::Value;

fn oracle() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/waiter_oracle.json.gz");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut raw)
        .expect("gzip");
    serde_json::from_slice(&raw).expect("json")
}

fn poll_result(r: &Value) -> PollResult {
    match (r.get("output"), r.get("error")) {
        (Some(Value::Object(m)), _) => PollResult::Output(m.clone()),
        (_, Some(e)) => PollResult::Error(ServiceError {
            code: e["code"].as_str().expect("code").into(),
            message: e["message"].as_str().expect("message").into(),
            status: e["status"].as_u64().expect("status") as u16,
            request_id: None,
            operation: "Op".into(),
        }),
        _ => panic!("bad case answer {r}"),
    }
}

#[test]
fn waiter_names_match_the_cli() {
    let doc = oracle();
    let names = doc["names"].as_object().expect("names");
    let mut bundled = 0;
    let mut mismatches = Vec::new();
    for entry in &models().index().expect("index").services {
        let model = models().service(&entry.service_name).expect("model");
        let listed = waiter_cli_names(&model);
        for name in model.waiters.keys() {
            bundled += 1;
            let key = format!("{} {name}", entry.service_name);
            let got = xform_name(name, '-');
            match names.get(&key).and_then(Value::as_str) {
                Some(expected) if expected == got && listed.contains(&got) => {}
                other => mismatches.push(format!("{key}: {got} vs {other:?}")),
            }
        }
    }
    assert_eq!(bundled, names.len(), "bundled and botocore waiters differ");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[tokio::test]
async fn acceptors_and_the_loop_match_botocore() {
    let doc = oracle();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let service = case["service"].as_str().expect("service");
        let name = case["waiter"].as_str().expect("waiter");
        let model = models().service(service).expect("model");
        let waiter = Waiter::parse(name, &model.waiters[name]).expect("waiter");
        let answers: Vec<PollResult> = case["responses"]
            .as_array()
            .expect("responses")
            .iter()
            .map(poll_result)
            .collect();
        let expected_matched: Vec<Option<u64>> = case["matched"]
            .as_array()
            .expect("matched")
            .iter()
            .map(Value::as_u64)
            .collect();
        for (i, want) in expected_matched.iter().enumerate() {
            let got = waiter.evaluate(&answers[i]).and_then(|a| {
                waiter
                    .acceptors
                    .iter()
                    .position(|b| std::ptr::eq(a, b))
                    .map(|p| p as u64)
            });
            if got != *want {
                failures.push(format!(
                    "{service} {name} answer {i}: acceptor {got:?}, botocore {want:?}"
                ));
            }
        }
        let plan = WaitPlan {
            delay: Duration::ZERO,
            max_attempts: case["max_attempts"].as_u64().expect("max") as u32,
            max_time: Duration::from_secs(60),
        };
        let calls = AtomicUsize::new(0);
        let poll = || {
            let i = calls.fetch_add(1, Ordering::SeqCst);
            let answer = answers.get(i).cloned();
            async move { answer.ok_or_else(|| RunError::validation("ran out of answers")) }
        };
        let outcome = match poll_until(&waiter, &plan, poll, &|_| {}).await {
            Ok(_) => "success".to_owned(),
            Err(e) => e.message,
        };
        let want = case["outcome"].as_str().expect("outcome");
        let want_calls = case["calls"].as_u64().expect("calls") as usize;
        if outcome != want || calls.load(Ordering::SeqCst) != want_calls {
            failures.push(format!(
                "{service} {name}: {outcome} after {} calls\n   botocore: {want} after {want_calls}",
                calls.load(Ordering::SeqCst)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Records what it was asked and refuses one service.
struct RecordingGate {
    seen: Mutex<Vec<String>>,
    refuse: &'static str,
}

#[async_trait]
impl CallGate for RecordingGate {
    async fn admit(&self, call: &GateCall<'_>) -> Result<(), String> {
        self.seen.lock().expect("lock").push(format!(
            "{} {} -> {} {} {}",
            call.cli_service, call.cli_operation, call.service, call.operation, call.region
        ));
        if call.service == self.refuse {
            return Err(format!("{} is denied here", call.service));
        }
        Ok(())
    }
}

fn runner(url: &str) -> Runner {
    let url = url.to_owned();
    let executor = Executor::new(
        Arc::new(
            ReqwestSender::new(Duration::from_secs(5), Duration::from_secs(30)).expect("client"),
        ),
        Arc::new(StaticCredentials(SigningKeys {
            access_key: "testing".into(),
            secret_key: "testing".into(),
            session_token: None,
        })),
        Arc::new(move |name: &str| (name == "AWS_ENDPOINT_URL").then(|| url.clone())),
    );
    Runner::new(
        executor,
        LocalFiles::Refused("no files in this test".into()),
    )
}

fn settings(max_time: Duration) -> RunSettings {
    RunSettings {
        default_region: "us-east-1".into(),
        max_results: None,
        owner: None,
        budget: PageBudget {
            max_time,
            ..PageBudget::default()
        },
    }
}

const FAST: WaitOptions = WaitOptions {
    delay_override: Some(Duration::from_millis(20)),
    max_attempts_override: Some(3),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_against_moto_server() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let runner = runner(&moto.url);
    let s = settings(Duration::from_secs(30));
    let lines = Mutex::new(Vec::<String>::new());
    let progress = |l: String| lines.lock().expect("lock").push(l);
    let take = || std::mem::take(&mut *lines.lock().expect("lock"));
    let wait = |line: &str, options: WaitOptions| {
        let (runner, s, progress) = (&runner, &s, &progress);
        let line = line.to_owned();
        async move {
            assert!(is_wait_command(&line), "{line}");
            run_wait_with(runner, &line, s, &OpenGate, progress, &options).await
        }
    };

    // DynamoDB: table-exists succeeds at once on an ACTIVE table, table-not-exists runs out
    // of attempts on it, and table-exists on a missing table retries, then gives up.
    runner
        .run(
            "aws dynamodb create-table --table-name t --attribute-definitions AttributeName=k,AttributeType=S --key-schema AttributeName=k,KeyType=HASH --billing-mode PAY_PER_REQUEST",
            &s,
            &OpenGate,
        )
        .await
        .expect("create-table");
    let done = wait("aws dynamodb wait table-exists --table-name t", FAST)
        .await
        .expect("table exists");
    assert_eq!(done.output, serde_json::json!({}));
    assert_eq!(
        (done.service.as_str(), done.operation.as_str()),
        ("dynamodb", "DescribeTable")
    );
    assert_eq!(
        take(),
        ["attempt 1/3: success (Table.TableStatus = \"ACTIVE\")"]
    );

    let started = Instant::now();
    let e = wait("aws dynamodb wait table-not-exists --table-name t", FAST)
        .await
        .expect_err("the table exists");
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        (
            "WaiterError",
            "Waiter TableNotExists failed: Max attempts exceeded"
        )
    );
    assert_eq!(
        e.call.as_ref().map(|c| c.operation.as_str()),
        Some("DescribeTable")
    );
    assert_eq!(take().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "two delays between three polls"
    );

    let e = wait("aws dynamodb wait table-exists --table-name missing", FAST)
        .await
        .expect_err("no such table");
    assert_eq!(
        e.message,
        "Waiter TableExists failed: Max attempts exceeded. Previously accepted state: Matched expected service error code: ResourceNotFoundException"
    );
    assert_eq!(
        take()[0],
        "attempt 1/3: retry (error ResourceNotFoundException (HTTP 400))"
    );
    assert!(
        wait(
            "aws dynamodb wait table-not-exists --table-name missing",
            FAST
        )
        .await
        .is_ok()
    );
    take();

    // S3: status matchers on HeadBucket / HeadObject.
    runner
        .run(
            "aws s3api create-bucket --bucket wait-bucket",
            &s,
            &OpenGate,
        )
        .await
        .expect("create-bucket");
    wait("aws s3api wait bucket-exists --bucket wait-bucket", FAST)
        .await
        .expect("bucket exists");
    wait("aws s3api wait bucket-not-exists --bucket nope", FAST)
        .await
        .expect("no such bucket");
    let e = wait("aws s3api wait bucket-exists --bucket nope", FAST)
        .await
        .expect_err("no such bucket");
    assert_eq!(
        e.message,
        "Waiter BucketExists failed: Max attempts exceeded. Previously accepted state: Matched expected HTTP status code: 404"
    );
    runner
        .run(
            "aws s3api put-object --bucket wait-bucket --key k",
            &s,
            &OpenGate,
        )
        .await
        .expect("put-object");
    wait(
        "aws s3api wait object-exists --bucket wait-bucket --key k",
        FAST,
    )
    .await
    .expect("object exists");
    take();

    // EC2: pathAll over the instances of a reservation.
    let started = runner
        .run(
            // (--count is a CLI customisation the engine refuses; the JSON input says the same.)
            r#"aws ec2 run-instances --cli-input-json '{"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t2.micro"}'"#,
            &s,
            &OpenGate,
        )
        .await
        .expect("run-instances");
    let id = started.output["Instances"][0]["InstanceId"]
        .as_str()
        .expect("instance id")
        .to_owned();
    let line = format!("aws ec2 wait instance-running --instance-ids {id}");
    wait(&line, FAST).await.expect("instance running");
    assert_eq!(
        take(),
        ["attempt 1/3: success (Reservations[].Instances[].State.Name = [\"running\"])"]
    );

    // The gate sees every poll as `<service> wait`, and its refusal ends the wait.
    let gate = RecordingGate {
        seen: Mutex::new(Vec::new()),
        refuse: "s3",
    };
    // moto keeps Regions apart: eu-west-1 has no table t, so the first poll ends the wait.
    run_wait_with(
        &runner,
        "aws dynamodb wait table-not-exists --table-name t --region eu-west-1",
        &s,
        &gate,
        &progress,
        &FAST,
    )
    .await
    .expect("no table in eu-west-1");
    let seen = gate.seen.lock().expect("lock").clone();
    assert_eq!(seen, ["dynamodb wait -> dynamodb DescribeTable eu-west-1"]);
    let e = run_wait_with(
        &runner,
        "aws s3api wait bucket-exists --bucket wait-bucket",
        &s,
        &gate,
        &progress,
        &FAST,
    )
    .await
    .expect_err("refused");
    assert_eq!(e.code, "PolicyDenied");

    // The time budget turns a long wait into a "run it again" answer.
    let e = run_wait_with(
        &runner,
        "aws dynamodb wait table-not-exists --table-name t",
        &settings(Duration::from_millis(150)),
        &OpenGate,
        &progress,
        &WaitOptions {
            delay_override: Some(Duration::from_millis(100)),
            max_attempts_override: None,
        },
    )
    .await
    .expect_err("still there");
    assert_eq!(e.code, "WaiterTimeout");
    assert!(e.message.contains("attempts"), "{}", e.message);
}
