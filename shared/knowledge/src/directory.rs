//! Live Region and product data from the public SSM parameters under
//! `/aws/service/global-infrastructure/`, used when configured instead of the snapshot.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::DisplayErrorContext;

const ROOT: &str = "/aws/service/global-infrastructure";

/// A live source of Region and product availability.
#[async_trait]
pub trait RegionDirectory: Send + Sync {
    /// Every Region id with its long name.
    async fn regions(&self) -> Result<Vec<(String, String)>, String>;
    /// The Regions a product (SSM service code, e.g. `s3`) is offered in; `None` when the
    /// code is unknown.
    async fn product_regions(&self, code: &str) -> Result<Option<Vec<String>>, String>;
    /// A short description for answers (`live: SSM public parameters`).
    fn describe(&self) -> String;
}

/// Reads the public parameters with an SSM client.
#[derive(Debug, Clone)]
pub struct SsmDirectory {
    client: Client,
}

impl SsmDirectory {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Values of the parameters directly under `path`, by their last path segment.
    async fn children(&self, path: &str) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path)
            .recursive(false)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| DisplayErrorContext(&e).to_string())?;
            for p in page.parameters() {
                if let (Some(name), Some(value)) = (p.name(), p.value()) {
                    let last = name.rsplit('/').next().unwrap_or(name);
                    out.insert(last.to_owned(), value.to_owned());
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl RegionDirectory for SsmDirectory {
    async fn regions(&self) -> Result<Vec<(String, String)>, String> {
        let ids = self.children(&format!("{ROOT}/regions")).await?;
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let wanted: Vec<String> = ids
            .values()
            .map(|id| format!("{ROOT}/regions/{id}/longName"))
            .collect();
        // GetParameters takes at most 10 names per call.
        for chunk in wanted.chunks(10) {
            let out = self
                .client
                .get_parameters()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| DisplayErrorContext(&e).to_string())?;
            for p in out.parameters() {
                if let (Some(name), Some(value)) = (p.name(), p.value()) {
                    let id = name.split('/').rev().nth(1).unwrap_or_default();
                    names.insert(id.to_owned(), value.to_owned());
                }
            }
        }
        Ok(ids
            .into_values()
            .map(|id| {
                let name = names.get(&id).cloned().unwrap_or_else(|| id.clone());
                (id, name)
            })
            .collect())
    }

    async fn product_regions(&self, code: &str) -> Result<Option<Vec<String>>, String> {
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Ok(None);
        }
        let regions = self
            .children(&format!("{ROOT}/services/{code}/regions"))
            .await?;
        Ok((!regions.is_empty()).then(|| regions.into_values().collect()))
    }

    fn describe(&self) -> String {
        "live: SSM public parameters under /aws/service/global-infrastructure".into()
    }
}
