//! The text report for people: errors and coverage gaps first (what was not
//! checked), declared files, then drift by status, then findings by category
//! and the suppressed ones (counted; listed with `--list-suppressed`), then a
//! summary whose counts follow that order and that says why the exit code is
//! what it is.

use std::fmt::Write as _;

use super::controls::ControlState;
use super::exit::Status;
use super::{BaselineState, Finding, Report};
use crate::drift::{Drift, DriftStatus};
use crate::model::{FileState, Severity};
use crate::printable::printable;

/// Terminal styling; every method is a no-op when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
    fn severity(&self, severity: Severity) -> String {
        let label = format!("{:<8}", severity.as_str().to_uppercase());
        match severity {
            Severity::Critical => self.paint("1;31", &label),
            Severity::High => self.red(&label),
            Severity::Medium => self.yellow(&label),
            Severity::Low => self.cyan(&label),
            Severity::Info => self.dim(&label),
        }
    }
}

/// What the text report shows.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    pub style: Style,
    /// Unified diffs under modified resources (`driftaudit diff`).
    pub diffs: bool,
    /// List in-sync resources one by one (otherwise only counted).
    pub list_in_sync: bool,
    /// List suppressed findings one by one (otherwise only counted).
    pub list_suppressed: bool,
}

pub fn render(report: &Report, options: &TextOptions) -> String {
    let s = options.style;
    let mut out = String::new();
    let scan = &report.scan;
    let declared = scan.declared.as_deref().unwrap_or("(nothing declared)");
    let _ = write!(
        out,
        "{} {}: {}",
        s.bold("driftaudit"),
        report.tool.version,
        printable(declared)
    );
    if let Some(commit) = &scan.commit {
        let short: String = commit.chars().take(12).collect();
        let _ = write!(out, " @ {}", printable(&short));
    }
    if scan.live.is_empty() {
        let _ = writeln!(
            out,
            " — declared state only (no live source: drift not checked)"
        );
    } else {
        let _ = writeln!(out, " vs live {}", printable(&scan.live.join(", ")));
    }
    let _ = writeln!(
        out,
        "{}",
        s.dim(&format!(
            "clock {}  files read {}",
            scan.now, scan.files_read
        ))
    );
    if let Some(compare) = &scan.compare {
        let commit: String = compare
            .base_commit
            .as_deref()
            .unwrap_or("(not resolved)")
            .chars()
            .take(12)
            .collect();
        let _ = writeln!(
            out,
            "{}",
            s.dim(&printable(&format!(
                "compared with base {} @ {commit}{}",
                compare.base_ref,
                if compare.fail_on_existing {
                    " (existing findings fail too)"
                } else {
                    " (only new findings fail)"
                }
            )))
        );
    }
    for environment in &scan.environments {
        let paths: Vec<&str> = environment
            .paths
            .iter()
            .map(|p| if p.is_empty() { "." } else { p.as_str() })
            .collect();
        let mut line = format!(
            "environment {} ({}): {}",
            environment.name,
            environment.from,
            paths.join(", ")
        );
        if let Some(namespace) = &environment.namespace {
            line.push_str(&format!("  namespace {namespace}"));
        }
        if let Some(context) = &environment.kube_context {
            line.push_str(&format!("  context {context}"));
        }
        let _ = writeln!(out, "{}", s.dim(&printable(&line)));
    }

    render_history_header(&mut out, report, s);

    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            s.red(&s.bold(&format!(
                "ERRORS ({}) — these inputs could not be used",
                report.errors.len()
            )))
        );
        for error in &report.errors {
            let _ = writeln!(
                out,
                "  {}  {} {}",
                s.bold(&printable(&error.location.to_string())),
                error.code.as_str(),
                printable(&error.message)
            );
        }
    }
    if !report.coverage.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            s.yellow(&s.bold(&format!(
                "NOT CHECKED ({}) — the scan is incomplete",
                report.coverage.len()
            )))
        );
        for gap in &report.coverage {
            let endpoint = if gap.endpoint.is_empty() {
                String::new()
            } else {
                format!(" [{}]", printable(&gap.endpoint))
            };
            let _ = writeln!(
                out,
                "  {} {}: {} — {}{}",
                printable(&gap.target),
                gap.source.as_str(),
                printable(&gap.scope),
                printable(&gap.reason),
                endpoint
            );
        }
    }

    render_declared_coverage(&mut out, report, s);

    if report.summary.drift_checked {
        render_drift(&mut out, report, options);
    }
    if scan.policies {
        render_findings(&mut out, report, s);
        render_suppressed(&mut out, &report.suppressed_findings, options);
        render_fixed(&mut out, &report.fixed_findings, s);
    }
    render_resolved(&mut out, report, s);
    if scan.policies {
        render_waivers(&mut out, report, s);
        for change in report.scan.compare.iter().flat_map(|c| &c.gate_changes) {
            let _ = writeln!(
                out,
                "{}  {}",
                s.yellow("CONFIG CHANGED"),
                printable(&super::github::gate_change_text(change))
            );
        }
    }
    render_backups(&mut out, report, s);
    render_controls(&mut out, report, s);
    render_summary(&mut out, report, s);
    out
}

/// `new since the last scan`, or `first seen 2026-11-20T00:00:00Z (3d)`.
fn memory(history: &crate::history::EntryHistory, s: Style) -> String {
    if history.new_since_last_scan {
        s.yellow("new since the last scan")
    } else {
        s.dim(&format!(
            "first seen {} ({})",
            history.first_seen,
            crate::history::short_age(history.age_seconds)
        ))
    }
}

/// With `--history`: the store and the scan compared with.
fn render_history_header(out: &mut String, report: &Report, s: Style) {
    let Some(history) = &report.history else {
        return;
    };
    let previous = match &history.previous_scan {
        Some(previous) => format!("compared with scan {} of {}", previous.id, previous.now),
        None => "the first complete scan of this target".into(),
    };
    let resolved = match history.resolved {
        Some(n) => format!("{n} resolved"),
        None => "resolved not told (scan incomplete)".into(),
    };
    let _ = writeln!(
        out,
        "{}",
        s.dim(&printable(&format!(
            "history {} scan {} of {}: {previous}; {} new, {} existing, {resolved}",
            history.store, history.scan_id, history.target, history.new, history.existing
        )))
    );
}

/// With `--history`: what the previous scan of the target showed and this one no longer does.
fn render_resolved(out: &mut String, report: &Report, s: Style) {
    if report.resolved.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        s.green(&s.bold(&format!(
            "RESOLVED SINCE THE LAST SCAN ({})",
            report.resolved.len()
        )))
    );
    for resolved in &report.resolved {
        let entry = &resolved.entry;
        let _ = writeln!(
            out,
            "  {} {}  {}",
            printable(&entry.what()),
            s.bold(&printable(
                entry.resource.as_deref().unwrap_or("(inventory)")
            )),
            s.dim(&format!(
                "first seen {}, last seen {}",
                entry.first_seen, resolved.last_seen
            ))
        );
    }
}

/// Declared files by state, and the ones not checked listed.
fn render_declared_coverage(out: &mut String, report: &Report, s: Style) {
    let Some(coverage) = &report.declared_coverage else {
        return;
    };
    let c = &coverage.counts;
    let _ = writeln!(
        out,
        "\n{}  {} read, {} rendered, {} excluded, {} not checked",
        s.bold("DECLARED FILES"),
        c.read,
        c.rendered,
        c.excluded,
        c.not_checked
    );
    let mut by_environment: std::collections::BTreeMap<&str, usize> = Default::default();
    for file in &coverage.files {
        for name in &file.environments {
            *by_environment.entry(name).or_default() += 1;
        }
    }
    for (name, files) in by_environment {
        let _ = writeln!(
            out,
            "  environment {}: {files} file(s)",
            s.bold(&printable(name))
        );
    }
    for file in &coverage.files {
        if let FileState::NotChecked { reason, .. } = &file.state {
            let _ = writeln!(
                out,
                "  {} {} — {}",
                s.yellow("not checked"),
                printable(&file.path),
                printable(reason)
            );
        }
    }
}

fn render_drift(out: &mut String, report: &Report, options: &TextOptions) {
    let s = options.style;
    let c = &report.summary.drift;
    let _ = writeln!(
        out,
        "\n{}  {} modified, {} missing, {} unmanaged, {} in sync",
        s.bold("DRIFT"),
        c.modified,
        c.missing,
        c.unmanaged,
        c.in_sync
    );
    let unrecorded = report.drift.iter().filter(|d| d.note.is_some()).count();
    if unrecorded > 0 {
        let _ = writeln!(
            out,
            "  note: {unrecorded} compared object(s) have no managedFields: their changes are not attributed and fields Git does not set are not checked"
        );
    }
    let multi_target = report.scan.live.len() > 1;
    if let Some(groups) = &report.groups {
        // `--group-by owner`: each owner's drifted entries, then the in-sync ones.
        for group in groups.groups.iter().filter(|g| !g.drift.is_empty()) {
            let _ = writeln!(
                out,
                "  {} {}",
                s.bold(&format!("owner {}", owner_name(group.owner.as_deref()))),
                s.dim(&format!("({} drifted)", group.drift.len()))
            );
            for status in DriftStatus::ALL {
                let entries = group.drift.iter().filter_map(|&i| report.drift.get(i));
                for drift in entries.filter(|d| d.status == status) {
                    render_drift_entry(out, drift, multi_target, options, false);
                }
            }
        }
        if options.list_in_sync {
            for drift in report
                .drift
                .iter()
                .filter(|d| d.status == DriftStatus::InSync)
            {
                render_drift_entry(out, drift, multi_target, options, true);
            }
        }
        return;
    }
    for status in DriftStatus::ALL {
        if status == DriftStatus::InSync && !options.list_in_sync {
            continue;
        }
        for drift in report.drift.iter().filter(|d| d.status == status) {
            render_drift_entry(out, drift, multi_target, options, true);
        }
    }
}

/// An owner as the text report names it: escaped, or `(no owner)`.
fn owner_name(owner: Option<&str>) -> String {
    match owner {
        Some(owner) => printable(owner).into_owned(),
        None => crate::owners::NO_OWNER.to_string(),
    }
}

fn render_drift_entry(
    out: &mut String,
    drift: &Drift,
    multi_target: bool,
    options: &TextOptions,
    show_owner: bool,
) {
    let s = options.style;
    let label = format!("{:<10}", drift.status.as_str());
    let label = match drift.status {
        DriftStatus::Modified => s.yellow(&label),
        DriftStatus::Missing => s.red(&label),
        DriftStatus::Unmanaged => s.cyan(&label),
        DriftStatus::InSync => s.green(&label),
    };
    let r = &drift.resource;
    let name = if r.namespace.is_empty() {
        printable(&r.name).into_owned()
    } else {
        printable(&format!("{}/{}", r.namespace, r.name)).into_owned()
    };
    let mut target = if multi_target {
        format!(" [{}]", printable(&drift.target))
    } else {
        String::new()
    };
    if let Some(environment) = &drift.environment {
        target.push_str(&format!(" (environment {})", printable(environment)));
    }
    let at = match (&drift.location, drift.status) {
        (Some(location), DriftStatus::Missing) => {
            format!("  ({}:{})", printable(&location.file), location.line)
        }
        _ => String::new(),
    };
    let owner = match (&drift.owner, show_owner) {
        (Some(owner), true) => s.dim(&format!("  owner {}", printable(owner))),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "  {label} {} {}{}{at}{owner}",
        printable(&r.kind),
        s.bold(&name),
        target
    );
    if let Some(history) = &drift.history {
        let _ = writeln!(out, "      {}", memory(history, s));
    }
    if let Some(note) = &drift.note {
        if drift.status == DriftStatus::Modified {
            let _ = writeln!(out, "      note: {note}");
        }
    }
    for change in &drift.changes {
        let mut line = format!(
            "      {}: {} → {}",
            printable(&change.path),
            short(&change.declared),
            short(&change.live)
        );
        if let Some(writer) = &change.changed_by {
            let _ = write!(line, "  by {}", printable(&writer.manager));
            if let Some(subresource) = &writer.subresource {
                let _ = write!(line, " ({})", printable(subresource));
            }
            if let Some(time) = &writer.time {
                let _ = write!(line, " at {}", printable(time));
            }
        }
        if let Some(location) = &change.location {
            let _ = write!(line, "  ({}:{})", printable(&location.file), location.line);
        }
        let _ = writeln!(out, "{line}");
    }
    if options.diffs && !drift.diff.is_empty() {
        for line in drift.diff.lines() {
            let line = &*printable(line);
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                s.bold(line)
            } else if line.starts_with('+') {
                s.green(line)
            } else if line.starts_with('-') {
                s.red(line)
            } else if line.starts_with("@@") {
                s.cyan(line)
            } else {
                line.to_string()
            };
            let _ = writeln!(out, "      {painted}");
        }
    }
}

/// A value on one line, shortened: `(absent)` for a missing field.
fn short(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::Null => return "(absent)".into(),
        other => printable(&other.to_string()).into_owned(),
    };
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn render_findings(out: &mut String, report: &Report, s: Style) {
    let findings = &report.findings;
    let _ = writeln!(out, "\n{}  {}", s.bold("FINDINGS"), findings.len());
    let Some(groups) = &report.groups else {
        render_by_category(out, findings, s, true);
        return;
    };
    // `--group-by owner`: each owner's findings, by category.
    for group in groups.groups.iter().filter(|g| !g.findings.is_empty()) {
        let _ = writeln!(
            out,
            "  {} {}",
            s.bold(&format!("owner {}", owner_name(group.owner.as_deref()))),
            s.dim(&format!("({} finding(s))", group.findings.len()))
        );
        let owned: Vec<Finding> = group
            .findings
            .iter()
            .filter_map(|&i| findings.get(i).cloned())
            .collect();
        render_by_category(out, &owned, s, false);
    }
}

/// Suppressed findings: counted, and listed with `--list-suppressed`.
fn render_suppressed(out: &mut String, suppressed: &[Finding], options: &TextOptions) {
    let s = options.style;
    if suppressed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}  {} — covered by an exemption, not failing the scan{}",
        s.bold("SUPPRESSED"),
        suppressed.len(),
        if options.list_suppressed {
            ""
        } else {
            " (--list-suppressed lists them)"
        }
    );
    if options.list_suppressed {
        render_by_category(out, suppressed, s, true);
    }
}

/// With `--compare-ref`: the base's findings the head no longer has, one line each.
fn render_fixed(out: &mut String, fixed: &[Finding], s: Style) {
    if fixed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}  {} — in the base, no longer found",
        s.bold("FIXED"),
        fixed.len()
    );
    for finding in fixed {
        let _ = writeln!(
            out,
            "    {} {} {}  {}",
            s.severity(finding.severity),
            printable(&finding.rule),
            s.bold(&printable(&subject_of(finding))),
            s.dim(&finding.fingerprint)
        );
    }
}

/// The waivers file: what it did, and each stale waiver (a warning, never failing).
fn render_waivers(out: &mut String, report: &Report, s: Style) {
    let Some(waivers) = &report.waivers else {
        return;
    };
    let _ = writeln!(
        out,
        "\n{}  {}: {} waiver(s), {} finding(s) waived, {} expired, {} stale",
        s.bold("WAIVERS"),
        printable(&waivers.file),
        waivers.total,
        waivers.waived_findings,
        waivers.expired,
        waivers.stale.len()
    );
    for stale in &waivers.stale {
        let _ = writeln!(
            out,
            "  stale waiver at {}:{} ({}, owner {}, expires {}): matches no finding; remove it",
            printable(&stale.location.file),
            stale.location.line,
            printable(&stale.rule),
            printable(&stale.owner),
            printable(&stale.expires)
        );
    }
    for waiver in &waivers.changed {
        let _ = writeln!(
            out,
            "  {}:{}: {}",
            printable(&waiver.location.file),
            waiver.location.line,
            printable(&super::github::changed_waiver_text(waiver))
        );
    }
}

/// The one backup table (docs/backups.md), when the live state showed backups.
fn render_backups(out: &mut String, report: &Report, s: Style) {
    if report.backups.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        s.bold(&format!("BACKUPS ({})", report.backups.len()))
    );
    let rows: Vec<[String; 7]> = report
        .backups
        .iter()
        .map(|row| crate::backups::table_cells(row).map(|cell| printable(&cell).into_owned()))
        .collect();
    let mut widths = crate::backups::TABLE_HEADINGS.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let headings = crate::backups::TABLE_HEADINGS.map(String::from);
    for (i, row) in std::iter::once(&headings).chain(&rows).enumerate() {
        let mut text = String::from(" ");
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(text, " {cell:width$}");
        }
        let text = text.trim_end().to_string();
        let stale = i > 0 && row[6].starts_with("yes");
        let _ = writeln!(
            out,
            "{}",
            if i == 0 {
                s.dim(&text)
            } else if stale {
                s.red(&text)
            } else {
                text
            }
        );
    }
}

fn subject_of(finding: &Finding) -> String {
    let subject = match &finding.resource {
        Some(r) if r.namespace.is_empty() => format!("{} {}", r.kind, r.name),
        Some(r) => format!("{} {}/{}", r.kind, r.namespace, r.name),
        None => "(inventory)".into(),
    };
    match &finding.environment {
        Some(environment) => format!("{subject} (environment {environment})"),
        None => subject,
    }
}

/// The controls section (`--framework`): one line per control, its status,
/// and what decided it (the failing rules, the first rule not assessed and
/// why, the waived rules, or how many rules passed).
fn render_controls(out: &mut String, report: &Report, s: Style) {
    let Some(section) = &report.controls else {
        return;
    };
    let counts = &section.counts;
    let _ = writeln!(
        out,
        "\n{} ({}): {} pass, {} fail, {} not assessed, {} waived",
        s.bold("CONTROLS"),
        section.frameworks.join(", "),
        counts.pass,
        counts.fail,
        counts.not_assessed,
        counts.waived
    );
    for control in &section.controls {
        let label = format!("{:<12}", control.status.as_str().to_uppercase());
        let label = match control.status {
            ControlState::Pass => s.green(&label),
            ControlState::Fail => s.red(&label),
            ControlState::NotAssessed => s.yellow(&label),
            ControlState::Waived => s.cyan(&label),
        };
        let deciding: Vec<&super::controls::RuleStatus> = control
            .rules
            .iter()
            .filter(|r| r.status == control.status)
            .collect();
        let detail = match control.status {
            ControlState::Pass => format!("{} rule(s) evaluated, no finding", control.rules.len()),
            ControlState::NotAssessed => deciding.first().map_or_else(String::new, |r| {
                let more = if deciding.len() > 1 {
                    format!(" (+{} more)", deciding.len() - 1)
                } else {
                    String::new()
                };
                format!("{}: {}{more}", r.rule, r.reason)
            }),
            ControlState::Fail | ControlState::Waived => deciding
                .iter()
                .map(|r| format!("{} {}", r.rule, r.reason))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let _ = writeln!(
            out,
            "  {label} {}  {}",
            printable(&control.id),
            s.dim(&printable(&detail))
        );
    }
}

fn render_by_category(out: &mut String, findings: &[Finding], s: Style, show_owner: bool) {
    let mut categories: Vec<&str> = findings.iter().map(|f| f.category.as_str()).collect();
    categories.sort();
    categories.dedup();
    for category in categories {
        let _ = writeln!(out, "  {}", s.bold(&printable(category)));
        for finding in findings.iter().filter(|f| f.category == category) {
            let subject = subject_of(finding);
            let subject = printable(&subject);
            let marker = match finding.baseline_state {
                Some(BaselineState::New) => format!(" {}", s.yellow(&s.bold("new"))),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "    {} {} {}  {}{marker}",
                s.severity(finding.severity),
                printable(&finding.rule),
                s.bold(&subject),
                s.dim(&printable(&format!(
                    "[{}]",
                    finding
                        .states
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            );
            let _ = writeln!(out, "             {}", printable(&finding.message));
            if let Some(location) = &finding.location {
                let _ = writeln!(
                    out,
                    "             {}",
                    s.dim(&format!(
                        "at {}:{}",
                        printable(&location.file),
                        location.line
                    ))
                );
            }
            if let (Some(owner), true) = (&finding.owner, show_owner) {
                let _ = writeln!(
                    out,
                    "             {}",
                    s.dim(&format!("owner {}", printable(owner)))
                );
            }
            if let Some(history) = &finding.history {
                let _ = writeln!(out, "             {}", memory(history, s));
            }
            if let Some(suppression) = &finding.suppression {
                let mut whose = String::new();
                if let Some(owner) = &suppression.owner {
                    whose += &format!(" (owner {owner}");
                    if let Some(expires) = &suppression.expires {
                        whose += &format!(", expires {expires}");
                    }
                    whose += ")";
                }
                let _ = writeln!(
                    out,
                    "             {}",
                    s.dim(&printable(&format!(
                        "suppressed by {}{whose}: {}",
                        suppression.by, suppression.reason
                    )))
                );
            } else if !finding.remediation.is_empty() {
                let _ = writeln!(
                    out,
                    "             {}",
                    s.dim(&format!("fix: {}", printable(&finding.remediation)))
                );
            }
        }
    }
}

/// The footer: counts in the order the sections above print them (errors,
/// not checked, resources, drift, findings, suppressed; a section not printed
/// is not counted), then the result and why.
fn render_summary(out: &mut String, report: &Report, s: Style) {
    let summary = &report.summary;
    let f = &summary.findings;
    let mut parts = Vec::new();
    if summary.errors > 0 {
        parts.push(format!("{} error(s)", summary.errors));
    }
    if !report.coverage.is_empty() {
        parts.push(format!("{} not checked", report.coverage.len()));
    }
    parts.push(format!(
        "{} declared, {} live resources",
        summary.declared_resources, summary.live_resources
    ));
    if summary.drift_checked {
        let d = &summary.drift;
        parts.push(format!(
            "drift: {} modified, {} missing, {} unmanaged, {} in sync",
            d.modified, d.missing, d.unmanaged, d.in_sync
        ));
    }
    if report.scan.policies {
        parts.push(format!(
            "{} rules; findings: {} critical, {} high, {} medium, {} low, {} info; {} suppressed",
            summary.rules_evaluated, f.critical, f.high, f.medium, f.low, f.info, f.suppressed
        ));
    }
    if let Some(c) = &f.compared {
        let mut line = format!("{} new, {} existing, {} fixed", c.new, c.existing, c.fixed);
        if c.not_compared > 0 {
            line.push_str(&format!(", {} live-only not compared", c.not_compared));
        }
        parts.push(line);
    }
    let _ = writeln!(out, "\n{}  {}", s.bold("SUMMARY"), parts.join("; "));
    let why = match summary.result {
        Status::Error => s.red(&format!(
            "ERROR: {} input(s) could not be used; the result below them is not complete",
            summary.errors
        )),
        Status::Incomplete => {
            s.yellow("INCOMPLETE: part of the input was not checked (see NOT CHECKED)")
        }
        Status::Fail => {
            let mut reasons = Vec::new();
            if summary.fail_on_drift {
                let d = &summary.drift;
                let n = d.modified + d.missing + d.unmanaged;
                if n > 0 {
                    reasons.push(format!("{n} drifted resource(s) with --fail-on-drift"));
                }
            }
            if let Some(threshold) = summary.fail_on {
                let n = report
                    .findings
                    .iter()
                    .filter(|x| report.scan.compare.as_ref().is_none_or(|c| c.gates(x)))
                    .filter(|x| x.severity >= threshold)
                    .count();
                let new = match &report.scan.compare {
                    Some(c) if !c.fail_on_existing => "new ",
                    _ => "",
                };
                if n > 0 {
                    reasons.push(format!("{n} {new}finding(s) at or above {threshold}"));
                }
            }
            s.red(&format!("FAIL: {}", reasons.join("; ")))
        }
        Status::Pass => s.green("PASS"),
        Status::Partial => s.yellow(&format!(
            "PARTIAL: nothing fails the gate, but {} part(s) were not checked (see NOT CHECKED; --allow-partial)",
            report.coverage.len()
        )),
    };
    let _ = writeln!(out, "{why} (exit {})", summary.exit_code);
}
