//! Where resources come from. Declared sources read what Git (or a directory)
//! declares; live sources read what runs, or a snapshot of it.
//!
//! Each source is one folder (`kubernetes/`, `traefik/`, `postgres/`,
//! `pgbackrest/`, `tls/`) holding its declared reader, its live `Collector`
//! and its `SourceRules`; the generic pieces live here: reading the declared
//! tree (`git`, `declared`), snapshots, the collection runner (`collect`) and
//! the `SourceRules` trait (`rules`) and the registry of sources (`registry`). Stages outside `sources` name no source.

pub mod collect;
pub mod declared;
pub mod document;
pub mod environments;
pub mod git;
pub mod kubernetes;
pub mod pgbackrest;
pub mod postgres;
pub mod registry;
pub mod rules;
pub mod snapshot;
pub mod tls;
pub mod traefik;

pub use collect::{
    collect_live, coverage_of, Collected, Collector, LiveScope, LiveSource, SourceArgs,
};
pub use registry::rules_for;
pub use rules::SourceRules;
