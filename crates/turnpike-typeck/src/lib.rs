//! The type checker: a policy expression's syntax tree to the typed IR, with C#'s static rules.
//!
//! One pass does both checking and lowering. Names resolve to locals, the implicit `context`,
//! library types or namespaces; members and overloads resolve against the type model
//! (`grammar/library.api`); implicit conversions become explicit IR nodes. Every error is a
//! diagnostic with a registry code, and checking goes on with [`Ty::Unknown`] so that one
//! mistake gives one diagnostic. A construct the checker cannot model yet gives one
//! `unsupported-expression` warning per expression and lowers to an IR node that throws
//! `NotSupportedException` when run.

use std::sync::Arc;

use turnpike_diagnostics::{Code, Diagnostic, Span, codes};
use turnpike_ir::ir::{Body, Expr, ExprKind, Local, LocalId, Stmt};
use turnpike_ir::{Library, Ty};
use turnpike_syntax::tree::ExprBody;

mod call;
mod conv;
mod expr;
mod flow;
mod literal;
mod member;
mod names;
mod new;
mod ops;
mod stmt;

pub use conv::{AttributeType, attribute_conversion};

/// The result of checking one expression.
#[derive(Debug)]
pub struct Checked {
    /// The lowered code (valid even with errors: erroneous parts throw when run).
    pub body: Body,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks a parsed `@( )` or `@{ }` body and lowers it to the IR.
pub fn check(body: &ExprBody) -> Checked {
    check_with(Library::get(), body)
}

/// Checks against a given library.
pub fn check_with(lib: &Library, body: &ExprBody) -> Checked {
    let mut c = Checker::new(lib);
    c.lenient_quotes = uses_single_quoted_strings(body);
    let (block, ty) = match body {
        ExprBody::Expr(e) => {
            let x = c.expr(e, None);
            let x = c.rvalue(x);
            let ty = x.ty.clone();
            (vec![Stmt::Return(Some(x))], ty)
        }
        ExprBody::Block(b) => {
            c.returns.push(ReturnCtx::Infer(Vec::new()));
            let stmts = c.top_block(b);
            let ty = match c.returns.pop() {
                Some(ReturnCtx::Infer(types)) => c.common_return_type(&types, b.span),
                _ => Ty::Unknown,
            };
            (stmts, ty)
        }
    };
    Checked {
        body: Body {
            locals: c.locals,
            block,
            ty,
        },
        diagnostics: c.diags,
    }
}

/// An enclosing loop or `switch`, for `break` and `continue`.
#[derive(Debug)]
pub(crate) struct Jump {
    pub(crate) is_loop: bool,
    /// The flow states at each `break`, merged.
    pub(crate) breaks: Option<flow::Flow>,
}

/// What `return` in the current function expects.
#[derive(Debug)]
pub(crate) enum ReturnCtx {
    /// A top-level block or a lambda whose result type is being inferred: collect the types.
    Infer(Vec<(Ty, Span)>),
    /// A lambda or local function with a known result type (`Void` for none).
    Known(Ty),
}

/// A lambda met as an argument before its parameter types are known.
#[derive(Debug)]
pub(crate) struct PendingLambda {
    pub(crate) params: Vec<turnpike_syntax::ast::LambdaParam>,
    pub(crate) body: turnpike_syntax::ast::LambdaBody,
    pub(crate) span: Span,
}

pub(crate) struct Checker<'l> {
    pub(crate) lib: &'l Library,
    pub(crate) locals: Vec<Local>,
    /// Visible names, innermost scope last.
    pub(crate) scopes: Vec<Vec<(String, LocalId)>>,
    /// Definite assignment: which locals hold a value on the current path.
    pub(crate) assigned: Vec<bool>,
    /// Whether the current point can be reached.
    pub(crate) reachable: bool,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) unsupported_reported: bool,
    pub(crate) returns: Vec<ReturnCtx>,
    /// Enclosing loops and switches: (is a loop, has a `break`).
    pub(crate) jumps: Vec<Jump>,
    pub(crate) lambdas: Vec<PendingLambda>,
    /// Whether errors are being collected for a trial (overload resolution); nothing is
    /// reported while positive.
    pub(crate) trial: u32,
    pub(crate) trial_failed: bool,
    /// Syntax nodes already lowered (receivers of `?.`), by address.
    pub(crate) subst: Vec<(*const turnpike_syntax::ast::Expr, Expr)>,
    /// `?.` nodes being lowered, read as plain `.` meanwhile.
    pub(crate) nc_off: Vec<*const turnpike_syntax::ast::Expr>,
    /// Inside `checked(...)`: integer overflow throws.
    pub(crate) checked: bool,
    /// Loop bodies around the current point.
    pub(crate) loop_depth: u32,
    /// Locals declared `const`.
    pub(crate) const_locals: Vec<LocalId>,
    /// The loop depth each local was declared at.
    pub(crate) local_loop_depth: Vec<u32>,
    /// Inside `unchecked(...)`: constant overflow is allowed.
    pub(crate) unchecked_context: bool,
    /// Checking the callee of a call: properties are not candidates.
    pub(crate) invoking: bool,
    /// The expression writes strings in single quotes (warned by the parser): a one-character
    /// `'x'` is then read as a string where a string is needed.
    pub(crate) lenient_quotes: bool,
}

impl<'l> Checker<'l> {
    fn new(lib: &'l Library) -> Self {
        Checker {
            lib,
            locals: Vec::new(),
            scopes: vec![Vec::new()],
            assigned: Vec::new(),
            reachable: true,
            diags: Vec::new(),
            unsupported_reported: false,
            returns: Vec::new(),
            jumps: Vec::new(),
            lambdas: Vec::new(),
            trial: 0,
            trial_failed: false,
            subst: Vec::new(),
            nc_off: Vec::new(),
            checked: false,
            invoking: false,
            unchecked_context: false,
            loop_depth: 0,
            const_locals: Vec::new(),
            local_loop_depth: Vec::new(),
            lenient_quotes: false,
        }
    }

    /// Reports an error or warning (suppressed during trials, which only record failure).
    pub(crate) fn report(&mut self, d: Diagnostic) {
        if self.trial > 0 {
            if d.is_error() {
                self.trial_failed = true;
            }
            return;
        }
        self.diags.push(d);
    }

    pub(crate) fn error(
        &mut self,
        code: &'static Code,
        span: Span,
        message: String,
    ) -> DiagBuilder<'_, 'l> {
        DiagBuilder {
            c: self,
            d: Some(Diagnostic::new(code, span, message)),
        }
    }

    /// Reports a construct the checker cannot model, once per expression.
    pub(crate) fn unsupported(&mut self, span: Span, what: &str) -> Expr {
        if !self.unsupported_reported && self.trial == 0 {
            self.unsupported_reported = true;
            self.diags.push(
                Diagnostic::new(
                    &codes::UNSUPPORTED_EXPRESSION,
                    span,
                    format!("Turnpike cannot evaluate {what} yet"),
                )
                .with_label("not modelled yet")
                .with_help("Turnpike checks the rest of the expression; a call that evaluates this part fails with `NotSupportedException`"),
            );
        }
        Expr {
            kind: ExprKind::Unsupported(Arc::from(what)),
            ty: Ty::Unknown,
            span,
        }
    }

    /// An expression of unknown type that throws when run, after an error.
    pub(crate) fn poisoned(&self, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Unsupported(Arc::from("an expression with a type error")),
            ty: Ty::Unknown,
            span,
        }
    }

    pub(crate) fn new_local(&mut self, name: &str, ty: Ty) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push(Local {
            name: name.to_string(),
            ty,
        });
        self.local_loop_depth.push(self.loop_depth);
        self.assigned.push(false);
        id
    }

    /// A temporary slot, definitely assigned.
    pub(crate) fn temp(&mut self, ty: Ty) -> LocalId {
        let id = self.new_local("$t", ty);
        self.assigned[id.0 as usize] = true;
        id
    }

    pub(crate) fn lookup_local(&self, name: &str) -> Option<LocalId> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    pub(crate) fn ty_name(&self, ty: &Ty) -> String {
        ty.display(self.lib).to_string()
    }

    fn common_return_type(&mut self, types: &[(Ty, Span)], _span: Span) -> Ty {
        let mut best: Option<Ty> = None;
        for (t, _) in types {
            best = Some(match best {
                None => t.clone(),
                Some(b) => self.unify_branches(&b, t).unwrap_or(Ty::Object),
            });
        }
        best.unwrap_or(Ty::Unknown)
    }
}

/// Adds labels and help to a diagnostic, then reports it when dropped.
pub(crate) struct DiagBuilder<'c, 'l> {
    c: &'c mut Checker<'l>,
    d: Option<Diagnostic>,
}

impl DiagBuilder<'_, '_> {
    pub(crate) fn label(mut self, text: impl Into<String>) -> Self {
        self.d = self.d.take().map(|d| d.with_label(text));
        self
    }

    pub(crate) fn help(mut self, text: impl Into<String>) -> Self {
        self.d = self.d.take().map(|d| d.with_help(text));
        self
    }
}

impl Drop for DiagBuilder<'_, '_> {
    fn drop(&mut self) {
        if let Some(d) = self.d.take() {
            self.c.report(d);
        }
    }
}

/// Whether the code holds a string literal written in single quotes.
fn uses_single_quoted_strings(body: &ExprBody) -> bool {
    let text = match body {
        ExprBody::Expr(e) => turnpike_syntax::printer::print_expr(e),
        ExprBody::Block(b) => turnpike_syntax::printer::print_body(&ExprBody::Block(b.clone())),
    };
    // A single-quoted literal of two or more characters survives printing as written.
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' => {
                let end = text[i + 1..].find('\'').map(|e| i + 1 + e);
                if let Some(e) = end {
                    let inner = &text[i + 1..e];
                    if inner.chars().count() > 1 && !inner.starts_with('\\') {
                        return true;
                    }
                    i = e;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}
