//! Lambda function for the presign tool group (get_presigned_url).

use mcp_server::GroupName;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(GroupName::Presign).await
}
