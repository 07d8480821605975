//! Golden error output: each input mistake a user makes in the config or a
//! baseline is refused before any source is read (exit 2), and what the real
//! binary prints on stderr is locked in a snapshot file (tests/integration/snapshots/),
//! so a change of wording or layout is reviewed as a file diff.
//!
//! Every scan here names a repository and a live snapshot that do not exist:
//! had a source been read, its error would show instead of the one expected.

use crate::common::{run_in, write, Run};

/// Runs a scan in a fresh folder holding `files`, with sources that do not exist.
fn scan_with(files: &[(&str, &str)], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    let mut args = vec![
        "scan",
        "--repo",
        "no-such-repo",
        "--live-snapshot",
        "no-such-snapshot.json",
    ];
    args.extend_from_slice(extra);
    run_in(dir.path(), &args)
}

/// Exit 2, nothing on stdout, no source touched; the stderr is returned.
fn refused(run: &Run) -> &str {
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.is_empty(), "{}", run.all());
    assert!(
        !run.stderr.contains("no-such-"),
        "a source was read before the input was checked:\n{}",
        run.stderr
    );
    &run.stderr
}

#[test]
fn config_typo_in_a_top_level_key() {
    let run = scan_with(
        &[("driftaudit.yaml", "version: 1\nmanaged_namespace: [shop]\n")],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_typo_in_a_nested_key() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "drift:\n  strict: true\n  ignore:\n    - kind: Deployment\n      path: [$.spec.replicas]\n",
        )],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_value_of_the_wrong_type() {
    let run = scan_with(&[("driftaudit.yaml", "drift:\n  strict: maybe\n")], &[]);
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_bad_json_path_in_drift_ignore() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "drift:\n  ignore:\n    - kind: Deployment\n      paths: [\"$.spec.replicas\", \"$.spec[\"]\n",
        )],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_bad_glob_in_an_object_pattern() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "unmanaged:\n  exclude:\n    - kind: Secret\n      name: \"[unclosed\"\n",
        )],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_bad_glob_in_git_exclude() {
    let run = scan_with(
        &[("driftaudit.yaml", "git:\n  exclude:\n    - \"charts/{a\"\n")],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_names_a_baseline_that_does_not_exist() {
    let run = scan_with(
        &[("driftaudit.yaml", "baselines:\n  - baselines/acme.yaml\n")],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_yaml_syntax_error() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "drift:\n  strict: [true\nfail_on: high\n",
        )],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn baseline_value_of_the_wrong_type() {
    let run = scan_with(
        &[
            ("driftaudit.yaml", "baselines: [acme.yaml]\n"),
            (
                "acme.yaml",
                "# ACME thresholds\ncertificates:\n  warn_days: 45\n  fail_days: \"two weeks\"\n",
            ),
        ],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn baseline_unknown_key_in_a_builtin_section() {
    let run = scan_with(
        &[(
            "acme.yaml",
            "images:\n  aproved_registries: [registry.acme.example]\n",
        )],
        &["--baseline", "acme.yaml"],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn baseline_value_out_of_range_in_a_list() {
    let run = scan_with(
        &[(
            "acme.yaml",
            "privileges:\n  exempt_namespaces: [kube-system, Monitoring]\n",
        )],
        &["--baseline", "acme.yaml"],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn rego_compile_error_shows_the_policy_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "policies/acme.rego",
        "package acme.broken\n\nimport rego.v1\n\ndeny contains msg if {\n  msg := \"x\" +\n}\n",
    );
    let run = run_in(dir.path(), &["policy", "list", "--policy", "policies"]);
    assert_eq!(run.code, 2, "{}", run.all());
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn sections_of_the_users_own_policies_are_free() {
    // Not a baseline error: the scan goes on and meets the missing repository.
    let run = scan_with(
        &[("acme.yaml", "acme:\n  anything: [1, two]\n")],
        &["--baseline", "acme.yaml"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.stderr.contains("acme.yaml"), "{}", run.all());
    assert!(run.all().contains("no-such-"), "{}", run.all());
}

#[test]
fn config_typo_inside_a_source_section() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "kubernetes:\n  kubeconfig: kube/config\n  kube_context: prod\n",
        )],
        &[],
    );
    insta::assert_snapshot!(refused(&run));
}

#[test]
fn config_postgres_dsn_with_a_password() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "postgres:\n  dsns:\n    - host=db user=app dbname=app\n    - postgres://app:hunter2-canary@db/app\n",
        )],
        &[],
    );
    let stderr = refused(&run);
    assert!(!run.all().contains("hunter2-canary"), "{}", run.all());
    insta::assert_snapshot!(stderr);
}

#[test]
fn config_traefik_url_with_credentials() {
    let run = scan_with(
        &[(
            "driftaudit.yaml",
            "traefik: {url: \"http://admin:hunter2-canary@127.0.0.1:8080\"}\n",
        )],
        &[],
    );
    let stderr = refused(&run);
    assert!(!run.all().contains("hunter2-canary"), "{}", run.all());
    insta::assert_snapshot!(stderr);
}
