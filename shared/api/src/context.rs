//! What the AWS tools share: the runner, the policy gate, budgets, tasks, the sandbox and
//! who signs for a caller. Below the tools that take it; dispatching a job to a tool
//! (`ApiContext::run_job`) stays in the crate root, above them.

use std::sync::Arc;

use aws_engine::{CallGate, Runner, paginate::PageBudget};
use mcp_protocol::{CallerIdentity, ToolContext, ToolError};
use script_sandbox::Sandbox;

use crate::tasks::TaskRunner;
use crate::{actor, gate};

/// Settings shared by the API tools.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Pages, bytes and time one command may use.
    pub budget: PageBudget,
    /// Commands of one batch.
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

/// What the AWS tools share.
#[derive(Clone)]
pub struct ApiContext {
    pub runner: Arc<Runner>,
    pub gate: Arc<gate::PolicyGate>,
    pub config: ApiConfig,
    pub tasks: TaskRunner,
    /// `None` where scripts cannot run (no worker binary).
    pub sandbox: Option<Arc<Sandbox>>,
    /// The bucket for staged files (uploads through URLs with no bucket named).
    pub staging: Option<aws_engine::staging::Staging>,
    /// Metrics and audit for the AWS calls scripts make (each counted like a call_aws call).
    pub telemetry: Option<mcp_telemetry::Telemetry>,
    /// Whose credentials sign the calls made for a caller.
    pub acting: actor::Acting,
}

impl ApiContext {
    /// The gate for one tool call: the policy, asking the caller's client for consent
    /// where it can be asked.
    pub fn gate_for(&self, ctx: &ToolContext) -> Arc<dyn CallGate> {
        match &ctx.peer {
            Some(peer) if peer.can_elicit() => Arc::new(
                self.gate
                    .with_consent(Arc::new(gate::PeerConsent(peer.clone()))),
            ),
            _ => self.gate.clone(),
        }
    }

    /// This context with commands signed for `caller` (its mapped role in a deployed
    /// server); refuses a caller that may not make AWS calls here.
    pub async fn for_caller(&self, caller: &CallerIdentity) -> Result<ApiContext, ToolError> {
        let runner = self.acting.runner_for(&self.runner, caller).await?;
        Ok(ApiContext {
            runner,
            ..self.clone()
        })
    }
}
