//! Lambda function for the presign tool group (get_presigned_url).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mcp_server::lambda::run(&mcp_server::groups::Presign).await
}
