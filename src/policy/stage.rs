//! The policy stage of a scan: load the baselines and the rules (built-in and
//! the user's), evaluate them against every input the scan judges
//! (`input.rs`), and turn what they yield into findings (`findings.rs`).

use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

use super::engine::EvaluationLimits;
use super::engine::UnitResult;
use super::findings::collect_findings;
use super::input::{index_drift, inventory_inputs, resource_units, InventoryInput, ResourceUnit};
use super::{builtin_policy_files, policy_files_in, EvalUnit, PolicySet, Scope};
use crate::config::WorkloadConfig;
use crate::drift::Drift;
use crate::model::LiveTarget;
use crate::model::{InputError, Inventory, Resource};
use crate::report::controls::{Ran, RuleRun};
use crate::report::Finding;

/// What the policy stage needs from the scan options.
#[derive(Debug, Clone, Copy)]
pub struct PolicyOptions<'a> {
    pub policy_dirs: &'a [PathBuf],
    /// The baseline data (`data.baselines`), already loaded and checked.
    pub baselines: &'a serde_json::Value,
    pub disabled_rules: &'a [String],
    /// Custom resources that embed a pod spec (the config's `workloads`).
    pub workloads: &'a [WorkloadConfig],
    /// The scan clock: `input.now`, certificate ages, `time.now_ns()`.
    pub now: OffsetDateTime,
    /// `input.now`, as the report writes it.
    pub now_text: &'a str,
    /// Total time all evaluations may take (`--policy-timeout`).
    pub timeout: Option<Duration>,
    /// Bytes evaluation may allocate beyond what the scan holds (`--policy-memory`).
    pub memory: Option<u64>,
}

/// What the policy stage found.
#[derive(Debug, Default)]
pub struct PolicyOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    /// Rules loaded (and evaluated where they applied).
    pub rules_evaluated: usize,
    /// The metadata of every rule loaded, for the report's `rules`.
    pub rules: Vec<crate::report::RuleMeta>,
    /// How each rule fared (disabled, switched off, evaluated on how many
    /// inputs, failed): what a controls section (`--framework`) is built on.
    pub runs: Vec<RuleRun>,
    /// How many of `errors` come first and are pinned on no rule (a policy
    /// file that did not load): a rule it held may have evidenced a control.
    pub stage_errors: usize,
}

/// Per rule: the disabled ones, the switched-off ones, and for the others
/// the inputs they were routed to and the inputs on which they failed.
fn rule_runs(policies: &PolicySet, units: &[EvalUnit], results: &[UnitResult]) -> Vec<RuleRun> {
    let mut inputs = vec![0usize; policies.rules.len()];
    let mut out_of_scope = vec![0usize; policies.rules.len()];
    for unit in units {
        for index in 0..policies.rules.len() {
            if policies.meets(index, unit) {
                if policies.in_pod_security_scope(index, unit) {
                    inputs[index] += 1;
                } else {
                    out_of_scope[index] += 1;
                }
            }
        }
    }
    let mut failures: Vec<(usize, Option<String>)> = vec![(0, None); policies.rules.len()];
    for result in results {
        for (index, message) in &result.errors {
            let entry = &mut failures[*index];
            entry.0 += 1;
            if entry.1.is_none() {
                entry.1 = Some(message.lines().next().unwrap_or_default().to_string());
            }
        }
    }
    let describe = |rule: &super::RuleInfo, ran: Ran| RuleRun {
        id: rule.id.clone(),
        controls: rule.controls.clone(),
        sources: rule.sources.clone(),
        kinds: policies.routed_kinds(rule),
        inventory: rule.scope == Scope::Inventory,
        ran,
    };
    let mut runs: Vec<RuleRun> = policies
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let ran = if policies.is_switched_off(&rule.id) {
                Ran::SwitchedOff {
                    by: rule.enabled_by.clone().unwrap_or_default(),
                }
            } else {
                let (failed, first_failure) = failures[index].clone();
                Ran::Evaluated {
                    inputs: inputs[index],
                    out_of_scope: out_of_scope[index],
                    failed,
                    first_failure,
                }
            };
            describe(rule, ran)
        })
        .collect();
    runs.extend(
        policies
            .disabled
            .iter()
            .map(|rule| describe(rule, Ran::Disabled)),
    );
    runs
}

/// The rules of a scan, compiled before any source is read, with what could
/// not be loaded (a policy folder, a Rego file that does not compile). A file
/// that fails leaves the others usable.
pub struct LoadedPolicies {
    set: PolicySet,
    pub errors: Vec<InputError>,
}

/// Compiles every rule (built-in and the user's) over the baseline data: the
/// first stage of a scan, so a broken policy is known before a cluster is
/// read.
pub fn load(options: &PolicyOptions) -> LoadedPolicies {
    let mut errors = Vec::new();
    let mut files = builtin_policy_files();
    for dir in options.policy_dirs {
        match policy_files_in(dir) {
            Ok(found) => files.extend(found),
            Err(e) => errors.push(e),
        }
    }
    let (mut policies, compile_errors) =
        PolicySet::compile(&files, options.baselines, options.disabled_rules);
    errors.extend(compile_errors);
    if let Err(e) = policies.add_workloads(options.workloads) {
        errors.push(e);
    }
    tracing::debug!(
        files = files.len(),
        rules = policies.rules.len(),
        "policies loaded"
    );
    LoadedPolicies {
        set: policies,
        errors,
    }
}

/// Evaluates every loaded rule against the declared and live resources and
/// the drift between them.
pub fn evaluate(
    loaded: LoadedPolicies,
    options: &PolicyOptions,
    declared: &Inventory,
    duplicates: &[Resource],
    targets: &[LiveTarget],
    drift: &[Drift],
) -> PolicyOutcome {
    let LoadedPolicies {
        set: mut policies,
        mut errors,
    } = loaded;
    let data = serde_json::json!({
        "namespaces": super::pss::namespace_labels(declared, targets),
        "bound_roles": super::pss::public_bound_roles(declared, targets),
    });
    if let Err(e) = policies.add_scan_data(data) {
        errors.push(e);
    }

    let drift_by = index_drift(drift);
    let mut resource_units = resource_units(declared, targets, &drift_by);
    // Second copies of an object declared twice (an error already): judged
    // on their own, never compared.
    resource_units.extend(duplicates.iter().map(ResourceUnit::declared_only));
    // Building these copies no body, but walks every resource: only when some
    // rule reads them.
    let inventories: Vec<InventoryInput> =
        if policies.rules.iter().any(|r| r.scope == Scope::Inventory) {
            inventory_inputs(declared, targets, &drift_by, options.now_text, options.now)
        } else {
            Vec::new()
        };

    let mut units: Vec<EvalUnit> = resource_units
        .iter()
        .map(|u| EvalUnit {
            identity: Some(u.resource.identity.clone()),
            scope: Scope::Resource,
            facts: u.present_facts(),
        })
        .collect();
    units.extend(inventories.iter().map(|_| EvalUnit {
        identity: None,
        scope: Scope::Inventory,
        facts: Vec::new(),
    }));
    let input_of = |position: usize| {
        let value = match resource_units.get(position) {
            Some(unit) => serde_json::to_value(unit.input(options.now_text, options.now)),
            None => serde_json::to_value(&inventories[position - resource_units.len()]),
        };
        value.expect("a policy input serialises")
    };
    let limits = EvaluationLimits {
        clock_ns: options.now.unix_timestamp_nanos() as i64,
        time: options.timeout,
        memory: options.memory,
    };
    tracing::info!(target: "driftaudit::progress", event = "start", what = %"policies");
    // Errors so far are not pinned on one rule (a policy file that did not
    // load, scan data that did not build): what they hid is unknown.
    let stage_errors = errors.len();
    let results = policies.evaluate(&units, &limits, input_of);
    tracing::info!(
        target: "driftaudit::progress",
        event = "done",
        what = %"policies",
        objects = units.len()
    );
    let runs = rule_runs(&policies, &units, &results);
    let findings = collect_findings(&policies, &resource_units, results, &mut errors);
    PolicyOutcome {
        runs,
        findings,
        stage_errors,
        errors,
        rules_evaluated: policies.rules.len(),
        rules: policies
            .rules
            .iter()
            .map(|r| crate::report::RuleMeta {
                id: r.id.clone(),
                title: r.title.clone(),
                description: r.description.clone(),
                severity: r.severity,
                category: r.category.clone(),
                remediation: r.remediation.clone(),
                controls: r.controls.clone(),
            })
            .collect(),
    }
}
