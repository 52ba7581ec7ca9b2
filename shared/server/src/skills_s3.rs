//! An organisation's skills kept under an S3 prefix (`s3://bucket/prefix/<skill>/SKILL.md`),
//! read once at start-up and merged over the bundled skills.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;

/// Largest object read, and most objects read, so a wrong prefix cannot exhaust memory.
const MAX_OBJECT_BYTES: i64 = 1024 * 1024;
const MAX_OBJECTS: usize = 2000;

/// Splits `s3://bucket/prefix` into bucket and prefix (ending in `/` unless empty).
pub fn parse_uri(uri: &str) -> Result<(String, String), String> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or_else(|| format!("skills location '{uri}' must look like s3://bucket/prefix/"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("skills location '{uri}' names no bucket"));
    }
    let prefix = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    };
    Ok((bucket.to_owned(), prefix))
}

/// Merges the skills under an S3 prefix; a failure leaves the other skills in place.
pub(crate) async fn with_s3_skills(
    skills: knowledge_tools::SkillLibrary,
    sdk: &crate::aws::SharedSdkConfig,
    uri: &str,
) -> knowledge_tools::SkillLibrary {
    let config = sdk.get().await;
    // Custom endpoints (tests, S3-compatible stores) are addressed by path.
    let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(path_style)
            .build(),
    );
    match load(&s3, uri).await {
        Ok(folders) => skills.with_files(uri, folders),
        Err(e) => {
            tracing::warn!(error = %e, "organisation skills from S3 not loaded");
            let mut skills = skills;
            skills.problems.push(e);
            skills
        }
    }
}

/// Reads every skill file under the prefix, grouped by skill folder.
pub async fn load(
    client: &Client,
    uri: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
    let (bucket, prefix) = parse_uri(uri)?;
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing {uri}: {}", DisplayErrorContext(&e)))?;
        for object in page.contents() {
            if let Some(key) = object.key()
                && object.size().unwrap_or(0) <= MAX_OBJECT_BYTES
            {
                keys.push(key.to_owned());
            }
        }
        if keys.len() > MAX_OBJECTS {
            return Err(format!(
                "{uri} holds more than {MAX_OBJECTS} objects; point at a skills folder"
            ));
        }
    }
    let mut skills: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for key in keys {
        let Some(rel) = key.strip_prefix(&prefix) else {
            continue;
        };
        let Some((folder, path)) = rel.split_once('/') else {
            continue;
        };
        let safe =
            |p: &str| !p.is_empty() && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
        if !safe(folder) || !safe(path) {
            continue;
        }
        let object = client
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| format!("reading s3://{bucket}/{key}: {}", DisplayErrorContext(&e)))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| format!("reading s3://{bucket}/{key}: {e}"))?
            .into_bytes();
        if let Ok(text) = String::from_utf8(bytes.to_vec()) {
            skills
                .entry(folder.to_owned())
                .or_default()
                .insert(path.to_owned(), text);
        }
    }
    Ok(skills)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_into_bucket_and_prefix() {
        assert_eq!(
            parse_uri("s3://b/skills").expect("ok"),
            ("b".into(), "skills/".into())
        );
        assert_eq!(
            parse_uri("s3://b/").expect("ok"),
            ("b".into(), String::new())
        );
        assert_eq!(
            parse_uri("s3://b").expect("ok"),
            ("b".into(), String::new())
        );
        assert!(parse_uri("https://b/skills").is_err());
        assert!(parse_uri("s3:///x").is_err());
    }
}
