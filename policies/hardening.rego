# METADATA
# title: Workload hardening
# description: >-
#   Hardening expected of workloads beyond privileges: read-only root
#   filesystems, resource requests and limits, probes, service account tokens
#   and accounts, the default namespace, Secrets in environment variables.
#   Every rule is off until its switch in data.baselines.hardening is true.
# custom:
#   category: hardening
#   kinds: [workloads]
#   sources: [kubernetes]
package driftaudit.hardening

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# Each rule's switch is data.baselines.hardening.<key> (defaults, all false:
# baselines/default.yaml), named in its `custom.enabled_by`: a rule whose switch
# is off is not evaluated at all (the scan leaves it out when routing), and
# each rule checks its switch too, for `policy test` and user data.

# Containers and init containers: ephemeral (debug) containers take no
# securityContext hardening, resources or probes.
_not_ephemeral(c) if not contains(c.path, ".ephemeralContainers[")

# Containers only (not init or ephemeral ones).
_main(c) if regex.match(`\.containers\[[0-9]+\]$`, c.path)

# METADATA
# title: Root filesystem not read-only
# description: >-
#   securityContext.readOnlyRootFilesystem is not true: a compromised process
#   can write to the container's filesystem (tools, persistence).
# custom:
#   id: DA-HARD-001
#   controls:
#     - CIS-K8s-1.10:5.7.3
#     - NSA-CISA-1.2:Kubernetes Pod security
#   enabled_by: hardening.read_only_root_filesystem
#   severity: medium
#   category: hardening
#   remediation: Set securityContext.readOnlyRootFilesystem to true; mount emptyDir volumes where the program must write.
deny_writable_root_filesystem contains finding if {
	data.baselines.hardening.read_only_root_filesystem == true
	some c in data.driftaudit.lib.containers
	_not_ephemeral(c)
	not c.container.securityContext.readOnlyRootFilesystem == true
	finding := {
		"msg": sprintf("%s does not set securityContext.readOnlyRootFilesystem: true", [c.what]),
		"path": sprintf("%s.securityContext.readOnlyRootFilesystem", [c.path]),
	}
}

# METADATA
# title: Resource requests or limits missing
# description: >-
#   A container without cpu and memory requests and limits is scheduled
#   blindly and can starve its node's other pods.
# custom:
#   id: DA-HARD-002
#   controls:
#     - NSA-CISA-1.2:Network separation and hardening
#   enabled_by: hardening.resources
#   severity: medium
#   category: hardening
#   remediation: Set resources.requests and resources.limits for cpu and memory on every container.
deny_missing_resources contains finding if {
	data.baselines.hardening.resources == true
	some c in data.driftaudit.lib.containers
	_not_ephemeral(c)
	some kind in ["requests", "limits"]
	some resource in ["cpu", "memory"]
	not _set(object.get(c.container, ["resources", kind, resource], null))
	finding := {
		"msg": sprintf("%s has no resources.%s.%s", [c.what, kind, resource]),
		"path": sprintf("%s.resources.%s.%s", [c.path, kind, resource]),
	}
}

_set(v) if is_string(v)

_set(v) if is_number(v)

# METADATA
# title: Liveness or readiness probe missing
# description: >-
#   A container without a liveness probe is not restarted when it hangs; one
#   without a readiness probe receives traffic before it is ready. Containers
#   only: init and ephemeral containers, and Jobs and CronJobs, run to
#   completion.
# custom:
#   id: DA-HARD-003
#   controls:
#     - ISO27001-2022:A.8.16
#   enabled_by: hardening.probes
#   severity: low
#   category: hardening
#   remediation: Add livenessProbe and readinessProbe to the container.
deny_missing_probe contains finding if {
	data.baselines.hardening.probes == true
	not data.driftaudit.lib.kind in {"Job", "CronJob"}
	some c in data.driftaudit.lib.containers
	_main(c)
	some probe in ["livenessProbe", "readinessProbe"]
	not is_object(c.container[probe])
	finding := {
		"msg": sprintf("%s has no %s", [c.what, probe]),
		"path": sprintf("%s.%s", [c.path, probe]),
	}
}

# METADATA
# title: Service account token mounted
# description: >-
#   The pod does not set automountServiceAccountToken: false, so its
#   containers get an API token they rarely need.
# custom:
#   id: DA-HARD-004
#   controls:
#     - CIS-K8s-1.10:5.1.6
#     - NSA-CISA-1.2:Kubernetes Pod security
#   enabled_by: hardening.automount_service_account_token
#   severity: medium
#   category: hardening
#   remediation: Set automountServiceAccountToken to false in the pod spec, unless the pod calls the Kubernetes API.
deny_service_account_token contains finding if {
	data.baselines.hardening.automount_service_account_token == true
	some pod in data.driftaudit.lib.pod_specs
	not pod.spec.automountServiceAccountToken == false
	finding := {
		"msg": "pod does not set automountServiceAccountToken: false",
		"path": sprintf("%s.automountServiceAccountToken", [pod.path]),
	}
}

# METADATA
# title: Workload in the default namespace
# description: >-
#   The workload runs in the namespace default, which has no isolation of its
#   own (quotas, network policies, RBAC) and mixes unrelated workloads.
# custom:
#   id: DA-HARD-005
#   controls:
#     - CIS-K8s-1.10:5.7.1
#     - CIS-K8s-1.10:5.7.4
#     - NSA-CISA-1.2:Network separation and hardening
#   enabled_by: hardening.default_namespace
#   severity: low
#   category: hardening
#   remediation: Deploy the workload to a namespace of its own.
deny_default_namespace contains finding if {
	data.baselines.hardening.default_namespace == true
	data.driftaudit.lib.namespace == "default"
	count(data.driftaudit.lib.pod_specs) > 0
	finding := {
		"msg": sprintf("%s %s runs in the namespace default", [data.driftaudit.lib.kind, data.driftaudit.lib.name]),
		"path": "metadata.namespace",
	}
}

# METADATA
# title: Default service account
# description: >-
#   The pod runs as its namespace's default service account, shared by every
#   pod that names none: any role granted to it is granted to all of them.
# custom:
#   id: DA-HARD-006
#   controls:
#     - CIS-K8s-1.10:5.1.5
#     - NSA-CISA-1.2:Authentication and authorization
#   enabled_by: hardening.default_service_account
#   severity: low
#   category: hardening
#   remediation: Create a service account for the workload and set serviceAccountName.
deny_default_service_account contains finding if {
	data.baselines.hardening.default_service_account == true
	some pod in data.driftaudit.lib.pod_specs
	account := _service_account(pod.spec)
	account == "default"
	finding := {
		"msg": sprintf("pod runs as the default service account (serviceAccountName: %s)", [_account_text(pod.spec)]),
		"path": sprintf("%s.serviceAccountName", [pod.path]),
	}
}

# serviceAccountName, else the deprecated serviceAccount, else "default".
_service_account(spec) := spec.serviceAccountName if {
	is_string(spec.serviceAccountName)
	spec.serviceAccountName != ""
} else := spec.serviceAccount if {
	is_string(spec.serviceAccount)
	spec.serviceAccount != ""
} else := "default"

_account_text(spec) := "default" if _service_account(spec) == object.get(spec, "serviceAccountName", null)

else := "unset"

# METADATA
# title: Secret in an environment variable
# description: >-
#   A container takes a Secret into its environment, where it is inherited by
#   child processes, shown by debugging tools and often logged.
# custom:
#   id: DA-HARD-007
#   controls:
#     - CIS-K8s-1.10:5.4.1
#     - NSA-CISA-1.2:Network separation and hardening
#   enabled_by: hardening.secrets_in_env
#   severity: medium
#   category: hardening
#   remediation: Mount the Secret as a file (a secret volume) and read it from there.
deny_secret_in_env contains finding if {
	data.baselines.hardening.secrets_in_env == true
	some c in data.driftaudit.lib.containers
	env := c.container.env
	is_array(env)
	some i, var in env
	ref := var.valueFrom.secretKeyRef
	is_object(ref)
	finding := {
		"msg": sprintf(`%s sets env var "%s" from key "%s" of Secret "%s" (env[%d].valueFrom.secretKeyRef)`, [c.what, _text(var.name), _text(ref.key), _text(ref.name), i]),
		"path": sprintf("%s.env[%d].valueFrom.secretKeyRef", [c.path, i]),
	}
}

deny_secret_in_env contains finding if {
	data.baselines.hardening.secrets_in_env == true
	some c in data.driftaudit.lib.containers
	env_from := c.container.envFrom
	is_array(env_from)
	some i, source in env_from
	ref := source.secretRef
	is_object(ref)
	finding := {
		"msg": sprintf(`%s takes every key of Secret "%s" as env vars (envFrom[%d].secretRef)`, [c.what, _text(ref.name), i]),
		"path": sprintf("%s.envFrom[%d].secretRef", [c.path, i]),
	}
}

_text(s) := s if is_string(s)

else := "(unnamed)"

# METADATA
# title: Namespace without a NetworkPolicy
# description: >-
#   A namespace that runs workloads and has no NetworkPolicy: every pod in it
#   accepts traffic from anywhere in the cluster.
# custom:
#   id: DA-HARD-008
#   controls:
#     - CIS-K8s-1.10:5.3.2
#     - NSA-CISA-1.2:Network separation and hardening
#   enabled_by: hardening.network_policy
#   severity: medium
#   category: hardening
#   scope: inventory
#   remediation: Add a NetworkPolicy to the namespace (a default-deny policy, then one per allowed flow).
deny_namespace_without_network_policy contains finding if {
	data.baselines.hardening.network_policy == true
	some namespace, workloads in _workloads_by_namespace
	not _has_network_policy[namespace]
	not namespace in _exempt_namespace_names
	names := sort(workloads)
	finding := {"msg": sprintf(
		"namespace %s runs %d workload(s) (%s) and has no NetworkPolicy, declared or live: its pods accept traffic from anywhere",
		[namespace, count(names), concat(", ", array.slice(names, 0, 5))],
	)}
}

# Workloads of each namespace, by `kind/name`: the kinds of the workload table.
_workloads_by_namespace[namespace] contains sprintf("%s/%s", [id.kind, id.name]) if {
	some entry in input.resources
	id := entry.identity
	id.source == "kubernetes"
	data.driftaudit.builtin_workloads[id.group][id.kind]
	namespace := id.namespace
	namespace != ""
}

_has_network_policy[namespace] if {
	some entry in input.resources
	entry.identity.source == "kubernetes"
	entry.identity.group == "networking.k8s.io"
	entry.identity.kind == "NetworkPolicy"
	namespace := entry.identity.namespace
}

# An inventory finding names no resource, so the namespace exemptions of
# hardening.exempt_namespaces are applied here: such a namespace is skipped.
_exempt_namespace_names contains name if {
	some entry in data.baselines.hardening.exempt_namespaces
	name := _exempt_name(entry)
}

_exempt_name(entry) := entry if is_string(entry)

else := entry.name
