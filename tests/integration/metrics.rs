//! `--format prometheus` (docs/metrics.md) through the binary, checked by the
//! real Prometheus parser and linter (`promtool check metrics`, Debian package
//! `prometheus`): the demo, a golden file of it, hostile names, exact
//! certificate and backup values for a fixed clock (test Kubernetes API
//! server), real pgBackRest and real PostgreSQL WAL archiving; and the
//! deploy/ files: the Grafana dashboard's queries name only metrics driftaudit
//! writes, the manifests parse with the kinds expected.
//!
//! Without `promtool` the parser tests say so loudly and skip, unless
//! `DRIFTAUDIT_REQUIRE_PROMTOOL` is set (CI sets it): then they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::apiserver::ApiServer;
use crate::common::pgserver::{as_postgres, PASSWORD};
use crate::common::{driftaudit, finish, run, run_in, write};
use crate::schemas::{assert_valid, schema};

const NOW: &str = "2026-11-22T00:00:00Z";
/// `NOW` in seconds since the Unix epoch.
const NOW_UNIX: i64 = 1_795_305_600;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether `promtool` is installed. Missing, the test skips with a loud
/// message, or fails when `DRIFTAUDIT_REQUIRE_PROMTOOL` is set.
fn promtool_available(test: &str) -> bool {
    if on_path("promtool") {
        return true;
    }
    let required = std::env::var_os("DRIFTAUDIT_REQUIRE_PROMTOOL").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "{test}: DRIFTAUDIT_REQUIRE_PROMTOOL is set and promtool is not installed (apt-get install prometheus)"
    );
    eprintln!(
        "\n!!!!! SKIPPED {test}: promtool not installed (apt-get install prometheus); \
         set DRIFTAUDIT_REQUIRE_PROMTOOL=1 to make this a failure !!!!!\n"
    );
    false
}

/// `promtool check metrics` on `text`: whether it succeeded, and what it said.
fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// The text-format parser, then the naming linter: fails the test with
/// promtool's own words unless it accepts the exposition without a single
/// lint problem.
fn assert_promtool_accepts(text: &str, what: &str) {
    let (success, said) = promtool_check(text);
    assert!(
        success && said.trim().is_empty(),
        "promtool rejects {what}: {said}\n{text}"
    );
}

/// `promtool` refuses broken exposition (the check above can fail), and
/// lints names (a counter without `_total`).
#[test]
fn promtool_refuses_an_unescaped_label_value_and_a_bad_name() {
    if !promtool_available("promtool_refuses_an_unescaped_label_value_and_a_bad_name") {
        return;
    }
    let (success, _) = promtool_check("# HELP a_b x\n# TYPE a_b gauge\na_b{name=\"x\"y\"} 1\n");
    assert!(!success);
    let (_, said) = promtool_check("# HELP a_b x\n# TYPE a_b counter\na_b 1\n");
    assert!(said.contains("_total"), "{said}");
}

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Reads the samples back (after promtool accepted the text), undoing the
/// three escapes of label values, so tests can compare values exactly.
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() && chars[i] != '{' && chars[i] != ' ' {
            i += 1;
        }
        let name: String = chars[..i].iter().collect();
        let mut labels = BTreeMap::new();
        if chars.get(i) == Some(&'{') {
            i += 1;
            while chars[i] != '}' {
                let start = i;
                while chars[i] != '=' {
                    i += 1;
                }
                let label: String = chars[start..i].iter().collect();
                assert_eq!(chars[i + 1], '"', "{line}");
                i += 2;
                let mut value = String::new();
                loop {
                    match chars[i] {
                        '\\' => {
                            value.push(match chars[i + 1] {
                                'n' => '\n',
                                other => other,
                            });
                            i += 2;
                        }
                        '"' => {
                            i += 1;
                            break;
                        }
                        c => {
                            value.push(c);
                            i += 1;
                        }
                    }
                }
                labels.insert(label, value);
                if chars[i] == ',' {
                    i += 1;
                }
            }
            i += 1;
        }
        let value_text: String = chars[i..].iter().collect();
        out.push((name, labels, value_text.trim().parse().expect("a number")));
    }
    out
}

/// The value of the one sample of `name` whose labels include `with`.
fn value(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|(n, labels, _)| {
            n == name
                && with
                    .iter()
                    .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {with:?}: {found:?}");
    found[0].2
}

#[test]
fn the_demo_passes_promtool_and_is_the_same_from_every_path() {
    if !promtool_available("the_demo_passes_promtool_and_is_the_same_from_every_path") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.prom");
    let json_file = dir.path().join("demo.json");
    let output = format!("prometheus={}", file.display());
    let json_output = format!("json={}", json_file.display());
    let first = run(&[
        "scan",
        "--demo",
        "--format",
        "prometheus",
        "--output",
        &output,
        "--output",
        &json_output,
    ]);
    assert_eq!(first.code, 1, "the demo fails by design: {}", first.stderr);
    assert_promtool_accepts(&first.stdout, "the demo");
    // Byte-identical: run again, --output, and `report --input` of its JSON.
    let second = run(&["scan", "--demo", "--format", "prometheus"]);
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first.stdout);
    // Renamed into place from a temporary file that is gone, readable by a
    // collector running as another user.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["demo.json", "demo.prom"]);
    }
    // A folder that does not exist is an input error (exit 2), naming it.
    let missing = dir.path().join("no/such/dir/x.prom");
    let refused = run(&[
        "scan",
        "--demo",
        "--format",
        "prometheus",
        "--output",
        &format!("prometheus={}", missing.display()),
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("no/such/dir"), "{}", refused.stderr);
    let again = run(&[
        "report",
        "--input",
        json_file.to_str().unwrap(),
        "--format",
        "prometheus",
    ]);
    assert_eq!(again.stdout, first.stdout, "{}", again.stderr);
    // The demo's clock is fixed: no measured duration.
    assert!(!first.stdout.contains("driftaudit_scan_duration_seconds"));
    let samples = samples(&first.stdout);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    let summary = &report["summary"];
    for severity in ["critical", "high", "medium", "low", "info"] {
        assert_eq!(
            value(
                &samples,
                "driftaudit_findings_by_severity",
                &[("severity", severity)]
            ),
            summary["findings"][severity].as_f64().unwrap(),
            "{severity}"
        );
    }
    let open: f64 = samples
        .iter()
        .filter(|(n, _, _)| n == "driftaudit_findings")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(open, summary["findings"]["total"].as_f64().unwrap());
    for status in ["in_sync", "modified", "missing", "unmanaged"] {
        assert_eq!(
            value(
                &samples,
                "driftaudit_drift_resources",
                &[("status", status), ("target", "demo-cluster")]
            ),
            summary["drift"][status].as_f64().unwrap(),
            "{status}"
        );
    }
    assert_eq!(value(&samples, "driftaudit_scan_exit_code", &[]), 1.0);
    assert_eq!(
        value(&samples, "driftaudit_scan_result", &[("result", "fail")]),
        1.0
    );
    assert_eq!(
        value(&samples, "driftaudit_scan_timestamp_seconds", &[]),
        NOW_UNIX as f64
    );
    // The expired legacy certificate, declared and live.
    for state in ["declared", "live"] {
        assert_eq!(
            value(
                &samples,
                "driftaudit_x509_cert_expired",
                &[("state", state), ("secret_name", "legacy-tls")]
            ),
            1.0
        );
    }
    insta::assert_snapshot!("demo_scan_prometheus", first.stdout);
}

#[test]
fn a_real_scan_measures_its_duration_and_a_fixed_clock_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write(
        dir.path(),
        "live.json",
        &crate::common::snapshot_json("prod", &[]),
    );
    let args = |now: Option<&str>| {
        let mut args = vec![
            "scan",
            "--live-snapshot",
            snapshot.to_str().unwrap(),
            "--format",
            "prometheus",
        ];
        if let Some(now) = now {
            args.extend(["--now", now]);
        }
        run_in(dir.path(), &args)
    };
    let measured = args(None);
    let samples = samples(&measured.stdout);
    let duration = value(&samples, "driftaudit_scan_duration_seconds", &[]);
    assert!((0.0..60.0).contains(&duration), "{duration}");
    let fixed = args(Some(NOW));
    assert!(!fixed.stdout.contains("duration"), "{}", fixed.stdout);
    assert_eq!(fixed.stdout, args(Some(NOW)).stdout);
}

/// A self-signed certificate with `common_name`, valid in [from, to].
fn certificate_pem(common_name: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["shop.example.test".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    params.serial_number = Some(rcgen::SerialNumber::from(vec![0x12, 0x34]));
    params.self_signed(&key).unwrap().pem()
}

fn tls_secret(namespace: &str, name: &str, pem: &str) -> Value {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}"), "resourceVersion": "5"},
        "data": {"tls.crt": b64(pem), "tls.key": b64("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n")}
    })
}

fn cronjob(
    namespace: &str,
    name: &str,
    labels: Value,
    annotations: Value,
    last: Option<&str>,
) -> Value {
    let mut status = json!({});
    if let Some(last) = last {
        status["lastSuccessfulTime"] = json!(last);
    }
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}"), "resourceVersion": "7",
            "labels": labels, "annotations": annotations},
        "spec": {"schedule": "0 2 * * *", "suspend": false, "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                "containers": [{"name": "dump", "image": "registry.example.com/pg-dump:16"}]}}}}},
        "status": status
    })
}

#[test]
fn certificate_and_backup_metrics_from_a_live_cluster_have_exact_values() {
    let server = ApiServer::start();
    let pem = certificate_pem("shop.example.test", (2026, 11, 1), (2026, 12, 2));
    server.add(tls_secret("shop", "shop-tls", &pem));
    // Named like a backup, 30 hours old against its own 48-hour RPO: fresh.
    server.add(cronjob(
        "shop",
        "db-backup",
        json!({}),
        json!({"driftaudit.io/rpo-hours": "48"}),
        Some("2026-11-20T18:00:00Z"),
    ));
    // Labelled a backup, never succeeded: stale, no time known.
    server.add(cronjob(
        "shop",
        "archive-files",
        json!({"driftaudit.io/backup": "true"}),
        json!({}),
        None,
    ));
    // Named like a backup but labelled "false": not a backup.
    server.add(cronjob(
        "shop",
        "snapshot-cleaner",
        json!({"driftaudit.io/backup": "false"}),
        json!({}),
        Some("2026-11-01T00:00:00Z"),
    ));
    // Not a backup by name.
    server.add(cronjob("shop", "report-mailer", json!({}), json!({}), None));
    // A dump 30 hours old against the baseline's 24 hours: stale.
    server.add(cronjob(
        "shop",
        "nightly-dump",
        json!({}),
        json!({}),
        Some("2026-11-20T18:00:00Z"),
    ));
    let dir = tempfile::tempdir().unwrap();
    // Git declares something in `shop`: the live side reads that namespace.
    write(
        dir.path(),
        "repo/shop.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  a: b\n",
    );
    let kubeconfig = server.kubeconfig(dir.path());
    let json_file = dir.path().join("report.json");
    let json_output = format!("json={}", json_file.display());
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--kube-context",
            "admin",
            "--now",
            NOW,
            "--format",
            "prometheus",
            "--output",
            &json_output,
        ],
    );
    if promtool_available("certificate_and_backup_metrics_from_a_live_cluster_have_exact_values") {
        assert_promtool_accepts(&run.stdout, "a live cluster's metrics");
    }
    assert!(
        !run.stdout.contains("c2VjcmV0") && !run.stdout.contains("PRIVATE"),
        "no key material: {}",
        run.stdout
    );
    let samples = samples(&run.stdout);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_valid(&schema("docs/report-schema.json"), &report, "the report");
    let target_name = report["scan"]["live"][0].as_str().unwrap().to_string();
    let cert = [
        ("state", "live"),
        ("target", target_name.as_str()),
        ("secret_namespace", "shop"),
        ("secret_name", "shop-tls"),
        ("secret_key", "tls.crt"),
        ("subject_CN", "shop.example.test"),
        ("issuer_CN", "shop.example.test"),
        ("serial_number", "1234"),
    ];
    // 2026-12-02T00:00:00Z and 2026-11-01T00:00:00Z.
    let not_after = 1_796_169_600.0;
    assert_eq!(
        value(&samples, "driftaudit_x509_cert_not_after", &cert),
        not_after
    );
    assert_eq!(
        value(&samples, "driftaudit_x509_cert_not_before", &cert),
        1_793_491_200.0
    );
    assert_eq!(
        value(&samples, "driftaudit_x509_cert_expires_in_seconds", &cert),
        10.0 * 86_400.0
    );
    assert_eq!(value(&samples, "driftaudit_x509_cert_expired", &cert), 0.0);
    // The JSON report says the same, in days.
    let certificates = report["certificates"].as_array().unwrap();
    assert_eq!(certificates.len(), 1, "{certificates:?}");
    assert_eq!(certificates[0]["days_remaining"], 10);
    assert_eq!(certificates[0]["not_after"], "2026-12-02T00:00:00Z");
    assert_eq!(
        certificates[0]["read_from"],
        "Secret shop/shop-tls key tls.crt"
    );
    assert!(!certificates[0].to_string().contains("c2VjcmV0"));

    let fresh = [("kind", "cronjob"), ("name", "shop/db-backup")];
    assert_eq!(
        value(
            &samples,
            "driftaudit_backup_last_success_timestamp_seconds",
            &fresh
        ),
        (NOW_UNIX - 30 * 3600) as f64
    );
    assert_eq!(
        value(&samples, "driftaudit_backup_age_seconds", &fresh),
        (30 * 3600) as f64
    );
    assert_eq!(
        value(&samples, "driftaudit_backup_rpo_seconds", &fresh),
        (48 * 3600) as f64
    );
    assert_eq!(value(&samples, "driftaudit_backup_stale", &fresh), 0.0);
    let never = [("kind", "cronjob"), ("name", "shop/archive-files")];
    assert_eq!(value(&samples, "driftaudit_backup_stale", &never), 1.0);
    assert_eq!(
        value(&samples, "driftaudit_backup_rpo_seconds", &never),
        (24 * 3600) as f64,
        "the baseline's rpo_hours"
    );
    assert!(
        !samples
            .iter()
            .any(|(n, l, _)| n == "driftaudit_backup_age_seconds"
                && l["name"] == "shop/archive-files")
    );
    for not_backup in ["shop/snapshot-cleaner", "shop/report-mailer"] {
        assert!(
            !samples
                .iter()
                .any(|(_, l, _)| l.get("name").map(String::as_str) == Some(not_backup)),
            "{not_backup} is no backup"
        );
    }
    let stale = [("kind", "cronjob"), ("name", "shop/nightly-dump")];
    assert_eq!(value(&samples, "driftaudit_backup_stale", &stale), 1.0);
    let backups = report["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 3, "{backups:?}");
    assert_eq!(backups[1]["name"], "shop/db-backup");
    assert_eq!(backups[1]["newest_success"], "2026-11-20T18:00:00Z");
    assert_eq!(backups[1]["evidence"], "status.lastSuccessfulTime");
    // The Rust twin agrees with the Rego rules: the CronJobs DA-BAK-005
    // reports as past their RPO are exactly the stale rows with a success.
    let mut past_rpo: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DA-BAK-005")
        .map(|f| {
            format!(
                "{}/{}",
                f["resource"]["namespace"].as_str().unwrap(),
                f["resource"]["name"].as_str().unwrap()
            )
        })
        .collect();
    past_rpo.sort();
    let mut stale_rows: Vec<String> = backups
        .iter()
        .filter(|b| b["stale"] == true && !b["newest_success"].is_null())
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    stale_rows.sort();
    assert_eq!(past_rpo, vec!["shop/nightly-dump".to_string()]);
    assert_eq!(stale_rows, past_rpo);
}

/// Scans a snapshot of `objects` on a target named `target` at `NOW`: the
/// metrics (standard output) and the JSON report of the same scan.
fn scan_snapshot(target: &str, objects: &[Value]) -> (crate::common::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = write(
        dir.path(),
        "live.json",
        &crate::common::snapshot_json(target, objects),
    );
    let json_file = dir.path().join("report.json");
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--live-snapshot",
            snapshot.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "prometheus",
            "--output",
            &format!("json={}", json_file.display()),
        ],
    );
    let report = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", run.all()));
    assert_valid(&schema("docs/report-schema.json"), &report, "the report");
    (run, report)
}

#[test]
fn hostile_names_stay_inside_their_label_values() {
    let hostile = "prod \"eu\" \\ back\\slash\nsecond line";
    let cn = "evil\" } injected{x=\"1\"} \\ cn";
    let pem = certificate_pem(cn, (2026, 1, 1), (2027, 1, 1));
    let (run, _) = scan_snapshot(
        hostile,
        &[
            tls_secret("shop", "web\"tls\\", &pem),
            cronjob(
                "shop",
                "nightly",
                json!({"driftaudit.io/backup": "true"}),
                json!({"driftaudit.io/rpo-hours": "1e9"}),
                Some("2026-11-21T00:00:00Z"),
            ),
            // Control characters and bidi controls: an ESC sequence that
            // clears a screen, CR, TAB, DEL, a C1 NEL, a right-to-left
            // override and an isolate.
            cronjob(
                "shop",
                "nightly\u{1b}[2J\r\t\u{7f}\u{85}\u{202e}kcab\u{2066}x",
                json!({"driftaudit.io/backup": "true"}),
                json!({}),
                Some("2026-11-21T00:00:00Z"),
            ),
        ],
    );
    assert!(run.stdout.starts_with("# HELP "), "{}", run.all());
    // None reaches the exposition raw; each is the text `\u{..}`.
    let raw: Vec<char> = run
        .stdout
        .chars()
        .filter(|&c| {
            c != '\n'
                && (c.is_control()
                    || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        })
        .collect();
    assert!(raw.is_empty(), "{raw:?}");
    if promtool_available("hostile_names_stay_inside_their_label_values") {
        assert_promtool_accepts(&run.stdout, "hostile names");
    }
    let samples = samples(&run.stdout);
    let cert = [
        ("target", hostile),
        ("subject_CN", cn),
        ("secret_name", "web\"tls\\"),
    ];
    assert_eq!(
        value(&samples, "driftaudit_x509_cert_not_after", &cert),
        1_798_761_600.0
    );
    // An RPO annotation that is not a plain decimal falls back to the baseline.
    let backup = [("target", hostile), ("name", "shop/nightly")];
    assert_eq!(
        value(&samples, "driftaudit_backup_rpo_seconds", &backup),
        86_400.0
    );
    assert_eq!(value(&samples, "driftaudit_backup_stale", &backup), 0.0);
    let controls = [
        ("target", hostile),
        (
            "name",
            "shop/nightly\\u{1b}[2J\\u{d}\\u{9}\\u{7f}\\u{85}\\u{202e}kcab\\u{2066}x",
        ),
    ];
    assert_eq!(
        value(&samples, "driftaudit_backup_rpo_seconds", &controls),
        86_400.0
    );
    // No line of the exposition starts with anything but a comment or a
    // driftaudit metric: nothing broke out of a label value.
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("# HELP driftaudit_")
                || line.starts_with("# TYPE driftaudit_")
                || line.starts_with("driftaudit_"),
            "{line}"
        );
    }
}

#[test]
fn real_pgbackrest_and_wal_archiving_failures_become_metrics() {
    let (server, config) = crate::pgbackrest::backed_up_server();
    let config = config.to_str().unwrap().to_string();
    // What pgBackRest itself says of the newest backup.
    let info = as_postgres(
        &[
            "pgbackrest",
            &format!("--config={config}"),
            "--stanza=demo",
            "info",
            "--output=json",
        ],
        &[],
    );
    let info: Value = serde_json::from_str(&info).unwrap();
    let stop = info[0]["backup"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["timestamp"]["stop"].as_i64())
        .max()
        .unwrap();
    // Archiving now fails: every attempt after the switch is counted.
    server.psql("postgres", "ALTER SYSTEM SET archive_command = 'false'");
    server.psql("postgres", "SELECT pg_reload_conf()");
    server.psql("postgres", "CREATE TABLE t AS SELECT 1 AS x");
    server.psql("postgres", "SELECT pg_switch_wal()");
    let mut failed = String::from("0");
    for _ in 0..150 {
        failed = server.psql("postgres", "SELECT failed_count FROM pg_stat_archiver");
        if failed != "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_ne!(failed, "0", "the archiver never failed");
    let now = stop + 3 * 86_400;
    let now_text = time::OffsetDateTime::from_unix_timestamp(now)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let dsn = server.dsn("postgres");
    let scratch = tempfile::tempdir().unwrap();
    let json_file = scratch.path().join("report.json");
    let mut command = driftaudit();
    command
        .current_dir(server.path())
        .env("PGPASSWORD", PASSWORD)
        .args([
            "scan",
            "--pgbackrest-stanza",
            "demo",
            "--pgbackrest-config",
            &config,
            "--postgres",
            &dsn,
            "--now",
            &now_text,
            "--format",
            "prometheus",
            "--output",
            &format!("json={}", json_file.display()),
        ]);
    let run = finish(&mut command);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", run.all()));
    assert_valid(&schema("docs/report-schema.json"), &report, "the report");
    assert_eq!(
        report["wal_archivers"][0]["archive_mode"], "on",
        "{}",
        report["wal_archivers"]
    );
    assert_eq!(
        report["backups"][0]["evidence"],
        "pgbackrest info: backup[].timestamp.stop"
    );
    if promtool_available("real_pgbackrest_and_wal_archiving_failures_become_metrics") {
        assert_promtool_accepts(&run.stdout, "pgBackRest and PostgreSQL metrics");
    }
    assert!(
        run.stdout.contains("driftaudit_wal_archive_failing"),
        "{}",
        run.all()
    );
    let samples = samples(&run.stdout);
    let stanza = [("kind", "pgbackrest"), ("name", "demo")];
    assert_eq!(
        value(
            &samples,
            "driftaudit_backup_last_success_timestamp_seconds",
            &stanza
        ),
        stop as f64
    );
    assert_eq!(
        value(&samples, "driftaudit_backup_age_seconds", &stanza),
        (3 * 86_400) as f64
    );
    assert_eq!(
        value(&samples, "driftaudit_backup_stale", &stanza),
        1.0,
        "3 days > 24 h"
    );
    let wal = [("server", server.label("postgres"))];
    let wal: Vec<(&str, &str)> = wal.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Read after the scan: failures only grow, so the scan saw at most this many.
    let failed_after: f64 = server
        .psql("postgres", "SELECT failed_count FROM pg_stat_archiver")
        .parse()
        .unwrap();
    let seen = value(&samples, "driftaudit_wal_archive_failures", &wal);
    assert!(
        seen >= failed.parse::<f64>().unwrap() && seen <= failed_after,
        "{seen} {failed} {failed_after}"
    );
    assert_eq!(value(&samples, "driftaudit_wal_archive_failing", &wal), 1.0);
    let last_failed = server.psql(
        "postgres",
        "SELECT floor(extract(epoch FROM last_failed_time))::bigint FROM pg_stat_archiver",
    );
    let seen_failure = value(
        &samples,
        "driftaudit_wal_archive_last_failure_timestamp_seconds",
        &wal,
    );
    assert!(
        seen_failure <= last_failed.parse::<f64>().unwrap() && seen_failure > 0.0,
        "{seen_failure} {last_failed}"
    );
    assert!(value(&samples, "driftaudit_wal_archived_segments", &wal) >= 1.0);
    assert!(!run.all().contains(PASSWORD), "{}", run.all());
}

/// Metric names a PromQL expression refers to: every identifier that is
/// followed by `{`, `[`, `)`, an operator, a space or the end, and is not a
/// PromQL keyword, function or aggregation, label name inside braces or
/// `by (...)`/`without (...)`/`on (...)`/`ignoring (...)` lists, or a
/// Grafana variable.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "group",
        "limitk",
        "limit_ratio",
    ];
    let mut names = BTreeSet::new();
    let bytes: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut brace_depth = 0;
    let mut in_string: Option<char> = None;
    // After by/without/on/ignoring/group_*: the next (...) holds label names.
    let mut label_list = false;
    let mut paren_label_depth: Option<usize> = None;
    let mut paren_depth = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(quote) = in_string {
            if c == '\\' {
                i += 2;
                continue;
            }
            if c == quote {
                in_string = None;
            }
            i += 1;
            continue;
        }
        match c {
            '"' | '\'' | '`' => in_string = Some(c),
            '{' => brace_depth += 1,
            '}' => brace_depth -= 1,
            '(' => {
                paren_depth += 1;
                if label_list {
                    paren_label_depth = Some(paren_depth);
                    label_list = false;
                }
            }
            ')' => {
                if paren_label_depth == Some(paren_depth) {
                    paren_label_depth = None;
                }
                paren_depth = paren_depth.saturating_sub(1);
            }
            '$' => {
                // A Grafana variable: $cluster, ${cluster}, $__rate_interval.
                i += 1;
                while i < bytes.len() && (bytes[i].is_alphanumeric() || "_{}".contains(bytes[i])) {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == '_' || bytes[i] == ':')
            {
                i += 1;
            }
            let word: String = bytes[start..i].iter().collect();
            // A number's exponent or a duration (5m, 1e9) starts with a digit: not here.
            let previous = if start > 0 { bytes[start - 1] } else { ' ' };
            if previous.is_ascii_digit() || previous == '.' {
                continue;
            }
            let next = bytes[i..].iter().find(|c| !c.is_whitespace()).copied();
            if KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                // by/without/on/ignoring always, group_left/group_right when
                // a label list follows.
                label_list = [
                    "by",
                    "without",
                    "on",
                    "ignoring",
                    "group_left",
                    "group_right",
                ]
                .contains(&word.as_str())
                    && next == Some('(');
                continue;
            }
            let is_function = next == Some('(');
            if brace_depth > 0 || paren_label_depth.is_some() || is_function {
                continue;
            }
            names.insert(word);
            continue;
        }
        i += 1;
    }
    names
}

#[test]
fn metric_names_are_read_out_of_promql() {
    let names = metric_names(
        "sum by (severity) (driftaudit_findings{cluster=~\"$cluster\", rule!=\"x_y\"}) / on (cluster) group_left max(driftaudit_backup_rpo_seconds[5m] offset 1h) > bool 1e3 and time() - driftaudit_x509_cert_not_after < 30 * 86400",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        vec![
            "driftaudit_backup_rpo_seconds",
            "driftaudit_findings",
            "driftaudit_x509_cert_not_after"
        ]
    );
}

/// Every metric family `--format prometheus` can write, from its source.
fn families_written() -> BTreeSet<String> {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report/prometheus.rs"),
    )
    .unwrap();
    source
        .split("Family::new(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix('"'))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_driftaudit_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("the dashboard is JSON");
    let written = families_written();
    // Every family named in the source is documented and shows in some output
    // (the demo, or the tests above); the demo writes these at least.
    let demo = run(&["scan", "--demo", "--format", "prometheus"]).stdout;
    for name in [
        "driftaudit_findings",
        "driftaudit_x509_cert_not_after",
        "driftaudit_backup_stale",
    ] {
        assert!(demo.contains(&format!("# TYPE {name} gauge")));
        assert!(written.contains(name));
    }
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/metrics.md"))
            .unwrap();
    for name in &written {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/metrics.md does not document {name}"
        );
    }
    let mut expressions = Vec::new();
    let mut panels: Vec<&Value> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .collect();
    while let Some(panel) = panels.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            panels.extend(inner);
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                expressions.push((
                    panel["title"].as_str().unwrap_or("").to_string(),
                    expr.to_string(),
                ));
            }
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(query) = variable["query"]
            .as_str()
            .or(variable["query"]["query"].as_str())
        {
            if let Some(inner) = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
            {
                if let Some((metric, _)) = inner.rsplit_once(',') {
                    expressions.push(("variable".into(), metric.to_string()));
                }
            }
        }
    }
    assert!(expressions.len() >= 8, "{expressions:?}");
    let mut used = BTreeSet::new();
    for (title, expr) in &expressions {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{title}: no metric in {expr}");
        for name in names {
            assert!(
                written.contains(&name),
                "panel `{title}` queries `{name}`, which driftaudit does not write: {expr}"
            );
            used.insert(name);
        }
    }
    // Prometheus's own PromQL parser: every query as a recording rule,
    // Grafana's variables replaced by what "All" sends.
    if promtool_available("the_grafana_dashboard_queries_only_metrics_driftaudit_writes") {
        let rules: Vec<Value> = expressions
            .iter()
            .enumerate()
            .map(|(index, (_, expr))| {
                json!({"record": format!("dashboard:query_{index}"), "expr": expr.replace("$cluster", ".*")})
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "rules.json",
            &json!({"groups": [{"name": "dashboard", "rules": rules}]}).to_string(),
        );
        assert_promtool_checks_rules(&file);
    }
    for needed in [
        "driftaudit_findings_by_severity",
        "driftaudit_drift_resources",
        "driftaudit_coverage_gaps",
        "driftaudit_x509_cert_not_after",
        "driftaudit_backup_last_success_timestamp_seconds",
        "driftaudit_backup_rpo_seconds",
        "driftaudit_wal_archive_failures",
        "driftaudit_scan_result",
    ] {
        assert!(used.contains(needed), "no panel shows {needed}");
    }
}

/// `promtool check rules FILE` accepts it (PromQL parsed by Prometheus).
fn assert_promtool_checks_rules(file: &Path) {
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool rejects {}: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_alert_examples_parse_and_name_only_metrics_driftaudit_writes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus-alerts.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let document = driftaudit::yaml::parse_documents(&text)
        .unwrap()
        .remove(0)
        .value;
    let written = families_written();
    let rules = document["groups"][0]["rules"].as_array().unwrap();
    assert!(rules.len() >= 5);
    for rule in rules {
        let expr = rule["expr"].as_str().unwrap();
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{expr}");
        for name in names {
            assert!(
                written.contains(&name),
                "alert {} queries `{name}`",
                rule["alert"]
            );
        }
    }
    if promtool_available("the_alert_examples_parse_and_name_only_metrics_driftaudit_writes") {
        assert_promtool_checks_rules(&path);
    }
}

#[test]
fn the_deploy_manifests_parse_with_the_kinds_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut kinds = BTreeSet::new();
    for file in ["cronjob.yaml", "rbac.yaml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let documents = driftaudit::yaml::parse_documents(&text)
            .unwrap_or_else(|e| panic!("{file}: {}", e.message));
        for document in documents {
            let value = document.value;
            let kind = value["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: no kind"))
                .to_string();
            if kind == "CronJob" {
                // The Kubernetes API types: a field of the wrong type fails here.
                let cronjob: k8s_openapi::api::batch::v1::CronJob =
                    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
                let pod = cronjob
                    .spec
                    .job_template
                    .spec
                    .unwrap()
                    .template
                    .spec
                    .unwrap();
                let scan = pod
                    .containers
                    .iter()
                    .find(|c| c.name == "scan")
                    .expect("a scan container");
                let args = scan.args.clone().unwrap_or_default().join(" ");
                // Every flag the job passes is one this driftaudit has.
                let help = crate::common::run(&["scan", "--help"]).stdout;
                for flag in args.split_whitespace().filter(|a| a.starts_with("--")) {
                    assert!(
                        help.contains(&format!("{flag} "))
                            || help.contains(&format!("{flag}\n"))
                            || help.contains(&format!("{flag}["))
                            || help.contains(&format!("{flag}=")),
                        "deploy/cronjob.yaml passes {flag}, which `driftaudit scan` does not know"
                    );
                }
                assert!(args.contains("--history postgres:host="), "{args}");
                assert!(args.contains("sslmode=verify-full"), "{args}");
                assert!(
                    args.contains(
                        "--history-password-file /var/run/secrets/driftaudit-history/password"
                    ),
                    "{args}"
                );
                assert!(
                    args.contains("--output prometheus=/work/metrics/driftaudit.prom"),
                    "{args}"
                );
                assert!(
                    !args.to_ascii_lowercase().contains("password="),
                    "no password in the DSN: {args}"
                );
                let volumes = pod.volumes.unwrap_or_default();
                let secret = volumes
                    .iter()
                    .find_map(|v| v.secret.as_ref())
                    .expect("the history password comes from a Secret");
                assert!(secret.secret_name.is_some());
                // The account reads every Secret: its token goes to the scan
                // container alone, not to the clone and push containers.
                assert_eq!(pod.automount_service_account_token, Some(false));
                let token_path = "/var/run/secrets/kubernetes.io/serviceaccount";
                let with_token: Vec<&str> = pod
                    .containers
                    .iter()
                    .chain(pod.init_containers.iter().flatten())
                    .filter(|c| {
                        c.volume_mounts
                            .iter()
                            .flatten()
                            .any(|m| m.mount_path == token_path)
                    })
                    .map(|c| c.name.as_str())
                    .collect();
                assert_eq!(with_token, ["scan"]);
                assert!(
                    volumes.iter().any(|v| v
                        .projected
                        .as_ref()
                        .and_then(|p| p.sources.as_ref())
                        .is_some_and(|s| s.iter().any(|s| s.service_account_token.is_some()))),
                    "the scan container's token is a projected one"
                );
                assert!(
                    pod.containers.len() + pod.init_containers.as_ref().map_or(0, |c| c.len()) >= 3,
                    "a container gets the metrics to Prometheus"
                );
            }
            kinds.insert(kind);
        }
    }
    for kind in [
        "CronJob",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
    ] {
        assert!(kinds.contains(kind), "{kind} missing: {kinds:?}");
    }
}

#[test]
fn exempted_findings_are_not_open_but_counted_apart() {
    let privileged = |namespace: &str| {
        let mut deployment =
            crate::common::live_deployment("agent", namespace, 1, "registry.example.com/agent:1.0");
        deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
            json!({"privileged": true});
        deployment
    };
    let (run, report) = scan_snapshot("prod", &[privileged("kube-system"), privileged("shop")]);
    let samples = samples(&run.stdout);
    let count = |list: &str, rule: &str| {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .count() as f64
    };
    let suppressed = report["suppressed_findings"].as_array().unwrap();
    assert!(!suppressed.is_empty(), "kube-system is exempt by default");
    let rules: BTreeSet<&str> = suppressed
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.iter().any(|rule| count("findings", rule) > 0.0),
        "the same rule is open in shop: {}",
        report["findings"]
    );
    for rule in rules {
        assert_eq!(
            value(
                &samples,
                "driftaudit_findings_suppressed",
                &[("rule", rule), ("suppressed_by", "exemption")]
            ),
            count("suppressed_findings", rule),
            "{rule}"
        );
        let open: f64 = samples
            .iter()
            .filter(|(n, l, _)| n == "driftaudit_findings" && l["rule"] == rule)
            .map(|(_, _, v)| v)
            .sum();
        assert_eq!(open, count("findings", rule), "{rule}: only shop's is open");
    }
    let total_open: f64 = samples
        .iter()
        .filter(|(n, _, _)| n == "driftaudit_findings_by_severity")
        .map(|(_, _, v)| v)
        .sum();
    assert_eq!(
        total_open,
        report["summary"]["findings"]["total"].as_f64().unwrap()
    );
}
