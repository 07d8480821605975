//! Config loading: `driftaudit.yaml` parsed, then its file globs compiled as
//! a scan compiles them, on a worker-sized stack.
#![no_main]

use driftaudit::config::Config;
use driftaudit::sources::git::FileFilter;
use driftaudit_fuzz::on_worker_stack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    on_worker_stack(|| {
        if let Ok(config) = Config::parse(text, "driftaudit.yaml") {
            let _ = FileFilter::new(&config.git.paths, &config.git.include, &config.git.exclude);
        }
    });
});
