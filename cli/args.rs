//! Command-line arguments, and turning them (with the config file) into scan options.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use driftaudit::config::Config;
use driftaudit::drift::DriftOptions;
use driftaudit::model::LiveTimeouts;
use driftaudit::model::{InputError, Severity};
use driftaudit::scan::ScanOptions;
use driftaudit::sources::declared::DeclaredOptions;
use driftaudit::sources::git::{glob_set, DeclaredTree, FileFilter};
use driftaudit::sources::kubernetes::{KubeOptions, DEFAULT_ORPHAN_KINDS};
use driftaudit::sources::pgbackrest::PgBackRestOptions;
use driftaudit::sources::postgres::PostgresOptions;
use driftaudit::sources::snapshot::SnapshotSource;
use driftaudit::sources::tls::{TlsEndpoint, TlsEndpoints};
use driftaudit::sources::traefik::api::{TraefikAuth, TraefikOptions};
use driftaudit::sources::LiveSource;
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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Drift and policies: compare declared with live state and evaluate every policy.
    Scan(ScanArgs),
    /// Drift only, with a unified diff per modified resource.
    Diff(ScanArgs),
    /// Write the live state (of --kube-context ...) to a snapshot file for `scan --live-snapshot`.
    Capture(ScanArgs),
    /// Work with Rego policies.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
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

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Config file [default: ./driftaudit.yaml when it exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    /// Live state from a snapshot file (repeatable: one target each or more).
    #[arg(long, value_name = "FILE")]
    pub live_snapshot: Vec<PathBuf>,
    /// Live state from a running Traefik's API (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    pub traefik_url: Option<String>,
    /// User for the Traefik API's basic auth; the password comes from the
    /// environment variable DRIFTAUDIT_TRAEFIK_PASSWORD or --traefik-password-file.
    #[arg(long, value_name = "USER", requires = "traefik_url")]
    pub traefik_user: Option<String>,
    /// File holding the password for --traefik-user.
    #[arg(long, value_name = "FILE", requires = "traefik_user")]
    pub traefik_password_file: Option<PathBuf>,
    /// File holding a bearer token for the Traefik API.
    #[arg(
        long,
        value_name = "FILE",
        requires = "traefik_url",
        conflicts_with = "traefik_user"
    )]
    pub traefik_token_file: Option<PathBuf>,
    /// Do not verify the TLS certificate of an https:// Traefik API.
    #[arg(long, requires = "traefik_url")]
    pub traefik_insecure: bool,
    /// Read the certificate a TLS endpoint serves (repeatable): HOST:PORT[,sni=NAME].
    #[arg(long = "tls-endpoint", value_name = "HOST:PORT[,sni=NAME]")]
    pub tls_endpoint: Vec<String>,
    /// Live PostgreSQL server (repeatable): a URL or key=value connection string
    /// without password; missing parts come from PGHOST, PGPORT, PGUSER,
    /// PGDATABASE, PGSSLMODE ("" = all from the environment).
    #[arg(long = "postgres", value_name = "DSN")]
    pub postgres: Vec<String>,
    /// File whose first line is the PostgreSQL password [default: PGPASSWORD, then PGPASSFILE or ~/.pgpass].
    #[arg(long, value_name = "FILE")]
    pub postgres_password_file: Option<PathBuf>,
    /// pgBackRest stanza to read with `pgbackrest info` (repeatable).
    #[arg(long, value_name = "NAME")]
    pub pgbackrest_stanza: Vec<String>,
    /// pgBackRest configuration file [default: PGBACKREST_CONFIG, then /etc/pgbackrest/pgbackrest.conf].
    #[arg(long, value_name = "FILE", requires = "pgbackrest_stanza")]
    pub pgbackrest_config: Option<PathBuf>,
    /// Extra policy directory (repeatable) [config: policies.dirs].
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    /// Baseline file merged over the defaults (repeatable) [config: baselines].
    #[arg(long = "baseline", value_name = "FILE")]
    pub baseline: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to a file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity (critical, high, medium, low, info, none) [default: high].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Exit 1 when any resource drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Report coverage gaps but do not exit 3 for them.
    #[arg(long)]
    pub allow_partial: bool,
    /// The scan clock (RFC 3339), for reproducible reports [default: now].
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Compare every field, not only those the declared manifests set.
    #[arg(long)]
    pub strict: bool,
    /// Show unified diffs under modified resources (always on for `diff`).
    #[arg(long)]
    pub show_diff: bool,
    /// List in-sync resources one by one in the text report.
    #[arg(long)]
    pub list_in_sync: bool,
    /// Read the live state of the kubeconfig's current context.
    #[arg(long)]
    pub kube: bool,
    /// Read the live state of this kubeconfig context (repeatable: several clusters, concurrently).
    #[arg(long = "kube-context", value_name = "NAME")]
    pub kube_context: Vec<String>,
    /// Kubeconfig file [default: $KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Read the cluster the tool runs in, with its pod's service account.
    #[arg(long)]
    pub in_cluster: bool,
    /// Limit of each Kubernetes API request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub kube_timeout: u64,
    /// Limit of each live source (a cluster, a Traefik API, the TLS endpoints,
    /// a PostgreSQL server, a pgBackRest stanza), in seconds; past it the
    /// source is a coverage gap.
    #[arg(long, value_name = "SECONDS", default_value = "120", value_parser = clap::value_parser!(u64).range(1..))]
    pub source_timeout: u64,
    /// Limit of all live sources together, in seconds; sources not read by
    /// then are coverage gaps, and the report is still written.
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = clap::value_parser!(u64).range(1..))]
    pub scan_timeout: u64,
    /// Total time all policy evaluations of a scan may take, in seconds; rules
    /// left unevaluated when it runs out are errors (exit 2).
    #[arg(long, value_name = "SECONDS", default_value = "300", value_parser = clap::value_parser!(u64).range(1..))]
    pub policy_timeout: u64,
    /// Memory policy evaluation may use on top of what the scan already holds,
    /// in MiB; a rule that goes beyond it is an error (exit 2).
    #[arg(long, value_name = "MIB", default_value = "2048", value_parser = clap::value_parser!(u64).range(1..))]
    pub policy_memory: u64,
    /// Run on the bundled demo (a GitOps repo and a live snapshot; no cluster needed).
    #[arg(long, conflicts_with_all = ["repo", "reference", "live_snapshot", "config", "postgres", "pgbackrest_stanza"])]
    pub demo: bool,
}

#[derive(Args, Debug)]
pub struct PolicyTestArgs {
    /// Directories with policies and their *_test.rego files.
    pub dirs: Vec<PathBuf>,
    /// Baseline file merged over the defaults (repeatable).
    #[arg(long = "baseline", value_name = "FILE")]
    pub baseline: Vec<PathBuf>,
    /// Print passing tests too.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct PolicyListArgs {
    /// Extra policy directory (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub policy: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Scan options plus what must live as long as the scan (the extracted demo).
pub struct PreparedScan {
    pub options: ScanOptions,
    _demo: Option<Demo>,
}

fn parse_now(text: &str) -> Result<OffsetDateTime, InputError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        InputError::new(
            "--now",
            format!("`{text}` is not an RFC 3339 time (e.g. 2026-11-21T12:00:00Z): {e}"),
        )
    })
}

fn parse_fail_on(text: &str) -> Result<Option<Severity>, InputError> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Severity::parse(text).map(Some).ok_or_else(|| {
        InputError::new(
            "--fail-on",
            format!("unknown severity `{text}` (critical, high, medium, low, info or none)"),
        )
    })
}

/// Timeout of every network call of a live collector.
const NETWORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Environment variable holding the password of --traefik-user.
const TRAEFIK_PASSWORD_ENV: &str = "DRIFTAUDIT_TRAEFIK_PASSWORD";

/// A secret read from a file: surrounding whitespace (the final newline) is
/// not part of it.
fn read_secret_file(path: &std::path::Path, flag: &str) -> Result<String, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError::new(flag, format!("cannot read {}: {e}", path.display())))?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(InputError::new(
            flag,
            format!("{} is empty", path.display()),
        ));
    }
    Ok(secret)
}

fn traefik_options(arguments: &ScanArgs, url: &str) -> Result<TraefikOptions, InputError> {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Err(InputError::new(
            "--traefik-url",
            format!("`{url}` is not an http:// or https:// URL"),
        ));
    };
    // Credentials in a URL end up in reports and process lists.
    if rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .contains('@')
    {
        return Err(InputError::new(
            "--traefik-url",
            "the URL holds credentials: use --traefik-user with DRIFTAUDIT_TRAEFIK_PASSWORD, or --traefik-token-file",
        ));
    }
    let mut options = TraefikOptions::new(url);
    options.insecure = arguments.traefik_insecure;
    options.timeout = NETWORK_TIMEOUT;
    if let Some(user) = &arguments.traefik_user {
        let password = match &arguments.traefik_password_file {
            Some(path) => read_secret_file(path, "--traefik-password-file")?,
            None => std::env::var(TRAEFIK_PASSWORD_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    InputError::new(
                        "--traefik-user",
                        format!("no password: set {TRAEFIK_PASSWORD_ENV} or give --traefik-password-file"),
                    )
                })?,
        };
        options.auth = Some(TraefikAuth::Basic {
            user: user.clone(),
            password,
        });
    }
    if let Some(path) = &arguments.traefik_token_file {
        options.auth = Some(TraefikAuth::Bearer(read_secret_file(
            path,
            "--traefik-token-file",
        )?));
    }
    Ok(options)
}

pub fn prepare_scan(arguments: &ScanArgs, policies: bool) -> Result<PreparedScan, InputError> {
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
        Some(path) => Config::load(path)?,
        None => Config::default(),
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
    let mut kustomize = config.git.kustomize.clone();
    kustomize.extend(arguments.kustomize.iter().cloned());
    // Traefik files must pass the manifest filter too, whatever their extension.
    let mut include = config.git.include.clone();
    include.extend(config.git.traefik.iter().cloned());
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
            default_namespace: "default".into(),
            traefik: glob_set(&config.git.traefik, "config git.traefik")?,
        }),
        None => None,
    };
    let kube_given = arguments.kube
        || arguments.in_cluster
        || arguments.kubeconfig.is_some()
        || !arguments.kube_context.is_empty();
    let has_live = !arguments.live_snapshot.is_empty()
        || arguments.traefik_url.is_some()
        || !arguments.tls_endpoint.is_empty()
        || !arguments.postgres.is_empty()
        || !arguments.pgbackrest_stanza.is_empty()
        || kube_given;
    if declared.is_none() && !has_live && !arguments.demo {
        return Err(InputError::new(
            "arguments",
            "nothing to scan: give --repo DIR (declared state), --live-snapshot FILE, --kube-context NAME, --traefik-url URL, --tls-endpoint HOST:PORT, --postgres DSN or --pgbackrest-stanza NAME (live state), or --demo",
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
    if kube_given {
        live.push(Arc::new(KubeOptions {
            kubeconfig: arguments.kubeconfig.clone(),
            contexts: arguments.kube_context.clone(),
            in_cluster: arguments.in_cluster,
            timeout: std::time::Duration::from_secs(arguments.kube_timeout.max(1)),
            ..KubeOptions::default()
        }));
    }
    let orphan_kinds = config
        .unmanaged
        .kinds
        .clone()
        .unwrap_or_else(|| DEFAULT_ORPHAN_KINDS.iter().map(|k| k.to_string()).collect());
    if let Some(url) = &arguments.traefik_url {
        live.push(Arc::new(traefik_options(arguments, url)?));
    }
    if !arguments.tls_endpoint.is_empty() {
        let endpoints = arguments
            .tls_endpoint
            .iter()
            .map(|text| TlsEndpoint::parse(text).map_err(|m| InputError::new("--tls-endpoint", m)))
            .collect::<Result<Vec<_>, _>>()?;
        live.push(Arc::new(TlsEndpoints {
            endpoints,
            timeout: NETWORK_TIMEOUT,
        }));
    }
    for dsn in &arguments.postgres {
        live.push(Arc::new(PostgresOptions::parse(
            dsn,
            arguments.postgres_password_file.clone(),
        )?));
    }
    for stanza in &arguments.pgbackrest_stanza {
        live.push(Arc::new(PgBackRestOptions {
            stanza: stanza.clone(),
            config: arguments.pgbackrest_config.clone(),
            deadline: None,
        }));
    }
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

    Ok(PreparedScan {
        options: ScanOptions {
            declared,
            declared_label: label,
            live,
            live_timeouts: LiveTimeouts {
                source: std::time::Duration::from_secs(arguments.source_timeout),
                scan: std::time::Duration::from_secs(arguments.scan_timeout),
            },
            orphan_kinds,
            policy_dirs,
            baselines,
            disabled_rules: config.policies.disable.clone(),
            drift: DriftOptions {
                strict: arguments.strict || config.drift.strict,
                ignore: config.drift.ignore.clone(),
                managed_namespaces: config.managed_namespaces.clone(),
                unmanaged_exclude: config.unmanaged.exclude.clone(),
                default_exclusions: !config.unmanaged.no_default_exclusions,
                managed_selector: config.unmanaged.selector.clone(),
            },
            now,
            policy_timeout: Some(std::time::Duration::from_secs(arguments.policy_timeout)),
            policy_memory: Some(arguments.policy_memory << 20),
            evaluate_policies: policies,
            fail_on,
            fail_on_drift: arguments.fail_on_drift,
            allow_partial: arguments.allow_partial,
        },
        _demo: demo,
    })
}
