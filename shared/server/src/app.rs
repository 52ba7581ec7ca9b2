//! Builds one server from settings: telemetry, the session store, the tool groups and the
//! protocol engine. The Lambda functions and the local server both start here.

use std::sync::Arc;

use mcp_protocol::{
    HttpOptions, McpServer, MemoryQuotaStore, MemorySessionStore, OriginPolicy, QuotaStore, Quotas,
    ServerConfig, SessionStore, ToolRegistry,
};
use mcp_state::{
    DirQuotaStore, DirSessionStore, DynamoQuotaStore, DynamoSessionStore, StateTableLayout,
};
use mcp_telemetry::{FileSink, LineSink, StderrSink, Telemetry, TelemetryConfig};

use crate::api_context::lambda_region;
use crate::aws::SharedSdkConfig;
pub use crate::error::StartupError;
use crate::groups::{GroupParts, ServedGroup, TaskJobs};
use crate::identity::LocalIdentity;
use crate::internal::InternalKey;
use crate::settings::{Mode, Settings};

/// What the server tells clients at `initialize`.
const INSTRUCTIONS: &str = "Tools for working with AWS. Before a multi-step AWS task, look for a skill (aws___retrieve_skill) and follow it. Check Regional availability with aws___get_regional_availability instead of guessing, and list Regions with aws___list_regions.";

/// A ready server and what its transports need.
pub struct App {
    /// Seals and opens the events the stack's functions send each other.
    pub internal: Arc<InternalKey>,
    pub server: Arc<McpServer>,
    /// The AWS tools' shared context.
    pub api: Option<api_tools::ApiContext>,
    /// Runs task jobs handed over in Lambda (where this program serves the api group).
    pub jobs: Option<Arc<dyn TaskJobs>>,
    pub local_identity: Arc<LocalIdentity>,
    pub settings: Settings,
    pub mode: Mode,
    pub http_options: HttpOptions,
}

impl App {
    /// Builds the server for `settings.groups`, each of which must be among `served` (the
    /// groups this program carries).
    pub async fn build(
        settings: Settings,
        mode: Mode,
        served: &[&dyn ServedGroup],
    ) -> Result<Self, StartupError> {
        let sdk = SharedSdkConfig::default();
        let telemetry = build_telemetry(&settings)?;
        let sessions = build_session_store(&settings, mode, &sdk).await?;
        let own = own_executor(mode, &sdk)?.with_call_timeout(settings.command_timeout);
        let internal = Arc::new(InternalKey::new(
            settings.deployed.internal_key_secret.clone(),
            own.clone(),
            lambda_region(&settings),
        ));

        let mut parts = GroupParts {
            settings: &settings,
            mode,
            sdk: &sdk,
            own: &own,
            internal: &internal,
            telemetry: &telemetry,
            registry: ToolRegistry::new(),
            api: None,
            task_store: None,
            jobs: None,
            skill_content: None,
        };
        for name in &settings.groups {
            let group = served
                .iter()
                .find(|g| g.name() == *name)
                .ok_or(StartupError::NotServed(*name))?;
            group.add_to(&mut parts).await?;
        }
        let GroupParts {
            mut registry,
            api,
            jobs,
            skill_content,
            ..
        } = parts;

        registry = with_forwarded_groups(registry, &settings, &own, &internal);

        let config = ServerConfig {
            server_name: settings.server_name.clone(),
            instructions: Some(INSTRUCTIONS.into()),
            default_region: settings.default_region.clone(),
            session_ttl: settings.session_ttl,
            quotas: Quotas {
                max_sessions_per_account: settings.max_sessions_per_account,
                max_sessions_per_user: settings.max_sessions_per_user,
                max_concurrent_connections: settings.max_concurrent_connections,
                requests_per_second: settings.requests_per_second,
                burst: settings.burst,
            },
            max_body_bytes: settings.max_body_bytes,
            ..ServerConfig::default()
        };
        let quota_store = build_quota_store(&settings, mode, &sdk).await?;
        let mut server =
            McpServer::new(registry, sessions, telemetry, config).with_quota_store(quota_store);
        if let Some(content) = skill_content {
            server = server.with_resources(content.clone()).with_prompts(content);
        }
        let server = Arc::new(server);
        let http_options = HttpOptions {
            // Buffered Function URLs cannot carry event streams (progress, elicitation).
            streaming: mode != Mode::Lambda,
            origins: if mode == Mode::Lambda {
                OriginPolicy::Any
            } else {
                OriginPolicy::Loopback {
                    extra: settings.allowed_origins.clone(),
                }
            },
        };
        Ok(Self {
            internal,
            server,
            api,
            jobs,
            local_identity: Arc::new(LocalIdentity::new(sdk)),
            settings,
            mode,
            http_options,
        })
    }
}

fn build_telemetry(settings: &Settings) -> Result<Telemetry, StartupError> {
    let stderr: Arc<dyn LineSink> = Arc::new(StderrSink);
    let mut audit = vec![stderr.clone()];
    if let Some(path) = &settings.audit_log {
        let sink = FileSink::open(path).map_err(|source| StartupError::AuditLog {
            path: path.display().to_string(),
            source,
        })?;
        audit.push(Arc::new(sink));
    }
    let config = TelemetryConfig {
        metrics_namespace: settings.metrics_namespace.clone(),
        usage_namespace: settings.usage_namespace.clone(),
        server_name: settings.server_name.clone(),
        audit_response_bodies: settings.audit_response_bodies,
        ..TelemetryConfig::default()
    };
    Ok(Telemetry::new(config, stderr, audit)
        .with_redactor(Arc::new(api_tools::audit_redact::SensitiveMembers)))
}

async fn build_session_store(
    settings: &Settings,
    mode: Mode,
    sdk: &SharedSdkConfig,
) -> Result<Arc<dyn SessionStore>, StartupError> {
    if let Some(table) = &settings.state_table {
        let client = aws_sdk_dynamodb::Client::new(&sdk.get().await);
        return Ok(Arc::new(DynamoSessionStore::new(
            client,
            StateTableLayout::standard(table.clone()),
        )));
    }
    if mode == Mode::Stdio {
        // Over stdio the process is the session; nothing needs to outlive it.
        return Ok(Arc::new(MemorySessionStore::default()));
    }
    Ok(Arc::new(DirSessionStore::open(&settings.state_dir)?))
}

/// Where the rate and connection counters live: beside the sessions, so every instance
/// sharing the state store shares the quotas.
async fn build_quota_store(
    settings: &Settings,
    mode: Mode,
    sdk: &SharedSdkConfig,
) -> Result<Arc<dyn QuotaStore>, StartupError> {
    if let Some(table) = &settings.state_table {
        let client = aws_sdk_dynamodb::Client::new(&sdk.get().await);
        return Ok(Arc::new(DynamoQuotaStore::new(client, table.clone())));
    }
    if mode == Mode::Stdio {
        return Ok(Arc::new(MemoryQuotaStore::default()));
    }
    Ok(Arc::new(DirQuotaStore::open(&settings.state_dir)?))
}

/// The groups this function lists but another function serves (the front of a stack).
fn with_forwarded_groups(
    mut registry: ToolRegistry,
    settings: &Settings,
    own: &aws_engine::execute::Executor,
    internal: &Arc<InternalKey>,
) -> ToolRegistry {
    let forwarder = Arc::new(crate::forward::Forwarder {
        executor: own.clone(),
        key: internal.clone(),
        region: lambda_region(settings),
    });
    for (group, function) in &settings.deployed.group_functions {
        if settings.groups.contains(group) {
            continue;
        }
        registry = registry.with_group(&crate::forward::ForwardedGroup {
            group: *group,
            function: function.clone(),
            forwarder: forwarder.clone(),
        });
    }
    registry
}

/// The executor that signs with the server's own credentials: the SDK's default chain
/// (locally: the user's; in Lambda: the execution role).
fn own_executor(
    mode: Mode,
    sdk: &SharedSdkConfig,
) -> Result<aws_engine::execute::Executor, StartupError> {
    use std::time::Duration;
    let sender =
        aws_engine::execute::ReqwestSender::new(Duration::from_secs(10), Duration::from_secs(60))
            .map_err(|e| StartupError::Api(e.to_string()))?;
    let credentials = Arc::new(crate::credentials::SdkCredentials::new(
        sdk.clone(),
        mode != Mode::Lambda,
    ));
    // Resolve credentials while the server waits for its first request, so the first AWS
    // call does not pay for the provider chain; only where credentials are configured, so a
    // laptop with no account never probes the instance metadata service at start.
    let configured = mode == Mode::Lambda
        || [
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if configured {
        use aws_engine::execute::CredentialSource;
        let credentials = credentials.clone();
        tokio::spawn(async move {
            if let Err(e) = credentials.keys().await {
                tracing::info!(error = %e, "no AWS credentials yet");
            }
        });
    }
    let executor = aws_engine::execute::Executor::new(
        Arc::new(sender),
        credentials,
        Arc::new(|name: &str| std::env::var(name).ok()),
    );
    Ok(executor)
}
