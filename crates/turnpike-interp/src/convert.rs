//! Conversions, run-time type tests, `ToString()` and default values.

use std::rc::Rc;

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use turnpike_ir::ir::Const;
use turnpike_ir::library::TypeKind;
use turnpike_ir::{Library, Prim, Ty};

use crate::dotnet::datetime::{DateTime, DateTimeOffset, TimeSpan};
use crate::dotnet::number;
use crate::eval::Interp;
use crate::value::{Exception, Obj, Value};

/// The value of a constant.
pub fn constant(c: &Const, ty: &Ty, lib: &Library) -> Result<Value, Exception> {
    Ok(match c {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Char(c) => Value::Char(*c),
        Const::Int(v) => Value::Int(*v),
        Const::UInt(v) => Value::UInt(*v),
        Const::Long(v) => Value::Long(*v),
        Const::ULong(v) => Value::ULong(*v),
        Const::Float(v) => Value::Float(*v),
        Const::Double(v) => Value::Double(*v),
        Const::Decimal(text) => Value::Decimal(parse_decimal_literal(text)?),
        Const::String(s) => Value::Str(s.clone()),
        Const::Enum(v) => match lib.def_of(ty) {
            Some((id, _)) => Value::Enum(id, *v),
            None => Value::Int(*v as i32),
        },
    })
}

fn parse_decimal_literal(text: &str) -> Result<Decimal, Exception> {
    let r = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    r.map_err(|_| Exception::overflow())
}

/// Reads an integral value as `i64` (wrapping `ulong`).
pub fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Char(c) => i64::from(*c),
        Value::SByte(x) => i64::from(*x),
        Value::Byte(x) => i64::from(*x),
        Value::Short(x) => i64::from(*x),
        Value::UShort(x) => i64::from(*x),
        Value::Int(x) => i64::from(*x),
        Value::UInt(x) => i64::from(*x),
        Value::Long(x) => *x,
        Value::ULong(x) => *x as i64,
        Value::Enum(_, x) => *x,
        Value::Float(x) => *x as i64,
        Value::Double(x) => *x as i64,
        Value::Decimal(d) => d.trunc().to_i64().unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// Reads a numeric value as `f64`.
pub fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Float(x) => f64::from(*x),
        Value::Double(x) => *x,
        Value::Decimal(d) => d.to_f64().unwrap_or(0.0),
        Value::ULong(x) => *x as f64,
        other => as_i64(other) as f64,
    }
}

fn int_result(v: i128, to: Prim) -> Value {
    match to {
        Prim::SByte => Value::SByte(v as i8),
        Prim::Byte => Value::Byte(v as u8),
        Prim::Short => Value::Short(v as i16),
        Prim::UShort => Value::UShort(v as u16),
        Prim::Char => Value::Char(v as u16),
        Prim::Int => Value::Int(v as i32),
        Prim::UInt => Value::UInt(v as u32),
        Prim::Long => Value::Long(v as i64),
        Prim::ULong => Value::ULong(v as u64),
        Prim::Bool => Value::Bool(v != 0),
        Prim::Float => Value::Float(v as f32),
        Prim::Double => Value::Double(v as f64),
        Prim::Decimal => Value::Decimal(Decimal::from_i128_with_scale(v, 0)),
    }
}

fn range_of(p: Prim) -> (i128, i128) {
    match p {
        Prim::SByte => (i8::MIN as i128, i8::MAX as i128),
        Prim::Byte => (0, u8::MAX as i128),
        Prim::Short => (i16::MIN as i128, i16::MAX as i128),
        Prim::UShort | Prim::Char => (0, u16::MAX as i128),
        Prim::Int => (i32::MIN as i128, i32::MAX as i128),
        Prim::UInt => (0, u32::MAX as i128),
        Prim::Long => (i64::MIN as i128, i64::MAX as i128),
        Prim::ULong => (0, u64::MAX as i128),
        _ => (i128::MIN, i128::MAX),
    }
}

/// The overflow exception a checked conversion to `p` throws.
pub fn overflow_for(p: Prim) -> Exception {
    Exception::new(
        "OverflowException",
        format!(
            "Value was either too large or too small for {} {}.",
            if matches!(p, Prim::Int | Prim::UInt) {
                "an"
            } else {
                "a"
            },
            p.clr_name()
        ),
    )
}

/// A numeric conversion. `checked` throws `OverflowException` where C#'s `checked` would;
/// conversions from `decimal` are always checked, as in .NET.
pub fn numeric(v: &Value, to: Prim, checked: bool) -> Result<Value, Exception> {
    if v.prim() == Some(to) || v.is_null() {
        return Ok(v.clone());
    }
    match v {
        Value::Float(_) | Value::Double(_) => {
            let x = as_f64(v);
            match to {
                Prim::Float => Ok(Value::Float(x as f32)),
                Prim::Double => Ok(Value::Double(x)),
                Prim::Decimal => {
                    if !x.is_finite() || x.abs() >= 7.922816251426434e28 {
                        return Err(Exception::new(
                            "OverflowException",
                            "Value was either too large or too small for a Decimal.",
                        ));
                    }
                    // .NET rounds a double to 15 significant digits when converting.
                    let text = if matches!(v, Value::Float(_)) {
                        format!("{x:.6e}")
                    } else {
                        format!("{x:.14e}")
                    };
                    let d = Decimal::from_scientific(&text)
                        .or_else(|_| Decimal::from_f64(x).ok_or(()))
                        .map_err(|_| Exception::overflow())?;
                    Ok(Value::Decimal(d.normalize()))
                }
                Prim::ULong if !checked => {
                    // .NET 8 on x64: below 2^63 the value converts as a `long` does, then
                    // reinterprets; NaN and values from 2^64 up give 0.
                    let t = x.trunc();
                    let two63 = 9_223_372_036_854_775_808.0_f64;
                    Ok(Value::ULong(if x.is_nan() || t >= 2.0 * two63 {
                        0
                    } else if t >= two63 {
                        t as u64
                    } else if t < -two63 {
                        i64::MIN as u64
                    } else {
                        (t as i64) as u64
                    }))
                }
                _ => {
                    let t = x.trunc();
                    let (lo, hi) = range_of(to);
                    if x.is_nan() || t < lo as f64 || t > hi as f64 {
                        if checked {
                            return Err(Exception::overflow());
                        }
                        // .NET 8 on x64: out-of-range conversions give the "integer
                        // indefinite" value of the 32- or 64-bit conversion.
                        let narrow = matches!(
                            to,
                            Prim::SByte | Prim::Byte | Prim::Short | Prim::UShort | Prim::Char
                        );
                        if narrow
                            && !x.is_nan()
                            && t >= f64::from(i32::MIN)
                            && t <= f64::from(i32::MAX)
                        {
                            // x64 converts to a 32-bit integer first, then truncates.
                            return Ok(int_result(i128::from(t as i32), to));
                        }
                        return Ok(match to {
                            Prim::Long => Value::Long(i64::MIN),
                            Prim::ULong => Value::ULong(if x.is_nan() || t < 0.0 {
                                0x8000_0000_0000_0000
                            } else {
                                u64::MAX
                            }),
                            Prim::UInt => {
                                Value::UInt(if x.is_nan() { 0 } else { (t as i64) as u32 })
                            }
                            _ => int_result(i32::MIN as i128, to),
                        });
                    }
                    Ok(int_result(t as i128, to))
                }
            }
        }
        Value::Decimal(d) => match to {
            Prim::Float => Ok(Value::Float(d.to_f32().unwrap_or(0.0))),
            Prim::Double => Ok(Value::Double(d.to_f64().unwrap_or(0.0))),
            _ => {
                let t = d.trunc().to_i128().ok_or_else(|| overflow_for(to))?;
                let (lo, hi) = range_of(to);
                if t < lo || t > hi {
                    return Err(overflow_for(to));
                }
                Ok(int_result(t, to))
            }
        },
        other => {
            let x: i128 = match other {
                Value::ULong(u) => *u as i128,
                Value::Bool(_) => return Err(Exception::cast("Boolean", to.clr_name())),
                o => as_i64(o) as i128,
            };
            if checked {
                let (lo, hi) = range_of(to);
                if x < lo || x > hi {
                    return Err(Exception::overflow());
                }
            }
            Ok(int_result(x, to))
        }
    }
}

/// The .NET type name of a value (`Int32`, `String`, `List`1`).
pub fn type_name(lib: &Library, v: &Value) -> String {
    if let Some(p) = v.prim() {
        return p.clr_name().to_string();
    }
    match v {
        Value::Null => "null".into(),
        Value::Str(_) => "String".into(),
        Value::Enum(id, _) => lib.ty(*id).name.clone(),
        Value::DateTime(_) => "DateTime".into(),
        Value::TimeSpan(_) => "TimeSpan".into(),
        Value::DateTimeOffset(_) => "DateTimeOffset".into(),
        Value::Guid(_) => "Guid".into(),
        Value::Pair(_) => "KeyValuePair`2".into(),
        Value::Array(a) => format!("{}[]", ty_clr(lib, &a.elem)),
        Value::Obj(o) => match &**o {
            Obj::List(..) => "List`1".into(),
            Obj::Dict(..) => "Dictionary`2".into(),
            Obj::Set(..) => "HashSet`1".into(),
            Obj::Seq(..) | Obj::Lazy(..) => "IEnumerable`1".into(),
            Obj::DictView(_, _, keys) => {
                if *keys {
                    "KeyCollection".into()
                } else {
                    "ValueCollection".into()
                }
            }
            Obj::Builder(_) => "StringBuilder".into(),
            Obj::Func(..) => "Func`1".into(),
            Obj::Exception(e) => e.ty.to_string(),
            Obj::Regex(_) => "Regex".into(),
            Obj::Match(..) => "Match".into(),
            Obj::Groups(_) => "GroupCollection".into(),
            Obj::Matches(_) => "MatchCollection".into(),
            Obj::Encoding(_) => "UTF8Encoding".into(),
            Obj::Random(_) => "Random".into(),
            Obj::Anonymous(_) => "<>f__AnonymousType0".into(),
            Obj::Uri(_) => "Uri".into(),
            Obj::Host(_) => "Object".into(),
            Obj::Type(_) => "RuntimeType".into(),
            Obj::Comparer(_) => "StringComparer".into(),
            Obj::Grouping(..) => "Grouping`2".into(),
            Obj::Sorted(..) => "OrderedEnumerable`2".into(),
            Obj::Hasher(a, _) => (*a).into(),
            Obj::Json(_) => "JToken".into(),
            Obj::Writer(_) => "StringWriter".into(),
            Obj::Queue(_, _, stack) => {
                if *stack {
                    "Stack`1".into()
                } else {
                    "Queue`1".into()
                }
            }
        },
        _ => "Object".into(),
    }
}

fn ty_clr(lib: &Library, t: &Ty) -> String {
    match t {
        Ty::Prim(p) => p.clr_name().into(),
        Ty::String => "String".into(),
        Ty::Object => "Object".into(),
        Ty::Named(id, _) => lib.ty(*id).clr_name.clone(),
        Ty::Array(e) => format!("{}[]", ty_clr(lib, e)),
        _ => "Object".into(),
    }
}

/// The namespace-qualified .NET name of a type (`System.Int32`).
pub fn full_name(lib: &Library, t: &Ty) -> String {
    match t {
        Ty::Prim(p) => format!("System.{}", p.clr_name()),
        Ty::String => "System.String".into(),
        Ty::Object => "System.Object".into(),
        Ty::Array(e) => format!("{}[]", full_name(lib, e)),
        Ty::Nullable(i) => format!("System.Nullable`1[{}]", full_name(lib, i)),
        Ty::Named(id, args) => {
            let d = lib.ty(*id);
            let mut s = if d.namespace.is_empty() {
                d.clr_name.clone()
            } else {
                format!("{}.{}", d.namespace, d.clr_name)
            };
            if !args.is_empty() {
                s.push_str(&format!("`{}[", args.len()));
                s.push_str(
                    &args
                        .iter()
                        .map(|a| full_name(lib, a))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.push(']');
            }
            s
        }
        _ => "System.Object".into(),
    }
}

/// Whether `v` is an instance of `t` (`is`, `as`, casts). `null` is never an instance.
pub fn is_instance(lib: &Library, v: &Value, t: &Ty) -> bool {
    if v.is_null() {
        return false;
    }
    match t {
        Ty::Unknown | Ty::Object => true,
        Ty::Prim(p) => v.prim() == Some(*p),
        Ty::String => matches!(v, Value::Str(_)),
        Ty::Nullable(i) => is_instance(lib, v, i),
        Ty::Array(e) => match v {
            Value::Array(a) => {
                a.elem == **e || (!e.is_value_type(lib) && matches!(**e, Ty::Object))
            }
            _ => false,
        },
        Ty::Named(id, _) => {
            let d = lib.ty(*id);
            let name = d.name.as_str();
            match v {
                Value::Enum(eid, _) => eid == id,
                Value::DateTime(_) => name == "DateTime",
                Value::TimeSpan(_) => name == "TimeSpan",
                Value::DateTimeOffset(_) => name == "DateTimeOffset",
                Value::Guid(_) => name == "Guid",
                Value::Pair(_) => name == "KeyValuePair",
                Value::Str(_) => matches!(
                    name,
                    "IEnumerable" | "IComparable" | "ICloneable" | "IEquatable"
                ),
                Value::Array(_) => matches!(
                    name,
                    "IEnumerable"
                        | "IList"
                        | "ICollection"
                        | "IReadOnlyList"
                        | "IReadOnlyCollection"
                        | "Array"
                ),
                Value::Obj(o) => match &**o {
                    Obj::List(..) => matches!(
                        name,
                        "List"
                            | "IList"
                            | "ICollection"
                            | "IEnumerable"
                            | "IReadOnlyList"
                            | "IReadOnlyCollection"
                    ),
                    Obj::Dict(..) => matches!(
                        name,
                        "Dictionary"
                            | "IDictionary"
                            | "IReadOnlyDictionary"
                            | "IEnumerable"
                            | "ICollection"
                    ),
                    Obj::Set(..) => {
                        matches!(name, "HashSet" | "ISet" | "IEnumerable" | "ICollection")
                    }
                    Obj::Seq(..) | Obj::Lazy(..) => name == "IEnumerable",
                    Obj::DictView(..) => {
                        matches!(name, "IEnumerable" | "ICollection" | "IReadOnlyCollection")
                    }
                    Obj::Builder(_) => name == "StringBuilder",
                    Obj::Exception(e) => crate::eval::exception_is(&e.ty, name),
                    Obj::Regex(_) => name == "Regex",
                    Obj::Match(..) => matches!(name, "Match" | "Group" | "Capture"),
                    Obj::Func(..) => d.kind == TypeKind::Delegate,
                    Obj::Json(j) => {
                        let class = match &*j.borrow() {
                            crate::natives::json::JNode::Object(_) => "JObject",
                            crate::natives::json::JNode::Array(_) => "JArray",
                            crate::natives::json::JNode::Property(..) => "JProperty",
                            crate::natives::json::JNode::Value(_) => "JValue",
                        };
                        name == class
                            || matches!(name, "JToken" | "IEnumerable")
                            || (name == "JContainer" && class != "JValue")
                    }
                    _ => false,
                },
                _ => false,
            }
        }
        _ => false,
    }
}

/// A checked cast `(T)v`: unboxing needs the exact type; `null` to a value type throws.
pub fn cast(lib: &Library, v: Value, t: &Ty) -> Result<Value, Exception> {
    if v.is_null() {
        if t.is_value_type(lib) {
            return Err(Exception::null_ref());
        }
        return Ok(Value::Null);
    }
    if let Ty::Nullable(i) = t {
        if let (Some(p), Some(_)) = (i.prim(), v.prim()) {
            return numeric(&v, p, false);
        }
        return cast(lib, v, i);
    }
    if is_instance(lib, &v, t) {
        return Ok(v);
    }
    // Enums and their underlying integers convert both ways with a cast.
    if let Ty::Named(id, _) = t
        && lib.ty(*id).kind == TypeKind::Enum
        && (v.prim().is_some_and(Prim::is_integral) || matches!(v, Value::Enum(..)))
    {
        return Ok(Value::Enum(*id, as_i64(&v)));
    }
    if let (Value::Enum(_, x), Ty::Prim(p)) = (&v, t) {
        return numeric(&Value::Long(*x), *p, false);
    }
    Err(Exception::cast(
        &full_type_name_of(lib, &v),
        &full_name(lib, t),
    ))
}

fn full_type_name_of(lib: &Library, v: &Value) -> String {
    if let Some(p) = v.prim() {
        return format!("System.{}", p.clr_name());
    }
    match v {
        Value::Str(_) => "System.String".into(),
        other => format!("System.{}", type_name(lib, other)),
    }
}

/// `default(T)`.
pub fn default_of(t: &Ty, lib: &Library) -> Value {
    match t {
        Ty::Prim(p) => int_result(0, *p),
        Ty::Named(id, _) => match lib.ty(*id).name.as_str() {
            "DateTime" => Value::DateTime(DateTime::MIN),
            "TimeSpan" => Value::TimeSpan(TimeSpan { ticks: 0 }),
            "DateTimeOffset" => Value::DateTimeOffset(DateTimeOffset {
                ticks: 0,
                offset_minutes: 0,
            }),
            "Guid" => Value::Guid(0),
            _ if lib.ty(*id).kind == TypeKind::Enum => Value::Enum(*id, 0),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// `object.Equals(a, b)`: value equality for values and strings, identity for objects.
pub fn object_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => Rc::ptr_eq(x, y),
        (Value::Obj(x), Value::Obj(y)) => Rc::ptr_eq(x, y),
        (Value::Pair(x), Value::Pair(y)) => object_equals(&x.0, &y.0) && object_equals(&x.1, &y.1),
        (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::DateTime(x), Value::DateTime(y)) => x.ticks == y.ticks,
        (x, y) => match (x.prim(), y.prim()) {
            (Some(p), Some(q)) if p == q => format!("{x:?}") == format!("{y:?}"),
            (Some(_), Some(_)) => false,
            _ => format!("{x:?}") == format!("{y:?}"),
        },
    }
}

/// `ToString()` of a value.
pub fn to_string(it: &mut Interp, v: &Value) -> Result<String, Exception> {
    format_value(it, v, None)
}

fn fmt_err(e: number::NumError) -> Exception {
    match e {
        number::NumError::Format(m) => Exception::format(m),
        number::NumError::Overflow(m) => Exception::new("OverflowException", m),
    }
}

/// `ToString(format)` of a value (interpolation holes and composite formatting).
pub fn format_value(it: &mut Interp, v: &Value, format: Option<&str>) -> Result<String, Exception> {
    let f = format.unwrap_or("");
    let lib = it.lib;
    Ok(match v {
        Value::Null => String::new(),
        Value::Bool(b) => {
            if *b {
                "True".into()
            } else {
                "False".into()
            }
        }
        Value::Char(c) => String::from_utf16_lossy(&[*c]),
        Value::SByte(x) => number::format_int(i128::from(*x), 8, f).map_err(fmt_err)?,
        Value::Byte(x) => number::format_int(i128::from(*x), 8, f).map_err(fmt_err)?,
        Value::Short(x) => number::format_int(i128::from(*x), 16, f).map_err(fmt_err)?,
        Value::UShort(x) => number::format_int(i128::from(*x), 16, f).map_err(fmt_err)?,
        Value::Int(x) => number::format_int(i128::from(*x), 32, f).map_err(fmt_err)?,
        Value::UInt(x) => number::format_int(i128::from(*x), 32, f).map_err(fmt_err)?,
        Value::Long(x) => number::format_int(i128::from(*x), 64, f).map_err(fmt_err)?,
        Value::ULong(x) => number::format_int(i128::from(*x), 64, f).map_err(fmt_err)?,
        Value::Float(x) => number::format_float(*x, f).map_err(fmt_err)?,
        Value::Double(x) => number::format_double(*x, f).map_err(fmt_err)?,
        Value::Decimal(d) => number::format_decimal(d.mantissa(), d.scale(), f).map_err(fmt_err)?,
        Value::Str(s) => s.to_string(),
        Value::Enum(id, x) => {
            let d = lib.ty(*id);
            if f.eq_ignore_ascii_case("d") {
                x.to_string()
            } else {
                d.enum_name(*x)
                    .map_or_else(|| x.to_string(), str::to_string)
            }
        }
        Value::DateTime(d) => d.format(f).map_err(dt_err)?,
        Value::TimeSpan(t) => t.format(f).map_err(dt_err)?,
        Value::DateTimeOffset(d) => d.format(f).map_err(dt_err)?,
        Value::Guid(g) => crate::natives::misc::guid_text(*g, f)?,
        Value::Pair(p) => {
            let k = format_value(it, &p.0, None)?;
            let v = format_value(it, &p.1, None)?;
            format!("[{k}, {v}]")
        }
        Value::Array(a) => format!("{}[]", full_name(lib, &a.elem)),
        Value::Obj(o) => match &**o {
            Obj::Builder(b) | Obj::Writer(b) => b.borrow().clone(),
            Obj::Json(j) => crate::natives::json::token_string(it, &j.clone(), true)?,
            Obj::Exception(e) => {
                let ns = if e.ty.starts_with("Json") {
                    "Newtonsoft.Json"
                } else if e.ty.starts_with("KeyNotFound") {
                    "System.Collections.Generic"
                } else {
                    "System"
                };
                format!("{ns}.{}: {}", e.ty, e.message)
            }
            Obj::Uri(u) => u.to_string(),
            Obj::Match(m, g) => m.group_value(*g).unwrap_or_default(),
            Obj::Anonymous(fields) => {
                let mut parts = Vec::new();
                for (n, x) in fields {
                    parts.push(format!("{n} = {}", format_value(it, x, None)?));
                }
                if parts.is_empty() {
                    "{ }".into()
                } else {
                    format!("{{ {} }}", parts.join(", "))
                }
            }
            Obj::List(t, _) => format!("System.Collections.Generic.List`1[{}]", full_name(lib, t)),
            Obj::Dict(k, v, _) => format!(
                "System.Collections.Generic.Dictionary`2[{},{}]",
                full_name(lib, k),
                full_name(lib, v)
            ),
            Obj::Type(t) => full_name(lib, t),
            Obj::Regex(r) => r.pattern.clone(),
            _ => format!("System.{}", type_name(lib, v)),
        },
    })
}

/// Maps a date error to its exception.
pub fn dt_err(e: crate::dotnet::datetime::DtError) -> Exception {
    Exception::new(e.exception_name(), e.message().to_string())
}
