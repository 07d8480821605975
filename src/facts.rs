//! Derived facts: what policies need to know about a resource that is not a
//! plain field of its body. Certificates are parsed here (from Secret material
//! before redaction removes it, from PEM files in Git, from the chain a TLS
//! endpoint serves) or described from Traefik's certificate summaries; only
//! public certificate data is kept, always in the one fact shape of
//! `docs/policy-input.md`.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

/// Keys of a Secret that hold certificates (never private keys).
const CERTIFICATE_KEYS: [&str; 2] = ["tls.crt", "ca.crt"];

/// Facts for a Kubernetes Secret, computed from its raw values.
pub fn secret_facts(namespace: &str, name: &str, values: &[(String, Vec<u8>)]) -> Value {
    let mut certificates = Vec::new();
    for (key, bytes) in values {
        if CERTIFICATE_KEYS.contains(&key.as_str()) {
            let source = format!("Secret {namespace}/{name} key {key}");
            let path = crate::yaml::push_key("data", key);
            certificates.extend(certificate_facts(&source, Some(&path), bytes));
        }
    }
    if certificates.is_empty() {
        json!({})
    } else {
        json!({ "certificates": certificates })
    }
}

/// Facts for a cert-manager `Certificate`, from what its status says about the
/// issued certificate (the certificate itself lives in the Secret it names).
pub fn cert_manager_facts(namespace: &str, name: &str, body: &Value) -> Value {
    let not_after = match body.pointer("/status/notAfter") {
        None | Some(Value::Null) => return json!({}),
        Some(Value::String(text)) if OffsetDateTime::parse(text, &Rfc3339).is_ok() => text,
        // A date that does not parse is a certificate that cannot be judged:
        // DA-CERT-005, never a valid one.
        Some(other) => {
            let shown: String = other.to_string().chars().take(60).collect();
            return json!({"certificates": [{
                "source": format!("Certificate {namespace}/{name} status"),
                "position": 0,
                "path": "status.notAfter",
                "error": format!("status.notAfter {shown} is not an RFC 3339 time"),
            }]});
        }
    };
    let strings = |pointer: &str| -> Vec<Value> {
        body.pointer(pointer)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter(|i| i.is_string()).cloned().collect())
            .unwrap_or_default()
    };
    let mut sans = strings("/spec/dnsNames");
    sans.extend(strings("/spec/ipAddresses"));
    let common_name = body.pointer("/spec/commonName").and_then(Value::as_str);
    json!({"certificates": [{
        "source": format!("Certificate {namespace}/{name} status"),
        "position": 0,
        "subject": common_name.map(|cn| format!("CN={cn}")).unwrap_or_default(),
        "issuer": body.pointer("/spec/issuerRef/name").and_then(Value::as_str).unwrap_or_default(),
        "sans": sans,
        "not_before": body.pointer("/status/notBefore").and_then(Value::as_str).unwrap_or(not_after),
        "not_after": not_after,
        "self_signed": false,
        // The field the date comes from: findings point at it, and their
        // fingerprint hashes the date, not the message's day count (which
        // changes every day: docs/fingerprints.md).
        "path": "status.notAfter",
    }]})
}

/// Parses every certificate of a PEM bundle. A bundle that holds no parsable
/// certificate yields one fact with an `error`, so a broken certificate is a
/// finding and never silently passes. `path` is the field of the resource the
/// bundle came from (`data["tls.crt"]`, `certFile`), so findings point at its line.
pub fn certificate_facts(source: &str, path: Option<&str>, pem_bytes: &[u8]) -> Vec<Value> {
    let mut facts = Vec::new();
    for (position, pem) in Pem::iter_from_buffer(pem_bytes).enumerate() {
        let parsed = pem.map_err(|e| e.to_string()).and_then(|pem| {
            if pem.label != "CERTIFICATE" {
                return Ok(None);
            }
            describe(source, position, &pem.contents).map(Some)
        });
        match parsed {
            Ok(Some(fact)) => facts.push(fact),
            Ok(None) => {}
            Err(error) => {
                facts.push(json!({"source": source, "position": position, "error": error}))
            }
        }
    }
    if facts.is_empty() {
        facts.push(json!({"source": source, "position": 0, "error": "no PEM certificate found"}));
    }
    with_path(facts, path)
}

/// The DER of the first certificate of a PEM bundle (the leaf, by convention).
pub fn first_certificate_der(pem_bytes: &[u8]) -> Option<Vec<u8>> {
    Pem::iter_from_buffer(pem_bytes)
        .filter_map(Result::ok)
        .find(|pem| pem.label == "CERTIFICATE")
        .map(|pem| pem.contents)
}

/// Facts for a DER chain as a TLS server sent it, leaf first.
pub fn chain_facts(source: &str, chain: &[Vec<u8>]) -> Vec<Value> {
    chain
        .iter()
        .enumerate()
        .map(|(position, der)| {
            describe(source, position, der).unwrap_or_else(
                |error| json!({"source": source, "position": position, "error": error}),
            )
        })
        .collect()
}

/// The SHA-256 fingerprint of a certificate's DER, lowercase hex: Traefik names
/// the certificates of `/api/certificates` by it.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What Traefik's `/api/certificates` says of one certificate. It gives the
/// common names, not the full distinguished names, and no PEM.
pub struct CertificateSummary<'a> {
    pub common_name: &'a str,
    pub issuer_common_name: &'a str,
    pub sans: Vec<String>,
    /// Decimal, as Traefik prints it.
    pub serial_decimal: &'a str,
    pub fingerprint_sha256: &'a str,
    pub not_before: &'a str,
    pub not_after: &'a str,
}

/// A fact in the shape of parsed certificates, from a summary. Subject and
/// issuer are `CN=<common name>`; a date that is not RFC 3339 makes the fact an
/// `error`, as an unparsable certificate would.
pub fn summary_fact(source: &str, summary: &CertificateSummary) -> Value {
    let date = |text: &str| {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| rfc3339(t.unix_timestamp()))
    };
    let (Some(not_before), Some(not_after)) = (date(summary.not_before), date(summary.not_after))
    else {
        return json!({"source": source, "position": 0,
            "error": format!("validity dates `{}`/`{}` are not RFC 3339", summary.not_before, summary.not_after)});
    };
    let mut sans = summary.sans.clone();
    sans.sort();
    let subject = format!("CN={}", summary.common_name);
    let issuer = format!("CN={}", summary.issuer_common_name);
    json!({
        "source": source,
        "position": 0,
        "subject": subject,
        "issuer": issuer,
        "sans": sans,
        "serial": decimal_to_hex(summary.serial_decimal).unwrap_or_default(),
        "fingerprint_sha256": summary.fingerprint_sha256.to_ascii_lowercase(),
        "not_before": not_before,
        "not_after": not_after,
        "self_signed": subject == issuer,
    })
}

/// A decimal number of any size as lowercase hex, with an even digit count
/// like the DER serials `describe` prints. `None` when it is not decimal.
fn decimal_to_hex(decimal: &str) -> Option<String> {
    if decimal.is_empty() || !decimal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Base 2^32 limbs, least significant first: serials exceed u128.
    let mut limbs: Vec<u32> = vec![0];
    for digit in decimal.bytes().map(|b| u64::from(b - b'0')) {
        let mut carry = digit;
        for limb in &mut limbs {
            let value = u64::from(*limb) * 10 + carry;
            *limb = value as u32;
            carry = value >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    let mut hex: String = limbs.iter().rev().map(|l| format!("{l:08x}")).collect();
    hex = hex.trim_start_matches('0').to_string();
    if hex.len() % 2 == 1 {
        hex.insert(0, '0');
    }
    Some(if hex.is_empty() { "00".into() } else { hex })
}

fn with_path(mut facts: Vec<Value>, path: Option<&str>) -> Vec<Value> {
    if let Some(path) = path {
        for fact in &mut facts {
            if let Value::Object(map) = fact {
                map.insert("path".into(), json!(path));
            }
        }
    }
    facts
}

fn describe(source: &str, position: usize, der: &[u8]) -> Result<Value, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let validity = cert.validity();
    let mut sans = Vec::new();
    if let Ok(Some(extension)) = cert.subject_alternative_name() {
        for name in &extension.value.general_names {
            match name {
                GeneralName::DNSName(dns) => sans.push(dns.to_string()),
                GeneralName::IPAddress(bytes) => sans.push(ip_text(bytes)),
                _ => {}
            }
        }
    }
    let fingerprint = fingerprint_sha256(der);
    let serial: String = cert
        .raw_serial()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(json!({
        "source": source,
        "position": position,
        "subject": cert.subject().to_string(),
        "issuer": cert.issuer().to_string(),
        "sans": sans,
        "serial": serial,
        "fingerprint_sha256": fingerprint,
        "not_before": rfc3339(validity.not_before.timestamp()),
        "not_after": rfc3339(validity.not_after.timestamp()),
        "self_signed": cert.subject() == cert.issuer(),
    }))
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Adds the clock-relative fields (`days_remaining`, `expired`, `not_yet_valid`)
/// to certificate facts, for the scan clock `now`.
pub fn with_clock(facts: &Value, now: OffsetDateTime) -> Value {
    let mut facts = facts.clone();
    if let Some(Value::Array(certificates)) = facts.get_mut("certificates") {
        for cert in certificates {
            let parse = |field: &str| {
                cert.get(field)
                    .and_then(Value::as_str)
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            };
            let (Some(not_before), Some(not_after)) = (parse("not_before"), parse("not_after"))
            else {
                continue;
            };
            let remaining = (not_after - now).whole_seconds();
            let days = remaining.div_euclid(86_400);
            if let Value::Object(map) = cert {
                map.insert("days_remaining".into(), json!(days));
                map.insert("expired".into(), json!(not_after <= now));
                map.insert("not_yet_valid".into(), json!(not_before > now));
            }
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn cert_manager_status_gives_clocked_facts() {
        let body = json!({"spec": {"commonName": "shop.example.test", "dnsNames": ["shop.example.test"], "issuerRef": {"name": "letsencrypt"}},
            "status": {"notBefore": "2026-09-01T00:00:00Z", "notAfter": "2026-12-01T00:00:00Z"}});
        let facts = with_clock(
            &cert_manager_facts("shop", "web", &body),
            datetime!(2026-11-22 12:00 UTC),
        );
        let cert = &facts["certificates"][0];
        assert_eq!(cert["days_remaining"], 8, "8.5 days floor to 8");
        assert_eq!(cert["expired"], false);
        assert_eq!(cert["sans"], json!(["shop.example.test"]));
        assert_eq!(
            cert_manager_facts("shop", "web", &json!({"spec": {}})),
            json!({})
        );
    }

    #[test]
    fn an_unparsable_certificate_is_a_fact_with_an_error() {
        let facts = certificate_facts("Secret a/b key tls.crt", None, b"not-a-real-certificate");
        assert_eq!(facts.len(), 1);
        assert!(facts[0]["error"].is_string());
    }

    #[test]
    fn decimal_serials_become_der_style_hex() {
        assert_eq!(decimal_to_hex("4096").as_deref(), Some("1000"));
        assert_eq!(decimal_to_hex("255").as_deref(), Some("ff"));
        assert_eq!(decimal_to_hex("0").as_deref(), Some("00"));
        // A 160-bit serial as Traefik printed it for a real certificate.
        assert_eq!(
            decimal_to_hex("474941959141431901676550346681035300243027160482").as_deref(),
            Some("5331224ed91a474cedd66a33e915caaf41626da2")
        );
        assert_eq!(decimal_to_hex("12a"), None);
    }
}
