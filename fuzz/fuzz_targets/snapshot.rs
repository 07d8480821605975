//! Snapshot loading: a `--live-snapshot` file turned into live targets (with
//! the Kubernetes normalisation and Secret redaction of each object), on a
//! worker-sized stack.
#![no_main]

use driftaudit::sources::snapshot::parse_snapshot;
use driftaudit_fuzz::on_worker_stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_worker_stack(|| {
        let _ = parse_snapshot(text, "snapshot.json");
    });
});
