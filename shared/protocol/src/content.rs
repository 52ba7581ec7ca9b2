//! Resources and prompts: read-only content a server offers besides its tools.
//!
//! A provider ([`ResourceProvider`], [`PromptProvider`]) is plugged into the
//! [`McpServer`](crate::McpServer) like a tool group; the server then declares the matching
//! capability in `initialize` and answers `resources/list`, `resources/read`,
//! `resources/templates/list`, `prompts/list` and `prompts/get` with it.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::jsonrpc::{self, RpcError};

/// One resource as `resources/list` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    pub uri: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub mime_type: String,
    /// Size of the text in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// The text of one resource, as `resources/read` returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceText {
    pub uri: String,
    pub mime_type: String,
    pub text: String,
}

/// Why a provider refused a request; both are the caller's mistake (invalid params).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidArguments(String),
}

impl From<ContentError> for RpcError {
    fn from(e: ContentError) -> Self {
        RpcError::invalid_params(e.to_string())
    }
}

/// A source of resources.
pub trait ResourceProvider: Send + Sync {
    fn list(&self) -> Vec<ResourceDescriptor>;
    fn read(&self, uri: &str) -> Result<ResourceText, ContentError>;
}

/// One argument of a prompt.
#[derive(Debug, Clone, Serialize)]
pub struct PromptArgument {
    pub name: String,
    pub description: String,
    pub required: bool,
}

/// One prompt as `prompts/list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PromptDescriptor {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    pub arguments: Vec<PromptArgument>,
}

/// One message of a filled-in prompt.
#[derive(Debug, Clone)]
pub enum PromptMessage {
    /// Plain text from the user.
    Text(String),
    /// A resource embedded in a user message.
    Resource(ResourceText),
}

impl PromptMessage {
    fn to_value(&self) -> Value {
        let content = match self {
            PromptMessage::Text(text) => json!({"type": "text", "text": text}),
            PromptMessage::Resource(r) => json!({"type": "resource", "resource": r}),
        };
        json!({"role": "user", "content": content})
    }
}

/// A filled-in prompt.
#[derive(Debug, Clone)]
pub struct FilledPrompt {
    pub description: String,
    pub messages: Vec<PromptMessage>,
}

/// A source of prompts.
pub trait PromptProvider: Send + Sync {
    fn list(&self) -> Vec<PromptDescriptor>;
    /// Fills in a prompt; `arguments` holds the client's string arguments.
    fn get(&self, name: &str, arguments: &Map<String, Value>)
    -> Result<FilledPrompt, ContentError>;
}

pub(crate) fn list_resources(provider: &dyn ResourceProvider) -> Value {
    json!({"resources": provider.list()})
}

pub(crate) fn read_resource(
    provider: &dyn ResourceProvider,
    params: Option<Value>,
) -> Result<Value, RpcError> {
    let params = jsonrpc::params_object(params)?;
    let uri = params.get("uri").and_then(Value::as_str).ok_or_else(|| {
        RpcError::invalid_params("resources/read needs params.uri (a string from resources/list)")
    })?;
    let text = provider.read(uri)?;
    Ok(json!({"contents": [text]}))
}

pub(crate) fn list_prompts(provider: &dyn PromptProvider) -> Value {
    json!({"prompts": provider.list()})
}

pub(crate) fn get_prompt(
    provider: &dyn PromptProvider,
    params: Option<Value>,
) -> Result<Value, RpcError> {
    let mut params = jsonrpc::params_object(params)?;
    let name = match params.remove("name") {
        Some(Value::String(name)) => name,
        _ => {
            return Err(RpcError::invalid_params(
                "prompts/get needs params.name (a name from prompts/list)",
            ));
        }
    };
    let arguments = match params.remove("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(RpcError::invalid_params(
                "params.arguments must be an object of strings",
            ));
        }
    };
    let filled = provider.get(&name, &arguments)?;
    Ok(json!({
        "description": filled.description,
        "messages": filled.messages.iter().map(PromptMessage::to_value).collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One;

    impl ResourceProvider for One {
        fn list(&self) -> Vec<ResourceDescriptor> {
            vec![ResourceDescriptor {
                uri: "x://a".into(),
                name: "a".into(),
                title: None,
                description: Some("the a".into()),
                mime_type: "text/plain".into(),
                size: Some(1),
            }]
        }
        fn read(&self, uri: &str) -> Result<ResourceText, ContentError> {
            if uri != "x://a" {
                return Err(ContentError::NotFound(format!("no {uri}")));
            }
            Ok(ResourceText {
                uri: uri.into(),
                mime_type: "text/plain".into(),
                text: "A".into(),
            })
        }
    }

    impl PromptProvider for One {
        fn list(&self) -> Vec<PromptDescriptor> {
            Vec::new()
        }
        fn get(
            &self,
            name: &str,
            arguments: &Map<String, Value>,
        ) -> Result<FilledPrompt, ContentError> {
            let who = arguments.get("who").and_then(Value::as_str).unwrap_or("?");
            Ok(FilledPrompt {
                description: name.into(),
                messages: vec![PromptMessage::Text(format!("hi {who}"))],
            })
        }
    }

    #[test]
    fn list_uses_mcp_field_names() {
        let v = list_resources(&One);
        assert_eq!(v["resources"][0]["mimeType"], "text/plain");
        assert!(v["resources"][0].get("title").is_none());
    }

    #[test]
    fn read_wraps_contents_and_refuses_unknown() {
        let v = read_resource(&One, Some(json!({"uri": "x://a"}))).unwrap();
        assert_eq!(v["contents"][0]["text"], "A");
        let e = read_resource(&One, Some(json!({"uri": "x://b"}))).unwrap_err();
        assert_eq!(e.code, jsonrpc::INVALID_PARAMS);
        let e = read_resource(&One, Some(json!({}))).unwrap_err();
        assert!(e.message.contains("params.uri"));
    }

    #[test]
    fn get_prompt_passes_arguments() {
        let v = get_prompt(&One, Some(json!({"name": "p", "arguments": {"who": "me"}}))).unwrap();
        assert_eq!(v["messages"][0]["role"], "user");
        assert_eq!(v["messages"][0]["content"]["text"], "hi me");
        let e = get_prompt(&One, Some(json!({"name": "p", "arguments": [1]}))).unwrap_err();
        assert_eq!(e.code, jsonrpc::INVALID_PARAMS);
    }
}
