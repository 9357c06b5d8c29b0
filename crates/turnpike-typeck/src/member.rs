//! Member access: `Type.Static`, `value.Member`, namespaces, method groups with their
//! extension methods, and member lookup through base types.

use std::sync::Arc;

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::ir::{Const, Conv, Expr, ExprKind};
use turnpike_ir::library::{MemberKind, TypeKind};
use turnpike_ir::ty::Prim;
use turnpike_ir::{MemberId, Ty};

use crate::Checker;
use crate::expr::{Group, Operand};
use crate::literal::const_expr;

impl Checker<'_> {
    /// `target.name`.
    pub(crate) fn member(
        &mut self,
        target: Operand,
        name: &str,
        type_args: Vec<Ty>,
        name_span: Span,
        span: Span,
    ) -> Operand {
        match target {
            Operand::Namespace(ns, _) => {
                let full = format!("{ns}.{name}");
                if self
                    .lib
                    .find_qualified(&ns, name, type_args.len())
                    .is_some()
                    || (ns == "System"
                        && matches!(
                            name,
                            "String"
                                | "Object"
                                | "Int32"
                                | "Int64"
                                | "Boolean"
                                | "Double"
                                | "Decimal"
                                | "Char"
                                | "Byte"
                        ))
                {
                    let t = self.named_type(name, &ns, type_args, span);
                    return Operand::Type(t, span);
                }
                if self.lib.is_namespace(&full) {
                    return Operand::Namespace(full, span);
                }
                if crate::names::ALLOWED_BUT_UNMODELLED.contains(&name) {
                    return Operand::Value(self.unsupported(span, &format!("type `{full}`")));
                }
                let t = self.named_type(name, &ns, type_args, span);
                let _ = t;
                Operand::Value(self.poisoned(span))
            }
            Operand::Type(t, _) => self.static_member(&t, name, type_args, name_span, span),
            Operand::Group(g) => {
                self.error(
                    &codes::UNKNOWN_MEMBER,
                    name_span,
                    format!("method `{}` has no member `{name}`", g.name),
                )
                .label("call the method first")
                .help(format!("write `{}(...).{name}`", g.name));
                Operand::Value(self.poisoned(span))
            }
            Operand::Value(v) => self.instance_member(v, name, type_args, name_span, span),
        }
    }

    fn static_member(
        &mut self,
        t: &Ty,
        name: &str,
        type_args: Vec<Ty>,
        name_span: Span,
        span: Span,
    ) -> Operand {
        let lib = self.lib;
        if t.is_unknown() {
            return Operand::Value(Expr {
                kind: ExprKind::Unsupported(Arc::from("unknown type")),
                ty: Ty::Unknown,
                span,
            });
        }
        let Some((id, args)) = lib.def_of(t) else {
            return Operand::Value(self.poisoned(span));
        };
        let def = lib.ty(id);
        if def.kind == TypeKind::Enum
            && let Some(v) = def.enum_value(name)
        {
            return Operand::Value(Expr {
                kind: ExprKind::Const(Const::Enum(v)),
                ty: t.clone(),
                span,
            });
        }
        let members = self.members_named(t, name);
        let mut methods = Vec::new();
        for (m, margs) in &members {
            let mem = lib.member(*m);
            match mem.kind {
                MemberKind::Field | MemberKind::Property if mem.is_static => {
                    return Operand::Value(Expr {
                        kind: ExprKind::Call {
                            member: *m,
                            type_args: margs.clone(),
                            recv: None,
                            args: Vec::new(),
                        },
                        ty: mem.ty.subst(margs),
                        span,
                    });
                }
                MemberKind::Method if mem.is_static => methods.push((*m, margs.clone())),
                _ => {}
            }
        }
        if !methods.is_empty() {
            return Operand::Group(Group {
                name: name.to_string(),
                recv: None,
                candidates: methods,
                fallback: Vec::new(),
                type_args,
                span,
                on: t.clone(),
            });
        }
        let _ = args;
        let tn = self.ty_name(t);
        if !members.is_empty() {
            self.error(
                &codes::STATIC_MISMATCH,
                name_span,
                format!("`{tn}.{name}` is an instance member and needs a value of type `{tn}`"),
            )
            .label("not static");
        } else {
            self.unknown_member(t, name, name_span);
        }
        Operand::Value(self.poisoned(span))
    }

    fn instance_member(
        &mut self,
        v: Expr,
        name: &str,
        type_args: Vec<Ty>,
        name_span: Span,
        span: Span,
    ) -> Operand {
        let lib = self.lib;
        let invoking = std::mem::replace(&mut self.invoking, false);
        let v = self.rvalue(v);
        if v.ty.is_unknown() || matches!(v.ty, Ty::Lambda(_)) {
            let _ = self.extensions_on(&v.ty, name);
            return Operand::Value(Expr {
                kind: ExprKind::Unsupported(Arc::from("member of a value of unknown type")),
                ty: Ty::Unknown,
                span,
            });
        }
        if let Ty::Nullable(inner) = &v.ty {
            let inner = (**inner).clone();
            match name {
                "HasValue" => {
                    let null = const_expr(Const::Null, span);
                    let null = Expr {
                        ty: v.ty.clone(),
                        ..null
                    };
                    let p = inner.prim().unwrap_or(Prim::Int);
                    return Operand::Value(Expr {
                        kind: ExprKind::Binary(
                            turnpike_ir::ir::BinOp::Ne,
                            turnpike_ir::ir::OpType::Lifted(p),
                            Box::new(v),
                            Box::new(null),
                        ),
                        ty: Ty::BOOL,
                        span,
                    });
                }
                "Value" => {
                    return Operand::Value(Expr {
                        kind: ExprKind::Convert(Conv::UnwrapNullable, Box::new(v)),
                        ty: inner,
                        span,
                    });
                }
                "GetValueOrDefault" => {
                    let d = Expr {
                        kind: ExprKind::Default(inner.clone()),
                        ty: inner.clone(),
                        span,
                    };
                    let _ = d;
                    return Operand::Group(Group {
                        name: "$nullable-default".into(),
                        recv: Some(v),
                        candidates: Vec::new(),
                        fallback: Vec::new(),
                        type_args,
                        span,
                        on: Ty::Unknown,
                    });
                }
                _ => {
                    // Members of the underlying type (`ToString`, `Equals`) on the boxed value.
                    let boxed = Expr {
                        kind: ExprKind::Convert(Conv::Box, Box::new(v)),
                        ty: Ty::Object,
                        span,
                    };
                    if name == "ToString" {
                        return Operand::Group(Group {
                            name: "$nullable-tostring".into(),
                            recv: Some(Expr {
                                kind: ExprKind::Convert(Conv::ToStringOrEmpty, Box::new(boxed)),
                                ty: Ty::String,
                                span,
                            }),
                            candidates: Vec::new(),
                            fallback: Vec::new(),
                            type_args,
                            span,
                            on: Ty::Unknown,
                        });
                    }
                    if name == "Equals" || name == "GetHashCode" {
                        return self.instance_member(boxed, name, type_args, name_span, span);
                    }
                    let unwrapped = Expr {
                        kind: ExprKind::Convert(Conv::UnwrapNullable, Box::new(boxed)),
                        ty: inner,
                        span,
                    };
                    return self.instance_member(unwrapped, name, type_args, name_span, span);
                }
            }
        }
        if let Ty::Anonymous(fields) = &v.ty
            && let Some(i) = fields.iter().position(|(n, _)| n == name)
        {
            let fty = fields[i].1.clone();
            return Operand::Value(Expr {
                kind: ExprKind::AnonymousField(Box::new(v), i as u32),
                ty: fty,
                span,
            });
        }
        let ty = v.ty.clone();
        let members = self.members_named(&ty, name);
        let mut methods = Vec::new();
        let mut statics = false;
        for (m, margs) in &members {
            let mem = lib.member(*m);
            if mem.is_static {
                statics = true;
                continue;
            }
            match mem.kind {
                MemberKind::Property if !invoking || self.delegate_sig(&mem.ty).is_some() => {
                    return Operand::Value(Expr {
                        kind: ExprKind::Call {
                            member: *m,
                            type_args: margs.clone(),
                            recv: Some(Box::new(v)),
                            args: Vec::new(),
                        },
                        ty: mem.ty.subst(margs),
                        span,
                    });
                }
                MemberKind::Method => methods.push((*m, margs.clone())),
                _ => {}
            }
        }
        let exts: Vec<(MemberId, Vec<Ty>)> = self
            .extensions_on(&ty, name)
            .into_iter()
            .map(|m| (m, Vec::new()))
            .collect();
        if !methods.is_empty() || !exts.is_empty() {
            let (candidates, fallback) = if methods.is_empty() {
                (exts, Vec::new())
            } else {
                (methods, exts)
            };
            return Operand::Group(Group {
                name: name.to_string(),
                recv: Some(v),
                candidates,
                fallback,
                type_args,
                span,
                on: ty,
            });
        }
        if invoking
            && members
                .iter()
                .any(|(m, _)| lib.member(*m).kind == MemberKind::Property)
        {
            let tn = self.ty_name(&ty);
            if self.is_context_type(&ty) {
                let what = format!(
                    "`{tn}.{name}` called like a method, which APIM's documented `context` model does not have"
                );
                return Operand::Value(self.unsupported(name_span, &what));
            }
            self.error(
                &codes::NOT_INVOCABLE,
                name_span,
                format!("`{tn}.{name}` is a property, not a method"),
            )
            .label("cannot be called")
            .help(format!("drop the parentheses: `.{name}`"));
            return Operand::Value(self.poisoned(span));
        }
        if statics {
            let tn = self.ty_name(&ty);
            self.error(
                &codes::STATIC_MISMATCH,
                name_span,
                format!("`{name}` is static: reach it through the type, as `{tn}.{name}`"),
            )
            .label("static member through a value");
        } else {
            self.unknown_member(&ty, name, name_span);
        }
        Operand::Value(self.poisoned(span))
    }

    fn unknown_member(&mut self, ty: &Ty, name: &str, span: Span) {
        let lib = self.lib;
        if self.is_context_type(ty) {
            let tn = self.ty_name(ty);
            self.unsupported(
                span,
                &format!("`{tn}.{name}`, which APIM's documented `context` model does not have"),
            );
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for t in lib.ancestors(ty) {
            if let Some((id, _)) = lib.def_of(&t) {
                for &m in &lib.ty(id).members {
                    names.push(lib.member(m).name.clone());
                }
                names.extend(lib.ty(id).enum_values.iter().map(|(n, _)| n.clone()));
            }
        }
        let tn = self.ty_name(ty);
        let suggestion = crate::names::did_you_mean(name, names.iter().map(String::as_str));
        let mut d = self
            .error(
                &codes::UNKNOWN_MEMBER,
                span,
                format!("type `{tn}` has no member `{name}`"),
            )
            .label(format!("not a member of `{tn}`"));
        if let Some(s) = suggestion {
            d = d.help(format!("did you mean `{s}`?"));
        }
        drop(d);
    }

    /// Members named `name` on `ty` and its ancestors, with the declaring type's arguments.
    /// Members of a derived type hide those of its bases with the same key signature.
    pub(crate) fn members_named(&self, ty: &Ty, name: &str) -> Vec<(MemberId, Vec<Ty>)> {
        let lib = self.lib;
        let mut out: Vec<(MemberId, Vec<Ty>)> = Vec::new();
        let mut seen_sigs: Vec<String> = Vec::new();
        let mut ancestors = lib.ancestors(ty);
        if !matches!(ty, Ty::Object) && !ancestors.contains(&Ty::Object) {
            ancestors.push(Ty::Object);
        }
        for t in ancestors {
            let Some((id, args)) = lib.def_of(&t) else {
                continue;
            };
            for &m in &lib.ty(id).members {
                let mem = lib.member(m);
                if mem.name != name || mem.kind == MemberKind::Extension {
                    continue;
                }
                let ps: Vec<String> = mem
                    .params
                    .iter()
                    .map(|p| format!("{:?}", p.ty.subst(&args)))
                    .collect();
                let sig = format!("{:?}{}({})", mem.kind, mem.type_params.len(), ps.join(","));
                if seen_sigs.contains(&sig) {
                    continue;
                }
                seen_sigs.push(sig);
                out.push((m, args.clone()));
            }
        }
        out
    }

    /// Extension methods named `name` whose receiver `ty` may convert to.
    pub(crate) fn extensions_on(&self, ty: &Ty, name: &str) -> Vec<MemberId> {
        let lib = self.lib;
        lib.extensions(name)
            .iter()
            .copied()
            .filter(|m| {
                let recv = &lib.member(*m).params[0].ty;
                ty.is_unknown() || self.receiver_matches(ty, recv)
            })
            .collect()
    }

    /// Whether `ty` fits an extension receiver type (generic parameters match anything).
    pub(crate) fn receiver_matches(&self, ty: &Ty, recv: &Ty) -> bool {
        let lib = self.lib;
        match recv {
            Ty::Param(_) => true,
            Ty::Named(id, _) => {
                lib.as_instance_of(ty, *id).is_some()
                    || (!recv.has_params() && self.implicit_exists(ty, recv))
            }
            _ => {
                if recv.has_params() {
                    false
                } else {
                    self.implicit_exists(ty, recv)
                }
            }
        }
    }
}
