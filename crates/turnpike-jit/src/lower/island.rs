//! Islands: statements and expressions native code hands to the interpreter whole (`try`,
//! `foreach`, `switch`, `throw`, `out`/`ref` calls, anonymous objects, patterns with a
//! binding, ...). Native code stores every local where the host function reads it, the
//! interpreter runs the node over those values, and native code reloads every local after it,
//! so the rest of the body stays native around it.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    BlockArg, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value as CValue, types,
};
use turnpike_ir::ir::{Expr, Stmt};

use super::Lower;
use crate::host::{Status, flow};

impl Lower<'_, '_> {
    /// Runs `node` (a statement when `kind` is 0, an expression when 1) on the interpreter
    /// over the locals; gives the host function's result and the locals array.
    fn island(
        &mut self,
        node: *const u8,
        kind: i64,
        dest: CValue,
    ) -> (CValue, cranelift_codegen::ir::StackSlot) {
        let n = self.vars.len();
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * (n + 1)) as u32,
            3,
        ));
        for i in 0..n {
            let (var, p) = self.vars[i];
            let v = self.b.use_var(var);
            let raw = match p {
                Some(p) => self.bits_of(v, p),
                None => v,
            };
            self.b
                .ins()
                .stack_store(types::I64, raw, slot, (8 * i) as i32);
        }
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b
            .ins()
            .stack_store(types::I64, zero, slot, (8 * n) as i32);
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        let body = self
            .b
            .ins()
            .iconst(types::I64, std::ptr::from_ref(self.body) as i64);
        let node = self.b.ins().iconst(types::I64, node as i64);
        let kind = self.b.ins().iconst(types::I64, kind);
        let ctx = self.ctx_ptr;
        let r = self.host_call(self.host.island, &[ctx, body, node, kind, addr, dest]);
        for i in 0..n {
            let (var, p) = self.vars[i];
            let raw = self
                .b
                .ins()
                .stack_load(types::I64, types::I64, slot, (8 * i) as i32);
            let v = match p {
                Some(p) => self.reg_of_bits(raw, p),
                None => raw,
            };
            self.b.def_var(var, v);
        }
        (r, slot)
    }

    /// A statement run on the interpreter; its `return`, `break` and `continue` take effect
    /// here.
    pub(super) fn island_stmt(&mut self, s: &Stmt) {
        let dest = self.dest_for(&self.body.ty.clone());
        let (code, slot) = self.island(std::ptr::from_ref(s).cast(), 0, dest);
        let n = self.vars.len();
        // `return`: the value (bits or handle) is the array's last entry.
        let ret = self.b.create_block();
        let not_ret = self.b.create_block();
        let is_ret = self.b.ins().icmp_imm_s(IntCC::Equal, code, flow::RETURN);
        self.b.ins().brif(is_ret, ret, &[], not_ret, &[]);
        self.b.switch_to_block(ret);
        if self.body.ty != turnpike_ir::Ty::Void {
            let v = self
                .b
                .ins()
                .stack_load(types::I64, types::I64, slot, (8 * n) as i32);
            self.b
                .ins()
                .store(MemFlagsData::trusted(), v, self.out_ptr, 0);
        }
        let ok = self.b.ins().iconst(types::I32, Status::Ok as i64);
        self.b.ins().jump(self.exit, &[BlockArg::from(ok)]);
        self.b.switch_to_block(not_ret);
        // `break` and `continue` of the enclosing native loop (the interpreter handles its own).
        if let Some((cont, brk)) = self.loops.last().copied() {
            let (b1, b2, join) = (
                self.b.create_block(),
                self.b.create_block(),
                self.b.create_block(),
            );
            let is_brk = self.b.ins().icmp_imm_s(IntCC::Equal, code, flow::BREAK);
            self.b.ins().brif(is_brk, brk, &[], b1, &[]);
            self.b.switch_to_block(b1);
            let is_cont = self.b.ins().icmp_imm_s(IntCC::Equal, code, flow::CONTINUE);
            self.b.ins().brif(is_cont, cont, &[], b2, &[]);
            self.b.switch_to_block(b2);
            self.b.ins().jump(join, &[]);
            self.b.switch_to_block(join);
        }
    }

    /// An expression run on the interpreter: its value, as the expression's kind.
    pub(super) fn island_expr(&mut self, e: &Expr) -> CValue {
        let dest = self.dest_for(&e.ty);
        let (r, _) = self.island(std::ptr::from_ref(e).cast(), 1, dest);
        self.result(r, &e.ty)
    }
}
