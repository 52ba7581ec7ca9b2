//! What the command parser must know about an argument before any value is built: which
//! customisation kinds the engine translates, which required members a customisation stands
//! for, and which structures the CLI offers as flags. `command` asks at parse time and
//! `customs` and `params` at build time, so it sits below all three.

use aws_models::{ServiceModel, Shape};

/// The customisation kinds (the CLI's argument classes) `customs` translates.
const TRANSLATED: [&str; 24] = [
    "ZipFileArgument",
    "ProtocolArgument",
    "PortArgument",
    "CidrArgument",
    "SourceGroupArgument",
    "GroupOwnerArgument",
    "CountArgument",
    "AssociatePublicIpAddressArgument",
    "NoAssociatePublicIpAddressArgument",
    "SecondaryPrivateIpAddressesArgument",
    "SecondaryPrivateIpAddressCountArgument",
    "PutMetricArgument",
    "PathsArgument",
    "OriginDomainName",
    "CreateDefaultRootObject",
    "AddressesArgument",
    "BodyArgument",
    "_NestedBlobArgumentParamOverwrite",
    "ClusterStatesArgument",
    "ActiveStateArgument",
    "TerminatedStateArgument",
    "FailedStateArgument",
    "CreatedAfter",
    "CreatedBefore",
];

/// Whether arguments of this customisation kind are translated (others are refused).
pub(crate) fn translates(kind: &str) -> bool {
    TRANSLATED.contains(&kind)
}

/// Input members the CLI stops requiring for an operation because a customisation can fill
/// them (or, for `run-instances`, fills them by default). `None` when `customs` does not
/// know the operation.
pub(crate) fn unrequired(service: &str, operation: &str) -> Option<&'static [&'static str]> {
    Some(match (service, operation) {
        ("lambda", "CreateFunction") => &["Code"],
        ("lambda", "PublishLayerVersion") => &["Content"],
        ("ec2", "RunInstances") => &["MinCount", "MaxCount"],
        (
            "ec2",
            "AuthorizeSecurityGroupIngress"
            | "AuthorizeSecurityGroupEgress"
            | "RevokeSecurityGroupIngress"
            | "RevokeSecurityGroupEgress",
        ) => &[],
        ("cloudwatch", "PutMetricData") => &["MetricData"],
        ("cloudfront", "CreateInvalidation") => &["InvalidationBatch"],
        ("cloudfront", "CreateDistribution") => &["DistributionConfig"],
        ("ses", "SendEmail") => &["Destination", "Message"],
        ("rekognition", "CompareFaces") => &["SourceImage", "TargetImage"],
        ("rekognition", _) => &["Image"],
        ("quicksight", "StartAssetBundleImportJob") => &["AssetBundleImportSource"],
        ("emr", "ListClusters") => &[],
        _ => return None,
    })
}

/// A structure whose only member is a boolean `Value` (ec2's `AttributeBooleanValue`): the
/// CLI offers it as a flag (`--enable-dns-support`, `--no-source-dest-check`).
pub(crate) fn is_boolean_value_structure(model: &ServiceModel, shape: &Shape) -> bool {
    shape.kind == "structure"
        && shape.members.len() == 1
        && shape
            .members
            .get("Value")
            .and_then(|m| model.shape(&m.shape))
            .is_some_and(|s| s.kind == "boolean")
}
