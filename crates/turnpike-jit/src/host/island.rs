//! Islands: a statement or expression run by the interpreter over native code's locals.

use turnpike_interp::Value;
use turnpike_interp::eval::Ctl;
use turnpike_ir::Prim;
use turnpike_ir::ir::{Body, Expr, Stmt};

use super::JitCtx;
use super::state::{bits, decode, with_state};

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
pub(super) extern "C" fn h_island(
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
