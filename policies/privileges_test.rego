package driftaudit.privileges_test

import data.driftaudit.lib
import data.driftaudit.privileges

_input(resource) := {
	"contract_version": 1,
	"state": "live",
	"identity": {
		"source": "kubernetes",
		"apiVersion": resource.apiVersion,
		"group": "",
		"kind": resource.kind,
		"namespace": object.get(resource.metadata, "namespace", ""),
		"name": resource.metadata.name,
	},
	"resource": resource,
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": "2026-11-21T12:00:00Z",
}

_nonroot := {"runAsNonRoot": true}

# A Deployment in namespace "shop" with the given pod spec fields.
_deployment(pod) := _deployment_in("shop", pod)

_deployment_in(namespace, pod) := _input({
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": {"template": {"spec": pod}},
})

# A Deployment with one container "app" whose securityContext is sc, and a pod
# securityContext that sets runAsNonRoot.
_container(sc) := _deployment({
	"securityContext": _nonroot,
	"containers": [{"name": "app", "image": "registry.example.com/app:1", "securityContext": sc}],
})

_c0 := "spec.template.spec.containers[0]"

# --- DA-PRIV-001 privileged --------------------------------------------------

test_privileged_fires if {
	findings := privileges.deny_privileged_container with input as _container({"privileged": true})
	findings == {{"msg": `container "app" runs privileged`, "path": concat("", [_c0, ".securityContext.privileged"])}}
}

test_privileged_false_passes if {
	count(privileges.deny_privileged_container) == 0 with input as _container({"privileged": false})
	count(privileges.deny_privileged_container) == 0 with input as _container({})
}

test_privileged_init_container_in_pod if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {
		"containers": [{"name": "app", "image": "a:1"}],
		"initContainers": [{"name": "setup", "image": "b:1", "securityContext": {"privileged": true}}],
	}}
	findings := privileges.deny_privileged_container with input as _input(pod)
	findings == {{"msg": `init container "setup" runs privileged`, "path": "spec.initContainers[0].securityContext.privileged"}}
}

test_privileged_exempt_namespace if {
	input_value := _deployment_in("kube-system", {"containers": [{"name": "cni", "securityContext": {"privileged": true}}]})
	count(privileges.deny_privileged_container) == 1 with input as input_value
	_privileges_exempt with input as input_value
	not _privileges_exempt with input as input_value with data.baselines.privileges.exempt_namespaces as []
	not _privileges_exempt with input as _deployment_in("shop", {})
}

# lib.exemptions suppresses the privileges family for the input.
_privileges_exempt if {
	some e in lib.exemptions
	e.category == "privileges"
	not e.refused
}

# lib.exemptions names the privileges family but refuses it: the reason.
_privileges_refused := e.refused if {
	some e in lib.exemptions
	e.category == "privileges"
	e.refused
}

# --- DA-PRIV-002 host namespaces ---------------------------------------------

test_host_namespaces_fire if {
	findings := privileges.deny_host_namespace with input as _deployment({
		"hostNetwork": true, "hostPID": true, "hostIPC": true,
		"containers": [{"name": "app"}],
	})
	findings == {
		{"msg": "pod shares the host network namespace (hostNetwork: true)", "path": "spec.template.spec.hostNetwork"},
		{"msg": "pod shares the host process namespace (hostPID: true)", "path": "spec.template.spec.hostPID"},
		{"msg": "pod shares the host IPC namespace (hostIPC: true)", "path": "spec.template.spec.hostIPC"},
	}
}

test_host_namespaces_false_pass if {
	count(privileges.deny_host_namespace) == 0 with input as _deployment({
		"hostNetwork": false,
		"containers": [{"name": "app"}],
	})
}

test_host_network_cronjob if {
	cronjob := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "j", "namespace": "shop"}, "spec": {
		"jobTemplate": {"spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "c"}]}}}},
	}}
	findings := privileges.deny_host_namespace with input as _input(cronjob)
	{f.path | some f in findings} == {"spec.jobTemplate.spec.template.spec.hostNetwork"}
}

test_host_network_pod_template if {
	template := {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t", "namespace": "shop"}, "template": {
		"spec": {"hostNetwork": true, "containers": [{"name": "c"}]},
	}}
	findings := privileges.deny_host_namespace with input as _input(template)
	{f.path | some f in findings} == {"template.spec.hostNetwork"}
}

# --- every workload kind -----------------------------------------------------

test_privileged_in_a_replication_controller if {
	rc := {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc", "namespace": "shop"}, "spec": {
		"template": {"spec": {"containers": [{"name": "c", "securityContext": {"privileged": true}}]}},
	}}
	findings := privileges.deny_privileged_container with input as _input(rc)
	{f.path | some f in findings} == {"spec.template.spec.containers[0].securityContext.privileged"}
}

test_privileged_ephemeral_container_alone if {
	pod := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {
		"ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}],
	}}
	findings := privileges.deny_privileged_container with input as _input(pod)
	findings == {{"msg": `ephemeral container "debug" runs privileged`, "path": "spec.ephemeralContainers[0].securityContext.privileged"}}
	count(privileges.deny_dangerous_capability) == 1 with input as _input(pod)
}

test_privileged_in_a_configured_custom_resource if {
	configured := [{"group": "example.com", "kind": "Worker", "pod_spec_path": "spec.pod"}]
	worker := {"apiVersion": "example.com/v1", "kind": "Worker", "metadata": {"name": "w", "namespace": "shop"}, "spec": {
		"pod": {"hostPID": true, "containers": [{"name": "c", "securityContext": {"privileged": true}}]},
	}}
	value := object.union(_input(worker), {"identity": {"group": "example.com"}})
	findings := privileges.deny_privileged_container with input as value with data.driftaudit.workloads as configured
	{f.path | some f in findings} == {"spec.pod.containers[0].securityContext.privileged"}
	hosts := privileges.deny_host_namespace with input as value with data.driftaudit.workloads as configured
	{f.path | some f in hosts} == {"spec.pod.hostPID"}
	count(privileges.deny_privileged_container) == 0 with input as value
}

# --- DA-PRIV-003 hostPath ----------------------------------------------------

test_host_path_fires if {
	findings := privileges.deny_host_path_volume with input as _deployment({
		"containers": [{"name": "app"}],
		"volumes": [
			{"name": "config", "configMap": {"name": "c"}},
			{"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
		],
	})
	findings == {{"msg": `volume "docker" mounts the host path "/var/run/docker.sock"`, "path": "spec.template.spec.volumes[1].hostPath"}}
}

test_host_path_absent_passes if {
	count(privileges.deny_host_path_volume) == 0 with input as _deployment({
		"containers": [{"name": "app"}],
		"volumes": [{"name": "data", "emptyDir": {}}],
	})
}

# --- DA-PRIV-004 allowPrivilegeEscalation --------------------------------------

test_privilege_escalation_fires if {
	findings := privileges.deny_privilege_escalation with input as _container({"allowPrivilegeEscalation": true})
	findings == {{"msg": `container "app" allows privilege escalation`, "path": concat("", [_c0, ".securityContext.allowPrivilegeEscalation"])}}
}

test_privilege_escalation_false_or_unset_passes if {
	count(privileges.deny_privilege_escalation) == 0 with input as _container({"allowPrivilegeEscalation": false})
	count(privileges.deny_privilege_escalation) == 0 with input as _container({})
}

# --- DA-PRIV-005 capabilities ------------------------------------------------

test_dangerous_capability_fires if {
	findings := privileges.deny_dangerous_capability with input as _container({"capabilities": {"add": ["NET_BIND_SERVICE", "cap_sys_admin"]}})
	findings == {{"msg": `container "app" adds the capability SYS_ADMIN`, "path": concat("", [_c0, ".securityContext.capabilities.add[1]"])}}
}

test_dangerous_capability_all if {
	count(privileges.deny_dangerous_capability) == 1 with input as _container({"capabilities": {"add": ["ALL"]}})
}

test_harmless_capability_passes if {
	count(privileges.deny_dangerous_capability) == 0 with input as _container({"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["ALL"]}})
}

test_allowed_capability_passes if {
	count(privileges.deny_dangerous_capability) == 0 with input as _container({"capabilities": {"add": ["NET_ADMIN"]}})
		with data.baselines.privileges.allowed_capabilities as ["CAP_NET_ADMIN"]
}

test_custom_dangerous_list if {
	dangerous_capabilities := ["CHOWN"]
	count(privileges.deny_dangerous_capability) == 1 with input as _container({"capabilities": {"add": ["CHOWN"]}}) with data.baselines.privileges.dangerous_capabilities as dangerous_capabilities
	count(privileges.deny_dangerous_capability) == 0 with input as _container({"capabilities": {"add": ["SYS_ADMIN"]}}) with data.baselines.privileges.dangerous_capabilities as dangerous_capabilities
}

# --- DA-PRIV-006 runAsUser 0 -------------------------------------------------

test_run_as_root_container_level if {
	findings := privileges.deny_run_as_root with input as _container({"runAsUser": 0})
	findings == {{"msg": `container "app" runs as root (runAsUser: 0)`, "path": concat("", [_c0, ".securityContext.runAsUser"])}}
}

test_run_as_root_pod_level_names_each_container if {
	findings := privileges.deny_run_as_root with input as _deployment({
		"securityContext": {"runAsUser": 0},
		"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsUser": 1000}}],
		"initContainers": [{"name": "init"}],
	})
	findings == {
		{"msg": `container "a" runs as root (runAsUser: 0)`, "path": "spec.template.spec.securityContext.runAsUser"},
		{"msg": `init container "init" runs as root (runAsUser: 0)`, "path": "spec.template.spec.securityContext.runAsUser"},
	}
}

test_run_as_root_container_overrides_pod if {
	findings := privileges.deny_run_as_root with input as _deployment({
		"securityContext": {"runAsUser": 1000},
		"containers": [{"name": "a", "securityContext": {"runAsUser": 0}}],
	})
	{f.path | some f in findings} == {"spec.template.spec.containers[0].securityContext.runAsUser"}
}

test_run_as_non_zero_passes if {
	count(privileges.deny_run_as_root) == 0 with input as _container({"runAsUser": 1000})
	count(privileges.deny_run_as_root) == 0 with input as _container({})
}

test_run_as_root_windows_skipped if {
	count(privileges.deny_run_as_root) == 0 with input as _deployment({
		"os": {"name": "windows"},
		"containers": [{"name": "a", "securityContext": {"runAsUser": 0}}],
	})
}

# --- DA-PRIV-007 runAsNonRoot ------------------------------------------------

test_run_as_non_root_missing_fires if {
	findings := privileges.deny_missing_run_as_non_root with input as _deployment({"containers": [{"name": "app"}]})
	findings == {{"msg": `container "app" does not set runAsNonRoot: true (nor does its pod)`, "path": _c0}}
}

test_run_as_non_root_pod_level_passes if {
	count(privileges.deny_missing_run_as_non_root) == 0 with input as _deployment({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "app"}],
	})
}

test_run_as_non_root_container_level_passes if {
	count(privileges.deny_missing_run_as_non_root) == 0 with input as _deployment({"containers": [{"name": "app", "securityContext": {"runAsNonRoot": true}}]})
}

test_run_as_non_root_container_false_overrides_pod if {
	findings := privileges.deny_missing_run_as_non_root with input as _deployment({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "app", "securityContext": {"runAsNonRoot": false}}],
	})
	findings == {{"msg": `container "app" runs with runAsNonRoot: false`, "path": "spec.template.spec.containers[0].securityContext.runAsNonRoot"}}
}

test_run_as_non_root_nonzero_pod_user_passes if {
	count(privileges.deny_missing_run_as_non_root) == 0 with input as _deployment({
		"securityContext": {"runAsUser": 1000},
		"containers": [{"name": "app"}],
	})
}

test_run_as_non_root_nonzero_container_user_passes if {
	count(privileges.deny_missing_run_as_non_root) == 0 with input as _deployment({"containers": [{"name": "app", "securityContext": {"runAsUser": 65534}}]})
}

test_run_as_non_root_container_user_zero_overrides_pod_user if {
	findings := privileges.deny_missing_run_as_non_root with input as _deployment({
		"securityContext": {"runAsUser": 1000},
		"containers": [{"name": "app", "securityContext": {"runAsUser": 0}}],
	})
	findings == {{"msg": `container "app" does not set runAsNonRoot: true (nor does its pod)`, "path": _c0}}
}

test_run_as_non_root_user_as_text_is_not_a_uid if {
	count(privileges.deny_missing_run_as_non_root) == 1 with input as _deployment({"containers": [{"name": "app", "securityContext": {"runAsUser": "1000"}}]})
}

test_run_as_non_root_disabled if {
	count(privileges.deny_missing_run_as_non_root) == 0 with input as _deployment({"containers": [{"name": "app"}]})
		with data.baselines.privileges.require_run_as_non_root as false
}

test_run_as_non_root_windows_skipped if {
	count(privileges.deny_missing_run_as_non_root) == 0 with input as _deployment({"os": {"name": "windows"}, "containers": [{"name": "app"}]})
}

# --- DA-PRIV-008 cluster-admin bindings --------------------------------------

_binding(kind, namespace, subjects) := _input({
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": "deployer-cluster-admin", "namespace": namespace},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
	"subjects": subjects,
})

_deployer := {"kind": "ServiceAccount", "name": "deployer", "namespace": "shop"}

test_cluster_admin_binding_fires if {
	findings := privileges.deny_cluster_admin_binding with input as _binding("ClusterRoleBinding", "", [_deployer])
	findings == {{
		"msg": `ClusterRoleBinding "deployer-cluster-admin" grants cluster-admin to ServiceAccount shop/deployer, which is not in privileges.allowed_cluster_admin_subjects`,
		"path": "subjects[0]",
	}}
}

test_cluster_admin_role_binding_fires if {
	count(privileges.deny_cluster_admin_binding) == 1 with input as _binding("RoleBinding", "shop", [_deployer])
}

test_cluster_admin_builtin_group_allowed if {
	count(privileges.deny_cluster_admin_binding) == 0 with input as _binding("ClusterRoleBinding", "", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}])
	count(privileges.deny_cluster_admin_binding) == 0 with input as _binding("ClusterRoleBinding", "", [{"kind": "Group", "name": "system:masters"}])
}

test_cluster_admin_only_unlisted_subjects_fire if {
	allowed_cluster_admin_subjects := [_deployer, {"kind": "User", "name": "alice"}]
	findings := privileges.deny_cluster_admin_binding with input as _binding("ClusterRoleBinding", "", [
		_deployer,
		{"kind": "User", "name": "alice"},
		{"kind": "User", "name": "bob"},
		{"kind": "ServiceAccount", "name": "deployer", "namespace": "other"},
	])
		with data.baselines.privileges.allowed_cluster_admin_subjects as allowed_cluster_admin_subjects
	{f.path | some f in findings} == {"subjects[2]", "subjects[3]"}
	some f in findings
	contains(f.msg, "User bob")
}

test_cluster_admin_all_subjects_allowed_passes if {
	count(privileges.deny_cluster_admin_binding) == 0 with input as _binding("ClusterRoleBinding", "", [_deployer])
		with data.baselines.privileges.allowed_cluster_admin_subjects as [_deployer]
}

test_cluster_admin_namespace_must_match if {
	# an entry without namespace does not allow a ServiceAccount of any namespace
	count(privileges.deny_cluster_admin_binding) == 1 with input as _binding("ClusterRoleBinding", "", [_deployer])
		with data.baselines.privileges.allowed_cluster_admin_subjects as [{"kind": "ServiceAccount", "name": "deployer"}]
}

test_other_role_ref_passes if {
	binding := {
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind": "ClusterRoleBinding",
		"metadata": {"name": "view"},
		"roleRef": {"kind": "ClusterRole", "name": "view"},
		"subjects": [_deployer],
	}
	count(privileges.deny_cluster_admin_binding) == 0 with input as _input(binding)
}

test_cluster_admin_role_named_alike_passes if {
	# a namespaced Role called cluster-admin is not the ClusterRole
	binding := {
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind": "RoleBinding",
		"metadata": {"name": "x", "namespace": "shop"},
		"roleRef": {"kind": "Role", "name": "cluster-admin"},
		"subjects": [_deployer],
	}
	count(privileges.deny_cluster_admin_binding) == 0 with input as _input(binding)
}

test_cluster_admin_binding_without_subjects_passes if {
	count(privileges.deny_cluster_admin_binding) == 0 with input as _binding("ClusterRoleBinding", "", [])
	count(privileges.deny_cluster_admin_binding) == 0 with input as _binding("ClusterRoleBinding", "", null)
}

# A binding to cluster-admin is never exempt, whatever its namespace.
test_cluster_admin_role_binding_never_exempt if {
	count(privileges.deny_cluster_admin_binding) == 1 with input as _binding("RoleBinding", "kube-system", [_deployer])
	not _privileges_exempt with input as _binding("RoleBinding", "kube-system", [_deployer])
	_privileges_refused == `it grants the ClusterRole cluster-admin, which allows "*" on "*"` with input as _binding("RoleBinding", "kube-system", [_deployer])
}

# A RoleBinding in an exempt namespace that grants to another namespace's
# ServiceAccount (or to all ServiceAccounts) is not exempt; one granting to its
# own namespace's is.
_kube_system_binding(subjects) := _input({
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": "RoleBinding",
	"metadata": {"name": "x", "namespace": "kube-system"},
	"roleRef": {"kind": "Role", "name": "reader"},
	"subjects": subjects,
})

test_role_binding_into_another_namespace_never_exempt if {
	_privileges_refused == "it grants to ServiceAccount shop/deployer, outside its namespace" with input as _kube_system_binding([_deployer])
	_privileges_refused with input as _kube_system_binding([{"kind": "Group", "name": "system:serviceaccounts"}])
	_privileges_refused with input as _kube_system_binding([{"kind": "Group", "name": "system:serviceaccounts:shop"}])
	_privileges_exempt with input as _kube_system_binding([{"kind": "ServiceAccount", "name": "dns", "namespace": "kube-system"}])
	_privileges_exempt with input as _kube_system_binding([{"kind": "Group", "name": "system:serviceaccounts:kube-system"}])
}

# A namespace entry may be a bare name: its reason says it had none.
test_exempt_namespace_without_reason if {
	some e in lib.exemptions with input as _deployment_in("tools", {})
		with data.baselines.privileges.exempt_namespaces as ["tools"]
	e.reason == "listed in privileges.exempt_namespaces (without a reason)"
}

# Cluster-scoped objects have no namespace to be exempt by.
test_cluster_scoped_never_namespace_exempt if {
	count(lib.exemptions) == 0 with input as _binding("ClusterRoleBinding", "", [_deployer])
}

# --- DA-PRIV-009 wildcard roles ----------------------------------------------

_role(kind, namespace, name, rules) := _input({
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": kind,
	"metadata": {"name": name, "namespace": namespace},
	"rules": rules,
})

test_wildcard_role_fires if {
	findings := privileges.deny_wildcard_role with input as _role("Role", "shop", "shop-everything", [
		{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
		{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
	])
	findings == {{"msg": `Role "shop/shop-everything" rule 1 grants "*" in apiGroups, resources, verbs`, "path": "rules[1]"}}
}

test_wildcard_verbs_only if {
	findings := privileges.deny_wildcard_role with input as _role("ClusterRole", "", "ops", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}])
	findings == {{"msg": `ClusterRole "ops" rule 0 grants "*" in verbs`, "path": "rules[0]"}}
}

test_wildcard_resources_only if {
	count(privileges.deny_wildcard_role) == 1 with input as _role("ClusterRole", "", "reader", [{"apiGroups": [""], "resources": ["*"], "verbs": ["get", "list"]}])
}

test_explicit_role_passes if {
	count(privileges.deny_wildcard_role) == 0 with input as _role("Role", "shop", "reader", [{"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale"], "verbs": ["get", "list", "watch"]}])
}

test_builtin_wildcard_roles_suppressed if {
	# the real rules of two built-in ClusterRoles (rule order and list order aside)
	findings := privileges.deny_wildcard_role with input as _role("ClusterRole", "", "system:controller:namespace-controller", [
		{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["delete", "get", "list", "watch"]},
		{"apiGroups": [""], "resources": ["namespaces/finalize", "namespaces/status"], "verbs": ["update"]},
		{"apiGroups": ["*"], "resources": ["*"], "verbs": ["watch", "list", "get", "deletecollection", "delete"]},
	])
	findings == {{
		"msg": `ClusterRole "system:controller:namespace-controller" rule 2 grants "*" in apiGroups, resources`,
		"path": "rules[2]",
		"suppressed": {
			"by": "privileges.builtin_roles",
			"reason": "a rule of the built-in ClusterRole system:controller:namespace-controller, as Kubernetes creates it",
		},
	}}
	admin := privileges.deny_wildcard_role with input as _role("ClusterRole", "", "cluster-admin", [
		{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
		{"nonResourceURLs": ["*"], "verbs": ["*"]},
	])
	count(admin) == 2
	every f in admin {
		f.suppressed.by == "privileges.builtin_roles"
	}
}

test_builtin_name_with_other_rules_reported if {
	# a built-in name granting more than the built-in role: reported, saying why
	findings := privileges.deny_wildcard_role with input as _role("ClusterRole", "", "system:controller:namespace-controller", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
	findings == {{
		"msg": `ClusterRole "system:controller:namespace-controller" rule 0 grants "*" in apiGroups, resources, verbs; not exempt: Kubernetes' built-in ClusterRole system:controller:namespace-controller has no such rule (privileges.builtin_roles)`,
		"path": "rules[0]",
	}}
}

test_system_prefix_alone_exempts_nothing if {
	findings := privileges.deny_wildcard_role with input as _role("ClusterRole", "", "system:evil", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
	findings == {{
		"msg": `ClusterRole "system:evil" rule 0 grants "*" in apiGroups, resources, verbs; not exempt: "system:evil" is not a ClusterRole Kubernetes creates with "*" rules (privileges.builtin_roles); a system: name alone exempts nothing`,
		"path": "rules[0]",
	}}
	# a namespaced Role is never a built-in ClusterRole
	some f in privileges.deny_wildcard_role with input as _role("Role", "shop", "cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
	not f.suppressed
}

test_allowed_wildcard_role_by_namespace_and_name if {
	rules := [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
	allowed_wildcard_roles := ["shop/shop-everything", "ops:*"]
	some f in privileges.deny_wildcard_role with input as _role("Role", "shop", "shop-everything", rules) with data.baselines.privileges.allowed_wildcard_roles as allowed_wildcard_roles
	f.suppressed == {"by": "privileges.allowed_wildcard_roles", "reason": `Role "shop/shop-everything" is listed in privileges.allowed_wildcard_roles`}
	some g in privileges.deny_wildcard_role with input as _role("ClusterRole", "", "ops:admin", rules) with data.baselines.privileges.allowed_wildcard_roles as allowed_wildcard_roles
	g.suppressed.by == "privileges.allowed_wildcard_roles"
	some h in privileges.deny_wildcard_role with input as _role("Role", "other", "shop-everything", rules) with data.baselines.privileges.allowed_wildcard_roles as allowed_wildcard_roles
	not h.suppressed
}

# --- totality on unrelated or malformed shapes -------------------------------

_all_findings := (((((((privileges.deny_privileged_container | privileges.deny_host_namespace) | privileges.deny_host_path_volume) | privileges.deny_privilege_escalation) | privileges.deny_dangerous_capability) | privileges.deny_run_as_root) | privileges.deny_missing_run_as_non_root) | privileges.deny_cluster_admin_binding) | privileges.deny_wildcard_role

test_unrelated_shapes_yield_nothing if {
	shapes := [
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}, "data": {"k": "v"}},
		{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "shop"}, "spec": {"hostNetwork": true, "ports": [{"port": 80}]}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": "x", "volumes": [{"hostPath": {}}]}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {
			"securityContext": "x",
			"volumes": "x",
			"containers": [null, 3, {"name": "a", "securityContext": null}, {"name": "b", "securityContext": {"runAsNonRoot": true, "capabilities": {"add": "SYS_ADMIN"}}}],
		}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": [null, "x"]},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [null, {"verbs": "*"}]},
	]
	# the malformed Pod's container "a" really lacks runAsNonRoot
	require_run_as_non_root := false
	every shape in shapes {
		count(_all_findings) == 0 with input as _input(shape) with data.baselines.privileges.require_run_as_non_root as require_run_as_non_root
	}
}

test_input_without_identity if {
	count(privileges.deny_privileged_container) == 1 with input as {"resource": {"kind": "Pod", "spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}}
	count(privileges.deny_wildcard_role) == 1 with input as {"resource": {"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [{"verbs": ["*"]}]}}
}

test_exempt_namespace_reports_every_rule if {
	pod := {
		"hostNetwork": true,
		"hostPID": true,
		"volumes": [{"name": "root", "hostPath": {"path": "/"}}],
		"containers": [{"name": "agent", "securityContext": {
			"privileged": true,
			"allowPrivilegeEscalation": true,
			"runAsUser": 0,
			"capabilities": {"add": ["SYS_ADMIN"]},
		}}],
	}
	# privileged, hostNetwork, hostPID, hostPath, escalation, SYS_ADMIN, root,
	# runAsNonRoot: reported in kube-system too, and suppressed there as a whole
	count(_all_findings) == 8 with input as _deployment_in("kube-system", pod)
	_privileges_exempt with input as _deployment_in("kube-system", pod)
	count(_all_findings) == 8 with input as _deployment_in("monitoring", pod)
	not _privileges_exempt with input as _deployment_in("monitoring", pod)
}

test_exempt_namespace_and_rbac_roles if {
	# a Role of kube-system with some "*" is exempt; one with "*" verbs on "*" resources is not
	_privileges_exempt with input as _role("Role", "kube-system", "x", [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}])
	_privileges_refused == `it grants "*" verbs on "*" resources` with input as _role("Role", "kube-system", "x", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
}

test_run_as_non_root_pod_false_points_at_pod if {
	findings := privileges.deny_missing_run_as_non_root with input as _deployment({
		"securityContext": {"runAsNonRoot": false},
		"containers": [{"name": "app"}],
	})
	findings == {{"msg": `container "app" runs with runAsNonRoot: false`, "path": "spec.template.spec.securityContext.runAsNonRoot"}}
}
