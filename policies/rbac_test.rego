package driftaudit.rbac_test

import data.driftaudit.rbac

_input(kind, namespace, name, rules) := {
	"contract_version": 1,
	"state": "declared",
	"identity": {"source": "kubernetes", "apiVersion": "rbac.authorization.k8s.io/v1", "group": "rbac.authorization.k8s.io", "kind": kind, "namespace": namespace, "name": name},
	"resource": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "rules": rules},
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": "2026-11-21T12:00:00Z",
}

_cluster_role(rules) := _input("ClusterRole", "", "ops", rules)

_role(rules) := _input("Role", "shop", "ops", rules)

_all := {"001": rbac.deny_escalation_verbs, "002": rbac.deny_pod_exec, "003": rbac.deny_nodes_proxy, "004": rbac.deny_token_create, "005": rbac.deny_cluster_secret_read, "006": rbac.deny_wildcard_urls}

_fired := {id | some id, findings in _all; count(findings) > 0}

test_escalate_bind_impersonate if {
	_fired == {"001"} with input as _cluster_role([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate"]}])
	_fired == {"001"} with input as _role([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind", "get"]}])
	rbac.deny_escalation_verbs == {{"msg": `ClusterRole "ops" rule 0 grants the verb "impersonate"`, "path": "rules[0]"}} with input as _cluster_role([{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}])
}

test_pod_exec_and_attach if {
	_fired == {"002"} with input as _role([{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}])
	rbac.deny_pod_exec == {{"msg": `Role "shop/ops" rule 0 grants get on pods/attach`, "path": "rules[0]"}} with input as _role([{"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["get"]}])
	_fired == {"002", "006"} with input as _role([{"apiGroups": [""], "resources": ["*/exec"], "verbs": ["*"]}])
}

test_nodes_proxy if {
	_fired == {"003"} with input as _cluster_role([{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}])
}

test_token_create if {
	_fired == {"004"} with input as _role([{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}])
	count(_fired) == 0 with input as _role([{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["create"]}])
}

test_cluster_secret_read if {
	_fired == {"005"} with input as _cluster_role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}])

	# a Role is namespaced; resourceNames limit the grant
	count(_fired) == 0 with input as _role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}])
	count(_fired) == 0 with input as _cluster_role([{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["tls"], "verbs": ["get"]}])
	count(_fired) == 0 with input as _cluster_role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}])
}

test_wildcard_urls_and_subresources if {
	_fired == {"006"} with input as _cluster_role([{"nonResourceURLs": ["*"], "verbs": ["get"]}])
	_fired == {"006"} with input as _cluster_role([{"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["get"]}])
}

test_harmless_roles_pass if {
	count(_fired) == 0 with input as _cluster_role([
		{"apiGroups": [""], "resources": ["pods", "pods/log", "configmaps"], "verbs": ["get", "list", "watch"]},
		{"nonResourceURLs": ["/healthz", "/version"], "verbs": ["get"]},
	])

	# "*" alone is DA-PRIV-009's
	count(_fired) == 0 with input as _cluster_role([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
}

test_builtin_roles_recognised_by_content if {
	kubelet := object.union(_input("ClusterRole", "", "system:kubelet-api-admin", [{"apiGroups": [""], "resources": ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"], "verbs": ["*"]}]), {})
	some f in rbac.deny_nodes_proxy with input as kubelet
	f.suppressed.by == "privileges.builtin_roles"

	# the same name with another rule is reported
	impostor := _input("ClusterRole", "", "system:kubelet-api-admin", [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["*"]}])
	some g in rbac.deny_nodes_proxy with input as impostor
	not g.suppressed
}

test_aggregated_cluster_roles_skipped if {
	aggregated := object.union(_cluster_role([{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]), {"resource": {"aggregationRule": {"clusterRoleSelectors": []}}})
	count(_fired) == 0 with input as aggregated
}

test_malformed_rules_do_not_crash if {
	count(_fired) == 0 with input as _cluster_role([null, 1, {"verbs": "escalate", "resources": 3}, {"apiGroups": null}])
}

_binding(kind, role_kind, role, subject) := {
	"contract_version": 1,
	"state": "live",
	"identity": {"source": "kubernetes", "apiVersion": "rbac.authorization.k8s.io/v1", "group": "rbac.authorization.k8s.io", "kind": kind, "namespace": "", "name": "b"},
	"resource": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}, "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": subject}]},
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": "2026-11-21T12:00:00Z",
}

_discovery := [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]

_basic_user := [{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]}]

test_public_binding_of_trivial_roles_passes if {
	roles := {"live": {"ClusterRole/system:discovery": _discovery, "ClusterRole/system:basic-user": _basic_user}}
	count(rbac.deny_public_binding) == 0 with input as _binding("ClusterRoleBinding", "ClusterRole", "system:discovery", "system:authenticated") with data.driftaudit.bound_roles as roles
	count(rbac.deny_public_binding) == 0 with input as _binding("ClusterRoleBinding", "ClusterRole", "system:basic-user", "system:unauthenticated") with data.driftaudit.bound_roles as roles
}

test_public_binding_of_a_real_role_fires if {
	roles := {"declared": {"ClusterRole/view": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}}
	rbac.deny_public_binding == {{
		"msg": `ClusterRoleBinding "b" grants ClusterRole view to system:anonymous: its rule 0 grants more than discovery and self-review`,
		"path": "subjects[1]",
	}} with input as _binding("ClusterRoleBinding", "ClusterRole", "view", "system:anonymous") with data.driftaudit.bound_roles as roles
}

test_public_binding_judged_by_content_not_name if {
	roles := {"live": {"ClusterRole/system:discovery": [{"nonResourceURLs": ["*"], "verbs": ["*"]}]}}
	count(rbac.deny_public_binding) == 1 with input as _binding("ClusterRoleBinding", "ClusterRole", "system:discovery", "system:authenticated") with data.driftaudit.bound_roles as roles
}

test_public_binding_of_an_unseen_role_says_so if {
	some f in rbac.deny_public_binding with input as _binding("ClusterRoleBinding", "ClusterRole", "ghost", "system:authenticated")
	endswith(f.msg, "the role is not in the scan, so what it grants was not checked")
}

test_binding_to_named_users_is_not_public if {
	count(rbac.deny_public_binding) == 0 with input as _binding("ClusterRoleBinding", "ClusterRole", "ghost", "developers")
}
