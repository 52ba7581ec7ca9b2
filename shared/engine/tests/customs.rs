//! The CLI's argument customisations, built through the public API as a command would be
//! (they act at parse time and at build time, so a unit test of one module cannot see them).

use aws_engine::{CallOptions, LocalFiles, build_call_with, parse_command};
use base64::Engine;
use serde_json::{Map, Value, json};

fn fixtures() -> CallOptions {
    CallOptions {
        local_files: LocalFiles::Within(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/files"),
        ),
    }
}

fn build(line: &str) -> Result<Map<String, Value>, String> {
    let c = parse_command(line).map_err(|e| e.to_string())?;
    build_call_with(&c, &fixtures())
        .map(|call| call.params)
        .map_err(|e| e.to_string())
}

fn refused(line: &str) -> String {
    build(line).expect_err(line)
}

#[test]
fn zip_file_must_be_a_zip_read_with_fileb() {
    let ok =
        build("aws lambda publish-layer-version --layer-name l --zip-file fileb://function.zip")
            .expect("builds");
    let zip = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/files/function.zip"),
    )
    .expect("fixture");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&zip);
    assert_eq!(
        ok["Content"]["ZipFile"],
        json!({"__bytes_base64__": encoded})
    );
    for line in [
        "aws lambda publish-layer-version --layer-name l --zip-file function.zip",
        "aws lambda publish-layer-version --layer-name l --zip-file file://function.zip",
        "aws lambda publish-layer-version --layer-name l --zip-file fileb://image.png",
        "aws lambda update-function-code --function-name f --zip-file fileb://not-a-zip.bin",
    ] {
        assert!(
            refused(line).contains("must be a zip file with the fileb:// prefix"),
            "{line}"
        );
    }
    let outside = refused(
        "aws lambda publish-layer-version --layer-name l --zip-file fileb://../param_oracle.json.gz",
    );
    assert!(
        outside.contains("outside the working directory"),
        "{outside}"
    );
    let staged = CallOptions {
        local_files: LocalFiles::Refused("stage files through S3".into()),
    };
    let c = parse_command(
        "aws lambda create-function --function-name f --role r --zip-file fileb://function.zip",
    )
    .expect("parses");
    let err = build_call_with(&c, &staged)
        .expect_err("refused")
        .to_string();
    assert!(err.contains("stage files through S3"), "{err}");
}

#[test]
fn security_group_options_build_one_permission() {
    let p = build(
        "aws ec2 authorize-security-group-ingress --group-id sg-1 --protocol all --port 0-65535 --source-group web --group-owner 1234",
    )
    .expect("builds");
    assert_eq!(
        p["IpPermissions"],
        json!([{"IpProtocol": "-1", "FromPort": 0, "ToPort": 65535,
                "UserIdGroupPairs": [{"GroupName": "web", "UserId": "1234"}]}])
    );
    assert!(
        refused("aws ec2 authorize-security-group-ingress --group-id sg-1 --protocol 256")
            .contains("protocol parameter")
    );
    assert!(
        refused("aws ec2 authorize-security-group-ingress --group-id sg-1 --port 5-")
            .contains("port parameter")
    );
    assert!(
        refused("aws ec2 authorize-security-group-ingress --group-id sg-1 --cidr")
            .contains("expected one argument")
    );
    assert!(
        refused("aws ec2 revoke-security-group-egress --group-id sg-1 --ip-permissions IpProtocol=tcp --source-group sg-2")
            .contains("--source-group option is not compatible")
    );
}

#[test]
fn run_instances_options_and_rewrites() {
    let p = build("aws ec2 run-instances --image-id ami-1 --count 2:4 --secondary-private-ip-addresses 10.0.0.5 --subnet-id s-1")
        .expect("builds");
    assert_eq!(
        (p["MinCount"].clone(), p["MaxCount"].clone()),
        (json!(2), json!(4))
    );
    assert_eq!(
        p["NetworkInterfaces"],
        json!([{"DeviceIndex": 0, "SubnetId": "s-1",
                "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.5", "Primary": false}]}])
    );
    assert!(!p.contains_key("SubnetId"));
    assert!(
        refused("aws ec2 run-instances --image-id ami-1 --count 1:x").contains("count parameter")
    );
    assert!(
        refused("aws ec2 run-instances --image-id ami-1 --associate-public-ip-address true")
            .contains("Unknown options: true")
    );
}

#[test]
fn put_metric_data_options_fill_the_first_datum() {
    let p = build(
        "aws cloudwatch put-metric-data --namespace N --metric-name M --value 0.5 --statistic-values Sum=2,Maximum=1.5 --dimensions 'A=\"x,y\",B=z'",
    )
    .expect("builds");
    assert_eq!(
        p["MetricData"],
        json!([{"MetricName": "M", "Value": 0.5,
                "Dimensions": [{"Name": "A", "Value": "x,y"}, {"Name": "B", "Value": "z"}],
                "StatisticValues": {"Sum": 2.0, "Maximum": 1.5}}])
    );
    assert!(
        refused(
            "aws cloudwatch put-metric-data --namespace N --metric-name M --value 1 --dimensions A"
        )
        .contains("not enough values")
    );
    assert!(
        refused("aws cloudwatch put-metric-data --namespace N --metric-name M --value x")
            .contains("--value")
    );
}

#[test]
fn cloudfront_references_are_unique_and_shaped_like_the_cli() {
    let p = build("aws cloudfront create-invalidation --distribution-id E1 --paths /a /b")
        .expect("builds");
    let reference = p["InvalidationBatch"]["CallerReference"]
        .as_str()
        .expect("ref");
    let parts: Vec<&str> = reference.split('-').collect();
    assert_eq!(parts[0], "cli");
    assert!(parts[1].parse::<u64>().is_ok_and(|t| t > 1_700_000_000));
    assert!(
        parts[2]
            .parse::<u64>()
            .is_ok_and(|r| (1..=1_000_000).contains(&r))
    );
    assert_eq!(
        p["InvalidationBatch"]["Paths"],
        json!({"Quantity": 2, "Items": ["/a", "/b"]})
    );
    assert!(
        refused("aws cloudfront create-invalidation --distribution-id E1 --paths")
            .contains("expected at least one")
    );
}

#[test]
fn ses_emr_and_nested_blobs() {
    let p = build("aws ses send-email --from a@x --to b@x --text hi").expect("builds");
    assert_eq!(
        p["Message"],
        json!({"Subject": {}, "Body": {"Text": {"Data": "hi"}}})
    );
    let p = build("aws rekognition detect-labels --image-bytes fileb://image.png").expect("builds");
    assert!(p["Image"]["Bytes"]["__bytes_base64__"].is_string());
    assert!(
        refused("aws emr list-clusters --failed --terminated")
            .contains("only one of the cluster state filters")
    );
    // Required members a customisation stands for are required no more; others still are.
    assert!(build("aws ses send-email --to b@x").is_err());
}
