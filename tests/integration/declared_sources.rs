//! Declared state from real Git repositories (any ref, no checkout), plain
//! directories and real Kustomize overlays, and the errors bad input gets.

use crate::common::{
    commit_all, deployment_yaml, drift_status, live_deployment, run, run_in, snapshot_json, write,
};
use serde_json::Value;

fn git_repo_with_history() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    write(
        dir.path(),
        "apps/web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:1.0"),
    );
    write(dir.path(), "README.md", "not a manifest\n");
    let first = commit_all(&repo, "first");
    let commit = repo
        .find_commit(git2::Oid::from_str(&first).unwrap())
        .unwrap();
    repo.tag_lightweight("v1", commit.as_object(), false)
        .unwrap();
    write(
        dir.path(),
        "apps/web.yaml",
        &deployment_yaml("web", "shop", 3, "registry.example.com/web:1.0"),
    );
    let second = commit_all(&repo, "second");
    // An uncommitted change in the working tree: reading a ref must ignore it.
    write(
        dir.path(),
        "apps/web.yaml",
        &deployment_yaml("web", "shop", 9, "registry.example.com/web:1.0"),
    );
    (dir, first, second)
}

fn replicas_change(report: &Value) -> Option<(Value, Value)> {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["changes"].as_array().unwrap())
        .find_map(|c| {
            (c["path"] == "spec.replicas").then(|| (c["declared"].clone(), c["live"].clone()))
        })
}

#[test]
fn reads_any_ref_from_the_object_database() {
    let (dir, first, second) = git_repo_with_history();
    let snapshot = write(
        dir.path(),
        "../live.json",
        &snapshot_json(
            "prod",
            &[live_deployment(
                "web",
                "shop",
                3,
                "registry.example.com/web:1.0",
            )],
        ),
    );
    let repo = dir.path().to_str().unwrap();
    let snap = snapshot.to_str().unwrap();
    let scan = |reference: &str| {
        let r = run(&[
            "diff",
            "--repo",
            repo,
            "--ref",
            reference,
            "--live-snapshot",
            snap,
            "--format",
            "json",
            "--now",
            "2026-11-21T00:00:00Z",
        ]);
        assert!(r.code == 0 || r.code == 1, "{}", r.all());
        r.json()
    };
    for reference in ["HEAD", "master", second.as_str(), &second[..8]] {
        let report = scan(reference);
        assert_eq!(
            drift_status(&report, "Deployment", "web").as_deref(),
            Some("in_sync"),
            "ref {reference}"
        );
        assert_eq!(report["scan"]["commit"], second.as_str());
    }
    for reference in ["v1", first.as_str(), "HEAD~1"] {
        let report = scan(reference);
        assert_eq!(
            replicas_change(&report),
            Some((2.into(), 3.into())),
            "ref {reference}"
        );
        assert_eq!(report["scan"]["commit"], first.as_str());
    }
    // Without --ref the directory is read as it is on disk (the uncommitted 9).
    let r = run(&[
        "diff",
        "--repo",
        repo,
        "--live-snapshot",
        snap,
        "--format",
        "json",
    ]);
    assert_eq!(replicas_change(&r.json()), Some((9.into(), 3.into())));
    assert_eq!(r.json()["scan"]["commit"], Value::Null);
}

#[test]
fn a_bad_ref_is_an_input_error_naming_the_ref() {
    let (dir, _, _) = git_repo_with_history();
    let r = run(&[
        "scan",
        "--repo",
        dir.path().to_str().unwrap(),
        "--ref",
        "no-such-branch",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("no-such-branch"), "{}", r.stdout);
    let not_git = tempfile::tempdir().unwrap();
    let r = run(&[
        "scan",
        "--repo",
        not_git.path().to_str().unwrap(),
        "--ref",
        "main",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("not a Git repository"), "{}", r.stdout);
}

#[test]
fn broken_yaml_names_file_and_line_and_the_other_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "good.yaml",
        &deployment_yaml("good", "shop", 1, "nginx:latest"),
    );
    write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken\ndata: {}\n",
    );
    write(dir.path(), "multi.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n---\nkind: ConfigMap\nmetadata:\n  name: no-api-version\n");
    let r = run(&[
        "scan",
        "--repo",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    let report = r.json();
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["location"].as_str().unwrap().to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|l| l.starts_with("bad.yaml:") && l != "bad.yaml:1"),
        "{errors:?}"
    );
    assert!(errors.contains(&"multi.yaml:6".to_string()), "{errors:?}");
    // The good file and the good document of multi.yaml were still checked.
    assert_eq!(report["summary"]["declared_resources"], 2);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["resource"]["name"] == "good" && f["rule"] == "DA-IMG-002"));
    assert_eq!(report["summary"]["result"], "error");
    // The text report says the same, first.
    let text = run(&["scan", "--repo", dir.path().to_str().unwrap()]);
    assert!(text.stdout.contains("ERRORS (2)"), "{}", text.stdout);
}

#[test]
fn declared_only_scan_says_drift_was_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 1, "registry.example.com/web:1.0"),
    );
    let r = run(&[
        "scan",
        "--repo",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    assert_eq!(report["summary"]["drift_checked"], false);
    assert_eq!(report["drift"], serde_json::json!([]));
    let text = run(&["scan", "--repo", dir.path().to_str().unwrap()]);
    assert!(
        text.stdout
            .contains("declared state only (no live source: drift not checked)"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("DRIFT"));
}

#[test]
fn include_exclude_globs_and_paths_select_manifests() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "apps/web.yaml",
        &deployment_yaml("web", "shop", 1, "registry.example.com/web:1.0"),
    );
    write(dir.path(), "apps/values.yaml", "replicaCount: 3\n");
    write(
        dir.path(),
        "other/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
    );
    write(
        dir.path(),
        "driftaudit.yaml",
        "git:\n  paths: [apps]\n  exclude: ['**/values.yaml']\n",
    );
    let r = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["summary"]["declared_resources"], 1);
    assert_eq!(r.json()["scan"]["files_read"], 1);
}

fn kustomize_tree(root: &std::path::Path) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kustomize");
    for file in [
        "base/deployment.yaml",
        "base/service.yaml",
        "base/kustomization.yaml",
        "overlays/prod/kustomization.yaml",
    ] {
        write(
            root,
            &format!("deploy/{file}"),
            &std::fs::read_to_string(fixtures.join(file)).unwrap(),
        );
    }
    write(
        root,
        "driftaudit.yaml",
        "git:\n  kustomize: [deploy/overlays/prod]\n",
    );
}

#[test]
fn kustomize_overlays_are_rendered_by_the_real_tool() {
    let dir = tempfile::tempdir().unwrap();
    kustomize_tree(dir.path());
    let r = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    // Three rendered objects; the base is not read again file by file.
    assert_eq!(report["summary"]["declared_resources"], 3, "{}", r.stdout);

    // Against the live state: the overlay's patch (replicas 3) is what Git declares.
    let live = live_deployment("prod-web", "prod", 2, "registry.example.test/web:1.2.3");
    let snapshot = write(dir.path(), "live.json", &snapshot_json("prod", &[live]));
    let r = run_in(
        dir.path(),
        &[
            "diff",
            "--repo",
            ".",
            "--live-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let report = r.json();
    let web = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["resource"]["name"] == "prod-web" && d["resource"]["kind"] == "Deployment")
        .unwrap();
    assert_eq!(web["status"], "modified");
    assert!(web["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["path"] == "spec.replicas" && c["declared"] == 3 && c["live"] == 2));

    // Findings on rendered objects point at the kustomization file.
    let r = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]);
    let report = r.json();
    let files: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["location"]["file"])
        .collect();
    assert!(
        !files.is_empty()
            && files
                .iter()
                .all(|f| *f == "deploy/overlays/prod/kustomization.yaml"),
        "{files:?}"
    );
}

#[test]
fn kustomize_overlays_render_from_a_git_ref() {
    let dir = tempfile::tempdir().unwrap();
    kustomize_tree(dir.path());
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit_all(&repo, "overlay");
    // Break the working tree: the ref must still render.
    std::fs::remove_dir_all(dir.path().join("deploy/base")).unwrap();
    let r = run_in(
        dir.path(),
        &["scan", "--repo", ".", "--ref", "HEAD", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["summary"]["declared_resources"], 3);
}

#[test]
fn a_missing_kustomize_binary_is_named() {
    let dir = tempfile::tempdir().unwrap();
    kustomize_tree(dir.path());
    write(
        dir.path(),
        "plain.yaml",
        &deployment_yaml("plain", "shop", 1, "registry.example.com/plain:1"),
    );
    let output = crate::common::driftaudit()
        .current_dir(dir.path())
        .env("PATH", "/nonexistent")
        .args(["scan", "--repo", ".", "--format", "json"])
        .output()
        .unwrap();
    // A coverage gap naming what to install, not an input error.
    assert_eq!(output.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    let gaps = report["coverage"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["scope"], "kustomization `deploy/overlays/prod`");
    assert!(
        gaps[0]["reason"]
            .as_str()
            .unwrap()
            .contains("install kustomize or kubectl"),
        "{gaps:?}"
    );
    let files = &report["declared_coverage"]["files"];
    let base = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "deploy/base/deployment.yaml")
        .unwrap();
    assert_eq!(base["state"], "not_checked", "{base}");
    assert_eq!(base["gap"], true, "{base}");
}
