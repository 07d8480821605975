//! The live Traefik: what its API says runs. Reads `/api/version` (is this
//! Traefik at all?), `/api/overview`, the HTTP/TCP/UDP routers, services and
//! middlewares, the entry points and, where the version has it (3.7+),
//! `/api/certificates`, following the API's pagination. Anything unreadable
//! (unreachable, 401, a non-Traefik answer, an endless list, an answer past
//! the size cap, the source deadline) is a coverage gap naming the endpoint.
//! Error texts are fixed categories with safe details (status code, endpoint
//! without its query): never the answer's body, which a proxy may fill with
//! the request's own `Authorization` header.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    split_provider, traefik_resource, ENTRY_POINT, INTERNAL_PROVIDER, SECTIONS, TLS_CERTIFICATE,
    UNCOMPARED_KINDS,
};
use crate::facts::{summary_fact, CertificateSummary};
use crate::model::{CoverageGap, Origin, Source};
use crate::model::{Deadline, LiveTarget};
use crate::redact::endpoint_label;
use crate::sources::collect::{blocking_target, unread_target, Collected, Collector, LiveScope};

/// How to reach one Traefik API.
#[derive(Clone)]
pub struct TraefikOptions {
    /// Base URL of the API (`http://127.0.0.1:8080`), without credentials
    /// or query: what reports name.
    pub url: String,
    /// A query the API needs on every request (`token=...` for a proxy in
    /// front of it), kept apart because it may hold a credential.
    pub query: Option<String>,
    pub auth: Option<TraefikAuth>,
    /// Skip TLS verification of an `https://` API (self-signed dashboards).
    pub insecure: bool,
    pub timeout: Duration,
    /// Items per page asked of list endpoints.
    pub page_size: usize,
    /// When the whole collection must stop (the source's deadline).
    pub deadline: Option<Deadline>,
}

/// Pages read of one list at most: 100 000 objects at the default page size,
/// far beyond any real configuration; an API that keeps announcing a next
/// page past it is a coverage gap, not an endless loop.
pub const MAX_PAGES: usize = 1000;

/// Size of one answer at most (a page of 100 objects is a few hundred KiB).
pub const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// Credentials for the API (Traefik sits behind basicAuth or a bearer-token
/// proxy when the API is not `insecure`).
#[derive(Clone)]
pub enum TraefikAuth {
    Basic { user: String, password: String },
    Bearer(String),
}

// Debug output can end up in logs: never print the credentials.
impl fmt::Debug for TraefikOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            None => "none",
            Some(TraefikAuth::Basic { .. }) => "basic <redacted>",
            Some(TraefikAuth::Bearer(_)) => "bearer <redacted>",
        };
        f.debug_struct("TraefikOptions")
            .field("url", &self.url)
            .field("query", &self.query.as_ref().map(|_| "<redacted>"))
            .field("auth", &auth)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .field("page_size", &self.page_size)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl TraefikOptions {
    /// Options for the API at `url`; a query (`?token=...`) is kept apart and
    /// sent with every request, after the API path.
    pub fn new(url: &str) -> TraefikOptions {
        let without_fragment = url.split('#').next().unwrap_or_default();
        let (base, query) = match without_fragment.split_once('?') {
            Some((base, query)) => (base, Some(query.to_string()).filter(|q| !q.is_empty())),
            None => (without_fragment, None),
        };
        TraefikOptions {
            url: endpoint_label(base).trim_end_matches('/').to_string(),
            query,
            auth: None,
            insecure: false,
            timeout: Duration::from_secs(10),
            page_size: 100,
            deadline: None,
        }
    }

    /// The URL of an API path (which may have its own query).
    fn request_url(&self, path: &str) -> String {
        match &self.query {
            None => format!("{}{path}", self.url),
            Some(query) if path.contains('?') => format!("{}{path}&{query}", self.url),
            Some(query) => format!("{}{path}?{query}", self.url),
        }
    }
}

/// Why one API call gave nothing usable.
struct CallError {
    url: String,
    reason: String,
    /// 404: the endpoint does not exist in this version.
    not_found: bool,
}

struct Client {
    agent: ureq::Agent,
    options: TraefikOptions,
}

impl Client {
    fn new(options: &TraefikOptions) -> Client {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false);
        if options.insecure {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .disable_verification(true)
                    .build(),
            );
        }
        Client {
            agent: config.build().into(),
            options: options.clone(),
        }
    }

    /// GET a JSON document; `Ok((value, next page))`.
    fn get(&self, path: &str) -> Result<(Value, Option<usize>), CallError> {
        let fail = |reason: String, not_found: bool| CallError {
            url: format!(
                "{}{}",
                self.options.url,
                path.split('?').next().unwrap_or(path)
            ),
            reason,
            not_found,
        };
        let timeout = match &self.options.deadline {
            Some(deadline) if deadline.passed() => return Err(fail(deadline.reason(), false)),
            Some(deadline) => deadline.remaining().min(self.options.timeout),
            None => self.options.timeout,
        };
        let mut request = self
            .agent
            .get(&self.options.request_url(path))
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Accept", "application/json");
        match &self.options.auth {
            Some(TraefikAuth::Basic { user, password }) => {
                use base64::Engine as _;
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                request = request.header("Authorization", &format!("Basic {pair}"));
            }
            Some(TraefikAuth::Bearer(token)) => {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            None => {}
        }
        // A timeout cut short by the source's deadline is that deadline.
        let describe = |error: &ureq::Error| match (error, &self.options.deadline) {
            (ureq::Error::Timeout(_), Some(deadline)) if deadline.passed() => deadline.reason(),
            _ => describe_transport_error(error),
        };
        let mut response = request.call().map_err(|e| fail(describe(&e), false))?;
        let status = response.status().as_u16();
        let next_page = response
            .headers()
            .get("X-Next-Page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| fail(describe(&e), false))?;
        match status {
            200 => {}
            401 | 403 => {
                return Err(fail(
                    format!("{status}: the Traefik API refused the request; give credentials with --traefik-user (password in DRIFTAUDIT_TRAEFIK_PASSWORD or --traefik-password-file) or --traefik-token-file"),
                    false,
                ))
            }
            404 => return Err(fail("404 Not Found".into(), true)),
            _ => return Err(fail(format!("HTTP {status} (answer not shown)"), false)),
        }
        let value = serde_json::from_str(&body).map_err(|_| {
            fail(
                "not a Traefik API answer (expected JSON); is --traefik-url the API's address?"
                    .into(),
                false,
            )
        })?;
        Ok((value, next_page))
    }

    /// Every item of a paginated list endpoint: Traefik answers `X-Next-Page`
    /// with the next page number, or 1 once the last page is served.
    fn list(&self, path: &str) -> Result<Vec<Value>, CallError> {
        let mut items = Vec::new();
        let mut page = 1;
        for _ in 0..MAX_PAGES {
            let (value, next) = self.get(&format!(
                "{path}?page={page}&per_page={}",
                self.options.page_size
            ))?;
            match value {
                Value::Array(found) => items.extend(found),
                _ => {
                    return Err(CallError {
                        url: format!("{}{path}", self.options.url),
                        reason: "not a Traefik API answer (expected a list)".into(),
                        not_found: false,
                    })
                }
            }
            match next {
                Some(next) if next > page => page = next,
                _ => return Ok(items),
            }
        }
        Err(CallError {
            url: format!("{}{path}", self.options.url),
            reason: format!(
                "the API announced more than {MAX_PAGES} pages (of {} items); stopped reading",
                self.options.page_size
            ),
            not_found: false,
        })
    }
}

/// A fixed category for a failed call; details only where they cannot carry
/// a credential (an I/O error kind, a TLS alert).
fn describe_transport_error(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::HostNotFound => "cannot reach Traefik: host not found".into(),
        ureq::Error::ConnectionFailed => "cannot reach Traefik: connection failed".into(),
        ureq::Error::Io(e) => format!("cannot reach Traefik: {}", e.kind()),
        ureq::Error::BodyExceedsLimit(_) => format!(
            "the answer exceeds the {} MiB limit",
            MAX_ANSWER_BYTES / (1024 * 1024)
        ),
        ureq::Error::Tls(message) => format!("TLS error: {message}"),
        ureq::Error::Rustls(e) => format!("TLS error: {e}"),
        ureq::Error::Protocol(_) => "not an HTTP answer".into(),
        _ => "the request failed".into(),
    }
}

/// Reads one Traefik. Never fails: what cannot be read is a coverage gap.
pub fn collect(options: &TraefikOptions) -> LiveTarget {
    let client = Client::new(options);
    let mut target = LiveTarget {
        name: target_name(options),
        sources: vec![Source::Traefik],
        uncompared_kinds: UNCOMPARED_KINDS.iter().map(|k| k.to_string()).collect(),
        ..LiveTarget::default()
    };
    let gap = |scope: &str, error: &CallError| CoverageGap {
        source: Source::Traefik,
        target: target_name(options),
        scope: scope.to_string(),
        reason: format!("GET {}: {}", error.url, error.reason),
        endpoint: options.url.clone(),
        kind: None,
    };

    // The URL carries no credentials (refused when given).
    target
        .identity
        .insert("url".into(), options.url.clone().into());
    target.identity.insert("version".into(), Value::Null);
    let version = match client.get("/api/version") {
        Ok((value, _)) => value,
        Err(error) => {
            target.coverage.push(gap("the whole Traefik API", &error));
            return target;
        }
    };
    if version.get("Version").and_then(Value::as_str).is_none() {
        target.coverage.push(gap(
            "the whole Traefik API",
            &CallError {
                url: format!("{}/api/version", options.url),
                reason: "not a Traefik API answer (no `Version`)".into(),
                not_found: false,
            },
        ));
        return target;
    }
    target
        .identity
        .insert("version".into(), version["Version"].clone());
    // 3.7 added /api/certificates and, with it, the overview's `certificates`.
    let has_certificates = match client.get("/api/overview") {
        Ok((overview, _)) => overview.get("certificates").is_some(),
        Err(error) => {
            target.coverage.push(gap("Traefik overview", &error));
            false
        }
    };

    let origin = Origin::Live {
        target: target.name.clone(),
        endpoint: options.url.clone(),
    };
    // Entry points first: the routers' reading depends on which have TLS.
    let mut lists: Vec<(String, &str)> = vec![("/api/entrypoints".into(), ENTRY_POINT)];
    lists.extend(
        SECTIONS
            .iter()
            .filter(|(_, section, _)| *section != "serversTransports")
            .map(|(protocol, section, kind)| (format!("/api/{protocol}/{section}"), *kind)),
    );
    let mut tls_entry_points: Vec<String> = Vec::new();
    if has_certificates {
        lists.push(("/api/certificates".into(), TLS_CERTIFICATE));
    } else {
        target.uncompared_kinds.push(TLS_CERTIFICATE.into());
    }
    for (path, kind) in lists {
        let items = match client.list(&path) {
            Ok(items) => items,
            Err(error) if error.not_found && kind == TLS_CERTIFICATE => {
                target.uncompared_kinds.push(TLS_CERTIFICATE.into());
                continue;
            }
            Err(error) => {
                target
                    .coverage
                    .push(gap(&format!("Traefik {kind} objects ({path})"), &error));
                continue;
            }
        };
        if kind == ENTRY_POINT {
            tls_entry_points = items
                .iter()
                .filter(|e| e.pointer("/http/tls").is_some())
                .filter_map(|e| e.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
        }
        let names: Vec<&str> = items
            .iter()
            .filter_map(|i| i.get("name").and_then(Value::as_str))
            .collect();
        for item in &items {
            let Some(qualified) = item.get("name").and_then(Value::as_str) else {
                continue;
            };
            if kind == "HttpRouter"
                && derived_tls_router(item, qualified, &names, &tls_entry_points)
            {
                continue;
            }
            let resource = if kind == TLS_CERTIFICATE {
                certificate_resource(item, qualified, &path, &origin, options)
            } else {
                let (name, provider) = split_provider(qualified);
                if provider == INTERNAL_PROVIDER {
                    continue;
                }
                traefik_resource(
                    kind,
                    provider,
                    name,
                    (*item).clone(),
                    origin.clone(),
                    None,
                    json!({}),
                )
            };
            // Names are unique per endpoint; a repeat would be an API bug, and
            // the first answer is kept.
            let _ = target.inventory.insert(resource);
        }
    }
    target.uncompared_kinds.sort();
    target.uncompared_kinds.dedup();
    target.coverage.sort();
    target
}

/// Traefik splits a router that names no entry points: the router keeps the
/// plain entry points, and a copy `<entrypoint>-<name>` serves each entry point
/// with default TLS. The copy is Traefik's, not configuration: it is left out.
fn derived_tls_router(
    item: &Value,
    qualified: &str,
    names: &[&str],
    tls_entry_points: &[String],
) -> bool {
    let entry_points = item.get("entryPoints").and_then(Value::as_array);
    tls_entry_points.iter().any(|entry_point| {
        qualified
            .strip_prefix(entry_point.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|base| names.contains(&base))
            && entry_points.is_some_and(|eps| eps.len() == 1 && eps[0] == entry_point.as_str())
    })
}

fn target_name(options: &TraefikOptions) -> String {
    format!("traefik {}", options.url)
}

/// A certificate of `/api/certificates`: named by its fingerprint, with facts
/// in the shape of parsed certificates (the API gives no PEM).
fn certificate_resource(
    item: &Value,
    fingerprint: &str,
    path: &str,
    origin: &Origin,
    options: &TraefikOptions,
) -> crate::model::Resource {
    let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or_default();
    let mut sans: Vec<String> = item
        .get("sans")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    sans.sort();
    let source = format!("Traefik {}{path}", options.url);
    let fact = summary_fact(
        &source,
        &CertificateSummary {
            common_name: text("commonName"),
            issuer_common_name: text("issuerCN"),
            sans: sans.clone(),
            serial_decimal: text("serialNumber"),
            fingerprint_sha256: text("certFingerprint"),
            not_before: text("notBefore"),
            not_after: text("notAfter"),
        },
    );
    let body = json!({
        "commonName": text("commonName"),
        "sans": sans,
        "notBefore": fact.get("not_before").cloned().unwrap_or(Value::Null),
        "notAfter": fact.get("not_after").cloned().unwrap_or(Value::Null),
    });
    traefik_resource(
        TLS_CERTIFICATE,
        "",
        &fingerprint.to_ascii_lowercase(),
        body,
        origin.clone(),
        None,
        json!({ "certificates": [fact] }),
    )
}

/// A running Traefik, read through its API (blocking HTTP, off the runtime's workers).
impl Collector for TraefikOptions {
    fn label(&self) -> String {
        format!("traefik {}", self.url)
    }

    fn collect(&self, _scope: &LiveScope<'_>, deadline: Deadline) -> BoxFuture<'static, Collected> {
        let mut options = self.clone();
        options.deadline = Some(deadline);
        blocking_target(move || collect(&options))
    }

    fn unread(&self, reason: &str) -> Vec<LiveTarget> {
        vec![unread_target(
            format!("traefik {}", self.url),
            Source::Traefik,
            "the whole Traefik API".into(),
            self.url.clone(),
            reason,
        )]
    }
}
