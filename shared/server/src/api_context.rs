//! The shared context of the AWS tool groups: how they sign for callers, the policy gate,
//! the task store and the script sandbox.

use std::sync::Arc;

use mcp_state::StateTableLayout;
use mcp_telemetry::Telemetry;

use crate::aws::SharedSdkConfig;
use crate::error::StartupError;
use crate::internal::InternalKey;
use crate::settings::{ActAs, Mode, Settings};

/// The Region a deployed function runs in (its STS, Lambda and Secrets Manager calls).
pub(crate) fn lambda_region(settings: &Settings) -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| settings.default_region.clone())
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
