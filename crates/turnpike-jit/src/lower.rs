//! The typed IR lowered to Cranelift IR.
//!
//! A body becomes one function `fn(ctx: *mut JitCtx, out: *mut u64) -> u32`: it returns a
//! [`Status`] and writes its result's bits to `out`. Values of the predefined numeric types
//! and `bool` live in registers (Cranelift variables, one per local slot). An exception is a
//! jump to the exit block with its status; integer division checks its divisor first, so no
//! hardware trap can fire. Every loop iteration burns one unit of fuel, as the interpreter.
//!
//! Forms this lowering does not cover yet fail with [`Unsupported`]; the engine then runs
//! that body on the interpreter.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind,
    Type, Value as CValue, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use turnpike_ir::ir::{BinOp, Body, Const, Conv, Expr, ExprKind, OpType, Place, Stmt, UnOp};
use turnpike_ir::{Prim, Ty};

use crate::host::{self, FAILED_OFFSET, FUEL_OFFSET, Status};

/// A form the JIT does not compile yet, with what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

/// The register type of a predefined type the lowering covers.
pub fn clif_type(p: Prim) -> Option<Type> {
    Some(match p {
        Prim::Bool => types::I8,
        Prim::Int | Prim::UInt => types::I32,
        Prim::Long | Prim::ULong => types::I64,
        Prim::Float => types::F32,
        Prim::Double => types::F64,
        _ => return None,
    })
}

/// The register type of `ty`, when its values live in registers (otherwise they are handles).
pub fn reg_prim(ty: &Ty) -> Option<Prim> {
    match ty {
        Ty::Prim(p) if clif_type(*p).is_some() => Some(*p),
        _ => None,
    }
}

/// The type of a value handle.
pub const HANDLE: Type = types::I64;

fn prim_of(ty: &Ty) -> Result<Prim, Unsupported> {
    match ty {
        Ty::Prim(p) if clif_type(*p).is_some() => Ok(*p),
        other => unsupported(format!("values of type `{other:?}`")),
    }
}

fn is_float(p: Prim) -> bool {
    matches!(p, Prim::Float | Prim::Double)
}

fn is_unsigned(p: Prim) -> bool {
    matches!(p, Prim::UInt | Prim::ULong)
}

/// Imported host functions, by role.
#[derive(Debug)]
pub struct HostRefs {
    /// `tp_f64_rem`
    pub f64_rem: FuncRef,
    /// `tp_f32_rem`
    pub f32_rem: FuncRef,
    /// `tp_f64_to_int`
    pub f64_to_int: FuncRef,
    /// `tp_leaf`
    pub leaf: FuncRef,
    /// `tp_box`
    pub boxed: FuncRef,
    /// `tp_unbox`
    pub unbox: FuncRef,
    /// `tp_call`
    pub call: FuncRef,
    /// `tp_convert`
    pub convert: FuncRef,
    /// `tp_binary`
    pub binary: FuncRef,
    /// `tp_unary`
    pub unary: FuncRef,
    /// `tp_op`
    pub op: FuncRef,
}

/// Lowers one body into `b` (whose function has the signature above).
pub struct Lower<'a, 'f> {
    b: FunctionBuilder<'f>,
    _body: std::marker::PhantomData<&'a Body>,
    /// Each local slot's variable, and its register type (`None`: a value handle).
    vars: Vec<(Variable, Option<Prim>)>,
    ctx_ptr: CValue,
    out_ptr: CValue,
    exit: Block,
    /// Innermost last: (continue target, break target).
    loops: Vec<(Block, Block)>,
    host: HostRefs,
}

impl std::fmt::Debug for Lower<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lower").finish_non_exhaustive()
    }
}

impl<'a, 'f> Lower<'a, 'f> {
    /// Lowers `body`; `host` are the host functions imported into the builder's function.
    pub fn run(
        mut b: FunctionBuilder<'f>,
        body: &'a Body,
        host: HostRefs,
        ptr_ty: Type,
    ) -> Result<FunctionBuilder<'f>, Unsupported> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (ctx_ptr, out_ptr) = (params[0], params[1]);
        let exit = b.create_block();
        b.append_block_param(exit, types::I32);
        let _ = ptr_ty;
        let mut vars = Vec::with_capacity(body.locals.len());
        for local in &body.locals {
            let p = reg_prim(&local.ty);
            let t = p.and_then(clif_type).unwrap_or(HANDLE);
            let v = b.declare_var(t);
            // Every slot starts at zero, or the null handle (the interpreter's frame starts
            // at null; C#'s definite assignment means no read sees the difference).
            let zero = zero(&mut b, t);
            b.def_var(v, zero);
            vars.push((v, p));
        }
        let mut l = Lower {
            b,
            _body: std::marker::PhantomData,
            vars,
            ctx_ptr,
            out_ptr,
            exit,
            loops: Vec::new(),
            host,
        };
        l.stmts(&body.block)?;
        // Falling off the end: no value (the interpreter's `null`), status Ok.
        let ok = l.b.ins().iconst(types::I32, Status::Ok as i64);
        l.b.ins().jump(l.exit, &[BlockArg::from(ok)]);
        l.b.switch_to_block(l.exit);
        let status = l.b.block_params(l.exit)[0];
        l.b.ins().return_(&[status]);
        l.b.seal_all_blocks();
        Ok(l.b)
    }

    /// Starts a fresh block after a jump, so that code after `return` or `break` (never run)
    /// still has a block to go in.
    fn after_jump(&mut self) {
        let dead = self.b.create_block();
        self.b.switch_to_block(dead);
    }

    fn raise_if(&mut self, cond: CValue, status: Status) {
        let cont = self.b.create_block();
        let s = self.b.ins().iconst(types::I32, status as i64);
        self.b
            .ins()
            .brif(cond, self.exit, &[BlockArg::from(s)], cont, &[]);
        self.b.switch_to_block(cont);
    }

    fn burn(&mut self) {
        let flags = MemFlagsData::trusted();
        let fuel = self
            .b
            .ins()
            .load(types::I64, flags, self.ctx_ptr, FUEL_OFFSET);
        let empty = self.b.ins().icmp_imm_s(IntCC::Equal, fuel, 0);
        self.raise_if(empty, Status::OutOfFuel);
        let left = self.b.ins().iadd_imm_s(fuel, -1);
        self.b.ins().store(flags, left, self.ctx_ptr, FUEL_OFFSET);
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> Result<(), Unsupported> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), Unsupported> {
        match s {
            Stmt::Expr(e) => {
                if e.ty == Ty::Void && !matches!(e.kind, ExprKind::Call { .. }) {
                    return unsupported("void expressions");
                }
                self.expr(e)?;
            }
            Stmt::Block(b) => self.stmts(b)?,
            Stmt::If(c, t, e) => {
                let c = self.cond(c)?;
                let (then_b, else_b, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.ins().brif(c, then_b, &[], else_b, &[]);
                self.b.switch_to_block(then_b);
                self.stmts(t)?;
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(else_b);
                self.stmts(e)?;
                self.b.ins().jump(join, &[]);
                self.b.switch_to_block(join);
            }
            Stmt::Loop {
                cond,
                body,
                step,
                do_while,
            } => {
                // head: burn, then the condition (skipped on a do-while's first pass).
                let head = self.b.create_block();
                let check = self.b.create_block();
                let body_b = self.b.create_block();
                let step_b = self.b.create_block();
                let done = self.b.create_block();
                let skip = self.b.append_block_param(head, types::I8);
                let first = self.b.ins().iconst(types::I8, i64::from(*do_while));
                self.b.ins().jump(head, &[BlockArg::from(first)]);
                self.b.switch_to_block(head);
                self.burn();
                match cond {
                    Some(c) => {
                        self.b.ins().brif(skip, body_b, &[], check, &[]);
                        self.b.switch_to_block(check);
                        let c = self.cond(c)?;
                        self.b.ins().brif(c, body_b, &[], done, &[]);
                    }
                    None => {
                        self.b.ins().jump(body_b, &[]);
                        self.b.switch_to_block(check);
                        self.b.ins().jump(body_b, &[]);
                    }
                }
                self.b.switch_to_block(body_b);
                self.loops.push((step_b, done));
                self.stmts(body)?;
                self.loops.pop();
                self.b.ins().jump(step_b, &[]);
                self.b.switch_to_block(step_b);
                self.stmts(step)?;
                let no = self.b.ins().iconst(types::I8, 0);
                self.b.ins().jump(head, &[BlockArg::from(no)]);
                self.b.switch_to_block(done);
            }
            Stmt::Return(e) => {
                if let Some(e) = e {
                    let bits = match reg_prim(&e.ty) {
                        Some(p) => {
                            let v = self.expr(e)?;
                            self.bits_of(v, p)
                        }
                        None => self.boxed(e)?,
                    };
                    self.b
                        .ins()
                        .store(MemFlagsData::trusted(), bits, self.out_ptr, 0);
                }
                let ok = self.b.ins().iconst(types::I32, Status::Ok as i64);
                self.b.ins().jump(self.exit, &[BlockArg::from(ok)]);
                self.after_jump();
            }
            Stmt::Break => {
                let Some((_, brk)) = self.loops.last().copied() else {
                    return unsupported("`break` outside a loop");
                };
                self.b.ins().jump(brk, &[]);
                self.after_jump();
            }
            Stmt::Continue => {
                let Some((cont, _)) = self.loops.last().copied() else {
                    return unsupported("`continue` outside a loop");
                };
                self.b.ins().jump(cont, &[]);
                self.after_jump();
            }
            Stmt::Foreach { .. } => return unsupported("`foreach`"),
            Stmt::Switch(..) => return unsupported("`switch`"),
            Stmt::Throw(_) => return unsupported("`throw`"),
            Stmt::Try { .. } => return unsupported("`try`"),
        }
        Ok(())
    }

    /// A `bool` condition in a register.
    fn cond(&mut self, c: &Expr) -> Result<CValue, Unsupported> {
        if reg_prim(&c.ty) != Some(Prim::Bool) {
            return unsupported(format!("a condition of type `{:?}`", c.ty));
        }
        self.expr(c)
    }

    /// A result as the 64 bits written to `out`.
    fn bits_of(&mut self, v: CValue, p: Prim) -> CValue {
        let plain = MemFlagsData::new();
        let ins = self.b.ins();
        match p {
            Prim::Bool | Prim::UInt => ins.uextend(types::I64, v),
            Prim::Int => ins.sextend(types::I64, v),
            Prim::Float => {
                let i = ins.bitcast(types::I32, plain, v);
                self.b.ins().uextend(types::I64, i)
            }
            Prim::Double => ins.bitcast(types::I64, plain, v),
            _ => v,
        }
    }

    fn var(&self, id: turnpike_ir::ir::LocalId) -> Result<(Variable, Option<Prim>), Unsupported> {
        self.vars
            .get(id.0 as usize)
            .copied()
            .ok_or_else(|| Unsupported(format!("local slot {}", id.0)))
    }

    /// Calls a host function; a failure it flags jumps to the exit with its status.
    fn host_call(&mut self, f: FuncRef, args: &[CValue]) -> CValue {
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

    fn node(&mut self, e: &Expr) -> CValue {
        self.b
            .ins()
            .iconst(types::I64, std::ptr::from_ref(e) as i64)
    }

    /// An expression as a value handle (register values boxed).
    fn boxed(&mut self, e: &Expr) -> Result<CValue, Unsupported> {
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
    fn unboxed(&mut self, h: CValue, p: Prim) -> CValue {
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
    fn result(&mut self, h: CValue, ty: &Ty) -> CValue {
        match reg_prim(ty) {
            Some(p) => self.unboxed(h, p),
            None => h,
        }
    }

    /// `tp_op` on the node `e` with its operands evaluated (boxed) in order.
    fn op(&mut self, e: &Expr, operands: &[&Expr], extra: i64) -> Result<CValue, Unsupported> {
        let mut hs = Vec::with_capacity(operands.len());
        for x in operands {
            hs.push(self.boxed(x)?);
        }
        Ok(self.op_handles(e, &hs, extra))
    }

    fn op_handles(&mut self, e: &Expr, hs: &[CValue], extra: i64) -> CValue {
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

    fn leaf(&mut self, e: &Expr) -> CValue {
        let n = self.node(e);
        let ctx = self.ctx_ptr;
        let h = self.host_call(self.host.leaf, &[ctx, n]);
        self.result(h, &e.ty)
    }

    fn expr(&mut self, e: &Expr) -> Result<CValue, Unsupported> {
        Ok(match &e.kind {
            ExprKind::Const(Const::Null) if reg_prim(&e.ty).is_none() => {
                self.b.ins().iconst(HANDLE, 0)
            }
            ExprKind::Const(c) if reg_prim(&e.ty).is_some() => self.constant(c, &e.ty)?,
            ExprKind::Const(_)
            | ExprKind::Context
            | ExprKind::TypeOf(_)
            | ExprKind::Unsupported(_) => self.leaf(e),
            ExprKind::ArrayInit(_, items) => {
                let items: Vec<&Expr> = items.iter().collect();
                let h = self.op(e, &items, 0)?;
                self.result(h, &e.ty)
            }
            ExprKind::NewArray(_, n) | ExprKind::As(n, _) | ExprKind::Is(n, _, None) => {
                let h = self.op(e, &[&**n], 0)?;
                self.result(h, &e.ty)
            }
            ExprKind::Element(a, i) => {
                let h = self.op(e, &[&**a, &**i], 0)?;
                self.result(h, &e.ty)
            }
            ExprKind::Format(parts) => {
                let mut acc = self.b.ins().iconst(HANDLE, 0);
                for (i, p) in parts.iter().enumerate() {
                    if let turnpike_ir::ir::FmtPart::Hole { value, align, .. } = p {
                        let v = self.boxed(value)?;
                        let a = match align {
                            Some(a) => self.boxed(a)?,
                            None => self.b.ins().iconst(HANDLE, 0),
                        };
                        acc = self.op_handles(e, &[acc, v, a], i as i64);
                    }
                }
                self.op_handles(e, &[acc], parts.len() as i64)
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
                let r = self.host_call(self.host.convert, &[ctx, n, h]);
                self.result(r, &e.ty)
            }
            ExprKind::Unary(_, p, x) if clif_type(*p).is_none() || reg_prim(&x.ty).is_none() => {
                let h = self.boxed(x)?;
                let n = self.node(e);
                let ctx = self.ctx_ptr;
                let r = self.host_call(self.host.unary, &[ctx, n, h]);
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
                let r = self.host_call(self.host.binary, &[ctx, n, x, y]);
                self.result(r, &e.ty)
            }
            ExprKind::Call {
                member, recv, args, ..
            } => {
                if args.iter().any(|a| matches!(a.kind, ExprKind::Ref(_))) {
                    return unsupported("`out`/`ref` arguments");
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
                let node = self.node(e);
                let ctx = self.ctx_ptr;
                let h = self.host_call(self.host.call, &[ctx, node, r, addr, count]);
                if e.ty == Ty::Void {
                    h
                } else {
                    self.result(h, &e.ty)
                }
            }
            ExprKind::NullCond { recv, tmp, rest } => {
                if reg_prim(&e.ty).is_some() {
                    return unsupported("`?.` giving a register value");
                }
                let h = self.boxed(recv)?;
                let (tmp_var, tmp_prim) = self.var(*tmp)?;
                if tmp_prim.is_some() {
                    return unsupported("`?.` on a register value");
                }
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
                let h = self.op(e, &operands, 0)?;
                self.result(h, &e.ty)
            }
            ExprKind::Assign(place, value) => {
                let Place::Local(id) = &**place else {
                    return unsupported("assignment to a non-local place");
                };
                let (var, p) = self.var(*id)?;
                let v = match p {
                    Some(_) => self.expr(value)?,
                    None => self.boxed(value)?,
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
                    return unsupported("`++`/`--` on a non-local place");
                };
                let (var, local) = self.var(*id)?;
                if local.is_none() {
                    return unsupported("`++`/`--` on a value handle");
                }
                let old = self.b.use_var(var);
                let new = if is_float(*prim) {
                    let d = self.float_const(*prim, f64::from(*delta));
                    self.b.ins().fadd(old, d)
                } else {
                    clif_type(*prim).ok_or_else(|| Unsupported(format!("`{prim:?}` ++")))?;
                    self.b.ins().iadd_imm_s(old, i64::from(*delta))
                };
                self.b.def_var(var, new);
                if *prefix { new } else { old }
            }
            ExprKind::Compound { place, value, tmp } => {
                let Place::Local(id) = &**place else {
                    return unsupported("compound assignment to a non-local place");
                };
                let (var, p) = self.var(*id)?;
                let (tmp_var, tmp_p) = self.var(*tmp)?;
                if p != tmp_p {
                    return unsupported("compound assignment through a differently typed slot");
                }
                let cur = self.b.use_var(var);
                self.b.def_var(tmp_var, cur);
                let v = match p {
                    Some(_) => self.expr(value)?,
                    None => self.boxed(value)?,
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
            other => return unsupported(format!("expression {}", kind_name(other))),
        })
    }

    fn constant(&mut self, c: &Const, ty: &Ty) -> Result<CValue, Unsupported> {
        let ins = self.b.ins();
        Ok(match c {
            Const::Bool(v) => ins.iconst(types::I8, i64::from(*v)),
            Const::Int(v) => ins.iconst(types::I32, i64::from(*v)),
            Const::UInt(v) => ins.iconst(types::I32, i64::from(*v as i32)),
            Const::Long(v) => ins.iconst(types::I64, *v),
            Const::ULong(v) => ins.iconst(types::I64, *v as i64),
            Const::Float(v) => ins.f32const(*v),
            Const::Double(v) => ins.f64const(*v),
            other => return unsupported(format!("constant {other:?} of type `{ty:?}`")),
        })
    }

    fn float_const(&mut self, p: Prim, v: f64) -> CValue {
        if p == Prim::Float {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        }
    }

    fn min_of(&self, p: Prim) -> Result<i64, Unsupported> {
        Ok(match p {
            Prim::Int => i64::from(i32::MIN),
            Prim::Long => i64::MIN,
            other => return unsupported(format!("checked negation of `{other:?}`")),
        })
    }

    /// An unchecked conversion between predefined types.
    fn numeric(&mut self, x: CValue, from: Prim, to: Prim) -> Result<CValue, Unsupported> {
        let (Some(ft), Some(tt)) = (clif_type(from), clif_type(to)) else {
            return unsupported(format!("conversion from `{from:?}` to `{to:?}`"));
        };
        if from == to {
            return Ok(x);
        }
        if from == Prim::Bool || to == Prim::Bool {
            return unsupported("conversions of `bool`");
        }
        let ins = self.b.ins();
        Ok(match (is_float(from), is_float(to)) {
            (false, false) => {
                if ft == tt {
                    x
                } else if tt.bits() > ft.bits() {
                    if is_unsigned(from) {
                        ins.uextend(tt, x)
                    } else {
                        ins.sextend(tt, x)
                    }
                } else {
                    ins.ireduce(tt, x)
                }
            }
            (false, true) => {
                if is_unsigned(from) {
                    ins.fcvt_from_uint(tt, x)
                } else {
                    ins.fcvt_from_sint(tt, x)
                }
            }
            (true, true) => {
                if tt == types::F64 {
                    ins.fpromote(tt, x)
                } else {
                    ins.fdemote(tt, x)
                }
            }
            (true, false) => {
                // Out-of-range and NaN follow .NET's rules, which only the host knows.
                let wide = if ft == types::F32 {
                    ins.fpromote(types::F64, x)
                } else {
                    x
                };
                let to_code = self
                    .b
                    .ins()
                    .iconst(types::I32, i64::from(host::prim_index(to)));
                let call = self.b.ins().call(self.host.f64_to_int, &[wide, to_code]);
                let r = self.b.inst_results(call)[0];
                if tt == types::I32 {
                    self.b.ins().ireduce(types::I32, r)
                } else {
                    r
                }
            }
        })
    }

    fn binary(
        &mut self,
        op: BinOp,
        p: Prim,
        checked: bool,
        x: CValue,
        y: CValue,
        y_prim: Prim,
    ) -> Result<CValue, Unsupported> {
        if p == Prim::Bool {
            let ins = self.b.ins();
            return Ok(match op {
                BinOp::And => ins.band(x, y),
                BinOp::Or => ins.bor(x, y),
                BinOp::Xor => ins.bxor(x, y),
                BinOp::Eq => ins.icmp(IntCC::Equal, x, y),
                BinOp::Ne => ins.icmp(IntCC::NotEqual, x, y),
                other => return unsupported(format!("bool operator {other:?}")),
            });
        }
        if is_float(p) {
            let ins = self.b.ins();
            return Ok(match op {
                BinOp::Add => ins.fadd(x, y),
                BinOp::Sub => ins.fsub(x, y),
                BinOp::Mul => ins.fmul(x, y),
                BinOp::Div => ins.fdiv(x, y),
                BinOp::Rem => {
                    let f = if p == Prim::Float {
                        self.host.f32_rem
                    } else {
                        self.host.f64_rem
                    };
                    let call = self.b.ins().call(f, &[x, y]);
                    self.b.inst_results(call)[0]
                }
                BinOp::Eq => ins.fcmp(FloatCC::Equal, x, y),
                BinOp::Ne => ins.fcmp(FloatCC::NotEqual, x, y),
                BinOp::Lt => ins.fcmp(FloatCC::LessThan, x, y),
                BinOp::Le => ins.fcmp(FloatCC::LessThanOrEqual, x, y),
                BinOp::Gt => ins.fcmp(FloatCC::GreaterThan, x, y),
                BinOp::Ge => ins.fcmp(FloatCC::GreaterThanOrEqual, x, y),
                other => return unsupported(format!("float operator {other:?}")),
            });
        }
        let unsigned = is_unsigned(p);
        let ty = clif_type(p).unwrap_or(types::I32);
        let cmp = |signed: IntCC, uns: IntCC| if unsigned { uns } else { signed };
        Ok(match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul if checked => {
                let ins = self.b.ins();
                let (r, of) = match (op, unsigned) {
                    (BinOp::Add, false) => ins.sadd_overflow(x, y),
                    (BinOp::Add, true) => ins.uadd_overflow(x, y),
                    (BinOp::Sub, false) => ins.ssub_overflow(x, y),
                    (BinOp::Sub, true) => ins.usub_overflow(x, y),
                    (_, false) => ins.smul_overflow(x, y),
                    (_, true) => ins.umul_overflow(x, y),
                };
                self.raise_if(of, Status::Overflow);
                r
            }
            BinOp::Add => self.b.ins().iadd(x, y),
            BinOp::Sub => self.b.ins().isub(x, y),
            BinOp::Mul => self.b.ins().imul(x, y),
            BinOp::Div | BinOp::Rem => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                self.raise_if(zero, Status::DivideByZero);
                if unsigned {
                    if op == BinOp::Div {
                        self.b.ins().udiv(x, y)
                    } else {
                        self.b.ins().urem(x, y)
                    }
                } else {
                    // MIN / -1 and MIN % -1 overflow in the CLR (and trap in hardware).
                    let min = self.min_of(p)?;
                    let x_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min);
                    let y_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                    let both = self.b.ins().band(x_min, y_neg1);
                    self.raise_if(both, Status::Overflow);
                    if op == BinOp::Div {
                        self.b.ins().sdiv(x, y)
                    } else {
                        self.b.ins().srem(x, y)
                    }
                }
            }
            BinOp::And => self.b.ins().band(x, y),
            BinOp::Or => self.b.ins().bor(x, y),
            BinOp::Xor => self.b.ins().bxor(x, y),
            BinOp::Shl | BinOp::Shr => {
                // The count is an `int`; C# masks it to the width.
                let mask = i64::from(ty.bits()) - 1;
                let n = match clif_type(y_prim) {
                    Some(t) if t == ty => y,
                    Some(t) if t.bits() > ty.bits() => self.b.ins().ireduce(ty, y),
                    Some(_) => self.b.ins().uextend(ty, y),
                    None => return unsupported("shift count type"),
                };
                let n = self.b.ins().band_imm_s(n, mask);
                match (op, unsigned) {
                    (BinOp::Shl, _) => self.b.ins().ishl(x, n),
                    (_, true) => self.b.ins().ushr(x, n),
                    (_, false) => self.b.ins().sshr(x, n),
                }
            }
            BinOp::Eq => self.b.ins().icmp(IntCC::Equal, x, y),
            BinOp::Ne => self.b.ins().icmp(IntCC::NotEqual, x, y),
            BinOp::Lt => {
                let c = cmp(IntCC::SignedLessThan, IntCC::UnsignedLessThan);
                self.b.ins().icmp(c, x, y)
            }
            BinOp::Le => {
                let c = cmp(IntCC::SignedLessThanOrEqual, IntCC::UnsignedLessThanOrEqual);
                self.b.ins().icmp(c, x, y)
            }
            BinOp::Gt => {
                let c = cmp(IntCC::SignedGreaterThan, IntCC::UnsignedGreaterThan);
                self.b.ins().icmp(c, x, y)
            }
            BinOp::Ge => {
                let c = cmp(
                    IntCC::SignedGreaterThanOrEqual,
                    IntCC::UnsignedGreaterThanOrEqual,
                );
                self.b.ins().icmp(c, x, y)
            }
        })
    }
}

fn zero(b: &mut FunctionBuilder<'_>, t: Type) -> CValue {
    if t == types::F32 {
        b.ins().f32const(0.0)
    } else if t == types::F64 {
        b.ins().f64const(0.0)
    } else {
        b.ins().iconst(t, 0)
    }
}

/// The native function's signature: `(ctx, out) -> status`.
pub fn body_signature(ptr_ty: Type, sig: &mut cranelift_codegen::ir::Signature) {
    sig.params.push(AbiParam::new(ptr_ty));
    sig.params.push(AbiParam::new(ptr_ty));
    sig.returns.push(AbiParam::new(types::I32));
}

fn kind_name(k: &ExprKind) -> &'static str {
    match k {
        ExprKind::Const(_) => "constant",
        ExprKind::Local(_) => "local",
        ExprKind::Context => "`context`",
        ExprKind::Convert(..) => "conversion",
        ExprKind::Unary(..) => "unary operator",
        ExprKind::Binary(..) => "binary operator",
        ExprKind::Logical(..) => "`&&`/`||`",
        ExprKind::Coalesce(..) => "`??`",
        ExprKind::Cond(..) => "`?:`",
        ExprKind::Call { .. } => "member call",
        ExprKind::Ref(_) => "`out`/`ref` argument",
        ExprKind::Invoke(..) => "delegate call",
        ExprKind::NullCond { .. } => "`?.`",
        ExprKind::Element(..) => "array element",
        ExprKind::Assign(..) => "assignment",
        ExprKind::IncDec { .. } => "`++`/`--`",
        ExprKind::Compound { .. } => "compound assignment",
        ExprKind::Lambda(_) => "lambda",
        ExprKind::NewArray(..) => "`new T[n]`",
        ExprKind::ArrayInit(..) => "array initializer",
        ExprKind::NewAnonymous(_) => "anonymous object",
        ExprKind::AnonymousField(..) => "anonymous property",
        ExprKind::Is(..) => "`is`",
        ExprKind::As(..) => "`as`",
        ExprKind::Format(_) => "interpolated string",
        ExprKind::Default(_) => "`default`",
        ExprKind::TypeOf(_) => "`typeof`",
        ExprKind::Throw(_) => "`throw` expression",
        ExprKind::Seq(..) => "initializer sequence",
        ExprKind::Unsupported(_) => "unsupported construct",
    }
}
