//! From rule results to report findings: each verdict becomes a finding of
//! its rule, findings that say the same thing about the same resource are
//! merged (their states and targets joined), and rules that failed to
//! evaluate become one input error each, however many inputs they failed on.

use std::collections::BTreeMap;

use super::engine::{PolicySet, UnitResult};
use super::input::ResourceUnit;
use crate::model::InputError;
use crate::report::{Finding, FindingState};

/// Findings of `results` (one per unit: the resource units first, in order,
/// then the whole-inventory inputs), sorted as the report lists them: most
/// severe first, then by category, rule, resource and message. Rules that
/// failed are pushed onto `errors`.
pub fn collect_findings(
    policies: &PolicySet,
    units: &[ResourceUnit],
    results: Vec<UnitResult>,
    errors: &mut Vec<InputError>,
) -> Vec<Finding> {
    let mut merged: BTreeMap<(String, String, String, Option<String>), Finding> = BTreeMap::new();
    let mut failures: BTreeMap<(usize, String), (String, usize)> = BTreeMap::new();
    for (position, result) in results.into_iter().enumerate() {
        let unit = units.get(position);
        for (rule, message) in result.errors {
            let subject = unit
                .map(|u| {
                    let state = FindingState::from(u.state).as_str();
                    format!("{} ({state})", u.resource.identity)
                })
                .unwrap_or_else(|| "the whole inventory".into());
            let first_line = message.lines().next().unwrap_or_default().to_string();
            failures
                .entry((rule, first_line))
                .and_modify(|(_, count)| *count += 1)
                .or_insert((format!("{subject}: {message}"), 1));
        }
        for verdict in result.verdicts {
            let rule = &policies.rules[verdict.rule];
            let (resource, location, state, target) = match unit {
                Some(u) => (
                    Some(u.resource.reference()),
                    u.declared
                        .and_then(|d| d.location_of(verdict.path.as_deref())),
                    FindingState::from(u.state),
                    u.target,
                ),
                None => (None, None, FindingState::Inventory, None),
            };
            let key_resource = resource
                .as_ref()
                .map(|r| format!("{:?}", (r.source, &r.kind, &r.namespace, &r.name)))
                .unwrap_or_default();
            let key = (
                rule.id.clone(),
                key_resource,
                verdict.message.clone(),
                verdict.path.clone(),
            );
            let finding = merged.entry(key).or_insert_with(|| Finding {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                severity: verdict.severity,
                category: rule.category.clone(),
                message: verdict.message.clone(),
                resource,
                states: Vec::new(),
                targets: Vec::new(),
                location,
                path: verdict.path.clone(),
                remediation: rule.remediation.clone(),
            });
            finding.severity = finding.severity.max(verdict.severity);
            if !finding.states.contains(&state) {
                finding.states.push(state);
                finding.states.sort();
            }
            if let Some(t) = target {
                if !finding.targets.iter().any(|known| known == t) {
                    finding.targets.push(t.to_string());
                    finding.targets.sort();
                }
            }
        }
    }
    for ((rule, _), (message, count)) in failures {
        let info = &policies.rules[rule];
        let more = if count > 1 {
            format!(" (and {} more inputs)", count - 1)
        } else {
            String::new()
        };
        errors.push(InputError::new(
            info.location.clone(),
            format!(
                "rule {} failed, so it was not checked{more}: {message}",
                info.id
            ),
        ));
    }
    let mut findings: Vec<Finding> = merged.into_values().collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.category.cmp(&b.category))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.message.cmp(&b.message))
    });
    findings
}
