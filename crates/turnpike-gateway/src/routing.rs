//! Routing as APIM routes: the API by its path on whole segments, then its version and
//! revision, then the operation by method and URL template.

use crate::generation::{ApiEntry, Generation, OperationEntry, Versioning};

/// One piece of a template segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Literal text (matched without regard to ASCII case).
    Lit(String),
    /// `{name}`: one or more characters up to the next literal.
    Param(String),
}

/// One template segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    /// Pieces of one path segment.
    Pieces(Vec<Piece>),
    /// `{*name}`: the rest of the path, slashes included.
    Rest(String),
}

/// A parsed OpenAPI URL template (`/orders/{id}?expand={expand}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    segs: Vec<Seg>,
    /// Query parameters the template requires: `(name, Some(param))` for `name={param}`,
    /// `(name, None)` with the literal value otherwise.
    query: Vec<(String, QueryPart)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum QueryPart {
    Param(String),
    Lit(String),
}

impl Template {
    /// Parses a template.
    pub fn parse(text: &str) -> Template {
        let (path, query) = text.split_once('?').unwrap_or((text, ""));
        let segs = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if let Some(name) = s.strip_prefix("{*").and_then(|r| r.strip_suffix('}')) {
                    return Seg::Rest(name.to_string());
                }
                let mut pieces = Vec::new();
                let mut rest = s;
                while !rest.is_empty() {
                    match rest.find('{') {
                        Some(0) => match rest.find('}') {
                            Some(end) => {
                                pieces.push(Piece::Param(rest[1..end].to_string()));
                                rest = &rest[end + 1..];
                            }
                            None => {
                                pieces.push(Piece::Lit(rest.to_string()));
                                rest = "";
                            }
                        },
                        Some(i) => {
                            pieces.push(Piece::Lit(rest[..i].to_string()));
                            rest = &rest[i..];
                        }
                        None => {
                            pieces.push(Piece::Lit(rest.to_string()));
                            rest = "";
                        }
                    }
                }
                Seg::Pieces(pieces)
            })
            .collect();
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let part = match v.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                    Some(name) => QueryPart::Param(name.to_string()),
                    None => QueryPart::Lit(v.to_string()),
                };
                (k.to_string(), part)
            })
            .collect();
        Template { segs, query }
    }

    /// Matches path segments and the query; gives the parameters and a specificity score
    /// (literal characters matched), or `None`.
    pub fn matches(
        &self,
        path: &[&str],
        query: &[(String, String)],
    ) -> Option<(Vec<(String, String)>, usize)> {
        let mut params = Vec::new();
        let mut score = 0;
        let mut i = 0;
        for seg in &self.segs {
            match seg {
                Seg::Rest(name) => {
                    params.push((name.clone(), path[i.min(path.len())..].join("/")));
                    i = path.len();
                    break;
                }
                Seg::Pieces(pieces) => {
                    let s = path.get(i)?;
                    score += match_pieces(pieces, s, &mut params)?;
                    i += 1;
                }
            }
        }
        if i != path.len() {
            return None;
        }
        for (k, part) in &self.query {
            let v = query.iter().find(|(n, _)| n == k).map(|(_, v)| v)?;
            match part {
                QueryPart::Param(name) => params.push((name.clone(), v.clone())),
                QueryPart::Lit(l) => {
                    if v != l {
                        return None;
                    }
                    score += l.len() + 1;
                }
            }
        }
        Some((params, score))
    }
}

/// Matches one segment; gives the number of literal characters.
fn match_pieces(pieces: &[Piece], s: &str, params: &mut Vec<(String, String)>) -> Option<usize> {
    match pieces.split_first() {
        None => s.is_empty().then_some(0),
        Some((Piece::Lit(l), rest)) => {
            let head = s.get(..l.len())?;
            if !head.eq_ignore_ascii_case(l) {
                return None;
            }
            Some(l.len() + match_pieces(rest, &s[l.len()..], params)?)
        }
        Some((Piece::Param(name), rest)) => {
            // The parameter takes at least one character, up to where the rest matches;
            // the shortest match wins (`{a}.{b}` on `x.y.z` gives `a = x`).
            for end in 1..=s.len() {
                if !s.is_char_boundary(end) {
                    continue;
                }
                let mark = params.len();
                params.push((name.clone(), percent_decode(&s[..end])));
                if let Some(n) = match_pieces(rest, &s[end..], params) {
                    return Some(n);
                }
                params.truncate(mark);
            }
            None
        }
    }
}

/// `%xx` escapes decoded (invalid ones kept); the result is UTF-8 text, lossily.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Template parameters by name, in template order.
type Params = Vec<(String, String)>;

/// The parts of a request routing looks at.
#[allow(missing_debug_implementations)]
pub struct RouteInput<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// The path, starting with `/`.
    pub path: &'a str,
    /// Decoded query parameters in order.
    pub query: &'a [(String, String)],
    /// A request header by name (any case).
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// `http` or `https`.
    pub scheme: &'a str,
}

/// A matched call.
#[derive(Debug)]
pub struct Route<'g> {
    /// The API revision.
    pub api: &'g ApiEntry,
    /// The operation.
    pub operation: &'g OperationEntry,
    /// Template parameters.
    pub matched: Vec<(String, String)>,
    /// How many bytes of the request path matched the API (its path, version segment and
    /// `;rev=`); the backend gets the rest.
    pub prefix_len: usize,
}

/// Why routing failed.
#[derive(Debug, PartialEq, Eq)]
pub enum NoRoute {
    /// No API or no operation matches.
    NotFound,
}

/// Finds the API revision and operation of a request.
pub fn route<'g>(g: &'g Generation, input: &RouteInput<'_>) -> Result<Route<'g>, NoRoute> {
    let segs: Vec<&str> = input.path.split('/').filter(|s| !s.is_empty()).collect();
    for api in &g.apis {
        let Some((rest_at, rev)) = match_api_path(&api.path, &segs) else {
            continue;
        };
        let mut rest_at = rest_at;
        // The version.
        let version_ok = match &api.versioning {
            Versioning::None => true,
            Versioning::Segment => {
                if api.version.is_empty() {
                    true
                } else if segs
                    .get(rest_at)
                    .is_some_and(|s| s.eq_ignore_ascii_case(&api.version))
                {
                    rest_at += 1;
                    true
                } else {
                    false
                }
            }
            Versioning::Query(name) => {
                let v = input.query.iter().find(|(k, _)| k == name).map(|(_, v)| v);
                match v {
                    Some(v) => v.eq_ignore_ascii_case(&api.version),
                    None => api.version.is_empty(),
                }
            }
            Versioning::Header(name) => match (input.header)(name) {
                Some(v) => v.trim().eq_ignore_ascii_case(&api.version),
                None => api.version.is_empty(),
            },
        };
        if !version_ok {
            continue;
        }
        // The revision: `;rev=n` picks that one, otherwise the current one.
        let rev_ok = match rev {
            Some(n) => api.revision == n,
            None => api.is_current,
        };
        if !rev_ok {
            continue;
        }
        if !api.protocols.is_empty() && !api.protocols.iter().any(|p| p == input.scheme) {
            continue;
        }
        let rest = &segs[rest_at..];
        let mut best: Option<(&OperationEntry, Params, usize)> = None;
        for op in &api.operations {
            if !op.method.eq_ignore_ascii_case(input.method) {
                continue;
            }
            if let Some((params, score)) = op.template.matches(rest, input.query)
                && best.as_ref().is_none_or(|(_, _, s)| score > *s)
            {
                best = Some((op, params, score));
            }
        }
        return match best {
            Some((operation, matched, _)) => Ok(Route {
                api,
                operation,
                matched,
                prefix_len: segments_len(input.path, rest_at),
            }),
            None => Err(NoRoute::NotFound),
        };
    }
    Err(NoRoute::NotFound)
}

/// The byte length of the first `n` non-empty segments of `path`, with their slashes.
fn segments_len(path: &str, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let mut seen = 0;
    let mut in_segment = false;
    for (i, b) in path.bytes().enumerate() {
        if b == b'/' {
            if in_segment {
                seen += 1;
                if seen == n {
                    return i;
                }
            }
            in_segment = false;
        } else {
            in_segment = true;
        }
    }
    path.len()
}

/// Whether the request's segments start with the API path (whole segments; the last one may
/// carry `;rev=n`). Gives where the rest starts and the revision asked for.
fn match_api_path(api: &[String], segs: &[&str]) -> Option<(usize, Option<u32>)> {
    if segs.len() < api.len() {
        return None;
    }
    let mut rev = None;
    for (i, want) in api.iter().enumerate() {
        let mut got = segs[i];
        if i + 1 == api.len()
            && let Some((head, r)) = got.split_once(";rev=")
        {
            rev = Some(r.parse().ok()?);
            got = head;
        }
        if !got.eq_ignore_ascii_case(want) {
            return None;
        }
    }
    Some((api.len(), rev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(t: &str, path: &str, q: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let q: Vec<(String, String)> = q
            .iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect();
        Template::parse(t).matches(&segs, &q).map(|(p, _)| p)
    }

    fn p(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect(),
        )
    }

    #[test]
    fn templates() {
        assert_eq!(m("/orders/{id}", "/orders/42", &[]), p(&[("id", "42")]));
        assert_eq!(m("/orders/{id}", "/orders", &[]), None);
        assert_eq!(m("/orders/{id}", "/orders/42/x", &[]), None);
        assert_eq!(m("/", "/", &[]), p(&[]));
        assert_eq!(m("/", "", &[]), p(&[]));
        assert_eq!(m("/ORDERS", "/orders/", &[]), p(&[]));
        assert_eq!(
            m("/files/{name}.{ext}", "/files/a.tar.gz", &[]),
            p(&[("name", "a"), ("ext", "tar.gz")])
        );
        assert_eq!(
            m("/blob/{*path}", "/blob/a/b/c", &[]),
            p(&[("path", "a/b/c")])
        );
        assert_eq!(
            m("/search?q={q}", "/search", &[("q", "x")]),
            p(&[("q", "x")])
        );
        assert_eq!(m("/search?q={q}", "/search", &[]), None);
        assert_eq!(m("/a/{b}", "/a/x%20y", &[]), p(&[("b", "x y")]));
    }

    #[test]
    fn literal_beats_parameter() {
        let segs = ["orders", "latest"];
        let lit = Template::parse("/orders/latest").matches(&segs, &[]);
        let par = Template::parse("/orders/{id}").matches(&segs, &[]);
        assert!(lit.expect("lit").1 > par.expect("par").1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any template against any path and query: an answer, never a panic; a match's
        /// parameters are the template's names.
        #[test]
        fn matching_never_panics(
            template in "[/{}*a-zé.%;=?&]{0,24}",
            path in "[/a-zé.%;=0-9A-F]{0,32}",
            q in proptest::collection::vec(("[a-zé%]{0,3}", "[a-zé%=]{0,3}"), 0..3),
        ) {
            let t = Template::parse(&template);
            let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if let Some((params, _)) = t.matches(&segs, &q) {
                for (name, _) in params {
                    proptest::prop_assert!(template.contains(&name));
                }
            }
            let _ = segments_len(&path, segs.len());
            let _ = percent_decode(&path);
            let api = vec!["a".to_string()];
            let _ = match_api_path(&api, &segs);
        }
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(segments_len("/a/b/c", 0), 0);
        assert_eq!(segments_len("/a/b/c", 1), 2);
        assert_eq!(segments_len("/a/b/c", 2), 4);
        assert_eq!(segments_len("/a/b", 2), 4);
        assert_eq!(segments_len("//a//b/", 2), 6);
        assert_eq!(segments_len("/a;rev=2/x", 1), 8);
    }

    #[test]
    fn api_paths_match_whole_segments() {
        let api = vec!["basic-api".to_string()];
        assert_eq!(match_api_path(&api, &["basic-api", "x"]), Some((1, None)));
        assert_eq!(match_api_path(&api, &["basic-apix"]), None);
        assert_eq!(
            match_api_path(&api, &["basic-api;rev=3"]),
            Some((1, Some(3)))
        );
        assert_eq!(match_api_path(&api, &["basic-api;rev=x"]), None);
        assert_eq!(match_api_path(&[], &["anything"]), Some((0, None)));
    }
}
