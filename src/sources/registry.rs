//! The registry of sources: one entry per source, saying how drift treats
//! its resources and which of driftaudit's own declared documents it reads.
//! Adding a source adds one line to `REGISTRY` (and its `Source` variant in
//! `model`).

use serde_json::Value;

use super::document::DocumentPlace;
use super::rules::{SourceEntry, SourceRules};
use super::{kubernetes, pgbackrest, postgres, traefik};
use crate::model::{InputError, Resource, Source};

static REGISTRY: &[SourceEntry] = &[
    kubernetes::ENTRY,
    traefik::ENTRY,
    postgres::rules::ENTRY,
    pgbackrest::ENTRY,
];

/// The rules of `source`.
pub fn rules_for(source: Source) -> &'static dyn SourceRules {
    REGISTRY
        .iter()
        .map(|entry| entry.rules)
        .find(|rules| rules.source() == source)
        .unwrap_or(&NO_RULES)
}

/// Expands one `driftaudit.io/*` document with the reader its kind is
/// registered with.
pub fn expand_document(
    document: &Value,
    place: &DocumentPlace,
) -> (Vec<Resource>, Vec<InputError>) {
    let kind = document.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut kinds = REGISTRY.iter().flat_map(|entry| entry.documents.iter());
    if let Some((_, read)) = kinds.clone().find(|(name, _)| *name == kind) {
        return read(document, place);
    }
    let expected: Vec<&str> = kinds.by_ref().map(|(name, _)| *name).collect();
    (
        Vec::new(),
        vec![place.error(
            "kind",
            format!(
                "unknown driftaudit.io kind `{kind}` (expected {})",
                expected.join(" or ")
            ),
        )],
    )
}

/// For a source without an entry: bodies compared as read.
struct NoRules;

static NO_RULES: NoRules = NoRules;

impl SourceRules for NoRules {
    fn source(&self) -> Source {
        Source::Backup
    }
}
