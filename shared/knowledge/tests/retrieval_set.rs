//! Keeps `tests/data/retrieval_queries.json` well-formed: its answers name real skills,
//! operations and commands, it is large enough, and its split follows the rule of
//! `tests/data/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use knowledge_tools::query_sets::{
    Case, Phrasing, Split, load_retrieval, load_search, load_suggest,
};
use sha2::{Digest, Sha256};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn retrieval_set() -> Vec<Case> {
    let path = repo().join("tests/data/retrieval_queries.json");
    load_retrieval(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_set_is_large_and_both_halves_hold_every_phrasing() {
    let cases = retrieval_set();
    assert!(cases.len() >= 150, "{} entries", cases.len());
    let queries: BTreeSet<&str> = cases.iter().map(|c| c.query.as_str()).collect();
    assert_eq!(queries.len(), cases.len(), "a query is listed twice");
    for split in [Split::Dev, Split::Holdout] {
        for phrasing in Phrasing::ALL {
            let n = cases
                .iter()
                .filter(|c| c.split == Some(split) && c.phrasing == Some(phrasing))
                .count();
            assert!(n >= 10, "{split:?} has {n} {} entries", phrasing.name());
        }
    }
}

#[test]
fn the_split_follows_the_hash_rule() {
    let cases = retrieval_set();
    let mut by_phrasing: BTreeMap<Phrasing, Vec<&Case>> = BTreeMap::new();
    for c in &cases {
        let phrasing = c
            .phrasing
            .unwrap_or_else(|| panic!("{:?} has no kind", c.query));
        by_phrasing.entry(phrasing).or_default().push(c);
    }
    for group in by_phrasing.values_mut() {
        group.sort_by_cached_key(|c| sha256_hex(&c.query));
        for (i, c) in group.iter().enumerate() {
            let expected = if i % 2 == 0 {
                Split::Dev
            } else {
                Split::Holdout
            };
            assert_eq!(c.split, Some(expected), "{:?}", c.query);
        }
    }
}

#[test]
fn every_skill_operation_and_command_exists() {
    let skills_dir = repo().join("infra/skills");
    let table = aws_engine::cli_table().expect("the bundled CLI table");
    let suggester = aws_suggest::Suggester::global().expect("the suggest index");
    let known_commands: BTreeSet<String> = (0..suggester.len())
        .map(|i| suggester.index().command(i as u32))
        .collect();
    let models = aws_models::models();
    for c in retrieval_set() {
        for skill in &c.skills {
            assert!(
                skills_dir.join(skill).join("SKILL.md").is_file(),
                "{:?}: no skill {skill} in infra/skills",
                c.query
            );
        }
        for op in &c.operations {
            let model = models
                .service(&op.service)
                .unwrap_or_else(|e| panic!("{:?}: service {}: {e}", c.query, op.service));
            assert!(
                model.operation(&op.operation).is_some(),
                "{:?}: {} has no operation {}",
                c.query,
                op.service,
                op.operation
            );
        }
        for command in &c.commands {
            assert!(
                known_commands.contains(command),
                "{:?}: {command} is not a known command",
                c.query
            );
            // A command's operation is an accepted answer too.
            let words: Vec<&str> = command.split_whitespace().collect();
            if let Some(op) = table
                .services
                .get(words[1])
                .and_then(|s| s.operations.get(words[2]).map(|o| (&s.service, &o.name)))
            {
                assert!(
                    c.operations
                        .iter()
                        .any(|a| &a.service == op.0 && &a.operation == op.1),
                    "{:?}: {command} is accepted but {} {} is not",
                    c.query,
                    op.0,
                    op.1
                );
            }
        }
    }
}

#[test]
fn the_older_sets_still_read() {
    let data = repo().join("tests/data");
    for (file, load) in [
        ("search_queries.json", load_search as fn(&Path) -> _),
        ("suggest_queries.json", load_suggest),
        ("suggest_queries_holdout.json", load_suggest),
    ] {
        let cases = load(&data.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert!(cases.len() >= 20, "{file}: {} entries", cases.len());
    }
}

#[test]
fn a_bad_entry_is_named_in_the_error() {
    let dir = tempfile_dir();
    let path = dir.join("bad.json");
    std::fs::write(
        &path,
        r#"[{"query": "fine", "kind": "goal", "split": "dev", "skills": ["x"]},
            {"query": "no answers here", "kind": "goal", "split": "dev"},
            {"query": "wrong kind", "kind": "poem", "split": "dev", "skills": ["x"]}]"#,
    )
    .expect("write");
    let err = load_retrieval(&path)
        .expect_err("entry 1 has no answer")
        .to_string();
    assert!(err.contains("bad.json"), "{err}");
    assert!(err.contains("entry 1 (no answers here)"), "{err}");
    assert!(err.contains("no accepted answer"), "{err}");
    std::fs::write(
        &path,
        r#"[{"query": "wrong kind", "kind": "poem", "split": "dev", "skills": ["x"]}]"#,
    )
    .expect("write");
    let err = load_retrieval(&path).expect_err("bad kind").to_string();
    assert!(
        err.contains("entry 0 (wrong kind)") && err.contains("poem"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory of this test process (no tempfile dependency for one file).
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retrieval-set-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
