//! The grammar's decisions, one construct at a time: precedence, associativity, and C#'s
//! disambiguation rules (generic `<`, casts, lambdas). Each case prints the parsed tree fully
//! parenthesized.

use turnpike_diagnostics::{FileId, Severity};
use turnpike_syntax::ExprBody;
use turnpike_syntax::ast::*;
use turnpike_syntax::offsets::OffsetMap;
use turnpike_syntax::parser::parse_code;
use turnpike_syntax::printer::{print_expr, print_type};
use turnpike_syntax::scan::csharp::code_extent;

fn parse(src: &str) -> Result<ExprBody, Vec<String>> {
    let map = OffsetMap::identity(0, src.len());
    let (body, diags) = parse_code(FileId::default(), src, &map, code_extent(src));
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {}", d.code.name, d.message))
        .collect();
    match body {
        Some(b) if errors.is_empty() => Ok(b),
        _ => Err(errors),
    }
}

/// Fully parenthesized form: `(a + (b * c))`.
fn shape(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", shape(lhs), op.as_str(), shape(rhs))
        }
        ExprKind::Unary { op, operand } => format!("({op:?} {})", shape(operand)),
        ExprKind::Postfix { op, operand } => format!("({} {op:?})", shape(operand)),
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            format!("({} ? {} : {})", shape(cond), shape(then), shape(otherwise))
        }
        ExprKind::Assign { op, target, value } => {
            format!("({} {} {})", shape(target), op.as_str(), shape(value))
        }
        ExprKind::Cast { ty, operand } => format!("(cast {} {})", print_type(ty), shape(operand)),
        ExprKind::Is { operand, pattern } => {
            let p = match &**pattern {
                Pattern::Type { ty, binding } => format!(
                    "{}{}",
                    print_type(ty),
                    binding
                        .as_ref()
                        .map(|b| format!(" {}", b.name))
                        .unwrap_or_default()
                ),
                Pattern::Constant(c) => shape(c),
                Pattern::Not(_) => "not ...".into(),
            };
            format!("({} is {p})", shape(operand))
        }
        ExprKind::As { operand, ty } => format!("({} as {})", shape(operand), print_type(ty)),
        ExprKind::Paren(inner) => shape(inner),
        ExprKind::Member {
            target,
            name,
            type_args,
            null_conditional,
        } => format!(
            "{}{}{}{}",
            shape(target),
            if *null_conditional { "?." } else { "." },
            name.name,
            if type_args.is_empty() {
                String::new()
            } else {
                format!(
                    "<{}>",
                    type_args
                        .iter()
                        .map(print_type)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            }
        ),
        ExprKind::Call { callee, args } => format!(
            "{}({})",
            shape(callee),
            args.iter()
                .map(|a| match &a.value {
                    ArgValue::Expr(e) => shape(e),
                    ArgValue::OutDecl { ty, name } =>
                        format!("out {} {}", print_type(ty), name.name),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::Lambda { params, body } => format!(
            "(lambda ({}) {})",
            params
                .iter()
                .map(|p| p.name.name.clone())
                .collect::<Vec<_>>()
                .join(" "),
            match body {
                LambdaBody::Expr(e) => shape(e),
                LambdaBody::Block(_) => "{...}".into(),
            }
        ),
        _ => print_expr(e),
    }
}

fn expr(src: &str) -> String {
    match parse(&format!("@({src})")) {
        Ok(ExprBody::Expr(e)) => shape(&e),
        other => panic!("{src}: {other:?}"),
    }
}

fn fails(src: &str) -> Vec<String> {
    match parse(src) {
        Ok(b) => panic!("{src} parsed: {b:?}"),
        Err(e) => e,
    }
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(expr("a + b * c"), "(a + (b * c))");
    assert_eq!(expr("a - b - c"), "((a - b) - c)");
    assert_eq!(expr("a ?? b ?? c"), "(a ?? (b ?? c))");
    assert_eq!(
        expr("a || b && c | d ^ e & f == g"),
        "(a || (b && (c | (d ^ (e & (f == g))))))"
    );
    assert_eq!(expr("a < b == c > d"), "((a < b) == (c > d))");
    assert_eq!(expr("a << 2 + 1"), "(a << (2 + 1))");
    assert_eq!(expr("a ? b : c ? d : e"), "(a ? b : (c ? d : e))");
    assert_eq!(expr("a ?? b ? c : d"), "((a ?? b) ? c : d)");
    assert_eq!(expr("-a * b"), "((Minus a) * b)");
    assert_eq!(expr("!a.b && c"), "((Not a.b) && c)");
    assert_eq!(expr("a - -b"), "(a - (Minus b))");
    assert_eq!(expr("x = y = 3"), "(x = (y = 3))");
    assert_eq!(expr("x += a ?? b"), "(x += (a ?? b))");
    assert_eq!(expr("i++ + ++j"), "((i Increment) + (PreIncrement j))");
}

#[test]
fn is_and_as_bind_at_relational_level() {
    assert_eq!(expr("a + b is int"), "((a + b) is int)");
    assert_eq!(
        expr("x is string s && s.Length > 0"),
        "((x is string s) && (s.Length > 0))"
    );
    assert_eq!(expr("x as JObject ?? y"), "((x as JObject) ?? y)");
    assert_eq!(expr("x is int ? 1 : 2"), "((x is int) ? 1 : 2)");
    assert_eq!(expr("x as int? ?? 0"), "((x as int?) ?? 0)");
    assert_eq!(expr("x is null"), "(x is null)");
    assert_eq!(expr("a == b is bool"), "(a == (b is bool))");
}

#[test]
fn generic_arguments_follow_the_csharp_rule() {
    assert_eq!(expr("body.As<JObject>()"), "body.As<JObject>()");
    assert_eq!(
        expr("v.GetValueOrDefault<Dictionary<string, List<int>>>(\"k\")"),
        "v.GetValueOrDefault<Dictionary<string, List<int>>>(\"k\")"
    );
    assert_eq!(expr("a < b > c"), "((a < b) > c)");
    assert_eq!(expr("f(a < b, c > d)"), "f((a < b), (c > d))");
    assert_eq!(expr("F<A, B>(x)"), "F<A, B>(x)");
    assert_eq!(expr("a < b"), "(a < b)");
    assert_eq!(expr("x.Y<T>.Z"), "x.Y<T>.Z");
}

#[test]
fn casts_follow_the_csharp_rule() {
    assert_eq!(expr("(string)x"), "(cast string x)");
    assert_eq!(
        expr("(JObject)context.Variables[\"a\"]"),
        "(cast JObject context.Variables[\"a\"])"
    );
    assert_eq!(expr("(int)-1"), "(cast int (Minus 1))");
    assert_eq!(expr("(a)-1"), "(a - 1)");
    assert_eq!(expr("(a)+b"), "(a + b)");
    assert_eq!(expr("(a)(b)"), "(cast a b)");
    assert_eq!(expr("(int?)x"), "(cast int? x)");
    assert_eq!(expr("(string[])x"), "(cast string[] x)");
    assert_eq!(expr("(a) is int"), "(a is int)");
    assert_eq!(
        expr("((IResponse)v[\"r\"]).StatusCode"),
        "(cast IResponse v[\"r\"]).StatusCode"
    );
    assert_eq!(expr("(x) != y"), "(x != y)");
    assert_eq!(expr("(List<int>)!x"), "(cast List<int> (Not x))");
}

#[test]
fn lambdas_and_parentheses() {
    assert_eq!(
        expr("xs.Where(x => x > 1)"),
        "xs.Where((lambda (x) (x > 1)))"
    );
    assert_eq!(
        expr("xs.Select((a, i) => a + i)"),
        "xs.Select((lambda (a i) (a + i)))"
    );
    assert_eq!(expr("f((a), b)"), "f(a, b)");
    assert_eq!(
        expr("xs.Any((string s) => s == \"\")"),
        "xs.Any((lambda (s) (s == \"\")))"
    );
    assert_eq!(expr("() => 1"), "(lambda () 1)");
}

#[test]
fn literals() {
    for ok in [
        "1",
        "0xFF",
        "0b1010",
        "1_000",
        "10L",
        "10UL",
        "1.5",
        ".5",
        "1e10",
        "1.5e-3f",
        "3m",
        "2d",
        "'a'",
        "'\\n'",
        "'\\u0041'",
        "\"a\\\"b\"",
        "@\"c:\\x\"\"y\"",
        "$\"{a}{{b}}{c:0.00}{d,5}\"",
        "$@\"{a}\"\"\"",
        "@$\"x\"",
        "true",
        "null",
        "{{named-value}}",
        "\"{{inside}}\"",
    ] {
        parse(&format!("@({ok})")).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
    }
}

#[test]
fn creation_expressions() {
    for ok in [
        "new JObject()",
        "new JObject(new JProperty(\"a\", 1))",
        "new JObject { [\"a\"] = 1 }",
        "new List<string> { \"a\", \"b\" }",
        "new Dictionary<string, int> { { \"a\", 1 }, { \"b\", 2 } }",
        "new X { A = 1, B = { C = 2 } }",
        "new string[] { \"a\" }",
        "new[] { 1, 2 }",
        "new int[5]",
        "new byte[16][]",
        "new int[,] { { 1, 2 }, { 3, 4 } }",
        "new { a = 1, b }",
        "new Uri(\"http://x\").Host",
        "string.Join(\",\", xs)",
        "int.MaxValue",
    ] {
        parse(&format!("@({ok})")).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
    }
}

#[test]
fn statements() {
    let block = r#"@{
        var a = 1; int b = 2, c; const string s = "x";
        string[] arr = { "a", "b" };
        if (a > b) { c = 1; } else if (a < b) c = 2; else { c = 3; }
        switch (s) { case "x": case "y": c = 4; break; case string t when t.Length > 3: break; default: return "d"; }
        while (a < 10) a++;
        do { a--; } while (a > 0);
        for (int i = 0, j = 1; i < 10; i++, j++) { continue; }
        foreach (var item in arr) { }
        using (var h = System.Security.Cryptography.SHA256.Create()) { }
        string Local(JObject o, int n = 2) { return o.ToString(); }
        int Twice(int n) => n * 2;
        try { throw new Exception("x"); } catch (FormatException e) when (e != null) { } catch { } finally { }
        int.TryParse(s, out var parsed);
        int.TryParse(s, out int other);
        x = y ?? throw new ArgumentException();
        ;
        return a.ToString();
    }"#;
    parse(block).unwrap_or_else(|e| panic!("{e:?}"));
}

#[test]
fn syntax_errors() {
    let has = |errs: &[String], name: &str| errs.iter().any(|e| e.starts_with(name));
    assert!(has(&fails("@(1 +)"), "expression-syntax"));
    assert!(has(&fails("@{ var a = 1 return a; }"), "expression-syntax"));
    assert!(has(&fails("@(a b)"), "expression-syntax"));
    assert!(has(
        &fails("@{ 1 = 2; return 0; }"),
        "invalid-assignment-target"
    ));
    assert!(has(&fails("@(f() = 1)"), "invalid-assignment-target"));
    assert!(has(&fails("@(\"a\\qb\")"), "invalid-escape"));
    assert!(has(&fails("@(99999999999999999999)"), "invalid-number"));
    assert!(has(&fails("@(1e999)"), "invalid-number"));
    assert!(has(&fails("@('')"), "invalid-char-literal"));
    assert!(has(&fails("@()"), "empty-expression"));
    assert!(has(&fails("@{ /* nothing */ }"), "empty-expression"));
    assert!(has(&fails("@{ try { } }"), "expression-syntax"));
    assert!(has(&fails("@(class)"), "expression-syntax"));
    assert!(has(&fails("@(new)"), "expression-syntax"));
    assert!(has(&fails("@(int(x))"), "expression-syntax"));
    assert!(has(&fails("@(a.Get<string(\"k\"))"), "expression-syntax"));
}

#[test]
fn spans_point_into_the_source() {
    let src = "@(a + bc)";
    let Ok(ExprBody::Expr(e)) = parse(src) else {
        panic!()
    };
    let ExprKind::Binary { rhs, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(&src[rhs.span.range()], "bc");
    assert_eq!(&src[e.span.range()], "a + bc");
}

#[test]
fn interpolation_holes_hold_no_bare_conditional() {
    assert!(parse("@($\"{a ? 1 : 2}\")").is_err());
    parse("@($\"{(a ? 1 : 2)}\")").unwrap_or_else(|e| panic!("{e:?}"));
    parse("@($\"{a:0.00}{b,-5}{c,3:x}\")").unwrap_or_else(|e| panic!("{e:?}"));
}

#[test]
fn constant_patterns_take_negative_numbers() {
    assert_eq!(expr("x is -1"), "(x is (Minus 1))");
}

#[test]
fn negative_constant_patterns_may_have_space() {
    assert_eq!(expr("x is - 1"), "(x is (Minus 1))");
}

#[test]
fn interpolated_text_is_decoded() {
    let Ok(ExprBody::Expr(e)) = parse("@($\"a\\t{{b}} {c}\")") else {
        panic!()
    };
    let ExprKind::Interpolated { parts, .. } = &e.kind else {
        panic!("{e:?}")
    };
    match &parts[0] {
        InterpPart::Text { raw, value } => {
            assert_eq!(raw, "a\\t{{b}} ");
            assert_eq!(value, "a\t{b} ");
        }
        other => panic!("{other:?}"),
    }
    let Ok(ExprBody::Expr(e)) = parse("@($@\"x\"\"{{y}}\")") else {
        panic!()
    };
    let ExprKind::Interpolated { parts, .. } = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&parts[0], InterpPart::Text { value, .. } if value == "x\"{y}"));
}
