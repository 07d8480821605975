//! The history store (docs/history.md), through the binary: scans of the
//! demo remember what they saw, mark what is new and what was resolved,
//! `--fail-on-new` gates on new entries only, `history trend|mttr|open|prune`
//! give exact numbers over a scripted sequence of scans, the same sequence on
//! a real PostgreSQL 15 with two scanners writing at once loses nothing, and
//! hostile stores are refused with DA-E701 without a secret in the output.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::pgserver::{PgServer, DEFAULT_HBA, PASSWORD};
use crate::common::{driftaudit, finish, free_port, run_in, Run};

/// The demo's files, copied to a scratch folder so its snapshot can change.
fn demo_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo"),
        dir.path(),
    );
    // The demo's daily Velero schedule is 47 hours from its 48-hour RPO at
    // the demo's clock: these tests advance the clock by days, and must see
    // only the changes they make, so its RPO is widened here.
    let baselines = dir.path().join("baselines.yaml");
    let text = std::fs::read_to_string(&baselines).unwrap();
    assert!(text.contains("rpo_hours: 48"), "{text}");
    std::fs::write(&baselines, text.replace("rpo_hours: 48", "rpo_hours: 480")).unwrap();
    dir
}

fn snapshot(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("live-snapshot.json")).unwrap()).unwrap()
}

fn set_snapshot(dir: &Path, snapshot: &Value) {
    std::fs::write(
        dir.join("live-snapshot.json"),
        serde_json::to_string_pretty(snapshot).unwrap(),
    )
    .unwrap();
}

/// Changes the live objects: `edit` gets each object and returns it (or None to drop it).
fn edit_live(dir: &Path, edit: impl Fn(Value) -> Option<Value>) {
    let mut snapshot = snapshot(dir);
    let resources = snapshot["targets"][0]["resources"].as_array_mut().unwrap();
    let edited: Vec<Value> = resources
        .drain(..)
        .filter_map(|mut resource| {
            let object = resource["object"].take();
            edit(object).map(|object| {
                resource["object"] = object;
                resource
            })
        })
        .collect();
    *resources = edited;
    set_snapshot(dir, &snapshot);
}

fn is(object: &Value, kind: &str, name: &str) -> bool {
    object["kind"] == kind && object["metadata"]["name"] == name
}

/// The scan of the demo copy with a history, as JSON; `extra` are more flags.
fn scan(dir: &Path, history: &str, now: &str, extra: &[&str]) -> Run {
    scan_as(dir, history, now, "json", extra)
}

fn scan_as(dir: &Path, history: &str, now: &str, format: &str, extra: &[&str]) -> Run {
    finish(
        scan_command(dir, history, format)
            .args(["--now", now])
            .args(extra),
    )
}

/// `scan` of the demo copy in `dir` with this history and format.
fn scan_command(dir: &Path, history: &str, format: &str) -> std::process::Command {
    let mut command = driftaudit();
    command.current_dir(dir).args([
        "scan",
        "--config",
        "driftaudit.yaml",
        "--repo",
        "repo",
        "--live-snapshot",
        "live-snapshot.json",
        "--history",
        history,
        "--format",
        format,
    ]);
    command
}

/// `(kind, rule or drift status, resource name)` of the report's open
/// entries, with whether each is new.
fn entries(report: &Value) -> Vec<(String, String, String, bool)> {
    let mut all = Vec::new();
    for f in report["findings"].as_array().unwrap() {
        all.push((
            "finding".to_string(),
            f["rule"].as_str().unwrap().to_string(),
            f["resource"]["name"].as_str().unwrap_or("").to_string(),
            f["new_since_last_scan"]
                .as_bool()
                .expect("new_since_last_scan"),
        ));
    }
    for d in report["drift"].as_array().unwrap() {
        if d["status"] == "in_sync" {
            assert!(
                d.get("first_seen").is_none(),
                "in-sync entries carry no history"
            );
            continue;
        }
        all.push((
            "drift".to_string(),
            d["status"].as_str().unwrap().to_string(),
            d["resource"]["name"].as_str().unwrap().to_string(),
            d["new_since_last_scan"]
                .as_bool()
                .expect("new_since_last_scan"),
        ));
    }
    all
}

fn names(report: &Value, new: bool) -> BTreeSet<(String, String, String)> {
    entries(report)
        .into_iter()
        .filter(|e| e.3 == new)
        .map(|e| (e.0, e.1, e.2))
        .collect()
}

fn resolved(report: &Value) -> BTreeSet<(String, String, String)> {
    report["resolved"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|r| {
                    let what = r["rule"].as_str().or(r["status"].as_str()).unwrap();
                    let resource = r["resource"].as_str().unwrap_or("");
                    let name = resource.rsplit('/').next().unwrap().to_string();
                    (
                        r["kind"].as_str().unwrap().to_string(),
                        what.to_string(),
                        name,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces the unmanaged `debug-shell` by an `intruder` just like it.
fn swap_debug_shell(dir: &Path) {
    edit_live(dir, |mut object| {
        if is(&object, "Deployment", "debug-shell") {
            object["metadata"]["name"] = json!("intruder");
        }
        Some(object)
    });
}

#[test]
fn demo_scans_remember_what_is_new_and_what_was_resolved() {
    let dir = demo_copy();
    let d = dir.path();
    let first = scan(d, "", "2026-11-22T00:00:00Z", &[]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let first = first.json();
    assert_eq!(first["history"]["store"], "sqlite:.driftaudit/history.db");
    assert_eq!(first["history"]["previous_scan"], Value::Null);
    assert!(
        names(&first, false).is_empty(),
        "the first scan has only new entries"
    );
    let everything = names(&first, true);
    assert!(everything.len() > 10, "{everything:?}");
    assert_eq!(first["history"]["new"], entries(&first).len());
    crate::schemas::assert_valid(
        &crate::schemas::schema("docs/report-schema.json"),
        &first,
        "a report with history",
    );
    // The store is private: the folder 0700, the file 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(".driftaudit"), 0o700);
    assert_eq!(mode(".driftaudit/history.db"), 0o600);

    // The second scan, a day later, of the same state: everything existing, first seen on the first.
    let second = scan(d, "", "2026-11-23T00:00:00Z", &[]).json();
    assert_eq!(names(&second, false), everything);
    assert!(names(&second, true).is_empty());
    for f in second["findings"].as_array().unwrap() {
        assert_eq!(f["first_seen"], "2026-11-22T00:00:00Z", "{f}");
        assert_eq!(f["last_seen"], "2026-11-23T00:00:00Z");
        assert_eq!(f["age_seconds"], 86_400);
    }
    assert_eq!(
        second["history"]["previous_scan"]["id"],
        first["history"]["scan_id"]
    );
    assert_eq!(second["history"]["resolved"], 0);
    assert!(second.get("resolved").is_none());

    // Change the snapshot: debug-shell becomes intruder, web is scaled back.
    swap_debug_shell(d);
    edit_live(d, |mut object| {
        if is(&object, "Deployment", "web") {
            object["spec"]["replicas"] = json!(2);
        }
        Some(object)
    });
    let third = scan(d, "", "2026-11-24T00:00:00Z", &[]).json();
    let new = names(&third, true);
    assert!(!new.is_empty());
    assert!(
        new.iter().all(|e| e.2 == "intruder"),
        "only the intruder's entries are new: {new:?}"
    );
    let on = |set: &BTreeSet<(String, String, String)>, name: &str| -> BTreeSet<(String, String)> {
        set.iter()
            .filter(|e| e.2 == name)
            .map(|e| (e.0.clone(), e.1.clone()))
            .collect()
    };
    assert_eq!(on(&new, "intruder"), on(&everything, "debug-shell"));
    let gone = resolved(&third);
    let mut expected: BTreeSet<(String, String, String)> = everything
        .iter()
        .filter(|e| e.2 == "debug-shell")
        .cloned()
        .collect();
    expected.insert(("drift".into(), "modified".into(), "web".into()));
    assert_eq!(
        gone, expected,
        "exactly debug-shell's entries and web's drift are resolved"
    );
    for r in third["resolved"].as_array().unwrap() {
        assert_eq!(r["first_seen"], "2026-11-22T00:00:00Z");
        assert_eq!(r["last_seen"], "2026-11-23T00:00:00Z");
    }
    assert_eq!(third["history"]["resolved"], gone.len());
    // The rest stays existing, first seen on the first scan.
    assert_eq!(
        names(&third, false),
        everything
            .difference(&expected)
            .cloned()
            .collect::<BTreeSet<_>>()
    );

    // The text and Markdown reports say it too.
    let text = scan_as(d, "", "2026-11-25T00:00:00Z", "text", &[]);
    assert!(
        text.stdout.contains("first seen 2026-11-22T00:00:00Z (3d)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("compared with scan 3 of 2026-11-24T00:00:00Z"),
        "{}",
        text.stdout
    );
    let markdown = scan_as(d, "", "2026-11-26T00:00:00Z", "markdown", &[]);
    assert!(
        markdown.stdout.contains("### Since the last scan"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn reports_without_history_stay_as_they_were() {
    let dir = demo_copy();
    let plain = run_in(dir.path(), &["scan", "--demo", "--format", "json"]);
    let value = plain.json();
    assert!(value.get("history").is_none() && value.get("resolved").is_none());
    assert!(!plain.stdout.contains("first_seen"));
    assert!(
        !dir.path().join(".driftaudit").exists(),
        "no store without --history"
    );
}

#[test]
fn fail_on_new_fails_only_on_what_appeared_since_the_last_scan() {
    let dir = demo_copy();
    let d = dir.path();
    let history = "sqlite:h.db";
    assert_eq!(
        scan(d, history, "2026-11-22T00:00:00Z", &["--fail-on-new"]).code,
        1
    );
    let again = scan(d, history, "2026-11-23T00:00:00Z", &["--fail-on-new"]);
    assert_eq!(
        again.code, 0,
        "existing findings do not fail: {}",
        again.stderr
    );
    assert_eq!(again.json()["summary"]["result"], "pass");
    // Without --fail-on-new the same existing findings fail as before.
    assert_eq!(scan(d, history, "2026-11-23T01:00:00Z", &[]).code, 1);
    swap_debug_shell(d);
    assert_eq!(
        scan(d, history, "2026-11-24T00:00:00Z", &["--fail-on-new"]).code,
        1
    );
    assert_eq!(
        scan(d, history, "2026-11-25T00:00:00Z", &["--fail-on-new"]).code,
        0
    );
    // Drift: only new drift fails with --fail-on-drift --fail-on-new.
    let drift_only = ["--fail-on-new", "--fail-on-drift", "--fail-on", "none"];
    assert_eq!(
        scan(d, history, "2026-11-26T00:00:00Z", &drift_only).code,
        0
    );
    edit_live(d, |mut object| {
        if is(&object, "ConfigMap", "kube-root-ca.crt") && object["metadata"]["namespace"] == "shop"
        {
            return None;
        }
        if is(&object, "Deployment", "api") {
            object["spec"]["replicas"] = json!(7);
        }
        Some(object)
    });
    assert_eq!(
        scan(d, history, "2026-11-27T00:00:00Z", &drift_only).code,
        1
    );

    // Without a history --fail-on-new is an input error.
    let none = run_in(d, &["scan", "--demo", "--fail-on-new"]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("--history"), "{}", none.stderr);
    // An incomplete scan still exits 3, whatever is new.
    let incomplete = run_in(
        d,
        &[
            "scan",
            "--config",
            "driftaudit.yaml",
            "--repo",
            "repo",
            "--kube-context",
            "nope",
            "--kubeconfig",
            "/nonexistent",
            "--history",
            history,
            "--fail-on-new",
        ],
    );
    assert!(matches!(incomplete.code, 2 | 3), "{}", incomplete.all());
}

/// Scan clocks of the scripted sequence: day 1, 2 and 4 of November, 10:00.
const DAY1: &str = "2026-11-01T10:00:00Z";
const DAY2: &str = "2026-11-02T10:00:00Z";
const DAY4: &str = "2026-11-04T10:00:00Z";
const AFTER: &str = "2026-11-05T00:00:00Z";

/// The scripted sequence: the demo on day 1; debug-shell gone on day 2;
/// web scaled back on day 4. Returns the three reports.
fn scripted(dir: &Path, history: &str, extra: &[&str]) -> Vec<Value> {
    let mut reports = Vec::new();
    let one = scan(dir, history, DAY1, extra);
    assert_eq!(one.code, 1, "{}", one.stderr);
    reports.push(one.json());
    edit_live(dir, |object| {
        (!is(&object, "Deployment", "debug-shell")).then_some(object)
    });
    reports.push(scan(dir, history, DAY2, extra).json());
    edit_live(dir, |mut object| {
        if is(&object, "Deployment", "web") {
            object["spec"]["replicas"] = json!(2);
        }
        Some(object)
    });
    reports.push(scan(dir, history, DAY4, extra).json());
    reports
}

fn history_json(dir: &Path, args: &[&str], extra: &[&str]) -> Value {
    let mut all = vec!["history"];
    all.extend(args);
    all.extend(["--format", "json", "--now", AFTER]);
    all.extend(extra);
    let run = run_in(dir, &all);
    assert_eq!(run.code, 0, "{args:?}: {}", run.all());
    run.json()
}

fn group<'a>(mttr: &'a Value, by: &str, key: &str) -> &'a Value {
    mttr[by]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {mttr}"))
}

/// Open entries per category of a report, as the trend counts them.
fn by_category(report: &Value) -> Value {
    let mut counts = serde_json::Map::new();
    for f in report["findings"].as_array().unwrap() {
        let key = f["category"].as_str().unwrap();
        let n = counts.get(key).and_then(Value::as_u64).unwrap_or(0);
        counts.insert(key.into(), json!(n + 1));
    }
    let drift = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "in_sync")
        .count();
    if drift > 0 {
        counts.insert("drift".into(), json!(drift));
    }
    Value::Object(counts)
}

/// Checks trend, mttr, open and prune on a store holding the scripted sequence.
fn check_scripted(dir: &Path, reports: &[Value], store: &[&str]) {
    let trend = history_json(dir, &["trend", "--by", "category", "--since", "4d"], store);
    let days = trend["days"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        [
            "2026-11-01",
            "2026-11-02",
            "2026-11-03",
            "2026-11-04",
            "2026-11-05"
        ]
    );
    // Each day: the latest scan at its end; the day without a scan keeps the day before.
    for (day, report) in [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2)] {
        assert_eq!(
            days[day]["counts"],
            by_category(&reports[report]),
            "day {day}"
        );
    }
    let drift_counts: Vec<u64> = days
        .iter()
        .map(|d| d["counts"]["drift"].as_u64().unwrap())
        .collect();
    assert_eq!(drift_counts, [6, 5, 5, 4, 4], "{trend}");
    let total_day1 = entries(&reports[0]).len() as u64;
    assert_eq!(days[0]["total"], total_day1);

    // Time to resolve: debug-shell's entries took 1 day, web's drift 3 days.
    let mttr = history_json(dir, &["mttr"], store);
    assert_eq!(
        group(&mttr, "by_rule", "DA-PRIV-001"),
        &json!({"key": "DA-PRIV-001", "count": 1, "mean_seconds": 86_400, "median_seconds": 86_400})
    );
    assert_eq!(
        group(&mttr, "by_rule", "drift:unmanaged"),
        &json!({"key": "drift:unmanaged", "count": 1, "mean_seconds": 86_400, "median_seconds": 86_400})
    );
    assert_eq!(
        group(&mttr, "by_rule", "drift:modified"),
        &json!({"key": "drift:modified", "count": 1, "mean_seconds": 259_200, "median_seconds": 259_200})
    );
    assert_eq!(
        group(&mttr, "by_severity", "drift"),
        &json!({"key": "drift", "count": 2, "mean_seconds": 172_800, "median_seconds": 172_800})
    );
    let resolved_findings = names(&reports[0], true)
        .iter()
        .filter(|e| e.0 == "finding" && e.2 == "debug-shell")
        .count() as u64;
    let counted: u64 = mttr["by_severity"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["key"] != "drift")
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, resolved_findings);
    // DA-PRIV-007: one of five resolved (debug-shell's), after a day.
    assert_eq!(group(&mttr, "by_rule", "DA-PRIV-007")["count"], 1);

    // Open for more than 3 days on the 5th: everything of the last scan
    // (first seen on the 1st, 3 days 14 hours ago); more than 4 days: nothing.
    let open = history_json(dir, &["open", "--older-than", "3d"], store);
    assert_eq!(open.as_array().unwrap().len(), entries(&reports[2]).len());
    assert!(open
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["age_seconds"] == 309_600));
    let none = history_json(dir, &["open", "--older-than", "4d"], store);
    assert_eq!(none, json!([]));

    // Prune what is older than 2 days: the first two scans, never the last.
    let list = history_json(dir, &["list"], store);
    assert_eq!(list.as_array().unwrap().len(), 3);
    let pruned = history_json(dir, &["prune", "--keep", "2d"], store);
    let deleted: Vec<&str> = pruned["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["now"].as_str().unwrap())
        .collect();
    assert_eq!(deleted, [DAY1, DAY2]);
    let left = history_json(dir, &["list"], store);
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["now"], DAY4);
    // Never the latest scan of a target, however old.
    let again = history_json(dir, &["prune", "--keep", "1h"], store);
    assert_eq!(again["deleted"], json!([]));
}

#[test]
fn trend_mttr_open_and_prune_give_exact_numbers_on_a_scripted_sequence() {
    let dir = demo_copy();
    let reports = scripted(dir.path(), "sqlite:seq.db", &[]);
    // The text forms name the same things.
    let text = run_in(
        dir.path(),
        &[
            "history",
            "mttr",
            "--history",
            "sqlite:seq.db",
            "--now",
            AFTER,
        ],
    );
    assert!(text.stdout.contains("drift:modified"), "{}", text.stdout);
    let show = run_in(
        dir.path(),
        &["history", "show", "3", "--history", "sqlite:seq.db"],
    );
    assert_eq!(show.code, 0, "{}", show.all());
    assert!(
        show.stdout.contains("first seen 2026-11-01T10:00:00Z"),
        "{}",
        show.stdout
    );
    // Durations are parsed strictly.
    for bad in ["30", "30 d", "1.5d", "0d", "-1d"] {
        let run = run_in(
            dir.path(),
            &[
                "history",
                "trend",
                "--since",
                bad,
                "--history",
                "sqlite:seq.db",
            ],
        );
        assert_eq!(run.code, 2, "{bad}: {}", run.all());
    }
    check_scripted(dir.path(), &reports, &["--history", "sqlite:seq.db"]);
}

fn pg_store(server: &PgServer, db: &str) -> String {
    format!("postgres:{}", server.dsn(db))
}

#[test]
fn postgres_store_with_two_scanners_writing_at_once_loses_nothing() {
    let server = PgServer::running("", DEFAULT_HBA);
    server.psql("postgres", "CREATE DATABASE history");
    let password_file = server.path().join("history-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let password_file = password_file.to_str().unwrap().to_string();
    let store = pg_store(&server, "history");

    // Two scanners, each its own snapshot and target, start at once on an
    // empty database (both migrate) and record three scans each.
    let dirs = [demo_copy(), demo_copy()];
    let children: Vec<std::process::Child> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let script = (0..3)
                .map(|n| {
                    format!(
                        "{bin} scan --config driftaudit.yaml --repo repo --live-snapshot live-snapshot.json --history '{store}' --history-password-file '{password_file}' --history-target cluster-{i} --now 2026-11-0{day}T10:00:00Z --format json > report-{n}.json; echo $? >> codes",
                        bin = env!("CARGO_BIN_EXE_driftaudit"),
                        day = n + 1
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .current_dir(dir.path())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let common = [
        "--history",
        store.as_str(),
        "--history-password-file",
        password_file.as_str(),
    ];
    let list = history_json(dirs[0].path(), &["list"], &common);
    let scans = list.as_array().unwrap();
    assert_eq!(scans.len(), 6, "{list}");
    for (i, dir) in dirs.iter().enumerate() {
        let codes = std::fs::read_to_string(dir.path().join("codes")).unwrap();
        assert_eq!(codes, "1\n1\n1\n", "scanner {i}");
        for n in 0..3 {
            let report: Value = serde_json::from_str(
                &std::fs::read_to_string(dir.path().join(format!("report-{n}.json"))).unwrap(),
            )
            .unwrap();
            let id = report["history"]["scan_id"].as_i64().unwrap();
            assert_eq!(report["history"]["target"], format!("cluster-{i}"));
            assert_eq!(
                report["history"]["store"],
                format!("postgres:{}", server.label("history"))
            );
            let shown = history_json(dir.path(), &["show", &id.to_string()], &common);
            let stored = shown["entries"].as_array().unwrap();
            let expected =
                entries(&report).len() + report["suppressed_findings"].as_array().unwrap().len();
            assert_eq!(stored.len(), expected, "scan {id}: every entry stored");
            if n > 0 {
                assert_eq!(report["history"]["new"], 0, "scanner {i} scan {n}");
            }
        }
    }
    assert_eq!(
        server.psql(
            "history",
            "SELECT string_agg(version::text, ',') FROM driftaudit_migrations"
        ),
        "1",
        "the migration ran once"
    );
    // The password is stored nowhere, the DSN neither.
    let dump = server.psql(
        "history",
        "SELECT count(*) FROM driftaudit_scans WHERE evidence LIKE '%s3cret%' OR target LIKE '%s3cret%'",
    );
    assert_eq!(dump, "0");

    // A role that may read but not write: the scan says so (DA-E701) and
    // claims nothing new; the store is left as it was.
    server.psql(
        "history",
        &format!("CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader"),
    );
    let reader = format!(
        "postgres:host=127.0.0.1 port={} user=reader dbname=history sslmode=disable",
        server.port
    );
    let denied = finish(scan_command(dirs[0].path(), &reader, "json").env("PGPASSWORD", PASSWORD));
    assert_eq!(denied.code, 2, "{}", denied.all());
    let report = denied.json();
    assert!(report.get("history").is_none());
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("permission denied"), "{message}");
    assert!(!denied.all().contains(PASSWORD));
    assert_eq!(
        history_json(dirs[0].path(), &["list"], &common)
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // The scripted sequence on PostgreSQL gives the numbers it gives on SQLite.
    server.psql("postgres", "CREATE DATABASE sequence");
    let store = pg_store(&server, "sequence");
    let dir = demo_copy();
    let reports = scripted(
        dir.path(),
        &store,
        &["--history-password-file", &password_file],
    );
    check_scripted(
        dir.path(),
        &reports,
        &[
            "--history",
            &store,
            "--history-password-file",
            &password_file,
        ],
    );
}

#[test]
fn hostile_stores_are_refused_clearly_and_nothing_is_called_new() {
    let dir = demo_copy();
    let d = dir.path();
    let refused = |run: &Run, what: &str| {
        assert_eq!(run.code, 2, "{what}: {}", run.all());
        let report = run.json();
        assert!(report.get("history").is_none(), "{what}");
        assert!(!run.stdout.contains("new_since_last_scan"), "{what}");
        let error = &report["errors"][0];
        assert_eq!(error["code"], "DA-E701", "{what}: {error}");
        error["message"].as_str().unwrap().to_string()
    };
    // A corrupt SQLite file.
    std::fs::write(d.join("corrupt.db"), vec![0x42u8; 8192]).unwrap();
    let message = refused(
        &scan(d, "sqlite:corrupt.db", "2026-11-22T00:00:00Z", &[]),
        "corrupt",
    );
    assert!(message.contains("not a SQLite database"), "{message}");
    // A symbolic link at the path: never followed, its target untouched.
    std::fs::write(d.join("elsewhere"), "keep me").unwrap();
    std::os::unix::fs::symlink(d.join("elsewhere"), d.join("link.db")).unwrap();
    let message = refused(
        &scan(d, "sqlite:link.db", "2026-11-22T00:00:00Z", &[]),
        "symlink",
    );
    assert!(message.contains("symbolic link"), "{message}");
    assert_eq!(
        std::fs::read_to_string(d.join("elsewhere")).unwrap(),
        "keep me"
    );
    // A store whose schema is newer than this build knows.
    assert_eq!(
        scan(d, "sqlite:new.db", "2026-11-22T00:00:00Z", &[]).code,
        1
    );
    {
        let connection = rusqlite::Connection::open(d.join("new.db")).unwrap();
        connection
            .execute(
                "INSERT INTO driftaudit_migrations (version, applied_by) VALUES (99, 'future')",
                [],
            )
            .unwrap();
    }
    let message = refused(
        &scan(d, "sqlite:new.db", "2026-11-23T00:00:00Z", &[]),
        "newer schema",
    );
    assert!(message.contains("version 99"), "{message}");
    // With --fail-on-new a broken store is no clean pass either.
    let run = scan(
        d,
        "sqlite:corrupt.db",
        "2026-11-22T00:00:00Z",
        &["--fail-on-new", "--fail-on", "none"],
    );
    refused(&run, "fail-on-new on a corrupt store");
    // A PostgreSQL server nobody listens on.
    let port = free_port();
    let unreachable = format!(
        "postgres:host=127.0.0.1 port={port} user=u dbname=h sslmode=disable connect_timeout=5"
    );
    let started = std::time::Instant::now();
    let message = refused(
        &scan(d, &unreachable, "2026-11-22T00:00:00Z", &[]),
        "unreachable",
    );
    assert!(message.contains("connect"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // A DSN holding a password is refused before anything runs, and not echoed.
    for dsn in [
        "postgres:host=db user=u password=hunter2 dbname=h",
        "postgres://u:hunter2@db/h",
    ] {
        let run = scan(d, dsn, "2026-11-22T00:00:00Z", &[]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(!run.all().contains("hunter2"), "{}", run.all());
        assert!(run.stderr.contains("DA-E503"), "{}", run.stderr);
    }
    // `history` does not create a store where none was.
    let missing = run_in(d, &["history", "list", "--history", "sqlite:none.db"]);
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert!(!d.join("none.db").exists());
    // `diff` records nothing and says so.
    let diff = run_in(d, &["diff", "--demo", "--history"]);
    assert_eq!(diff.code, 2, "{}", diff.all());
}

#[test]
fn the_configs_history_key_is_relative_to_the_config_and_read_by_history() {
    let dir = demo_copy();
    let d = dir.path();
    let config = std::fs::read_to_string(d.join("driftaudit.yaml")).unwrap();
    std::fs::write(
        d.join("driftaudit.yaml"),
        format!("{config}history: sqlite:state/h.db\n"),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let config = d.join("driftaudit.yaml");
    let repo = d.join("repo");
    let snapshot = d.join("live-snapshot.json");
    let args = [
        "scan",
        "--config",
        config.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
        "--live-snapshot",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
    ];
    let run = run_in(elsewhere.path(), &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        d.join("state/h.db").is_file(),
        "beside the config, not the working directory"
    );
    assert!(run.json()["history"]["scan_id"].is_i64());
    let scans = || {
        let list = run_in(
            elsewhere.path(),
            &[
                "history",
                "list",
                "--config",
                config.to_str().unwrap(),
                "--format",
                "json",
            ],
        );
        assert_eq!(list.code, 0, "{}", list.all());
        list.json().as_array().unwrap().len()
    };
    assert_eq!(scans(), 1);
    // `diff` ignores the config's history (it records nothing).
    let diff = run_in(elsewhere.path(), &[&["diff"], &args[1..7]].concat());
    assert_ne!(diff.code, 2, "{}", diff.all());
    assert_eq!(scans(), 1);
}
