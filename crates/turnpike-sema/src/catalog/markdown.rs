//! `spec/policies.md`, generated from the catalog (a test keeps the file in step).

use std::fmt::Write as _;

use super::{Catalog, Child, Content, Element, Once, Runtime, Scope, Section, Value, ValueType};

/// The policy reference chapter as Markdown.
pub fn policies_markdown(catalog: &Catalog) -> String {
    let mut out = String::new();
    out.push_str(
        "# Policy reference\n\n\
         Generated from `grammar/policies.toml` by `turnpike-sema` (`catalog::markdown`); do not edit\n\
         by hand. A test fails when this file and the catalog disagree; regenerate it with\n\
         `TURNPIKE_BLESS=1 cargo test -p turnpike-sema --test catalog`.\n\n\
         Sections: I inbound, B backend, O outbound, E on-error. Scopes: G global, W workspace,\n\
         P product, A API, Op operation. *expr*: a policy expression may stand there.\n\n\
         ## Summary\n\n\
         | policy | sections | scopes | how often | runs in Turnpike |\n\
         |---|---|---|---|---|\n",
    );
    for (name, p) in &catalog.policy {
        let sections = if p.resolver {
            "resolver".to_string()
        } else {
            p.sections
                .iter()
                .map(|s| match s {
                    Section::Inbound => "I",
                    Section::Backend => "B",
                    Section::Outbound => "O",
                    Section::OnError => "E",
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = writeln!(
            out,
            "| [`{name}`](#{name}) | {sections} | {} | {} | {} |",
            scopes(&p.scopes),
            match p.once {
                Once::Unlimited => "any",
                Once::Section => "once per section",
                Once::Document => "once per document",
            },
            match p.runtime {
                Runtime::Planned => "yes",
                Runtime::Unsupported => "no (`unsupported-policy`)",
            }
        );
    }
    for (name, p) in &catalog.policy {
        let _ = writeln!(out, "\n## {name}\n");
        if let Some(s) = &p.summary {
            let _ = writeln!(out, "{s}\n");
        }
        element(&mut out, p, 0);
        if let Some(note) = &p.note {
            let _ = writeln!(out, "\n*Note:* {note}");
        }
    }
    out
}

fn scopes(s: &[Scope]) -> String {
    if s.is_empty() || s.len() == Scope::ALL.len() {
        return "all".to_string();
    }
    s.iter()
        .map(|s| match s {
            Scope::Global => "G",
            Scope::Workspace => "W",
            Scope::Product => "P",
            Scope::Api => "A",
            Scope::Operation => "Op",
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn value(v: &Value) -> String {
    let mut s = match v.ty {
        ValueType::Enum => v
            .values
            .iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(" \\| "),
        ValueType::String => "string".into(),
        ValueType::Integer => "integer".into(),
        ValueType::Number => "number".into(),
        ValueType::Boolean => "boolean".into(),
        ValueType::Duration => "seconds".into(),
        ValueType::Url if v.relative => "URL or path".into(),
        ValueType::Url => "URL".into(),
        ValueType::Method => "HTTP method".into(),
        ValueType::Name => "name".into(),
        ValueType::DateTime => "date-time".into(),
    };
    match (v.min, v.max) {
        (Some(lo), Some(hi)) => {
            let _ = write!(s, " {lo}–{hi}");
        }
        (Some(lo), None) => {
            let _ = write!(s, " ≥ {lo}");
        }
        (None, Some(hi)) => {
            let _ = write!(s, " ≤ {hi}");
        }
        (None, None) => {}
    }
    s
}

fn names(group: &[String]) -> String {
    group
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn element(out: &mut String, e: &Element, depth: usize) {
    let indent = "  ".repeat(depth);
    if let Some(r) = &e.reference {
        let _ = writeln!(out, "{indent}- same shape as [`{r}`](#{r})");
        return;
    }
    if depth == 0 && !e.attributes.is_empty() {
        out.push_str("| attribute | type | required | expr | default |\n|---|---|---|---|---|\n");
        for (a, v) in &e.attributes {
            let _ = writeln!(
                out,
                "| `{a}` | {} | {} | {} | {} |",
                value(v),
                if v.required { "yes" } else { "" },
                if v.expr { "expr" } else { "" },
                v.default
                    .as_deref()
                    .map(|d| format!("`{d}`"))
                    .unwrap_or_default()
            );
        }
    } else {
        for (a, v) in &e.attributes {
            let _ = writeln!(
                out,
                "{indent}- attribute `{a}`: {}{}{}",
                value(v),
                if v.required { ", required" } else { "" },
                if v.expr { ", expr" } else { "" }
            );
        }
    }
    for group in &e.one_of {
        let _ = writeln!(out, "\n{indent}Exactly one of {}.", names(group));
    }
    for group in &e.any_of {
        let _ = writeln!(out, "\n{indent}At least one of {}.", names(group));
    }
    for group in &e.exclusive {
        let _ = writeln!(out, "\n{indent}At most one of {}.", names(group));
    }
    match e.content {
        Content::Policies => {
            let _ = writeln!(out, "{indent}- holds policy statements of its section");
        }
        Content::Opaque => {
            let _ = writeln!(out, "{indent}- holds XML that is not checked");
        }
        Content::Text | Content::Elements => {}
    }
    if let Some(t) = &e.text {
        let _ = writeln!(
            out,
            "{indent}- text: {}{}",
            value(t),
            if t.expr { ", expr" } else { "" }
        );
    }
    if !e.children.is_empty() {
        if depth == 0 {
            out.push_str("\nChildren:\n\n");
        }
        for (c, child) in &e.children {
            let _ = writeln!(out, "{indent}- `<{c}>` {}", count(child));
            element(out, &child.element, depth + 1);
        }
    }
}

fn count(c: &Child) -> String {
    match (c.min, c.max) {
        (0, None) => "(any number)".into(),
        (0, Some(1)) => "(optional)".into(),
        (1, Some(1)) => "(required)".into(),
        (min, None) => format!("({min} or more)"),
        (min, Some(max)) => format!("({min} to {max})"),
    }
}
