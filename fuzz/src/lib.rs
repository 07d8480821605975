//! What the fuzz targets share: running the code under test on a stack as
//! small as production's worker threads, and turning one fuzz input into the
//! several texts a target needs (declared manifests, live objects, options).

use std::sync::Once;

use serde_json::{json, Map, Value};

/// Stack of a rayon worker thread (Rust's default for spawned threads), the
/// smallest stack the parsers run on in production. libFuzzer itself runs on the
/// 8 MiB main thread, where a stack overflow of a worker would go unnoticed.
pub const WORKER_STACK: usize = 2 * 1024 * 1024;

/// Runs `work` on a fresh thread with the worker stack size and returns its
/// result. A panic or stack overflow in `work` is a crash libFuzzer reports
/// and saves.
pub fn on_worker_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    catch_stack_overflows();
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || {
                let _signal_stack = SignalStack::install();
                work()
            })
            .expect("spawn a worker-sized thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Makes rayon's global pool (where scans parse files and evaluate policies)
/// report stack overflows to libFuzzer like `on_worker_stack` does. Its
/// threads keep rayon's default stack size, as in production.
pub fn catch_stack_overflows_in_rayon() {
    static POOL: Once = Once::new();
    catch_stack_overflows();
    POOL.call_once(|| {
        rayon::ThreadPoolBuilder::new()
            .start_handler(|_| std::mem::forget(SignalStack::install()))
            .build_global()
            .expect("configure rayon's global pool first");
    });
}

/// A stack overflow hits the guard page below a thread's stack; the SIGSEGV
/// handler then has no stack to run on and the process dies silently, without
/// libFuzzer saving the input. libFuzzer installs its handler without an
/// alternate stack (unless one was asked for before it), so it is asked for
/// here, and each thread that runs code under test gets an alternate stack.
fn catch_stack_overflows() {
    static HANDLERS: Once = Once::new();
    HANDLERS.call_once(|| {
        for signal in [libc::SIGSEGV, libc::SIGBUS] {
            // SAFETY: reads the installed action and installs it again with
            // one more flag; no other thread changes signal actions.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut action) == 0 {
                    action.sa_flags |= libc::SA_ONSTACK;
                    libc::sigaction(signal, &action, std::ptr::null_mut());
                }
            }
        }
    });
}

/// Room for libFuzzer's crash handler (it writes the input to a file).
const SIGNAL_STACK: usize = 256 * 1024;

/// The calling thread's alternate signal stack, removed when dropped.
struct SignalStack {
    _memory: Box<[u8]>,
}

impl SignalStack {
    fn install() -> SignalStack {
        let mut memory = vec![0u8; SIGNAL_STACK].into_boxed_slice();
        let stack = libc::stack_t {
            ss_sp: memory.as_mut_ptr().cast(),
            ss_flags: 0,
            ss_size: SIGNAL_STACK,
        };
        // SAFETY: the memory lives as long as the returned value, which
        // disables the alternate stack before freeing it.
        unsafe { libc::sigaltstack(&stack, std::ptr::null_mut()) };
        SignalStack { _memory: memory }
    }
}

impl Drop for SignalStack {
    fn drop(&mut self) {
        let disable = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: only turns the calling thread's alternate stack off.
        unsafe { libc::sigaltstack(&disable, std::ptr::null_mut()) };
    }
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
