//! Ranking: reads a request into service mentions, verbs and content words, then scores the
//! commands they reach.
//!
//! score = text (IDF-weighted matches in the operation name, summary and parameter names)
//!       + name coverage (the share of the operation name's words the request supplies)
//!       + service (named: strong; implied by a resource word: weaker)
//!       + verb (the request's verb against the operation's first word)
//!       + popularity prior of the service.
//!
//! Confidence is a softmax over the leading scores, damped when even the best score is weak.

use std::collections::HashMap;

use crate::index::{Index, MAX_PHRASE_WORDS, Mention};
use crate::text::{is_stop_word, stem, words};
use crate::vocab::{INTENTS, SYNONYMS, VERBS};

/// Weights of the scoring model.
pub const W_TEXT: f32 = 1.0;
pub const W_COVERAGE: f32 = 5.0;
pub const W_UNMATCHED: f32 = 1.2;
pub const W_SERVICE_NAMED: f32 = 9.0;
pub const W_SERVICE_AMBIGUOUS: f32 = 2.5;
pub const W_SERVICE_RESOURCE: f32 = 3.0;
pub const W_VERB: f32 = 3.5;
/// Weight of the read verbs assumed when a request has no verb ("my s3 buckets").
pub const IMPLIED_READ: f32 = 0.4;
pub const W_PRIOR: f32 = 2.0;
pub const W_INTENT: f32 = 12.0;
/// Softmax temperature of the confidence, in score units.
pub const TEMPERATURE: f64 = 1.2;
/// Best scores around this are about even odds of being right.
pub const CONFIDENT_SCORE: f64 = 10.0;
pub const CONFIDENCE_SLOPE: f64 = 3.0;

/// Words that are verbs in requests but also resource nouns worth matching as words.
const NOUN_VERBS: &[&str] = &[
    "query",
    "scan",
    "tag",
    "backup",
    "snapshot",
    "log",
    "login",
    "encrypt",
    "decrypt",
    "subscribe",
    "publish",
    "invoke",
    "deploy",
    "sync",
    "test",
    "import",
    "export",
    "restore",
    "build",
    "record",
    "label",
    "release",
    "request",
    "schedule",
];

/// Two-word verbs written as one.
const PHRASAL: &[(&str, &str, &str)] = &[
    ("back", "up", "backup"),
    ("set", "up", "setup"),
    ("shut", "down", "shutdown"),
    ("log", "in", "login"),
    ("sign", "in", "login"),
    ("look", "up", "lookup"),
    ("tear", "down", "destroy"),
    ("spin", "up", "launch"),
    ("clean", "up", "delete"),
    ("turn", "on", "enable"),
    ("turn", "off", "disable"),
    ("how", "many", "count"),
    ("number", "of", "count"),
];

/// Words after which the request names a place or a modifier rather than its object
/// ("take a snapshot *of an ebs volume*").
const PREPOSITIONS: &[&str] = &[
    "of", "in", "for", "from", "to", "on", "with", "behind", "into", "inside", "within", "at",
    "by", "as", "under", "across", "between", "per", "about", "onto",
];
/// Weight of content words after a preposition.
const MODIFIER_WEIGHT: f32 = 0.7;
/// Weight of a word before another content word (a modifier of the head noun).
const COMPOUND_WEIGHT: f32 = 0.85;
/// Weight of words spent on naming a service, as operation-name words.
const CONSUMED_WEIGHT: f32 = 0.3;
/// Words after which a verb says what went wrong rather than what to do.
const FAILURE_WORDS: &[&str] = &[
    "fail", "failed", "fails", "failing", "unable", "cannot", "cant",
];

fn is_verb_word(w: &str) -> bool {
    VERBS.iter().any(|(v, t)| *v == w && !t.is_empty())
}

/// Bonus per operation-name word the request gives in the same number (plural or singular).
const W_NUMBER: f32 = 0.4;

/// What a request says.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Service index to its mention score (already weighted by kind).
    pub services: HashMap<u32, f32>,
    /// Operation verb term to weight.
    pub verbs: HashMap<u32, f32>,
    /// Whether the request had a verb at all.
    pub has_verb: bool,
    /// Content term to weight.
    pub terms: HashMap<u32, f32>,
    /// Terms the request wrote in the plural (others it wrote in the singular).
    pub plural: HashMap<u32, bool>,
    /// Commands named by a whole-request intent, as (CLI service, operation).
    pub intents: Vec<(&'static str, &'static str)>,
}

fn bump(map: &mut HashMap<u32, f32>, key: u32, w: f32) {
    let e = map.entry(key).or_insert(0.0);
    if w > *e {
        *e = w;
    }
}

/// Reads a request.
pub fn parse(index: &Index, query: &str) -> Parsed {
    let original = words(query);
    let mut p = Parsed::default();
    for (needed, service, op) in INTENTS {
        if needed.iter().all(|w| original.iter().any(|r| r == w)) {
            p.intents.push((service, op));
        }
    }
    let mut raw: Vec<String> = Vec::with_capacity(original.len());
    let mut i = 0;
    while i < original.len() {
        if let Some(next) = original.get(i + 1)
            && let Some((_, _, joined)) = PHRASAL
                .iter()
                .find(|(a, b, _)| *a == original[i] && b == next)
        {
            raw.push((*joined).to_owned());
            i += 2;
            continue;
        }
        raw.push(original[i].clone());
        i += 1;
    }
    let stemmed: Vec<String> = raw.iter().map(|w| stem(w)).collect();
    let mut consumed = vec![false; raw.len()];
    // Words of a multi-word resource phrase ("parameter store") are nouns, not verbs.
    let mut nominal = vec![false; raw.len()];

    // Service phrases, longest first; a concatenation counts too ("secrets manager" and
    // "secretsmanager", "cloud watch" and "cloudwatch").
    for n in (1..=MAX_PHRASE_WORDS).rev() {
        if n > raw.len() {
            continue;
        }
        for i in 0..=raw.len() - n {
            if consumed[i..i + n].iter().any(|&c| c) {
                continue;
            }
            let candidates = [
                raw[i..i + n].join(" "),
                stemmed[i..i + n].join(" "),
                raw[i..i + n].concat(),
            ];
            let mut named = false;
            for key in candidates.iter() {
                let Some(list) = index.phrases.get(key) else {
                    continue;
                };
                if n > 1 {
                    nominal[i..i + n].iter_mut().for_each(|c| *c = true);
                }
                for &(sid, mention) in list {
                    match mention {
                        Mention::Name => {
                            named = true;
                            bump(&mut p.services, sid, W_SERVICE_NAMED);
                        }
                        Mention::Ambiguous => bump(&mut p.services, sid, W_SERVICE_AMBIGUOUS),
                        Mention::Resource(w) => bump(&mut p.services, sid, W_SERVICE_RESOURCE * w),
                    }
                }
                break;
            }
            if named {
                consumed[i..i + n].iter_mut().for_each(|c| *c = true);
            }
        }
    }

    // Content words in a run ("database password") modify the last one, the head noun.
    let content: Vec<bool> = raw
        .iter()
        .enumerate()
        .map(|(i, w)| !is_stop_word(w) && !PREPOSITIONS.contains(&w.as_str()) && !consumed[i])
        .collect();
    let mut modifier = false;
    let mut any_plural = false;
    let mut negated = false;
    for (i, w) in raw.iter().enumerate() {
        if PREPOSITIONS.contains(&w.as_str()) {
            modifier = true;
        }
        if consumed[i] {
            // The service's own words still fill operation names (`list-service-quotas`).
            if let Some(id) = index.term(&stemmed[i]) {
                bump(&mut p.terms, id, CONSUMED_WEIGHT);
            }
            continue;
        }
        if is_stop_word(w) {
            continue;
        }
        let mut is_verb = false;
        if !nominal[i] && !negated {
            if let Some((_, targets)) = VERBS.iter().find(|(v, _)| v == w) {
                is_verb = !targets.is_empty();
                for (verb, weight) in targets.iter() {
                    if let Some(id) = index.term(verb) {
                        bump(&mut p.verbs, id, *weight);
                    }
                }
            } else if let Some(id) = index.term(w)
                && index.verbs.contains(&id)
            {
                // An operation verb the table above does not list (`assume`, `allocate`).
                is_verb = true;
                bump(&mut p.verbs, id, 1.0);
            }
        }
        // "fail to create": what went wrong, not what to do.
        let was_negated = negated;
        negated = FAILURE_WORDS.contains(&w.as_str());
        if was_negated && VERBS.iter().any(|(v, _)| v == w) {
            continue;
        }
        if is_verb {
            // A new clause: its object follows.
            modifier = false;
        }
        p.has_verb |= is_verb;
        let mut weight = if modifier { MODIFIER_WEIGHT } else { 1.0 };
        if !is_verb && content.get(i + 1) == Some(&true) && !is_verb_word(&raw[i + 1]) {
            weight *= COMPOUND_WEIGHT;
        }
        if !is_verb || NOUN_VERBS.contains(&w.as_str()) {
            let s = &stemmed[i];
            if let Some(id) = index.term(s) {
                let before = p.terms.get(&id).copied().unwrap_or(0.0);
                bump(&mut p.terms, id, weight);
                if weight >= before {
                    let plural = s != w;
                    any_plural |= plural;
                    p.plural.insert(id, plural);
                }
            }
        }
        for key in [w, &stemmed[i]] {
            if let Some((_, more)) = SYNONYMS.iter().find(|(k, _)| k == key) {
                for (t, w) in more.iter() {
                    if let Some(id) = index.term(t) {
                        bump(&mut p.terms, id, w * weight);
                    }
                }
            }
        }
    }
    if !p.has_verb {
        // No verb: people read more than they change. A plural asks for a list.
        let implied: [(&str, f32); 3] = if any_plural {
            [("list", 1.0), ("describe", 0.9), ("get", 0.6)]
        } else {
            [("get", 1.0), ("describe", 1.0), ("list", 0.8)]
        };
        for (v, w) in implied {
            if let Some(id) = index.term(v) {
                bump(&mut p.verbs, id, IMPLIED_READ * w);
            }
        }
    }
    p
}

/// One ranked command.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub entry: u32,
    pub score: f32,
    pub confidence: f64,
}

/// Scores every command the request reaches and returns the best `limit`.
pub fn rank(index: &Index, query: &str, limit: usize) -> Vec<Ranked> {
    if limit == 0 {
        return Vec::new();
    }
    let p = parse(index, query);
    if p.terms.is_empty() && p.services.is_empty() && p.intents.is_empty() {
        return Vec::new();
    }

    // Text scores of every entry the content words reach, in a dense array.
    let mut text = vec![0.0f32; index.len()];
    let mut candidates: Vec<u32> = Vec::new();
    for (&t, &qw) in &p.terms {
        let idf = index.idf[t as usize];
        for &(e, fw) in &index.postings[t as usize] {
            let slot = &mut text[e as usize];
            if *slot == 0.0 {
                candidates.push(e);
            }
            *slot += qw * idf * fw;
        }
    }
    // Commands of a named service are candidates even without a matching word.
    for (&sid, &w) in &p.services {
        if w >= W_SERVICE_NAMED {
            candidates.extend(index.by_service[sid as usize].iter().copied());
        }
    }
    let intent_entries: Vec<u32> = p
        .intents
        .iter()
        .filter_map(|(s, o)| {
            index
                .entries
                .iter()
                .position(|e| e.cli_service == *s && &*e.cli_operation == *o)
                .map(|i| i as u32)
        })
        .collect();
    candidates.extend(intent_entries.iter().copied());
    candidates.sort_unstable();
    candidates.dedup();

    let mut scored: Vec<(f32, u32)> = candidates
        .into_iter()
        .map(|e| (score(index, &p, text[e as usize], &intent_entries, e), e))
        .collect();
    // Entries are in command order, so the entry number breaks ties alphabetically.
    let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let keep = limit.max(10);
    if scored.len() > keep {
        scored.select_nth_unstable_by(keep - 1, order);
        scored.truncate(keep);
    }
    scored.sort_by(order);
    let conf = confidences(&scored.iter().map(|s| s.0).collect::<Vec<_>>());
    scored
        .into_iter()
        .zip(conf)
        .take(limit)
        .map(|((score, entry), confidence)| Ranked {
            entry,
            score,
            confidence,
        })
        .collect()
}

fn score(index: &Index, p: &Parsed, text: f32, intents: &[u32], e: u32) -> f32 {
    let entry = &index.entries[e as usize];
    let mut s = W_TEXT * text;

    let verb_w = entry
        .verb
        .and_then(|v| p.verbs.get(&v).copied())
        .unwrap_or(0.0);
    s += W_VERB * verb_w;

    let mut matched = verb_w;
    let mut unmatched = 0.0;
    for (i, t) in entry.name_terms.iter().enumerate() {
        match p.terms.get(t) {
            Some(w) => {
                matched += w;
                if p.plural.get(t) == Some(&entry.name_plural(i)) {
                    s += W_NUMBER;
                }
            }
            None => unmatched += 1.0,
        }
    }
    let total = 1.0 + entry.name_terms.len() as f32 - entry.filler as f32 * 0.5;
    unmatched -= entry.filler as f32 * 0.5;
    s += W_COVERAGE * matched / total;
    s -= W_UNMATCHED * unmatched;

    s += p.services.get(&entry.service).copied().unwrap_or(0.0);
    s += W_PRIOR * index.services[entry.service as usize].popularity;
    if intents.contains(&e) {
        s += W_INTENT;
    }
    s
}

/// Softmax over the leading scores, times how strong the best score is on its own.
fn confidences(scores: &[f32]) -> Vec<f64> {
    let Some(&best) = scores.first() else {
        return Vec::new();
    };
    let best = best as f64;
    let exps: Vec<f64> = scores
        .iter()
        .map(|&s| ((s as f64 - best) / TEMPERATURE).exp())
        .collect();
    let sum: f64 = exps.iter().sum();
    let strength = 1.0 / (1.0 + (-(best - CONFIDENT_SCORE) / CONFIDENCE_SLOPE).exp());
    exps.into_iter()
        .map(|x| (x / sum * strength).clamp(0.0, 1.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> &'static Index {
        crate::index::built_for_tests()
    }

    fn service(index: &Index, cli: &str) -> u32 {
        index
            .services
            .iter()
            .position(|s| s.cli == cli)
            .expect("service") as u32
    }

    #[test]
    fn service_names_are_spent_and_resource_words_are_kept() {
        let ix = index();
        let p = parse(ix, "list the objects in my Secrets Manager bucket");
        assert_eq!(p.services[&service(ix, "secretsmanager")], W_SERVICE_NAMED);
        // "bucket" implies S3 without naming it, and stays a word to match.
        let s3 = p.services[&service(ix, "s3api")];
        assert!(s3 > 0.0 && s3 < W_SERVICE_NAMED);
        assert!(p.terms.contains_key(&ix.term("bucket").expect("term")));
        // The words of a named service only fill operation names, weakly.
        assert_eq!(p.terms[&ix.term("secret").expect("term")], CONSUMED_WEIGHT);
        // Concatenated spellings name services too.
        let p = parse(ix, "cloud watch alarms");
        assert_eq!(p.services[&service(ix, "cloudwatch")], W_SERVICE_NAMED);
    }

    #[test]
    fn verbs_prepositions_and_phrasal_verbs() {
        let ix = index();
        let p = parse(ix, "back up my table");
        assert!(p.has_verb);
        assert!(p.verbs[&ix.term("create").expect("term")] > 0.5);
        // "store" in "parameter store" is a noun.
        let p = parse(ix, "read a value from parameter store");
        assert!(!p.verbs.contains_key(&ix.term("put").expect("term")));
        // Words after a preposition weigh less than the object.
        let p = parse(ix, "take a snapshot of a volume");
        let snapshot = p.terms[&ix.term("snapshot").expect("term")];
        let volume = p.terms[&ix.term("volume").expect("term")];
        assert!(snapshot > volume, "{snapshot} {volume}");
        // "fail to create" is not a request to create.
        let p = parse(ix, "why did my stack fail to create");
        assert!(!p.verbs.contains_key(&ix.term("create").expect("term")));
        // No verb: plural reads lean to list.
        let p = parse(ix, "my buckets");
        let list = p.verbs[&ix.term("list").expect("term")];
        let get = p.verbs[&ix.term("get").expect("term")];
        assert!(!p.has_verb && list > get);
    }

    #[test]
    fn confidences_are_a_damped_softmax() {
        let c = confidences(&[20.0, 18.0, 10.0]);
        assert!(c[0] > c[1] && c[1] > c[2]);
        assert!(c.iter().sum::<f64>() <= 1.0 + 1e-9);
        let weak = confidences(&[4.0, 2.0, 1.0]);
        assert!(weak[0] < c[0] / 2.0, "{weak:?} {c:?}");
        assert!(confidences(&[]).is_empty());
    }
}
