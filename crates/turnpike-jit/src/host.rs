//! The host-function table: every `extern "C"` function native code may call, in one place.
//!
//! Host functions never unwind into native code: each body runs under `catch_unwind` and a
//! panic becomes the status [`Status::Internal`]. They compute exactly what the interpreter
//! computes, by calling the interpreter's own functions.

use std::panic::{AssertUnwindSafe, catch_unwind};

use cranelift_codegen::ir::{AbiParam, Signature, types};
use cranelift_codegen::isa::CallConv;
use turnpike_interp::Value;
use turnpike_interp::convert;
use turnpike_ir::Prim;

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
}

impl Status {
    /// The status a native function returned.
    pub fn from_code(code: u32) -> Status {
        match code {
            0 => Status::Ok,
            1 => Status::DivideByZero,
            2 => Status::Overflow,
            3 => Status::OutOfFuel,
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
    /// Set by a host function that panicked.
    pub host_panicked: u32,
}

/// Byte offset of [`JitCtx::fuel`].
pub const FUEL_OFFSET: i32 = 0;

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
// named beside it, whose Rust signature matches `params` and `returns` exactly; the lowering
// declares imports only from this table, so native code calls them with that signature.
/// Every host function.
pub fn table() -> [HostFn; 3] {
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
