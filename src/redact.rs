//! Secret redaction. Every resource passes through here before anything else
//! sees it, so no later stage (drift, policy input, reports, snapshots) can leak a
//! secret value: values become salted digests that still compare equal when
//! the values are equal, and renderers print only `<redacted>`.

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
    fn display_masks_show_change_without_value() {
        let a = json!({"k": digest("n", "s", "k", b"one")});
        let b = json!({"k": digest("n", "s", "k", b"two")});
        assert_eq!(mask_for_display(&b, Some(&a), true)["k"], REDACTED_CHANGED);
        assert_eq!(mask_for_display(&a, Some(&b), false)["k"], REDACTED);
        assert_eq!(mask_for_display(&a, Some(&a), true)["k"], REDACTED);
    }
}
