//! What the operators report (issue 16, docs/backups.md), end to end through
//! the binary against the test API server: cert-manager `Certificate`s,
//! CloudNativePG `Cluster`s with their `Backup`s and Velero `Schedule`s with
//! theirs, written from the operators' published API types
//! (cert-manager.io/v1, postgresql.cnpg.io/v1, velero.io/v1) with their
//! `status`, declared in Git without it, scanned at a fixed `--now`. Each rule
//! fires on its broken object and not on the healthy one beside it; the backup
//! table carries the same freshness; hostile status neither crashes, hangs,
//! nor passes as fresh.

use std::path::Path;

use serde_json::{json, Value};
use time::macros::datetime;

use crate::common::apiserver::ApiServer;
use crate::common::{run_in, write};

const NOW: &str = "2026-11-22T00:00:00Z";

/// Declares `object` in Git (as written: no status, no server fields) and
/// serves it live with `status` and the fields the API server adds.
fn both(dir: &Path, server: &ApiServer, object: Value, status: Value) {
    let kind = object["kind"].as_str().unwrap().to_lowercase();
    let name = object["metadata"]["name"].as_str().unwrap();
    let namespace = object["metadata"]["namespace"].as_str().unwrap();
    write(
        dir,
        &format!("repo/{namespace}-{kind}-{name}.yaml"),
        &serde_json::to_string_pretty(&object).unwrap(),
    );
    server.add(live(object, status));
}

/// An object as the API server returns it, with its status.
fn live(mut object: Value, status: Value) -> Value {
    let metadata = object["metadata"].as_object_mut().unwrap();
    metadata.insert("uid".into(), json!(format!("uid-{}", metadata["name"])));
    metadata.insert("resourceVersion".into(), json!("4242"));
    metadata.insert("generation".into(), json!(1));
    metadata
        .entry("creationTimestamp")
        .or_insert(json!("2026-01-10T00:00:00Z"));
    object["status"] = status;
    object
}

fn certificate(name: &str, secret: &str) -> Value {
    json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"secretName": secret, "commonName": format!("{name}.example.test"),
            "dnsNames": [format!("{name}.example.test")],
            "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"}}})
}

fn ready(status: &str, reason: &str, message: &str, since: &str) -> Value {
    json!([{"type": "Ready", "status": status, "reason": reason, "message": message,
        "lastTransitionTime": since, "observedGeneration": 1}])
}

fn cluster(name: &str) -> Value {
    json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"instances": 3, "storage": {"size": "10Gi"},
            "backup": {"retentionPolicy": "30d",
                "barmanObjectStore": {"destinationPath": "s3://backups/shop", "endpointURL": "https://s3.example.test",
                    "s3Credentials": {"accessKeyId": {"name": "s3", "key": "id"}, "secretAccessKey": {"name": "s3", "key": "secret"}}}}}})
}

fn scheduled_backup(name: &str, cluster: &str) -> Value {
    json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"schedule": "0 0 2 * * *", "cluster": {"name": cluster}, "backupOwnerReference": "self"}})
}

/// A CloudNativePG `Backup` the ScheduledBackup `nightly` of `cluster` took.
fn cnpg_backup(name: &str, cluster: &str, phase: &str, started: &str, stopped: &str) -> Value {
    let mut status = json!({"phase": phase, "method": "barmanObjectStore", "startedAt": started,
        "stoppedAt": stopped, "backupId": name, "destinationPath": "s3://backups/shop"});
    if phase == "failed" {
        status["error"] = json!("can't upload backup: AccessDenied: Access Denied");
    }
    live(
        json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "shop", "creationTimestamp": started,
                "labels": {"cnpg.io/cluster": cluster, "cnpg.io/scheduled-backup": format!("{cluster}-nightly")}},
            "spec": {"cluster": {"name": cluster}, "method": "barmanObjectStore"}}),
        status,
    )
}

fn cluster_status(last_success: &str, archiving: (&str, &str), first_point: &str) -> Value {
    json!({"instances": 3, "readyInstances": 3, "phase": "Cluster in healthy state",
        "lastSuccessfulBackup": last_success, "firstRecoverabilityPoint": first_point,
        "conditions": [{"type": "ContinuousArchiving", "status": archiving.0, "reason": archiving.1,
            "message": if archiving.0 == "True" { "Continuous archiving is working" } else { "unexpected failure invoking barman-cloud-wal-archive: exit status 4" },
            "lastTransitionTime": "2026-11-21T18:00:00Z"},
            {"type": "Ready", "status": "True", "reason": "ClusterIsReady", "lastTransitionTime": "2026-11-01T00:00:00Z"}]})
}

fn schedule(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
        "metadata": {"name": name, "namespace": "velero", "labels": labels},
        "spec": {"schedule": "0 1 * * *", "template": {"includedNamespaces": ["shop"], "ttl": "720h0m0s"}}})
}

/// A Velero `Backup` the Schedule `schedule` took.
fn velero_backup(schedule: &str, name: &str, phase: Value, completed: Value) -> Value {
    live(
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero", "creationTimestamp": "2026-11-01T00:00:00Z",
                "labels": {"velero.io/schedule-name": schedule, "velero.io/storage-location": "default"}},
            "spec": {"includedNamespaces": ["shop"], "storageLocation": "default", "ttl": "720h0m0s"}}),
        json!({"phase": phase, "startTimestamp": "2026-11-01T00:00:00Z", "completionTimestamp": completed,
            "errors": if phase == "Failed" { 1 } else { 0 }, "warnings": 2, "version": 1,
            "failureReason": if phase == "Failed" { "unable to get backup storage location default" } else { "" }}),
    )
}

fn scan(dir: &Path, server: &ApiServer, format: &str) -> crate::common::Run {
    let kubeconfig = server.kubeconfig(dir);
    let run = run_in(
        dir,
        &[
            "scan",
            "--repo",
            "repo",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--kube-context",
            "admin",
            "--baseline",
            "baseline.yaml",
            "--format",
            format,
            "--now",
            NOW,
        ],
    );
    for (method, path, _) in server.requests() {
        assert_eq!(method, "GET", "{method} {path}: the tool must never write");
    }
    run
}

/// Messages of the findings of `rule` on `name`.
fn messages(report: &Value, rule: &str, name: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule && f["resource"]["name"] == name)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

fn backup_row<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["backups"]
        .as_array()
        .expect("a backups table")
        .iter()
        .find(|row| row["kind"] == kind && row["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} row {name}: {}", report["backups"]))
}

#[test]
fn operator_status_gives_each_finding_on_the_broken_object_and_none_on_the_healthy_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start();
    write(
        dir.path(),
        "baseline.yaml",
        "backups:\n  overrides:\n    - {namespace: velero, labels: {tier: fast}, rpo_hours: 2}\n    - {namespace: shop, labels: {backup: pg-dump}, rpo_hours: 6}\n",
    );
    // A backup CronJob is held to the same overrides (DA-BAK-005): 6 hours here.
    both(
        dir.path(),
        &server,
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "db-backup", "namespace": "shop", "labels": {"backup": "pg-dump"}},
            "spec": {"schedule": "0 */4 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "dump", "image": "registry.example.com/pg-dump:16"}]}}}}}}),
        json!({"lastScheduleTime": "2026-11-21T20:00:00Z", "lastSuccessfulTime": "2026-11-21T14:00:00Z"}),
    );

    // cert-manager: one failing to issue, one whose renewal is overdue (its
    // Secret absent: expiry judged from status.notAfter), one healthy whose
    // Secret is read (expiry judged there only, not twice).
    both(
        dir.path(),
        &server,
        certificate("failing", "failing-tls"),
        json!({"conditions": ready("False", "Failed", "The certificate request has failed to complete and will be retried: ACME challenge failed", "2026-11-20T06:00:00Z"),
            "lastFailureTime": "2026-11-21T06:00:00Z", "failedIssuanceAttempts": 4}),
    );
    both(
        dir.path(),
        &server,
        certificate("overdue", "overdue-tls"),
        json!({"conditions": ready("True", "Ready", "Certificate is up to date and has not expired", "2026-09-01T00:00:00Z"),
            "notBefore": "2026-09-01T00:00:00Z", "notAfter": "2026-11-30T00:00:00Z",
            "renewalTime": "2026-11-20T00:00:00Z", "revision": 3}),
    );
    let (pem, _) = crate::common::traefik::certificate(
        "healthy.example.test",
        &["healthy.example.test"],
        datetime!(2026-11-01 00:00 UTC),
        datetime!(2026-12-01 00:00 UTC),
    );
    server.add(live(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "healthy-tls", "namespace": "shop"},
            "data": {"tls.crt": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pem),
                "tls.key": "c2VjcmV0"}}),
        Value::Null,
    ));
    both(
        dir.path(),
        &server,
        certificate("healthy", "healthy-tls"),
        json!({"conditions": ready("True", "Ready", "Certificate is up to date and has not expired", "2026-11-01T00:00:00Z"),
            "notBefore": "2026-11-01T00:00:00Z", "notAfter": "2026-12-01T00:00:00Z",
            "renewalTime": "2026-11-21T00:00:00Z"}),
    );

    // CloudNativePG: shop-db's newest backup failed, its newest success is
    // 3 days old, WAL archiving fails and only 5 days can be recovered.
    both(
        dir.path(),
        &server,
        cluster("shop-db"),
        cluster_status(
            "2026-11-18T02:10:00Z",
            ("False", "ContinuousArchivingFailing"),
            "2026-11-17T00:00:00Z",
        ),
    );
    both(
        dir.path(),
        &server,
        scheduled_backup("shop-db-nightly", "shop-db"),
        json!({"lastScheduleTime": "2026-11-21T02:00:00Z"}),
    );
    server.add(cnpg_backup(
        "shop-db-20261118",
        "shop-db",
        "completed",
        "2026-11-18T02:00:00Z",
        "2026-11-18T02:10:00Z",
    ));
    server.add(cnpg_backup(
        "shop-db-20261121",
        "shop-db",
        "failed",
        "2026-11-21T02:00:00Z",
        "2026-11-21T02:01:00Z",
    ));
    both(
        dir.path(),
        &server,
        cluster("orders-db"),
        cluster_status(
            "2026-11-21T02:05:00Z",
            ("True", "ContinuousArchivingSuccess"),
            "2026-10-20T00:00:00Z",
        ),
    );
    both(
        dir.path(),
        &server,
        scheduled_backup("orders-db-nightly", "orders-db"),
        json!({}),
    );
    server.add(cnpg_backup(
        "orders-db-20261121",
        "orders-db",
        "completed",
        "2026-11-21T02:00:00Z",
        "2026-11-21T02:05:00Z",
    ));

    // Velero: daily's newest backup failed and its newest success is 4 days
    // old; hourly (RPO 2 h from the override) succeeded an hour ago.
    both(
        dir.path(),
        &server,
        schedule("daily", json!({})),
        json!({"phase": "Enabled", "lastBackup": "2026-11-21T01:00:00Z"}),
    );
    server.add(velero_backup(
        "daily",
        "daily-20261118010000",
        json!("Completed"),
        json!("2026-11-18T01:20:00Z"),
    ));
    server.add(velero_backup(
        "daily",
        "daily-20261121010000",
        json!("Failed"),
        json!("2026-11-21T01:03:00Z"),
    ));
    both(
        dir.path(),
        &server,
        schedule("hourly", json!({"tier": "fast"})),
        json!({"phase": "Enabled"}),
    );
    server.add(velero_backup(
        "hourly",
        "hourly-20261121230000",
        json!("Completed"),
        json!("2026-11-21T23:00:00Z"),
    ));

    let run = scan(dir.path(), &server, "json");
    let report = run.json();
    crate::schemas::assert_valid(
        &crate::schemas::schema("docs/report-schema.json"),
        &report,
        "a report with operator status",
    );
    assert!(
        report["coverage"].as_array().is_none_or(Vec::is_empty),
        "{}",
        report["coverage"]
    );

    assert_eq!(
        messages(&report, "DA-CERT-008", "failing"),
        ["cert-manager Certificate \"failing\" is not ready: Ready is False (Failed: The certificate request has failed to complete and will be retried: ACME challenge failed) since 2026-11-20T06:00:00Z; 4 failed issuance attempts, the last at 2026-11-21T06:00:00Z"]
    );
    assert_eq!(
        messages(&report, "DA-CERT-009", "overdue"),
        ["cert-manager Certificate \"overdue\" was due for renewal at 2026-11-20T00:00:00Z, 48 hours before the scan (grace 24 hours); notAfter is still 2026-11-30T00:00:00Z"]
    );
    // Its Secret does not exist: expiry from status.notAfter (8 days left).
    assert_eq!(
        messages(&report, "DA-CERT-002", "overdue"),
        ["certificate CN=overdue.example.test (Certificate shop/overdue status) expires on 2026-11-30T00:00:00Z, in 8 days (certificates.fail_days is 14)"]
    );
    // The healthy one's Secret is read: its expiry is reported there, once.
    assert!(messages(&report, "DA-CERT-002", "healthy").is_empty());
    assert_eq!(messages(&report, "DA-CERT-002", "healthy-tls").len(), 1);
    for rule in ["DA-CERT-008", "DA-CERT-009"] {
        for name in ["healthy", "overdue", "failing"] {
            let expected = usize::from(
                (rule, name) == ("DA-CERT-008", "failing")
                    || (rule, name) == ("DA-CERT-009", "overdue"),
            );
            assert_eq!(
                messages(&report, rule, name).len(),
                expected,
                "{rule} on {name}"
            );
        }
    }

    assert_eq!(
        messages(&report, "DA-BAK-013", "shop-db"),
        ["CloudNativePG Cluster \"shop-db\": newest successful backup at 2026-11-18T02:10:00Z (status.lastSuccessfulBackup), 93 hours before the scan (RPO 24 hours)"]
    );
    assert_eq!(
        messages(&report, "DA-BAK-014", "shop-db"),
        ["CloudNativePG Cluster \"shop-db\": the newest backup, Backup \"shop-db-20261121\" at 2026-11-21T02:01:00Z, failed: can't upload backup: AccessDenied: Access Denied"]
    );
    assert_eq!(
        messages(&report, "DA-BAK-015", "shop-db"),
        ["CloudNativePG Cluster \"shop-db\": WAL archiving is failing (ContinuousArchiving False since 2026-11-21T18:00:00Z, ContinuousArchivingFailing: unexpected failure invoking barman-cloud-wal-archive: exit status 4)"]
    );
    assert_eq!(
        messages(&report, "DA-BAK-016", "shop-db"),
        ["CloudNativePG Cluster \"shop-db\" can be recovered back to 2026-11-17T00:00:00Z only, 120 hours before the scan; spec.backup.retentionPolicy asks for 30 days"]
    );
    assert_eq!(
        messages(&report, "DA-BAK-017", "daily"),
        ["Velero Schedule \"daily\": newest successful backup at 2026-11-18T01:20:00Z (Backup velero/daily-20261118010000 status.completionTimestamp), 94 hours before the scan (RPO 24 hours)"]
    );
    assert_eq!(
        messages(&report, "DA-BAK-018", "daily"),
        ["Velero Schedule \"daily\": the newest backup, Backup \"daily-20261121010000\" at 2026-11-21T01:03:00Z, ended Failed (1 errors, 2 warnings): unable to get backup storage location default"]
    );
    assert_eq!(
        messages(&report, "DA-BAK-005", "db-backup"),
        ["backup CronJob \"db-backup\" last succeeded at 2026-11-21T14:00:00Z, 10 hours before the scan (RPO 6 hours)"]
    );
    for rule in [
        "DA-BAK-013",
        "DA-BAK-014",
        "DA-BAK-015",
        "DA-BAK-016",
        "DA-BAK-006",
        "DA-BAK-007",
    ] {
        assert!(
            messages(&report, rule, "orders-db").is_empty(),
            "{rule} on the healthy cluster"
        );
    }
    for rule in ["DA-BAK-017", "DA-BAK-018"] {
        assert!(
            messages(&report, rule, "hourly").is_empty(),
            "{rule} on the healthy schedule"
        );
    }
    // Backups the schedules took are read for their status, not unmanaged.
    let unmanaged: Vec<&Value> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "unmanaged" && d["resource"]["kind"] == "Backup")
        .collect();
    assert!(unmanaged.is_empty(), "{unmanaged:?}");

    // The backup table: the same evidence, one row per cluster, schedule and
    // backup CronJob (whose RPO comes from the same overrides).
    assert_eq!(
        report["backups"].as_array().unwrap().len(),
        5,
        "{}",
        report["backups"]
    );
    assert_eq!(
        *backup_row(&report, "cloudnativepg", "shop/shop-db"),
        json!({"kind": "cloudnativepg", "target": "admin", "name": "shop/shop-db",
            "newest_success": "2026-11-18T02:10:00Z", "age_seconds": 337_800, "rpo_seconds": 86_400,
            "stale": true, "last_failure": "2026-11-21T02:01:00Z", "evidence": "status.lastSuccessfulBackup"})
    );
    assert_eq!(
        *backup_row(&report, "cloudnativepg", "shop/orders-db"),
        json!({"kind": "cloudnativepg", "target": "admin", "name": "shop/orders-db",
            "newest_success": "2026-11-21T02:05:00Z", "age_seconds": 78_900, "rpo_seconds": 86_400,
            "stale": false, "evidence": "status.lastSuccessfulBackup"})
    );
    assert_eq!(backup_row(&report, "velero", "velero/daily")["stale"], true);
    assert_eq!(
        *backup_row(&report, "cronjob", "shop/db-backup"),
        json!({"kind": "cronjob", "target": "admin", "name": "shop/db-backup",
            "newest_success": "2026-11-21T14:00:00Z", "age_seconds": 36_000, "rpo_seconds": 21_600,
            "stale": true, "evidence": "status.lastSuccessfulTime"})
    );
    assert_eq!(
        *backup_row(&report, "velero", "velero/hourly"),
        json!({"kind": "velero", "target": "admin", "name": "velero/hourly",
            "newest_success": "2026-11-21T23:00:00Z", "age_seconds": 3600, "rpo_seconds": 7200,
            "stale": false, "evidence": "Backup velero/hourly-20261121230000 status.completionTimestamp"})
    );

    // The same table in the text and Markdown reports.
    let text = scan(dir.path(), &server, "text").stdout;
    assert!(text.contains("BACKUPS (5)"), "{text}");
    let line = text
        .lines()
        .skip_while(|l| !l.contains("BACKUPS (5)"))
        .find(|l| l.contains("velero/daily"))
        .expect("a row of velero/daily");
    for cell in [
        "velero",
        "admin",
        "2026-11-18T01:20:00Z",
        "3d 22h",
        "1d",
        "yes (failed 2026-11-21T01:03:00Z)",
    ] {
        assert!(line.contains(cell), "{cell} in {line}");
    }
    let markdown = scan(dir.path(), &server, "markdown").stdout;
    assert!(
        markdown
            .contains("| velero | admin | velero/hourly | 2026-11-21T23:00:00Z | 1h | 2h | no |"),
        "{markdown}"
    );
}

#[test]
fn hostile_status_neither_crashes_nor_hangs_nor_passes_as_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start();
    write(dir.path(), "baseline.yaml", "backups:\n  rpo_hours: 24\n");
    // A Certificate whose status has the wrong types and a date that is not one.
    both(
        dir.path(),
        &server,
        certificate("odd", "odd-tls"),
        json!({"conditions": "Ready", "notAfter": "next tuesday", "renewalTime": {"at": 1},
            "failedIssuanceAttempts": 1e300, "lastFailureTime": 17}),
    );
    // A cluster whose lastSuccessfulBackup is a bad timestamp and whose only
    // Backup's stoppedAt is a number: no readable success, so stale.
    both(
        dir.path(),
        &server,
        cluster("odd-db"),
        json!({"lastSuccessfulBackup": "2026-02-30T25:61:00Z", "firstRecoverabilityPoint": ["x"],
            "conditions": [{"type": "ContinuousArchiving", "status": 7}, "not a condition"]}),
    );
    let mut odd = cnpg_backup(
        "odd-db-1",
        "odd-db",
        "completed",
        "2026-11-21T02:00:00Z",
        "x",
    );
    odd["status"]["stoppedAt"] = json!(99_999_999_999_999_999_999.0);
    server.add(odd);
    // A backup CronJob whose last success lies in 2099: after the scan
    // clock, so no successful backup (DA-BAK-005 and the table agree).
    both(
        dir.path(),
        &server,
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "future-backup", "namespace": "shop"},
            "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "dump", "image": "registry.example.com/pg-dump:16"}]}}}}}}),
        json!({"lastSuccessfulTime": "2099-01-01T00:00:00Z"}),
    );
    // A cluster and a schedule "made in 2099", without any backup: a
    // creation time after the scan clock is unknown, not young, so the
    // missing backup is reported.
    let mut future_db = cluster("future-db");
    future_db["metadata"]["creationTimestamp"] = json!("2099-01-01T00:00:00Z");
    both(dir.path(), &server, future_db, json!({"instances": 3}));
    let mut future_schedule = schedule("future", json!({}));
    future_schedule["metadata"]["creationTimestamp"] = json!("2099-01-01T00:00:00Z");
    both(
        dir.path(),
        &server,
        future_schedule,
        json!({"phase": "Enabled"}),
    );
    // A schedule with 3000 backups (six LIST pages), the newest Completed one
    // with a timestamp that is not one.
    both(
        dir.path(),
        &server,
        schedule("busy", json!({})),
        json!("not an object"),
    );
    for i in 0..3000 {
        let day = 1 + i % 20;
        server.add(velero_backup(
            "busy",
            &format!("busy-{i:04}"),
            json!("Completed"),
            json!(format!("2026-10-{day:02}T01:00:00Z")),
        ));
    }
    server.add(velero_backup(
        "busy",
        "busy-newest",
        json!("Completed"),
        json!("2026-11-21T99:00:00Z"),
    ));
    // One that claims to finish in year 9999: after the clock, never fresh.
    server.add(velero_backup(
        "busy",
        "busy-future",
        json!("Completed"),
        json!("9999-12-31T23:59:59Z"),
    ));
    server.add(velero_backup(
        "busy",
        "busy-phase",
        json!({"phase": "Completed"}),
        json!(null),
    ));

    let started = std::time::Instant::now();
    let run = scan(dir.path(), &server, "json");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
    assert!(run.code == 1, "findings, no crash: {}", run.all());
    let report = run.json();

    // The certificate: its date is unreadable, so it cannot be judged valid.
    let unparsable = messages(&report, "DA-CERT-005", "odd");
    assert_eq!(unparsable.len(), 1, "{unparsable:?}");
    assert!(
        unparsable[0].contains("status.notAfter \"next tuesday\" is not an RFC 3339 time"),
        "{unparsable:?}"
    );
    assert_eq!(
        messages(&report, "DA-CERT-008", "odd"),
        ["cert-manager Certificate \"odd\" has no Ready condition in its status"]
    );
    assert!(messages(&report, "DA-CERT-009", "odd").is_empty());

    // The cluster: no readable success is no backup, never a fresh one.
    assert_eq!(
        messages(&report, "DA-BAK-013", "odd-db"),
        ["CloudNativePG Cluster \"odd-db\" has no successful backup (RPO 24 hours) (unreadable times count as no backup: status.lastSuccessfulBackup, Backup status.stoppedAt, status.firstRecoverabilityPoint)"]
    );
    let row = backup_row(&report, "cloudnativepg", "shop/odd-db");
    assert_eq!(row["newest_success"], Value::Null);
    assert_eq!(row["stale"], true);
    assert!(messages(&report, "DA-BAK-015", "odd-db").is_empty());

    // The CronJob succeeding "in 2099": stale in the rule and in the table.
    assert_eq!(
        messages(&report, "DA-BAK-005", "future-backup"),
        ["backup CronJob \"future-backup\" last succeeded at 2099-01-01T00:00:00Z, after the scan clock (treated as no successful backup)"]
    );
    let row = backup_row(&report, "cronjob", "shop/future-backup");
    assert_eq!(row["newest_success"], Value::Null);
    assert_eq!(row["stale"], true);

    assert_eq!(
        messages(&report, "DA-BAK-013", "future-db").len(),
        1,
        "{}",
        report["findings"]
    );
    assert_eq!(
        backup_row(&report, "cloudnativepg", "shop/future-db")["stale"],
        true
    );
    assert_eq!(
        messages(&report, "DA-BAK-017", "future").len(),
        1,
        "{}",
        report["findings"]
    );

    // The busy schedule: the newest readable success (2026-10-20) is stale.
    let row = backup_row(&report, "velero", "velero/busy");
    assert_eq!(row["newest_success"], "2026-10-20T01:00:00Z");
    assert_eq!(row["stale"], true);
    assert_eq!(messages(&report, "DA-BAK-017", "busy").len(), 1);
}

#[test]
fn backups_made_on_demand_or_for_an_undeclared_schedule_are_records_not_unmanaged_drift() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start();
    write(dir.path(), "baseline.yaml", "backups:\n  rpo_hours: 24\n");
    // Velero: a declared schedule, a backup taken by hand (`velero backup
    // create`, no schedule label) and one of a schedule since deleted.
    both(
        dir.path(),
        &server,
        schedule("daily", json!({})),
        json!({"phase": "Enabled"}),
    );
    let mut by_hand = velero_backup(
        "daily",
        "before-upgrade",
        json!("Completed"),
        json!("2026-11-21T10:00:00Z"),
    );
    by_hand["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("velero.io/schedule-name");
    server.add(by_hand);
    server.add(velero_backup(
        "deleted-weekly",
        "deleted-weekly-20261120",
        json!("Completed"),
        json!("2026-11-20T01:00:00Z"),
    ));
    // CloudNativePG: a cluster whose ScheduledBackup is not declared (nor
    // live), with a backup labelled for it and one taken by hand.
    both(
        dir.path(),
        &server,
        cluster("adhoc-db"),
        json!({"instances": 3, "readyInstances": 3}),
    );
    server.add(cnpg_backup(
        "adhoc-db-20261121",
        "adhoc-db",
        "completed",
        "2026-11-21T02:00:00Z",
        "2026-11-21T02:05:00Z",
    ));
    let mut manual = cnpg_backup(
        "adhoc-db-manual",
        "adhoc-db",
        "completed",
        "2026-11-21T12:00:00Z",
        "2026-11-21T12:10:00Z",
    );
    manual["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("cnpg.io/scheduled-backup");
    server.add(manual);

    let run = scan(dir.path(), &server, "json");
    let report = run.json();
    let unmanaged: Vec<&Value> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "unmanaged")
        .collect();
    assert!(unmanaged.is_empty(), "{unmanaged:?}\n{}", run.all());
    // Still read for their status: the cluster's newest success is the
    // backup taken by hand.
    assert_eq!(
        backup_row(&report, "cloudnativepg", "shop/adhoc-db")["newest_success"],
        "2026-11-21T12:10:00Z"
    );
}
