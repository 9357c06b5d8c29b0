//! The `context` object a policy expression sees, as plain data the caller fills in.

use std::rc::Rc;

use crate::dotnet::datetime::{DateTime, TimeSpan};
use crate::value::{Dict, Value};

/// A message's headers: names keep their case, lookups ignore it.
#[derive(Clone, Debug, Default)]
pub struct Headers(pub std::sync::Arc<Vec<(String, Vec<String>)>>);

impl Headers {
    /// The values of a header.
    pub fn get(&self, name: &str) -> Option<&Vec<String>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// A URL split as APIM's `IUrl`.
#[derive(Clone, Debug, Default)]
pub struct Url {
    /// `https`
    pub scheme: String,
    /// `api.example.com`
    pub host: String,
    /// The port (default for the scheme when not written).
    pub port: i32,
    /// `/orders/1`
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, Vec<String>)>,
}

impl Url {
    /// `https://localhost/`, without parsing (a default context is built often).
    pub fn localhost() -> Url {
        Url {
            scheme: "https".into(),
            host: "localhost".into(),
            port: 443,
            path: "/".into(),
            query: Vec::new(),
        }
    }

    /// Parses an absolute URL.
    pub fn parse(text: &str) -> Url {
        let (scheme, rest) = text.split_once("://").unwrap_or(("https", text));
        let (authority, path_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => match rest.find('?') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            },
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if p.parse::<i32>().is_ok() => (h.to_string(), p.parse().unwrap_or(0)),
            _ => (
                authority.to_string(),
                if scheme.eq_ignore_ascii_case("http") {
                    80
                } else {
                    443
                },
            ),
        };
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_query, ""),
        };
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = percent_decode(k);
            let v = percent_decode(v);
            match params.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&k)) {
                Some((_, vs)) => vs.push(v),
                None => params.push((k, vec![v])),
            }
        }
        Url {
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
            query: params,
        }
    }

    /// `?a=1&b=2`, or empty.
    pub fn query_string(&self) -> String {
        let mut out = String::new();
        for (k, vs) in &self.query {
            for v in vs {
                out.push(if out.is_empty() { '?' } else { '&' });
                out.push_str(&percent_encode(k));
                out.push('=');
                out.push_str(&percent_encode(v));
            }
        }
        out
    }

    /// The whole URL.
    pub fn to_text(&self) -> String {
        let default = (self.scheme == "http" && self.port == 80)
            || (self.scheme == "https" && self.port == 443);
        let port = if default {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!(
            "{}://{}{port}{}{}",
            self.scheme,
            self.host,
            self.path,
            self.query_string()
        )
    }
}

/// Percent-encodes what may not appear as is in a query component.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'!'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b','
            | b';'
            | b':'
            | b'@'
            | b'/'
            | b'?' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // Two hex digits, read as bytes: slicing the text could cut a character in two.
            b'%' if i + 2 < bytes.len() => match hex_pair(bytes[i + 1], bytes[i + 2]) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte two hex digits spell (`%+f` is not one).
fn hex_pair(h: u8, l: u8) -> Option<u8> {
    let d = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    Some(d(h)? * 16 + d(l)?)
}

/// A request or response.
#[derive(Clone, Debug, Default)]
pub struct Message {
    /// Headers.
    pub headers: Headers,
    /// The body text, when there is one.
    pub body: Option<String>,
    /// Status code (responses).
    pub status: i32,
    /// Reason phrase (responses).
    pub reason: String,
}

/// Simple named things (`Api`, `Operation`, `Product`, `Subscription`, `User`, groups).
#[derive(Clone, Debug, Default)]
pub struct Named {
    /// Properties by name (`Id`, `Name`, `Path`, ...).
    pub props: Vec<(String, Value)>,
}

impl Named {
    /// A property by name; `null` when absent.
    pub fn get(&self, name: &str) -> Value {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    }
}

/// Everything `context` exposes.
#[derive(Debug)]
pub struct Context {
    /// `context.Variables`
    pub variables: std::cell::RefCell<Dict>,
    /// `context.Request` (method, URL, headers, body).
    pub request: Message,
    /// The request method.
    pub method: String,
    /// `context.Request.Url`
    pub url: std::sync::Arc<Url>,
    /// `context.Request.OriginalUrl`
    pub original_url: std::sync::Arc<Url>,
    /// `context.Request.IpAddress`
    pub ip_address: String,
    /// `context.Request.MatchedParameters`
    pub matched_parameters: Vec<(String, String)>,
    /// `context.Response`
    pub response: Message,
    /// `context.Api`
    pub api: Option<Named>,
    /// `context.Operation`
    pub operation: Option<Named>,
    /// `context.Product`
    pub product: Option<Named>,
    /// `context.Subscription`
    pub subscription: Option<Named>,
    /// `context.User`
    pub user: Option<Named>,
    /// Group names and ids of the user.
    pub groups: Vec<Named>,
    /// `context.Deployment`
    pub deployment: Named,
    /// `context.LastError`
    pub last_error: Option<Named>,
    /// `context.RequestId`
    pub request_id: u128,
    /// `context.Timestamp`
    pub timestamp: Option<DateTime>,
    /// `context.Elapsed`
    pub elapsed: TimeSpan,
    /// `context.Tracing`
    pub tracing: bool,
    /// Messages written with `context.Trace`.
    pub traces: std::cell::RefCell<Vec<String>>,
}

/// Which part of `context` an object stands for.
#[derive(Clone, Debug)]
pub enum HostRef {
    /// `context`
    Context(Rc<Context>),
    /// `context.Request` (false) or `context.Response` (true).
    Message(Rc<Context>, bool),
    /// Headers of the request (false) or response (true).
    Headers(Rc<Context>, bool),
    /// A message body: request (false) or response (true).
    Body(Rc<Context>, bool),
    /// `Url` (false) or `OriginalUrl` (true).
    Url(Rc<Context>, bool),
    /// A URL's `Query`.
    Query(Rc<Context>, bool),
    /// `MatchedParameters`
    Matched(Rc<Context>),
    /// `Variables`
    Variables(Rc<Context>),
    /// An API, operation, product, subscription, user, group, deployment or last error.
    Named(Rc<Named>),
}

impl Default for Context {
    fn default() -> Self {
        Context {
            variables: std::cell::RefCell::new(Dict::new(false)),
            request: Message::default(),
            method: "GET".into(),
            url: Url::localhost().into(),
            original_url: Url::localhost().into(),
            ip_address: "127.0.0.1".into(),
            matched_parameters: Vec::new(),
            response: Message {
                status: 200,
                reason: "OK".into(),
                ..Message::default()
            },
            api: None,
            operation: None,
            product: None,
            subscription: None,
            user: None,
            groups: Vec::new(),
            deployment: Named::default(),
            last_error: None,
            request_id: 0,
            timestamp: None,
            elapsed: TimeSpan { ticks: 0 },
            tracing: false,
            traces: std::cell::RefCell::new(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_next_to_multibyte_text_do_not_panic() {
        let u = Url::parse("https://h/p?a=%a\u{e9}x&b=%+f&c=%41");
        let v: Vec<(String, Vec<String>)> = u.query;
        assert_eq!(v[0].1, vec!["%a\u{e9}x".to_string()]);
        assert_eq!(v[1].1, vec!["% f".to_string()]);
        assert_eq!(v[2].1, vec!["A".to_string()]);
    }

    #[test]
    fn localhost_is_what_parsing_gives() {
        let a = Url::localhost();
        let b = Url::parse("https://localhost/");
        assert_eq!(
            (a.scheme, a.host, a.port, a.path, a.query),
            (b.scheme, b.host, b.port, b.path, b.query)
        );
    }
}
