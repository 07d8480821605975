//! The declared state: manifests of a Git ref or directory (and rendered
//! Kustomize overlays) turned into an Inventory. A broken file is an error that
//! names its path and line; the other files are still read.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use super::document::DocumentPlace;
use super::git::{
    escape_control, export_ref, read_single_file, read_tree, DeclaredTree, ExportGaps, FileFilter,
};
use super::kubernetes::{kubernetes_resource, kustomize, ManifestError};
use super::registry::expand_document;
use super::traefik;
use crate::diag::{Code, Place};
use crate::model::{InputError, Inventory, Origin, Resource};
use crate::scratch::ScratchDir;
use crate::yaml::{parse_documents_lenient, Document, LineMap};

/// What to read as the declared state.
#[derive(Debug, Clone)]
pub struct DeclaredOptions {
    pub tree: DeclaredTree,
    pub filter: FileFilter,
    /// Overlay directories (relative to the tree root) rendered with kustomize.
    pub kustomize: Vec<String>,
    /// Namespace of namespaced objects that do not name one.
    pub default_namespace: String,
    /// Files read as Traefik dynamic configuration (the filter must select
    /// them too), before the Kubernetes manifest parser sees them.
    pub traefik: globset::GlobSet,
}

/// The declared Inventory and everything met while building it.
#[derive(Debug, Default)]
pub struct DeclaredState {
    pub inventory: Inventory,
    pub errors: Vec<InputError>,
    pub commit: Option<String>,
    pub files_read: usize,
}

/// Reads the declared side: every manifest, Traefik file and kustomize
/// overlay. Errors are collected beside what could be read.
pub fn load_declared(options: &DeclaredOptions) -> DeclaredState {
    const LABEL: &str = "declared repository";
    let started = std::time::Instant::now();
    tracing::info!(target: "driftaudit::progress", event = "start", what = LABEL);
    let state = read_declared(options);
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

fn read_declared(options: &DeclaredOptions) -> DeclaredState {
    let mut state = DeclaredState::default();
    let read = match read_tree(&options.tree, &options.filter) {
        Ok(read) => read,
        Err(error) => {
            state.errors.push(error);
            return state;
        }
    };
    state.commit = read.commit.clone();
    state.errors.extend(read.errors);
    state.files_read = read.files.len();

    // Parsing is the costly part and independent per file; inserting stays
    // sequential and in path order, so duplicates are reported deterministically.
    let (traefik_files, manifests): (Vec<_>, Vec<_>) = read
        .files
        .iter()
        .partition(|file| options.traefik.is_match(&file.path));
    tracing::debug!(
        manifests = manifests.len(),
        traefik_files = traefik_files.len(),
        overlays = options.kustomize.len(),
        "declared files selected"
    );
    // Sequential: certificates are read from the tree as the files name them.
    let read_file = |path: &str| read_single_file(&options.tree, path);
    for file in traefik_files {
        let (resources, errors) = match std::str::from_utf8(&file.content) {
            Ok(text) => traefik::declared::resources_from_file(
                text,
                &file.path,
                read.commit.as_deref(),
                &read_file,
            ),
            Err(_) => (
                Vec::new(),
                vec![InputError::error(
                    Code::NotAManifest,
                    Place::file(&file.path),
                    "not UTF-8 text",
                )],
            ),
        };
        insert_all(&mut state, resources);
        state.errors.extend(errors);
    }
    let parsed: Vec<(Vec<Resource>, Vec<InputError>)> = manifests
        .par_iter()
        .map(|file| match std::str::from_utf8(&file.content) {
            Ok(text) => resources_from_text(
                text,
                &file.path,
                0,
                read.commit.as_deref(),
                &options.default_namespace,
            ),
            Err(_) => (
                Vec::new(),
                vec![InputError::error(
                    Code::NotAManifest,
                    Place::file(&file.path),
                    "not UTF-8 text",
                )],
            ),
        })
        .collect();
    for (resources, errors) in parsed {
        insert_all(&mut state, resources);
        state.errors.extend(errors);
    }

    if !options.kustomize.is_empty() {
        render_overlays(options, &mut state);
    }
    state
}

fn insert_all(state: &mut DeclaredState, resources: Vec<Resource>) {
    for resource in resources {
        if let Err(duplicate) = state.inventory.insert(resource) {
            let first = state
                .inventory
                .get(&duplicate.identity)
                .map(|first| origin_place(first).to_string())
                .unwrap_or_default();
            state.errors.push(InputError::error(
                Code::DuplicateResource,
                origin_place(&duplicate),
                format!(
                    "{} is declared twice (first at {first}); the first one is used",
                    duplicate.identity
                ),
            ));
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
    // A broken document is an error; the others of the file are still read.
    let (documents, syntax_errors) = parse_documents_lenient(text);
    let mut resources = Vec::new();
    let mut errors: Vec<InputError> = syntax_errors.iter().map(|e| e.diagnostic(file)).collect();
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
            match kubernetes_resource(value, origin, lines, default_namespace) {
                Ok(resource) => resources.push(resource),
                Err(message) => errors.push(InputError::error(
                    Code::NotAManifest,
                    Place::line(file, at),
                    format!(
                        "{message} (exclude non-manifest files with `git.exclude` in the config)"
                    ),
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

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn render_overlays(options: &DeclaredOptions, state: &mut DeclaredState) {
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
                    return;
                }
            };
            match export_ref(repo, reference, scratch.path()) {
                Ok(left_out) => gaps = left_out,
                Err(error) => {
                    state.errors.push(error);
                    return;
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
            return;
        }
    };
    for overlay in &options.kustomize {
        let (relative, dir) = match overlay_inside(&root, overlay) {
            Ok(found) => found,
            Err(error) => {
                state.errors.push(error);
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
                insert_all(state, resources);
                state.errors.extend(errors);
            }
            Err(error) => state.errors.push(
                InputError::error(
                    Code::KustomizeFailed,
                    Place::line(escape_control(&kustomization), 1),
                    with_export_gaps(error.to_string(), &gaps),
                )
                .with_source(error),
            ),
        }
    }
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
