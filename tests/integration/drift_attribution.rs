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
    // `driftaudit diff` shows the label too.
    let web_diff = drifted(&report)
        .into_iter()
        .find(|d| d["resource"]["name"] == "web")
        .unwrap()["diff"]
        .clone();
    assert!(
        web_diff.as_str().unwrap().contains("+    team: blue"),
        "{web_diff}"
    );
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

const POD_YAML: &str = "apiVersion: v1
kind: Pod
metadata:
  name: toolbox
  namespace: default
spec:
  containers:
    - name: main
      image: registry.example.com/toolbox:1.0
      volumeMounts:
        - name: cache
          mountPath: /cache
  volumes:
    - name: cache
      emptyDir: {}
";

/// The Pod of `POD_YAML` as the API server returns it after `kubectl apply`:
/// admission added the service-account token volume and its mount, the
/// default tolerations, and the Pod defaults. (No Pod was captured: the
/// capture ran without a scheduler or kubelet; this follows the shape the
/// ServiceAccount and DefaultTolerationSeconds admission plugins write.)
fn applied_pod() -> Value {
    let token = "kube-api-access-x7k2p";
    json!({"kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "toolbox", "namespace": "default", "uid": "5b0e2f7c-0000-4000-8000-000000000001",
            "resourceVersion": "812", "creationTimestamp": "2026-11-21T22:06:00Z",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                "apiVersion": "v1", "time": "2026-11-21T22:06:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"main\"}": {".": {}, "f:image": {},
                        "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {},
                        "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {},
                        "f:volumeMounts": {".": {}, "k:{\"mountPath\":\"/cache\"}": {".": {}, "f:mountPath": {}, "f:name": {}}}}},
                        "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {},
                        "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {},
                        "f:volumes": {".": {}, "k:{\"name\":\"cache\"}": {".": {}, "f:emptyDir": {}, "f:name": {}}}}}}]},
        "spec": {
            "volumes": [
                {"name": "cache", "emptyDir": {}},
                {"name": token, "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
                    "defaultMode": 420}}],
            "containers": [{"name": "main", "image": "registry.example.com/toolbox:1.0", "resources": {},
                "volumeMounts": [
                    {"name": "cache", "mountPath": "/cache"},
                    {"name": token, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent"}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"},
        "status": {"phase": "Pending", "qosClass": "BestEffort"}})
}

/// The Service the API server keeps for itself in `default`.
fn kubernetes_service() -> Value {
    json!({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "kubernetes", "namespace": "default", "uid": "9d1c3a52-0000-4000-8000-000000000002",
            "resourceVersion": "193", "creationTimestamp": "2026-11-21T22:01:02Z",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
            "managedFields": [{"manager": "kube-apiserver", "operation": "Update", "apiVersion": "v1",
                "time": "2026-11-21T22:01:02Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:component": {}, "f:provider": {}}},
                    "f:spec": {"f:clusterIP": {}, "f:internalTrafficPolicy": {}, "f:ipFamilyPolicy": {},
                        "f:ports": {".": {}, "k:{\"port\":443,\"protocol\":\"TCP\"}": {".": {}, "f:name": {},
                            "f:port": {}, "f:protocol": {}, "f:targetPort": {}}},
                        "f:sessionAffinity": {}, "f:type": {}}}}]},
        "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
            "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP",
            "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}})
}

#[test]
fn admission_made_fields_and_the_api_servers_own_objects_are_not_drift() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    write(dir.path(), "repo/40-pod.yaml", POD_YAML);
    // A Service nobody declares in `default`: the namespace is searched.
    let mut stray = fixture_json("service-web.get.json");
    stray["metadata"]["namespace"] = json!("default");
    stray["metadata"]["name"] = json!("stray");
    let server = server(&[], &[applied_pod(), kubernetes_service(), stray]);
    for mode in [&[][..], &["--strict"][..]] {
        let report = scan_json(dir.path(), &server, mode);
        let pod = report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["resource"]["kind"] == "Pod")
            .unwrap();
        assert_eq!(pod["status"], "in_sync", "{mode:?}: {pod}");
        let unmanaged: Vec<&Value> = report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] == "unmanaged")
            .map(|d| &d["resource"]["name"])
            .collect();
        assert_eq!(unmanaged, [&json!("stray")], "{mode:?}");
    }

    // A toleration or a volume someone else adds is still drift.
    let mut changed = applied_pod();
    changed["spec"]["tolerations"].as_array_mut().unwrap().push(
        json!({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}),
    );
    changed["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
            "time": "2026-11-21T22:07:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:tolerations": {}}}}),
        );
    let server = self::server(&[], &[changed]);
    let report = scan_json(dir.path(), &server, &[]);
    let pod = drifted(&report);
    assert_eq!(pod.len(), 1, "{pod:?}");
    assert_eq!(
        pod[0]["changes"],
        json!([{"path": "spec.tolerations", "kind": "added", "declared": null,
                "live": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
                "changed_by": writer("kubectl-edit", Some("2026-11-21T22:07:00Z")),
                "location": {"file": "40-pod.yaml", "line": 1}}])
    );
}

#[test]
fn trusted_managers_strict_mode_and_objects_without_managed_fields() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let mut web = fixture_json("deployment-web.get.json");
    web["metadata"]["labels"] = json!({"team": "blue"});
    let web = with_entry(
        web,
        "kubectl-label",
        "2026-11-21T22:05:00Z",
        json!({"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}),
    );
    // The HPA's replica count on the worker, through the scale subresource.
    let mut worker = fixture_json("deployment-worker.get.json");
    worker["spec"]["replicas"] = json!(4);
    // As the API server does, the write moves `f:replicas` from the applier.
    worker["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
        .as_object_mut()
        .unwrap()
        .remove("f:replicas")
        .unwrap();
    worker["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"manager": "kube-controller-manager", "operation": "Update",
            "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"}),
        );
    let server = server(
        &[
            ("deployment-web.get.json", web.clone()),
            ("deployment-worker.get.json", worker),
        ],
        &[],
    );
    // The worker declares `replicas: 1`: a change, by the controller.
    let report = scan_json(dir.path(), &server, &[]);
    let drifted_now = drifted(&report);
    let names: Vec<&Value> = drifted_now.iter().map(|d| &d["resource"]["name"]).collect();
    assert_eq!(names, [&json!("web"), &json!("worker")]);
    assert_eq!(
        drifted_now[1]["changes"],
        json!([{"path": "spec.replicas", "kind": "modified", "declared": 1, "live": 4,
                "changed_by": {"manager": "kube-controller-manager", "operation": "Update",
                               "time": null, "subresource": "scale"},
                "location": {"file": "19-deployment-worker.yaml", "line": 7}}])
    );

    // A manager the config trusts is not out-of-band.
    write(
        dir.path(),
        "driftaudit.yaml",
        "version: 1\ndrift:\n  trusted_managers: [kubectl-label]\n",
    );
    let report = scan_json(dir.path(), &server, &["--config", "driftaudit.yaml"]);
    assert_eq!(
        drifted(&report)
            .iter()
            .map(|d| d["resource"]["name"].clone())
            .collect::<Vec<_>>(),
        [json!("worker")]
    );

    // Strict mode compares every field whoever wrote it, and still says who.
    let report = scan_json(dir.path(), &server, &["--strict"]);
    let web_drift = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["resource"]["name"] == "web")
        .unwrap()
        .clone();
    assert!(
        web_drift["changes"].as_array().unwrap().contains(
            &json!({"path": "metadata.labels", "kind": "added", "declared": null,
                "live": {"team": "blue"},
                "changed_by": writer("kubectl-label", Some("2026-11-21T22:05:00Z")),
                "location": {"file": "10-deployment.yaml", "line": 1}})
        ),
        "{web_drift}"
    );

    // Without managedFields: today's rules, and the report says so.
    let mut bare = fixture_json("deployment-web.after-kubectl-scale.get.json");
    bare["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    bare["metadata"]["labels"] = json!({"team": "blue"});
    let server = self::server(&[("deployment-web.get.json", bare)], &[]);
    let report = scan_json(dir.path(), &server, &[]);
    let drifted = drifted(&report);
    assert_eq!(drifted.len(), 1);
    assert_eq!(
        drifted[0]["changes"],
        json!([{"path": "spec.replicas", "kind": "modified", "declared": 2, "live": 3,
                "changed_by": null, "location": {"file": "10-deployment.yaml", "line": 7}}])
    );
    assert_eq!(
        drifted[0]["note"],
        "the live object has no managedFields: changes are not attributed and fields Git does not set are not checked"
    );
    let text = scan(dir.path(), &server, &[]);
    assert!(
        text.stdout
            .contains("note: 1 compared object(s) have no managedFields")
            && text
                .stdout
                .contains("spec.replicas: 2 → 3  (10-deployment.yaml:7)"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_snapshot_keeps_managed_fields_and_attributes_offline_as_live() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server = server(
        &[(
            "deployment-web.get.json",
            fixture_json("deployment-web.after-kubectl-scale.get.json"),
        )],
        &[],
    );
    let live = scan_json(dir.path(), &server, &[]);
    let kubeconfig = server.kubeconfig(dir.path());
    let capture = run_in(
        dir.path(),
        &[
            "capture",
            "--repo",
            "repo",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--kube-context",
            "admin",
            "--output",
            "snap.json",
        ],
    );
    assert_eq!(capture.code, 0, "{}", capture.all());
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("snap.json")).unwrap())
            .unwrap();
    let web = snapshot["targets"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"]["kind"] == "Deployment" && r["object"]["metadata"]["name"] == "web")
        .unwrap();
    assert_eq!(
        web["object"]["metadata"]["managedFields"],
        fixture_json("deployment-web.after-kubectl-scale.get.json")["metadata"]["managedFields"]
    );
    let offline = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "snap.json",
            "--format",
            "json",
            "--now",
            "2026-11-22T00:00:00Z",
            "--allow-partial",
        ],
    )
    .json();
    let web_changes = |report: &Value| {
        report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["resource"]["name"] == "web")
            .unwrap()["changes"]
            .clone()
    };
    assert_eq!(web_changes(&offline), web_changes(&live));
    assert_eq!(
        web_changes(&offline)[0]["changed_by"]["subresource"],
        "scale"
    );
}
