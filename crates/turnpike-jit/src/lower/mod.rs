//! The typed IR lowered to Cranelift IR.
//!
//! A body becomes one function `fn(ctx: *mut JitCtx, out: *mut u64) -> u32`: it returns a
//! [`Status`] and writes its result's bits to `out`. Values of the predefined numeric types
//! and `bool` live in registers (Cranelift variables, one per local slot); every other value is
//! a handle into the evaluation's value table (`handles.rs`). An exception is a jump to the
//! exit block with its status; integer division checks its divisor first, so no hardware trap
//! can fire (`arith.rs`). Every loop iteration burns one unit of fuel, as the interpreter.
//! This file holds statements and control flow; `expr.rs` the expressions.
//!
//! Forms this lowering does not cover yet fail with [`Unsupported`]; the engine then runs
//! that body on the interpreter.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Type, Value as CValue, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use turnpike_ir::ir::{Body, Expr, ExprKind, Stmt};
use turnpike_ir::{Prim, Ty};

use crate::host::{FUEL_OFFSET, Status};

mod arith;
mod expr;
mod handles;
mod island;

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
    /// `tp_island`
    pub island: FuncRef,
    /// `tp_truth`
    pub truth: FuncRef,
    /// `tp_copy`
    pub copy: FuncRef,
}

/// Lowers one body into `b` (whose function has the signature above).
pub struct Lower<'a, 'f> {
    b: FunctionBuilder<'f>,
    body: &'a Body,
    /// Each local slot's variable, and its register type (`None`: a value handle).
    vars: Vec<(Variable, Option<Prim>)>,
    /// Each local's slot in the value frame (0 for locals in registers).
    frame_slots: Vec<i64>,
    /// Value-frame slots named so far (slot 0 is `null`, slot 1 `context`).
    slots: i64,
    /// Whether the body reads `context` (its frame slot is filled).
    used_context: bool,
    /// Whether the body has lambdas (see [`Lower::native_here`]).
    lambdas: bool,
    /// The locals lambdas reach (their parameters, captures and locals): every island syncs
    /// them, since a library call in it may invoke a lambda made earlier.
    captured: Vec<u32>,
    /// String constants, by handle `-1 - index`.
    consts: Vec<std::sync::Arc<str>>,
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
    ) -> Result<(FunctionBuilder<'f>, crate::host::Frame), Unsupported> {
        // Library calls invoke a lambda over the interpreter's frame, where it reads and
        // writes the body's locals in place: in a body with lambdas, every node that reaches
        // the interpreter is an island, which syncs the locals both ways.
        let lambdas =
            turnpike_ir::ir::any_expr(&body.block, |e| matches!(e.kind, ExprKind::Lambda(_)));
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (ctx_ptr, out_ptr) = (params[0], params[1]);
        let exit = b.create_block();
        b.append_block_param(exit, types::I32);
        let _ = ptr_ty;
        let mut vars = Vec::with_capacity(body.locals.len());
        let frame_slots: Vec<i64> = crate::host::local_places(body)
            .map(|p| p.unwrap_or(0))
            .collect();
        let slots = frame_slots
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(crate::host::CONTEXT_SLOT)
            + 1;
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
        let first_temp = slots as usize;
        let mut l = Lower {
            b,
            body,
            vars,
            frame_slots,
            slots,
            used_context: false,
            lambdas,
            captured: if lambdas {
                lambda_locals(&body.block)
            } else {
                Vec::new()
            },
            consts: Vec::new(),
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
        // No frame slot used at all: no frame.
        let unused = l.slots == crate::host::CONTEXT_SLOT + 1 && !l.used_context;
        let frame = crate::host::Frame {
            slots: if unused { 0 } else { l.slots as usize },
            first_temp,
            consts: l.consts.into(),
        };
        Ok((l.b, frame))
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
        // In a body with lambdas, a statement that reaches the interpreter at all is one island
        // (one sync of the locals instead of one per node); blocks are looked into.
        if self.lambdas && !matches!(s, Stmt::Block(_)) && !self.stmt_native(s) {
            self.island_stmt(s);
            return Ok(());
        }
        match s {
            Stmt::Expr(e) => {
                if e.ty == Ty::Void && !matches!(e.kind, ExprKind::Call { .. }) {
                    self.island_stmt(s);
                } else {
                    self.expr(e)?;
                }
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
            Stmt::Return(Some(e)) if self.lambdas && reg_prim(&e.ty).is_none() => {
                // A deferred sequence leaving the body runs with the frame (an island).
                self.island_stmt(s);
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
            Stmt::Foreach { .. } | Stmt::Switch(..) | Stmt::Throw(_) | Stmt::Try { .. } => {
                self.island_stmt(s);
            }
        }
        Ok(())
    }
    /// A `bool` condition in a register.
    fn cond(&mut self, c: &Expr) -> Result<CValue, Unsupported> {
        match reg_prim(&c.ty) {
            Some(Prim::Bool) => self.expr(c),
            // A type the checker could not know: checked when it runs.
            _ => {
                let h = self.boxed(c)?;
                let ctx = self.ctx_ptr;
                let b = self.host_call(self.host.truth, &[ctx, h]);
                Ok(self.b.ins().ireduce(types::I8, b))
            }
        }
    }
    fn var(&self, id: turnpike_ir::ir::LocalId) -> Result<(Variable, Option<Prim>), Unsupported> {
        self.vars
            .get(id.0 as usize)
            .copied()
            .ok_or_else(|| Unsupported(format!("local slot {}", id.0)))
    }
}

/// Every local a lambda of `stmts` reaches: its parameters, what it captures, and the locals
/// of its body.
fn lambda_locals(stmts: &[Stmt]) -> Vec<u32> {
    struct Lambdas(Vec<u32>);
    impl turnpike_ir::ir::Visitor for Lambdas {
        fn expr(&mut self, e: &Expr) {
            if let ExprKind::Lambda(l) = &e.kind {
                self.0.extend(l.params.iter().map(|p| p.0));
                self.0.extend(l.captures.iter().map(|c| c.0));
                turnpike_ir::ir::for_each_local(&l.body, &mut |x| self.0.push(x.0));
            }
        }
    }
    let mut v = Lambdas(Vec::new());
    turnpike_ir::ir::walk(stmts, &mut v);
    v.0.sort_unstable();
    v.0.dedup();
    v.0
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
