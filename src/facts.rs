//! Derived facts: what policies need to know about a resource that is not a
//! plain field of its body. Certificates are parsed here, from the secret
//! material, before redaction removes it; only public certificate data is kept.

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
            certificates.extend(certificate_facts(&source, bytes));
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
    let Some(not_after) = body.pointer("/status/notAfter").and_then(Value::as_str) else {
        return json!({});
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
    }]})
}

/// Parses every certificate of a PEM bundle. A bundle that holds no parsable
/// certificate yields one fact with an `error`, so a broken certificate is a
/// finding and never silently passes.
pub fn certificate_facts(source: &str, pem_bytes: &[u8]) -> Vec<Value> {
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
    let fingerprint: String = Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
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
        let facts = certificate_facts("Secret a/b key tls.crt", b"not-a-real-certificate");
        assert_eq!(facts.len(), 1);
        assert!(facts[0]["error"].is_string());
    }
}
