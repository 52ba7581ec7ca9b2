//! Where a service is reached in a Region, and how requests to it are signed.
//!
//! The table (`data/endpoints.json.gz`, from `infra/scripts/generate_endpoints.py`) holds what
//! botocore's endpoint rules resolve for every service in every Region (URL, signing Region
//! and name), stored as one URL template per service plus the Regions that differ. The
//! standard endpoint settings come first: `AWS_ENDPOINT_URL_<SERVICE>` (the service id upper
//! cased, spaces as underscores), then `AWS_ENDPOINT_URL`, unless
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use serde::Deserialize;

static TABLE_GZ: &[u8] = include_bytes!("../data/endpoints.json.gz");

/// A resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub signing_region: String,
    pub signing_name: String,
    /// Set by an endpoint setting rather than the table.
    pub configured: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("no endpoint is known for service {0}")]
    UnknownService(String),
    #[error("bundled endpoint table is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    InvalidRegion(String),
}

#[derive(Debug, Deserialize)]
struct ServiceEndpoints {
    url: String,
    #[serde(default)]
    urls: BTreeMap<String, String>,
    signing_name: String,
    #[serde(default)]
    signing_regions: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Table {
    regions: Vec<String>,
    services: BTreeMap<String, ServiceEndpoints>,
}

fn table() -> Result<&'static Table, EndpointError> {
    static TABLE: OnceLock<Result<Table, EndpointError>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let mut raw = Vec::new();
            GzDecoder::new(TABLE_GZ)
                .read_to_end(&mut raw)
                .map_err(|e| EndpointError::Corrupt(e.to_string()))?;
            serde_json::from_slice(&raw).map_err(|e| EndpointError::Corrupt(e.to_string()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Regions the table knows, for "did you mean" answers.
pub fn known_regions() -> Vec<String> {
    table().map(|t| t.regions.clone()).unwrap_or_default()
}

/// Whether `region` has the shape of a Region id (lowercase letters, digits and inner
/// hyphens, at most 32 characters).
pub(crate) fn is_region_id(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-')
}

/// A Region id must look like one (`us-east-1`, `eusc-de-east-1`): it ends up in a host name.
fn check_region(region: &str) -> Result<(), EndpointError> {
    if is_region_id(region) {
        Ok(())
    } else {
        Err(EndpointError::InvalidRegion(format!(
            "'{region}' is not a Region id (for example us-east-1)"
        )))
    }
}

pub use aws_models::partition_of;

/// The endpoint the environment configures for the service with id `service_id`:
/// `AWS_ENDPOINT_URL_<SERVICE_ID>`, else `AWS_ENDPOINT_URL`, unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
pub fn configured_endpoint(
    service_id: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let ignore =
        env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    let specific = format!(
        "AWS_ENDPOINT_URL_{}",
        service_id.to_ascii_uppercase().replace([' ', '-'], "_")
    );
    env(&specific)
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .filter(|u| !u.is_empty())
}

/// Resolves the endpoint of `service` (botocore name) with id `service_id` in `region`.
pub fn resolve(
    service: &str,
    service_id: &str,
    region: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint, EndpointError> {
    check_region(region)?;
    let t = table()?;
    let entry = t.services.get(service);
    let signing_name = entry
        .map(|e| e.signing_name.clone())
        .unwrap_or_else(|| service.to_owned());
    if let Some(url) = configured_endpoint(service_id, env) {
        return Ok(Endpoint {
            url: url.trim_end_matches('/').to_owned(),
            signing_region: region.to_owned(),
            signing_name,
            configured: true,
        });
    }
    let entry = entry.ok_or_else(|| EndpointError::UnknownService(service.to_owned()))?;
    let template = entry.urls.get(region).unwrap_or(&entry.url);
    Ok(Endpoint {
        url: template.replace("{region}", region),
        signing_region: entry
            .signing_regions
            .get(region)
            .cloned()
            .unwrap_or_else(|| region.to_owned()),
        signing_name,
        configured: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn regional_global_and_partition_endpoints() {
        let e = resolve("dynamodb", "DynamoDB", "eu-west-1", &none).expect("ok");
        assert_eq!(e.url, "https://dynamodb.eu-west-1.amazonaws.com");
        assert_eq!(
            (e.signing_region.as_str(), e.signing_name.as_str()),
            ("eu-west-1", "dynamodb")
        );
        let e = resolve("iam", "IAM", "eu-west-1", &none).expect("ok");
        assert_eq!(e.url, "https://iam.amazonaws.com");
        assert_eq!(e.signing_region, "us-east-1");
        let e = resolve("dynamodb", "DynamoDB", "cn-north-1", &none).expect("ok");
        assert_eq!(e.url, "https://dynamodb.cn-north-1.amazonaws.com.cn");
        let e = resolve("sts", "STS", "ap-southeast-2", &none).expect("ok");
        assert_eq!(e.url, "https://sts.ap-southeast-2.amazonaws.com");
    }

    #[test]
    fn endpoint_settings_win_unless_ignored() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000/".to_owned()),
            "AWS_ENDPOINT_URL_DYNAMODB" => Some("http://127.0.0.1:6000".to_owned()),
            _ => None,
        };
        assert_eq!(
            resolve("dynamodb", "DynamoDB", "us-east-1", &env)
                .expect("ok")
                .url,
            "http://127.0.0.1:6000"
        );
        let s3 = resolve("s3", "S3", "us-east-1", &env).expect("ok");
        assert_eq!(s3.url, "http://127.0.0.1:5000");
        assert!(s3.configured);
        let ignoring = |k: &str| match k {
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" => Some("true".to_owned()),
            other => env(other),
        };
        assert!(
            !resolve("s3", "S3", "us-east-1", &ignoring)
                .expect("ok")
                .configured
        );
    }

    #[test]
    fn bad_regions_are_refused_before_they_reach_a_host_name() {
        for bad in ["", "us-east-1.evil.com", "US-EAST-1", "a/b", "-x"] {
            assert!(resolve("sts", "STS", bad, &none).is_err(), "{bad}");
        }
        assert!(resolve("nope", "Nope", "us-east-1", &none).is_err());
    }
}
