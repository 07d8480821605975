//! Every workload kind is checked by the rules that look at pods, through the
//! real binary: ReplicationController, PodTemplate, OpenShift DeploymentConfig,
//! Argo Rollout, a Pod's ephemeral containers, a custom resource whose pod
//! spec path is configured, and a Job declared with `generateName` (an Argo CD
//! hook), which is evaluated but left out of drift.

use serde_json::{json, Value};

use std::path::Path;

use crate::common::{run, run_in, snapshot_json, write, Run};

/// A repository holding one workload of each new kind, each with one problem.
fn repository(root: &Path) {
    write(
        root,
        "repo/legacy/rc.yaml",
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: legacy\n  namespace: shop\nspec:\n  replicas: 1\n  template:\n    metadata:\n      labels: {app: legacy}\n    spec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n        - name: main\n          image: registry.example.com/legacy:1.0\n          securityContext:\n            privileged: true\n",
    );
    write(
        root,
        "repo/templates/podtemplate.yaml",
        "apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: sniffer\n  namespace: shop\ntemplate:\n  metadata:\n    labels: {app: sniffer}\n  spec:\n    hostNetwork: true\n    securityContext: {runAsNonRoot: true}\n    containers:\n      - name: main\n        image: registry.example.com/sniffer:2.1\n",
    );
    write(
        root,
        "repo/openshift/dc.yaml",
        "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata:\n  name: frontend\n  namespace: shop\nspec:\n  replicas: 2\n  selector: {app: frontend}\n  template:\n    metadata:\n      labels: {app: frontend}\n    spec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n        - name: web\n          image: registry.example.com/frontend:latest\n",
    );
    write(
        root,
        "repo/rollouts/rollout.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: checkout\n  namespace: shop\nspec:\n  replicas: 3\n  strategy:\n    canary: {steps: [{setWeight: 20}]}\n  template:\n    metadata:\n      labels: {app: checkout}\n    spec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n        - name: app\n          image: nginx\n---\n# Points at a Deployment: no pod template of its own, nothing to check in it.\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: by-reference\n  namespace: shop\nspec:\n  workloadRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: checkout\n",
    );
    write(
        root,
        "repo/debug/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debugged\n  namespace: shop\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n    - name: app\n      image: registry.example.com/app:3.2\n  ephemeralContainers:\n    - name: debugger\n      image: registry.example.com/busybox:1.36\n      securityContext:\n        privileged: true\n",
    );
    write(
        root,
        "repo/crd/webapp.yaml",
        "apiVersion: platform.example.com/v1\nkind: WebApp\nmetadata:\n  name: storefront\n  namespace: shop\nspec:\n  runtime:\n    podSpec:\n      securityContext: {runAsNonRoot: true}\n      containers:\n        - name: web\n          image: registry.example.com/storefront:5.0\n          securityContext:\n            privileged: true\n",
    );
    write(
        root,
        "repo/hooks/migrate.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: migrate-settings\n  namespace: shop\ndata:\n  MODE: online\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: db-migrate-\n  namespace: shop\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      securityContext: {runAsNonRoot: true}\n      containers:\n        - name: migrate\n          image: registry.example.com/migrate:1.4\n          securityContext:\n            privileged: true\n",
    );
    write(
        root,
        "driftaudit.yaml",
        "workloads:\n  - group: platform.example.com\n    kind: WebApp\n    pod_spec_path: spec.runtime.podSpec\n",
    );
}

/// The name the generateName Job is given: its prefix, file and position.
const HOOK_JOB: &str = "db-migrate-<hooks/migrate.yaml#2>";

/// `(rule, kind, name, path)` of every finding.
fn findings(report: &Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&f["rule"]),
                text(&f["resource"]["kind"]),
                text(&f["resource"]["name"]),
                text(&f["path"]),
            )
        })
        .collect()
}

/// `scan` of the repository with its config, as JSON, with `extra` arguments.
fn scan(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--config",
        "driftaudit.yaml",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

/// The one finding on the resource named `name`.
fn finding_on<'a>(report: &'a Value, name: &str) -> &'a Value {
    let on: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["name"] == name)
        .collect();
    assert_eq!(on.len(), 1, "{on:#?}");
    on[0]
}

fn finding(rule: &str, kind: &str, name: &str, path: &str) -> (String, String, String, String) {
    (rule.into(), kind.into(), name.into(), path.into())
}

#[test]
fn every_workload_kind_is_flagged_by_the_right_rule() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    let r = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    let report = r.json();
    assert_eq!(report["errors"], json!([]), "{}", r.stdout);
    let found = findings(&report);
    let expected = [
        finding(
            "DA-PRIV-001",
            "ReplicationController",
            "legacy",
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
        finding(
            "DA-PRIV-002",
            "PodTemplate",
            "sniffer",
            "template.spec.hostNetwork",
        ),
        finding(
            "DA-IMG-002",
            "DeploymentConfig",
            "frontend",
            "spec.template.spec.containers[0].image",
        ),
        finding(
            "DA-IMG-002",
            "Rollout",
            "checkout",
            "spec.template.spec.containers[0].image",
        ),
        finding(
            "DA-PRIV-001",
            "Pod",
            "debugged",
            "spec.ephemeralContainers[0].securityContext.privileged",
        ),
        finding(
            "DA-PRIV-001",
            "WebApp",
            "storefront",
            "spec.runtime.podSpec.containers[0].securityContext.privileged",
        ),
        finding(
            "DA-PRIV-001",
            "Job",
            HOOK_JOB,
            "spec.template.spec.containers[0].securityContext.privileged",
        ),
    ];
    for wanted in &expected {
        assert!(found.contains(wanted), "{wanted:?} not in {found:#?}");
    }
    // Nothing else: each workload has exactly its one problem, and the Rollout
    // that points at a Deployment has nothing to check.
    assert_eq!(found.len(), expected.len(), "{found:#?}");

    // Findings point at the line of the field, the hook Job's in its own document.
    let hook = finding_on(&report, HOOK_JOB);
    assert_eq!(
        hook["location"],
        json!({"file": "hooks/migrate.yaml", "line": 26})
    );
    assert_eq!(hook["message"], "container \"migrate\" runs privileged");
}

#[test]
fn a_custom_resource_is_checked_only_once_configured() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    write(dir.path(), "driftaudit.yaml", "version: 1\n");
    let r = scan(dir.path(), &[]);
    let report = r.json();
    let found = findings(&report);
    assert!(
        !found.iter().any(|f| f.1 == "WebApp"),
        "not configured, so not a workload: {found:#?}"
    );
    assert!(found.iter().any(|f| f.1 == "ReplicationController"));

    // A path that is not one is refused where it is written.
    write(
        dir.path(),
        "driftaudit.yaml",
        "workloads:\n  - {group: platform.example.com, kind: WebApp, pod_spec_path: \"spec.pods[*]\"}\n",
    );
    let r = run_in(
        dir.path(),
        &["scan", "--repo", "repo", "--config", "driftaudit.yaml"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("driftaudit.yaml:2:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("workloads[0].pod_spec_path"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_generate_name_job_is_in_no_drift_entry() {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    let job = |name: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": name, "namespace": "shop", "uid": "1"},
               "spec": {"template": {"spec": {"restartPolicy": "Never",
                   "containers": [{"name": "migrate", "image": "registry.example.com/migrate:1.4"}]}}}})
    };
    let settings = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "migrate-settings", "namespace": "shop"}, "data": {"MODE": "online"}});
    // The hook's last run (the API server's suffix on the prefix) and a Job
    // nobody declared.
    write(
        dir.path(),
        "live.json",
        &snapshot_json("prod", &[settings, job("db-migrate-x7k2p"), job("stray")]),
    );
    let r = scan(dir.path(), &["--live-snapshot", "live.json"]);
    let report = r.json();
    assert_eq!(report["errors"], json!([]), "{}", r.stdout);
    let drift: Vec<(String, String)> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["resource"]["name"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        !drift
            .iter()
            .any(|(name, _)| name.starts_with("db-migrate-")),
        "{drift:#?}"
    );
    // The rest of the file and the other Jobs are compared as usual.
    assert!(
        drift.contains(&("migrate-settings".into(), "in_sync".into())),
        "{drift:#?}"
    );
    assert!(
        drift.contains(&("stray".into(), "unmanaged".into())),
        "{drift:#?}"
    );
    assert!(
        drift.contains(&("legacy".into(), "missing".into())),
        "{drift:#?}"
    );
    // Still evaluated, for the live target.
    let hook = finding_on(&report, HOOK_JOB);
    assert_eq!(hook["rule"], "DA-PRIV-001");
    assert_eq!(hook["states"], json!(["declared"]));
}

#[test]
fn policy_list_names_every_workload_kind() {
    let r = run(&["policy", "list", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rules = r.json();
    for id in ["DA-PRIV-001", "DA-IMG-002"] {
        let rule = rules
            .as_array()
            .unwrap()
            .iter()
            .find(|rule| rule["id"] == id)
            .unwrap();
        for kind in [
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "DeploymentConfig",
            "Rollout",
            "CronJob",
        ] {
            assert!(
                rule["kinds"].as_array().unwrap().contains(&json!(kind)),
                "{id}: {}",
                rule["kinds"]
            );
        }
    }
}
