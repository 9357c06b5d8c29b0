//! Conversions: C#'s implicit and explicit conversions, the "better conversion" rule of
//! overload resolution, and what attributes accept.

use turnpike_diagnostics::codes;
use turnpike_ir::Ty;
use turnpike_ir::ir::{Const, Conv, Expr, ExprKind};
use turnpike_ir::library::{Library, MemberKind, TypeKind};
use turnpike_ir::ty::Prim;

use crate::Checker;

/// The type an attribute or element text receives (see `spec/04-type-model.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeType {
    /// Text: any value, with `ToString()`; null becomes empty.
    String,
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Int,
    /// A number.
    Float,
    /// Anything (`set-variable`).
    Any,
}

/// Whether an expression of type `ty` may feed an attribute of type `want`. `Err` holds a
/// description of what is accepted.
pub fn attribute_conversion(ty: &Ty, want: AttributeType) -> Result<(), &'static str> {
    let base = ty.strip_nullable();
    let ok = match (want, base) {
        (_, Ty::Unknown | Ty::Object | Ty::Null) => true,
        (_, Ty::Void) => false,
        (AttributeType::String | AttributeType::Any, _) => true,
        (AttributeType::Bool, Ty::Prim(Prim::Bool)) => true,
        (AttributeType::Int, Ty::Prim(p)) => p.is_integral() && *p != Prim::Char,
        (AttributeType::Float, Ty::Prim(p)) => p.is_numeric(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(match want {
            AttributeType::Bool => "a `bool`, `bool?` or `object`",
            AttributeType::Int => "an integer type, its nullable form or `object`",
            AttributeType::Float => "a numeric type, its nullable form or `object`",
            AttributeType::String | AttributeType::Any => "a value",
        })
    }
}

fn wrap(conv: Conv, e: Expr, ty: Ty) -> Expr {
    let span = e.span;
    Expr {
        kind: ExprKind::Convert(conv, Box::new(e)),
        ty,
        span,
    }
}

/// Whether an integer constant fits `to` (C#'s implicit constant expression conversion).
fn constant_fits(c: &Const, to: Prim) -> bool {
    let v: i128 = match c {
        Const::Int(v) => *v as i128,
        Const::Long(v) => *v as i128,
        _ => return false,
    };
    let (lo, hi): (i128, i128) = match to {
        Prim::SByte => (i8::MIN as i128, i8::MAX as i128),
        Prim::Byte => (0, u8::MAX as i128),
        Prim::Short => (i16::MIN as i128, i16::MAX as i128),
        Prim::UShort => (0, u16::MAX as i128),
        Prim::UInt => (0, u32::MAX as i128),
        Prim::ULong => (0, u64::MAX as i128),
        _ => return false,
    };
    matches!(c, Const::Int(_)) && v >= lo && v <= hi
        || matches!(c, Const::Long(_)) && to == Prim::ULong && v >= 0
}

impl Checker<'_> {
    /// Applies an implicit conversion to `to`, or gives the expression back unchanged.
    pub(crate) fn implicit(&self, e: Expr, to: &Ty) -> Result<Expr, Expr> {
        let from = e.ty.clone();
        if &from == to || matches!(to, Ty::Unknown) {
            return Ok(e);
        }
        let lib = self.lib;
        match (&from, to) {
            (Ty::Unknown, _) => Ok(wrap(Conv::Cast(to.clone()), e, to.clone())),
            (Ty::Null, t)
                if matches!(e.kind, ExprKind::Default(Ty::Null)) && !matches!(t, Ty::Void) =>
            {
                Ok(Expr {
                    kind: ExprKind::Default(t.clone()),
                    ty: to.clone(),
                    span: e.span,
                })
            }
            (Ty::Null, t) if t.accepts_null(lib) => Ok(Expr {
                kind: match e.kind {
                    ExprKind::Const(_) => ExprKind::Const(Const::Null),
                    other => other,
                },
                ty: to.clone(),
                span: e.span,
            }),
            (Ty::Null, _) => Err(e),
            (Ty::Void, _) | (_, Ty::Void) => Err(e),
            (Ty::Prim(Prim::Char), Ty::String) if self.lenient_quotes => match e.kind {
                ExprKind::Const(Const::Char(c)) => Ok(Expr {
                    kind: ExprKind::Const(Const::String(String::from_utf16_lossy(&[c]).into())),
                    ty: Ty::String,
                    span: e.span,
                }),
                _ => Err(e),
            },
            (Ty::Prim(a), Ty::Prim(b)) => {
                if a.implicit_to(*b)
                    || matches!(&e.kind, ExprKind::Const(c) if constant_fits(c, *b))
                {
                    Ok(wrap(Conv::Numeric(*a, *b), e, to.clone()))
                } else {
                    Err(e)
                }
            }
            (_, Ty::Nullable(inner)) => {
                if let Ty::Nullable(fi) = &from {
                    // Lifted: `int?` to `long?`.
                    return match (fi.prim(), inner.prim()) {
                        (Some(a), Some(b)) if a.implicit_to(b) => {
                            Ok(wrap(Conv::Cast(to.clone()), e, to.clone()))
                        }
                        _ => Err(e),
                    };
                }
                let inner_e = self.implicit(e, inner)?;
                Ok(wrap(Conv::WrapNullable, inner_e, to.clone()))
            }
            (_, Ty::Object) => {
                if from.is_value_type(lib) || matches!(from, Ty::Nullable(_)) {
                    Ok(wrap(Conv::Box, e, Ty::Object))
                } else if matches!(from, Ty::Lambda(_)) {
                    Err(e)
                } else {
                    Ok(wrap(Conv::Upcast, e, Ty::Object))
                }
            }
            _ => {
                if self.is_reference_convertible(&from, to) {
                    let conv = if from.is_value_type(lib) {
                        Conv::Box
                    } else {
                        Conv::Upcast
                    };
                    return Ok(wrap(conv, e, to.clone()));
                }
                if let Some(m) = self.user_conversion(&from, to, true) {
                    let param = lib.member(m).params[0].ty.clone();
                    let arg = self.implicit(e, &param)?;
                    return Ok(wrap(Conv::User(m), arg, to.clone()));
                }
                Err(e)
            }
        }
    }

    /// Whether `from` is `to` or derives from it (with `IEnumerable<out T>` covariance).
    pub(crate) fn is_reference_convertible(&self, from: &Ty, to: &Ty) -> bool {
        let lib = self.lib;
        let anc = lib.ancestors(from);
        if anc.contains(to) {
            return true;
        }
        // Variance ([lib.variance]): a type argument may differ where the parameter is `out`
        // (a reference type converting to the target's) or `in` (the other way round).
        if let Ty::Named(tid, targs) = to {
            let name = lib.ty(*tid).name.as_str();
            for a in &anc {
                let Ty::Named(aid, aargs) = a else { continue };
                if aid != tid || aargs.len() != targs.len() {
                    continue;
                }
                let fits = aargs.iter().zip(targs).enumerate().all(|(i, (x, y))| {
                    x == y
                        || match variance(name, targs.len(), i) {
                            Variance::Out => {
                                !x.is_value_type(lib) && self.is_reference_convertible(x, y)
                            }
                            Variance::In => {
                                !y.is_value_type(lib) && self.is_reference_convertible(y, x)
                            }
                            Variance::None => false,
                        }
                });
                if fits {
                    return true;
                }
            }
        }
        matches!(to, Ty::Object) && !from.is_value_type(lib)
    }

    /// A user-defined conversion operator from `from` to `to`.
    pub(crate) fn user_conversion(
        &self,
        from: &Ty,
        to: &Ty,
        implicit_only: bool,
    ) -> Option<turnpike_ir::MemberId> {
        let lib = self.lib;
        let mut owners = Vec::new();
        for t in lib.ancestors(from).into_iter().chain(lib.ancestors(to)) {
            if let Some((id, _)) = lib.def_of(&t)
                && !owners.contains(&id)
            {
                owners.push(id);
            }
        }
        let mut best = None;
        for owner in owners {
            for &m in &lib.ty(owner).members {
                let mem = lib.member(m);
                let MemberKind::Conversion { implicit } = mem.kind else {
                    continue;
                };
                if implicit_only && !implicit {
                    continue;
                }
                let p = &mem.params[0].ty;
                let source_ok = p == from
                    || matches!((from, p), (Ty::Prim(a), Ty::Prim(b)) if a.implicit_to(*b))
                    || self.is_reference_convertible(from, p);
                let target_ok = &mem.ty == to
                    || self.is_reference_convertible(&mem.ty, to)
                    || (matches!(to, Ty::Nullable(i) if **i == mem.ty));
                if source_ok && target_ok {
                    // Prefer an exact source type.
                    if p == from && &mem.ty == to {
                        return Some(m);
                    }
                    best.get_or_insert(m);
                }
            }
        }
        best
    }

    /// Converts implicitly or reports `bad-conversion`.
    pub(crate) fn coerce(&mut self, e: Expr, to: &Ty) -> Expr {
        match self.implicit(e, to) {
            Ok(x) => x,
            Err(e) => {
                let span = e.span;
                self.report_bad_conversion(&e, to);
                Expr {
                    kind: e.kind,
                    ty: to.clone(),
                    span,
                }
            }
        }
    }

    pub(crate) fn report_bad_conversion(&mut self, e: &Expr, to: &Ty) {
        let from_name = self.ty_name(&e.ty);
        let to_name = self.ty_name(to);
        if matches!(e.ty, Ty::Null) {
            self.error(
                &codes::NULL_TO_VALUE_TYPE,
                e.span,
                format!("cannot convert `null` to `{to_name}` because it is a value type"),
            )
            .label("`null` here")
            .help(format!(
                "use `{to_name}?` to allow a missing value, or `default({to_name})`"
            ));
            return;
        }
        if matches!(e.ty, Ty::Void) {
            self.error(
                &codes::VOID_VALUE,
                e.span,
                "this call returns nothing (`void`) and has no value to use".to_string(),
            )
            .label("returns `void`");
            return;
        }
        let explicit = self.explicit_exists(&e.ty, to);
        let mut d = self
            .error(
                &codes::BAD_CONVERSION,
                e.span,
                format!("cannot implicitly convert type `{from_name}` to `{to_name}`"),
            )
            .label(format!("this is `{from_name}`"));
        if explicit {
            d = d.help(format!(
                "an explicit conversion exists: write `({to_name})` before the value"
            ));
        } else if matches!(to, Ty::String) {
            d = d.help("call `.ToString()` to get text");
        } else if matches!(e.ty, Ty::String) && matches!(to, Ty::Prim(_)) {
            d = d.help(format!(
                "parse the text with `{to_name}.Parse(...)` or `{to_name}.TryParse(...)`"
            ));
        }
        drop(d);
    }

    /// Whether an explicit conversion (a cast) exists.
    pub(crate) fn explicit_exists(&self, from: &Ty, to: &Ty) -> bool {
        let lib = self.lib;
        if from == to || from.is_unknown() || to.is_unknown() {
            return true;
        }
        match (from, to) {
            (Ty::Prim(a), Ty::Prim(b)) => a.explicit_to(*b),
            (Ty::Prim(a), Ty::Named(id, _)) | (Ty::Named(id, _), Ty::Prim(a)) => {
                lib.ty(*id).kind == TypeKind::Enum && a.is_integral()
                    || self.user_conversion(from, to, false).is_some()
            }
            (Ty::Nullable(a), b) | (b, Ty::Nullable(a)) => {
                self.explicit_exists(a, b) || matches!(b, Ty::Null | Ty::Object)
            }
            (Ty::Null, t) => t.accepts_null(lib),
            (Ty::Object, _) => true,
            _ => {
                self.implicit_exists(from, to)
                    || self.is_reference_convertible(to, from)
                    || (is_interface(lib, to) && !is_sealed_value(lib, from))
                    || (is_interface(lib, from) && !to.is_value_type(lib))
                    || self.user_conversion(from, to, false).is_some()
            }
        }
    }

    /// Whether an implicit conversion exists between two types (no constants).
    pub(crate) fn implicit_exists(&self, from: &Ty, to: &Ty) -> bool {
        let probe = Expr {
            kind: ExprKind::Unsupported("probe".into()),
            ty: from.clone(),
            span: turnpike_diagnostics::Span::default(),
        };
        self.implicit(probe, to).is_ok()
    }

    /// Applies a cast `(to)e`.
    pub(crate) fn explicit(&mut self, e: Expr, to: &Ty) -> Expr {
        let from = e.ty.clone();
        if let Ok(x) = self.implicit(e.clone(), to) {
            return x;
        }
        let lib = self.lib;
        let span = e.span;
        match (&from, to) {
            (Ty::Prim(a), Ty::Prim(b)) if a.explicit_to(*b) && fold_cast(&e, *b).is_some() => {
                let c = fold_cast(&e, *b).unwrap_or(Const::Null);
                Expr {
                    kind: ExprKind::Const(c),
                    ty: to.clone(),
                    span: e.span,
                }
            }
            (Ty::Prim(a), Ty::Prim(b)) if a.explicit_to(*b) => {
                let c = if self.checked {
                    Conv::CheckedNumeric(*a, *b)
                } else {
                    Conv::Numeric(*a, *b)
                };
                wrap(c, e, to.clone())
            }
            (Ty::Nullable(inner), t) if &**inner == t => wrap(Conv::UnwrapNullable, e, to.clone()),
            (Ty::Nullable(inner), Ty::Prim(b))
                if inner.prim().is_some_and(|a| a.explicit_to(*b)) =>
            {
                let a = inner.prim().unwrap_or(*b);
                let un = wrap(Conv::UnwrapNullable, e, (**inner).clone());
                wrap(Conv::Numeric(a, *b), un, to.clone())
            }
            (Ty::Prim(a), Ty::Nullable(inner))
                if inner.prim().is_some_and(|b| a.explicit_to(b)) =>
            {
                let b = inner.prim().unwrap_or(*a);
                let n = wrap(Conv::Numeric(*a, b), e, (**inner).clone());
                wrap(Conv::WrapNullable, n, to.clone())
            }
            _ => {
                if let Some(m) = self.user_conversion(&from, to, false) {
                    let param = lib.member(m).params[0].ty.clone();
                    let arg = self.explicit(e, &param);
                    let ret = lib.member(m).ty.clone();
                    let conv = wrap(Conv::User(m), arg, ret.clone());
                    return if &ret == to {
                        conv
                    } else {
                        wrap(Conv::Cast(to.clone()), conv, to.clone())
                    };
                }
                if self.explicit_exists(&from, to) {
                    return wrap(Conv::Cast(to.clone()), e, to.clone());
                }
                let (f, t) = (self.ty_name(&from), self.ty_name(to));
                let mut d = self
                    .error(
                        &codes::INVALID_CAST,
                        span,
                        format!("cannot convert type `{f}` to `{t}`"),
                    )
                    .label(format!("this is `{f}`"));
                if matches!(from, Ty::String) {
                    d = d.help(format!(
                        "parse text with `{t}.Parse(...)`, or `Convert.To...`"
                    ));
                }
                drop(d);
                Expr {
                    kind: e.kind,
                    ty: to.clone(),
                    span,
                }
            }
        }
    }

    /// C#'s "better conversion target": whether converting `arg` to `a` is better than to `b`.
    pub(crate) fn better_target(&self, arg: &Ty, a: &Ty, b: &Ty) -> bool {
        if a == b {
            return false;
        }
        if arg == a {
            return true;
        }
        if arg == b {
            return false;
        }
        let ab = self.implicit_exists(a, b);
        let ba = self.implicit_exists(b, a);
        if ab && !ba {
            return true;
        }
        if let (Some(pa), Some(pb)) = (a.strip_nullable().prim(), b.strip_nullable().prim())
            && pa.is_integral()
            && pb.is_integral()
            && pa.is_signed()
            && !pb.is_signed()
        {
            return true;
        }
        // A non-nullable value type over its nullable form, a specific type over `object`.
        matches!(b, Ty::Object) && !matches!(a, Ty::Object)
    }

    /// The type both branches of `?:` (or two returns) convert to.
    pub(crate) fn unify_branches(&self, a: &Ty, b: &Ty) -> Option<Ty> {
        if a == b {
            return Some(a.clone());
        }
        match (a, b) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => Some(Ty::Unknown),
            (Ty::Null, t) | (t, Ty::Null) => {
                if t.accepts_null(self.lib) {
                    Some(t.clone())
                } else if t.is_value_type(self.lib) {
                    // C# 9 target typing aside, `cond ? 1 : null` is an error in C# 7.
                    None
                } else {
                    None
                }
            }
            _ => {
                let ab = self.implicit_exists(a, b);
                let ba = self.implicit_exists(b, a);
                match (ab, ba) {
                    (true, false) => Some(b.clone()),
                    (false, true) => Some(a.clone()),
                    _ => None,
                }
            }
        }
    }
}

fn is_interface(lib: &Library, t: &Ty) -> bool {
    matches!(t, Ty::Named(id, _) if lib.ty(*id).kind == TypeKind::Interface)
}

fn is_sealed_value(lib: &Library, t: &Ty) -> bool {
    matches!(t, Ty::String) || t.is_value_type(lib) && lib.ancestors(t).len() <= 1
}

/// A cast of a numeric constant to `int`, `long`, `uint` or `ulong` is itself a constant in
/// C# (truncated toward zero); `None` when it is not one or does not fit.
fn fold_cast(e: &Expr, to: Prim) -> Option<Const> {
    let ExprKind::Const(c) = &e.kind else {
        return None;
    };
    let v: f64 = match c {
        Const::Int(v) => f64::from(*v),
        Const::Long(v) => *v as f64,
        Const::UInt(v) => f64::from(*v),
        Const::Double(v) => *v,
        Const::Float(v) => f64::from(*v),
        Const::Char(v) => f64::from(*v),
        Const::Decimal(t) => t.parse().ok()?,
        _ => return None,
    };
    let t = v.trunc();
    match to {
        Prim::Int if t >= f64::from(i32::MIN) && t <= f64::from(i32::MAX) => {
            Some(Const::Int(t as i32))
        }
        Prim::Long if (-9.2e18..=9.2e18).contains(&t) => Some(Const::Long(t as i64)),
        Prim::UInt if t >= 0.0 && t <= f64::from(u32::MAX) => Some(Const::UInt(t as u32)),
        Prim::ULong if (0.0..=1.8e19).contains(&t) => Some(Const::ULong(t as u64)),
        _ => None,
    }
}

enum Variance {
    None,
    Out,
    In,
}

/// The variance of type parameter `i` of the generic type `name` with `n` parameters.
fn variance(name: &str, n: usize, i: usize) -> Variance {
    match name {
        "IEnumerable"
        | "IEnumerator"
        | "IReadOnlyCollection"
        | "IReadOnlyList"
        | "IGrouping"
        | "IOrderedEnumerable"
        | "IJEnumerable" => Variance::Out,
        "IComparable" | "IComparer" | "IEqualityComparer" | "Action" | "Predicate"
        | "Comparison" => Variance::In,
        "Func" => {
            if i + 1 == n {
                Variance::Out
            } else {
                Variance::In
            }
        }
        "Converter" => {
            if i == 1 {
                Variance::Out
            } else {
                Variance::In
            }
        }
        _ => Variance::None,
    }
}
