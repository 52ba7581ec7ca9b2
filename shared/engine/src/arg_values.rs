//! Argument values that `params` and `customs` read alike: local files (confined to the
//! allowed directory), blobs, and numbers as Python's `int()`/`float()` read them. Below
//! both, so the customisations need nothing back from the builder that calls them.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Map, Number, Value};

use crate::command::CommandError;

/// Largest local file an argument may read (the seed's per-file staging limit).
pub const MAX_LOCAL_FILE_BYTES: u64 = 125 * 1024 * 1024;

/// How `file://` and `fileb://` arguments (and streaming blob paths) read local files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalFiles {
    /// Only files inside this directory (after resolving `..` and links).
    Within(PathBuf),
    /// Never; the message says why and what to do instead.
    Refused(String),
}

/// Settings for building a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOptions {
    pub local_files: LocalFiles,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            local_files: LocalFiles::Within(
                std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            ),
        }
    }
}

/// Reads a local file for an argument, confined to the allowed directory.
pub(crate) fn read_local(
    files: &LocalFiles,
    raw: &str,
    path: &str,
    arg: &str,
) -> Result<Vec<u8>, CommandError> {
    let root = match files {
        LocalFiles::Refused(why) => return Err(param_error(arg, format!("{raw}: {why}"))),
        LocalFiles::Within(root) => root,
    };
    let unable =
        |e: std::io::Error| param_error(arg, format!("Unable to load paramfile {raw}: {e}"));
    let real = confined_read_path(root, path).map_err(|e| match e {
        ConfinedPathError::Io(e) => unable(e),
        ConfinedPathError::Outside(root) => param_error(
            arg,
            format!(
                "{raw} is outside the working directory {root}; only files inside it can be read"
            ),
        ),
    })?;
    let meta = std::fs::metadata(&real).map_err(unable)?;
    if !meta.is_file() {
        return Err(param_error(arg, format!("{raw} is not a file")));
    }
    if meta.len() > MAX_LOCAL_FILE_BYTES {
        return Err(param_error(
            arg,
            format!(
                "{raw} is {} bytes; files up to {MAX_LOCAL_FILE_BYTES} bytes can be read",
                meta.len()
            ),
        ));
    }
    std::fs::read(&real).map_err(unable)
}

/// Why a local path cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfinedPathError {
    #[error(transparent)]
    Io(std::io::Error),
    #[error("the path is outside the working directory {0}; only files inside it can be read")]
    Outside(String),
}

/// The real path of `path` (`~/` expanded, relative to `root`) when it lies inside `root`
/// after resolving `..` and links.
pub fn confined_read_path(root: &Path, path: &str) -> Result<PathBuf, ConfinedPathError> {
    let expanded = match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    };
    let candidate = if expanded.is_absolute() {
        expanded
    } else {
        root.join(expanded)
    };
    let real = candidate.canonicalize().map_err(ConfinedPathError::Io)?;
    let real_root = root.canonicalize().map_err(ConfinedPathError::Io)?;
    if !real.starts_with(&real_root) {
        return Err(ConfinedPathError::Outside(real_root.display().to_string()));
    }
    Ok(real)
}

pub(crate) fn blob_value(bytes: &[u8]) -> Value {
    let mut m = Map::new();
    m.insert(
        "__bytes_base64__".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
    );
    Value::Object(m)
}

pub(crate) fn param_error(arg: &str, message: impl std::fmt::Display) -> CommandError {
    CommandError::Syntax(format!("Error parsing parameter '--{arg}': {message}"))
}

/// Python's `int()` on a string: surrounding whitespace, a sign, digits with single
/// underscores between them.
pub(crate) fn py_int(text: &str) -> Option<Value> {
    let t = text.trim();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let clean = format!("{sign}{}", digits.replace('_', ""));
    if let Ok(v) = clean.parse::<i64>() {
        return Some(Value::Number(v.into()));
    }
    clean.parse::<u64>().ok().map(|v| Value::Number(v.into()))
}

/// Python's `float()` on a string (finite values only: JSON has no infinities).
pub(crate) fn py_float(text: &str) -> Option<Value> {
    let t = text.trim().replace('_', "");
    let v: f64 = t.parse().ok()?;
    Number::from_f64(v).map(Value::Number)
}
