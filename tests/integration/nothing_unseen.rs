//! Issue 10's done-when, end to end through the binary: the repository in
//! `fixtures/nothing-unseen` has a kustomization at its root, a Helm chart,
//! staging and production copies of one Deployment (two environments in its
//! `driftaudit.yaml`), a YAML 1.1 boolean, a merge key, a
//! ReplicationController, a generateName hook Job and a kube-system
//! RoleBinding granting cluster-admin. Every privileged, hostNetwork and
//! `:latest` resource in it is flagged, in its environment, and the declared
//! coverage accounts for every file.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{commit_all, driftaudit, finish, Run};
use crate::declared_coverage::states;
use crate::helm::{path_with_standin, path_without_helm};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/integration/fixtures/nothing-unseen"
);

/// Every file under `dir`, relative to `root`.
fn files_of(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_of(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).unwrap();
            out.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The fixture as a Git repository of one commit, in a temporary folder.
fn fixture_repo() -> (tempfile::TempDir, BTreeSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = BTreeSet::new();
    files_of(Path::new(FIXTURE), Path::new(FIXTURE), &mut files);
    for file in &files {
        let target = dir.path().join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(FIXTURE).join(file), target).unwrap();
    }
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit_all(&repo, "the nothing-unseen repository");
    (dir, files)
}

fn scan(dir: &Path, path: &str) -> Run {
    finish(
        driftaudit()
            .current_dir(dir)
            .env("PATH", path)
            .args(["scan", "--repo", ".", "--ref", "HEAD", "--format", "json"])
            .args(["--now", "2026-11-22T00:00:00Z"]),
    )
}

/// `rule kind namespace/name [environment]` of every finding.
fn flagged(report: &Value, key: &str) -> BTreeSet<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let r = &f["resource"];
            let name = r["name"].as_str().unwrap();
            // A generateName object's name holds its file and position.
            let name = name.split_once('<').map_or(name, |(prefix, _)| prefix);
            format!(
                "{} {} {}/{}{}",
                f["rule"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["namespace"].as_str().unwrap(),
                name,
                f["environment"]
                    .as_str()
                    .map(|e| format!(" [{e}]"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

/// What the privileged, host-network and latest-tag rules must flag outside
/// the chart.
const EXPECTED: &[&str] = &[
    // staging: `privileged: on` (YAML 1.1) and nginx:latest
    "DA-PRIV-001 Deployment shop/web [staging]",
    "DA-IMG-002 Deployment shop/web [staging]",
    // production: privileged through a merge key; its image is pinned
    "DA-PRIV-001 Deployment shop/web [production]",
    // `hostNetwork: yes` (YAML 1.1) and :latest on a ReplicationController
    "DA-PRIV-002 ReplicationController shop/legacy",
    "DA-IMG-002 ReplicationController shop/legacy",
    // rendered by the root kustomization
    "DA-PRIV-002 DaemonSet monitoring/node-agent",
    "DA-IMG-002 DaemonSet monitoring/node-agent",
    // the generateName hook Job
    "DA-IMG-002 Job shop/migrate-",
    // kube-system is exempt, but never for a cluster-admin grant
    "DA-PRIV-008 RoleBinding kube-system/deployer-admin",
];

fn assert_flagged(report: &Value, extra: &[&str]) {
    let found = flagged(report, "findings");
    let watched: BTreeSet<&String> = found
        .iter()
        .filter(|f| {
            let rule = f.split(' ').next().unwrap_or_default();
            ["DA-PRIV-001", "DA-PRIV-002", "DA-IMG-002", "DA-PRIV-008"].contains(&rule)
        })
        .collect();
    let expected: BTreeSet<String> = EXPECTED
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        watched.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{report:#}"
    );
    assert!(
        flagged(report, "suppressed_findings").is_empty(),
        "nothing here may be suppressed: {report:#}"
    );
}

#[test]
fn without_helm_everything_else_is_flagged_and_the_chart_is_a_gap() {
    let (dir, files) = fixture_repo();
    let run = scan(dir.path(), &path_without_helm());
    assert_eq!(
        run.code,
        3,
        "a chart left unrendered is a gap: {}",
        run.all()
    );
    let report = run.json();
    assert_flagged(&report, &[]);

    // Every file of the repository is listed once, in one state.
    let coverage = states(&report);
    assert_eq!(
        coverage.keys().cloned().collect::<BTreeSet<_>>(),
        files,
        "{report:#}"
    );
    for chart_file in [
        "charts/api/Chart.yaml",
        "charts/api/templates/deployment.yaml",
    ] {
        let (state, reason) = &coverage[chart_file];
        assert_eq!(state, "not_checked");
        assert!(reason.contains("Helm chart `charts/api`"), "{reason}");
    }
    assert_eq!(coverage["platform/agent.yaml"].0, "rendered");
    assert_eq!(coverage["legacy/rc.yaml"].0, "read");
    // Each copy of the Deployment is read in its own environment.
    let files_json = report["declared_coverage"]["files"].as_array().unwrap();
    let env_of = |path: &str| {
        files_json
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| f["environments"].clone())
            .unwrap()
    };
    assert_eq!(
        env_of("envs/staging/web.yaml"),
        serde_json::json!(["staging"])
    );
    assert_eq!(
        env_of("envs/production/web.yaml"),
        serde_json::json!(["production"])
    );
    let gaps = report["coverage"].to_string();
    assert!(gaps.contains("Helm chart not rendered"), "{report:#}");
}

#[test]
fn with_helm_the_chart_is_rendered_and_flagged_too() {
    let (dir, files) = fixture_repo();
    let run = scan(dir.path(), &path_with_standin());
    assert_eq!(
        run.code,
        1,
        "critical findings, nothing unchecked: {}",
        run.all()
    );
    let report = run.json();
    assert_flagged(
        &report,
        &[
            "DA-PRIV-002 Deployment default/api",
            "DA-IMG-002 Deployment default/api",
        ],
    );
    let coverage = states(&report);
    assert_eq!(coverage.keys().cloned().collect::<BTreeSet<_>>(), files);
    assert_eq!(
        coverage["charts/api/templates/deployment.yaml"],
        ("rendered".to_string(), "charts/api".to_string())
    );
}
