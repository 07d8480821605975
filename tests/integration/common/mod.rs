//! Helpers shared by the integration tests: running the real binary, writing
//! files, making real Git repositories and snapshot files, a free port; and
//! the servers the tests run against, one module each (a test Kubernetes API
//! server, a real Traefik, a real PostgreSQL).

pub mod apiserver;
pub mod pgserver;
pub mod traefik;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub fn driftaudit() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftaudit"));
    command.env_remove("NO_COLOR");
    command
}

/// Runs a prepared `driftaudit()` command to its end.
pub fn finish(command: &mut Command) -> Run {
    let output = command.output().expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    finish(driftaudit().current_dir(dir).args(args))
}

pub fn run(args: &[&str]) -> Run {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// A port on 127.0.0.1 that was free a moment ago, for servers that need one
/// chosen up front (PostgreSQL, Traefik) and for addresses nobody listens on.
///
/// Taken below the kernel's ephemeral range, never twice in one test run: a
/// server the tests bind to port 0 (the test API server, the stubs) gets its
/// port from the ephemeral range, so it can never take a port handed out here
/// before its user binds it (a Traefik whose API port was taken that way once
/// answered with another test's Traefik, then vanished with it).
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static HANDED_OUT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    if ephemeral_low < 12_000 {
        // An unusual range: fall back to what the kernel hands out.
        return std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
    }
    // 10,000 ports below the range, starting at a place of this process's own
    // so two test runs at once rarely meet.
    let span = 10_000;
    let base = ephemeral_low - span;
    let offset = std::process::id() % span;
    loop {
        let n = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
        assert!(n < span, "no free port left below the ephemeral range");
        let port = (base + (offset + n) % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub fn write(root: &Path, relative: &str, text: &str) -> PathBuf {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Commits the whole working tree of `repo` on HEAD and returns the commit id.
pub fn commit_all(repo: &git2::Repository, message: &str) -> String {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"].iter(), None).unwrap();
    index.write().unwrap();
    let tree_id = index.write_tree().unwrap();
    let tree = repo.find_tree(tree_id).unwrap();
    let signature = git2::Signature::new(
        "Test",
        "test@example.test",
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        message,
        &tree,
        &parent_refs,
    )
    .unwrap()
    .to_string()
}

/// A snapshot file body with one target holding the given Kubernetes objects.
pub fn snapshot_json(target: &str, objects: &[Value]) -> String {
    let resources: Vec<Value> = objects
        .iter()
        .map(|o| json!({"source": "kubernetes", "endpoint": "https://127.0.0.1:6443", "object": o}))
        .collect();
    serde_json::to_string_pretty(&json!({
        "format": "driftaudit-snapshot",
        "version": 1,
        "captured_at": "2026-11-21T12:00:00Z",
        "targets": [{"name": target, "resources": resources}],
    }))
    .unwrap()
}

/// A Deployment manifest as a person writes it.
pub fn deployment_yaml(name: &str, namespace: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: main\n          image: {image}\n"
    )
}

/// The same Deployment as the API server returns it: server fields and defaults added.
pub fn live_deployment(name: &str, namespace: &str, replicas: u32, image: &str) -> Value {
    json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": namespace, "uid": "0d4f6a3e-1111-2222-3333-444455556666",
            "resourceVersion": "4242", "generation": 1, "creationTimestamp": "2026-11-21T10:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1"}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"creationTimestamp": null, "labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image, "resources": {},
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent"}],
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "securityContext": {"runAsNonRoot": true}, "schedulerName": "default-scheduler"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {"observedGeneration": 1, "replicas": replicas}
    })
}

/// Paths of findings and statuses in a JSON report, for compact assertions.
pub fn drift_status(report: &Value, kind: &str, name: &str) -> Option<String> {
    report["drift"].as_array()?.iter().find_map(|d| {
        (d["resource"]["kind"] == kind && d["resource"]["name"] == name)
            .then(|| d["status"].as_str().unwrap().to_string())
    })
}

pub fn findings_for<'a>(report: &'a Value, rule_prefix: &str, name: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"].as_str().unwrap().starts_with(rule_prefix) && f["resource"]["name"] == name
        })
        .collect()
}
