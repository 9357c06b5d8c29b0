//! Every corpus document runs as a whole pipeline on a generic request with a mocked backend:
//! each completes, stops on a policy Turnpike cannot run (`PolicyNotSupported`), or ends in an
//! error APIM would also give, and none panics.

use std::collections::BTreeMap;
use std::path::PathBuf;

use turnpike_diagnostics::SourceMap;
use turnpike_interp::Options;
use turnpike_pipeline::run::{Backend, BackendFuture, BackendRequest, BackendResponse};
use turnpike_pipeline::state::{HttpMessage, RequestState};

struct Ok200;

impl Backend for Ok200 {
    fn send<'a>(&'a self, _req: BackendRequest<'a>) -> BackendFuture<'a> {
        Box::pin(async {
            Ok(BackendResponse {
                status: 200,
                reason: "OK".into(),
                message: HttpMessage {
                    headers: vec![("Content-Type".into(), vec!["application/json".into()])].into(),
                    body: Some(r#"{"status":"ok","items":[1,2,3]}"#.into()),
                },
            })
        })
    }
}

#[test]
fn corpus_documents_run_without_panicking() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let files = turnpike_syntax::files::policy_files(&dir).expect("corpus");
    let mut sources = SourceMap::new();
    let (mut completed, mut unsupported, mut other) = (0, 0, 0);
    let mut by_policy: BTreeMap<String, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let id = sources.add(f.display().to_string(), text.as_str());
        let (doc, _) = turnpike_syntax::parse_document(id, &text);
        let (pipeline, _) = turnpike_pipeline::compile_document(&doc);
        let mut st = RequestState::new("POST", "https://api.contoso.com/orders/42?expand=items");
        st.request = HttpMessage {
            headers: vec![
                ("Content-Type".into(), vec!["application/json".into()]),
                (
                    "Authorization".into(),
                    vec!["Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln".into()],
                ),
                (
                    "Ocp-Apim-Subscription-Key".into(),
                    vec!["0123456789abcdef".into()],
                ),
            ]
            .into(),
            body: Some(r#"{"id":42,"name":"Ada"}"#.into()),
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            turnpike_pipeline::block_on(turnpike_pipeline::run(
                &pipeline,
                &mut st,
                &Ok200,
                &Options::default(),
            ));
            st
        }));
        let st = result.unwrap_or_else(|_| panic!("{} panicked", f.display()));
        match &st.last_error {
            None => completed += 1,
            Some(e) if e.reason == "PolicyNotSupported" => {
                unsupported += 1;
                *by_policy.entry(e.source.clone()).or_default() += 1;
            }
            Some(e) => {
                other += 1;
                *reasons
                    .entry(format!("{} {}", e.source, e.reason))
                    .or_default() += 1;
            }
        }
    }
    let mut top: Vec<_> = by_policy.into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    let mut why: Vec<_> = reasons.into_iter().collect();
    why.sort_by_key(|e| std::cmp::Reverse(e.1));
    let report = format!(
        "{} documents: {completed} completed, {unsupported} stopped on PolicyNotSupported, {other} ended in another error\nunsupported policies:\n{}\nother errors:\n{}\n",
        files.len(),
        top.iter()
            .map(|(k, n)| format!("  {n:4} {k}"))
            .collect::<Vec<_>>()
            .join("\n"),
        why.iter()
            .take(20)
            .map(|(k, n)| format!("  {n:4} {k}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    std::fs::write(
        std::env::temp_dir().join("turnpike-corpus-pipeline.txt"),
        &report,
    )
    .ok();
    assert_eq!(completed + unsupported + other, files.len(), "{report}");
    assert!(completed > 0, "{report}");
}
