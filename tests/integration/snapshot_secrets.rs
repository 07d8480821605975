//! Secret values in snapshots: `capture` stores them only as keyed hashes
//! under the user's key (`--secret-key-file`), or not at all; a scan compares
//! them only under that same key, and otherwise reports them as not compared
//! (a coverage gap, never in sync, never modified). Old version-1 digests,
//! salted with public values, are never trusted.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::apiserver::{fixture, fixture_json, ApiServer};
use crate::common::{drift_status, driftaudit, finish, write, Run};

const PASSWORD: &str = "not-a-real-password";
const PASSWORD_B64: &str = "bm90LWEtcmVhbC1wYXNzd29yZA";
const NEW_PASSWORD: &str = "another-password-canary";

/// The digest version 1 of the snapshot format stored for a Secret value.
fn old_digest(key: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    for part in ["driftaudit-secret-v1", "shop", "db-credentials", key] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.update(value.as_bytes());
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("redacted-sha256:{hex}")
}

/// A repository declaring the Secret (with `password`) and a ConfigMap.
fn repo(dir: &Path, name: &str, password: &str) -> PathBuf {
    write(
        dir,
        &format!("{name}/secret.yaml"),
        &fixture("applied/13-secret.yaml").replace(PASSWORD, password),
    );
    write(
        dir,
        &format!("{name}/cm.yaml"),
        &fixture("applied/12-configmap.yaml"),
    );
    dir.join(name)
}

fn key_file(dir: &Path, name: &str, text: &str) -> String {
    write(dir, name, text).to_str().unwrap().to_string()
}

/// `capture` of the test API server (the Secret and ConfigMap as applied)
/// into `out`, with `key` when given (`env_key`: by the environment
/// variable): the run and the snapshot's text.
fn capture(
    dir: &Path,
    server: &ApiServer,
    out: &str,
    key: Option<&str>,
    env_key: Option<&str>,
) -> (Run, String) {
    let kubeconfig = server.kubeconfig(dir);
    let mut command = driftaudit();
    command.current_dir(dir).args([
        "capture",
        "--repo",
        "repo",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--kube-context",
        "admin",
        "--output",
        out,
    ]);
    if let Some(key) = key {
        command.args(["--secret-key-file", key]);
    }
    command.env_remove("DRIFTAUDIT_SECRET_KEY_FILE");
    if let Some(key) = env_key {
        command.env("DRIFTAUDIT_SECRET_KEY_FILE", key);
    }
    let run = finish(&mut command);
    assert_eq!(run.code, 0, "{}", run.all());
    let text = std::fs::read_to_string(dir.join(out)).unwrap();
    (run, text)
}

/// `scan --format json` of `repo` against a snapshot, with `key` when given.
fn scan(dir: &Path, repo: &str, snapshot: &str, key: Option<&str>) -> Run {
    let mut command = driftaudit();
    command.current_dir(dir).args([
        "scan",
        "--repo",
        repo,
        "--live-snapshot",
        snapshot,
        "--format",
        "json",
        "--fail-on",
        "none",
        "--now",
        "2026-11-22T00:00:00Z",
    ]);
    if let Some(key) = key {
        command.args(["--secret-key-file", key]);
    }
    command.env_remove("DRIFTAUDIT_SECRET_KEY_FILE");
    finish(&mut command)
}

/// A scratch folder with two repositories, `repo` (as applied) and
/// `changed` (another password), and a test API server holding the Secret
/// and ConfigMap as applied.
fn setup() -> (tempfile::TempDir, ApiServer) {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path(), "repo", PASSWORD);
    repo(dir.path(), "changed", NEW_PASSWORD);
    let server = ApiServer::start();
    server.add(fixture_json("secret-db-credentials.get.json"));
    server.add(fixture_json("configmap-shop-config.get.json"));
    (dir, server)
}

/// The Secret is not compared: no drift entry, a gap naming why, exit 3;
/// the ConfigMap next to it still is.
fn not_compared(run: &Run, why: &str) {
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    assert_eq!(
        drift_status(&report, "Secret", "db-credentials"),
        None,
        "a Secret whose values were not compared is neither in sync nor modified: {}",
        report["drift"]
    );
    assert_eq!(
        drift_status(&report, "ConfigMap", "shop-config").as_deref(),
        Some("in_sync")
    );
    let gaps = report["coverage"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{}", report["coverage"]);
    assert_eq!(gaps[0]["scope"], "v1 Secret values in shop");
    let reason = gaps[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(why) && reason.contains("not compared"),
        "{reason}"
    );
}

fn assert_no_secret(text: &str) {
    for secret in [
        PASSWORD,
        PASSWORD_B64,
        NEW_PASSWORD,
        &old_digest("PGPASSWORD", PASSWORD),
        &old_digest("PGUSER", "shop"),
    ] {
        assert!(!text.contains(secret), "`{secret}` found in:\n{text}");
    }
}

#[test]
fn a_snapshot_captured_without_the_key_cannot_confirm_or_reveal_a_secret_value() {
    let (dir, server) = setup();
    let (run, snapshot) = capture(dir.path(), &server, "snap.json", None, None);
    assert!(
        run.stderr.contains("Secret values not captured"),
        "{}",
        run.stderr
    );
    assert_no_secret(&snapshot);
    assert!(!snapshot.contains("sha256"), "no digest at all: {snapshot}");
    let file: Value = serde_json::from_str(&snapshot).unwrap();
    assert_eq!(file["version"], 2);
    assert_eq!(file["secret_values"], json!({"hash": "not-captured"}));
    let secret = file["targets"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"]["kind"] == "Secret")
        .unwrap();
    assert_eq!(
        secret["object"]["data"],
        json!({"PGPASSWORD": "<not captured>", "PGUSER": "<not captured>"})
    );

    let key = key_file(dir.path(), "key", &"k".repeat(40));
    for (repo, key) in [
        ("repo", None),
        ("changed", None),
        ("repo", Some(key.as_str())),
    ] {
        let run = scan(dir.path(), repo, "snap.json", key);
        not_compared(&run, "captured without --secret-key-file");
        assert_no_secret(&run.all());
    }
}

#[test]
fn with_the_key_a_changed_secret_is_drift_and_an_unchanged_one_in_sync() {
    let (dir, server) = setup();
    let key = key_file(dir.path(), "key", "0123456789abcdef0123456789abcdef\n");
    let (run, snapshot) = capture(dir.path(), &server, "snap.json", Some(&key), None);
    assert!(!run.stderr.contains("not captured"), "{}", run.stderr);
    assert_no_secret(&snapshot);
    let file: Value = serde_json::from_str(&snapshot).unwrap();
    assert_eq!(file["secret_values"]["hash"], "hmac-sha256");
    let key_id = file["secret_values"]["key_id"].as_str().unwrap();
    assert_eq!(key_id.len(), 16, "{key_id}");
    assert!(
        snapshot.contains("\"PGPASSWORD\": \"hmac-sha256:"),
        "{snapshot}"
    );

    // The same key: unchanged is in sync, a changed value is drift, redacted.
    let same = scan(dir.path(), "repo", "snap.json", Some(&key));
    assert_eq!(same.code, 0, "{}", same.all());
    let report = same.json();
    assert_eq!(report["coverage"], json!([]));
    assert_eq!(
        drift_status(&report, "Secret", "db-credentials").as_deref(),
        Some("in_sync")
    );
    let changed = scan(dir.path(), "changed", "snap.json", Some(&key));
    assert_eq!(
        changed.code,
        0,
        "drift alone does not fail: {}",
        changed.all()
    );
    let report = changed.json();
    let drift = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["resource"]["name"] == "db-credentials")
        .unwrap();
    assert_eq!(drift["status"], "modified");
    assert_eq!(
        drift["changes"],
        json!([{"path": "data.PGPASSWORD", "kind": "modified",
                "declared": "<redacted>", "live": "<redacted: changed>",
                "changed_by": {"manager": "kubectl-client-side-apply", "operation": "Update",
                               "time": "2026-11-21T22:03:25Z"},
                "location": {"file": "secret.yaml", "line": 9}}])
    );
    assert_no_secret(&changed.all());
    assert!(!changed.all().contains("hmac-sha256"), "{}", changed.all());

    // Another key, or none: not compared.
    let other = key_file(dir.path(), "other", &"x".repeat(32));
    not_compared(
        &scan(dir.path(), "repo", "snap.json", Some(&other)),
        "under another key",
    );
    not_compared(
        &scan(dir.path(), "changed", "snap.json", None),
        "give the capture's key",
    );
}

#[test]
fn version_1_digests_are_never_trusted() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path(), "repo", PASSWORD);
    let mut secret = fixture_json("secret-db-credentials.get.json");
    secret["data"] = json!({"PGPASSWORD": old_digest("PGPASSWORD", PASSWORD),
        "PGUSER": old_digest("PGUSER", "shop")});
    let snapshot = json!({"format": "driftaudit-snapshot", "version": 1,
        "targets": [{"name": "prod", "resources": [
            {"source": "kubernetes", "endpoint": "https://127.0.0.1:6443", "object": secret},
            {"source": "kubernetes", "endpoint": "https://127.0.0.1:6443",
             "object": fixture_json("configmap-shop-config.get.json")}]}]});
    write(dir.path(), "old.json", &snapshot.to_string());
    let run = scan(dir.path(), "repo", "old.json", None);
    not_compared(&run, "version-1 snapshot");
    assert_no_secret(&run.all());
}

#[test]
fn a_short_or_unreadable_key_file_is_an_input_error() {
    let (dir, server) = setup();
    let short = key_file(dir.path(), "short", "only-31-bytes-of-key-material!!\n");
    let missing = dir.path().join("missing").to_str().unwrap().to_string();
    for (flag, env) in [
        (Some(short.as_str()), None),
        (None, Some(short.as_str())),
        (Some(missing.as_str()), None),
        // Endless: refused after 64 KiB, not read forever.
        (Some("/dev/zero"), None),
    ] {
        let mut command = driftaudit();
        command
            .current_dir(dir.path())
            .args(["scan", "--repo", "repo"]);
        if let Some(path) = flag {
            command.args(["--secret-key-file", path]);
        }
        command.env_remove("DRIFTAUDIT_SECRET_KEY_FILE");
        if let Some(path) = env {
            command.env("DRIFTAUDIT_SECRET_KEY_FILE", path);
        }
        let run = finish(&mut command);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains("DA-E504"), "{}", run.stderr);
        let path = flag.or(env).unwrap();
        assert!(run.stderr.contains(path), "{}", run.stderr);
        if path == short {
            assert!(
                run.stderr.contains("31 bytes")
                    && run.stderr.contains("at least 32 bytes of secret"),
                "{}",
                run.stderr
            );
            assert!(!run.stderr.contains("only-31"), "the key is never shown");
        }
    }

    // The environment variable gives the key as the flag does.
    let key = key_file(dir.path(), "key", &"e".repeat(32));
    let (_, text) = capture(dir.path(), &server, "env.json", None, Some(&key));
    assert!(text.contains("hmac-sha256:"), "{text}");
}
