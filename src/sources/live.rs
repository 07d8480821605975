//! Live sources: what actually runs. Each collector reads one running system
//! (or a snapshot of it) and returns a `LiveTarget`: an Inventory plus the
//! coverage gaps it met. A collector never fails the whole scan: what it
//! cannot read becomes a gap, reported and counted (exit 3).

use std::path::PathBuf;

use super::pgbackrest::{self, PgBackRestOptions};
use super::postgres::{self, PostgresOptions};
use super::snapshot::load_snapshot;
use crate::model::{CoverageGap, InputError, Inventory, Source};

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
}

impl LiveTarget {
    pub fn covers(&self, source: Source) -> bool {
        self.sources.contains(&source)
    }
}

/// Where live state comes from, one entry per `--live-snapshot`, context, URL...
#[derive(Debug, Clone)]
pub enum LiveSource {
    /// A snapshot file written by `driftaudit capture` (or by hand).
    Snapshot(PathBuf),
    /// A PostgreSQL server (`--postgres DSN`).
    Postgres(PostgresOptions),
    /// A pgBackRest stanza (`--pgbackrest-stanza NAME`).
    PgBackRest(PgBackRestOptions),
}

/// Reads every live source. Input errors (an unreadable snapshot) are returned
/// beside the targets that could be read.
pub fn collect_live(sources: &[LiveSource]) -> (Vec<LiveTarget>, Vec<InputError>) {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        match source {
            LiveSource::Snapshot(path) => match load_snapshot(path) {
                Ok((loaded, snapshot_errors)) => {
                    errors.extend(snapshot_errors);
                    targets.extend(loaded);
                }
                Err(error) => errors.push(error),
            },
            LiveSource::Postgres(options) => targets.push(postgres::live::collect(options)),
            LiveSource::PgBackRest(options) => targets.push(pgbackrest::collect(options)),
        }
    }
    (targets, errors)
}

/// All coverage gaps of the targets, for the report.
pub fn coverage_of(targets: &[LiveTarget]) -> Vec<CoverageGap> {
    targets
        .iter()
        .flat_map(|t| t.coverage.iter().cloned())
        .collect()
}
