//! The host-function table: every `extern "C"` function native code may call, in one place.
//!
//! Host functions never unwind into native code: each body runs under `catch_unwind` and a
//! panic becomes the status [`Status::Internal`]. They compute exactly what the interpreter
//! computes, by calling the interpreter's own functions.

#![allow(unsafe_code)] // Host functions read the evaluation state through the pointer native code passes.

use cranelift_codegen::ir::{AbiParam, Signature, types};
use cranelift_codegen::isa::CallConv;
use turnpike_ir::Prim;

mod fns;
mod island;
mod state;

pub use island::flow;
pub use state::{CONTEXT_SLOT, Frame, HostState, decode, local_places};

use fns::*;
use island::h_island;

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
