//! Where a service is reached in a Region, and how requests to it are signed.
//!
//! The table (`data/endpoints.json.gz`, from `infra/scripts/generate_endpoints.py`) holds what
//! botocore's endpoint rules resolve for every service in every Region (URL, signing Region
//! and name), stored as one URL template per service plus the Regions that differ. The
//! standard endpoint settings come first: `AWS_ENDPOINT_URL_<SERVICE>` (the service id upper
//! cased, spaces as underscores), then `AWS_ENDPOINT_URL`, unless
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true. Otherwise `AWS_USE_FIPS_ENDPOINT` and
//! `AWS_USE_DUALSTACK_ENDPOINT` choose the table's FIPS, dual-stack or FIPS dual-stack URLs,
//! as botocore's rules resolve them.

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
    #[error(
        "{service} has no {variant} endpoint in {region}: unset {setting} or choose another Region"
    )]
    NoVariant {
        service: String,
        variant: &'static str,
        region: String,
        setting: &'static str,
    },
}

/// The endpoint settings that choose among a service's URLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointVariant {
    pub fips: bool,
    pub dualstack: bool,
}

impl EndpointVariant {
    /// `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` (true or false, any case).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let on = |key: &str| env(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        Self {
            fips: on("AWS_USE_FIPS_ENDPOINT"),
            dualstack: on("AWS_USE_DUALSTACK_ENDPOINT"),
        }
    }

    /// The table's name for this variant (`None`: the standard URLs).
    fn key(self) -> Option<&'static str> {
        match (self.fips, self.dualstack) {
            (false, false) => None,
            (true, false) => Some("fips"),
            (false, true) => Some("dualstack"),
            (true, true) => Some("fips_dualstack"),
        }
    }

    fn describe(self) -> (&'static str, &'static str) {
        match (self.fips, self.dualstack) {
            (true, true) => (
                "FIPS dual-stack",
                "AWS_USE_FIPS_ENDPOINT or AWS_USE_DUALSTACK_ENDPOINT",
            ),
            (true, false) => ("FIPS", "AWS_USE_FIPS_ENDPOINT"),
            _ => ("dual-stack", "AWS_USE_DUALSTACK_ENDPOINT"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ServiceEndpoints {
    url: String,
    #[serde(default)]
    urls: BTreeMap<String, String>,
    signing_name: String,
    #[serde(default)]
    signing_regions: BTreeMap<String, String>,
    #[serde(default)]
    variants: BTreeMap<String, VariantUrls>,
}

#[derive(Debug, Deserialize)]
struct VariantUrls {
    url: String,
    #[serde(default)]
    urls: BTreeMap<String, String>,
    /// Regions where the rules give this variant no endpoint.
    #[serde(default)]
    missing: Vec<String>,
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
    let template = template_for(service, entry, region, EndpointVariant::from_env(env))?;
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

/// The URL template of `entry` in `region` for the chosen variant.
fn template_for<'a>(
    service: &str,
    entry: &'a ServiceEndpoints,
    region: &str,
    variant: EndpointVariant,
) -> Result<&'a str, EndpointError> {
    let Some(key) = variant.key() else {
        return Ok(entry.urls.get(region).unwrap_or(&entry.url));
    };
    let urls = entry
        .variants
        .get(key)
        .filter(|v| !v.url.is_empty() || v.urls.contains_key(region))
        .filter(|v| !v.missing.iter().any(|r| r == region));
    match urls {
        Some(v) => Ok(v.urls.get(region).unwrap_or(&v.url)),
        None => {
            let (name, setting) = variant.describe();
            Err(EndpointError::NoVariant {
                service: service.to_owned(),
                variant: name,
                region: region.to_owned(),
                setting,
            })
        }
    }
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
    fn fips_and_dual_stack_settings_choose_the_variant() {
        let fips = |k: &str| (k == "AWS_USE_FIPS_ENDPOINT").then(|| "TRUE".to_owned());
        let e = resolve("dynamodb", "DynamoDB", "us-west-2", &fips).expect("ok");
        assert_eq!(e.url, "https://dynamodb-fips.us-west-2.amazonaws.com");
        let both = |k: &str| k.starts_with("AWS_USE_").then(|| "true".to_owned());
        let e = resolve("ec2", "EC2", "us-east-1", &both).expect("ok");
        assert_eq!(e.url, "https://ec2-fips.us-east-1.api.aws");
        let off = |k: &str| k.starts_with("AWS_USE_").then(|| "false".to_owned());
        let e = resolve("ec2", "EC2", "us-east-1", &off).expect("ok");
        assert_eq!(e.url, "https://ec2.us-east-1.amazonaws.com");
    }

    #[test]
    fn a_variant_the_rules_refuse_names_the_setting() {
        let table = table().expect("table");
        let Some((service, region)) = table.services.iter().find_map(|(name, entry)| {
            let fips = entry.variants.get("fips")?;
            fips.missing.first().map(|r| (name.clone(), r.clone()))
        }) else {
            panic!("the table has no Region without a FIPS endpoint");
        };
        let fips = |k: &str| (k == "AWS_USE_FIPS_ENDPOINT").then(|| "true".to_owned());
        let err = resolve(&service, &service, &region, &fips).expect_err("no FIPS endpoint");
        let text = err.to_string();
        assert!(
            text.contains("AWS_USE_FIPS_ENDPOINT") && text.contains(&region),
            "{text}"
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
