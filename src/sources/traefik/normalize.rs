//! What is not Traefik drift, and what must never be shown. Both sides pass
//! through `normalize_body`: references qualified with the object's own
//! provider (`admin-auth@file` inside a file router) lose the suffix, the
//! API's runtime bookkeeping (`usedBy`, `serverStatus`, ...) is dropped, and
//! credentials (basicAuth/digestAuth users, which the API returns in clear,
//! and password- or token-like fields and headers) become salted digests, and
//! credentials inside URLs short markers (rules in `crate::redact`), so drift
//! says `<redacted: changed>` and never the value.

use serde_json::Value;

use crate::redact::{digest_strings, redact_credential_fields, redact_urls};
use crate::sources::kubernetes::live::safe_status_message;

/// Fields the API adds to every object; they say how Traefik uses it, not how
/// it is configured. `status` and `error` stay: a disabled router is a finding.
const RUNTIME_FIELDS: [&str; 7] = [
    "name",
    "provider",
    "priorityStr",
    "using",
    "usedBy",
    "serverStatus",
    "type",
];

/// Paths (dotted, `[]` for every item) that hold references to other objects.
const REFERENCES: [&str; 10] = [
    "service",
    "middlewares[]",
    "tls.options",
    "chain.middlewares[]",
    "weighted.services[].name",
    "mirroring.service",
    "mirroring.mirrors[].name",
    "failover.service",
    "failover.fallback",
    "loadBalancer.serversTransport",
];

/// Lists of credentials, one per item (`user:htpasswd-hash`); also accepted
/// as one string or as a list of maps.
const CREDENTIAL_LISTS: [&str; 2] = ["basicAuth.users", "digestAuth.users"];

pub fn normalize_body(kind: &str, provider: &str, name: &str, body: &mut Value) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    for field in RUNTIME_FIELDS {
        object.remove(field);
    }
    // A router with `tls: {}` uses the TLS options named `default`; the API
    // spells that out, so a change to other options is seen as one.
    if kind == "HttpRouter" {
        if let Some(Value::Object(tls)) = object.get_mut("tls") {
            tls.entry("options")
                .or_insert_with(|| Value::String("default".into()));
        }
    }
    for reference in REFERENCES {
        let segments: Vec<&str> = reference.split('.').collect();
        strip_own_provider(body, &segments, provider);
    }
    // The salt names the object and the field (not the list index), so the same
    // entry gives the same digest on both sides wherever it sits in the list.
    let salt = format!("{kind} {name}");
    for list in CREDENTIAL_LISTS {
        let segments: Vec<&str> = list.split('.').collect();
        if let Some(users) = lookup_mut(body, &segments) {
            digest_strings(users, "traefik", &salt, list);
        }
    }
    redact_credential_fields(body, "traefik", &salt, "");
    redact_urls(body, &salt);
    // Traefik's errors are shown (notes, DA-TRAEFIK-001): a compromised API
    // could echo the request's `Authorization` into them.
    match body.get_mut("error") {
        Some(Value::Array(errors)) => {
            for error in errors.iter_mut() {
                if let Value::String(text) = error {
                    *text = safe_status_message(text);
                }
            }
        }
        Some(Value::String(text)) => *text = safe_status_message(text),
        _ => {}
    }
}

/// `x@provider` → `x` at the references under `segments`, when `provider` is
/// the object's own: Traefik resolves an unqualified name in the object's
/// provider, so both spellings name one object.
fn strip_own_provider(value: &mut Value, segments: &[&str], provider: &str) {
    let Some((first, rest)) = segments.split_first() else {
        if let Value::String(text) = value {
            if let Some((bare, suffix)) = text.rsplit_once('@') {
                if suffix == provider {
                    *text = bare.to_string();
                }
            }
        }
        return;
    };
    let (key, every_item) = match first.strip_suffix("[]") {
        Some(key) => (key, true),
        None => (*first, false),
    };
    let Some(child) = value.get_mut(key) else {
        return;
    };
    if every_item {
        if let Value::Array(items) = child {
            for item in items {
                strip_own_provider(item, rest, provider);
            }
        }
    } else {
        strip_own_provider(child, rest, provider);
    }
}

fn lookup_mut<'v>(value: &'v mut Value, segments: &[&str]) -> Option<&'v mut Value> {
    segments
        .iter()
        .try_fold(value, |current, key| current.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::is_digest;
    use serde_json::json;

    const CANARY: &str = "admin:$apr1$canary42$do-not-print";

    #[test]
    fn own_provider_suffix_is_dropped_and_others_kept() {
        let mut live = json!({"service": "app-svc", "middlewares": ["auth@file", "ns-mw@kubernetescrd"],
            "tls": {"options": "default"}, "usedBy": ["x@file"], "name": "app@file", "status": "enabled"});
        normalize_body("HttpRouter", "file", "app", &mut live);
        assert_eq!(
            live,
            json!({"service": "app-svc", "middlewares": ["auth", "ns-mw@kubernetescrd"],
            "tls": {"options": "default"}, "status": "enabled"})
        );
    }

    #[test]
    fn router_tls_uses_the_default_options_unless_named() {
        let mut declared = json!({"tls": {}});
        normalize_body("HttpRouter", "file", "a", &mut declared);
        assert_eq!(declared, json!({"tls": {"options": "default"}}));
        let mut named = json!({"tls": {"options": "modern@file", "certResolver": "le"}});
        normalize_body("HttpRouter", "file", "a", &mut named);
        assert_eq!(
            named,
            json!({"tls": {"options": "modern", "certResolver": "le"}})
        );
    }

    #[test]
    fn credentials_become_digests_equal_on_both_sides() {
        let mut declared = json!({"basicAuth": {"users": [CANARY], "realm": "r"}});
        let mut live = json!({"basicAuth": {"users": [CANARY], "realm": "r"}, "type": "basicauth"});
        normalize_body("HttpMiddleware", "file", "auth", &mut declared);
        normalize_body("HttpMiddleware", "file", "auth", &mut live);
        assert_eq!(declared, live);
        assert!(!live.to_string().contains("canary42"));
        assert!(is_digest(live["basicAuth"]["users"][0].as_str().unwrap()));
    }

    #[test]
    fn password_like_fields_and_inline_keys_are_digested() {
        let mut body = json!({"plugin": {"x": {"apiToken": "canary-token", "nested": {"dbPassword": ["canary-pw"]}}},
            "defaultCertificate": {"keyFile": "-----BEGIN PRIVATE KEY-----\ncanary\n-----END PRIVATE KEY-----"},
            "headers": {"customRequestHeaders": {"Authorization": "Bearer canary-bearer"}}});
        normalize_body("HttpMiddleware", "file", "p", &mut body);
        let text = body.to_string();
        assert!(!text.contains("canary"), "{text}");
    }

    #[test]
    fn users_as_a_string_or_a_list_of_maps_are_digested() {
        let mut string = json!({"basicAuth": {"users": CANARY}});
        let mut maps = json!({"digestAuth": {"users": [{"user": "admin", "hash": CANARY}]}});
        normalize_body("HttpMiddleware", "file", "a", &mut string);
        normalize_body("HttpMiddleware", "file", "a", &mut maps);
        assert!(!string.to_string().contains("canary42"), "{string}");
        assert!(!maps.to_string().contains("canary42"), "{maps}");
    }
}
