//! The state host functions share during one evaluation: the value frame, the interpreter,
//! the per-thread pool of states, and the guard every host function runs under.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;

use turnpike_interp::context::HostRef;
use turnpike_interp::eval::Interp;
use turnpike_interp::value::Obj;
use turnpike_interp::{Context, Exception, Options, Value, convert};
use turnpike_ir::ir::{Body, Expr};
use turnpike_ir::{Library, Prim};

use super::{JitCtx, Status};

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
pub(super) fn bits(v: &Value, p: Prim) -> Result<i64, Exception> {
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
    pub(super) fn interp(&mut self) -> &mut Interp {
        &mut self.interp
    }

    /// The value of a handle (0 is `null`).
    pub fn value(&self, h: u64) -> Value {
        self.peek(h as i64)
    }

    /// The value of a handle, left in place.
    pub(super) fn peek(&self, h: i64) -> Value {
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
    pub(super) fn get(&mut self, h: i64) -> Value {
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
    pub(super) fn put(&mut self, dest: i64, v: Value) -> Result<i64, Exception> {
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
    pub(super) fn args(&mut self, args: *const i64, n: u64) -> Vec<Value> {
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
    pub(super) fn done_with(&mut self, mut vals: Vec<Value>) {
        vals.clear();
        self.scratch = vals;
    }
}

/// Runs a host function's body: the interpreter's fuel is the native code's; an exception
/// is kept and flagged; a panic is flagged as internal. `f` gives a handle or raw bits.
pub(super) fn with_state(
    ctx: *mut JitCtx,
    f: impl FnOnce(&mut HostState) -> Result<i64, Exception>,
) -> i64 {
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

pub(super) fn node<'a>(e: *const Expr) -> &'a Expr {
    // SAFETY: native code passes addresses of nodes of the body it was compiled from, which
    // its `Compiled` keeps alive (`Arc<Body>`) for as long as the code can run.
    unsafe { &*e }
}
