//! Text normalisation shared by the index and the queries: lower-case words, a light
//! plural stemmer, stop words, and the first sentences of an operation's documentation.
//!
//! The stemmer is deliberately light (plurals only): AWS names such as `create`, `policy` and
//! `instances` must meet their singular/plural forms without a Porter stemmer merging
//! unrelated words (`provisioned`/`provision`, `organization`/`organize`).

/// Words carrying no meaning for command search, sorted (binary search).
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "already",
    "also",
    "am",
    "amazon",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "aws",
    "be",
    "been",
    "by",
    "called",
    "can",
    "could",
    "currently",
    "did",
    "do",
    "does",
    "e.g",
    "each",
    "every",
    "for",
    "from",
    "had",
    "has",
    "have",
    "here",
    "how",
    "i",
    "i'm",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "let",
    "like",
    "longer",
    "many",
    "me",
    "mine",
    "much",
    "my",
    "named",
    "need",
    "no",
    "not",
    "of",
    "on",
    "one",
    "only",
    "or",
    "our",
    "ours",
    "please",
    "should",
    "so",
    "some",
    "sure",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "up",
    "us",
    "using",
    "via",
    "want",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "whose",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Lower-case alphanumeric words (apostrophes dropped: `what's` -> `whats`).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if c == '\'' || c == '\u{2019}' {
            // Keep contractions in one word.
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Plural to singular, for words that are lower-case already.
pub fn stem(word: &str) -> String {
    const IRREGULAR: &[(&str, &str)] = &[
        ("aliases", "alias"),
        ("statuses", "status"),
        ("indices", "index"),
        ("analyses", "analysis"),
        ("data", "data"),
        ("children", "child"),
        ("people", "person"),
    ];
    if let Some((_, s)) = IRREGULAR.iter().find(|(p, _)| *p == word) {
        return (*s).to_owned();
    }
    let n = word.len();
    if n <= 3 || !word.is_ascii() {
        return word.to_owned();
    }
    if let Some(base) = word.strip_suffix("ies")
        && n > 4
    {
        return format!("{base}y");
    }
    if word.ends_with("sses") {
        return word[..n - 2].to_owned();
    }
    if word.ends_with("ches") || word.ends_with("shes") || word.ends_with("xes") {
        return word[..n - 2].to_owned();
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_owned();
    }
    match word.strip_suffix('s') {
        Some(base) => base.to_owned(),
        None => word.to_owned(),
    }
}

/// Stemmed content words of a text, stop words removed.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| stem(&w))
        .collect()
}

/// The first sentence of an operation's documentation, or two when the first is very short,
/// cut at a word boundary near `max` characters.
pub fn first_sentences(text: &str, max: usize) -> String {
    let text = text.trim();
    let mut end = 0;
    let mut sentences = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at_end = i + 1 == bytes.len();
        if c == b'.' && (at_end || bytes[i + 1] == b' ' || bytes[i + 1] == b'\n') {
            // "e.g. " and "i.e. " do not end a sentence.
            let before = &text[..i];
            if !(before.ends_with("e.g") || before.ends_with("i.e") || before.ends_with("etc")) {
                end = i + 1;
                sentences += 1;
                if end >= 60 || sentences >= 2 {
                    break;
                }
            }
        }
        i += 1;
    }
    if end == 0 {
        end = text.len();
    }
    let sentence = &text[..end];
    if sentence.chars().count() <= max {
        return sentence.to_owned();
    }
    let cut: String = sentence.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}...", cut.trim_end_matches([',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_meet_singulars() {
        for (p, s) in [
            ("buckets", "bucket"),
            ("policies", "policy"),
            ("instances", "instance"),
            ("addresses", "address"),
            ("branches", "branch"),
            ("aliases", "alias"),
            ("vpcs", "vpc"),
            ("status", "status"),
            ("access", "access"),
            ("analysis", "analysis"),
            ("ids", "ids"),
        ] {
            assert_eq!(stem(p), s, "{p}");
        }
        assert_eq!(stem("bucket"), "bucket");
    }

    #[test]
    fn stop_words_are_sorted() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_stop_word("the") && is_stop_word("your") && !is_stop_word("bucket"));
    }

    #[test]
    fn words_and_terms() {
        assert_eq!(
            words("What's in my S3-bucket?"),
            ["whats", "in", "my", "s3", "bucket"]
        );
        assert_eq!(terms("list all of my S3 buckets"), ["list", "s3", "bucket"]);
    }

    #[test]
    fn first_sentences_are_cut_sensibly() {
        assert_eq!(
            first_sentences("Creates a table. It has keys. More.", 200),
            "Creates a table. It has keys."
        );
        let long = "Returns a list of all buckets owned by the authenticated sender of the request, e.g. mine. Details follow.";
        assert_eq!(
            first_sentences(long, 200),
            "Returns a list of all buckets owned by the authenticated sender of the request, e.g. mine."
        );
        let cut = first_sentences(long, 40);
        assert!(cut.ends_with("...") && cut.len() <= 43, "{cut}");
        assert_eq!(first_sentences("No full stop", 100), "No full stop");
    }
}
