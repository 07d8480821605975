//! Credentials planted in every place a source can carry them (kubeconfig,
//! exec plugin output, error bodies echoed by servers, Traefik middlewares,
//! snapshots, the Traefik URL) must never reach standard output or standard
//! error, in text or JSON.

use std::path::Path;

use serde_json::{json, Value};

use crate::common::apiserver::ApiServer;
use crate::common::traefik::{empty_traefik_answer, Api, StubApi, Traefik, NOW};
use crate::common::{driftaudit, finish, write, Run};

/// Runs `args` in `dir` once per format (text, json), then twice more in text
/// with the most verbose logging: `-vvv` (every event of driftaudit on
/// stderr) and `RUST_LOG=trace` (which asks for every library's events too,
/// kube-client's error bodies among them), and returns the four runs.
fn run_both(dir: &Path, args: &[&str]) -> Vec<Run> {
    [
        ("text", None, None),
        ("json", None, None),
        ("text", Some("-vvv"), None),
        ("text", None, Some("trace")),
    ]
    .iter()
    .map(|(format, verbose, rust_log)| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--now", NOW, "--format", format]);
        all.extend(verbose.iter());
        let mut command = driftaudit();
        command.current_dir(dir).args(&all);
        if let Some(filter) = rust_log {
            command.env("RUST_LOG", filter);
        }
        finish(&mut command)
    })
    .collect()
}

fn assert_absent(runs: &[Run], secrets: &[&str]) {
    for run in runs {
        for secret in secrets {
            assert!(
                !run.all().contains(secret),
                "`{secret}` leaked:\n{}",
                run.all()
            );
        }
    }
}

const KUBE_TOKEN: &str = "kubetoken-canary-5e1d";

#[test]
fn malformed_kubeconfig_token_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    // A token on a line whose indentation breaks the YAML: parsers quote the
    // offending line in their message.
    write(
        dir.path(),
        "kubeconfig",
        &format!("apiVersion: v1\nkind: Config\ncurrent-context: a\nusers:\n- name: a\n  user:\n    token: {KUBE_TOKEN}\n   bad: [\ncontexts: {{\n"),
    );
    let runs = run_both(
        dir.path(),
        &["scan", "--kubeconfig", "kubeconfig", "--kube"],
    );
    for run in &runs {
        // An unusable kubeconfig is an input error (exit 2), naming the file.
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.all().contains("kubeconfig"), "{}", run.all());
    }
    assert_absent(&runs, &[KUBE_TOKEN, "kubetoken"]);
}

#[test]
fn failing_exec_plugin_output_is_never_printed() {
    let server = ApiServer::start();
    let dir = tempfile::tempdir().unwrap();
    let plugin = write(
        dir.path(),
        "plugin.sh",
        &format!("#!/bin/sh\necho '{{\"status\":{{\"token\":\"{KUBE_TOKEN}\"}}}}'\necho \"token {KUBE_TOKEN} refused\" >&2\nexit 1\n"),
    );
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    write(
        dir.path(),
        "kubeconfig",
        &format!("apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster:\n    server: {}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\ncontexts:\n- name: a\n  context:\n    cluster: c\n    user: u\n", server.url, plugin.display()),
    );
    let runs = run_both(
        dir.path(),
        &["scan", "--kubeconfig", "kubeconfig", "--kube"],
    );
    for run in &runs {
        assert_eq!(run.code, 3, "{}", run.all());
        assert!(
            run.all().contains("exec"),
            "the category is named: {}",
            run.all()
        );
    }
    assert_absent(&runs, &[KUBE_TOKEN, "kubetoken"]);
}

#[test]
fn apiserver_status_message_echoing_a_bearer_token_is_never_printed() {
    for code in [403u16, 500] {
        let server = ApiServer::start();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = server.kubeconfig(dir.path());
        server.state.lock().unwrap().list_status = Some((
            code,
            format!("request rejected: Authorization: Bearer {KUBE_TOKEN}"),
        ));
        write(
            dir.path(),
            "repo/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\ndata:\n  a: b\n",
        );
        let runs = run_both(
            dir.path(),
            &[
                "scan",
                "--repo",
                "repo",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--kube",
            ],
        );
        for run in &runs {
            assert_eq!(run.code, 3, "{}", run.all());
            assert!(run.all().contains(&code.to_string()), "{}", run.all());
        }
        assert_absent(&runs, &[KUBE_TOKEN, "kubetoken"]);
    }
}

const API_TOKEN: &str = "apitoken-canary-93ab";

#[test]
fn traefik_5xx_body_echoing_the_token_is_never_printed() {
    let stub = StubApi::start(|_| {
        (
            502,
            vec![],
            format!("upstream said: Authorization: Bearer {API_TOKEN}").into_bytes(),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "token", API_TOKEN);
    let runs = run_both(
        dir.path(),
        &[
            "scan",
            "--traefik-url",
            &stub.url,
            "--traefik-token-file",
            "token",
        ],
    );
    for run in &runs {
        assert_eq!(run.code, 3, "{}", run.all());
        assert!(run.all().contains("502"), "{}", run.all());
    }
    assert_absent(&runs, &[API_TOKEN, "apitoken"]);
}

#[test]
fn traefik_url_query_token_is_never_printed_and_the_api_path_is_joined_before_it() {
    let stub = StubApi::start(|target| {
        if target.contains(&format!("token={API_TOKEN}")) {
            empty_traefik_answer(target)
        } else {
            (401, vec![], b"no token".to_vec())
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/?token={API_TOKEN}", stub.url);
    let runs = run_both(dir.path(), &["scan", "--traefik-url", &url]);
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.all());
    }
    assert_absent(&runs, &[API_TOKEN, "apitoken"]);
    let requests = stub.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == &format!("/api/version?token={API_TOKEN}")),
        "{requests:?}"
    );
    assert!(
        requests.iter().all(|r| r.starts_with("/api/")),
        "{requests:?}"
    );
    // Failing calls name the endpoint without its query either.
    drop(stub);
    let runs = run_both(dir.path(), &["scan", "--traefik-url", &url]);
    for run in &runs {
        assert_eq!(run.code, 3, "{}", run.all());
    }
    assert_absent(&runs, &[API_TOKEN, "apitoken"]);
}

/// Credentials in every form a Traefik middleware or service can hold them.
const HTPASSWD: &str = "admin:$apr1$canary61$string-form";
const HTPASSWD_LIST: &str = "ops:$apr1$canary62$list-form";
const DIGEST_USER: &str = "dig:realm:canary63digesthash";
const HEADER_KEY: &str = "hdr-canary-64";
const HEADER_TOKEN: &str = "hdr-canary-65";
const HEADER_COOKIE: &str = "hdr-canary-66";
const URL_PASSWORD: &str = "urlpw-canary-67";
const QUERY_TOKEN: &str = "qtoken-canary-68";
const ALL_CANARIES: [&str; 9] = [
    "canary61",
    "canary62",
    "canary63",
    "canary-64",
    "canary-65",
    "canary-66",
    "canary-67",
    "canary-68",
    "canary",
];

fn traefik_dynamic() -> String {
    format!(
        r#"http:
  routers:
    app:
      rule: "Host(`app.example.test`)"
      entryPoints: [web]
      service: app-svc
      middlewares: [auth, digest, hdrs, fwd]
  services:
    app-svc:
      loadBalancer:
        servers:
          - url: "http://svcuser:{URL_PASSWORD}@127.0.0.1:19001/base?access_token={QUERY_TOKEN}&page=2"
  middlewares:
    auth:
      basicAuth:
        users:
          - "{HTPASSWD_LIST}"
    digest:
      digestAuth:
        users:
          - "{DIGEST_USER}"
    hdrs:
      headers:
        customRequestHeaders:
          X-Api-Key: "{HEADER_KEY}"
          X-Auth-Token: "{HEADER_TOKEN}"
          Cookie: "session={HEADER_COOKIE}"
          X-Plain: "visible-value"
    fwd:
      forwardAuth:
        address: "https://fwd:{URL_PASSWORD}@auth.example.test:9443/check?token={QUERY_TOKEN}"
"#
    )
}

/// A policy that puts the whole policy input into a finding: whatever the
/// policy engine sees, the report shows.
const ECHO_POLICY: &str = "package test.echo\n\n# METADATA\n# title: echo\n# custom:\n#   id: TEST-ECHO\n#   severity: info\ndeny_echo contains {\"msg\": sprintf(\"%v\", [input])} if {\n  input.state != \"\"\n}\n";

fn traefik_repo(dynamic: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "driftaudit.yaml",
        "git:\n  traefik: [\"traefik/**/*.yml\"]\n",
    );
    write(repo.path(), "traefik/dynamic.yml", dynamic);
    write(repo.path(), "policies/echo.rego", ECHO_POLICY);
    repo
}

fn drifted(report: &Value) -> Vec<String> {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "in_sync")
        .map(|d| {
            format!(
                "{} {} {}",
                d["resource"]["kind"], d["resource"]["name"], d["status"]
            )
        })
        .collect()
}

#[test]
fn traefik_credentials_in_every_form_never_printed_live_or_through_a_snapshot() {
    let traefik = Traefik::start(Api::Insecure, &traefik_dynamic(), &[]);
    let repo = traefik_repo(&traefik_dynamic());
    let live = [
        "scan",
        "--repo",
        ".",
        "--policy",
        "policies",
        "--fail-on",
        "none",
        "--show-diff",
        "--traefik-url",
        &traefik.api,
    ];
    let runs = run_both(repo.path(), &live);
    assert_eq!(runs[1].code, 0, "{}", runs[1].all());
    assert_eq!(
        drifted(&runs[1].json()),
        Vec::<String>::new(),
        "{}",
        runs[1].stdout
    );
    assert!(runs[1].stdout.contains("TEST-ECHO"), "the echo policy ran");
    assert!(
        runs[1].stdout.contains("visible-value"),
        "plain headers stay"
    );
    assert_absent(&runs, &ALL_CANARIES);

    // Outside the repository: the declared read would take it for a manifest.
    let scratch = tempfile::tempdir().unwrap();
    let snapshot_path = scratch.path().join("snap.json");
    let snapshot_arg = snapshot_path.to_str().unwrap();
    let capture = finish(driftaudit().current_dir(repo.path()).args([
        "capture",
        "--traefik-url",
        &traefik.api,
        "--output",
        snapshot_arg,
    ]));
    assert_eq!(capture.code, 0, "{}", capture.all());
    let snapshot = std::fs::read_to_string(&snapshot_path).unwrap();
    for canary in ALL_CANARIES {
        assert!(
            !snapshot.contains(canary),
            "{canary} in the snapshot:\n{snapshot}"
        );
    }
    drop(traefik);
    let offline = [
        "scan",
        "--repo",
        ".",
        "--policy",
        "policies",
        "--fail-on",
        "none",
        "--show-diff",
        "--live-snapshot",
        snapshot_arg,
    ];
    let runs = run_both(repo.path(), &offline);
    assert_eq!(runs[1].code, 0, "{}", runs[1].all());
    assert_eq!(
        drifted(&runs[1].json()),
        Vec::<String>::new(),
        "{}",
        runs[1].stdout
    );
    assert_absent(&runs, &ALL_CANARIES);
}

/// A snapshot written by hand (or by an older driftaudit) with Traefik
/// credentials in clear, in the forms the file provider accepts and a few it
/// does not (a users string, a list of maps).
#[test]
fn hand_made_snapshot_traefik_credentials_are_normalised_like_live_ones() {
    let repo = traefik_repo(&traefik_dynamic());
    let live_object = |kind: &str, name: &str, object: Value| {
        json!({"source": "traefik", "endpoint": "http://127.0.0.1:8080",
            "identity": {"apiVersion": "traefik.driftaudit.io/v1", "kind": kind, "name": name},
            "object": object})
    };
    let resources = vec![
        live_object(
            "HttpRouter",
            "app",
            json!({"rule": "Host(`app.example.test`)", "entryPoints": ["web"],
            "service": "app-svc@file", "middlewares": ["auth@file", "digest@file", "hdrs@file", "fwd@file"],
            "status": "enabled", "using": ["web"], "name": "app@file", "provider": "file"}),
        ),
        live_object(
            "HttpService",
            "app-svc",
            json!({"loadBalancer": {"servers": [{"url":
            format!("http://svcuser:{URL_PASSWORD}@127.0.0.1:19001/base?access_token={QUERY_TOKEN}&page=2")}]},
            "status": "enabled", "usedBy": ["app@file"], "serverStatus": {}}),
        ),
        live_object(
            "HttpMiddleware",
            "auth",
            json!({"basicAuth": {"users": [HTPASSWD_LIST]}, "status": "enabled"}),
        ),
        live_object(
            "HttpMiddleware",
            "digest",
            json!({"digestAuth": {"users": [DIGEST_USER]}, "status": "enabled"}),
        ),
        live_object(
            "HttpMiddleware",
            "hdrs",
            json!({"headers": {"customRequestHeaders": {
            "X-Api-Key": HEADER_KEY, "X-Auth-Token": HEADER_TOKEN, "Cookie": format!("session={HEADER_COOKIE}"),
            "X-Plain": "visible-value"}}, "status": "enabled"}),
        ),
        live_object(
            "HttpMiddleware",
            "fwd",
            json!({"forwardAuth": {"address":
            format!("https://fwd:{URL_PASSWORD}@auth.example.test:9443/check?token={QUERY_TOKEN}")}, "status": "enabled"}),
        ),
        live_object(
            "HttpMiddleware",
            "string-users",
            json!({"basicAuth": {"users": HTPASSWD}}),
        ),
        live_object(
            "HttpMiddleware",
            "map-users",
            json!({"basicAuth": {"users": [{"name": "admin", "password": HTPASSWD}]}}),
        ),
    ];
    let snapshot = json!({"format": "driftaudit-snapshot", "version": 1,
        "targets": [{"name": "edge", "sources": ["traefik"], "resources": resources}]});
    let scratch = tempfile::tempdir().unwrap();
    let snapshot_path = write(scratch.path(), "snap.json", &snapshot.to_string());
    let runs = run_both(
        repo.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--policy",
            "policies",
            "--fail-on",
            "none",
            "--show-diff",
            "--live-snapshot",
            snapshot_path.to_str().unwrap(),
        ],
    );
    let report = runs[1].json();
    assert_eq!(report["errors"], json!([]), "{}", runs[1].stdout);
    let drift = drifted(&report);
    assert_eq!(
        drift,
        vec![
            "\"HttpMiddleware\" \"map-users\" \"unmanaged\"".to_string(),
            "\"HttpMiddleware\" \"string-users\" \"unmanaged\"".to_string(),
        ],
        "{}",
        runs[1].stdout
    );
    assert!(
        runs[1].stdout.contains("visible-value"),
        "plain headers stay"
    );
    assert!(
        runs[1].stdout.contains("auth.example.test:9443/check"),
        "host and path stay"
    );
    assert_absent(&runs, &ALL_CANARIES);
}

#[test]
fn secret_lists_in_a_snapshot_are_split_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = |name: &str, value: &str| {
        json!({"metadata": {"name": name, "namespace": "shop"}, "type": "Opaque",
            "data": {"password": base64_of(value)}, "stringData": {"plain": value}})
    };
    let secret_list = json!({"apiVersion": "v1", "kind": "SecretList", "metadata": {"resourceVersion": "1"},
        "items": [secret("one", "seclist-canary-71"), secret("two", "seclist-canary-72")]});
    let mut typed = secret("three", "seclist-canary-73");
    typed["apiVersion"] = json!("v1");
    typed["kind"] = json!("Secret");
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [typed]});
    let resources: Vec<Value> = [secret_list, list]
        .into_iter()
        .map(|o| json!({"source": "kubernetes", "endpoint": "https://127.0.0.1:6443", "object": o}))
        .collect();
    let snapshot = json!({"format": "driftaudit-snapshot", "version": 1,
        "targets": [{"name": "prod", "resources": resources}]});
    write(dir.path(), "snap.json", &snapshot.to_string());
    write(dir.path(), "policies/echo.rego", ECHO_POLICY);
    let runs = run_both(
        dir.path(),
        &[
            "scan",
            "--live-snapshot",
            "snap.json",
            "--policy",
            "policies",
            "--fail-on",
            "none",
        ],
    );
    let report = runs[1].json();
    let mut names: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "TEST-ECHO" && f["resource"]["kind"] == "Secret")
        .map(|f| f["resource"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["one", "three", "two"], "{}", runs[1].stdout);
    assert_absent(
        &runs,
        &[
            "seclist-canary",
            &base64_of("seclist-canary-71"),
            &base64_of("seclist-canary-73"),
        ],
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
