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
