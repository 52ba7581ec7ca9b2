//! `aws-mcp`: the AWS MCP server on a laptop, over stdio or Streamable HTTP.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mcp_server::{App, GroupName, Mode, Settings, groups, setup};

#[derive(Parser)]
#[command(
    name = "aws-mcp",
    version,
    about = "Self-hosted AWS MCP server (local mode)",
    after_help = "Files: file:// and fileb:// arguments, outfiles and `aws s3 cp` read and write only inside AWS_MCP_WORK_DIR, by default $XDG_DATA_HOME/aws-mcp/files (~/.local/share/aws-mcp/files), created at start."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over stdin/stdout (for MCP clients that start the server themselves).
    Stdio {
        /// Tool groups to serve, comma-separated: knowledge, api, presign, tasks (default: all).
        #[arg(long, default_value = "")]
        groups: String,
    },
    /// Serve MCP over Streamable HTTP at http://<listen>/mcp.
    Http {
        /// Address to listen on. Any address other than loopback requires AWS_MCP_HTTP_TOKEN
        /// (clients send `Authorization: Bearer <token>`); when set, the token is required on
        /// loopback too.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Tool groups to serve, comma-separated: knowledge, api, presign, tasks (default: all).
        #[arg(long, default_value = "")]
        groups: String,
    },
    /// Show how an AWS CLI command is understood: service, operation, API parameters and the
    /// request body and headers the protocol produces (before endpoint resolution and
    /// signing), without sending anything.
    Explain {
        /// The command, e.g. "aws dynamodb get-item --table-name t --key '{...}'".
        command: String,
    },
    /// Add the `aws-mcp` server to an MCP client's configuration: this binary over stdio
    /// (the default), or a deployed stack through the signing proxy.
    Setup(SetupArgs),
}

#[derive(clap::Args)]
struct SetupArgs {
    /// The client to configure.
    #[arg(value_enum)]
    client: setup::Client,
    /// A deployed stack: its McpEndpoint output is read with your credentials.
    #[arg(long, conflicts_with_all = ["url", "local"])]
    stack: Option<String>,
    /// A deployed endpoint URL (the stack's McpEndpoint output).
    #[arg(long, conflicts_with = "local")]
    url: Option<String>,
    /// This binary over stdio (the default when neither --stack nor --url is given).
    #[arg(long)]
    local: bool,
    /// The stack's Region (with --stack or --url), or AWS_REGION for the local server.
    #[arg(long)]
    region: Option<String>,
    /// AWS profile: for reading the stack and for the proxy (or the local server) to sign with.
    #[arg(long)]
    profile: Option<String>,
    /// Default Region for AWS work sent by the proxy (default: the stack's ClientConfig,
    /// else the stack's Region).
    #[arg(long)]
    default_region: Option<String>,
    /// project (shared, in the project folder) or user (your own configuration); default:
    /// project for claude-code, cursor and kiro, user for codex and claude-desktop.
    #[arg(long, value_enum)]
    scope: Option<setup::Scope>,
    /// The configuration file to write instead of the client's usual one.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The project folder (default: the current folder).
    #[arg(long)]
    project_dir: Option<PathBuf>,
    /// Also install the client's agent rules file (in the project unless --scope user).
    #[arg(long, conflicts_with = "print")]
    rules: bool,
    /// Print the entry instead of writing anything.
    #[arg(long)]
    print: bool,
}

/// Counts the script worker's allocations so its memory limit is exact.
#[global_allocator]
static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;

fn main() -> anyhow::Result<()> {
    // A script worker is this same program started with a hidden argument; it must not
    // start the async runtime or parse the command line.
    mcp_server::run_script_worker_if_asked();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(serve());
    // A stdio server stopped by a signal still has a thread blocked reading stdin; waiting for
    // it would keep the process alive until the client closes the pipe.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    outcome
}

async fn serve() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Setup(args) => run_setup(args).await?,
        Command::Explain { command } => {
            let explained = explain(&command)?;
            // A closed pipe (`| head`) ends the output quietly.
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(&explained)?
            );
        }
        Command::Stdio { groups } => {
            mcp_server::init_tracing(Mode::Stdio);
            let settings = Settings::from_env(Mode::Stdio, GroupName::parse_list(&groups)?)?;
            let app = Arc::new(App::build(settings, Mode::Stdio, &groups::EVERY_GROUP).await?);
            mcp_server::local::run_stdio(app).await?;
        }
        Command::Http { listen, groups } => {
            mcp_server::init_tracing(Mode::LocalHttp);
            let settings = Settings::from_env(Mode::LocalHttp, GroupName::parse_list(&groups)?)?;
            let app = Arc::new(App::build(settings, Mode::LocalHttp, &groups::EVERY_GROUP).await?);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            eprintln!("aws-mcp: serving MCP at http://{addr}/mcp");
            mcp_server::local::run_http(app, listener).await?;
        }
    }
    Ok(())
}

async fn run_setup(args: SetupArgs) -> anyhow::Result<()> {
    let entry = setup_entry(&args).await?;
    if args.print {
        let _ = write!(
            std::io::stdout(),
            "{}",
            setup::render_entry(args.client, &entry)
        );
        return Ok(());
    }
    let places = setup::Places::from_env(args.project_dir.clone())?;
    let scope = args.scope.unwrap_or(args.client.default_scope());
    let path = match &args.config {
        Some(p) => p.clone(),
        None => setup::config_path(args.client, scope, &places)?,
    };
    let done = setup::install_entry(args.client, &path, &entry)?;
    report("server entry aws-mcp", &done);
    if args.rules {
        // Rules belong to the project that should follow them unless --scope user is given.
        let rules_scope = args.scope.unwrap_or(setup::Scope::Project);
        let (path, kind) = setup::rules_path(args.client, rules_scope, &places)?;
        let text = setup::rules_text(args.client)
            .ok_or_else(|| anyhow::anyhow!("no rules file for this client"))?;
        report("rules", &setup::install_rules(&path, kind, text)?);
    }
    Ok(())
}

/// The entry for a stack, an endpoint URL or this binary.
async fn setup_entry(args: &SetupArgs) -> anyhow::Result<setup::ServerEntry> {
    let profile = args.profile.as_deref();
    let (url, region, stack_default) = match (&args.stack, &args.url) {
        (Some(stack), _) => {
            let found = setup::stack_endpoint(stack, args.region.as_deref(), profile).await?;
            (found.url, found.region, found.default_region)
        }
        (None, Some(url)) => {
            let region = args
                .region
                .clone()
                .or_else(|| setup::host_region(url))
                .ok_or_else(|| {
                    anyhow::anyhow!("cannot tell the endpoint's Region from {url}: pass --region")
                })?;
            (url.clone(), region, None)
        }
        (None, None) => {
            let exe = std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .context("cannot find the path of this aws-mcp binary")?;
            return Ok(setup::ServerEntry::local(
                &exe,
                args.region.as_deref(),
                profile,
            ));
        }
    };
    let default_region = args
        .default_region
        .clone()
        .or(stack_default)
        .unwrap_or_else(|| region.clone());
    Ok(setup::ServerEntry::proxy(
        &url,
        &region,
        &default_region,
        profile,
    )?)
}

fn report(what: &str, done: &setup::Installed) {
    let backup = done
        .backup
        .as_ref()
        .map(|b| format!(" (previous copy: {})", b.display()))
        .unwrap_or_default();
    println!("{what}: {} in {}{backup}", done.change, done.path.display());
}

fn explain(command: &str) -> anyhow::Result<serde_json::Value> {
    let parsed = aws_engine::parse_command(command)?;
    let call = aws_engine::build_call(&parsed)?;
    let model = aws_models::models().service(&call.service)?;
    let operation = model
        .operation(&call.operation)
        .ok_or_else(|| anyhow::anyhow!("no operation {}", call.operation))?;
    let parts = aws_engine::serialize::serialize(&model, operation, &call.params)?;
    let region = parsed
        .globals
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    let service_id = model.metadata.service_id.clone().unwrap_or_default();
    let endpoint = aws_engine::endpoints::resolve(&call.service, &service_id, &region, &|k| {
        std::env::var(k).ok()
    })?;
    Ok(serde_json::json!({
        "service": call.service,
        "operation": call.operation,
        "protocol": aws_engine::serialize::protocol(&model),
        "region": region,
        "endpoint": {
            "url": endpoint.url,
            "signing_region": endpoint.signing_region,
            "signing_name": endpoint.signing_name,
            "from_endpoint_setting": endpoint.configured,
        },
        "params": call.params,
        "paging": call.paging,
        "request": {
            "method": parts.method,
            "path": parts.path,
            "query": parts.query,
            "headers": parts.headers,
            "host_prefix": parts.host_prefix,
            "body": String::from_utf8_lossy(&parts.body),
        },
    }))
}
