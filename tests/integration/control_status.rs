//! Controls with a status (`--framework`, docs/controls.md) through the real
//! binary: the demo with one live source unreadable shows passing, failing
//! and not-assessed controls, each with the reason of its rules; a disabled
//! rule, a waived finding, an unreadable snapshot and a source never scanned
//! keep a control from passing; a complete clean scan passes it; the section
//! validates against the report schema and survives `report --input`.

use std::path::Path;

use serde_json::Value;

use crate::common::{free_port, run, run_in, write};
use crate::schemas::{assert_valid, schema};

/// The control `id` of a report's controls section.
fn control<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["controls"]["controls"]
        .as_array()
        .expect("a controls section")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id} in {}", report["controls"]))
}

/// The entry of `rule` under `control`.
fn rule_of<'a>(control: &'a Value, rule: &str) -> &'a Value {
    control["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no rule {rule} under {control}"))
}

fn reason(control: &Value, rule: &str) -> String {
    rule_of(control, rule)["reason"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn demo_with_an_unreadable_traefik_shows_pass_fail_and_not_assessed_controls() {
    // Nothing listens on the port: the Traefik source cannot be read.
    let url = format!("http://127.0.0.1:{}", free_port());
    let result = run(&[
        "scan",
        "--demo",
        "--framework",
        "cis-k8s",
        "--framework",
        "iso27001",
        "--traefik-url",
        &url,
        "--format",
        "json",
    ]);
    assert_eq!(
        result.code, 3,
        "a coverage gap: incomplete\n{}",
        result.stderr
    );
    let report = result.json();
    assert_valid(&schema("docs/report-schema.json"), &report, "report");
    let section = &report["controls"];
    assert_eq!(
        section["frameworks"],
        serde_json::json!(["cis-k8s", "iso27001"])
    );
    for id in section["controls"].as_array().unwrap() {
        let id = id["id"].as_str().unwrap();
        assert!(
            id.starts_with("CIS-K8s-1.10:") || id.starts_with("ISO27001-2022:"),
            "{id} is of no framework asked for"
        );
    }
    for status in ["pass", "fail", "not_assessed"] {
        assert!(section["counts"][status].as_u64().unwrap() > 0, "{section}");
    }

    // Pass: the rule ran on the RBAC objects of the demo, complete, no finding.
    let pass = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(pass["status"], "pass");
    assert!(
        reason(pass, "DA-RBAC-003").starts_with("evaluated on "),
        "{pass}"
    );

    // Fail: the privileged container of the demo, with its fingerprint.
    let fail = control(&report, "CIS-K8s-1.10:5.2.2");
    assert_eq!(fail["status"], "fail");
    let privileged = rule_of(fail, "DA-PRIV-001");
    assert_eq!(privileged["status"], "fail");
    let fingerprint = &report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-PRIV-001")
        .unwrap()["fingerprint"];
    assert_eq!(privileged["findings"], serde_json::json!([fingerprint]));

    // Not assessed: the Traefik rule could not read its source.
    let traefik = control(&report, "ISO27001-2022:A.8.9");
    assert_eq!(traefik["status"], "not_assessed");
    let why = reason(traefik, "DA-TRAEFIK-001");
    assert!(
        why.starts_with("coverage gap: ") && why.contains(&url),
        "{why}"
    );

    // Not assessed: no PostgreSQL source in the scan, nothing was read for it.
    let postgres = control(&report, "ISO27001-2022:A.5.17");
    assert_eq!(postgres["status"], "not_assessed");
    assert!(reason(postgres, "DA-PG-006").starts_with("no postgres source was scanned"));

    // Not assessed: a hardening rule whose baseline switch is off.
    let probes = control(&report, "ISO27001-2022:A.8.16");
    assert_eq!(probes["status"], "not_assessed");
    assert!(reason(probes, "DA-HARD-003").starts_with("switched off"));

    // A finding beats a rule not assessed: A.5.15 fails though DA-PG-003 did not run.
    let mixed = control(&report, "ISO27001-2022:A.5.15");
    assert_eq!(mixed["status"], "fail");
    assert_eq!(rule_of(mixed, "DA-PG-003")["status"], "not_assessed");

    // The text report has the table; `report --input` renders the same.
    let text = run(&[
        "scan",
        "--demo",
        "--framework",
        "cis-k8s",
        "--framework",
        "iso27001",
        "--traefik-url",
        &url,
    ]);
    assert!(
        text.stdout.contains("CONTROLS (cis-k8s, iso27001): "),
        "{}",
        text.stdout
    );
    let line = text
        .stdout
        .lines()
        .find(|l| l.contains("ISO27001-2022:A.8.9"))
        .expect("a line for A.8.9");
    assert!(
        line.contains("NOT_ASSESSED") && line.contains("coverage gap"),
        "{line}"
    );
    let dir = tempfile::tempdir().unwrap();
    let saved = write(dir.path(), "report.json", &result.stdout);
    let again = run(&[
        "report",
        "--input",
        saved.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        again.json()["controls"],
        report["controls"],
        "{}",
        again.stderr
    );
    let again_text = run(&["report", "--input", saved.to_str().unwrap()]);
    assert!(again_text.stdout.contains(line), "{}", again_text.stdout);
}

#[test]
fn without_framework_there_is_no_controls_section() {
    let report = run(&["scan", "--demo", "--format", "json"]).json();
    assert!(report.get("controls").is_none());
    // `diff` evaluates no rule: no section, rather than an empty one.
    let diff = run(&[
        "diff",
        "--demo",
        "--framework",
        "cis-k8s",
        "--format",
        "json",
    ])
    .json();
    assert!(diff.get("controls").is_none());
}

/// A ClusterRole granting `nodes/proxy` (a DA-RBAC-003 finding, CIS 5.1.10).
const NODES_PROXY: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: node-proxy\nrules:\n  - apiGroups: [\"\"]\n    resources: [nodes/proxy]\n    verbs: [get]\n";

/// A ClusterRole that grants nothing dangerous.
const READER: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get]\n";

fn scan(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--now",
        "2026-11-22T00:00:00Z",
        "--framework",
        "cis-k8s",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let result = run_in(dir, &args);
    let report = result.json();
    assert_valid(&schema("docs/report-schema.json"), &report, "report");
    report
}

#[test]
fn a_complete_clean_scan_passes_the_control_and_a_finding_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/reader.yaml", READER);
    let report = scan(dir.path(), &[]);
    let clean = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(clean["status"], "pass", "{clean}");
    assert_eq!(
        reason(clean, "DA-RBAC-003"),
        "evaluated on 1 input(s), no finding"
    );

    write(dir.path(), "repo/proxy.yaml", NODES_PROXY);
    let report = scan(dir.path(), &[]);
    let failing = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(failing["status"], "fail", "{failing}");
    assert_eq!(
        rule_of(failing, "DA-RBAC-003")["findings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_disabled_rule_makes_its_controls_not_assessed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/reader.yaml", READER);
    write(
        dir.path(),
        "driftaudit.yaml",
        "version: 1\npolicies:\n  disable: [DA-RBAC-003]\n  frameworks: [iso27001]\n",
    );
    let report = scan(dir.path(), &["--config", "driftaudit.yaml"]);
    // The config's frameworks come first, then the flag's.
    assert_eq!(
        report["controls"]["frameworks"],
        serde_json::json!(["iso27001", "cis-k8s"])
    );
    let disabled = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(disabled["status"], "not_assessed", "{disabled}");
    assert!(reason(disabled, "DA-RBAC-003").starts_with("disabled by the config"));
    // Every control it maps to, in every framework asked for.
    let iso = control(&report, "ISO27001-2022:A.5.15");
    assert_eq!(rule_of(iso, "DA-RBAC-003")["status"], "not_assessed");
}

#[test]
fn a_waived_finding_makes_its_control_waived_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/proxy.yaml", NODES_PROXY);
    write(
        dir.path(),
        "repo/.driftaudit/waivers.yaml",
        "waivers:\n  - rule: DA-RBAC-003\n    resource: {kind: ClusterRole, name: node-proxy}\n    reason: the node exporter needs it until the 2027 migration\n    owner: team-platform\n    expires: 2027-01-31\n",
    );
    let report = scan(dir.path(), &[]);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    let waived = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(waived["status"], "waived", "{waived}");
    let rule = rule_of(waived, "DA-RBAC-003");
    assert!(
        rule["reason"].as_str().unwrap().contains("waiver"),
        "{rule}"
    );
    assert_eq!(
        rule["findings"][0],
        report["suppressed_findings"][0]["fingerprint"]
    );
    assert_eq!(report["controls"]["counts"]["waived"], 1);
}

#[test]
fn an_unreadable_snapshot_leaves_no_control_passing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/reader.yaml", READER);
    write(dir.path(), "broken.json", "{ not a snapshot");
    let report = scan(dir.path(), &["--live-snapshot", "broken.json"]);
    let section = &report["controls"];
    assert_eq!(section["counts"]["pass"], 0, "{section}");
    let control = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(control["status"], "not_assessed");
    let why = reason(control, "DA-RBAC-003");
    assert!(
        why.contains("pinned on no rule") && why.contains("broken.json"),
        "{why}"
    );
}

#[test]
fn an_unknown_framework_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/reader.yaml", READER);
    let flag = run_in(
        dir.path(),
        &["scan", "--repo", "repo", "--framework", "pci"],
    );
    assert_eq!(flag.code, 2, "{}", flag.stderr);
    write(
        dir.path(),
        "driftaudit.yaml",
        "version: 1\npolicies:\n  frameworks: [cis]\n",
    );
    let config = run_in(
        dir.path(),
        &["scan", "--repo", "repo", "--config", "driftaudit.yaml"],
    );
    assert_eq!(config.code, 2);
    assert!(
        config.stderr.contains("policies.frameworks[0]") && config.stderr.contains("`cis`"),
        "{}",
        config.stderr
    );
}

#[test]
fn a_forbidden_kind_makes_only_the_rules_reading_it_not_assessed() {
    use crate::common::apiserver::ApiServer;
    use crate::common::{deployment_yaml, live_deployment};

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/reader.yaml", READER);
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:1.0"),
    );
    let server = ApiServer::start();
    server.add(live_deployment(
        "web",
        "shop",
        2,
        "registry.example.com/web:1.0",
    ));
    server.add(serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "reader", "uid": "5b1f2c3d-1111-2222-3333-444455556666",
            "resourceVersion": "7", "creationTimestamp": "2026-11-21T10:00:00Z"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    }));
    // The API answers 403 for the Deployments of `shop`.
    server.forbid("deployments", "shop");
    let kubeconfig = server.kubeconfig(dir.path());
    let kube = [
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--kube-context",
        "admin",
    ];
    let report = scan(dir.path(), &kube);
    assert!(
        report["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["scope"] == "apps/v1 Deployment in shop"),
        "{}",
        report["coverage"]
    );
    let workloads = control(&report, "CIS-K8s-1.10:5.2.2");
    assert_eq!(workloads["status"], "not_assessed", "{workloads}");
    let why = reason(workloads, "DA-PRIV-001");
    assert!(
        why.starts_with("coverage gap: ") && why.contains("Deployment in shop"),
        "{why}"
    );
    // The ClusterRoles were read in full: their rule is assessed.
    let roles = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(roles["status"], "pass", "{roles}");

    // A reader that may list nothing: no Kubernetes control passes.
    let kube = [
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--kube-context",
        "reader",
    ];
    let report = scan(dir.path(), &kube);
    let roles = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(roles["status"], "not_assessed", "{roles}");
    assert_eq!(report["controls"]["counts"]["pass"], 0);
}

#[test]
fn a_rule_that_fails_is_not_assessed_and_only_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "repo/reader.yaml", READER);
    // A rule of the user's mapped to CIS 5.1.10 that raises an error (concat of a string).
    write(
        dir.path(),
        "policies/fails.rego",
        "package fails\n\n# METADATA\n# custom:\n#   id: FAIL-001\n#   severity: high\n#   kinds: [ClusterRole]\n#   controls: [CIS-K8s-1.10:5.1.10]\ndeny contains msg if {\n  x := input.resource.metadata.name\n  msg := concat(\",\", x)\n}\n",
    );
    let report = scan(dir.path(), &["--policy", "policies"]);
    assert_eq!(report["summary"]["result"], "error");
    let control = control(&report, "CIS-K8s-1.10:5.1.10");
    assert_eq!(control["status"], "not_assessed", "{control}");
    assert!(
        reason(control, "FAIL-001").starts_with("failed on 1 input(s): "),
        "{control}"
    );
    // Its error is pinned on it: the built-in rule beside it is assessed.
    assert_eq!(rule_of(control, "DA-RBAC-003")["status"], "pass");
}
