//! The evaluator: statements and expressions of the IR.

use std::rc::Rc;

use turnpike_ir::ir::{Body, Catch, Conv, Expr, ExprKind, FmtPart, Lambda, LocalId, Place, Stmt};
use turnpike_ir::library::{MemberKind, Mode};
use turnpike_ir::{Library, Ty};

use crate::arith;
use crate::context::{Context, HostRef};
use crate::convert;
use crate::dotnet::datetime::DateTime;
use crate::natives::{self, Natives};
use crate::value::{Exception, Obj, Value};

/// Fuel: loop iterations and calls one evaluation may make.
pub const DEFAULT_FUEL: u64 = 1_000_000;
/// Deepest nesting of delegate calls.
pub const MAX_DEPTH: u32 = 200;

/// What the interpreter may be given instead of the real world.
#[derive(Clone, Debug)]
pub struct Options {
    /// `DateTime.UtcNow` (and `Now`, the machine's zone being UTC).
    pub now: DateTime,
    /// Seed of `new Random()` and `Guid.NewGuid()`.
    pub seed: u64,
    /// Fuel for loops and calls.
    pub fuel: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: DateTime::utc_now(),
            seed: 0x5eed,
            fuel: DEFAULT_FUEL,
        }
    }
}

/// How a statement ended.
#[derive(Debug)]
pub enum Ctl {
    /// It ran to its end.
    Normal,
    /// `return`, with the value.
    Return(Value),
    /// `break`
    Break,
    /// `continue`
    Continue,
}

/// One evaluation of a body.
pub struct Interp {
    /// The type model.
    pub lib: &'static Library,
    /// The request's `context`.
    pub ctx: Rc<Context>,
    /// The body's local slots.
    pub(crate) frame: Vec<Value>,
    pub(crate) fuel: u64,
    pub(crate) depth: u32,
    /// Options (clock, seed).
    pub opts: Options,
    /// State of the random source.
    pub rng: u64,
    /// The exception a `catch` block handles (for `throw;`).
    pub(crate) current_exception: Option<Exception>,
    natives: &'static Natives,
}

impl std::fmt::Debug for Interp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interp")
    }
}

/// Evaluates a body against a context.
pub fn run(body: &Body, ctx: Rc<Context>, opts: Options) -> Result<Value, Exception> {
    let mut it = Interp::new(Library::get(), ctx, opts, body.locals.len());
    let v = match it.stmts(&body.block)? {
        Ctl::Return(v) => v,
        _ => Value::Null,
    };
    it.settle(v)
}

impl Interp {
    /// A body's result as it leaves the evaluation: a deferred sequence needs this
    /// evaluation's frame, so it runs now, before the frame goes.
    pub fn settle(&mut self, v: Value) -> Result<Value, Exception> {
        if let Value::Obj(o) = &v
            && let Obj::Lazy(elem, ..) = &**o
        {
            let elem = elem.clone();
            let items = self.enumerate(&v)?;
            return Ok(Value::obj(Obj::Seq(elem, items)));
        }
        Ok(v)
    }
}

/// `array[index]` (`NullReferenceException` on a null array, `IndexOutOfRangeException` out of
/// bounds).
pub fn element(array: &Value, index: &Value) -> Result<Value, Exception> {
    let Value::Array(arr) = array else {
        return Err(Exception::null_ref());
    };
    let i = convert::as_i64(index);
    let items = arr.items.borrow();
    usize::try_from(i)
        .ok()
        .and_then(|i| items.get(i).cloned())
        .ok_or_else(Exception::index)
}

/// `new T[n]` (`OverflowException` for a negative length).
pub fn new_array(t: &Ty, n: &Value, lib: &Library) -> Result<Value, Exception> {
    let n = convert::as_i64(n);
    if n < 0 {
        return Err(Exception::overflow());
    }
    let d = convert::default_of(t, lib);
    Ok(Value::array(t.clone(), vec![d; n as usize]))
}

/// An interpolated string: its text parts, and each hole's value (and alignment) from `hole`,
/// formatted and padded as .NET does.
pub fn format_parts(
    it: &mut Interp,
    parts: &[FmtPart],
    mut hole: impl FnMut(&mut Interp, &Expr, Option<&Expr>) -> Result<(Value, Option<Value>), Exception>,
) -> Result<Value, Exception> {
    let mut out = String::new();
    for p in parts {
        match p {
            FmtPart::Text(t) => out.push_str(t),
            FmtPart::Hole {
                value,
                align,
                format,
            } => {
                let (v, align) = hole(it, value, align.as_deref())?;
                let text = convert::format_value(it, &v, format.as_deref())?;
                push_hole(&mut out, text, align.as_ref());
            }
        }
    }
    Ok(Value::str(out))
}

/// Appends an interpolated string's formatted hole, padded to its alignment when it has one.
pub fn push_hole(out: &mut String, text: String, align: Option<&Value>) {
    match align {
        Some(a) => out.push_str(&crate::dotnet::number::align(text, convert::as_i64(a))),
        None => out.push_str(&text),
    }
}

/// Runs `f` with an interpreter that has no frame (helpers outside an evaluation).
pub fn with_interp<R>(lib: &'static Library, f: impl FnOnce(&mut Interp) -> R) -> R {
    let mut it = Interp::new(lib, Rc::new(Context::default()), Options::default(), 0);
    f(&mut it)
}

/// `ToString()` of a value outside any evaluation (for reports).
pub fn to_string_outside(lib: &'static Library, ctx: Rc<Context>, v: &Value) -> String {
    let mut it = Interp::new(lib, ctx, Options::default(), 0);
    convert::to_string(&mut it, v).unwrap_or_default()
}

impl Interp {
    /// An interpreter with a frame of `slots` locals.
    pub fn new(lib: &'static Library, ctx: Rc<Context>, opts: Options, slots: usize) -> Self {
        Interp {
            lib,
            ctx,
            frame: vec![Value::Null; slots],
            fuel: opts.fuel,
            depth: 0,
            rng: opts.seed,
            opts,
            current_exception: None,
            natives: natives::table(lib),
        }
    }
}

/// A place with its receiver and indices already evaluated.
enum PlaceRef {
    Local(LocalId),
    Element(Value, i32),
    Member(turnpike_ir::MemberId, Value, Vec<Value>, Vec<Ty>),
}

impl Interp {
    fn burn(&mut self) -> Result<(), Exception> {
        if self.fuel == 0 {
            return Err(Exception::out_of_fuel());
        }
        self.fuel -= 1;
        Ok(())
    }

    pub(crate) fn stmts(&mut self, stmts: &[Stmt]) -> Result<Ctl, Exception> {
        for s in stmts {
            match self.stmt(s)? {
                Ctl::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Ctl::Normal)
    }

    fn stmt(&mut self, s: &Stmt) -> Result<Ctl, Exception> {
        match s {
            Stmt::Expr(e) => {
                self.eval(e)?;
                Ok(Ctl::Normal)
            }
            Stmt::Block(b) => self.stmts(b),
            Stmt::If(c, t, e) => {
                if self.truth(c)? {
                    self.stmts(t)
                } else {
                    self.stmts(e)
                }
            }
            Stmt::Loop {
                cond,
                body,
                step,
                do_while,
            } => {
                let mut first = true;
                loop {
                    self.burn()?;
                    if !(first && *do_while)
                        && let Some(c) = cond
                        && !self.truth(c)?
                    {
                        break;
                    }
                    first = false;
                    match self.stmts(body)? {
                        Ctl::Break => break,
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        Ctl::Normal | Ctl::Continue => {}
                    }
                    self.stmts(step)?;
                }
                Ok(Ctl::Normal)
            }
            Stmt::Foreach {
                var,
                collection,
                convert,
                body,
            } => {
                let coll = self.eval(collection)?;
                let items = self.enumerate(&coll)?;
                let watched = list_len(&coll);
                for item in items {
                    self.burn()?;
                    if modified(watched, list_len(&coll)) {
                        return Err(Exception::invalid_op(
                            "Collection was modified; enumeration operation may not execute.",
                        ));
                    }
                    self.frame[var.0 as usize] = item;
                    if let Some(c) = convert {
                        let v = self.eval(c)?;
                        self.frame[var.0 as usize] = v;
                    }
                    match self.stmts(body)? {
                        Ctl::Break => return Ok(Ctl::Normal),
                        Ctl::Return(v) => return Ok(Ctl::Return(v)),
                        Ctl::Normal | Ctl::Continue => {}
                    }
                }
                if modified(watched, list_len(&coll)) {
                    return Err(Exception::invalid_op(
                        "Collection was modified; enumeration operation may not execute.",
                    ));
                }
                Ok(Ctl::Normal)
            }
            Stmt::Switch(g, tmp, arms) => {
                let v = self.eval(g)?;
                self.frame[tmp.0 as usize] = v;
                let mut chosen = None;
                'find: for (i, arm) in arms.iter().enumerate() {
                    for l in &arm.labels {
                        if let Some(test) = l
                            && self.truth(test)?
                        {
                            chosen = Some(i);
                            break 'find;
                        }
                    }
                }
                if chosen.is_none() {
                    chosen = arms
                        .iter()
                        .position(|a| a.labels.iter().any(Option::is_none));
                }
                match chosen {
                    Some(i) => match self.stmts(&arms[i].body)? {
                        Ctl::Break | Ctl::Normal => Ok(Ctl::Normal),
                        other => Ok(other),
                    },
                    None => Ok(Ctl::Normal),
                }
            }
            Stmt::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                Ok(Ctl::Return(v))
            }
            Stmt::Break => Ok(Ctl::Break),
            Stmt::Continue => Ok(Ctl::Continue),
            Stmt::Throw(e) => match e {
                Some(e) => {
                    let v = self.eval(e)?;
                    Err(self.to_exception(v))
                }
                None => Err(self
                    .current_exception
                    .clone()
                    .unwrap_or_else(|| Exception::invalid_op("no exception to rethrow"))),
            },
            Stmt::Try {
                body,
                catches,
                finally,
            } => {
                let r = self.stmts(body);
                let r = match r {
                    Err(ex) => self.handle(ex, catches),
                    ok => ok,
                };
                if !finally.is_empty() {
                    match self.stmts(finally)? {
                        Ctl::Normal => {}
                        other => return Ok(other),
                    }
                }
                r
            }
        }
    }

    fn handle(&mut self, ex: Exception, catches: &[Catch]) -> Result<Ctl, Exception> {
        for c in catches {
            if !exception_is(&ex.ty, &c.ty) {
                continue;
            }
            if let Some(v) = c.var {
                self.frame[v.0 as usize] = Value::obj(Obj::Exception(ex.clone()));
            }
            if let Some(f) = &c.filter
                && !self.truth(f)?
            {
                continue;
            }
            let saved = self.current_exception.replace(ex);
            let r = self.stmts(&c.body);
            self.current_exception = saved;
            return r;
        }
        Err(ex)
    }

    fn to_exception(&self, v: Value) -> Exception {
        match v {
            Value::Obj(o) => match &*o {
                Obj::Exception(e) => e.clone(),
                _ => Exception::invalid_op("thrown value is not an exception"),
            },
            Value::Null => Exception::null_ref(),
            _ => Exception::invalid_op("thrown value is not an exception"),
        }
    }

    fn truth(&mut self, e: &Expr) -> Result<bool, Exception> {
        let v = self.eval(e)?;
        truth_of(self.lib, v)
    }
}

/// A condition's value as `bool` (a condition of a type the checker could not know is checked
/// when it runs).
#[inline]
pub fn truth_of(lib: &Library, v: Value) -> Result<bool, Exception> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Null => Err(Exception::invalid_op("Nullable object must have a value.")),
        other => Err(Exception::cast(
            &convert::type_name(lib, &other),
            "System.Boolean",
        )),
    }
}

impl Interp {
    /// The elements of an enumerable value.
    pub fn enumerate(&mut self, v: &Value) -> Result<Vec<Value>, Exception> {
        natives::collections::enumerate(self, v)
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, e: &Expr) -> Result<Value, Exception> {
        match &e.kind {
            ExprKind::Const(c) => convert::constant(c, &e.ty, self.lib),
            ExprKind::Local(l) => Ok(self.frame[l.0 as usize].clone()),
            ExprKind::Context => Ok(Value::obj(Obj::Host(HostRef::Context(self.ctx.clone())))),
            ExprKind::Convert(conv, x) => {
                let v = self.eval(x)?;
                self.convert(conv, v, &e.ty)
            }
            ExprKind::Unary(op, p, x) => {
                let v = self.eval(x)?;
                arith::unary(*op, *p, v)
            }
            ExprKind::Binary(op, t, a, b) => {
                let a = self.eval(a)?;
                let b = self.eval(b)?;
                arith::binary(self, *op, t, a, b)
            }
            ExprKind::Logical(and, a, b) => {
                let l = self.truth(a)?;
                if l != *and {
                    return Ok(Value::Bool(l));
                }
                Ok(Value::Bool(self.truth(b)?))
            }
            ExprKind::Coalesce(a, b) => {
                let v = self.eval(a)?;
                if v.is_null() { self.eval(b) } else { Ok(v) }
            }
            ExprKind::Cond(c, a, b) => {
                if self.truth(c)? {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            ExprKind::Call {
                member,
                type_args,
                recv,
                args,
            } => {
                let r = match recv {
                    Some(r) => {
                        let v = self.eval(r)?;
                        let m = self.lib.member(*member);
                        if v.is_null() && !m.is_static {
                            return Err(Exception::null_ref());
                        }
                        v
                    }
                    None => Value::Null,
                };
                self.call(*member, type_args, r, args)
            }
            ExprKind::Ref(p) => {
                let p = self.place(p)?;
                self.read_place(&p)
            }
            ExprKind::Invoke(f, args) => {
                let f = self.eval(f)?;
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a)?);
                }
                self.invoke(&f, vals)
            }
            ExprKind::NullCond { recv, tmp, rest } => {
                let v = self.eval(recv)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                self.frame[tmp.0 as usize] = v;
                self.eval(rest)
            }
            ExprKind::Element(a, i) => {
                let a = self.eval(a)?;
                let i = self.eval(i)?;
                element(&a, &i)
            }
            ExprKind::Assign(p, v) => {
                let p = self.place(p)?;
                let v = self.eval(v)?;
                self.write_place(&p, v.clone())?;
                Ok(v)
            }
            ExprKind::IncDec {
                place,
                delta,
                prefix,
                prim,
            } => {
                let p = self.place(place)?;
                let old = self.read_place(&p)?;
                let new = arith::step(&old, *prim, *delta)?;
                self.write_place(&p, new.clone())?;
                Ok(if *prefix { new } else { old })
            }
            ExprKind::Compound { place, value, tmp } => {
                let p = self.place(place)?;
                let old = self.read_place(&p)?;
                self.frame[tmp.0 as usize] = old;
                let v = self.eval(value)?;
                self.write_place(&p, v.clone())?;
                Ok(v)
            }
            ExprKind::Lambda(l) => {
                let captured = l
                    .captures
                    .iter()
                    .map(|c| self.frame[c.0 as usize].clone())
                    .collect();
                Ok(Value::obj(Obj::Func(l.clone(), captured)))
            }
            ExprKind::NewArray(t, n) => {
                let n = self.eval(n)?;
                new_array(t, &n, self.lib)
            }
            ExprKind::ArrayInit(t, items) => {
                let mut vals = Vec::with_capacity(items.len());
                for x in items {
                    vals.push(self.eval(x)?);
                }
                Ok(Value::array(t.clone(), vals))
            }
            ExprKind::NewAnonymous(fields) => {
                let mut vals = Vec::new();
                for (n, x) in fields {
                    vals.push((n.clone(), self.eval(x)?));
                }
                Ok(Value::obj(Obj::Anonymous(vals)))
            }
            ExprKind::AnonymousField(x, i) => match self.eval(x)? {
                Value::Obj(o) => match &*o {
                    Obj::Anonymous(fields) => {
                        Ok(fields.get(*i as usize).map_or(Value::Null, |f| f.1.clone()))
                    }
                    _ => Err(Exception::invalid_op("not an anonymous object")),
                },
                _ => Err(Exception::null_ref()),
            },
            ExprKind::Is(x, t, bind) => {
                let v = self.eval(x)?;
                let ok = convert::is_instance(self.lib, &v, t);
                if ok && let Some(b) = bind {
                    self.frame[b.0 as usize] = v;
                }
                Ok(Value::Bool(ok))
            }
            ExprKind::As(x, t) => {
                let v = self.eval(x)?;
                Ok(if convert::is_instance(self.lib, &v, t) {
                    v
                } else {
                    Value::Null
                })
            }
            ExprKind::Format(parts) => format_parts(self, parts, |it, value, align| {
                let v = it.eval(value)?;
                let align = align.map(|a| it.eval(a)).transpose()?;
                Ok((v, align))
            }),
            ExprKind::Default(t) => Ok(convert::default_of(t, self.lib)),
            ExprKind::TypeOf(t) => Ok(Value::obj(Obj::Type(t.clone()))),
            ExprKind::Throw(x) => {
                let v = self.eval(x)?;
                Err(self.to_exception(v))
            }
            ExprKind::Seq(stmts, x) => {
                if let Ctl::Return(v) = self.stmts(stmts)? {
                    return Ok(v);
                }
                self.eval(x)
            }
            ExprKind::Unsupported(what) => Err(Exception::not_supported(format!(
                "Turnpike cannot evaluate {what} yet"
            ))),
        }
    }

    fn convert(&mut self, conv: &Conv, v: Value, to: &Ty) -> Result<Value, Exception> {
        match conv {
            Conv::Numeric(_, p) => convert::numeric(&v, *p, false),
            Conv::CheckedNumeric(_, p) => convert::numeric(&v, *p, true),
            Conv::WrapNullable | Conv::Box | Conv::Upcast => Ok(v),
            Conv::UnwrapNullable => {
                if v.is_null() {
                    Err(Exception::invalid_op("Nullable object must have a value."))
                } else {
                    Ok(v)
                }
            }
            Conv::Cast(t) => convert::cast(self.lib, v, t),
            Conv::User(m) => self.call_values(*m, &[], Value::Null, vec![v]),
            Conv::ToStringOrEmpty => {
                if v.is_null() {
                    Ok(Value::str(""))
                } else {
                    let _ = to;
                    Ok(Value::str(convert::to_string(self, &v)?))
                }
            }
        }
    }

    fn call(
        &mut self,
        member: turnpike_ir::MemberId,
        targs: &[Ty],
        recv: Value,
        args: &[Expr],
    ) -> Result<Value, Exception> {
        let mut vals = Vec::with_capacity(args.len());
        let mut refs: Vec<(usize, PlaceRef)> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if let ExprKind::Ref(p) = &a.kind {
                let p = self.place(p)?;
                let cur = if self
                    .lib
                    .member(member)
                    .params
                    .get(i)
                    .is_some_and(|p| p.mode == Mode::Out)
                {
                    Value::Null
                } else {
                    self.read_place(&p)?
                };
                vals.push(cur);
                refs.push((i, p));
            } else {
                vals.push(self.eval(a)?);
            }
        }
        if refs.is_empty() {
            return self.call_values(member, targs, recv, vals);
        }
        let mut cell = vals;
        let r = self.call_native(member, targs, recv, &mut cell)?;
        for (i, p) in refs {
            self.write_place(&p, cell[i].clone())?;
        }
        Ok(r)
    }

    /// Fuel left.
    pub fn fuel(&self) -> u64 {
        self.fuel
    }

    /// Sets the fuel left (an engine that burns fuel outside the interpreter hands it over).
    pub fn set_fuel(&mut self, fuel: u64) {
        self.fuel = fuel;
    }

    /// Applies a conversion to an evaluated value (`to` is the expression's type).
    pub fn convert_value(&mut self, conv: &Conv, v: Value, to: &Ty) -> Result<Value, Exception> {
        self.convert(conv, v, to)
    }

    /// Assigns `v` to a place whose operands another engine evaluated, in the interpreter's
    /// order: the array and the index of an element; the receiver (when there is one) and the
    /// indexer arguments of a member.
    pub fn assign_evaluated(
        &mut self,
        p: &Place,
        operands: Vec<Value>,
        v: Value,
    ) -> Result<(), Exception> {
        let operand = |i: usize| operands.get(i).cloned().unwrap_or(Value::Null);
        let place = match p {
            Place::Local(l) => PlaceRef::Local(*l),
            Place::Element { .. } => PlaceRef::Element(
                operand(0),
                i32::try_from(convert::as_i64(&operand(1))).unwrap_or(-1),
            ),
            Place::Member { member, recv, .. } => {
                let (r, args) = match recv {
                    Some(_) => (operand(0), operands.get(1..).unwrap_or_default().to_vec()),
                    None => (Value::Null, operands.clone()),
                };
                let targs = match recv.as_ref().map(|r| &r.ty) {
                    Some(Ty::Named(_, a)) => a.clone(),
                    _ => Vec::new(),
                };
                PlaceRef::Member(*member, r, args, targs)
            }
        };
        self.write_place(&place, v)
    }

    /// Calls a library member with evaluated arguments.
    pub fn call_values(
        &mut self,
        member: turnpike_ir::MemberId,
        targs: &[Ty],
        recv: Value,
        mut args: Vec<Value>,
    ) -> Result<Value, Exception> {
        self.call_native(member, targs, recv, &mut args)
    }

    /// Readies a kept interpreter for a new evaluation against `ctx` (what [`Interp::new`]
    /// sets, without building it again).
    pub fn reset(&mut self, ctx: Rc<Context>, opts: &Options) {
        self.ctx = ctx;
        self.frame.clear();
        self.fuel = opts.fuel;
        self.depth = 0;
        self.rng = opts.seed;
        self.opts = opts.clone();
        self.current_exception = None;
    }

    /// Lets go of the evaluation's context and values (a kept interpreter holds `idle`).
    pub fn release(&mut self, idle: Rc<Context>) {
        self.ctx = idle;
        self.frame.clear();
        self.current_exception = None;
    }

    /// Runs statements over the frame (see [`Interp::frame_mut`]): how they ended.
    pub fn exec(&mut self, stmts: &[Stmt]) -> Result<Ctl, Exception> {
        self.stmts(stmts)
    }

    /// The local slots of the body being evaluated, for a caller that keeps them elsewhere
    /// between calls (the JIT's native code).
    pub fn frame_mut(&mut self) -> &mut Vec<Value> {
        &mut self.frame
    }

    /// Calls a library member with evaluated arguments in place (`out`/`ref` slots are
    /// written back into `args`).
    pub fn call_native(
        &mut self,
        member: turnpike_ir::MemberId,
        targs: &[Ty],
        recv: Value,
        args: &mut [Value],
    ) -> Result<Value, Exception> {
        self.burn()?;
        let m = self.lib.member(member);
        match self.natives.get(member) {
            Some(f) => {
                let mut call = natives::Call {
                    member: m,
                    recv,
                    args,
                    targs,
                };
                f(self, &mut call)
            }
            None => {
                let what = match m.kind {
                    MemberKind::Constructor => format!("`new {}`", m.key),
                    _ => format!("`{}`", m.key),
                };
                Err(Exception::not_supported(format!(
                    "Turnpike cannot evaluate {what} yet"
                )))
            }
        }
    }

    /// Calls a delegate value.
    pub fn invoke(&mut self, f: &Value, args: Vec<Value>) -> Result<Value, Exception> {
        let Value::Obj(o) = f else {
            return Err(Exception::null_ref());
        };
        let Obj::Func(l, captured) = &**o else {
            return Err(Exception::invalid_op("not a delegate"));
        };
        let l = l.clone();
        if l.captures.is_empty() {
            return self.call_lambda(&l, args);
        }
        // Loop variables the lambda captured: their values at its creation.
        let saved: Vec<Value> = l
            .captures
            .iter()
            .map(|c| self.frame[c.0 as usize].clone())
            .collect();
        for (c, v) in l.captures.iter().zip(captured) {
            self.frame[c.0 as usize] = v.clone();
        }
        let r = self.call_lambda(&l, args);
        for (c, v) in l.captures.iter().zip(saved) {
            self.frame[c.0 as usize] = v;
        }
        r
    }

    /// Runs a lambda with arguments. Its parameters are slots of the frame: their old values
    /// are restored afterwards, so nested and recursive calls see their own.
    pub fn call_lambda(&mut self, l: &Lambda, args: Vec<Value>) -> Result<Value, Exception> {
        self.burn()?;
        if self.depth >= MAX_DEPTH {
            return Err(Exception::new(
                "InsufficientExecutionStackException",
                "Insufficient stack to continue executing the program safely.",
            ));
        }
        self.depth += 1;
        let saved: Vec<Value> = l
            .params
            .iter()
            .map(|p| self.frame[p.0 as usize].clone())
            .collect();
        for (p, a) in l.params.iter().zip(args) {
            self.frame[p.0 as usize] = a;
        }
        // Each nested call needs stack; grow it rather than overflow before the depth limit.
        let r = stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, || self.stmts(&l.body));
        for (p, v) in l.params.iter().zip(saved) {
            self.frame[p.0 as usize] = v;
        }
        self.depth -= 1;
        match r? {
            Ctl::Return(v) => Ok(v),
            _ => Ok(Value::Null),
        }
    }

    fn place(&mut self, p: &Place) -> Result<PlaceRef, Exception> {
        Ok(match p {
            Place::Local(l) => PlaceRef::Local(*l),
            Place::Element { array, index } => {
                let a = self.eval(array)?;
                let i = convert::as_i64(&self.eval(index)?);
                PlaceRef::Element(a, i32::try_from(i).unwrap_or(-1))
            }
            Place::Member { member, recv, args } => {
                let r = match recv {
                    Some(r) => self.eval(r)?,
                    None => Value::Null,
                };
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.eval(a)?);
                }
                let targs = match recv.as_ref().map(|r| &r.ty) {
                    Some(Ty::Named(_, a)) => a.clone(),
                    _ => Vec::new(),
                };
                PlaceRef::Member(*member, r, vals, targs)
            }
        })
    }

    fn read_place(&mut self, p: &PlaceRef) -> Result<Value, Exception> {
        match p {
            PlaceRef::Local(l) => Ok(self.frame[l.0 as usize].clone()),
            PlaceRef::Element(a, i) => {
                let Value::Array(arr) = a else {
                    return Err(Exception::null_ref());
                };
                let items = arr.items.borrow();
                usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.get(i).cloned())
                    .ok_or_else(Exception::index)
            }
            PlaceRef::Member(m, r, args, targs) => {
                if r.is_null() && !self.lib.member(*m).is_static {
                    return Err(Exception::null_ref());
                }
                self.call_values(*m, targs, r.clone(), args.clone())
            }
        }
    }

    fn write_place(&mut self, p: &PlaceRef, v: Value) -> Result<(), Exception> {
        match p {
            PlaceRef::Local(l) => {
                self.frame[l.0 as usize] = v;
                Ok(())
            }
            PlaceRef::Element(a, i) => {
                let Value::Array(arr) = a else {
                    return Err(Exception::null_ref());
                };
                let mut items = arr.items.borrow_mut();
                match usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                    Some(slot) => {
                        *slot = v;
                        Ok(())
                    }
                    None => Err(Exception::index()),
                }
            }
            PlaceRef::Member(m, r, args, targs) => {
                if r.is_null() && !self.lib.member(*m).is_static {
                    return Err(Exception::null_ref());
                }
                let mut all = args.clone();
                all.push(v);
                natives::set_member(self, *m, targs, r.clone(), all)
            }
        }
    }
}

/// Whether an exception of type `thrown` is caught by `catch (caught)`.
pub fn exception_is(thrown: &str, caught: &str) -> bool {
    if caught == "Exception" || thrown == caught {
        return true;
    }
    let parent = |t: &str| -> Option<&'static str> {
        Some(match t {
            "ArgumentNullException" | "ArgumentOutOfRangeException" | "RegexParseException" => {
                "ArgumentException"
            }
            "DivideByZeroException" | "OverflowException" => "ArithmeticException",
            "KeyNotFoundException"
            | "IndexOutOfRangeException"
            | "NullReferenceException"
            | "InvalidCastException"
            | "FormatException"
            | "ArgumentException"
            | "ArithmeticException"
            | "InvalidOperationException"
            | "NotSupportedException"
            | "NotImplementedException" => "SystemException",
            "ObjectDisposedException" => "InvalidOperationException",
            "UriFormatException" => "FormatException",
            "JsonReaderException" | "JsonSerializationException" => "JsonException",
            "RegexMatchTimeoutException" => "TimeoutException",
            _ => return None,
        })
    };
    let mut t = thrown;
    for _ in 0..8 {
        match parent(t) {
            Some(p) if p == caught => return true,
            Some(p) => t = p,
            None => return false,
        }
    }
    false
}

/// What `foreach` watches to detect a collection changed under it: a `List<T>`'s length
/// (any change), a `HashSet<T>`'s size (growth: removing is allowed since .NET Core 3.0), a
/// `Dictionary`'s version (additions).
fn list_len(v: &Value) -> Option<(u8, u64)> {
    match v {
        Value::Obj(o) => match &**o {
            Obj::List(_, items) => Some((0, items.borrow().len() as u64)),
            Obj::Set(_, items, _) => Some((1, items.borrow().len() as u64)),
            Obj::Dict(_, _, d) => Some((2, d.borrow().version)),
            Obj::DictView(_, d, _) => list_len(d),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a watched collection changed in a way that ends its enumeration.
fn modified(before: Option<(u8, u64)>, now: Option<(u8, u64)>) -> bool {
    match (before, now) {
        (Some((1, a)), Some((1, b))) => b > a,
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}
