//! `new` expressions: objects through their constructors, object and collection initializers,
//! arrays, anonymous objects.

use std::sync::Arc;

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::ir::{Const, Expr, ExprKind, Place, Stmt};
use turnpike_ir::library::MemberKind;
use turnpike_ir::{MemberId, Ty};
use turnpike_syntax::ast::{self, ArgModifier, ArgValue};

use crate::Checker;
use crate::expr::{Group, Operand};
use crate::literal::const_expr;

impl Checker<'_> {
    /// `new ...`.
    pub(crate) fn new_expr(&mut self, n: &ast::New, span: Span) -> Expr {
        match n {
            ast::New::Object { ty, args, init } => {
                let t = self.resolve_type(ty);
                if t.is_unknown() {
                    for a in args.iter().flatten() {
                        if let ArgValue::Expr(x) = &a.value {
                            let _ = self.expr_or_lambda_skip(x);
                        }
                    }
                    return Expr {
                        kind: ExprKind::Unsupported(Arc::from("object of an unknown type")),
                        ty: Ty::Unknown,
                        span,
                    };
                }
                let created = self.construct(&t, args.as_deref().unwrap_or(&[]), span);
                match init {
                    None => created,
                    Some(elems) => self.initializer(created, elems, span),
                }
            }
            ast::New::Array {
                element,
                sizes,
                ranks,
                init,
            } => {
                let et = self.resolve_type(element);
                if ranks.len() > 1 || ranks.first().is_some_and(|r| *r > 1) {
                    return self.unsupported(span, "multi-dimensional and jagged arrays");
                }
                match init {
                    Some(items) => {
                        let xs = self.array_items(items, &et);
                        Expr {
                            kind: ExprKind::ArrayInit(et.clone(), xs),
                            ty: Ty::Array(Box::new(et)),
                            span,
                        }
                    }
                    None => {
                        let size = match sizes.first() {
                            Some(s) => {
                                let s = self.expr(s, None);
                                self.coerce(s, &Ty::INT)
                            }
                            None => const_expr(Const::Int(0), span),
                        };
                        Expr {
                            kind: ExprKind::NewArray(et.clone(), Box::new(size)),
                            ty: Ty::Array(Box::new(et)),
                            span,
                        }
                    }
                }
            }
            ast::New::ImplicitArray { rank, init } => {
                if *rank > 1 {
                    return self.unsupported(span, "multi-dimensional arrays");
                }
                let mut xs = Vec::new();
                for it in init {
                    match it {
                        ast::VarInit::Expr(e) => {
                            let x = self.expr(e, None);
                            xs.push(self.rvalue(x));
                        }
                        ast::VarInit::Nested(_) => {
                            return self.unsupported(span, "jagged array initializers");
                        }
                    }
                }
                let mut et: Option<Ty> = None;
                for x in &xs {
                    if matches!(x.ty, Ty::Null) {
                        continue;
                    }
                    et = Some(match et {
                        None => x.ty.clone(),
                        Some(t) => match self.unify_branches(&t, &x.ty) {
                            Some(u) => u,
                            None => {
                                self.error(
                                    &codes::CONDITIONAL_TYPES,
                                    span,
                                    "no best type found for the implicitly-typed array".into(),
                                )
                                .label("elements of unrelated types")
                                .help("write the element type: `new object[] { ... }`");
                                Ty::Unknown
                            }
                        },
                    });
                }
                let et = et.unwrap_or(Ty::Unknown);
                let xs = xs.into_iter().map(|x| self.coerce(x, &et)).collect();
                Expr {
                    kind: ExprKind::ArrayInit(et.clone(), xs),
                    ty: Ty::Array(Box::new(et)),
                    span,
                }
            }
            ast::New::Anonymous(members) => {
                let mut fields = Vec::new();
                for m in members {
                    let x = self.expr(&m.value, None);
                    let x = self.rvalue(x);
                    let name = match (&m.name, &m.value.kind) {
                        (Some(n), _) => n.name.clone(),
                        (None, ast::ExprKind::Name { name, .. }) => name.name.clone(),
                        (None, ast::ExprKind::Member { name, .. }) => name.name.clone(),
                        _ => String::new(),
                    };
                    fields.push((Arc::from(name.as_str()), x));
                }
                let ty = Ty::Anonymous(
                    fields
                        .iter()
                        .map(|(n, x): &(Arc<str>, Expr)| (n.to_string(), x.ty.clone()))
                        .collect(),
                );
                Expr {
                    kind: ExprKind::NewAnonymous(fields),
                    ty,
                    span,
                }
            }
        }
    }

    fn array_items(&mut self, items: &[ast::VarInit], et: &Ty) -> Vec<Expr> {
        let mut xs = Vec::new();
        for it in items {
            match it {
                ast::VarInit::Expr(e) => {
                    let x = self.expr(e, Some(et));
                    xs.push(self.coerce(x, et));
                }
                ast::VarInit::Nested(_) => {
                    let s = self.poisoned(Span::default());
                    xs.push(s);
                }
            }
        }
        xs
    }

    /// Calls a constructor of `t`.
    fn construct(&mut self, t: &Ty, args: &[ast::Arg], span: Span) -> Expr {
        let lib = self.lib;
        let Some((id, targs)) = lib.def_of(t) else {
            return self.poisoned(span);
        };
        let ctors: Vec<(MemberId, Vec<Ty>)> = lib
            .ty(id)
            .members
            .iter()
            .copied()
            .filter(|m| lib.member(*m).kind == MemberKind::Constructor)
            .map(|m| (m, targs.clone()))
            .collect();
        if ctors.is_empty()
            || (args.is_empty()
                && t.is_value_type(lib)
                && !ctors.iter().any(|(m, _)| lib.member(*m).params.is_empty()))
        {
            if args.is_empty() && t.is_value_type(lib) {
                return Expr {
                    kind: ExprKind::Default(t.clone()),
                    ty: t.clone(),
                    span,
                };
            }
            let tn = self.ty_name(t);
            self.error(
                &codes::NO_OVERLOAD,
                span,
                format!("type `{tn}` has no constructor policy expressions may call"),
            )
            .label("cannot be created with `new`");
            return self.poisoned(span);
        }
        let g = Group {
            name: lib.ty(id).name.clone(),
            recv: None,
            candidates: ctors,
            fallback: Vec::new(),
            type_args: Vec::new(),
            span,
            on: t.clone(),
        };
        let mut x = self.resolve_call(g, args, span);
        if !x.ty.is_unknown() {
            x.ty = t.clone();
        }
        x
    }

    /// `new T { A = 1 }`, `new List<int> { 1, 2 }`, `new Dictionary<..> { { k, v }, [k] = v }`.
    fn initializer(&mut self, created: Expr, elems: &[ast::InitElement], span: Span) -> Expr {
        let ty = created.ty.clone();
        let tmp = self.temp(ty.clone());
        let read = Expr {
            kind: ExprKind::Local(tmp),
            ty: ty.clone(),
            span,
        };
        let mut stmts = vec![Stmt::Expr(Expr {
            kind: ExprKind::Assign(Box::new(Place::Local(tmp)), Box::new(created)),
            ty: ty.clone(),
            span,
        })];
        for el in elems {
            match el {
                ast::InitElement::Member { name, value } => {
                    let target = self.member(
                        Operand::Value(read.clone()),
                        &name.name,
                        Vec::new(),
                        name.span,
                        name.span,
                    );
                    let target = self.value_of(target);
                    let ast::InitValue::Expr(v) = value else {
                        stmts.push(Stmt::Expr(
                            self.unsupported(name.span, "nested object initializers"),
                        ));
                        continue;
                    };
                    let Some((place, pty)) = self.as_settable(target, name.span) else {
                        continue;
                    };
                    let v = self.expr(v, Some(&pty));
                    let v = self.coerce(v, &pty);
                    stmts.push(Stmt::Expr(Expr {
                        kind: ExprKind::Assign(Box::new(place), Box::new(v)),
                        ty: pty,
                        span,
                    }));
                }
                ast::InitElement::Indexer { args, value } => {
                    let target = self.index(read.clone(), args, span);
                    let ast::InitValue::Expr(v) = value else {
                        stmts.push(Stmt::Expr(
                            self.unsupported(span, "nested object initializers"),
                        ));
                        continue;
                    };
                    let Some((place, pty)) = self.as_settable(target, span) else {
                        continue;
                    };
                    let v = self.expr(v, Some(&pty));
                    let v = self.coerce(v, &pty);
                    stmts.push(Stmt::Expr(Expr {
                        kind: ExprKind::Assign(Box::new(place), Box::new(v)),
                        ty: pty,
                        span,
                    }));
                }
                ast::InitElement::List(items) => {
                    let args: Vec<ast::Arg> = items.iter().map(|e| plain_arg(e.clone())).collect();
                    let g =
                        self.member(Operand::Value(read.clone()), "Add", Vec::new(), span, span);
                    let call = self.call(g, &args, span);
                    stmts.push(Stmt::Expr(call));
                }
                ast::InitElement::Expr(e) => {
                    let args = vec![plain_arg(e.clone())];
                    let g = self.member(
                        Operand::Value(read.clone()),
                        "Add",
                        Vec::new(),
                        e.span,
                        e.span,
                    );
                    let call = self.call(g, &args, e.span);
                    stmts.push(Stmt::Expr(call));
                }
            }
        }
        Expr {
            kind: ExprKind::Seq(stmts, Box::new(read)),
            ty,
            span,
        }
    }
}

fn plain_arg(e: ast::Expr) -> ast::Arg {
    let span = e.span;
    ast::Arg {
        name: None,
        modifier: ArgModifier::None,
        value: ArgValue::Expr(e),
        span,
    }
}
