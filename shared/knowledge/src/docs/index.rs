//! The offline search index: every skill and every API operation in one BM25 index
//! (English stemming and stop words from the `bm25` crate).
//!
//! The index of the bundled skills and models is generated ahead of time into
//! `data/search_index.bin.gz` (`cargo run -p knowledge-tools --example search_index_gen`;
//! a test checks it is current) and opened without rebuilding; a library with other skills
//! (a skills folder, S3) builds its own on first use.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_models::{api_docs, models};
use bm25::{Embedder, EmbedderBuilder, Language, TokenEmbedder};

use super::associations::{Associations, Stemmer};
use super::prebuilt;

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

/// BM25 parameters of the `bm25` crate's embedder (its defaults).
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// The BM25 weight of a term in a document, computed exactly as the `bm25` embedder does.
pub(crate) fn term_weight(tf: u16, doc_len: u32, avgdl: f32) -> f32 {
    let tf = f32::from(tf);
    tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * (doc_len as f32 / avgdl)))
}

/// An inverted index: terms (token hashes of the `bm25` embedder) sorted, each with its
/// inverse document frequency and its postings (document, term count, BM25 weight).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Postings {
    pub(crate) terms: Vec<u32>,
    pub(crate) idf: Vec<f32>,
    /// Postings of term `i` are `starts[i]..starts[i + 1]`, by document number.
    pub(crate) starts: Vec<u32>,
    pub(crate) doc: Vec<u32>,
    pub(crate) tf: Vec<u16>,
    pub(crate) weight: Vec<f32>,
    /// Tokens per document.
    pub(crate) doc_len: Vec<u32>,
}

impl Postings {
    fn build(embeddings: &[bm25::Embedding<u32>], avgdl: f32) -> Self {
        let mut by_term: HashMap<u32, Vec<(u32, u16)>> = HashMap::new();
        let mut doc_len = Vec::with_capacity(embeddings.len());
        for (d, embedding) in embeddings.iter().enumerate() {
            // The embedding holds a token once per occurrence.
            let mut counts: Vec<(u32, u16)> = Vec::new();
            for t in &embedding.0 {
                match counts.iter_mut().find(|(i, _)| *i == t.index) {
                    Some((_, n)) => *n = n.saturating_add(1),
                    None => counts.push((t.index, 1)),
                }
            }
            for (term, n) in counts {
                by_term.entry(term).or_default().push((d as u32, n));
            }
            doc_len.push(embedding.0.len() as u32);
        }
        let mut terms: Vec<u32> = by_term.keys().copied().collect();
        terms.sort_unstable();
        let mut out = Postings {
            doc_len,
            ..Postings::default()
        };
        for term in terms {
            let list = &by_term[&term];
            out.terms.push(term);
            out.starts.push(out.doc.len() as u32);
            for &(d, n) in list {
                out.doc.push(d);
                out.tf.push(n);
            }
        }
        out.starts.push(out.doc.len() as u32);
        out.finish(avgdl);
        out
    }

    /// Computes inverse document frequencies and weights from the counts.
    pub(crate) fn finish(&mut self, avgdl: f32) {
        let n = self.doc_len.len() as f32;
        self.idf = self
            .starts
            .windows(2)
            .map(|w| {
                let df = (w[1] - w[0]) as f32;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        self.weight = self
            .doc
            .iter()
            .zip(&self.tf)
            .map(|(&d, &tf)| {
                let len = self.doc_len.get(d as usize).copied().unwrap_or(0);
                term_weight(tf, len, avgdl)
            })
            .collect();
    }

    /// BM25 score of every document holding a query term, each term scaled by its weight
    /// (a repeated term counts again).
    fn scores(&self, query: &[(u32, f32)], docs: usize) -> Vec<(usize, f32)> {
        let mut score = vec![0f32; docs];
        let mut touched = vec![false; docs];
        for &(term, scale) in query {
            let Ok(t) = self.terms.binary_search(&term) else {
                continue;
            };
            let (from, to) = (self.starts[t] as usize, self.starts[t + 1] as usize);
            for p in from..to {
                let d = self.doc[p] as usize;
                if d < docs {
                    score[d] += scale * self.idf[t] * self.weight[p];
                    touched[d] = true;
                }
            }
        }
        (0..docs)
            .filter(|&d| touched[d])
            .map(|d| (d, score[d]))
            .collect()
    }
}

pub struct SearchIndex {
    embedder: Embedder,
    postings: Postings,
    /// Opened from the prebuilt file: contexts of API pages come from its context file.
    prebuilt: bool,
    pub docs: Vec<IndexedDoc>,
    skills: Arc<SkillLibrary>,
    associations: Arc<Associations>,
    /// Per document: an operation with CLI example titles (see `TITLED_PRIOR`).
    titled: Vec<bool>,
    stemmer: Stemmer,
}

/// How much a word linked to a query word counts, relative to the query's own words (times
/// the link's weight). Tuned on `retrieval-dev` and `search_queries.json`.
const LINK_SCALE: f32 = 0.4;

/// How much more an operation with CLI examples scores: the CLI documents the operations
/// people use, and a request is far more often about one of those than about a look-alike
/// nobody documented (`DeleteStack` over `DeleteStackInstances`). Tuned as `LINK_SCALE`.
const TITLED_PRIOR: f32 = 0.2;

/// Which documents are operations with CLI example titles.
fn titled_docs(docs: &[IndexedDoc], associations: &Associations) -> Vec<bool> {
    docs.iter()
        .map(|d| match &d.kind {
            DocKind::Api { service, operation } => {
                associations.phrases_of(service, operation).is_some()
            }
            DocKind::Skill { .. } => false,
        })
        .collect()
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

/// The indexed text of each skill, in library order.
fn skill_texts(skills: &SkillLibrary) -> Vec<(IndexedDoc, String)> {
    let mut out = Vec::new();
    for skill in skills.iter() {
        // Name, description and section headings: a skill's body is long, and BM25's
        // length normalisation would otherwise bury it under short API entries.
        let words = skill.name.replace('-', " ");
        let headings: Vec<&str> = skill_body(skill.body())
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim())
            .collect();
        let text = format!(
            "{words} {words} {words} {} {} {}",
            skill.description,
            skill.description,
            headings.join(" ")
        );
        let doc = IndexedDoc {
            kind: DocKind::Skill {
                name: skill.name.clone(),
            },
            title: format!(
                "Skill: {} ({})",
                skill.name,
                skill.kind.as_deref().unwrap_or("skill")
            ),
            url: format!("skill://{}", skill.name),
        };
        out.push((doc, text));
    }
    out
}

/// A stable fingerprint (FNV-1a) of the skills' indexed text: the prebuilt index serves a
/// library only when it was built from the same skills.
pub(crate) fn skills_fingerprint(skills: &[(IndexedDoc, String)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (doc, text) in skills {
        for b in doc.url.bytes().chain([0]).chain(text.bytes()).chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

impl SearchIndex {
    /// Builds the index of these skills and every API operation, with the bundled
    /// associations.
    pub fn build(skills: Arc<SkillLibrary>) -> Self {
        Self::build_with(skills, Associations::bundled())
    }

    /// Builds the index with the given associations (the generator passes freshly mined ones).
    pub fn build_with(skills: Arc<SkillLibrary>, associations: Arc<Associations>) -> Self {
        let (mut docs, mut texts): (Vec<IndexedDoc>, Vec<String>) =
            skill_texts(&skills).into_iter().unzip();
        if let (Ok(index), Ok(ops)) = (models().index(), api_docs()) {
            for op in ops {
                let Some(service) = index.services.get(op.service) else {
                    continue;
                };
                let words = split_camel(&op.operation);
                // The first sentences say what the operation does; the rest is detail that
                // would dilute the name's weight.
                let summary: String = op.text.chars().take(300).collect();
                // How people phrase the operation's task (the CLI's example titles).
                let phrases = associations
                    .phrases_of(&service.service_name, &op.operation)
                    .unwrap_or_default();
                texts.push(format!(
                    "{} {} {} {} {words} {words} {words} {} {summary} {phrases}",
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
        let embeddings: Vec<bm25::Embedding<u32>> =
            texts.iter().map(|t| embedder.embed(t)).collect();
        Self {
            postings: Postings::build(&embeddings, embedder.avgdl()),
            prebuilt: false,
            embedder,
            titled: titled_docs(&docs, &associations),
            docs,
            skills,
            associations,
            stemmer: Stemmer::new(),
        }
    }

    /// The prebuilt index, when it was built from this library's skills.
    pub fn prebuilt(skills: Arc<SkillLibrary>) -> Option<Self> {
        let fingerprint = skills_fingerprint(&skill_texts(&skills));
        match prebuilt::open(fingerprint) {
            Ok(Some(p)) => Some(Self {
                titled: titled_docs(&p.docs, &Associations::bundled()),
                embedder: EmbedderBuilder::with_avgdl(p.avgdl)
                    .language_mode(Language::English)
                    .build(),
                postings: p.postings,
                prebuilt: true,
                docs: p.docs,
                skills,
                associations: Associations::bundled(),
                stemmer: Stemmer::new(),
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "prebuilt search index unreadable; building one");
                None
            }
        }
    }

    /// The prebuilt file's bytes (uncompressed) for this index.
    pub fn encode(&self) -> Vec<u8> {
        let fingerprint = skills_fingerprint(&skill_texts(&self.skills));
        prebuilt::encode(
            fingerprint,
            self.embedder.avgdl(),
            &self.docs,
            &self.postings,
        )
    }

    /// Documents matching the query, best first, optionally filtered by kind.
    pub fn search(&self, query: &str, keep: impl Fn(&DocKind) -> bool) -> Vec<Hit> {
        let terms = self.query_terms(query);
        let mut hits: Vec<Hit> = self
            .postings
            .scores(&terms, self.docs.len())
            .into_iter()
            .filter(|&(d, _)| keep(&self.docs[d].kind))
            .map(|(doc, score)| Hit { doc, score })
            .collect();
        for h in &mut hits {
            if self.titled.get(h.doc).copied().unwrap_or(false) {
                h.score *= 1.0 + TITLED_PRIOR;
            }
        }
        // Ties go to the lower document number, so rankings are the same in every process.
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
        hits
    }

    /// The query's terms with their weights: its own words count once per occurrence, the
    /// words they are linked to count `LINK_SCALE` times the link's weight (once, and not when
    /// the query has the word already).
    fn query_terms(&self, query: &str) -> Vec<(u32, f32)> {
        let own = self.embedder.embed(&expand_query(query));
        let mut terms: Vec<(u32, f32)> = own.0.iter().map(|t| (t.index, 1.0)).collect();
        let mut linked: Vec<(u32, f32)> = Vec::new();
        for stem in self.stemmer.stems(query) {
            for (to, w) in self.associations.links_of(&stem) {
                let term = <u32 as TokenEmbedder>::embed(to);
                if terms.iter().any(|&(t, _)| t == term) {
                    continue;
                }
                match linked.iter_mut().find(|(t, _)| *t == term) {
                    Some((_, best)) => *best = best.max(LINK_SCALE * w),
                    None => linked.push((term, LINK_SCALE * w)),
                }
            }
        }
        terms.extend(linked);
        terms
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
                if self.prebuilt
                    && let Some(text) = prebuilt::context(doc)
                {
                    return text;
                }
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
                            .map(|o| o.text.as_str())
                    })
                    .unwrap_or_default();
                api_context(service, operation, text)
            }
        }
    }

    /// The context of every document, in document order (empty for skills, whose context
    /// comes from the library), compressed in blocks: the prebuilt context file.
    pub fn encode_contexts(&self) -> std::io::Result<Vec<u8>> {
        let mut texts: HashMap<(&str, &str), &str> = HashMap::new();
        let names = models().index().ok();
        if let (Some(index), Ok(ops)) = (names.as_ref(), api_docs()) {
            for op in ops {
                if let Some(service) = index.services.get(op.service) {
                    texts.insert((&service.service_name, &op.operation), &op.text);
                }
            }
        }
        let contexts: Vec<String> = self
            .docs
            .iter()
            .map(|d| match &d.kind {
                DocKind::Skill { .. } => String::new(),
                DocKind::Api { service, operation } => {
                    let text = texts.get(&(service.as_str(), operation.as_str()));
                    api_context(service, operation, text.copied().unwrap_or_default())
                }
            })
            .collect();
        prebuilt::encode_contexts(&contexts)
    }
}

fn api_context(service: &str, operation: &str, text: &str) -> String {
    cut(
        &format!("Service: {service}. Operation: {operation}.\n\n{text}"),
        CONTEXT_CHARS,
    )
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
        self.cell.get_or_init(|| {
            SearchIndex::prebuilt(self.skills.clone())
                .unwrap_or_else(|| SearchIndex::build(self.skills.clone()))
        })
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

    #[test]
    fn prebuilt_index_is_current() {
        let skills = Arc::new(SkillLibrary::bundled());
        let built = SearchIndex::build(skills.clone());
        let fingerprint = skills_fingerprint(&skill_texts(&skills));
        let stored = super::prebuilt::stored_bytes().expect("prebuilt index readable");
        assert!(
            stored == built.encode(),
            "data/search_index.bin.gz is stale: run \
             `cargo run -p knowledge-tools --example search_index_gen`"
        );
        let opened =
            SearchIndex::prebuilt(skills).expect("prebuilt index serves the bundled skills");
        assert_eq!(opened.postings, built.postings);
        assert_eq!(opened.embedder.avgdl(), built.embedder.avgdl());
        for query in [
            "describe vpcs ec2",
            "least privilege iam policy",
            "AccessDenied s3 bucket",
        ] {
            let a: Vec<(usize, f32)> = built
                .search(query, |_| true)
                .iter()
                .map(|h| (h.doc, h.score))
                .collect();
            let b: Vec<(usize, f32)> = opened
                .search(query, |_| true)
                .iter()
                .map(|h| (h.doc, h.score))
                .collect();
            assert_eq!(a, b, "{query}");
        }
        assert!(
            super::prebuilt::open(fingerprint ^ 1)
                .expect("readable")
                .is_none()
        );
        assert!(
            super::prebuilt::stored_contexts() == built.encode_contexts().expect("encoded"),
            "data/search_context.bin is stale: run the generator"
        );
        let api = (0..built.docs.len())
            .filter(|&d| matches!(built.docs[d].kind, DocKind::Api { .. }))
            .step_by(997);
        for d in api {
            assert_eq!(opened.context(d), built.context(d));
        }
    }

    #[test]
    fn postings_score_as_bm25_does() {
        let texts = [
            "list the buckets",
            "bucket policy of a bucket",
            "describe instances",
        ];
        let embedder: Embedder =
            EmbedderBuilder::with_fit_to_corpus(Language::English, &texts).build();
        let embeddings: Vec<_> = texts.iter().map(|t| embedder.embed(t)).collect();
        let postings = Postings::build(&embeddings, embedder.avgdl());
        let mut scorer = bm25::Scorer::<usize>::new();
        for (i, e) in embeddings.iter().enumerate() {
            scorer.upsert(&i, e.clone());
        }
        let query = embedder.embed("bucket policy bucket");
        let terms: Vec<(u32, f32)> = query.0.iter().map(|t| (t.index, 1.0)).collect();
        let mut ours = postings.scores(&terms, texts.len());
        ours.sort_by_key(|h| h.0);
        let mut theirs: Vec<(usize, f32)> = scorer
            .matches(&query)
            .into_iter()
            .map(|m| (m.id, m.score))
            .collect();
        theirs.sort_by_key(|h| h.0);
        assert_eq!(ours, theirs);
    }
}
