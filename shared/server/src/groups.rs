//! The tool groups a program can serve, each one a value that builds its tools.
//!
//! A Lambda function's `main` names only its own group, so the linker keeps only that
//! group's code and bundled data (the presign function carries no search index, no API
//! documentation and no script sandbox); the local server names every group.

use std::sync::Arc;

use async_trait::async_trait;
use knowledge_tools::{KnowledgeGroup, RegionDirectory, SkillContent, SkillLibrary, SsmDirectory};
use mcp_protocol::ToolRegistry;
use mcp_telemetry::Telemetry;

use api_tools::tasks::TaskJob;

use crate::api_context::{build_api_context, task_store};
use crate::aws::SharedSdkConfig;
use crate::error::StartupError;
use crate::internal::InternalKey;
use crate::settings::{GroupName, Mode, Settings};

/// One tool group this program can serve.
#[async_trait]
pub trait ServedGroup: Send + Sync {
    fn name(&self) -> GroupName;

    /// Adds the group's tools (and whatever else it serves) to the server being built.
    async fn add_to(&self, parts: &mut GroupParts<'_>) -> Result<(), StartupError>;
}

/// Runs AWS tool calls handed over as tasks (a Lambda function invoking itself).
#[async_trait]
pub trait TaskJobs: Send + Sync {
    async fn run_job(&self, job: TaskJob);
}

#[async_trait]
impl TaskJobs for api_tools::ApiContext {
    async fn run_job(&self, job: TaskJob) {
        api_tools::ApiContext::run_job(self, job).await;
    }
}

/// The server under construction, as the groups see it.
pub struct GroupParts<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) mode: Mode,
    pub(crate) sdk: &'a SharedSdkConfig,
    pub(crate) own: &'a aws_engine::execute::Executor,
    pub(crate) internal: &'a Arc<InternalKey>,
    pub(crate) telemetry: &'a Telemetry,
    pub(crate) registry: ToolRegistry,
    /// The AWS tools' shared context, built by the first group that needs it.
    pub(crate) api: Option<api_tools::ApiContext>,
    pub(crate) task_store: Option<Arc<dyn mcp_state::TaskStore>>,
    pub(crate) jobs: Option<Arc<dyn TaskJobs>>,
    /// Served as MCP resources and prompts.
    pub(crate) skill_content: Option<Arc<SkillContent>>,
}

impl GroupParts<'_> {
    fn add_group(&mut self, group: &dyn mcp_protocol::ToolGroup) {
        self.registry = std::mem::take(&mut self.registry).with_group(group);
    }

    async fn tasks(&mut self) -> Result<Arc<dyn mcp_state::TaskStore>, StartupError> {
        if let Some(store) = &self.task_store {
            return Ok(store.clone());
        }
        let store = task_store(self.settings, self.sdk).await?;
        self.task_store = Some(store.clone());
        Ok(store)
    }

    async fn api_context(&mut self) -> Result<api_tools::ApiContext, StartupError> {
        if let Some(ctx) = &self.api {
            return Ok(ctx.clone());
        }
        let store = self.tasks().await?;
        let ctx = build_api_context(
            self.settings,
            self.mode,
            self.own,
            self.internal,
            store,
            Some(self.telemetry.clone()),
        )
        .await?;
        self.api = Some(ctx.clone());
        Ok(ctx)
    }
}

/// Every group, in the order tools are listed: what the local server serves.
pub static EVERY_GROUP: [&dyn ServedGroup; 4] = [&Knowledge, &Api, &Presign, &Tasks];

/// Regions, availability, documentation and skills (also as resources and prompts).
pub struct Knowledge;
/// `call_aws`, `suggest_aws_commands`, `run_script`; runs handed-over tasks.
pub struct Api;
/// `get_presigned_url`.
pub struct Presign;
/// `get_tasks`.
pub struct Tasks;

#[async_trait]
impl ServedGroup for Knowledge {
    fn name(&self) -> GroupName {
        GroupName::Knowledge
    }

    async fn add_to(&self, parts: &mut GroupParts<'_>) -> Result<(), StartupError> {
        let settings = parts.settings;
        let mut skills = SkillLibrary::bundled();
        if let Some(dir) = &settings.skills_dir {
            skills = skills.with_folder(dir);
        }
        if let Some(uri) = &settings.skills_s3_uri {
            skills = crate::skills_s3::with_s3_skills(skills, parts.sdk, uri).await;
        }
        for problem in &skills.problems {
            tracing::warn!(%problem, "skill not loaded");
        }
        let live: Option<Arc<dyn RegionDirectory>> = if settings.live_region_data {
            let config = parts.sdk.get().await;
            Some(Arc::new(SsmDirectory::new(aws_sdk_ssm::Client::new(
                &config,
            ))))
        } else {
            None
        };
        let skills = Arc::new(skills);
        parts.skill_content = Some(Arc::new(SkillContent {
            library: skills.clone(),
        }));
        parts.add_group(&KnowledgeGroup::new(skills, live, settings.docs.clone()));
        Ok(())
    }
}

#[async_trait]
impl ServedGroup for Api {
    fn name(&self) -> GroupName {
        GroupName::Api
    }

    async fn add_to(&self, parts: &mut GroupParts<'_>) -> Result<(), StartupError> {
        let ctx = parts.api_context().await?;
        parts.jobs = Some(Arc::new(ctx.clone()));
        parts.add_group(&api_tools::ApiGroup { ctx });
        Ok(())
    }
}

#[async_trait]
impl ServedGroup for Presign {
    fn name(&self) -> GroupName {
        GroupName::Presign
    }

    async fn add_to(&self, parts: &mut GroupParts<'_>) -> Result<(), StartupError> {
        let ctx = parts.api_context().await?;
        parts.add_group(&api_tools::PresignGroup { ctx });
        Ok(())
    }
}

#[async_trait]
impl ServedGroup for Tasks {
    fn name(&self) -> GroupName {
        GroupName::Tasks
    }

    async fn add_to(&self, parts: &mut GroupParts<'_>) -> Result<(), StartupError> {
        let store = parts.tasks().await?;
        parts.add_group(&api_tools::TasksGroup { store });
        Ok(())
    }
}
