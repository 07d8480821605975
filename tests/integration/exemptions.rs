//! Exemptions are visible, through the real binary: what a baseline exemption
//! covers is reported as a suppressed finding with its reason, counted, and
//! never fails the scan; RBAC that grants everything or into another
//! namespace is never exempt; the built-in ClusterRoles are exempt by their
//! content, not by a `system:` name anyone can choose.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{run_in, write, Run};

/// A privileged Pod in `namespace`, otherwise clean (pinned image, non-root).
fn privileged_pod(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  securityContext: {{runAsNonRoot: true}}\n  containers:\n    - name: agent\n      image: registry.example.com/agent:1.2\n      securityContext:\n        privileged: true\n"
    )
}

/// The real rules of Kubernetes' system:controller:namespace-controller.
const NAMESPACE_CONTROLLER: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:controller:namespace-controller\n  annotations:\n    rbac.authorization.kubernetes.io/autoupdate: \"true\"\n  labels:\n    kubernetes.io/bootstrapping: rbac-defaults\nrules:\n  - apiGroups: [\"\"]\n    resources: [namespaces]\n    verbs: [delete, get, list, watch]\n  - apiGroups: [\"\"]\n    resources: [namespaces/finalize, namespaces/status]\n    verbs: [update]\n  - apiGroups: [\"*\"]\n    resources: [\"*\"]\n    verbs: [delete, deletecollection, get, list, watch]\n";

fn scan(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--repo", "repo"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

fn rules_of(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["resource"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(rule: &str, name: &str) -> (String, String) {
    (rule.into(), name.into())
}

#[test]
fn a_privileged_pod_in_kube_system_is_a_suppressed_finding_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/cni.yaml",
        &privileged_pod("cni", "kube-system"),
    );
    let r = scan(dir.path(), &["--format", "json"]);
    assert_eq!(r.code, 0, "suppressed findings never fail: {}", r.all());
    let report = r.json();
    assert_eq!(report["findings"], json!([]), "{}", r.stdout);
    assert_eq!(report["summary"]["result"], "pass");
    assert_eq!(report["summary"]["findings"]["total"], 0);
    assert_eq!(report["summary"]["findings"]["suppressed"], 1);
    let suppressed = report["suppressed_findings"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    let finding = &suppressed[0];
    assert_eq!(finding["rule"], "DA-PRIV-001");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(finding["resource"]["namespace"], "kube-system");
    assert_eq!(finding["message"], "container \"agent\" runs privileged");
    assert_eq!(
        finding["location"],
        json!({"file": "cni.yaml", "line": 12}),
        "it still points at the line"
    );
    let suppression = &finding["suppression"];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["by"], "privileges.exempt_namespaces");
    assert!(
        suppression["reason"]
            .as_str()
            .unwrap()
            .starts_with("kube-system runs the control plane"),
        "{suppression}"
    );

    // Text: counted in its own line and in the footer, listed on request.
    let text = scan(dir.path(), &[]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout.contains(
            "\nSUPPRESSED  1 — covered by an exemption, not failing the scan (--list-suppressed lists them)\n"
        ),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("runs privileged"), "{}", text.stdout);
    assert!(
        text.stdout.contains("info; 1 suppressed\nPASS (exit 0)"),
        "{}",
        text.stdout
    );
    let listed = scan(dir.path(), &["--list-suppressed"]);
    assert!(
        listed
            .stdout
            .contains("CRITICAL DA-PRIV-001 Pod kube-system/cni"),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stdout.contains(
            "suppressed by privileges.exempt_namespaces: kube-system runs the control plane"
        ),
        "{}",
        listed.stdout
    );
}

#[test]
fn suppressed_findings_do_not_hide_the_others_or_decide_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/cni.yaml",
        &privileged_pod("cni", "kube-system"),
    );
    write(dir.path(), "repo/app.yaml", &privileged_pod("app", "shop"));
    let r = scan(dir.path(), &["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let report = r.json();
    assert_eq!(rules_of(&report["findings"]), [pair("DA-PRIV-001", "app")]);
    assert_eq!(
        rules_of(&report["suppressed_findings"]),
        [pair("DA-PRIV-001", "cni")]
    );
    assert_eq!(report["summary"]["findings"]["critical"], 1);
    assert_eq!(report["summary"]["findings"]["suppressed"], 1);
    // A baseline that exempts nothing turns it back into a finding.
    write(
        dir.path(),
        "none.yaml",
        "privileges:\n  exempt_namespaces: []\n",
    );
    let r = scan(dir.path(), &["--format", "json", "--baseline", "none.yaml"]);
    let report = r.json();
    assert_eq!(
        rules_of(&report["findings"]),
        // sorted by resource: kube-system before shop
        [pair("DA-PRIV-001", "cni"), pair("DA-PRIV-001", "app")]
    );
    assert_eq!(report["suppressed_findings"], json!([]));
}

/// Scans a repository holding only `yaml`, which must give exactly one
/// finding, of `rule` on `name`, that counts (exit 1, nothing suppressed);
/// returns its message.
fn reported_alone(yaml: &str, rule: &str, name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/rbac.yaml", yaml);
    let r = scan(dir.path(), &["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let report = r.json();
    assert_eq!(report["suppressed_findings"], json!([]), "{}", r.stdout);
    assert_eq!(rules_of(&report["findings"]), [pair(rule, name)]);
    report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_kube_system_binding_granting_cluster_admin_to_another_namespace_is_reported() {
    let message = reported_alone(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: backdoor\n  namespace: kube-system\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: deployer\n    namespace: shop\n",
        "DA-PRIV-008",
        "backdoor",
    );
    assert!(
        message.ends_with(
            "(not exempt by privileges.exempt_namespaces: it grants the ClusterRole cluster-admin, which allows \"*\" on \"*\")"
        ),
        "{message}"
    );
    assert!(
        message.contains("ServiceAccount shop/deployer"),
        "{message}"
    );
}

#[test]
fn a_cluster_role_named_system_evil_is_reported_and_says_why() {
    let message = reported_alone(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:evil\nrules:\n  - apiGroups: [\"*\"]\n    resources: [\"*\"]\n    verbs: [\"*\"]\n",
        "DA-PRIV-009",
        "system:evil",
    );
    assert_eq!(
        message,
        "ClusterRole \"system:evil\" rule 0 grants \"*\" in apiGroups, resources, verbs; not exempt: \"system:evil\" is not a ClusterRole Kubernetes creates with \"*\" rules (privileges.builtin_roles); a system: name alone exempts nothing"
    );
}

#[test]
fn the_built_in_namespace_controller_role_is_suppressed_by_its_content() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/builtin.yaml", NAMESPACE_CONTROLLER);
    let r = scan(dir.path(), &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    assert_eq!(report["findings"], json!([]), "{}", r.stdout);
    let suppressed = report["suppressed_findings"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{suppressed:#?}");
    assert_eq!(suppressed[0]["rule"], "DA-PRIV-009");
    assert_eq!(suppressed[0]["path"], "rules[2]");
    assert_eq!(
        suppressed[0]["suppression"],
        json!({
            "kind": "external",
            "by": "privileges.builtin_roles",
            "reason": "a rule of the built-in ClusterRole system:controller:namespace-controller, as Kubernetes creates it"
        })
    );

    // The same name granting "*" verbs too is not the built-in role.
    let widened = NAMESPACE_CONTROLLER.replace(
        "verbs: [delete, deletecollection, get, list, watch]",
        "verbs: [\"*\"]",
    );
    let message = reported_alone(
        &widened,
        "DA-PRIV-009",
        "system:controller:namespace-controller",
    );
    assert!(
        message.ends_with("not exempt: Kubernetes' built-in ClusterRole system:controller:namespace-controller has no such rule (privileges.builtin_roles)"),
        "{message}"
    );
}
