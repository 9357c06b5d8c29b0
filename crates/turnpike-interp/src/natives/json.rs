//! Newtonsoft.Json's `JToken` family (`JObject`, `JArray`, `JProperty`, `JValue`),
//! `JsonConvert`, and APIM's `AsJwt` / `AsBasic` helpers.
//!
//! Tokens are shared, mutable trees (`Rc<RefCell<JNode>>`), as Newtonsoft's are reference
//! objects. Parsing keeps property order; `ToString()` writes Newtonsoft's indented form (two
//! spaces), `Formatting.None` the compact one. Date-like strings stay strings (Newtonsoft
//! would read them as dates by default; see spec/08-platform.md).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use turnpike_ir::{Prim, Ty};

use super::{Call, Registry};
use crate::context::{HostRef, Named};
use crate::convert::{self, as_i64};
use crate::dotnet::datetime::{DateTime, Kind};
use crate::dotnet::number;
use crate::eval::Interp;
use crate::value::{Dict, Exception, Obj, Value};

/// A shared JSON token.
pub type JRef = Rc<RefCell<JNode>>;

/// A JSON token.
#[derive(Debug)]
pub enum JNode {
    /// `{...}`: properties in order.
    Object(Vec<(String, JRef)>),
    /// `[...]`
    Array(Vec<JRef>),
    /// A property (name and value): on its own, as `new JProperty(...)` makes, or taken from
    /// an object (`Property(name)`, `Properties()`), which `Remove()` then changes.
    Property(String, JRef, Option<std::rc::Weak<RefCell<JNode>>>),
    /// A primitive value.
    Value(JVal),
}

/// A primitive JSON value.
#[derive(Debug, Clone)]
pub enum JVal {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An integer beyond `long` (Newtonsoft keeps it as a `BigInteger`).
    BigInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// Another .NET value (decimal, DateTime, Guid...), written with `ToString()`.
    Other(Value),
}

fn node(n: JNode) -> JRef {
    Rc::new(RefCell::new(n))
}

fn jvalue(v: JVal) -> JRef {
    node(JNode::Value(v))
}

fn wrap(j: JRef) -> Value {
    Value::obj(Obj::Json(j))
}

impl<'de> Deserialize<'de> for JNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JNode;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, b: bool) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Bool(b)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Int(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<JNode, E> {
                Ok(JNode::Value(
                    i64::try_from(v).map_or(JVal::BigInt(v), JVal::Int),
                ))
            }
            fn visit_f64<E>(self, v: f64) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Str(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Str(v)))
            }
            fn visit_unit<E>(self) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Null))
            }
            fn visit_none<E>(self) -> Result<JNode, E> {
                Ok(JNode::Value(JVal::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JNode, A::Error> {
                let mut items = Vec::new();
                while let Some(n) = seq.next_element::<JNode>()? {
                    items.push(node(n));
                }
                Ok(JNode::Array(items))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<JNode, M::Error> {
                let mut props: Vec<(String, JRef)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, JNode>()? {
                    match props.iter_mut().find(|(n, _)| *n == k) {
                        Some(p) => p.1 = node(v),
                        None => props.push((k, node(v))),
                    }
                }
                Ok(JNode::Object(props))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses JSON text; errors are `JsonReaderException`.
pub fn parse(text: &str) -> Result<JRef, Exception> {
    serde_json::from_str::<JNode>(text).map(node).map_err(|e| {
        Exception::new(
            "JsonReaderException",
            format!("{e}. Path '', line {}, position {}.", e.line(), e.column()),
        )
    })
}

fn escape(s: &str, out: &mut String) {
    out.push('"');
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn float_text(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let t = number::format_double(v, "R").unwrap_or_default();
    if t.contains(['.', 'E']) {
        t
    } else {
        format!("{t}.0")
    }
}

/// Writes JSON as Newtonsoft does; `indent` is the current depth when indenting.
fn write(
    it: &mut Interp,
    j: &JRef,
    indent: Option<usize>,
    out: &mut String,
) -> Result<(), Exception> {
    let pad = |n: usize, out: &mut String| {
        out.push('\n');
        for _ in 0..n {
            out.push_str("  ");
        }
    };
    match &*j.borrow() {
        JNode::Value(v) => match v {
            JVal::Null => out.push_str("null"),
            JVal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JVal::Int(i) => {
                let _ = write!(out, "{i}");
            }
            JVal::BigInt(i) => {
                let _ = write!(out, "{i}");
            }
            JVal::Float(f) => out.push_str(&float_text(*f)),
            JVal::Str(s) => escape(s, out),
            JVal::Other(v) => match v {
                Value::Decimal(_) => out.push_str(&convert::to_string(it, v)?),
                Value::DateTime(d) => escape(
                    &d.format("yyyy-MM-ddTHH:mm:ss.FFFFFFFK").unwrap_or_default(),
                    out,
                ),
                other => escape(&convert::to_string(it, other)?, out),
            },
        },
        JNode::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(n) = indent {
                    pad(n + 1, out);
                }
                write(it, x, indent.map(|n| n + 1), out)?;
            }
            if let Some(n) = indent {
                pad(n, out);
            }
            out.push(']');
        }
        JNode::Object(props) => {
            if props.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, v)) in props.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(n) = indent {
                    pad(n + 1, out);
                }
                escape(k, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(it, v, indent.map(|n| n + 1), out)?;
            }
            if let Some(n) = indent {
                pad(n, out);
            }
            out.push('}');
        }
        JNode::Property(k, v, _) => {
            escape(k, out);
            out.push(':');
            if indent.is_some() {
                out.push(' ');
            }
            write(it, v, indent, out)?;
        }
    }
    Ok(())
}

/// `JToken.ToString()`: a `JValue` gives its value's text, any other token its JSON.
pub fn token_string(it: &mut Interp, j: &JRef, indented: bool) -> Result<String, Exception> {
    if let JNode::Value(v) = &*j.borrow() {
        return match v {
            JVal::Null => Ok(String::new()),
            JVal::Bool(b) => Ok(if *b { "True".into() } else { "False".into() }),
            JVal::Int(i) => Ok(i.to_string()),
            JVal::BigInt(i) => Ok(i.to_string()),
            JVal::Float(f) => Ok(number::format_double(*f, "").unwrap_or_default()),
            JVal::Str(s) => Ok(s.clone()),
            JVal::Other(v) => convert::to_string(it, v),
        };
    }
    let mut out = String::with_capacity(256);
    write(it, j, if indented { Some(0) } else { None }, &mut out)?;
    Ok(out)
}

/// A .NET value as a token (`JToken.FromObject`, `new JProperty(name, value)`, implicit
/// conversions).
pub fn from_value(it: &mut Interp, v: &Value) -> Result<JRef, Exception> {
    Ok(match v {
        Value::Null => jvalue(JVal::Null),
        Value::Bool(b) => jvalue(JVal::Bool(*b)),
        Value::Str(s) => jvalue(JVal::Str(s.to_string())),
        Value::Char(c) => jvalue(JVal::Str(String::from_utf16_lossy(&[*c]))),
        Value::Float(f) => jvalue(JVal::Float(f64::from(*f))),
        Value::Double(f) => jvalue(JVal::Float(*f)),
        Value::Decimal(_)
        | Value::DateTime(_)
        | Value::Guid(_)
        | Value::TimeSpan(_)
        | Value::DateTimeOffset(_) => jvalue(JVal::Other(v.clone())),
        Value::Enum(_, x) => jvalue(JVal::Int(*x)),
        v if v.prim().is_some() => jvalue(JVal::Int(as_i64(v))),
        Value::Obj(o) => match &**o {
            Obj::Json(j) => j.clone(),
            Obj::Anonymous(fields) => {
                let mut props = Vec::new();
                for (k, x) in fields {
                    props.push((k.to_string(), from_value(it, x)?));
                }
                node(JNode::Object(props))
            }
            Obj::Dict(_, _, d) => {
                let mut props = Vec::new();
                for (k, x) in d.borrow().pairs() {
                    props.push((convert::to_string(it, &k)?, from_value(it, &x)?));
                }
                node(JNode::Object(props))
            }
            Obj::Host(_) => jvalue(JVal::Str(convert::to_string(it, v)?)),
            _ => {
                let items = it.enumerate(v)?;
                let mut out = Vec::with_capacity(items.len());
                for x in &items {
                    out.push(from_value(it, x)?);
                }
                node(JNode::Array(out))
            }
        },
        Value::Array(_) | Value::Pair(_) => {
            let items = it.enumerate(v)?;
            let mut out = Vec::with_capacity(items.len());
            for x in &items {
                out.push(from_value(it, x)?);
            }
            node(JNode::Array(out))
        }
        other => jvalue(JVal::Str(convert::to_string(it, other)?)),
    })
}

fn type_name(j: &JRef) -> &'static str {
    match &*j.borrow() {
        JNode::Object(_) => "Object",
        JNode::Array(_) => "Array",
        JNode::Property(..) => "Property",
        JNode::Value(v) => match v {
            JVal::Null => "Null",
            JVal::Bool(_) => "Boolean",
            JVal::Int(_) | JVal::BigInt(_) => "Integer",
            JVal::Float(_) => "Float",
            JVal::Str(_) => "String",
            JVal::Other(Value::DateTime(_)) => "Date",
            JVal::Other(Value::Guid(_)) => "Guid",
            JVal::Other(_) => "Float",
        },
    }
}

fn token_type(j: &JRef) -> i64 {
    match type_name(j) {
        "Object" => 1,
        "Array" => 2,
        "Property" => 4,
        "Integer" => 6,
        "Float" => 7,
        "String" => 8,
        "Boolean" => 9,
        "Null" => 10,
        "Date" => 12,
        "Guid" => 15,
        _ => 0,
    }
}

/// Converts a token to a .NET type, as `(T)token`, `Value<T>()` and `ToObject<T>()` do.
pub fn to_type(it: &mut Interp, j: &JRef, t: &Ty) -> Result<Value, Exception> {
    let lib = it.lib;
    let cannot = |what: &str, to: &str| {
        Exception::new(
            "ArgumentException",
            format!("Can not convert {what} to {to}."),
        )
    };
    if let Ty::Named(id, _) = t {
        let name = lib.ty(*id).name.as_str();
        if matches!(
            name,
            "JToken" | "JObject" | "JArray" | "JValue" | "JProperty" | "JContainer"
        ) {
            return Ok(wrap(j.clone()));
        }
    }
    if matches!(t, Ty::Object | Ty::Unknown) {
        return Ok(wrap(j.clone()));
    }
    let b = j.borrow();
    let JNode::Value(v) = &*b else {
        let what = type_name(j);
        return Err(cannot(what, &t.display(lib).to_string()));
    };
    let v = v.clone();
    drop(b);
    let nullable = matches!(t, Ty::Nullable(_)) || !t.is_value_type(lib);
    let base = t.strip_nullable().clone();
    match (&v, &base) {
        (JVal::Null, _) if nullable => Ok(Value::Null),
        (JVal::Null, _) => Err(cannot("Null", &base.display(lib).to_string())),
        (_, Ty::String) => Ok(Value::str(token_string(it, j, false)?)),
        (JVal::Bool(b), Ty::Prim(Prim::Bool)) => Ok(Value::Bool(*b)),
        (JVal::Str(s), Ty::Prim(p)) => crate::natives::numbers::convert_to(*p, &Value::str(s)),
        (JVal::Int(i), Ty::Prim(p)) => crate::natives::numbers::convert_to(*p, &Value::Long(*i)),
        (JVal::BigInt(i), Ty::Prim(p)) => {
            crate::natives::numbers::convert_to(*p, &Value::ULong(*i))
        }
        (JVal::Float(f), Ty::Prim(p)) => {
            crate::natives::numbers::convert_to(*p, &Value::Double(*f))
        }
        (JVal::Bool(b), Ty::Prim(p)) => crate::natives::numbers::convert_to(*p, &Value::Bool(*b)),
        (JVal::Other(o), _) if convert::is_instance(lib, o, &base) => Ok(o.clone()),
        (JVal::Str(s), Ty::Named(id, _)) if lib.ty(*id).name == "DateTime" => DateTime::parse(s)
            .map(Value::DateTime)
            .map_err(convert::dt_err),
        (JVal::Str(s), Ty::Named(id, _)) if lib.ty(*id).name == "Guid" => {
            let text = s.replace('-', "");
            u128::from_str_radix(&text, 16)
                .map(Value::Guid)
                .map_err(|_| Exception::format("Unrecognized Guid format."))
        }
        _ => Err(cannot(type_name(j), &base.display(lib).to_string())),
    }
}

fn this_json(c: &Call<'_>) -> Result<JRef, Exception> {
    let v = if c.recv.is_null() { c.arg(0) } else { &c.recv };
    match v {
        Value::Obj(o) => match &**o {
            Obj::Json(j) => Ok(j.clone()),
            _ => Err(Exception::invalid_op("not a JSON token")),
        },
        Value::Null => Err(Exception::null_ref()),
        _ => Err(Exception::invalid_op("not a JSON token")),
    }
}

fn json_arg(c: &Call<'_>, i: usize) -> Option<JRef> {
    match c.arg(i) {
        Value::Obj(o) => match &**o {
            Obj::Json(j) => Some(j.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `token[key]`: a property of an object or an element of an array.
fn index_get(j: &JRef, key: &Value) -> Result<Value, Exception> {
    match (&*j.borrow(), key) {
        (JNode::Object(props), Value::Str(k)) => Ok(props
            .iter()
            .find(|(n, _)| n == &**k)
            .map_or(Value::Null, |(_, v)| wrap(v.clone()))),
        (JNode::Array(items), k) if k.prim().is_some() => {
            let i = as_i64(k);
            usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i))
                .map(|v| wrap(v.clone()))
                .ok_or_else(|| Exception::new("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')"))
        }
        (JNode::Property(_, v, _), _) => index_get(v, key),
        (JNode::Object(_), _) => Err(Exception::new(
            "ArgumentException",
            "Accessed JObject values with invalid key value. Object property name expected.",
        )),
        (JNode::Array(_), _) => Err(Exception::new(
            "ArgumentException",
            "Accessed JArray values with invalid key value. Int32 array index expected.",
        )),
        (JNode::Value(_), _) => Err(Exception::invalid_op(
            "Cannot access child value on Newtonsoft.Json.Linq.JValue.",
        )),
    }
}

fn index_set(it: &mut Interp, j: &JRef, key: &Value, v: &Value) -> Result<(), Exception> {
    let t = from_value(it, v)?;
    match (&mut *j.borrow_mut(), key) {
        (JNode::Object(props), Value::Str(k)) => {
            match props.iter_mut().find(|(n, _)| n == &**k) {
                Some(p) => p.1 = t,
                None => props.push((k.to_string(), t)),
            }
            Ok(())
        }
        (JNode::Array(items), k) => {
            let i = as_i64(k);
            match usize::try_from(i).ok().and_then(|i| items.get_mut(i)) {
                Some(slot) => {
                    *slot = t;
                    Ok(())
                }
                None => Err(Exception::range("index")),
            }
        }
        (JNode::Property(_, val, _), _) => {
            *val = t;
            Ok(())
        }
        _ => Err(Exception::invalid_op(
            "Cannot set child value on Newtonsoft.Json.Linq.JValue.",
        )),
    }
}

/// Adds content to a container as `JContainer.Add` does.
fn add_content(it: &mut Interp, j: &JRef, content: &Value) -> Result<(), Exception> {
    // Enumerables of tokens add each item (but not a JToken itself, nor a string).
    let is_token = matches!(content, Value::Obj(o) if matches!(&**o, Obj::Json(_)));
    if !is_token && matches!(content, Value::Array(_))
        || matches!(content, Value::Obj(o) if matches!(&**o, Obj::List(..) | Obj::Seq(..) | Obj::Lazy(..)))
    {
        for x in it.enumerate(content)? {
            add_content(it, j, &x)?;
        }
        return Ok(());
    }
    let t = from_value(it, content)?;
    let mut n = j.borrow_mut();
    match &mut *n {
        JNode::Object(props) => {
            let prop = match &*t.borrow() {
                JNode::Property(k, v, _) => Some((k.clone(), v.clone())),
                JNode::Object(inner) => {
                    for (k, v) in inner {
                        props.retain(|(n, _)| n != k);
                        props.push((k.clone(), v.clone()));
                    }
                    return Ok(());
                }
                _ => None,
            };
            match prop {
                Some((k, v)) => {
                    if props.iter().any(|(n, _)| *n == k) {
                        return Err(Exception::new(
                            "ArgumentException",
                            format!(
                                "Can not add property {k} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object."
                            ),
                        ));
                    }
                    props.push((k, v));
                    Ok(())
                }
                None => Err(Exception::new(
                    "ArgumentException",
                    format!(
                        "Can not add Newtonsoft.Json.Linq.{} to Newtonsoft.Json.Linq.JObject.",
                        jtype_class(&t)
                    ),
                )),
            }
        }
        JNode::Array(items) => {
            items.push(t);
            Ok(())
        }
        JNode::Property(_, v, _) => {
            *v = t;
            Ok(())
        }
        JNode::Value(_) => Err(Exception::invalid_op("Cannot add content to a JValue.")),
    }
}

fn jtype_class(j: &JRef) -> &'static str {
    match &*j.borrow() {
        JNode::Object(_) => "JObject",
        JNode::Array(_) => "JArray",
        JNode::Property(..) => "JProperty",
        JNode::Value(_) => "JValue",
    }
}

/// Children of a token, as `foreach` and LINQ see them (`JObject`: key/value pairs).
pub fn children(j: &JRef) -> Vec<Value> {
    match &*j.borrow() {
        JNode::Object(props) => props
            .iter()
            .map(|(k, v)| Value::Pair(Rc::new((Value::str(k), wrap(v.clone())))))
            .collect(),
        JNode::Array(items) => items.iter().map(|x| wrap(x.clone())).collect(),
        JNode::Property(_, v, _) => vec![wrap(v.clone())],
        JNode::Value(_) => Vec::new(),
    }
}

fn result_ty(c: &Call<'_>) -> Ty {
    c.member.ty.subst(c.targs)
}

fn new_container(it: &mut Interp, c: &mut Call<'_>, n: JNode) -> Result<Value, Exception> {
    let j = node(n);
    let args = c.args.to_vec();
    for a in &args {
        add_content(it, &j, a)?;
    }
    Ok(wrap(j))
}

/// `SelectToken` with the common JSONPath subset: `a.b`, `a[0]`, `['a b']`, `$`.
fn select(j: &JRef, path: &str) -> Option<JRef> {
    let mut cur = j.clone();
    let mut rest = path.trim().trim_start_matches('$');
    while !rest.is_empty() {
        rest = rest.trim_start_matches('.');
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let key = r[..end].trim();
            rest = &r[end + 1..];
            let next = if let Some(q) = key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')) {
                match &*cur.borrow() {
                    JNode::Object(p) => p.iter().find(|(n, _)| n == q).map(|(_, v)| v.clone()),
                    _ => None,
                }
            } else {
                let i: usize = key.parse().ok()?;
                match &*cur.borrow() {
                    JNode::Array(items) => items.get(i).cloned(),
                    _ => None,
                }
            };
            cur = next?;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = &rest[..end];
            rest = &rest[end..];
            let next = match &*cur.borrow() {
                JNode::Object(p) => p.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone()),
                _ => None,
            };
            cur = next?;
        }
    }
    Some(cur)
}

fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut t: String = s.replace('-', "+").replace('_', "/");
    while !t.len().is_multiple_of(4) {
        t.push('=');
    }
    super::misc::base64_decode(&t).ok()
}

/// APIM's `AsJwt`: the token's header and claims (no signature check); `None` when the text
/// is not a JWT.
fn parse_jwt(text: &str) -> Option<Named> {
    let t = text.trim();
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(t)
        .trim();
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&base64url(parts[0])?).ok()?;
    let payload: serde_json::Value = serde_json::from_slice(&base64url(parts[1])?).ok()?;
    let obj = payload.as_object()?;
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut claims = Dict::new(false);
    for (k, v) in obj {
        let values: Vec<Value> = match v {
            serde_json::Value::Array(a) => a.iter().map(|x| Value::str(text_of(x))).collect(),
            other => vec![Value::str(text_of(other))],
        };
        claims.set(Value::str(k), Value::array(Ty::String, values));
    }
    let claim = |k: &str| obj.get(k).map_or(Value::Null, |v| Value::str(text_of(v)));
    let time = |k: &str| {
        obj.get(k)
            .and_then(serde_json::Value::as_i64)
            .and_then(|s| {
                DateTime::from_ticks(621_355_968_000_000_000 + s * 10_000_000, Kind::Utc).ok()
            })
            .map_or(Value::Null, Value::DateTime)
    };
    let audiences = match obj.get("aud") {
        Some(serde_json::Value::Array(a)) => a.iter().map(|x| Value::str(text_of(x))).collect(),
        Some(v) => vec![Value::str(text_of(v))],
        None => Vec::new(),
    };
    let props = vec![
        (
            "Algorithm".to_string(),
            header
                .get("alg")
                .map_or(Value::Null, |v| Value::str(text_of(v))),
        ),
        (
            "Type".to_string(),
            header
                .get("typ")
                .map_or(Value::Null, |v| Value::str(text_of(v))),
        ),
        ("Id".to_string(), claim("jti")),
        ("Issuer".to_string(), claim("iss")),
        ("Subject".to_string(), claim("sub")),
        ("Audiences".to_string(), Value::array(Ty::String, audiences)),
        ("ExpirationTime".to_string(), time("exp")),
        ("NotBefore".to_string(), time("nbf")),
        ("IssuedAt".to_string(), time("iat")),
        (
            "Claims".to_string(),
            Value::obj(Obj::Dict(
                Ty::String,
                Ty::Array(Box::new(Ty::String)),
                RefCell::new(claims),
            )),
        ),
    ];
    Some(Named { props })
}

fn parse_basic(text: &str) -> Option<Named> {
    let t = text.trim();
    let (scheme, rest) = t.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = super::misc::base64_decode(rest.trim()).ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (user, pass) = s.split_once(':')?;
    Some(Named {
        props: vec![
            ("UserId".into(), Value::str(user)),
            ("Password".into(), Value::str(pass)),
        ],
    })
}

fn named_value(n: Option<Named>) -> Value {
    n.map_or(Value::Null, |n| {
        Value::obj(Obj::Host(HostRef::Named(Rc::new(n))))
    })
}

pub(crate) fn register(r: &mut Registry) {
    for t in ["JToken", "JObject", "JArray"] {
        r.insert(Box::leak(format!("{t}.Parse/*").into_boxed_str()), |it, c| {
            let s = c.req_str(0)?;
            let j = parse(&s)?;
            let want = it.lib.ty(c.member.owner).name.clone();
            let got = jtype_class(&j);
            if want != "JToken" && got != want {
                return Err(Exception::new(
                    "JsonReaderException",
                    format!("Error reading {want} from JsonReader. Current JsonReader item is not an {}: {}.", if want == "JObject" { "object" } else { "array" }, type_name(&j)),
                ));
            }
            Ok(wrap(j))
        });
        r.insert(
            Box::leak(format!("{t}.FromObject/*").into_boxed_str()),
            |it, c| {
                let v = c.arg(0).clone();
                Ok(wrap(from_value(it, &v)?))
            },
        );
    }
    r.insert("JObject.new/*", |it, c| {
        new_container(it, c, JNode::Object(Vec::new()))
    });
    r.insert("JArray.new/*", |it, c| {
        new_container(it, c, JNode::Array(Vec::new()))
    });
    r.insert("JProperty.new/*", |it, c| {
        let name = c.req_str(0)?;
        let rest = c.args[1..].to_vec();
        let v = match rest.as_slice() {
            [one] => from_value(it, one)?,
            many => {
                let arr = node(JNode::Array(Vec::new()));
                for x in many {
                    add_content(it, &arr, x)?;
                }
                arr
            }
        };
        Ok(wrap(node(JNode::Property(name.to_string(), v, None))))
    });
    r.insert("JValue.new/*", |it, c| {
        let v = c.arg(0).clone();
        Ok(wrap(from_value(it, &v)?))
    });
    r.insert("JValue.CreateNull/*", |_, _| Ok(wrap(jvalue(JVal::Null))));
    r.insert("JValue.CreateString/*", |_, c| {
        Ok(wrap(jvalue(JVal::Str(
            c.str_arg(0).map(|s| s.to_string()).unwrap_or_default(),
        ))))
    });
    for t in ["JToken", "JObject", "JArray"] {
        r.insert(Box::leak(format!("{t}.this/1").into_boxed_str()), |_, c| {
            let j = this_json(c)?;
            index_get(&j, c.arg(0))
        });
        r.insert(
            Box::leak(format!("set:{t}.this/1").into_boxed_str()),
            |it, c| {
                let j = this_json(c)?;
                let (k, v) = (c.arg(0).clone(), c.arg(1).clone());
                index_set(it, &j, &k, &v)?;
                Ok(Value::Null)
            },
        );
    }
    r.insert("JToken.ToString/*", |it, c| {
        let j = this_json(c)?;
        if c.is_empty() {
            return token_string(it, &j, true).map(Value::str);
        }
        // With a `Formatting`, every token is written as JSON (a string value quoted).
        let indented = !matches!(c.arg(0), Value::Enum(_, 0));
        let mut out = String::with_capacity(256);
        write(it, &j, if indented { Some(0) } else { None }, &mut out)?;
        Ok(Value::str(out))
    });
    r.insert("JValue.ToString/*", |it, c| {
        let j = this_json(c)?;
        token_string(it, &j, true).map(Value::str)
    });
    r.insert("JToken.Type", |it, c| {
        let j = this_json(c)?;
        let id = it.lib.find_type("JTokenType", 0);
        Ok(id.map_or(Value::Int(token_type(&j) as i32), |id| {
            Value::Enum(id, token_type(&j))
        }))
    });
    r.insert("JToken.HasValues", |_, c| {
        Ok(Value::Bool(!children(&this_json(c)?).is_empty()))
    });
    r.insert("JToken.Value/*", |it, c| {
        let j = this_json(c)?;
        let t = result_ty(c);
        match index_get(&j, c.arg(0))? {
            Value::Obj(o) => match &*o {
                Obj::Json(v) => to_type(it, v, &t),
                _ => Ok(Value::Null),
            },
            _ => Ok(convert::default_of(&t, it.lib)),
        }
    });
    r.insert("JsonExtensions.Value/*", |it, c| {
        let j = this_json(c)?;
        let t = result_ty(c);
        to_type(it, &j, &t)
    });
    r.insert("JToken.ToObject/*", |it, c| {
        let j = this_json(c)?;
        let t = result_ty(c);
        to_type(it, &j, &t)
    });
    r.insert("JToken.explicit/1", |it, c| {
        let j = match json_arg(c, 0) {
            Some(j) => j,
            None => return Ok(Value::Null),
        };
        let t = c.member.ty.clone();
        to_type(it, &j, &t)
    });
    r.insert("JToken.implicit/1", |it, c| {
        let v = c.arg(0).clone();
        Ok(wrap(from_value(it, &v)?))
    });
    r.insert("JToken.Remove/*", |_, c| {
        let j = this_json(c)?;
        let (name, parent) = match &*j.borrow() {
            JNode::Property(n, _, Some(parent)) => (n.clone(), parent.upgrade()),
            _ => (String::new(), None),
        };
        match parent {
            Some(p) => {
                if let JNode::Object(props) = &mut *p.borrow_mut() {
                    props.retain(|(k, _)| *k != name);
                }
                Ok(Value::Null)
            }
            None => Err(Exception::invalid_op("The parent is missing.")),
        }
    });
    r.insert("JToken.SelectToken/*", |_, c| {
        let j = this_json(c)?;
        let p = c.req_str(0)?;
        Ok(select(&j, &p).map_or(Value::Null, wrap))
    });
    r.insert("JToken.DeepClone/*", |it, c| {
        let j = this_json(c)?;
        let text = token_string(it, &j, false)?;
        match &*j.borrow() {
            JNode::Value(v) => Ok(wrap(jvalue(v.clone()))),
            _ => parse(&text).map(wrap),
        }
    });
    r.insert("JToken.Children/*", |_, c| {
        let j = this_json(c)?;
        let items = match &*j.borrow() {
            JNode::Object(props) => props
                .iter()
                .map(|(k, v)| wrap(node(JNode::Property(k.clone(), v.clone(), None))))
                .collect(),
            _ => children(&j),
        };
        Ok(Value::obj(Obj::Seq(Ty::Object, items)))
    });
    r.insert("JContainer.Count", |_, c| {
        Ok(Value::Int(children(&this_json(c)?).len() as i32))
    });
    r.insert("JContainer.Add/*", |it, c| {
        let j = this_json(c)?;
        let v = c.arg(0).clone();
        add_content(it, &j, &v)?;
        Ok(Value::Null)
    });
    r.insert("JContainer.RemoveAll/*", |_, c| {
        let j = this_json(c)?;
        match &mut *j.borrow_mut() {
            JNode::Object(p) => p.clear(),
            JNode::Array(a) => a.clear(),
            _ => {}
        }
        Ok(Value::Null)
    });
    r.insert("JObject.Add/*", |it, c| {
        let j = this_json(c)?;
        if c.len() == 2 {
            let name = c.req_str(0)?;
            let v = c.arg(1).clone();
            let t = from_value(it, &v)?;
            let prop = wrap(node(JNode::Property(name.to_string(), t, None)));
            add_content(it, &j, &prop)?;
        } else {
            let v = c.arg(0).clone();
            add_content(it, &j, &v)?;
        }
        Ok(Value::Null)
    });
    r.insert("JArray.Add/*", |it, c| {
        let j = this_json(c)?;
        let v = c.arg(0).clone();
        add_content(it, &j, &v)?;
        Ok(Value::Null)
    });
    r.insert("JObject.ContainsKey/*", |_, c| {
        let j = this_json(c)?;
        let k = c.req_str(0)?;
        Ok(Value::Bool(
            matches!(&*j.borrow(), JNode::Object(p) if p.iter().any(|(n, _)| n == &*k)),
        ))
    });
    r.insert("JObject.Remove/*", |_, c| {
        let j = this_json(c)?;
        let k = c.req_str(0)?;
        let mut n = j.borrow_mut();
        if let JNode::Object(p) = &mut *n {
            let before = p.len();
            p.retain(|(n, _)| n != &*k);
            return Ok(Value::Bool(p.len() != before));
        }
        Ok(Value::Bool(false))
    });
    r.insert("JObject.GetValue/*", |_, c| {
        let j = this_json(c)?;
        let k = c.req_str(0)?;
        let ic = c
            .args
            .iter()
            .any(|a| matches!(a, Value::Enum(_, x) if x % 2 == 1));
        let found = match &*j.borrow() {
            JNode::Object(p) => p
                .iter()
                .find(|(n, _)| {
                    if ic {
                        n.eq_ignore_ascii_case(&k)
                    } else {
                        n == &*k
                    }
                })
                .map(|(_, v)| wrap(v.clone())),
            _ => None,
        };
        Ok(found.unwrap_or(Value::Null))
    });
    r.insert("JObject.TryGetValue/*", |_, c| {
        let j = this_json(c)?;
        let k = c.req_str(0)?;
        let out = c.len() - 1;
        let found = match &*j.borrow() {
            JNode::Object(p) => p
                .iter()
                .find(|(n, _)| n == &*k)
                .map(|(_, v)| wrap(v.clone())),
            _ => None,
        };
        c.args[out] = found.clone().unwrap_or(Value::Null);
        Ok(Value::Bool(found.is_some()))
    });
    r.insert("JObject.Property/*", |_, c| {
        let j = this_json(c)?;
        let k = c.req_str(0)?;
        let found = match &*j.borrow() {
            JNode::Object(p) => p.iter().find(|(n, _)| n == &*k).map(|(n, v)| {
                wrap(node(JNode::Property(
                    n.clone(),
                    v.clone(),
                    Some(Rc::downgrade(&j)),
                )))
            }),
            _ => None,
        };
        Ok(found.unwrap_or(Value::Null))
    });
    r.insert("JObject.Properties/*", |_, c| {
        let j = this_json(c)?;
        let items = match &*j.borrow() {
            JNode::Object(p) => p
                .iter()
                .map(|(n, v)| {
                    wrap(node(JNode::Property(
                        n.clone(),
                        v.clone(),
                        Some(Rc::downgrade(&j)),
                    )))
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Value::obj(Obj::Seq(Ty::Object, items)))
    });
    r.insert("JProperty.Name", |_, c| match &*this_json(c)?.borrow() {
        JNode::Property(n, _, _) => Ok(Value::str(n)),
        _ => Err(Exception::invalid_op("not a property")),
    });
    r.insert("JProperty.Value", |_, c| match &*this_json(c)?.borrow() {
        JNode::Property(_, v, _) => Ok(wrap(v.clone())),
        _ => Err(Exception::invalid_op("not a property")),
    });
    r.insert("JValue.Value", |it, c| {
        let j = this_json(c)?;
        let b = j.borrow();
        Ok(match &*b {
            JNode::Value(JVal::Null) => Value::Null,
            JNode::Value(JVal::Bool(x)) => Value::Bool(*x),
            JNode::Value(JVal::Int(x)) => Value::Long(*x),
            JNode::Value(JVal::BigInt(x)) => Value::ULong(*x),
            JNode::Value(JVal::Float(x)) => Value::Double(*x),
            JNode::Value(JVal::Str(s)) => Value::str(s),
            JNode::Value(JVal::Other(v)) => v.clone(),
            _ => {
                drop(b);
                return token_string(it, &j, false).map(Value::str);
            }
        })
    });
    r.insert("JsonConvert.SerializeObject/*", |it, c| {
        let v = c.arg(0).clone();
        if let Value::Str(s) = &v {
            let mut out = String::new();
            escape(s, &mut out);
            return Ok(Value::str(out));
        }
        let indented = c.args.iter().any(|a| matches!(a, Value::Enum(_, 1)));
        let j = from_value(it, &v)?;
        let mut out = String::with_capacity(256);
        write(it, &j, if indented { Some(0) } else { None }, &mut out)?;
        Ok(Value::str(out))
    });
    r.insert("JsonConvert.DeserializeObject/*", |it, c| {
        let s = c.req_str(0)?;
        let j = parse(&s)?;
        let t = result_ty(c);
        to_type(it, &j, &t)
    });
    // APIM's helpers.
    r.insert("PolicyExtensions.AsJwt/*", |_, c| {
        Ok(named_value(c.str_arg(0).and_then(|s| parse_jwt(&s))))
    });
    r.insert("PolicyExtensions.TryParseJwt/*", |_, c| {
        let n = c.str_arg(0).and_then(|s| parse_jwt(&s));
        let ok = n.is_some();
        c.args[1] = named_value(n);
        Ok(Value::Bool(ok))
    });
    r.insert("PolicyExtensions.AsBasic/*", |_, c| {
        Ok(named_value(c.str_arg(0).and_then(|s| parse_basic(&s))))
    });
    r.insert("PolicyExtensions.TryParseBasic/*", |_, c| {
        let n = c.str_arg(0).and_then(|s| parse_basic(&s));
        let ok = n.is_some();
        c.args[1] = named_value(n);
        Ok(Value::Bool(ok))
    });
    for p in [
        "Algorithm",
        "Audiences",
        "Claims",
        "ExpirationTime",
        "Id",
        "IssuedAt",
        "Issuer",
        "NotBefore",
        "Subject",
        "Type",
    ] {
        r.insert(
            Box::leak(format!("Jwt.{p}").into_boxed_str()),
            |_, c| match &c.recv {
                Value::Obj(o) => match &**o {
                    Obj::Host(HostRef::Named(n)) => Ok(n.get(&c.member.name)),
                    _ => Err(Exception::null_ref()),
                },
                _ => Err(Exception::null_ref()),
            },
        );
    }
    for p in ["UserId", "Password"] {
        r.insert(
            Box::leak(format!("BasicAuthCredentials.{p}").into_boxed_str()),
            |_, c| match &c.recv {
                Value::Obj(o) => match &**o {
                    Obj::Host(HostRef::Named(n)) => Ok(n.get(&c.member.name)),
                    _ => Err(Exception::null_ref()),
                },
                _ => Err(Exception::null_ref()),
            },
        );
    }
}

/// A token as compact JSON (for storing it outside an evaluation).
pub fn json_text(it: &mut Interp, j: &JRef) -> String {
    let mut out = String::with_capacity(256);
    match write(it, j, None, &mut out) {
        Ok(()) => out,
        Err(_) => String::new(),
    }
}
