//! Parsing policy expressions with the pest grammar in `grammar/expr.pest`, and turning pest's
//! errors into diagnostics.

mod build;
mod literals;

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use turnpike_diagnostics::{Diagnostic, FileId, Span, codes};

use crate::offsets::OffsetMap;
use crate::scan::FoundExpr;
use crate::scan::csharp::{ExprExtent, code_extent};
use crate::tree::ExprBody;

/// The pest parser generated from `grammar/expr.pest`.
#[derive(pest_derive::Parser, Debug)]
#[grammar = "../../grammar/expr.pest"]
pub struct CsParser;

/// Deepest nesting of brackets and interpolation holes the parser accepts.
pub const MAX_NESTING: usize = 64;
/// Most `<` in one run of type-like tokens (bounds the generic-argument lookahead).
pub const MAX_ANGLE_RUN: usize = 32;
/// Most constructs that nest without brackets (`if`, `else`, loops, `=>`, `?`, assignments)
/// open at once.
pub const MAX_CHAIN: usize = 256;
/// Deepest syntax tree the parser builds (a chain of `n` binary operators is `n` deep).
pub const MAX_TREE_DEPTH: usize = 512;

/// Parses a delimited expression found by the scanner.
pub fn parse_found(file: FileId, found: &FoundExpr) -> (Option<ExprBody>, Vec<Diagnostic>) {
    parse_code(file, &found.code, &found.map, found.extent)
}

/// Parses `code` (`@(`…`)` or `@{`…`}`), whose offsets map to the file through `map`.
pub fn parse_code(
    file: FileId,
    code: &str,
    map: &OffsetMap,
    extent: ExprExtent,
) -> (Option<ExprBody>, Vec<Diagnostic>) {
    let whole = Span::new(file, map.to_raw(0), map.to_raw(code.len()));
    let block = code.starts_with("@{");
    if extent.max_depth > MAX_NESTING
        || extent.max_angle_run > MAX_ANGLE_RUN
        || extent.max_chain > MAX_CHAIN
    {
        let what = if extent.max_depth > MAX_NESTING {
            format!("brackets nest {} deep", extent.max_depth)
        } else if extent.max_angle_run > MAX_ANGLE_RUN {
            format!("{} `<` follow one another", extent.max_angle_run)
        } else {
            format!(
                "{} statements, lambdas, conditionals or assignments nest inside each other",
                extent.max_chain
            )
        };
        let d = Diagnostic::new(
            &codes::EXPRESSION_TOO_DEEP,
            Span::new(file, whole.start as usize, whole.start as usize + 2),
            format!("policy expression is too deeply nested: {what}"),
        )
        .with_label("in this expression")
        .with_help(format!(
            "Turnpike accepts {MAX_NESTING} levels of brackets (counting the expression's own), {MAX_ANGLE_RUN} `<` in a row and {MAX_CHAIN} nested statements; split the expression with `set-variable`"
        ));
        return (None, vec![d]);
    }
    if is_empty_body(code) {
        let d = Diagnostic::new(
            &codes::EMPTY_EXPRESSION,
            whole,
            "policy expression holds no code",
        )
        .with_help(if block {
            "a block `@{ ... }` must return a value, e.g. `@{ return \"\"; }`"
        } else {
            "write an expression between the brackets, e.g. `@(\"\")`"
        });
        return (None, vec![d]);
    }
    let rule = if block {
        Rule::block_root
    } else {
        Rule::expression_root
    };
    // The grammar and the tree builder recurse once per bracket level: make sure there is
    // stack for the deepest accepted nesting, whatever thread we are on.
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SIZE, || {
        match CsParser::parse(rule, code) {
            Ok(mut pairs) => match pairs.next() {
                Some(root) => build::build(file, map, root, block),
                None => (None, Vec::new()),
            },
            Err(err) => (None, vec![syntax_error(file, code, map, &err)]),
        }
    })
}

/// Stack that parsing may need: the grammar recurses once per bracket level.
const STACK_RED_ZONE: usize = 1024 * 1024;
const STACK_SIZE: usize = 8 * 1024 * 1024;

fn is_empty_body(code: &str) -> bool {
    let inner = code.get(2..code.len().saturating_sub(1)).unwrap_or("");
    let mut rest = inner.trim();
    loop {
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |x| x.1).trim();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |x| x.1).trim();
        } else {
            return rest.is_empty();
        }
    }
}

/// Where pest's parse of `@(`…`)` or `@{`…`}` at the start of `text` ends, without requiring
/// the text to end there. Used to check that the scanner and the grammar agree.
pub fn grammar_extent(text: &str) -> Option<usize> {
    let rule = if text.starts_with("@{") {
        Rule::policy_block
    } else {
        Rule::policy_expression
    };
    let extent = code_extent(text);
    if extent.max_depth > MAX_NESTING + 1
        || extent.max_angle_run > MAX_ANGLE_RUN
        || extent.max_chain > MAX_CHAIN
    {
        return None;
    }
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SIZE, || {
        CsParser::parse(rule, text)
            .ok()
            .and_then(|mut p| p.next())
            .map(|p| p.as_span().end())
    })
}

fn syntax_error(
    file: FileId,
    code: &str,
    map: &OffsetMap,
    err: &pest::error::Error<Rule>,
) -> Diagnostic {
    let at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let closing = code.len().saturating_sub(1);
    let found = code[at.min(code.len())..].chars().next();
    let (message, width) = match found {
        _ if at >= closing => ("policy expression ends too early".to_string(), 1),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let word: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (
                format!("unexpected `{word}` in policy expression"),
                word.len(),
            )
        }
        Some(c) => {
            let shown = if c.is_control() || c.is_whitespace() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            };
            (
                format!("unexpected `{shown}` in policy expression"),
                c.len_utf8(),
            )
        }
        None => ("policy expression ends too early".to_string(), 0),
    };
    let expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let start = map.to_raw(at);
    let end = map.to_raw((at + width).min(code.len()));
    let whole = Span::new(file, map.to_raw(0), map.to_raw(code.len()));
    let mut d = Diagnostic::new(
        &codes::EXPRESSION_SYNTAX,
        Span::new(file, start, end),
        message,
    )
    .with_label(format!("expected {expected}"));
    // Point at the expression's start too, unless the error is on the same line (the two
    // labels would collide).
    if code[..at.min(code.len())].contains('\n') {
        d = d.with_secondary(
            Span::new(file, whole.start as usize, whole.start as usize + 2),
            "in this expression",
        );
    }
    if let Some(help) = hint(code, at) {
        d = d.with_help(help);
    }
    d
}

/// A help line for common mistakes near `at`.
fn hint(code: &str, at: usize) -> Option<String> {
    let rest = &code[at.min(code.len())..];
    let before = &code[..at.min(code.len())];
    let trimmed = before.trim_end();
    // A statement on one line and the next one on the following line: a missing `;`.
    let line_break = before[trimmed.len()..].contains('\n');
    let ended = trimmed
        .ends_with(|c: char| c.is_alphanumeric() || matches!(c, '_' | ')' | ']' | '"' | '\''));
    let starts = rest.starts_with(|c: char| c.is_alphabetic() || c == '_');
    if code.starts_with("@{") && line_break && ended && starts {
        return Some(
            "statements in `@{ ... }` end with `;`; add one at the end of the previous line"
                .to_string(),
        );
    }
    if rest.starts_with('\'') {
        return Some("a character literal holds one character; strings use `\"`".to_string());
    }
    if rest.starts_with("=") && !rest.starts_with("==") && !code.starts_with("@{") {
        return Some("to compare, write `==`".to_string());
    }
    None
}

fn describe_expected(positives: &[Rule]) -> String {
    let mut names: Vec<&'static str> = Vec::new();
    for r in positives {
        for n in rule_names(*r) {
            if !names.contains(n) {
                names.push(n);
            }
        }
    }
    names.sort_unstable();
    names.truncate(7);
    match names.len() {
        0 => "something else".to_string(),
        1 => names[0].to_string(),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {last}", names.join(", "))
        }
    }
}

/// What a rule stands for in "expected ..." labels: single items, joined by the caller.
fn rule_names(r: Rule) -> &'static [&'static str] {
    use Rule::*;
    match r {
        expression | conditional | binary | unary | primary | primary_head | for_condition
        | variable_initializer | initializer_value | lambda => &["an expression"],
        identifier | simple_name => &["an identifier"],
        type_ | test_type | type_name | type_name_part | predefined_type => &["a type"],
        statement | block | declaration_statement | expression_statement | local_declaration => {
            &["a statement"]
        }
        argument_list | argument => &["an argument"],
        literal | integer_literal | real_literal | string_literal | char_literal => &["a literal"],
        assignment_operator => &["an assignment operator"],
        op_coalesce | op_or | op_and | op_bit_or | op_bit_xor | op_bit_and | op_eq | op_ne
        | op_le | op_ge | op_shl | op_shr | op_lt | op_gt | op_add | op_sub | op_mul | op_div
        | op_rem | type_test | is_pattern | as_type => &["an operator"],
        selector
        | member_access
        | null_conditional_member
        | invocation
        | element_access
        | null_conditional_element
        | post_increment
        | post_decrement => &["`.`", "`(`", "`[`"],
        rank_specifier | nullable_mark => &["`[`", "`?`"],
        switch_section | switch_label | case_label | default_label => &["`case`", "`default`"],
        catch_clause | finally_clause => &["`catch`", "`finally`"],
        else_clause => &["`else`"],
        kw_while => &["`while`"],
        kw_in => &["`in`"],
        EOI => &["the end of the expression"],
        _ => &["more code"],
    }
}
