//! Learned word associations of the offline search: how people phrase a task versus the words
//! of the API operation that does it.
//!
//! Mined ahead of time (`search_index_gen`, from pinned inputs) and embedded as
//! `data/search_assoc.bin.gz`:
//!
//! - **phrases**: the AWS CLI's example titles of each operation ("To list the objects in a
//!   bucket" for `s3 ListObjectsV2`), added to the operation's indexed text, so an operation
//!   is also found by how people name its task;
//! - **links**: query word -> operation words with a weight ("remove" -> "delete",
//!   "retrieve" -> "get", "queue" -> "sqs"), learned from which title words go with which
//!   words of the titled operation's name, plus the hand-written vocabulary of the suggest
//!   ranker. At query time a query word adds its linked words, weighted, to the query.
//!
//! Words are the stems of the index's tokenizer (English stemming, stop words removed), so a
//! link applies to every form of a word. This module holds no I/O beyond the embedded file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::{Arc, OnceLock};

use bm25::{DefaultTokenizer, Language, Tokenizer};
use flate2::read::GzDecoder;
use serde::Deserialize;

use super::index::split_camel;
use super::prebuilt::{PrebuiltError, Reader, string, varint};

static ASSOCIATIONS_GZ: &[u8] = include_bytes!("../../data/search_assoc.bin.gz");
const MAGIC: &[u8; 8] = b"AWSASC01";

/// A link is kept when its pair was seen at least this often...
const MIN_PAIR: u32 = 3;
/// ...the target follows the word in at least this share of the word's titles...
const MIN_SHARE: f32 = 0.25;
/// ...and this many times more often than it follows titles at large (so words such as
/// "specified" that go with everything link to nothing).
const MIN_LIFT: f32 = 4.0;
/// Targets kept per word, strongest first.
const MAX_TARGETS: usize = 4;

/// Example titles of one API operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationPhrases {
    pub service: String,
    pub operation: String,
    pub titles: Vec<String>,
}

/// A word and the operation words it stands for, each with a weight in (0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub from: String,
    pub to: Vec<(String, f32)>,
}

/// A hand-written link (from the suggest ranker's vocabulary): a one-word phrase and the words
/// it means.
#[derive(Debug, Clone)]
pub struct VocabLink {
    pub from: String,
    pub to: String,
    pub weight: f32,
}

/// The learned associations: phrases per operation and links per word.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Associations {
    /// Sorted by (service, operation).
    phrases: Vec<OperationPhrases>,
    /// Sorted by `from`.
    links: Vec<Link>,
}

/// The stems the search index sees for a text.
pub(crate) struct Stemmer(DefaultTokenizer);

impl Stemmer {
    pub(crate) fn new() -> Self {
        Self(DefaultTokenizer::new(Language::English))
    }

    pub(crate) fn stems(&self, text: &str) -> Vec<String> {
        self.0.tokenize(text)
    }
}

/// The CLI example titles file (`data/cli_example_titles.json.gz`, written by
/// `infra/scripts/generate_cli_examples.py`): `[cli service, command, [title, ...]]`.
#[derive(Debug, Deserialize)]
struct TitlesFile {
    commands: Vec<(String, String, Vec<String>)>,
}

/// Reads the titles file into `(cli service, command, titles)`.
pub fn read_cli_titles(gz: &[u8]) -> Result<Vec<(String, String, Vec<String>)>, PrebuiltError> {
    let mut raw = Vec::new();
    GzDecoder::new(gz).read_to_end(&mut raw)?;
    let file: TitlesFile = serde_json::from_slice(&raw)
        .map_err(|_| PrebuiltError::Malformed("CLI example titles are not the expected JSON"))?;
    Ok(file.commands)
}

impl Associations {
    /// Mines links from the titles of operations and merges the hand-written vocabulary.
    ///
    /// A title is a paraphrase labelled with its operation: every title word is counted with
    /// every word of the operation's name and service, and a pair becomes a link when the word
    /// predicts the name word well (share) and specifically (lift). Words of the name itself
    /// need no link.
    pub fn mine(phrases: Vec<OperationPhrases>, vocab: &[VocabLink]) -> Self {
        let stemmer = Stemmer::new();
        let mut phrases = phrases;
        phrases.sort_by(|a, b| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)));
        phrases.dedup_by(|a, b| a.service == b.service && a.operation == b.operation);

        let mut titles = 0u32;
        let mut word_count: BTreeMap<String, u32> = BTreeMap::new();
        let mut target_count: BTreeMap<String, u32> = BTreeMap::new();
        let mut pair_count: BTreeMap<(String, String), u32> = BTreeMap::new();
        for op in &phrases {
            let name = format!(
                "{} {}",
                split_camel(&op.operation),
                op.service.replace('-', " ")
            );
            let targets: BTreeSet<String> = stemmer.stems(&name).into_iter().collect();
            for title in &op.titles {
                titles += 1;
                let words: BTreeSet<String> = stemmer.stems(title).into_iter().collect();
                for t in &targets {
                    *target_count.entry(t.clone()).or_default() += 1;
                }
                for w in &words {
                    *word_count.entry(w.clone()).or_default() += 1;
                    for t in targets.iter().filter(|t| *t != w) {
                        *pair_count.entry((w.clone(), t.clone())).or_default() += 1;
                    }
                }
            }
        }

        let mut links: BTreeMap<String, BTreeMap<String, f32>> = BTreeMap::new();
        for ((w, t), &n) in &pair_count {
            let share = n as f32 / word_count[w] as f32;
            let base = target_count[t] as f32 / titles.max(1) as f32;
            if n >= MIN_PAIR && share >= MIN_SHARE && share >= MIN_LIFT * base {
                links
                    .entry(w.clone())
                    .or_default()
                    .insert(t.clone(), share.min(1.0));
            }
        }
        // The hand-written vocabulary: a one-word phrase whose meaning is spelled differently.
        for v in vocab {
            let stems = stemmer.stems(&v.from);
            let [from] = stems.as_slice() else {
                continue;
            };
            for t in stemmer.stems(&v.to) {
                if t != *from {
                    let w = links.entry(from.clone()).or_default().entry(t).or_default();
                    *w = w.max(v.weight.clamp(0.0, 1.0));
                }
            }
        }
        let links = links
            .into_iter()
            .filter_map(|(from, to)| {
                let mut to: Vec<(String, f32)> = to.into_iter().collect();
                // Strongest first; equal weights by word, so the file is reproducible.
                to.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                to.truncate(MAX_TARGETS);
                (!to.is_empty()).then_some(Link { from, to })
            })
            .collect();
        // Weights travel as bytes; round them now so mined and decoded data are equal.
        let mut out = Self { phrases, links };
        for link in &mut out.links {
            for (_, w) in &mut link.to {
                *w = dequantize(quantize(*w));
            }
        }
        out
    }

    /// The associations embedded in the binary, decoded once per process.
    pub fn bundled() -> Arc<Associations> {
        static CELL: OnceLock<Arc<Associations>> = OnceLock::new();
        CELL.get_or_init(|| match Self::decode(ASSOCIATIONS_GZ) {
            // Before the first generator run the file is empty.
            _ if ASSOCIATIONS_GZ.is_empty() => Arc::new(Self::default()),
            Ok(a) => Arc::new(a),
            Err(e) => {
                // The search still works on the words of the query alone.
                tracing::warn!(error = %e, "search associations unreadable; searching without");
                Arc::new(Self::default())
            }
        })
        .clone()
    }

    /// The titles of an operation, joined: text added to its indexed document.
    pub fn phrases_of(&self, service: &str, operation: &str) -> Option<String> {
        let i = self
            .phrases
            .binary_search_by(|p| {
                (p.service.as_str(), p.operation.as_str()).cmp(&(service, operation))
            })
            .ok()?;
        Some(self.phrases[i].titles.join(". "))
    }

    /// The words a stem stands for, with weights.
    pub fn links_of(&self, stem: &str) -> &[(String, f32)] {
        match self.links.binary_search_by(|l| l.from.as_str().cmp(stem)) {
            Ok(i) => &self.links[i].to,
            Err(_) => &[],
        }
    }

    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    pub fn phrase_count(&self) -> usize {
        self.phrases.len()
    }

    /// The file's bytes (uncompressed). Layout: magic; links (count, then per link its stem,
    /// target count, and per target its stem and weight as a byte of 1/255ths); phrases
    /// (count, then per operation service, operation, title count, titles). Strings are
    /// length-prefixed UTF-8, counts LEB128 varints.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(MAGIC);
        varint(&mut out, self.links.len() as u64);
        for link in &self.links {
            string(&mut out, &link.from);
            varint(&mut out, link.to.len() as u64);
            for (to, w) in &link.to {
                string(&mut out, to);
                out.push(quantize(*w));
            }
        }
        varint(&mut out, self.phrases.len() as u64);
        for p in &self.phrases {
            string(&mut out, &p.service);
            string(&mut out, &p.operation);
            varint(&mut out, p.titles.len() as u64);
            for t in &p.titles {
                string(&mut out, t);
            }
        }
        out
    }

    /// Decodes the gzip-compressed file.
    pub fn decode(gz: &[u8]) -> Result<Self, PrebuiltError> {
        let mut raw = Vec::new();
        GzDecoder::new(gz).read_to_end(&mut raw)?;
        let mut r = Reader { raw: &raw, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(PrebuiltError::Malformed(
                "not an association file of this version",
            ));
        }
        let mut out = Self::default();
        for _ in 0..r.count()? {
            let from = r.string()?;
            let mut to = Vec::new();
            for _ in 0..r.count()? {
                let word = r.string()?;
                to.push((word, dequantize(r.take(1)?[0])));
            }
            out.links.push(Link { from, to });
        }
        for _ in 0..r.count()? {
            let service = r.string()?;
            let operation = r.string()?;
            let mut titles = Vec::new();
            for _ in 0..r.count()? {
                titles.push(r.string()?);
            }
            out.phrases.push(OperationPhrases {
                service,
                operation,
                titles,
            });
        }
        let sorted_links = out.links.windows(2).all(|w| w[0].from < w[1].from);
        let sorted_phrases = out
            .phrases
            .windows(2)
            .all(|w| (&w[0].service, &w[0].operation) < (&w[1].service, &w[1].operation));
        if !(sorted_links && sorted_phrases) {
            return Err(PrebuiltError::Malformed("associations are not sorted"));
        }
        Ok(out)
    }

    /// The embedded file's bytes, uncompressed (for the test that checks it is current).
    pub fn stored_bytes() -> Result<Vec<u8>, PrebuiltError> {
        let mut raw = Vec::new();
        GzDecoder::new(ASSOCIATIONS_GZ).read_to_end(&mut raw)?;
        Ok(raw)
    }
}

fn quantize(w: f32) -> u8 {
    (w.clamp(0.0, 1.0) * 255.0).round() as u8
}

fn dequantize(b: u8) -> f32 {
    f32::from(b) / 255.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(service: &str, operation: &str, titles: &[&str]) -> OperationPhrases {
        OperationPhrases {
            service: service.into(),
            operation: operation.into(),
            titles: titles.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn title_words_link_to_the_words_of_their_operation() {
        let mut phrases = vec![
            op(
                "sqs",
                "DeleteQueue",
                &["remove a queue", "remove the old queue"],
            ),
            op("sns", "DeleteTopic", &["remove a topic"]),
            op("s3", "DeleteBucket", &["remove an empty bucket"]),
        ];
        for i in 0..20 {
            phrases.push(op("ec2", &format!("DescribeThing{i}"), &["show things"]));
        }
        let a = Associations::mine(phrases, &[]);
        let remove: Vec<&str> = a
            .links_of("remov")
            .iter()
            .map(|(w, _)| w.as_str())
            .collect();
        assert_eq!(remove.first(), Some(&"delet"));
        // "thing" is in the operation name: no link to itself.
        assert!(a.links_of("thing").iter().all(|(w, _)| w != "thing"));
        assert!(
            a.phrases_of("sqs", "DeleteQueue")
                .is_some_and(|t| t.contains("old queue"))
        );
        assert_eq!(Associations::decode(&gzip(&a.encode())).ok(), Some(a));
    }

    #[test]
    fn vocabulary_links_are_merged() {
        let vocab = [VocabLink {
            from: "k8s".into(),
            to: "eks".into(),
            weight: 0.9,
        }];
        let a = Associations::mine(Vec::new(), &vocab);
        assert_eq!(
            a.links_of("k8s"),
            &[("ek".to_owned(), dequantize(quantize(0.9)))]
        );
    }

    #[test]
    fn bundled_associations_open() {
        let a = Associations::bundled();
        assert!(a.link_count() > 100, "{} links", a.link_count());
        assert!(a.phrases_of("s3", "ListObjectsV2").is_some());
    }

    fn gzip(raw: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(raw).expect("in memory");
        gz.finish().expect("in memory")
    }
}
