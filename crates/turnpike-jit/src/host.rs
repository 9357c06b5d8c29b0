//! The host-function table: every `extern "C"` function native code may call, in one place.
//!
//! Host functions never unwind into native code: each body runs under `catch_unwind` and a
//! panic becomes the status [`Status::Internal`]. They compute exactly what the interpreter
//! computes, by calling the interpreter's own functions.

#![allow(unsafe_code)] // Host functions read the evaluation state through the pointer native code passes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use cranelift_codegen::ir::{AbiParam, Signature, types};
use cranelift_codegen::isa::CallConv;
use turnpike_interp::eval::{self, Interp};
use turnpike_interp::{Context, Exception, Options, Value, arith, convert};
use turnpike_ir::ir::{Expr, ExprKind, FmtPart};
use turnpike_ir::{Library, Prim};

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

/// What host functions share during one evaluation: the values native code holds as handles
/// (index 0 is always `null`), the interpreter that runs library members, and the exception a
/// host function raised.
#[derive(Debug)]
pub struct HostState {
    /// Values by handle.
    pub arena: Vec<Value>,
    /// The request context and options, for the interpreter made on first use.
    pub ctx: Rc<Context>,
    /// Options of the evaluation.
    pub opts: Options,
    interp: Option<Interp>,
    /// Fuel handed to an interpreter made during a host call.
    fuel: u64,
    /// The exception a host function raised.
    pub exception: Option<Exception>,
}

impl HostState {
    /// The state of an evaluation against `ctx`.
    pub fn new(ctx: Rc<Context>, opts: Options) -> HostState {
        HostState {
            // Allocated on first use: bodies of numbers alone never touch it.
            arena: Vec::new(),
            ctx,
            opts,
            interp: None,
            fuel: 0,
            exception: None,
        }
    }

    fn interp(&mut self) -> &mut Interp {
        let (ctx, opts, fuel) = (&self.ctx, &self.opts, self.fuel);
        self.interp.get_or_insert_with(|| {
            let mut it = Interp::new(Library::get(), ctx.clone(), opts.clone(), 0);
            it.set_fuel(fuel);
            it
        })
    }

    /// The value of a handle (0 is `null`).
    pub fn value(&self, h: u64) -> Value {
        self.get(h as i64)
    }

    fn get(&self, h: i64) -> Value {
        self.arena.get(h as usize).cloned().unwrap_or(Value::Null)
    }

    fn put(&mut self, v: Value) -> i64 {
        if v.is_null() {
            return 0;
        }
        if self.arena.is_empty() {
            self.arena.reserve(16);
            self.arena.push(Value::Null);
        }
        self.arena.push(v);
        (self.arena.len() - 1) as i64
    }
}

/// Runs a host function's body: the interpreter's fuel is the native code's; an exception
/// is kept and flagged; a panic is flagged as internal. `f` gives a handle or raw bits.
fn with_state(ctx: *mut JitCtx, f: impl FnOnce(&mut HostState) -> Result<i64, Exception>) -> i64 {
    // SAFETY: native code passes the `JitCtx` that `Compiled::run` made on its stack, whose
    // `host` points to that call's `HostState`; both outlive the native call, and nothing
    // else touches them while a host function runs (evaluation is single-threaded).
    let jctx = unsafe { &mut *ctx };
    // SAFETY: as above.
    let st = unsafe { &mut *jctx.host };
    // The fuel is the native code's: an interpreter (made on first need) burns from it.
    st.fuel = jctx.fuel;
    if let Some(it) = st.interp.as_mut() {
        it.set_fuel(jctx.fuel);
    }
    let r = catch_unwind(AssertUnwindSafe(|| {
        let r = f(st);
        (r, st.interp.as_ref().map_or(st.fuel, Interp::fuel))
    }));
    match r {
        Ok((Ok(v), fuel)) => {
            jctx.fuel = fuel;
            v
        }
        Ok((Err(e), fuel)) => {
            jctx.fuel = fuel;
            st.exception = Some(e);
            jctx.failed = Status::Exception as u32;
            0
        }
        Err(_) => {
            jctx.failed = Status::Internal as u32;
            0
        }
    }
}

fn node<'a>(e: *const Expr) -> &'a Expr {
    // SAFETY: native code passes addresses of nodes of the body it was compiled from, which
    // its `Compiled` keeps alive (`Arc<Body>`) for as long as the code can run.
    unsafe { &*e }
}

/// A leaf node (constant, `context`, `default`, `typeof`) as the interpreter evaluates it.
extern "C" fn h_leaf(ctx: *mut JitCtx, e: *const Expr) -> i64 {
    with_state(ctx, |st| {
        // A string literal needs no interpreter.
        if let ExprKind::Const(turnpike_ir::ir::Const::String(s)) = &node(e).kind {
            return Ok(st.put(Value::Str(s.clone())));
        }
        let v = st.interp().eval(node(e))?;
        Ok(st.put(v))
    })
}

/// A register value (its bits, of [`Prim::ALL`]`[prim]`) as a value handle.
extern "C" fn h_box(ctx: *mut JitCtx, bits: i64, prim: u32) -> i64 {
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
        Ok(st.put(v))
    })
}

/// A value handle as register bits of `prim` (the value is already of that type).
extern "C" fn h_unbox(ctx: *mut JitCtx, h: i64, prim: u32) -> i64 {
    with_state(ctx, |st| {
        let v = st.get(h);
        let p = Prim::ALL.get(prim as usize).copied().unwrap_or(Prim::Int);
        Ok(match convert::numeric(&v, p, false)? {
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
    })
}

/// A library member call (`Call` node) with evaluated receiver and argument handles.
extern "C" fn h_call(ctx: *mut JitCtx, e: *const Expr, recv: i64, args: *const i64, n: u64) -> i64 {
    with_state(ctx, |st| {
        let ExprKind::Call {
            member, type_args, ..
        } = &node(e).kind
        else {
            return Err(Exception::invalid_op("not a call"));
        };
        let vals: Vec<Value> = (0..n as usize)
            // SAFETY: `args` points to `n` handles native code stored in a stack slot just
            // before this call.
            .map(|i| st.get(unsafe { *args.add(i) }))
            .collect();
        let recv = st.get(recv);
        let v = st.interp().call_values(*member, type_args, recv, vals)?;
        Ok(st.put(v))
    })
}

/// A conversion (`Convert` node) of a value handle.
extern "C" fn h_convert(ctx: *mut JitCtx, e: *const Expr, h: i64) -> i64 {
    with_state(ctx, |st| {
        let e = node(e);
        let ExprKind::Convert(conv, _) = &e.kind else {
            return Err(Exception::invalid_op("not a conversion"));
        };
        let v = st.get(h);
        let v = st.interp().convert_value(conv, v, &e.ty)?;
        Ok(st.put(v))
    })
}

/// A binary operator (`Binary` node) on value handles.
extern "C" fn h_binary(ctx: *mut JitCtx, e: *const Expr, a: i64, b: i64) -> i64 {
    with_state(ctx, |st| {
        let ExprKind::Binary(op, t, ..) = &node(e).kind else {
            return Err(Exception::invalid_op("not a binary operator"));
        };
        let (x, y) = (st.get(a), st.get(b));
        let v = arith::binary(st.interp(), *op, t, x, y)?;
        Ok(st.put(v))
    })
}

/// The other composite nodes, over handles native code evaluated in the interpreter's order:
/// an assignment to an element or a member (the place's operands, then the value), an array
/// initializer (the items), `new T[n]` (n), an element read (array, index), `as`
/// (the value), `is` without a binding (the value), and one step of an interpolated string
/// (`extra` is the part index of a hole, or the part count to finish; the handles are the
/// text so far, the hole's value and its alignment).
extern "C" fn h_op(ctx: *mut JitCtx, e: *const Expr, args: *const i64, n: u64, extra: i64) -> i64 {
    with_state(ctx, |st| {
        let vals: Vec<Value> = (0..n as usize)
            // SAFETY: `args` points to `n` handles native code stored just before the call.
            .map(|i| st.get(unsafe { *args.add(i) }))
            .collect();
        let arg = |i: usize| vals.get(i).cloned().unwrap_or(Value::Null);
        let lib = Library::get();
        let v = match &node(e).kind {
            ExprKind::ArrayInit(t, _) => Value::array(t.clone(), vals.clone()),
            ExprKind::NewArray(t, _) => eval::new_array(t, &arg(0), lib)?,
            ExprKind::Element(..) => eval::element(&arg(0), &arg(1))?,
            ExprKind::As(_, t) => {
                let v = arg(0);
                if convert::is_instance(lib, &v, t) {
                    v
                } else {
                    Value::Null
                }
            }
            ExprKind::Is(_, t, None) => Value::Bool(convert::is_instance(lib, &arg(0), t)),
            ExprKind::Assign(place, _) => {
                // The place's operands, then the value.
                let mut operands = vals.clone();
                let v = operands.pop().unwrap_or(Value::Null);
                st.interp().assign_evaluated(place, operands, v.clone())?;
                v
            }
            ExprKind::Format(parts) => {
                let mut out = match arg(0) {
                    Value::Str(s) => s.to_string(),
                    _ => String::new(),
                };
                let upto = usize::try_from(extra).unwrap_or(0).min(parts.len());
                // The literal text between the previous hole and this part.
                let from = parts[..upto]
                    .iter()
                    .rposition(|p| matches!(p, FmtPart::Hole { .. }))
                    .map_or(0, |i| i + 1);
                for p in &parts[from..upto] {
                    if let FmtPart::Text(t) = p {
                        out.push_str(t);
                    }
                }
                if let Some(FmtPart::Hole { align, format, .. }) = parts.get(upto) {
                    let text = convert::format_value(st.interp(), &arg(1), format.as_deref())?;
                    eval::push_hole(&mut out, text, align.as_ref().map(|_| &vals[2]));
                }
                Value::str(out)
            }
            _ => return Err(Exception::invalid_op("not a composite node")),
        };
        Ok(st.put(v))
    })
}

/// A unary operator (`Unary` node) on a value handle.
extern "C" fn h_unary(ctx: *mut JitCtx, e: *const Expr, a: i64) -> i64 {
    with_state(ctx, |st| {
        let ExprKind::Unary(op, p, _) = &node(e).kind else {
            return Err(Exception::invalid_op("not a unary operator"));
        };
        let v = arith::unary(*op, *p, st.get(a))?;
        Ok(st.put(v))
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
pub fn table() -> [HostFn; 11] {
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
            params: &[P, P],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_box",
            addr: h_box as *const u8,
            params: &[P, types::I64, types::I32],
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
            params: &[P, P, types::I64, P, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_convert",
            addr: h_convert as *const u8,
            params: &[P, P, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_binary",
            addr: h_binary as *const u8,
            params: &[P, P, types::I64, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_unary",
            addr: h_unary as *const u8,
            params: &[P, P, types::I64],
            returns: &[types::I64],
        },
        HostFn {
            name: "tp_op",
            addr: h_op as *const u8,
            params: &[P, P, P, types::I64, types::I64],
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
