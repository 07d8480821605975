//! Backups end to end, through the binary: real pgBackRest 2.45 with a local
//! repository backing up a real PostgreSQL 15 server, a missing stanza, the
//! retention declared in Git, a missing binary, and a suspended backup
//! CronJob in the declared and live Kubernetes state.

use std::path::{Path, PathBuf};

use crate::common::pgserver::{as_postgres, PgServer, DEFAULT_HBA};
use crate::common::{driftaudit, finish, snapshot_json, write, Run};
use serde_json::{json, Value};

fn run_with(dir: &Path, args: &[&str], path_env: Option<&str>) -> Run {
    let mut command = driftaudit();
    command.current_dir(dir).args(args);
    if let Some(path) = path_env {
        command.env("PATH", path);
    }
    finish(&mut command)
}

/// A server archiving to the stanza `demo` of a local repository, with one
/// real full backup taken. Returns the server and the config file.
pub(crate) fn backed_up_server() -> (PgServer, PathBuf) {
    let server = PgServer::init(
        "wal_level = replica\narchive_mode = on\narchive_command = 'pgbackrest --stanza=demo archive-push %p'\n",
        DEFAULT_HBA,
    );
    let root = server.path();
    let config = root.join("pgbackrest.conf");
    std::fs::write(
        &config,
        format!(
            "[global]\nrepo1-path={r}/repo\nrepo1-retention-full=1\nlog-path={r}/pgbr-log\nlock-path={r}/pgbr-lock\nstart-fast=y\nlog-level-console=warn\n\n[demo]\npg1-path={r}/data\npg1-port={port}\npg1-socket-path={r}\n",
            r = root.display(),
            port = server.port
        ),
    )
    .unwrap();
    for dir in ["repo", "pgbr-log", "pgbr-lock"] {
        as_postgres(&["mkdir", "-p", root.join(dir).to_str().unwrap()], &[]);
    }
    let config_text = config.to_str().unwrap().to_string();
    let env = [("PGBACKREST_CONFIG", config_text.as_str())];
    server.start(&env);
    as_postgres(&["pgbackrest", "--stanza=demo", "stanza-create"], &env);
    as_postgres(
        &["pgbackrest", "--stanza=demo", "--type=full", "backup"],
        &env,
    );
    (server, config)
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn now_plus_days(days: i64) -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    now.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn a_real_backup_is_fresh_today_and_stale_a_week_later() {
    let (server, config) = backed_up_server();
    let config = config.to_str().unwrap();
    let today = now_plus_days(0);
    let args = |now: &str| -> Vec<String> {
        [
            "scan",
            "--pgbackrest-stanza",
            "demo",
            "--pgbackrest-config",
            config,
            "--now",
            now,
            "--format",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let fresh_args = args(&today);
    let fresh_args: Vec<&str> = fresh_args.iter().map(String::as_str).collect();
    let run = run_with(server.path(), &fresh_args, None);
    let report = run.json();
    assert!(
        report["coverage"].as_array().unwrap().is_empty(),
        "{}",
        run.stdout
    );
    assert!(findings(&report, "DA-BAK-008").is_empty(), "{}", run.stdout);
    assert!(findings(&report, "DA-BAK-009").is_empty(), "{}", run.stdout);
    // Retention 1 is below the default baseline of 2 full backups.
    let retention = findings(&report, "DA-BAK-010");
    assert_eq!(retention.len(), 1, "{}", run.stdout);
    assert_eq!(retention[0]["resource"]["name"], "demo");
    assert_eq!(run.code, 0, "medium findings do not fail: {}", run.all());
    // Its identity in the evidence block: stanza, config, repository path,
    // and the system id of the cluster it backs up (PostgreSQL's own).
    let target = &report["evidence"]["targets"][0];
    assert_eq!(target["stanza"], "demo", "{target}");
    assert_eq!(target["config"], config);
    assert_eq!(
        target["repositories"],
        serde_json::json!([{"key": 1, "path": format!("{}/repo", server.path().display())}])
    );
    let system_id = server.psql(
        "postgres",
        "SELECT system_identifier FROM pg_control_system()",
    );
    assert_eq!(target["system_identifier"].to_string(), system_id);

    let week_later = args(&now_plus_days(7));
    let week_later: Vec<&str> = week_later.iter().map(String::as_str).collect();
    let run = run_with(server.path(), &week_later, None);
    let report = run.json();
    let stale = findings(&report, "DA-BAK-009");
    assert_eq!(stale.len(), 1, "{}", run.stdout);
    let message = stale[0]["message"].as_str().unwrap();
    assert!(message.contains("(full)"), "{message}");
    assert!(message.contains("RPO 24 hours"), "{message}");
    assert_eq!(run.code, 1);

    // The server's system identifier is above 2^53 and must come through exactly:
    // compare with what PostgreSQL itself reports.
    let system_id = server.psql(
        "postgres",
        "SELECT system_identifier FROM pg_control_system()",
    );
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "backups/demo.yaml",
        "apiVersion: driftaudit.io/v1\nkind: PgBackRestStanza\nmetadata:\n  name: demo\nspec:\n  retention:\n    full: 2\n",
    );
    let run = run_with(
        repo.path(),
        &[
            "diff",
            "--repo",
            ".",
            "--pgbackrest-stanza",
            "demo",
            "--pgbackrest-config",
            config,
            "--format",
            "json",
        ],
        None,
    );
    let report = run.json();
    let drift = &report["drift"][0];
    assert_eq!(drift["status"], "modified", "{}", run.stdout);
    assert_eq!(drift["changes"][0]["path"], "retention.full");
    assert_eq!(drift["changes"][0]["declared"], 2);
    assert_eq!(drift["changes"][0]["live"], 1);
    assert!(system_id.len() > 15, "{system_id}");
    let info = std::process::Command::new("pgbackrest")
        .args([
            &format!("--config={config}"),
            "--stanza=demo",
            "info",
            "--output=json",
        ])
        .output()
        .unwrap();
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(
        info[0]["db"][0]["system-id"].as_u64().unwrap().to_string(),
        system_id
    );
}

#[test]
fn a_missing_stanza_is_critical_even_though_pgbackrest_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "pgbackrest.conf",
        &format!(
            "[global]\nrepo1-path={}/repo\nrepo1-retention-full=2\n",
            dir.path().display()
        ),
    );
    let run = run_with(
        dir.path(),
        &[
            "scan",
            "--pgbackrest-stanza",
            "nosuch",
            "--pgbackrest-config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    let report = run.json();
    let missing = findings(&report, "DA-BAK-008");
    assert_eq!(missing.len(), 1, "{}", run.all());
    assert_eq!(missing[0]["severity"], "critical");
    assert_eq!(
        missing[0]["message"],
        "pgBackRest stanza \"nosuch\" has status 1: missing stanza path"
    );
    assert_eq!(run.code, 1);
}

#[test]
fn a_missing_pgbackrest_binary_is_a_coverage_gap() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_with(
        dir.path(),
        &["scan", "--pgbackrest-stanza", "demo", "--format", "json"],
        Some(dir.path().to_str().unwrap()),
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let gap = &run.json()["coverage"][0];
    assert_eq!(gap["source"], "backup");
    assert!(
        gap["reason"].as_str().unwrap().contains("not installed"),
        "{gap}"
    );
}

#[test]
fn a_suspended_backup_cronjob_is_reported_declared_and_live() {
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "apps/db-backup.yaml",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: db-backup\n  namespace: shop\nspec:\n  schedule: \"0 2 * * *\"\n  suspend: true\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n            - name: dump\n              image: registry.example.com/pg-dump:16\n",
    );
    let live = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "db-backup", "namespace": "shop", "uid": "1", "resourceVersion": "9"},
        "spec": {"schedule": "0 2 * * *", "suspend": true, "concurrencyPolicy": "Allow",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                "containers": [{"name": "dump", "image": "registry.example.com/pg-dump:16"}]}}}}},
        "status": {"lastSuccessfulTime": "2026-11-20T02:00:00Z"}
    });
    let live_dir = tempfile::tempdir().unwrap();
    let snapshot = write(
        live_dir.path(),
        "live.json",
        &snapshot_json("prod", &[live]),
    );
    let run = crate::common::run_in(
        repo.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--live-snapshot",
            snapshot.to_str().unwrap(),
            "--now",
            "2026-11-21T12:00:00Z",
            "--format",
            "json",
        ],
    );
    let report = run.json();
    let suspended = findings(&report, "DA-BAK-001");
    assert_eq!(suspended.len(), 1, "{}", run.stdout);
    assert_eq!(suspended[0]["states"], json!(["declared", "live"]));
    assert_eq!(suspended[0]["location"]["file"], "apps/db-backup.yaml");
    assert_eq!(suspended[0]["location"]["line"], 8);
    // 34 hours since the last success: older than the 24-hour RPO too.
    assert_eq!(findings(&report, "DA-BAK-005").len(), 1, "{}", run.stdout);
}
