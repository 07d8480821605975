# METADATA
# title: RBAC
# description: >-
#   Role and ClusterRole rules that let a subject escalate: escalate, bind and
#   impersonate, exec into pods, the kubelet proxy, service account tokens,
#   Secrets read across the cluster, wildcard URLs and subresources.
# custom:
#   category: privileges
#   kinds: [Role, ClusterRole]
#   sources: [kubernetes]
package driftaudit.rbac

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# A rule is reported when it names the dangerous resource or verb itself;
# "*" in resources or verbs alone is DA-PRIV-009's. A rule of a built-in
# ClusterRole (privileges.builtin_roles: same name and same rule, compared by
# content) is reported as suppressed. An aggregated ClusterRole
# (aggregationRule) is skipped: its rules are copies of the ClusterRoles it
# aggregates, each checked on its own.

_rules contains [i, rule] if {
	data.driftaudit.lib.kind in {"Role", "ClusterRole"}
	not input.resource.aggregationRule
	rules := input.resource.rules
	is_array(rules)
	some i, rule in rules
	is_object(rule)
}

_list(rule, field) := rule[field] if is_array(rule[field])

else := []

_verb(rule, verb) if verb in _list(rule, "verbs")

_verb(rule, _) if "*" in _list(rule, "verbs")

_group(rule, group) if group in _list(rule, "apiGroups")

_group(rule, _) if "*" in _list(rule, "apiGroups")

# The rule names `resource` ("pods/exec"), or its subresource for every
# resource ("*/exec").
_names(rule, resource) if resource in _list(rule, "resources")

_names(rule, resource) if {
	contains(resource, "/")
	concat("/", ["*", split(resource, "/")[1]]) in _list(rule, "resources")
}

_role := sprintf(`%s "%s"`, [data.driftaudit.lib.kind, data.driftaudit.lib.name]) if data.driftaudit.lib.kind == "ClusterRole"

else := sprintf(`%s "%s/%s"`, [data.driftaudit.lib.kind, data.driftaudit.lib.namespace, data.driftaudit.lib.name])

# The finding, suppressed when the rule is one of a built-in ClusterRole.
_finding(i, rule, msg) := object.union(base, {"suppressed": {
	"by": "privileges.builtin_roles",
	"reason": sprintf("a rule of the built-in ClusterRole %s, as Kubernetes creates it", [data.driftaudit.lib.name]),
}}) if {
	base := {"msg": msg, "path": sprintf("rules[%d]", [i])}
	data.driftaudit.lib.kind == "ClusterRole"
	some role in data.baselines.privileges.builtin_roles
	role.name == data.driftaudit.lib.name
	some known in role.rules
	data.driftaudit.lib.same_rule(rule, known)
} else := {"msg": msg, "path": sprintf("rules[%d]", [i])}

# METADATA
# title: RBAC role grants escalate, bind or impersonate
# description: >-
#   A rule grants the escalate or bind verb on roles (create or update roles,
#   or bind them, beyond the subject's own permissions), or impersonate on
#   users, groups, service accounts or user extras (act as anyone).
# custom:
#   id: DA-RBAC-001
#   controls:
#     - CIS-K8s-1.10:5.1.8
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   remediation: Remove the escalate, bind and impersonate verbs; grant the roles or bindings the subject needs instead.
deny_escalation_verbs contains finding if {
	some [i, rule] in _rules
	some verb in {"escalate", "bind", "impersonate"}
	verb in _list(rule, "verbs")
	finding := _finding(i, rule, sprintf(`%s rule %d grants the verb "%s"`, [_role, i, verb]))
}

# METADATA
# title: RBAC role grants exec or attach into pods
# description: >-
#   A rule grants pods/exec or pods/attach (create, or get for the WebSocket
#   upgrade): a shell in every pod it reaches, with their service account
#   tokens and Secrets.
# custom:
#   id: DA-RBAC-002
#   controls:
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   remediation: Remove pods/exec and pods/attach; use an audited break-glass role for debugging.
deny_pod_exec contains finding if {
	some [i, rule] in _rules
	_group(rule, "")
	some resource in ["pods/exec", "pods/attach"]
	_names(rule, resource)
	some verb in ["create", "get"]
	_verb(rule, verb)
	finding := _finding(i, rule, sprintf("%s rule %d grants %s on %s", [_role, i, verb, resource]))
}

# METADATA
# title: RBAC role grants the kubelet proxy
# description: >-
#   A rule grants nodes/proxy: direct access to every kubelet API (exec into
#   any pod of the node), bypassing admission and audit of the API server.
# custom:
#   id: DA-RBAC-003
#   controls:
#     - CIS-K8s-1.10:5.1.10
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   remediation: Remove nodes/proxy; grant nodes/metrics or nodes/stats for monitoring.
deny_nodes_proxy contains finding if {
	some [i, rule] in _rules
	_group(rule, "")
	_names(rule, "nodes/proxy")
	count(_list(rule, "verbs")) > 0
	finding := _finding(i, rule, sprintf("%s rule %d grants %s on nodes/proxy", [_role, i, concat(", ", _list(rule, "verbs"))]))
}

# METADATA
# title: RBAC role creates service account tokens
# description: >-
#   A rule grants create on serviceaccounts/token: the subject can mint a
#   token of any service account it reaches and act as it.
# custom:
#   id: DA-RBAC-004
#   controls:
#     - CIS-K8s-1.10:5.1.13
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   remediation: Remove create on serviceaccounts/token; mount projected tokens in the pods that need them.
deny_token_create contains finding if {
	some [i, rule] in _rules
	_group(rule, "")
	_names(rule, "serviceaccounts/token")
	_verb(rule, "create")
	finding := _finding(i, rule, sprintf("%s rule %d grants create on serviceaccounts/token", [_role, i]))
}

# METADATA
# title: ClusterRole reads Secrets
# description: >-
#   A ClusterRole rule grants get, list or watch on secrets without
#   resourceNames: bound by a ClusterRoleBinding, it reads every Secret of the
#   cluster.
# custom:
#   id: DA-RBAC-005
#   controls:
#     - CIS-K8s-1.10:5.1.2
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   kinds: [ClusterRole]
#   remediation: Grant Secret access in a Role of the namespace that needs it, limited by resourceNames.
deny_cluster_secret_read contains finding if {
	data.driftaudit.lib.kind == "ClusterRole"
	some [i, rule] in _rules
	_group(rule, "")
	"secrets" in _list(rule, "resources")
	count(_list(rule, "resourceNames")) == 0
	verbs := [verb | some verb in ["get", "list", "watch"]; _verb(rule, verb)]
	count(verbs) > 0
	finding := _finding(i, rule, sprintf("%s rule %d grants %s on secrets in every namespace it is bound to (cluster-wide with a ClusterRoleBinding)", [_role, i, concat(", ", verbs)]))
}

# METADATA
# title: RBAC wildcard URL or subresource
# description: >-
#   A rule grants "*" in nonResourceURLs (every non-resource endpoint of the
#   API server), or a "*/<subresource>" resource (that subresource of every
#   resource, including ones added later).
# custom:
#   id: DA-RBAC-006
#   controls:
#     - CIS-K8s-1.10:5.1.3
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: medium
#   remediation: List the URLs and resources the role needs.
deny_wildcard_urls contains finding if {
	some [i, rule] in _rules
	"*" in _list(rule, "nonResourceURLs")
	finding := _finding(i, rule, sprintf(`%s rule %d grants "*" in nonResourceURLs`, [_role, i]))
}

deny_wildcard_urls contains finding if {
	some [i, rule] in _rules
	some resource in _list(rule, "resources")
	is_string(resource)
	startswith(resource, "*/")
	finding := _finding(i, rule, sprintf(`%s rule %d grants "%s", a subresource of every resource`, [_role, i, resource]))
}

# METADATA
# title: RBAC binding grants a role to everyone
# description: >-
#   A RoleBinding or ClusterRoleBinding grants a role that is not trivial to
#   system:anonymous, system:unauthenticated or system:authenticated (every
#   client, or every signed-in one). Trivial, by content: get on
#   non-resource URLs without "*" (discovery, health, version), and create on
#   the self-review resources; the built-in system:discovery,
#   system:basic-user and system:public-info-viewer are such roles. A role the
#   scan did not see is reported, saying so.
# custom:
#   id: DA-RBAC-007
#   controls:
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.5.18
#     - SOC2-2017:CC6.1
#     - SOC2-2017:CC6.3
#   severity: critical
#   kinds: [RoleBinding, ClusterRoleBinding]
#   remediation: Bind the role to the users, groups or service accounts that need it.
deny_public_binding contains finding if {
	data.driftaudit.lib.kind in {"RoleBinding", "ClusterRoleBinding"}
	subjects := input.resource.subjects
	is_array(subjects)
	some i, subject in subjects
	subject.name in {"system:anonymous", "system:unauthenticated", "system:authenticated"}
	why := _not_trivial
	finding := {
		"msg": sprintf(`%s "%s" grants %s %s to %s: %s`, [data.driftaudit.lib.kind, data.driftaudit.lib.name, object.get(input.resource.roleRef, "kind", "role"), object.get(input.resource.roleRef, "name", ""), subject.name, why]),
		"path": sprintf("subjects[%d]", [i]),
	}
}

_bound_key := concat("/", ["ClusterRole", input.resource.roleRef.name]) if {
	input.resource.roleRef.kind == "ClusterRole"
} else := concat("/", ["Role", data.driftaudit.lib.namespace, input.resource.roleRef.name])

_bound_rules := rules if {
	rules := data.driftaudit.bound_roles[input.state][_bound_key]
} else := rules if {
	some side, roles in data.driftaudit.bound_roles
	side != input.state
	rules := roles[_bound_key]
}

_not_trivial := "the role is not in the scan, so what it grants was not checked" if {
	not _bound_rules
} else := sprintf("its rule %d grants more than discovery and self-review", [bad[0]]) if {
	bad := [i | some i, rule in _bound_rules; not _trivial_rule(rule)]
	count(bad) > 0
}

_trivial_rule(rule) if {
	count(_list(rule, "resources")) == 0
	urls := _list(rule, "nonResourceURLs")
	count(urls) > 0
	not "*" in urls
	every verb in _list(rule, "verbs") {
		verb == "get"
	}
}

_trivial_rule(rule) if {
	count(_list(rule, "nonResourceURLs")) == 0
	every group in _list(rule, "apiGroups") {
		group in {"authorization.k8s.io", "authentication.k8s.io"}
	}
	every resource in _list(rule, "resources") {
		resource in {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
	}
	every verb in _list(rule, "verbs") {
		verb == "create"
	}
}
