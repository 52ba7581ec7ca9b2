//! Lambda function for the knowledge tool group (regions, regional availability, skills).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(&mcp_server::groups::Knowledge).await
}
