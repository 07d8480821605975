//! One scan, start to end: declared state, live state, drift, policies,
//! report. The CLI only parses arguments into `ScanOptions` and renders the
//! `Report` this returns.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::drift::{
    compute_drift, made_by_cluster, managed_namespaces, source_is_declared, Drift, DriftOptions,
    DriftStatus,
};
use crate::facts::with_clock;
use crate::model::{CoverageGap, Identity, InputError, Inventory, Resource, Severity};
use crate::model::{LiveTarget, LiveTimeouts};
use crate::policy::engine::{EvaluationLimits, UnitResult};
use crate::policy::{
    builtin_policy_files, load_baselines, policy_files_in, EvalUnit, PolicySet, Scope,
};
use crate::report::{Finding, Report, ScanDescription};
use crate::sources::declared::{load_declared, DeclaredOptions};
use crate::sources::snapshot::{to_snapshot, SnapshotFile};
use crate::sources::{collect_live, coverage_of, LiveScope, LiveSource};

/// Everything a scan needs to know.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub declared: Option<DeclaredOptions>,
    /// How the report names the declared source (`fixtures/demo/repo`, `repo@main`).
    pub declared_label: String,
    pub live: Vec<LiveSource>,
    pub live_timeouts: LiveTimeouts,
    /// `apiVersion/Kind` searched for unmanaged objects besides the declared kinds.
    pub orphan_kinds: Vec<String>,
    pub policy_dirs: Vec<PathBuf>,
    pub baselines: Vec<PathBuf>,
    pub disabled_rules: Vec<String>,
    pub drift: DriftOptions,
    pub now: OffsetDateTime,
    /// Total time all policy evaluations of the scan may take (`--policy-timeout`).
    pub policy_timeout: Option<std::time::Duration>,
    /// Bytes policy evaluation may allocate beyond what the scan holds (`--policy-memory`).
    pub policy_memory: Option<u64>,
    /// `false` for `driftaudit diff`: drift only.
    pub evaluate_policies: bool,
    pub fail_on: Option<Severity>,
    pub fail_on_drift: bool,
    pub allow_partial: bool,
}

pub fn run_scan(options: &ScanOptions) -> Report {
    let mut errors: Vec<InputError> = Vec::new();
    let mut coverage: Vec<CoverageGap> = Vec::new();

    let declared = match &options.declared {
        Some(declared_options) => {
            let state = load_declared(declared_options);
            errors.extend(state.errors);
            Some((state.inventory, state.commit, state.files_read))
        }
        None => None,
    };
    let (declared_inventory, commit, files_read) = declared.unwrap_or_default();

    let managed = managed_namespaces(&declared_inventory, &options.drift);
    let scope = live_scope(&declared_inventory, &managed, options);
    let (targets, live_errors) = collect_live(&options.live, &scope, &options.live_timeouts);
    coverage.extend(coverage_of(&targets));
    // Only when the declared side read without error: a broken file already
    // says why nothing came out of it.
    if options.declared.is_some() && declared_inventory.is_empty() && errors.is_empty() {
        errors.push(nothing_declared(options, files_read));
    }
    errors.extend(live_errors);
    errors.extend(empty_targets(options, &targets));
    if options.fail_on_drift {
        coverage.extend(uncompared_sources(&declared_inventory, &targets));
    }

    let mut drift: Vec<Drift> = Vec::new();
    for target in &targets {
        let (target_drift, drift_errors) =
            compute_drift(&declared_inventory, target, &options.drift);
        drift.extend(target_drift);
        errors.extend(drift_errors);
    }

    let mut findings = Vec::new();
    let mut rules_evaluated = 0;
    if options.evaluate_policies {
        let (found, policy_errors, rule_count) =
            evaluate_policies(options, &declared_inventory, &targets, &drift);
        findings = found;
        errors.extend(policy_errors);
        rules_evaluated = rule_count;
    }

    errors.sort();
    errors.dedup();
    coverage.sort();
    coverage.dedup();
    let description = ScanDescription {
        now: format_time(options.now),
        declared: options
            .declared
            .as_ref()
            .map(|_| options.declared_label.clone()),
        commit,
        files_read,
        live: targets.iter().map(|t| t.name.clone()).collect(),
        strict: options.drift.strict,
        policies: options.evaluate_policies,
    };
    Report::assemble(
        description,
        declared_inventory.len(),
        targets.iter().map(|t| t.inventory.len()).sum(),
        drift,
        findings,
        coverage,
        errors,
        rules_evaluated,
        options.fail_on,
        options.fail_on_drift,
        options.allow_partial,
    )
}

/// A declared side with nothing in it would make every check vacuous: a wrong
/// `--path`, an include pattern that matches nothing, or manifests hidden by a
/// `kustomization.yaml` must not pass as a clean repository.
fn nothing_declared(options: &ScanOptions, files_read: usize) -> InputError {
    InputError::new(
        options.declared_label.clone(),
        format!(
            "nothing declared: {files_read} manifest file(s) read, no resource found \
             (check --path / git.paths, git.include and git.exclude; folders holding a \
             kustomization.yaml are read only through --kustomize)"
        ),
    )
}

/// Live sources were asked for but a target holds nothing to compare with:
/// a snapshot with `"targets": []`, or a target that covers no source.
fn empty_targets(options: &ScanOptions, targets: &[LiveTarget]) -> Vec<InputError> {
    let mut errors = Vec::new();
    if !options.live.is_empty() && targets.is_empty() {
        errors.push(InputError::new(
            "live state",
            "the live sources gave no target: drift was not checked",
        ));
    }
    let hollow =
        |t: &&LiveTarget| t.sources.is_empty() && t.inventory.is_empty() && t.coverage.is_empty();
    for target in targets.iter().filter(hollow) {
        errors.push(InputError::new(
            format!("live target `{}`", target.name),
            "covers no source and holds nothing (no `sources`, no resources, no gap): nothing was compared with it",
        ));
    }
    errors
}

/// With `--fail-on-drift`, declared resources of a source no live target covers
/// were never compared: a gap, so the gate cannot pass on them.
fn uncompared_sources(declared: &Inventory, targets: &[LiveTarget]) -> Vec<CoverageGap> {
    let mut sources: Vec<_> = declared.iter().map(|r| r.identity.source).collect();
    sources.sort();
    sources.dedup();
    sources
        .into_iter()
        .filter(|source| !targets.iter().any(|t| t.covers(*source)))
        .map(|source| CoverageGap {
            source,
            target: String::new(),
            scope: format!("every declared {} resource", source.as_str()),
            reason: "no live source covers it: its drift was not checked".into(),
            endpoint: String::new(),
            kind: None,
        })
        .collect()
}

/// `driftaudit capture`: the live state of every live source, as a snapshot.
/// The declared state (when given) only decides what to read.
pub fn run_capture(options: &ScanOptions) -> (SnapshotFile, Vec<InputError>) {
    let mut errors = Vec::new();
    let declared = match &options.declared {
        Some(declared_options) => {
            let state = load_declared(declared_options);
            errors.extend(state.errors);
            state.inventory
        }
        None => Inventory::default(),
    };
    let managed = managed_namespaces(&declared, &options.drift);
    let scope = live_scope(&declared, &managed, options);
    let (targets, live_errors) = collect_live(&options.live, &scope, &options.live_timeouts);
    errors.extend(live_errors);
    (to_snapshot(&targets, &format_time(options.now)), errors)
}

/// What the declared side asks the live sources to read.
fn live_scope<'a>(
    declared: &'a Inventory,
    managed: &'a std::collections::BTreeSet<String>,
    options: &'a ScanOptions,
) -> LiveScope<'a> {
    LiveScope {
        declared,
        managed_namespaces: managed,
        orphan_kinds: &options.orphan_kinds,
        managed_selector: options.drift.managed_selector.as_deref(),
    }
}

pub fn format_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(time)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn identity_json(resource: &Resource) -> Value {
    let id = &resource.identity;
    json!({
        "source": id.source.as_str(),
        "apiVersion": resource.api_version,
        "group": id.group,
        "kind": id.kind,
        "namespace": id.namespace,
        "name": id.name,
    })
}

fn drift_json(drift: Option<&Drift>) -> Value {
    match drift {
        Some(d) => json!({"status": d.status.as_str(), "changes": d.changes}),
        None => Value::Null,
    }
}

/// One resource side to evaluate, and where its findings belong.
struct UnitContext<'a> {
    resource: &'a Resource,
    /// The declared resource (for locations), when there is one.
    declared: Option<&'a Resource>,
    counterpart: Option<&'a Resource>,
    drift: Option<&'a Drift>,
    state: &'static str,
    target: Option<String>,
}

/// Keys of a resource's facts that hold something, for fact-based routing.
fn present_facts(facts: &Value) -> Vec<&'static str> {
    const KNOWN: [&str; 1] = ["certificates"];
    KNOWN
        .into_iter()
        .filter(|key| {
            facts
                .get(*key)
                .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
        })
        .collect()
}

fn evaluate_policies(
    options: &ScanOptions,
    declared: &Inventory,
    targets: &[LiveTarget],
    drift: &[Drift],
) -> (Vec<Finding>, Vec<InputError>, usize) {
    let mut errors = Vec::new();
    let baselines = match load_baselines(&options.baselines) {
        Ok(b) => b,
        Err(e) => {
            errors.push(e);
            return (Vec::new(), errors, 0);
        }
    };
    let mut files = builtin_policy_files();
    for dir in &options.policy_dirs {
        match policy_files_in(dir) {
            Ok(found) => files.extend(found),
            Err(e) => errors.push(e),
        }
    }
    let (policies, compile_errors) =
        PolicySet::compile(&files, &baselines, &options.disabled_rules);
    errors.extend(compile_errors);
    let now = format_time(options.now);

    let drift_by: BTreeMap<(&str, &Identity), &Drift> = drift
        .iter()
        .map(|d| ((d.target.as_str(), &d.identity), d))
        .collect();
    let mut contexts: Vec<UnitContext> = Vec::new();

    // Declared sides: once per live target that covers the resource's source
    // (the drift differs per target), or once without drift when none does.
    for resource in declared.iter() {
        let covering: Vec<&LiveTarget> = targets
            .iter()
            .filter(|t| t.compares(&resource.identity))
            .collect();
        if covering.is_empty() {
            contexts.push(UnitContext {
                resource,
                declared: Some(resource),
                counterpart: None,
                drift: None,
                state: "declared",
                target: None,
            });
        }
        for target in covering {
            contexts.push(UnitContext {
                resource,
                declared: Some(resource),
                counterpart: target.inventory.get(&resource.identity),
                drift: drift_by
                    .get(&(target.name.as_str(), &resource.identity))
                    .copied(),
                state: "declared",
                target: Some(target.name.clone()),
            });
        }
    }
    for target in targets {
        for resource in target.inventory.iter() {
            let counterpart = declared.get(&resource.identity);
            let d = drift_by
                .get(&(target.name.as_str(), &resource.identity))
                .copied();
            // Live objects are judged when Git declares them, when they are
            // unmanaged, when the target never compares them with Git (TLS
            // endpoints, Traefik entry points), or when Git declares nothing of
            // their source (a live-only scan); objects made by controllers are
            // judged through their owner, and objects outside the managed scope
            // are not ours.
            let judged = counterpart.is_some()
                || d.is_some_and(|d| d.status == DriftStatus::Unmanaged)
                || !target.compares(&resource.identity)
                || (!source_is_declared(declared, resource.identity.source)
                    && !made_by_cluster(resource, &target.inventory));
            if !judged {
                continue;
            }
            contexts.push(UnitContext {
                resource,
                declared: counterpart,
                counterpart,
                drift: d,
                state: "live",
                target: Some(target.name.clone()),
            });
        }
    }
    // Whole-inventory rules: once per target (or once without live state).
    let target_names: Vec<Option<&str>> = if targets.is_empty() {
        vec![None]
    } else {
        targets.iter().map(|t| Some(t.name.as_str())).collect()
    };
    // Building these copies every body, so only when some rule reads them.
    let has_inventory_rules = policies.rules.iter().any(|r| r.scope == Scope::Inventory);
    let mut inventory_inputs: Vec<Value> = Vec::new();
    for target_name in target_names.iter().filter(|_| has_inventory_rules) {
        let live = target_name.and_then(|n| targets.iter().find(|t| t.name == n));
        let mut entries: BTreeMap<&Identity, (Option<&Resource>, Option<&Resource>)> =
            BTreeMap::new();
        for resource in declared.iter() {
            entries.entry(&resource.identity).or_default().0 = Some(resource);
        }
        if let Some(t) = live {
            for resource in t.inventory.iter() {
                entries.entry(&resource.identity).or_default().1 = Some(resource);
            }
        }
        let resources: Vec<Value> = entries
            .iter()
            .map(|(identity, (d, l))| {
                let any = d.or(*l).expect("one side exists");
                let drift = target_name.and_then(|n| drift_by.get(&(n, *identity)).copied());
                json!({
                    "identity": identity_json(any),
                    "declared": d.map(|r| &r.body),
                    "live": l.map(|r| &r.body),
                    "drift": drift_json(drift),
                    "facts": with_clock(&any.facts, options.now),
                })
            })
            .collect();
        inventory_inputs.push(json!({
            "contract_version": 1,
            "now": now,
            "has_live": live.is_some(),
            "resources": resources,
        }));
    }

    let mut units: Vec<EvalUnit> = contexts
        .iter()
        .map(|c| EvalUnit {
            identity: Some(c.resource.identity.clone()),
            scope: Scope::Resource,
            facts: present_facts(&c.resource.facts),
        })
        .collect();
    units.extend(inventory_inputs.iter().map(|_| EvalUnit {
        identity: None,
        scope: Scope::Inventory,
        facts: Vec::new(),
    }));
    let input_of = |position: usize| match contexts.get(position) {
        Some(c) => json!({
            "contract_version": 1,
            "resource": c.resource.body,
            "identity": identity_json(c.resource),
            "state": c.state,
            "counterpart": c.counterpart.map(|r| &r.body),
            "drift": drift_json(c.drift),
            "facts": with_clock(&c.resource.facts, options.now),
            "now": now,
        }),
        None => inventory_inputs[position - contexts.len()].clone(),
    };
    let clock_ns = options.now.unix_timestamp_nanos() as i64;
    let limits = EvaluationLimits {
        clock_ns,
        time: options.policy_timeout,
        memory: options.policy_memory,
    };
    let results = policies.evaluate(&units, &limits, input_of);
    let findings = collect_findings(&policies, &contexts, results, &mut errors);
    (findings, errors, policies.rules.len())
}

fn collect_findings(
    policies: &PolicySet,
    contexts: &[UnitContext],
    results: Vec<UnitResult>,
    errors: &mut Vec<InputError>,
) -> Vec<Finding> {
    let mut merged: BTreeMap<(String, String, String, Option<String>), Finding> = BTreeMap::new();
    let mut failures: BTreeMap<(usize, String), (String, usize)> = BTreeMap::new();
    for (position, result) in results.into_iter().enumerate() {
        let context = contexts.get(position);
        for (rule, message) in result.errors {
            let subject = context
                .as_ref()
                .map(|c| format!("{} ({})", c.resource.identity, c.state))
                .unwrap_or_else(|| "the whole inventory".into());
            let first_line = message.lines().next().unwrap_or_default().to_string();
            failures
                .entry((rule, first_line))
                .and_modify(|(_, count)| *count += 1)
                .or_insert((format!("{subject}: {message}"), 1));
        }
        for verdict in result.verdicts {
            let rule = &policies.rules[verdict.rule];
            let (resource, location, state, target) = match context {
                Some(c) => {
                    let location = c
                        .declared
                        .and_then(|d| d.location_of(verdict.path.as_deref()));
                    (
                        Some(c.resource.reference()),
                        location,
                        c.state,
                        c.target.clone(),
                    )
                }
                None => (None, None, "inventory", None),
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
                resource: resource.clone(),
                states: Vec::new(),
                targets: Vec::new(),
                location: location.clone(),
                path: verdict.path.clone(),
                remediation: rule.remediation.clone(),
            });
            finding.severity = finding.severity.max(verdict.severity);
            if !finding.states.iter().any(|s| s == state) {
                finding.states.push(state.to_string());
                finding.states.sort();
            }
            if let Some(t) = target {
                if !finding.targets.contains(&t) {
                    finding.targets.push(t);
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
