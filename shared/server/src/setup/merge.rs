//! Merging the server entry into JSON and TOML configuration files, and the rules block
//! into Markdown files; writing with a `.bak` copy.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use toml_edit::{DocumentMut, Item, Table};

use super::{Change, Client, Installed, RulesKind, SERVER_NAME, ServerEntry, SetupError};

const RULES_BEGIN: &str =
    "<!-- BEGIN aws-mcp rules (managed by `aws-mcp setup --rules`; edits inside are replaced) -->";
const RULES_END: &str = "<!-- END aws-mcp rules -->";

/// The entry as the client's file holds it (JSON clients).
fn json_entry(client: Client, entry: &ServerEntry) -> Map<String, Value> {
    let mut m = Map::new();
    // Claude Code writes the transport explicitly (`claude mcp add` does the same).
    if client == Client::ClaudeCode {
        m.insert("type".into(), json!("stdio"));
    }
    m.insert("command".into(), json!(entry.command));
    m.insert("args".into(), json!(entry.args));
    if !entry.env.is_empty() {
        m.insert("env".into(), json!(entry.env));
    }
    m
}

/// The entry alone in the client's format, for `--print`.
pub fn render_entry(client: Client, entry: &ServerEntry) -> String {
    if client.is_toml() {
        let mut doc = DocumentMut::new();
        merge_toml_entry(&mut doc, entry);
        return doc.to_string();
    }
    let value = json!({"mcpServers": {SERVER_NAME: json_entry(client, entry)}});
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// Merges the entry into the client's configuration file at `path`.
pub fn install_entry(
    client: Client,
    path: &Path,
    entry: &ServerEntry,
) -> Result<Installed, SetupError> {
    let old = read_optional(path)?;
    let (new, change) = if client.is_toml() {
        merge_toml(path, old.as_deref().unwrap_or(""), entry)?
    } else {
        merge_json(
            path,
            old.as_deref().unwrap_or(""),
            json_entry(client, entry),
        )?
    };
    write_changed(path, old.as_deref(), &new, change)
}

/// Sets the entry's keys inside `mcpServers`, keeping every other key of the file and of
/// an existing entry (a user's `disabled`, `autoApprove`, timeouts).
fn merge_json(
    path: &Path,
    old: &str,
    entry: Map<String, Value>,
) -> Result<(String, Change), SetupError> {
    let mut root: Value = if old.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(old).map_err(|e| SetupError::Unparsable {
            path: path.to_owned(),
            message: format!("not JSON ({e})"),
        })?
    };
    let shape = |message: &str| SetupError::Shape {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let servers = root
        .as_object_mut()
        .ok_or_else(|| shape("the file is not a JSON object"))?
        .entry("mcpServers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| shape("mcpServers is not an object"))?;
    let change = match servers.get_mut(SERVER_NAME) {
        None => {
            servers.insert(SERVER_NAME.into(), Value::Object(entry));
            Change::Added
        }
        Some(Value::Object(existing)) => {
            let same = entry.iter().all(|(k, v)| existing.get(k) == Some(v))
                && (entry.contains_key("env") || !existing.contains_key("env"));
            if same {
                Change::Unchanged
            } else {
                existing.remove("env");
                // Removing `url` too: a stdio entry with a leftover `url` is ambiguous.
                existing.remove("url");
                existing.extend(entry);
                Change::Replaced
            }
        }
        Some(other) => {
            *other = Value::Object(entry);
            Change::Replaced
        }
    };
    let text = serde_json::to_string_pretty(&root).map_err(|e| SetupError::Shape {
        path: path.to_owned(),
        message: e.to_string(),
    })? + "\n";
    Ok((text, change))
}

fn merge_toml(path: &Path, old: &str, entry: &ServerEntry) -> Result<(String, Change), SetupError> {
    let mut doc: DocumentMut =
        old.parse()
            .map_err(|e: toml_edit::TomlError| SetupError::Unparsable {
                path: path.to_owned(),
                message: format!("not TOML ({})", e.to_string().trim()),
            })?;
    if let Some(servers) = doc.get("mcp_servers")
        && !servers.is_table_like()
    {
        return Err(SetupError::Shape {
            path: path.to_owned(),
            message: "mcp_servers is not a table".into(),
        });
    }
    let before = toml_entry(&doc);
    if before.as_ref() == Some(entry) {
        return Ok((old.to_owned(), Change::Unchanged));
    }
    let existed = doc
        .get("mcp_servers")
        .and_then(|s| s.get(SERVER_NAME))
        .is_some();
    merge_toml_entry(&mut doc, entry);
    let change = if existed {
        Change::Replaced
    } else {
        Change::Added
    };
    Ok((doc.to_string(), change))
}

/// The entry as `[mcp_servers.aws-mcp]` holds it, if it is there.
fn toml_entry(doc: &DocumentMut) -> Option<ServerEntry> {
    let t = doc.get("mcp_servers")?.get(SERVER_NAME)?;
    let command = t.get("command")?.as_str()?.to_owned();
    let args = t
        .get("args")?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    let env = match t.get("env") {
        None => Default::default(),
        Some(env) => env
            .as_table_like()?
            .iter()
            .map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned())))
            .collect::<Option<_>>()?,
    };
    Some(ServerEntry { command, args, env })
}

/// Writes the entry's keys into `[mcp_servers.aws-mcp]`, keeping its other keys.
fn merge_toml_entry(doc: &mut DocumentMut, entry: &ServerEntry) {
    let servers = doc.entry("mcp_servers").or_insert_with(|| {
        let mut t = Table::new();
        // `[mcp_servers]` alone would be an empty header; only the entries show.
        t.set_implicit(true);
        Item::Table(t)
    });
    let Some(servers) = servers.as_table_like_mut() else {
        return;
    };
    let table = servers
        .entry(SERVER_NAME)
        .or_insert(Item::Table(Table::new()));
    if !table.is_table_like() {
        *table = Item::Table(Table::new());
    }
    let Some(table) = table.as_table_like_mut() else {
        return;
    };
    table.insert("command", toml_edit::value(entry.command.as_str()));
    let args: toml_edit::Array = entry.args.iter().map(String::as_str).collect();
    table.insert("args", toml_edit::value(args));
    table.remove("url");
    if entry.env.is_empty() {
        table.remove("env");
    } else {
        let mut env = toml_edit::InlineTable::new();
        for (k, v) in &entry.env {
            env.insert(k, v.as_str().into());
        }
        table.insert("env", toml_edit::value(env));
    }
}

/// Installs the client's rules at `path`: between marker comments in a shared file, whole
/// in a file of ours.
pub fn install_rules(path: &Path, kind: RulesKind, rules: &str) -> Result<Installed, SetupError> {
    let old = read_optional(path)?;
    let (new, change) = match kind {
        RulesKind::Own => match old.as_deref() {
            Some(o) if o == rules => (rules.to_owned(), Change::Unchanged),
            Some(_) => (rules.to_owned(), Change::Replaced),
            None => (rules.to_owned(), Change::Added),
        },
        RulesKind::Shared => merge_rules_block(path, old.as_deref().unwrap_or(""), rules)?,
    };
    write_changed(path, old.as_deref(), &new, change)
}

fn merge_rules_block(path: &Path, old: &str, rules: &str) -> Result<(String, Change), SetupError> {
    let block = format!("{RULES_BEGIN}\n{}\n{RULES_END}", rules.trim_end());
    let begin = old.find(RULES_BEGIN);
    let end = old.find(RULES_END);
    match (begin, end) {
        (Some(b), Some(e)) if b < e => {
            let e = e + RULES_END.len();
            if old[b..e] == block {
                return Ok((old.to_owned(), Change::Unchanged));
            }
            Ok((
                format!("{}{block}{}", &old[..b], &old[e..]),
                Change::Replaced,
            ))
        }
        (None, None) => {
            let sep = match old {
                "" => "",
                o if o.ends_with("\n\n") => "",
                o if o.ends_with('\n') => "\n",
                _ => "\n\n",
            };
            Ok((format!("{old}{sep}{block}\n"), Change::Added))
        }
        _ => Err(SetupError::Shape {
            path: path.to_owned(),
            message: format!(
                "it has one aws-mcp rules marker without the other ('{RULES_BEGIN}' ... '{RULES_END}'); restore or remove them"
            ),
        }),
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, SetupError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(SetupError::Unparsable {
            path: path.to_owned(),
            message: "not UTF-8 text".into(),
        }),
        Err(e) => Err(SetupError::io(path, e)),
    }
}

/// Writes `new` when something changed: the old file is copied to `<file>.bak` first and
/// the new text replaces it in one rename, keeping the old file's permissions.
fn write_changed(
    path: &Path,
    old: Option<&str>,
    new: &str,
    change: Change,
) -> Result<Installed, SetupError> {
    let mut installed = Installed {
        path: path.to_owned(),
        change,
        backup: None,
    };
    if change == Change::Unchanged {
        return Ok(installed);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| SetupError::io(dir, e))?;
    }
    let temp = sibling(path, ".aws-mcp-tmp");
    std::fs::write(&temp, new).map_err(|e| SetupError::io(&temp, e))?;
    if old.is_some() {
        let backup = sibling(path, ".bak");
        std::fs::copy(path, &backup).map_err(|e| SetupError::io(&backup, e))?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(&temp, meta.permissions());
        }
        installed.backup = Some(backup);
    }
    std::fs::rename(&temp, path).map_err(|e| SetupError::io(path, e))?;
    Ok(installed)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn local() -> ServerEntry {
        ServerEntry {
            command: "/opt/aws-mcp".into(),
            args: vec!["stdio".into()],
            env: BTreeMap::new(),
        }
    }

    fn proxy() -> ServerEntry {
        ServerEntry::proxy(
            "https://x.lambda-url.us-east-1.on.aws/",
            "us-east-1",
            "us-east-1",
            None,
        )
        .expect("entry")
    }

    #[test]
    fn json_keeps_other_servers_and_keys_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mcp.json");
        std::fs::write(
            &path,
            r#"{"theme": "dark", "mcpServers": {"other": {"command": "x"}, "aws-mcp": {"command": "old", "args": [], "disabled": false}}}"#,
        )
        .expect("write");
        let first = install_entry(Client::Kiro, &path, &local()).expect("install");
        assert_eq!(first.change, Change::Replaced);
        assert!(first.backup.as_ref().is_some_and(|b| b.exists()));
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["theme"], "dark");
        assert_eq!(v["mcpServers"]["other"]["command"], "x");
        assert_eq!(v["mcpServers"]["aws-mcp"]["command"], "/opt/aws-mcp");
        assert_eq!(v["mcpServers"]["aws-mcp"]["args"], json!(["stdio"]));
        assert_eq!(v["mcpServers"]["aws-mcp"]["disabled"], false);
        let written = std::fs::read_to_string(&path).expect("read");
        let again = install_entry(Client::Kiro, &path, &local()).expect("install");
        assert_eq!(again.change, Change::Unchanged);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), written);
    }

    #[test]
    fn json_new_file_is_created_and_claude_code_names_the_transport() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join(".mcp.json");
        let done = install_entry(Client::ClaudeCode, &path, &proxy()).expect("install");
        assert_eq!(done.change, Change::Added);
        assert!(done.backup.is_none());
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["mcpServers"]["aws-mcp"]["type"], "stdio");
        assert_eq!(v["mcpServers"]["aws-mcp"]["command"], "uvx");
    }

    #[test]
    fn unparsable_or_misshapen_files_are_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mcp.json");
        for text in ["{\"mcpServers\": {", "[1, 2]", "{\"mcpServers\": 3}"] {
            std::fs::write(&path, text).expect("write");
            let e = install_entry(Client::Cursor, &path, &local()).unwrap_err();
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
        }
        let e = {
            std::fs::write(&path, "{\"a\": ").expect("write");
            install_entry(Client::Cursor, &path, &local()).unwrap_err()
        };
        assert!(e.to_string().contains("line 1"), "{e}");
        let toml = dir.path().join("config.toml");
        std::fs::write(&toml, "[mcp_servers\nx = 1").expect("write");
        let e = install_entry(Client::Codex, &toml, &local()).unwrap_err();
        assert!(matches!(e, SetupError::Unparsable { .. }), "{e}");
        assert!(!dir.path().join("config.toml.bak").exists());
    }

    #[test]
    fn toml_keeps_comments_and_other_tables_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let original = "# my settings\nmodel = \"o3\" # the model\n\n[mcp_servers.other]\ncommand = \"x\" # keep me\n\n[mcp_servers.aws-mcp]\ncommand = \"old\"\nstartup_timeout_sec = 30\n\n[profiles.fast]\nmodel = \"mini\"\n";
        std::fs::write(&path, original).expect("write");
        let done = install_entry(Client::Codex, &path, &proxy()).expect("install");
        assert_eq!(done.change, Change::Replaced);
        let text = std::fs::read_to_string(&path).expect("read");
        for kept in [
            "# my settings",
            "# the model",
            "# keep me",
            "[profiles.fast]",
            "startup_timeout_sec = 30",
        ] {
            assert!(text.contains(kept), "{kept} lost:\n{text}");
        }
        let doc: DocumentMut = text.parse().expect("toml");
        assert_eq!(toml_entry(&doc), Some(proxy()));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("config.toml.bak")).expect("bak"),
            original
        );
        let again = install_entry(Client::Codex, &path, &proxy()).expect("install");
        assert_eq!(again.change, Change::Unchanged);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    }

    #[test]
    fn toml_new_file_has_only_the_entry_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let mut entry = local();
        entry.env.insert("AWS_PROFILE".into(), "dev".into());
        assert_eq!(
            install_entry(Client::Codex, &path, &entry)
                .expect("install")
                .change,
            Change::Added
        );
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("[mcp_servers.aws-mcp]\n"), "{text}");
        assert!(text.contains("env = { AWS_PROFILE = \"dev\" }"), "{text}");
        assert_eq!(render_entry(Client::Codex, &entry), text);
    }

    #[test]
    fn shared_rules_merge_between_markers_without_duplicating() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("CLAUDE.md");
        std::fs::write(&path, "# Project\n\nUse tabs.\n").expect("write");
        let first = install_rules(&path, RulesKind::Shared, "rule one\n").expect("rules");
        assert_eq!(first.change, Change::Added);
        let again = install_rules(&path, RulesKind::Shared, "rule one\n").expect("rules");
        assert_eq!(again.change, Change::Unchanged);
        let updated = install_rules(&path, RulesKind::Shared, "rule two\n").expect("rules");
        assert_eq!(updated.change, Change::Replaced);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# Project\n\nUse tabs.\n\n"), "{text}");
        assert_eq!(text.matches(RULES_BEGIN).count(), 1, "{text}");
        assert!(
            text.contains("rule two") && !text.contains("rule one"),
            "{text}"
        );
        std::fs::write(&path, format!("x\n{RULES_BEGIN}\n")).expect("write");
        assert!(install_rules(&path, RulesKind::Shared, "r").is_err());
    }

    #[test]
    fn own_rules_files_are_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".kiro/steering/aws.md");
        assert_eq!(
            install_rules(&path, RulesKind::Own, "a").expect("r").change,
            Change::Added
        );
        assert_eq!(
            install_rules(&path, RulesKind::Own, "a").expect("r").change,
            Change::Unchanged
        );
        let r = install_rules(&path, RulesKind::Own, "b").expect("r");
        assert_eq!(r.change, Change::Replaced);
        assert_eq!(
            std::fs::read_to_string(r.backup.expect("bak")).expect("read"),
            "a"
        );
    }
}
