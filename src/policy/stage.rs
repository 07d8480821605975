//! The policy stage of a scan: load the baselines and the rules (built-in and
//! the user's), evaluate them against every input the scan judges
//! (`input.rs`), and turn what they yield into findings (`findings.rs`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

use super::engine::{EvaluationLimits, UnitResult};
use super::findings::collect_findings;
use super::input::{
    index_drift, inventory_inputs, resource_units, InventoryInput, ResourceUnit, Side,
};
use super::{builtin_policy_files, policy_files_in, EvalUnit, PolicySet, Scope};
use crate::config::WorkloadConfig;
use crate::drift::Drift;
use crate::model::LiveTarget;
use crate::model::{Identity, InputError, Inventory, Resource};
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
    /// Record how each rule fared (`PolicyOutcome.runs`), for a controls
    /// section (`--framework`); off otherwise, as it walks rules × inputs.
    pub record_runs: bool,
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
    /// The `--compare-ref` base's findings, when there is a base.
    pub base: Option<BaseOutcome>,
}

/// The declared state of the `--compare-ref` base: judged declared-only (no
/// live state, no drift), as a pull-request check judges the head. Its
/// resources may be the head's own (those of files the base has unchanged).
#[derive(Debug, Clone, Copy)]
pub struct Base<'a> {
    /// One per identity, sorted by identity.
    pub declared: &'a [&'a Resource],
    /// Second copies of objects declared twice.
    pub duplicates: &'a [&'a Resource],
}

/// The resources scan data is made of (`super::pss`): Namespaces, roles and
/// their bindings, as an inventory of their own.
fn scan_data_of(resources: &[&Resource]) -> serde_json::Value {
    let mut inventory = Inventory::default();
    for resource in resources {
        let kind = resource.identity.kind.as_str();
        if matches!(
            kind,
            "Namespace" | "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        ) {
            let _ = inventory.insert((*resource).clone());
        }
    }
    scan_data(&inventory, &[])
}

/// What the rules found on the base.
#[derive(Debug, Default)]
pub struct BaseOutcome {
    /// Every finding of the base, the suppressed ones included (with their
    /// `suppression`).
    pub findings: Vec<Finding>,
    /// Rules that failed on the base: the comparison is incomplete where they did.
    pub errors: Vec<InputError>,
    /// Resource sides whose verdicts were taken from the head (same identity
    /// and content, judged alike), and those evaluated again.
    pub reused: usize,
    pub evaluated: usize,
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

/// What rules look up beside their input (`PolicySet::add_scan_data`).
fn scan_data(declared: &Inventory, targets: &[LiveTarget]) -> serde_json::Value {
    serde_json::json!({
        "namespaces": super::pss::namespace_labels(declared, targets),
        "bound_roles": super::pss::public_bound_roles(declared, targets),
    })
}

/// Evaluates every loaded rule against the declared and live resources and
/// the drift between them, and, with a `base`, against the base's declared
/// resources too (reusing the head's verdicts where a resource is unchanged).
pub fn evaluate(
    loaded: LoadedPolicies,
    options: &PolicyOptions,
    declared: &Inventory,
    duplicates: &[Resource],
    targets: &[LiveTarget],
    drift: &[Drift],
    base: Option<Base>,
) -> PolicyOutcome {
    let LoadedPolicies {
        set: mut policies,
        mut errors,
    } = loaded;
    let data = scan_data(declared, targets);
    // The base meets the same rules over its own scan data. When that data
    // equals the head's, a resource side judged alike on both gets the same
    // verdicts, so the head's are reused; otherwise the base is evaluated
    // whole, on a copy of the rules holding its data.
    let mut base_errors = Vec::new();
    let mut base_policies = None;
    let mut shared = false;
    if let Some(base) = &base {
        let base_data = scan_data_of(base.declared);
        shared = base_data == data;
        if !shared {
            let mut set = policies.clone();
            if let Err(e) = set.add_scan_data(base_data) {
                base_errors.push(e);
            }
            base_policies = Some(set);
        }
    }
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
            let resources: Vec<&Resource> = declared.iter().collect();
            inventory_inputs(
                &resources,
                targets,
                &drift_by,
                options.now_text,
                options.now,
            )
        } else {
            Vec::new()
        };

    tracing::info!(target: "driftaudit::progress", event = "start", what = %"policies");
    let started = std::time::Instant::now();
    // Errors so far are not pinned on one rule (a policy file that did not
    // load, scan data that did not build): what they hid is unknown.
    let stage_errors = errors.len();
    let (units, results) = run(&policies, options, &resource_units, &inventories, None);
    tracing::info!(
        target: "driftaudit::progress",
        event = "done",
        what = %"policies",
        objects = resource_units.len() + inventories.len()
    );
    let base = base.map(|base| {
        let reused_from =
            shared.then_some((declared, resource_units.as_slice(), results.as_slice()));
        let set = base_policies.as_ref().unwrap_or(&policies);
        // `--policy-timeout` is for the whole scan: the base gets what the
        // head left.
        let left = PolicyOptions {
            timeout: options.timeout.map(|t| t.saturating_sub(started.elapsed())),
            ..*options
        };
        let mut outcome = evaluate_base(set, &left, base, reused_from);
        base_errors.append(&mut outcome.errors);
        outcome.errors = base_errors;
        outcome
    });
    let runs = if options.record_runs {
        rule_runs(&policies, &units, &results)
    } else {
        Vec::new()
    };
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
        base,
    }
}

/// Evaluates the resource units (those of `pending`, or all) and then the
/// inventories; one result per evaluated unit, in that order, with the units
/// (what each rule was routed to, for `rule_runs`).
fn run(
    policies: &PolicySet,
    options: &PolicyOptions,
    resource_units: &[ResourceUnit],
    inventories: &[InventoryInput],
    pending: Option<&[usize]>,
) -> (Vec<EvalUnit>, Vec<UnitResult>) {
    let positions: Vec<usize> = match pending {
        Some(pending) => pending.to_vec(),
        None => (0..resource_units.len()).collect(),
    };
    let mut units: Vec<EvalUnit> = positions
        .iter()
        .map(|&p| {
            let u = &resource_units[p];
            EvalUnit {
                identity: Some(u.resource.identity.clone()),
                scope: Scope::Resource,
                facts: u.present_facts(),
            }
        })
        .collect();
    units.extend(inventories.iter().map(|_| EvalUnit {
        identity: None,
        scope: Scope::Inventory,
        facts: Vec::new(),
    }));
    let input_of = |position: usize| {
        let value = match positions.get(position) {
            Some(&p) => {
                serde_json::to_value(resource_units[p].input(options.now_text, options.now))
            }
            None => serde_json::to_value(&inventories[position - positions.len()]),
        };
        value.expect("a policy input serialises")
    };
    let limits = EvaluationLimits {
        clock_ns: options.now.unix_timestamp_nanos() as i64,
        time: options.timeout,
        memory: options.memory,
    };
    let results = policies.evaluate(&units, &limits, input_of);
    (units, results)
}

/// The same identity and the same content: an input built from either is
/// the same (environment is part of the identity).
fn same_content(a: &Resource, b: &Resource) -> bool {
    std::ptr::eq(a, b)
        || a.identity == b.identity
            && a.api_version == b.api_version
            && a.body == b.body
            && a.facts == b.facts
}

/// The base's findings. With `head` (the head's inventory, units and
/// results, when both were judged over the same scan data), a base resource
/// equal to a head resource judged alone (no live target, no drift) takes
/// the head's result instead of being evaluated again; whole-inventory rules
/// always run on the base.
fn evaluate_base(
    policies: &PolicySet,
    options: &PolicyOptions,
    base: Base,
    head: Option<(&Inventory, &[ResourceUnit], &[UnitResult])>,
) -> BaseOutcome {
    let no_drift = index_drift(&[]);
    let mut units: Vec<ResourceUnit> = base
        .declared
        .iter()
        .map(|r| ResourceUnit::declared_only(r))
        .collect();
    let own = units.len();
    units.extend(
        base.duplicates
            .iter()
            .map(|r| ResourceUnit::declared_only(r)),
    );
    let mut reusable: HashMap<&Identity, usize> = HashMap::new();
    if let Some((inventory, head_units, _)) = head {
        for (position, unit) in head_units.iter().enumerate() {
            let alone = unit.state == Side::Declared
                && unit.target.is_none()
                && unit.counterpart.is_none()
                && unit.drift.is_none()
                && inventory
                    .get(&unit.resource.identity)
                    .is_some_and(|r| std::ptr::eq(r, unit.resource));
            if alone {
                reusable.insert(&unit.resource.identity, position);
            }
        }
    }
    let mut results: Vec<Option<UnitResult>> = units
        .iter()
        .enumerate()
        .map(|(position, unit)| {
            let (_, head_units, head_results) = head?;
            if position >= own {
                return None; // second copies: judged on their own
            }
            let at = *reusable.get(&unit.resource.identity)?;
            same_content(head_units[at].resource, unit.resource).then(|| head_results[at].clone())
        })
        .collect();
    let pending: Vec<usize> = (0..units.len()).filter(|&p| results[p].is_none()).collect();
    let inventories: Vec<InventoryInput> = if policies.evaluates(Scope::Inventory) {
        inventory_inputs(base.declared, &[], &no_drift, options.now_text, options.now)
    } else {
        Vec::new()
    };
    let mut fresh = run(policies, options, &units, &inventories, Some(&pending))
        .1
        .into_iter();
    for &position in &pending {
        results[position] = fresh.next();
    }
    let mut all: Vec<UnitResult> = results.into_iter().flatten().collect();
    all.extend(fresh);
    let reused = units.len() - pending.len();
    tracing::debug!(reused, evaluated = pending.len(), "base evaluated");
    let mut errors = Vec::new();
    let findings = collect_findings(policies, &units, all, &mut errors);
    BaseOutcome {
        findings,
        errors,
        reused,
        evaluated: pending.len(),
    }
}
