//! The CLI's high-level S3 commands: `s3 ls`, `s3 cp`, `s3 mb`, `s3 rb`, `s3 rm`,
//! `s3 presign`, built on the same API calls (and the same gate) as `s3api` commands, and
//! printing what the CLI prints. Other high-level commands are refused with the API command
//! to use instead.
//!
//! Times are printed in UTC (the CLI uses the machine's zone; servers run in UTC).

use std::path::PathBuf;

use aws_models::models;
use serde_json::{Map, Value, json};

use crate::call::{CallGate, CommandOutcome, RunError, RunSettings};
use crate::command::shell_words;
use crate::execute::{CallTarget, Executor};
use crate::params::LocalFiles;
use crate::params::MAX_LOCAL_FILE_BYTES;
use crate::policy::GateCall;
use crate::runner::Runner;

/// What to use instead of a high-level command this server does not run.
fn instead(service: &str, command: &str) -> String {
    match (service, command) {
        ("s3", "sync") => {
            "list with `aws s3api list-objects-v2` and copy each object with `aws s3 cp`".into()
        }
        ("s3", "mv") => "`aws s3 cp` then `aws s3 rm`".into(),
        ("s3", "website") => "`aws s3api put-bucket-website`".into(),
        ("configure", _) => "the server's own credentials and the `--region` option".into(),
        ("deploy", _) | ("cloudformation", _) => {
            "`aws cloudformation create-stack` / `update-stack` / `create-change-set`".into()
        }
        ("history", _) => "CloudTrail (`aws cloudtrail lookup-events`)".into(),
        _ => format!(
            "the API commands of `{service}` (see `aws {service} help` in the AWS CLI reference)"
        ),
    }
}

struct S3Url {
    bucket: String,
    key: String,
}

fn s3_url(text: &str) -> Option<S3Url> {
    let rest = text.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| S3Url {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

/// Options and positional words of a high-level command.
struct Words {
    positional: Vec<String>,
    flags: Vec<String>,
    values: Map<String, Value>,
}

const VALUE_OPTIONS: [&str; 8] = [
    "--region",
    "--expires-in",
    "--page-size",
    "--content-type",
    "--endpoint-url",
    "--output",
    "--profile",
    "--storage-class",
];
const FLAG_OPTIONS: [&str; 7] = [
    "--recursive",
    "--human-readable",
    "--summarize",
    "--force",
    "--dryrun",
    "--quiet",
    "--only-show-errors",
];

fn split_words(words: &[String], command: &str) -> Result<Words, RunError> {
    let mut out = Words {
        positional: Vec::new(),
        flags: Vec::new(),
        values: Map::new(),
    };
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        if let Some((name, value)) = w.split_once('=').filter(|(n, _)| n.starts_with("--")) {
            out.values
                .insert(name.to_owned(), Value::String(value.to_owned()));
        } else if VALUE_OPTIONS.contains(&w.as_str()) {
            let value = words.get(i + 1).ok_or_else(|| {
                RunError::validation(format!(
                    "{w} needs a value (aws s3 {command} ... {w} VALUE)"
                ))
            })?;
            out.values.insert(w.clone(), Value::String(value.clone()));
            i += 1;
        } else if FLAG_OPTIONS.contains(&w.as_str()) || w == "--no-progress" {
            out.flags.push(w.clone());
        } else if w.starts_with("--") {
            return Err(RunError::validation(format!(
                "Unknown options: {w}. Options this server supports for aws s3 {command}: {}",
                VALUE_OPTIONS
                    .iter()
                    .chain(FLAG_OPTIONS.iter())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        } else {
            out.positional.push(w.clone());
        }
        i += 1;
    }
    Ok(out)
}

impl Words {
    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
    fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }
}

struct Ctx<'a> {
    executor: &'a Executor,
    gate: &'a dyn CallGate,
    region: String,
    endpoint_url: Option<String>,
    command: &'a str,
}

impl Ctx<'_> {
    async fn call(&self, operation: &str, params: Value) -> Result<Map<String, Value>, RunError> {
        let model = models()
            .service("s3")
            .map_err(|e| RunError::validation(e.to_string()))?;
        let op = model
            .operation(operation)
            .ok_or_else(|| RunError::validation(format!("s3 has no operation {operation}")))?;
        let params = match params {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.gate
            .admit(&GateCall {
                cli_service: "s3",
                cli_operation: self.command,
                service: "s3",
                operation,
                region: &self.region,
                params: Some(&params),
            })
            .await
            .map_err(RunError::policy)?;
        crate::validate::validate(&model, operation, &params)
            .map_err(|r| RunError::validation(r.to_string()))?;
        let target = CallTarget {
            region: &self.region,
            endpoint_url: self.endpoint_url.as_deref(),
        };
        let answer = self
            .executor
            .call(&model, op, &params, &target)
            .await
            .map_err(RunError::from)?;
        let mut out = answer.output;
        if let Some((member, body)) = answer.stream {
            out.insert(
                member,
                Value::String(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    body,
                )),
            );
        }
        Ok(out)
    }
}

/// Runs `aws <service> ...` for a high-level service.
pub async fn run(
    runner: &Runner,
    line: &str,
    service: &str,
    settings: &RunSettings,
    gate: &dyn CallGate,
) -> Result<CommandOutcome, RunError> {
    let words = shell_words(line).map_err(RunError::from)?;
    let command = words.get(2).cloned().unwrap_or_default();
    if service != "s3"
        || !matches!(
            command.as_str(),
            "ls" | "cp" | "mb" | "rb" | "rm" | "presign"
        )
    {
        return Err(RunError {
            code: "UnsupportedCommand".into(),
            ..RunError::validation(format!(
                "'aws {service} {command}' is not run by this server (it waits, spawns processes or edits local configuration). Use {} instead. High-level commands available: aws s3 ls, cp, mb, rb, rm, presign.",
                instead(service, &command)
            ))
        });
    }
    let parsed = split_words(&words[3..], &command)?;
    let region = parsed
        .value("--region")
        .map(str::to_owned)
        .unwrap_or_else(|| settings.default_region.clone());
    let ctx = Ctx {
        executor: &runner.executor,
        gate,
        region: region.clone(),
        endpoint_url: parsed.value("--endpoint-url").map(str::to_owned),
        command: &command,
    };
    let text = match command.as_str() {
        "ls" => ls(&ctx, &parsed).await?,
        "mb" => mb(&ctx, &parsed).await?,
        "rb" => rb(&ctx, &parsed).await?,
        "rm" => rm(&ctx, &parsed).await?,
        "cp" => cp(&ctx, &parsed, &runner.files).await?,
        _ => presign(&ctx, &parsed, runner).await?,
    };
    Ok(CommandOutcome {
        service: "s3".into(),
        operation: command,
        region,
        output: Value::String(text),
        next_token: None,
        truncated: false,
        read_only_hint: None,
        notes: Vec::new(),
    })
}

fn one_url(parsed: &Words, command: &str) -> Result<S3Url, RunError> {
    let raw = parsed.positional.first().ok_or_else(|| {
        RunError::validation(format!(
            "aws s3 {command} needs an S3 URL: s3://bucket[/key]"
        ))
    })?;
    s3_url(raw).ok_or_else(|| {
        RunError::validation(format!("{raw} is not an S3 URL; write s3://bucket[/key]"))
    })
}

/// `2026-12-01 21:13:29` from an ISO 8601 time.
fn cli_time(iso: &str) -> String {
    let parsed = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC));
    match parsed {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("{iso:<19}"),
    }
}

/// The CLI's `human_readable_size`.
pub fn human_size(bytes: u64) -> String {
    const SUFFIXES: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes == 1 {
        return "1 Byte".into();
    }
    if bytes < 1024 {
        return format!("{bytes} Bytes");
    }
    let b = bytes as f64;
    for (i, suffix) in SUFFIXES.iter().enumerate() {
        let unit = 1024f64.powi(i as i32 + 2);
        if ((b / unit) * 1024.0).round() < 1024.0 {
            return format!("{:.1} {suffix}", 1024.0 * b / unit);
        }
    }
    format!("{bytes} Bytes")
}

async fn ls(ctx: &Ctx<'_>, parsed: &Words) -> Result<String, RunError> {
    let mut out = String::new();
    let human = parsed.flag("--human-readable");
    let size_str = |size: u64| {
        let s = if human {
            human_size(size)
        } else {
            size.to_string()
        };
        format!("{s:>10}")
    };
    let Some(raw) = parsed.positional.first() else {
        let mut token: Option<String> = None;
        loop {
            let mut params = json!({});
            if let Some(t) = &token {
                params["ContinuationToken"] = json!(t);
            }
            let page = ctx.call("ListBuckets", params).await?;
            for b in page
                .get("Buckets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.push_str(&format!(
                    "{} {}\n",
                    cli_time(b["CreationDate"].as_str().unwrap_or_default()),
                    b["Name"].as_str().unwrap_or_default()
                ));
            }
            token = page
                .get("ContinuationToken")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if token.is_none() {
                return Ok(out);
            }
        }
    };
    let url = s3_url(raw).ok_or_else(|| {
        RunError::validation(format!(
            "{raw} is not an S3 URL; write s3://bucket[/prefix]"
        ))
    })?;
    let recursive = parsed.flag("--recursive");
    let (mut objects, mut total) = (0u64, 0u64);
    let mut token: Option<String> = None;
    loop {
        let mut params = json!({"Bucket": url.bucket, "Prefix": url.key});
        if !recursive {
            params["Delimiter"] = json!("/");
        }
        if let Some(t) = &token {
            params["ContinuationToken"] = json!(t);
        }
        let page = ctx.call("ListObjectsV2", params).await?;
        for p in page
            .get("CommonPrefixes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let prefix = p["Prefix"].as_str().unwrap_or_default();
            let parts: Vec<&str> = prefix.split('/').collect();
            let name = parts
                .get(parts.len().saturating_sub(2))
                .copied()
                .unwrap_or_default();
            out.push_str(&format!("{:>30} {name}/\n", "PRE"));
        }
        for o in page
            .get("Contents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = o["Key"].as_str().unwrap_or_default();
            let size = o["Size"].as_u64().unwrap_or(0);
            objects += 1;
            total += size;
            let name = if recursive {
                key
            } else {
                key.rsplit('/').next().unwrap_or(key)
            };
            out.push_str(&format!(
                "{} {} {name}\n",
                cli_time(o["LastModified"].as_str().unwrap_or_default()),
                size_str(size)
            ));
        }
        token = page
            .get("NextContinuationToken")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    if parsed.flag("--summarize") {
        let size = if human {
            human_size(total)
        } else {
            total.to_string()
        };
        out.push_str(&format!(
            "\nTotal Objects: {objects}\n   Total Size: {size}\n"
        ));
    }
    Ok(out)
}

async fn mb(ctx: &Ctx<'_>, parsed: &Words) -> Result<String, RunError> {
    let url = one_url(parsed, "mb")?;
    let mut params = json!({"Bucket": url.bucket});
    if ctx.region != "us-east-1" {
        params["CreateBucketConfiguration"] = json!({"LocationConstraint": ctx.region});
    }
    ctx.call("CreateBucket", params)
        .await
        .map_err(|e| prefixed(e, &format!("make_bucket failed: s3://{}", url.bucket)))?;
    Ok(format!("make_bucket: {}\n", url.bucket))
}

fn prefixed(mut e: RunError, what: &str) -> RunError {
    e.message = format!("{what} {}", e.message);
    e
}

async fn delete_all(ctx: &Ctx<'_>, bucket: &str, prefix: &str) -> Result<String, RunError> {
    let mut out = String::new();
    loop {
        let page = ctx
            .call("ListObjectsV2", json!({"Bucket": bucket, "Prefix": prefix}))
            .await?;
        let keys: Vec<String> = page
            .get("Contents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| o["Key"].as_str().map(str::to_owned))
            .collect();
        if keys.is_empty() {
            return Ok(out);
        }
        for key in keys {
            ctx.call("DeleteObject", json!({"Bucket": bucket, "Key": key}))
                .await?;
            out.push_str(&format!("delete: s3://{bucket}/{key}\n"));
        }
    }
}

async fn rb(ctx: &Ctx<'_>, parsed: &Words) -> Result<String, RunError> {
    let url = one_url(parsed, "rb")?;
    if !url.key.is_empty() {
        return Err(RunError::validation(
            "aws s3 rb takes a bucket, not an object: s3://bucket",
        ));
    }
    let mut out = String::new();
    if parsed.flag("--force") {
        out.push_str(&delete_all(ctx, &url.bucket, "").await?);
    }
    ctx.call("DeleteBucket", json!({"Bucket": url.bucket}))
        .await
        .map_err(|e| prefixed(e, &format!("remove_bucket failed: s3://{}", url.bucket)))?;
    out.push_str(&format!("remove_bucket: {}\n", url.bucket));
    Ok(out)
}

async fn rm(ctx: &Ctx<'_>, parsed: &Words) -> Result<String, RunError> {
    let url = one_url(parsed, "rm")?;
    if parsed.flag("--recursive") {
        return delete_all(ctx, &url.bucket, &url.key).await;
    }
    if url.key.is_empty() {
        return Err(RunError::validation(
            "aws s3 rm needs an object (s3://bucket/key), or --recursive for a prefix",
        ));
    }
    ctx.call(
        "DeleteObject",
        json!({"Bucket": url.bucket, "Key": url.key}),
    )
    .await?;
    Ok(format!("delete: s3://{}/{}\n", url.bucket, url.key))
}

fn local_root(files: &LocalFiles) -> Result<PathBuf, RunError> {
    match files {
        LocalFiles::Within(root) => Ok(root.clone()),
        LocalFiles::Refused(why) => Err(RunError::validation(format!(
            "local files are not available here: {why}"
        ))),
    }
}

async fn cp(ctx: &Ctx<'_>, parsed: &Words, files: &LocalFiles) -> Result<String, RunError> {
    let [src, dst] = parsed.positional.as_slice() else {
        return Err(RunError::validation(
            "aws s3 cp takes a source and a destination: aws s3 cp <LocalPath|S3Uri> <LocalPath|S3Uri>",
        ));
    };
    if parsed.flag("--recursive") {
        return Err(RunError::validation(
            "aws s3 cp --recursive is not run by this server; copy objects one by one (list them with aws s3api list-objects-v2)",
        ));
    }
    match (s3_url(src), s3_url(dst)) {
        (Some(from), Some(to)) => {
            let key = if to.key.is_empty() || to.key.ends_with('/') {
                format!(
                    "{}{}",
                    to.key,
                    from.key.rsplit('/').next().unwrap_or(&from.key)
                )
            } else {
                to.key.clone()
            };
            ctx.call(
                "CopyObject",
                json!({"Bucket": to.bucket, "Key": key,
                       "CopySource": format!("{}/{}", from.bucket, from.key)}),
            )
            .await?;
            Ok(format!("copy: {src} to s3://{}/{key}\n", to.bucket))
        }
        (None, Some(to)) => {
            let root = local_root(files)?;
            let path = crate::params::confined_read_path(&root, src)
                .map_err(|e| RunError::validation(e.to_string()))?;
            let meta = std::fs::metadata(&path).map_err(|e| {
                RunError::validation(format!("The user-provided path {src} does not exist: {e}"))
            })?;
            if meta.len() > MAX_LOCAL_FILE_BYTES {
                return Err(RunError::validation(format!(
                    "{src} is {} bytes; files up to {MAX_LOCAL_FILE_BYTES} bytes can be uploaded",
                    meta.len()
                )));
            }
            let body = std::fs::read(&path)
                .map_err(|e| RunError::validation(format!("cannot read {src}: {e}")))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let key = if to.key.is_empty() || to.key.ends_with('/') {
                format!("{}{name}", to.key)
            } else {
                to.key.clone()
            };
            let mut params = json!({"Bucket": to.bucket, "Key": key,
                "Body": {"__bytes_base64__": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &body)}});
            if let Some(ct) = parsed.value("--content-type") {
                params["ContentType"] = json!(ct);
            } else if let Some(ct) = guess_content_type(&name) {
                params["ContentType"] = json!(ct);
            }
            ctx.call("PutObject", params).await?;
            Ok(format!(
                "upload: {} to s3://{}/{key}\n",
                display_local(&root, &path),
                to.bucket
            ))
        }
        (Some(from), None) => {
            if from.key.is_empty() {
                return Err(RunError::validation(
                    "aws s3 cp needs an object to download: s3://bucket/key",
                ));
            }
            let root = local_root(files)?;
            let name = from.key.rsplit('/').next().unwrap_or(&from.key).to_owned();
            let target = if dst.ends_with('/') || dst == "." {
                format!("{}/{name}", dst.trim_end_matches('/'))
            } else {
                dst.clone()
            };
            let path = crate::call::confined_path(&root, &target)?;
            let answer = ctx
                .call("GetObject", json!({"Bucket": from.bucket, "Key": from.key}))
                .await?;
            let body = answer
                .get("Body")
                .and_then(Value::as_str)
                .map(|b| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b)
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            std::fs::write(&path, body)
                .map_err(|e| RunError::validation(format!("cannot write {dst}: {e}")))?;
            Ok(format!(
                "download: {src} to {}\n",
                display_local(&root, &path)
            ))
        }
        (None, None) => Err(RunError::validation(
            "aws s3 cp needs at least one S3 URL (s3://bucket/key); to copy local files use your shell",
        )),
    }
}

/// A local path as the CLI prints it: its folder relative to the working directory, then
/// its name (`./notes.txt`, `docs/notes.txt`).
fn display_local(root: &std::path::Path, path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let parent = path.parent().unwrap_or(path);
    match parent.strip_prefix(&real_root) {
        Ok(rel) if rel.as_os_str().is_empty() => format!("./{name}"),
        Ok(rel) => format!("{}/{name}", rel.display()),
        Err(_) => path.display().to_string(),
    }
}

/// The content type the CLI would guess from a file name (Python's `mimetypes`, common cases).
fn guess_content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "yaml" | "yml" => "application/yaml",
        "md" => "text/markdown",
        _ => return None,
    })
}

async fn presign(ctx: &Ctx<'_>, parsed: &Words, runner: &Runner) -> Result<String, RunError> {
    let url = one_url(parsed, "presign")?;
    let expires: u64 = match parsed.value("--expires-in") {
        Some(v) => v.parse().map_err(|_| {
            RunError::validation(format!("--expires-in {v} is not a number of seconds"))
        })?,
        // The CLI's default is an hour; this server signs for at most 15 minutes.
        None => crate::presign::MAX_EXPIRES_IN,
    };
    ctx.gate
        .admit(&GateCall {
            cli_service: "s3",
            cli_operation: "presign",
            service: "s3",
            operation: "GetObject",
            region: &ctx.region,
            params: None,
        })
        .await
        .map_err(RunError::policy)?;
    runner
        .presign_get(
            &url.bucket,
            &url.key,
            expires,
            &ctx.region,
            ctx.endpoint_url.as_deref(),
        )
        .await
        .map(|u| format!("{u}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_the_cli() {
        assert_eq!(human_size(1), "1 Byte");
        assert_eq!(human_size(1000), "1000 Bytes");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(1024 * 1024 * 3), "3.0 MiB");
    }

    #[test]
    fn times_print_like_the_cli() {
        assert_eq!(cli_time("2026-12-01T21:13:29+00:00"), "2026-12-01 21:13:29");
        assert_eq!(
            cli_time("2026-12-01T21:13:29.5+02:00"),
            "2026-12-01 19:13:29"
        );
    }

    #[test]
    fn s3_urls_split_bucket_and_key() {
        let u = s3_url("s3://b/dir/k.txt").expect("url");
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("b", "dir/k.txt"));
        assert!(s3_url("s3://").is_none());
        assert!(s3_url("/tmp/x").is_none());
    }
}
