//! Operators with the CLR's semantics: unchecked integer arithmetic that wraps,
//! `DivideByZeroException` and `OverflowException` for `/` and `%`, IEEE floating point,
//! checked `decimal`, lifted operators over nullable values.

use std::cmp::Ordering;

use rust_decimal::Decimal;
use turnpike_ir::Prim;
use turnpike_ir::ir::{BinOp, OpType, UnOp};

use crate::convert;
use crate::eval::Interp;
use crate::value::{Exception, Value};

fn divide_by_zero() -> Exception {
    Exception::divide_by_zero()
}

fn decimal_overflow() -> Exception {
    Exception::new(
        "OverflowException",
        "Value was either too large or too small for a Decimal.",
    )
}

/// A prefix operator.
pub fn unary(op: UnOp, p: Prim, v: Value) -> Result<Value, Exception> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let v = convert::numeric(&v, p, false)?;
    Ok(match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::CheckedNeg, Value::Int(x)) => {
            Value::Int(x.checked_neg().ok_or_else(Exception::overflow)?)
        }
        (UnOp::CheckedNeg, Value::Long(x)) => {
            Value::Long(x.checked_neg().ok_or_else(Exception::overflow)?)
        }
        (UnOp::CheckedNeg, v) => return unary(UnOp::Neg, p, v),
        (UnOp::Neg, Value::Int(x)) => Value::Int(x.wrapping_neg()),
        (UnOp::Neg, Value::Long(x)) => Value::Long(x.wrapping_neg()),
        (UnOp::Neg, Value::Float(x)) => Value::Float(-x),
        (UnOp::Neg, Value::Double(x)) => Value::Double(-x),
        (UnOp::Neg, Value::Decimal(x)) => Value::Decimal(-x),
        (UnOp::BitNot, Value::Int(x)) => Value::Int(!x),
        (UnOp::BitNot, Value::UInt(x)) => Value::UInt(!x),
        (UnOp::BitNot, Value::Long(x)) => Value::Long(!x),
        (UnOp::BitNot, Value::ULong(x)) => Value::ULong(!x),
        (_, v) => return Err(Exception::invalid_op(format!("operator on {v:?}"))),
    })
}

/// `x + delta` for `++` / `--` (wrapping for integers, as unchecked C#).
pub fn step(v: &Value, p: Prim, delta: i8) -> Result<Value, Exception> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let d = i64::from(delta);
    Ok(match v {
        Value::Char(c) => Value::Char(c.wrapping_add(d as u16)),
        Value::SByte(x) => Value::SByte(x.wrapping_add(d as i8)),
        Value::Byte(x) => Value::Byte(x.wrapping_add(d as u8)),
        Value::Short(x) => Value::Short(x.wrapping_add(d as i16)),
        Value::UShort(x) => Value::UShort(x.wrapping_add(d as u16)),
        Value::Int(x) => Value::Int(x.wrapping_add(d as i32)),
        Value::UInt(x) => Value::UInt(x.wrapping_add(d as u32)),
        Value::Long(x) => Value::Long(x.wrapping_add(d)),
        Value::ULong(x) => Value::ULong(x.wrapping_add(d as u64)),
        Value::Float(x) => Value::Float(x + d as f32),
        Value::Double(x) => Value::Double(x + d as f64),
        Value::Decimal(x) => Value::Decimal(
            x.checked_add(Decimal::from(d))
                .ok_or_else(decimal_overflow)?,
        ),
        other => {
            let _ = p;
            return Err(Exception::invalid_op(format!("cannot increment {other:?}")));
        }
    })
}

/// A binary operator.
pub fn binary(
    it: &mut Interp,
    op: BinOp,
    t: &OpType,
    a: Value,
    b: Value,
) -> Result<Value, Exception> {
    match t {
        OpType::Prim(p) => prim(op, *p, a, b),
        OpType::Lifted(p) => {
            if a.is_null() || b.is_null() {
                return Ok(match op {
                    BinOp::Eq => Value::Bool(a.is_null() && b.is_null()),
                    BinOp::Ne => Value::Bool(!(a.is_null() && b.is_null())),
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Value::Bool(false),
                    _ => Value::Null,
                });
            }
            prim(op, *p, a, b)
        }
        OpType::String => match op {
            BinOp::Add => {
                let mut s = string_of(it, &a)?;
                s.push_str(&string_of(it, &b)?);
                Ok(Value::str(s))
            }
            BinOp::Eq => Ok(Value::Bool(str_eq(&a, &b))),
            BinOp::Ne => Ok(Value::Bool(!str_eq(&a, &b))),
            _ => Err(Exception::invalid_op("string operator")),
        },
        OpType::Checked(p) => checked(op, *p, a, b),
        OpType::LiftedBool => {
            let (x, y) = (as_bool(&a), as_bool(&b));
            Ok(match op {
                BinOp::And => match (x, y) {
                    (Some(false), _) | (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                },
                BinOp::Or => match (x, y) {
                    (Some(true), _) | (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                },
                BinOp::Xor => match (x, y) {
                    (Some(p), Some(q)) => Value::Bool(p ^ q),
                    _ => Value::Null,
                },
                BinOp::Eq => Value::Bool(x == y),
                BinOp::Ne => Value::Bool(x != y),
                _ => return Err(Exception::invalid_op("bool? operator")),
            })
        }
        OpType::Equals => {
            let eq = convert::object_equals(&a, &b);
            Ok(Value::Bool(if op == BinOp::Ne { !eq } else { eq }))
        }
        OpType::Object | OpType::Delegate => {
            // Two boxed values are two objects: `==` on `object` compares references.
            let eq = if a.prim().is_some() && b.prim().is_some() {
                false
            } else {
                convert::object_equals(&a, &b)
            };
            match op {
                BinOp::Eq => Ok(Value::Bool(eq)),
                BinOp::Ne => Ok(Value::Bool(!eq)),
                _ => Err(Exception::invalid_op("object operator")),
            }
        }
        OpType::Enum => {
            if a.is_null() || b.is_null() {
                let both = a.is_null() && b.is_null();
                return Ok(Value::Bool(match op {
                    BinOp::Eq => both,
                    BinOp::Ne => !both,
                    _ => false,
                }));
            }
            let (x, y) = (convert::as_i64(&a), convert::as_i64(&b));
            Ok(Value::Bool(compare_op(op, x.cmp(&y))))
        }
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn checked(op: BinOp, p: Prim, a: Value, b: Value) -> Result<Value, Exception> {
    let a = convert::numeric(&a, p, false)?;
    let b = convert::numeric(&b, p, false)?;
    let o = Exception::overflow;
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(
            match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                _ => return prim(op, p, Value::Int(x), Value::Int(y)),
            }
            .ok_or_else(o)?,
        ),
        (Value::Long(x), Value::Long(y)) => Value::Long(
            match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                _ => return prim(op, p, Value::Long(x), Value::Long(y)),
            }
            .ok_or_else(o)?,
        ),
        (Value::UInt(x), Value::UInt(y)) => Value::UInt(
            match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                _ => return prim(op, p, Value::UInt(x), Value::UInt(y)),
            }
            .ok_or_else(o)?,
        ),
        (Value::ULong(x), Value::ULong(y)) => Value::ULong(
            match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                _ => return prim(op, p, Value::ULong(x), Value::ULong(y)),
            }
            .ok_or_else(o)?,
        ),
        (a, b) => return prim(op, p, a, b),
    })
}

fn string_of(it: &mut Interp, v: &Value) -> Result<String, Exception> {
    match v {
        Value::Null => Ok(String::new()),
        Value::Str(s) => Ok(s.to_string()),
        other => convert::to_string(it, other),
    }
}

fn str_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => false,
    }
}

fn compare_op(op: BinOp, o: Ordering) -> bool {
    match op {
        BinOp::Eq => o == Ordering::Equal,
        BinOp::Ne => o != Ordering::Equal,
        BinOp::Lt => o == Ordering::Less,
        BinOp::Le => o != Ordering::Greater,
        BinOp::Gt => o == Ordering::Greater,
        BinOp::Ge => o != Ordering::Less,
        _ => false,
    }
}

fn float_cmp(op: BinOp, x: f64, y: f64) -> bool {
    match op {
        BinOp::Eq => x == y,
        BinOp::Ne => x != y,
        BinOp::Lt => x < y,
        BinOp::Le => x <= y,
        BinOp::Gt => x > y,
        BinOp::Ge => x >= y,
        _ => false,
    }
}

macro_rules! int_ops {
    ($op:expr, $x:expr, $y:expr, $ctor:path, $t:ty, $bits:expr) => {{
        let (x, y) = ($x, $y);
        Ok(match $op {
            BinOp::Add => $ctor(x.wrapping_add(y)),
            BinOp::Sub => $ctor(x.wrapping_sub(y)),
            BinOp::Mul => $ctor(x.wrapping_mul(y)),
            BinOp::Div => {
                if y == 0 {
                    return Err(divide_by_zero());
                }
                $ctor(x.checked_div(y).ok_or_else(Exception::overflow)?)
            }
            BinOp::Rem => {
                if y == 0 {
                    return Err(divide_by_zero());
                }
                $ctor(x.checked_rem(y).ok_or_else(Exception::overflow)?)
            }
            BinOp::And => $ctor(x & y),
            BinOp::Or => $ctor(x | y),
            BinOp::Xor => $ctor(x ^ y),
            BinOp::Shl | BinOp::Shr => unreachable_shift(),
            cmp => Value::Bool(compare_op(cmp, x.cmp(&y))),
        })
    }};
}

fn unreachable_shift() -> Value {
    Value::Null
}

fn prim(op: BinOp, p: Prim, a: Value, b: Value) -> Result<Value, Exception> {
    if matches!(op, BinOp::Shl | BinOp::Shr) {
        let a = convert::numeric(&a, p, false)?;
        let n = convert::as_i64(&b) as u32;
        return Ok(match (a, op) {
            (Value::Int(x), BinOp::Shl) => Value::Int(x.wrapping_shl(n & 31)),
            (Value::Int(x), _) => Value::Int(x.wrapping_shr(n & 31)),
            (Value::UInt(x), BinOp::Shl) => Value::UInt(x.wrapping_shl(n & 31)),
            (Value::UInt(x), _) => Value::UInt(x.wrapping_shr(n & 31)),
            (Value::Long(x), BinOp::Shl) => Value::Long(x.wrapping_shl(n & 63)),
            (Value::Long(x), _) => Value::Long(x.wrapping_shr(n & 63)),
            (Value::ULong(x), BinOp::Shl) => Value::ULong(x.wrapping_shl(n & 63)),
            (Value::ULong(x), _) => Value::ULong(x.wrapping_shr(n & 63)),
            (v, _) => return Err(Exception::invalid_op(format!("shift of {v:?}"))),
        });
    }
    let a = convert::numeric(&a, p, false)?;
    let b = convert::numeric(&b, p, false)?;
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => Ok(Value::Bool(match op {
            BinOp::And => x & y,
            BinOp::Or => x | y,
            BinOp::Xor => x ^ y,
            BinOp::Eq => x == y,
            BinOp::Ne => x != y,
            _ => return Err(Exception::invalid_op("bool operator")),
        })),
        (Value::Int(x), Value::Int(y)) => int_ops!(op, x, y, Value::Int, i32, 32),
        (Value::UInt(x), Value::UInt(y)) => int_ops!(op, x, y, Value::UInt, u32, 32),
        (Value::Long(x), Value::Long(y)) => int_ops!(op, x, y, Value::Long, i64, 64),
        (Value::ULong(x), Value::ULong(y)) => int_ops!(op, x, y, Value::ULong, u64, 64),
        (Value::Double(x), Value::Double(y)) => Ok(match op {
            BinOp::Add => Value::Double(x + y),
            BinOp::Sub => Value::Double(x - y),
            BinOp::Mul => Value::Double(x * y),
            BinOp::Div => Value::Double(x / y),
            BinOp::Rem => Value::Double(x % y),
            cmp => Value::Bool(float_cmp(cmp, x, y)),
        }),
        (Value::Float(x), Value::Float(y)) => Ok(match op {
            BinOp::Add => Value::Float(x + y),
            BinOp::Sub => Value::Float(x - y),
            BinOp::Mul => Value::Float(x * y),
            BinOp::Div => Value::Float(x / y),
            BinOp::Rem => Value::Float(x % y),
            cmp => Value::Bool(float_cmp(cmp, f64::from(x), f64::from(y))),
        }),
        (Value::Decimal(x), Value::Decimal(y)) => Ok(match op {
            BinOp::Add => Value::Decimal(x.checked_add(y).ok_or_else(decimal_overflow)?),
            BinOp::Sub => Value::Decimal(x.checked_sub(y).ok_or_else(decimal_overflow)?),
            BinOp::Mul => Value::Decimal(x.checked_mul(y).ok_or_else(decimal_overflow)?),
            BinOp::Div => {
                if y.is_zero() {
                    return Err(divide_by_zero());
                }
                Value::Decimal(
                    x.checked_div(y)
                        .ok_or_else(decimal_overflow)?
                        .normalize_to_net(x, y),
                )
            }
            BinOp::Rem => {
                if y.is_zero() {
                    return Err(divide_by_zero());
                }
                Value::Decimal(x.checked_rem(y).ok_or_else(decimal_overflow)?)
            }
            cmp => Value::Bool(compare_op(cmp, x.cmp(&y))),
        }),
        (a, b) => Err(Exception::invalid_op(format!(
            "operator {} on {a:?} and {b:?}",
            op.token()
        ))),
    }
}

/// .NET keeps a quotient's trailing zeros only up to what the division needs.
trait NetDecimal {
    fn normalize_to_net(self, x: Decimal, y: Decimal) -> Decimal;
}

impl NetDecimal for Decimal {
    fn normalize_to_net(self, x: Decimal, y: Decimal) -> Decimal {
        // .NET: the result's scale is the smallest that represents the exact quotient, but at
        // least the dividend's scale minus the divisor's.
        let mut q = self.normalize();
        let min_scale = x.scale().saturating_sub(y.scale());
        if q.scale() < min_scale {
            q.rescale(min_scale);
        }
        q
    }
}
