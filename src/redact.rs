//! Secret redaction: the one layer every source passes through before anything
//! else sees a resource, so no later stage (drift, policy input, reports,
//! snapshots) can leak a secret value. Values become salted digests that still
//! compare equal when the values are equal, and renderers print only
//! `<redacted>`. What counts as a credential:
//!
//! - every value of a Kubernetes Secret (`data`, `stringData`, last-applied);
//! - in Traefik objects, the value of a field whose name (lower case, letters
//!   and digits only) contains `password`, `passwd`, `secret`, `token`,
//!   `apikey`, `authorization`, `credential`, `signature` or `privatekey`,
//!   every `basicAuth`/`digestAuth` user entry (string, list of strings, list
//!   of maps), and the value of a header (a key inside a map whose name
//!   contains `headers`) whose name matches that rule or contains `cookie`,
//!   `session`, `key` or `auth` (`X-Api-Key`, `Proxy-Authorization`, `Cookie`);
//! - in every string of every source that is a URL, the userinfo
//!   (`https://user:pass@host`) and the value of query parameters named as
//!   above or `sig`, `code`, `key`, `access_token`... (see `is_credential_name`);
//!   scheme, host, port and path stay readable and the secret part becomes a
//!   short digest marker, so a change is still drift.

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Prefix of a digest that stands for a secret value.
pub const DIGEST_PREFIX: &str = "redacted-sha256:";

/// What renderers print instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// What renderers print for a secret value that differs between the two sides.
pub const REDACTED_CHANGED: &str = "<redacted: changed>";

/// The annotation in which `kubectl apply` (client-side) keeps a copy of the
/// applied object, plaintext `stringData` included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether a string is a digest standing for a secret value.
pub fn is_digest(text: &str) -> bool {
    text.starts_with(DIGEST_PREFIX)
}

/// The digest of one secret value. Salted with where the value lives so that
/// equal values in different Secrets give different digests.
pub fn digest(namespace: &str, name: &str, key: &str, value: &[u8]) -> String {
    let mut hasher = Sha256::new();
    for part in [
        b"driftaudit-secret-v1".as_slice(),
        namespace.as_bytes(),
        name.as_bytes(),
        key.as_bytes(),
    ] {
        hasher.update(part);
        hasher.update([0u8]);
    }
    hasher.update(value);
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{DIGEST_PREFIX}{hex}")
}

/// Whether a Kubernetes object is a Secret (core group).
pub fn is_secret(api_version: &str, kind: &str) -> bool {
    kind == "Secret" && api_version == "v1"
}

/// Replaces every value of a Secret by its digest: `data` (base64) and
/// `stringData` (plain) are merged into `data`, as the API server does, and the
/// last-applied annotation (which holds the plaintext) is dropped. Values that
/// are digests already are kept, so redaction is idempotent.
pub fn redact_secret(body: &mut Value) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    let namespace = str_at(object, "metadata", "namespace");
    let name = str_at(object, "metadata", "name");
    let mut data = Map::new();
    if let Some(Value::Object(encoded)) = object.remove("data") {
        for (key, value) in encoded {
            let digest = match &value {
                Value::String(s) if is_digest(s) => s.clone(),
                Value::String(s) => {
                    match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                        Ok(bytes) => digest(&namespace, &name, &key, &bytes),
                        // Not valid base64: still a secret, hashed as it stands.
                        Err(_) => digest(&namespace, &name, &key, s.as_bytes()),
                    }
                }
                other => digest(&namespace, &name, &key, other.to_string().as_bytes()),
            };
            data.insert(key, Value::String(digest));
        }
    }
    if let Some(Value::Object(plain)) = object.remove("stringData") {
        for (key, value) in plain {
            let bytes = match &value {
                Value::String(s) if is_digest(s) => {
                    data.insert(key, value.clone());
                    continue;
                }
                Value::String(s) => s.as_bytes().to_vec(),
                other => other.to_string().into_bytes(),
            };
            data.insert(
                key.clone(),
                Value::String(digest(&namespace, &name, &key, &bytes)),
            );
        }
    }
    if !data.is_empty() {
        let mut sorted: Vec<(String, Value)> = data.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        object.insert("data".into(), Value::Object(sorted.into_iter().collect()));
    }
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.remove(LAST_APPLIED);
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
}

/// Name fragments (lower case, letters and digits only) that mark a field,
/// header or query parameter holding a credential.
const CREDENTIAL_NAME_HINTS: [&str; 9] = [
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "credential",
    "signature",
    "privatekey",
];

/// More fragments that mark a header name (not a plain field: `sticky.cookie`
/// configures a cookie, it does not hold one).
const CREDENTIAL_HEADER_HINTS: [&str; 4] = ["cookie", "session", "key", "auth"];

/// Query parameters that are credentials although their names are short.
const CREDENTIAL_QUERY_NAMES: [&str; 6] = ["sig", "code", "key", "auth", "pass", "pwd"];

fn squeeze(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a field name says its value is a credential (`apiToken`,
/// `db_password`, `X-Auth-Token`, `Proxy-Authorization`, `Set-Cookie`).
pub fn is_credential_name(name: &str) -> bool {
    let squeezed = squeeze(name);
    CREDENTIAL_NAME_HINTS.iter().any(|h| squeezed.contains(h))
}

/// Whether an HTTP header name says its value is a credential: the field rule,
/// plus any name containing `cookie`, `session`, `key` or `auth` (`Cookie`,
/// `X-Api-Key`, `X-Auth-User`).
pub fn is_credential_header(name: &str) -> bool {
    let squeezed = squeeze(name);
    is_credential_name(name) || CREDENTIAL_HEADER_HINTS.iter().any(|h| squeezed.contains(h))
}

fn is_credential_query_name(name: &str) -> bool {
    is_credential_name(name) || CREDENTIAL_QUERY_NAMES.contains(&squeeze(name).as_str())
}

/// Start of the marker standing for a credential inside a URL.
const URL_MARKER: &str = "redacted-";

/// The marker for a credential inside a URL: a short digest, so equal values
/// give equal URLs and a changed one is still drift.
fn url_marker(salt: &str, part: &str, value: &str) -> String {
    let full = digest("url", salt, part, value.as_bytes());
    format!(
        "{URL_MARKER}{}",
        &full[DIGEST_PREFIX.len()..DIGEST_PREFIX.len() + 12]
    )
}

fn is_url_marker(text: &str) -> bool {
    text.strip_prefix(URL_MARKER)
        .is_some_and(|rest| rest.len() == 12 && rest.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The URL with the userinfo and credential query values replaced by
/// markers, or `None` when `text` is not a URL or holds no credential.
pub fn redact_url(text: &str, salt: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut changed = false;
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) if !is_url_marker(userinfo) => {
            changed = true;
            format!("{}@{host}", url_marker(salt, "userinfo", userinfo))
        }
        _ => authority.to_string(),
    };
    let (before_fragment, fragment) = match tail.split_once('#') {
        Some((before, after)) => (before, Some(after)),
        None => (tail, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    let query = query.map(|query| {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) if is_credential_query_name(name) && !is_url_marker(value) => {
                    changed = true;
                    format!("{name}={}", url_marker(salt, name, value))
                }
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    if !changed {
        return None;
    }
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(&query);
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Some(out)
}

/// A URL as reports may name an endpoint: scheme, host, port and path, without
/// userinfo, query or fragment.
pub fn endpoint_label(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.split(['?', '#']).next().unwrap_or_default().to_string();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// Replaces credentials inside every URL-valued string of a body (any
/// source): see `redact_url`. Idempotent.
pub fn redact_urls(value: &mut Value, salt: &str) {
    match value {
        Value::String(text) => {
            if let Some(redacted) = redact_url(text, salt) {
                *text = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_urls(item, salt)),
        Value::Object(map) => map.values_mut().for_each(|child| redact_urls(child, salt)),
        _ => {}
    }
}

/// Replaces every string inside `value` (a string, or the strings of a list or
/// map at any depth) by its digest. Idempotent.
pub fn digest_strings(value: &mut Value, namespace: &str, salt: &str, field: &str) {
    match value {
        Value::String(text) if !is_digest(text) => {
            *text = digest(namespace, salt, field, text.as_bytes());
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| digest_strings(item, namespace, salt, field)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| digest_strings(item, namespace, salt, field)),
        _ => {}
    }
}

/// Digests the values of credential-named fields, and of credential-named
/// headers inside maps whose name contains `headers`, at any depth.
pub fn redact_credential_fields(value: &mut Value, namespace: &str, salt: &str, path: &str) {
    redact_fields(value, namespace, salt, path, false);
}

fn redact_fields(value: &mut Value, namespace: &str, salt: &str, path: &str, headers: bool) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let child_path = crate::yaml::push_key(path, key);
                let private_key_pem = child
                    .as_str()
                    .is_some_and(|text| text.contains("PRIVATE KEY-----"));
                let credential = private_key_pem
                    || is_credential_name(key)
                    || (headers && is_credential_header(key));
                if credential {
                    digest_strings(child, namespace, salt, &child_path);
                } else {
                    let holds_headers = key.to_ascii_lowercase().contains("headers");
                    redact_fields(child, namespace, salt, &child_path, holds_headers);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| redact_fields(item, namespace, salt, path, false)),
        _ => {}
    }
}

fn str_at(object: &Map<String, Value>, outer: &str, inner: &str) -> String {
    object
        .get(outer)
        .and_then(|o| o.get(inner))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The raw bytes of every Secret value, before redaction, for deriving facts
/// (certificates). The caller must not keep them.
pub fn secret_values(body: &Value) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(Value::Object(encoded)) = body.get("data") {
        for (key, value) in encoded {
            if let Some(bytes) = value.as_str().filter(|s| !is_digest(s)).and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
            }) {
                out.push((key.clone(), bytes));
            }
        }
    }
    if let Some(Value::Object(plain)) = body.get("stringData") {
        for (key, value) in plain {
            if let Some(s) = value.as_str() {
                out.push((key.clone(), s.as_bytes().to_vec()));
            }
        }
    }
    out
}

/// Replaces digests in a value by `<redacted>` for display. On the live side
/// (`live` true), a digest that differs from the counterpart's at the same place
/// shows as `<redacted: changed>`, so a reader sees that it changed, not what it is.
pub fn mask_for_display(value: &Value, counterpart: Option<&Value>, live: bool) -> Value {
    match value {
        Value::String(s) if is_digest(s) => {
            let changed = live && counterpart.and_then(Value::as_str) != Some(s.as_str());
            Value::String(if changed { REDACTED_CHANGED } else { REDACTED }.to_string())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        mask_for_display(v, counterpart.and_then(|o| o.get(k)), live),
                    )
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| mask_for_display(v, counterpart.and_then(|o| o.get(i)), live))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_data_and_data_give_the_same_digest() {
        let mut declared = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop"},
            "stringData": {"PASSWORD": "canary-value"}});
        let mut live = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop", "annotations": {
                LAST_APPLIED: "{\"stringData\":{\"PASSWORD\":\"canary-value\"}}"}},
            "data": {"PASSWORD": "Y2FuYXJ5LXZhbHVl"}});
        redact_secret(&mut declared);
        redact_secret(&mut live);
        assert_eq!(declared["data"], live["data"]);
        assert!(!live.to_string().contains("canary-value"));
        assert!(!live.to_string().contains("Y2FuYXJ5LXZhbHVl"));
        assert!(live["metadata"].get("annotations").is_none());
        let again = {
            let mut v = live.clone();
            redact_secret(&mut v);
            v
        };
        assert_eq!(again, live, "redaction is idempotent");
    }

    #[test]
    fn url_credentials_become_markers_and_the_rest_stays() {
        let url = "https://fwd:pw-canary@auth.example.test:9443/check?page=2&token=tk-canary#top";
        let redacted = redact_url(url, "s").unwrap();
        assert!(!redacted.contains("canary"), "{redacted}");
        assert!(redacted.starts_with("https://redacted-"), "{redacted}");
        assert!(redacted.contains("@auth.example.test:9443/check?page=2&token=redacted-"));
        assert!(redacted.ends_with("#top"));
        assert_eq!(redact_url(&redacted, "s"), None, "idempotent");
        assert_ne!(
            redact_url("https://fwd:other@auth.example.test:9443/check", "s").unwrap(),
            redact_url("https://fwd:pw@auth.example.test:9443/check", "s").unwrap(),
        );
        assert_eq!(redact_url("http://127.0.0.1:8080/api?page=1", "s"), None);
        assert_eq!(redact_url("not a url: a@b", "s"), None);
        assert_eq!(
            endpoint_label("https://u:p@h:1/x/?token=t#f"),
            "https://h:1/x/"
        );
    }

    #[test]
    fn header_and_field_names_follow_the_documented_rule() {
        for name in [
            "X-Api-Key",
            "X-Auth-Token",
            "Proxy-Authorization",
            "Cookie",
            "Set-Cookie",
            "X-Vault-Token",
            "X-Client-Secret",
            "X-Signing-Key",
            "X-Auth-User",
        ] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["X-Forwarded-Proto", "Content-Type", "X-Frame-Options"] {
            assert!(!is_credential_header(name), "{name}");
        }
        assert!(is_credential_name("db_password") && is_credential_name("apiToken"));
        assert!(!is_credential_name("keyFile") && !is_credential_name("realm"));
        let mut body = json!({"headers": {"customRequestHeaders": {"X-Api-Key": "k-canary", "X-Plain": "v"}},
            "plugin": {"p": {"nested": {"clientSecret": {"a": ["s-canary"]}}}}});
        redact_credential_fields(&mut body, "traefik", "salt", "");
        assert!(!body.to_string().contains("canary"), "{body}");
        assert_eq!(body["headers"]["customRequestHeaders"]["X-Plain"], "v");
    }

    #[test]
    fn display_masks_show_change_without_value() {
        let a = json!({"k": digest("n", "s", "k", b"one")});
        let b = json!({"k": digest("n", "s", "k", b"two")});
        assert_eq!(mask_for_display(&b, Some(&a), true)["k"], REDACTED_CHANGED);
        assert_eq!(mask_for_display(&a, Some(&b), false)["k"], REDACTED);
        assert_eq!(mask_for_display(&a, Some(&a), true)["k"], REDACTED);
    }
}
