//! The stable text form of the IR (`turnpike compile --emit ir`), described in
//! `spec/09-ir.md`: one statement per line, expressions as s-expressions with their type after
//! a colon.

use std::fmt::Write;

use crate::ir::{Body, Const, Conv, Expr, ExprKind, FmtPart, OpType, Place, Stmt};
use crate::library::Library;
use crate::ty::Ty;

/// Prints a body.
pub fn body(lib: &Library, body: &Body) -> String {
    let mut p = Printer {
        lib,
        out: String::new(),
        body,
    };
    let _ = writeln!(p.out, "body : {}", body.ty.display(lib));
    for (i, l) in body.locals.iter().enumerate() {
        let _ = writeln!(p.out, "  local %{i} {} : {}", l.name, l.ty.display(lib));
    }
    p.stmts(&body.block, 1);
    p.out
}

struct Printer<'a> {
    lib: &'a Library,
    out: String,
    body: &'a Body,
}

impl Printer<'_> {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn stmts(&mut self, stmts: &[Stmt], depth: usize) {
        for s in stmts {
            self.stmt(s, depth);
        }
    }

    fn stmt(&mut self, s: &Stmt, d: usize) {
        match s {
            Stmt::Expr(e) => {
                let t = self.expr(e);
                self.line(d, &format!("eval {t}"));
            }
            Stmt::Block(b) => {
                self.line(d, "block");
                self.stmts(b, d + 1);
            }
            Stmt::If(c, t, e) => {
                let c = self.expr(c);
                self.line(d, &format!("if {c}"));
                self.stmts(t, d + 1);
                if !e.is_empty() {
                    self.line(d, "else");
                    self.stmts(e, d + 1);
                }
            }
            Stmt::Loop {
                cond,
                body,
                step,
                do_while,
            } => {
                let c = cond.as_ref().map_or("true".to_string(), |c| self.expr(c));
                let kw = if *do_while { "do-while" } else { "loop" };
                self.line(d, &format!("{kw} {c}"));
                self.stmts(body, d + 1);
                if !step.is_empty() {
                    self.line(d, "step");
                    self.stmts(step, d + 1);
                }
            }
            Stmt::Foreach {
                var,
                collection,
                convert,
                body,
            } => {
                let c = self.expr(collection);
                self.line(d, &format!("foreach %{} in {c}", var.0));
                if let Some(conv) = convert {
                    let c = self.expr(conv);
                    self.line(d + 1, &format!("convert {c}"));
                }
                self.stmts(body, d + 1);
            }
            Stmt::Switch(e, tmp, arms) => {
                let e = self.expr(e);
                self.line(d, &format!("switch %{} = {e}", tmp.0));
                for arm in arms {
                    for l in &arm.labels {
                        match l {
                            Some(c) => {
                                let c = self.expr(c);
                                self.line(d + 1, &format!("case {c}"));
                            }
                            None => self.line(d + 1, "default"),
                        }
                    }
                    self.stmts(&arm.body, d + 2);
                }
            }
            Stmt::Return(e) => {
                let t = e.as_ref().map(|e| self.expr(e));
                self.line(
                    d,
                    &format!("return{}", t.map(|t| format!(" {t}")).unwrap_or_default()),
                );
            }
            Stmt::Break => self.line(d, "break"),
            Stmt::Continue => self.line(d, "continue"),
            Stmt::Throw(e) => {
                let t = e.as_ref().map(|e| self.expr(e));
                self.line(
                    d,
                    &format!("throw{}", t.map(|t| format!(" {t}")).unwrap_or_default()),
                );
            }
            Stmt::Try {
                body,
                catches,
                finally,
            } => {
                self.line(d, "try");
                self.stmts(body, d + 1);
                for c in catches {
                    let var = c.var.map(|v| format!(" %{}", v.0)).unwrap_or_default();
                    let filter = c
                        .filter
                        .as_ref()
                        .map(|f| format!(" when {}", self.expr(f)))
                        .unwrap_or_default();
                    self.line(d, &format!("catch {}{var}{filter}", c.ty));
                    self.stmts(&c.body, d + 1);
                }
                if !finally.is_empty() {
                    self.line(d, "finally");
                    self.stmts(finally, d + 1);
                }
            }
        }
    }

    fn ty(&self, t: &Ty) -> String {
        t.display(self.lib).to_string()
    }

    fn exprs(&mut self, es: &[Expr]) -> String {
        es.iter()
            .map(|e| self.expr(e))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn place(&mut self, p: &Place) -> String {
        match p {
            Place::Local(l) => format!("%{}", l.0),
            Place::Element { array, index } => {
                format!("(elem {} {})", self.expr(array), self.expr(index))
            }
            Place::Member { member, recv, args } => {
                let r = recv
                    .as_ref()
                    .map(|r| format!(" {}", self.expr(r)))
                    .unwrap_or_default();
                let a = self.exprs(args);
                let a = if a.is_empty() { a } else { format!(" {a}") };
                format!("(member {}{r}{a})", self.lib.member(*member).key)
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> String {
        let inner = match &e.kind {
            ExprKind::Const(c) => return format!("{}:{}", constant(c), self.ty(&e.ty)),
            ExprKind::Local(l) => {
                let name = self
                    .body
                    .locals
                    .get(l.0 as usize)
                    .map_or("?", |l| l.name.as_str());
                return format!("%{}:{}", l.0, if name.is_empty() { "?" } else { name });
            }
            ExprKind::Context => return "context".to_string(),
            ExprKind::Convert(c, x) => {
                let what = match c {
                    Conv::Numeric(a, b) => format!("numeric {}->{}", a.keyword(), b.keyword()),
                    Conv::CheckedNumeric(a, b) => {
                        format!("checked {}->{}", a.keyword(), b.keyword())
                    }
                    Conv::WrapNullable => "wrap".into(),
                    Conv::UnwrapNullable => "unwrap".into(),
                    Conv::Box => "box".into(),
                    Conv::Cast(t) => format!("cast {}", self.ty(t)),
                    Conv::Upcast => "upcast".into(),
                    Conv::User(m) => format!("user {}", self.lib.member(*m).key),
                    Conv::ToStringOrEmpty => "tostring".into(),
                };
                format!("convert {what} {}", self.expr(x))
            }
            ExprKind::Unary(op, p, x) => format!("{op:?}.{} {}", p.keyword(), self.expr(x)),
            ExprKind::Binary(op, t, a, b) => {
                let t = match t {
                    OpType::Prim(p) => p.keyword().to_string(),
                    OpType::Lifted(p) => format!("{}?", p.keyword()),
                    OpType::String => "string".into(),
                    OpType::Object => "object".into(),
                    OpType::Equals => "equals".into(),
                    OpType::LiftedBool => "bool?".into(),
                    OpType::Checked(p) => format!("checked.{}", p.keyword()),
                    OpType::Enum => "enum".into(),
                    OpType::Delegate => "delegate".into(),
                };
                format!("{}.{t} {} {}", op.token(), self.expr(a), self.expr(b))
            }
            ExprKind::Logical(and, a, b) => {
                format!(
                    "{} {} {}",
                    if *and { "&&" } else { "||" },
                    self.expr(a),
                    self.expr(b)
                )
            }
            ExprKind::Coalesce(a, b) => format!("?? {} {}", self.expr(a), self.expr(b)),
            ExprKind::Cond(c, a, b) => {
                format!("if {} {} {}", self.expr(c), self.expr(a), self.expr(b))
            }
            ExprKind::Call {
                member,
                type_args,
                recv,
                args,
            } => {
                let mut s = format!("call {}", self.lib.member(*member).key);
                if !type_args.is_empty() {
                    let t: Vec<String> = type_args.iter().map(|t| self.ty(t)).collect();
                    let _ = write!(s, " <{}>", t.join(", "));
                }
                if let Some(r) = recv {
                    let _ = write!(s, " {}", self.expr(r));
                }
                for a in args {
                    let _ = write!(s, " {}", self.expr(a));
                }
                s
            }
            ExprKind::Ref(p) => format!("ref {}", self.place(p)),
            ExprKind::Invoke(f, args) => format!("invoke {} {}", self.expr(f), self.exprs(args)),
            ExprKind::NullCond { recv, tmp, rest } => {
                format!("?. %{} = {} {}", tmp.0, self.expr(recv), self.expr(rest))
            }
            ExprKind::Element(a, i) => format!("elem {} {}", self.expr(a), self.expr(i)),
            ExprKind::Assign(p, v) => format!("set {} {}", self.place(p), self.expr(v)),
            ExprKind::IncDec {
                place,
                delta,
                prefix,
                prim,
            } => format!(
                "{}{}.{} {}",
                if *prefix { "pre" } else { "post" },
                if *delta > 0 { "inc" } else { "dec" },
                prim.keyword(),
                self.place(place)
            ),
            ExprKind::Compound { place, value, tmp } => {
                format!(
                    "update {} %{} {}",
                    self.place(place),
                    tmp.0,
                    self.expr(value)
                )
            }
            ExprKind::Lambda(l) => {
                let ps: Vec<String> = l.params.iter().map(|p| format!("%{}", p.0)).collect();
                let mut sub = Printer {
                    lib: self.lib,
                    out: String::new(),
                    body: self.body,
                };
                sub.stmts(&l.body, 0);
                let body = sub.out.trim_end().replace('\n', "; ");
                let caps = if l.captures.is_empty() {
                    String::new()
                } else {
                    format!(
                        " [{}]",
                        l.captures
                            .iter()
                            .map(|c| format!("%{}", c.0))
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                };
                format!(
                    "lambda ({}){caps} : {} {{ {body} }}",
                    ps.join(" "),
                    self.ty(&l.ret)
                )
            }
            ExprKind::NewArray(t, n) => format!("new-array {} {}", self.ty(t), self.expr(n)),
            ExprKind::ArrayInit(t, items) => {
                format!("array {} [{}]", self.ty(t), self.exprs(items))
            }
            ExprKind::NewAnonymous(fields) => {
                let f: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("{n}={}", self.expr(v)))
                    .collect();
                format!("anon {}", f.join(" "))
            }
            ExprKind::AnonymousField(x, i) => format!("field {i} {}", self.expr(x)),
            ExprKind::Is(x, t, bind) => {
                let b = bind.map(|b| format!(" %{}", b.0)).unwrap_or_default();
                format!("is {} {}{b}", self.ty(t), self.expr(x))
            }
            ExprKind::As(x, t) => format!("as {} {}", self.ty(t), self.expr(x)),
            ExprKind::Format(parts) => {
                let mut s = "format".to_string();
                for p in parts {
                    match p {
                        FmtPart::Text(t) => {
                            let _ = write!(s, " {t:?}");
                        }
                        FmtPart::Hole {
                            value,
                            align,
                            format,
                        } => {
                            let v = self.expr(value);
                            let a = align
                                .as_ref()
                                .map(|a| format!(",{}", self.expr(a)))
                                .unwrap_or_default();
                            let f = format
                                .as_ref()
                                .map(|f| format!(":{f:?}"))
                                .unwrap_or_default();
                            let _ = write!(s, " {{{v}{a}{f}}}");
                        }
                    }
                }
                s
            }
            ExprKind::Default(t) => format!("default {}", self.ty(t)),
            ExprKind::TypeOf(t) => format!("typeof {}", self.ty(t)),
            ExprKind::Throw(x) => format!("throw {}", self.expr(x)),
            ExprKind::Seq(stmts, x) => {
                let mut sub = Printer {
                    lib: self.lib,
                    out: String::new(),
                    body: self.body,
                };
                sub.stmts(stmts, 0);
                let s = sub.out.trim_end().replace('\n', "; ");
                format!("seq {{ {s} }} {}", self.expr(x))
            }
            ExprKind::Unsupported(what) => format!("unsupported {what:?}"),
        };
        format!("({inner}):{}", self.ty(&e.ty))
    }
}

fn constant(c: &Const) -> String {
    match c {
        Const::Null => "null".into(),
        Const::Bool(b) => b.to_string(),
        Const::Char(c) => format!("'\\u{c:04x}'"),
        Const::Int(v) => v.to_string(),
        Const::UInt(v) => format!("{v}u"),
        Const::Long(v) => format!("{v}L"),
        Const::ULong(v) => format!("{v}UL"),
        Const::Float(v) => format!("{v:?}f"),
        Const::Double(v) => format!("{v:?}d"),
        Const::Decimal(v) => format!("{v}m"),
        Const::String(s) => format!("{s:?}"),
        Const::Enum(v) => format!("enum {v}"),
    }
}
