//! Documentation that is generated from code stays current.

#[test]
fn config_reference_matches_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/config.md")).unwrap();
    let table = hollow::config::reference_markdown();
    assert!(doc.contains(&table), "docs/config.md is stale: regenerate the table with `hollow config --markdown`");
}
