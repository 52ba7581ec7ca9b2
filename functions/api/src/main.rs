//! Lambda function for the API execution tool group (call_aws, suggest_aws_commands,
//! run_script).

use mcp_server::GroupName;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(GroupName::Api).await
}
