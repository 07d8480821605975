//! The built-in workload kinds: where each keeps its pod spec. Rules routed to
//! `custom.kinds: [workloads]` meet these kinds (and the configured custom
//! resources), and `lib.pod_specs` in `policies/lib.rego` reads the table from
//! `data.driftaudit.builtin_workloads`, an index `{group: {kind: [paths]}}`.
//!
//! The table is data rather than a Rego rule because regorus evaluates every
//! rule of an imported package for each query: a table written in Rego was
//! rebuilt for every resource and every package (about 15 % of a scan's
//! instructions, see docs/benchmarks.md), where data costs one lookup.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

/// `(group, kind, pod_spec_path)`; the path is written with dots from the top
/// of the object. An Argo Rollout that points at a Deployment
/// (`spec.workloadRef`) has no pod template: nothing in it is checked (the
/// Deployment is checked on its own).
pub const BUILTIN_WORKLOADS: &[(&str, &str, &str)] = &[
    ("", "Pod", "spec"),
    ("", "PodTemplate", "template.spec"),
    ("", "ReplicationController", "spec.template.spec"),
    ("apps", "Deployment", "spec.template.spec"),
    ("apps", "StatefulSet", "spec.template.spec"),
    ("apps", "DaemonSet", "spec.template.spec"),
    ("apps", "ReplicaSet", "spec.template.spec"),
    ("extensions", "Deployment", "spec.template.spec"),
    ("extensions", "DaemonSet", "spec.template.spec"),
    ("extensions", "ReplicaSet", "spec.template.spec"),
    ("batch", "Job", "spec.template.spec"),
    ("batch", "CronJob", "spec.jobTemplate.spec.template.spec"),
    (
        "apps.openshift.io",
        "DeploymentConfig",
        "spec.template.spec",
    ),
    // OpenShift 3's legacy API served DeploymentConfig as `apiVersion: v1`.
    ("", "DeploymentConfig", "spec.template.spec"),
    ("argoproj.io", "Rollout", "spec.template.spec"),
];

/// The kinds of the built-in table.
pub fn builtin_kinds() -> BTreeSet<String> {
    BUILTIN_WORKLOADS
        .iter()
        .map(|(_, kind, _)| kind.to_string())
        .collect()
}

/// The table as Rego reads it: `{group: {kind: [paths]}}`.
pub fn builtin_index() -> Value {
    let mut index = Map::new();
    for (group, kind, path) in BUILTIN_WORKLOADS {
        let kinds = index
            .entry(group.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object");
        let paths = kinds.entry(kind.to_string()).or_insert_with(|| json!([]));
        paths.as_array_mut().expect("an array").push(json!(path));
    }
    Value::Object(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_holds_every_entry_once() {
        let index = builtin_index();
        let count: usize = index
            .as_object()
            .unwrap()
            .values()
            .flat_map(|kinds| kinds.as_object().unwrap().values())
            .map(|paths| paths.as_array().unwrap().len())
            .sum();
        assert_eq!(count, BUILTIN_WORKLOADS.len());
        assert_eq!(
            index["batch"]["CronJob"],
            json!(["spec.jobTemplate.spec.template.spec"])
        );
        assert_eq!(index[""]["DeploymentConfig"], json!(["spec.template.spec"]));
    }
}
