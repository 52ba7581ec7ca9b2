//! Sending one API call: serialise, resolve the endpoint (S3 addressing included), sign with
//! the caller's credentials, send with retries, parse the answer.
//!
//! The outside world sits behind two narrow traits so the whole path can be tested without
//! AWS: [`HttpSender`] (reqwest in production) and [`CredentialSource`] (the SDK's default
//! chain in the server). Retries follow botocore's standard mode: up to
//! [`RetryPolicy::max_attempts`] attempts for throttling, transient 5xx and connection
//! faults, with capped exponential backoff and full jitter.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_models::{Operation, ServiceModel};
use serde_json::{Map, Value};

use crate::access_point::AccessPoint;
use crate::checksum::ChecksumPlan;
use crate::endpoints::{self, Endpoint, EndpointError, EndpointVariant};
use crate::protected::ProtectedResources;
use crate::response::{self, RawResponse, ResponseError, ServiceError};
use crate::serialize::{self, RequestParts, SerializeError};
use crate::sign::{self, SignError, SignerVariant, SigningKeys, SigningScope, UnsignedRequest};

/// A request ready for the wire.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An answer from the wire.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A request that got no HTTP answer, and at which step it failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub phase: TransportPhase,
    pub message: String,
}

/// Where a request without an answer stopped; each is reported in botocore's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportPhase {
    /// No connection was made (refused, unreachable, DNS, TLS handshake).
    Connect,
    /// Connected, but no (complete) answer came within the read timeout.
    Read,
    /// Connected, then closed or reset before a full answer.
    Closed,
    /// The request could not be built or sent at all.
    Other,
}

impl TransportError {
    pub fn new(phase: TransportPhase, message: impl Into<String>) -> Self {
        Self {
            phase,
            message: message.into(),
        }
    }

    /// The client-facing error for a request to `endpoint` after `attempts` tries.
    fn describe(&self, endpoint: &str, attempts: u32) -> String {
        let what = match self.phase {
            TransportPhase::Connect => "Could not connect to the endpoint URL",
            TransportPhase::Read => "Read timeout on endpoint URL",
            TransportPhase::Closed => {
                "Connection was closed before we received a valid response from endpoint URL"
            }
            TransportPhase::Other => "The request could not be sent to the endpoint URL",
        };
        format!(
            "{what}: \"{endpoint}\" ({}) after {attempts} attempt(s)",
            self.message
        )
    }
}

/// Sends HTTP requests.
#[async_trait]
pub trait HttpSender: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The keys for the next request (refreshed by the source as they expire).
#[async_trait]
pub trait CredentialSource: Send + Sync {
    async fn keys(&self) -> Result<SigningKeys, CredentialError>;

    /// The keys of a named profile (`--profile`), where profiles exist.
    fn for_profile(&self, profile: &str) -> Result<Arc<dyn CredentialSource>, CredentialError> {
        Err(CredentialError(format!(
            "--profile {profile} cannot be used here: this server signs with its own credentials (remove --profile)"
        )))
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CredentialError(pub String);

/// Fixed keys (tests, and scripts that already hold keys).
pub struct StaticCredentials(pub SigningKeys);

#[async_trait]
impl CredentialSource for StaticCredentials {
    async fn keys(&self) -> Result<SigningKeys, CredentialError> {
        Ok(self.0.clone())
    }
}

/// The production sender: one pooled reqwest client (keep-alive, rustls).
pub struct ReqwestSender {
    client: reqwest::Client,
}

impl ReqwestSender {
    pub fn new(connect_timeout: Duration, read_timeout: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(read_timeout)
            // Redirects are answers to parse (S3 301/307 name the right Region), not to follow.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| {
                TransportError::new(
                    TransportPhase::Other,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(Self { client })
    }
}

#[async_trait]
impl HttpSender for ReqwestSender {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| {
            TransportError::new(
                TransportPhase::Other,
                format!("bad HTTP method {}: {e}", request.method),
            )
        })?;
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let answer = builder
            .body(request.body)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = answer.status().as_u16();
        let headers = answer
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = answer
            .bytes()
            .await
            .map_err(|e| transport_error(&e))?
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn transport_error(e: &reqwest::Error) -> TransportError {
    let phase = if e.is_connect() {
        TransportPhase::Connect
    } else if e.is_timeout() {
        TransportPhase::Read
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportPhase::Closed
    } else {
        TransportPhase::Other
    };
    TransportError::new(phase, describe_reqwest_error(e))
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// When to try again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // botocore's standard mode: 3 attempts, 1 s base with full jitter, 20 s cap. A
        // shorter base keeps an agent's turn short; throttling still backs off.
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Validation(String),
    #[error(transparent)]
    Service(ServiceError),
    #[error("{0}")]
    Network(String),
    #[error("{0}")]
    Credentials(String),
    #[error("{0}")]
    Internal(String),
    /// The request names one of the server's own resources.
    #[error(transparent)]
    Protected(#[from] crate::protected::ProtectedResourceError),
}

impl CallError {
    /// The `kind` of a structured error answer.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Validation(_) => "validation",
            CallError::Service(_) => "service",
            CallError::Protected(_) => "policy",
            CallError::Network(_) | CallError::Credentials(_) | CallError::Internal(_) => "network",
        }
    }

    /// A code for the structured error answer.
    pub fn code(&self) -> String {
        match self {
            CallError::Validation(_) => "ValidationError".into(),
            CallError::Service(e) => e.code.clone(),
            CallError::Network(_) => "NetworkError".into(),
            CallError::Credentials(_) => "NoCredentials".into(),
            CallError::Internal(_) => "InternalError".into(),
            CallError::Protected(_) => "ProtectedResource".into(),
        }
    }
}

impl From<SerializeError> for CallError {
    fn from(e: SerializeError) -> Self {
        CallError::Validation(e.to_string())
    }
}

impl From<EndpointError> for CallError {
    fn from(e: EndpointError) -> Self {
        CallError::Validation(e.to_string())
    }
}

impl From<SignError> for CallError {
    fn from(e: SignError) -> Self {
        CallError::Internal(e.to_string())
    }
}

/// What one API call needs besides the model.
#[derive(Debug, Clone)]
pub struct CallTarget<'a> {
    pub region: &'a str,
    /// `--endpoint-url` (already checked to be loopback).
    pub endpoint_url: Option<&'a str>,
}

/// The parsed answer and what it cost.
#[derive(Debug, Clone)]
pub struct CallAnswer {
    pub output: Map<String, Value>,
    /// The streaming payload (S3 GetObject's body, Lambda Invoke's payload), if any.
    pub stream: Option<(String, Vec<u8>)>,
    pub attempts: u32,
    pub endpoint: String,
}

/// Reads an environment setting (a closure, so tests can supply their own).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Sends API calls.
#[derive(Clone)]
pub struct Executor {
    sender: Arc<dyn HttpSender>,
    credentials: Arc<dyn CredentialSource>,
    env: EnvLookup,
    retry: RetryPolicy,
    user_agent: String,
    /// Resources no request from this executor may name (the deployed server's own).
    protected: Option<Arc<ProtectedResources>>,
    /// Whether a command may choose its endpoint (`--endpoint-url`). A deployed server
    /// refuses: in Lambda, loopback is the Runtime API that hands out invocations.
    endpoint_overrides: bool,
    /// The most one call may take, all attempts included (`None`: the retry policy alone).
    call_timeout: Option<Duration>,
}

impl Executor {
    pub fn new(
        sender: Arc<dyn HttpSender>,
        credentials: Arc<dyn CredentialSource>,
        env: EnvLookup,
    ) -> Self {
        Self {
            sender,
            credentials,
            env,
            retry: RetryPolicy::default(),
            user_agent: format!("aws-mcp/{}", env!("CARGO_PKG_VERSION")),
            protected: None,
            endpoint_overrides: true,
            call_timeout: None,
        }
    }

    /// The same executor giving each call at most `timeout`, retries included, so a backend
    /// that accepts connections and never answers fails within the command's time.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// The same executor signing with other credentials (a caller's assumed role).
    pub fn with_credentials(&self, credentials: Arc<dyn CredentialSource>) -> Self {
        Self {
            credentials,
            ..self.clone()
        }
    }

    /// The same executor refusing requests that name these resources, and commands that
    /// choose their own endpoint (a deployed server's calls for a caller).
    pub fn with_protected(&self, protected: Arc<ProtectedResources>) -> Self {
        Self {
            protected: (!protected.is_empty()).then_some(protected),
            endpoint_overrides: false,
            ..self.clone()
        }
    }

    /// Refuses a command's own `--endpoint-url` where this executor does not take one.
    pub fn check_endpoint_override(&self, endpoint_url: Option<&str>) -> Result<(), CallError> {
        match endpoint_url {
            Some(url) if !self.endpoint_overrides => Err(CallError::Validation(format!(
                "--endpoint-url {url} is refused by the deployed server: its calls go to AWS endpoints chosen from --region (use --endpoint-url with a local server)"
            ))),
            _ => Ok(()),
        }
    }

    /// The same executor signing with a named profile's credentials.
    pub fn with_profile(&self, profile: &str) -> Result<Self, CallError> {
        let credentials = self
            .credentials
            .for_profile(profile)
            .map_err(|e| CallError::Validation(e.0))?;
        Ok(Self {
            credentials,
            ..self.clone()
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Resolves where `model`'s service is reached in `target.region`.
    pub fn endpoint(
        &self,
        model: &ServiceModel,
        target: &CallTarget<'_>,
    ) -> Result<Endpoint, CallError> {
        let service_id = model.metadata.service_id.clone().unwrap_or_default();
        self.check_endpoint_override(target.endpoint_url)?;
        let mut endpoint =
            endpoints::resolve(&model.service_name, &service_id, target.region, &*self.env)?;
        if let Some(url) = target.endpoint_url {
            endpoint.url = url.trim_end_matches('/').to_owned();
            endpoint.configured = true;
        }
        Ok(endpoint)
    }

    /// The endpoint, or for S3 with an access point ARN as the bucket, the access point's.
    fn endpoint_for_bucket(
        &self,
        model: &ServiceModel,
        params: &Map<String, Value>,
        target: &CallTarget<'_>,
    ) -> Result<Endpoint, CallError> {
        let endpoint = self.endpoint(model, target)?;
        let bucket = params.get("Bucket").and_then(Value::as_str);
        match bucket.filter(|_| model.service_name == "s3" && !endpoint.configured) {
            Some(bucket) => match AccessPoint::parse(bucket) {
                Some(access_point) => Ok(access_point
                    .map_err(CallError::Validation)?
                    .endpoint(EndpointVariant::from_env(&*self.env))),
                None => Ok(endpoint),
            },
            None => Ok(endpoint),
        }
    }

    /// Builds the signed request for one call.
    pub async fn prepare(
        &self,
        model: &ServiceModel,
        operation: &Operation,
        params: &Map<String, Value>,
        target: &CallTarget<'_>,
    ) -> Result<HttpRequest, CallError> {
        let checksum = ChecksumPlan::of(operation);
        let with_mode;
        let params = match &checksum.validation_member {
            // botocore asks for the object's checksum (and the CLI prints it).
            Some(member) if !params.contains_key(member) => {
                let mut p = params.clone();
                p.insert(member.clone(), Value::String("ENABLED".into()));
                with_mode = p;
                &with_mode
            }
            _ => params,
        };
        let mut parts = serialize::serialize(model, operation, params)?;
        checksum
            .add_request_checksum(params, &mut parts)
            .map_err(CallError::Validation)?;
        let endpoint = self.endpoint_for_bucket(model, params, target)?;
        let url = request_url(model, params, &parts, &endpoint)?;
        if let Some(protected) = &self.protected {
            protected.check_request(&url, &parts.body)?;
        }
        let mut headers = parts.headers.clone();
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
        headers.push(("User-Agent".into(), self.user_agent.clone()));
        let keys = self
            .credentials
            .keys()
            .await
            .map_err(|e| CallError::Credentials(e.0))?;
        let variant = SignerVariant::for_service(&model.service_name);
        let signed = sign::sign_v4(
            &UnsignedRequest {
                method: &parts.method,
                url: &url,
                headers: &headers,
                body: &parts.body,
            },
            &keys,
            &SigningScope {
                region: &endpoint.signing_region,
                service: &endpoint.signing_name,
                time: SystemTime::now(),
                variant,
            },
        )?;
        headers.extend(signed);
        Ok(HttpRequest {
            method: parts.method,
            url,
            headers,
            body: parts.body,
        })
    }

    /// One call named by service and operation (the server's own work: STS, Secrets
    /// Manager, Lambda), at the Region's endpoint or its `AWS_ENDPOINT_URL_<SERVICE>`.
    pub async fn call_named(
        &self,
        service: &str,
        operation: &str,
        params: &Map<String, Value>,
        region: &str,
    ) -> Result<CallAnswer, CallError> {
        let model = aws_models::models()
            .service(service)
            .map_err(|e| CallError::Internal(e.to_string()))?;
        let op = model.operation(operation).ok_or_else(|| {
            CallError::Internal(format!("{service} has no operation {operation}"))
        })?;
        self.call(
            &model,
            op,
            params,
            &CallTarget {
                region,
                endpoint_url: None,
            },
        )
        .await
    }

    /// One API call, retried on throttling and transient faults.
    pub async fn call(
        &self,
        model: &ServiceModel,
        operation: &Operation,
        params: &Map<String, Value>,
        target: &CallTarget<'_>,
    ) -> Result<CallAnswer, CallError> {
        // botocore asks S3 for URL-encoded keys on list calls (and decodes them), so keys
        // with characters XML cannot carry come back intact.
        let auto_encoding = model.service_name == "s3"
            && matches!(
                operation.name.as_str(),
                "ListObjects" | "ListObjectsV2" | "ListObjectVersions" | "ListMultipartUploads"
            )
            && !params.contains_key("EncodingType");
        let owned;
        let params = if auto_encoding {
            let mut p = params.clone();
            p.insert("EncodingType".into(), Value::String("url".into()));
            owned = p;
            &owned
        } else {
            params
        };
        let options = response::ParseOptions {
            encoding_type_auto_set: auto_encoding,
        };
        let checksum = ChecksumPlan::of(operation);
        // Every attempt, and the pauses between them, fit in the call's time.
        let deadline = self.call_timeout.map(|t| tokio::time::Instant::now() + t);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Signed afresh each attempt: the signature carries the time.
            let request = self.prepare(model, operation, params, target).await?;
            let endpoint = request.url.clone();
            let started = std::time::Instant::now();
            let outcome = match deadline {
                None => self.sender.send(request).await,
                Some(at) => match tokio::time::timeout_at(at, self.sender.send(request)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(self.out_of_time()),
                },
            };
            let retry_after = match outcome {
                Err(e) => {
                    tracing::debug!(error = %e, attempt, "transport fault");
                    let no_time = deadline.is_some_and(|at| tokio::time::Instant::now() >= at);
                    if attempt >= self.retry.max_attempts || no_time {
                        return Err(CallError::Network(e.describe(&endpoint, attempt)));
                    }
                    None
                }
                Ok(answer) => {
                    tracing::debug!(
                        status = answer.status,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "AWS answered"
                    );
                    let raw = RawResponse {
                        status: answer.status,
                        headers: &answer.headers,
                        body: &answer.body,
                    };
                    match response::parse_response_with(model, operation, &raw, &options) {
                        Ok(mut output) => {
                            // Corrupted in transit: refused, as botocore refuses it.
                            checksum
                                .verify_response(&answer.headers, &answer.body)
                                .map_err(|m| CallError::Network(format!("{m} ({endpoint})")))?;
                            let stream =
                                response::streaming_member(model, operation).map(|member| {
                                    output.remove(&member);
                                    (member, answer.body.clone())
                                });
                            return Ok(CallAnswer {
                                output,
                                stream,
                                attempts: attempt,
                                endpoint,
                            });
                        }
                        Err(ResponseError::Service(e)) => {
                            if attempt >= self.retry.max_attempts || !response::is_retryable(&e) {
                                return Err(CallError::Service(e));
                            }
                            tracing::debug!(code = %e.code, attempt, "retryable service error");
                            header(&answer.headers, "retry-after")
                                .and_then(|v| v.trim().parse::<u64>().ok())
                                .map(Duration::from_secs)
                        }
                        Err(ResponseError::Malformed(m)) => {
                            return Err(CallError::Internal(format!(
                                "unreadable answer from {endpoint}: {m}"
                            )));
                        }
                    }
                }
            };
            let pause = self.backoff(attempt, retry_after);
            if let Some(at) = deadline
                && tokio::time::Instant::now() + pause >= at
            {
                // No time for another attempt: the last answer stands.
                return Err(CallError::Network(
                    self.out_of_time().describe(&endpoint, attempt),
                ));
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// The error for a call that ran out of its time (`with_call_timeout`).
    fn out_of_time(&self) -> TransportError {
        let seconds = self.call_timeout.map_or(0, |t| t.as_secs());
        TransportError::new(
            TransportPhase::Read,
            format!(
                "no answer within the command timeout of {seconds} s, AWS_MCP_COMMAND_TIMEOUT_SECONDS"
            ),
        )
    }

    /// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (unless ignored).
    pub fn s3_endpoint_setting(&self) -> Option<String> {
        crate::endpoints::configured_endpoint("S3", &*self.env)
    }

    /// A pre-signed S3 URL with the current credentials.
    pub async fn presign(
        &self,
        request: &crate::presign::PresignRequest<'_>,
    ) -> Result<crate::presign::PresignedUrl, CallError> {
        if let Some(protected) = &self.protected {
            protected.check_object(request.bucket, request.key)?;
        }
        let keys = self
            .credentials
            .keys()
            .await
            .map_err(|e| CallError::Credentials(e.0))?;
        crate::presign::presign_s3(request, &keys, SystemTime::now())
            .map_err(|e| CallError::Validation(e.to_string()))
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.retry.max_delay);
        let jitter = jitter_fraction();
        let delay = exp.mul_f64(jitter);
        retry_after.map_or(delay, |r| r.min(self.retry.max_delay).max(delay))
    }
}

/// A value in [0, 1) from the clock's low bits: enough to spread retries apart.
fn jitter_fraction() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The full URL: endpoint, host prefix, S3 bucket addressing, path and query.
pub fn request_url(
    model: &ServiceModel,
    params: &Map<String, Value>,
    parts: &RequestParts,
    endpoint: &Endpoint,
) -> Result<String, CallError> {
    let parsed = url::Url::parse(&endpoint.url)
        .map_err(|e| CallError::Validation(format!("bad endpoint URL {}: {e}", endpoint.url)))?;
    let scheme = parsed.scheme().to_owned();
    let host = parsed
        .host_str()
        .ok_or_else(|| CallError::Validation(format!("endpoint URL {} has no host", endpoint.url)))?
        .to_owned();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    let base_path = parsed.path().trim_end_matches('/').to_owned();
    let local_host = is_ip_or_localhost(&host);

    let mut host_out = host.clone();
    let mut path = parts.path.clone();
    if let Some(prefix) = &parts.host_prefix
        && !(endpoint.configured && local_host)
    {
        host_out = format!("{prefix}{host_out}");
    }
    if model.service_name == "s3"
        && let Some(bucket) = params.get("Bucket").and_then(Value::as_str)
        && (virtual_hostable(bucket, &scheme, endpoint.configured, local_host)
            || (bucket.starts_with("arn:") && !endpoint.configured))
    {
        // An access point ARN's host (endpoint_for_bucket) already names it: only the path
        // loses the bucket.
        let encoded = format!("/{}", crate::serialize::percent_encode(bucket));
        if let Some(rest) = path.strip_prefix(&encoded)
            && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        {
            path = if rest.is_empty() || rest.starts_with('?') {
                format!("/{rest}")
            } else {
                rest.to_owned()
            };
            if !bucket.starts_with("arn:") {
                host_out = format!("{bucket}.{host_out}");
            }
        }
    }
    let mut url = format!("{scheme}://{host_out}{port}{base_path}{path}");
    if !parts.query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&parts.query);
    }
    Ok(url)
}

fn is_ip_or_localhost(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok()
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::Ipv6Addr>()
            .is_ok()
}

/// botocore's rule: DNS-compatible names go in the host name, except on IP or loopback
/// endpoints, and names with dots over https (the wildcard certificate would not match).
fn virtual_hostable(bucket: &str, scheme: &str, configured: bool, local_host: bool) -> bool {
    if configured && local_host {
        return false;
    }
    let len_ok = (3..=63).contains(&bucket.len());
    let chars_ok = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = bucket
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && bucket
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    let no_dots_https = !(scheme == "https" && bucket.contains('.'));
    len_ok
        && chars_ok
        && ends_ok
        && no_dots_https
        && !bucket.contains("..")
        && bucket.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A sender that fails every request the same way, counting attempts.
    struct FailingSender {
        phase: Option<TransportPhase>,
        attempts: AtomicU32,
    }

    #[async_trait]
    impl HttpSender for FailingSender {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            match self.phase {
                Some(phase) => Err(TransportError::new(phase, "refused by the test")),
                // A backend that accepted the connection and never answers.
                None => std::future::pending().await,
            }
        }
    }

    fn executor(sender: Arc<FailingSender>) -> Executor {
        let keys = SigningKeys {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "secret".into(),
            session_token: None,
        };
        Executor::new(
            sender,
            Arc::new(StaticCredentials(keys)),
            Arc::new(|_: &str| None),
        )
    }

    async fn get_caller_identity(executor: &Executor) -> String {
        match executor
            .call_named("sts", "GetCallerIdentity", &Map::new(), "us-east-1")
            .await
        {
            Err(CallError::Network(message)) => message,
            other => panic!("expected a network error, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_backend_fails_within_the_call_timeout_naming_the_read() {
        let sender = Arc::new(FailingSender {
            phase: None,
            attempts: AtomicU32::new(0),
        });
        let executor = executor(sender.clone()).with_call_timeout(Duration::from_secs(20));
        let started = tokio::time::Instant::now();
        let message = get_caller_identity(&executor).await;
        assert_eq!(started.elapsed(), Duration::from_secs(20));
        assert!(
            message.starts_with("Read timeout on endpoint URL"),
            "{message}"
        );
        assert!(
            message.contains("AWS_MCP_COMMAND_TIMEOUT_SECONDS"),
            "{message}"
        );
        assert_eq!(sender.attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn each_phase_is_named_in_botocore_words_after_the_retries() {
        for (phase, words) in [
            (
                TransportPhase::Connect,
                "Could not connect to the endpoint URL",
            ),
            (TransportPhase::Read, "Read timeout on endpoint URL"),
            (
                TransportPhase::Closed,
                "Connection was closed before we received a valid response",
            ),
        ] {
            let sender = Arc::new(FailingSender {
                phase: Some(phase),
                attempts: AtomicU32::new(0),
            });
            let message = get_caller_identity(&executor(sender.clone())).await;
            assert!(message.starts_with(words), "{message}");
            assert!(message.contains("after 3 attempt(s)"), "{message}");
            assert_eq!(sender.attempts.load(Ordering::SeqCst), 3);
        }
    }

    #[test]
    fn a_guarded_executor_takes_no_endpoint_from_the_command() {
        struct NoNetwork;
        #[async_trait::async_trait]
        impl HttpSender for NoNetwork {
            async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
                Err(TransportError::new(
                    TransportPhase::Connect,
                    "no network in unit tests",
                ))
            }
        }
        let keys = SigningKeys {
            access_key: "AKID".into(),
            secret_key: "secret".into(),
            session_token: None,
        };
        let local = Executor::new(
            Arc::new(NoNetwork),
            Arc::new(StaticCredentials(keys)),
            Arc::new(|_: &str| None),
        );
        let runtime_api = Some("http://127.0.0.1:9001");
        local
            .check_endpoint_override(runtime_api)
            .expect("local servers take one");
        let deployed = local.with_protected(Arc::new(ProtectedResources::default()));
        let err = deployed
            .check_endpoint_override(runtime_api)
            .expect_err("refused");
        assert!(err.to_string().contains("deployed server"), "{err}");
        deployed.check_endpoint_override(None).expect("no override");
    }
}
