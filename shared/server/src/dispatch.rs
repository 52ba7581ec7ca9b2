//! Hands a long-running job to another invocation of this Lambda function (an asynchronous
//! `Invoke` of itself, signed by the engine), so no work runs after an answer is sent.

use api_tools::tasks::{TaskDispatcher, TaskJob};
use async_trait::async_trait;
use aws_engine::execute::{CallTarget, Executor};
use base64::Engine;
use serde_json::{Map, Value, json};

pub struct SelfInvoke {
    executor: Executor,
    function: String,
}

impl SelfInvoke {
    pub fn new(executor: Executor, function: String) -> Self {
        Self { executor, function }
    }
}

#[async_trait]
impl TaskDispatcher for SelfInvoke {
    async fn dispatch(&self, job: &TaskJob) -> Result<(), String> {
        let model = aws_models::models()
            .service("lambda")
            .map_err(|e| e.to_string())?;
        let operation = model
            .operation("Invoke")
            .ok_or("the lambda model has no Invoke operation")?;
        let payload =
            serde_json::to_vec(&json!({"aws_mcp_task": job})).map_err(|e| e.to_string())?;
        let mut params = Map::new();
        params.insert("FunctionName".into(), Value::String(self.function.clone()));
        params.insert("InvocationType".into(), Value::String("Event".into()));
        params.insert(
            "Payload".into(),
            json!({"__bytes_base64__": base64::engine::general_purpose::STANDARD.encode(payload)}),
        );
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
        self.executor
            .call(
                &model,
                operation,
                &params,
                &CallTarget {
                    region: &region,
                    endpoint_url: None,
                },
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
