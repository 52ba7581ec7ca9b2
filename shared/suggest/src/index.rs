//! The suggestion index: one entry per CLI command, an inverted index of the words that find
//! it (operation name, documentation summary, parameter names), and a dictionary of phrases
//! that name services.

use std::collections::HashMap;

use aws_engine::cli_table::ArgTarget;
use aws_models::{for_each_api_doc, models};

use crate::text::{first_sentences, stem, terms, words};
use crate::vocab::{
    AMBIGUOUS_NAMES, HIGH_LEVEL, HighLevel, POPULAR, RESOURCE_WORDS, SERVICE_NAMES,
};

/// Why the index cannot be built.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SuggestError {
    #[error("the bundled service models could not be read: {0}")]
    Models(String),
    #[error("the bundled AWS CLI command table could not be read: {0}")]
    CliTable(String),
}

/// Longest service phrase looked for in a request, in words.
pub(crate) const MAX_PHRASE_WORDS: usize = 4;

/// Field weights of the inverted index.
const W_NAME: f32 = 1.0;
const W_SUMMARY: f32 = 0.35;
const W_PARAM: f32 = 0.2;
const W_HIGH_LEVEL_WORDS: f32 = 0.6;
/// Characters of documentation the summary field reads.
const SUMMARY_CHARS: usize = 300;

/// Argument words that say nothing about what an operation does.
const GENERIC_ARG_WORDS: &[&str] = &[
    "max", "result", "next", "token", "dry", "run", "cli", "input", "json", "page", "size",
    "starting", "item", "generate", "skeleton", "client", "marker", "limit", "id", "arn", "name",
];

/// A CLI service.
#[derive(Debug)]
pub struct ServiceInfo {
    /// `s3api`.
    pub cli: String,
    /// botocore's name (`s3`).
    pub botocore: String,
    /// 0..1, how commonly the service is used.
    pub popularity: f32,
}

#[derive(Debug)]
enum Source {
    Api {
        /// The first sentence(s) of its documentation, or its name where it has none.
        description: Box<str>,
    },
    HighLevel(&'static HighLevel),
}

/// One command.
#[derive(Debug)]
pub struct Entry {
    pub service: u32,
    pub cli_service: &'static str,
    /// The CLI's command word (`list-buckets`; `s3` high-level commands have `ls`).
    pub cli_operation: Box<str>,
    /// The operation's verb as a term id (first word of the CLI operation name).
    pub verb: Option<u32>,
    /// The other words of the operation name, as term ids (version words left out).
    pub name_terms: Box<[u32]>,
    /// Bit i: whether name word i is plural (`list-buckets`); see [`Entry::name_plural`].
    name_plural: u64,
    /// How many name words say little (`data`, `info`): they count half when unmatched.
    pub filler: u8,
    source: Source,
}

impl Entry {
    /// Whether the name word at `i` (of `name_terms`) is plural.
    pub fn name_plural(&self, i: usize) -> bool {
        i < 64 && self.name_plural & (1 << i) != 0
    }
}

/// Packs plural flags (one per name word, in order) into bits.
fn plural_bits(flags: &[bool]) -> u64 {
    flags
        .iter()
        .take(64)
        .enumerate()
        .fold(0, |bits, (i, &p)| if p { bits | 1 << i } else { bits })
}

/// How a phrase names a service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mention {
    /// The service's name: its words are spent on naming it.
    Name,
    /// A common word that is also a service name (`account`).
    Ambiguous,
    /// A resource word that implies the service (`bucket`), with its weight.
    Resource(f32),
}

/// An operation's summary terms and description.
type DocSummary = (Box<[u32]>, Box<str>);

pub struct Index {
    pub services: Vec<ServiceInfo>,
    pub entries: Vec<Entry>,
    terms: HashMap<String, u32>,
    /// Per term: (entry, field weight).
    pub postings: Vec<Vec<(u32, f32)>>,
    pub idf: Vec<f32>,
    /// Entries of each service.
    pub by_service: Vec<Vec<u32>>,
    /// Phrase (words joined by single spaces) to the services it names.
    pub phrases: HashMap<String, Vec<(u32, Mention)>>,
    /// Every operation verb as a term id.
    pub verbs: std::collections::HashSet<u32>,
}

struct Builder {
    terms: HashMap<String, u32>,
    postings: Vec<Vec<(u32, f32)>>,
}

impl Builder {
    fn term(&mut self, t: &str) -> u32 {
        if let Some(&id) = self.terms.get(t) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.terms.insert(t.to_owned(), id);
        self.postings.push(Vec::new());
        id
    }

    /// Adds one entry's (term, field weight) pairs: a word counts once per field, and the
    /// fields it appears in add up.
    fn add(&mut self, entry: u32, weighted: &mut Vec<(u32, f32)>) {
        weighted.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        weighted.dedup();
        let mut i = 0;
        while i < weighted.len() {
            let id = weighted[i].0;
            let mut w = 0.0;
            while i < weighted.len() && weighted[i].0 == id {
                w += weighted[i].1;
                i += 1;
            }
            self.postings[id as usize].push((entry, w));
        }
    }
}

fn is_version_word(w: &str) -> bool {
    w.len() <= 3 && w.starts_with('v') && w[1..].chars().all(|c| c.is_ascii_digit())
        || w.chars().all(|c| c.is_ascii_digit())
}

fn strip_vendor(name: &str) -> &str {
    let mut n = name.trim();
    for prefix in ["AWS ", "Amazon ", "aws ", "amazon "] {
        if let Some(rest) = n.strip_prefix(prefix) {
            n = rest;
        }
    }
    n
}

impl Index {
    pub fn build() -> Result<Self, SuggestError> {
        let table = aws_engine::cli_table().map_err(SuggestError::CliTable)?;
        let model_index = models()
            .index()
            .map_err(|e| SuggestError::Models(e.to_string()))?;
        let service_pos: HashMap<&str, usize> = model_index
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.service_name.as_str(), i))
            .collect();

        let mut b = Builder {
            terms: HashMap::new(),
            postings: Vec::new(),
        };
        // What the index keeps of each operation's documentation: its summary's terms and its
        // description, by the operation's place in the model index (services in order, each
        // one's operations sorted). The corpus is streamed, not kept: the server stays small.
        let mut first_op = Vec::with_capacity(model_index.services.len());
        let mut op_count = 0;
        for s in &model_index.services {
            first_op.push(op_count);
            op_count += s.operations.len();
        }
        let ordinal = |service: usize, operation: &str| {
            let s = model_index.services.get(service)?;
            let at = s
                .operations
                .binary_search_by(|o| o.as_str().cmp(operation))
                .ok()?;
            Some(first_op.get(service)? + at)
        };
        let mut doc_of: Vec<Option<DocSummary>> = (0..op_count).map(|_| None).collect();
        for_each_api_doc(|service, operation, text| {
            let Some(slot) = ordinal(service, operation).and_then(|i| doc_of.get_mut(i)) else {
                return;
            };
            let summary: String = text.chars().take(SUMMARY_CHARS).collect();
            let summary_terms = terms(&summary).iter().map(|t| b.term(t)).collect();
            *slot = Some((summary_terms, first_sentences(text, 300).into_boxed_str()));
        })
        .map_err(|e| SuggestError::Models(e.to_string()))?;
        let mut services = Vec::new();
        let mut service_of_cli: HashMap<&str, u32> = HashMap::new();
        let mut entries: Vec<Entry> = Vec::with_capacity(18_500);
        let mut by_service: Vec<Vec<u32>> = Vec::new();
        let mut phrases: HashMap<String, Vec<(u32, Mention)>> = HashMap::new();
        let add_phrase = |phrases: &mut HashMap<String, Vec<(u32, Mention)>>,
                          phrase: &str,
                          service: u32,
                          mention: Mention| {
            let key = words(phrase).join(" ");
            if key.is_empty() {
                return;
            }
            let list = phrases.entry(key).or_default();
            match list.iter_mut().find(|(s, _)| *s == service) {
                Some(existing) => {
                    if mention == Mention::Name {
                        existing.1 = Mention::Name;
                    }
                }
                None => list.push((service, mention)),
            }
        };
        let mut weighted: Vec<(u32, f32)> = Vec::new();

        // Each service's CLI table is decoded for the walk and dropped after it (the engine
        // decodes again, and keeps, only the services that are called).
        table.services.for_each_transient(|cli_name, cli_service| {
            if table.preview_services.iter().any(|p| p == cli_name) {
                return;
            }
            let Some(&model_pos) = service_pos.get(cli_service.service.as_str()) else {
                return;
            };
            let entry_info = &model_index.services[model_pos];
            let sid = services.len() as u32;
            services.push(ServiceInfo {
                cli: cli_name.to_owned(),
                botocore: cli_service.service.clone(),
                popularity: POPULAR
                    .iter()
                    .find(|(n, _)| *n == cli_name)
                    .map_or(0.0, |(_, p)| *p),
            });
            service_of_cli.insert(cli_name, sid);
            by_service.push(Vec::new());

            let mut names = vec![
                cli_name.to_owned(),
                cli_service.service.clone(),
                entry_info.service_id.clone(),
                entry_info.service_id.replace(' ', ""),
                strip_vendor(&entry_info.full_name).to_owned(),
                strip_vendor(&entry_info.full_name).replace(' ', ""),
            ];
            if let Some(a) = &entry_info.abbreviation {
                names.push(strip_vendor(a).to_owned());
            }
            for name in names {
                let key = words(&name).join(" ");
                let mention = if AMBIGUOUS_NAMES.contains(&key.as_str()) {
                    Mention::Ambiguous
                } else {
                    Mention::Name
                };
                add_phrase(&mut phrases, &name, sid, mention);
            }

            for (cli_op, op) in &cli_service.operations {
                let eid = entries.len() as u32;
                let mut parts = cli_op.split('-');
                let verb_word = parts.next().unwrap_or_default();
                let verb = Some(b.term(verb_word));
                let mut name_terms = Vec::new();
                let mut name_plural = Vec::new();
                weighted.clear();
                for w in parts {
                    if is_version_word(w) {
                        continue;
                    }
                    let t = stem(w);
                    let id = b.term(&t);
                    if !name_terms.contains(&id) {
                        name_terms.push(id);
                        name_plural.push(t != w);
                    }
                    weighted.push((id, W_NAME));
                }
                let doc = ordinal(model_pos, &op.name)
                    .and_then(|i| doc_of.get_mut(i))
                    .and_then(Option::take);
                if let Some((summary_terms, _)) = &doc {
                    weighted.extend(summary_terms.iter().map(|&t| (t, W_SUMMARY)));
                }
                for (arg, target) in &op.args {
                    if !matches!(target, ArgTarget::Member(_)) {
                        continue;
                    }
                    for w in arg.split('-') {
                        let t = stem(w);
                        if !GENERIC_ARG_WORDS.contains(&t.as_str()) {
                            weighted.push((b.term(&t), W_PARAM));
                        }
                    }
                }
                b.add(eid, &mut weighted);
                by_service[sid as usize].push(eid);
                let filler = filler_count(&name_terms, &b);
                entries.push(Entry {
                    filler,
                    service: sid,
                    cli_service: cli_name,
                    cli_operation: cli_op.as_str().into(),
                    verb,
                    name_terms: name_terms.into(),
                    name_plural: plural_bits(&name_plural),
                    source: Source::Api {
                        description: doc.map_or_else(|| op.name.as_str().into(), |(_, d)| d),
                    },
                });
            }
        });

        for hl in HIGH_LEVEL {
            // `aws s3 ...` commands are found through the S3 API service's names.
            let api_service = if hl.service == "s3" {
                "s3api"
            } else {
                hl.service
            };
            let Some(&sid) = service_of_cli.get(api_service) else {
                continue;
            };
            let eid = entries.len() as u32;
            weighted.clear();
            let mut name_terms = Vec::new();
            let mut name_plural = Vec::new();
            for w in hl.operation.split('-').skip(1) {
                let t = stem(w);
                let id = b.term(&t);
                name_terms.push(id);
                name_plural.push(t != w);
                weighted.push((id, W_NAME));
            }
            for t in terms(hl.description) {
                weighted.push((b.term(&t), W_SUMMARY));
            }
            for t in terms(hl.words) {
                weighted.push((b.term(&t), W_HIGH_LEVEL_WORDS));
            }
            b.add(eid, &mut weighted);
            by_service[sid as usize].push(eid);
            let verb = Some(b.term(hl.verb));
            entries.push(Entry {
                service: sid,
                cli_service: hl.service,
                cli_operation: hl.operation.into(),
                verb,
                name_terms: name_terms.into(),
                filler: 0,
                name_plural: plural_bits(&name_plural),
                source: Source::HighLevel(hl),
            });
        }

        for (phrase, cli) in SERVICE_NAMES {
            if let Some(&sid) = service_of_cli.get(cli) {
                add_phrase(&mut phrases, phrase, sid, Mention::Name);
            }
        }
        for (phrase, cli, w) in RESOURCE_WORDS {
            if let Some(&sid) = service_of_cli.get(cli) {
                let key = words(phrase).join(" ");
                let list = phrases.entry(key).or_default();
                if !list.iter().any(|(s, _)| *s == sid) {
                    list.push((sid, Mention::Resource(*w)));
                }
            }
        }

        let n = entries.len() as f32;
        let idf = b
            .postings
            .iter()
            .map(|p| {
                let df = p.len() as f32;
                ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
            })
            .collect();
        let verbs = entries.iter().filter_map(|e| e.verb).collect();
        // The lists grew by doubling; their unused tails go back to the allocator for the
        // models and tables that answering decodes.
        let mut postings = b.postings;
        for list in &mut postings {
            list.shrink_to_fit();
        }
        Ok(Self {
            services,
            entries,
            terms: b.terms,
            postings,
            idf,
            by_service,
            phrases,
            verbs,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn term(&self, t: &str) -> Option<u32> {
        self.terms.get(t).copied()
    }

    pub fn command(&self, entry: u32) -> String {
        match self.entries.get(entry as usize) {
            Some(e) => format!("aws {} {}", e.cli_service, e.cli_operation),
            None => String::new(),
        }
    }

    pub fn description(&self, entry: u32) -> String {
        match self.entries.get(entry as usize).map(|e| &e.source) {
            Some(Source::Api { description, .. }) => description.to_string(),
            Some(Source::HighLevel(hl)) => hl.description.to_owned(),
            None => String::new(),
        }
    }

    /// The required input members as CLI options, in model order. Members the CLI fills
    /// another way (`ec2 run-instances --count` for MinCount/MaxCount) have no option and are
    /// left out. Decodes the service's model and CLI table on first use (the engine keeps
    /// them, as it would for a call).
    pub fn required_parameters(&self, entry: u32) -> Vec<String> {
        let Some(e) = self.entries.get(entry as usize) else {
            return Vec::new();
        };
        if let Source::HighLevel(hl) = &e.source {
            return hl.required.iter().map(|s| s.to_string()).collect();
        }
        let Some(op) = aws_engine::cli_table()
            .ok()
            .and_then(|t| t.services.get(e.cli_service))
            .and_then(|s| s.operations.get(&*e.cli_operation))
        else {
            return Vec::new();
        };
        let Some(service) = self.services.get(e.service as usize) else {
            return Vec::new();
        };
        let model = match models().service(&service.botocore) {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(service = %service.botocore, error = %err, "model not readable");
                return Vec::new();
            }
        };
        let Some(input) = model
            .operation(&op.name)
            .and_then(|o| o.input.as_ref())
            .and_then(|i| model.shape(&i.shape))
        else {
            return Vec::new();
        };
        input
            .required
            .iter()
            .filter_map(|member| {
                op.args.iter().find_map(|(arg, target)| match target {
                    ArgTarget::Member(m) if m == member => Some(format!("--{arg}")),
                    _ => None,
                })
            })
            .collect()
    }
}

/// Name words that add little to what an operation does.
const FILLER_WORDS: &[&str] = &["data", "info", "information", "detail"];

fn filler_count(name_terms: &[u32], b: &Builder) -> u8 {
    FILLER_WORDS
        .iter()
        .filter(|w| b.terms.get(**w).is_some_and(|id| name_terms.contains(id)))
        .count() as u8
}

/// One index per test process, built on first use: building takes a moment, and the tests
/// of `index` and `rank` only read it.
#[cfg(test)]
pub(crate) fn built_for_tests() -> &'static Index {
    static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| Index::build().expect("index"))
}

#[cfg(test)]
mod tests {
    use super::{built_for_tests, plural_bits};

    #[test]
    fn plural_flags_pack_into_bits() {
        assert_eq!(plural_bits(&[true, false, true]), 0b101);
        assert_eq!(plural_bits(&[]), 0);
        let ix = built_for_tests();
        let e = ix
            .entries
            .iter()
            .find(|e| e.cli_service == "s3api" && &*e.cli_operation == "list-buckets")
            .expect("list-buckets");
        assert!(e.name_plural(0), "buckets is plural");
        assert!(!e.name_plural(1));
    }

    #[test]
    fn every_cli_operation_and_the_high_level_commands_are_indexed() {
        let ix = built_for_tests();
        let table = aws_engine::cli_table().expect("table");
        let api: usize = table
            .services
            .iter()
            .filter(|(name, _)| !table.preview_services.contains(name))
            .map(|(_, s)| s.operations.len())
            .sum();
        assert_eq!(ix.len(), api + crate::vocab::HIGH_LEVEL.len());
        let find = |cmd: &str| {
            (0..ix.len() as u32)
                .find(|&e| ix.command(e) == cmd)
                .unwrap_or_else(|| panic!("{cmd}"))
        };
        let e = find("aws configservice describe-config-rules");
        assert_eq!(
            ix.services[ix.entries[e as usize].service as usize].botocore,
            "config"
        );
        let e = find("aws s3 cp");
        assert_eq!(ix.required_parameters(e), ["<source>", "<destination>"]);
        let e = find("aws sqs send-message");
        assert_eq!(ix.required_parameters(e), ["--queue-url", "--message-body"]);
        assert!(
            ix.description(e).starts_with("Delivers a message"),
            "{}",
            ix.description(e)
        );
        // Options are the CLI's spelling of the member, not a plain conversion of it.
        let e = find("aws iam enable-mfa-device");
        assert_eq!(
            ix.required_parameters(e),
            [
                "--user-name",
                "--serial-number",
                "--authentication-code-1",
                "--authentication-code-2"
            ]
        );
    }
}
