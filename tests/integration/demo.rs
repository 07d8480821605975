//! The bundled demo, end to end through the binary.

use std::collections::BTreeSet;

use crate::common::{drift_status, findings_for, run};

#[test]
fn demo_shows_every_drift_status_and_every_policy_family() {
    let result = run(&["scan", "--demo", "--format", "json"]);
    assert_eq!(result.code, 1, "{}", result.all());
    let report = result.json();
    assert_eq!(report["schema_version"], "2");
    let statuses: BTreeSet<&str> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["in_sync", "modified", "missing", "unmanaged"])
    );
    let families: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    for family in ["certificates", "images", "privileges", "backups"] {
        assert!(
            families.contains(family),
            "no {family} finding in {families:?}"
        );
    }

    // The drift the real kubectl commands made, field by field.
    let change = |kind: &str, name: &str| -> Vec<(String, String, String)> {
        report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["resource"]["kind"] == kind && d["resource"]["name"] == name)
            .flat_map(|d| d["changes"].as_array().unwrap().iter())
            .map(|c| {
                (
                    c["path"].as_str().unwrap().to_string(),
                    c["declared"].to_string(),
                    c["live"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        change("Deployment", "web"),
        vec![("spec.replicas".into(), "2".into(), "3".into())]
    );
    assert_eq!(
        change("Deployment", "worker"),
        vec![(
            "spec.template.spec.containers[0].image".into(),
            "\"nginx:1.25\"".into(),
            "\"nginx:1.27\"".into()
        )]
    );
    assert_eq!(
        change("ConfigMap", "shop-config"),
        vec![(
            "data.LOG_LEVEL".into(),
            "\"info\"".into(),
            "\"debug\"".into()
        )]
    );
    assert_eq!(
        change("CronJob", "db-backup"),
        vec![("spec.suspend".into(), "false".into(), "true".into())]
    );
    assert_eq!(
        drift_status(&report, "ScheduledBackup", "nightly").as_deref(),
        Some("missing")
    );
    assert_eq!(
        drift_status(&report, "Deployment", "debug-shell").as_deref(),
        Some("unmanaged")
    );
    // Applied objects with the server's defaults are in sync, Secrets included.
    for (kind, name) in [
        ("Service", "web"),
        ("Secret", "db-credentials"),
        ("IngressRoute", "web"),
        ("Deployment", "api"),
        ("Namespace", "shop"),
    ] {
        assert_eq!(
            drift_status(&report, kind, name).as_deref(),
            Some("in_sync"),
            "{kind} {name}"
        );
    }
    // Objects the cluster makes itself are not unmanaged.
    for (kind, name) in [
        ("ReplicaSet", "web-7d9c8b5f4d"),
        ("ServiceAccount", "default"),
        ("ConfigMap", "kube-root-ca.crt"),
    ] {
        assert_eq!(
            drift_status(&report, kind, name),
            None,
            "{kind} {name} must not be reported"
        );
    }
    // Excluded non-manifest files are not read: their ConfigMap would show as missing.
    assert_eq!(report["drift"].as_array().unwrap().len(), 22);

    // Findings point at the declared file and line.
    let web_image = findings_for(&report, "DA-IMG", "web");
    assert!(
        web_image
            .iter()
            .any(|f| f["location"]["file"] == "apps/shop/web.yaml" && f["location"]["line"] == 19),
        "{web_image:?}"
    );
    let expired = findings_for(&report, "DA-CERT", "legacy-tls");
    assert!(
        expired.iter().any(|f| f["severity"] == "critical"),
        "{expired:?}"
    );
    let suspended = findings_for(&report, "DA-BAK", "db-backup");
    assert!(
        suspended
            .iter()
            .any(|f| f["states"] == serde_json::json!(["live"])),
        "{suspended:?}"
    );
}

#[test]
fn demo_json_is_byte_identical_across_runs() {
    let first = run(&["scan", "--demo", "--format", "json"]);
    let second = run(&["scan", "--demo", "--format", "json"]);
    assert_eq!(first.stdout, second.stdout);
    let text_first = run(&["scan", "--demo"]);
    let text_second = run(&["scan", "--demo"]);
    assert_eq!(text_first.stdout, text_second.stdout);
}

#[test]
fn demo_never_prints_secret_values() {
    let forbidden = [
        "not-a-real-password",
        "bm90LWEtcmVhbC1wYXNzd29yZA",
        "not-a-real-key",
        "bm90LWEtcmVhbC1rZXk",
    ];
    for args in [
        vec!["scan", "--demo"],
        vec!["scan", "--demo", "--format", "json"],
        vec!["diff", "--demo"],
        vec!["diff", "--demo", "--format", "json", "--strict"],
    ] {
        let result = run(&args);
        for secret in forbidden {
            assert!(
                !result.all().contains(secret),
                "`{secret}` printed by {args:?}"
            );
        }
    }
}

#[test]
fn text_report_has_no_colour_when_not_a_terminal() {
    let result = run(&["scan", "--demo"]);
    assert!(!result.stdout.contains('\u{1b}'));
    assert!(
        result
            .stdout
            .contains("DRIFT  4 modified, 1 missing, 1 unmanaged, 16 in sync"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("FAIL:"));
}

/// The text reports of the demo, locked in as golden files
/// (`tests/integration/snapshots/`): a change to a renderer shows up as a
/// diff of these files, to review and accept with `cargo insta review` (or
/// `INSTA_UPDATE=always`).
#[test]
fn demo_scan_text_report_matches_its_golden_file() {
    let result = run(&["scan", "--demo"]);
    assert_eq!(result.code, 1, "{}", result.all());
    insta::assert_snapshot!("demo_scan_text", result.stdout);
}

#[test]
fn demo_diff_text_report_matches_its_golden_file() {
    let result = run(&["diff", "--demo"]);
    assert_eq!(result.code, 0, "{}", result.all());
    insta::assert_snapshot!("demo_diff_text", result.stdout);
}
