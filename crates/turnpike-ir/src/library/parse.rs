//! Reads `library.api`: type headers at column 0, members indented by two spaces.

use std::collections::HashMap;

use super::{Library, Member, MemberId, MemberKind, Mode, Param, TypeDef, TypeId, TypeKind};
use crate::ty::{Prim, Ty};

struct Line<'a> {
    no: usize,
    text: &'a str,
}

pub(super) fn parse(text: &str) -> Result<Library, Vec<String>> {
    let mut errors = Vec::new();
    // Pass 1: type headers, so that signatures may name types declared later.
    let mut headers: Vec<(Line<'_>, Vec<Line<'_>>)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let no = i + 1;
        let line = strip_comment(raw);
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with("  ") {
            match headers.last_mut() {
                Some((_, members)) => members.push(Line {
                    no,
                    text: line.trim(),
                }),
                None => errors.push(format!("line {no}: member before any type")),
            }
        } else if line.starts_with(' ') {
            errors.push(format!("line {no}: members are indented by two spaces"));
        } else {
            headers.push((
                Line {
                    no,
                    text: line.trim(),
                },
                Vec::new(),
            ));
        }
    }
    let mut lib = Library {
        types: Vec::new(),
        members: Vec::new(),
        by_name: HashMap::new(),
        by_key: HashMap::new(),
        extensions: HashMap::new(),
        prim_types: HashMap::new(),
        string_type: None,
        object_type: None,
    };
    let mut base_texts = Vec::new();
    for (h, _) in &headers {
        match header(h.text) {
            Ok((def, bases)) => {
                let id = TypeId(lib.types.len() as u32);
                if let Some(p) = Prim::from_name(&def.name) {
                    lib.prim_types.insert(p, id);
                }
                match def.name.as_str() {
                    "string" => lib.string_type = Some(id),
                    "object" => lib.object_type = Some(id),
                    _ => {}
                }
                let arity = def.type_params.len();
                let names = [def.name.clone(), def.clr_name.clone()];
                lib.types.push(def);
                for (i, n) in names.iter().enumerate() {
                    if i == 1 && names[0] == names[1] {
                        break;
                    }
                    let taken = lib.by_name.get(n).is_some_and(|list| {
                        list.iter()
                            .any(|t| lib.types[t.0 as usize].type_params.len() == arity)
                    });
                    if taken {
                        if i == 0 {
                            errors.push(format!("line {}: type `{n}` declared twice", h.no));
                        }
                    } else {
                        lib.by_name.entry(n.clone()).or_default().push(id);
                    }
                }
                base_texts.push(bases);
            }
            Err(e) => {
                errors.push(format!("line {}: {e}", h.no));
                lib.types.push(TypeDef {
                    name: String::new(),
                    clr_name: String::new(),
                    namespace: String::new(),
                    kind: TypeKind::Class,
                    type_params: Vec::new(),
                    bases: Vec::new(),
                    members: Vec::new(),
                    enum_values: Vec::new(),
                });
                base_texts.push(Vec::new());
            }
        }
    }
    // Pass 2: bases and members.
    for (i, ((h, members), bases)) in headers.iter().zip(base_texts).enumerate() {
        let id = TypeId(i as u32);
        let params = lib.types[i].type_params.clone();
        let mut resolved = Vec::new();
        for b in bases {
            match type_ref(&lib, &b, &params, &[]) {
                Ok(t) => resolved.push(t),
                Err(e) => errors.push(format!("line {}: {e}", h.no)),
            }
        }
        lib.types[i].bases = resolved;
        for m in members {
            if let Err(e) = member(&mut lib, id, m.text) {
                errors.push(format!("line {}: {e}", m.no));
            }
        }
    }
    if errors.is_empty() {
        Ok(lib)
    } else {
        Err(errors)
    }
}

fn strip_comment(line: &str) -> &str {
    // `#` starts a comment unless inside a default string literal.
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return line[..i].trim_end(),
            _ => {}
        }
    }
    line.trim_end()
}

/// `<kind> Name<T> [in Ns] [as Clr] [: bases]`
fn header(text: &str) -> Result<(TypeDef, Vec<String>), String> {
    let (head, bases) = match split_top(text, ':') {
        Some((h, b)) => (h.trim(), split_commas(b.trim())),
        None => (text, Vec::new()),
    };
    let (kind, rest) = if let Some(r) = head.strip_prefix("static class ") {
        (TypeKind::StaticClass, r)
    } else if let Some(r) = head.strip_prefix("class ") {
        (TypeKind::Class, r)
    } else if let Some(r) = head.strip_prefix("struct ") {
        (TypeKind::Struct, r)
    } else if let Some(r) = head.strip_prefix("interface ") {
        (TypeKind::Interface, r)
    } else if let Some(r) = head.strip_prefix("enum ") {
        (TypeKind::Enum, r)
    } else if let Some(r) = head.strip_prefix("delegate ") {
        (TypeKind::Delegate, r)
    } else {
        return Err(format!("expected a type header, found `{text}`"));
    };
    let rest = rest.trim();
    let mut depth = 0i32;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            c if c.is_whitespace() && depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let (name_part, tail) = rest.split_at(end);
    if name_part.is_empty() {
        return Err("missing type name".into());
    }
    let mut words = tail.split_whitespace();
    let (name, type_params) = generic_name(name_part)?;
    let mut namespace = String::new();
    let mut clr_name = name.clone();
    while let Some(w) = words.next() {
        match w {
            "in" => {
                namespace = words
                    .next()
                    .ok_or("missing namespace after `in`")?
                    .to_string()
            }
            "as" => clr_name = words.next().ok_or("missing name after `as`")?.to_string(),
            other => return Err(format!("unexpected `{other}` in type header")),
        }
    }
    Ok((
        TypeDef {
            name,
            clr_name,
            namespace,
            kind,
            type_params,
            bases: Vec::new(),
            members: Vec::new(),
            enum_values: Vec::new(),
        },
        bases,
    ))
}

/// `Name<T, U>` into the name and the parameter names.
fn generic_name(text: &str) -> Result<(String, Vec<String>), String> {
    match text.find('<') {
        Some(i) => {
            let inner = text[i + 1..]
                .strip_suffix('>')
                .ok_or_else(|| format!("unclosed `<` in `{text}`"))?;
            let params = inner.split(',').map(|p| p.trim().to_string()).collect();
            Ok((text[..i].to_string(), params))
        }
        None => Ok((text.to_string(), Vec::new())),
    }
}

/// Splits at the first `sep` outside `<>` and `()`.
fn split_top(text: &str, sep: char) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            c if c == sep && depth == 0 => return Some((&text[..i], &text[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Splits a list at top-level commas.
fn split_commas(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '<' | '(' | '[' if !in_str => depth += 1,
            '>' | ')' | ']' if !in_str => depth -= 1,
            ',' if depth == 0 && !in_str => {
                out.push(text[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last.to_string());
    }
    out
}

/// Resolves a type written in a signature.
fn type_ref(
    lib: &Library,
    text: &str,
    tparams: &[String],
    mparams: &[String],
) -> Result<Ty, String> {
    let text = text.trim();
    if let Some(inner) = text.strip_suffix('?') {
        return Ok(Ty::Nullable(Box::new(type_ref(
            lib, inner, tparams, mparams,
        )?)));
    }
    if let Some(inner) = text.strip_suffix("[]") {
        return Ok(Ty::Array(Box::new(type_ref(lib, inner, tparams, mparams)?)));
    }
    let (name, args) = match text.find('<') {
        Some(i) => {
            let inner = text[i + 1..]
                .strip_suffix('>')
                .ok_or_else(|| format!("unclosed `<` in `{text}`"))?;
            let args = split_commas(inner)
                .iter()
                .map(|a| type_ref(lib, a, tparams, mparams))
                .collect::<Result<Vec<_>, _>>()?;
            (&text[..i], args)
        }
        None => (text, Vec::new()),
    };
    if args.is_empty() {
        if let Some(i) = tparams.iter().position(|p| p == name) {
            return Ok(Ty::Param(i as u16));
        }
        if let Some(i) = mparams.iter().position(|p| p == name) {
            return Ok(Ty::Param((tparams.len() + i) as u16));
        }
        match name {
            "void" => return Ok(Ty::Void),
            "string" => return Ok(Ty::String),
            "object" => return Ok(Ty::Object),
            _ => {}
        }
        if let Some(p) = Prim::ALL.into_iter().find(|p| p.keyword() == name) {
            return Ok(Ty::Prim(p));
        }
    }
    let id = lib
        .find_type(name, args.len())
        .ok_or_else(|| format!("unknown type `{text}`"))?;
    Ok(lib.ty_of_def(id, args))
}

fn member(lib: &mut Library, owner: TypeId, text: &str) -> Result<(), String> {
    let tparams = lib.ty(owner).type_params.clone();
    let def = lib.ty(owner);
    let overloaded = lib
        .types_named(&def.name)
        .iter()
        .filter(|t| lib.ty(**t).name == def.name)
        .count()
        > 1;
    let owner_name = if overloaded {
        format!("{}`{}", def.name, def.type_params.len())
    } else {
        def.name.clone()
    };
    if let Some(rest) = text.strip_prefix("value ") {
        let (name, value) = rest
            .split_once('=')
            .ok_or("enum values are written `value Name = 1`")?;
        let value =
            parse_int(value.trim()).ok_or_else(|| format!("bad enum value `{}`", value.trim()))?;
        lib.types[owner.0 as usize]
            .enum_values
            .push((name.trim().to_string(), value));
        return Ok(());
    }
    let mut rest = text;
    let mut is_static = false;
    if let Some(r) = rest.strip_prefix("static ") {
        is_static = true;
        rest = r;
    }
    let (kind, rest) = if let Some(r) = rest.strip_prefix("field ") {
        is_static = true;
        (MemberKind::Field, r)
    } else if let Some(r) = rest.strip_prefix("prop ") {
        (MemberKind::Property, r)
    } else if let Some(r) = rest.strip_prefix("new(") {
        (MemberKind::Constructor, r)
    } else if let Some(r) = rest.strip_prefix("index(") {
        (MemberKind::Indexer, r)
    } else if let Some(r) = rest.strip_prefix("method ") {
        (MemberKind::Method, r)
    } else if let Some(r) = rest.strip_prefix("ext method ") {
        is_static = true;
        (MemberKind::Extension, r)
    } else if let Some(r) = rest.strip_prefix("operator ") {
        is_static = true;
        let open = r.find('(').ok_or("operator without parameters")?;
        (
            MemberKind::Operator(r[..open].trim().to_string()),
            &r[open + 1..],
        )
    } else if let Some(r) = rest
        .strip_prefix("implicit operator ")
        .map(|r| (true, r))
        .or_else(|| rest.strip_prefix("explicit operator ").map(|r| (false, r)))
        .map(|(imp, r)| (MemberKind::Conversion { implicit: imp }, r))
    {
        is_static = true;
        r
    } else {
        return Err(format!("unknown member form `{text}`"));
    };
    let settable = rest.ends_with(" set");
    let rest = rest.strip_suffix(" set").unwrap_or(rest);
    let (name, mparams, params, ret) = match &kind {
        MemberKind::Field | MemberKind::Property => {
            let (name, ty) = rest.split_once(':').ok_or("expected `Name: Type`")?;
            let ty = type_ref(lib, ty, &tparams, &[])?;
            (name.trim().to_string(), Vec::new(), Vec::new(), ty)
        }
        MemberKind::Constructor => {
            let inner = rest.trim().strip_suffix(')').ok_or("expected `)`")?;
            let params = params_of(lib, inner, &tparams, &[])?;
            let args = (0..tparams.len() as u16).map(Ty::Param).collect();
            (
                "new".to_string(),
                Vec::new(),
                params,
                lib.ty_of_def(owner, args),
            )
        }
        MemberKind::Indexer | MemberKind::Operator(_) => {
            let (inner, ret) = rsplit_ret(rest)?;
            let params = params_of(lib, inner, &tparams, &[])?;
            let ret = type_ref(lib, ret, &tparams, &[])?;
            let name = match &kind {
                MemberKind::Operator(op) => format!("operator{op}"),
                _ => "this".to_string(),
            };
            (name, Vec::new(), params, ret)
        }
        MemberKind::Conversion { .. } => {
            let open = rest.find('(').ok_or("conversion without parameter")?;
            let target = type_ref(lib, &rest[..open], &tparams, &[])?;
            let inner = rest[open + 1..]
                .trim()
                .strip_suffix(')')
                .ok_or("expected `)`")?;
            let params = params_of(lib, inner, &tparams, &[])?;
            let name = if matches!(kind, MemberKind::Conversion { implicit: true }) {
                "implicit"
            } else {
                "explicit"
            };
            (name.to_string(), Vec::new(), params, target)
        }
        MemberKind::Method | MemberKind::Extension => {
            let open = rest.find('(').ok_or("method without parameters")?;
            let (name, mparams) = generic_name(rest[..open].trim())?;
            let (inner, ret) = rsplit_ret(&rest[open + 1..])?;
            let params = params_of(lib, inner, &tparams, &mparams)?;
            let ret = type_ref(lib, ret, &tparams, &mparams)?;
            (name, mparams, params, ret)
        }
    };
    let sig: Vec<String> = params.iter().map(|p| p.key_text.clone()).collect();
    let key = match &kind {
        MemberKind::Field | MemberKind::Property => format!("{owner_name}.{name}"),
        MemberKind::Indexer => format!("{owner_name}.this[{}]", sig.join(",")),
        MemberKind::Conversion { .. } => {
            format!("{owner_name}.{name} {}({})", ret_text(rest), sig.join(","))
        }
        _ if !mparams.is_empty() => {
            format!(
                "{owner_name}.{name}<{}>({})",
                mparams.join(","),
                sig.join(",")
            )
        }
        _ => format!("{owner_name}.{name}({})", sig.join(",")),
    };
    if lib.by_key.contains_key(&key) {
        return Err(format!("member `{key}` declared twice"));
    }
    let id = MemberId(lib.members.len() as u32);
    if kind == MemberKind::Extension {
        if params.first().map(|p| p.this) != Some(true) {
            return Err(format!("extension `{key}` needs a `this` receiver"));
        }
        lib.extensions.entry(name.clone()).or_default().push(id);
    }
    lib.by_key.insert(key.clone(), id);
    lib.members.push(Member {
        key,
        owner,
        name,
        kind,
        is_static,
        settable,
        type_params: mparams,
        params: params.into_iter().map(|p| p.param).collect(),
        ty: ret,
    });
    lib.types[owner.0 as usize].members.push(id);
    Ok(())
}

fn ret_text(rest: &str) -> String {
    rest[..rest.find('(').unwrap_or(0)].trim().to_string()
}

/// `a, b): Ret` into the parameter list and the return type.
fn rsplit_ret(rest: &str) -> Result<(&str, &str), String> {
    let close = rest.rfind("):").ok_or("expected `): Type`")?;
    Ok((&rest[..close], rest[close + 2..].trim()))
}

struct ParsedParam {
    param: Param,
    key_text: String,
    this: bool,
}

fn params_of(
    lib: &Library,
    inner: &str,
    tparams: &[String],
    mparams: &[String],
) -> Result<Vec<ParsedParam>, String> {
    let mut out = Vec::new();
    for p in split_commas(inner) {
        let (decl, default) = match split_top(&p, '=') {
            Some((d, v)) => (d.trim().to_string(), Some(v.trim().to_string())),
            None => (p.clone(), None),
        };
        let mut words: Vec<&str> = decl.split_whitespace().collect();
        let mut mode = Mode::Value;
        let mut this = false;
        let mut prefix = String::new();
        loop {
            match words.first().copied() {
                Some("out") => {
                    mode = Mode::Out;
                    prefix = "out ".into();
                }
                Some("ref") => {
                    mode = Mode::Ref;
                    prefix = "ref ".into();
                }
                Some("in") => {}
                Some("params") => mode = Mode::Params,
                Some("this") => this = true,
                _ => break,
            }
            words.remove(0);
        }
        if words.len() < 2 {
            return Err(format!("parameter `{p}` needs a type and a name"));
        }
        let name = words.pop().unwrap_or_default().to_string();
        let ty_text = words.join(" ");
        let ty = type_ref(lib, &ty_text, tparams, mparams)?;
        if mode == Mode::Params && !matches!(ty, Ty::Array(_)) {
            return Err(format!("`params` parameter `{name}` must be an array"));
        }
        out.push(ParsedParam {
            param: Param {
                name,
                ty,
                mode,
                default,
            },
            key_text: format!("{prefix}{}", ty_text.replace(' ', "")),
            this,
        });
    }
    Ok(out)
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else {
        text.parse().ok()
    }
}
