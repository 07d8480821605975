//! What drift asks a source: how a body is compared (fields the server
//! writes, defaults it fills in, equivalent spellings) and which live objects
//! nobody declares on purpose (made by the system, built-in defaults). Each
//! source states its rules in its own folder; `sources::registry` lists them.

use serde_json::Value;

use super::document::DocumentReader;
use crate::model::{Inventory, Resource, Source};

/// What a source registers in `sources::registry`.
pub struct SourceEntry {
    pub rules: &'static dyn SourceRules,
    /// The `driftaudit.io/v1` document kinds it declares, with their readers.
    pub documents: &'static [(&'static str, DocumentReader)],
}

/// The comparison rules of one source. The defaults suit a source whose
/// bodies are compared as read.
pub trait SourceRules: Sync {
    /// The source these rules are for.
    fn source(&self) -> Source;

    /// The body as compared: without the fields the server writes.
    fn compared_body(&self, body: &Value) -> Value {
        body.clone()
    }

    /// Whether a live-only field at `path` holds what the server fills in
    /// by itself (compared in strict mode only).
    fn is_server_default(&self, _kind: &str, _path: &str, value: &Value) -> bool {
        is_omitted(value)
    }

    /// Whether two scalars mean the same thing at `path`.
    fn values_equivalent(&self, declared: &Value, live: &Value, _path: &str) -> bool {
        scalars_equivalent(declared, live)
    }

    /// A live object the system makes by itself (controllers, the API
    /// server): not unmanaged drift unless default exclusions are off.
    fn made_by_system(&self, _resource: &Resource, _live: &Inventory) -> bool {
        false
    }

    /// Whether `live` was made from `declared`, an object declared without a
    /// name (`Resource::generate_name`): not unmanaged drift.
    fn made_from(&self, _declared: &Resource, _live: &Resource) -> bool {
        false
    }

    /// A live object that exists without anyone setting it (a built-in
    /// default): never unmanaged drift.
    fn is_builtin(&self, _resource: &Resource) -> bool {
        false
    }

    /// Whether the unmanaged search of this source is limited to managed
    /// namespaces (else: to sources Git declares anything of).
    fn namespaced(&self) -> bool {
        false
    }
}

/// A value Go's `omitempty` drops: declaring it is the same as leaving it out.
pub fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// A zero value, or an object holding only such values: what a server
/// writes back for fields nobody set.
pub fn is_omitted(value: &Value) -> bool {
    is_zero(value)
        || value
            .as_object()
            .is_some_and(|map| map.values().all(is_omitted))
}

/// Equal values, numbers of one value (`1` = `1.0`), and an int-or-string
/// spelt both ways (`"80"` = `80`).
pub fn scalars_equivalent(declared: &Value, live: &Value) -> bool {
    if declared == live {
        return true;
    }
    match (declared, live) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        _ => false,
    }
}
