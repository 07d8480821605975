//! One backup table (docs/backups.md): the newest successful backup of every
//! backup the live targets show, whatever took it (pgBackRest stanza, backup
//! CronJob, CloudNativePG, Velero), with its age and the RPO it is held to.
//! The report's text/Markdown/HTML table and the Prometheus metrics both read
//! `Report::backups`, so the two never disagree.
//!
//! One function per kind of evidence; each reads the live inventories only
//! (declared resources say what should run, not what ran).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::model::{LiveTarget, Source};

/// One backup's freshness.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BackupStatus {
    /// Where the evidence comes from: `pgbackrest`, `cronjob`,
    /// `cloudnativepg`, `velero`.
    pub kind: String,
    /// The live target it was read from (`LiveTarget::name`).
    pub target: String,
    /// `namespace/name` of the Kubernetes object, or the pgBackRest stanza.
    pub name: String,
    /// RFC 3339 time of the newest successful backup; null when none is known.
    pub newest_success: Option<String>,
    /// Seconds from `newest_success` to the scan's clock (`--now`).
    pub age_seconds: Option<i64>,
    /// The recovery point objective it is held to, in seconds, when one applies.
    pub rpo_seconds: Option<i64>,
    /// True when `age_seconds` exceeds `rpo_seconds`, or no successful backup is known.
    pub stale: bool,
    /// RFC 3339 time of the newest failed backup, when newer than the newest success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
    /// The field the time was read from (`status.lastSuccessfulTime`,
    /// `backup[].timestamp.stop`, …): where an auditor can check it.
    pub evidence: String,
}

/// What every kind's reader gets.
pub struct BackupContext<'a> {
    pub targets: &'a [LiveTarget],
    /// The scan's clock (`--now`): every age is measured to it.
    pub now: OffsetDateTime,
    /// `data.baselines` as loaded (RPO settings).
    pub baselines: &'a serde_json::Value,
}

/// The table, sorted (kind, target, name) so reports are byte-identical.
pub fn backup_table(context: &BackupContext) -> Vec<BackupStatus> {
    let mut table = Vec::new();
    table.extend(from_pgbackrest(context));
    table.extend(from_cronjobs(context));
    table.extend(from_cloudnativepg(context));
    table.extend(from_velero(context));
    table.sort();
    table
}

/// pgBackRest stanzas (`pgbackrest info`): the newest backup's stop time.
/// A backup pgBackRest marks with `error: true` (page checksum errors) is not
/// a success; a stanza whose `status.code` is not 0 (missing, no backup) has
/// none. Held to `backups.rpo_hours`, as DA-BAK-009 is.
fn from_pgbackrest(context: &BackupContext) -> Vec<BackupStatus> {
    let rpo_seconds = baseline_rpo_seconds(context.baselines);
    let mut table = Vec::new();
    for target in context.targets {
        for resource in target.inventory.iter() {
            let identity = &resource.identity;
            if identity.source != Source::Backup
                || identity.kind != crate::sources::pgbackrest::KIND
            {
                continue;
            }
            let body = &resource.body;
            let healthy = body.pointer("/status/code").and_then(Value::as_i64) == Some(0);
            let newest = ["last_full", "last_diff", "last_incr"]
                .iter()
                .filter(|_| healthy)
                .filter_map(|key| body.get(*key))
                .filter(|backup| backup.get("error") != Some(&Value::Bool(true)))
                .filter_map(|backup| success_time(backup.get("stop"), context.now).ok())
                .max();
            table.push(status(
                "pgbackrest",
                &target.name,
                &identity.name,
                newest,
                None,
                rpo_seconds,
                context.now,
                "pgbackrest info: backup[].timestamp.stop",
            ));
        }
    }
    table
}

/// Backup CronJobs (as the backups rules recognise them):
/// `status.lastSuccessfulTime`. Recognised and held to an RPO exactly as
/// policies/backups.rego does (`is_backup_cronjob`, `rpo_for`).
fn from_cronjobs(context: &BackupContext) -> Vec<BackupStatus> {
    let patterns = cronjob_name_patterns(context.baselines);
    let mut table = Vec::new();
    for target in context.targets {
        for resource in target.inventory.iter() {
            let identity = &resource.identity;
            if identity.source != Source::Kubernetes
                || identity.kind != "CronJob"
                || identity.group != "batch"
                || !is_backup_cronjob(&identity.name, &resource.body, &patterns)
            {
                continue;
            }
            let body = &resource.body;
            let newest = success_time(body.pointer("/status/lastSuccessfulTime"), context.now).ok();
            table.push(status(
                "cronjob",
                &target.name,
                &format!("{}/{}", identity.namespace, identity.name),
                newest,
                None,
                rpo_for(context.baselines, body),
                context.now,
                "status.lastSuccessfulTime",
            ));
        }
    }
    table
}

/// The label that marks a CronJob as a backup (`true`) or not (`false`)
/// (policies/backups.rego).
const BACKUP_LABEL: &str = "driftaudit.io/backup";

/// The compiled size a name pattern may reach, as the Rego engine allows
/// (regorus' `REGEX_SIZE_LIMIT`): a larger pattern makes `regex.is_valid`
/// fail there, so the rule matches nothing with it, and so does the table.
const PATTERN_SIZE_LIMIT: usize = 100 * 1024;

/// `backups.cronjob_name_patterns`, compiled once per table: those that
/// compile within [`PATTERN_SIZE_LIMIT`] (a pattern that does not matches
/// nothing, as in Rego).
pub fn cronjob_name_patterns(baselines: &Value) -> Vec<regex::Regex> {
    baselines
        .pointer("/backups/cronjob_name_patterns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|pattern| {
            regex::RegexBuilder::new(pattern)
                .size_limit(PATTERN_SIZE_LIMIT)
                .build()
                .ok()
        })
        .collect()
}

/// Whether the backups rules treat this CronJob as a backup: labelled
/// `driftaudit.io/backup: "true"`, or named to match one of
/// `backups.cronjob_name_patterns` (RE2, searched anywhere in the name,
/// compiled by [`cronjob_name_patterns`]) and not labelled `"false"`.
/// The Rust twin of `_is_backup_cronjob` in policies/backups.rego.
pub fn is_backup_cronjob(name: &str, body: &Value, patterns: &[regex::Regex]) -> bool {
    let label = body
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(BACKUP_LABEL))
        .and_then(Value::as_str);
    match label {
        Some("true") => true,
        Some("false") => false,
        _ => patterns.iter().any(|pattern| pattern.is_match(name)),
    }
}

/// `backups.rpo_hours` in seconds.
fn baseline_rpo_seconds(baselines: &Value) -> Option<i64> {
    baselines
        .pointer("/backups/rpo_hours")
        .and_then(Value::as_f64)
        .filter(|hours| *hours > 0.0 && hours.is_finite())
        .map(|hours| (hours * 3600.0).round() as i64)
}

/// One row, its age measured to the scan clock. Without a known success it
/// is stale; so it is when older than its RPO.
#[allow(clippy::too_many_arguments)]
fn status(
    kind: &str,
    target: &str,
    name: &str,
    newest: Option<OffsetDateTime>,
    last_failure: Option<OffsetDateTime>,
    rpo_seconds: Option<i64>,
    now: OffsetDateTime,
    evidence: &str,
) -> BackupStatus {
    let age_seconds = newest.map(|time| (now - time).whole_seconds());
    let stale = match (age_seconds, rpo_seconds) {
        (None, _) => true,
        (Some(age), Some(rpo)) => age > rpo,
        (Some(_), None) => false,
    };
    let text = |time: OffsetDateTime| time.format(&Rfc3339).unwrap_or_default();
    BackupStatus {
        kind: kind.to_string(),
        target: target.to_string(),
        name: name.to_string(),
        newest_success: newest.map(text),
        age_seconds,
        rpo_seconds,
        stale,
        last_failure: last_failure
            .filter(|f| newest.is_none_or(|n| *f > n))
            .map(text),
        evidence: evidence.to_string(),
    }
}

/// CloudNativePG `Cluster` status (`lastSuccessfulBackup`) and `Backup` objects.
/// None when no baselines were read (`diff`): without the RPO nothing can be
/// called fresh.
fn from_cloudnativepg(context: &BackupContext) -> Vec<BackupStatus> {
    if context.baselines.is_null() {
        return Vec::new();
    }
    context
        .targets
        .iter()
        .flat_map(|target| cloudnativepg_clusters(target, context.now, context.baselines))
        .map(|evidence| evidence.row)
        .collect()
}

/// Velero: the newest completed `Backup` per `Schedule` (none without
/// baselines, as for CloudNativePG).
fn from_velero(context: &BackupContext) -> Vec<BackupStatus> {
    if context.baselines.is_null() {
        return Vec::new();
    }
    context
        .targets
        .iter()
        .flat_map(|target| velero_schedules(target, context.now, context.baselines))
        .map(|evidence| evidence.row)
        .collect()
}

/// One scheduled backup's evidence, as the table row and as the facts the
/// rules read (`input.facts.status`, docs/policy-input.md): both come from
/// here, so a rule and the table never disagree.
pub struct OperatorBackup {
    /// The live object the facts belong to (the Cluster, the Schedule).
    pub identity: crate::model::Identity,
    pub row: BackupStatus,
    /// `input.facts.status` of that object.
    pub facts: Value,
}

/// Backups of one schedule as read from its objects: `(time, phase, object)`.
struct Run<'a> {
    name: &'a str,
    phase: String,
    /// When it ended (or, for one still running, started); `None` when no
    /// timestamp of it parses or lies before the scan clock.
    time: Option<OffsetDateTime>,
    body: &'a Value,
}

/// How an operator's `Backup` objects name their schedule and their times.
struct BackupObjects {
    group: &'static str,
    /// Where a Backup names the object whose facts it feeds (JSON pointer).
    owner: &'static str,
    /// The status fields of its end and start times.
    ended: &'static str,
    started: &'static str,
    /// The phase of a successful backup (compared as the operator spells it).
    success: &'static str,
}

const CNPG_BACKUPS: BackupObjects = BackupObjects {
    group: "postgresql.cnpg.io",
    owner: "/spec/cluster/name",
    ended: "stoppedAt",
    started: "startedAt",
    success: "completed",
};

const VELERO_BACKUPS: BackupObjects = BackupObjects {
    group: "velero.io",
    owner: "/metadata/labels/velero.io~1schedule-name",
    ended: "completionTimestamp",
    started: "startTimestamp",
    success: "Completed",
};

/// The Backup objects of a target by (namespace, the object they name).
fn backup_runs<'a>(
    target: &'a LiveTarget,
    kind: &BackupObjects,
    now: OffsetDateTime,
) -> BTreeMap<(&'a str, &'a str), Vec<Run<'a>>> {
    let mut runs: BTreeMap<(&str, &str), Vec<Run>> = BTreeMap::new();
    for backup in operator_objects(target, kind.group, "Backup") {
        let Some(owner) = backup.body.pointer(kind.owner).and_then(Value::as_str) else {
            continue;
        };
        let status = |key: &str| backup.body.pointer(&format!("/status/{key}"));
        let time = [
            status(kind.ended),
            status(kind.started),
            backup.body.pointer("/metadata/creationTimestamp"),
        ]
        .into_iter()
        .find_map(|t| success_time(t, now).ok());
        runs.entry((&backup.identity.namespace, owner))
            .or_default()
            .push(Run {
                name: &backup.identity.name,
                phase: status("phase")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                time,
                body: &backup.body,
            });
    }
    for list in runs.values_mut() {
        sort_runs(list);
    }
    runs
}

/// The newest successful run's end time, if newer than `newest`; a
/// successful run whose end time does not parse is named in `invalid`.
fn newest_success(
    runs: &[Run],
    kind: &BackupObjects,
    namespace: &str,
    now: OffsetDateTime,
    newest: &mut Option<(OffsetDateTime, String)>,
    invalid: &mut Vec<String>,
) {
    for run in runs.iter().filter(|run| run.phase == kind.success) {
        let field = format!("status.{}", kind.ended);
        let value = run.body.pointer(&format!("/status/{}", kind.ended));
        match success_time(value, now) {
            Ok(t) if newest.as_ref().is_none_or(|(n, _)| t > *n) => {
                *newest = Some((t, format!("Backup {namespace}/{} {field}", run.name)));
            }
            Ok(_) => {}
            Err(why) => {
                let what = format!("Backup {field}{why}");
                if !invalid.contains(&what) {
                    invalid.push(what);
                }
            }
        }
    }
}

/// How far after the scan clock a success may lie (clock skew between the
/// operator and `--now`) and still count.
const SKEW_SECONDS: i64 = 300;

/// A success time as evidence: an RFC 3339 time no later than the scan clock
/// (plus [`SKEW_SECONDS`]). Anything else is `Err` with what to add to the
/// field's name in `invalid`: a time that is not one, or one after the
/// clock (a backup in year 9999 would otherwise look fresh forever), counts
/// as no backup.
fn success_time(
    value: Option<&Value>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, &'static str> {
    match value.and_then(Value::as_str).and_then(parse_time) {
        Some(t) if (t - now).whole_seconds() <= SKEW_SECONDS => Ok(t),
        Some(_) => Err(" (after the scan clock)"),
        None => Err(""),
    }
}

/// CloudNativePG clusters of a live target with their backup evidence:
/// the newest of `status.lastSuccessfulBackup` and the `stoppedAt` of the
/// cluster's completed `Backup` objects; the newest `Backup`'s phase;
/// the `ContinuousArchiving` condition; `status.firstRecoverabilityPoint`.
pub fn cloudnativepg_clusters(
    target: &LiveTarget,
    now: OffsetDateTime,
    baselines: &Value,
) -> Vec<OperatorBackup> {
    let mut runs = backup_runs(target, &CNPG_BACKUPS, now);
    let mut out = Vec::new();
    for cluster in operator_objects(target, CNPG_BACKUPS.group, "Cluster") {
        let namespace = cluster.identity.namespace.as_str();
        let body = &cluster.body;
        let thresholds = thresholds_for(baselines, body);
        let mut invalid = Vec::new();
        let mut newest: Option<(OffsetDateTime, String)> = None;
        match body.pointer("/status/lastSuccessfulBackup") {
            None | Some(Value::Null) => {}
            value => match success_time(value, now) {
                Ok(t) => newest = Some((t, "status.lastSuccessfulBackup".into())),
                Err(why) => invalid.push(format!("status.lastSuccessfulBackup{why}")),
            },
        }
        let own = runs
            .remove(&(namespace, cluster.identity.name.as_str()))
            .unwrap_or_default();
        newest_success(
            &own,
            &CNPG_BACKUPS,
            namespace,
            now,
            &mut newest,
            &mut invalid,
        );
        let last = own.last();
        let failed = last.filter(|run| run.phase == "failed");
        let first_point = body.pointer("/status/firstRecoverabilityPoint");
        let first_point_time = first_point.and_then(Value::as_str).and_then(parse_time);
        if first_point.is_some_and(|v| !v.is_null()) && first_point_time.is_none() {
            invalid.push("status.firstRecoverabilityPoint".to_string());
        }
        let row = row(
            "cloudnativepg",
            target,
            (namespace, &cluster.identity.name),
            newest.as_ref(),
            failed.and_then(|run| run.time),
            thresholds.rpo_seconds,
            now,
        );
        let policy_days = retention_policy_days(body);
        let facts = json!({
            "backup": row_facts(&row, created_at(body, now), now, &invalid),
            "last_backup": last.map(|run| run_facts(run, &["error"])),
            "continuous_archiving": condition(body, "ContinuousArchiving"),
            "first_recoverability_point": first_point_time.map(format_time),
            "recoverability_hours": first_point_time.map(|t| (now - t).whole_hours()),
            "expected_recoverability_days": policy_days.or(thresholds.min_retention_days),
            "retention_from": if policy_days.is_some() { "spec.backup.retentionPolicy" } else { "backups.min_retention_days" },
        });
        out.push(OperatorBackup {
            identity: cluster.identity.clone(),
            row,
            facts,
        });
    }
    out
}

/// Velero schedules of a live target with the newest `Completed` backup
/// among the `Backup` objects labelled `velero.io/schedule-name: <schedule>`
/// (its `status.completionTimestamp`), and the newest finished backup's phase.
pub fn velero_schedules(
    target: &LiveTarget,
    now: OffsetDateTime,
    baselines: &Value,
) -> Vec<OperatorBackup> {
    let mut runs = backup_runs(target, &VELERO_BACKUPS, now);
    let mut out = Vec::new();
    for schedule in operator_objects(target, VELERO_BACKUPS.group, "Schedule") {
        let namespace = schedule.identity.namespace.as_str();
        let body = &schedule.body;
        let thresholds = thresholds_for(baselines, body);
        let mut invalid = Vec::new();
        let own = runs
            .remove(&(namespace, schedule.identity.name.as_str()))
            .unwrap_or_default();
        let mut newest = None;
        newest_success(
            &own,
            &VELERO_BACKUPS,
            namespace,
            now,
            &mut newest,
            &mut invalid,
        );
        let last = own
            .iter()
            .rev()
            .find(|run| VELERO_FINISHED.contains(&run.phase.as_str()));
        let failed = last.filter(|run| VELERO_FAILED.contains(&run.phase.as_str()));
        let row = row(
            "velero",
            target,
            (namespace, &schedule.identity.name),
            newest.as_ref(),
            failed.and_then(|run| run.time),
            thresholds.rpo_seconds,
            now,
        );
        let facts = json!({
            "backup": row_facts(&row, created_at(body, now), now, &invalid),
            "last_backup": last.map(|run| run_facts(run, &["errors", "warnings", "failureReason", "validationErrors"])),
            "backups_seen": own.len(),
        });
        out.push(OperatorBackup {
            identity: schedule.identity.clone(),
            row,
            facts,
        });
    }
    out
}

/// When the object was made, under the clock check success times pass: a
/// `creationTimestamp` after the scan clock (plus [`SKEW_SECONDS`]) is
/// unknown, so a cluster or schedule "made in 2099" is not young and cannot
/// hide that it has no backup.
fn created_at(body: &Value, now: OffsetDateTime) -> Option<OffsetDateTime> {
    success_time(body.pointer("/metadata/creationTimestamp"), now).ok()
}

/// Velero phases after which a backup runs no more.
const VELERO_FINISHED: [&str; 4] = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"];
/// Of those, the ones that did not back everything up.
const VELERO_FAILED: [&str; 3] = ["PartiallyFailed", "Failed", "FailedValidation"];

/// The live objects of one operator kind.
fn operator_objects<'a>(
    target: &'a LiveTarget,
    group: &'a str,
    kind: &'a str,
) -> impl Iterator<Item = &'a crate::model::Resource> {
    target.inventory.iter().filter(move |r| {
        r.identity.source == crate::model::Source::Kubernetes
            && r.identity.group == group
            && r.identity.kind == kind
    })
}

/// Oldest first; runs without a readable time first of all (never "newest"),
/// ties by name, so the order never depends on the listing.
fn sort_runs(runs: &mut [Run]) {
    runs.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.name.cmp(b.name)));
}

fn row(
    kind: &str,
    target: &LiveTarget,
    (namespace, name): (&str, &str),
    newest: Option<&(OffsetDateTime, String)>,
    failure: Option<OffsetDateTime>,
    rpo_seconds: Option<i64>,
    now: OffsetDateTime,
) -> BackupStatus {
    let age_seconds = newest.map(|(t, _)| (now - *t).whole_seconds());
    let stale = match (age_seconds, rpo_seconds) {
        (None, _) => true,
        (Some(age), Some(rpo)) => age > rpo,
        (Some(_), None) => false,
    };
    BackupStatus {
        kind: kind.into(),
        target: target.name.clone(),
        name: format!("{namespace}/{name}"),
        newest_success: newest.map(|(t, _)| format_time(*t)),
        age_seconds,
        rpo_seconds,
        stale,
        last_failure: failure
            .filter(|f| newest.is_none_or(|(t, _)| f > t))
            .map(format_time),
        evidence: newest
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| format!("no successful {kind} backup")),
    }
}

/// The row as rules read it, with what they need besides: whether the
/// object is younger than its RPO (no backup is due yet), and the fields
/// whose timestamps did not parse (they count as no backup).
fn row_facts(
    row: &BackupStatus,
    created: Option<OffsetDateTime>,
    now: OffsetDateTime,
    invalid: &[String],
) -> Value {
    let young = match (created, row.rpo_seconds) {
        (Some(created), Some(rpo)) => (now - created).whole_seconds() <= rpo,
        _ => false,
    };
    let mut facts = serde_json::to_value(row).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut facts {
        map.insert(
            "age_hours".into(),
            json!(row.age_seconds.map(|s| s.div_euclid(3600))),
        );
        map.insert(
            "rpo_hours".into(),
            row.rpo_seconds.map(hours).unwrap_or(Value::Null),
        );
        map.insert("young".into(), json!(young));
        map.insert(
            "object_age_hours".into(),
            json!(created.map(|c| (now - c).whole_seconds().div_euclid(3600))),
        );
        map.insert("invalid".into(), json!(invalid));
    }
    facts
}

/// Seconds as hours: a whole number when whole (`24`, not `24.0`).
pub(crate) fn hours(seconds: i64) -> Value {
    if seconds % 3600 == 0 {
        json!(seconds / 3600)
    } else {
        json!(seconds as f64 / 3600.0)
    }
}

/// One backup object as facts: its name, phase, time and the listed fields
/// of its status (texts cut to 300 characters, numbers as given).
fn run_facts(run: &Run, fields: &[&str]) -> Value {
    let mut facts = json!({
        "name": run.name,
        "phase": run.phase,
        "time": run.time.map(format_time),
    });
    for field in fields {
        if let Some(value) = run.body.pointer(&format!("/status/{field}")) {
            facts[*field] = bounded(value);
        }
    }
    facts
}

/// A status value as a fact: strings cut to 300 characters, lists to 10
/// entries, objects left out (an operator's status fields are scalars).
pub(crate) fn bounded(value: &Value) -> Value {
    match value {
        Value::String(text) => json!(text.chars().take(300).collect::<String>()),
        Value::Number(_) | Value::Bool(_) | Value::Null => value.clone(),
        Value::Array(items) => Value::Array(items.iter().take(10).map(bounded).collect()),
        Value::Object(_) => Value::Null,
    }
}

/// A condition of `status.conditions` as facts: `{status, reason, message,
/// last_transition_time}`, or null when the object has no such condition.
pub(crate) fn condition(body: &Value, kind: &str) -> Value {
    body.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|conditions| {
            conditions
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        })
        .map(|c| {
            let text = |key: &str| {
                c.get(key)
                    .map(bounded)
                    .filter(Value::is_string)
                    .unwrap_or(Value::Null)
            };
            json!({
                "status": text("status"),
                "reason": text("reason"),
                "message": text("message"),
                "last_transition_time": text("lastTransitionTime"),
            })
        })
        .unwrap_or(Value::Null)
}

/// An RFC 3339 time; anything else (a number, a date without a zone, year
/// 10000) is `None`, which callers treat as no backup at all.
pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

pub(crate) fn format_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The RPO and retention one backup is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub rpo_seconds: Option<i64>,
    pub min_retention_days: Option<f64>,
}

/// The thresholds of a Kubernetes object (`body`), per docs/backups.md:
/// its `driftaudit.io/rpo-hours` annotation first, then the first entry of
/// `backups.overrides` whose `namespace` and `labels` (both optional, all
/// given must match) match it and that sets the value, then
/// `backups.rpo_hours` / `backups.min_retention_days`. Every kind of backup
/// evidence (CronJob, pgBackRest, CloudNativePG, Velero) calls this, so one
/// setting holds them all to the same RPO. A value that is not a positive
/// number is skipped.
pub fn thresholds_for(baselines: &Value, body: &Value) -> Thresholds {
    let namespace = body
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let labels = body.pointer("/metadata/labels").and_then(Value::as_object);
    let annotation = body
        .pointer("/metadata/annotations/driftaudit.io~1rpo-hours")
        .and_then(Value::as_str)
        .filter(|text| plain_decimal(text))
        .and_then(|text| text.parse::<f64>().ok());
    let rpo_hours = annotation
        .filter(|h| h.is_finite() && *h > 0.0)
        .or_else(|| setting(baselines, namespace, labels, "rpo_hours"));
    Thresholds {
        rpo_seconds: rpo_hours.map(|h| (h.min(1e9) * 3600.0).round() as i64),
        min_retention_days: setting(baselines, namespace, labels, "min_retention_days"),
    }
}

/// `24` or `1.5`, as the rules accept in the annotation (no sign, exponent
/// or spaces).
fn plain_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    [whole, fraction].iter().all(|part| {
        !part.is_empty() && part.len() <= 12 && part.bytes().all(|b| b.is_ascii_digit())
    })
}

/// `rpo_for`: the RPO in seconds of an object (see [`thresholds_for`]).
pub fn rpo_for(baselines: &Value, body: &Value) -> Option<i64> {
    thresholds_for(baselines, body).rpo_seconds
}

fn setting(
    baselines: &Value,
    namespace: &str,
    labels: Option<&serde_json::Map<String, Value>>,
    key: &str,
) -> Option<f64> {
    let positive = |v: Option<&Value>| {
        v.and_then(Value::as_f64)
            .filter(|n| n.is_finite() && *n > 0.0)
    };
    let overrides = baselines
        .pointer("/backups/overrides")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    overrides
        .iter()
        .filter(|entry| override_matches(entry, namespace, labels))
        .find_map(|entry| positive(entry.get(key)))
        .or_else(|| positive(baselines.pointer(&format!("/backups/{key}"))))
}

fn override_matches(
    entry: &Value,
    namespace: &str,
    labels: Option<&serde_json::Map<String, Value>>,
) -> bool {
    let namespace_ok = match entry.get("namespace") {
        None | Some(Value::Null) => true,
        Some(wanted) => wanted.as_str() == Some(namespace),
    };
    let labels_ok = match entry.get("labels") {
        None | Some(Value::Null) => true,
        Some(Value::Object(wanted)) => wanted
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)),
        Some(_) => false,
    };
    namespace_ok && labels_ok
}

/// A CloudNativePG `spec.backup.retentionPolicy` (`30d`, `4w`, `3m`: months
/// of 30 days) in days, as DA-BAK-007 reads it.
fn retention_policy_days(body: &Value) -> Option<f64> {
    let text = body.pointer("/spec/backup/retentionPolicy")?.as_str()?;
    let unit = match text.chars().last()? {
        'd' => 1.0,
        'w' => 7.0,
        'm' => 30.0,
        _ => return None,
    };
    let number = &text[..text.len() - 1];
    if number.is_empty()
        || number.len() > 6
        || !number.bytes().all(|b| b.is_ascii_digit())
        || number.starts_with('0')
    {
        return None;
    }
    number.parse::<f64>().ok().map(|n| n * unit)
}

/// The cells of the report's "Backups" section (text, Markdown, HTML):
/// kind, target, name, newest success (`never`), age, RPO (`none`), stale
/// (`yes`, with the newer failure when there is one, or `no`).
pub fn table_cells(row: &BackupStatus) -> [String; 7] {
    [
        row.kind.clone(),
        row.target.clone(),
        row.name.clone(),
        row.newest_success.clone().unwrap_or_else(|| "never".into()),
        row.age_seconds.map_or_else(|| "-".into(), duration_text),
        row.rpo_seconds.map_or_else(|| "none".into(), duration_text),
        match (row.stale, &row.last_failure) {
            (true, Some(failure)) => format!("yes (failed {failure})"),
            (true, None) => "yes".into(),
            (false, Some(failure)) => format!("no (failed {failure})"),
            (false, None) => "no".into(),
        },
    ]
}

/// The column headings of [`table_cells`].
pub const TABLE_HEADINGS: [&str; 7] = [
    "kind",
    "target",
    "name",
    "newest success",
    "age",
    "RPO",
    "stale",
];

/// `3d 10h`, `10h`, `45m`; negative ages (a backup after `--now`) with a `-`.
pub fn duration_text(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (days, hours, minutes) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (days, hours) {
        (0, 0) => format!("{sign}{minutes}m"),
        (0, h) => format!("{sign}{h}h"),
        (d, 0) => format!("{sign}{d}d"),
        (d, h) => format!("{sign}{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Resource};
    use serde_json::json;
    use time::macros::datetime;

    fn baselines() -> Value {
        json!({"backups": {"cronjob_name_patterns": ["backup|dump", "(unclosed"], "rpo_hours": 24}})
    }

    #[test]
    fn backup_cronjobs_are_recognised_as_the_rego_rules_recognise_them() {
        let labelled = |value: &str| json!({"metadata": {"labels": {BACKUP_LABEL: value}}});
        let b = cronjob_name_patterns(&baselines());
        assert!(is_backup_cronjob("db-backup", &json!({}), &b));
        assert!(
            is_backup_cronjob("nightly-pgdump-x", &json!({}), &b),
            "searched, not anchored"
        );
        assert!(!is_backup_cronjob("report", &json!({}), &b));
        assert!(is_backup_cronjob("report", &labelled("true"), &b));
        assert!(!is_backup_cronjob("db-backup", &labelled("false"), &b));
        assert!(is_backup_cronjob("db-backup", &labelled("yes"), &b));
        // A pattern RE2 rejects matches nothing, and breaks nothing else.
        assert!(!is_backup_cronjob("(unclosed", &json!({}), &b));
    }

    #[test]
    fn a_name_pattern_too_big_for_the_rego_engine_matches_nothing() {
        // Compiles in the regex crate's default 10 MiB, not in the 100 KiB
        // regorus allows: the Rego rule matches nothing with it.
        let huge = format!("backup{}", "[a-z0-9]{1,20}".repeat(60));
        assert!(regex::Regex::new(&huge).is_ok());
        let b = json!({"backups": {"cronjob_name_patterns": [huge, "dump"]}});
        let patterns = cronjob_name_patterns(&b);
        assert_eq!(patterns.len(), 1);
        assert!(!is_backup_cronjob("db-backup", &json!({}), &patterns));
        assert!(is_backup_cronjob("db-dump", &json!({}), &patterns));
    }

    #[test]
    fn the_rpo_is_the_annotation_when_a_positive_decimal_else_the_baseline() {
        let annotated =
            |value: &str| json!({"metadata": {"annotations": {"driftaudit.io/rpo-hours": value}}});
        let b = baselines();
        assert_eq!(rpo_for(&b, &annotated("48")), Some(48 * 3600));
        assert_eq!(rpo_for(&b, &annotated("1.5")), Some(5400));
        for refused in ["0", "-1", "1e9", "12h", "", ".5", "5."] {
            assert_eq!(rpo_for(&b, &annotated(refused)), Some(86_400), "{refused}");
        }
        assert_eq!(rpo_for(&json!({}), &json!({})), None);
    }

    #[test]
    fn a_pgbackrest_stanza_gives_its_newest_good_backup() {
        let info: Value = serde_json::from_str(include_str!(
            "../fixtures/captured/pgbackrest/info_full_diff_incr.json"
        ))
        .unwrap();
        let mut body = crate::sources::pgbackrest::live_body(&info[0], None, "demo");
        let mut target = LiveTarget {
            name: "pgbackrest demo".into(),
            ..LiveTarget::default()
        };
        let origin = Origin::Live {
            target: target.name.clone(),
            endpoint: "pgbackrest".into(),
        };
        let stanza = |body: Value| {
            Resource::new(
                Source::Backup,
                crate::sources::pgbackrest::API_VERSION,
                crate::sources::pgbackrest::KIND,
                "",
                "demo",
                body,
                origin.clone(),
            )
        };
        let newest = body["last_backup"]["stop"].as_str().unwrap().to_string();
        target.inventory.insert(stanza(body.clone())).unwrap();
        let b = baselines();
        let now = OffsetDateTime::parse(&newest, &Rfc3339).unwrap() + time::Duration::hours(2);
        let table = from_pgbackrest(&BackupContext {
            targets: std::slice::from_ref(&target),
            now,
            baselines: &b,
        });
        assert_eq!(table.len(), 1);
        assert_eq!(table[0].newest_success.as_deref(), Some(newest.as_str()));
        assert_eq!(table[0].age_seconds, Some(7200));
        assert_eq!(table[0].rpo_seconds, Some(86_400));
        assert!(!table[0].stale);
        // The newest one had checksum errors: the one before it counts.
        let kind = body["last_backup"]["type"].as_str().unwrap().to_string();
        body[format!("last_{kind}")]["error"] = json!(true);
        let mut target = LiveTarget {
            name: "pgbackrest demo".into(),
            ..LiveTarget::default()
        };
        target.inventory.insert(stanza(body.clone())).unwrap();
        let table = from_pgbackrest(&BackupContext {
            targets: std::slice::from_ref(&target),
            now: datetime!(2030-01-01 0:00 UTC),
            baselines: &b,
        });
        assert_ne!(table[0].newest_success.as_deref(), Some(newest.as_str()));
        assert!(table[0].newest_success.is_some());
        assert!(table[0].stale);
        // A stanza pgBackRest reports as missing has no success at all.
        body["status"]["code"] = json!(1);
        let mut target = LiveTarget::default();
        target.inventory.insert(stanza(body)).unwrap();
        let table = from_pgbackrest(&BackupContext {
            targets: std::slice::from_ref(&target),
            now,
            baselines: &b,
        });
        assert_eq!(table[0].newest_success, None);
        assert!(table[0].stale);
    }
}
