//! Register values: constants, numeric conversions and the operators on them, with the checks
//! that keep hardware traps from firing.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value as CValue, types};
use turnpike_ir::ir::{BinOp, Const};
use turnpike_ir::{Prim, Ty};

use super::{Lower, Unsupported, clif_type, is_float, is_unsigned, unsupported};
use crate::host::{self, Status};

impl Lower<'_, '_> {
    /// A result as the 64 bits written to `out`.
    pub(super) fn bits_of(&mut self, v: CValue, p: Prim) -> CValue {
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
    pub(super) fn constant(&mut self, c: &Const, ty: &Ty) -> Result<CValue, Unsupported> {
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
    pub(super) fn float_const(&mut self, p: Prim, v: f64) -> CValue {
        if p == Prim::Float {
            self.b.ins().f32const(v as f32)
        } else {
            self.b.ins().f64const(v)
        }
    }
    pub(super) fn min_of(&self, p: Prim) -> Result<i64, Unsupported> {
        Ok(match p {
            Prim::Int => i64::from(i32::MIN),
            Prim::Long => i64::MIN,
            other => return unsupported(format!("checked negation of `{other:?}`")),
        })
    }
    /// An unchecked conversion between predefined types.
    pub(super) fn numeric(
        &mut self,
        x: CValue,
        from: Prim,
        to: Prim,
    ) -> Result<CValue, Unsupported> {
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
    pub(super) fn binary(
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
