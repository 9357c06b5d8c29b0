//! Expressions: names, members, literals, and the forms that are neither calls nor operators.

use std::sync::Arc;

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::ir::{Const, Conv, Expr, ExprKind, FmtPart, LocalId, Place};
use turnpike_ir::library::{MemberKind, TypeKind};
use turnpike_ir::ty::Prim;
use turnpike_ir::{MemberId, Ty};
use turnpike_syntax::ast::{self, ExprKind as A, InterpPart, Literal};

use crate::Checker;
use crate::literal::{const_expr, string_const};

/// What a piece of syntax names.
pub(crate) enum Operand {
    /// A value.
    Value(Expr),
    /// A type (for static members).
    Type(Ty, Span),
    /// A namespace prefix.
    Namespace(String, Span),
    /// Methods with one name, on an instance or a type.
    Group(Group),
}

/// A method group waiting for its arguments.
pub(crate) struct Group {
    pub(crate) name: String,
    /// The instance, for instance methods and extensions.
    pub(crate) recv: Option<Expr>,
    /// Candidates with the type arguments of their declaring type.
    pub(crate) candidates: Vec<(MemberId, Vec<Ty>)>,
    /// Candidates tried only when none of `candidates` applies (extension methods behind
    /// instance methods).
    pub(crate) fallback: Vec<(MemberId, Vec<Ty>)>,
    /// Explicit method type arguments.
    pub(crate) type_args: Vec<Ty>,
    pub(crate) span: Span,
    /// The type the group was looked up on (for messages).
    pub(crate) on: Ty,
}

impl Checker<'_> {
    /// Checks an expression that must be a value. `target` is the type the context wants
    /// (for lambdas and target-typed forms), not a conversion request.
    pub(crate) fn expr(&mut self, e: &ast::Expr, target: Option<&Ty>) -> Expr {
        match &e.kind {
            A::Lambda { params, body } => {
                if let Some(t) = target
                    && let Some((ps, ret)) = self.delegate_sig(t)
                {
                    return self.lambda(params, body, &ps, Some(ret), t.clone(), e.span);
                }
                self.error(
                    &codes::CANNOT_INFER_VAR,
                    e.span,
                    "a lambda needs a delegate type here".to_string(),
                )
                .label("the parameter types of this lambda are unknown")
                .help("pass the lambda to a method such as `Select` or `Where`, or declare the variable as `Func<...>`");
                return self.poisoned(e.span);
            }
            A::Conditional {
                cond,
                then,
                otherwise,
            } => return self.conditional(cond, then, otherwise, target, e.span),
            _ => {}
        }
        match self.operand(e, false) {
            Operand::Value(x) => x,
            Operand::Type(t, span) => {
                let name = self.ty_name(&t);
                self.error(
                    &codes::UNKNOWN_NAME,
                    span,
                    format!("`{name}` is a type, not a value"),
                )
                .label("a type")
                .help("reach a static member with `Type.Member`");
                self.poisoned(span)
            }
            Operand::Namespace(ns, span) => {
                self.error(
                    &codes::UNKNOWN_NAME,
                    span,
                    format!("`{ns}` is a namespace, not a value"),
                )
                .label("a namespace");
                self.poisoned(span)
            }
            Operand::Group(g) => {
                self.error(
                    &codes::CANNOT_INFER_VAR,
                    g.span,
                    format!("method `{}` is used without calling it", g.name),
                )
                .label("a method group")
                .help(format!("call it: `{}(...)`", g.name));
                self.poisoned(g.span)
            }
        }
    }

    /// Reads a value: `void` is reported.
    pub(crate) fn rvalue(&mut self, e: Expr) -> Expr {
        if matches!(e.ty, Ty::Void) {
            self.error(
                &codes::VOID_VALUE,
                e.span,
                "this call returns nothing (`void`) and has no value to use".to_string(),
            )
            .label("returns `void`");
            return self.poisoned(e.span);
        }
        e
    }

    /// Checks any operand: value, type, namespace or method group.
    pub(crate) fn operand(&mut self, e: &ast::Expr, in_chain: bool) -> Operand {
        if let Some(x) = self.take_subst(e) {
            return Operand::Value(x);
        }
        if !in_chain && let Some(x) = self.null_conditional_chain(e) {
            return Operand::Value(x);
        }
        let span = e.span;
        let v = match &e.kind {
            A::Literal(l) => self.literal(l, span),
            A::Interpolated { parts, .. } => self.interpolated(parts, span),
            A::NamedValue(name) => {
                let _ = name;
                Expr {
                    kind: ExprKind::Unsupported(Arc::from("an unresolved named value")),
                    ty: Ty::Unknown,
                    span,
                }
            }
            A::Name { name, type_args } => return self.name(&name.name, type_args, span),
            A::PredefinedType(k) => {
                let t = self.resolve_type(&ast::TypeRef {
                    kind: ast::TypeKind::Predefined(k.clone()),
                    span,
                });
                return Operand::Type(t, span);
            }
            A::Member {
                target,
                name,
                type_args,
                null_conditional: _,
            } => {
                let t = self.operand(target, true);
                let targs: Vec<Ty> = type_args.iter().map(|t| self.resolve_type(t)).collect();
                return self.member(t, &name.name, targs, name.span, span);
            }
            A::Call { callee, args } => {
                let c = match &callee.kind {
                    A::Member {
                        target,
                        name,
                        type_args,
                        ..
                    } if self.take_subst(callee).is_none() => {
                        let t = self.operand(target, true);
                        let targs: Vec<Ty> =
                            type_args.iter().map(|t| self.resolve_type(t)).collect();
                        self.invoking = true;
                        let m = self.member(t, &name.name, targs, name.span, callee.span);
                        self.invoking = false;
                        m
                    }
                    _ => self.operand(callee, true),
                };
                self.call(c, args, span)
            }
            A::Index { target, args, .. } => {
                let t = self.operand(target, true);
                let t = self.value_of(t);
                self.index(t, args, span)
            }
            A::Paren(inner) => return self.operand(inner, false),
            A::Unary { op, operand } => self.unary(*op, operand, span),
            A::Postfix { op, operand } => {
                let delta = if *op == ast::PostfixOp::Increment {
                    1
                } else {
                    -1
                };
                self.inc_dec(operand, delta, false, span)
            }
            A::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            A::Assign { op, target, value } => self.assign(*op, target, value, span),
            A::Conditional {
                cond,
                then,
                otherwise,
            } => self.conditional(cond, then, otherwise, None, span),
            A::Cast { ty, operand } => {
                let t = self.resolve_type(ty);
                let x = self.expr(operand, Some(&t));
                let x = self.rvalue(x);
                let mut r = self.explicit(x, &t);
                r.span = span;
                r
            }
            A::Is { operand, pattern } => self.is_pattern(operand, pattern, span),
            A::As { operand, ty } => {
                let t = self.resolve_type(ty);
                let x = self.expr(operand, None);
                if t.is_value_type(self.lib) {
                    let n = self.ty_name(&t);
                    self.error(
                        &codes::INVALID_CAST,
                        span,
                        format!("`as` needs a reference or nullable type, not `{n}`"),
                    )
                    .label("a value type")
                    .help(format!("use `as {n}?` or a cast `({n})`"));
                }
                Expr {
                    kind: ExprKind::As(Box::new(x), t.clone()),
                    ty: t,
                    span,
                }
            }
            A::Lambda { .. } => self.expr(e, None),
            A::New(n) => self.new_expr(n, span),
            A::TypeOf(t) => {
                let t = self.resolve_type(t);
                let ty = self.named_type("Type", "System", Vec::new(), span);
                Expr {
                    kind: ExprKind::TypeOf(t),
                    ty,
                    span,
                }
            }
            A::Default(t) => match t {
                Some(t) => {
                    let t = self.resolve_type(t);
                    Expr {
                        kind: ExprKind::Default(t.clone()),
                        ty: t,
                        span,
                    }
                }
                // The `default` literal takes the type its place needs ([type.default]).
                None => Expr {
                    kind: ExprKind::Default(Ty::Null),
                    ty: Ty::Null,
                    span,
                },
            },
            A::Checked(inner) | A::Unchecked(inner) => {
                let saved = (self.checked, self.unchecked_context);
                self.checked = matches!(e.kind, A::Checked(_));
                self.unchecked_context = !self.checked;
                let x = self.expr(inner, None);
                (self.checked, self.unchecked_context) = saved;
                x
            }
            A::NameOf(inner) => {
                let text = match &inner.kind {
                    A::Name { name, .. } => name.name.clone(),
                    A::Member { name, .. } => name.name.clone(),
                    _ => String::new(),
                };
                string_const(&text, span)
            }
            A::Throw(x) => {
                let x = self.expr(x, None);
                self.check_exception_type(&x.ty, x.span);
                Expr {
                    kind: ExprKind::Throw(Box::new(x)),
                    ty: Ty::Null,
                    span,
                }
            }
            A::This => {
                self.error(
                    &codes::UNKNOWN_NAME,
                    span,
                    "`this` has no meaning in a policy expression".into(),
                )
                .label("no enclosing object");
                self.poisoned(span)
            }
        };
        Operand::Value(v)
    }

    /// The value of an operand, reporting types, namespaces and groups.
    pub(crate) fn value_of(&mut self, o: Operand) -> Expr {
        match o {
            Operand::Value(v) => v,
            Operand::Type(t, span) => {
                let n = self.ty_name(&t);
                self.error(
                    &codes::UNKNOWN_NAME,
                    span,
                    format!("`{n}` is a type, not a value"),
                )
                .label("a type");
                self.poisoned(span)
            }
            Operand::Namespace(ns, span) => {
                self.error(
                    &codes::UNKNOWN_NAME,
                    span,
                    format!("`{ns}` is a namespace, not a value"),
                )
                .label("a namespace");
                self.poisoned(span)
            }
            Operand::Group(g) => {
                self.error(
                    &codes::CANNOT_INFER_VAR,
                    g.span,
                    format!("method `{}` is used without calling it", g.name),
                )
                .label("a method group");
                self.poisoned(g.span)
            }
        }
    }

    fn literal(&mut self, l: &Literal, span: Span) -> Expr {
        match l {
            Literal::Integer(raw) => self.integer_literal(raw, false, span),
            Literal::Real(raw) => self.real_literal(raw, false, span),
            Literal::Char { value, .. } => const_expr(Const::Char(*value), span),
            Literal::String { value, .. } => string_const(value, span),
            Literal::Bool(b) => const_expr(Const::Bool(*b), span),
            Literal::Null => const_expr(Const::Null, span),
        }
    }

    fn interpolated(&mut self, parts: &[InterpPart], span: Span) -> Expr {
        let mut out = Vec::new();
        for p in parts {
            match p {
                InterpPart::Text { value, .. } => {
                    out.push(FmtPart::Text(Arc::from(value.as_str())))
                }
                InterpPart::Hole {
                    expr,
                    align,
                    format,
                } => {
                    let kebab = kebab_name(expr).filter(|n| {
                        n.contains('-')
                            && n.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    });
                    let v = match kebab {
                        Some(n)
                            if self
                                .lookup_local(n.split('-').next().unwrap_or(""))
                                .is_none() =>
                        {
                            self.placeholder(&format!("{{{n}}}"), expr.span)
                        }
                        _ => self.expr(expr, None),
                    };
                    let v = self.rvalue(v);
                    let align = align.as_ref().map(|a| {
                        let a = self.expr(a, None);
                        Box::new(self.coerce(a, &Ty::INT))
                    });
                    out.push(FmtPart::Hole {
                        value: v,
                        align,
                        format: format.as_ref().map(|f| Arc::from(f.as_str())),
                    });
                }
            }
        }
        Expr {
            kind: ExprKind::Format(out),
            ty: Ty::String,
            span,
        }
    }

    fn name(&mut self, name: &str, type_args: &[ast::TypeRef], span: Span) -> Operand {
        if type_args.is_empty() {
            if let Some(id) = self.lookup_local(name) {
                self.check_assigned(id, name, span);
                let ty = self.locals[id.0 as usize].ty.clone();
                return Operand::Value(Expr {
                    kind: ExprKind::Local(id),
                    ty,
                    span,
                });
            }
            if name == "context" {
                let ty = self.named_type("IContext", "", Vec::new(), span);
                return Operand::Value(Expr {
                    kind: ExprKind::Context,
                    ty,
                    span,
                });
            }
        }
        let args: Vec<Ty> = type_args.iter().map(|t| self.resolve_type(t)).collect();
        if self.lib.find_type(name, args.len()).is_some()
            || matches!(name, "String" | "Object")
            || Prim::from_name(name).is_some_and(|p| p.clr_name() == name)
        {
            let t = self.named_type(name, "", args, span);
            return Operand::Type(t, span);
        }
        if args.is_empty() && self.lib.is_namespace(name) {
            return Operand::Namespace(name.to_string(), span);
        }
        if crate::names::ALLOWED_BUT_UNMODELLED.contains(&name) {
            return Operand::Value(self.unsupported(span, &format!("type `{name}`")));
        }
        if is_template_placeholder(name) {
            return Operand::Value(self.placeholder(name, span));
        }
        if crate::names::NOT_ALLOWED.contains(&name) {
            self.named_type(name, "", args, span);
            return Operand::Value(self.poisoned(span));
        }
        let mut known: Vec<String> = self
            .scopes
            .iter()
            .flatten()
            .map(|(n, _)| n.clone())
            .collect();
        known.push("context".into());
        let suggestion = crate::names::did_you_mean(name, known.iter().map(String::as_str));
        let mut d = self
            .error(
                &codes::UNKNOWN_NAME,
                span,
                format!("the name `{name}` does not exist here"),
            )
            .label("not a local variable, `context` or a type");
        if let Some(s) = suggestion {
            d = d.help(format!("did you mean `{s}`?"));
        }
        drop(d);
        Operand::Value(self.poisoned(span))
    }

    /// The place an assignment or `++` writes to.
    pub(crate) fn place(&mut self, e: &ast::Expr) -> Option<(Place, Ty)> {
        match &e.kind {
            A::Paren(inner) => self.place(inner),
            A::Name { name, type_args } if type_args.is_empty() => {
                if let Some(id) = self.lookup_local(&name.name) {
                    if self.const_locals.contains(&id) {
                        self.error(
                            &codes::READ_ONLY,
                            e.span,
                            format!("`{}` is a constant and cannot be assigned", name.name),
                        )
                        .label("declared `const`")
                        .help("drop `const` from its declaration to change it");
                        return None;
                    }
                    let ty = self.locals[id.0 as usize].ty.clone();
                    return Some((Place::Local(id), ty));
                }
                let o = self.operand(e, false);
                self.not_assignable(&o, e.span);
                None
            }
            A::Index { target, args, .. } => {
                let t = self.operand(target, true);
                let t = self.value_of(t);
                if let Ty::Array(elem) = &t.ty {
                    let elem = (**elem).clone();
                    let idx = self.single_index(args, e.span);
                    return Some((
                        Place::Element {
                            array: Box::new(t),
                            index: Box::new(idx),
                        },
                        elem,
                    ));
                }
                let x = self.index(t, args, e.span);
                self.as_settable(x, e.span)
            }
            A::Member { .. } => {
                let o = self.operand(e, false);
                match o {
                    Operand::Value(x) => self.as_settable(x, e.span),
                    o => {
                        self.not_assignable(&o, e.span);
                        None
                    }
                }
            }
            _ => {
                self.error(
                    &codes::READ_ONLY,
                    e.span,
                    "the left side of an assignment must be a variable, property or indexer".into(),
                )
                .label("not assignable");
                None
            }
        }
    }

    pub(crate) fn as_settable(&mut self, x: Expr, span: Span) -> Option<(Place, Ty)> {
        let ty = x.ty.clone();
        match x.kind {
            ExprKind::Call {
                member, recv, args, ..
            } => {
                let mem = self.lib.member(member);
                if mem.settable {
                    return Some((Place::Member { member, recv, args }, ty));
                }
                let what = if mem.kind == MemberKind::Indexer {
                    "indexer".to_string()
                } else {
                    format!("`{}`", mem.name)
                };
                let owner = self.lib.ty(mem.owner).name.clone();
                let mut d = self
                    .error(
                        &codes::READ_ONLY,
                        span,
                        format!("{what} of `{owner}` is read-only"),
                    )
                    .label("cannot be assigned");
                if owner.starts_with('I') {
                    d = d.help("`context` is read-only in expressions; change requests with policies such as `set-header` or `set-variable`");
                }
                drop(d);
                None
            }
            ExprKind::Unsupported(_) => None,
            _ => {
                self.error(
                    &codes::READ_ONLY,
                    span,
                    "this value cannot be assigned".into(),
                )
                .label("not a variable");
                None
            }
        }
    }

    fn not_assignable(&mut self, o: &Operand, span: Span) {
        if let Operand::Value(x) = o
            && matches!(x.kind, ExprKind::Unsupported(_))
        {
            return;
        }
        let what = match o {
            Operand::Value(x) if matches!(x.kind, ExprKind::Context) => "`context` is read-only",
            _ => "this cannot be assigned",
        };
        self.error(&codes::READ_ONLY, span, what.to_string())
            .label("not a variable");
    }

    /// An `int` index for arrays.
    pub(crate) fn single_index(&mut self, args: &[ast::Arg], span: Span) -> Expr {
        if args.len() != 1 {
            self.error(
                &codes::NO_OVERLOAD,
                span,
                format!("an array takes one index, not {}", args.len()),
            )
            .label("wrong number of indices");
            return self.poisoned(span);
        }
        match &args[0].value {
            ast::ArgValue::Expr(x) => {
                let i = self.expr(x, None);
                let i = self.rvalue(i);
                let target = match i.ty.prim() {
                    Some(Prim::Long) => Ty::LONG,
                    _ => Ty::INT,
                };
                let i = self.coerce(i, &target);
                if target == Ty::LONG {
                    Expr {
                        kind: ExprKind::Convert(Conv::Numeric(Prim::Long, Prim::Int), Box::new(i)),
                        ty: Ty::INT,
                        span,
                    }
                } else {
                    i
                }
            }
            ast::ArgValue::OutDecl { .. } => self.poisoned(span),
        }
    }

    /// `target[args]`.
    pub(crate) fn index(&mut self, t: Expr, args: &[ast::Arg], span: Span) -> Expr {
        let t = self.rvalue(t);
        if let Ty::Array(elem) = &t.ty {
            let elem = (**elem).clone();
            let i = self.single_index(args, span);
            return Expr {
                kind: ExprKind::Element(Box::new(t), Box::new(i)),
                ty: elem,
                span,
            };
        }
        if t.ty.is_unknown() {
            for a in args {
                if let ast::ArgValue::Expr(x) = &a.value {
                    self.expr(x, None);
                }
            }
            return Expr {
                kind: ExprKind::Unsupported(Arc::from("indexer of unknown type")),
                ty: Ty::Unknown,
                span,
            };
        }
        let cands: Vec<(MemberId, Vec<Ty>)> = self
            .members_named(&t.ty, "this")
            .into_iter()
            .filter(|(m, _)| self.lib.member(*m).kind == MemberKind::Indexer)
            .collect();
        if cands.is_empty() {
            let tn = self.ty_name(&t.ty);
            self.error(
                &codes::NOT_INDEXABLE,
                span,
                format!("cannot apply indexing with `[]` to a value of type `{tn}`"),
            )
            .label("has no indexer");
            return self.poisoned(span);
        }
        let on = t.ty.clone();
        let g = Group {
            name: "this".into(),
            recv: Some(t),
            candidates: cands,
            fallback: Vec::new(),
            type_args: Vec::new(),
            span,
            on,
        };
        self.resolve_call(g, args, span)
    }

    /// `a?.b...`: finds the innermost `?.` / `?[` of a postfix chain and lowers the chain
    /// around it.
    fn null_conditional_chain(&mut self, e: &ast::Expr) -> Option<Expr> {
        // Walk down the chain to the deepest null-conditional node.
        let mut node = e;
        let mut found: Option<&ast::Expr> = None;
        loop {
            let next = match &node.kind {
                A::Member {
                    target,
                    null_conditional,
                    ..
                } => {
                    if *null_conditional && !self.nc_off.contains(&(node as *const ast::Expr)) {
                        found = Some(node);
                    }
                    target
                }
                A::Index {
                    target,
                    null_conditional,
                    ..
                } => {
                    if *null_conditional && !self.nc_off.contains(&(node as *const ast::Expr)) {
                        found = Some(node);
                    }
                    target
                }
                A::Call { callee, .. } => callee,
                _ => break,
            };
            node = next;
        }
        let nc = found?;
        let recv_ast = match &nc.kind {
            A::Member { target, .. } | A::Index { target, .. } => target,
            _ => return None,
        };
        let recv = self.expr(recv_ast, None);
        let recv = self.rvalue(recv);
        if recv.ty.is_value_type(self.lib) {
            let tn = self.ty_name(&recv.ty);
            self.error(
                &codes::NULL_CONDITIONAL_VALUE,
                nc.span,
                format!("`?.` cannot be applied to a value of type `{tn}`, which is never null"),
            )
            .label("never null")
            .help("use `.` instead");
        }
        let inner_ty = match &recv.ty {
            Ty::Nullable(i) => (**i).clone(),
            t => t.clone(),
        };
        let tmp = self.temp(recv.ty.clone());
        let mut read = Expr {
            kind: ExprKind::Local(tmp),
            ty: recv.ty.clone(),
            span: recv.span,
        };
        if matches!(recv.ty, Ty::Nullable(_)) {
            read = Expr {
                kind: ExprKind::Convert(Conv::UnwrapNullable, Box::new(read)),
                ty: inner_ty,
                span: recv.span,
            };
        }
        self.subst.push((&**recv_ast as *const ast::Expr, read));
        self.nc_off.push(nc as *const ast::Expr);
        let rest = self.operand(e, false);
        self.nc_off.pop();
        self.subst.retain(|(p, _)| !std::ptr::eq(*p, &**recv_ast));
        let rest = self.value_of(rest);
        let ty = match &rest.ty {
            t if t.is_value_type(self.lib) => Ty::Nullable(Box::new(t.clone())),
            t => t.clone(),
        };
        let rest = if matches!(ty, Ty::Nullable(_)) && !matches!(rest.ty, Ty::Nullable(_)) {
            Expr {
                span: rest.span,
                kind: ExprKind::Convert(Conv::WrapNullable, Box::new(rest)),
                ty: ty.clone(),
            }
        } else {
            rest
        };
        Some(Expr {
            kind: ExprKind::NullCond {
                recv: Box::new(recv),
                tmp,
                rest: Box::new(rest),
            },
            ty,
            span: e.span,
        })
    }

    fn take_subst(&mut self, e: &ast::Expr) -> Option<Expr> {
        let p = e as *const ast::Expr;
        self.subst
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, x)| x.clone())
    }

    /// Whether a local may be read here.
    pub(crate) fn check_assigned(&mut self, id: LocalId, name: &str, span: Span) {
        if self.reachable && !self.assigned.get(id.0 as usize).copied().unwrap_or(true) {
            self.error(
                &codes::UNASSIGNED_VARIABLE,
                span,
                format!("use of unassigned local variable `{name}`"),
            )
            .label("may not hold a value here")
            .help(format!("give `{name}` a value where it is declared"));
            // Report once.
            self.assigned[id.0 as usize] = true;
        }
    }

    pub(crate) fn check_exception_type(&mut self, ty: &Ty, span: Span) {
        if ty.is_unknown() || matches!(ty, Ty::Null) {
            return;
        }
        let lib = self.lib;
        let is_exc = lib
            .ancestors(ty)
            .iter()
            .any(|t| matches!(t, Ty::Named(id, _) if lib.ty(*id).name == "Exception"));
        if !is_exc {
            let tn = self.ty_name(ty);
            self.error(
                &codes::THROW_TYPE,
                span,
                format!("`{tn}` is not an exception type"),
            )
            .label("not derived from `Exception`")
            .help("throw `new Exception(\"...\")` or another exception type");
        }
    }

    /// `(params) => body` against a known delegate signature.
    pub(crate) fn lambda(
        &mut self,
        params: &[ast::LambdaParam],
        body: &ast::LambdaBody,
        param_tys: &[Ty],
        ret: Option<Ty>,
        ty: Ty,
        span: Span,
    ) -> Expr {
        if params.len() != param_tys.len() {
            let tn = self.ty_name(&ty);
            self.error(
                &codes::LAMBDA_MISMATCH,
                span,
                format!(
                    "a lambda with {} parameter{} does not fit `{tn}`",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" }
                ),
            )
            .label(format!("`{tn}` takes {}", param_tys.len()));
            return self.poisoned(span);
        }
        let (l, _) = self.lambda_body(params, body, param_tys, ret, span);
        Expr {
            kind: ExprKind::Lambda(Arc::new(l)),
            ty,
            span,
        }
    }

    /// The parameter and result types of a delegate type.
    pub(crate) fn delegate_sig(&self, t: &Ty) -> Option<(Vec<Ty>, Ty)> {
        let Ty::Named(id, args) = t else {
            return None;
        };
        let def = self.lib.ty(*id);
        if def.kind != TypeKind::Delegate {
            return None;
        }
        if let Some(inv) = def
            .members
            .iter()
            .map(|m| self.lib.member(*m))
            .find(|m| m.name == "Invoke")
        {
            let ps = inv.params.iter().map(|p| p.ty.subst(args)).collect();
            return Some((ps, inv.ty.subst(args)));
        }
        match def.name.as_str() {
            "Func" => {
                let (ret, ps) = args.split_last()?;
                Some((ps.to_vec(), ret.clone()))
            }
            "Action" => Some((args.clone(), Ty::Void)),
            "Predicate" => Some((args.clone(), Ty::BOOL)),
            "Comparison" => Some((vec![args.first()?.clone(), args.first()?.clone()], Ty::INT)),
            _ => None,
        }
    }
}

/// `UPPER_SNAKE` names that deployment scripts replace before a policy is published.
pub(crate) fn is_template_placeholder(name: &str) -> bool {
    name.contains('_')
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A kebab-case name written as `a-b-c` (a template placeholder inside `{...}`).
fn kebab_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        A::Name { name, type_args } if type_args.is_empty() => Some(name.name.clone()),
        A::Binary {
            op: ast::BinaryOp::Sub,
            lhs,
            rhs,
        } => Some(format!("{}-{}", kebab_name(lhs)?, kebab_name(rhs)?)),
        _ => None,
    }
}

impl Checker<'_> {
    /// A deployment template placeholder: a value of unknown type, with a warning.
    pub(crate) fn placeholder(&mut self, name: &str, span: Span) -> Expr {
        self.report(
            turnpike_diagnostics::Diagnostic::new(
                &codes::UNRESOLVED_NAMED_VALUE,
                span,
                format!("`{name}` looks like a deployment template placeholder; its value is not known"),
            )
            .with_label("kept as a placeholder")
            .with_help("the deployment that publishes this policy replaces it; Turnpike checks the expression around it with an unknown type"),
        );
        Expr {
            kind: ExprKind::Unsupported(Arc::from("a template placeholder")),
            ty: Ty::Unknown,
            span,
        }
    }
}

/// The namespace of APIM's own `context` types in the type model.
const CONTEXT_NAMESPACE: &str = "Microsoft.Azure.ApiManagement.Policies";

impl Checker<'_> {
    /// Whether a type is, or is built from, one of APIM's `context` interfaces. Their members
    /// are known only from documentation, so a mismatch there is `unsupported-expression`,
    /// not an error.
    pub(crate) fn is_context_type(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Named(id, args) => {
                self.lib.ty(*id).namespace == CONTEXT_NAMESPACE
                    || args.iter().any(|a| self.is_context_type(a))
            }
            Ty::Array(t) | Ty::Nullable(t) => self.is_context_type(t),
            _ => false,
        }
    }
}
