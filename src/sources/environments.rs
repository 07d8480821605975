//! Environments (`docs/environments.md`): declared sets with their own
//! identity and, for live scans, their own target. They come from the
//! config's `environments`, or, when it names none, from the repository's own
//! GitOps objects: Argo CD `Application` / `ApplicationSet` and Flux
//! `Kustomization` / `HelmRelease`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::git::{escape_control, DeclaredTree};
use super::kubernetes::helm_setting::HelmSetting;
use crate::config::is_dns_label;
use crate::config::KustomizeSetting;
use crate::diag::{Code, Place};
use crate::model::{
    CoverageGap, Identity, InputError, Inventory, LiveTarget, Origin, Resource, Source,
};

/// Argo CD's name for the cluster it runs in.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

/// One environment: the folders it covers and how they are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    /// Folders (or files) relative to the repository root; `""` is the root.
    pub paths: Vec<String>,
    /// `None`: as `git.kustomize`.
    pub kustomize: Option<KustomizeSetting>,
    pub helm: HelmSetting,
    /// Namespace of namespaced objects that name none.
    pub namespace: Option<String>,
    /// Every namespaced object goes to `namespace` (Flux `targetNamespace`).
    pub force_namespace: bool,
    /// The live target: a kubeconfig context (Argo CD `destination.name`).
    pub kube_context: Option<String>,
    /// A cluster known only by its API server URL (Argo CD
    /// `destination.server` other than in-cluster, a Flux `kubeConfig`).
    pub server: Option<String>,
    /// Where it is declared: the config entry, or the GitOps object.
    pub declared_at: Place,
    /// Where each path is named (the config line), for errors.
    pub path_places: Vec<Place>,
    /// How the report names its origin: `config`, `Argo CD Application argocd/web`.
    pub from: String,
}

impl Environment {
    /// Whether `path` (a file of the tree) is read in this environment.
    pub fn covers(&self, path: &str) -> bool {
        self.depth_of(path).is_some()
    }

    /// The length of the longest of its paths that holds `path`.
    pub fn depth_of(&self, path: &str) -> Option<usize> {
        self.paths
            .iter()
            .filter(|p| is_under_or_is(path, p))
            .map(|p| if p.is_empty() { 0 } else { p.len() + 1 })
            .max()
    }
}

/// What the scan was told about environments.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentSettings {
    /// The config's `environments`: when not empty, no discovery.
    pub configured: Vec<Environment>,
    /// `--environment NAME`: only these (none: every environment).
    pub selected: Vec<String>,
}

/// `path` is `dir`, or a file under it; `""` is the root.
pub fn is_under_or_is(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || (path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/')
}

/// A path as GitOps tools write it (`./apps/web/`), relative to the root.
pub fn normalize_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    parts.join("/")
}

/// Environments found in the repository's GitOps objects, with what could
/// not be followed (sources in other repositories, generators that cannot be
/// expanded) as coverage gaps naming the object.
#[derive(Debug, Default)]
pub struct Discovered {
    pub environments: Vec<Environment>,
    pub gaps: Vec<CoverageGap>,
}

/// Finds environments in `inventory` (the repository read as a whole).
/// `entries`: every file of the tree, to check paths and expand directory
/// generators. Costs one look at each resource's kind.
pub fn discover(inventory: &Inventory, entries: &[String], remotes: &[String]) -> Discovered {
    let mut found = Discovered::default();
    let dirs: BTreeSet<String> = entries
        .iter()
        .flat_map(|f| {
            let mut parents = Vec::new();
            let mut at = f.as_str();
            while let Some((dir, _)) = at.rsplit_once('/') {
                parents.push(dir.to_string());
                at = dir;
            }
            parents
        })
        .collect();
    let exists =
        |path: &str| path.is_empty() || dirs.contains(path) || entries.iter().any(|f| f == path);
    let mut candidates: Vec<(Environment, Vec<String>, String)> = Vec::new();
    for resource in inventory.iter() {
        let id = &resource.identity;
        if id.source != Source::Kubernetes || resource.generate_name.is_some() {
            continue;
        }
        let outcome = match (id.group.as_str(), id.kind.as_str()) {
            ("argoproj.io", "Application") => argo_application(resource, &resource.body, remotes),
            ("argoproj.io", "ApplicationSet") => argo_application_set(resource, &dirs, remotes),
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => flux_kustomization(resource),
            ("helm.toolkit.fluxcd.io", "HelmRelease") => flux_helm_release(resource),
            _ => continue,
        };
        for item in outcome {
            match item {
                Ok(environment)
                    if environment
                        .namespace
                        .as_deref()
                        .is_some_and(|ns| !is_dns_label(ns)) =>
                {
                    found.gaps.push(gap(
                        &environment.from,
                        &environment.declared_at,
                        format!(
                            "its namespace `{}` is not a namespace name (a DNS label): what it deploys was not checked",
                            escape_control(environment.namespace.as_deref().unwrap_or_default())
                        ),
                    ));
                }
                Ok(environment) => {
                    let missing: Vec<String> = environment
                        .paths
                        .iter()
                        .filter(|p| !exists(p))
                        .cloned()
                        .collect();
                    candidates.push((environment, missing, id.namespace.clone()));
                }
                Err(gap) => found.gaps.push(gap),
            }
        }
    }
    // Names: metadata.name, qualified with the namespace when two share one.
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (environment, _, _) in &candidates {
        *count.entry(environment.name.clone()).or_default() += 1;
    }
    let mut taken = BTreeSet::new();
    for (mut environment, missing, namespace) in candidates {
        if count[&environment.name] > 1 && !namespace.is_empty() {
            environment.name = format!("{namespace}/{}", environment.name);
        }
        let base = environment.name.clone();
        let mut n = 1;
        while !taken.insert(environment.name.clone()) {
            n += 1;
            environment.name = format!("{base}#{n}");
        }
        for path in &missing {
            found.gaps.push(gap(
                &environment.from,
                &environment.declared_at,
                format!(
                    "path `{}` is not in this repository (another repository, or a typo): what it deploys was not checked",
                    escape_control(path)
                ),
            ));
        }
        environment.paths.retain(|p| !missing.contains(p));
        if !environment.paths.is_empty() {
            found.environments.push(environment);
        }
    }
    found.environments.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

type Outcome = Vec<Result<Environment, CoverageGap>>;

fn gap(from: &str, at: &Place, reason: String) -> CoverageGap {
    CoverageGap {
        source: Source::Kubernetes,
        target: "declared".into(),
        scope: format!("{from} ({at})"),
        reason,
        endpoint: String::new(),
        kind: None,
    }
}

fn place_of(resource: &Resource) -> Place {
    match &resource.origin {
        Origin::Declared { file, line, .. } => Place::line(file, *line),
        Origin::Live { endpoint, .. } => Place::Endpoint(endpoint.clone()),
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn qualified(kind: &str, resource: &Resource, name: &str) -> String {
    let namespace = &resource.identity.namespace;
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

/// The URLs the declared repository is known by (its Git remotes),
/// normalised; empty when the tree root is not a Git repository or it has no
/// remote (then only the paths say what is in this repository).
pub fn remote_urls(tree: &DeclaredTree) -> Vec<String> {
    let root = match tree {
        DeclaredTree::GitRef { repo, .. } => repo,
        DeclaredTree::Directory(dir) => dir,
    };
    let Ok(repo) = git2::Repository::open(root) else {
        return Vec::new();
    };
    let Ok(names) = repo.remotes() else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for name in names.iter().flatten().flatten() {
        if let Ok(remote) = repo.find_remote(name) {
            if let Ok(url) = remote.url() {
                urls.push(normalize_url(url));
            }
        }
    }
    urls.sort();
    urls.dedup();
    urls
}

/// A Git URL as a comparable `host/path`: scheme, user, `.git` and a
/// trailing `/` left out, scp-like `host:path` read as `host/path`, the
/// host in lowercase.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let (rest, scp) = match url.split_once("://") {
        Some((_, rest)) => (rest, false),
        None => (url, true),
    };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let (host, path) = if scp {
        rest.split_once(':').unwrap_or((rest, ""))
    } else {
        rest.split_once('/').unwrap_or((rest, ""))
    };
    // A port (`host:22`) says nothing about which repository it is.
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    format!("{host}/{}", path.trim_matches('/'))
}

/// An Argo CD Application (or one an ApplicationSet generates: `body`).
fn argo_application(resource: &Resource, body: &Value, remotes: &[String]) -> Outcome {
    let name = text(body, "/metadata/name").unwrap_or(&resource.identity.name);
    let from = qualified("Argo CD Application", resource, name);
    let at = place_of(resource);
    let mut sources: Vec<&Value> = Vec::new();
    if let Some(source) = body.pointer("/spec/source").filter(|s| s.is_object()) {
        sources.push(source);
    }
    if let Some(Value::Array(list)) = body.pointer("/spec/sources") {
        sources.extend(list.iter().filter(|s| s.is_object()));
    }
    let mut out = Vec::new();
    let mut paths = Vec::new();
    let mut helm = HelmSetting::default();
    for source in sources {
        let repo = text(source, "/repoURL").unwrap_or("(no repoURL)");
        if let Some(chart) = text(source, "/chart") {
            out.push(Err(gap(
                &from,
                &at,
                format!(
                    "Helm chart `{}` from `{}` is in another repository: what it deploys was not checked",
                    escape_control(chart),
                    escape_control(repo)
                ),
            )));
            continue;
        }
        let Some(path) = source.get("path").and_then(Value::as_str) else {
            // A `ref` source only lends values files to the others.
            if source.get("ref").is_none() {
                out.push(Err(gap(
                    &from,
                    &at,
                    format!(
                        "a source of `{}` names neither a path nor a chart: not checked",
                        escape_control(repo)
                    ),
                )));
            }
            continue;
        };
        let elsewhere = !remotes.is_empty()
            && text(source, "/repoURL").is_some_and(|url| !remotes.contains(&normalize_url(url)));
        if elsewhere {
            out.push(Err(gap(
                &from,
                &at,
                format!(
                    "its source `{}` is another repository than this one (`{}`): path `{}` was not checked",
                    escape_control(repo),
                    escape_control(&remotes.join("`, `")),
                    escape_control(path)
                ),
            )));
            continue;
        }
        let path = normalize_path(path);
        if let Some(values) = source.pointer("/helm/valueFiles").and_then(Value::as_array) {
            for file in values.iter().filter_map(Value::as_str) {
                // `$ref/...` names another source's files: not followed.
                if !file.starts_with('$') && !file.contains("://") {
                    helm.values.push(normalize_path(&format!("{path}/{file}")));
                }
            }
        }
        if let Some(release) = text(source, "/helm/releaseName") {
            helm.release = Some(release.to_string());
        }
        paths.push(path);
    }
    if paths.is_empty() {
        if out.is_empty() {
            out.push(Err(gap(
                &from,
                &at,
                "it names no source path: not checked".into(),
            )));
        }
        return out;
    }
    let server = text(body, "/spec/destination/server").filter(|s| *s != IN_CLUSTER);
    let context = text(body, "/spec/destination/name").filter(|s| *s != "in-cluster");
    out.push(Ok(Environment {
        name: name.to_string(),
        paths,
        kustomize: None,
        helm,
        namespace: text(body, "/spec/destination/namespace").map(str::to_string),
        force_namespace: false,
        kube_context: context.map(str::to_string),
        server: if context.is_some() {
            None
        } else {
            server.map(str::to_string)
        },
        declared_at: at,
        path_places: Vec::new(),
        from,
    }));
    out
}

/// An ApplicationSet: its list and Git directory generators expanded into
/// Applications; any other generator is a gap naming it.
fn argo_application_set(
    resource: &Resource,
    dirs: &BTreeSet<String>,
    remotes: &[String],
) -> Outcome {
    let body = &resource.body;
    let from = qualified("Argo CD ApplicationSet", resource, &resource.identity.name);
    let at = place_of(resource);
    let go = body
        .pointer("/spec/goTemplate")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(template) = body.pointer("/spec/template").filter(|t| t.is_object()) else {
        return vec![Err(gap(
            &from,
            &at,
            "it has no template: not checked".into(),
        ))];
    };
    let generators = match body.pointer("/spec/generators") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        _ => {
            return vec![Err(gap(
                &from,
                &at,
                "it has no generators: not checked".into(),
            ))]
        }
    };
    let mut out = Vec::new();
    for (i, generator) in generators.iter().enumerate() {
        let params: Vec<Map<String, Value>> = if let Some(list) = generator.get("list") {
            match list.get("elements") {
                Some(Value::Array(elements)) => elements
                    .iter()
                    .filter_map(|e| e.as_object().cloned())
                    .collect(),
                _ => {
                    out.push(Err(gap(
                        &from,
                        &at,
                        format!("generators[{i}] (list) has no elements it can read (elementsYaml is not expanded): not checked"),
                    )));
                    continue;
                }
            }
        } else if let Some(git) = generator
            .get("git")
            .filter(|g| g.get("directories").is_some())
        {
            match git_directories(git, dirs) {
                Some(found) => found.iter().map(|d| directory_params(d, go)).collect(),
                None => {
                    out.push(Err(gap(
                        &from,
                        &at,
                        format!("generators[{i}] (git directories) has a pattern that is not a glob: not checked"),
                    )));
                    continue;
                }
            }
        } else {
            let kind = generator
                .as_object()
                .and_then(|g| g.keys().find(|k| *k != "selector").cloned())
                .unwrap_or_else(|| "empty".into());
            out.push(Err(gap(
                &from,
                &at,
                format!(
                    "generators[{i}] ({}) cannot be expanded by driftaudit: the Applications it makes were not checked; declare them in the config's `environments`",
                    escape_control(&kind)
                ),
            )));
            continue;
        };
        for element in params {
            let expanded = substitute(template, &element, go);
            let leftover = serde_json::to_string(&expanded)
                .map(|s| s.contains("{{"))
                .unwrap_or(true);
            if leftover {
                out.push(Err(gap(
                    &from,
                    &at,
                    format!("generators[{i}]: a template parameter has no value in the generator, so an Application could not be made: not checked"),
                )));
                continue;
            }
            for made in argo_application(resource, &expanded, remotes) {
                out.push(made.map(|mut environment| {
                    environment.from = format!("{} (from {from})", environment.from);
                    environment
                }));
            }
        }
    }
    out
}

/// The tree's folders a Git directory generator selects; `None` when a
/// pattern is not a glob.
fn git_directories(git: &Value, dirs: &BTreeSet<String>) -> Option<Vec<String>> {
    let mut include = globset::GlobSetBuilder::new();
    let mut exclude = globset::GlobSetBuilder::new();
    for entry in git.get("directories")?.as_array()? {
        let pattern = normalize_path(entry.get("path")?.as_str()?);
        let glob = globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .ok()?;
        if entry.get("exclude").and_then(Value::as_bool) == Some(true) {
            exclude.add(glob);
        } else {
            include.add(glob);
        }
    }
    let (include, exclude) = (include.build().ok()?, exclude.build().ok()?);
    Some(
        dirs.iter()
            .filter(|d| include.is_match(d.as_str()) && !exclude.is_match(d.as_str()))
            .cloned()
            .collect(),
    )
}

/// The parameters of one directory: `path`, `path.basename`,
/// `path.basenameNormalized`, `path[n]` (Go templates: `.path.path`, ...).
fn directory_params(dir: &str, go: bool) -> Map<String, Value> {
    let basename = dir.rsplit('/').next().unwrap_or(dir).to_string();
    let normalized: String = basename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut params = Map::new();
    if go {
        let mut path = Map::new();
        path.insert("path".into(), dir.into());
        path.insert("basename".into(), basename.into());
        path.insert("basenameNormalized".into(), normalized.into());
        path.insert(
            "segments".into(),
            Value::Array(dir.split('/').map(Value::from).collect()),
        );
        params.insert("path".into(), Value::Object(path));
    } else {
        params.insert("path".into(), dir.into());
        params.insert("path.basename".into(), basename.into());
        params.insert("path.basenameNormalized".into(), normalized.into());
        for (i, segment) in dir.split('/').enumerate() {
            params.insert(format!("path[{i}]"), segment.into());
        }
    }
    params
}

/// The value of a placeholder's expression, as text.
fn lookup(params: &Map<String, Value>, expression: &str, go: bool) -> Option<String> {
    let expression = expression.trim();
    let found = if go {
        let mut at: Option<&Value> = None;
        for (i, key) in expression.strip_prefix('.')?.split('.').enumerate() {
            at = if i == 0 {
                params.get(key)
            } else {
                at?.get(key)
            };
        }
        at?
    } else {
        // Flat names (`path.basename`), or nested element maps (`values.x`).
        match params.get(expression) {
            Some(value) => value,
            None => {
                let mut parts = expression.split('.');
                let mut at = params.get(parts.next()?)?;
                for key in parts {
                    at = at.get(key)?;
                }
                at
            }
        }
    };
    match found {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(found.to_string()),
        _ => None,
    }
}

/// The template with every `{{ ... }}` whose value is known replaced.
fn substitute(template: &Value, params: &Map<String, Value>, go: bool) -> Value {
    match template {
        Value::String(s) => {
            let mut result = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let Some(end) = rest[start..].find("}}") else {
                    break;
                };
                result.push_str(&rest[..start]);
                let inner = &rest[start + 2..start + end];
                match lookup(params, inner, go) {
                    Some(value) => result.push_str(&value),
                    None => result.push_str(&rest[start..start + end + 2]),
                }
                rest = &rest[start + end + 2..];
            }
            result.push_str(rest);
            Value::String(result)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| substitute(i, params, go)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, params, go)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A Flux Kustomization: `spec.path` in its source, `spec.targetNamespace`.
fn flux_kustomization(resource: &Resource) -> Outcome {
    let body = &resource.body;
    let from = qualified("Flux Kustomization", resource, &resource.identity.name);
    let at = place_of(resource);
    let source_kind = text(body, "/spec/sourceRef/kind").unwrap_or("GitRepository");
    if source_kind != "GitRepository" {
        return vec![Err(gap(
            &from,
            &at,
            format!(
                "its source is a {} (not this repository): what it deploys was not checked",
                escape_control(source_kind)
            ),
        ))];
    }
    let path = normalize_path(text(body, "/spec/path").unwrap_or("./"));
    let target = text(body, "/spec/targetNamespace");
    vec![Ok(Environment {
        name: resource.identity.name.clone(),
        paths: vec![path],
        kustomize: None,
        helm: HelmSetting::default(),
        namespace: target.map(str::to_string),
        force_namespace: target.is_some(),
        kube_context: None,
        server: text(body, "/spec/kubeConfig/secretRef/name")
            .map(|s| format!("the cluster of kubeConfig secret `{s}`")),
        declared_at: at,
        path_places: Vec::new(),
        from,
    })]
}

/// A Flux HelmRelease whose chart is a folder of a GitRepository.
fn flux_helm_release(resource: &Resource) -> Outcome {
    let body = &resource.body;
    let from = qualified("Flux HelmRelease", resource, &resource.identity.name);
    let at = place_of(resource);
    let source_kind = text(body, "/spec/chart/spec/sourceRef/kind");
    let chart = text(body, "/spec/chart/spec/chart");
    let (Some("GitRepository"), Some(chart)) = (source_kind, chart) else {
        let what = match (source_kind, chart, text(body, "/spec/chartRef/kind")) {
            (_, _, Some(kind)) => format!("its chart comes from a {}", escape_control(kind)),
            (Some(kind), Some(chart), _) => format!(
                "chart `{}` comes from a {}",
                escape_control(chart),
                escape_control(kind)
            ),
            _ => "it names no chart".into(),
        };
        return vec![Err(gap(
            &from,
            &at,
            format!("{what} (not this repository): what it deploys was not checked"),
        ))];
    };
    let helm = HelmSetting {
        values: body
            .pointer("/spec/chart/spec/valuesFiles")
            .and_then(Value::as_array)
            .map(|files| {
                files
                    .iter()
                    .filter_map(Value::as_str)
                    .map(normalize_path)
                    .collect()
            })
            .unwrap_or_default(),
        release: text(body, "/spec/releaseName").map(str::to_string),
    };
    let target = text(body, "/spec/targetNamespace")
        .or_else(|| Some(resource.identity.namespace.as_str()).filter(|n| !n.is_empty()));
    vec![Ok(Environment {
        name: resource.identity.name.clone(),
        paths: vec![normalize_path(chart)],
        kustomize: None,
        helm,
        namespace: target.map(str::to_string),
        force_namespace: false,
        kube_context: None,
        server: text(body, "/spec/kubeConfig/secretRef/name")
            .map(|s| format!("the cluster of kubeConfig secret `{s}`")),
        declared_at: at,
        path_places: Vec::new(),
        from,
    })]
}

/// Whether the environment is compared with a live target: one naming no
/// cluster is compared with every target; one naming a kubeconfig context
/// only with the Kubernetes target of that context (targets of other sources
/// say nothing about clusters); one known only by a server URL with none.
pub fn compared_with(environment: &Environment, target: &LiveTarget) -> bool {
    if !target.covers(Source::Kubernetes) {
        return true;
    }
    match (&environment.kube_context, &environment.server) {
        (Some(context), _) => *context == target.name,
        (None, Some(_)) => false,
        (None, None) => true,
    }
}

/// Ties each live object to the environment that declares it on that target
/// (its identity takes the environment's name, so drift and policies pair
/// them), and says what was not compared: environments that target another
/// cluster (coverage gaps), and objects two environments deploy to one target.
pub fn assign_live(
    environments: &[Environment],
    declared: &Inventory,
    targets: &mut [LiveTarget],
) -> (Vec<CoverageGap>, Vec<InputError>) {
    let mut gaps = Vec::new();
    let mut errors = Vec::new();
    for target in targets.iter_mut() {
        let compared: Vec<&Environment> = environments
            .iter()
            .filter(|e| compared_with(e, target))
            .collect();
        for environment in environments.iter().filter(|e| !compared_with(e, target)) {
            let has_resources = declared.iter().any(|r| {
                r.identity.environment == environment.name && target.covers(r.identity.source)
            });
            if !has_resources {
                continue;
            }
            let reason = match (&environment.kube_context, &environment.server) {
                (Some(context), _) => format!(
                    "it targets context `{}`: not compared with `{}`; run with --kube-context {} (or leave it out with --environment)",
                    escape_control(context),
                    escape_control(&target.name),
                    escape_control(context)
                ),
                (None, Some(server)) => format!(
                    "it targets {}, not a kubeconfig context: not compared with `{}`; name its context in the config's `environments` (kube_context)",
                    escape_control(server),
                    escape_control(&target.name)
                ),
                (None, None) => continue,
            };
            gaps.push(CoverageGap {
                source: Source::Kubernetes,
                target: target.name.clone(),
                scope: format!("environment `{}`", escape_control(&environment.name)),
                reason,
                endpoint: String::new(),
                kind: None,
            });
        }
        // Declared identities of the compared environments, by their live identity.
        let mut owner: BTreeMap<Identity, &Identity> = BTreeMap::new();
        for resource in declared.iter() {
            let id = &resource.identity;
            if id.environment.is_empty()
                || !target.covers(id.source)
                || !compared.iter().any(|e| e.name == id.environment)
            {
                continue;
            }
            let live = Identity {
                environment: String::new(),
                ..id.clone()
            };
            if let Some(first) = owner.get(&live) {
                errors.push(InputError::error(
                    Code::DuplicateResource,
                    place_of(resource),
                    format!(
                        "{} is declared by environments `{}` and `{}`, which both deploy to `{}`: compared as `{}`'s (give them different namespaces or contexts)",
                        live, first.environment, id.environment, target.name, first.environment
                    ),
                ));
                continue;
            }
            owner.insert(live, id);
        }
        if owner.is_empty() {
            continue;
        }
        let resources = std::mem::take(&mut target.inventory.resources);
        for (identity, mut resource) in resources {
            if let Some(declared) = owner.get(&identity) {
                resource.identity.environment = declared.environment.clone();
            }
            let _ = target.inventory.insert(resource);
        }
    }
    (gaps, errors)
}

/// The declared resources compared with `target`: those under no
/// environment and those of the environments it is compared with.
pub fn declared_for(
    environments: &[Environment],
    declared: &Inventory,
    target: &LiveTarget,
) -> Inventory {
    let compared: BTreeSet<&str> = environments
        .iter()
        .filter(|e| compared_with(e, target))
        .map(|e| e.name.as_str())
        .collect();
    let mut view = Inventory::default();
    for resource in declared.iter() {
        let environment = resource.identity.environment.as_str();
        if environment.is_empty() || compared.contains(environment) {
            let _ = view.insert(resource.clone());
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inventory(objects: &[Value]) -> Inventory {
        let mut inventory = Inventory::default();
        for (i, body) in objects.iter().enumerate() {
            let api = body["apiVersion"].as_str().unwrap();
            let resource = Resource::new(
                Source::Kubernetes,
                api,
                body["kind"].as_str().unwrap(),
                body["metadata"]["namespace"].as_str().unwrap_or(""),
                body["metadata"]["name"].as_str().unwrap(),
                body.clone(),
                Origin::Declared {
                    file: format!("gitops/{i}.yaml"),
                    line: 1,
                    commit: None,
                },
            );
            inventory.insert(resource).unwrap();
        }
        inventory
    }

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn argo_application_path_namespace_and_cluster() {
        let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web-prod", "namespace": "argocd"},
            "spec": {"source": {"repoURL": "https://git.example/repo", "path": "./envs/prod/",
                                "helm": {"valueFiles": ["values-prod.yaml"], "releaseName": "web"}},
                     "destination": {"name": "prod-cluster", "namespace": "shop"}}});
        let found = discover(&inventory(&[app]), &files(&["envs/prod/app.yaml"]), &[]);
        assert!(found.gaps.is_empty(), "{:?}", found.gaps);
        let env = &found.environments[0];
        assert_eq!(env.name, "web-prod");
        assert_eq!(env.paths, ["envs/prod"]);
        assert_eq!(env.namespace.as_deref(), Some("shop"));
        assert_eq!(env.kube_context.as_deref(), Some("prod-cluster"));
        assert_eq!(env.helm.values, ["envs/prod/values-prod.yaml"]);
        assert_eq!(env.helm.release.as_deref(), Some("web"));
        assert_eq!(env.from, "Argo CD Application argocd/web-prod");
    }

    #[test]
    fn a_destination_namespace_that_is_no_namespace_name_is_a_gap() {
        let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd"},
            "spec": {"source": {"path": "web"},
                     "destination": {"namespace": "shop\nINJECTED"}}});
        let found = discover(&inventory(&[app]), &files(&["web/cm.yaml"]), &[]);
        assert!(found.environments.is_empty());
        assert_eq!(found.gaps.len(), 1);
        assert!(
            found.gaps[0]
                .reason
                .contains("`shop\\nINJECTED` is not a namespace name"),
            "{:?}",
            found.gaps
        );
        assert!(is_dns_label("shop-2") && !is_dns_label("-shop"));
    }

    #[test]
    fn argo_chart_and_missing_path_are_gaps_naming_the_application() {
        let chart = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "redis", "namespace": "argocd"},
            "spec": {"source": {"repoURL": "https://charts.example", "chart": "redis"},
                     "destination": {"server": "https://kubernetes.default.svc"}}});
        let elsewhere = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "other", "namespace": "argocd"},
            "spec": {"source": {"repoURL": "https://git.example/other", "path": "deploy"},
                     "destination": {"server": "https://10.0.0.1:6443"}}});
        let found = discover(&inventory(&[chart, elsewhere]), &files(&["a.yaml"]), &[]);
        assert!(found.environments.is_empty());
        assert_eq!(found.gaps.len(), 2, "{:?}", found.gaps);
        assert!(found
            .gaps
            .iter()
            .any(|g| g.scope.contains("argocd/redis") && g.reason.contains("Helm chart `redis`")));
        assert!(found.gaps.iter().any(|g| g.scope.contains("argocd/other")
            && g.reason.contains("path `deploy` is not in this repository")));
    }

    #[test]
    fn application_set_list_and_git_directories() {
        let list = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "envs", "namespace": "argocd"},
            "spec": {"generators": [{"list": {"elements": [
                        {"env": "staging", "cluster": "stg"}, {"env": "production", "cluster": "prd"}]}}],
                     "template": {"metadata": {"name": "web-{{env}}"},
                        "spec": {"source": {"repoURL": "r", "path": "envs/{{env}}"},
                                 "destination": {"name": "{{cluster}}", "namespace": "web-{{ env }}"}}}}});
        let dirs = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "apps", "namespace": "argocd"},
            "spec": {"goTemplate": true,
                     "generators": [{"git": {"repoURL": "r", "revision": "HEAD",
                        "directories": [{"path": "apps/*"}, {"path": "apps/skip", "exclude": true}]}}],
                     "template": {"metadata": {"name": "{{.path.basename}}"},
                        "spec": {"source": {"repoURL": "r", "path": "{{.path.path}}"},
                                 "destination": {"server": "https://kubernetes.default.svc",
                                                 "namespace": "{{ .path.basename }}"}}}}});
        let clusters = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "fleet", "namespace": "argocd"},
            "spec": {"generators": [{"clusters": {}}], "template": {"metadata": {"name": "x"}}}});
        let tree = files(&[
            "envs/staging/d.yaml",
            "envs/production/d.yaml",
            "apps/api/d.yaml",
            "apps/ui/d.yaml",
            "apps/skip/d.yaml",
            "apps/api/deep/x.yaml",
        ]);
        let found = discover(&inventory(&[list, dirs, clusters]), &tree, &[]);
        type Row<'a> = (&'a str, &'a [String], Option<&'a str>, Option<&'a str>);
        let names: Vec<Row> = found
            .environments
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.paths.as_slice(),
                    e.namespace.as_deref(),
                    e.kube_context.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("api", &["apps/api".to_string()][..], Some("api"), None),
                ("ui", &["apps/ui".to_string()][..], Some("ui"), None),
                (
                    "web-production",
                    &["envs/production".to_string()][..],
                    Some("web-production"),
                    Some("prd")
                ),
                (
                    "web-staging",
                    &["envs/staging".to_string()][..],
                    Some("web-staging"),
                    Some("stg")
                ),
            ]
        );
        assert_eq!(found.gaps.len(), 1, "{:?}", found.gaps);
        assert!(found.gaps[0].scope.contains("ApplicationSet argocd/fleet"));
        assert!(found.gaps[0]
            .reason
            .contains("(clusters) cannot be expanded"));
    }

    #[test]
    fn unexpandable_template_parameter_is_a_gap() {
        let set = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "s", "namespace": "argocd"},
            "spec": {"generators": [{"list": {"elements": [{"env": "a"}]}}],
                     "template": {"metadata": {"name": "{{env}}"},
                        "spec": {"source": {"path": "{{folder}}"}, "destination": {}}}}});
        let found = discover(&inventory(&[set]), &files(&["a/x.yaml"]), &[]);
        assert!(found.environments.is_empty());
        assert!(found.gaps[0]
            .reason
            .contains("template parameter has no value"));
    }

    #[test]
    fn git_urls_compare_in_every_spelling() {
        let forms = [
            "https://github.com/Org/shop.git",
            "https://user@GitHub.com/Org/shop/",
            "git@github.com:Org/shop.git",
            "ssh://git@github.com:22/Org/shop",
        ];
        for form in forms {
            assert_eq!(normalize_url(form), "github.com/Org/shop", "{form}");
        }
        assert_ne!(
            normalize_url("https://github.com/Org/other"),
            "github.com/Org/shop"
        );
    }

    #[test]
    fn an_application_of_another_repository_is_a_gap_even_when_the_path_exists_here() {
        let app = |url: &str| {
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": "argocd"},
            "spec": {"source": {"repoURL": url, "path": "deploy"}, "destination": {}}})
        };
        let remotes = ["github.com/org/shop".to_string()];
        let tree = files(&["deploy/x.yaml"]);
        let here = discover(
            &inventory(&[app("git@github.com:org/shop.git")]),
            &tree,
            &remotes,
        );
        assert_eq!(here.environments.len(), 1, "{:?}", here.gaps);
        let other = discover(
            &inventory(&[app("https://github.com/org/infra")]),
            &tree,
            &remotes,
        );
        assert!(other.environments.is_empty());
        assert!(
            other.gaps[0]
                .reason
                .contains("another repository than this one"),
            "{:?}",
            other.gaps
        );
    }

    #[test]
    fn flux_kustomization_and_helm_release() {
        let kustomization = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system"},
            "spec": {"path": "./clusters/prod/apps", "targetNamespace": "shop",
                     "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}});
        let release = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": "web"},
            "spec": {"chart": {"spec": {"chart": "./charts/podinfo", "valuesFiles": ["charts/podinfo/prod.yaml"],
                     "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}}});
        let remote = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "redis", "namespace": "web"},
            "spec": {"chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}}});
        let tree = files(&["clusters/prod/apps/d.yaml", "charts/podinfo/Chart.yaml"]);
        let found = discover(&inventory(&[kustomization, release, remote]), &tree, &[]);
        assert_eq!(found.environments.len(), 2);
        let apps = &found.environments[0];
        assert_eq!(apps.paths, ["clusters/prod/apps"]);
        assert_eq!(apps.namespace.as_deref(), Some("shop"));
        assert!(apps.force_namespace);
        let podinfo = &found.environments[1];
        assert_eq!(podinfo.paths, ["charts/podinfo"]);
        assert_eq!(podinfo.namespace.as_deref(), Some("web"));
        assert_eq!(podinfo.helm.values, ["charts/podinfo/prod.yaml"]);
        assert_eq!(found.gaps.len(), 1);
        assert!(found.gaps[0]
            .reason
            .contains("chart `redis` comes from a HelmRepository"));
    }

    #[test]
    fn same_names_are_qualified_with_their_namespace() {
        let app = |ns: &str| {
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"source": {"path": "web"}, "destination": {}}})
        };
        let found = discover(
            &inventory(&[app("a"), app("b")]),
            &files(&["web/x.yaml"]),
            &[],
        );
        let names: Vec<&str> = found.environments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a/web", "b/web"]);
    }
}
