//! Sources that never finish (endless pages, a LIST whose `continue` never
//! ends, a TLS server dripping a byte at a time, a collector slower than the
//! scan) must give up within their deadline with a coverage gap naming what
//! was not read, and the rest of the report must still be written.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::common::apiserver::ApiServer;
use crate::common::traefik::{empty_traefik_answer, StubApi, NOW};
use crate::common::{run_in, write, Run};

fn scan(dir: &std::path::Path, args: &[&str]) -> (Run, Duration) {
    let mut all = args.to_vec();
    all.extend(["--now", NOW, "--format", "json"]);
    let started = Instant::now();
    let run = run_in(dir, &all);
    (run, started.elapsed())
}

fn gap_reasons(run: &Run) -> Vec<String> {
    run.json()["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} | {}",
                g["scope"].as_str().unwrap(),
                g["reason"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn traefik_api_with_endless_next_pages_is_capped_to_a_coverage_gap() {
    let stub = StubApi::start(|target| {
        let bare = target.split('?').next().unwrap_or("");
        if bare == "/api/http/routers" {
            let page: usize = target
                .split("page=")
                .nth(1)
                .and_then(|p| p.split('&').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let item = format!(
                r#"[{{"name":"r{page}@file","rule":"Host(`x`)","service":"s","status":"enabled"}}]"#
            );
            return (
                200,
                vec![("X-Next-Page".into(), (page + 1).to_string())],
                item.into_bytes(),
            );
        }
        empty_traefik_answer(target)
    });
    let dir = tempfile::tempdir().unwrap();
    let (run, took) = scan(
        dir.path(),
        &["scan", "--traefik-url", &stub.url, "--source-timeout", "20"],
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let reasons = gap_reasons(&run);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("/api/http/routers") && r.contains("pages")),
        "{reasons:?}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // Other lists were read: services are in the report's inventory count.
    assert!(stub
        .requests()
        .iter()
        .any(|r| r.starts_with("/api/http/services")));
}

#[test]
fn traefik_api_answer_larger_than_the_body_cap_is_a_coverage_gap() {
    let stub = StubApi::start(|target| {
        if target.starts_with("/api/http/services") {
            // 40 MiB of one JSON string.
            let mut body = Vec::with_capacity(40 << 20);
            body.extend_from_slice(b"[\"");
            body.resize(40 << 20, b'a');
            body.extend_from_slice(b"\"]");
            return (200, vec![], body);
        }
        empty_traefik_answer(target)
    });
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = scan(dir.path(), &["scan", "--traefik-url", &stub.url]);
    assert_eq!(run.code, 3, "{}", run.all());
    let reasons = gap_reasons(&run);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("/api/http/services") && r.contains("MiB")),
        "{reasons:?}"
    );
}

#[test]
fn kube_list_with_endless_continue_is_capped_to_a_coverage_gap() {
    let server = ApiServer::start();
    server.state.lock().unwrap().endless_continue = true;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path());
    write(
        dir.path(),
        "repo/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\ndata:\n  a: b\n",
    );
    let (run, took) = scan(
        dir.path(),
        &[
            "scan",
            "--repo",
            "repo",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--kube",
            "--source-timeout",
            "8",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let reasons = gap_reasons(&run);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("ConfigMap in shop") && r.contains("more than 1000 pages")),
        "the gap names the kind and the cap: {reasons:?}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

const DRIP_RECORD_HEADER: [u8; 5] = [0x16, 0x03, 0x03, 0x40, 0x00];

/// A TCP server that accepts and sends one byte every `interval`, forever.
struct Dripper {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Dripper {
    fn start(interval: Duration) -> Dripper {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut clients = Vec::new();
            let mut last = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                if let Ok((stream, _)) = listener.accept() {
                    clients.push((stream, 0usize));
                }
                if last.elapsed() >= interval {
                    last = Instant::now();
                    // The header of a 16 KiB TLS handshake record, then its
                    // body, one byte at a time: every read gets a byte.
                    clients.retain_mut(|(stream, sent)| {
                        let byte = DRIP_RECORD_HEADER.get(*sent).copied().unwrap_or(0);
                        *sent += 1;
                        stream.write_all(&[byte]).is_ok()
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Dripper {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Dripper {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn tls_endpoint_dripping_one_byte_at_a_time_hits_the_handshake_deadline() {
    let dripper = Dripper::start(Duration::from_millis(500));
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("127.0.0.1:{}", dripper.port);
    let (run, took) = scan(
        dir.path(),
        &["scan", "--tls-endpoint", &endpoint, "--source-timeout", "3"],
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let reasons = gap_reasons(&run);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&endpoint) && r.contains("--source-timeout")),
        "{reasons:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn the_config_s_tls_section_and_timeouts_bound_a_dripping_endpoint_too() {
    let dripper = Dripper::start(Duration::from_millis(500));
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("127.0.0.1:{}", dripper.port);
    write(
        dir.path(),
        "driftaudit.yaml",
        &format!("timeouts:\n  source: 3\ntls:\n  endpoints: [\"{endpoint}\"]\n"),
    );
    let (run, took) = scan(dir.path(), &["scan"]);
    assert_eq!(run.code, 3, "{}", run.all());
    let reasons = gap_reasons(&run);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&endpoint) && r.contains("of 3 s")),
        "{reasons:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn scan_deadline_leaves_later_sources_as_gaps_and_still_writes_the_report() {
    let dripper = Dripper::start(Duration::from_millis(500));
    let stub = StubApi::start(empty_traefik_answer);
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("127.0.0.1:{}", dripper.port);
    write(
        dir.path(),
        "snap.json",
        &crate::common::snapshot_json(
            "snap",
            &[crate::common::live_deployment(
                "app",
                "shop",
                1,
                "registry.example.com/app:1.0",
            )],
        ),
    );
    let (run, took) = scan(
        dir.path(),
        &[
            "scan",
            "--live-snapshot",
            "snap.json",
            "--tls-endpoint",
            &endpoint,
            "--traefik-url",
            &stub.url,
            "--scan-timeout",
            "2",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    let targets: Vec<&str> = report["scan"]["live"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    assert!(
        targets.contains(&"snap"),
        "the snapshot was still read: {}",
        run.stdout
    );
    let reasons = gap_reasons(&run);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&endpoint) && r.contains("--scan-timeout")),
        "{reasons:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn source_and_scan_timeouts_must_be_positive_numbers() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--source-timeout", "--scan-timeout"] {
        let (run, _) = scan(
            dir.path(),
            &["scan", "--live-snapshot", "x.json", flag, "0"],
        );
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains(flag), "{}", run.stderr);
    }
}

#[test]
fn hung_pgbackrest_is_killed_at_the_source_deadline() {
    let dir = tempfile::tempdir().unwrap();
    // A repository host that never answers: `pgbackrest info` hangs.
    let pid_file = dir.path().join("pgbackrest.pid");
    let fake = write(
        dir.path(),
        "bin/pgbackrest",
        &format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 300\n",
            pid_file.display()
        ),
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let started = Instant::now();
    let run = crate::common::finish(
        crate::common::driftaudit()
            .current_dir(dir.path())
            .env("PATH", path)
            .args([
                "scan",
                "--pgbackrest-stanza",
                "main",
                "--source-timeout",
                "2",
            ])
            .args(["--now", NOW, "--format", "json"]),
    );
    let took = started.elapsed();
    assert_eq!(run.code, 3, "{}", run.all());
    let reasons = gap_reasons(&run);
    assert!(
        reasons.iter().any(|r| r.contains("--source-timeout")),
        "{reasons:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let alive = std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
    if alive {
        // By PID: only the child this test planted.
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    assert!(!alive, "the hung pgbackrest was left running");
}
