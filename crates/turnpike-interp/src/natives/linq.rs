//! LINQ: `System.Linq.Enumerable`. `Select` and `Where` are deferred (their delegates run
//! when the result is enumerated); the other operators run at once.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use turnpike_ir::{Prim, Ty};

use super::collections::{
    call_fn, compare, compare_with, comparer_of, distinct, distinct_by, enumerate, equals_with,
    index_check, key_text, result_elem, this_comparer, truthy,
};
use super::{Call, Registry};
use crate::convert::{self, as_f64, as_i64};
use crate::eval::Interp;
use crate::value::{Dict, Exception, Obj, Value};

fn seq(c: &Call<'_>, items: Vec<Value>) -> Value {
    Value::obj(Obj::Seq(result_elem(c), items))
}

/// The source of a LINQ call (its first argument).
fn source(it: &mut Interp, c: &Call<'_>) -> Result<Vec<Value>, Exception> {
    match c.arg(0) {
        Value::Null => Err(Exception::arg_null("source")),
        v => enumerate(it, &v.clone()),
    }
}

fn sum(c: &Call<'_>, xs: &[Value]) -> Result<Value, Exception> {
    let elem = result_ty(c);
    match elem.strip_nullable() {
        Ty::Prim(Prim::Int) => {
            let mut s: i32 = 0;
            for x in xs.iter().filter(|x| !x.is_null()) {
                s = s
                    .checked_add(as_i64(x) as i32)
                    .ok_or_else(Exception::overflow)?;
            }
            Ok(Value::Int(s))
        }
        Ty::Prim(Prim::Long) => {
            let mut s: i64 = 0;
            for x in xs.iter().filter(|x| !x.is_null()) {
                s = s.checked_add(as_i64(x)).ok_or_else(Exception::overflow)?;
            }
            Ok(Value::Long(s))
        }
        Ty::Prim(Prim::Decimal) => {
            let mut s = rust_decimal::Decimal::ZERO;
            for x in xs {
                if let Value::Decimal(d) = x {
                    s = s.checked_add(*d).ok_or_else(Exception::overflow)?;
                }
            }
            Ok(Value::Decimal(s))
        }
        Ty::Prim(Prim::Float) => Ok(Value::Float(xs.iter().map(|x| as_f64(x) as f32).sum())),
        _ => Ok(Value::Double(
            xs.iter().filter(|x| !x.is_null()).map(as_f64).sum(),
        )),
    }
}

fn result_ty(c: &Call<'_>) -> Ty {
    c.member.ty.subst(c.targs)
}

fn project(it: &mut Interp, c: &Call<'_>, xs: Vec<Value>) -> Result<Vec<Value>, Exception> {
    if c.len() > 1 {
        let f = c.arg(1).clone();
        let mut out = Vec::with_capacity(xs.len());
        for x in xs {
            out.push(call_fn(it, &f, vec![x])?);
        }
        Ok(out)
    } else {
        Ok(xs)
    }
}

fn filter(it: &mut Interp, c: &Call<'_>, xs: Vec<Value>) -> Result<Vec<Value>, Exception> {
    if c.len() > 1 {
        let f = c.arg(1).clone();
        let mut out = Vec::new();
        for x in xs {
            if truthy(&call_fn(it, &f, vec![x.clone()])?) {
                out.push(x);
            }
        }
        Ok(out)
    } else {
        Ok(xs)
    }
}

fn no_elements() -> Exception {
    Exception::invalid_op("Sequence contains no elements")
}

fn no_match() -> Exception {
    Exception::invalid_op("Sequence contains no matching element")
}

fn first_like(
    it: &mut Interp,
    c: &mut Call<'_>,
    last: bool,
    or_default: bool,
) -> Result<Value, Exception> {
    let xs = source(it, c)?;
    let had_pred = c.len() > 1
        && !matches!(c.arg(1), Value::Null)
        && matches!(c.arg(1), Value::Obj(o) if matches!(**o, Obj::Func(..)));
    let xs = if had_pred { filter(it, c, xs)? } else { xs };
    let pick = if last { xs.last() } else { xs.first() };
    match pick {
        Some(v) => Ok(v.clone()),
        None if or_default => {
            // FirstOrDefault(source, defaultValue) in .NET 6+.
            if c.len() > 1 && !had_pred {
                return Ok(c.arg(1).clone());
            }
            Ok(convert::default_of(&result_ty(c), it.lib))
        }
        None => Err(if had_pred { no_match() } else { no_elements() }),
    }
}

fn single(it: &mut Interp, c: &mut Call<'_>, or_default: bool) -> Result<Value, Exception> {
    let xs = source(it, c)?;
    let had_pred = c.len() > 1;
    let xs = filter(it, c, xs)?;
    match xs.len() {
        0 if or_default => Ok(convert::default_of(&result_ty(c), it.lib)),
        0 => Err(if had_pred { no_match() } else { no_elements() }),
        1 => Ok(xs[0].clone()),
        _ => Err(Exception::invalid_op(if had_pred {
            "Sequence contains more than one matching element"
        } else {
            "Sequence contains more than one element"
        })),
    }
}

/// `OrderBy` starts a sort; `ThenBy` adds a key to the sort of an ordered sequence. The
/// result remembers its source and keys so that later keys break ties of earlier ones.
fn order_by(it: &mut Interp, c: &mut Call<'_>, desc: bool, then: bool) -> Result<Value, Exception> {
    let f = c.arg(1).clone();
    let cmp = comparer_of(c);
    let (src, mut keys) = match (then, c.arg(0)) {
        (true, Value::Obj(o)) => match &**o {
            Obj::Sorted(src, keys, _) => (src.clone(), keys.clone()),
            _ => (source(it, c)?, Vec::new()),
        },
        _ => (source(it, c)?, Vec::new()),
    };
    keys.push((f, desc, cmp));
    let mut keyed: Vec<(Vec<Value>, Value)> = Vec::with_capacity(src.len());
    for x in &src {
        let mut ks = Vec::with_capacity(keys.len());
        for (kf, _, _) in &keys {
            ks.push(call_fn(it, kf, vec![x.clone()])?);
        }
        keyed.push((ks, x.clone()));
    }
    // Stable, as LINQ's sort is.
    keyed.sort_by(|a, b| {
        for (i, (_, desc, cmp)) in keys.iter().enumerate() {
            let o = compare_with(&a.0[i], &b.0[i], *cmp);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    let sorted: Vec<Value> = keyed.into_iter().map(|(_, x)| x).collect();
    Ok(Value::obj(Obj::Sorted(src, keys, sorted)))
}

fn min_max(it: &mut Interp, c: &mut Call<'_>, max: bool) -> Result<Value, Exception> {
    let xs = source(it, c)?;
    let xs = project(it, c, xs)?;
    let xs: Vec<Value> = xs.into_iter().filter(|x| !x.is_null()).collect();
    let mut best: Option<Value> = None;
    for x in xs {
        best = Some(match best {
            None => x,
            Some(b) => {
                let o = compare(&x, &b);
                if (max && o == Ordering::Greater) || (!max && o == Ordering::Less) {
                    x
                } else {
                    b
                }
            }
        });
    }
    match best {
        Some(b) => Ok(b),
        None => {
            if matches!(result_ty(c), Ty::Nullable(_)) || !result_ty(c).is_value_type(it.lib) {
                Ok(Value::Null)
            } else {
                Err(no_elements())
            }
        }
    }
}

fn to_dict(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let xs = source(it, c)?;
    let kf = c.arg(1).clone();
    let vf = if c.len() > 2 {
        Some(c.arg(2).clone())
    } else {
        None
    };
    let mut d = Dict::new(false);
    for x in xs {
        let k = call_fn(it, &kf, vec![x.clone()])?;
        let v = match &vf {
            Some(f) => call_fn(it, f, vec![x])?,
            None => x,
        };
        if d.find(&k).is_some() {
            let kt = key_text(it, &k);
            return Err(Exception::new(
                "ArgumentException",
                format!("An item with the same key has already been added. Key: {kt}"),
            ));
        }
        d.set(k, v);
    }
    let (kt, vt) = match result_ty(c) {
        Ty::Named(_, a) if a.len() == 2 => (a[0].clone(), a[1].clone()),
        _ => (Ty::Object, Ty::Object),
    };
    Ok(Value::obj(Obj::Dict(kt, vt, RefCell::new(d))))
}

fn group_by(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let xs = source(it, c)?;
    let kf = c.arg(1).clone();
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for x in xs {
        let k = call_fn(it, &kf, vec![x.clone()])?;
        match groups
            .iter_mut()
            .find(|(g, _)| convert::object_equals(g, &k))
        {
            Some((_, items)) => items.push(x),
            None => groups.push((k, vec![x])),
        }
    }
    let vals = groups
        .into_iter()
        .map(|(k, items)| Value::obj(Obj::Grouping(k, items)))
        .collect();
    Ok(seq(c, vals))
}

pub(crate) fn register(r: &mut Registry) {
    r.insert("Enumerable.Select/*", |_, c| lazy(c, true));
    r.insert("Enumerable.SelectMany/*", |it, c| {
        let xs = source(it, c)?;
        let f = c.arg(1).clone();
        let mut out = Vec::new();
        for x in xs {
            let inner = call_fn(it, &f, vec![x])?;
            out.extend(enumerate(it, &inner)?);
        }
        Ok(seq(c, out))
    });
    r.insert("Enumerable.Where/*", |_, c| lazy(c, false));
    r.insert("Enumerable.Any/*", |it, c| {
        let xs = source(it, c)?;
        Ok(Value::Bool(!filter(it, c, xs)?.is_empty()))
    });
    r.insert("Enumerable.All/*", |it, c| {
        let xs = source(it, c)?;
        let f = c.arg(1).clone();
        for x in xs {
            if !truthy(&call_fn(it, &f, vec![x])?) {
                return Ok(Value::Bool(false));
            }
        }
        Ok(Value::Bool(true))
    });
    r.insert("Enumerable.Count/*", |it, c| {
        let xs = source(it, c)?;
        Ok(Value::Int(filter(it, c, xs)?.len() as i32))
    });
    r.insert("Enumerable.LongCount/*", |it, c| {
        let xs = source(it, c)?;
        Ok(Value::Long(filter(it, c, xs)?.len() as i64))
    });
    r.insert("Enumerable.First/*", |it, c| {
        first_like(it, c, false, false)
    });
    r.insert("Enumerable.FirstOrDefault/*", |it, c| {
        first_like(it, c, false, true)
    });
    r.insert("Enumerable.Last/*", |it, c| first_like(it, c, true, false));
    r.insert("Enumerable.LastOrDefault/*", |it, c| {
        first_like(it, c, true, true)
    });
    r.insert("Enumerable.Single/*", |it, c| single(it, c, false));
    r.insert("Enumerable.SingleOrDefault/*", |it, c| single(it, c, true));
    r.insert("Enumerable.ElementAt/*", |it, c| {
        let xs = source(it, c)?;
        let i = index_check(xs.len(), as_i64(c.arg(1)), "index")?;
        Ok(xs[i].clone())
    });
    r.insert("Enumerable.ElementAtOrDefault/*", |it, c| {
        let xs = source(it, c)?;
        let i = as_i64(c.arg(1));
        Ok(usize::try_from(i)
            .ok()
            .and_then(|i| xs.get(i).cloned())
            .unwrap_or_else(|| convert::default_of(&result_ty(c), it.lib)))
    });
    r.insert("Enumerable.Skip/*", |it, c| {
        let xs = source(it, c)?;
        let n = as_i64(c.arg(1)).max(0) as usize;
        Ok(seq(c, xs.into_iter().skip(n).collect()))
    });
    r.insert("Enumerable.Take/*", |it, c| {
        let xs = source(it, c)?;
        let n = as_i64(c.arg(1)).max(0) as usize;
        Ok(seq(c, xs.into_iter().take(n).collect()))
    });
    r.insert("Enumerable.SkipWhile/*", |it, c| {
        let xs = source(it, c)?;
        let f = c.arg(1).clone();
        let mut out = Vec::new();
        let mut skipping = true;
        for x in xs {
            if skipping && truthy(&call_fn(it, &f, vec![x.clone()])?) {
                continue;
            }
            skipping = false;
            out.push(x);
        }
        Ok(seq(c, out))
    });
    r.insert("Enumerable.TakeWhile/*", |it, c| {
        let xs = source(it, c)?;
        let f = c.arg(1).clone();
        let mut out = Vec::new();
        for x in xs {
            if !truthy(&call_fn(it, &f, vec![x.clone()])?) {
                break;
            }
            out.push(x);
        }
        Ok(seq(c, out))
    });
    r.insert("Enumerable.OrderBy/*", |it, c| {
        order_by(it, c, false, false)
    });
    r.insert("Enumerable.OrderByDescending/*", |it, c| {
        order_by(it, c, true, false)
    });
    r.insert("Enumerable.ThenBy/*", |it, c| order_by(it, c, false, true));
    r.insert("Enumerable.ThenByDescending/*", |it, c| {
        order_by(it, c, true, true)
    });
    r.insert("Enumerable.Distinct/*", |it, c| {
        let xs = source(it, c)?;
        let cmp = comparer_of(c);
        Ok(seq(c, distinct_by(xs, cmp)))
    });
    r.insert("Enumerable.Reverse/*", |it, c| {
        let mut xs = source(it, c)?;
        xs.reverse();
        Ok(seq(c, xs))
    });
    r.insert("Enumerable.Concat/*", |it, c| {
        let mut xs = source(it, c)?;
        let b = c.arg(1).clone();
        xs.extend(enumerate(it, &b)?);
        Ok(seq(c, xs))
    });
    r.insert("Enumerable.Union/*", |it, c| {
        let mut xs = source(it, c)?;
        let b = c.arg(1).clone();
        xs.extend(enumerate(it, &b)?);
        Ok(seq(c, distinct(xs)))
    });
    r.insert("Enumerable.Intersect/*", |it, c| {
        let xs = source(it, c)?;
        let b = c.arg(1).clone();
        let ys = enumerate(it, &b)?;
        Ok(seq(
            c,
            distinct(
                xs.into_iter()
                    .filter(|x| ys.iter().any(|y| convert::object_equals(x, y)))
                    .collect(),
            ),
        ))
    });
    r.insert("Enumerable.Except/*", |it, c| {
        let xs = source(it, c)?;
        let b = c.arg(1).clone();
        let ys = enumerate(it, &b)?;
        Ok(seq(
            c,
            distinct(
                xs.into_iter()
                    .filter(|x| !ys.iter().any(|y| convert::object_equals(x, y)))
                    .collect(),
            ),
        ))
    });
    r.insert("Enumerable.Contains/*", |it, c| {
        let xs = source(it, c)?;
        let cmp = comparer_of(c);
        Ok(Value::Bool(
            xs.iter().any(|x| equals_with(x, c.arg(1), cmp)),
        ))
    });
    for owner in ["ICollection", "IList", "ISet", "IReadOnlyCollection"] {
        r.insert(
            Box::leak(format!("{owner}.Contains/*").into_boxed_str()),
            |it, c| {
                let v = c.recv.clone();
                let xs = enumerate(it, &v)?;
                Ok(Value::Bool(
                    xs.iter().any(|x| convert::object_equals(x, c.arg(0))),
                ))
            },
        );
    }
    r.insert("IGrouping.Key", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Grouping(k, _) => Ok(k.clone()),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    for name in [
        "Ordinal",
        "OrdinalIgnoreCase",
        "InvariantCulture",
        "InvariantCultureIgnoreCase",
        "CurrentCulture",
        "CurrentCultureIgnoreCase",
    ] {
        r.insert(
            Box::leak(format!("StringComparer.{name}").into_boxed_str()),
            |_, c| {
                let k: &'static str = match c.member.name.as_str() {
                    "Ordinal" => "Ordinal",
                    "OrdinalIgnoreCase" => "OrdinalIgnoreCase",
                    "InvariantCulture" => "InvariantCulture",
                    "InvariantCultureIgnoreCase" => "InvariantCultureIgnoreCase",
                    "CurrentCultureIgnoreCase" => "CurrentCultureIgnoreCase",
                    _ => "CurrentCulture",
                };
                Ok(Value::obj(Obj::Comparer(k)))
            },
        );
    }
    r.insert("StringComparer.Equals/*", |_, c| {
        let k = this_comparer(c);
        if c.len() == 2 {
            return Ok(Value::Bool(equals_with(c.arg(0), c.arg(1), k)));
        }
        Ok(Value::Bool(convert::object_equals(&c.recv, c.arg(0))))
    });
    r.insert("StringComparer.Compare/*", |_, c| {
        let k = this_comparer(c);
        Ok(Value::Int(compare_with(c.arg(0), c.arg(1), k) as i32))
    });
    r.insert("Enumerable.Sum/*", |it, c| {
        let xs = source(it, c)?;
        let xs = project(it, c, xs)?;
        sum(c, &xs)
    });
    r.insert("Enumerable.Average/*", |it, c| {
        let xs = source(it, c)?;
        let xs: Vec<Value> = project(it, c, xs)?
            .into_iter()
            .filter(|x| !x.is_null())
            .collect();
        if xs.is_empty() {
            return if matches!(result_ty(c), Ty::Nullable(_)) {
                Ok(Value::Null)
            } else {
                Err(no_elements())
            };
        }
        if let Some(Value::Decimal(_)) = xs.first() {
            let mut s = rust_decimal::Decimal::ZERO;
            for x in &xs {
                if let Value::Decimal(d) = x {
                    s += *d;
                }
            }
            return Ok(Value::Decimal(
                s / rust_decimal::Decimal::from(xs.len() as i64),
            ));
        }
        Ok(Value::Double(
            xs.iter().map(as_f64).sum::<f64>() / xs.len() as f64,
        ))
    });
    r.insert("Enumerable.Min/*", |it, c| min_max(it, c, false));
    r.insert("Enumerable.Max/*", |it, c| min_max(it, c, true));
    r.insert("Enumerable.Aggregate/*", |it, c| {
        let xs = source(it, c)?;
        let (mut acc, f, rest) = if c.len() >= 3 {
            (c.arg(1).clone(), c.arg(2).clone(), xs)
        } else {
            let mut xs = xs.into_iter();
            let first = xs.next().ok_or_else(no_elements)?;
            (first, c.arg(1).clone(), xs.collect())
        };
        for x in rest {
            acc = call_fn(it, &f, vec![acc, x])?;
        }
        if c.len() >= 4 {
            let sel = c.arg(3).clone();
            acc = call_fn(it, &sel, vec![acc])?;
        }
        Ok(acc)
    });
    r.insert("Enumerable.ToList/*", |it, c| {
        let xs = source(it, c)?;
        Ok(Value::obj(Obj::List(result_elem(c), RefCell::new(xs))))
    });
    r.insert("Enumerable.ToArray/*", |it, c| {
        let xs = source(it, c)?;
        Ok(Value::array(result_elem(c), xs))
    });
    r.insert("Enumerable.ToDictionary/*", to_dict);
    r.insert("Enumerable.ToHashSet/*", |it, c| {
        let xs = source(it, c)?;
        Ok(Value::obj(Obj::Set(
            result_elem(c),
            RefCell::new(distinct(xs)),
            None,
        )))
    });
    r.insert("Enumerable.GroupBy/*", group_by);
    r.insert("Enumerable.Zip/*", |it, c| {
        let xs = source(it, c)?;
        let b = c.arg(1).clone();
        let ys = enumerate(it, &b)?;
        let f = c.arg(2).clone();
        let mut out = Vec::new();
        for (x, y) in xs.into_iter().zip(ys) {
            out.push(if f.is_null() {
                Value::Pair(Rc::new((x, y)))
            } else {
                call_fn(it, &f, vec![x, y])?
            });
        }
        Ok(seq(c, out))
    });
    r.insert("Enumerable.SequenceEqual/*", |it, c| {
        let xs = source(it, c)?;
        let b = c.arg(1).clone();
        let ys = enumerate(it, &b)?;
        Ok(Value::Bool(
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(&ys)
                    .all(|(x, y)| convert::object_equals(x, y)),
        ))
    });
    r.insert("Enumerable.DefaultIfEmpty/*", |it, c| {
        let xs = source(it, c)?;
        if xs.is_empty() {
            let d = if c.len() > 1 {
                c.arg(1).clone()
            } else {
                convert::default_of(&result_elem(c), it.lib)
            };
            return Ok(seq(c, vec![d]));
        }
        Ok(seq(c, xs))
    });
    r.insert("Enumerable.Cast/*", |it, c| {
        let xs = source(it, c)?;
        let t = result_elem(c);
        let mut out = Vec::new();
        for x in xs {
            out.push(convert::cast(it.lib, x, &t)?);
        }
        Ok(seq(c, out))
    });
    r.insert("Enumerable.OfType/*", |it, c| {
        let xs = source(it, c)?;
        let t = result_elem(c);
        Ok(seq(
            c,
            xs.into_iter()
                .filter(|x| convert::is_instance(it.lib, x, &t))
                .collect(),
        ))
    });
    r.insert("Enumerable.Empty/*", |_, c| Ok(seq(c, Vec::new())));
    r.insert("Enumerable.Range/*", |_, c| {
        let (start, n) = (as_i64(c.arg(0)), as_i64(c.arg(1)));
        if n < 0 || start + n - 1 > i64::from(i32::MAX) {
            return Err(Exception::range("count"));
        }
        Ok(seq(
            c,
            (start..start + n).map(|i| Value::Int(i as i32)).collect(),
        ))
    });
    r.insert("Enumerable.Repeat/*", |_, c| {
        let n = as_i64(c.arg(1));
        if n < 0 {
            return Err(Exception::range("count"));
        }
        Ok(seq(c, vec![c.arg(0).clone(); n as usize]))
    });
}

/// A deferred `Select` or `Where`: nothing runs until the result is enumerated.
fn lazy(c: &Call<'_>, select: bool) -> Result<Value, Exception> {
    let src = c.arg(0).clone();
    if src.is_null() {
        return Err(Exception::arg_null("source"));
    }
    let f = c.arg(1).clone();
    let indexed =
        matches!(&f, Value::Obj(o) if matches!(&**o, Obj::Func(l, _) if l.params.len() == 2));
    Ok(Value::obj(Obj::Lazy(
        result_elem(c),
        src,
        f,
        select,
        indexed,
    )))
}
