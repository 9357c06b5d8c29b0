//! The policy catalog: every APIM policy element, as data (`grammar/policies.toml`).
//!
//! The catalog says, for each policy, which attributes it takes (type, required, default,
//! whether an expression may stand there), what it contains (child elements, nested policies,
//! text, or opaque XML), the sections and scopes where it may stand, and how often. The checker,
//! `lint` and the policy tables of `spec/` all come from it.

mod markdown;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub use markdown::policies_markdown;

/// The catalog text, compiled in.
pub const CATALOG_TOML: &str = include_str!("../../../grammar/policies.toml");

/// A policy section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    /// `<inbound>`
    Inbound,
    /// `<backend>`
    Backend,
    /// `<outbound>`
    Outbound,
    /// `<on-error>`
    OnError,
}

impl Section {
    /// All sections in document order.
    pub const ALL: [Section; 4] = [
        Section::Inbound,
        Section::Backend,
        Section::Outbound,
        Section::OnError,
    ];

    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            Section::Inbound => "inbound",
            Section::Backend => "backend",
            Section::Outbound => "outbound",
            Section::OnError => "on-error",
        }
    }

    /// The section an element name stands for.
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A policy scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// All APIs.
    Global,
    /// A workspace.
    Workspace,
    /// A product.
    Product,
    /// An API (all its operations).
    Api,
    /// One operation.
    Operation,
}

impl Scope {
    /// All scopes, broadest first.
    pub const ALL: [Scope; 5] = [
        Scope::Global,
        Scope::Workspace,
        Scope::Product,
        Scope::Api,
        Scope::Operation,
    ];

    /// The scope's name as written in the catalog and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Workspace => "workspace",
            Scope::Product => "product",
            Scope::Api => "api",
            Scope::Operation => "operation",
        }
    }
}

/// How often an element may appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Once {
    /// Any number of times.
    #[default]
    Unlimited,
    /// At most once in each section.
    Section,
    /// At most once in the whole policy document.
    Document,
}

/// Whether Turnpike will run a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// Turnpike runs it (or will, in the gateway).
    #[default]
    Planned,
    /// An APIM policy tied to Azure services a self-hosted gateway does not have; `lint`
    /// warns with `unsupported-policy`.
    Unsupported,
}

/// The value type of an attribute or of element text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ValueType {
    /// Any text.
    #[default]
    String,
    /// A whole number (optionally within `min`..=`max`).
    Integer,
    /// A number with an optional fraction.
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of `values`.
    Enum,
    /// A number of seconds.
    Duration,
    /// An absolute URL, or a relative one where `relative` is set.
    Url,
    /// An HTTP method.
    Method,
    /// A name such as a variable or fragment id: no spaces.
    Name,
    /// A date and time, `yyyy-MM-ddTHH:mm:ssZ`.
    DateTime,
}

impl ValueType {
    /// How the type reads in messages and the spec.
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::String => "text",
            ValueType::Integer => "an integer",
            ValueType::Number => "a number",
            ValueType::Boolean => "`true` or `false`",
            ValueType::Enum => "one of the listed values",
            ValueType::Duration => "a number of seconds",
            ValueType::Url => "a URL",
            ValueType::Method => "an HTTP method",
            ValueType::Name => "a name without spaces",
            ValueType::DateTime => "a date and time `yyyy-MM-ddTHH:mm:ssZ`",
        }
    }
}

/// An attribute of a policy or child element, or the text of an element.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Value {
    /// The value type.
    #[serde(rename = "type", default)]
    pub ty: ValueType,
    /// Whether the attribute must be given.
    #[serde(default)]
    pub required: bool,
    /// Whether a policy expression may stand there.
    #[serde(default)]
    pub expr: bool,
    /// The default when not given, as documented.
    #[serde(default)]
    pub default: Option<String>,
    /// Allowed values of an enumeration.
    #[serde(default)]
    pub values: Vec<String>,
    /// Lowest allowed integer or number.
    #[serde(default)]
    pub min: Option<f64>,
    /// Highest allowed integer or number.
    #[serde(default)]
    pub max: Option<f64>,
    /// For URLs: a relative URL (path) is accepted too.
    #[serde(default)]
    pub relative: bool,
    /// A short description for the spec.
    #[serde(default)]
    pub doc: Option<String>,
}

/// What an element holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Content {
    /// Nothing (or only the listed `children`).
    #[default]
    Elements,
    /// Policy statements of the enclosing section (`when`, `retry`, ...).
    Policies,
    /// Text (see `text`).
    Text,
    /// XML that is not checked (`xsl-transform`'s stylesheet, `cross-domain`'s document).
    Opaque,
}

/// A policy or a child element.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Element {
    /// For a child: it has the shape of this policy (e.g. `set-header` inside
    /// `return-response`).
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// One line for the spec.
    #[serde(default)]
    pub summary: Option<String>,
    /// Sections where a policy may stand (empty for children).
    #[serde(default)]
    pub sections: Vec<Section>,
    /// Scopes where a policy may stand (empty means all).
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// How often a policy may appear.
    #[serde(default)]
    pub once: Once,
    /// Whether Turnpike runs it.
    #[serde(default)]
    pub runtime: Runtime,
    /// A GraphQL resolver policy: the root of a resolver document, in no section.
    #[serde(default)]
    pub resolver: bool,
    /// What the element holds.
    #[serde(default)]
    pub content: Content,
    /// The type of its text, when `content = "text"`.
    #[serde(default)]
    pub text: Option<Value>,
    /// Attributes by name (source order does not matter in the catalog; `order` gives the
    /// documented order).
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// Child elements by name.
    #[serde(default)]
    pub children: BTreeMap<String, Child>,
    /// Documented order of attributes, when the reference gives one.
    #[serde(default)]
    pub attribute_order: Vec<String>,
    /// Documented order of child elements.
    #[serde(default)]
    pub child_order: Vec<String>,
    /// Groups of attributes of which exactly one must be given.
    #[serde(default)]
    pub one_of: Vec<Vec<String>>,
    /// Groups of attributes of which at least one must be given.
    #[serde(default)]
    pub any_of: Vec<Vec<String>>,
    /// Groups of attributes of which at most one may be given.
    #[serde(default)]
    pub exclusive: Vec<Vec<String>>,
    /// Where the catalog follows the corpus rather than the reference.
    #[serde(default)]
    pub note: Option<String>,
}

/// A child element with its multiplicity.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Child {
    /// Fewest occurrences.
    #[serde(default)]
    pub min: u32,
    /// Most occurrences; `None` is unbounded.
    #[serde(default)]
    pub max: Option<u32>,
    /// The element's shape.
    #[serde(flatten)]
    pub element: Element,
}

/// The whole catalog.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Policies by element name.
    pub policy: BTreeMap<String, Element>,
}

impl Catalog {
    /// Parses catalog text.
    ///
    /// # Errors
    /// When the text is not a valid catalog.
    pub fn parse(text: &str) -> Result<Catalog, String> {
        let catalog: Catalog = toml::from_str(text).map_err(|e| e.to_string())?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// The compiled-in catalog.
    ///
    /// # Panics
    /// Never in a build whose tests pass: a test parses the same text.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| match Catalog::parse(CATALOG_TOML) {
            Ok(c) => c,
            Err(e) => panic!("grammar/policies.toml is invalid: {e}"),
        })
    }

    /// A policy by name.
    pub fn policy(&self, name: &str) -> Option<&Element> {
        self.policy.get(name)
    }

    /// The shape of a child element: its own, or the policy it refers to.
    pub fn resolve<'a>(&'a self, child: &'a Element) -> &'a Element {
        child
            .reference
            .as_deref()
            .and_then(|r| self.policy.get(r))
            .unwrap_or(child)
    }

    fn validate(&self) -> Result<(), String> {
        for (name, p) in &self.policy {
            if p.sections.is_empty() && !p.resolver {
                return Err(format!("policy `{name}` lists no sections"));
            }
            self.validate_element(name, p)?;
        }
        Ok(())
    }

    fn validate_element(&self, path: &str, e: &Element) -> Result<(), String> {
        if let Some(r) = &e.reference
            && !self.policy.contains_key(r)
        {
            return Err(format!("`{path}` refers to unknown policy `{r}`"));
        }
        for (a, v) in &e.attributes {
            if v.ty == ValueType::Enum && v.values.is_empty() {
                return Err(format!("`{path}@{a}` is an enum without values"));
            }
        }
        for group in e.one_of.iter().chain(&e.any_of).chain(&e.exclusive) {
            for a in group {
                if !e.attributes.contains_key(a) {
                    return Err(format!("`{path}` groups unknown attribute `{a}`"));
                }
            }
        }
        if e.content == Content::Text && e.text.is_none() {
            return Err(format!("`{path}` holds text but does not say its type"));
        }
        for (c, child) in &e.children {
            self.validate_element(&format!("{path}/{c}"), &child.element)?;
        }
        Ok(())
    }
}
