//! Drift comparison. The input has up to three parts separated by a `%%`
//! line: declared manifests (YAML), live objects (YAML; each takes the
//! identity its declared counterpart at the same position gives and it leaves
//! out), and `drift.ignore` JSONPath expressions, one a line. Both sides go
//! through their real loaders; the drift is computed plain and strict, on a
//! worker-sized stack.
#![no_main]

use driftaudit::config::IgnoreRule;
use driftaudit::drift::{compute_drift, DriftOptions};
use driftaudit::model::Inventory;
use driftaudit::sources::declared::resources_from_text;
use driftaudit::sources::snapshot::parse_snapshot;
use driftaudit_fuzz::{on_worker_stack, section, snapshot_text};
use libfuzzer_sys::fuzz_target;

/// More ignore rules add nothing a few cannot reach.
const MAX_IGNORE_PATHS: usize = 4;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let declared_yaml = section(text, 0);
    let live_yaml = section(text, 1);
    let ignore: Vec<IgnoreRule> = section(text, 2)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(MAX_IGNORE_PATHS)
        .map(|path| IgnoreRule {
            object: Default::default(),
            paths: vec![path.to_string()],
        })
        .collect();
    on_worker_stack(|| {
        let (resources, _) =
            resources_from_text(declared_yaml, "declared.yaml", 0, None, "default");
        let mut declared = Inventory::default();
        for resource in resources {
            let _ = declared.insert(resource);
        }
        let Ok((targets, _)) =
            parse_snapshot(&snapshot_text(declared_yaml, live_yaml), "live.json")
        else {
            return;
        };
        for strict in [false, true] {
            let options = DriftOptions {
                strict,
                ignore: ignore.clone(),
                default_exclusions: true,
                ..DriftOptions::default()
            };
            for target in &targets {
                compute_drift(&declared, target, &options);
            }
        }
    });
});
