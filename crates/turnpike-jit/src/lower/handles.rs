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
                self.host_call(self.host.boxed, &[ctx, bits, code])
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
    /// A host result handle as the expression's kind (unboxed when it lives in a register).
    pub(super) fn result(&mut self, h: CValue, ty: &Ty) -> CValue {
        match reg_prim(ty) {
            Some(p) => self.unboxed(h, p),
            None => h,
        }
    }
    /// `tp_op` on the node `e` with its operands evaluated (boxed) in order.
    pub(super) fn op(
        &mut self,
        e: &Expr,
        operands: &[&Expr],
        extra: i64,
    ) -> Result<CValue, Unsupported> {
        let mut hs = Vec::with_capacity(operands.len());
        for x in operands {
            hs.push(self.boxed(x)?);
        }
        Ok(self.op_handles(e, &hs, extra))
    }
    pub(super) fn op_handles(&mut self, e: &Expr, hs: &[CValue], extra: i64) -> CValue {
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
        let extra = self.b.ins().iconst(types::I64, extra);
        let node = self.node(e);
        let ctx = self.ctx_ptr;
        self.host_call(self.host.op, &[ctx, node, addr, count, extra])
    }
    pub(super) fn leaf(&mut self, e: &Expr) -> CValue {
        let n = self.node(e);
        let ctx = self.ctx_ptr;
        let h = self.host_call(self.host.leaf, &[ctx, n]);
        self.result(h, &e.ty)
    }
}
