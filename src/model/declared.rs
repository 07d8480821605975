//! Declared coverage: what became of every file under the scanned paths.

use serde::{Deserialize, Serialize};

/// The state a declared file ends in; exactly one per file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileState {
    /// Read on its own as manifests (or a source's own documents).
    Read,
    /// Read through `kustomize build` / `helm template` of these kustomization
    /// or Helm chart folders (`.` is the root).
    Rendered { by: Vec<String> },
    /// Left out by the configuration: which setting and pattern.
    Excluded { reason: String },
    /// Could hold resources and was not checked, and why. `gap` says
    /// whether it makes the scan incomplete (a coverage gap lists it).
    NotChecked { reason: String, gap: bool },
}

impl FileState {
    pub fn name(&self) -> &'static str {
        match self {
            FileState::Read => "read",
            FileState::Rendered { .. } => "rendered",
            FileState::Excluded { .. } => "excluded",
            FileState::NotChecked { .. } => "not_checked",
        }
    }
}

/// One file of the declared tree, by its path relative to the tree root.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeclaredFile {
    pub path: String,
    #[serde(flatten)]
    pub state: FileState,
    /// The environments that read it (`docs/environments.md`); empty (and
    /// left out of the JSON) for files under no environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
}

/// How many files ended in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub read: usize,
    pub rendered: usize,
    pub excluded: usize,
    pub not_checked: usize,
}

/// Every file under the scanned paths (and files outside them that a
/// kustomization rendered), sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredCoverage {
    pub counts: FileCounts,
    pub files: Vec<DeclaredFile>,
}

impl DeclaredCoverage {
    pub fn new(mut files: Vec<DeclaredFile>) -> DeclaredCoverage {
        files.sort();
        files.dedup_by(|a, b| a.path == b.path);
        let mut counts = FileCounts::default();
        for file in &files {
            match file.state {
                FileState::Read => counts.read += 1,
                FileState::Rendered { .. } => counts.rendered += 1,
                FileState::Excluded { .. } => counts.excluded += 1,
                FileState::NotChecked { .. } => counts.not_checked += 1,
            }
        }
        DeclaredCoverage { counts, files }
    }
}
