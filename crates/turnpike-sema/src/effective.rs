//! The effective policy of one call: scopes merged through `<base/>`, fragments inlined.
//!
//! For each section, the broadest scope's statements come first (global, then the product the
//! call runs in, then the API, then the operation). In a narrower scope's section, `<base/>`
//! stands for everything inherited so far; a section without `<base/>` drops it; a scope with
//! no `policy.xml`, or a document without that section, inherits it unchanged. Every
//! `include-fragment` is replaced by the fragment's statements, recursively; a missing fragment
//! or a cycle is an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;
use turnpike_config::ArtifactFolder;
use turnpike_diagnostics::{Diagnostic, SourceMap, codes};
use turnpike_syntax::named_values::scrub;
use turnpike_syntax::tree::{Document, Element, Node};

use crate::catalog::Section;
use crate::lint::parse_with_folder;

/// Where a statement comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `global`, `product`, `api`, `operation` or `fragment`.
    pub scope: &'static str,
    /// The product, API, operation or fragment name (empty for global).
    pub name: String,
    /// The file, as a path.
    pub file: String,
    /// 1-based line of the statement in that file.
    pub line: usize,
}

/// One statement of an effective section.
#[derive(Clone, Debug)]
pub struct Statement {
    /// The element (fragments already inlined below it).
    pub element: Element,
    /// Where it comes from.
    pub origin: Origin,
}

/// The merged policy of one call.
#[derive(Clone, Debug, Default)]
pub struct EffectivePolicy {
    /// Statements per section, in document order of the sections.
    pub sections: BTreeMap<Section, Vec<Statement>>,
}

/// Parsed policy documents of a folder, each once.
#[derive(Debug, Default)]
pub struct Documents {
    docs: BTreeMap<PathBuf, Document>,
}

impl Documents {
    /// Reads every policy file of the folder (named values substituted).
    pub fn load(folder: &ArtifactFolder, sources: &mut SourceMap) -> (Documents, Vec<Diagnostic>) {
        let mut paths: Vec<PathBuf> = folder.global_policy.iter().cloned().collect();
        for p in folder.products.values() {
            paths.extend(p.policy.iter().cloned());
        }
        for a in folder.apis.values() {
            paths.extend(a.policy.iter().cloned());
            paths.extend(a.operation_policies.values().cloned());
        }
        for f in folder.fragments.values() {
            paths.extend(f.policy.iter().cloned());
        }
        let mut out = Documents::default();
        let mut diags = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let file = sources.add(path.display().to_string(), text.as_str());
            let (doc, mut d, secrets) = parse_with_folder(file, &text, Some(folder));
            scrub(&mut d, &secrets);
            diags.extend(d.into_iter().filter(Diagnostic::is_error));
            out.docs.insert(path, doc);
        }
        (out, diags)
    }

    fn root(&self, path: Option<&PathBuf>) -> Option<&Element> {
        self.docs.get(path?)?.root.as_ref()
    }
}

/// Builds the effective policy of a call to `api` / `operation`, in `product`'s context when
/// given. Unknown names are errors with no location (reported by the caller).
pub fn effective_policy(
    folder: &ArtifactFolder,
    docs: &Documents,
    sources: &SourceMap,
    api: &str,
    operation: &str,
    product: Option<&str>,
) -> Result<(EffectivePolicy, Vec<Diagnostic>), String> {
    let api_def = folder
        .apis
        .get(api)
        .or_else(|| folder.apis.values().find(|a| a.id == api && a.is_current))
        .ok_or_else(|| format!("the folder has no API `{api}`"))?;
    let op_known = api_def
        .specification
        .as_ref()
        .is_none_or(|s| s.operations.iter().any(|o| o.id == operation));
    if !op_known && !api_def.operation_policies.contains_key(operation) {
        return Err(format!("API `{api}` has no operation `{operation}`"));
    }
    let product_def = match product {
        Some(p) => Some(
            folder
                .products
                .get(p)
                .ok_or_else(|| format!("the folder has no product `{p}`"))?,
        ),
        None => None,
    };
    let mut chain: Vec<(&'static str, String, Option<&PathBuf>)> =
        vec![("global", String::new(), folder.global_policy.as_ref())];
    if let Some(p) = product_def {
        chain.push(("product", p.name.clone(), p.policy.as_ref()));
    }
    chain.push(("api", api_def.name.clone(), api_def.policy.as_ref()));
    chain.push((
        "operation",
        operation.to_string(),
        api_def.operation_policies.get(operation),
    ));
    Ok(merge_chain(folder, docs, sources, &chain))
}

/// The global scope's policy alone, as it applies to a call that matched no operation (its
/// `on-error` handles the gateway's `OperationNotFound`).
pub fn global_policy(
    folder: &ArtifactFolder,
    docs: &Documents,
    sources: &SourceMap,
) -> (EffectivePolicy, Vec<Diagnostic>) {
    let chain = [("global", String::new(), folder.global_policy.as_ref())];
    merge_chain(folder, docs, sources, &chain)
}

/// Merges the policies of a chain of scopes, outermost first, through `<base/>`.
fn merge_chain(
    folder: &ArtifactFolder,
    docs: &Documents,
    sources: &SourceMap,
    chain: &[(&'static str, String, Option<&PathBuf>)],
) -> (EffectivePolicy, Vec<Diagnostic>) {
    let mut m = Merger {
        folder,
        docs,
        sources,
        diags: Vec::new(),
    };
    let mut effective = EffectivePolicy::default();
    for section in Section::ALL {
        let mut inherited: Vec<Statement> = Vec::new();
        for (scope, name, path) in chain {
            let Some(root) = docs.root(*path) else {
                continue;
            };
            let Some(sec) = root.elements().find(|e| e.name == section.name()) else {
                continue;
            };
            let mut merged = Vec::new();
            for child in sec.elements() {
                if child.name == "base" {
                    merged.extend(inherited.iter().cloned());
                } else {
                    let origin = m.origin(scope, name, child);
                    merged.extend(m.inline(child, origin, &mut Vec::new()));
                }
            }
            inherited = merged;
        }
        effective.sections.insert(section, inherited);
    }
    (effective, m.diags)
}

struct Merger<'a> {
    folder: &'a ArtifactFolder,
    docs: &'a Documents,
    sources: &'a SourceMap,
    diags: Vec<Diagnostic>,
}

impl Merger<'_> {
    fn origin(&self, scope: &'static str, name: &str, el: &Element) -> Origin {
        let file = self.sources.get(el.span.file);
        Origin {
            scope,
            name: name.to_string(),
            file: file.name().to_string(),
            line: file.line_col(el.span.start).0,
        }
    }

    /// The statement itself, or a fragment's statements in place of `include-fragment`;
    /// containers get their nested includes inlined too.
    fn inline(&mut self, el: &Element, origin: Origin, stack: &mut Vec<String>) -> Vec<Statement> {
        if el.name != "include-fragment" {
            let mut el = el.clone();
            el.children = self.inline_children(&el.children, stack);
            return vec![Statement {
                element: el,
                origin,
            }];
        }
        let Some(id) = el
            .attr("fragment-id")
            .map(|a| a.value.text.trim().to_string())
        else {
            return vec![Statement {
                element: el.clone(),
                origin,
            }];
        };
        if let Some(at) = stack.iter().position(|s| *s == id) {
            let mut cycle: Vec<String> = stack[at..].to_vec();
            cycle.push(id.clone());
            self.diags.push(
                Diagnostic::new(
                    &codes::FRAGMENT_CYCLE,
                    el.name_span,
                    format!(
                        "fragments include each other: {}",
                        cycle
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(" → ")
                    ),
                )
                .with_help("remove one of the `include-fragment` elements of the cycle"),
            );
            return Vec::new();
        }
        let path = self
            .folder
            .fragments
            .get(&id)
            .and_then(|f| f.policy.clone());
        let Some(root) = self.docs.root(path.as_ref()) else {
            self.diags.push(
                Diagnostic::new(
                    &codes::MISSING_FRAGMENT,
                    el.name_span,
                    format!("fragment `{id}` does not exist"),
                )
                .with_help(format!(
                    "add `policy fragments/{id}/policy.xml`, or correct `fragment-id`"
                )),
            );
            return Vec::new();
        };
        stack.push(id.clone());
        let mut out = Vec::new();
        for child in root.elements() {
            let o = self.origin("fragment", &id, child);
            out.extend(self.inline(child, o, stack));
        }
        stack.pop();
        out
    }

    fn inline_children(&mut self, children: &[Node], stack: &mut Vec<String>) -> Vec<Node> {
        let mut out = Vec::with_capacity(children.len());
        for node in children {
            match node {
                Node::Element(e) => {
                    let origin = self.origin("fragment", "", e);
                    for s in self.inline(e, origin, stack) {
                        out.push(Node::Element(s.element));
                    }
                }
                other => out.push(other.clone()),
            }
        }
        out
    }
}

/// The effective policy as an XML document, each top-level statement preceded by a comment
/// naming its scope and file. Values are printed as written in their files, so named values
/// (secrets included) show as `{{name}}`.
pub fn explain_xml(policy: &EffectivePolicy, sources: &SourceMap, root: &Path) -> String {
    let mut out = String::from("<policies>\n");
    for (section, statements) in &policy.sections {
        let _ = writeln!(out, "    <{}>", section.name());
        for s in statements {
            let label = if s.origin.name.is_empty() {
                s.origin.scope.to_string()
            } else {
                format!("{} {}", s.origin.scope, s.origin.name)
            };
            let _ = writeln!(
                out,
                "        <!-- {label}: {}:{} -->",
                relative(&s.origin.file, root),
                s.origin.line
            );
            print_element(&mut out, &s.element, sources, 2);
        }
        let _ = writeln!(out, "    </{}>", section.name());
    }
    out.push_str("</policies>\n");
    out
}

/// The effective policy as JSON: per section, the statements with their origin.
pub fn explain_json(
    policy: &EffectivePolicy,
    sources: &SourceMap,
    root: &Path,
) -> serde_json::Value {
    let mut sections = serde_json::Map::new();
    for (section, statements) in &policy.sections {
        let items: Vec<serde_json::Value> = statements
            .iter()
            .map(|s| {
                let mut xml = String::new();
                print_element(&mut xml, &s.element, sources, 0);
                json!({
                    "policy": s.element.name,
                    "scope": s.origin.scope,
                    "name": s.origin.name,
                    "file": relative(&s.origin.file, root),
                    "line": s.origin.line,
                    "xml": xml.trim_end(),
                })
            })
            .collect();
        sections.insert(section.name().to_string(), serde_json::Value::Array(items));
    }
    serde_json::Value::Object(sections)
}

fn relative(file: &str, root: &Path) -> String {
    let root = root.display().to_string();
    file.strip_prefix(&root)
        .map(|r| r.trim_start_matches('/').to_string())
        .unwrap_or_else(|| file.to_string())
}

fn print_element(out: &mut String, el: &Element, sources: &SourceMap, depth: usize) {
    let indent = "    ".repeat(depth);
    let _ = write!(out, "{indent}<{}", el.name);
    for a in &el.attrs {
        let raw = sources.slice(a.value.span);
        let quote = if raw.contains('"') { '\'' } else { '"' };
        let _ = write!(out, " {}={quote}{raw}{quote}", a.name);
    }
    let content: Vec<&Node> = el
        .children
        .iter()
        .filter(|n| !matches!(n, Node::Comment(_)))
        .collect();
    if content.is_empty() {
        out.push_str(" />\n");
        return;
    }
    if let [Node::Text(v)] = content.as_slice() {
        let raw = sources.slice(v.span);
        if v.cdata {
            let _ = writeln!(out, "><![CDATA[{raw}]]></{}>", el.name);
        } else {
            let _ = writeln!(out, ">{}</{}>", raw.trim(), el.name);
        }
        return;
    }
    out.push_str(">\n");
    for node in content {
        match node {
            Node::Element(e) => print_element(out, e, sources, depth + 1),
            Node::Text(v) => {
                let _ = writeln!(out, "{indent}    {}", sources.slice(v.span).trim());
            }
            Node::Comment(_) => {}
        }
    }
    let _ = writeln!(out, "{indent}</{}>", el.name);
}
