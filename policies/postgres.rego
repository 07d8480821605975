# METADATA
# title: PostgreSQL privileges and access
# description: >-
#   Roles, grants, pg_hba rules and settings of a PostgreSQL server that give
#   more access than approved, live or declared in a PostgresBaseline.
# custom:
#   category: privileges
#   kinds: [Role, Grant, HbaRule, Setting]
#   sources: [postgres]
package driftaudit.postgres

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# Settings are read from data.baselines.postgres (defaults: baselines/default.yaml).

_attribute_names := {
	"superuser": "SUPERUSER",
	"createrole": "CREATEROLE",
	"createdb": "CREATEDB",
	"replication": "REPLICATION",
	"bypassrls": "BYPASSRLS",
}

# A live role attribute is approved when baselines/ lists the role for it, or
# when the declared PostgresBaseline gives the role that attribute.
_approved(role, attribute) if role in data.baselines.postgres.approved_roles[attribute]

_approved(_, attribute) if {
	input.counterpart[attribute] == true
}

_unapproved_attribute(attribute) if {
	input.state == "live"
	data.driftaudit.lib.kind == "Role"
	input.resource[attribute] == true
	role := input.resource.name
	is_string(role)
	not _approved(role, attribute)
}

# METADATA
# title: Unapproved PostgreSQL superuser
# description: >-
#   A live role has SUPERUSER, and neither the declared PostgresBaseline nor
#   postgres.approved_roles.superuser approves it. A superuser bypasses every
#   permission check and can run programs on the server.
# custom:
#   id: DA-PG-001
#   controls:
#     - ISO27001-2022:A.5.18
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: critical
#   kinds: [Role]
#   remediation: ALTER ROLE ... NOSUPERUSER, or declare the role as a superuser in the PostgresBaseline (or approve it in postgres.approved_roles.superuser).
deny_unapproved_superuser contains finding if {
	_unapproved_attribute("superuser")
	finding := {
		"msg": sprintf(`role "%s" on %s has SUPERUSER, which the baseline does not approve`, [input.resource.name, data.driftaudit.lib.namespace]),
		"path": "superuser",
	}
}

# METADATA
# title: Unapproved PostgreSQL role privilege
# description: >-
#   A live role has CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS, and neither
#   the declared PostgresBaseline nor postgres.approved_roles approves it.
# custom:
#   id: DA-PG-002
#   controls:
#     - ISO27001-2022:A.5.18
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   kinds: [Role]
#   remediation: Remove the attribute (ALTER ROLE ... NOCREATEROLE, NOCREATEDB, NOREPLICATION, NOBYPASSRLS), or declare it in the PostgresBaseline.
deny_unapproved_role_attribute contains finding if {
	some attribute in ["createrole", "createdb", "replication", "bypassrls"]
	_unapproved_attribute(attribute)
	finding := {
		"msg": sprintf(`role "%s" on %s has %s, which the baseline does not approve`, [input.resource.name, data.driftaudit.lib.namespace, _attribute_names[attribute]]),
		"path": attribute,
	}
}

_public_allowed(grant, privilege) if {
	some allowance in data.baselines.postgres.allowed_public_grants
	is_object(allowance)
	allowance.on == grant.on
	privileges := object.get(allowance, "privileges", [])
	is_array(privileges)
	privilege in privileges
	_allowance_covers_object(allowance, grant)
}

_allowance_covers_object(allowance, _) if not "objects" in object.keys(allowance)

_allowance_covers_object(allowance, grant) if {
	objects := allowance.objects
	is_array(objects)
	grant.object in objects
}

# METADATA
# title: Privilege granted to PUBLIC
# description: >-
#   A privilege on a database, schema, table, sequence or default privilege is
#   granted to PUBLIC, that is to every role, present and future. PostgreSQL's
#   own defaults (CONNECT and TEMPORARY on databases, USAGE on schema public)
#   are allowed by postgres.allowed_public_grants.
# custom:
#   id: DA-PG-003
#   controls:
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.3
#     - SOC2-2017:CC6.1
#     - SOC2-2017:CC6.3
#   severity: high
#   kinds: [Grant]
#   remediation: REVOKE the privilege FROM PUBLIC and grant it to the roles that need it.
deny_public_grant contains finding if {
	data.driftaudit.lib.kind == "Grant"
	input.resource.grantee == "PUBLIC"
	privileges := input.resource.privileges
	is_array(privileges)
	denied := sort([p | some p in privileges; not _public_allowed(input.resource, p)])
	count(denied) > 0
	finding := {
		"msg": sprintf(`%s granted to PUBLIC on %s %s (server %s)`, [concat(", ", denied), input.resource.on, _grant_object, data.driftaudit.lib.namespace]),
		"path": "privileges",
	}
}

_grant_object := o if {
	o := input.resource.object
	is_string(o)
} else := sprintf("%s in schema %s owned by %s", [input.resource.objects, object.get(input.resource, "schema", "*"), input.resource.owner])

_weak_methods := {"trust": "critical", "password": "high"}

# METADATA
# title: Weak pg_hba authentication on network connections
# description: >-
#   A pg_hba rule for TCP connections (host, hostssl, hostnossl, ...) uses trust
#   (no password at all) or password (the password sent in clear text).
#   Local (Unix socket) rules are not judged.
# custom:
#   id: DA-PG-004
#   controls:
#     - ISO27001-2022:A.8.5
#     - SOC2-2017:CC6.1
#   severity: critical
#   kinds: [HbaRule]
#   remediation: Use scram-sha-256 (or cert) for every non-local rule; keep trust and peer for local connections only.
deny_weak_hba_method contains finding if {
	data.driftaudit.lib.kind == "HbaRule"
	input.resource.type != "local"
	method := input.resource.method
	severity := _weak_methods[method]
	finding := {
		"msg": sprintf(`pg_hba rule %s on %s lets %s connections in with "%s" authentication`, [input.identity.name, data.driftaudit.lib.namespace, input.resource.type, method]),
		"severity": severity,
		"path": "method",
	}
}

# METADATA
# title: PostgreSQL SSL is off
# description: The ssl setting is off, so every client connection to the server, passwords included, travels unencrypted.
# custom:
#   id: DA-PG-005
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   kinds: [Setting]
#   remediation: Set ssl = on with a server certificate and key, and use hostssl rules in pg_hba.conf.
deny_ssl_off contains finding if {
	data.driftaudit.lib.kind == "Setting"
	input.resource.name == "ssl"
	input.resource.value == "off"
	finding := {
		"msg": sprintf(`ssl is off on %s: connections are not encrypted`, [data.driftaudit.lib.namespace]),
		"path": "value",
	}
}

# METADATA
# title: PostgreSQL password without expiry
# description: >-
#   With postgres.require_password_expiry set, a login role has no VALID UNTIL
#   (or VALID UNTIL 'infinity'). Roles in postgres.password_expiry_exempt_roles
#   are skipped.
# custom:
#   id: DA-PG-006
#   controls:
#     - ISO27001-2022:A.5.17
#     - SOC2-2017:CC6.1
#   severity: medium
#   kinds: [Role]
#   remediation: ALTER ROLE ... VALID UNTIL '<date>' and rotate the password before that date.
deny_password_without_expiry contains finding if {
	data.baselines.postgres.require_password_expiry == true
	data.driftaudit.lib.kind == "Role"
	input.resource.login == true
	role := input.resource.name
	not role in data.baselines.postgres.password_expiry_exempt_roles
	_no_expiry
	finding := {
		"msg": sprintf(`login role "%s" on %s has a password without expiry (no VALID UNTIL)`, [role, data.driftaudit.lib.namespace]),
		"path": "valid_until",
	}
}

_no_expiry if not "valid_until" in object.keys(input.resource)

_no_expiry if input.resource.valid_until == null

_no_expiry if input.resource.valid_until == "infinity"
