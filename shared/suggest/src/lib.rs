//! Offline suggestions of AWS CLI commands for natural-language requests ("list my s3
//! buckets" -> `aws s3api list-buckets`), for the `aws___suggest_aws_commands` tool.
//!
//! [`Suggester`] holds an in-memory index over every operation of the AWS CLI's command table
//! (plus its high-level commands such as `aws s3 cp`), built from the bundled models in a
//! fraction of a second; [`Suggester::suggest`] ranks it for a request with a hand-tuned
//! scoring model (see [`rank`]): services named or implied by the request, its verb against
//! the operation's verb, its words against the operation name, summary and parameter names,
//! and a prior for commonly used services.

#![warn(unreachable_pub)]

pub mod eval;
mod index;
pub mod rank;
pub mod text;
pub mod vocab;

use std::sync::OnceLock;

pub use index::{Index, SuggestError};

/// One suggested command.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// `aws s3api list-buckets`.
    pub command: String,
    /// The first sentence(s) of the operation's documentation, plain text.
    pub description: String,
    /// The options the command cannot run without, as the CLI spells them (`--bucket`);
    /// positional arguments of high-level commands are written `<source>`.
    pub required_parameters: Vec<String>,
    /// 0..1, how sure the ranking is; suggestions come best first.
    pub confidence: f64,
}

/// The suggestion index and its ranking.
pub struct Suggester {
    index: Index,
}

impl Suggester {
    /// Builds the index from the bundled models and CLI table.
    pub fn new() -> Result<Self, SuggestError> {
        let started = std::time::Instant::now();
        let index = Index::build()?;
        tracing::debug!(
            entries = index.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "suggest index built"
        );
        Ok(Self { index })
    }

    /// The process-wide suggester, built on first call.
    pub fn global() -> Result<&'static Suggester, SuggestError> {
        static GLOBAL: OnceLock<Result<Suggester, SuggestError>> = OnceLock::new();
        GLOBAL
            .get_or_init(Suggester::new)
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Starts building the process-wide suggester on a background thread, so that a server
    /// can answer its first request without waiting for the index.
    pub fn prewarm() {
        let spawned = std::thread::Builder::new()
            .name("suggest-index".into())
            .spawn(|| {
                if let Err(e) = Suggester::global() {
                    tracing::warn!(error = %e, "suggest index not built");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the suggest index thread");
        }
    }

    /// Up to `limit` commands for the request, best first.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<Suggestion> {
        rank::rank(&self.index, query, limit)
            .into_iter()
            .map(|r| Suggestion {
                command: self.index.command(r.entry),
                description: self.index.description(r.entry),
                required_parameters: self.index.required_parameters(r.entry),
                confidence: r.confidence,
            })
            .collect()
    }

    /// The number of commands indexed.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// The index, for inspecting scores.
    pub fn index(&self) -> &Index {
        &self.index
    }
}
