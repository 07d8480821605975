//! The evidence block of a report (`report.evidence`, schema_version 2):
//! what exactly was checked, so an auditor can tell which commit, which
//! files, which policies and which live targets a verdict rests on. Digests
//! and identities only: never a file's content, never secret material.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::sources::git::DeclaredTree;

/// `report.evidence`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub tool: BuildInfo,
    /// The scan's clock (`--now`, or the time the scan started).
    pub now: String,
    /// The declared source; null for a live-only scan.
    pub declared: Option<DeclaredEvidence>,
    /// Every declared file read, with its Git blob id, in path order.
    pub files: Vec<FileEvidence>,
    /// Every policy file evaluated: `builtin/<name>.rego`, or its path under
    /// a `--policy` directory.
    pub policies: Vec<Digest>,
    /// SHA-256 of the merged baselines (the bytes an evidence directory's
    /// `baselines.json` holds); null when no policy was evaluated (`diff`).
    pub baselines_sha256: Option<String>,
    /// The config file read, if any.
    pub config: Option<PathDigest>,
    /// Each `--live-snapshot` file used.
    pub snapshots: Vec<PathDigest>,
    /// Each live target read.
    pub targets: Vec<TargetEvidence>,
    /// Coverage: whether everything asked for was read and checked, and the
    /// number of gaps (listed in `report.coverage`).
    pub coverage: CoverageEvidence,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BuildInfo {
    pub name: String,
    pub version: String,
    /// The Git commit the binary was built from, or `unknown`.
    pub build: String,
}

impl BuildInfo {
    pub fn this_build() -> BuildInfo {
        BuildInfo {
            name: "driftaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            build: option_env!("DRIFTAUDIT_BUILD")
                .filter(|b| !b.is_empty())
                .unwrap_or("unknown")
                .into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeclaredEvidence {
    /// The repository or directory as given (`demo: fixtures/demo/repo` for the demo).
    pub path: String,
    /// `--ref` as given; null for a directory.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The commit read (a ref), or the work tree's `HEAD` (a directory in a
    /// Git work tree); null otherwise.
    pub commit: Option<String>,
    /// The tree of that commit.
    pub tree: Option<String>,
    /// Directories in a Git work tree: whether files under it differ from
    /// `HEAD` (changed, staged or untracked). Null for a ref or a plain directory.
    pub dirty: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileEvidence {
    /// Relative to the declared root, with `/`.
    pub path: String,
    /// The Git blob id (SHA-1 of `blob <len>\0` and the bytes), as `git hash-object`
    /// gives; null for a file a Secret was declared in (`secret_values`).
    pub blob: Option<String>,
    /// The file declares a Secret: its blob id is left out, as an unsalted
    /// hash of a plaintext value would let guesses of it be tested offline.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret_values: bool,
    /// The environments that read it; left out for files under none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Digest {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathDigest {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetEvidence {
    /// The target as the report names it.
    pub name: String,
    /// The sources it covers (`kubernetes`, `traefik`, ...).
    pub kinds: Vec<String>,
    /// What identifies the system (docs/report-schema.json): Kubernetes
    /// `server`, `ca_sha256`, `server_version`, `cluster_id`; Traefik `url`,
    /// `version`; null where it could not be told, with `notes` saying why.
    #[serde(flatten)]
    pub identity: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CoverageEvidence {
    pub complete: bool,
    pub gaps: usize,
}

/// The Git blob id of `bytes` (what `git hash-object` prints).
pub fn blob_id(bytes: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, bytes)
        .map(|oid| oid.to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Commit, tree and dirtiness of the declared tree. Never fails: what
/// cannot be told is null (an unknown ref is already an error of the scan).
pub fn describe_declared(tree: &DeclaredTree, label: &str) -> DeclaredEvidence {
    let mut evidence = DeclaredEvidence {
        path: label.to_string(),
        ..DeclaredEvidence::default()
    };
    match tree {
        DeclaredTree::GitRef { repo, reference } => {
            evidence.reference = Some(reference.clone());
            let commit = git2::Repository::open(repo).ok().and_then(|r| {
                let commit = r.revparse_single(reference).ok()?.peel_to_commit().ok()?;
                Some((commit.id().to_string(), commit.tree_id().to_string()))
            });
            if let Some((commit, tree)) = commit {
                evidence.commit = Some(commit);
                evidence.tree = Some(tree);
            }
        }
        DeclaredTree::Directory(dir) => describe_directory(dir, &mut evidence),
    }
    evidence
}

fn describe_directory(dir: &Path, evidence: &mut DeclaredEvidence) {
    let Ok(repo) = git2::Repository::discover(dir) else {
        return;
    };
    let (Some(workdir), Ok(absolute)) = (repo.workdir(), dir.canonicalize()) else {
        return;
    };
    let Ok(workdir) = workdir.canonicalize() else {
        return;
    };
    let Ok(relative) = absolute.strip_prefix(&workdir) else {
        return;
    };
    if let Ok(commit) = repo.head().and_then(|h| h.peel_to_commit()) {
        evidence.commit = Some(commit.id().to_string());
        evidence.tree = Some(commit.tree_id().to_string());
    }
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    if let Some(prefix) = relative.to_str().filter(|p| !p.is_empty()) {
        options.pathspec(format!("{prefix}/"));
    }
    let dirty = repo.statuses(Some(&mut options)).map(|s| !s.is_empty());
    evidence.dirty = dirty.ok();
}

impl Evidence {
    /// The block as label and value pairs for the HTML and markdown reports
    /// (the per-file digests are listed apart: [`Evidence::digests`]). The
    /// build is left out: it changes with every commit of driftaudit, and the
    /// JSON report holds it.
    pub fn summary(&self) -> Vec<(String, String)> {
        let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "unknown".into());
        let mut pairs = Vec::new();
        if let Some(declared) = &self.declared {
            // A commit is shown with its tree; a plain directory has neither.
            if declared.commit.is_some() {
                pairs.push(("Declared commit".into(), shown(&declared.commit)));
                pairs.push(("Declared tree".into(), shown(&declared.tree)));
            }
            if let Some(dirty) = declared.dirty {
                pairs.push((
                    "Work tree".into(),
                    if dirty {
                        "uncommitted changes under the scanned directory"
                    } else {
                        "clean"
                    }
                    .into(),
                ));
            }
        }
        if let Some(baselines) = &self.baselines_sha256 {
            pairs.push(("Baselines SHA-256".into(), baselines.clone()));
        }
        if let Some(config) = &self.config {
            pairs.push((
                "Config".into(),
                format!("{} (SHA-256 {})", config.path, config.sha256),
            ));
        }
        for snapshot in &self.snapshots {
            pairs.push((
                "Live snapshot".into(),
                format!("{} (SHA-256 {})", snapshot.path, snapshot.sha256),
            ));
        }
        for target in &self.targets {
            let identity: Vec<String> = target
                .identity
                .iter()
                .map(|(key, value)| match value {
                    serde_json::Value::String(text) => format!("{key} {text}"),
                    serde_json::Value::Null => format!("{key} unknown"),
                    other => format!("{key} {other}"),
                })
                .collect();
            let kinds = target.kinds.join(", ");
            pairs.push((
                format!("Target {}", target.name),
                if identity.is_empty() {
                    kinds
                } else {
                    format!("{kinds}: {}", identity.join("; "))
                },
            ));
        }
        pairs
    }

    /// (what, file, digest) of every declared file (Git blob id) and policy
    /// file (SHA-256).
    pub fn digests(&self) -> Vec<(&'static str, String, String)> {
        let files = self.files.iter().map(|f| {
            let digest = f
                .blob
                .clone()
                .unwrap_or_else(|| "(left out: declares a Secret)".into());
            ("declared file", f.path.clone(), digest)
        });
        let policies = self
            .policies
            .iter()
            .map(|p| ("policy", p.file.clone(), p.sha256.clone()));
        files.chain(policies).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_git_hash_object() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
