//! Live Kubernetes state through the real `kube` client path (kubeconfig, TLS,
//! bearer auth, discovery) against a test API server that answers as the real
//! kube-apiserver did in `fixtures/kube-apiserver/`.

use std::path::Path;

use crate::common::apiserver::{fixture, fixture_json, ApiServer};
use crate::common::{drift_status, run, run_in, write};
use serde_json::{json, Value};

/// The manifests that were applied to the real API server (the payments files
/// aside), and the objects it returned for them.
const APPLIED: [(&str, &str); 13] = [
    ("00-namespace.yaml", "namespace-shop.get.json"),
    ("10-deployment.yaml", "deployment-web.get.json"),
    ("11-service.yaml", "service-web.get.json"),
    ("12-configmap.yaml", "configmap-shop-config.get.json"),
    ("13-secret.yaml", "secret-db-credentials.get.json"),
    ("14-secret-tls.yaml", "secret-shop-tls.get.json"),
    ("15-cronjob.yaml", "cronjob-db-backup.get.json"),
    ("16-serviceaccount.yaml", "serviceaccount-deployer.get.json"),
    (
        "17-clusterrolebinding.yaml",
        "clusterrolebinding-deployer-cluster-admin.get.json",
    ),
    ("18-role-wildcard.yaml", "role-shop-everything.get.json"),
    ("19-deployment-worker.yaml", "deployment-worker.get.json"),
    ("30-ingressroute.yaml", "ingressroute-web.get.json"),
    (
        "31-scheduledbackup.yaml",
        "scheduledbackup-nightly.get.json",
    ),
];

fn applied_repo(root: &Path) {
    for (manifest, _) in APPLIED {
        write(
            root,
            &format!("repo/{manifest}"),
            &fixture(&format!("applied/{manifest}")),
        );
    }
}

fn server_with(replace: &[(&str, &str)]) -> ApiServer {
    let server = ApiServer::start();
    for (_, live) in APPLIED {
        let file = replace
            .iter()
            .find(|(from, _)| *from == live)
            .map(|(_, to)| *to)
            .unwrap_or(live);
        server.add(fixture_json(file));
    }
    server
}

fn only_gets(server: &ApiServer) {
    let requests = server.requests();
    assert!(!requests.is_empty());
    for (method, path, _) in &requests {
        assert_eq!(method, "GET", "{method} {path}: the tool must never write");
    }
}

fn scan_json(dir: &Path, server: &ApiServer, extra: &[&str]) -> (i32, Value) {
    let kubeconfig = server.kubeconfig(dir);
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        "2026-11-22T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--kube-context") {
        args.extend_from_slice(&["--kube-context", "admin"]);
    }
    let result = run_in(dir, &args);
    (result.code, result.json())
}

#[test]
fn freshly_applied_objects_are_in_sync_and_one_live_change_is_exactly_that_change() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    let (_, report) = scan_json(dir.path(), &server, &[]);
    assert_eq!(report["coverage"], json!([]), "{report}");
    assert_eq!(
        report["summary"]["drift"],
        json!({"in_sync": 13, "modified": 0, "missing": 0, "unmanaged": 0}),
        "{}",
        report["drift"]
    );
    only_gets(&server);

    for (live, path, declared, now) in [
        (
            "deployment-web.after-kubectl-scale.get.json",
            "spec.replicas",
            json!(2),
            json!(3),
        ),
        (
            "deployment-worker.after-kubectl-set-image.get.json",
            "spec.template.spec.containers[0].image",
            json!("nginx:1.25"),
            json!("nginx:1.27"),
        ),
        (
            "configmap-shop-config.after-kubectl-patch.get.json",
            "data.LOG_LEVEL",
            json!("info"),
            json!("debug"),
        ),
        (
            "cronjob-db-backup.after-kubectl-patch-suspend.get.json",
            "spec.suspend",
            json!(false),
            json!(true),
        ),
    ] {
        let original = live.split(".after").next().unwrap().to_string() + ".get.json";
        let server = server_with(&[(original.as_str(), live)]);
        let (_, report) = scan_json(dir.path(), &server, &[]);
        let changed: Vec<&Value> = report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] != "in_sync")
            .collect();
        assert_eq!(changed.len(), 1, "{live}: {changed:?}");
        // Who made it and where Git says otherwise: drift_attribution.rs.
        let values: Vec<Value> = changed[0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!({"path": c["path"], "declared": c["declared"], "live": c["live"]}))
            .collect();
        assert_eq!(
            values,
            [json!({"path": path, "declared": declared, "live": now})],
            "{live}"
        );
        only_gets(&server);
    }
}

/// Loads every object of the demo's snapshot into a test API server.
fn demo_server() -> ApiServer {
    let server = ApiServer::start();
    let snapshot: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/live-snapshot.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for resource in snapshot["targets"][0]["resources"].as_array().unwrap() {
        server.add(resource["object"].clone());
    }
    server
}

fn comparable(report: &Value) -> (Value, Value) {
    let mut drift = report["drift"].clone();
    for d in drift.as_array_mut().unwrap() {
        d.as_object_mut().unwrap().remove("target");
    }
    let mut findings = report["findings"].clone();
    for f in findings.as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("targets");
    }
    (drift, findings)
}

#[test]
fn the_demo_read_from_an_api_server_gives_the_snapshot_result_and_capture_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server();
    let kubeconfig = server.kubeconfig(dir.path());
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let common_args = [
        "--repo",
        demo.join("repo").to_str().unwrap(),
        "--config",
        demo.join("driftaudit.yaml").to_str().unwrap(),
        "--now",
        "2026-11-22T00:00:00Z",
    ]
    .map(str::to_string);
    let kube_args = [
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--kube-context",
        "admin",
    ]
    .map(str::to_string);

    let live = run(&[
        &["scan", "--format", "json"][..],
        &common_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &kube_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ]
    .concat());
    assert_eq!(live.code, 1, "{}", live.all());
    let live_report = live.json();
    let snapshot_report = run(&["scan", "--demo", "--format", "json"]).json();
    assert_eq!(comparable(&live_report), comparable(&snapshot_report));
    // The expiring TLS Secret is found from the cluster's copy too.
    assert!(live_report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "DA-CERT-003" && f["states"] == json!(["declared", "live"])));
    assert_eq!(
        drift_status(&live_report, "Deployment", "debug-shell").as_deref(),
        Some("unmanaged")
    );

    // capture → scan --live-snapshot gives what the live scan gave, Secret
    // values compared under the capture's key.
    let snapshot_path = dir.path().join("captured.json");
    let key = write(
        dir.path(),
        "secret.key",
        "a-test-key-of-more-than-32-bytes-0123456789\n",
    );
    let key = key.to_str().unwrap();
    let capture = run(&[
        &[
            "capture",
            "--output",
            snapshot_path.to_str().unwrap(),
            "--secret-key-file",
            key,
        ][..],
        &common_args.iter().map(String::as_str).collect::<Vec<_>>(),
        &kube_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ]
    .concat());
    assert_eq!(capture.code, 0, "{}", capture.all());
    let captured = std::fs::read_to_string(&snapshot_path).unwrap();
    for secret in ["not-a-real-password", "bm90LWEtcmVhbC1wYXNzd29yZA"] {
        assert!(
            !captured.contains(secret),
            "the snapshot holds a secret value"
        );
    }
    let replay = run(&[
        &[
            "scan",
            "--format",
            "json",
            "--live-snapshot",
            snapshot_path.to_str().unwrap(),
            "--secret-key-file",
            key,
        ][..],
        &common_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ]
    .concat());
    assert_eq!(comparable(&replay.json()), comparable(&live_report));
    only_gets(&server);
}

#[test]
fn pagination_and_a_410_during_a_list_still_read_every_object() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    let template = fixture_json("configmap-shop-config.get.json");
    for i in 0..1203 {
        let mut object = template.clone();
        object["metadata"]["name"] = json!(format!("hand-made-{i:04}"));
        server.add(object);
    }
    server.state.lock().unwrap().expire_next_continue = true;
    let (_, report) = scan_json(dir.path(), &server, &[]);
    assert_eq!(
        report["summary"]["drift"]["unmanaged"], 1203,
        "{}",
        report["coverage"]
    );
    assert_eq!(report["coverage"], json!([]));
    let configmap_lists: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/api/v1/namespaces/shop/configmaps?"))
        .map(|(_, path, _)| path)
        .collect();
    // Page 1, page 2 answered 410, then the list starts again: 3 pages.
    assert_eq!(configmap_lists.len(), 5, "{configmap_lists:#?}");
    assert_eq!(
        configmap_lists
            .iter()
            .filter(|p| p.contains("continue="))
            .count(),
        3
    );
    assert!(configmap_lists.iter().all(|p| p.contains("limit=500")));
    only_gets(&server);
}

#[test]
fn throttled_lists_are_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    server.state.lock().unwrap().throttle_lists = 3;
    let (_, report) = scan_json(dir.path(), &server, &[]);
    assert_eq!(
        report["coverage"],
        json!([]),
        "three 429s are absorbed by the retries"
    );
    assert_eq!(report["summary"]["drift"]["in_sync"], 13);
    only_gets(&server);
}

#[test]
fn a_list_throttled_for_good_is_tried_four_times_by_one_retry_layer() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    server.state.lock().unwrap().throttle_lists = u32::MAX;
    let (code, report) = scan_json(dir.path(), &server, &[]);
    assert_eq!(code, 3, "{report}");
    let gap = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["scope"] == "v1 ConfigMap in shop")
        .unwrap_or_else(|| panic!("no ConfigMap gap: {report}"));
    assert!(gap["reason"].as_str().unwrap().contains("429"), "{gap}");
    let configmap_lists = server
        .requests()
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/api/v1/namespaces/shop/configmaps?"))
        .count();
    // driftaudit's own retries only: kube-client's layer would multiply them.
    assert_eq!(configmap_lists, 4);
    only_gets(&server);
}

#[test]
fn a_forbidden_kind_is_a_visible_gap_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    server.forbid("cronjobs", "shop");
    let (code, report) = scan_json(dir.path(), &server, &[]);
    assert_eq!(code, 3, "{report}");
    let gap = &report["coverage"][0];
    assert_eq!(gap["scope"], "batch/v1 CronJob in shop");
    assert!(
        gap["reason"].as_str().unwrap().contains("403 Forbidden"),
        "{gap}"
    );
    assert_eq!(
        drift_status(&report, "CronJob", "db-backup"),
        None,
        "an unread kind is not reported missing"
    );
    assert_eq!(report["summary"]["drift"]["in_sync"], 12);
    let (code, _) = scan_json(dir.path(), &server, &["--allow-partial"]);
    assert_eq!(code, 1, "findings remain once the gap is allowed");
    only_gets(&server);
}

#[test]
fn reader_without_rights_and_an_unreachable_cluster_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    let (code, report) = scan_json(
        dir.path(),
        &server,
        &[
            "--kube-context",
            "admin",
            "--kube-context",
            "down",
            "--kube-timeout",
            "3",
        ],
    );
    assert_eq!(code, 3, "{report}");
    let down: Vec<&Value> = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["target"] == "down")
        .collect();
    assert_eq!(down.len(), 1, "{}", report["coverage"]);
    assert_eq!(down[0]["scope"], "the whole cluster");
    assert_eq!(down[0]["endpoint"], "https://127.0.0.1:9/");
    // The reachable cluster was still fully compared.
    let admin_in_sync = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["target"] == "admin" && d["status"] == "in_sync")
        .count();
    assert_eq!(admin_in_sync, 13);
    assert!(report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["target"] == "admin"));

    let (code, report) = scan_json(dir.path(), &server, &["--kube-context", "reader"]);
    assert_eq!(code, 3);
    assert!(
        report["coverage"].as_array().unwrap().len() >= 10,
        "{}",
        report["coverage"]
    );
    assert!(report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["reason"].as_str().unwrap().contains("403")));
    assert_eq!(
        report["summary"]["drift"]["missing"], 0,
        "nothing is called missing when nothing could be read"
    );
    only_gets(&server);
}

#[test]
fn a_kind_the_cluster_does_not_serve_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    // (The test server serves the Velero CRDs since the operator-status work:
    // a Prometheus operator kind stands for a CRD that is not installed.)
    write(dir.path(), "repo/40-monitor.yaml", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: daily\n  namespace: velero\nspec:\n  endpoints: [{port: web}]\n");
    let server = server_with(&[]);
    let (code, report) = scan_json(dir.path(), &server, &[]);
    assert_eq!(code, 3);
    let gap = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["scope"] == "monitoring.coreos.com/v1 ServiceMonitor")
        .expect("a gap for the CRD");
    assert!(
        gap["reason"]
            .as_str()
            .unwrap()
            .contains("CustomResourceDefinition"),
        "{gap}"
    );
    assert_eq!(drift_status(&report, "ServiceMonitor", "daily"), None);
}

#[test]
fn the_in_cluster_role_only_reads() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rbac.yaml"))
            .unwrap();
    let documents = driftaudit::yaml::parse_documents(&text).unwrap();
    let role = documents
        .iter()
        .find(|d| d.value["kind"] == "ClusterRole")
        .expect("a ClusterRole")
        .value
        .clone();
    let mut resources = std::collections::BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        let verbs: Vec<&str> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            verbs.iter().all(|v| ["get", "list", "watch"].contains(v)),
            "{verbs:?}"
        );
        for resource in rule["resources"].as_array().unwrap() {
            assert_ne!(resource, "*", "the role lists what it reads");
            for group in rule["apiGroups"].as_array().unwrap() {
                resources.insert(format!(
                    "{}/{}",
                    group.as_str().unwrap(),
                    resource.as_str().unwrap()
                ));
            }
        }
    }
    for needed in [
        "apps/deployments",
        "/configmaps",
        "/secrets",
        "batch/cronjobs",
        "rbac.authorization.k8s.io/roles",
        "traefik.io/ingressroutes",
        "postgresql.cnpg.io/scheduledbackups",
    ] {
        assert!(
            resources.contains(needed),
            "{needed} missing from {resources:?}"
        );
    }
}

#[test]
fn a_kubernetes_section_in_the_config_reads_like_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    applied_repo(dir.path());
    let server = server_with(&[]);
    let (code, by_flags) = scan_json(dir.path(), &server, &[]);
    // Exit 1: the applied objects have findings.
    assert_eq!(code, 1, "{by_flags}");
    // The config lives in its own folder; its kubeconfig path is relative to it.
    std::fs::create_dir_all(dir.path().join("conf/kube")).unwrap();
    std::fs::rename(
        server.kubeconfig(dir.path()),
        dir.path().join("conf/kube/config"),
    )
    .unwrap();
    let with_config = |contexts: &str, extra: &[&str]| {
        write(
            dir.path(),
            "conf/driftaudit.yaml",
            &format!("kubernetes:\n  kubeconfig: kube/config\n  contexts: {contexts}\n  request_timeout: 10\n"),
        );
        let mut args = vec![
            "scan",
            "--config",
            "conf/driftaudit.yaml",
            "--repo",
            "repo",
            "--format",
            "json",
            "--now",
            "2026-11-22T00:00:00Z",
        ];
        args.extend_from_slice(extra);
        run_in(dir.path(), &args)
    };
    let run = with_config("[admin]", &[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(without_config_digest(run.json()), by_flags);

    // `reader` is refused everything: the config's context is the one read.
    let run = with_config("[reader]", &[]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert_ne!(run.json()["coverage"], json!([]));
    // The flag replaces the config's contexts (not added to them).
    let run = with_config("[reader]", &["--kube-context", "admin"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(without_config_digest(run.json()), by_flags);
    only_gets(&server);
}

/// Issue 11, item 4: a manifest without a namespace takes `--namespace`, else
/// the kube context's namespace, else `default`, as kubectl does; strict mode
/// never compares a namespace Git did not set.
#[test]
fn a_manifest_without_a_namespace_takes_it_as_kubectl_does() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = fixture("applied/10-deployment.yaml").replace("  namespace: shop\n", "");
    assert!(!manifest.contains("namespace"), "{manifest}");
    write(dir.path(), "repo/web.yaml", &manifest);
    let server = server_with(&[]);
    // A context whose namespace is `shop`, beside `admin` which names none.
    let mut text = std::fs::read_to_string(server.kubeconfig(dir.path())).unwrap();
    text.push_str(
        "- name: shop\n  context:\n    cluster: test\n    user: admin\n    namespace: shop\n",
    );
    let kubeconfig = dir.path().join("kubeconfig-with-namespace");
    std::fs::write(&kubeconfig, text).unwrap();
    let kubeconfig = kubeconfig.to_str().unwrap();

    let web = |extra: &[&str]| {
        let mut args = vec!["scan", "--repo", "repo", "--kubeconfig", kubeconfig];
        args.extend_from_slice(&["--format", "json", "--now", "2026-11-22T00:00:00Z"]);
        args.extend_from_slice(extra);
        let report = run_in(dir.path(), &args).json();
        let entry = report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["resource"]["kind"] == "Deployment" && d["resource"]["name"] == "web")
            .cloned()
            .unwrap_or_else(|| panic!("no drift entry for web: {report}"));
        (
            entry["resource"]["namespace"].as_str().unwrap().to_string(),
            entry["status"].as_str().unwrap().to_string(),
            entry,
        )
    };
    // The context's namespace.
    let (namespace, status, _) = web(&["--kube-context", "shop"]);
    assert_eq!((namespace.as_str(), status.as_str()), ("shop", "in_sync"));
    // A context without one: `default`, where no web runs.
    let (namespace, status, _) = web(&["--kube-context", "admin"]);
    assert_eq!(
        (namespace.as_str(), status.as_str()),
        ("default", "missing")
    );
    // --namespace wins over the context.
    let (namespace, status, _) = web(&["--kube-context", "admin", "--namespace", "shop"]);
    assert_eq!((namespace.as_str(), status.as_str()), ("shop", "in_sync"));
    let (namespace, status, _) = web(&["--kube-context", "shop", "-n", "other"]);
    assert_eq!((namespace.as_str(), status.as_str()), ("other", "missing"));
    // Strict mode compares what Git does not set, but never the namespace.
    let (_, _, entry) = web(&["--kube-context", "shop", "--strict"]);
    let paths: Vec<&str> = entry["changes"]
        .as_array()
        .map(|changes| changes.iter().filter_map(|c| c["path"].as_str()).collect())
        .unwrap_or_default();
    assert!(!paths.contains(&"metadata.namespace"), "{entry}");
    // A namespace that is no DNS label is a usage error.
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--kubeconfig",
            kubeconfig,
            "-n",
            "Shop!",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("not a namespace name"),
        "{}",
        run.stderr
    );
}

/// A report with `evidence.config` (which names the config file read) null,
/// as a scan without a config has it.
fn without_config_digest(mut report: Value) -> Value {
    assert_eq!(report["evidence"]["config"]["path"], "conf/driftaudit.yaml");
    report["evidence"]["config"] = Value::Null;
    report
}
