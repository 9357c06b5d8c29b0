//! The typed IR: what the checker produces and the engines run.
//!
//! Every name is resolved (locals to slots, members to library ids), every implicit
//! conversion is explicit, every operator knows its operand type, and `x?.y` is spelled out.
//! Nothing here refers to the syntax tree except spans, so an engine needs only this module
//! and the library.

use std::sync::Arc;

use turnpike_diagnostics::Span;

use crate::library::MemberId;
use crate::ty::{Prim, Ty};

/// Index of a local slot in a [`Body`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// A compiled expression or `@{ }` block.
#[derive(Clone, Debug)]
pub struct Body {
    /// Every local slot: variables, lambda parameters, temporaries.
    pub locals: Vec<Local>,
    /// The code. An expression `@( e )` is `return e;`.
    pub block: Vec<Stmt>,
    /// The type of the value it returns.
    pub ty: Ty,
}

/// A local slot.
#[derive(Clone, Debug)]
pub struct Local {
    /// The name as written (temporaries start with `$`).
    pub name: String,
    /// Its type.
    pub ty: Ty,
}

/// A constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A UTF-16 code unit.
    Char(u16),
    /// `int`
    Int(i32),
    /// `uint`
    UInt(u32),
    /// `long`
    Long(i64),
    /// `ulong`
    ULong(u64),
    /// `float`
    Float(f32),
    /// `double`
    Double(f64),
    /// `decimal`, as its invariant text (`1.50`).
    Decimal(String),
    /// `string`
    String(Arc<str>),
    /// A value of an enum type.
    Enum(i64),
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it does.
    pub kind: ExprKind,
    /// Its static type.
    pub ty: Ty,
    /// Where it comes from.
    pub span: Span,
}

/// How a value changes type.
#[derive(Clone, Debug, PartialEq)]
pub enum Conv {
    /// Between predefined value types (`unchecked` for integers, as C#'s default).
    Numeric(Prim, Prim),
    /// Between predefined value types in a `checked` context: out of range throws.
    CheckedNumeric(Prim, Prim),
    /// `T` to `T?`.
    WrapNullable,
    /// `T?` to `T` (`InvalidOperationException` on null).
    UnwrapNullable,
    /// A value type to `object` or an interface.
    Box,
    /// `object` (or a base) to a type, checked at run time (`InvalidCastException`).
    Cast(Ty),
    /// A reference conversion known to succeed.
    Upcast,
    /// A user-defined conversion operator.
    User(MemberId),
    /// A value to `string` with `ToString()`, null to `""` (string concatenation and string
    /// attributes).
    ToStringOrEmpty,
}

/// Arithmetic, bitwise and comparison operators, typed by their operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl BinOp {
    /// The C# token.
    pub fn token(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::And => "&",
            BinOp::Or => "|",
            BinOp::Xor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }

    /// Whether the result is `bool` whatever the operands.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

/// What the operands of a [`BinOp`] are.
#[derive(Clone, Debug, PartialEq)]
pub enum OpType {
    /// Both of this predefined type (after promotion).
    Prim(Prim),
    /// Both `T?` of this predefined type: lifted (null propagates; comparisons give false).
    Lifted(Prim),
    /// `string + string` (concatenation) or `string == string` (ordinal).
    String,
    /// Reference equality: boxed values are never equal, strings compare by value.
    Object,
    /// `object.Equals(a, b)`: value equality for boxed values (patterns, `case`).
    Equals,
    /// `bool?` with C#'s three-valued `&`, `|` and lifted `==`.
    LiftedBool,
    /// Integer arithmetic in a `checked` context: overflow throws.
    Checked(Prim),
    /// Values of an enum type (compared as integers).
    Enum,
    /// `Delegate` values (`==` only).
    Delegate,
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `-x` in a `checked` context.
    CheckedNeg,
    /// `!x`
    Not,
    /// `~x`
    BitNot,
}

/// Something that can be assigned.
#[derive(Clone, Debug)]
pub enum Place {
    /// A local slot.
    Local(LocalId),
    /// `array[index]`.
    Element {
        /// The array.
        array: Box<Expr>,
        /// The index (`int`).
        index: Box<Expr>,
    },
    /// A settable property or indexer.
    Member {
        /// The property or indexer.
        member: MemberId,
        /// The instance (none for static).
        recv: Option<Box<Expr>>,
        /// Indexer arguments.
        args: Vec<Expr>,
    },
}

/// A piece of an interpolated string.
#[derive(Clone, Debug)]
pub enum FmtPart {
    /// Literal text.
    Text(Arc<str>),
    /// A hole: the value, its alignment and format string.
    Hole {
        /// The value (boxed to `object` if needed).
        value: Expr,
        /// `,align`
        align: Option<Box<Expr>>,
        /// `:format`
        format: Option<Arc<str>>,
    },
}

/// The forms of an expression.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A constant.
    Const(Const),
    /// A local slot.
    Local(LocalId),
    /// The implicit `context`.
    Context,
    /// A conversion.
    Convert(Conv, Box<Expr>),
    /// A prefix operator on a predefined type.
    Unary(UnOp, Prim, Box<Expr>),
    /// A binary operator.
    Binary(BinOp, OpType, Box<Expr>, Box<Expr>),
    /// `&&` (`true`) or `||` (`false`).
    Logical(bool, Box<Expr>, Box<Expr>),
    /// `a ?? b` (`b` already converted to the result type).
    Coalesce(Box<Expr>, Box<Expr>),
    /// `c ? a : b`
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// A library member: method, property, field, indexer, constructor, operator.
    /// Extension methods take the receiver as the first argument.
    Call {
        /// Which member.
        member: MemberId,
        /// Type arguments: the type's, then the method's.
        type_args: Vec<Ty>,
        /// The instance for instance members.
        recv: Option<Box<Expr>>,
        /// Arguments, after defaults and `params` packing; `out`/`ref` arguments are
        /// [`ExprKind::Ref`].
        args: Vec<Expr>,
    },
    /// An `out` or `ref` argument: the place the callee writes.
    Ref(Box<Place>),
    /// Calls a delegate value (a lambda in a local).
    Invoke(Box<Expr>, Vec<Expr>),
    /// `recv?.rest`: evaluates `recv` into `tmp`; null gives null, otherwise `rest`.
    NullCond {
        /// The receiver.
        recv: Box<Expr>,
        /// The slot that holds it.
        tmp: LocalId,
        /// The access, reading `tmp`.
        rest: Box<Expr>,
    },
    /// Reads `array[index]`.
    Element(Box<Expr>, Box<Expr>),
    /// `place = value`; the value of the expression is the stored value.
    Assign(Box<Place>, Box<Expr>),
    /// `++x`, `x--`, ... on a numeric place.
    IncDec {
        /// The place.
        place: Box<Place>,
        /// +1 or -1.
        delta: i8,
        /// Whether the expression's value is the new one (prefix).
        prefix: bool,
        /// The numeric type.
        prim: Prim,
    },
    /// `x += e` and friends: `place = place op value`, with the operator already typed.
    Compound {
        /// The place.
        place: Box<Place>,
        /// The operation, reading the place's current value through `Local(tmp)`.
        value: Box<Expr>,
        /// Slot the current value is loaded into.
        tmp: LocalId,
    },
    /// A lambda.
    Lambda(Arc<Lambda>),
    /// `new T[len]`.
    NewArray(Ty, Box<Expr>),
    /// `new T[] { ... }`.
    ArrayInit(Ty, Vec<Expr>),
    /// `new { a = 1, b = x }`
    NewAnonymous(Vec<(Arc<str>, Expr)>),
    /// A property of an anonymous object, by position.
    AnonymousField(Box<Expr>, u32),
    /// `e is T` (with an optional binding).
    Is(Box<Expr>, Ty, Option<LocalId>),
    /// `e as T`.
    As(Box<Expr>, Ty),
    /// An interpolated string.
    Format(Vec<FmtPart>),
    /// `default(T)`.
    Default(Ty),
    /// `typeof(T)`.
    TypeOf(Ty),
    /// `throw e` as an expression.
    Throw(Box<Expr>),
    /// Evaluates statements, then the expression (used for initializers).
    Seq(Vec<Stmt>, Box<Expr>),
    /// A construct the engines cannot run yet: throws `NotSupportedException`.
    Unsupported(Arc<str>),
}

/// A lambda or local function.
#[derive(Clone, Debug)]
pub struct Lambda {
    /// Parameter slots.
    pub params: Vec<LocalId>,
    /// The body.
    pub body: Vec<Stmt>,
    /// What it returns (`Void` for none).
    pub ret: Ty,
    /// Outer locals declared inside a loop body that the lambda reads: C# gives each loop
    /// iteration its own variable, so their values are taken when the lambda is created.
    pub captures: Vec<LocalId>,
}

/// A statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// An expression evaluated for its effect.
    Expr(Expr),
    /// `{ ... }`
    Block(Vec<Stmt>),
    /// `if`
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `while (c) body` — also `for`, with `step` run after the body and on `continue`.
    Loop {
        /// Checked before each iteration (none: forever).
        cond: Option<Expr>,
        /// The body.
        body: Vec<Stmt>,
        /// Run after each iteration.
        step: Vec<Stmt>,
        /// `do { } while`: the first iteration skips the check.
        do_while: bool,
    },
    /// `foreach (var x in e)`.
    Foreach {
        /// The loop variable.
        var: LocalId,
        /// The collection.
        collection: Expr,
        /// Converts each element to the variable's type, reading `Local(var)`.
        convert: Option<Expr>,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `switch`: sections tried in order; a label matches when its pattern does.
    Switch(Expr, LocalId, Vec<SwitchArm>),
    /// `return e;`
    Return(Option<Expr>),
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `throw e;` (`None`: rethrow in a catch).
    Throw(Option<Expr>),
    /// `try` / `catch` / `finally`.
    Try {
        /// Protected statements.
        body: Vec<Stmt>,
        /// Handlers.
        catches: Vec<Catch>,
        /// Always run.
        finally: Vec<Stmt>,
    },
}

/// One section of a `switch`.
#[derive(Clone, Debug)]
pub struct SwitchArm {
    /// Conditions reading the governing value's slot; `None` is `default:`.
    pub labels: Vec<Option<Expr>>,
    /// Statements.
    pub body: Vec<Stmt>,
}

/// A `catch` clause.
#[derive(Clone, Debug)]
pub struct Catch {
    /// The exception type's simple name (`Exception` catches everything).
    pub ty: Arc<str>,
    /// The variable.
    pub var: Option<LocalId>,
    /// The `when` filter.
    pub filter: Option<Expr>,
    /// The handler.
    pub body: Vec<Stmt>,
}

/// What [`walk`] calls back: every local slot a statement list reads or writes, and every
/// expression, outermost first (lambda bodies included).
pub trait Visitor {
    /// A local slot read or written.
    fn local(&mut self, _l: LocalId) {}
    /// An expression, before its operands.
    fn expr(&mut self, _e: &Expr) {}
}

/// Visits a statement list (lambda bodies included).
pub fn walk(stmts: &[Stmt], f: &mut impl Visitor) {
    for s in stmts {
        stmt_locals(s, f);
    }
}

/// Calls `f` for every local slot a statement list reads or writes (lambdas included).
pub fn for_each_local(stmts: &[Stmt], f: &mut impl FnMut(LocalId)) {
    struct Locals<F>(F);
    impl<F: FnMut(LocalId)> Visitor for Locals<F> {
        fn local(&mut self, l: LocalId) {
            (self.0)(l);
        }
    }
    walk(stmts, &mut Locals(f));
}

/// Calls `f` for every local slot an expression reads or writes (lambdas included).
pub fn for_each_local_in(e: &Expr, f: &mut impl FnMut(LocalId)) {
    struct Locals<F>(F);
    impl<F: FnMut(LocalId)> Visitor for Locals<F> {
        fn local(&mut self, l: LocalId) {
            (self.0)(l);
        }
    }
    expr_locals(e, &mut Locals(f));
}

/// Whether a statement list has an expression for which `pred` holds.
pub fn any_expr(stmts: &[Stmt], pred: impl Fn(&Expr) -> bool) -> bool {
    struct Any<P>(P, bool);
    impl<P: Fn(&Expr) -> bool> Visitor for Any<P> {
        fn expr(&mut self, e: &Expr) {
            self.1 = self.1 || (self.0)(e);
        }
    }
    let mut v = Any(pred, false);
    walk(stmts, &mut v);
    v.1
}

fn stmt_locals(s: &Stmt, f: &mut impl Visitor) {
    match s {
        Stmt::Expr(e) => expr_locals(e, f),
        Stmt::Block(b) => walk(b, f),
        Stmt::If(c, t, e) => {
            expr_locals(c, f);
            walk(t, f);
            walk(e, f);
        }
        Stmt::Loop {
            cond, body, step, ..
        } => {
            if let Some(c) = cond {
                expr_locals(c, f);
            }
            walk(body, f);
            walk(step, f);
        }
        Stmt::Foreach {
            var,
            collection,
            convert,
            body,
        } => {
            f.local(*var);
            expr_locals(collection, f);
            if let Some(c) = convert {
                expr_locals(c, f);
            }
            walk(body, f);
        }
        Stmt::Switch(e, tmp, arms) => {
            f.local(*tmp);
            expr_locals(e, f);
            for arm in arms {
                for l in arm.labels.iter().flatten() {
                    expr_locals(l, f);
                }
                walk(&arm.body, f);
            }
        }
        Stmt::Return(e) | Stmt::Throw(e) => {
            if let Some(e) = e {
                expr_locals(e, f);
            }
        }
        Stmt::Break | Stmt::Continue => {}
        Stmt::Try {
            body,
            catches,
            finally,
        } => {
            walk(body, f);
            for c in catches {
                if let Some(v) = c.var {
                    f.local(v);
                }
                if let Some(x) = &c.filter {
                    expr_locals(x, f);
                }
                walk(&c.body, f);
            }
            walk(finally, f);
        }
    }
}

fn place_locals(p: &Place, f: &mut impl Visitor) {
    match p {
        Place::Local(l) => f.local(*l),
        Place::Element { array, index } => {
            expr_locals(array, f);
            expr_locals(index, f);
        }
        Place::Member { recv, args, .. } => {
            if let Some(r) = recv {
                expr_locals(r, f);
            }
            for a in args {
                expr_locals(a, f);
            }
        }
    }
}

fn expr_locals(e: &Expr, f: &mut impl Visitor) {
    f.expr(e);
    match &e.kind {
        ExprKind::Local(l) => f.local(*l),
        ExprKind::Const(_)
        | ExprKind::Context
        | ExprKind::Default(_)
        | ExprKind::TypeOf(_)
        | ExprKind::Unsupported(_) => {}
        ExprKind::Convert(_, x)
        | ExprKind::Unary(_, _, x)
        | ExprKind::Throw(x)
        | ExprKind::As(x, _)
        | ExprKind::AnonymousField(x, _) => expr_locals(x, f),
        ExprKind::Binary(_, _, a, b)
        | ExprKind::Logical(_, a, b)
        | ExprKind::Coalesce(a, b)
        | ExprKind::Element(a, b) => {
            expr_locals(a, f);
            expr_locals(b, f);
        }
        ExprKind::Cond(c, a, b) => {
            expr_locals(c, f);
            expr_locals(a, f);
            expr_locals(b, f);
        }
        ExprKind::Call { recv, args, .. } => {
            if let Some(r) = recv {
                expr_locals(r, f);
            }
            for a in args {
                expr_locals(a, f);
            }
        }
        ExprKind::Ref(p) => place_locals(p, f),
        ExprKind::Invoke(x, args) => {
            expr_locals(x, f);
            for a in args {
                expr_locals(a, f);
            }
        }
        ExprKind::NullCond { recv, tmp, rest } => {
            f.local(*tmp);
            expr_locals(recv, f);
            expr_locals(rest, f);
        }
        ExprKind::Assign(p, v) => {
            place_locals(p, f);
            expr_locals(v, f);
        }
        ExprKind::IncDec { place, .. } => place_locals(place, f),
        ExprKind::Compound { place, value, tmp } => {
            f.local(*tmp);
            place_locals(place, f);
            expr_locals(value, f);
        }
        ExprKind::Lambda(l) => {
            for p in &l.params {
                f.local(*p);
            }
            for c in &l.captures {
                f.local(*c);
            }
            walk(&l.body, f);
        }
        ExprKind::NewArray(_, n) => expr_locals(n, f),
        ExprKind::ArrayInit(_, items) => {
            for x in items {
                expr_locals(x, f);
            }
        }
        ExprKind::NewAnonymous(fields) => {
            for (_, x) in fields {
                expr_locals(x, f);
            }
        }
        ExprKind::Is(x, _, bind) => {
            expr_locals(x, f);
            if let Some(b) = bind {
                f.local(*b);
            }
        }
        ExprKind::Format(parts) => {
            for p in parts {
                if let FmtPart::Hole { value, align, .. } = p {
                    expr_locals(value, f);
                    if let Some(a) = align {
                        expr_locals(a, f);
                    }
                }
            }
        }
        ExprKind::Seq(stmts, x) => {
            walk(stmts, f);
            expr_locals(x, f);
        }
    }
}
