//! Pre-signed S3 URLs: byte-equal to botocore's for every case of
//! `tests/data/presign_oracle.json.gz` (oracle: `infra/scripts/generate_presign_oracle.py`),
//! and usable: an upload and a download through them against a `moto_server` this test
//! starts (skipped, with a message, when moto is not installed). moto does not verify
//! query-string signatures (its S3 auth reads only the Authorization header), so the moto
//! test proves addressing, key encoding and the signed Content-Type; the oracle proves the
//! signatures.

use aws_mcp_testkit::MotoServer;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_engine::presign::{PresignMethod, PresignRequest, presign_s3};
use aws_engine::sign::SigningKeys;
use serde_json::Value;

fn oracle() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/presign_oracle.json.gz");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut raw)
        .expect("gzip");
    serde_json::from_slice(&raw).expect("json")
}

#[test]
fn presigned_urls_match_botocore() {
    let doc = oracle();
    let time = UNIX_EPOCH + Duration::from_secs(doc["epoch"].as_u64().expect("epoch"));
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let (mut with_token, mut custom, mut puts) = (0, 0, 0);
    for case in cases {
        let text = |k: &str| case[k].as_str();
        let keys = SigningKeys {
            access_key: doc["access_key"].as_str().expect("ak").to_owned(),
            secret_key: doc["secret_key"].as_str().expect("sk").to_owned(),
            session_token: text("token").map(str::to_owned),
        };
        let method = match text("method") {
            Some("PUT") => PresignMethod::Put,
            _ => PresignMethod::Get,
        };
        with_token += usize::from(keys.session_token.is_some());
        custom += usize::from(text("endpoint_url").is_some());
        puts += usize::from(method == PresignMethod::Put);
        let req = PresignRequest {
            bucket: text("bucket").expect("bucket"),
            key: text("key").expect("key"),
            method,
            expires_in: case["expires_in"].as_u64().expect("expires_in"),
            content_type: text("content_type"),
            region: text("region").expect("region"),
            endpoint_url: text("endpoint_url"),
        };
        let expected = text("url").expect("url");
        match presign_s3(&req, &keys, time) {
            Ok(got) if got.url == expected => {
                assert_eq!(
                    got.expires_at.unix_timestamp() as u64,
                    doc["epoch"].as_u64().unwrap_or(0) + req.expires_in
                );
                assert_eq!(
                    got.headers.first().map(|(_, v)| v.as_str()),
                    req.content_type.map(str::trim)
                );
            }
            Ok(got) => failures.push(format!(
                "{req:?}\n  got      {}\n  expected {expected}",
                got.url
            )),
            Err(e) => failures.push(format!("{req:?}\n  error {e}\n  expected {expected}")),
        }
    }
    assert!(with_token > 0 && with_token < cases.len());
    assert!(
        custom >= 20 && puts >= 20,
        "{custom} custom endpoints, {puts} uploads"
    );
    assert!(
        failures.is_empty(),
        "{} of {} URLs differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Python with only its standard library drives the HTTP side: create the bucket (moto
/// accepts an unsigned request), PUT the body through the upload URL with its signed
/// header, GET it back through the download URL, and print what came back.
const CLIENT: &str = r#"
import sys, urllib.request
endpoint, bucket, put_url, content_type, get_url = sys.argv[1:6]
urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")).read()
body = "presigned ✓ upload".encode()
req = urllib.request.Request(put_url, data=body, method="PUT", headers={"Content-Type": content_type})
assert urllib.request.urlopen(req).status == 200
with urllib.request.urlopen(get_url) as r:
    sys.stdout.write(r.headers["Content-Type"] + "\n" + r.read().decode())
"#;

#[test]
fn urls_work_against_moto_server() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let keys = SigningKeys {
        access_key: "testing".into(),
        secret_key: "testing".into(),
        session_token: Some("token".into()),
    };
    let bucket = "presign-e2e";
    let key = "dir/a file ü+=~.txt";
    let req = |method, content_type| PresignRequest {
        bucket,
        key,
        method,
        expires_in: 60,
        content_type,
        region: "us-east-1",
        endpoint_url: Some(&moto.url),
    };
    let now = SystemTime::now();
    let put =
        presign_s3(&req(PresignMethod::Put, Some("text/x-test")), &keys, now).expect("put url");
    let get = presign_s3(&req(PresignMethod::Get, None), &keys, now).expect("get url");
    let out = Command::new("python3")
        .args([
            "-c",
            CLIENT,
            &moto.url,
            bucket,
            &put.url,
            &put.headers[0].1,
            &get.url,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "text/x-test\npresigned ✓ upload"
    );
}
