//! `Regex`, `Match`, `Group` and their collections over `fancy-regex` (backtracking, with
//! look-around and back-references as .NET has them).

use std::rc::Rc;
use std::sync::Arc;

use super::{Call, Registry};
use crate::convert::as_i64;
use crate::eval::Interp;
use crate::natives::strings::{len16, units};
use crate::value::{Exception, Obj, Value};

/// A compiled pattern.
#[derive(Debug)]
pub struct RegexObj {
    /// The pattern as written.
    pub pattern: String,
    re: fancy_regex::Regex,
}

/// A match with its groups (group 0 is the whole match).
#[derive(Debug)]
pub struct MatchObj {
    /// Group spans in bytes of `input`, by group number.
    groups: Vec<Option<(usize, usize)>>,
    /// Group names by number.
    names: Vec<String>,
    input: Arc<str>,
    regex: Option<Rc<RegexObj>>,
}

impl MatchObj {
    /// The text of group `g`, when it matched.
    pub fn group_value(&self, g: usize) -> Option<String> {
        self.groups
            .get(g)
            .copied()
            .flatten()
            .map(|(a, b)| self.input[a..b].to_string())
    }

    /// Number of groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    fn index16(&self, g: usize) -> i32 {
        self.groups
            .get(g)
            .copied()
            .flatten()
            .map_or(0, |(a, _)| len16(&self.input[..a]) as i32)
    }

    fn by_name(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .or_else(|| name.parse().ok().filter(|i: &usize| *i < self.groups.len()))
    }
}

fn translate(pattern: &str, options: i64) -> String {
    let mut flags = String::new();
    if options & 1 != 0 {
        flags.push('i');
    }
    if options & 2 != 0 {
        flags.push('m');
    }
    if options & 16 != 0 {
        flags.push('s');
    }
    if options & 32 != 0 {
        flags.push('x');
    }
    let pattern = if options & 2 == 0 {
        dollar_before_final_newline(pattern)
    } else {
        pattern.to_string()
    };
    if flags.is_empty() {
        pattern
    } else {
        format!("(?{flags}){pattern}")
    }
}

fn compile(pattern: &str, options: i64) -> Result<Rc<RegexObj>, Exception> {
    let re = fancy_regex::Regex::new(&translate(pattern, options)).map_err(|e| {
        Exception::new(
            "RegexParseException",
            format!("Invalid pattern '{pattern}' at offset 0. {e}"),
        )
    })?;
    Ok(Rc::new(RegexObj {
        pattern: pattern.to_string(),
        re,
    }))
}

fn timeout() -> Exception {
    Exception::new(
        "RegexMatchTimeoutException",
        "The regex engine timed out while trying to match a pattern to an input string.",
    )
}

fn match_at(
    r: &Rc<RegexObj>,
    input: &Arc<str>,
    start: usize,
) -> Result<Option<MatchObj>, Exception> {
    let caps =
        r.re.captures_from_pos(input, start)
            .map_err(|_| timeout())?;
    Ok(caps.map(|c| {
        // .NET numbers unnamed groups first, then named ones, each in order.
        let raw: Vec<Option<&str>> = r.re.capture_names().collect();
        let mut order: Vec<usize> = vec![0];
        order.extend((1..raw.len()).filter(|i| raw[*i].is_none()));
        order.extend((1..raw.len()).filter(|i| raw[*i].is_some()));
        let names: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(pos, i)| raw[*i].map_or_else(|| pos.to_string(), str::to_string))
            .collect();
        MatchObj {
            groups: order
                .iter()
                .map(|i| c.get(*i).map(|m| (m.start(), m.end())))
                .collect(),
            names,
            input: input.clone(),
            regex: Some(r.clone()),
        }
    }))
}

fn failed(input: &Arc<str>) -> MatchObj {
    MatchObj {
        groups: vec![None],
        names: vec!["0".into()],
        input: input.clone(),
        regex: None,
    }
}

/// The regex and the remaining arguments of a static or instance call.
fn regex_and_args(c: &Call<'_>) -> Result<(Rc<RegexObj>, Vec<Value>), Exception> {
    if let Value::Obj(o) = &c.recv
        && let Obj::Regex(r) = &**o
    {
        return Ok((r.clone(), c.args.to_vec()));
    }
    // Static: (input, pattern, [replacement/evaluator], [options])
    let pattern = c.str_arg(1).ok_or_else(|| Exception::arg_null("pattern"))?;
    let options = c
        .args
        .iter()
        .skip(2)
        .find_map(|a| {
            if let Value::Enum(_, v) = a {
                Some(*v)
            } else {
                None
            }
        })
        .unwrap_or(0);
    let r = compile(&pattern, options)?;
    let mut rest = vec![c.arg(0).clone()];
    rest.extend(
        c.args
            .iter()
            .skip(2)
            .filter(|a| !matches!(a, Value::Enum(..)))
            .cloned(),
    );
    Ok((r, rest))
}

fn input_of(v: &Value) -> Result<Arc<str>, Exception> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(Exception::arg_null("input")),
    }
}

fn all_matches(r: &Rc<RegexObj>, input: &Arc<str>) -> Result<Vec<MatchObj>, Exception> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= input.len() {
        let Some(m) = match_at(r, input, pos)? else {
            break;
        };
        let (a, b) = m.groups[0].unwrap_or((pos, pos));
        pos = if b == a { next_char(input, b) } else { b };
        out.push(m);
    }
    Ok(out)
}

fn next_char(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(i + 1, |c| i + c.len_utf8())
}

/// Expands a .NET replacement pattern: `$1`, `${name}`, `$0`, `$&`, `$$`.
fn expand(m: &MatchObj, repl: &str) -> String {
    let mut out = String::new();
    let b = repl.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            let next = b[i + 1];
            if next == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if next == b'&' {
                out.push_str(&m.group_value(0).unwrap_or_default());
                i += 2;
                continue;
            }
            if next == b'{'
                && let Some(end) = repl[i + 2..].find('}')
            {
                let name = &repl[i + 2..i + 2 + end];
                if let Some(g) = m.by_name(name) {
                    out.push_str(&m.group_value(g).unwrap_or_default());
                    i += end + 3;
                    continue;
                }
            }
            if next.is_ascii_digit() {
                // The longest number that names a group.
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let mut k = j;
                while k > i + 1 {
                    if let Ok(g) = repl[i + 1..k].parse::<usize>()
                        && g < m.groups.len()
                    {
                        out.push_str(&m.group_value(g).unwrap_or_default());
                        i = k;
                        break;
                    }
                    k -= 1;
                }
                if k > i + 1 || i >= k {
                    continue;
                }
            }
        }
        let ch = repl[i..].chars().next().unwrap_or('$');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn replace(it: &mut Interp, c: &mut Call<'_>) -> Result<Value, Exception> {
    let (r, rest) = regex_and_args(c)?;
    let input = input_of(rest.first().unwrap_or(&Value::Null))?;
    let with = rest.get(1).cloned().unwrap_or(Value::Null);
    let matches = all_matches(&r, &input)?;
    let mut out = String::new();
    let mut last = 0;
    for m in matches {
        let (a, b) = m.groups[0].unwrap_or((last, last));
        out.push_str(&input[last..a]);
        let m = Rc::new(m);
        match &with {
            Value::Str(s) => out.push_str(&expand(&m, s)),
            Value::Obj(o) if matches!(**o, Obj::Func(..)) => {
                let v = it.invoke(&with, vec![Value::obj(Obj::Match(m.clone(), 0))])?;
                if let Value::Str(s) = v {
                    out.push_str(&s);
                }
            }
            _ => {}
        }
        last = b;
    }
    out.push_str(&input[last..]);
    Ok(Value::str(out))
}

fn this_match(c: &Call<'_>) -> Result<(Rc<MatchObj>, usize), Exception> {
    match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Match(m, g) => Ok((m.clone(), *g)),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    }
}

pub(crate) fn register(r: &mut Registry) {
    r.insert("Regex.new/*", |_, c| {
        let p = c.req_str(0)?;
        let opts = c
            .args
            .iter()
            .find_map(|a| {
                if let Value::Enum(_, v) = a {
                    Some(*v)
                } else {
                    None
                }
            })
            .unwrap_or(0);
        Ok(Value::obj(Obj::Regex(compile(&p, opts)?)))
    });
    r.insert("Regex.IsMatch/*", |_, c| {
        let (r, rest) = regex_and_args(c)?;
        let input = input_of(rest.first().unwrap_or(&Value::Null))?;
        Ok(Value::Bool(r.re.is_match(&input).map_err(|_| timeout())?))
    });
    r.insert("Regex.Match/*", |_, c| {
        let (r, rest) = regex_and_args(c)?;
        let input = input_of(rest.first().unwrap_or(&Value::Null))?;
        let start = rest.get(1).map_or(0, as_i64);
        let start = input
            .char_indices()
            .map(|(i, _)| i)
            .nth(start as usize)
            .unwrap_or(input.len().min(start as usize));
        let m = match_at(&r, &input, start)?.unwrap_or_else(|| failed(&input));
        Ok(Value::obj(Obj::Match(Rc::new(m), 0)))
    });
    r.insert("Regex.Matches/*", |_, c| {
        let (r, rest) = regex_and_args(c)?;
        let input = input_of(rest.first().unwrap_or(&Value::Null))?;
        let ms = all_matches(&r, &input)?
            .into_iter()
            .map(|m| Value::obj(Obj::Match(Rc::new(m), 0)))
            .collect();
        Ok(Value::obj(Obj::Matches(ms)))
    });
    r.insert("Regex.Replace/*", replace);
    r.insert("Regex.Split/*", |_, c| {
        let (r, rest) = regex_and_args(c)?;
        let input = input_of(rest.first().unwrap_or(&Value::Null))?;
        let mut parts = Vec::new();
        let mut last = 0;
        for m in all_matches(&r, &input)? {
            let (a, b) = m.groups[0].unwrap_or((last, last));
            parts.push(Value::str(&input[last..a]));
            for g in 1..m.groups.len() {
                if let Some(v) = m.group_value(g) {
                    parts.push(Value::str(v));
                }
            }
            last = b;
        }
        parts.push(Value::str(&input[last..]));
        Ok(Value::array(turnpike_ir::Ty::String, parts))
    });
    r.insert("Regex.Escape/*", |_, c| {
        let s = c.req_str(0)?;
        let mut out = String::new();
        for ch in s.chars() {
            match ch {
                '\\' | '*' | '+' | '?' | '|' | '{' | '[' | '(' | ')' | '^' | '$' | '.' | '#'
                | ' ' => {
                    out.push('\\');
                    out.push(if ch == ' ' { ' ' } else { ch });
                }
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\x0c' => out.push_str("\\f"),
                c => out.push(c),
            }
        }
        Ok(Value::str(out))
    });
    r.insert("Regex.Unescape/*", |_, c| {
        let s = c.req_str(0)?;
        let mut out = String::new();
        let mut it = s.chars();
        while let Some(ch) = it.next() {
            if ch == '\\' {
                match it.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(o) => out.push(o),
                    None => out.push('\\'),
                }
            } else {
                out.push(ch);
            }
        }
        Ok(Value::str(out))
    });
    // Match / Group / Capture
    for t in ["Match", "Group", "Capture"] {
        let k = |s: &str| -> &'static str { Box::leak(format!("{t}.{s}").into_boxed_str()) };
        r.insert(k("Success"), |_, c| {
            let (m, g) = this_match(c)?;
            Ok(Value::Bool(m.groups.get(g).copied().flatten().is_some()))
        });
        r.insert(k("Value"), |_, c| {
            let (m, g) = this_match(c)?;
            Ok(Value::str(m.group_value(g).unwrap_or_default()))
        });
        r.insert(k("Index"), |_, c| {
            let (m, g) = this_match(c)?;
            Ok(Value::Int(m.index16(g)))
        });
        r.insert(k("Length"), |_, c| {
            let (m, g) = this_match(c)?;
            Ok(Value::Int(
                len16(&m.group_value(g).unwrap_or_default()) as i32
            ))
        });
        r.insert(k("Name"), |_, c| {
            let (m, g) = this_match(c)?;
            Ok(Value::str(m.names.get(g).cloned().unwrap_or_default()))
        });
        r.insert(k("ToString/*"), |_, c| {
            let (m, g) = this_match(c)?;
            Ok(Value::str(m.group_value(g).unwrap_or_default()))
        });
    }
    r.insert("Match.Groups", |_, c| {
        let (m, _) = this_match(c)?;
        Ok(Value::obj(Obj::Groups(m)))
    });
    r.insert("Match.NextMatch/*", |_, c| {
        let (m, _) = this_match(c)?;
        let Some(re) = &m.regex else {
            return Ok(c.recv.clone());
        };
        let (a, b) = m.groups[0].unwrap_or((0, 0));
        let start = if a == b { next_char(&m.input, b) } else { b };
        if start > m.input.len() {
            return Ok(Value::obj(Obj::Match(Rc::new(failed(&m.input)), 0)));
        }
        let next = match_at(re, &m.input, start)?.unwrap_or_else(|| failed(&m.input));
        Ok(Value::obj(Obj::Match(Rc::new(next), 0)))
    });
    r.insert("Match.Empty", |_, _| {
        Ok(Value::obj(Obj::Match(Rc::new(failed(&Arc::from(""))), 0)))
    });
    r.insert("Match.Result/*", |_, c| {
        let (m, _) = this_match(c)?;
        let p = c.req_str(0)?;
        Ok(Value::str(expand(&m, &p)))
    });
    r.insert("GroupCollection.this/1", |_, c| {
        let Value::Obj(o) = &c.recv else {
            return Err(Exception::null_ref());
        };
        let Obj::Groups(m) = &**o else {
            return Err(Exception::null_ref());
        };
        let g = match c.arg(0) {
            Value::Str(s) => m.by_name(s),
            v => usize::try_from(as_i64(v))
                .ok()
                .filter(|g| *g < m.groups.len()),
        };
        Ok(match g {
            Some(g) => Value::obj(Obj::Match(m.clone(), g)),
            None => {
                // A group that does not exist is an unsuccessful group, as in .NET.
                let mut f = failed(&m.input);
                f.groups = vec![None];
                Value::obj(Obj::Match(Rc::new(f), 0))
            }
        })
    });
    r.insert("GroupCollection.Count", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Groups(m) => Ok(Value::Int(m.groups.len() as i32)),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    r.insert("MatchCollection.Count", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Matches(ms) => Ok(Value::Int(ms.len() as i32)),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    r.insert("MatchCollection.this/1", |_, c| match &c.recv {
        Value::Obj(o) => match &**o {
            Obj::Matches(ms) => usize::try_from(as_i64(c.arg(0)))
                .ok()
                .and_then(|i| ms.get(i).cloned())
                .ok_or_else(|| Exception::range("i")),
            _ => Err(Exception::null_ref()),
        },
        _ => Err(Exception::null_ref()),
    });
    let _ = units;
}

/// .NET's `$` (without `RegexOptions.Multiline`) also matches before a final `\n`.
fn dollar_before_final_newline(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str("(?=\\n?\\z)"),
            c => out.push(c),
        }
    }
    out
}
