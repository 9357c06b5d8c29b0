//! One compiled generation of an artifact folder: every API revision the gateway serves, its
//! operations with their templates, and the compiled pipeline of each (operation, product
//! context). A reload builds a new generation off the request path and swaps it in whole.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use turnpike_config::ArtifactFolder;
use turnpike_diagnostics::{Diagnostic, SourceMap, render_human};
use turnpike_pipeline::{Pipeline, Step, Stored, Val};
use turnpike_sema::effective::{Documents, effective_policy, global_policy};

use crate::keys::{KeyRow, KeyStore};
use crate::routing::Template;

/// A compiled pipeline and what it reads of the messages.
#[derive(Debug)]
pub struct Compiled {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// Some expression reads `context.Request.Body`: the request body is buffered first.
    pub reads_request_body: bool,
    /// Some expression reads `context.Response.Body`: the backend's body is buffered.
    pub reads_response_body: bool,
    /// Which parts of the `context` model some expression reads (`IContext.Api`, ...); the
    /// gateway builds only those. `operation` is also set when `rewrite-uri` needs the
    /// operation's template.
    pub reads: ContextReads,
    /// Some `set-backend-service` names a backend by id.
    pub uses_backend_ids: bool,
    /// The pipeline only forwards the request (no policy in any section but a plain
    /// `forward-request`): the gateway proxies the call without building a request state.
    pub passthrough: bool,
}

/// Parts of the `context` model a pipeline reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct ContextReads {
    /// `context.Api`
    pub api: bool,
    /// `context.Operation` (or `rewrite-uri` is used)
    pub operation: bool,
    /// `context.Product`
    pub product: bool,
    /// `context.Subscription`
    pub subscription: bool,
}

/// Versioning of an API in a version set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// Not in a version set.
    None,
    /// `/{api path}/{version}/...`
    Segment,
    /// `?{name}={version}`
    Query(String),
    /// `{name}: {version}`
    Header(String),
}

/// One operation.
#[derive(Debug)]
pub struct OperationEntry {
    /// `operationId`.
    pub id: String,
    /// Upper-case method.
    pub method: String,
    /// The URL template as written.
    pub template_text: String,
    /// The parsed template.
    pub template: Template,
    /// The first example response of the specification (for `mock-response`).
    pub example: Option<String>,
    /// The pipeline outside any product (API-scoped and all-APIs subscriptions, no key).
    pub pipeline: Arc<Compiled>,
    /// The pipeline in each product's context, by product name.
    pub in_product: BTreeMap<String, Arc<Compiled>>,
}

/// One API revision the gateway serves.
#[derive(Debug)]
pub struct ApiEntry {
    /// Folder name (`orders;rev=2`).
    pub name: String,
    /// API id (folder name without the revision).
    pub id: String,
    /// `displayName`.
    pub display_name: String,
    /// Path segments of the API's URL suffix (`["shop", "orders"]`; empty for the root).
    pub path: Vec<String>,
    /// The path as written.
    pub path_text: String,
    /// Revision number (1 when not given).
    pub revision: u32,
    /// Whether this is the revision served without `;rev=`.
    pub is_current: bool,
    /// How its version is selected.
    pub versioning: Versioning,
    /// The version (empty: the version set's original, reached without a version).
    pub version: String,
    /// Allowed schemes, lower-case (empty: any).
    pub protocols: Vec<String>,
    /// Whether a key is needed (when no open product holds the API).
    pub subscription_required: bool,
    /// The key header name.
    pub key_header: String,
    /// The key query parameter name.
    pub key_query: String,
    /// The backend base URL.
    pub service_url: Option<String>,
    /// Products that hold the API.
    pub products: Vec<String>,
    /// The open product (no subscription required) that holds the API, if any.
    pub open_product: Option<String>,
    /// Operations in specification order.
    pub operations: Vec<OperationEntry>,
    /// The service URL's backend pool and base path, looked up once (`None`: the URL is not
    /// an absolute `http` URL).
    pub service_target: std::sync::OnceLock<Option<(Arc<crate::pool::BackendPool>, String)>>,
}

/// A product, as the gateway needs it.
#[derive(Debug)]
pub struct ProductEntry {
    /// Folder name.
    pub name: String,
    /// `displayName`.
    pub display_name: String,
    /// Published.
    pub published: bool,
    /// Whether a key is needed.
    pub subscription_required: bool,
    /// Whether subscriptions need approval.
    pub approval_required: bool,
    /// `subscriptionsLimit`.
    pub subscriptions_limit: Option<u64>,
    /// API ids it holds.
    pub apis: Vec<String>,
}

/// What a subscription covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `/products/{p}`
    Product(String),
    /// `/apis/{a}`
    Api(String),
    /// `/apis`: every API.
    AllApis,
    /// Anything else (never matches).
    Unknown(String),
}

impl Scope {
    fn parse(s: &str) -> Scope {
        let t = s.trim().trim_end_matches('/');
        // Full resource ids end the same way as the short form.
        let tail = |marker: &str| t.rfind(marker).map(|i| &t[i + marker.len()..]);
        if let Some(p) = tail("/products/") {
            return Scope::Product(p.to_string());
        }
        if let Some(a) = tail("/apis/") {
            return Scope::Api(a.split(";rev=").next().unwrap_or(a).to_string());
        }
        if t == "/apis" || t.ends_with("/apis") {
            return Scope::AllApis;
        }
        // The service scope (the built-in all-access subscription): `/`, or a resource id
        // that ends at the service.
        if t.is_empty() || t.rsplit('/').nth(1) == Some("service") {
            return Scope::AllApis;
        }
        Scope::Unknown(s.to_string())
    }
}

/// A subscription with its keys.
#[derive(Debug)]
pub struct SubscriptionEntry {
    /// Folder name (`context.Subscription.Id`).
    pub name: String,
    /// `displayName`.
    pub display_name: String,
    /// What it covers.
    pub scope: Scope,
    /// `active`, `suspended`, `cancelled`, ...
    pub state: String,
    /// The keys.
    pub keys: KeyRow,
}

/// Subscriptions by key: rebuilt when the key database changes.
#[derive(Debug, Default)]
pub struct KeyIndex {
    /// Every subscription of the folder.
    pub subscriptions: Vec<Arc<SubscriptionEntry>>,
    /// Key to subscription, both keys of each.
    pub by_key: HashMap<String, Arc<SubscriptionEntry>>,
}

impl KeyIndex {
    /// Builds the index from the folder's subscriptions and the key store, creating keys for
    /// subscriptions that have none and writing keys that an overrides file fixes.
    pub fn build(folder: &ArtifactFolder, store: &KeyStore) -> Result<KeyIndex, String> {
        let mut idx = KeyIndex::default();
        // A key the overrides file fixes may still sit on the row of a subscription that left
        // the folder (renamed, removed): that row gets new keys, so the load goes on.
        let fixed: Vec<&str> = folder
            .subscriptions
            .values()
            .flat_map(|s| [s.primary_key.as_deref(), s.secondary_key.as_deref()])
            .flatten()
            .collect();
        if !fixed.is_empty() {
            for row in store.all()? {
                if !folder.subscriptions.contains_key(&row.name)
                    && (fixed.contains(&row.primary.as_str())
                        || fixed.contains(&row.secondary.as_str()))
                {
                    store.set(
                        &row.name,
                        Some(&crate::keys::new_key()?),
                        Some(&crate::keys::new_key()?),
                    )?;
                }
            }
        }
        // Keys the overrides file gives, all in one change: they may move between
        // subscriptions.
        let changes: Vec<(String, Option<String>, Option<String>)> = folder
            .subscriptions
            .values()
            .filter(|s| s.primary_key.is_some() || s.secondary_key.is_some())
            .map(|s| {
                (
                    s.name.clone(),
                    s.primary_key.clone(),
                    s.secondary_key.clone(),
                )
            })
            .collect();
        if !changes.is_empty() {
            store.set_many(&changes)?;
        }
        for s in folder.subscriptions.values() {
            let keys = store.ensure(&s.name)?;
            idx.push(SubscriptionEntry {
                name: s.name.clone(),
                display_name: s.display_name.clone(),
                scope: Scope::parse(&s.scope),
                state: s.state.to_ascii_lowercase(),
                keys,
            });
        }
        Ok(idx)
    }

    /// Adds a subscription under both its keys.
    fn push(&mut self, entry: SubscriptionEntry) {
        let entry = Arc::new(entry);
        self.by_key
            .insert(entry.keys.primary.clone(), Arc::clone(&entry));
        self.by_key
            .insert(entry.keys.secondary.clone(), Arc::clone(&entry));
        self.subscriptions.push(entry);
    }

    /// Re-reads the keys of the known subscriptions (after `turnpike keys` changed them).
    pub fn refresh(&self, store: &KeyStore) -> Result<KeyIndex, String> {
        let mut idx = KeyIndex::default();
        for s in &self.subscriptions {
            idx.push(SubscriptionEntry {
                name: s.name.clone(),
                display_name: s.display_name.clone(),
                scope: s.scope.clone(),
                state: s.state.clone(),
                keys: store.ensure(&s.name)?,
            });
        }
        Ok(idx)
    }
}

/// A compiled folder.
#[derive(Debug)]
pub struct Generation {
    /// The folder it was built from.
    pub root: PathBuf,
    /// API revisions, longest path first.
    pub apis: Vec<ApiEntry>,
    /// Products by name.
    pub products: BTreeMap<String, ProductEntry>,
    /// Backends by id, with their URLs.
    pub backends: Vec<(String, String)>,
    /// The global scope's policy alone: its `on-error` handles calls that match no operation.
    pub global: Arc<Compiled>,
    /// Subscriptions and their keys.
    pub keys: KeyIndex,
    /// Warnings met while loading, rendered (APIs that cannot be served among them).
    pub warnings: Vec<String>,
}

/// Why a folder does not load: the rendered diagnostics.
#[derive(Debug)]
pub struct LoadError {
    /// One rendered diagnostic per entry.
    pub diagnostics: Vec<String>,
    /// How many errors.
    pub errors: usize,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}\n")?;
        }
        write!(
            f,
            "the folder does not load: {} error{}",
            self.errors,
            if self.errors == 1 { "" } else { "s" }
        )
    }
}

fn render(diags: &[Diagnostic], sources: &SourceMap) -> Vec<String> {
    diags.iter().map(|d| render_human(d, sources)).collect()
}

impl Generation {
    /// Loads and compiles `root` (with an overrides file), the keys from `store`; policy
    /// expressions run as native code where the JIT compiles them.
    pub fn load(
        root: &Path,
        overrides: Option<&Path>,
        store: &KeyStore,
    ) -> Result<Generation, LoadError> {
        Generation::load_with(root, overrides, store, true)
    }

    /// As [`Generation::load`]; with `jit`, the expressions the JIT covers are compiled to
    /// native code (`spec/13-jit.md`), the rest run on the interpreter.
    pub fn load_with(
        root: &Path,
        overrides: Option<&Path>,
        store: &KeyStore,
        jit: bool,
    ) -> Result<Generation, LoadError> {
        // The same checks as `turnpike lint`: any error keeps the folder from loading.
        let options = turnpike_sema::LintOptions {
            artifacts: true,
            overrides: overrides.map(Path::to_path_buf),
        };
        let report = turnpike_sema::lint_path_with(root, &options).map_err(|e| LoadError {
            diagnostics: vec![format!(
                "error: cannot read `{}`: {}",
                root.display(),
                e.to_string().to_lowercase()
            )],
            errors: 1,
        })?;
        let errors: Vec<Diagnostic> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        if !errors.is_empty() {
            return Err(LoadError {
                diagnostics: render(&errors, &report.sources),
                errors: errors.len(),
            });
        }
        let mut sources = SourceMap::new();
        let (mut folder, mut diags) = turnpike_config::load(root, &mut sources);
        if let Some(o) = overrides {
            diags.extend(folder.apply_overrides(o, &mut sources));
        }
        diags.extend(folder.apply_env(&|v| std::env::var(v).ok(), &mut sources));
        let (docs, doc_diags) = Documents::load(&folder, &mut sources);
        diags.extend(doc_diags);
        let mut warnings = Vec::new();
        let mut apis = Vec::new();
        for api in folder.apis.values() {
            if let Some(why) = unservable(api) {
                warnings.push(format!("warning: API `{}` is not served: {why}", api.name));
                continue;
            }
            if !api.protocols.is_empty()
                && !api.protocols.iter().any(|p| p.eq_ignore_ascii_case("http"))
            {
                warnings.push(format!(
                    "warning: API `{}` allows only {}: the gateway speaks cleartext HTTP, so it is reached only through a trusted proxy (`--trusted-proxy`) that terminates TLS and sends `X-Forwarded-Proto: https`",
                    api.name,
                    api.protocols.join(", ")
                ));
            }
            if api.service_url.is_none() {
                warnings.push(format!(
                    "warning: API `{}` has no `serviceUrl`: a call that reaches `forward-request` without `set-backend-service` fails with `BackendConnectionFailure`",
                    api.name
                ));
            }
            apis.push(compile_api(&folder, &docs, &sources, api, &mut diags, jit)?);
        }
        let (global, global_diags) = global_policy(&folder, &docs, &sources);
        diags.extend(global_diags);
        let (global, d) =
            turnpike_pipeline::compile_effective(&global, folder.global_policy.is_none());
        diags.extend(d);
        let global = Arc::new(analyse(global, jit));
        let errors: Vec<Diagnostic> = diags.iter().filter(|d| d.is_error()).cloned().collect();
        if !errors.is_empty() {
            return Err(LoadError {
                diagnostics: render(&errors, &sources),
                errors: errors.len(),
            });
        }
        // Longest path first; among equal paths, versioned before the original.
        apis.sort_by(|a, b| {
            b.path
                .len()
                .cmp(&a.path.len())
                .then(b.version.is_empty().cmp(&a.version.is_empty()).reverse())
        });
        let products = folder
            .products
            .values()
            .map(|p| {
                (
                    p.name.clone(),
                    ProductEntry {
                        name: p.name.clone(),
                        display_name: p.display_name.clone(),
                        published: p.published,
                        subscription_required: p.subscription_required,
                        approval_required: p.approval_required,
                        subscriptions_limit: p.subscriptions_limit,
                        apis: p.apis.clone(),
                    },
                )
            })
            .collect();
        let keys = KeyIndex::build(&folder, store).map_err(|e| LoadError {
            diagnostics: vec![format!("error: {e}")],
            errors: 1,
        })?;
        Ok(Generation {
            root: root.to_path_buf(),
            apis,
            products,
            backends: folder
                .backends
                .values()
                .filter_map(|b| b.url.clone().map(|u| (b.name.clone(), u)))
                .collect(),
            global,
            keys,
            warnings,
        })
    }
}

/// Why an API cannot be served, if it cannot.
fn unservable(api: &turnpike_config::Api) -> Option<String> {
    match api.kind.to_ascii_lowercase().as_str() {
        "http" | "" => {}
        other => {
            return Some(format!(
                "its type is `{other}`, which Turnpike cannot serve yet"
            ));
        }
    }
    if api.specification.is_none() {
        return Some(
            "it has no OpenAPI specification that Turnpike can read, so no operation matches"
                .into(),
        );
    }
    None
}

fn compile_api(
    folder: &ArtifactFolder,
    docs: &Documents,
    sources: &SourceMap,
    api: &turnpike_config::Api,
    diags: &mut Vec<Diagnostic>,
    jit: bool,
) -> Result<ApiEntry, LoadError> {
    let products: Vec<String> = folder
        .products
        .values()
        .filter(|p| p.apis.iter().any(|a| a == &api.id || a == &api.name))
        .map(|p| p.name.clone())
        .collect();
    let open_product = products
        .iter()
        .find(|p| {
            folder
                .products
                .get(*p)
                .is_some_and(|p| !p.subscription_required)
        })
        .cloned();
    let versioning = match api
        .version_set
        .as_ref()
        .and_then(|v| folder.version_sets.get(v))
    {
        None => Versioning::None,
        Some(vs) => match vs.scheme.to_ascii_lowercase().as_str() {
            "query" => Versioning::Query(
                vs.query_name
                    .clone()
                    .unwrap_or_else(|| "api-version".into()),
            ),
            "header" => Versioning::Header(
                vs.header_name
                    .clone()
                    .unwrap_or_else(|| "Api-Version".into()),
            ),
            _ => Versioning::Segment,
        },
    };
    let mut operations = Vec::new();
    let spec_ops = api
        .specification
        .as_ref()
        .map(|s| s.operations.clone())
        .unwrap_or_default();
    let fail = |e: String| LoadError {
        diagnostics: vec![format!("error: {e}")],
        errors: 1,
    };
    for op in spec_ops {
        let mut compile = |product: Option<&str>| -> Result<Arc<Compiled>, LoadError> {
            let (policy, merge) =
                effective_policy(folder, docs, sources, &api.name, &op.id, product)
                    .map_err(fail)?;
            diags.extend(merge);
            let (pipeline, d) =
                turnpike_pipeline::compile_effective(&policy, folder.global_policy.is_none());
            diags.extend(d);
            Ok(Arc::new(analyse(pipeline, jit)))
        };
        let pipeline = compile(None)?;
        let mut in_product = BTreeMap::new();
        for p in &products {
            in_product.insert(p.clone(), compile(Some(p))?);
        }
        operations.push(OperationEntry {
            template: Template::parse(&op.template),
            template_text: op.template.clone(),
            method: op.method.to_ascii_uppercase(),
            example: op.examples.first().map(|(_, v)| v.to_string()),
            id: op.id,
            pipeline,
            in_product,
        });
    }
    let path: Vec<String> = api
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Ok(ApiEntry {
        name: api.name.clone(),
        id: api.id.clone(),
        display_name: api.display_name.clone(),
        path_text: api.path.clone(),
        path,
        revision: api.revision.unwrap_or(1),
        is_current: api.is_current,
        versioning,
        version: api.api_version.clone().unwrap_or_default(),
        protocols: api
            .protocols
            .iter()
            .map(|p| p.to_ascii_lowercase())
            .collect(),
        subscription_required: api.subscription_required,
        key_header: api.key_header.clone(),
        key_query: api.key_query.clone(),
        service_url: api.service_url.clone(),
        products,
        open_product,
        operations,
        service_target: std::sync::OnceLock::new(),
    })
}

/// Finds which message bodies a pipeline's expressions read.
fn analyse(mut pipeline: Pipeline, jit: bool) -> Compiled {
    if jit {
        turnpike_pipeline::compile::compile_native(&mut pipeline);
    }
    let mut text = String::new();
    let lib = turnpike_ir::Library::get();
    let mut visit = |v: &Val| {
        if let Val::Expr(body) = v {
            text.push_str(&turnpike_ir::print::body(lib, body));
        }
    };
    turnpike_pipeline::compile::visit_pipeline(&pipeline, &mut visit);
    use turnpike_pipeline::compile::StepKind as K;
    let passthrough = pipeline.inbound.is_empty()
        && pipeline.outbound.is_empty()
        && pipeline.on_error.is_empty()
        && match &pipeline.backend {
            None => true,
            Some(steps) => {
                steps.len() == 1
                    && matches!(
                        steps[0].kind,
                        K::BaseForward
                            | K::Forward {
                                timeout: None,
                                fail_on_error: None
                            }
                    )
            }
        };
    let mut rewrites = false;
    let mut backend_ids = false;
    let mut flags = |s: &Step| match &s.kind {
        K::RewriteUri { .. } => rewrites = true,
        K::SetBackend {
            backend_id: Some(_),
            ..
        } => backend_ids = true,
        _ => {}
    };
    for steps in [
        Some(&pipeline.inbound),
        pipeline.backend.as_ref(),
        Some(&pipeline.outbound),
        Some(&pipeline.on_error),
    ]
    .into_iter()
    .flatten()
    {
        walk_steps(steps, &mut flags);
    }
    Compiled {
        passthrough,
        reads: ContextReads {
            api: text.contains("IContext.Api"),
            operation: rewrites || text.contains("IContext.Operation"),
            product: text.contains("IContext.Product"),
            subscription: text.contains("IContext.Subscription"),
        },
        uses_backend_ids: backend_ids,
        reads_request_body: text.contains("IRequest.Body"),
        reads_response_body: text.contains("IResponse.Body"),
        pipeline,
    }
}

/// Calls `f` on every step, branches included.
fn walk_steps(steps: &[Step], f: &mut dyn FnMut(&Step)) {
    use turnpike_pipeline::compile::StepKind as K;
    for s in steps {
        f(s);
        match &s.kind {
            K::Choose { whens, otherwise } => {
                for (_, b) in whens {
                    walk_steps(b, f);
                }
                walk_steps(otherwise, f);
            }
            K::ReturnResponse { steps, .. } => walk_steps(steps, f),
            _ => {}
        }
    }
}

/// `context.Api` for an API revision.
pub fn api_props(a: &ApiEntry) -> Vec<(String, Stored)> {
    vec![
        ("Id".into(), Stored::Str(a.id.clone())),
        ("Name".into(), Stored::Str(a.display_name.clone())),
        ("Path".into(), Stored::Str(a.path_text.clone())),
        ("Protocols".into(), Stored::StrArray(a.protocols.clone())),
        (
            "SubscriptionKeyParameterNames".into(),
            Stored::Named(vec![
                ("Header".into(), Stored::Str(a.key_header.clone())),
                ("Query".into(), Stored::Str(a.key_query.clone())),
            ]),
        ),
        ("IsCurrentRevision".into(), Stored::Bool(a.is_current)),
        ("Revision".into(), Stored::Str(a.revision.to_string())),
        ("Version".into(), Stored::Str(a.version.clone())),
    ]
}

/// `context.Operation`.
pub fn operation_props(o: &OperationEntry) -> Vec<(String, Stored)> {
    vec![
        ("Id".into(), Stored::Str(o.id.clone())),
        ("Name".into(), Stored::Str(o.id.clone())),
        ("Method".into(), Stored::Str(o.method.clone())),
        ("UrlTemplate".into(), Stored::Str(o.template_text.clone())),
    ]
}

/// `context.Product`.
pub fn product_props(p: &ProductEntry) -> Vec<(String, Stored)> {
    vec![
        ("Id".into(), Stored::Str(p.name.clone())),
        ("Name".into(), Stored::Str(p.display_name.clone())),
        ("ApprovalRequired".into(), Stored::Bool(p.approval_required)),
        (
            "SubscriptionRequired".into(),
            Stored::Bool(p.subscription_required),
        ),
        (
            "SubscriptionLimit".into(),
            p.subscriptions_limit
                .map_or(Stored::Null, |n| Stored::Int(n.min(i32::MAX as u64) as i32)),
        ),
    ]
}

/// `context.Subscription`, with the key the caller sent.
pub fn subscription_props(s: &SubscriptionEntry, key: &str) -> Vec<(String, Stored)> {
    vec![
        ("Id".into(), Stored::Str(s.name.clone())),
        ("Name".into(), Stored::Str(s.display_name.clone())),
        ("Key".into(), Stored::Str(key.to_string())),
        ("PrimaryKey".into(), Stored::Str(s.keys.primary.clone())),
        ("SecondaryKey".into(), Stored::Str(s.keys.secondary.clone())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(
            Scope::parse("/products/starter"),
            Scope::Product("starter".into())
        );
        assert_eq!(Scope::parse("/apis/echo"), Scope::Api("echo".into()));
        assert_eq!(Scope::parse("/apis/echo;rev=2"), Scope::Api("echo".into()));
        assert_eq!(Scope::parse("/apis"), Scope::AllApis);
        assert_eq!(Scope::parse("/apis/"), Scope::AllApis);
        assert_eq!(
            Scope::parse(
                "/subscriptions/x/resourceGroups/g/providers/Microsoft.ApiManagement/service/s/products/p"
            ),
            Scope::Product("p".into())
        );
        assert!(matches!(Scope::parse("/users/x"), Scope::Unknown(_)));
        assert_eq!(Scope::parse("/"), Scope::AllApis);
        assert_eq!(
            Scope::parse(
                "/subscriptions/x/resourceGroups/g/providers/Microsoft.ApiManagement/service/s"
            ),
            Scope::AllApis
        );
    }
}
