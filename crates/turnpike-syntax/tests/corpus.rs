//! The front end against the real corpus: every document loads, every expression parses,
//! printing an AST and parsing it again gives the same AST, and the logos scanner and the
//! pest grammar agree on where every expression ends.

mod common;

use common::{corpus, single, without_spans};
use turnpike_diagnostics::Severity;
use turnpike_syntax::offsets::OffsetMap;
use turnpike_syntax::parse_document;
use turnpike_syntax::parser::{grammar_extent, parse_code};
use turnpike_syntax::printer::print_body;
use turnpike_syntax::scan::{csharp::code_extent, scan};

#[test]
fn every_corpus_document_loads_without_errors() {
    let mut expressions = 0;
    let mut failures = Vec::new();
    for (name, text) in corpus() {
        let (_, file) = single(&name, &text);
        let (doc, diags) = parse_document(file, &text);
        assert!(doc.root.is_some(), "{name}: no root element");
        expressions += doc.expressions().len();
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            failures.push(format!("{name}: {} {}", d.code.name, d.message));
        }
        for e in doc.expressions() {
            assert!(
                e.body.is_some(),
                "{name}: expression at {:?} did not parse",
                e.span
            );
        }
    }
    assert!(
        failures.is_empty(),
        "errors in the corpus:\n{}",
        failures.join("\n")
    );
    assert!(expressions >= 680, "only {expressions} expressions found");
}

#[test]
fn printing_then_parsing_gives_the_same_ast() {
    let mut checked = 0;
    for (name, text) in corpus() {
        let (_, file) = single(&name, &text);
        let (doc, _) = parse_document(file, &text);
        for e in doc.expressions() {
            let Some(body) = &e.body else { continue };
            let printed = print_body(body);
            let map = OffsetMap::identity(0, printed.len());
            let (again, diags) = parse_code(file, &printed, &map, code_extent(&printed));
            let Some(again) = again else {
                panic!("{name}: printed expression does not parse: {diags:?}\n{printed}");
            };
            assert_eq!(
                without_spans(&format!("{body:?}")),
                without_spans(&format!("{again:?}")),
                "{name}: AST changed after printing:\n{printed}"
            );
            // Printing is stable.
            assert_eq!(print_body(&again), printed, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 680, "only {checked} expressions round-tripped");
}

#[test]
fn scanner_and_grammar_agree_on_expression_ends() {
    let mut checked = 0;
    for (name, text) in corpus() {
        let (_, file) = single(&name, &text);
        let scanned = scan(file, &text);
        for found in &scanned.expressions {
            // Decoded expression followed by the rest of the file as written: the grammar must
            // stop exactly where the scanner did.
            let mut probe = found.code.clone();
            probe.push_str(&text[found.end..]);
            let end = grammar_extent(&probe);
            assert_eq!(
                end,
                Some(found.code.len()),
                "{name}: scanner ends the expression at byte {} of {:?}, the grammar at {end:?}",
                found.code.len(),
                found.code
            );
            checked += 1;
        }
    }
    assert!(checked >= 680, "only {checked} expressions compared");
}
