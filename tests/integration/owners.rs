//! Owners (issue 15, item 5): every finding and drift entry carries an owner
//! from a label or annotation named in the config, else the repository's
//! CODEOWNERS file, else the environment's owner; `--group-by owner` groups
//! them in the text, Markdown and JSON reports. The CODEOWNERS file is
//! hostile input: bounded, invalid lines skipped with a warning at their
//! line, never read through a link out of the tree.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{commit_all, live_deployment, run_in, snapshot_json, write, Run};

const NOW: &str = "2026-11-21T12:00:00Z";

/// A Deployment `name` in `shop` running `nginx:latest` (a finding for
/// sure), with `metadata` lines (labels, annotations) as given.
fn deployment(name: &str, metadata: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n{metadata}spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      containers:\n        - name: main\n          image: nginx:latest\n"
    )
}

const CODEOWNERS: &str = "\
# Owners of the shop
* @everyone
*.yaml @yaml-owners
/apps/ @apps-team
apps/db/ @db-team @dba
/apps/db/legacy.yaml
logs @logs
";

/// The repository every test starts from:
/// - `apps/web.yaml`: label `team: payments`;
/// - `apps/api.yaml`: annotation `example.com/owner: "@api"`;
/// - `apps/cache.yaml`: nothing (CODEOWNERS `/apps/`);
/// - `apps/db/worker.yaml`: nothing (CODEOWNERS `apps/db/`, two owners);
/// - `apps/db/legacy.yaml`: nothing (a CODEOWNERS line without owners);
/// - `nested/apps/edge.yaml`: nothing (`/apps/` is anchored: `*.yaml`);
/// - `nested/logs/log.yaml`: nothing (`logs` matches at any depth).
fn repository(root: &Path) {
    write(
        root,
        "repo/apps/web.yaml",
        &deployment("web", "  labels:\n    team: payments\n"),
    );
    write(
        root,
        "repo/apps/api.yaml",
        &deployment("api", "  annotations:\n    example.com/owner: \"@api\"\n"),
    );
    write(root, "repo/apps/cache.yaml", &deployment("cache", ""));
    write(root, "repo/apps/db/worker.yaml", &deployment("worker", ""));
    write(root, "repo/apps/db/legacy.yaml", &deployment("legacy", ""));
    write(root, "repo/nested/apps/edge.yaml", &deployment("edge", ""));
    write(root, "repo/nested/logs/log.yaml", &deployment("log", ""));
    write(root, "repo/.github/CODEOWNERS", CODEOWNERS);
}

const CONFIG: &str = "owners:\n  label: team\n  annotation: [example.com/owner]\n";

/// The live side: every Deployment, `web` with 3 replicas (modified), and an
/// unmanaged `rogue` labelled `team: rogue-team` (only the live object has it).
fn snapshot(root: &Path) {
    let mut objects: Vec<Value> = ["web", "api", "cache", "worker", "legacy", "edge", "log"]
        .iter()
        .map(|name| {
            live_deployment(
                name,
                "shop",
                if *name == "web" { 3 } else { 1 },
                "nginx:latest",
            )
        })
        .collect();
    let mut rogue = live_deployment("rogue", "shop", 1, "nginx:latest");
    rogue["metadata"]["labels"] = json!({"team": "rogue-team"});
    objects.push(rogue);
    write(root, "live.json", &snapshot_json("prod", &objects));
}

/// A folder holding the repository and the snapshot.
fn shop() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    repository(dir.path());
    snapshot(dir.path());
    dir
}

fn scan(root: &Path, config: &str, extra: &[&str]) -> Run {
    write(root, "driftaudit.yaml", config);
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--config",
        "driftaudit.yaml",
        "--live-snapshot",
        "live.json",
        "--now",
        NOW,
        "--fail-on",
        "medium",
    ];
    args.extend_from_slice(extra);
    run_in(root, &args)
}

fn json_scan(root: &Path, config: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let run = scan(root, config, &args);
    assert_eq!(run.code, 1, "{}", run.all());
    run.json()
}

/// The owner of every finding of the resource `name` (all the same, and at
/// least one finding).
fn finding_owner(report: &Value, name: &str) -> Option<String> {
    let owners: Vec<Option<String>> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["name"] == name)
        .map(|f| f["owner"].as_str().map(str::to_string))
        .collect();
    assert!(!owners.is_empty(), "no finding on {name}");
    assert!(
        owners.windows(2).all(|w| w[0] == w[1]),
        "findings of {name} disagree: {owners:?}"
    );
    owners[0].clone()
}

fn drift_owner(report: &Value, name: &str) -> Option<String> {
    let drift = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["resource"]["name"] == name)
        .unwrap_or_else(|| panic!("no drift entry for {name}"));
    drift["owner"].as_str().map(str::to_string)
}

fn owned(owner: &str) -> Option<String> {
    Some(owner.to_string())
}

#[test]
fn owners_come_from_labels_annotations_and_codeowners() {
    let dir = shop();
    let root = dir.path();
    let report = json_scan(root, CONFIG, &[]);
    // A label, then an annotation.
    assert_eq!(finding_owner(&report, "web"), owned("payments"));
    assert_eq!(finding_owner(&report, "api"), owned("@api"));
    // CODEOWNERS: the last matching line wins.
    assert_eq!(finding_owner(&report, "cache"), owned("@apps-team"));
    // Several owners, in file order.
    assert_eq!(finding_owner(&report, "worker"), owned("@db-team @dba"));
    // A line without owners: no owner.
    assert_eq!(finding_owner(&report, "legacy"), None);
    // `/apps/` is anchored at the root: `*.yaml` is the last match.
    assert_eq!(finding_owner(&report, "edge"), owned("@yaml-owners"));
    // `logs` has no slash: it matches a folder at any depth.
    assert_eq!(finding_owner(&report, "log"), owned("@logs"));
    // Drift: the declared resource's label; the live object's for an
    // unmanaged one.
    assert_eq!(drift_owner(&report, "web"), owned("payments"));
    assert_eq!(drift_owner(&report, "rogue"), owned("rogue-team"));
    assert_eq!(drift_owner(&report, "cache"), owned("@apps-team"));
    // Left out where unknown.
    let legacy = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "legacy")
        .unwrap();
    assert!(legacy.get("owner").is_none(), "{legacy}");
    assert!(
        report.get("groups").is_none(),
        "no groups without --group-by"
    );
}

#[test]
fn without_owner_configuration_labels_are_not_read_and_codeowners_can_be_turned_off() {
    let dir = shop();
    let root = dir.path();
    let report = json_scan(root, "", &[]);
    // No label named: CODEOWNERS decides (`/apps/`).
    assert_eq!(finding_owner(&report, "web"), owned("@apps-team"));
    assert_eq!(drift_owner(&report, "rogue"), None);
    let off = json_scan(root, "owners:\n  codeowners: false\n", &[]);
    for finding in off["findings"].as_array().unwrap() {
        assert!(finding.get("owner").is_none(), "{finding}");
    }
}

#[test]
fn the_environment_owner_comes_last() {
    let dir = shop();
    let root = dir.path();
    let config = format!(
        "{CONFIG}environments:\n  - name: prod\n    paths: [apps]\n    owner: \"@prod-oncall\"\n"
    );
    let report = json_scan(root, &config, &[]);
    // label > CODEOWNERS > environment.
    assert_eq!(finding_owner(&report, "web"), owned("payments"));
    assert_eq!(finding_owner(&report, "cache"), owned("@apps-team"));
    assert_eq!(finding_owner(&report, "legacy"), owned("@prod-oncall"));
    assert_eq!(drift_owner(&report, "legacy"), owned("@prod-oncall"));
    // A live-only object of the environment: its own label, read from the
    // live object (which carries the environment's name), before the
    // environment's owner.
    assert_eq!(drift_owner(&report, "rogue"), owned("rogue-team"));
    // Files under no environment have no environment owner.
    assert_eq!(finding_owner(&report, "edge"), owned("@yaml-owners"));
    // Without CODEOWNERS, the environment's owner for what has no label.
    std::fs::remove_file(root.join("repo/.github/CODEOWNERS")).unwrap();
    let report = json_scan(root, &config, &[]);
    assert_eq!(finding_owner(&report, "cache"), owned("@prod-oncall"));
    assert_eq!(finding_owner(&report, "api"), owned("@api"));
    assert_eq!(finding_owner(&report, "edge"), None);
}

#[test]
fn a_label_only_the_live_object_of_an_environment_has_names_its_owner() {
    let dir = shop();
    let root = dir.path();
    std::fs::remove_file(root.join("repo/.github/CODEOWNERS")).unwrap();
    // `cache` is declared without a label; live, it is labelled. Paired with
    // its declaration, the live object carries the environment's name.
    let mut cache = live_deployment("cache", "shop", 1, "nginx:latest");
    cache["metadata"]["labels"] = json!({"team": "cache-team"});
    let web = live_deployment("web", "shop", 3, "nginx:latest");
    write(root, "live.json", &snapshot_json("prod", &[cache, web]));
    let config = format!(
        "{CONFIG}environments:\n  - name: prod\n    paths: [apps]\n    owner: \"@prod-oncall\"\n"
    );
    let report = json_scan(root, &config, &[]);
    assert_eq!(finding_owner(&report, "cache"), owned("cache-team"));
    assert_eq!(drift_owner(&report, "web"), owned("payments"));
    // Not on the target: the environment's owner.
    assert_eq!(drift_owner(&report, "worker"), owned("@prod-oncall"));
}

#[test]
fn found_environments_get_their_owner_from_the_owners_section() {
    let dir = shop();
    let root = dir.path();
    std::fs::remove_file(root.join("repo/.github/CODEOWNERS")).unwrap();
    write(
        root,
        "repo/argo/app.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop-apps\n  namespace: argocd\nspec:\n  project: default\n  source:\n    path: apps\n  destination:\n    namespace: shop\n",
    );
    let config = format!("{CONFIG}  environments:\n    shop-apps: \"@shop-oncall\"\n");
    let report = json_scan(root, &config, &["--allow-partial"]);
    assert_eq!(finding_owner(&report, "cache"), owned("@shop-oncall"));
    assert_eq!(finding_owner(&report, "web"), owned("payments"));
    assert_eq!(finding_owner(&report, "edge"), None);
}

#[test]
fn codeowners_is_read_from_the_scanned_ref() {
    let dir = shop();
    let root = dir.path();
    let repo = git2::Repository::init(root.join("repo")).unwrap();
    commit_all(&repo, "shop");
    // Changed after the commit: the working tree is not what --ref reads.
    write(root, "repo/.github/CODEOWNERS", "* @uncommitted\n");
    let report = json_scan(root, CONFIG, &["--ref", "HEAD"]);
    assert_eq!(finding_owner(&report, "cache"), owned("@apps-team"));
    let folder = json_scan(root, CONFIG, &[]);
    assert_eq!(finding_owner(&folder, "cache"), owned("@uncommitted"));
    // A CODEOWNERS that is a symlink in the commit is refused, not followed.
    std::fs::remove_file(root.join("repo/.github/CODEOWNERS")).unwrap();
    write(root, "repo/docs/owners.txt", "* @through-a-link\n");
    std::os::unix::fs::symlink("../docs/owners.txt", root.join("repo/.github/CODEOWNERS")).unwrap();
    commit_all(&repo, "link");
    let run = scan(root, CONFIG, &["--format", "json", "--ref", "HEAD"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("DA-E411"), "{}", run.stderr);
    assert!(!run.stdout.contains("through-a-link"));
}

#[test]
fn group_by_owner_in_json_keeps_the_arrays_and_adds_groups() {
    let dir = shop();
    let root = dir.path();
    let plain = json_scan(root, CONFIG, &[]);
    let grouped = json_scan(root, CONFIG, &["--group-by", "owner"]);
    for key in ["findings", "drift", "summary", "suppressed_findings"] {
        assert_eq!(plain[key], grouped[key], "{key} changed");
    }
    let groups = &grouped["groups"];
    assert_eq!(groups["by"], "owner");
    let names: Vec<Value> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["owner"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("@api"),
            json!("@apps-team"),
            json!("@db-team @dba"),
            json!("@logs"),
            json!("@yaml-owners"),
            json!("payments"),
            json!("rogue-team"),
            Value::Null
        ]
    );
    // Every finding and every drifted entry in exactly the group of its owner.
    let findings = grouped["findings"].as_array().unwrap();
    let drift = grouped["drift"].as_array().unwrap();
    let mut seen_findings = vec![0; findings.len()];
    let mut seen_drift = vec![0; drift.len()];
    for group in groups["groups"].as_array().unwrap() {
        for (i, fingerprint) in group["findings"]
            .as_array()
            .unwrap()
            .iter()
            .zip(group["fingerprints"].as_array().unwrap())
        {
            let i = i.as_u64().unwrap() as usize;
            seen_findings[i] += 1;
            assert_eq!(findings[i]["owner"], group["owner"]);
            assert_eq!(&findings[i]["fingerprint"], fingerprint);
        }
        for i in group["drift"].as_array().unwrap() {
            let i = i.as_u64().unwrap() as usize;
            seen_drift[i] += 1;
            assert_eq!(drift[i]["owner"], group["owner"]);
            assert_ne!(drift[i]["status"], "in_sync");
        }
    }
    assert!(seen_findings.iter().all(|n| *n == 1));
    for (entry, seen) in drift.iter().zip(&seen_drift) {
        assert_eq!(*seen, usize::from(entry["status"] != "in_sync"), "{entry}");
    }
    let group = |owner: Value| {
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["owner"] == owner)
            .unwrap()
            .clone()
    };
    // The rogue Deployment is live only: its findings and drift are its
    // live label's.
    let rogue = group(json!("rogue-team"));
    assert_eq!(rogue["drift"].as_array().unwrap().len(), 1);
    for i in rogue["findings"].as_array().unwrap() {
        assert_eq!(
            findings[i.as_u64().unwrap() as usize]["resource"]["name"],
            "rogue"
        );
    }
    assert_eq!(
        group(json!("payments"))["drift"].as_array().unwrap().len(),
        1
    );
    assert!(!group(Value::Null)["findings"]
        .as_array()
        .unwrap()
        .is_empty());
    crate::environments::assert_matches_report_schema(&grouped);
}

#[test]
fn group_by_owner_in_text_and_markdown() {
    let dir = shop();
    let root = dir.path();
    let text = scan(root, CONFIG, &["--group-by", "owner"]);
    assert_eq!(text.code, 1, "{}", text.all());
    let out = &text.stdout;
    // Drift: each owner's drifted entries under its header.
    let drift = &out[out.find("DRIFT").unwrap()..out.find("FINDINGS").unwrap()];
    let payments = drift.find("owner payments (1 drifted)").unwrap();
    let rogue = drift.find("owner rogue-team (1 drifted)").unwrap();
    assert!(payments < drift.find("modified   Deployment shop/web").unwrap());
    assert!(rogue < drift.find("unmanaged  Deployment shop/rogue").unwrap());
    assert!(payments < rogue);
    // Findings: owners in order, the group without owner last.
    let findings = &out[out.find("FINDINGS").unwrap()..];
    let order: Vec<usize> = [
        "owner @api (",
        "owner @apps-team (",
        "owner @db-team @dba (",
        "owner @logs (",
        "owner @yaml-owners (",
        "owner payments (",
        "owner (no owner) (",
    ]
    .iter()
    .map(|h| {
        findings
            .find(h)
            .unwrap_or_else(|| panic!("{h} missing:\n{out}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    let legacy_at = findings.find("Deployment shop/legacy").unwrap();
    assert!(legacy_at > order[6], "legacy has no owner:\n{out}");
    let worker_at = findings.find("Deployment shop/worker").unwrap();
    assert!(worker_at > order[2] && worker_at < order[3]);

    // Without --group-by the owner is one line under the finding.
    let plain = scan(root, CONFIG, &[]);
    assert!(
        plain.stdout.contains("owner @db-team @dba"),
        "{}",
        plain.stdout
    );
    assert!(!plain.stdout.contains("(no owner)"));
    assert!(!plain.stdout.contains("drifted)"));

    let markdown = scan(
        root,
        CONFIG,
        &["--group-by", "owner", "--format", "markdown"],
    );
    let md = &markdown.stdout;
    assert!(md.contains("### By owner (8)"), "{md}");
    assert!(md.contains("| &#64;db-team &#64;dba | 0 | "), "{md}");
    assert!(md.contains("| (no owner) | "), "{md}");
    assert!(md.contains("| owner | severity | rule | resource | where | message |"));
    assert!(md.contains("| owner | status | resource | target | where | fields |"));
    // Rows follow the owner order: @api's first, no owner's last.
    let table = &md[md.find("| owner | severity").unwrap()..];
    let first = table.lines().nth(2).unwrap();
    assert!(first.starts_with("| &#64;api |"), "{first}");
    let plain_md = scan(root, CONFIG, &["--format", "markdown"]);
    assert!(!plain_md.stdout.contains("By owner"));
    assert!(!plain_md.stdout.contains("| owner |"));
}

#[test]
fn owner_values_with_escape_sequences_are_printed_escaped() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "repo/apps/api.yaml",
        &deployment(
            "api",
            "  annotations:\n    example.com/owner: \"evil\\e[2J\\e]0;pwned\\a\"\n",
        ),
    );
    for extra in [&[][..], &["--group-by", "owner"][..]] {
        let run = scan(root, CONFIG, extra);
        assert_eq!(run.code, 1, "{}", run.all());
        assert!(
            !run.stdout.contains('\u{1b}'),
            "raw escape in:\n{}",
            run.stdout
        );
        assert!(!run.stdout.contains('\u{7}'));
        assert!(run.stdout.contains("evil\\u{1b}[2J"), "{}", run.stdout);
    }
    let markdown = scan(
        root,
        CONFIG,
        &["--group-by", "owner", "--format", "markdown"],
    );
    assert!(!markdown.stdout.contains('\u{1b}'));
    // The JSON keeps the value as it is (escaped by JSON itself).
    let report = json_scan(root, CONFIG, &[]);
    assert_eq!(
        finding_owner(&report, "api"),
        owned("evil\u{1b}[2J\u{1b}]0;pwned\u{7}")
    );
}

#[test]
fn invalid_codeowners_lines_are_warnings_at_their_line() {
    let dir = shop();
    let root = dir.path();
    write(
        root,
        "repo/.github/CODEOWNERS",
        "* @everyone\n[Section] @gitlab\n!apps/ @negated\nfoo[ab].yaml @range\n/apps/ @apps-team\n/ @bad\napps/db/ not_an_owner\n",
    );
    let run = scan(root, CONFIG, &["--format", "json"]);
    assert_eq!(run.code, 1, "a warning never fails the scan: {}", run.all());
    for line in [3, 4, 6, 7] {
        assert!(
            run.stderr
                .contains(&format!("DA-E411 .github/CODEOWNERS:{line}: ")),
            "line {line}: {}",
            run.stderr
        );
    }
    assert!(
        !run.stderr.contains("CODEOWNERS:2:"),
        "a section is no error"
    );
    let report = run.json();
    assert!(report["errors"].as_array().unwrap().is_empty());
    assert_eq!(finding_owner(&report, "cache"), owned("@apps-team"));
    assert_eq!(finding_owner(&report, "worker"), owned("@apps-team"));
    assert_eq!(finding_owner(&report, "edge"), owned("@everyone"));
    // -q: no warnings.
    let quiet = scan(root, CONFIG, &["--format", "json", "-q"]);
    assert!(!quiet.stderr.contains("DA-E411"));
}

#[test]
fn a_huge_or_pathological_codeowners_neither_crashes_nor_hangs() {
    let dir = shop();
    let root = dir.path();
    // Larger than 3 MiB: refused whole.
    let huge = "/apps/ @apps-team\n".repeat(200_000);
    write(root, "repo/.github/CODEOWNERS", &huge);
    let run = scan(root, CONFIG, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("DA-E411"), "{}", run.stderr);
    assert!(run.stderr.contains("larger than"), "{}", run.stderr);
    assert_eq!(finding_owner(&run.json(), "cache"), None);

    // Many lines of patterns that backtrack in a naive matcher, matched
    // against a long path.
    let slow: String = (0..5000)
        .map(|i| format!("{}b{i} @slow\n", "*a".repeat(30)))
        .collect();
    write(
        root,
        "repo/.github/CODEOWNERS",
        &format!("/apps/ @apps-team\n{slow}"),
    );
    let deep = format!("repo/{}/x.yaml", "a".repeat(200));
    write(root, &deep, &deployment("deep", ""));
    let started = Instant::now();
    let run = scan(root, CONFIG, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    let report = run.json();
    assert_eq!(finding_owner(&report, "cache"), owned("@apps-team"));
    assert_eq!(finding_owner(&report, "deep"), None);
}

/// A scan whose CODEOWNERS is refused with a warning (the scan goes on).
fn refused_scan(root: &Path) -> Run {
    let run = scan(root, CONFIG, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("DA-E411 .github/CODEOWNERS"),
        "{}",
        run.stderr
    );
    run
}

#[test]
fn a_codeowners_link_out_of_a_folder_repository_is_not_followed() {
    let dir = shop();
    let root = dir.path();
    write(root, "outside/CODEOWNERS", "* @outside-secret\n");
    std::fs::remove_file(root.join("repo/.github/CODEOWNERS")).unwrap();
    std::os::unix::fs::symlink(
        root.join("outside/CODEOWNERS"),
        root.join("repo/.github/CODEOWNERS"),
    )
    .unwrap();
    let run = refused_scan(root);
    assert!(!run.all().contains("outside-secret"));
    // A FIFO: refused without blocking.
    std::fs::remove_file(root.join("repo/.github/CODEOWNERS")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("repo/.github/CODEOWNERS"))
        .status()
        .unwrap();
    assert!(made.success());
    refused_scan(root);
    // The folder holding it a link out of the tree: refused too.
    std::fs::remove_dir_all(root.join("repo/.github")).unwrap();
    std::os::unix::fs::symlink(root.join("outside"), root.join("repo/.github")).unwrap();
    let run = scan(root, CONFIG, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(!run.all().contains("outside-secret"));
    assert_eq!(finding_owner(&run.json(), "cache"), None);
}

#[test]
fn owner_configuration_mistakes_are_refused_at_their_line() {
    let dir = shop();
    let root = dir.path();
    let run = scan(root, "owners:\n  label: \"\"\n", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("DA-E102"), "{}", run.stderr);
    let run = scan(root, "owners:\n  labels: team\n", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("DA-E101"), "{}", run.stderr);
    let run = scan(
        root,
        "environments:\n  - name: prod\n    paths: [apps]\n    owner: \"\"\n",
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("environments[0].owner"),
        "{}",
        run.stderr
    );
}

#[test]
fn sarif_junit_and_html_name_the_owner() {
    let dir = shop();
    let root = dir.path();
    let run = scan(
        root,
        CONFIG,
        &[
            "--output",
            "sarif=out.sarif",
            "--output",
            "junit=out.xml",
            "--output",
            "html=out.html",
            "--sarif-drift",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let owner_of = |name: &str| -> Vec<Value> {
        results
            .iter()
            .filter(|r| r["properties"]["resource"] == format!("Deployment shop/{name}"))
            .map(|r| r["properties"]["owner"].clone())
            .collect()
    };
    let worker = owner_of("worker");
    assert!(!worker.is_empty() && worker.iter().all(|o| o == "@db-team @dba"));
    let rogue = owner_of("rogue");
    assert!(!rogue.is_empty() && rogue.iter().all(|o| o == "rogue-team"));
    assert!(owner_of("legacy").iter().all(Value::is_null));
    let junit = std::fs::read_to_string(root.join("out.xml")).unwrap();
    assert!(junit.contains("owner @db-team @dba"), "{junit}");
    let html = std::fs::read_to_string(root.join("out.html")).unwrap();
    assert!(
        html.contains("<dt>Owner</dt><dd>@db-team @dba</dd>"),
        "no owner in the HTML"
    );
}

#[test]
fn a_saved_report_renders_its_groups_again() {
    let dir = shop();
    let root = dir.path();
    let grouped = scan(
        root,
        CONFIG,
        &["--group-by", "owner", "--output", "json=grouped.json"],
    );
    let plain = scan(root, CONFIG, &["--output", "json=plain.json"]);
    let markdown = scan(
        root,
        CONFIG,
        &["--group-by", "owner", "--format", "markdown"],
    );
    // Saved with groups: rendered as the scan printed it.
    let again = run_in(root, &["report", "--input", "grouped.json"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(again.stdout, grouped.stdout);
    // Saved without: --group-by groups it.
    let later = run_in(
        root,
        &[
            "report",
            "--input",
            "plain.json",
            "--group-by",
            "owner",
            "--format",
            "markdown",
        ],
    );
    assert_eq!(later.stdout, markdown.stdout);
    let unchanged = run_in(root, &["report", "--input", "plain.json"]);
    assert_eq!(unchanged.stdout, plain.stdout);
}
