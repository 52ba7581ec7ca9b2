//! Retrieval metrics over a labelled query set, shared by the crate's test and the
//! `suggest_eval` example.

use crate::Suggester;

/// A request and the commands that answer it (`aws <cli-service> <cli-operation>`).
#[derive(Debug, Clone)]
pub struct Case {
    pub query: String,
    pub expected: Vec<String>,
}

/// Where the first acceptable command ranked, per case (`None`: not in the top `depth`).
#[derive(Debug, Clone)]
pub struct Report {
    pub ranks: Vec<Option<usize>>,
    pub depth: usize,
}

impl Report {
    /// Share of cases answered within the first `k` suggestions.
    pub fn recall_at(&self, k: usize) -> f64 {
        if self.ranks.is_empty() {
            return 0.0;
        }
        let hits = self
            .ranks
            .iter()
            .filter(|r| r.is_some_and(|r| r <= k))
            .count();
        hits as f64 / self.ranks.len() as f64
    }

    /// Mean reciprocal rank (0 for cases not answered within the depth).
    pub fn mrr(&self) -> f64 {
        if self.ranks.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .ranks
            .iter()
            .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
            .sum();
        sum / self.ranks.len() as f64
    }
}

/// The command part of a suggestion or an expectation: `aws s3api list-buckets`.
fn command_key(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Ranks of the first acceptable command of each case, looking `depth` suggestions deep.
pub fn evaluate(suggester: &Suggester, cases: &[Case], depth: usize) -> Report {
    let ranks = cases
        .iter()
        .map(|c| {
            let expected: Vec<String> = c.expected.iter().map(|e| command_key(e)).collect();
            suggester
                .suggest(&c.query, depth)
                .iter()
                .position(|s| expected.contains(&command_key(&s.command)))
                .map(|i| i + 1)
        })
        .collect();
    Report { ranks, depth }
}
