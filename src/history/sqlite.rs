//! The embedded history store: one SQLite file (`--history sqlite:PATH`),
//! SQLite compiled into the binary (rusqlite's `bundled`).
//!
//! The folder is created 0700 when missing and the file 0600; the file's
//! last path component is never followed when it is a symbolic link (the
//! file is created with `O_NOFOLLOW`, then opened with SQLite's
//! `SQLITE_OPEN_NOFOLLOW`, which refuses a link). WAL journal, a busy
//! timeout and `BEGIN IMMEDIATE` writes let two scans share one file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{EntryRow, ScanRow, Store, SCHEMA_VERSION};

/// The migrations, by version: each applied once, in order, in one
/// transaction with its row in `driftaudit_migrations`.
fn migrations() -> Vec<(i64, String)> {
    super::migrations("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "INTEGER")
}

pub struct SqliteStore {
    path: PathBuf,
    connection: Connection,
}

/// Creates the folder (0700) and the file (0600) when missing, refusing a
/// symbolic link or anything but a regular file at the path.
fn prepare_file(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| format!("cannot create the folder {}: {e}", parent.display()))?;
        }
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                "the path is a symbolic link, which is not followed: name the file itself".into()
            } else {
                format!("cannot open the file: {e}")
            }
        })?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read the file's metadata: {e}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    Ok(())
}

fn sql(error: rusqlite::Error) -> String {
    match &error {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::NotADatabase =>
        {
            "the file is not a SQLite database (or is corrupt)".into()
        }
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::DatabaseBusy
                || code.code == rusqlite::ErrorCode::DatabaseLocked =>
        {
            "the database stayed locked by another writer past the busy timeout (30 s)".into()
        }
        _ => error.to_string(),
    }
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, String> {
        prepare_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let connection = Connection::open_with_flags(path, flags).map_err(sql)?;
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(sql)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        let mut store = SqliteStore {
            path: path.to_path_buf(),
            connection,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), String> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS driftaudit_migrations (
                version INTEGER PRIMARY KEY,
                applied_by TEXT NOT NULL
            )",
        )
        .map_err(sql)?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM driftaudit_migrations",
                [],
                |row| row.get(0),
            )
            .map_err(sql)?;
        if current > SCHEMA_VERSION {
            return Err(super::newer_schema(current));
        }
        for (version, statements) in migrations().iter().filter(|(v, _)| *v > current) {
            tx.execute_batch(statements).map_err(sql)?;
            tx.execute(
                "INSERT INTO driftaudit_migrations (version, applied_by) VALUES (?1, ?2)",
                params![version, format!("driftaudit {}", env!("CARGO_PKG_VERSION"))],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }
}

const SCAN_COLUMNS: &str = "id, target, clock, tool_version, declared, commit_id, result, exit_code, complete, findings, suppressed, drift, coverage_gaps, errors, evidence";
const ENTRY_COLUMNS: &str = "kind, fingerprint, rule, severity, category, target, environment, resource_kind, resource_namespace, resource_name, path, status, owner, suppressed, first_seen";

fn scan_of(row: &rusqlite::Row) -> rusqlite::Result<ScanRow> {
    Ok(ScanRow {
        id: row.get(0)?,
        target: row.get(1)?,
        clock: row.get(2)?,
        tool_version: row.get(3)?,
        declared: row.get(4)?,
        commit: row.get(5)?,
        result: row.get(6)?,
        exit_code: row.get(7)?,
        complete: row.get::<_, i64>(8)? != 0,
        findings: row.get(9)?,
        suppressed: row.get(10)?,
        drift: row.get(11)?,
        coverage_gaps: row.get(12)?,
        errors: row.get(13)?,
        evidence: row.get(14)?,
    })
}

/// The entry columns from `offset` on.
fn entry_of(row: &rusqlite::Row, offset: usize) -> rusqlite::Result<EntryRow> {
    Ok(EntryRow {
        kind: row.get(offset)?,
        fingerprint: row.get(offset + 1)?,
        rule: row.get(offset + 2)?,
        severity: row.get(offset + 3)?,
        category: row.get(offset + 4)?,
        target: row.get(offset + 5)?,
        environment: row.get(offset + 6)?,
        resource_kind: row.get(offset + 7)?,
        resource_namespace: row.get(offset + 8)?,
        resource_name: row.get(offset + 9)?,
        path: row.get(offset + 10)?,
        status: row.get(offset + 11)?,
        owner: row.get(offset + 12)?,
        suppressed: row.get::<_, i64>(offset + 13)? != 0,
        first_seen: row.get(offset + 14)?,
    })
}

impl Store for SqliteStore {
    fn label(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn previous(
        &mut self,
        target: &str,
        now: i64,
    ) -> Result<Option<(ScanRow, Vec<EntryRow>)>, String> {
        let scan = self
            .connection
            .query_row(
                &format!(
                    "SELECT {SCAN_COLUMNS} FROM driftaudit_scans
                     WHERE target = ?1 AND clock <= ?2 AND complete = 1
                     ORDER BY clock DESC, id DESC LIMIT 1"
                ),
                params![target, now],
                scan_of,
            )
            .optional()
            .map_err(sql)?;
        let Some(scan) = scan else {
            return Ok(None);
        };
        let entries = self
            .entries(Some(&[scan.id]))?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        Ok(Some((scan, entries)))
    }

    fn record(&mut self, scan: &ScanRow, entries: &[EntryRow]) -> Result<i64, String> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute(
            "INSERT INTO driftaudit_scans (target, clock, tool_version, declared, commit_id, result, exit_code, complete, findings, suppressed, drift, coverage_gaps, errors, evidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                scan.target,
                scan.clock,
                scan.tool_version,
                scan.declared,
                scan.commit,
                scan.result,
                scan.exit_code,
                scan.complete as i64,
                scan.findings,
                scan.suppressed,
                scan.drift,
                scan.coverage_gaps,
                scan.errors,
                scan.evidence
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(&format!(
                    "INSERT OR IGNORE INTO driftaudit_entries (scan_id, {ENTRY_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                ))
                .map_err(sql)?;
            for e in entries {
                insert
                    .execute(params![
                        id,
                        e.kind,
                        e.fingerprint,
                        e.rule,
                        e.severity,
                        e.category,
                        e.target,
                        e.environment,
                        e.resource_kind,
                        e.resource_namespace,
                        e.resource_name,
                        e.path,
                        e.status,
                        e.owner,
                        e.suppressed as i64,
                        e.first_seen
                    ])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(id)
    }

    fn scans(&mut self) -> Result<Vec<ScanRow>, String> {
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT {SCAN_COLUMNS} FROM driftaudit_scans ORDER BY clock, id"
            ))
            .map_err(sql)?;
        let rows = statement
            .query_map([], scan_of)
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        Ok(rows)
    }

    fn entries(&mut self, scans: Option<&[i64]>) -> Result<Vec<(i64, EntryRow)>, String> {
        let read = |row: &rusqlite::Row| Ok((row.get::<_, i64>(0)?, entry_of(row, 1)?));
        let base = format!("SELECT scan_id, {ENTRY_COLUMNS} FROM driftaudit_entries");
        match scans {
            None => {
                let mut statement = self
                    .connection
                    .prepare(&format!("{base} ORDER BY scan_id, kind, fingerprint"))
                    .map_err(sql)?;
                let rows = statement
                    .query_map([], read)
                    .map_err(sql)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(sql);
                rows
            }
            Some(ids) => {
                let mut statement = self
                    .connection
                    .prepare(&format!(
                        "{base} WHERE scan_id = ?1 ORDER BY kind, fingerprint"
                    ))
                    .map_err(sql)?;
                let mut all = Vec::new();
                for id in ids {
                    let rows = statement
                        .query_map([id], read)
                        .map_err(sql)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(sql)?;
                    all.extend(rows);
                }
                Ok(all)
            }
        }
    }

    fn delete_scans(&mut self, ids: &[i64]) -> Result<(), String> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        for id in ids {
            tx.execute("DELETE FROM driftaudit_entries WHERE scan_id = ?1", [id])
                .map_err(sql)?;
            tx.execute("DELETE FROM driftaudit_scans WHERE id = ?1", [id])
                .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }
}
