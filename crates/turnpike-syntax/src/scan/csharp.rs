//! Where does a C# expression end? A logos lexer over C#'s tokens, enough to skip strings
//! (regular, verbatim, interpolated in both forms, with nested holes), character literals
//! and comments, and to balance brackets.

use logos::Logos;

/// The C# tokens that matter for finding an expression's end. Everything else is `Other`.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\u{B}\f\u{FEFF}\p{Zs}]+")]
pub(crate) enum Cs {
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str,
    #[regex(r#""([^"\\\n]|\\[^\n])*"#)]
    UnterminatedStr,
    #[regex(r#"@"([^"]|"")*""#)]
    VerbatimStr,
    #[regex(r#"@"([^"]|"")*"#)]
    UnterminatedVerbatimStr,
    #[token("$\"")]
    InterpStart,
    #[token("$@\"")]
    #[token("@$\"")]
    InterpVerbatimStart,
    #[regex(r"'([^'\\\n]|\\[^\n])*'")]
    Char,
    #[token("'")]
    UnterminatedChar,
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment,
    #[regex(r"/\*([^*]|\*+[^*/])*\*+/")]
    BlockComment,
    #[token("/*")]
    UnterminatedComment,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token(".")]
    Dot,
    #[token(",")]
    Comma,
    #[token("?")]
    Question,
    #[token(":")]
    Colon,
    #[token(";")]
    Semicolon,
    #[token("=>")]
    Arrow,
    #[token("=")]
    #[token("+=")]
    #[token("-=")]
    #[token("*=")]
    #[token("/=")]
    #[token("%=")]
    #[token("&=")]
    #[token("|=")]
    #[token("^=")]
    #[token("<<=")]
    #[token(">>=")]
    #[token("??=")]
    Assign,
    #[token("==")]
    #[token("!=")]
    #[token("<=")]
    #[token(">=")]
    Comparison,
    #[regex(r"@?[\p{L}_][\p{L}\p{N}_]*")]
    Ident,
    #[regex(r"[0-9][0-9A-Za-z_]*")]
    Number,
    #[regex(r"[^ \t\r\n\u{B}\f\u{FEFF}\p{Zs}]", priority = 0)]
    Other,
}

/// Why an expression's end could not be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanErrorKind {
    /// The text ended before the closing bracket.
    Unterminated,
    /// A string, character literal or comment is not closed; `at` is where it starts.
    UnterminatedLiteral(LiteralKind),
    /// Interpolated strings nest deeper than the scanner follows.
    TooDeep,
    /// A closing bracket that does not match; `at` is that bracket.
    Mismatched {
        /// The bracket that was expected.
        expected: char,
        /// The bracket that was found.
        found: char,
        /// Where the bracket that is left open stands.
        open_at: usize,
    },
}

impl ScanErrorKind {
    /// The same error with its inner offsets moved into another coordinate space.
    #[must_use]
    pub fn map_offsets(self, f: impl Fn(usize) -> usize) -> Self {
        match self {
            ScanErrorKind::Mismatched {
                expected,
                found,
                open_at,
            } => ScanErrorKind::Mismatched {
                expected,
                found,
                open_at: f(open_at),
            },
            other => other,
        }
    }
}

/// Which kind of literal is unterminated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// `"...`
    String,
    /// `'...`
    Char,
    /// `/* ...`
    Comment,
}

/// A scanning failure at byte `at` of the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanError {
    /// What went wrong.
    pub kind: ScanErrorKind,
    /// Byte offset in the scanned text.
    pub at: usize,
}

/// The result of scanning one expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExprExtent {
    /// One past the closing bracket.
    pub end: usize,
    /// Deepest nesting of brackets and interpolation holes.
    pub max_depth: usize,
    /// Most constructs that nest without brackets (`if`, `else`, loops, `using`, `throw`,
    /// `=>`, `?`, assignments) open at once, counted since the last `;` of each bracket
    /// level: how deep the grammar can recurse between brackets.
    pub max_chain: usize,
    /// Most `<` in one run of tokens that could form a type (identifiers, `.`, `,`, `<`,
    /// `>`, `?`): how deep the parser's generic-argument lookahead can recurse.
    pub max_angle_run: usize,
}

fn closer(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

struct Walker<'a> {
    src: &'a str,
    max_depth: usize,
    max_chain: usize,
    max_angle_run: usize,
    /// Interpolated strings currently open (the scanner recurses into them).
    interp_depth: usize,
}

/// How deep interpolated strings may nest inside each other.
const MAX_INTERPOLATION_DEPTH: usize = 64;

/// Finds the end of the policy expression that starts at `start` (`@(` or `@{`) in `src`.
pub fn expression_extent(src: &str, start: usize) -> Result<ExprExtent, ScanError> {
    let open = match src.get(start..start + 2) {
        Some("@(") => '(',
        Some("@{") => '{',
        _ => {
            return Err(ScanError {
                kind: ScanErrorKind::Unterminated,
                at: start,
            });
        }
    };
    let mut w = Walker {
        src,
        max_depth: 0,
        max_chain: 0,
        max_angle_run: 0,
        interp_depth: 0,
    };
    let end = w.balanced(start + 2, open, false)?;
    Ok(ExprExtent {
        end,
        max_depth: w.max_depth,
        max_chain: w.max_chain,
        max_angle_run: w.max_angle_run,
    })
}

/// Nesting figures of a piece of C# code (used by the parser's depth guard).
pub fn code_extent(code: &str) -> ExprExtent {
    let mut w = Walker {
        src: code,
        max_depth: 0,
        max_chain: 0,
        max_angle_run: 0,
        interp_depth: 0,
    };
    // Scan as if the code were inside a hole that never closes; errors are the parser's job.
    let _ = w.balanced(0, '\u{0}', false);
    ExprExtent {
        end: code.len(),
        max_depth: w.max_depth,
        max_chain: w.max_chain,
        max_angle_run: w.max_angle_run,
    }
}

impl Walker<'_> {
    /// Scans from `pos` (just after `open`) to just past the matching closer. With `hole`,
    /// `open` is the `{` of an interpolation hole: a `:` at depth zero starts the format
    /// specifier, which runs to the closing `}`.
    fn balanced(&mut self, pos: usize, open: char, hole: bool) -> Result<usize, ScanError> {
        // Open brackets with their positions, and per level the count of bracket-less
        // nesting constructs seen since that level's last `;`.
        let mut stack: Vec<(char, usize)> = vec![(open, pos.saturating_sub(1))];
        let mut chain: Vec<usize> = vec![0];
        let mut chain_total = 0usize;
        let mut angle_run = 0usize;
        let mut lex = Cs::lexer(&self.src[pos..]);
        self.max_depth = self.max_depth.max(1);
        while let Some(tok) = lex.next() {
            let span = lex.span();
            let at = pos + span.start;
            let tok = tok.unwrap_or(Cs::Other);
            match tok {
                Cs::Ident | Cs::Dot | Cs::Comma | Cs::Gt | Cs::Question => {}
                Cs::Lt => {
                    angle_run += 1;
                    self.max_angle_run = self.max_angle_run.max(angle_run);
                }
                _ => angle_run = 0,
            }
            let nests = match tok {
                Cs::Arrow | Cs::Assign | Cs::Question => true,
                Cs::Ident => matches!(
                    lex.slice(),
                    "if" | "else" | "while" | "for" | "foreach" | "using" | "do" | "throw" | "lock"
                ),
                _ => false,
            };
            if nests {
                if let Some(c) = chain.last_mut() {
                    *c += 1;
                }
                chain_total += 1;
                self.max_chain = self.max_chain.max(chain_total);
            }
            match tok {
                Cs::UnterminatedStr | Cs::UnterminatedVerbatimStr => {
                    return Err(ScanError {
                        kind: ScanErrorKind::UnterminatedLiteral(LiteralKind::String),
                        at,
                    });
                }
                Cs::UnterminatedChar => {
                    return Err(ScanError {
                        kind: ScanErrorKind::UnterminatedLiteral(LiteralKind::Char),
                        at,
                    });
                }
                Cs::UnterminatedComment => {
                    return Err(ScanError {
                        kind: ScanErrorKind::UnterminatedLiteral(LiteralKind::Comment),
                        at,
                    });
                }
                Cs::Semicolon => {
                    if let Some(c) = chain.last_mut() {
                        chain_total -= *c;
                        *c = 0;
                    }
                }
                Cs::InterpStart | Cs::InterpVerbatimStart => {
                    let depth = stack.len();
                    let end = self.interpolated(
                        pos + span.end,
                        at,
                        tok == Cs::InterpVerbatimStart,
                        depth,
                    )?;
                    lex.bump(end - (pos + span.end));
                }
                Cs::LParen | Cs::LBracket | Cs::LBrace => {
                    let ch = match tok {
                        Cs::LParen => '(',
                        Cs::LBracket => '[',
                        _ => '{',
                    };
                    stack.push((ch, at));
                    chain.push(0);
                    self.max_depth = self.max_depth.max(stack.len());
                }
                Cs::RParen | Cs::RBracket | Cs::RBrace => {
                    let found = match tok {
                        Cs::RParen => ')',
                        Cs::RBracket => ']',
                        _ => '}',
                    };
                    let (top, open_at) = stack.pop().unwrap_or(('(', pos));
                    if top == '\u{0}' {
                        // Code scanned for its figures only: ignore stray closers.
                        stack.push((top, open_at));
                        continue;
                    }
                    chain_total -= chain.pop().unwrap_or(0);
                    if closer(top) != found {
                        return Err(ScanError {
                            kind: ScanErrorKind::Mismatched {
                                expected: closer(top),
                                found,
                                open_at,
                            },
                            at,
                        });
                    }
                    if stack.is_empty() {
                        return Ok(pos + span.end);
                    }
                }
                Cs::Colon if hole && stack.len() == 1 => {
                    // Format specifier: everything up to the next `}`.
                    let rest = &self.src[pos + span.end..];
                    return match rest.find('}') {
                        Some(i) => Ok(pos + span.end + i + 1),
                        None => Err(ScanError {
                            kind: ScanErrorKind::UnterminatedLiteral(LiteralKind::String),
                            at,
                        }),
                    };
                }
                _ => {}
            }
        }
        Err(ScanError {
            kind: ScanErrorKind::Unterminated,
            at: self.src.len(),
        })
    }

    /// Scans an interpolated string whose text starts at `pos`; returns the offset just past
    /// its closing quote.
    fn interpolated(
        &mut self,
        pos: usize,
        start: usize,
        verbatim: bool,
        depth: usize,
    ) -> Result<usize, ScanError> {
        if self.interp_depth >= MAX_INTERPOLATION_DEPTH {
            return Err(ScanError {
                kind: ScanErrorKind::TooDeep,
                at: start,
            });
        }
        self.interp_depth += 1;
        let result = self.interpolated_body(pos, start, verbatim, depth);
        self.interp_depth -= 1;
        result
    }

    fn interpolated_body(
        &mut self,
        pos: usize,
        start: usize,
        verbatim: bool,
        depth: usize,
    ) -> Result<usize, ScanError> {
        let bytes = self.src.as_bytes();
        let mut i = pos;
        let unterminated = ScanError {
            kind: ScanErrorKind::UnterminatedLiteral(LiteralKind::String),
            at: start,
        };
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    if verbatim && bytes.get(i + 1) == Some(&b'"') {
                        i += 2;
                    } else {
                        return Ok(i + 1);
                    }
                }
                b'\\' if !verbatim => {
                    i += 1;
                    if bytes.get(i).is_some_and(|&b| b != b'\n') {
                        i += utf8_len(bytes[i]);
                    }
                }
                b'\n' if !verbatim => return Err(unterminated),
                b'{' => {
                    if bytes.get(i + 1) == Some(&b'{') {
                        i += 2;
                    } else {
                        let (saved, saved_chain) = (self.max_depth, self.max_chain);
                        self.max_depth = 0;
                        let end = self.balanced(i + 1, '{', true)?;
                        self.max_depth = saved.max(self.max_depth + depth);
                        self.max_chain = saved_chain.max(self.max_chain);
                        i = end;
                    }
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => i += 2,
                b => i += utf8_len(b),
            }
        }
        Err(unterminated)
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Result<usize, ScanError> {
        expression_extent(s, 0).map(|e| e.end)
    }

    #[test]
    fn simple_and_nested() {
        assert_eq!(end("@(a) rest"), Ok(4));
        assert_eq!(end("@(f(a, (b)))x"), Ok(12));
        assert_eq!(end("@{ return x; }\"/>"), Ok(14));
    }

    #[test]
    fn skips_strings_chars_and_comments() {
        assert_eq!(end(r#"@(")" + x)"#), Ok(10));
        assert_eq!(end(r#"@("a\")" + x)"#), Ok(13));
        assert_eq!(end(r#"@(@"a"")" + x)"#), Ok(14));
        assert_eq!(end("@(')' + x)"), Ok(10));
        assert_eq!(end("@('\\'' + x)"), Ok(11));
        assert_eq!(end("@{ // )\n return 1; }"), Ok(20));
        assert_eq!(end("@(a /* ) */ + b)"), Ok(16));
    }

    #[test]
    fn interpolated_strings_nest() {
        let s = r#"@($"a{(b ? $":{c}" : "")}d")"#;
        assert_eq!(end(s), Ok(s.len()));
        let s = r#"@($"{{x}} {y:0.00} {z,5}")"#;
        assert_eq!(end(s), Ok(s.len()));
        let s = "@($@\"a\"\"b{c}\n\")";
        assert_eq!(end(s), Ok(s.len()));
        let s = r#"@($"{new { a = 1 }.a}")"#;
        assert_eq!(end(s), Ok(s.len()));
    }

    #[test]
    fn reports_problems() {
        assert_eq!(
            end("@(a + b"),
            Err(ScanError {
                kind: ScanErrorKind::Unterminated,
                at: 7
            })
        );
        assert_eq!(
            end("@(\"abc)"),
            Err(ScanError {
                kind: ScanErrorKind::UnterminatedLiteral(LiteralKind::String),
                at: 2
            })
        );
        assert_eq!(
            end("@(a]"),
            Err(ScanError {
                kind: ScanErrorKind::Mismatched {
                    expected: ')',
                    found: ']',
                    open_at: 1
                },
                at: 3
            })
        );
    }

    #[test]
    fn measures_nesting() {
        let e = expression_extent("@(((a)))", 0).unwrap_or_default();
        assert_eq!(e.max_depth, 3);
        let e = expression_extent("@(a < b < c < d)", 0).unwrap_or_default();
        assert_eq!(e.max_angle_run, 3);
        let e = expression_extent("@(a < b && c < d)", 0).unwrap_or_default();
        assert_eq!(e.max_angle_run, 1);
        let e = expression_extent("@{ if (a) if (b) x = 1; if (c) y = 2; return x; }", 0)
            .unwrap_or_default();
        assert_eq!(e.max_chain, 3);
        let e = expression_extent(
            "@{ if (a) { x = 1; } else if (b) { y = 2; } else { z = 3; } return x; }",
            0,
        )
        .unwrap_or_default();
        assert_eq!(e.max_chain, 5);
    }
}
