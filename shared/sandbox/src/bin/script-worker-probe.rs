//! Test-only: the worker's sandbox layers, then one forbidden call, reported (see
//! `script_sandbox::probe`). Used by `tests/layers.rs`; no server starts it.

#[global_allocator]
static ALLOC: script_sandbox::WorkerAllocator = script_sandbox::WorkerAllocator;

fn main() {
    #[cfg(target_os = "linux")]
    script_sandbox::probe::probe_main();
    #[cfg(not(target_os = "linux"))]
    {
        eprintln!("the sandbox probes run on Linux only");
        std::process::exit(2);
    }
}
