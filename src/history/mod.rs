//! Scan history (docs/history.md): every scan recorded in a store (SQLite
//! embedded, or PostgreSQL shared by a fleet), so a report can say what is
//! new since the last scan of the same target, since when each finding and
//! drift entry has been open, and what was resolved; and `driftaudit
//! history` can list scans, trends, time to resolve and SLA breaches.
//!
//! A store holds identities, never values: fingerprints, rule ids,
//! resource names, paths, statuses, owners and the report's evidence block
//! (digests). Never a Secret value, a DSN with its password or a password.

pub mod analysis;
pub mod postgres;
pub mod sqlite;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::diag::{Code, Place};
use crate::drift::{Drift, DriftStatus};
use crate::model::{InputError, Severity};
use crate::report::{exit, Finding, Report};
use crate::sources::postgres::PostgresOptions;

/// The default SQLite store, relative to the config file's folder (the
/// working directory without a config).
pub const DEFAULT_PATH: &str = ".driftaudit/history.db";

/// The newest schema version this build knows (`driftaudit_migrations`).
pub const SCHEMA_VERSION: i64 = 1;

/// Where the history lives (`--history SPEC`).
#[derive(Debug, Clone)]
pub enum HistorySpec {
    Sqlite(PathBuf),
    Postgres(PostgresOptions),
}

/// Parses `sqlite:PATH`, `postgres:DSN` (or a bare `postgres://` URL); the
/// empty spec is the default SQLite file under `base_dir`. A relative PATH
/// is relative to `base_dir` too (the config's folder for the config key,
/// the working directory for the flag). A DSN holding a password is refused.
pub fn parse_spec(
    text: &str,
    base_dir: &Path,
    password_file: Option<PathBuf>,
) -> Result<HistorySpec, InputError> {
    let usage = |message: String| {
        InputError::error(
            Code::BadFlagValue,
            Place::Argument("--history".into()),
            message,
        )
    };
    if text.is_empty() {
        return Ok(HistorySpec::Sqlite(base_dir.join(DEFAULT_PATH)));
    }
    if let Some(path) = text.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(usage(
                "`sqlite:` names no file (e.g. `sqlite:.driftaudit/history.db`)".into(),
            ));
        }
        let path = Path::new(path);
        return Ok(HistorySpec::Sqlite(if path.is_absolute() {
            path.to_path_buf()
        } else {
            base_dir.join(path)
        }));
    }
    let dsn = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Some(text)
    } else {
        text.strip_prefix("postgres:")
    };
    if let Some(dsn) = dsn {
        return PostgresOptions::parse_for(dsn, password_file, "--history")
            .map(HistorySpec::Postgres);
    }
    // Never echo the value: it may be a DSN with a password.
    Err(usage(
        "not a history store: give `sqlite:PATH` or `postgres:DSN` (or `--history` alone for .driftaudit/history.db)".into(),
    ))
}

/// One stored scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRow {
    pub id: i64,
    /// The history key of the scan (docs/history.md).
    pub target: String,
    /// The scan clock, in Unix seconds.
    pub clock: i64,
    pub tool_version: String,
    pub declared: Option<String>,
    pub commit: Option<String>,
    pub result: String,
    pub exit_code: i64,
    /// No coverage gap and no error: only such scans tell what was resolved.
    pub complete: bool,
    pub findings: i64,
    pub suppressed: i64,
    pub drift: i64,
    pub coverage_gaps: i64,
    pub errors: i64,
    /// The report's evidence block as JSON (digests and identities).
    #[serde(skip)]
    pub evidence: Option<String>,
}

/// One finding or drift entry of a stored scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRow {
    /// `finding` or `drift`.
    pub kind: String,
    pub fingerprint: String,
    pub rule: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    /// The live target(s), comma-separated.
    pub target: String,
    pub environment: Option<String>,
    pub resource_kind: Option<String>,
    pub resource_namespace: Option<String>,
    pub resource_name: Option<String>,
    pub path: Option<String>,
    /// The drift status (`modified`, `missing`, `unmanaged`).
    pub status: Option<String>,
    pub owner: Option<String>,
    /// Covered by an exemption or a waiver: recorded, never open.
    pub suppressed: bool,
    /// Unix seconds: the first scan of this run of scans that saw it.
    pub first_seen: i64,
}

impl EntryRow {
    fn key(&self) -> (String, String) {
        (self.kind.clone(), self.fingerprint.clone())
    }
}

/// A history store. Errors are messages that name no password.
pub trait Store {
    /// `sqlite:/path/history.db`, `postgres:host:port/db`.
    fn label(&self) -> String;
    /// The latest complete scan of `target` at or before `now`, with its entries.
    fn previous(
        &mut self,
        target: &str,
        now: i64,
    ) -> Result<Option<(ScanRow, Vec<EntryRow>)>, String>;
    /// Records a scan and its entries in one transaction; its id.
    fn record(&mut self, scan: &ScanRow, entries: &[EntryRow]) -> Result<i64, String>;
    /// Every scan, by clock then id.
    fn scans(&mut self) -> Result<Vec<ScanRow>, String>;
    /// The entries of these scans (all scans when `None`), with their scan id.
    fn entries(&mut self, scans: Option<&[i64]>) -> Result<Vec<(i64, EntryRow)>, String>;
    /// Deletes these scans and their entries in one transaction.
    fn delete_scans(&mut self, ids: &[i64]) -> Result<(), String>;
}

/// Opens (creating and migrating) the store.
pub fn open(spec: &HistorySpec) -> Result<Box<dyn Store>, InputError> {
    match spec {
        HistorySpec::Sqlite(path) => sqlite::SqliteStore::open(path)
            .map(|s| Box::new(s) as Box<dyn Store>)
            .map_err(|m| store_error(&format!("sqlite:{}", path.display()), m)),
        HistorySpec::Postgres(options) => postgres::PgStore::open(options)
            .map(|s| Box::new(s) as Box<dyn Store>)
            .map_err(|(label, m)| store_error(&label, m)),
    }
}

/// The schema migrations of both stores, by version, in one dialect: the
/// types of the id column, of integers and of booleans.
pub fn migrations(id: &str, int: &str, boolean: &str) -> Vec<(i64, String)> {
    let v1 = r#"CREATE TABLE driftaudit_scans (
        id {id},
        target TEXT NOT NULL,
        clock {int} NOT NULL,
        tool_version TEXT NOT NULL,
        declared TEXT,
        commit_id TEXT,
        result TEXT NOT NULL,
        exit_code {int} NOT NULL,
        complete {boolean} NOT NULL,
        findings {int} NOT NULL,
        suppressed {int} NOT NULL,
        drift {int} NOT NULL,
        coverage_gaps {int} NOT NULL,
        errors {int} NOT NULL,
        evidence TEXT
    );
    CREATE INDEX driftaudit_scans_target ON driftaudit_scans (target, clock, id);
    CREATE TABLE driftaudit_entries (
        scan_id {int} NOT NULL REFERENCES driftaudit_scans (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        rule TEXT,
        severity TEXT,
        category TEXT,
        target TEXT NOT NULL,
        environment TEXT,
        resource_kind TEXT,
        resource_namespace TEXT,
        resource_name TEXT,
        path TEXT,
        status TEXT,
        owner TEXT,
        suppressed {boolean} NOT NULL,
        first_seen {int} NOT NULL,
        PRIMARY KEY (scan_id, kind, fingerprint)
    );"#;
    vec![(
        1,
        v1.replace("{id}", id)
            .replace("{int}", int)
            .replace("{boolean}", boolean),
    )]
}

/// Why a store whose schema is newer than this build is refused.
pub fn newer_schema(found: i64) -> String {
    format!("its schema is version {found}, newer than version {SCHEMA_VERSION}, the newest this driftaudit knows: use a newer driftaudit (the store was left as it is)")
}

/// The diagnostic of a store that cannot be used (DA-E701).
pub fn store_error(label: &str, message: String) -> InputError {
    InputError::error(
        Code::HistoryStore,
        Place::Text(format!("history {}", crate::printable::printable(label))),
        format!("the history store cannot be used: {message}"),
    )
}

/// Unix seconds of a time.
pub fn unix(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}

/// RFC 3339 (UTC, seconds) of Unix seconds.
pub fn rfc3339(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(crate::scan::format_time)
        .unwrap_or_default()
}

/// `3d`, `5h`, `12m`, `40s`: the largest whole unit.
pub fn short_age(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3_600 {
        format!("{}h", s / 3_600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Parses `30d`, `12h`, `45m`, `90s`, `2w` strictly: digits then one unit,
/// more than zero, nothing else. Seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let unit = text.chars().last().ok_or("an empty duration")?;
    let digits = &text[..text.len() - unit.len_utf8()];
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => {
            return Err(format!(
                "`{text}` is not a duration: digits then s, m, h, d or w (e.g. 30d)"
            ))
        }
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return Err(format!(
            "`{text}` is not a duration: digits then s, m, h, d or w (e.g. 30d)"
        ));
    }
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration"))?;
    if n == 0 {
        return Err(format!("`{text}`: a duration must be more than zero"));
    }
    Ok(n * factor)
}

/// A drift entry's fingerprint (docs/fingerprints.md): 32 hex digits over
/// the target, the resource identity (source, API group, kind, namespace,
/// name), the environment and the status.
pub fn drift_fingerprint(drift: &Drift) -> String {
    let mut hasher = Sha256::new();
    let mut field = |text: &str| {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    };
    let r = &drift.resource;
    let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    field("driftaudit-drift-fingerprint-1");
    field(&drift.target);
    field(r.source.as_str());
    field(group);
    field(&r.kind);
    field(&r.namespace);
    field(&r.name);
    field(drift.environment.as_deref().unwrap_or_default());
    field(drift.status.as_str());
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The history key of a scan (docs/history.md): `--history-target`, else
/// the declared label, the live target names and the environments, sorted.
pub fn target_key(report: &Report, explicit: Option<&str>) -> String {
    if let Some(name) = explicit {
        return name.to_string();
    }
    let mut parts = Vec::new();
    if let Some(declared) = &report.scan.declared {
        parts.push(format!("declared={declared}"));
    }
    let live: BTreeSet<&str> = report.scan.live.iter().map(String::as_str).collect();
    if !live.is_empty() {
        parts.push(format!(
            "live={}",
            live.into_iter().collect::<Vec<_>>().join(",")
        ));
    }
    let environments: BTreeSet<&str> = report
        .scan
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    if !environments.is_empty() {
        parts.push(format!(
            "environments={}",
            environments.into_iter().collect::<Vec<_>>().join(",")
        ));
    }
    parts.join(" ")
}

/// What a finding or drift entry remembers (in the report, with `--history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryHistory {
    /// The clock of the first scan of the same target, in the current
    /// unbroken run of scans showing it (RFC 3339).
    pub first_seen: String,
    /// The clock of the last scan showing it: this one.
    pub last_seen: String,
    /// `last_seen - first_seen` in seconds.
    pub age_seconds: i64,
    /// Not in the previous (complete) scan of the same target.
    pub new_since_last_scan: bool,
}

/// A stored finding or drift entry as reports and `history` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    /// `finding` or `drift`.
    pub kind: String,
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// `Deployment shop/web`; null for whole-inventory findings.
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub first_seen: String,
}

impl EntryView {
    pub fn of(entry: &EntryRow) -> EntryView {
        EntryView {
            kind: entry.kind.clone(),
            fingerprint: entry.fingerprint.clone(),
            rule: entry.rule.clone(),
            severity: entry.severity.clone(),
            category: entry.category.clone(),
            target: entry.target.clone(),
            environment: entry.environment.clone(),
            resource: resource_of(entry),
            path: entry.path.clone(),
            status: entry.status.clone(),
            owner: entry.owner.clone(),
            first_seen: rfc3339(entry.first_seen),
        }
    }

    /// The rule, or `drift STATUS`.
    pub fn what(&self) -> String {
        match (&self.rule, &self.status) {
            (Some(rule), _) => rule.clone(),
            (None, Some(status)) => format!("drift {status}"),
            (None, None) => self.kind.clone(),
        }
    }
}

/// An entry of the previous scan of the same target that this scan no
/// longer shows (`report.resolved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedEntry {
    #[serde(flatten)]
    pub entry: EntryView,
    /// The clock of the last scan that showed it.
    pub last_seen: String,
}

/// `report.history`: what the store said about this scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistorySummary {
    /// `sqlite:PATH` or `postgres:host:port/dbname` (never a password).
    pub store: String,
    /// The history key of this scan.
    pub target: String,
    /// This scan's id in the store.
    pub scan_id: i64,
    /// The scan compared with: the latest complete scan of the same target.
    pub previous_scan: Option<PreviousScan>,
    /// Open findings and drift entries new since that scan.
    pub new: usize,
    pub existing: usize,
    /// Entries of that scan gone now; null when this scan is incomplete
    /// (what was not checked cannot be called resolved).
    pub resolved: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousScan {
    pub id: i64,
    pub now: String,
}

/// The resource of a finding or drift entry as stored.
fn resource_parts(
    r: &crate::model::ResourceRef,
) -> (Option<String>, Option<String>, Option<String>) {
    (
        Some(r.kind.clone()),
        Some(r.namespace.clone()).filter(|n| !n.is_empty()),
        Some(r.name.clone()),
    )
}

fn finding_row(finding: &Finding, suppressed: bool, first_seen: i64) -> EntryRow {
    let (resource_kind, resource_namespace, resource_name) = match &finding.resource {
        Some(r) => resource_parts(r),
        None => (None, None, None),
    };
    EntryRow {
        kind: "finding".into(),
        fingerprint: finding.fingerprint.clone(),
        rule: Some(finding.rule.clone()),
        severity: Some(finding.severity.as_str().into()),
        category: Some(finding.category.clone()),
        target: finding.targets.join(","),
        environment: finding.environment.clone(),
        resource_kind,
        resource_namespace,
        resource_name,
        path: finding.path.clone(),
        status: None,
        owner: finding.owner.clone(),
        suppressed,
        first_seen,
    }
}

fn drift_row(drift: &Drift, first_seen: i64) -> EntryRow {
    let (resource_kind, resource_namespace, resource_name) = resource_parts(&drift.resource);
    EntryRow {
        kind: "drift".into(),
        fingerprint: drift_fingerprint(drift),
        rule: None,
        severity: None,
        category: None,
        target: drift.target.clone(),
        environment: drift.environment.clone(),
        resource_kind,
        resource_namespace,
        resource_name,
        path: None,
        status: Some(drift.status.as_str().into()),
        owner: drift.owner.clone(),
        suppressed: false,
        first_seen,
    }
}

/// `Deployment shop/web` of a stored entry.
pub fn resource_of(entry: &EntryRow) -> Option<String> {
    let kind = entry.resource_kind.as_deref()?;
    let name = entry.resource_name.as_deref().unwrap_or_default();
    Some(match entry.resource_namespace.as_deref() {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    })
}

/// `--history` on a scan: what to use and how to gate.
#[derive(Debug, Clone)]
pub struct HistoryRun {
    pub spec: HistorySpec,
    /// `--history-target`.
    pub target: Option<String>,
    /// `--fail-on-new`.
    pub fail_on_new: bool,
    pub allow_partial: bool,
}

/// Gives the report its memory and records the scan: opens the store, reads
/// the latest complete scan of the same target, marks every open finding and
/// drift entry (`first_seen`, `last_seen`, `age_seconds`,
/// `new_since_last_scan`), lists what was resolved, applies `--fail-on-new`,
/// and records the scan with its final exit code. A store that cannot be used
/// is an error of the report (exit 2), and then nothing is called new or resolved.
pub fn remember(report: &mut Report, run: &HistoryRun) {
    let mut store = match open(&run.spec) {
        Ok(store) => store,
        Err(error) => return fail(report, run, error),
    };
    let label = store.label();
    if let Err(message) = remember_in(store.as_mut(), report, run) {
        clear(report);
        fail(report, run, store_error(&label, message));
    }
}

fn remember_in(store: &mut dyn Store, report: &mut Report, run: &HistoryRun) -> Result<(), String> {
    let now_time = OffsetDateTime::parse(
        &report.scan.now,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| format!("the scan clock `{}` does not parse: {e}", report.scan.now))?;
    let now = unix(now_time);
    let target = target_key(report, run.target.as_deref());
    let previous = store.previous(&target, now)?;
    let before: BTreeMap<(String, String), EntryRow> = previous
        .as_ref()
        .map(|(_, entries)| {
            entries
                .iter()
                .filter(|e| !e.suppressed)
                .map(|e| (e.key(), e.clone()))
                .collect()
        })
        .unwrap_or_default();
    let now_text = report.scan.now.clone();
    let mark = |first: Option<i64>| {
        let first_seen = first.unwrap_or(now);
        EntryHistory {
            first_seen: rfc3339(first_seen),
            last_seen: now_text.clone(),
            age_seconds: now - first_seen,
            new_since_last_scan: first.is_none(),
        }
    };
    let mut rows = Vec::new();
    let (mut new, mut existing) = (0, 0);
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for finding in &mut report.findings {
        let key = ("finding".to_string(), finding.fingerprint.clone());
        let first = before.get(&key).map(|e| e.first_seen);
        let history = mark(first);
        if history.new_since_last_scan {
            new += 1;
        } else {
            existing += 1;
        }
        let first_seen = first.unwrap_or(now);
        finding.history = Some(history);
        if seen.insert(key) {
            rows.push(finding_row(finding, false, first_seen));
        }
    }
    for finding in &report.suppressed_findings {
        let key = ("finding".to_string(), finding.fingerprint.clone());
        if seen.insert(key) {
            rows.push(finding_row(finding, true, now));
        }
    }
    for drift in &mut report.drift {
        if drift.status == DriftStatus::InSync {
            continue;
        }
        let row = drift_row(drift, now);
        let key = row.key();
        let first = before.get(&key).map(|e| e.first_seen);
        let history = mark(first);
        if history.new_since_last_scan {
            new += 1;
        } else {
            existing += 1;
        }
        drift.history = Some(history);
        if seen.insert(key) {
            rows.push(EntryRow {
                first_seen: first.unwrap_or(now),
                ..row
            });
        }
    }
    // What was not checked cannot be called resolved.
    let complete = report.summary.complete;
    let mut resolved = Vec::new();
    if complete {
        if let Some((scan, _)) = &previous {
            for (key, entry) in &before {
                if seen.contains(key) {
                    continue;
                }
                resolved.push(ResolvedEntry {
                    entry: EntryView::of(entry),
                    last_seen: rfc3339(scan.clock),
                });
            }
        }
    }
    resolved.sort_by(|a, b| {
        let key = |r: &ResolvedEntry| {
            let e = &r.entry;
            (
                e.kind.clone(),
                e.target.clone(),
                e.resource.clone(),
                e.rule.clone(),
                e.fingerprint.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    regate(report, run.fail_on_new, run.allow_partial);
    let summary = &report.summary;
    let scan = ScanRow {
        id: 0,
        target: target.clone(),
        clock: now,
        tool_version: report.tool.version.to_string(),
        declared: report.scan.declared.clone(),
        commit: report.scan.commit.clone(),
        result: serde_json::to_value(summary.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        exit_code: summary.exit_code.into(),
        complete,
        findings: report.findings.len() as i64,
        suppressed: report.suppressed_findings.len() as i64,
        drift: (summary.drift.modified + summary.drift.missing + summary.drift.unmanaged) as i64,
        coverage_gaps: report.coverage.len() as i64,
        errors: report.errors.len() as i64,
        evidence: report
            .evidence
            .as_ref()
            .and_then(|e| serde_json::to_string(e).ok()),
    };
    let id = store.record(&scan, &rows)?;
    report.history = Some(HistorySummary {
        store: store.label(),
        target,
        scan_id: id,
        previous_scan: previous.as_ref().map(|(scan, _)| PreviousScan {
            id: scan.id,
            now: rfc3339(scan.clock),
        }),
        new,
        existing,
        resolved: complete.then_some(resolved.len()),
    });
    report.resolved = resolved;
    Ok(())
}

/// Takes every history mark off the report (a store that failed says nothing).
fn clear(report: &mut Report) {
    for finding in &mut report.findings {
        finding.history = None;
    }
    for drift in &mut report.drift {
        drift.history = None;
    }
    report.resolved.clear();
    report.history = None;
}

fn fail(report: &mut Report, run: &HistoryRun, error: InputError) {
    report.errors.push(error);
    regate(report, run.fail_on_new, run.allow_partial);
}

/// Recomputes the result and exit code after the history is applied (as
/// `Report::assemble` does, with `--fail-on-new` gating on new entries only).
pub fn regate(report: &mut Report, fail_on_new: bool, allow_partial: bool) {
    let is_new = |h: &Option<EntryHistory>| h.as_ref().is_some_and(|h| h.new_since_last_scan);
    let summary = &report.summary;
    let compare = report.scan.compare.as_ref();
    let failing_findings = summary.fail_on.is_some_and(|threshold: Severity| {
        report
            .findings
            .iter()
            .filter(|f| compare.is_none_or(|c| c.gates(f)))
            .filter(|f| !fail_on_new || is_new(&f.history))
            .any(|f| f.severity >= threshold)
    });
    let failing_drift = summary.fail_on_drift
        && report
            .drift
            .iter()
            .filter(|d| d.status != DriftStatus::InSync)
            .any(|d| !fail_on_new || is_new(&d.history));
    let complete = report.coverage.is_empty() && report.errors.is_empty();
    let result = exit::status_for(&exit::Outcome {
        errors: !report.errors.is_empty(),
        gaps: !report.coverage.is_empty(),
        allow_partial,
        failing: failing_findings || failing_drift,
    });
    let summary = &mut report.summary;
    summary.errors = report.errors.len();
    summary.complete = complete;
    summary.result = result;
    summary.exit_code = result.code();
    if let Some(evidence) = report.evidence.as_mut() {
        evidence.coverage.complete = complete;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_strictly() {
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(12 * 3_600));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400));
        for bad in [
            "",
            "d",
            "30",
            "30 d",
            "-1d",
            "1.5d",
            "0d",
            "30D",
            "30dd",
            "1234567890d",
            "３d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(short_age(3 * 86_400 + 5), "3d");
        assert_eq!(short_age(7_200), "2h");
        assert_eq!(short_age(59), "59s");
    }

    #[test]
    fn specs_parse_and_passwords_are_refused_unechoed() {
        let base = Path::new("/conf");
        match parse_spec("", base, None).unwrap() {
            HistorySpec::Sqlite(p) => assert_eq!(p, Path::new("/conf/.driftaudit/history.db")),
            other => panic!("{other:?}"),
        }
        match parse_spec("sqlite:h.db", base, None).unwrap() {
            HistorySpec::Sqlite(p) => assert_eq!(p, Path::new("/conf/h.db")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_spec("postgres:host=db user=u dbname=h", base, None).unwrap(),
            HistorySpec::Postgres(_)
        ));
        assert!(matches!(
            parse_spec("postgres://u@db/h", base, None).unwrap(),
            HistorySpec::Postgres(_)
        ));
        for bad in [
            "postgres:host=db password=hunter2",
            "postgres://u:hunter2@db/h",
            "mysql://u:hunter2@x",
        ] {
            let error = parse_spec(bad, base, None).unwrap_err();
            assert!(!error.to_string().contains("hunter2"), "{error}");
            assert_eq!(error.code, Code::BadFlagValue);
        }
    }
}
