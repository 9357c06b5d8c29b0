//! The host-function table: every `extern "C"` function native code may call, in one place.
//!
//! Host functions never unwind into native code: each body runs under `catch_unwind` and a
//! panic becomes the status [`Status::Internal`]. They compute exactly what the interpreter
//! computes, by calling the interpreter's own functions.

#![allow(unsafe_code)] // Host functions read the evaluation state through the pointer native code passes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;

use cranelift_codegen::ir::{AbiParam, Signature, types};
use cranelift_codegen::isa::CallConv;
use turnpike_interp::context::HostRef;
use turnpike_interp::eval::{self, Ctl, Interp};
use turnpike_interp::value::Obj;
use turnpike_interp::{Context, Exception, Options, Value, arith, convert};
use turnpike_ir::ir::{Body, Expr, ExprKind, FmtPart, Stmt};
use turnpike_ir::{Library, MemberId, Prim, Ty};

/// What a native function returns: `Ok`, or which exception it raised.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Finished; the result (if any) is in the out slot.
    Ok = 0,
    /// `DivideByZeroException`.
    DivideByZero = 1,
    /// `OverflowException` (`MIN / -1`, `MIN % -1`, checked arithmetic).
    Overflow = 2,
    /// The evaluation ran out of fuel (`TimeoutException`, as the interpreter raises).
    OutOfFuel = 3,
    /// A host function panicked: a bug, reported as an internal error.
    Internal = 4,
    /// A host function raised a .NET exception, kept in the evaluation state.
    Exception = 5,
    /// `NullReferenceException`: an instance member on `null`.
    NullReference = 6,
}

impl Status {
    /// The status a native function returned.
    pub fn from_code(code: u32) -> Status {
        match code {
            0 => Status::Ok,
            1 => Status::DivideByZero,
            2 => Status::Overflow,
            3 => Status::OutOfFuel,
            5 => Status::Exception,
            6 => Status::NullReference,
            _ => Status::Internal,
        }
    }
}

/// The per-evaluation state native code reads and writes through its first argument.
#[repr(C)]
#[derive(Debug)]
pub struct JitCtx {
    /// Fuel left; each loop iteration burns one, as in the interpreter.
    pub fuel: u64,
    /// Set (to a [`Status`]) by a host function that failed; native code checks it after
    /// every host call.
    pub failed: u32,
    /// Padding.
    pub pad: u32,
    /// The evaluation's values and interpreter ([`HostState`]).
    pub host: *mut HostState,
}

/// Byte offset of [`JitCtx::fuel`].
pub const FUEL_OFFSET: i32 = 0;
/// Byte offset of [`JitCtx::failed`].
pub const FAILED_OFFSET: i32 = 8;

/// What host functions share during one evaluation: the value frame native code reaches by
/// handle, the interpreter that runs library members, and the exception a host function
/// raised.
///
/// The frame has a fixed number of slots, counted when the body was lowered: slot 0 is always
/// `null`, then one slot per local of a handle type, then one per node that yields a handle.
/// A host function writes its result into the slot native code names (dropping what was there)
/// and returns that slot as the result's handle, or 0 for `null`; so a handle is a slot whose
/// value is not `null`, and a loop reuses its nodes' slots instead of growing the frame.
///
/// States are kept per thread between evaluations ([`HostState::take`], [`HostState::give_back`]):
/// an evaluation reuses one, its interpreter and its buffers, instead of building them.
#[derive(Debug)]
pub struct HostState {
    /// Values by handle.
    pub arena: Vec<Value>,
    /// The interpreter that runs library members (and holds the request context, the
    /// options and, during a host call, the fuel).
    interp: Interp,
    /// The exception a host function raised.
    pub exception: Option<Exception>,
    /// The body's string constants: handle `-1 - i` is constant `i`.
    consts: Option<Arc<[Arc<str>]>>,
    /// The first slot that holds a node's result (the slots before are `null`, `context` and
    /// locals).
    first_temp: usize,
    /// The argument buffer of member calls, kept between calls.
    scratch: Vec<Value>,
}

/// The shape of a body's value frame, fixed when it was lowered.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Number of slots (0: the body uses none).
    pub slots: usize,
    /// The first slot of a node's result; the slots before are `null`, `context` and locals.
    pub first_temp: usize,
    /// String constants, by handle `-1 - index`.
    pub consts: Arc<[Arc<str>]>,
}

/// The frame slot that holds `context` (filled when the evaluation starts).
pub const CONTEXT_SLOT: i64 = 1;

/// The value of register bits of `p`.
pub fn decode(p: Prim, bits: u64) -> Value {
    match p {
        Prim::Bool => Value::Bool(bits & 0xff != 0),
        Prim::Int => Value::Int(bits as i32),
        Prim::UInt => Value::UInt(bits as u32),
        Prim::Long => Value::Long(bits as i64),
        Prim::ULong => Value::ULong(bits),
        Prim::Float => Value::Float(f32::from_bits(bits as u32)),
        Prim::Double => Value::Double(f64::from_bits(bits)),
        _ => Value::Null,
    }
}

/// Each local's place while native code runs: its frame slot when its values are handles,
/// `None` when it lives in a register (of the given type). The lowering numbers slots this way.
pub fn local_places(body: &Body) -> impl Iterator<Item = Result<i64, Prim>> + '_ {
    let mut next = CONTEXT_SLOT;
    body.locals
        .iter()
        .map(move |l| match crate::lower::reg_prim(&l.ty) {
            Some(p) => Err(p),
            None => {
                next += 1;
                Ok(next)
            }
        })
}

/// The register bits of `v` as a value of `p` (`NullReferenceException` for `null`).
fn bits(v: &Value, p: Prim) -> Result<i64, Exception> {
    // A value already of the type (nearly always: the checker typed the node).
    match (v, p) {
        (Value::Bool(b), Prim::Bool) => return Ok(i64::from(*b)),
        (Value::Int(x), Prim::Int) => return Ok(i64::from(*x)),
        (Value::Long(x), Prim::Long) => return Ok(*x),
        (Value::Double(x), Prim::Double) => return Ok(x.to_bits() as i64),
        (Value::UInt(x), Prim::UInt) => return Ok(i64::from(*x)),
        (Value::ULong(x), Prim::ULong) => return Ok(*x as i64),
        (Value::Float(x), Prim::Float) => return Ok(i64::from(x.to_bits())),
        _ => {}
    }
    Ok(match convert::numeric(v, p, false)? {
        Value::Bool(b) => i64::from(b),
        Value::Int(x) => i64::from(x),
        Value::UInt(x) => i64::from(x),
        Value::Long(x) => x,
        Value::ULong(x) => x as i64,
        Value::Float(x) => i64::from(x.to_bits()),
        Value::Double(x) => x.to_bits() as i64,
        Value::Null => return Err(Exception::null_ref()),
        other => return Err(Exception::invalid_op(format!("unbox of {other:?}"))),
    })
}

thread_local! {
    /// States of finished evaluations on this thread, ready for the next ones (boxed: an
    /// evaluation holds its state by pointer, and taking one moves no state).
    #[allow(clippy::vec_box)]
    static POOL: std::cell::RefCell<Vec<Box<HostState>>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The context a kept state holds between evaluations (so it keeps no request alive).
    static IDLE: Rc<Context> = Rc::new(Context::default());
}

/// States kept per thread at most (nested evaluations each take one).
const KEPT_STATES: usize = 4;

/// Frames larger than this are not kept.
const KEPT_SLOTS: usize = 1024;

impl HostState {
    /// The state of an evaluation against `ctx`, with the value frame `frame` describes: a
    /// kept one when this thread has one, else a new one.
    pub fn take(ctx: Rc<Context>, opts: &Options, frame: &Frame) -> Box<HostState> {
        let mut st = POOL
            .try_with(|p| p.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                Box::new(HostState {
                    arena: Vec::new(),
                    interp: Interp::new(Library::get(), ctx.clone(), opts.clone(), 0),
                    exception: None,
                    consts: None,
                    first_temp: 0,
                    scratch: Vec::new(),
                })
            });
        if frame.slots > CONTEXT_SLOT as usize {
            st.arena.reserve(frame.slots);
            st.arena.push(Value::Null);
            st.arena
                .push(Value::obj(Obj::Host(HostRef::Context(ctx.clone()))));
            st.arena.resize(frame.slots, Value::Null);
        }
        st.interp.reset(ctx, opts);
        // No shared count to touch for bodies without string constants.
        st.consts = (!frame.consts.is_empty()).then(|| frame.consts.clone());
        st.first_temp = frame.first_temp;
        st
    }

    /// Ends an evaluation: its values are dropped and the state kept for the next one.
    pub fn give_back(mut self: Box<Self>) {
        self.arena.clear();
        self.scratch.clear();
        self.exception = None;
        self.consts = None;
        if self.arena.capacity() > KEPT_SLOTS {
            return;
        }
        if let Ok(idle) = IDLE.try_with(Rc::clone) {
            self.interp.release(idle);
        }
        // `try_with`: a thread being torn down just frees it.
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < KEPT_STATES {
                p.push(self);
            }
        });
    }

    #[inline]
    fn interp(&mut self) -> &mut Interp {
        &mut self.interp
    }

    /// The value of a handle (0 is `null`).
    pub fn value(&self, h: u64) -> Value {
        self.peek(h as i64)
    }

    /// The value of a handle, left in place.
    fn peek(&self, h: i64) -> Value {
        if h < 0 {
            return self
                .consts
                .as_ref()
                .and_then(|c| c.get((-h - 1) as usize))
                .map_or(Value::Null, |s| Value::Str(s.clone()));
        }
        self.arena.get(h as usize).cloned().unwrap_or(Value::Null)
    }

    /// The value of a handle an operation consumes: a node's result is used once, so it
    /// moves out of its slot; a local's value, `context` and constants are copied.
    fn get(&mut self, h: i64) -> Value {
        if h >= self.first_temp as i64
            && let Some(slot) = self.arena.get_mut(h as usize)
        {
            return std::mem::replace(slot, Value::Null);
        }
        self.peek(h)
    }

    /// Delivers a host function's result as native code asked for it: `dest > 0` stores `v`
    /// in that frame slot and gives its handle (0 for `null`); `dest < 0` gives the register
    /// bits of `v` as the [`Prim`] of index `-dest - 1`, for a result that lives in a register.
    fn put(&mut self, dest: i64, v: Value) -> Result<i64, Exception> {
        if dest < 0 {
            let p = Prim::ALL
                .get((-dest - 1) as usize)
                .copied()
                .unwrap_or(Prim::Int);
            return bits(&v, p);
        }
        if v.is_null() {
            return Ok(0);
        }
        match self.arena.get_mut(dest as usize) {
            Some(slot) if dest > 0 => {
                *slot = v;
                Ok(dest)
            }
            _ => Err(Exception::invalid_op(format!(
                "value slot {dest} out of the frame"
            ))),
        }
    }

    /// The handles native code stored at `args` as values, in the reused argument buffer.
    fn args(&mut self, args: *const i64, n: u64) -> Vec<Value> {
        let mut vals = std::mem::take(&mut self.scratch);
        vals.clear();
        vals.extend(
            (0..n as usize)
                // SAFETY: `args` points to `n` handles native code stored in a stack slot just
                // before this call.
                .map(|i| self.get(unsafe { *args.add(i) })),
        );
        vals
    }

    /// Gives the argument buffer back for the next call.
    fn done_with(&mut self, mut vals: Vec<Value>) {
        vals.clear();
        self.scratch = vals;
    }
}

/// Runs a host function's body: the interpreter's fuel is the native code's; an exception
/// is kept and flagged; a panic is flagged as internal. `f` gives a handle or raw bits.
fn with_state(ctx: *mut JitCtx, f: impl FnOnce(&mut HostState) -> Result<i64, Exception>) -> i64 {
    // SAFETY: native code passes the `JitCtx` that `Compiled::run` made on its stack, whose
    // `host` points to that call's `HostState`; both outlive the native call, and nothing
    // else touches them while a host function runs (evaluation is single-threaded).
    let jctx = unsafe { &mut *ctx };
    // Only an `i64` crosses the unwind guard: a whole `Result` moved through it costs more
    // than the rest of a short host call.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as above.
        let st = unsafe { &mut *jctx.host };
        // The fuel is the native code's: the interpreter burns from it during the call.
        st.interp().set_fuel(jctx.fuel);
        let r = f(st);
        jctx.fuel = st.interp().fuel();
        match r {
            Ok(v) => v,
            Err(e) => {
                st.exception = Some(e);
                jctx.failed = Status::Exception as u32;
                0
            }
        }
    }));
    r.unwrap_or_else(|_| {
        jctx.failed = Status::Internal as u32;
        0
    })
}

fn node<'a>(e: *const Expr) -> &'a Expr {
    // SAFETY: native code passes addresses of nodes of the body it was compiled from, which
    // its `Compiled` keeps alive (`Arc<Body>`) for as long as the code can run.
    unsafe { &*e }
}

/// A leaf node (constant, `context`, `default`, `typeof`) as the interpreter evaluates it.
extern "C" fn h_leaf(ctx: *mut JitCtx, e: *const Expr, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let v = st.interp().eval(node(e))?;
        st.put(dest, v)
    })
}

/// A copy of the value of handle `src` into slot `dest` (an assignment to a local of a handle
/// type: the local keeps its value while the node that computed it runs again).
extern "C" fn h_copy(ctx: *mut JitCtx, src: i64, dest: i64) -> i64 {
    with_state(ctx, |st| {
        if src == dest {
            return Ok(src);
        }
        let v = st.get(src);
        st.put(dest, v)
    })
}

/// A register value (its bits, of [`Prim::ALL`]`[prim]`) as a value handle.
extern "C" fn h_box(ctx: *mut JitCtx, bits: i64, prim: u32, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let v = match Prim::ALL.get(prim as usize) {
            Some(Prim::Bool) => Value::Bool(bits & 0xff != 0),
            Some(Prim::Int) => Value::Int(bits as i32),
            Some(Prim::UInt) => Value::UInt(bits as u32),
            Some(Prim::Long) => Value::Long(bits),
            Some(Prim::ULong) => Value::ULong(bits as u64),
            Some(Prim::Float) => Value::Float(f32::from_bits(bits as u32)),
            Some(Prim::Double) => Value::Double(f64::from_bits(bits as u64)),
            _ => return Err(Exception::invalid_op("box of an unknown type")),
        };
        st.put(dest, v)
    })
}

/// A value handle as register bits of `prim` (the value is already of that type).
extern "C" fn h_unbox(ctx: *mut JitCtx, h: i64, prim: u32) -> i64 {
    with_state(ctx, |st| {
        let p = Prim::ALL.get(prim as usize).copied().unwrap_or(Prim::Int);
        bits(&st.get(h), p)
    })
}

/// A library member call with evaluated receiver and argument handles. The member and its
/// type arguments come as constants of the code (the call node itself is not read: it would be
/// one more cache line per call).
#[allow(clippy::too_many_arguments)] // The C signature of one call site.
extern "C" fn h_call(
    ctx: *mut JitCtx,
    member: u32,
    targs: *const Ty,
    ntargs: u64,
    recv: i64,
    args: *const i64,
    n: u64,
    dest: i64,
) -> i64 {
    with_state(ctx, |st| {
        let type_args: &[Ty] = if ntargs == 0 {
            &[]
        } else {
            // SAFETY: `targs` and `ntargs` are the type arguments of a call node of the body
            // the code was compiled from, which its `Compiled` keeps alive (`Arc<Body>`).
            unsafe { std::slice::from_raw_parts(targs, ntargs as usize) }
        };
        let mut vals = st.args(args, n);
        let recv = st.get(recv);
        let v = st
            .interp()
            .call_slice(MemberId(member), type_args, recv, &mut vals);
        st.done_with(vals);
        st.put(dest, v?)
    })
}

/// A conversion (`Convert` node) of a value handle.
extern "C" fn h_convert(ctx: *mut JitCtx, e: *const Expr, h: i64, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let e = node(e);
        let ExprKind::Convert(conv, _) = &e.kind else {
            return Err(Exception::invalid_op("not a conversion"));
        };
        let v = st.get(h);
        let v = st.interp().convert_value(conv, v, &e.ty)?;
        st.put(dest, v)
    })
}

/// A binary operator (`Binary` node) on value handles.
extern "C" fn h_binary(ctx: *mut JitCtx, e: *const Expr, a: i64, b: i64, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let ExprKind::Binary(op, t, ..) = &node(e).kind else {
            return Err(Exception::invalid_op("not a binary operator"));
        };
        let (x, y) = (st.get(a), st.get(b));
        let v = arith::binary(st.interp(), *op, t, x, y)?;
        st.put(dest, v)
    })
}

/// The other composite nodes, over handles native code evaluated in the interpreter's order:
/// an assignment to an element or a member (the place's operands, then the value), an array
/// initializer (the items), `new T[n]` (n), an element read (array, index), `as`
/// (the value), `is` without a binding (the value), and an interpolated string (each hole's
/// value and alignment, the alignment's handle 0 when it has none).
extern "C" fn h_op(ctx: *mut JitCtx, e: *const Expr, args: *const i64, n: u64, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let mut vals = st.args(args, n);
        let arg = |i: usize| vals.get(i).unwrap_or(&Value::Null);
        let lib = Library::get();
        let v = match &node(e).kind {
            ExprKind::ArrayInit(t, _) => Value::array(t.clone(), vals.to_vec()),
            ExprKind::NewArray(t, _) => eval::new_array(t, arg(0), lib)?,
            ExprKind::Element(..) => eval::element(arg(0), arg(1))?,
            ExprKind::As(_, t) => {
                if convert::is_instance(lib, arg(0), t) {
                    arg(0).clone()
                } else {
                    Value::Null
                }
            }
            ExprKind::Is(_, t, None) => Value::Bool(convert::is_instance(lib, arg(0), t)),
            ExprKind::Assign(place, _) => {
                // The place's operands, then the value.
                let v = vals.pop().unwrap_or(Value::Null);
                st.interp()
                    .assign_evaluated(place, vals.to_vec(), v.clone())?;
                v
            }
            ExprKind::Format(parts) => {
                let mut out = String::new();
                let mut holes = vals.chunks(2);
                for p in parts {
                    match p {
                        FmtPart::Text(t) => out.push_str(t),
                        FmtPart::Hole { align, format, .. } => {
                            let (v, a) = match holes.next() {
                                Some([v, a]) => (v, a),
                                _ => return Err(Exception::invalid_op("missing hole")),
                            };
                            let text = convert::format_value(st.interp(), v, format.as_deref())?;
                            eval::push_hole(&mut out, text, align.as_ref().map(|_| a));
                        }
                    }
                }
                Value::str(out)
            }
            _ => return Err(Exception::invalid_op("not a composite node")),
        };
        st.put(dest, v)
    })
}

/// A unary operator (`Unary` node) on a value handle.
extern "C" fn h_unary(ctx: *mut JitCtx, e: *const Expr, a: i64, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let ExprKind::Unary(op, p, _) = &node(e).kind else {
            return Err(Exception::invalid_op("not a unary operator"));
        };
        let v = arith::unary(*op, *p, st.get(a))?;
        st.put(dest, v)
    })
}

/// A condition whose type the checker could not know, as `bool` (1 or 0), or the
/// interpreter's exception for a value that is not one.
extern "C" fn h_truth(ctx: *mut JitCtx, h: i64) -> i64 {
    with_state(ctx, |st| {
        let v = st.get(h);
        eval::truth_of(Library::get(), v).map(i64::from)
    })
}

/// What an island of statements ended with (its result code).
pub mod flow {
    /// Ran to its end.
    pub const NORMAL: i64 = 0;
    /// `return`: the value is in the locals array's last entry.
    pub const RETURN: i64 = 1;
    /// `break` out of the enclosing native loop.
    pub const BREAK: i64 = 2;
    /// `continue` of the enclosing native loop.
    pub const CONTINUE: i64 = 3;
}

/// An island: a statement (`kind` 0) or an expression (`kind` 1) of `body` that native code
/// does not compile, run by the interpreter over the body's locals. `locals` is
/// `[k, (local index, place, value) × k, returned value]`: native code stores each local the
/// island may reach (its place: frame slot, or `-1 - prim` in a register; its register bits or
/// handle) and reloads the values afterwards. A statement gives its
/// [`flow`] code (the returned value, delivered to `dest`, in the last entry); an expression
/// gives its value, delivered to `dest`.
extern "C" fn h_island(
    ctx: *mut JitCtx,
    body: *const Body,
    node: *const u8,
    kind: i64,
    locals: *mut i64,
    dest: i64,
) -> i64 {
    with_state(ctx, |st| {
        // SAFETY: native code passes the address of the body it was compiled from, which its
        // `Compiled` keeps alive (`Arc<Body>`).
        let body = unsafe { &*body };
        // SAFETY: `locals` is a stack slot native code filled just before this call with its
        // entry count first, and reads back after it; nothing else refers to it meanwhile.
        let k = usize::try_from(unsafe { *locals }).unwrap_or(0);
        // SAFETY: as above: the slot has `3 * k + 2` entries.
        let locals = unsafe { std::slice::from_raw_parts_mut(locals, 3 * k + 2) };
        // Each synced local: its index, its place (frame slot, or `-1 - prim`), its value.
        let entry = |locals: &[i64], j: usize| {
            (
                locals[1 + 3 * j] as usize,
                locals[2 + 3 * j],
                locals[3 + 3 * j],
            )
        };
        let reg = |place: i64| {
            (place < 0).then(|| {
                Prim::ALL
                    .get((-place - 1) as usize)
                    .copied()
                    .unwrap_or(Prim::Int)
            })
        };
        // All `null` between islands (each gives its values back), so kept at the body's size.
        let mut frame = std::mem::take(st.interp().frame_mut());
        if frame.len() != body.locals.len() {
            frame.clear();
            frame.resize(body.locals.len(), Value::Null);
        }
        for j in 0..k {
            let (i, place, raw) = entry(locals, j);
            if let Some(slot) = frame.get_mut(i) {
                *slot = match reg(place) {
                    Some(p) => decode(p, raw as u64),
                    None => st.peek(raw),
                };
            }
        }
        *st.interp().frame_mut() = frame;
        let r = if kind == 0 {
            // SAFETY: as for `body`: a statement node of it.
            let stmt = unsafe { &*node.cast::<Stmt>() };
            st.interp()
                .exec(std::slice::from_ref(stmt))
                .map(|c| match c {
                    Ctl::Normal => (flow::NORMAL, None),
                    Ctl::Return(v) => (flow::RETURN, Some(v)),
                    Ctl::Break => (flow::BREAK, None),
                    Ctl::Continue => (flow::CONTINUE, None),
                })
        } else {
            // SAFETY: as for `body`: an expression node of it.
            let e = unsafe { &*node.cast::<Expr>() };
            st.interp().eval(e).map(|v| (0, Some(v)))
        };
        // Leaving the body: a deferred sequence runs while the frame is set.
        let r = match r {
            Ok((flow::RETURN, Some(v))) if kind == 0 => {
                st.interp().settle(v).map(|v| (flow::RETURN, Some(v)))
            }
            other => other,
        };
        // The locals as the interpreter left them, even when it raised (a `catch` of native
        // code never sees them, but the frame must not keep handles alive).
        let mut frame = std::mem::take(st.interp().frame_mut());
        for j in 0..k {
            let (i, place, _) = entry(locals, j);
            let v = frame
                .get_mut(i)
                .map_or(Value::Null, |v| std::mem::replace(v, Value::Null));
            locals[3 + 3 * j] = match reg(place) {
                Some(p) => bits(&v, p).unwrap_or(0),
                None => st.put(place, v)?,
            };
        }
        *st.interp().frame_mut() = frame;
        let (code, v) = r?;
        let v = v.unwrap_or(Value::Null);
        Ok(if kind == 0 {
            if code == flow::RETURN {
                locals[1 + 3 * k] = st.put(dest, v)?;
            }
            code
        } else {
            st.put(dest, v)?
        })
    })
}

/// `double % double` as C# computes it (the sign of the dividend; IEEE `fmod`).
extern "C" fn f64_rem(x: f64, y: f64) -> f64 {
    x % y
}

/// `float % float`.
extern "C" fn f32_rem(x: f32, y: f32) -> f32 {
    x % y
}

/// An unchecked conversion from `double` to an integer type, as the interpreter does it
/// (.NET 8 on x64: out-of-range values give the "integer indefinite" value); `to` is a
/// [`Prim`] index. Integers come back sign- or zero-extended in 64 bits.
extern "C" fn f64_to_int(x: f64, to: u32) -> i64 {
    catch_unwind(AssertUnwindSafe(|| {
        let prim = Prim::ALL.get(to as usize).copied().unwrap_or(Prim::Int);
        match convert::numeric(&Value::Double(x), prim, false) {
            Ok(Value::Int(v)) => i64::from(v),
            Ok(Value::UInt(v)) => i64::from(v),
            Ok(Value::Long(v)) => v,
            Ok(Value::ULong(v)) => v as i64,
            _ => 0,
        }
    }))
    .unwrap_or(0)
}

/// One entry of the table: the symbol native code imports, where it is, and its signature.
#[derive(Debug, Clone, Copy)]
pub struct HostFn {
    /// The symbol name.
    pub name: &'static str,
    /// The function's address.
    pub addr: *const u8,
    /// Parameter types.
    pub params: &'static [types::Type],
    /// Return types.
    pub returns: &'static [types::Type],
}

// SAFETY of the table as a whole: each `addr` is the address of the `extern "C"` function
// named beside it, whose Rust signature matches `params` and `returns` exactly (pointers are
// 64-bit: the JIT runs on 64-bit hosts only); the lowering declares imports only from this
// table, so native code calls them with that signature.
/// Every host function, in the order of [`crate::lower::HostRefs`].
pub fn table() -> [HostFn; 14] {
    const P: types::Type = types::I64;
    [
        HostFn {
            name: "tp_f64_rem",
            addr: f64_rem as *const u8,
            params: &[types::F64, types::F64],
            returns: &[types::F64],
        },
        HostFn {
            name: "tp_f32_rem",
            addr: f32_rem as *const u8,
            params: &[types::F32, types::F32],
            returns: &[types::F32],
        },
        HostFn {
            name: "tp_f64_to_int",
            addr: f64_to_int as *const u8,
            params: &[types::F64, types::I32],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_leaf",
            addr: h_leaf as *const u8,
            params: &[P, P, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_box",
            addr: h_box as *const u8,
            params: &[P, types::I64, types::I32, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_unbox",
            addr: h_unbox as *const u8,
            params: &[P, types::I64, types::I32],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_call",
            addr: h_call as *const u8,
            params: &[
                P,
                types::I32,
                P,
                types::I64,
                types::I64,
                P,
                types::I64,
                types::I64,
            ],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_convert",
            addr: h_convert as *const u8,
            params: &[P, P, types::I64, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_binary",
            addr: h_binary as *const u8,
            params: &[P, P, types::I64, types::I64, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_unary",
            addr: h_unary as *const u8,
            params: &[P, P, types::I64, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_op",
            addr: h_op as *const u8,
            params: &[P, P, P, types::I64, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_island",
            addr: h_island as *const u8,
            params: &[P, P, P, types::I64, P, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_truth",
            addr: h_truth as *const u8,
            params: &[P, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_copy",
            addr: h_copy as *const u8,
            params: &[P, types::I64, types::I64],
            returns: &[types::I64],
        },
    ]
}

/// The Cranelift signature of a host function.
pub fn signature(f: &HostFn, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .extend(f.params.iter().map(|t| AbiParam::new(*t)));
    sig.returns
        .extend(f.returns.iter().map(|t| AbiParam::new(*t)));
    sig
}

/// The index of `p` in [`Prim::ALL`] (what `tp_f64_to_int` takes).
pub fn prim_index(p: Prim) -> u32 {
    Prim::ALL.iter().position(|x| *x == p).unwrap_or(0) as u32
}
