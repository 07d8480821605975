//! Renders Helm charts with the real `helm template`, offline and in private
//! scratch space: the chart is copied out of the tree into a scratch folder,
//! helm runs there with an emptied environment (its cache, config, data and
//! plugin folders inside the scratch folder, plugins off), in a process group
//! of its own, under a time limit and an output limit. No flag that fetches
//! (`--dependency-update`, a repository URL) is ever passed: a chart whose
//! dependencies are not vendored under `charts/` is not rendered at all.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::scratch::{run_until_capped, RunFailure};
use crate::sources::git::escape_control;

/// How long one chart may take to render.
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);
/// The most helm may print (each of stdout and stderr).
const OUTPUT_LIMIT: usize = 64 * 1024 * 1024;
/// How much of helm's error output a diagnostic shows.
const STDERR_LINES: usize = 5;
const STDERR_LINE_CHARS: usize = 300;

/// One `helm template` run.
pub struct Render<'a> {
    pub release: &'a str,
    /// The chart folder (inside the scratch folder).
    pub chart: &'a Path,
    pub namespace: &'a str,
    /// Values files (inside the scratch folder), in the order given.
    pub values: &'a [PathBuf],
    /// A private folder for helm's home, caches and config.
    pub home: &'a Path,
    /// Scratch paths shown in helm's messages are replaced by these names
    /// (the folder as the repository names it).
    pub shown_as: &'a [(PathBuf, String)],
}

/// Why a chart was not rendered.
#[derive(Debug)]
pub enum HelmError {
    /// `helm` could not be run.
    Io(std::io::Error),
    /// helm was stopped at its time limit.
    TimedOut { limit: Duration },
    /// helm printed more than the output limit.
    TooLarge { limit: usize },
    /// helm failed: the first lines of its error output, made printable.
    Failed { stderr: String },
    /// helm printed something that is not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for HelmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HelmError::Io(e) => write!(f, "running `helm template`: {e}"),
            HelmError::TimedOut { limit } => write!(
                f,
                "`helm template` did not finish within its {} s limit and was stopped",
                limit.as_secs()
            ),
            HelmError::TooLarge { limit } => write!(
                f,
                "`helm template` printed more than {} MiB and was stopped",
                limit / (1024 * 1024)
            ),
            HelmError::Failed { stderr } => write!(f, "`helm template` failed: {stderr}"),
            HelmError::NotUtf8 => f.write_str("`helm template` printed invalid UTF-8"),
        }
    }
}

impl std::error::Error for HelmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HelmError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Whether an executable `helm` is on PATH.
pub fn on_path() -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join("helm"))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The arguments of `helm`: `template RELEASE CHART --namespace NS
/// [--values FILE]... --include-crds` (CRDs included, as Argo CD does).
pub fn arguments(render: &Render) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "template".into(),
        render.release.into(),
        render.chart.into(),
        "--namespace".into(),
        render.namespace.into(),
    ];
    for values in render.values {
        args.push("--values".into());
        args.push(values.into());
    }
    args.push("--include-crds".into());
    args
}

/// Renders one chart; the rendered YAML (documents with `# Source:` lines).
pub fn render(render: &Render) -> Result<String, HelmError> {
    render_within(render, RENDER_TIMEOUT, Path::new("helm"))
}

fn render_within(render: &Render, limit: Duration, program: &Path) -> Result<String, HelmError> {
    let home = render.home;
    let mut command = Command::new(program);
    command
        .args(arguments(render))
        .env_clear()
        .current_dir(home);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let inside = |name: &str| home.join(name);
    command
        .env("HOME", home)
        .env("TMPDIR", inside("tmp"))
        .env("HELM_CACHE_HOME", inside("cache"))
        .env("HELM_CONFIG_HOME", inside("config"))
        .env("HELM_DATA_HOME", inside("data"))
        .env("HELM_PLUGINS", inside("data/plugins"))
        .env("HELM_REPOSITORY_CONFIG", inside("config/repositories.yaml"))
        .env("HELM_REPOSITORY_CACHE", inside("cache/repository"))
        .env("HELM_REGISTRY_CONFIG", inside("config/registry.json"))
        .env("HELM_NO_PLUGINS", "1");
    let _ = std::fs::create_dir_all(inside("tmp"));
    let finished = run_until_capped(&mut command, Instant::now() + limit, OUTPUT_LIMIT).map_err(
        |failure| match failure {
            RunFailure::NotFound => HelmError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "helm is not on PATH",
            )),
            RunFailure::Io(e) => HelmError::Io(e),
            RunFailure::TimedOut => HelmError::TimedOut { limit },
        },
    )?;
    if finished.truncated {
        return Err(HelmError::TooLarge {
            limit: OUTPUT_LIMIT,
        });
    }
    if !finished.status.success() {
        let mut stderr = describe_stderr(&String::from_utf8_lossy(&finished.stderr), render);
        if stderr.is_empty() {
            stderr = format!("{}, with no error output", finished.status);
        }
        return Err(HelmError::Failed { stderr });
    }
    String::from_utf8(finished.stdout).map_err(|_| HelmError::NotUtf8)
}

/// The first lines of helm's error output, scratch paths replaced by the
/// repository's names, control characters escaped, long lines cut.
fn describe_stderr(stderr: &str, render: &Render) -> String {
    let mut text = stderr.to_string();
    for (path, shown) in render.shown_as {
        text = text.replace(&path.display().to_string(), shown);
    }
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        // helm's hint to rerun with --debug is no help here.
        .filter(|l| !l.is_empty() && !l.starts_with("Use --debug flag"))
        .take(STDERR_LINES)
        .map(|line| {
            let line = escape_control(line);
            if line.chars().count() > STDERR_LINE_CHARS {
                let cut: String = line.chars().take(STDERR_LINE_CHARS).collect();
                format!("{cut}…")
            } else {
                line
            }
        })
        .collect();
    lines.join(" / ")
}

/// The release name of a chart folder when the config names none: the
/// folder's name (the chart's own name for the root) made a valid release
/// name (lowercase letters, digits and `-`, at most 53 characters).
pub fn default_release(chart_dir: &str, chart_name: Option<&str>) -> String {
    let base = chart_dir
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .or(chart_name)
        .unwrap_or("release");
    let mut name: String = base
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(53);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "release".into()
    } else {
        name.to_string()
    }
}

/// The `name` of a Chart.yaml.
pub fn chart_name(chart_yaml: &str) -> Option<String> {
    let documents = crate::yaml::parse_documents(chart_yaml).ok()?;
    let document = documents.into_iter().next()?;
    document
        .value
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The dependencies a Chart.yaml lists that `vendored` (by name) says are
/// not under the chart's `charts/` folder: `(name, repository)`.
pub fn missing_dependencies(
    chart_yaml: &str,
    vendored: impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let Some(document) = crate::yaml::parse_documents(chart_yaml)
        .ok()
        .and_then(|d| d.into_iter().next())
    else {
        return Vec::new();
    };
    let text = |item: &Value, key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    document
        .value
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| (text(item, "name"), text(item, "repository")))
        .filter(|(name, _)| !name.is_empty() && !vendored(name))
        .collect()
}

/// helm's output cut into documents, each with the template its `# Source:`
/// line names (`chart/templates/x.yaml`), when it has one.
pub fn split_documents(output: &str) -> Vec<(Option<String>, String)> {
    let mut documents = Vec::new();
    let mut source = None;
    let mut text = String::new();
    let mut flush = |source: &mut Option<String>, text: &mut String| {
        if !text.trim().is_empty() {
            documents.push((source.take(), std::mem::take(text)));
        }
        *source = None;
        text.clear();
    };
    for line in output.lines() {
        if line.trim_end() == "---" {
            flush(&mut source, &mut text);
            continue;
        }
        if source.is_none() && text.trim().is_empty() {
            if let Some(path) = line.strip_prefix("# Source: ") {
                source = Some(path.trim().to_string());
            }
        }
        text.push_str(line);
        text.push('\n');
    }
    flush(&mut source, &mut text);
    documents
}

/// The repository file a `# Source:` path names: the chart's name replaced
/// by its folder (`web/templates/x.yaml` in `charts/web` is
/// `charts/web/templates/x.yaml`); `None` when it leaves the chart.
pub fn source_file(chart_dir: &str, source: &str) -> Option<String> {
    let (_, inside) = source.split_once('/')?;
    if inside
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return None;
    }
    Some(if chart_dir.is_empty() {
        inside.to_string()
    } else {
        format!("{chart_dir}/{inside}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_source() {
        let output = "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n---\n# Source: web/charts/db/templates/db.yaml\napiVersion: v1\nkind: ConfigMap\n";
        let documents = split_documents(output);
        assert_eq!(documents.len(), 2);
        assert_eq!(documents[0].0.as_deref(), Some("web/templates/svc.yaml"));
        assert!(documents[0].1.contains("kind: Service"));
        assert_eq!(
            source_file("charts/web", documents[1].0.as_deref().unwrap()).as_deref(),
            Some("charts/web/charts/db/templates/db.yaml")
        );
        assert_eq!(source_file("", "web/../x.yaml"), None);
        assert_eq!(
            source_file("", "web/templates/a.yaml").as_deref(),
            Some("templates/a.yaml")
        );
    }

    #[test]
    fn a_hanging_or_flooding_helm_is_stopped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("helm");
        let render = |script: &str, limit: Duration| {
            std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o700)).unwrap();
            let started = Instant::now();
            let result = render_within(
                &Render {
                    release: "web",
                    chart: dir.path(),
                    namespace: "default",
                    values: &[],
                    home: dir.path(),
                    shown_as: &[],
                },
                limit,
                &program,
            );
            (result, started.elapsed())
        };
        let (result, took) = render("sleep 60", Duration::from_secs(1));
        assert!(
            matches!(result, Err(HelmError::TimedOut { .. })),
            "{result:?}"
        );
        assert!(took < Duration::from_secs(10));
        let (result, took) = render("yes 'a: b'", Duration::from_secs(60));
        assert!(
            matches!(result, Err(HelmError::TooLarge { .. })),
            "{result:?}"
        );
        assert!(took < Duration::from_secs(30), "{took:?}");
        let (result, _) = render(
            "printf 'Error: \\033[31mbad\\n' >&2; exit 1",
            Duration::from_secs(10),
        );
        let message = result.unwrap_err().to_string();
        assert_eq!(message, "`helm template` failed: Error: \\u{1b}[31mbad");
        let (result, _) = render("env", Duration::from_secs(10));
        let environment = result.unwrap();
        assert!(environment.contains("HELM_NO_PLUGINS=1"), "{environment}");
        assert!(
            !environment.contains("CARGO"),
            "the environment is emptied: {environment}"
        );
    }

    #[test]
    fn release_names_are_valid() {
        assert_eq!(default_release("charts/My_Web", None), "my-web");
        assert_eq!(default_release("", Some("shop")), "shop");
        assert_eq!(default_release("", None), "release");
        assert_eq!(default_release("x/---", None), "release");
        assert_eq!(default_release(&"a".repeat(80), None).len(), 53);
    }

    #[test]
    fn dependencies_not_vendored_are_named() {
        let chart = "apiVersion: v2\nname: web\ndependencies:\n- name: redis\n  repository: https://charts.example.com\n- name: lib\n  repository: file://../lib\n";
        let missing = missing_dependencies(chart, |name| name == "lib");
        assert_eq!(
            missing,
            [(
                "redis".to_string(),
                "https://charts.example.com".to_string()
            )]
        );
    }
}
