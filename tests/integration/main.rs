//! The one integration test binary (`cargo test --test integration`): every
//! test runs the real `driftaudit` binary or real servers. One module per area,
//! the hostile-input suite as its own folder, and the helpers they share in
//! `common` (running the binary, a free port, a test Kubernetes API server, a
//! real Traefik, a real PostgreSQL server).
//!
//! Filter by module path: `cargo test --test integration hostile::` runs the
//! hostile-input suite, `cargo test --test integration postgres::` the
//! PostgreSQL tests.

mod common;

mod action;
mod cli;
mod compare;
mod control_status;
mod controls;
mod declared_coverage;
mod declared_messages;
mod declared_sources;
mod demo;
mod diagnostics;
mod drift_and_secrets;
mod drift_attribution;
mod environments;
mod evidence;
mod evidence_block;
mod exemptions;
mod formats;
mod hardening;
mod helm;
mod history;
mod hostile;
mod html;
mod kube_client;
mod kubernetes;
mod metrics;
mod nothing_unseen;
mod openreports;
mod operators;
mod owners;
mod pgbackrest;
mod policies;
mod postgres;
mod pss;
mod rbac;
mod schemas;
mod snapshot_secrets;
mod source_diagnostics;
mod tls_endpoints;
mod traefik;
mod traefik_kubernetes;
mod waivers;
mod workload_kinds;
mod yaml_kubectl;
