//! Results that were lost or said "clean" about something never checked.

use std::process::Stdio;

use serde_json::json;

use crate::common::{
    deployment_yaml, driftaudit, finish, live_deployment, run_in, snapshot_json, write,
};

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn report_lost_to_a_full_disk_is_not_a_pass() {
    let dir = scratch();
    write(
        dir.path(),
        "app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let run = finish(
        driftaudit()
            .current_dir(dir.path())
            .args(["scan", "--repo", "."])
            .stdout(Stdio::from(full)),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write the report"),
        "{}",
        run.stderr
    );
}

#[test]
fn report_lost_to_a_closed_stdout_is_not_a_pass() {
    let dir = scratch();
    write(
        dir.path(),
        "app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    for args in ["scan --repo .", "policy list"] {
        let run = finish(
            std::process::Command::new("sh")
                .current_dir(dir.path())
                .arg("-c")
                .arg(format!("exec \"$0\" {args} >&-"))
                .arg(env!("CARGO_BIN_EXE_driftaudit")),
        );
        assert_eq!(run.code, 2, "{args}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot write the report"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn repository_with_no_manifest_is_not_a_pass() {
    let dir = scratch();
    write(dir.path(), "README.md", "# nothing to see\n");
    write(
        dir.path(),
        "base/kustomization.yaml",
        "resources: [app.yaml]\n",
    );
    write(
        dir.path(),
        "base/app.yaml",
        &deployment_yaml("app", "shop", 1, "nginx:latest"),
    );
    // The kustomization is rendered: its Deployment is not hidden.
    let run = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(
        run.json()["summary"]["declared_resources"],
        1,
        "{}",
        run.all()
    );
    std::fs::remove_dir_all(dir.path().join("base")).unwrap();
    let run = run_in(dir.path(), &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.contains("nothing declared"), "{}", run.stdout);
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);

    let run = run_in(
        dir.path(),
        &["scan", "--repo", ".", "--path", "no-such-folder"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
}

#[test]
fn snapshot_without_targets_cannot_pass_a_drift_gate() {
    let dir = scratch();
    write(
        dir.path(),
        "repo/app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    let empty = json!({"format": "driftaudit-snapshot", "version": 1, "targets": []});
    write(dir.path(), "live.json", &empty.to_string());
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "live.json",
            "--fail-on-drift",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert_eq!(run.json()["summary"]["result"], "error");
}

#[test]
fn snapshot_target_covering_nothing_cannot_pass_a_drift_gate() {
    let dir = scratch();
    write(
        dir.path(),
        "repo/app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    let hollow = json!({"format": "driftaudit-snapshot", "version": 1,
        "targets": [{"name": "prod", "resources": []}]});
    write(dir.path(), "live.json", &hollow.to_string());
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "live.json",
            "--fail-on-drift",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.contains("covers no source"), "{}", run.stdout);
}

#[test]
fn declared_source_no_live_target_covers_cannot_pass_a_drift_gate() {
    let dir = scratch();
    write(
        dir.path(),
        "repo/app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    let traefik_only = json!({"format": "driftaudit-snapshot", "version": 1,
        "targets": [{"name": "edge", "sources": ["traefik"], "resources": []}]});
    write(dir.path(), "live.json", &traefik_only.to_string());
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "live.json",
            "--fail-on-drift",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    assert!(
        report["coverage"]
            .to_string()
            .contains("every declared kubernetes resource"),
        "{report}"
    );
}

#[test]
fn list_whose_items_is_not_a_list_is_an_error_not_dropped() {
    let dir = scratch();
    write(
        dir.path(),
        "ok.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    write(
        dir.path(),
        "list.yaml",
        "# a list that hides its object\napiVersion: v1\nkind: List\nitems:\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: evil, namespace: shop}\n",
    );
    let run = run_in(dir.path(), &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.contains("list.yaml:2"), "{}", run.stdout);
    assert!(
        run.stdout.contains("`items` of a list must be a list"),
        "{}",
        run.stdout
    );
}

#[test]
fn second_document_of_the_config_is_an_error_not_ignored() {
    let dir = scratch();
    write(
        dir.path(),
        "app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    write(
        dir.path(),
        "driftaudit.yaml",
        "version: 1\n---\npolicies:\n  disable: [DA-IMG-001]\n",
    );
    let run = run_in(dir.path(), &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.all().contains("driftaudit.yaml:3"), "{}", run.all());
    assert!(
        run.all().contains("more than one YAML document"),
        "{}",
        run.all()
    );
}

/// A repository declaring the Deployment `app` in `shop`, scanned with
/// `--fail-on-drift` against a snapshot holding `objects`.
fn drift_gate_against(objects: &[serde_json::Value]) -> crate::common::Run {
    let dir = scratch();
    write(
        dir.path(),
        "repo/app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    write(dir.path(), "live.json", &snapshot_json("prod", objects));
    run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "live.json",
            "--fail-on-drift",
            "--format",
            "json",
        ],
    )
}

/// The live Deployment `name` in `shop`, privileged, with the given owners.
fn privileged_live(name: &str, owners: serde_json::Value) -> serde_json::Value {
    let mut object = live_deployment(name, "shop", 1, "registry.example.com/app:1.0");
    object["metadata"]["uid"] = json!(format!("uid-{name}"));
    object["metadata"]["ownerReferences"] = owners;
    object["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
        json!({"privileged": true});
    object
}

#[test]
fn dangling_owner_reference_does_not_hide_an_unmanaged_object() {
    let mut app = live_deployment("app", "shop", 1, "registry.example.com/app:1.0");
    app["metadata"]["uid"] = json!("uid-app");
    let fake_owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "ghost",
        "uid": "00000000-0000-0000-0000-000000000000", "controller": true}]);
    // A real owner: a Deployment owned by the declared, live `app` (same uid).
    let real_owner = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "app",
        "uid": "uid-app", "controller": true}]);
    let objects = [
        app,
        privileged_live("backdoor", fake_owner),
        privileged_live("child", real_owner),
    ];
    let run = drift_gate_against(&objects);
    let report = run.json();
    assert_eq!(
        crate::common::drift_status(&report, "Deployment", "backdoor").as_deref(),
        Some("unmanaged"),
        "{report}"
    );
    assert_eq!(
        crate::common::drift_status(&report, "Deployment", "child"),
        None,
        "{report}"
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        report["findings"].to_string().contains("backdoor"),
        "the privileged object is judged: {report}"
    );
}

#[test]
fn hand_made_service_account_token_secret_is_unmanaged() {
    let token = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "admin-token", "namespace": "shop", "uid": "uid-token",
            "annotations": {"kubernetes.io/service-account.name": "admin"}},
        "data": {"token": "c2VjcmV0LXRva2VuLXZhbHVl"}});
    let objects = [
        live_deployment("app", "shop", 1, "registry.example.com/app:1.0"),
        token,
    ];
    let run = drift_gate_against(&objects);
    let report = run.json();
    assert_eq!(
        crate::common::drift_status(&report, "Secret", "admin-token").as_deref(),
        Some("unmanaged"),
        "{report}"
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.all().contains("c2VjcmV0LXRva2VuLXZhbHVl"));
}
