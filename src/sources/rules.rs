//! What drift asks a source: how a body is compared (fields the server
//! writes, defaults it fills in, equivalent spellings) and which live objects
//! nobody declares on purpose (made by the system, built-in defaults). Each
//! source states its rules in its own folder; `REGISTRY` lists them.

use serde_json::Value;

use super::{kubernetes, postgres};
use crate::model::{Inventory, Resource, Source};

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
    fn is_server_default(&self, kind: &str, path: &str, value: &Value) -> bool {
        kubernetes::normalize::is_server_default(kind, path, value)
    }

    /// Whether two scalars mean the same thing at `path`.
    fn values_equivalent(&self, declared: &Value, live: &Value, path: &str) -> bool {
        kubernetes::normalize::values_equivalent(declared, live, path)
    }

    /// A live object the system makes by itself (controllers, the API
    /// server): not unmanaged drift unless default exclusions are off.
    fn made_by_system(&self, _resource: &Resource, _live: &Inventory) -> bool {
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

/// Rules for a source that states none of its own.
struct Plain(Source);

impl SourceRules for Plain {
    fn source(&self) -> Source {
        self.0
    }
}

/// Every source's rules: a new source adds its line here.
static REGISTRY: &[&dyn SourceRules] = &[
    &kubernetes::RULES,
    &postgres::RULES,
    &Plain(Source::Traefik),
    &Plain(Source::Backup),
];

/// The rules of `source`.
pub fn rules_for(source: Source) -> &'static dyn SourceRules {
    REGISTRY
        .iter()
        .copied()
        .find(|rules| rules.source() == source)
        .unwrap_or(&Plain(Source::Backup))
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
