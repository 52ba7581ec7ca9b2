//! Lambda function for the knowledge tool group (regions, regional availability, skills).

use mcp_server::GroupName;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(GroupName::Knowledge).await
}
