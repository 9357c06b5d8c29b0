//! Prints an AST back as C# source. Parsing the printed text gives back the same tree (spans
//! aside): the tree keeps parentheses and literals as written, so printing needs no
//! precedence decisions of its own.

use std::fmt::Write as _;

use crate::ast::*;
use crate::tree::ExprBody;

/// Prints the body of a policy expression as `@(...)` or `@{...}`.
pub fn print_body(body: &ExprBody) -> String {
    let mut p = Printer::default();
    match body {
        ExprBody::Expr(e) => {
            p.out.push_str("@(");
            p.expr(e);
            p.out.push(')');
        }
        ExprBody::Block(b) => {
            p.out.push('@');
            p.block(b);
        }
    }
    p.out
}

/// Prints one expression.
pub fn print_expr(e: &Expr) -> String {
    let mut p = Printer::default();
    p.expr(e);
    p.out
}

/// Prints one type.
pub fn print_type(t: &TypeRef) -> String {
    let mut p = Printer::default();
    p.ty(t);
    p.out
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
}

impl Printer {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
    }

    fn list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            f(self, item);
        }
    }

    fn ident(&mut self, i: &Ident) {
        if is_reserved(&i.name) {
            self.out.push('@');
        }
        self.push(&i.name);
    }

    fn ty(&mut self, t: &TypeRef) {
        match &t.kind {
            TypeKind::Predefined(n) => self.push(n),
            TypeKind::Named(segs) => {
                for (i, s) in segs.iter().enumerate() {
                    if i > 0 {
                        self.out.push('.');
                    }
                    self.ident(&s.name);
                    self.type_args(&s.args);
                }
            }
            TypeKind::Nullable(inner) => {
                self.ty(inner);
                self.out.push('?');
            }
            TypeKind::Array(inner, rank) => {
                self.ty(inner);
                self.rank(*rank);
            }
        }
    }

    fn rank(&mut self, rank: u8) {
        self.out.push('[');
        for _ in 1..rank {
            self.out.push(',');
        }
        self.out.push(']');
    }

    fn type_args(&mut self, args: &[TypeRef]) {
        if !args.is_empty() {
            self.out.push('<');
            self.list(args, |p, t| p.ty(t));
            self.out.push('>');
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Literal(l) => self.literal(l),
            ExprKind::Interpolated { prefix, parts, .. } => {
                self.push(prefix);
                for part in parts {
                    match part {
                        InterpPart::Text { raw, .. } => self.push(raw),
                        InterpPart::Hole {
                            expr,
                            align,
                            format,
                        } => {
                            self.out.push('{');
                            self.expr(expr);
                            if let Some(a) = align {
                                self.push(", ");
                                self.expr(a);
                            }
                            if let Some(f) = format {
                                self.out.push(':');
                                self.push(f);
                            }
                            self.out.push('}');
                        }
                    }
                }
                self.out.push('"');
            }
            ExprKind::NamedValue(n) => {
                let _ = write!(self.out, "{{{{{n}}}}}");
            }
            ExprKind::Name { name, type_args } => {
                self.ident(name);
                self.type_args(type_args);
            }
            ExprKind::PredefinedType(n) => self.push(n),
            ExprKind::Member {
                target,
                name,
                type_args,
                null_conditional,
            } => {
                self.expr(target);
                self.push(if *null_conditional { "?." } else { "." });
                self.ident(name);
                self.type_args(type_args);
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                self.out.push('(');
                self.args(args);
                self.out.push(')');
            }
            ExprKind::Index {
                target,
                args,
                null_conditional,
            } => {
                self.expr(target);
                self.push(if *null_conditional { "?[" } else { "[" });
                self.args(args);
                self.out.push(']');
            }
            ExprKind::Unary { op, operand } => {
                let tok = match op {
                    UnaryOp::Plus => "+",
                    UnaryOp::Minus => "-",
                    UnaryOp::Not => "!",
                    UnaryOp::BitNot => "~",
                    UnaryOp::PreIncrement => "++",
                    UnaryOp::PreDecrement => "--",
                };
                self.push(tok);
                let start = self.out.len();
                self.expr(operand);
                // `- -x` must not become `--x`.
                let first = self.out[start..].chars().next();
                if matches!(
                    (tok.chars().last(), first),
                    (Some('-'), Some('-')) | (Some('+'), Some('+'))
                ) {
                    self.out.insert(start, ' ');
                }
            }
            ExprKind::Postfix { op, operand } => {
                self.expr(operand);
                self.push(match op {
                    PostfixOp::Increment => "++",
                    PostfixOp::Decrement => "--",
                });
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.expr(lhs);
                self.out.push(' ');
                self.push(op.as_str());
                self.out.push(' ');
                self.expr(rhs);
            }
            ExprKind::Assign { op, target, value } => {
                self.expr(target);
                self.out.push(' ');
                self.push(&op.as_str());
                self.out.push(' ');
                self.expr(value);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.push(" ? ");
                self.expr(then);
                self.push(" : ");
                self.expr(otherwise);
            }
            ExprKind::Cast { ty, operand } => {
                self.out.push('(');
                self.ty(ty);
                self.out.push(')');
                self.expr(operand);
            }
            ExprKind::Is { operand, pattern } => {
                self.expr(operand);
                self.push(" is ");
                self.pattern(pattern);
            }
            ExprKind::As { operand, ty } => {
                self.expr(operand);
                self.push(" as ");
                self.ty(ty);
            }
            ExprKind::Lambda { params, body } => {
                match params.as_slice() {
                    [LambdaParam { ty: None, name }] => self.ident(name),
                    _ => {
                        self.out.push('(');
                        self.list(params, |p, lp| {
                            if let Some(t) = &lp.ty {
                                p.ty(t);
                                p.out.push(' ');
                            }
                            p.ident(&lp.name);
                        });
                        self.out.push(')');
                    }
                }
                self.push(" => ");
                match body {
                    LambdaBody::Expr(e) => self.expr(e),
                    LambdaBody::Block(b) => self.block(b),
                }
            }
            ExprKind::New(n) => self.new_expr(n),
            ExprKind::Paren(inner) => {
                self.out.push('(');
                self.expr(inner);
                self.out.push(')');
            }
            ExprKind::TypeOf(t) => {
                self.push("typeof(");
                self.ty(t);
                self.out.push(')');
            }
            ExprKind::Default(t) => {
                self.push("default");
                if let Some(t) = t {
                    self.out.push('(');
                    self.ty(t);
                    self.out.push(')');
                }
            }
            ExprKind::Checked(e) => self.call_like("checked", e),
            ExprKind::Unchecked(e) => self.call_like("unchecked", e),
            ExprKind::NameOf(e) => self.call_like("nameof", e),
            ExprKind::Throw(e) => {
                self.push("throw ");
                self.expr(e);
            }
            ExprKind::This => self.push("this"),
        }
    }

    fn call_like(&mut self, kw: &str, e: &Expr) {
        self.push(kw);
        self.out.push('(');
        self.expr(e);
        self.out.push(')');
    }

    fn literal(&mut self, l: &Literal) {
        match l {
            Literal::Integer(raw) | Literal::Real(raw) => self.push(raw),
            Literal::Char { raw, .. } | Literal::String { raw, .. } => self.push(raw),
            Literal::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Literal::Null => self.push("null"),
        }
    }

    fn pattern(&mut self, p: &Pattern) {
        match p {
            Pattern::Constant(e) => self.expr(e),
            Pattern::Type { ty, binding } => {
                self.ty(ty);
                if let Some(b) = binding {
                    self.out.push(' ');
                    self.ident(b);
                }
            }
            Pattern::Not(inner) => {
                self.push("not ");
                self.pattern(inner);
            }
        }
    }

    fn args(&mut self, args: &[Arg]) {
        self.list(args, |p, a| {
            if let Some(n) = &a.name {
                p.ident(n);
                p.push(": ");
            }
            p.push(match a.modifier {
                ArgModifier::None => "",
                ArgModifier::Out => "out ",
                ArgModifier::Ref => "ref ",
                ArgModifier::In => "in ",
            });
            match &a.value {
                ArgValue::Expr(e) => p.expr(e),
                ArgValue::OutDecl { ty, name } => {
                    p.ty(ty);
                    p.out.push(' ');
                    p.ident(name);
                }
            }
        });
    }

    fn new_expr(&mut self, n: &New) {
        self.push("new ");
        match n {
            New::Object { ty, args, init } => {
                self.ty(ty);
                if let Some(args) = args {
                    self.out.push('(');
                    self.args(args);
                    self.out.push(')');
                }
                if let Some(init) = init {
                    self.out.push(' ');
                    self.object_init(init);
                }
            }
            New::Array {
                element,
                sizes,
                ranks,
                init,
            } => {
                self.ty(element);
                let mut rest = ranks.as_slice();
                if !sizes.is_empty() {
                    self.out.push('[');
                    self.list(sizes, |p, e| p.expr(e));
                    self.out.push(']');
                    rest = ranks.get(1..).unwrap_or(&[]);
                }
                for r in rest {
                    self.rank(*r);
                }
                if let Some(init) = init {
                    self.out.push(' ');
                    self.array_init(init);
                }
            }
            New::ImplicitArray { rank, init } => {
                self.rank(*rank);
                self.out.push(' ');
                self.array_init(init);
            }
            New::Anonymous(members) => {
                self.push("{ ");
                self.list(members, |p, m| {
                    if let Some(n) = &m.name {
                        p.ident(n);
                        p.push(" = ");
                    }
                    p.expr(&m.value);
                });
                self.push(" }");
            }
        }
    }

    fn array_init(&mut self, init: &[VarInit]) {
        self.push("{ ");
        self.list(init, |p, v| match v {
            VarInit::Expr(e) => p.expr(e),
            VarInit::Nested(inner) => p.array_init(inner),
        });
        self.push(" }");
    }

    fn object_init(&mut self, init: &[InitElement]) {
        self.push("{ ");
        self.list(init, |p, el| match el {
            InitElement::Member { name, value } => {
                p.ident(name);
                p.push(" = ");
                p.init_value(value);
            }
            InitElement::Indexer { args, value } => {
                p.out.push('[');
                p.args(args);
                p.push("] = ");
                p.init_value(value);
            }
            InitElement::List(es) => {
                p.push("{ ");
                p.list(es, |p, e| p.expr(e));
                p.push(" }");
            }
            InitElement::Expr(e) => p.expr(e),
        });
        self.push(" }");
    }

    fn init_value(&mut self, v: &InitValue) {
        match v {
            InitValue::Expr(e) => self.expr(e),
            InitValue::Nested(init) => self.object_init(init),
        }
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, b: &Block) {
        self.out.push('{');
        self.indent += 1;
        for s in &b.stmts {
            self.newline();
            self.stmt(s);
        }
        self.indent -= 1;
        self.newline();
        self.out.push('}');
    }

    fn local_decl(&mut self, d: &LocalDecl) {
        if d.is_const {
            self.push("const ");
        }
        self.ty(&d.ty);
        self.out.push(' ');
        self.list(&d.vars, |p, v| {
            p.ident(&v.name);
            if let Some(init) = &v.init {
                p.push(" = ");
                match init {
                    VarInit::Expr(e) => p.expr(e),
                    VarInit::Nested(i) => p.array_init(i),
                }
            }
        });
    }

    fn embedded(&mut self, s: &Stmt) {
        if let StmtKind::Block(b) = &s.kind {
            self.out.push(' ');
            self.block(b);
        } else {
            self.indent += 1;
            self.newline();
            self.stmt(s);
            self.indent -= 1;
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Block(b) => self.block(b),
            StmtKind::Empty => self.out.push(';'),
            StmtKind::Declaration(d) => {
                self.local_decl(d);
                self.out.push(';');
            }
            StmtKind::Expr(e) => {
                self.expr(e);
                self.out.push(';');
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.push("if (");
                self.expr(cond);
                self.out.push(')');
                self.embedded(then);
                if let Some(o) = otherwise {
                    self.newline();
                    self.push("else");
                    if let StmtKind::If { .. } = o.kind {
                        self.out.push(' ');
                        self.stmt(o);
                    } else {
                        self.embedded(o);
                    }
                }
            }
            StmtKind::While { cond, body } => {
                self.push("while (");
                self.expr(cond);
                self.out.push(')');
                self.embedded(body);
            }
            StmtKind::Do { body, cond } => {
                self.push("do");
                self.embedded(body);
                self.newline();
                self.push("while (");
                self.expr(cond);
                self.push(");");
            }
            StmtKind::For {
                init,
                cond,
                iter,
                body,
            } => {
                self.push("for (");
                match init {
                    Some(ForInit::Declaration(d)) => self.local_decl(d),
                    Some(ForInit::Exprs(es)) => self.list(es, |p, e| p.expr(e)),
                    None => {}
                }
                self.push("; ");
                if let Some(c) = cond {
                    self.expr(c);
                }
                self.push("; ");
                self.list(iter, |p, e| p.expr(e));
                self.out.push(')');
                self.embedded(body);
            }
            StmtKind::Foreach {
                ty,
                name,
                expr,
                body,
            } => {
                self.push("foreach (");
                self.ty(ty);
                self.out.push(' ');
                self.ident(name);
                self.push(" in ");
                self.expr(expr);
                self.out.push(')');
                self.embedded(body);
            }
            StmtKind::Switch { expr, sections } => {
                self.push("switch (");
                self.expr(expr);
                self.push(") {");
                self.indent += 1;
                for sec in sections {
                    for l in &sec.labels {
                        self.newline();
                        match l {
                            SwitchLabel::Default(_) => self.push("default:"),
                            SwitchLabel::Case { pattern, guard, .. } => {
                                self.push("case ");
                                self.pattern(pattern);
                                if let Some(g) = guard {
                                    self.push(" when ");
                                    self.expr(g);
                                }
                                self.out.push(':');
                            }
                        }
                    }
                    self.indent += 1;
                    for st in &sec.stmts {
                        self.newline();
                        self.stmt(st);
                    }
                    self.indent -= 1;
                }
                self.indent -= 1;
                self.newline();
                self.out.push('}');
            }
            StmtKind::Return(e) | StmtKind::Throw(e) => {
                self.push(if matches!(s.kind, StmtKind::Return(_)) {
                    "return"
                } else {
                    "throw"
                });
                if let Some(e) = e {
                    self.out.push(' ');
                    self.expr(e);
                }
                self.out.push(';');
            }
            StmtKind::Using { resource, body } => {
                self.push("using (");
                match resource {
                    ForInit::Declaration(d) => self.local_decl(d),
                    ForInit::Exprs(es) => self.list(es, |p, e| p.expr(e)),
                }
                self.out.push(')');
                self.embedded(body);
            }
            StmtKind::LocalFunction(f) => {
                match &f.returns {
                    Some(t) => self.ty(t),
                    None => self.push("void"),
                }
                self.out.push(' ');
                self.ident(&f.name);
                self.out.push('(');
                self.list(&f.params, |p, prm| {
                    p.push(match prm.modifier {
                        ArgModifier::None => "",
                        ArgModifier::Out => "out ",
                        ArgModifier::Ref => "ref ",
                        ArgModifier::In => "in ",
                    });
                    p.ty(&prm.ty);
                    p.out.push(' ');
                    p.ident(&prm.name);
                    if let Some(d) = &prm.default {
                        p.push(" = ");
                        p.expr(d);
                    }
                });
                self.push(") ");
                match &f.body {
                    LambdaBody::Block(b) => self.block(b),
                    LambdaBody::Expr(e) => {
                        self.push("=> ");
                        self.expr(e);
                        self.out.push(';');
                    }
                }
            }
            StmtKind::Break => self.push("break;"),
            StmtKind::Continue => self.push("continue;"),
            StmtKind::Try {
                body,
                catches,
                finally,
            } => {
                self.push("try ");
                self.block(body);
                for c in catches {
                    self.newline();
                    self.push("catch");
                    if let Some(t) = &c.ty {
                        self.push(" (");
                        self.ty(t);
                        if let Some(n) = &c.name {
                            self.out.push(' ');
                            self.ident(n);
                        }
                        self.out.push(')');
                    }
                    if let Some(f) = &c.filter {
                        self.push(" when (");
                        self.expr(f);
                        self.out.push(')');
                    }
                    self.out.push(' ');
                    self.block(&c.body);
                }
                if let Some(f) = finally {
                    self.newline();
                    self.push("finally ");
                    self.block(f);
                }
            }
        }
    }
}

/// C# keywords, which need `@` to be used as identifiers.
fn is_reserved(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "abstract",
        "as",
        "base",
        "bool",
        "break",
        "byte",
        "case",
        "catch",
        "char",
        "checked",
        "class",
        "const",
        "continue",
        "decimal",
        "default",
        "delegate",
        "do",
        "double",
        "else",
        "enum",
        "event",
        "explicit",
        "extern",
        "false",
        "finally",
        "fixed",
        "float",
        "for",
        "foreach",
        "goto",
        "if",
        "implicit",
        "in",
        "int",
        "interface",
        "internal",
        "is",
        "lock",
        "long",
        "namespace",
        "new",
        "null",
        "object",
        "operator",
        "out",
        "override",
        "params",
        "private",
        "protected",
        "public",
        "readonly",
        "ref",
        "return",
        "sbyte",
        "sealed",
        "short",
        "sizeof",
        "stackalloc",
        "static",
        "string",
        "struct",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "uint",
        "ulong",
        "unchecked",
        "unsafe",
        "ushort",
        "using",
        "virtual",
        "void",
        "volatile",
        "while",
    ];
    KEYWORDS.contains(&name)
}
