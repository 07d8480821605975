//! Manifest loading: a YAML or JSON file of the declared tree, read as
//! Kubernetes manifests (with `kind: List` and driftaudit's own documents) and
//! as a Traefik dynamic configuration file, on a worker-sized stack.
#![no_main]

use driftaudit::sources::declared::resources_from_text;
use driftaudit::sources::traefik::declared::resources_from_file;
use driftaudit_fuzz::on_worker_stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_worker_stack(|| {
        resources_from_text(text, "fuzz.yaml", 0, Some("0123456789abcdef"), "default");
        resources_from_file(text, "dynamic.yaml", None, &|_| None);
    });
});
