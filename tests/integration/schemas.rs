//! The published schemas hold for what the tool really writes and reads.

use crate::common::{run, run_in, write};
use serde_json::Value;

pub(crate) fn schema(relative: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

pub(crate) fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn reports_match_the_published_report_schema() {
    let validator = schema("docs/report-schema.json");
    assert_valid(
        &validator,
        &run(&["scan", "--demo", "--format", "json"]).json(),
        "the demo scan report",
    );
    assert_valid(
        &validator,
        &run(&["diff", "--demo", "--format", "json"]).json(),
        "the demo diff report",
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.yaml", "kind: [\n");
    write(
        dir.path(),
        "ok.yaml",
        &crate::common::deployment_yaml("web", "shop", 1, "nginx"),
    );
    let report = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]).json();
    assert_eq!(report["summary"]["exit_code"], 2);
    assert_valid(&validator, &report, "an error report");
    // Suppressed findings (a kube-system workload, exempt by default).
    let exempt = tempfile::tempdir().unwrap();
    write(
        exempt.path(),
        "dns.yaml",
        &crate::common::deployment_yaml("dns", "kube-system", 1, "nginx"),
    );
    let suppressed = run_in(exempt.path(), &["scan", "--repo", ".", "--format", "json"]).json();
    assert_ne!(
        suppressed["summary"]["findings"]["suppressed"], 0,
        "{suppressed}"
    );
    assert_valid(&validator, &suppressed, "a report with suppressed findings");
    // Every declared-coverage state, a declared gap and a partial result.
    let repo = tempfile::tempdir().unwrap();
    let manifest = crate::common::deployment_yaml("web", "shop", 1, "nginx");
    write(
        repo.path(),
        "app/kustomization.yaml",
        "resources: [web.yaml]\n",
    );
    write(repo.path(), "app/web.yaml", &manifest);
    write(
        repo.path(),
        "plain/api.yaml",
        &manifest.replace("web", "api"),
    );
    write(repo.path(), "README.md", "# repo\n");
    write(repo.path(), "chart/Chart.yaml", "apiVersion: v2\nname: c\n");
    let partial = run_in(
        repo.path(),
        &["scan", "--repo", ".", "--allow-partial", "--format", "json"],
    )
    .json();
    assert_eq!(partial["summary"]["result"], "partial", "{partial}");
    assert_eq!(
        partial["declared_coverage"]["counts"],
        serde_json::json!({"read": 1, "rendered": 2, "excluded": 1, "not_checked": 1})
    );
    assert_valid(
        &validator,
        &partial,
        "a partial report with declared coverage",
    );
    // Each error carries its stable diagnostic code.
    assert!(
        report["errors"][0]["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("DA-E")),
        "{report}"
    );
}

#[test]
fn the_default_baseline_matches_its_schema() {
    let validator = schema("baselines/default.schema.json");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines/default.yaml");
    // driftaudit's own files are read with the YAML 1.2 core schema (`on:` is a key).
    let documents =
        driftaudit::yaml::parse_spanned(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_valid(&validator, &documents[0].0.value, "baselines/default.yaml");
    let bad: Value = serde_json::json!({"certificates": {"warn_days": "thirty"}});
    assert!(!validator.is_valid(&bad), "a wrong type must be rejected");
    // Unknown keys inside the five built-in sections are typos; other
    // top-level sections belong to the user's own policies.
    for section in [
        "certificates",
        "images",
        "privileges",
        "backups",
        "postgres",
    ] {
        let typo = serde_json::json!({ section: {"aproved_registries": []} });
        assert!(
            !validator.is_valid(&typo),
            "{section}: unknown key accepted"
        );
    }
    let own: Value = serde_json::json!({"acme": {"anything": [1, "two"]}});
    assert!(validator.is_valid(&own), "a user section must be allowed");
}
