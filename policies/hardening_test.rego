package driftaudit.hardening_test

import data.driftaudit.hardening

_input(resource) := {
	"contract_version": 1,
	"state": "declared",
	"identity": {
		"source": "kubernetes",
		"apiVersion": resource.apiVersion,
		"group": object.get({"apps/v1": "apps", "batch/v1": "batch"}, resource.apiVersion, ""),
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

_all_on := {
	"read_only_root_filesystem": true,
	"resources": true,
	"probes": true,
	"automount_service_account_token": true,
	"default_namespace": true,
	"default_service_account": true,
	"secrets_in_env": true,
	"network_policy": true,
}

_probe := {"httpGet": {"path": "/healthz", "port": 8080}}

_good_container := {
	"name": "app",
	"image": "registry.example.com/app:1",
	"securityContext": {"readOnlyRootFilesystem": true},
	"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": 1, "memory": "256Mi"}},
	"livenessProbe": _probe,
	"readinessProbe": _probe,
	"volumeMounts": [{"name": "creds", "mountPath": "/creds"}],
}

_good_pod := {
	"serviceAccountName": "web",
	"automountServiceAccountToken": false,
	"containers": [_good_container],
	"volumes": [{"name": "creds", "secret": {"secretName": "db"}}],
}

_deployment_in(namespace, pod) := _input({
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": {"template": {"spec": pod}},
})

_deployment(pod) := _deployment_in("shop", pod)

_bad_pod := {"containers": [{"name": "app", "image": "a:1"}]}

_c0 := "spec.template.spec.containers[0]"

_p := "spec.template.spec"

_all_findings contains [rule, f] if {
	some rule, f in {
		"001": hardening.deny_writable_root_filesystem,
		"002": hardening.deny_missing_resources,
		"003": hardening.deny_missing_probe,
		"004": hardening.deny_service_account_token,
		"005": hardening.deny_default_namespace,
		"006": hardening.deny_default_service_account,
		"007": hardening.deny_secret_in_env,
	}[_]
}

# --- off by default -------------------------------------------------------------

test_every_rule_is_off_by_default if {
	count(_all_findings) == 0 with input as _deployment_in("default", _bad_pod)
}

test_good_workload_passes_every_rule if {
	count(_all_findings) == 0 with input as _deployment(_good_pod) with data.baselines.hardening as _all_on
}

# --- DA-HARD-001 readOnlyRootFilesystem -----------------------------------------------

test_read_only_root_filesystem_fires if {
	findings := hardening.deny_writable_root_filesystem with input as _deployment(_bad_pod)
		with data.baselines.hardening as _all_on
	findings == {{
		"msg": `container "app" does not set securityContext.readOnlyRootFilesystem: true`,
		"path": concat("", [_c0, ".securityContext.readOnlyRootFilesystem"]),
	}}
}

test_read_only_root_filesystem_false_and_init_container if {
	pod := {
		"containers": [object.union(_good_container, {"securityContext": {"readOnlyRootFilesystem": false}})],
		"initContainers": [{"name": "migrate", "image": "a:1"}],
		"ephemeralContainers": [{"name": "debug", "image": "a:1"}],
	}
	findings := hardening.deny_writable_root_filesystem with input as _deployment(pod)
		with data.baselines.hardening as _all_on
	{f.msg | some f in findings} == {
		`container "app" does not set securityContext.readOnlyRootFilesystem: true`,
		`init container "migrate" does not set securityContext.readOnlyRootFilesystem: true`,
	}
}

test_read_only_root_filesystem_switch_alone if {
	count(hardening.deny_writable_root_filesystem) == 1 with input as _deployment(_bad_pod)
		with data.baselines.hardening as {"read_only_root_filesystem": true}
	count(hardening.deny_missing_resources) == 0 with input as _deployment(_bad_pod)
		with data.baselines.hardening as {"read_only_root_filesystem": true}
}

# --- DA-HARD-002 resources ----------------------------------------------------------

test_missing_resources_each_field if {
	findings := hardening.deny_missing_resources with input as _deployment(_bad_pod)
		with data.baselines.hardening as _all_on
	{f.path | some f in findings} == {
		concat("", [_c0, ".resources.requests.cpu"]),
		concat("", [_c0, ".resources.requests.memory"]),
		concat("", [_c0, ".resources.limits.cpu"]),
		concat("", [_c0, ".resources.limits.memory"]),
	}
}

test_missing_memory_limit_only if {
	c := object.union(object.remove(_good_container, ["resources"]), {"resources": {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"cpu": "1"}}})
	findings := hardening.deny_missing_resources with input as _deployment({"containers": [c]})
		with data.baselines.hardening as _all_on
	findings == {{"msg": `container "app" has no resources.limits.memory`, "path": concat("", [_c0, ".resources.limits.memory"])}}
}

# --- DA-HARD-003 probes -------------------------------------------------------------

test_missing_probes_fire_on_containers_only if {
	pod := {
		"containers": [object.remove(_good_container, ["readinessProbe"])],
		"initContainers": [{"name": "migrate", "image": "a:1"}],
	}
	findings := hardening.deny_missing_probe with input as _deployment(pod)
		with data.baselines.hardening as _all_on
	findings == {{"msg": `container "app" has no readinessProbe`, "path": concat("", [_c0, ".readinessProbe"])}}
}

test_missing_probes_skip_jobs if {
	job := _input({
		"apiVersion": "batch/v1",
		"kind": "Job",
		"metadata": {"name": "once", "namespace": "shop"},
		"spec": {"template": {"spec": _bad_pod}},
	})
	count(hardening.deny_missing_probe) == 0 with input as job with data.baselines.hardening as _all_on
	count(hardening.deny_missing_resources) == 4 with input as job with data.baselines.hardening as _all_on
}

# --- DA-HARD-004 automountServiceAccountToken -------------------------------------------

test_token_automount_fires_unless_false if {
	findings := hardening.deny_service_account_token with input as _deployment(_bad_pod)
		with data.baselines.hardening as _all_on
	findings == {{"msg": "pod does not set automountServiceAccountToken: false", "path": concat("", [_p, ".automountServiceAccountToken"])}}
	count(hardening.deny_service_account_token) == 1 with input as _deployment(object.union(_good_pod, {"automountServiceAccountToken": true}))
		with data.baselines.hardening as _all_on
}

# --- DA-HARD-005 default namespace --------------------------------------------------

test_default_namespace_fires if {
	findings := hardening.deny_default_namespace with input as _deployment_in("default", _good_pod)
		with data.baselines.hardening as _all_on
	findings == {{"msg": "Deployment web runs in the namespace default", "path": "metadata.namespace"}}
}

test_default_namespace_needs_a_pod_spec if {
	cm := _input({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}, "data": {}})
	count(hardening.deny_default_namespace) == 0 with input as cm with data.baselines.hardening as _all_on
}

# --- DA-HARD-006 default service account ---------------------------------------------

test_default_service_account_unset_and_explicit if {
	unset := hardening.deny_default_service_account with input as _deployment(_bad_pod)
		with data.baselines.hardening as _all_on
	unset == {{"msg": "pod runs as the default service account (serviceAccountName: unset)", "path": concat("", [_p, ".serviceAccountName"])}}
	named := hardening.deny_default_service_account with input as _deployment(object.union(_good_pod, {"serviceAccountName": "default"}))
		with data.baselines.hardening as _all_on
	named == {{"msg": "pod runs as the default service account (serviceAccountName: default)", "path": concat("", [_p, ".serviceAccountName"])}}
}

test_deprecated_service_account_field_counts if {
	pod := object.union(object.remove(_good_pod, ["serviceAccountName"]), {"serviceAccount": "web"})
	count(hardening.deny_default_service_account) == 0 with input as _deployment(pod)
		with data.baselines.hardening as _all_on
}

# --- DA-HARD-007 Secrets in env vars ------------------------------------------------

test_secret_in_env_names_variable_and_secret if {
	c := object.union(_good_container, {
		"env": [
			{"name": "MODE", "value": "prod"},
			{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
			{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
		],
		"envFrom": [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "api-keys"}}],
	})
	findings := hardening.deny_secret_in_env with input as _deployment({"containers": [c]})
		with data.baselines.hardening as _all_on
	findings == {
		{
			"msg": `container "app" sets env var "DB_PASSWORD" from key "password" of Secret "db" (env[1].valueFrom.secretKeyRef)`,
			"path": concat("", [_c0, ".env[1].valueFrom.secretKeyRef"]),
		},
		{
			"msg": `container "app" takes every key of Secret "api-keys" as env vars (envFrom[1].secretRef)`,
			"path": concat("", [_c0, ".envFrom[1].secretRef"]),
		},
	}
}

# --- DA-HARD-008 namespace without a NetworkPolicy ----------------------------------

_entry(group, kind, namespace, name) := {"identity": {
	"source": "kubernetes", "group": group, "kind": kind,
	"namespace": namespace, "name": name,
}}

test_namespace_with_workloads_and_no_network_policy if {
	resources := [
		_entry("apps", "Deployment", "shop", "web"),
		_entry("batch", "CronJob", "shop", "backup"),
		_entry("", "ConfigMap", "docs", "settings"),
		_entry("apps", "Deployment", "billing", "api"),
		_entry("networking.k8s.io", "NetworkPolicy", "billing", "default-deny"),
	]
	findings := hardening.deny_namespace_without_network_policy with input as {"resources": resources}
		with data.baselines.hardening as _all_on
	findings == {{"msg": "namespace shop runs 2 workload(s) (CronJob/backup, Deployment/web) and has no NetworkPolicy, declared or live: its pods accept traffic from anywhere"}}
}

test_network_policy_rule_is_off_by_default_and_honours_exempt_namespaces if {
	resources := [_entry("apps", "Deployment", "shop", "web")]
	count(hardening.deny_namespace_without_network_policy) == 0 with input as {"resources": resources}
	exempt := object.union(_all_on, {"exempt_namespaces": [{"name": "shop", "reason": "a test"}]})
	count(hardening.deny_namespace_without_network_policy) == 0 with input as {"resources": resources}
		with data.baselines.hardening as exempt
}
