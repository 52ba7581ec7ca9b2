//! Time and resident memory to decode service models, for keeping first calls fast and the
//! server small: `cargo run --release -p aws-models --example decode -- ec2 s3`.

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

fn main() {
    let models = aws_models::models();
    let started = Instant::now();
    if let Err(e) = models.index() {
        eprintln!("index: {e}");
        std::process::exit(1);
    }
    println!("index: {:.1} ms, {} kB", ms(started), rss_kb());
    let services: Vec<String> = std::env::args().skip(1).collect();
    let services = if services.is_empty() {
        vec!["ec2".to_owned()]
    } else {
        services
    };
    for service in &services {
        let before = rss_kb();
        let started = Instant::now();
        match models.service(service) {
            Ok(m) => println!(
                "{service}: {} shapes in {:.1} ms, +{} kB",
                m.shape_names().count(),
                ms(started),
                rss_kb().saturating_sub(before)
            ),
            Err(e) => println!("{service}: {e}"),
        }
        let started = Instant::now();
        match models.docs(service) {
            Ok(_) => println!("{service} documentation: {:.1} ms", ms(started)),
            Err(e) => println!("{service} documentation: {e}"),
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}
