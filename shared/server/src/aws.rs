//! The AWS SDK configuration, loaded once on first use (never on the start-up path of a
//! server that does not need it).

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

/// A lazily loaded, shared `SdkConfig` (default credential chain, Region and endpoint
/// settings such as `AWS_ENDPOINT_URL`).
#[derive(Clone, Default)]
pub struct SharedSdkConfig(Arc<OnceCell<SdkConfig>>);

impl SharedSdkConfig {
    pub async fn get(&self) -> SdkConfig {
        self.0
            .get_or_init(|| aws_config::defaults(BehaviorVersion::latest()).load())
            .await
            .clone()
    }
}
