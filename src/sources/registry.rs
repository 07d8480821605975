//! The registry of sources: every source's drift rules. Adding a source adds
//! one line here (and its `Source` variant in `model`).

use super::rules::SourceRules;
use super::{kubernetes, pgbackrest, postgres, traefik};
use crate::model::Source;

static REGISTRY: &[&dyn SourceRules] = &[
    &kubernetes::RULES,
    &traefik::RULES,
    &postgres::RULES,
    &pgbackrest::RULES,
];

/// The rules of `source`.
pub fn rules_for(source: Source) -> &'static dyn SourceRules {
    REGISTRY
        .iter()
        .copied()
        .find(|rules| rules.source() == source)
        .unwrap_or(&NO_RULES)
}

/// For a source without an entry: bodies compared as read.
struct NoRules;

static NO_RULES: NoRules = NoRules;

impl SourceRules for NoRules {
    fn source(&self) -> Source {
        Source::Backup
    }
}
