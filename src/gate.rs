//! The gate's own inputs under `--compare-ref`: the config file, baseline
//! files and policy folders the scan used, when they lie in the declared
//! repository. A pull request can edit them as easily as its manifests (turn
//! a rule off, exempt a namespace, loosen a threshold), and the base is then
//! judged by the same loosened gate, so no finding looks new. Each such file
//! the change adds, removes or modifies is named in the report
//! (`scan.compare.gate_changes`) for the reviewers; the scan is not failed
//! for it, as a reviewed change of policy is legitimate.

use serde::{Deserialize, Serialize};

use crate::sources::git::DeclaredTree;
use crate::sources::git::OpenTree;

/// Paths relative to the declared repository's root.
#[derive(Debug, Clone, Default)]
pub struct GateInputs {
    /// The config file and the baseline files.
    pub files: Vec<String>,
    /// Policy folders: every `.rego` file under them.
    pub dirs: Vec<String>,
}

impl GateInputs {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
}

/// One input of the gate the change touches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GateChange {
    pub path: String,
    /// `added`, `removed` or `modified`.
    pub change: String,
}

/// The gate inputs that differ between the head's tree and the base's.
/// Nothing when either tree cannot be opened (the base's errors are already
/// the scan's).
pub fn changes(head: &DeclaredTree, base: &DeclaredTree, inputs: &GateInputs) -> Vec<GateChange> {
    if inputs.is_empty() {
        return Vec::new();
    }
    let (Ok(head), Ok(base)) = (OpenTree::open(head), OpenTree::open(base)) else {
        return Vec::new();
    };
    let under = |tree: &OpenTree| -> Vec<String> {
        let mut paths: Vec<String> = inputs
            .files
            .iter()
            .filter(|p| tree.entries.files.binary_search(p).is_ok())
            .cloned()
            .collect();
        for dir in &inputs.dirs {
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{}/", dir.trim_end_matches('/'))
            };
            paths.extend(
                tree.entries
                    .files
                    .iter()
                    .filter(|p| p.starts_with(&prefix) && p.ends_with(".rego"))
                    .cloned(),
            );
        }
        paths.sort();
        paths.dedup();
        paths
    };
    let (in_head, in_base) = (under(&head), under(&base));
    let mut changed = Vec::new();
    for path in &in_head {
        let change = if in_base.binary_search(path).is_err() {
            "added"
        } else if head.read(path).ok() != base.read(path).ok() {
            "modified"
        } else {
            continue;
        };
        changed.push(GateChange {
            path: path.clone(),
            change: change.into(),
        });
    }
    for path in in_base.iter().filter(|p| in_head.binary_search(p).is_err()) {
        changed.push(GateChange {
            path: path.clone(),
            change: "removed".into(),
        });
    }
    changed.sort();
    changed
}
