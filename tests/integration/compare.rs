//! `scan --compare-ref BASE` (issue 13 items 2 and 3): findings of a head
//! compared with a base commit of the same repository by fingerprint. The
//! repositories are real Git repositories built in each test; every run is
//! the real binary.

use std::path::Path;

use serde_json::Value;

use crate::common::{commit_all, run_in, write, Run};
use crate::schemas::{assert_valid, schema};

const NOW: &str = "2026-11-22T00:00:00Z";

/// A Deployment whose only finding is its `:latest` image (DA-IMG-002,
/// medium); `extra` lines go into the pod spec.
fn web(image: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n{extra}      securityContext: {{runAsNonRoot: true}}\n      containers:\n        - name: main\n          image: {image}\n          resources:\n            limits: {{cpu: 500m, memory: 256Mi}}\n            requests: {{cpu: 100m, memory: 128Mi}}\n          securityContext: {{allowPrivilegeEscalation: false}}\n"
    )
}

/// A Pod whose only finding is that it runs privileged (DA-PRIV-001, critical).
const AGENT: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\n  namespace: shop\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n    - name: main\n      image: registry.example.com/agent:1.0\n      resources:\n        limits: {cpu: 500m, memory: 256Mi}\n        requests: {cpu: 100m, memory: 128Mi}\n      securityContext:\n        privileged: true\n";

/// Lines that shift everything below them.
const SHIFT: &str = "# owned by team-shop\n# reviewed 2026-11\n\n\n";

/// A repository whose base commit holds two findings: DA-IMG-002 on web
/// (`apps/web.yaml`) and DA-PRIV-001 on agent (`apps/agent.yaml`).
fn base_repository() -> (tempfile::TempDir, git2::Repository, String) {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    write(
        dir.path(),
        "apps/web.yaml",
        &web("registry.example.com/web:latest", ""),
    );
    write(dir.path(), "apps/agent.yaml", AGENT);
    let base = commit_all(&repo, "base");
    (dir, repo, base)
}

/// The head of the done-when test: every line shifted, agent moved to
/// another file, and one new finding on web: `hostNetwork` (DA-PRIV-002,
/// high) with `hostnetwork`, else a second Deployment with a `:latest` image
/// (DA-IMG-002, medium).
fn edit_head(root: &Path, hostnetwork: bool) {
    let extra = if hostnetwork {
        "      hostNetwork: true\n"
    } else {
        ""
    };
    write(
        root,
        "apps/web.yaml",
        &format!("{SHIFT}{}", web("registry.example.com/web:latest", extra)),
    );
    std::fs::remove_file(root.join("apps/agent.yaml")).unwrap();
    write(root, "platform/agents/pod.yaml", &format!("{SHIFT}{AGENT}"));
    if !hostnetwork {
        let api = web("registry.example.com/api:latest", "").replace("name: web", "name: api");
        write(root, "apps/api.yaml", &api);
    }
}

/// `scan` of the repository's HEAD as a JSON report.
fn scan(dir: &Path, extra: &[&str]) -> Run {
    scan_as(dir, "json", extra)
}

fn scan_as(dir: &Path, format: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "scan", "--repo", ".", "--ref", "HEAD", "--now", NOW, "--format", format,
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

/// `scan` compared with `base`, failing on `fail_on`.
fn compare(dir: &Path, base: &str, fail_on: &str, extra: &[&str]) -> Run {
    scan(
        dir,
        &[&["--compare-ref", base, "--fail-on", fail_on], extra].concat(),
    )
}

/// The JSON report of `run`, which must have exited with `code` (`why` says
/// what that code means here).
fn report_of(run: &Run, code: i32, why: &str) -> Value {
    assert_eq!(run.code, code, "{why}: {}", run.all());
    run.json()
}

/// The first finding of `rule` in a JSON report.
fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding: {report}"))
}

/// `(rule, resource name, fingerprint, baseline_state)` of each finding of
/// the list `key` (absent: none).
fn findings(report: &Value, key: &str) -> Vec<(String, String, String, Option<String>)> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let list = report[key].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|f| {
            (
                text(&f["rule"]).unwrap(),
                text(&f["resource"]["name"]).unwrap_or_default(),
                text(&f["fingerprint"]).unwrap(),
                text(&f["baseline_state"]),
            )
        })
        .collect()
}

#[test]
fn only_the_new_finding_is_new_and_old_fingerprints_survive_shifts_and_moves() {
    let (dir, repo, base) = base_repository();
    let before = scan(dir.path(), &["--fail-on", "none"]);
    assert_eq!(before.code, 0, "{}", before.all());
    let before = before.json();
    let mut old: Vec<(String, String, String)> = findings(&before, "findings")
        .into_iter()
        .map(|(rule, name, fp, _)| (rule, name, fp))
        .collect();
    old.sort();
    assert_eq!(
        old.iter()
            .map(|(r, n, _)| format!("{r} {n}"))
            .collect::<Vec<_>>(),
        ["DA-IMG-002 web", "DA-PRIV-001 agent"],
        "the base holds two findings"
    );

    edit_head(dir.path(), true);
    commit_all(&repo, "head: shift, move, hostNetwork");

    let run = compare(dir.path(), &base, "high", &["-vv"]);
    let report = report_of(&run, 1, "the new high finding fails");
    assert_valid(
        &schema("docs/report-schema.json"),
        &report,
        "a compare report",
    );
    let head = findings(&report, "findings");
    let new: Vec<_> = head
        .iter()
        .filter(|f| f.3.as_deref() == Some("new"))
        .collect();
    assert_eq!(new.len(), 1, "exactly one new finding: {head:?}");
    assert_eq!(
        (new[0].0.as_str(), new[0].1.as_str()),
        ("DA-PRIV-002", "web")
    );
    let mut existing: Vec<(String, String, String)> = head
        .iter()
        .filter(|f| f.3.as_deref() == Some("existing"))
        .map(|(rule, name, fp, _)| (rule.clone(), name.clone(), fp.clone()))
        .collect();
    existing.sort();
    assert_eq!(existing, old, "every old fingerprint is unchanged");
    // The old findings did move: other lines, and agent in another file.
    let agent = &finding(&report, "DA-PRIV-001")["location"];
    assert_eq!(agent["file"], "platform/agents/pod.yaml");
    let old_agent = &finding(&before, "DA-PRIV-001")["location"];
    assert_eq!(old_agent["file"], "apps/agent.yaml");
    assert_ne!(agent["line"], old_agent["line"]);
    assert!(report.get("fixed_findings").is_none(), "nothing was fixed");
    assert_eq!(report["scan"]["compare"]["base_ref"], base.as_str());
    assert_eq!(report["scan"]["compare"]["base_commit"], base.as_str());
    assert_eq!(
        report["summary"]["findings"]["compared"],
        serde_json::json!({"new": 1, "existing": 2, "not_compared": 0, "fixed": 0})
    );
    // Reuse: agent is unchanged (moved, same content), so its verdicts come
    // from the head; web changed and is evaluated on the base again.
    assert!(
        run.stderr.contains("reused=1 evaluated=1"),
        "the unchanged resource is not evaluated twice: {}",
        run.stderr
    );

    // The new finding (high) is below `critical`: the existing critical one
    // does not fail the gate ...
    let run = compare(dir.path(), &base, "critical", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["summary"]["result"], "pass");
    // ... unless existing findings fail too.
    let run = compare(dir.path(), &base, "critical", &["--fail-on-existing"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(run.json()["scan"]["compare"]["fail_on_existing"], true);

    // The text report marks the new finding and counts the states.
    let text = scan_as(dir.path(), "text", &["--compare-ref", &base]);
    assert_eq!(text.code, 1, "{}", text.all());
    insta::assert_snapshot!("compare_scan_text", text.stdout);
    let line = text
        .stdout
        .lines()
        .find(|l| l.contains("DA-PRIV-002"))
        .unwrap();
    assert!(line.ends_with(" new"), "{line}");
    let agent_line = text
        .stdout
        .lines()
        .find(|l| l.contains("DA-PRIV-001"))
        .unwrap();
    assert!(!agent_line.ends_with(" new"), "{agent_line}");
    assert!(
        text.stdout.contains("; 1 new, 2 existing, 0 fixed\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("FAIL: 1 new finding(s) at or above high (exit 1)"),
        "{}",
        text.stdout
    );

    // The working tree as the head (no --ref) compares the same way.
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--now",
            NOW,
            "--format",
            "json",
            "--compare-ref",
            "HEAD~1",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(
        run.json()["summary"]["findings"]["compared"]["new"],
        1,
        "{}",
        run.stdout
    );
}

#[test]
fn a_new_finding_below_the_threshold_passes_even_with_existing_critical_ones() {
    let (dir, repo, base) = base_repository();
    edit_head(dir.path(), false);
    commit_all(&repo, "head: shift, move, api with :latest");
    let run = compare(dir.path(), &base, "high", &[]);
    let report = report_of(&run, 0, "exit code");
    let new: Vec<_> = findings(&report, "findings")
        .into_iter()
        .filter(|f| f.3.as_deref() == Some("new"))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        (new[0].0.as_str(), new[0].1.as_str()),
        ("DA-IMG-002", "api")
    );
    assert_eq!(report["summary"]["findings"]["critical"], 1);
    let run = compare(dir.path(), &base, "high", &["--fail-on-existing"]);
    assert_eq!(
        run.code, 1,
        "existing critical fails with --fail-on-existing"
    );
    let run = compare(dir.path(), &base, "medium", &[]);
    assert_eq!(run.code, 1, "the new medium finding fails at medium");
}

#[test]
fn a_changed_offending_value_is_new_and_its_old_fingerprint_is_fixed() {
    let (dir, repo, base) = base_repository();
    let before = findings(&scan(dir.path(), &["--fail-on", "none"]).json(), "findings");
    let old_image = before
        .iter()
        .find(|f| f.0 == "DA-IMG-002")
        .unwrap()
        .2
        .clone();
    write(
        dir.path(),
        "apps/web.yaml",
        &web("registry.example.com/web-v2:latest", ""),
    );
    commit_all(&repo, "head: another :latest image");
    let run = compare(dir.path(), &base, "medium", &[]);
    let report = report_of(&run, 1, "exit code");
    assert_valid(
        &schema("docs/report-schema.json"),
        &report,
        "a compare report",
    );
    let head = findings(&report, "findings");
    let image = head.iter().find(|f| f.0 == "DA-IMG-002").unwrap();
    assert_eq!(image.3.as_deref(), Some("new"));
    assert_ne!(image.2, old_image);
    let fixed = findings(&report, "fixed_findings");
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert_eq!(
        (fixed[0].0.as_str(), fixed[0].2.as_str()),
        ("DA-IMG-002", old_image.as_str())
    );
    assert_eq!(
        report["summary"]["findings"]["compared"],
        serde_json::json!({"new": 1, "existing": 1, "not_compared": 0, "fixed": 1})
    );
    // Fixing it for real lists it as fixed too, and nothing is new.
    write(
        dir.path(),
        "apps/web.yaml",
        &web("registry.example.com/web:1.4.2", ""),
    );
    commit_all(&repo, "head: pinned");
    let run = compare(dir.path(), &base, "info", &[]);
    let report = report_of(&run, 0, "only the existing finding is left");
    assert_eq!(findings(&report, "fixed_findings")[0].2, old_image);
    let text = scan_as(dir.path(), "text", &["--compare-ref", &base]);
    assert!(text.stdout.contains("FIXED  1"), "{}", text.stdout);
    assert!(text.stdout.contains(&old_image), "{}", text.stdout);
}

#[test]
fn a_head_compared_with_itself_reuses_every_verdict_and_has_nothing_new() {
    let (dir, _repo, _base) = base_repository();
    let run = scan(
        dir.path(),
        &["--compare-ref", "HEAD", "--fail-on", "info", "-vv"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("reused=2 evaluated=0"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.json()["summary"]["findings"]["compared"],
        serde_json::json!({"new": 0, "existing": 2, "not_compared": 0, "fixed": 0})
    );
}

#[test]
fn a_base_that_does_not_resolve_is_an_input_error_naming_it() {
    let (dir, _repo, _base) = base_repository();
    let run = scan(dir.path(), &["--compare-ref", "origin/nowhere"]);
    let report = report_of(&run, 2, "exit code");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["location"], "--compare-ref");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("`origin/nowhere`"),
        "{errors:?}"
    );
    assert_eq!(report["scan"]["compare"]["base_commit"], Value::Null);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("baseline_state").is_none()),
        "never a silent \"all new\""
    );
    // A sub-directory as --repo has no Git repository of its own: the error
    // says how to give it.
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "apps",
            "--now",
            NOW,
            "--format",
            "json",
            "--compare-ref",
            "HEAD",
        ],
    );
    let report = report_of(&run, 2, "a sub-directory is no repository");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("--path"), "{message}");
}

#[test]
fn a_base_that_could_not_be_read_makes_the_comparison_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    // The base's agent file is broken YAML: its finding is unknown there.
    write(
        dir.path(),
        "apps/web.yaml",
        &web("registry.example.com/web:1.0", ""),
    );
    write(
        dir.path(),
        "apps/agent.yaml",
        &format!("{AGENT}  broken: [\n"),
    );
    let base = commit_all(&repo, "base with a broken file");
    write(dir.path(), "apps/agent.yaml", AGENT);
    commit_all(&repo, "head fixes the file");
    let run = compare(dir.path(), &base, "high", &[]);
    assert_eq!(
        run.code,
        3,
        "not a pass, not a silent \"new\": {}",
        run.all()
    );
    let report = run.json();
    let gaps = report["coverage"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["target"] == "compare base"
            && g["scope"].as_str().unwrap().contains("apps/agent.yaml")),
        "{gaps:?}"
    );
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "the head read fine"
    );
    // With --allow-partial the new findings decide (the privileged agent
    // could not be seen on the base, so it counts as new).
    let run = compare(dir.path(), &base, "high", &["--allow-partial"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

#[test]
fn suppressed_findings_get_a_state_and_live_only_ones_are_not_compared() {
    let (dir, repo, _) = base_repository();
    // Suppressed on both sides (kube-system is exempt by default).
    let system = AGENT.replace("namespace: shop", "namespace: kube-system");
    write(dir.path(), "system/agent.yaml", &system);
    let base = commit_all(&repo, "base with an exempt agent");
    write(dir.path(), "system/agent.yaml", &format!("{SHIFT}{system}"));
    commit_all(&repo, "head: shifted");
    // The live side holds the declared web and an object Git never declared,
    // with a finding of its own (a `:latest` image).
    let rogue =
        crate::common::live_deployment("rogue", "shop", 1, "registry.example.com/rogue:latest");
    let snapshot = dir.path().join("live.json");
    std::fs::write(&snapshot, crate::common::snapshot_json("prod", &[rogue])).unwrap();
    let args = [
        "--compare-ref",
        &base,
        "--fail-on",
        "medium",
        "--live-snapshot",
        snapshot.to_str().unwrap(),
    ];
    let run = scan(dir.path(), &args);
    let report = run.json();
    assert_valid(
        &schema("docs/report-schema.json"),
        &report,
        "a compare report with live state",
    );
    let suppressed = findings(&report, "suppressed_findings");
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    assert_eq!(suppressed[0].3.as_deref(), Some("existing"));
    let rogue = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "rogue" && f["rule"] == "DA-IMG-002")
        .unwrap_or_else(|| panic!("the live-only finding: {report}"));
    assert_eq!(rogue["states"], serde_json::json!(["live"]));
    assert!(rogue.get("baseline_state").is_none(), "{rogue}");
    assert!(
        report["summary"]["findings"]["compared"]["not_compared"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        report["summary"]["findings"]["compared"]["new"], 0,
        "{report}"
    );
    // Nothing new: the live-only finding does not fail the gate (the
    // declared agent is not live: a missing object, no --fail-on-drift).
    assert_eq!(run.code, 0, "{}", run.all());
    let run = scan(dir.path(), &[&args[..], &["--fail-on-existing"]].concat());
    assert_eq!(
        run.code,
        1,
        "with --fail-on-existing it counts: {}",
        run.all()
    );
}

#[test]
fn environments_are_compared_each_with_its_own_base() {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let plain = web("registry.example.com/web:latest", "").replace("  namespace: shop\n", "");
    write(dir.path(), "envs/staging/web.yaml", &plain);
    write(dir.path(), "envs/production/web.yaml", &plain);
    write(
        dir.path(),
        "driftaudit.yaml",
        "environments:\n  - name: staging\n    paths: [envs/staging]\n    namespace: shop-staging\n  - name: production\n    paths: [envs/production]\n    namespace: shop\n",
    );
    let base = commit_all(&repo, "base");
    // Staging only shifted; production's offending value changed.
    write(
        dir.path(),
        "envs/staging/web.yaml",
        &format!("{SHIFT}{plain}"),
    );
    write(
        dir.path(),
        "envs/production/web.yaml",
        &plain.replace("web:latest", "web2:latest"),
    );
    commit_all(&repo, "head");
    let run = compare(dir.path(), &base, "medium", &[]);
    let report = report_of(&run, 1, "exit code");
    let states: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["environment"].as_str().unwrap().to_string(),
                f["baseline_state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("production".to_string(), "new".to_string()),
            ("staging".to_string(), "existing".to_string())
        ]
    );
    let fixed = &report["fixed_findings"];
    assert_eq!(fixed.as_array().unwrap().len(), 1, "{fixed}");
    assert_eq!(fixed[0]["environment"], "production");
}

#[test]
fn waived_findings_keep_their_state_and_an_expired_waiver_is_new() {
    let (dir, repo, base) = base_repository();
    write(
        dir.path(),
        ".driftaudit/waivers.yaml",
        "waivers:\n  - rule: DA-PRIV-001\n    resource: {kind: Pod, namespace: shop, name: agent}\n    reason: vendor agent until the 2027 migration\n    owner: team-platform\n    expires: 2027-12-31\n  - rule: DA-IMG-002\n    resource: {kind: Deployment, namespace: shop, name: web}\n    reason: pinned next sprint\n    owner: team-shop\n    expires: 2026-01-31\n",
    );
    commit_all(&repo, "head: waivers");
    let run = compare(dir.path(), &base, "high", &[]);
    let report = report_of(&run, 1, "the expired waiver fails the check");
    assert_valid(
        &schema("docs/report-schema.json"),
        &report,
        "a compare report with waivers",
    );
    let suppressed = findings(&report, "suppressed_findings");
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    assert_eq!(
        (suppressed[0].0.as_str(), suppressed[0].3.as_deref()),
        ("DA-PRIV-001", Some("existing"))
    );
    let expired = finding(&report, "DA-WAIVER-EXPIRED");
    assert_eq!(expired["baseline_state"], "new", "{expired}");
    assert!(expired["message"].as_str().unwrap().contains("team-shop"));
    assert_eq!(finding(&report, "DA-IMG-002")["baseline_state"], "existing");
}

/// The done-when repository in the formats a PR check uploads: its SARIF
/// validates against the SARIF 2.1.0 schema, marks the one new finding `new`
/// and the others `unchanged` under their (unchanged) fingerprints, and its
/// `github` annotations carry file and line, the new finding first.
#[test]
fn the_compare_repository_in_sarif_and_github_formats() {
    let (dir, repo, base) = base_repository();
    edit_head(dir.path(), true);
    commit_all(&repo, "head: shift, move, hostNetwork");
    let sarif_file = dir.path().join("out.sarif");
    let github_file = dir.path().join("annotations.txt");
    let run = compare(
        dir.path(),
        &base,
        "high",
        &[
            "--output",
            &format!("sarif={}", sarif_file.display()),
            "--output",
            &format!("github={}", github_file.display()),
        ],
    );
    let report = report_of(&run, 1, "the new high finding fails");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_file).unwrap()).unwrap();
    crate::formats::assert_valid_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{results:?}");
    for result in results {
        let rule = result["ruleId"].as_str().unwrap();
        let json = finding(&report, rule);
        assert_eq!(
            result["partialFingerprints"]["driftaudit/v1"], json["fingerprint"],
            "{rule}"
        );
        let expected = if rule == "DA-PRIV-002" {
            "new"
        } else {
            "unchanged"
        };
        assert_eq!(result["baselineState"], expected, "{rule}");
        let region = &result["locations"][0]["physicalLocation"];
        assert_eq!(region["artifactLocation"]["uri"], json["location"]["file"]);
        assert_eq!(region["region"]["startLine"], json["location"]["line"]);
    }
    let annotations = std::fs::read_to_string(&github_file).unwrap();
    let first = annotations.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=apps/web.yaml,line=") && first.contains("DA-PRIV-002"),
        "the new finding is annotated first, with file and line: {annotations}"
    );
    assert!(
        annotations.contains("file=platform/agents/pod.yaml,line="),
        "the moved resource is annotated where it is now: {annotations}"
    );
}

/// The files that configure the gate (the config, its baselines, a policy
/// folder), when the change touches them, are named for the reviewers: a
/// pull request that disables the rule its manifests break, or edits a
/// policy, says so in JSON, as an annotation and in the Markdown summary.
#[test]
fn changes_to_the_gates_own_files_are_named() {
    let (dir, repo, _) = base_repository();
    let root = dir.path();
    write(
        root,
        "driftaudit.yaml",
        "baselines: [baselines/team.yaml]\npolicies: {dirs: [policies]}\n",
    );
    write(
        root,
        "baselines/team.yaml",
        "images:\n  forbid_latest: true\n",
    );
    write(
        root,
        "policies/keep.rego",
        "package driftaudit.custom.keep\n\nimport rego.v1\n",
    );
    write(
        root,
        "policies/drop.rego",
        "package driftaudit.custom.drop\n\nimport rego.v1\n",
    );
    let base = commit_all(&repo, "base with its gate");
    // The head turns DA-PRIV-001 off, loosens the baseline, adds a policy
    // file and removes another; keep.rego is untouched.
    write(
        root,
        "driftaudit.yaml",
        "baselines: [baselines/team.yaml]\npolicies: {dirs: [policies], disable: [DA-PRIV-001]}\n",
    );
    write(
        root,
        "baselines/team.yaml",
        "images:\n  forbid_latest: false\n",
    );
    write(
        root,
        "policies/added.rego",
        "package driftaudit.custom.added\n\nimport rego.v1\n",
    );
    std::fs::remove_file(root.join("policies/drop.rego")).unwrap();
    let run = |format: &str| {
        run_in(
            root,
            &[
                "scan",
                "--repo",
                ".",
                "--now",
                NOW,
                "--compare-ref",
                &base,
                "--format",
                format,
            ],
        )
    };
    let report = run("json").json();
    assert_valid(&schema("docs/report-schema.json"), &report, "gate changes");
    let changes: Vec<(String, String)> = report["scan"]["compare"]["gate_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().into(),
                c["change"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pair = |p: &str, c: &str| (p.to_string(), c.to_string());
    assert_eq!(
        changes,
        [
            pair("baselines/team.yaml", "modified"),
            pair("driftaudit.yaml", "modified"),
            pair("policies/added.rego", "added"),
            pair("policies/drop.rego", "removed"),
        ]
    );
    let github = run("github").stdout;
    assert!(
        github.contains("::warning file=driftaudit.yaml,line=1,title=driftaudit%3A the scan's own configuration changes::driftaudit.yaml modified by this change"),
        "{github}"
    );
    let markdown = run("markdown").stdout;
    assert!(
        markdown.contains("### The scan's own configuration changes (4)"),
        "{markdown}"
    );
    // Compared with itself: nothing changed, the key is left out.
    let head = commit_all(&repo, "head");
    let same = run_in(
        root,
        &[
            "scan",
            "--repo",
            ".",
            "--now",
            NOW,
            "--compare-ref",
            &head,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        same.json()["scan"]["compare"].get("gate_changes"),
        None,
        "{}",
        same.stdout
    );
}
