//! Evaluation and benchmark of the suggestion index: recall@1, recall@5 and MRR over
//! `tests/data/suggest_queries.json`, index build time, and warm query latency.
//!
//! Run: `cargo run --release -p aws-suggest --example suggest_eval [-- --verbose]`
//! (`--verbose` prints every query that misses its first place).

use std::time::{Duration, Instant};

use aws_suggest::Suggester;
use aws_suggest::eval::{Case, evaluate};

fn load_cases(file: &str) -> Vec<Case> {
    let path = format!("{}/../../tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(path).expect("query set");
    let v: Vec<serde_json::Value> = serde_json::from_str(&raw).expect("query set is JSON");
    v.into_iter()
        .map(|c| Case {
            query: c["query"].as_str().expect("query").to_owned(),
            expected: c["expected"]
                .as_array()
                .expect("expected")
                .iter()
                .map(|e| e.as_str().expect("command").to_owned())
                .collect(),
        })
        .collect()
}

/// A `/proc/self/status` figure in kB (0 where there is none).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn rss_kb() -> u64 {
    status_kb("VmRSS:")
}

fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let verbose = std::env::args().any(|a| a == "--verbose");
    let cases = load_cases("suggest_queries.json");
    // Written after the ranking was tuned on the main set, and never tuned on: it shows how
    // far the tuning carries over to new phrasings.
    let holdout = load_cases("suggest_queries_holdout.json");

    // Cold build: the first build in this process also decodes the bundled tables it reads.
    let rss_before = rss_kb();
    let t = Instant::now();
    let suggester = Suggester::new().expect("index");
    let cold_build = t.elapsed();
    let (rss_index, peak_index) = (rss_kb().saturating_sub(rss_before), peak_rss_kb());
    let t = Instant::now();
    let again = Suggester::new().expect("index");
    let warm_build = t.elapsed();
    drop(again);

    // First pass: every service model the answers need is decoded on first use.
    let t = Instant::now();
    let report = evaluate(&suggester, &cases, 10);
    let first_pass = t.elapsed();

    let reps = 50;
    let mut times = Vec::with_capacity(cases.len() * reps);
    for _ in 0..reps {
        for c in &cases {
            let t = Instant::now();
            let out = suggester.suggest(&c.query, 5);
            times.push(t.elapsed());
            std::hint::black_box(out);
        }
    }
    times.sort();

    let held = evaluate(&suggester, &holdout, 10);
    if verbose {
        for (c, r) in cases
            .iter()
            .zip(&report.ranks)
            .chain(holdout.iter().zip(&held.ranks))
        {
            if *r != Some(1) {
                println!(
                    "rank {:>4}  {:<60} want {:?}",
                    r.map_or("-".to_owned(), |r| r.to_string()),
                    c.query,
                    c.expected
                );
                for s in suggester.suggest(&c.query, 5) {
                    println!("            {:.3} {}", s.confidence, s.command);
                }
            }
        }
    }
    let services: std::collections::BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| {
            c.expected
                .iter()
                .filter_map(|e| e.split_whitespace().nth(1))
        })
        .collect();
    println!(
        "queries: {} over {} services; {} commands indexed",
        cases.len(),
        services.len(),
        suggester.len()
    );
    println!("recall@1: {:.3}", report.recall_at(1));
    println!("recall@5: {:.3}", report.recall_at(5));
    println!("recall@10: {:.3}", report.recall_at(10));
    println!("MRR@10: {:.3}", report.mrr());
    println!(
        "held-out set ({} queries): recall@1 {:.3}, recall@5 {:.3}, MRR@10 {:.3}",
        holdout.len(),
        held.recall_at(1),
        held.recall_at(5),
        held.mrr()
    );
    // Calibration: how often the first suggestion is right, by its confidence.
    let mut bins = [(0usize, 0usize); 5];
    for (c, r) in cases
        .iter()
        .zip(&report.ranks)
        .chain(holdout.iter().zip(&held.ranks))
    {
        let conf = suggester
            .suggest(&c.query, 1)
            .first()
            .map_or(0.0, |s| s.confidence);
        let b = ((conf * 5.0) as usize).min(4);
        bins[b].0 += 1;
        if *r == Some(1) {
            bins[b].1 += 1;
        }
    }
    for (i, (n, right)) in bins.iter().enumerate() {
        if *n > 0 {
            println!(
                "top-1 confidence {:.1}-{:.1}: {n} queries, {:.0}% right",
                i as f64 / 5.0,
                (i + 1) as f64 / 5.0,
                100.0 * *right as f64 / *n as f64
            );
        }
    }
    println!(
        "index build: {:.1} ms cold, {:.1} ms rebuilt; the index holds {rss_index} kB \
         (process peak {peak_index} kB after the build)",
        ms(cold_build),
        ms(warm_build)
    );
    println!(
        "first pass over all queries (decodes models): {:.1} ms",
        ms(first_pass)
    );
    println!(
        "warm query latency over {} queries x {reps}: median {:.3} ms, p95 {:.3} ms, max {:.3} ms",
        cases.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().expect("times"))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
