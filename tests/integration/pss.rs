//! The Pod Security Standards rules (DA-PSS-*) against the fixtures in
//! `fixtures/pss/`, through the binary: `baseline/` holds one Pod per
//! baseline control that breaks only that control, `restricted/` one per
//! restricted control that breaks only that one (and passes baseline), and
//! `pass/` what the standard allows (Localhost seccomp and AppArmor profiles,
//! container_t, the safe sysctls, every allowed volume type, settings on the
//! containers instead of the pod, a Windows pod).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{run_in, write};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/fixtures/pss")
}

/// The fixture names of one folder: each file holds the Pod of that name.
fn names(folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join(folder))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A repository in `dir/repo` with every fixture, plus `extra` files.
fn repository(dir: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let repo = dir.join("repo");
    for folder in ["baseline", "restricted", "pass"] {
        for name in names(folder) {
            let file = format!("{folder}/{name}.yaml");
            let text = std::fs::read_to_string(fixtures().join(&file)).unwrap();
            write(&repo, &file, &text);
        }
    }
    for (file, text) in extra {
        write(&repo, file, text);
    }
    repo
}

/// Scans `repo` with a baseline file of `baseline` (YAML), as JSON.
fn scan(dir: &Path, repo: &Path, baseline: &str) -> Value {
    let file = write(dir, "baseline.yaml", baseline);
    let r = run_in(
        dir,
        &[
            "scan",
            "--repo",
            repo.to_str().unwrap(),
            "--baseline",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{}", r.stdout);
    report
}

/// The DA-PSS rules reported on each resource name, from `findings` or
/// `suppressed_findings`.
fn pss_rules(report: &Value, list: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut rules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in report[list].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        if rule.starts_with("DA-PSS-") {
            let name = f["resource"]["name"].as_str().unwrap().to_string();
            rules.entry(name).or_default().insert(rule.to_string());
        }
    }
    rules
}

fn rule_of(name: &str) -> String {
    format!("DA-PSS-{}", name.to_uppercase())
}

fn level(level: &str) -> String {
    format!("privileges:\n  pod_security:\n    level: {level}\n")
}

/// What a baseline fixture also breaks at the restricted level, as Pod
/// Security Admission reports it: a hostPath volume is not an allowed volume
/// type, an added NET_ADMIN is more than NET_BIND_SERVICE, and an Unconfined
/// seccomp profile is neither RuntimeDefault nor Localhost.
fn restricted_companions(name: &str) -> BTreeSet<String> {
    let also: &[&str] = match name {
        "host-path" => &["DA-PSS-VOLUME-TYPES"],
        "capabilities" => &["DA-PSS-CAPABILITIES-RESTRICTED"],
        "seccomp" => &["DA-PSS-SECCOMP-RESTRICTED"],
        _ => &[],
    };
    also.iter()
        .map(|s| s.to_string())
        .chain([rule_of(name)])
        .collect()
}

/// Every fixture judged at the restricted level: each of `baseline/` and
/// `restricted/` with its own control, `pass/` with none.
fn assert_restricted_verdicts(found: &BTreeMap<String, BTreeSet<String>>) {
    for name in names("baseline") {
        assert_eq!(
            found.get(&name),
            Some(&restricted_companions(&name)),
            "{name}: {found:#?}"
        );
    }
    for name in names("restricted") {
        assert_eq!(
            found.get(&name),
            Some(&BTreeSet::from([rule_of(&name)])),
            "{name}: {found:#?}"
        );
    }
    for name in names("pass") {
        assert_eq!(found.get(&name), None, "{name}: {found:#?}");
    }
}

#[test]
fn every_control_has_a_fixture() {
    assert_eq!(names("baseline").len(), 11);
    assert_eq!(names("restricted").len(), 6);
}

#[test]
fn baseline_level_flags_each_baseline_fixture_with_its_own_control_only() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), &[]);
    let report = scan(dir.path(), &repo, &level("baseline"));
    let found = pss_rules(&report, "findings");
    for name in names("baseline") {
        assert_eq!(
            found.get(&name),
            Some(&BTreeSet::from([rule_of(&name)])),
            "{name}: {found:#?}"
        );
    }
    for name in names("restricted").into_iter().chain(names("pass")) {
        assert_eq!(found.get(&name), None, "{name}: {found:#?}");
    }
    // Every message names the control, the field and the level; the path
    // points at the field, and the finding at its line.
    let host_ports = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-PSS-HOST-PORTS")
        .unwrap();
    assert_eq!(
        host_ports["message"],
        "PSS Host Ports: container \"app\" sets ports[].hostPort to 80, which the baseline level forbids (level baseline, latest, from privileges.pod_security)"
    );
    assert_eq!(host_ports["path"], "spec.containers[0].ports[0].hostPort");
    assert_eq!(host_ports["location"]["file"], "baseline/host-ports.yaml");
    assert_eq!(host_ports["location"]["line"], 20);
    assert_eq!(host_ports["category"], "privileges");
}

#[test]
fn restricted_level_adds_the_restricted_controls() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), &[]);
    let report = scan(dir.path(), &repo, &level("restricted"));
    assert_restricted_verdicts(&pss_rules(&report, "findings"));
}

#[test]
fn the_default_judges_by_the_namespace_labels_as_pod_security_admission_does() {
    let dir = tempfile::tempdir().unwrap();
    // Unlabelled: privileged, as Pod Security Admission's default.
    let repo = repository(dir.path(), &[]);
    let report = scan(dir.path(), &repo, "{}\n");
    assert_eq!(pss_rules(&report, "findings"), BTreeMap::new());

    // Labelled enforce: restricted: the restricted verdicts.
    let dir = tempfile::tempdir().unwrap();
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pss\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n";
    let repo = repository(dir.path(), &[("namespace.yaml", namespace)]);
    let report = scan(dir.path(), &repo, "{}\n");
    let found = pss_rules(&report, "findings");
    assert_restricted_verdicts(&found);
    let message = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-PSS-RUN-AS-USER")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.ends_with("(level restricted, latest, from namespace pss label pod-security.kubernetes.io/enforce)"),
        "{message}"
    );

    // Pinned to v1.22 by a warn label: restricted without "Running as
    // Non-root user" (v1.23), so run-as-user passes.
    let dir = tempfile::tempdir().unwrap();
    let pinned = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pss\n  labels:\n    pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/warn-version: v1.22\n";
    let repo = repository(dir.path(), &[("namespace.yaml", pinned)]);
    let found = pss_rules(&scan(dir.path(), &repo, "{}\n"), "findings");
    assert_eq!(found.get("run-as-user"), None, "{found:#?}");
    assert_eq!(
        found.get("volume-types"),
        Some(&BTreeSet::from(["DA-PSS-VOLUME-TYPES".to_string()]))
    );

    // The baseline may say not to read the labels.
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), &[("namespace.yaml", namespace)]);
    let off =
        "privileges:\n  pod_security:\n    level: baseline\n    use_namespace_labels: false\n";
    let found = pss_rules(&scan(dir.path(), &repo, off), "findings");
    assert_eq!(found.get("run-as-user"), None, "{found:#?}");
    assert!(found.contains_key("privileged"), "{found:#?}");
}

#[test]
fn exemptions_are_suppressed_findings() {
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), &[]);
    let baseline = "privileges:\n  pod_security:\n    level: baseline\n    exemptions:\n      namespaces:\n        - name: pss\n          reason: migration in progress\n";
    let report = scan(dir.path(), &repo, baseline);
    assert_eq!(pss_rules(&report, "findings"), BTreeMap::new());
    let suppressed = pss_rules(&report, "suppressed_findings");
    for name in names("baseline") {
        assert_eq!(
            suppressed.get(&name),
            Some(&BTreeSet::from([rule_of(&name)])),
            "{name}"
        );
    }
    let one = report["suppressed_findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-PSS-PRIVILEGED")
        .unwrap();
    assert_eq!(
        one["suppression"]["by"],
        "privileges.pod_security.exemptions.namespaces"
    );
    assert_eq!(one["suppression"]["reason"], "migration in progress");

    // An image exemption covers the findings about that image only.
    let dir = tempfile::tempdir().unwrap();
    let repo = repository(dir.path(), &[]);
    let baseline = "privileges:\n  pod_security:\n    level: baseline\n    exemptions:\n      images: [\"registry.example.com/*\"]\n";
    let report = scan(dir.path(), &repo, baseline);
    assert_eq!(pss_rules(&report, "findings"), BTreeMap::new());
    assert_eq!(pss_rules(&report, "suppressed_findings").len(), 11);
}
