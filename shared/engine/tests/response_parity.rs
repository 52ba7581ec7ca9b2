//! Parity with what the AWS CLI prints: every response recorded from moto by
//! `infra/scripts/generate_response_oracle.py` (raw status, headers and body) is parsed with
//! [`parse_response_with`] and must equal the CLI's printed JSON, or give the CLI's error code
//! and message.

use std::io::Read;
use std::path::Path;

use aws_engine::response::{ParseOptions, RawResponse, ResponseError, parse_response_with};
use aws_models::models;
use base64::Engine;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut raw)
        .expect("gzip");
    serde_json::from_slice(&raw).expect("json")
}

/// Cases where the parser knowingly differs from the CLI: (service, operation, reason). The
/// test fails if this list is wrong in either direction.
const KNOWN_DIVERGENCES: [(&str, &str, &str); 0] = [];

/// Compares one case; `Err` says how it differs.
fn check(case: &Value) -> Result<(), String> {
    let service = case["service"].as_str().expect("service");
    let operation = case["operation"].as_str().expect("operation");
    let model = models().service(service).expect("model");
    let op = model.operation(operation).expect("operation");
    let headers: Vec<(String, String)> = case["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().expect("name").to_owned(),
                h[1].as_str().expect("value").to_owned(),
            )
        })
        .collect();
    let body = base64::engine::general_purpose::STANDARD
        .decode(case["body_base64"].as_str().expect("body"))
        .expect("base64");
    let raw = RawResponse {
        status: u16::try_from(case["status"].as_u64().expect("status")).expect("u16"),
        headers: &headers,
        body: &body,
    };
    let options = ParseOptions {
        encoding_type_auto_set: case["encoding_type_auto_set"].as_bool().unwrap_or(false),
    };
    let got = parse_response_with(&model, op, &raw, &options);
    match (got, case.get("expected"), case.get("error")) {
        (Ok(map), Some(expected), _) => {
            let got = Value::Object(map);
            if &got == expected {
                Ok(())
            } else {
                Err(format!(
                    "differs from the CLI's output (expected: the CLI's):\n{}",
                    aws_mcp_testkit::json_diff_text(expected, &got, 20)
                ))
            }
        }
        (Err(ResponseError::Service(e)), _, Some(expected)) => {
            let want_code = expected["code"].as_str().unwrap_or_default();
            let want_message = expected["message"].as_str().unwrap_or_default();
            // The retry handler, not the parser, adds " (reached max retries: N)".
            let text = expected["text"].as_str().unwrap_or_default();
            let want_text = match text.find(" (reached max retries: ") {
                Some(start) => {
                    let end = text[start..]
                        .find("):")
                        .map_or(text.len(), |e| start + e + 1);
                    format!("{}{}", &text[..start], &text[end..])
                }
                None => text.to_owned(),
            };
            if e.code == want_code && e.message == want_message && e.to_string() == want_text {
                Ok(())
            } else {
                Err(format!(
                    "got error ({}) {:?}, expected ({want_code}) {want_message:?}",
                    e.code, e.message
                ))
            }
        }
        (Ok(map), None, _) => Err(format!("parsed {map:?}, expected an error")),
        (Err(e), _, _) => Err(format!("got {e}")),
    }
}

#[test]
fn responses_parse_to_what_the_cli_prints() {
    let oracle = load("response_oracle.json.gz");
    let cases = oracle["cases"].as_array().expect("cases");
    assert!(cases.len() >= 150, "oracle too small: {}", cases.len());
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut diverged = Vec::new();
    for case in cases {
        let key = (
            case["service"].as_str().unwrap_or_default(),
            case["operation"].as_str().unwrap_or_default(),
        );
        let known = KNOWN_DIVERGENCES.iter().any(|(s, o, _)| (*s, *o) == key);
        match check(case) {
            Ok(()) if known => failures.push(format!(
                "{}.{} is listed as a divergence but now matches",
                key.0, key.1
            )),
            Ok(()) => passed += 1,
            Err(_) if known => diverged.push(key),
            Err(e) => failures.push(format!("{}.{} ({:?}): {e}", key.0, key.1, case["params"])),
        }
    }
    let errors = cases.iter().filter(|c| c.get("error").is_some()).count();
    eprintln!(
        "{passed} of {} responses ({errors} errors) parse to what the CLI prints; {} known divergences",
        cases.len(),
        diverged.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn oracle_covers_every_protocol() {
    let oracle = load("response_oracle.json.gz");
    let cases = oracle["cases"].as_array().expect("cases");
    let mut protocols = std::collections::BTreeSet::new();
    let mut services = std::collections::BTreeSet::new();
    for case in cases {
        let service = case["service"].as_str().expect("service");
        services.insert(service.to_owned());
        let model = models().service(service).expect("model");
        protocols.insert(aws_engine::serialize::protocol(&model));
    }
    assert!(services.len() >= 12, "{services:?}");
    for p in ["json", "rest-json", "rest-xml", "query", "ec2"] {
        assert!(protocols.contains(p), "no {p} case");
    }
}
