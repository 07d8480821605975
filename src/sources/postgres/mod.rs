//! PostgreSQL as a source: the database baseline declared in Git
//! (`kind: PostgresBaseline`, see `docs/postgres.md`) and the live server read
//! from its catalogs. Both sides produce the same resources, so the drift and
//! policy engines compare them like any other:
//!
//! | kind | name | body |
//! | --- | --- | --- |
//! | `Setting` | parameter | `{name, value, setting, unit, ...}` |
//! | `Role` | role | attributes |
//! | `RoleMembership` | `role:member` | `{role, member, admin_option}` |
//! | `Grant` | `on:object:grantee` | `{on, object, grantee, privileges, grantable}` |
//! | `HbaRule` | `type:databases:users:address` | `{type, databases, users, address, method, order}` |
//! | `Extension`, `Database` | name | their fields |
//! | `Archiver` | `archiver` | archiving settings and `pg_stat_archiver` |
//!
//! The namespace of every resource is the server label `host:port/database`,
//! which never holds credentials.

pub mod args;
pub mod connect;
pub mod declared;
pub mod live;
pub mod rules;
pub mod units;

use std::sync::Arc;

use serde_json::Value;

use crate::model::{Origin, Resource, Source};
use crate::yaml::LineMap;

pub use connect::PostgresOptions;

pub const API_VERSION: &str = "postgres.driftaudit.io/v1";

/// Privileges `ALL` stands for, per object type, in catalog spelling.
pub fn all_privileges(on: &str) -> &'static [&'static str] {
    match on {
        "database" => &["CONNECT", "CREATE", "TEMPORARY"],
        "schema" => &["CREATE", "USAGE"],
        "table" => &[
            "DELETE",
            "INSERT",
            "REFERENCES",
            "SELECT",
            "TRIGGER",
            "TRUNCATE",
            "UPDATE",
        ],
        "sequence" => &["SELECT", "UPDATE", "USAGE"],
        "function" => &["EXECUTE"],
        "type" => &["USAGE"],
        _ => &[],
    }
}

/// The name of a Grant resource.
pub fn grant_name(on: &str, object: &str, grantee: &str) -> String {
    format!("{on}:{object}:{grantee}")
}

/// The object a default privilege applies to: `owner:schema:objects`
/// (`*` for every schema).
pub fn default_privilege_object(owner: &str, schema: Option<&str>, objects: &str) -> String {
    format!("{owner}:{}:{objects}", schema.unwrap_or("*"))
}

/// The name of an HbaRule resource: what a connection is matched on, so a
/// rule keeps its identity when lines are added above it.
pub fn hba_name(kind: &str, databases: &[String], users: &[String], address: &str) -> String {
    let mut name = format!("{kind}:{}:{}", databases.join(","), users.join(","));
    if !address.is_empty() {
        name.push(':');
        name.push_str(address);
    }
    name
}

/// Builds a PostgreSQL resource.
pub fn resource(
    kind: &str,
    server: &str,
    name: &str,
    body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
) -> Resource {
    Resource::new(
        Source::Postgres,
        API_VERSION,
        kind,
        server,
        name,
        body,
        origin,
    )
    .with_lines(lines)
}
