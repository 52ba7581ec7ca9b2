//! The offline search index: every skill and every API operation in one BM25 index
//! (English stemming and stop words from the `bm25` crate), built on first use.

use std::sync::{Arc, OnceLock};

use aws_models::{api_docs, models};
use bm25::{Embedder, EmbedderBuilder, Language, Scorer};

use crate::skills::SkillLibrary;

/// Longest context returned with a hit, in characters.
pub const CONTEXT_CHARS: usize = 1500;

/// What a document of the index is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocKind {
    Skill { name: String },
    Api { service: String, operation: String },
}

#[derive(Debug, Clone)]
pub struct IndexedDoc {
    pub kind: DocKind,
    pub title: String,
    pub url: String,
}

/// A scored hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub doc: usize,
    pub score: f32,
}

pub struct SearchIndex {
    embedder: Embedder,
    scorer: Scorer<usize>,
    pub docs: Vec<IndexedDoc>,
    skills: Arc<SkillLibrary>,
}

/// `DescribeVpcs` -> `Describe Vpcs`, so words of operation names match words of queries.
pub fn split_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

fn skill_body(text: &str) -> &str {
    // Skip the front matter.
    text.strip_prefix("---")
        .and_then(|rest| rest.find("\n---").map(|i| &rest[i + 4..]))
        .unwrap_or(text)
        .trim_start_matches(['-', '\n'])
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_owned(),
    }
}

/// Words agents use for what API operation names call differently.
const SYNONYMS: &[(&str, &str)] = &[
    ("list", "describe list"),
    ("show", "describe get list"),
    ("remove", "delete remove"),
    ("add", "create put add"),
    ("make", "create"),
    ("new", "create"),
    ("change", "update modify"),
    ("edit", "update modify"),
    ("set", "put set update"),
    ("enable", "put enable"),
    ("turn", "put enable"),
    ("run", "run start invoke"),
    ("launch", "run create"),
    ("call", "invoke"),
    ("trigger", "invoke start"),
    ("who", "identity caller"),
    ("whoami", "get caller identity"),
];

/// Adds the operation vocabulary for common request words.
fn expand_query(query: &str) -> String {
    let mut out = query.to_owned();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let lower = word.to_ascii_lowercase();
        if let Some((_, more)) = SYNONYMS.iter().find(|(w, _)| *w == lower) {
            out.push(' ');
            out.push_str(more);
        }
    }
    out
}

impl SearchIndex {
    pub fn build(skills: Arc<SkillLibrary>) -> Self {
        let mut docs = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for skill in skills.iter() {
            // Name, description and section headings: a skill's body is long, and BM25's
            // length normalisation would otherwise bury it under short API entries.
            let words = skill.name.replace('-', " ");
            let headings: Vec<&str> = skill_body(skill.body())
                .lines()
                .filter(|l| l.starts_with('#'))
                .map(|l| l.trim_start_matches('#').trim())
                .collect();
            texts.push(format!(
                "{words} {words} {words} {} {} {}",
                skill.description,
                skill.description,
                headings.join(" ")
            ));
            docs.push(IndexedDoc {
                kind: DocKind::Skill {
                    name: skill.name.clone(),
                },
                title: format!(
                    "Skill: {} ({})",
                    skill.name,
                    skill.kind.as_deref().unwrap_or("skill")
                ),
                url: format!("skill://{}", skill.name),
            });
        }
        if let (Ok(index), Ok(ops)) = (models().index(), api_docs()) {
            for op in ops {
                let Some(service) = index.services.get(op.service) else {
                    continue;
                };
                let words = split_camel(&op.operation);
                // The first sentences say what the operation does; the rest is detail that
                // would dilute the name's weight.
                let summary: String = op.text.chars().take(300).collect();
                texts.push(format!(
                    "{} {} {} {} {words} {words} {words} {} {summary}",
                    service.full_name,
                    service.display_name(),
                    service.service_id,
                    service.service_name,
                    op.operation
                ));
                docs.push(IndexedDoc {
                    kind: DocKind::Api {
                        service: service.service_name.clone(),
                        operation: op.operation.clone(),
                    },
                    title: format!("{} API Reference: {}", service.display_name(), op.operation),
                    url: service.api_reference_url(&op.operation),
                });
            }
        }
        let corpus: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embedder: Embedder =
            EmbedderBuilder::with_fit_to_corpus(Language::English, &corpus).build();
        let mut scorer = Scorer::new();
        for (i, text) in texts.iter().enumerate() {
            scorer.upsert(&i, embedder.embed(text));
        }
        Self {
            embedder,
            scorer,
            docs,
            skills,
        }
    }

    /// Documents matching the query, best first, optionally filtered by kind.
    pub fn search(&self, query: &str, keep: impl Fn(&DocKind) -> bool) -> Vec<Hit> {
        let embedding = self.embedder.embed(&expand_query(query));
        self.scorer
            .matches(&embedding)
            .into_iter()
            .filter(|m| self.docs.get(m.id).is_some_and(|d| keep(&d.kind)))
            .map(|m| Hit {
                doc: m.id,
                score: m.score,
            })
            .collect()
    }

    /// The text returned with a hit: a real chunk of the source.
    pub fn context(&self, doc: usize) -> String {
        let Some(d) = self.docs.get(doc) else {
            return String::new();
        };
        match &d.kind {
            DocKind::Skill { name } => match self.skills.get(name) {
                Some(skill) => cut(
                    &format!(
                        "{}\n\n{}",
                        skill.description,
                        skill_body(skill.body()).trim()
                    ),
                    CONTEXT_CHARS,
                ),
                None => String::new(),
            },
            DocKind::Api { service, operation } => {
                let text = api_docs()
                    .ok()
                    .and_then(|ops| {
                        let index = models().index().ok()?;
                        let si = index
                            .services
                            .iter()
                            .position(|s| &s.service_name == service)?;
                        ops.iter()
                            .find(|o| o.service == si && &o.operation == operation)
                            .map(|o| o.text.clone())
                    })
                    .unwrap_or_default();
                cut(
                    &format!("Service: {service}. Operation: {operation}.\n\n{text}"),
                    CONTEXT_CHARS,
                )
            }
        }
    }
}

/// The index, built once per process on first use.
pub struct LazyIndex {
    skills: Arc<SkillLibrary>,
    cell: OnceLock<SearchIndex>,
}

impl LazyIndex {
    pub fn new(skills: Arc<SkillLibrary>) -> Self {
        Self {
            skills,
            cell: OnceLock::new(),
        }
    }

    pub fn get(&self) -> &SearchIndex {
        self.cell
            .get_or_init(|| SearchIndex::build(self.skills.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_splits_into_words() {
        assert_eq!(split_camel("DescribeVpcs"), "Describe Vpcs");
        assert_eq!(split_camel("ListBuckets"), "List Buckets");
        assert_eq!(split_camel("GetSAMLProvider"), "Get SAMLProvider");
    }

    #[test]
    fn finds_skills_and_operations() {
        let index = SearchIndex::build(Arc::new(SkillLibrary::bundled()));
        let hits = index.search("describe vpcs ec2", |_| true);
        let top = &index.docs[hits[0].doc];
        assert_eq!(
            top.kind,
            DocKind::Api {
                service: "ec2".into(),
                operation: "DescribeVpcs".into()
            }
        );
        let skills = index.search("least privilege iam policy", |k| {
            matches!(k, DocKind::Skill { .. })
        });
        assert_eq!(
            index.docs[skills[0].doc].kind,
            DocKind::Skill {
                name: "iam-least-privilege-policies".into()
            }
        );
        assert!(index.context(skills[0].doc).len() > 200);
    }
}
