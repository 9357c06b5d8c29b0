//! The host functions of single nodes: leaves, copies, boxing, member calls, conversions,
//! operators, composite nodes, conditions, and floating-point helpers.

use std::panic::{AssertUnwindSafe, catch_unwind};

use turnpike_interp::eval::{self};
use turnpike_interp::{Exception, Value, arith, convert};
use turnpike_ir::ir::{Expr, ExprKind};
use turnpike_ir::{Library, MemberId, Prim, Ty};

use super::JitCtx;
use super::state::{bits, node, with_state};

/// A leaf node (constant, `context`, `default`, `typeof`) as the interpreter evaluates it.
pub(super) extern "C" fn h_leaf(ctx: *mut JitCtx, e: *const Expr, dest: i64) -> i64 {
    with_state(ctx, |st| {
        let v = st.interp().eval(node(e))?;
        st.put(dest, v)
    })
}

/// A copy of the value of handle `src` into slot `dest` (an assignment to a local of a handle
/// type: the local keeps its value while the node that computed it runs again).
pub(super) extern "C" fn h_copy(ctx: *mut JitCtx, src: i64, dest: i64) -> i64 {
    with_state(ctx, |st| {
        if src == dest {
            return Ok(src);
        }
        let v = st.get(src);
        st.put(dest, v)
    })
}

/// A register value (its bits, of [`Prim::ALL`]`[prim]`) as a value handle.
pub(super) extern "C" fn h_box(ctx: *mut JitCtx, bits: i64, prim: u32, dest: i64) -> i64 {
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
pub(super) extern "C" fn h_unbox(ctx: *mut JitCtx, h: i64, prim: u32) -> i64 {
    with_state(ctx, |st| {
        let p = Prim::ALL.get(prim as usize).copied().unwrap_or(Prim::Int);
        bits(&st.get(h), p)
    })
}

/// A library member call with evaluated receiver and argument handles. The member and its
/// type arguments come as constants of the code (the call node itself is not read: it would be
/// one more cache line per call).
#[allow(clippy::too_many_arguments)] // The C signature of one call site.
pub(super) extern "C" fn h_call(
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
            .call_native(MemberId(member), type_args, recv, &mut vals);
        st.done_with(vals);
        st.put(dest, v?)
    })
}

/// A conversion (`Convert` node) of a value handle.
pub(super) extern "C" fn h_convert(ctx: *mut JitCtx, e: *const Expr, h: i64, dest: i64) -> i64 {
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
pub(super) extern "C" fn h_binary(
    ctx: *mut JitCtx,
    e: *const Expr,
    a: i64,
    b: i64,
    dest: i64,
) -> i64 {
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
pub(super) extern "C" fn h_op(
    ctx: *mut JitCtx,
    e: *const Expr,
    args: *const i64,
    n: u64,
    dest: i64,
) -> i64 {
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
                let mut holes = vals.chunks(2);
                eval::format_parts(st.interp(), parts, |_, _, align| match holes.next() {
                    Some([v, a]) => Ok((v.clone(), align.map(|_| a.clone()))),
                    _ => Err(Exception::invalid_op("missing hole")),
                })?
            }
            _ => return Err(Exception::invalid_op("not a composite node")),
        };
        st.put(dest, v)
    })
}

/// A unary operator (`Unary` node) on a value handle.
pub(super) extern "C" fn h_unary(ctx: *mut JitCtx, e: *const Expr, a: i64, dest: i64) -> i64 {
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
pub(super) extern "C" fn h_truth(ctx: *mut JitCtx, h: i64) -> i64 {
    with_state(ctx, |st| {
        let v = st.get(h);
        eval::truth_of(Library::get(), v).map(i64::from)
    })
}

/// `double % double` as C# computes it (the sign of the dividend; IEEE `fmod`).
pub(super) extern "C" fn f64_rem(x: f64, y: f64) -> f64 {
    x % y
}

/// `float % float`.
pub(super) extern "C" fn f32_rem(x: f32, y: f32) -> f32 {
    x % y
}

/// An unchecked conversion from `double` to an integer type, as the interpreter does it
/// (.NET 8 on x64: out-of-range values give the "integer indefinite" value); `to` is a
/// [`Prim`] index. Integers come back sign- or zero-extended in 64 bits.
pub(super) extern "C" fn f64_to_int(x: f64, to: u32) -> i64 {
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
