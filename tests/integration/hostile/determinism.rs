//! Reports that depended on the wall clock or on timings, and numbers that
//! YAML reads as infinities or NaN: the same input must give the same report.

use crate::common::{deployment_yaml, run_in, write, Run};

const RULE_HEADER: &str = "package team.clock\n\n# METADATA\n# title: Clock rule\n# custom:\n#   id: CLOCK-001\n#   kinds: [Deployment]\n";

fn scan(dir: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--format",
        "json",
        "--now",
        "2030-01-01T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn user_policy_time_now_ns_reads_the_scan_clock_not_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let policy =
        format!("{RULE_HEADER}deny contains sprintf(\"now=%d\", [time.now_ns()]) if true\n");
    write(dir.path(), "policies/clock.rego", &policy);
    let run = scan(dir.path(), &["--policy", "policies"]);
    let report = run.json();
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "CLOCK-001")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(messages, vec!["now=1893456000000000000"], "{}", run.all());
}

#[test]
fn policy_time_limit_errors_carry_no_elapsed_duration() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let policy = format!(
        "{RULE_HEADER}deny contains \"slow\" if {{\n  count([x | some x in numbers.range(0, 100000); some y in numbers.range(0, 100000)]) < 0\n}}\n"
    );
    write(dir.path(), "policies/slow.rego", &policy);
    let first = scan(
        dir.path(),
        &["--policy", "policies", "--policy-timeout", "1"],
    );
    assert_eq!(first.code, 2, "{}", first.all());
    assert!(first.all().contains("CLOCK-001"), "{}", first.all());
    assert!(!first.all().contains("elapsed"), "{}", first.all());
    let second = scan(
        dir.path(),
        &["--policy", "policies", "--policy-timeout", "1"],
    );
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(first.stderr, second.stderr);
}

fn assert_number_rejected(value: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: numbers\n  namespace: shop\ndata:\n  x: \"1\"\nweight: {value}\n"
    );
    write(dir.path(), "repo/numbers.yaml", &text);
    let run = scan(dir.path(), &[]);
    assert_eq!(run.code, 2, "{value}: {}", run.all());
    assert!(
        run.all().contains("numbers.yaml:8"),
        "{value}: {}",
        run.all()
    );
    assert!(
        !run.all().contains("\"inf\"") && !run.all().contains("\"NaN\""),
        "{}",
        run.all()
    );
}

#[test]
fn yaml_number_overflowing_to_infinity_is_an_input_error() {
    assert_number_rejected("1e400");
}

#[test]
fn yaml_nan_is_an_input_error() {
    assert_number_rejected(".nan");
}

#[test]
fn yaml_infinity_is_an_input_error() {
    assert_number_rejected("-.inf");
}

#[test]
fn json_number_overflowing_to_infinity_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/numbers.json",
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\"name\": \"n\", \"namespace\": \"shop\"},\n  \"weight\": 1e400\n}\n",
    );
    let run = scan(dir.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.all().contains("numbers.json:5"), "{}", run.all());
}
