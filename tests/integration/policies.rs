//! Policies through the binary: user policy directories, Rego errors with file
//! and line, `policy test` and `policy list`.

use crate::common::{deployment_yaml, run, run_in, write};

fn repo_with_one_deployment() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 2, "nginx:latest"),
    );
    dir
}

const TEAM_POLICY: &str = r#"# METADATA
# custom:
#   category: team
#   kinds: [Deployment]
package team.replicas

# METADATA
# title: At least three replicas
# custom:
#   id: TEAM-001
#   severity: high
#   remediation: Run at least three replicas.
deny_few contains {"msg": sprintf("%s runs %d replicas", [input.identity.name, input.resource.spec.replicas]), "path": "spec.replicas"} if {
  input.resource.spec.replicas < 3
}
"#;

#[test]
fn user_policies_run_beside_the_builtin_ones() {
    let dir = repo_with_one_deployment();
    write(dir.path(), "policies/team.rego", TEAM_POLICY);
    let r = run_in(
        dir.path(),
        &[
            "scan", "--repo", "repo", "--policy", "policies", "--format", "json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let report = r.json();
    let team = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "TEAM-001")
        .expect("team finding");
    assert_eq!(team["message"], "web runs 2 replicas");
    assert_eq!(team["category"], "team");
    assert_eq!(
        team["location"],
        serde_json::json!({"file": "web.yaml", "line": 7})
    );
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "DA-IMG-002"));
}

/// A Rego file with an unterminated string on line 4.
const BROKEN_POLICY: &str = "package broken\n\ndeny contains msg if {\n  msg := \"x\n}\n";

#[test]
fn a_rego_syntax_error_names_file_and_line_and_other_policies_still_run() {
    let dir = repo_with_one_deployment();
    write(dir.path(), "policies/team.rego", TEAM_POLICY);
    write(dir.path(), "policies/broken.rego", BROKEN_POLICY);
    let r = run_in(
        dir.path(),
        &[
            "scan", "--repo", "repo", "--policy", "policies", "--format", "json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    let report = r.json();
    let error = &report["errors"][0];
    let location = error["location"].as_str().unwrap();
    assert!(location.starts_with("policies/broken.rego:"), "{error}");
    assert_ne!(location, "policies/broken.rego", "a line must be given");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"TEAM-001") && rules.contains(&"DA-IMG-002"),
        "{rules:?}"
    );
}

#[test]
fn a_rego_runtime_error_is_an_error_never_a_pass() {
    let dir = repo_with_one_deployment();
    write(dir.path(), "policies/fails.rego", "package fails\n\n# METADATA\n# custom:\n#   id: FAIL-001\n#   severity: high\n#   kinds: [Deployment]\ndeny contains msg if {\n  x := input.resource.spec.replicas\n  msg := concat(\",\", x)\n}\n");
    let r = run_in(
        dir.path(),
        &[
            "scan", "--repo", "repo", "--policy", "policies", "--format", "json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    let report = r.json();
    let error = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().unwrap().contains("FAIL-001"))
        .expect("an error for the rule");
    assert_eq!(error["location"], "policies/fails.rego:8");
    assert!(
        error["message"].as_str().unwrap().contains("not checked"),
        "{error}"
    );
    assert_eq!(report["summary"]["result"], "error");
}

#[test]
fn bad_metadata_is_reported() {
    let dir = repo_with_one_deployment();
    write(dir.path(), "policies/meta.rego", "package meta\n\n# METADATA\n# custom:\n#   id: META-1\n#   severity: urgent\ndeny contains \"x\" if true\n");
    let r = run_in(
        dir.path(),
        &["scan", "--repo", "repo", "--policy", "policies"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("policies/meta.rego:7") && r.stdout.contains("unknown severity `urgent`"),
        "{}",
        r.stdout
    );
}

#[test]
fn builtin_policy_tests_pass_through_the_binary() {
    let r = run(&["policy", "test"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains(" passed, 0 failed"), "{}", r.stdout);
    let passed: usize = r
        .stdout
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!(passed >= 100, "{}", r.stdout);
}

#[test]
fn policy_test_reports_failures_of_user_tests() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p/team.rego", TEAM_POLICY);
    write(dir.path(), "p/team_test.rego", "package team.replicas_test\n\nimport data.team.replicas\n\ntest_two_replicas_denied if {\n  count(replicas.deny_few) == 1 with input as {\"identity\": {\"name\": \"a\"}, \"resource\": {\"spec\": {\"replicas\": 2}}}\n}\n\ntest_wrong_expectation if {\n  count(replicas.deny_few) == 1 with input as {\"identity\": {\"name\": \"a\"}, \"resource\": {\"spec\": {\"replicas\": 5}}}\n}\n");
    let r = run_in(dir.path(), &["policy", "test", "p"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("FAIL  data.team.replicas_test.test_wrong_expectation  (p/team_test.rego:9)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("policy tests: 1 passed, 1 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn policy_list_shows_every_family() {
    let r = run(&["policy", "list", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rules: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let categories: std::collections::BTreeSet<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    for family in ["certificates", "images", "privileges", "backups"] {
        assert!(categories.contains(family));
    }
    for rule in rules.as_array().unwrap() {
        for key in ["id", "title", "severity", "category", "remediation"] {
            assert!(
                rule[key].as_str().is_some_and(|s| !s.is_empty()),
                "{key} missing in {rule}"
            );
        }
    }
}

#[test]
fn policy_list_lists_rules_not_library_helpers() {
    let r = run(&["policy", "list", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rules: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let locations: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["location"].as_str().unwrap())
        .collect();
    assert!(
        locations
            .iter()
            .any(|l| l.starts_with("builtin:policies/images.rego:")),
        "{locations:?}"
    );
    assert!(
        !locations.iter().any(|l| l.contains("policies/lib.rego")),
        "{locations:?}"
    );
}

const LIB_POLICY: &str = r#"# METADATA
# custom:
#   category: team
#   kinds: [Deployment]
package team.names

import data.driftaudit.lib

# METADATA
# title: Containers are named after the workload
# custom:
#   id: TEAM-002
#   severity: low
deny_name contains {"msg": sprintf("%s is not named %s", [c.what, lib.name]), "path": c.path} if {
  some c in lib.containers
  c.container.name != lib.name
}
"#;

#[test]
fn user_policies_and_their_tests_import_the_builtin_library() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 2, "nginx:1.27"),
    );
    write(dir.path(), "policies/names.rego", LIB_POLICY);
    let r = run_in(
        dir.path(),
        &[
            "scan", "--repo", "repo", "--policy", "policies", "--format", "json",
        ],
    );
    assert!(r.code <= 1, "{}", r.all());
    let report = r.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{}", r.all());
    let team: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "TEAM-002")
        .collect();
    // deployment_yaml names its container "main", not after the workload.
    assert_eq!(team.len(), 1, "{}", r.stdout);
    assert_eq!(
        team[0]["path"], "spec.template.spec.containers[0]",
        "{}",
        r.stdout
    );

    write(
        dir.path(),
        "policies/names_test.rego",
        "package team.names_test\n\nimport data.team.names\n\ntest_other_name_denied if {\n  count(names.deny_name) == 1 with input as {\"identity\": {\"name\": \"web\"}, \"resource\": {\"spec\": {\"containers\": [{\"name\": \"app\"}]}}}\n}\n",
    );
    let r = run_in(dir.path(), &["policy", "test", "policies"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("policy tests: 1 passed, 0 failed"),
        "{}",
        r.stdout
    );
}

#[test]
fn rules_are_compiled_before_any_source_is_read() {
    let dir = repo_with_one_deployment();
    write(dir.path(), "policies/broken.rego", BROKEN_POLICY);
    let r = run_in(
        dir.path(),
        &[
            "scan", "--repo", "repo", "--policy", "policies", "--format", "json", "-vv",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.json()["errors"][0]["location"]
            .as_str()
            .unwrap()
            .starts_with("policies/broken.rego:"),
        "{}",
        r.stdout
    );
    let line_of = |needle: &str| {
        r.stderr
            .lines()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{}", r.stderr))
    };
    assert!(
        line_of("stage=\"rules\"") < line_of("what=\"declared repository\""),
        "{}",
        r.stderr
    );
}
