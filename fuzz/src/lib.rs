//! What the fuzz targets share: running the code under test on a stack as
//! small as production's worker threads, and turning one fuzz input into the
//! several texts a target needs (declared manifests, live objects, options).

use serde_json::{json, Map, Value};

/// Stack of a rayon worker thread (Rust's default for spawned threads), the
/// smallest stack the parsers run on in production. libFuzzer itself runs on the
/// 8 MiB main thread, where a stack overflow of a worker would go unnoticed.
pub const WORKER_STACK: usize = 2 * 1024 * 1024;

/// Runs `work` on a fresh thread with the worker stack size and returns its
/// result. A panic or stack overflow in `work` aborts the process, which
/// libFuzzer reports as a crash.
pub fn on_worker_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, work)
            .expect("spawn a worker-sized thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Line that separates the parts of a multi-part input (declared manifests,
/// live objects, ignore paths). A part missing from the input is empty.
pub const SECTION_SEPARATOR: &str = "\n%%\n";

/// The `index`-th part of a multi-part input (empty when absent).
pub fn section(text: &str, index: usize) -> &str {
    text.split(SECTION_SEPARATOR).nth(index).unwrap_or("")
}

/// A live snapshot (the format `scan --live-snapshot` reads) whose one
/// Kubernetes target holds the documents of `live_yaml`. A live document that
/// leaves out `apiVersion`, `kind`, `metadata.name` or `metadata.namespace`
/// takes them from the declared document at the same position, so the fuzzer
/// reaches the comparison of two bodies of one object without having to
/// repeat the identity in both parts.
pub fn snapshot_text(declared_yaml: &str, live_yaml: &str) -> String {
    let declared = values_of(declared_yaml);
    let resources: Vec<Value> = values_of(live_yaml)
        .into_iter()
        .enumerate()
        .map(|(index, mut object)| {
            if let (Value::Object(live), Some(Value::Object(declared))) =
                (&mut object, declared.get(index))
            {
                inherit_identity(live, declared);
            }
            json!({"source": "kubernetes", "endpoint": "https://fuzz.invalid", "object": object})
        })
        .collect();
    json!({
        "format": "driftaudit-snapshot",
        "version": 1,
        "targets": [{"name": "fuzz", "sources": ["kubernetes"], "resources": resources}],
    })
    .to_string()
}

/// The documents of a YAML text, nothing when it does not parse.
fn values_of(text: &str) -> Vec<Value> {
    driftaudit::yaml::parse_documents(text)
        .map(|documents| documents.into_iter().map(|d| d.value).collect())
        .unwrap_or_default()
}

fn inherit_identity(live: &mut Map<String, Value>, declared: &Map<String, Value>) {
    for key in ["apiVersion", "kind"] {
        if let (false, Some(value)) = (live.contains_key(key), declared.get(key)) {
            live.insert(key.to_string(), value.clone());
        }
    }
    let Some(Value::Object(declared_metadata)) = declared.get("metadata") else {
        return;
    };
    let metadata = live
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(metadata) = metadata {
        for key in ["name", "namespace"] {
            if let (false, Some(value)) = (metadata.contains_key(key), declared_metadata.get(key)) {
                metadata.insert(key.to_string(), value.clone());
            }
        }
    }
}
