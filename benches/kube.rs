//! Live Kubernetes benchmark: 5,000 objects across 20 kinds served by the
//! loopback test API server (HTTPS, bearer auth, real discovery captures), all
//! declared in a Git repository; times `driftaudit scan --kube-context` (discovery,
//! paginated LISTs, drift and every built-in policy) through the release binary.
//!
//! `cargo bench --bench kube`. Figures are copied into docs/benchmarks.md.

// The integration tests' helpers; this bench uses only the API server
// (public, so the helpers it does not use are not dead code here).
#[path = "../tests/integration/common/mod.rs"]
pub mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// 20 namespaced kinds, with a minimal body the API server would return.
const KINDS: [(&str, &str); 20] = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "LimitRange"),
    ("v1", "ResourceQuota"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("traefik.io/v1alpha1", "Middleware"),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
];

fn pod_template(name: &str) -> Value {
    json!({"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "main",
        "image": format!("registry.example.com/apps/{name}:1.0"), "securityContext": {"runAsNonRoot": true}}]}})
}

fn body(kind: &str, name: &str) -> Value {
    match kind {
        "ConfigMap" => json!({"data": {"KEY": name}}),
        "Secret" => json!({"type": "Opaque", "stringData": {"token": name}}),
        "Service" => json!({"spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}),
        "Deployment" | "StatefulSet" | "DaemonSet" => {
            json!({"spec": {"selector": {"matchLabels": {"app": name}}, "template": pod_template(name)}})
        }
        "CronJob" => {
            json!({"spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": pod_template(name)}}}})
        }
        "Job" => json!({"spec": {"template": pod_template(name)}}),
        "Role" => {
            json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
        }
        "RoleBinding" => {
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}, "subjects": [{"kind": "ServiceAccount", "name": name}]})
        }
        "ScheduledBackup" => {
            json!({"spec": {"schedule": "0 0 0 * * *", "cluster": {"name": name}}})
        }
        _ => json!({"metadata": {"labels": {"app": name}}}),
    }
}

fn main() {
    let server = common::apiserver::ApiServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let per_kind = 250;
    for (api_version, kind) in KINDS {
        let mut documents = Vec::new();
        for i in 0..per_kind {
            let name = format!("{}-{i:03}", kind.to_lowercase());
            let namespace = format!("team-{}", i % 10);
            let mut object = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}});
            let extra = body(kind, &name);
            for (key, value) in extra.as_object().unwrap() {
                if key == "metadata" {
                    object["metadata"]["labels"] = value["labels"].clone();
                } else {
                    object[key] = value.clone();
                }
            }
            documents.push(serde_json::to_string_pretty(&object).unwrap());
            // Live: what the server keeps (stringData becomes data).
            let mut live = object.clone();
            live["metadata"]["uid"] = json!(format!("uid-{kind}-{i}"));
            live["metadata"]["resourceVersion"] = json!("1");
            if kind == "Secret" {
                live.as_object_mut().unwrap().remove("stringData");
                use base64::Engine as _;
                live["data"] =
                    json!({"token": base64::engine::general_purpose::STANDARD.encode(&name)});
            }
            server.add(live);
        }
        std::fs::write(repo.join(format!("{kind}.yaml")), documents.join("\n---\n")).unwrap();
    }
    let kubeconfig = server.kubeconfig(dir.path());
    let binary = env!("CARGO_BIN_EXE_driftaudit");
    let mut times: Vec<Duration> = Vec::new();
    let mut report = Value::Null;
    for _ in 0..3 {
        let started = Instant::now();
        let output = Command::new(binary)
            .args(["scan", "--repo"])
            .arg(&repo)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "--kube-context",
                "admin",
                "--format",
                "json",
                "--fail-on",
                "none",
                "--now",
                "2026-11-22T00:00:00Z",
            ])
            .output()
            .expect("the binary runs");
        times.push(started.elapsed());
        report = serde_json::from_slice(&output.stdout).expect("a JSON report");
    }
    times.sort();
    let summary = &report["summary"];
    assert_eq!(summary["live_resources"], 5000, "{}", report["coverage"]);
    println!(
        "| 5000 objects, 20 kinds, {} LIST requests per scan | {:.2} s | drift {} | findings {} |",
        server
            .requests()
            .iter()
            .filter(|(_, p, _)| p.contains("limit="))
            .count()
            / 3,
        times[1].as_secs_f64(),
        summary["drift"],
        summary["findings"]["total"]
    );
}
