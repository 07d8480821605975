//! PostgreSQL end to end, through the binary, against real PostgreSQL 15
//! servers started by the tests: a declared baseline in Git compared with the
//! live catalogs, the excessive-privilege rules, WAL archiving, and the
//! coverage gaps of unreachable servers and failed logins.

use std::path::Path;

use crate::common::pgserver::{PgServer, DEFAULT_HBA, PASSWORD};
use crate::common::{driftaudit, finish, free_port, write, Run};
use serde_json::Value;

const NOW: &str = "2026-11-21T12:00:00Z";

fn scan(dir: &Path, args: &[&str], password: &str) -> Run {
    finish(
        driftaudit()
            .current_dir(dir)
            .env("PGPASSWORD", password)
            .env_remove("PGPASSFILE")
            .args(args),
    )
}

/// Roles, a schema with tables, grants, default privileges and an extension,
/// as a team would create them.
const SETUP: &str = "
CREATE ROLE app_rw LOGIN PASSWORD 'x' VALID UNTIL '2027-06-30 00:00:00+00';
CREATE ROLE readonly NOLOGIN;
CREATE ROLE reporting LOGIN PASSWORD 'y';
GRANT readonly TO reporting;
GRANT readonly TO app_rw WITH ADMIN OPTION;
CREATE SCHEMA app;
CREATE TABLE app.orders (id int PRIMARY KEY, total numeric);
CREATE TABLE app.audit_log (id int, line text);
GRANT USAGE ON SCHEMA app TO app_rw, readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.orders TO app_rw;
GRANT INSERT ON app.audit_log TO app_rw;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO readonly;
CREATE EXTENSION pgcrypto;
";

fn server_with_app() -> PgServer {
    let server = PgServer::running("", DEFAULT_HBA);
    server.psql("postgres", "CREATE DATABASE appdb");
    server.psql("appdb", SETUP);
    server
}

/// The baseline that matches `server_with_app` exactly. `settings_extra` is
/// appended to the settings mapping (e.g. a setting the server does not have).
fn baseline(server: &PgServer, settings_extra: &str) -> String {
    format!(
        r#"apiVersion: driftaudit.io/v1
kind: PostgresBaseline
metadata:
  name: appdb
spec:
  server: "{label}"
  settings:
    shared_buffers: 128MB
    max_wal_size: 1GB
    min_wal_size: 80MB
    max_connections: 100
    DateStyle: "ISO, MDY"
    TimeZone: Etc/UTC
    log_timezone: Etc/UTC
    default_text_search_config: pg_catalog.english
    dynamic_shared_memory_type: posix
    lc_messages: C.UTF-8
    lc_monetary: C.UTF-8
    lc_numeric: C.UTF-8
    lc_time: C.UTF-8
    listen_addresses: 127.0.0.1
    port: {port}
    unix_socket_directories: "{socket}"
    ssl: "off"
    archive_mode: "off"
    password_encryption: scram-sha-256
{settings_extra}  roles:
    - name: postgres
      superuser: true
      createrole: true
      createdb: true
      login: true
      replication: true
      bypassrls: true
    - name: app_rw
      login: true
      valid_until: 2027-06-30
    - name: readonly
    - name: reporting
      login: true
  memberships:
    - {{role: readonly, member: reporting}}
    - {{role: readonly, member: app_rw, admin_option: true}}
  grants:
    - {{on: database, objects: [appdb, postgres], to: PUBLIC, privileges: [CONNECT, TEMP]}}
    - {{on: schema, objects: [public], to: PUBLIC, privileges: [USAGE]}}
    - {{on: schema, objects: [app], to: [app_rw, readonly], privileges: [USAGE]}}
    - {{on: table, objects: [app.orders], to: app_rw, privileges: [SELECT, INSERT, UPDATE, DELETE]}}
    - {{on: table, objects: [app.audit_log], to: app_rw, privileges: [INSERT]}}
    - {{on: table, objects: [app.orders, app.audit_log], to: readonly, privileges: [SELECT]}}
    - {{on: default, owner: postgres, schema: app, objects: tables, to: readonly, privileges: [SELECT]}}
  hba:
    - {{type: local, database: all, user: postgres, method: trust}}
    - {{type: host, database: all, user: all, address: 127.0.0.1/32, method: scram-sha-256}}
  extensions:
    - {{name: pgcrypto, schema: public}}
  databases:
    - {{name: appdb, owner: postgres, encoding: UTF8}}
    - {{name: postgres, owner: postgres}}
  archiving:
    mode: "off"
"#,
        label = server.label("appdb"),
        port = server.port,
        socket = server.socket_dir(),
    )
}

fn drift_of<'a>(report: &'a Value, status: &str) -> Vec<&'a Value> {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == status)
        .collect()
}

fn rules(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["resource"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn scan_with_baseline(server: &PgServer, settings_extra: &str) -> (tempfile::TempDir, Run) {
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "postgres/appdb.yaml",
        &baseline(server, settings_extra),
    );
    let dsn = server.dsn("appdb");
    let run = scan(
        repo.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--postgres",
            &dsn,
            "--now",
            NOW,
            "--format",
            "json",
        ],
        PASSWORD,
    );
    (repo, run)
}

#[test]
fn a_server_matching_its_baseline_has_no_drift() {
    let server = server_with_app();
    let (_repo, run) = scan_with_baseline(&server, "");
    let report = run.json();
    for status in ["modified", "missing", "unmanaged"] {
        assert!(
            drift_of(&report, status).is_empty(),
            "{status}: {:#?}\n{}",
            drift_of(&report, status),
            run.stderr
        );
    }
    let in_sync = drift_of(&report, "in_sync");
    assert!(in_sync.len() > 40, "{}", in_sync.len());
    // Every kind is compared, and each is named by the server, never the user.
    for kind in [
        "Setting",
        "Role",
        "RoleMembership",
        "Grant",
        "HbaRule",
        "Extension",
        "Database",
        "Archiver",
    ] {
        assert!(
            in_sync.iter().any(|d| d["resource"]["kind"] == kind
                && d["resource"]["namespace"] == server.label("appdb").as_str()),
            "{kind} not compared"
        );
    }
    // A server without ssl or archiving is still judged: the rules name the server.
    let mut found = rules(&report);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("DA-BAK-011".to_string(), "archiver".to_string()),
            ("DA-PG-005".to_string(), "ssl".to_string())
        ],
        "{}",
        run.stdout
    );
    assert!(run.all().contains(&server.label("appdb")));
    assert!(!run.all().contains(PASSWORD));
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The server's identity in the evidence block, as psql tells it.
    let target = &report["evidence"]["targets"][0];
    assert_eq!(
        target["server_version"],
        server.psql("postgres", "SHOW server_version").as_str(),
        "{target}"
    );
    assert_eq!(
        target["system_identifier"],
        server
            .psql(
                "postgres",
                "SELECT system_identifier FROM pg_control_system()"
            )
            .as_str()
    );
}

#[test]
fn a_changed_setting_is_drift_with_its_line() {
    let server = server_with_app();
    // work_mem is 4MB on the server; Git says 8MB.
    let (_repo, run) = scan_with_baseline(&server, "    work_mem: 8MB\n");
    let report = run.json();
    let modified = drift_of(&report, "modified");
    assert_eq!(modified.len(), 1, "{modified:#?}");
    assert_eq!(modified[0]["resource"]["kind"], "Setting");
    assert_eq!(modified[0]["resource"]["name"], "work_mem");
    let change = &modified[0]["changes"][0];
    assert_eq!(change["path"], "value");
    assert_eq!(change["declared"], 8 * 1024 * 1024);
    assert_eq!(change["live"], 4 * 1024 * 1024);

    // A declared setting the server changed at runtime shows up the same way.
    server.psql("postgres", "ALTER SYSTEM SET work_mem = '8MB'");
    server.psql("postgres", "SELECT pg_reload_conf()");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_repo, run) = scan_with_baseline(&server, "    work_mem: 8MB\n");
    assert!(
        drift_of(&run.json(), "modified").is_empty(),
        "{}",
        run.stdout
    );
}

#[test]
fn an_extra_superuser_is_unmanaged_and_unapproved() {
    let server = server_with_app();
    server.psql("postgres", "CREATE ROLE intruder LOGIN SUPERUSER");
    let (_repo, run) = scan_with_baseline(&server, "");
    let report = run.json();
    let unmanaged = drift_of(&report, "unmanaged");
    assert_eq!(unmanaged.len(), 1, "{unmanaged:#?}");
    assert_eq!(unmanaged[0]["resource"]["name"], "intruder");
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-PG-001")
        .expect("DA-PG-001");
    assert_eq!(finding["severity"], "critical");
    assert_eq!(finding["resource"]["name"], "intruder");
    assert_eq!(
        finding["resource"]["namespace"],
        server.label("appdb").as_str()
    );
    // The declared superuser postgres is approved.
    assert_eq!(
        rules(&report)
            .iter()
            .filter(|(r, _)| r == "DA-PG-001")
            .count(),
        1
    );

    // Live only, with no baseline at all: judged against baselines/.
    let dsn = server.dsn("appdb");
    let run = scan(
        server.path(),
        &["scan", "--postgres", &dsn, "--now", NOW, "--format", "json"],
        PASSWORD,
    );
    let found = rules(&run.json());
    assert!(
        found.contains(&("DA-PG-001".into(), "intruder".into())),
        "{found:?}"
    );
    assert!(
        !found.contains(&("DA-PG-001".into(), "postgres".into())),
        "{found:?}"
    );
}

#[test]
fn a_public_grant_and_a_trust_rule_are_excessive() {
    let hba = format!("{DEFAULT_HBA}host all trustme 127.0.0.1/32 trust\n");
    let server = PgServer::running("", &hba);
    server.psql("postgres", "CREATE DATABASE appdb");
    server.psql("appdb", SETUP);
    server.psql("appdb", "GRANT SELECT, UPDATE ON app.orders TO PUBLIC");
    let dsn = server.dsn("appdb");
    let run = scan(
        server.path(),
        &["scan", "--postgres", &dsn, "--now", NOW, "--format", "json"],
        PASSWORD,
    );
    let report = run.json();
    let public: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DA-PG-003")
        .collect();
    assert_eq!(public.len(), 1, "{}", run.stdout);
    assert_eq!(public[0]["resource"]["name"], "table:app.orders:PUBLIC");
    assert!(public[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("SELECT, UPDATE granted to PUBLIC on table app.orders"));
    let trust: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DA-PG-004")
        .collect();
    assert_eq!(trust.len(), 1, "{}", run.stdout);
    assert_eq!(
        trust[0]["resource"]["name"],
        "host:all:trustme:127.0.0.1/32"
    );
    assert_eq!(trust[0]["severity"], "critical");
    // The local trust rule for postgres is not a network rule.
    assert_eq!(run.code, 1);
}

#[test]
fn failing_wal_archiving_is_reported() {
    let server = PgServer::running(
        "wal_level = replica\narchive_mode = on\narchive_command = 'false'\n",
        DEFAULT_HBA,
    );
    server.psql("postgres", "CREATE TABLE t AS SELECT 1 AS x");
    server.psql("postgres", "SELECT pg_switch_wal()");
    let mut failed = String::new();
    for _ in 0..100 {
        failed = server.psql("postgres", "SELECT failed_count FROM pg_stat_archiver");
        if failed != "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_ne!(failed, "0", "the archiver never ran");
    let dsn = server.dsn("postgres");
    let run = scan(
        server.path(),
        &["scan", "--postgres", &dsn, "--now", NOW, "--format", "json"],
        PASSWORD,
    );
    let report = run.json();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-BAK-012")
        .unwrap_or_else(|| panic!("no DA-BAK-012: {}", run.stdout));
    assert_eq!(finding["resource"]["kind"], "Archiver");
    assert_eq!(
        finding["resource"]["namespace"],
        server.label("postgres").as_str()
    );
    assert!(finding["message"]
        .as_str()
        .unwrap()
        .contains("last 000000010000000000000001"));
    // Archiving is on, so DA-BAK-011 stays quiet.
    assert!(!rules(&report).iter().any(|(r, _)| r == "DA-BAK-011"));
}

#[test]
fn unreachable_servers_and_failed_logins_are_coverage_gaps() {
    let server = PgServer::running("", DEFAULT_HBA);
    let dsn = server.dsn("postgres");
    let run = scan(
        server.path(),
        &["scan", "--postgres", &dsn, "--format", "json", "-vvv"],
        "wrong-password",
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let gap = &run.json()["coverage"][0];
    assert!(
        gap["reason"]
            .as_str()
            .unwrap()
            .contains("password authentication failed for user \"postgres\""),
        "{gap}"
    );
    assert_eq!(gap["endpoint"], server.label("postgres").as_str());
    assert!(!run.all().contains("wrong-password"));

    let closed = format!("host=127.0.0.1 port={} user=postgres dbname=x", free_port());
    let run = scan(
        server.path(),
        &["scan", "--postgres", &closed, "-vvv"],
        PASSWORD,
    );
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stdout.contains("cannot connect"), "{}", run.stdout);
    assert!(!run.all().contains(PASSWORD));
}

#[test]
fn passwords_on_the_command_line_are_refused() {
    let run = crate::common::run(&[
        "scan",
        "--postgres",
        "postgres://app:hunter2@127.0.0.1:5432/app",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("PGPASSWORD"), "{}", run.stderr);
    assert!(!run.all().contains("hunter2"));
}

#[test]
fn a_broken_baseline_names_file_and_line() {
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "pg.yaml",
        "apiVersion: driftaudit.io/v1\nkind: PostgresBaseline\nmetadata:\n  name: x\nspec:\n  server: db:5432/app\n  roles:\n    - name: app\n      superuser: yes-please\n  grants:\n    - {on: table, objects: [a.b], to: app, privileges: [FLY]}\n",
    );
    let run = crate::common::run_in(repo.path(), &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let errors = run.json()["errors"].to_string();
    assert!(errors.contains("pg.yaml:9"), "{errors}");
    assert!(errors.contains("expected true or false"), "{errors}");
    assert!(errors.contains("pg.yaml:11"), "{errors}");
    assert!(
        errors.contains("`FLY` is not a privilege on a table"),
        "{errors}"
    );
}
