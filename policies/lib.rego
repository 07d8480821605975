# Helpers shared by the built-in policies (and free for user policies):
# `import data.driftaudit.lib`, then `lib.kind`, `lib.containers`, ...
#
# Nothing here is a rule the scan evaluates (no `custom.id`), so `policy list`
# does not list it. Settings are not read here: each policy reads its own
# data.baselines.<family>.<key> directly. baselines/default.yaml is always
# merged under the user's baseline files and every baseline is checked against
# baselines/default.schema.json when it loads, so each documented key is there
# with its documented type, and its default is stated only in that file.
package driftaudit.lib

# --- the resource under evaluation ----------------------------------------------

# Its kind: from the identity, else from the body.
kind := k if {
	k := input.identity.kind
	is_string(k)
} else := k if {
	k := input.resource.kind
	is_string(k)
} else := ""

# Its API group: from the identity, else from the body's apiVersion ("" for core).
group := g if {
	g := input.identity.group
	is_string(g)
	g != ""
} else := g if {
	api_version := input.resource.apiVersion
	is_string(api_version)
	contains(api_version, "/")
	g := split(api_version, "/")[0]
} else := ""

# Its namespace: from the identity, else from the body's metadata; "" when
# cluster-scoped. For PostgreSQL and backup resources it names the server.
namespace := ns if {
	ns := input.identity.namespace
	is_string(ns)
	ns != ""
} else := ns if {
	ns := input.resource.metadata.namespace
	is_string(ns)
} else := ""

# Its name: from the identity, else from the body's metadata.
name := n if {
	n := input.identity.name
	is_string(n)
	n != ""
} else := n if {
	n := input.resource.metadata.name
	is_string(n)
} else := ""

# `x.name` when it is a string, else "(unnamed)": containers, volumes.
name_of(x) := x.name if is_string(x.name)

else := "(unnamed)"

# --- time -----------------------------------------------------------------------

# An RFC 3339 timestamp time.parse_rfc3339_ns accepts.
is_timestamp(t) if {
	is_string(t)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$`, t)
}

# Nanoseconds from timestamp `t` to the scan clock (input.now); undefined when
# either is not a timestamp.
age_ns(t) := time.parse_rfc3339_ns(input.now) - time.parse_rfc3339_ns(t) if {
	is_timestamp(t)
	is_timestamp(input.now)
}

# --- pods and containers --------------------------------------------------------

# Where each workload kind keeps its pod spec. The built-in kinds are data, an
# index `{group: {kind: [paths]}}` in data.driftaudit.builtin_workloads (the
# table is in src/policy/workloads.rs: data costs one lookup, where a table
# written here would be rebuilt for every query). The built-in rules that look
# at pods are routed to these kinds (`custom.kinds: [workloads]`), and to the
# custom resources of the config's `workloads` section, which reach Rego as
# data.driftaudit.workloads (`[{group, kind, pod_spec_path}]`). Paths are
# written with dots from the top of the object. An Argo Rollout that points at
# a Deployment (`spec.workloadRef`) has no pod template: nothing in it is
# checked (the Deployment is checked on its own).
pod_spec_paths contains path if {
	some path in data.driftaudit.builtin_workloads[group][kind]
}

pod_spec_paths contains w.pod_spec_path if {
	some w in _configured_workloads
	w.kind == kind
	w.group == group
	is_string(w.pod_spec_path)
}

_configured_workloads := data.driftaudit.workloads if is_array(data.driftaudit.workloads)

else := []

_known_workload if data.driftaudit.builtin_workloads[group][kind]

_known_workload if {
	some w in _configured_workloads
	w.kind == kind
	w.group == group
}

# Pod specs of the resource under evaluation, as `{path, spec}`: at the paths
# of its workload kind; for any other kind (routed to a rule by a user's
# metadata), at the usual places. Either way a pod spec is an object with a
# list of containers of some sort (a Pod may have only ephemeral containers).
pod_specs contains {"path": path, "spec": s} if {
	some path in pod_spec_paths
	s := object.get(input.resource, split(path, "."), null)
	_is_pod_spec(s)
}

pod_specs contains {"path": path, "spec": s} if {
	not _known_workload
	some path in ["spec", "spec.template.spec", "spec.jobTemplate.spec.template.spec", "template.spec"]
	s := object.get(input.resource, split(path, "."), null)
	_is_pod_spec(s)
}

_is_pod_spec(s) if {
	is_object(s)
	some field in object.keys(_container_fields)
	is_array(s[field])
}

_container_fields := {
	"containers": "container",
	"initContainers": "init container",
	"ephemeralContainers": "ephemeral container",
}

# Every container of every pod spec (init and ephemeral ones included):
#   what:      `container "web"`, `init container "migrate"`
#   container: the container object
#   path:      where it is, e.g. `spec.template.spec.containers[0]`
#   pod:       its pod spec, as in pod_specs
containers contains c if {
	some pod in pod_specs
	some field, label in _container_fields
	list := pod.spec[field]
	is_array(list)
	some i, container in list
	is_object(container)
	c := {
		"what": sprintf(`%s "%s"`, [label, name_of(container)]),
		"container": container,
		"path": sprintf("%s.%s[%d]", [pod.path, field, i]),
		"pod": pod,
	}
}
