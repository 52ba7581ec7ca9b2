//! The sandbox worker without the counting allocator, as a binary that embeds
//! `script_sandbox::worker_main` without declaring `WorkerAllocator` would be: the tests use it
//! to check that the address-space limit alone still stops a memory bomb.

fn main() {
    script_sandbox::worker_main()
}
