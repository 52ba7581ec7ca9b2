//! The inputs of the search associations, gathered from the repository: the CLI example
//! titles (`data/cli_example_titles.json.gz`) mapped to API operations through the CLI
//! command table, and the suggest ranker's hand-written vocabulary. Shared by the generator
//! (`search_index_gen`) and the test that checks the bundled file is current.

use std::path::Path;

use knowledge_tools::docs::associations::{OperationPhrases, VocabLink, read_cli_titles};

pub fn titles_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/cli_example_titles.json.gz")
}

/// Titles per API operation; high-level commands (`s3 cp`) and commands the table does not
/// know are left out.
pub fn operation_phrases() -> Result<Vec<OperationPhrases>, String> {
    let path = titles_path();
    let gz = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let titles = read_cli_titles(&gz).map_err(|e| e.to_string())?;
    let table = aws_engine::cli_table()?;
    Ok(titles
        .into_iter()
        .filter_map(|(cli_service, command, titles)| {
            let service = table.services.get(&cli_service)?;
            let op = service.operations.get(&command)?;
            Some(OperationPhrases {
                service: service.service.clone(),
                operation: op.name.clone(),
                titles,
            })
        })
        .collect())
}

/// The suggest ranker's words for services, resources, verbs and synonyms, as links.
pub fn vocabulary() -> Vec<VocabLink> {
    use aws_suggest::vocab::{RESOURCE_WORDS, SERVICE_NAMES, SYNONYMS, VERBS};
    let botocore_name = |cli: &str| -> String {
        aws_engine::cli_table()
            .ok()
            .and_then(|t| t.services.get(cli).map(|s| s.service.clone()))
            .unwrap_or_else(|| cli.to_owned())
    };
    let link = |from: &str, to: String, weight: f32| VocabLink {
        from: from.to_owned(),
        to,
        weight,
    };
    let mut out = Vec::new();
    for (phrase, cli) in SERVICE_NAMES {
        out.push(link(phrase, botocore_name(cli), 1.0));
    }
    // Resource weights are relative to a service's own name (2.5 at most).
    for (phrase, cli, weight) in RESOURCE_WORDS {
        out.push(link(phrase, botocore_name(cli), weight / 2.5));
    }
    for (word, targets) in SYNONYMS.iter().chain(VERBS) {
        for (to, weight) in *targets {
            out.push(link(word, (*to).to_owned(), *weight));
        }
    }
    out
}
