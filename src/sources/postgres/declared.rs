//! The declared side of PostgreSQL and pgBackRest: `driftaudit.io/v1`
//! documents in the declared repository (`kind: PostgresBaseline`,
//! `kind: PgBackRestStanza`), expanded into one resource per setting, role,
//! membership, grant, hba rule, extension and database, each pointing at its
//! own line. The format is documented in `docs/postgres.md` and
//! `docs/postgres-baseline.schema.json`.

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::live::hba_address;
use super::units::{declared_value, DeclaredSetting};
use super::{all_privileges, default_privilege_object, grant_name, hba_name, resource};
use crate::model::{InputError, Resource};
use crate::sources::document::DocumentPlace;
use crate::yaml::{push_index, push_key};

/// Expands one `PostgresBaseline` document (registered in `sources::registry`).
pub fn expand_baseline(
    document: &Value,
    place: &DocumentPlace,
) -> (Vec<Resource>, Vec<InputError>) {
    let mut expander = Expander {
        place,
        resources: Vec::new(),
        errors: Vec::new(),
    };
    expander.baseline(document);
    (expander.resources, expander.errors)
}

struct Expander<'a> {
    place: &'a DocumentPlace<'a>,
    resources: Vec<Resource>,
    errors: Vec<InputError>,
}

const SPEC_KEYS: [&str; 9] = [
    "server",
    "archiving",
    "settings",
    "roles",
    "memberships",
    "grants",
    "hba",
    "extensions",
    "databases",
];

const ROLE_FLAGS: [(&str, bool); 7] = [
    ("superuser", false),
    ("inherit", true),
    ("createrole", false),
    ("createdb", false),
    ("login", false),
    ("replication", false),
    ("bypassrls", false),
];

impl Expander<'_> {
    fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(self.place.error(path, message));
    }

    fn push(&mut self, kind: &str, server: &str, name: &str, body: Value, path: &str) {
        self.resources.push(resource(
            kind,
            server,
            name,
            body,
            self.place.origin(path),
            self.place.lines_below(path),
        ));
    }

    fn baseline(&mut self, document: &Value) {
        let Some(spec) = document.get("spec").and_then(Value::as_object) else {
            self.fail("spec", "a PostgresBaseline needs a `spec` mapping");
            return;
        };
        for key in spec.keys() {
            if !SPEC_KEYS.contains(&key.as_str()) {
                self.fail(
                    &push_key("spec", key),
                    format!(
                        "unknown key `{key}` (expected one of {})",
                        SPEC_KEYS.join(", ")
                    ),
                );
            }
        }
        let Some(server) = spec.get("server").and_then(Value::as_str) else {
            self.fail(
                "spec",
                "`spec.server` is required: the server label host:port/database, as the live side names it",
            );
            return;
        };
        let server = server.to_string();
        if server.contains('@') {
            self.fail(
                "spec.server",
                "the server label is host:port/database, without user or password",
            );
            return;
        }
        if let Some(settings) = spec.get("settings") {
            self.settings(&server, settings);
        }
        for (key, handler) in [
            ("roles", Expander::role as fn(&mut Self, &str, &Value, &str)),
            ("memberships", Expander::membership),
            ("grants", Expander::grant),
            ("extensions", Expander::extension),
            ("databases", Expander::database),
        ] {
            self.each(&server, spec, key, handler);
        }
        if let Some(hba) = spec.get("hba") {
            self.hba(&server, hba);
        }
        // The archiver is always part of a declared server, so that its live
        // counterpart is matched rather than reported as unmanaged.
        let mut archiver = Map::new();
        if let Some(archiving) = spec.get("archiving") {
            match archiving.as_object() {
                Some(map) => {
                    for (key, value) in map {
                        match (key.as_str(), value) {
                            ("mode", Value::Bool(b)) => {
                                archiver.insert(
                                    "archive_mode".into(),
                                    json!(if *b { "on" } else { "off" }),
                                );
                            }
                            ("mode", Value::String(s))
                                if ["on", "off", "always"].contains(&s.as_str()) =>
                            {
                                archiver.insert("archive_mode".into(), json!(s));
                            }
                            ("command", Value::String(s)) => {
                                archiver.insert("archive_command".into(), json!(s));
                            }
                            _ => self.fail(
                                &push_key("spec.archiving", key),
                                "expected `mode` (on, off or always) or `command` (a string)",
                            ),
                        }
                    }
                }
                None => self.fail(
                    "spec.archiving",
                    "expected a mapping with `mode` and/or `command`",
                ),
            }
        }
        self.push(
            "Archiver",
            &server,
            "archiver",
            Value::Object(archiver),
            "spec.archiving",
        );
    }

    fn each(
        &mut self,
        server: &str,
        spec: &Map<String, Value>,
        key: &str,
        handler: fn(&mut Self, &str, &Value, &str),
    ) {
        let Some(value) = spec.get(key) else { return };
        let path = push_key("spec", key);
        let Some(items) = value.as_array() else {
            self.fail(&path, "expected a list");
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = push_index(&path, i);
            if !item.is_object() {
                self.fail(&item_path, "expected a mapping");
                continue;
            }
            handler(self, server, item, &item_path);
        }
    }

    /// Rejects keys the format does not know, so a typo is not silently ignored.
    fn check_keys(&mut self, item: &Value, path: &str, known: &[&str]) -> bool {
        let mut ok = true;
        for key in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if !known.contains(&key.as_str()) {
                self.fail(
                    &push_key(path, key),
                    format!("unknown key `{key}` (expected one of {})", known.join(", ")),
                );
                ok = false;
            }
        }
        ok
    }

    fn required_name(&mut self, item: &Value, path: &str, key: &str) -> Option<String> {
        match item
            .get(key)
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            Some(name) => Some(name.to_string()),
            None => {
                self.fail(path, format!("`{key}` is required"));
                None
            }
        }
    }

    fn settings(&mut self, server: &str, settings: &Value) {
        let Some(map) = settings.as_object() else {
            self.fail(
                "spec.settings",
                "expected a mapping of parameter name to value",
            );
            return;
        };
        for (name, value) in map {
            let path = push_key("spec.settings", name);
            let body = match declared_value(value) {
                Ok(DeclaredSetting::Value(v)) => json!({"name": name, "value": v}),
                Ok(DeclaredSetting::Setting(s)) => json!({"name": name, "setting": s}),
                Err(error) => {
                    self.fail(&path, error.to_string());
                    continue;
                }
            };
            self.push("Setting", server, name, body, &path);
        }
    }

    fn role(&mut self, server: &str, item: &Value, path: &str) {
        let mut known: Vec<&str> = ROLE_FLAGS.iter().map(|(k, _)| *k).collect();
        known.extend(["name", "connection_limit", "valid_until"]);
        if !self.check_keys(item, path, &known) {
            return;
        }
        let Some(name) = self.required_name(item, path, "name") else {
            return;
        };
        let mut body = Map::new();
        body.insert("name".into(), json!(name));
        // Attributes left out have PostgreSQL's defaults, so an undeclared
        // SUPERUSER on the live role is drift.
        for (flag, default) in ROLE_FLAGS {
            match item.get(flag) {
                None => {
                    body.insert(flag.into(), json!(default));
                }
                Some(Value::Bool(b)) => {
                    body.insert(flag.into(), json!(b));
                }
                Some(_) => {
                    self.fail(&push_key(path, flag), "expected true or false");
                    return;
                }
            }
        }
        match item.get("connection_limit") {
            None => {
                body.insert("connection_limit".into(), json!(-1));
            }
            Some(Value::Number(n)) if n.is_i64() => {
                body.insert("connection_limit".into(), json!(n));
            }
            Some(_) => {
                self.fail(
                    &push_key(path, "connection_limit"),
                    "expected an integer (-1: no limit)",
                );
                return;
            }
        }
        if let Some(value) = item.get("valid_until") {
            match value
                .as_str()
                .map(|text| (text, normalize_valid_until(text)))
            {
                Some((_, Some(normalized))) => {
                    body.insert("valid_until".into(), json!(normalized));
                }
                Some((text, None)) => {
                    self.fail(
                        &push_key(path, "valid_until"),
                        format!("`{text}` is not a date (2027-06-30) or an RFC 3339 time"),
                    );
                    return;
                }
                None if value.is_null() => {
                    body.insert("valid_until".into(), Value::Null);
                }
                None => {
                    self.fail(
                        &push_key(path, "valid_until"),
                        "expected a date or RFC 3339 time",
                    );
                    return;
                }
            }
        }
        self.push("Role", server, &name, Value::Object(body), path);
    }

    fn membership(&mut self, server: &str, item: &Value, path: &str) {
        if !self.check_keys(item, path, &["role", "member", "admin_option"]) {
            return;
        }
        let (Some(role), Some(member)) = (
            self.required_name(item, path, "role"),
            self.required_name(item, path, "member"),
        ) else {
            return;
        };
        let admin = match item.get("admin_option") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.fail(&push_key(path, "admin_option"), "expected true or false");
                return;
            }
        };
        let body = json!({"role": role, "member": member, "admin_option": admin});
        self.push(
            "RoleMembership",
            server,
            &format!("{role}:{member}"),
            body,
            path,
        );
    }

    fn grant(&mut self, server: &str, item: &Value, path: &str) {
        let known = [
            "on",
            "objects",
            "to",
            "privileges",
            "with_grant_option",
            "owner",
            "schema",
        ];
        if !self.check_keys(item, path, &known) {
            return;
        }
        let on = item.get("on").and_then(Value::as_str).unwrap_or_default();
        let valid_on = ["database", "schema", "table", "sequence", "default"];
        if !valid_on.contains(&on) {
            self.fail(
                &push_key(path, "on"),
                format!("`on` must be one of {}", valid_on.join(", ")),
            );
            return;
        }
        let Some(grantees) = self.string_list(item, path, "to") else {
            return;
        };
        let Some(objects) = self.string_list(item, path, "objects") else {
            return;
        };
        let objects_kind = if on == "default" {
            let Some(object_kind) = objects.first().filter(|_| objects.len() == 1) else {
                self.fail(
                    &push_key(path, "objects"),
                    "default privileges name one object type: tables, sequences, functions, types or schemas",
                );
                return;
            };
            Some(object_kind.clone())
        } else {
            None
        };
        let privilege_on = match objects_kind.as_deref() {
            Some("tables") => "table",
            Some("sequences") => "sequence",
            Some("functions") => "function",
            Some("types") => "type",
            Some("schemas") => "schema",
            Some(other) => {
                self.fail(
                    &push_key(path, "objects"),
                    format!("`{other}` is not tables, sequences, functions, types or schemas"),
                );
                return;
            }
            None => on,
        };
        let Some(privileges) = self.privileges(item, path, privilege_on) else {
            return;
        };
        let grantable = match item.get("with_grant_option") {
            None | Some(Value::Bool(false)) => Vec::new(),
            Some(Value::Bool(true)) => privileges.clone(),
            Some(_) => {
                self.fail(
                    &push_key(path, "with_grant_option"),
                    "expected true or false",
                );
                return;
            }
        };
        for grantee in &grantees {
            let grantee = if grantee.eq_ignore_ascii_case("public") {
                "PUBLIC".to_string()
            } else {
                grantee.clone()
            };
            match &objects_kind {
                Some(kind) => {
                    let Some(owner) = self.required_name(item, path, "owner") else {
                        return;
                    };
                    let schema = item.get("schema").and_then(Value::as_str);
                    let object = default_privilege_object(&owner, schema, kind);
                    let body = json!({
                        "on": "default", "object": Value::Null, "owner": owner, "schema": schema,
                        "objects": kind, "grantee": grantee,
                        "privileges": privileges, "grantable": grantable,
                    });
                    self.push(
                        "Grant",
                        server,
                        &grant_name("default", &object, &grantee),
                        body,
                        path,
                    );
                }
                None => {
                    for object in &objects {
                        let body = json!({
                            "on": on, "object": object, "grantee": grantee,
                            "privileges": privileges, "grantable": grantable,
                        });
                        self.push(
                            "Grant",
                            server,
                            &grant_name(on, object, &grantee),
                            body,
                            path,
                        );
                    }
                }
            }
        }
    }

    /// `privileges`: names in catalog spelling, sorted; `ALL` expands.
    fn privileges(&mut self, item: &Value, path: &str, on: &str) -> Option<Vec<String>> {
        let names = self.string_list(item, path, "privileges")?;
        let allowed = all_privileges(on);
        let mut out = Vec::new();
        for name in names {
            let upper = name.trim().to_ascii_uppercase();
            match upper.as_str() {
                "ALL" | "ALL PRIVILEGES" => out.extend(allowed.iter().map(|p| p.to_string())),
                "TEMP" => out.push("TEMPORARY".into()),
                other if allowed.contains(&other) => out.push(other.to_string()),
                other => {
                    self.fail(
                        &push_key(path, "privileges"),
                        format!(
                            "`{other}` is not a privilege on a {on} ({})",
                            allowed.join(", ")
                        ),
                    );
                    return None;
                }
            }
        }
        out.sort();
        out.dedup();
        Some(out)
    }

    /// A string or a list of strings.
    fn string_list(&mut self, item: &Value, path: &str, key: &str) -> Option<Vec<String>> {
        let list: Option<Vec<String>> = match item.get(key) {
            Some(Value::String(s)) => Some(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => None,
        };
        match list.filter(|l| !l.is_empty()) {
            Some(list) => Some(list),
            None => {
                self.fail(
                    path,
                    format!("`{key}` is required: a name or a list of names"),
                );
                None
            }
        }
    }

    fn extension(&mut self, server: &str, item: &Value, path: &str) {
        self.named_item(
            "Extension",
            &["name", "version", "schema"],
            server,
            item,
            path,
        );
    }

    fn database(&mut self, server: &str, item: &Value, path: &str) {
        let known = [
            "name",
            "owner",
            "encoding",
            "collate",
            "ctype",
            "allow_connections",
            "connection_limit",
        ];
        self.named_item("Database", &known, server, item, path);
    }

    fn named_item(&mut self, kind: &str, known: &[&str], server: &str, item: &Value, path: &str) {
        if !self.check_keys(item, path, known) {
            return;
        }
        let Some(name) = self.required_name(item, path, "name") else {
            return;
        };
        // Numbers in YAML (`version: 1.3`) are compared as the text the catalog holds.
        let mut body = item.clone();
        if let Some(Value::Number(n)) = body.get("version").cloned() {
            body["version"] = json!(n.to_string());
        }
        self.push(kind, server, &name, body, path);
    }

    fn hba(&mut self, server: &str, hba: &Value) {
        let Some(rules) = hba.as_array() else {
            self.fail("spec.hba", "expected a list of rules, in pg_hba.conf order");
            return;
        };
        let known = [
            "type", "database", "user", "address", "netmask", "method", "options",
        ];
        for (i, rule) in rules.iter().enumerate() {
            let path = push_index("spec.hba", i);
            if !self.check_keys(rule, &path, &known) {
                continue;
            }
            let kind = rule.get("type").and_then(Value::as_str).unwrap_or_default();
            let types = [
                "local",
                "host",
                "hostssl",
                "hostnossl",
                "hostgssenc",
                "hostnogssenc",
            ];
            if !types.contains(&kind) {
                self.fail(
                    &push_key(&path, "type"),
                    format!("`type` must be one of {}", types.join(", ")),
                );
                continue;
            }
            let (Some(databases), Some(users)) = (
                self.string_list(rule, &path, "database"),
                self.string_list(rule, &path, "user"),
            ) else {
                continue;
            };
            let Some(method) = self.required_name(rule, &path, "method") else {
                continue;
            };
            let address = match (kind, rule.get("address").and_then(Value::as_str)) {
                ("local", None) => None,
                ("local", Some(_)) => {
                    self.fail(&push_key(&path, "address"), "a local rule has no address");
                    continue;
                }
                (_, None) => {
                    self.fail(&path, "`address` is required for host rules");
                    continue;
                }
                (_, Some(text)) => {
                    hba_address(Some(text), rule.get("netmask").and_then(Value::as_str))
                }
            };
            let name = hba_name(kind, &databases, &users, address.as_deref().unwrap_or(""));
            let mut body = json!({
                "type": kind, "databases": databases, "users": users,
                "address": address, "method": method, "order": i + 1,
            });
            if let Some(options) = rule.get("options") {
                body["options"] = options.clone();
            }
            self.push("HbaRule", server, &name, body, &path);
        }
    }
}

/// `2027-06-30` or any RFC 3339 time → `2027-06-30T00:00:00Z` (UTC, seconds),
/// the form the live side reports; `infinity` stays.
/// `None` when the text is neither.
fn normalize_valid_until(text: &str) -> Option<String> {
    if text == "infinity" {
        return Some(text.to_string());
    }
    let time = match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(time) => time,
        Err(_) => Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map(|d| d.midnight().assume_utc())
            .ok()?,
    };
    let utc = time.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .ok()
}
