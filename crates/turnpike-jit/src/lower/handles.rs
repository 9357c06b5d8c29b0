//! Values outside registers: handles into the evaluation's value table, boxing and unboxing,
//! and the calls into the host table that work on them.

use cranelift_codegen::ir::{
    BlockArg, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value as CValue,
    types,
};
use turnpike_ir::ir::Expr;
use turnpike_ir::{Prim, Ty};

use super::{Lower, Unsupported, reg_prim};
use crate::host::{self, FAILED_OFFSET};

impl Lower<'_, '_> {
    /// Calls a host function; a failure it flags jumps to the exit with its status.
    pub(super) fn host_call(&mut self, f: FuncRef, args: &[CValue]) -> CValue {
        let call = self.b.ins().call(f, args);
        let r = self.b.inst_results(call)[0];
        let failed = self.b.ins().load(
            types::I32,
            MemFlagsData::trusted(),
            self.ctx_ptr,
            FAILED_OFFSET,
        );
        let cont = self.b.create_block();
        self.b
            .ins()
            .brif(failed, self.exit, &[BlockArg::from(failed)], cont, &[]);
        self.b.switch_to_block(cont);
        r
    }
    /// A new slot of the value frame for one node's result, as a constant.
    pub(super) fn fresh(&mut self) -> CValue {
        self.slots += 1;
        self.b.ins().iconst(types::I64, self.slots - 1)
    }
    /// Copies handle `h` into the frame slot of local `id` (when its value lives there): the
    /// local's handle afterwards.
    pub(super) fn store_local(&mut self, id: turnpike_ir::ir::LocalId, h: CValue) -> CValue {
        let slot = self.frame_slots.get(id.0 as usize).copied().unwrap_or(0);
        if slot == 0 {
            return h;
        }
        let dest = self.b.ins().iconst(types::I64, slot);
        let ctx = self.ctx_ptr;
        self.host_call(self.host.copy, &[ctx, h, dest])
    }
    /// A string constant's handle (`-1 - i` for constant `i` of the body's table).
    pub(super) fn string_const(&mut self, s: &std::sync::Arc<str>) -> CValue {
        let i = match self
            .consts
            .iter()
            .position(|c| std::sync::Arc::ptr_eq(c, s))
        {
            Some(i) => i,
            None => {
                self.consts.push(s.clone());
                self.consts.len() - 1
            }
        };
        self.b.ins().iconst(types::I64, -1 - i as i64)
    }
    pub(super) fn node(&mut self, e: &Expr) -> CValue {
        self.b
            .ins()
            .iconst(types::I64, std::ptr::from_ref(e) as i64)
    }
    /// An expression as a value handle (register values boxed).
    pub(super) fn boxed(&mut self, e: &Expr) -> Result<CValue, Unsupported> {
        let v = self.expr(e)?;
        Ok(match reg_prim(&e.ty) {
            Some(p) => {
                let bits = self.bits_of(v, p);
                let code = self
                    .b
                    .ins()
                    .iconst(types::I32, i64::from(host::prim_index(p)));
                let ctx = self.ctx_ptr;
                let dest = self.fresh();
                self.host_call(self.host.boxed, &[ctx, bits, code, dest])
            }
            None => v,
        })
    }
    /// A value handle as a register value of `p`.
    pub(super) fn unboxed(&mut self, h: CValue, p: Prim) -> CValue {
        let code = self
            .b
            .ins()
            .iconst(types::I32, i64::from(host::prim_index(p)));
        let ctx = self.ctx_ptr;
        let bits = self.host_call(self.host.unbox, &[ctx, h, code]);
        self.reg_of_bits(bits, p)
    }
    /// 64 bits a host function returned, as a register value of `p`.
    pub(super) fn reg_of_bits(&mut self, bits: CValue, p: Prim) -> CValue {
        let plain = MemFlagsData::new();
        match p {
            Prim::Bool => self.b.ins().ireduce(types::I8, bits),
            Prim::Int | Prim::UInt => self.b.ins().ireduce(types::I32, bits),
            Prim::Float => {
                let i = self.b.ins().ireduce(types::I32, bits);
                self.b.ins().bitcast(types::F32, plain, i)
            }
            Prim::Double => self.b.ins().bitcast(types::F64, plain, bits),
            _ => bits,
        }
    }
    /// Where a host function delivers a result of type `ty`: a fresh frame slot, or (for a
    /// type that lives in a register) the code `-1 - prim` asking for its bits.
    pub(super) fn dest_for(&mut self, ty: &Ty) -> CValue {
        match reg_prim(ty) {
            Some(p) => self
                .b
                .ins()
                .iconst(types::I64, -1 - i64::from(host::prim_index(p))),
            None => self.fresh(),
        }
    }
    /// What a host function delivered to [`Self::dest_for`]`(ty)`, as the expression's kind.
    pub(super) fn result(&mut self, h: CValue, ty: &Ty) -> CValue {
        match reg_prim(ty) {
            Some(p) => self.reg_of_bits(h, p),
            None => h,
        }
    }
    /// `tp_op` on the node `e` with its operands evaluated (boxed) in order.
    pub(super) fn op(&mut self, e: &Expr, operands: &[&Expr]) -> Result<CValue, Unsupported> {
        let mut hs = Vec::with_capacity(operands.len());
        for x in operands {
            hs.push(self.boxed(x)?);
        }
        Ok(self.op_handles(e, &hs))
    }
    pub(super) fn op_handles(&mut self, e: &Expr, hs: &[CValue]) -> CValue {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * hs.len().max(1)) as u32,
            3,
        ));
        for (i, h) in hs.iter().enumerate() {
            self.b
                .ins()
                .stack_store(types::I64, *h, slot, (8 * i) as i32);
        }
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        let count = self.b.ins().iconst(types::I64, hs.len() as i64);
        let node = self.node(e);
        let ctx = self.ctx_ptr;
        let dest = self.dest_for(&e.ty);
        self.host_call(self.host.op, &[ctx, node, addr, count, dest])
    }
    pub(super) fn leaf(&mut self, e: &Expr) -> CValue {
        let n = self.node(e);
        let ctx = self.ctx_ptr;
        let dest = self.dest_for(&e.ty);
        let h = self.host_call(self.host.leaf, &[ctx, n, dest]);
        self.result(h, &e.ty)
    }
}
