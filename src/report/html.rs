//! The HTML report: one self-contained page for people and auditors, on
//! screen and in print. It is made from `templates/report.html` by the
//! minijinja template engine with auto-escaping on (every value is text,
//! never markup: messages come from hostile input). The page loads nothing:
//! no script, no font, no image, and a Content-Security-Policy that forbids
//! any load. It holds no time but the report's own clock (`scan.now`): the
//! same report gives the same bytes.
//!
//! The template gets a view of the report made here: display strings
//! (resource names, `file:line`, who changed a field) are built in Rust so
//! the template only lays them out.

use serde::Serialize;
use serde_json::Value;

use super::{Finding, Report};
use crate::drift::{ChangeKind, DriftStatus};
use crate::printable::printable;

const TEMPLATE: &str = include_str!("../../templates/report.html");

/// The report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut env = minijinja::Environment::new();
    // The name ends in `.html`: minijinja escapes every value for HTML.
    env.add_template("report.html", TEMPLATE)
        .expect("templates/report.html parses (a unit test renders it)");
    let template = env
        .get_template("report.html")
        .expect("the template was just added");
    let mut page = template
        .render(minijinja::value::Serde(View::of(report)))
        .expect("the HTML template renders every report (a unit test renders it)");
    if !page.ends_with('\n') {
        page.push('\n');
    }
    page
}

/// Text of one line: control characters and bidirectional overrides shown
/// escaped, as the terminal report shows them.
fn line(text: &str) -> String {
    printable(text).into_owned()
}

/// The lines of a unified diff, each made printable, with its class:
/// `add`, `del` or none.
fn diff_lines(text: &str) -> Vec<(&'static str, String)> {
    text.lines()
        .map(|l| {
            let class = if l.starts_with('+') && !l.starts_with("+++") {
                "add"
            } else if l.starts_with('-') && !l.starts_with("---") {
                "del"
            } else {
                ""
            };
            (class, line(l))
        })
        .collect()
}

#[derive(Serialize)]
struct View {
    tool: String,
    now: String,
    result: &'static str,
    exit_code: i32,
    summary_line: String,
    drift_line: String,
    incomplete: bool,
    counts: Counts,
    controls: Option<super::controls::ControlsSection>,
    findings: Vec<FindingView>,
    suppressed: Vec<FindingView>,
    fixed: Vec<FindingView>,
    drift_checked: bool,
    drift: Vec<DriftView>,
    in_sync: usize,
    coverage: Vec<GapView>,
    errors: Vec<ErrorView>,
    files: Option<FilesView>,
    evidence: Vec<(String, String)>,
    /// (what, file, digest) of the declared and policy files.
    digests: Vec<(&'static str, String, String)>,
    environments: Vec<EnvironmentView>,
    /// The one backup table (docs/backups.md): the cells of each row.
    backups: Vec<[String; 7]>,
}

#[derive(Serialize)]
struct Counts {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
    total: usize,
    suppressed: usize,
    declared_resources: usize,
    live_resources: usize,
    rules_evaluated: usize,
}

#[derive(Serialize)]
struct FindingView {
    anchor: String,
    severity: &'static str,
    rule: String,
    title: String,
    resource: String,
    environment: Option<String>,
    place: Option<String>,
    message: String,
    remediation: String,
    /// The evidence behind it: where it was seen, the field, the controls,
    /// its fingerprint, and for a suppressed one what suppressed it.
    evidence: Vec<(String, String)>,
}

#[derive(Serialize)]
struct DriftView {
    anchor: String,
    status: &'static str,
    resource: String,
    target: String,
    environment: Option<String>,
    place: Option<String>,
    note: Option<String>,
    changes: Vec<ChangeView>,
    diff: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
struct ChangeView {
    path: String,
    kind: &'static str,
    declared: String,
    live: String,
    changed_by: String,
    place: Option<String>,
}

#[derive(Serialize)]
struct GapView {
    source: String,
    target: String,
    scope: String,
    reason: String,
}

#[derive(Serialize)]
struct ErrorView {
    text: String,
}

#[derive(Serialize)]
struct FilesView {
    read: usize,
    rendered: usize,
    excluded: usize,
    not_checked: usize,
    /// The files not checked, and why.
    unchecked: Vec<(String, String)>,
}

#[derive(Serialize)]
struct EnvironmentView {
    name: String,
    from: String,
    paths: String,
    namespace: String,
}

impl View {
    fn of(report: &Report) -> View {
        let s = &report.summary;
        let f = &s.findings;
        let summary_line = format!(
            "{} findings ({} critical, {} high, {} medium, {} low, {} info), {} suppressed",
            f.total, f.critical, f.high, f.medium, f.low, f.info, f.suppressed
        );
        let drift_line = if s.drift_checked {
            format!(
                "Drift: {} modified, {} missing, {} unmanaged, {} in sync",
                s.drift.modified, s.drift.missing, s.drift.unmanaged, s.drift.in_sync
            )
        } else {
            "Drift: not checked (no live source)".into()
        };
        let scan = &report.scan;
        let mut evidence = vec![
            (
                "Tool".into(),
                format!("{} {}", report.tool.name, line(report.tool.version)),
            ),
            ("Report schema".into(), report.schema_version.to_string()),
            ("Clock (now)".into(), line(&scan.now)),
            (
                "Declared source".into(),
                scan.declared
                    .as_deref()
                    .map_or_else(|| "none (live only)".into(), line),
            ),
            (
                "Commit".into(),
                scan.commit
                    .as_deref()
                    .map_or_else(|| "none (not a Git ref)".into(), line),
            ),
            ("Files read".into(), scan.files_read.to_string()),
            (
                "Live targets".into(),
                if scan.live.is_empty() {
                    "none (declared state evaluated alone)".into()
                } else {
                    scan.live
                        .iter()
                        .map(|t| line(t))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ),
            ("Strict".into(), scan.strict.to_string()),
            ("Policies evaluated".into(), scan.policies.to_string()),
            (
                "Fail on".into(),
                s.fail_on
                    .map_or_else(|| "nothing".into(), |sev| sev.as_str().to_string()),
            ),
            ("Fail on drift".into(), s.fail_on_drift.to_string()),
        ];
        if let Some(compare) = &scan.compare {
            evidence.push((
                "Compared with".into(),
                format!(
                    "{} ({}){}",
                    line(&compare.base_ref),
                    compare
                        .base_commit
                        .as_deref()
                        .map_or_else(|| "unresolved".into(), line),
                    if compare.fail_on_existing {
                        ", existing findings fail too"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if let Some(waivers) = &report.waivers {
            evidence.push((
                "Waivers".into(),
                format!(
                    "{}: {} entries, {} findings waived, {} expired, {} stale",
                    line(&waivers.file),
                    waivers.total,
                    waivers.waived_findings,
                    waivers.expired,
                    waivers.stale.len()
                ),
            ));
        }
        let digests = match &report.evidence {
            Some(block) => {
                evidence.extend(block.summary().into_iter().map(|(k, v)| (k, line(&v))));
                block
                    .digests()
                    .into_iter()
                    .map(|(what, file, digest)| (what, line(&file), line(&digest)))
                    .collect()
            }
            None => Vec::new(),
        };
        let environments = scan
            .environments
            .iter()
            .map(|e| EnvironmentView {
                name: line(&e.name),
                from: line(&e.from),
                paths: e
                    .paths
                    .iter()
                    .map(|p| line(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                namespace: e.namespace.as_deref().map(line).unwrap_or_default(),
            })
            .collect();
        let drift: Vec<DriftView> = report
            .drift
            .iter()
            .filter(|d| d.status != DriftStatus::InSync)
            .enumerate()
            .map(|(i, d)| DriftView {
                anchor: format!("drift-{}", i + 1),
                status: d.status.as_str(),
                resource: line(&d.resource.display_name()),
                target: line(&d.target),
                environment: d.environment.as_deref().map(line),
                place: d
                    .location
                    .as_ref()
                    .map(|at| line(&format!("{}:{}", at.file, at.line))),
                note: d.note.as_deref().map(line),
                changes: d
                    .changes
                    .iter()
                    .map(|c| ChangeView {
                        path: line(&c.path),
                        kind: match c.kind {
                            ChangeKind::Modified => "modified",
                            ChangeKind::Added => "added",
                            ChangeKind::Removed => "removed",
                        },
                        declared: value_text(&c.declared),
                        live: value_text(&c.live),
                        changed_by: c.changed_by.as_ref().map_or_else(
                            || "not recorded".into(),
                            |w| {
                                let mut by =
                                    format!("{} ({}", line(&w.manager), line(&w.operation));
                                if let Some(sub) = &w.subresource {
                                    by.push_str(&format!(", {}", line(sub)));
                                }
                                by.push(')');
                                if let Some(time) = &w.time {
                                    by.push_str(&format!(" at {}", line(time)));
                                }
                                by
                            },
                        ),
                        place: c
                            .location
                            .as_ref()
                            .map(|at| line(&format!("{}:{}", at.file, at.line))),
                    })
                    .collect(),
                diff: diff_lines(&d.diff),
            })
            .collect();
        View {
            tool: format!("{} {}", report.tool.name, line(report.tool.version)),
            now: line(&scan.now),
            result: match s.result {
                super::exit::Status::Pass => "pass",
                super::exit::Status::Partial => "partial",
                super::exit::Status::Fail => "fail",
                super::exit::Status::Incomplete => "incomplete",
                super::exit::Status::Error => "error",
            },
            exit_code: s.exit_code,
            summary_line,
            drift_line,
            incomplete: !s.complete,
            counts: Counts {
                critical: f.critical,
                high: f.high,
                medium: f.medium,
                low: f.low,
                info: f.info,
                total: f.total,
                suppressed: f.suppressed,
                declared_resources: s.declared_resources,
                live_resources: s.live_resources,
                rules_evaluated: s.rules_evaluated,
            },
            controls: report.controls.clone(),
            findings: finding_views(&report.findings, "finding"),
            suppressed: finding_views(&report.suppressed_findings, "suppressed"),
            fixed: finding_views(&report.fixed_findings, "fixed"),
            drift_checked: s.drift_checked,
            drift,
            in_sync: s.drift.in_sync,
            coverage: report
                .coverage
                .iter()
                .map(|g| GapView {
                    source: g.source.as_str().to_string(),
                    target: line(&g.target),
                    scope: line(&g.scope),
                    reason: line(&g.reason),
                })
                .collect(),
            errors: report
                .errors
                .iter()
                .map(|e| ErrorView {
                    text: line(&e.to_string()),
                })
                .collect(),
            files: report.declared_coverage.as_ref().map(|c| FilesView {
                read: c.counts.read,
                rendered: c.counts.rendered,
                excluded: c.counts.excluded,
                not_checked: c.counts.not_checked,
                unchecked: c
                    .files
                    .iter()
                    .filter_map(|file| match &file.state {
                        crate::model::FileState::NotChecked { reason, .. } => {
                            Some((line(&file.path), line(reason)))
                        }
                        _ => None,
                    })
                    .collect(),
            }),
            evidence,
            digests,
            environments,
            backups: report
                .backups
                .iter()
                .map(|row| crate::backups::table_cells(row).map(|cell| line(&cell)))
                .collect(),
        }
    }
}

/// A declared or live value as one line: strings as they are, anything
/// else as compact JSON, nothing as `(not set)`.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "(not set)".into(),
        Value::String(s) => line(s),
        other => line(&other.to_string()),
    }
}

fn finding_views(findings: &[Finding], prefix: &str) -> Vec<FindingView> {
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut evidence = vec![(
                "Seen".to_string(),
                f.states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )];
            if !f.targets.is_empty() {
                evidence.push((
                    "Targets".into(),
                    f.targets
                        .iter()
                        .map(|t| line(t))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
            if let Some(path) = &f.path {
                evidence.push(("Field".into(), line(path)));
            }
            evidence.push(("Category".into(), line(&f.category)));
            if !f.controls.is_empty() {
                evidence.push((
                    "Controls".into(),
                    f.controls
                        .iter()
                        .map(|c| line(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
            if let Some(state) = f.baseline_state {
                evidence.push((
                    "Against the base".into(),
                    match state {
                        super::BaselineState::New => "new",
                        super::BaselineState::Existing => "existing",
                    }
                    .into(),
                ));
            }
            if let Some(s) = &f.suppression {
                let mut why = format!("{}: {}", line(&s.by), line(&s.reason));
                if let Some(owner) = &s.owner {
                    why.push_str(&format!(" (owner {}", line(owner)));
                    if let Some(expires) = &s.expires {
                        why.push_str(&format!(", until {}", line(expires)));
                    }
                    why.push(')');
                }
                evidence.push(("Suppressed by".into(), why));
            }
            if let Some(owner) = &f.owner {
                evidence.push(("Owner".into(), line(owner)));
            }
            evidence.push(("Fingerprint".into(), line(&f.fingerprint)));
            FindingView {
                anchor: format!("{prefix}-{}", i + 1),
                severity: f.severity.as_str(),
                rule: line(&f.rule),
                title: line(&f.title),
                resource: line(&f.resource_name()),
                environment: f.environment.as_deref().map(line),
                place: f
                    .location
                    .as_ref()
                    .map(|at| line(&format!("{}:{}", at.file, at.line))),
                message: line(&f.message),
                remediation: line(&f.remediation),
                evidence,
            }
        })
        .collect()
}
