//! The live Traefik: what its API says runs. Reads `/api/version` (is this
//! Traefik at all?), `/api/overview`, the HTTP/TCP/UDP routers, services and
//! middlewares, the entry points and, where the version has it (3.7+),
//! `/api/certificates`, following the API's pagination. Anything unreadable
//! (unreachable, 401, a non-Traefik answer) is a coverage gap naming the URL.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

use super::{
    split_provider, traefik_resource, ENTRY_POINT, INTERNAL_PROVIDER, SECTIONS, TLS_CERTIFICATE,
    UNCOMPARED_KINDS,
};
use crate::facts::{summary_fact, CertificateSummary};
use crate::model::{CoverageGap, Origin, Source};
use crate::sources::live::LiveTarget;

/// How to reach one Traefik API.
#[derive(Clone)]
pub struct TraefikOptions {
    /// Base URL of the API (`http://127.0.0.1:8080`), without credentials.
    pub url: String,
    pub auth: Option<TraefikAuth>,
    /// Skip TLS verification of an `https://` API (self-signed dashboards).
    pub insecure: bool,
    pub timeout: Duration,
    /// Items per page asked of list endpoints.
    pub page_size: usize,
}

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
            .field("auth", &auth)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl TraefikOptions {
    pub fn new(url: &str) -> TraefikOptions {
        TraefikOptions {
            url: url.trim_end_matches('/').to_string(),
            auth: None,
            insecure: false,
            timeout: Duration::from_secs(10),
            page_size: 100,
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
        let url = format!("{}{path}", self.options.url);
        let fail = |reason: String, not_found: bool| CallError {
            url: url.clone(),
            reason,
            not_found,
        };
        let mut request = self.agent.get(&url).header("Accept", "application/json");
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
        let mut response = request
            .call()
            .map_err(|e| fail(format!("cannot reach Traefik: {e}"), false))?;
        let status = response.status().as_u16();
        let next_page = response
            .headers()
            .get("X-Next-Page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        let body = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| fail(format!("cannot read the answer: {e}"), false))?;
        match status {
            200 => {}
            401 | 403 => {
                return Err(fail(
                    format!("{status}: the Traefik API refused the request; give credentials with --traefik-user (password in DRIFTAUDIT_TRAEFIK_PASSWORD or --traefik-password-file) or --traefik-token-file"),
                    false,
                ))
            }
            404 => return Err(fail(format!("404: {}", excerpt(&body)), true)),
            _ => return Err(fail(format!("HTTP {status}: {}", excerpt(&body)), false)),
        }
        let value = serde_json::from_str(&body).map_err(|_| {
            fail(
                format!(
                    "not a Traefik API answer (expected JSON, got `{}`); is --traefik-url the API's address?",
                    excerpt(&body)
                ),
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
        loop {
            let (value, next) = self.get(&format!(
                "{path}?page={page}&per_page={}",
                self.options.page_size
            ))?;
            match value {
                Value::Array(found) => items.extend(found),
                other => {
                    return Err(CallError {
                        url: format!("{}{path}", self.options.url),
                        reason: format!(
                            "not a Traefik API answer (expected a list, got `{}`)",
                            excerpt(&other.to_string())
                        ),
                        not_found: false,
                    })
                }
            }
            match next {
                Some(next) if next > page => page = next,
                _ => return Ok(items),
            }
        }
    }
}

fn excerpt(text: &str) -> String {
    let trimmed = text.trim();
    let mut end = trimmed.len().min(120);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let suffix = if end < trimmed.len() { "..." } else { "" };
    format!("{}{suffix}", &trimmed[..end])
}

/// Reads one Traefik. Never fails: what cannot be read is a coverage gap.
pub fn collect(options: &TraefikOptions) -> LiveTarget {
    let client = Client::new(options);
    let mut target = LiveTarget {
        name: format!("traefik {}", options.url),
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
                reason: format!(
                    "not a Traefik API answer (no `Version` in `{}`)",
                    excerpt(&version.to_string())
                ),
                not_found: false,
            },
        ));
        return target;
    }
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
