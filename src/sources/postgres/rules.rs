//! How drift treats PostgreSQL objects, and what PostgreSQL registers in
//! `sources::registry`.

use serde_json::Value;

use super::declared::expand_baseline;
use crate::model::{Resource, Source};
use crate::sources::rules::{SourceEntry, SourceRules};

/// A live parameter nobody set (`pg_settings.source` is `default` or
/// `override`): Git need not declare it, so it is never unmanaged drift.
pub fn is_builtin_default(resource: &Resource) -> bool {
    resource.identity.source == Source::Postgres
        && resource.identity.kind == "Setting"
        && matches!(
            resource.body.get("source").and_then(Value::as_str),
            Some("default" | "override")
        )
}

/// How drift treats PostgreSQL objects: unset parameters are built-in defaults.
pub struct PostgresRules;

impl SourceRules for PostgresRules {
    fn source(&self) -> Source {
        Source::Postgres
    }

    fn is_builtin(&self, resource: &Resource) -> bool {
        is_builtin_default(resource)
    }
}

/// The PostgreSQL rules.
pub static RULES: PostgresRules = PostgresRules;

/// PostgreSQL in `sources::registry`.
pub const ENTRY: SourceEntry = SourceEntry {
    rules: &RULES,
    documents: &[("PostgresBaseline", expand_baseline)],
};
