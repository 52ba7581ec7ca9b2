// Rebuild when a bundled skill or data snapshot changes (both are embedded in the binary).
fn main() {
    println!("cargo:rerun-if-changed=../../infra/skills");
    println!("cargo:rerun-if-changed=data");
}
