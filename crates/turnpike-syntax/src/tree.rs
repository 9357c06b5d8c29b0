//! The element tree of a policy document. Every element, attribute and value keeps its byte
//! span in the original file.

use turnpike_diagnostics::{FileId, Span};

use crate::ast::{Block, Expr};
use crate::offsets::OffsetMap;
use crate::scan::NamedValueRef;

/// One policy file as the front end read it.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file.
    pub file: FileId,
    /// The root element (`policies`, `fragment`, ...), if the file had one.
    pub root: Option<Element>,
}

impl Document {
    /// Every expression value in document order.
    pub fn expressions(&self) -> Vec<&Expression> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            root.walk_values(&mut |v| {
                if let ValueKind::Expression(e) = &v.kind {
                    out.push(&**e);
                }
            });
        }
        out
    }
}

/// An XML element.
#[derive(Clone, Debug)]
pub struct Element {
    /// The qualified name as written (`set-header`, `xsl:stylesheet`).
    pub name: String,
    /// Where the name is.
    pub name_span: Span,
    /// From `<` to the end of the end tag (or `/>`).
    pub span: Span,
    /// Attributes in source order.
    pub attrs: Vec<Attribute>,
    /// Child nodes in source order (whitespace-only text is dropped).
    pub children: Vec<Node>,
}

impl Element {
    /// The attribute called `name`.
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Text and CDATA values directly inside this element.
    pub fn texts(&self) -> impl Iterator<Item = &Value> {
        self.children.iter().filter_map(|n| match n {
            Node::Text(v) => Some(v),
            _ => None,
        })
    }

    /// Calls `f` on every value (attribute values and texts) of this element and below.
    pub fn walk_values<'a>(&'a self, f: &mut impl FnMut(&'a Value)) {
        for a in &self.attrs {
            f(&a.value);
        }
        for child in &self.children {
            match child {
                Node::Element(e) => e.walk_values(f),
                Node::Text(v) => f(v),
                Node::Comment(_) => {}
            }
        }
    }
}

/// A child of an element.
#[derive(Clone, Debug)]
pub enum Node {
    /// A nested element.
    Element(Element),
    /// Text or a CDATA section that is not only whitespace.
    Text(Value),
    /// An XML comment.
    Comment(Span),
}

/// `name="value"`.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// The name as written.
    pub name: String,
    /// Where the name is.
    pub name_span: Span,
    /// The value, between the quotes.
    pub value: Value,
}

/// An attribute value or a text node.
#[derive(Clone, Debug)]
pub struct Value {
    /// The raw value in the file (inside the quotes; the content of a CDATA section).
    pub span: Span,
    /// The value with entities decoded (CDATA as is). For an expression, its code.
    pub text: String,
    /// Literal, expression, or a mix that APIM reads as literal text.
    pub kind: ValueKind,
    /// `{{name}}` references inside the value.
    pub named_values: Vec<NamedValueRef>,
    /// Whether the value is a CDATA section.
    pub cdata: bool,
}

impl Value {
    /// The expression, if the whole value is one.
    pub fn expression(&self) -> Option<&Expression> {
        match &self.kind {
            ValueKind::Expression(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the value holds a `{{name}}` placeholder (literal checks do not apply then).
    pub fn has_named_values(&self) -> bool {
        !self.named_values.is_empty()
    }
}

/// What a value is.
#[derive(Clone, Debug)]
pub enum ValueKind {
    /// Plain text.
    Literal,
    /// The whole (trimmed) value is `@(...)` or `@{...}`.
    Expression(Box<Expression>),
    /// Literal text with an expression inside; APIM takes all of it as text.
    Mixed,
}

/// Which form an expression has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprForm {
    /// `@( expression )`
    Single,
    /// `@{ statements }`
    Block,
}

/// A policy expression.
#[derive(Clone, Debug)]
pub struct Expression {
    /// From `@` to the closing bracket, in the file.
    pub span: Span,
    /// `@(` or `@{`.
    pub form: ExprForm,
    /// The code as parsed: `@(`…`)` included, entities decoded.
    pub code: String,
    /// Offsets in `code` to offsets in the file.
    pub map: OffsetMap,
    /// The syntax tree, when the code parsed.
    pub body: Option<ExprBody>,
}

/// The parsed content of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprBody {
    /// The expression of `@( ... )`.
    Expr(Expr),
    /// The statements of `@{ ... }`.
    Block(Block),
}
