//! Golden errors of the sources: a broken manifest in the repository, a bad
//! `--ref`, a broken live snapshot. Met during a scan, such errors are listed
//! in the report (exit 2), each with its code, place and message; the golden
//! file holds what the real binary reports (the JSON `errors` and the text
//! report's `ERRORS` lines) and the same diagnostic rendered for people by the
//! one renderer, with the offending line of the file.

use driftaudit::diag::{render_with_source, Diagnostic, RenderOptions};
use serde_json::Value;

use crate::common::{commit_all, run_in, write, Run};

/// `code  location  message`, one line per error of the JSON report.
fn json_errors(run: &Run) -> String {
    assert_eq!(run.code, 2, "{}", run.all());
    let report: Value = run.json();
    report["errors"]
        .as_array()
        .expect("an errors list")
        .iter()
        .map(|e| {
            format!(
                "{}  {}  {}",
                e["code"].as_str().unwrap(),
                e["location"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `ERRORS` section of the text report.
fn text_errors(run: &Run) -> String {
    assert_eq!(run.code, 2, "{}", run.all());
    run.stdout
        .lines()
        .skip_while(|l| !l.starts_with("ERRORS"))
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Both reports of the same scan, and one diagnostic rendered with its file's text.
fn golden(dir: &std::path::Path, args: &[&str], diagnostic: &Diagnostic, text: &str) -> String {
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let json = json_errors(&run_in(dir, &json_args));
    let text_report = text_errors(&run_in(dir, args));
    let rendered = render_with_source(diagnostic, Some(text), &RenderOptions::default());
    format!("JSON report errors:\n{json}\n\ntext report:\n{text_report}\n\nrendered:\n{rendered}")
}

const BROKEN_MANIFEST: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels: {tier: [web, api}\n";
const GOOD_MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n";

#[test]
fn manifest_yaml_syntax_error_in_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/apps/app.yaml", BROKEN_MANIFEST);
    write(dir.path(), "repo/apps/other.yaml", GOOD_MANIFEST);
    let (resources, errors) = driftaudit::sources::declared::resources_from_text(
        BROKEN_MANIFEST,
        "apps/app.yaml",
        0,
        None,
        "default",
    );
    assert!(resources.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    insta::assert_snapshot!(golden(
        dir.path(),
        &["scan", "--repo", "repo"],
        &errors[0],
        BROKEN_MANIFEST
    ));
}

#[test]
fn unknown_ref() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/apps/other.yaml", GOOD_MANIFEST);
    let repo = git2::Repository::init(dir.path().join("repo")).unwrap();
    commit_all(&repo, "first");
    let error = driftaudit::sources::git::resolve_commit(
        &repo,
        "release-2.0",
        std::path::Path::new("repo"),
    )
    .map(|_| ())
    .expect_err("no such ref");
    // The cause is kept for programs that walk the chain.
    let cause = std::error::Error::source(&error).expect("the git2 error");
    assert!(cause.to_string().contains("release-2.0"), "{cause}");
    insta::assert_snapshot!(golden(
        dir.path(),
        &["scan", "--repo", "repo", "--ref", "release-2.0"],
        &error,
        ""
    ));
}

const BROKEN_SNAPSHOT: &str = "{\n  \"format\": \"driftaudit-snapshot\",\n  \"version\": 1,\n  \"targets\": [\n    {\"name\": \"prod\",, \"resources\": []}\n  ]\n}\n";

#[test]
fn broken_live_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "live.json", BROKEN_SNAPSHOT);
    let error = driftaudit::sources::snapshot::parse_snapshot(BROKEN_SNAPSHOT, "live.json")
        .map(|_| ())
        .expect_err("not a snapshot");
    assert!(std::error::Error::source(&error).is_some());
    insta::assert_snapshot!(golden(
        dir.path(),
        &["scan", "--live-snapshot", "live.json"],
        &error,
        BROKEN_SNAPSHOT
    ));
}

/// A flag value or credential that cannot be used stops the scan before any
/// source is read: the diagnostic goes to stderr, and no secret is in it.
fn refused_flags(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), args);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.is_empty(), "{}", run.all());
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    run.stderr
}

#[test]
fn bad_live_flag_values() {
    let stderr = [
        refused_flags(&["scan", "--tls-endpoint", "example.test"]),
        refused_flags(&["scan", "--traefik-url", "http://admin:hunter2@127.0.0.1:1"]),
        refused_flags(&[
            "scan",
            "--postgres",
            "host=db.example.test password=hunter2",
        ]),
        refused_flags(&[
            "scan",
            "--traefik-url",
            "http://127.0.0.1:1",
            "--traefik-token-file",
            "no-such-token.txt",
        ]),
    ]
    .concat();
    insta::assert_snapshot!(stderr);
}

#[test]
fn each_declared_mistake_has_its_code() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/a.yaml", GOOD_MANIFEST);
    // The same ConfigMap again, a document without a kind, a list whose items
    // are not a list.
    write(
        dir.path(),
        "repo/b.yaml",
        &format!("{GOOD_MANIFEST}---\napiVersion: v1\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: List\nitems: 3\n"),
    );
    write(
        dir.path(),
        "repo/c.yaml",
        "apiVersion: driftaudit.io/v1\nkind: PostgresBaseline\nroles: 3\n",
    );
    let run = run_in(dir.path(), &["scan", "--repo", "repo", "--format", "json"]);
    let errors = json_errors(&run);
    let codes: Vec<(&str, &str)> = errors
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, "  ");
            (parts.next().unwrap(), parts.next().unwrap())
        })
        .collect();
    assert!(codes.contains(&("DA-E405", "b.yaml:1")), "{errors}");
    assert!(codes.contains(&("DA-E404", "b.yaml:6")), "{errors}");
    assert!(codes.contains(&("DA-E404", "b.yaml:10")), "{errors}");
    assert!(
        codes
            .iter()
            .any(|(code, at)| *code == "DA-E407" && at.starts_with("c.yaml:")),
        "{errors}"
    );
}
