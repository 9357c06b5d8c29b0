//! `string`, `char` and `StringBuilder`, with UTF-16 semantics for lengths and indices.
//!
//! Comparisons and searches are ordinal, and case mapping is per character under the
//! invariant culture (`spec/08-platform.md` says why).

use std::cell::RefCell;
use std::rc::Rc;

use super::{Call, Registry};
use crate::convert;
use crate::eval::Interp;
use crate::value::{Exception, Obj, Value};

/// The UTF-16 code units of a string.
pub fn units(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// A string from UTF-16 code units (lone surrogates become U+FFFD).
pub fn from_units(u: &[u16]) -> String {
    String::from_utf16_lossy(u)
}

/// Length in UTF-16 code units.
pub fn len16(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

fn ret_str(s: impl AsRef<str>) -> Result<Value, Exception> {
    Ok(Value::str(s))
}

fn int(v: usize) -> Value {
    Value::Int(v as i32)
}

fn arg_int(c: &Call<'_>, i: usize) -> i64 {
    convert::as_i64(c.arg(i))
}

/// Upper case of one character, as the invariant culture maps it (one to one).
pub fn upper_char(ch: char) -> char {
    // The invariant culture keeps the Turkish dotless i and the long s.
    if matches!(ch, '\u{131}' | '\u{17f}') {
        return ch;
    }
    let mut u = ch.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => ch,
    }
}

/// Lower case of one character.
pub fn lower_char(ch: char) -> char {
    let mut u = ch.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => ch,
    }
}

fn upper(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

fn lower(s: &str) -> String {
    s.chars().map(lower_char).collect()
}

/// Whether a `StringComparison` value ignores case (1, 3, 5).
fn ignore_case(v: &Value) -> bool {
    matches!(v, Value::Enum(_, x) if x % 2 == 1)
}

fn comparison_arg(c: &Call<'_>) -> bool {
    c.args
        .iter()
        .any(|a| matches!(a, Value::Enum(..)) && ignore_case(a))
        || matches!(c.args.last(), Some(Value::Bool(true)))
}

fn find(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    if needle.len() > hay.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn rfind(hay: &[u16], needle: &[u16], before_end: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(before_end.min(hay.len()));
    }
    if needle.len() > hay.len() {
        return None;
    }
    let last = before_end.min(hay.len()).checked_sub(needle.len())?;
    (0..=last)
        .rev()
        .find(|&i| &hay[i..i + needle.len()] == needle)
}

fn fold(u: &[u16], ic: bool) -> Vec<u16> {
    if ic {
        units(&upper(&from_units(u)))
    } else {
        u.to_vec()
    }
}

/// The needle argument as code units: a `char` or a `string`.
fn needle(v: &Value) -> Result<Vec<u16>, Exception> {
    match v {
        Value::Char(ch) => Ok(vec![*ch]),
        Value::Str(s) => Ok(units(s)),
        Value::Null => Err(Exception::arg_null("value")),
        other => Err(Exception::invalid_op(format!(
            "bad search argument {other:?}"
        ))),
    }
}

fn index_of(c: &mut Call<'_>, last: bool) -> Result<Value, Exception> {
    let hay = units(&c.this_str());
    let ic = comparison_arg(c);
    let n = needle(c.arg(0))?;
    let ints: Vec<i64> = c.args[1..]
        .iter()
        .filter(|a| {
            a.prim()
                .is_some_and(|p| p.is_integral() && p != turnpike_ir::Prim::Char)
        })
        .map(convert::as_i64)
        .collect();
    let (h, n) = (fold(&hay, ic), fold(&n, ic));
    if last {
        let start = match ints.first() {
            Some(s) => {
                if *s < 0 || *s as usize >= hay.len().max(1) && !hay.is_empty() {
                    return Err(Exception::range("startIndex"));
                }
                *s as usize + 1
            }
            None => hay.len(),
        };
        return Ok(Value::Int(rfind(&h, &n, start).map_or(-1, |i| i as i32)));
    }
    let start = ints.first().copied().unwrap_or(0);
    if start < 0 || start as usize > hay.len() {
        return Err(Exception::range("startIndex"));
    }
    let end = match ints.get(1) {
        Some(cnt) => {
            if *cnt < 0 || (start + cnt) as usize > hay.len() {
                return Err(Exception::range("count"));
            }
            (start + cnt) as usize
        }
        None => hay.len(),
    };
    Ok(Value::Int(
        find(&h[..end], &n, start as usize).map_or(-1, |i| i as i32),
    ))
}

fn char_set(c: &Call<'_>, from: usize) -> Vec<u16> {
    let mut set = Vec::new();
    for a in &c.args[from..] {
        match a {
            Value::Char(ch) => set.push(*ch),
            Value::Array(arr) => {
                for x in arr.items.borrow().iter() {
                    if let Value::Char(ch) = x {
                        set.push(*ch);
                    }
                }
            }
            _ => {}
        }
    }
    set
}

fn is_ws(u: u16) -> bool {
    char::from_u32(u32::from(u)).is_some_and(char::is_whitespace)
}

fn trim(c: &mut Call<'_>, start: bool, end: bool) -> Result<Value, Exception> {
    let u = units(&c.this_str());
    let set = char_set(c, 0);
    let hit = |x: u16| {
        if set.is_empty() {
            is_ws(x)
        } else {
            set.contains(&x)
        }
    };
    let mut a = 0;
    let mut b = u.len();
    if start {
        while a < b && hit(u[a]) {
            a += 1;
        }
    }
    if end {
        while b > a && hit(u[b - 1]) {
            b -= 1;
        }
    }
    ret_str(from_units(&u[a..b]))
}

fn substring(c: &mut Call<'_>) -> Result<Value, Exception> {
    let u = units(&c.this_str());
    let start = arg_int(c, 0);
    if start < 0 || start as usize > u.len() {
        return Err(Exception::range("startIndex"));
    }
    let len = if c.len() > 1 {
        arg_int(c, 1)
    } else {
        u.len() as i64 - start
    };
    if len < 0 || (start + len) as usize > u.len() {
        return Err(Exception::range("length"));
    }
    ret_str(from_units(&u[start as usize..(start + len) as usize]))
}

fn replace(c: &mut Call<'_>) -> Result<Value, Exception> {
    let s = c.this_str();
    match (c.arg(0), c.arg(1)) {
        (Value::Char(a), Value::Char(b)) => {
            let u: Vec<u16> = units(&s)
                .into_iter()
                .map(|x| if x == *a { *b } else { x })
                .collect();
            ret_str(from_units(&u))
        }
        (Value::Str(a), b) => {
            if a.is_empty() {
                return Err(Exception::new(
                    "ArgumentException",
                    "String cannot be of zero length. (Parameter 'oldValue')",
                ));
            }
            let b = match b {
                Value::Str(b) => b.to_string(),
                _ => String::new(),
            };
            if comparison_arg(c) {
                let hay = units(&s);
                let n = units(a);
                let (h, nf) = (fold(&hay, true), fold(&n, true));
                let mut out: Vec<u16> = Vec::new();
                let mut i = 0;
                while let Some(j) = find(&h, &nf, i) {
                    out.extend_from_slice(&hay[i..j]);
                    out.extend(units(&b));
                    i = j + n.len();
                }
                out.extend_from_slice(&hay[i..]);
                return ret_str(from_units(&out));
            }
            ret_str(s.replace(&**a, &b))
        }
        (Value::Null, _) => Err(Exception::arg_null("oldValue")),
        _ => ret_str(&*s),
    }
}

/// `Split` over every overload: separators as chars, char arrays, strings or string arrays;
/// an optional count and `StringSplitOptions`.
fn split(c: &mut Call<'_>) -> Result<Value, Exception> {
    let s = units(&c.this_str());
    let mut seps: Vec<Vec<u16>> = Vec::new();
    let mut count: Option<i64> = None;
    let mut options = 0i64;
    for (i, a) in c.args.iter().enumerate() {
        match a {
            Value::Char(ch) => seps.push(vec![*ch]),
            Value::Str(t) => seps.push(units(t)),
            Value::Array(arr) => {
                for x in arr.items.borrow().iter() {
                    match x {
                        Value::Char(ch) => seps.push(vec![*ch]),
                        Value::Str(t) => seps.push(units(t)),
                        _ => {}
                    }
                }
            }
            Value::Enum(_, v) => options = *v,
            Value::Int(n) if i > 0 => count = Some(i64::from(*n)),
            _ => {}
        }
    }
    seps.retain(|s| !s.is_empty());
    let remove_empty = options & 1 == 1;
    let trim_entries = options & 2 == 2;
    if let Some(n) = count
        && n < 0
    {
        return Err(Exception::range("count"));
    }
    let mut parts: Vec<Vec<u16>> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let limit = count.unwrap_or(i64::MAX) as usize;
    if limit == 0 {
        return Ok(Value::array(turnpike_ir::Ty::String, Vec::new()));
    }
    while i < s.len() && parts.len() + 1 < limit {
        let hit = if seps.is_empty() {
            if is_ws(s[i]) { Some(1) } else { None }
        } else {
            seps.iter()
                .find(|sep| s[i..].starts_with(sep))
                .map(Vec::len)
        };
        match hit {
            Some(n) => {
                let mut part = s[start..i].to_vec();
                if trim_entries {
                    part = trim_units(&part);
                }
                if !(remove_empty && part.is_empty()) {
                    parts.push(part);
                }
                i += n;
                start = i;
            }
            None => i += 1,
        }
    }
    let mut last = s[start..].to_vec();
    if trim_entries {
        last = trim_units(&last);
    }
    if !(remove_empty && last.is_empty()) {
        parts.push(last);
    }
    let vals = parts.iter().map(|p| Value::str(from_units(p))).collect();
    Ok(Value::array(turnpike_ir::Ty::String, vals))
}

fn trim_units(u: &[u16]) -> Vec<u16> {
    let mut a = 0;
    let mut b = u.len();
    while a < b && is_ws(u[a]) {
        a += 1;
    }
    while b > a && is_ws(u[b - 1]) {
        b -= 1;
    }
    u[a..b].to_vec()
}

fn pad(c: &mut Call<'_>, left: bool) -> Result<Value, Exception> {
    let s = c.this_str();
    let width = arg_int(c, 0);
    if width < 0 {
        return Err(Exception::range("totalWidth"));
    }
    let ch = match c.arg(1) {
        Value::Char(ch) => *ch,
        _ => b' ' as u16,
    };
    let mut u = units(&s);
    let n = (width as usize).saturating_sub(u.len());
    let fill = vec![ch; n];
    if left {
        let mut v = fill;
        v.extend(u);
        u = v;
    } else {
        u.extend(fill);
    }
    ret_str(from_units(&u))
}

fn starts_ends(c: &mut Call<'_>, end: bool) -> Result<Value, Exception> {
    let culture = matches!(c.arg(0), Value::Str(_))
        && !c.args.iter().any(|a| matches!(a, Value::Enum(_, 4 | 5)));
    if culture {
        // Culture-sensitive, as .NET's `StartsWith(string)`: canonically equivalent text
        // matches and ignorable characters (zero-width spaces and joiners, soft hyphens)
        // are skipped.
        let ic = comparison_arg(c);
        let prep = |s: &str| -> String {
            use unicode_normalization::UnicodeNormalization;
            let t: String = s.nfc().filter(|ch| !is_ignorable(*ch)).collect();
            if ic { upper(&t) } else { t }
        };
        let s = prep(&c.this_str());
        let n = prep(&c.req_str(0)?);
        return Ok(Value::Bool(if end {
            s.ends_with(&n)
        } else {
            s.starts_with(&n)
        }));
    }
    let s = units(&c.this_str());
    let n = needle(c.arg(0))?;
    let ic = comparison_arg(c);
    let (s, n) = (fold(&s, ic), fold(&n, ic));
    Ok(Value::Bool(if end {
        s.ends_with(&n)
    } else {
        s.starts_with(&n)
    }))
}

fn contains(c: &mut Call<'_>) -> Result<Value, Exception> {
    let s = units(&c.this_str());
    let n = needle(c.arg(0))?;
    let ic = comparison_arg(c);
    let (s, n) = (fold(&s, ic), fold(&n, ic));
    Ok(Value::Bool(find(&s, &n, 0).is_some()))
}

/// Culture-style comparison of the invariant culture: case-insensitive first, then lower
/// case before upper case.
pub fn culture_compare(a: &str, b: &str) -> std::cmp::Ordering {
    let la: Vec<char> = a.chars().map(lower_char).collect();
    let lb: Vec<char> = b.chars().map(lower_char).collect();
    la.cmp(&lb).then_with(|| {
        for (x, y) in a.chars().zip(b.chars()) {
            if x != y {
                return if x.is_lowercase() {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                };
            }
        }
        std::cmp::Ordering::Equal
    })
}

fn ord_value(o: std::cmp::Ordering) -> Value {
    Value::Int(match o {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

fn compare(c: &mut Call<'_>) -> Result<Value, Exception> {
    let (a, b) = (c.str_arg(0), c.str_arg(1));
    let ic = comparison_arg(c);
    let ordinal = c.args.iter().any(|a| matches!(a, Value::Enum(_, 4 | 5)));
    Ok(match (a, b) {
        (None, None) => Value::Int(0),
        (None, _) => Value::Int(-1),
        (_, None) => Value::Int(1),
        (Some(a), Some(b)) => {
            if ordinal {
                let (x, y) = if ic {
                    (upper(&a), upper(&b))
                } else {
                    (a.to_string(), b.to_string())
                };
                let (ux, uy) = (units(&x), units(&y));
                // Ordinal compare gives the difference of the first differing code units.
                for (p, q) in ux.iter().zip(&uy) {
                    if p != q {
                        return Ok(Value::Int(i32::from(*p) - i32::from(*q)));
                    }
                }
                Value::Int(ux.len() as i32 - uy.len() as i32)
            } else if ic {
                ord_value(lower(&a).cmp(&lower(&b)))
            } else {
                ord_value(culture_compare(&a, &b))
            }
        }
    })
}

fn equals(c: &mut Call<'_>) -> Result<Value, Exception> {
    let (a, b) = if matches!(c.recv, Value::Str(_)) {
        (Some(c.this_str()), c.str_arg(0))
    } else {
        (c.str_arg(0), c.str_arg(1))
    };
    let ic = comparison_arg(c);
    Ok(Value::Bool(match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            if ic {
                upper(&a) == upper(&b)
            } else {
                a == b
            }
        }
        _ => false,
    }))
}

/// Items of a `Join` / `Concat` argument list: a `params` array or one enumerable.
fn items(it: &mut Interp, args: &[Value]) -> Result<Vec<Value>, Exception> {
    if args.len() == 1 {
        return match &args[0] {
            Value::Null => Err(Exception::arg_null("values")),
            v @ (Value::Array(_) | Value::Obj(_)) => it.enumerate(v),
            v => Ok(vec![v.clone()]),
        };
    }
    Ok(args.to_vec())
}

fn join(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let sep = match c.arg(0) {
        Value::Char(ch) => from_units(&[*ch]),
        Value::Str(s) => s.to_string(),
        _ => String::new(),
    };
    let rest = c.args[1..].to_vec();
    let xs = items(it, &rest)?;
    let mut out = Vec::with_capacity(xs.len());
    for x in &xs {
        out.push(convert::to_string(it, x)?);
    }
    ret_str(out.join(&sep))
}

fn concat(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let args = c.args.to_vec();
    let xs = if args.len() == 1 {
        items(it, &args)?
    } else {
        args
    };
    let mut out = String::new();
    for x in &xs {
        out.push_str(&convert::to_string(it, x)?);
    }
    ret_str(out)
}

/// `string.Format(format, args...)`.
pub fn format(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let f = c.req_str(0)?;
    let rest = c.args[1..].to_vec();
    let args: Vec<Value> = if rest.len() == 1 {
        match &rest[0] {
            Value::Array(a) if !a.elem.is_value_type(it.lib) => a.items.borrow().clone(),
            v => vec![v.clone()],
        }
    } else {
        rest
    };
    composite(it, &f, &args).map(Value::str)
}

/// Composite formatting over values.
pub fn composite(it: &mut Interp, f: &str, args: &[Value]) -> Result<String, Exception> {
    let mut err = None;
    let r = crate::dotnet::number::composite_format(f, args.len(), &mut |i, fmt| {
        match convert::format_value(it, &args[i], fmt) {
            Ok(s) => Ok(s),
            Err(e) => {
                let msg = e.message.clone();
                err = Some(e);
                Err(crate::dotnet::number::NumError::Format(msg))
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    r.map_err(|e| match e {
        crate::dotnet::number::NumError::Format(m) => Exception::format(m),
        crate::dotnet::number::NumError::Overflow(m) => Exception::new("OverflowException", m),
    })
}

fn char_pred(c: &Call<'_>, f: fn(char) -> bool) -> Result<Value, Exception> {
    let u = match (c.arg(0), c.arg(1)) {
        (Value::Str(s), idx) => {
            let u = units(s);
            let i = convert::as_i64(idx);
            *u.get(usize::try_from(i).map_err(|_| Exception::range("index"))?)
                .ok_or_else(|| Exception::range("index"))?
        }
        (Value::Char(ch), _) => *ch,
        _ => return Ok(Value::Bool(false)),
    };
    Ok(Value::Bool(char::from_u32(u32::from(u)).is_some_and(f)))
}

fn builder(c: &Call<'_>) -> Result<Rc<Obj>, Exception> {
    match &c.recv {
        Value::Obj(o) if matches!(**o, Obj::Builder(_)) => Ok(o.clone()),
        _ => Err(Exception::null_ref()),
    }
}

fn with_builder(c: &Call<'_>, f: impl FnOnce(&mut String)) -> Result<Value, Exception> {
    let o = builder(c)?;
    if let Obj::Builder(b) = &*o {
        f(&mut b.borrow_mut());
    }
    Ok(Value::Obj(o))
}

pub(crate) fn register(r: &mut Registry) {
    r.insert("string.Length", |_, c| Ok(int(len16(&c.this_str()))));
    r.insert("string.this/1", |_, c| {
        let u = units(&c.this_str());
        let i = arg_int(c, 0);
        usize::try_from(i)
            .ok()
            .and_then(|i| u.get(i).copied())
            .map(Value::Char)
            .ok_or_else(Exception::index)
    });
    r.insert("string.Empty", |_, _| ret_str(""));
    r.insert("string.new/*", |_, c| match (c.arg(0), c.arg(1)) {
        (Value::Char(ch), n) => {
            let n = convert::as_i64(n);
            if n < 0 {
                return Err(Exception::range("count"));
            }
            ret_str(from_units(&vec![*ch; n as usize]))
        }
        (Value::Array(a), _) => {
            let u: Vec<u16> = a
                .items
                .borrow()
                .iter()
                .filter_map(|v| {
                    if let Value::Char(c) = v {
                        Some(*c)
                    } else {
                        None
                    }
                })
                .collect();
            ret_str(from_units(&u))
        }
        _ => ret_str(""),
    });
    r.insert("string.Substring/*", |_, c| substring(c));
    r.insert("string.IndexOf/*", |_, c| index_of(c, false));
    r.insert("string.LastIndexOf/*", |_, c| index_of(c, true));
    r.insert("string.IndexOfAny/*", |_, c| {
        let u = units(&c.this_str());
        let set = char_set(c, 0);
        Ok(Value::Int(
            u.iter()
                .position(|x| set.contains(x))
                .map_or(-1, |i| i as i32),
        ))
    });
    r.insert("string.Contains/*", |_, c| contains(c));
    r.insert("string.StartsWith/*", |_, c| starts_ends(c, false));
    r.insert("string.EndsWith/*", |_, c| starts_ends(c, true));
    r.insert("string.ToUpper/*", |_, c| ret_str(upper(&c.this_str())));
    r.insert("string.ToLower/*", |_, c| ret_str(lower(&c.this_str())));
    r.insert("string.ToUpperInvariant/*", |_, c| {
        ret_str(upper(&c.this_str()))
    });
    r.insert("string.ToLowerInvariant/*", |_, c| {
        ret_str(lower(&c.this_str()))
    });
    r.insert("string.Trim/*", |_, c| trim(c, true, true));
    r.insert("string.TrimStart/*", |_, c| trim(c, true, false));
    r.insert("string.TrimEnd/*", |_, c| trim(c, false, true));
    r.insert("string.Replace/*", |_, c| replace(c));
    r.insert("string.Split/*", |_, c| split(c));
    r.insert("string.PadLeft/*", |_, c| pad(c, true));
    r.insert("string.PadRight/*", |_, c| pad(c, false));
    r.insert("string.Insert/*", |_, c| {
        let u = units(&c.this_str());
        let i = arg_int(c, 0);
        let v = c.req_str(1)?;
        if i < 0 || i as usize > u.len() {
            return Err(Exception::range("startIndex"));
        }
        let mut out = u[..i as usize].to_vec();
        out.extend(units(&v));
        out.extend_from_slice(&u[i as usize..]);
        ret_str(from_units(&out))
    });
    r.insert("string.Remove/*", |_, c| {
        let u = units(&c.this_str());
        let i = arg_int(c, 0);
        if i < 0
            || i as usize > u.len()
            || (c.len() == 1 && i as usize >= u.len() + usize::from(u.is_empty()))
                && i as usize != u.len()
        {
            return Err(Exception::range("startIndex"));
        }
        let n = if c.len() > 1 {
            arg_int(c, 1)
        } else {
            u.len() as i64 - i
        };
        if n < 0 || (i + n) as usize > u.len() {
            return Err(Exception::range("count"));
        }
        let mut out = u[..i as usize].to_vec();
        out.extend_from_slice(&u[(i + n) as usize..]);
        ret_str(from_units(&out))
    });
    r.insert("string.Equals/*", |_, c| equals(c));
    r.insert("string.Compare/*", |_, c| compare(c));
    r.insert("string.CompareOrdinal/*", |_, c| {
        let (a, b) = (
            c.str_arg(0).unwrap_or_default(),
            c.str_arg(1).unwrap_or_default(),
        );
        for (p, q) in units(&a).iter().zip(units(&b).iter()) {
            if p != q {
                return Ok(Value::Int(i32::from(*p) - i32::from(*q)));
            }
        }
        Ok(Value::Int(len16(&a) as i32 - len16(&b) as i32))
    });
    r.insert("string.CompareTo/*", |_, c| {
        let a = c.this_str();
        Ok(match c.str_arg(0) {
            None => Value::Int(1),
            Some(b) => ord_value(culture_compare(&a, &b)),
        })
    });
    r.insert("string.IsNullOrEmpty/*", |_, c| {
        Ok(Value::Bool(c.str_arg(0).is_none_or(|s| s.is_empty())))
    });
    r.insert("string.IsNullOrWhiteSpace/*", |_, c| {
        Ok(Value::Bool(
            c.str_arg(0)
                .is_none_or(|s| s.chars().all(char::is_whitespace)),
        ))
    });
    r.insert("string.Join/*", join);
    r.insert("string.Concat/*", concat);
    r.insert("string.Format/*", format);
    r.insert("string.ToCharArray/*", |_, c| {
        let u = units(&c.this_str());
        Ok(Value::array(
            turnpike_ir::Ty::CHAR,
            u.into_iter().map(Value::Char).collect(),
        ))
    });
    r.insert("string.ToString/*", |_, c| Ok(Value::Str(c.this_str())));
    r.insert("string.GetHashCode/*", |_, c| {
        let mut h: i32 = 5381;
        for u in units(&c.this_str()) {
            h = h.wrapping_mul(33) ^ i32::from(u);
        }
        Ok(Value::Int(h))
    });
    // char
    r.insert("char.IsDigit/*", |_, c| char_pred(c, is_decimal_digit));
    r.insert("char.IsLetter/*", |_, c| char_pred(c, char::is_alphabetic));
    r.insert("char.IsLetterOrDigit/*", |_, c| {
        char_pred(c, char::is_alphanumeric)
    });
    r.insert("char.IsWhiteSpace/*", |_, c| {
        char_pred(c, char::is_whitespace)
    });
    r.insert("char.IsUpper/*", |_, c| char_pred(c, char::is_uppercase));
    r.insert("char.IsLower/*", |_, c| char_pred(c, char::is_lowercase));
    r.insert("char.IsNumber/*", |_, c| char_pred(c, char::is_numeric));
    r.insert("char.IsControl/*", |_, c| char_pred(c, char::is_control));
    r.insert("char.IsPunctuation/*", |_, c| {
        char_pred(c, |ch| {
            ch.is_ascii_punctuation() && !"$+<=>^`|~".contains(ch)
        })
    });
    r.insert("char.IsSymbol/*", |_, c| {
        char_pred(c, |ch| "$+<=>^`|~".contains(ch))
    });
    r.insert("char.ToUpper/*", |_, c| match c.arg(0) {
        Value::Char(ch) => Ok(Value::Char(map_unit(*ch, upper_char))),
        _ => Ok(Value::Null),
    });
    r.insert("char.ToLower/*", |_, c| match c.arg(0) {
        Value::Char(ch) => Ok(Value::Char(map_unit(*ch, lower_char))),
        _ => Ok(Value::Null),
    });
    r.insert("char.ToUpperInvariant/*", |_, c| match c.arg(0) {
        Value::Char(ch) => Ok(Value::Char(map_unit(*ch, upper_char))),
        _ => Ok(Value::Null),
    });
    r.insert("char.ToLowerInvariant/*", |_, c| match c.arg(0) {
        Value::Char(ch) => Ok(Value::Char(map_unit(*ch, lower_char))),
        _ => Ok(Value::Null),
    });
    r.insert("char.ToString/*", |_, c| match (&c.recv, c.arg(0)) {
        (Value::Char(ch), _) | (_, Value::Char(ch)) => ret_str(from_units(&[*ch])),
        _ => ret_str(""),
    });
    r.insert("char.GetNumericValue/*", |_, c| match c.arg(0) {
        Value::Char(ch) => Ok(Value::Double(
            char::from_u32(u32::from(*ch))
                .and_then(|x| x.to_digit(10))
                .map_or(-1.0, f64::from),
        )),
        _ => Ok(Value::Double(-1.0)),
    });
    r.insert("char.IsSurrogate/*", |_, c| {
        Ok(Value::Bool(
            unit_at(c).is_some_and(|u| (0xD800..0xE000).contains(&u)),
        ))
    });
    r.insert("char.IsHighSurrogate/*", |_, c| {
        Ok(Value::Bool(
            unit_at(c).is_some_and(|u| (0xD800..0xDC00).contains(&u)),
        ))
    });
    r.insert("char.IsLowSurrogate/*", |_, c| {
        Ok(Value::Bool(
            unit_at(c).is_some_and(|u| (0xDC00..0xE000).contains(&u)),
        ))
    });
    r.insert("char.ConvertFromUtf32/*", |_, c| {
        let v = arg_int(c, 0);
        match u32::try_from(v).ok().and_then(char::from_u32) {
            Some(ch) => ret_str(ch.to_string()),
            None => Err(Exception::new(
                "ArgumentOutOfRangeException",
                "A valid UTF32 value is between 0x000000 and 0x10ffff, inclusive, and should not include surrogate codepoint values (0x00d800 ~ 0x00dfff). (Parameter 'utf32')",
            )),
        }
    });
    r.insert("char.ConvertToUtf32/*", |_, c| {
        let (hi, lo) = match (c.arg(0), c.arg(1)) {
            (Value::Char(h), Value::Char(l)) => (*h, *l),
            (Value::Str(s), i) => {
                let u = units(s);
                let i =
                    usize::try_from(convert::as_i64(i)).map_err(|_| Exception::range("index"))?;
                let h = *u.get(i).ok_or_else(|| Exception::range("index"))?;
                if !(0xD800..0xDC00).contains(&h) {
                    return Ok(Value::Int(i32::from(h)));
                }
                (h, u.get(i + 1).copied().unwrap_or(0))
            }
            _ => return Err(Exception::null_ref()),
        };
        if !(0xDC00..0xE000).contains(&lo) {
            return Err(Exception::new(
                "ArgumentException",
                "Found a high surrogate char without a following low surrogate.",
            ));
        }
        Ok(Value::Int(
            0x10000 + ((i32::from(hi) - 0xD800) << 10) + (i32::from(lo) - 0xDC00),
        ))
    });
    r.insert("char.Parse/*", |_, c| {
        let s = c.req_str(0)?;
        let u = units(&s);
        if u.len() != 1 {
            return Err(Exception::format(
                "String must be exactly one character long.",
            ));
        }
        Ok(Value::Char(u[0]))
    });
    // StringBuilder
    r.insert("StringBuilder.new/*", |_, c| {
        let s = c.str_arg(0).map(|s| s.to_string()).unwrap_or_default();
        Ok(Value::obj(Obj::Builder(RefCell::new(s))))
    });
    r.insert("StringBuilder.Append/*", |it, c| {
        let text = match c.arg(0) {
            Value::Null => String::new(),
            v => convert::to_string(it, v)?,
        };
        let text = if c.len() == 2 {
            // Append(char, repeatCount)
            text.repeat(usize::try_from(arg_int(c, 1)).unwrap_or(0))
        } else {
            text
        };
        with_builder(c, |b| b.push_str(&text))
    });
    r.insert("StringBuilder.AppendLine/*", |it, c| {
        let text = match c.arg(0) {
            Value::Null => String::new(),
            v => convert::to_string(it, v)?,
        };
        with_builder(c, |b| {
            b.push_str(&text);
            b.push('\n');
        })
    });
    r.insert("StringBuilder.AppendFormat/*", |it, c| {
        let f = c.req_str(0)?;
        let args = c.args[1..].to_vec();
        let args = match args.as_slice() {
            [Value::Array(a)] => a.items.borrow().clone(),
            _ => args,
        };
        let text = composite(it, &f, &args)?;
        with_builder(c, |b| b.push_str(&text))
    });
    r.insert("StringBuilder.Insert/*", |it, c| {
        let i = arg_int(c, 0);
        let text = convert::to_string(it, c.arg(1))?;
        let o = builder(c)?;
        if let Obj::Builder(b) = &*o {
            let mut u = units(&b.borrow());
            if i < 0 || i as usize > u.len() {
                return Err(Exception::range("index"));
            }
            let tail = u.split_off(i as usize);
            u.extend(units(&text));
            u.extend(tail);
            *b.borrow_mut() = from_units(&u);
        }
        Ok(Value::Obj(o))
    });
    r.insert("StringBuilder.Replace/*", |_, c| {
        let (a, b) = (c.arg(0).clone(), c.arg(1).clone());
        with_builder(c, |s| {
            *s = match (a, b) {
                (Value::Str(a), Value::Str(b)) if !a.is_empty() => s.replace(&*a, &b),
                (Value::Str(a), Value::Null) if !a.is_empty() => s.replace(&*a, ""),
                (Value::Char(a), Value::Char(b)) => from_units(
                    &units(s)
                        .into_iter()
                        .map(|x| if x == a { b } else { x })
                        .collect::<Vec<_>>(),
                ),
                _ => s.clone(),
            }
        })
    });
    r.insert("StringBuilder.Clear/*", |_, c| {
        with_builder(c, String::clear)
    });
    r.insert("StringBuilder.ToString/*", |_, c| {
        let o = builder(c)?;
        match &*o {
            Obj::Builder(b) => ret_str(b.borrow().as_str()),
            _ => ret_str(""),
        }
    });
    r.insert("StringBuilder.Length", |_, c| {
        let o = builder(c)?;
        match &*o {
            Obj::Builder(b) => Ok(int(len16(&b.borrow()))),
            _ => Ok(Value::Int(0)),
        }
    });
}

fn map_unit(u: u16, f: fn(char) -> char) -> u16 {
    match char::from_u32(u32::from(u)) {
        Some(ch) => {
            let m = f(ch);
            let mut buf = [0u16; 2];
            let enc = m.encode_utf16(&mut buf);
            if enc.len() == 1 { enc[0] } else { u }
        }
        None => u,
    }
}

/// The `char` a `char.IsX(c)` / `char.IsX(s, i)` call looks at.
fn unit_at(c: &Call<'_>) -> Option<u16> {
    match (c.arg(0), c.arg(1)) {
        (Value::Char(ch), _) => Some(*ch),
        (Value::Str(s), i) => units(s)
            .get(usize::try_from(convert::as_i64(i)).ok()?)
            .copied(),
        _ => None,
    }
}

/// Unicode category Nd (decimal digits of every script), as `char.IsDigit`.
fn is_decimal_digit(ch: char) -> bool {
    ch.is_ascii_digit()
        || (ch.is_numeric()
            && !matches!(ch, '\u{b2}' | '\u{b3}' | '\u{b9}' | '\u{bc}'..='\u{be}' | '\u{2150}'..='\u{218b}' | '\u{2460}'..='\u{24ff}' | '\u{2070}'..='\u{209f}' | '\u{3007}' | '\u{3021}'..='\u{3029}'))
}

/// Characters a culture-sensitive comparison ignores.
fn is_ignorable(ch: char) -> bool {
    matches!(ch, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}
