//! The checker: a policy document against the catalog.
//!
//! It walks the element tree once. At the root it expects `<policies>` with its sections, or a
//! `<fragment>`; in a section (and inside `when`, `retry`, ... which hold policies) every element
//! must be a catalog policy allowed there; below a policy every attribute, child and text must
//! match the catalog entry. Literal values are checked against their type unless they hold a
//! `{{named value}}` or a deployment template placeholder.

use std::collections::HashMap;

use turnpike_diagnostics::{Diagnostic, Span, codes};
use turnpike_syntax::tree::{Document, Element, Node, Value, ValueKind};

use crate::catalog::{self, Catalog, Content, Once, Runtime, Scope, Section, ValueType};
use crate::suggest::did_you_mean;

/// Where a document stands, when known.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckContext {
    /// The scope of the document; `None` for loose files (scope checks are skipped).
    pub scope: Option<Scope>,
}

/// Checks one document against the compiled-in catalog.
pub fn check_document(doc: &Document, ctx: CheckContext) -> Vec<Diagnostic> {
    let mut c = Checker {
        catalog: Catalog::get(),
        ctx,
        diags: Vec::new(),
        per_document: HashMap::new(),
        in_fragment: false,
        current: String::new(),
    };
    if let Some(root) = &doc.root {
        c.root(root);
    }
    c.diags
}

struct Checker<'c> {
    catalog: &'c Catalog,
    ctx: CheckContext,
    diags: Vec<Diagnostic>,
    /// Policies that may appear once per document, with where they first appeared.
    per_document: HashMap<String, Span>,
    in_fragment: bool,
    /// The element whose value is being checked.
    current: String,
}

/// Attributes every element accepts.
const UNIVERSAL_ATTRIBUTES: &[&str] = &["id"];

/// `id`, and namespace declarations `xmlns` / `xmlns:prefix`, which every element takes.
fn universal(name: &str) -> bool {
    UNIVERSAL_ATTRIBUTES.contains(&name) || name == "xmlns" || name.starts_with("xmlns:")
}

impl Checker<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn root(&mut self, root: &Element) {
        if let Some(p) = self.catalog.policy(&root.name).filter(|p| p.resolver) {
            // A GraphQL resolver's policy: the resolver policy is the root.
            self.element(root, p, None);
            return;
        }
        match root.name.as_str() {
            "policies" => self.policies(root),
            "fragment" => {
                self.in_fragment = true;
                self.no_attributes(root);
                self.statements(root, None, false);
            }
            other => {
                let help = match other {
                    "inbound" | "backend" | "outbound" | "on-error" => {
                        format!("wrap the section in `<policies>`: `<policies><{other}>...</{other}></policies>`")
                    }
                    _ => "a policy document is `<policies>` with its sections, or a `<fragment>` of policies".to_string(),
                };
                self.push(
                    Diagnostic::new(
                        &codes::INVALID_ROOT,
                        root.name_span,
                        format!("`{other}` is not a policy document's root element"),
                    )
                    .with_help(help),
                );
            }
        }
    }

    fn no_attributes(&mut self, el: &Element) {
        for a in el.attrs.iter().filter(|a| !universal(&a.name)) {
            self.push(
                Diagnostic::new(
                    &codes::UNKNOWN_ATTRIBUTE,
                    a.name_span,
                    format!("`{}` takes no attribute `{}`", el.name, a.name),
                )
                .with_help("remove it"),
            );
        }
    }

    fn policies(&mut self, root: &Element) {
        self.no_attributes(root);
        let mut seen: Vec<(Section, Span)> = Vec::new();
        for node in &root.children {
            match node {
                Node::Element(el) if el.name == "base" => self.push(
                    Diagnostic::new(
                        &codes::MISPLACED_BASE,
                        el.name_span,
                        "`<base/>` stands inside a section, not directly in `<policies>`",
                    )
                    .with_help("put `<base />` in each section that inherits, e.g. `<inbound><base /></inbound>`"),
                ),
                Node::Element(el) => {
                    let Some(section) = Section::from_name(&el.name) else {
                        let mut d = Diagnostic::new(
                            &codes::UNKNOWN_SECTION,
                            el.name_span,
                            format!("`{}` is not a policy section", el.name),
                        );
                        d = if self.catalog.policy(&el.name).is_some() {
                            d.with_help(format!(
                                "put `{}` inside a section such as `<inbound>`",
                                el.name
                            ))
                        } else {
                            let names = Section::ALL.iter().map(|s| s.name());
                            match did_you_mean(&el.name, names) {
                                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                                None => d.with_help(
                                    "the sections are `inbound`, `backend`, `outbound` and `on-error`",
                                ),
                            }
                        };
                        self.push(d);
                        continue;
                    };
                    if let Some((_, first)) = seen.iter().find(|(s, _)| *s == section) {
                        let first = *first;
                        self.push(
                            Diagnostic::new(
                                &codes::DUPLICATE_SECTION,
                                el.name_span,
                                format!("section `{}` appears twice", el.name),
                            )
                            .with_secondary(first, "first given here")
                            .with_help("merge the two sections into one"),
                        );
                    } else if let Some((later, later_span)) =
                        seen.iter().find(|(s, _)| *s > section).copied()
                    {
                        self.push(
                            Diagnostic::new(
                                &codes::SECTIONS_OUT_OF_ORDER,
                                el.name_span,
                                format!("section `{}` comes after `{}`", el.name, later.name()),
                            )
                            .with_secondary(later_span, "this section belongs after it")
                            .with_help("sections run in the order `inbound`, `backend`, `outbound`, `on-error`; write them in that order"),
                        );
                    }
                    seen.push((section, el.name_span));
                    self.no_attributes(el);
                    self.statements(el, Some(section), true);
                }
                Node::Text(v) => self.unexpected_text(v, "policies"),
                Node::Comment(_) => {}
            }
        }
    }

    fn unexpected_text(&mut self, v: &Value, parent: &str) {
        self.text_not_allowed(v, parent, true);
    }

    fn text_not_allowed(&mut self, v: &Value, parent: &str, holds_elements: bool) {
        let message = if holds_elements {
            format!("`{parent}` holds elements, not text")
        } else {
            format!("`{parent}` takes no text")
        };
        self.push(
            Diagnostic::new(&codes::UNEXPECTED_TEXT, v.span, message)
                .with_help("remove the text, or put it in a comment `<!-- ... -->`"),
        );
    }

    /// Policy statements inside a section (`top`) or inside a policy that holds policies.
    fn statements(&mut self, container: &Element, section: Option<Section>, top: bool) {
        let mut once_here: HashMap<&str, Span> = HashMap::new();
        let mut base_seen: Option<Span> = None;
        for node in &container.children {
            let el = match node {
                Node::Element(el) => el,
                Node::Text(v) => {
                    self.unexpected_text(v, &container.name);
                    continue;
                }
                Node::Comment(_) => continue,
            };
            if el.name == "base" {
                self.base(el, container, &mut base_seen);
                continue;
            }
            let Some(policy) = self.catalog.policy(&el.name) else {
                self.unknown_policy(el, section);
                continue;
            };
            self.placement(el, policy, section);
            match policy.once {
                Once::Unlimited => {}
                Once::Section => {
                    if top {
                        if let Some(first) = once_here.get(el.name.as_str()) {
                            let first = *first;
                            self.duplicate(el, first, "once per section");
                        } else {
                            once_here.insert(&el.name, el.name_span);
                        }
                    }
                }
                // Nested occurrences are alternatives (`choose` branches), not repeats.
                Once::Document if !top => {}
                Once::Document => {
                    if let Some(first) = self.per_document.get(&el.name) {
                        let first = *first;
                        self.duplicate(el, first, "once per policy document");
                    } else {
                        self.per_document.insert(el.name.clone(), el.name_span);
                    }
                }
            }
            if policy.runtime == Runtime::Unsupported {
                self.push(
                    Diagnostic::new(
                        &codes::UNSUPPORTED_POLICY,
                        el.name_span,
                        format!("Turnpike cannot run `{}`", el.name),
                    )
                    .with_label("not run by Turnpike's gateway")
                    .with_help("a call that reaches this policy fails with a 500 error; keep it out of the policies Turnpike serves, or suppress this warning where that is intended"),
                );
            }
            self.element(el, policy, section);
        }
    }

    /// `<base/>`: in a section, or (as real documents do) inside a policy that holds policies
    /// there, such as `when`; at most once per container; never in a fragment.
    fn base(&mut self, el: &Element, container: &Element, seen: &mut Option<Span>) {
        let problem = if self.in_fragment {
            Some((
                "`<base/>` cannot stand in a fragment".to_string(),
                "a fragment is inserted where it is included; put `<base/>` in the including section",
            ))
        } else if seen.is_some() {
            Some((
                format!("`<base/>` appears twice in `{}`", container.name),
                "the inherited policies would run twice; keep one `<base/>`",
            ))
        } else if !el.attrs.is_empty() || !el.children.is_empty() {
            Some((
                "`<base/>` takes no attributes or content".to_string(),
                "write it as `<base />`",
            ))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            let mut d =
                Diagnostic::new(&codes::MISPLACED_BASE, el.name_span, message).with_help(help);
            if let Some(first) = seen.filter(|_| !self.in_fragment) {
                d = d.with_secondary(first, "first given here");
            }
            self.push(d);
        }
        if seen.is_none() {
            *seen = Some(el.name_span);
        }
    }

    fn unknown_policy(&mut self, el: &Element, section: Option<Section>) {
        let mut d = Diagnostic::new(
            &codes::UNKNOWN_POLICY,
            el.name_span,
            format!("`{}` is not an APIM policy", el.name),
        );
        let names = self
            .catalog
            .policy
            .keys()
            .map(String::as_str)
            .chain(std::iter::once("base"));
        if let Some(s) = did_you_mean(&el.name, names) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if Section::from_name(&el.name).is_some() {
            d = d.with_help("sections stand directly in `<policies>`, not inside another section");
        } else if let Some(s) = section {
            d = d.with_help(format!(
                "`{}` holds policy statements such as `set-header` or `choose`; see spec/policies.md for the list",
                s.name()
            ));
        }
        self.push(d);
    }

    fn placement(&mut self, el: &Element, policy: &catalog::Element, section: Option<Section>) {
        if policy.resolver {
            self.push(
                Diagnostic::new(
                    &codes::WRONG_SECTION,
                    el.name_span,
                    format!(
                        "`{}` is a GraphQL resolver policy, not a section policy",
                        el.name
                    ),
                )
                .with_help("resolver policies are the root of a GraphQL resolver's policy"),
            );
            return;
        }
        if let Some(s) = section
            && !policy.sections.contains(&s)
        {
            let allowed: Vec<String> = policy
                .sections
                .iter()
                .map(|s| format!("`{}`", s.name()))
                .collect();
            self.push(
                Diagnostic::new(
                    &codes::WRONG_SECTION,
                    el.name_span,
                    format!("`{}` cannot stand in the `{}` section", el.name, s.name()),
                )
                .with_help(format!(
                    "`{}` is allowed in {}",
                    el.name,
                    join_or(&allowed)
                )),
            );
        }
        if let Some(scope) = self.ctx.scope
            && !policy.scopes.is_empty()
            && !policy.scopes.contains(&scope)
        {
            let allowed: Vec<String> = policy
                .scopes
                .iter()
                .map(|s| format!("`{}`", s.name()))
                .collect();
            self.push(
                Diagnostic::new(
                    &codes::WRONG_SCOPE,
                    el.name_span,
                    format!("`{}` cannot stand at the {} scope", el.name, scope.name()),
                )
                .with_help(format!(
                    "`{}` is allowed at the {} scope",
                    el.name,
                    join_or(&allowed)
                )),
            );
        }
    }

    fn duplicate(&mut self, el: &Element, first: Span, how: &str) {
        self.push(
            Diagnostic::new(
                &codes::DUPLICATE_POLICY,
                el.name_span,
                format!("`{}` may appear {how}", el.name),
            )
            .with_secondary(first, "first given here")
            .with_help(format!("keep one `{}`; to vary it, choose its attributes with expressions or `choose` branches", el.name)),
        );
    }

    /// Attributes, children and text of an element against its catalog entry.
    fn element(&mut self, el: &Element, def: &catalog::Element, section: Option<Section>) {
        let def = self.catalog.resolve(def);
        self.attributes(el, def);
        match def.content {
            Content::Opaque => return,
            Content::Policies => {
                self.statements(el, section, false);
                return;
            }
            Content::Text | Content::Elements => {}
        }
        // A template placeholder standing for generated children (`{product-limits}`): the
        // children are not known, so neither text nor counts are checked.
        let templated = def.text.is_none() && el.texts().any(|v| has_template_placeholder(&v.text));
        let mut counts: HashMap<&str, (u32, Span)> = HashMap::new();
        let mut order: Vec<(&str, Span)> = Vec::new();
        for node in &el.children {
            match node {
                Node::Element(child) => {
                    let Some(cdef) = def.children.get(&child.name) else {
                        self.unknown_child(el, child, def);
                        continue;
                    };
                    let entry = counts
                        .entry(child.name.as_str())
                        .or_insert((0, child.name_span));
                    entry.0 += 1;
                    if cdef.max.is_some_and(|m| entry.0 > m) {
                        let first = entry.1;
                        let max = cdef.max.unwrap_or(1);
                        self.push(
                            Diagnostic::new(
                                &codes::TOO_MANY_ELEMENTS,
                                child.name_span,
                                format!(
                                    "`{}` takes at most {max} `{}` {}",
                                    el.name,
                                    child.name,
                                    if max == 1 { "element" } else { "elements" }
                                ),
                            )
                            .with_secondary(first, "first given here")
                            .with_help("remove the extra element"),
                        );
                    }
                    order.push((child.name.as_str(), child.name_span));
                    self.element(child, &cdef.element, section);
                }
                Node::Text(v) => match &def.text {
                    Some(spec) => {
                        let what = format!("the text of `{}`", el.name);
                        self.current.clone_from(&el.name);
                        self.value(v, spec, &what, el.name_span);
                    }
                    None if templated => {}
                    None => self.text_not_allowed(v, &el.name, !def.children.is_empty()),
                },
                Node::Comment(_) => {}
            }
        }
        if let Some(spec) = &def.text
            && spec.required
            && el.texts().next().is_none()
        {
            self.push(
                Diagnostic::new(
                    &codes::MISSING_ELEMENT,
                    el.name_span,
                    format!("`{}` needs a value as its text", el.name),
                )
                .with_help(format!("write `<{0}>...</{0}>`", el.name)),
            );
        }
        for (name, cdef) in &def.children {
            let have = counts.get(name.as_str()).map_or(0, |c| c.0);
            if have < cdef.min && !templated {
                self.push(
                    Diagnostic::new(
                        &codes::MISSING_ELEMENT,
                        el.name_span,
                        format!("`{}` needs a `{name}` element", el.name),
                    )
                    .with_help(format!("add `<{name}>` inside `<{}>`", el.name)),
                );
            }
        }
        self.child_order(el, def, &order);
    }

    fn unknown_child(&mut self, el: &Element, child: &Element, def: &catalog::Element) {
        let mut d = Diagnostic::new(
            &codes::UNKNOWN_ELEMENT,
            child.name_span,
            format!("`{}` takes no `{}` element", el.name, child.name),
        );
        let wrapper = def
            .children
            .iter()
            .find(|(_, c)| {
                self.catalog
                    .resolve(&c.element)
                    .children
                    .contains_key(&child.name)
            })
            .map(|(n, _)| n.clone());
        let names = def.children.keys().map(String::as_str);
        d = match did_you_mean(&child.name, names) {
            _ if wrapper.is_some() => {
                let w = wrapper.unwrap_or_default();
                d.with_help(format!("put `<{}>` inside `<{w}>`", child.name))
            }
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if def.children.is_empty() => {
                d.with_help(format!("`{}` takes no child elements", el.name))
            }
            None => {
                let all: Vec<String> = def.children.keys().map(|k| format!("`{k}`")).collect();
                d.with_help(format!("`{}` takes {}", el.name, join_and(&all)))
            }
        };
        self.push(d);
    }

    fn child_order(&mut self, el: &Element, def: &catalog::Element, order: &[(&str, Span)]) {
        if def.child_order.is_empty() {
            return;
        }
        let rank = |n: &str| def.child_order.iter().position(|o| o == n);
        let mut last: Option<(usize, &str)> = None;
        for (name, span) in order {
            let Some(r) = rank(name) else { continue };
            if let Some((lr, lname)) = last
                && r < lr
            {
                self.push(
                    Diagnostic::new(
                        &codes::ELEMENT_ORDER,
                        *span,
                        format!("`{name}` comes after `{lname}` in `{}`", el.name),
                    )
                    .with_help(format!(
                        "the documented order is {}",
                        def.child_order
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                return;
            }
            last = Some((r, name));
        }
    }

    fn attributes(&mut self, el: &Element, def: &catalog::Element) {
        for a in &el.attrs {
            if universal(&a.name) {
                continue;
            }
            match def.attributes.get(&a.name) {
                Some(spec) => {
                    self.current.clone_from(&el.name);
                    self.value(&a.value, spec, &format!("`{}`", a.name), a.name_span);
                }
                None => {
                    let mut d = Diagnostic::new(
                        &codes::UNKNOWN_ATTRIBUTE,
                        a.name_span,
                        format!("`{}` takes no attribute `{}`", el.name, a.name),
                    );
                    let names = def
                        .attributes
                        .keys()
                        .map(String::as_str)
                        .chain(UNIVERSAL_ATTRIBUTES.iter().copied());
                    d = match did_you_mean(&a.name, names) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None if def.attributes.is_empty() => {
                            d.with_help(format!("`{}` takes no attributes", el.name))
                        }
                        None => {
                            let all: Vec<String> =
                                def.attributes.keys().map(|k| format!("`{k}`")).collect();
                            d.with_help(format!("`{}` takes {}", el.name, join_and(&all)))
                        }
                    };
                    self.push(d);
                }
            }
        }
        for (name, spec) in &def.attributes {
            if spec.required && el.attr(name).is_none() {
                self.push(
                    Diagnostic::new(
                        &codes::MISSING_ATTRIBUTE,
                        el.name_span,
                        format!("`{}` needs the attribute `{name}`", el.name),
                    )
                    .with_help(format!("add `{name}=\"...\"`{}", describe_spec(spec))),
                );
            }
        }
        // Exactly one of each `one-of` group, at least one of each `any-of` group, at most one
        // of each `one-of` and `exclusive` group.
        let groups = def
            .one_of
            .iter()
            .map(|g| (g, true, true))
            .chain(def.any_of.iter().map(|g| (g, true, false)))
            .chain(def.exclusive.iter().map(|g| (g, false, true)));
        for (group, at_least_one, at_most_one) in groups {
            let given: Vec<&turnpike_syntax::tree::Attribute> =
                group.iter().filter_map(|n| el.attr(n)).collect();
            let names: Vec<String> = group.iter().map(|g| format!("`{g}`")).collect();
            match given.as_slice() {
                [] if at_least_one => self.push(
                    Diagnostic::new(
                        &codes::MISSING_ATTRIBUTE,
                        el.name_span,
                        format!("`{}` needs one of {}", el.name, join_or(&names)),
                    )
                    .with_help(if at_most_one {
                        "give exactly one of them"
                    } else {
                        "give one or more of them"
                    }),
                ),
                [first, second, ..] if at_most_one => self.push(
                    Diagnostic::new(
                        &codes::CONFLICTING_ATTRIBUTES,
                        second.name_span,
                        format!("`{}` takes only one of {}", el.name, join_or(&names)),
                    )
                    .with_secondary(first.name_span, "already given here")
                    .with_help("keep one of them"),
                ),
                _ => {}
            }
        }
    }

    /// A value (attribute value or text) against its spec. `what` names it in messages.
    fn value(&mut self, v: &Value, spec: &catalog::Value, what: &str, owner: Span) {
        match &v.kind {
            ValueKind::Expression(e) => {
                if !spec.expr {
                    self.push(
                        Diagnostic::new(
                            &codes::EXPRESSION_NOT_ALLOWED,
                            e.span,
                            format!("{what} does not accept a policy expression"),
                        )
                        .with_secondary(owner, "takes a literal value only")
                        .with_help(format!(
                            "write {} here; compute it elsewhere if it must vary",
                            expected(spec)
                        )),
                    );
                } else {
                    self.expression(e, spec, what);
                }
                return;
            }
            ValueKind::Mixed => return,
            ValueKind::Literal => {}
        }
        if v.has_named_values() || has_template_placeholder(&v.text) {
            return;
        }
        if spec.ty != ValueType::String && v.text.contains("{{") {
            // Probably a named value written wrongly; its text is not known either.
            self.push(
                Diagnostic::new(
                    &codes::MALFORMED_NAMED_VALUE,
                    v.span,
                    format!("{what} holds `{{{{` that is not a named value `{{{{name}}}}`"),
                )
                .with_help("a named value is `{{` and a name of letters, digits, `.`, `_` or `-`, then `}}`; the value is not checked until it is one"),
            );
            return;
        }
        let text = v.text.trim();
        if let Some(problem) = literal_problem(text, spec) {
            let span = if v.span.is_empty() { owner } else { v.span };
            self.push(
                Diagnostic::new(
                    &codes::INVALID_VALUE,
                    span,
                    format!("{what} is `{text}`, {problem}"),
                )
                .with_help(format!("write {}", expected(spec))),
            );
        }
    }
}

/// Why a literal does not fit its spec, or `None` when it does.
fn literal_problem(text: &str, spec: &catalog::Value) -> Option<String> {
    let range = |n: f64| -> Option<String> {
        match (spec.min, spec.max) {
            (Some(lo), _) if n < lo => Some(format!("below the minimum {lo}")),
            (_, Some(hi)) if n > hi => Some(format!("above the maximum {hi}")),
            _ => None,
        }
    };
    match spec.ty {
        ValueType::String => None,
        ValueType::Integer => match text.parse::<i64>() {
            Ok(n) => range(n as f64),
            Err(_) => Some("not an integer".into()),
        },
        ValueType::Duration => match decimal(text) {
            Some(n) => range(n),
            None => Some("not a number of seconds".into()),
        },
        ValueType::Number => match text
            .strip_prefix('-')
            .map_or_else(|| decimal(text), |t| decimal(t).map(|n| -n))
        {
            Some(n) => range(n),
            None => Some("not a number".into()),
        },
        ValueType::Boolean => (!text.eq_ignore_ascii_case("true")
            && !text.eq_ignore_ascii_case("false"))
        .then(|| "not `true` or `false`".into()),
        ValueType::Enum => (!spec.values.iter().any(|v| v.eq_ignore_ascii_case(text)))
            .then(|| "not an allowed value".into()),
        ValueType::Url => {
            let rest = text
                .strip_prefix("http://")
                .or_else(|| text.strip_prefix("https://"));
            let absolute = rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace));
            let ok = absolute || (spec.relative && !text.contains(char::is_whitespace));
            (!ok).then(|| {
                if spec.relative {
                    "not a URL or path".into()
                } else {
                    "not an absolute `http` or `https` URL".into()
                }
            })
        }
        ValueType::Method => (text.is_empty() || !text.chars().all(|c| c.is_ascii_alphabetic()))
            .then(|| "not an HTTP method".into()),
        ValueType::Name => (text.is_empty() || text.contains(char::is_whitespace))
            .then(|| "not a name (it is empty or holds spaces)".into()),
        ValueType::DateTime => {
            (!is_date_time(text)).then(|| "not a date and time `yyyy-MM-ddTHH:mm:ssZ`".into())
        }
    }
}

/// A non-negative decimal number: digits with an optional fraction (no sign, exponent, `inf`).
fn decimal(text: &str) -> Option<f64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() && digits(int) && digits(frac) && !(text.contains('.') && frac.is_empty()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `yyyy-MM-ddTHH:mm:ss`, optional fraction, then `Z` or an offset `±hh:mm`.
fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let fixed = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        .iter()
        .all(|&i| digit(i))
        && at(4, b'-')
        && at(7, b'-')
        && (at(10, b'T') || at(10, b't'))
        && at(13, b':')
        && at(16, b':');
    if !fixed {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        i += 1;
        while digit(i) {
            i += 1;
        }
    }
    let zone = &text[i..];
    zone.eq_ignore_ascii_case("z")
        || (zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.as_bytes()[3] == b':'
            && zone
                .bytes()
                .enumerate()
                .all(|(k, c)| k == 0 || k == 3 || c.is_ascii_digit()))
}

/// What a valid literal looks like, for help lines.
fn expected(spec: &catalog::Value) -> String {
    match spec.ty {
        ValueType::Enum => {
            let values: Vec<String> = spec.values.iter().map(|v| format!("`{v}`")).collect();
            join_or(&values)
        }
        ValueType::Integer | ValueType::Number | ValueType::Duration => {
            let mut s = spec.ty.describe().to_string();
            match (spec.min, spec.max) {
                (Some(lo), Some(hi)) => s.push_str(&format!(" from {lo} to {hi}")),
                (Some(lo), None) => s.push_str(&format!(" of at least {lo}")),
                (None, Some(hi)) => s.push_str(&format!(" of at most {hi}")),
                (None, None) => {}
            }
            s
        }
        ValueType::Url if spec.relative => "a URL or a path".to_string(),
        ValueType::Url => "an absolute `http://` or `https://` URL".to_string(),
        ty => ty.describe().to_string(),
    }
}

fn describe_spec(spec: &catalog::Value) -> String {
    match spec.ty {
        ValueType::String => String::new(),
        _ => format!(" with {}", expected(spec)),
    }
}

/// A placeholder left by a deployment template, filled in before the document reaches APIM:
/// `{name}` in single braces anywhere (Python `str.format`, Bicep), or a whole value in
/// upper-case snake case such as `RETRY_COUNT` (text replacement). Literal checks skip it.
fn has_template_placeholder(text: &str) -> bool {
    let t = text.trim();
    if t.contains('_')
        && t.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && t.starts_with(|c: char| c.is_ascii_uppercase())
    {
        return true;
    }
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' && b.get(i + 1) == Some(&b'{') {
            i += 2;
            continue;
        }
        if b[i] == b'{' {
            let rest = &text[i + 1..];
            if let Some(end) = rest.find('}') {
                let inner = &rest[..end];
                if !inner.is_empty()
                    && inner
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

fn join_list(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

fn join_or(items: &[String]) -> String {
    join_list(items, "or")
}

fn join_and(items: &[String]) -> String {
    join_list(items, "and")
}

/// Types APIM documents for `set-variable` values (and their nullable forms).
const VARIABLE_TYPES: &[&str] = &[
    "bool",
    "sbyte",
    "byte",
    "ushort",
    "uint",
    "ulong",
    "short",
    "int",
    "long",
    "decimal",
    "float",
    "double",
    "Guid",
    "string",
    "char",
    "DateTime",
    "TimeSpan",
    "JToken",
    "JObject",
    "JArray",
    "JValue",
    "string[]",
    "IEnumerable<string>",
    "object",
];

impl Checker<'_> {
    /// Type-checks a policy expression and its result against what the value receives.
    fn expression(
        &mut self,
        e: &turnpike_syntax::tree::Expression,
        spec: &catalog::Value,
        what: &str,
    ) {
        use turnpike_typeck::AttributeType;
        let Some(body) = &e.body else {
            return;
        };
        let checked = turnpike_typeck::check(body);
        let errors = checked.has_errors();
        self.diags.extend(checked.diagnostics);
        if errors {
            return;
        }
        let ty = &checked.body.ty;
        let lib = turnpike_ir::Library::get();
        let name = ty.display(lib).to_string();
        if self.current == "set-variable" && what.contains("value") {
            let base = ty.strip_nullable().display(lib).to_string();
            if !ty.is_unknown() && !VARIABLE_TYPES.contains(&base.as_str()) {
                self.push(
                    Diagnostic::new(
                        &codes::SET_VARIABLE_TYPE,
                        e.span,
                        format!("`set-variable` stores a `{name}`, which is not among the types APIM documents for context variables"),
                    )
                    .with_label(format!("this is `{name}`"))
                    .with_help("APIM documents primitives, `string`, `DateTime`, `TimeSpan`, `Guid`, `JToken`/`JObject`/`JArray` and `string[]`; Turnpike stores any value"),
                );
            }
            return;
        }
        let want = match spec.ty {
            ValueType::Boolean => AttributeType::Bool,
            ValueType::Integer | ValueType::Duration => AttributeType::Int,
            ValueType::Number => AttributeType::Float,
            _ => AttributeType::String,
        };
        if let Err(accepts) = turnpike_typeck::attribute_conversion(ty, want) {
            self.push(
                Diagnostic::new(
                    &codes::ATTRIBUTE_TYPE,
                    e.span,
                    format!(
                        "{what} needs {}, but this expression gives `{name}`",
                        spec.ty.describe()
                    ),
                )
                .with_label(format!("this is `{name}`"))
                .with_help(format!("the expression must give {accepts}")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_placeholders() {
        assert!(has_template_placeholder("{retry_count}"));
        assert!(has_template_placeholder("lb-{cache_key}"));
        assert!(!has_template_placeholder("{{named}}"));
        assert!(!has_template_placeholder("{ not one }"));
        assert!(!has_template_placeholder("plain"));
        assert!(has_template_placeholder("RETRY_COUNT"));
        assert!(!has_template_placeholder("GET"));
    }

    #[test]
    fn literal_types() {
        let spec = |ty| catalog::Value {
            ty,
            ..catalog::Value::default()
        };
        assert!(literal_problem("12", &spec(ValueType::Integer)).is_none());
        assert!(literal_problem("1.5", &spec(ValueType::Integer)).is_some());
        assert!(literal_problem("True", &spec(ValueType::Boolean)).is_none());
        assert!(literal_problem("yes", &spec(ValueType::Boolean)).is_some());
        assert!(literal_problem("https://x.example", &spec(ValueType::Url)).is_none());
        assert!(literal_problem("/path", &spec(ValueType::Url)).is_some());
        assert!(literal_problem("GET", &spec(ValueType::Method)).is_none());
        assert!(literal_problem("2024-01-01T00:00:00Z", &spec(ValueType::DateTime)).is_none());
        assert!(
            literal_problem("2024-01-01T00:00:00.5+02:00", &spec(ValueType::DateTime)).is_none()
        );
        assert!(literal_problem("abcd-ef-ghTij:kl:mnXYZ", &spec(ValueType::DateTime)).is_some());
        assert!(literal_problem("inf", &spec(ValueType::Duration)).is_some());
        assert!(literal_problem("1e2", &spec(ValueType::Duration)).is_some());
        assert!(literal_problem("2.5", &spec(ValueType::Duration)).is_none());
        assert!(literal_problem("http://a", &spec(ValueType::Url)).is_none());
        assert!(literal_problem("http://", &spec(ValueType::Url)).is_some());
        let e = catalog::Value {
            ty: ValueType::Enum,
            values: vec!["override".into(), "skip".into()],
            ..catalog::Value::default()
        };
        assert!(literal_problem("Override", &e).is_none());
        assert!(literal_problem("replace", &e).is_some());
        let bounded = catalog::Value {
            ty: ValueType::Integer,
            min: Some(1.0),
            max: Some(50.0),
            ..catalog::Value::default()
        };
        assert!(literal_problem("51", &bounded).is_some());
    }
}
