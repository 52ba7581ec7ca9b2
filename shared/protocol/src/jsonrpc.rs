//! JSON-RPC 2.0 message shapes.
//!
//! Wire rules this module enforces:
//! - every message is an object with `"jsonrpc": "2.0"`;
//! - a request has a `method` and an `id` that is a string or a number (never null);
//! - a notification has a `method` and no `id`;
//! - a response has an `id` and exactly one of `result` or `error`.

use serde_json::{Map, Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(PARSE_ERROR, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(INVALID_REQUEST, message)
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, message)
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    fn to_value(&self) -> Value {
        let mut err = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            err["data"] = data.clone();
        }
        err
    }
}

/// A success response.
pub fn response(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// An error response. `id` is `null` when the request's id could not be read.
pub fn error_response(id: &Value, error: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error.to_value()})
}

/// A notification sent by the server.
pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// One incoming message, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    /// A client's answer to a server request (e.g. elicitation): its `result`, or its
    /// `error` object.
    Response {
        id: Value,
        outcome: Result<Value, Value>,
    },
    /// Not a valid JSON-RPC 2.0 message; the error response to send back.
    Invalid { id: Value, error: RpcError },
}

impl Incoming {
    pub fn classify(value: Value) -> Incoming {
        let Value::Object(mut obj) = value else {
            return invalid(Value::Null, "a JSON-RPC message must be a JSON object");
        };
        let id = obj.remove("id");
        let id_for_error = match &id {
            Some(v @ Value::String(_)) => v.clone(),
            Some(Value::Number(n)) if is_exact_integer(n) => Value::Number(n.clone()),
            _ => Value::Null,
        };
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return invalid(id_for_error, "\"jsonrpc\" must be \"2.0\"");
        }
        match obj.remove("method") {
            Some(Value::String(method)) => {
                let params = obj.remove("params");
                if let Some(p) = &params
                    && !(p.is_object() || p.is_array())
                {
                    return invalid(id_for_error, "\"params\" must be an object or an array");
                }
                match id {
                    None => Incoming::Notification { method, params },
                    Some(id @ Value::String(_)) => Incoming::Request { id, method, params },
                    Some(Value::Number(n)) if is_exact_integer(&n) => Incoming::Request {
                        id: Value::Number(n),
                        method,
                        params,
                    },
                    Some(Value::Number(_)) => invalid(Value::Null, ID_RULE),
                    Some(_) => invalid(Value::Null, ID_RULE),
                }
            }
            Some(_) => invalid(id_for_error, "\"method\" must be a string"),
            None => {
                let result = obj.remove("result");
                let error = obj.remove("error");
                match (id, result, error) {
                    (Some(id), Some(result), None) => Incoming::Response {
                        id,
                        outcome: Ok(result),
                    },
                    (Some(id), None, Some(error)) => Incoming::Response {
                        id,
                        outcome: Err(error),
                    },
                    _ => invalid(
                        id_for_error,
                        "a message needs a \"method\" (request or notification) or an \"id\" with \"result\" or \"error\" (response)",
                    ),
                }
            }
        }
    }
}

const ID_RULE: &str = "\"id\" must be a string or an integer between -2^63 and 2^64-1 \
    (written without a fraction or exponent)";

/// Whether a JSON number is an integer this server can echo back exactly: `1e3`, `1.0` and
/// integers beyond 64 bits are parsed as floats and would come back rewritten.
fn is_exact_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64()
}

fn invalid(id: Value, message: &str) -> Incoming {
    Incoming::Invalid {
        id,
        error: RpcError::invalid_request(message),
    }
}

/// Reads `params` as an object; a missing `params` is an empty object.
pub fn params_object(params: Option<Value>) -> Result<Map<String, Value>, RpcError> {
    match params {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(RpcError::invalid_params("params must be an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_four_shapes() {
        assert!(matches!(
            Incoming::classify(json!({"jsonrpc":"2.0","id":1,"method":"ping"})),
            Incoming::Request { method, .. } if method == "ping"
        ));
        assert!(matches!(
            Incoming::classify(json!({"jsonrpc":"2.0","method":"notifications/initialized"})),
            Incoming::Notification { .. }
        ));
        assert!(matches!(
            Incoming::classify(json!({"jsonrpc":"2.0","id":"a","result":{}})),
            Incoming::Response { .. }
        ));
        assert!(matches!(
            Incoming::classify(json!({"jsonrpc":"2.0","id":"a"})),
            Incoming::Invalid { .. }
        ));
    }

    #[test]
    fn rejects_wrong_version_null_id_and_scalar_params() {
        for bad in [
            json!({"jsonrpc":"1.0","id":1,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":null,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":1,"method":"ping","params":3}),
            json!({"jsonrpc":"2.0","id":1,"method":5}),
            json!([1, 2]),
            json!("ping"),
        ] {
            match Incoming::classify(bad.clone()) {
                Incoming::Invalid { error, .. } => assert_eq!(error.code, INVALID_REQUEST, "{bad}"),
                other => panic!("{bad} classified as {other:?}"),
            }
        }
    }

    #[test]
    fn invalid_keeps_a_readable_id() {
        match Incoming::classify(json!({"jsonrpc":"1.0","id":9,"method":"ping"})) {
            Incoming::Invalid { id, .. } => assert_eq!(id, json!(9)),
            other => panic!("{other:?}"),
        }
    }
}
