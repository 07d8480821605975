//! `helm` settings, shared by the config's `git.helm` and each environment's
//! `helm`: how the Helm charts of the declared tree are rendered.

use serde::Deserialize;

/// How charts are rendered with `helm template`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HelmSetting {
    /// Values files (paths relative to the repository root), passed in order
    /// with `--values`.
    pub values: Vec<String>,
    /// Release name (default: the chart folder's name).
    pub release: Option<String>,
}
