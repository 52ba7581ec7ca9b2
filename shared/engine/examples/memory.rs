//! Resident memory after each lazily loaded table, for keeping the server small:
//! `cargo run --release -p aws-engine --example memory`.

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    println!("start: {} kB", rss_kb());
    let _ = aws_engine::cli_table();
    println!("cli table: {} kB", rss_kb());
    let _ = aws_models::models().index();
    println!("model index: {} kB", rss_kb());
    let _ = aws_models::models().service("s3");
    println!("s3 model: {} kB", rss_kb());
    let _ = aws_engine::endpoints::known_regions();
    println!("endpoints: {} kB", rss_kb());
    let _ = aws_engine::policy::is_read_only("s3", "ListBuckets");
    println!("read-only data: {} kB", rss_kb());
    let _ = aws_models::models().service("ec2");
    println!("ec2 model: {} kB", rss_kb());
}
