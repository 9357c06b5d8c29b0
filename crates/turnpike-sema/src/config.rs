//! `turnpike.toml` at the root of a linted tree: per-code severities.
//!
//! ```toml
//! [severity]
//! unresolved-named-value = "error"   # a code's name or id
//! element-order = "off"
//! TP0208 = "warning"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use turnpike_diagnostics::{Code, Diagnostic, Severity, SourceMap, Span, codes};

/// What a code's diagnostics become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Reported as an error.
    Error,
    /// Reported as a warning.
    Warning,
    /// Not reported.
    Off,
}

/// The configuration of one linted tree.
#[derive(Debug, Default)]
pub struct Config {
    levels: BTreeMap<&'static str, Level>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

/// The name of the configuration file.
pub const CONFIG_FILE: &str = "turnpike.toml";

impl Config {
    /// Reads `turnpike.toml` from `root` if there is one. Problems become diagnostics in
    /// `sources` (the file is added to it) and the rest of the file still applies.
    pub fn load(root: &Path, sources: &mut SourceMap, diags: &mut Vec<Diagnostic>) -> Config {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Config::default(),
            Err(e) => {
                let file = sources.add(path.display().to_string(), "");
                diags.push(
                    Diagnostic::new(
                        &codes::INVALID_CONFIG,
                        Span::new(file, 0, 0),
                        format!(
                            "cannot read `{CONFIG_FILE}`: {}",
                            e.to_string().to_lowercase()
                        ),
                    )
                    .with_help("make the file readable, or remove it"),
                );
                return Config::default();
            }
        };
        let text = match String::from_utf8(text) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let file = sources.add(path.display().to_string(), lossy);
                diags.push(
                    Diagnostic::new(
                        &codes::INVALID_CONFIG,
                        Span::new(file, at, at + 3),
                        format!("`{CONFIG_FILE}` is not UTF-8 text"),
                    )
                    .with_help("save the file as UTF-8"),
                );
                return Config::default();
            }
        };
        let file = sources.add(path.display().to_string(), text.as_str());
        Config::parse(&text, |start, end, message, help| {
            diags.push(
                Diagnostic::new(&codes::INVALID_CONFIG, Span::new(file, start, end), message)
                    .with_help(help),
            );
        })
    }

    /// Parses configuration text; `report(start, end, message, help)` receives problems.
    pub fn parse(text: &str, mut report: impl FnMut(usize, usize, String, String)) -> Config {
        let raw: Raw = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                report(
                    span.start,
                    span.end,
                    format!("`{CONFIG_FILE}` is not valid: {}", e.message()),
                    "the file holds a `[severity]` table of `code = \"error\" | \"warning\" | \"off\"`".into(),
                );
                return Config::default();
            }
        };
        let mut levels = BTreeMap::new();
        for (key, value) in raw.severity {
            let (at, value_at) = entry_position(text, &key, &value);
            let Some(code) = codes::lookup(&key) else {
                report(
                    at,
                    at + key.len(),
                    format!("`{key}` is not a diagnostic code"),
                    "use a code's name (`unresolved-named-value`) or id (`TP0301`); spec/07-errors.md lists them".into(),
                );
                continue;
            };
            let level = match value.as_str() {
                "error" => Level::Error,
                "warning" => Level::Warning,
                "off" => Level::Off,
                other => {
                    report(
                        value_at,
                        value_at + other.len() + 2,
                        format!("`{other}` is not a severity"),
                        "write `\"error\"`, `\"warning\"` or `\"off\"`".into(),
                    );
                    continue;
                }
            };
            levels.insert(code.id, level);
        }
        Config { levels }
    }

    /// The level configured for a code, if any.
    pub fn level(&self, code: &Code) -> Option<Level> {
        self.levels.get(code.id).copied()
    }

    /// Applies the configured severities: changes or drops diagnostics.
    pub fn apply(&self, diags: &mut Vec<Diagnostic>) {
        diags.retain_mut(|d| match self.level(d.code) {
            Some(Level::Off) => false,
            Some(Level::Error) => {
                d.severity = Severity::Error;
                true
            }
            Some(Level::Warning) => {
                d.severity = Severity::Warning;
                true
            }
            None => true,
        });
    }
}

/// Where `key = "value"` stands: the offsets of the key and of the value's opening quote.
/// The key is looked for at the start of a line (bare or quoted), so comments and longer keys
/// that contain it do not match.
fn entry_position(text: &str, key: &str, value: &str) -> (usize, usize) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lead = line.len() - line.trim_start().len();
        let rest = &line[lead..];
        let key_len = if rest.starts_with(key) {
            Some(key.len())
        } else if rest.starts_with(&format!("\"{key}\"")) {
            Some(key.len() + 2)
        } else {
            None
        };
        if let Some(len) = key_len
            && rest[len..].trim_start().starts_with('=')
        {
            let key_at = offset + lead + usize::from(key_len != Some(key.len()));
            let value_at = line
                .find(&format!("\"{value}\""))
                .map_or(key_at, |i| offset + i);
            return (key_at, value_at);
        }
        offset += line.len();
    }
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_by_name_and_id() {
        let mut problems = Vec::new();
        let c = Config::parse(
            "[severity]\nunresolved-named-value = \"error\"\nTP0419 = \"off\"\nnope = \"error\"\nmalformed-xml = \"loud\"\n",
            |_, _, m, _| problems.push(m),
        );
        assert_eq!(c.level(&codes::UNRESOLVED_NAMED_VALUE), Some(Level::Error));
        assert_eq!(c.level(&codes::ELEMENT_ORDER), Some(Level::Off));
        assert_eq!(c.level(&codes::MALFORMED_XML), None);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn positions_skip_comments_and_prefixes() {
        let text = "# TP0301 and element-order\n[severity]\nTP0301 = \"off\"\nTP03 = \"off\"\nelement-order = \"loud\"\n";
        let mut spans = Vec::new();
        Config::parse(text, |s, e, _, _| spans.push(&text[s..e]));
        assert_eq!(spans, ["TP03", "\"loud\""]);
    }

    #[test]
    fn bad_toml_is_reported() {
        let mut problems = Vec::new();
        Config::parse("[severity\n", |_, _, m, _| problems.push(m));
        assert_eq!(problems.len(), 1);
    }
}
