//! Files staged through S3 for a server that has no local disk of the caller's (Lambda).
//!
//! The caller uploads a file with a pre-signed URL into the staging bucket, under its own
//! prefix; a command then names it as a local path (`fileb://code.zip`,
//! `aws s3 cp report.csv s3://b/k`). Before the command runs, every such path is fetched from
//! `s3://<staging bucket>/<caller prefix>/<path>` into a private temporary folder, and the
//! command runs with that folder as its working directory; files the command writes there
//! (outfiles, `s3 cp` downloads) are uploaded back under the same prefix and returned as
//! pre-signed download URLs. Limits (the seed's): 125 MB per file, 4 GB per command.

use std::path::{Component, Path, PathBuf};

use aws_models::models;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::call::RunError;
use crate::execute::{CallError, CallTarget, Executor};
use crate::params::MAX_LOCAL_FILE_BYTES;
use crate::presign::{PresignMethod, PresignRequest};

/// Most bytes staged for one command.
pub const MAX_STAGED_TOTAL_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Where staged files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    pub bucket: String,
    /// The bucket's Region (the stack's).
    pub region: String,
}

/// The key prefix of one caller's staged files: a digest of its identity, so callers never
/// see each other's files and the key carries no account details.
pub fn owner_prefix(owner: &str) -> String {
    let digest = Sha256::digest(owner.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("staged/{hex}/")
}

/// A staged path as the caller writes it: relative, no `..`, no empty parts.
pub fn clean_relative(raw: &str) -> Result<String, RunError> {
    let refused = || {
        RunError::validation(format!(
            "'{raw}' is not a staged file name: use a relative name such as data/file.zip (no '..', no leading '/')"
        ))
    };
    let path = Path::new(raw.trim_start_matches("./"));
    if raw.is_empty() || path.is_absolute() {
        return Err(refused());
    }
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(refused)?.to_owned()),
            Component::CurDir => {}
            _ => return Err(refused()),
        }
    }
    if parts.is_empty() {
        return Err(refused());
    }
    Ok(parts.join("/"))
}

/// The local paths a command line names: `file://` / `fileb://` values and the local side of
/// `aws s3 cp`.
pub fn local_references(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        let value = w
            .split_once('=')
            .filter(|(k, _)| k.starts_with("--"))
            .map_or(w.as_str(), |(_, v)| v);
        if let Some(p) = value
            .strip_prefix("fileb://")
            .or_else(|| value.strip_prefix("file://"))
        {
            out.push(p.to_owned());
        }
    }
    let is_cp = words.get(1).is_some_and(|w| w == "s3") && words.get(2).is_some_and(|w| w == "cp");
    if is_cp {
        let positional: Vec<&String> = words[3..].iter().filter(|w| !w.starts_with("--")).collect();
        if let Some(src) = positional.first()
            && !src.starts_with("s3://")
        {
            out.push((*src).clone());
        }
    }
    out
}

/// Whether a command may write a local file (an outfile, an `s3 cp` download), which is
/// then published from the staging folder.
pub fn may_write_files(line: &str, words: &[String]) -> bool {
    let is_cp = words.get(1).is_some_and(|w| w == "s3") && words.get(2).is_some_and(|w| w == "cp");
    if is_cp {
        let positional: Vec<&String> = words[3..].iter().filter(|w| !w.starts_with("--")).collect();
        return positional.get(1).is_some_and(|d| !d.starts_with("s3://"));
    }
    // Operations that stream their answer take an outfile as the last word.
    crate::command::parse_command(line)
        .map(|p| p.outfile.is_some())
        .unwrap_or(false)
}

fn s3_call_error(e: CallError) -> RunError {
    RunError::from(e)
}

/// Fetches the staged files a command needs into `dir`.
pub async fn fetch(
    executor: &Executor,
    staging: &Staging,
    prefix: &str,
    names: &[String],
    dir: &Path,
) -> Result<Vec<PathBuf>, RunError> {
    let region = staging.region.as_str();
    let model = models()
        .service("s3")
        .map_err(|e| RunError::validation(e.to_string()))?;
    let (Some(head), Some(get)) = (model.operation("HeadObject"), model.operation("GetObject"))
    else {
        return Err(RunError::validation(
            "the S3 model has no object operations",
        ));
    };
    let target = CallTarget {
        region,
        endpoint_url: None,
    };
    let mut total = 0u64;
    let mut fetched = Vec::new();
    for raw in names {
        let name = clean_relative(raw)?;
        let mut params = Map::new();
        params.insert("Bucket".into(), json!(staging.bucket));
        params.insert("Key".into(), json!(format!("{prefix}{name}")));
        let meta = executor
            .call(&model, head, &params, &target)
            .await
            .map_err(|e| match e {
                CallError::Service(s) if s.status == 404 || s.code == "404" => RunError::validation(format!(
                    "{raw} is not staged: upload it first with a URL from aws___get_presigned_url (method PUT, key {name}, no bucket)"
                )),
                other => s3_call_error(other),
            })?;
        let size = meta
            .output
            .get("ContentLength")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if size > MAX_LOCAL_FILE_BYTES {
            return Err(RunError::validation(format!(
                "{raw} is {size} bytes; staged files may be at most {MAX_LOCAL_FILE_BYTES} bytes"
            )));
        }
        total += size;
        if total > MAX_STAGED_TOTAL_BYTES {
            return Err(RunError::validation(format!(
                "the staged files of one command may total at most {MAX_STAGED_TOTAL_BYTES} bytes"
            )));
        }
        let answer = executor
            .call(&model, get, &params, &target)
            .await
            .map_err(s3_call_error)?;
        let body = answer.stream.map(|(_, b)| b).unwrap_or_default();
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| RunError::validation(format!("cannot stage {raw}: {e}")))?;
        }
        std::fs::write(&path, body)
            .map_err(|e| RunError::validation(format!("cannot stage {raw}: {e}")))?;
        fetched.push(PathBuf::from(name));
    }
    Ok(fetched)
}

/// Every file under `dir`, relative.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(root, &path, out),
                Ok(t) if t.is_file() => {
                    if let Ok(rel) = path.strip_prefix(root) {
                        out.push(rel.to_path_buf());
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Uploads the files a command wrote and returns `name: download URL` lines.
pub async fn publish(
    executor: &Executor,
    staging: &Staging,
    prefix: &str,
    dir: &Path,
    written: &[PathBuf],
) -> Result<Vec<String>, RunError> {
    let region = staging.region.as_str();
    let model = models()
        .service("s3")
        .map_err(|e| RunError::validation(e.to_string()))?;
    let Some(put) = model.operation("PutObject") else {
        return Err(RunError::validation("the S3 model has no PutObject"));
    };
    let target = CallTarget {
        region,
        endpoint_url: None,
    };
    let endpoint = executor.s3_endpoint_setting();
    let mut notes = Vec::new();
    for rel in written {
        let name = rel.to_string_lossy().replace('\\', "/");
        let body = std::fs::read(dir.join(rel))
            .map_err(|e| RunError::validation(format!("cannot read {name}: {e}")))?;
        let key = format!("{prefix}{name}");
        let mut params = Map::new();
        params.insert("Bucket".into(), json!(staging.bucket));
        params.insert("Key".into(), json!(key));
        params.insert(
            "Body".into(),
            json!({"__bytes_base64__": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &body)}),
        );
        executor
            .call(&model, put, &params, &target)
            .await
            .map_err(s3_call_error)?;
        let url = executor
            .presign(&PresignRequest {
                bucket: &staging.bucket,
                key: &key,
                method: PresignMethod::Get,
                expires_in: crate::presign::MAX_EXPIRES_IN,
                content_type: None,
                region,
                endpoint_url: endpoint.as_deref(),
            })
            .await
            .map_err(s3_call_error)?;
        notes.push(format!(
            "{name} was written to the staging bucket; download it within 15 minutes: {}",
            url.url
        ));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        crate::command::shell_words(line).expect("words")
    }

    #[test]
    fn references_are_found_in_values_and_s3_cp() {
        assert_eq!(
            local_references(&words(
                "aws lambda update-function-code --function-name f --zip-file fileb://code.zip --cli-input-json=file://in.json"
            )),
            vec!["code.zip", "in.json"]
        );
        assert_eq!(
            local_references(&words("aws s3 cp report.csv s3://b/k")),
            vec!["report.csv"]
        );
        assert!(local_references(&words("aws s3 cp s3://b/k out.csv")).is_empty());
    }

    #[test]
    fn staged_names_must_stay_relative() {
        assert_eq!(clean_relative("./a/b.zip").expect("ok"), "a/b.zip");
        for bad in ["../x", "/etc/passwd", "a/../../x", ""] {
            assert!(clean_relative(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn owner_prefixes_differ_per_owner() {
        let a = owner_prefix("arn:aws:iam::1:user/a");
        assert!(a.starts_with("staged/") && a.ends_with('/') && a.len() == 7 + 32 + 1);
        assert_ne!(a, owner_prefix("arn:aws:iam::1:user/b"));
    }
}
