//! `aws-mcp setup <client>`: writes the `aws-mcp` server entry into an MCP client's
//! configuration file (and, if asked, the agent rules file), merging with what is there.
//!
//! The entry starts either this binary (`aws-mcp stdio`) or the pinned stdio proxy against a
//! deployed stack's `McpEndpoint`. Files are merged, never overwritten blindly: other servers
//! and keys stay, a `.bak` copy is kept of a file that changes, and a file that cannot be
//! parsed is left alone.

mod merge;
mod stack;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use merge::{install_entry, install_rules, render_entry};
pub use stack::{StackEndpoint, stack_endpoint};

/// The server entry's name in every client's configuration.
pub const SERVER_NAME: &str = "aws-mcp";
/// The stdio proxy, pinned (the same version the plugins' `.mcp.json` use).
pub const PROXY_PACKAGE: &str = "mcp-proxy-for-aws@1.7.0";

/// Why setup failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "{path} cannot be parsed, so it was left untouched: {message}. Fix or move it, then run setup again"
    )]
    Unparsable { path: PathBuf, message: String },
    #[error("{path}: {message}; it was left untouched")]
    Shape { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Stack(String),
}

impl SetupError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The MCP clients setup knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    ClaudeCode,
    Codex,
    Cursor,
    Kiro,
    ClaudeDesktop,
}

/// Where the entry goes: the project (shared through version control) or the user's own
/// configuration (every project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    Project,
    User,
}

impl Client {
    /// The scope used when none is asked for: the client's usual one.
    pub fn default_scope(self) -> Scope {
        match self {
            Client::ClaudeCode | Client::Cursor | Client::Kiro => Scope::Project,
            Client::Codex | Client::ClaudeDesktop => Scope::User,
        }
    }

    fn is_toml(self) -> bool {
        self == Client::Codex
    }
}

/// The folders configuration files are found in.
#[derive(Debug, Clone)]
pub struct Places {
    pub home: PathBuf,
    pub project: PathBuf,
    /// `CODEX_HOME`, when set (else `~/.codex`).
    pub codex_home: Option<PathBuf>,
    /// Where Claude Desktop keeps its folder: `~/Library/Application Support` on macOS,
    /// `%APPDATA%` on Windows, `$XDG_CONFIG_HOME` or `~/.config` elsewhere.
    pub app_config: PathBuf,
}

impl Places {
    /// From the environment: `HOME` (`USERPROFILE` on Windows) and the current directory.
    pub fn from_env(project: Option<PathBuf>) -> Result<Self, SetupError> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME").or_else(|| var("USERPROFILE")).ok_or_else(|| {
            SetupError::Invalid("cannot find your home folder: HOME is not set".into())
        })?;
        let project = match project {
            Some(p) => p,
            None => std::env::current_dir()
                .map_err(|e| SetupError::Invalid(format!("cannot read the current folder: {e}")))?,
        };
        let app_config = if cfg!(target_os = "macos") {
            home.join("Library").join("Application Support")
        } else if cfg!(windows) {
            var("APPDATA").unwrap_or_else(|| home.join("AppData").join("Roaming"))
        } else {
            var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"))
        };
        Ok(Self {
            codex_home: var("CODEX_HOME"),
            home,
            project,
            app_config,
        })
    }

    fn codex(&self) -> PathBuf {
        self.codex_home
            .clone()
            .unwrap_or_else(|| self.home.join(".codex"))
    }
}

/// The configuration file that holds the client's MCP servers in this scope.
pub fn config_path(client: Client, scope: Scope, places: &Places) -> Result<PathBuf, SetupError> {
    let (p, h) = (&places.project, &places.home);
    Ok(match (client, scope) {
        (Client::ClaudeCode, Scope::Project) => p.join(".mcp.json"),
        (Client::ClaudeCode, Scope::User) => h.join(".claude.json"),
        (Client::Codex, Scope::Project) => p.join(".codex").join("config.toml"),
        (Client::Codex, Scope::User) => places.codex().join("config.toml"),
        (Client::Cursor, Scope::Project) => p.join(".cursor").join("mcp.json"),
        (Client::Cursor, Scope::User) => h.join(".cursor").join("mcp.json"),
        (Client::Kiro, Scope::Project) => p.join(".kiro").join("settings").join("mcp.json"),
        (Client::Kiro, Scope::User) => h.join(".kiro").join("settings").join("mcp.json"),
        (Client::ClaudeDesktop, Scope::User) => places
            .app_config
            .join("Claude")
            .join("claude_desktop_config.json"),
        (Client::ClaudeDesktop, Scope::Project) => {
            return Err(SetupError::Invalid(
                "Claude Desktop has no project configuration: use --scope user (the default)"
                    .into(),
            ));
        }
    })
}

/// Where the client's agent rules go in this scope, and whether the file is the client's
/// own (merged between markers) or ours alone (written whole).
pub fn rules_path(
    client: Client,
    scope: Scope,
    places: &Places,
) -> Result<(PathBuf, RulesKind), SetupError> {
    let (p, h) = (&places.project, &places.home);
    Ok(match (client, scope) {
        (Client::ClaudeCode, Scope::Project) => (p.join("CLAUDE.md"), RulesKind::Shared),
        (Client::ClaudeCode, Scope::User) => {
            (h.join(".claude").join("CLAUDE.md"), RulesKind::Shared)
        }
        (Client::Codex, Scope::Project) => (p.join("AGENTS.md"), RulesKind::Shared),
        (Client::Codex, Scope::User) => (places.codex().join("AGENTS.md"), RulesKind::Shared),
        (Client::Cursor, Scope::Project) => (
            p.join(".cursor").join("rules").join("aws.mdc"),
            RulesKind::Own,
        ),
        (Client::Kiro, Scope::Project) => (
            p.join(".kiro").join("steering").join("aws.md"),
            RulesKind::Own,
        ),
        (Client::Kiro, Scope::User) => (
            h.join(".kiro").join("steering").join("aws.md"),
            RulesKind::Own,
        ),
        (Client::Cursor, Scope::User) => {
            return Err(SetupError::Invalid(
                "Cursor keeps user rules in its settings, not in a file: use --scope project for .cursor/rules/aws.mdc"
                    .into(),
            ));
        }
        (Client::ClaudeDesktop, _) => {
            return Err(SetupError::Invalid(
                "Claude Desktop has no rules file; --rules applies to claude-code, codex, cursor and kiro"
                    .into(),
            ));
        }
    })
}

/// How a rules file is shared with the user's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesKind {
    /// The user's file (CLAUDE.md, AGENTS.md): our block lives between marker comments.
    Shared,
    /// A file of ours alone (`.cursor/rules/aws.mdc`, `.kiro/steering/aws.md`).
    Own,
}

/// The rules text for a client, embedded from `infra/rules/`.
pub fn rules_text(client: Client) -> Option<&'static str> {
    match client {
        Client::ClaudeCode => Some(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/rules/CLAUDE.md"
        ))),
        Client::Codex => Some(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/rules/AGENTS.md"
        ))),
        Client::Cursor => Some(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/rules/.cursor/rules/aws.mdc"
        ))),
        Client::Kiro => Some(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/rules/.kiro/steering/aws.md"
        ))),
        Client::ClaudeDesktop => None,
    }
}

/// A stdio server entry: the program, its arguments and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

impl ServerEntry {
    /// This binary over stdio; `--profile`/`--region` become its environment.
    pub fn local(exe: &Path, region: Option<&str>, profile: Option<&str>) -> Self {
        let mut env = BTreeMap::new();
        if let Some(p) = profile {
            env.insert("AWS_PROFILE".to_owned(), p.to_owned());
        }
        if let Some(r) = region {
            env.insert("AWS_REGION".to_owned(), r.to_owned());
        }
        Self {
            command: exe.display().to_string(),
            args: vec!["stdio".into()],
            env,
        }
    }

    /// The pinned proxy signing for `lambda` in `region` against a deployed endpoint.
    pub fn proxy(
        url: &str,
        region: &str,
        default_region: &str,
        profile: Option<&str>,
    ) -> Result<Self, SetupError> {
        check_endpoint(url, region)?;
        check_region(default_region)?;
        let mut args: Vec<String> = [
            PROXY_PACKAGE,
            url,
            "--service",
            "lambda",
            "--region",
            region,
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(p) = profile {
            args.extend(["--profile".to_owned(), p.to_owned()]);
        }
        args.extend([
            "--metadata".to_owned(),
            format!("AWS_REGION={default_region}"),
        ]);
        Ok(Self {
            command: "uvx".into(),
            args,
            env: BTreeMap::new(),
        })
    }
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Replaced,
    Unchanged,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Added => "added",
            Change::Replaced => "replaced",
            Change::Unchanged => "unchanged",
        })
    }
}

/// The result of installing into one file.
#[derive(Debug, Clone)]
pub struct Installed {
    pub path: PathBuf,
    pub change: Change,
    /// The copy of the file as it was, when it existed and changed.
    pub backup: Option<PathBuf>,
}

/// A Region code such as `eu-west-1`.
fn check_region(region: &str) -> Result<(), SetupError> {
    let parts: Vec<&str> = region.split('-').collect();
    let valid = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if valid {
        Ok(())
    } else {
        Err(SetupError::Invalid(format!(
            "'{region}' is not a Region code such as eu-west-1"
        )))
    }
}

/// The Region in a Function URL host (`<id>.lambda-url.<region>.on.aws`).
pub fn host_region(url: &str) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_owned();
    let labels: Vec<&str> = host.split('.').collect();
    let i = labels
        .iter()
        .position(|l| *l == "lambda-url" || *l == "execute-api")?;
    labels.get(i + 1).map(|r| (*r).to_owned())
}

/// The endpoint must be an http(s) URL, and the proxy must sign for the Region it is in.
fn check_endpoint(url: &str, region: &str) -> Result<(), SetupError> {
    check_region(region)?;
    let parsed = url::Url::parse(url)
        .map_err(|e| SetupError::Invalid(format!("'{url}' is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(SetupError::Invalid(format!(
            "'{url}' is not an http(s) URL"
        )));
    }
    match host_region(url) {
        Some(host) if host != region => Err(SetupError::Invalid(format!(
            "--region {region} differs from the Region of the endpoint ({host}); the proxy must sign for the endpoint's Region"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places() -> Places {
        Places {
            home: PathBuf::from("/h"),
            project: PathBuf::from("/p"),
            codex_home: None,
            app_config: PathBuf::from("/h/.config"),
        }
    }

    #[test]
    fn each_client_has_its_documented_file() {
        let p = places();
        let path = |c, s| config_path(c, s, &p).map(|x| x.display().to_string());
        assert_eq!(
            path(Client::ClaudeCode, Scope::Project).ok().as_deref(),
            Some("/p/.mcp.json")
        );
        assert_eq!(
            path(Client::ClaudeCode, Scope::User).ok().as_deref(),
            Some("/h/.claude.json")
        );
        assert_eq!(
            path(Client::Codex, Scope::User).ok().as_deref(),
            Some("/h/.codex/config.toml")
        );
        assert_eq!(
            path(Client::Cursor, Scope::Project).ok().as_deref(),
            Some("/p/.cursor/mcp.json")
        );
        assert_eq!(
            path(Client::Kiro, Scope::User).ok().as_deref(),
            Some("/h/.kiro/settings/mcp.json")
        );
        assert_eq!(
            path(Client::ClaudeDesktop, Scope::User).ok().as_deref(),
            Some("/h/.config/Claude/claude_desktop_config.json")
        );
        assert!(path(Client::ClaudeDesktop, Scope::Project).is_err());
        let codex_home = Places {
            codex_home: Some(PathBuf::from("/c")),
            ..places()
        };
        assert_eq!(
            config_path(Client::Codex, Scope::User, &codex_home).ok(),
            Some(PathBuf::from("/c/config.toml"))
        );
    }

    #[test]
    fn proxy_entry_matches_the_plugins_command_line() {
        let url = "https://abc.lambda-url.eu-west-1.on.aws/";
        let e = ServerEntry::proxy(url, "eu-west-1", "us-east-1", Some("dev")).expect("entry");
        assert_eq!(e.command, "uvx");
        assert_eq!(
            e.args,
            [
                PROXY_PACKAGE,
                url,
                "--service",
                "lambda",
                "--region",
                "eu-west-1",
                "--profile",
                "dev",
                "--metadata",
                "AWS_REGION=us-east-1"
            ]
        );
        let wrong = ServerEntry::proxy(url, "us-west-2", "us-west-2", None).unwrap_err();
        assert!(wrong.to_string().contains("eu-west-1"), "{wrong}");
        assert!(ServerEntry::proxy("ftp://x/", "us-east-1", "us-east-1", None).is_err());
        assert!(ServerEntry::proxy(url, "eu-west-1", "Europe", None).is_err());
        assert_eq!(host_region(url).as_deref(), Some("eu-west-1"));
        assert_eq!(host_region("http://127.0.0.1:9/mcp"), None);
    }

    #[test]
    fn rules_exist_for_every_client_with_a_rules_file() {
        for c in [
            Client::ClaudeCode,
            Client::Codex,
            Client::Cursor,
            Client::Kiro,
        ] {
            assert!(rules_text(c).is_some_and(|t| t.contains("aws___")), "{c:?}");
            assert!(rules_path(c, Scope::Project, &places()).is_ok());
        }
        assert!(rules_path(Client::ClaudeDesktop, Scope::User, &places()).is_err());
    }
}
