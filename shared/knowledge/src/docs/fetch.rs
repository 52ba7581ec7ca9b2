//! Fetching documentation pages safely.
//!
//! Rules: only `https` URLs on the allow-listed documentation hosts, no user info, no IP
//! literals, no explicit ports; redirects are followed by hand (at most [`MAX_REDIRECTS`])
//! and every hop is checked again; host names that resolve to loopback, private, link-local
//! or otherwise non-public addresses are refused at connection time (SSRF), so a DNS answer
//! cannot smuggle a request inside the network.
//!
//! For tests, an `upstream` base URL replaces the network: `https://<host>/<path>` is fetched
//! as `<upstream>/<host>/<path>` while every check still applies to the logical URL.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

pub const MAX_REDIRECTS: usize = 5;
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Why a fetch failed, in the tool's error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    InvalidUrl(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Throttled(String),
    #[error("{0}")]
    Downstream(String),
}

impl FetchError {
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl(_) => "invalid_url",
            FetchError::NotFound(_) => "not_found",
            FetchError::Throttled(_) => "throttled",
            FetchError::Downstream(_) => "downstream_error",
        }
    }
}

/// Hosts whose pages may be read, with the path each must start with.
const ALLOWED: &[(&str, &str)] = &[
    ("docs.aws.amazon.com", "/"),
    ("aws.amazon.com", "/"),
    ("repost.aws", "/knowledge-center/"),
    ("docs.amplify.aws", "/"),
    ("strandsagents.com", "/"),
];

pub fn allowed_hosts_description() -> String {
    "https URLs on docs.aws.amazon.com, aws.amazon.com (not /marketplace), repost.aws/knowledge-center, docs.amplify.aws or strandsagents.com".into()
}

/// Parses and checks a URL against the allow-list.
pub fn check_url(raw: &str) -> Result<Url, FetchError> {
    let invalid = |why: &str| {
        FetchError::InvalidUrl(format!(
            "URL '{raw}' is not allowed: {why}. Allowed: {}",
            allowed_hosts_description()
        ))
    };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&format!("it does not parse ({e})")))?;
    if url.scheme() != "https" {
        return Err(invalid("only https is allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("user information in URLs is refused"));
    }
    if url.port().is_some() {
        return Err(invalid("explicit ports are refused"));
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => return Err(invalid("IP addresses are refused")),
        None => return Err(invalid("it has no host")),
    };
    let path = url.path();
    let Some((_, prefix)) = ALLOWED.iter().find(|(h, _)| *h == host) else {
        return Err(invalid(&format!("host {host} is not a documentation host")));
    };
    if !path.starts_with(prefix) {
        return Err(invalid(&format!(
            "only {host}{prefix}... pages are allowed"
        )));
    }
    if host == "aws.amazon.com" && (path == "/marketplace" || path.starts_with("/marketplace/")) {
        return Err(invalid("AWS Marketplace pages are not documentation"));
    }
    Ok(url)
}

/// Whether an address is reachable only inside a network (or is otherwise not a public
/// unicast address), so a documentation host must never resolve to it.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // protocol assignments
                || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_non_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 can reach IPv4 privates
        }
    }
}

/// A resolver that refuses names resolving to non-public addresses.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = tokio::net::lookup_host((host.as_str(), 443)).await?;
            let public = public_only(&host, addrs)?;
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The public addresses among those `host` resolved to; an error when there are none.
fn public_only(
    host: &str,
    addrs: impl Iterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, String> {
    let public: Vec<SocketAddr> = addrs.filter(|a| !is_non_public(a.ip())).collect();
    if public.is_empty() {
        return Err(format!(
            "{host} resolves only to non-public addresses; refused"
        ));
    }
    Ok(public)
}

/// A fetched page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL after redirects (logical, never the upstream's).
    pub final_url: Url,
    pub body: String,
    pub content_type: String,
}

/// HTTP access for the documentation tools.
#[derive(Clone)]
pub struct DocsHttp {
    client: reqwest::Client,
    upstream: Option<Url>,
}

impl DocsHttp {
    pub fn new(upstream: Option<Url>, timeout: Duration) -> Self {
        // Also with a test upstream: it is addressed by IP literal, which needs no lookup, so
        // the resolver stays in force for every name.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("aws-mcp/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PublicOnlyResolver))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { client, upstream }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn physical(&self, logical: &Url) -> Url {
        match &self.upstream {
            None => logical.clone(),
            Some(base) => {
                let mut u = base.clone();
                let host = logical.host_str().unwrap_or_default();
                u.set_path(&format!(
                    "{}/{host}{}",
                    base.path().trim_end_matches('/'),
                    logical.path()
                ));
                u.set_query(logical.query());
                u
            }
        }
    }

    /// GETs an allow-listed page, following and re-checking redirects.
    pub async fn get_page(&self, url: &Url) -> Result<Page, FetchError> {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .client
                .get(self.physical(&current))
                .header("accept", "text/html,application/xhtml+xml")
                .send()
                .await
                .map_err(|e| {
                    FetchError::Downstream(format!(
                        "fetching {current} failed: {}",
                        error_chain(&e)
                    ))
                })?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        FetchError::Downstream(format!("{current} redirected without a Location"))
                    })?;
                let next = current.join(location).map_err(|_| {
                    FetchError::InvalidUrl(format!("{current} redirected to an unparsable URL"))
                })?;
                current = check_url(next.as_str()).map_err(|e| {
                    FetchError::InvalidUrl(format!("{current} redirected to a refused URL: {e}"))
                })?;
                continue;
            }
            match status.as_u16() {
                200..=299 => {}
                404 | 410 => {
                    return Err(FetchError::NotFound(format!(
                        "{current} was not found ({status})"
                    )));
                }
                429 => {
                    return Err(FetchError::Throttled(format!(
                        "{current} answered 429 Too Many Requests; retry later"
                    )));
                }
                _ => {
                    return Err(FetchError::Downstream(format!(
                        "{current} answered {status}"
                    )));
                }
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/html")
                .to_owned();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| FetchError::Downstream(format!("reading {current}: {e}")))?;
            if bytes.len() > MAX_PAGE_BYTES {
                return Err(FetchError::Downstream(format!(
                    "{current} is larger than {MAX_PAGE_BYTES} bytes"
                )));
            }
            return Ok(Page {
                final_url: current,
                body: String::from_utf8_lossy(&bytes).into_owned(),
                content_type,
            });
        }
        Err(FetchError::Downstream(format!(
            "{url} redirected more than {MAX_REDIRECTS} times"
        )))
    }
}

/// The error and its sources in one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("socket address")
    }

    #[test]
    fn the_resolver_keeps_only_public_addresses() {
        for refused in [
            "127.0.0.1:443",
            "10.1.2.3:443",
            "172.16.0.1:443",
            "192.168.1.1:443",
            "169.254.169.254:443",
            "100.64.0.1:443",
            "0.0.0.0:443",
            "[::1]:443",
            "[fe80::1]:443",
            "[fd00::1]:443",
            "[::ffff:127.0.0.1]:443",
            "[::ffff:169.254.169.254]:443",
            "[64:ff9b::a00:1]:443",
        ] {
            let err =
                super::public_only("docs.example", [addr(refused)].into_iter()).expect_err(refused);
            assert!(err.contains("non-public"), "{refused}: {err}");
        }
        let mixed = [addr("10.0.0.1:443"), addr("52.94.236.248:443")];
        assert_eq!(
            super::public_only("docs.aws.amazon.com", mixed.into_iter()),
            Ok(vec![addr("52.94.236.248:443")])
        );
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let err = match super::PublicOnlyResolver.resolve(name).await {
            Ok(_) => panic!("localhost was resolved"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("non-public"), "{err}");
    }

    use super::*;

    #[test]
    fn allow_list_accepts_documentation_and_refuses_the_rest() {
        for ok in [
            "https://docs.aws.amazon.com/lambda/latest/dg/welcome.html",
            "https://aws.amazon.com/blogs/compute/post/",
            "https://repost.aws/knowledge-center/lambda-timeout",
            "https://DOCS.aws.amazon.com/x",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://docs.aws.amazon.com/lambda/",
            "https://docs.aws.amazon.com.evil.com/",
            "https://docs.aws.amazon.com@evil.com/",
            "https://user:pw@docs.aws.amazon.com/",
            "https://docs.aws.amazon.com:8443/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://aws.amazon.com/marketplace/pp/x",
            "https://repost.aws/questions/123",
            "file:///etc/passwd",
            "https://localhost/",
            "not a url",
        ] {
            assert!(
                matches!(check_url(bad), Err(FetchError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn non_public_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_non_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["52.94.236.248", "2600:9000:2000::1"] {
            assert!(!is_non_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn upstream_mapping_keeps_host_path_and_query() {
        let http = DocsHttp::new(
            Some(Url::parse("http://127.0.0.1:9999/base").expect("url")),
            Duration::from_secs(1),
        );
        let logical = Url::parse("https://docs.aws.amazon.com/a/b.html?x=1").expect("url");
        assert_eq!(
            http.physical(&logical).as_str(),
            "http://127.0.0.1:9999/base/docs.aws.amazon.com/a/b.html?x=1"
        );
    }
}
