//! The report: one value holding everything a renderer needs, and the exit
//! code it implies. Renderers are pure functions of it.

pub mod json;
pub mod text;

use serde::Serialize;

use crate::drift::{Drift, DriftStatus};
use crate::model::{CoverageGap, InputError, Location, ResourceRef, Severity};

/// Version of the JSON report schema (`docs/report-schema.json`).
pub const SCHEMA_VERSION: &str = "1";

/// Exit codes (also in the README).
pub mod exit {
    pub const CLEAN: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const INPUT_ERROR: i32 = 2;
    pub const INCOMPLETE: i32 = 3;
}

/// What was scanned, and with which clock.
#[derive(Debug, Clone, Serialize)]
pub struct ScanDescription {
    pub now: String,
    /// The declared source, or null for a live-only scan.
    pub declared: Option<String>,
    /// The commit the declared state was read from (Git refs only).
    pub commit: Option<String>,
    pub files_read: usize,
    /// Names of the live targets; empty when the declared state was evaluated alone.
    pub live: Vec<String>,
    pub strict: bool,
    pub policies: bool,
}

/// A policy violation.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub category: String,
    pub message: String,
    /// Null for whole-inventory rules.
    pub resource: Option<ResourceRef>,
    /// Which sides showed it: `declared`, `live` (or `inventory`).
    pub states: Vec<String>,
    pub targets: Vec<String>,
    /// File and line in the declared repository, where the resource is declared.
    pub location: Option<Location>,
    pub path: Option<String>,
    pub remediation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftCounts {
    pub in_sync: usize,
    pub modified: usize,
    pub missing: usize,
    pub unmanaged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub declared_resources: usize,
    pub live_resources: usize,
    /// False when there was no live source: drift was not checked.
    pub drift_checked: bool,
    pub drift: DriftCounts,
    pub rules_evaluated: usize,
    pub findings: FindingCounts,
    pub errors: usize,
    /// False when anything could not be read or checked.
    pub complete: bool,
    pub fail_on: Option<Severity>,
    pub fail_on_drift: bool,
    /// `pass`, `fail`, `incomplete` or `error`.
    pub result: &'static str,
    pub exit_code: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: &'static str,
    pub tool: Tool,
    pub scan: ScanDescription,
    pub drift: Vec<Drift>,
    pub findings: Vec<Finding>,
    pub coverage: Vec<CoverageGap>,
    pub errors: Vec<InputError>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        scan: ScanDescription,
        declared_resources: usize,
        live_resources: usize,
        drift: Vec<Drift>,
        findings: Vec<Finding>,
        coverage: Vec<CoverageGap>,
        errors: Vec<InputError>,
        rules_evaluated: usize,
        fail_on: Option<Severity>,
        fail_on_drift: bool,
        allow_partial: bool,
    ) -> Report {
        let count = |status| drift.iter().filter(|d| d.status == status).count();
        let drift_counts = DriftCounts {
            in_sync: count(DriftStatus::InSync),
            modified: count(DriftStatus::Modified),
            missing: count(DriftStatus::Missing),
            unmanaged: count(DriftStatus::Unmanaged),
        };
        let severity_count = |s| findings.iter().filter(|f| f.severity == s).count();
        let finding_counts = FindingCounts {
            critical: severity_count(Severity::Critical),
            high: severity_count(Severity::High),
            medium: severity_count(Severity::Medium),
            low: severity_count(Severity::Low),
            info: severity_count(Severity::Info),
            total: findings.len(),
        };
        let failing_findings =
            fail_on.is_some_and(|threshold| findings.iter().any(|f| f.severity >= threshold));
        let failing_drift = fail_on_drift
            && drift_counts.modified + drift_counts.missing + drift_counts.unmanaged > 0;
        let complete = coverage.is_empty() && errors.is_empty();
        // Precedence: an input error beats an incomplete scan beats findings:
        // a gate must never read "only findings" when part of the input was not checked.
        let (result, exit_code) = if !errors.is_empty() {
            ("error", exit::INPUT_ERROR)
        } else if !coverage.is_empty() && !allow_partial {
            ("incomplete", exit::INCOMPLETE)
        } else if failing_findings || failing_drift {
            ("fail", exit::FINDINGS)
        } else {
            ("pass", exit::CLEAN)
        };
        let drift_checked = !scan.live.is_empty();
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "driftaudit",
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: Summary {
                declared_resources,
                live_resources,
                drift_checked,
                drift: drift_counts,
                rules_evaluated,
                findings: finding_counts,
                errors: errors.len(),
                complete,
                fail_on,
                fail_on_drift,
                result,
                exit_code,
            },
            scan,
            drift,
            findings,
            coverage,
            errors,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.summary.exit_code
    }
}
