//! Waivers through the real binary (docs/waivers.md): a waived finding is
//! reported as suppressed with its owner, reason and end date and neither
//! counts nor fails; an expired waiver fails the check and names its owner;
//! a waiver matching nothing is reported as stale; a waiver without reason,
//! owner or a real date is an error at its line; `driftaudit waive` prints
//! an entry that, filled in, waives exactly that finding.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::{run_in, write, Run};
use crate::schemas::{assert_valid, schema};

/// A privileged Pod in `shop`, otherwise clean: one DA-PRIV-001 finding.
fn privileged_pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  securityContext: {{runAsNonRoot: true}}\n  containers:\n    - name: agent\n      image: registry.example.com/agent:1.2\n      securityContext:\n        privileged: true\n"
    )
}

const WAIVERS: &str = ".driftaudit/waivers.yaml";

/// One waiver entry (starting with `  - rule:`).
fn entry(rule: &str, name: &str, owner: &str, expires: &str) -> String {
    format!(
        "  - rule: {rule}\n    resource: {{kind: Pod, namespace: shop, name: {name}}}\n    reason: vendor agent needs host access until the 2027 migration\n    owner: {owner}\n    expires: {expires}\n"
    )
}

/// A repository with privileged Pods `api` and `agent` and the waivers file.
fn repo_with(waivers: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/api.yaml", &privileged_pod("api"));
    write(dir.path(), "repo/agent.yaml", &privileged_pod("agent"));
    write(dir.path(), &format!("repo/{WAIVERS}"), waivers);
    dir
}

fn scan(dir: &Path, now: &str, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--repo", "repo", "--now", now];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

fn rules(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["resource"]["name"].as_str().unwrap_or("-");
            (f["rule"].as_str().unwrap().to_string(), name.to_string())
        })
        .collect()
}

fn pair(rule: &str, name: &str) -> (String, String) {
    (rule.into(), name.into())
}

const NOW: &str = "2026-11-30T12:00:00Z";

#[test]
fn a_waived_finding_is_suppressed_with_owner_reason_and_expiry_and_does_not_fail() {
    let waivers = format!(
        "waivers:\n{}{}",
        entry("DA-PRIV-001", "api", "team-payments", "2026-12-31"),
        entry("DA-PRIV-*", "agent", "team-infra", "2026-12-31")
    );
    let dir = repo_with(&waivers);
    let r = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(r.code, 0, "waived findings never fail: {}", r.all());
    let report = r.json();
    assert_eq!(report["findings"], json!([]), "{}", r.stdout);
    assert_eq!(report["summary"]["findings"]["total"], 0);
    assert_eq!(report["summary"]["findings"]["suppressed"], 2);
    assert_eq!(
        rules(&report["suppressed_findings"]),
        vec![pair("DA-PRIV-001", "agent"), pair("DA-PRIV-001", "api")]
    );
    let api = &report["suppressed_findings"][1];
    assert_eq!(
        api["suppression"],
        json!({
            "kind": "external",
            "by": "waiver .driftaudit/waivers.yaml:2",
            "reason": "vendor agent needs host access until the 2027 migration",
            "owner": "team-payments",
            "expires": "2026-12-31",
        })
    );
    assert_eq!(
        api["location"],
        json!({"file": "api.yaml", "line": 12}),
        "it still points at the offending line"
    );
    assert_eq!(
        report["waivers"],
        json!({"file": ".driftaudit/waivers.yaml", "total": 2, "waived_findings": 2, "expired": 0, "stale": []})
    );
    assert_valid(
        &schema("docs/report-schema.json"),
        &report,
        "a report with waivers",
    );
    assert_eq!(
        report["declared_coverage"]["files"][0],
        json!({"path": ".driftaudit/waivers.yaml", "state": "excluded", "reason": "driftaudit's waivers file"}),
        "the waivers file is no manifest"
    );

    // The text report says who waived what, until when.
    let text = scan(dir.path(), NOW, &["--list-suppressed"]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout.contains("suppressed by waiver .driftaudit/waivers.yaml:2 (owner team-payments, expires 2026-12-31): vendor agent needs host access"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "WAIVERS  .driftaudit/waivers.yaml: 2 waiver(s), 2 finding(s) waived, 0 expired, 0 stale"
        ),
        "{}",
        text.stdout
    );

    // The same findings without the waivers file fail the scan.
    std::fs::remove_file(dir.path().join("repo").join(WAIVERS)).unwrap();
    let bare = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(bare.code, 1, "{}", bare.all());
    assert_eq!(bare.json()["summary"]["findings"]["total"], 2);
    assert!(
        bare.json().get("waivers").is_none(),
        "no waivers file, no section"
    );
}

#[test]
fn an_expired_waiver_fails_the_check_and_names_its_owner() {
    let waivers = format!(
        "# accepted risks\n\nwaivers:\n{}",
        entry("DA-PRIV-001", "api", "team-payments", "2026-11-29")
    );
    let dir = repo_with(&waivers);
    let r = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(
        r.code,
        1,
        "an expired waiver fails with the default --fail-on: {}",
        r.all()
    );
    let report = r.json();
    assert_eq!(
        report["suppressed_findings"],
        json!([]),
        "it no longer suppresses"
    );
    let expired: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DA-WAIVER-EXPIRED")
        .collect();
    assert_eq!(expired.len(), 1, "{}", r.stdout);
    let finding = expired[0];
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["category"], "waivers");
    assert_eq!(
        finding["location"],
        json!({"file": ".driftaudit/waivers.yaml", "line": 4})
    );
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("owned by team-payments") && message.contains("expired on 2026-11-29"),
        "{message}"
    );
    assert!(
        rules(&report["findings"]).contains(&pair("DA-PRIV-001", "api")),
        "the finding it covered counts again: {}",
        r.stdout
    );
    assert_eq!(report["waivers"]["expired"], 1);
    assert_valid(
        &schema("docs/report-schema.json"),
        &report,
        "a report with an expired waiver",
    );

    // The fingerprint survives lines shifting above the waiver.
    write(
        dir.path(),
        &format!("repo/{WAIVERS}"),
        &format!("# moved down\n\n\n{waivers}"),
    );
    let moved = scan(dir.path(), NOW, &["--format", "json"]).json();
    let again = moved["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-WAIVER-EXPIRED")
        .unwrap();
    assert_eq!(again["location"]["line"], 7);
    assert_eq!(again["fingerprint"], finding["fingerprint"]);

    // The text report names the owner at the waiver's line.
    let text = scan(dir.path(), NOW, &[]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.contains("DA-WAIVER-EXPIRED") && text.stdout.contains("owned by team-payments"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("at .driftaudit/waivers.yaml:7"),
        "{}",
        text.stdout
    );
    // The waiver still holds on its last day.
    let last_day = scan(dir.path(), "2026-11-29T23:59:59Z", &["--format", "json"]);
    assert_eq!(
        rules(&last_day.json()["findings"]),
        vec![pair("DA-PRIV-001", "agent")],
        "{}",
        last_day.stdout
    );
}

#[test]
fn a_waiver_that_matches_nothing_is_reported_as_stale_and_does_not_fail() {
    let waivers = format!(
        "waivers:\n{}{}{}",
        entry("DA-PRIV-001", "api", "team-payments", "2026-12-31"),
        entry("DA-PRIV-001", "agent", "team-infra", "2026-12-31"),
        entry("DA-PRIV-001", "gone", "team-legacy", "2026-12-31")
    );
    let dir = repo_with(&waivers);
    let r = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(r.code, 0, "a stale waiver is a warning: {}", r.all());
    let report = r.json();
    assert_eq!(
        report["waivers"]["stale"],
        json!([{
            "location": {"file": ".driftaudit/waivers.yaml", "line": 12},
            "rule": "DA-PRIV-001",
            "owner": "team-legacy",
            "expires": "2026-12-31",
        }])
    );
    let text = scan(dir.path(), NOW, &[]);
    assert!(
        text.stdout.contains("stale waiver at .driftaudit/waivers.yaml:12 (DA-PRIV-001, owner team-legacy, expires 2026-12-31): matches no finding; remove it"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_waiver_without_reason_owner_or_a_real_date_is_an_error_at_its_line() {
    let good = entry("DA-PRIV-001", "api", "team-payments", "2026-12-31");
    let cases = [
        (
            good.replace("    owner: team-payments\n", ""),
            2,
            "`owner` is required",
        ),
        (
            good.replace(
                "    reason: vendor agent needs host access until the 2027 migration\n",
                "",
            ),
            2,
            "`reason` is required",
        ),
        (
            good.replace("    expires: 2026-12-31\n", ""),
            2,
            "`expires` is required",
        ),
        (
            good.replace("2026-12-31", "2026-13-01"),
            6,
            "`2026-13-01` is not a date",
        ),
        (good.replace("2026-12-31", "soon"), 6, "is not a date"),
    ];
    for (text, line, message) in cases {
        let dir = repo_with(&format!("waivers:\n{text}"));
        let r = scan(dir.path(), NOW, &["--format", "json"]);
        assert_eq!(r.code, 2, "{text}\n{}", r.all());
        assert!(r.stdout.is_empty(), "no report: {}", r.stdout);
        assert!(
            r.stderr.contains("error[DA-E601]") && r.stderr.contains(message),
            "{text}\n{}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains(&format!("repo/.driftaudit/waivers.yaml:{line}")),
            "at line {line}: {}",
            r.stderr
        );
    }
}

#[test]
fn waive_prints_an_entry_that_waives_exactly_that_finding() {
    let dir = repo_with("waivers: []\n");
    let saved = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(saved.code, 1, "{}", saved.all());
    write(dir.path(), "report.json", &saved.stdout);
    let report = saved.json();
    let agent = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "agent")
        .unwrap();
    let fingerprint = agent["fingerprint"].as_str().unwrap();

    let from_report = run_in(
        dir.path(),
        &["waive", fingerprint, "--input", "report.json", "--now", NOW],
    );
    assert_eq!(from_report.code, 0, "{}", from_report.all());
    let printed = &from_report.stdout;
    assert!(
        printed.contains("  - rule: \"DA-PRIV-001\"\n")
            && printed
                .contains("    resource: {kind: \"Pod\", namespace: \"shop\", name: \"agent\"}\n")
            && printed.contains(&format!("    fingerprint: \"{fingerprint}\"\n"))
            && printed.contains("    expires: 2027-02-28\n"),
        "today + 90 days: {printed}"
    );
    // Scanning instead of reading the saved report prints the same entry.
    let from_scan = run_in(
        dir.path(),
        &["waive", fingerprint, "--repo", "repo", "--now", NOW],
    );
    assert_eq!(from_scan.stdout, *printed, "{}", from_scan.stderr);

    // Pasted as printed: the placeholders are refused at their line.
    write(
        dir.path(),
        &format!("repo/{WAIVERS}"),
        &format!("waivers:\n{printed}"),
    );
    let unfilled = scan(dir.path(), NOW, &[]);
    assert_eq!(unfilled.code, 2, "{}", unfilled.all());
    assert!(
        unfilled.stderr.contains("placeholder"),
        "{}",
        unfilled.stderr
    );
    // Filled in: that finding, and only that one, is waived.
    let filled = printed
        .replace("\"<why this finding is accepted for now>\"", "vendor agent")
        .replace("\"<team or person who renews or fixes it>\"", "team-infra");
    write(
        dir.path(),
        &format!("repo/{WAIVERS}"),
        &format!("waivers:\n{filled}"),
    );
    let waived = scan(dir.path(), NOW, &["--format", "json"]).json();
    assert_eq!(
        rules(&waived["suppressed_findings"]),
        vec![pair("DA-PRIV-001", "agent")]
    );
    assert_eq!(rules(&waived["findings"]), vec![pair("DA-PRIV-001", "api")]);
    assert_eq!(
        waived["suppressed_findings"][0]["suppression"]["owner"],
        "team-infra"
    );

    let unknown = run_in(
        dir.path(),
        &["waive", &"0".repeat(32), "--input", "report.json"],
    );
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no finding with fingerprint"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn the_config_and_the_flag_name_the_waivers_file() {
    let dir = repo_with("waivers: []\n");
    write(
        dir.path(),
        "policy/accepted.yaml",
        &format!(
            "waivers:\n{}",
            entry("DA-PRIV-001", "a*", "team-payments", "2026-12-31")
        ),
    );
    write(
        dir.path(),
        "driftaudit.yaml",
        "waivers: policy/accepted.yaml\n",
    );
    let r = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    assert_eq!(
        report["summary"]["findings"]["suppressed"], 2,
        "a glob: {}",
        r.stdout
    );
    assert_eq!(
        report["suppressed_findings"][0]["suppression"]["by"],
        "waiver policy/accepted.yaml:2"
    );
    // --waivers wins over the config.
    let flag = scan(
        dir.path(),
        NOW,
        &[
            "--format",
            "json",
            "--waivers",
            "repo/.driftaudit/waivers.yaml",
        ],
    );
    assert_eq!(flag.code, 1, "{}", flag.all());
    assert_eq!(flag.json()["waivers"]["total"], 0);
    // A waivers file the config names must exist: an error at that line.
    write(
        dir.path(),
        "driftaudit.yaml",
        "fail_on: high\nwaivers: gone.yaml\n",
    );
    let missing = scan(dir.path(), NOW, &[]);
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert!(
        missing.stderr.contains("error[DA-E102]") && missing.stderr.contains("driftaudit.yaml:2"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_waiver_error_shows_its_line() {
    let waivers = format!(
        "waivers:\n{}",
        entry("DA-PRIV-001", "api", "team-payments", "2026-12-31")
            .replace("2026-12-31", "2026-06-31")
    );
    let dir = repo_with(&waivers);
    let r = scan(dir.path(), NOW, &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!(r.stderr);
}

#[test]
fn a_waiver_for_one_environment_leaves_the_others_counting() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/prod/api.yaml", &privileged_pod("api"));
    write(dir.path(), "repo/staging/api.yaml", &privileged_pod("api"));
    write(
        dir.path(),
        "driftaudit.yaml",
        "environments:\n  - {name: prod, paths: [prod]}\n  - {name: staging, paths: [staging]}\n",
    );
    write(
        dir.path(),
        &format!("repo/{WAIVERS}"),
        &format!(
            "waivers:\n{}",
            entry("DA-PRIV-001", "api", "team-payments", "2026-12-31")
                .replace("name: api}", "name: api, environment: prod}")
        ),
    );
    let r = scan(dir.path(), NOW, &["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let report = r.json();
    let environments = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|f| f["environment"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    assert_eq!(environments(&report["suppressed_findings"]), vec!["prod"]);
    assert_eq!(environments(&report["findings"]), vec!["staging"]);
}

/// The repository's waivers file is hostile input: a link to a file outside
/// the repository (a credentials file, `/proc/self/environ`), or a linked
/// `.driftaudit` folder, is refused without reading or printing what it
/// points at; so is a file that is not a regular file or is too large.
#[test]
fn a_waivers_file_that_links_out_of_the_repository_is_refused_unread() {
    let secret = "SECRET_TOKEN=hunter2-supersecret\n";
    let check = |dir: &tempfile::TempDir, why: &str| {
        let run = scan(dir.path(), NOW, &["--format", "json"]);
        assert_eq!(run.code, 2, "{why}: {}", run.all());
        assert!(
            run.stderr.contains("refused the waivers file"),
            "{why}: {}",
            run.all()
        );
        assert!(!run.all().contains("hunter2"), "{why}: {}", run.all());
    };
    // The file is a link.
    let dir = repo_with("waivers: []\n");
    write(dir.path(), "outside/credentials", secret);
    let file = dir.path().join("repo").join(WAIVERS);
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside/credentials"), &file).unwrap();
    check(&dir, "a linked file");
    // The folder is a link.
    let dir = repo_with("waivers: []\n");
    write(dir.path(), "outside/waivers.yaml", secret);
    std::fs::remove_dir_all(dir.path().join("repo/.driftaudit")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("outside"),
        dir.path().join("repo/.driftaudit"),
    )
    .unwrap();
    check(&dir, "a linked folder");
    // Too large.
    let dir = repo_with(&format!("waivers: []\n#{}\n", "x".repeat(2 << 20)));
    check(&dir, "a 2 MiB file");
    // The same content as a plain file in the repository is read.
    let dir = repo_with("waivers: []\n");
    let run = scan(dir.path(), NOW, &["--format", "json"]);
    assert!(!run.stderr.contains("refused"), "{}", run.all());
}

/// A waiver whose resource globs are all `*` would waive its rules on every
/// resource (a pull request could pass itself): refused at its line, as a
/// waiver naming no resource is.
#[test]
fn a_waiver_of_every_resource_is_refused() {
    for resource in [
        "{name: \"*\"}",
        "{kind: \"*\", namespace: \"**\", name: \"*\"}",
    ] {
        let dir = repo_with(&format!(
            "waivers:\n  - rule: \"*\"\n    resource: {resource}\n    reason: all of it\n    owner: someone\n    expires: 2099-12-31\n"
        ));
        let run = scan(dir.path(), NOW, &["--format", "json"]);
        assert_eq!(run.code, 2, "{resource}: {}", run.all());
        assert!(run.stderr.contains("DA-E601"), "{}", run.all());
        assert!(
            run.stderr.contains("waive the rule everywhere"),
            "{}",
            run.all()
        );
    }
    // One `*` beside a real name narrows it: accepted, and it waives api only.
    let dir = repo_with(
        &format!(
            "waivers:\n{}",
            entry("\"*\"", "api", "team-a", "2099-12-31")
        )
        .replace("kind: Pod", "kind: \"*\""),
    );
    let run = scan(dir.path(), NOW, &["--format", "json", "--fail-on", "none"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert!(rules(&report["suppressed_findings"])
        .iter()
        .all(|(_, name)| name == "api"));
    assert!(rules(&report["findings"])
        .iter()
        .any(|(_, name)| name == "agent"));
}

/// Under `--compare-ref`, the waivers a pull request adds, or whose date it
/// moves later, are listed for its reviewers (JSON `waivers.changed`, a
/// warning annotation at the waiver's line, the Markdown summary, the text
/// report); a waiver the base already had, unchanged, is not.
#[test]
fn waivers_a_change_adds_or_extends_are_named_under_compare_ref() {
    let base_waivers = format!(
        "waivers:\n{}",
        entry("DA-PRIV-001", "api", "team-payments", "2026-12-31")
    );
    let dir = repo_with(&base_waivers);
    let repo = git2::Repository::init(dir.path().join("repo")).unwrap();
    let base = crate::common::commit_all(&repo, "base");
    // The head extends the first waiver and adds one for `agent`.
    let head_waivers = format!(
        "waivers:\n{}{}",
        entry("DA-PRIV-001", "api", "team-payments", "2027-03-31"),
        entry("DA-PRIV-001", "agent", "team-infra", "2026-12-31")
    );
    write(dir.path(), &format!("repo/{WAIVERS}"), &head_waivers);
    crate::common::commit_all(&repo, "head");

    let compared = |format: &str| {
        scan(
            dir.path(),
            NOW,
            &["--ref", "HEAD", "--compare-ref", &base, "--format", format],
        )
    };
    let r = compared("json");
    assert_eq!(r.code, 0, "{}", r.all());
    let changed = &r.json()["waivers"]["changed"];
    assert_eq!(
        changed,
        &json!([
            {"location": {"file": WAIVERS, "line": 2}, "rule": "DA-PRIV-001", "owner": "team-payments",
             "expires": "2027-03-31", "change": "extended", "waived_findings": 1},
            {"location": {"file": WAIVERS, "line": 7}, "rule": "DA-PRIV-001", "owner": "team-infra",
             "expires": "2026-12-31", "change": "added", "waived_findings": 1}
        ]),
        "{}",
        r.stdout
    );
    let compared = |format: &str| {
        scan(
            dir.path(),
            NOW,
            &["--ref", "HEAD", "--compare-ref", &base, "--format", format],
        )
    };
    let r = compared("github");
    assert!(
        r.stdout.contains(&format!(
            "::warning file={WAIVERS},line=7,title=driftaudit%3A waiver added by this change::waiver of DA-PRIV-001 added"
        )),
        "{}",
        r.stdout
    );
    let r = compared("markdown");
    assert!(
        r.stdout
            .contains("### Waivers this change adds or extends (2)"),
        "{}",
        r.stdout
    );
    let r = compared("text");
    assert!(
        r.stdout
            .contains(&format!("{WAIVERS}:2: waiver of DA-PRIV-001 extended")),
        "{}",
        r.stdout
    );

    // Compared with itself, nothing changed; without --compare-ref the key is absent.
    let r = scan(
        dir.path(),
        NOW,
        &["--ref", "HEAD", "--compare-ref", "HEAD", "--format", "json"],
    );
    assert_eq!(r.json()["waivers"].get("changed"), None, "{}", r.stdout);
    let r = scan(dir.path(), NOW, &["--ref", "HEAD", "--format", "json"]);
    assert_eq!(r.json()["waivers"].get("changed"), None, "{}", r.stdout);
}
