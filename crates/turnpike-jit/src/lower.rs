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
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Type, Value as CValue, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use turnpike_ir::ir::{BinOp, Body, Const, Conv, Expr, ExprKind, OpType, Place, Stmt, UnOp};
use turnpike_ir::{Prim, Ty};

use crate::host::{self, FUEL_OFFSET, Status};

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
}

/// Lowers one body into `b` (whose function has the signature above).
pub struct Lower<'a, 'f> {
    b: FunctionBuilder<'f>,
    _body: std::marker::PhantomData<&'a Body>,
    vars: Vec<Option<(Variable, Prim)>>,
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
        // The result type must be one this lowering returns.
        match &body.ty {
            Ty::Void => {}
            t => {
                prim_of(t)?;
            }
        }
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
            let p = prim_of(&local.ty)?;
            let t = clif_type(p).unwrap_or(types::I32);
            let v = b.declare_var(t);
            // Every slot starts at zero (the interpreter's frame starts at null; C#'s
            // definite assignment means no read sees either).
            let zero = zero(&mut b, t);
            b.def_var(v, zero);
            vars.push(Some((v, p)));
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
                if e.ty == Ty::Void {
                    return unsupported("void expressions");
                }
                self.expr(e)?;
            }
            Stmt::Block(b) => self.stmts(b)?,
            Stmt::If(c, t, e) => {
                let c = self.expr(c)?;
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
                        let c = self.expr(c)?;
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
                    let v = self.expr(e)?;
                    let p = prim_of(&e.ty)?;
                    let bits = self.bits_of(v, p);
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

    fn var(&self, id: turnpike_ir::ir::LocalId) -> Result<(Variable, Prim), Unsupported> {
        self.vars
            .get(id.0 as usize)
            .copied()
            .flatten()
            .ok_or_else(|| Unsupported(format!("local slot {}", id.0)))
    }

    fn expr(&mut self, e: &Expr) -> Result<CValue, Unsupported> {
        Ok(match &e.kind {
            ExprKind::Const(c) => self.constant(c, &e.ty)?,
            ExprKind::Local(id) => {
                let (v, _) = self.var(*id)?;
                self.b.use_var(v)
            }
            ExprKind::Convert(conv, inner) => match conv {
                Conv::Numeric(from, to) => {
                    let x = self.expr(inner)?;
                    self.numeric(x, *from, *to)?
                }
                other => return unsupported(format!("conversion {other:?}")),
            },
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
                let x = self.expr(a)?;
                let rhs = self.b.create_block();
                let join = self.b.create_block();
                let r = self.b.append_block_param(join, types::I8);
                if *is_and {
                    self.b.ins().brif(x, rhs, &[], join, &[BlockArg::from(x)]);
                } else {
                    self.b.ins().brif(x, join, &[BlockArg::from(x)], rhs, &[]);
                }
                self.b.switch_to_block(rhs);
                let y = self.expr(b)?;
                self.b.ins().jump(join, &[BlockArg::from(y)]);
                self.b.switch_to_block(join);
                r
            }
            ExprKind::Cond(c, a, b) => {
                let p = prim_of(&e.ty)?;
                let t = clif_type(p).unwrap_or(types::I32);
                let c = self.expr(c)?;
                let (tb, fb, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                let r = self.b.append_block_param(join, t);
                self.b.ins().brif(c, tb, &[], fb, &[]);
                self.b.switch_to_block(tb);
                let x = self.expr(a)?;
                self.b.ins().jump(join, &[BlockArg::from(x)]);
                self.b.switch_to_block(fb);
                let y = self.expr(b)?;
                self.b.ins().jump(join, &[BlockArg::from(y)]);
                self.b.switch_to_block(join);
                r
            }
            ExprKind::Assign(place, value) => {
                let Place::Local(id) = &**place else {
                    return unsupported("assignment to a non-local place");
                };
                let v = self.expr(value)?;
                let (var, _) = self.var(*id)?;
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
                let (var, _) = self.var(*id)?;
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
                let (var, _) = self.var(*id)?;
                let (tmp_var, _) = self.var(*tmp)?;
                let cur = self.b.use_var(var);
                self.b.def_var(tmp_var, cur);
                let v = self.expr(value)?;
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
