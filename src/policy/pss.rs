//! Data for the Pod Security Standards rules (`policies/pss.rego`): the value
//! lists of the published standard, and the Pod Security labels of the
//! scanned namespaces.
//!
//! Both are data rather than Rego literals: regorus evaluates every rule of a
//! package for each query, so a table written in Rego would be rebuilt for
//! every resource (see `workloads.rs`), where data costs one lookup.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::model::{Inventory, LiveTarget, Source};

/// The lists of the Pod Security Standards, as `data.driftaudit.pod_security`. A value
/// with a number is allowed from that Kubernetes minor version on (`1.<n>`);
/// the rules compare it with the version they evaluate.
pub fn tables() -> Value {
    json!({
        // Baseline "Capabilities": what containers may add.
        "baseline_capabilities": [
            "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
            "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"
        ],
        // Baseline "Sysctls": the safe set, and the release that added each.
        "safe_sysctls": {
            "kernel.shm_rmid_forced": 0,
            "net.ipv4.ip_local_port_range": 0,
            "net.ipv4.ip_unprivileged_port_start": 0,
            "net.ipv4.tcp_syncookies": 0,
            "net.ipv4.ping_group_range": 0,
            "net.ipv4.ip_local_reserved_ports": 27,
            "net.ipv4.tcp_keepalive_time": 29,
            "net.ipv4.tcp_fin_timeout": 29,
            "net.ipv4.tcp_keepalive_intvl": 29,
            "net.ipv4.tcp_keepalive_probes": 29,
            "net.ipv4.tcp_rmem": 32,
            "net.ipv4.tcp_wmem": 32
        },
        // Baseline "SELinux": the types a pod or container may ask for.
        "selinux_types": {
            "container_t": 0,
            "container_init_t": 0,
            "container_kvm_t": 0,
            "container_engine_t": 31
        },
        // Restricted "Volume Types": the only volume sources allowed.
        "volume_types": {
            "configMap": 0, "csi": 0, "downwardAPI": 0, "emptyDir": 0, "ephemeral": 0,
            "persistentVolumeClaim": 0, "projected": 0, "secret": 0
        },
        // The order of the levels.
        "levels": {"privileged": 0, "baseline": 1, "restricted": 2}
    })
}

/// The package of the Pod Security Standards rules.
pub const PACKAGE: &str = "driftaudit.pss";

/// Where the Pod Security Standards rules can report something: nowhere
/// when `privileges.pod_security.level` is `privileged`, except in the
/// namespaces with `pod-security.kubernetes.io/*` labels when
/// `use_namespace_labels` is on. Elsewhere their package is not evaluated
/// (regorus evaluates every rule of a package for each resource; at the
/// privileged level none can fire). The rules decide the rest.
#[derive(Debug, Clone, Default)]
pub struct PodSecurityScope {
    /// The default level checks something: every namespace.
    everywhere: bool,
    use_labels: bool,
    labelled: BTreeSet<String>,
}

impl PodSecurityScope {
    pub fn new(baselines: &Value) -> PodSecurityScope {
        let settings = &baselines["privileges"]["pod_security"];
        PodSecurityScope {
            // An absent or unreadable level is left to the rules.
            everywhere: settings["level"].as_str() != Some("privileged"),
            use_labels: settings["use_namespace_labels"].as_bool() != Some(false),
            labelled: BTreeSet::new(),
        }
    }

    /// Notes the namespaces with Pod Security labels (`namespace_labels`).
    pub fn read_namespaces(&mut self, namespaces: &Value) {
        let Some(namespaces) = namespaces.as_object() else {
            return;
        };
        for (name, sides) in namespaces {
            let labelled = sides.as_object().is_some_and(|s| {
                s.values()
                    .any(|l| l.as_object().is_some_and(|l| !l.is_empty()))
            });
            if labelled {
                self.labelled.insert(name.clone());
            }
        }
    }

    /// Whether a rule of the family may report a resource of `namespace`.
    pub fn may_apply(&self, namespace: &str) -> bool {
        self.everywhere || (self.use_labels && self.labelled.contains(namespace))
    }
}

/// The label prefix Pod Security Admission reads.
const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// The Pod Security labels of every Namespace the scan saw, as
/// `data.driftaudit.namespaces`: `{<namespace>: {"declared": {labels},
/// "live": {labels}}}`, each side present when that side has the Namespace
/// object, holding only its `pod-security.kubernetes.io/*` labels. With
/// several live targets, the first that has the Namespace gives its live side.
pub fn namespace_labels(declared: &Inventory, targets: &[LiveTarget]) -> Value {
    let mut namespaces: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let sides = std::iter::once(("declared", declared))
        .chain(targets.iter().map(|t| ("live", &t.inventory)));
    for (side, inventory) in sides {
        for resource in inventory.resources.values() {
            let id = &resource.identity;
            if id.source != Source::Kubernetes || id.kind != "Namespace" || !id.group.is_empty() {
                continue;
            }
            let labels: Map<String, Value> = resource
                .body
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|labels| {
                    labels
                        .iter()
                        .filter(|(k, v)| k.starts_with(LABEL_PREFIX) && v.is_string())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            namespaces
                .entry(id.name.clone())
                .or_default()
                .entry(side)
                .or_insert(Value::Object(labels));
        }
    }
    Value::Object(
        namespaces
            .into_iter()
            .map(|(name, sides)| (name, Value::Object(sides)))
            .collect(),
    )
}

/// The groups (and user) that stand for everyone, or every signed-in user.
pub const PUBLIC_SUBJECTS: &[&str] = &[
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
];

/// The rules of every Role and ClusterRole a binding to a public subject
/// (`PUBLIC_SUBJECTS`) refers to, as `data.driftaudit.bound_roles`:
/// `{"declared"|"live": {"ClusterRole/<name>" | "Role/<namespace>/<name>":
/// rules}}`, so the binding's rule can judge the role by its content. Only
/// those roles are copied: a scan without such bindings adds nothing.
pub fn public_bound_roles(declared: &Inventory, targets: &[LiveTarget]) -> Value {
    let mut out = Map::new();
    let sides = std::iter::once(("declared", vec![declared])).chain(std::iter::once((
        "live",
        targets.iter().map(|t| &t.inventory).collect(),
    )));
    for (side, inventories) in sides {
        let mut wanted: Vec<String> = Vec::new();
        for inventory in &inventories {
            for resource in inventory.resources.values() {
                let id = &resource.identity;
                if id.source != Source::Kubernetes
                    || !matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
                {
                    continue;
                }
                let public = resource
                    .body
                    .get("subjects")
                    .and_then(Value::as_array)
                    .is_some_and(|subjects| {
                        subjects.iter().any(|s| {
                            s.get("name")
                                .and_then(Value::as_str)
                                .is_some_and(|n| PUBLIC_SUBJECTS.contains(&n))
                        })
                    });
                let role_ref = resource.body.get("roleRef");
                let kind = role_ref.and_then(|r| r.get("kind")).and_then(Value::as_str);
                let name = role_ref.and_then(|r| r.get("name")).and_then(Value::as_str);
                match (public, kind, name) {
                    (true, Some("ClusterRole"), Some(name)) => {
                        wanted.push(format!("ClusterRole/{name}"))
                    }
                    (true, Some("Role"), Some(name)) => {
                        wanted.push(format!("Role/{}/{name}", id.namespace))
                    }
                    _ => {}
                }
            }
        }
        if wanted.is_empty() {
            continue;
        }
        let mut roles = Map::new();
        for inventory in &inventories {
            for resource in inventory.resources.values() {
                let id = &resource.identity;
                let key = match id.kind.as_str() {
                    "ClusterRole" => format!("ClusterRole/{}", id.name),
                    "Role" => format!("Role/{}/{}", id.namespace, id.name),
                    _ => continue,
                };
                if id.source == Source::Kubernetes && wanted.contains(&key) {
                    let rules = resource.body.get("rules").cloned().unwrap_or(json!([]));
                    roles.entry(key).or_insert(rules);
                }
            }
        }
        out.insert(side.to_string(), Value::Object(roles));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Resource};

    fn namespace(name: &str, labels: Value) -> Resource {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}});
        let origin = Origin::Declared {
            file: "ns.yaml".into(),
            line: 1,
            commit: None,
        };
        Resource::new(
            Source::Kubernetes,
            "v1",
            "Namespace",
            "",
            name,
            body,
            origin,
        )
    }

    #[test]
    fn only_roles_bound_to_public_subjects_are_copied() {
        let origin = || Origin::Declared {
            file: "rbac.yaml".into(),
            line: 1,
            commit: None,
        };
        let rbac = "rbac.authorization.k8s.io/v1";
        let mut declared = Inventory::default();
        let resources = [
            Resource::new(
                Source::Kubernetes,
                rbac,
                "ClusterRoleBinding",
                "",
                "public",
                json!({
                "roleRef": {"kind": "ClusterRole", "name": "viewer"},
                "subjects": [{"kind": "Group", "name": "system:authenticated"}]}),
                origin(),
            ),
            Resource::new(
                Source::Kubernetes,
                rbac,
                "ClusterRoleBinding",
                "",
                "team",
                json!({
                "roleRef": {"kind": "ClusterRole", "name": "editor"},
                "subjects": [{"kind": "Group", "name": "team"}]}),
                origin(),
            ),
            Resource::new(
                Source::Kubernetes,
                rbac,
                "ClusterRole",
                "",
                "viewer",
                json!({"rules": [{"verbs": ["get"]}]}),
                origin(),
            ),
            Resource::new(
                Source::Kubernetes,
                rbac,
                "ClusterRole",
                "",
                "editor",
                json!({"rules": [{"verbs": ["update"]}]}),
                origin(),
            ),
        ];
        for r in resources {
            declared.resources.insert(r.identity.clone(), r);
        }
        assert_eq!(
            public_bound_roles(&declared, &[]),
            json!({"declared": {"ClusterRole/viewer": [{"verbs": ["get"]}]}})
        );
    }

    #[test]
    fn pod_security_rules_are_skipped_only_where_nothing_can_fire() {
        let baselines = |level: &str, labels: bool| json!({"privileges": {"pod_security": {"level": level, "use_namespace_labels": labels}}});
        let labelled = json!({"shop": {"live": {"pod-security.kubernetes.io/warn": "baseline"}},
            "plain": {"declared": {}}});
        let mut scope = PodSecurityScope::new(&baselines("privileged", true));
        scope.read_namespaces(&labelled);
        assert!(scope.may_apply("shop"));
        assert!(!scope.may_apply("plain") && !scope.may_apply("other"));
        let mut scope = PodSecurityScope::new(&baselines("privileged", false));
        scope.read_namespaces(&labelled);
        assert!(!scope.may_apply("shop"));
        let scope = PodSecurityScope::new(&baselines("baseline", false));
        assert!(scope.may_apply("other"));
    }

    #[test]
    fn only_pod_security_labels_of_namespaces_are_kept_per_side() {
        let mut declared = Inventory::default();
        let ns = namespace(
            "shop",
            json!({"pod-security.kubernetes.io/enforce": "restricted", "team": "a"}),
        );
        declared.resources.insert(ns.identity.clone(), ns);
        let value = namespace_labels(&declared, &[]);
        assert_eq!(
            value,
            json!({"shop": {"declared": {"pod-security.kubernetes.io/enforce": "restricted"}}})
        );
    }
}
