//! The catalog parses, and `spec/policies.md` is generated from it.

use std::path::PathBuf;

use turnpike_sema::catalog::{CATALOG_TOML, Catalog, policies_markdown};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn catalog_parses() {
    let catalog = Catalog::parse(CATALOG_TOML).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        catalog.policy.len() >= 70,
        "only {} policies",
        catalog.policy.len()
    );
    for must in [
        "invoke-dapr-binding",
        "publish-to-dapr",
        "cache-value",
        "llm-content-safety",
    ] {
        assert!(catalog.policy(must).is_some(), "{must} missing");
    }
    for never in [
        "invoke-darp-binding",
        "publish-to-darp",
        "invoke-request",
        "any-xml",
    ] {
        assert!(catalog.policy(never).is_none(), "{never} must stay unknown");
    }
    let safety = catalog
        .policy("llm-content-safety")
        .map(|p| p.children.keys().cloned().collect::<Vec<_>>());
    let safety = safety.unwrap_or_default();
    assert!(
        safety.contains(&"blocklists".to_string()) && safety.contains(&"block-lists".to_string()),
        "{safety:?}"
    );
}

#[test]
fn spec_policy_tables_match_the_catalog() {
    let catalog = Catalog::parse(CATALOG_TOML).unwrap_or_else(|e| panic!("{e}"));
    let generated = policies_markdown(&catalog);
    let path = root().join("spec/policies.md");
    if std::env::var_os("TURNPIKE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "spec/policies.md is out of date; run `TURNPIKE_BLESS=1 cargo test -p turnpike-sema --test catalog`"
    );
}
