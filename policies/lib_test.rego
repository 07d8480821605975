package driftaudit.lib_test

import data.driftaudit.lib

_pod := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "p", "namespace": "shop"},
	"spec": {
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "web"}, {"image": "nginx"}, "not a container"],
	},
}

# --- identity, with the body as fallback ------------------------------------------

test_identity_wins_over_body if {
	value := {"identity": {"kind": "Deployment", "group": "apps", "namespace": "prod", "name": "web"}, "resource": _pod}
	lib.kind == "Deployment" with input as value
	lib.group == "apps" with input as value
	lib.namespace == "prod" with input as value
	lib.name == "web" with input as value
}

test_body_when_identity_is_missing if {
	lib.kind == "Pod" with input as {"resource": _pod}
	lib.namespace == "shop" with input as {"resource": _pod}
	lib.name == "p" with input as {"resource": _pod}
	lib.group == "velero.io" with input as {"resource": {"apiVersion": "velero.io/v1"}}
	lib.group == "" with input as {"resource": _pod}
}

test_nothing_known_is_empty if {
	lib.kind == "" with input as {}
	lib.name == "" with input as {"resource": {"metadata": {"name": 7}}}
	lib.namespace == "" with input as {"identity": {"namespace": ""}}
}

test_name_of if {
	lib.name_of({"name": "x"}) == "x"
	lib.name_of({"name": 1}) == "(unnamed)"
	lib.name_of({}) == "(unnamed)"
}

# --- time ---------------------------------------------------------------------------

test_age_from_the_scan_clock if {
	lib.age_ns("2026-11-21T11:00:00Z") == 3600000000000 with input as {"now": "2026-11-21T12:00:00Z"}
	lib.age_ns("2026-11-21T13:00:00+02:00") == 3600000000000 with input as {"now": "2026-11-21T12:00:00Z"}
}

test_age_undefined_for_non_timestamps if {
	not lib.age_ns("yesterday") with input as {"now": "2026-11-21T12:00:00Z"}
	not lib.age_ns("2026-11-21T11:00:00Z") with input as {"now": 5}
	not lib.age_ns("2026-11-21T11:00:00Z") with input as {}
}

# --- pods and containers ------------------------------------------------------------

# A resource of `api_version` and `kind` with `spec_fields` placed at `path`.
_workload(api_version, kind, path) := {"apiVersion": api_version, "kind": kind, "metadata": {"name": "w"}} if {
	path == ""
} else := object.union(
	{"apiVersion": api_version, "kind": kind, "metadata": {"name": "w"}},
	_nest(split(path, "."), _pod.spec),
)

_nest(keys, value) := {keys[0]: value} if count(keys) == 1

else := {keys[0]: {keys[1]: value}} if count(keys) == 2

else := {keys[0]: {keys[1]: {keys[2]: value}}} if count(keys) == 3

else := {keys[0]: {keys[1]: {keys[2]: {keys[3]: {keys[4]: value}}}}} if count(keys) == 5

_decoy("spec") := {"template": {"spec": {"containers": [{"name": "decoy"}]}}}

_decoy(path) := {"spec": {"containers": [{"name": "decoy"}]}} if path != "spec"

test_pod_specs_of_every_workload_kind if {
	cases := [
		["v1", "Pod", "spec"],
		["v1", "PodTemplate", "template.spec"],
		["v1", "ReplicationController", "spec.template.spec"],
		["apps/v1", "ReplicaSet", "spec.template.spec"],
		["apps/v1", "Deployment", "spec.template.spec"],
		["apps/v1", "StatefulSet", "spec.template.spec"],
		["apps/v1", "DaemonSet", "spec.template.spec"],
		["extensions/v1beta1", "Deployment", "spec.template.spec"],
		["batch/v1", "Job", "spec.template.spec"],
		["batch/v1", "CronJob", "spec.jobTemplate.spec.template.spec"],
		["apps.openshift.io/v1", "DeploymentConfig", "spec.template.spec"],
		["v1", "DeploymentConfig", "spec.template.spec"],
		["argoproj.io/v1alpha1", "Rollout", "spec.template.spec"],
	]
	every case in cases {
		# a decoy where another kind keeps its pod spec: looked at only by shape
		resource := object.union(_workload(case[0], case[1], case[2]), _decoy(case[2]))
		{p.path | some p in lib.pod_specs} == {case[2]} with input as {"resource": resource}
		count(lib.containers) == 3 with input as {"resource": resource}
	}
}

test_builtin_workload_kinds if {
	kinds := {kind | some kind, _ in data.driftaudit.builtin_workloads[_]}
	kinds == {
		"Pod", "PodTemplate", "ReplicationController", "ReplicaSet", "Deployment", "StatefulSet",
		"DaemonSet", "Job", "CronJob", "DeploymentConfig", "Rollout",
	}
	every group, kinds in data.driftaudit.builtin_workloads {
		is_string(group)
		every paths in kinds {
			every path in paths {
				is_string(path)
			}
		}
	}
}

test_a_known_kind_is_looked_at_only_where_its_pod_spec_is if {
	# a Deployment's `spec` is no pod spec, even with a containers list in it
	wrong := {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"containers": [{"name": "x"}]}}
	count(lib.pod_specs) == 0 with input as {"resource": wrong}
	# the identity's group decides which kind it is
	deployment := _workload("apps/v1", "Deployment", "spec.template.spec")
	count(lib.pod_specs) == 1 with input as {"identity": {"kind": "Deployment", "group": "apps"}, "resource": deployment}
}

test_a_rollout_with_a_workload_ref_has_no_pod_spec if {
	rollout := {
		"apiVersion": "argoproj.io/v1alpha1",
		"kind": "Rollout",
		"spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
	}
	count(lib.pod_specs) == 0 with input as {"resource": rollout}
	count(lib.containers) == 0 with input as {"resource": rollout}
}

test_a_pod_with_only_ephemeral_containers if {
	pod := {"apiVersion": "v1", "kind": "Pod", "spec": {"ephemeralContainers": [{"name": "debug"}]}}
	{[c.what, c.path] | some c in lib.containers} == {[`ephemeral container "debug"`, "spec.ephemeralContainers[0]"]} with input as {"resource": pod}
}

test_configured_custom_resources if {
	configured := [
		{"group": "example.com", "kind": "WebApp", "pod_spec_path": "spec.runtime.pod"},
		{"group": "example.com", "kind": "WebApp", "pod_spec_path": "spec.worker.pod"},
	]
	webapp := {"apiVersion": "example.com/v1", "kind": "WebApp", "spec": {
		"runtime": {"pod": _pod.spec},
		"worker": {"pod": {"containers": [{"name": "w"}]}},
		"template": {"spec": {"containers": [{"name": "not-looked-at"}]}},
	}}
	{p.path | some p in lib.pod_specs} == {"spec.runtime.pod", "spec.worker.pod"} with input as {"resource": webapp} with data.driftaudit.workloads as configured
	count(lib.containers) == 4 with input as {"resource": webapp} with data.driftaudit.workloads as configured

	# another group's WebApp is not the configured one: found by shape
	other := object.union(webapp, {"apiVersion": "other.io/v1"})
	{p.path | some p in lib.pod_specs} == {"spec.template.spec"} with input as {"resource": other} with data.driftaudit.workloads as configured
}

test_pod_specs_of_each_shape if {
	{p.path | some p in lib.pod_specs} == {"spec"} with input as {"resource": _pod}
	deployment := {"spec": {"template": {"spec": _pod.spec}}}
	{p.path | some p in lib.pod_specs} == {"spec.template.spec"} with input as {"resource": deployment}
	cronjob := {"spec": {"jobTemplate": {"spec": {"template": {"spec": _pod.spec}}}}}
	{p.path | some p in lib.pod_specs} == {"spec.jobTemplate.spec.template.spec"} with input as {"resource": cronjob}
	count(lib.pod_specs) == 0 with input as {"resource": {"spec": {"containers": "x"}}}
}

test_containers_of_every_kind_with_paths if {
	found := {[c.what, c.path] | some c in lib.containers} with input as {"resource": _pod}
	found == {
		[`init container "setup"`, "spec.initContainers[0]"],
		[`container "web"`, "spec.containers[0]"],
		[`container "(unnamed)"`, "spec.containers[1]"],
	}
}

# --- exemptions -----------------------------------------------------------------

_in_namespace(namespace) := {"identity": {"kind": "ConfigMap", "namespace": namespace, "name": "c"}, "resource": {}}

# Every baseline section with exempt_namespaces counts: your own policy family
# gets namespace exemptions from its own section.
test_exemptions_of_a_custom_family if {
	found := lib.exemptions with input as _in_namespace("tools")
		with data.baselines as {"acme": {"exempt_namespaces": [{"name": "tools", "reason": "vendor tools"}]}}
	found == {{"category": "acme", "by": "acme.exempt_namespaces", "reason": "vendor tools"}}
	count(lib.exemptions) == 0 with input as _in_namespace("shop")
		with data.baselines as {"acme": {"exempt_namespaces": [{"name": "tools", "reason": "vendor tools"}]}}
}

# Odd baseline shapes exempt nothing and do not fail.
test_exemptions_ignore_odd_shapes if {
	count(lib.exemptions) == 0 with input as _in_namespace("tools")
		with data.baselines as {"a": "x", "b": {"exempt_namespaces": "tools"}, "c": {"exempt_namespaces": [{"reason": "no name"}, 3]}}
	# a cluster-scoped object has no namespace to be exempt by
	count(lib.exemptions) == 0 with input as _in_namespace("")
		with data.baselines as {"a": {"exempt_namespaces": [""]}}
}

# Hostile RBAC shapes in an exempt namespace do not fail the rule.
test_exemptions_on_malformed_rbac if {
	binding := {"identity": {"kind": "RoleBinding", "namespace": "kube-system", "name": "b"}, "resource": {"subjects": "x", "roleRef": 3}}
	# images and privileges, neither refused
	{e.category | some e in lib.exemptions; not e.refused} == {"images", "privileges"} with input as binding
	role := {"identity": {"kind": "Role", "namespace": "kube-system", "name": "r"}, "resource": {"rules": [{"verbs": "*", "resources": "*"}, null]}}
	{e.category | some e in lib.exemptions; not e.refused} == {"images", "privileges"} with input as role
}

