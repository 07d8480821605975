//! Command-line arguments, and turning them (with the config file) into scan options.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use driftaudit::config::Config;
use driftaudit::drift::DriftOptions;
use driftaudit::model::LiveTimeouts;
use driftaudit::model::{InputError, Severity};
use driftaudit::scan::{CompareOptions, ScanOptions};
use driftaudit::sources::declared::DeclaredOptions;
use driftaudit::sources::environments::{Environment, EnvironmentSettings};
use driftaudit::sources::git::{glob_set, DeclaredTree, FileFilter};
use driftaudit::sources::kubernetes::args::KubeArgs;
use driftaudit::sources::kubernetes::DEFAULT_ORPHAN_KINDS;
use driftaudit::sources::pgbackrest::args::PgBackRestArgs;
use driftaudit::sources::postgres::args::PostgresArgs;
use driftaudit::sources::snapshot::SnapshotSource;
use driftaudit::sources::tls::args::TlsArgs;
use driftaudit::sources::traefik::args::TraefikArgs;
use driftaudit::sources::{LiveSource, SourceArgs};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::demo::Demo;

#[derive(Parser, Debug)]
#[command(
    name = "driftaudit",
    version,
    about = "Drift and policy audit for GitOps platforms: what Git declares vs what runs, judged by Rego policies",
    after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on (or drift with --fail-on-drift), 2 usage/config/input error, 3 scan incomplete."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Say more on standard error: -v what was read and when each step
    /// finished, -vv debugging detail, -vvv everything (RUST_LOG, when set,
    /// decides instead; its syntax is tracing's EnvFilter).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on standard error: no warnings, no progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Drift and policies: compare declared with live state and evaluate every policy.
    Scan(ScanArgs),
    /// Drift only, with a unified diff per modified resource.
    Diff(ScanArgs),
    /// Write the live state (of --kube-context ...) to a snapshot file for `scan --live-snapshot`.
    Capture(ScanArgs),
    /// Print a ready waivers entry (docs/waivers.md) for the finding with this
    /// fingerprint, from a scan (scan options) or a saved JSON report (--input).
    Waive(WaiveArgs),
    /// Work with Rego policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Print the completion script of a shell (e.g. `source <(driftaudit completions bash)`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page as roff (e.g. `driftaudit man | man -l -`).
    Man,
    /// Render a saved JSON report (`scan --format json`) in any format, without scanning again.
    Report(ReportArgs),
    /// Check an evidence directory (`scan --evidence-dir`): every file's
    /// SHA-256 and the signature; exit 0 when all hold, 1 naming each changed,
    /// missing or extra file, 2 when it cannot be read (docs/evidence.md).
    Verify(VerifyArgs),
    /// Write a new Ed25519 key pair for `scan --sign-key` (PKCS#8 PEM) and
    /// `verify --key` (FILE.pub, PEM public key).
    Keygen(KeygenArgs),
    /// What the history store of `scan --history` remembers: scans, trends,
    /// time to resolve, SLA breaches; prune old scans (docs/history.md).
    History {
        #[command(subcommand)]
        command: HistoryCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// The recorded scans: id, target, clock, result, exit code, counts.
    List(HistoryCommon),
    /// One scan and its entries.
    Show(HistoryShowArgs),
    /// Open entries per day, grouped (each day: the latest complete scan of
    /// each target at its end).
    Trend(HistoryTrendArgs),
    /// Time to resolve per rule and per severity: count, mean, median.
    Mttr(HistoryCommon),
    /// Open entries first seen longer ago than --older-than (SLA breaches).
    Open(HistoryOpenArgs),
    /// Delete scans older than --keep (never the latest of a target).
    Prune(HistoryPruneArgs),
}

/// The options every `history` command takes.
#[derive(Args, Debug, Clone)]
pub struct HistoryCommon {
    /// The store: `sqlite:PATH` or `postgres:DSN` [default: the config's
    /// `history`, else sqlite:.driftaudit/history.db beside the config].
    #[arg(long = "history", value_name = "SPEC", num_args = 0..=1, default_missing_value = "")]
    pub history: Option<String>,
    /// File whose first line is the password of a `postgres:` store.
    #[arg(long, value_name = "FILE")]
    pub history_password_file: Option<PathBuf>,
    /// Config file [default: ./driftaudit.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The clock (RFC 3339) the durations are counted to [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Only the scans of this history target.
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
}

#[derive(Args, Debug)]
pub struct HistoryShowArgs {
    /// The scan id (`history list`).
    #[arg(value_name = "SCAN")]
    pub scan: i64,
    #[command(flatten)]
    pub common: HistoryCommon,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrendBy {
    Category,
    Rule,
    Target,
    Environment,
}

#[derive(Args, Debug)]
pub struct HistoryTrendArgs {
    /// What the open entries are counted by.
    #[arg(long, value_enum, default_value = "category")]
    pub by: TrendBy,
    /// How far back (e.g. 30d, 12h, 2w).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub since: String,
    #[command(flatten)]
    pub common: HistoryCommon,
}

#[derive(Args, Debug)]
pub struct HistoryOpenArgs {
    /// Open longer than this (e.g. 7d).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub older_than: String,
    #[command(flatten)]
    pub common: HistoryCommon,
}

#[derive(Args, Debug)]
pub struct HistoryPruneArgs {
    /// Keep the scans of this last period (e.g. 90d).
    #[arg(long, value_name = "DURATION")]
    pub keep: String,
    #[command(flatten)]
    pub common: HistoryCommon,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The evidence directory.
    pub dir: PathBuf,
    /// The public key the manifest must be signed with (PEM or DER
    /// SubjectPublicKeyInfo, or 64 hex digits).
    #[arg(long, value_name = "PUBFILE", env = "DRIFTAUDIT_VERIFY_KEY")]
    pub key: Option<PathBuf>,
    /// Check only that the files match the manifest, not who signed it
    /// (without --key or this flag, verify refuses to run: anyone who can
    /// write the directory can also rewrite and re-sign its manifest).
    #[arg(long, conflicts_with = "key")]
    pub integrity_only: bool,
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// The private key file to create (the public key goes to FILE.pub).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Run the `test_*` rules of policy directories (the built-in library when none is given).
    Test(PolicyTestArgs),
    /// List the rules a scan evaluates.
    List(PolicyListArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The formats of a scan report (docs/formats.md).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions annotations, and the job summary in $GITHUB_STEP_SUMMARY.
    Github,
    /// A pull-request comment.
    Markdown,
    /// JUnit XML (GitLab, Jenkins).
    Junit,
    /// OpenReports `Report`/`ClusterReport` objects (YAML, for `kubectl apply -f -`).
    Openreports,
    /// One self-contained HTML page, for screen and print (PDF).
    Html,
    /// Prometheus text exposition (textfile collector, Pushgateway): docs/metrics.md.
    Prometheus,
}

/// One `--output`: `FORMAT=FILE` writes that format to FILE besides
/// standard output; a plain `FILE` takes `--format`'s report instead of
/// standard output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub format: Option<ReportFormat>,
    pub path: PathBuf,
}

pub fn parse_output(text: &str) -> Result<Output, String> {
    if let Some((name, path)) = text.split_once('=') {
        if let Ok(format) = ReportFormat::from_str(name, true) {
            if path.is_empty() {
                return Err(format!("`{text}`: no file after `{name}=`"));
            }
            return Ok(Output {
                format: Some(format),
                path: PathBuf::from(path),
            });
        }
    }
    if text.is_empty() {
        return Err("an empty file name".into());
    }
    Ok(Output {
        format: None,
        path: PathBuf::from(text),
    })
}

/// The report options shared by `scan`, `diff` and `report`.
#[derive(Args, Debug, Clone)]
pub struct RenderArgs {
    /// Output format of standard output (or of a plain --output FILE).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Write a report to a file (repeatable): `FORMAT=FILE` (e.g.
    /// `sarif=out.sarif`) besides standard output, or `FILE` for the
    /// report in the --format format instead of standard output.
    #[arg(long, value_name = "[FORMAT=]FILE", value_parser = parse_output)]
    pub output: Vec<Output>,
    /// SARIF: one result per drifted field too, at the declared line it contradicts.
    #[arg(long)]
    pub sarif_drift: bool,
    /// Show unified diffs under modified resources (always on for `diff`).
    #[arg(long)]
    pub show_diff: bool,
    /// List in-sync resources one by one in the text report.
    #[arg(long)]
    pub list_in_sync: bool,
    /// List suppressed findings (those an exemption covers, with its reason)
    /// one by one in the text report; otherwise only counted.
    #[arg(long)]
    pub list_suppressed: bool,
    /// Group findings and drift by owner in the text, Markdown and JSON
    /// reports (docs/owners.md).
    #[arg(long, value_enum, value_name = "KEY")]
    pub group_by: Option<GroupBy>,
}

/// What `--group-by` groups by.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// The owner of each finding and drift entry (docs/owners.md).
    Owner,
}

impl RenderArgs {
    /// The file that takes --format's report instead of standard output.
    pub fn plain_output(&self) -> Option<&std::path::Path> {
        self.output
            .iter()
            .rev()
            .find(|o| o.format.is_none())
            .map(|o| o.path.as_path())
    }
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The JSON report to render (`scan --format json --output FILE`).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Config file [default: ./driftaudit.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Treat the config as hostile (a pull request's own driftaudit.yaml): no
    /// live source sections, every file it names inside its folder, no links.
    #[arg(long)]
    pub untrusted_config: bool,
    /// Namespace of declared objects that name none, as `kubectl -n` [default:
    /// the environment's namespace, else the kube context's, else `default`].
    #[arg(long, short = 'n', value_name = "NAME")]
    pub namespace: Option<String>,
    /// The declared repository (a Git repository with --ref, or any directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Read the declared state at this Git ref (branch, tag, SHA) without a checkout.
    #[arg(long = "ref", value_name = "REF", requires = "repo")]
    pub reference: Option<String>,
    /// Sub-directory of the repository to read (repeatable) [config: git.paths].
    #[arg(long = "path", value_name = "SUBDIR")]
    pub paths: Vec<String>,
    /// Kustomize overlay directory to render (repeatable) [config: git.kustomize].
    #[arg(long, value_name = "DIR")]
    pub kustomize: Vec<String>,
    /// Scan only this environment (repeatable): from the config's
    /// `environments`, or found in Argo CD / Flux objects (docs/environments.md).
    #[arg(long = "environment", value_name = "NAME", requires = "repo")]
    pub environments: Vec<String>,
    /// Live state from a snapshot file (repeatable: one target each or more).
    #[arg(long, value_name = "FILE")]
    pub live_snapshot: Vec<PathBuf>,
    /// Key of Secret hashes, a file of at least 32 secret bytes: `capture`
    /// stores Secret values as keyed hashes under it (without it, not at all),
    /// and a scan of such a snapshot with the same key compares them.
    #[arg(long, value_name = "FILE", env = "DRIFTAUDIT_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// Extra policy directory (repeatable) [config: policies.dirs].
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Baseline file merged over the defaults (repeatable) [config: baselines].
    #[arg(long = "baseline", value_name = "FILE")]
    pub baseline: Vec<PathBuf>,
    /// Waivers file: findings accepted until a date, each with a reason and
    /// an owner (docs/waivers.md) [config: waivers] [default:
    /// .driftaudit/waivers.yaml of --repo, else of the working directory, when it exists].
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    #[command(flatten)]
    pub render: RenderArgs,
    /// Also write the reports, the redacted live snapshot, the policies and
    /// baselines used and a manifest of their SHA-256 digests to this new
    /// directory (docs/evidence.md).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    /// Sign the evidence manifest with this Ed25519 private key (PKCS#8 PEM
    /// or DER, e.g. from `driftaudit keygen` or `openssl genpkey -algorithm ed25519`).
    #[arg(long, value_name = "FILE", requires = "evidence_dir")]
    pub sign_key: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity (critical, high, medium, low, info, none) [default: high].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Exit 1 when any resource drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Report coverage gaps but do not exit 3 for them.
    #[arg(long)]
    pub allow_partial: bool,
    /// Compare with this base (branch, tag or commit of the --repo
    /// repository, e.g. `origin/main`): findings are marked new or existing,
    /// --fail-on applies to new ones only, and fixed ones are listed.
    #[arg(long, value_name = "REF", requires = "repo")]
    pub compare_ref: Option<String>,
    /// With --compare-ref: existing findings fail the gate too.
    #[arg(long, requires = "compare_ref")]
    pub fail_on_existing: bool,
    /// Add a controls section: the status (pass, fail, not_assessed, waived) of each control of this framework that a rule maps to (repeatable; docs/controls.md).
    #[arg(long, value_name = "FRAMEWORK", value_parser = ["cis-k8s", "nsa-cisa", "pss", "iso27001", "soc2"])]
    pub framework: Vec<String>,
    /// The scan clock (RFC 3339), for reproducible reports [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Compare every field, not only those the declared manifests set.
    #[arg(long)]
    pub strict: bool,
    /// Limit of each live source (a cluster, a Traefik API, the TLS endpoints,
    /// a PostgreSQL server, a pgBackRest stanza), in seconds; past it the
    /// source is a coverage gap [default: 120] [config: timeouts.source].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub source_timeout: Option<u64>,
    /// Limit of all live sources together, in seconds; sources not read by
    /// then are coverage gaps, and the report is still written [default: 600] [config: timeouts.scan].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub scan_timeout: Option<u64>,
    /// Total time all policy evaluations of a scan may take, in seconds; rules
    /// left unevaluated when it runs out are errors (exit 2) [default: 300] [config: timeouts.policy].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub policy_timeout: Option<u64>,
    /// Memory policy evaluation may use on top of what the scan already holds,
    /// in MiB; a rule that goes beyond it is an error (exit 2) [default: 2048] [config: policies.memory].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    pub policy_memory: Option<u64>,
    /// Run on the bundled demo (a GitOps repo and a live snapshot; no cluster needed).
    #[arg(long, conflicts_with_all = ["repo", "reference", "live_snapshot", "config", "postgres", "pgbackrest_stanza"])]
    pub demo: bool,
    // One flag group per live source, in the order their targets are reported.
    #[command(flatten)]
    pub kubernetes: KubeArgs,
    #[command(flatten)]
    pub traefik: TraefikArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub postgres: PostgresArgs,
    #[command(flatten)]
    pub pgbackrest: PgBackRestArgs,
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// The history flags of `scan` (docs/history.md).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "History")]
pub struct HistoryArgs {
    /// Record the scan in a history store and mark what is new since the
    /// last scan of the same target: `sqlite:PATH` or `postgres:DSN` (no
    /// password in it) [alone: sqlite:.driftaudit/history.db beside the
    /// config] [config: history].
    #[arg(long = "history", value_name = "SPEC", num_args = 0..=1, default_missing_value = "")]
    pub history: Option<String>,
    /// File whose first line is the password of a `postgres:` history store
    /// [default: PGPASSWORD, then PGPASSFILE or ~/.pgpass].
    #[arg(long, value_name = "FILE")]
    pub history_password_file: Option<PathBuf>,
    /// The history key of this scan [default: the declared source, the live
    /// targets and the environments].
    #[arg(long, value_name = "NAME")]
    pub history_target: Option<String>,
    /// Exit 1 only for findings (and drift, with --fail-on-drift) new since
    /// the last scan of the same target; needs a history.
    #[arg(long)]
    pub fail_on_new: bool,
}

/// The live sources' flag groups, each over its section of the config file
/// (flags win; a flag naming targets replaces the section's targets).
struct SourceGroups {
    kubernetes: KubeArgs,
    traefik: TraefikArgs,
    tls: TlsArgs,
    postgres: PostgresArgs,
    pgbackrest: PgBackRestArgs,
}

impl SourceGroups {
    fn new(arguments: &ScanArgs, config: &Config) -> SourceGroups {
        let resolve = |path: &std::path::Path| config.resolve(path);
        SourceGroups {
            kubernetes: arguments
                .kubernetes
                .with_config(config.kubernetes.as_ref(), &resolve),
            traefik: arguments
                .traefik
                .with_config(config.traefik.as_ref(), &resolve),
            tls: arguments.tls.with_config(config.tls.as_ref()),
            postgres: arguments
                .postgres
                .with_config(config.postgres.as_ref(), &resolve),
            pgbackrest: arguments
                .pgbackrest
                .with_config(config.pgbackrest.as_ref(), &resolve),
        }
    }

    /// The groups, in the order their targets are reported.
    fn all(&self) -> [&dyn SourceArgs; 5] {
        [
            &self.kubernetes,
            &self.traefik,
            &self.tls,
            &self.postgres,
            &self.pgbackrest,
        ]
    }
}

#[derive(Args, Debug)]
pub struct WaiveArgs {
    /// The finding's fingerprint (32 hex digits, as the report's `fingerprint` shows it).
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    /// Read the finding from a saved JSON report (`scan --format json`) instead of scanning.
    #[arg(long, value_name = "REPORT", conflicts_with_all = ["repo", "demo", "live_snapshot"])]
    pub input: Option<PathBuf>,
    /// Days from today (or from --now) until the waiver expires.
    #[arg(long, value_name = "DAYS", default_value = "90", value_parser = clap::value_parser!(u16).range(1..=3660))]
    pub days: u16,
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Args, Debug)]
pub struct PolicyTestArgs {
    /// Directories with policies and their *_test.rego files.
    pub dirs: Vec<PathBuf>,
    /// Baseline file merged over the defaults (repeatable).
    #[arg(long = "baseline", value_name = "FILE")]
    pub baseline: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PolicyListArgs {
    /// Extra policy directory (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Only rules evidencing a control whose id starts with PREFIX
    /// at a `.`, `:`, `/` or `-` boundary (e.g. `CIS-K8s-1.10:5.2`, `ISO27001`; docs/controls.md); repeatable, any matches.
    #[arg(long = "control", value_name = "PREFIX")]
    pub control: Vec<String>,
}

/// Scan options plus what must live as long as the scan (the extracted demo).
pub struct PreparedScan {
    pub options: ScanOptions,
    /// The config file read, if any (for `--evidence-dir`).
    pub config_path: Option<PathBuf>,
    /// `--history` (or the config's `history`), for `scan`.
    pub history: Option<driftaudit::history::HistoryRun>,
    _demo: Option<Demo>,
}

/// The history store of `--history SPEC` (or the config's `history`), with
/// relative paths resolved: the flag's against the working directory, the
/// config's against the config's folder (and the default beside the config,
/// the working directory without one or for the demo).
pub fn history_spec(
    flag: Option<&str>,
    password_file: Option<PathBuf>,
    config: &Config,
    demo: bool,
) -> Result<Option<driftaudit::history::HistorySpec>, InputError> {
    let config_dir = if demo {
        PathBuf::new()
    } else {
        config.base_dir.clone()
    };
    match (flag, &config.history) {
        (Some(""), _) => driftaudit::history::parse_spec("", &config_dir, password_file).map(Some),
        (Some(text), _) => {
            driftaudit::history::parse_spec(text, std::path::Path::new(""), password_file).map(Some)
        }
        (None, Some(text)) => driftaudit::history::parse_spec(text, &config_dir, password_file)
            .map(Some)
            .map_err(|error| {
                driftaudit::diag::Diagnostic::error(
                    driftaudit::diag::Code::ConfigInvalidValue,
                    config.place_of("history"),
                    format!("history: {}", error.message),
                )
                .with_line_hidden()
            }),
        (None, None) => Ok(None),
    }
}

pub fn parse_now(text: &str) -> Result<OffsetDateTime, InputError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        InputError::error(
            driftaudit::diag::Code::Usage,
            driftaudit::diag::Place::Argument("--now".into()),
            format!("`{text}` is not an RFC 3339 time (e.g. 2026-11-21T12:00:00Z): {e}"),
        )
    })
}

fn parse_fail_on(text: &str) -> Result<Option<Severity>, InputError> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Severity::parse(text).map(Some).ok_or_else(|| {
        InputError::error(
            driftaudit::diag::Code::Usage,
            driftaudit::diag::Place::Argument("--fail-on".into()),
            format!("unknown severity `{text}` (critical, high, medium, low, info or none)"),
        )
    })
}

/// Reads `--secret-key-file` and makes it the key of this run's Secret
/// hashes. The key is never shown; a file that cannot be read or is shorter
/// than 32 bytes (a final newline aside) is refused.
fn use_secret_key(path: &std::path::Path) -> Result<(), InputError> {
    let place = || driftaudit::diag::Place::file(path.display().to_string());
    // At most 64 KiB: a key, not a device or a log that never ends.
    const LIMIT: u64 = 64 * 1024;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| {
            std::io::Read::read_to_end(&mut std::io::Read::take(file, LIMIT + 1), &mut bytes)
        })
        .map_err(|e| {
            InputError::error(
                driftaudit::diag::Code::CredentialUnreadable,
                place(),
                format!(
                    "cannot read the secret key file {} ({})",
                    path.display(),
                    e.kind()
                ),
            )
        })?;
    if bytes.len() as u64 > LIMIT {
        bytes.fill(0);
        return Err(InputError::error(
            driftaudit::diag::Code::CredentialUnreadable,
            place(),
            format!(
                "the secret key file {} holds more than 64 KiB: not a key file",
                path.display()
            ),
        ));
    }
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    let result = driftaudit::redact::set_secret_key(&bytes);
    bytes.fill(0);
    result.map_err(|why| {
        InputError::error(
            driftaudit::diag::Code::CredentialUnreadable,
            place(),
            format!(
                "the secret key file {} cannot be used: {why}",
                path.display()
            ),
        )
        .with_line_hidden()
    })
}

/// The config's `environments`, each with the config lines that name it.
fn configured_environments(config: &Config) -> Vec<Environment> {
    use driftaudit::sources::environments::normalize_path;
    config
        .environments
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let entry = format!("environments[{i}]");
            Environment {
                name: e.name.clone(),
                paths: e.paths.iter().map(|p| normalize_path(p)).collect(),
                kustomize: e.kustomize.clone(),
                helm: e.helm.clone(),
                namespace: e.namespace.clone(),
                force_namespace: false,
                kube_context: e.kube_context.clone(),
                server: None,
                declared_at: config.place_of(&entry),
                path_places: (0..e.paths.len())
                    .map(|j| config.place_of(&format!("{entry}.paths[{j}]")))
                    .collect(),
                from: "config".into(),
            }
        })
        .collect()
}

/// The waivers of the scan: `--waivers`, else the config's `waivers`, else
/// `.driftaudit/waivers.yaml` of the declared repository (of the working
/// directory without one) when that file exists. Reports name the file
/// relative to the repository when it lies inside it.
fn load_waivers(
    arguments: &ScanArgs,
    config: &Config,
    demo: Option<&Demo>,
) -> Result<driftaudit::waivers::Waivers, InputError> {
    let root = match demo {
        Some(demo) => demo.repo(),
        None => arguments.repo.clone().unwrap_or_default(),
    };
    let (path, from_repository) = match (&arguments.waivers, &config.waivers) {
        (Some(path), _) => (path.clone(), false),
        (None, Some(path)) => (config.resolve(path), false),
        (None, None) => {
            let path = root.join(driftaudit::waivers::DEFAULT_FILE);
            // A link counts as there (and is refused): never silently skipped.
            if std::fs::symlink_metadata(&path).is_err() {
                return Ok(Default::default());
            }
            (path, true)
        }
    };
    let inside = inside_repository(&root, &path);
    let name = path.strip_prefix(&root).unwrap_or(&path);
    let name = name.display().to_string();
    let mut waivers = if from_repository {
        let root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root.clone()
        };
        driftaudit::waivers::load_from_repository(&path, &root, &name)?
    } else {
        driftaudit::waivers::load(&path, &name)?
    };
    waivers.in_repository = inside;
    tracing::info!(file = %path.display(), entries = waivers.entries.len(), "read the waivers file");
    Ok(waivers)
}

/// `path` relative to the repository `root` (empty: the working directory),
/// links resolved on both; `None` when it does not exist or lies outside.
fn inside_repository(root: &std::path::Path, path: &std::path::Path) -> Option<String> {
    let root = if root.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        root
    };
    let real_root = root.canonicalize().ok()?;
    let real = path.canonicalize().ok()?;
    Some(real.strip_prefix(&real_root).ok()?.to_str()?.to_string())
}

/// The gate's inputs that lie in the declared repository, relative to its
/// root (`driftaudit::gate`): the config file, baseline files, policy folders.
fn gate_inputs(
    repo: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
    baselines: &[PathBuf],
    policy_dirs: &[PathBuf],
) -> driftaudit::gate::GateInputs {
    let Some(root) = repo else {
        return Default::default();
    };
    let inside = |path: &std::path::Path| inside_repository(root, path);
    driftaudit::gate::GateInputs {
        files: config
            .into_iter()
            .chain(baselines.iter().map(PathBuf::as_path))
            .filter_map(inside)
            .collect(),
        dirs: policy_dirs.iter().filter_map(|d| inside(d)).collect(),
    }
}

pub fn prepare_scan(arguments: &ScanArgs, policies: bool) -> Result<PreparedScan, InputError> {
    if let Some(path) = &arguments.secret_key_file {
        use_secret_key(path)?;
    }
    let demo = if arguments.demo {
        Some(Demo::extract()?)
    } else {
        None
    };
    let config_path = match (&demo, &arguments.config) {
        (Some(demo), _) => Some(demo.config()),
        (None, Some(path)) => Some(path.clone()),
        (None, None) => Some(PathBuf::from("driftaudit.yaml")).filter(|p| p.is_file()),
    };
    let config = match &config_path {
        Some(path) if arguments.untrusted_config && demo.is_none() => Config::load_untrusted(path)?,
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    match &config_path {
        Some(path) => tracing::info!(file = %path.display(), "read the config file"),
        None => tracing::info!("no config file (./driftaudit.yaml does not exist): defaults apply"),
    }

    let waivers = if policies {
        load_waivers(arguments, &config, demo.as_ref())?
    } else {
        Default::default()
    };
    let (repo, label) = match (&demo, &arguments.repo) {
        (Some(demo), _) => (Some(demo.repo()), "demo: fixtures/demo/repo".to_string()),
        (None, Some(repo)) => {
            let label = match &arguments.reference {
                Some(r) => format!("{} @ {r}", repo.display()),
                None => repo.display().to_string(),
            };
            (Some(repo.clone()), label)
        }
        (None, None) => (None, String::new()),
    };
    let paths = if arguments.paths.is_empty() {
        config.git.paths.clone()
    } else {
        arguments.paths.clone()
    };
    let mut kustomize = config.git.kustomize.overlays.clone();
    kustomize.extend(arguments.kustomize.iter().cloned());
    // Traefik files must pass the manifest filter too, whatever their extension.
    let mut include = config.git.include.clone();
    include.extend(config.git.traefik.iter().cloned());
    let groups = SourceGroups::new(arguments, &config);
    // As kubectl: --namespace, else the kube context's namespace, else
    // `default` (an environment's own namespace wins over both).
    let default_namespace = match &arguments.namespace {
        Some(namespace) if driftaudit::config::is_dns_label(namespace) => namespace.clone(),
        Some(namespace) => {
            return Err(InputError::error(
                driftaudit::diag::Code::BadFlagValue,
                driftaudit::diag::Place::Argument("--namespace".into()),
                format!(
                    "`{}` is not a namespace name (a DNS label: lowercase letters, digits, `-`)",
                    driftaudit::printable::printable(namespace)
                ),
            ))
        }
        None => groups
            .kubernetes
            .context_namespace()?
            .unwrap_or_else(|| "default".into()),
    };
    let declared = match repo {
        Some(repo) => Some(DeclaredOptions {
            tree: match &arguments.reference {
                Some(reference) => DeclaredTree::GitRef {
                    repo,
                    reference: reference.clone(),
                },
                None => DeclaredTree::Directory(repo),
            },
            filter: FileFilter::new(&paths, &include, &config.git.exclude)?,
            kustomize,
            auto_kustomize: config.git.kustomize.auto,
            helm: config.git.helm.clone(),
            default_namespace,
            traefik: glob_set(&config.git.traefik, "config git.traefik")?,
            environments: EnvironmentSettings {
                configured: configured_environments(&config),
                selected: arguments.environments.clone(),
            },
            environment: None,
        }),
        None => None,
    };
    if arguments.compare_ref.is_some() && !policies {
        return Err(InputError::error(
            driftaudit::diag::Code::Usage,
            driftaudit::diag::Place::Argument("--compare-ref".into()),
            "compares findings, and `diff` evaluates no policy: use `scan`",
        ));
    }
    let has_live =
        !arguments.live_snapshot.is_empty() || groups.all().iter().any(|group| group.given());
    if declared.is_none() && !has_live && !arguments.demo {
        return Err(InputError::error(
            driftaudit::diag::Code::Usage,
            driftaudit::diag::Place::Text("arguments".into()),
            "nothing to scan: give --repo DIR (declared state), --live-snapshot FILE, --kube-context NAME, --traefik-url URL, --tls-endpoint HOST:PORT, --postgres DSN or --pgbackrest-stanza NAME (live state, or their sections in the config), or --demo",
        ));
    }

    let live_snapshots = match &demo {
        Some(demo) => vec![demo.snapshot()],
        None => arguments.live_snapshot.clone(),
    };
    let mut live: Vec<LiveSource> = live_snapshots
        .into_iter()
        .map(|path| Arc::new(SnapshotSource(path)) as LiveSource)
        .collect();
    let live_timeouts = LiveTimeouts {
        source: std::time::Duration::from_secs(
            (arguments.source_timeout)
                .or(config.timeouts.source)
                .unwrap_or(driftaudit::config::DEFAULT_SOURCE_TIMEOUT),
        ),
        scan: std::time::Duration::from_secs(
            (arguments.scan_timeout)
                .or(config.timeouts.scan)
                .unwrap_or(driftaudit::config::DEFAULT_SCAN_TIMEOUT),
        ),
        kube_request: groups.kubernetes.request_timeout(),
        ..LiveTimeouts::default()
    };
    for group in groups.all() {
        live.extend(group.collectors(&live_timeouts)?);
    }
    let orphan_kinds = config
        .unmanaged
        .kinds
        .clone()
        .unwrap_or_else(|| DEFAULT_ORPHAN_KINDS.iter().map(|k| k.to_string()).collect());
    let now = match (&arguments.now, &demo) {
        (Some(text), _) => parse_now(text)?,
        (None, Some(_)) => parse_now(crate::demo::DEMO_CLOCK)?,
        (None, None) => OffsetDateTime::now_utc(),
    };
    let fail_on = match (&arguments.fail_on, &config.fail_on) {
        (Some(text), _) | (None, Some(text)) => parse_fail_on(text)?,
        (None, None) => Some(Severity::High),
    };
    let mut policy_dirs: Vec<PathBuf> = config
        .policies
        .dirs
        .iter()
        .map(|d| config.resolve(d))
        .collect();
    policy_dirs.extend(arguments.policy.iter().cloned());
    let mut baselines: Vec<PathBuf> = config.baselines.iter().map(|b| config.resolve(b)).collect();
    baselines.extend(arguments.baseline.iter().cloned());
    let baseline_paths = baselines.clone();
    let policy_dirs_given = policy_dirs.clone();
    // Loaded and checked now, before any source is read: a broken baseline
    // must not cost a scan. `diff` evaluates no policy and reads none.
    let baselines = if policies {
        driftaudit::policy::load_baselines(&baselines)?
    } else {
        serde_json::Value::Null
    };

    let history = history_spec(
        arguments.history.history.as_deref(),
        arguments.history.history_password_file.clone(),
        &config,
        arguments.demo,
    )?;
    if arguments.history.fail_on_new && history.is_none() {
        return Err(InputError::error(
            driftaudit::diag::Code::Usage,
            driftaudit::diag::Place::Argument("--fail-on-new".into()),
            "needs a history to tell what is new: give --history [SPEC] (or `history:` in the config)",
        ));
    }
    let history = history.map(|spec| driftaudit::history::HistoryRun {
        spec,
        target: arguments.history.history_target.clone(),
        fail_on_new: arguments.history.fail_on_new,
        allow_partial: arguments.allow_partial,
    });

    Ok(PreparedScan {
        options: ScanOptions {
            declared,
            declared_label: label,
            live,
            live_timeouts,
            orphan_kinds,
            policy_dirs,
            baselines,
            disabled_rules: config.policies.disable.clone(),
            workloads: config.workloads.clone(),
            drift: DriftOptions {
                strict: arguments.strict || config.drift.strict,
                ignore: config.drift.ignore.clone(),
                managed_namespaces: config.managed_namespaces.clone(),
                unmanaged_exclude: config.unmanaged.exclude.clone(),
                default_exclusions: !config.unmanaged.no_default_exclusions,
                managed_selector: config.unmanaged.selector.clone(),
                trusted_managers: config.drift.trusted_managers.clone(),
            },
            now,
            policy_timeout: Some(std::time::Duration::from_secs(
                arguments
                    .policy_timeout
                    .or(config.timeouts.policy)
                    .unwrap_or(driftaudit::config::DEFAULT_POLICY_TIMEOUT),
            )),
            policy_memory: Some(
                arguments
                    .policy_memory
                    .or(config.policies.memory)
                    .unwrap_or(driftaudit::config::DEFAULT_POLICY_MEMORY_MIB)
                    .saturating_mul(1 << 20),
            ),
            evaluate_policies: policies,
            waivers,
            fail_on,
            frameworks: frameworks(&config.policies.frameworks, &arguments.framework),
            fail_on_drift: arguments.fail_on_drift,
            allow_partial: arguments.allow_partial,
            compare: arguments
                .compare_ref
                .as_ref()
                .map(|reference| CompareOptions {
                    reference: reference.clone(),
                    fail_on_existing: arguments.fail_on_existing,
                    gate: gate_inputs(
                        arguments.repo.as_deref(),
                        config_path.as_deref(),
                        &baseline_paths,
                        &policy_dirs_given,
                    ),
                }),
            owners: driftaudit::owners::OwnerOptions::from_config(&config),
        },
        config_path,
        history,
        _demo: demo,
    })
}

impl PreparedScan {
    /// The extracted demo, with `--demo`.
    pub fn demo(&self) -> Option<&Demo> {
        self._demo.as_ref()
    }
}

/// The frameworks of the config, then those of `--framework`, each once.
fn frameworks(config: &[String], flags: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in config.iter().chain(flags) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}
