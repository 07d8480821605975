//! Live sources: what actually runs. Each collector reads one running system
//! (or a snapshot of it) and returns a `LiveTarget`: an Inventory plus the
//! coverage gaps it met. A collector never fails the whole scan: what it
//! cannot read becomes a gap, reported and counted (exit 3).

use std::path::PathBuf;

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

/// Reads every live source. Input errors (an unreadable snapshot) are returned
/// beside the targets that could be read.
pub fn collect_live(sources: &[LiveSource], plan: &ReadPlan) -> (Vec<LiveTarget>, Vec<InputError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        match source {
            LiveSource::Kubernetes(options) => match runtime() {
                Ok(runtime) => targets.extend(runtime.block_on(kubernetes::collect(options, plan))),
                Err(error) => errors.push(error),
            },
            LiveSource::Snapshot(path) => match load_snapshot(path) {
                Ok((loaded, snapshot_errors)) => {
                    errors.extend(snapshot_errors);
                    targets.extend(loaded);
                }
                Err(error) => errors.push(error),
            },
            LiveSource::Traefik(options) => targets.push(traefik_api::collect(options)),
            LiveSource::TlsEndpoints(endpoints, timeout) => {
                targets.push(tls_endpoint::collect(endpoints, *timeout))
            }
            LiveSource::Postgres(options) => targets.push(postgres::live::collect(options)),
            LiveSource::PgBackRest(options) => targets.push(pgbackrest::collect(options)),
        }
    }
    (targets, errors)
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
