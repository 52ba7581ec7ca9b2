//! SigV4 signing of a prepared request with the `aws-sigv4` crate, configured to produce what
//! botocore's `SigV4Auth` produces: the path encoded twice and normalised, the payload hash in
//! the canonical request only (no `x-amz-content-sha256` header), the session token signed,
//! and the same headers left unsigned (`user-agent`, `expect`, `x-amzn-trace-id` and the
//! hop-by-hop headers).
//!
//! S3 and S3 Control use botocore's S3 variant: the path is neither normalised nor encoded
//! again, and the payload hash is sent (and signed) as `x-amz-content-sha256`.

use std::borrow::Cow;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// Headers botocore never signs.
const UNSIGNED_HEADERS: [&str; 11] = [
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// The keys a request is signed with.
#[derive(Clone)]
pub struct SigningKeys {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach logs.
        f.debug_struct("SigningKeys")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot sign the request: {0}")]
pub struct SignError(pub String);

/// A request ready to be signed: everything but the signature headers.
#[derive(Debug, Clone, Copy)]
pub struct UnsignedRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Which of botocore's SigV4 signers a service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerVariant {
    Standard,
    /// S3 and S3 Control.
    S3,
}

impl SignerVariant {
    /// The variant botocore uses for a service (by botocore name).
    pub fn for_service(service: &str) -> Self {
        if matches!(service, "s3" | "s3control") {
            SignerVariant::S3
        } else {
            SignerVariant::Standard
        }
    }
}

/// Where and when a signature applies, and with which signer.
#[derive(Debug, Clone, Copy)]
pub struct SigningScope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    pub variant: SignerVariant,
}

/// The keys as the signer's identity.
pub(crate) fn identity(keys: &SigningKeys) -> Identity {
    Credentials::new(
        keys.access_key.clone(),
        keys.secret_key.clone(),
        keys.session_token.clone(),
        None,
        "aws-mcp",
    )
    .into()
}

/// Signs a request; returns the headers to add (`x-amz-date`, `x-amz-security-token` when
/// there is a token, `authorization`).
pub fn sign_v4(
    request: &UnsignedRequest<'_>,
    keys: &SigningKeys,
    scope: &SigningScope<'_>,
) -> Result<Vec<(String, String)>, SignError> {
    let identity = identity(keys);
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(UNSIGNED_HEADERS.iter().map(|h| Cow::Borrowed(*h)).collect());
    if scope.variant == SignerVariant::S3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(scope.time)
        .settings(settings)
        .build()
        .map_err(|e| SignError(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| SignError(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| SignError(e.to_string()))?
        .into_parts();
    let (added, _query) = instructions.into_parts();
    Ok(added
        .into_iter()
        .map(|h| (h.name().to_owned(), h.value().to_owned()))
        .collect())
}
