//! Drift normalisation, ignore rules, strict mode, coverage gaps, and the
//! guarantee that no secret value reaches any output.

use crate::common::{
    deployment_yaml, drift_status, live_deployment, run, run_in, snapshot_json, write,
};
use serde_json::{json, Value};

const CANARY: &str = "canary-7f3a9c-do-not-print";
const CANARY_LIVE: &str = "canary-live-51b2e8-do-not-print";

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn secret_values_appear_in_no_output_declared_or_live() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.yaml", &format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ntype: Opaque\nstringData:\n  password: {CANARY}\ndata:\n  token: {}\n",
        b64(CANARY)
    ));
    // Live: the password was changed by hand; the last-applied annotation holds
    // the old plaintext, as a real client-side apply leaves it.
    let last_applied = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
        "stringData": {"password": CANARY}, "type": "Opaque"}).to_string();
    let live = json!({"kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "db", "namespace": "shop", "uid": "u", "resourceVersion": "7",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
        "data": {"password": b64(CANARY_LIVE), "token": b64(CANARY)}, "type": "Opaque"});
    write(dir.path(), "live.json", &snapshot_json("prod", &[live]));
    let mut outputs = Vec::new();
    for command in ["scan", "diff"] {
        for format in ["text", "json", "html"] {
            for strict in [false, true] {
                let mut args = vec![
                    command,
                    "--repo",
                    ".",
                    "--path",
                    "secret.yaml",
                    "--live-snapshot",
                    "live.json",
                    "--format",
                    format,
                ];
                if strict {
                    args.push("--strict");
                }
                let r = run_in(dir.path(), &args);
                outputs.push(r.all());
            }
        }
    }
    for output in &outputs {
        for secret in [CANARY, CANARY_LIVE, &b64(CANARY), &b64(CANARY_LIVE)] {
            assert!(!output.contains(secret), "secret leaked:\n{output}");
        }
    }
    // The JSON reports checked above hold the evidence block, with the
    // Secret's file and the snapshot by digest only.
    let json_outputs: Vec<&String> = outputs
        .iter()
        .filter(|o| o.contains("\"evidence\": {"))
        .collect();
    assert_eq!(json_outputs.len(), 4, "scan and diff, strict or not");
    assert!(
        json_outputs[0].contains("\"path\": \"secret.yaml\""),
        "{}",
        json_outputs[0]
    );
    // What changed is still shown: the key, not the value.
    let r = run_in(
        dir.path(),
        &[
            "diff",
            "--repo",
            ".",
            "--path",
            "secret.yaml",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ],
    );
    let report = r.json();
    let changes = report["drift"][0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["path"], "data.password");
    assert_eq!(changes[0]["live"], "<redacted: changed>");
    assert!(report["drift"][0]["diff"]
        .as_str()
        .unwrap()
        .contains("+  password: \"<redacted: changed>\""));
}

#[test]
fn equal_quantities_ports_and_defaults_are_not_drift() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      hostNetwork: false\n      containers:\n        - name: main\n          image: registry.example.com/app:1\n          ports:\n            - containerPort: \"8080\"\n          resources:\n            limits: {cpu: 1000m, memory: 1Gi}\n            requests: {cpu: \"0.5\", memory: 512Mi}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app\n  namespace: shop\nspec:\n  selector: {app: app}\n  ports:\n    - port: 80\n      targetPort: \"8080\"\n");
    let mut deployment = live_deployment("app", "shop", 1, "registry.example.com/app:1");
    deployment["spec"]["template"]["spec"]["securityContext"] = json!({});
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"] =
        json!([{"containerPort": 8080, "protocol": "TCP"}]);
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1", "memory": "1073741824"}, "requests": {"cpu": "500m", "memory": "536870912"}});
    let service = json!({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "app", "namespace": "shop", "uid": "x", "resourceVersion": "9", "creationTimestamp": "2026-11-21T10:00:00Z"},
        "spec": {"ports": [{"protocol": "TCP", "port": 80, "targetPort": 8080}], "selector": {"app": "app"},
            "clusterIP": "10.96.12.7", "clusterIPs": ["10.96.12.7"], "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}});
    write(
        dir.path(),
        "live.json",
        &snapshot_json("prod", &[deployment.clone(), service]),
    );
    for strict in [false, true] {
        let mut args = vec![
            "diff",
            "--repo",
            ".",
            "--path",
            "app.yaml",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ];
        if strict {
            args.push("--strict");
        }
        let r = run_in(dir.path(), &args);
        let report = r.json();
        assert_eq!(
            report["summary"]["drift"]["in_sync"], 2,
            "strict={strict}: {}",
            r.stdout
        );
    }

    // A real change of quantity is drift, shown as written on each side.
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] =
        json!("2Gi");
    write(
        dir.path(),
        "live.json",
        &snapshot_json("prod", &[deployment]),
    );
    let r = run_in(
        dir.path(),
        &[
            "diff",
            "--repo",
            ".",
            "--path",
            "app.yaml",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ],
    );
    let report = r.json();
    let changes = &report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["resource"]["kind"] == "Deployment")
        .unwrap()["changes"];
    assert_eq!(
        changes,
        &json!([{"path": "spec.template.spec.containers[0].resources.limits.memory", "kind": "modified",
                 "declared": "1Gi", "live": "2Gi", "changed_by": null,
                 "location": {"file": "app.yaml", "line": 20}}])
    );
}

#[test]
fn strict_mode_reports_fields_git_does_not_set() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:1"),
    );
    let mut live = live_deployment("web", "shop", 2, "registry.example.com/web:1");
    live["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "DEBUG", "value": "1"}]);
    write(dir.path(), "live.json", &snapshot_json("prod", &[live]));
    let base = [
        "diff",
        "--repo",
        ".",
        "--live-snapshot",
        "live.json",
        "--format",
        "json",
    ];
    let lenient = run_in(dir.path(), &base).json();
    assert_eq!(
        drift_status(&lenient, "Deployment", "web").as_deref(),
        Some("in_sync")
    );
    let strict = run_in(dir.path(), &[&base[..], &["--strict"]].concat()).json();
    assert_eq!(
        drift_status(&strict, "Deployment", "web").as_deref(),
        Some("modified")
    );
    let changes = strict["drift"][0]["changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        1,
        "only the hand-added env, no server default: {changes:?}"
    );
    assert_eq!(changes[0]["path"], "spec.template.spec.containers[0].env");
    assert_eq!(changes[0]["declared"], Value::Null);
}

#[test]
fn ignore_rules_by_jsonpath_per_kind_namespace_and_name() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "apps/web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:1"),
    );
    write(
        dir.path(),
        "apps/api.yaml",
        &deployment_yaml("api", "shop", 2, "registry.example.com/api:1"),
    );
    let live = [
        live_deployment("web", "shop", 5, "registry.example.com/web:1"),
        live_deployment("api", "shop", 5, "registry.example.com/api:2"),
    ];
    write(dir.path(), "live.json", &snapshot_json("prod", &live));
    write(dir.path(), "driftaudit.yaml", "git:\n  paths: [apps]\ndrift:\n  ignore:\n    - kind: Deployment\n      name: '*'\n      paths: ['$.spec.replicas']\n    - kind: Deployment\n      name: web\n      paths: ['$.spec.template.spec.containers[*].image']\n");
    let report = run_in(
        dir.path(),
        &[
            "diff",
            "--repo",
            ".",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(
        drift_status(&report, "Deployment", "web").as_deref(),
        Some("in_sync")
    );
    let api = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["resource"]["name"] == "api")
        .unwrap();
    assert_eq!(
        api["changes"],
        json!([{"path": "spec.template.spec.containers[0].image", "kind": "modified",
                "declared": "registry.example.com/api:1", "live": "registry.example.com/api:2",
                "changed_by": null, "location": {"file": "apps/api.yaml", "line": 20}}])
    );

    write(
        dir.path(),
        "driftaudit.yaml",
        "drift:\n  ignore:\n    - paths: ['$.spec[']\n",
    );
    let r = run_in(
        dir.path(),
        &[
            "diff",
            "--repo",
            ".",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ],
    );
    // Found when the config is read, before the scan: no report, the line shown.
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "{}", r.all());
    assert!(r.stderr.contains("bad JSONPath"), "{}", r.stderr);
    assert!(r.stderr.contains("driftaudit.yaml:3:15"), "{}", r.stderr);
}

#[test]
fn coverage_gaps_make_the_scan_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:1"),
    );
    let mut snapshot: Value = serde_json::from_str(&snapshot_json(
        "prod",
        &[live_deployment(
            "web",
            "shop",
            2,
            "registry.example.com/web:1",
        )],
    ))
    .unwrap();
    snapshot["targets"][0]["coverage"] = json!([{"source": "kubernetes", "scope": "batch/v1 CronJob in shop", "reason": "403 Forbidden", "endpoint": "https://127.0.0.1:6443"}]);
    write(dir.path(), "live.json", &snapshot.to_string());
    let r = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--path",
            "web.yaml",
            "--live-snapshot",
            "live.json",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains("NOT CHECKED (1)") && r.stdout.contains("batch/v1 CronJob in shop"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("INCOMPLETE"));
    let r = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--path",
            "web.yaml",
            "--live-snapshot",
            "live.json",
            "--allow-partial",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["summary"]["complete"], false);
}

#[test]
fn unusable_snapshots_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:1"),
    );
    write(
        dir.path(),
        "v9.json",
        "{\"format\": \"driftaudit-snapshot\", \"version\": 9, \"targets\": []}",
    );
    let r = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--path",
            "web.yaml",
            "--live-snapshot",
            "v9.json",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("snapshot version 9 is not supported"),
        "{}",
        r.stdout
    );
    let r = run(&["scan", "--live-snapshot", "/nonexistent/live.json"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("/nonexistent/live.json"));
}

#[test]
fn fail_on_and_fail_on_drift_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example.com/web:latest"),
    );
    write(
        dir.path(),
        "live.json",
        &snapshot_json(
            "prod",
            &[live_deployment(
                "web",
                "shop",
                3,
                "registry.example.com/web:latest",
            )],
        ),
    );
    let code = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--repo",
            ".",
            "--path",
            "web.yaml",
            "--live-snapshot",
            "live.json",
        ];
        args.extend_from_slice(extra);
        run_in(dir.path(), &args).code
    };
    // :latest is a medium finding: not failing at the default `high`.
    assert_eq!(code(&[]), 0);
    assert_eq!(code(&["--fail-on", "medium"]), 1);
    assert_eq!(code(&["--fail-on-drift"]), 1);
    assert_eq!(code(&["--fail-on", "none"]), 0);
    assert_eq!(code(&["--fail-on", "urgent"]), 2);
    assert_eq!(code(&["--now", "yesterday"]), 2);
}
