//! `turnpike`: the command line for admins and CI.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use turnpike_diagnostics::{render_human, render_json, render_sarif, summary_line};

mod serve;

/// The gateway allocates many small, short-lived values per call; mimalloc's thread-local
/// free lists serve them faster than the system allocator (measured by the load script).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turnpike: API management that speaks Azure API Management's policy language.
#[derive(Parser, Debug)]
#[command(name = "turnpike", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check policy documents: one file, or every `*.xml` below a folder.
    Lint {
        /// A policy file or a folder of policy files.
        path: PathBuf,
        /// Output format: rustc-style text, a JSON array of diagnostics, or a SARIF 2.1.0 log.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit 1 when there are warnings, too.
        #[arg(long)]
        deny_warnings: bool,
        /// Read PATH as an APIOps artifact folder even without `apis/*/apiInformation.json`.
        #[arg(long)]
        artifacts: bool,
        /// An APIOps overrides file (`configuration.<env>.yaml`) for an artifact folder.
        #[arg(long, value_name = "FILE")]
        overrides: Option<PathBuf>,
    },
    /// Print the effective policy of one call: scopes merged through `<base/>`, fragments
    /// inlined, each statement labelled with the scope and file it came from.
    Explain {
        /// An APIOps artifact folder.
        dir: PathBuf,
        /// The API (folder name, or id for its current revision).
        #[arg(long)]
        api: String,
        /// The operation id.
        #[arg(long)]
        operation: String,
        /// The product whose context the call runs in.
        #[arg(long)]
        product: Option<String>,
        /// Output format: annotated XML, or JSON.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
        format: ExplainFormat,
        /// An APIOps overrides file (`configuration.<env>.yaml`).
        #[arg(long, value_name = "FILE")]
        overrides: Option<PathBuf>,
    },
    /// Run test files (`*.test.yaml`) below a path; prints each failure and a summary line.
    Test {
        /// A test file or a folder.
        path: PathBuf,
        /// The engine that runs the cases.
        #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
        engine: EngineArg,
        /// Output: failures and a summary line, or a JUnit XML report for CI.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
    },
    /// Serve an artifact folder over HTTP as APIM would.
    Run(serve::RunArgs),
    /// Manage subscription keys in the key database of a data folder.
    Keys(serve::KeysArgs),
    /// Compile one policy expression file (`@(...)` or `@{...}` as its text) and print a stage.
    Compile {
        /// A file holding one policy expression.
        file: PathBuf,
        /// What to print: the syntax tree or the typed IR.
        #[arg(long, value_enum)]
        emit: Emit,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// Native code where the JIT compiles the case, checked against the interpreter: every
    /// case runs on both and fails on any difference.
    Jit,
    /// The reference interpreter alone.
    Interp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Human,
    Junit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Emit {
    Ast,
    Ir,
    /// Cranelift IR of the JIT's native function (for bodies the JIT compiles).
    Clif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint {
            path,
            format,
            deny_warnings,
            artifacts,
            overrides,
        } => {
            let options = turnpike_sema::LintOptions {
                artifacts,
                overrides,
            };
            lint(&path, format, deny_warnings, &options)
        }
        Command::Explain {
            dir,
            api,
            operation,
            product,
            format,
            overrides,
        } => explain(
            &dir,
            &api,
            &operation,
            product.as_deref(),
            format,
            overrides.as_deref(),
        ),
        Command::Test {
            path,
            engine,
            format,
        } => test(&path, engine, format),
        Command::Compile { file, emit } => compile(&file, emit),
        Command::Run(args) => serve::run(args),
        Command::Keys(args) => serve::keys(args),
    }
}

#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
fn test(path: &std::path::Path, engine: EngineArg, format: TestFormat) -> ExitCode {
    if !path.exists() {
        eprintln!("error: `{}` does not exist", path.display());
        return ExitCode::from(2);
    }
    let engine = match engine {
        EngineArg::Interp => turnpike_testkit::Engine::Interp,
        EngineArg::Jit => turnpike_testkit::Engine::Jit,
    };
    let mut passed = 0;
    let mut failed = 0;
    let mut suites: Vec<(String, Vec<turnpike_testkit::Outcome>)> = Vec::new();
    for f in turnpike_testkit::test_files(path) {
        let outcomes = turnpike_testkit::run_file(&f, engine);
        for o in &outcomes {
            match &o.failure {
                None => passed += 1,
                Some(why) => {
                    failed += 1;
                    if format == TestFormat::Human {
                        println!("FAIL {}\n    {why}", o.id);
                    }
                }
            }
        }
        suites.push((f.display().to_string(), outcomes));
    }
    match format {
        TestFormat::Human => println!("{passed} passed, {failed} failed"),
        TestFormat::Junit => {
            print!("{}", junit(&suites));
            eprintln!("{passed} passed, {failed} failed");
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A JUnit XML report: one `<testsuite>` per test file.
fn junit(suites: &[(String, Vec<turnpike_testkit::Outcome>)]) -> String {
    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    let total: usize = suites.iter().map(|s| s.1.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|s| &s.1)
        .filter(|o| o.failure.is_some())
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"turnpike\" tests=\"{total}\" failures=\"{failures}\">\n"
    );
    for (file, outcomes) in suites {
        let f = outcomes.iter().filter(|o| o.failure.is_some()).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\">\n",
            esc(file),
            outcomes.len()
        ));
        for o in outcomes {
            let name = o.id.rsplit("::").next().unwrap_or(&o.id);
            match &o.failure {
                None => out.push_str(&format!(
                    "    <testcase classname=\"{}\" name=\"{}\"/>\n",
                    esc(file),
                    esc(name)
                )),
                Some(why) => {
                    let first = why.lines().next().unwrap_or_default();
                    out.push_str(&format!(
                        "    <testcase classname=\"{}\" name=\"{}\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        esc(file),
                        esc(name),
                        esc(first.trim()),
                        esc(why)
                    ));
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
fn compile(file: &std::path::Path, emit: Emit) -> ExitCode {
    use turnpike_syntax::offsets::OffsetMap;
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "error: cannot read `{}`: {}",
                file.display(),
                e.to_string().to_lowercase()
            );
            return ExitCode::from(2);
        }
    };
    let mut sources = turnpike_diagnostics::SourceMap::new();
    let id = sources.add(file.display().to_string(), text.as_str());
    let code = text.trim();
    let start = text.find(code).unwrap_or(0);
    if !(code.starts_with("@(") || code.starts_with("@{")) {
        eprintln!(
            "error: `{}` must hold one policy expression, `@(...)` or `@{{...}}`",
            file.display()
        );
        return ExitCode::from(2);
    }
    let map = OffsetMap::identity(start, code.len());
    let extent = turnpike_syntax::scan::csharp::code_extent(code);
    let (body, mut diags) = turnpike_syntax::parser::parse_code(id, code, &map, extent);
    let checked = body.as_ref().map(turnpike_typeck::check);
    if let Some(c) = &checked {
        diags.extend(c.diagnostics.iter().cloned());
    }
    for d in &diags {
        eprintln!("{}\n", render_human(d, &sources));
    }
    let out = match (emit, &body, &checked) {
        (Emit::Ast, Some(b), _) => turnpike_syntax::printer::print_body(b) + "\n",
        (Emit::Ir, _, Some(c)) if !c.has_errors() => {
            turnpike_ir::print::body(turnpike_ir::Library::get(), &c.body)
        }
        (Emit::Clif, _, Some(c)) if !c.has_errors() => match turnpike_jit::clif(&c.body) {
            Ok(text) => text,
            Err(why) => {
                eprintln!(
                    "error: the JIT cannot compile this body: {}\n  = help: it runs on the interpreter; `--emit ir` shows its IR",
                    why.0
                );
                return ExitCode::from(1);
            }
        },
        _ => return ExitCode::from(1),
    };
    print!("{out}");
    ExitCode::SUCCESS
}

#[expect(
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
fn lint(
    path: &std::path::Path,
    format: Format,
    deny_warnings: bool,
    options: &turnpike_sema::LintOptions,
) -> ExitCode {
    let report = match turnpike_sema::lint_path_with(path, options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: cannot read `{}`: {}",
                path.display(),
                e.to_string().to_lowercase()
            );
            return ExitCode::from(2);
        }
    };
    let summary = summary_line(
        report.files(),
        report.expressions,
        report.errors(),
        report.warnings(),
    );
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        Format::Human => {
            let mut text = String::new();
            for d in &report.diagnostics {
                text.push_str(&render_human(d, &report.sources));
                text.push_str("\n\n");
            }
            text.push_str(&summary);
            text.push('\n');
            out.write_all(text.as_bytes())
        }
        Format::Json | Format::Sarif => {
            eprintln!("{summary}");
            let mut text = if format == Format::Json {
                render_json(&report.diagnostics, &report.sources)
            } else {
                render_sarif(
                    &report.diagnostics,
                    &report.sources,
                    env!("CARGO_PKG_VERSION"),
                )
            };
            text.push('\n');
            out.write_all(text.as_bytes())
        }
    };
    if written.and_then(|()| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    if report.errors() > 0 || (deny_warnings && report.warnings() > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[expect(
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
fn explain(
    dir: &std::path::Path,
    api: &str,
    operation: &str,
    product: Option<&str>,
    format: ExplainFormat,
    overrides: Option<&std::path::Path>,
) -> ExitCode {
    use turnpike_sema::effective::{Documents, effective_policy, explain_json, explain_xml};
    if !dir.is_dir() {
        eprintln!("error: `{}` is not a folder", dir.display());
        return ExitCode::from(2);
    }
    let mut sources = turnpike_diagnostics::SourceMap::new();
    let (mut folder, mut diags) = turnpike_config::load(dir, &mut sources);
    if let Some(o) = overrides {
        diags.extend(folder.apply_overrides(o, &mut sources));
    }
    diags.extend(folder.apply_env(&|v| std::env::var(v).ok(), &mut sources));
    let (docs, doc_diags) = Documents::load(&folder, &mut sources);
    diags.extend(doc_diags);
    let (policy, merge_diags) =
        match effective_policy(&folder, &docs, &sources, api, operation, product) {
            Ok(r) => r,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
    diags.extend(merge_diags);
    diags.retain(turnpike_diagnostics::Diagnostic::is_error);
    for d in &diags {
        eprintln!("{}\n", render_human(d, &sources));
    }
    let text = match format {
        ExplainFormat::Human => explain_xml(&policy, &sources, dir),
        ExplainFormat::Json => {
            let value = serde_json::json!({
                "api": api,
                "operation": operation,
                "product": product,
                "sections": explain_json(&policy, &sources, dir),
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    if diags.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
