//! Decoding and checking C# literals.

/// A problem inside a literal: byte range within the literal text and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiteralError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub help: &'static str,
}

const ESCAPE_HELP: &str = "C# knows `\\'`, `\\\"`, `\\\\`, `\\0`, `\\a`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t`, `\\v`, `\\uXXXX`, `\\UXXXXXXXX` and `\\xH`; for a backslash write `\\\\` or use a verbatim string `@\"...\"`";

/// Decodes the escapes of a regular string or char literal body; `base` is the body's offset
/// in the literal (for error positions). Returns UTF-16 code units.
pub(crate) fn decode_escapes(body: &str, base: usize) -> Result<Vec<u16>, LiteralError> {
    decode(body, base, true)
}

/// [`decode_escapes`] for a character literal: a doubled quote stays two quotes there.
pub(crate) fn decode_char_escapes(body: &str, base: usize) -> Result<Vec<u16>, LiteralError> {
    decode(body, base, false)
}

fn decode(body: &str, base: usize, fold_quotes: bool) -> Result<Vec<u16>, LiteralError> {
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        // A doubled quote (only possible in a regular string, see the grammar) is one quote.
        if fold_quotes && c == '"' && chars.peek().is_some_and(|&(_, n)| n == '"') {
            chars.next();
            out.push(u16::from(b'"'));
            continue;
        }
        if c != '\\' {
            let mut buf = [0u16; 2];
            out.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err(LiteralError {
                start: base + i,
                end: base + i + 1,
                message: "escape sequence is cut short".into(),
                help: ESCAPE_HELP,
            });
        };
        let simple = match e {
            '\'' => Some('\''),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '0' => Some('\0'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s as u16);
            continue;
        }
        let (min, max) = match e {
            'u' => (4, 4),
            'U' => (8, 8),
            'x' => (1, 4),
            _ => {
                return Err(LiteralError {
                    start: base + i,
                    end: base + i + 1 + e.len_utf8(),
                    message: format!("unknown escape sequence `\\{e}`"),
                    help: ESCAPE_HELP,
                });
            }
        };
        let mut digits = String::new();
        while digits.len() < max {
            match chars.peek() {
                Some(&(_, d)) if d.is_ascii_hexdigit() => {
                    digits.push(d);
                    chars.next();
                }
                _ => break,
            }
        }
        let end = base + i + 2 + digits.len();
        if digits.len() < min {
            return Err(LiteralError {
                start: base + i,
                end,
                message: format!("escape `\\{e}` needs {min} hexadecimal digits"),
                help: ESCAPE_HELP,
            });
        }
        let value = u32::from_str_radix(&digits, 16).unwrap_or(u32::MAX);
        if e == 'U' {
            match char::from_u32(value) {
                Some(ch) => {
                    let mut buf = [0u16; 2];
                    out.extend_from_slice(ch.encode_utf16(&mut buf));
                }
                None => {
                    return Err(LiteralError {
                        start: base + i,
                        end,
                        message: format!("`\\U{digits}` is not a Unicode character"),
                        help: ESCAPE_HELP,
                    });
                }
            }
        } else {
            out.push(u16::try_from(value).unwrap_or(u16::MAX));
        }
    }
    Ok(out)
}

/// UTF-16 to a Rust string; an unpaired surrogate becomes U+FFFD.
pub(crate) fn utf16_to_string(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

const SEPARATOR_HELP: &str =
    "digits may be separated by `_`, but not next to `.`, `e`, a prefix or the end";

/// Checks an integer literal (`42`, `0xFF`, `0b1010`, `1_000UL`): it must fit in 64 bits.
/// The error is a message and a help line.
pub(crate) fn check_integer(raw: &str) -> Result<(), (String, &'static str)> {
    let lower = raw.to_ascii_lowercase();
    let body = lower.trim_end_matches(['u', 'l']);
    let (digits, radix) = if let Some(h) = body.strip_prefix("0x") {
        (h, 16)
    } else if let Some(b) = body.strip_prefix("0b") {
        (b, 2)
    } else {
        (body, 10)
    };
    if body.ends_with('_') {
        return Err((
            format!("integer literal `{raw}` ends with `_`"),
            SEPARATOR_HELP,
        ));
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return Err((
            format!("integer literal `{raw}` has no digits"),
            "write digits after `0x` or `0b`",
        ));
    }
    u64::from_str_radix(&digits, radix).map(|_| ()).map_err(|_| {
        (
            format!("integer literal `{raw}` is too large for any integer type"),
            "the largest integer literal is `18446744073709551615` (`ulong.MaxValue`); use a `double` (`1e20`) or a `decimal` (`1m`) for larger numbers",
        )
    })
}

/// Checks a real literal (`1.5`, `2e10`, `3m`): its digits must be well formed and the value
/// must fit its type.
pub(crate) fn check_real(raw: &str) -> Result<(), (String, &'static str)> {
    if raw.contains("_.")
        || raw.contains("._")
        || raw
            .trim_end_matches(['f', 'F', 'd', 'D', 'm', 'M'])
            .ends_with('_')
        || raw.contains("_e")
        || raw.contains("_E")
    {
        return Err((
            format!("real literal `{raw}` has a misplaced `_`"),
            SEPARATOR_HELP,
        ));
    }
    let body: String = raw
        .trim_end_matches(['f', 'F', 'd', 'D', 'm', 'M'])
        .chars()
        .filter(|&c| c != '_')
        .collect();
    let value: f64 = body
        .parse()
        .map_err(|_| (format!("real literal `{raw}` is malformed"), SEPARATOR_HELP))?;
    let suffix = raw.chars().last().unwrap_or('0').to_ascii_lowercase();
    let (too_big, help) = match suffix {
        'f' => (
            value.abs() > f64::from(f32::MAX),
            "a `float` (suffix `f`) reaches about `3.4e38`",
        ),
        'm' => (
            value.abs() > 7.922_816_251_426_434e28,
            "a `decimal` (suffix `m`) reaches about `7.9e28`",
        ),
        _ => (value.is_infinite(), "a `double` reaches about `1.8e308`"),
    };
    if too_big {
        return Err((
            format!("real literal `{raw}` is out of range for its type"),
            help,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(body: &str) -> Result<String, LiteralError> {
        decode_escapes(body, 0).map(|u| utf16_to_string(&u))
    }

    #[test]
    fn escapes() {
        assert_eq!(
            s(r#"a\"b\\c\n\t\u0041\x42\U0001F600"#).as_deref(),
            Ok("a\"b\\c\n\tAB😀")
        );
        assert_eq!(s(r"\x41BC").as_deref(), Ok("\u{41BC}"));
        assert!(s(r"\q").is_err());
        assert!(s(r"\u12").is_err());
        assert_eq!(s(r"\uD83D\uDE00").as_deref(), Ok("😀"));
        assert_eq!(s(r#"\"""#).as_deref(), Ok("\"\""));
    }

    #[test]
    fn integers() {
        assert!(check_integer("42").is_ok());
        assert!(check_integer("0xFFFF_FFFF_FFFF_FFFFUL").is_ok());
        assert!(check_integer("18446744073709551616").is_err());
        assert!(check_integer("0x").is_err());
        assert!(check_integer("1_").is_err());
    }

    #[test]
    fn reals() {
        assert!(check_real("1.5").is_ok());
        assert!(check_real("1e400").is_err());
        assert!(check_real("1e39f").is_err());
        assert!(check_real("1_000.5m").is_ok());
        assert!(check_real("1_.5").is_err());
        assert!(check_real("1_f").is_err());
        assert!(check_real("79228162514264337593543950335m").is_ok());
    }
}
