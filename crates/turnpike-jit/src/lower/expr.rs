//! Expressions: each IR form to register values or handles.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    BlockArg, InstBuilder, StackSlotData, StackSlotKind, Value as CValue, types,
};
use turnpike_ir::ir::{Const, Conv, Expr, ExprKind, OpType, Place, UnOp};
use turnpike_ir::{Prim, Ty};

use super::{
    HANDLE, Lower, Unsupported, clif_type, is_float, prim_of, reg_prim, unsupported, zero,
};
use crate::host::Status;

impl Lower<'_, '_> {
    /// Whether `e` runs natively here: always, but in a body with lambdas only the nodes
    /// that never reach the interpreter (a library call there may invoke a lambda, which reads
    /// and writes the locals in the interpreter's frame; the others are islands).
    fn native_here(&self, e: &Expr) -> bool {
        if !self.lambdas {
            return true;
        }
        let reg = |x: &Expr| reg_prim(&x.ty).is_some();
        match &e.kind {
            ExprKind::Const(_)
            | ExprKind::Local(_)
            | ExprKind::Context
            | ExprKind::Logical(..)
            | ExprKind::Cond(..)
            | ExprKind::Coalesce(..)
            | ExprKind::Seq(..) => true,
            ExprKind::Assign(place, _)
            | ExprKind::IncDec { place, .. }
            | ExprKind::Compound { place, .. } => matches!(**place, Place::Local(_)),
            ExprKind::Unary(_, p, x) => clif_type(*p).is_some() && reg(x),
            ExprKind::Binary(_, OpType::Prim(p) | OpType::Checked(p), a, b) => {
                clif_type(*p).is_some() && reg(a) && reg(b)
            }
            ExprKind::Convert(Conv::Numeric(from, to), _) => {
                clif_type(*from).is_some()
                    && clif_type(*to).is_some()
                    && *from != Prim::Bool
                    && *to != Prim::Bool
            }
            ExprKind::Default(ty) => reg_prim(ty).is_some(),
            _ => false,
        }
    }

    /// Whether every node of a statement runs natively here.
    pub(super) fn stmt_native(&self, s: &turnpike_ir::ir::Stmt) -> bool {
        !turnpike_ir::ir::any_expr(std::slice::from_ref(s), |e| !self.native_here(e))
    }

    pub(super) fn expr(&mut self, e: &Expr) -> Result<CValue, Unsupported> {
        if !self.native_here(e) {
            return Ok(self.island_expr(e));
        }
        Ok(match &e.kind {
            ExprKind::Const(Const::Null) if reg_prim(&e.ty).is_none() => {
                self.b.ins().iconst(HANDLE, 0)
            }
            ExprKind::Const(c) if reg_prim(&e.ty).is_some() => self.constant(c, &e.ty)?,
            ExprKind::Const(Const::String(s)) => self.string_const(s),
            ExprKind::Context => {
                self.used_context = true;
                self.b.ins().iconst(HANDLE, crate::host::CONTEXT_SLOT)
            }
            ExprKind::Const(_) | ExprKind::TypeOf(_) | ExprKind::Unsupported(_) => self.leaf(e),
            ExprKind::ArrayInit(_, items) => {
                let items: Vec<&Expr> = items.iter().collect();
                let h = self.op(e, &items)?;
                self.result(h, &e.ty)
            }
            ExprKind::NewArray(_, n) | ExprKind::As(n, _) | ExprKind::Is(n, _, None) => {
                let h = self.op(e, &[&**n])?;
                self.result(h, &e.ty)
            }
            ExprKind::Element(a, i) => {
                let h = self.op(e, &[&**a, &**i])?;
                self.result(h, &e.ty)
            }
            ExprKind::Format(parts) => {
                let mut hs = Vec::new();
                for p in parts {
                    if let turnpike_ir::ir::FmtPart::Hole { value, align, .. } = p {
                        hs.push(self.boxed(value)?);
                        hs.push(match align {
                            Some(a) => self.boxed(a)?,
                            None => self.b.ins().iconst(HANDLE, 0),
                        });
                    }
                }
                self.op_handles(e, &hs)
            }
            ExprKind::Default(ty) if reg_prim(ty).is_none() => self.leaf(e),
            ExprKind::Local(id) => {
                let (v, _) = self.var(*id)?;
                self.b.use_var(v)
            }
            ExprKind::Convert(Conv::Numeric(from, to), inner)
                if clif_type(*from).is_some()
                    && clif_type(*to).is_some()
                    && *from != Prim::Bool
                    && *to != Prim::Bool =>
            {
                let x = self.expr(inner)?;
                self.numeric(x, *from, *to)?
            }
            ExprKind::Convert(_, inner) => {
                let h = self.boxed(inner)?;
                let n = self.node(e);
                let ctx = self.ctx_ptr;
                let dest = self.dest_for(&e.ty);
                let r = self.host_call(self.host.convert, &[ctx, n, h, dest]);
                self.result(r, &e.ty)
            }
            ExprKind::Unary(_, p, x) if clif_type(*p).is_none() || reg_prim(&x.ty).is_none() => {
                let h = self.boxed(x)?;
                let n = self.node(e);
                let ctx = self.ctx_ptr;
                let dest = self.dest_for(&e.ty);
                let r = self.host_call(self.host.unary, &[ctx, n, h, dest]);
                self.result(r, &e.ty)
            }
            ExprKind::Binary(_, t, a, b)
                if !matches!(t, OpType::Prim(p) | OpType::Checked(p) if clif_type(*p).is_some())
                    || reg_prim(&a.ty).is_none()
                    || reg_prim(&b.ty).is_none() =>
            {
                let x = self.boxed(a)?;
                let y = self.boxed(b)?;
                let n = self.node(e);
                let ctx = self.ctx_ptr;
                let dest = self.dest_for(&e.ty);
                let r = self.host_call(self.host.binary, &[ctx, n, x, y, dest]);
                self.result(r, &e.ty)
            }
            ExprKind::Call {
                member,
                type_args,
                recv,
                args,
            } => {
                if args.iter().any(|a| matches!(a.kind, ExprKind::Ref(_))) {
                    return Ok(self.island_expr(e));
                }
                let r = match recv {
                    Some(r) => {
                        let h = self.boxed(r)?;
                        // An instance member on `null`, before the arguments are evaluated.
                        if !turnpike_ir::Library::get().member(*member).is_static {
                            let null = self.b.ins().icmp_imm_s(IntCC::Equal, h, 0);
                            self.raise_if(null, Status::NullReference);
                        }
                        h
                    }
                    None => self.b.ins().iconst(HANDLE, 0),
                };
                let n = args.len();
                let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    (8 * n.max(1)) as u32,
                    3,
                ));
                for (i, a) in args.iter().enumerate() {
                    let h = self.boxed(a)?;
                    self.b
                        .ins()
                        .stack_store(types::I64, h, slot, (8 * i) as i32);
                }
                let addr = self.b.ins().stack_addr(types::I64, slot, 0);
                let count = self.b.ins().iconst(types::I64, n as i64);
                let m = self.b.ins().iconst(types::I32, i64::from(member.0 as i32));
                let targs = self.b.ins().iconst(types::I64, type_args.as_ptr() as i64);
                let ntargs = self.b.ins().iconst(types::I64, type_args.len() as i64);
                let ctx = self.ctx_ptr;
                let dest = self.dest_for(&e.ty);
                let h = self.host_call(
                    self.host.call,
                    &[ctx, m, targs, ntargs, r, addr, count, dest],
                );
                if e.ty == Ty::Void {
                    h
                } else {
                    self.result(h, &e.ty)
                }
            }
            ExprKind::NullCond { recv, tmp, rest } => {
                if reg_prim(&e.ty).is_some() || reg_prim(&recv.ty).is_some() {
                    return Ok(self.island_expr(e));
                }
                let h = self.boxed(recv)?;
                let (tmp_var, _) = self.var(*tmp)?;
                // The receiver moves into the temporary's slot: `rest` may read it more than once.
                let h = self.store_local(*tmp, h);
                self.b.def_var(tmp_var, h);
                let (some, join) = (self.b.create_block(), self.b.create_block());
                let r = self.b.append_block_param(join, HANDLE);
                let null = self.b.ins().iconst(HANDLE, 0);
                self.b
                    .ins()
                    .brif(h, some, &[], join, &[BlockArg::from(null)]);
                self.b.switch_to_block(some);
                let v = self.boxed(rest)?;
                self.b.ins().jump(join, &[BlockArg::from(v)]);
                self.b.switch_to_block(join);
                r
            }
            ExprKind::Coalesce(a, b) => {
                let h = self.boxed(a)?;
                let p = reg_prim(&e.ty);
                let t = p.and_then(clif_type).unwrap_or(HANDLE);
                let (some, none, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                let r = self.b.append_block_param(join, t);
                self.b.ins().brif(h, some, &[], none, &[]);
                self.b.switch_to_block(some);
                let x = match p {
                    Some(p) => self.unboxed(h, p),
                    None => h,
                };
                self.b.ins().jump(join, &[BlockArg::from(x)]);
                self.b.switch_to_block(none);
                let y = match p {
                    Some(_) => self.expr(b)?,
                    None => self.boxed(b)?,
                };
                self.b.ins().jump(join, &[BlockArg::from(y)]);
                self.b.switch_to_block(join);
                r
            }
            ExprKind::Unary(op, p, x) => {
                let p = *p;
                clif_type(p).ok_or_else(|| Unsupported(format!("`{p:?}` operands")))?;
                let v = self.expr(x)?;
                match op {
                    UnOp::Neg if is_float(p) => self.b.ins().fneg(v),
                    UnOp::Neg => self.b.ins().ineg(v),
                    UnOp::CheckedNeg if is_float(p) => self.b.ins().fneg(v),
                    UnOp::CheckedNeg => {
                        let min = self.min_of(p)?;
                        let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, v, min);
                        self.raise_if(is_min, Status::Overflow);
                        self.b.ins().ineg(v)
                    }
                    UnOp::Not => self.b.ins().bxor_imm_s(v, 1),
                    UnOp::BitNot => self.b.ins().bnot(v),
                }
            }
            ExprKind::Binary(op, t, a, b) => {
                let (p, checked) = match t {
                    OpType::Prim(p) => (*p, false),
                    OpType::Checked(p) => (*p, true),
                    other => return unsupported(format!("operands of kind {other:?}")),
                };
                clif_type(p).ok_or_else(|| Unsupported(format!("`{p:?}` operands")))?;
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                let y_prim = prim_of(&b.ty)?;
                self.binary(*op, p, checked, x, y, y_prim)?
            }
            ExprKind::Logical(is_and, a, b) => {
                let x = self.cond(a)?;
                let rhs = self.b.create_block();
                let join = self.b.create_block();
                let r = self.b.append_block_param(join, types::I8);
                if *is_and {
                    self.b.ins().brif(x, rhs, &[], join, &[BlockArg::from(x)]);
                } else {
                    self.b.ins().brif(x, join, &[BlockArg::from(x)], rhs, &[]);
                }
                self.b.switch_to_block(rhs);
                let y = self.cond(b)?;
                self.b.ins().jump(join, &[BlockArg::from(y)]);
                self.b.switch_to_block(join);
                r
            }
            ExprKind::Cond(c, a, b) => {
                let p = reg_prim(&e.ty);
                let t = p.and_then(clif_type).unwrap_or(HANDLE);
                let c = self.cond(c)?;
                let (tb, fb, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                let r = self.b.append_block_param(join, t);
                self.b.ins().brif(c, tb, &[], fb, &[]);
                self.b.switch_to_block(tb);
                let x = if p.is_some() {
                    self.expr(a)?
                } else {
                    self.boxed(a)?
                };
                self.b.ins().jump(join, &[BlockArg::from(x)]);
                self.b.switch_to_block(fb);
                let y = if p.is_some() {
                    self.expr(b)?
                } else {
                    self.boxed(b)?
                };
                self.b.ins().jump(join, &[BlockArg::from(y)]);
                self.b.switch_to_block(join);
                r
            }
            ExprKind::Assign(place, value) if !matches!(**place, Place::Local(_)) => {
                let mut operands: Vec<&Expr> = Vec::new();
                match &**place {
                    Place::Element { array, index } => {
                        operands.push(array);
                        operands.push(index);
                    }
                    Place::Member { recv, args, .. } => {
                        operands.extend(recv.as_deref());
                        operands.extend(args.iter());
                    }
                    Place::Local(_) => {}
                }
                operands.push(value);
                let h = self.op(e, &operands)?;
                self.result(h, &e.ty)
            }
            ExprKind::Assign(place, value) => {
                let Place::Local(id) = &**place else {
                    return unsupported("assignment to a non-local place");
                };
                let (var, p) = self.var(*id)?;
                let v = match p {
                    Some(_) => self.expr(value)?,
                    None => {
                        let h = self.boxed(value)?;
                        self.store_local(*id, h)
                    }
                };
                self.b.def_var(var, v);
                v
            }
            ExprKind::IncDec {
                place,
                delta,
                prefix,
                prim,
            } => {
                let Place::Local(id) = &**place else {
                    return Ok(self.island_expr(e));
                };
                let (var, local) = self.var(*id)?;
                if local.is_none() || clif_type(*prim).is_none() {
                    return Ok(self.island_expr(e));
                }
                let old = self.b.use_var(var);
                let new = if is_float(*prim) {
                    let d = self.float_const(*prim, f64::from(*delta));
                    self.b.ins().fadd(old, d)
                } else {
                    self.b.ins().iadd_imm_s(old, i64::from(*delta))
                };
                self.b.def_var(var, new);
                if *prefix { new } else { old }
            }
            ExprKind::Compound { place, value, tmp } => {
                let Place::Local(id) = &**place else {
                    return Ok(self.island_expr(e));
                };
                let (var, p) = self.var(*id)?;
                let (tmp_var, tmp_p) = self.var(*tmp)?;
                if p != tmp_p {
                    return Ok(self.island_expr(e));
                }
                let cur = self.b.use_var(var);
                let cur = self.store_local(*tmp, cur);
                self.b.def_var(tmp_var, cur);
                let v = match p {
                    Some(_) => self.expr(value)?,
                    None => {
                        let h = self.boxed(value)?;
                        self.store_local(*id, h)
                    }
                };
                self.b.def_var(var, v);
                v
            }
            ExprKind::Seq(stmts, e) => {
                self.stmts(stmts)?;
                self.expr(e)?
            }
            ExprKind::Default(ty) => {
                let p = prim_of(ty)?;
                let t = clif_type(p).unwrap_or(types::I32);
                zero(&mut self.b, t)
            }
            // Lambdas never get here (their bodies stay on the interpreter); anonymous
            // objects, `is` with a binding, `throw` expressions, delegate calls: islands.
            _ => self.island_expr(e),
        })
    }
}
