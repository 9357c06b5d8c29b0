//! Statements of `@{ ... }` blocks and lambda bodies.

use turnpike_diagnostics::{Diagnostic, Span, codes};

use super::{Builder, P, boxed, kids};
use crate::ast::*;
use crate::parser::{MAX_TREE_DEPTH, Rule};

impl Builder<'_> {
    pub(super) fn block(&mut self, p: P<'_>) -> Block {
        let span = self.span(&p);
        let stmts = kids(p).into_iter().map(|s| self.statement(s)).collect();
        Block { stmts, span }
    }

    pub(super) fn statement(&mut self, p: P<'_>) -> Stmt {
        let span = self.span(&p);
        self.depth += 1;
        let kind = if self.depth > MAX_TREE_DEPTH {
            self.too_deep(span);
            StmtKind::Empty
        } else {
            match kids(p).into_iter().next() {
                Some(inner) => self.statement_kind(inner),
                None => StmtKind::Empty,
            }
        };
        self.depth -= 1;
        Stmt { kind, span }
    }

    pub(super) fn boxed_stmt(&mut self, p: Option<P<'_>>) -> Box<Stmt> {
        Box::new(match p {
            Some(s) => self.statement(s),
            None => Stmt {
                kind: StmtKind::Empty,
                span: Span::default(),
            },
        })
    }

    pub(super) fn expr_or_dummy(&mut self, p: Option<P<'_>>) -> Expr {
        match p {
            Some(e) => self.expression(e),
            None => self.dummy(Span::default()),
        }
    }

    pub(super) fn statement_kind(&mut self, p: P<'_>) -> StmtKind {
        let rule = p.as_rule();
        let stmt_span = self.span(&p);
        match rule {
            Rule::block => StmtKind::Block(self.block(p)),
            Rule::empty_statement => StmtKind::Empty,
            Rule::declaration_statement => match kids(p).into_iter().next() {
                Some(d) => StmtKind::Declaration(self.local_decl(d)),
                None => StmtKind::Empty,
            },
            Rule::expression_statement => {
                let e = self.expr_or_dummy(kids(p).into_iter().next());
                StmtKind::Expr(e)
            }
            Rule::if_statement => {
                let mut it = kids(p).into_iter();
                let cond = self.expr_or_dummy(it.next());
                let then = self.boxed_stmt(it.next());
                let otherwise = it
                    .next()
                    .map(|e| self.boxed_stmt(kids(e).into_iter().next()));
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            Rule::while_statement => {
                let mut it = kids(p).into_iter();
                let cond = self.expr_or_dummy(it.next());
                let body = self.boxed_stmt(it.next());
                StmtKind::While { cond, body }
            }
            Rule::do_statement => {
                let mut it = kids(p).into_iter();
                let body = self.boxed_stmt(it.next());
                let cond = self.expr_or_dummy(it.next());
                StmtKind::Do { body, cond }
            }
            Rule::for_statement => {
                let mut init = None;
                let mut cond = None;
                let mut iter = Vec::new();
                let mut body = None;
                for k in kids(p) {
                    match k.as_rule() {
                        Rule::for_initializer => {
                            let parts = kids(k);
                            init = Some(match parts.first().map(|x| x.as_rule()) {
                                Some(Rule::local_declaration) => {
                                    let d = parts.into_iter().next();
                                    match d {
                                        Some(d) => ForInit::Declaration(self.local_decl(d)),
                                        None => ForInit::Exprs(Vec::new()),
                                    }
                                }
                                _ => ForInit::Exprs(
                                    parts.into_iter().map(|e| self.expression(e)).collect(),
                                ),
                            });
                        }
                        Rule::for_condition => {
                            cond = Some(self.expr_or_dummy(kids(k).into_iter().next()))
                        }
                        Rule::for_iterator => {
                            iter = kids(k).into_iter().map(|e| self.expression(e)).collect();
                        }
                        _ => body = Some(k),
                    }
                }
                let body = self.boxed_stmt(body);
                StmtKind::For {
                    init,
                    cond,
                    iter,
                    body,
                }
            }
            Rule::foreach_statement => {
                let mut it = kids(p).into_iter();
                let ty = match it.next() {
                    Some(t) => self.type_ref(t),
                    None => return StmtKind::Empty,
                };
                let name = match it.next() {
                    Some(n) => self.ident(&n),
                    None => return StmtKind::Empty,
                };
                let expr = self.expr_or_dummy(it.next());
                let body = self.boxed_stmt(it.next());
                StmtKind::Foreach {
                    ty,
                    name,
                    expr,
                    body,
                }
            }
            Rule::return_statement | Rule::throw_statement => {
                let e = kids(p).into_iter().next().map(|e| self.expression(e));
                if rule == Rule::return_statement {
                    StmtKind::Return(e)
                } else {
                    StmtKind::Throw(e)
                }
            }
            Rule::break_statement => StmtKind::Break,
            Rule::continue_statement => StmtKind::Continue,
            Rule::switch_statement => {
                let mut it = kids(p).into_iter();
                let expr = self.expr_or_dummy(it.next());
                let sections = it.map(|s| self.switch_section(s)).collect();
                StmtKind::Switch { expr, sections }
            }
            Rule::try_statement => {
                let mut body = None;
                let mut catches = Vec::new();
                let mut finally = None;
                for k in kids(p) {
                    match k.as_rule() {
                        Rule::block => body = Some(self.block(k)),
                        Rule::catch_clause => catches.push(self.catch_clause(k)),
                        Rule::finally_clause => {
                            finally = kids(k).into_iter().next().map(|b| self.block(b));
                        }
                        _ => {}
                    }
                }
                if catches.is_empty() && finally.is_none() {
                    self.error(
                        Diagnostic::new(
                            &codes::EXPRESSION_SYNTAX,
                            stmt_span,
                            "`try` needs a `catch` or a `finally`",
                        )
                        .with_help("add `catch { ... }` or `finally { ... }` after the block"),
                    );
                }
                StmtKind::Try {
                    body: body.unwrap_or(Block {
                        stmts: Vec::new(),
                        span: Span::default(),
                    }),
                    catches,
                    finally,
                }
            }
            Rule::using_statement => {
                let mut it = kids(p).into_iter();
                let resource = match it.next() {
                    Some(r) if r.as_rule() == Rule::local_declaration => {
                        ForInit::Declaration(self.local_decl(r))
                    }
                    Some(r) => ForInit::Exprs(vec![self.expression(r)]),
                    None => ForInit::Exprs(Vec::new()),
                };
                let body = self.boxed_stmt(it.next());
                StmtKind::Using { resource, body }
            }
            Rule::local_function => StmtKind::LocalFunction(Box::new(self.local_function(p))),
            _ => StmtKind::Empty,
        }
    }

    pub(super) fn local_function(&mut self, p: P<'_>) -> LocalFunction {
        let span = self.span(&p);
        let mut returns = None;
        let mut name = None;
        let mut params = Vec::new();
        let mut body = LambdaBody::Block(Block {
            stmts: Vec::new(),
            span,
        });
        for k in kids(p) {
            match k.as_rule() {
                Rule::type_ => returns = Some(self.type_ref(k)),
                Rule::identifier => name = Some(self.ident(&k)),
                Rule::function_parameter => {
                    let mut modifier = ArgModifier::None;
                    let mut ty = None;
                    let mut pname = None;
                    let mut default = None;
                    for part in kids(k) {
                        match part.as_rule() {
                            Rule::parameter_modifier => {
                                modifier = match part.as_str().trim() {
                                    "out" => ArgModifier::Out,
                                    "ref" => ArgModifier::Ref,
                                    _ => ArgModifier::In,
                                };
                            }
                            Rule::type_ => ty = Some(self.type_ref(part)),
                            Rule::identifier => pname = Some(self.ident(&part)),
                            _ => default = Some(self.expression(part)),
                        }
                    }
                    if let (Some(ty), Some(name)) = (ty, pname) {
                        params.push(Param {
                            modifier,
                            ty,
                            name,
                            default,
                        });
                    }
                }
                Rule::block => body = LambdaBody::Block(self.block(k)),
                Rule::expression => body = LambdaBody::Expr(boxed(self.expression(k))),
                _ => {}
            }
        }
        LocalFunction {
            returns,
            name: name.unwrap_or(Ident {
                name: String::new(),
                span,
            }),
            params,
            body,
        }
    }

    pub(super) fn local_decl(&mut self, p: P<'_>) -> LocalDecl {
        let is_const = p.as_str().starts_with("const")
            && p.as_str()[5..].starts_with(|c: char| !c.is_alphanumeric() && c != '_');
        let mut ty = None;
        let mut vars = Vec::new();
        for k in kids(p) {
            match k.as_rule() {
                Rule::type_ => ty = Some(self.type_ref(k)),
                Rule::variable_declarator => {
                    let mut it = kids(k).into_iter();
                    let Some(name) = it.next() else { continue };
                    let name = self.ident(&name);
                    let init = it.next().map(|v| self.var_init(v));
                    vars.push(Declarator { name, init });
                }
                _ => {}
            }
        }
        LocalDecl {
            is_const,
            ty: ty.unwrap_or(TypeRef {
                kind: TypeKind::Named(Vec::new()),
                span: Span::default(),
            }),
            vars,
        }
    }

    pub(super) fn switch_section(&mut self, p: P<'_>) -> SwitchSection {
        let mut labels = Vec::new();
        let mut stmts = Vec::new();
        for k in kids(p) {
            match k.as_rule() {
                Rule::switch_label => {
                    let Some(l) = kids(k).into_iter().next() else {
                        continue;
                    };
                    let span = self.span(&l);
                    if l.as_rule() == Rule::default_label {
                        labels.push(SwitchLabel::Default(span));
                        continue;
                    }
                    let mut pattern = None;
                    let mut guard = None;
                    for c in kids(l) {
                        match c.as_rule() {
                            Rule::case_pattern => {
                                let parts = kids(c);
                                if let [ty, name] = parts.as_slice() {
                                    pattern = Some(Pattern::Type {
                                        ty: self.type_ref(ty.clone()),
                                        binding: Some(self.ident(name)),
                                    });
                                }
                            }
                            Rule::case_guard => {
                                guard = Some(self.expr_or_dummy(kids(c).into_iter().next()));
                            }
                            _ => pattern = Some(Pattern::Constant(self.expression(c))),
                        }
                    }
                    let pattern = pattern.unwrap_or_else(|| Pattern::Constant(self.dummy(span)));
                    labels.push(SwitchLabel::Case {
                        pattern,
                        guard,
                        span,
                    });
                }
                _ => stmts.push(self.statement(k)),
            }
        }
        SwitchSection { labels, stmts }
    }

    pub(super) fn catch_clause(&mut self, p: P<'_>) -> CatchClause {
        let mut ty = None;
        let mut name = None;
        let mut filter = None;
        let mut body = None;
        for k in kids(p) {
            match k.as_rule() {
                Rule::type_ => ty = Some(self.type_ref(k)),
                Rule::identifier => name = Some(self.ident(&k)),
                Rule::catch_filter => filter = Some(self.expr_or_dummy(kids(k).into_iter().next())),
                Rule::block => body = Some(self.block(k)),
                _ => {}
            }
        }
        CatchClause {
            ty,
            name,
            filter,
            body: body.unwrap_or(Block {
                stmts: Vec::new(),
                span: Span::default(),
            }),
        }
    }
}
