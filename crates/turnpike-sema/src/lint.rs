//! The lint driver: loads every policy file of a path and collects diagnostics.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use turnpike_config::ArtifactFolder;
use turnpike_diagnostics::{
    Diagnostic, FileId, Severity, SourceMap, Span, codes, sort_diagnostics,
};
use turnpike_syntax::files::policy_files;
use turnpike_syntax::named_values::{Resolved, Secret, scrub, substitute};
use turnpike_syntax::{Document, parse_document, parse_document_mapped};

use crate::catalog::Scope;
use crate::check::{CheckContext, check_document};
use crate::config::Config;
use crate::suppress;

/// What linting a path found.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Every file read (diagnostics point into them).
    pub sources: SourceMap,
    /// The documents, in file order.
    pub documents: Vec<Document>,
    /// All diagnostics, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Number of policy expressions found.
    pub expressions: usize,
    /// Number of policy files read (configuration files not counted).
    files: usize,
}

impl LintReport {
    /// Number of policy files read, unreadable ones included.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Number of diagnostics with error severity.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of diagnostics with warning severity.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == s).count()
    }

    /// Adds one file's text (as read) under `name` and lints it.
    pub fn add_source(&mut self, name: &str, text: &str) {
        self.add_source_in(name, text, CheckContext::default());
    }

    /// Adds one file's text and lints it with what is known of where it stands.
    pub fn add_source_in(&mut self, name: &str, text: &str, ctx: CheckContext) {
        self.add_source_full(name, text, ctx, None);
    }

    /// Adds one file of an artifact folder: its named values are substituted from the folder,
    /// and a name the folder does not define is an error.
    fn add_source_full(
        &mut self,
        name: &str,
        text: &str,
        ctx: CheckContext,
        folder: Option<&ArtifactFolder>,
    ) {
        self.files += 1;
        let file = self.sources.add(name, text);
        let text = self.sources.get(file).text_arc();
        let (doc, mut diags, secrets) = parse_with_folder(file, &text, folder);
        if let Some(folder) = folder {
            for d in &mut diags {
                if d.code == &codes::UNRESOLVED_NAMED_VALUE {
                    let span = d.primary_span().unwrap_or_default();
                    let source = self.sources.slice(span);
                    let nv = source.trim_start_matches('{').trim_end_matches('}');
                    if let Some(def) = folder.named_values.get(nv) {
                        // Defined, but its value is not in git (Key Vault, or a secret left out).
                        if def.key_vault {
                            d.message = format!(
                                "named value `{nv}` is a Key Vault reference, which Turnpike cannot read"
                            );
                        }
                        d.help = Some(format!(
                            "its value is not in the folder: give it with `{}` or an overrides file",
                            turnpike_config::env_var_of(nv)
                        ));
                    } else {
                        *d = Diagnostic::new(
                            &codes::UNKNOWN_NAMED_VALUE,
                            span,
                            format!("named value `{nv}` is not defined"),
                        )
                        .with_help(format!(
                            "add `named values/{nv}/namedValueInformation.json`, give it in an overrides file, or set `{}`",
                            turnpike_config::env_var_of(nv)
                        ));
                    }
                }
            }
        }
        // After an XML error the tree is partial: catalog checks would only echo it.
        if !diags.iter().any(|d| d.code == &codes::MALFORMED_XML) {
            diags.extend(check_document(&doc, ctx));
        }
        suppress::apply(
            file,
            self.sources.get(file),
            &suppress::comments(&doc),
            &mut diags,
        );
        scrub(&mut diags, &secrets);
        self.expressions += doc.expressions().len();
        self.diagnostics.extend(diags);
        self.documents.push(doc);
    }

    fn add_not_utf8(&mut self, name: &str, lossy: String, at: usize) {
        self.files += 1;
        let file = self.sources.add(name, lossy);
        // The first bad byte became U+FFFD (3 bytes) at the same offset.
        self.diagnostics.push(
            Diagnostic::new(
                &codes::UNREADABLE_FILE,
                Span::new(file, at, at + 3),
                format!("`{name}` is not UTF-8 text"),
            )
            .with_label(format!("byte {at} is not UTF-8"))
            .with_help("save the file as UTF-8; APIM policy documents are UTF-8 text"),
        );
    }

    fn add_unreadable(&mut self, name: &str, why: &str) {
        self.files += 1;
        let file = self.sources.add(name, "");
        self.diagnostics.push(
            Diagnostic::new(
                &codes::UNREADABLE_FILE,
                Span::new(file, 0, 0),
                format!("cannot read `{name}`: {why}"),
            )
            .with_help("policy files are UTF-8 text"),
        );
    }
}

/// Lints one file or every `*.xml` below a folder. Fails only when `path` itself cannot be
/// read; a file that cannot be read is a diagnostic.
///
/// A `turnpike.toml` at the root of the tree (the folder linted, or the folder of the file
/// linted) sets per-code severities.
pub fn lint_path(path: &Path) -> io::Result<LintReport> {
    lint_path_with(path, &LintOptions::default())
}

/// How to lint a path.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    /// Read the folder as an APIOps artifact folder even without `apis/*/apiInformation.json`.
    pub artifacts: bool,
    /// An overrides file (APIOps `configuration.<env>.yaml`) for an artifact folder.
    pub overrides: Option<std::path::PathBuf>,
}

/// [`lint_path`] with options.
pub fn lint_path_with(path: &Path, options: &LintOptions) -> io::Result<LintReport> {
    let files = policy_files(path)?;
    let mut report = LintReport::default();
    let root = if path.is_dir() {
        Some(path)
    } else {
        path.parent()
    };
    // An APIOps artifact folder: its information files and specifications are checked too, and
    // its named values are substituted in its policies.
    let folder =
        if path.is_dir() && (options.artifacts || turnpike_config::is_artifact_folder(path)) {
            let (mut folder, diags) = turnpike_config::load(path, &mut report.sources);
            report.diagnostics.extend(diags);
            if let Some(o) = &options.overrides {
                let diags = folder.apply_overrides(o, &mut report.sources);
                report.diagnostics.extend(diags);
            }
            let diags = folder.apply_env(&|v| std::env::var(v).ok(), &mut report.sources);
            report.diagnostics.extend(diags);
            Some(folder)
        } else {
            None
        };
    for file in files {
        // `specification.wsdl.xml` and the like are API specifications, not policies.
        if folder.is_some()
            && file
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("specification."))
        {
            continue;
        }
        let name = file.display().to_string();
        let ctx = CheckContext {
            scope: root.and_then(|r| scope_of(r, &file)),
        };
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => report.add_source_full(&name, &text, ctx, folder.as_ref()),
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    report.add_not_utf8(&name, lossy, at);
                }
            },
            Err(e) => report.add_unreadable(&name, &e.to_string().to_lowercase()),
        }
    }
    fragment_checks(&mut report, folder.as_ref());
    let mut config_diags = Vec::new();
    let config = match root {
        Some(r) => Config::load(r, &mut report.sources, &mut config_diags),
        None => Config::default(),
    };
    report.diagnostics.extend(config_diags);
    config.apply(&mut report.diagnostics);
    sort_diagnostics(&mut report.diagnostics);
    Ok(report)
}

/// Reads a policy document; in an artifact folder its named values are substituted first (see
/// [`ArtifactFolder::named_value`]). Returns the secrets substituted, to scrub from output.
pub(crate) fn parse_with_folder(
    file: FileId,
    text: &str,
    folder: Option<&ArtifactFolder>,
) -> (Document, Vec<Diagnostic>, Vec<Secret>) {
    let lookup = |n: &str| -> Option<Resolved> {
        folder?
            .named_value(n)
            .map(|(value, secret)| Resolved { value, secret })
    };
    let sub = substitute(text, &lookup);
    let (doc, diags) = if sub.map.is_identity() {
        parse_document(file, text)
    } else {
        parse_document_mapped(file, &sub.text, Some(&sub.map))
    };
    (doc, diags, sub.secrets)
}

/// `include-fragment` elements of a document: (fragment id, the element's name span).
fn includes(doc: &Document) -> Vec<(String, Span)> {
    fn walk(el: &turnpike_syntax::tree::Element, out: &mut Vec<(String, Span)>) {
        if el.name == "include-fragment"
            && let Some(a) = el.attr("fragment-id")
            && a.value.expression().is_none()
            && !a.value.has_named_values()
        {
            out.push((a.value.text.trim().to_string(), el.name_span));
        }
        for c in el.elements() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    if let Some(r) = &doc.root {
        walk(r, &mut out);
    }
    out
}

/// Missing fragments (errors in an artifact folder, warnings for loose files, where a fragment
/// is known by its file: `<name>/policy.xml` or `<name>.xml` holding `<fragment>`), and cycles
/// of fragments that include each other.
fn fragment_checks(report: &mut LintReport, folder: Option<&ArtifactFolder>) {
    // Fragment name of each fragment document.
    let mut fragment_of: BTreeMap<usize, String> = BTreeMap::new();
    for (i, doc) in report.documents.iter().enumerate() {
        if doc.root.as_ref().is_some_and(|r| r.name == "fragment") {
            let path = Path::new(report.sources.get(doc.file).name());
            let name = match path.file_name().and_then(|n| n.to_str()) {
                Some("policy.xml") => path
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str()),
                _ => path.file_stem().and_then(|n| n.to_str()),
            };
            if let Some(n) = name {
                fragment_of.insert(i, n.to_string());
            }
        }
    }
    let known = |id: &str| match folder {
        Some(f) => f.fragments.contains_key(id),
        None => fragment_of.values().any(|n| n == id),
    };
    let mut graph: BTreeMap<String, Vec<(String, Span)>> = BTreeMap::new();
    let mut diags = Vec::new();
    for (i, doc) in report.documents.iter().enumerate() {
        for (id, span) in includes(doc) {
            if !known(&id) {
                let mut d = Diagnostic::new(
                    &codes::MISSING_FRAGMENT,
                    span,
                    format!("fragment `{id}` does not exist"),
                );
                d = if folder.is_some() {
                    d.with_help(format!(
                        "add `policy fragments/{id}/policy.xml`, or correct `fragment-id`"
                    ))
                } else {
                    d.severity = Severity::Warning;
                    d.with_help("lint the artifact folder that holds the fragment, or correct `fragment-id`")
                };
                diags.push(d);
            }
            if let Some(from) = fragment_of.get(&i) {
                graph.entry(from.clone()).or_default().push((id, span));
            }
        }
    }
    // Cycles: depth-first search over fragment → included fragments.
    let mut reported: Vec<String> = Vec::new();
    for start in graph.keys() {
        let mut stack: Vec<(String, usize)> = vec![(start.clone(), 0)];
        let mut path: Vec<String> = vec![start.clone()];
        while let Some((node, next)) = stack.last().cloned() {
            let edges = graph.get(&node).map_or(&[][..], Vec::as_slice);
            if next >= edges.len() {
                stack.pop();
                path.pop();
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let (to, span) = &edges[next];
            if let Some(at) = path.iter().position(|p| p == to) {
                let mut cycle = path[at..].to_vec();
                cycle.sort();
                let key = cycle.join(",");
                if !reported.contains(&key) {
                    reported.push(key);
                    let mut names = path[at..].to_vec();
                    names.push(to.clone());
                    diags.push(
                        Diagnostic::new(
                            &codes::FRAGMENT_CYCLE,
                            *span,
                            format!(
                                "fragments include each other: {}",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(" → ")
                            ),
                        )
                        .with_help("remove one `include-fragment` of the cycle"),
                    );
                }
            } else if path.len() < 64 {
                stack.push((to.clone(), 0));
                path.push(to.clone());
            }
        }
    }
    report.diagnostics.extend(diags);
}

/// The scope of a policy file in an APIOps artifact layout below `root`, from its path:
/// `policy.xml` at the root of a folder that has `apis/` (global), `products/<p>/policy.xml`,
/// `apis/<api>/policy.xml` (revisions `apis/<api>;rev=<n>` too) and
/// `apis/<api>/operations/<op>/policy.xml`. Other files have no known scope.
pub fn scope_of(root: &Path, file: &Path) -> Option<Scope> {
    let rel = file.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["policy.xml"] if root.join("apis").is_dir() => Some(Scope::Global),
        [.., "products", _, "policy.xml"] => Some(Scope::Product),
        [.., "apis", _, "operations", _, "policy.xml"] => Some(Scope::Operation),
        [.., "apis", _, "policy.xml"] => Some(Scope::Api),
        _ => None,
    }
}

/// Lints one document given as text (for tests and tools).
pub fn lint_source(name: &str, text: &str) -> LintReport {
    let mut report = LintReport::default();
    report.add_source(name, text);
    sort_diagnostics(&mut report.diagnostics);
    report
}
