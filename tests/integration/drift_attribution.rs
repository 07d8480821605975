//! Drift you can act on, against the test API server built from the real
//! kube-apiserver captures (`fixtures/kube-apiserver/`): every change names
//! the field manager that wrote it (managedFields) and the declared line it
//! contradicts; live fields Git does not set are drift when an untrusted
//! manager wrote them; admission-made fields and the API server's own objects
//! are never drift.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::apiserver::{fixture, fixture_json, ApiServer};
use crate::common::{run_in, write, Run};
use serde_json::{json, Value};

/// Manifests applied to the real API server, and what it returned for them.
const APPLIED: [(&str, &str); 5] = [
    ("00-namespace.yaml", "namespace-shop.get.json"),
    ("10-deployment.yaml", "deployment-web.get.json"),
    ("12-configmap.yaml", "configmap-shop-config.get.json"),
    ("13-secret.yaml", "secret-db-credentials.get.json"),
    ("15-cronjob.yaml", "cronjob-db-backup.get.json"),
];

fn repo(root: &Path) {
    for (manifest, _) in APPLIED.iter().chain(&[("19-deployment-worker.yaml", "")]) {
        write(
            root,
            &format!("repo/{manifest}"),
            &fixture(&format!("applied/{manifest}")),
        );
    }
}

/// A server holding the applied objects, `replace` swapping a capture for
/// another object, and `extra` objects besides.
fn server(replace: &[(&str, Value)], extra: &[Value]) -> ApiServer {
    let server = ApiServer::start();
    let captures = APPLIED
        .iter()
        .map(|(_, live)| *live)
        .chain(["deployment-worker.get.json"]);
    for live in captures {
        let object = replace
            .iter()
            .find(|(from, _)| *from == live)
            .map(|(_, to)| to.clone())
            .unwrap_or_else(|| fixture_json(live));
        server.add(object);
    }
    for object in extra {
        server.add(object.clone());
    }
    server
}

fn scan(dir: &Path, server: &ApiServer, extra: &[&str]) -> Run {
    let kubeconfig = server.kubeconfig(dir);
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--kube-context",
        "admin",
        "--now",
        "2026-11-22T00:00:00Z",
        "--fail-on",
        "none",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

fn scan_json(dir: &Path, server: &ApiServer, extra: &[&str]) -> Value {
    let run = scan(dir, server, &[&["--format", "json"], extra].concat());
    let report = run.json();
    assert_eq!(report["coverage"], json!([]), "{}", run.all());
    report
}

/// The drift entries that are not in sync.
fn drifted(report: &Value) -> Vec<Value> {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "in_sync")
        .cloned()
        .collect()
}

fn writer(manager: &str, time: Option<&str>) -> Value {
    json!({"manager": manager, "operation": "Update", "time": time})
}

/// A capture with one more managedFields entry, `fields` owned by `manager`.
fn with_entry(mut object: Value, manager: &str, time: &str, fields: Value) -> Value {
    let api_version = object["apiVersion"].clone();
    object["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"manager": manager, "operation": "Update", "apiVersion": api_version,
                     "time": time, "fieldsType": "FieldsV1", "fieldsV1": fields}),
        );
    object
}

#[test]
fn each_live_change_names_its_manager_time_and_declared_line() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let report = scan_json(dir.path(), &server(&[], &[]), &[]);
    assert_eq!(drifted(&report), Vec::<Value>::new(), "freshly applied");

    for (original, changed, change) in [
        (
            "deployment-web.get.json",
            "deployment-web.after-kubectl-scale.get.json",
            // `kubectl scale` writes through the scale subresource: no time.
            json!({"path": "spec.replicas", "kind": "modified", "declared": 2, "live": 3,
                   "changed_by": {"manager": "kubectl", "operation": "Update", "time": null,
                                  "subresource": "scale"},
                   "location": {"file": "10-deployment.yaml", "line": 7}}),
        ),
        (
            "deployment-worker.get.json",
            "deployment-worker.after-kubectl-set-image.get.json",
            json!({"path": "spec.template.spec.containers[0].image", "kind": "modified",
                   "declared": "nginx:1.25", "live": "nginx:1.27",
                   "changed_by": writer("kubectl-set", Some("2026-11-21T22:04:08Z")),
                   "location": {"file": "19-deployment-worker.yaml", "line": 18}}),
        ),
        (
            "configmap-shop-config.get.json",
            "configmap-shop-config.after-kubectl-patch.get.json",
            json!({"path": "data.LOG_LEVEL", "kind": "modified", "declared": "info", "live": "debug",
                   "changed_by": writer("kubectl-patch", Some("2026-11-21T22:04:08Z")),
                   "location": {"file": "12-configmap.yaml", "line": 7}}),
        ),
        (
            "cronjob-db-backup.get.json",
            "cronjob-db-backup.after-kubectl-patch-suspend.get.json",
            json!({"path": "spec.suspend", "kind": "modified", "declared": false, "live": true,
                   "changed_by": writer("kubectl-patch", Some("2026-11-21T22:04:08Z")),
                   "location": {"file": "15-cronjob.yaml", "line": 8}}),
        ),
    ] {
        let server = server(&[(original, fixture_json(changed))], &[]);
        let report = scan_json(dir.path(), &server, &[]);
        let drifted = drifted(&report);
        assert_eq!(drifted.len(), 1, "{changed}: {drifted:?}");
        assert_eq!(drifted[0]["changes"], json!([change]), "{changed}");
        assert_eq!(drifted[0]["location"]["line"], 1, "{changed}");
    }

    // The text report says the same on the change's line.
    let server = server(
        &[(
            "deployment-web.get.json",
            fixture_json("deployment-web.after-kubectl-scale.get.json"),
        )],
        &[],
    );
    let text = scan(dir.path(), &server, &[]);
    assert!(
        text.stdout
            .contains("spec.replicas: 2 → 3  by kubectl (scale)  (10-deployment.yaml:7)"),
        "{}",
        text.stdout
    );
    let server = self::server(
        &[(
            "cronjob-db-backup.get.json",
            fixture_json("cronjob-db-backup.after-kubectl-patch-suspend.get.json"),
        )],
        &[],
    );
    let text = scan(dir.path(), &server, &[]);
    assert!(
        text.stdout.contains(
            "spec.suspend: false → true  by kubectl-patch at 2026-11-21T22:04:08Z  (15-cronjob.yaml:8)"
        ),
        "{}",
        text.stdout
    );
}

#[test]
fn out_of_band_fields_are_drift_with_their_manager() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    const CANARY: &str = "canary-token-value-5150";
    let canary_b64 = "Y2FuYXJ5LXRva2VuLXZhbHVlLTUxNTA=";

    // `kubectl label deployment web team=blue`.
    let mut web = fixture_json("deployment-web.get.json");
    web["metadata"]["labels"] = json!({"team": "blue"});
    let web = with_entry(
        web,
        "kubectl-label",
        "2026-11-21T22:05:00Z",
        json!({"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}),
    );
    // `kubectl patch configmap shop-config` adding a key.
    let mut config = fixture_json("configmap-shop-config.get.json");
    config["data"]["EXTRA_FLAG"] = json!("on");
    let config = with_entry(
        config,
        "kubectl-patch",
        "2026-11-21T22:05:01Z",
        json!({"f:data": {"f:EXTRA_FLAG": {}}}),
    );
    // `kubectl patch secret db-credentials` adding a key.
    let mut secret = fixture_json("secret-db-credentials.get.json");
    secret["data"]["API_TOKEN"] = json!(canary_b64);
    let secret = with_entry(
        secret,
        "kubectl-patch",
        "2026-11-21T22:05:02Z",
        json!({"f:data": {"f:API_TOKEN": {}}}),
    );
    // A CronJob field Git does not set, changed by a dashboard; and a
    // replica count a trusted controller set on the worker (the HPA's).
    let mut cronjob = fixture_json("cronjob-db-backup.get.json");
    cronjob["spec"]["startingDeadlineSeconds"] = json!(30);
    let cronjob = with_entry(
        cronjob,
        "dashboard",
        "2026-11-21T22:05:03Z",
        json!({"f:spec": {"f:startingDeadlineSeconds": {}}}),
    );
    let server = server(
        &[
            ("deployment-web.get.json", web),
            ("configmap-shop-config.get.json", config),
            ("secret-db-credentials.get.json", secret),
            ("cronjob-db-backup.get.json", cronjob),
        ],
        &[],
    );
    let run = scan(dir.path(), &server, &["--format", "json"]);
    for shown in [&run.stdout, &run.stderr] {
        assert!(!shown.contains(CANARY) && !shown.contains(canary_b64));
    }
    let report = run.json();
    let changes: BTreeMap<String, Value> = drifted(&report)
        .iter()
        .map(|d| {
            (
                d["resource"]["name"].as_str().unwrap().to_string(),
                d["changes"].clone(),
            )
        })
        .collect();
    let first_line = |file: &str| json!({"file": file, "line": 1});
    let expected: BTreeMap<String, Value> = [
        (
            "shop-config",
            json!([{"path": "data.EXTRA_FLAG", "kind": "added", "declared": null, "live": "on",
                    "changed_by": writer("kubectl-patch", Some("2026-11-21T22:05:01Z")),
                    "location": first_line("12-configmap.yaml")}]),
        ),
        (
            "db-credentials",
            json!([{"path": "data.API_TOKEN", "kind": "added", "declared": null,
                    "live": "<redacted: changed>",
                    "changed_by": writer("kubectl-patch", Some("2026-11-21T22:05:02Z")),
                    "location": first_line("13-secret.yaml")}]),
        ),
        (
            "web",
            json!([{"path": "metadata.labels.team", "kind": "added", "declared": null,
                    "live": "blue",
                    "changed_by": writer("kubectl-label", Some("2026-11-21T22:05:00Z")),
                    "location": first_line("10-deployment.yaml")}]),
        ),
        (
            "db-backup",
            json!([{"path": "spec.startingDeadlineSeconds", "kind": "added", "declared": null,
                    "live": 30,
                    "changed_by": writer("dashboard", Some("2026-11-21T22:05:03Z")),
                    "location": first_line("15-cronjob.yaml")}]),
        ),
    ]
    .into_iter()
    .map(|(name, changes)| (name.to_string(), changes))
    .collect();
    assert_eq!(changes, expected);
}
