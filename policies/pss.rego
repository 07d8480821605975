# METADATA
# title: Pod Security Standards
# description: >-
#   The controls of the Kubernetes Pod Security Standards (baseline and
#   restricted), as Pod Security Admission checks them, at the level and
#   version of privileges.pod_security or of the namespace's
#   pod-security.kubernetes.io labels.
# custom:
#   category: privileges
#   kinds: [workloads]
#   sources: [kubernetes]
package driftaudit.pss

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# The lists of the standard (safe sysctls, capabilities, SELinux types, volume
# types) are data, data.driftaudit.pod_security (src/policy/pss.rs); the namespaces'
# Pod Security labels are data.driftaudit.namespaces (same file).
_tables := data.driftaudit.pod_security

_settings := data.baselines.privileges.pod_security

# --- which level and version apply ---------------------------------------------

# The policy the resource is judged by: {level, minor, version, from}. With
# use_namespace_labels, the strictest of the namespace's enforce, audit and
# warn labels (the resource's own side of the Namespace first, else the
# other), as Pod Security Admission reads them: an unknown level counts as
# restricted and an unknown version as latest. A namespace without those
# labels (or none seen) falls back to the baseline setting.
_policy := p if {
	_settings.use_namespace_labels == true
	modes := _label_modes
	count(modes) > 0
	top := max({m.rank | some m in modes})
	newest := max({m.minor | some m in modes; m.rank == top})
	chosen := [m |
		some mode in ["enforce", "audit", "warn"]
		some m in modes
		m.mode == mode
		m.rank == top
		m.minor == newest
	]
	p := chosen[0]
} else := {
	"rank": _tables.levels[_settings.level],
	"level": _settings.level,
	"minor": _minor(_settings.version),
	"version": _settings.version,
	"from": "privileges.pod_security",
}

_namespace_labels := l if {
	l := data.driftaudit.namespaces[data.driftaudit.lib.namespace][input.state]
} else := l if {
	some side, l in data.driftaudit.namespaces[data.driftaudit.lib.namespace]
	side != input.state
}

_label_modes contains {
	"mode": mode,
	"rank": _tables.levels[level],
	"level": level,
	"minor": _minor(version),
	"version": version,
	"from": sprintf("namespace %s label pod-security.kubernetes.io/%s", [data.driftaudit.lib.namespace, mode]),
} if {
	labels := _namespace_labels
	some mode in ["enforce", "audit", "warn"]
	raw := labels[concat("", ["pod-security.kubernetes.io/", mode])]
	level := _label_level(raw)
	version := _label_version(object.get(labels, concat("", ["pod-security.kubernetes.io/", mode, "-version"]), "latest"))
}

_label_level(raw) := raw if _tables.levels[raw]

else := raw if raw == "privileged"

else := "restricted"

_label_version(raw) := raw if _minor(raw)

else := "latest"

# "latest" is newer than any release; "v1.<n>" is n.
_minor(version) := 1000 if version == "latest"

else := to_number(trim_prefix(version, "v1.")) if regex.match(`^v1\.(0|[1-9][0-9]{0,2})$`, version)

# A control of `level` whose definition applies from Kubernetes 1.<since> is
# checked when the policy's level includes it and its version is that or later.
_checked(level, since) if {
	_policy.rank >= _tables.levels[level]
	_policy.minor >= since
}

# "(level restricted, latest, from privileges.pod_security)"
_judged_by := sprintf("level %s, %s, from %s", [_policy.level, _policy.version, _policy.from])

# The message every finding carries: control, field, and the level that
# forbids it.
_msg(control, level, what, field, value) := sprintf(
	"PSS %s: %s sets %s to %v, which the %s level forbids (%s)",
	[control, what, field, value, level, _judged_by],
)

_msg_unset(control, level, what, field, needed) := sprintf(
	"PSS %s: %s does not set %s to %s, which the %s level requires (%s)",
	[control, what, field, needed, level, _judged_by],
)

# --- exemptions (privileges.pod_security.exemptions) ----------------------------

# A finding about a pod (images: those of its containers concerned) is
# reported as suppressed when its namespace or runtime class is exempt, as
# Pod Security Admission exempts them, or when every image concerned is.
_finding(msg, path, pod, images) := object.union({"msg": msg, "path": path}, {"suppressed": s}) if {
	s := _exemption(pod, images)
} else := {"msg": msg, "path": path}

_exemption(pod, images) := {
	"by": "privileges.pod_security.exemptions.namespaces",
	"reason": _reason(entries[0], "namespaces"),
} if {
	entries := [entry | some entry in _settings.exemptions.namespaces; _entry_name(entry) == data.driftaudit.lib.namespace]
	count(entries) > 0
} else := {
	"by": "privileges.pod_security.exemptions.runtime_classes",
	"reason": _reason(entries[0], "runtime_classes"),
} if {
	entries := [entry | some entry in _settings.exemptions.runtime_classes; _entry_name(entry) == pod.spec.runtimeClassName]
	count(entries) > 0
} else := {
	"by": "privileges.pod_security.exemptions.images",
	"reason": concat("; ", sort({_reason(entry, "images") | some image in images; some entry in _settings.exemptions.images; _image_matches(_entry_name(entry), image)})),
} if {
	count(images) > 0
	every image in images {
		some entry in _settings.exemptions.images
		_image_matches(_entry_name(entry), image)
	}
}

_entry_name(entry) := entry if is_string(entry)

else := entry.name

_reason(entry, list) := entry.reason if is_string(entry.reason)

else := sprintf("listed in privileges.pod_security.exemptions.%s (without a reason)", [list])

# An entry ending in "*" matches by prefix, others exactly.
_image_matches(pattern, image) if {
	endswith(pattern, "*")
	startswith(image, trim_suffix(pattern, "*"))
}

_image_matches(pattern, image) if pattern == image

# The images of a pod's containers.
_pod_images(pod) := {c.container.image |
	some c in data.driftaudit.lib.containers
	c.pod.path == pod.path
	is_string(c.container.image)
}

_image_of(c) := {c.container.image} if is_string(c.container.image)

else := set()

# A container finding: the container's image decides the image exemption.
_container_finding(c, msg, path) := _finding(msg, path, c.pod, _image_of(c))

# A pod finding: all of the pod's images must be exempt.
_pod_finding(pod, msg, path) := _finding(msg, path, pod, _pod_images(pod))

# Windows pods are exempt from some restricted controls from v1.25 on.
_windows(pod) if pod.spec.os.name == "windows"

# The pod's metadata, beside its spec ("spec" -> "metadata",
# "spec.template.spec" -> "spec.template.metadata").
_pod_metadata(pod) := {"path": "metadata", "value": object.get(input.resource, "metadata", {})} if {
	pod.path == "spec"
} else := {"path": p, "value": object.get(input.resource, split(p, "."), {})} if {
	endswith(pod.path, ".spec")
	p := concat("", [trim_suffix(pod.path, ".spec"), ".metadata"])
}

_annotations(pod) := a if {
	a := _pod_metadata(pod).value.annotations
	is_object(a)
} else := {}

# The security contexts of a pod: the pod's own and each container's, as
# {what, path, sc, pod, images}; not built at the privileged level (regorus
# evaluates every rule of the package for each resource).
_contexts contains {"what": "pod", "path": concat("", [pod.path, ".securityContext"]), "sc": sc, "pod": pod, "images": _pod_images(pod)} if {
	_checked("baseline", 0)
	some pod in data.driftaudit.lib.pod_specs
	sc := pod.spec.securityContext
	is_object(sc)
}

_contexts contains {"what": c.what, "path": concat("", [c.path, ".securityContext"]), "sc": sc, "pod": c.pod, "images": _image_of(c)} if {
	_checked("baseline", 0)
	some c in data.driftaudit.lib.containers
	sc := c.container.securityContext
	is_object(sc)
}

# --- baseline -------------------------------------------------------------------

# METADATA
# title: "PSS baseline: HostProcess"
# description: >-
#   Windows pods may not run as HostProcess containers
#   (securityContext.windowsOptions.hostProcess of the pod or a container).
#   Baseline level, all versions.
# custom:
#   id: DA-PSS-HOST-PROCESS
#   controls:
#     - CIS-K8s-1.10:5.2.11
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/HostProcess
#   severity: critical
#   pss: {control: HostProcess, level: baseline, since: v1.0}
#   remediation: Remove windowsOptions.hostProcess (or set it to false).
deny_host_process contains finding if {
	_checked("baseline", 0)
	some ctx in _contexts
	ctx.sc.windowsOptions.hostProcess == true
	field := concat("", [ctx.path, ".windowsOptions.hostProcess"])
	finding := _finding(_msg("HostProcess", "baseline", ctx.what, "securityContext.windowsOptions.hostProcess", true), field, ctx.pod, ctx.images)
}

# METADATA
# title: "PSS baseline: Host Namespaces"
# description: Sharing the host namespaces (hostNetwork, hostPID, hostIPC) is forbidden. Baseline level, all versions.
# custom:
#   id: DA-PSS-HOST-NAMESPACES
#   controls:
#     - CIS-K8s-1.10:5.2.3
#     - CIS-K8s-1.10:5.2.4
#     - CIS-K8s-1.10:5.2.5
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Host Namespaces
#   severity: high
#   pss: {control: Host Namespaces, level: baseline, since: v1.0}
#   remediation: Remove hostNetwork, hostPID and hostIPC (or set them to false).
deny_host_namespaces contains finding if {
	_checked("baseline", 0)
	some pod in data.driftaudit.lib.pod_specs
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	pod.spec[field] == true
	finding := _pod_finding(pod, _msg("Host Namespaces", "baseline", "pod", field, true), concat(".", [pod.path, field]))
}

# METADATA
# title: "PSS baseline: Privileged Containers"
# description: Privileged containers are forbidden. Baseline level, all versions.
# custom:
#   id: DA-PSS-PRIVILEGED
#   controls:
#     - CIS-K8s-1.10:5.2.2
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Privileged Containers
#   severity: critical
#   pss: {control: Privileged Containers, level: baseline, since: v1.0}
#   remediation: Remove securityContext.privileged (or set it to false).
deny_privileged contains finding if {
	_checked("baseline", 0)
	some c in data.driftaudit.lib.containers
	c.container.securityContext.privileged == true
	finding := _container_finding(c, _msg("Privileged Containers", "baseline", c.what, "securityContext.privileged", true), concat("", [c.path, ".securityContext.privileged"]))
}

# METADATA
# title: "PSS baseline: Capabilities"
# description: >-
#   Containers may add only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID,
#   KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and
#   SYS_CHROOT (compared exactly, as Pod Security Admission does). Baseline
#   level, all versions.
# custom:
#   id: DA-PSS-CAPABILITIES
#   controls:
#     - CIS-K8s-1.10:5.2.9
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Capabilities
#   severity: high
#   pss: {control: Capabilities, level: baseline, since: v1.0}
#   remediation: Remove the capability from securityContext.capabilities.add.
deny_capabilities contains finding if {
	_checked("baseline", 0)
	some c in data.driftaudit.lib.containers
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some j, capability in added
	not capability in _tables.baseline_capabilities
	field := sprintf("%s.securityContext.capabilities.add[%d]", [c.path, j])
	finding := _container_finding(c, _msg("Capabilities", "baseline", c.what, "securityContext.capabilities.add", capability), field)
}

# METADATA
# title: "PSS baseline: HostPath Volumes"
# description: hostPath volumes are forbidden. Baseline level, all versions.
# custom:
#   id: DA-PSS-HOST-PATH
#   controls:
#     - CIS-K8s-1.10:5.2.12
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/HostPath Volumes
#   severity: high
#   pss: {control: HostPath Volumes, level: baseline, since: v1.0}
#   remediation: Replace the hostPath volume with a persistentVolumeClaim, configMap, secret, emptyDir or CSI volume.
deny_host_path contains finding if {
	_checked("baseline", 0)
	some pod in data.driftaudit.lib.pod_specs
	volumes := pod.spec.volumes
	is_array(volumes)
	some i, volume in volumes
	volume.hostPath != null
	what := sprintf(`volume "%s"`, [data.driftaudit.lib.name_of(volume)])
	finding := _pod_finding(pod, _msg("HostPath Volumes", "baseline", what, "hostPath", object.get(volume.hostPath, "path", "(no path)")), sprintf("%s.volumes[%d].hostPath", [pod.path, i]))
}

# METADATA
# title: "PSS baseline: Host Ports"
# description: Containers may not use host ports (ports[*].hostPort other than 0). Baseline level, all versions.
# custom:
#   id: DA-PSS-HOST-PORTS
#   controls:
#     - CIS-K8s-1.10:5.2.13
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Host Ports
#   severity: high
#   pss: {control: Host Ports, level: baseline, since: v1.0}
#   remediation: Remove ports[*].hostPort and expose the port through a Service.
deny_host_ports contains finding if {
	_checked("baseline", 0)
	some c in data.driftaudit.lib.containers
	ports := c.container.ports
	is_array(ports)
	some j, port in ports
	port.hostPort != null
	port.hostPort != 0
	field := sprintf("%s.ports[%d].hostPort", [c.path, j])
	finding := _container_finding(c, _msg("Host Ports", "baseline", c.what, "ports[].hostPort", port.hostPort), field)
}

# METADATA
# title: "PSS baseline: AppArmor"
# description: >-
#   The AppArmor profile may only be the runtime default or a profile loaded
#   on the node: the annotation container.apparmor.security.beta.kubernetes.io/*
#   may be runtime/default or localhost/*; from v1.30, appArmorProfile.type of
#   the pod or a container may be RuntimeDefault or Localhost. Baseline level.
# custom:
#   id: DA-PSS-APPARMOR
#   controls:
#     - CIS-K8s-1.10:5.7.3
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/AppArmor
#   severity: high
#   pss: {control: AppArmor, level: baseline, since: v1.0}
#   remediation: Use the RuntimeDefault AppArmor profile, or a Localhost one.
deny_apparmor contains finding if {
	_checked("baseline", 0)
	some pod in data.driftaudit.lib.pod_specs
	some key, value in _annotations(pod)
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	not _apparmor_annotation_allowed(value)
	field := sprintf(`%s.annotations["%s"]`, [_pod_metadata(pod).path, key])
	finding := _pod_finding(pod, _msg("AppArmor", "baseline", "pod", sprintf("annotation %s", [key]), value), field)
}

deny_apparmor contains finding if {
	_checked("baseline", 30)
	some ctx in _contexts
	profile := ctx.sc.appArmorProfile.type
	profile != null
	not profile in {"RuntimeDefault", "Localhost"}
	field := concat("", [ctx.path, ".appArmorProfile.type"])
	finding := _finding(_msg("AppArmor", "baseline", ctx.what, "securityContext.appArmorProfile.type", profile), field, ctx.pod, ctx.images)
}

_apparmor_annotation_allowed(value) if value == "runtime/default"

_apparmor_annotation_allowed(value) if startswith(value, "localhost/")

# METADATA
# title: "PSS baseline: SELinux"
# description: >-
#   seLinuxOptions.type of the pod or a container may only be container_t,
#   container_init_t, container_kvm_t (and container_engine_t from v1.31);
#   seLinuxOptions.user and role may not be set. Baseline level.
# custom:
#   id: DA-PSS-SELINUX
#   controls:
#     - CIS-K8s-1.10:5.7.3
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/SELinux
#   severity: high
#   pss: {control: SELinux, level: baseline, since: v1.0}
#   remediation: Remove seLinuxOptions.user and role, and use an allowed type (or none).
deny_selinux contains finding if {
	_checked("baseline", 0)
	some ctx in _contexts
	options := ctx.sc.seLinuxOptions
	is_object(options)
	some key, value in options
	not _selinux_allowed(key, value)
	field := sprintf("%s.seLinuxOptions.%s", [ctx.path, key])
	finding := _finding(_msg("SELinux", "baseline", ctx.what, sprintf("securityContext.seLinuxOptions.%s", [key]), value), field, ctx.pod, ctx.images)
}

_selinux_allowed(key, _) if not key in {"type", "user", "role"}

_selinux_allowed(_, value) if value in {"", null}

_selinux_allowed(key, value) if {
	key == "type"
	_policy.minor >= _tables.selinux_types[value]
}

# METADATA
# title: "PSS baseline: /proc Mount Type"
# description: securityContext.procMount may only be Default. Baseline level, all versions.
# custom:
#   id: DA-PSS-PROC-MOUNT
#   controls:
#     - CIS-K8s-1.10:5.7.3
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline//proc Mount Type
#   severity: high
#   pss: {control: /proc Mount Type, level: baseline, since: v1.0}
#   remediation: Remove securityContext.procMount (or set it to Default).
deny_proc_mount contains finding if {
	_checked("baseline", 0)
	some c in data.driftaudit.lib.containers
	mount := c.container.securityContext.procMount
	mount != null
	mount != "Default"
	finding := _container_finding(c, _msg("/proc Mount Type", "baseline", c.what, "securityContext.procMount", mount), concat("", [c.path, ".securityContext.procMount"]))
}

# METADATA
# title: "PSS baseline: Seccomp"
# description: >-
#   The seccomp profile may not be Unconfined: from v1.19 seccompProfile.type
#   of the pod or a container may be RuntimeDefault or Localhost (or unset);
#   before v1.19, the seccomp annotations may be runtime/default,
#   docker/default or localhost/* (or unset). Baseline level.
# custom:
#   id: DA-PSS-SECCOMP
#   controls:
#     - CIS-K8s-1.10:5.7.2
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Seccomp
#   severity: high
#   pss: {control: Seccomp, level: baseline, since: v1.0}
#   remediation: Set seccompProfile.type to RuntimeDefault (or Localhost with a profile), or leave it unset.
deny_seccomp contains finding if {
	_checked("baseline", 19)
	some ctx in _contexts
	profile := ctx.sc.seccompProfile.type
	profile != null
	not profile in {"RuntimeDefault", "Localhost"}
	field := concat("", [ctx.path, ".seccompProfile.type"])
	finding := _finding(_msg("Seccomp", "baseline", ctx.what, "securityContext.seccompProfile.type", profile), field, ctx.pod, ctx.images)
}

deny_seccomp contains finding if {
	_checked("baseline", 0)
	_policy.minor < 19
	some pod in data.driftaudit.lib.pod_specs
	some key, value in _annotations(pod)
	_seccomp_annotation(key)
	not _seccomp_annotation_allowed(value)
	field := sprintf(`%s.annotations["%s"]`, [_pod_metadata(pod).path, key])
	finding := _pod_finding(pod, _msg("Seccomp", "baseline", "pod", sprintf("annotation %s", [key]), value), field)
}

_seccomp_annotation(key) if key == "seccomp.security.alpha.kubernetes.io/pod"

_seccomp_annotation(key) if startswith(key, "container.seccomp.security.alpha.kubernetes.io/")

_seccomp_annotation_allowed(value) if value in {"", "runtime/default", "docker/default"}

_seccomp_annotation_allowed(value) if startswith(value, "localhost/")

# METADATA
# title: "PSS baseline: Sysctls"
# description: >-
#   A pod may set only the safe sysctls of its version: kernel.shm_rmid_forced,
#   net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start,
#   net.ipv4.tcp_syncookies, net.ipv4.ping_group_range;
#   net.ipv4.ip_local_reserved_ports from v1.27; net.ipv4.tcp_keepalive_time,
#   tcp_fin_timeout, tcp_keepalive_intvl, tcp_keepalive_probes from v1.29;
#   net.ipv4.tcp_rmem and tcp_wmem from v1.32. Baseline level.
# custom:
#   id: DA-PSS-SYSCTLS
#   controls:
#     - CIS-K8s-1.10:5.7.3
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:baseline/Sysctls
#   severity: high
#   pss: {control: Sysctls, level: baseline, since: v1.0}
#   remediation: Remove the sysctl, or set it on the node instead.
deny_sysctls contains finding if {
	_checked("baseline", 0)
	some pod in data.driftaudit.lib.pod_specs
	sysctls := pod.spec.securityContext.sysctls
	is_array(sysctls)
	some i, sysctl in sysctls
	not _policy.minor >= _tables.safe_sysctls[sysctl.name]
	field := sprintf("%s.securityContext.sysctls[%d].name", [pod.path, i])
	finding := _pod_finding(pod, _msg("Sysctls", "baseline", "pod", "securityContext.sysctls[].name", object.get(sysctl, "name", null)), field)
}

# --- restricted -----------------------------------------------------------------

# METADATA
# title: "PSS restricted: Volume Types"
# description: >-
#   Volumes may only be configMap, csi, downwardAPI, emptyDir, ephemeral,
#   persistentVolumeClaim, projected or secret. Restricted level, all versions.
# custom:
#   id: DA-PSS-VOLUME-TYPES
#   controls:
#     - CIS-K8s-1.10:5.2.12
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Volume Types
#   severity: medium
#   pss: {control: Volume Types, level: restricted, since: v1.0}
#   remediation: Use one of the allowed volume types (a persistentVolumeClaim for storage).
deny_volume_types contains finding if {
	_checked("restricted", 0)
	some pod in data.driftaudit.lib.pod_specs
	volumes := pod.spec.volumes
	is_array(volumes)
	some i, volume in volumes
	is_object(volume)
	some key, value in volume
	key != "name"
	value != null
	not _tables.volume_types[key]
	what := sprintf(`volume "%s"`, [data.driftaudit.lib.name_of(volume)])
	finding := _pod_finding(pod, _msg("Volume Types", "restricted", what, "its type", key), sprintf("%s.volumes[%d].%s", [pod.path, i, key]))
}

# METADATA
# title: "PSS restricted: Privilege Escalation"
# description: >-
#   Every container must set securityContext.allowPrivilegeEscalation to false
#   (from v1.8; Windows pods are exempt from v1.25). Restricted level.
# custom:
#   id: DA-PSS-PRIVILEGE-ESCALATION
#   controls:
#     - CIS-K8s-1.10:5.2.6
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Privilege Escalation
#   severity: medium
#   pss: {control: Privilege Escalation, level: restricted, since: v1.8}
#   remediation: Set securityContext.allowPrivilegeEscalation to false in every container.
deny_privilege_escalation contains finding if {
	_checked("restricted", 8)
	some c in data.driftaudit.lib.containers
	not _linux_exempt(c.pod)
	not c.container.securityContext.allowPrivilegeEscalation == false
	finding := _privilege_escalation(c)
}

_privilege_escalation(c) := _container_finding(c, _msg("Privilege Escalation", "restricted", c.what, "securityContext.allowPrivilegeEscalation", value), concat("", [c.path, ".securityContext.allowPrivilegeEscalation"])) if {
	value := c.container.securityContext.allowPrivilegeEscalation
	value != null
} else := _container_finding(c, _msg_unset("Privilege Escalation", "restricted", c.what, "securityContext.allowPrivilegeEscalation", "false"), c.path)

# The restricted controls that stop at Windows pods from v1.25 on.
_linux_exempt(pod) if {
	_windows(pod)
	_policy.minor >= 25
}

# METADATA
# title: "PSS restricted: Running as Non-root"
# description: >-
#   Containers must run with runAsNonRoot: true, set on the pod or on every
#   container; false on the pod or a container is forbidden. Restricted level,
#   all versions.
# custom:
#   id: DA-PSS-RUN-AS-NON-ROOT
#   controls:
#     - CIS-K8s-1.10:5.2.7
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Running as Non-root
#   severity: medium
#   pss: {control: Running as Non-root, level: restricted, since: v1.0}
#   remediation: Set securityContext.runAsNonRoot to true on the pod.
deny_run_as_non_root contains finding if {
	_checked("restricted", 0)
	some ctx in _contexts
	ctx.sc.runAsNonRoot == false
	finding := _finding(_msg("Running as Non-root", "restricted", ctx.what, "securityContext.runAsNonRoot", false), concat("", [ctx.path, ".runAsNonRoot"]), ctx.pod, ctx.images)
}

deny_run_as_non_root contains finding if {
	_checked("restricted", 0)
	some c in data.driftaudit.lib.containers
	object.get(c.container, ["securityContext", "runAsNonRoot"], null) == null
	not c.pod.spec.securityContext.runAsNonRoot == true
	finding := _container_finding(c, _msg_unset("Running as Non-root", "restricted", c.what, "securityContext.runAsNonRoot (nor does its pod)", "true"), c.path)
}

# METADATA
# title: "PSS restricted: Running as Non-root user"
# description: runAsUser of the pod or a container may not be 0 (from v1.23). Restricted level.
# custom:
#   id: DA-PSS-RUN-AS-USER
#   controls:
#     - CIS-K8s-1.10:5.2.7
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Running as Non-root user
#   severity: medium
#   pss: {control: Running as Non-root user, level: restricted, since: v1.23}
#   remediation: Set securityContext.runAsUser to a non-zero UID, or leave it unset.
deny_run_as_user contains finding if {
	_checked("restricted", 23)
	some ctx in _contexts
	ctx.sc.runAsUser == 0
	finding := _finding(_msg("Running as Non-root user", "restricted", ctx.what, "securityContext.runAsUser", 0), concat("", [ctx.path, ".runAsUser"]), ctx.pod, ctx.images)
}

# METADATA
# title: "PSS restricted: Seccomp"
# description: >-
#   seccompProfile.type must be RuntimeDefault or Localhost, on the pod or on
#   every container (from v1.19; Windows pods are exempt from v1.25).
#   Restricted level.
# custom:
#   id: DA-PSS-SECCOMP-RESTRICTED
#   controls:
#     - CIS-K8s-1.10:5.7.2
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Seccomp
#   severity: medium
#   pss: {control: Seccomp (restricted), level: restricted, since: v1.19}
#   remediation: Set securityContext.seccompProfile.type to RuntimeDefault on the pod.
deny_seccomp_restricted contains finding if {
	_checked("restricted", 19)
	some ctx in _contexts
	not _linux_exempt(ctx.pod)
	profile := ctx.sc.seccompProfile.type
	profile != null
	not profile in {"RuntimeDefault", "Localhost"}
	finding := _finding(_msg("Seccomp (restricted)", "restricted", ctx.what, "securityContext.seccompProfile.type", profile), concat("", [ctx.path, ".seccompProfile.type"]), ctx.pod, ctx.images)
}

deny_seccomp_restricted contains finding if {
	_checked("restricted", 19)
	some c in data.driftaudit.lib.containers
	not _linux_exempt(c.pod)
	object.get(c.container, ["securityContext", "seccompProfile", "type"], null) == null
	object.get(c.pod.spec, ["securityContext", "seccompProfile", "type"], null) == null
	finding := _container_finding(c, _msg_unset("Seccomp (restricted)", "restricted", c.what, "securityContext.seccompProfile.type (nor does its pod)", "RuntimeDefault or Localhost"), c.path)
}

# METADATA
# title: "PSS restricted: Capabilities"
# description: >-
#   Every container must drop ALL capabilities and may add back only
#   NET_BIND_SERVICE (from v1.22; Windows pods are exempt from v1.25).
#   Restricted level.
# custom:
#   id: DA-PSS-CAPABILITIES-RESTRICTED
#   controls:
#     - CIS-K8s-1.10:5.2.8
#     - CIS-K8s-1.10:5.2.9
#     - CIS-K8s-1.10:5.2.10
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - PSS:restricted/Capabilities
#   severity: medium
#   pss: {control: Capabilities (restricted), level: restricted, since: v1.22}
#   remediation: Set securityContext.capabilities.drop to [ALL], and add only NET_BIND_SERVICE.
deny_capabilities_restricted contains finding if {
	_checked("restricted", 22)
	some c in data.driftaudit.lib.containers
	not _linux_exempt(c.pod)
	not "ALL" in object.get(c.container, ["securityContext", "capabilities", "drop"], [])
	finding := _container_finding(c, _msg_unset("Capabilities (restricted)", "restricted", c.what, "securityContext.capabilities.drop", "include ALL"), c.path)
}

deny_capabilities_restricted contains finding if {
	_checked("restricted", 22)
	some c in data.driftaudit.lib.containers
	not _linux_exempt(c.pod)
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some j, capability in added
	capability != "NET_BIND_SERVICE"
	field := sprintf("%s.securityContext.capabilities.add[%d]", [c.path, j])
	finding := _container_finding(c, _msg("Capabilities (restricted)", "restricted", c.what, "securityContext.capabilities.add", capability), field)
}
