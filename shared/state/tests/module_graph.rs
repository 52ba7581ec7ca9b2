//! The state stores' top-level modules import each other without a circle.

#[test]
fn top_level_modules_import_without_cycles() {
    aws_mcp_testkit::module_graph::assert_no_cycles(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
}
