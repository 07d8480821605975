//! The report: one value holding everything a renderer needs, and the exit
//! code it implies. Renderers are pure functions of it.

pub mod controls;
pub mod evidence;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod openreports;
pub mod prometheus;
pub mod sarif;
pub mod text;

#[cfg(test)]
mod format_tests;

use serde::{Deserialize, Serialize};

use crate::drift::{Drift, DriftStatus};
use crate::model::{CoverageGap, DeclaredCoverage, InputError, Location, ResourceRef, Severity};

/// Version of the JSON report schema (`docs/report-schema.json`).
pub const SCHEMA_VERSION: &str = "2";

/// Exit codes, and the one place that decides between them (also in the README).
pub mod exit {
    use serde::{Deserialize, Serialize};

    pub const CLEAN: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const INPUT_ERROR: i32 = 2;
    pub const INCOMPLETE: i32 = 3;

    /// What a command ran into, as far as its exit code is concerned.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Outcome {
        /// Some input could not be used (config, YAML, Rego, a source, the output).
        pub errors: bool,
        /// Part of what was asked for could not be read or compared (coverage gaps).
        pub gaps: bool,
        /// `--allow-partial`: gaps are reported but do not decide the result.
        pub allow_partial: bool,
        /// Something fails the gate: findings at or above `--fail-on`, drift with
        /// `--fail-on-drift`, a failing policy test.
        pub failing: bool,
    }

    /// The result of a command, as `summary.result` names it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Status {
        Pass,
        /// Nothing fails the gate, but part of the input was not checked
        /// (`--allow-partial`): exit 0, never called a pass.
        Partial,
        Fail,
        Incomplete,
        Error,
    }

    impl Status {
        pub fn code(self) -> i32 {
            match self {
                Status::Pass | Status::Partial => CLEAN,
                Status::Fail => FINDINGS,
                Status::Error => INPUT_ERROR,
                Status::Incomplete => INCOMPLETE,
            }
        }
    }

    /// Precedence: an input error beats an incomplete result beats a failing
    /// one beats clean (2, then 3, then 1, then 0). A gate must never read
    /// "only findings", or "clean", when part of the input was not checked.
    pub fn status_for(outcome: &Outcome) -> Status {
        if outcome.errors {
            Status::Error
        } else if outcome.gaps && !outcome.allow_partial {
            Status::Incomplete
        } else if outcome.failing {
            Status::Fail
        } else if outcome.gaps {
            Status::Partial
        } else {
            Status::Pass
        }
    }

    /// The exit code of a command that ran into `outcome`.
    pub fn code_for(outcome: &Outcome) -> i32 {
        status_for(outcome).code()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn precedence_is_error_then_incomplete_then_fail() {
            let all = Outcome {
                errors: true,
                gaps: true,
                allow_partial: false,
                failing: true,
            };
            assert_eq!(code_for(&all), INPUT_ERROR);
            let no_errors = Outcome {
                errors: false,
                ..all
            };
            assert_eq!(code_for(&no_errors), INCOMPLETE);
            let partial = Outcome {
                allow_partial: true,
                ..no_errors
            };
            assert_eq!(code_for(&partial), FINDINGS);
            let clean = Outcome {
                failing: false,
                ..partial
            };
            assert_eq!(code_for(&clean), CLEAN);
            assert_eq!(
                status_for(&clean),
                Status::Partial,
                "gaps allowed are not a pass"
            );
            let whole = Outcome {
                gaps: false,
                ..clean
            };
            assert_eq!(status_for(&whole), Status::Pass);
            assert_eq!(
                serde_json::to_value(Status::Incomplete).unwrap(),
                serde_json::json!("incomplete")
            );
        }
    }
}

/// What was scanned, and with which clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The environments read (docs/environments.md); left out without any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<EnvironmentDescription>,
    /// The `--compare-ref` base the findings were compared with; left out
    /// without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<CompareDescription>,
}

/// The base of `--compare-ref` (`docs/fingerprints.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareDescription {
    /// The ref as given (`origin/main`).
    pub base_ref: String,
    /// The commit it resolved to; null when it did not resolve (an error).
    pub base_commit: Option<String>,
    /// `--fail-on-existing`: findings already in the base fail the gate too.
    pub fail_on_existing: bool,
    /// The config, baseline and policy files of the repository that the
    /// change adds, removes or modifies (`crate::gate`); left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gate_changes: Vec<crate::gate::GateChange>,
}

impl CompareDescription {
    /// Whether `finding` decides the exit code against `--fail-on`: with a
    /// base, only new findings do, unless `--fail-on-existing`.
    pub fn gates(&self, finding: &Finding) -> bool {
        self.fail_on_existing || finding.baseline_state == Some(BaselineState::New)
    }
}

/// One environment as the report describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvironmentDescription {
    pub name: String,
    /// `config`, or the GitOps object it was found in (`Argo CD Application argocd/web`).
    pub from: String,
    pub paths: Vec<String>,
    pub namespace: Option<String>,
    pub kube_context: Option<String>,
}

/// Where a finding was seen: a declared or live resource side, or a
/// whole-inventory rule. Ordered as the report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    Declared,
    Inventory,
    Live,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::Declared => "declared",
            FindingState::Inventory => "inventory",
            FindingState::Live => "live",
        }
    }
}

/// A policy violation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub category: String,
    pub message: String,
    /// Null for whole-inventory rules.
    pub resource: Option<ResourceRef>,
    /// The environment of the declared resource (`docs/environments.md`);
    /// left out when the scan has no environments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Which sides showed it: `declared`, `live` (or `inventory`), in that order.
    pub states: Vec<FindingState>,
    pub targets: Vec<String>,
    /// File and line in the declared repository, where the resource is declared.
    pub location: Option<Location>,
    pub path: Option<String>,
    pub remediation: String,
    /// The controls the rule evidences (its `custom.controls`); left out when
    /// it names none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Stable identity of the finding across edits (`docs/fingerprints.md`):
    /// rule, resource identity, field path and a hash of the offending value;
    /// never the file or the line.
    pub fingerprint: String,
    /// `new` or `existing` against the `--compare-ref` base; left out
    /// without a base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
    /// Set on the findings of `suppressed_findings`: the exemption that
    /// covers it. Absent on the findings that count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// Who answers for it (`owner_label`, CODEOWNERS, the environment's
    /// owner): what `--group-by owner` routes by. Left out when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// With `--history`: `first_seen`, `last_seen`, `age_seconds` and
    /// `new_since_last_scan` (docs/history.md); left out otherwise.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::EntryHistory>,
}

impl Finding {
    /// `Deployment shop/web`, or `(inventory)` for a whole-inventory rule.
    pub fn resource_name(&self) -> String {
        self.resource
            .as_ref()
            .map_or_else(|| "(inventory)".into(), ResourceRef::display_name)
    }
}

/// Whether a finding was already there in the base a scan was compared
/// with (`--compare-ref`); SARIF's `baselineState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Existing,
}

/// Why a finding is reported as suppressed instead of counting: an
/// exemption of the baseline (or of the rule), or a waiver, with its reason.
/// Shaped as a SARIF `suppression` (`kind`, `justification` = `reason`), plus `by`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Suppression {
    /// Always `external`: the exemption is data outside the resource.
    /// Read back as `external` (the only kind written).
    #[serde(skip_deserializing, default = "external")]
    pub kind: &'static str,
    /// The setting that exempts it, e.g. `privileges.exempt_namespaces`, or
    /// the waiver's place, `waiver .driftaudit/waivers.yaml:12`.
    pub by: String,
    pub reason: String,
    /// A waiver's owner; left out for exemptions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// A waiver's last day (`YYYY-MM-DD`); left out for exemptions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftCounts {
    pub in_sync: usize,
    pub modified: usize,
    pub missing: usize,
    pub unmanaged: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    pub total: usize,
    /// Findings an exemption covers (`suppressed_findings`), not in `total`.
    pub suppressed: usize,
    /// With `--compare-ref`: counts by baseline state; left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared: Option<CompareCounts>,
}

/// With `--compare-ref`: `findings` by baseline state, and `fixed_findings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareCounts {
    pub new: usize,
    pub existing: usize,
    /// Findings seen on the live side only: the base is read declared-only,
    /// so they are not compared and never fail the gate as new.
    pub not_compared: usize,
    pub fixed: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// `pass`, `partial`, `fail`, `incomplete` or `error`.
    pub result: exit::Status,
    pub exit_code: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Checked by [`Report::from_json`] before the rest is read.
    #[serde(skip_deserializing, default = "schema_version")]
    pub schema_version: &'static str,
    pub tool: Tool,
    pub scan: ScanDescription,
    pub drift: Vec<Drift>,
    pub findings: Vec<Finding>,
    /// Findings an exemption covers, each with its `suppression`: reported,
    /// never failing the scan.
    pub suppressed_findings: Vec<Finding>,
    /// With `--compare-ref`: findings of the base that the head no longer
    /// has. Left out otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_findings: Vec<Finding>,
    /// The rules of the findings above (reported, suppressed and fixed),
    /// sorted by id: what SARIF's `tool.driver.rules` is made of.
    #[serde(default)]
    pub rules: Vec<RuleMeta>,
    pub coverage: Vec<CoverageGap>,
    pub errors: Vec<InputError>,
    pub summary: Summary,
    /// What became of every declared file; null for a live-only scan.
    pub declared_coverage: Option<DeclaredCoverage>,
    /// What the waivers file did (docs/waivers.md); left out without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waivers: Option<crate::waivers::WaiverSummary>,
    /// With `--framework`: the status of each control of those frameworks
    /// (docs/controls.md). Left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls: Option<controls::ControlsSection>,
    /// What exactly was checked (docs/report-schema.json): tool build, clock,
    /// declared commit and files, policies, baselines, config, snapshots,
    /// live targets. Null only for reports assembled outside a scan.
    #[serde(default)]
    pub evidence: Option<evidence::Evidence>,
    /// Every backup the live targets show, with its newest success and age
    /// (`crate::backups`); left out when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<crate::backups::BackupStatus>,
    /// `--group-by owner`: findings and drift by owner (docs/owners.md);
    /// left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<crate::owners::Groups>,
    /// Every certificate the scan saw, declared and live, with its validity
    /// and days remaining to the scan clock (`crate::certificates`); left
    /// out when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<crate::certificates::CertificateStatus>,
    /// The WAL archiver of every live PostgreSQL server (`crate::wal`);
    /// left out when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wal_archivers: Vec<crate::wal::WalArchiverStatus>,
    /// How long the scan took, in seconds, measured by the command line
    /// only when the scan clock is the real one (no `--now`, no `--demo`).
    /// Never in JSON (a report read back has none): only `--format
    /// prometheus` shows it, so a report with a fixed clock stays byte-identical.
    #[serde(skip)]
    pub scan_duration_seconds: Option<f64>,
    /// With `--history`: open findings and drift entries of the previous
    /// scan of the same target that this scan no longer shows (docs/history.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<crate::history::ResolvedEntry>,
    /// With `--history`: the store, this scan's id, the scan compared with
    /// and the counts of new, existing and resolved entries. Left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::HistorySummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    /// This build's version; a report of another version read back keeps its own.
    pub version: &'static str,
}

#[derive(Deserialize)]
struct ToolWritten {
    name: String,
    version: String,
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Tool, D::Error> {
        let written = ToolWritten::deserialize(deserializer)?;
        if written.name != "driftaudit" {
            return Err(serde::de::Error::custom(format!(
                "tool `{}` is not driftaudit",
                written.name
            )));
        }
        let version = if written.version == env!("CARGO_PKG_VERSION") {
            env!("CARGO_PKG_VERSION")
        } else {
            // Once per process (one report read back): kept for the rest of it.
            Box::leak(written.version.into_boxed_str())
        };
        Ok(Tool {
            name: "driftaudit",
            version,
        })
    }
}

/// The metadata of one rule, as the JSON report lists it (`rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub category: String,
    pub remediation: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
}

impl RuleMeta {
    /// What a finding says of its rule, for a rule the catalog does not
    /// know (one made by the scan itself): the title stands for the
    /// description.
    pub fn of_finding(finding: &Finding) -> RuleMeta {
        RuleMeta {
            id: finding.rule.clone(),
            title: finding.title.clone(),
            description: finding.title.clone(),
            severity: finding.severity,
            category: finding.category.clone(),
            remediation: finding.remediation.clone(),
            controls: finding.controls.clone(),
        }
    }
}

fn schema_version() -> &'static str {
    SCHEMA_VERSION
}

fn external() -> &'static str {
    "external"
}

impl Report {
    /// `findings` holds the suppressed ones too (with their `suppression`):
    /// they are moved to `suppressed_findings`, counted apart, and never
    /// decide the exit code. With a base (`scan.compare`), only new findings
    /// decide it unless `--fail-on-existing`.
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        scan: ScanDescription,
        declared_coverage: Option<DeclaredCoverage>,
        declared_resources: usize,
        live_resources: usize,
        drift: Vec<Drift>,
        findings: Vec<Finding>,
        fixed_findings: Vec<Finding>,
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
        let (suppressed_findings, findings): (Vec<Finding>, Vec<Finding>) =
            findings.into_iter().partition(|f| f.suppression.is_some());
        let compared = scan.compare.as_ref().map(|_| {
            let state = |s| findings.iter().filter(|f| f.baseline_state == s).count();
            CompareCounts {
                new: state(Some(BaselineState::New)),
                existing: state(Some(BaselineState::Existing)),
                not_compared: state(None),
                fixed: fixed_findings.len(),
            }
        });
        let severity_count = |s| findings.iter().filter(|f| f.severity == s).count();
        let finding_counts = FindingCounts {
            critical: severity_count(Severity::Critical),
            high: severity_count(Severity::High),
            medium: severity_count(Severity::Medium),
            low: severity_count(Severity::Low),
            info: severity_count(Severity::Info),
            total: findings.len(),
            suppressed: suppressed_findings.len(),
            compared,
        };
        let gates = |f: &&Finding| scan.compare.as_ref().is_none_or(|c| c.gates(f));
        let failing_findings = fail_on.is_some_and(|threshold| {
            findings
                .iter()
                .filter(gates)
                .any(|f| f.severity >= threshold)
        });
        let failing_drift = fail_on_drift
            && drift_counts.modified + drift_counts.missing + drift_counts.unmanaged > 0;
        let complete = coverage.is_empty() && errors.is_empty();
        let result = exit::status_for(&exit::Outcome {
            errors: !errors.is_empty(),
            gaps: !coverage.is_empty(),
            allow_partial,
            failing: failing_findings || failing_drift,
        });
        let exit_code = result.code();
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
            suppressed_findings,
            fixed_findings,
            rules: Vec::new(),
            coverage,
            errors,
            declared_coverage,
            waivers: None,
            controls: None,
            evidence: None,
            backups: Vec::new(),
            groups: None,
            certificates: Vec::new(),
            wal_archivers: Vec::new(),
            scan_duration_seconds: None,
            resolved: Vec::new(),
            history: None,
        }
    }

    pub fn exit_code(&self) -> i32 {
        self.summary.exit_code
    }

    /// Fills `rules` with the metadata of every rule a finding (reported,
    /// suppressed or fixed) names: from `catalog` when it knows the rule,
    /// else from the finding. Call it once the findings are final; calling it
    /// again (after more findings were added) keeps the rules already listed.
    pub fn attach_rules(&mut self, catalog: &[RuleMeta]) {
        let mut rules: std::collections::BTreeMap<&str, RuleMeta> = self
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.clone()))
            .collect();
        for finding in self.all_findings() {
            rules.entry(&finding.rule).or_insert_with(|| {
                catalog
                    .iter()
                    .find(|r| r.id == finding.rule)
                    .cloned()
                    .unwrap_or_else(|| RuleMeta::of_finding(finding))
            });
        }
        self.rules = rules.into_values().collect();
    }

    /// Reported, suppressed and fixed findings, in that order.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(&self.suppressed_findings)
            .chain(&self.fixed_findings)
    }

    /// The metadata of every rule the findings name, by id: from `rules`,
    /// else from the rule's first finding. Built once, for renderers that look
    /// rules up per finding (a saved report may hold tens of thousands).
    pub fn rules_by_id(&self) -> std::collections::HashMap<&str, RuleMeta> {
        let mut by_id: std::collections::HashMap<&str, RuleMeta> = self
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.clone()))
            .collect();
        for finding in self.all_findings() {
            by_id
                .entry(finding.rule.as_str())
                .or_insert_with(|| RuleMeta::of_finding(finding));
        }
        by_id
    }

    /// A report as `json::render` wrote it (`driftaudit report --input`):
    /// a driftaudit report of this schema version, or an error saying why not.
    pub fn from_json(text: &str) -> Result<Report, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let field = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let tool = value
            .get("tool")
            .and_then(|t| t.get("name"))
            .and_then(|n| n.as_str());
        if tool != Some("driftaudit") {
            return Err("not a driftaudit report (no `tool.name: driftaudit`)".into());
        }
        match field("schema_version") {
            Some(version) if version == SCHEMA_VERSION => {}
            Some(version) => {
                return Err(format!(
                    "schema_version `{version}` is not {SCHEMA_VERSION}, the one this build reads"
                ))
            }
            None => return Err("no `schema_version`".into()),
        }
        let mut report: Report = serde_json::from_value(value).map_err(|e| e.to_string())?;
        for drift in &mut report.drift {
            drift.identity =
                crate::model::Identity::of_reference(&drift.resource, drift.environment.as_deref());
        }
        Ok(report)
    }
}
