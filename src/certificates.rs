//! Every certificate the scan saw (`Report::certificates`, docs/metrics.md):
//! declared ones (PEM in Git: Kubernetes TLS Secrets, Traefik `certFile`s) and
//! live ones (Kubernetes Secrets, cert-manager `Certificate` status, TLS
//! endpoints, Traefik's `/api/certificates`), one entry per certificate fact
//! `crate::facts` derived. Only public certificate data: names, serial,
//! fingerprint, validity and where it was read; never key material or a
//! Secret value (facts hold none).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::model::{Inventory, LiveTarget, Origin, Resource, ResourceRef};

/// One certificate as a resource carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateStatus {
    /// `declared` (read from Git) or `live`.
    pub state: String,
    /// The live target it was read from; `declared` for Git.
    pub target: String,
    /// The resource that carries it (a Secret, a cert-manager Certificate, a
    /// TLS endpoint, a Traefik certificate or TLS store).
    pub resource: ResourceRef,
    /// The declared file of that resource; left out for live ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where exactly it was read (`Secret shop/web-tls key tls.crt`,
    /// `TLS endpoint 10.0.0.1:443 (SNI shop.example.test)`).
    pub read_from: String,
    /// The field of the resource that holds it (`data["tls.crt"]`); left out
    /// when the resource has no such field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Its place in the bundle or chain, leaf first (0).
    pub position: u64,
    /// Distinguished names as the certificate states them (`CN=…` only, when
    /// the source gives only the common name).
    pub subject: String,
    pub issuer: String,
    /// The `CN` of each; empty when there is none.
    pub subject_cn: String,
    pub issuer_cn: String,
    /// Lowercase hex; left out when the source does not give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_sha256: Option<String>,
    /// RFC 3339; null when the certificate could not be read (`error`).
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// Whole days from the scan clock to `not_after`, rounded down (negative
    /// once expired); null without `not_after`.
    pub days_remaining: Option<i64>,
    /// Why it could not be read (not PEM, not a certificate); left out otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CertificateStatus {
    /// Seconds since the Unix epoch of `not_before` / `not_after`.
    pub fn not_before_unix(&self) -> Option<i64> {
        unix(self.not_before.as_deref())
    }

    pub fn not_after_unix(&self) -> Option<i64> {
        unix(self.not_after.as_deref())
    }

    fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.state,
            &self.target,
            &self.resource,
            &self.read_from,
            self.position,
            &self.fingerprint_sha256,
            &self.path,
        )
    }
}

fn unix(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .map(OffsetDateTime::unix_timestamp)
}

/// The table, declared first then live by target, sorted so reports are
/// byte-identical; a certificate repeated by identical facts is listed once.
pub fn certificate_table(
    declared: &Inventory,
    targets: &[LiveTarget],
    now: OffsetDateTime,
) -> Vec<CertificateStatus> {
    let mut table: Vec<CertificateStatus> = declared
        .iter()
        .flat_map(|r| of_resource(r, "declared", "declared", now))
        .collect();
    for target in targets {
        table.extend(
            target
                .inventory
                .iter()
                .flat_map(|r| of_resource(r, "live", &target.name, now)),
        );
    }
    table.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    table.dedup();
    table
}

fn of_resource(
    resource: &Resource,
    state: &str,
    target: &str,
    now: OffsetDateTime,
) -> Vec<CertificateStatus> {
    let Some(facts) = resource.facts.get("certificates").and_then(Value::as_array) else {
        return Vec::new();
    };
    let file = match &resource.origin {
        Origin::Declared { file, .. } => Some(file.clone()),
        Origin::Live { .. } => None,
    };
    facts
        .iter()
        .map(|fact| {
            let text = |key: &str| fact.get(key).and_then(Value::as_str).map(str::to_string);
            let subject = text("subject").unwrap_or_default();
            let issuer = text("issuer").unwrap_or_default();
            let not_after = text("not_after");
            let days_remaining = unix(not_after.as_deref())
                .map(|after| (after - now.unix_timestamp()).div_euclid(86_400));
            CertificateStatus {
                state: state.to_string(),
                target: target.to_string(),
                resource: resource.reference(),
                file: file.clone(),
                read_from: text("source").unwrap_or_default(),
                path: text("path"),
                position: fact.get("position").and_then(Value::as_u64).unwrap_or(0),
                subject_cn: common_name(&subject),
                issuer_cn: common_name(&issuer),
                subject,
                issuer,
                serial: text("serial").filter(|s| !s.is_empty()),
                fingerprint_sha256: text("fingerprint_sha256").filter(|s| !s.is_empty()),
                not_before: text("not_before"),
                not_after,
                days_remaining,
                error: text("error"),
            }
        })
        .collect()
}

/// The `CN` attribute of a distinguished name as x509-parser prints it
/// (`C=DE, O=Shop, CN=shop.example.test`), or as summaries give it
/// (`CN=shop.example.test`); empty without one.
pub fn common_name(name: &str) -> String {
    name.split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_read_from_printed_names() {
        assert_eq!(
            common_name("C=DE, O=Shop, CN=shop.example.test"),
            "shop.example.test"
        );
        assert_eq!(common_name("CN=only"), "only");
        assert_eq!(common_name("O=no common name"), "");
    }
}
