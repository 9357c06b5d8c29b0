//! Operators: numeric promotion, lifting over nullable values, string concatenation,
//! library operators, assignments, `?:` and `is`.

use turnpike_diagnostics::{Span, codes};
use turnpike_ir::ir::{BinOp, Const, Conv, Expr, ExprKind, OpType, Place, UnOp};
use turnpike_ir::library::{MemberKind, TypeKind};
use turnpike_ir::ty::Prim;
use turnpike_ir::{MemberId, Ty};
use turnpike_syntax::ast::{self, AssignOp, BinaryOp, ExprKind as A, Pattern, UnaryOp};

use crate::Checker;
use crate::literal::const_expr;

/// C#'s binary numeric promotion.
fn promote(a: Prim, b: Prim) -> Option<Prim> {
    use Prim::*;
    if a == Bool || b == Bool {
        return None;
    }
    let has = |p: Prim| a == p || b == p;
    let signed_small = |p: Prim| matches!(p, SByte | Short | Int | Long);
    Some(if has(Decimal) {
        if has(Float) || has(Double) {
            return None;
        }
        Decimal
    } else if has(Double) {
        Double
    } else if has(Float) {
        Float
    } else if has(ULong) {
        if signed_small(a) || signed_small(b) {
            return None;
        }
        ULong
    } else if has(Long) {
        Long
    } else if has(UInt) {
        if matches!(a, SByte | Short | Int) || matches!(b, SByte | Short | Int) {
            Long
        } else {
            UInt
        }
    } else {
        Int
    })
}

/// Unary promotion: small integers and `char` to `int`.
fn promote_unary(p: Prim) -> Prim {
    match p {
        Prim::SByte | Prim::Byte | Prim::Short | Prim::UShort | Prim::Char => Prim::Int,
        p => p,
    }
}

fn bin_op(op: BinaryOp) -> Option<BinOp> {
    Some(match op {
        BinaryOp::Add => BinOp::Add,
        BinaryOp::Sub => BinOp::Sub,
        BinaryOp::Mul => BinOp::Mul,
        BinaryOp::Div => BinOp::Div,
        BinaryOp::Rem => BinOp::Rem,
        BinaryOp::BitAnd => BinOp::And,
        BinaryOp::BitOr => BinOp::Or,
        BinaryOp::BitXor => BinOp::Xor,
        BinaryOp::Shl => BinOp::Shl,
        BinaryOp::Shr => BinOp::Shr,
        BinaryOp::Eq => BinOp::Eq,
        BinaryOp::Ne => BinOp::Ne,
        BinaryOp::Lt => BinOp::Lt,
        BinaryOp::Le => BinOp::Le,
        BinaryOp::Gt => BinOp::Gt,
        BinaryOp::Ge => BinOp::Ge,
        BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => return None,
    })
}

impl Checker<'_> {
    pub(crate) fn condition(&mut self, e: &ast::Expr) -> Expr {
        let x = self.expr(e, None);
        let x = self.rvalue(x);
        if x.ty == Ty::BOOL || x.ty.is_unknown() {
            return x;
        }
        let tn = self.ty_name(&x.ty);
        let mut d = self
            .error(
                &codes::CONDITION_TYPE,
                x.span,
                format!("a condition must be a `bool`, not `{tn}`"),
            )
            .label(format!("this is `{tn}`"));
        if matches!(e.kind, A::Assign { .. }) {
            d = d.help("`=` assigns; compare with `==`");
        } else if x.ty == Ty::Nullable(Box::new(Ty::BOOL)) {
            d = d.help("compare with `== true`, or use `?? false`");
        }
        drop(d);
        self.poisoned(x.span)
    }

    pub(crate) fn unary(&mut self, op: UnaryOp, operand: &ast::Expr, span: Span) -> Expr {
        match op {
            UnaryOp::PreIncrement => return self.inc_dec(operand, 1, true, span),
            UnaryOp::PreDecrement => return self.inc_dec(operand, -1, true, span),
            UnaryOp::Minus => {
                let mut inner = operand;
                while let A::Paren(i) = &inner.kind {
                    inner = i;
                }
                if let A::Literal(ast::Literal::Integer(raw)) = &inner.kind {
                    return self.integer_literal(raw, true, span);
                }
                if let A::Literal(ast::Literal::Real(raw)) = &inner.kind {
                    return self.real_literal(raw, true, span);
                }
            }
            _ => {}
        }
        if op == UnaryOp::Not {
            let x = self.expr(operand, None);
            let x = self.rvalue(x);
            if x.ty.is_unknown() {
                return x;
            }
            if x.ty != Ty::BOOL {
                let tn = self.ty_name(&x.ty);
                self.error(
                    &codes::OPERATOR_TYPE,
                    span,
                    format!("operator `!` cannot be applied to an operand of type `{tn}`"),
                )
                .label(format!("this is `{tn}`"));
                return self.poisoned(span);
            }
            return Expr {
                kind: ExprKind::Unary(UnOp::Not, Prim::Bool, Box::new(x)),
                ty: Ty::BOOL,
                span,
            };
        }
        let x = self.expr(operand, None);
        let x = self.rvalue(x);
        if x.ty.is_unknown() {
            return x;
        }
        let (lifted, p) = match &x.ty {
            Ty::Prim(p) => (false, *p),
            Ty::Nullable(i) if i.prim().is_some() => (true, i.prim().unwrap_or(Prim::Int)),
            _ => {
                if op == UnaryOp::Minus
                    && let Some(m) = self.user_operator("-", std::slice::from_ref(&x.ty))
                {
                    let ty = self.lib.member(m).ty.clone();
                    return Expr {
                        kind: ExprKind::Call {
                            member: m,
                            type_args: Vec::new(),
                            recv: None,
                            args: vec![x],
                        },
                        ty,
                        span,
                    };
                }
                return self.op_error(op_token(op), &[&x.ty], span);
            }
        };
        let target = match op {
            UnaryOp::Plus => promote_unary(p),
            UnaryOp::Minus => match promote_unary(p) {
                Prim::UInt => Prim::Long,
                Prim::ULong => return self.op_error("-", &[&x.ty], span),
                q => q,
            },
            UnaryOp::BitNot => {
                let q = promote_unary(p);
                if !q.is_integral() {
                    return self.op_error("~", &[&x.ty], span);
                }
                q
            }
            _ => p,
        };
        if p == Prim::Bool {
            return self.op_error(op_token(op), &[&x.ty], span);
        }
        let result_ty = if lifted {
            Ty::Nullable(Box::new(Ty::Prim(target)))
        } else {
            Ty::Prim(target)
        };
        let x = self.numeric_to(x, target);
        match op {
            UnaryOp::Plus => x,
            _ => Expr {
                kind: ExprKind::Unary(
                    match op {
                        UnaryOp::Minus if self.checked => UnOp::CheckedNeg,
                        UnaryOp::Minus => UnOp::Neg,
                        _ => UnOp::BitNot,
                    },
                    target,
                    Box::new(x),
                ),
                ty: result_ty,
                span,
            },
        }
    }

    fn numeric_to(&self, x: Expr, to: Prim) -> Expr {
        match x.ty.prim() {
            Some(p) if p != to => {
                let span = x.span;
                Expr {
                    kind: ExprKind::Convert(Conv::Numeric(p, to), Box::new(x)),
                    ty: Ty::Prim(to),
                    span,
                }
            }
            _ => x,
        }
    }

    fn op_error(&mut self, op: &str, tys: &[&Ty], span: Span) -> Expr {
        let names: Vec<String> = tys
            .iter()
            .map(|t| format!("`{}`", self.ty_name(t)))
            .collect();
        let msg = if names.len() == 1 {
            format!(
                "operator `{op}` cannot be applied to an operand of type {}",
                names[0]
            )
        } else {
            format!(
                "operator `{op}` cannot be applied to operands of type {} and {}",
                names[0], names[1]
            )
        };
        let mut d = self
            .error(&codes::OPERATOR_TYPE, span, msg)
            .label("no such operator");
        if op == "+" || op == "-" {
            d = d.help("convert one side first, e.g. with `int.Parse(...)` or `.ToString()`");
        }
        drop(d);
        self.poisoned(span)
    }

    pub(crate) fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> Expr {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let a = self.condition(lhs);
                let b = self.condition(rhs);
                return Expr {
                    kind: ExprKind::Logical(op == BinaryOp::And, Box::new(a), Box::new(b)),
                    ty: Ty::BOOL,
                    span,
                };
            }
            BinaryOp::Coalesce => {
                let a = self.expr(lhs, None);
                let a = self.rvalue(a);
                let want = a.ty.strip_nullable().clone();
                let b = self.expr(rhs, Some(&want));
                let b = self.rvalue(b);
                return self.coalesce(a, b, span);
            }
            _ => {}
        }
        let a = self.expr(lhs, None);
        let a = self.rvalue(a);
        let b = self.expr(rhs, None);
        let b = self.rvalue(b);
        let Some(bop) = bin_op(op) else {
            return self.poisoned(span);
        };
        self.binary_values(bop, a, b, span)
    }

    pub(crate) fn coalesce(&mut self, a: Expr, b: Expr, span: Span) -> Expr {
        if a.ty.is_unknown() {
            let ty = if b.ty.is_unknown() || matches!(b.ty, Ty::Null) {
                Ty::Unknown
            } else {
                b.ty.clone()
            };
            return Expr {
                kind: ExprKind::Coalesce(Box::new(a), Box::new(b)),
                ty,
                span,
            };
        }
        if a.ty.is_value_type(self.lib) {
            let tn = self.ty_name(&a.ty);
            self.error(
                &codes::OPERATOR_TYPE,
                span,
                format!(
                    "operator `??` cannot be applied to a value of type `{tn}`, which is never null"
                ),
            )
            .label("never null");
            return self.poisoned(span);
        }
        let inner = a.ty.strip_nullable().clone();
        let (ty, b) = if let Ok(b2) = self.implicit(b.clone(), &inner) {
            (inner.clone(), b2)
        } else if let Ok(b2) = self.implicit(b.clone(), &a.ty) {
            (a.ty.clone(), b2)
        } else if self.implicit_exists(&a.ty, &b.ty) {
            (b.ty.clone(), b)
        } else {
            let (an, bn) = (self.ty_name(&a.ty), self.ty_name(&b.ty));
            self.error(
                &codes::OPERATOR_TYPE,
                span,
                format!("operator `??` cannot be applied to operands of type `{an}` and `{bn}`"),
            )
            .label("no common type");
            return self.poisoned(span);
        };
        let a = if matches!(&ty, Ty::Nullable(_)) || ty == inner {
            a
        } else {
            self.coerce(a, &ty)
        };
        Expr {
            kind: ExprKind::Coalesce(Box::new(a), Box::new(b)),
            ty,
            span,
        }
    }

    /// Types `a op b` for already-checked operands.
    pub(crate) fn binary_values(&mut self, op: BinOp, a: Expr, b: Expr, span: Span) -> Expr {
        let lib = self.lib;
        if a.ty.is_unknown() || b.ty.is_unknown() {
            let ty = if op.is_comparison() {
                Ty::BOOL
            } else if op == BinOp::Add && (a.ty == Ty::String || b.ty == Ty::String) {
                Ty::String
            } else {
                Ty::Unknown
            };
            let t = if ty == Ty::String {
                OpType::String
            } else {
                OpType::Object
            };
            return Expr {
                kind: ExprKind::Binary(op, t, Box::new(a), Box::new(b)),
                ty,
                span,
            };
        }
        // String concatenation.
        if op == BinOp::Add && (a.ty == Ty::String || b.ty == Ty::String) {
            if matches!(a.ty, Ty::Void) || matches!(b.ty, Ty::Void) {
                return self.op_error("+", &[&a.ty, &b.ty], span);
            }
            let a = self.stringify_operand(a);
            let b = self.stringify_operand(b);
            return Expr {
                kind: ExprKind::Binary(op, OpType::String, Box::new(a), Box::new(b)),
                ty: Ty::String,
                span,
            };
        }
        // Library operators (DateTime, TimeSpan, ...).
        if !matches!((&a.ty, &b.ty), (Ty::Prim(_), Ty::Prim(_)))
            && let Some(m) = self.user_operator(op.token(), &[a.ty.clone(), b.ty.clone()])
        {
            let mem = lib.member(m);
            let (pa, pb) = (mem.params[0].ty.clone(), mem.params[1].ty.clone());
            let ty = mem.ty.clone();
            let a = self.coerce(a, &pa);
            let b = self.coerce(b, &pb);
            return Expr {
                kind: ExprKind::Call {
                    member: m,
                    type_args: Vec::new(),
                    recv: None,
                    args: vec![a, b],
                },
                ty,
                span,
            };
        }
        let (ta, tb) = (a.ty.clone(), b.ty.clone());
        // Booleans.
        if ta == Ty::BOOL && tb == Ty::BOOL {
            if matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or | BinOp::Xor
            ) {
                return bin(op, OpType::Prim(Prim::Bool), a, b, Ty::BOOL, span);
            }
            return self.op_error(op.token(), &[&ta, &tb], span);
        }
        // `bool?` operators: three-valued `&`, `|`, lifted `==`.
        let boolish =
            |t: &Ty| matches!(t.strip_nullable(), Ty::Prim(Prim::Bool)) || matches!(t, Ty::Null);
        if boolish(&ta)
            && boolish(&tb)
            && (matches!(ta, Ty::Nullable(_)) || matches!(tb, Ty::Nullable(_)))
        {
            if !matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or | BinOp::Xor
            ) {
                return self.op_error(op.token(), &[&ta, &tb], span);
            }
            let nb = Ty::Nullable(Box::new(Ty::BOOL));
            let a = self.coerce(a, &nb);
            let b = self.coerce(b, &nb);
            let ty = if op.is_comparison() { Ty::BOOL } else { nb };
            return bin(op, OpType::LiftedBool, a, b, ty, span);
        }
        // Numbers, possibly lifted.
        let pa = numeric_base(&ta);
        let pb = numeric_base(&tb);
        if let (Some(x), Some(y)) = (pa, pb)
            && x != Prim::Bool
            && y != Prim::Bool
        {
            let lifted = matches!(ta, Ty::Nullable(_) | Ty::Null)
                || matches!(tb, Ty::Nullable(_) | Ty::Null);
            let p = if matches!(op, BinOp::Shl | BinOp::Shr) {
                let l = promote_unary(x);
                if !l.is_integral()
                    || !promote_unary(y).is_integral()
                    || promote(y, Prim::Int) != Some(Prim::Int) && y != Prim::Int
                {
                    return self.op_error(op.token(), &[&ta, &tb], span);
                }
                l
            } else {
                match self.promote_with_constants(&a, &b, x, y) {
                    Some(p) => p,
                    None => return self.op_error(op.token(), &[&ta, &tb], span),
                }
            };
            if matches!(op, BinOp::And | BinOp::Or | BinOp::Xor) && !p.is_integral() {
                return self.op_error(op.token(), &[&ta, &tb], span);
            }
            let rp = if matches!(op, BinOp::Shl | BinOp::Shr) {
                Prim::Int
            } else {
                p
            };
            if matches!(op, BinOp::Div | BinOp::Rem)
                && (p.is_integral() || p == Prim::Decimal)
                && is_zero_const(&b)
            {
                self.error(
                    &codes::DIVISION_BY_ZERO,
                    span,
                    "division by the constant zero".into(),
                )
                .label("always throws `DivideByZeroException`");
            }
            let result = if op.is_comparison() {
                Ty::BOOL
            } else {
                Ty::Prim(p)
            };
            if lifted {
                let a = self.lift_operand(a, p);
                let b = self.lift_operand(b, rp);
                let ty = if op.is_comparison() {
                    Ty::BOOL
                } else {
                    Ty::Nullable(Box::new(Ty::Prim(p)))
                };
                if (matches!(ta, Ty::Prim(_)) && matches!(tb, Ty::Null)
                    || matches!(tb, Ty::Prim(_)) && matches!(ta, Ty::Null))
                    && matches!(op, BinOp::Eq | BinOp::Ne)
                {
                    let tn = self.ty_name(if matches!(ta, Ty::Null) { &tb } else { &ta });
                    let always = if op == BinOp::Eq { "false" } else { "true" };
                    self.error(
                        &codes::CONSTANT_CONDITION,
                        span,
                        format!(
                            "the result is always `{always}`: {} `{tn}` is never null",
                            article(&tn)
                        ),
                    )
                    .label("compared with `null`");
                }
                return bin(op, OpType::Lifted(p), a, b, ty, span);
            }
            if !lifted && let Some(folded) = self.fold(op, p, &a, &b, span) {
                return folded;
            }
            let a = self.numeric_to(a, p);
            let b = self.numeric_to(b, rp);
            let t = if self.checked
                && p.is_integral()
                && matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul)
            {
                OpType::Checked(p)
            } else {
                OpType::Prim(p)
            };
            return bin(op, t, a, b, result, span);
        }
        // Enums.
        let is_enum = |t: &Ty| matches!(t.strip_nullable(), Ty::Named(id, _) if lib.ty(*id).kind == TypeKind::Enum);
        if is_enum(&ta) || is_enum(&tb) {
            if op.is_comparison() && (ta == tb || matches!(tb, Ty::Null) || matches!(ta, Ty::Null))
            {
                return bin(op, OpType::Enum, a, b, Ty::BOOL, span);
            }
            return self.op_error(op.token(), &[&ta, &tb], span);
        }
        // Equality of references.
        if matches!(op, BinOp::Eq | BinOp::Ne) {
            if (ta == Ty::String || ta == Ty::Null) && (tb == Ty::String || tb == Ty::Null) {
                return bin(op, OpType::String, a, b, Ty::BOOL, span);
            }
            let refs = |t: &Ty| !t.is_value_type(lib) && !matches!(t, Ty::Void);
            if refs(&ta)
                && refs(&tb)
                && (self.implicit_exists(&ta, &tb)
                    || self.implicit_exists(&tb, &ta)
                    || matches!(ta, Ty::Null)
                    || matches!(tb, Ty::Null)
                    || is_interface(lib, &ta)
                    || is_interface(lib, &tb))
            {
                if (matches!(ta, Ty::Nullable(_)) && matches!(tb, Ty::Null))
                    || (matches!(tb, Ty::Nullable(_)) && matches!(ta, Ty::Null))
                {
                    return bin(op, OpType::Object, a, b, Ty::BOOL, span);
                }
                return bin(op, OpType::Object, a, b, Ty::BOOL, span);
            }
            if ta.is_value_type(lib) && matches!(tb, Ty::Null)
                || tb.is_value_type(lib) && matches!(ta, Ty::Null)
            {
                let tn = self.ty_name(if matches!(ta, Ty::Null) { &tb } else { &ta });
                let always = if op == BinOp::Eq { "false" } else { "true" };
                self.error(
                    &codes::CONSTANT_CONDITION,
                    span,
                    format!(
                        "the result is always `{always}`: {} `{tn}` is never null",
                        article(&tn)
                    ),
                )
                .label("compared with `null`");
                return const_expr(Const::Bool(op == BinOp::Ne), span);
            }
        }
        self.op_error(op.token(), &[&ta, &tb], span)
    }

    /// C# lets a non-negative `int` constant take the other operand's unsigned type.
    fn promote_with_constants(&self, a: &Expr, b: &Expr, x: Prim, y: Prim) -> Option<Prim> {
        let nonneg = |e: &Expr| {
            matches!(e.kind, ExprKind::Const(Const::Int(v)) if v >= 0)
                || matches!(e.kind, ExprKind::Const(Const::Long(v)) if v >= 0 && (y == Prim::ULong || x == Prim::ULong))
        };
        if matches!(y, Prim::UInt | Prim::ULong) && nonneg(a) {
            return Some(y);
        }
        if matches!(x, Prim::UInt | Prim::ULong) && nonneg(b) {
            return Some(x);
        }
        promote(x, y)
    }

    fn lift_operand(&self, e: Expr, p: Prim) -> Expr {
        let span = e.span;
        let target = Ty::Nullable(Box::new(Ty::Prim(p)));
        match e.ty.clone() {
            Ty::Null => Expr {
                kind: ExprKind::Const(Const::Null),
                ty: target,
                span,
            },
            Ty::Prim(_) => {
                let n = self.numeric_to(e, p);
                Expr {
                    kind: ExprKind::Convert(Conv::WrapNullable, Box::new(n)),
                    ty: target,
                    span,
                }
            }
            Ty::Nullable(i) if i.prim() != Some(p) => Expr {
                kind: ExprKind::Convert(Conv::Cast(target.clone()), Box::new(e)),
                ty: target,
                span,
            },
            _ => e,
        }
    }

    fn stringify_operand(&mut self, e: Expr) -> Expr {
        if e.ty == Ty::String {
            return e;
        }
        let span = e.span;
        Expr {
            kind: ExprKind::Convert(Conv::ToStringOrEmpty, Box::new(e)),
            ty: Ty::String,
            span,
        }
    }

    /// A library operator for these operand types.
    pub(crate) fn user_operator(&self, token: &str, args: &[Ty]) -> Option<MemberId> {
        let lib = self.lib;
        let mut owners = Vec::new();
        for t in args {
            if let Some((id, _)) = lib.def_of(t.strip_nullable())
                && !owners.contains(&id)
            {
                owners.push(id);
            }
        }
        for id in owners {
            for &m in &lib.ty(id).members {
                let mem = lib.member(m);
                if mem.kind != MemberKind::Operator(token.to_string())
                    || mem.params.len() != args.len()
                {
                    continue;
                }
                if mem
                    .params
                    .iter()
                    .zip(args)
                    .all(|(p, a)| self.implicit_exists(a, &p.ty))
                {
                    return Some(m);
                }
            }
        }
        None
    }

    /// `x++`, `--x`.
    pub(crate) fn inc_dec(
        &mut self,
        operand: &ast::Expr,
        delta: i8,
        prefix: bool,
        span: Span,
    ) -> Expr {
        let Some((place, ty)) = self.place(operand) else {
            return self.poisoned(span);
        };
        if let Place::Local(id) = &place {
            let name = self.locals[id.0 as usize].name.clone();
            self.check_assigned(*id, &name, span);
        }
        match ty.prim() {
            Some(p) if p != Prim::Bool => Expr {
                kind: ExprKind::IncDec {
                    place: Box::new(place),
                    delta,
                    prefix,
                    prim: p,
                },
                ty: ty.clone(),
                span,
            },
            _ if ty.is_unknown() => self.poisoned(span),
            _ => {
                let tn = self.ty_name(&ty);
                let op = if delta > 0 { "++" } else { "--" };
                self.error(
                    &codes::INVALID_INCREMENT,
                    span,
                    format!("operator `{op}` cannot be applied to a value of type `{tn}`"),
                )
                .label("not a number");
                self.poisoned(span)
            }
        }
    }

    pub(crate) fn assign(
        &mut self,
        op: AssignOp,
        target: &ast::Expr,
        value: &ast::Expr,
        span: Span,
    ) -> Expr {
        let Some((place, ty)) = self.place(target) else {
            let _ = self.expr(value, None);
            return self.poisoned(span);
        };
        match op {
            AssignOp::Assign => {
                let v = self.expr(value, Some(&ty));
                let v = self.rvalue(v);
                let v = self.coerce(v, &ty);
                if let Place::Local(id) = &place {
                    self.assigned[id.0 as usize] = true;
                }
                Expr {
                    kind: ExprKind::Assign(Box::new(place), Box::new(v)),
                    ty,
                    span,
                }
            }
            AssignOp::Compound(_) | AssignOp::CoalesceAssign => {
                if let Place::Local(id) = &place {
                    let name = self.locals[id.0 as usize].name.clone();
                    self.check_assigned(*id, &name, span);
                }
                let tmp = self.temp(ty.clone());
                let cur = Expr {
                    kind: ExprKind::Local(tmp),
                    ty: ty.clone(),
                    span: target.span,
                };
                let v = self.expr(value, Some(&ty));
                let v = self.rvalue(v);
                let combined = match op {
                    AssignOp::CoalesceAssign => self.coalesce(cur, v, span),
                    AssignOp::Compound(bop) => match bin_op(bop) {
                        Some(b) => self.binary_values(b, cur, v, span),
                        None => self.poisoned(span),
                    },
                    AssignOp::Assign => v,
                };
                bop_dummy(op);
                // C# converts the result back explicitly for built-in operators.
                let combined = if combined.ty.prim().is_some() && ty.prim().is_some() {
                    self.explicit(combined, &ty)
                } else {
                    self.coerce(combined, &ty)
                };
                Expr {
                    kind: ExprKind::Compound {
                        place: Box::new(place),
                        value: Box::new(combined),
                        tmp,
                    },
                    ty,
                    span,
                }
            }
        }
    }

    pub(crate) fn conditional(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Expr,
        otherwise: &ast::Expr,
        target: Option<&Ty>,
        span: Span,
    ) -> Expr {
        let c = self.condition(cond);
        let a = self.expr(then, target);
        let a = self.rvalue(a);
        let b = self.expr(otherwise, target);
        let b = self.rvalue(b);
        let unified = if matches!(a.kind, ExprKind::Throw(_)) {
            Some(b.ty.clone())
        } else if matches!(b.kind, ExprKind::Throw(_)) {
            Some(a.ty.clone())
        } else {
            self.unify_branches(&a.ty, &b.ty)
        };
        let ty = match unified {
            Some(t) => t,
            None => {
                // `x ? 1 : null` works when the context wants `int?` (C# 9); C# 7 rejects it.
                let (an, bn) = (self.ty_name(&a.ty), self.ty_name(&b.ty));
                let mut d = self
                    .error(
                        &codes::CONDITIONAL_TYPES,
                        span,
                        format!("the branches of `?:` have no common type: `{an}` and `{bn}`"),
                    )
                    .label("no implicit conversion between them");
                if matches!(a.ty, Ty::Null) || matches!(b.ty, Ty::Null) {
                    let other = if matches!(a.ty, Ty::Null) { bn } else { an };
                    d = d.help(format!("cast one branch: `({other}?)`"));
                } else {
                    d = d.help("cast one branch to the type you want, e.g. `(object)`");
                }
                drop(d);
                return self.poisoned(span);
            }
        };
        let a = if matches!(a.kind, ExprKind::Throw(_)) {
            Expr {
                ty: ty.clone(),
                ..a
            }
        } else {
            self.coerce(a, &ty)
        };
        let b = if matches!(b.kind, ExprKind::Throw(_)) {
            Expr {
                ty: ty.clone(),
                ..b
            }
        } else {
            self.coerce(b, &ty)
        };
        Expr {
            kind: ExprKind::Cond(Box::new(c), Box::new(a), Box::new(b)),
            ty,
            span,
        }
    }

    pub(crate) fn is_pattern(
        &mut self,
        operand: &ast::Expr,
        pattern: &Pattern,
        span: Span,
    ) -> Expr {
        let x = self.expr(operand, None);
        let x = self.rvalue(x);
        self.pattern_test(x, pattern, span)
    }

    /// A test of `x` against a pattern, as a `bool` expression.
    pub(crate) fn pattern_test(&mut self, x: Expr, pattern: &Pattern, span: Span) -> Expr {
        match pattern {
            Pattern::Not(p) => {
                let inner = self.pattern_test(x, p, span);
                Expr {
                    kind: ExprKind::Unary(UnOp::Not, Prim::Bool, Box::new(inner)),
                    ty: Ty::BOOL,
                    span,
                }
            }
            Pattern::Constant(c) => {
                let cv = self.expr(c, None);
                if matches!(cv.ty, Ty::Null) {
                    if x.ty.is_value_type(self.lib) {
                        return const_expr(Const::Bool(false), span);
                    }
                    return bin(BinOp::Eq, OpType::Object, x, cv, Ty::BOOL, span);
                }
                if matches!(x.ty, Ty::Object | Ty::Unknown) || is_interface(self.lib, &x.ty) {
                    let boxed = self.coerce(cv, &Ty::Object);
                    let xo = self.coerce(x, &Ty::Object);
                    return bin(BinOp::Eq, OpType::Equals, xo, boxed, Ty::BOOL, span);
                }
                self.binary_values(BinOp::Eq, x, cv, span)
            }
            Pattern::Type { ty, binding } => {
                let is_var = crate::names::is_var(ty);
                let t = if is_var {
                    x.ty.clone()
                } else {
                    self.resolve_type(ty)
                };
                let bind = binding.as_ref().map(|b| {
                    let id = self.declare(&b.name, t.clone(), b.span);
                    self.assigned[id.0 as usize] = true;
                    id
                });
                if !is_var
                    && !t.is_unknown()
                    && !x.ty.is_unknown()
                    && !self.explicit_exists(&x.ty, &t)
                {
                    let (xn, tn) = (self.ty_name(&x.ty), self.ty_name(&t));
                    self.error(
                        &codes::INVALID_CAST,
                        span,
                        format!("a value of type `{xn}` can never be a `{tn}`"),
                    )
                    .label("this test is always false");
                }
                if is_var && let Some(b) = bind {
                    // `is var v` always matches, null included: it only binds.
                    let xt = x.ty.clone();
                    return Expr {
                        kind: ExprKind::Seq(
                            vec![turnpike_ir::ir::Stmt::Expr(Expr {
                                kind: ExprKind::Assign(Box::new(Place::Local(b)), Box::new(x)),
                                ty: xt,
                                span,
                            })],
                            Box::new(const_expr(Const::Bool(true), span)),
                        ),
                        ty: Ty::BOOL,
                        span,
                    };
                }
                Expr {
                    kind: ExprKind::Is(Box::new(x), t, bind),
                    ty: Ty::BOOL,
                    span,
                }
            }
        }
    }
}

fn bop_dummy(_op: AssignOp) {}

fn bin(op: BinOp, t: OpType, a: Expr, b: Expr, ty: Ty, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Binary(op, t, Box::new(a), Box::new(b)),
        ty,
        span,
    }
}

fn numeric_base(t: &Ty) -> Option<Prim> {
    match t {
        Ty::Prim(p) => Some(*p),
        Ty::Nullable(i) => i.prim(),
        _ => None,
    }
}

fn is_zero_const(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(Const::Int(0) | Const::Long(0) | Const::UInt(0) | Const::ULong(0)) => true,
        ExprKind::Const(Const::Decimal(s)) => s
            .trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.'),
        ExprKind::Convert(_, inner) => is_zero_const(inner),
        _ => false,
    }
}

fn is_interface(lib: &turnpike_ir::Library, t: &Ty) -> bool {
    matches!(t, Ty::Named(id, _) if lib.ty(*id).kind == TypeKind::Interface)
}

fn op_token(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Plus => "+",
        UnaryOp::Minus => "-",
        UnaryOp::Not => "!",
        UnaryOp::BitNot => "~",
        UnaryOp::PreIncrement => "++",
        UnaryOp::PreDecrement => "--",
    }
}

fn const_int(e: &Expr) -> Option<i128> {
    match &e.kind {
        ExprKind::Const(Const::Int(v)) => Some(i128::from(*v)),
        ExprKind::Const(Const::Long(v)) => Some(i128::from(*v)),
        ExprKind::Const(Const::UInt(v)) => Some(i128::from(*v)),
        ExprKind::Convert(Conv::Numeric(_, _), inner) => const_int(inner),
        _ => None,
    }
}

impl Checker<'_> {
    /// Folds `int` and `long` constant arithmetic as the C# compiler does: the result is a
    /// constant (so `const uint x = 60 * 20;` converts), and overflow is a compile-time error
    /// unless inside `unchecked(...)`.
    fn fold(&mut self, op: BinOp, p: Prim, a: &Expr, b: &Expr, span: Span) -> Option<Expr> {
        if !matches!(p, Prim::Int | Prim::Long) {
            return None;
        }
        let (x, y) = (const_int(a)?, const_int(b)?);
        let v: i128 = match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x.checked_mul(y)?,
            BinOp::Div | BinOp::Rem if y == 0 => return None,
            BinOp::Div => x / y,
            BinOp::Rem => x % y,
            _ => return None,
        };
        let (lo, hi) = if p == Prim::Int {
            (i128::from(i32::MIN), i128::from(i32::MAX))
        } else {
            (i128::from(i64::MIN), i128::from(i64::MAX))
        };
        if v < lo || v > hi {
            if !self.unchecked_context {
                self.error(
                    &codes::CONSTANT_OVERFLOW,
                    span,
                    format!(
                        "the operation overflows at compile time: the result does not fit in `{}`",
                        p.keyword()
                    ),
                )
                .label("constant arithmetic overflows")
                .help("use a wider type (`long`, `decimal`) or wrap it in `unchecked(...)`");
            }
            return None;
        }
        Some(if p == Prim::Int {
            const_expr(Const::Int(v as i32), span)
        } else {
            const_expr(Const::Long(v as i64), span)
        })
    }
}

/// `a` or `an` before a type name.
fn article(name: &str) -> &'static str {
    if name.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}
