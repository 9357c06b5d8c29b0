//! Numeric literals: their value and C# type.

use std::sync::Arc;

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::Ty;
use turnpike_ir::ir::{Const, Expr, ExprKind};
use turnpike_ir::ty::Prim;

use crate::Checker;

impl Checker<'_> {
    /// An integer literal; `negate` folds a leading `-` so that `-2147483648` is an `int`.
    pub(crate) fn integer_literal(&mut self, raw: &str, negate: bool, span: Span) -> Expr {
        let text: String = raw.chars().filter(|c| *c != '_').collect();
        let lower = text.to_ascii_lowercase();
        let (digits, suffix) = split_suffix(&lower, &["ul", "lu", "u", "l"]);
        let value: Option<u128> = if let Some(h) = digits.strip_prefix("0x") {
            u128::from_str_radix(h, 16).ok()
        } else if let Some(b) = digits.strip_prefix("0b") {
            u128::from_str_radix(b, 2).ok()
        } else {
            digits.parse().ok()
        };
        let Some(v) = value.filter(|v| *v <= u64::MAX as u128) else {
            self.error(
                &codes::CONSTANT_OVERFLOW,
                span,
                format!("integer literal `{raw}` is too large"),
            )
            .label("does not fit in `ulong`");
            return self.poisoned(span);
        };
        let c = if negate {
            let n = -(v as i128);
            match suffix {
                "" if n >= i32::MIN as i128 => Const::Int(n as i32),
                "" | "l" if n >= i64::MIN as i128 => Const::Long(n as i64),
                _ => {
                    // `-5u` is `-(long)5u` in C#; `-5ul` is an error.
                    if suffix == "u" {
                        Const::Long(n as i64)
                    } else {
                        self.error(
                            &codes::OPERATOR_TYPE,
                            span,
                            format!("operator `-` cannot be applied to `{raw}` of type `ulong`"),
                        )
                        .label("unsigned");
                        return self.poisoned(span);
                    }
                }
            }
        } else {
            match suffix {
                "" if v <= i32::MAX as u128 => Const::Int(v as i32),
                "" | "u" if v <= u32::MAX as u128 => Const::UInt(v as u32),
                "" | "l" if v <= i64::MAX as u128 => Const::Long(v as i64),
                _ => Const::ULong(v as u64),
            }
        };
        const_expr(c, span)
    }

    /// A real literal: `1.5`, `2e3`, `1f`, `3m`.
    pub(crate) fn real_literal(&mut self, raw: &str, negate: bool, span: Span) -> Expr {
        let text: String = raw.chars().filter(|c| *c != '_').collect();
        let lower = text.to_ascii_lowercase();
        let (digits, suffix) = split_suffix(&lower, &["f", "d", "m"]);
        let signed = if negate {
            format!("-{digits}")
        } else {
            digits.to_string()
        };
        let c = match suffix {
            "f" => match signed.parse::<f32>() {
                Ok(v) if v.is_finite() => Const::Float(v),
                _ => return self.real_overflow(raw, "float", span),
            },
            "m" => {
                if !decimal_fits(digits) {
                    return self.real_overflow(raw, "decimal", span);
                }
                Const::Decimal(signed)
            }
            _ => match signed.parse::<f64>() {
                Ok(v) if v.is_finite() => Const::Double(v),
                _ => return self.real_overflow(raw, "double", span),
            },
        };
        const_expr(c, span)
    }

    fn real_overflow(&mut self, raw: &str, ty: &str, span: Span) -> Expr {
        self.error(
            &codes::CONSTANT_OVERFLOW,
            span,
            format!("floating-point literal `{raw}` is outside the range of `{ty}`"),
        )
        .label("too large");
        self.poisoned(span)
    }
}

fn split_suffix<'a>(text: &'a str, suffixes: &[&'a str]) -> (&'a str, &'a str) {
    if text.starts_with("0x") {
        // Hex digits include `d` and `f`: only `u`/`l` suffixes apply.
        for s in suffixes
            .iter()
            .filter(|s| !s.contains('d') && !s.contains('f'))
        {
            if let Some(d) = text.strip_suffix(s) {
                return (d, s);
            }
        }
        return (text, "");
    }
    for s in suffixes {
        if let Some(d) = text.strip_suffix(s) {
            return (d, s);
        }
    }
    (text, "")
}

/// Whether a decimal literal's magnitude is below 2^96.
fn decimal_fits(digits: &str) -> bool {
    match digits.parse::<f64>() {
        Ok(v) => v.abs() < 7.922_816_251_426_434e28,
        Err(_) => false,
    }
}

/// A constant expression with its type.
pub(crate) fn const_expr(c: Const, span: Span) -> Expr {
    let ty = const_type(&c);
    Expr {
        kind: ExprKind::Const(c),
        ty,
        span,
    }
}

/// The type of a constant.
pub(crate) fn const_type(c: &Const) -> Ty {
    match c {
        Const::Null => Ty::Null,
        Const::Bool(_) => Ty::Prim(Prim::Bool),
        Const::Char(_) => Ty::Prim(Prim::Char),
        Const::Int(_) => Ty::Prim(Prim::Int),
        Const::UInt(_) => Ty::Prim(Prim::UInt),
        Const::Long(_) => Ty::Prim(Prim::Long),
        Const::ULong(_) => Ty::Prim(Prim::ULong),
        Const::Float(_) => Ty::Prim(Prim::Float),
        Const::Double(_) => Ty::Prim(Prim::Double),
        Const::Decimal(_) => Ty::Prim(Prim::Decimal),
        Const::String(_) => Ty::String,
        Const::Enum(_) => Ty::Unknown,
    }
}

/// A string constant.
pub(crate) fn string_const(s: &str, span: Span) -> Expr {
    const_expr(Const::String(Arc::from(s)), span)
}
