//! Lambda function for the API execution tool group (call_aws, suggest_aws_commands,
//! run_script); it also runs long calls handed over as tasks.

#[global_allocator]
static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;

fn main() -> Result<(), lambda_http::Error> {
    // run_script workers are this binary started again with a hidden argument.
    mcp_server::run_script_worker_if_asked();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(mcp_server::lambda::run(&mcp_server::groups::Api))
}

/// The Python interpreter calls the C library's `hypot`; glibc 2.35 gave it a new symbol
/// version, which Lambda's Amazon Linux 2023 (glibc 2.34) lacks. Defining the symbol in the
/// binary binds those calls to this pure-Rust implementation instead.
#[unsafe(no_mangle)]
pub extern "C" fn hypot(x: f64, y: f64) -> f64 {
    libm::hypot(x, y)
}
