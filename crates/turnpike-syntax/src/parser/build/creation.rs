//! `new` expressions: objects, arrays, anonymous objects and their initializers.

use turnpike_diagnostics::{Diagnostic, Span, codes};

use super::{Builder, P, kids};
use crate::ast::*;
use crate::parser::Rule;

impl Builder<'_> {
    pub(super) fn object_creation(&mut self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let Some(inner) = kids(p).into_iter().next() else {
            return self.dummy(span);
        };
        let new = match inner.as_rule() {
            Rule::anonymous_object => {
                let mut members = Vec::new();
                for m in kids(inner) {
                    let parts = kids(m);
                    match parts.as_slice() {
                        [name, value] => {
                            let name = self.ident(name);
                            let value = self.expression(value.clone());
                            members.push(AnonMember {
                                name: Some(name),
                                value,
                            });
                        }
                        [value] => {
                            let value = self.expression(value.clone());
                            members.push(AnonMember { name: None, value });
                        }
                        _ => {}
                    }
                }
                New::Anonymous(members)
            }
            Rule::implicit_array => {
                let rank = u8::try_from(
                    inner
                        .as_str()
                        .split(']')
                        .next()
                        .unwrap_or("")
                        .matches(',')
                        .count()
                        + 1,
                )
                .unwrap_or(u8::MAX);
                let init = kids(inner)
                    .into_iter()
                    .next()
                    .map(|a| self.array_init(a))
                    .unwrap_or_default();
                New::ImplicitArray { rank, init }
            }
            _ => return self.typed_creation(inner, span),
        };
        Expr {
            kind: ExprKind::New(new),
            span,
        }
    }

    pub(super) fn typed_creation(&mut self, p: P<'_>, span: Span) -> Expr {
        let mut it = kids(p).into_iter();
        let Some(ty) = it.next() else {
            return self.dummy(span);
        };
        let ty = self.type_ref(ty);
        let mut args = None;
        let mut init = None;
        let mut sizes_pair = None;
        for k in it {
            match k.as_rule() {
                Rule::invocation => {
                    args = Some(
                        kids(k)
                            .into_iter()
                            .next()
                            .map(|a| self.arguments(a))
                            .unwrap_or_default(),
                    );
                }
                Rule::object_initializer => init = Some(k),
                Rule::array_sizes => sizes_pair = Some(k),
                _ => {}
            }
        }
        let new = if let Some(sizes) = sizes_pair {
            // new T[n, m][] { ... }: T is the element type.
            let mut sizes_v = Vec::new();
            let mut ranks = Vec::new();
            let mut array_init = None;
            for k in kids(sizes) {
                match k.as_rule() {
                    Rule::expression => sizes_v.push(self.expression(k)),
                    Rule::rank_specifier => {
                        ranks.push(
                            u8::try_from(k.as_str().matches(',').count() + 1).unwrap_or(u8::MAX),
                        );
                    }
                    Rule::array_initializer => array_init = Some(self.array_init(k)),
                    _ => {}
                }
            }
            let first = u8::try_from(sizes_v.len()).unwrap_or(u8::MAX);
            ranks.insert(0, first);
            let (element, mut inner_ranks) = split_array(ty);
            ranks.append(&mut inner_ranks);
            New::Array {
                element,
                sizes: sizes_v,
                ranks,
                init: array_init,
            }
        } else if matches!(ty.kind, TypeKind::Array(..)) {
            // new T[] { ... }: the initializer is an array initializer.
            let (element, ranks) = split_array(ty);
            let init = init.map(|i| self.object_init_as_array(i));
            if init.is_none() || args.is_some() {
                self.error(
                    Diagnostic::new(
                        &codes::EXPRESSION_SYNTAX,
                        span,
                        "array creation needs a size or an initializer",
                    )
                    .with_help("write `new T[n]` or `new T[] { a, b }`"),
                );
            }
            New::Array {
                element,
                sizes: Vec::new(),
                ranks,
                init,
            }
        } else {
            let init = init.map(|i| self.object_init(i));
            New::Object { ty, args, init }
        };
        Expr {
            kind: ExprKind::New(new),
            span,
        }
    }

    pub(super) fn array_init(&mut self, p: P<'_>) -> Vec<VarInit> {
        kids(p).into_iter().map(|v| self.var_init(v)).collect()
    }

    pub(super) fn var_init(&mut self, p: P<'_>) -> VarInit {
        let span = self.span(&p);
        let inner = if p.as_rule() == Rule::variable_initializer {
            kids(p).into_iter().next()
        } else {
            Some(p)
        };
        match inner {
            Some(i) if i.as_rule() == Rule::array_initializer => {
                VarInit::Nested(self.array_init(i))
            }
            Some(i) => VarInit::Expr(self.expression(i)),
            None => VarInit::Expr(self.dummy(span)),
        }
    }

    pub(super) fn object_init(&mut self, p: P<'_>) -> Vec<InitElement> {
        let mut out = Vec::new();
        for el in kids(p) {
            let Some(inner) = kids(el).into_iter().next() else {
                continue;
            };
            let item = match inner.as_rule() {
                Rule::member_initializer => {
                    let parts = kids(inner);
                    match parts.as_slice() {
                        [name, value] => {
                            let name = self.ident(name);
                            let value = self.init_value(value.clone());
                            InitElement::Member { name, value }
                        }
                        _ => continue,
                    }
                }
                Rule::indexer_initializer => {
                    let parts = kids(inner);
                    match parts.as_slice() {
                        [args, value] => {
                            let args = self.arguments(args.clone());
                            let value = self.init_value(value.clone());
                            InitElement::Indexer { args, value }
                        }
                        _ => continue,
                    }
                }
                Rule::element_initializer_list => InitElement::List(
                    kids(inner)
                        .into_iter()
                        .map(|e| self.expression(e))
                        .collect(),
                ),
                _ => InitElement::Expr(self.expression(inner)),
            };
            out.push(item);
        }
        out
    }

    pub(super) fn init_value(&mut self, p: P<'_>) -> InitValue {
        match kids(p).into_iter().next() {
            Some(i) if i.as_rule() == Rule::object_initializer => {
                InitValue::Nested(self.object_init(i))
            }
            Some(i) => InitValue::Expr(self.expression(i)),
            None => InitValue::Nested(Vec::new()),
        }
    }

    pub(super) fn object_init_as_array(&mut self, p: P<'_>) -> Vec<VarInit> {
        let span = self.span(&p);
        let mut out = Vec::new();
        for el in self.object_init(p) {
            match el {
                InitElement::Expr(e) => out.push(VarInit::Expr(e)),
                InitElement::List(es) => {
                    out.push(VarInit::Nested(es.into_iter().map(VarInit::Expr).collect()))
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            &codes::EXPRESSION_SYNTAX,
                            span,
                            "an array initializer holds values, not member assignments",
                        )
                        .with_help("write `new T[] { a, b }`"),
                    );
                }
            }
        }
        out
    }
}

/// Splits `T[][,]` into `T` and its ranks, outermost first.
fn split_array(ty: TypeRef) -> (TypeRef, Vec<u8>) {
    let mut ranks = Vec::new();
    let mut t = ty;
    while let TypeKind::Array(inner, rank) = t.kind {
        ranks.push(rank);
        t = *inner;
    }
    // `int[][,]` nests as Array(Array(int, 1), 2): the outermost rank is the last written.
    ranks.reverse();
    (t, ranks)
}
