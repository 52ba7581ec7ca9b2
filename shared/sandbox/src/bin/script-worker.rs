//! The sandbox worker as a stand-alone binary (used by this crate's tests; servers embed
//! `script_sandbox::worker_main` in their own binary instead).

#[global_allocator]
static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;

fn main() {
    script_sandbox::worker_main()
}
