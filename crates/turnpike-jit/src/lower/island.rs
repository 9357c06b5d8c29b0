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
    /// over the locals it reads or writes (`own`) and those lambdas reach; gives the host
    /// function's result, the locals array and where its returned-value entry is.
    ///
    /// The array is `[k, (local index, place, value) × k, returned value]`: native code stores
    /// each synced local's place (its frame slot, or `-1 - prim` for a register local) and its
    /// register bits or handle, and reloads the values after the call.
    fn island(
        &mut self,
        node: *const u8,
        kind: i64,
        dest: CValue,
        mut own: Vec<u32>,
    ) -> (CValue, cranelift_codegen::ir::StackSlot, i32) {
        own.extend_from_slice(&self.captured);
        own.sort_unstable();
        own.dedup();
        let k = own.len();
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * (3 * k + 2)) as u32,
            3,
        ));
        let count = self.b.ins().iconst(types::I64, k as i64);
        self.b.ins().stack_store(types::I64, count, slot, 0);
        for (j, &i) in own.iter().enumerate() {
            let (var, p) = self.vars[i as usize];
            let v = self.b.use_var(var);
            let raw = match p {
                Some(p) => self.bits_of(v, p),
                None => v,
            };
            let place = match p {
                Some(p) => -1 - i64::from(crate::host::prim_index(p)),
                None => self.frame_slots[i as usize],
            };
            let idx = self.b.ins().iconst(types::I64, i64::from(i));
            let place = self.b.ins().iconst(types::I64, place);
            self.b
                .ins()
                .stack_store(types::I64, idx, slot, (8 * (1 + 3 * j)) as i32);
            self.b
                .ins()
                .stack_store(types::I64, place, slot, (8 * (2 + 3 * j)) as i32);
            self.b
                .ins()
                .stack_store(types::I64, raw, slot, (8 * (3 + 3 * j)) as i32);
        }
        let ret_at = (8 * (1 + 3 * k)) as i32;
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().stack_store(types::I64, zero, slot, ret_at);
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        let body = self
            .b
            .ins()
            .iconst(types::I64, std::ptr::from_ref(self.body) as i64);
        let node = self.b.ins().iconst(types::I64, node as i64);
        let kind = self.b.ins().iconst(types::I64, kind);
        let ctx = self.ctx_ptr;
        let r = self.host_call(self.host.island, &[ctx, body, node, kind, addr, dest]);
        for (j, &i) in own.iter().enumerate() {
            let (var, p) = self.vars[i as usize];
            let raw =
                self.b
                    .ins()
                    .stack_load(types::I64, types::I64, slot, (8 * (3 + 3 * j)) as i32);
            let v = match p {
                Some(p) => self.reg_of_bits(raw, p),
                None => raw,
            };
            self.b.def_var(var, v);
        }
        (r, slot, ret_at)
    }

    /// A statement run on the interpreter; its `return`, `break` and `continue` take effect
    /// here.
    pub(super) fn island_stmt(&mut self, s: &Stmt) {
        let dest = self.dest_for(&self.body.ty.clone());
        let mut own = Vec::new();
        turnpike_ir::ir::for_each_local(std::slice::from_ref(s), &mut |l| own.push(l.0));
        let (code, slot, ret_at) = self.island(std::ptr::from_ref(s).cast(), 0, dest, own);
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
                .stack_load(types::I64, types::I64, slot, ret_at);
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
        let mut own = Vec::new();
        turnpike_ir::ir::for_each_local_in(e, &mut |l| own.push(l.0));
        let (r, _, _) = self.island(std::ptr::from_ref(e).cast(), 1, dest, own);
        self.result(r, &e.ty)
    }
}
