//! The runner: what a command runs with (the executors that sign, local file access, the
//! staging bucket). Its dispatch lives in `run`; `highlevel` and `wait` take it to reach
//! the executors and files.

use crate::call::RunError;
use crate::execute::Executor;
use crate::params::LocalFiles;
use crate::staging::Staging;

/// Runs AWS CLI commands.
#[derive(Clone)]
pub struct Runner {
    /// Signs the command's own calls (in a deployed server: as the caller's role).
    pub executor: Executor,
    /// Signs the server's own work, staging files in its bucket; the caller's role is
    /// denied that bucket.
    pub own: Executor,
    pub files: LocalFiles,
    /// Where files are staged when there are no local files (Lambda).
    pub staging: Option<Staging>,
}

impl Runner {
    pub fn new(executor: Executor, files: LocalFiles) -> Self {
        Self {
            own: executor.clone(),
            executor,
            files,
            staging: None,
        }
    }

    pub fn with_staging(mut self, staging: Option<Staging>) -> Self {
        self.staging = staging;
        self
    }

    /// The same runner with commands signed by `executor` (a caller's credentials); files
    /// are still staged with the server's own.
    pub fn for_caller(&self, executor: Executor) -> Self {
        Self {
            executor,
            ..self.clone()
        }
    }

    /// A pre-signed GET URL for `aws s3 presign` (SigV4; at most 900 seconds).
    pub async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires_in: u64,
        region: &str,
        endpoint_url: Option<&str>,
    ) -> Result<String, RunError> {
        self.executor.check_endpoint_override(endpoint_url)?;
        let configured = self.executor.s3_endpoint_setting();
        let presigned = self
            .executor
            .presign(&crate::presign::PresignRequest {
                bucket,
                key,
                method: crate::presign::PresignMethod::Get,
                expires_in,
                content_type: None,
                region,
                endpoint_url: endpoint_url.or(configured.as_deref()),
            })
            .await?;
        Ok(presigned.url)
    }
}
