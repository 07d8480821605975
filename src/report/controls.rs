//! The controls section of a report (`--framework`, docs/controls.md): per
//! control of the frameworks asked for, whether it passed, failed, was
//! waived or could not be assessed, from the rules that map to it
//! (`custom.controls`) and how each of them fared in the scan.
//!
//! A rule is assessed only when it was evaluated against everything it
//! applies to: it ran (not disabled, not switched off), it failed on no
//! input, the scan has no error pinned on no rule, no coverage gap touches
//! the source and kinds it reads, and, when it met no input at all, every
//! source it reads was scanned. A control never passes on partial data.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Finding;
use crate::model::CoverageGap;

/// The frameworks `--framework` names, and the prefix of their control ids
/// (`crate::policy::controls::FRAMEWORKS`).
pub const FRAMEWORKS: &[(&str, &str)] = &[
    ("cis-k8s", "CIS-K8s-1.10:"),
    ("nsa-cisa", "NSA-CISA-1.2:"),
    ("pss", "PSS:"),
    ("iso27001", "ISO27001-2022:"),
    ("soc2", "SOC2-2017:"),
];

/// The control-id prefix of a framework name (`cis-k8s` → `CIS-K8s-1.10:`).
pub fn framework_prefix(name: &str) -> Option<&'static str> {
    FRAMEWORKS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, prefix)| *prefix)
}

/// How one rule fared in the scan, as the policy stage saw it.
#[derive(Debug, Clone)]
pub struct RuleRun {
    pub id: String,
    pub controls: Vec<String>,
    /// `custom.sources`; empty: any source.
    pub sources: Vec<String>,
    /// The kinds it is routed to (`workloads` spelt out; `*`: any).
    pub kinds: Vec<String>,
    /// A whole-inventory rule.
    pub inventory: bool,
    pub ran: Ran,
}

#[derive(Debug, Clone)]
pub enum Ran {
    /// Disabled by the config (`policies.disable`).
    Disabled,
    /// Its baseline switch (`custom.enabled_by`, the key in `by`) is not `true`.
    SwitchedOff { by: String },
    /// Evaluated against `inputs` inputs, `failed` of them with an error.
    Evaluated {
        inputs: usize,
        /// Inputs of its kinds it was not evaluated on: a Pod Security
        /// Standards rule in namespaces where the configured level
        /// (`privileges.pod_security`) checks nothing.
        out_of_scope: usize,
        failed: usize,
        first_failure: Option<String>,
    },
}

/// A status, of a rule or a control. Ordered from best to worst: a
/// control takes the worst status of its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    Pass,
    Waived,
    NotAssessed,
    Fail,
}

impl ControlState {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlState::Pass => "pass",
            ControlState::Waived => "waived",
            ControlState::NotAssessed => "not_assessed",
            ControlState::Fail => "fail",
        }
    }
}

/// The report's `controls` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlsSection {
    /// The frameworks asked for, as named (`cis-k8s`, `iso27001`).
    pub frameworks: Vec<String>,
    pub counts: ControlCounts,
    /// Every control of those frameworks that some loaded rule maps to.
    pub controls: Vec<ControlStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlCounts {
    pub pass: usize,
    pub fail: usize,
    pub not_assessed: usize,
    pub waived: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlStatus {
    /// The control id, e.g. `CIS-K8s-1.10:5.2.2`.
    pub id: String,
    /// The framework name it belongs to (`cis-k8s`).
    pub framework: String,
    pub status: ControlState,
    /// The rules mapped to it, by id, each with its own status.
    pub rules: Vec<RuleStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStatus {
    pub rule: String,
    pub status: ControlState,
    /// Why: the evidence of a pass, what stopped an assessment, what waived it.
    pub reason: String,
    /// Fingerprints of its findings (`fail`), or of its suppressed
    /// findings (`waived`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

/// What the scan knew beside the rules: what decides whether a rule that
/// ran saw everything it applies to.
pub struct ScanKnowledge<'a> {
    pub findings: &'a [Finding],
    pub suppressed: &'a [Finding],
    pub coverage: &'a [CoverageGap],
    /// Errors pinned on no rule (sources, declared files, policy files):
    /// `CODE at place`.
    pub unpinned_errors: Vec<String>,
    /// The sources some input was read from: those of the live targets, of
    /// the declared resources, and `kubernetes` when a declared repository
    /// was read.
    pub sources_scanned: BTreeSet<String>,
}

/// Kinds the scan data of every rule is built from (namespace labels for
/// the Pod Security Standards, bound roles): a gap in one touches every rule
/// of its source.
const SHARED_KINDS: &[&str] = &[
    "Namespace",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
];

/// Builds the section for the frameworks named in `frameworks` (names of
/// [`FRAMEWORKS`], already checked).
pub fn assess(frameworks: &[String], runs: &[RuleRun], scan: &ScanKnowledge) -> ControlsSection {
    let mut by_control: BTreeMap<(usize, Vec<Chunk>, String), Vec<&RuleRun>> = BTreeMap::new();
    for run in runs {
        for control in &run.controls {
            let Some(position) = frameworks.iter().position(|name| {
                framework_prefix(name).is_some_and(|prefix| control.starts_with(prefix))
            }) else {
                continue;
            };
            by_control
                .entry((position, natural_key(control), control.clone()))
                .or_default()
                .push(run);
        }
    }
    let mut statuses: BTreeMap<&str, RuleStatus> = BTreeMap::new();
    let mut counts = ControlCounts::default();
    let mut controls = Vec::new();
    for ((position, _, id), mut rules) in by_control {
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        rules.dedup_by(|a, b| a.id == b.id);
        let rules: Vec<RuleStatus> = rules
            .iter()
            .map(|run| {
                statuses
                    .entry(run.id.as_str())
                    .or_insert_with(|| rule_status(run, scan))
                    .clone()
            })
            .collect();
        let status = rules
            .iter()
            .map(|r| r.status)
            .max()
            .unwrap_or(ControlState::NotAssessed);
        match status {
            ControlState::Pass => counts.pass += 1,
            ControlState::Fail => counts.fail += 1,
            ControlState::NotAssessed => counts.not_assessed += 1,
            ControlState::Waived => counts.waived += 1,
        }
        controls.push(ControlStatus {
            id,
            framework: frameworks[position].clone(),
            status,
            rules,
        });
    }
    ControlsSection {
        frameworks: frameworks.to_vec(),
        counts,
        controls,
    }
}

/// One rule's status: `fail` with a finding; else `not_assessed` when
/// anything kept it from seeing all it applies to; else `waived` with a
/// suppressed finding (a waiver or an exemption); else `pass`.
fn rule_status(run: &RuleRun, scan: &ScanKnowledge) -> RuleStatus {
    let fingerprints = |findings: &[Finding]| -> Vec<String> {
        let mut found: Vec<String> = findings
            .iter()
            .filter(|f| f.rule == run.id)
            .map(|f| f.fingerprint.clone())
            .collect();
        found.sort();
        found.dedup();
        found
    };
    let failing = fingerprints(scan.findings);
    if !failing.is_empty() {
        return RuleStatus {
            rule: run.id.clone(),
            status: ControlState::Fail,
            reason: format!("{} finding(s)", failing.len()),
            findings: failing,
        };
    }
    if let Some(reason) = not_assessed(run, scan) {
        return RuleStatus {
            rule: run.id.clone(),
            status: ControlState::NotAssessed,
            reason,
            findings: Vec::new(),
        };
    }
    let waived = fingerprints(scan.suppressed);
    if !waived.is_empty() {
        let mut by: Vec<&str> = scan
            .suppressed
            .iter()
            .filter(|f| f.rule == run.id)
            .filter_map(|f| f.suppression.as_ref().map(|s| s.by.as_str()))
            .collect();
        by.sort();
        by.dedup();
        return RuleStatus {
            rule: run.id.clone(),
            status: ControlState::Waived,
            reason: format!(
                "{} finding(s) suppressed by {}",
                waived.len(),
                by.join(", ")
            ),
            findings: waived,
        };
    }
    let reason = match run.ran {
        Ran::Evaluated { inputs: 0, .. } => format!(
            "evaluated: no input of its kinds ({}) in the sources read",
            run.kinds.join(", ")
        ),
        Ran::Evaluated {
            inputs,
            out_of_scope: 0,
            ..
        } => format!("evaluated on {inputs} input(s), no finding"),
        Ran::Evaluated {
            inputs,
            out_of_scope,
            ..
        } => format!(
            "evaluated on {inputs} input(s), no finding ({out_of_scope} more outside the configured Pod Security level)"
        ),
        // Never reached: a rule that did not run is not assessed.
        Ran::Disabled | Ran::SwitchedOff { .. } => String::new(),
    };
    RuleStatus {
        rule: run.id.clone(),
        status: ControlState::Pass,
        reason,
        findings: Vec::new(),
    }
}

/// Why the rule was not assessed, if it was not.
fn not_assessed(run: &RuleRun, scan: &ScanKnowledge) -> Option<String> {
    let inputs = match &run.ran {
        Ran::Disabled => return Some("disabled by the config (policies.disable)".into()),
        Ran::SwitchedOff { by } => {
            return Some(format!(
                "switched off: baseline `{by}` is not true (custom.enabled_by)"
            ))
        }
        Ran::Evaluated {
            failed,
            first_failure,
            ..
        } if *failed > 0 => {
            return Some(format!(
                "failed on {failed} input(s): {}",
                first_failure.as_deref().unwrap_or("see errors")
            ))
        }
        Ran::Evaluated {
            inputs: 0,
            out_of_scope,
            ..
        } if *out_of_scope > 0 => {
            return Some(format!(
                "not evaluated on any of its {out_of_scope} input(s): the Pod Security level configured for their namespaces (privileges.pod_security) checks nothing there"
            ))
        }
        Ran::Evaluated { inputs, .. } => *inputs,
    };
    if let Some(first) = scan.unpinned_errors.first() {
        return Some(format!(
            "the scan has {} error(s) pinned on no rule (first: {first}); what they kept from it is unknown",
            scan.unpinned_errors.len()
        ));
    }
    let reads = |source: &str| run.sources.is_empty() || run.sources.iter().any(|s| s == source);
    if let Some(gap) = scan.coverage.iter().find(|gap| {
        reads(gap.source.as_str())
            && gap.kind.as_ref().is_none_or(|kind| {
                run.inventory
                    || SHARED_KINDS.contains(&kind.kind.as_str())
                    || run.kinds.iter().any(|k| k == "*" || *k == kind.kind)
            })
    }) {
        let target = if gap.target.is_empty() {
            String::new()
        } else {
            format!("{} ", gap.target)
        };
        return Some(format!(
            "coverage gap: {target}{} not read: {}",
            gap.scope, gap.reason
        ));
    }
    if inputs == 0 {
        let missing: Vec<&String> = run
            .sources
            .iter()
            .filter(|s| *s != "*" && !scan.sources_scanned.contains(s.as_str()))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return Some(format!(
                "no {} source was scanned: nothing it applies to was read",
                names.join(" or ")
            ));
        }
        if scan.sources_scanned.is_empty() {
            return Some("no source was scanned".into());
        }
    }
    None
}

/// A piece of a control id for ordering: numbers by value, so `5.1.2`
/// comes before `5.1.10`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Chunk {
    Number(u64),
    Text(String),
}

fn natural_key(id: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut rest = id;
    while let Some(first) = rest.chars().next() {
        let digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(end);
        chunks.push(if digit {
            piece
                .parse()
                .map_or_else(|_| Chunk::Text(piece.into()), Chunk::Number)
        } else {
            Chunk::Text(piece.into())
        });
        rest = tail;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_name_has_a_prefix_of_the_control_scheme() {
        let names: Vec<&str> = FRAMEWORKS.iter().map(|(_, p)| *p).collect();
        assert_eq!(names, crate::policy::controls::FRAMEWORKS);
    }

    #[test]
    fn controls_sort_by_number_not_by_text() {
        let mut ids = vec!["5.1.10", "5.1.2", "A.8.24", "A.5.15"];
        ids.sort_by_key(|id| natural_key(id));
        assert_eq!(ids, ["5.1.2", "5.1.10", "A.5.15", "A.8.24"]);
    }

    #[test]
    fn the_worst_status_wins() {
        assert!(ControlState::Fail > ControlState::NotAssessed);
        assert!(ControlState::NotAssessed > ControlState::Waived);
        assert!(ControlState::Waived > ControlState::Pass);
    }
}
