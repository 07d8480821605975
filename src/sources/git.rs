//! Reads the files of a declared repository: from any Git ref straight out of
//! the object database (no checkout, the working tree is never touched), or
//! from a plain directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use git2::{Oid, Repository};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::diag::{Code, Place};
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

/// The globs of a file setting (`git.include`, `git.traefik`...) as one set;
/// `location` names the setting in errors.
pub fn glob_set(patterns: &[String], location: &str) -> Result<GlobSet, InputError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| {
            InputError::error(
                Code::ConfigBadGlob,
                Place::Text(location.to_string()),
                format!("bad glob `{pattern}`: {e}"),
            )
            .with_source(e)
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| {
        InputError::error(
            Code::ConfigBadGlob,
            Place::Text(location.to_string()),
            e.to_string(),
        )
        .with_source(e)
    })
}

/// Which files are manifests.
#[derive(Debug, Clone)]
pub struct FileFilter {
    paths: Vec<String>,
    /// Folders under `paths` left to someone else (a deeper environment's).
    except: Vec<String>,
    include: GlobSet,
    exclude: GlobSet,
    exclude_patterns: Vec<String>,
}

/// Kustomization file names: a folder that holds one is rendered with kustomize.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// driftaudit's own config file is never a manifest, wherever it sits.
const CONFIG_FILES: [&str; 2] = ["driftaudit.yaml", "driftaudit.yml"];

impl FileFilter {
    pub fn new(
        paths: &[String],
        include: &[String],
        exclude: &[String],
    ) -> Result<FileFilter, InputError> {
        let paths = paths
            .iter()
            .map(|p| p.trim_matches('/').trim_start_matches("./").to_string())
            .map(|p| if p == "." { String::new() } else { p })
            .collect();
        Ok(FileFilter {
            paths,
            except: Vec::new(),
            include: glob_set(include, "config git.include")?,
            exclude: glob_set(exclude, "config git.exclude")?,
            exclude_patterns: exclude.to_vec(),
        })
    }

    /// The same filter over other paths (an environment's), without the
    /// folders `except` (deeper environments').
    pub fn with_paths(&self, paths: &[String], except: &[String]) -> FileFilter {
        FileFilter {
            paths: paths.to_vec(),
            except: except.to_vec(),
            ..self.clone()
        }
    }

    /// Whether `path` is under one of the scanned paths (all of the tree when none is given).
    pub fn under_paths(&self, path: &str) -> bool {
        let under = |p: &String| p.is_empty() || path == p || path.starts_with(&format!("{p}/"));
        (self.paths.is_empty() || self.paths.iter().any(under))
            && (self.except.is_empty() || !self.except.iter().any(under))
    }

    /// The scanned paths that name nothing in the tree (`entries`: every
    /// file, symlink and submodule of it).
    pub fn missing_paths(&self, entries: &[&str]) -> Vec<String> {
        self.paths
            .iter()
            .filter(|p| {
                !p.is_empty()
                    && !entries
                        .iter()
                        .any(|e| *e == p.as_str() || e.starts_with(&format!("{p}/")))
            })
            .cloned()
            .collect()
    }

    /// Why the configuration leaves `path` out, or `None` when it selects it.
    pub fn exclusion(&self, path: &str) -> Option<String> {
        if CONFIG_FILES.contains(&path.rsplit('/').next().unwrap_or(path)) {
            return Some("driftaudit's configuration file".into());
        }
        let waivers = crate::waivers::DEFAULT_FILE;
        if path == waivers || path.ends_with(&format!("/{waivers}")) {
            return Some("driftaudit's waivers file".into());
        }
        if let Some(&index) = self.exclude.matches(path).first() {
            return Some(format!("git.exclude `{}`", self.exclude_patterns[index]));
        }
        if !self.include.is_match(path) {
            return Some("not matched by git.include".into());
        }
        None
    }

    /// Whether the include patterns match `path` (whatever else excludes it).
    pub fn included(&self, path: &str) -> bool {
        self.include.is_match(path)
    }
}

/// Every entry of the declared tree, by type, each sorted; paths relative to
/// the root, with `/`.
#[derive(Debug, Default)]
pub struct TreeEntries {
    pub files: Vec<String>,
    pub symlinks: Vec<String>,
    pub submodules: Vec<String>,
}

/// A declared tree opened for reading: its entries are listed once, and its
/// files read by path.
pub struct OpenTree {
    source: OpenSource,
    pub entries: TreeEntries,
    pub commit: Option<String>,
    /// Folders that could not be listed (a directory tree).
    pub errors: Vec<InputError>,
}

enum OpenSource {
    Directory(PathBuf),
    Git {
        repo: Repository,
        files: BTreeMap<String, Oid>,
        symlinks: BTreeMap<String, Oid>,
    },
}

impl OpenTree {
    pub fn open(tree: &DeclaredTree) -> Result<OpenTree, InputError> {
        match tree {
            DeclaredTree::Directory(root) => {
                if !root.is_dir() {
                    return Err(InputError::error(
                        Code::RepositoryUnreadable,
                        Place::file(root.display().to_string()),
                        "not a directory",
                    ));
                }
                let mut entries = TreeEntries::default();
                let mut errors = Vec::new();
                walk_directory(root, "", &mut entries, &mut errors);
                entries.files.sort();
                entries.symlinks.sort();
                Ok(OpenTree {
                    source: OpenSource::Directory(root.clone()),
                    entries,
                    commit: None,
                    errors,
                })
            }
            DeclaredTree::GitRef {
                repo: repo_path,
                reference,
            } => {
                let repo = open_repository(repo_path)?;
                let (commit, listing) = {
                    let commit = resolve_commit(&repo, reference, repo_path)?;
                    let listing = list_tree(&repo, &commit, &ref_location(repo_path, reference))?;
                    (commit.id().to_string(), listing)
                };
                let entries = TreeEntries {
                    files: listing.files.keys().cloned().collect(),
                    symlinks: listing.symlinks.keys().cloned().collect(),
                    submodules: listing.submodules,
                };
                Ok(OpenTree {
                    source: OpenSource::Git {
                        repo,
                        files: listing.files,
                        symlinks: listing.symlinks,
                    },
                    entries,
                    commit: Some(commit),
                    errors: Vec::new(),
                })
            }
        }
    }

    /// The regular file of the tree a symlink of the tree ends at, resolved
    /// by names inside the tree; `None` when it leads out or to no file.
    pub fn link_target(&self, path: &str) -> Option<String> {
        let mut path = path.to_string();
        for _ in 0..MAX_LINK_HOPS {
            let target = match &self.source {
                OpenSource::Directory(root) => std::fs::read_link(root.join(&path))
                    .ok()?
                    .to_str()?
                    .to_string(),
                OpenSource::Git { repo, symlinks, .. } => {
                    let blob = repo.find_blob(*symlinks.get(&path)?).ok()?;
                    std::str::from_utf8(blob.content()).ok()?.to_string()
                }
            };
            let resolved = link_destination(&path, &target)?;
            if self.entries.files.binary_search(&resolved).is_ok() {
                return Some(resolved);
            }
            if self.entries.symlinks.binary_search(&resolved).is_err() {
                return None;
            }
            path = resolved;
        }
        None
    }

    /// The content of one regular file listed in `entries.files`.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, InputError> {
        match &self.source {
            OpenSource::Directory(root) => std::fs::read(root.join(path)).map_err(|e| {
                InputError::error(
                    Code::RepositoryUnreadable,
                    Place::file(path),
                    format!("cannot read: {e}"),
                )
                .with_source(e)
            }),
            OpenSource::Git { repo, files, .. } => {
                let blob = files
                    .get(path)
                    .ok_or_else(|| git2::Error::from_str("not a file of the tree"))
                    .and_then(|id| repo.find_blob(*id));
                match blob {
                    Ok(blob) => Ok(blob.content().to_vec()),
                    Err(e) => Err(InputError::error(
                        Code::RepositoryUnreadable,
                        Place::file(path),
                        format!("cannot read blob: {}", e.message()),
                    )
                    .with_source(e)),
                }
            }
        }
    }
}

fn walk_directory(dir: &Path, prefix: &str, out: &mut TreeEntries, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(
                InputError::error(
                    Code::RepositoryUnreadable,
                    Place::file(dir.display().to_string()),
                    format!("cannot list: {e}"),
                )
                .with_source(e),
            );
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
            Ok(t) if t.is_file() => out.files.push(rel),
            Ok(t) if t.is_symlink() => out.symlinks.push(rel),
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
    let place = || Place::Ref(format!("{} @ {reference}", repo_path.display()));
    let object = repo.revparse_single(reference).map_err(|e| {
        InputError::error(
            Code::UnknownRef,
            place(),
            format!("unknown ref `{reference}`: {} (try a branch, tag or commit SHA that `git rev-parse` knows)", e.message()),
        )
        .with_source(e)
    })?;
    object.peel_to_commit().map_err(|e| {
        InputError::error(
            Code::UnknownRef,
            place(),
            format!("`{reference}` does not point at a commit: {}", e.message()),
        )
        .with_source(e)
    })
}

pub fn open_repository(repo_path: &Path) -> Result<Repository, InputError> {
    Repository::open(repo_path).map_err(|e| {
        InputError::error(
            Code::RepositoryUnreadable,
            Place::file(repo_path.display().to_string()),
            format!(
                "not a Git repository ({}); drop --ref to read it as a plain directory",
                e.message()
            ),
        )
        .with_source(e)
    })
}

/// The entries of a commit's tree that driftaudit may use, each path built
/// from names checked one at a time (see `plain_name`).
struct TreeListing {
    /// Regular files (mode 100644 or 100755), by path.
    files: BTreeMap<String, Oid>,
    /// Symlinks (mode 120000), by path: the blob holds the link's target.
    symlinks: BTreeMap<String, Oid>,
    /// Submodules (gitlinks): their content is not in this repository.
    submodules: Vec<String>,
}

/// Where a hostile or broken tree is reported: the repository and the ref.
fn ref_location(repo_path: &Path, reference: &str) -> Place {
    Place::Ref(format!(
        "{} @ {}",
        repo_path.display(),
        escape_control(reference)
    ))
}

/// Shows control characters (newlines, ESC) as escapes, so a name cannot forge
/// lines or colours in a report.
pub fn escape_control(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A tree-entry name usable as one path component, or why it is not: Git
/// stores any bytes, and `git clone` keeps names such as `..` or `/etc/x`.
fn plain_name(name: &[u8]) -> Result<&str, &'static str> {
    let name = std::str::from_utf8(name).map_err(|_| "not UTF-8")?;
    let trimmed = name.trim_end_matches(['.', ' ']);
    if name.is_empty() {
        Err("empty")
    } else if name == "." || name == ".." {
        Err("a relative step")
    } else if name.contains('/') || name.contains('\\') {
        Err("holds a path separator or is absolute")
    } else if name.chars().any(char::is_control) {
        Err("holds a control character")
    } else if trimmed.eq_ignore_ascii_case(".git") {
        Err("a `.git` folder")
    } else {
        Ok(name)
    }
}

/// Lists a commit's tree without following anything: a name that is not a
/// plain file name rejects the whole tree, before any file is read or written.
fn list_tree(
    repo: &Repository,
    commit: &git2::Commit,
    location: &Place,
) -> Result<TreeListing, InputError> {
    let tree = commit.tree().map_err(|e| {
        InputError::error(
            Code::RepositoryUnreadable,
            location.clone(),
            e.message().to_string(),
        )
        .with_source(e)
    })?;
    let mut listing = TreeListing {
        files: BTreeMap::new(),
        symlinks: BTreeMap::new(),
        submodules: Vec::new(),
    };
    // Iterative: a hostile tree can nest deeper than any stack.
    let mut pending = vec![(String::new(), tree)];
    while let Some((prefix, tree)) = pending.pop() {
        for entry in tree.iter() {
            let raw = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            let name = plain_name(entry.name_bytes()).map_err(|reason| {
                InputError::error(
                    Code::UnsafeTreeEntry,
                    location.clone(),
                    format!(
                        "commit {}: tree entry `{}` is not a plain file name ({reason}); a tree holding it is not read",
                        commit.id(),
                        escape_control(&format!("{prefix}{raw}"))
                    ),
                )
            })?;
            let path = format!("{prefix}{name}");
            match entry.filemode() & 0o170000 {
                0o040000 => {
                    let subtree = repo.find_tree(entry.id()).map_err(|e| {
                        InputError::error(
                            Code::RepositoryUnreadable,
                            location.clone(),
                            format!(
                                "cannot read tree `{}`: {}",
                                escape_control(&path),
                                e.message()
                            ),
                        )
                        .with_source(e)
                    })?;
                    pending.push((format!("{path}/"), subtree));
                }
                0o100000 => {
                    listing.files.insert(path, entry.id());
                }
                0o120000 => {
                    listing.symlinks.insert(path, entry.id());
                }
                0o160000 => listing.submodules.push(path),
                _ => {}
            }
        }
    }
    listing.submodules.sort();
    Ok(listing)
}

/// One regular file of the tree by its path relative to the root (a
/// certificate a configuration names), or `None` when there is no such file
/// inside the tree: `..`, absolute paths and symlinks leading out are refused.
pub fn read_single_file(tree: &DeclaredTree, path: &str) -> Option<Vec<u8>> {
    let relative = Path::new(path);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    match tree {
        DeclaredTree::Directory(root) => {
            let root = root.canonicalize().ok()?;
            let real = root.join(relative).canonicalize().ok()?;
            (real.starts_with(&root) && real.is_file())
                .then(|| std::fs::read(real).ok())
                .flatten()
        }
        DeclaredTree::GitRef { repo, reference } => {
            let repo_handle = Repository::open(repo).ok()?;
            let commit = resolve_commit(&repo_handle, reference, repo).ok()?;
            let entry = commit.tree().ok()?.get_path(relative).ok()?;
            // A symlink's blob is its target's name, not the file.
            if entry.filemode() & 0o170000 != 0o100000 {
                return None;
            }
            let blob = repo_handle.find_blob(entry.id()).ok()?;
            Some(blob.content().to_vec())
        }
    }
}

/// What an export left out, for the error of a render that misses it.
#[derive(Debug, Default)]
pub struct ExportGaps {
    pub left_out: Vec<String>,
}

/// Symlinks followed inside the tree before giving up, as the kernel does.
const MAX_LINK_HOPS: usize = 40;

/// Writes every regular file of a ref into `dest` (a fresh private directory),
/// for tools (kustomize) that need a real directory; the repository's own
/// working tree is not touched. Directories are created 0700 and files 0600:
/// the export holds plaintext Secret manifests. No symlink is ever created: a
/// link to a file inside the tree is written as a copy of that file, a link
/// leading out of the tree rejects the export, and links to directories and
/// submodules are left out (and listed in the returned gaps).
pub fn export_ref(
    repo_path: &Path,
    reference: &str,
    dest: &Path,
) -> Result<ExportGaps, InputError> {
    let repo = open_repository(repo_path)?;
    let commit = resolve_commit(&repo, reference, repo_path)?;
    let location = ref_location(repo_path, reference);
    let listing = list_tree(&repo, &commit, &location)?;
    let mut gaps = ExportGaps::default();
    let mut to_write: Vec<(&String, Oid)> = listing.files.iter().map(|(p, id)| (p, *id)).collect();
    for path in listing.symlinks.keys() {
        match resolve_symlink(&repo, &listing, path) {
            Ok(id) => to_write.push((path, id)),
            Err(LinkEnd::Outside) => {
                return Err(InputError::error(
                    Code::UnsafeTreeEntry,
                    location,
                    format!(
                        "commit {}: symlink `{}` points out of the tree; it is never followed (remove it or point it at a file inside the repository)",
                        commit.id(),
                        escape_control(path)
                    ),
                ))
            }
            Err(LinkEnd::NotAFile) => gaps.left_out.push(format!(
                "symlink `{}` (its target is not a file of the tree)",
                escape_control(path)
            )),
        }
    }
    for path in &listing.submodules {
        gaps.left_out.push(format!(
            "submodule `{}` (not in this repository)",
            escape_control(path)
        ));
    }
    for (path, id) in to_write {
        write_private(&repo, dest, path, id)?;
    }
    Ok(gaps)
}

enum LinkEnd {
    Outside,
    NotAFile,
}

/// The tree path a symlink at `link` holding `target` names, or `None` when
/// it leads out of the tree (absolute, too many `..`) or names no plain file name.
fn link_destination(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => {
                plain_name(name.as_bytes()).ok()?;
                parts.push(name);
            }
        }
    }
    Some(parts.join("/"))
}

/// The blob a symlink ends at, resolved by names inside the tree (never on disk).
fn resolve_symlink(repo: &Repository, listing: &TreeListing, path: &str) -> Result<Oid, LinkEnd> {
    let mut path = path.to_string();
    for _ in 0..MAX_LINK_HOPS {
        let target_blob = repo
            .find_blob(listing.symlinks[&path])
            .map_err(|_| LinkEnd::NotAFile)?;
        let target = std::str::from_utf8(target_blob.content()).map_err(|_| LinkEnd::NotAFile)?;
        let resolved = link_destination(&path, target).ok_or(LinkEnd::Outside)?;
        if let Some(id) = listing.files.get(&resolved) {
            return Ok(*id);
        }
        if !listing.symlinks.contains_key(&resolved) {
            return Err(LinkEnd::NotAFile);
        }
        path = resolved;
    }
    Err(LinkEnd::NotAFile)
}

/// Writes one blob under `dest`, creating private folders; never follows or
/// replaces anything already there.
fn write_private(repo: &Repository, dest: &Path, path: &str, id: Oid) -> Result<(), InputError> {
    let failed = |message: String| {
        InputError::error(
            Code::KustomizeFailed,
            Place::file(escape_control(path)),
            format!("cannot export for kustomize: {message}"),
        )
    };
    let blob = repo
        .find_blob(id)
        .map_err(|e| failed(e.message().to_string()).with_source(e))?;
    let target = dest.join(path);
    if let Some(parent) = target.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| failed(e.to_string()).with_source(e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&target)
        .map_err(|e| failed(e.to_string()).with_source(e))?;
    file.write_all(blob.content())
        .map_err(|e| failed(e.to_string()).with_source(e))
}
