//! `report.evidence` (schema_version 2): what exactly a scan checked, as an
//! auditor re-checks it with Git and sha256sum.

use std::path::Path;
use std::process::Command;

use crate::common::{deployment_yaml, run, run_in, write};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_demo_evidence_matches_git_and_sha256_of_its_inputs() {
    let report = run(&["scan", "--demo", "--format", "json"]).json();
    assert_eq!(report["schema_version"], "2");
    let evidence = &report["evidence"];
    assert_eq!(evidence["tool"]["name"], "driftaudit");
    assert_eq!(evidence["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let build = evidence["tool"]["build"].as_str().unwrap();
    assert!(
        build == "unknown" || (build.len() == 40 && build.chars().all(|c| c.is_ascii_hexdigit())),
        "{build}"
    );
    assert_eq!(evidence["now"], "2026-11-22T00:00:00Z");
    assert_eq!(evidence["declared"]["path"], "demo: fixtures/demo/repo");
    // The demo runs from a scratch directory: no Git, so no commit and no dirtiness.
    assert_eq!(evidence["declared"]["ref"], Value::Null);
    assert_eq!(evidence["declared"]["commit"], Value::Null);
    assert_eq!(evidence["declared"]["dirty"], Value::Null);

    let files = evidence["files"].as_array().unwrap();
    assert_eq!(
        files.len(),
        report["scan"]["files_read"].as_u64().unwrap() as usize
    );
    let repo = manifest_dir().join("fixtures/demo/repo");
    let mut secret_files = Vec::new();
    for file in files {
        let path = file["path"].as_str().unwrap();
        let text = std::fs::read_to_string(repo.join(path)).unwrap();
        if text.contains("kind: Secret") {
            // No unsalted hash of a file that holds Secret values.
            assert_eq!(file["blob"], Value::Null, "{path}");
            assert_eq!(file["secret_values"], true, "{path}");
            secret_files.push(path);
            continue;
        }
        let expected = git(&repo, &["hash-object", "--no-filters", path]);
        assert_eq!(file["blob"], expected.as_str(), "{path}");
        assert!(file.get("secret_values").is_none(), "{path}");
    }
    assert!(
        secret_files.contains(&"apps/shop/db-credentials.yaml"),
        "{secret_files:?}"
    );

    let policies = evidence["policies"].as_array().unwrap();
    let builtin: Vec<_> = std::fs::read_dir(manifest_dir().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rego"))
        .collect();
    assert_eq!(policies.len(), builtin.len());
    for path in builtin {
        let name = format!("builtin/{}", path.file_name().unwrap().to_str().unwrap());
        let entry = policies
            .iter()
            .find(|p| p["file"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(entry["sha256"], sha256_file(&path).as_str(), "{name}");
    }

    let config = &evidence["config"];
    assert_eq!(config["path"], "demo: fixtures/demo/driftaudit.yaml");
    assert_eq!(
        config["sha256"],
        sha256_file(&manifest_dir().join("fixtures/demo/driftaudit.yaml")).as_str()
    );
    assert_eq!(
        evidence["snapshots"][0]["sha256"],
        sha256_file(&manifest_dir().join("fixtures/demo/live-snapshot.json")).as_str()
    );
    assert_eq!(evidence["targets"][0]["name"], "demo-cluster");
    assert_eq!(evidence["targets"][0]["kinds"][0], "kubernetes");
    assert_eq!(
        evidence["coverage"]["complete"],
        report["summary"]["complete"]
    );

    // The baselines digest is that of the baselines.json an evidence directory holds.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ev");
    let written = run(&["scan", "--demo", "--evidence-dir", out.to_str().unwrap()]);
    assert_eq!(written.code, 1, "{}", written.all());
    assert_eq!(
        evidence["baselines_sha256"],
        sha256_file(&out.join("baselines.json")).as_str()
    );
    let filed: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(filed["evidence"], *evidence);
}

#[test]
fn a_git_ref_gives_its_commit_and_tree_and_a_work_tree_its_dirtiness() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(
        root,
        "app/web.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27"),
    );
    git(root, &["add", "."]);
    git(
        root,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.test",
            "commit",
            "-qm",
            "one",
        ],
    );
    let head = git(root, &["rev-parse", "HEAD"]);
    let tree = git(root, &["rev-parse", "HEAD^{tree}"]);

    let scan = |args: &[&str]| {
        let mut all = vec!["scan", "--now", "2026-11-22T00:00:00Z", "--format", "json"];
        all.extend_from_slice(args);
        run_in(root, &all).json()["evidence"].clone()
    };
    let by_ref = scan(&["--repo", ".", "--ref", "HEAD"]);
    assert_eq!(by_ref["declared"]["ref"], "HEAD");
    assert_eq!(by_ref["declared"]["commit"], head.as_str());
    assert_eq!(by_ref["declared"]["tree"], tree.as_str());
    assert_eq!(
        by_ref["declared"]["dirty"],
        Value::Null,
        "a ref is never dirty"
    );
    assert_eq!(by_ref["files"][0]["path"], "app/web.yaml");
    assert_eq!(
        by_ref["files"][0]["blob"],
        git(root, &["rev-parse", "HEAD:app/web.yaml"]).as_str()
    );

    let clean = scan(&["--repo", "."]);
    assert_eq!(clean["declared"]["commit"], head.as_str());
    assert_eq!(clean["declared"]["tree"], tree.as_str());
    assert_eq!(clean["declared"]["dirty"], false, "{clean}");
    // A subdirectory of the work tree is judged by its own files.
    write(root, "other/notes.txt", "not under app/\n");
    assert_eq!(scan(&["--repo", "app"])["declared"]["dirty"], false);
    assert_eq!(scan(&["--repo", "."])["declared"]["dirty"], true);
    write(
        root,
        "app/web.yaml",
        &deployment_yaml("web", "shop", 2, "nginx:1.27"),
    );
    let dirty = scan(&["--repo", "app"]);
    assert_eq!(dirty["declared"]["dirty"], true);
    assert_eq!(
        dirty["files"][0]["blob"],
        git(root, &["hash-object", "app/web.yaml"]).as_str(),
        "the blob of the bytes read, not of the commit"
    );
    // The ref still reads the committed file.
    assert_eq!(
        scan(&["--repo", ".", "--ref", "HEAD"])["files"][0]["blob"],
        by_ref["files"][0]["blob"]
    );

    // A plain directory: no commit, dirtiness unknown.
    let plain = tempfile::tempdir().unwrap();
    write(
        plain.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27"),
    );
    let report = run_in(plain.path(), &["scan", "--repo", ".", "--format", "json"]).json();
    assert_eq!(report["evidence"]["declared"]["commit"], Value::Null);
    assert_eq!(report["evidence"]["declared"]["dirty"], Value::Null);
}

#[test]
fn the_same_inputs_and_clock_give_byte_identical_json() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27"),
    );
    let args = [
        "scan",
        "--repo",
        ".",
        "--now",
        "2026-11-22T00:00:00Z",
        "--format",
        "json",
    ];
    let first = run_in(dir.path(), &args);
    let second = run_in(dir.path(), &args);
    assert!(first.stdout.contains("\"evidence\": {"), "{}", first.stdout);
    assert_eq!(first.stdout, second.stdout);
    let demo = run(&["scan", "--demo", "--format", "json"]).stdout;
    assert_eq!(demo, run(&["scan", "--demo", "--format", "json"]).stdout);
}

#[test]
fn a_saved_report_is_read_back_with_its_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let saved = run(&["scan", "--demo", "--format", "json"]).stdout;
    let path = write(dir.path(), "report.json", &saved);
    let again = run(&[
        "report",
        "--input",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.stdout, saved);
}

#[test]
fn a_kubernetes_target_is_identified_by_url_ca_version_and_kube_system_uid() {
    use crate::common::apiserver::ApiServer;
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start();
    const UID: &str = "5f0c3b1e-8a77-4f7e-9d0e-2c1b7a9e4d11";
    server.add(serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "kube-system", "uid": UID, "resourceVersion": "4"}}));
    let kubeconfig = server.kubeconfig(dir.path());
    let scan = |context: &str| {
        let r = run_in(
            dir.path(),
            &[
                "scan",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--kube-context",
                context,
                "--format",
                "json",
            ],
        );
        let report = r.json();
        crate::schemas::assert_valid(
            &crate::schemas::schema("docs/report-schema.json"),
            &report,
            "a report with a Kubernetes target",
        );
        report["evidence"]["targets"][0].clone()
    };
    let der: Vec<u8> = base64::engine::general_purpose::STANDARD
        .decode(
            server
                .ca_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let ca: String = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let admin = scan("admin");
    assert_eq!(admin["name"], "admin");
    assert_eq!(admin["kinds"], serde_json::json!(["kubernetes"]));
    assert_eq!(admin["server"], server.url.trim_end_matches('/'), "{admin}");
    assert_eq!(admin["ca_sha256"], ca.as_str());
    assert_eq!(admin["server_version"], "v1.36.2", "the captured /version");
    assert_eq!(admin["cluster_id"], UID);
    assert!(admin.get("notes").is_none(), "{admin}");

    // Not allowed to read namespaces: the cluster id is unknown and says why,
    // the scan itself is not failed by it.
    server.forbid("namespaces", "");
    let forbidden = scan("admin");
    assert_eq!(forbidden["server_version"], "v1.36.2");
    assert_eq!(forbidden["cluster_id"], Value::Null);
    assert!(
        forbidden["notes"][0].as_str().unwrap().contains("403"),
        "{forbidden}"
    );
}
