//! .NET 8 `DateTime`, `DateTimeOffset` and `TimeSpan` semantics.
//!
//! Rules this module follows:
//!
//! * Culture is always the invariant culture: date separator `/`, time separator `:`,
//!   AM/PM designators `AM`/`PM`, era `A.D.`, English day and month names
//!   ([`DAY_NAMES`], [`ABBREVIATED_DAY_NAMES`], [`MONTH_NAMES`], [`ABBREVIATED_MONTH_NAMES`]),
//!   short date `MM/dd/yyyy`, long time `HH:mm:ss`, two-digit years map into 1950..=2049.
//! * The machine's local time zone is UTC (offset zero, no daylight saving). Converting
//!   between `Local`, `Utc` and `Unspecified` therefore never moves the clock; only `Kind` changes.
//! * Times are counted in ticks of 100 ns since 0001-01-01T00:00:00 of the proleptic Gregorian
//!   calendar; valid `DateTime` ticks are `0..=3155378975999999999`.
//! * `DateTime.ToString()` is the `"G"` pattern `MM/dd/yyyy HH:mm:ss`; `DateTimeOffset.ToString()`
//!   is `MM/dd/yyyy HH:mm:ss zzz`; `TimeSpan.ToString()` is the `"c"` format
//!   `[-][d.]hh:mm:ss[.fffffff]`.
//! * `"o"`/`"O"` (and the `K` specifier) print the kind: `Utc` as `Z`, `Local` as `+00:00`,
//!   `Unspecified` as nothing; a `DateTimeOffset` prints its offset (`+02:00`).
//! * `"r"`/`"R"` and `"u"` print `GMT`/`Z` without converting a `DateTime` (whatever its kind);
//!   a `DateTimeOffset` is converted to UTC first. `"U"` is a `FormatException` for a
//!   `DateTimeOffset`.
//! * `z`, `zz`, `zzz` print the local offset (`+00:00`) for every `DateTime`, the offset for a
//!   `DateTimeOffset`.
//! * `DateTime.Parse` of a string carrying `Z`, `GMT` or a numeric offset converts to local time
//!   and returns `Kind::Local`; without zone information the result is `Unspecified`.
//!   A missing date defaults to today (UTC); a missing year to the current year.
//! * `AddDays`/`AddHours`/... (.NET 7+) split the double into integral and fractional parts and
//!   truncate each scaled part to ticks (no rounding to milliseconds).
//!   `TimeSpan.FromDays`/... multiply and truncate to ticks; NaN is rejected.
//! * Errors map onto .NET exceptions: [`DtError::Format`] is `FormatException`,
//!   [`DtError::ArgumentOutOfRange`] is `ArgumentOutOfRangeException` (also used for the
//!   `ArgumentException` of a NaN argument), [`DtError::Overflow`] is `OverflowException`.
//! * Equality and ordering of `DateTime` in .NET ignore `Kind`: compare `ticks`, not the structs.

use std::fmt;

pub const TICKS_PER_MILLISECOND: i64 = 10_000;
pub const TICKS_PER_SECOND: i64 = 10_000_000;
pub const TICKS_PER_MINUTE: i64 = 600_000_000;
pub const TICKS_PER_HOUR: i64 = 36_000_000_000;
pub const TICKS_PER_DAY: i64 = 864_000_000_000;
/// Ticks of 9999-12-31T23:59:59.9999999.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
/// Ticks of 1970-01-01T00:00:00.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

pub const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
pub const ABBREVIATED_DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub const ABBREVIATED_MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub const AM_DESIGNATOR: &str = "AM";
pub const PM_DESIGNATOR: &str = "PM";
pub const ERA_NAME: &str = "A.D.";

const SHORT_DATE: &str = "MM/dd/yyyy";
const GENERAL_LONG: &str = "MM/dd/yyyy HH:mm:ss";
const OFFSET_DEFAULT: &str = "MM/dd/yyyy HH:mm:ss zzz";

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtError {
    Format(String),
    ArgumentOutOfRange(String),
    Overflow(String),
}

impl DtError {
    /// The .NET exception type this error stands for.
    pub fn exception_name(&self) -> &'static str {
        match self {
            DtError::Format(_) => "FormatException",
            DtError::ArgumentOutOfRange(_) => "ArgumentOutOfRangeException",
            DtError::Overflow(_) => "OverflowException",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            DtError::Format(m) | DtError::ArgumentOutOfRange(m) | DtError::Overflow(m) => m,
        }
    }
}

impl fmt::Display for DtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.exception_name(), self.message())
    }
}

fn bad_format_spec() -> DtError {
    DtError::Format("Input string was not in a correct format.".into())
}

fn bad_datetime(s: &str) -> DtError {
    DtError::Format(format!(
        "String '{s}' was not recognized as a valid DateTime."
    ))
}

fn bad_timespan() -> DtError {
    DtError::Format("String was not recognized as a valid TimeSpan.".into())
}

fn unrepresentable_add() -> DtError {
    DtError::ArgumentOutOfRange(
        "The added or subtracted value results in an un-representable DateTime.".into(),
    )
}

fn timespan_too_long() -> DtError {
    DtError::Overflow("TimeSpan overflowed because the duration is too long.".into())
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic

const DAYS_BEFORE_MONTH: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn month_len(y: i64, m: i64) -> i64 {
    let base = DAYS_BEFORE_MONTH[m as usize] - DAYS_BEFORE_MONTH[m as usize - 1];
    if m == 2 && leap(y) { base + 1 } else { base }
}

fn valid_date(y: i64, m: i64, d: i64) -> bool {
    (1..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= month_len(y, m)
}

/// Days from 0001-01-01 to the given (valid) date.
fn date_to_days(y: i64, m: i64, d: i64) -> i64 {
    let py = y - 1;
    let mut days = py * 365 + py / 4 - py / 100 + py / 400 + DAYS_BEFORE_MONTH[m as usize - 1];
    if m > 2 && leap(y) {
        days += 1;
    }
    days + d - 1
}

/// (year, month, day, day-of-year) of a day number counted from 0001-01-01.
fn days_to_date(days: i64) -> (i32, i32, i32, i32) {
    let n400 = days / 146_097;
    let mut rem = days % 146_097;
    let n100 = (rem / 36_524).min(3);
    rem -= n100 * 36_524;
    let n4 = rem / 1461;
    rem %= 1461;
    let n1 = (rem / 365).min(3);
    rem -= n1 * 365;
    let year = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1;
    let extra = i64::from(leap(year));
    let mut month = 1;
    while month < 12 {
        let next = DAYS_BEFORE_MONTH[month as usize] + if month >= 2 { extra } else { 0 };
        if rem < next {
            break;
        }
        month += 1;
    }
    let before = DAYS_BEFORE_MONTH[month as usize - 1] + if month > 2 { extra } else { 0 };
    (
        year as i32,
        month,
        (rem - before + 1) as i32,
        (rem + 1) as i32,
    )
}

fn ticks_in_range(t: i64) -> bool {
    (0..=MAX_TICKS).contains(&t)
}

/// Today's date (the local zone is UTC) from the system clock.
fn today() -> (i32, i32, i32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d, _) = days_to_date(UNIX_EPOCH_TICKS / TICKS_PER_DAY + secs / 86_400);
    (y, m, d)
}

fn now_ticks() -> i64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let ticks = UNIX_EPOCH_TICKS as i128 + (nanos / 100) as i128;
    ticks.clamp(0, MAX_TICKS as i128) as i64
}

// ---------------------------------------------------------------------------------------------
// DateTime

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Unspecified,
    Utc,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub ticks: i64,
    pub kind: Kind,
}

impl DateTime {
    pub const MIN: DateTime = DateTime {
        ticks: 0,
        kind: Kind::Unspecified,
    };
    pub const MAX: DateTime = DateTime {
        ticks: MAX_TICKS,
        kind: Kind::Unspecified,
    };

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        y: i32,
        mo: i32,
        d: i32,
        h: i32,
        mi: i32,
        s: i32,
        ms: i32,
        kind: Kind,
    ) -> Result<Self, DtError> {
        if !valid_date(y.into(), mo.into(), d.into()) {
            return Err(DtError::ArgumentOutOfRange(
                "Year, Month, and Day parameters describe an un-representable DateTime.".into(),
            ));
        }
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..60).contains(&s) {
            return Err(DtError::ArgumentOutOfRange(
                "Hour, Minute, and Second parameters describe an un-representable DateTime.".into(),
            ));
        }
        if !(0..1000).contains(&ms) {
            return Err(DtError::ArgumentOutOfRange(
                "Valid values are between 0 and 999, inclusive. (Parameter 'millisecond')".into(),
            ));
        }
        let ticks = date_to_days(y.into(), mo.into(), d.into()) * TICKS_PER_DAY
            + i64::from(h) * TICKS_PER_HOUR
            + i64::from(mi) * TICKS_PER_MINUTE
            + i64::from(s) * TICKS_PER_SECOND
            + i64::from(ms) * TICKS_PER_MILLISECOND;
        Ok(DateTime { ticks, kind })
    }

    pub fn from_ticks(ticks: i64, kind: Kind) -> Result<Self, DtError> {
        if ticks_in_range(ticks) {
            Ok(DateTime { ticks, kind })
        } else {
            Err(DtError::ArgumentOutOfRange(
                "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks. (Parameter 'ticks')".into(),
            ))
        }
    }

    /// `DateTime.UtcNow`.
    pub fn utc_now() -> Self {
        DateTime {
            ticks: now_ticks(),
            kind: Kind::Utc,
        }
    }

    /// `DateTime.Now` (local zone is UTC).
    pub fn now() -> Self {
        DateTime {
            ticks: now_ticks(),
            kind: Kind::Local,
        }
    }

    fn parts(&self) -> (i32, i32, i32, i32) {
        days_to_date(self.ticks / TICKS_PER_DAY)
    }

    pub fn year(&self) -> i32 {
        self.parts().0
    }
    pub fn month(&self) -> i32 {
        self.parts().1
    }
    pub fn day(&self) -> i32 {
        self.parts().2
    }
    pub fn day_of_year(&self) -> i32 {
        self.parts().3
    }
    pub fn hour(&self) -> i32 {
        (self.ticks / TICKS_PER_HOUR % 24) as i32
    }
    pub fn minute(&self) -> i32 {
        (self.ticks / TICKS_PER_MINUTE % 60) as i32
    }
    pub fn second(&self) -> i32 {
        (self.ticks / TICKS_PER_SECOND % 60) as i32
    }
    pub fn millisecond(&self) -> i32 {
        (self.ticks / TICKS_PER_MILLISECOND % 1000) as i32
    }
    /// 0 = Sunday ... 6 = Saturday; index into [`DAY_NAMES`].
    pub fn day_of_week(&self) -> i32 {
        (self.ticks / TICKS_PER_DAY + 1).rem_euclid(7) as i32
    }

    pub fn date(&self) -> DateTime {
        DateTime {
            ticks: self.ticks - self.ticks % TICKS_PER_DAY,
            kind: self.kind,
        }
    }

    pub fn time_of_day(&self) -> TimeSpan {
        TimeSpan {
            ticks: self.ticks % TICKS_PER_DAY,
        }
    }

    pub fn add_ticks(&self, t: i64) -> Result<Self, DtError> {
        match self.ticks.checked_add(t) {
            Some(n) if ticks_in_range(n) => Ok(DateTime {
                ticks: n,
                kind: self.kind,
            }),
            _ => Err(unrepresentable_add()),
        }
    }

    /// `DateTime - DateTime` (kinds are ignored, as in .NET).
    pub fn subtract(&self, other: &DateTime) -> TimeSpan {
        TimeSpan {
            ticks: self.ticks.saturating_sub(other.ticks),
        }
    }

    /// `AddDays`/`AddHours`/`AddMinutes`/`AddSeconds`/`AddMilliseconds`: `scale_ticks` is the
    /// number of ticks in one unit (e.g. [`TICKS_PER_DAY`]).
    pub fn add_double(&self, value: f64, scale_ticks: i64) -> Result<Self, DtError> {
        if scale_ticks <= 0 || value.is_nan() {
            return Err(unrepresentable_add());
        }
        let max_units = (MAX_TICKS / scale_ticks) as f64;
        if value.abs() > max_units {
            return Err(unrepresentable_add());
        }
        let integral = value.trunc();
        let fraction = value - integral;
        let ticks = (integral as i64) * scale_ticks + (fraction * scale_ticks as f64) as i64;
        self.add_ticks(ticks)
    }

    pub fn add_months(&self, n: i32) -> Result<Self, DtError> {
        if !(-120_000..=120_000).contains(&n) {
            return Err(DtError::ArgumentOutOfRange(
                "Months value must be between +/-120000. (Parameter 'months')".into(),
            ));
        }
        let (y, m, d, _) = self.parts();
        let index = i64::from(y) * 12 + i64::from(m) - 1 + i64::from(n);
        let (ny, nm) = (index.div_euclid(12), index.rem_euclid(12) + 1);
        if !(1..=9999).contains(&ny) {
            return Err(unrepresentable_add());
        }
        let nd = i64::from(d).min(month_len(ny, nm));
        let ticks = date_to_days(ny, nm, nd) * TICKS_PER_DAY + self.ticks % TICKS_PER_DAY;
        Ok(DateTime {
            ticks,
            kind: self.kind,
        })
    }

    pub fn add_years(&self, n: i32) -> Result<Self, DtError> {
        if !(-10_000..=10_000).contains(&n) {
            return Err(DtError::ArgumentOutOfRange(
                "Years value must be between +/-10000. (Parameter 'years')".into(),
            ));
        }
        self.add_months(n * 12)
    }

    /// `ToUniversalTime()`: local zone is UTC, so only the kind changes.
    pub fn to_universal_time(&self) -> DateTime {
        DateTime {
            ticks: self.ticks,
            kind: Kind::Utc,
        }
    }

    /// `ToLocalTime()`: local zone is UTC, so only the kind changes.
    pub fn to_local_time(&self) -> DateTime {
        DateTime {
            ticks: self.ticks,
            kind: Kind::Local,
        }
    }

    pub fn format(&self, fmt: &str) -> Result<String, DtError> {
        format_any(self.ticks, self.kind, None, fmt)
    }

    pub fn parse(s: &str) -> Result<Self, DtError> {
        Self::parse_on(s, today())
    }

    fn parse_on(s: &str, today: (i32, i32, i32)) -> Result<Self, DtError> {
        let parts = parse_general(s)?;
        let clock = resolve(&parts, today, s)?;
        to_datetime(clock, parts.offset, s)
    }

    pub fn parse_exact(s: &str, fmt: &str) -> Result<Self, DtError> {
        let parts = parse_exact_parts(s, fmt)?;
        let clock = resolve(&parts, today(), s)?;
        to_datetime(clock, parts.offset, s)
    }

    /// `DateTime.IsLeapYear` (the caller checks `1..=9999` if it wants the .NET exception).
    pub fn is_leap_year(y: i32) -> bool {
        leap(y.into())
    }

    pub fn days_in_month(y: i32, m: i32) -> Result<i32, DtError> {
        if !(1..=12).contains(&m) {
            return Err(DtError::ArgumentOutOfRange(
                "Month must be between one and twelve. (Parameter 'month')".into(),
            ));
        }
        if !(1..=9999).contains(&y) {
            return Err(DtError::ArgumentOutOfRange(
                "Year must be between 1 and 9999. (Parameter 'year')".into(),
            ));
        }
        Ok(month_len(y.into(), m.into()) as i32)
    }

    /// Seconds since 1970-01-01T00:00:00, rounded down (kind ignored: local zone is UTC).
    pub fn to_unix_seconds(&self) -> i64 {
        self.ticks
            .saturating_sub(UNIX_EPOCH_TICKS)
            .div_euclid(TICKS_PER_SECOND)
    }
}

/// `DateTime.ToString()` under the invariant culture: `MM/dd/yyyy HH:mm:ss`.
pub fn format_datetime_default(dt: &DateTime) -> String {
    let mut out = String::new();
    // The general pattern contains only valid specifiers, so this cannot fail.
    let _ = format_custom(
        &mut out,
        GENERAL_LONG,
        &FmtCtx {
            ticks: dt.ticks,
            kind: dt.kind,
            offset: None,
        },
    );
    out
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_datetime_default(self))
    }
}

/// Applies a parsed zone offset: with an offset the clock time is converted to local (= UTC).
fn to_datetime(clock: i64, offset: Option<i32>, s: &str) -> Result<DateTime, DtError> {
    match offset {
        None => Ok(DateTime {
            ticks: clock,
            kind: Kind::Unspecified,
        }),
        Some(off) => {
            let utc = clock - i64::from(off) * TICKS_PER_MINUTE;
            if ticks_in_range(utc) {
                Ok(DateTime {
                    ticks: utc,
                    kind: Kind::Local,
                })
            } else {
                Err(bad_datetime(s))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// DateTimeOffset

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTimeOffset {
    /// Clock ticks (the local time at `offset_minutes`).
    pub ticks: i64,
    pub offset_minutes: i16,
}

impl DateTimeOffset {
    pub fn new(dt_ticks: i64, offset_minutes: i16) -> Result<Self, DtError> {
        if i32::from(offset_minutes).abs() > MAX_OFFSET_MINUTES {
            return Err(DtError::ArgumentOutOfRange(
                "Offset must be within plus or minus 14 hours. (Parameter 'offset')".into(),
            ));
        }
        if !ticks_in_range(dt_ticks)
            || !ticks_in_range(dt_ticks - i64::from(offset_minutes) * TICKS_PER_MINUTE)
        {
            return Err(DtError::ArgumentOutOfRange(
                "The UTC time represented when the offset is applied must be between year 0 and 10,000. (Parameter 'offset')".into(),
            ));
        }
        Ok(DateTimeOffset {
            ticks: dt_ticks,
            offset_minutes,
        })
    }

    /// `DateTimeOffset.UtcNow`.
    pub fn utc_now() -> Self {
        DateTimeOffset {
            ticks: now_ticks(),
            offset_minutes: 0,
        }
    }

    pub fn utc_ticks(&self) -> i64 {
        self.ticks
            .saturating_sub(i64::from(self.offset_minutes) * TICKS_PER_MINUTE)
    }

    pub fn offset(&self) -> TimeSpan {
        TimeSpan {
            ticks: i64::from(self.offset_minutes) * TICKS_PER_MINUTE,
        }
    }

    /// `.DateTime`: the clock time, `Unspecified`.
    pub fn date_time(&self) -> DateTime {
        DateTime {
            ticks: self.ticks,
            kind: Kind::Unspecified,
        }
    }

    /// `.UtcDateTime`: `Utc` kind.
    pub fn utc_date_time(&self) -> DateTime {
        DateTime {
            ticks: self.utc_ticks(),
            kind: Kind::Utc,
        }
    }

    /// `.LocalDateTime`: `Local` kind (local zone is UTC).
    pub fn local_date_time(&self) -> DateTime {
        DateTime {
            ticks: self.utc_ticks(),
            kind: Kind::Local,
        }
    }

    /// `ToUniversalTime()`: same instant with offset zero.
    pub fn to_universal_time(&self) -> DateTimeOffset {
        DateTimeOffset {
            ticks: self.utc_ticks(),
            offset_minutes: 0,
        }
    }

    /// `new DateTimeOffset(DateTime)`: Utc and Local (= UTC) kinds get offset zero, and so does
    /// Unspecified (treated as local).
    pub fn from_datetime(dt: &DateTime) -> DateTimeOffset {
        DateTimeOffset {
            ticks: dt.ticks,
            offset_minutes: 0,
        }
    }

    pub fn format(&self, fmt: &str) -> Result<String, DtError> {
        format_any(
            self.ticks,
            Kind::Unspecified,
            Some(i32::from(self.offset_minutes)),
            fmt,
        )
    }

    pub fn parse(s: &str) -> Result<Self, DtError> {
        let parts = parse_general(s)?;
        let clock = resolve(&parts, today(), s)?;
        to_offset(clock, parts.offset, s)
    }

    pub fn parse_exact(s: &str, fmt: &str) -> Result<Self, DtError> {
        let parts = parse_exact_parts(s, fmt)?;
        let clock = resolve(&parts, today(), s)?;
        to_offset(clock, parts.offset, s)
    }

    pub fn from_unix_seconds(s: i64) -> Result<Self, DtError> {
        const MIN_SECONDS: i64 = -62_135_596_800;
        const MAX_SECONDS: i64 = 253_402_300_799;
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&s) {
            return Err(DtError::ArgumentOutOfRange(format!(
                "Valid values are between {MIN_SECONDS} and {MAX_SECONDS}, inclusive. (Parameter 'seconds')"
            )));
        }
        Ok(DateTimeOffset {
            ticks: s * TICKS_PER_SECOND + UNIX_EPOCH_TICKS,
            offset_minutes: 0,
        })
    }

    pub fn to_unix_seconds(&self) -> i64 {
        self.utc_ticks() / TICKS_PER_SECOND - UNIX_EPOCH_TICKS / TICKS_PER_SECOND
    }
}

impl fmt::Display for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let ctx = FmtCtx {
            ticks: self.ticks,
            kind: Kind::Unspecified,
            offset: Some(self.offset_minutes.into()),
        };
        let _ = format_custom(&mut out, OFFSET_DEFAULT, &ctx);
        f.write_str(&out)
    }
}

/// A parsed clock time plus optional offset as a `DateTimeOffset` (no offset: local, i.e. zero).
fn to_offset(clock: i64, offset: Option<i32>, s: &str) -> Result<DateTimeOffset, DtError> {
    let off = offset.unwrap_or(0);
    if off.abs() > MAX_OFFSET_MINUTES || !ticks_in_range(clock - i64::from(off) * TICKS_PER_MINUTE)
    {
        return Err(bad_datetime(s));
    }
    Ok(DateTimeOffset {
        ticks: clock,
        offset_minutes: off as i16,
    })
}

// ---------------------------------------------------------------------------------------------
// DateTime / DateTimeOffset formatting

#[derive(Debug)]
struct FmtCtx {
    ticks: i64,
    kind: Kind,
    /// `Some` for a `DateTimeOffset`.
    offset: Option<i32>,
}

/// Expands a one-letter standard format into its invariant custom pattern.
fn standard_pattern(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => SHORT_DATE,
        'D' => "dddd, dd MMMM yyyy",
        'f' => "dddd, dd MMMM yyyy HH:mm",
        'F' | 'U' => "dddd, dd MMMM yyyy HH:mm:ss",
        'g' => "MM/dd/yyyy HH:mm",
        'G' => GENERAL_LONG,
        'm' | 'M' => "MMMM dd",
        'o' | 'O' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'r' | 'R' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "HH:mm",
        'T' => "HH:mm:ss",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'y' | 'Y' => "yyyy MMMM",
        _ => return None,
    })
}

fn format_any(ticks: i64, kind: Kind, offset: Option<i32>, fmt: &str) -> Result<String, DtError> {
    let mut ctx = FmtCtx {
        ticks,
        kind,
        offset,
    };
    let mut chars = fmt.chars();
    let pattern = match (chars.next(), chars.next()) {
        (None, _) => {
            if offset.is_some() {
                OFFSET_DEFAULT
            } else {
                GENERAL_LONG
            }
        }
        (Some(c), None) => {
            let p = standard_pattern(c).ok_or_else(bad_format_spec)?;
            match (c, offset) {
                ('U', Some(_)) => return Err(bad_format_spec()),
                ('U', None) => ctx.kind = Kind::Utc,
                ('r' | 'R' | 'u', Some(off)) => {
                    ctx.ticks -= i64::from(off) * TICKS_PER_MINUTE;
                    ctx.offset = Some(0);
                }
                _ => {}
            }
            p
        }
        _ => fmt,
    };
    let mut out = String::new();
    format_custom(&mut out, pattern, &ctx)?;
    Ok(out)
}

fn repeat_count(f: &[char], i: usize) -> usize {
    f[i..].iter().take_while(|&&c| c == f[i]).count()
}

fn push_num(out: &mut String, v: i64, width: usize) {
    out.push_str(&format!("{v:0width$}"));
}

/// Reads a quoted literal starting at `f[i]` (the quote); returns the text and chars consumed.
fn quoted_literal(f: &[char], i: usize) -> Result<(String, usize), DtError> {
    let quote = f[i];
    let mut lit = String::new();
    let mut j = i + 1;
    while j < f.len() {
        match f[j] {
            c if c == quote => return Ok((lit, j + 1 - i)),
            '\\' if j + 1 < f.len() => {
                lit.push(f[j + 1]);
                j += 2;
            }
            c => {
                lit.push(c);
                j += 1;
            }
        }
    }
    Err(DtError::Format(format!(
        "Cannot find a matching quote character for the character '{quote}'."
    )))
}

fn push_offset(out: &mut String, minutes: i32, len: usize) {
    out.push(if minutes < 0 { '-' } else { '+' });
    let a = minutes.abs();
    match len {
        1 => push_num(out, (a / 60).into(), 1),
        2 => push_num(out, (a / 60).into(), 2),
        _ => {
            push_num(out, (a / 60).into(), 2);
            out.push(':');
            push_num(out, (a % 60).into(), 2);
        }
    }
}

fn push_fraction(out: &mut String, frac: i64, n: usize, trim: bool) -> Result<(), DtError> {
    if n > 7 {
        return Err(bad_format_spec());
    }
    let mut v = frac / 10i64.pow(7 - n as u32);
    let mut digits = n;
    if trim {
        while digits > 0 && v % 10 == 0 {
            v /= 10;
            digits -= 1;
        }
        if digits == 0 {
            if out.ends_with('.') {
                out.pop();
            }
            return Ok(());
        }
    }
    push_num(out, v, digits);
    Ok(())
}

fn format_custom(out: &mut String, fmt: &str, ctx: &FmtCtx) -> Result<(), DtError> {
    let f: Vec<char> = fmt.chars().collect();
    format_chars(out, &f, ctx)
}

fn format_chars(out: &mut String, f: &[char], ctx: &FmtCtx) -> Result<(), DtError> {
    let t = ctx.ticks;
    let (year, month, day, _) = days_to_date(t / TICKS_PER_DAY);
    let hour = t / TICKS_PER_HOUR % 24;
    let mut i = 0;
    while i < f.len() {
        let c = f[i];
        let n = repeat_count(f, i);
        let mut step = n;
        match c {
            'd' => match n {
                1 | 2 => push_num(out, day.into(), n),
                3 => out.push_str(
                    ABBREVIATED_DAY_NAMES[(t / TICKS_PER_DAY + 1).rem_euclid(7) as usize],
                ),
                _ => out.push_str(DAY_NAMES[(t / TICKS_PER_DAY + 1).rem_euclid(7) as usize]),
            },
            'f' | 'F' => push_fraction(out, t % TICKS_PER_SECOND, n, c == 'F')?,
            'g' => out.push_str(ERA_NAME),
            'h' => push_num(out, if hour % 12 == 0 { 12 } else { hour % 12 }, n.min(2)),
            'H' => push_num(out, hour, n.min(2)),
            'm' => push_num(out, t / TICKS_PER_MINUTE % 60, n.min(2)),
            's' => push_num(out, t / TICKS_PER_SECOND % 60, n.min(2)),
            'M' => match n {
                1 | 2 => push_num(out, month.into(), n),
                3 => out.push_str(ABBREVIATED_MONTH_NAMES[(month - 1).clamp(0, 11) as usize]),
                _ => out.push_str(MONTH_NAMES[(month - 1).clamp(0, 11) as usize]),
            },
            't' => {
                let designator = if hour < 12 {
                    AM_DESIGNATOR
                } else {
                    PM_DESIGNATOR
                };
                out.push_str(if n == 1 { &designator[..1] } else { designator });
            }
            'y' if n <= 2 => push_num(out, (year % 100).into(), n),
            'y' => push_num(out, year.into(), n),
            'z' => push_offset(out, ctx.offset.unwrap_or(0), n),
            'K' => {
                step = 1;
                match (ctx.offset, ctx.kind) {
                    (Some(off), _) => push_offset(out, off, 3),
                    (None, Kind::Utc) => out.push('Z'),
                    (None, Kind::Local) => push_offset(out, 0, 3),
                    (None, Kind::Unspecified) => {}
                }
            }
            '\'' | '"' => {
                let (lit, used) = quoted_literal(f, i)?;
                out.push_str(&lit);
                step = used;
            }
            '%' => {
                match f.get(i + 1) {
                    Some(&next) if next != '%' => format_chars(out, &[next], ctx)?,
                    _ => return Err(bad_format_spec()),
                }
                step = 2;
            }
            '\\' => {
                let next = f.get(i + 1).ok_or_else(bad_format_spec)?;
                out.push(*next);
                step = 2;
            }
            other => {
                out.push(other);
                step = 1;
            }
        }
        i += step;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// DateTime / DateTimeOffset parsing

/// Components found while parsing; `None` means "not in the input".
#[derive(Debug, Default, Clone)]
struct Parts {
    year: Option<i32>,
    month: Option<i32>,
    day: Option<i32>,
    hour: Option<i32>,
    minute: Option<i32>,
    second: Option<i32>,
    frac_ticks: i64,
    pm: Option<bool>,
    offset: Option<i32>,
    day_of_week: Option<i32>,
}

fn set_once(slot: &mut Option<i32>, v: i32, s: &str) -> Result<(), DtError> {
    match *slot {
        Some(old) if old != v => Err(bad_datetime(s)),
        _ => {
            *slot = Some(v);
            Ok(())
        }
    }
}

/// Two-digit years of the invariant calendar (TwoDigitYearMax = 2049).
fn expand_two_digit_year(v: i32) -> i32 {
    if v < 50 { 2000 + v } else { 1900 + v }
}

/// Ticks of a fraction of a second written with the given digits (rounded to 7 digits).
fn fraction_ticks(digits: &str) -> i64 {
    let mut ticks = 0i64;
    for (k, b) in digits.bytes().take(7).enumerate() {
        ticks += i64::from(b - b'0') * 10i64.pow(6 - k as u32);
    }
    if digits.as_bytes().get(7).is_some_and(|&b| b >= b'5') {
        ticks += 1;
    }
    ticks
}

/// Fills in defaults (as .NET does) and validates; returns the clock ticks.
fn resolve(p: &Parts, today: (i32, i32, i32), s: &str) -> Result<i64, DtError> {
    let (y, m, d) = match (p.year, p.month, p.day) {
        (None, None, None) => today,
        (Some(y), None, None) => (y, 1, 1),
        (y, m, d) => (y.unwrap_or(today.0), m.unwrap_or(1), d.unwrap_or(1)),
    };
    if !valid_date(y.into(), m.into(), d.into()) {
        return Err(bad_datetime(s));
    }
    let mut hour = p.hour.unwrap_or(0);
    if let Some(pm) = p.pm {
        if hour > 12 {
            return Err(bad_datetime(s));
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let (minute, second) = (p.minute.unwrap_or(0), p.second.unwrap_or(0));
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || !(0..60).contains(&second) {
        return Err(bad_datetime(s));
    }
    let days = date_to_days(y.into(), m.into(), d.into());
    if p.day_of_week
        .is_some_and(|w| i64::from(w) != (days + 1) % 7)
    {
        return Err(bad_datetime(s));
    }
    Ok(days * TICKS_PER_DAY
        + i64::from(hour) * TICKS_PER_HOUR
        + i64::from(minute) * TICKS_PER_MINUTE
        + i64::from(second) * TICKS_PER_SECOND
        + p.frac_ticks)
}

fn find_name(names: &[&str], word: &str) -> Option<i32> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(word))
        .map(|i| i as i32)
}

// --- general parsing (DateTime.Parse / DateTimeOffset.Parse) ---

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Word(String),
    Punct(char),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, DtError> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = |pred: fn(char) -> bool| {
            chars[i..]
                .iter()
                .take_while(|&&x| pred(x))
                .collect::<String>()
        };
        if c.is_whitespace() || c == ',' {
            i += 1;
        } else if c.is_ascii_digit() {
            let digits = run(|x| x.is_ascii_digit());
            i += digits.len();
            toks.push(Tok::Num(digits));
        } else if c.is_alphabetic() {
            let word = run(|x| x.is_alphabetic());
            i += word.chars().count();
            toks.push(Tok::Word(word));
        } else if matches!(c, '/' | '-' | '.' | ':' | '+') {
            toks.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(bad_datetime(s));
        }
    }
    Ok(toks)
}

fn small_num(digits: &str, s: &str) -> Result<i32, DtError> {
    if digits.len() > 9 {
        return Err(bad_datetime(s));
    }
    digits.parse::<i32>().map_err(|_| bad_datetime(s))
}

#[derive(Debug)]
struct GeneralParser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
    parts: Parts,
    date_nums: Vec<String>,
    month_name: Option<i32>,
    saw_time: bool,
}

impl<'a> GeneralParser<'a> {
    fn peek(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }

    fn num_at(&self, k: usize) -> Option<String> {
        match self.peek(k) {
            Some(Tok::Num(d)) => Some(d.clone()),
            _ => None,
        }
    }

    fn err(&self) -> DtError {
        bad_datetime(self.src)
    }

    fn run(&mut self) -> Result<(), DtError> {
        while let Some(tok) = self.peek(0).cloned() {
            match tok {
                Tok::Num(d) => self.number(d)?,
                Tok::Word(w) => self.word(&w)?,
                Tok::Punct('/' | '-' | '.') if !self.saw_time => self.pos += 1,
                Tok::Punct('+' | '-') => self.offset()?,
                Tok::Punct(_) => return Err(self.err()),
            }
        }
        Ok(())
    }

    fn number(&mut self, d: String) -> Result<(), DtError> {
        if self.peek(1) == Some(&Tok::Punct(':')) {
            return self.time();
        }
        let ampm_follows = matches!(self.peek(1), Some(Tok::Word(w)) if is_ampm(w));
        if ampm_follows && d.len() <= 2 && self.parts.hour.is_none() {
            self.parts.hour = Some(small_num(&d, self.src)?);
            self.saw_time = true;
        } else {
            self.date_nums.push(d);
        }
        self.pos += 1;
        Ok(())
    }

    /// h:m[:s[.fraction]] followed directly by an optional numeric offset.
    fn time(&mut self) -> Result<(), DtError> {
        if self.saw_time {
            return Err(self.err());
        }
        self.saw_time = true;
        let src = self.src;
        let h = self.num_at(0).ok_or_else(|| self.err())?;
        let m = self.num_at(2).ok_or_else(|| self.err())?;
        self.parts.hour = Some(small_num(&h, src)?);
        self.parts.minute = Some(small_num(&m, src)?);
        self.pos += 3;
        if self.peek(0) == Some(&Tok::Punct(':')) {
            let sec = self.num_at(1).ok_or_else(|| self.err())?;
            self.parts.second = Some(small_num(&sec, src)?);
            self.pos += 2;
            if self.peek(0) == Some(&Tok::Punct('.')) {
                let frac = self.num_at(1).ok_or_else(|| self.err())?;
                self.parts.frac_ticks = fraction_ticks(&frac);
                self.pos += 2;
            }
        }
        Ok(())
    }

    /// `+hh:mm`, `-hh:mm`, `+hhmm`, `+hh` (only after a time).
    fn offset(&mut self) -> Result<(), DtError> {
        if !self.saw_time || self.parts.offset.is_some() {
            return Err(self.err());
        }
        let sign = if self.peek(0) == Some(&Tok::Punct('-')) {
            -1
        } else {
            1
        };
        let first = self.num_at(1).ok_or_else(|| self.err())?;
        self.pos += 2;
        let (h, m) = match first.len() {
            1 | 2 => {
                let mut m = 0;
                if self.peek(0) == Some(&Tok::Punct(':')) {
                    let mm = self
                        .num_at(1)
                        .filter(|x| x.len() == 2)
                        .ok_or_else(|| self.err())?;
                    m = small_num(&mm, self.src)?;
                    self.pos += 2;
                }
                (small_num(&first, self.src)?, m)
            }
            4 => (
                small_num(&first[..2], self.src)?,
                small_num(&first[2..], self.src)?,
            ),
            _ => return Err(self.err()),
        };
        if m > 59 {
            return Err(self.err());
        }
        self.parts.offset = Some(sign * (h * 60 + m));
        Ok(())
    }

    fn word(&mut self, w: &str) -> Result<(), DtError> {
        self.pos += 1;
        if w.eq_ignore_ascii_case("T") && !self.saw_time {
            return Ok(());
        }
        if w == "Z" || w.eq_ignore_ascii_case("GMT") {
            return set_once(&mut self.parts.offset, 0, self.src);
        }
        if is_ampm(w) {
            if self.parts.pm.is_some() {
                return Err(self.err());
            }
            self.parts.pm = Some(w.eq_ignore_ascii_case(PM_DESIGNATOR));
            return Ok(());
        }
        if let Some(m) =
            find_name(&MONTH_NAMES, w).or_else(|| find_name(&ABBREVIATED_MONTH_NAMES, w))
        {
            if self.month_name.is_some() {
                return Err(self.err());
            }
            self.month_name = Some(m + 1);
            return Ok(());
        }
        if let Some(d) = find_name(&DAY_NAMES, w).or_else(|| find_name(&ABBREVIATED_DAY_NAMES, w)) {
            return set_once(&mut self.parts.day_of_week, d, self.src);
        }
        Err(self.err())
    }

    fn year_of(&self, digits: &str) -> Result<i32, DtError> {
        let v = small_num(digits, self.src)?;
        Ok(if digits.len() <= 2 {
            expand_two_digit_year(v)
        } else {
            v
        })
    }

    /// Turns the collected date numbers (and month name) into year/month/day, month first.
    fn assign_date(&mut self) -> Result<(), DtError> {
        let nums = std::mem::take(&mut self.date_nums);
        let long = |d: &String| d.len() >= 3;
        let src = self.src;
        let (y, m, d) = match (self.month_name, nums.as_slice()) {
            (None, []) => return Ok(()),
            (None, [a, b, c]) if long(a) => (
                Some(self.year_of(a)?),
                small_num(b, src)?,
                Some(small_num(c, src)?),
            ),
            (None, [a, b, c]) => (
                Some(self.year_of(c)?),
                small_num(a, src)?,
                Some(small_num(b, src)?),
            ),
            (None, [a, b]) if long(a) => (Some(self.year_of(a)?), small_num(b, src)?, None),
            (None, [a, b]) if long(b) => (Some(self.year_of(b)?), small_num(a, src)?, None),
            (None, [a, b]) => (None, small_num(a, src)?, Some(small_num(b, src)?)),
            (Some(m), [a, b]) if long(a) => (Some(self.year_of(a)?), m, Some(small_num(b, src)?)),
            (Some(m), [a, b]) => (Some(self.year_of(b)?), m, Some(small_num(a, src)?)),
            (Some(m), [a]) if long(a) => (Some(self.year_of(a)?), m, None),
            (Some(m), [a]) => (None, m, Some(small_num(a, src)?)),
            _ => return Err(self.err()),
        };
        self.parts.year = y;
        self.parts.month = Some(m);
        self.parts.day = Some(d.unwrap_or(1));
        Ok(())
    }
}

fn is_ampm(w: &str) -> bool {
    w.eq_ignore_ascii_case(AM_DESIGNATOR) || w.eq_ignore_ascii_case(PM_DESIGNATOR)
}

fn parse_general(s: &str) -> Result<Parts, DtError> {
    let toks = tokenize(s.trim())?;
    if toks.is_empty() {
        return Err(bad_datetime(s));
    }
    let mut p = GeneralParser {
        toks,
        pos: 0,
        src: s,
        parts: Parts::default(),
        date_nums: Vec::new(),
        month_name: None,
        saw_time: false,
    };
    p.run()?;
    let had_date = !p.date_nums.is_empty() || p.month_name.is_some();
    p.assign_date()?;
    if !had_date && !p.saw_time {
        return Err(bad_datetime(s));
    }
    if p.parts.pm.is_some() && p.parts.hour.is_none() {
        return Err(bad_datetime(s));
    }
    Ok(p.parts)
}

// --- exact parsing (ParseExact) ---

#[derive(Debug)]
struct Cursor<'a> {
    s: Vec<char>,
    pos: usize,
    src: &'a str,
}

impl<'a> Cursor<'a> {
    fn err(&self) -> DtError {
        bad_datetime(self.src)
    }

    fn expect(&mut self, c: char) -> Result<(), DtError> {
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    /// Between `min` and `max` ASCII digits, greedily.
    fn digits(&mut self, min: usize, max: usize) -> Result<(i32, String), DtError> {
        let text: String = self.s[self.pos..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if text.len() < min {
            return Err(self.err());
        }
        self.pos += text.len();
        let v = if text.is_empty() {
            0
        } else {
            small_num(&text, self.src)?
        };
        Ok((v, text))
    }

    /// Case-insensitive match of one of `names`, longest first; returns its index.
    fn name(&mut self, names: &[&str]) -> Result<i32, DtError> {
        let mut best: Option<(usize, usize)> = None;
        for (idx, n) in names.iter().enumerate() {
            let len = n.chars().count();
            let cand: String = self.s[self.pos..].iter().take(len).collect();
            if cand.eq_ignore_ascii_case(n) && best.is_none_or(|(_, l)| len > l) {
                best = Some((idx, len));
            }
        }
        let (idx, len) = best.ok_or_else(|| self.err())?;
        self.pos += len;
        Ok(idx as i32)
    }

    fn sign(&mut self) -> Result<i32, DtError> {
        match self.s.get(self.pos) {
            Some('+') => {
                self.pos += 1;
                Ok(1)
            }
            Some('-') => {
                self.pos += 1;
                Ok(-1)
            }
            _ => Err(self.err()),
        }
    }

    /// `[+-]hh[:mm]` or `[+-]hhmm` (for `zzz` and `K`).
    fn full_offset(&mut self) -> Result<i32, DtError> {
        let sign = self.sign()?;
        let (h, _) = self.digits(1, 2)?;
        if self.s.get(self.pos) == Some(&':') {
            self.pos += 1;
        }
        let (m, _) = self.digits(2, 2)?;
        if h > 14 || m > 59 {
            return Err(self.err());
        }
        Ok(sign * (h * 60 + m))
    }
}

fn parse_exact_parts(s: &str, fmt: &str) -> Result<Parts, DtError> {
    let mut chars = fmt.chars();
    let pattern = match (chars.next(), chars.next()) {
        (None, _) => return Err(bad_format_spec()),
        (Some(c), None) => standard_pattern(c).ok_or_else(bad_format_spec)?,
        _ => fmt,
    };
    let f: Vec<char> = pattern.chars().collect();
    let mut cur = Cursor {
        s: s.chars().collect(),
        pos: 0,
        src: s,
    };
    let mut parts = Parts::default();
    match_pattern(&f, &mut cur, &mut parts)?;
    if cur.pos != cur.s.len() {
        return Err(bad_datetime(s));
    }
    Ok(parts)
}

fn width_digits(cur: &mut Cursor, n: usize) -> Result<i32, DtError> {
    Ok(if n == 1 {
        cur.digits(1, 2)?.0
    } else {
        cur.digits(2, 2)?.0
    })
}

fn match_pattern(f: &[char], cur: &mut Cursor, p: &mut Parts) -> Result<(), DtError> {
    let src = cur.src;
    let mut i = 0;
    while i < f.len() {
        let c = f[i];
        let n = repeat_count(f, i);
        let mut step = n;
        match c {
            'd' if n <= 2 => set_once(&mut p.day, width_digits(cur, n)?, src)?,
            'd' => {
                let dow = cur.name(if n == 3 {
                    &ABBREVIATED_DAY_NAMES
                } else {
                    &DAY_NAMES
                })?;
                set_once(&mut p.day_of_week, dow, src)?;
            }
            'M' if n <= 2 => set_once(&mut p.month, width_digits(cur, n)?, src)?,
            'M' => {
                let m = cur.name(if n == 3 {
                    &ABBREVIATED_MONTH_NAMES
                } else {
                    &MONTH_NAMES
                })?;
                set_once(&mut p.month, m + 1, src)?;
            }
            'y' if n <= 2 => set_once(
                &mut p.year,
                expand_two_digit_year(width_digits(cur, n)?),
                src,
            )?,
            'y' => set_once(&mut p.year, cur.digits(n, n)?.0, src)?,
            'h' | 'H' => set_once(&mut p.hour, width_digits(cur, n)?, src)?,
            'm' => set_once(&mut p.minute, width_digits(cur, n)?, src)?,
            's' => set_once(&mut p.second, width_digits(cur, n)?, src)?,
            'f' | 'F' => {
                if n > 7 {
                    return Err(bad_format_spec());
                }
                let min = if c == 'f' { n } else { 0 };
                let (_, text) = cur.digits(min, n)?;
                p.frac_ticks = fraction_ticks(&text);
            }
            't' => {
                let pm = if n == 1 {
                    cur.name(&["A", "P"])? == 1
                } else {
                    cur.name(&[AM_DESIGNATOR, PM_DESIGNATOR])? == 1
                };
                p.pm = Some(pm);
            }
            'z' => {
                let off = if n >= 3 {
                    cur.full_offset()?
                } else {
                    let sign = cur.sign()?;
                    sign * width_digits(cur, n)? * 60
                };
                set_once(&mut p.offset, off, src)?;
            }
            'K' => {
                step = 1;
                match cur.s.get(cur.pos) {
                    Some('Z') => {
                        cur.pos += 1;
                        set_once(&mut p.offset, 0, src)?;
                    }
                    Some('+' | '-') => {
                        let off = cur.full_offset()?;
                        set_once(&mut p.offset, off, src)?;
                    }
                    _ => {}
                }
            }
            'g' => {
                for ch in ERA_NAME.chars() {
                    cur.expect(ch)?;
                }
            }
            '\'' | '"' => {
                let (lit, used) = quoted_literal(f, i)?;
                for ch in lit.chars() {
                    cur.expect(ch)?;
                }
                step = used;
            }
            '%' => {
                match f.get(i + 1) {
                    Some(&next) if next != '%' => match_pattern(&[next], cur, p)?,
                    _ => return Err(bad_format_spec()),
                }
                step = 2;
            }
            '\\' => {
                let next = *f.get(i + 1).ok_or_else(bad_format_spec)?;
                cur.expect(next)?;
                step = 2;
            }
            other => {
                cur.expect(other)?;
                step = 1;
            }
        }
        i += step;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TimeSpan

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeSpan {
    pub ticks: i64,
}

impl TimeSpan {
    pub const ZERO: TimeSpan = TimeSpan { ticks: 0 };
    pub const MIN: TimeSpan = TimeSpan { ticks: i64::MIN };
    pub const MAX: TimeSpan = TimeSpan { ticks: i64::MAX };

    pub fn from_ticks(ticks: i64) -> Self {
        TimeSpan { ticks }
    }

    /// `new TimeSpan(days, hours, minutes, seconds, milliseconds)` (any part may be negative or
    /// out of its usual range; the total must fit).
    pub fn from_parts(days: i64, h: i64, m: i64, s: i64, ms: i64) -> Result<Self, DtError> {
        let total_ms = ((days as i128 * 24 + h as i128) * 60 + m as i128) * 60_000
            + s as i128 * 1000
            + ms as i128;
        let ticks = total_ms * TICKS_PER_MILLISECOND as i128;
        if ticks > i64::MAX as i128 || ticks < i64::MIN as i128 {
            return Err(DtError::ArgumentOutOfRange(
                "TimeSpan overflowed because the duration is too long.".into(),
            ));
        }
        Ok(TimeSpan {
            ticks: ticks as i64,
        })
    }

    /// `FromDays`/`FromHours`/`FromMinutes`/`FromSeconds`/`FromMilliseconds(double)`:
    /// `scale_ticks` is the number of ticks in one unit.
    pub fn from_double(value: f64, scale_ticks: i64) -> Result<Self, DtError> {
        if value.is_nan() {
            return Err(DtError::ArgumentOutOfRange(
                "TimeSpan does not accept floating point Not-a-Number values.".into(),
            ));
        }
        let ticks = value * scale_ticks as f64;
        let limit = i64::MAX as f64; // 2^63
        if ticks > limit || ticks < -limit || ticks.is_nan() {
            return Err(timespan_too_long());
        }
        if ticks == limit {
            return Ok(TimeSpan::MAX);
        }
        Ok(TimeSpan {
            ticks: ticks as i64,
        })
    }

    pub fn days(&self) -> i32 {
        (self.ticks / TICKS_PER_DAY) as i32
    }
    pub fn hours(&self) -> i32 {
        (self.ticks / TICKS_PER_HOUR % 24) as i32
    }
    pub fn minutes(&self) -> i32 {
        (self.ticks / TICKS_PER_MINUTE % 60) as i32
    }
    pub fn seconds(&self) -> i32 {
        (self.ticks / TICKS_PER_SECOND % 60) as i32
    }
    pub fn milliseconds(&self) -> i32 {
        (self.ticks / TICKS_PER_MILLISECOND % 1000) as i32
    }
    pub fn total_days(&self) -> f64 {
        self.ticks as f64 / TICKS_PER_DAY as f64
    }
    pub fn total_hours(&self) -> f64 {
        self.ticks as f64 / TICKS_PER_HOUR as f64
    }
    pub fn total_minutes(&self) -> f64 {
        self.ticks as f64 / TICKS_PER_MINUTE as f64
    }
    pub fn total_seconds(&self) -> f64 {
        self.ticks as f64 / TICKS_PER_SECOND as f64
    }
    pub fn total_milliseconds(&self) -> f64 {
        self.ticks as f64 / TICKS_PER_MILLISECOND as f64
    }

    pub fn add(&self, other: TimeSpan) -> Result<Self, DtError> {
        self.ticks
            .checked_add(other.ticks)
            .map(TimeSpan::from_ticks)
            .ok_or_else(timespan_too_long)
    }

    pub fn sub(&self, other: TimeSpan) -> Result<Self, DtError> {
        self.ticks
            .checked_sub(other.ticks)
            .map(TimeSpan::from_ticks)
            .ok_or_else(timespan_too_long)
    }

    pub fn negate(&self) -> Result<Self, DtError> {
        self.ticks
            .checked_neg()
            .map(TimeSpan::from_ticks)
            .ok_or_else(|| {
                DtError::Overflow(
                    "Negating the minimum value of a twos complement number is invalid.".into(),
                )
            })
    }

    /// `Duration()`: absolute value.
    pub fn duration(&self) -> Result<Self, DtError> {
        self.ticks.checked_abs().map(TimeSpan::from_ticks).ok_or_else(|| {
            DtError::Overflow("The duration cannot be returned for TimeSpan.MinValue because the absolute value of TimeSpan.MinValue exceeds the value of TimeSpan.MaxValue.".into())
        })
    }

    pub fn format(&self, fmt: &str) -> Result<String, DtError> {
        let mut chars = fmt.chars();
        match (chars.next(), chars.next()) {
            (None, _) | (Some('c' | 't' | 'T'), None) => Ok(self.format_standard(false, false)),
            (Some('g'), None) => Ok(self.format_standard(true, false)),
            (Some('G'), None) => Ok(self.format_standard(true, true)),
            (Some(_), None) => Err(bad_format_spec()),
            _ => {
                let f: Vec<char> = fmt.chars().collect();
                let mut out = String::new();
                self.format_custom(&mut out, &f)?;
                Ok(out)
            }
        }
    }

    /// `c`: `[-][d.]hh:mm:ss[.fffffff]`; `g`: `[-][d:]h:mm:ss[.FFFFFFF]`;
    /// `G`: `[-]d:hh:mm:ss.fffffff`.
    fn format_standard(&self, general: bool, long: bool) -> String {
        let a = self.ticks.unsigned_abs();
        let days = a / TICKS_PER_DAY as u64;
        let hours = a / TICKS_PER_HOUR as u64 % 24;
        let minutes = a / TICKS_PER_MINUTE as u64 % 60;
        let seconds = a / TICKS_PER_SECOND as u64 % 60;
        let frac = a % TICKS_PER_SECOND as u64;
        let mut out = String::new();
        if self.ticks < 0 {
            out.push('-');
        }
        if !general {
            if days > 0 {
                out.push_str(&format!("{days}."));
            }
            out.push_str(&format!("{hours:02}:{minutes:02}:{seconds:02}"));
            if frac > 0 {
                out.push_str(&format!(".{frac:07}"));
            }
        } else if long {
            out.push_str(&format!(
                "{days}:{hours:02}:{minutes:02}:{seconds:02}.{frac:07}"
            ));
        } else {
            if days > 0 {
                out.push_str(&format!("{days}:"));
            }
            out.push_str(&format!("{hours}:{minutes:02}:{seconds:02}"));
            if frac > 0 {
                let trimmed = format!("{frac:07}");
                out.push('.');
                out.push_str(trimmed.trim_end_matches('0'));
            }
        }
        out
    }

    fn format_custom(&self, out: &mut String, f: &[char]) -> Result<(), DtError> {
        let a = self.ticks.unsigned_abs();
        let part = |unit: i64, modulo: u64| (a / unit as u64 % modulo) as i64;
        let mut i = 0;
        while i < f.len() {
            let c = f[i];
            let n = repeat_count(f, i);
            let mut step = n;
            match c {
                'd' if n <= 8 => push_num(out, (a / TICKS_PER_DAY as u64) as i64, n),
                'h' if n <= 2 => push_num(out, part(TICKS_PER_HOUR, 24), n),
                'm' if n <= 2 => push_num(out, part(TICKS_PER_MINUTE, 60), n),
                's' if n <= 2 => push_num(out, part(TICKS_PER_SECOND, 60), n),
                'f' | 'F' if n <= 7 => {
                    let mut v = (a % TICKS_PER_SECOND as u64) as i64 / 10i64.pow(7 - n as u32);
                    let mut digits = n;
                    if c == 'F' {
                        while digits > 0 && v % 10 == 0 {
                            v /= 10;
                            digits -= 1;
                        }
                    }
                    if digits > 0 {
                        push_num(out, v, digits);
                    }
                }
                '\'' | '"' => {
                    let (lit, used) = quoted_literal(f, i)?;
                    out.push_str(&lit);
                    step = used;
                }
                '%' => {
                    match f.get(i + 1) {
                        Some(&next) if next != '%' => self.format_custom(out, &[next])?,
                        _ => return Err(bad_format_spec()),
                    }
                    step = 2;
                }
                '\\' => {
                    out.push(*f.get(i + 1).ok_or_else(bad_format_spec)?);
                    step = 2;
                }
                _ => return Err(bad_format_spec()),
            }
            i += step;
        }
        Ok(())
    }

    /// `TimeSpan.Parse` (invariant): `[ws][-]{ d | [d.]hh:mm[:ss[.ff]] | d:hh:mm:ss[.ff] }[ws]`.
    /// Well-formed input with a component out of range is an `OverflowException`.
    pub fn parse(s: &str) -> Result<Self, DtError> {
        let t = s.trim();
        let (negative, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (nums, seps) = split_timespan(body)?;
        let field = |k: usize| -> Result<u64, DtError> {
            let text: &str = nums[k];
            if text.len() > 18 {
                return Err(timespan_too_long());
            }
            text.parse::<u64>().map_err(|_| bad_timespan())
        };
        let sep: String = seps.iter().collect();
        // (days, hours, minutes, seconds, fraction index)
        let (d, h, m, sec, frac_at) = match sep.as_str() {
            "" => (field(0)?, 0, 0, 0, None),
            ":" => (0, field(0)?, field(1)?, 0, None),
            "::" => (0, field(0)?, field(1)?, field(2)?, None),
            "::." => (0, field(0)?, field(1)?, field(2)?, Some(3)),
            ".:" => (field(0)?, field(1)?, field(2)?, 0, None),
            ".::" => (field(0)?, field(1)?, field(2)?, field(3)?, None),
            ".::." => (field(0)?, field(1)?, field(2)?, field(3)?, Some(4)),
            ":::" => (field(0)?, field(1)?, field(2)?, field(3)?, None),
            ":::." => (field(0)?, field(1)?, field(2)?, field(3)?, Some(4)),
            _ => return Err(bad_timespan()),
        };
        if d > 10_675_199 || h > 23 || m > 59 || sec > 59 {
            return Err(timespan_too_long());
        }
        let frac = match frac_at {
            Some(k) if nums[k].len() > 7 => return Err(timespan_too_long()),
            Some(k) => fraction_ticks(nums[k]),
            None => 0,
        };
        let total = (((d as i128 * 24 + h as i128) * 60 + m as i128) * 60 + sec as i128)
            * TICKS_PER_SECOND as i128
            + frac as i128;
        let signed = if negative { -total } else { total };
        if signed > i64::MAX as i128 || signed < i64::MIN as i128 {
            return Err(timespan_too_long());
        }
        Ok(TimeSpan {
            ticks: signed as i64,
        })
    }
}

/// Splits `1.02:03:04.5` into digit runs and the separators between them.
fn split_timespan(body: &str) -> Result<(Vec<&str>, Vec<char>), DtError> {
    let mut nums = Vec::new();
    let mut seps = Vec::new();
    let mut start = 0;
    for (i, c) in body.char_indices() {
        if c == ':' || c == '.' {
            nums.push(&body[start..i]);
            seps.push(c);
            start = i + 1;
        } else if !c.is_ascii_digit() {
            return Err(bad_timespan());
        }
    }
    nums.push(&body[start..]);
    if nums.iter().any(|n| n.is_empty()) {
        return Err(bad_timespan());
    }
    Ok((nums, seps))
}

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_standard(false, false))
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn dt(y: i32, mo: i32, d: i32, h: i32, mi: i32, s: i32, ms: i32, kind: Kind) -> DateTime {
        match DateTime::new(y, mo, d, h, mi, s, ms, kind) {
            Ok(v) => v,
            Err(e) => panic!("bad test date: {e}"),
        }
    }

    fn date(y: i32, mo: i32, d: i32) -> DateTime {
        dt(y, mo, d, 0, 0, 0, 0, Kind::Unspecified)
    }

    fn f(d: &DateTime, fmt: &str) -> String {
        d.format(fmt)
            .unwrap_or_else(|e| panic!("format {fmt:?}: {e}"))
    }

    fn ts(v: f64, scale: i64) -> TimeSpan {
        TimeSpan::from_double(v, scale).unwrap_or_else(|e| panic!("{e}"))
    }

    fn tsf(t: &TimeSpan, fmt: &str) -> String {
        t.format(fmt)
            .unwrap_or_else(|e| panic!("format {fmt:?}: {e}"))
    }

    fn ok<T>(r: Result<T, DtError>) -> T {
        r.unwrap_or_else(|e| panic!("unexpected {e}"))
    }

    fn kind_of<T>(r: Result<T, DtError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.exception_name(),
        }
    }

    // --- datetime-timespan.test.yaml: formatting ---

    #[test]
    fn round_trip_formats() {
        let utc = dt(2024, 2, 29, 13, 45, 30, 0, Kind::Utc);
        assert_eq!(f(&utc, "o"), "2024-02-29T13:45:30.0000000Z");
        assert_eq!(
            f(&dt(2024, 2, 29, 13, 45, 30, 0, Kind::Unspecified), "o"),
            "2024-02-29T13:45:30.0000000"
        );
        assert_eq!(
            f(&dt(2024, 2, 29, 13, 45, 30, 123, Kind::Utc), "O"),
            "2024-02-29T13:45:30.1230000Z"
        );
        assert_eq!(
            f(&utc.to_local_time(), "o"),
            "2024-02-29T13:45:30.0000000+00:00"
        );
        assert_eq!(f(&DateTime::MAX, "o"), "9999-12-31T23:59:59.9999999");
    }

    #[test]
    fn custom_formats() {
        assert_eq!(f(&date(2024, 3, 9), "yyyy-MM-dd"), "2024-03-09");
        assert_eq!(
            f(
                &dt(2024, 3, 9, 7, 5, 3, 42, Kind::Unspecified),
                "yyyy-MM-ddTHH:mm:ss.fffZ"
            ),
            "2024-03-09T07:05:03.042Z"
        );
        assert_eq!(
            f(&date(2024, 2, 29), "MMMM dddd, MMM ddd"),
            "February Thursday, Feb Thu"
        );
        assert_eq!(
            f(&dt(2024, 2, 29, 13, 5, 0, 0, Kind::Unspecified), "hh:mm tt"),
            "01:05 PM"
        );
        assert_eq!(
            f(
                &dt(2024, 1, 2, 3, 4, 5, 0, Kind::Unspecified),
                "yyyy-MM-ddTHH:mm:ss"
            ),
            "2024-01-02T03:04:05"
        );
    }

    #[test]
    fn custom_format_details() {
        let d = dt(2024, 3, 9, 0, 5, 3, 40, Kind::Unspecified);
        assert_eq!(f(&d, "%d"), "9");
        assert_eq!(f(&d, "%h %t"), "12 A");
        assert_eq!(f(&d, "%y"), "24");
        assert_eq!(f(&d, "yyyyy"), "02024");
        assert_eq!(f(&d, "ss.FFF"), "03.04");
        assert_eq!(
            f(&dt(2024, 3, 9, 0, 5, 3, 0, Kind::Unspecified), "ss.FFF"),
            "03"
        );
        assert_eq!(f(&d, "'yyyy' \\d \"MM\""), "yyyy d MM");
        assert_eq!(f(&d, "zzz|zz|z"), "+00:00|+00|+0");
        assert_eq!(f(&d, "g"), "03/09/2024 00:05");
        assert_eq!(kind_of(d.format("ffffffff")), "FormatException");
        assert_eq!(kind_of(d.format("'abc")), "FormatException");
        assert_eq!(kind_of(d.format("%")), "FormatException");
        assert_eq!(kind_of(d.format("Q")), "FormatException");
    }

    #[test]
    fn standard_formats() {
        let unspec = dt(2024, 2, 29, 13, 45, 30, 0, Kind::Unspecified);
        let utc = unspec.to_universal_time();
        assert_eq!(f(&unspec, "s"), "2024-02-29T13:45:30");
        assert_eq!(f(&utc, "u"), "2024-02-29 13:45:30Z");
        assert_eq!(f(&utc, "R"), "Thu, 29 Feb 2024 13:45:30 GMT");
        assert_eq!(f(&unspec, ""), "02/29/2024 13:45:30");
        assert_eq!(format_datetime_default(&utc), "02/29/2024 13:45:30");
        assert_eq!(utc.to_string(), "02/29/2024 13:45:30");
        assert_eq!(f(&date(2024, 2, 29), "d"), "02/29/2024");
        assert_eq!(f(&unspec, "D"), "Thursday, 29 February 2024");
        assert_eq!(f(&unspec, "F"), "Thursday, 29 February 2024 13:45:30");
        assert_eq!(f(&unspec, "t"), "13:45");
        assert_eq!(f(&unspec, "M"), "February 29");
        assert_eq!(f(&unspec, "y"), "2024 February");
    }

    // --- arithmetic ---

    #[test]
    fn add_units() {
        let r = date(2024, 2, 29).add_double(1.0, TICKS_PER_DAY);
        assert_eq!(r.map(|d| f(&d, "yyyy-MM-dd")), Ok("2024-03-01".into()));
        let r = date(2024, 1, 31).add_months(1);
        assert_eq!(r.map(|d| f(&d, "yyyy-MM-dd")), Ok("2024-02-29".into()));
        let r = date(2024, 2, 29).add_years(1);
        assert_eq!(r.map(|d| f(&d, "yyyy-MM-dd")), Ok("2025-02-28".into()));
        let r = dt(2024, 3, 1, 0, 30, 0, 0, Kind::Utc).add_double(-25.0, TICKS_PER_HOUR);
        assert_eq!(
            r.map(|d| f(&d, "o")),
            Ok("2024-02-28T23:30:00.0000000Z".into())
        );
        let r = date(2024, 1, 1).add_double(1.75, TICKS_PER_DAY);
        assert_eq!(r.map(|d| f(&d, "s")), Ok("2024-01-02T18:00:00".into()));
        let r = dt(2024, 1, 1, 23, 50, 0, 0, Kind::Unspecified)
            .add_ticks(ts(15.0, TICKS_PER_MINUTE).ticks);
        assert_eq!(r.map(|d| f(&d, "s")), Ok("2024-01-02T00:05:00".into()));
        assert_eq!(
            kind_of(DateTime::MIN.add_double(-1.0, TICKS_PER_DAY)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTime::MAX.add_months(1)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTime::MIN.add_double(f64::NAN, TICKS_PER_DAY)),
            "ArgumentOutOfRangeException"
        );
    }

    #[test]
    fn differences() {
        let diff = date(2024, 3, 1).subtract(&dt(2024, 2, 28, 12, 0, 0, 0, Kind::Unspecified));
        assert_eq!(diff.total_hours(), 36.0);
        assert_eq!(diff.to_string(), "1.12:00:00");
        let a = dt(2024, 1, 1, 0, 0, 0, 0, Kind::Utc);
        let epoch = dt(1970, 1, 1, 0, 0, 0, 0, Kind::Utc);
        assert_eq!(a.subtract(&epoch).total_seconds() as i64, 1_704_067_200);
        assert_eq!(a.to_unix_seconds(), 1_704_067_200);
        assert_eq!(date(1970, 1, 1).ticks, 621_355_968_000_000_000);
        assert!(date(2024, 1, 1).ticks < dt(2024, 1, 1, 0, 0, 1, 0, Kind::Unspecified).ticks);
        assert_eq!(a.ticks, date(2024, 1, 1).ticks);
    }

    #[test]
    fn calendar_properties() {
        assert_eq!(date(2024, 2, 29).day_of_week(), 4);
        assert_eq!(
            DAY_NAMES[date(2024, 2, 29).day_of_week() as usize],
            "Thursday"
        );
        assert_eq!(DAY_NAMES[date(2024, 1, 1).day_of_week() as usize], "Monday");
        assert_eq!(date(2024, 2, 29).day_of_year(), 60);
        // `DateTime.IsLeapYear(1900) || !DateTime.IsLeapYear(2000)` is false.
        let (y1900, y2000) = (DateTime::is_leap_year(1900), DateTime::is_leap_year(2000));
        assert!(!y1900 && y2000);
        assert_eq!(DateTime::days_in_month(2023, 2), Ok(28));
        assert_eq!(
            kind_of(DateTime::days_in_month(2023, 13)),
            "ArgumentOutOfRangeException"
        );
        let d = dt(2024, 2, 29, 13, 45, 30, 250, Kind::Unspecified);
        assert_eq!(f(&d.date(), "s"), "2024-02-29T00:00:00");
        assert_eq!((d.year(), d.month(), d.day()), (2024, 2, 29));
        assert_eq!(
            (d.hour(), d.minute(), d.second(), d.millisecond()),
            (13, 45, 30, 250)
        );
        assert_eq!(
            dt(2024, 2, 29, 13, 45, 30, 0, Kind::Unspecified)
                .time_of_day()
                .to_string(),
            "13:45:30"
        );
        let last = DateTime {
            ticks: MAX_TICKS,
            kind: Kind::Unspecified,
        };
        assert_eq!(
            (last.year(), last.month(), last.day(), last.day_of_year()),
            (9999, 12, 31, 365)
        );
        assert_eq!(
            (date(2000, 12, 31).day_of_year(), date(2000, 12, 31).day()),
            (366, 31)
        );
    }

    #[test]
    fn constructor_errors() {
        assert_eq!(
            kind_of(DateTime::new(2024, 13, 1, 0, 0, 0, 0, Kind::Unspecified)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTime::new(2023, 2, 29, 0, 0, 0, 0, Kind::Unspecified)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTime::new(2023, 2, 28, 24, 0, 0, 0, Kind::Unspecified)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTime::from_ticks(-1, Kind::Utc)),
            "ArgumentOutOfRangeException"
        );
    }

    // --- parsing ---

    #[test]
    fn datetime_parse() {
        let r = DateTime::parse("2024-02-29");
        assert_eq!(
            r.map(|d| f(&d, "o")),
            Ok("2024-02-29T00:00:00.0000000".into())
        );
        assert_eq!(DateTime::parse("02/03/2024").map(|d| d.month()), Ok(2));
        assert_eq!(kind_of(DateTime::parse("not a date")), "FormatException");
        assert_eq!(kind_of(DateTime::parse("2023-02-29")), "FormatException");
        let r = DateTime::parse("2024-02-29T13:45:30+02:00");
        assert_eq!(
            r.map(|d| f(&d, "o")),
            Ok("2024-02-29T11:45:30.0000000+00:00".into())
        );
        let r = DateTime::parse("Thu, 29 Feb 2024 13:45:30 GMT");
        assert_eq!(
            r.map(|d| (f(&d, "s"), d.kind)),
            Ok(("2024-02-29T13:45:30".into(), Kind::Local))
        );
        let r = DateTime::parse("02/29/2024 01:05:07.25 PM");
        assert_eq!(
            r.map(|d| f(&d, "o")),
            Ok("2024-02-29T13:05:07.2500000".into())
        );
        let r = DateTime::parse("February 29, 2024");
        assert_eq!(r.map(|d| f(&d, "s")), Ok("2024-02-29T00:00:00".into()));
        assert_eq!(
            kind_of(DateTime::parse("Fri, 29 Feb 2024 13:45:30 GMT")),
            "FormatException"
        );
        assert_eq!(kind_of(DateTime::parse("")), "FormatException");
        assert_eq!(
            kind_of(DateTime::parse("2024-02-29T25:00")),
            "FormatException"
        );
    }

    #[test]
    fn datetime_parse_defaults_to_today() {
        let r = DateTime::parse_on("13:45", (2024, 5, 6));
        assert_eq!(r.map(|d| f(&d, "s")), Ok("2024-05-06T13:45:00".into()));
        let r = DateTime::parse_on("3/4", (2024, 5, 6));
        assert_eq!(r.map(|d| f(&d, "s")), Ok("2024-03-04T00:00:00".into()));
    }

    #[test]
    fn datetime_parse_exact() {
        let r = DateTime::parse_exact("2024-02-29T13:45:30.1230000Z", "o");
        assert_eq!(
            r.map(|d| (f(&d, "o"), d.kind)),
            Ok(("2024-02-29T13:45:30.1230000+00:00".into(), Kind::Local))
        );
        let r = DateTime::parse_exact("29 February 2024 1:05 PM", "d MMMM yyyy h:mm tt");
        assert_eq!(r.map(|d| f(&d, "s")), Ok("2024-02-29T13:05:00".into()));
        assert_eq!(
            kind_of(DateTime::parse_exact("2024-02-29 ", "yyyy-MM-dd")),
            "FormatException"
        );
        assert_eq!(
            kind_of(DateTime::parse_exact("2024-02-30", "yyyy-MM-dd")),
            "FormatException"
        );
    }

    #[test]
    fn offset_parse_and_format() {
        let z = ok(DateTimeOffset::parse("2024-02-29T13:45:30Z"));
        assert_eq!(f(&z.utc_date_time(), "o"), "2024-02-29T13:45:30.0000000Z");
        let plus2 = ok(DateTimeOffset::parse("2024-02-29T13:45:30+02:00"));
        assert_eq!(plus2.offset_minutes, 120);
        assert_eq!(
            f(&plus2.utc_date_time(), "o"),
            "2024-02-29T11:45:30.0000000Z"
        );
        assert_eq!(
            ok(plus2.to_universal_time().format("o")),
            "2024-02-29T11:45:30.0000000+00:00"
        );
        let exact = ok(DateTimeOffset::parse_exact("20240229", "yyyyMMdd"));
        assert_eq!(f(&exact.date_time(), "o"), "2024-02-29T00:00:00.0000000");
        assert_eq!(
            kind_of(DateTimeOffset::parse_exact("2024-02-29", "yyyyMMdd")),
            "FormatException"
        );
        let plain = ok(DateTimeOffset::parse("2024-02-29 08:00"));
        assert_eq!(ok(plain.format("")), "02/29/2024 08:00:00 +00:00");
    }

    #[test]
    fn offset_values() {
        let clock = dt(2024, 2, 29, 13, 45, 30, 0, Kind::Unspecified).ticks;
        let o = ok(DateTimeOffset::new(clock, 120));
        assert_eq!(ok(o.format("o")), "2024-02-29T13:45:30.0000000+02:00");
        assert_eq!(f(&o.utc_date_time(), "o"), "2024-02-29T11:45:30.0000000Z");
        assert_eq!(o.to_string(), "02/29/2024 13:45:30 +02:00");
        assert_eq!(ok(o.format("R")), "Thu, 29 Feb 2024 11:45:30 GMT");
        assert_eq!(ok(o.format("u")), "2024-02-29 11:45:30Z");
        assert_eq!(ok(o.format("HH:mm K zz")), "13:45 +02:00 +02");
        assert_eq!(kind_of(o.format("U")), "FormatException");
        let unix = ok(DateTimeOffset::from_unix_seconds(1_700_000_000));
        assert_eq!(ok(unix.format("o")), "2023-11-14T22:13:20.0000000+00:00");
        assert_eq!(unix.to_unix_seconds(), 1_700_000_000);
        let jan = ok(DateTimeOffset::new(date(2024, 1, 1).ticks, 0));
        assert_eq!(jan.to_unix_seconds(), 1_704_067_200);
        assert_eq!(
            kind_of(DateTimeOffset::new(clock, 15 * 60)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTimeOffset::new(0, 60)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(DateTimeOffset::from_unix_seconds(253_402_300_800)),
            "ArgumentOutOfRangeException"
        );
    }

    // --- TimeSpan ---

    #[test]
    fn timespan_to_string() {
        assert_eq!(ts(90.0, TICKS_PER_MINUTE).to_string(), "01:30:00");
        assert_eq!(ts(1.5, TICKS_PER_DAY).to_string(), "1.12:00:00");
        assert_eq!(
            ts(1500.0, TICKS_PER_MILLISECOND).to_string(),
            "00:00:01.5000000"
        );
        let neg = ts(1.0, TICKS_PER_HOUR).sub(ts(3.0, TICKS_PER_HOUR));
        assert_eq!(neg.map(|t| t.to_string()), Ok("-02:00:00".into()));
        assert_eq!(TimeSpan::ZERO.to_string(), "00:00:00");
        assert_eq!(
            TimeSpan::from_ticks(ts(5.0, TICKS_PER_MINUTE).ticks * 3).to_string(),
            "00:15:00"
        );
        assert_eq!(TimeSpan::MAX.to_string(), "10675199.02:48:05.4775807");
        assert_eq!(TimeSpan::MIN.to_string(), "-10675199.02:48:05.4775808");
    }

    #[test]
    fn timespan_formats() {
        let t = ts(90.0, TICKS_PER_MINUTE);
        assert_eq!(tsf(&t, "hh\\:mm"), "01:30");
        assert_eq!(tsf(&ts(75.0, TICKS_PER_SECOND), "mm\\:ss"), "01:15");
        assert_eq!(tsf(&ts(1.5, TICKS_PER_DAY), "c"), "1.12:00:00");
        assert_eq!(tsf(&t, "g"), "1:30:00");
        assert_eq!(tsf(&ts(1500.0, TICKS_PER_MILLISECOND), "g"), "0:00:01.5");
        assert_eq!(tsf(&t, "G"), "0:01:30:00.0000000");
        assert_eq!(tsf(&ts(1.5, TICKS_PER_DAY), "%d' days 'h\\h"), "1 days 12h");
        assert_eq!(kind_of(t.format("hh:mm")), "FormatException");
        assert_eq!(kind_of(t.format("h")), "FormatException");
        assert_eq!(kind_of(t.format("hhh")), "FormatException");
    }

    #[test]
    fn timespan_construction_and_parts() {
        assert_eq!(
            TimeSpan::from_parts(0, 1, 2, 3, 0).map(|t| t.to_string()),
            Ok("01:02:03".into())
        );
        assert_eq!(
            TimeSpan::from_parts(0, 0, 90, 0, 0).map(|t| t.to_string()),
            Ok("01:30:00".into())
        );
        assert_eq!(
            TimeSpan::from_parts(2, 3, 4, 5, 0).map(|t| t.to_string()),
            Ok("2.03:04:05".into())
        );
        assert_eq!(ts(150.0, TICKS_PER_SECOND).total_minutes(), 2.5);
        assert_eq!(ts(3725.0, TICKS_PER_SECOND).minutes(), 2);
        assert_eq!(ts(1.0005, TICKS_PER_SECOND).ticks, 10_005_000);
        assert!(ts(61.0, TICKS_PER_MINUTE) > ts(1.0, TICKS_PER_HOUR));
        assert_eq!(
            kind_of(TimeSpan::from_double(f64::NAN, TICKS_PER_DAY)),
            "ArgumentOutOfRangeException"
        );
        assert_eq!(
            kind_of(TimeSpan::from_double(1e300, TICKS_PER_DAY)),
            "OverflowException"
        );
        assert_eq!(
            kind_of(TimeSpan::from_parts(i64::MAX, 0, 0, 0, 0)),
            "ArgumentOutOfRangeException"
        );
        let neg = TimeSpan::from_ticks(-(TICKS_PER_DAY + TICKS_PER_HOUR));
        assert_eq!((neg.days(), neg.hours()), (-1, -1));
        assert_eq!(kind_of(TimeSpan::MIN.negate()), "OverflowException");
    }

    #[test]
    fn timespan_parse() {
        assert_eq!(TimeSpan::parse("1:30").map(|t| t.total_minutes()), Ok(90.0));
        assert_eq!(
            TimeSpan::parse("1.02:03:04").map(|t| t.total_seconds()),
            Ok(93784.0)
        );
        assert_eq!(kind_of(TimeSpan::parse("25:00")), "OverflowException");
        // The table in the TimeSpan.Parse documentation.
        let ok = [
            ("0", "00:00:00"),
            ("14", "14.00:00:00"),
            ("1:2:3", "01:02:03"),
            ("0:0:0.250", "00:00:00.2500000"),
            ("10.20:30:40.50", "10.20:30:40.5000000"),
            ("99.23:59:59.9999999", "99.23:59:59.9999999"),
            ("0023:0059:0059.0099", "23:59:59.0099000"),
            ("23:0:0", "23:00:00"),
            ("0:59:0", "00:59:00"),
            ("10:0", "10:00:00"),
            ("0:10", "00:10:00"),
            ("10:20:0", "10:20:00"),
            ("0.12:00", "12:00:00"),
            ("10.12:00", "10.12:00:00"),
            (" -1:30 ", "-01:30:00"),
        ];
        for (input, want) in ok {
            assert_eq!(
                TimeSpan::parse(input).map(|t| t.to_string()),
                Ok(want.to_string()),
                "{input}"
            );
        }
        for bad in ["24:0:0", "0:60:0"] {
            assert_eq!(kind_of(TimeSpan::parse(bad)), "OverflowException", "{bad}");
        }
        for bad in ["10:", ":10", "10:20:", ".123", "10.", "10.12", "", "abc"] {
            assert_eq!(kind_of(TimeSpan::parse(bad)), "FormatException", "{bad}");
        }
    }
}
