//! The registry of diagnostic codes: the only place codes are defined.
//!
//! Every code has a stable id (`TP` and four digits), a stable kebab-case name, a default
//! severity and a one-line summary. `spec/07-errors.md` documents each one with an example; a
//! test keeps the two in step. Ids and names are never reused or renamed.
//!
//! Ranges: `TP00xx` files and configuration, `TP01xx` XML and expression scanning, `TP02xx`
//! expression syntax, `TP03xx` named values, `TP04xx` policy documents against the catalog,
//! `TP05xx` expression semantics, `TP06xx` artifact folders.

use serde::Serialize;

/// How serious a diagnostic is. Errors make `lint` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed; APIM would reject the document or fail at run time.
    Error,
    /// Worth a look; the document still loads.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One registry entry.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// Stable id such as `TP0101`.
    pub id: &'static str,
    /// Stable kebab-case name such as `malformed-xml`.
    pub name: &'static str,
    /// Severity unless configuration says otherwise.
    pub severity: Severity,
    /// What the code means, in one line.
    pub summary: &'static str,
}

macro_rules! registry {
    ($( $(#[$doc:meta])* $konst:ident = ($id:literal, $name:literal, $sev:ident, $summary:literal); )*) => {
        $(
            $(#[$doc])*
            pub static $konst: Code = Code {
                id: $id,
                name: $name,
                severity: Severity::$sev,
                summary: $summary,
            };
        )*
        /// Every code, in id order.
        pub static ALL: &[&Code] = &[$(&$konst),*];
    };
}

registry! {
    /// A file could not be read or is not UTF-8 text.
    UNREADABLE_FILE = ("TP0001", "unreadable-file", Error,
        "a file could not be read, or is not UTF-8 text");
    /// `turnpike.toml` cannot be read or names an unknown code or severity.
    INVALID_CONFIG = ("TP0002", "invalid-config", Error,
        "`turnpike.toml` is not valid: bad TOML, an unknown code or an unknown severity");
    /// `<!-- turnpike-ignore: name -->` naming no known code.
    UNKNOWN_SUPPRESSION = ("TP0003", "unknown-suppression", Warning,
        "a `turnpike-ignore` comment names a code that does not exist");
    /// The document is not XML even after expressions are masked.
    MALFORMED_XML = ("TP0101", "malformed-xml", Error,
        "the document is not well-formed XML once its expressions are set aside");
    /// `@(` or `@{` without its closing bracket.
    UNTERMINATED_EXPRESSION = ("TP0102", "unterminated-expression", Error,
        "a policy expression `@(` or `@{` has no closing bracket");
    /// A string, character literal or comment inside an expression runs to the end.
    UNTERMINATED_LITERAL = ("TP0103", "unterminated-literal", Error,
        "a string, character literal or comment in an expression is not closed");
    /// A closing bracket in an expression that does not match the open one.
    MISMATCHED_BRACKET = ("TP0104", "mismatched-bracket", Error,
        "a closing bracket in an expression does not match the bracket it closes");
    /// Literal text next to an expression in one value.
    MIXED_EXPRESSION_VALUE = ("TP0105", "mixed-expression-value", Warning,
        "a value mixes literal text with a policy expression, so APIM treats it all as literal text");
    /// The expression does not follow the grammar.
    EXPRESSION_SYNTAX = ("TP0201", "expression-syntax", Error,
        "a policy expression does not follow the C# grammar APIM accepts");
    /// An escape sequence C# does not know.
    INVALID_ESCAPE = ("TP0202", "invalid-escape", Error,
        "a string or character literal holds an escape sequence C# does not define");
    /// A numeric literal that is malformed or out of range.
    INVALID_NUMBER = ("TP0203", "invalid-number", Error,
        "a numeric literal is malformed or does not fit its type");
    /// A character literal that does not hold exactly one character.
    INVALID_CHAR_LITERAL = ("TP0204", "invalid-char-literal", Error,
        "a character literal does not hold exactly one UTF-16 code unit");
    /// Nesting beyond the parser's limit.
    EXPRESSION_TOO_DEEP = ("TP0205", "expression-too-deep", Error,
        "an expression nests brackets or type arguments deeper than the limit");
    /// Assignment to something that is not a variable, member or indexer.
    INVALID_ASSIGNMENT_TARGET = ("TP0206", "invalid-assignment-target", Error,
        "the left side of an assignment or increment is not a variable, member or indexer");
    /// `@()` or `@{}` with nothing inside.
    EMPTY_EXPRESSION = ("TP0207", "empty-expression", Error,
        "a policy expression holds no code");
    /// `'abc'`: read as a string, though C# rejects it.
    MULTI_CHAR_LITERAL = ("TP0208", "multi-char-literal", Warning,
        "a character literal holds more than one character; C# rejects it, Turnpike reads it as a string");
    /// `"a""b"` in a regular string: read as a quote, though C# ends the string there.
    DOUBLED_QUOTE_IN_STRING = ("TP0209", "doubled-quote-in-string", Warning,
        "a regular string holds `\"\"`; C# ends the string there, Turnpike reads it as one quote");
    /// A `{{name}}` whose value is not known.
    UNRESOLVED_NAMED_VALUE = ("TP0301", "unresolved-named-value", Warning,
        "a named value `{{name}}` has no known value, so it stays a placeholder");
    /// `{{` that does not form a named-value reference.
    MALFORMED_NAMED_VALUE = ("TP0302", "malformed-named-value", Warning,
        "a typed value holds `{{` that does not form a named-value reference `{{name}}`");
    /// A `{{name}}` that an artifact folder does not define.
    UNKNOWN_NAMED_VALUE = ("TP0303", "unknown-named-value", Error,
        "a named value `{{name}}` is not defined in the artifact folder, its overrides or the environment");
    /// The root element is neither `policies` nor `fragment`.
    INVALID_ROOT = ("TP0401", "invalid-root", Error,
        "a policy document's root element is not `<policies>` or `<fragment>`");
    /// A child of `<policies>` that is not a section.
    UNKNOWN_SECTION = ("TP0402", "unknown-section", Error,
        "`<policies>` holds an element that is not `inbound`, `backend`, `outbound` or `on-error`");
    /// A section given twice.
    DUPLICATE_SECTION = ("TP0403", "duplicate-section", Error,
        "a section appears twice in one policy document");
    /// Sections not in the order inbound, backend, outbound, on-error.
    SECTIONS_OUT_OF_ORDER = ("TP0404", "sections-out-of-order", Warning,
        "sections are not in the order `inbound`, `backend`, `outbound`, `on-error`");
    /// An element where a policy is expected that is no APIM policy.
    UNKNOWN_POLICY = ("TP0405", "unknown-policy", Error,
        "an element where a policy statement stands is not an APIM policy");
    /// A child element a policy does not take.
    UNKNOWN_ELEMENT = ("TP0406", "unknown-element", Error,
        "a policy holds a child element it does not take");
    /// An attribute the element does not take.
    UNKNOWN_ATTRIBUTE = ("TP0407", "unknown-attribute", Error,
        "an element has an attribute it does not take");
    /// A required attribute is missing.
    MISSING_ATTRIBUTE = ("TP0408", "missing-attribute", Error,
        "a required attribute is not given");
    /// Attributes that exclude each other are given together.
    CONFLICTING_ATTRIBUTES = ("TP0409", "conflicting-attributes", Error,
        "attributes of which only one may be given are given together");
    /// A literal value that does not fit the attribute's type.
    INVALID_VALUE = ("TP0410", "invalid-value", Error,
        "a literal attribute value or text does not fit its type (integer, boolean, enumeration, URL, ...)");
    /// A policy expression where the policy allows none.
    EXPRESSION_NOT_ALLOWED = ("TP0411", "expression-not-allowed", Error,
        "a policy expression stands where the policy accepts only a literal");
    /// A policy in a section that does not allow it.
    WRONG_SECTION = ("TP0412", "wrong-section", Error,
        "a policy stands in a section where APIM does not allow it");
    /// A policy at a scope that does not allow it.
    WRONG_SCOPE = ("TP0413", "wrong-scope", Error,
        "a policy stands at a scope (global, product, API, operation) where APIM does not allow it");
    /// `<base/>` where it cannot stand, or with content.
    MISPLACED_BASE = ("TP0414", "misplaced-base", Error,
        "`<base/>` stands outside a section, twice in one section, in a fragment, or has content");
    /// A policy that may appear once appears again.
    DUPLICATE_POLICY = ("TP0415", "duplicate-policy", Error,
        "a policy that may appear once per section or per document appears again");
    /// A child element above its maximum count.
    TOO_MANY_ELEMENTS = ("TP0416", "too-many-elements", Error,
        "a child element appears more often than its policy allows");
    /// A required child element is missing.
    MISSING_ELEMENT = ("TP0417", "missing-element", Error,
        "a child element the policy requires is missing");
    /// Text where the element takes none.
    UNEXPECTED_TEXT = ("TP0418", "unexpected-text", Error,
        "an element that holds elements only holds text");
    /// Child elements not in the documented order.
    ELEMENT_ORDER = ("TP0419", "element-order", Warning,
        "child elements are not in the order the policy documents");
    /// A known APIM policy that Turnpike does not run.
    UNSUPPORTED_POLICY = ("TP0420", "unsupported-policy", Warning,
        "a known APIM policy that Turnpike's gateway does not run; a call that reaches it fails");
    /// A construct the type checker cannot model yet.
    UNSUPPORTED_EXPRESSION = ("TP0501", "unsupported-expression", Warning,
        "an expression uses a construct Turnpike cannot evaluate yet");
    /// A name that is no local variable, parameter, type or namespace in scope.
    UNKNOWN_NAME = ("TP0502", "unknown-name", Error,
        "a name that is no local variable, parameter, type or namespace in scope");
    /// A type that is not in the type model: unknown, or outside APIM's allowed types.
    UNKNOWN_TYPE = ("TP0503", "unknown-type", Error,
        "a type that is not in the type model: unknown, or outside APIM's allowed types");
    /// A type has no member of that name.
    UNKNOWN_MEMBER = ("TP0504", "unknown-member", Error,
        "a type has no member of that name");
    /// No overload of a method, constructor or indexer takes these arguments.
    NO_OVERLOAD = ("TP0505", "no-overload", Error,
        "no overload of a method, constructor or indexer takes these arguments");
    /// An argument's type does not convert to the parameter's.
    ARGUMENT_TYPE = ("TP0506", "argument-type", Error,
        "an argument's type does not convert to the parameter's");
    /// Two overloads fit the arguments equally well.
    AMBIGUOUS_CALL = ("TP0507", "ambiguous-call", Error,
        "two overloads fit the arguments equally well");
    /// A value cannot be converted implicitly to the type its place needs.
    BAD_CONVERSION = ("TP0508", "bad-conversion", Error,
        "a value cannot be converted implicitly to the type its place needs");
    /// An explicit cast between types that never convert.
    INVALID_CAST = ("TP0509", "invalid-cast", Error,
        "an explicit cast between types that never convert");
    /// An operator cannot be applied to operands of these types.
    OPERATOR_TYPE = ("TP0510", "operator-type", Error,
        "an operator cannot be applied to operands of these types");
    /// Not every code path of a block or lambda returns a value.
    MISSING_RETURN = ("TP0511", "missing-return", Error,
        "not every code path of a block or lambda returns a value");
    /// A local variable is read before it is definitely assigned.
    UNASSIGNED_VARIABLE = ("TP0512", "unassigned-variable", Error,
        "a local variable is read before it is definitely assigned");
    /// A local variable or parameter is declared twice in the same scope.
    DUPLICATE_VARIABLE = ("TP0513", "duplicate-variable", Error,
        "a local variable or parameter is declared twice in the same scope");
    /// A condition (`if`, `while`, `?:`, `&&`, `!`) is not a `bool`.
    CONDITION_TYPE = ("TP0514", "condition-type", Error,
        "a condition (`if`, `while`, `?:`, `&&`, `!`) is not a `bool`");
    /// An expression's type does not fit the attribute or element that receives it.
    ATTRIBUTE_TYPE = ("TP0515", "attribute-type", Error,
        "an expression's type does not fit the attribute or element that receives it");
    /// The result of a method that returns nothing is used as a value.
    VOID_VALUE = ("TP0516", "void-value", Error,
        "the result of a method that returns nothing is used as a value");
    /// Something that is not a method or delegate is called.
    NOT_INVOCABLE = ("TP0517", "not-invocable", Error,
        "something that is not a method or delegate is called");
    /// `[]` is applied to a value that has no indexer.
    NOT_INDEXABLE = ("TP0518", "not-indexable", Error,
        "`[]` is applied to a value that has no indexer");
    /// An assignment to a read-only property, a constant, `context` or a value that is not a variable.
    READ_ONLY = ("TP0519", "read-only", Error,
        "an assignment to a read-only property, a constant, `context` or a value that is not a variable");
    /// A static member is reached through an instance, or an instance member through a type.
    STATIC_MISMATCH = ("TP0520", "static-mismatch", Error,
        "a static member is reached through an instance, or an instance member through a type");
    /// A generic type or method gets the wrong number of type arguments, or type arguments where none are taken.
    TYPE_ARGUMENTS = ("TP0521", "type-arguments", Error,
        "a generic type or method gets the wrong number of type arguments, or type arguments where none are taken");
    /// The type arguments of a generic method cannot be inferred from the arguments.
    CANNOT_INFER = ("TP0522", "cannot-infer", Error,
        "the type arguments of a generic method cannot be inferred from the arguments");
    /// A lambda does not fit the delegate its place needs (parameter count or result type).
    LAMBDA_MISMATCH = ("TP0523", "lambda-mismatch", Error,
        "a lambda does not fit the delegate its place needs (parameter count or result type)");
    /// `var` is initialized with `null`, a lambda, nothing, or a method group.
    CANNOT_INFER_VAR = ("TP0524", "cannot-infer-var", Error,
        "`var` is initialized with `null`, a lambda, nothing, or a method group");
    /// `break` or `continue` outside a loop or `switch`.
    MISPLACED_JUMP = ("TP0525", "misplaced-jump", Error,
        "`break` or `continue` outside a loop or `switch`");
    /// A `return` without a value in a block that must return one, or a value of the wrong type.
    RETURN_TYPE = ("TP0526", "return-type", Error,
        "a `return` without a value in a block that must return one, or a value of the wrong type");
    /// `null` is given to a type that cannot hold it (`int`, `bool`, `DateTime`, ...).
    NULL_TO_VALUE_TYPE = ("TP0527", "null-to-value-type", Error,
        "`null` is given to a type that cannot hold it (`int`, `bool`, `DateTime`, ...)");
    /// A literal or constant expression does not fit its type.
    CONSTANT_OVERFLOW = ("TP0528", "constant-overflow", Error,
        "a literal or constant expression does not fit its type");
    /// An integer or decimal division or remainder by the constant zero.
    DIVISION_BY_ZERO = ("TP0529", "division-by-zero", Error,
        "an integer or decimal division or remainder by the constant zero");
    /// An argument's `out`/`ref` modifier does not match its parameter, or an `out` argument is not a variable.
    ARGUMENT_MODE = ("TP0530", "argument-mode", Error,
        "an argument's `out`/`ref` modifier does not match its parameter, or an `out` argument is not a variable");
    /// `foreach` over a value that is not enumerable.
    NOT_ENUMERABLE = ("TP0531", "not-enumerable", Error,
        "`foreach` over a value that is not enumerable");
    /// `++` or `--` on a value that is not a numeric variable.
    INVALID_INCREMENT = ("TP0532", "invalid-increment", Error,
        "`++` or `--` on a value that is not a numeric variable");
    /// A `switch` section's end is reachable: control would fall through to the next label.
    CASE_FALLTHROUGH = ("TP0533", "case-fallthrough", Error,
        "a `switch` section's end is reachable: control would fall through to the next label");
    /// A named argument names no parameter, or names one twice.
    NAMED_ARGUMENT = ("TP0534", "named-argument", Error,
        "a named argument names no parameter, or names one twice");
    /// An expression statement that is not a call, assignment, increment or `new`.
    NOT_A_STATEMENT = ("TP0535", "not-a-statement", Error,
        "an expression statement that is not a call, assignment, increment or `new`");
    /// A `const` local or `case` label whose value is not a constant.
    NOT_CONSTANT = ("TP0536", "not-constant", Error,
        "a `const` local or `case` label whose value is not a constant");
    /// The branches of `?:` have no common type.
    CONDITIONAL_TYPES = ("TP0537", "conditional-types", Error,
        "the branches of `?:` have no common type");
    /// `throw` or `catch` with a type that is not an exception.
    THROW_TYPE = ("TP0538", "throw-type", Error,
        "`throw` or `catch` with a type that is not an exception");
    /// `?.` or `?[` on a value type that is never null.
    NULL_CONDITIONAL_VALUE = ("TP0539", "null-conditional-value", Error,
        "`?.` or `?[` on a value type that is never null");
    /// Code after `return`, `throw`, `break` or `continue` never runs.
    UNREACHABLE_CODE = ("TP0540", "unreachable-code", Warning,
        "code after `return`, `throw`, `break` or `continue` never runs");
    /// Two `case` labels of a `switch` have the same value.
    DUPLICATE_CASE = ("TP0541", "duplicate-case", Error,
        "two `case` labels of a `switch` have the same value");
    /// A .NET type that APIM does not allow in policy expressions (file system, network, threads, reflection).
    TYPE_NOT_ALLOWED = ("TP0542", "type-not-allowed", Error,
        "a .NET type that APIM does not allow in policy expressions (file system, network, threads, reflection)");
    /// `set-variable` stores a type outside the list APIM documents for context variables.
    SET_VARIABLE_TYPE = ("TP0543", "set-variable-type", Warning,
        "`set-variable` stores a type outside the list APIM documents for context variables");
    /// A comparison of a value type with `null` that is always true or always false.
    CONSTANT_CONDITION = ("TP0544", "constant-comparison", Warning,
        "a comparison of a value type with `null` that is always true or always false");
    /// An artifact information file that cannot be used.
    INVALID_ARTIFACT = ("TP0601", "invalid-artifact", Error,
        "an artifact information file (`apiInformation.json`, ...) is not JSON, or lacks or mistypes a property");
    /// A specification Turnpike cannot read (GraphQL, WSDL, WADL).
    UNSUPPORTED_SPECIFICATION = ("TP0602", "unsupported-specification", Warning,
        "an API's specification is GraphQL, WSDL or WADL, which Turnpike cannot serve; the rest of the folder still loads");
    /// A specification that is not a readable OpenAPI document.
    INVALID_SPECIFICATION = ("TP0603", "invalid-specification", Error,
        "an API's specification is not readable OpenAPI 2.0, 3.0 or 3.1 (YAML or JSON)");
    /// A link to an artifact that does not exist.
    UNKNOWN_REFERENCE = ("TP0604", "unknown-reference", Error,
        "an artifact refers to an API, product, version set or backend that the folder does not hold");
    /// `include-fragment` naming a fragment that does not exist.
    MISSING_FRAGMENT = ("TP0605", "missing-fragment", Error,
        "`include-fragment` names a fragment the artifact folder does not hold (a warning for loose files)");
    /// Fragments that include each other.
    FRAGMENT_CYCLE = ("TP0606", "fragment-cycle", Error,
        "policy fragments include each other in a cycle");
}

/// Looks a code up by id (`TP0101`) or name (`malformed-xml`).
pub fn lookup(key: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.id == key || c.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for c in ALL {
            assert!(ids.insert(c.id), "duplicate id {}", c.id);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            assert!(c.id.len() == 6 && c.id.starts_with("TP"), "{}", c.id);
            assert!(c.id[2..].bytes().all(|b| b.is_ascii_digit()), "{}", c.id);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "{}",
                c.name
            );
        }
        let mut sorted: Vec<_> = ALL.iter().map(|c| c.id).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, ALL.iter().map(|c| c.id).collect::<Vec<_>>());
    }

    #[test]
    fn lookup_by_id_and_name() {
        assert_eq!(lookup("TP0101"), Some(&MALFORMED_XML));
        assert_eq!(
            lookup("unresolved-named-value"),
            Some(&UNRESOLVED_NAMED_VALUE)
        );
        assert_eq!(lookup("nope"), None);
    }
}
