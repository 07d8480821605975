//! WAL archiving as the live PostgreSQL servers report it
//! (`Report::wal_archivers`, docs/metrics.md): the `Archiver` resource the
//! PostgreSQL source reads from `pg_stat_archiver` and the archiving
//! settings, one entry per server.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{LiveTarget, Source};

/// One server's WAL archiver.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WalArchiverStatus {
    /// The live target (`postgres 10.0.0.5:5432/app`).
    pub target: String,
    /// The server label `host:port/database` (never credentials).
    pub server: String,
    /// `archive_mode` (`on`, `off`, `always`); null when unknown.
    pub archive_mode: Option<String>,
    /// `pg_stat_archiver.archived_count` / `failed_count` since `stats_reset`.
    pub archived_count: Option<i64>,
    pub failed_count: Option<i64>,
    /// RFC 3339 times of the last archived and the last failed WAL segment.
    pub last_archived_time: Option<String>,
    pub last_failed_time: Option<String>,
    /// Failures since the last success (the source's `failing`, DA-BAK-012).
    pub failing: bool,
}

/// One row per live PostgreSQL `Archiver` resource, sorted.
pub fn wal_archiver_table(targets: &[LiveTarget]) -> Vec<WalArchiverStatus> {
    let mut table: Vec<WalArchiverStatus> = targets
        .iter()
        .flat_map(|target| {
            target
                .inventory
                .iter()
                .filter(|r| r.identity.source == Source::Postgres && r.identity.kind == "Archiver")
                .map(|r| {
                    let body = &r.body;
                    let text =
                        |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
                    let number = |key: &str| body.get(key).and_then(Value::as_i64);
                    WalArchiverStatus {
                        target: target.name.clone(),
                        server: r.identity.namespace.clone(),
                        archive_mode: text("archive_mode"),
                        archived_count: number("archived_count"),
                        failed_count: number("failed_count"),
                        last_archived_time: text("last_archived_time"),
                        last_failed_time: text("last_failed_time"),
                        failing: body.get("failing").and_then(Value::as_bool) == Some(true),
                    }
                })
        })
        .collect();
    table.sort();
    table
}
