//! The tool groups that reach AWS: API execution (`call_aws`, `suggest_aws_commands`,
//! `run_script`), presign (`get_presigned_url`) and task polling (`get_tasks`).
//!
//! The tools are thin: commands run through [`aws_engine::Runner`] (parse, validate, policy
//! gate, sign, send, paginate, shape), every API call passing the same [`CallGate`]. The
//! Lambda functions and the local server build the same groups.

pub mod call_aws;
pub mod gate;

use std::sync::Arc;

use aws_engine::{CallGate, Runner, paginate::PageBudget};
use mcp_protocol::{Tool, ToolGroup};

/// Settings shared by the API tools.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Pages, bytes and time one command may use.
    pub budget: PageBudget,
    /// Commands of one batch run at once.
    pub max_batch: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            budget: PageBudget::default(),
            max_batch: 20,
        }
    }
}

/// What the API tools share.
#[derive(Clone)]
pub struct ApiContext {
    pub runner: Arc<Runner>,
    pub gate: Arc<dyn CallGate>,
    pub config: ApiConfig,
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
        vec![Tool {
            descriptor: call_aws::descriptor(),
            handler: Arc::new(call_aws::CallAws {
                ctx: self.ctx.clone(),
            }),
        }]
    }
}
