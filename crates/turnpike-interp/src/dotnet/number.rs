//! .NET 8 numeric formatting and parsing under the invariant culture.
//!
//! Policy expressions in Azure API Management run on .NET, so `ToString`,
//! `string.Format`, interpolation and the `Parse` family must produce exactly
//! the text the real runtime produces. This module reproduces those rules in
//! plain `std` Rust for `Int32`-style integers (any width up to 128 bits),
//! `Double`, `Single` and `Decimal`.
//!
//! # Invariant culture
//!
//! * decimal separator `.`, group separator `,` in groups of three, negative
//!   sign `-`, positive sign `+`;
//! * `NaN`, `Infinity` and `-Infinity` for the special floating-point values
//!   (they are printed whatever the format string is);
//! * currency symbol `¤`, two currency decimals, positive pattern `¤n`,
//!   negative pattern `(¤n)`;
//! * percent: value times 100 followed by a space and `%` (`"12.50 %"`,
//!   negative `"-12.50 %"`), two decimals by default;
//! * `N` puts the sign first (`-1,234.00`), two decimals by default.
//!
//! # Floating point
//!
//! Since .NET Core 3.0 doubles are formatted exactly:
//!
//! * `ToString()`, `"G"`, `"G0"` and `"R"` give the shortest digits that
//!   round-trip. Scientific notation is used when the decimal exponent is at
//!   least 17 for `Double` (9 for `Single`) or below -5, with a signed exponent
//!   of at least two digits (`1E+17`, `1E-05`). Negative zero prints as `-0`.
//! * With an explicit precision (`"G5"`, `"F2"`, `"E3"`, `"N0"`, `"P1"`, ...)
//!   the exact binary value is expanded to decimal and rounded half to even on
//!   that exact expansion, so `2.5.ToString("F0")` is `"2"`, `0.125` with `"F2"`
//!   is `"0.12"` but `1.005` with `"F2"` is `"1.00"` (it is really 1.00499...).
//! * Custom formats (`"0.00"`, `"#,##0"`) first take 15 significant digits
//!   (7 for `Single`), then round half away from zero at the position the
//!   pattern asks for, so `2.5.ToString("0")` is `"3"`.
//!
//! Integers and decimals round half away from zero in every format.
//! `Decimal` keeps its scale with the default format (`1.50m` prints `1.50`).
//!
//! # Parsing
//!
//! * integers (`NumberStyles.Integer`): surrounding white space
//!   (space, tab, LF, VT, FF, CR), one leading sign, ASCII digits only; any
//!   other character is a format error, a value out of range an overflow;
//! * `double.Parse` (`Float | AllowThousands`): adds a decimal point, an
//!   exponent and `,` group separators in the integer part; `NaN`,
//!   `Infinity`, `-Infinity` (any case, optionally signed); too large values
//!   become infinities;
//! * `decimal.Parse` (`Number`): decimal point, group separators and a
//!   leading or trailing sign but no exponent; the scale of the text is kept,
//!   more than 28 fraction digits or more than 96 bits of mantissa round half
//!   to even, larger values overflow.
//!
//! Trailing NUL characters are ignored by every parser, as in .NET.

use std::cmp::{max, min};

/// Errors of formatting and parsing, mirroring `FormatException` and
/// `OverflowException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumError {
    Format(String),
    Overflow(String),
}

const BAD_SPECIFIER: &str = "Format specifier was invalid.";
const BAD_COMPOSITE: &str = "Input string was not in a correct format.";
const BAD_INDEX: &str = "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.";
const CURRENCY_SYMBOL: char = '¤';
const PER_MILLE: char = '\u{2030}';
/// Significant digits a custom format sees for `Double` and `Single`.
const DOUBLE_CUSTOM_DIGITS: i64 = 15;
const SINGLE_CUSTOM_DIGITS: i64 = 7;
/// Digits below which the shortest round-trip string stays positional.
const DOUBLE_ROUND_TRIP_DIGITS: i64 = 17;
const SINGLE_ROUND_TRIP_DIGITS: i64 = 9;
/// Limit of a composite format item's index and alignment digits.
const HOLE_LIMIT: usize = 1_000_000;

fn bad_specifier() -> NumError {
    NumError::Format(BAD_SPECIFIER.to_string())
}

fn bad_composite() -> NumError {
    NumError::Format(BAD_COMPOSITE.to_string())
}

fn bad_input(s: &str) -> NumError {
    NumError::Format(format!(
        "The input string '{s}' was not in a correct format."
    ))
}

// ---------------------------------------------------------------------------
// The number buffer: digits, decimal point position and sign.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Decimal,
    Float,
}

/// A number as a string of significant digits: value = 0.d1d2d3... × 10^scale.
/// No leading zeros; trailing zeros may be present (decimals keep them).
#[derive(Debug, Clone)]
struct Number {
    digits: Vec<u8>,
    scale: i64,
    negative: bool,
    kind: Kind,
}

impl Number {
    fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The digit at `*idx` (advancing it), or `'0'` once the digits run out.
    fn next_digit(&self, idx: &mut usize) -> char {
        match self.digits.get(*idx) {
            Some(&d) => {
                *idx += 1;
                char::from(d)
            }
            None => '0',
        }
    }

    fn trim_zeros(&mut self) {
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.scale = 0;
        }
    }

    /// Adds one unit in the last kept place.
    fn increment(&mut self) {
        while self.digits.last() == Some(&b'9') {
            self.digits.pop();
        }
        match self.digits.last_mut() {
            Some(d) => *d += 1,
            None => {
                self.digits.push(b'1');
                self.scale += 1;
            }
        }
    }
}

fn magnitude_digits(m: u128) -> Vec<u8> {
    if m == 0 {
        Vec::new()
    } else {
        m.to_string().into_bytes()
    }
}

fn int_number(v: i128) -> Number {
    let digits = magnitude_digits(v.unsigned_abs());
    Number {
        scale: digits.len() as i64,
        digits,
        negative: v < 0,
        kind: Kind::Integer,
    }
}

fn decimal_number(mantissa: i128, scale: u32) -> Number {
    let digits = magnitude_digits(mantissa.unsigned_abs());
    Number {
        scale: digits.len() as i64 - i64::from(scale),
        digits,
        negative: mantissa < 0,
        kind: Kind::Decimal,
    }
}

/// .NET's `RoundNumber`: keep `pos` digits, rounding half away from zero on
/// the digit string, then drop trailing zeros. Integers and decimals lose
/// their sign when the result is zero; doubles keep it.
fn round_number(n: &mut Number, pos: i64) {
    let len = n.digits.len() as i64;
    if pos >= 0 && pos < len && n.digits[pos as usize] >= b'5' {
        n.digits.truncate(pos as usize);
        n.increment();
    } else if pos < len {
        n.digits.truncate(max(pos, 0) as usize);
    }
    n.trim_zeros();
    if n.is_zero() && n.kind != Kind::Float {
        n.negative = false;
    }
}

/// Correct rounding of an exact expansion to `keep` digits, ties to even.
fn round_half_even(n: &mut Number, keep: i64) {
    let len = n.digits.len() as i64;
    if keep >= len {
        return;
    }
    if keep < 0 {
        n.digits.clear();
        n.scale = 0;
        return;
    }
    let k = keep as usize;
    let first = n.digits[k];
    let tail_nonzero = n.digits[k + 1..].iter().any(|&d| d != b'0');
    let previous_odd = k > 0 && (n.digits[k - 1] - b'0') % 2 == 1;
    let up = first > b'5' || (first == b'5' && (tail_nonzero || previous_odd));
    n.digits.truncate(k);
    if up {
        n.increment();
    }
    n.trim_zeros();
}

// ---------------------------------------------------------------------------
// Exact decimal expansion of a binary64 value (little-endian u32 limbs).
// ---------------------------------------------------------------------------

fn big_mul_small(a: &mut Vec<u32>, m: u32) {
    let mut carry = 0u64;
    for limb in a.iter_mut() {
        let p = u64::from(*limb) * u64::from(m) + carry;
        *limb = p as u32;
        carry = p >> 32;
    }
    if carry != 0 {
        a.push(carry as u32);
    }
}

fn big_shl(a: &mut Vec<u32>, bits: u32) {
    let shift = bits % 32;
    if shift != 0 {
        let mut carry = 0u32;
        for limb in a.iter_mut() {
            let v = *limb;
            *limb = (v << shift) | carry;
            carry = v >> (32 - shift);
        }
        if carry != 0 {
            a.push(carry);
        }
    }
    let words = (bits / 32) as usize;
    a.splice(0..0, std::iter::repeat_n(0u32, words));
}

fn big_to_decimal(mut a: Vec<u32>) -> Vec<u8> {
    const CHUNK: u64 = 1_000_000_000;
    let mut chunks = Vec::new();
    while a.last() == Some(&0) {
        a.pop();
    }
    while !a.is_empty() {
        let mut rem = 0u64;
        for limb in a.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / CHUNK) as u32;
            rem = cur % CHUNK;
        }
        chunks.push(rem);
        while a.last() == Some(&0) {
            a.pop();
        }
    }
    let mut text = String::new();
    for (i, c) in chunks.iter().rev().enumerate() {
        if i == 0 {
            text.push_str(&c.to_string());
        } else {
            text.push_str(&format!("{c:09}"));
        }
    }
    text.into_bytes()
}

/// The exact decimal digits (trailing zeros removed) and scale of a finite
/// value's magnitude; empty digits for zero.
fn exact_digits(v: f64) -> (Vec<u8>, i64) {
    let bits = v.abs().to_bits();
    let exp_field = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut mant, mut exp2) = if exp_field == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exp_field - 1075)
    };
    if mant == 0 {
        return (Vec::new(), 0);
    }
    let tz = mant.trailing_zeros();
    mant >>= tz;
    exp2 += i64::from(tz);
    let mut big = vec![mant as u32, (mant >> 32) as u32];
    let mut fraction_digits = 0;
    if exp2 >= 0 {
        big_shl(&mut big, exp2 as u32);
    } else {
        // m / 2^k = m * 5^k / 10^k
        let mut k = -exp2;
        fraction_digits = k;
        while k >= 13 {
            big_mul_small(&mut big, 1_220_703_125);
            k -= 13;
        }
        big_mul_small(&mut big, 5u32.pow(k as u32));
    }
    let mut n = Number {
        digits: big_to_decimal(big),
        scale: 0,
        negative: false,
        kind: Kind::Float,
    };
    n.scale = n.digits.len() as i64 - fraction_digits;
    n.trim_zeros();
    (n.digits, n.scale)
}

fn float_exact(v: f64) -> Number {
    let (digits, scale) = exact_digits(v);
    Number {
        digits,
        scale,
        negative: v.is_sign_negative(),
        kind: Kind::Float,
    }
}

/// Builds the number from Rust's shortest round-trip `{:e}` rendering
/// (`"1.2345e-5"`) of the magnitude.
fn shortest_number(sci: &str, negative: bool) -> Number {
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut n = Number {
        digits,
        scale: exponent + 1,
        negative,
        kind: Kind::Float,
    };
    while n.digits.first() == Some(&b'0') {
        n.digits.remove(0);
    }
    n.trim_zeros();
    n
}

// ---------------------------------------------------------------------------
// Format specifiers.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// A letter with its precision (-1 when absent).
    Standard(char, i64),
    Custom,
}

/// .NET's `ParseFormatSpecifier`: a letter followed only by up to nine
/// digits is standard; "" is "G"; anything else is a custom pattern.
fn parse_specifier(fmt: &[char]) -> Result<Spec, NumError> {
    let first = fmt.first().copied().unwrap_or('\0');
    if first.is_ascii_alphabetic() {
        if fmt.len() == 1 {
            return Ok(Spec::Standard(first, -1));
        }
        let mut precision: i64 = 0;
        let mut i = 1;
        while let Some(d) = fmt.get(i).and_then(|c| c.to_digit(10)) {
            if precision >= 100_000_000 {
                return Err(bad_specifier());
            }
            precision = precision * 10 + i64::from(d);
            i += 1;
        }
        if i >= fmt.len() || fmt[i] == '\0' {
            return Ok(Spec::Standard(first, precision));
        }
    }
    if first == '\0' {
        Ok(Spec::Standard('G', -1))
    } else {
        Ok(Spec::Custom)
    }
}

/// A custom pattern ends at its first NUL character.
fn until_nul(fmt: &[char]) -> &[char] {
    let end = fmt.iter().position(|&c| c == '\0').unwrap_or(fmt.len());
    &fmt[..end]
}

// ---------------------------------------------------------------------------
// Standard formats.
// ---------------------------------------------------------------------------

fn push_exponent(out: &mut String, value: i64, exp_char: char, min_digits: usize, plus: bool) {
    out.push(exp_char);
    if value < 0 {
        out.push('-');
    } else if plus {
        out.push('+');
    }
    out.push_str(&format!("{:0min_digits$}", value.unsigned_abs()));
}

fn group_thousands(int_part: &str) -> String {
    let len = int_part.len();
    let mut out = String::with_capacity(len + len / 3);
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Integer part (optionally grouped), then exactly `decimals` fraction digits.
fn format_fixed(n: &Number, decimals: i64, grouped: bool) -> String {
    let mut out = String::new();
    let mut idx = 0;
    if n.scale > 0 {
        let int_part: String = (0..n.scale).map(|_| n.next_digit(&mut idx)).collect();
        out.push_str(&if grouped {
            group_thousands(&int_part)
        } else {
            int_part
        });
    } else {
        out.push('0');
    }
    if decimals > 0 {
        out.push('.');
        let mut remaining = decimals;
        if n.scale < 0 {
            let zeros = min(-n.scale, remaining);
            out.extend((0..zeros).map(|_| '0'));
            remaining -= zeros;
        }
        out.extend((0..remaining).map(|_| n.next_digit(&mut idx)));
    }
    out
}

/// `d.ddd…E+xxx` with `digits` digits in all and a three-digit exponent.
fn format_scientific(n: &Number, digits: i64, exp_char: char) -> String {
    let mut out = String::new();
    let mut idx = 0;
    out.push(n.next_digit(&mut idx));
    if digits != 1 {
        out.push('.');
    }
    out.extend((1..digits).map(|_| n.next_digit(&mut idx)));
    let exponent = if n.is_zero() { 0 } else { n.scale - 1 };
    push_exponent(&mut out, exponent, exp_char, 3, true);
    out
}

/// The "G" layout: positional unless the exponent is too large or small.
fn format_general(n: &Number, max_digits: i64, exp_char: char, no_scientific: bool) -> String {
    let mut out = String::new();
    let mut dig_pos = n.scale;
    let scientific = !no_scientific && (dig_pos > max_digits || dig_pos < -3);
    if scientific {
        dig_pos = 1;
    }
    let mut idx = 0;
    if dig_pos > 0 {
        while dig_pos > 0 {
            out.push(n.next_digit(&mut idx));
            dig_pos -= 1;
        }
    } else {
        out.push('0');
    }
    if idx < n.digits.len() || dig_pos < 0 {
        out.push('.');
        out.extend((dig_pos..0).map(|_| '0'));
        out.extend(n.digits[idx..].iter().map(|&d| char::from(d)));
    }
    if scientific {
        push_exponent(&mut out, n.scale - 1, exp_char, 2, true);
    }
    out
}

/// .NET's `NumberToString` for the letters every numeric type shares.
fn number_to_string(mut n: Number, fmt: char, precision: i64) -> Result<String, NumError> {
    let or_default = |default: i64| if precision < 0 { default } else { precision };
    let sign = |n: &Number| if n.negative { "-" } else { "" };
    let text = match fmt {
        'C' | 'c' => {
            let decimals = or_default(2);
            let pos = n.scale + decimals;
            round_number(&mut n, pos);
            let body = format_fixed(&n, decimals, true);
            if n.negative {
                format!("({CURRENCY_SYMBOL}{body})")
            } else {
                format!("{CURRENCY_SYMBOL}{body}")
            }
        }
        'F' | 'f' | 'N' | 'n' => {
            let decimals = or_default(2);
            let pos = n.scale + decimals;
            round_number(&mut n, pos);
            format!(
                "{}{}",
                sign(&n),
                format_fixed(&n, decimals, matches!(fmt, 'N' | 'n'))
            )
        }
        'E' | 'e' => {
            let digits = or_default(6) + 1;
            round_number(&mut n, digits);
            format!("{}{}", sign(&n), format_scientific(&n, digits, fmt))
        }
        'G' | 'g' => {
            let exp_char = if fmt == 'g' { 'e' } else { 'E' };
            // Decimal's plain "G" prints every digit, trailing zeros included.
            let keep_all = n.kind == Kind::Decimal && precision == -1;
            let max_digits = if precision < 1 {
                n.digits.len() as i64
            } else {
                precision
            };
            if !keep_all {
                round_number(&mut n, max_digits);
            }
            // A decimal zero printed with every digit never shows a sign.
            let sign = if n.negative && !(keep_all && n.is_zero()) {
                "-"
            } else {
                ""
            };
            format!(
                "{sign}{}",
                format_general(&n, max_digits, exp_char, keep_all)
            )
        }
        'P' | 'p' => {
            let decimals = or_default(2);
            n.scale += 2;
            let pos = n.scale + decimals;
            round_number(&mut n, pos);
            format!("{}{} %", sign(&n), format_fixed(&n, decimals, true))
        }
        _ => return Err(bad_specifier()),
    };
    Ok(text)
}

// ---------------------------------------------------------------------------
// Custom formats ("0.00", "#,##0;(#,##0);zero", "0.0e+00", ...).
// ---------------------------------------------------------------------------

/// Start of section 0 (positive), 1 (negative) or 2 (zero); 0 when the
/// requested section is missing or empty.
fn find_section(fmt: &[char], section: usize) -> usize {
    if section == 0 {
        return 0;
    }
    let mut remaining = section;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        match c {
            '\'' | '"' => i = skip_quoted(fmt, i, c),
            '\\' => i = min(i + 1, fmt.len()),
            ';' => {
                remaining -= 1;
                if remaining == 0 {
                    return if i < fmt.len() && fmt[i] != ';' { i } else { 0 };
                }
            }
            _ => {}
        }
    }
    0
}

/// Index just past the closing `quote` (or the end of the pattern).
fn skip_quoted(fmt: &[char], mut i: usize, quote: char) -> usize {
    while i < fmt.len() {
        i += 1;
        if fmt[i - 1] == quote {
            break;
        }
    }
    i
}

/// True when an `E`/`e` at `i - 1` starts an exponent (`E0`, `E+0`, `E-0`).
fn starts_exponent(fmt: &[char], i: usize) -> bool {
    match fmt.get(i) {
        Some('0') => true,
        Some('+' | '-') => fmt.get(i + 1) == Some(&'0'),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy)]
struct Section {
    digit_count: i64,
    decimal_pos: i64,
    first_zero: i64,
    last_zero: i64,
    scientific: bool,
    grouping: bool,
    scale_adjust: i64,
}

/// First pass over one section: placeholders, point, grouping, scaling.
fn scan_section(fmt: &[char], start: usize) -> Section {
    let mut s = Section {
        digit_count: 0,
        decimal_pos: -1,
        first_zero: i64::MAX,
        last_zero: 0,
        scientific: false,
        grouping: false,
        scale_adjust: 0,
    };
    let (mut thousand_pos, mut thousand_count) = (-1i64, 0i64);
    let mut i = start;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        match c {
            ';' => break,
            '#' => s.digit_count += 1,
            '0' => {
                s.first_zero = min(s.first_zero, s.digit_count);
                s.digit_count += 1;
                s.last_zero = s.digit_count;
            }
            '.' if s.decimal_pos < 0 => s.decimal_pos = s.digit_count,
            ',' if s.digit_count > 0 && s.decimal_pos < 0 => {
                if thousand_pos == s.digit_count {
                    thousand_count += 1;
                } else {
                    s.grouping |= thousand_pos >= 0;
                    thousand_pos = s.digit_count;
                    thousand_count = 1;
                }
            }
            '%' => s.scale_adjust += 2,
            PER_MILLE => s.scale_adjust += 3,
            '\'' | '"' => i = skip_quoted(fmt, i, c),
            '\\' => i = min(i + 1, fmt.len()),
            'E' | 'e' if starts_exponent(fmt, i) => {
                i += 1;
                while fmt.get(i) == Some(&'0') {
                    i += 1;
                }
                s.scientific = true;
            }
            _ => {}
        }
    }
    if s.decimal_pos < 0 {
        s.decimal_pos = s.digit_count;
    }
    if thousand_pos >= 0 {
        if thousand_pos == s.decimal_pos {
            // Commas right before the point divide by 1000 each.
            s.scale_adjust -= thousand_count * 3;
        } else {
            s.grouping = true;
        }
    }
    s
}

/// .NET's `NumberToStringFormat`.
fn custom_format(mut n: Number, fmt: &[char]) -> String {
    let fmt = until_nul(fmt);
    let wanted = if n.is_zero() {
        2
    } else if n.negative {
        1
    } else {
        0
    };
    let mut section = find_section(fmt, wanted);
    let info = loop {
        let info = scan_section(fmt, section);
        if n.is_zero() {
            if n.kind != Kind::Float {
                n.negative = false;
            }
            n.scale = 0;
        } else {
            n.scale += info.scale_adjust;
            let pos = if info.scientific {
                info.digit_count
            } else {
                n.scale + info.digit_count - info.decimal_pos
            };
            round_number(&mut n, pos);
            if n.is_zero() {
                let zero_section = find_section(fmt, 2);
                if zero_section != section {
                    section = zero_section;
                    continue;
                }
            }
        }
        break info;
    };
    let mut out = String::new();
    if n.negative && section == 0 && n.scale != 0 {
        out.push('-');
    }
    emit_section(&n, fmt, section, &info, &mut out);
    if n.negative && section == 0 && n.scale == 0 && !out.is_empty() {
        out.insert(0, '-');
    }
    out
}

/// Second pass: writes the digits and literals of one section.
fn emit_section(n: &Number, fmt: &[char], start: usize, info: &Section, out: &mut String) {
    // Integer positions that must show a zero, and (negated) fraction
    // positions that must show a zero.
    let first_digit = if info.first_zero < info.decimal_pos {
        info.decimal_pos - info.first_zero
    } else {
        0
    };
    let last_digit = if info.last_zero > info.decimal_pos {
        info.decimal_pos - info.last_zero
    } else {
        0
    };
    let (mut dig_pos, mut adjust) = if info.scientific {
        (info.decimal_pos, 0)
    } else {
        (max(n.scale, info.decimal_pos), n.scale - info.decimal_pos)
    };
    let mut scientific = info.scientific;
    let mut decimal_written = false;
    let mut idx = 0;
    let separator = |out: &mut String, dig_pos: i64| {
        if info.grouping && dig_pos > 1 && (dig_pos - 1) % 3 == 0 {
            out.push(',');
        }
    };
    let mut i = start;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c == ';' {
            break;
        }
        if adjust > 0 && matches!(c, '#' | '0' | '.') {
            // More integer digits than placeholders: all go before the first one.
            while adjust > 0 {
                out.push(n.next_digit(&mut idx));
                separator(out, dig_pos);
                dig_pos -= 1;
                adjust -= 1;
            }
        }
        match c {
            '#' | '0' => {
                let digit = if adjust < 0 {
                    adjust += 1;
                    (dig_pos <= first_digit).then_some('0')
                } else if idx < n.digits.len() {
                    Some(n.next_digit(&mut idx))
                } else {
                    (dig_pos > last_digit).then_some('0')
                };
                if let Some(d) = digit {
                    out.push(d);
                    separator(out, dig_pos);
                }
                dig_pos -= 1;
            }
            '.' => {
                let wanted =
                    last_digit < 0 || (info.decimal_pos < info.digit_count && idx < n.digits.len());
                if dig_pos == 0 && !decimal_written && wanted {
                    out.push('.');
                    decimal_written = true;
                }
            }
            ',' => {}
            '\'' | '"' => {
                let end = skip_quoted(fmt, i, c);
                out.extend(fmt[i..end].iter().filter(|&&q| q != c));
                i = end;
            }
            '\\' => {
                if let Some(&escaped) = fmt.get(i) {
                    out.push(escaped);
                    i += 1;
                }
            }
            'E' | 'e' if scientific && starts_exponent(fmt, i) => {
                let plus = fmt[i] == '+';
                let mut zeros = usize::from(fmt[i] == '0');
                i += 1;
                while fmt.get(i) == Some(&'0') {
                    zeros += 1;
                    i += 1;
                }
                let exponent = if n.is_zero() {
                    0
                } else {
                    n.scale - info.decimal_pos
                };
                push_exponent(out, exponent, c, min(zeros, 10), plus);
                scientific = false;
            }
            'E' | 'e' if !scientific => {
                out.push(c);
                if let Some(&s @ ('+' | '-')) = fmt.get(i) {
                    out.push(s);
                    i += 1;
                }
                while fmt.get(i) == Some(&'0') {
                    out.push('0');
                    i += 1;
                }
            }
            other => out.push(other),
        }
    }
}

// ---------------------------------------------------------------------------
// Public formatting entry points.
// ---------------------------------------------------------------------------

/// `double.ToString(format)` under the invariant culture.
pub fn format_double(v: f64, format: &str) -> Result<String, NumError> {
    // Shortest round-trip digits in positional form (the decimal exponent between -5 and
    // 15, exclusive) are exactly what Rust's `Display` prints; a test holds the two paths
    // equal.
    if matches!(format, "" | "R" | "r" | "G" | "g") && (1e-4..1e15).contains(&v.abs()) {
        return Ok(v.to_string());
    }
    format_binary_float(v, false, &|| format!("{:e}", v.abs()), format)
}

/// `float.ToString(format)` under the invariant culture (shortest digits of
/// the `Single`, 9-digit positional limit, 7 digits for custom patterns).
pub fn format_float(v: f32, format: &str) -> Result<String, NumError> {
    format_binary_float(f64::from(v), true, &|| format!("{:e}", v.abs()), format)
}

fn format_binary_float(
    value: f64,
    single: bool,
    shortest: &dyn Fn() -> String,
    format: &str,
) -> Result<String, NumError> {
    if value.is_nan() {
        return Ok("NaN".to_string());
    }
    if value.is_infinite() {
        return Ok(if value < 0.0 { "-Infinity" } else { "Infinity" }.to_string());
    }
    let fmt: Vec<char> = format.chars().collect();
    let (c, precision) = match parse_specifier(&fmt)? {
        Spec::Custom => {
            let mut n = float_exact(value);
            round_half_even(
                &mut n,
                if single {
                    SINGLE_CUSTOM_DIGITS
                } else {
                    DOUBLE_CUSTOM_DIGITS
                },
            );
            return Ok(custom_format(n, &fmt));
        }
        Spec::Standard(c, precision) => (c, precision),
    };
    let upper = c.to_ascii_uppercase();
    if upper == 'R' || (upper == 'G' && precision <= 0) {
        let n = shortest_number(&shortest(), value.is_sign_negative());
        let limit = if single {
            SINGLE_ROUND_TRIP_DIGITS
        } else {
            DOUBLE_ROUND_TRIP_DIGITS
        };
        let max_digits = max(n.digits.len() as i64, limit);
        let general = if c.is_ascii_lowercase() { 'g' } else { 'G' };
        return number_to_string(n, general, max_digits);
    }
    let mut n = float_exact(value);
    let or_default = |default: i64| if precision < 0 { default } else { precision };
    let keep = match upper {
        'G' => precision,
        'E' => or_default(6) + 1,
        'F' | 'N' | 'C' => n.scale + or_default(2),
        'P' => n.scale + or_default(2) + 2,
        _ => return Err(bad_specifier()),
    };
    round_half_even(&mut n, keep);
    number_to_string(n, c, precision)
}

/// Integer `ToString(format)`; `bits` is the width of the .NET type (8, 16,
/// 32, 64 or 128), used by `X` and `B` for negative values.
pub fn format_int(v: i128, bits: u32, format: &str) -> Result<String, NumError> {
    let fmt: Vec<char> = format.chars().collect();
    let (c, precision) = match parse_specifier(&fmt)? {
        Spec::Custom => return Ok(custom_format(int_number(v), &fmt)),
        Spec::Standard(c, precision) => (c, precision),
    };
    let width = usize::try_from(precision).unwrap_or(0);
    let mask = if bits == 0 || bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let bits_of = (v as u128) & mask;
    match c.to_ascii_uppercase() {
        'G' if precision < 1 => Ok(v.to_string()),
        'D' => {
            let sign = if v < 0 { "-" } else { "" };
            Ok(format!("{sign}{:0width$}", v.unsigned_abs()))
        }
        'X' if c == 'x' => Ok(format!("{bits_of:0width$x}")),
        'X' => Ok(format!("{bits_of:0width$X}")),
        'B' => Ok(format!("{bits_of:0width$b}")),
        _ => number_to_string(int_number(v), c, precision),
    }
}

/// `decimal.ToString(format)`; the value is `mantissa / 10^scale`.
pub fn format_decimal(mantissa: i128, scale: u32, format: &str) -> Result<String, NumError> {
    let fmt: Vec<char> = format.chars().collect();
    let n = decimal_number(mantissa, scale);
    match parse_specifier(&fmt)? {
        Spec::Custom => Ok(custom_format(n, &fmt)),
        Spec::Standard(c, precision) => number_to_string(n, c, precision),
    }
}

// ---------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------

/// .NET's `IsWhite`: space and U+0009..U+000D.
fn is_white(c: char) -> bool {
    c == ' ' || ('\u{9}'..='\u{d}').contains(&c)
}

fn only_nuls(rest: &[char]) -> bool {
    rest.iter().all(|&c| c == '\0')
}

/// The name .NET uses for an integer type with this range.
fn int_type_name(min: i128, max: i128) -> &'static str {
    match (min, max) {
        (-128, 127) => "an SByte",
        (0, 255) => "a Byte",
        (-32768, 32767) => "an Int16",
        (0, 65535) => "a UInt16",
        (-2_147_483_648, 2_147_483_647) => "an Int32",
        (0, 4_294_967_295) => "a UInt32",
        (-9_223_372_036_854_775_808, 9_223_372_036_854_775_807) => "an Int64",
        (0, 18_446_744_073_709_551_615) => "a UInt64",
        _ => "the target type",
    }
}

/// `int.Parse(s)` and friends (`NumberStyles.Integer`) for a type whose
/// range is `min..=max`.
pub fn parse_int(s: &str, min: i128, max: i128) -> Result<i128, NumError> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() && is_white(chars[i]) {
        i += 1;
    }
    let negative = chars.get(i) == Some(&'-');
    if negative || chars.get(i) == Some(&'+') {
        i += 1;
    }
    let start = i;
    let mut magnitude: u128 = 0;
    let mut overflow = false;
    while let Some(d) = chars
        .get(i)
        .and_then(|c| c.to_digit(10).filter(|_| c.is_ascii_digit()))
    {
        match magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(u128::from(d)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    let digits_end = i;
    while i < chars.len() && is_white(chars[i]) {
        i += 1;
    }
    // Format errors win over overflow, as in .NET.
    if digits_end == start || !only_nuls(&chars[i..]) {
        return Err(bad_input(s));
    }
    let value = if overflow {
        None
    } else if negative {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).ok()
    };
    match value {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(NumError::Overflow(format!(
            "Value was either too large or too small for {}.",
            int_type_name(min, max)
        ))),
    }
}

/// Digits of a parsed number: value = 0.d1d2... × 10^scale, no leading
/// zeros, trailing zeros kept.
#[derive(Debug)]
struct Scanned {
    negative: bool,
    digits: Vec<u8>,
    scale: i64,
}

/// .NET's `TryParseNumber` for the invariant culture with leading/trailing
/// white space, leading sign, decimal point and thousands always allowed.
fn scan_number(s: &str, exponent: bool, trailing_sign: bool) -> Option<Scanned> {
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len();
    let (mut i, mut signed, mut negative) = (0, false, false);
    while i < len {
        match chars[i] {
            // No white space between a sign and the digits.
            c if is_white(c) && !signed => {}
            c @ ('+' | '-') if !signed => {
                signed = true;
                negative = c == '-';
            }
            _ => break,
        }
        i += 1;
    }
    let mut r = Scanned {
        negative: false,
        digits: Vec::new(),
        scale: 0,
    };
    let (mut saw_digit, mut in_fraction) = (false, false);
    while i < len {
        match chars[i] {
            c if c.is_ascii_digit() => {
                saw_digit = true;
                if c != '0' || !r.digits.is_empty() {
                    r.digits.push(c as u8);
                    if !in_fraction {
                        r.scale += 1;
                    }
                } else if in_fraction {
                    r.scale -= 1;
                }
            }
            '.' if !in_fraction => in_fraction = true,
            ',' if saw_digit && !in_fraction => {}
            _ => break,
        }
        i += 1;
    }
    if !saw_digit {
        return None;
    }
    if exponent && matches!(chars.get(i), Some('e' | 'E')) {
        i = scan_exponent(&chars, i, &mut r.scale);
    }
    while i < len {
        match chars[i] {
            c if is_white(c) => {}
            c @ ('+' | '-') if trailing_sign && !signed => {
                signed = true;
                negative = c == '-';
            }
            _ => break,
        }
        i += 1;
    }
    r.negative = negative;
    only_nuls(&chars[i..]).then_some(r)
}

/// Applies an exponent starting at `chars[at]` (`e`/`E`); returns the index
/// after it, or `at` when no digits follow (the `e` is then not consumed).
fn scan_exponent(chars: &[char], at: usize, scale: &mut i64) -> usize {
    let mut i = at + 1;
    let negative = chars.get(i) == Some(&'-');
    if negative || chars.get(i) == Some(&'+') {
        i += 1;
    }
    if !chars.get(i).is_some_and(char::is_ascii_digit) {
        return at;
    }
    let (mut exp, mut huge) = (0i64, false);
    while let Some(d) = chars
        .get(i)
        .and_then(|c| c.to_digit(10).filter(|_| c.is_ascii_digit()))
    {
        if exp >= 100_000_000 {
            huge = true;
        } else {
            exp = exp * 10 + i64::from(d);
        }
        i += 1;
    }
    if huge {
        *scale = 0;
        exp = i64::from(i32::MAX);
    }
    *scale += if negative { -exp } else { exp };
    i
}

/// `double.Parse(s)` (`NumberStyles.Float | AllowThousands`).
pub fn parse_double(s: &str) -> Result<f64, NumError> {
    let Some(r) = scan_number(s, true, false) else {
        return parse_special_double(s).ok_or_else(|| bad_input(s));
    };
    let magnitude = if r.digits.is_empty() {
        0.0
    } else {
        let digits = String::from_utf8_lossy(&r.digits);
        let scale = r.scale.clamp(-1_000_000, 1_000_000);
        format!("0.{digits}e{scale}")
            .parse::<f64>()
            .map_err(|_| bad_input(s))?
    };
    Ok(if r.negative { -magnitude } else { magnitude })
}

/// `NaN`, `Infinity`, `-Infinity`, `+Infinity`, `+NaN`, `-NaN`, any case.
fn parse_special_double(s: &str) -> Option<f64> {
    let t = s.trim();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if is(t, "Infinity") || t.strip_prefix('+').is_some_and(|r| is(r, "Infinity")) {
        Some(f64::INFINITY)
    } else if is(t, "-Infinity") {
        Some(f64::NEG_INFINITY)
    } else if is(t, "NaN") || t.strip_prefix(['+', '-']).is_some_and(|r| is(r, "NaN")) {
        Some(f64::NAN)
    } else {
        None
    }
}

/// `decimal.Parse(s)` (`NumberStyles.Number`): returns (mantissa, scale).
pub fn parse_decimal(s: &str) -> Result<(i128, u32), NumError> {
    let r = scan_number(s, false, true).ok_or_else(|| bad_input(s))?;
    digits_to_decimal(&r)
}

/// Fits parsed digits into 96 bits of mantissa and a scale of at most 28.
fn digits_to_decimal(r: &Scanned) -> Result<(i128, u32), NumError> {
    const MAX_MANTISSA: u128 = (1u128 << 96) - 1;
    let overflow =
        || NumError::Overflow("Value was either too large or too small for a Decimal.".to_string());
    if r.digits.is_empty() {
        return Ok((0, (-r.scale).clamp(0, 28) as u32));
    }
    if r.scale > 29 {
        return Err(overflow());
    }
    let (mut m, mut e, mut idx) = (0u128, r.scale, 0usize);
    loop {
        let digit = r.digits.get(idx).map(|&d| u128::from(d - b'0'));
        if !(e > 0 || (digit.is_some() && e > -28)) {
            break;
        }
        let next = m * 10 + digit.unwrap_or(0);
        if next > MAX_MANTISSA {
            break;
        }
        m = next;
        e -= 1;
        if digit.is_some() {
            idx += 1;
        }
    }
    // Round the digits that did not fit, ties to even.
    if let Some(&first) = r.digits.get(idx) {
        let tie_stays =
            first == b'5' && m % 2 == 0 && r.digits[idx + 1..].iter().all(|&d| d == b'0');
        if first >= b'5' && !tie_stays {
            m += 1;
            if m > MAX_MANTISSA {
                m = MAX_MANTISSA / 10 + 1;
                e += 1;
            }
        }
    }
    if e > 0 {
        return Err(overflow());
    }
    if e <= -29 {
        return Ok((0, 28));
    }
    let m = m as i128;
    Ok((if r.negative { -m } else { m }, (-e) as u32))
}

// ---------------------------------------------------------------------------
// Composite formatting and alignment.
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Hole {
    index: usize,
    width: usize,
    left: bool,
    format: Option<String>,
}

fn take(chars: &[char], i: &mut usize) -> Result<char, NumError> {
    let c = chars.get(*i).copied().ok_or_else(bad_composite)?;
    *i += 1;
    Ok(c)
}

fn ascii_digit(c: char) -> Option<usize> {
    c.is_ascii_digit().then(|| (c as usize) - ('0' as usize))
}

/// Parses `index[,alignment][:format]}` after an opening brace.
fn parse_hole(chars: &[char], i: &mut usize) -> Result<Hole, NumError> {
    let mut hole = Hole {
        index: 0,
        width: 0,
        left: false,
        format: None,
    };
    let mut ch = take(chars, i)?;
    hole.index = ascii_digit(ch).ok_or_else(bad_composite)?;
    ch = take(chars, i)?;
    if ch == '}' {
        return Ok(hole);
    }
    while let Some(d) = ascii_digit(ch).filter(|_| hole.index < HOLE_LIMIT) {
        hole.index = hole.index * 10 + d;
        ch = take(chars, i)?;
    }
    while ch == ' ' {
        ch = take(chars, i)?;
    }
    if ch == ',' {
        ch = take(chars, i)?;
        while ch == ' ' {
            ch = take(chars, i)?;
        }
        if ch == '-' {
            hole.left = true;
            ch = take(chars, i)?;
        }
        hole.width = ascii_digit(ch).ok_or_else(bad_composite)?;
        ch = take(chars, i)?;
        while let Some(d) = ascii_digit(ch).filter(|_| hole.width < HOLE_LIMIT) {
            hole.width = hole.width * 10 + d;
            ch = take(chars, i)?;
        }
        while ch == ' ' {
            ch = take(chars, i)?;
        }
    }
    if ch == '}' {
        return Ok(hole);
    }
    if ch != ':' {
        return Err(bad_composite());
    }
    let start = *i;
    loop {
        match take(chars, i)? {
            '}' => break,
            '{' => return Err(bad_composite()),
            _ => {}
        }
    }
    let text: String = chars[start..*i - 1].iter().collect();
    hole.format = (!text.is_empty()).then_some(text);
    Ok(hole)
}

/// Pads to `width` UTF-16 code units with spaces.
fn pad(text: String, width: u64, left: bool) -> String {
    let len = text.encode_utf16().count() as u64;
    if width <= len {
        return text;
    }
    let spaces = " ".repeat(usize::try_from(width - len).unwrap_or(0));
    if left { text + &spaces } else { spaces + &text }
}

/// `string.Format(format, args)`: `arg(index, format)` renders one argument.
#[allow(clippy::type_complexity)] // the signature is the interpreter's contract
pub fn composite_format(
    format: &str,
    n_args: usize,
    arg: &mut dyn FnMut(usize, Option<&str>) -> Result<String, NumError>,
) -> Result<String, NumError> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::with_capacity(format.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '}' | '{' if chars.get(i) == Some(&c) => {
                out.push(c);
                i += 1;
            }
            '}' => return Err(bad_composite()),
            '{' => {
                let hole = parse_hole(&chars, &mut i)?;
                if hole.index >= n_args {
                    return Err(NumError::Format(BAD_INDEX.to_string()));
                }
                let text = arg(hole.index, hole.format.as_deref())?;
                out.push_str(&pad(text, hole.width as u64, hole.left));
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Alignment of an interpolation hole (`{x,5}` / `{x,-5}`): pads `text` with
/// spaces to `align` UTF-16 code units, on the left for positive values and
/// on the right for negative ones.
pub fn align(text: String, align: i64) -> String {
    pad(text, align.unsigned_abs(), align < 0)
}

#[cfg(test)]
#[allow(clippy::approx_constant, clippy::type_complexity)] // 3.14159 is the conformance case's literal
mod tests {
    use super::*;

    fn ok(s: &str) -> Result<String, NumError> {
        Ok(s.to_string())
    }

    /// The positional fast path of `format_double` prints what the general path prints.
    #[test]
    fn double_fast_path_matches_the_general_path() {
        let slow = |v: f64, f: &str| format_binary_float(v, false, &|| format!("{:e}", v.abs()), f);
        let mut values = vec![
            1e-4,
            -1e-4,
            1e-4f64.next_up(),
            1e15f64.next_down(),
            -1e15f64.next_down(),
            9.99,
            0.1 + 0.2,
            123_456_789.012_345_68,
            1.0,
            100.0,
            99_999_999_999_999.9,
        ];
        // Random bit patterns and random decimals across the range, from a fixed seed.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            values.push(f64::from_bits(next()));
            let mantissa = (next() % 1_000_000_000) as f64;
            let scale = 10f64.powi((next() % 24) as i32 - 12);
            values.push(mantissa * scale);
        }
        let mut checked = 0;
        for v in values {
            if !(1e-4..1e15).contains(&v.abs()) {
                continue;
            }
            for f in ["", "R", "r", "G", "g"] {
                assert_eq!(format_double(v, f), slow(v, f), "{v:e} with {f}");
            }
            checked += 1;
        }
        assert!(checked > 15_000, "{checked}");
    }

    fn is_format<T: std::fmt::Debug>(r: Result<T, NumError>) -> bool {
        matches!(r, Err(NumError::Format(_)))
    }

    fn is_overflow<T: std::fmt::Debug>(r: Result<T, NumError>) -> bool {
        matches!(r, Err(NumError::Overflow(_)))
    }

    const I32: (i128, i128) = (i32::MIN as i128, i32::MAX as i128);

    // --- floating.test.yaml ------------------------------------------------

    #[test]
    fn double_default_to_string() {
        assert_eq!(format_double(0.1 + 0.2, ""), ok("0.30000000000000004"));
        assert_eq!(format_double(f64::INFINITY, ""), ok("Infinity"));
        assert_eq!(format_double(f64::NEG_INFINITY, ""), ok("-Infinity"));
        assert_eq!(format_double(f64::NAN, ""), ok("NaN"));
        assert_eq!(format_double(-0.0, ""), ok("-0"));
        assert_eq!(format_double(1e15, ""), ok("1000000000000000"));
        assert_eq!(format_double(1e16, ""), ok("10000000000000000"));
        assert_eq!(format_double(1e17, ""), ok("1E+17"));
        assert_eq!(
            format_double(12345678901234567.0, ""),
            ok("12345678901234568")
        );
        assert_eq!(
            format_double(123456789012345680.0, ""),
            ok("1.2345678901234568E+17")
        );
        assert_eq!(format_double(100000000000000.0, ""), ok("100000000000000"));
        assert_eq!(format_double(0.0001, ""), ok("0.0001"));
        assert_eq!(format_double(0.00001, ""), ok("1E-05"));
        assert_eq!(format_double(0.00001234, ""), ok("1.234E-05"));
        assert_eq!(format_double(2.0, ""), ok("2"));
        assert_eq!(format_double(1.0, ""), ok("1"));
        assert_eq!(format_double(1.50, ""), ok("1.5"));
        assert_eq!(format_double(1e20, ""), ok("1E+20"));
        assert_eq!(format_double(1.0 / 3.0, "R"), ok("0.3333333333333333"));
        assert_eq!(format_double(f64::MAX, ""), ok("1.7976931348623157E+308"));
        assert_eq!(format_double(-60.0, ""), ok("-60"));
    }

    #[test]
    fn float_default_to_string() {
        assert_eq!(format_float(1.0f32 / 3.0, ""), ok("0.33333334"));
        assert_eq!(format_float(0.1f32, ""), ok("0.1"));
        assert_eq!(format_float(0.1f32 + 0.2f32, ""), ok("0.3"));
    }

    // --- string-format.test.yaml: standard formats ----------------------------

    #[test]
    fn double_standard_formats() {
        assert_eq!(format_double(1234567.891, "N2"), ok("1,234,567.89"));
        assert_eq!(format_double(3.14159, "F3"), ok("3.142"));
        assert_eq!(format_double(0.1234, "P1"), ok("12.3 %"));
        assert_eq!(format_double(1234.5, "C"), ok("¤1,234.50"));
        assert_eq!(format_double(12345.678, "E2"), ok("1.23E+004"));
        assert_eq!(format_double(0.5, "P0"), ok("50 %"));
        assert_eq!(format_double(12345.6789, "G3"), ok("1.23E+04"));
        assert_eq!(format_double(1234.5, "E"), ok("1.234500E+003"));
    }

    #[test]
    fn double_standard_formats_round_half_even_on_exact_value() {
        assert_eq!(format_double(1234.5, "N0"), ok("1,234"));
        assert_eq!(format_double(1235.5, "N0"), ok("1,236"));
        assert_eq!(format_double(0.125, "F2"), ok("0.12"));
        assert_eq!(format_double(0.375, "F2"), ok("0.38"));
        assert_eq!(format_double(1.005, "F2"), ok("1.00"));
        assert_eq!(format_double(2.5, "F0"), ok("2"));
        assert_eq!(format_double(0.5, "F0"), ok("0"));
        assert_eq!(format_double(1.5, "F0"), ok("2"));
        assert_eq!(format_double(0.1, "F20"), ok("0.10000000000000000555"));
    }

    #[test]
    fn double_custom_formats() {
        assert_eq!(format_double(2.5, "0.00"), ok("2.50"));
        assert_eq!(format_double(2.5, "0"), ok("3"));
        assert_eq!(format_double(0.5, "#0"), ok("1"));
        assert_eq!(format_double(-2.5, "0"), ok("-3"));
        assert_eq!(format_double(0.256, "0.0%"), ok("25.6%"));
    }

    #[test]
    fn int_standard_formats() {
        assert_eq!(format_int(42, 32, "D5"), ok("00042"));
        assert_eq!(format_int(255, 32, "X"), ok("FF"));
        assert_eq!(format_int(48879, 32, "x8"), ok("0000beef"));
        assert_eq!(format_int(-5, 32, "D3"), ok("-005"));
        assert_eq!(format_int(255, 32, "X4"), ok("00FF"));
        assert_eq!(format_int(-1, 32, "X"), ok("FFFFFFFF"));
        assert_eq!(format_int(1234567, 32, "N"), ok("1,234,567.00"));
        assert!(is_format(format_int(42, 32, "Q")));
        assert_eq!(format_int(-42, 32, ""), ok("-42"));
        assert_eq!(
            format_int(i64::MAX as i128, 64, ""),
            ok("9223372036854775807")
        );
    }

    #[test]
    fn int_custom_formats() {
        assert_eq!(format_int(1234567, 32, "#,##0"), ok("1,234,567"));
        assert_eq!(format_int(7, 32, "000"), ok("007"));
        assert_eq!(format_int(3, 32, "00.0"), ok("03.0"));
        assert_eq!(format_int(-5, 32, "#;(#);zero"), ok("(5)"));
        assert_eq!(format_int(0, 32, "#;(#);zero"), ok("zero"));
    }

    #[test]
    fn decimal_formats() {
        assert_eq!(format_decimal(25, 1, "F0"), ok("3"));
        assert_eq!(format_decimal(225, 2, "F1"), ok("2.3"));
        assert_eq!(format_decimal(150, 2, ""), ok("1.50"));
        assert_eq!(format_decimal(110, 2, ""), ok("1.10"));
        assert_eq!(format_decimal(12300, 4, "0.##"), ok("1.23"));
        assert_eq!(format_decimal(0, 2, ""), ok("0.00"));
        assert_eq!(format_decimal(-50, 2, ""), ok("-0.50"));
        assert_eq!(format_decimal(2420, 3, ""), ok("2.420"));
        assert_eq!(
            format_decimal(3_333_333_333_333_333_333_333_333_333, 28, ""),
            ok("0.3333333333333333333333333333")
        );
        assert_eq!(
            format_decimal((1i128 << 96) - 1, 0, ""),
            ok("79228162514264337593543950335")
        );
    }

    // --- string-format.test.yaml: composite formatting ---------------------

    fn render(
        format: &str,
        args: &[&dyn Fn(Option<&str>) -> Result<String, NumError>],
    ) -> Result<String, NumError> {
        composite_format(format, args.len(), &mut |i, f| args[i](f))
    }

    #[test]
    fn composite() {
        let one = |f: Option<&str>| format_int(1, 32, f.unwrap_or(""));
        let a = |_: Option<&str>| ok("a");
        let x = |_: Option<&str>| ok("x");
        let n42 = |f: Option<&str>| format_int(42, 32, f.unwrap_or(""));
        let text = |_: Option<&str>| ok("abcdef");
        let pi = |f: Option<&str>| format_double(3.14159, f.unwrap_or(""));
        let five = |f: Option<&str>| format_int(5, 32, f.unwrap_or(""));
        let null = |_: Option<&str>| ok("");
        assert_eq!(render("{0}-{1}", &[&one, &a]), ok("1-a"));
        assert_eq!(render("{0}/{0}", &[&x]), ok("x/x"));
        assert_eq!(render("[{0,5}]", &[&n42]), ok("[   42]"));
        assert_eq!(render("[{0,-5}]", &[&n42]), ok("[42   ]"));
        assert_eq!(render("[{0,2}]", &[&text]), ok("[abcdef]"));
        assert_eq!(render("[{0,8:F2}]", &[&pi]), ok("[    3.14]"));
        assert_eq!(render("{{{0}}}", &[&five]), ok("{5}"));
        assert_eq!(render("[{0}]", &[&null]), ok("[]"));
        assert_eq!(
            render("{1}", &[&a]),
            Err(NumError::Format(BAD_INDEX.to_string()))
        );
        assert!(is_format(render("{0", &[&a])));
        assert!(is_format(render("}", &[&a])));
        assert!(is_format(render("{ 0}", &[&a])));
        assert!(is_format(render("{0:a{b}", &[&a])));
        assert_eq!(render("{0 , -4 :D2}|", &[&five]), ok("05  |"));
        assert_eq!(render("{0:}", &[&five]), ok("5"));
    }

    #[test]
    fn alignment_helper() {
        assert_eq!(align("42".to_string(), 5), "   42");
        assert_eq!(align("42".to_string(), -5), "42   ");
        assert_eq!(align("abcdef".to_string(), 2), "abcdef");
        assert_eq!(align("x".to_string(), 0), "x");
    }

    // --- parse-and-tostring.test.yaml / conversions-and-casts.test.yaml ------

    #[test]
    fn int_parse() {
        assert_eq!(parse_int("42", I32.0, I32.1), Ok(42));
        assert_eq!(parse_int("-42", I32.0, I32.1), Ok(-42));
        assert_eq!(parse_int("+42", I32.0, I32.1), Ok(42));
        assert_eq!(parse_int(" \t42 ", I32.0, I32.1), Ok(42));
        assert_eq!(parse_int("00042", I32.0, I32.1), Ok(42));
        assert_eq!(parse_int(" 7", I32.0, I32.1), Ok(7));
        assert_eq!(parse_int(" 42 ", I32.0, I32.1), Ok(42));
        assert_eq!(
            parse_int("9223372036854775807", i64::MIN as i128, i64::MAX as i128),
            Ok(i64::MAX as i128)
        );
        for bad in [
            "4 2",
            "12a",
            "",
            "1.0",
            "1,000",
            "0x1F",
            "\u{661}\u{662}",
            "4.2",
            "- 5",
            "-",
        ] {
            assert!(is_format(parse_int(bad, I32.0, I32.1)), "{bad:?}");
        }
        assert!(is_overflow(parse_int("2147483648", I32.0, I32.1)));
        assert!(is_overflow(parse_int("99999999999", I32.0, I32.1)));
        assert!(is_overflow(parse_int("-1", 0, u32::MAX as i128)));
        assert!(is_overflow(parse_int("256", 0, 255)));
        assert!(is_format(parse_int(
            "99999999999999999999999999999999999999999x",
            I32.0,
            I32.1
        )));
        assert_eq!(parse_int("-0", 0, 255), Ok(0));
        assert_eq!(parse_int("-2147483648", I32.0, I32.1), Ok(-2147483648));
    }

    #[test]
    fn double_parse() {
        assert_eq!(parse_double("2.5e-3"), Ok(0.0025));
        assert_eq!(parse_double("1.5"), Ok(1.5));
        assert_eq!(parse_double("1,5"), Ok(15.0));
        assert_eq!(parse_double("1e3"), Ok(1000.0));
        assert_eq!(parse_double(".5"), Ok(0.5));
        assert!(parse_double("NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_double("-Infinity"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_double("1e400"), Ok(f64::INFINITY));
        assert!(is_format(parse_double("abc")));
        assert_eq!(
            parse_double("0.1").map(|d| format_double(d, "")),
            Ok(ok("0.1"))
        );
        assert_eq!(parse_double("1.5"), Ok(1.5));
        assert!(parse_double("-0").is_ok_and(|d| d == 0.0 && d.is_sign_negative()));
        assert!(is_format(parse_double("1e")));
        assert!(is_format(parse_double(",5")));
        assert!(is_format(parse_double(".")));
    }

    #[test]
    fn decimal_parse() {
        assert_eq!(parse_decimal("-0.50"), Ok((-50, 2)));
        assert!(is_format(parse_decimal("1e2")));
        assert_eq!(parse_decimal("1.2300"), Ok((12300, 4)));
        assert_eq!(parse_decimal("1.50"), Ok((150, 2)));
        assert_eq!(parse_decimal("0.00"), Ok((0, 2)));
        assert_eq!(
            parse_decimal("79228162514264337593543950335"),
            Ok(((1i128 << 96) - 1, 0))
        );
        assert!(is_overflow(parse_decimal("79228162514264337593543950336")));
        assert_eq!(
            parse_decimal("0.33333333333333333333333333335"),
            Ok((3333333333333333333333333334, 28))
        );
        assert_eq!(
            parse_decimal("0.33333333333333333333333333325"),
            Ok((3333333333333333333333333332, 28))
        );
    }

    // --- documented examples (standard and custom numeric format strings) ---

    #[test]
    fn documented_standard_examples() {
        assert_eq!(format_double(1052.0329112756, "E"), ok("1.052033E+003"));
        assert_eq!(format_double(1052.0329112756, "e2"), ok("1.05e+003"));
        assert_eq!(format_double(1234.567, "F"), ok("1234.57"));
        assert_eq!(format_double(-1234.56, "F4"), ok("-1234.5600"));
        assert_eq!(format_int(1234, 32, "F1"), ok("1234.0"));
        assert_eq!(format_int(-1234, 32, "D6"), ok("-001234"));
        assert_eq!(format_double(-123.456, "G"), ok("-123.456"));
        assert_eq!(format_double(123.4546, "G4"), ok("123.5"));
        assert_eq!(format_double(-1.234567890e-25, "G"), ok("-1.23456789E-25"));
        assert_eq!(format_double(12345.6789, "G7"), ok("12345.68"));
        assert_eq!(format_double(0.0023, "G"), ok("0.0023"));
        assert_eq!(format_int(1234, 32, "G2"), ok("1.2E+03"));
        assert_eq!(format_double(std::f64::consts::PI, "G5"), ok("3.1416"));
        assert_eq!(format_double(1234.567, "N"), ok("1,234.57"));
        assert_eq!(format_int(1234, 32, "N1"), ok("1,234.0"));
        assert_eq!(format_double(-1234.56, "N3"), ok("-1,234.560"));
        assert_eq!(format_int(1, 32, "P"), ok("100.00 %"));
        assert_eq!(format_double(-0.39678, "P1"), ok("-39.7 %"));
        assert_eq!(format_double(1.5, "D"), Err(bad_specifier()));
        assert_eq!(format_decimal(15, 1, "X"), Err(bad_specifier()));
        assert_eq!(format_int(15, 32, "R"), Err(bad_specifier()));
        assert_eq!(format_double(f64::NAN, "Q"), ok("NaN"));
    }

    #[test]
    fn documented_custom_examples() {
        assert_eq!(format_double(1234.5678, "00000"), ok("01235"));
        assert_eq!(format_double(0.45678, "0.00"), ok("0.46"));
        assert_eq!(format_double(1234.5678, "#####"), ok("1235"));
        assert_eq!(format_double(0.45678, "#.##"), ok(".46"));
        assert_eq!(format_double(0.45678, "0.0"), ok("0.5"));
        assert_eq!(format_int(2147483647, 32, "##,#"), ok("2,147,483,647"));
        assert_eq!(format_int(2147483647, 32, "#,#,,"), ok("2,147"));
        assert_eq!(format_double(0.3697, "%#0.00"), ok("%36.97"));
        assert_eq!(format_double(0.3697, "##.0 %"), ok("37.0 %"));
        assert_eq!(format_double(0.03697, "#0.00\u{2030}"), ok("36.97\u{2030}"));
        assert_eq!(format_int(987654, 32, "#0.0e0"), ok("98.8e4"));
        assert_eq!(format_double(1503.92311, "0.0##e+00"), ok("1.504e+03"));
        assert_eq!(format_double(1.8901385E-16, "0.0e+00"), ok("1.9e-16"));
        assert_eq!(format_int(987654, 32, "\\###00\\#"), ok("#987654#"));
        assert_eq!(format_int(68, 32, "# 'degrees'"), ok("68 degrees"));
        assert_eq!(format_int(68, 32, "#' degrees'"), ok("68 degrees"));
        assert_eq!(format_double(12.345, "#0.0#;(#0.0#);-\\0-"), ok("12.35"));
        assert_eq!(format_int(0, 32, "#0.0#;(#0.0#);-\\0-"), ok("-0-"));
        assert_eq!(format_double(-12.345, "#0.0#;(#0.0#);-\\0-"), ok("(12.35)"));
        assert_eq!(format_int(0, 32, "#0.0#;(#0.0#)"), ok("0.0"));
        assert_eq!(format_double(-12.345, "#0.0#;(#0.0#)"), ok("(12.35)"));
        assert_eq!(format_int(123, 32, "00000"), ok("00123"));
        assert_eq!(format_double(1.2, "0.00"), ok("1.20"));
        assert_eq!(format_int(0, 32, "#"), ok(""));
    }

    #[test]
    fn exact_expansion_and_hex() {
        assert_eq!(format_double(5e-324, ""), ok("5E-324"));
        assert_eq!(format_double(5e-324, "G17"), ok("4.9406564584124654E-324"));
        assert_eq!(format_double(0.1, "G17"), ok("0.10000000000000001"));
        assert_eq!(format_double(1e23, "F0"), ok("99999999999999991611392"));
        assert_eq!(format_int(-1, 8, "X"), ok("FF"));
        assert_eq!(format_int(-1, 64, "x"), ok("ffffffffffffffff"));
        assert_eq!(format_int(5, 32, "B8"), ok("00000101"));
        assert_eq!(format_double(-1.5, "C"), ok("(¤1.50)"));
        assert_eq!(format_float(1e9f32, ""), ok("1E+09"));
        assert_eq!(format_float(100000000f32, ""), ok("100000000"));
    }
}
