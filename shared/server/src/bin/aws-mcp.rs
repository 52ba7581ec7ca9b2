//! `aws-mcp`: the AWS MCP server on a laptop, over stdio or Streamable HTTP.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use mcp_server::{App, GroupName, Mode, Settings};

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
}

/// Counts the script worker's allocations so its memory limit is exact.
#[global_allocator]
static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;

fn main() -> anyhow::Result<()> {
    // A script worker is this same program started with a hidden argument; it must not
    // start the async runtime or parse the command line.
    mcp_server::run_script_worker_if_asked();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
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
            let app = Arc::new(App::build(settings, Mode::Stdio).await?);
            mcp_server::local::run_stdio(app).await?;
        }
        Command::Http { listen, groups } => {
            mcp_server::init_tracing(Mode::LocalHttp);
            let settings = Settings::from_env(Mode::LocalHttp, GroupName::parse_list(&groups)?)?;
            let app = Arc::new(App::build(settings, Mode::LocalHttp).await?);
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
