//! Traefik end to end, through the binary, against the real Traefik 3.7:
//! zero drift for the declared configuration, each single change reported as
//! exactly that change, disabled routers, certificate expiry from the API and
//! from Git, credentials never printed, and unreadable APIs as coverage gaps.

use crate::common::traefik::{certificate, now, write_pair, Api, Traefik, NOW};
use crate::common::{findings_for, run_in, write, Run};
use serde_json::Value;
use time::Duration;

/// A basicAuth entry as htpasswd writes it; it must never reach any output.
const CANARY_USER: &str = "admin:$apr1$canary77$Zr8vYq0do-not-print";
const CANARY_EXTRA: &str = "debug:$apr1$canary88$Xq1do-not-print";

fn dynamic_config() -> String {
    format!(
        r#"# Declared dynamic configuration (file provider).
http:
  routers:
    app-web:
      rule: "Host(`app.example.test`)"
      entryPoints:
        - web
      service: app-svc
      middlewares:
        - security-headers
    admin-secure:
      rule: "Host(`admin.example.test`) && PathPrefix(`/admin`)"
      entryPoints:
        - websecure
      service: admin-svc
      middlewares:
        - admin-auth
        - security-headers
      priority: 100
      tls: {{}}
  services:
    app-svc:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:19001"
          - url: "http://127.0.0.1:19002"
    admin-svc:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:19003"
  middlewares:
    security-headers:
      headers:
        stsSeconds: 31536000
        frameDeny: true
        customResponseHeaders:
          X-Drift-Fixture: "true"
    admin-auth:
      basicAuth:
        realm: "driftaudit-admin"
        users:
          - "{CANARY_USER}"
tls:
  options:
    default:
      minVersion: VersionTLS12
    modern:
      minVersion: VersionTLS13
  certificates:
    - certFile: certs/app.crt
      keyFile: certs/app.key
"#
    )
}

/// An expected drift entry: kind, name, status, change paths.
type Expected<'a> = (&'a str, &'a str, &'a str, Vec<&'a str>);

struct Setup {
    traefik: Traefik,
    repo: tempfile::TempDir,
}

/// Traefik running `dynamic_config()` with a 400-day certificate, and a
/// repository declaring the same configuration and certificate.
fn setup() -> Setup {
    let app = certificate(
        "app.example.test",
        &["app.example.test"],
        now() - Duration::days(1),
        now() + Duration::days(400),
    );
    let traefik = Traefik::start(
        Api::Insecure,
        &dynamic_config(),
        &[
            ("certs/app.crt", app.0.clone()),
            ("certs/app.key", app.1.clone()),
        ],
    );
    let repo = tempfile::tempdir().unwrap();
    write(
        repo.path(),
        "driftaudit.yaml",
        "git:\n  traefik: [\"traefik/**/*.yml\", \"traefik/**/*.toml\"]\n",
    );
    write(
        repo.path(),
        "traefik/dynamic/dynamic.yml",
        &dynamic_config(),
    );
    // Only the certificate: a key never belongs in Git (and is not needed).
    write(repo.path(), "traefik/certs/app.crt", &app.0);
    Setup { traefik, repo }
}

fn scan(setup: &Setup, extra: &[&str]) -> Run {
    let mut args = vec![
        "scan",
        "--repo",
        ".",
        "--traefik-url",
        &setup.traefik.api,
        "--now",
        NOW,
        "--format",
        "json",
    ];
    args.extend(extra);
    run_in(setup.repo.path(), &args)
}

/// (kind, name, status, change paths) of every drift entry that is not in sync.
fn drifted(report: &Value) -> Vec<(String, String, String, Vec<String>)> {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] != "in_sync")
        .map(|d| {
            (
                d["resource"]["kind"].as_str().unwrap().to_string(),
                d["resource"]["name"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
                d["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["path"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn assert_no_canary(run: &Run) {
    for canary in [CANARY_USER, CANARY_EXTRA, "canary77", "canary88"] {
        assert!(
            !run.all().contains(canary),
            "credential leaked:\n{}",
            run.all()
        );
    }
}

#[test]
fn declared_configuration_is_in_sync_and_each_change_is_reported_as_itself() {
    let setup = setup();
    let r = scan(&setup, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    let report = r.json();
    assert_eq!(drifted(&report), vec![], "{}", r.stdout);
    // Its identity in the evidence block: the URL and the version it reports.
    let target = &report["evidence"]["targets"][0];
    assert_eq!(target["url"], setup.traefik.api.as_str(), "{target}");
    assert!(
        target["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{target}"
    );
    let in_sync: Vec<&str> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["resource"]["kind"].as_str().unwrap())
        .collect();
    // Two routers, two services, two middlewares and the certificate; TLS
    // options are not exposed by the API and so not compared.
    assert_eq!(in_sync.len(), 7, "{in_sync:?}");
    assert!(in_sync.contains(&"TLSCertificate"));
    assert!(!in_sync.contains(&"TLSOptions"));
    assert_no_canary(&r);

    let base = dynamic_config();
    let cases: Vec<(&str, String, Vec<Expected>)> = vec![
        (
            "rule",
            base.replace(
                "rule: \"Host(`app.example.test`)\"",
                "rule: \"Host(`app.example.test`) || Host(`www.example.test`)\"",
            ),
            vec![("HttpRouter", "app-web", "modified", vec!["rule"])],
        ),
        (
            "entryPoints",
            base.replace(
                "      entryPoints:\n        - websecure\n",
                "      entryPoints:\n        - web\n",
            ),
            vec![("HttpRouter", "admin-secure", "modified", vec!["entryPoints[0]"])],
        ),
        (
            "middleware chain",
            base.replace(
                "      middlewares:\n        - admin-auth\n        - security-headers\n",
                "      middlewares:\n        - admin-auth\n",
            ),
            vec![("HttpRouter", "admin-secure", "modified", vec!["middlewares[1]"])],
        ),
        (
            "service",
            base.replace("      service: app-svc\n", "      service: admin-svc\n"),
            vec![("HttpRouter", "app-web", "modified", vec!["service"])],
        ),
        (
            "TLS options",
            base.replace("      tls: {}\n", "      tls:\n        options: modern\n"),
            vec![("HttpRouter", "admin-secure", "modified", vec!["tls.options"])],
        ),
        (
            "load-balancer servers",
            base.replace("          - url: \"http://127.0.0.1:19002\"\n", ""),
            vec![("HttpService", "app-svc", "modified", vec!["loadBalancer.servers[1]"])],
        ),
        (
            "a server's address",
            base.replace("19003", "19005"),
            vec![("HttpService", "admin-svc", "modified", vec!["loadBalancer.servers[0].url"])],
        ),
        (
            "middleware settings",
            base.replace("stsSeconds: 31536000", "stsSeconds: 300"),
            vec![("HttpMiddleware", "security-headers", "modified", vec!["headers.stsSeconds"])],
        ),
        (
            "basicAuth users",
            base.replace(
                &format!("          - \"{CANARY_USER}\"\n"),
                &format!("          - \"{CANARY_USER}\"\n          - \"{CANARY_EXTRA}\"\n"),
            ),
            vec![("HttpMiddleware", "admin-auth", "modified", vec!["basicAuth.users[1]"])],
        ),
        (
            "an added router",
            base.replace(
                "  services:\n",
                "    extra:\n      rule: \"Host(`extra.example.test`)\"\n      service: app-svc\n  services:\n",
            ),
            vec![("HttpRouter", "extra", "unmanaged", vec![])],
        ),
    ];
    for (what, live_config, expected) in cases {
        setup.traefik.set_dynamic(&live_config);
        let r = scan(&setup, &[]);
        assert_no_canary(&r);
        let report = r.json();
        let expected: Vec<(String, String, String, Vec<String>)> = expected
            .into_iter()
            .map(|(k, n, s, paths)| {
                (
                    k.into(),
                    n.into(),
                    s.into(),
                    paths.into_iter().map(String::from).collect(),
                )
            })
            .collect();
        assert_eq!(
            drifted(&report),
            expected,
            "change of {what}:\n{}",
            r.stdout
        );
        if what == "basicAuth users" {
            let change = &report["drift"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["resource"]["name"] == "admin-auth")
                .unwrap()["changes"][0];
            assert_eq!(change["live"], "<redacted: changed>");
            assert_eq!(change["declared"], Value::Null);
            let text = run_in(
                setup.repo.path(),
                &[
                    "diff",
                    "--repo",
                    ".",
                    "--traefik-url",
                    &setup.traefik.api,
                    "--now",
                    NOW,
                ],
            );
            assert!(
                text.stdout.contains("<redacted: changed>"),
                "{}",
                text.stdout
            );
            assert_no_canary(&text);
        }
    }
}

#[test]
fn a_replaced_certificate_is_missing_and_the_new_one_unmanaged() {
    let setup = setup();
    let old = certificate(
        "old.example.test",
        &["old.example.test"],
        now() - Duration::days(60),
        now() - Duration::days(3),
    );
    write_pair(&setup.traefik.path("certs"), "old", &old);
    setup.traefik.set_dynamic(
        &dynamic_config()
            .replace("certs/app.crt", "certs/old.crt")
            .replace("certs/app.key", "certs/old.key"),
    );
    let r = scan(&setup, &[]);
    let report = r.json();
    let mut statuses: Vec<(String, String)> = drifted(&report)
        .into_iter()
        .map(|(kind, _, status, _)| (kind, status))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("TLSCertificate".to_string(), "missing".to_string()),
            ("TLSCertificate".to_string(), "unmanaged".to_string())
        ],
        "{}",
        r.stdout
    );
    // The served certificate expired three days before the scan clock.
    let expired: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "DA-CERT-001")
        .collect();
    assert_eq!(expired.len(), 1, "{}", r.stdout);
    let message = expired[0]["message"].as_str().unwrap();
    assert!(message.contains("CN=old.example.test"), "{message}");
    assert!(
        message.contains(&format!("Traefik {}/api/certificates", setup.traefik.api)),
        "{message}"
    );
    assert!(message.contains("(3 days ago)"), "{message}");
    assert_eq!(r.code, 1, "a critical finding fails the scan");
}

#[test]
fn a_disabled_router_is_a_finding_declared_or_not() {
    let setup = setup();
    let broken = format!(
        "{}    legacy-api:\n      rule: \"Host(`old.example.test`)\"\n      entryPoints: [websecure]\n      service: missing-svc\n      tls: {{}}\n",
        dynamic_config().split("  services:\n").next().unwrap()
    ) + "  services:\n"
        + dynamic_config().split("  services:\n").nth(1).unwrap();
    setup.traefik.set_dynamic(&broken);

    // Live only: nothing declared.
    let live_only = run_in(
        setup.repo.path(),
        &[
            "scan",
            "--traefik-url",
            &setup.traefik.api,
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    let report = live_only.json();
    let findings = findings_for(&report, "DA-TRAEFIK-001", "legacy-api");
    assert_eq!(findings.len(), 1, "{}", live_only.stdout);
    assert_eq!(
        findings[0]["message"],
        "router legacy-api is disabled in the running Traefik: the service \"missing-svc@file\" does not exist"
    );
    assert_eq!(live_only.code, 1);
    assert!(findings_for(&report, "DA-TRAEFIK-001", "app-web").is_empty());

    // Declared too: still a finding, located at the router's rule in Git.
    write(setup.repo.path(), "traefik/dynamic/dynamic.yml", &broken);
    let declared = scan(&setup, &[]);
    let report = declared.json();
    let findings = findings_for(&report, "DA-TRAEFIK-001", "legacy-api");
    assert_eq!(findings.len(), 1, "{}", declared.stdout);
    let rule_line = broken
        .lines()
        .position(|l| l.contains("old.example.test"))
        .unwrap()
        + 1;
    assert_eq!(
        findings[0]["location"]["file"],
        "traefik/dynamic/dynamic.yml"
    );
    assert_eq!(findings[0]["location"]["line"], rule_line);
    assert_eq!(
        crate::common::drift_status(&report, "HttpRouter", "legacy-api").as_deref(),
        Some("in_sync")
    );
}

#[test]
fn certificate_expiry_uses_the_baseline_thresholds_and_points_at_git() {
    let setup = setup();
    let pairs = [
        ("expired", -3),
        ("expiring", 10),
        ("warning", 20),
        ("healthy", 400),
    ];
    let mut dynamic = dynamic_config();
    for (name, days) in pairs {
        let host = format!("{name}.example.test");
        let pair = certificate(
            &host,
            &[&host],
            now() - Duration::days(100),
            now() + Duration::days(days) + Duration::hours(1),
        );
        write_pair(&setup.traefik.path("certs"), name, &pair);
        write(
            setup.repo.path(),
            &format!("traefik/certs/{name}.crt"),
            &pair.0,
        );
        dynamic.push_str(&format!(
            "    - certFile: certs/{name}.crt\n      keyFile: certs/{name}.key\n"
        ));
    }
    setup.traefik.set_dynamic(&dynamic);
    write(setup.repo.path(), "traefik/dynamic/dynamic.yml", &dynamic);

    // Live only: the API's certificates.
    let r = run_in(
        setup.repo.path(),
        &[
            "scan",
            "--traefik-url",
            &setup.traefik.api,
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    let report = r.json();
    let rules_by_subject = |report: &Value, state: &str| -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["category"] == "certificates")
            .filter(|f| f["states"].as_array().unwrap().iter().any(|s| s == state))
            .map(|f| {
                let message = f["message"].as_str().unwrap();
                let subject = message.split(' ').nth(1).unwrap().to_string();
                (f["rule"].as_str().unwrap().to_string(), subject)
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        rules_by_subject(&report, "live"),
        [
            ("DA-CERT-001".into(), "CN=expired.example.test".into()),
            ("DA-CERT-002".into(), "CN=expiring.example.test".into()),
            ("DA-CERT-003".into(), "CN=warning.example.test".into()),
        ],
        "{}",
        r.stdout
    );
    let warning = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-CERT-003")
        .unwrap();
    let not_after = (now() + Duration::days(20) + Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(
        warning["message"],
        format!(
            "certificate CN=warning.example.test (Traefik {}/api/certificates) expires on {not_after}, in 20 days (certificates.warn_days is 30)",
            setup.traefik.api
        )
    );

    // A baseline moves the thresholds: warn_days 15 drops the 20-day warning.
    write(
        setup.repo.path(),
        "strict.yaml",
        "certificates:\n  warn_days: 15\n  fail_days: 5\n",
    );
    let r = run_in(
        setup.repo.path(),
        &[
            "scan",
            "--traefik-url",
            &setup.traefik.api,
            "--now",
            NOW,
            "--format",
            "json",
            "--baseline",
            "strict.yaml",
        ],
    );
    assert_eq!(
        rules_by_subject(&r.json(), "live"),
        [
            ("DA-CERT-001".into(), "CN=expired.example.test".into()),
            ("DA-CERT-003".into(), "CN=expiring.example.test".into()),
        ]
    );

    // Declared: the PEM files in Git, findings at the certFile line.
    let r = run_in(
        setup.repo.path(),
        &["scan", "--repo", ".", "--now", NOW, "--format", "json"],
    );
    let report = r.json();
    assert_eq!(
        rules_by_subject(&report, "declared").len(),
        3,
        "{}",
        r.stdout
    );
    let expired = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-CERT-001")
        .unwrap();
    let line = dynamic
        .lines()
        .position(|l| l.contains("certs/expired.crt"))
        .unwrap()
        + 1;
    assert_eq!(expired["location"]["line"], line, "{expired}");
    assert_eq!(expired["path"], "certFile");
    let message = expired["message"].as_str().unwrap();
    assert!(
        message.contains("(traefik/certs/expired.crt (tls.certificates[1].certFile in traefik/dynamic/dynamic.yml))"),
        "{message}"
    );
}

#[test]
fn toml_declarations_compare_like_yaml() {
    let setup = setup();
    std::fs::remove_file(setup.repo.path().join("traefik/dynamic/dynamic.yml")).unwrap();
    let toml = format!(
        r#"[http.routers.app-web]
rule = "Host(`app.example.test`)"
entryPoints = ["web"]
service = "app-svc@file"
middlewares = ["security-headers"]

[http.routers.admin-secure]
rule = "Host(`admin.example.test`) && PathPrefix(`/admin`)"
entryPoints = ["web"]
service = "admin-svc"
middlewares = ["admin-auth", "security-headers"]
priority = 100
[http.routers.admin-secure.tls]

[http.services.app-svc.loadBalancer]
servers = [{{ url = "http://127.0.0.1:19001" }}, {{ url = "http://127.0.0.1:19002" }}]

[http.services.admin-svc.loadBalancer]
servers = [{{ url = "http://127.0.0.1:19003" }}]

[http.middlewares.security-headers.headers]
stsSeconds = 31536000
frameDeny = true
customResponseHeaders = {{ X-Drift-Fixture = "true" }}

[http.middlewares.admin-auth.basicAuth]
realm = "driftaudit-admin"
users = ["{CANARY_USER}"]

[[tls.certificates]]
certFile = "certs/app.crt"
keyFile = "certs/app.key"
"#
    );
    write(setup.repo.path(), "traefik/dynamic/dynamic.toml", &toml);
    let r = scan(&setup, &[]);
    let report = r.json();
    // The only difference: admin-secure's entry point (web in TOML).
    let drift = drifted(&report);
    assert_eq!(
        drift,
        [(
            "HttpRouter".to_string(),
            "admin-secure".to_string(),
            "modified".to_string(),
            vec!["entryPoints[0]".to_string()]
        )],
        "{}",
        r.stdout
    );
    let entry = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "modified")
        .unwrap();
    assert_eq!(entry["changes"][0]["declared"], "web");
    assert_eq!(entry["changes"][0]["live"], "websecure");
    assert_no_canary(&r);
}

#[test]
fn unreadable_traefik_is_a_coverage_gap_with_the_url() {
    let setup = setup();
    // Nothing listens on a fresh port.
    let closed = format!("http://127.0.0.1:{}", crate::common::free_port());
    let r = run_in(
        setup.repo.path(),
        &["scan", "--traefik-url", &closed, "--now", NOW],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains(&format!("{closed}/api/version")),
        "{}",
        r.stdout
    );

    // A web server that is not Traefik's API: the web entry point answers 404.
    let web = format!("http://127.0.0.1:{}", setup.traefik.web_port);
    let r = run_in(
        setup.repo.path(),
        &[
            "scan",
            "--traefik-url",
            &web,
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    let gap = &r.json()["coverage"][0];
    assert!(
        gap["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("{web}/api/version")),
        "{gap}"
    );

    // A bad URL is a usage error.
    let r = run_in(
        setup.repo.path(),
        &["scan", "--traefik-url", "http://u:p@127.0.0.1:1"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("credentials"), "{}", r.stderr);
    assert!(!r.all().contains("u:p"), "{}", r.all());
}

#[test]
fn an_api_behind_basic_auth_needs_credentials() {
    // The API is served only through a router guarded by basicAuth, as in
    // production; its htpasswd entry (apr1) is for user `ops`, password `s3cret-pw`.
    let dynamic = "http:\n  routers:\n    api:\n      rule: \"PathPrefix(`/api`)\"\n      entryPoints: [traefik]\n      service: api@internal\n      middlewares: [api-auth]\n  middlewares:\n    api-auth:\n      basicAuth:\n        users:\n          - \"ops:$apr1$ab12cd34$Sp9G1h9E/ndMhTPMTVdlf/\"\n";
    let traefik = Traefik::start(Api::Routed, dynamic, &[]);
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &[
            "scan",
            "--traefik-url",
            &traefik.api,
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    let reason = r.json()["coverage"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.starts_with(&format!("GET {}/api/version: 401", traefik.api)),
        "{reason}"
    );

    let r = run_in(
        dir.path(),
        &[
            "scan",
            "--traefik-url",
            &traefik.api,
            "--traefik-user",
            "ops",
        ],
    );
    assert_eq!(r.code, 2, "no password given: {}", r.all());
    assert!(
        r.stderr.contains("DRIFTAUDIT_TRAEFIK_PASSWORD"),
        "{}",
        r.stderr
    );

    let output = crate::common::driftaudit()
        .current_dir(dir.path())
        .env("DRIFTAUDIT_TRAEFIK_PASSWORD", "s3cret-pw")
        .args([
            "scan",
            "--traefik-url",
            &traefik.api,
            "--traefik-user",
            "ops",
            "--now",
            NOW,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("s3cret-pw"));
    assert!(
        !stdout.contains("Sp9G1h9E"),
        "the API's htpasswd hash is never printed"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["coverage"], serde_json::json!([]));

    // The password from a file, with every event driftaudit logs (-vvv): it
    // reaches neither the report nor the log.
    write(dir.path(), "traefik-password", "s3cret-pw\n");
    let r = run_in(
        dir.path(),
        &[
            "-vvv",
            "scan",
            "--traefik-url",
            &traefik.api,
            "--traefik-user",
            "ops",
            "--traefik-password-file",
            "traefik-password",
            "--now",
            NOW,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("INFO"), "-vvv logs: {}", r.stderr);
    assert!(!r.all().contains("s3cret-pw"), "{}", r.all());
    assert!(!r.all().contains("Sp9G1h9E"), "{}", r.all());

    // The same from the config's `traefik:` section, the password file named
    // relative to the config's folder.
    write(
        dir.path(),
        "conf/driftaudit.yaml",
        &format!(
            "traefik:\n  url: {}\n  user: ops\n  password_file: secrets/traefik\n",
            traefik.api
        ),
    );
    write(dir.path(), "conf/secrets/traefik", "s3cret-pw\n");
    let r = run_in(
        dir.path(),
        &[
            "-vvv",
            "scan",
            "--config",
            "conf/driftaudit.yaml",
            "--now",
            NOW,
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.json()["coverage"], serde_json::json!([]));
    assert!(!r.all().contains("s3cret-pw"), "{}", r.all());
}

#[test]
fn a_traefik_section_in_the_config_reads_like_the_flags() {
    let setup = setup();
    let by_flags = scan(&setup, &[]);
    assert_eq!(by_flags.code, 0, "{}", by_flags.all());
    let git = "git:\n  traefik: [\"traefik/**/*.yml\", \"traefik/**/*.toml\"]\n";
    let from_config = |url: &str, extra: &[&str]| {
        write(
            setup.repo.path(),
            "driftaudit.yaml",
            &format!("{git}traefik:\n  url: {url}\n"),
        );
        let mut args = vec!["scan", "--repo", ".", "--now", NOW, "--format", "json"];
        args.extend_from_slice(extra);
        run_in(setup.repo.path(), &args)
    };
    let r = from_config(&setup.traefik.api, &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Only the digest of driftaudit.yaml (the file changed) differs.
    let without_config = |mut report: serde_json::Value| {
        report["evidence"]["config"]["sha256"] = serde_json::Value::Null;
        report
    };
    assert_eq!(without_config(r.json()), without_config(by_flags.json()));

    // A config naming an API nobody serves: that URL is read (a gap) ...
    let closed = format!("http://127.0.0.1:{}", crate::common::free_port());
    let r = from_config(&closed, &[]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains(&format!("{closed}/api/version")),
        "{}",
        r.stdout
    );
    // ... unless --traefik-url names another: the flag wins.
    let r = from_config(&closed, &["--traefik-url", &setup.traefik.api]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(without_config(r.json()), without_config(by_flags.json()));
}

#[test]
fn pagination_is_followed() {
    let mut dynamic = String::from("http:\n  routers:\n");
    for i in 0..7 {
        dynamic.push_str(&format!(
            "    r{i}:\n      rule: \"Host(`r{i}.example.test`)\"\n      service: s\n"
        ));
    }
    dynamic.push_str("  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:19001\n");
    let traefik = Traefik::start(Api::Insecure, &dynamic, &[]);
    let mut options = driftaudit::sources::traefik::api::TraefikOptions::new(&traefik.api);
    options.page_size = 2;
    let target = driftaudit::sources::traefik::api::collect(&options);
    assert!(target.coverage.is_empty(), "{:?}", target.coverage);
    let routers: Vec<&str> = target
        .inventory
        .iter()
        .filter(|r| r.identity.kind == "HttpRouter")
        .map(|r| r.identity.name.as_str())
        .collect();
    assert_eq!(routers, ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]);
}
