//! The Markdown report: a pull-request comment (and GitHub's job summary).
//! It starts with [`MARKER`], an HTML comment a bot finds to update one
//! comment instead of adding one per run, and holds no time: the same report
//! gives the same text. New findings come first; with a `--compare-ref` base
//! the existing ones are folded in a `<details>`; then suppressed and fixed
//! findings (folded), drift, and what was not checked. Tables stop at
//! [`ROWS`] rows (GitHub caps a comment at 65,536 characters).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{BaselineState, Finding, Report};
use crate::drift::DriftStatus;
use crate::model::Severity;

/// The first line: how a bot finds the comment to update.
pub const MARKER: &str = "<!-- driftaudit-report -->";
/// Rows of one table before the rest is counted instead.
pub const ROWS: usize = 50;

/// Text made inert in Markdown and HTML: emphasis, links, code, tables,
/// headings, HTML tags and `@mentions` (which would notify people) are
/// escaped; line breaks become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("&#64;"),
            '\r' | '\n' | '\t' => out.push(' '),
            c if crate::printable::needs_escape(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Text shown as code in a table cell: backticks cannot be escaped inside a
/// code span, so a value holding one is escaped as plain text instead.
fn code(text: &str) -> String {
    // Any control character (a lone `\r` ends a line in CommonMark) or bidi
    // override: plain escaped text, never a code span it could break out of.
    if text
        .chars()
        .any(|c| c == '`' || c == '|' || crate::printable::needs_escape(c))
    {
        escape(text)
    } else {
        format!("`{text}`")
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🟥 critical",
        Severity::High => "🟧 high",
        Severity::Medium => "🟨 medium",
        Severity::Low => "🟦 low",
        Severity::Info => "⬜ info",
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let summary = &report.summary;
    let _ = writeln!(out, "{MARKER}");
    let verdict = match summary.result {
        super::exit::Status::Pass => "✅ pass",
        super::exit::Status::Partial => "⚠️ partial (not everything was checked)",
        super::exit::Status::Fail => "❌ fail",
        super::exit::Status::Incomplete => "⚠️ incomplete (not everything was checked)",
        super::exit::Status::Error => "⛔ error (some input could not be used)",
    };
    let _ = writeln!(
        out,
        "## driftaudit: {verdict}\n\nExit code {}; declared {}.\n",
        summary.exit_code,
        escape(report.scan.declared.as_deref().unwrap_or("nothing")),
    );

    let compared = report.all_findings().any(|f| f.baseline_state.is_some());
    let new: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.baseline_state != Some(BaselineState::Existing))
        .collect();
    let existing: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.baseline_state == Some(BaselineState::Existing))
        .collect();

    // The summary table.
    let _ = writeln!(out, "| | critical | high | medium | low | info | total |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let row = |out: &mut String, label: &str, findings: &[&Finding]| {
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            count(Severity::Critical),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low),
            count(Severity::Info),
            findings.len()
        );
    };
    if compared {
        row(&mut out, "new findings", &new);
        row(&mut out, "existing findings", &existing);
    } else {
        row(&mut out, "findings", &new);
    }
    let suppressed: Vec<&Finding> = report.suppressed_findings.iter().collect();
    row(&mut out, "suppressed", &suppressed);
    if !report.fixed_findings.is_empty() {
        let fixed: Vec<&Finding> = report.fixed_findings.iter().collect();
        row(&mut out, "fixed", &fixed);
    }
    if summary.drift_checked {
        let d = &summary.drift;
        let _ = writeln!(
            out,
            "\nDrift: {} modified, {} missing, {} unmanaged, {} in sync.",
            d.modified, d.missing, d.unmanaged, d.in_sync
        );
    } else {
        let _ = writeln!(out, "\nDrift: not checked (no live source).");
    }
    if !report.errors.is_empty() || !report.coverage.is_empty() {
        let _ = writeln!(
            out,
            "\n**Not checked:** {} input error(s), {} coverage gap(s); the JSON report lists them.",
            report.errors.len(),
            report.coverage.len()
        );
    }

    // `--group-by owner`: counts by owner, and the tables below ordered by
    // owner with an owner column.
    let rank = owner_rank(report);
    let mut new = new;
    let mut existing = existing;
    if let Some(rank) = &rank {
        by_owners(&mut out, report);
        new.sort_by_key(|f| rank(f.owner.as_deref()));
        existing.sort_by_key(|f| rank(f.owner.as_deref()));
    }
    let owners = rank.is_some();

    let heading = if compared { "New findings" } else { "Findings" };
    let _ = writeln!(out, "\n### {heading} ({})\n", new.len());
    if new.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        findings_table(&mut out, &new, false, owners);
    }
    if compared {
        folded(
            &mut out,
            &format!("Existing findings ({})", existing.len()),
            &existing,
            false,
            owners,
        );
    }
    if !suppressed.is_empty() {
        folded(
            &mut out,
            &format!("Suppressed findings ({})", suppressed.len()),
            &suppressed,
            true,
            false,
        );
    }
    if !report.fixed_findings.is_empty() {
        let fixed: Vec<&Finding> = report.fixed_findings.iter().collect();
        folded(
            &mut out,
            &format!("Fixed findings ({})", fixed.len()),
            &fixed,
            false,
            false,
        );
    }
    gate_changes(&mut out, report);
    changed_waivers(&mut out, report);
    backups_table(&mut out, report);
    drift_table(&mut out, report, rank.as_ref());
    history_section(&mut out, report);
    evidence(&mut out, report);
    out
}

/// Config, baseline and policy files the change touches (`--compare-ref`).
fn gate_changes(out: &mut String, report: &Report) {
    let changes: Vec<_> = report
        .scan
        .compare
        .iter()
        .flat_map(|c| &c.gate_changes)
        .collect();
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n### The scan's own configuration changes ({})\n",
        changes.len()
    );
    for change in changes.iter().take(ROWS) {
        let _ = writeln!(out, "- {} {}", code(&change.path), escape(&change.change));
    }
    more(out, changes.len(), "the JSON report lists them all");
    let _ = writeln!(
        out,
        "\nThese files configure the check of this change, and the base is judged by them too: review them as policy."
    );
}

/// Waivers the change adds or extends (`--compare-ref`), for the reviewers.
fn changed_waivers(out: &mut String, report: &Report) {
    let changed: Vec<_> = report.waivers.iter().flat_map(|w| &w.changed).collect();
    if changed.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n### Waivers this change adds or extends ({})\n",
        changed.len()
    );
    for waiver in changed.iter().take(ROWS) {
        let _ = writeln!(
            out,
            "- {}: {}",
            code(&format!(
                "{}:{}",
                waiver.location.file, waiver.location.line
            )),
            escape(&super::github::changed_waiver_text(waiver))
        );
    }
    more(out, changed.len(), "the JSON report lists them all");
}

/// The line under a table cut at [`ROWS`] rows, when it was.
fn more(out: &mut String, rows: usize, where_all: &str) {
    if rows > ROWS {
        let _ = writeln!(out, "\n… and {} more ({where_all}).", rows - ROWS);
    }
}

/// The one backup table (docs/backups.md), when the live state showed backups.
fn backups_table(out: &mut String, report: &Report) {
    if report.backups.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Backups ({})\n", report.backups.len());
    let _ = writeln!(out, "| {} |", crate::backups::TABLE_HEADINGS.join(" | "));
    let _ = writeln!(out, "|---|---|---|---|---:|---:|---|");
    for row in report.backups.iter().take(ROWS) {
        let cells = crate::backups::table_cells(row).map(|cell| escape(&cell));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    more(out, report.backups.len(), "the JSON report lists them all");
}

/// With `--history`: what is new since the last scan of the same target,
/// and what was resolved.
fn history_section(out: &mut String, report: &Report) {
    let Some(history) = &report.history else {
        return;
    };
    let _ = writeln!(out, "\n### Since the last scan\n");
    let previous = match &history.previous_scan {
        Some(previous) => format!("scan {} of {}", previous.id, escape(&previous.now)),
        None => "none (the first complete scan of this target)".into(),
    };
    let resolved = history
        .resolved
        .map_or_else(|| "not told (scan incomplete)".into(), |n| n.to_string());
    let _ = writeln!(
        out,
        "Store {}, target {}, scan {}; compared with {previous}: **{} new**, {} existing, {resolved} resolved.\n",
        code(&history.store),
        code(&history.target),
        history.scan_id,
        history.new,
        history.existing
    );
    let mut new: Vec<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.history.as_ref().is_some_and(|h| h.new_since_last_scan))
        .map(|f| (code(&f.rule), escape(&f.resource_name())))
        .collect();
    new.extend(
        report
            .drift
            .iter()
            .filter(|d| d.history.as_ref().is_some_and(|h| h.new_since_last_scan))
            .map(|d| {
                (
                    format!("drift {}", d.status.as_str()),
                    escape(&d.resource.display_name()),
                )
            }),
    );
    if !new.is_empty() {
        let _ = writeln!(out, "| new | resource |\n|---|---|");
        for (what, resource) in new.iter().take(ROWS) {
            let _ = writeln!(out, "| {what} | {resource} |");
        }
        more(out, new.len(), "the JSON report marks them all");
    }
    if !report.resolved.is_empty() {
        let _ = writeln!(
            out,
            "\n| resolved | resource | first seen | last seen |\n|---|---|---|---|"
        );
        for resolved in report.resolved.iter().take(ROWS) {
            let entry = &resolved.entry;
            let what = match &entry.rule {
                Some(rule) => code(rule),
                None => escape(&entry.what()),
            };
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {} |",
                escape(entry.resource.as_deref().unwrap_or("(inventory)")),
                escape(&entry.first_seen),
                escape(&resolved.last_seen)
            );
        }
        more(out, report.resolved.len(), "the JSON report lists them all");
    }
}

/// What was checked (commit, tree, targets, digests), folded.
fn evidence(out: &mut String, report: &Report) {
    let Some(block) = &report.evidence else {
        return;
    };
    let _ = writeln!(out, "\n<details><summary>Evidence</summary>\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    for (label, value) in block.summary() {
        let _ = writeln!(out, "| {} | {} |", escape(&label), code(&value));
    }
    let _ = writeln!(
        out,
        "| Digests | {} declared file(s) by Git blob id, {} policy file(s) by SHA-256: in the JSON report |",
        block.files.len(),
        block.policies.len()
    );
    let _ = writeln!(out, "\n</details>");
}

fn folded(out: &mut String, summary: &str, findings: &[&Finding], reasons: bool, owners: bool) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n<details><summary>{summary}</summary>\n");
    findings_table(out, findings, reasons, owners);
    let _ = writeln!(out, "\n</details>");
}

/// With `--group-by owner`: the position of an owner among the groups (the
/// order the tables follow), the group without owner last. The positions are
/// indexed once, so a sort costs one lookup per comparison rather than a walk
/// over every group.
fn owner_rank(report: &Report) -> Option<impl Fn(Option<&str>) -> usize + '_> {
    let groups = &report.groups.as_ref()?.groups;
    let mut index: HashMap<Option<&str>, usize> = HashMap::with_capacity(groups.len());
    for (position, group) in groups.iter().enumerate() {
        index.entry(group.owner.as_deref()).or_insert(position);
    }
    let last = groups.len();
    Some(move |owner: Option<&str>| index.get(&owner).copied().unwrap_or(last))
}

/// The owner cell of a table.
fn owner_cell(owner: Option<&str>) -> String {
    escape(owner.unwrap_or(crate::owners::NO_OWNER))
}

/// `--group-by owner`: one row per owner, with its counts.
fn by_owners(out: &mut String, report: &Report) {
    let Some(groups) = &report.groups else {
        return;
    };
    let _ = writeln!(out, "\n### By owner ({})\n", groups.groups.len());
    let _ = writeln!(out, "| owner | critical | high | findings | drift |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for group in groups.groups.iter().take(ROWS) {
        let count = |s: Severity| {
            let findings = group
                .findings
                .iter()
                .filter_map(|&i| report.findings.get(i));
            findings.filter(|f| f.severity == s).count()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            owner_cell(group.owner.as_deref()),
            count(Severity::Critical),
            count(Severity::High),
            group.findings.len(),
            group.drift.len()
        );
    }
    if groups.groups.len() > ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more owners (the JSON report lists them all).",
            groups.groups.len() - ROWS
        );
    }
}

fn findings_table(out: &mut String, findings: &[&Finding], reasons: bool, owners: bool) {
    if owners {
        let _ = writeln!(
            out,
            "| owner | severity | rule | resource | where | message |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
    } else if reasons {
        let _ = writeln!(
            out,
            "| severity | rule | resource | where | message | suppressed by |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
    } else {
        let _ = writeln!(out, "| severity | rule | resource | where | message |");
        let _ = writeln!(out, "|---|---|---|---|---|");
    }
    for finding in findings.iter().take(ROWS) {
        let resource = finding.resource_name();
        let place = match &finding.location {
            Some(at) => code(&format!("{}:{}", at.file, at.line)),
            None => escape(
                &finding
                    .states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
        if owners {
            let _ = write!(out, "| {} ", owner_cell(finding.owner.as_deref()));
        }
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} |",
            severity_label(finding.severity),
            code(&finding.rule),
            escape(&resource),
            place,
            escape(&finding.message),
        );
        if reasons {
            let why = finding
                .suppression
                .as_ref()
                .map(|s| {
                    let mut why = format!("{}: {}", code(&s.by), escape(&s.reason));
                    if let Some(owner) = &s.owner {
                        let _ = write!(why, " (owner {}", escape(owner));
                        if let Some(expires) = &s.expires {
                            let _ = write!(why, ", until {}", escape(expires));
                        }
                        why.push(')');
                    }
                    why
                })
                .unwrap_or_default();
            let _ = write!(out, " {why} |");
        }
        out.push('\n');
    }
    more(
        out,
        findings.len(),
        "the JSON or SARIF report lists them all",
    );
}

fn drift_table(out: &mut String, report: &Report, rank: Option<&impl Fn(Option<&str>) -> usize>) {
    let mut drifted: Vec<_> = report
        .drift
        .iter()
        .filter(|d| d.status != DriftStatus::InSync)
        .collect();
    if drifted.is_empty() {
        return;
    }
    if let Some(rank) = rank {
        drifted.sort_by_key(|d| rank(d.owner.as_deref()));
    }
    let _ = writeln!(out, "\n### Drift ({})\n", drifted.len());
    if rank.is_some() {
        let _ = writeln!(
            out,
            "| owner | status | resource | target | where | fields |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
    } else {
        let _ = writeln!(out, "| status | resource | target | where | fields |");
        let _ = writeln!(out, "|---|---|---|---|---|");
    }
    for drift in drifted.iter().take(ROWS) {
        let resource = drift.resource.display_name();
        let place = drift
            .location
            .as_ref()
            .map(|at| code(&format!("{}:{}", at.file, at.line)))
            .unwrap_or_default();
        let fields = drift
            .changes
            .iter()
            .map(|c| code(&c.path))
            .collect::<Vec<_>>()
            .join(", ");
        if rank.is_some() {
            let _ = write!(out, "| {} ", owner_cell(drift.owner.as_deref()));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            drift.status.as_str(),
            escape(&resource),
            escape(&drift.target),
            place,
            fields
        );
    }
    more(out, drifted.len(), "the JSON report lists them all");
}
