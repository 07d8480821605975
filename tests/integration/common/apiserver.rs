//! A test Kubernetes API server that answers as the real kube-apiserver did in
//! `fixtures/kube-apiserver/` (real captured responses): HTTPS with its own CA,
//! bearer-token auth, aggregated and legacy discovery from the captures, LISTs
//! with `limit`/`continue` pagination (the real token format and
//! `remainingItemCount`), 401/403/404/410 error bodies shaped like the captured
//! ones, text/plain 404 for unknown resources. Every request is recorded so a
//! test can check that nothing but GET was sent.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

pub const ADMIN_TOKEN: &str = "admin-4f1c9e2b7a";
pub const READER_TOKEN: &str = "reader-8d3a6b1f0c";

pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/kube-apiserver")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// A served resource, from the captured aggregated discovery.
#[derive(Clone, Debug)]
struct Served {
    group: String,
    version: String,
    plural: String,
    kind: String,
    namespaced: bool,
}

#[derive(Default)]
pub struct State {
    /// (group, plural) → objects
    objects: BTreeMap<(String, String), Vec<Value>>,
    /// (plural, namespace or "") the admin token may not list.
    forbidden: Vec<(String, String)>,
    /// The next request that carries a continue token gets 410 Gone.
    pub expire_next_continue: bool,
    /// This many LIST requests are answered 429 Too Many Requests first.
    pub throttle_lists: u32,
    /// Every LIST is answered with this Status (code, message) instead.
    pub list_status: Option<(u16, String)>,
    /// Every LIST page carries a new `continue` token, forever.
    pub endless_continue: bool,
    /// Every request: (method, path and query, user).
    pub requests: Vec<(String, String, String)>,
    /// The `User-Agent` of every request (empty when none was sent).
    pub user_agents: Vec<String>,
    resource_version: u64,
}

pub struct ApiServer {
    pub url: String,
    pub ca_pem: String,
    pub state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The CRDs of the operators whose status the tool reads (cert-manager,
/// CloudNativePG, Velero; docs/backups.md), as their published API types name
/// them (group, version, plural, kind; all namespaced, with a `status`
/// subresource): served besides the captured discovery, which has only
/// CloudNativePG's `scheduledbackups`.
const OPERATOR_RESOURCES: [(&str, &str, &str, &str); 5] = [
    ("cert-manager.io", "v1", "certificates", "Certificate"),
    ("postgresql.cnpg.io", "v1", "clusters", "Cluster"),
    ("postgresql.cnpg.io", "v1", "backups", "Backup"),
    ("velero.io", "v1", "backups", "Backup"),
    ("velero.io", "v1", "schedules", "Schedule"),
];

/// The captured `/apis` aggregated discovery with [`OPERATOR_RESOURCES`]
/// added in the same shape.
fn apis_discovery() -> Value {
    let mut list = fixture_json("apis.aggregated-discovery-v2.json");
    let items = list["items"].as_array_mut().unwrap();
    for (group, version, plural, kind) in OPERATOR_RESOURCES {
        let response_kind = json!({"group": group, "version": version, "kind": kind});
        let resource = json!({
            "resource": plural,
            "responseKind": response_kind,
            "scope": "Namespaced",
            "singularResource": kind.to_lowercase(),
            "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
            "subresources": [{"subresource": "status", "responseKind": response_kind, "verbs": ["get", "patch", "update"]}],
        });
        let index = match items.iter().position(|g| g["metadata"]["name"] == group) {
            Some(index) => index,
            None => {
                items.push(json!({"metadata": {"name": group},
                    "versions": [{"version": version, "resources": [], "freshness": "Current"}]}));
                items.len() - 1
            }
        };
        items[index]["versions"][0]["resources"]
            .as_array_mut()
            .unwrap()
            .push(resource);
    }
    list
}

fn served_resources() -> Vec<Served> {
    let mut served = Vec::new();
    for list in [
        fixture_json("api.aggregated-discovery-v2.json"),
        apis_discovery(),
    ] {
        for group in list["items"].as_array().unwrap() {
            let name = group["metadata"]["name"].as_str().unwrap_or("").to_string();
            for version in group["versions"].as_array().unwrap() {
                for resource in version["resources"].as_array().unwrap_or(&vec![]) {
                    served.push(Served {
                        group: name.clone(),
                        version: version["version"].as_str().unwrap().to_string(),
                        plural: resource["resource"].as_str().unwrap().to_string(),
                        kind: resource["responseKind"]["kind"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        namespaced: resource["scope"] == "Namespaced",
                    });
                }
            }
        }
    }
    served
}

impl ApiServer {
    pub fn start() -> ApiServer {
        ApiServer::start_with_certificate(&["127.0.0.1", "localhost"], false, "driftaudit-test-ca")
    }

    /// A server whose certificate, signed by its own CA named `ca_name`,
    /// names `names`, and has expired when `expired` (valid in 2020 only).
    pub fn start_with_certificate(names: &[&str], expired: bool, ca_name: &str) -> ApiServer {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, ca_name);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let server_key = rcgen::KeyPair::generate().unwrap();
        let mut server_params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            server_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            server_params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let tls = rustls_config(server_cert.der().to_vec(), server_key.serialize_der());
        let state = Arc::new(Mutex::new(State::default()));
        let served = Arc::new(served_resources());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
                loop {
                    tokio::select! {
                        _ = &mut stop => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let acceptor = acceptor.clone();
                            let state = thread_state.clone();
                            let served = served.clone();
                            tokio::spawn(async move {
                                let Ok(stream) = acceptor.accept(stream).await else { return };
                                let service = hyper::service::service_fn(move |request| {
                                    let state = state.clone();
                                    let served = served.clone();
                                    async move { Ok::<_, std::convert::Infallible>(answer(request, &state, &served)) }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        ApiServer {
            url: format!("https://{address}"),
            ca_pem: ca_cert.pem(),
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Stores an object as the API server would return it.
    pub fn add(&self, object: Value) {
        static SERVED: std::sync::OnceLock<Vec<Served>> = std::sync::OnceLock::new();
        let served = SERVED.get_or_init(served_resources);
        let api_version = object["apiVersion"].as_str().unwrap();
        let group = api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
            .to_string();
        let kind = object["kind"].as_str().unwrap();
        let resource = served
            .iter()
            .find(|s| s.group == group && s.kind == kind)
            .unwrap_or_else(|| panic!("{group} {kind} is not served"));
        let mut state = self.state.lock().unwrap();
        state.resource_version += 1;
        state
            .objects
            .entry((group, resource.plural.clone()))
            .or_default()
            .push(object);
    }

    pub fn forbid(&self, plural: &str, namespace: &str) {
        self.state
            .lock()
            .unwrap()
            .forbidden
            .push((plural.into(), namespace.into()));
    }

    pub fn requests(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().requests.clone()
    }

    /// A kubeconfig with contexts `admin`, `reader` (403 everywhere but
    /// discovery) and `down` (nothing listens there).
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: admin\nclusters:\n- name: test\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\n- name: down\n  cluster:\n    server: https://127.0.0.1:9\n    certificate-authority-data: {ca}\nusers:\n- name: admin\n  user:\n    token: {ADMIN_TOKEN}\n- name: reader\n  user:\n    token: {READER_TOKEN}\ncontexts:\n- name: admin\n  context:\n    cluster: test\n    user: admin\n- name: reader\n  context:\n    cluster: test\n    user: reader\n- name: down\n  context:\n    cluster: down\n    user: admin\n",
            url = self.url
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn rustls_config(cert: Vec<u8>, key: Vec<u8>) -> tokio_rustls::rustls::ServerConfig {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert)],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
        )
        .unwrap()
}

fn respond(status: u16, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .header("Audit-Id", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn status_body(code: u16, reason: &str, message: &str, details: Value) -> String {
    let mut body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    if !details.is_null() {
        body["details"] = details;
    }
    body.to_string()
}

fn query_params(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A watch (`?watch=true`, as client-go informers send after their LIST):
/// the real server keeps the stream open and sends events as objects change.
/// Objects here only change before a client starts, so the stream stays open
/// and silent until the client's `timeoutSeconds` (at most 60 s) or the
/// server's end; the request is recorded and authorized like any other.
/// Everything else goes to `handle`.
fn answer(
    request: Request<Incoming>,
    state: &Mutex<State>,
    served: &[Served],
) -> Response<WatchOr> {
    use http_body_util::BodyExt as _;
    let query = request.uri().query().unwrap_or("").to_string();
    let params = query_params(&query);
    let watch = matches!(params.get("watch").map(String::as_str), Some("true" | "1"));
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {ADMIN_TOKEN}"));
    if !(watch && authorized && request.method() == hyper::Method::GET) {
        return handle(request, state, served).map(|body| body.boxed());
    }
    {
        let mut guard = state.lock().unwrap();
        guard.requests.push((
            "WATCH".into(),
            format!("{}?{query}", request.uri().path()),
            "admin".into(),
        ));
        guard.user_agents.push(
            request
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        );
    }
    // A watch-list (`sendInitialEvents=true`, client-go's default instead of
    // a LIST since Kubernetes 1.32+): every object as ADDED, then the
    // BOOKMARK marking the end of the initial events, as the real server does.
    let mut initial = String::new();
    if params.get("sendInitialEvents").map(String::as_str) == Some("true") {
        if let Some((kind, api_version, objects, version)) =
            watched(request.uri().path(), &params, state, served)
        {
            for object in objects {
                initial.push_str(&json!({"type": "ADDED", "object": object}).to_string());
                initial.push('\n');
            }
            let bookmark = json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version,
                "metadata": {"resourceVersion": version.to_string(),
                    "annotations": {"k8s.io/initial-events-end": "true"}}}});
            initial.push_str(&bookmark.to_string());
            initial.push('\n');
        }
    }
    let seconds = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(60)
        .min(60);
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("Transfer-Encoding", "chunked")
        .body(
            SilentWatch {
                first: Some(Bytes::from(initial)).filter(|b| !b.is_empty()),
                until: Box::pin(tokio::time::sleep(std::time::Duration::from_secs(seconds))),
            }
            .boxed(),
        )
        .unwrap()
}

type WatchOr = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

/// The body of a watch that sees no change: no frame until `until`.
struct SilentWatch {
    first: Option<Bytes>,
    until: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for SilentWatch {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if let Some(first) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(first))));
        }
        match std::future::Future::poll(self.until.as_mut(), context) {
            std::task::Poll::Ready(()) => std::task::Poll::Ready(None),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// The objects a watch of `path` starts with: (kind, apiVersion, objects,
/// resourceVersion), filtered by namespace and `labelSelector` (`k=v`,
/// `k!=v`, `k`).
fn watched(
    path: &str,
    params: &BTreeMap<String, String>,
    state: &Mutex<State>,
    served: &[Served],
) -> Option<(String, String, Vec<Value>, u64)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest): (&str, &str, &[&str]) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", version, rest),
        ["apis", group, version, rest @ ..] => (group, version, rest),
        _ => return None,
    };
    let (namespace, plural) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural),
        [plural] => (None, *plural),
        _ => return None,
    };
    let resource = served
        .iter()
        .find(|s| s.group == group && s.version == version && s.plural == plural)?;
    let guard = state.lock().unwrap();
    let selector = params.get("labelSelector").cloned().unwrap_or_default();
    let objects: Vec<Value> = guard
        .objects
        .get(&(group.to_string(), plural.to_string()))
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns))
        .filter(|o| {
            selector.split(',').filter(|t| !t.is_empty()).all(|term| {
                let label = |k: &str| {
                    o["metadata"]["labels"][k.trim()]
                        .as_str()
                        .map(str::to_string)
                };
                if let Some((k, v)) = term.split_once("!=") {
                    label(k).as_deref() != Some(v)
                } else if let Some((k, v)) = term.split_once('=') {
                    label(k.trim_end_matches('=')).as_deref() == Some(v)
                } else {
                    label(term).is_some()
                }
            })
        })
        .collect();
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some((
        resource.kind.clone(),
        api_version,
        objects,
        guard.resource_version + 100,
    ))
}

fn handle(
    request: Request<Incoming>,
    state: &Mutex<State>,
    served: &[Served],
) -> Response<Full<Bytes>> {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    let user = match token.as_str() {
        ADMIN_TOKEN => "admin",
        READER_TOKEN => "reader",
        _ => "",
    };
    let agent = request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    {
        let mut guard = state.lock().unwrap();
        guard
            .requests
            .push((method.clone(), format!("{path}?{query}"), user.to_string()));
        guard.user_agents.push(agent);
    }
    if user.is_empty() {
        return respond(
            401,
            "application/json",
            fixture("bogus-token.deployments.list.401.json"),
        );
    }
    if method != "GET" {
        return respond(
            405,
            "application/json",
            status_body(
                405,
                "MethodNotAllowed",
                "the test server is read-only",
                Value::Null,
            ),
        );
    }
    let accept = request
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let aggregated = accept.contains("apidiscovery.k8s.io");
    let discovery_type = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    match path.as_str() {
        "/api" if aggregated => {
            return respond(
                200,
                discovery_type,
                fixture("api.aggregated-discovery-v2.json"),
            )
        }
        "/apis" if aggregated => return respond(200, discovery_type, apis_discovery().to_string()),
        "/api" => return respond(200, "application/json", fixture("api.json")),
        "/apis" => return respond(200, "application/json", fixture("apis.json")),
        "/version" => return respond(200, "application/json", fixture("version.json")),
        _ => {}
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest): (&str, &str, &[&str]) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", version, rest),
        ["apis", group, version, rest @ ..] => (group, version, rest),
        _ => {
            return respond(
                404,
                "text/plain; charset=utf-8",
                "404 page not found\n".into(),
            )
        }
    };
    // Discovery of one group version (client-go asks it before using a group).
    if rest.is_empty() {
        let file = if group.is_empty() {
            format!("api-{version}.resource-list.json")
        } else {
            format!("apis-{group}-{version}.resource-list.json")
        };
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/kube-apiserver")
            .join(&file);
        if path.is_file() {
            return respond(200, "application/json", fixture(&file));
        }
    }
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => {
            return respond(
                404,
                "text/plain; charset=utf-8",
                "404 page not found\n".into(),
            )
        }
    };
    let Some(resource) = served
        .iter()
        .find(|s| s.group == group && s.version == version && s.plural == plural)
    else {
        return respond(
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".into(),
        );
    };
    let group_label = if group.is_empty() {
        String::new()
    } else {
        format!(".{group}")
    };
    let verb = if name.is_some() { "get" } else { "list" };
    let forbidden = user == "reader"
        || state
            .lock()
            .unwrap()
            .forbidden
            .iter()
            .any(|(p, ns)| p == plural && (ns.is_empty() || Some(ns.as_str()) == namespace));
    if forbidden {
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".into(),
        };
        let message = format!(
            "{plural}{group_label} is forbidden: User \"{user}\" cannot {verb} resource \"{plural}\" in API group \"{group}\"{scope}"
        );
        let mut details = json!({"kind": plural});
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        if let Some(n) = name {
            details["name"] = json!(n);
        }
        return respond(
            403,
            "application/json",
            status_body(403, "Forbidden", &message, details),
        );
    }

    let mut guard = state.lock().unwrap();
    let resource_version = guard.resource_version + 100;
    let mut objects: Vec<Value> = guard
        .objects
        .get(&(group.to_string(), plural.to_string()))
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|o| {
            !resource.namespaced || namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns)
        })
        .collect();
    objects.sort_by_key(|o| {
        format!(
            "{}/{}",
            o["metadata"]["namespace"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or("")
        )
    });
    if let Some(name) = name {
        return match objects.into_iter().find(|o| o["metadata"]["name"] == name) {
            Some(object) => respond(200, "application/json", object.to_string()),
            None => respond(
                404,
                "application/json",
                status_body(
                    404,
                    "NotFound",
                    &format!("{plural}{group_label} \"{name}\" not found"),
                    json!({"name": name, "group": group, "kind": plural}),
                ),
            ),
        };
    }
    if let Some((code, message)) = guard.list_status.clone() {
        return respond(
            code,
            "application/json",
            status_body(
                code,
                if code == 403 {
                    "Forbidden"
                } else {
                    "InternalError"
                },
                &message,
                Value::Null,
            ),
        );
    }
    if guard.endless_continue {
        guard.resource_version += 1;
        let token =
            json!({"v": "meta.k8s.io/v1", "rv": guard.resource_version, "start": "endless"});
        let body = json!({"kind": format!("{}List", resource.kind), "apiVersion": if group.is_empty() { version.to_string() } else { format!("{group}/{version}") },
            "metadata": {"resourceVersion": guard.resource_version.to_string(),
                "continue": base64::engine::general_purpose::STANDARD.encode(token.to_string())},
            "items": []});
        return respond(200, "application/json", body.to_string());
    }
    if guard.throttle_lists > 0 {
        guard.throttle_lists -= 1;
        let details = json!({"causes": [{"message": "Too many requests, please try again later."}], "retryAfterSeconds": 1});
        return respond(
            429,
            "application/json",
            status_body(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
                details,
            ),
        );
    }
    let params = query_params(&query);
    if let Some(selector) = params.get("labelSelector") {
        objects.retain(|o| {
            selector.split(',').all(|term| match term.split_once('=') {
                Some((k, v)) => o["metadata"]["labels"][k.trim_end_matches('=')] == v,
                None => !o["metadata"]["labels"][term].is_null(),
            })
        });
    }
    let mut start = 0;
    if let Some(token) = params.get("continue") {
        if guard.expire_next_continue {
            guard.expire_next_continue = false;
            return respond(
                410,
                "application/json",
                fixture("deployments.list.all-namespaces.limit1.expired-continue.410.json"),
            );
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let Some(key) = decoded.as_ref().and_then(|d| d["start"].as_str()) else {
            return respond(
                400,
                "application/json",
                fixture("deployments.list.invalid-continue.400.json"),
            );
        };
        let key = key.trim_end_matches('\u{0}').to_string();
        start = objects
            .iter()
            .position(|o| {
                format!(
                    "{}/{}",
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                ) >= key
            })
            .unwrap_or(objects.len());
    }
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(objects.len());
    let built_in = !group.contains('.') || group.ends_with(".k8s.io");
    let items: Vec<Value> = objects[start..end]
        .iter()
        .cloned()
        .map(|mut o| {
            if built_in {
                let map = o.as_object_mut().unwrap();
                map.remove("kind");
                map.remove("apiVersion");
            }
            o
        })
        .collect();
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if end < objects.len() {
        let next = &objects[end];
        let key = format!(
            "{}/{}\u{0}",
            next["metadata"]["namespace"].as_str().unwrap_or(""),
            next["metadata"]["name"].as_str().unwrap_or("")
        );
        let token =
            json!({"v": "meta.k8s.io/v1", "rv": resource_version, "start": key}).to_string();
        metadata["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(token));
        metadata["remainingItemCount"] = json!(objects.len() - end);
    }
    let body = json!({"kind": format!("{}List", resource.kind), "apiVersion": api_version, "metadata": metadata, "items": items});
    respond(200, "application/json", body.to_string())
}
