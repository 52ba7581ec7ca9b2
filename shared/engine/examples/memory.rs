//! Time and resident memory of each lazily loaded table, for keeping first calls fast and the
//! server small: `cargo run --release -p aws-engine --example memory [-- <cli-service> ...]`
//! (default: s3 then ec2).

use std::time::Instant;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn step(what: &str, work: impl FnOnce()) {
    let before = rss_kb();
    let started = Instant::now();
    work();
    println!(
        "{what}: {:.1} ms, +{} kB (now {} kB)",
        started.elapsed().as_secs_f64() * 1000.0,
        rss_kb().saturating_sub(before),
        rss_kb()
    );
}

fn main() {
    println!("start: {} kB", rss_kb());
    step("cli table", || {
        let _ = aws_engine::cli_table();
    });
    step("model index", || {
        let _ = aws_models::models().index();
    });
    step("endpoints", || {
        let _ = aws_engine::endpoints::known_regions();
    });
    step("read-only data", || {
        let _ = aws_engine::policy::is_read_only("s3", "ListBuckets");
    });
    let mut services: Vec<String> = std::env::args().skip(1).collect();
    if services.is_empty() {
        services = vec!["s3api".into(), "ec2".into()];
    }
    for cli_name in &services {
        let Ok(table) = aws_engine::cli_table() else {
            return;
        };
        let mut service = None;
        step(&format!("{cli_name} command table"), || {
            service = table.services.get(cli_name).map(|s| s.service.clone());
        });
        let Some(service) = service else {
            println!("{cli_name}: not a CLI service");
            continue;
        };
        step(&format!("{service} model"), || {
            let _ = aws_models::models().service(&service);
        });
        // Decoded for help and reference pages only, and not kept.
        step(&format!("{service} documentation (dropped)"), || {
            let _ = aws_models::models().docs(&service);
        });
    }
}
