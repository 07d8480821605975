//! Secret redaction: the one layer every source passes through before anything
//! else sees a resource, so no later stage (drift, policy input, reports,
//! snapshots) can leak a secret value. Values become digests that still
//! compare equal when the values are equal, and renderers print only
//! `<redacted>`.
//!
//! Kubernetes Secret values become keyed hashes (`hmac-sha256:`, HMAC-SHA256
//! under the scan's key, `secret_digest`): a random key made for each run and
//! never stored, or the key of `--secret-key-file` (so `capture` can store
//! them and a later scan with the same key compare them). Without the key a
//! digest cannot be reversed by trying values. Other credentials (Traefik
//! fields, URL userinfo) use the salted `digest`. What counts as a credential:
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

use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Prefix of a digest that stands for a secret value.
pub const DIGEST_PREFIX: &str = "redacted-sha256:";

/// Prefix of a keyed hash of a Secret value (`secret_digest`).
pub const SECRET_DIGEST_PREFIX: &str = "hmac-sha256:";

/// A Secret value that cannot be compared: a snapshot without Secret values,
/// hashed under another key, or an old public-salt digest. Never equal to
/// anything; the snapshot reader makes such Secrets a coverage gap.
pub const NOT_COMPARED: &str = "<not compared>";

/// A Secret value `capture` did not store (no `--secret-key-file`).
pub const NOT_CAPTURED: &str = "<not captured>";

/// The least number of bytes of a user's secret key file.
pub const MIN_KEY_BYTES: usize = 32;

/// The key of this run's Secret hashes.
struct SecretKey {
    key: ring::hmac::Key,
    /// Short keyed hash of a fixed text: tells keys apart, reveals nothing.
    id: String,
    /// The user's key (`set_secret_key`), not a random one.
    given: bool,
}

static SECRET_KEY: OnceLock<SecretKey> = OnceLock::new();

fn make_key(bytes: &[u8], given: bool) -> SecretKey {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes);
    let tag = ring::hmac::sign(&key, b"driftaudit secret key id v2");
    SecretKey {
        id: hex(&tag.as_ref()[..8]),
        key,
        given,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The run's key: the user's when `set_secret_key` was called first, else a
/// random one made now (never written anywhere).
fn secret_key() -> &'static SecretKey {
    SECRET_KEY.get_or_init(|| {
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random number generator works");
        make_key(&bytes, false)
    })
}

/// Uses the user's key (the bytes of `--secret-key-file`) for this run's
/// Secret hashes. Must come before any Secret is read; refuses a key shorter
/// than `MIN_KEY_BYTES`.
pub fn set_secret_key(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < MIN_KEY_BYTES {
        return Err(format!(
            "it holds {} bytes; a secret key must hold at least {MIN_KEY_BYTES} bytes of secret (e.g. `head -c 32 /dev/urandom > FILE`)",
            bytes.len()
        ));
    }
    let wanted = make_key(bytes, true);
    let id = wanted.id.clone();
    let set = SECRET_KEY.get_or_init(|| wanted);
    if set.given && set.id == id {
        Ok(())
    } else {
        Err("Secret values were hashed before the key was given".into())
    }
}

/// The id of the user's key, when one was given (`set_secret_key`); `None`
/// with the random per-run key, whose hashes must never be stored.
pub fn secret_key_id() -> Option<String> {
    let key = secret_key();
    key.given.then(|| key.id.clone())
}

/// The keyed hash of one Secret value, bound to where it lives so equal
/// values in different Secrets give different hashes.
pub fn secret_digest(namespace: &str, name: &str, key: &str, value: &[u8]) -> String {
    let mut context = ring::hmac::Context::with_key(&secret_key().key);
    for part in [
        b"driftaudit-secret-v2".as_slice(),
        namespace.as_bytes(),
        name.as_bytes(),
        key.as_bytes(),
    ] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    context.update(value);
    format!("{SECRET_DIGEST_PREFIX}{}", hex(context.sign().as_ref()))
}

/// Whether a Secret value is a marker of a value that cannot be compared.
pub fn is_uncompared(text: &str) -> bool {
    text == NOT_COMPARED || text == NOT_CAPTURED
}

/// What renderers print instead of a secret value.
pub const REDACTED: &str = "<redacted>";

/// What renderers print for a secret value that differs between the two sides.
pub const REDACTED_CHANGED: &str = "<redacted: changed>";

/// The annotation in which `kubectl apply` (client-side) keeps a copy of the
/// applied object, plaintext `stringData` included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether a string is a digest standing for a secret value.
pub fn is_digest(text: &str) -> bool {
    text.starts_with(DIGEST_PREFIX) || text.starts_with(SECRET_DIGEST_PREFIX)
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

/// What a Secret value becomes: a keyed hash kept as it is (the snapshot
/// reader decided to trust it), a marker or an old public-salt digest as
/// `NOT_COMPARED`, anything else (`plain`: the value's bytes) hashed.
fn secret_value(text: Option<&str>, plain: impl FnOnce() -> Vec<u8>, at: [&str; 3]) -> Value {
    Value::String(match text {
        Some(s) if s.starts_with(SECRET_DIGEST_PREFIX) => s.to_string(),
        Some(s) if s.starts_with(DIGEST_PREFIX) || is_uncompared(s) => NOT_COMPARED.to_string(),
        _ => secret_digest(at[0], at[1], at[2], &plain()),
    })
}

/// Replaces every value of a Secret by its keyed hash: `data` (base64) and
/// `stringData` (plain) are merged into `data`, as the API server does, and the
/// last-applied annotation (which holds the plaintext) is dropped. Keyed
/// hashes are kept, so redaction is idempotent.
pub fn redact_secret(body: &mut Value) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    let namespace = str_at(object, "metadata", "namespace");
    let name = str_at(object, "metadata", "name");
    let mut data = Map::new();
    if let Some(Value::Object(encoded)) = object.remove("data") {
        for (key, value) in encoded {
            let at = [namespace.as_str(), name.as_str(), key.as_str()];
            let hashed = match &value {
                Value::String(s) => secret_value(
                    Some(s),
                    || {
                        base64::engine::general_purpose::STANDARD
                            .decode(s.trim())
                            // Not valid base64: still a secret, hashed as it stands.
                            .unwrap_or_else(|_| s.as_bytes().to_vec())
                    },
                    at,
                ),
                other => secret_value(None, || other.to_string().into_bytes(), at),
            };
            data.insert(key, hashed);
        }
    }
    if let Some(Value::Object(plain)) = object.remove("stringData") {
        for (key, value) in plain {
            let at = [namespace.as_str(), name.as_str(), key.as_str()];
            let hashed = match &value {
                Value::String(s) => secret_value(Some(s), || s.as_bytes().to_vec(), at),
                other => secret_value(None, || other.to_string().into_bytes(), at),
            };
            data.insert(key, hashed);
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

/// Replaces the keyed hashes and markers of a Secret's values (`data`,
/// `stringData`) by `NOT_COMPARED`, when they cannot be trusted (a snapshot
/// hashed under another key, or holding none); old public-salt digests
/// always. Plain values are left for `redact_secret`. Returns whether any
/// value became `NOT_COMPARED`.
pub fn distrust_secret_digests(body: &mut Value, trusted: bool) -> bool {
    let mut any = false;
    for field in ["data", "stringData"] {
        if let Some(Value::Object(values)) = body.get_mut(field) {
            for value in values.values_mut() {
                if let Value::String(s) = value {
                    let keyed = s.starts_with(SECRET_DIGEST_PREFIX);
                    if (keyed && !trusted) || s.starts_with(DIGEST_PREFIX) || is_uncompared(s) {
                        *s = NOT_COMPARED.to_string();
                        any = true;
                    }
                }
            }
        }
    }
    any
}

/// Replaces every Secret value (already redacted) by `NOT_CAPTURED`, for a
/// snapshot written without the user's key.
pub fn drop_secret_values(body: &mut Value) {
    if let Some(Value::Object(values)) = body.get_mut("data") {
        for value in values.values_mut() {
            *value = Value::String(NOT_CAPTURED.to_string());
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
    fn secret_values_are_keyed_hashes_and_old_digests_are_not_compared() {
        let a = secret_digest("shop", "db", "PASSWORD", b"v");
        assert!(a.starts_with(SECRET_DIGEST_PREFIX) && a.len() == SECRET_DIGEST_PREFIX.len() + 64);
        assert_eq!(a, secret_digest("shop", "db", "PASSWORD", b"v"));
        assert_ne!(a, secret_digest("shop", "db2", "PASSWORD", b"v"));
        // Parts are length-prefixed: moving a byte between them changes the hash.
        assert_ne!(
            secret_digest("ab", "c", "k", b"v"),
            secret_digest("a", "bc", "k", b"v")
        );
        // Without a user key, the run's key is random: the unkeyed salted
        // SHA-256 of version 1 gives another value.
        assert_ne!(
            a[SECRET_DIGEST_PREFIX.len()..],
            digest("shop", "db", "PASSWORD", b"v")[DIGEST_PREFIX.len()..]
        );
        assert_eq!(secret_key_id(), None);
        let mut old = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
            "data": {"A": digest("shop", "db", "A", b"x"), "B": NOT_CAPTURED, "C": a.clone()}});
        assert!(distrust_secret_digests(&mut old.clone(), true));
        redact_secret(&mut old);
        assert_eq!(
            old["data"],
            json!({"A": NOT_COMPARED, "B": NOT_COMPARED, "C": a})
        );
        assert!(set_secret_key(&[7u8; 31])
            .unwrap_err()
            .contains("at least 32 bytes"));
        assert!(
            set_secret_key(&[7u8; 32]).is_err(),
            "too late: hashes were made"
        );
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
