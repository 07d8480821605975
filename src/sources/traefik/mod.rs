//! Traefik as a source: its dynamic configuration (routers, services,
//! middlewares, TLS settings) declared in Git, and the running configuration
//! its API serves, both turned into resources of one shape so the drift and
//! policy engines treat them like any other source.
//!
//! Identity (see `docs/traefik.md`): an object of the file provider is
//! `traefik.driftaudit.io/v1 <Kind> <name>`, its live counterpart `<name>@file`.
//! Objects of another provider (`ns-name@kubernetescrd`) keep the provider in
//! the group (`kubernetescrd.traefik.driftaudit.io/v1`), so equal names of
//! different providers never collide. Certificates are named by their SHA-256
//! fingerprint, as Traefik's `/api/certificates` names them.

pub mod api;
pub mod args;
pub mod declared;
pub mod kubernetes;
pub mod normalize;

use std::sync::Arc;

use serde_json::Value;

use crate::model::{Origin, Resource, Source};
use crate::yaml::LineMap;

/// Group and version of the objects of the file provider.
pub const API_VERSION: &str = "traefik.driftaudit.io/v1";

/// The provider whose objects use `API_VERSION`.
pub const FILE_PROVIDER: &str = "file";

/// The provider of Traefik's own objects (`api@internal`, `dashboard@internal`):
/// never declared, never reported.
pub const INTERNAL_PROVIDER: &str = "internal";

pub const TLS_OPTIONS: &str = "TLSOptions";
pub const TLS_STORE: &str = "TLSStore";
pub const TLS_CERTIFICATE: &str = "TLSCertificate";
pub const ENTRY_POINT: &str = "EntryPoint";

/// Sections of the dynamic configuration that hold named objects, and the kind
/// of those objects. The same table maps the API's list endpoints.
pub const SECTIONS: [(&str, &str, &str); 10] = [
    ("http", "routers", "HttpRouter"),
    ("http", "services", "HttpService"),
    ("http", "middlewares", "HttpMiddleware"),
    ("http", "serversTransports", "ServersTransport"),
    ("tcp", "routers", "TcpRouter"),
    ("tcp", "services", "TcpService"),
    ("tcp", "middlewares", "TcpMiddleware"),
    ("tcp", "serversTransports", "TcpServersTransport"),
    ("udp", "routers", "UdpRouter"),
    ("udp", "services", "UdpService"),
];

/// Kinds a Traefik target never compares with Git: the API does not expose
/// TLS options, TLS stores or servers transports, and entry points belong to
/// the static configuration, which Git's dynamic files do not hold.
pub const UNCOMPARED_KINDS: [&str; 5] = [
    TLS_OPTIONS,
    TLS_STORE,
    "ServersTransport",
    "TcpServersTransport",
    ENTRY_POINT,
];

/// The apiVersion of an object of `provider` (`""` for objects without one,
/// such as entry points and certificates).
pub fn api_version_of(provider: &str) -> String {
    if provider.is_empty() || provider == FILE_PROVIDER {
        API_VERSION.to_string()
    } else {
        format!("{provider}.{API_VERSION}")
    }
}

/// Splits an API name into name and provider: `app@file` → (`app`, `file`).
pub fn split_provider(qualified: &str) -> (&str, &str) {
    qualified.rsplit_once('@').unwrap_or((qualified, ""))
}

/// The one constructor of Traefik resources, declared and live alike: the body
/// is normalised and its credentials digested here, so no later stage can see
/// or print them.
pub fn traefik_resource(
    kind: &str,
    provider: &str,
    name: &str,
    mut body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
    facts: Value,
) -> Resource {
    normalize::normalize_body(kind, provider, name, &mut body);
    let api_version = api_version_of(provider);
    Resource::new(Source::Traefik, &api_version, kind, "", name, body, origin)
        .with_facts(facts)
        .with_lines(lines)
}

/// How drift treats Traefik objects (and TLS endpoints): compared as read, after `normalize`.
pub struct TraefikRules;

impl crate::sources::rules::SourceRules for TraefikRules {
    fn source(&self) -> Source {
        Source::Traefik
    }

    /// IngressRoutes, Middlewares and Ingresses Git declares as manifests,
    /// compared with the routers and middlewares of the Kubernetes providers.
    fn comparison_view(
        &self,
        declared: &crate::model::Inventory,
        live: &crate::model::Inventory,
    ) -> Option<crate::sources::rules::ComparisonView> {
        kubernetes::comparison_view(declared, live)
    }
}

/// The rules registered in `sources::registry`.
pub static RULES: TraefikRules = TraefikRules;

/// Traefik in `sources::registry`: its files are picked by `git.traefik`.
pub const ENTRY: crate::sources::rules::SourceEntry = crate::sources::rules::SourceEntry {
    rules: &RULES,
    documents: &[],
};
