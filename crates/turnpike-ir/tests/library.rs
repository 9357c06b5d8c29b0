//! The type model file parses and holds what the checker relies on.

use turnpike_ir::library::Library;

#[test]
fn library_file_parses() {
    let lib = Library::parse(turnpike_ir::library::LIBRARY_SOURCE)
        .unwrap_or_else(|e| panic!("{}", e.join("\n")));
    assert!(lib.types().count() > 100);
    for name in [
        "IContext",
        "IEnumerable",
        "Enumerable",
        "Func",
        "List",
        "Dictionary",
        "JObject",
        "Regex",
    ] {
        assert!(!lib.types_named(name).is_empty(), "{name} is missing");
    }
    assert!(lib.by_key("string.Substring(int,int)").is_some());
}

/// The IR crosses threads: a compiled policy is shared by every request of the gateway.
#[test]
fn ir_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<turnpike_ir::ir::Body>();
    check::<Library>();
}
