//! The report as Prometheus text exposition format 0.0.4 (docs/metrics.md),
//! for node-exporter's textfile collector or a Pushgateway. Every family has
//! its HELP and TYPE lines; families, and samples within one, come in a fixed
//! order; label values (resource names, rule ids: hostile input) are escaped;
//! no sample carries a timestamp (the scan clock is a metric of its own).
//!
//! Only `scan_duration_seconds` is not in the JSON report: the command line
//! measures it when the clock is the real one, so with `--now` or `--demo`
//! the output is byte-identical for the same input.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::exit::Status;
use super::Report;
use crate::drift::DriftStatus;
use crate::model::Severity;

/// Label names and values of one sample, in the order written.
type Labels = Vec<(&'static str, String)>;

/// One metric family: its samples keyed by their label values, so they are
/// written sorted and a repeated label set is written once (summed).
struct Family {
    name: &'static str,
    help: &'static str,
    samples: BTreeMap<Labels, f64>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: BTreeMap::new(),
        }
    }

    fn set(&mut self, labels: Labels, value: f64) {
        self.samples.insert(labels, value);
    }

    fn add(&mut self, labels: Labels, value: f64) {
        *self.samples.entry(labels).or_insert(0.0) += value;
    }

    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, escape_help(self.help));
        let _ = writeln!(out, "# TYPE {} gauge", self.name);
        for (labels, value) in &self.samples {
            out.push_str(self.name);
            if !labels.is_empty() {
                out.push('{');
                for (index, (name, value)) in labels.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(*value));
        }
    }
}

/// A label value as the text format needs it: backslash, double quote and
/// line feed escaped (the only three escapes it knows). Other control
/// characters (C0, DEL, C1) and the Unicode bidirectional controls, which a
/// hostile object name could use to move the cursor, clear a terminal or
/// reorder what a dashboard shows, have no escape there: each becomes the
/// text `\u{..}` (its backslash escaped), as `printable` writes them
/// elsewhere, so the value a scraper reads holds none of them.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if crate::printable::needs_escape(c) => {
                let _ = write!(out, "\\\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Integers without a fraction (counts, Unix seconds), others as Rust prints
/// the shortest exact form.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Seconds since the Unix epoch of an RFC 3339 time.
fn unix_of(text: Option<&str>) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    text.and_then(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(time::OffsetDateTime::unix_timestamp)
}

fn flag(value: bool) -> f64 {
    if value {
        1.0
    } else {
        0.0
    }
}

fn result_name(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Partial => "partial",
        Status::Fail => "fail",
        Status::Incomplete => "incomplete",
        Status::Error => "error",
    }
}

pub fn render(report: &Report) -> String {
    let mut families = Vec::new();
    families.extend(scan_families(report));
    families.extend(finding_families(report));
    families.extend(drift_families(report));
    families.extend(certificate_families(report));
    families.extend(backup_families(report));
    families.extend(wal_families(report));
    let mut out = String::new();
    for family in &families {
        family.write(&mut out);
    }
    out
}

fn scan_families(report: &Report) -> Vec<Family> {
    let summary = &report.summary;
    let mut info = Family::new(
        "driftaudit_scan_info",
        "Always 1: the driftaudit version and the declared source and commit of the scan.",
    );
    info.set(
        vec![
            ("version", report.tool.version.to_string()),
            ("declared", report.scan.declared.clone().unwrap_or_default()),
            ("commit", report.scan.commit.clone().unwrap_or_default()),
        ],
        1.0,
    );
    let mut timestamp = Family::new(
        "driftaudit_scan_timestamp_seconds",
        "The scan clock (--now, else the time the scan started), in seconds since the Unix epoch.",
    );
    if let Some(now) = unix_of(Some(&report.scan.now)) {
        timestamp.set(Vec::new(), now as f64);
    }
    let mut duration = Family::new(
        "driftaudit_scan_duration_seconds",
        "How long the scan took; written only when the scan clock is the real one (no --now, no --demo).",
    );
    if let Some(seconds) = report.scan_duration_seconds {
        duration.set(Vec::new(), (seconds * 1000.0).round() / 1000.0);
    }
    let mut exit_code = Family::new(
        "driftaudit_scan_exit_code",
        "The scan's exit code: 0 clean, 1 findings or drift fail the gate, 2 input error, 3 incomplete.",
    );
    exit_code.set(Vec::new(), f64::from(summary.exit_code));
    let mut result = Family::new(
        "driftaudit_scan_result",
        "1 for the scan's result (pass, partial, fail, incomplete, error), 0 for the others.",
    );
    for status in [
        Status::Pass,
        Status::Partial,
        Status::Fail,
        Status::Incomplete,
        Status::Error,
    ] {
        result.set(
            vec![("result", result_name(status).into())],
            flag(status == summary.result),
        );
    }
    let mut complete = Family::new(
        "driftaudit_scan_complete",
        "1 when everything asked for was read and checked (no coverage gap, no input error), else 0.",
    );
    complete.set(Vec::new(), flag(summary.complete));
    let mut errors = Family::new(
        "driftaudit_scan_errors",
        "Input errors of the scan (config, YAML, Rego, a source).",
    );
    errors.set(Vec::new(), summary.errors as f64);
    let mut resources = Family::new(
        "driftaudit_resources",
        "Resources read, by state: declared (Git) or live (all live targets).",
    );
    resources.set(
        vec![("state", "declared".into())],
        summary.declared_resources as f64,
    );
    resources.set(
        vec![("state", "live".into())],
        summary.live_resources as f64,
    );
    let mut rules = Family::new(
        "driftaudit_rules_evaluated",
        "Policy rules evaluated by the scan.",
    );
    rules.set(Vec::new(), summary.rules_evaluated as f64);
    let mut gaps = Family::new(
        "driftaudit_coverage_gaps",
        "Coverage gaps (what a source could not read or check), by live target and source.",
    );
    for gap in &report.coverage {
        gaps.add(
            vec![
                ("target", gap.target.clone()),
                ("source", gap.source.as_str().into()),
            ],
            1.0,
        );
    }
    vec![
        info, timestamp, duration, exit_code, result, complete, errors, resources, rules, gaps,
    ]
}

fn finding_families(report: &Report) -> Vec<Family> {
    let mut by_severity = Family::new(
        "driftaudit_findings_by_severity",
        "Open findings (not suppressed or waived) by severity, each finding once; every severity is written, 0 included.",
    );
    for severity in Severity::ALL {
        let count = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count();
        by_severity.set(vec![("severity", severity.as_str().into())], count as f64);
    }
    let mut open = Family::new(
        "driftaudit_findings",
        "Open findings (not suppressed or waived) by severity, category, rule, live target, environment and owner; a finding seen on several targets counts once per target, one on the declared side only has target=\"\".",
    );
    for finding in &report.findings {
        let targets: Vec<String> = if finding.targets.is_empty() {
            vec![String::new()]
        } else {
            finding.targets.clone()
        };
        for target in targets {
            open.add(
                vec![
                    ("severity", finding.severity.as_str().into()),
                    ("category", finding.category.clone()),
                    ("rule", finding.rule.clone()),
                    ("target", target),
                    (
                        "environment",
                        finding.environment.clone().unwrap_or_default(),
                    ),
                    ("owner", finding.owner.clone().unwrap_or_default()),
                ],
                1.0,
            );
        }
    }
    let mut suppressed = Family::new(
        "driftaudit_findings_suppressed",
        "Findings an exemption or a waiver covers (reported, never failing), by severity, rule and how (exemption or waiver).",
    );
    for finding in &report.suppressed_findings {
        let how = match &finding.suppression {
            Some(s) if s.by.starts_with("waiver") => "waiver",
            _ => "exemption",
        };
        suppressed.add(
            vec![
                ("severity", finding.severity.as_str().into()),
                ("rule", finding.rule.clone()),
                ("suppressed_by", how.into()),
            ],
            1.0,
        );
    }
    vec![by_severity, open, suppressed]
}

fn drift_families(report: &Report) -> Vec<Family> {
    let mut drift = Family::new(
        "driftaudit_drift_resources",
        "Resources compared with a live target, by drift status (in_sync, modified, missing, unmanaged) and target; every status is written for every target read.",
    );
    if report.summary.drift_checked {
        for target in &report.scan.live {
            for status in [
                DriftStatus::InSync,
                DriftStatus::Modified,
                DriftStatus::Missing,
                DriftStatus::Unmanaged,
            ] {
                drift.set(
                    vec![
                        ("status", status.as_str().into()),
                        ("target", target.clone()),
                    ],
                    0.0,
                );
            }
        }
        for entry in &report.drift {
            drift.add(
                vec![
                    ("status", entry.status.as_str().into()),
                    ("target", entry.target.clone()),
                ],
                1.0,
            );
        }
    }
    vec![drift]
}

fn certificate_families(report: &Report) -> Vec<Family> {
    let mut not_after = Family::new(
        "driftaudit_x509_cert_not_after",
        "A certificate's notAfter, in seconds since the Unix epoch (as x509-certificate-exporter's x509_cert_not_after).",
    );
    let mut not_before = Family::new(
        "driftaudit_x509_cert_not_before",
        "A certificate's notBefore, in seconds since the Unix epoch.",
    );
    let mut expires_in = Family::new(
        "driftaudit_x509_cert_expires_in_seconds",
        "Seconds from the scan clock to the certificate's notAfter (negative once expired).",
    );
    let mut expired = Family::new(
        "driftaudit_x509_cert_expired",
        "1 when the certificate had expired at the scan clock, else 0.",
    );
    let mut error = Family::new(
        "driftaudit_x509_cert_error",
        "1 for each certificate that could not be read (not PEM, not a certificate).",
    );
    let now = unix_of(Some(&report.scan.now));
    for cert in &report.certificates {
        let resource = &cert.resource;
        let is_secret = resource.kind == "Secret";
        let secret_key = cert
            .read_from
            .rsplit_once(" key ")
            .filter(|_| is_secret)
            .map(|(_, key)| key.to_string())
            .unwrap_or_default();
        let labels = vec![
            ("state", cert.state.clone()),
            ("target", cert.target.clone()),
            ("kind", resource.kind.clone()),
            ("namespace", resource.namespace.clone()),
            ("name", resource.name.clone()),
            ("read_from", cert.read_from.clone()),
            ("position", cert.position.to_string()),
            ("subject_CN", cert.subject_cn.clone()),
            ("issuer_CN", cert.issuer_cn.clone()),
            ("serial_number", cert.serial.clone().unwrap_or_default()),
            (
                "secret_namespace",
                if is_secret {
                    resource.namespace.clone()
                } else {
                    String::new()
                },
            ),
            (
                "secret_name",
                if is_secret {
                    resource.name.clone()
                } else {
                    String::new()
                },
            ),
            ("secret_key", secret_key),
            ("filepath", cert.file.clone().unwrap_or_default()),
        ];
        match cert.not_after_unix() {
            Some(after) => {
                not_after.set(labels.clone(), after as f64);
                if let Some(before) = cert.not_before_unix() {
                    not_before.set(labels.clone(), before as f64);
                }
                if let Some(now) = now {
                    expires_in.set(labels.clone(), (after - now) as f64);
                    expired.set(labels, flag(after <= now));
                }
            }
            None => error.set(labels, 1.0),
        }
    }
    vec![not_after, not_before, expires_in, expired, error]
}

fn backup_families(report: &Report) -> Vec<Family> {
    let mut last_success = Family::new(
        "driftaudit_backup_last_success_timestamp_seconds",
        "The newest successful backup's time, in seconds since the Unix epoch; absent when none is known.",
    );
    let mut age = Family::new(
        "driftaudit_backup_age_seconds",
        "Seconds from the newest successful backup to the scan clock; absent when none is known.",
    );
    let mut rpo = Family::new(
        "driftaudit_backup_rpo_seconds",
        "The recovery point objective the backup is held to, in seconds.",
    );
    let mut stale = Family::new(
        "driftaudit_backup_stale",
        "1 when the newest successful backup is older than its RPO or none is known, else 0.",
    );
    let mut last_failure = Family::new(
        "driftaudit_backup_last_failure_timestamp_seconds",
        "The newest failed backup's time, when newer than the newest success, in seconds since the Unix epoch.",
    );
    for backup in &report.backups {
        let labels = vec![
            ("kind", backup.kind.clone()),
            ("target", backup.target.clone()),
            ("name", backup.name.clone()),
        ];
        if let Some(time) = unix_of(backup.newest_success.as_deref()) {
            last_success.set(labels.clone(), time as f64);
        }
        if let Some(seconds) = backup.age_seconds {
            age.set(labels.clone(), seconds as f64);
        }
        if let Some(seconds) = backup.rpo_seconds {
            rpo.set(labels.clone(), seconds as f64);
        }
        if let Some(time) = unix_of(backup.last_failure.as_deref()) {
            last_failure.set(labels.clone(), time as f64);
        }
        stale.set(labels, flag(backup.stale));
    }
    vec![last_success, age, rpo, stale, last_failure]
}

fn wal_families(report: &Report) -> Vec<Family> {
    let mut failures = Family::new(
        "driftaudit_wal_archive_failures",
        "Failed WAL archiving attempts since the statistics were reset (pg_stat_archiver.failed_count), as read by the scan.",
    );
    let mut archived = Family::new(
        "driftaudit_wal_archived_segments",
        "WAL segments archived since the statistics were reset (pg_stat_archiver.archived_count), as read by the scan.",
    );
    let mut last_failure = Family::new(
        "driftaudit_wal_archive_last_failure_timestamp_seconds",
        "The last failed WAL archiving attempt (pg_stat_archiver.last_failed_time), in seconds since the Unix epoch.",
    );
    let mut last_success = Family::new(
        "driftaudit_wal_archive_last_success_timestamp_seconds",
        "The last WAL segment archived (pg_stat_archiver.last_archived_time), in seconds since the Unix epoch.",
    );
    let mut failing = Family::new(
        "driftaudit_wal_archive_failing",
        "1 when WAL archiving has failed since its last success (DA-BAK-012), else 0.",
    );
    for wal in &report.wal_archivers {
        let labels = vec![
            ("target", wal.target.clone()),
            ("server", wal.server.clone()),
            ("archive_mode", wal.archive_mode.clone().unwrap_or_default()),
        ];
        if let Some(count) = wal.failed_count {
            failures.set(labels.clone(), count as f64);
        }
        if let Some(count) = wal.archived_count {
            archived.set(labels.clone(), count as f64);
        }
        if let Some(time) = unix_of(wal.last_failed_time.as_deref()) {
            last_failure.set(labels.clone(), time as f64);
        }
        if let Some(time) = unix_of(wal.last_archived_time.as_deref()) {
            last_success.set(labels.clone(), time as f64);
        }
        failing.set(labels, flag(wal.failing));
    }
    vec![failures, archived, last_failure, last_success, failing]
}
