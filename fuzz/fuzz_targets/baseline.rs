//! Baseline loading: a user baseline file merged over the built-in ones
//! through the public loader (which reads files), on a worker-sized stack.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use driftaudit::policy::load_baselines;
use driftaudit_fuzz::on_worker_stack;
use libfuzzer_sys::fuzz_target;

/// One scratch file per fuzzing process, rewritten for every input.
fn baseline_path() -> &'static PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        DIR.get_or_init(|| tempfile::tempdir().expect("scratch directory"))
            .path()
            .join("baseline.yaml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = baseline_path();
    std::fs::write(path, data).expect("write the baseline file");
    on_worker_stack(|| {
        let _ = load_baselines(std::slice::from_ref(path));
    });
});
