package driftaudit.postgres_test

import data.driftaudit.postgres

_server := "127.0.0.1:5432/appdb"

_input(state, kind, name, resource, counterpart) := {
	"contract_version": 1,
	"state": state,
	"identity": {
		"source": "postgres",
		"apiVersion": "postgres.driftaudit.io/v1",
		"group": "postgres.driftaudit.io",
		"kind": kind,
		"namespace": _server,
		"name": name,
	},
	"resource": resource,
	"counterpart": counterpart,
	"drift": null,
	"facts": {},
	"now": "2026-11-21T12:00:00Z",
}

_role(name, extra) := object.union(
	{
		"name": name, "superuser": false, "inherit": true, "createrole": false, "createdb": false,
		"login": true, "replication": false, "bypassrls": false, "connection_limit": -1, "valid_until": null,
	},
	extra,
)

_role_input(state, role, counterpart) := _input(state, "Role", role.name, role, counterpart)

# --- DA-PG-001 / DA-PG-002 -----------------------------------------------------

test_extra_superuser_fires if {
	findings := postgres.deny_unapproved_superuser with input as _role_input("live", _role("intruder", {"superuser": true}), null)
	findings == {{"msg": `role "intruder" on 127.0.0.1:5432/appdb has SUPERUSER, which the baseline does not approve`, "path": "superuser"}}
}

test_bootstrap_superuser_approved_by_default if {
	count(postgres.deny_unapproved_superuser) == 0 with input as _role_input("live", _role("postgres", {"superuser": true}), null)
}

test_declared_superuser_is_approved if {
	role := _role("dba_admin", {"superuser": true})
	count(postgres.deny_unapproved_superuser) == 0 with input as _role_input("live", role, role)
}

test_declared_side_is_not_judged_for_attributes if {
	count(postgres.deny_unapproved_superuser) == 0 with input as _role_input("declared", _role("dba_admin", {"superuser": true}), null)
}

test_baseline_list_replaces_defaults if {
	approved_roles := {"superuser": ["dba_admin"]}
	count(postgres.deny_unapproved_superuser) == 0 with input as _role_input("live", _role("dba_admin", {"superuser": true}), null) with data.baselines.postgres.approved_roles as approved_roles
	count(postgres.deny_unapproved_superuser) == 1 with input as _role_input("live", _role("postgres", {"superuser": true}), null) with data.baselines.postgres.approved_roles as approved_roles
}

test_other_attributes_fire_one_each if {
	role := _role("ops", {"createrole": true, "bypassrls": true})
	findings := postgres.deny_unapproved_role_attribute with input as _role_input("live", role, null)
	{f.path | some f in findings} == {"createrole", "bypassrls"}
}

test_replication_approved_in_baseline if {
	approved_roles := {"replication": ["replicator"]}
	role := _role("replicator", {"replication": true})
	count(postgres.deny_unapproved_role_attribute) == 0 with input as _role_input("live", role, null) with data.baselines.postgres.approved_roles as approved_roles
}

# --- DA-PG-003 -------------------------------------------------------------------

_grant(on, object, grantee, privileges) := {"on": on, "object": object, "grantee": grantee, "privileges": privileges, "grantable": []}

test_public_table_grant_fires if {
	grant := _grant("table", "app.orders", "PUBLIC", ["SELECT", "UPDATE"])
	findings := postgres.deny_public_grant with input as _input("live", "Grant", "table:app.orders:PUBLIC", grant, null)
	findings == {{"msg": "SELECT, UPDATE granted to PUBLIC on table app.orders (server 127.0.0.1:5432/appdb)", "path": "privileges"}}
}

test_default_public_privileges_allowed if {
	db := _grant("database", "appdb", "PUBLIC", ["CONNECT", "TEMPORARY"])
	count(postgres.deny_public_grant) == 0 with input as _input("live", "Grant", "database:appdb:PUBLIC", db, null)
	schema := _grant("schema", "public", "PUBLIC", ["USAGE"])
	count(postgres.deny_public_grant) == 0 with input as _input("live", "Grant", "schema:public:PUBLIC", schema, null)
}

test_public_create_on_schema_fires if {
	schema := _grant("schema", "public", "PUBLIC", ["CREATE", "USAGE"])
	findings := postgres.deny_public_grant with input as _input("declared", "Grant", "schema:public:PUBLIC", schema, null)
	findings == {{"msg": "CREATE granted to PUBLIC on schema public (server 127.0.0.1:5432/appdb)", "path": "privileges"}}
}

test_default_privileges_to_public_fire if {
	grant := {"on": "default", "object": null, "owner": "app", "schema": "app", "objects": "tables", "grantee": "PUBLIC", "privileges": ["SELECT"], "grantable": []}
	findings := postgres.deny_public_grant with input as _input("live", "Grant", "default:app:app:tables:PUBLIC", grant, null)
	findings == {{"msg": "SELECT granted to PUBLIC on default tables in schema app owned by app (server 127.0.0.1:5432/appdb)", "path": "privileges"}}
}

test_grant_to_role_passes if {
	grant := _grant("table", "app.orders", "app_rw", ["SELECT"])
	count(postgres.deny_public_grant) == 0 with input as _input("live", "Grant", "table:app.orders:app_rw", grant, null)
}

# --- DA-PG-004 -------------------------------------------------------------------

_hba(type, method) := {"type": type, "databases": ["all"], "users": ["all"], "address": "0.0.0.0/0", "method": method, "order": 1}

test_trust_on_host_is_critical if {
	findings := postgres.deny_weak_hba_method with input as _input("live", "HbaRule", "host:all:all:0.0.0.0/0", _hba("host", "trust"), null)
	findings == {{"msg": `pg_hba rule host:all:all:0.0.0.0/0 on 127.0.0.1:5432/appdb lets host connections in with "trust" authentication`, "severity": "critical", "path": "method"}}
}

test_cleartext_password_is_high if {
	findings := postgres.deny_weak_hba_method with input as _input("declared", "HbaRule", "hostssl:all:all:0.0.0.0/0", _hba("hostssl", "password"), null)
	{f.severity | some f in findings} == {"high"}
}

test_local_trust_and_scram_pass if {
	local := {"type": "local", "databases": ["all"], "users": ["postgres"], "address": null, "method": "trust", "order": 1}
	count(postgres.deny_weak_hba_method) == 0 with input as _input("live", "HbaRule", "local:all:postgres", local, null)
	count(postgres.deny_weak_hba_method) == 0 with input as _input("live", "HbaRule", "host:all:all:0.0.0.0/0", _hba("host", "scram-sha-256"), null)
}

# --- DA-PG-005 -------------------------------------------------------------------

test_ssl_off_fires_and_on_passes if {
	findings := postgres.deny_ssl_off with input as _input("live", "Setting", "ssl", {"name": "ssl", "value": "off", "setting": "off"}, null)
	findings == {{"msg": "ssl is off on 127.0.0.1:5432/appdb: connections are not encrypted", "path": "value"}}
	count(postgres.deny_ssl_off) == 0 with input as _input("live", "Setting", "ssl", {"name": "ssl", "value": "on"}, null)
}

# --- DA-PG-006 -------------------------------------------------------------------

test_expiry_not_required_by_default if {
	count(postgres.deny_password_without_expiry) == 0 with input as _role_input("live", _role("app", {}), null)
}

test_expiry_required_by_baseline if {
	require_password_expiry := true
	findings := postgres.deny_password_without_expiry with input as _role_input("live", _role("app", {}), null) with data.baselines.postgres.require_password_expiry as require_password_expiry
	findings == {{"msg": `login role "app" on 127.0.0.1:5432/appdb has a password without expiry (no VALID UNTIL)`, "path": "valid_until"}}
	count(postgres.deny_password_without_expiry) == 1 with input as _role_input("live", _role("app", {"valid_until": "infinity"}), null) with data.baselines.postgres.require_password_expiry as require_password_expiry
	count(postgres.deny_password_without_expiry) == 0 with input as _role_input("live", _role("app", {"valid_until": "2027-06-30T00:00:00Z"}), null) with data.baselines.postgres.require_password_expiry as require_password_expiry
	count(postgres.deny_password_without_expiry) == 0 with input as _role_input("live", _role("postgres", {}), null) with data.baselines.postgres.require_password_expiry as require_password_expiry
	count(postgres.deny_password_without_expiry) == 0 with input as _role_input("live", _role("readonly", {"login": false}), null) with data.baselines.postgres.require_password_expiry as require_password_expiry
}
