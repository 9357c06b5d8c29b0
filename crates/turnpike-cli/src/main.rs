//! `turnpike`: the command line for admins and CI.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use turnpike_diagnostics::{render_human, render_json, render_sarif, summary_line};

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
    },
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
        } => lint(&path, format, deny_warnings),
    }
}

#[expect(
    clippy::print_stderr,
    reason = "the command line reports to the terminal"
)]
fn lint(path: &std::path::Path, format: Format, deny_warnings: bool) -> ExitCode {
    let report = match turnpike_sema::lint_path(path) {
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
