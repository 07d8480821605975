//! The RBAC rules (DA-RBAC-*, policies/rbac.rego) through the binary: each
//! flags its own grant at the rule's line, a built-in ClusterRole is
//! recognised by its content (reported as suppressed), and a harmless role
//! gives nothing; a binding to everyone is judged by its role's content.

use std::collections::BTreeSet;

use crate::common::{run_in, write};

const ROLES: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: debugger
rules:
  - apiGroups: [\"\"]
    resources: [pods]
    verbs: [get, list]
  - apiGroups: [\"\"]
    resources: [pods/exec]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
  - apiGroups: [\"\"]
    resources: [secrets]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: deployer
  namespace: shop
rules:
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [rolebindings]
    verbs: [create]
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [roles]
    verbs: [bind]
  - apiGroups: [\"\"]
    resources: [serviceaccounts/token]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:kubelet-api-admin
rules:
  - apiGroups: [\"\"]
    resources: [nodes/log, nodes/metrics, nodes/proxy, nodes/stats]
    verbs: [\"*\"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: viewer
rules:
  - apiGroups: [\"\"]
    resources: [configmaps, pods/log]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:public-info-viewer
rules:
  - nonResourceURLs: [/healthz, /livez, /readyz, /version, /version/]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: public-info
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:public-info-viewer}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:unauthenticated}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: everyone-views
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: viewer}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:authenticated}
";

#[test]
fn each_rbac_rule_flags_its_grant_and_built_in_roles_are_recognised_by_content() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/rbac.yaml", ROLES);
    let r = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    let rbac = |list: &str| -> BTreeSet<(String, String, String, u64)> {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("DA-RBAC-"))
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["resource"]["name"].as_str().unwrap().to_string(),
                    f["path"].as_str().unwrap().to_string(),
                    f["location"]["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let expected: BTreeSet<(String, String, String, u64)> = [
        ("DA-RBAC-002", "debugger", "rules[1]", 9),
        ("DA-RBAC-005", "secret-reader", "rules[0]", 18),
        ("DA-RBAC-001", "deployer", "rules[1]", 31),
        ("DA-RBAC-004", "deployer", "rules[2]", 34),
        ("DA-RBAC-007", "everyone-views", "subjects[0]", 78),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d))
    .collect();
    assert_eq!(rbac("findings"), expected, "{}", r.stdout);
    let suppressed = rbac("suppressed_findings");
    assert_eq!(
        suppressed,
        BTreeSet::from([(
            "DA-RBAC-003".to_string(),
            "system:kubelet-api-admin".to_string(),
            "rules[0]".to_string(),
            43
        )])
    );
}
