//! Random policy documents, built from real policies with random values and expressions, run
//! through the compiler and the driver: every run ends with a response status and never panics.

use proptest::prelude::*;
use turnpike_diagnostics::SourceMap;
use turnpike_interp::Options;
use turnpike_pipeline::run::{
    Backend, BackendError, BackendFuture, BackendRequest, BackendResponse,
};
use turnpike_pipeline::state::{HttpMessage, RequestState};

/// A backend that answers with a fixed outcome.
#[derive(Clone, Debug)]
struct Fixed(Result<BackendResponse, BackendError>);

impl Backend for Fixed {
    fn send<'a>(&'a self, _req: BackendRequest<'a>) -> BackendFuture<'a> {
        let a = self.0.clone();
        Box::pin(async move { a })
    }
}

/// Values: literals, good expressions, expressions that throw, and ones that do not compile.
const VALUES: &[&str] = &[
    "x",
    "",
    "42",
    "true",
    "@(context.Request.Headers.GetValueOrDefault(\"X-A\", \"none\"))",
    "@(context.Variables.GetValueOrDefault&lt;string&gt;(\"v\", \"d\"))",
    "@(int.Parse(\"nope\").ToString())",
    "@((string)context.Variables[\"missing\"])",
    "@(context.Request.Url.Query.GetValueOrDefault(\"q\", \"\").Length &gt; 2)",
    "@(1 / 0 == 1)",
    "@(\"a\" - 1)",
    "@{ var n = 0; for (int i = 0; i &lt; 5; i++) { n += i; } return n.ToString(); }",
    "@(context.LastError == null ? \"none\" : context.LastError.Reason)",
    "@(DateTime.UtcNow.ToString(\"o\"))",
    "@(JObject.Parse(\"{\\\"a\\\":1}\")[\"a\"].ToString())",
    "10.0.0.1",
    "::1",
];

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(VALUES).prop_map(str::to_string)
}

fn policy(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (value(), value()).prop_map(|(n, v)| format!("<set-variable name=\"v{}\" value=\"{v}\" />", n.len())),
        (value(), value(), prop::sample::select(&["override", "skip", "append", "delete"][..]))
            .prop_map(|(n, v, a)| format!("<set-header name=\"X-{}\" exists-action=\"{a}\"><value>{v}</value></set-header>", n.len())),
        (value(), prop::sample::select(&["override", "append", "delete"][..]))
            .prop_map(|(v, a)| format!("<set-query-parameter name=\"q\" exists-action=\"{a}\"><value>{v}</value></set-query-parameter>")),
        value().prop_map(|v| format!("<set-body>{v}</set-body>")),
        value().prop_map(|v| format!("<set-status code=\"{v}\" reason=\"R\" />")),
        value().prop_map(|v| format!("<rewrite-uri template=\"/r/{{id}}?x={}\" />", v.len())),
        value().prop_map(|v| format!("<trace source=\"t\"><message>{v}</message></trace>")),
        value().prop_map(|v| format!("<check-header name=\"X-A\" failed-check-httpcode=\"401\" failed-check-error-message=\"no\" ignore-case=\"true\"><value>{v}</value></check-header>")),
        value().prop_map(|v| format!("<ip-filter action=\"allow\"><address>{v}</address><address-range from=\"10.0.0.0\" to=\"10.0.0.255\" /></ip-filter>")),
        value().prop_map(|v| format!("<set-backend-service base-url=\"http://b.example.com/{}\" />", v.len())),
        Just("<mock-response status-code=\"200\" content-type=\"application/json\" />".to_string()),
        Just("<rate-limit calls=\"1\" renewal-period=\"60\" />".to_string()),
        value().prop_map(|v| format!("<return-response><set-status code=\"418\" reason=\"T\" /><set-body>{v}</set-body></return-response>")),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        4 => leaf,
        1 => (value(), prop::collection::vec(policy(depth - 1), 0..3), prop::collection::vec(policy(depth - 1), 0..2))
            .prop_map(|(c, w, o)| format!("<choose><when condition=\"{c}\">{}</when><otherwise>{}</otherwise></choose>", w.join(""), o.join(""))),
    ]
    .boxed()
}

fn section() -> impl Strategy<Value = String> {
    prop::collection::vec(policy(2), 0..5).prop_map(|v| v.join("\n"))
}

fn backend() -> impl Strategy<Value = Fixed> {
    prop_oneof![
        (200i32..600).prop_map(|s| Fixed(Ok(BackendResponse {
            status: s,
            reason: String::new(),
            message: HttpMessage::default(),
        }))),
        Just(Fixed(Err(BackendError::Timeout))),
        Just(Fixed(Err(BackendError::Connection("refused".into())))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_pipelines_answer_and_never_panic(
        inbound in section(),
        outbound in section(),
        on_error in section(),
        forward in any::<bool>(),
        backend in backend(),
    ) {
        let text = format!(
            "<policies><inbound>{inbound}</inbound><backend>{}</backend><outbound>{outbound}</outbound><on-error>{on_error}</on-error></policies>",
            if forward { "<forward-request timeout=\"5\" fail-on-error-status-code=\"true\" />" } else { "<base />" }
        );
        let mut sources = SourceMap::new();
        let id = sources.add("t.xml", text.as_str());
        let (doc, _) = turnpike_syntax::parse_document(id, &text);
        let (pipeline, _) = turnpike_pipeline::compile_document(&doc);
        let mut st = RequestState::new("GET", "https://api.example.com/items/7?q=abc");
        st.matched = vec![("id".into(), "7".into())];
        st.request.headers = vec![("X-A".into(), vec!["abc".into()])].into();
        turnpike_pipeline::block_on(turnpike_pipeline::run(&pipeline, &mut st, &backend, &Options::default()));
        prop_assert!((100..600).contains(&st.status), "status {} for {text}", st.status);
    }
}

/// The driver's future can move between threads: no engine frame lives across an `await`.
#[test]
fn the_driver_future_is_send() {
    fn send<T: Send>(_: &T) {}
    let pipeline = turnpike_pipeline::Pipeline::default();
    let mut st = RequestState::new("GET", "https://api.example.com/");
    let backend = Fixed(Err(BackendError::Timeout));
    let opts = Options::default();
    let fut = turnpike_pipeline::run(&pipeline, &mut st, &backend, &opts);
    send(&fut);
    drop(fut);
}
