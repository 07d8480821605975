//! TLS endpoints end to end, through the binary: the real Traefik serves
//! certificates made by the tests, and `--tls-endpoint` reads what it serves
//! for each SNI name: a healthy, an expiring and an expired certificate, a
//! certificate that does not cover the name, and Traefik's default certificate.

use crate::common::run;
use crate::common::traefik::{certificate, Api, Traefik};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

struct Served {
    traefik: Traefik,
    /// When the certificates start counting (the wall clock at the start).
    base: OffsetDateTime,
    /// The scan clock: after Traefik started, because Traefik makes its
    /// default certificate valid from its start, on the wall clock.
    clock: String,
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap()
}

/// Traefik with three certificates for three names on its TLS entry point,
/// and `wild.example.test`'s certificate as the store's default (so a name
/// nothing matches gets it, not Traefik's own).
fn serve(default_store_certificate: bool) -> Served {
    let base = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let now = || base;
    let pairs = [("healthy", 400), ("expiring", 10), ("expired", -3)];
    let mut dynamic = String::from("tls:\n  certificates:\n");
    let mut files = Vec::new();
    for (name, days) in pairs {
        let host = format!("{name}.example.test");
        let pair = certificate(
            &host,
            &[&host],
            now() - Duration::days(100),
            now() + Duration::days(days) + Duration::hours(1),
        );
        files.push((format!("certs/{name}.crt"), pair.0));
        files.push((format!("certs/{name}.key"), pair.1));
        dynamic.push_str(&format!(
            "    - certFile: certs/{name}.crt\n      keyFile: certs/{name}.key\n"
        ));
    }
    if default_store_certificate {
        let wild = certificate(
            "wild.example.test",
            &["wild.example.test"],
            now() - Duration::days(1),
            now() + Duration::days(400),
        );
        files.push(("certs/wild.crt".into(), wild.0));
        files.push(("certs/wild.key".into(), wild.1));
        dynamic.push_str("  stores:\n    default:\n      defaultCertificate:\n        certFile: certs/wild.crt\n        keyFile: certs/wild.key\n");
    }
    let file_refs: Vec<(&str, String)> =
        files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let traefik = Traefik::start(Api::Insecure, &dynamic, &file_refs);
    let clock =
        rfc3339(OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + Duration::seconds(2));
    Served {
        traefik,
        base,
        clock,
    }
}

fn scan_endpoints(served: &Served, names: &[&str]) -> Value {
    let endpoints: Vec<String> = names
        .iter()
        .map(|n| format!("127.0.0.1:{},sni={n}", served.traefik.websecure_port))
        .collect();
    let mut args = vec!["scan", "--now", &served.clock, "--format", "json"];
    for endpoint in &endpoints {
        args.push("--tls-endpoint");
        args.push(endpoint);
    }
    let r = run(&args);
    assert!(r.code == 0 || r.code == 1, "{}", r.all());
    r.json()
}

/// (rule, SNI in the endpoint name) of every finding.
fn findings(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["resource"]["name"].as_str().unwrap();
            let sni = name.split("sni=").nth(1).unwrap_or(name);
            (f["rule"].as_str().unwrap().to_string(), sni.to_string())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn served_certificates_are_judged_per_name() {
    let served = serve(false);
    let report = scan_endpoints(
        &served,
        &[
            "healthy.example.test",
            "expiring.example.test",
            "expired.example.test",
            "unknown.example.test",
        ],
    );
    assert_eq!(
        findings(&report),
        [
            (
                "DA-CERT-001".to_string(),
                "expired.example.test".to_string()
            ),
            (
                "DA-CERT-002".to_string(),
                "expiring.example.test".to_string()
            ),
            (
                "DA-CERT-007".to_string(),
                "unknown.example.test".to_string()
            ),
        ],
        "{report:#}"
    );
    let expired = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-CERT-001")
        .unwrap();
    let port = served.traefik.websecure_port;
    assert_eq!(
        expired["message"],
        format!("certificate CN=expired.example.test (TLS endpoint 127.0.0.1:{port} (SNI expired.example.test)) expired on {} (3 days ago)",
            rfc3339(served.base - Duration::days(3) + Duration::hours(1)))
    );
    let default = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-CERT-007")
        .unwrap();
    assert_eq!(
        default["message"],
        format!("Traefik's self-signed default certificate was served (TLS endpoint 127.0.0.1:{port} (SNI unknown.example.test)) for unknown.example.test")
    );
    // The endpoints are live-only resources: no drift.
    assert_eq!(report["drift"], serde_json::json!([]));
    // Every served certificate is in `certificates` (docs/metrics.md), with
    // its days to the scan clock.
    let days = |sni: &str| {
        let read_from = format!("TLS endpoint 127.0.0.1:{port} (SNI {sni})");
        let entry = report["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["read_from"] == read_from.as_str() && c["position"] == 0);
        entry.unwrap_or_else(|| panic!("{read_from}: {}", report["certificates"]))["days_remaining"]
            .clone()
    };
    assert_eq!(days("expired.example.test"), -3);
    assert_eq!(days("expiring.example.test"), 10);
}

#[test]
fn a_certificate_that_does_not_cover_the_name_is_reported() {
    let served = serve(true);
    let report = scan_endpoints(&served, &["other.example.test", "healthy.example.test"]);
    assert_eq!(
        findings(&report),
        [("DA-CERT-006".to_string(), "other.example.test".to_string())],
        "{report:#}"
    );
    let finding = &report["findings"][0];
    assert_eq!(
        finding["message"],
        format!("certificate CN=wild.example.test (TLS endpoint 127.0.0.1:{} (SNI other.example.test)) was served for other.example.test, which its names [wild.example.test] do not cover", served.traefik.websecure_port)
    );
}

#[test]
fn an_endpoint_that_does_not_answer_is_a_coverage_gap() {
    let port = crate::common::free_port();
    let endpoint = format!("127.0.0.1:{port}");
    let r = run(&["scan", "--tls-endpoint", &endpoint, "--format", "json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let gap = &r.json()["coverage"][0];
    assert_eq!(gap["scope"], format!("TLS endpoint {endpoint}"));
    assert!(
        gap["reason"].as_str().unwrap().contains("cannot connect"),
        "{gap}"
    );

    let r = run(&["scan", "--tls-endpoint", "no-port.example.test"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--tls-endpoint"), "{}", r.stderr);
}
