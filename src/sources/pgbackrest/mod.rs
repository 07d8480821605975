//! pgBackRest stanzas as backup resources: the live side runs
//! `pgbackrest info --output=json` for one stanza and reads the retention of
//! its configuration file; the declared side is a `kind: PgBackRestStanza`
//! document in Git. Both become `backup.driftaudit.io/v1 PgBackRestStanza`.
//!
//! `pgbackrest info` exits 0 for a stanza that does not exist; its JSON
//! `status.code` says so, and the rules read it. `db[].system-id` exceeds 2^53,
//! so the JSON is kept as exact integers (serde_json stores u64 exactly).

pub mod args;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::collect::{blocking_target, unread_target, Collected, Collector, LiveScope};
use super::document::DocumentPlace;
use crate::model::{CoverageGap, InputError, Origin, Resource, Source};
use crate::model::{Deadline, LiveTarget};
use crate::scratch::{run_until, Finished, RunFailure};
use crate::yaml::LineMap;

pub const API_VERSION: &str = "backup.driftaudit.io/v1";
pub const KIND: &str = "PgBackRestStanza";

/// `pgbackrest info` reads the repository; a remote one can be slow, never this slow.
const INFO_TIMEOUT: Duration = Duration::from_secs(120);

/// Retention options of a repository, as named in pgbackrest.conf after `repoN-`.
const RETENTION_OPTIONS: [(&str, &str); 5] = [
    ("retention-full", "full"),
    ("retention-full-type", "full_type"),
    ("retention-diff", "diff"),
    ("retention-archive", "archive"),
    ("retention-archive-type", "archive_type"),
];

/// One `--pgbackrest-stanza`, with the optional `--pgbackrest-config`.
#[derive(Debug, Clone)]
pub struct PgBackRestOptions {
    pub stanza: String,
    pub config: Option<PathBuf>,
    /// The source's deadline: `pgbackrest info` is killed when it passes.
    pub deadline: Option<Deadline>,
}

pub fn stanza_resource(
    stanza: &str,
    body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
) -> Resource {
    Resource::new(Source::Backup, API_VERSION, KIND, "", stanza, body, origin).with_lines(lines)
}

/// Reads one stanza. Never fails: a missing binary, a failing command or an
/// unreadable answer is a coverage gap.
pub fn collect(options: &PgBackRestOptions) -> LiveTarget {
    let name = format!("pgbackrest {}", options.stanza);
    let mut target = LiveTarget {
        name: name.clone(),
        sources: vec![Source::Backup],
        ..LiveTarget::default()
    };
    let config_path = config_path(options.config.as_deref());
    let endpoint = match &config_path {
        Some(path) => format!("pgbackrest --config {}", path.display()),
        None => "pgbackrest".to_string(),
    };
    let gap = |reason: String| CoverageGap {
        source: Source::Backup,
        target: name.clone(),
        scope: format!("pgBackRest stanza {}", options.stanza),
        reason,
        endpoint: endpoint.clone(),
        kind: None,
    };
    let info = match run_info(options) {
        Ok(info) => info,
        Err(reason) => {
            target.coverage.push(gap(reason));
            return target;
        }
    };
    let config_text = match &config_path {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) => {
                target.coverage.push(gap(format!(
                    "cannot read {} for the retention settings: {e}",
                    path.display()
                )));
                None
            }
        },
        None => None,
    };
    let Some(stanza) = info
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == options.stanza.as_str()))
    else {
        target.coverage.push(gap(
            "pgbackrest info returned no entry for the stanza".to_string()
        ));
        return target;
    };
    // Its identity (`report.evidence.targets`): the stanza, the config read,
    // the repositories by key and the database system id (PostgreSQL's
    // `system_identifier` of the cluster it backs up).
    let identity = &mut target.identity;
    identity.insert("stanza".into(), options.stanza.clone().into());
    identity.insert(
        "config".into(),
        config_path
            .as_ref()
            .map(|p| crate::printable::printable(&p.display().to_string()).into_owned())
            .into(),
    );
    let paths = config_text
        .as_deref()
        .map(|text| repository_paths(text, &options.stanza))
        .unwrap_or_default();
    let repositories: Vec<Value> = stanza["repo"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|repo| {
                    let path = repo["key"]
                        .as_u64()
                        .and_then(|key| paths.get(&key).cloned());
                    json!({"key": repo["key"], "path": path})
                })
                .collect()
        })
        .unwrap_or_default();
    identity.insert("repositories".into(), repositories.into());
    let db = stanza["db"].as_array().and_then(|d| d.last());
    identity.insert(
        "system_identifier".into(),
        db.map(|d| d["system-id"].clone()).unwrap_or(Value::Null),
    );
    let body = live_body(stanza, config_text.as_deref(), &options.stanza);
    let origin = Origin::Live {
        target: name.clone(),
        endpoint: endpoint.clone(),
    };
    let _ = target
        .inventory
        .insert(stanza_resource(&options.stanza, body, origin, None));
    target
}

/// The config file pgBackRest itself would read: the flag, `PGBACKREST_CONFIG`,
/// then the packaged locations.
fn config_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os("PGBACKREST_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    ["/etc/pgbackrest/pgbackrest.conf", "/etc/pgbackrest.conf"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn run_info(options: &PgBackRestOptions) -> Result<Value, String> {
    let mut command = Command::new("pgbackrest");
    if let Some(config) = &options.config {
        command.arg(format!("--config={}", config.display()));
    }
    command
        .arg(format!("--stanza={}", options.stanza))
        // An auditor writes nothing: no log files in the repository host's log path.
        .args([
            "--log-level-console=off",
            "--log-level-stderr=error",
            "--log-level-file=off",
        ])
        .args(["info", "--output=json"]);
    let own_end = Instant::now() + INFO_TIMEOUT;
    let (end, overdue) = match &options.deadline {
        Some(deadline) if deadline.at < own_end => (deadline.at, deadline.reason()),
        _ => (
            own_end,
            format!(
                "pgbackrest info did not finish within {} seconds",
                INFO_TIMEOUT.as_secs()
            ),
        ),
    };
    let Finished {
        status,
        stdout: out,
        stderr: err,
        ..
    } = run_until(&mut command, end).map_err(|failure| match failure {
        RunFailure::NotFound => "the pgbackrest binary is not installed or not on PATH".to_string(),
        RunFailure::Io(e) => format!("running pgbackrest failed: {e}"),
        RunFailure::TimedOut => overdue,
    })?;
    if !status.success() {
        let message = String::from_utf8_lossy(&err);
        let first = message
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("pgbackrest info failed ({status}): {first}"));
    }
    serde_json::from_slice(&out).map_err(|e| format!("pgbackrest info answered no JSON: {e}"))
}

fn rfc3339(unix: Option<i64>) -> Value {
    unix.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn backup_summary(backup: &Value) -> Value {
    json!({
        "label": backup["label"],
        "type": backup["type"],
        "start": rfc3339(backup["timestamp"]["start"].as_i64()),
        "stop": rfc3339(backup["timestamp"]["stop"].as_i64()),
        "error": backup["error"],
    })
}

/// The body of a live stanza from one entry of `pgbackrest info --output=json`
/// and the text of its config file.
pub fn live_body(info: &Value, config: Option<&str>, stanza: &str) -> Value {
    let backups: Vec<&Value> = info["backup"]
        .as_array()
        .map(|b| b.iter().collect())
        .unwrap_or_default();
    let stop = |b: &&&Value| b["timestamp"]["stop"].as_i64().unwrap_or(i64::MIN);
    let latest_of = |kind: Option<&str>| {
        backups
            .iter()
            .filter(|b| kind.is_none_or(|k| b["type"] == k))
            .max_by_key(stop)
            .map(|b| backup_summary(b))
            .unwrap_or(Value::Null)
    };
    let archive = info["archive"]
        .as_array()
        .and_then(|a| a.last())
        .map(|a| json!({"id": a["id"], "min": a["min"], "max": a["max"]}))
        .unwrap_or(Value::Null);
    let repos: Vec<Value> = info["repo"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|repo| json!({"key": repo["key"], "status": repo["status"]}))
                .collect()
        })
        .unwrap_or_default();
    let db: Vec<Value> = info["db"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|db| json!({"id": db["id"], "system_id": db["system-id"], "version": db["version"]}))
                .collect()
        })
        .unwrap_or_default();
    let mut body = json!({
        "stanza": stanza,
        "status": {"code": info["status"]["code"], "message": info["status"]["message"]},
        "backup_count": backups.len(),
        "last_backup": latest_of(None),
        "last_full": latest_of(Some("full")),
        "last_diff": latest_of(Some("diff")),
        "last_incr": latest_of(Some("incr")),
        "archive": archive,
        "repos": repos,
        "db": db,
    });
    if let Some(text) = config {
        body["retention"] = retention_of(text, stanza, 1);
    }
    body
}

/// `repoN-path` of each repository for `stanza` (the stanza's section
/// overrides `[global]`), by N. Only the path options are read: a cipher
/// pass or a key in the same file is never looked at.
pub fn repository_paths(config: &str, stanza: &str) -> std::collections::BTreeMap<u64, String> {
    let mut section = String::new();
    let mut global = std::collections::BTreeMap::new();
    let mut own = std::collections::BTreeMap::new();
    for line in config.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Some(number) = key
            .trim()
            .strip_prefix("repo")
            .and_then(|k| k.strip_suffix("-path"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let value = crate::printable::printable(value.trim()).into_owned();
        match section.as_str() {
            "global" => global.insert(number, value),
            s if s == stanza => own.insert(number, value),
            _ => None,
        };
    }
    global.extend(own);
    global
}

/// The retention of repository `repo` for `stanza`: the stanza's section
/// overrides `[global]`, as in pgBackRest. Numbers stay numbers.
pub fn retention_of(config: &str, stanza: &str, repo: u32) -> Value {
    let mut section = String::new();
    let mut global = Map::new();
    let mut own = Map::new();
    for line in config.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Some(option) = key.trim().strip_prefix(&format!("repo{repo}-")) else {
            continue;
        };
        let Some((_, field)) = RETENTION_OPTIONS.iter().find(|(o, _)| *o == option) else {
            continue;
        };
        let value = value.trim();
        let value = value
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(value));
        match section.as_str() {
            "global" => global.insert(field.to_string(), value),
            s if s == stanza => own.insert(field.to_string(), value),
            _ => None,
        };
    }
    global.extend(own);
    Value::Object(global)
}

/// Reads a declared `kind: PgBackRestStanza` document into (stanza, body).
/// Errors carry the field path they are about.
pub fn declared_stanza(document: &Value) -> Result<(String, Value), (String, String)> {
    let name = document
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            (
                "metadata".to_string(),
                "`metadata.name` (the stanza) is required".to_string(),
            )
        })?;
    let mut body = json!({"stanza": name});
    let Some(spec) = document.get("spec") else {
        return Ok((name.to_string(), body));
    };
    let spec = spec
        .as_object()
        .ok_or_else(|| ("spec".to_string(), "expected a mapping".to_string()))?;
    for (key, value) in spec {
        if key != "retention" {
            return Err((
                format!("spec.{key}"),
                format!("unknown key `{key}` (expected retention)"),
            ));
        }
        let retention = value.as_object().ok_or_else(|| {
            (
                "spec.retention".to_string(),
                "expected a mapping".to_string(),
            )
        })?;
        let mut out = Map::new();
        for (field, value) in retention {
            let known = RETENTION_OPTIONS.iter().any(|(_, f)| f == field);
            let valid = match field.as_str() {
                "full_type" | "archive_type" => value.is_string(),
                _ => value.as_u64().is_some_and(|n| n > 0),
            };
            if !known || !valid {
                return Err((
                    format!("spec.retention.{field}"),
                    "expected full, diff or archive (a positive integer) or full_type / archive_type (a string)"
                        .to_string(),
                ));
            }
            out.insert(field.clone(), value.clone());
        }
        body["retention"] = Value::Object(out);
    }
    Ok((name.to_string(), body))
}

/// Expands one `PgBackRestStanza` document (registered in `sources::registry`).
pub fn expand_stanza(document: &Value, place: &DocumentPlace) -> (Vec<Resource>, Vec<InputError>) {
    match declared_stanza(document) {
        Ok((name, body)) => (
            vec![stanza_resource(
                &name,
                body,
                place.origin(""),
                place.lines_below(""),
            )],
            Vec::new(),
        ),
        Err((path, message)) => (Vec::new(), vec![place.error(&path, message)]),
    }
}

/// `pgbackrest info` runs as a subprocess (`scratch::run_until`), off the runtime's workers.
impl Collector for PgBackRestOptions {
    fn label(&self) -> String {
        format!("pgbackrest {}", self.stanza)
    }

    fn collect(&self, _scope: &LiveScope<'_>, deadline: Deadline) -> BoxFuture<'static, Collected> {
        let mut options = self.clone();
        options.deadline = Some(deadline);
        blocking_target(move || collect(&options))
    }

    fn unread(&self, reason: &str) -> Vec<LiveTarget> {
        vec![unread_target(
            format!("pgbackrest {}", self.stanza),
            Source::Backup,
            format!("pgBackRest stanza {}", self.stanza),
            String::new(),
            reason,
        )]
    }
}

/// How drift treats pgBackRest stanzas: compared as read.
pub struct BackupRules;

impl crate::sources::rules::SourceRules for BackupRules {
    fn source(&self) -> Source {
        Source::Backup
    }
}

/// The rules registered in `sources::registry`.
pub static RULES: BackupRules = BackupRules;

/// pgBackRest in `sources::registry`.
pub const ENTRY: crate::sources::rules::SourceEntry = crate::sources::rules::SourceEntry {
    rules: &RULES,
    documents: &[(KIND, expand_stanza)],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_reads_global_then_stanza() {
        let config = "[global]\nrepo1-retention-full=2\nrepo1-retention-full-type=count\n\n[demo]\nrepo1-retention-diff=3\n[other]\nrepo1-retention-full=9\n";
        assert_eq!(
            retention_of(config, "demo", 1),
            json!({"full": 2, "full_type": "count", "diff": 3})
        );
    }

    #[test]
    fn the_captured_answer_keeps_the_system_id_exact() {
        let info: Value = serde_json::from_str(include_str!(
            "../../../fixtures/captured/pgbackrest/info_full_diff_incr.json"
        ))
        .unwrap();
        let body = live_body(&info[0], None, "demo");
        assert_eq!(
            body["db"][0]["system_id"].as_u64(),
            Some(7710740241036200481)
        );
        assert_eq!(body["last_full"]["stop"], "2026-11-21T21:30:53Z");
        assert_eq!(body["last_backup"]["type"], "incr");
        assert_eq!(body["backup_count"], 3);
    }

    #[test]
    fn a_missing_stanza_is_a_status_code_not_an_error() {
        let info: Value = serde_json::from_str(include_str!(
            "../../../fixtures/captured/pgbackrest/info_missing_stanza.json"
        ))
        .unwrap();
        let body = live_body(&info[0], None, "nosuch");
        assert_eq!(body["status"]["code"], 1);
        assert_eq!(body["status"]["message"], "missing stanza path");
        assert_eq!(body["last_backup"], Value::Null);
    }
}
