//! Live sources: what actually runs. Each collector reads one running system
//! (or a snapshot of it) and returns a `LiveTarget`: an Inventory plus the
//! coverage gaps it met. A collector never fails the whole scan: what it
//! cannot read becomes a gap, reported and counted (exit 3).
//!
//! Every collector runs under a deadline: the earlier of its own
//! (`--source-timeout`) and the end of live collection (`--scan-timeout`).
//! Collectors stop themselves at it where they can (between pages, between
//! LISTs, during a TLS handshake); a collector still running shortly after it
//! is abandoned and its whole target becomes a coverage gap, so no source can
//! hold the scan and the rest of the report is still written.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::kubernetes::{self, KubeOptions, ReadPlan};
use super::pgbackrest::{self, PgBackRestOptions};
use super::postgres::{self, PostgresOptions};
use super::snapshot::load_snapshot;
use super::tls_endpoint::{self, TlsEndpoint};
use super::traefik::api::{self as traefik_api, TraefikOptions};
use crate::model::{CoverageGap, Identity, InputError, Inventory, Source};

/// One live system as read by a collector.
#[derive(Debug, Default)]
pub struct LiveTarget {
    /// How reports name it (`prod-cluster`, `traefik http://127.0.0.1:8080`).
    pub name: String,
    /// The sources it covers: declared resources of other sources are not
    /// compared with it (a Traefik target says nothing about Deployments).
    pub sources: Vec<Source>,
    pub inventory: Inventory,
    pub coverage: Vec<CoverageGap>,
    /// Kinds of its sources that are never compared with Git: the collector
    /// cannot read them (Traefik's API does not expose TLS options), or Git does
    /// not declare them (Traefik entry points live in the static config). Such
    /// declared resources are not "missing" and such live ones not "unmanaged".
    pub uncompared_kinds: Vec<String>,
}

impl LiveTarget {
    pub fn covers(&self, source: Source) -> bool {
        self.sources.contains(&source)
    }

    /// Whether drift compares this resource with the target.
    pub fn compares(&self, identity: &Identity) -> bool {
        self.covers(identity.source)
            && !self.uncompared_kinds.contains(&identity.kind)
            && !self.coverage.iter().any(|g| g.hides(identity))
    }
}

/// The time limits of live collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTimeouts {
    /// Each source (`--source-timeout`).
    pub source: Duration,
    /// All sources together (`--scan-timeout`).
    pub scan: Duration,
}

impl Default for LiveTimeouts {
    fn default() -> Self {
        LiveTimeouts {
            source: Duration::from_secs(120),
            scan: Duration::from_secs(600),
        }
    }
}

/// When a collector must be done, and which limit set that time (for the
/// gap's reason: the limit as configured, never a measured duration).
#[derive(Debug, Clone)]
pub struct Deadline {
    pub at: Instant,
    /// `the --source-timeout of 120 s`.
    pub limit: String,
}

impl Deadline {
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The reason of a gap the deadline causes.
    pub fn reason(&self) -> String {
        format!("did not finish within {}", self.limit)
    }
}

/// How long an abandoned collector gets past its deadline to report its own,
/// more precise gaps first.
const GRACE: Duration = Duration::from_millis(1500);

/// Where live state comes from, one entry per `--live-snapshot`, context, URL...
#[derive(Debug, Clone)]
pub enum LiveSource {
    /// A snapshot file written by `driftaudit capture` (or by hand).
    Snapshot(PathBuf),
    /// Kubernetes clusters (one target per context), read with `plan`.
    Kubernetes(KubeOptions),
    /// A running Traefik, through its API.
    Traefik(TraefikOptions),
    /// TLS endpoints whose served certificates are read (one target for all).
    TlsEndpoints(Vec<TlsEndpoint>, std::time::Duration),
    /// A PostgreSQL server (`--postgres DSN`).
    Postgres(PostgresOptions),
    /// A pgBackRest stanza (`--pgbackrest-stanza NAME`).
    PgBackRest(PgBackRestOptions),
}

/// Reads every live source, each under its deadline. Input errors (an
/// unreadable snapshot) are returned beside the targets that could be read.
pub fn collect_live(
    sources: &[LiveSource],
    plan: &ReadPlan,
    timeouts: &LiveTimeouts,
) -> (Vec<LiveTarget>, Vec<InputError>) {
    let scan_end = Deadline {
        at: Instant::now() + timeouts.scan,
        limit: format!("the --scan-timeout of {} s", timeouts.scan.as_secs()),
    };
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        if let LiveSource::Snapshot(path) = source {
            // A local file: read whatever the clock says.
            match load_snapshot(path) {
                Ok((loaded, snapshot_errors)) => {
                    errors.extend(snapshot_errors);
                    targets.extend(loaded);
                }
                Err(error) => errors.push(error),
            }
            continue;
        }
        let own_end = Instant::now() + timeouts.source;
        let deadline = if own_end < scan_end.at {
            Deadline {
                at: own_end,
                limit: format!("the --source-timeout of {} s", timeouts.source.as_secs()),
            }
        } else {
            scan_end.clone()
        };
        if deadline.passed() {
            targets.extend(unread_targets(
                source,
                &format!("not read: {} was reached", deadline.limit),
            ));
            continue;
        }
        match collect_within(source, plan, &deadline) {
            Ok(Ok(collected)) => targets.extend(collected),
            Ok(Err(error)) => errors.push(error),
            Err(()) => targets.extend(unread_targets(source, &deadline.reason())),
        }
    }
    (targets, errors)
}

/// Runs one collector on its own thread; `Err(())` when it is still running
/// past its deadline (it is left behind: the process exits after the report).
fn collect_within(
    source: &LiveSource,
    plan: &ReadPlan,
    deadline: &Deadline,
) -> Result<Result<Vec<LiveTarget>, InputError>, ()> {
    let (sender, receiver) = mpsc::channel();
    let source = source.clone();
    let plan = plan.clone();
    let for_collector = deadline.clone();
    std::thread::spawn(move || {
        let _ = sender.send(collect_one(source, &plan, for_collector));
    });
    receiver
        .recv_timeout(deadline.remaining() + GRACE)
        .map_err(|_| ())
}

fn collect_one(
    source: LiveSource,
    plan: &ReadPlan,
    deadline: Deadline,
) -> Result<Vec<LiveTarget>, InputError> {
    Ok(match source {
        LiveSource::Kubernetes(mut options) => {
            options.deadline = Some(deadline);
            runtime()?.block_on(kubernetes::collect(&options, plan))
        }
        LiveSource::Snapshot(path) => {
            let (loaded, _) = load_snapshot(&path)?;
            loaded
        }
        LiveSource::Traefik(mut options) => {
            options.deadline = Some(deadline);
            vec![traefik_api::collect(&options)]
        }
        LiveSource::TlsEndpoints(endpoints, timeout) => {
            vec![tls_endpoint::collect(&endpoints, timeout, Some(&deadline))]
        }
        LiveSource::Postgres(options) => vec![postgres::live::collect(&options)],
        LiveSource::PgBackRest(mut options) => {
            options.deadline = Some(deadline);
            vec![pgbackrest::collect(&options)]
        }
    })
}

/// The targets of a source that was not read (or not to its end): each one
/// gap covering the whole source.
fn unread_targets(source: &LiveSource, reason: &str) -> Vec<LiveTarget> {
    let target = |name: String, source: Source, scope: String, endpoint: String| LiveTarget {
        coverage: vec![CoverageGap {
            source,
            target: name.clone(),
            scope,
            reason: reason.to_string(),
            endpoint,
            kind: None,
        }],
        name,
        sources: vec![source],
        ..LiveTarget::default()
    };
    match source {
        LiveSource::Snapshot(_) => Vec::new(),
        LiveSource::Kubernetes(options) => {
            let names: Vec<String> = if options.in_cluster {
                vec!["in-cluster".into()]
            } else if options.contexts.is_empty() {
                vec!["current-context".into()]
            } else {
                options.contexts.clone()
            };
            names
                .into_iter()
                .map(|name| {
                    target(
                        name,
                        Source::Kubernetes,
                        "the whole cluster".into(),
                        String::new(),
                    )
                })
                .collect()
        }
        LiveSource::Traefik(options) => vec![target(
            format!("traefik {}", options.url),
            Source::Traefik,
            "the whole Traefik API".into(),
            options.url.clone(),
        )],
        LiveSource::TlsEndpoints(endpoints, _) => {
            let mut unread = target(
                "tls endpoints".into(),
                Source::Traefik,
                String::new(),
                String::new(),
            );
            // The endpoint target compares nothing with Git (see `tls_endpoint`).
            unread.sources.clear();
            unread.coverage = endpoints
                .iter()
                .map(|endpoint| CoverageGap {
                    source: Source::Traefik,
                    target: unread.name.clone(),
                    scope: format!("TLS endpoint {}", endpoint.label()),
                    reason: reason.to_string(),
                    endpoint: endpoint.label(),
                    kind: None,
                })
                .collect();
            unread.coverage.sort();
            vec![unread]
        }
        LiveSource::Postgres(_) => vec![target(
            "postgres".into(),
            Source::Postgres,
            "PostgreSQL server".into(),
            String::new(),
        )],
        LiveSource::PgBackRest(options) => vec![target(
            format!("pgbackrest {}", options.stanza),
            Source::Backup,
            format!("pgBackRest stanza {}", options.stanza),
            String::new(),
        )],
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, InputError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| InputError::new("runtime", format!("cannot start the async runtime: {e}")))
}

/// All coverage gaps of the targets, for the report.
pub fn coverage_of(targets: &[LiveTarget]) -> Vec<CoverageGap> {
    targets
        .iter()
        .flat_map(|t| t.coverage.iter().cloned())
        .collect()
}
