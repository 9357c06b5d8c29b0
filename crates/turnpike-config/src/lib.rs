//! APIOps artifact folders: the configuration an admin keeps in git, read as one model.
//!
//! A folder is an artifact folder when it holds `apis/<api>/apiInformation.json`. This crate
//! reads its information files (`apiInformation.json`, `productInformation.json`, ...), the
//! APIs' specifications (operations from the raw OpenAPI 2.0 / 3.0 / 3.1 document, YAML or
//! JSON), and where each policy file stands. Every problem is a diagnostic that points into the
//! file at fault; a broken artifact never stops the rest of the folder from loading.

pub mod openapi;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use turnpike_diagnostics::{Code, Diagnostic, FileId, SourceMap, Span, codes};

pub use openapi::{Operation, SpecVersion, Specification};

/// Specification files in formats Turnpike cannot read.
const UNSUPPORTED_SPECS: &[&str] = &[
    "specification.graphql",
    "specification.wsdl",
    "specification.wadl",
    "specification.wadl.xml",
    "specification.wsdl.xml",
];

/// Whether `path` is an artifact folder: it holds `apis/<api>/apiInformation.json`.
pub fn is_artifact_folder(path: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(path.join("apis")) else {
        return false;
    };
    entries
        .filter_map(Result::ok)
        .any(|e| e.path().join("apiInformation.json").is_file())
}

/// An API (or one revision of it).
#[derive(Clone, Debug, Default)]
pub struct Api {
    /// Folder name, `orders` or `orders;rev=2`.
    pub name: String,
    /// The API's id: the folder name without `;rev=n`.
    pub id: String,
    /// The revision number, from the folder name or `apiRevision`.
    pub revision: Option<u32>,
    /// `displayName`.
    pub display_name: String,
    /// `path`: the URL path prefix the API is served under.
    pub path: String,
    /// `serviceUrl`: the backend.
    pub service_url: Option<String>,
    /// `protocols` (`http`, `https`, `ws`, `wss`).
    pub protocols: Vec<String>,
    /// `subscriptionRequired` (default true).
    pub subscription_required: bool,
    /// Header carrying the subscription key (default `Ocp-Apim-Subscription-Key`).
    pub key_header: String,
    /// Query parameter carrying the subscription key (default `subscription-key`).
    pub key_query: String,
    /// `apiVersion`, for versioned APIs.
    pub api_version: Option<String>,
    /// The version set's id (last segment of `apiVersionSetId`).
    pub version_set: Option<String>,
    /// `isCurrent` (default true).
    pub is_current: bool,
    /// `type`: `http` (default), `soap`, `graphql`, `websocket`.
    pub kind: String,
    /// The specification, when it could be read.
    pub specification: Option<Specification>,
    /// `apis/<api>/policy.xml`.
    pub policy: Option<PathBuf>,
    /// `apis/<api>/operations/<op>/policy.xml`, by operation id.
    pub operation_policies: BTreeMap<String, PathBuf>,
}

/// A product.
#[derive(Clone, Debug, Default)]
pub struct Product {
    /// Folder name (the product id).
    pub name: String,
    /// `displayName`.
    pub display_name: String,
    /// `state`: `published` or `notPublished`.
    pub published: bool,
    /// `subscriptionRequired` (default true): false makes an open product.
    pub subscription_required: bool,
    /// `approvalRequired`.
    pub approval_required: bool,
    /// `subscriptionsLimit`.
    pub subscriptions_limit: Option<u64>,
    /// APIs in the product (ids).
    pub apis: Vec<String>,
    /// Groups that can see the product.
    pub groups: Vec<String>,
    /// `products/<p>/policy.xml`.
    pub policy: Option<PathBuf>,
}

/// A subscription (its keys are never in git).
#[derive(Clone, Debug, Default)]
pub struct Subscription {
    /// Folder name.
    pub name: String,
    /// `displayName`.
    pub display_name: String,
    /// `scope`: `/products/<p>`, `/apis/<a>` or `/apis`.
    pub scope: String,
    /// `state`: `active`, `suspended`, `cancelled`, ... (default active).
    pub state: String,
    /// `allowTracing`.
    pub allow_tracing: bool,
    /// `ownerId`.
    pub owner: Option<String>,
    /// `primaryKey`, only from an overrides file (keys never live in the folder).
    pub primary_key: Option<String>,
    /// `secondaryKey`, only from an overrides file.
    pub secondary_key: Option<String>,
}

/// A named value.
#[derive(Clone, Debug, Default)]
pub struct NamedValue {
    /// Folder name.
    pub name: String,
    /// `displayName`: what `{{...}}` refers to.
    pub display_name: String,
    /// `value`, when given (Key Vault references have none).
    pub value: Option<String>,
    /// `secret`: the value is never printed.
    pub secret: bool,
    /// Whether the value lives in Key Vault.
    pub key_vault: bool,
}

/// A policy fragment.
#[derive(Clone, Debug, Default)]
pub struct Fragment {
    /// Folder name: the `fragment-id`.
    pub name: String,
    /// `policy fragments/<f>/policy.xml`.
    pub policy: Option<PathBuf>,
}

/// A backend entity.
#[derive(Clone, Debug, Default)]
pub struct Backend {
    /// Folder name: the `backend-id`.
    pub name: String,
    /// `url`.
    pub url: Option<String>,
    /// `protocol`.
    pub protocol: Option<String>,
}

/// A version set.
#[derive(Clone, Debug, Default)]
pub struct VersionSet {
    /// Folder name.
    pub name: String,
    /// `displayName`.
    pub display_name: String,
    /// `versioningScheme`: `Segment`, `Query` or `Header`.
    pub scheme: String,
    /// `versionQueryName`.
    pub query_name: Option<String>,
    /// `versionHeaderName`.
    pub header_name: Option<String>,
}

/// A group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// Folder name.
    pub name: String,
    /// `displayName`.
    pub display_name: String,
}

/// The whole folder.
#[derive(Clone, Debug, Default)]
pub struct ArtifactFolder {
    /// The folder.
    pub root: PathBuf,
    /// `policy.xml` at the root: the global policy.
    pub global_policy: Option<PathBuf>,
    /// APIs and revisions by folder name.
    pub apis: BTreeMap<String, Api>,
    /// Products by id.
    pub products: BTreeMap<String, Product>,
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
    /// Subscriptions by id.
    pub subscriptions: BTreeMap<String, Subscription>,
    /// Named values by display name.
    pub named_values: BTreeMap<String, NamedValue>,
    /// Fragments by id.
    pub fragments: BTreeMap<String, Fragment>,
    /// Backends by id.
    pub backends: BTreeMap<String, Backend>,
    /// Version sets by id.
    pub version_sets: BTreeMap<String, VersionSet>,
}

/// Reads an artifact folder. Files read for diagnostics are added to `sources`.
pub fn load(root: &Path, sources: &mut SourceMap) -> (ArtifactFolder, Vec<Diagnostic>) {
    let mut l = Loader {
        sources,
        diags: Vec::new(),
    };
    let mut folder = ArtifactFolder {
        root: root.to_path_buf(),
        ..ArtifactFolder::default()
    };
    let global = root.join("policy.xml");
    folder.global_policy = global.is_file().then_some(global);
    for dir in subfolders(&root.join("apis")) {
        if let Some(api) = l.api(&dir) {
            folder.apis.insert(api.name.clone(), api);
        }
    }
    for dir in subfolders(&root.join("products")) {
        let p = l.product(&dir);
        folder.products.insert(p.name.clone(), p);
    }
    for dir in subfolders(&root.join("groups")) {
        let name = folder_name(&dir);
        let props = l.info(&dir.join("groupInformation.json"), false);
        let display_name = l
            .string(&props, "displayName")
            .unwrap_or_else(|| name.clone());
        folder
            .groups
            .insert(name.clone(), Group { name, display_name });
    }
    for dir in subfolders(&root.join("subscriptions")) {
        let s = l.subscription(&dir);
        folder.subscriptions.insert(s.name.clone(), s);
    }
    for dir in subfolders(&root.join("named values")) {
        let nv = l.named_value(&dir);
        folder.named_values.insert(nv.display_name.clone(), nv);
    }
    for dir in subfolders(&root.join("policy fragments")) {
        let name = folder_name(&dir);
        let policy = dir.join("policy.xml");
        folder.fragments.insert(
            name.clone(),
            Fragment {
                name,
                policy: policy.is_file().then_some(policy),
            },
        );
    }
    for dir in subfolders(&root.join("backends")) {
        let name = folder_name(&dir);
        let props = l.info(&dir.join("backendInformation.json"), true);
        folder.backends.insert(
            name.clone(),
            Backend {
                url: l.string(&props, "url"),
                protocol: l.string(&props, "protocol"),
                name,
            },
        );
    }
    for dir in subfolders(&root.join("version sets")) {
        let name = folder_name(&dir);
        let props = l.info(&dir.join("versionSetInformation.json"), true);
        folder.version_sets.insert(
            name.clone(),
            VersionSet {
                display_name: l
                    .string(&props, "displayName")
                    .unwrap_or_else(|| name.clone()),
                scheme: l
                    .string(&props, "versioningScheme")
                    .unwrap_or_else(|| "Segment".into()),
                query_name: l.string(&props, "versionQueryName"),
                header_name: l.string(&props, "versionHeaderName"),
                name,
            },
        );
    }
    l.references(&folder);
    (folder, l.diags)
}

/// Subfolders of `dir`, sorted; none when it does not exist. Dot-folders are skipped.
fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !folder_name(p).starts_with('.'))
        .collect();
    out.sort();
    out
}

fn folder_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The properties object of an information file, with the file for diagnostics.
struct Props {
    file: Option<FileId>,
    text: String,
    map: Map<String, Value>,
    /// Whether the file was read as JSON with a `properties` object (only then are missing
    /// properties worth reporting).
    parsed: bool,
}

struct Loader<'s> {
    sources: &'s mut SourceMap,
    diags: Vec<Diagnostic>,
}

impl Loader<'_> {
    fn report(
        &mut self,
        code: &'static Code,
        file: Option<FileId>,
        at: (usize, usize),
        message: String,
        help: &str,
    ) {
        let Some(file) = file else { return };
        self.diags
            .push(Diagnostic::new(code, Span::new(file, at.0, at.1), message).with_help(help));
    }

    /// Reads `path` as JSON and returns its `properties` object (empty on any problem, which
    /// is reported; a missing file is reported only when `required`).
    fn info(&mut self, path: &Path, required: bool) -> Props {
        let empty = |file, text| Props {
            file,
            text,
            map: Map::new(),
            parsed: false,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                if required || path.exists() {
                    let file = self.sources.add(path.display().to_string(), "");
                    self.report(
                        &codes::INVALID_ARTIFACT,
                        Some(file),
                        (0, 0),
                        format!(
                            "cannot read `{}`: {}",
                            path.display(),
                            e.to_string().to_lowercase()
                        ),
                        "each artifact folder holds its information file as UTF-8 JSON",
                    );
                }
                return empty(None, String::new());
            }
        };
        let file = self.sources.add(path.display().to_string(), text.as_str());
        // A byte-order mark, as Windows editors write, is not JSON: read past it.
        let bom = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
        let value: Value = match serde_json::from_str(&text[bom..]) {
            Ok(v) => v,
            Err(e) => {
                let at = bom + openapi::offset_of(&text[bom..], e.line(), e.column());
                self.report(
                    &codes::INVALID_ARTIFACT,
                    Some(file),
                    (at, (at + 1).min(text.len())),
                    format!(
                        "`{}` is not valid JSON: {}",
                        file_label(path),
                        strip_position(&e.to_string())
                    ),
                    "fix the JSON syntax; APIOps writes these files as `{\"properties\": {...}}`",
                );
                return empty(Some(file), text);
            }
        };
        match value.get("properties") {
            Some(Value::Object(m)) => Props {
                file: Some(file),
                text,
                map: m.clone(),
                parsed: true,
            },
            _ => {
                self.report(
                    &codes::INVALID_ARTIFACT,
                    Some(file),
                    (0, text.len().min(1)),
                    format!("`{}` has no `properties` object", file_label(path)),
                    "APIOps writes these files as `{\"properties\": {...}}`",
                );
                empty(Some(file), text)
            }
        }
    }

    fn key_span(props: &Props, key: &str) -> (usize, usize) {
        let quoted = format!("\"{key}\"");
        props
            .text
            .find(&quoted)
            .map_or((0, props.text.len().min(1)), |i| (i, i + quoted.len()))
    }

    fn wrong_type(&mut self, props: &Props, key: &str, want: &str) {
        let at = Self::key_span(props, key);
        self.report(
            &codes::INVALID_ARTIFACT,
            props.file,
            at,
            format!("property `{key}` is not {want}"),
            "see the APIOps artifact format in spec/06-artifacts.md",
        );
    }

    fn string(&mut self, props: &Props, key: &str) -> Option<String> {
        match props.map.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            _ => {
                self.wrong_type(props, key, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, props: &Props, key: &str, default: bool) -> bool {
        match props.map.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.wrong_type(props, key, "`true` or `false`");
                default
            }
        }
    }

    fn strings(&mut self, props: &Props, key: &str) -> Vec<String> {
        match props.map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(_) => {
                self.wrong_type(props, key, "a list of strings");
                Vec::new()
            }
        }
    }

    fn required_string(&mut self, props: &Props, key: &str, help: &str) -> Option<String> {
        let v = self.string(props, key);
        if v.is_none() && props.parsed && !props.map.contains_key(key) {
            let file = props.file;
            self.report(
                &codes::INVALID_ARTIFACT,
                file,
                (0, props.text.len().min(1)),
                format!("property `{key}` is missing"),
                help,
            );
        }
        v
    }

    fn api(&mut self, dir: &Path) -> Option<Api> {
        let info = dir.join("apiInformation.json");
        if !info.is_file() {
            return None;
        }
        let name = folder_name(dir);
        let (id, folder_rev) = match name.split_once(";rev=") {
            Some((id, rev)) => (id.to_string(), rev.parse::<u32>().ok()),
            None => (name.clone(), None),
        };
        let props = self.info(&info, true);
        let path = self
            .required_string(
                &props,
                "path",
                "give the URL path the API is served under, e.g. `\"path\": \"orders\"`",
            )
            .unwrap_or_default();
        let names = props.map.get("subscriptionKeyParameterNames").cloned();
        let key_name = |k: &str, default: &str| {
            names
                .as_ref()
                .and_then(|n| n.get(k))
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let revision = folder_rev.or_else(|| {
            props
                .map
                .get("apiRevision")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .and_then(|r| r.parse().ok())
        });
        let kind = self.string(&props, "type").unwrap_or_else(|| "http".into());
        let mut api = Api {
            display_name: self
                .string(&props, "displayName")
                .unwrap_or_else(|| id.clone()),
            path: path.trim_matches('/').to_string(),
            service_url: self.string(&props, "serviceUrl"),
            protocols: self.strings(&props, "protocols"),
            subscription_required: self.boolean(&props, "subscriptionRequired", true),
            key_header: key_name("header", "Ocp-Apim-Subscription-Key"),
            key_query: key_name("query", "subscription-key"),
            api_version: self.string(&props, "apiVersion"),
            version_set: self
                .string(&props, "apiVersionSetId")
                .map(|v| v.rsplit('/').next().unwrap_or_default().to_string()),
            is_current: self.boolean(&props, "isCurrent", folder_rev.is_none()),
            kind: kind.clone(),
            revision,
            name,
            id,
            ..Api::default()
        };
        let unsupported_spec = UNSUPPORTED_SPECS.iter().any(|n| dir.join(n).is_file());
        // One warning per API: on its specification file when there is one, else on `type`.
        if matches!(kind.as_str(), "graphql" | "soap" | "websocket") && !unsupported_spec {
            let file = props.file;
            let at = Self::key_span(&props, "type");
            self.report(
                &codes::UNSUPPORTED_SPECIFICATION,
                file,
                at,
                format!(
                    "API `{}` is of type `{kind}`, which Turnpike cannot serve",
                    api.id
                ),
                "the API's policies are still checked; calls to it are not served",
            );
        }
        api.specification = self.specification(dir, &api.id);
        let policy = dir.join("policy.xml");
        api.policy = policy.is_file().then_some(policy);
        for op in subfolders(&dir.join("operations")) {
            let p = op.join("policy.xml");
            if p.is_file() {
                api.operation_policies.insert(folder_name(&op), p);
            }
        }
        Some(api)
    }

    fn specification(&mut self, dir: &Path, api: &str) -> Option<Specification> {
        for unsupported in UNSUPPORTED_SPECS {
            let p = dir.join(unsupported);
            if p.is_file() {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let file = self.sources.add(p.display().to_string(), text.as_str());
                let kind = unsupported
                    .trim_start_matches("specification.")
                    .split('.')
                    .next()
                    .unwrap_or("");
                self.report(
                    &codes::UNSUPPORTED_SPECIFICATION,
                    Some(file),
                    (0, text.len().min(1)),
                    format!("the specification of API `{api}` is {}, which Turnpike cannot read", match kind {
                        "graphql" => "GraphQL",
                        "wsdl" => "WSDL",
                        _ => "WADL",
                    }),
                    "Turnpike reads OpenAPI 2.0, 3.0 and 3.1; the API's operations are unknown, the rest of the folder loads",
                );
                return None;
            }
        }
        let path = [
            "specification.yaml",
            "specification.yml",
            "specification.json",
        ]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())?;
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let file = self.sources.add(path.display().to_string(), text.as_str());
        match openapi::parse_specification(&text) {
            Ok(spec) => Some(spec),
            Err(openapi::SpecError::Syntax(message, at)) => {
                self.report(
                    &codes::INVALID_SPECIFICATION,
                    Some(file),
                    (at, (at + 1).min(text.len())),
                    format!(
                        "the specification of API `{api}` cannot be read: {}",
                        strip_position(&message.to_lowercase())
                    ),
                    "fix the YAML or JSON syntax",
                );
                None
            }
            Err(openapi::SpecError::NotOpenApi(message)) => {
                self.report(
                    &codes::INVALID_SPECIFICATION,
                    Some(file),
                    (0, text.len().min(1)),
                    format!("the specification of API `{api}` is not OpenAPI: {message}"),
                    "start the document with `openapi: 3.0.1` (or 3.1.0), or `swagger: \"2.0\"`",
                );
                None
            }
        }
    }

    fn product(&mut self, dir: &Path) -> Product {
        let name = folder_name(dir);
        let props = self.info(&dir.join("productInformation.json"), true);
        let policy = dir.join("policy.xml");
        Product {
            display_name: self
                .string(&props, "displayName")
                .unwrap_or_else(|| name.clone()),
            published: self
                .string(&props, "state")
                .is_none_or(|s| s == "published"),
            subscription_required: self.boolean(&props, "subscriptionRequired", true),
            approval_required: self.boolean(&props, "approvalRequired", false),
            subscriptions_limit: props.map.get("subscriptionsLimit").and_then(Value::as_u64),
            apis: subfolders(&dir.join("apis"))
                .iter()
                .map(|p| folder_name(p))
                .collect(),
            groups: subfolders(&dir.join("groups"))
                .iter()
                .map(|p| folder_name(p))
                .collect(),
            policy: policy.is_file().then_some(policy),
            name,
        }
    }

    fn subscription(&mut self, dir: &Path) -> Subscription {
        let name = folder_name(dir);
        let props = self.info(&dir.join("subscriptionInformation.json"), true);
        Subscription {
            display_name: self
                .string(&props, "displayName")
                .unwrap_or_else(|| name.clone()),
            scope: self
                .required_string(
                    &props,
                    "scope",
                    "give the scope: `/products/<p>`, `/apis/<a>` or `/apis`",
                )
                .unwrap_or_default(),
            state: self
                .string(&props, "state")
                .unwrap_or_else(|| "active".into()),
            allow_tracing: self.boolean(&props, "allowTracing", false),
            owner: self.string(&props, "ownerId"),
            name,
            ..Subscription::default()
        }
    }

    fn named_value(&mut self, dir: &Path) -> NamedValue {
        let name = folder_name(dir);
        let props = self.info(&dir.join("namedValueInformation.json"), true);
        NamedValue {
            display_name: self
                .string(&props, "displayName")
                .unwrap_or_else(|| name.clone()),
            value: self.string(&props, "value"),
            secret: self.boolean(&props, "secret", false),
            key_vault: props.map.get("keyVault").is_some_and(|k| !k.is_null()),
            name,
        }
    }

    /// Links between artifacts: product → API, subscription → scope, API → version set,
    /// operation folder → specification.
    fn references(&mut self, folder: &ArtifactFolder) {
        let api_ids: Vec<&str> = folder.apis.values().map(|a| a.id.as_str()).collect();
        for p in folder.products.values() {
            for a in p.apis.iter().filter(|a| !api_ids.contains(&a.as_str())) {
                let path = folder
                    .root
                    .join("products")
                    .join(&p.name)
                    .join("apis")
                    .join(a);
                self.missing_link(
                    &path.join("productApiInformation.json"),
                    None,
                    format!(
                        "product `{}` lists API `{a}`, which the folder does not hold",
                        p.name
                    ),
                    "add the API under `apis/`, or remove the link from the product",
                );
            }
        }
        for s in folder.subscriptions.values() {
            let scope = s.scope.trim_end_matches('/');
            let ok = scope.is_empty()
                || scope == "/apis"
                || match scope.rsplit_once('/') {
                    Some((kind, id)) if kind.ends_with("products") => {
                        folder.products.contains_key(id)
                    }
                    Some((kind, id)) if kind.ends_with("apis") => api_ids.contains(&id),
                    _ => false,
                };
            if !ok {
                let path = folder
                    .root
                    .join("subscriptions")
                    .join(&s.name)
                    .join("subscriptionInformation.json");
                self.missing_link(
                    &path,
                    Some("scope"),
                    format!("subscription `{}` has scope `{}`, which the folder does not hold", s.name, s.scope),
                    "scope a subscription to `/products/<p>`, `/apis/<a>` or `/apis` of this folder",
                );
            }
        }
        for a in folder.apis.values() {
            let info = folder
                .root
                .join("apis")
                .join(&a.name)
                .join("apiInformation.json");
            if let Some(v) = &a.version_set
                && !folder.version_sets.contains_key(v)
            {
                self.missing_link(
                    &info,
                    Some("apiVersionSetId"),
                    format!("API `{}` belongs to version set `{v}`, which the folder does not hold", a.name),
                    "add `version sets/<id>/versionSetInformation.json`, or correct `apiVersionSetId`",
                );
            }
            let Some(spec) = &a.specification else {
                continue;
            };
            for op in a.operation_policies.keys() {
                if !spec.operations.iter().any(|o| same_operation(&o.id, op)) {
                    let path = folder
                        .root
                        .join("apis")
                        .join(&a.name)
                        .join("operations")
                        .join(op)
                        .join("policy.xml");
                    self.missing_link(
                        &path,
                        None,
                        format!("API `{}` has no operation `{op}` in its specification", a.name),
                        "add the operation (its `operationId`) to the specification, or rename the operation folder",
                    );
                }
            }
        }
    }

    fn missing_link(&mut self, path: &Path, key: Option<&str>, message: String, help: &str) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let file = self.sources.add(path.display().to_string(), text.as_str());
        let at = key
            .and_then(|k| {
                let quoted = format!("\"{k}\"");
                text.find(&quoted).map(|i| (i, i + quoted.len()))
            })
            .unwrap_or((0, text.len().min(1)));
        self.report(&codes::UNKNOWN_REFERENCE, Some(file), at, message, help);
    }
}

/// Whether an operation id and an operation folder name denote the same operation: APIM names
/// operations from their `operationId` in lower case, with runs of other characters than
/// letters and digits turned into one `-`.
pub fn same_operation(id: &str, folder: &str) -> bool {
    fn norm(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches('-').to_string()
    }
    id == folder || norm(id) == norm(folder)
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// serde_json's messages end with " at line L column C"; the span says that already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The environment variable that gives a named value: `TURNPIKE_NV_` and the name upper-cased,
/// every character outside `[A-Z0-9]` turned into `_`.
pub fn env_var_of(name: &str) -> String {
    let mut out = String::from("TURNPIKE_NV_");
    out.extend(name.chars().map(|c| {
        let c = c.to_ascii_uppercase();
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            c
        } else {
            '_'
        }
    }));
    out
}

impl ArtifactFolder {
    /// The value of named value `name` and whether it is secret: from the folder (after
    /// overrides and environment were applied), else from its `TURNPIKE_NV_` variable (then
    /// treated as secret, since nothing says it is not). `None` when no value is known.
    pub fn named_value(&self, name: &str) -> Option<(String, bool)> {
        match self.named_values.get(name) {
            Some(nv) => nv.value.clone().map(|v| (v, nv.secret)),
            None => std::env::var(env_var_of(name)).ok().map(|v| (v, true)),
        }
    }

    /// Merges an overrides file (APIOps `configuration.<env>.yaml`: lists `namedValues`,
    /// `apis`, `backends`, `subscriptions` of `name` plus `properties`) into the folder, key by
    /// key. The file is added to `sources` for diagnostics.
    pub fn apply_overrides(&mut self, path: &Path, sources: &mut SourceMap) -> Vec<Diagnostic> {
        let mut l = Loader {
            sources,
            diags: Vec::new(),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                let file = l.sources.add(path.display().to_string(), "");
                l.report(
                    &codes::INVALID_ARTIFACT,
                    Some(file),
                    (0, 0),
                    format!(
                        "cannot read overrides file `{}`: {}",
                        path.display(),
                        e.to_string().to_lowercase()
                    ),
                    "give the path of an APIOps `configuration.<env>.yaml`",
                );
                return l.diags;
            }
        };
        let file = l.sources.add(path.display().to_string(), text.as_str());
        let doc = match yaml::yaml_to_json(&text) {
            Ok(v) => v,
            Err((message, at)) => {
                l.report(
                    &codes::INVALID_ARTIFACT,
                    Some(file),
                    (at, (at + 1).min(text.len())),
                    format!("overrides file is not valid YAML: {message}"),
                    "fix the YAML syntax",
                );
                return l.diags;
            }
        };
        let items = |key: &str| -> Vec<(String, Map<String, Value>)> {
            doc.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|item| {
                            let name = item.get("name")?.as_str()?.to_string();
                            let props = item
                                .get("properties")
                                .and_then(Value::as_object)
                                .cloned()
                                .unwrap_or_default();
                            Some((name, props))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        for (name, props) in items("namedValues") {
            let key = self
                .named_values
                .iter()
                .find(|(display, nv)| *display == &name || nv.name == name)
                .map(|(k, _)| k.clone());
            let mut nv = key
                .as_ref()
                .and_then(|k| self.named_values.remove(k))
                .unwrap_or_else(|| NamedValue {
                    name: name.clone(),
                    display_name: name.clone(),
                    ..NamedValue::default()
                });
            if let Some(v) = props.get("displayName").and_then(Value::as_str) {
                nv.display_name = v.to_string();
            }
            if let Some(v) = props.get("value") {
                nv.value = match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                };
            }
            if let Some(v) = props.get("secret").and_then(Value::as_bool) {
                nv.secret = v;
            }
            self.named_values.insert(nv.display_name.clone(), nv);
        }
        for (name, props) in items("apis") {
            for api in self
                .apis
                .values_mut()
                .filter(|a| a.name == name || a.id == name)
            {
                if let Some(v) = props.get("serviceUrl").and_then(Value::as_str) {
                    api.service_url = Some(v.to_string());
                }
                if let Some(v) = props.get("path").and_then(Value::as_str) {
                    api.path = v.trim_matches('/').to_string();
                }
                if let Some(v) = props.get("protocols").and_then(Value::as_array) {
                    api.protocols = v
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_string))
                        .collect();
                }
                if let Some(v) = props.get("subscriptionRequired").and_then(Value::as_bool) {
                    api.subscription_required = v;
                }
            }
        }
        for (name, props) in items("backends") {
            let b = self
                .backends
                .entry(name.clone())
                .or_insert_with(|| Backend {
                    name,
                    ..Backend::default()
                });
            if let Some(v) = props.get("url").and_then(Value::as_str) {
                b.url = Some(v.to_string());
            }
            if let Some(v) = props.get("protocol").and_then(Value::as_str) {
                b.protocol = Some(v.to_string());
            }
        }
        for (name, props) in items("subscriptions") {
            if let Some(s) = self.subscriptions.get_mut(&name) {
                let text = |k: &str| props.get(k).and_then(Value::as_str).map(str::to_string);
                if let Some(v) = text("state") {
                    s.state = v;
                }
                if let Some(v) = text("primaryKey") {
                    s.primary_key = Some(v);
                }
                if let Some(v) = text("secondaryKey") {
                    s.secondary_key = Some(v);
                }
            }
        }
        l.diags
    }

    /// Applies `TURNPIKE_NV_<NAME>` variables (read through `var`) to the named values. Two
    /// named values that map to the same variable are an error.
    pub fn apply_env(
        &mut self,
        var: &dyn Fn(&str) -> Option<String>,
        sources: &mut SourceMap,
    ) -> Vec<Diagnostic> {
        let mut l = Loader {
            sources,
            diags: Vec::new(),
        };
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (display, nv) in &mut self.named_values {
            let env = env_var_of(display);
            if let Some(other) = seen.insert(env.clone(), display.clone()) {
                let path = self
                    .root
                    .join("named values")
                    .join(&nv.name)
                    .join("namedValueInformation.json");
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let file = l.sources.add(path.display().to_string(), text.as_str());
                l.report(
                    &codes::INVALID_ARTIFACT,
                    Some(file),
                    (0, text.len().min(1)),
                    format!("named values `{other}` and `{display}` are both set by the environment variable `{env}`"),
                    "rename one of them so that their names differ in letters or digits",
                );
                continue;
            }
            if let Some(v) = var(&env) {
                nv.value = Some(v);
            }
        }
        l.diags
    }
}
