//! Generates `data/search_index.bin.gz` and `data/search_context.bin`, the offline search index of the bundled skills and
//! every API operation of the bundled models, opened at run time without rebuilding.
//!
//! ```text
//! cargo run --release -p knowledge-tools --example search_index_gen
//! ```
//!
//! Run it after changing `infra/skills`, the bundled models or the index's text; the test
//! `docs::index::tests::prebuilt_index_is_current` fails until then.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use flate2::Compression;
use flate2::write::GzEncoder;
use knowledge_tools::SkillLibrary;
use knowledge_tools::docs::index::SearchIndex;

fn main() -> ExitCode {
    let index = SearchIndex::build(Arc::new(SkillLibrary::bundled()));
    let raw = index.encode();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/search_index.bin.gz");
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let contexts = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/search_context.bin");
    let written = gz
        .write_all(&raw)
        .and_then(|()| gz.finish())
        .and_then(|bytes| std::fs::write(&path, &bytes).map(|()| bytes.len()))
        .and_then(|n| {
            let blocks = index.encode_contexts()?;
            std::fs::write(&contexts, &blocks)?;
            println!("{}: {} bytes", contexts.display(), blocks.len());
            Ok(n)
        });
    match written {
        Ok(n) => {
            println!(
                "{}: {} documents, {} bytes ({} uncompressed)",
                path.display(),
                index.docs.len(),
                n,
                raw.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
