//! The loader and parser never panic, and nesting ends in a diagnostic or a parse.

mod common;

use common::{corpus, single};
use proptest::prelude::*;
use turnpike_diagnostics::codes;
use turnpike_syntax::parse_document;

fn load(text: &str) -> Vec<&'static str> {
    let (_, file) = single("t.xml", text);
    let (_, diags) = parse_document(file, text);
    diags.iter().map(|d| d.code.name).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        load(&text);
    }

    #[test]
    fn policy_like_text_never_panics(text in "[<>/=\"'@(){}\\[\\];&a-z ;:.,!?$\\\\\n-]{0,300}") {
        load(&text);
        load(&format!("<policies><inbound><set-variable name=\"x\" value=\"{text}\" /></inbound></policies>"));
        load(&format!("<policies><inbound><set-body>@{{ {text} }}</set-body></inbound></policies>"));
        load(&format!("<policies><inbound><set-body>@({text})</set-body></inbound></policies>"));
    }
}

/// Random edits of real documents: delete, insert or replace bytes.
fn mutations() -> impl Strategy<Value = (usize, Vec<(u8, u16, u8)>)> {
    (
        0usize..400,
        proptest::collection::vec((0u8..3, any::<u16>(), any::<u8>()), 1..12),
    )
}

const INTERESTING: &[u8] = b"<>/=\"'@(){}[];&$\\\n #!?:.,xyz0";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_documents_never_panic((index, edits) in mutations()) {
        let docs = corpus_cache();
        let (_, text) = &docs[index % docs.len()];
        let mut bytes = text.as_bytes().to_vec();
        for (op, pos, b) in edits {
            if bytes.is_empty() { break; }
            let at = usize::from(pos) % bytes.len();
            let ch = INTERESTING[usize::from(b) % INTERESTING.len()];
            match op {
                0 => { bytes.remove(at); }
                1 => bytes.insert(at, ch),
                _ => bytes[at] = ch,
            }
        }
        load(&String::from_utf8_lossy(&bytes));
    }
}

fn corpus_cache() -> &'static [(String, String)] {
    static CORPUS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(corpus)
}

fn doc_with(expr: &str) -> String {
    format!("<policies><inbound><set-variable name=\"x\" value=\"{expr}\" /></inbound></policies>")
}

#[test]
fn five_hundred_nested_parentheses_end_in_a_diagnostic() {
    let expr = format!("@({}1{})", "(".repeat(500), ")".repeat(500));
    assert_eq!(load(&doc_with(&expr)), [codes::EXPRESSION_TOO_DEEP.name]);
    let expr = format!("@{{ return {}1{}; }}", "(".repeat(500), ")".repeat(500));
    assert_eq!(load(&doc_with(&expr)), [codes::EXPRESSION_TOO_DEEP.name]);
    let expr = format!("@({}1{})", "f(".repeat(500), ")".repeat(500));
    assert_eq!(load(&doc_with(&expr)), [codes::EXPRESSION_TOO_DEEP.name]);
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let depth = turnpike_syntax::parser::MAX_NESTING - 1;
    let expr = format!("@({}1{})", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(load(&doc_with(&expr)), Vec::<&str>::new());
    // Run on a small stack too: the parser grows its own stack when it needs more.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || load(&doc_with(&expr)).len())
        .expect("spawn");
    assert_eq!(handle.join().ok(), Some(0));
}

#[test]
fn long_less_than_chains_end_in_a_diagnostic_or_a_parse() {
    // Short chains parse (as comparisons); long ones hit the generic-lookahead limit.
    let chain = |n: usize| {
        (0..n)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(" &lt; ")
    };
    assert_eq!(
        load(&doc_with(&format!("@({})", chain(20)))),
        Vec::<&str>::new()
    );
    assert_eq!(
        load(&doc_with(&format!("@({})", chain(5000)))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
    // Long chains of other operators parse up to the tree-depth limit.
    let plus = (0..400)
        .map(|i| format!("a{i}"))
        .collect::<Vec<_>>()
        .join(" + ");
    assert_eq!(load(&doc_with(&format!("@({plus})"))), Vec::<&str>::new());
    let plus = (0..5000)
        .map(|i| format!("a{i}"))
        .collect::<Vec<_>>()
        .join(" + ");
    assert_eq!(
        load(&doc_with(&format!("@({plus})"))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
    // Interleaved comparisons and logic: no `<` run is long, so they parse.
    let mixed = (0..200)
        .map(|i| format!("a{i} &lt; b{i}"))
        .collect::<Vec<_>>()
        .join(" &amp;&amp; ");
    assert_eq!(load(&doc_with(&format!("@({mixed})"))), Vec::<&str>::new());
}

#[test]
fn deeply_nested_interpolated_strings_end_in_a_diagnostic() {
    let mut inner = String::from("1");
    for _ in 0..2000 {
        inner = format!("$\"{{{inner}}}\"");
    }
    let doc = format!("<policies><inbound><set-body>@({inner})</set-body></inbound></policies>");
    assert_eq!(load(&doc), [codes::EXPRESSION_TOO_DEEP.name]);
    let mut inner = String::from("1");
    for _ in 0..20 {
        inner = format!("$\"{{{inner}}}\"");
    }
    let doc = format!("<policies><inbound><set-body>@({inner})</set-body></inbound></policies>");
    assert_eq!(load(&doc), Vec::<&str>::new());
}

#[test]
fn nesting_without_brackets_ends_in_a_diagnostic() {
    let ifs = |n: usize| format!("@{{ {} x = 1; return x; }}", "if (a) ".repeat(n));
    assert_eq!(load(&doc_with(&ifs(50))), Vec::<&str>::new());
    assert_eq!(
        load(&doc_with(&ifs(5000))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
    let elses = |n: usize| format!("@{{ {} {{ }} return x; }}", "if (a) { } else ".repeat(n));
    assert_eq!(load(&doc_with(&elses(50))), Vec::<&str>::new());
    assert_eq!(
        load(&doc_with(&elses(5000))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
    let lambdas = |n: usize| format!("@({}1)", "x =&gt; ".repeat(n));
    assert_eq!(load(&doc_with(&lambdas(50))), Vec::<&str>::new());
    assert_eq!(
        load(&doc_with(&lambdas(5000))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
    let ternaries = |n: usize| format!("@({}1)", "a ? b : ".repeat(n));
    assert_eq!(load(&doc_with(&ternaries(50))), Vec::<&str>::new());
    assert_eq!(
        load(&doc_with(&ternaries(5000))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
}

#[test]
fn long_prefix_and_member_chains_end_in_a_diagnostic() {
    assert_eq!(
        load(&doc_with(&format!("@({}x)", "!".repeat(100)))),
        Vec::<&str>::new()
    );
    assert_eq!(
        load(&doc_with(&format!("@({}x)", "!".repeat(20000)))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
    assert_eq!(
        load(&doc_with(&format!("@(a{})", ".b".repeat(100)))),
        Vec::<&str>::new()
    );
    assert_eq!(
        load(&doc_with(&format!("@(a{})", ".b".repeat(20000)))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
}

#[test]
fn tree_depth_adds_up_across_nesting() {
    // 31 levels of brackets, each adding a chain of 40 operators: the tree is far deeper than
    // the limit although no single chain is long.
    let mut e = String::from("a");
    for _ in 0..31 {
        e = format!(
            "({}{e}{}{})",
            "!".repeat(20),
            ".b".repeat(10),
            " + a".repeat(10)
        );
    }
    assert_eq!(
        load(&doc_with(&format!("@({e})"))),
        [codes::EXPRESSION_TOO_DEEP.name]
    );
}
