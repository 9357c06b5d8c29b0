//! The whole lint (front end, catalog checker, suppression) never panics on input.

use proptest::prelude::*;
use turnpike_sema::lint_source;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn lint_never_panics(body in "[<>/=\"'@(){}!\\-a-z ;:.,?\\n]{0,200}") {
        lint_source("t.xml", &body);
        lint_source("t.xml", &format!("<policies><inbound>{body}</inbound></policies>"));
        lint_source("t.xml", &format!("<policies><inbound><set-header name=\"x\">{body}</set-header><!-- turnpike-ignore: {body} --></inbound></policies>"));
    }
}

#[test]
fn comment_edge_cases_do_not_panic() {
    for doc in [
        "<policies><inbound><!--></inbound></policies>",
        "<policies><inbound><!---></inbound></policies>",
        "<policies><inbound><!-- turnpike-ignore:--></inbound></policies>",
        "<policies><inbound><!--turnpike-ignore: ,,--></inbound></policies>",
        "<!-- turnpike-ignore: x -->",
    ] {
        lint_source("t.xml", doc);
    }
}
