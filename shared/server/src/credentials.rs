//! The keys `call_aws` signs with: the SDK's default credential chain (environment,
//! profiles, SSO, container and instance roles), cached until five minutes before they
//! expire so a long session never signs with stale keys.

use std::sync::Arc;
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
    /// Whether `--profile` may name another profile (local servers only: a deployed server
    /// signs with its role).
    allow_profiles: bool,
    profiles: std::sync::Mutex<std::collections::HashMap<String, Arc<ProfileCredentials>>>,
}

impl SdkCredentials {
    pub fn new(sdk: SharedSdkConfig, allow_profiles: bool) -> Self {
        Self {
            sdk,
            cached: Mutex::new(None),
            allow_profiles,
            profiles: std::sync::Mutex::default(),
        }
    }
}

/// A named profile's credentials (`--profile`), cached like the default chain's.
pub struct ProfileCredentials {
    provider: aws_config::profile::ProfileFileCredentialsProvider,
    name: String,
    cached: Mutex<Option<(SigningKeys, Option<SystemTime>)>>,
}

#[async_trait]
impl CredentialSource for ProfileCredentials {
    async fn keys(&self) -> Result<SigningKeys, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some(keys) = fresh(&cached) {
            return Ok(keys);
        }
        let creds = self.provider.provide_credentials().await.map_err(|e| {
            CredentialError(format!(
                "cannot load the credentials of profile {} ({e}); check ~/.aws/config and ~/.aws/credentials, or sign in with `aws sso login --profile {}`",
                self.name, self.name
            ))
        })?;
        let keys = signing_keys(&creds);
        *cached = Some((keys.clone(), creds.expiry()));
        Ok(keys)
    }
}

fn fresh(cached: &Option<(SigningKeys, Option<SystemTime>)>) -> Option<SigningKeys> {
    let (keys, expiry) = cached.as_ref()?;
    expiry
        .is_none_or(|e| e > SystemTime::now() + REFRESH_MARGIN)
        .then(|| keys.clone())
}

fn signing_keys(creds: &aws_credential_types::Credentials) -> SigningKeys {
    SigningKeys {
        access_key: creds.access_key_id().to_owned(),
        secret_key: creds.secret_access_key().to_owned(),
        session_token: creds.session_token().map(str::to_owned),
    }
}

#[async_trait]
impl CredentialSource for SdkCredentials {
    async fn keys(&self) -> Result<SigningKeys, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some(keys) = fresh(&cached) {
            return Ok(keys);
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
        let keys = signing_keys(&creds);
        *cached = Some((keys.clone(), creds.expiry()));
        Ok(keys)
    }

    fn for_profile(&self, profile: &str) -> Result<Arc<dyn CredentialSource>, CredentialError> {
        if !self.allow_profiles {
            return Err(CredentialError(format!(
                "--profile {profile} cannot be used with the deployed server: it signs with its own role (remove --profile)"
            )));
        }
        let valid = !profile.is_empty()
            && profile.len() <= 128
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(c));
        if !valid {
            return Err(CredentialError(format!(
                "'{profile}' is not a profile name (letters, digits and - _ . @ +)"
            )));
        }
        let mut profiles = self
            .profiles
            .lock()
            .map_err(|_| CredentialError("profile cache unavailable".into()))?;
        let entry = profiles
            .entry(profile.to_owned())
            .or_insert_with(|| {
                Arc::new(ProfileCredentials {
                    provider: aws_config::profile::ProfileFileCredentialsProvider::builder()
                        .profile_name(profile)
                        .build(),
                    name: profile.to_owned(),
                    cached: Mutex::new(None),
                })
            })
            .clone();
        Ok(entry)
    }
}
