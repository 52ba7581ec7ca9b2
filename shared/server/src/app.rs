//! Builds one server from settings: telemetry, the session store, the tool groups and the
//! protocol engine. The Lambda functions and the local server both start here.

use std::sync::Arc;

use mcp_protocol::{
    HttpOptions, McpServer, MemoryQuotaStore, MemorySessionStore, OriginPolicy, QuotaStore, Quotas,
    ServerConfig, SessionStore, StoreError, ToolRegistry,
};
use mcp_state::{
    DirQuotaStore, DirSessionStore, DynamoQuotaStore, DynamoSessionStore, StateTableLayout,
};
use mcp_telemetry::{FileSink, LineSink, StderrSink, Telemetry, TelemetryConfig};

use crate::aws::SharedSdkConfig;
use crate::groups::{GroupParts, ServedGroup, TaskJobs};
use crate::identity::LocalIdentity;
use crate::internal::InternalKey;
use crate::settings::{ActAs, GroupName, Mode, Settings, SettingsError};

/// What the server tells clients at `initialize`.
const INSTRUCTIONS: &str = "Tools for working with AWS. Before a multi-step AWS task, look for a skill (aws___retrieve_skill) and follow it. Check Regional availability with aws___get_regional_availability instead of guessing, and list Regions with aws___list_regions.";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot open the session store: {0}")]
    Store(#[from] StoreError),
    #[error("this program does not serve the {} group", .0.as_str())]
    NotServed(GroupName),
    #[error("cannot start the API tools: {0}")]
    Api(String),
    #[error("cannot open the audit log {path}: {source}")]
    AuditLog {
        path: String,
        source: std::io::Error,
    },
}

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

/// The Region a deployed function runs in (its STS, Lambda and Secrets Manager calls).
fn lambda_region(settings: &Settings) -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| settings.default_region.clone())
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

/// How the AWS tools sign for callers: local credentials, the function's role (opt-in),
/// or each caller's mapped role.
async fn acting(
    settings: &Settings,
    mode: Mode,
    own: &aws_engine::execute::Executor,
) -> Result<api_tools::actor::Acting, StartupError> {
    use api_tools::actor::{Acting, CallerRoleSettings, CallerRoles};
    if mode != Mode::Lambda {
        return Ok(Acting::Local);
    }
    let deployed = &settings.deployed;
    let protected = Arc::new(aws_engine::protected::ProtectedResources::new(
        deployed.protected.clone(),
    ));
    if deployed.act_as == ActAs::Function {
        tracing::warn!(
            "AWS_MCP_ACT_AS=function: every caller acts with this function's own role; use it only for a stack with a single user"
        );
        return Ok(Acting::Function(protected));
    }
    let mut map = deployed.role_map.clone();
    if let Some(parameter) = &deployed.role_map_parameter {
        map.extend(role_map_from_ssm(own, parameter, &lambda_region(settings)).await?);
    }
    let roles = CallerRoles::new(
        CallerRoleSettings {
            map,
            assume_own_role: deployed.assume_own_role,
            server_name: settings.server_name.clone(),
            session_seconds: deployed.session_seconds,
            region: lambda_region(settings),
        },
        own.clone(),
        protected,
    )
    .map_err(|e| StartupError::Api(e.to_string()))?;
    Ok(Acting::Caller(Arc::new(roles)))
}

/// More role map entries from an SSM parameter (`AWS_MCP_CALLER_ROLE_MAP_PARAMETER`).
async fn role_map_from_ssm(
    own: &aws_engine::execute::Executor,
    parameter: &str,
    region: &str,
) -> Result<Vec<api_tools::actor::RoleMapEntry>, StartupError> {
    let mut params = serde_json::Map::new();
    params.insert("Name".into(), serde_json::json!(parameter));
    params.insert("WithDecryption".into(), serde_json::json!(true));
    let answer = own
        .call_named("ssm", "GetParameter", &params, region)
        .await
        .map_err(|e| {
            StartupError::Api(format!(
                "cannot read the caller role map from SSM parameter {parameter} (AWS_MCP_CALLER_ROLE_MAP_PARAMETER): {e}"
            ))
        })?;
    let text = answer
        .output
        .get("Parameter")
        .and_then(|p| p.get("Value"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    api_tools::actor::parse_role_map(&format!("SSM parameter {parameter}"), text)
        .map_err(|e| StartupError::Api(e.0))
}

/// Where tasks are kept: the state table in a deployed stack, else the state folder.
pub(crate) async fn task_store(
    settings: &Settings,
    sdk: &SharedSdkConfig,
) -> Result<Arc<dyn mcp_state::TaskStore>, StartupError> {
    Ok(match &settings.state_table {
        Some(table) => Arc::new(mcp_state::DynamoTaskStore::new(
            aws_sdk_dynamodb::Client::new(&sdk.get().await),
            &StateTableLayout::standard(table.clone()),
        )),
        None => Arc::new(
            mcp_state::DirTaskStore::open(&settings.state_dir)
                .map_err(|e| StartupError::Api(format!("task store: {e}")))?,
        ),
    })
}

/// The engine behind the AWS tools: the own executor, how it signs for callers, the
/// policy gate, the task store and the script sandbox.
pub async fn build_api_context(
    settings: &Settings,
    mode: Mode,
    own: &aws_engine::execute::Executor,
    internal: &Arc<InternalKey>,
    store: Arc<dyn mcp_state::TaskStore>,
    telemetry: Option<Telemetry>,
) -> Result<api_tools::ApiContext, StartupError> {
    let executor = own.clone();
    let acting = acting(settings, mode, own).await?;
    let files = match &settings.work_dir {
        Some(dir) => {
            // The default folder may not exist yet; a command naming a file there then
            // gets "no such file" rather than a start-up failure.
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot create the working directory");
            }
            aws_engine::LocalFiles::Within(dir.clone())
        }
        None => aws_engine::LocalFiles::Refused(
            "the deployed server cannot read your files: stage the file first (aws___get_presigned_url with method PUT and no bucket gives an upload URL), then name it as here; or pass s3:// locations".into(),
        ),
    };
    let staging = settings
        .staging_bucket
        .clone()
        .map(|bucket| aws_engine::staging::Staging {
            bucket,
            region: settings.default_region.clone(),
        });
    let runner =
        Arc::new(aws_engine::Runner::new(executor.clone(), files).with_staging(staging.clone()));
    // The deployed server asks before revealing secret values by default (docs/policy.md).
    let policy = aws_engine::Policy::from_process_env_in(mode == Mode::Lambda)
        .map_err(|e| StartupError::Api(e.to_string()))?;
    tracing::info!(%policy, "call policy");
    let budget = aws_engine::paginate::PageBudget {
        max_bytes: settings.max_output_bytes,
        max_time: settings.command_timeout,
        ..Default::default()
    };
    let detach = if mode == Mode::Lambda {
        match std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
            Ok(function) => api_tools::tasks::Detach::Dispatch(Arc::new(
                crate::dispatch::SelfInvoke::new(own.clone(), function, internal.clone()),
            )),
            Err(_) => api_tools::tasks::Detach::Background,
        }
    } else {
        api_tools::tasks::Detach::Background
    };
    let sandbox = match script_sandbox::WorkerCommand::current_exe(&[crate::SCRIPT_WORKER_ARG]) {
        Ok(worker) => {
            let worker = worker.user(settings.script_user);
            let limits = script_sandbox::Limits::default().with_timeout(settings.script_timeout);
            Some(Arc::new(script_sandbox::Sandbox::new(worker, limits)))
        }
        Err(e) => {
            tracing::warn!(error = %e, "run_script unavailable: cannot find this program to start workers");
            None
        }
    };
    Ok(api_tools::ApiContext {
        runner,
        gate: Arc::new(api_tools::gate::PolicyGate::new(policy)),
        config: api_tools::ApiConfig {
            budget,
            ..Default::default()
        },
        tasks: api_tools::tasks::TaskRunner {
            store,
            inline_budget: settings.inline_budget,
            lease: settings.task_lease,
            detach,
            background: Arc::new(api_tools::tasks::BackgroundTasks::new(
                settings.max_background_tasks,
            )),
            audit: telemetry.clone(),
        },
        sandbox,
        staging,
        telemetry,
        acting,
    })
}
