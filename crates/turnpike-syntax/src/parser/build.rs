//! From pest's parse tree to the AST: precedence climbing for binary operators, literal
//! decoding, and the checks the grammar leaves to code (assignment targets, literal values,
//! tree depth).

use pest::iterators::Pair;
use turnpike_diagnostics::{Diagnostic, FileId, Span, codes};

use super::{MAX_TREE_DEPTH, Rule};
use crate::ast::*;
use crate::offsets::OffsetMap;
use crate::tree::ExprBody;

mod creation;
mod literals;
mod statements;

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
        // The operands sit up to `ops` levels below this node: count them for nested limits.
        self.depth += ops;
        let e = self.fold(items, span);
        self.depth -= ops;
        e
    }

    fn fold(&mut self, items: Vec<P<'_>>, span: Span) -> Expr {
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
            Some(neg) if neg.as_rule() == Rule::negative_number => {
                let span = self.span(&neg);
                let number = kids(neg).into_iter().next();
                let operand = match number {
                    Some(n) => {
                        let raw = n.as_str().to_string();
                        let lit = if n.as_rule() == Rule::real_literal {
                            Literal::Real(raw)
                        } else {
                            Literal::Integer(raw)
                        };
                        Expr {
                            kind: ExprKind::Literal(lit),
                            span: self.span(&n),
                        }
                    }
                    None => self.dummy(span),
                };
                Pattern::Constant(Expr {
                    kind: ExprKind::Unary {
                        op: UnaryOp::Minus,
                        operand: boxed(operand),
                    },
                    span,
                })
            }
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
        let items = kids(p);
        let prefixes = items.len().saturating_sub(1);
        if self.depth + prefixes > MAX_TREE_DEPTH {
            self.too_deep(span);
            return self.dummy(span);
        }
        self.depth += prefixes;
        let e = self.prefixed(items);
        self.depth -= prefixes;
        e
    }

    fn prefixed(&mut self, mut items: Vec<P<'_>>) -> Expr {
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
        let selectors = items.len().saturating_sub(1);
        if self.depth + selectors > MAX_TREE_DEPTH {
            self.too_deep(span);
            return self.dummy(span);
        }
        self.depth += selectors;
        let e = self.selected(items, span);
        self.depth -= selectors;
        e
    }

    fn selected(&mut self, items: Vec<P<'_>>, span: Span) -> Expr {
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
