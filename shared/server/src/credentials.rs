//! The keys `call_aws` signs with: the SDK's default credential chain (environment,
//! profiles, SSO, container and instance roles), cached until five minutes before they
//! expire so a long session never signs with stale keys.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::ProvideCredentials;
use aws_engine::execute::{CredentialError, CredentialSource};
use aws_engine::sign::SigningKeys;
use tokio::sync::Mutex;

use crate::aws::SharedSdkConfig;

/// Refresh this long before expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

pub struct SdkCredentials {
    sdk: SharedSdkConfig,
    cached: Mutex<Option<(SigningKeys, Option<SystemTime>)>>,
}

impl SdkCredentials {
    pub fn new(sdk: SharedSdkConfig) -> Self {
        Self {
            sdk,
            cached: Mutex::new(None),
        }
    }
}

#[async_trait]
impl CredentialSource for SdkCredentials {
    async fn keys(&self) -> Result<SigningKeys, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some((keys, expiry)) = cached.as_ref() {
            let fresh = expiry.is_none_or(|e| e > SystemTime::now() + REFRESH_MARGIN);
            if fresh {
                return Ok(keys.clone());
            }
        }
        let config = self.sdk.get().await;
        let provider = config.credentials_provider().ok_or_else(|| {
            CredentialError(
                "no AWS credentials are configured: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or sign in with `aws sso login`".into(),
            )
        })?;
        let creds = provider.provide_credentials().await.map_err(|e| {
            CredentialError(format!(
                "cannot load AWS credentials ({e}); check AWS_PROFILE or your SSO sign-in (`aws sso login`)"
            ))
        })?;
        let keys = SigningKeys {
            access_key: creds.access_key_id().to_owned(),
            secret_key: creds.secret_access_key().to_owned(),
            session_token: creds.session_token().map(str::to_owned),
        };
        *cached = Some((keys.clone(), creds.expiry()));
        Ok(keys)
    }
}
