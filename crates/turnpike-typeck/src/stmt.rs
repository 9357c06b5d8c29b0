//! Statements of `@{ }` blocks and lambda bodies, with reachability and definite assignment.

use std::sync::Arc;

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::Ty;
use turnpike_ir::ir::{BinOp, Catch, Expr, ExprKind, LocalId, OpType, Place, Stmt, SwitchArm};
use turnpike_syntax::ast::{self, StmtKind as S};

use crate::flow::Flow;
use crate::{Checker, Jump, ReturnCtx};

impl Checker<'_> {
    /// The statements of a top-level `@{ }` block; every path must return a value.
    pub(crate) fn top_block(&mut self, b: &ast::Block) -> Vec<Stmt> {
        let stmts = self.block_stmts(&b.stmts);
        if self.reachable {
            let end = Span::new(
                b.span.file,
                b.span.end.saturating_sub(1) as usize,
                b.span.end as usize,
            );
            self.error(
                &codes::MISSING_RETURN,
                end,
                "not all code paths return a value".into(),
            )
            .label("the end of the block can be reached")
            .help("a policy expression block must end every path with `return ...;`");
        }
        stmts
    }

    /// A `{ }` scope.
    pub(crate) fn block_stmts(&mut self, stmts: &[ast::Stmt]) -> Vec<Stmt> {
        self.scopes.push(Vec::new());
        let mut out = Vec::new();
        let mut warned = false;
        for s in stmts {
            if !self.reachable && !warned && !matches!(s.kind, S::Empty | S::LocalFunction(_)) {
                warned = true;
                self.error(&codes::UNREACHABLE_CODE, s.span, "unreachable code".into())
                    .label("this never runs");
            }
            self.stmt(s, &mut out);
        }
        self.scopes.pop();
        out
    }

    /// Declares a local in the innermost scope.
    pub(crate) fn declare(&mut self, name: &str, ty: Ty, span: Span) -> LocalId {
        if self.trial == 0 && (self.lookup_local(name).is_some() || name == "context") {
            self.error(
                &codes::DUPLICATE_VARIABLE,
                span,
                format!("a local variable named `{name}` is already defined in this scope"),
            )
            .label("declared again")
            .help("choose another name");
        }
        let id = self.new_local(name, ty);
        if let Some(s) = self.scopes.last_mut() {
            s.push((name.to_string(), id));
        }
        id
    }

    /// A loop body: its locals are fresh in each iteration.
    fn loop_body(&mut self, s: &ast::Stmt) -> Vec<Stmt> {
        self.loop_depth += 1;
        let b = self.sub_block(s);
        self.loop_depth -= 1;
        b
    }

    fn sub_block(&mut self, s: &ast::Stmt) -> Vec<Stmt> {
        match &s.kind {
            S::Block(b) => self.block_stmts(&b.stmts),
            _ => {
                self.scopes.push(Vec::new());
                let mut out = Vec::new();
                self.stmt(s, &mut out);
                self.scopes.pop();
                out
            }
        }
    }

    fn stmt(&mut self, s: &ast::Stmt, out: &mut Vec<Stmt>) {
        let span = s.span;
        match &s.kind {
            S::Block(b) => {
                let inner = self.block_stmts(&b.stmts);
                out.push(Stmt::Block(inner));
            }
            S::Empty => {}
            S::Declaration(d) => self.declaration(d, out),
            S::Expr(e) => {
                if !is_statement_expression(e) {
                    self.error(&codes::NOT_A_STATEMENT, e.span, "only assignments, calls, increments, decrements and `new` can be used as a statement".into())
                        .label("its value is thrown away")
                        .help("assign it to a variable or `return` it");
                }
                let x = self.expr(e, None);
                out.push(Stmt::Expr(x));
            }
            S::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.condition(cond);
                // A constant condition makes the other branch unreachable, as C#'s flow
                // analysis has it (`if (true) return x;` ends every path).
                let constant = match c.kind {
                    ExprKind::Const(turnpike_ir::ir::Const::Bool(b)) => Some(b),
                    _ => None,
                };
                let before = self.flow();
                let t = self.sub_block(then);
                let mut after_then = self.flow();
                self.set_flow(before);
                let e = match otherwise {
                    Some(o) => self.sub_block(o),
                    None => Vec::new(),
                };
                let mut after_else = self.flow();
                match constant {
                    Some(true) => after_else.reachable = false,
                    Some(false) => after_then.reachable = false,
                    None => {}
                }
                self.set_flow(after_then.merge(&after_else));
                out.push(Stmt::If(c, t, e));
            }
            S::While { cond, body } => {
                let c = self.condition(cond);
                let forever = is_const_true(&c);
                let before = self.flow();
                self.jumps.push(Jump {
                    is_loop: true,
                    breaks: None,
                });
                let b = self.loop_body(body);
                let broke = self.jumps.pop().and_then(|j| j.breaks);
                self.set_flow(before);
                if forever && broke.is_none() {
                    self.reachable = false;
                }
                out.push(Stmt::Loop {
                    cond: if forever { None } else { Some(c) },
                    body: b,
                    step: Vec::new(),
                    do_while: false,
                });
            }
            S::Do { body, cond } => {
                self.jumps.push(Jump {
                    is_loop: true,
                    breaks: None,
                });
                let b = self.loop_body(body);
                let broke = self.jumps.pop().and_then(|j| j.breaks);
                let c = self.condition(cond);
                let forever = is_const_true(&c);
                if forever && broke.is_none() {
                    self.reachable = false;
                } else if let Some(b) = broke {
                    let now = self.flow();
                    self.set_flow(now.merge(&b));
                }
                out.push(Stmt::Loop {
                    cond: Some(c),
                    body: b,
                    step: Vec::new(),
                    do_while: true,
                });
            }
            S::For {
                init,
                cond,
                iter,
                body,
            } => {
                self.scopes.push(Vec::new());
                let mut pre = Vec::new();
                match init {
                    Some(ast::ForInit::Declaration(d)) => self.declaration(d, &mut pre),
                    Some(ast::ForInit::Exprs(es)) => {
                        for e in es {
                            let x = self.expr(e, None);
                            pre.push(Stmt::Expr(x));
                        }
                    }
                    None => {}
                }
                let c = cond.as_ref().map(|c| self.condition(c));
                let forever = c.as_ref().is_none_or(is_const_true);
                let before = self.flow();
                self.jumps.push(Jump {
                    is_loop: true,
                    breaks: None,
                });
                let b = self.loop_body(body);
                let broke = self.jumps.pop().and_then(|j| j.breaks);
                let step: Vec<Stmt> = iter
                    .iter()
                    .map(|e| {
                        let x = self.expr(e, None);
                        Stmt::Expr(x)
                    })
                    .collect();
                self.set_flow(before);
                if forever && broke.is_none() {
                    self.reachable = false;
                }
                self.scopes.pop();
                pre.push(Stmt::Loop {
                    cond: if forever { None } else { c },
                    body: b,
                    step,
                    do_while: false,
                });
                out.push(Stmt::Block(pre));
            }
            S::Foreach {
                ty,
                name,
                expr,
                body,
            } => {
                let coll = self.expr(expr, None);
                let coll = self.rvalue(coll);
                let elem = if coll.ty.is_unknown() {
                    Some(Ty::Unknown)
                } else {
                    self.lib.element_type(&coll.ty)
                };
                let elem = match elem {
                    Some(e) => e,
                    None => {
                        let tn = self.ty_name(&coll.ty);
                        self.error(
                            &codes::NOT_ENUMERABLE,
                            coll.span,
                            format!("`foreach` cannot loop over a value of type `{tn}`"),
                        )
                        .label("not enumerable");
                        Ty::Unknown
                    }
                };
                let is_var = crate::names::is_var(ty);
                let declared = if is_var {
                    elem.clone()
                } else {
                    self.resolve_type(ty)
                };
                self.scopes.push(Vec::new());
                // The loop variable is a fresh variable in each iteration.
                self.loop_depth += 1;
                let var = self.declare(&name.name, declared.clone(), name.span);
                self.loop_depth -= 1;
                self.assigned[var.0 as usize] = true;
                let convert = if declared != elem && !elem.is_unknown() {
                    let read = Expr {
                        kind: ExprKind::Local(var),
                        ty: elem.clone(),
                        span: name.span,
                    };
                    Some(self.explicit(read, &declared))
                } else {
                    None
                };
                let before = self.flow();
                self.jumps.push(Jump {
                    is_loop: true,
                    breaks: None,
                });
                let b = self.loop_body(body);
                self.jumps.pop();
                self.set_flow(before);
                self.scopes.pop();
                out.push(Stmt::Foreach {
                    var,
                    collection: coll,
                    convert,
                    body: b,
                });
            }
            S::Switch { expr, sections } => self.switch(expr, sections, span, out),
            S::Return(value) => {
                let r = self.return_stmt(value.as_ref(), span);
                out.push(r);
                self.unreachable();
            }
            S::Throw(value) => {
                let x = value.as_ref().map(|v| {
                    let x = self.expr(v, None);
                    self.check_exception_type(&x.ty, x.span);
                    x
                });
                out.push(Stmt::Throw(x));
                self.unreachable();
            }
            S::Break => {
                let here = self.flow();
                match self.jumps.last_mut() {
                    Some(j) => {
                        j.breaks = Some(match j.breaks.take() {
                            Some(f) => f.merge(&here),
                            None => here,
                        });
                    }
                    None => {
                        self.error(
                            &codes::MISPLACED_JUMP,
                            span,
                            "`break` outside a loop or `switch`".into(),
                        )
                        .label("nothing to break out of");
                    }
                }
                out.push(Stmt::Break);
                self.unreachable();
            }
            S::Continue => {
                if !self.jumps.iter().any(|j| j.is_loop) {
                    self.error(
                        &codes::MISPLACED_JUMP,
                        span,
                        "`continue` outside a loop".into(),
                    )
                    .label("no loop to continue");
                }
                out.push(Stmt::Continue);
                self.unreachable();
            }
            S::Using { resource, body } => {
                self.scopes.push(Vec::new());
                let mut pre = Vec::new();
                match resource {
                    ast::ForInit::Declaration(d) => self.declaration(d, &mut pre),
                    ast::ForInit::Exprs(es) => {
                        for e in es {
                            let x = self.expr(e, None);
                            pre.push(Stmt::Expr(x));
                        }
                    }
                }
                let b = self.loop_body(body);
                pre.extend(b);
                self.scopes.pop();
                out.push(Stmt::Block(pre));
            }
            S::LocalFunction(f) => self.local_function(f, span, out),
            S::Try {
                body,
                catches,
                finally,
            } => {
                let before = self.flow();
                let b = self.block_stmts(&body.stmts);
                let mut merged = self.flow();
                let mut cs = Vec::new();
                for c in catches {
                    self.set_flow(before.clone());
                    self.scopes.push(Vec::new());
                    let ty_name: Arc<str> = match &c.ty {
                        Some(t) => {
                            let ty = self.resolve_type(t);
                            self.check_exception_type(&ty, t.span);
                            Arc::from(match &ty {
                                Ty::Named(id, _) => self.lib.ty(*id).name.as_str(),
                                _ => "Exception",
                            })
                        }
                        None => Arc::from("Exception"),
                    };
                    let var = match (&c.name, &c.ty) {
                        (Some(n), Some(t)) => {
                            let ty = self.resolve_type(t);
                            let id = self.declare(&n.name, ty, n.span);
                            self.assigned[id.0 as usize] = true;
                            Some(id)
                        }
                        _ => None,
                    };
                    let filter = c.filter.as_ref().map(|f| self.condition(f));
                    let body = self.block_stmts(&c.body.stmts);
                    self.scopes.pop();
                    merged = merged.merge(&self.flow());
                    cs.push(Catch {
                        ty: ty_name,
                        var,
                        filter,
                        body,
                    });
                }
                self.set_flow(merged);
                let fin = match finally {
                    Some(f) => {
                        let reach = self.reachable;
                        self.reachable = true;
                        let x = self.block_stmts(&f.stmts);
                        self.reachable = reach && self.reachable;
                        x
                    }
                    None => Vec::new(),
                };
                out.push(Stmt::Try {
                    body: b,
                    catches: cs,
                    finally: fin,
                });
            }
        }
    }

    fn unreachable(&mut self) {
        self.reachable = false;
        for a in &mut self.assigned {
            *a = true;
        }
    }

    pub(crate) fn flow(&self) -> Flow {
        Flow {
            assigned: self.assigned.clone(),
            reachable: self.reachable,
        }
    }

    pub(crate) fn set_flow(&mut self, f: Flow) {
        let n = self.assigned.len();
        self.assigned = f.assigned;
        // Locals created since keep their own state (they are out of scope anyway).
        self.assigned.resize(n, true);
        self.reachable = f.reachable;
    }

    fn declaration(&mut self, d: &ast::LocalDecl, out: &mut Vec<Stmt>) {
        let is_var = crate::names::is_var(&d.ty);
        let declared = if is_var {
            None
        } else {
            Some(self.resolve_type(&d.ty))
        };
        for v in &d.vars {
            let init = match &v.init {
                Some(ast::VarInit::Expr(e)) => {
                    let x = self.expr(e, declared.as_ref());
                    let x = self.rvalue(x);
                    Some(x)
                }
                Some(ast::VarInit::Nested(items)) if is_named_value_braces(items) => Some(Expr {
                    kind: ExprKind::Unsupported(Arc::from("an unresolved named value")),
                    ty: Ty::Unknown,
                    span: v.name.span,
                }),
                Some(ast::VarInit::Nested(items)) => match &declared {
                    Some(Ty::Array(et)) => {
                        let et = (**et).clone();
                        let mut xs = Vec::new();
                        for it in items {
                            if let ast::VarInit::Expr(e) = it {
                                let x = self.expr(e, Some(&et));
                                xs.push(self.coerce(x, &et));
                            }
                        }
                        Some(Expr {
                            kind: ExprKind::ArrayInit(et.clone(), xs),
                            ty: Ty::Array(Box::new(et)),
                            span: v.name.span,
                        })
                    }
                    _ => Some(self.unsupported(v.name.span, "this initializer")),
                },
                None => None,
            };
            let ty = match (&declared, &init) {
                (Some(t), _) => t.clone(),
                (None, Some(x)) => match &x.ty {
                    Ty::Null => {
                        self.error(
                            &codes::CANNOT_INFER_VAR,
                            v.name.span,
                            format!("cannot infer the type of `{}` from `null`", v.name.name),
                        )
                        .label("`var` needs a typed value")
                        .help("write the type instead of `var`");
                        Ty::Unknown
                    }
                    t => t.clone(),
                },
                (None, None) => {
                    self.error(
                        &codes::CANNOT_INFER_VAR,
                        v.name.span,
                        format!("`var {}` needs an initializer", v.name.name),
                    )
                    .label("no value to infer the type from");
                    Ty::Unknown
                }
            };
            let init = init.map(|x| self.coerce(x, &ty));
            if d.is_const
                && let Some(x) = &init
                && !is_constant(x)
            {
                self.error(
                    &codes::NOT_CONSTANT,
                    x.span,
                    format!("the value of `const {}` must be a constant", v.name.name),
                )
                .label("not a constant")
                .help("drop `const`");
            }
            let id = self.declare(&v.name.name, ty.clone(), v.name.span);
            if d.is_const {
                self.const_locals.push(id);
            }
            if let Some(x) = init {
                self.assigned[id.0 as usize] = true;
                out.push(Stmt::Expr(Expr {
                    kind: ExprKind::Assign(Box::new(Place::Local(id)), Box::new(x)),
                    ty,
                    span: v.name.span,
                }));
            }
        }
    }

    fn return_stmt(&mut self, value: Option<&ast::Expr>, span: Span) -> Stmt {
        let ctx_ty = match self.returns.last() {
            Some(ReturnCtx::Known(t)) => Some(t.clone()),
            _ => None,
        };
        match value {
            None => {
                if ctx_ty.as_ref() != Some(&Ty::Void) {
                    self.error(&codes::RETURN_TYPE, span, "`return` needs a value here".into())
                        .label("returns nothing")
                        .help("a policy expression block returns the value of the policy attribute: `return ...;`");
                }
                Stmt::Return(None)
            }
            Some(v) => {
                let x = self.expr(v, ctx_ty.as_ref());
                let x = self.rvalue(x);
                match ctx_ty {
                    Some(Ty::Void) => {
                        self.error(
                            &codes::RETURN_TYPE,
                            x.span,
                            "this lambda returns nothing (`void`); `return` cannot have a value"
                                .into(),
                        )
                        .label("unexpected value");
                        Stmt::Return(Some(x))
                    }
                    Some(t) => Stmt::Return(Some(self.coerce(x, &t))),
                    None => {
                        if let Some(ReturnCtx::Infer(list)) = self.returns.last_mut() {
                            list.push((x.ty.clone(), x.span));
                        }
                        Stmt::Return(Some(x))
                    }
                }
            }
        }
    }

    fn switch(
        &mut self,
        expr: &ast::Expr,
        sections: &[ast::SwitchSection],
        span: Span,
        out: &mut Vec<Stmt>,
    ) {
        let g = self.expr(expr, None);
        let g = self.rvalue(g);
        let tmp = self.temp(g.ty.clone());
        let read = Expr {
            kind: ExprKind::Local(tmp),
            ty: g.ty.clone(),
            span: g.span,
        };
        let before = self.flow();
        let mut has_default = false;
        let mut seen: Vec<String> = Vec::new();
        let mut arms = Vec::new();
        self.jumps.push(Jump {
            is_loop: false,
            breaks: None,
        });
        for sec in sections {
            self.set_flow(before.clone());
            self.scopes.push(Vec::new());
            let mut labels = Vec::new();
            for l in &sec.labels {
                match l {
                    ast::SwitchLabel::Default(dspan) => {
                        if has_default {
                            self.error(
                                &codes::DUPLICATE_CASE,
                                *dspan,
                                "the switch already has a `default` label".into(),
                            )
                            .label("second `default`");
                        }
                        has_default = true;
                        labels.push(None);
                    }
                    ast::SwitchLabel::Case {
                        pattern,
                        guard,
                        span: lspan,
                    } => {
                        if let ast::Pattern::Constant(c) = pattern {
                            let key = format!("{:?}", strip_spans(c));
                            if seen.contains(&key) {
                                self.error(
                                    &codes::DUPLICATE_CASE,
                                    *lspan,
                                    "the switch already has a `case` with this value".into(),
                                )
                                .label("duplicate label");
                            }
                            seen.push(key);
                        }
                        let mut test = self.pattern_test(read.clone(), pattern, *lspan);
                        if let ExprKind::Binary(_, _, _, rhs) = &test.kind
                            && let ast::Pattern::Constant(_) = pattern
                            && !is_constant(rhs)
                            && !matches!(rhs.kind, ExprKind::Convert(..))
                        {
                            self.error(
                                &codes::NOT_CONSTANT,
                                *lspan,
                                "a `case` label must be a constant".into(),
                            )
                            .label("not a constant");
                        }
                        if let Some(gd) = guard {
                            let gc = self.condition(gd);
                            test = Expr {
                                span: test.span,
                                kind: ExprKind::Logical(true, Box::new(test), Box::new(gc)),
                                ty: Ty::BOOL,
                            };
                        }
                        labels.push(Some(test));
                    }
                }
            }
            self.reachable = true;
            let mut body = Vec::new();
            for s in &sec.stmts {
                self.stmt(s, &mut body);
            }
            if self.reachable {
                self.error(
                    &codes::CASE_FALLTHROUGH,
                    sec_span(sec).unwrap_or(span),
                    "control cannot fall through from one case label to another".into(),
                )
                .label("this section's end can be reached")
                .help("end the section with `break;`, `return ...;` or `throw`");
            }
            self.scopes.pop();
            arms.push(SwitchArm { labels, body });
        }
        let broke = self.jumps.pop().and_then(|j| j.breaks);
        // After the switch: the states at each `break`, and the state before it when no
        // label may match.
        let mut after = Flow {
            assigned: before.assigned.clone(),
            reachable: false,
        };
        if !has_default {
            after = before.clone();
        }
        if let Some(b) = broke {
            after = after.merge(&b);
        }
        self.set_flow(after);
        let _ = BinOp::Eq;
        let _ = OpType::Object;
        out.push(Stmt::Switch(g, tmp, arms));
    }

    fn local_function(&mut self, f: &ast::LocalFunction, span: Span, out: &mut Vec<Stmt>) {
        let lib = self.lib;
        let mut ptys = Vec::new();
        for p in &f.params {
            ptys.push(self.resolve_type(&p.ty));
        }
        let ret = match &f.returns {
            Some(t) => self.resolve_type(t),
            None => Ty::Void,
        };
        let (dname, mut args) = if ret == Ty::Void {
            ("Action", ptys.clone())
        } else {
            ("Func", ptys.clone())
        };
        if ret != Ty::Void {
            args.push(ret.clone());
        }
        let Some(id) = lib.find_type(dname, args.len()) else {
            let x = self.unsupported(span, "this local function");
            out.push(Stmt::Expr(x));
            return;
        };
        let fty = Ty::Named(id, args);
        let local = self.declare(&f.name.name, fty.clone(), f.name.span);
        self.assigned[local.0 as usize] = true;
        let params: Vec<ast::LambdaParam> = f
            .params
            .iter()
            .map(|p| ast::LambdaParam {
                ty: Some(p.ty.clone()),
                name: p.name.clone(),
            })
            .collect();
        let lam = self.lambda(&params, &f.body, &ptys, Some(ret), fty.clone(), span);
        out.push(Stmt::Expr(Expr {
            kind: ExprKind::Assign(Box::new(Place::Local(local)), Box::new(lam)),
            ty: fty,
            span,
        }));
    }
}

fn sec_span(sec: &ast::SwitchSection) -> Option<Span> {
    sec.labels.first().map(|l| match l {
        ast::SwitchLabel::Case { span, .. } => *span,
        ast::SwitchLabel::Default(s) => *s,
    })
}

fn strip_spans(e: &ast::Expr) -> String {
    turnpike_syntax::printer::print_expr(e)
}

fn is_statement_expression(e: &ast::Expr) -> bool {
    use ast::ExprKind as A;
    match &e.kind {
        A::Call { .. } | A::Assign { .. } | A::Postfix { .. } | A::New(_) | A::Throw(_) => true,
        A::Unary { op, .. } => {
            matches!(op, ast::UnaryOp::PreIncrement | ast::UnaryOp::PreDecrement)
        }
        A::Member {
            null_conditional: true,
            ..
        } => false,
        A::NamedValue(_) => true,
        _ => false,
    }
}

fn is_const_true(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Const(turnpike_ir::ir::Const::Bool(true)))
}

fn is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(_) => true,
        ExprKind::Convert(_, inner) | ExprKind::Unary(_, _, inner) => is_constant(inner),
        ExprKind::Binary(_, _, a, b) => is_constant(a) && is_constant(b),
        _ => false,
    }
}

/// `{{name}}` read as nested initializer braces: a named value the gateway substitutes.
fn is_named_value_braces(items: &[ast::VarInit]) -> bool {
    match items {
        [ast::VarInit::Nested(inner)] => {
            matches!(inner.as_slice(), [ast::VarInit::Expr(e)] if matches!(e.kind, ast::ExprKind::Name { .. } | ast::ExprKind::Member { .. }))
        }
        _ => false,
    }
}
