//! Traefik dynamic configuration in TOML, as the declared tree holds it, on a
//! worker-sized stack.
#![no_main]

use driftaudit::sources::traefik::declared::resources_from_file;
use driftaudit_fuzz::on_worker_stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_worker_stack(|| {
        resources_from_file(text, "dynamic.toml", None, &|_| None);
    });
});
