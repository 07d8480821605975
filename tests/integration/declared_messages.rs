//! Messages of the declared side (issue 10, item 8): a YAML file that is not
//! a manifest at all is listed as such, not an error; a document without a
//! name says what is missing; a file that is not UTF-8 says where.

use serde_json::Value;

use crate::common::{deployment_yaml, run_in, write};
use crate::declared_coverage::states;

fn file_state(report: &Value, path: &str) -> (String, String) {
    states(report)
        .remove(path)
        .unwrap_or_else(|| panic!("{path} not in the coverage: {report}"))
}

#[test]
fn files_that_are_not_manifests_are_listed_as_such_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "app.yaml",
        &deployment_yaml("web", "shop", 1, "registry.example.com/w:1"),
    );
    write(
        root,
        ".github/workflows/ci.yml",
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    );
    write(
        root,
        "docker-compose.yml",
        "version: \"3\"\nservices:\n  web:\n    image: nginx\n",
    );
    write(root, "deploy/values-prod.yaml", "replicas: 3\n");
    write(root, "package.json", "{\"name\": \"x\"}\n");
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["coverage"],
        serde_json::json!([]),
        "not a gap either"
    );
    for (path, looks_like) in [
        (
            ".github/workflows/ci.yml",
            Some("a GitHub Actions workflow"),
        ),
        ("docker-compose.yml", Some("a docker-compose file")),
        ("deploy/values-prod.yaml", Some("a Helm values file")),
        ("package.json", None),
    ] {
        let (state, reason) = file_state(&report, path);
        assert_eq!(state, "not_checked", "{path}");
        assert!(
            reason.starts_with(
                "does not look like a Kubernetes manifest (no apiVersion/kind in any document)"
            ),
            "{reason}"
        );
        if let Some(what) = looks_like {
            assert!(
                reason.contains(&format!("it looks like {what}")),
                "{reason}"
            );
        }
    }
    assert_eq!(file_state(&report, "app.yaml").0, "read");

    // A repository of such files only holds nothing: never a pass.
    std::fs::remove_file(root.join("app.yaml")).unwrap();
    let run = run_in(root, &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.contains("nothing declared"), "{}", run.stdout);
}

#[test]
fn a_document_without_a_name_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "app.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  labels: {{a: b}}\n---\nkind: Service\nmetadata:\n  name: s\n---\napiVersion: v1\nmetadata:\n  name: t\n",
            deployment_yaml("web", "shop", 1, "registry.example.com/w:1")
        ),
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let report = run.json();
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["code"].as_str().unwrap(),
                e["location"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            "DA-E404 app.yaml:22 ConfigMap has no `metadata` at all: it needs `metadata.name` (or `metadata.generateName`)",
            "DA-E404 app.yaml:27 Secret has `metadata` but no `metadata.name` (nor `metadata.generateName`)",
            "DA-E404 app.yaml:32 `kind: Service` without `apiVersion`: a Kubernetes object needs both (the file's other documents are manifests; a file that is not one can be left out with `git.exclude`)",
            "DA-E404 app.yaml:36 `apiVersion: v1` without `kind`: a Kubernetes object needs both (the file's other documents are manifests; a file that is not one can be left out with `git.exclude`)",
        ]
    );
    // The valid document of the file is still checked.
    assert_eq!(report["summary"]["declared_resources"], 1);
}

#[test]
fn a_file_that_is_not_utf8_gives_the_line_and_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "app.yaml",
        &deployment_yaml("web", "shop", 1, "registry.example.com/w:1"),
    );
    std::fs::write(
        root.join("latin1.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  city: M\xfcnchen\n",
    )
    .unwrap();
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let report = run.json();
    let error = &report["errors"][0];
    assert_eq!(error["code"], "DA-E404");
    assert_eq!(error["location"], "latin1.yaml:6");
    assert_eq!(
        error["message"],
        "not UTF-8 text: invalid byte 0xfc at byte offset 66 (line 6); manifests must be UTF-8"
    );
    assert_eq!(file_state(&report, "latin1.yaml").0, "not_checked");
}
