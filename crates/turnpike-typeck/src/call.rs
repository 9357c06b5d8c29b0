//! Calls: argument binding, generic type inference (lambdas included), overload resolution,
//! constructors and initializers, lambda bodies.

use std::sync::Arc;

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::ir::{Const, Expr, ExprKind, Lambda, LocalId, Place, Stmt};
use turnpike_ir::library::{MemberKind, Mode};
use turnpike_ir::{MemberId, Ty};
use turnpike_syntax::ast::{self, ArgModifier, ArgValue};

use crate::expr::{Group, Operand};
use crate::literal::const_expr;
use crate::{Checker, ReturnCtx};

/// An argument after a first look.
enum Form {
    Value(Expr),
    /// A lambda, checked once its parameter types are known.
    Lambda(usize),
    /// `out var x` / `out T x`: declared once the parameter type is known.
    OutDecl(Option<Ty>, String, Span),
    /// `out x` / `ref x` on an existing place.
    Place(Place, Ty),
}

struct PreArg {
    name: Option<String>,
    modifier: ArgModifier,
    form: Form,
    span: Span,
}

struct Binding {
    member: MemberId,
    /// Type arguments: the declaring type's then the method's.
    targs: Vec<Ty>,
    /// For each argument, the parameter index it goes to.
    param_of: Vec<usize>,
    expanded: bool,
    /// The type each argument converts to.
    arg_tys: Vec<Ty>,
    generic: bool,
}

impl Checker<'_> {
    /// `callee(args)`.
    pub(crate) fn call(&mut self, callee: Operand, args: &[ast::Arg], span: Span) -> Expr {
        match callee {
            Operand::Group(g) => {
                if g.name == "$nullable-tostring" && args.is_empty() {
                    return g.recv.unwrap_or_else(|| self.poisoned(span));
                }
                if g.name == "$nullable-default" {
                    let Some(v) = g.recv else {
                        return self.poisoned(span);
                    };
                    let inner = v.ty.strip_nullable().clone();
                    let d = match args.first().map(|a| &a.value) {
                        Some(ArgValue::Expr(x)) => {
                            let x = self.expr(x, Some(&inner));
                            self.coerce(x, &inner)
                        }
                        _ => Expr {
                            kind: ExprKind::Default(inner.clone()),
                            ty: inner.clone(),
                            span,
                        },
                    };
                    return Expr {
                        kind: ExprKind::Coalesce(Box::new(v), Box::new(d)),
                        ty: inner,
                        span,
                    };
                }
                self.resolve_call(g, args, span)
            }
            Operand::Value(v)
                if matches!(v.kind, ExprKind::Unsupported(_)) || v.ty.is_unknown() =>
            {
                for a in args {
                    if let ArgValue::Expr(x) = &a.value {
                        let _ = self.expr_or_lambda_skip(x);
                    }
                }
                Expr {
                    kind: ExprKind::Unsupported(Arc::from("call of a value of unknown type")),
                    ty: Ty::Unknown,
                    span,
                }
            }
            Operand::Value(v) => {
                if let Some((ps, ret)) = self.delegate_sig(&v.ty) {
                    if ps.len() != args.len() {
                        self.error(
                            &codes::NO_OVERLOAD,
                            span,
                            format!(
                                "the delegate takes {} argument{}, not {}",
                                ps.len(),
                                if ps.len() == 1 { "" } else { "s" },
                                args.len()
                            ),
                        )
                        .label("wrong number of arguments");
                        return self.poisoned(span);
                    }
                    let mut out = Vec::new();
                    for (a, p) in args.iter().zip(&ps) {
                        if let ArgValue::Expr(x) = &a.value {
                            let x = self.expr(x, Some(p));
                            out.push(self.coerce(x, p));
                        }
                    }
                    return Expr {
                        kind: ExprKind::Invoke(Box::new(v), out),
                        ty: ret,
                        span,
                    };
                }
                let tn = self.ty_name(&v.ty);
                self.error(
                    &codes::NOT_INVOCABLE,
                    v.span,
                    format!("a value of type `{tn}` cannot be called like a method"),
                )
                .label("not a method");
                self.poisoned(span)
            }
            Operand::Type(t, s) => {
                let tn = self.ty_name(&t);
                self.error(
                    &codes::NOT_INVOCABLE,
                    s,
                    format!("type `{tn}` cannot be called like a method"),
                )
                .label("a type")
                .help(format!("create a value with `new {tn}(...)`"));
                self.poisoned(span)
            }
            Operand::Namespace(ns, s) => {
                self.error(
                    &codes::NOT_INVOCABLE,
                    s,
                    format!("namespace `{ns}` cannot be called"),
                )
                .label("a namespace");
                self.poisoned(span)
            }
        }
    }

    pub(crate) fn expr_or_lambda_skip(&mut self, x: &ast::Expr) -> Option<Expr> {
        if matches!(x.kind, ast::ExprKind::Lambda { .. }) {
            return None;
        }
        Some(self.expr(x, None))
    }

    fn pre_args(&mut self, args: &[ast::Arg]) -> Vec<PreArg> {
        let mut out = Vec::new();
        for a in args {
            let form = match &a.value {
                ArgValue::Expr(x) => match &x.kind {
                    ast::ExprKind::Lambda { params, body } => {
                        self.lambdas.push(crate::PendingLambda {
                            params: params.clone(),
                            body: body.clone(),
                            span: x.span,
                        });
                        Form::Lambda(self.lambdas.len() - 1)
                    }
                    _ if a.modifier != ArgModifier::None => match self.place(x) {
                        Some((p, t)) => Form::Place(p, t),
                        None => Form::Value(self.poisoned(x.span)),
                    },
                    _ => {
                        let v = self.expr(x, None);
                        Form::Value(v)
                    }
                },
                ArgValue::OutDecl { ty, name } => {
                    let t = if crate::names::is_var(ty) {
                        None
                    } else {
                        Some(self.resolve_type(ty))
                    };
                    Form::OutDecl(t, name.name.clone(), name.span)
                }
            };
            out.push(PreArg {
                name: a.name.as_ref().map(|n| n.name.clone()),
                modifier: a.modifier,
                form,
                span: a.span,
            });
        }
        out
    }

    /// Picks the overload of `g` for `args` and lowers the call.
    pub(crate) fn resolve_call(&mut self, g: Group, args: &[ast::Arg], span: Span) -> Expr {
        let pre = self.pre_args(args);
        let mut bindings = Vec::new();
        let mut first_error: Option<(MemberId, String, Span)> = None;
        for (m, owner_args) in &g.candidates {
            match self.bind(*m, owner_args, &g, &pre) {
                Ok(b) => bindings.push(b),
                Err((msg, s)) => {
                    if first_error.is_none() {
                        first_error = Some((*m, msg, s));
                    }
                }
            }
        }
        if bindings.is_empty() && !g.fallback.is_empty() {
            for (m, owner_args) in &g.fallback {
                if let Ok(b) = self.bind(*m, owner_args, &g, &pre) {
                    bindings.push(b);
                }
            }
        }
        if bindings.is_empty() && self.is_context_type(&g.on) {
            let on = self.ty_name(&g.on);
            return self.unsupported(
                span,
                &format!(
                    "this call of `{}` on `{on}`, whose element types APIM documents only loosely",
                    g.name
                ),
            );
        }
        if bindings.is_empty() {
            self.report_no_overload(&g, &pre, first_error, span);
            // Check lambdas for their own errors as far as possible.
            return self.poisoned(span);
        }
        let best = self.pick_best(bindings, &pre);
        let best = match best {
            Ok(b) => b,
            Err(pair) => {
                let (a, b) = *pair;
                let (ka, kb) = (
                    self.lib.member(a.member).key.clone(),
                    self.lib.member(b.member).key.clone(),
                );
                self.error(
                    &codes::AMBIGUOUS_CALL,
                    span,
                    format!("the call is ambiguous between `{ka}` and `{kb}`"),
                )
                .label("more than one overload fits")
                .help("cast an argument to the parameter type you mean");
                a
            }
        };
        self.lower_call(best, g, pre, span)
    }

    fn report_no_overload(
        &mut self,
        g: &Group,
        pre: &[PreArg],
        first: Option<(MemberId, String, Span)>,
        span: Span,
    ) {
        let lib = self.lib;
        if self.is_context_type(&g.on) {
            let on = self.ty_name(&g.on);
            self.unsupported(
                span,
                &format!(
                    "this call of `{}` on `{on}`, whose element types APIM documents only loosely",
                    g.name
                ),
            );
            return;
        }
        let n = g.candidates.len();
        let what = match g.candidates.first().map(|(m, _)| &lib.member(*m).kind) {
            Some(MemberKind::Constructor) => "constructor".to_string(),
            Some(MemberKind::Indexer) => "indexer".to_string(),
            _ => format!("method `{}`", g.name),
        };
        if n == 1
            && let Some((m, msg, s)) = first
        {
            let code = if msg.contains("type arguments") {
                &codes::CANNOT_INFER
            } else if msg.contains("out") || msg.contains("ref") {
                &codes::ARGUMENT_MODE
            } else if msg.contains("named") {
                &codes::NAMED_ARGUMENT
            } else if msg.contains("lambda") {
                &codes::LAMBDA_MISMATCH
            } else if msg.contains("argument") && msg.contains("takes") {
                &codes::NO_OVERLOAD
            } else {
                &codes::ARGUMENT_TYPE
            };
            let key = lib.member(m).key.clone();
            self.error(code, s, msg)
                .label("here")
                .help(format!("the signature is `{key}`"));
            return;
        }
        let shown: Vec<String> = g
            .candidates
            .iter()
            .take(4)
            .map(|(m, _)| format!("`{}`", lib.member(*m).key))
            .collect();
        let arg_tys: Vec<String> = pre
            .iter()
            .map(|a| match &a.form {
                Form::Value(v) => self.ty_name(&v.ty),
                Form::Lambda(_) => "lambda".into(),
                Form::OutDecl(..) => "out".into(),
                Form::Place(_, t) => format!("ref {}", self.ty_name(t)),
            })
            .collect();
        self.error(
            &codes::NO_OVERLOAD,
            span,
            format!("no overload of {what} takes ({})", arg_tys.join(", ")),
        )
        .label(format!(
            "{n} overload{} considered",
            if n == 1 { "" } else { "s" }
        ))
        .help(format!("candidates: {}", shown.join(", ")));
    }

    /// Tries one candidate.
    fn bind(
        &mut self,
        m: MemberId,
        owner_args: &[Ty],
        g: &Group,
        pre: &[PreArg],
    ) -> Result<Binding, (String, Span)> {
        let lib = self.lib;
        let mem = lib.member(m);
        let is_ext = mem.kind == MemberKind::Extension;
        let params = &mem.params;
        let n_owner = owner_args.len();
        let n_method = mem.type_params.len();
        // Arguments as seen by the signature: the receiver first for extensions.
        let offset = usize::from(is_ext);
        let n_args = pre.len() + offset;
        let mut param_of = Vec::with_capacity(n_args);
        let mut expanded = false;
        if is_ext {
            param_of.push(0);
        }
        let mut used = vec![false; params.len()];
        if is_ext {
            used[0] = true;
        }
        for (i, a) in pre.iter().enumerate() {
            let pos = i + offset;
            let p = if let Some(name) = &a.name {
                match params.iter().position(|p| &p.name == name) {
                    Some(p) => p,
                    None => return Err((format!("no parameter is named `{name}`"), a.span)),
                }
            } else if pos < params.len()
                && !(params[pos].mode == Mode::Params
                    && pos == params.len() - 1
                    && self.wants_expansion(pre, i, &params[pos].ty))
            {
                pos
            } else if params.last().is_some_and(|p| p.mode == Mode::Params) {
                expanded = true;
                params.len() - 1
            } else {
                let takes = params.len() - offset;
                return Err((
                    format!(
                        "`{}` takes {takes} argument{}, not {}",
                        mem.name,
                        if takes == 1 { "" } else { "s" },
                        pre.len()
                    ),
                    a.span,
                ));
            };
            if used[p] && !(expanded && p == params.len() - 1) {
                return Err((
                    format!(
                        "parameter `{}` is given twice (named argument)",
                        params[p].name
                    ),
                    a.span,
                ));
            }
            used[p] = true;
            param_of.push(p);
        }
        if params.last().is_some_and(|p| p.mode == Mode::Params) && !used[params.len() - 1] {
            expanded = true;
        }
        for (i, p) in params.iter().enumerate() {
            if !used[i] && p.default.is_none() && p.mode != Mode::Params {
                let takes = params.len() - offset;
                return Err((
                    format!(
                        "`{}` takes {takes} argument{}, not {}",
                        mem.name,
                        if takes == 1 { "" } else { "s" },
                        pre.len()
                    ),
                    g.span,
                ));
            }
        }
        // Modes.
        for (i, a) in pre.iter().enumerate() {
            let p = &params[param_of[i + offset]];
            let want = match p.mode {
                Mode::Out => ArgModifier::Out,
                Mode::Ref => ArgModifier::Ref,
                _ => ArgModifier::None,
            };
            if a.modifier != want && !(a.modifier == ArgModifier::In && want == ArgModifier::None) {
                let msg = match want {
                    ArgModifier::Out => format!(
                        "argument for `{}` must be passed with the `out` keyword",
                        p.name
                    ),
                    ArgModifier::Ref => format!(
                        "argument for `{}` must be passed with the `ref` keyword",
                        p.name
                    ),
                    _ => format!(
                        "argument for `{}` may not be passed with `out` or `ref`",
                        p.name
                    ),
                };
                return Err((msg, a.span));
            }
        }
        // Type inference.
        let mut inferred: Vec<Option<Ty>> = vec![None; n_method];
        if !g.type_args.is_empty() {
            if g.type_args.len() != n_method {
                return Err((
                    format!(
                        "`{}` takes {n_method} type arguments, not {}",
                        mem.name,
                        g.type_args.len()
                    ),
                    g.span,
                ));
            }
            inferred = g.type_args.iter().cloned().map(Some).collect();
        }
        let ptype = |i: usize, expanded_here: bool| -> Ty {
            let t = &params[i].ty;
            match (expanded_here, t) {
                (true, Ty::Array(e)) => (**e).clone(),
                _ => t.clone(),
            }
        };
        let partial = |inferred: &[Option<Ty>]| -> Vec<Ty> {
            let mut v: Vec<Ty> = owner_args.to_vec();
            for (j, t) in inferred.iter().enumerate() {
                v.push(t.clone().unwrap_or(Ty::Param((n_owner + j) as u16)));
            }
            v
        };
        let arg_ty = |k: usize, pre: &[PreArg]| -> Option<Ty> {
            if is_ext && k == 0 {
                return g.recv.as_ref().map(|r| r.ty.clone());
            }
            match &pre[k - offset].form {
                Form::Value(v) => Some(v.ty.clone()),
                Form::Place(_, t) => Some(t.clone()),
                Form::OutDecl(Some(t), ..) => Some(t.clone()),
                _ => None,
            }
        };
        let is_expanded_arg = |k: usize| expanded && param_of[k] == params.len() - 1;
        if g.type_args.is_empty() && n_method > 0 {
            for (k, &p) in param_of.iter().enumerate().take(n_args) {
                if let Some(at) = arg_ty(k, pre) {
                    let pt = ptype(p, is_expanded_arg(k)).subst(&partial(&inferred));
                    self.unify(&pt, &at, n_owner, &mut inferred);
                }
            }
            // Lambdas: infer their result types once their parameter types are known.
            for _round in 0..4 {
                let mut progress = false;
                for k in offset..n_args {
                    let Form::Lambda(li) = pre[k - offset].form else {
                        continue;
                    };
                    let pt = ptype(param_of[k], is_expanded_arg(k)).subst(&partial(&inferred));
                    let Some((ps, ret)) = self.delegate_sig(&pt) else {
                        continue;
                    };
                    if ps.iter().any(Ty::has_params) || !ret.has_params() {
                        continue;
                    }
                    if let Some(rt) = self.trial_lambda(li, &ps, None) {
                        let before = inferred.iter().filter(|t| t.is_some()).count();
                        self.unify(&ret, &rt, n_owner, &mut inferred);
                        progress |= inferred.iter().filter(|t| t.is_some()).count() > before;
                    }
                }
                if !progress {
                    break;
                }
            }
            if inferred.iter().any(Option::is_none) {
                return Err((
                    format!(
                        "the type arguments of `{}` cannot be inferred from the arguments; give them explicitly",
                        mem.name
                    ),
                    g.span,
                ));
            }
        }
        let targs = partial(&inferred);
        // Applicability.
        let mut arg_tys = Vec::with_capacity(n_args);
        for k in 0..n_args {
            let pt = ptype(param_of[k], is_expanded_arg(k)).subst(&targs);
            if is_ext && k == 0 {
                if let Some(r) = &g.recv
                    && self.implicit(r.clone(), &pt).is_err()
                {
                    return Err(("receiver does not fit".into(), g.span));
                }
            } else {
                let a = &pre[k - offset];
                match &a.form {
                    Form::Value(v) => {
                        if self.implicit(v.clone(), &pt).is_err() {
                            let (vn, pn) = (self.ty_name(&v.ty), self.ty_name(&pt));
                            let pname = &params[param_of[k]].name;
                            return Err((
                                format!(
                                    "argument {} (`{pname}`): cannot convert from `{vn}` to `{pn}`",
                                    k + 1 - offset
                                ),
                                a.span,
                            ));
                        }
                    }
                    Form::Place(_, t) => {
                        if t != &pt && !t.is_unknown() && !pt.is_unknown() {
                            let (vn, pn) = (self.ty_name(t), self.ty_name(&pt));
                            return Err((
                                format!(
                                    "`out`/`ref` argument {} must be exactly `{pn}`, not `{vn}`",
                                    k + 1 - offset
                                ),
                                a.span,
                            ));
                        }
                    }
                    Form::OutDecl(Some(t), ..) => {
                        if t != &pt && !pt.is_unknown() {
                            let (vn, pn) = (self.ty_name(t), self.ty_name(&pt));
                            return Err((
                                format!(
                                    "`out` argument {} must be declared `{pn}`, not `{vn}`",
                                    k + 1 - offset
                                ),
                                a.span,
                            ));
                        }
                    }
                    Form::OutDecl(None, ..) => {}
                    Form::Lambda(li) => {
                        let Some((ps, ret)) = self.delegate_sig(&pt) else {
                            let pn = self.ty_name(&pt);
                            return Err((
                                format!(
                                    "a lambda cannot convert to `{pn}`, which is not a delegate type"
                                ),
                                a.span,
                            ));
                        };
                        let n_lambda = self.lambdas[*li].params.len();
                        if n_lambda != ps.len() {
                            return Err((
                                format!(
                                    "the lambda takes {n_lambda} parameters but the delegate takes {}",
                                    ps.len()
                                ),
                                a.span,
                            ));
                        }
                        if self.trial_lambda(*li, &ps, Some(ret)).is_none() {
                            return Err((
                                "the lambda's body does not fit the delegate's result type"
                                    .to_string(),
                                a.span,
                            ));
                        }
                    }
                }
            }
            arg_tys.push(pt);
        }
        Ok(Binding {
            member: m,
            targs,
            param_of,
            expanded,
            arg_tys,
            generic: n_method > 0,
        })
    }

    /// Whether a single argument at the `params` position is the array itself.
    fn wants_expansion(&self, pre: &[PreArg], i: usize, array_ty: &Ty) -> bool {
        if pre.len() > i + 1 {
            return true;
        }
        match &pre[i].form {
            Form::Value(v) => {
                !(matches!(v.ty, Ty::Array(_) | Ty::Null | Ty::Unknown)
                    || (self.implicit_exists(&v.ty, array_ty) && !array_ty.has_params()))
            }
            _ => true,
        }
    }

    /// Checks a pending lambda without reporting; gives its result type if it checks.
    fn trial_lambda(&mut self, li: usize, ps: &[Ty], ret: Option<Ty>) -> Option<Ty> {
        let (params, body, span) = {
            let l = &self.lambdas[li];
            (l.params.clone(), l.body.clone(), l.span)
        };
        self.trial += 1;
        let saved = self.trial_failed;
        self.trial_failed = false;
        let (_, rt) = self.lambda_body(&params, &body, ps, ret, span);
        let ok = !self.trial_failed;
        self.trial_failed = saved;
        self.trial -= 1;
        ok.then_some(rt)
    }

    /// Infers method type parameters (numbered from `n_owner`) by matching `p` against `a`.
    pub(crate) fn unify(&self, p: &Ty, a: &Ty, n_owner: usize, inferred: &mut [Option<Ty>]) {
        match p {
            Ty::Param(i) if (*i as usize) >= n_owner => {
                let slot = &mut inferred[*i as usize - n_owner];
                if matches!(a, Ty::Null | Ty::Lambda(_)) {
                    return;
                }
                match slot {
                    None => *slot = Some(a.clone()),
                    Some(t)
                        if t != a && self.implicit_exists(t, a) && !self.implicit_exists(a, t) =>
                    {
                        *slot = Some(a.clone())
                    }
                    _ => {}
                }
            }
            Ty::Array(pe) => {
                if let Ty::Array(ae) = a {
                    self.unify(pe, ae, n_owner, inferred);
                } else if let Some(e) = self.lib.element_type(a) {
                    self.unify(pe, &e, n_owner, inferred);
                }
            }
            Ty::Nullable(pe) => {
                if let Ty::Nullable(ae) = a {
                    self.unify(pe, ae, n_owner, inferred);
                } else {
                    self.unify(pe, a, n_owner, inferred);
                }
            }
            Ty::Named(id, pargs) if p.has_params() => {
                if let Some(aargs) = self.lib.as_instance_of(a, *id) {
                    for (pp, aa) in pargs.iter().zip(&aargs) {
                        self.unify(pp, aa, n_owner, inferred);
                    }
                }
            }
            _ => {}
        }
    }

    fn pick_best(
        &mut self,
        mut bs: Vec<Binding>,
        pre: &[PreArg],
    ) -> Result<Binding, Box<(Binding, Binding)>> {
        if bs.len() == 1 {
            return Ok(bs.remove(0));
        }
        let n = bs.len();
        // For lambda arguments: each candidate's delegate result type and the lambda's own
        // result type under that candidate's parameter types.
        let off0 = bs[0].arg_tys.len() - pre.len();
        let mut lambda_rets: Vec<Vec<Option<(Ty, Ty)>>> = Vec::new();
        for b in &bs {
            let mut row = Vec::new();
            for (k, t) in b.arg_tys.iter().enumerate() {
                let li = match k
                    .checked_sub(off0)
                    .and_then(|i| pre.get(i))
                    .map(|a| &a.form)
                {
                    Some(Form::Lambda(li)) => Some(*li),
                    _ => None,
                };
                row.push(match (li, self.delegate_sig(t)) {
                    (Some(li), Some((ps, ret))) => {
                        self.trial_lambda(li, &ps, None).map(|rt| (rt, ret))
                    }
                    _ => None,
                });
            }
            lambda_rets.push(row);
        }
        let arg_types: Vec<Option<Ty>> = (0..bs[0].arg_tys.len())
            .map(|k| {
                let off = bs[0].arg_tys.len() - pre.len();
                if k < off {
                    None
                } else {
                    match &pre[k - off].form {
                        Form::Value(v) => Some(v.ty.clone()),
                        _ => None,
                    }
                }
            })
            .collect();
        let better = |ia: usize, ib: usize| -> bool {
            let (a, b) = (&bs[ia], &bs[ib]);
            if a.arg_tys.len() != b.arg_tys.len() {
                return false;
            }
            let mut any = false;
            for k in 0..a.arg_tys.len() {
                if let (Some(Some((rt, ra))), Some(Some((_, rb)))) =
                    (lambda_rets[ia].get(k), lambda_rets[ib].get(k))
                {
                    if self.better_target(rt, rb, ra) {
                        return false;
                    }
                    if self.better_target(rt, ra, rb) {
                        any = true;
                    }
                }
            }
            for (k, at) in arg_types.iter().enumerate() {
                let Some(at) = at else { continue };
                let (pa, pb) = (&a.arg_tys[k], &b.arg_tys[k]);
                if self.better_target(at, pb, pa) {
                    return false;
                }
                if self.better_target(at, pa, pb) {
                    any = true;
                }
            }
            if any {
                return true;
            }
            // Tie breaks: non-generic over generic, normal over expanded `params`, fewer
            // defaults.
            let params_in = |bi: &Binding| -> usize {
                self.lib
                    .member(bi.member)
                    .params
                    .iter()
                    .filter(|p| {
                        matches!(p.ty, Ty::Param(_))
                            || p.ty.has_params() && delegate_result_is_param(&p.ty)
                    })
                    .count()
            };
            let more_specific = a.generic && b.generic && params_in(a) < params_in(b);
            (!a.generic && b.generic)
                || more_specific
                || (!a.expanded && b.expanded)
                || (a.generic == b.generic
                    && a.expanded == b.expanded
                    && !a.param_of.is_empty()
                    && self.lib.member(a.member).params.len()
                        < self.lib.member(b.member).params.len())
        };
        for i in 0..n {
            if (0..n).all(|j| i == j || better(i, j)) {
                return Ok(bs.swap_remove(i));
            }
        }
        let b = bs.swap_remove(1);
        let a = bs.swap_remove(0);
        Err(Box::new((a, b)))
    }

    fn lower_call(&mut self, b: Binding, g: Group, pre: Vec<PreArg>, span: Span) -> Expr {
        let lib = self.lib;
        let mem = lib.member(b.member);
        let is_ext = mem.kind == MemberKind::Extension;
        let offset = usize::from(is_ext);
        let n_params = mem.params.len();
        let mut slots: Vec<Option<Expr>> = vec![None; n_params];
        let mut packed: Vec<Expr> = Vec::new();
        let recv = g.recv;
        let mut recv_ir = None;
        if is_ext {
            if let Some(r) = recv {
                slots[0] = Some(self.coerce(r, &b.arg_tys[0]));
            }
        } else if !mem.is_static || mem.kind == MemberKind::Indexer {
            recv_ir = recv.map(Box::new);
        }
        let mut after: Vec<usize> = Vec::new();
        for (i, a) in pre.into_iter().enumerate() {
            let k = i + offset;
            let p = b.param_of[k];
            let pt = b.arg_tys[k].clone();
            let x = match a.form {
                Form::Value(v) => self.coerce(v, &pt),
                Form::Lambda(li) => {
                    let (params, body, lspan) = {
                        let l = &self.lambdas[li];
                        (l.params.clone(), l.body.clone(), l.span)
                    };
                    match self.delegate_sig(&pt) {
                        Some((ps, ret)) => {
                            self.lambda(&params, &body, &ps, Some(ret), pt.clone(), lspan)
                        }
                        None => self.poisoned(lspan),
                    }
                }
                Form::Place(place, _) => {
                    if let Place::Local(id) = &place {
                        after.push(id.0 as usize);
                    }
                    Expr {
                        kind: ExprKind::Ref(Box::new(place)),
                        ty: pt.clone(),
                        span: a.span,
                    }
                }
                Form::OutDecl(t, name, nspan) => {
                    let t = t.unwrap_or_else(|| pt.clone());
                    let id = self.declare(&name, t.clone(), nspan);
                    after.push(id.0 as usize);
                    Expr {
                        kind: ExprKind::Ref(Box::new(Place::Local(id))),
                        ty: t,
                        span: a.span,
                    }
                }
            };
            if b.expanded && p == n_params - 1 {
                packed.push(x);
            } else {
                slots[p] = Some(x);
            }
        }
        if n_params > 0
            && (b.expanded
                || (slots[n_params - 1].is_none()
                    && mem.params.last().is_some_and(|p| p.mode == Mode::Params)))
        {
            let elem = match mem.params[n_params - 1].ty.subst(&b.targs) {
                Ty::Array(e) => *e,
                t => t,
            };
            slots[n_params - 1] = Some(Expr {
                kind: ExprKind::ArrayInit(elem.clone(), packed),
                ty: Ty::Array(Box::new(elem)),
                span,
            });
        }
        let mut args = Vec::with_capacity(n_params);
        for (i, s) in slots.into_iter().enumerate() {
            match s {
                Some(x) => args.push(x),
                None => {
                    let p = &mem.params[i];
                    let t = p.ty.subst(&b.targs);
                    args.push(self.default_arg(
                        p.default.as_deref().unwrap_or("default"),
                        &t,
                        span,
                    ));
                }
            }
        }
        for id in after {
            self.assigned[id] = true;
        }
        let ty = mem.ty.subst(&b.targs);
        Expr {
            kind: ExprKind::Call {
                member: b.member,
                type_args: b.targs,
                recv: recv_ir,
                args,
            },
            ty,
            span,
        }
    }

    /// The value of an optional parameter's default.
    fn default_arg(&mut self, text: &str, ty: &Ty, span: Span) -> Expr {
        let c = match text {
            "default" => {
                return Expr {
                    kind: ExprKind::Default(ty.clone()),
                    ty: ty.clone(),
                    span,
                };
            }
            "null" => Const::Null,
            "true" => Const::Bool(true),
            "false" => Const::Bool(false),
            t if t.starts_with('"') => Const::String(Arc::from(t.trim_matches('"'))),
            t => match t.parse::<i32>() {
                Ok(v) => Const::Int(v),
                Err(_) => match t.parse::<f64>() {
                    Ok(v) => Const::Double(v),
                    Err(_) => {
                        return Expr {
                            kind: ExprKind::Default(ty.clone()),
                            ty: ty.clone(),
                            span,
                        };
                    }
                },
            },
        };
        let e = const_expr(c, span);
        match self.implicit(e, ty) {
            Ok(x) | Err(x) => x,
        }
    }

    /// Checks a lambda body with known parameter types. With `ret` unknown, the result type
    /// is inferred from the body.
    pub(crate) fn lambda_body(
        &mut self,
        params: &[ast::LambdaParam],
        body: &ast::LambdaBody,
        param_tys: &[Ty],
        ret: Option<Ty>,
        span: Span,
    ) -> (Lambda, Ty) {
        let first_local = self.locals.len();
        self.scopes.push(Vec::new());
        let saved_reachable = self.reachable;
        let saved_jumps = std::mem::take(&mut self.jumps);
        let mut ids = Vec::new();
        for (p, t) in params.iter().zip(param_tys) {
            let t = match &p.ty {
                Some(written) => self.resolve_type(written),
                None => t.clone(),
            };
            let id = self.declare(&p.name.name, t, p.name.span);
            self.assigned[id.0 as usize] = true;
            ids.push(id);
        }
        let (stmts, rt) = match body {
            ast::LambdaBody::Expr(e) => {
                let x = self.expr(e, ret.as_ref());
                let (x, rt) = match &ret {
                    Some(Ty::Void) => (x, Ty::Void),
                    Some(r) if !r.has_params() => {
                        let x = self.rvalue(x);
                        let x = self.coerce(x, r);
                        (x, r.clone())
                    }
                    _ => {
                        let t = x.ty.clone();
                        (x, t)
                    }
                };
                let stmt = if rt == Ty::Void {
                    Stmt::Expr(x)
                } else {
                    Stmt::Return(Some(x))
                };
                (vec![stmt], rt)
            }
            ast::LambdaBody::Block(b) => {
                let ctx = match &ret {
                    Some(r) if !r.has_params() => ReturnCtx::Known(r.clone()),
                    _ => ReturnCtx::Infer(Vec::new()),
                };
                self.returns.push(ctx);
                self.reachable = true;
                let stmts = self.block_stmts(&b.stmts);
                let end_reachable = self.reachable;
                let rt = match self.returns.pop() {
                    Some(ReturnCtx::Known(r)) => r,
                    Some(ReturnCtx::Infer(types)) => {
                        if types.is_empty() {
                            Ty::Void
                        } else {
                            let mut best = types[0].0.clone();
                            for (t, _) in &types[1..] {
                                best = self.unify_branches(&best, t).unwrap_or(best);
                            }
                            best
                        }
                    }
                    None => Ty::Unknown,
                };
                if end_reachable && rt != Ty::Void {
                    self.error(
                        &codes::MISSING_RETURN,
                        b.span,
                        "not all code paths of the lambda return a value".into(),
                    )
                    .label("the end of this block can be reached")
                    .help("end every path with `return ...;`");
                }
                (stmts, rt)
            }
        };
        self.jumps = saved_jumps;
        self.reachable = saved_reachable;
        self.scopes.pop();
        let _ = span;
        let mut captures: Vec<LocalId> = Vec::new();
        turnpike_ir::ir::for_each_local(&stmts, &mut |l| {
            let i = l.0 as usize;
            if i < first_local
                && self.local_loop_depth.get(i).copied().unwrap_or(0) > 0
                && !captures.contains(&l)
            {
                captures.push(l);
            }
        });
        captures.sort();
        (
            Lambda {
                params: ids,
                body: stmts,
                ret: rt.clone(),
                captures,
            },
            rt,
        )
    }
}

/// Whether a delegate type's last type argument (its result) is a bare type parameter, as in
/// `Func<TSource, TResult>`: less specific than `Func<TSource, int>`.
fn delegate_result_is_param(t: &Ty) -> bool {
    matches!(t, Ty::Named(_, args) if matches!(args.last(), Some(Ty::Param(_))) && args.len() > 1)
}
