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
    /// default), or a record rather than configuration (Kubernetes: an
    /// operator's `Backup` objects): never unmanaged drift, even without
    /// default exclusions.
    fn is_builtin(&self, _resource: &Resource) -> bool {
        false
    }

    /// Whether the unmanaged search of this source is limited to managed
    /// namespaces (else: to sources Git declares anything of).
    fn namespaced(&self) -> bool {
        false
    }

    /// Whether live objects of this source normally record who wrote each
    /// field (then one that does not is noted in the report).
    fn records_writers(&self) -> bool {
        false
    }

    /// Who wrote each field of a live body; `None` when not recorded.
    fn write_record(&self, _live: &Value) -> Option<WriteRecord> {
        None
    }

    /// Whether `writer` is trusted to set fields Git does not set: one that
    /// applies what Git declares, or a controller of the system itself, or
    /// one the config names (`configured`, `drift.trusted_managers`).
    fn trusts(&self, _writer: &Writer, _configured: &[String]) -> bool {
        true
    }

    /// Maps of `kind` that Git declares as a whole (paths): a key added
    /// live is drift whoever added it.
    fn whole_maps(&self, _kind: &str) -> &'static [&'static str] {
        &[]
    }

    /// How one live target of this source is compared, when that differs from
    /// its inventory as read: objects of this source that Git declares through
    /// another source's documents (Traefik routers from IngressRoute
    /// manifests), live objects named after the declared objects they were
    /// made from, and notes on what the target does not serve. `None`: as read.
    fn comparison_view(&self, _declared: &Inventory, _live: &Inventory) -> Option<ComparisonView> {
        None
    }
}

/// What [`SourceRules::comparison_view`] gives drift for one live target.
#[derive(Debug, Default)]
pub struct ComparisonView {
    /// Declared objects of this source derived from other declared objects;
    /// compared as declared ones (file and line of the document they come from).
    pub derived: Vec<Resource>,
    /// The live inventory as compared: renamed where matched, without the
    /// objects the target shows but does not serve (their declared
    /// counterparts are then missing, with `notes` saying why).
    pub live: Inventory,
    /// A note for the drift entry of an identity (why it is missing, why a
    /// live object could not be told apart).
    pub notes: std::collections::BTreeMap<crate::model::Identity, String>,
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

/// Who last wrote a live field, as the source records it (Kubernetes: an
/// entry of `metadata.managedFields`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Writer {
    pub manager: String,
    /// `Apply` (server-side apply) or `Update`.
    pub operation: String,
    /// RFC 3339; `None` when the entry has no time (writes through the
    /// `scale` subresource record none).
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

/// The fields one writer owns in an object: a tree of members. A node is
/// owned as a whole when it is a leaf or is marked so (FieldsV1 `.`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    pub whole: bool,
    pub members: Vec<(Member, FieldSet)>,
}

/// One step of a [`FieldSet`]: a map key, or a list item named by its key
/// fields, its value or its position.
#[derive(Debug, Clone, PartialEq)]
pub enum Member {
    Field(String),
    Keys(serde_json::Map<String, Value>),
    Value(Value),
    Index(usize),
}

impl Member {
    /// Whether this member names the item at `index` of a list, `item`.
    pub fn names_item(&self, index: usize, item: &Value) -> bool {
        match self {
            Member::Field(_) => false,
            Member::Keys(keys) => {
                !keys.is_empty()
                    && keys.iter().all(|(k, v)| {
                        item.get(k)
                            .is_some_and(|found| scalars_equivalent(v, found))
                    })
            }
            Member::Value(value) => value == item,
            Member::Index(i) => *i == index,
        }
    }

    /// The index of the item of `items` this member names.
    pub fn find_item(&self, items: &[Value]) -> Option<usize> {
        items
            .iter()
            .enumerate()
            .position(|(index, item)| self.names_item(index, item))
    }
}

/// The write record of one live object: each writer with what it owns.
#[derive(Debug, Clone, Default)]
pub struct WriteRecord {
    pub entries: Vec<(Writer, FieldSet)>,
}

/// One step into a live body: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}
