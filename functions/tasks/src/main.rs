//! Lambda function for the task polling tool group (get_tasks).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(&mcp_server::groups::Tasks).await
}
