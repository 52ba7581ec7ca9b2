//! PLACEHOLDER until the response parsers land (replaced by the `response` branch).

use aws_models::{Operation, ServiceModel};
use serde_json::{Map, Value};

pub struct RawResponse<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("An error occurred ({code}) when calling the {operation} operation: {message}")]
pub struct ServiceError {
    pub code: String,
    pub message: String,
    pub status: u16,
    pub request_id: Option<String>,
    pub operation: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error(transparent)]
    Service(ServiceError),
    #[error("{0}")]
    Malformed(String),
}

pub fn parse_response(
    _model: &ServiceModel,
    operation: &Operation,
    raw: &RawResponse<'_>,
) -> Result<Map<String, Value>, ResponseError> {
    let v: Value = if raw.body.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(raw.body).map_err(|e| ResponseError::Malformed(e.to_string()))?
    };
    if raw.status >= 300 {
        return Err(ResponseError::Service(ServiceError {
            code: v["__type"].as_str().unwrap_or("Unknown").to_owned(),
            message: v["message"].as_str().unwrap_or_default().to_owned(),
            status: raw.status,
            request_id: None,
            operation: operation.name.clone(),
        }));
    }
    match v {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

pub fn streaming_member(_model: &ServiceModel, _operation: &Operation) -> Option<String> {
    None
}

pub fn is_retryable(err: &ServiceError) -> bool {
    err.status >= 500 || is_throttling(err)
}

pub fn is_throttling(err: &ServiceError) -> bool {
    err.code.contains("Throttl")
}
