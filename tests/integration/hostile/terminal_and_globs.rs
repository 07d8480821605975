//! Text-report forgery through control characters, and patterns that made
//! the glob matcher backtrack for minutes.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{deployment_yaml, driftaudit, live_deployment, snapshot_json, write, Run};

/// Runs a command, killing it (and failing) if it has not ended within
/// `limit`: a hang guard, far above the normal run time, not a speed target.
fn finish_within(command: &mut std::process::Command, limit: Duration) -> Run {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn backtracking_glob_in_unmanaged_exclude_cannot_stall_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    write(
        dir.path(),
        "repo/driftaudit.yaml",
        "unmanaged:\n  exclude:\n    - name: \"*a*a*a*a*a*a*a*a*a*a*a*a*b\"\ndrift:\n  ignore:\n    - name: \"*a*a*a*a*a*a*a*a*a*a*a*a*b\"\n      paths: [\"$.spec.replicas\"]\n",
    );
    let long_name = "a".repeat(250);
    let objects = [
        live_deployment("app", "shop", 1, "registry.example.com/app:1.0"),
        live_deployment(&long_name, "shop", 1, "registry.example.com/app:1.0"),
    ];
    write(dir.path(), "live.json", &snapshot_json("prod", &objects));
    let run = finish_within(
        driftaudit().current_dir(dir.path()).args([
            "scan",
            "--repo",
            "repo",
            "--config",
            "repo/driftaudit.yaml",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ]),
        Duration::from_secs(60),
    );
    let report = run.json();
    assert_eq!(
        crate::common::drift_status(&report, "Deployment", &long_name).as_deref(),
        Some("unmanaged"),
        "{report}"
    );
}

#[test]
fn bad_glob_in_the_config_is_an_error_at_load_time() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    write(
        dir.path(),
        "driftaudit.yaml",
        "unmanaged:\n  exclude:\n    - name: \"[unclosed\"\n",
    );
    let run = crate::common::run_in(dir.path(), &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("[unclosed"), "{}", run.stderr);
}

#[test]
fn file_names_with_newlines_and_escapes_cannot_forge_report_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    let forged = "x.yaml\nSUMMARY  forged\n\u{1b}[32mPASS (exit 0)\u{1b}[0m\u{202e}.yaml";
    write(dir.path(), forged, "apiVersion: v1\nkind: [broken\n");
    let run = crate::common::run_in(dir.path(), &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains('\u{1b}'), "raw ESC in output: {output:?}");
        assert!(
            !output.contains('\u{202e}'),
            "raw bidi override in output: {output:?}"
        );
        assert!(
            !output.lines().any(|l| l.starts_with("SUMMARY  forged")),
            "{output}"
        );
        assert!(!output.lines().any(|l| l.starts_with("PASS")), "{output}");
    }
    assert!(
        run.stdout
            .contains("x.yaml\\nSUMMARY  forged\\n\\u{1b}[32mPASS"),
        "{}",
        run.stdout
    );
}

#[test]
fn live_names_with_escapes_cannot_paint_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/app.yaml",
        &deployment_yaml("app", "shop", 1, "registry.example.com/app:1.0"),
    );
    let mut evil = live_deployment("evil", "shop", 1, "registry.example.com/app:1.0");
    evil["metadata"]["name"] = json!("evil\u{1b}]0;pwned\u{7}\nPASS (exit 0)");
    let objects = [
        live_deployment("app", "shop", 1, "registry.example.com/app:1.0"),
        evil,
    ];
    write(dir.path(), "live.json", &snapshot_json("prod", &objects));
    let run = crate::common::run_in(
        dir.path(),
        &["scan", "--repo", "repo", "--live-snapshot", "live.json"],
    );
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{:?}",
        run.stdout
    );
    assert_eq!(
        run.stdout.lines().filter(|l| l.starts_with("PASS")).count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("evil\\u{1b}]0;pwned\\u{7}\\nPASS"),
        "{}",
        run.stdout
    );
}
