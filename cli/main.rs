//! The `driftaudit` binary: argument parsing, commands and exit codes over the
//! library in `src/`.

mod args;
mod demo;
mod history;
mod logging;
mod manual;
mod progress;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use driftaudit::diag::{render, render_with_source, Code, Place, RenderOptions};
use driftaudit::model::InputError;
use driftaudit::policy::controls::under_prefix;
use driftaudit::policy::library::builtin_text;
use driftaudit::policy::testing::{run_tests, Outcome};
use driftaudit::policy::{builtin_policy_files, load_baselines, policy_files_in, PolicySet};
use driftaudit::printable::printable;
use driftaudit::report::{self, exit, text};

use args::{Cli, Command, Format, PolicyCommand, RenderArgs, ReportFormat};

/// A line on standard error; a closed or full stderr must not abort the scan
/// (the exit code still tells the result).
macro_rules! warn {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

// The global allocator is mimalloc, declared by regorus (feature
// `allocator-memory-limits`): policy evaluation allocates and frees many small
// values, mimalloc roughly halves the time spent on that (docs/benchmarks.md),
// and regorus's build of it counts live bytes, which bounds policy memory.

/// Set when the process started with standard output closed (`>&-`). Rust's
/// runtime then quietly reopens it on `/dev/null` before `main`, and the report
/// would vanish behind a clean exit code; so the descriptor is checked earlier,
/// from an ELF constructor that runs before the Rust runtime starts.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static CHECK_STDOUT_AT_START: extern "C" fn() = check_stdout_at_start;

#[cfg(target_os = "linux")]
extern "C" fn check_stdout_at_start() {
    // SAFETY: fcntl(F_GETFD) only queries the descriptor table.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

fn main() -> ExitCode {
    // First, before any thread: a signal must remove the private scratch
    // directories (plaintext Secrets) and kill kustomize.
    driftaudit::scratch::install_signal_cleanup();
    // regorus builds anyhow errors on ordinary paths (an undefined lookup);
    // with RUST_BACKTRACE=1 in a developer's shell each would capture a
    // backtrace, about a tenth of a scan's time. Panics keep their backtraces
    // (RUST_BACKTRACE); error values take none unless RUST_LIB_BACKTRACE asks.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = Cli::parse();
    let verbosity = logging::Verbosity {
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    logging::init(verbosity);
    let code = match cli.command {
        Command::Scan(scan) => run_scan(scan, true),
        Command::Diff(scan) => run_scan(scan, false),
        Command::Capture(scan) => capture(scan),
        Command::Waive(waive) => waive_entry(waive),
        Command::Policy { command } => match command {
            PolicyCommand::Test(test) => policy_test(test, verbosity.verbose > 0),
            PolicyCommand::List(list) => policy_list(list),
        },
        Command::Completions { shell } => print(&manual::completions(shell)),
        Command::Man => print(&manual::man_page()),
        Command::Report(arguments) => render_saved(arguments),
        Command::Verify(arguments) => verify_evidence(arguments),
        Command::Keygen(arguments) => keygen(arguments),
        Command::History { command } => history::run(command),
    };
    ExitCode::from(code as u8)
}

/// Prints an input error on stderr through the one renderer (with the
/// offending line of its file, when it has one and the file is readable or
/// embedded in the binary).
fn print_error(error: &InputError) {
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let options = RenderOptions { color };
    let text = match error.location.path().and_then(builtin_text) {
        Some(embedded) => render_with_source(error, Some(embedded), &options),
        None => render(error, &options),
    };
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn fail(error: &InputError) -> i32 {
    print_error(error);
    exit::INPUT_ERROR
}

fn run_scan(arguments: args::ScanArgs, policies: bool) -> i32 {
    if !policies {
        if let Err(error) = no_history_flags(&arguments, "diff") {
            return fail(&error);
        }
    }
    let prepared = match args::prepare_scan(&arguments, policies) {
        Ok(prepared) => prepared,
        Err(error) => return fail(&error),
    };
    // A wrong evidence directory or key is known before the scan.
    let sign_key = match check_evidence_arguments(&arguments) {
        Ok(key) => key,
        Err(error) => return fail(&error),
    };
    let started = std::time::Instant::now();
    let (mut report, targets) = driftaudit::scan::run_scan_keeping_live(&prepared.options);
    // Measured only on the real clock: with --now or --demo the metrics stay
    // byte-identical (docs/metrics.md).
    if arguments.now.is_none() && prepared.demo().is_none() {
        report.scan_duration_seconds = Some(started.elapsed().as_secs_f64());
    }
    attach_file_evidence(&mut report, &arguments, &prepared);
    // `diff` records nothing: its report has no findings to remember.
    if let Some(run) = prepared.history.as_ref().filter(|_| policies) {
        driftaudit::history::remember(&mut report, run);
    }
    group_report(&mut report, &arguments.render);
    // The format changes what is written, never the exit code (but a report
    // that could not be written is an input error).
    let mut failed = write_reports(&report, &arguments.render, !policies).is_err();
    if let Some(dir) = &arguments.evidence_dir {
        let written = evidence_files(&report, &targets, &prepared, &arguments.render, !policies)
            .and_then(|files| {
                driftaudit::evidence::write_dir(dir, &files, &report.scan.now, sign_key.as_ref())
                    .map_err(|(path, reason)| {
                        InputError::error(
                            Code::Io,
                            Place::file(path),
                            format!("cannot write the evidence directory: {reason}"),
                        )
                    })
            });
        if let Err(error) = written {
            print_error(&error);
            failed = true;
        }
    }
    drop(prepared);
    if failed {
        return exit::INPUT_ERROR;
    }
    report.exit_code()
}

/// The config and `--live-snapshot` files of `report.evidence`, by digest.
/// The demo's are named by where they come from (its scratch directory
/// changes on every run). A file that no longer reads is left out: it was
/// read once, and its own error (if any) is in the report.
fn attach_file_evidence(
    report: &mut report::Report,
    arguments: &args::ScanArgs,
    prepared: &args::PreparedScan,
) {
    use driftaudit::report::evidence::PathDigest;
    let digest = |label: String, path: &std::path::Path| {
        std::fs::read(path).ok().map(|bytes| PathDigest {
            path: label,
            sha256: driftaudit::evidence::sha256_hex(&bytes),
        })
    };
    let Some(evidence) = report.evidence.as_mut() else {
        return;
    };
    let shown = |path: &std::path::Path| printable(&path.display().to_string()).into_owned();
    match prepared.demo() {
        Some(demo) => {
            evidence.config = digest("demo: fixtures/demo/driftaudit.yaml".into(), &demo.config());
            evidence.snapshots.extend(digest(
                "demo: fixtures/demo/live-snapshot.json".into(),
                &demo.snapshot(),
            ));
        }
        None => {
            evidence.config = prepared
                .config_path
                .as_ref()
                .and_then(|path| digest(shown(path), path));
            for path in &arguments.live_snapshot {
                evidence.snapshots.extend(digest(shown(path), path));
            }
        }
    }
}

/// `--evidence-dir` must name a new or empty directory, and `--sign-key` a
/// readable Ed25519 key; `capture` and `waive` write no evidence.
fn check_evidence_arguments(
    arguments: &args::ScanArgs,
) -> Result<Option<ring::signature::Ed25519KeyPair>, InputError> {
    if let Some(dir) = &arguments.evidence_dir {
        driftaudit::evidence::check_target(dir).map_err(|reason| {
            InputError::error(
                Code::Usage,
                Place::file(dir.display().to_string()),
                format!("--evidence-dir: {reason}"),
            )
        })?;
    }
    let Some(path) = &arguments.sign_key else {
        return Ok(None);
    };
    let place = || Place::file(path.display().to_string());
    let bytes = std::fs::read(path).map_err(|e| {
        InputError::error(
            Code::Io,
            place(),
            format!("cannot read the signing key: {e}"),
        )
        .with_source(e)
    })?;
    driftaudit::evidence::load_private_key(&bytes)
        .map(Some)
        .map_err(|reason| {
            InputError::error(Code::BadFlagValue, place(), format!("--sign-key: {reason}"))
        })
}

/// The files of the evidence directory (docs/evidence.md), each at its
/// relative path.
fn evidence_files(
    report: &report::Report,
    targets: &[driftaudit::model::LiveTarget],
    prepared: &args::PreparedScan,
    render: &RenderArgs,
    diffs_by_default: bool,
) -> Result<Vec<driftaudit::evidence::EvidenceFile>, InputError> {
    use driftaudit::evidence::EvidenceFile;
    let file = |path: String, text: String| EvidenceFile {
        path,
        bytes: text.into_bytes(),
    };
    let mut files = Vec::new();
    for (path, format) in [
        ("report.json", ReportFormat::Json),
        ("report.txt", ReportFormat::Text),
        ("report.html", ReportFormat::Html),
    ] {
        let text = render_as(report, format, render, diffs_by_default, false);
        files.push(file(path.into(), text));
    }
    let snapshot = driftaudit::sources::snapshot::to_snapshot(targets, &report.scan.now);
    files.push(file(
        "snapshot.json".into(),
        serde_json::to_string_pretty(&snapshot).expect("the snapshot serialises") + "\n",
    ));
    let options = &prepared.options;
    if options.evaluate_policies {
        for policy in builtin_policy_files() {
            let name = policy.name.trim_start_matches("builtin:policies/");
            files.push(file(format!("policies/builtin/{name}"), policy.text));
        }
        for (index, dir) in options.policy_dirs.iter().enumerate() {
            for policy in policy_files_in(dir)? {
                let relative = std::path::Path::new(&policy.name)
                    .strip_prefix(dir)
                    .ok()
                    .and_then(|p| p.to_str())
                    .map(|p| format!("policies/dir-{}/{p}", index + 1));
                match relative.filter(|p| driftaudit::evidence::safe_path(p)) {
                    Some(path) => files.push(file(path, policy.text)),
                    None => {
                        return Err(InputError::error(
                            Code::Io,
                            Place::file(printable(&policy.name)),
                            "cannot put this policy file into the evidence directory: its name is not a plain UTF-8 path under its --policy directory",
                        ))
                    }
                }
            }
        }
        files.push(EvidenceFile {
            path: "baselines.json".into(),
            bytes: driftaudit::evidence::baselines_bytes(&options.baselines),
        });
    }
    if let Some(path) = &prepared.config_path {
        let bytes = std::fs::read(path).map_err(|e| {
            InputError::error(
                Code::Io,
                Place::file(path.display().to_string()),
                format!("cannot read the config again for the evidence directory: {e}"),
            )
            .with_source(e)
        })?;
        files.push(EvidenceFile {
            path: "config.yaml".into(),
            bytes,
        });
    }
    Ok(files)
}

/// `driftaudit verify DIR [--key PUBFILE]`.
fn verify_evidence(arguments: args::VerifyArgs) -> i32 {
    let key = match &arguments.key {
        Some(path) => {
            let place = || Place::file(path.display().to_string());
            let loaded = std::fs::read(path)
                .map_err(|e| {
                    InputError::error(
                        Code::Io,
                        place(),
                        format!("cannot read the public key: {e}"),
                    )
                })
                .and_then(|bytes| {
                    driftaudit::evidence::load_public_key(&bytes).map_err(|reason| {
                        InputError::error(Code::BadFlagValue, place(), format!("--key: {reason}"))
                    })
                });
            match loaded {
                Ok(key) => Some(key),
                Err(error) => return fail(&error),
            }
        }
        None if arguments.integrity_only => None,
        None => {
            return fail(&InputError::error(
                Code::BadFlagValue,
                Place::Argument("--key".into()),
                "give the public key the manifest must be signed with (--key PUBFILE or \
                 DRIFTAUDIT_VERIFY_KEY), or --integrity-only to check only that the files \
                 match the manifest: without a pinned key, a rewritten and re-signed (or \
                 unsigned) directory would verify"
                    .to_string(),
            ))
        }
    };
    let shown = arguments.dir.display().to_string();
    let verdict = match driftaudit::evidence::verify(&arguments.dir, key.as_deref()) {
        Ok(verdict) => verdict,
        Err(reason) => {
            return fail(&InputError::error(
                Code::Io,
                Place::file(shown),
                format!("cannot verify the evidence directory: {reason}"),
            ))
        }
    };
    let mut out = String::new();
    for problem in &verdict.problems {
        out.push_str(&format!("FAIL {problem}\n"));
    }
    let signature = match (&verdict.signed_by, verdict.key_not_pinned) {
        (Some(key), false) => format!("signed by {key}"),
        (Some(key), true) => {
            format!("signed by {key}, the key the manifest names (give --key to check it is yours)")
        }
        (None, _) => "unsigned".into(),
    };
    if verdict.ok() {
        out.push_str(&format!(
            "OK {}: {} files match the manifest, {signature}\n",
            printable(&shown),
            verdict.verified
        ));
    } else {
        out.push_str(&format!(
            "FAILED {}: {} problem(s), {} files match the manifest\n",
            printable(&shown),
            verdict.problems.len(),
            verdict.verified
        ));
    }
    if let Err(error) = write_output(None, &out) {
        return fail(&error);
    }
    if verdict.ok() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

/// `driftaudit keygen --out FILE`: FILE (private, mode 0600) and FILE.pub.
fn keygen(arguments: args::KeygenArgs) -> i32 {
    use ring::signature::KeyPair;
    use std::os::unix::fs::OpenOptionsExt;
    let private = match driftaudit::evidence::generate_private_key() {
        Ok(pem) => pem,
        Err(reason) => {
            return fail(&InputError::error(
                Code::Io,
                Place::Text("keygen".into()),
                reason,
            ))
        }
    };
    let pair =
        driftaudit::evidence::load_private_key(private.as_bytes()).expect("a generated key reads");
    let mut public_path = arguments.out.clone().into_os_string();
    public_path.push(".pub");
    let public_path = std::path::PathBuf::from(public_path);
    for (path, text, mode) in [
        (&arguments.out, private, 0o600),
        (
            &public_path,
            driftaudit::evidence::public_key_pem(&pair),
            0o644,
        ),
    ] {
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .and_then(|mut file| file.write_all(text.as_bytes()));
        if let Err(e) = written {
            return fail(&InputError::error(
                Code::Io,
                Place::file(path.display().to_string()),
                format!("cannot write the key (an existing file is never replaced): {e}"),
            ));
        }
    }
    warn!(
        "driftaudit: key {} written to {} (private) and {} (public)",
        driftaudit::evidence::fingerprint(pair.public_key().as_ref()),
        arguments.out.display(),
        public_path.display()
    );
    exit::CLEAN
}

/// `driftaudit waive FINGERPRINT`: a ready waivers entry for one finding,
/// from a scan or a saved JSON report (read as plain JSON).
fn waive_entry(arguments: args::WaiveArgs) -> i32 {
    if arguments.scan.evidence_dir.is_some() {
        return fail(&InputError::error(
            Code::Usage,
            Place::Argument("--evidence-dir".into()),
            "only `scan` and `diff` write an evidence directory",
        ));
    }
    let report: serde_json::Value = match &arguments.input {
        Some(path) => {
            let text = match driftaudit::diag::read_text(path, "the report") {
                Ok(text) => text,
                Err(error) => return fail(&error),
            };
            match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(e) => {
                    return fail(&InputError::error(
                        Code::Syntax,
                        Place::line(path.display().to_string(), e.line() as u32),
                        format!("not a JSON report (`scan --format json`): {e}"),
                    ))
                }
            }
        }
        None => {
            let prepared = match args::prepare_scan(&arguments.scan, true) {
                Ok(prepared) => prepared,
                Err(error) => return fail(&error),
            };
            let report = driftaudit::scan::run_scan(&prepared.options);
            serde_json::to_value(&report).expect("the report serialises")
        }
    };
    let finding = match driftaudit::waivers::find_finding(&report, &arguments.fingerprint) {
        Ok(finding) => finding,
        Err(message) => {
            return fail(&InputError::error(
                Code::Usage,
                Place::Text("waive".into()),
                message,
            ))
        }
    };
    let today = match &arguments.scan.now {
        Some(text) => match args::parse_now(text) {
            Ok(now) => now,
            Err(error) => return fail(&error),
        },
        None => time::OffsetDateTime::now_utc(),
    };
    let expires = today.date() + time::Duration::days(arguments.days.into());
    print(&driftaudit::waivers::entry_for(finding, expires))
}

/// `driftaudit report --input FILE`: a saved JSON report rendered again,
/// byte for byte what the scan that wrote it would have printed. Exit 0 once
/// written (the scan's exit code was the verdict), 2 when the file is not a
/// report this build reads or an output cannot be written.
fn render_saved(arguments: args::ReportArgs) -> i32 {
    let path = arguments.input.display().to_string();
    let text = match driftaudit::diag::read_text(&arguments.input, "the report") {
        Ok(text) => text,
        Err(error) => return fail(&error),
    };
    let mut report = match report::Report::from_json(&text) {
        Ok(report) => report,
        Err(reason) => {
            return fail(&InputError::error(
                Code::Usage,
                Place::file(path),
                format!(
                    "not a driftaudit JSON report of schema_version {}: {reason}",
                    report::SCHEMA_VERSION
                ),
            ))
        }
    };
    group_report(&mut report, &arguments.render);
    // The report of `diff` (policies off) shows its diffs, as `diff` did.
    let diffs_by_default = !report.scan.policies;
    match write_reports(&report, &arguments.render, diffs_by_default) {
        Ok(()) => exit::CLEAN,
        Err(code) => code,
    }
}

/// `--group-by owner`: the groups the text, Markdown and JSON reports show
/// (a saved report read without it keeps those it was written with).
fn group_report(report: &mut report::Report, render: &RenderArgs) {
    if render.group_by == Some(args::GroupBy::Owner) {
        report.groups = Some(driftaudit::owners::group_by_owner(report));
    }
}

/// One report in one format.
fn render_as(
    report: &report::Report,
    format: ReportFormat,
    render: &RenderArgs,
    diffs_by_default: bool,
    color: bool,
) -> String {
    match format {
        ReportFormat::Json => report::json::render(report),
        ReportFormat::Text => text::render(
            report,
            &text::TextOptions {
                style: text::Style { color },
                diffs: diffs_by_default || render.show_diff,
                list_in_sync: render.list_in_sync,
                list_suppressed: render.list_suppressed,
            },
        ),
        ReportFormat::Sarif => report::sarif::render(
            report,
            &report::sarif::SarifOptions {
                drift: render.sarif_drift,
            },
        ),
        ReportFormat::Github => report::github::render(report),
        ReportFormat::Markdown => report::markdown::render(report),
        ReportFormat::Junit => report::junit::render(report),
        ReportFormat::Openreports => report::openreports::render(report),
        ReportFormat::Html => report::html::render(report),
        ReportFormat::Prometheus => report::prometheus::render(report),
    }
}

/// Standard output (or the plain `--output FILE`) in `--format`, then every
/// `--output FORMAT=FILE`; with the `github` format, the Markdown job summary
/// appended to `$GITHUB_STEP_SUMMARY` when set. Every output is tried; any
/// that fails is reported and makes the exit code 2.
fn write_reports(
    report: &report::Report,
    render: &RenderArgs,
    diffs_by_default: bool,
) -> Result<(), i32> {
    let plain = render.plain_output();
    let to_terminal = plain.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut failed = false;
    let main = render_as(report, render.format, render, diffs_by_default, color);
    let written = match plain {
        Some(path) if render.format == ReportFormat::Prometheus => write_atomically(path, &main),
        _ => write_output(plain, &main),
    };
    if let Err(error) = written {
        print_error(&error);
        failed = true;
    }
    for output in &render.output {
        let Some(format) = output.format else {
            continue;
        };
        let text = render_as(report, format, render, diffs_by_default, false);
        let written = if format == ReportFormat::Prometheus {
            write_atomically(&output.path, &text)
        } else {
            write_output(Some(&output.path), &text)
        };
        if let Err(error) = written {
            print_error(&error);
            failed = true;
        }
    }
    let github = render.format == ReportFormat::Github
        || render
            .output
            .iter()
            .any(|o| o.format == Some(ReportFormat::Github));
    if github {
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
            if let Err(error) = append_summary(std::path::Path::new(&summary), report) {
                print_error(&error);
                failed = true;
            }
        }
    }
    if failed {
        Err(exit::INPUT_ERROR)
    } else {
        Ok(())
    }
}

/// Appends the Markdown report to the job summary file (GitHub creates it;
/// other steps may have written to it already).
fn append_summary(path: &std::path::Path, report: &report::Report) -> Result<(), InputError> {
    let text = report::markdown::render(report);
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| {
            InputError::error(
                Code::Io,
                Place::file(path.display().to_string()),
                format!("cannot write the job summary ($GITHUB_STEP_SUMMARY): {e}"),
            )
            .with_source(e)
        })
}

/// `diff` and `capture` record no history: its flags are refused there.
fn no_history_flags(arguments: &args::ScanArgs, command: &str) -> Result<(), InputError> {
    let history = &arguments.history;
    let given = [
        ("--history", history.history.is_some()),
        ("--history-target", history.history_target.is_some()),
        (
            "--history-password-file",
            history.history_password_file.is_some(),
        ),
        ("--fail-on-new", history.fail_on_new),
    ];
    match given.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(InputError::error(
            Code::Usage,
            Place::Argument((*flag).into()),
            format!("`{command}` records no history: use `scan`"),
        )),
        None => Ok(()),
    }
}

fn capture(arguments: args::ScanArgs) -> i32 {
    if let Err(error) = no_history_flags(&arguments, "capture") {
        return fail(&error);
    }
    if arguments.evidence_dir.is_some() {
        return fail(&InputError::error(
            Code::Usage,
            Place::Argument("--evidence-dir".into()),
            "only `scan` and `diff` write an evidence directory",
        ));
    }
    let Some(output) = arguments.render.plain_output().map(|p| p.to_path_buf()) else {
        return fail(&InputError::error(
            Code::Usage,
            Place::Argument("--output".into()),
            "capture needs --output FILE for the snapshot",
        ));
    };
    let prepared = match args::prepare_scan(&arguments, false) {
        Ok(prepared) => prepared,
        Err(error) => return fail(&error),
    };
    let (snapshot, errors) = driftaudit::scan::run_capture(&prepared.options);
    for error in &errors {
        print_error(error);
    }
    let gaps: Vec<_> = snapshot
        .targets
        .iter()
        .flat_map(|t| t.coverage.iter())
        .collect();
    for gap in &gaps {
        warn!(
            "driftaudit: not captured: {} {}: {} — {}",
            printable(&gap.target),
            gap.source.as_str(),
            printable(&gap.scope),
            printable(&gap.reason)
        );
    }
    let has_secrets = snapshot
        .targets
        .iter()
        .flat_map(|t| t.resources.iter())
        .any(|r| r.object.get("kind").and_then(|k| k.as_str()) == Some("Secret"));
    if has_secrets && arguments.secret_key_file.is_none() {
        warn!("driftaudit: Secret values not captured (no --secret-key-file): a scan of this snapshot reports them as not compared");
    }
    let text = serde_json::to_string_pretty(&snapshot).expect("the snapshot serialises") + "\n";
    if let Err(error) = write_output(Some(&output), &text) {
        return fail(&error);
    }
    let resources: usize = snapshot.targets.iter().map(|t| t.resources.len()).sum();
    warn!(
        "driftaudit: {resources} live resources of {} target(s) written to {}",
        snapshot.targets.len(),
        output.display()
    );
    exit::code_for(&exit::Outcome {
        errors: !errors.is_empty(),
        gaps: !gaps.is_empty(),
        allow_partial: arguments.allow_partial,
        failing: false,
    })
}

/// Writes a metrics file the way node-exporter's textfile collector and a
/// pushing sidecar need it: a temporary file beside it, renamed over it, so a
/// reader never sees half a file (docs/metrics.md).
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), InputError> {
    let error = |e: std::io::Error| {
        InputError::error(
            Code::Io,
            Place::file(path.display().to_string()),
            format!("cannot write the report: {e}"),
        )
        .with_source(e)
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".driftaudit-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    // The file a collector reads must be readable by it (tempfile makes 0600).
    // Set on the open file (fchmod), not its path: a path could have been
    // replaced by a link in a shared folder, and chmod follows links.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(error)?;
    }
    file.persist(path).map(drop).map_err(|e| error(e.error))
}

fn write_output(path: Option<&std::path::Path>, text: &str) -> Result<(), InputError> {
    match path {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            InputError::error(
                Code::Io,
                Place::file(path.display().to_string()),
                format!("cannot write the report: {e}"),
            )
            .with_source(e)
        }),
        None => {
            // A report that did not reach its reader is not a result: a full disk, a
            // closed standard output or a broken pipe all end the scan with exit 2.
            if STDOUT_CLOSED.load(Ordering::Relaxed) {
                return Err(InputError::error(
                    Code::Io,
                    Place::Text("standard output".into()),
                    "cannot write the report: standard output is closed",
                ));
            }
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| {
                    InputError::error(
                        Code::Io,
                        Place::Text("standard output".into()),
                        format!("cannot write the report: {}", e.kind()),
                    )
                })
        }
    }
}

/// Writes generated text (a completion script, the manual page) to standard output.
fn print(text: &str) -> i32 {
    match write_output(None, text) {
        Ok(()) => exit::CLEAN,
        Err(error) => fail(&error),
    }
}

/// `verbose` (`-v`) lists the passing tests too.
fn policy_test(arguments: args::PolicyTestArgs, verbose: bool) -> i32 {
    let baselines = match load_baselines(&arguments.baseline) {
        Ok(b) => b,
        Err(error) => return fail(&error),
    };
    let builtin = builtin_policy_files();
    let (library, tests) = if arguments.dirs.is_empty() {
        (builtin.clone(), builtin)
    } else {
        let mut tests = Vec::new();
        for dir in &arguments.dirs {
            match policy_files_in(dir) {
                Ok(files) => tests.extend(files),
                Err(error) => return fail(&error),
            }
        }
        // A directory that carries its own copy of a built-in package (a fork of
        // the library under test) replaces the embedded one, not joins it.
        let packages: Vec<&str> = tests.iter().filter_map(|f| package_of(&f.text)).collect();
        let library = builtin
            .into_iter()
            .filter(|f| package_of(&f.text).is_none_or(|p| !packages.contains(&p)))
            .collect();
        (library, tests)
    };
    let (results, errors) = run_tests(&library, &tests, &baselines);
    for error in &errors {
        print_error(error);
    }
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    for result in &results {
        match &result.outcome {
            Outcome::Pass => {
                passed += 1;
                if verbose {
                    out += &format!("PASS  {}  ({})\n", result.name, result.location);
                }
            }
            Outcome::Fail => {
                failed += 1;
                out += &format!("FAIL  {}  ({})\n", result.name, result.location);
            }
            Outcome::Error(message) => {
                failed += 1;
                out += &format!("ERROR {}  ({}): {message}\n", result.name, result.location);
            }
        }
    }
    out += &format!("policy tests: {passed} passed, {failed} failed\n");
    if let Err(error) = write_output(None, &out) {
        return fail(&error);
    }
    if results.is_empty() {
        print_error(&InputError::error(
            Code::Usage,
            Place::Text("policy test".into()),
            "no test_* rules found",
        ));
    }
    exit::code_for(&exit::Outcome {
        errors: !errors.is_empty() || results.is_empty(),
        failing: failed > 0,
        ..exit::Outcome::default()
    })
}

fn package_of(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|line| line.trim().strip_prefix("package ").map(str::trim))
}

fn policy_list(arguments: args::PolicyListArgs) -> i32 {
    let baselines = match load_baselines(&[]) {
        Ok(b) => b,
        Err(error) => return fail(&error),
    };
    let mut files = builtin_policy_files();
    for dir in &arguments.policy {
        match policy_files_in(dir) {
            Ok(found) => files.extend(found),
            Err(error) => return fail(&error),
        }
    }
    let (set, errors) = PolicySet::compile(&files, &baselines, &[]);
    for error in &errors {
        print_error(error);
    }
    let listed: Vec<&driftaudit::policy::RuleInfo> = set
        .rules
        .iter()
        .filter(|r| {
            arguments.control.is_empty()
                || r.controls
                    .iter()
                    .any(|c| arguments.control.iter().any(|p| under_prefix(c, p)))
        })
        .collect();
    let mut out = String::new();
    match arguments.format {
        Format::Json => {
            let rules: Vec<serde_json::Value> = listed
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "title": r.title, "description": r.description,
                        "severity": r.severity, "category": r.category,
                        "remediation": r.remediation, "kinds": set.routed_kinds(r), "sources": r.sources,
                        "scope": match r.scope { driftaudit::policy::Scope::Resource => "resource", driftaudit::policy::Scope::Inventory => "inventory" },
                        "controls": r.controls, "location": r.location,
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&rules).expect("serialises") + "\n";
        }
        Format::Text => {
            for r in &listed {
                out += &format!(
                    "{:<14} {:<9} {:<13} {}\n",
                    r.id,
                    r.severity.as_str(),
                    r.category,
                    r.title
                );
                out += &format!("{:<38}{}\n", "", set.routed_kinds(r).join(", "));
                if !r.controls.is_empty() {
                    out += &format!("{:<38}{}\n", "", r.controls.join(", "));
                }
            }
            out += &format!("{} rules\n", listed.len());
        }
    }
    if let Err(error) = write_output(None, &out) {
        return fail(&error);
    }
    exit::code_for(&exit::Outcome {
        errors: !errors.is_empty(),
        ..exit::Outcome::default()
    })
}
