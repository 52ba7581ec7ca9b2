//! Pre-signed S3 URLs for downloads (`GetObject`) and uploads (`PutObject`), equal byte for
//! byte to botocore's `generate_presigned_url` on an S3 client configured with
//! `signature_version='s3v4'`.
//!
//! What that means in practice:
//! - Addressing follows botocore's presign rules: in the `aws` partition a bucket name that
//!   is a valid host label goes to the global endpoint (`bucket.s3.amazonaws.com`, or
//!   `s3.amazonaws.com/Bucket` when it is not DNS-compatible, e.g. upper case), whatever the
//!   Region; other names (dots, underscores, longer than 63) are path style on the Regional
//!   endpoint (`s3.amazonaws.com` in us-east-1). Other partitions use
//!   `bucket.s3.<region>.<suffix>` for DNS-compatible names, path style otherwise. A custom
//!   endpoint URL is always path style.
//! - The key is encoded once, keeping only unreserved characters and `/`; the path is never
//!   normalised (`..`, `//` stay as they are, as S3 keys may hold them).
//! - The signed query is in botocore's order (`X-Amz-Algorithm`, `-Credential`, `-Date`,
//!   `-Expires`, `-SignedHeaders`, `-Security-Token`, `-Signature`); the signature itself
//!   comes from `aws-sigv4` with S3's settings and an `UNSIGNED-PAYLOAD` hash.
//!
//! botocore left unconfigured still presigns with the deprecated SigV2 in Regions that
//! accept it; SigV4 is used here everywhere.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use time::OffsetDateTime;

use crate::sign::SigningKeys;

/// The longest lifetime a URL may have, in seconds.
pub const MAX_EXPIRES_IN: u64 = 900;
/// S3's limit on key length, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Which object operation the URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresignMethod {
    /// Download (`GetObject`).
    Get,
    /// Upload (`PutObject`).
    Put,
}

impl PresignMethod {
    /// The HTTP method the URL must be used with.
    pub fn as_str(self) -> &'static str {
        match self {
            PresignMethod::Get => "GET",
            PresignMethod::Put => "PUT",
        }
    }
}

impl std::str::FromStr for PresignMethod {
    type Err = PresignError;

    /// `GET`/`PUT` (any case), or the operation names `get_object`/`put_object`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "get" | "get_object" | "getobject" | "download" => Ok(PresignMethod::Get),
            "put" | "put_object" | "putobject" | "upload" => Ok(PresignMethod::Put),
            _ => Err(PresignError::Method(s.to_owned())),
        }
    }
}

/// What to presign.
#[derive(Debug, Clone, Copy)]
pub struct PresignRequest<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub method: PresignMethod,
    /// Seconds, 1..=900.
    pub expires_in: u64,
    /// For uploads: the `Content-Type` the upload must send (it is signed).
    pub content_type: Option<&'a str>,
    pub region: &'a str,
    /// An endpoint setting (`AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`), e.g.
    /// `http://127.0.0.1:5000`; path-style addressing is used with it.
    pub endpoint_url: Option<&'a str>,
}

/// A pre-signed URL and what its user must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    pub url: String,
    /// When the URL stops working (signing time, to the second, plus `expires_in`).
    pub expires_at: OffsetDateTime,
    /// Headers the request must send with exactly these values, because they are signed.
    pub headers: Vec<(String, String)>,
}

/// Why a URL cannot be made. Every variant but [`PresignError::Sign`] is the caller's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresignError {
    #[error("expires_in must be between 1 and {MAX_EXPIRES_IN} seconds; got {0}")]
    Expiry(u64),
    #[error(
        "'{0}' is not a valid S3 bucket name: bucket names are 3 to 63 lowercase letters, digits, \
         dots and hyphens, starting and ending with a letter or digit (legacy us-east-1 names may \
         also hold uppercase letters and underscores, up to 255 characters); access point ARNs \
         and directory buckets (--x-s3) are not supported"
    )]
    Bucket(String),
    #[error("invalid object key: {0}")]
    Key(String),
    #[error("'{0}' is not a Region id (for example us-east-1 or eu-west-1)")]
    Region(String),
    #[error("invalid content type: {0}")]
    ContentType(String),
    #[error("invalid endpoint URL '{url}': {reason}")]
    Endpoint { url: String, reason: String },
    #[error("'{0}' is not a presign method; use GET (download) or PUT (upload)")]
    Method(String),
    #[error("cannot sign the URL: {0}")]
    Sign(String),
}

/// Makes a pre-signed S3 URL, signed at `now`.
pub fn presign_s3(
    req: &PresignRequest<'_>,
    keys: &SigningKeys,
    now: SystemTime,
) -> Result<PresignedUrl, PresignError> {
    if !(1..=MAX_EXPIRES_IN).contains(&req.expires_in) {
        return Err(PresignError::Expiry(req.expires_in));
    }
    check_region(req.region)?;
    check_bucket(req.bucket)?;
    check_key(req.key)?;
    let content_type = match (req.method, req.content_type) {
        (_, None) => None,
        (PresignMethod::Get, Some(_)) => {
            return Err(PresignError::ContentType(
                "a content type applies to uploads (PUT) only".into(),
            ));
        }
        (PresignMethod::Put, Some(ct)) => Some(check_content_type(ct)?),
    };

    let base = match req.endpoint_url {
        Some(endpoint) => {
            let (origin, base_path) = parse_endpoint(endpoint)?;
            format!(
                "{origin}{base_path}/{}/{}",
                req.bucket,
                encode_path(req.key)
            )
        }
        None => aws_object_url(req.region, req.bucket, req.key),
    };

    // SigV4 dates have one-second resolution; the expiry counts from that second.
    let signed_at = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| PresignError::Sign("the clock is before 1970".into()))?
        .as_secs();
    let signing_time = UNIX_EPOCH + Duration::from_secs(signed_at);
    let headers: Vec<(String, String)> = content_type
        .map(|ct| vec![("Content-Type".to_owned(), ct.to_owned())])
        .unwrap_or_default();
    let params = sign_query(&base, req, keys, signing_time, &headers)?;

    let mut url = base;
    url.push('?');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            url.push('&');
        }
        url.push_str(name);
        url.push('=');
        url.push_str(&encode_query(value));
    }
    let expires_at = OffsetDateTime::from_unix_timestamp((signed_at + req.expires_in) as i64)
        .map_err(|e| PresignError::Sign(format!("expiry out of range: {e}")))?;
    Ok(PresignedUrl {
        url,
        expires_at,
        headers,
    })
}

/// The signature parameters in botocore's order.
fn sign_query(
    url: &str,
    req: &PresignRequest<'_>,
    keys: &SigningKeys,
    time: SystemTime,
    headers: &[(String, String)],
) -> Result<Vec<(&'static str, String)>, PresignError> {
    let identity = crate::sign::identity(keys);
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(req.expires_in));
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| PresignError::Sign(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        req.method.as_str(),
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| PresignError::Sign(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| PresignError::Sign(e.to_string()))?
        .into_parts();
    let (_headers, query) = instructions.into_parts();
    let found: Vec<(&'static str, Cow<'static, str>)> = query;
    const ORDER: [&str; 7] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ];
    let mut out = Vec::with_capacity(found.len());
    for name in ORDER {
        if let Some((n, v)) = found.iter().find(|(n, _)| *n == name) {
            out.push((*n, v.to_string()));
        }
    }
    if out.len() != found.len() {
        return Err(PresignError::Sign(format!(
            "unexpected signature parameters: {:?}",
            found.iter().map(|(n, _)| *n).collect::<Vec<_>>()
        )));
    }
    Ok(out)
}

/// `https://...` URL of an object on AWS (no custom endpoint), as botocore addresses it.
fn aws_object_url(region: &str, bucket: &str, key: &str) -> String {
    let (partition, suffix) = crate::endpoints::partition_of(region);
    // botocore sends presigned URLs of the aws partition to the global endpoint unless the
    // bucket name forces path style; us-east-1 uses it for every request.
    let global = partition == "aws" && (region == "us-east-1" || is_host_label(bucket));
    let host = if global {
        "s3.amazonaws.com".to_owned()
    } else {
        format!("s3.{region}.{suffix}")
    };
    let key = encode_path(key);
    if is_virtual_hostable(bucket) {
        format!("https://{bucket}.{host}/{key}")
    } else {
        format!("https://{host}/{bucket}/{key}")
    }
}

/// botocore's `VALID_HOST_LABEL_RE`: 1-63 letters, digits, hyphens, not starting or ending
/// with a hyphen.
fn is_host_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The endpoint rules' `isVirtualHostableS3Bucket(bucket, false)`.
fn is_virtual_hostable(bucket: &str) -> bool {
    bucket.len() >= 3 && is_host_label(bucket) && !bucket.bytes().any(|b| b.is_ascii_uppercase())
}

fn check_region(region: &str) -> Result<(), PresignError> {
    let ok = crate::endpoints::is_region_id(region)
        // Pseudo-Regions (aws-global, fips-*) resolve differently; real Region ids only.
        && !region.starts_with("aws-")
        && !region.contains("fips");
    if ok {
        Ok(())
    } else {
        Err(PresignError::Region(region.to_owned()))
    }
}

fn check_bucket(bucket: &str) -> Result<(), PresignError> {
    let bytes = bucket.as_bytes();
    let ok = (3..=255).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !bucket.contains("..")
        && !bucket.ends_with("--x-s3");
    if ok {
        Ok(())
    } else {
        Err(PresignError::Bucket(bucket.to_owned()))
    }
}

fn check_key(key: &str) -> Result<(), PresignError> {
    if key.is_empty() {
        return Err(PresignError::Key(
            "the key is empty; give the object's full key, e.g. reports/2024/summary.csv".into(),
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(PresignError::Key(format!(
            "the key is {} bytes long; S3 keys are at most {MAX_KEY_BYTES} bytes of UTF-8",
            key.len()
        )));
    }
    Ok(())
}

/// A content type as it is signed: surrounding blanks dropped (the signature ignores them
/// anyway), printable ASCII only, so that it can be sent as a header.
fn check_content_type(ct: &str) -> Result<&str, PresignError> {
    let ct = ct.trim_matches([' ', '\t']);
    if ct.is_empty() {
        return Err(PresignError::ContentType(
            "the content type is empty; omit it or give a media type such as text/plain".into(),
        ));
    }
    if !ct
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
        || ct.len() > 1024
    {
        return Err(PresignError::ContentType(format!(
            "'{}' is not a header value (printable ASCII, at most 1024 characters), e.g. \
             application/json",
            ct.escape_debug()
        )));
    }
    Ok(ct)
}

/// Splits an endpoint URL into `scheme://authority` and a base path without trailing `/`.
fn parse_endpoint(endpoint: &str) -> Result<(&str, &str), PresignError> {
    let fail = |reason: &str| PresignError::Endpoint {
        url: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .ok_or_else(|| fail("it must start with http:// or https://"))?;
    let scheme_len = endpoint.len() - rest.len();
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty()
        || !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return Err(fail(
            "the host must be a name or IP address with an optional port (no user info)",
        ));
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~'))
    {
        return Err(fail(
            "the path may hold only letters, digits and - _ . ~ / (no query or fragment)",
        ));
    }
    let origin = &endpoint[..scheme_len + authority.len()];
    Ok((origin, path.trim_end_matches('/')))
}

/// An object key in a URL path, as botocore's REST serialiser writes `{Key+}`.
fn encode_path(key: &str) -> String {
    crate::serialize::percent_encode_safe(key, b"/")
}

fn encode_query(value: &str) -> String {
    crate::serialize::percent_encode(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SigningKeys {
        SigningKeys {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "secret".into(),
            session_token: None,
        }
    }

    fn request<'a>() -> PresignRequest<'a> {
        PresignRequest {
            bucket: "my-bucket",
            key: "k",
            method: PresignMethod::Get,
            expires_in: 300,
            content_type: None,
            region: "us-east-1",
            endpoint_url: None,
        }
    }

    fn err(req: PresignRequest<'_>) -> PresignError {
        presign_s3(&req, &keys(), SystemTime::now()).expect_err("refused")
    }

    #[test]
    fn expiry_is_bounded_and_reported() {
        for bad in [0, 901, u64::MAX] {
            let e = err(PresignRequest {
                expires_in: bad,
                ..request()
            });
            assert_eq!(e, PresignError::Expiry(bad));
            assert!(e.to_string().contains("between 1 and 900"), "{e}");
        }
        let now = UNIX_EPOCH + Duration::from_millis(1_767_323_045_999);
        let ok = presign_s3(
            &PresignRequest {
                expires_in: 900,
                ..request()
            },
            &keys(),
            now,
        )
        .expect("ok");
        assert_eq!(ok.expires_at.unix_timestamp(), 1_767_323_045 + 900);
        assert!(ok.url.contains("X-Amz-Expires=900&"), "{}", ok.url);
    }

    #[test]
    fn bad_inputs_are_refused_with_what_is_valid() {
        for bucket in [
            "ab",
            "-bucket",
            "bucket-",
            "has space",
            "a..b",
            "arn:aws:s3:::x",
            "dir--x-s3",
            "",
        ] {
            let e = err(PresignRequest {
                bucket,
                ..request()
            });
            assert!(matches!(e, PresignError::Bucket(_)), "{bucket}: {e}");
            assert!(e.to_string().contains("3 to 63"), "{e}");
        }
        assert!(matches!(
            err(PresignRequest {
                key: "",
                ..request()
            }),
            PresignError::Key(_)
        ));
        let long = "k".repeat(1025);
        assert!(matches!(
            err(PresignRequest {
                key: &long,
                ..request()
            }),
            PresignError::Key(_)
        ));
        for region in [
            "",
            "US-EAST-1",
            "us-east-1.evil.com",
            "aws-global",
            "fips-us-east-1",
        ] {
            assert!(
                matches!(
                    err(PresignRequest {
                        region,
                        ..request()
                    }),
                    PresignError::Region(_)
                ),
                "{region}"
            );
        }
        assert!(matches!(
            err(PresignRequest {
                content_type: Some("text/plain"),
                ..request()
            }),
            PresignError::ContentType(_)
        ));
        assert!(matches!(
            err(PresignRequest {
                method: PresignMethod::Put,
                content_type: Some("text/plain\r\nx-evil: 1"),
                ..request()
            }),
            PresignError::ContentType(_)
        ));
        for endpoint in [
            "ftp://x",
            "http://",
            "http://user@host",
            "http://h/p?q=1",
            "h:5000",
        ] {
            assert!(
                matches!(
                    err(PresignRequest {
                        endpoint_url: Some(endpoint),
                        ..request()
                    }),
                    PresignError::Endpoint { .. }
                ),
                "{endpoint}"
            );
        }
    }

    #[test]
    fn uploads_report_the_signed_content_type() {
        let url = presign_s3(
            &PresignRequest {
                method: PresignMethod::Put,
                content_type: Some(" text/csv "),
                ..request()
            },
            &keys(),
            SystemTime::now(),
        )
        .expect("ok");
        assert_eq!(
            url.headers,
            vec![("Content-Type".to_owned(), "text/csv".to_owned())]
        );
        assert!(url.url.contains("X-Amz-SignedHeaders=content-type%3Bhost"));
    }

    #[test]
    fn addressing_and_partitions() {
        assert_eq!(
            aws_object_url("eu-west-1", "my.bucket", "a b"),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/a%20b"
        );
        assert_eq!(
            aws_object_url("us-east-1", "my.bucket", "k"),
            "https://s3.amazonaws.com/my.bucket/k"
        );
        assert_eq!(
            aws_object_url("eu-west-1", "Upper", "k"),
            "https://s3.amazonaws.com/Upper/k"
        );
        assert_eq!(
            aws_object_url("us-gov-east-1", "b-1", "k"),
            "https://b-1.s3.us-gov-east-1.amazonaws.com/k"
        );
        assert_eq!(
            crate::endpoints::partition_of("us-isob-east-1").0,
            "aws-iso-b"
        );
        assert_eq!(crate::endpoints::partition_of("mars-north-1").0, "aws");
        assert_eq!("Put".parse::<PresignMethod>(), Ok(PresignMethod::Put));
        assert!("DELETE".parse::<PresignMethod>().is_err());
    }
}
