//! driftaudit: compares what Git declares with what runs (Kubernetes, Traefik,
//! PostgreSQL, backups) and judges both with Rego policies.
//!
//! Data flows one way: sources → inventories → drift → policies → report.

pub mod backups;
pub mod certificates;
pub mod config;
pub mod diag;
pub mod drift;
pub mod evidence;
pub mod facts;
pub mod gate;
pub mod history;
pub mod model;
pub mod no_follow;
pub mod owners;
pub mod policy;
pub mod printable;
pub mod redact;
pub mod report;
pub mod scan;
pub mod scratch;
pub mod sources;
pub mod status_facts;
pub mod waivers;
pub mod wal;
pub mod yaml;
