//! The documentation tools: `aws___search_documentation`, `aws___read_documentation` and
//! `aws___recommend`. Live sources (the AWS documentation search, pages and
//! recommendations) are used when enabled; the offline index (skills plus the API reference
//! built from the service models) always answers, so no network never means no answer.

pub mod apiref;
pub mod associations;
pub mod fetch;
pub mod html;
pub mod index;
pub mod page;
mod prebuilt;
pub mod read;
pub mod recommend;
pub mod search;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use url::Url;

use crate::skills::SkillLibrary;
use fetch::DocsHttp;
use index::LazyIndex;

/// Where the live documentation services are.
#[derive(Debug, Clone)]
pub struct DocsConfig {
    /// Use the live services at all.
    pub live: bool,
    pub search_url: String,
    pub recommend_url: String,
    /// Test-only: fetch `https://<host>/<path>` as `<upstream>/<host>/<path>`.
    pub upstream: Option<Url>,
    pub search_timeout: Duration,
    pub page_timeout: Duration,
}

impl Default for DocsConfig {
    fn default() -> Self {
        Self {
            live: true,
            search_url: "https://proxy.search.docs.aws.com/search".into(),
            recommend_url: "https://api.contentrecs.docs.aws.com/v1/recommendations".into(),
            upstream: None,
            search_timeout: Duration::from_secs(5),
            page_timeout: Duration::from_secs(15),
        }
    }
}

/// What the documentation tools share. HTTP clients (TLS set-up included) and the search
/// index are built on first use, keeping them off the start-up path.
pub struct Docs {
    pub config: DocsConfig,
    http: OnceLock<DocsHttp>,
    search_http: OnceLock<reqwest::Client>,
    pub index: LazyIndex,
}

impl Docs {
    pub fn new(config: DocsConfig, skills: Arc<SkillLibrary>) -> Self {
        Self {
            config,
            http: OnceLock::new(),
            search_http: OnceLock::new(),
            index: LazyIndex::new(skills),
        }
    }

    /// The page fetcher (allow-list, redirects, SSRF-safe resolver).
    pub fn http(&self) -> &DocsHttp {
        self.http
            .get_or_init(|| DocsHttp::new(self.config.upstream.clone(), self.config.page_timeout))
    }

    /// The client for the search and recommendations APIs.
    pub fn search_http(&self) -> &reqwest::Client {
        self.search_http.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(self.config.search_timeout)
                .connect_timeout(Duration::from_secs(3))
                .user_agent(concat!("aws-mcp/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
    }
}
