//! What the Kubernetes client says when a cluster cannot be read, and how
//! long it takes to say it: every failure mode names the API server's URL and
//! what happened (refused, TLS verdict, timeout, 401/403 with the API's
//! message), a hung server gives up within `--kube-timeout` plus a second,
//! kubeconfig mistakes are input errors (exit 2) naming the path, and every
//! request carries driftaudit's User-Agent.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::common::apiserver::{fixture, ApiServer, ADMIN_TOKEN};
use crate::common::{driftaudit, finish, free_port, write, Run};

/// A kubeconfig with one context `c` for `server`, trusting `ca_pem`.
fn kubeconfig(dir: &Path, server: &str, ca_pem: &str, token: &str) -> PathBuf {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    write(
        dir,
        "kubeconfig",
        &format!("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"),
    )
}

/// A repository declaring one ConfigMap in `shop`.
fn repo(dir: &Path) {
    write(dir, "repo/cm.yaml", &fixture("applied/12-configmap.yaml"));
}

/// `scan --format json` of the repository against the kubeconfig's current
/// context, and how long it took.
fn scan(dir: &Path, config: &Path, extra: &[&str]) -> (Run, Duration) {
    let mut args = vec![
        "scan",
        "--repo",
        "repo",
        "--kubeconfig",
        config.to_str().unwrap(),
        "--kube",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let run = finish(driftaudit().current_dir(dir).args(&args));
    (run, started.elapsed())
}

/// The one whole-cluster gap of an unread cluster: its reason and endpoint.
fn cluster_gap(run: &Run) -> (String, String) {
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    let gaps = report["coverage"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{}", report["coverage"]);
    assert_eq!(gaps[0]["scope"], "the whole cluster");
    assert_eq!(report["summary"]["drift"]["missing"], 0);
    (
        gaps[0]["reason"].as_str().unwrap().to_string(),
        gaps[0]["endpoint"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_refused_connection_names_the_url() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    let server = ApiServer::start();
    let config = kubeconfig(dir.path(), &url, &server.ca_pem, ADMIN_TOKEN);
    let (run, took) = scan(dir.path(), &config, &["--kube-timeout", "5"]);
    let (reason, endpoint) = cluster_gap(&run);
    assert_eq!(endpoint, format!("{url}/"));
    assert!(
        reason.starts_with(&format!("connection refused by {url}/")),
        "{reason}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_certificate_from_another_ca_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server = ApiServer::start();
    // Another CA, of another name (the usual case: UnknownIssuer) and of the
    // same name (the signature does not verify): both are "not trusted".
    for other_name in ["another-ca", "driftaudit-test-ca"] {
        let other = ApiServer::start_with_certificate(&["127.0.0.1"], false, other_name);
        let config = kubeconfig(dir.path(), &server.url, &other.ca_pem, ADMIN_TOKEN);
        let (run, _) = scan(dir.path(), &config, &[]);
        let (reason, _) = cluster_gap(&run);
        assert!(
            reason.starts_with(&format!("TLS: the certificate of {}/ was rejected: it is not signed by a certificate authority the kubeconfig trusts", server.url)),
            "{other_name}: {reason}"
        );
    }
    assert!(
        server.requests().is_empty(),
        "no request passes an untrusted handshake"
    );
}

#[test]
fn a_certificate_for_another_name_is_a_name_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server =
        ApiServer::start_with_certificate(&["api.example.test"], false, "driftaudit-test-ca");
    let config = kubeconfig(dir.path(), &server.url, &server.ca_pem, ADMIN_TOKEN);
    let (run, _) = scan(dir.path(), &config, &[]);
    let (reason, _) = cluster_gap(&run);
    assert!(
        reason.contains("it is not valid for 127.0.0.1 (name mismatch; it names")
            && reason.contains("api.example.test"),
        "{reason}"
    );
}

#[test]
fn an_expired_certificate_says_when_it_expired() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server = ApiServer::start_with_certificate(&["127.0.0.1"], true, "driftaudit-test-ca");
    let config = kubeconfig(dir.path(), &server.url, &server.ca_pem, ADMIN_TOKEN);
    let (run, _) = scan(dir.path(), &config, &[]);
    let (reason, _) = cluster_gap(&run);
    assert!(reason.contains("it expired at 2020-12-31"), "{reason}");
}

#[test]
fn a_refused_token_is_401_with_the_api_s_reason_and_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server = ApiServer::start();
    let token = "bogus-token-canary-4711abcdef";
    let config = kubeconfig(dir.path(), &server.url, &server.ca_pem, token);
    let (run, _) = scan(dir.path(), &config, &[]);
    let (reason, _) = cluster_gap(&run);
    assert_eq!(
        reason,
        format!(
            "401 Unauthorized from {}/: the credentials were refused: Unauthorized",
            server.url
        )
    );
    assert!(!run.all().contains("canary"), "{}", run.all());
}

#[test]
fn a_forbidden_list_gives_the_api_s_message() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server = ApiServer::start();
    server.forbid("configmaps", "shop");
    let config = server.kubeconfig(dir.path());
    let (run, _) = scan(dir.path(), &config, &["--kube-context", "admin"]);
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    let gap = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["scope"] == "v1 ConfigMap in shop")
        .unwrap_or_else(|| panic!("{}", report["coverage"]))
        .clone();
    assert_eq!(
        gap["reason"],
        format!("403 Forbidden from {}/api/v1/namespaces/shop/configmaps: the credentials may not read this: configmaps is forbidden: User \"admin\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"shop\"", server.url)
    );
}

#[test]
fn every_request_carries_driftaudit_s_user_agent() {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let server = ApiServer::start();
    server.add(crate::common::apiserver::fixture_json(
        "configmap-shop-config.get.json",
    ));
    let config = server.kubeconfig(dir.path());
    let (run, _) = scan(dir.path(), &config, &["--kube-context", "admin"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let agents = server.state.lock().unwrap().user_agents.clone();
    assert!(agents.len() >= 3, "{agents:?}");
    let expected = format!("driftaudit/{}", env!("CARGO_PKG_VERSION"));
    assert!(agents.iter().all(|a| *a == expected), "{agents:?}");
}

/// A TCP server that accepts connections and then, per `mode`, never sends
/// anything, or answers HTTP headers and one byte of the body and then
/// stalls (or drips a byte every 300 ms, which defeats a per-read timeout).
struct HungServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Hang {
    Silent,
    AfterHeaders,
    Drip,
}

impl HungServer {
    fn start(mode: Hang) -> HungServer {
        // Port 0: the kernel picks a free port and keeps it ours (no race
        // with other tests between choosing a port and binding it).
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut clients: Vec<std::net::TcpStream> = Vec::new();
            let mut last_drip = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                if let Ok((mut stream, _)) = listener.accept() {
                    if mode != Hang::Silent {
                        // Read the request head, then answer headers only.
                        stream
                            .set_read_timeout(Some(Duration::from_secs(2)))
                            .unwrap();
                        let mut head = Vec::new();
                        let mut byte = [0u8; 1];
                        while !head.ends_with(b"\r\n\r\n")
                            && stream.read(&mut byte).unwrap_or(0) == 1
                        {
                            head.push(byte[0]);
                        }
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
                    }
                    clients.push(stream);
                }
                if mode == Hang::Drip && last_drip.elapsed() >= Duration::from_millis(300) {
                    last_drip = Instant::now();
                    clients.retain_mut(|s| s.write_all(b" ").is_ok());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        HungServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HungServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A hung server is given up on within `--kube-timeout` plus one second, the
/// whole run included, with a reason that says it timed out.
fn gives_up_in_time(mode: Hang, scheme: &str) {
    let dir = tempfile::tempdir().unwrap();
    repo(dir.path());
    let hung = HungServer::start(mode);
    let ca = ApiServer::start();
    let url = format!("{scheme}://127.0.0.1:{}", hung.port);
    let config = kubeconfig(dir.path(), &url, &ca.ca_pem, ADMIN_TOKEN);
    let (run, took) = scan(dir.path(), &config, &["--kube-timeout", "2"]);
    let (reason, endpoint) = cluster_gap(&run);
    assert_eq!(endpoint, format!("{url}/"));
    assert!(
        reason.contains(&format!("{url}/")) && reason.contains("timed out after 2s"),
        "{reason}"
    );
    assert!(
        took < Duration::from_secs(3),
        "gave up after {took:?}, more than --kube-timeout 2 + 1 s"
    );
}

#[test]
fn a_server_that_accepts_and_never_answers_is_given_up_within_the_timeout() {
    gives_up_in_time(Hang::Silent, "https");
}

#[test]
fn a_server_that_stalls_after_the_headers_is_given_up_within_the_timeout() {
    gives_up_in_time(Hang::AfterHeaders, "http");
}

#[test]
fn a_server_that_drips_its_body_is_given_up_within_the_timeout() {
    gives_up_in_time(Hang::Drip, "http");
}

/// Runs `scan --kube` with `args` (and `KUBECONFIG` when given): an input
/// error, exit 2, whose message names `path`.
fn input_error(dir: &Path, args: &[&str], env: Option<&str>, expected: &str) {
    let mut command = driftaudit();
    command.current_dir(dir).args(["scan", "--kube"]).args(args);
    command.env_remove("KUBECONFIG");
    if let Some(value) = env {
        command.env("KUBECONFIG", value);
    }
    let run = finish(&mut command);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains(expected), "{}", run.stderr);
    assert_eq!(run.stdout, "", "no report for a scan that cannot start");
}

#[test]
fn kubeconfig_mistakes_are_input_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = ApiServer::start();
    let config = server.kubeconfig(dir.path());
    let config_text = config.to_str().unwrap();
    let missing = dir.path().join("no-such-kubeconfig");
    let missing_text = missing.to_str().unwrap();
    input_error(
        dir.path(),
        &["--kubeconfig", missing_text],
        None,
        &format!("kubeconfig {missing_text} (--kubeconfig): does not exist"),
    );
    input_error(
        dir.path(),
        &[],
        Some(missing_text),
        &format!("kubeconfig {missing_text} (KUBECONFIG): does not exist"),
    );
    // A directory cannot be read as a file.
    let folder = dir.path().to_str().unwrap();
    input_error(
        dir.path(),
        &["--kubeconfig", folder],
        None,
        &format!("kubeconfig {folder} (--kubeconfig): cannot be read"),
    );
    input_error(
        dir.path(),
        &["--kubeconfig", config_text, "--kube-context", "admni"],
        None,
        &format!(
            "context `admni` is not in kubeconfig {config_text} (it has: admin, reader, down)"
        ),
    );
    // A device would never end: refused without reading it.
    input_error(
        dir.path(),
        &["--kubeconfig", "/dev/zero"],
        None,
        "kubeconfig /dev/zero (--kubeconfig): is not a regular file",
    );
    let broken = write(dir.path(), "broken", "apiVersion: v1\nclusters: [\n");
    input_error(
        dir.path(),
        &["--kubeconfig", broken.to_str().unwrap()],
        None,
        "not a valid kubeconfig",
    );
    // capture checks the same, before it reads anything.
    let run = finish(driftaudit().current_dir(dir.path()).args([
        "capture",
        "--output",
        "out.json",
        "--kubeconfig",
        missing_text,
    ]));
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!dir.path().join("out.json").exists());
    assert!(server.requests().is_empty());
}
