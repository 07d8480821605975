//! One scan, start to end: declared state, live state, drift, policies,
//! report. The CLI only parses arguments into `ScanOptions` and renders the
//! `Report` this returns.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::diag::{Code, Place};
use crate::drift::{compute_drift, managed_namespaces, Drift, DriftOptions};
use crate::model::{
    CoverageGap, Identity, InputError, Inventory, Origin, Resource, Severity, Source,
};
use crate::model::{LiveTarget, LiveTimeouts};
use crate::policy::stage::{Base, BaseOutcome};
use crate::policy::{self, PolicyOptions, PolicyOutcome};
use crate::report::{
    BaselineState, CompareDescription, EnvironmentDescription, Finding, FindingState, Report,
    ScanDescription,
};
use crate::sources::declared::{
    load_declared, load_declared_reusing, DeclaredOptions, Reuse, SeenFiles,
};
use crate::sources::environments::{assign_live, compared_with, declared_for};
use crate::sources::git::{resolve_commit, DeclaredTree};
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
    /// `--compare-ref`: the base the findings are compared with.
    pub compare: Option<CompareOptions>,
    /// Where owners come from (docs/owners.md).
    pub owners: crate::owners::OwnerOptions,
}

/// `--compare-ref BASE` (`docs/fingerprints.md`): the base is read from the
/// same repository at `reference`, declared-only, and judged by the same
/// rules; findings are `new` or `existing` by fingerprint.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub reference: String,
    /// `--fail-on-existing`: existing findings fail the gate too.
    pub fail_on_existing: bool,
    /// The config, baseline and policy files of the repository the scan
    /// used: those the change touches are named (`crate::gate`).
    pub gate: crate::gate::GateInputs,
}

pub fn run_scan(options: &ScanOptions) -> Report {
    run_scan_keeping_live(options).0
}

/// `run_scan`, with the live targets as read (for `--evidence-dir`'s
/// snapshot: `sources::snapshot::to_snapshot`).
pub fn run_scan_keeping_live(options: &ScanOptions) -> (Report, Vec<LiveTarget>) {
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
        record_runs: !options.frameworks.is_empty(),
    };
    let loaded = options
        .evaluate_policies
        .then(|| policy::stage::load(&policy_options));
    stage_done("rules", started);

    // Declared state. With a base to compare with, the bytes of what the
    // head parses are recorded: the base's files with the same bytes are not
    // read again, their resources are the head's.
    let started = Instant::now();
    let seen = options.compare.as_ref().map(|_| SeenFiles::default());
    let declared = match &options.declared {
        Some(declared_options) => {
            let state = load_declared_reusing(declared_options, seen.as_ref().map(Reuse::Record));
            errors.extend(state.errors);
            coverage.extend(state.gaps);
            Some((
                state.inventory,
                state.commit,
                state.files_read,
                Some(state.coverage),
                state.environments,
                state.duplicates,
                state.blobs,
            ))
        }
        None => None,
    };
    let (
        declared_inventory,
        commit,
        files_read,
        declared_coverage,
        environments,
        duplicates,
        blobs,
    ) = declared.unwrap_or_default();
    // Files a Secret was declared in: the evidence block gives no blob id for
    // them (an unsalted hash of a file with a plaintext value would let a
    // reader of the report test guesses of it offline).
    let secret_files: std::collections::BTreeSet<String> = declared_inventory
        .iter()
        .chain(duplicates.iter())
        .filter(|r| crate::redact::is_secret(&r.api_version, &r.identity.kind))
        .filter_map(|r| match &r.origin {
            crate::model::Origin::Declared { file, .. } => Some(file.clone()),
            _ => None,
        })
        .collect();
    stage_done("declared", started);

    // The base of `--compare-ref`, declared-only.
    let started = Instant::now();
    let base = match (&options.compare, &options.declared) {
        (Some(compare), Some(declared_options)) if options.evaluate_policies => Some(load_base(
            compare,
            declared_options,
            // Environments change resources after reading (their name,
            // namespace): the base then reads every file itself.
            seen.as_ref().filter(|_| environments.is_empty()),
            &mut errors,
            &mut coverage,
        )),
        _ => None,
    };
    stage_done("base", started);
    drop(seen);

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
    // What the operators say happened (`input.facts.status`), against --now.
    crate::status_facts::attach(&mut targets, options.now, &options.baselines);
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
    let base_view = base
        .as_ref()
        .and_then(|b| b.state.as_ref())
        .map(|state| base_resources(state, &declared_inventory, &duplicates));
    let policies = match loaded {
        Some(loaded) => policy::stage::evaluate(
            loaded,
            &policy_options,
            &declared_inventory,
            &duplicates,
            &targets,
            &drift,
            base_view.as_ref().map(|(declared, duplicates)| Base {
                declared,
                duplicates,
            }),
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
    // New or existing against the base, after waivers: a waived finding keeps
    // its state, an expired waiver's finding (the base's findings are never
    // waived) is new and fails the gate.
    let mut fixed = match (&base, policies.base) {
        (Some(base), Some(outcome)) => {
            compare_findings(base, outcome, &mut findings, &mut coverage)
        }
        _ => Vec::new(),
    };
    let mut waivers = waivers;
    if let (Some(summary), Some(base), Some(declared)) = (&mut waivers, &base, &options.declared) {
        if base.commit.is_some() {
            let base_waivers = base_waivers(&options.waivers, declared, &base.reference);
            crate::waivers::mark_changed(
                summary,
                &options.waivers,
                base_waivers.as_ref(),
                &findings,
            );
        }
    }
    // Owners, once findings and drift are final (docs/owners.md).
    crate::owners::fill(
        &crate::owners::OwnerSources {
            options: &options.owners,
            tree: options
                .declared
                .as_ref()
                .map(|d| (&d.tree, commit.as_deref())),
            declared: &declared_inventory,
            targets: &targets,
        },
        &mut [&mut findings, &mut fixed],
        &mut drift,
    );

    // Report.
    errors.sort();
    errors.dedup();
    coverage.sort();
    coverage.dedup();
    let blobs = blobs
        .into_iter()
        .map(|(path, blob)| {
            let blob = (!secret_files.contains(&path)).then_some(blob);
            (path, blob)
        })
        .collect();
    let evidence = evidence_of(options, &now, blobs, declared_coverage.as_ref(), &targets);
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
        compare: base.map(|b| CompareDescription {
            gate_changes: match (&b.commit, &options.declared, &options.compare) {
                (Some(_), Some(declared), Some(compare)) => crate::gate::changes(
                    &declared.tree,
                    &DeclaredTree::GitRef {
                        repo: match &declared.tree {
                            DeclaredTree::Directory(repo) | DeclaredTree::GitRef { repo, .. } => {
                                repo.clone()
                            }
                        },
                        reference: b.reference.clone(),
                    },
                    &compare.gate,
                ),
                _ => Vec::new(),
            },
            base_ref: b.reference,
            base_commit: b.commit,
            fail_on_existing: b.fail_on_existing,
        }),
    };
    let mut report = Report::assemble(
        description,
        declared_coverage,
        declared_inventory.len(),
        targets.iter().map(|t| t.inventory.len()).sum(),
        drift,
        findings,
        fixed,
        coverage,
        errors,
        policies.rules_evaluated,
        options.fail_on,
        options.fail_on_drift,
        options.allow_partial,
    );
    report.waivers = waivers;
    report.backups = crate::backups::backup_table(&crate::backups::BackupContext {
        targets: &targets,
        now: options.now,
        baselines: &options.baselines,
    });
    report.certificates =
        crate::certificates::certificate_table(&declared_inventory, &targets, options.now);
    report.wal_archivers = crate::wal::wal_archiver_table(&targets);
    report.evidence = Some(crate::report::evidence::Evidence {
        coverage: crate::report::evidence::CoverageEvidence {
            complete: report.summary.complete,
            gaps: report.coverage.len(),
        },
        ..evidence
    });
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
    (report, targets)
}

/// The base's version of the waivers file, when the file lies in the
/// declared repository: `None` when the base has no such file, or one that
/// does not parse (then every waiver counts as added by the change).
fn base_waivers(
    head: &crate::waivers::Waivers,
    declared: &DeclaredOptions,
    reference: &str,
) -> Option<crate::waivers::Waivers> {
    let path = head.in_repository.as_ref()?;
    let repo = match &declared.tree {
        DeclaredTree::Directory(repo) | DeclaredTree::GitRef { repo, .. } => repo.clone(),
    };
    let tree = DeclaredTree::GitRef {
        repo,
        reference: reference.to_string(),
    };
    let bytes = crate::sources::git::read_single_file(&tree, path)
        .filter(|b| b.len() as u64 <= crate::waivers::MAX_REPOSITORY_FILE)?;
    let text = String::from_utf8(bytes).ok()?;
    crate::waivers::parse(&text, path, &head.file).ok()
}

/// The `--compare-ref` base as read.
struct LoadedBase {
    reference: String,
    /// Null when the ref did not resolve (an input error).
    commit: Option<String>,
    fail_on_existing: bool,
    /// What the base read; `None` when the ref did not resolve.
    state: Option<BaseState>,
}

/// The base's own resources: those of the files it read (the others are the
/// head's, `unchanged`).
struct BaseState {
    inventory: Inventory,
    duplicates: Vec<Resource>,
    /// Files whose bytes equal the head's: their resources are the head's.
    unchanged: BTreeSet<String>,
}

/// Every resource of the base, one per identity in identity order, and the
/// second copies: the base's own, and the head's of the files the base has
/// unchanged (borrowed, not copied).
fn base_resources<'a>(
    base: &'a BaseState,
    head: &'a Inventory,
    head_duplicates: &'a [Resource],
) -> (Vec<&'a Resource>, Vec<&'a Resource>) {
    let mut all: BTreeMap<&Identity, &Resource> =
        base.inventory.iter().map(|r| (&r.identity, r)).collect();
    let mut duplicates: Vec<&Resource> = base.duplicates.iter().collect();
    let unchanged = |r: &&Resource| matches!(&r.origin, Origin::Declared { file, .. } if base.unchanged.contains(file));
    for resource in head.iter().filter(unchanged) {
        match all.entry(&resource.identity) {
            Entry::Vacant(slot) => {
                slot.insert(resource);
            }
            Entry::Occupied(_) => duplicates.push(resource),
        }
    }
    duplicates.extend(head_duplicates.iter().filter(unchanged));
    (all.into_values().collect(), duplicates)
}

/// Reads the base: the same repository, paths and settings as the head, at
/// the base ref. A ref that does not resolve is an input error naming it;
/// what the base could not read (an error, a gap) becomes a coverage gap of
/// the comparison: a head finding there may be marked new wrongly, so the
/// scan is incomplete rather than silently "all new".
fn load_base(
    compare: &CompareOptions,
    head: &DeclaredOptions,
    seen: Option<&SeenFiles>,
    errors: &mut Vec<InputError>,
    coverage: &mut Vec<CoverageGap>,
) -> LoadedBase {
    let mut loaded = LoadedBase {
        reference: compare.reference.clone(),
        commit: None,
        fail_on_existing: compare.fail_on_existing,
        state: None,
    };
    let repo = match &head.tree {
        DeclaredTree::Directory(repo) | DeclaredTree::GitRef { repo, .. } => repo.clone(),
    };
    let place = || Place::Argument("--compare-ref".into());
    let reference = crate::sources::git::escape_control(&compare.reference);
    let repository = match git2::Repository::open(&repo) {
        Ok(repository) => repository,
        Err(e) => {
            errors.push(InputError::error(
                Code::RepositoryUnreadable,
                place(),
                format!(
                    "the base `{reference}` cannot be read: --repo {} is not the root of a Git repository ({}); give the root as --repo and the folder as --path",
                    crate::sources::git::escape_control(&repo.display().to_string()),
                    e.message()
                ),
            ));
            return loaded;
        }
    };
    if let Err(e) = resolve_commit(&repository, &compare.reference, &repo) {
        errors.push(InputError::error(
            e.code,
            place(),
            format!("the base `{reference}` cannot be read: {}", e.message),
        ));
        return loaded;
    }
    let base_options = DeclaredOptions {
        tree: DeclaredTree::GitRef {
            repo,
            reference: compare.reference.clone(),
        },
        ..head.clone()
    };
    let mut state = load_declared_reusing(&base_options, seen.map(Reuse::Skip));
    if !state.environments.is_empty() && !state.unchanged.is_empty() {
        // The base has environments the head has not: each reads files of
        // its own, so the base is read whole.
        state = load_declared(&base_options);
    }
    let reference = &compare.reference;
    for error in &state.errors {
        coverage.push(base_gap(reference, &error.location, &error.message));
    }
    for gap in &state.gaps {
        coverage.push(base_gap(reference, &gap.scope, &gap.reason));
    }
    loaded.commit = state.commit;
    loaded.state = Some(BaseState {
        inventory: state.inventory,
        duplicates: state.duplicates,
        unchanged: state.unchanged.into_iter().collect(),
    });
    loaded
}

/// What the base could not read or check, as a gap of the comparison.
fn base_gap(
    reference: &str,
    scope: &dyn std::fmt::Display,
    reason: &dyn std::fmt::Display,
) -> CoverageGap {
    CoverageGap {
        source: Source::Kubernetes,
        target: "compare base".into(),
        scope: format!(
            "base `{}`: {scope}",
            crate::sources::git::escape_control(reference)
        ),
        reason: format!(
            "{reason} (not checked on the base: a finding of the head may show as new)"
        ),
        endpoint: String::new(),
        kind: None,
    }
}

/// Marks every finding of the head that a declared side or a whole
/// inventory showed `new` or `existing` by its fingerprint among the base's
/// findings (suppressed ones included, on either side); findings seen on the
/// live side only keep no state (the base has no live side). Returns the
/// base's findings (not suppressed there) whose fingerprint the head no
/// longer has: the fixed ones. Rules that failed on the base are gaps.
fn compare_findings(
    base: &LoadedBase,
    outcome: BaseOutcome,
    findings: &mut [Finding],
    coverage: &mut Vec<CoverageGap>,
) -> Vec<Finding> {
    for error in &outcome.errors {
        coverage.push(base_gap(&base.reference, &error.location, &error.message));
    }
    let known: std::collections::HashSet<&str> = outcome
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    for finding in findings.iter_mut() {
        let compared = finding
            .states
            .iter()
            .any(|s| matches!(s, FindingState::Declared | FindingState::Inventory));
        if compared {
            finding.baseline_state = Some(if known.contains(finding.fingerprint.as_str()) {
                BaselineState::Existing
            } else {
                BaselineState::New
            });
        }
    }
    let head: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    let fixed = outcome
        .findings
        .iter()
        .filter(|f| f.suppression.is_none() && !head.contains(f.fingerprint.as_str()))
        .filter(|f| seen.insert(f.fingerprint.clone()))
        .cloned()
        .collect();
    fixed
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

/// `report.evidence`, but for what only the command line knows (the config
/// and snapshot files, filled by the CLI) and coverage (filled once the report counts).
fn evidence_of(
    options: &ScanOptions,
    now: &str,
    blobs: Vec<(String, Option<String>)>,
    declared_coverage: Option<&crate::model::DeclaredCoverage>,
    targets: &[LiveTarget],
) -> crate::report::evidence::Evidence {
    use crate::evidence::sha256_hex;
    use crate::report::evidence::{
        describe_declared, BuildInfo, Digest, Evidence, FileEvidence, TargetEvidence,
    };
    let environments_of = |path: &str| -> Vec<String> {
        declared_coverage
            .and_then(|c| c.files.iter().find(|f| f.path == path))
            .map(|f| f.environments.clone())
            .unwrap_or_default()
    };
    let mut files: Vec<FileEvidence> = blobs
        .into_iter()
        .map(|(path, blob)| FileEvidence {
            environments: environments_of(&path),
            secret_values: blob.is_none(),
            path,
            blob,
        })
        .collect();
    files.sort();
    let mut policies = Vec::new();
    if options.evaluate_policies {
        for policy in policy::library::builtin_policy_files() {
            policies.push(Digest {
                file: format!(
                    "builtin/{}",
                    policy.name.trim_start_matches("builtin:policies/")
                ),
                sha256: sha256_hex(policy.text.as_bytes()),
            });
        }
        for dir in &options.policy_dirs {
            // A directory that does not read is already an error of the scan.
            for policy in policy::library::policy_files_in(dir).unwrap_or_default() {
                policies.push(Digest {
                    sha256: sha256_hex(policy.text.as_bytes()),
                    file: crate::printable::printable(&policy.name).into_owned(),
                });
            }
        }
    }
    Evidence {
        tool: BuildInfo::this_build(),
        now: now.to_string(),
        declared: options
            .declared
            .as_ref()
            .map(|d| describe_declared(&d.tree, &options.declared_label)),
        files,
        policies,
        baselines_sha256: options
            .evaluate_policies
            .then(|| sha256_hex(&crate::evidence::baselines_bytes(&options.baselines))),
        config: None,
        snapshots: Vec::new(),
        targets: targets
            .iter()
            .map(|t| TargetEvidence {
                name: t.name.clone(),
                kinds: t.sources.iter().map(|s| s.as_str().to_string()).collect(),
                identity: t.identity.clone(),
            })
            .collect(),
        coverage: Default::default(),
    }
}

pub fn format_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(time)
        .format(&Rfc3339)
        .unwrap_or_default()
}
