//! Turnpike's front end: it reads APIM policy documents exactly as people write them.
//!
//! * [`scan`]: a tolerant pre-pass (logos lexers for the XML state and for C# tokens) that
//!   finds every `@(...)` / `@{...}` and masks it with filler of the same length;
//! * [`xml`]: quick-xml reads the masked text into a [`tree::Document`] whose every element,
//!   attribute and value keeps its byte span in the original file;
//! * [`parser`]: the pest grammar `grammar/expr.pest` for the C# subset APIM accepts, and the
//!   builder of the [`ast`];
//! * [`printer`]: prints an AST back as source;
//! * [`files`]: finds the policy files of a path.
//!
//! Nothing here knows about HTTP, async runtimes or code generation.

pub mod ast;
pub mod files;
pub mod named_values;
pub mod offsets;
pub mod parser;
pub mod printer;
pub mod scan;
pub mod tree;
pub mod xml;

pub use named_values::{Resolved, parse_document_with};
pub use tree::{Document, ExprBody};
pub use xml::{parse_document, parse_document_mapped};
