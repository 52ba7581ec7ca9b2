//! S3 access point ARNs named where a bucket goes (`--bucket arn:aws:s3:...:accesspoint/name`):
//! botocore sends those requests to the access point's own host, in the ARN's Region, with the
//! bucket left out of the path.

use aws_models::partition_of;

use crate::endpoints::{Endpoint, EndpointVariant};

/// A standard S3 access point, read from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessPoint {
    name: String,
    account: String,
    region: String,
}

impl AccessPoint {
    /// `None` when `bucket` is not an ARN; an error for an ARN this engine cannot address.
    pub(crate) fn parse(bucket: &str) -> Option<Result<Self, String>> {
        let rest = bucket.strip_prefix("arn:")?;
        Some(Self::parse_arn(bucket, rest))
    }

    fn parse_arn(arn: &str, rest: &str) -> Result<Self, String> {
        let unsupported = |what: &str| {
            Err(format!(
                "{arn}: {what} cannot be used as a bucket here; use a standard access point ARN (arn:aws:s3:<region>:<account>:accesspoint/<name>), its alias, or the bucket name"
            ))
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts[..] else {
            return unsupported("a malformed ARN");
        };
        match service {
            "s3" => {}
            "s3-outposts" => return unsupported("an S3 on Outposts ARN"),
            "s3-object-lambda" => return unsupported("an Object Lambda access point ARN"),
            _ => return unsupported("an ARN of another service"),
        }
        if region.is_empty() {
            return unsupported("a Multi-Region Access Point ARN");
        }
        let name = resource
            .strip_prefix("accesspoint/")
            .or_else(|| resource.strip_prefix("accesspoint:"))
            .filter(|n| is_label(n));
        let Some(name) = name else {
            return unsupported("an ARN that names no access point");
        };
        let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        if !valid_account || !crate::endpoints::is_region_id(region) {
            return unsupported("an ARN with an invalid account or Region");
        }
        if partition_of(region).0 != partition {
            return unsupported("an ARN whose partition does not match its Region");
        }
        Ok(Self {
            name: name.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
        })
    }

    /// The access point's endpoint, signed for S3 in the ARN's Region.
    pub(crate) fn endpoint(&self, variant: EndpointVariant) -> Endpoint {
        let fips = if variant.fips { "-fips" } else { "" };
        let dualstack = if variant.dualstack { ".dualstack" } else { "" };
        let suffix = partition_of(&self.region).1;
        Endpoint {
            url: format!(
                "https://{}-{}.s3-accesspoint{fips}{dualstack}.{}.{suffix}",
                self.name, self.account, self.region
            ),
            signing_region: self.region.clone(),
            signing_name: "s3".into(),
            configured: false,
        }
    }
}

/// A DNS label: letters, digits and inner hyphens, at most 63 characters.
fn is_label(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_access_points_get_their_own_host() {
        let ap = AccessPoint::parse("arn:aws:s3:eu-west-1:123456789012:accesspoint:logs")
            .expect("an ARN")
            .expect("supported");
        let e = ap.endpoint(EndpointVariant::default());
        assert_eq!(
            e.url,
            "https://logs-123456789012.s3-accesspoint.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            (e.signing_region.as_str(), e.signing_name.as_str()),
            ("eu-west-1", "s3")
        );
        let cn = AccessPoint::parse("arn:aws-cn:s3:cn-north-1:123456789012:accesspoint/x")
            .expect("an ARN")
            .expect("supported");
        assert!(
            cn.endpoint(EndpointVariant::default())
                .url
                .ends_with(".amazonaws.com.cn")
        );
    }

    #[test]
    fn other_arns_are_refused_with_what_to_use_instead() {
        assert!(AccessPoint::parse("my-bucket").is_none());
        for arn in [
            "arn:aws:s3::123456789012:accesspoint/abc.mrap",
            "arn:aws:s3-outposts:us-west-2:123456789012:outpost/op-1/accesspoint/ap",
            "arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/ol",
            "arn:aws:s3:us-west-2:123456789012:bucket/b",
            "arn:aws:s3:us-west-2:12345:accesspoint/ap",
            "arn:aws:s3:us-west-2.evil.com:123456789012:accesspoint/ap",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/a.b",
            "arn:aws-cn:s3:us-west-2:123456789012:accesspoint/ap",
            "arn:aws:s3",
        ] {
            let err = AccessPoint::parse(arn).expect("an ARN").expect_err(arn);
            assert!(err.contains("standard access point ARN"), "{err}");
        }
    }
}
