//! The live Kubernetes collector: reads a cluster the way kubectl does
//! (kubeconfig contexts, tokens, client certificates, exec plugins, or the
//! in-cluster service account) and never writes to it. Only GET requests are
//! made: discovery, then LISTs of the declared kinds in the declared namespaces
//! and of the kinds searched for unmanaged objects. What cannot be read (403,
//! a kind the cluster does not serve, an unreachable API server, a timeout,
//! a LIST that never ends, the source's deadline) becomes a coverage gap.
//!
//! Error texts say what happened and name the URL: connection refused, the
//! TLS verdict on the server's certificate (not signed by the kubeconfig's CA,
//! not valid for the name, expired), a timeout with its limit, or the API's
//! status with its `reason`, and for 401/403 its `message` with anything that
//! looks like a credential cut out (`safe_status_message`). Never a kubeconfig
//! snippet, an exec plugin's output or another status message, any of which
//! can carry a token.
//!
//! `--kube-timeout` bounds each request as a whole: connecting, TLS, the
//! answer's body and every retry (`get_with_retry`); discovery gets one such
//! limit in all. Every request carries `User-Agent: driftaudit/<version>`.

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

/// What identifies the cluster without asking it: the API server URL
/// (without any user info) and the SHA-256 of the first CA certificate
/// (DER) the kubeconfig trusts for it.
fn static_identity(config: &Config) -> serde_json::Map<String, Value> {
    use sha2::Digest as _;
    let url = &config.cluster_url;
    let authority = url
        .authority()
        .map(|a| {
            a.as_str()
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    let server = format!(
        "{}://{authority}{}",
        url.scheme_str().unwrap_or("https"),
        url.path().trim_end_matches('/')
    );
    let ca = config
        .root_cert
        .as_ref()
        .and_then(|certs| certs.first())
        .map(|der| crate::evidence::hex(&sha2::Sha256::digest(der)));
    let mut identity = serde_json::Map::new();
    identity.insert("server".into(), server.into());
    identity.insert("ca_sha256".into(), ca.into());
    identity
}

/// The server version (`GET /version`) and the cluster id (the UID of the
/// `kube-system` namespace): null, with a note, when the server does not
/// tell (a 403, a timeout); never a gap or an error of the scan.
async fn asked_identity(
    client: &Client,
    timeout: Duration,
    identity: &mut serde_json::Map<String, Value>,
) {
    let mut notes: Vec<Value> = Vec::new();
    let version = tokio::time::timeout(timeout, client.apiserver_version()).await;
    let version = match version {
        Ok(Ok(info)) => Some(info.git_version),
        Ok(Err(e)) => {
            notes.push(format!("server version: {}", short_error(&e)).into());
            None
        }
        Err(_) => {
            notes.push("server version: no answer in time".into());
            None
        }
    };
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(client.clone());
    let uid = match tokio::time::timeout(timeout, namespaces.get("kube-system")).await {
        Ok(Ok(namespace)) => namespace.metadata.uid,
        Ok(Err(e)) => {
            notes.push(format!("cluster id (kube-system UID): {}", short_error(&e)).into());
            None
        }
        Err(_) => {
            notes.push("cluster id (kube-system UID): no answer in time".into());
            None
        }
    };
    identity.insert("server_version".into(), version.into());
    identity.insert("cluster_id".into(), uid.into());
    if !notes.is_empty() {
        identity.insert("notes".into(), notes.into());
    }
}

fn short_error(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("HTTP {} {}", status.code, status.reason),
        _ => "the request failed".into(),
    }
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
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    let endpoint = config.cluster_url.to_string();
    target.identity = static_identity(&config);
    let client = match Client::try_from(config) {
        Ok(client) => client,
        Err(e) => {
            target.coverage.push(gap(
                &target.name,
                &endpoint,
                "the whole cluster".into(),
                describe_error(&e, &endpoint, options.timeout),
                None,
            ));
            return target;
        }
    };

    let discovery = match discover(&client, options, &endpoint).await {
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

    asked_identity(&client, options.timeout, &mut target.identity).await;
    let (jobs, mut gaps) = plan_jobs(&discovery, plan, &target.name, &endpoint);
    target.coverage.append(&mut gaps);
    let results: Vec<(ListJob, Result<Vec<Value>, String>)> = stream::iter(jobs)
        .map(|job| {
            let client = client.clone();
            let endpoint = endpoint.as_str();
            async move {
                let result = match &options.deadline {
                    Some(deadline) => tokio::time::timeout(
                        deadline.remaining(),
                        list_all(&client, &job, options, endpoint),
                    )
                    .await
                    .unwrap_or_else(|_| Err(deadline.reason())),
                    None => list_all(&client, &job, options, endpoint).await,
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

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("driftaudit/", env!("CARGO_PKG_VERSION"));

/// Aggregated discovery (two requests), falling back to per-group discovery
/// for API servers older than 1.26. One request limit bounds it all (the
/// fallback gets what is left), or the source's deadline when that is nearer.
async fn discover(
    client: &Client,
    options: &KubeOptions,
    endpoint: &str,
) -> Result<Discovery, String> {
    let end = tokio::time::Instant::now() + options.timeout;
    let limit = || {
        let own = end.saturating_duration_since(tokio::time::Instant::now());
        match &options.deadline {
            Some(deadline) if deadline.remaining() < own => {
                (deadline.remaining(), deadline.reason())
            }
            _ => (
                own,
                format!(
                    "no answer from {endpoint} (API discovery): {}",
                    timed_out(options.timeout)
                ),
            ),
        }
    };
    let (time, overdue) = limit();
    match tokio::time::timeout(time, Discovery::new(client.clone()).run_aggregated()).await {
        Ok(Ok(discovery)) => return Ok(discovery),
        Ok(Err(error @ (kube::Error::Api(_) | kube::Error::Auth(_)))) => {
            return Err(describe_error(&error, endpoint, options.timeout));
        }
        // A transport failure is the same for the fallback: no second try.
        Ok(Err(error)) if transport_failure(&error) => {
            return Err(describe_error(&error, endpoint, options.timeout));
        }
        Ok(Err(_)) => {}
        Err(_) => return Err(overdue),
    }
    let (time, overdue) = limit();
    match tokio::time::timeout(time, Discovery::new(client.clone()).run()).await {
        Ok(Ok(discovery)) => Ok(discovery),
        Ok(Err(e)) => Err(describe_error(&e, endpoint, options.timeout)),
        Err(_) => Err(overdue),
    }
}

/// "timed out after 3s" (or "after 1.5s" for limits that are not whole seconds).
fn timed_out(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("timed out after {}s (--kube-timeout)", limit.as_secs())
    } else {
        format!(
            "timed out after {:.1}s (--kube-timeout)",
            limit.as_secs_f64()
        )
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
    endpoint: &str,
) -> Result<Vec<Value>, String> {
    let path = url_path(&job.resource, job.namespace.as_deref());
    let url = format!("{}{path}", endpoint.trim_end_matches('/'));
    let mut restarts = 0;
    'restart: loop {
        let mut items = Vec::new();
        let mut continue_token: Option<String> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            if pages > MAX_LIST_PAGES {
                return Err(format!(
                    "GET {url}: the server sent more than {MAX_LIST_PAGES} pages (of {}); stopped reading",
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
            match get_with_retry(client, request, options.timeout, &url).await {
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
                            "GET {url}: the server sent the same continue token twice; stopped reading"
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
                Err(failure) => return Err(failure.text().to_string()),
            }
        }
    }
}

enum Failure {
    /// An API error: the status code and its description.
    Status(u16, String),
    Transport(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::Status(_, text) | Failure::Transport(text) => text,
        }
    }
}

/// A Status as its code and `reason`, with a label saying what it means; for
/// 401 and 403 the API's `message` too (who was refused what), passed
/// through `safe_status_message`. Other codes never show the message:
/// servers and proxies echo request headers into it.
fn describe_status(status: &kube::core::Status, url: &str) -> String {
    let code = status.code;
    let reason = status.reason.as_str();
    let reason_word = reason
        .chars()
        .all(|c| c.is_ascii_alphanumeric())
        .then_some(reason)
        .filter(|r| !r.is_empty());
    let message = || {
        let shown = safe_status_message(&status.message);
        if shown.is_empty() {
            String::new()
        } else {
            format!(": {shown}")
        }
    };
    match code {
        401 => format!(
            "401 {} from {url}: the credentials were refused{}",
            reason_word.unwrap_or("Unauthorized"),
            message()
        ),
        403 => format!(
            "403 {} from {url}: the credentials may not read this{}",
            reason_word.unwrap_or("Forbidden"),
            message()
        ),
        404 => format!("404 Not Found from {url}"),
        410 => format!("410 Gone from {url} (the list expired too often)"),
        429 => format!("429 Too Many Requests from {url} (still after retries)"),
        _ => {
            let label = if (500..=599).contains(&code) {
                "server error"
            } else {
                "refused"
            };
            match reason_word {
                Some(word) => format!("{code} {word} from {url} ({label}; message not shown)"),
                None => format!("{code} from {url} ({label}; message not shown)"),
            }
        }
    }
}

/// A Status message fit to print: one line of at most 300 characters, with
/// every word that could be a credential replaced by `<redacted>`: the word
/// after `Bearer`, `Basic`, `token`, `Authorization:`, `password` and the
/// like; the value of `key=value` where the key is credential-named; and any
/// long run of token characters holding both letters and digits (a bearer
/// token, a JWT, a hex key). The messages kube-apiserver writes for 401/403
/// (`deployments.apps is forbidden: User "reader" cannot list resource ...`)
/// pass unchanged.
pub fn safe_status_message(message: &str) -> String {
    let printable = crate::printable::printable(message);
    let mut out: Vec<String> = Vec::new();
    let mut redact_next = false;
    for word in printable.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let lower = bare.to_ascii_lowercase();
        let shown = if redact_next || looks_like_a_credential(word) {
            "<redacted>".to_string()
        } else if let Some((key, _)) = word
            .split_once(['=', ':'])
            .filter(|(key, value)| !value.is_empty() && crate::redact::is_credential_name(key))
        {
            format!("{key}=<redacted>")
        } else {
            word.to_string()
        };
        redact_next = matches!(
            lower.as_str(),
            "bearer"
                | "basic"
                | "token"
                | "authorization"
                | "password"
                | "passwd"
                | "apikey"
                | "cookie"
                | "secret"
        ) && !word.ends_with(['.', ',', ';', '"']);
        out.push(shown);
    }
    let mut text = out.join(" ");
    if text.chars().count() > 300 {
        text = text.chars().take(300).collect::<String>() + "…";
    }
    text
}

/// A run of 20 or more token characters (letters, digits, `-_.+/=~`) holding
/// letters and digits both, quotes and brackets around it aside.
fn looks_like_a_credential(word: &str) -> bool {
    let core = word.trim_matches(|c: char| {
        matches!(
            c,
            '"' | '\'' | '(' | ')' | '[' | ']' | ',' | ';' | '{' | '}'
        )
    });
    core.len() >= 20
        && core.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=' | '~')
        })
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().any(|c| c.is_ascii_alphabetic())
}

/// A kube client error as what happened, naming `url`.
fn describe_error(error: &kube::Error, url: &str, limit: Duration) -> String {
    use kube::client::AuthError;
    match error {
        kube::Error::Api(status) => describe_status(status, url),
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
        kube::Error::SerdeError(_) => format!("the answer of {url} is not the expected JSON"),
        other => transport_detail(other, url, limit),
    }
}

/// Whether an error happened on the way to the server (no HTTP answer).
fn transport_failure(error: &kube::Error) -> bool {
    matches!(
        error,
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_)
    )
}

/// What went wrong on the way to `url`, from the error's causes: the TLS
/// verdict (rustls' certificate error), a refused or failed connection (the
/// I/O error kind), a read that timed out, or a fixed phrase.
fn transport_detail(
    error: &(dyn std::error::Error + 'static),
    url: &str,
    limit: Duration,
) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    // The outermost I/O error kind, in case no TLS error is found under it.
    let mut io_kind: Option<std::io::ErrorKind> = None;
    while let Some(current) = cause {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return describe_tls(tls, url);
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
            // An I/O error wraps the TLS error (or another I/O error) as its
            // inner error, not always as its source.
            if let Some(inner) = io.get_ref() {
                cause = Some(inner as &(dyn std::error::Error + 'static));
                continue;
            }
        }
        cause = current.source();
    }
    if let Some(kind) = io_kind {
        return match kind {
            std::io::ErrorKind::ConnectionRefused => {
                format!("connection refused by {url} (is the API server running, and is the kubeconfig's server address right?)")
            }
            std::io::ErrorKind::TimedOut => format!("no answer from {url}: {}", timed_out(limit)),
            kind => format!("cannot connect to {url} ({kind})"),
        };
    }
    format!("the request to {url} failed (no answer)")
}

/// A TLS failure as what it means for the user.
fn describe_tls(error: &rustls::Error, url: &str) -> String {
    use rustls::CertificateError as C;
    let rejected = |why: String| format!("TLS: the certificate of {url} was rejected: {why}");
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            C::UnknownIssuer => rejected(
                "it is not signed by a certificate authority the kubeconfig trusts (the cluster's certificate-authority or certificate-authority-data)".into(),
            ),
            C::NotValidForName => rejected("it is not valid for the server's name (name mismatch)".into()),
            C::NotValidForNameContext { expected, presented } => rejected(format!(
                "it is not valid for {} (name mismatch; it names {})",
                expected.to_str(),
                if presented.is_empty() { "nothing".to_string() } else { presented.join(", ") }
            )),
            C::Expired => rejected("it has expired".into()),
            C::ExpiredContext { not_after, .. } => rejected(format!(
                "it expired at {}",
                unix_time(not_after.as_secs())
            )),
            C::NotValidYet => rejected("it is not valid yet".into()),
            C::NotValidYetContext { not_before, .. } => rejected(format!(
                "it is not valid before {}",
                unix_time(not_before.as_secs())
            )),
            // A CA of the same name as the kubeconfig's, but another key.
            C::BadSignature => rejected(
                "it is not signed by a certificate authority the kubeconfig trusts (its signature does not verify against the kubeconfig's CA of that name)".into(),
            ),
            other => rejected(format!("{other}")),
        },
        rustls::Error::AlertReceived(alert) => {
            format!("TLS: {url} refused the handshake (alert {alert:?}; does it want a client certificate?)")
        }
        other => format!("TLS with {url} failed: {other}"),
    }
}

/// Seconds since the epoch as an RFC 3339 time.
fn unix_time(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{seconds} (Unix time)"))
}

/// Checks, before anything is read, that the kubeconfig can be used: the file
/// (`--kubeconfig`, else each file of `KUBECONFIG`, else `~/.kube/config`)
/// exists and parses, and every context named (or the current context) is in
/// it. A mistake here is an input error naming the path (exit 2), not a gap.
pub fn check_kubeconfig(
    kubeconfig: Option<&std::path::Path>,
    contexts: &[String],
) -> Result<(), crate::model::InputError> {
    selected_contexts(kubeconfig, contexts).map(|_| ())
}

/// The namespace kubectl would give a manifest without one, for these
/// contexts (`--kube-context`, or the current context): the context's
/// `namespace` when they all name the same one; `None` when none names one or
/// they differ. The kubeconfig errors are those of `check_kubeconfig`.
pub fn context_namespace(
    kubeconfig: Option<&std::path::Path>,
    contexts: &[String],
) -> Result<Option<String>, crate::model::InputError> {
    let namespaces: std::collections::BTreeSet<Option<String>> =
        selected_contexts(kubeconfig, contexts)?
            .into_iter()
            .map(|context| context.namespace.filter(|ns| !ns.is_empty()))
            .collect();
    Ok(match namespaces.len() {
        1 => namespaces.into_iter().next().flatten(),
        _ => None,
    })
}

/// The contexts a scan reads, checked: the kubeconfig files exist and parse,
/// and each context (or the current one) is in them.
fn selected_contexts(
    kubeconfig: Option<&std::path::Path>,
    contexts: &[String],
) -> Result<Vec<kube::config::Context>, crate::model::InputError> {
    use crate::diag::{Code, Diagnostic, Place};
    let paths: Vec<PathBuf> = match kubeconfig {
        Some(path) => vec![path.to_path_buf()],
        None => match std::env::var_os("KUBECONFIG") {
            Some(list) if std::env::split_paths(&list).any(|p| !p.as_os_str().is_empty()) => {
                std::env::split_paths(&list)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            }
            _ => match std::env::home_dir() {
                Some(home) => vec![home.join(".kube").join("config")],
                None => {
                    return Err(Diagnostic::error(
                        Code::CredentialUnreadable,
                        Place::Argument("--kubeconfig".into()),
                        "no kubeconfig: no home directory, KUBECONFIG is not set and --kubeconfig is not given",
                    ))
                }
            },
        },
    };
    let named = match kubeconfig {
        Some(_) => "--kubeconfig",
        None if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) => "KUBECONFIG",
        None => "the default kubeconfig",
    };
    let mut merged = Kubeconfig::default();
    for path in &paths {
        // A device, a pipe or a huge file is not read (it could never end).
        if let Ok(meta) = std::fs::metadata(path) {
            let why = if !meta.is_file() && !meta.is_dir() {
                Some("is not a regular file")
            } else if meta.len() > 16 << 20 {
                Some("is larger than 16 MiB")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(Diagnostic::error(
                    Code::CredentialUnreadable,
                    Place::file(path.display().to_string()),
                    format!("kubeconfig {} ({named}): {why}", path.display()),
                ));
            }
        }
        let read = Kubeconfig::read_from(path).map_err(|e| {
            let what = match &e {
                kube::config::KubeconfigError::ReadConfig(io, _)
                    if io.kind() == std::io::ErrorKind::NotFound =>
                {
                    "does not exist".to_string()
                }
                other => describe_kubeconfig_error(other),
            };
            Diagnostic::error(
                Code::CredentialUnreadable,
                Place::file(path.display().to_string()),
                format!("kubeconfig {} ({named}): {what}", path.display()),
            )
        })?;
        merged = merged.merge(read).map_err(|e| {
            Diagnostic::error(
                Code::CredentialUnreadable,
                Place::file(path.display().to_string()),
                format!(
                    "kubeconfig {}: {}",
                    path.display(),
                    describe_kubeconfig_error(&e)
                ),
            )
        })?;
    }
    let shown = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let known: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
    let listed = if known.is_empty() {
        "it has no context".to_string()
    } else {
        format!("it has: {}", known.join(", "))
    };
    let context_of = |name: &str| {
        merged
            .contexts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.context.clone())
            .unwrap_or_default()
    };
    if contexts.is_empty() {
        return match &merged.current_context {
            Some(current) if known.contains(&current.as_str()) => Ok(vec![context_of(current)]),
            Some(current) => Err(Diagnostic::error(
                Code::BadFlagValue,
                Place::file(shown.clone()),
                format!(
                    "the current-context `{}` of kubeconfig {shown} is not one of its contexts ({listed})",
                    crate::printable::printable(current)
                ),
            )),
            None => Err(Diagnostic::error(
                Code::BadFlagValue,
                Place::Argument("--kube-context".into()),
                format!("kubeconfig {shown} has no current-context: pass --kube-context NAME ({listed})"),
            )),
        };
    }
    for context in contexts {
        if !known.contains(&context.as_str()) {
            return Err(Diagnostic::error(
                Code::BadFlagValue,
                Place::Argument("--kube-context".into()),
                format!(
                    "context `{}` is not in kubeconfig {shown} ({listed})",
                    crate::printable::printable(context)
                ),
            ));
        }
    }
    Ok(contexts.iter().map(|name| context_of(name)).collect())
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

/// One GET, retried with backoff on 429, 5xx and transport errors, all of it
/// (connecting, every attempt, the waits between them) within `limit`.
async fn get_with_retry(
    client: &Client,
    request: http::Request<Vec<u8>>,
    limit: Duration,
    url: &str,
) -> Result<Value, Failure> {
    let end = tokio::time::Instant::now() + limit;
    let mut last = Failure::Transport(format!("no answer from {url}: {}", timed_out(limit)));
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            let pause = Duration::from_millis(200 * 2u64.pow(attempt - 1));
            if tokio::time::Instant::now() + pause >= end {
                break;
            }
            tokio::time::sleep(pause).await;
        }
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        let copy = clone_request(&request);
        match tokio::time::timeout(left, client.request::<Value>(copy)).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(kube::Error::Api(status))) => {
                let retry = status.code == 429 || (500..=504).contains(&status.code);
                last = Failure::Status(status.code, describe_status(&status, url));
                if !retry {
                    return Err(last);
                }
            }
            Ok(Err(other)) => last = Failure::Transport(describe_error(&other, url, limit)),
            Err(_) => {
                return Err(Failure::Transport(format!(
                    "no answer from {url}: {}",
                    timed_out(limit)
                )));
            }
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
    // The backups operators take on a declared schedule are read for their
    // status (`input.facts.status`, docs/backups.md): Velero `Backup`s beside
    // a `Schedule`, CloudNativePG `Backup`s beside a `Cluster` or `ScheduledBackup`.
    let mut status_reads = Vec::new();
    for ((api_version, kind), namespaces) in &plan.declared {
        let backups = match (api_group(api_version), kind.as_str()) {
            ("velero.io", "Schedule") => "velero.io/v1",
            ("postgresql.cnpg.io", "Cluster" | "ScheduledBackup") => "postgresql.cnpg.io/v1",
            _ => continue,
        };
        status_reads.push((
            (backups.to_string(), "Backup".to_string()),
            namespaces.clone(),
        ));
    }
    for (key, namespaces) in status_reads {
        plan.declared.entry(key).or_default().extend(namespaces);
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

#[cfg(test)]
mod tests {
    use super::safe_status_message;

    #[test]
    fn status_messages_keep_what_was_refused_and_lose_credentials() {
        let forbidden = "deployments.apps is forbidden: User \"system:serviceaccount:ops:reader\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"shop\"";
        assert_eq!(safe_status_message(forbidden), forbidden);
        assert_eq!(safe_status_message("Unauthorized"), "Unauthorized");
        for (message, secret) in [
            (
                "request rejected: Authorization: Bearer kubetoken-canary-5e1d",
                "canary",
            ),
            ("bad token abc", "abc"),
            ("denied for token=s3cr3t", "s3cr3t"),
            (
                "jwt eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJ4In0.c2ln refused",
                "eyJ",
            ),
            (
                "key 0123456789abcdef0123456789abcdef unknown",
                "0123456789abcdef",
            ),
        ] {
            let shown = safe_status_message(message);
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert!(safe_status_message(&"x ".repeat(400)).chars().count() <= 301);
        assert!(!safe_status_message("a\u{1b}[31mb\nc").contains('\u{1b}'));
    }
}
