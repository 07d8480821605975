//! `scan --evidence-dir`, `--sign-key` and `driftaudit verify`
//! (docs/evidence.md): the directory holds the reports, the redacted
//! snapshot, the policies and baselines and a manifest; verify names every
//! changed, missing or extra file, a wrong key and a hostile manifest; two
//! scans with the same `--now` write byte-identical manifests and reports.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{run, Run};

const NOW: &str = "2026-11-22T00:00:00Z";

fn scan_into(dir: &Path, extra: &[&str]) -> Run {
    let dir = dir.to_str().unwrap();
    let mut args = vec!["scan", "--demo", "--now", NOW, "--evidence-dir", dir];
    args.extend_from_slice(extra);
    let result = run(&args);
    // The demo fails its gate by design; writing evidence does not change that.
    assert_eq!(result.code, 1, "{}", result.all());
    result
}

fn verify(dir: &Path, key: Option<&Path>) -> Run {
    let mut args = vec!["verify", dir.to_str().unwrap()];
    match key {
        Some(key) => args.extend(["--key", key.to_str().unwrap()]),
        None => args.push("--integrity-only"),
    }
    run(&args)
}

/// Every regular file under `dir`, relative, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                out.push(relative.to_str().unwrap().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn flip_one_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// An Ed25519 key pair made by OpenSSL: (private PEM, public PEM).
fn openssl_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let status = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private)
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let status = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .expect("openssl runs");
    assert!(status.success());
    (private, public)
}

#[test]
fn the_directory_holds_the_scan_and_verifies() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("evidence");
    scan_into(&dir, &["--framework", "cis-k8s"]);
    let files = files_in(&dir);
    for expected in [
        "report.json",
        "report.txt",
        "report.html",
        "snapshot.json",
        "baselines.json",
        "config.yaml",
        "manifest.json",
        "manifest.sha256",
        "policies/builtin/images.rego",
    ] {
        assert!(files.iter().any(|f| f == expected), "{expected}: {files:?}");
    }
    assert!(!files.iter().any(|f| f == "manifest.sig"));
    // The report is the one the scan printed, the snapshot has no Secret value.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["scan"]["now"], NOW);
    assert!(report["controls"].is_object() || report["controls"].is_array());
    let snapshot = std::fs::read_to_string(dir.join("snapshot.json")).unwrap();
    assert!(snapshot.contains("<not captured>"));
    assert!(
        !snapshot.contains("hmac-sha256:"),
        "per-run digests are never stored"
    );
    // The manifest lists every other file, sorted, with its size and digest.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert_eq!(
        listed.len(),
        files.len() - 2,
        "all but the manifest and its digest"
    );
    assert_eq!(manifest["now"], NOW);

    let result = verify(&dir, None);
    assert_eq!(result.code, 0, "{}", result.all());
    assert!(result.stdout.contains("unsigned"), "{}", result.stdout);

    // A fresh directory only.
    let again = run(&["scan", "--demo", "--evidence-dir", dir.to_str().unwrap()]);
    assert_eq!(again.code, 2, "{}", again.all());
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);
}

#[test]
fn a_one_byte_change_in_any_file_is_named() {
    let scratch = tempfile::tempdir().unwrap();
    let (private, public) = openssl_key(scratch.path(), "key");
    for signed in [false, true] {
        let dir = scratch.path().join(format!("signed-{signed}"));
        let sign: Vec<&str> = if signed {
            vec!["--sign-key", private.to_str().unwrap()]
        } else {
            vec![]
        };
        scan_into(&dir, &sign);
        let files = files_in(&dir);
        assert_eq!(files.iter().any(|f| f == "manifest.sig"), signed);
        let key = signed.then_some(public.as_path());
        for file in &files {
            let path = dir.join(file);
            let original = std::fs::read(&path).unwrap();
            flip_one_byte(&path);
            let result = verify(&dir, key);
            assert_eq!(result.code, 1, "{file}: {}", result.all());
            assert!(
                result
                    .stdout
                    .lines()
                    .any(|l| l.starts_with("FAIL ") && l.contains(file.as_str())),
                "{file} not named: {}",
                result.stdout
            );
            std::fs::write(&path, original).unwrap();
        }
        let result = verify(&dir, key);
        assert_eq!(result.code, 0, "{}", result.all());
    }
}

#[test]
fn deleted_and_added_files_are_reported() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("evidence");
    scan_into(&dir, &[]);
    std::fs::remove_file(dir.join("policies/builtin/images.rego")).unwrap();
    std::fs::write(dir.join("policies/builtin/extra.rego"), "package x\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("link")).unwrap();
    // A name that is not UTF-8 is shown with its bytes escaped, never as a
    // lossy name that could pass for a listed one.
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"report\xff.txt");
        std::fs::write(dir.join(name), "x").unwrap();
    }
    // A listed file turned into a FIFO is never opened (it would block).
    std::fs::remove_file(dir.join("report.txt")).unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.join("report.txt"))
        .status()
        .unwrap();
    assert!(made.success());
    // A listed file grown to a terabyte (sparse) is found changed by its
    // size, never hashed for hours.
    let huge = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("snapshot.json"))
        .unwrap();
    huge.set_len(1 << 40).unwrap();
    let started = std::time::Instant::now();
    let result = verify(&dir, None);
    assert!(
        result
            .stdout
            .contains("FAIL changed: snapshot.json (SHA-256 differs; 1099511627776 bytes"),
        "{}",
        result.stdout
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(result.code, 1, "{}", result.all());
    assert!(
        result
            .stdout
            .contains("FAIL missing: policies/builtin/images.rego"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("FAIL extra: policies/builtin/extra.rego"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("FAIL extra: link"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("FAIL extra: report\\xff.txt (not in the manifest)"),
        "{}",
        result.stdout
    );
    // Not an evidence directory at all: cannot be checked.
    let result = verify(scratch.path(), None);
    assert_eq!(result.code, 2, "{}", result.all());
}

#[test]
fn signatures_hold_for_the_right_key_only() {
    let scratch = tempfile::tempdir().unwrap();
    let (private, public) = openssl_key(scratch.path(), "right");
    let (_, other) = openssl_key(scratch.path(), "other");
    let dir = scratch.path().join("evidence");
    scan_into(&dir, &["--sign-key", private.to_str().unwrap()]);
    let result = verify(&dir, Some(&public));
    assert_eq!(result.code, 0, "{}", result.all());
    assert!(
        result.stdout.contains("signed by SHA256:"),
        "{}",
        result.stdout
    );
    let result = verify(&dir, Some(&other));
    assert_eq!(result.code, 1, "{}", result.all());
    assert!(
        result.stdout.contains("FAIL wrong key"),
        "{}",
        result.stdout
    );
    // With --integrity-only, the signature is checked against the key the
    // manifest names, and the OK line says the signer was not checked.
    let result = verify(&dir, None);
    assert_eq!(result.code, 0, "{}", result.all());
    assert!(result.stdout.contains("give --key"), "{}", result.stdout);
    // Without either, verify refuses: a re-signed directory would pass.
    let bare = crate::common::finish(
        crate::common::driftaudit()
            .env_remove("DRIFTAUDIT_VERIFY_KEY")
            .args(["verify", dir.to_str().unwrap()]),
    );
    assert_eq!(bare.code, 2, "{}", bare.all());
    assert!(bare.stderr.contains("--integrity-only"), "{}", bare.all());
    assert!(bare.stdout.is_empty(), "{}", bare.all());
    // The key can come from the environment (a CI job pins it once).
    let pinned = crate::common::finish(
        crate::common::driftaudit()
            .env("DRIFTAUDIT_VERIFY_KEY", &other)
            .args(["verify", dir.to_str().unwrap()]),
    );
    assert_eq!(pinned.code, 1, "{}", pinned.all());
    assert!(pinned.stdout.contains("FAIL wrong key"), "{}", pinned.all());
    let conflicting = run(&[
        "verify",
        dir.to_str().unwrap(),
        "--key",
        public.to_str().unwrap(),
        "--integrity-only",
    ]);
    assert_eq!(conflicting.code, 2, "{}", conflicting.all());

    // A key made by `driftaudit keygen` works the same way; an unsigned
    // directory checked with --key fails.
    let generated = scratch.path().join("gen.key");
    let made = run(&["keygen", "--out", generated.to_str().unwrap()]);
    assert_eq!(made.code, 0, "{}", made.all());
    let unsigned = scratch.path().join("unsigned");
    scan_into(&unsigned, &[]);
    let result = verify(&unsigned, Some(&scratch.path().join("gen.key.pub")));
    assert_eq!(result.code, 1, "{}", result.all());
    assert!(result.stdout.contains("FAIL unsigned"), "{}", result.stdout);
    let signed = scratch.path().join("signed-gen");
    scan_into(&signed, &["--sign-key", generated.to_str().unwrap()]);
    let result = verify(&signed, Some(&scratch.path().join("gen.key.pub")));
    assert_eq!(result.code, 0, "{}", result.all());
    // A key that is not one is refused before the scan.
    let result = run(&[
        "scan",
        "--demo",
        "--evidence-dir",
        scratch.path().join("never").to_str().unwrap(),
        "--sign-key",
        public.to_str().unwrap(),
    ]);
    assert_eq!(result.code, 2, "{}", result.all());
    assert!(!scratch.path().join("never").exists());
}

#[test]
fn a_hostile_manifest_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("evidence");
    scan_into(&dir, &[]);
    // `../x` pointing at a real file beside the directory, with its true digest
    // and the manifest's digest recomputed: still refused.
    std::fs::write(scratch.path().join("x"), "outside\n").unwrap();
    let path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for bad in ["../x", "/etc/hostname"] {
        manifest["files"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "path": bad,
                "size": 8,
                "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
            }));
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
    std::fs::write(&path, &text).unwrap();
    let digest = {
        use sha2::Digest;
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    std::fs::write(dir.join("manifest.sha256"), format!("{digest}\n")).unwrap();
    let result = verify(&dir, None);
    assert_eq!(result.code, 1, "{}", result.all());
    assert!(
        result
            .stdout
            .contains("FAIL refused: manifest.json lists `../x`"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("FAIL refused: manifest.json lists `/etc/hostname`"),
        "{}",
        result.stdout
    );
    assert_eq!(
        result
            .stdout
            .lines()
            .filter(|l| l.starts_with("FAIL "))
            .count(),
        2,
        "{}",
        result.stdout
    );
}

#[test]
fn same_inputs_same_clock_same_bytes() {
    let scratch = tempfile::tempdir().unwrap();
    let (private, _) = openssl_key(scratch.path(), "key");
    let first = scratch.path().join("first");
    let second = scratch.path().join("second");
    for dir in [&first, &second] {
        scan_into(dir, &["--sign-key", private.to_str().unwrap()]);
    }
    assert_eq!(files_in(&first), files_in(&second));
    for file in files_in(&first) {
        assert_eq!(
            std::fs::read(first.join(&file)).unwrap(),
            std::fs::read(second.join(&file)).unwrap(),
            "{file} differs between two runs"
        );
    }
}

#[test]
fn policy_directories_are_kept_and_diff_writes_no_policies() {
    let scratch = tempfile::tempdir().unwrap();
    let policies = scratch.path().join("rules");
    std::fs::create_dir_all(policies.join("sub")).unwrap();
    let rule = "package driftaudit.custom.extra\n\nimport rego.v1\n";
    std::fs::write(policies.join("sub/extra.rego"), rule).unwrap();
    let dir = scratch.path().join("evidence");
    scan_into(&dir, &["--policy", policies.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(dir.join("policies/dir-1/sub/extra.rego")).unwrap(),
        rule
    );
    assert_eq!(verify(&dir, None).code, 0);

    // `diff` evaluates no policy: no policies or baselines in its evidence.
    let diff = scratch.path().join("diff");
    let result = run(&["diff", "--demo", "--evidence-dir", diff.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}", result.all());
    let files = files_in(&diff);
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("policies/") && f != "baselines.json"),
        "{files:?}"
    );
    assert!(files.iter().any(|f| f == "report.json"), "{files:?}");
    let result = verify(&diff, None);
    assert_eq!(result.code, 0, "{}", result.all());
}
