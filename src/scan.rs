//! One scan, start to end: declared state, live state, drift, policies,
//! report. The CLI only parses arguments into `ScanOptions` and renders the
//! `Report` this returns.

use std::path::PathBuf;
use std::time::Instant;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::diag::{Code, Place};
use crate::drift::{compute_drift, managed_namespaces, Drift, DriftOptions};
use crate::model::{CoverageGap, InputError, Inventory, Severity};
use crate::model::{LiveTarget, LiveTimeouts};
use crate::policy::{self, PolicyOptions, PolicyOutcome};
use crate::report::{EnvironmentDescription, Report, ScanDescription};
use crate::sources::declared::{load_declared, DeclaredOptions};
use crate::sources::environments::{assign_live, compared_with, declared_for};
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
    /// The baseline data: the built-in defaults with the user's files merged
    /// over them (`policy::load_baselines`), loaded and checked by the caller
    /// before the scan starts, so a broken baseline costs no scan.
    pub baselines: serde_json::Value,
    pub disabled_rules: Vec<String>,
    /// Custom resources that embed a pod spec (the config's `workloads`).
    pub workloads: Vec<crate::config::WorkloadConfig>,
    pub drift: DriftOptions,
    pub now: OffsetDateTime,
    /// Total time all policy evaluations of the scan may take (`--policy-timeout`).
    pub policy_timeout: Option<std::time::Duration>,
    /// Bytes policy evaluation may allocate beyond what the scan holds (`--policy-memory`).
    pub policy_memory: Option<u64>,
    /// `false` for `driftaudit diff`: drift only.
    pub evaluate_policies: bool,
    /// The waivers file's entries, applied to the findings (docs/waivers.md).
    pub waivers: crate::waivers::Waivers,
    /// `--framework`: names of `report::controls::FRAMEWORKS`; a controls
    /// section is added for them (docs/controls.md).
    pub frameworks: Vec<String>,
    pub fail_on: Option<Severity>,
    pub fail_on_drift: bool,
    pub allow_partial: bool,
}

pub fn run_scan(options: &ScanOptions) -> Report {
    let mut errors: Vec<InputError> = Vec::new();
    let mut coverage: Vec<CoverageGap> = Vec::new();

    // Rules first: a baseline or a Rego file that does not load is known
    // before any source is read (the other rules still run).
    let started = Instant::now();
    let now = format_time(options.now);
    let policy_options = PolicyOptions {
        policy_dirs: &options.policy_dirs,
        baselines: &options.baselines,
        disabled_rules: &options.disabled_rules,
        workloads: &options.workloads,
        now: options.now,
        now_text: &now,
        timeout: options.policy_timeout,
        memory: options.policy_memory,
    };
    let loaded = options
        .evaluate_policies
        .then(|| policy::stage::load(&policy_options));
    stage_done("rules", started);

    // Declared state.
    let started = Instant::now();
    let declared = match &options.declared {
        Some(declared_options) => {
            let state = load_declared(declared_options);
            errors.extend(state.errors);
            coverage.extend(state.gaps);
            Some((
                state.inventory,
                state.commit,
                state.files_read,
                Some(state.coverage),
                state.environments,
                state.duplicates,
            ))
        }
        None => None,
    };
    let (declared_inventory, commit, files_read, declared_coverage, environments, duplicates) =
        declared.unwrap_or_default();
    stage_done("declared", started);

    // Live state, read where the declared state says to look.
    let started = Instant::now();
    let managed = managed_namespaces(&declared_inventory, &options.drift);
    let scope = live_scope(&declared_inventory, &managed, options);
    let (mut targets, live_errors) = collect_live(&options.live, &scope, &options.live_timeouts);
    coverage.extend(coverage_of(&targets));
    if !environments.is_empty() {
        let (gaps, problems) = assign_live(&environments, &declared_inventory, &mut targets);
        coverage.extend(gaps);
        errors.extend(problems);
    }
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
    stage_done("live", started);

    // Drift of each live target against the declared state.
    let started = Instant::now();
    let mut drift: Vec<Drift> = Vec::new();
    for target in &targets {
        let view;
        let compared = if environments.is_empty() {
            &declared_inventory
        } else {
            view = declared_for(&environments, &declared_inventory, target);
            &view
        };
        let (target_drift, drift_errors) = compute_drift(compared, target, &options.drift);
        drift.extend(target_drift);
        errors.extend(drift_errors);
    }
    stage_done("drift", started);

    // Policies, on both sides and the drift between them.
    let started = Instant::now();
    let policies = match loaded {
        Some(loaded) => policy::stage::evaluate(
            loaded,
            &policy_options,
            &declared_inventory,
            &duplicates,
            &targets,
            &drift,
        ),
        None => PolicyOutcome::default(),
    };
    // Errors pinned on no rule: all but those a rule's evaluation raised.
    let unpinned_errors: Vec<String> = errors
        .iter()
        .chain(policies.errors.iter().take(policies.stage_errors))
        .map(|e| format!("{} at {}", e.code.as_str(), e.location))
        .collect();
    errors.extend(policies.errors);
    let mut findings = policies.findings;
    if !environments.is_empty() {
        // A finding of an environment names only the targets it is compared with.
        for finding in &mut findings {
            let Some(name) = &finding.environment else {
                continue;
            };
            let Some(environment) = environments.iter().find(|e| &e.name == name) else {
                continue;
            };
            finding.targets.retain(|t| {
                targets
                    .iter()
                    .find(|target| &target.name == t)
                    .is_none_or(|target| compared_with(environment, target))
            });
        }
    }
    stage_done("policies", started);
    // Waivers, before the report counts: a waived finding does not count, an
    // expired waiver is a finding of its own.
    let waivers = options
        .evaluate_policies
        .then(|| crate::waivers::apply(&options.waivers, &mut findings, options.now))
        .flatten();

    // Report.
    errors.sort();
    errors.dedup();
    coverage.sort();
    coverage.dedup();
    let description = ScanDescription {
        now,
        declared: options
            .declared
            .as_ref()
            .map(|_| options.declared_label.clone()),
        commit,
        files_read,
        live: targets.iter().map(|t| t.name.clone()).collect(),
        strict: options.drift.strict,
        policies: options.evaluate_policies,
        environments: environments
            .iter()
            .map(|e| EnvironmentDescription {
                name: e.name.clone(),
                from: e.from.clone(),
                paths: e.paths.clone(),
                namespace: e.namespace.clone(),
                kube_context: e.kube_context.clone(),
            })
            .collect(),
    };
    let mut report = Report::assemble(
        description,
        declared_coverage,
        declared_inventory.len(),
        targets.iter().map(|t| t.inventory.len()).sum(),
        drift,
        findings,
        coverage,
        errors,
        policies.rules_evaluated,
        options.fail_on,
        options.fail_on_drift,
        options.allow_partial,
    );
    report.waivers = waivers;
    report.attach_rules(&policies.rules);
    // `diff` evaluates no rule: it has no controls to give a status.
    if options.evaluate_policies && !options.frameworks.is_empty() {
        let mut sources_scanned: std::collections::BTreeSet<String> = targets
            .iter()
            .flat_map(|t| &t.sources)
            .chain(declared_inventory.iter().map(|r| &r.identity.source))
            .map(|s| s.as_str().to_string())
            .collect();
        if options.declared.is_some() {
            sources_scanned.insert(crate::model::Source::Kubernetes.as_str().into());
        }
        let knowledge = crate::report::controls::ScanKnowledge {
            findings: &report.findings,
            suppressed: &report.suppressed_findings,
            coverage: &report.coverage,
            unpinned_errors,
            sources_scanned,
        };
        report.controls = Some(crate::report::controls::assess(
            &options.frameworks,
            &policies.runs,
            &knowledge,
        ));
    }
    report
}

fn stage_done(stage: &str, started: Instant) {
    tracing::debug!(
        stage,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "scan stage done"
    );
}

/// A declared side with nothing in it would make every check vacuous: a wrong
/// `--path`, an include pattern that matches nothing, or manifests hidden by a
/// `kustomization.yaml` must not pass as a clean repository.
fn nothing_declared(options: &ScanOptions, files_read: usize) -> InputError {
    InputError::error(
        Code::NothingDeclared,
        Place::parse(&options.declared_label),
        format!(
            "nothing declared: {files_read} manifest file(s) read, no resource found \
             (the declared coverage says what became of each file; check --path / \
             git.paths, git.include and git.exclude)"
        ),
    )
}

/// Live sources were asked for but a target holds nothing to compare with:
/// a snapshot with `"targets": []`, or a target that covers no source.
fn empty_targets(options: &ScanOptions, targets: &[LiveTarget]) -> Vec<InputError> {
    let mut errors = Vec::new();
    if !options.live.is_empty() && targets.is_empty() {
        errors.push(InputError::error(
            Code::NothingLive,
            Place::Text("live state".into()),
            "the live sources gave no target: drift was not checked",
        ));
    }
    let hollow =
        |t: &&LiveTarget| t.sources.is_empty() && t.inventory.is_empty() && t.coverage.is_empty();
    for target in targets.iter().filter(hollow) {
        errors.push(InputError::error(
            Code::NothingLive,
            Place::Text(format!("live target `{}`", target.name)),
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
