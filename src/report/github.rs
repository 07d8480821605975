//! The `github` report: GitHub Actions workflow commands, one annotation
//! per finding (`::error file=…,line=…,title=…::…`; critical and high are
//! errors, medium warnings, low and info notices), new findings first. GitHub
//! shows at most [`PER_KIND`] annotations of each kind per step: past that the
//! rest is counted on one notice line instead. The job summary is the
//! Markdown report (`markdown::render`), which the CLI appends to the file
//! `$GITHUB_STEP_SUMMARY` names.

use std::fmt::Write as _;

use super::{BaselineState, Finding, Report};
use crate::model::Severity;

/// Annotations of one kind (error, warning, notice) GitHub shows per step.
pub const PER_KIND: usize = 10;

/// Escapes the message of a workflow command (`%`, CR, LF).
pub fn data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            // ESC, BEL, OSC sequences and bidi overrides would reach the log raw.
            c if crate::printable::needs_escape(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property of a workflow command: as [`data`], plus `:` and `,`.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// The annotation of one finding.
pub fn annotation(finding: &Finding) -> String {
    let mut properties = Vec::new();
    if let Some(at) = &finding.location {
        properties.push(format!("file={}", property(&at.file)));
        if at.line > 0 {
            properties.push(format!("line={}", at.line));
        }
    }
    properties.push(format!(
        "title={}",
        property(&format!("{} {}", finding.rule, finding.title))
    ));
    let resource = finding
        .resource
        .as_ref()
        .map(|r| format!(" [{}]", data(&r.display_name())))
        .unwrap_or_default();
    let state = match finding.baseline_state {
        Some(BaselineState::New) => " (new)",
        Some(BaselineState::Existing) => " (existing)",
        None => "",
    };
    format!(
        "::{} {}::{}{resource}{state} Remediation: {}",
        command(finding.severity),
        properties.join(","),
        data(&finding.message),
        data(&finding.remediation),
    )
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut left = [0usize; 3];
    // What the pull request does to its own gate first (its reviewers decide
    // on it): warnings that take their place in GitHub's budget before the
    // findings' warnings, so none is dropped silently.
    let review = review_warnings(report);
    for line in review.iter().take(PER_KIND) {
        shown[1] += 1;
        out.push_str(line);
        out.push('\n');
    }
    let review_left = review.len().saturating_sub(PER_KIND);
    // New findings next: they are what the pull request is about.
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by_key(|f| f.baseline_state == Some(BaselineState::Existing));
    let slot = |f: &Finding| match command(f.severity) {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    // One notice is kept for the count of what was left out.
    let room = |slot: usize| if slot == 2 { PER_KIND - 1 } else { PER_KIND };
    for finding in findings {
        let kind = slot(finding);
        if shown[kind] < room(kind) {
            shown[kind] += 1;
            out.push_str(&annotation(finding));
            out.push('\n');
        } else {
            left[kind] += 1;
        }
    }
    if left.iter().sum::<usize>() > 0 {
        let _ = writeln!(
            out,
            "::notice title=driftaudit::{} more finding(s) not annotated (GitHub shows {PER_KIND} per kind and step): {} error(s), {} warning(s), {} notice(s); the job summary and the SARIF report list every finding",
            left.iter().sum::<usize>(),
            left[0],
            left[1],
            left[2]
        );
    }
    if review_left > 0 {
        let _ = writeln!(
            out,
            "::notice title=driftaudit::{review_left} more changed waiver(s) or configuration file(s) not annotated; the job summary lists them all"
        );
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "driftaudit: {} finding(s), {} suppressed; drift {} modified, {} missing, {} unmanaged; result {} (exit {})",
        s.findings.total,
        s.findings.suppressed,
        s.drift.modified,
        s.drift.missing,
        s.drift.unmanaged,
        serde_json::to_value(s.result)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        s.exit_code
    );
    out
}

/// The warnings on the gate's own inputs the change touches (config,
/// baselines, policies) and on the waivers it adds or extends.
fn review_warnings(report: &Report) -> Vec<String> {
    let gate = report
        .scan
        .compare
        .iter()
        .flat_map(|c| &c.gate_changes)
        .map(|change| {
            format!(
                "::warning file={},line=1,title={}::{}",
                property(&change.path),
                property("driftaudit: the scan's own configuration changes"),
                data(&gate_change_text(change))
            )
        });
    let waivers = report
        .waivers
        .iter()
        .flat_map(|w| &w.changed)
        .map(|waiver| {
            format!(
                "::warning file={},line={},title={}::{}",
                property(&waiver.location.file),
                waiver.location.line,
                property(&format!(
                    "driftaudit: waiver {} by this change",
                    waiver.change.as_str()
                )),
                data(&changed_waiver_text(waiver))
            )
        });
    gate.chain(waivers).collect()
}

/// One line on a config, baseline or policy file the change touches.
pub fn gate_change_text(change: &crate::gate::GateChange) -> String {
    format!(
        "{} {} by this change: it configures the scan that checks this change (the base is judged by it too), so a loosened rule, exemption or threshold hides findings",
        change.path, change.change
    )
}

/// One line on a waiver the change adds or extends (annotations, Markdown).
pub fn changed_waiver_text(waiver: &crate::waivers::ChangedWaiver) -> String {
    format!(
        "waiver of {} {} by this change (owner {}, expires {}); it waives {} finding(s) of this scan",
        waiver.rule,
        waiver.change.as_str(),
        waiver.owner,
        waiver.expires,
        waiver.waived_findings
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_github() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
