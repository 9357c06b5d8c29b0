//! `object`, `Guid`, `Encoding`, `Convert` (text and bytes), `BitConverter`, exceptions,
//! `Random`, `Uri`, `WebUtility`, `Type`.

use std::cell::RefCell;

use turnpike_ir::{Prim, Ty};

use super::{Call, Registry};
use crate::convert::{self, as_i64};
use crate::eval::Interp;
use crate::value::{Exception, Obj, Value};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 of bytes.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base64 as .NET does (whitespace ignored, padding required).
pub fn base64_decode(s: &str) -> Result<Vec<u8>, Exception> {
    let bad = || {
        Exception::format(
            "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.",
        )
    };
    let chars: Vec<u8> = s.bytes().filter(|b| !b" \t\r\n".contains(b)).collect();
    if !chars.len().is_multiple_of(4) {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    for (ci, quad) in chars.chunks(4).enumerate() {
        let last = ci == chars.len() / 4 - 1;
        let mut n = 0u32;
        let mut pad = 0;
        for (i, &c) in quad.iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' if last && i >= 2 => {
                    pad += 1;
                    0
                }
                _ => return Err(bad()),
            };
            if pad > 0 && c != b'=' {
                return Err(bad());
            }
            n = (n << 6) | u32::from(v);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

/// Bytes of a `byte[]` value.
pub fn bytes_of(v: &Value) -> Result<Vec<u8>, Exception> {
    match v {
        Value::Array(a) => Ok(a.items.borrow().iter().map(|x| as_i64(x) as u8).collect()),
        Value::Null => Err(Exception::arg_null("inArray")),
        _ => Err(Exception::invalid_op("not a byte array")),
    }
}

/// A `byte[]` value.
pub fn byte_array(b: &[u8]) -> Value {
    Value::array(
        Ty::Prim(Prim::Byte),
        b.iter().map(|x| Value::Byte(*x)).collect(),
    )
}

/// `Guid.ToString(format)`.
pub fn guid_text(g: u128, f: &str) -> Result<String, Exception> {
    let h = format!("{g:032x}");
    let d = format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    );
    Ok(match f {
        "" | "D" | "d" => d,
        "N" | "n" => h,
        "B" | "b" => format!("{{{d}}}"),
        "P" | "p" => format!("({d})"),
        _ => {
            return Err(Exception::format(
                "Format string can be only \"D\", \"d\", \"N\", \"n\", \"P\", \"p\", \"B\", \"b\", \"X\" or \"x\".",
            ));
        }
    })
}

fn parse_guid(s: &str) -> Option<u128> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .or_else(|| t.strip_prefix('(').and_then(|x| x.strip_suffix(')')))
        .unwrap_or(t);
    let hex: String = if t.len() == 36 {
        let parts: Vec<&str> = t.split('-').collect();
        if parts.iter().map(|p| p.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
            return None;
        }
        parts.concat()
    } else if t.len() == 32 {
        t.to_string()
    } else {
        return None;
    };
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

fn next_random(it: &mut Interp) -> u64 {
    // splitmix64 over the interpreter's seed.
    it.rng = it.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = it.rng;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn encoding_of(c: &Call<'_>) -> &'static str {
    match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Encoding(e) => e,
            _ => "utf-8",
        },
        _ => "utf-8",
    }
}

fn encode(enc: &str, s: &str) -> Vec<u8> {
    match enc {
        "us-ascii" => s
            .chars()
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect(),
        "utf-16" => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "iso-8859-1" => s
            .chars()
            .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
            .collect(),
        _ => s.as_bytes().to_vec(),
    }
}

fn decode(enc: &str, b: &[u8]) -> String {
    match enc {
        "us-ascii" => b
            .iter()
            .map(|&x| if x < 128 { x as char } else { '?' })
            .collect(),
        "utf-16" => {
            let u: Vec<u16> = b
                .chunks(2)
                .map(|p| u16::from_le_bytes([p[0], *p.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&u)
        }
        "iso-8859-1" => b.iter().map(|&x| x as char).collect(),
        _ => String::from_utf8_lossy(b).into_owned(),
    }
}

fn pct(b: u8) -> String {
    format!("%{b:02X}")
}

fn escape(s: &str, space_plus: bool, keep: &[u8]) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b'~' if !space_plus => out.push('~'),
            b' ' if space_plus => out.push('+'),
            b if keep.contains(&b) => out.push(b as char),
            _ => out.push_str(&pct(b)),
        }
    }
    out
}

fn unescape(s: &str, plus_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if plus_space && b[i] == b'+' {
            b' '
        } else {
            b[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn html_encode(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (0xA0..0x100).contains(&(c as u32)) => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn html_decode(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match tail.find(';') {
            Some(j) if j < 10 => {
                let ent = &tail[1..j];
                let ch = match ent {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some('\u{a0}'),
                    e if e.starts_with("#x") || e.starts_with("#X") => {
                        u32::from_str_radix(&e[2..], 16)
                            .ok()
                            .and_then(char::from_u32)
                    }
                    e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                    _ => None,
                };
                match ch {
                    Some(c) => {
                        out.push(c);
                        rest = &tail[j + 1..];
                    }
                    None => {
                        out.push('&');
                        rest = &tail[1..];
                    }
                }
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn exception_ctor(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let ty = it.lib.ty(c.member.owner).name.clone();
    let msg = match c.arg(0) {
        Value::Str(s) => s.to_string(),
        _ => default_message(&ty),
    };
    let msg = if ty == "ArgumentNullException"
        || ty == "ArgumentOutOfRangeException"
        || ty == "ArgumentException"
    {
        match (c.str_arg(0), c.str_arg(1)) {
            (Some(p), Some(m)) if ty != "ArgumentException" => format!("{m} (Parameter '{p}')"),
            (Some(m), Some(p)) if ty == "ArgumentException" => format!("{m} (Parameter '{p}')"),
            (Some(p), None) if ty != "ArgumentException" => {
                format!("{} (Parameter '{p}')", default_message(&ty))
            }
            _ => msg,
        }
    } else {
        msg
    };
    let mut e = Exception::new(&ty, msg);
    if let Some(Value::Obj(o)) = c.args.last()
        && let Obj::Exception(inner) = &**o
    {
        e.inner = Some(Box::new(inner.clone()));
    }
    Ok(Value::obj(Obj::Exception(e)))
}

fn default_message(ty: &str) -> String {
    match ty {
        "ArgumentNullException" => "Value cannot be null.".into(),
        "ArgumentOutOfRangeException" => {
            "Specified argument was out of the range of valid values.".into()
        }
        "ArgumentException" => "Value does not fall within the expected range.".into(),
        "InvalidOperationException" => {
            "Operation is not valid due to the current state of the object.".into()
        }
        "NotImplementedException" => "The method or operation is not implemented.".into(),
        "NotSupportedException" => "Specified method is not supported.".into(),
        "FormatException" => "One of the identified items was in an invalid format.".into(),
        "NullReferenceException" => "Object reference not set to an instance of an object.".into(),
        "DivideByZeroException" => "Attempted to divide by zero.".into(),
        "OverflowException" => "Arithmetic operation resulted in an overflow.".into(),
        "IndexOutOfRangeException" => "Index was outside the bounds of the array.".into(),
        "InvalidCastException" => "Specified cast is not valid.".into(),
        "KeyNotFoundException" => "The given key was not present in the dictionary.".into(),
        t => format!("Exception of type 'System.{t}' was thrown."),
    }
}

fn this_exception(c: &Call<'_>) -> Result<Exception, Exception> {
    match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Exception(e) => Ok(e.clone()),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    }
}

fn hash_code(v: &Value) -> i32 {
    let text = format!("{v:?}");
    let mut h: i32 = 17;
    for b in text.bytes() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(b));
    }
    h
}

pub(crate) fn register(r: &mut Registry) {
    // object
    r.insert("object.ToString/*", |it, c| {
        let v = c.recv.clone();
        convert::to_string(it, &v).map(Value::str)
    });
    r.insert("object.Equals/*", |_, c| {
        if c.len() == 2 {
            return Ok(Value::Bool(convert::object_equals(c.arg(0), c.arg(1))));
        }
        Ok(Value::Bool(convert::object_equals(&c.recv, c.arg(0))))
    });
    r.insert("object.GetHashCode/*", |_, c| {
        Ok(Value::Int(hash_code(&c.recv)))
    });
    r.insert("object.GetType/*", |it, c| {
        let t = runtime_ty(it, &c.recv);
        Ok(Value::obj(Obj::Type(t)))
    });
    r.insert("object.ReferenceEquals/*", |_, c| {
        Ok(Value::Bool(convert::object_equals(c.arg(0), c.arg(1))))
    });
    r.insert("Type.Name", |it, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Type(t) => Ok(Value::str(short_name(it, t))),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    r.insert("Type.FullName", |it, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Type(t) => Ok(Value::str(convert::full_name(it.lib, t))),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    // Guid
    r.insert("Guid.NewGuid/*", |it, _| {
        let hi = next_random(it);
        let lo = next_random(it);
        let mut g = (u128::from(hi) << 64) | u128::from(lo);
        // Version 4, variant 1.
        g = (g & !(0xF << 76)) | (0x4 << 76);
        g = (g & !(0x3 << 62)) | (0x2 << 62);
        Ok(Value::Guid(g))
    });
    r.insert("Guid.Empty", |_, _| Ok(Value::Guid(0)));
    r.insert("Guid.Parse/*", |_, c| {
        let s = c.req_str(0)?;
        parse_guid(&s)
            .map(Value::Guid)
            .ok_or_else(|| Exception::format("Unrecognized Guid format.".to_string()))
    });
    r.insert("Guid.new/*", |_, c| {
        let s = c.req_str(0)?;
        parse_guid(&s)
            .map(Value::Guid)
            .ok_or_else(|| Exception::format("Unrecognized Guid format."))
    });
    r.insert("Guid.TryParse/*", |_, c| {
        let out = c.len() - 1;
        match c.str_arg(0).and_then(|s| parse_guid(&s)) {
            Some(g) => {
                c.args[out] = Value::Guid(g);
                Ok(Value::Bool(true))
            }
            None => {
                c.args[out] = Value::Guid(0);
                Ok(Value::Bool(false))
            }
        }
    });
    r.insert("Guid.ToString/*", |_, c| match &c.recv {
        Value::Guid(g) => {
            guid_text(*g, &c.str_arg(0).map(|s| s.to_string()).unwrap_or_default()).map(Value::str)
        }
        _ => Err(Exception::null_ref()),
    });
    r.insert("Guid.Equals/*", |_, c| {
        Ok(Value::Bool(convert::object_equals(&c.recv, c.arg(0))))
    });
    r.insert("Guid.operator==/*", |_, c| {
        Ok(Value::Bool(convert::object_equals(c.arg(0), c.arg(1))))
    });
    r.insert("Guid.operator!=/*", |_, c| {
        Ok(Value::Bool(!convert::object_equals(c.arg(0), c.arg(1))))
    });
    // Encoding
    r.insert("Encoding.UTF8", |_, _| {
        Ok(Value::obj(Obj::Encoding("utf-8")))
    });
    r.insert("Encoding.ASCII", |_, _| {
        Ok(Value::obj(Obj::Encoding("us-ascii")))
    });
    r.insert("Encoding.Unicode", |_, _| {
        Ok(Value::obj(Obj::Encoding("utf-16")))
    });
    r.insert("Encoding.Latin1", |_, _| {
        Ok(Value::obj(Obj::Encoding("iso-8859-1")))
    });
    r.insert("Encoding.Default", |_, _| {
        Ok(Value::obj(Obj::Encoding("utf-8")))
    });
    r.insert("Encoding.GetEncoding/*", |_, c| {
        let name = c
            .str_arg(0)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        let e = match name.as_str() {
            "utf-8" | "utf8" => "utf-8",
            "us-ascii" | "ascii" => "us-ascii",
            "utf-16" | "unicode" => "utf-16",
            "iso-8859-1" | "latin1" => "iso-8859-1",
            _ => {
                return Err(Exception::new(
                    "ArgumentException",
                    format!("'{name}' is not a supported encoding name."),
                ));
            }
        };
        Ok(Value::obj(Obj::Encoding(e)))
    });
    r.insert("Encoding.GetBytes/*", |_, c| {
        let enc = encoding_of(c);
        let s = match c.arg(0) {
            Value::Str(s) => s.to_string(),
            Value::Array(a) => {
                let u: Vec<u16> = a.items.borrow().iter().map(|x| as_i64(x) as u16).collect();
                String::from_utf16_lossy(&u)
            }
            _ => return Err(Exception::arg_null("s")),
        };
        Ok(byte_array(&encode(enc, &s)))
    });
    r.insert("Encoding.GetString/*", |_, c| {
        let enc = encoding_of(c);
        let mut b = bytes_of(c.arg(0)).map_err(|_| Exception::arg_null("bytes"))?;
        if c.len() == 3 {
            let (i, n) = (as_i64(c.arg(1)), as_i64(c.arg(2)));
            if i < 0 || n < 0 || (i + n) as usize > b.len() {
                return Err(Exception::range("index"));
            }
            b = b[i as usize..(i + n) as usize].to_vec();
        }
        Ok(Value::str(decode(enc, &b)))
    });
    r.insert("Encoding.GetByteCount/*", |_, c| {
        let enc = encoding_of(c);
        Ok(Value::Int(encode(enc, &c.req_str(0)?).len() as i32))
    });
    // Convert: text and bytes
    r.insert("Convert.ToBase64String/*", |_, c| {
        let b = bytes_of(c.arg(0))?;
        Ok(Value::str(base64_encode(&b)))
    });
    r.insert("Convert.FromBase64String/*", |_, c| {
        let s = c.req_str(0)?;
        Ok(byte_array(&base64_decode(&s)?))
    });
    r.insert("Convert.ToHexString/*", |_, c| {
        let b = bytes_of(c.arg(0))?;
        Ok(Value::str(
            b.iter().map(|x| format!("{x:02X}")).collect::<String>(),
        ))
    });
    r.insert("Convert.FromHexString/*", |_, c| {
        let s = c.req_str(0)?;
        if s.len() % 2 != 0 {
            return Err(Exception::format(
                "The input is not a valid hex string as its length is not a multiple of 2.",
            ));
        }
        let mut out = Vec::new();
        for i in (0..s.len()).step_by(2) {
            out.push(u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| {
                Exception::format(
                    "The input is not a valid hex string as it contains a non-hex character.",
                )
            })?);
        }
        Ok(byte_array(&out))
    });
    r.insert("Convert.ToString/*", |it, c| {
        if c.len() == 2
            && let Some(p) = c.arg(0).prim()
            && p.is_integral()
            && matches!(c.arg(1), Value::Int(_))
        {
            let base = as_i64(c.arg(1));
            let v = as_i64(c.arg(0));
            let bits = p.bits();
            let u = if v < 0 {
                (v as u64) & (u64::MAX >> (64 - bits))
            } else {
                v as u64
            };
            return Ok(Value::str(match base {
                2 => format!("{u:b}"),
                8 => format!("{u:o}"),
                16 => format!("{u:x}"),
                10 => v.to_string(),
                _ => return Err(Exception::new("ArgumentException", "Invalid Base.")),
            }));
        }
        let v = c.arg(0).clone();
        match v {
            Value::Null => Ok(Value::str("")),
            v => convert::to_string(it, &v).map(Value::str),
        }
    });
    r.insert("BitConverter.ToString/*", |_, c| {
        let b = bytes_of(c.arg(0))?;
        Ok(Value::str(
            b.iter()
                .map(|x| format!("{x:02X}"))
                .collect::<Vec<_>>()
                .join("-"),
        ))
    });
    r.insert("BitConverter.GetBytes/*", |_, c| {
        let v = c.arg(0);
        let b: Vec<u8> = match v {
            Value::Int(x) => x.to_le_bytes().to_vec(),
            Value::Long(x) => x.to_le_bytes().to_vec(),
            Value::Short(x) => x.to_le_bytes().to_vec(),
            Value::Double(x) => x.to_le_bytes().to_vec(),
            Value::Bool(x) => vec![u8::from(*x)],
            other => (as_i64(other) as i32).to_le_bytes().to_vec(),
        };
        Ok(byte_array(&b))
    });
    // Exceptions
    for t in [
        "Exception",
        "ArgumentException",
        "ArgumentNullException",
        "ArgumentOutOfRangeException",
        "InvalidOperationException",
        "FormatException",
        "NullReferenceException",
        "IndexOutOfRangeException",
        "InvalidCastException",
        "DivideByZeroException",
        "OverflowException",
        "KeyNotFoundException",
        "NotSupportedException",
        "NotImplementedException",
        "ArithmeticException",
        "TimeoutException",
        "UnauthorizedAccessException",
        "ApplicationException",
        "SystemException",
        "UriFormatException",
    ] {
        r.insert(
            Box::leak(format!("{t}.new/*").into_boxed_str()),
            exception_ctor,
        );
        r.insert(
            Box::leak(format!("{t}.Message").into_boxed_str()),
            |_, c| Ok(Value::str(this_exception(c)?.message)),
        );
        r.insert(
            Box::leak(format!("{t}.ToString/*").into_boxed_str()),
            |it, c| {
                let v = c.recv.clone();
                convert::to_string(it, &v).map(Value::str)
            },
        );
        r.insert(
            Box::leak(format!("{t}.InnerException").into_boxed_str()),
            |_, c| {
                Ok(this_exception(c)?
                    .inner
                    .map_or(Value::Null, |i| Value::obj(Obj::Exception(*i))))
            },
        );
        r.insert(
            Box::leak(format!("{t}.ParamName").into_boxed_str()),
            |_, c| {
                let m = this_exception(c)?.message;
                Ok(m.rsplit_once("(Parameter '")
                    .map_or(Value::Null, |(_, p)| Value::str(p.trim_end_matches("')"))))
            },
        );
    }
    // StringWriter
    r.insert("StringWriter.new/*", |_, _| {
        Ok(Value::obj(Obj::Writer(RefCell::new(String::new()))))
    });
    for name in ["Write/*", "WriteLine/*"] {
        r.insert(
            Box::leak(format!("TextWriter.{name}").into_boxed_str()),
            |it, c| {
                let Value::Obj(o) = c.recv.clone() else {
                    return Err(Exception::null_ref());
                };
                let Obj::Writer(w) = &*o else {
                    return Err(Exception::not_supported("only StringWriter can be written"));
                };
                let text = match (c.arg(0).clone(), c.len()) {
                    (Value::Str(f), n) if n > 1 => {
                        let args = c.args[1..].to_vec();
                        let args = match args.as_slice() {
                            [Value::Array(a)] => a.items.borrow().clone(),
                            _ => args,
                        };
                        crate::natives::strings::composite(it, &f, &args)?
                    }
                    (Value::Array(a), _) => a
                        .items
                        .borrow()
                        .iter()
                        .map(|x| match x {
                            Value::Char(ch) => String::from_utf16_lossy(&[*ch]),
                            _ => String::new(),
                        })
                        .collect(),
                    (Value::Null, _) => String::new(),
                    (v, _) => convert::to_string(it, &v)?,
                };
                let mut w = w.borrow_mut();
                w.push_str(&text);
                if c.member.name == "WriteLine" {
                    w.push('\n');
                }
                Ok(Value::Null)
            },
        );
    }
    r.insert("TextWriter.Dispose/*", |_, _| Ok(Value::Null));
    r.insert("TextWriter.Flush/*", |_, _| Ok(Value::Null));
    r.insert("TextWriter.Close/*", |_, _| Ok(Value::Null));
    r.insert("StringWriter.ToString/*", |it, c| {
        let v = c.recv.clone();
        convert::to_string(it, &v).map(Value::str)
    });
    // Random
    r.insert("Random.new/*", |it, c| {
        let seed = if c.is_empty() {
            next_random(it)
        } else {
            as_i64(c.arg(0)) as u64
        };
        Ok(Value::obj(Obj::Random(RefCell::new(seed))))
    });
    r.insert("Random.Next/*", |it, c| {
        let x = next_random(it);
        let (lo, hi) = match c.len() {
            0 => (0, i64::from(i32::MAX)),
            1 => (0, as_i64(c.arg(0))),
            _ => (as_i64(c.arg(0)), as_i64(c.arg(1))),
        };
        if hi < lo || (c.len() == 1 && hi < 0) {
            return Err(Exception::range(if c.len() == 1 {
                "maxValue"
            } else {
                "minValue"
            }));
        }
        let span = (hi - lo) as u64;
        Ok(Value::Int(if span == 0 {
            lo as i32
        } else {
            (lo + (x % span) as i64) as i32
        }))
    });
    r.insert("Random.NextDouble/*", |it, _| {
        Ok(Value::Double(
            (next_random(it) >> 11) as f64 / (1u64 << 53) as f64,
        ))
    });
    // Uri and WebUtility
    r.insert("Uri.EscapeDataString/*", |_, c| {
        Ok(Value::str(escape(&c.req_str(0)?, false, &[])))
    });
    r.insert("Uri.UnescapeDataString/*", |_, c| {
        Ok(Value::str(unescape(&c.req_str(0)?, false)))
    });
    r.insert("Uri.EscapeUriString/*", |_, c| {
        Ok(Value::str(escape(
            &c.req_str(0)?,
            false,
            b"!#$&'()*+,/:;=?@[]",
        )))
    });
    r.insert("Uri.new/*", |_, c| {
        let text = match (c.arg(0), c.arg(1)) {
            (Value::Obj(o), rel) => {
                let Obj::Uri(base) = &**o else {
                    return Err(Exception::arg_null("baseUri"));
                };
                let rel = match rel {
                    Value::Str(r) => r.to_string(),
                    _ => String::new(),
                };
                resolve_uri(base, &rel)
            }
            (Value::Str(s), _) => s.to_string(),
            _ => return Err(Exception::arg_null("uriString")),
        };
        if parse_uri(&text).is_none() {
            return Err(Exception::new(
                "UriFormatException",
                "Invalid URI: The format of the URI could not be determined.",
            ));
        }
        Ok(Value::obj(Obj::Uri(text.into())))
    });
    r.insert("Uri.IsWellFormedUriString/*", |_, c| {
        Ok(Value::Bool(c.str_arg(0).is_some_and(|s| {
            parse_uri(&s).is_some() && !s.contains(' ')
        })))
    });
    for p in [
        "Host",
        "AbsolutePath",
        "Query",
        "Scheme",
        "Port",
        "AbsoluteUri",
        "PathAndQuery",
        "Authority",
        "Fragment",
        "OriginalString",
        "IsDefaultPort",
        "Segments",
    ] {
        r.insert(Box::leak(format!("Uri.{p}").into_boxed_str()), |_, c| {
            let Value::Obj(o) = &c.recv else {
                return Err(Exception::null_ref());
            };
            let Obj::Uri(text) = &**o else {
                return Err(Exception::null_ref());
            };
            let u = parse_uri(text).ok_or_else(Exception::null_ref)?;
            Ok(match c.member.name.as_str() {
                "Host" => Value::str(&u.host),
                "AbsolutePath" => Value::str(&u.path),
                "Query" => Value::str(&u.query),
                "Scheme" => Value::str(&u.scheme),
                "Port" => Value::Int(u.port),
                "IsDefaultPort" => Value::Bool(u.default_port()),
                "PathAndQuery" => Value::str(format!("{}{}", u.path, u.query)),
                "Authority" => Value::str(u.authority()),
                "Fragment" => Value::str(&u.fragment),
                "OriginalString" => Value::Str(text.clone()),
                "Segments" => {
                    let mut segs = Vec::new();
                    let mut rest = u.path.as_str();
                    while !rest.is_empty() {
                        let end = rest.find('/').map_or(rest.len(), |i| i + 1);
                        segs.push(Value::str(&rest[..end]));
                        rest = &rest[end..];
                    }
                    Value::array(Ty::String, segs)
                }
                _ => Value::str(u.to_text()),
            })
        });
    }
    r.insert("Uri.GetLeftPart/*", |_, c| {
        let Value::Obj(o) = &c.recv else {
            return Err(Exception::null_ref());
        };
        let Obj::Uri(text) = &**o else {
            return Err(Exception::null_ref());
        };
        let u = parse_uri(text).ok_or_else(Exception::null_ref)?;
        let part = as_i64(c.arg(0));
        Ok(Value::str(match part {
            0 => format!("{}://", u.scheme),
            1 => format!("{}://{}", u.scheme, u.authority()),
            2 => format!("{}://{}{}", u.scheme, u.authority(), u.path),
            _ => format!("{}://{}{}{}", u.scheme, u.authority(), u.path, u.query),
        }))
    });
    r.insert("Uri.ToString/*", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Uri(u) => Ok(Value::str(
                parse_uri(u).map_or_else(|| u.to_string(), |p| p.to_text()),
            )),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    r.insert("WebUtility.UrlEncode/*", |_, c| {
        Ok(c.str_arg(0)
            .map_or(Value::Null, |s| Value::str(escape(&s, true, b"!*()"))))
    });
    r.insert("WebUtility.UrlDecode/*", |_, c| {
        Ok(c.str_arg(0)
            .map_or(Value::Null, |s| Value::str(unescape(&s, true))))
    });
    r.insert("WebUtility.HtmlEncode/*", |_, c| {
        Ok(c.str_arg(0)
            .map_or(Value::Null, |s| Value::str(html_encode(&s))))
    });
    r.insert("WebUtility.HtmlDecode/*", |_, c| {
        Ok(c.str_arg(0)
            .map_or(Value::Null, |s| Value::str(html_decode(&s))))
    });
}

fn runtime_ty(it: &Interp, v: &Value) -> Ty {
    if let Some(p) = v.prim() {
        return Ty::Prim(p);
    }
    let named = |n: &str| {
        it.lib
            .find_type(n, 0)
            .map_or(Ty::Object, |id| Ty::Named(id, Vec::new()))
    };
    match v {
        Value::Str(_) => Ty::String,
        Value::Enum(id, _) => Ty::Named(*id, Vec::new()),
        Value::DateTime(_) => named("DateTime"),
        Value::TimeSpan(_) => named("TimeSpan"),
        Value::DateTimeOffset(_) => named("DateTimeOffset"),
        Value::Guid(_) => named("Guid"),
        Value::Array(a) => Ty::Array(Box::new(a.elem.clone())),
        Value::Obj(o) => match &**o {
            Obj::List(t, _) => it
                .lib
                .find_type("List", 1)
                .map_or(Ty::Object, |id| Ty::Named(id, vec![t.clone()])),
            Obj::Dict(k, v, _) => it
                .lib
                .find_type("Dictionary", 2)
                .map_or(Ty::Object, |id| Ty::Named(id, vec![k.clone(), v.clone()])),
            Obj::Exception(e) => named(&e.ty),
            Obj::Builder(_) => named("StringBuilder"),
            _ => Ty::Object,
        },
        _ => Ty::Object,
    }
}

fn short_name(it: &Interp, t: &Ty) -> String {
    match t {
        Ty::Prim(p) => p.clr_name().into(),
        Ty::String => "String".into(),
        Ty::Array(e) => format!("{}[]", short_name(it, e)),
        Ty::Named(id, args) => {
            let d = it.lib.ty(*id);
            if args.is_empty() {
                d.clr_name.clone()
            } else {
                format!("{}`{}", d.clr_name, args.len())
            }
        }
        _ => "Object".into(),
    }
}

/// An absolute URI split as `System.Uri` exposes it.
struct UriParts {
    scheme: String,
    host: String,
    port: i32,
    path: String,
    query: String,
    fragment: String,
}

impl UriParts {
    fn default_port(&self) -> bool {
        default_port(&self.scheme) == Some(self.port)
    }

    fn authority(&self) -> String {
        if self.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn to_text(&self) -> String {
        format!(
            "{}://{}{}{}{}",
            self.scheme,
            self.authority(),
            self.path,
            self.query,
            self.fragment
        )
    }
}

fn default_port(scheme: &str) -> Option<i32> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

fn parse_uri(text: &str) -> Option<UriParts> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
            (h, p.parse().ok()?)
        }
        _ => (authority, default_port(&scheme).unwrap_or(-1)),
    };
    if host.is_empty() {
        return None;
    }
    let (before_frag, fragment) = match tail.find('#') {
        Some(i) => (&tail[..i], tail[i..].to_string()),
        None => (tail, String::new()),
    };
    let (path, query) = match before_frag.find('?') {
        Some(i) => (&before_frag[..i], before_frag[i..].to_string()),
        None => (before_frag, String::new()),
    };
    Some(UriParts {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        path: if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        },
        query,
        fragment,
    })
}

/// Resolves a reference against a base URI (RFC 3986 section 5.2, as `new Uri(base, rel)`).
fn resolve_uri(base: &str, rel: &str) -> String {
    if rel.contains("://") {
        return rel.to_string();
    }
    let Some(b) = parse_uri(base) else {
        return rel.to_string();
    };
    let origin = format!("{}://{}", b.scheme, b.authority());
    if rel.starts_with("//") {
        return format!("{}:{rel}", b.scheme);
    }
    if rel.starts_with('/') {
        return format!("{origin}{rel}");
    }
    if rel.is_empty() {
        return b.to_text();
    }
    if rel.starts_with('?') {
        return format!("{origin}{}{rel}", b.path);
    }
    let dir = match b.path.rfind('/') {
        Some(i) => &b.path[..=i],
        None => "/",
    };
    let mut out: Vec<&str> = Vec::new();
    let joined = format!("{dir}{rel}");
    let (path_part, rest) = match joined.find(['?', '#']) {
        Some(i) => (joined[..i].to_string(), joined[i..].to_string()),
        None => (joined.clone(), String::new()),
    };
    for seg in path_part.split('/') {
        match seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("{origin}{}{rest}", out.join("/"))
}
