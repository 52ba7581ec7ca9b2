//! Generates the offline search data: `data/search_assoc.bin.gz` (the learned associations:
//! CLI example titles per operation and word links, see `docs::associations`), then
//! `data/search_index.bin.gz` and `data/search_context.bin`, the index of the bundled skills
//! and every API operation of the bundled models, opened at run time without rebuilding.
//!
//! ```text
//! cargo run -p knowledge-tools --example search_index_gen
//! ```
//!
//! Run it after changing `infra/skills`, the bundled models, the CLI example titles
//! (`infra/scripts/generate_cli_examples.py`), the suggest vocabulary or the index's text; the
//! tests `docs::index::tests::prebuilt_index_is_current` and `associations_current` fail
//! until then.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use knowledge_tools::SkillLibrary;
use knowledge_tools::docs::associations::Associations;
use knowledge_tools::docs::index::SearchIndex;

mod support {
    pub mod association_inputs;
}
use support::association_inputs::{operation_phrases, vocabulary};

fn gzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(raw)?;
    gz.finish()
}

fn run() -> Result<(), String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let write = |name: &str, bytes: &[u8]| -> Result<(), String> {
        let path = data.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };

    let associations = Associations::mine(operation_phrases()?, &vocabulary());
    let raw = associations.encode();
    let gz = gzip(&raw).map_err(|e| e.to_string())?;
    write("search_assoc.bin.gz", &gz)?;
    println!(
        "search_assoc.bin.gz: {} links, {} operations with titles, {} bytes ({} uncompressed)",
        associations.link_count(),
        associations.phrase_count(),
        gz.len(),
        raw.len()
    );

    let index = SearchIndex::build_with(Arc::new(SkillLibrary::bundled()), Arc::new(associations));
    let raw = index.encode();
    let gz = gzip(&raw).map_err(|e| e.to_string())?;
    write("search_index.bin.gz", &gz)?;
    println!(
        "search_index.bin.gz: {} documents, {} bytes ({} uncompressed)",
        index.docs.len(),
        gz.len(),
        raw.len()
    );
    let blocks = index.encode_contexts().map_err(|e| e.to_string())?;
    write("search_context.bin", &blocks)?;
    println!("search_context.bin: {} bytes", blocks.len());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("search_index_gen: {e}");
            ExitCode::FAILURE
        }
    }
}
