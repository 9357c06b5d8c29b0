//! Arrays, `List<T>`, `Dictionary<K, V>`, `HashSet<T>`, `KeyValuePair`, dictionaries of
//! `context`, and LINQ (`Enumerable`), evaluated eagerly.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use turnpike_ir::Ty;

use super::{Call, Registry};
use crate::context::HostRef;
use crate::convert::{self, as_f64, as_i64};
use crate::eval::Interp;
use crate::value::{Dict, Exception, Obj, Value};

/// The elements of an enumerable value.
pub fn enumerate(it: &mut Interp, v: &Value) -> Result<Vec<Value>, Exception> {
    Ok(match v {
        Value::Null => return Err(Exception::null_ref()),
        Value::Str(s) => s.encode_utf16().map(Value::Char).collect(),
        Value::Array(a) => a.items.borrow().clone(),
        Value::Obj(o) => match &**o {
            Obj::List(_, items) | Obj::Set(_, items, _) => items.borrow().clone(),
            Obj::Seq(_, items) | Obj::Matches(items) | Obj::Grouping(_, items) => items.clone(),
            Obj::Sorted(_, _, items) => items.clone(),
            Obj::DictView(_, d, keys) => {
                let (d, keys) = (d.clone(), *keys);
                enumerate(it, &d)?
                    .into_iter()
                    .map(|p| match p {
                        Value::Pair(p) => {
                            if keys {
                                p.0.clone()
                            } else {
                                p.1.clone()
                            }
                        }
                        _ => Value::Null,
                    })
                    .collect()
            }
            Obj::Json(j) => crate::natives::json::children(j),
            Obj::Lazy(_, src, f, select, indexed) => {
                let (src, f, select, indexed) = (src.clone(), f.clone(), *select, *indexed);
                let xs = enumerate(it, &src)?;
                let mut out = Vec::with_capacity(xs.len());
                for (i, x) in xs.into_iter().enumerate() {
                    let args = if indexed {
                        vec![x.clone(), Value::Int(i as i32)]
                    } else {
                        vec![x.clone()]
                    };
                    let r = it.invoke(&f, args)?;
                    if select {
                        out.push(r);
                    } else if truthy(&r) {
                        out.push(x);
                    }
                }
                out
            }
            Obj::Queue(_, items, stack) => {
                let v: Vec<Value> = items.borrow().iter().cloned().collect();
                if *stack {
                    v.into_iter().rev().collect()
                } else {
                    v
                }
            }
            Obj::Dict(_, _, d) => d
                .borrow()
                .pairs()
                .into_iter()
                .map(|(k, v)| Value::Pair(Rc::new((k.clone(), v.clone()))))
                .collect(),
            Obj::Groups(m) => (0..m.group_count())
                .map(|i| Value::obj(Obj::Match(m.clone(), i)))
                .collect(),
            Obj::Host(h) => host_entries(it, h)?
                .into_iter()
                .map(|(k, v)| Value::Pair(Rc::new((k, v))))
                .collect(),
            _ => return Err(Exception::invalid_op("value is not enumerable")),
        },
        _ => return Err(Exception::invalid_op("value is not enumerable")),
    })
}

/// Entries of a dictionary-like `context` object.
fn host_entries(_it: &mut Interp, h: &HostRef) -> Result<Vec<(Value, Value)>, Exception> {
    let strs = |vs: &Vec<String>| Value::array(Ty::String, vs.iter().map(Value::str).collect());
    Ok(match h {
        HostRef::Variables(ctx) => ctx.variables.borrow().pairs(),
        HostRef::Headers(ctx, resp) => {
            let m = if *resp { &ctx.response } else { &ctx.request };
            m.headers
                .0
                .iter()
                .map(|(k, v)| (Value::str(k), strs(v)))
                .collect()
        }
        HostRef::Query(ctx, orig) => {
            let u = if *orig { &ctx.original_url } else { &ctx.url };
            u.query
                .iter()
                .map(|(k, v)| (Value::str(k), strs(v)))
                .collect()
        }
        HostRef::Matched(ctx) => ctx
            .matched_parameters
            .iter()
            .map(|(k, v)| (Value::str(k), Value::str(v)))
            .collect(),
        _ => return Err(Exception::invalid_op("not a dictionary")),
    })
}

fn host_get(it: &mut Interp, h: &HostRef, key: &Value) -> Result<Option<Value>, Exception> {
    if let HostRef::Variables(ctx) = h {
        return Ok(ctx.variables.borrow().get(key).cloned());
    }
    let Value::Str(k) = key else {
        return Ok(None);
    };
    // One entry looked up in place: building every entry first costs a value per header.
    let strs = |vs: &Vec<String>| Value::array(Ty::String, vs.iter().map(Value::str).collect());
    let find = |list: &[(String, Vec<String>)]| {
        list.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| strs(v))
    };
    Ok(match h {
        HostRef::Headers(ctx, resp) => {
            let m = if *resp { &ctx.response } else { &ctx.request };
            find(&m.headers.0)
        }
        HostRef::Query(ctx, orig) => {
            let u = if *orig { &ctx.original_url } else { &ctx.url };
            find(&u.query)
        }
        HostRef::Matched(ctx) => ctx
            .matched_parameters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| Value::str(v)),
        _ => host_entries(it, h)?
            .into_iter()
            .find(|(n, _)| matches!(n, Value::Str(n) if n.eq_ignore_ascii_case(k)))
            .map(|(_, v)| v),
    })
}

/// Reads `d[key]` of any dictionary-like value; `None` when absent.
pub fn dict_get(it: &mut Interp, d: &Value, key: &Value) -> Result<Option<Value>, Exception> {
    if key.is_null() {
        return Err(Exception::arg_null("key"));
    }
    match d {
        Value::Obj(o) => match &**o {
            Obj::Dict(_, _, m) => Ok(m.borrow().get(key).cloned()),
            Obj::Host(h) => host_get(it, h, key),
            Obj::Json(j) => match &*j.borrow() {
                crate::natives::json::JNode::Object(props) => Ok(match key {
                    Value::Str(k) => props
                        .iter()
                        .find(|(n, _)| n == &**k)
                        .map(|(_, v)| Value::obj(Obj::Json(v.clone()))),
                    _ => None,
                }),
                _ => Err(Exception::invalid_op("not a dictionary")),
            },
            _ => Err(Exception::invalid_op("not a dictionary")),
        },
        Value::Null => Err(Exception::null_ref()),
        _ => Err(Exception::invalid_op("not a dictionary")),
    }
}

pub(crate) fn key_text(it: &mut Interp, k: &Value) -> String {
    convert::to_string(it, k).unwrap_or_default()
}

fn dict_index(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let d = c.recv.clone();
    let k = c.arg(0).clone();
    match dict_get(it, &d, &k)? {
        Some(v) => Ok(v),
        None => {
            let kt = key_text(it, &k);
            Err(Exception::new(
                "KeyNotFoundException",
                format!("The given key '{kt}' was not present in the dictionary."),
            ))
        }
    }
}

fn with_dict<R>(v: &Value, f: impl FnOnce(&RefCell<Dict>) -> R) -> Result<R, Exception> {
    match v {
        Value::Obj(o) => match &**o {
            Obj::Dict(_, _, d) => Ok(f(d)),
            Obj::Host(HostRef::Variables(ctx)) => Ok(f(&ctx.variables)),
            _ => Err(Exception::not_supported("this dictionary is read-only")),
        },
        _ => Err(Exception::null_ref()),
    }
}

fn list_items(v: &Value) -> Result<&RefCell<Vec<Value>>, Exception> {
    match v {
        Value::Obj(o) => match &**o {
            Obj::List(_, items) | Obj::Set(_, items, _) => {
                // SAFETY-free trick: extend the borrow through the Rc held by the caller.
                Ok(unsafe_free_ref(items))
            }
            _ => Err(Exception::invalid_op("not a list")),
        },
        Value::Array(a) => Ok(unsafe_free_ref(&a.items)),
        Value::Null => Err(Exception::null_ref()),
        _ => Err(Exception::invalid_op("not a list")),
    }
}

fn unsafe_free_ref<T>(r: &T) -> &T {
    r
}

/// The element type a member's result sequence has (`IEnumerable<U>` gives `U`).
pub(crate) fn result_elem(c: &Call<'_>) -> Ty {
    match c.member.ty.subst(c.targs) {
        Ty::Named(_, args) if args.len() == 1 => args[0].clone(),
        Ty::Array(e) => *e,
        _ => Ty::Object,
    }
}

pub(crate) fn call_fn(it: &mut Interp, f: &Value, args: Vec<Value>) -> Result<Value, Exception> {
    it.invoke(f, args)
}

pub(crate) fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// .NET's default comparer: numbers by value, strings culture-style, nulls first.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Str(x), Value::Str(y)) => super::strings::culture_compare(x, y),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Double(_) | Value::Float(_), _) | (_, Value::Double(_) | Value::Float(_)) => {
            as_f64(a).partial_cmp(&as_f64(b)).unwrap_or(Ordering::Equal)
        }
        (Value::ULong(x), Value::ULong(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.ticks.cmp(&y.ticks),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => x.ticks.cmp(&y.ticks),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => as_i64(a).cmp(&as_i64(b)),
    }
}

pub(crate) fn distinct(xs: Vec<Value>) -> Vec<Value> {
    distinct_by(xs, None)
}

/// The comparer among a call's arguments, if any.
pub(crate) fn comparer_of(c: &Call<'_>) -> Option<&'static str> {
    c.args.iter().find_map(|a| match a {
        Value::Obj(o) => match &**o {
            Obj::Comparer(k) => Some(*k),
            _ => None,
        },
        _ => None,
    })
}

/// Equality under a `StringComparer` (value equality without one).
pub fn equals_with(a: &Value, b: &Value, cmp: Option<&str>) -> bool {
    match (cmp, a, b) {
        (Some(k), Value::Str(x), Value::Str(y)) if k.ends_with("IgnoreCase") => {
            x.to_uppercase() == y.to_uppercase()
        }
        _ => convert::object_equals(a, b),
    }
}

/// Ordering under a `StringComparer` (the default comparer without one).
pub fn compare_with(a: &Value, b: &Value, cmp: Option<&str>) -> Ordering {
    match (cmp, a, b) {
        (Some("Ordinal"), Value::Str(x), Value::Str(y)) => x.encode_utf16().cmp(y.encode_utf16()),
        (Some("OrdinalIgnoreCase"), Value::Str(x), Value::Str(y)) => x
            .to_uppercase()
            .encode_utf16()
            .cmp(y.to_uppercase().encode_utf16()),
        (Some(k), Value::Str(x), Value::Str(y)) if k.ends_with("IgnoreCase") => {
            x.to_lowercase().cmp(&y.to_lowercase())
        }
        _ => compare(a, b),
    }
}

pub(crate) fn distinct_by(xs: Vec<Value>, cmp: Option<&str>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for x in xs {
        if !out.iter().any(|y| equals_with(&x, y, cmp)) {
            out.push(x);
        }
    }
    out
}

fn new_list(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let elem = c.targs.first().cloned().unwrap_or(Ty::Object);
    let items = match c.arg(0) {
        Value::Null | Value::Int(_) => Vec::new(),
        v => enumerate(it, &v.clone())?,
    };
    Ok(Value::obj(Obj::List(elem, RefCell::new(items))))
}

fn new_dict(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let k = c.targs.first().cloned().unwrap_or(Ty::Object);
    let v = c.targs.get(1).cloned().unwrap_or(Ty::Object);
    let ic = comparer_of(c).is_some_and(|k| k.ends_with("IgnoreCase"));
    let mut d = Dict::new(ic);
    if let Some(src @ Value::Obj(o)) = c.args.first()
        && !matches!(&**o, Obj::Comparer(_))
    {
        for p in enumerate(it, &src.clone())? {
            if let Value::Pair(p) = p {
                d.set(p.0.clone(), p.1.clone());
            }
        }
    }
    Ok(Value::obj(Obj::Dict(k, v, RefCell::new(d))))
}

pub(crate) fn index_check(len: usize, i: i64, param: &str) -> Result<usize, Exception> {
    usize::try_from(i).ok().filter(|i| *i < len).ok_or_else(|| {
        Exception::new(
            "ArgumentOutOfRangeException",
            format!("Index was out of range. Must be non-negative and less than the size of the collection. (Parameter '{param}')"),
        )
    })
}

pub(crate) fn register(r: &mut Registry) {
    // Arrays
    r.insert("Array.Length", |_, c| match &c.recv {
        Value::Array(a) => Ok(Value::Int(a.items.borrow().len() as i32)),
        _ => Err(Exception::null_ref()),
    });
    r.insert("Array.IndexOf/*", |_, c| {
        let items = list_items(c.arg(0))?.borrow().clone();
        Ok(Value::Int(
            items
                .iter()
                .position(|x| convert::object_equals(x, c.arg(1)))
                .map_or(-1, |i| i as i32),
        ))
    });
    r.insert("Array.Reverse/*", |_, c| {
        list_items(c.arg(0))?.borrow_mut().reverse();
        Ok(Value::Null)
    });
    r.insert("Array.Sort/*", |_, c| {
        list_items(c.arg(0))?.borrow_mut().sort_by(compare);
        Ok(Value::Null)
    });
    r.insert("Array.Exists/*", |it, c| {
        let items = list_items(c.arg(0))?.borrow().clone();
        let f = c.arg(1).clone();
        for x in items {
            if truthy(&call_fn(it, &f, vec![x])?) {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    });
    r.insert("Array.Empty/*", |_, c| {
        Ok(Value::array(
            c.targs.first().cloned().unwrap_or(Ty::Object),
            Vec::new(),
        ))
    });
    // List<T>
    r.insert("List.new/*", new_list);
    r.insert("List.Count", |_, c| {
        Ok(Value::Int(list_items(&c.recv)?.borrow().len() as i32))
    });
    r.insert("List.this/1", |_, c| {
        let items = list_items(&c.recv)?.borrow();
        let i = index_check(items.len(), as_i64(c.arg(0)), "index")?;
        Ok(items[i].clone())
    });
    r.insert("set:List.this/1", |_, c| {
        let mut items = list_items(&c.recv)?.borrow_mut();
        let i = index_check(items.len(), as_i64(c.arg(0)), "index")?;
        items[i] = c.arg(1).clone();
        Ok(Value::Null)
    });
    r.insert("List.Add/*", |_, c| {
        list_items(&c.recv)?.borrow_mut().push(c.arg(0).clone());
        Ok(Value::Null)
    });
    r.insert("List.AddRange/*", |it, c| {
        let xs = enumerate(it, &c.arg(0).clone())?;
        list_items(&c.recv)?.borrow_mut().extend(xs);
        Ok(Value::Null)
    });
    r.insert("List.Insert/*", |_, c| {
        let mut items = list_items(&c.recv)?.borrow_mut();
        let i = as_i64(c.arg(0));
        if i < 0 || i as usize > items.len() {
            return Err(Exception::range("index"));
        }
        items.insert(i as usize, c.arg(1).clone());
        Ok(Value::Null)
    });
    r.insert("List.Remove/*", |_, c| {
        let mut items = list_items(&c.recv)?.borrow_mut();
        match items
            .iter()
            .position(|x| convert::object_equals(x, c.arg(0)))
        {
            Some(i) => {
                items.remove(i);
                Ok(Value::Bool(true))
            }
            None => Ok(Value::Bool(false)),
        }
    });
    r.insert("List.RemoveAt/*", |_, c| {
        let mut items = list_items(&c.recv)?.borrow_mut();
        let i = index_check(items.len(), as_i64(c.arg(0)), "index")?;
        items.remove(i);
        Ok(Value::Null)
    });
    r.insert("List.Clear/*", |_, c| {
        list_items(&c.recv)?.borrow_mut().clear();
        Ok(Value::Null)
    });
    r.insert("List.Contains/*", |_, c| {
        Ok(Value::Bool(
            list_items(&c.recv)?
                .borrow()
                .iter()
                .any(|x| convert::object_equals(x, c.arg(0))),
        ))
    });
    r.insert("List.IndexOf/*", |_, c| {
        Ok(Value::Int(
            list_items(&c.recv)?
                .borrow()
                .iter()
                .position(|x| convert::object_equals(x, c.arg(0)))
                .map_or(-1, |i| i as i32),
        ))
    });
    r.insert("List.ToArray/*", |_, c| {
        let elem = c.targs.first().cloned().unwrap_or(Ty::Object);
        Ok(Value::array(elem, list_items(&c.recv)?.borrow().clone()))
    });
    r.insert("List.Sort/*", |it, c| {
        let mut items = list_items(&c.recv)?.borrow().clone();
        if let Some(Value::Obj(o)) = c.args.first()
            && let Obj::Comparer(k) = &**o
        {
            let k = *k;
            items.sort_by(|a, b| compare_with(a, b, Some(k)));
        } else if let Some(f) = c.args.first().cloned() {
            let mut err = None;
            items.sort_by(|a, b| match call_fn(it, &f, vec![a.clone(), b.clone()]) {
                Ok(v) => as_i64(&v).cmp(&0),
                Err(e) => {
                    err = Some(e);
                    Ordering::Equal
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
        } else {
            items.sort_by(compare);
        }
        *list_items(&c.recv)?.borrow_mut() = items;
        Ok(Value::Null)
    });
    r.insert("List.Reverse/*", |_, c| {
        list_items(&c.recv)?.borrow_mut().reverse();
        Ok(Value::Null)
    });
    r.insert("List.Exists/*", |it, c| {
        let items = list_items(&c.recv)?.borrow().clone();
        let f = c.arg(0).clone();
        for x in items {
            if truthy(&call_fn(it, &f, vec![x])?) {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    });
    r.insert("List.Find/*", |it, c| {
        let items = list_items(&c.recv)?.borrow().clone();
        let f = c.arg(0).clone();
        for x in items {
            if truthy(&call_fn(it, &f, vec![x.clone()])?) {
                return Ok(x);
            }
        }
        Ok(convert::default_of(
            &c.targs.first().cloned().unwrap_or(Ty::Object),
            it.lib,
        ))
    });
    r.insert("List.FindAll/*", |it, c| {
        let items = list_items(&c.recv)?.borrow().clone();
        let f = c.arg(0).clone();
        let mut out = Vec::new();
        for x in items {
            if truthy(&call_fn(it, &f, vec![x.clone()])?) {
                out.push(x);
            }
        }
        Ok(Value::obj(Obj::List(
            c.targs.first().cloned().unwrap_or(Ty::Object),
            RefCell::new(out),
        )))
    });
    r.insert("List.ForEach/*", |it, c| {
        let items = list_items(&c.recv)?.borrow().clone();
        let f = c.arg(0).clone();
        for x in items {
            call_fn(it, &f, vec![x])?;
        }
        Ok(Value::Null)
    });
    // HashSet<T>
    r.insert("HashSet.new/*", |it, c| {
        let elem = c.targs.first().cloned().unwrap_or(Ty::Object);
        let cmp = comparer_of(c);
        let items = match c.arg(0) {
            Value::Null => Vec::new(),
            Value::Obj(o) if matches!(&**o, Obj::Comparer(_)) => Vec::new(),
            v => distinct_by(enumerate(it, &v.clone())?, cmp),
        };
        Ok(Value::obj(Obj::Set(elem, RefCell::new(items), cmp)))
    });
    r.insert("HashSet.Add/*", |_, c| {
        let cmp = set_comparer(&c.recv);
        let mut items = list_items(&c.recv)?.borrow_mut();
        if items.iter().any(|x| equals_with(x, c.arg(0), cmp)) {
            return Ok(Value::Bool(false));
        }
        items.push(c.arg(0).clone());
        Ok(Value::Bool(true))
    });
    r.insert("HashSet.Contains/*", |_, c| {
        let cmp = set_comparer(&c.recv);
        Ok(Value::Bool(
            list_items(&c.recv)?
                .borrow()
                .iter()
                .any(|x| equals_with(x, c.arg(0), cmp)),
        ))
    });
    r.insert("HashSet.Count", |_, c| {
        Ok(Value::Int(list_items(&c.recv)?.borrow().len() as i32))
    });
    r.insert("HashSet.Remove/*", |_, c| {
        let cmp = set_comparer(&c.recv);
        let mut items = list_items(&c.recv)?.borrow_mut();
        let before = items.len();
        items.retain(|x| !equals_with(x, c.arg(0), cmp));
        Ok(Value::Bool(items.len() != before))
    });
    // Dictionaries (concrete and the interfaces context uses).
    for owner in ["Dictionary", "IDictionary", "IReadOnlyDictionary"] {
        let k = |s: &str| -> &'static str { Box::leak(format!("{owner}.{s}").into_boxed_str()) };
        r.insert(k("this/1"), dict_index);
        r.insert(
            Box::leak(format!("set:{owner}.this/1").into_boxed_str()),
            |_, c| {
                let (key, v) = (c.arg(0).clone(), c.arg(1).clone());
                if key.is_null() {
                    return Err(Exception::arg_null("key"));
                }
                with_dict(&c.recv, |d| d.borrow_mut().set(key, v))?;
                Ok(Value::Null)
            },
        );
        r.insert(k("ContainsKey/*"), |it, c| {
            let d = c.recv.clone();
            Ok(Value::Bool(dict_get(it, &d, &c.arg(0).clone())?.is_some()))
        });
        r.insert(k("TryGetValue/*"), |it, c| {
            let d = c.recv.clone();
            match dict_get(it, &d, &c.arg(0).clone())? {
                Some(v) => {
                    c.args[1] = v;
                    Ok(Value::Bool(true))
                }
                None => {
                    let vt = c
                        .member
                        .params
                        .get(1)
                        .map(|p| p.ty.subst(c.targs))
                        .unwrap_or(Ty::Object);
                    c.args[1] = convert::default_of(&vt, it.lib);
                    Ok(Value::Bool(false))
                }
            }
        });
        r.insert(k("Count"), |it, c| {
            let d = c.recv.clone();
            Ok(Value::Int(enumerate(it, &d)?.len() as i32))
        });
        r.insert(k("Keys"), |_, c| {
            let t = c.targs.first().cloned().unwrap_or(Ty::Object);
            Ok(Value::obj(Obj::DictView(t, c.recv.clone(), true)))
        });
        r.insert(k("Values"), |_, c| {
            let t = c.targs.get(1).cloned().unwrap_or(Ty::Object);
            Ok(Value::obj(Obj::DictView(t, c.recv.clone(), false)))
        });
        r.insert(k("Add/*"), |it, c| {
            let (key, v) = (c.arg(0).clone(), c.arg(1).clone());
            if key.is_null() {
                return Err(Exception::arg_null("key"));
            }
            let kt = key_text(it, &key);
            let dup = with_dict(&c.recv, |d| {
                let mut d = d.borrow_mut();
                if d.find(&key).is_some() {
                    true
                } else {
                    d.set(key, v);
                    false
                }
            })?;
            if dup {
                return Err(Exception::new(
                    "ArgumentException",
                    format!("An item with the same key has already been added. Key: {kt}"),
                ));
            }
            Ok(Value::Null)
        });
        r.insert(k("Remove/*"), |_, c| {
            let key = c.arg(0).clone();
            Ok(Value::Bool(with_dict(&c.recv, |d| {
                d.borrow_mut().remove(&key)
            })?))
        });
        r.insert(k("Clear/*"), |_, c| {
            with_dict(&c.recv, |d| d.borrow_mut().clear())?;
            Ok(Value::Null)
        });
        r.insert(k("ContainsValue/*"), |it, c| {
            let d = c.recv.clone();
            let v = c.arg(0).clone();
            Ok(Value::Bool(enumerate(it, &d)?.iter().any(
                |p| matches!(p, Value::Pair(p) if convert::object_equals(&p.1, &v)),
            )))
        });
    }
    r.insert("Dictionary.new/*", new_dict);
    r.insert("KeyValuePair.new/*", |_, c| {
        Ok(Value::Pair(Rc::new((c.arg(0).clone(), c.arg(1).clone()))))
    });
    r.insert("KeyValuePair.ToString/*", |it, c| {
        let v = c.recv.clone();
        convert::to_string(it, &v).map(Value::str)
    });
    r.insert("KeyValuePair.Key", |_, c| match &c.recv {
        Value::Pair(p) => Ok(p.0.clone()),
        _ => Err(Exception::null_ref()),
    });
    r.insert("KeyValuePair.Value", |_, c| match &c.recv {
        Value::Pair(p) => Ok(p.1.clone()),
        _ => Err(Exception::null_ref()),
    });
    r.insert("ICollection.Count", |it, c| {
        let v = c.recv.clone();
        Ok(Value::Int(enumerate(it, &v)?.len() as i32))
    });
    r.insert("IReadOnlyCollection.Count", |it, c| {
        let v = c.recv.clone();
        Ok(Value::Int(enumerate(it, &v)?.len() as i32))
    });
    r.insert("IList.this/1", |it, c| {
        let v = c.recv.clone();
        let xs = enumerate(it, &v)?;
        let i = index_check(xs.len(), as_i64(c.arg(0)), "index")?;
        Ok(xs[i].clone())
    });
    r.insert("IReadOnlyList.this/1", |it, c| {
        let v = c.recv.clone();
        let xs = enumerate(it, &v)?;
        let i = index_check(xs.len(), as_i64(c.arg(0)), "index")?;
        Ok(xs[i].clone())
    });
    super::linq::register(r);
    register_queues(r);
}

pub(crate) fn this_comparer(c: &Call<'_>) -> Option<&'static str> {
    match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Comparer(k) => Some(*k),
            _ => None,
        },
        _ => None,
    }
}

fn queue_of(v: &Value) -> Result<&Obj, Exception> {
    match v {
        Value::Obj(o) if matches!(&**o, Obj::Queue(..)) => Ok(o),
        Value::Null => Err(Exception::null_ref()),
        _ => Err(Exception::invalid_op("not a queue or stack")),
    }
}

fn empty(stack: bool) -> Exception {
    Exception::invalid_op(if stack {
        "Stack empty."
    } else {
        "Queue empty."
    })
}

/// `Queue<T>` and `Stack<T>`.
pub(crate) fn register_queues(r: &mut Registry) {
    for (t, stack) in [("Queue", false), ("Stack", true)] {
        let k = |s: &str| -> &'static str { Box::leak(format!("{t}.{s}").into_boxed_str()) };
        let _ = stack;
        r.insert(k("new/*"), |it, c| {
            let elem = c.targs.first().cloned().unwrap_or(Ty::Object);
            let stack = it.lib.ty(c.member.owner).name == "Stack";
            let items: std::collections::VecDeque<Value> = match c.arg(0) {
                v @ (Value::Array(_) | Value::Obj(_)) => enumerate(it, &v.clone())?.into(),
                _ => std::collections::VecDeque::new(),
            };
            Ok(Value::obj(Obj::Queue(elem, RefCell::new(items), stack)))
        });
        r.insert(k("Count"), |_, c| match queue_of(&c.recv)? {
            Obj::Queue(_, q, _) => Ok(Value::Int(q.borrow().len() as i32)),
            _ => Err(Exception::null_ref()),
        });
        for name in ["Enqueue/*", "Push/*"] {
            r.insert(k(name), |_, c| match queue_of(&c.recv)? {
                Obj::Queue(_, q, _) => {
                    q.borrow_mut().push_back(c.arg(0).clone());
                    Ok(Value::Null)
                }
                _ => Err(Exception::null_ref()),
            });
        }
        for name in ["Dequeue/*", "Pop/*"] {
            r.insert(k(name), |_, c| match queue_of(&c.recv)? {
                Obj::Queue(_, q, stack) => {
                    let v = if *stack {
                        q.borrow_mut().pop_back()
                    } else {
                        q.borrow_mut().pop_front()
                    };
                    v.ok_or_else(|| empty(*stack))
                }
                _ => Err(Exception::null_ref()),
            });
        }
        r.insert(k("Peek/*"), |_, c| match queue_of(&c.recv)? {
            Obj::Queue(_, q, stack) => {
                let q = q.borrow();
                let v = if *stack { q.back() } else { q.front() };
                v.cloned().ok_or_else(|| empty(*stack))
            }
            _ => Err(Exception::null_ref()),
        });
        r.insert(k("Clear/*"), |_, c| match queue_of(&c.recv)? {
            Obj::Queue(_, q, _) => {
                q.borrow_mut().clear();
                Ok(Value::Null)
            }
            _ => Err(Exception::null_ref()),
        });
        r.insert(k("Contains/*"), |_, c| match queue_of(&c.recv)? {
            Obj::Queue(_, q, _) => Ok(Value::Bool(
                q.borrow()
                    .iter()
                    .any(|x| convert::object_equals(x, c.arg(0))),
            )),
            _ => Err(Exception::null_ref()),
        });
        r.insert(k("ToArray/*"), |it, c| {
            let v = c.recv.clone();
            let elem = c.targs.first().cloned().unwrap_or(Ty::Object);
            Ok(Value::array(elem, enumerate(it, &v)?))
        });
    }
}

fn set_comparer(v: &Value) -> Option<&'static str> {
    match v {
        Value::Obj(o) => match &**o {
            Obj::Set(_, _, k) => *k,
            _ => None,
        },
        _ => None,
    }
}
