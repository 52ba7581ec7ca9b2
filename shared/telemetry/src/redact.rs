//! Secrets out of audit records: the name rule, pre-signed URL credentials, credential-shaped
//! keys in text, and a hook ([`ModelRedactor`]) through which the server adds what only the
//! service models know (members marked `sensitive`, the arguments of a CLI command line).
//!
//! Everything redacted becomes [`MARKER`]; the rest of a value stays readable.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::{Map, Value};

/// What a secret is replaced with.
pub const MARKER: &str = "<redacted>";

/// Redaction that needs the service models, supplied by the server (this crate knows none).
pub trait ModelRedactor: Send + Sync {
    /// The command line with the values of sensitive arguments replaced by [`MARKER`];
    /// `None` when the line does not parse as an API command.
    fn cli_command(&self, line: &str) -> Option<String>;
    /// Replaces, in place, every member of an operation's input the model marks sensitive.
    fn api_params(&self, service: &str, operation: &str, params: &mut Value);
    /// The same for an operation's output (a `call_aws` result's `output`).
    fn api_output(&self, service: &str, operation: &str, output: &mut Value);
}

/// Normalised for the name rule: lower case, letters and digits only.
fn squash(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Names that hold references to secrets, not secrets (`SecretId`, `PasswordLength`).
const REFERENCE_SUFFIXES: [&str; 14] = [
    "id", "ids", "arn", "arns", "name", "names", "type", "types", "length", "count", "policy",
    "version", "stage", "list",
];
/// Tokens that page or deduplicate, not authenticate.
const HARMLESS_TOKENS: [&str; 8] = [
    "nexttoken",
    "clienttoken",
    "paginationtoken",
    "continuationtoken",
    "startingtoken",
    "idempotencytoken",
    "pagetoken",
    "requesttoken",
];
const SECRET_WORDS: [&str; 10] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "privatekey",
    "credential",
    "signature",
    "authorization",
    "apikey",
];

/// The name rule: a parameter, option or key whose name says it holds a secret
/// (`--secret-string`, `MasterUserPassword`, `aws_session_token`, `PrivateKey`), unless the
/// name ends in a reference (`SecretId`, `KeyName`) or is a paging or idempotency token.
pub fn is_secret_name(name: &str) -> bool {
    let n = squash(name);
    if !SECRET_WORDS.iter().any(|w| n.contains(w)) {
        return false;
    }
    if HARMLESS_TOKENS.iter().any(|t| n.ends_with(t)) {
        return false;
    }
    // `--secret-string`'s suffix is not a reference; only whole-word suffixes count.
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(split_camel)
        .collect();
    match words.last() {
        Some(last) if words.len() > 1 => !REFERENCE_SUFFIXES.contains(&last.as_str()),
        _ => true,
    }
}

/// `SecretId` → `secret`, `id`.
fn split_camel(part: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for c in part.chars() {
        if c.is_ascii_uppercase() && prev_lower || out.is_empty() {
            out.push(String::new());
        }
        if let Some(w) = out.last_mut() {
            w.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    out
}

/// Query parameters of pre-signed and signed URLs that carry credentials.
static URL_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)([?&](?:amp;)?(?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|x-amz-security-token)=)[^&\s'\x22#<>\\]*",
    )
    .unwrap_or_else(|_| unreachable_regex())
});

/// `key = value` / `"key": "value"` pairs whose key names a credential, inside any text.
static KEY_VALUE_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(\\?["']?(?:aws_secret_access_key|aws_session_token|aws_security_token|secret_access_key|session_token|secretaccesskey|sessiontoken|secretkey)\\?["']?\s*[:=]\s*\\?["']?)([^"'\\\s,}&]+)"#,
    )
    .unwrap_or_else(|_| unreachable_regex())
});

/// `--secret-option value`, `--secret-option=value`, `--secret-option 'two words'`.
static OPTION_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(--[A-Za-z0-9-]+)(=|\s+)('[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"]+)"#)
        .unwrap_or_else(|_| unreachable_regex())
});

/// A secret-named key given a string literal in code: `password = "x"`, `"Password": 'x'`,
/// `SecretString="x"`.
static LITERAL_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z_][A-Za-z0-9_-]*)(["']?\s*[:=]\s*)('[^'\n]*'|"[^"\n]*")"#)
        .unwrap_or_else(|_| unreachable_regex())
});

/// The patterns above are fixed and valid; a regex that never matches keeps this total.
fn unreachable_regex() -> Regex {
    Regex::new("[^\\s\\S]").unwrap_or_else(|_| unreachable!("a constant pattern"))
}

/// Replaces URL credentials and credential-keyed values anywhere in `text`.
pub fn redact_text(text: &str) -> String {
    let step = URL_SECRET.replace_all(text, |c: &Captures| format!("{}{MARKER}", &c[1]));
    KEY_VALUE_SECRET
        .replace_all(&step, |c: &Captures| format!("{}{MARKER}", &c[1]))
        .into_owned()
}

/// A command line by the name rule alone: the value of every secret-named `--option`.
pub fn redact_options(line: &str) -> String {
    let out = OPTION_SECRET.replace_all(line, |c: &Captures| {
        if is_secret_name(&c[1]) && !c[3].starts_with("--") {
            format!("{}{}{MARKER}", &c[1], &c[2])
        } else {
            c[0].to_owned()
        }
    });
    redact_text(&out)
}

/// Script code: secret-named options in command strings and secret-named keys given string
/// literals.
pub fn redact_code(code: &str) -> String {
    let out = redact_options(code);
    LITERAL_SECRET
        .replace_all(&out, |c: &Captures| {
            if is_secret_name(&c[1]) {
                let quote = &c[3][..1];
                format!("{}{}{quote}{MARKER}{quote}", &c[1], &c[2])
            } else {
                c[0].to_owned()
            }
        })
        .into_owned()
}

/// Redacts a JSON value in place: secret-named keys, `cli_command` lines, script `code`, the
/// API params of script calls, and any string's URL credentials.
pub fn redact_value(value: &mut Value, models: Option<&dyn ModelRedactor>) {
    match value {
        Value::String(s) => *s = redact_string(s, models),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, models)),
        Value::Object(map) => redact_object(map, models),
        _ => {}
    }
}

/// A string that may itself be JSON (a tool's text answer): redacted as JSON then.
fn redact_string(s: &str, models: Option<&dyn ModelRedactor>) -> String {
    let trimmed = s.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut inner) = serde_json::from_str::<Value>(s)
    {
        redact_value(&mut inner, models);
        return inner.to_string();
    }
    redact_text(s)
}

fn redact_object(map: &mut Map<String, Value>, models: Option<&dyn ModelRedactor>) {
    if let (Some(Value::String(service)), Some(Value::String(operation)), Some(m)) =
        (map.get("service"), map.get("operation"), models)
    {
        let (service, operation) = (service.clone(), operation.clone());
        if let Some(params) = map.get_mut("params") {
            m.api_params(&service, &operation, params);
        }
        if let Some(output) = map.get_mut("output") {
            m.api_output(&service, &operation, output);
        }
    }
    for (key, v) in map.iter_mut() {
        match (key.as_str(), &mut *v) {
            (_, v) if is_secret_name(key) && !v.is_null() => {
                *v = Value::String(MARKER.into());
            }
            ("cli_command" | "command", Value::String(line)) => {
                *line = redact_command(line, models);
            }
            ("cli_command" | "commands", Value::Array(lines)) => {
                for line in lines.iter_mut() {
                    if let Value::String(l) = line {
                        *l = redact_command(l, models);
                    }
                }
            }
            ("code", Value::String(code)) => *code = redact_code(code),
            (_, v) => redact_value(v, models),
        }
    }
}

/// A CLI command line: by the model when it parses, else by the name rule.
pub fn redact_command(line: &str, models: Option<&dyn ModelRedactor>) -> String {
    let by_model = models.and_then(|m| m.cli_command(line));
    // The name rule runs too: it catches what a model does not mark (and unparsable lines).
    redact_options(&by_model.unwrap_or_else(|| line.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_name_rule_knows_secrets_from_references_and_paging_tokens() {
        for secret in [
            "--secret-string",
            "--secret-binary",
            "--password",
            "--master-user-password",
            "--private-key",
            "SecretAccessKey",
            "SessionToken",
            "aws_session_token",
            "ClientSecret",
            "credentials",
            "X-Amz-Signature",
        ] {
            assert!(is_secret_name(secret), "{secret} is secret");
        }
        for plain in [
            "--secret-id",
            "SecretArn",
            "--name",
            "NextToken",
            "--client-token",
            "--starting-token",
            "PasswordLength",
            "--bucket",
            "KeyName",
            "SecretName",
        ] {
            assert!(!is_secret_name(plain), "{plain} is not secret");
        }
    }

    #[test]
    fn presigned_url_keeps_its_path_and_plain_query_but_not_its_credentials() {
        let url = "https://b.s3.amazonaws.com/k.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261203T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FQoTOKEN&X-Amz-Signature=abcdef0123";
        let out = redact_text(url);
        assert!(out.starts_with("https://b.s3.amazonaws.com/k.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&X-Amz-Date=20261203T000000Z&X-Amz-Expires=900"));
        assert!(!out.contains("abcdef0123"));
        assert!(!out.contains("FQoTOKEN"));
        assert!(!out.contains("AKIAX"));
        let legacy = redact_text("http://h/o?AWSAccessKeyId=AKIA1&Expires=1&Signature=s%2Bg");
        assert_eq!(
            legacy,
            "http://h/o?AWSAccessKeyId=<redacted>&Expires=1&Signature=<redacted>"
        );
    }

    #[test]
    fn credential_keys_in_text_and_json_are_redacted() {
        let ini = "aws_access_key_id = AKIA1\naws_secret_access_key = wJalrSECRET\n";
        let out = redact_text(ini);
        assert!(out.contains("AKIA1"));
        assert!(!out.contains("wJalrSECRET"));
        let mut v = json!({"Credentials": {"AccessKeyId": "AKIA1", "SecretAccessKey": "s", "SessionToken": "t"}});
        redact_value(&mut v, None);
        assert_eq!(v["Credentials"], json!(MARKER));
        let mut v = json!({"text": "{\"SecretAccessKey\":\"s3cr3t\",\"Expiration\":\"x\"}"});
        redact_value(&mut v, None);
        let text = v["text"].as_str().unwrap_or_default();
        assert!(
            !text.contains("s3cr3t") && text.contains("Expiration"),
            "{text}"
        );
    }

    #[test]
    fn unparsable_lines_lose_secret_option_values_by_name() {
        let line = "aws nosuch thing --password 'p a s s' --name n --secret-string=xyz --token abc";
        assert_eq!(
            redact_command(line, None),
            "aws nosuch thing --password <redacted> --name n --secret-string=<redacted> --token <redacted>"
        );
    }

    #[test]
    fn script_code_loses_secret_literals_and_secret_options() {
        let code = "r = call_aws(\"aws secretsmanager create-secret --name a --secret-string S1\")\nclient.create_secret(Name='a', SecretString='S2')\nd = {\"Password\": \"S3\", \"Name\": \"keep\"}\n";
        let out = redact_code(code);
        for s in ["S1", "S2", "S3"] {
            assert!(!out.contains(s), "{s} left in {out}");
        }
        assert!(out.contains("Name='a'") && out.contains("keep"));
    }
}
