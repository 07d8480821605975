//! Reads a live PostgreSQL server: settings, roles, memberships, privileges,
//! `pg_hba` rules, extensions, databases and the WAL archiver, in one
//! read-only repeatable-read transaction (one consistent snapshot, no writes).
//!
//! Each catalog is one query that returns its rows as one JSON document, so the
//! whole state comes back in a handful of round trips. A catalog the login may
//! not read (`pg_hba_file_rules` needs a superuser or an explicit grant) is a
//! coverage gap; the others are still read.

use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use serde_json::{json, Value};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, IsolationLevel, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::connect::{resolve, Connection, PostgresOptions};
use super::{default_privilege_object, grant_name, hba_name, resource, units};
use crate::model::{CoverageGap, Origin, Source};
use crate::model::{Deadline, LiveTarget};
use crate::sources::collect::{unread_target, Collected, Collector, LiveScope};

/// The whole read (connect, login, every query) must finish within this.
const COLLECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Server-side limit of each query, so a locked catalog cannot hang the scan.
const STATEMENT_TIMEOUT: &str = "20s";

/// `to_char` pattern of RFC 3339 UTC timestamps, microseconds kept so two
/// timestamps of one server compare as text.
macro_rules! utc {
    ($column:expr) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// Every parameter is read, so a declared one matches even at its built-in
/// default; those at their default are never "unmanaged" (see
/// `rules::is_builtin_default`). Values set by this session are not the server's.
const SETTINGS_QUERY: &str = "SELECT coalesce(json_agg(json_build_object(
    'name', name, 'setting', setting, 'unit', unit, 'vartype', vartype,
    'source', source, 'pending_restart', pending_restart) ORDER BY name), '[]')::text
  FROM pg_settings
  WHERE source NOT IN ('client', 'session')";

const ROLES_QUERY: &str = concat!(
    "SELECT coalesce(json_agg(json_build_object(
    'name', rolname, 'superuser', rolsuper, 'inherit', rolinherit,
    'createrole', rolcreaterole, 'createdb', rolcreatedb, 'login', rolcanlogin,
    'replication', rolreplication, 'bypassrls', rolbypassrls,
    'connection_limit', rolconnlimit,
    'valid_until', CASE WHEN rolvaliduntil IS NULL THEN NULL
                        WHEN isfinite(rolvaliduntil) THEN ",
    "to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    "
                        ELSE 'infinity' END) ORDER BY rolname), '[]')::text
  FROM pg_roles WHERE rolname !~ '^pg_'"
);

const MEMBERSHIPS_QUERY: &str = "SELECT coalesce(json_agg(json_build_object(
    'role', r.rolname, 'member', m.rolname, 'admin_option', am.admin_option,
    'grantor', g.rolname) ORDER BY r.rolname, m.rolname), '[]')::text
  FROM pg_auth_members am
  JOIN pg_roles r ON r.oid = am.roleid
  JOIN pg_roles m ON m.oid = am.member
  LEFT JOIN pg_roles g ON g.oid = am.grantor
  WHERE m.rolname !~ '^pg_'";

/// Privileges on databases, schemas, tables/views/sequences and default
/// privileges, one row per (object, grantee). An owner's own privileges are
/// ownership, not grants, and objects of extensions belong to the extension.
const GRANTS_QUERY: &str = "WITH acl AS (
    SELECT 'database' AS on_type, d.datname::text AS object, NULL::text AS owner,
           NULL::text AS schema, NULL::text AS objects, a.grantee, a.privilege_type, a.is_grantable
      FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
     WHERE NOT d.datistemplate AND a.grantee <> d.datdba
    UNION ALL
    SELECT 'schema', n.nspname::text, NULL, NULL, NULL, a.grantee, a.privilege_type, a.is_grantable
      FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp_)'
       AND a.grantee <> n.nspowner
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_namespace'::regclass
                       AND e.objid = n.oid AND e.deptype = 'e')
    UNION ALL
    SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END,
           n.nspname || '.' || c.relname, NULL, NULL, NULL, a.grantee, a.privilege_type, a.is_grantable
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
           aclexplode(c.relacl) a
     WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p', 'S')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp_)'
       AND a.grantee <> c.relowner
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                       AND e.objid = c.oid AND e.deptype = 'e')
    UNION ALL
    SELECT 'default', NULL, pg_get_userbyid(da.defaclrole),
           CASE WHEN da.defaclnamespace = 0 THEN NULL ELSE da.defaclnamespace::regnamespace::text END,
           CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END,
           a.grantee, a.privilege_type, a.is_grantable
      FROM pg_default_acl da, aclexplode(da.defaclacl) a
     WHERE a.grantee <> da.defaclrole
  )
  SELECT coalesce(json_agg(json_build_object(
      'on', on_type, 'object', object, 'owner', owner, 'schema', schema, 'objects', objects,
      'grantee', grantee, 'privileges', privileges, 'grantable', grantable)
      ORDER BY on_type, object, owner, schema, objects, grantee), '[]')::text
  FROM (SELECT on_type, object, owner, schema, objects,
               CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee)::text END AS grantee,
               array_agg(privilege_type ORDER BY privilege_type) AS privileges,
               coalesce(array_agg(privilege_type ORDER BY privilege_type)
                        FILTER (WHERE is_grantable), '{}') AS grantable
          FROM acl GROUP BY on_type, object, owner, schema, objects, grantee) g";

const HBA_QUERY: &str = "SELECT coalesce(json_agg(json_build_object(
    'line', line_number, 'type', type, 'databases', database, 'users', user_name,
    'address', address, 'netmask', netmask, 'method', auth_method, 'options', options,
    'error', error) ORDER BY line_number), '[]')::text
  FROM pg_hba_file_rules";

/// plpgsql is installed by initdb in every database: not something Git declares.
const EXTENSIONS_QUERY: &str = "SELECT coalesce(json_agg(json_build_object(
    'name', e.extname, 'version', e.extversion, 'schema', n.nspname) ORDER BY e.extname), '[]')::text
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname <> 'plpgsql'";

const DATABASES_QUERY: &str = "SELECT coalesce(json_agg(json_build_object(
    'name', datname, 'owner', pg_get_userbyid(datdba), 'encoding', pg_encoding_to_char(encoding),
    'collate', datcollate, 'ctype', datctype, 'allow_connections', datallowconn,
    'connection_limit', datconnlimit) ORDER BY datname), '[]')::text
  FROM pg_database WHERE NOT datistemplate";

const ARCHIVER_QUERY: &str = concat!(
    "SELECT json_build_object(
    'archive_mode', (SELECT setting FROM pg_settings WHERE name = 'archive_mode'),
    'archive_command', (SELECT setting FROM pg_settings WHERE name = 'archive_command'),
    'archive_library', (SELECT setting FROM pg_settings WHERE name = 'archive_library'),
    'archived_count', archived_count, 'last_archived_wal', last_archived_wal,
    'last_archived_time', ",
    utc!("last_archived_time"),
    ",
    'failed_count', failed_count, 'last_failed_wal', last_failed_wal,
    'last_failed_time', ",
    utc!("last_failed_time"),
    ",
    'stats_reset', ",
    utc!("stats_reset"),
    ",
    'failing', failed_count > 0 AND (last_archived_time IS NULL
                                     OR last_failed_time > last_archived_time))::text
  FROM pg_stat_archiver"
);

/// Each catalog, the kind its rows become, and what to call it in a coverage gap.
const CATALOGS: [(&str, &str, &str); 8] = [
    ("Setting", "pg_settings", SETTINGS_QUERY),
    ("Role", "pg_roles", ROLES_QUERY),
    ("RoleMembership", "pg_auth_members", MEMBERSHIPS_QUERY),
    (
        "Grant",
        "privileges (aclexplode of the catalogs)",
        GRANTS_QUERY,
    ),
    ("HbaRule", "pg_hba_file_rules", HBA_QUERY),
    ("Extension", "pg_extension", EXTENSIONS_QUERY),
    ("Database", "pg_database", DATABASES_QUERY),
    ("Archiver", "pg_stat_archiver", ARCHIVER_QUERY),
];

/// Reads one server. Never fails: what cannot be read is a coverage gap.
pub async fn collect(options: &PostgresOptions) -> LiveTarget {
    let mut target = LiveTarget {
        sources: vec![Source::Postgres],
        ..LiveTarget::default()
    };
    let connection = match resolve(options) {
        Ok(connection) => connection,
        Err(reason) => {
            target.name = "postgres".into();
            target.coverage.push(gap("", "PostgreSQL server", reason));
            return target;
        }
    };
    let label = connection.label.clone();
    target.name = format!("postgres {label}");
    let read = tokio::time::timeout(COLLECT_TIMEOUT, read_catalogs(connection)).await;
    let catalogs = match read {
        Ok(Ok((catalogs, identity))) => {
            target.identity = identity;
            catalogs
        }
        Ok(Err(reason)) => {
            target
                .coverage
                .push(gap(&label, "PostgreSQL server", reason));
            return target;
        }
        Err(_) => {
            target.coverage.push(gap(
                &label,
                "PostgreSQL server",
                format!("no answer within {} seconds", COLLECT_TIMEOUT.as_secs()),
            ));
            return target;
        }
    };
    let origin = Origin::Live {
        target: target.name.clone(),
        endpoint: label.clone(),
    };
    for (kind, catalog, result) in catalogs {
        match result {
            Ok(rows) => {
                let (resources, problems) = resources_of(kind, &rows);
                for (name, body) in resources {
                    // Names are unique per kind by construction (catalog keys).
                    let _ = target.inventory.insert(resource(
                        kind,
                        &label,
                        &name,
                        body,
                        origin.clone(),
                        None,
                    ));
                }
                for problem in problems {
                    target.coverage.push(gap(&label, catalog, problem));
                }
            }
            Err(reason) => target.coverage.push(gap(
                &label,
                &format!("{kind} ({catalog})"),
                format!("cannot read {catalog}: {reason}"),
            )),
        }
    }
    target
}

fn gap(endpoint: &str, scope: &str, reason: String) -> CoverageGap {
    CoverageGap {
        source: Source::Postgres,
        target: if endpoint.is_empty() {
            "postgres".into()
        } else {
            format!("postgres {endpoint}")
        },
        scope: scope.to_string(),
        reason,
        endpoint: endpoint.to_string(),
        kind: None,
    }
}

type CatalogRows = Vec<(&'static str, &'static str, Result<Value, String>)>;

/// The server's identity (`report.evidence.targets`): its version and the
/// `system_identifier` of its cluster (`pg_control_system()`, which a role
/// may be refused: then null, with a note).
const IDENTITY: [(&str, &str); 2] = [
    ("server_version", "SELECT current_setting('server_version')"),
    (
        "system_identifier",
        "SELECT system_identifier::text FROM pg_control_system()",
    ),
];

async fn read_catalogs(
    connection: Connection,
) -> Result<(CatalogRows, serde_json::Map<String, Value>), String> {
    let Connection { config, tls, .. } = connection;
    let client = match tls {
        Some(tls) => open(&config, MakeRustlsConnect::new(tls)).await?,
        None => open(&config, NoTls).await?,
    };
    query_all(client).await
}

/// Connects and drives the connection on the runtime; the error says whether
/// the server was unreachable or refused the login.
pub(crate) async fn open<T>(config: &tokio_postgres::Config, tls: T) -> Result<Client, String>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await.map_err(describe_connect_error)?;
    tokio::spawn(async move {
        // Errors after the login surface on the client's queries.
        let _ = connection.await;
    });
    Ok(client)
}

fn describe_connect_error(error: tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!(
            "login failed: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        ),
        None => format!("cannot connect: {error}"),
    }
}

async fn query_all(
    mut client: Client,
) -> Result<(CatalogRows, serde_json::Map<String, Value>), String> {
    let mut transaction = client
        .build_transaction()
        .read_only(true)
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()
        .await
        .map_err(|e| format!("cannot start a read-only transaction: {e}"))?;
    transaction
        .batch_execute(&format!(
            "SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"
        ))
        .await
        .map_err(|e| format!("cannot set statement_timeout: {e}"))?;
    let mut results = Vec::with_capacity(CATALOGS.len());
    for (kind, catalog, sql) in CATALOGS {
        // A savepoint keeps the transaction usable after a refused catalog.
        let savepoint = transaction
            .savepoint("driftaudit_catalog")
            .await
            .map_err(|e| format!("savepoint failed: {e}"))?;
        let result = match savepoint.query_opt(sql, &[]).await {
            Ok(row) => {
                let text: Option<String> = row.and_then(|r| r.get(0));
                savepoint
                    .commit()
                    .await
                    .map_err(|e| format!("release savepoint failed: {e}"))?;
                serde_json::from_str(text.as_deref().unwrap_or("null"))
                    .map_err(|e| format!("unexpected answer: {e}"))
            }
            Err(error) => {
                let reason = match error.as_db_error() {
                    Some(db) => db.message().to_string(),
                    None => error.to_string(),
                };
                savepoint
                    .rollback()
                    .await
                    .map_err(|e| format!("rollback to savepoint failed: {e}"))?;
                Err(reason)
            }
        };
        results.push((kind, catalog, result));
    }
    let mut identity = serde_json::Map::new();
    let mut notes: Vec<Value> = Vec::new();
    for (key, sql) in IDENTITY {
        let savepoint = transaction
            .savepoint("driftaudit_identity")
            .await
            .map_err(|e| format!("savepoint failed: {e}"))?;
        let value = match savepoint.query_opt(sql, &[]).await {
            Ok(row) => {
                savepoint
                    .commit()
                    .await
                    .map_err(|e| format!("release savepoint failed: {e}"))?;
                row.and_then(|r| r.get::<_, Option<String>>(0))
            }
            Err(error) => {
                let reason = match error.as_db_error() {
                    Some(db) => db.message().to_string(),
                    None => "the query failed".into(),
                };
                savepoint
                    .rollback()
                    .await
                    .map_err(|e| format!("rollback to savepoint failed: {e}"))?;
                notes.push(format!("{key}: {reason}").into());
                None
            }
        };
        identity.insert(key.into(), value.into());
    }
    if !notes.is_empty() {
        identity.insert("notes".into(), notes.into());
    }
    transaction
        .rollback()
        .await
        .map_err(|e| format!("cannot end the transaction: {e}"))?;
    Ok((results, identity))
}

/// Turns the rows of one catalog into (name, body) pairs, and the rows it
/// could not use into problems.
pub fn resources_of(kind: &str, rows: &Value) -> (Vec<(String, Value)>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let items: Vec<&Value> = match rows {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    for row in items {
        let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or_default();
        match kind {
            "Setting" => {
                let unit = row.get("unit").and_then(Value::as_str);
                let value = units::live_value(text("setting"), unit, text("vartype"));
                let mut body = row.clone();
                if let Some(map) = body.as_object_mut() {
                    map.insert("value".into(), value);
                }
                out.push((text("name").to_string(), body));
            }
            "Role" | "Extension" | "Database" => out.push((text("name").to_string(), row.clone())),
            "RoleMembership" => {
                out.push((format!("{}:{}", text("role"), text("member")), row.clone()))
            }
            "Grant" => {
                let mut body = row.clone();
                let name = if text("on") == "default" {
                    let object = default_privilege_object(
                        text("owner"),
                        row.get("schema").and_then(Value::as_str),
                        text("objects"),
                    );
                    grant_name("default", &object, text("grantee"))
                } else {
                    if let Some(map) = body.as_object_mut() {
                        for key in ["owner", "schema", "objects"] {
                            map.remove(key);
                        }
                    }
                    grant_name(text("on"), text("object"), text("grantee"))
                };
                out.push((name, body));
            }
            "HbaRule" => {
                if let Some(error) = row.get("error").and_then(Value::as_str) {
                    problems.push(format!(
                        "pg_hba.conf line {} is invalid and ignored by the server: {error}",
                        row.get("line").cloned().unwrap_or(Value::Null)
                    ));
                    continue;
                }
                let strings = |key: &str| -> Vec<String> {
                    row.get(key)
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let address = hba_address(
                    row.get("address").and_then(Value::as_str),
                    row.get("netmask").and_then(Value::as_str),
                );
                let (databases, users) = (strings("databases"), strings("users"));
                let name = hba_name(
                    text("type"),
                    &databases,
                    &users,
                    address.as_deref().unwrap_or(""),
                );
                let body = json!({
                    "type": text("type"),
                    "databases": databases,
                    "users": users,
                    "address": address,
                    "method": text("method"),
                    "options": row.get("options").cloned().unwrap_or(Value::Null),
                    "order": out.len() + 1,
                    "line": row.get("line").cloned().unwrap_or(Value::Null),
                });
                out.push((name, body));
            }
            "Archiver" => out.push(("archiver".to_string(), row.clone())),
            _ => {}
        }
    }
    (out, problems)
}

/// `127.0.0.1` + `255.255.255.255` → `127.0.0.1/32`; host names and keywords
/// (`samehost`, `.example.com`) stay as they are.
pub fn hba_address(address: Option<&str>, netmask: Option<&str>) -> Option<String> {
    let address = address?;
    let Some(mask) = netmask else {
        return Some(address.to_string());
    };
    let prefix = match mask.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => u32::from(v4).count_ones(),
        Ok(std::net::IpAddr::V6(v6)) => u128::from(v6).count_ones(),
        Err(_) => return Some(address.to_string()),
    };
    Some(format!("{address}/{prefix}"))
}

/// A PostgreSQL server, read with tokio-postgres on the collection runtime.
impl Collector for PostgresOptions {
    fn label(&self) -> String {
        "postgres".into()
    }

    fn collect(
        &self,
        _scope: &LiveScope<'_>,
        _deadline: Deadline,
    ) -> BoxFuture<'static, Collected> {
        let options = self.clone();
        async move { Collected::from(vec![collect(&options).await]) }.boxed()
    }

    fn unread(&self, reason: &str) -> Vec<LiveTarget> {
        vec![unread_target(
            "postgres".into(),
            Source::Postgres,
            "PostgreSQL server".into(),
            String::new(),
            reason,
        )]
    }
}
