//! Traefik on Kubernetes: the IngressRoutes, Middlewares (HTTP and TCP) and
//! Ingresses Git declares as Kubernetes manifests, matched to the routers and
//! middlewares Traefik's API serves from its `kubernetescrd` and `kubernetes`
//! providers.
//!
//! Traefik names what it makes from them (seen on Traefik 3.7.15, see
//! `docs/traefik.md`):
//! - an IngressRoute(TCP) route: `<namespace>-<name>-<hex digits of the
//!   SHA-256 of the route's match>` (20 digits in 3.7, 10 before), passed
//!   through Traefik's name normalisation (every run of characters that are
//!   not letters or digits becomes one `-`); its Kubernetes Service becomes a
//!   load balancer named like the router. With `safeNaming`:
//!   `<namespace>_<name>_<index>`, its load balancer `<router>_lb`;
//! - an IngressRouteUDP route: `<namespace>-<name>-<index>`;
//! - a Middleware: `<namespace>-<name>` normalised (`<namespace>_<name>`);
//! - an Ingress path: `<namespace>-<name>-<host><path>`, normalised, with the
//!   rule `Host("...") && PathPrefix("...")` and the service
//!   `<namespace>-<service>-<port>`.
//!
//! The hash is never recomputed: a live router is matched by its name prefix
//! (the hash or index cut off) against the declared `<namespace>-<name>` keys
//! and by the manifest the API names in `observability.metadata.ingress`,
//! then by its rule (and entry points) among that manifest's routes.
//! Namespaces and names may contain `-`, so one prefix can name several
//! declared objects: such a router is left unmatched with a note naming them
//! all, never given to one of them silently.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::traefik_resource;
use crate::model::{Identity, Inventory, Origin, Resource, Source};
use crate::printable::printable;
use crate::sources::rules::ComparisonView;
use crate::yaml::{push_index, LineMap};

/// The provider of IngressRoute, Middleware... objects.
pub const CRD_PROVIDER: &str = "kubernetescrd";
/// The provider of standard Ingress objects.
pub const INGRESS_PROVIDER: &str = "kubernetes";

/// API groups of Traefik's CRDs: the current one and the one before 2.10.
const CRD_GROUPS: [&str; 2] = ["traefik.io", "traefik.containo.us"];

/// The `service` of a router whose route names Kubernetes Services:
/// Traefik makes a load balancer for the route and names it like the router,
/// so the API shows no Service name to compare; both sides say this instead.
pub const OWN_LOAD_BALANCER: &str = "(the route's own load balancer)";

/// How many of Traefik's errors a note quotes (each cut at 300 characters).
const MAX_ERRORS: usize = 5;

/// Traefik's `provider.Normalize`: each run of characters that are neither
/// letters nor digits becomes one `-`, none at either end.
pub fn normalize_name(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// One object derived from a declared manifest, with what matching needs.
struct Derived {
    resource: Resource,
    provider: &'static str,
    /// The live name without its hash or index (routers), or the whole live
    /// name (middlewares): normalised `<namespace>-<name>` (Traefik's legacy
    /// naming) and `<namespace>_<name>` (its safe naming, 3.7+).
    keys: Vec<String>,
    /// The manifest's kind, namespace and name, as the API's
    /// `observability.metadata.ingress` names them.
    origin: (String, String, String),
    /// The declared rule (routers with a rule).
    rule: Option<String>,
    /// Entry points Git names (a tie-breaker).
    entry_points: Option<Value>,
    /// The route's position (UDP routers are named by it).
    index: usize,
    /// `namespace/name` of the manifest, for notes.
    manifest: String,
}

/// Whether Git declares anything this module maps (else drift compares as before).
fn is_mapped(resource: &Resource) -> bool {
    let id = &resource.identity;
    id.source == Source::Kubernetes
        && ((CRD_GROUPS.contains(&id.group.as_str())
            && matches!(
                id.kind.as_str(),
                "IngressRoute"
                    | "IngressRouteTCP"
                    | "IngressRouteUDP"
                    | "Middleware"
                    | "MiddlewareTCP"
            ))
            || (id.group == "networking.k8s.io" && id.kind == "Ingress"))
}

/// The comparison view of a Traefik target: declared IngressRoutes,
/// Middlewares and Ingresses as Traefik objects, and live routers and
/// middlewares of the Kubernetes providers renamed after them.
pub fn comparison_view(declared: &Inventory, live: &Inventory) -> Option<ComparisonView> {
    let derived: Vec<Derived> = declared
        .iter()
        .filter(|r| is_mapped(r))
        .flat_map(derive)
        .collect();
    if derived.is_empty() {
        return None;
    }
    let mut notes: BTreeMap<Identity, String> = BTreeMap::new();
    // Two declared objects Traefik would give one name: the first is kept
    // (Traefik keeps one as well), both are named in a note.
    let mut by_key: HashMap<(&'static str, String, String), Vec<usize>> = HashMap::new();
    for (at, item) in derived.iter().enumerate() {
        for key in &item.keys {
            by_key
                .entry((
                    item.provider,
                    item.resource.identity.kind.clone(),
                    key.clone(),
                ))
                .or_default()
                .push(at);
        }
    }
    let mut by_origin: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (at, item) in derived.iter().enumerate() {
        by_origin.entry(item.origin.clone()).or_default().push(at);
    }
    let made_for_routes = services_made_for_routes(live);
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    let mut out = Inventory::default();
    for resource in live.iter() {
        let Some(provider) = live_provider(resource) else {
            let _ = out.insert(resource.clone());
            continue;
        };
        let kind = resource.identity.kind.as_str();
        let name = resource.identity.name.as_str();
        // Services Traefik makes for a route (its load balancer, the parts of
        // a weighted one, an Ingress backend) are judged through the route.
        if kind.ends_with("Service") && made_for_routes.contains(&(provider, name.to_string())) {
            continue;
        }
        let lookup = |key: &str| {
            by_key
                .get(&(provider, kind.to_string(), key.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        let derived_ref = &derived;
        let mut candidates: Vec<usize> = match kind {
            "HttpRouter" | "TcpRouter" | "UdpRouter" => router_keys(provider, name)
                .into_iter()
                .flat_map(|(key, index)| {
                    lookup(&key)
                        .into_iter()
                        .filter(move |&at| index.is_none_or(|i| derived_ref[at].index == i))
                })
                .collect(),
            "HttpMiddleware" | "TcpMiddleware" => lookup(name),
            _ => Vec::new(),
        };
        // Traefik 3.x names the manifest a router comes from: where it does,
        // only that manifest's routes are candidates.
        if let Some(from) = resource.body.pointer("/observability/metadata/ingress") {
            let field = |key: &str| from.get(key).and_then(Value::as_str).unwrap_or("");
            let origin = (
                field("kind").to_string(),
                field("namespace").to_string(),
                field("name").to_string(),
            );
            let named: Vec<usize> = by_origin
                .get(&origin)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&at| {
                    derived[at].provider == provider && derived[at].resource.identity.kind == kind
                })
                .collect();
            if candidates.is_empty() {
                candidates = named;
            } else {
                candidates.retain(|at| named.contains(at));
            }
        }
        candidates.sort();
        candidates.dedup();
        let live_rule = resource.body.get("rule").and_then(Value::as_str);
        let chosen = choose(
            &derived,
            &candidates,
            live_rule,
            resource.body.get("entryPoints"),
        );
        let qualified = format!("{name}@{provider}");
        match chosen {
            Choice::One(at) if !taken.contains(&at) => {
                taken.insert(at);
                let target = &derived[at];
                if resource.body.get("status").and_then(Value::as_str) == Some("disabled") {
                    notes.insert(
                        target.resource.identity.clone(),
                        format!(
                            "Traefik shows `{}` for it but does not serve it (status: disabled){}",
                            printable(&qualified),
                            errors_of(&resource.body)
                        ),
                    );
                    continue;
                }
                let mut renamed = resource.clone();
                renamed.identity = target.resource.identity.clone();
                let service = renamed.body.get("service").and_then(Value::as_str);
                if kind.ends_with("Router")
                    && provider == CRD_PROVIDER
                    && (service == Some(name) || service == Some(&format!("{name}_lb")))
                {
                    renamed.body["service"] = json!(OWN_LOAD_BALANCER);
                }
                if let (Some(declared), Some(Value::String(live_rule))) =
                    (&target.rule, renamed.body.get_mut("rule"))
                {
                    if same_rule(declared, live_rule) {
                        *live_rule = declared.clone();
                    }
                }
                if let Some(Value::Array(items)) = renamed.body.get_mut("middlewares") {
                    items.iter_mut().for_each(legacy_reference);
                }
                if let Some(options) = renamed.body.pointer_mut("/tls/options") {
                    legacy_reference(options);
                }
                if let Some(Value::Array(items)) = renamed.body.pointer_mut("/chain/middlewares") {
                    items.iter_mut().for_each(legacy_reference);
                }
                let _ = out.insert(renamed);
            }
            Choice::One(at) => {
                // A second router for a route already matched (a repeated
                // answer): the first keeps it, this one is nobody's.
                notes.insert(
                    resource.identity.clone(),
                    format!(
                        "`{}` is a second router for {}, already matched: not attributed",
                        printable(&qualified),
                        derived[at].resource.identity.display_name()
                    ),
                );
                let _ = out.insert(resource.clone());
            }
            Choice::None => {
                let manifests: BTreeSet<&str> = candidates
                    .iter()
                    .map(|&at| derived[at].manifest.as_str())
                    .collect();
                if !manifests.is_empty() {
                    notes.insert(
                        resource.identity.clone(),
                        format!(
                            "named like {} (Traefik names a route after its namespace, name and a hash of its rule), but matches none of its routes declared in Git: its rule or entry points differ",
                            manifests.into_iter().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
                let _ = out.insert(resource.clone());
            }
            Choice::Several(ats) => {
                let manifests: Vec<String> = ats
                    .iter()
                    .map(|&at| derived[at].resource.identity.display_name())
                    .collect();
                let text = format!(
                    "`{}` could be any of {} (their names are one after Traefik's normalisation): not attributed",
                    printable(&qualified),
                    manifests.join(", ")
                );
                for &at in &ats {
                    notes
                        .entry(derived[at].resource.identity.clone())
                        .or_insert_with(|| text.clone());
                }
                notes.insert(resource.identity.clone(), text);
                let _ = out.insert(resource.clone());
            }
        }
    }
    for (at, item) in derived.iter().enumerate() {
        if taken.contains(&at) {
            continue;
        }
        notes
            .entry(item.resource.identity.clone())
            .or_insert_with(|| not_served_note(item));
    }
    Some(ComparisonView {
        derived: derived.into_iter().map(|d| d.resource).collect(),
        live: out,
        notes,
    })
}

/// (provider, name) of the live services the Kubernetes providers' routers
/// and services refer to.
fn services_made_for_routes(live: &Inventory) -> BTreeSet<(&'static str, String)> {
    const REFERENCES: [&str; 6] = [
        "/service",
        "/weighted/services",
        "/mirroring/service",
        "/mirroring/mirrors",
        "/failover/service",
        "/failover/fallback",
    ];
    let mut names = BTreeSet::new();
    for resource in live.iter() {
        let Some(provider) = live_provider(resource) else {
            continue;
        };
        for pointer in REFERENCES {
            let values: Vec<&Value> = match resource.body.pointer(pointer) {
                Some(Value::Array(items)) => items.iter().filter_map(|i| i.get("name")).collect(),
                Some(value) => vec![value],
                None => Vec::new(),
            };
            for value in values.into_iter().filter_map(Value::as_str) {
                let (bare, other) = super::split_provider(value);
                match other {
                    "" => names.insert((provider, bare.to_string())),
                    CRD_PROVIDER => names.insert((CRD_PROVIDER, bare.to_string())),
                    INGRESS_PROVIDER => names.insert((INGRESS_PROVIDER, bare.to_string())),
                    _ => false,
                };
            }
        }
    }
    names
}

fn not_served_note(item: &Derived) -> String {
    let what = if item.resource.identity.kind.ends_with("Middleware") {
        "Traefik serves no such middleware"
    } else {
        "Traefik serves no router for this route"
    };
    format!(
        "{what}: its {} provider left it out (an unknown Service or port, a Service without endpoints, an invalid rule, a cross-namespace reference, another ingress class, or the provider not enabled); Traefik's log says which",
        item.provider
    )
}

/// The Kubernetes provider of a live Traefik object, if it is one.
fn live_provider(resource: &Resource) -> Option<&'static str> {
    if resource.identity.source != Source::Traefik || !resource.identity.namespace.is_empty() {
        return None;
    }
    let group = resource.identity.group.as_str();
    [CRD_PROVIDER, INGRESS_PROVIDER].into_iter().find(|p| {
        group
            .strip_prefix(p)
            .is_some_and(|rest| rest == ".traefik.driftaudit.io")
    })
}

/// The keys a live router name may have been made from, with the route
/// index where the name carries one. IngressRoute routers: the name without
/// `-<hex hash>` (legacy naming) or without `_<index>` (safe naming); Ingress
/// routers: every prefix ending before a `-` (host and path follow the name).
fn router_keys(provider: &str, name: &str) -> Vec<(String, Option<usize>)> {
    let mut keys = Vec::new();
    if provider == CRD_PROVIDER {
        if let Some((prefix, hash)) = name.rsplit_once('-') {
            if (8..=64).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                keys.push((prefix.to_string(), None));
            }
        }
        if let Some((prefix, index)) = name.rsplit_once('_') {
            if let Ok(index) = index.parse::<usize>() {
                keys.push((prefix.to_string(), Some(index)));
            }
        }
        // IngressRouteUDP routers: `<namespace>-<name>-<index>`.
        if let Some((prefix, index)) = name.rsplit_once('-') {
            if let Ok(index) = index.parse::<usize>() {
                keys.push((prefix.to_string(), Some(index)));
            }
        }
        return keys;
    }
    name.match_indices('-')
        .map(|(at, _)| (name[..at].to_string(), None))
        .chain(std::iter::once((name.to_string(), None)))
        .collect()
}

/// Rules equal but for their quotes: Traefik 3.7 writes an Ingress rule
/// with `"`, older versions with backquotes.
fn same_rule(a: &str, b: &str) -> bool {
    a == b || a.replace('`', "\"") == b.replace('`', "\"")
}

/// A reference in Traefik's safe naming (`<namespace>_<name>`: Kubernetes
/// names never hold `_`) spelt as the legacy naming spells it, so both
/// spellings compare equal with what Git declares.
fn legacy_reference(reference: &mut Value) {
    if let Value::String(text) = reference {
        if !text.contains('@') && text.matches('_').count() == 1 {
            *text = normalize_name(&text.replace('_', "-"));
        }
    }
}

enum Choice {
    None,
    One(usize),
    Several(Vec<usize>),
}

/// The declared object a live one was made from: among the candidates of its
/// name, those with its rule, then those with its entry points.
fn choose(
    derived: &[Derived],
    candidates: &[usize],
    rule: Option<&str>,
    entry_points: Option<&Value>,
) -> Choice {
    let mut fitting: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&at| match (&derived[at].rule, rule) {
            (Some(declared), Some(live)) => same_rule(declared, live),
            (None, _) => true,
            (Some(_), None) => false,
        })
        .collect();
    if fitting.len() > 1 {
        let same_entry_points: Vec<usize> = fitting
            .iter()
            .copied()
            .filter(|&at| derived[at].entry_points.as_ref() == entry_points)
            .collect();
        if !same_entry_points.is_empty() {
            fitting = same_entry_points;
        }
    }
    fitting.sort();
    fitting.dedup();
    match fitting.len() {
        0 => Choice::None,
        1 => Choice::One(fitting[0]),
        _ => Choice::Several(fitting),
    }
}

/// `: error 1; error 2` from the API's `error` list (bounded, printable).
fn errors_of(body: &Value) -> String {
    let errors: Vec<String> = match body.get("error") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .take(MAX_ERRORS)
            .map(short)
            .collect(),
        Some(Value::String(text)) => vec![short(text)],
        _ => Vec::new(),
    };
    if errors.is_empty() {
        return String::new();
    }
    format!(": {}", errors.join("; "))
}

/// One of Traefik's errors fit to print: one line, at most 300 characters,
/// control characters escaped, and any word that could be a credential (a
/// compromised API could echo the request's `Authorization` into it)
/// replaced, as Kubernetes Status messages are.
fn short(text: &str) -> String {
    crate::sources::kubernetes::live::safe_status_message(text)
}

/// Where in the manifest a derived field comes from.
struct Lines<'a> {
    lines: Option<&'a Arc<LineMap>>,
    entries: Vec<(String, u32)>,
}

impl<'a> Lines<'a> {
    /// Entries rooted at the line of `at` in the manifest.
    fn rooted(lines: Option<&'a Arc<LineMap>>, at: &str, fallback: u32) -> Lines<'a> {
        let line = lines.and_then(|l| l.line_of(at)).unwrap_or(fallback);
        Lines {
            lines,
            entries: vec![(String::new(), line)],
        }
    }

    fn map(&mut self, derived: &str, declared: &str) {
        if let Some(line) = self.lines.and_then(|l| l.line_of(declared)) {
            self.entries.push((derived.to_string(), line));
        }
    }
}

/// The Traefik objects one manifest makes.
fn derive(manifest: &Resource) -> Vec<Derived> {
    let namespace = match manifest.identity.namespace.as_str() {
        "" => "default",
        ns => ns,
    };
    let name = manifest.identity.name.as_str();
    let spec = manifest.body.get("spec").cloned().unwrap_or(Value::Null);
    let (file, first_line, commit) = match &manifest.origin {
        Origin::Declared { file, line, commit } => (file.clone(), *line, commit.clone()),
        Origin::Live { .. } => return Vec::new(),
    };
    let keys = vec![
        normalize_name(&format!("{namespace}-{name}")),
        format!("{namespace}_{name}"),
    ];
    let origin_of = || {
        (
            manifest.identity.kind.clone(),
            namespace.to_string(),
            name.to_string(),
        )
    };
    let make = |kind: &str,
                provider: &'static str,
                derived_name: String,
                body: Value,
                at: &str,
                entries: Vec<(String, u32)>| {
        let lines = manifest.lines.as_ref();
        let line = lines.and_then(|l| l.line_of(at)).unwrap_or(first_line);
        let mut resource = traefik_resource(
            kind,
            provider,
            &derived_name,
            body,
            Origin::Declared {
                file: file.clone(),
                line,
                commit: commit.clone(),
            },
            Some(Arc::new(LineMap::from_entries(entries))),
            json!({}),
        );
        resource.identity.namespace = namespace.to_string();
        resource.identity.environment = manifest.identity.environment.clone();
        resource
    };
    let manifest_name = format!("{} {namespace}/{name}", manifest.identity.kind);
    let mut out = Vec::new();
    match manifest.identity.kind.as_str() {
        kind @ ("IngressRoute" | "IngressRouteTCP" | "IngressRouteUDP") => {
            let (router_kind, tcp) = match kind {
                "IngressRoute" => ("HttpRouter", false),
                "IngressRouteTCP" => ("TcpRouter", true),
                _ => ("UdpRouter", false),
            };
            let routes = items(&spec, "/routes");
            for (index, route) in routes.iter().enumerate() {
                let route_path = push_index("spec.routes", index);
                let mut lines = Lines::rooted(manifest.lines.as_ref(), &route_path, first_line);
                let mut body = Map::new();
                let rule = route
                    .get("match")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if router_kind != "UdpRouter" {
                    body.insert("rule".into(), json!(rule.clone().unwrap_or_default()));
                    lines.map("rule", &format!("{route_path}.match"));
                }
                let entry_points = spec.get("entryPoints").cloned();
                if let Some(eps) = &entry_points {
                    body.insert("entryPoints".into(), eps.clone());
                    lines.map("entryPoints", "spec.entryPoints");
                }
                if let Some(middlewares) = route.get("middlewares").and_then(Value::as_array) {
                    let names: Vec<Value> = middlewares
                        .iter()
                        .map(|m| json!(reference_name(m, namespace)))
                        .collect();
                    body.insert("middlewares".into(), Value::Array(names));
                    lines.map("middlewares", &format!("{route_path}.middlewares"));
                    for j in 0..middlewares.len() {
                        lines.map(
                            &push_index("middlewares", j),
                            &push_index(&format!("{route_path}.middlewares"), j),
                        );
                    }
                }
                if let Some(priority) = route.get("priority").filter(|p| p.as_i64() != Some(0)) {
                    body.insert("priority".into(), priority.clone());
                    lines.map("priority", &format!("{route_path}.priority"));
                }
                if let Some(service) = route_service(route, namespace) {
                    body.insert("service".into(), json!(service));
                    lines.map("service", &format!("{route_path}.services"));
                }
                if let Some(tls) = spec.get("tls").filter(|t| t.is_object()) {
                    body.insert("tls".into(), router_tls(tls, namespace, tcp));
                    lines.map("tls", "spec.tls");
                    lines.map("tls.options", "spec.tls.options.name");
                    lines.map("tls.certResolver", "spec.tls.certResolver");
                    lines.map("tls.passthrough", "spec.tls.passthrough");
                }
                let derived_name = format!("{name}.routes[{index}]");
                out.push(Derived {
                    resource: make(
                        router_kind,
                        CRD_PROVIDER,
                        derived_name,
                        Value::Object(body),
                        &route_path,
                        lines.entries,
                    ),
                    provider: CRD_PROVIDER,
                    keys: keys.clone(),
                    origin: origin_of(),
                    rule: if router_kind == "UdpRouter" {
                        None
                    } else {
                        Some(rule.unwrap_or_default())
                    },
                    entry_points,
                    index,
                    manifest: manifest_name.clone(),
                });
            }
        }
        kind @ ("Middleware" | "MiddlewareTCP") => {
            let middleware_kind = if kind == "Middleware" {
                "HttpMiddleware"
            } else {
                "TcpMiddleware"
            };
            let mut body = spec.clone();
            middleware_body(&mut body, namespace);
            let entries = manifest
                .lines
                .as_ref()
                .map(|l| l.subtree("spec"))
                .map(|l| {
                    let mut entries = Vec::new();
                    collect_entries(&l, &body, "", &mut entries);
                    entries
                })
                .unwrap_or_default();
            out.push(Derived {
                resource: make(
                    middleware_kind,
                    CRD_PROVIDER,
                    name.to_string(),
                    body,
                    "spec",
                    entries,
                ),
                provider: CRD_PROVIDER,
                keys,
                origin: origin_of(),
                rule: None,
                entry_points: None,
                index: 0,
                manifest: manifest_name,
            });
        }
        "Ingress" if traefik_ingress(&manifest.body) => {
            let annotations = manifest
                .body
                .pointer("/metadata/annotations")
                .and_then(Value::as_object);
            let annotation = |key: &str| {
                annotations
                    .and_then(|a| a.get(key))
                    .and_then(Value::as_str)
                    .map(|v| {
                        v.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| json!(s))
                            .collect::<Vec<_>>()
                    })
            };
            let entry_points =
                annotation("traefik.ingress.kubernetes.io/router.entrypoints").map(Value::Array);
            let middlewares = annotation("traefik.ingress.kubernetes.io/router.middlewares");
            let rules = items(&spec, "/rules");
            for (i, rule) in rules.iter().enumerate() {
                let host = rule.get("host").and_then(Value::as_str).unwrap_or("");
                let paths = items(rule, "/http/paths");
                for (j, path) in paths.iter().enumerate() {
                    let path_at = format!("spec.rules[{i}].http.paths[{j}]");
                    let mut lines = Lines::rooted(manifest.lines.as_ref(), &path_at, first_line);
                    let rule_text = ingress_rule(host, path);
                    let mut body = Map::new();
                    body.insert("rule".into(), json!(rule_text));
                    lines.map("rule", &format!("{path_at}.path"));
                    if let Some(service) = ingress_service(path, namespace) {
                        body.insert("service".into(), json!(service));
                        lines.map("service", &format!("{path_at}.backend"));
                    }
                    if let Some(eps) = &entry_points {
                        body.insert("entryPoints".into(), eps.clone());
                    }
                    if let Some(m) = &middlewares {
                        body.insert("middlewares".into(), Value::Array(m.clone()));
                    }
                    out.push(Derived {
                        resource: make(
                            "HttpRouter",
                            INGRESS_PROVIDER,
                            format!("{name}.rules[{i}].paths[{j}]"),
                            Value::Object(body),
                            &path_at,
                            lines.entries,
                        ),
                        provider: INGRESS_PROVIDER,
                        keys: keys.clone(),
                        origin: origin_of(),
                        rule: Some(rule_text),
                        entry_points: entry_points.clone(),
                        index: 0,
                        manifest: manifest_name.clone(),
                    });
                }
            }
        }
        _ => {}
    }
    out
}

/// The list at `pointer` (none when it is not a list).
fn items(value: &Value, pointer: &str) -> Vec<Value> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Line entries for every path of `value` that the re-rooted map knows.
fn collect_entries(lines: &LineMap, value: &Value, path: &str, out: &mut Vec<(String, u32)>) {
    if let Some(line) = lines.line_of(path) {
        out.push((path.to_string(), line));
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                collect_entries(lines, child, &crate::yaml::push_key(path, key), out);
            }
        }
        Value::Array(items) => {
            for (at, child) in items.iter().enumerate() {
                collect_entries(lines, child, &push_index(path, at), out);
            }
        }
        _ => {}
    }
}

/// A reference to a middleware (or TLS option) as the router shows it: a
/// cross-provider `name@provider` as written (its own provider dropped),
/// else `<namespace>-<name>` normalised.
fn reference_name(reference: &Value, namespace: &str) -> String {
    let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
    if let Some(bare) = name.strip_suffix(&format!("@{CRD_PROVIDER}")) {
        return bare.to_string();
    }
    if name.contains('@') {
        return name.to_string();
    }
    let ns = reference
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or(namespace);
    normalize_name(&format!("{ns}-{name}"))
}

/// The router's `service` as the API will show it.
fn route_service(route: &Value, namespace: &str) -> Option<String> {
    let services = route.get("services").and_then(Value::as_array)?;
    match services.as_slice() {
        [] => None,
        [one] if one.get("kind").and_then(Value::as_str) == Some("TraefikService") => {
            Some(reference_name(one, namespace))
        }
        _ => Some(OWN_LOAD_BALANCER.to_string()),
    }
}

/// A router's `tls` as the API shows it (secretName and domains are not shown).
fn router_tls(tls: &Value, namespace: &str, tcp: bool) -> Value {
    let mut out = Map::new();
    if let Some(resolver) = tls.get("certResolver").and_then(Value::as_str) {
        out.insert("certResolver".into(), json!(resolver));
    }
    if tcp {
        if let Some(passthrough) = tls.get("passthrough").filter(|p| p.as_bool() == Some(true)) {
            out.insert("passthrough".into(), passthrough.clone());
        }
    }
    if let Some(options) = tls.get("options").filter(|o| o.get("name").is_some()) {
        let name = options.get("name").and_then(Value::as_str).unwrap_or("");
        let value = if let Some(bare) = name.strip_suffix(&format!("@{CRD_PROVIDER}")) {
            bare.to_string()
        } else if name.contains('@') {
            name.to_string()
        } else {
            let ns = options
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(namespace);
            format!("{ns}-{name}")
        };
        out.insert("options".into(), json!(value));
    }
    Value::Object(out)
}

/// A Middleware's spec as the API shows the middleware: references become
/// the names Traefik gives them; Secret references (whose content Traefik
/// inlines, e.g. basicAuth users) are left out.
fn middleware_body(body: &mut Value, namespace: &str) {
    if let Some(items) = body
        .pointer_mut("/chain/middlewares")
        .and_then(Value::as_array_mut)
    {
        for item in items.iter_mut() {
            *item = json!(reference_name(item, namespace));
        }
    }
    if let Some(service) = body.pointer_mut("/errors/service") {
        if service.is_object() {
            let name = service.get("name").and_then(Value::as_str).unwrap_or("");
            let ns = service
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(namespace);
            let port = match service.get("port") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            *service = json!(normalize_name(&format!("{ns}-{name}-{port}")));
        }
    }
    drop_secret_references(body);
}

fn drop_secret_references(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| key != "secret" && !key.ends_with("Secret"));
            map.values_mut().for_each(drop_secret_references);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_secret_references),
        _ => {}
    }
}

/// Whether Traefik serves this Ingress: no class, or a class naming Traefik.
fn traefik_ingress(body: &Value) -> bool {
    let class = body
        .pointer("/spec/ingressClassName")
        .or_else(|| body.pointer("/metadata/annotations/kubernetes.io~1ingress.class"))
        .and_then(Value::as_str);
    class.is_none_or(|c| c.to_ascii_lowercase().contains("traefik"))
}

/// The rule Traefik builds for an Ingress path.
fn ingress_rule(host: &str, path: &Value) -> String {
    let mut parts = Vec::new();
    if !host.is_empty() {
        parts.push(format!("Host(`{host}`)"));
    }
    if let Some(p) = path
        .get("path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        let exact = path.get("pathType").and_then(Value::as_str) == Some("Exact");
        parts.push(if exact {
            format!("Path(`{p}`)")
        } else {
            format!("PathPrefix(`{p}`)")
        });
    }
    if parts.is_empty() {
        return "PathPrefix(`/`)".into();
    }
    parts.join(" && ")
}

/// The service Traefik makes for an Ingress backend: `<namespace>-<service>-<port>`.
fn ingress_service(path: &Value, namespace: &str) -> Option<String> {
    let service = path.pointer("/backend/service")?;
    let name = service.get("name").and_then(Value::as_str)?;
    let port = service
        .pointer("/port/number")
        .map(|n| n.to_string())
        .or_else(|| {
            service
                .pointer("/port/name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })?;
    Some(normalize_name(&format!("{namespace}-{name}-{port}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_as_traefik_does() {
        assert_eq!(normalize_name("shop-web.v2--x"), "shop-web-v2-x");
        assert_eq!(normalize_name("-a_b-"), "a-b");
    }

    #[test]
    fn router_names_give_their_prefix_without_the_hash() {
        assert_eq!(
            router_keys(CRD_PROVIDER, "a-b-c-503199db456d19cfb914"),
            vec![("a-b-c".to_string(), None)]
        );
        assert_eq!(
            router_keys(CRD_PROVIDER, "shop_web_1"),
            vec![("shop_web".to_string(), Some(1))]
        );
        assert!(router_keys(CRD_PROVIDER, "a-b-c-01x3").is_empty());
        assert!(router_keys(CRD_PROVIDER, "a-b-c-012345678g").is_empty());
    }

    fn live_router(name: &str, rule: &str) -> Resource {
        let origin = Origin::Live {
            target: "traefik".into(),
            endpoint: "http://127.0.0.1:1".into(),
        };
        traefik_resource(
            "HttpRouter",
            CRD_PROVIDER,
            name,
            json!({"rule": rule, "service": name, "status": "enabled"}),
            origin,
            None,
            json!({}),
        )
    }

    #[test]
    fn a_second_router_for_a_matched_route_is_nobodys() {
        let mut declared = Inventory::default();
        let body = json!({"spec": {"routes": [{"match": "Host(`a.test`)",
            "services": [{"name": "web", "port": 80}]}]}});
        let origin = Origin::Declared {
            file: "r.yaml".into(),
            line: 1,
            commit: None,
        };
        declared
            .insert(Resource::new(
                Source::Kubernetes,
                "traefik.io/v1alpha1",
                "IngressRoute",
                "shop",
                "web",
                body,
                origin,
            ))
            .unwrap();
        let mut live = Inventory::default();
        for name in [
            "shop-web-0000000000aaaaaaaaaa",
            "shop-web-0000000000bbbbbbbbbb",
        ] {
            live.insert(live_router(name, "Host(`a.test`)")).unwrap();
        }
        let view = comparison_view(&declared, &live).unwrap();
        assert_eq!(view.derived.len(), 1);
        let routed = &view.derived[0].identity;
        let matched = view.live.get(routed).expect("the first router is matched");
        assert_eq!(matched.body["service"], OWN_LOAD_BALANCER);
        let second = view
            .live
            .iter()
            .find(|r| r.identity.name == "shop-web-0000000000bbbbbbbbbb")
            .unwrap();
        assert!(view.notes[&second.identity].contains("second router"));
    }

    #[test]
    fn ingress_rules_follow_the_path_type() {
        let prefix = json!({"path": "/api", "pathType": "Prefix"});
        assert_eq!(
            ingress_rule("a.test", &prefix),
            "Host(`a.test`) && PathPrefix(`/api`)"
        );
        let exact = json!({"path": "/x", "pathType": "Exact"});
        assert_eq!(ingress_rule("", &exact), "Path(`/x`)");
    }
}
