//! Parity with the AWS CLI and botocore, case by case:
//! - the API parameters the CLI builds for each command in `tests/data/param_commands.txt`
//!   (oracle: `infra/scripts/generate_param_oracle.py`), and the commands it refuses;
//! - the request parts botocore serialises from them (oracle:
//!   `infra/scripts/generate_request_oracle.py`), for the protocols serialised so far.

use std::io::Read;
use std::path::Path;

use aws_engine::serialize::{protocol, serialize};
use aws_engine::{build_call, parse_command};
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

fn cases(doc: &Value) -> &Vec<Value> {
    doc["cases"].as_array().expect("cases")
}

/// Commands the engine refuses on purpose, counted rather than compared: CLI customisations
/// (it names the API parameters to use instead) and options this server's policy forbids.
fn is_deliberate_refusal(err: &str) -> bool {
    err.contains("customisation") || err.contains("is not allowed here")
}

/// Where the engine does not (yet) do what the CLI does, by command, with the reason. The
/// test fails if this list is wrong in either direction, so it stays the exact to-do list.
const KNOWN_DIVERGENCES: [(&str, &str); 4] = [
    (
        "aws route53 list-hosted-zones --max-items 10 --no-paginate",
        "with --no-paginate the CLI hands --max-items to the model's own MaxItems member",
    ),
    ("aws iam list-users --max-items 5 --no-paginate", "as above"),
    ("aws --no-paginate iam list-users --max-items 3", "as above"),
    (
        "aws elbv2 describe-load-balancers --names lb1 lb2 --page-size 5",
        "the CLI maps --page-size to the model's PageSize member for this paginator",
    ),
];

/// Values that legitimately differ from run to run or in representation only:
/// - the CLI's cloudfront references (`CallerReference`, origin `Id`, `TargetOriginId`) end
///   in `-<seconds since the epoch>-<random number>`; both sides get `-<time>-<random>`;
/// - `put-metric-data --value/--statistic-values` hold a Python `Decimal` to keep the typed
///   digits, which every botocore serialiser writes as `float(value)`; the engine holds that
///   float, so the oracle's `{"__decimal__": "12.50"}` compares as the number 12.5.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(d)) = o.get("__decimal__") {
                let f: f64 = d.parse().expect("decimal");
                return serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
            }
            Value::Object(
                o.iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v) {
                            ("CallerReference" | "Id" | "TargetOriginId", Value::String(s)) => {
                                Value::String(without_time_and_random(s))
                            }
                            _ => normalise(v),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

fn without_time_and_random(s: &str) -> String {
    let mut parts = s.rsplitn(3, '-');
    let (random, time, prefix) = (parts.next(), parts.next(), parts.next());
    match (random, time, prefix) {
        (Some(r), Some(t), Some(p))
            if r.parse::<u32>().is_ok_and(|r| (1..=1_000_000).contains(&r))
                && t.len() >= 10
                && t.parse::<u64>().is_ok() =>
        {
            format!("{p}-<time>-<random>")
        }
        _ => s.to_owned(),
    }
}

#[test]
fn parameters_match_what_the_cli_builds() {
    let oracle = load("param_oracle.json.gz");
    let (mut compared, mut refused_alike, mut customised) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in cases(&oracle) {
        let command = case["command"].as_str().expect("command");
        let ours = parse_command(command).and_then(|c| build_call(&c));
        match (case["ok"].as_bool(), ours) {
            (Some(true), Ok(call)) => {
                compared += 1;
                let ours = normalise(&Value::Object(call.params.clone()));
                let cli = normalise(&case["params"]);
                if ours != cli {
                    failures.push(format!(
                        "{command}\n   cli:  {}\n   ours: {}\n   (expected: the CLI's)\n{}",
                        case["params"],
                        Value::Object(call.params),
                        aws_mcp_testkit::json_diff_text(&cli, &ours, 12)
                    ));
                }
            }
            (Some(true), Err(e)) if is_deliberate_refusal(&e.to_string()) => customised += 1,
            (Some(true), Err(e)) => {
                failures.push(format!("{command}\n   cli accepted, we refused: {e}"))
            }
            (_, Err(_)) => refused_alike += 1,
            (_, Ok(call)) => failures.push(format!(
                "{command}\n   cli refused ({}), we built {}",
                case["error"],
                Value::Object(call.params)
            )),
        }
    }
    eprintln!(
        "parameters: {compared} compared, {refused_alike} refused by both, {customised} deliberate refusals (customisations, policy), {} known divergences",
        KNOWN_DIVERGENCES.len()
    );
    assert!(compared >= 200, "only {compared} cases compared");
    let known: Vec<&str> = KNOWN_DIVERGENCES.iter().map(|(c, _)| *c).collect();
    let is_known = |f: &String| known.iter().any(|k| f.starts_with(&format!("{k}\n")));
    let unexpected: Vec<&str> = failures
        .iter()
        .filter(|f| !is_known(f))
        .map(String::as_str)
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} differ:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    let fixed: Vec<&str> = known
        .iter()
        .copied()
        .filter(|k| !failures.iter().any(|f| f.starts_with(&format!("{k}\n"))))
        .collect();
    assert!(
        fixed.is_empty(),
        "now matching the CLI; remove from KNOWN_DIVERGENCES: {fixed:?}"
    );
}

/// Where the CLI refuses a command because of one of its customisations' own checks, the
/// engine refuses it with the same message (first line, trailing spaces aside).
#[test]
fn customisation_refusals_say_what_the_cli_says() {
    const CUSTOMISATION_MESSAGES: [&str; 11] = [
        "--zip-file must be a zip file",
        "ZipFile cannot be provided",
        "protocol parameter should be",
        "port parameter should be",
        "count parameter should be",
        "is not compatible with the --ip-permissions option",
        "Mixing the --network-interfaces option",
        "cannot be specified when one of the following keys",
        "cluster state filters",
        "values to unpack",
        "--secondary-private-ip-address-count: invalid int value",
    ];
    let oracle = load("param_oracle.json.gz");
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in cases(&oracle) {
        let cli = case["error"].as_str().unwrap_or_default();
        if case["ok"].as_bool() != Some(false)
            || !CUSTOMISATION_MESSAGES.iter().any(|m| cli.contains(m))
        {
            continue;
        }
        checked += 1;
        let command = case["command"].as_str().expect("command");
        match parse_command(command).and_then(|c| build_call(&c)) {
            Ok(_) => failures.push(format!(
                "{command}
   accepted; cli: {cli}"
            )),
            Err(e) => {
                let ours = e.to_string();
                let first = ours.lines().next().unwrap_or_default().trim_end();
                if first != cli {
                    failures.push(format!(
                        "{command}
   cli:  {cli}
   ours: {first}"
                    ));
                }
            }
        }
    }
    assert!(checked >= 25, "only {checked} customisation refusals");
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The serialisers in isolation: botocore and the engine serialise the same parameters
/// (the CLI's, as the parameter oracle holds them) and must produce the same bytes.
#[test]
fn requests_match_what_botocore_serialises() {
    let oracle = load("request_oracle.json.gz");
    let params_oracle = load("param_oracle.json.gz");
    let params_by_command: std::collections::HashMap<&str, &Value> = cases(&params_oracle)
        .iter()
        .filter(|c| c["ok"].as_bool() == Some(true))
        .filter_map(|c| Some((c["command"].as_str()?, &c["params"])))
        .collect();
    let (mut compared, mut pending) = (0, 0);
    let mut failures = Vec::new();
    for case in cases(&oracle) {
        if case.get("error").is_some() {
            continue;
        }
        let command = case["command"].as_str().expect("command");
        let service = case["service"].as_str().expect("service");
        let model = models().service(service).expect("model");
        assert_eq!(
            protocol(&model),
            case["protocol"].as_str().unwrap_or_default(),
            "{command}"
        );
        if !matches!(
            case["protocol"].as_str(),
            Some("json" | "rest-json" | "rest-xml" | "query" | "ec2")
        ) {
            pending += 1;
            continue;
        }
        let Some(Value::Object(params)) = params_by_command.get(command).copied() else {
            continue;
        };
        let operation = case["operation"].as_str().expect("operation");
        let op = model.operation(operation).expect("operation");
        let parts = match serialize(&model, op, params) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{command}: {e}"));
                continue;
            }
        };
        compared += 1;
        let body = base64::engine::general_purpose::STANDARD
            .decode(case["body_base64"].as_str().unwrap_or_default())
            .expect("base64");
        let headers: Vec<(String, String)> = case["headers"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_owned(),
                            p[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let same = parts.method == case["method"].as_str().unwrap_or_default()
            && parts.path == case["url_path"].as_str().unwrap_or_default()
            && parts.query == case["query_string"].as_str().unwrap_or_default()
            && parts.headers == headers
            && parts.body == body
            && parts.host_prefix.as_deref() == case["host_prefix"].as_str();
        if !same {
            let mut differing: Vec<&str> = Vec::new();
            for (name, differs) in [
                (
                    "method",
                    parts.method != case["method"].as_str().unwrap_or_default(),
                ),
                (
                    "path",
                    parts.path != case["url_path"].as_str().unwrap_or_default(),
                ),
                (
                    "query",
                    parts.query != case["query_string"].as_str().unwrap_or_default(),
                ),
                ("headers", parts.headers != headers),
                ("body", parts.body != body),
                (
                    "host prefix",
                    parts.host_prefix.as_deref() != case["host_prefix"].as_str(),
                ),
            ] {
                if differs {
                    differing.push(name);
                }
            }
            let body_diff = match (
                serde_json::from_slice::<Value>(&body),
                serde_json::from_slice::<Value>(&parts.body),
            ) {
                (Ok(theirs), Ok(ours)) if theirs != ours => {
                    format!("\n{}", aws_mcp_testkit::json_diff_text(&theirs, &ours, 12))
                }
                _ => String::new(),
            };
            failures.push(format!(
                "{command}\n   differs in: {}{body_diff}\n   botocore: {} {} {headers:?}\n     {}\n   ours:     {} {} {:?}\n     {}",
                differing.join(", "),
                case["method"],
                case["url_path"],
                String::from_utf8_lossy(&body),
                parts.method,
                parts.path,
                parts.headers,
                String::from_utf8_lossy(&parts.body)
            ));
        }
    }
    eprintln!(
        "requests: {compared} compared byte for byte, {pending} in protocols not serialised yet"
    );
    assert!(compared >= 100, "only {compared} requests compared");
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The parameters the CLI builds for valid commands pass every rung of the validation ladder
/// that botocore also checks; the stricter rungs (maximums, enums, patterns) may reject the
/// command list's placeholder ids (`i-1`), which AWS itself would refuse.
#[test]
fn cli_parameters_pass_validation() {
    let oracle = load("param_oracle.json.gz");
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases(&oracle) {
        if case["ok"].as_bool() != Some(true) {
            continue;
        }
        let (Some(service), Some(operation), Value::Object(params)) = (
            case["service"].as_str(),
            case["operation"].as_str(),
            &case["params"],
        ) else {
            continue;
        };
        if case["params"].to_string().contains("__decimal__") {
            continue; // the oracle's encoding of Python's Decimal, not a CLI value
        }
        let model = models().service(service).expect("model");
        checked += 1;
        if let Err(report) = aws_engine::validate::validate(&model, operation, params) {
            let botocore_rungs: Vec<&String> = report
                .problems
                .iter()
                .filter(|p| {
                    !(p.contains("does not match the pattern")
                        || p.contains("valid values:")
                        || p.contains("valid max"))
                })
                .collect();
            if !botocore_rungs.is_empty() {
                failures.push(format!("{}\n   {botocore_rungs:?}", case["command"]));
            }
        }
    }
    assert!(checked >= 400, "only {checked} checked");
    assert!(
        failures.is_empty(),
        "{} rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// SigV4 signatures equal botocore's for the same request, keys and time, with botocore's
/// S3 variant for S3 and S3 Control.
#[test]
fn signatures_match_botocore() {
    let oracle = load("signature_oracle.json.gz");
    let keys = aws_engine::sign::SigningKeys {
        access_key: oracle["access_key"].as_str().expect("ak").to_owned(),
        secret_key: oracle["secret_key"].as_str().expect("sk").to_owned(),
        session_token: oracle["token"].as_str().map(str::to_owned),
    };
    // 2026-01-02T03:04:05Z
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_323_045);
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in cases(&oracle) {
        let headers: Vec<(String, String)> = case["headers"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_owned(),
                            p[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = base64::engine::general_purpose::STANDARD
            .decode(case["body_base64"].as_str().unwrap_or_default())
            .expect("base64");
        let command = case["command"].as_str().unwrap_or_default();
        let signed = aws_engine::sign::sign_v4(
            &aws_engine::sign::UnsignedRequest {
                method: case["method"].as_str().unwrap_or("POST"),
                url: case["url"].as_str().expect("url"),
                headers: &headers,
                body: &body,
            },
            &keys,
            &aws_engine::sign::SigningScope {
                region: case["signing_region"].as_str().expect("region"),
                service: case["signing_name"].as_str().expect("name"),
                time,
                variant: if case["s3_variant"].as_bool() == Some(true) {
                    aws_engine::sign::SignerVariant::S3
                } else {
                    aws_engine::sign::SignerVariant::Standard
                },
            },
        );
        compared += 1;
        let authorization = signed
            .as_ref()
            .ok()
            .and_then(|h| {
                h.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            })
            .map(|(_, v)| v.clone());
        if authorization.as_deref() != case["authorization"].as_str() {
            failures.push(format!(
                "{command}\n   botocore: {}\n   ours:     {authorization:?}\n   canonical request (botocore):\n{}",
                case["authorization"],
                case["canonical_request"].as_str().unwrap_or_default()
            ));
        }
    }
    assert!(compared >= 300, "only {compared} signed");
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| f.lines().next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
