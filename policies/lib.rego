# Helpers shared by the built-in policies (and free for user policies):
# `data.driftaudit.lib.kind`, `data.driftaudit.lib.containers`, ... by full
# path: regorus evaluates every rule of an imported package on each use.
#
# Nothing here is a rule the scan evaluates (no `custom.id`), so `policy list`
# does not list it. Settings are not read here (each policy reads its own
# data.baselines.<family>.<key> directly), except the namespace exemptions,
# which `exemptions` below decides for every policy. baselines/default.yaml is always
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

# How far after the scan clock an operator's success time may lie (clock skew)
# and still count; src/backups.rs SKEW_SECONDS is the same 300 seconds.
clock_skew_ns := 300000000000

# Timestamp `t` lies after the scan clock by more than the skew: a success
# time like that is not evidence of a backup (one in year 2099 would
# otherwise look fresh forever).
after_clock(t) if age_ns(t) < 0 - clock_skew_ns

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

# --- RBAC -----------------------------------------------------------------------

# Two RBAC rules grant the same when each list holds the same values (order
# and repeats aside; an absent or null list is empty).
same_rule(a, b) if {
	different := [field |
		some field in ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"]
		_rule_values(a, field) != _rule_values(b, field)
	]
	count(different) == 0
}

_rule_values(rule, field) := {v | some v in rule[field]} if is_array(rule[field])

else := set()

# --- exemptions -----------------------------------------------------------------

# The namespace exemptions that name the resource under evaluation. The scan
# evaluates this rule for each resource side that has findings; every finding
# of a rule whose `custom.category` is <family> is then reported as suppressed
# (with `by` and `reason`, counted, never failing the scan) when an entry here
# has no `refused`. An entry with `refused` names an exemption that does not
# apply, and why: the findings stay findings and their message says so.
#   {"category": <family>, "by": "<family>.exempt_namespaces", "reason": "...", "refused"?: "..."}
# Every section of data.baselines with an `exempt_namespaces` list counts, so
# a policy of your own (its category = its section) gets the same treatment.
exemptions contains exemption if {
	some hit in _namespace_exemptions
	why := _never_exempt
	exemption := object.union(hit, {"refused": why})
}

exemptions contains hit if {
	some hit in _namespace_exemptions
	not _never_exempt
}

_namespace_exemptions contains {
	"category": family,
	"by": sprintf("%s.exempt_namespaces", [family]),
	"reason": _exemption_reason(family, entry),
} if {
	namespace != ""
	some family, settings in data.baselines
	is_object(settings)
	entries := settings.exempt_namespaces
	is_array(entries)
	some entry in entries
	_exempt_name(entry) == namespace
}

_exempt_name(entry) := entry if is_string(entry)

else := entry.name

_exemption_reason(family, entry) := entry.reason if is_string(entry.reason)

else := sprintf("listed in %s.exempt_namespaces (without a reason)", [family])

# Why no namespace exemption may apply to the resource: RBAC objects that
# grant everything, or grant into another namespace, are always reported.
_never_exempt := sprintf("it grants the ClusterRole %s, which allows \"*\" on \"*\"", [input.resource.roleRef.name]) if {
	kind in {"RoleBinding", "ClusterRoleBinding"}
	input.resource.roleRef.kind == "ClusterRole"
	input.resource.roleRef.name in _grants_everything
} else := sprintf("it grants to %s, outside its namespace", [_subject_text(subject)]) if {
	kind == "RoleBinding"
	subjects := input.resource.subjects
	is_array(subjects)
	some subject in subjects
	_outside(subject)
} else := "it grants \"*\" verbs on \"*\" resources" if {
	kind == "Role"
	rules := input.resource.rules
	is_array(rules)
	some rule in rules
	_star_on_star(rule)
}

# "*" verbs on "*" resources.
_star_on_star(rule) if {
	is_array(rule.verbs)
	is_array(rule.resources)
	"*" in rule.verbs
	"*" in rule.resources
}

# cluster-admin, and any built-in role with "*" verbs on "*" resources.
_grants_everything contains "cluster-admin"

_grants_everything contains role.name if {
	some role in data.baselines.privileges.builtin_roles
	some rule in role.rules
	_star_on_star(rule)
}

# A subject of a RoleBinding that is not of the binding's namespace: a
# ServiceAccount of another namespace, or the group of all (or another
# namespace's) ServiceAccounts.
_outside(subject) if {
	subject.kind == "ServiceAccount"
	is_string(subject.namespace)
	subject.namespace != ""
	subject.namespace != namespace
}

_outside(subject) if {
	subject.kind == "Group"
	subject.name == "system:serviceaccounts"
}

_outside(subject) if {
	subject.kind == "Group"
	startswith(subject.name, "system:serviceaccounts:")
	subject.name != concat("", ["system:serviceaccounts:", namespace])
}

_subject_text(subject) := sprintf("ServiceAccount %s/%s", [subject.namespace, object.get(subject, "name", "")]) if {
	subject.kind == "ServiceAccount"
} else := sprintf("%s %s", [object.get(subject, "kind", "subject"), object.get(subject, "name", "")])
