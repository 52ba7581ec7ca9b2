//! The bundled search associations (`data/search_assoc.bin.gz`) are what the generator makes
//! from the current inputs: the CLI example titles, the CLI command table and the suggest
//! vocabulary. Regenerate with `cargo run -p knowledge-tools --example search_index_gen`.

#[path = "../examples/support/association_inputs.rs"]
mod association_inputs;

use knowledge_tools::docs::associations::Associations;

#[test]
fn associations_current() {
    let phrases = association_inputs::operation_phrases().expect("inputs readable");
    assert!(phrases.len() > 5000, "{} titled operations", phrases.len());
    let mined = Associations::mine(phrases, &association_inputs::vocabulary());
    let stored = Associations::stored_bytes().expect("bundled associations readable");
    assert!(
        stored == mined.encode(),
        "data/search_assoc.bin.gz is stale: run \
         `cargo run -p knowledge-tools --example search_index_gen`"
    );
}

#[test]
fn titles_teach_paraphrases() {
    let a = Associations::bundled();
    // Titles say "remove" and "retrieve" where operation names say Delete and Get.
    let targets =
        |stem: &str| -> Vec<String> { a.links_of(stem).iter().map(|(w, _)| w.clone()).collect() };
    assert!(
        targets("remov").contains(&"delet".to_owned()),
        "{:?}",
        targets("remov")
    );
    assert!(
        targets("retriev").contains(&"get".to_owned()),
        "{:?}",
        targets("retriev")
    );
    // The suggest vocabulary: an abbreviation of a service.
    assert!(
        targets("k8s").iter().any(|w| w == "ek"),
        "{:?}",
        targets("k8s")
    );
}
