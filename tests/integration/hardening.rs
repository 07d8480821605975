//! The workload hardening rules (DA-HARD-*, policies/hardening.rego) through
//! the binary: off by default, and with a baseline turning them on each one
//! fires on the bad workload, at its field's line, and none on the good one.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{findings_for, run_in, write};

const WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
  namespace: default
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/app:1
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: db, key: password}
          envFrom:
            - secretRef: {name: api-keys}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: good
  namespace: shop
spec:
  template:
    spec:
      serviceAccountName: good
      automountServiceAccountToken: false
      containers:
        - name: app
          image: registry.example.com/app:1
          securityContext: {readOnlyRootFilesystem: true}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: \"1\", memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          env:
            - name: MODE
              value: prod
";

const ALL_ON: &str = "\
hardening:
  read_only_root_filesystem: true
  resources: true
  probes: true
  automount_service_account_token: true
  default_namespace: true
  default_service_account: true
  secrets_in_env: true
";

/// Scans the repo, with a baseline file when given, as JSON.
fn scan(dir: &std::path::Path, baseline: Option<&str>) -> Value {
    let mut args: Vec<&str> = "scan --repo repo --format json --fail-on none"
        .split(' ')
        .collect();
    if let Some(text) = baseline {
        write(dir, "baseline.yaml", text);
        args.extend(["--baseline", "baseline.yaml"]);
    }
    let r = run_in(dir, &args);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{}", r.stdout);
    report
}

/// `<rule> <path> :<line>` of every DA-HARD finding on the workload `name`.
fn hardening(report: &Value, name: &str) -> BTreeSet<String> {
    let line = |f: &Value| f["location"]["line"].as_u64().unwrap_or(0);
    findings_for(report, "DA-HARD-", name)
        .into_iter()
        .map(|f| {
            format!(
                "{} {} :{}",
                f["rule"].as_str().unwrap(),
                f["path"].as_str().unwrap(),
                line(f)
            )
        })
        .collect()
}

#[test]
fn hardening_rules_are_off_by_default_and_each_fires_on_the_bad_workload_only() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/workloads.yaml", WORKLOADS);

    let off = scan(dir.path(), None);
    assert_eq!(hardening(&off, "bad"), BTreeSet::new());

    let report = scan(dir.path(), Some(ALL_ON));
    let found = hardening(&report, "bad");
    assert_eq!(hardening(&report, "good"), BTreeSet::new(), "{report:#}");
    let c = "spec.template.spec.containers[0]";
    let p = "spec.template.spec";
    let expected: BTreeSet<String> = [
        (
            "DA-HARD-001",
            format!("{c}.securityContext.readOnlyRootFilesystem"),
            10,
        ),
        ("DA-HARD-002", format!("{c}.resources.requests.cpu"), 10),
        ("DA-HARD-002", format!("{c}.resources.requests.memory"), 10),
        ("DA-HARD-002", format!("{c}.resources.limits.cpu"), 10),
        ("DA-HARD-002", format!("{c}.resources.limits.memory"), 10),
        ("DA-HARD-003", format!("{c}.livenessProbe"), 10),
        ("DA-HARD-003", format!("{c}.readinessProbe"), 10),
        (
            "DA-HARD-004",
            format!("{p}.automountServiceAccountToken"),
            8,
        ),
        ("DA-HARD-005", "metadata.namespace".to_string(), 5),
        ("DA-HARD-006", format!("{p}.serviceAccountName"), 8),
        (
            "DA-HARD-007",
            format!("{c}.env[0].valueFrom.secretKeyRef"),
            15,
        ),
        ("DA-HARD-007", format!("{c}.envFrom[0].secretRef"), 17),
    ]
    .into_iter()
    .map(|(rule, path, line)| format!("{rule} {path} :{line}"))
    .collect();
    assert_eq!(found, expected, "{report:#}");

    // Messages name the container and the field, never a Secret's value.
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DA-HARD-007")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("\"DB_PASSWORD\"")
            && m.contains("Secret \"db\"")
            && m.contains("container \"app\"")),
        "{messages:?}"
    );

    // A namespace exemption of the section suppresses them, never hides them.
    let exempt = format!("{ALL_ON}  exempt_namespaces: [{{name: default, reason: legacy}}]\n");
    let report = scan(dir.path(), Some(&exempt));
    assert_eq!(hardening(&report, "bad"), BTreeSet::new(), "{report:#}");
    let suppressed = report["suppressed_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("DA-HARD-"))
        .count();
    assert_eq!(suppressed, expected.len(), "{report:#}");
}

/// DA-HARD-008 looks at the whole inventory: a namespace that runs workloads
/// and has no NetworkPolicy is reported once; one with a policy is not.
#[test]
fn a_namespace_with_workloads_and_no_network_policy_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/workloads.yaml", WORKLOADS);
    write(
        dir.path(),
        "repo/shop-policy.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    );
    let messages = |report: &Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "DA-HARD-008")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(messages(&scan(dir.path(), None)).is_empty());
    let report = scan(dir.path(), Some("hardening:\n  network_policy: true\n"));
    assert_eq!(
        messages(&report),
        ["namespace default runs 1 workload(s) (Deployment/bad) and has no NetworkPolicy, declared or live: its pods accept traffic from anywhere"],
        "{report:#}"
    );
}
