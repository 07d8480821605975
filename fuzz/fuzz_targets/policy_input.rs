//! Policy-input building, end to end: a whole `driftaudit scan` of a declared
//! directory against a live snapshot, with the built-in policies evaluated and
//! the report rendered as JSON and text. The input has up to two parts
//! separated by a `%%` line: the declared manifest file and the live objects
//! (as in the `drift` target). The scan runs where the CLI runs it (the main
//! thread; parsing and policy evaluation go to rayon's worker threads).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use driftaudit::drift::DriftOptions;
use driftaudit::report::text::{Style, TextOptions};
use driftaudit::scan::{run_scan, ScanOptions};
use driftaudit::sources::declared::DeclaredOptions;
use driftaudit::sources::git::{DeclaredTree, FileFilter};
use driftaudit::sources::snapshot::SnapshotSource;
use driftaudit_fuzz::{catch_stack_overflows_in_rayon, section, snapshot_text};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

/// A fixed scan clock: the output depends on the input only.
const SCAN_CLOCK: i64 = 1_780_000_000;

struct Scratch {
    _dir: tempfile::TempDir,
    manifest: PathBuf,
    snapshot: PathBuf,
    options: ScanOptions,
}

/// One scratch directory per fuzzing process; its files are rewritten for
/// every input.
fn scratch() -> &'static Scratch {
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let dir = tempfile::tempdir().expect("scratch directory");
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).expect("declared directory");
        let snapshot = dir.path().join("live.json");
        let include = ["**/*.yaml".to_string()];
        let options = ScanOptions {
            declared: Some(DeclaredOptions {
                tree: DeclaredTree::Directory(repo.clone()),
                filter: FileFilter::new(&[], &include, &[]).expect("valid globs"),
                kustomize: Vec::new(),
                auto_kustomize: false,
                default_namespace: "default".into(),
                helm: Default::default(),
                traefik: globset::GlobSet::empty(),
                environments: Default::default(),
                environment: None,
            }),
            declared_label: "fuzz".into(),
            live: vec![std::sync::Arc::new(SnapshotSource(snapshot.clone()))],
            live_timeouts: Default::default(),
            orphan_kinds: Vec::new(),
            policy_dirs: Vec::new(),
            baselines: driftaudit::policy::load_baselines(&[]).expect("the built-in baselines load"),
            disabled_rules: Vec::new(),
            workloads: Vec::new(),
            drift: DriftOptions {
                default_exclusions: true,
                ..DriftOptions::default()
            },
            now: OffsetDateTime::from_unix_timestamp(SCAN_CLOCK).expect("valid clock"),
            // The CLI's defaults.
            policy_timeout: Some(std::time::Duration::from_secs(300)),
            policy_memory: Some(2048 << 20),
            evaluate_policies: true,
            waivers: Default::default(),
            // Every framework: the controls section is built from hostile input too.
            frameworks: ["cis-k8s", "nsa-cisa", "pss", "iso27001", "soc2"]
                .map(String::from)
                .to_vec(),
            fail_on: None,
            fail_on_drift: false,
            allow_partial: false,
            compare: None,
            owners: Default::default(),
        };
        Scratch {
            manifest: repo.join("fuzz.yaml"),
            snapshot,
            options,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    catch_stack_overflows_in_rayon();
    let scratch = scratch();
    let declared_yaml = section(text, 0);
    let live_yaml = section(text, 1);
    std::fs::write(&scratch.manifest, declared_yaml).expect("write the manifest");
    std::fs::write(&scratch.snapshot, snapshot_text(declared_yaml, live_yaml))
        .expect("write the snapshot");
    let report = run_scan(&scratch.options);
    driftaudit::report::json::render(&report);
    let text_options = TextOptions {
        style: Style { color: false },
        diffs: true,
        list_in_sync: true,
        list_suppressed: true,
    };
    driftaudit::report::text::render(&report, &text_options);
});
