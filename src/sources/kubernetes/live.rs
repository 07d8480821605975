//! The live Kubernetes collector: reads a cluster the way kubectl does
//! (kubeconfig contexts, tokens, client certificates, exec plugins, or the
//! in-cluster service account) and never writes to it. Only GET requests are
//! made: discovery, then LISTs of the declared kinds in the declared namespaces
//! and of the kinds searched for unmanaged objects. What cannot be read (403,
//! a kind the cluster does not serve, an unreachable API server, a timeout,
//! a LIST that never ends, the source's deadline) becomes a coverage gap.
//!
//! Error texts are fixed categories with safe details (HTTP status code and
//! reason, the request path, an I/O error kind, a TLS alert): never a
//! kubeconfig snippet, an exec plugin's output or a server's `Status.message`,
//! any of which can carry a token.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::stream::{self, StreamExt};
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::{Client, Config};
use serde_json::Value;

use super::resource::kubernetes_resource;
use crate::model::{api_group, CoverageGap, GapKind, Inventory, Origin, Source};
use crate::model::{Deadline, LiveTarget};
use crate::sources::collect::{unread_target, Collected, Collector, LiveScope};

/// Kinds searched for unmanaged objects in managed namespaces when the config
/// does not say (`unmanaged.kinds`), besides every declared namespaced kind.
pub const DEFAULT_ORPHAN_KINDS: [&str; 14] = [
    "apps/v1/Deployment",
    "apps/v1/StatefulSet",
    "apps/v1/DaemonSet",
    "batch/v1/CronJob",
    "batch/v1/Job",
    "v1/Service",
    "v1/ConfigMap",
    "v1/Secret",
    "v1/ServiceAccount",
    "v1/PersistentVolumeClaim",
    "networking.k8s.io/v1/Ingress",
    "networking.k8s.io/v1/NetworkPolicy",
    "rbac.authorization.k8s.io/v1/Role",
    "rbac.authorization.k8s.io/v1/RoleBinding",
];

/// How to reach clusters and how hard to try.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    /// A kubeconfig file; default: `$KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// Contexts to scan, each a target; empty: the current context.
    pub contexts: Vec<String>,
    /// Use the pod's service account instead of a kubeconfig.
    pub in_cluster: bool,
    /// Limit of each request.
    pub timeout: Duration,
    /// LISTs in flight at once, per cluster.
    pub concurrency: usize,
    pub page_size: u32,
    /// The source's deadline: LISTs still running then become gaps.
    pub deadline: Option<Deadline>,
}

impl Default for KubeOptions {
    fn default() -> Self {
        KubeOptions {
            kubeconfig: None,
            contexts: Vec::new(),
            in_cluster: false,
            timeout: Duration::from_secs(30),
            concurrency: 8,
            page_size: 500,
            deadline: None,
        }
    }
}

/// What to read from each cluster: derived from the declared state.
#[derive(Debug, Clone, Default)]
pub struct ReadPlan {
    /// `(apiVersion, kind)` → namespaces to list it in (empty set: cluster-scoped).
    pub declared: BTreeMap<(String, String), BTreeSet<String>>,
    /// Names of declared cluster-scoped objects per `(group, kind)`; others are dropped.
    pub cluster_names: BTreeMap<(String, String), BTreeSet<String>>,
    /// `apiVersion/Kind` searched for unmanaged objects in `namespaces`.
    pub orphan_kinds: Vec<String>,
    pub namespaces: BTreeSet<String>,
    /// Label selector of objects that are managed wherever they are.
    pub selector: Option<String>,
}

/// One LIST to make.
#[derive(Debug, Clone)]
struct ListJob {
    resource: ApiResource,
    namespace: Option<String>,
    selector: Option<String>,
    /// A LIST for declared objects: its failure hides them from drift. A LIST
    /// only made for the unmanaged search fails as a gap all the same.
    keep_names: Option<BTreeSet<String>>,
}

/// Splits `apps/v1/Deployment` / `v1/ConfigMap` into apiVersion and kind.
fn split_kind(spec: &str) -> Option<(String, String)> {
    let (api_version, kind) = spec.rsplit_once('/')?;
    Some((api_version.to_string(), kind.to_string()))
}

/// Reads every requested cluster concurrently, one target each.
pub async fn collect(options: &KubeOptions, plan: &ReadPlan) -> Vec<LiveTarget> {
    // In-cluster, or no context named: one target, the pod's or the current context.
    let contexts: Vec<Option<String>> = if options.in_cluster || options.contexts.is_empty() {
        vec![None]
    } else {
        options.contexts.iter().cloned().map(Some).collect()
    };
    let reads = contexts
        .into_iter()
        .map(|context| collect_one(options, plan, context));
    futures::future::join_all(reads).await
}

fn gap(
    target: &str,
    endpoint: &str,
    scope: String,
    reason: String,
    kind: Option<GapKind>,
) -> CoverageGap {
    CoverageGap {
        source: Source::Kubernetes,
        target: target.to_string(),
        scope,
        reason,
        endpoint: endpoint.to_string(),
        kind,
    }
}

/// The config of one context (or of the pod), and the target's name.
async fn client_config(
    options: &KubeOptions,
    context: Option<&str>,
) -> Result<(Config, String), String> {
    if options.in_cluster {
        let config = Config::incluster().map_err(|_| {
            "in-cluster configuration: the pod's service account or KUBERNETES_SERVICE_HOST is missing or unreadable".to_string()
        })?;
        return Ok((config, "in-cluster".into()));
    }
    let kubeconfig = match &options.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(|e| {
            format!(
                "kubeconfig {}: {}",
                path.display(),
                describe_kubeconfig_error(&e)
            )
        })?,
        None => Kubeconfig::read()
            .map_err(|e| format!("kubeconfig: {}", describe_kubeconfig_error(&e)))?,
    };
    let name = match context {
        Some(c) => c.to_string(),
        None => kubeconfig
            .current_context
            .clone()
            .ok_or("the kubeconfig has no current-context; pass --kube-context")?,
    };
    let selected = KubeConfigOptions {
        context: Some(name.clone()),
        cluster: None,
        user: None,
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &selected)
        .await
        .map_err(|e| format!("context {name}: {}", describe_kubeconfig_error(&e)))?;
    Ok((config, name))
}

async fn collect_one(
    options: &KubeOptions,
    plan: &ReadPlan,
    context: Option<String>,
) -> LiveTarget {
    let mut target = LiveTarget {
        name: context.clone().unwrap_or_else(|| "current-context".into()),
        sources: vec![Source::Kubernetes],
        ..LiveTarget::default()
    };
    let (mut config, name) = match client_config(options, context.as_deref()).await {
        Ok(found) => found,
        Err(reason) => {
            target.coverage.push(gap(
                &target.name,
                "",
                "the whole cluster".into(),
                reason,
                None,
            ));
            return target;
        }
    };
    target.name = name;
    config.connect_timeout = Some(options.timeout);
    config.read_timeout = Some(options.timeout);
    config.write_timeout = Some(options.timeout);
    // One retry layer: `get_with_retry`, which knows the source's deadline
    // and the request limit. kube's own layer (429/503/504, up to 15 retries
    // honouring Retry-After) would multiply with it.
    config.default_retry = false;
    let endpoint = config.cluster_url.to_string();
    let client = match Client::try_from(config) {
        Ok(client) => client,
        Err(e) => {
            target.coverage.push(gap(
                &target.name,
                &endpoint,
                "the whole cluster".into(),
                describe_error(&e),
                None,
            ));
            return target;
        }
    };

    let discovery = match discover(&client, options).await {
        Ok(discovery) => discovery,
        Err(reason) => {
            target.coverage.push(gap(
                &target.name,
                &endpoint,
                "the whole cluster".into(),
                reason,
                None,
            ));
            return target;
        }
    };

    let (jobs, mut gaps) = plan_jobs(&discovery, plan, &target.name, &endpoint);
    target.coverage.append(&mut gaps);
    let results: Vec<(ListJob, Result<Vec<Value>, String>)> = stream::iter(jobs)
        .map(|job| {
            let client = client.clone();
            async move {
                let result = match &options.deadline {
                    Some(deadline) => {
                        tokio::time::timeout(deadline.remaining(), list_all(&client, &job, options))
                            .await
                            .unwrap_or_else(|_| Err(deadline.reason()))
                    }
                    None => list_all(&client, &job, options).await,
                };
                (job, result)
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;

    let mut inventory = Inventory::default();
    for (job, result) in results {
        match result {
            Ok(items) => {
                for item in items {
                    if let Some(resource) = live_object(item, &job, &target.name, &endpoint) {
                        // One object can come from two LISTs (declared and
                        // unmanaged search); the first copy is kept.
                        let _ = inventory.insert(resource);
                    }
                }
            }
            Err(reason) => {
                let scope = match &job.namespace {
                    Some(ns) => {
                        format!("{} {} in {ns}", job.resource.api_version, job.resource.kind)
                    }
                    None => format!(
                        "{} {} (all namespaces)",
                        job.resource.api_version, job.resource.kind
                    ),
                };
                let kind = GapKind {
                    group: job.resource.group.clone(),
                    kind: job.resource.kind.clone(),
                    namespace: job.namespace.clone().unwrap_or_default(),
                };
                target
                    .coverage
                    .push(gap(&target.name, &endpoint, scope, reason, Some(kind)));
            }
        }
    }
    target.inventory = inventory;
    target.coverage.sort();
    target.coverage.dedup();
    target
}

/// Aggregated discovery (two requests), falling back to per-group discovery
/// for API servers older than 1.26.
async fn discover(client: &Client, options: &KubeOptions) -> Result<Discovery, String> {
    let own = options.timeout * 2;
    // The earlier of the discovery limit and the source's deadline, with
    // the reason each gives.
    let limit = || match &options.deadline {
        Some(deadline) if deadline.remaining() < own => (deadline.remaining(), deadline.reason()),
        _ => (
            own,
            format!("API discovery timed out after {}s", own.as_secs()),
        ),
    };
    let (time, overdue) = limit();
    match tokio::time::timeout(time, Discovery::new(client.clone()).run_aggregated()).await {
        Ok(Ok(discovery)) => return Ok(discovery),
        Ok(Err(error @ (kube::Error::Api(_) | kube::Error::Auth(_)))) => {
            return Err(describe_error(&error));
        }
        Ok(Err(_)) => {}
        Err(_) => return Err(overdue),
    }
    let (time, overdue) = limit();
    match tokio::time::timeout(time, Discovery::new(client.clone()).run()).await {
        Ok(Ok(discovery)) => Ok(discovery),
        Ok(Err(e)) => Err(describe_error(&e)),
        Err(_) => Err(overdue),
    }
}

/// Resolves a kind through discovery: the declared version when served, else
/// the group's recommended version of that kind.
fn resolve(
    discovery: &Discovery,
    api_version: &str,
    kind: &str,
) -> Option<(ApiResource, ApiCapabilities)> {
    let group = discovery.get(api_group(api_version))?;
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    group
        .versioned_resources(version)
        .into_iter()
        .find(|(resource, _)| resource.kind == kind)
        .or_else(|| group.recommended_kind(kind))
}

fn plan_jobs(
    discovery: &Discovery,
    plan: &ReadPlan,
    target: &str,
    endpoint: &str,
) -> (Vec<ListJob>, Vec<CoverageGap>) {
    let mut jobs: BTreeMap<(String, String, Option<String>, Option<String>), ListJob> =
        BTreeMap::new();
    let mut gaps = Vec::new();
    let mut add = |resource: &ApiResource,
                   namespace: Option<String>,
                   selector: Option<String>,
                   keep: Option<BTreeSet<String>>| {
        let key = (
            resource.api_version.clone(),
            resource.plural.clone(),
            namespace.clone(),
            selector.clone(),
        );
        jobs.entry(key).or_insert_with(|| ListJob {
            resource: resource.clone(),
            namespace,
            selector,
            keep_names: keep,
        });
    };
    for ((api_version, kind), namespaces) in &plan.declared {
        match resolve(discovery, api_version, kind) {
            Some((resource, capabilities)) => match capabilities.scope {
                Scope::Cluster => {
                    let keep = plan
                        .cluster_names
                        .get(&(api_group(api_version).to_string(), kind.clone()))
                        .cloned()
                        .unwrap_or_default();
                    add(&resource, None, None, Some(keep));
                }
                Scope::Namespaced => {
                    for namespace in namespaces.iter().chain(plan.namespaces.iter()) {
                        add(&resource, Some(namespace.clone()), None, None);
                    }
                }
            },
            None => gaps.push(gap(
                target,
                endpoint,
                format!("{api_version} {kind}"),
                format!(
                    "the cluster does not serve {kind} in {} (is its CustomResourceDefinition installed?)",
                    if api_group(api_version).is_empty() { "the core group" } else { api_group(api_version) }
                ),
                Some(GapKind {
                    group: api_group(api_version).to_string(),
                    kind: kind.clone(),
                    namespace: String::new(),
                }),
            )),
        }
    }
    for spec in &plan.orphan_kinds {
        let Some((api_version, kind)) = split_kind(spec) else {
            continue;
        };
        // A kind the cluster does not serve has no unmanaged objects: no gap.
        let Some((resource, capabilities)) = resolve(discovery, &api_version, &kind) else {
            continue;
        };
        if capabilities.scope != Scope::Namespaced {
            continue;
        }
        for namespace in &plan.namespaces {
            add(&resource, Some(namespace.clone()), None, None);
        }
        if let Some(selector) = &plan.selector {
            add(&resource, None, Some(selector.clone()), None);
        }
    }
    (jobs.into_values().collect(), gaps)
}

/// A listed item as a resource: list items of built-in kinds carry no
/// `kind`/`apiVersion`, so they are set from the resource listed.
fn live_object(
    mut item: Value,
    job: &ListJob,
    target: &str,
    endpoint: &str,
) -> Option<crate::model::Resource> {
    let object = item.as_object_mut()?;
    object
        .entry("apiVersion")
        .or_insert_with(|| Value::String(job.resource.api_version.clone()));
    object
        .entry("kind")
        .or_insert_with(|| Value::String(job.resource.kind.clone()));
    if let Some(keep) = &job.keep_names {
        let name = item.pointer("/metadata/name").and_then(Value::as_str)?;
        if !keep.contains(name) {
            return None;
        }
    }
    let origin = Origin::Live {
        target: target.to_string(),
        endpoint: endpoint.to_string(),
    };
    kubernetes_resource(item, origin, None, "default").ok()
}

fn url_path(resource: &ApiResource, namespace: Option<&str>) -> String {
    let base = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{}", resource.plural),
        None => format!("{base}/{}", resource.plural),
    }
}

/// How many times a LIST starts again after its continue token expired (410).
const LIST_RESTARTS: usize = 3;
/// Pages of one LIST at most: 500 000 objects of one kind in one namespace at
/// the default page size; a server that keeps sending `continue` past it is a
/// coverage gap, not an endless loop.
pub const MAX_LIST_PAGES: usize = 1000;
/// Attempts of one request on 429, 5xx or a transport error.
const ATTEMPTS: u32 = 4;

/// Lists every page of one resource; restarts from the first page when the
/// continue token expires (410 Gone), as kubectl does.
async fn list_all(
    client: &Client,
    job: &ListJob,
    options: &KubeOptions,
) -> Result<Vec<Value>, String> {
    let path = url_path(&job.resource, job.namespace.as_deref());
    let mut restarts = 0;
    'restart: loop {
        let mut items = Vec::new();
        let mut continue_token: Option<String> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            if pages > MAX_LIST_PAGES {
                return Err(format!(
                    "GET {path}: the server sent more than {MAX_LIST_PAGES} pages (of {}); stopped reading",
                    options.page_size
                ));
            }
            let params = ListParams {
                label_selector: job.selector.clone(),
                limit: Some(options.page_size),
                continue_token: continue_token.clone(),
                ..ListParams::default()
            };
            let request = kube::core::Request::new(&path)
                .list(&params)
                .map_err(|e| format!("cannot build the request: {e}"))?;
            match get_with_retry(client, request, options.timeout).await {
                Ok(page) => {
                    if let Some(Value::Array(page_items)) = page.get("items") {
                        items.extend(page_items.iter().cloned());
                    }
                    let next = page
                        .pointer("/metadata/continue")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string);
                    if next.is_some() && next == continue_token {
                        return Err(format!(
                            "GET {path}: the server sent the same continue token twice; stopped reading"
                        ));
                    }
                    continue_token = next;
                    if continue_token.is_none() {
                        return Ok(items);
                    }
                }
                Err(Failure::Status(410, _)) if restarts < LIST_RESTARTS => {
                    restarts += 1;
                    continue 'restart;
                }
                Err(failure) => return Err(failure.describe(&path)),
            }
        }
    }
}

enum Failure {
    /// An API error: the status code and its `reason` (never its message).
    Status(u16, String),
    Transport(String),
}

impl Failure {
    fn describe(&self, path: &str) -> String {
        match self {
            Failure::Status(code, reason) => {
                format!("GET {path}: {}", describe_status(*code, reason))
            }
            Failure::Transport(message) => format!("GET {path}: {message}"),
        }
    }
}

/// A Status as a fixed label per code, with the Status `reason` (a CamelCase
/// word such as `Forbidden`) when the code has no label. `Status.message` is
/// never used: servers and proxies echo request headers into it.
fn describe_status(code: u16, reason: &str) -> String {
    let label = match code {
        401 => "401 Unauthorized (the credentials were refused)",
        403 => "403 Forbidden (the credentials may not read this)",
        404 => "404 Not Found",
        410 => "410 Gone (the list expired too often)",
        429 => "429 Too Many Requests",
        500..=599 => "server error",
        _ => "refused",
    };
    let reason_word = reason
        .chars()
        .all(|c| c.is_ascii_alphanumeric())
        .then_some(reason)
        .filter(|r| !r.is_empty());
    match (label.starts_with(&code.to_string()), reason_word) {
        (true, _) => label.to_string(),
        (false, Some(word)) => format!("{code} {word} ({label}; message not shown)"),
        (false, None) => format!("{code} ({label}; message not shown)"),
    }
}

/// A kube client error as a fixed category with safe details.
fn describe_error(error: &kube::Error) -> String {
    use kube::client::AuthError;
    match error {
        kube::Error::Api(status) => describe_status(status.code, &status.reason),
        kube::Error::Auth(auth) => match auth {
            AuthError::AuthExecStart(e) => format!(
                "authentication: the exec credential plugin could not be started ({})",
                e.kind()
            ),
            AuthError::AuthExecRun { out, .. } => format!(
                "authentication: the exec credential plugin failed ({}; its output is not shown)",
                out.status
            ),
            AuthError::AuthExec(_) | AuthError::ExecPluginFailed => {
                "authentication: the exec credential plugin failed (its output is not shown)".into()
            }
            AuthError::AuthExecParse(_) => {
                "authentication: the exec credential plugin's answer is not an ExecCredential (not shown)".into()
            }
            AuthError::ReadTokenFile(e, path) => format!(
                "authentication: cannot read the token file {} ({})",
                path.display(),
                e.kind()
            ),
            _ => "authentication: the kubeconfig's credentials could not be used".into(),
        },
        kube::Error::SerdeError(_) => "the answer is not the expected JSON".into(),
        other => format!("unreachable: {}", transport_detail(other)),
    }
}

/// What went wrong on the way to the server, from the error's causes: an I/O
/// error kind, a TLS error (rustls' own fixed texts), or a fixed phrase.
fn transport_detail(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return format!("TLS error: {tls}");
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return format!("TLS error: {tls}");
            }
            return format!("connection failed ({})", io.kind());
        }
        cause = current.source();
    }
    "the request failed".into()
}

/// A kubeconfig problem as a fixed category: never the parser's message,
/// which quotes the offending line (a token, a client key).
fn describe_kubeconfig_error(error: &kube::config::KubeconfigError) -> String {
    use kube::config::KubeconfigError as E;
    match error {
        E::ReadConfig(e, _) => format!("cannot be read ({})", e.kind()),
        E::Parse(_) => {
            "not a valid kubeconfig (YAML syntax error; the file's text is not shown)".into()
        }
        E::FindPath => "no kubeconfig found (set KUBECONFIG or pass --kubeconfig)".into(),
        E::CurrentContextNotSet => "no current-context; pass --kube-context".into(),
        E::LoadContext(_) => "the context is not in the kubeconfig".into(),
        E::LoadClusterOfContext(_) => "the context's cluster is not in the kubeconfig".into(),
        E::MissingClusterUrl => "the cluster has no server URL".into(),
        E::ParseClusterUrl(_) => "the cluster's server URL is not a valid URL".into(),
        E::LoadCertificateAuthority(_) => "cannot load the certificate authority".into(),
        E::LoadClientCertificate(_) => "cannot load the client certificate".into(),
        E::LoadClientKey(_) => "cannot load the client key".into(),
        E::ParseCertificates(_) => "the certificates are not valid PEM".into(),
        _ => "the kubeconfig cannot be used".into(),
    }
}

/// One GET, retried with backoff on 429, 5xx and transport errors.
async fn get_with_retry(
    client: &Client,
    request: http::Request<Vec<u8>>,
    timeout: Duration,
) -> Result<Value, Failure> {
    let mut last = Failure::Transport("no attempt made".into());
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt - 1))).await;
        }
        let copy = clone_request(&request);
        match tokio::time::timeout(timeout, client.request::<Value>(copy)).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(kube::Error::Api(status))) => {
                let retry = status.code == 429 || (500..=504).contains(&status.code);
                last = Failure::Status(status.code, status.reason.clone());
                if !retry {
                    return Err(last);
                }
            }
            Ok(Err(other)) => last = Failure::Transport(describe_error(&other)),
            Err(_) => last = Failure::Transport(format!("timed out after {}s", timeout.as_secs())),
        }
    }
    Err(last)
}

fn clone_request(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .body(request.body().clone())
        .expect("a copy of a valid request");
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// What to read for a declared inventory: its kinds in its namespaces, plus
/// the unmanaged search.
pub fn read_plan(
    declared: &Inventory,
    managed_namespaces: &BTreeSet<String>,
    orphan_kinds: &[String],
    selector: Option<String>,
) -> ReadPlan {
    let mut plan = ReadPlan {
        namespaces: managed_namespaces.clone(),
        selector,
        ..ReadPlan::default()
    };
    let mut orphans: BTreeSet<String> = orphan_kinds.iter().cloned().collect();
    for resource in declared
        .iter()
        .filter(|r| r.identity.source == Source::Kubernetes)
    {
        let key = (resource.api_version.clone(), resource.identity.kind.clone());
        let namespaces = plan.declared.entry(key).or_default();
        if resource.identity.namespace.is_empty() {
            plan.cluster_names
                .entry((
                    resource.identity.group.clone(),
                    resource.identity.kind.clone(),
                ))
                .or_default()
                .insert(resource.identity.name.clone());
        } else {
            namespaces.insert(resource.identity.namespace.clone());
            orphans.insert(format!(
                "{}/{}",
                resource.api_version, resource.identity.kind
            ));
        }
    }
    plan.orphan_kinds = orphans.into_iter().collect();
    plan
}

/// A Kubernetes live source: one target per context (or the pod's cluster).
impl Collector for KubeOptions {
    fn label(&self) -> String {
        format!("kubernetes {}", self.target_names().join(", "))
    }

    fn collect(&self, scope: &LiveScope<'_>, deadline: Deadline) -> BoxFuture<'static, Collected> {
        let plan = read_plan(
            scope.declared,
            scope.managed_namespaces,
            scope.orphan_kinds,
            scope.managed_selector.map(str::to_string),
        );
        let mut options = self.clone();
        options.deadline = Some(deadline);
        async move { Collected::from(collect(&options, &plan).await) }.boxed()
    }

    fn unread(&self, reason: &str) -> Vec<LiveTarget> {
        self.target_names()
            .into_iter()
            .map(|name| {
                unread_target(
                    name,
                    Source::Kubernetes,
                    "the whole cluster".into(),
                    String::new(),
                    reason,
                )
            })
            .collect()
    }
}

impl KubeOptions {
    /// How reports name the targets of these options.
    fn target_names(&self) -> Vec<String> {
        if self.in_cluster {
            vec!["in-cluster".into()]
        } else if self.contexts.is_empty() {
            vec!["current-context".into()]
        } else {
            self.contexts.clone()
        }
    }
}
