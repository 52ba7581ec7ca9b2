//! Hands a long-running job to another invocation of this Lambda function (an asynchronous
//! `Invoke` of itself, signed by the engine), so no work runs after an answer is sent. The
//! job travels sealed ([`crate::internal`]): only this stack can start one.

use std::sync::Arc;

use api_tools::tasks::{TaskDispatcher, TaskJob};
use async_trait::async_trait;
use aws_engine::execute::Executor;
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::internal::{EventKind, InternalKey};

pub struct SelfInvoke {
    executor: Executor,
    function: String,
    key: Arc<InternalKey>,
}

impl SelfInvoke {
    pub fn new(executor: Executor, function: String, key: Arc<InternalKey>) -> Self {
        Self {
            executor,
            function,
            key,
        }
    }
}

#[async_trait]
impl TaskDispatcher for SelfInvoke {
    async fn dispatch(&self, job: &TaskJob) -> Result<(), String> {
        let job = serde_json::to_value(job).map_err(|e| e.to_string())?;
        let event = self
            .key
            .seal(EventKind::Task, &job)
            .await
            .map_err(|e| e.to_string())?;
        let mut params = Map::new();
        params.insert("FunctionName".into(), Value::String(self.function.clone()));
        params.insert("InvocationType".into(), Value::String("Event".into()));
        params.insert(
            "Payload".into(),
            json!({"__bytes_base64__": base64::engine::general_purpose::STANDARD.encode(event.to_string())}),
        );
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        self.executor
            .call_named("lambda", "Invoke", &params, &region)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
