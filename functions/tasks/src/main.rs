//! Lambda function for the task polling tool group (get_tasks).

use mcp_server::GroupName;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(GroupName::Tasks).await
}
