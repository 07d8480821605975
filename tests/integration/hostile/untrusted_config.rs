//! A pull request's own `driftaudit.yaml` under `--untrusted-config` (what
//! the GitHub action passes unless told the config is trusted): it cannot
//! make the scanner read a file outside the repository (whose lines a parse
//! error would print into a public CI log), nor send the runner's
//! credentials to a server it names.

use std::path::Path;

use crate::common::{run_in, write, Run};

const SECRET: &str = "AWS_SECRET_ACCESS_KEY=hunter2-supersecret\n";

/// A folder `repo/` with one manifest and the given config, and a secret
/// beside it (outside the repository).
fn repo_with(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: default}\ndata: {a: b}\n",
    );
    write(dir.path(), "repo/driftaudit.yaml", config);
    write(dir.path(), "outside/secret.yaml", SECRET);
    std::fs::create_dir_all(dir.path().join("outside/policies")).unwrap();
    write(dir.path(), "outside/policies/leak.rego", SECRET);
    dir
}

fn scan(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--repo", ".", "--now", "2026-11-30T00:00:00Z"];
    args.extend_from_slice(extra);
    run_in(&dir.join("repo"), &args)
}

fn refused(run: &Run, what: &str, why: &str) {
    assert_eq!(run.code, 2, "{why}: {}", run.all());
    assert!(run.stderr.contains(what), "{why}: {}", run.all());
    assert!(!run.all().contains("hunter2"), "{why}: {}", run.all());
    assert!(run.stdout.is_empty(), "{why}: {}", run.all());
}

#[test]
fn files_named_outside_the_repository_are_refused_unread() {
    for (config, why) in [
        (
            "baselines: [../outside/secret.yaml]\n",
            "a relative path out",
        ),
        ("baselines: [/etc/passwd]\n", "an absolute path"),
        (
            "policies: {dirs: [../outside/policies]}\n",
            "a policy folder out",
        ),
        ("waivers: ../outside/secret.yaml\n", "a waivers file out"),
    ] {
        let dir = repo_with(config);
        refused(
            &scan(dir.path(), &["--untrusted-config"]),
            "outside the config's folder",
            why,
        );
    }
    // Through a link inside the repository.
    let dir = repo_with("baselines: [linked.yaml]\n");
    std::os::unix::fs::symlink(
        dir.path().join("outside/secret.yaml"),
        dir.path().join("repo/linked.yaml"),
    )
    .unwrap();
    refused(
        &scan(dir.path(), &["--untrusted-config"]),
        "outside the config's folder",
        "a link",
    );
    // Trusted (the default), the same config is read as the user wrote it:
    // the baseline is not a valid one, so the scan stops at it.
    let run = scan(dir.path(), &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        !run.stderr.contains("outside the config's folder"),
        "{}",
        run.all()
    );
}

#[test]
fn the_config_itself_may_not_be_a_link() {
    let dir = repo_with("");
    let config = dir.path().join("repo/driftaudit.yaml");
    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside/secret.yaml"), &config).unwrap();
    refused(
        &scan(dir.path(), &["--untrusted-config"]),
        "refused config",
        "a linked config",
    );
}

#[test]
fn live_sources_are_refused() {
    for section in [
        "postgres: {dsns: [\"host=attacker.example dbname=x user=y\"]}\n",
        "traefik: {url: \"https://attacker.example\"}\n",
        "kubernetes: {}\n",
    ] {
        let dir = repo_with(section);
        refused(
            &scan(dir.path(), &["--untrusted-config"]),
            "may not name live sources",
            section,
        );
    }
    // Nor where the history store is written.
    let dir = repo_with("history: sqlite:../outside/history.db\n");
    refused(
        &scan(dir.path(), &["--untrusted-config"]),
        "may not name a history store",
        "history",
    );
    assert!(!dir.path().join("outside/history.db").exists());
}

#[test]
fn a_config_of_its_own_files_is_read() {
    let dir = repo_with("baselines: [baselines/strict.yaml]\nfail_on: info\n");
    write(
        dir.path(),
        "repo/baselines/strict.yaml",
        "images:\n  approved_registries: [registry.example.com]\n",
    );
    let run = scan(dir.path(), &["--untrusted-config", "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert_eq!(
        run.json()["summary"]["declared_resources"],
        1,
        "{}",
        run.all()
    );
}

/// A policy folder of the repository holding links named `*.rego` (to
/// `/dev/zero`, to a file outside): refused by name, never read, whether the
/// config is trusted or not; a linked folder is not entered.
#[test]
fn links_in_a_policy_folder_are_never_read() {
    for (target, why) in [
        ("/dev/zero", "an endless device"),
        ("outside/secret.yaml", "a file outside"),
    ] {
        let dir = repo_with("policies: {dirs: [policies]}\n");
        std::fs::create_dir_all(dir.path().join("repo/policies")).unwrap();
        let target = if target.starts_with('/') {
            std::path::PathBuf::from(target)
        } else {
            dir.path().join(target)
        };
        std::os::unix::fs::symlink(&target, dir.path().join("repo/policies/x.rego")).unwrap();
        for extra in [&["--untrusted-config"][..], &[][..]] {
            let mut args = vec![
                "30",
                env!("CARGO_BIN_EXE_driftaudit"),
                "scan",
                "--repo",
                ".",
            ];
            args.extend_from_slice(extra);
            let run = crate::common::finish(
                std::process::Command::new("timeout")
                    .args(&args)
                    .current_dir(dir.path().join("repo")),
            );
            assert_eq!(run.code, 2, "{why}: {}", run.all());
            assert!(run.all().contains("x.rego"), "{why}: {}", run.all());
            assert!(run.all().contains("symbolic link"), "{why}: {}", run.all());
            assert!(!run.all().contains("hunter2"), "{why}: {}", run.all());
        }
    }
    // A linked folder inside the policy folder is not entered.
    let dir = repo_with("policies: {dirs: [policies]}\n");
    std::fs::create_dir_all(dir.path().join("repo/policies")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("outside/policies"),
        dir.path().join("repo/policies/linked"),
    )
    .unwrap();
    let run = scan(dir.path(), &["--untrusted-config"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(!run.all().contains("hunter2"), "{}", run.all());
}

/// The limits that protect the scan may be lowered by an untrusted config,
/// never raised (a pull request adding a heavy rule and lifting the bound).
#[test]
fn limits_may_be_lowered_not_raised() {
    for (config, key) in [
        ("policies: {memory: 100000}\n", "policies.memory"),
        ("timeouts: {policy: 100000}\n", "timeouts.policy"),
        ("timeouts: {scan: 100000}\n", "timeouts.scan"),
        ("timeouts: {source: 100000}\n", "timeouts.source"),
    ] {
        let dir = repo_with(config);
        refused(&scan(dir.path(), &["--untrusted-config"]), key, key);
        // Trusted, the same config is taken as written.
        let run = scan(dir.path(), &[]);
        assert!(run.code == 0 || run.code == 1, "{key}: {}", run.all());
    }
    let dir = repo_with("policies: {memory: 512}\ntimeouts: {policy: 60}\n");
    let run = scan(dir.path(), &["--untrusted-config"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
}
