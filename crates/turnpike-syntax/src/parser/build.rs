//! From pest's parse tree to the AST: precedence climbing for binary operators, literal
//! decoding, and the checks the grammar leaves to code (assignment targets, literal values,
//! tree depth).

use pest::iterators::Pair;
use turnpike_diagnostics::{Diagnostic, FileId, Span, codes};

use super::literals::{check_integer, check_real, decode_escapes, utf16_to_string};
use super::{MAX_TREE_DEPTH, Rule};
use crate::ast::*;
use crate::offsets::OffsetMap;
use crate::tree::ExprBody;

pub(super) fn build(
    file: FileId,
    map: &OffsetMap,
    root: Pair<'_, Rule>,
    block: bool,
) -> (Option<ExprBody>, Vec<Diagnostic>) {
    let mut b = Builder {
        file,
        map,
        diags: Vec::new(),
        failed: false,
        depth: 0,
    };
    // root: expression_root / block_root > policy_expression / policy_block
    let Some(policy) = root
        .into_inner()
        .find(|p| matches!(p.as_rule(), Rule::policy_expression | Rule::policy_block))
    else {
        return (None, b.diags);
    };
    let span = b.span(&policy);
    let body = if block {
        let stmts = policy.into_inner().map(|p| b.statement(p)).collect();
        ExprBody::Block(Block { stmts, span })
    } else {
        match policy.into_inner().next() {
            Some(e) => ExprBody::Expr(b.expression(e)),
            None => return (None, b.diags),
        }
    };
    let ok = !b.failed;
    (ok.then_some(body), b.diags)
}

struct Builder<'m> {
    file: FileId,
    map: &'m OffsetMap,
    diags: Vec<Diagnostic>,
    failed: bool,
    depth: usize,
}

type P<'i> = Pair<'i, Rule>;

fn is_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_if
            | Rule::kw_else
            | Rule::kw_while
            | Rule::kw_do
            | Rule::kw_for
            | Rule::kw_foreach
            | Rule::kw_in
            | Rule::kw_return
            | Rule::kw_throw
            | Rule::kw_break
            | Rule::kw_continue
            | Rule::kw_switch
            | Rule::kw_case
            | Rule::kw_default
            | Rule::kw_try
            | Rule::kw_catch
            | Rule::kw_finally
            | Rule::kw_when
            | Rule::kw_new
            | Rule::kw_is
            | Rule::kw_as
            | Rule::kw_out
            | Rule::kw_ref
            | Rule::kw_typeof
            | Rule::kw_checked
            | Rule::kw_unchecked
            | Rule::kw_nameof
            | Rule::kw_using
            | Rule::kw_void
    )
}

/// The children of a pair, keywords left out.
fn kids(p: P<'_>) -> Vec<P<'_>> {
    p.into_inner()
        .filter(|c| !is_keyword(c.as_rule()))
        .collect()
}

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Builder<'_> {
    /// The pair's span in the file, without trailing whitespace.
    fn span(&self, p: &P<'_>) -> Span {
        let s = p.as_span();
        let end = s.start() + p.as_str().trim_end().len();
        Span::new(self.file, self.map.to_raw(s.start()), self.map.to_raw(end))
    }

    fn sub_span(&self, p: &P<'_>, start: usize, end: usize) -> Span {
        let s = p.as_span().start();
        Span::new(
            self.file,
            self.map.to_raw(s + start),
            self.map.to_raw(s + end),
        )
    }

    fn error(&mut self, d: Diagnostic) {
        self.failed = true;
        self.diags.push(d);
    }

    fn ident(&self, p: &P<'_>) -> Ident {
        let text = p.as_str();
        Ident {
            name: text.strip_prefix('@').unwrap_or(text).to_string(),
            span: self.span(p),
        }
    }

    /// A placeholder for a subtree that could not be built (its error is already reported).
    fn dummy(&self, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Literal(Literal::Null),
            span,
        }
    }

    fn too_deep(&mut self, span: Span) {
        self.error(
            Diagnostic::new(
                &codes::EXPRESSION_TOO_DEEP,
                span,
                format!("policy expression is too deeply nested: its syntax tree exceeds {MAX_TREE_DEPTH} levels"),
            )
            .with_help("split long chains of operators with `set-variable` or local variables"),
        );
    }

    // ------------------------------------------------------------ expressions

    fn expression(&mut self, p: P<'_>) -> Expr {
        self.depth += 1;
        let e = self.expression_inner(p);
        self.depth -= 1;
        e
    }

    fn expression_inner(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        if self.depth > MAX_TREE_DEPTH {
            self.too_deep(span);
            return self.dummy(span);
        }
        let mut it = kids(p).into_iter();
        let Some(first) = it.next() else {
            return self.dummy(span);
        };
        match first.as_rule() {
            Rule::lambda => self.lambda(first),
            Rule::conditional => {
                let lhs = self.conditional(first);
                match (it.next(), it.next()) {
                    (Some(op), Some(rhs)) => {
                        let op = assign_op(op.as_str());
                        let value = self.expression(rhs);
                        self.check_assignable(&lhs, "assignment");
                        Expr {
                            kind: ExprKind::Assign {
                                op,
                                target: boxed(lhs),
                                value: boxed(value),
                            },
                            span,
                        }
                    }
                    _ => lhs,
                }
            }
            _ => self.dummy(span),
        }
    }

    fn check_assignable(&mut self, target: &Expr, what: &str) {
        let ok = match &target.kind {
            ExprKind::Name { type_args, .. } => type_args.is_empty(),
            ExprKind::Member {
                null_conditional, ..
            } => !null_conditional,
            ExprKind::Index {
                null_conditional, ..
            } => !null_conditional,
            ExprKind::Paren(inner) => {
                return self.check_assignable(inner, what);
            }
            ExprKind::NamedValue(_) => true,
            _ => false,
        };
        if !ok {
            self.error(
                Diagnostic::new(
                    &codes::INVALID_ASSIGNMENT_TARGET,
                    target.span,
                    format!("the target of this {what} is not a variable, member or indexer"),
                )
                .with_help("assign to a local variable declared in the `@{ ... }` block; `context` is read-only, change the request with policies such as `set-header`"),
            );
        }
    }

    fn lambda(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let mut params = Vec::new();
        let mut body = LambdaBody::Expr(boxed(self.dummy(span)));
        for k in kids(p) {
            match k.as_rule() {
                Rule::lambda_parameters => {
                    for lp in kids(k) {
                        match lp.as_rule() {
                            Rule::identifier => params.push(LambdaParam {
                                ty: None,
                                name: self.ident(&lp),
                            }),
                            Rule::lambda_parameter => {
                                let parts = kids(lp);
                                match parts.as_slice() {
                                    [name] => params.push(LambdaParam {
                                        ty: None,
                                        name: self.ident(name),
                                    }),
                                    [ty, name] => {
                                        let ty = self.type_ref(ty.clone());
                                        params.push(LambdaParam {
                                            ty: Some(ty),
                                            name: self.ident(name),
                                        });
                                    }
                                    _ => {}
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Rule::block => body = LambdaBody::Block(self.block(k)),
                Rule::expression => body = LambdaBody::Expr(boxed(self.expression(k))),
                _ => {}
            }
        }
        Expr {
            kind: ExprKind::Lambda { params, body },
            span,
        }
    }

    fn conditional(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let mut it = kids(p).into_iter();
        let Some(first) = it.next() else {
            return self.dummy(span);
        };
        let cond = self.binary(first);
        match (it.next(), it.next()) {
            (Some(t), Some(e)) => {
                let then = self.expression(t);
                let otherwise = self.expression(e);
                Expr {
                    kind: ExprKind::Conditional {
                        cond: boxed(cond),
                        then: boxed(then),
                        otherwise: boxed(otherwise),
                    },
                    span,
                }
            }
            _ => cond,
        }
    }

    /// Folds `unary (op unary | type-test)*` by precedence with explicit stacks (no
    /// recursion per operator, so long chains cannot exhaust the stack).
    fn binary(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let items = kids(p);
        let ops = items.len() / 2;
        if self.depth + ops > MAX_TREE_DEPTH {
            self.too_deep(span);
            return self.dummy(span);
        }
        let mut operands: Vec<Expr> = Vec::new();
        let mut operators: Vec<BinaryOp> = Vec::new();
        for item in items {
            match item.as_rule() {
                Rule::unary => {
                    let e = self.unary(item);
                    operands.push(e);
                }
                Rule::type_test => {
                    // Postfix at relational precedence: reduce tighter or equal operators first.
                    while operators
                        .last()
                        .is_some_and(|top| top.precedence() >= RELATIONAL_PRECEDENCE)
                    {
                        reduce(&mut operands, &mut operators);
                    }
                    let operand = operands.pop().unwrap_or_else(|| self.dummy(span));
                    let e = self.type_test(item, operand);
                    operands.push(e);
                }
                rule => {
                    let op = binary_op(rule);
                    while operators.last().is_some_and(|&top| {
                        top.precedence() > op.precedence()
                            || (top.precedence() == op.precedence() && !op.right_associative())
                    }) {
                        reduce(&mut operands, &mut operators);
                    }
                    operators.push(op);
                }
            }
        }
        while !operators.is_empty() {
            reduce(&mut operands, &mut operators);
        }
        operands.pop().unwrap_or_else(|| self.dummy(span))
    }

    fn type_test(&mut self, p: P<'_>, operand: Expr) -> Expr {
        let Some(inner) = kids(p).into_iter().next() else {
            return operand;
        };
        let end = self.span(&inner);
        let span = operand.span.to(end);
        match inner.as_rule() {
            Rule::as_type => {
                let ty = kids(inner).into_iter().next().map(|t| self.type_ref(t));
                match ty {
                    Some(ty) => Expr {
                        kind: ExprKind::As {
                            operand: boxed(operand),
                            ty,
                        },
                        span,
                    },
                    None => operand,
                }
            }
            _ => {
                let pattern = kids(inner).into_iter().next().map(|pat| self.pattern(pat));
                match pattern {
                    Some(pattern) => Expr {
                        kind: ExprKind::Is {
                            operand: boxed(operand),
                            pattern: Box::new(pattern),
                        },
                        span,
                    },
                    None => operand,
                }
            }
        }
    }

    fn pattern(&mut self, p: P<'_>) -> Pattern {
        let parts = kids(p);
        let negated = parts
            .first()
            .is_some_and(|k| k.as_rule() == Rule::not_keyword);
        let mut rest = parts
            .into_iter()
            .filter(|k| k.as_rule() != Rule::not_keyword);
        let inner = match rest.next() {
            Some(lit) if lit.as_rule() == Rule::literal => Pattern::Constant(self.literal(lit)),
            Some(ty) => {
                let ty = self.type_ref(ty);
                let binding = rest.next().map(|b| self.ident(&b));
                Pattern::Type { ty, binding }
            }
            None => Pattern::Constant(Expr {
                kind: ExprKind::Literal(Literal::Null),
                span: Span::default(),
            }),
        };
        if negated {
            Pattern::Not(Box::new(inner))
        } else {
            inner
        }
    }

    fn unary(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let mut items = kids(p);
        if self.depth + items.len() > MAX_TREE_DEPTH {
            self.too_deep(span);
            return self.dummy(span);
        }
        let Some(primary) = items.pop() else {
            return self.dummy(Span::default());
        };
        let mut e = self.primary(primary);
        for pre in items.into_iter().rev() {
            let Some(op) = kids(pre).into_iter().next() else {
                continue;
            };
            let span = self.span(&op).to(e.span);
            let kind = match op.as_rule() {
                Rule::cast => {
                    let ty = kids(op).into_iter().next().map(|t| self.type_ref(t));
                    match ty {
                        Some(ty) => ExprKind::Cast {
                            ty,
                            operand: boxed(e),
                        },
                        None => continue,
                    }
                }
                rule => {
                    let op = match rule {
                        Rule::pre_increment => UnaryOp::PreIncrement,
                        Rule::pre_decrement => UnaryOp::PreDecrement,
                        Rule::unary_plus => UnaryOp::Plus,
                        Rule::unary_minus => UnaryOp::Minus,
                        Rule::logical_not => UnaryOp::Not,
                        _ => UnaryOp::BitNot,
                    };
                    if matches!(op, UnaryOp::PreIncrement | UnaryOp::PreDecrement) {
                        self.check_assignable(&e, "increment or decrement");
                    }
                    ExprKind::Unary {
                        op,
                        operand: boxed(e),
                    }
                }
            };
            e = Expr { kind, span };
        }
        e
    }

    fn primary(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let items = kids(p);
        if self.depth + items.len() > MAX_TREE_DEPTH {
            self.too_deep(span);
            return self.dummy(span);
        }
        let mut items = items.into_iter();
        let Some(head) = items.next() else {
            return self.dummy(span);
        };
        let mut e = if head.as_rule() == Rule::predefined_type {
            Expr {
                kind: ExprKind::PredefinedType(head.as_str().to_string()),
                span: self.span(&head),
            }
        } else {
            self.primary_head(head)
        };
        for sel in items {
            let s = if sel.as_rule() == Rule::selector {
                match kids(sel).into_iter().next() {
                    Some(s) => s,
                    None => continue,
                }
            } else {
                sel
            };
            let span = e.span.to(self.span(&s));
            let kind = match s.as_rule() {
                Rule::member_access | Rule::null_conditional_member => {
                    let null_conditional = s.as_rule() == Rule::null_conditional_member;
                    let mut parts = kids(s).into_iter();
                    let name = parts.next().map(|n| self.ident(&n));
                    let type_args = parts
                        .next()
                        .map(|g| self.generic_args(g))
                        .unwrap_or_default();
                    match name {
                        Some(name) => ExprKind::Member {
                            target: boxed(e),
                            name,
                            type_args,
                            null_conditional,
                        },
                        None => continue,
                    }
                }
                Rule::invocation => {
                    let args = kids(s)
                        .into_iter()
                        .next()
                        .map(|a| self.arguments(a))
                        .unwrap_or_default();
                    ExprKind::Call {
                        callee: boxed(e),
                        args,
                    }
                }
                Rule::element_access | Rule::null_conditional_element => {
                    let null_conditional = s.as_rule() == Rule::null_conditional_element;
                    let args = kids(s)
                        .into_iter()
                        .next()
                        .map(|a| self.arguments(a))
                        .unwrap_or_default();
                    ExprKind::Index {
                        target: boxed(e),
                        args,
                        null_conditional,
                    }
                }
                rule => {
                    self.check_assignable(&e, "increment or decrement");
                    ExprKind::Postfix {
                        op: if rule == Rule::post_increment {
                            PostfixOp::Increment
                        } else {
                            PostfixOp::Decrement
                        },
                        operand: boxed(e),
                    }
                }
            };
            e = Expr { kind, span };
        }
        e
    }

    fn primary_head(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let Some(inner) = kids(p).into_iter().next() else {
            return self.dummy(span);
        };
        let kind = match inner.as_rule() {
            Rule::literal => return self.literal(inner),
            Rule::named_value => {
                let s = inner.as_str();
                ExprKind::NamedValue(s[2..s.len() - 2].to_string())
            }
            Rule::parenthesized => {
                let e = kids(inner)
                    .into_iter()
                    .next()
                    .map(|e| self.expression(e))
                    .unwrap_or_else(|| self.dummy(span));
                ExprKind::Paren(boxed(e))
            }
            Rule::object_creation => return self.object_creation(inner),
            Rule::typeof_expression => match kids(inner).into_iter().next() {
                Some(t) => ExprKind::TypeOf(self.type_ref(t)),
                None => return self.dummy(span),
            },
            Rule::default_expression => {
                ExprKind::Default(kids(inner).into_iter().next().map(|t| self.type_ref(t)))
            }
            Rule::checked_expression
            | Rule::unchecked_expression
            | Rule::nameof_expression
            | Rule::throw_expression => {
                let rule = inner.as_rule();
                let operand = kids(inner).into_iter().next();
                let e = match operand {
                    Some(o) if o.as_rule() == Rule::unary => self.unary(o),
                    Some(o) => self.expression(o),
                    None => self.dummy(span),
                };
                match rule {
                    Rule::checked_expression => ExprKind::Checked(boxed(e)),
                    Rule::unchecked_expression => ExprKind::Unchecked(boxed(e)),
                    Rule::nameof_expression => ExprKind::NameOf(boxed(e)),
                    _ => ExprKind::Throw(boxed(e)),
                }
            }
            Rule::this_access => ExprKind::This,
            Rule::simple_name => {
                let mut parts = kids(inner).into_iter();
                let name = match parts.next() {
                    Some(n) => self.ident(&n),
                    None => return self.dummy(span),
                };
                let type_args = parts
                    .next()
                    .map(|g| self.generic_args(g))
                    .unwrap_or_default();
                ExprKind::Name { name, type_args }
            }
            _ => return self.dummy(span),
        };
        Expr { kind, span }
    }

    fn generic_args(&mut self, p: P<'_>) -> Vec<TypeRef> {
        // generic_arguments > type_arguments > type_*
        match kids(p).into_iter().next() {
            Some(ta) => kids(ta).into_iter().map(|t| self.type_ref(t)).collect(),
            None => Vec::new(),
        }
    }

    fn arguments(&mut self, p: P<'_>) -> Vec<Arg> {
        kids(p).into_iter().map(|a| self.argument(a)).collect()
    }

    fn argument(&mut self, p: P<'_>) -> Arg {
        let span = self.span(&p);
        let mut name = None;
        let mut modifier = ArgModifier::None;
        let mut value = ArgValue::Expr(self.dummy(span));
        for k in kids(p) {
            match k.as_rule() {
                Rule::argument_name => {
                    name = kids(k).into_iter().next().map(|n| self.ident(&n));
                }
                Rule::out_argument => {
                    modifier = ArgModifier::Out;
                    if let Some(inner) = kids(k).into_iter().next() {
                        value = if inner.as_rule() == Rule::out_declaration {
                            let parts = kids(inner);
                            match parts.as_slice() {
                                [ty, n] => ArgValue::OutDecl {
                                    ty: self.type_ref(ty.clone()),
                                    name: self.ident(n),
                                },
                                _ => value,
                            }
                        } else {
                            let e = self.expression(inner);
                            self.check_assignable(&e, "`out` argument");
                            ArgValue::Expr(e)
                        };
                    }
                }
                Rule::ref_argument => {
                    modifier = if k.as_str().starts_with("ref") {
                        ArgModifier::Ref
                    } else {
                        ArgModifier::In
                    };
                    if let Some(inner) = kids(k).into_iter().next() {
                        value = ArgValue::Expr(self.expression(inner));
                    }
                }
                _ => value = ArgValue::Expr(self.expression(k)),
            }
        }
        Arg {
            name,
            modifier,
            value,
            span,
        }
    }

    // ------------------------------------------------------------ literals

    fn literal(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let Some(inner) = kids(p).into_iter().next() else {
            return self.dummy(span);
        };
        let raw = inner.as_str();
        let kind = match inner.as_rule() {
            Rule::bool_literal => ExprKind::Literal(Literal::Bool(raw == "true")),
            Rule::null_literal => ExprKind::Literal(Literal::Null),
            Rule::integer_literal => {
                if let Err((msg, help)) = check_integer(raw) {
                    self.error(Diagnostic::new(&codes::INVALID_NUMBER, span, msg).with_help(help));
                }
                ExprKind::Literal(Literal::Integer(raw.to_string()))
            }
            Rule::real_literal => {
                if let Err((msg, help)) = check_real(raw) {
                    self.error(Diagnostic::new(&codes::INVALID_NUMBER, span, msg).with_help(help));
                }
                ExprKind::Literal(Literal::Real(raw.to_string()))
            }
            Rule::string_literal => {
                let body = &raw[1..raw.len() - 1];
                if let Some(at) = body.find("\"\"") {
                    let s = self.sub_span(&inner, at + 1, at + 3);
                    self.diags.push(
                        Diagnostic::new(
                            &codes::DOUBLED_QUOTE_IN_STRING,
                            s,
                            "doubled quote inside a regular string",
                        )
                        .with_label("read as one `\"`")
                        .with_help("C# ends the string at the first quote; write `\\\"` for a quote, or use a verbatim string `@\"...\"`"),
                    );
                }
                let value = self.decode(&inner, &body.replace("\"\"", "\\\""), 1);
                ExprKind::Literal(Literal::String {
                    raw: raw.to_string(),
                    value,
                })
            }
            Rule::verbatim_string => ExprKind::Literal(Literal::String {
                raw: raw.to_string(),
                value: raw[2..raw.len() - 1].replace("\"\"", "\""),
            }),
            Rule::char_literal => {
                let body = &raw[1..raw.len() - 1];
                let units = match decode_escapes(body, 1) {
                    Ok(u) => u,
                    Err(e) => {
                        let s = self.sub_span(&inner, e.start, e.end);
                        self.error(
                            Diagnostic::new(&codes::INVALID_ESCAPE, s, e.message).with_help(e.help),
                        );
                        vec![0]
                    }
                };
                if units.is_empty() {
                    self.error(
                        Diagnostic::new(&codes::INVALID_CHAR_LITERAL, span, "character literal is empty")
                            .with_help("a `char` holds one UTF-16 code unit, e.g. `' '`; an empty string is `\"\"`"),
                    );
                } else if units.len() > 1 {
                    // C# rejects this; policies in the wild use it as a string.
                    self.diags.push(
                        Diagnostic::new(
                            &codes::MULTI_CHAR_LITERAL,
                            span,
                            format!("character literal holds {} characters", units.len()),
                        )
                        .with_label("read as a string")
                        .with_help(format!(
                            "write the string with double quotes: `\"{}\"`; APIM's C# compiler rejects this literal",
                            body.replace('"', "\\\"")
                        )),
                    );
                    return Expr {
                        kind: ExprKind::Literal(Literal::String {
                            raw: raw.to_string(),
                            value: utf16_to_string(&units),
                        }),
                        span,
                    };
                }
                ExprKind::Literal(Literal::Char {
                    raw: raw.to_string(),
                    value: units.first().copied().unwrap_or(0),
                })
            }
            Rule::interpolated_string | Rule::interpolated_verbatim => {
                let verbatim = inner.as_rule() == Rule::interpolated_verbatim;
                let prefix = if verbatim { &raw[..3] } else { &raw[..2] }.to_string();
                let mut parts = Vec::new();
                for part in kids(inner) {
                    match part.as_rule() {
                        Rule::interp_text => {
                            if !verbatim {
                                let body = part.as_str().replace("{{", "{").replace("}}", "}");
                                if body.contains('\\') {
                                    let _ = self.decode(&part, part.as_str(), 0);
                                }
                            }
                            parts.push(InterpPart::Text(part.as_str().to_string()));
                        }
                        Rule::interp_verbatim_text => {
                            parts.push(InterpPart::Text(part.as_str().to_string()));
                        }
                        _ => parts.push(self.hole(part)),
                    }
                }
                ExprKind::Interpolated {
                    verbatim,
                    prefix,
                    parts,
                }
            }
            _ => return self.dummy(span),
        };
        Expr { kind, span }
    }

    /// Decodes a regular string body at `offset` within the pair's text, reporting bad escapes.
    fn decode(&mut self, p: &P<'_>, body: &str, offset: usize) -> String {
        match decode_escapes(body, offset) {
            Ok(units) => utf16_to_string(&units),
            Err(e) => {
                let s = self.sub_span(p, e.start, e.end);
                self.error(Diagnostic::new(&codes::INVALID_ESCAPE, s, e.message).with_help(e.help));
                String::new()
            }
        }
    }

    fn hole(&mut self, p: P<'_>) -> InterpPart {
        let mut exprs = Vec::new();
        let mut format = None;
        for k in kids(p) {
            match k.as_rule() {
                Rule::interp_format => format = Some(k.as_str().to_string()),
                _ => exprs.push(self.expression(k)),
            }
        }
        let mut it = exprs.into_iter();
        let expr = it.next().unwrap_or_else(|| self.dummy(Span::default()));
        InterpPart::Hole {
            expr,
            align: it.next(),
            format,
        }
    }

    // ------------------------------------------------------------ types

    pub(super) fn type_ref(&mut self, p: P<'_>) -> TypeRef {
        let span = self.span(&p);
        let mut base: Option<TypeRef> = None;
        for k in kids(p) {
            let ks = self.span(&k);
            match k.as_rule() {
                Rule::predefined_type => {
                    base = Some(TypeRef {
                        kind: TypeKind::Predefined(k.as_str().to_string()),
                        span: ks,
                    });
                }
                Rule::type_name => {
                    let mut segs = Vec::new();
                    for part in kids(k) {
                        let mut it = kids(part).into_iter();
                        let Some(name) = it.next() else { continue };
                        let name = self.ident(&name);
                        let args = it
                            .next()
                            .map(|ta| kids(ta).into_iter().map(|t| self.type_ref(t)).collect())
                            .unwrap_or_default();
                        segs.push(TypeSegment { name, args });
                    }
                    base = Some(TypeRef {
                        kind: TypeKind::Named(segs),
                        span: ks,
                    });
                }
                Rule::nullable_mark | Rule::strict_nullable_mark => {
                    if let Some(b) = base.take() {
                        let s = b.span.to(ks);
                        base = Some(TypeRef {
                            kind: TypeKind::Nullable(Box::new(b)),
                            span: s,
                        });
                    }
                }
                Rule::rank_specifier => {
                    if let Some(b) = base.take() {
                        let rank =
                            u8::try_from(k.as_str().matches(',').count() + 1).unwrap_or(u8::MAX);
                        let s = b.span.to(ks);
                        base = Some(TypeRef {
                            kind: TypeKind::Array(Box::new(b), rank),
                            span: s,
                        });
                    }
                }
                _ => {}
            }
        }
        base.unwrap_or(TypeRef {
            kind: TypeKind::Named(Vec::new()),
            span,
        })
    }

    // ------------------------------------------------------------ new

    fn object_creation(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let Some(inner) = kids(p).into_iter().next() else {
            return self.dummy(span);
        };
        let new = match inner.as_rule() {
            Rule::anonymous_object => {
                let mut members = Vec::new();
                for m in kids(inner) {
                    let parts = kids(m);
                    match parts.as_slice() {
                        [name, value] => {
                            let name = self.ident(name);
                            let value = self.expression(value.clone());
                            members.push(AnonMember {
                                name: Some(name),
                                value,
                            });
                        }
                        [value] => {
                            let value = self.expression(value.clone());
                            members.push(AnonMember { name: None, value });
                        }
                        _ => {}
                    }
                }
                New::Anonymous(members)
            }
            Rule::implicit_array => {
                let rank = u8::try_from(
                    inner
                        .as_str()
                        .split(']')
                        .next()
                        .unwrap_or("")
                        .matches(',')
                        .count()
                        + 1,
                )
                .unwrap_or(u8::MAX);
                let init = kids(inner)
                    .into_iter()
                    .next()
                    .map(|a| self.array_init(a))
                    .unwrap_or_default();
                New::ImplicitArray { rank, init }
            }
            _ => return self.typed_creation(inner, span),
        };
        Expr {
            kind: ExprKind::New(new),
            span,
        }
    }

    fn typed_creation(&mut self, p: P<'_>, span: Span) -> Expr {
        let mut it = kids(p).into_iter();
        let Some(ty) = it.next() else {
            return self.dummy(span);
        };
        let ty = self.type_ref(ty);
        let mut args = None;
        let mut init = None;
        let mut sizes_pair = None;
        for k in it {
            match k.as_rule() {
                Rule::invocation => {
                    args = Some(
                        kids(k)
                            .into_iter()
                            .next()
                            .map(|a| self.arguments(a))
                            .unwrap_or_default(),
                    );
                }
                Rule::object_initializer => init = Some(k),
                Rule::array_sizes => sizes_pair = Some(k),
                _ => {}
            }
        }
        let new = if let Some(sizes) = sizes_pair {
            // new T[n, m][] { ... }: T is the element type.
            let mut sizes_v = Vec::new();
            let mut ranks = Vec::new();
            let mut array_init = None;
            for k in kids(sizes) {
                match k.as_rule() {
                    Rule::expression => sizes_v.push(self.expression(k)),
                    Rule::rank_specifier => {
                        ranks.push(
                            u8::try_from(k.as_str().matches(',').count() + 1).unwrap_or(u8::MAX),
                        );
                    }
                    Rule::array_initializer => array_init = Some(self.array_init(k)),
                    _ => {}
                }
            }
            let first = u8::try_from(sizes_v.len()).unwrap_or(u8::MAX);
            ranks.insert(0, first);
            let (element, mut inner_ranks) = split_array(ty);
            ranks.append(&mut inner_ranks);
            New::Array {
                element,
                sizes: sizes_v,
                ranks,
                init: array_init,
            }
        } else if matches!(ty.kind, TypeKind::Array(..)) {
            // new T[] { ... }: the initializer is an array initializer.
            let (element, ranks) = split_array(ty);
            let init = init.map(|i| self.object_init_as_array(i));
            if init.is_none() || args.is_some() {
                self.error(
                    Diagnostic::new(
                        &codes::EXPRESSION_SYNTAX,
                        span,
                        "array creation needs a size or an initializer",
                    )
                    .with_help("write `new T[n]` or `new T[] { a, b }`"),
                );
            }
            New::Array {
                element,
                sizes: Vec::new(),
                ranks,
                init,
            }
        } else {
            let init = init.map(|i| self.object_init(i));
            New::Object { ty, args, init }
        };
        Expr {
            kind: ExprKind::New(new),
            span,
        }
    }

    fn array_init(&mut self, p: P<'_>) -> Vec<VarInit> {
        kids(p).into_iter().map(|v| self.var_init(v)).collect()
    }

    fn var_init(&mut self, p: P<'_>) -> VarInit {
        let span = self.span(&p);
        let inner = if p.as_rule() == Rule::variable_initializer {
            kids(p).into_iter().next()
        } else {
            Some(p)
        };
        match inner {
            Some(i) if i.as_rule() == Rule::array_initializer => {
                VarInit::Nested(self.array_init(i))
            }
            Some(i) => VarInit::Expr(self.expression(i)),
            None => VarInit::Expr(self.dummy(span)),
        }
    }

    fn object_init(&mut self, p: P<'_>) -> Vec<InitElement> {
        let mut out = Vec::new();
        for el in kids(p) {
            let Some(inner) = kids(el).into_iter().next() else {
                continue;
            };
            let item = match inner.as_rule() {
                Rule::member_initializer => {
                    let parts = kids(inner);
                    match parts.as_slice() {
                        [name, value] => {
                            let name = self.ident(name);
                            let value = self.init_value(value.clone());
                            InitElement::Member { name, value }
                        }
                        _ => continue,
                    }
                }
                Rule::indexer_initializer => {
                    let parts = kids(inner);
                    match parts.as_slice() {
                        [args, value] => {
                            let args = self.arguments(args.clone());
                            let value = self.init_value(value.clone());
                            InitElement::Indexer { args, value }
                        }
                        _ => continue,
                    }
                }
                Rule::element_initializer_list => InitElement::List(
                    kids(inner)
                        .into_iter()
                        .map(|e| self.expression(e))
                        .collect(),
                ),
                _ => InitElement::Expr(self.expression(inner)),
            };
            out.push(item);
        }
        out
    }

    fn init_value(&mut self, p: P<'_>) -> InitValue {
        match kids(p).into_iter().next() {
            Some(i) if i.as_rule() == Rule::object_initializer => {
                InitValue::Nested(self.object_init(i))
            }
            Some(i) => InitValue::Expr(self.expression(i)),
            None => InitValue::Nested(Vec::new()),
        }
    }

    fn object_init_as_array(&mut self, p: P<'_>) -> Vec<VarInit> {
        let span = self.span(&p);
        let mut out = Vec::new();
        for el in self.object_init(p) {
            match el {
                InitElement::Expr(e) => out.push(VarInit::Expr(e)),
                InitElement::List(es) => {
                    out.push(VarInit::Nested(es.into_iter().map(VarInit::Expr).collect()))
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            &codes::EXPRESSION_SYNTAX,
                            span,
                            "an array initializer holds values, not member assignments",
                        )
                        .with_help("write `new T[] { a, b }`"),
                    );
                }
            }
        }
        out
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, p: P<'_>) -> Block {
        let span = self.span(&p);
        let stmts = kids(p).into_iter().map(|s| self.statement(s)).collect();
        Block { stmts, span }
    }

    fn statement(&mut self, p: P<'_>) -> Stmt {
        let span = self.span(&p);
        self.depth += 1;
        let kind = if self.depth > MAX_TREE_DEPTH {
            self.too_deep(span);
            StmtKind::Empty
        } else {
            match kids(p).into_iter().next() {
                Some(inner) => self.statement_kind(inner),
                None => StmtKind::Empty,
            }
        };
        self.depth -= 1;
        Stmt { kind, span }
    }

    fn boxed_stmt(&mut self, p: Option<P<'_>>) -> Box<Stmt> {
        Box::new(match p {
            Some(s) => self.statement(s),
            None => Stmt {
                kind: StmtKind::Empty,
                span: Span::default(),
            },
        })
    }

    fn expr_or_dummy(&mut self, p: Option<P<'_>>) -> Expr {
        match p {
            Some(e) => self.expression(e),
            None => self.dummy(Span::default()),
        }
    }

    fn statement_kind(&mut self, p: P<'_>) -> StmtKind {
        let rule = p.as_rule();
        let stmt_span = self.span(&p);
        match rule {
            Rule::block => StmtKind::Block(self.block(p)),
            Rule::empty_statement => StmtKind::Empty,
            Rule::declaration_statement => match kids(p).into_iter().next() {
                Some(d) => StmtKind::Declaration(self.local_decl(d)),
                None => StmtKind::Empty,
            },
            Rule::expression_statement => {
                let e = self.expr_or_dummy(kids(p).into_iter().next());
                StmtKind::Expr(e)
            }
            Rule::if_statement => {
                let mut it = kids(p).into_iter();
                let cond = self.expr_or_dummy(it.next());
                let then = self.boxed_stmt(it.next());
                let otherwise = it
                    .next()
                    .map(|e| self.boxed_stmt(kids(e).into_iter().next()));
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            Rule::while_statement => {
                let mut it = kids(p).into_iter();
                let cond = self.expr_or_dummy(it.next());
                let body = self.boxed_stmt(it.next());
                StmtKind::While { cond, body }
            }
            Rule::do_statement => {
                let mut it = kids(p).into_iter();
                let body = self.boxed_stmt(it.next());
                let cond = self.expr_or_dummy(it.next());
                StmtKind::Do { body, cond }
            }
            Rule::for_statement => {
                let mut init = None;
                let mut cond = None;
                let mut iter = Vec::new();
                let mut body = None;
                for k in kids(p) {
                    match k.as_rule() {
                        Rule::for_initializer => {
                            let parts = kids(k);
                            init = Some(match parts.first().map(|x| x.as_rule()) {
                                Some(Rule::local_declaration) => {
                                    let d = parts.into_iter().next();
                                    match d {
                                        Some(d) => ForInit::Declaration(self.local_decl(d)),
                                        None => ForInit::Exprs(Vec::new()),
                                    }
                                }
                                _ => ForInit::Exprs(
                                    parts.into_iter().map(|e| self.expression(e)).collect(),
                                ),
                            });
                        }
                        Rule::for_condition => {
                            cond = Some(self.expr_or_dummy(kids(k).into_iter().next()))
                        }
                        Rule::for_iterator => {
                            iter = kids(k).into_iter().map(|e| self.expression(e)).collect();
                        }
                        _ => body = Some(k),
                    }
                }
                let body = self.boxed_stmt(body);
                StmtKind::For {
                    init,
                    cond,
                    iter,
                    body,
                }
            }
            Rule::foreach_statement => {
                let mut it = kids(p).into_iter();
                let ty = match it.next() {
                    Some(t) => self.type_ref(t),
                    None => return StmtKind::Empty,
                };
                let name = match it.next() {
                    Some(n) => self.ident(&n),
                    None => return StmtKind::Empty,
                };
                let expr = self.expr_or_dummy(it.next());
                let body = self.boxed_stmt(it.next());
                StmtKind::Foreach {
                    ty,
                    name,
                    expr,
                    body,
                }
            }
            Rule::return_statement | Rule::throw_statement => {
                let e = kids(p).into_iter().next().map(|e| self.expression(e));
                if rule == Rule::return_statement {
                    StmtKind::Return(e)
                } else {
                    StmtKind::Throw(e)
                }
            }
            Rule::break_statement => StmtKind::Break,
            Rule::continue_statement => StmtKind::Continue,
            Rule::switch_statement => {
                let mut it = kids(p).into_iter();
                let expr = self.expr_or_dummy(it.next());
                let sections = it.map(|s| self.switch_section(s)).collect();
                StmtKind::Switch { expr, sections }
            }
            Rule::try_statement => {
                let mut body = None;
                let mut catches = Vec::new();
                let mut finally = None;
                for k in kids(p) {
                    match k.as_rule() {
                        Rule::block => body = Some(self.block(k)),
                        Rule::catch_clause => catches.push(self.catch_clause(k)),
                        Rule::finally_clause => {
                            finally = kids(k).into_iter().next().map(|b| self.block(b));
                        }
                        _ => {}
                    }
                }
                if catches.is_empty() && finally.is_none() {
                    self.error(
                        Diagnostic::new(
                            &codes::EXPRESSION_SYNTAX,
                            stmt_span,
                            "`try` needs a `catch` or a `finally`",
                        )
                        .with_help("add `catch { ... }` or `finally { ... }` after the block"),
                    );
                }
                StmtKind::Try {
                    body: body.unwrap_or(Block {
                        stmts: Vec::new(),
                        span: Span::default(),
                    }),
                    catches,
                    finally,
                }
            }
            Rule::using_statement => {
                let mut it = kids(p).into_iter();
                let resource = match it.next() {
                    Some(r) if r.as_rule() == Rule::local_declaration => {
                        ForInit::Declaration(self.local_decl(r))
                    }
                    Some(r) => ForInit::Exprs(vec![self.expression(r)]),
                    None => ForInit::Exprs(Vec::new()),
                };
                let body = self.boxed_stmt(it.next());
                StmtKind::Using { resource, body }
            }
            Rule::local_function => StmtKind::LocalFunction(Box::new(self.local_function(p))),
            _ => StmtKind::Empty,
        }
    }

    fn local_function(&mut self, p: P<'_>) -> LocalFunction {
        let span = self.span(&p);
        let mut returns = None;
        let mut name = None;
        let mut params = Vec::new();
        let mut body = LambdaBody::Block(Block {
            stmts: Vec::new(),
            span,
        });
        for k in kids(p) {
            match k.as_rule() {
                Rule::type_ => returns = Some(self.type_ref(k)),
                Rule::identifier => name = Some(self.ident(&k)),
                Rule::function_parameter => {
                    let mut modifier = ArgModifier::None;
                    let mut ty = None;
                    let mut pname = None;
                    let mut default = None;
                    for part in kids(k) {
                        match part.as_rule() {
                            Rule::parameter_modifier => {
                                modifier = match part.as_str().trim() {
                                    "out" => ArgModifier::Out,
                                    "ref" => ArgModifier::Ref,
                                    _ => ArgModifier::In,
                                };
                            }
                            Rule::type_ => ty = Some(self.type_ref(part)),
                            Rule::identifier => pname = Some(self.ident(&part)),
                            _ => default = Some(self.expression(part)),
                        }
                    }
                    if let (Some(ty), Some(name)) = (ty, pname) {
                        params.push(Param {
                            modifier,
                            ty,
                            name,
                            default,
                        });
                    }
                }
                Rule::block => body = LambdaBody::Block(self.block(k)),
                Rule::expression => body = LambdaBody::Expr(boxed(self.expression(k))),
                _ => {}
            }
        }
        LocalFunction {
            returns,
            name: name.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            params,
            body,
        }
    }

    fn local_decl(&mut self, p: P<'_>) -> LocalDecl {
        let is_const = p.as_str().starts_with("const")
            && p.as_str()[5..].starts_with(|c: char| !c.is_alphanumeric() && c != '_');
        let mut ty = None;
        let mut vars = Vec::new();
        for k in kids(p) {
            match k.as_rule() {
                Rule::type_ => ty = Some(self.type_ref(k)),
                Rule::variable_declarator => {
                    let mut it = kids(k).into_iter();
                    let Some(name) = it.next() else { continue };
                    let name = self.ident(&name);
                    let init = it.next().map(|v| self.var_init(v));
                    vars.push(Declarator { name, init });
                }
                _ => {}
            }
        }
        LocalDecl {
            is_const,
            ty: ty.unwrap_or(TypeRef {
                kind: TypeKind::Named(Vec::new()),
                span: Span::default(),
            }),
            vars,
        }
    }

    fn switch_section(&mut self, p: P<'_>) -> SwitchSection {
        let mut labels = Vec::new();
        let mut stmts = Vec::new();
        for k in kids(p) {
            match k.as_rule() {
                Rule::switch_label => {
                    let Some(l) = kids(k).into_iter().next() else {
                        continue;
                    };
                    let span = self.span(&l);
                    if l.as_rule() == Rule::default_label {
                        labels.push(SwitchLabel::Default(span));
                        continue;
                    }
                    let mut pattern = None;
                    let mut guard = None;
                    for c in kids(l) {
                        match c.as_rule() {
                            Rule::case_pattern => {
                                let parts = kids(c);
                                if let [ty, name] = parts.as_slice() {
                                    pattern = Some(Pattern::Type {
                                        ty: self.type_ref(ty.clone()),
                                        binding: Some(self.ident(name)),
                                    });
                                }
                            }
                            Rule::case_guard => {
                                guard = Some(self.expr_or_dummy(kids(c).into_iter().next()));
                            }
                            _ => pattern = Some(Pattern::Constant(self.expression(c))),
                        }
                    }
                    let pattern = pattern.unwrap_or_else(|| Pattern::Constant(self.dummy(span)));
                    labels.push(SwitchLabel::Case {
                        pattern,
                        guard,
                        span,
                    });
                }
                _ => stmts.push(self.statement(k)),
            }
        }
        SwitchSection { labels, stmts }
    }

    fn catch_clause(&mut self, p: P<'_>) -> CatchClause {
        let mut ty = None;
        let mut name = None;
        let mut filter = None;
        let mut body = None;
        for k in kids(p) {
            match k.as_rule() {
                Rule::type_ => ty = Some(self.type_ref(k)),
                Rule::identifier => name = Some(self.ident(&k)),
                Rule::catch_filter => filter = Some(self.expr_or_dummy(kids(k).into_iter().next())),
                Rule::block => body = Some(self.block(k)),
                _ => {}
            }
        }
        CatchClause {
            ty,
            name,
            filter,
            body: body.unwrap_or(Block {
                stmts: Vec::new(),
                span: Span::default(),
            }),
        }
    }
}

fn reduce(operands: &mut Vec<Expr>, operators: &mut Vec<BinaryOp>) {
    let (Some(op), Some(rhs), Some(lhs)) = (operators.pop(), operands.pop(), operands.pop()) else {
        return;
    };
    let span = lhs.span.to(rhs.span);
    operands.push(Expr {
        kind: ExprKind::Binary {
            op,
            lhs: boxed(lhs),
            rhs: boxed(rhs),
        },
        span,
    });
}

fn binary_op(rule: Rule) -> BinaryOp {
    match rule {
        Rule::op_coalesce => BinaryOp::Coalesce,
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_bit_or => BinaryOp::BitOr,
        Rule::op_bit_xor => BinaryOp::BitXor,
        Rule::op_bit_and => BinaryOp::BitAnd,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_le => BinaryOp::Le,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_shl => BinaryOp::Shl,
        Rule::op_shr => BinaryOp::Shr,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        _ => BinaryOp::Rem,
    }
}

fn assign_op(s: &str) -> AssignOp {
    match s {
        "=" => AssignOp::Assign,
        "??=" => AssignOp::CoalesceAssign,
        _ => AssignOp::Compound(match &s[..s.len() - 1] {
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            "%" => BinaryOp::Rem,
            "&" => BinaryOp::BitAnd,
            "|" => BinaryOp::BitOr,
            "^" => BinaryOp::BitXor,
            "<<" => BinaryOp::Shl,
            _ => BinaryOp::Shr,
        }),
    }
}

/// Splits `T[][,]` into `T` and its ranks, outermost first.
fn split_array(ty: TypeRef) -> (TypeRef, Vec<u8>) {
    let mut ranks = Vec::new();
    let mut t = ty;
    while let TypeKind::Array(inner, rank) = t.kind {
        ranks.push(rank);
        t = *inner;
    }
    // `int[][,]` nests as Array(Array(int, 1), 2): the outermost rank is the last written.
    ranks.reverse();
    (t, ranks)
}
