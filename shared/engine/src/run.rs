//! Running one AWS CLI command line end to end: parse, build, validate, admit (policy),
//! choose the Region, send (walking pages when the CLI would), write streaming bodies to
//! their outfile, apply `--query`.
//!
//! Policy lives with the caller: the runner asks a [`CallGate`] before every API call, so
//! `call_aws`, high-level commands and scripts all pass the same checks.

use std::path::PathBuf;

use aws_models::{ServiceDocs, ServiceModel, models};
use serde_json::{Map, Value};

use crate::command::{CommandError, ParsedCommand, parse_command};
use crate::execute::{CallError, CallTarget};
use crate::paginate::{Paginator, PagingArgs, paginate};
use crate::params::{CallOptions, LocalFiles, build_call_with};

// The public paths `aws_engine::run::*` name the vocabulary and the runner where they
// lived before moving below `highlevel`, `wait` and `staging`.
pub use crate::call::{
    CallGate, CallNames, CommandOutcome, FailureKind, OpenGate, RunError, RunSettings,
    confined_path, region_in_arns,
};
pub use crate::policy::GateCall;
pub use crate::runner::Runner;

/// Services whose API exists in one Region only.
fn pinned_region(service: &str) -> Option<&'static str> {
    match service {
        "route53domains" => Some("us-east-1"),
        "devicefarm" => Some("us-west-2"),
        _ => None,
    }
}

// The runner's dispatch, kept above `highlevel` and `wait`: they take a runner but never
// hand a command back to it.
impl Runner {
    /// Runs one command line.
    pub async fn run(
        &self,
        line: &str,
        settings: &RunSettings,
        gate: &dyn CallGate,
    ) -> Result<CommandOutcome, RunError> {
        let words = crate::command::shell_words(line)?;
        if let Some(profile) = profile_option(&words) {
            let runner = Runner {
                executor: self
                    .executor
                    .with_profile(&profile)
                    .map_err(RunError::from)?,
                own: self.own.clone(),
                files: self.files.clone(),
                staging: self.staging.clone(),
            };
            return Box::pin(runner.run_with_files(line, &words, settings, gate)).await;
        }
        self.run_with_files(line, &words, settings, gate).await
    }

    /// Runs a command, staging its local files first where the server has none.
    async fn run_with_files(
        &self,
        line: &str,
        words: &[String],
        settings: &RunSettings,
        gate: &dyn CallGate,
    ) -> Result<CommandOutcome, RunError> {
        let (Some(staging), Some(owner), LocalFiles::Refused(_)) =
            (&self.staging, &settings.owner, &self.files)
        else {
            return self.run_here(line, settings, gate).await;
        };
        let names = crate::staging::local_references(words);
        let writes_files = crate::staging::may_write_files(line, words);
        if names.is_empty() && !writes_files {
            return self.run_here(line, settings, gate).await;
        }
        let dir = tempfile::tempdir()
            .map_err(|e| RunError::validation(format!("cannot make a staging folder: {e}")))?;
        let prefix = crate::staging::owner_prefix(owner);
        let fetched =
            crate::staging::fetch(&self.own, staging, &prefix, &names, dir.path()).await?;
        let local = Runner {
            executor: self.executor.clone(),
            own: self.own.clone(),
            files: LocalFiles::Within(dir.path().to_path_buf()),
            staging: None,
        };
        let mut outcome = local.run_here(line, settings, gate).await?;
        let written: Vec<PathBuf> = crate::staging::files_in(dir.path())
            .into_iter()
            .filter(|p| !fetched.contains(p))
            .collect();
        if !written.is_empty() {
            let notes =
                crate::staging::publish(&self.own, staging, &prefix, dir.path(), &written).await?;
            outcome.notes.extend(notes);
        }
        Ok(outcome)
    }

    /// Runs one command line with this runner's own file access.
    async fn run_here(
        &self,
        line: &str,
        settings: &RunSettings,
        gate: &dyn CallGate,
    ) -> Result<CommandOutcome, RunError> {
        if crate::wait::is_wait_command(line) {
            return crate::wait::run_wait(self, line, settings, gate, &|step: String| {
                tracing::debug!(%step, "waiting");
            })
            .await;
        }
        let parsed = match parse_command(line) {
            Err(CommandError::HighLevel(service)) => {
                return crate::highlevel::run(self, line, &service, settings, gate).await;
            }
            other => other?,
        };
        if let Some(profile) = &parsed.globals.profile {
            let words = crate::command::shell_words(line)?;
            if profile_option(&words).as_ref() != Some(profile) {
                return Err(RunError::validation(format!(
                    "write the option in full, as --profile {profile}"
                )));
            }
        }
        if parsed.help {
            return help(&parsed);
        }
        let options = CallOptions {
            local_files: self.files.clone(),
        };
        let call = build_call_with(&parsed, &options)?;
        let model = models()
            .service(&call.service)
            .map_err(|e| RunError::validation(e.to_string()))?;
        let operation = model.operation(&call.operation).ok_or_else(|| {
            RunError::validation(format!(
                "{} has no operation {}",
                call.service, call.operation
            ))
        })?;
        crate::validate::validate(&model, &call.operation, &call.params)
            .map_err(|r| RunError::validation(r.to_string()))?;
        if let Some(query) = &parsed.globals.query {
            // Compiled before anything is sent, so a bad query costs no call.
            crate::query::compile(query).map_err(|e| {
                RunError::validation(format!(
                    "Bad value for --query {}: {e}",
                    crate::text::clip(query, 200)
                ))
            })?;
        }
        let region = choose_region(&parsed, &call.params, &settings.default_region);
        gate.admit(&GateCall {
            cli_service: &parsed.cli_service,
            cli_operation: &parsed.cli_operation,
            service: &call.service,
            operation: &call.operation,
            region: &region,
            params: Some(&call.params),
        })
        .await
        .map_err(|m| {
            RunError::policy(m).with_call(&call.service, &call.operation, Some(&region))
        })?;
        if parsed.outfile.is_some() {
            // Refuse before sending, not after the body arrived.
            self.outfile_path(parsed.outfile.as_deref().unwrap_or_default())
                .map_err(|e| e.with_call(&call.service, &call.operation, Some(&region)))?;
        }
        let target = CallTarget {
            region: &region,
            endpoint_url: parsed.globals.endpoint_url.as_deref(),
        };
        let wrap = |e: CallError| {
            RunError::from(e).with_call(&call.service, &call.operation, Some(&region))
        };
        let paginator = if parsed.globals.no_paginate {
            None
        } else {
            Paginator::of(&model, &call.operation).filter(|p| {
                // Giving the operation's own token or limit turns the CLI's paging off.
                !p.input_tokens
                    .iter()
                    .chain(p.limit_key.iter())
                    .any(|k| call.params.contains_key(k))
            })
        };
        let (output, next_token, truncated) = match paginator {
            Some(p) => {
                let mut budget = settings.budget;
                budget.max_items = settings.max_results;
                let paged = paginate(
                    &self.executor,
                    &model,
                    operation,
                    &p,
                    &call.params,
                    &target,
                    &PagingArgs::from_map(&call.paging),
                    &budget,
                )
                .await
                .map_err(wrap)?;
                (paged.output, paged.next_token, paged.truncated_by_budget)
            }
            None => {
                let answer = self
                    .executor
                    .call(&model, operation, &call.params, &target)
                    .await
                    .map_err(wrap)?;
                if let (Some(out), Some((_, body))) = (&parsed.outfile, &answer.stream) {
                    self.write_outfile(out, body)
                        .map_err(|e| e.with_call(&call.service, &call.operation, Some(&region)))?;
                }
                (answer.output, None, false)
            }
        };
        let mut value = Value::Object(output);
        if let Some(query) = &parsed.globals.query {
            value = apply_query(query, value)?;
        }
        let mut notes = Vec::new();
        if let Some(fmt) = parsed.globals.output.as_deref().filter(|f| *f != "json") {
            notes.push(format!(
                "--output {fmt} is ignored: API commands answer with the JSON the CLI prints"
            ));
        }
        Ok(CommandOutcome {
            service: call.service.clone(),
            operation: call.operation.clone(),
            region,
            output: value,
            next_token,
            truncated,
            read_only_hint: None,
            notes,
        })
    }

    /// Where an outfile may be written: inside the working directory only.
    fn outfile_path(&self, raw: &str) -> Result<PathBuf, RunError> {
        let root = match &self.files {
            LocalFiles::Refused(why) => {
                return Err(RunError::validation(format!(
                    "cannot write the output file {raw}: {why}"
                )));
            }
            LocalFiles::Within(root) => root,
        };
        confined_path(root, raw)
    }

    fn write_outfile(&self, raw: &str, body: &[u8]) -> Result<(), RunError> {
        let path = self.outfile_path(raw)?;
        std::fs::write(&path, body)
            .map_err(|e| RunError::validation(format!("cannot write {raw}: {e}")))
    }
}

fn choose_region(parsed: &ParsedCommand, params: &Map<String, Value>, default: &str) -> String {
    if let Some(pinned) = pinned_region(&parsed.service) {
        return pinned.to_owned();
    }
    parsed
        .globals
        .region
        .clone()
        .or_else(|| region_in_arns(&Value::Object(params.clone())))
        .unwrap_or_else(|| default.to_owned())
}

/// `--query` on the merged output.
pub fn apply_query(query: &str, value: Value) -> Result<Value, RunError> {
    let compiled = crate::query::compile(query).map_err(|e| {
        RunError::validation(format!(
            "Bad value for --query {}: {e}",
            crate::text::clip(query, 200)
        ))
    })?;
    let found = compiled
        .search(value)
        .map_err(|e| RunError::validation(format!("--query {query}: {e}")))?;
    serde_json::to_value(&*found).map_err(|e| RunError::validation(e.to_string()))
}

/// `aws <service> <operation> help`: the operation's description and parameters.
fn help(parsed: &ParsedCommand) -> Result<CommandOutcome, RunError> {
    let model = models()
        .service(&parsed.service)
        .map_err(|e| RunError::validation(e.to_string()))?;
    // Without documentation the page still lists the parameters.
    let docs = models().docs(&parsed.service).unwrap_or_default();
    let text = help_text(&model, &docs, parsed).unwrap_or_default();
    Ok(CommandOutcome {
        service: parsed.service.clone(),
        operation: parsed.operation.clone(),
        region: String::new(),
        output: Value::String(text),
        next_token: None,
        truncated: false,
        read_only_hint: Some(true),
        notes: Vec::new(),
    })
}

fn help_text(model: &ServiceModel, docs: &ServiceDocs, parsed: &ParsedCommand) -> Option<String> {
    let op = model.operation(&parsed.operation)?;
    let mut out = format!(
        "aws {} {}\n\n{}\n",
        parsed.cli_service,
        parsed.cli_operation,
        plain_text(docs.operation(&op.name).unwrap_or("(no description)"))
    );
    let input = op
        .input
        .as_ref()
        .and_then(|r| Some((r.shape.as_str(), model.shape(&r.shape)?)));
    out.push_str("\nParameters:\n");
    match input {
        Some((input_name, shape)) if !shape.members.is_empty() => {
            for (name, member) in &shape.members {
                let target = model.shape(&member.shape);
                let kind = target.map(|s| s.kind.as_str()).unwrap_or("string");
                let required = if shape.required.contains(name) {
                    " (required)"
                } else {
                    ""
                };
                let doc = docs
                    .member(input_name, name, &member.shape)
                    .map(plain_text)
                    .map(|d| first_sentence(&d))
                    .unwrap_or_default();
                let mut line = format!(
                    "  --{} ({kind}){required}",
                    crate::names::xform_name(name, '-')
                );
                if let Some(values) = target.and_then(|t| t.enum_values.as_ref()) {
                    line.push_str(&format!(" one of: {}", values.join(", ")));
                }
                if !doc.is_empty() {
                    line.push_str(&format!(": {doc}"));
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
        _ => out.push_str("  (none)\n"),
    }
    if model.paginators.contains_key(&parsed.operation) {
        out.push_str(
            "\nPaginated: pages are merged; --max-items, --page-size and --starting-token apply.\n",
        );
    }
    Some(out)
}

/// Documentation HTML to plain text.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(i) if i < 300 => text[..=i].to_owned(),
        _ if text.len() > 300 => {
            let mut end = 300;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}...", &text[..end])
        }
        _ => text.to_owned(),
    }
}

/// `--profile NAME` / `--profile=NAME` among a command's words.
fn profile_option(words: &[String]) -> Option<String> {
    words.iter().enumerate().find_map(|(i, w)| {
        if w == "--profile" {
            words.get(i + 1).cloned()
        } else {
            w.strip_prefix("--profile=").map(str::to_owned)
        }
    })
}

/// Whether a command line only reads (safe to run again from the start). Unparsable
/// lines count as reads: they fail before anything is sent.
pub fn is_read_only_command(line: &str) -> bool {
    match parse_command(line) {
        Ok(parsed) => {
            parsed.help || crate::policy::is_read_only(&parsed.service, &parsed.operation)
        }
        Err(CommandError::HighLevel(service)) => {
            let words = crate::command::shell_words(line).unwrap_or_default();
            service == "s3" && matches!(words.get(2).map(String::as_str), Some("ls" | "presign"))
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn help_text_names_parameters() {
        let parsed = parse_command("aws dynamodb get-item help").expect("parses");
        let model = models().service("dynamodb").expect("model");
        let docs = models().docs("dynamodb").expect("docs");
        let text = help_text(&model, &docs, &parsed).expect("help");
        assert!(text.contains("--table-name (string) (required)"), "{text}");
        assert!(text.contains("--key (map) (required)"), "{text}");
        // The operation's description and each parameter's first sentence come from the
        // documentation pack.
        assert!(text.contains("The GetItem operation returns"), "{text}");
        assert!(
            text.contains("--table-name (string) (required): The name of the table"),
            "{text}"
        );
        let without_docs = help_text(&model, &ServiceDocs::default(), &parsed).expect("help");
        assert!(without_docs.contains("(no description)"), "{without_docs}");
    }

    #[test]
    fn queries_apply_to_the_output() {
        let v = apply_query(
            "Buckets[].Name",
            json!({"Buckets": [{"Name": "a"}, {"Name": "b"}]}),
        )
        .expect("query");
        assert_eq!(v, json!(["a", "b"]));
        assert!(apply_query("Buckets[", json!({})).is_err());
    }
}
