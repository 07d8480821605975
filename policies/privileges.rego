# METADATA
# title: Privileges
# description: Container privileges, host access and RBAC grants beyond what workloads need.
# custom:
#   category: privileges
#   kinds: [workloads]
#   sources: [kubernetes]
package driftaudit.privileges

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# Settings are read from data.baselines.privileges (defaults: baselines/default.yaml).

_dangerous_capabilities := {_capability(c) | some c in data.baselines.privileges.dangerous_capabilities}

_allowed_capabilities := {_capability(c) | some c in data.baselines.privileges.allowed_capabilities}

# "cap_sys_admin" and "SYS_ADMIN" name the same capability.
_capability(c) := trim_prefix(upper(c), "CAP_")

# Namespace exemptions (exempt_namespaces) are decided by lib.exemptions for
# every rule of the family: the rules here report everything they see.

# The securityContext field that decides `key` for a container: the container's
# own setting wins over the pod's.
_effective(c, key) := {"value": v, "path": sprintf("%s.securityContext.%s", [c.path, key])} if {
	v := c.container.securityContext[key]
	v != null
} else := {"value": v, "path": sprintf("%s.securityContext.%s", [c.pod.path, key])} if {
	v := c.pod.spec.securityContext[key]
	v != null
}

# runAsUser and runAsNonRoot do not apply to Windows pods.
_windows(pod) if pod.spec.os.name == "windows"

# METADATA
# title: Privileged container
# description: >-
#   The container runs with securityContext.privileged, which gives it every
#   capability and access to all host devices: it can take over the node.
# custom:
#   id: DA-PRIV-001
#   controls:
#     - CIS-K8s-1.10:5.2.2
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Privileged Containers
#   severity: critical
#   category: privileges
#   remediation: Remove securityContext.privileged (or set it to false) and add only the capabilities the container needs.
deny_privileged_container contains finding if {
	some c in data.driftaudit.lib.containers
	c.container.securityContext.privileged == true
	finding := {
		"msg": sprintf("%s runs privileged", [c.what]),
		"path": sprintf("%s.securityContext.privileged", [c.path]),
	}
}

# METADATA
# title: Pod shares a host namespace
# description: >-
#   hostNetwork, hostPID or hostIPC is true: the pod sees the node's network
#   interfaces, processes or IPC objects.
# custom:
#   id: DA-PRIV-002
#   controls:
#     - CIS-K8s-1.10:5.2.3
#     - CIS-K8s-1.10:5.2.4
#     - CIS-K8s-1.10:5.2.5
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Host Namespaces
#   severity: high
#   category: privileges
#   remediation: Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).
deny_host_namespace contains finding if {
	some pod in data.driftaudit.lib.pod_specs
	some field, namespace in {"hostNetwork": "network", "hostPID": "process", "hostIPC": "IPC"}
	pod.spec[field] == true
	finding := {
		"msg": sprintf("pod shares the host %s namespace (%s: true)", [namespace, field]),
		"path": sprintf("%s.%s", [pod.path, field]),
	}
}

# METADATA
# title: hostPath volume
# description: >-
#   The pod mounts a directory or file of the node. Writable host paths allow
#   escaping to the node; even read-only ones expose node data.
# custom:
#   id: DA-PRIV-003
#   controls:
#     - CIS-K8s-1.10:5.2.12
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/HostPath Volumes
#   severity: high
#   category: privileges
#   remediation: Replace the hostPath volume with a persistentVolumeClaim, configMap, secret, emptyDir or CSI volume.
deny_host_path_volume contains finding if {
	some pod in data.driftaudit.lib.pod_specs
	volumes := pod.spec.volumes
	is_array(volumes)
	some i, volume in volumes
	is_object(volume.hostPath)
	finding := {
		"msg": sprintf(`volume "%s" mounts the host path "%s"`, [data.driftaudit.lib.name_of(volume), _host_path(volume)]),
		"path": sprintf("%s.volumes[%d].hostPath", [pod.path, i]),
	}
}

_host_path(volume) := volume.hostPath.path if is_string(volume.hostPath.path)

else := "(no path)"

# METADATA
# title: Privilege escalation allowed
# description: >-
#   allowPrivilegeEscalation is true: a process in the container can gain more
#   privileges than its parent (setuid binaries, file capabilities).
# custom:
#   id: DA-PRIV-004
#   controls:
#     - CIS-K8s-1.10:5.2.6
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Privilege Escalation
#   severity: high
#   category: privileges
#   remediation: Set securityContext.allowPrivilegeEscalation to false.
deny_privilege_escalation contains finding if {
	some c in data.driftaudit.lib.containers
	c.container.securityContext.allowPrivilegeEscalation == true
	finding := {
		"msg": sprintf("%s allows privilege escalation", [c.what]),
		"path": sprintf("%s.securityContext.allowPrivilegeEscalation", [c.path]),
	}
}

# METADATA
# title: Dangerous capability added
# description: >-
#   The container adds a Linux capability listed in privileges.dangerous_capabilities
#   that is not in privileges.allowed_capabilities. Names are compared without the
#   CAP_ prefix and case.
# custom:
#   id: DA-PRIV-005
#   controls:
#     - CIS-K8s-1.10:5.2.9
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Capabilities
#   severity: high
#   category: privileges
#   remediation: Drop the capability from securityContext.capabilities.add, or allow it in privileges.allowed_capabilities.
deny_dangerous_capability contains finding if {
	some c in data.driftaudit.lib.containers
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some j, capability in added
	is_string(capability)
	name := _capability(capability)
	name in _dangerous_capabilities
	not name in _allowed_capabilities
	finding := {
		"msg": sprintf("%s adds the capability %s", [c.what, name]),
		"path": sprintf("%s.securityContext.capabilities.add[%d]", [c.path, j]),
	}
}

# METADATA
# title: Container runs as root
# description: >-
#   The container's effective runAsUser (its own, else the pod's) is 0.
# custom:
#   id: DA-PRIV-006
#   controls:
#     - CIS-K8s-1.10:5.2.7
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Running as Non-root user
#   severity: high
#   category: privileges
#   remediation: Set securityContext.runAsUser to a non-zero UID (and runAsNonRoot to true).
deny_run_as_root contains finding if {
	some c in data.driftaudit.lib.containers
	not _windows(c.pod)
	user := _effective(c, "runAsUser")
	user.value == 0
	finding := {
		"msg": sprintf("%s runs as root (runAsUser: 0)", [c.what]),
		"path": user.path,
	}
}

# METADATA
# title: runAsNonRoot not enforced
# description: >-
#   Neither the container nor the pod sets securityContext.runAsNonRoot to true, so
#   the kubelet does not refuse to start the container as root. A non-zero
#   effective runAsUser (the container's, else the pod's) already makes it
#   non-root and passes. Enabled by privileges.require_run_as_non_root.
# custom:
#   id: DA-PRIV-007
#   controls:
#     - CIS-K8s-1.10:5.2.7
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Running as Non-root
#   severity: medium
#   category: privileges
#   remediation: Set securityContext.runAsNonRoot to true on the pod or the container.
deny_missing_run_as_non_root contains finding if {
	data.baselines.privileges.require_run_as_non_root == true
	some c in data.driftaudit.lib.containers
	not _windows(c.pod)
	not _effective(c, "runAsNonRoot").value == true
	not _non_root_user(c)
	finding := _run_as_non_root_finding(c)
}

# The effective runAsUser is a UID other than 0.
_non_root_user(c) if {
	user := _effective(c, "runAsUser").value
	is_number(user)
	user != 0
}

# Point at an explicit `runAsNonRoot: false` when there is one, else at the container.
_run_as_non_root_finding(c) := {
	"msg": sprintf("%s runs with runAsNonRoot: %v", [c.what, setting.value]),
	"path": setting.path,
} if {
	setting := _effective(c, "runAsNonRoot")
} else := {
	"msg": sprintf("%s does not set runAsNonRoot: true (nor does its pod)", [c.what]),
	"path": c.path,
}

# METADATA
# title: Binding to cluster-admin
# description: >-
#   A RoleBinding or ClusterRoleBinding grants the ClusterRole cluster-admin to a
#   subject that is not listed in privileges.allowed_cluster_admin_subjects.
# custom:
#   id: DA-PRIV-008
#   controls:
#     - CIS-K8s-1.10:5.1.1
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.5.18
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.1
#     - SOC2-2017:CC6.3
#   severity: critical
#   category: privileges
#   kinds: [RoleBinding, ClusterRoleBinding]
#   remediation: >-
#     Bind a role that grants only what the subject needs, or list the subject
#     (kind, name, namespace) in privileges.allowed_cluster_admin_subjects.
deny_cluster_admin_binding contains finding if {
	data.driftaudit.lib.kind in {"RoleBinding", "ClusterRoleBinding"}
	input.resource.roleRef.kind == "ClusterRole"
	input.resource.roleRef.name == "cluster-admin"
	subjects := input.resource.subjects
	is_array(subjects)
	some i, subject in subjects
	is_object(subject)
	not _cluster_admin_allowed(subject)
	finding := {
		"msg": sprintf(
			`%s "%s" grants cluster-admin to %s, which is not in privileges.allowed_cluster_admin_subjects`,
			[data.driftaudit.lib.kind, data.driftaudit.lib.name, _describe_subject(subject)],
		),
		"path": sprintf("subjects[%d]", [i]),
	}
}

# An allowed entry matches on kind and name, and on namespace (absent = "").
_cluster_admin_allowed(subject) if {
	some allowed in data.baselines.privileges.allowed_cluster_admin_subjects
	object.get(allowed, "kind", "") == object.get(subject, "kind", "")
	object.get(allowed, "name", "") == object.get(subject, "name", "")
	object.get(allowed, "namespace", "") == object.get(subject, "namespace", "")
}

_describe_subject(s) := sprintf("%s %s/%s", [object.get(s, "kind", "subject"), s.namespace, object.get(s, "name", "")]) if {
	is_string(s.namespace)
	s.namespace != ""
} else := sprintf("%s %s", [object.get(s, "kind", "subject"), object.get(s, "name", "")])

# METADATA
# title: Wildcard in an RBAC role
# description: >-
#   A Role or ClusterRole rule has "*" in apiGroups, resources or verbs, granting
#   access to everything of that kind, including resources added later. Rules of
#   the built-in ClusterRoles (privileges.builtin_roles, name and rule matching)
#   and of roles named in privileges.allowed_wildcard_roles are reported as
#   suppressed.
# custom:
#   id: DA-PRIV-009
#   controls:
#     - CIS-K8s-1.10:5.1.3
#     - NSA-CISA-1.2:Authentication and authorization
#     - ISO27001-2022:A.5.15
#     - ISO27001-2022:A.8.2
#     - SOC2-2017:CC6.3
#   severity: high
#   category: privileges
#   kinds: [Role, ClusterRole]
#   remediation: List the API groups, resources and verbs the role needs instead of "*".
deny_wildcard_role contains finding if {
	data.driftaudit.lib.kind in {"Role", "ClusterRole"}
	rules := input.resource.rules
	is_array(rules)
	some i, rule in rules
	is_object(rule)
	fields := [field |
		some field in ["apiGroups", "resources", "verbs"]
		_has_wildcard(rule[field])
	]
	count(fields) > 0
	finding := _wildcard_finding(
		{
			"msg": sprintf(`%s "%s" rule %d grants "*" in %s`, [data.driftaudit.lib.kind, _role_key, i, concat(", ", fields)]),
			"path": sprintf("rules[%d]", [i]),
		},
		rule,
	)
}

# A "*" rule of a role Kubernetes creates, or of a role listed in
# privileges.allowed_wildcard_roles, is reported as suppressed; a ClusterRole
# that only borrows a built-in role's name, or a system: name, says why it is
# not exempt.
_wildcard_finding(base, rule) := object.union(base, {"suppressed": s}) if {
	s := _wildcard_suppression(rule)
} else := object.union(base, {"msg": sprintf("%s; not exempt: %s", [base.msg, why])}) if {
	why := _builtin_refusal
} else := base

_wildcard_suppression(rule) := {
	"by": "privileges.builtin_roles",
	"reason": sprintf("a rule of the built-in ClusterRole %s, as Kubernetes creates it", [data.driftaudit.lib.name]),
} if {
	some known in _builtin_rules_of_this_role
	data.driftaudit.lib.same_rule(rule, known)
} else := {
	"by": "privileges.allowed_wildcard_roles",
	"reason": sprintf(`%s "%s" is listed in privileges.allowed_wildcard_roles`, [data.driftaudit.lib.kind, _role_key]),
} if {
	_wildcard_role_allowed
}

# The rules privileges.builtin_roles gives a ClusterRole of this name.
_builtin_rules_of_this_role contains known if {
	data.driftaudit.lib.kind == "ClusterRole"
	some role in data.baselines.privileges.builtin_roles
	role.name == data.driftaudit.lib.name
	some known in role.rules
}

_is_builtin_name if {
	data.driftaudit.lib.kind == "ClusterRole"
	some role in data.baselines.privileges.builtin_roles
	role.name == data.driftaudit.lib.name
}

_builtin_refusal := sprintf("Kubernetes' built-in ClusterRole %s has no such rule (privileges.builtin_roles)", [data.driftaudit.lib.name]) if {
	_is_builtin_name
} else := sprintf(`"%s" is not a ClusterRole Kubernetes creates with "*" rules (privileges.builtin_roles); a system: name alone exempts nothing`, [data.driftaudit.lib.name]) if {
	data.driftaudit.lib.kind == "ClusterRole"
	startswith(data.driftaudit.lib.name, "system:")
}

_has_wildcard(values) if {
	is_array(values)
	"*" in values
}

# ClusterRoles are matched by name, Roles by "namespace/name".
_role_key := data.driftaudit.lib.name if data.driftaudit.lib.kind == "ClusterRole"

else := concat("/", [data.driftaudit.lib.namespace, data.driftaudit.lib.name])

# Entries ending in "*" match by prefix ("system:*"), others exactly.
_wildcard_role_allowed if {
	some entry in data.baselines.privileges.allowed_wildcard_roles
	_name_matches(entry, _role_key)
}

_name_matches(pattern, name) if {
	endswith(pattern, "*")
	startswith(name, trim_suffix(pattern, "*"))
}

_name_matches(pattern, name) if pattern == name
