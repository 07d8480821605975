//! Reads the files of a declared repository: from any Git ref straight out of
//! the object database (no checkout, the working tree is never touched), or
//! from a plain directory.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, TreeWalkMode, TreeWalkResult};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::model::InputError;

/// Where the declared state lives.
#[derive(Debug, Clone)]
pub enum DeclaredTree {
    /// A directory as it is on disk (Git or not).
    Directory(PathBuf),
    /// A ref (branch, tag, SHA, `HEAD~2`, ...) of a Git repository.
    GitRef { repo: PathBuf, reference: String },
}

/// One file of the declared tree; `path` is relative to the tree root, with `/`.
#[derive(Debug, Clone)]
pub struct TreeFile {
    pub path: String,
    pub content: Vec<u8>,
}

/// Which files are manifests.
#[derive(Debug, Clone)]
pub struct FileFilter {
    paths: Vec<String>,
    include: GlobSet,
    exclude: GlobSet,
}

/// Kustomization file names: a folder that holds one is rendered with kustomize,
/// never read file by file.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// driftaudit's own config file is never a manifest, wherever it sits.
const CONFIG_FILES: [&str; 2] = ["driftaudit.yaml", "driftaudit.yml"];

impl FileFilter {
    pub fn new(
        paths: &[String],
        include: &[String],
        exclude: &[String],
    ) -> Result<FileFilter, InputError> {
        let build = |patterns: &[String], what: &str| -> Result<GlobSet, InputError> {
            let mut builder = GlobSetBuilder::new();
            for pattern in patterns {
                let glob = Glob::new(pattern).map_err(|e| {
                    InputError::new(
                        format!("config git.{what}"),
                        format!("bad glob `{pattern}`: {e}"),
                    )
                })?;
                builder.add(glob);
            }
            builder
                .build()
                .map_err(|e| InputError::new(format!("config git.{what}"), e.to_string()))
        };
        let paths = paths
            .iter()
            .map(|p| p.trim_matches('/').trim_start_matches("./").to_string())
            .map(|p| if p == "." { String::new() } else { p })
            .collect();
        Ok(FileFilter {
            paths,
            include: build(include, "include")?,
            exclude: build(exclude, "exclude")?,
        })
    }

    fn under_paths(&self, path: &str) -> bool {
        self.paths.is_empty()
            || self
                .paths
                .iter()
                .any(|p| p.is_empty() || path == p || path.starts_with(&format!("{p}/")))
    }

    /// Picks the manifest files among all the tree's paths, in sorted order.
    pub fn select(&self, all_paths: &[String]) -> Vec<String> {
        let kustomize_dirs: Vec<String> = all_paths
            .iter()
            .filter_map(|p| {
                let (dir, file) = p.rsplit_once('/').unwrap_or(("", p));
                KUSTOMIZATION_FILES.contains(&file).then(|| dir.to_string())
            })
            .collect();
        let mut selected: Vec<String> = all_paths
            .iter()
            .filter(|p| self.under_paths(p))
            .filter(|p| !CONFIG_FILES.contains(&p.rsplit('/').next().unwrap_or(p)))
            .filter(|p| self.include.is_match(p.as_str()) && !self.exclude.is_match(p.as_str()))
            .filter(|p| {
                !kustomize_dirs
                    .iter()
                    .any(|d| d.is_empty() || p.starts_with(&format!("{d}/")))
            })
            .cloned()
            .collect();
        selected.sort();
        selected
    }
}

/// The files of the tree that the filter selects, and the commit they come from.
pub struct TreeRead {
    pub files: Vec<TreeFile>,
    pub commit: Option<String>,
    pub errors: Vec<InputError>,
}

pub fn read_tree(tree: &DeclaredTree, filter: &FileFilter) -> Result<TreeRead, InputError> {
    match tree {
        DeclaredTree::Directory(dir) => read_directory(dir, filter),
        DeclaredTree::GitRef { repo, reference } => read_git_ref(repo, reference, filter),
    }
}

fn read_directory(root: &Path, filter: &FileFilter) -> Result<TreeRead, InputError> {
    if !root.is_dir() {
        return Err(InputError::new(
            root.display().to_string(),
            "not a directory",
        ));
    }
    let mut all = Vec::new();
    let mut errors = Vec::new();
    walk_directory(root, "", &mut all, &mut errors);
    let mut files = Vec::new();
    for path in filter.select(&all) {
        match std::fs::read(root.join(&path)) {
            Ok(content) => files.push(TreeFile { path, content }),
            Err(e) => errors.push(InputError::new(path, format!("cannot read: {e}"))),
        }
    }
    Ok(TreeRead {
        files,
        commit: None,
        errors,
    })
}

fn walk_directory(dir: &Path, prefix: &str, out: &mut Vec<String>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(InputError::new(
                dir.display().to_string(),
                format!("cannot list: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk_directory(&entry.path(), &rel, out, errors),
            Ok(t) if t.is_file() => out.push(rel),
            _ => {}
        }
    }
}

/// Opens a repository and resolves a ref to a commit, with errors that say what to do.
pub fn resolve_commit<'r>(
    repo: &'r Repository,
    reference: &str,
    repo_path: &Path,
) -> Result<git2::Commit<'r>, InputError> {
    let object = repo.revparse_single(reference).map_err(|e| {
        InputError::new(
            format!("{} @ {reference}", repo_path.display()),
            format!("unknown ref `{reference}`: {} (try a branch, tag or commit SHA that `git rev-parse` knows)", e.message()),
        )
    })?;
    object.peel_to_commit().map_err(|e| {
        InputError::new(
            format!("{} @ {reference}", repo_path.display()),
            format!("`{reference}` does not point at a commit: {}", e.message()),
        )
    })
}

pub fn open_repository(repo_path: &Path) -> Result<Repository, InputError> {
    Repository::open(repo_path).map_err(|e| {
        InputError::new(
            repo_path.display().to_string(),
            format!(
                "not a Git repository ({}); drop --ref to read it as a plain directory",
                e.message()
            ),
        )
    })
}

fn read_git_ref(
    repo_path: &Path,
    reference: &str,
    filter: &FileFilter,
) -> Result<TreeRead, InputError> {
    let repo = open_repository(repo_path)?;
    let commit = resolve_commit(&repo, reference, repo_path)?;
    let tree = commit
        .tree()
        .map_err(|e| InputError::new(reference, e.message().to_string()))?;
    let mut blobs = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        // Only regular files: symlinks (0o120000) and submodules are skipped.
        if entry.kind() == Some(ObjectType::Blob) && entry.filemode() & 0o170000 == 0o100000 {
            if let Ok(name) = entry.name() {
                blobs.push((format!("{root}{name}"), entry.id()));
            }
        }
        TreeWalkResult::Ok
    })
    .map_err(|e| InputError::new(reference, format!("cannot walk the tree: {}", e.message())))?;
    let all: Vec<String> = blobs.iter().map(|(p, _)| p.clone()).collect();
    let selected = filter.select(&all);
    let mut files = Vec::with_capacity(selected.len());
    let mut errors = Vec::new();
    for (path, id) in blobs {
        if selected.binary_search(&path).is_err() {
            continue;
        }
        match repo.find_blob(id) {
            Ok(blob) => files.push(TreeFile {
                path,
                content: blob.content().to_vec(),
            }),
            Err(e) => errors.push(InputError::new(
                path,
                format!("cannot read blob: {}", e.message()),
            )),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(TreeRead {
        files,
        commit: Some(commit.id().to_string()),
        errors,
    })
}

/// One file of the tree by its path relative to the root (a certificate a
/// configuration names), or `None` when there is no such file.
pub fn read_single_file(tree: &DeclaredTree, path: &str) -> Option<Vec<u8>> {
    let relative = Path::new(path);
    // Only paths inside the tree: `..` could read anything on the machine.
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    match tree {
        DeclaredTree::Directory(root) => std::fs::read(root.join(relative)).ok(),
        DeclaredTree::GitRef { repo, reference } => {
            let repo_handle = Repository::open(repo).ok()?;
            let commit = resolve_commit(&repo_handle, reference, repo).ok()?;
            let entry = commit.tree().ok()?.get_path(relative).ok()?;
            let blob = repo_handle.find_blob(entry.id()).ok()?;
            Some(blob.content().to_vec())
        }
    }
}

/// Writes every file of a ref into `dest`, for tools (kustomize) that need a
/// real directory. The repository's own working tree is not touched.
pub fn export_ref(repo_path: &Path, reference: &str, dest: &Path) -> Result<(), InputError> {
    let repo = open_repository(repo_path)?;
    let commit = resolve_commit(&repo, reference, repo_path)?;
    let tree = commit
        .tree()
        .map_err(|e| InputError::new(reference, e.message().to_string()))?;
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() & 0o170000 != 0o100000 {
            return TreeWalkResult::Ok;
        }
        let Ok(name) = entry.name() else {
            return TreeWalkResult::Ok;
        };
        let target = dest.join(root).join(name);
        let written = repo
            .find_blob(entry.id())
            .map_err(|e| e.message().to_string())
            .and_then(|blob| {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                std::fs::write(&target, blob.content()).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(InputError::new(
                    format!("{root}{name}"),
                    format!("cannot export for kustomize: {e}"),
                ));
                TreeWalkResult::Abort
            }
        }
    })
    .ok();
    match failure {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
