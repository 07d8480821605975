//! Kubernetes: manifests in Git (plain or rendered by kustomize) and the
//! objects a cluster serves. This module builds every Kubernetes resource
//! (`kubernetes_resource`) and says how drift treats them (`RULES`).

pub mod args;
pub mod helm;
pub mod helm_setting;
pub mod kustomize;
pub mod live;
pub mod managed;
pub mod normalize;
mod resource;
mod rules;

pub use live::{collect, read_plan, KubeOptions, ReadPlan, DEFAULT_ORPHAN_KINDS};
pub use resource::{
    declared_kubernetes_resource, is_cluster_scoped, kubernetes_resource, ManifestError,
    MissingName,
};
pub use rules::KubernetesRules;

/// How drift treats Kubernetes objects.
pub static RULES: KubernetesRules = KubernetesRules;

/// Kubernetes in `sources::registry`: plain manifests are its own (read by
/// `sources::declared`), it reads no `driftaudit.io` document.
pub const ENTRY: crate::sources::rules::SourceEntry = crate::sources::rules::SourceEntry {
    rules: &RULES,
    documents: &[],
};
