//! The tool groups that reach AWS: API execution (`call_aws`, `suggest_aws_commands`,
//! `run_script`), presign (`get_presigned_url`) and task polling (`get_tasks`).
//!
//! The tools are thin: commands run through [`aws_engine::Runner`] (parse, validate, policy
//! gate, sign, send, paginate, shape), every API call, scripts' included, passing the same
//! [`aws_engine::CallGate`]. Long work becomes a task ([`tasks::TaskRunner`]). The Lambda functions and
//! the local server build the same groups.

#![warn(unreachable_pub)]

pub mod actor;
pub mod audit_redact;
pub mod call_aws;
mod context;
pub mod gate;
pub mod presign;
pub mod run_script;
pub mod suggest;
pub mod tasks;

use std::sync::Arc;

use mcp_protocol::{CallerIdentity, IdentityKind, Tool, ToolGroup};

pub use crate::context::{ApiConfig, ApiContext};
use crate::tasks::{Answer, TaskJob};

// Running a job is dispatch to the tools, so it stays here, above them.
impl ApiContext {
    /// Runs a job handed over by another invocation, storing its answer in its task.
    pub async fn run_job(&self, job: TaskJob) {
        let caller = CallerIdentity {
            kind: IdentityKind::Iam,
            arn: Some(job.owner.clone()),
            ..CallerIdentity::local()
        };
        let ctx = match self.for_caller(&caller).await {
            Ok(ctx) => ctx,
            Err(e) => {
                let answer = Answer::from_error(&e);
                self.tasks.finish_job(&job, async move { answer }).await;
                return;
            }
        };
        let (tool, arguments, region, owner) = (
            job.tool.clone(),
            job.arguments.clone(),
            job.region.clone(),
            job.owner.clone(),
        );
        let work = async move {
            match tool.as_str() {
                "call_aws" => call_aws::job_work(ctx, owner, arguments, region).await,
                "run_script" => run_script::job_work(ctx, arguments, region).await,
                other => Answer::from_error(&mcp_protocol::ToolError::Internal(format!(
                    "no tool {other} runs as a task"
                ))),
            }
        };
        self.tasks.finish_job(&job, work).await;
    }
}

/// The tools a group lists, without the context that runs them: what a front function
/// shows for a group it forwards to the group's own function.
pub fn group_descriptors(group: &str) -> Vec<mcp_protocol::ToolDescriptor> {
    match group {
        "api" => vec![
            call_aws::descriptor(),
            suggest::descriptor(),
            run_script::descriptor(),
        ],
        "presign" => vec![presign::descriptor()],
        "tasks" => vec![tasks::descriptor()],
        _ => Vec::new(),
    }
}

/// The API execution group.
#[derive(Clone)]
pub struct ApiGroup {
    pub ctx: ApiContext,
}

impl ToolGroup for ApiGroup {
    fn name(&self) -> &'static str {
        "api"
    }

    fn tools(&self) -> Vec<Tool> {
        let mut tools = vec![
            Tool {
                descriptor: call_aws::descriptor(),
                handler: Arc::new(call_aws::CallAws {
                    ctx: self.ctx.clone(),
                }),
            },
            Tool {
                descriptor: suggest::descriptor(),
                handler: Arc::new(suggest::SuggestCommands),
            },
        ];
        if let Some(sandbox) = &self.ctx.sandbox {
            tools.push(Tool {
                descriptor: run_script::descriptor(),
                handler: Arc::new(run_script::RunScript {
                    ctx: self.ctx.clone(),
                    sandbox: sandbox.clone(),
                }),
            });
        }
        tools
    }
}

/// The presign group.
#[derive(Clone)]
pub struct PresignGroup {
    pub ctx: ApiContext,
}

impl ToolGroup for PresignGroup {
    fn name(&self) -> &'static str {
        "presign"
    }

    fn tools(&self) -> Vec<Tool> {
        vec![Tool {
            descriptor: presign::descriptor(),
            handler: Arc::new(presign::GetPresignedUrl {
                ctx: self.ctx.clone(),
            }),
        }]
    }
}

/// The task polling group.
#[derive(Clone)]
pub struct TasksGroup {
    pub store: Arc<dyn mcp_state::TaskStore>,
}

impl ToolGroup for TasksGroup {
    fn name(&self) -> &'static str {
        "tasks"
    }

    fn tools(&self) -> Vec<Tool> {
        vec![Tool {
            descriptor: tasks::descriptor(),
            handler: Arc::new(tasks::GetTasks {
                store: self.store.clone(),
            }),
        }]
    }
}
