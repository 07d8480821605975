package driftaudit.pss_test

import data.driftaudit.pss

# Pass and fail cases for every control of the Pod Security Standards, at
# both levels, written from the published standard.

_input(resource) := {
	"contract_version": 1,
	"state": "declared",
	"identity": {
		"source": "kubernetes",
		"apiVersion": resource.apiVersion,
		"group": "",
		"kind": resource.kind,
		"namespace": resource.metadata.namespace,
		"name": resource.metadata.name,
	},
	"resource": resource,
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": "2026-11-21T12:00:00Z",
}

_container := {
	"name": "app",
	"image": "registry.example.com/app:1",
	"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
}

# A pod spec that passes every control at the restricted level.
_good := {
	"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [_container],
}

# A Pod in namespace "shop": the good spec with `patch` merged in.
_pod(patch) := _pod_in("shop", object.union(_good, patch))

_pod_in(namespace, spec) := _input({
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": spec,
})

# A Pod with exactly this pod securityContext and the good container.
_with_pod_sc(sc) := _pod_in("shop", {"securityContext": sc, "containers": [_container]})

# The good pod whose container's securityContext has `sc` merged in.
_sc(sc) := _pod({"containers": [object.union(_container, {"securityContext": object.union(_container.securityContext, sc)})]})

_rules := {
	"HOST-PROCESS": pss.deny_host_process,
	"HOST-NAMESPACES": pss.deny_host_namespaces,
	"PRIVILEGED": pss.deny_privileged,
	"CAPABILITIES": pss.deny_capabilities,
	"HOST-PATH": pss.deny_host_path,
	"HOST-PORTS": pss.deny_host_ports,
	"APPARMOR": pss.deny_apparmor,
	"SELINUX": pss.deny_selinux,
	"PROC-MOUNT": pss.deny_proc_mount,
	"SECCOMP": pss.deny_seccomp,
	"SYSCTLS": pss.deny_sysctls,
	"VOLUME-TYPES": pss.deny_volume_types,
	"PRIVILEGE-ESCALATION": pss.deny_privilege_escalation,
	"RUN-AS-NON-ROOT": pss.deny_run_as_non_root,
	"RUN-AS-USER": pss.deny_run_as_user,
	"SECCOMP-RESTRICTED": pss.deny_seccomp_restricted,
	"CAPABILITIES-RESTRICTED": pss.deny_capabilities_restricted,
}

# The controls (DA-PSS-<control>) that report the input.
_fired := {id | some id, findings in _rules; count(findings) > 0}

_findings := {f | some findings in _rules; some f in findings}

# --- the good pod and a minimal pod ----------------------------------------------

test_good_pod_passes_both_levels if {
	count(_fired) == 0 with input as _pod({}) with data.baselines.privileges.pod_security.level as "baseline"
	count(_fired) == 0 with input as _pod({}) with data.baselines.privileges.pod_security.level as "restricted"
}

test_minimal_pod_passes_baseline_fails_restricted if {
	minimal := _pod_in("shop", {"containers": [{"name": "app", "image": "app:1"}]})
	count(_fired) == 0 with input as minimal with data.baselines.privileges.pod_security.level as "baseline"
	_fired == {"PRIVILEGE-ESCALATION", "RUN-AS-NON-ROOT", "SECCOMP-RESTRICTED", "CAPABILITIES-RESTRICTED"} with input as minimal
		with data.baselines.privileges.pod_security.level as "restricted"
}

test_privileged_level_checks_nothing if {
	count(_fired) == 0 with input as _sc({"privileged": true}) with data.baselines.privileges.pod_security.level as "privileged"
}

# --- baseline controls: fail at baseline and at restricted ------------------------

_baseline_fails(spec, expected_baseline, expected_restricted) if {
	_fired == expected_baseline with input as spec with data.baselines.privileges.pod_security.level as "baseline"
	_fired == expected_restricted with input as spec with data.baselines.privileges.pod_security.level as "restricted"
}

_passes(spec) if {
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.level as "baseline"
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.level as "restricted"
}

test_host_process if {
	_baseline_fails(_pod({"securityContext": object.union(_good.securityContext, {"windowsOptions": {"hostProcess": true}})}), {"HOST-PROCESS"}, {"HOST-PROCESS"})
	_baseline_fails(_sc({"windowsOptions": {"hostProcess": true}}), {"HOST-PROCESS"}, {"HOST-PROCESS"})
	_passes(_sc({"windowsOptions": {"hostProcess": false}}))
}

test_host_namespaces if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	_baseline_fails(_pod({field: true}), {"HOST-NAMESPACES"}, {"HOST-NAMESPACES"})
	_passes(_pod({field: false}))
}

test_privileged if {
	_baseline_fails(_sc({"privileged": true}), {"PRIVILEGED"}, {"PRIVILEGED"})
	_passes(_sc({"privileged": false}))
}

test_capabilities if {
	_baseline_fails(_sc({"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}), {"CAPABILITIES"}, {"CAPABILITIES", "CAPABILITIES-RESTRICTED"})

	# every capability of the baseline list may be added at baseline
	caps := {"capabilities": {"drop": ["ALL"], "add": ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]}}
	count(_fired) == 0 with input as _sc(caps) with data.baselines.privileges.pod_security.level as "baseline"

	# names are compared exactly, as Pod Security Admission does
	_fired == {"CAPABILITIES"} with input as _sc({"capabilities": {"drop": ["ALL"], "add": ["CAP_CHOWN"]}}) with data.baselines.privileges.pod_security.level as "baseline"
}

test_host_path if {
	spec := _pod({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]})
	_baseline_fails(spec, {"HOST-PATH"}, {"HOST-PATH", "VOLUME-TYPES"})
}

test_host_ports if {
	_baseline_fails(_pod({"containers": [object.union(_container, {"ports": [{"containerPort": 80, "hostPort": 8080}]})]}), {"HOST-PORTS"}, {"HOST-PORTS"})
	_passes(_pod({"containers": [object.union(_container, {"ports": [{"containerPort": 80, "hostPort": 0}]})]}))
}

_annotated(annotations) := _input({
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"annotations": annotations}, "spec": _good}},
})

test_apparmor if {
	_baseline_fails(_annotated({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}), {"APPARMOR"}, {"APPARMOR"})
	_passes(_annotated({"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}))
	_passes(_annotated({"container.apparmor.security.beta.kubernetes.io/app": "localhost/my-profile"}))
	_baseline_fails(_sc({"appArmorProfile": {"type": "Unconfined"}}), {"APPARMOR"}, {"APPARMOR"})
	_passes(_sc({"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}))
	_passes(_sc({"appArmorProfile": {"type": "RuntimeDefault"}}))
}

test_apparmor_points_at_the_annotation if {
	some f in _findings with input as _annotated({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}) with data.baselines.privileges.pod_security.level as "baseline"
	f.path == `spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]`
}

test_selinux if {
	_baseline_fails(_sc({"seLinuxOptions": {"type": "spc_t"}}), {"SELINUX"}, {"SELINUX"})
	_baseline_fails(_sc({"seLinuxOptions": {"user": "system_u"}}), {"SELINUX"}, {"SELINUX"})
	_baseline_fails(_sc({"seLinuxOptions": {"role": "system_r"}}), {"SELINUX"}, {"SELINUX"})
	_passes(_sc({"seLinuxOptions": {"type": "container_t", "level": "s0:c123,c456"}}))
	_passes(_sc({"seLinuxOptions": {"type": "container_init_t"}}))
	_passes(_sc({"seLinuxOptions": {"type": "container_kvm_t"}}))
	_passes(_sc({"seLinuxOptions": {"type": "container_engine_t"}}))
}

test_selinux_container_engine_t_from_1_31 if {
	_fired == {"SELINUX"} with input as _sc({"seLinuxOptions": {"type": "container_engine_t"}}) with data.baselines.privileges.pod_security.version as "v1.30" with data.baselines.privileges.pod_security.level as "baseline"
	count(_fired) == 0 with input as _sc({"seLinuxOptions": {"type": "container_engine_t"}}) with data.baselines.privileges.pod_security.version as "v1.31" with data.baselines.privileges.pod_security.level as "baseline"
}

test_proc_mount if {
	_baseline_fails(_sc({"procMount": "Unmasked"}), {"PROC-MOUNT"}, {"PROC-MOUNT"})
	_passes(_sc({"procMount": "Default"}))
}

test_seccomp if {
	_baseline_fails(_sc({"seccompProfile": {"type": "Unconfined"}}), {"SECCOMP"}, {"SECCOMP", "SECCOMP-RESTRICTED"})
	_passes(_sc({"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/audit.json"}}))
}

test_seccomp_before_1_19_reads_annotations if {
	spec := _annotated({"seccomp.security.alpha.kubernetes.io/pod": "unconfined"})
	_fired == {"SECCOMP"} with input as spec with data.baselines.privileges.pod_security.version as "v1.18" with data.baselines.privileges.pod_security.level as "baseline"
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.version as "v1.19" with data.baselines.privileges.pod_security.level as "baseline"
	count(_fired) == 0 with input as _annotated({"seccomp.security.alpha.kubernetes.io/pod": "docker/default"}) with data.baselines.privileges.pod_security.version as "v1.18" with data.baselines.privileges.pod_security.level as "baseline"
}

test_sysctls if {
	unsafe := {"securityContext": object.union(_good.securityContext, {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})}
	_baseline_fails(_pod(unsafe), {"SYSCTLS"}, {"SYSCTLS"})
	safe := {"securityContext": object.union(_good.securityContext, {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "net.ipv4.tcp_keepalive_time", "value": "60"}]})}
	_passes(_pod(safe))
}

test_sysctls_follow_the_version if {
	spec := _pod({"securityContext": object.union(_good.securityContext, {"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "60"}]})})
	_fired == {"SYSCTLS"} with input as spec with data.baselines.privileges.pod_security.version as "v1.28" with data.baselines.privileges.pod_security.level as "baseline"
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.version as "v1.29" with data.baselines.privileges.pod_security.level as "baseline"
}

# --- restricted controls: pass at baseline, fail at restricted -------------------

_restricted_fails(spec, expected) if {
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.level as "baseline"
	_fired == expected with input as spec with data.baselines.privileges.pod_security.level as "restricted"
}

test_volume_types if {
	_restricted_fails(_pod({"volumes": [{"name": "data", "nfs": {"server": "nfs", "path": "/"}}]}), {"VOLUME-TYPES"})
	allowed := [
		{"name": "a", "configMap": {"name": "c"}},
		{"name": "b", "csi": {"driver": "d"}},
		{"name": "c", "downwardAPI": {}},
		{"name": "d", "emptyDir": {}},
		{"name": "e", "ephemeral": {}},
		{"name": "f", "persistentVolumeClaim": {"claimName": "p"}},
		{"name": "g", "projected": {"sources": []}},
		{"name": "h", "secret": {"secretName": "s"}},
	]
	_passes(_pod({"volumes": allowed}))
}

test_privilege_escalation if {
	_restricted_fails(_pod({"containers": [{"name": "app", "image": "app:1", "securityContext": {"capabilities": {"drop": ["ALL"]}}}]}), {"PRIVILEGE-ESCALATION"})
	_restricted_fails(_sc({"allowPrivilegeEscalation": true}), {"PRIVILEGE-ESCALATION"})
}

test_privilege_escalation_true_is_reported_at_the_field if {
	some f in pss.deny_privilege_escalation with input as _sc({"allowPrivilegeEscalation": true}) with data.baselines.privileges.pod_security.level as "restricted"
	f.path == "spec.containers[0].securityContext.allowPrivilegeEscalation"
	contains(f.msg, "Privilege Escalation")
	contains(f.msg, "restricted level forbids")
}

test_privilege_escalation_before_1_8_not_checked if {
	spec := _pod({"containers": [{"name": "app", "image": "app:1", "securityContext": {"capabilities": {"drop": ["ALL"]}}}]})
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.level as "restricted"
		with data.baselines.privileges.pod_security.version as "v1.7"
}

test_run_as_non_root if {
	_restricted_fails(_with_pod_sc({"seccompProfile": {"type": "RuntimeDefault"}}), {"RUN-AS-NON-ROOT"})
	_restricted_fails(_sc({"runAsNonRoot": false}), {"RUN-AS-NON-ROOT"})
	_restricted_fails(_with_pod_sc({"runAsNonRoot": false, "seccompProfile": {"type": "RuntimeDefault"}}), {"RUN-AS-NON-ROOT"})

	# set on the container instead of the pod
	_passes(_pod_in("shop", {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [object.union(_container, {"securityContext": object.union(_container.securityContext, {"runAsNonRoot": true})})]}))
}

test_run_as_user if {
	_restricted_fails(_sc({"runAsUser": 0}), {"RUN-AS-USER"})
	_restricted_fails(_pod({"securityContext": object.union(_good.securityContext, {"runAsUser": 0})}), {"RUN-AS-USER"})
	_passes(_sc({"runAsUser": 1000}))
	count(_fired) == 0 with input as _sc({"runAsUser": 0}) with data.baselines.privileges.pod_security.level as "restricted"
		with data.baselines.privileges.pod_security.version as "v1.22"
}

test_seccomp_restricted if {
	_restricted_fails(_with_pod_sc({"runAsNonRoot": true}), {"SECCOMP-RESTRICTED"})
	_passes(_with_pod_sc({"runAsNonRoot": true, "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}))

	# set on every container instead of the pod
	_passes(_pod_in("shop", {"securityContext": {"runAsNonRoot": true}, "containers": [object.union(_container, {"securityContext": object.union(_container.securityContext, {"seccompProfile": {"type": "RuntimeDefault"}})})]}))
}

test_capabilities_restricted if {
	_restricted_fails(_pod({"containers": [{"name": "app", "image": "app:1", "securityContext": {"allowPrivilegeEscalation": false}}]}), {"CAPABILITIES-RESTRICTED"})
	_restricted_fails(_sc({"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}), {"CAPABILITIES-RESTRICTED"})
	_passes(_sc({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}))
	count(_fired) == 0 with input as _sc({"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}) with data.baselines.privileges.pod_security.level as "restricted"
		with data.baselines.privileges.pod_security.version as "v1.21"
}

test_windows_pods_exempt_from_linux_controls_from_1_25 if {
	spec := _pod_in("shop", {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "app", "image": "app:1"}]})
	count(_fired) == 0 with input as spec with data.baselines.privileges.pod_security.level as "restricted"
	_fired == {"PRIVILEGE-ESCALATION", "SECCOMP-RESTRICTED", "CAPABILITIES-RESTRICTED"} with input as spec
		with data.baselines.privileges.pod_security.level as "restricted"
		with data.baselines.privileges.pod_security.version as "v1.24"
}

# --- the namespace's labels ------------------------------------------------------

_minimal := _pod_in("shop", {"containers": [{"name": "app", "image": "app:1"}]})

test_namespace_enforce_restricted_label_raises_the_level if {
	labels := {"shop": {"declared": {"pod-security.kubernetes.io/enforce": "restricted"}}}
	_fired == {"PRIVILEGE-ESCALATION", "RUN-AS-NON-ROOT", "SECCOMP-RESTRICTED", "CAPABILITIES-RESTRICTED"} with input as _minimal
		with data.driftaudit.namespaces as labels
	some f in _findings with input as _minimal with data.driftaudit.namespaces as labels
	contains(f.msg, "level restricted, latest, from namespace shop label pod-security.kubernetes.io/enforce")
}

test_namespace_labels_ignored_when_the_baseline_says_so if {
	labels := {"shop": {"declared": {"pod-security.kubernetes.io/enforce": "restricted"}}}
	count(_fired) == 0 with input as _minimal with data.driftaudit.namespaces as labels with data.baselines.privileges.pod_security.level as "baseline"
		with data.baselines.privileges.pod_security.use_namespace_labels as false
}

test_namespace_privileged_label_checks_nothing if {
	labels := {"shop": {"live": {"pod-security.kubernetes.io/enforce": "privileged"}}}
	count(_fired) == 0 with input as _sc({"privileged": true}) with data.driftaudit.namespaces as labels
}

test_namespace_strictest_mode_wins_and_its_version_applies if {
	labels := {"shop": {"declared": {
		"pod-security.kubernetes.io/enforce": "baseline",
		"pod-security.kubernetes.io/warn": "restricted",
		"pod-security.kubernetes.io/warn-version": "v1.21",
	}}}

	# restricted as of v1.21: no capabilities control yet
	_fired == {"PRIVILEGE-ESCALATION", "RUN-AS-NON-ROOT", "SECCOMP-RESTRICTED"} with input as _minimal
		with data.driftaudit.namespaces as labels
}

test_namespace_invalid_labels_read_as_psa_does if {
	# an unknown level is restricted, an unknown version latest
	labels := {"shop": {"declared": {"pod-security.kubernetes.io/audit": "strict", "pod-security.kubernetes.io/audit-version": "2.0"}}}
	_fired == {"PRIVILEGE-ESCALATION", "RUN-AS-NON-ROOT", "SECCOMP-RESTRICTED", "CAPABILITIES-RESTRICTED"} with input as _minimal
		with data.driftaudit.namespaces as labels
}

test_namespace_own_side_first if {
	labels := {"shop": {"declared": {"pod-security.kubernetes.io/enforce": "baseline"}, "live": {"pod-security.kubernetes.io/enforce": "restricted"}}}
	count(_fired) == 0 with input as _minimal with data.driftaudit.namespaces as labels
	count(_fired) == 4 with input as object.union(_minimal, {"state": "live"}) with data.driftaudit.namespaces as labels
}

# --- exemptions ------------------------------------------------------------------

test_exempt_namespace_suppresses if {
	some f in _findings with input as _sc({"privileged": true}) with data.baselines.privileges.pod_security.level as "baseline"
		with data.baselines.privileges.pod_security.exemptions.namespaces as [{"name": "shop", "reason": "legacy"}]
	f.suppressed == {"by": "privileges.pod_security.exemptions.namespaces", "reason": "legacy"}
}

test_exempt_runtime_class_suppresses if {
	spec := _pod({"runtimeClassName": "kata", "hostNetwork": true})
	some f in _findings with input as spec with data.baselines.privileges.pod_security.exemptions.runtime_classes as ["kata"] with data.baselines.privileges.pod_security.level as "baseline"
	f.suppressed.by == "privileges.pod_security.exemptions.runtime_classes"
	f.suppressed.reason == "listed in privileges.pod_security.exemptions.runtime_classes (without a reason)"
}

test_exempt_image_suppresses_its_container_only if {
	spec := _pod({"containers": [
		object.union(_container, {"securityContext": object.union(_container.securityContext, {"privileged": true})}),
		{"name": "other", "image": "docker.io/other:1", "securityContext": object.union(_container.securityContext, {"privileged": true})},
	]})
	findings := _findings with input as spec with data.baselines.privileges.pod_security.exemptions.images as [{"name": "registry.example.com/*", "reason": "vendor agent"}] with data.baselines.privileges.pod_security.level as "baseline"
	count(findings) == 2
	suppressed := {f.path | some f in findings; f.suppressed.by == "privileges.pod_security.exemptions.images"}
	suppressed == {"spec.containers[0].securityContext.privileged"}
}

test_no_exemption_no_suppression if {
	count(_findings) == 1 with input as _sc({"privileged": true}) with data.baselines.privileges.pod_security.level as "baseline"
	count({f | some f in _findings; f.suppressed}) == 0 with input as _sc({"privileged": true}) with data.baselines.privileges.pod_security.level as "baseline"
}

test_message_names_control_field_and_level if {
	_findings == {{
		"msg": `PSS Host Ports: container "app" sets ports[].hostPort to 8080, which the baseline level forbids (level restricted, latest, from privileges.pod_security)`,
		"path": "spec.containers[0].ports[0].hostPort",
	}} with input as _pod({"containers": [object.union(_container, {"ports": [{"containerPort": 80, "hostPort": 8080}]})]})
		with data.baselines.privileges.pod_security.level as "restricted"
}

test_malformed_values_do_not_crash if {
	spec := _pod_in("shop", {"securityContext": "x", "volumes": [3, null, {"name": "v", "hostPath": null}], "containers": [null, 1, {"name": "a", "image": 5, "securityContext": {"capabilities": {"add": "SYS_ADMIN", "drop": "ALL"}, "seLinuxOptions": 2}, "ports": [null, {"hostPort": "x"}]}]})
	_fired with input as spec with data.baselines.privileges.pod_security.level as "restricted"
}

test_default_is_privileged_as_psa_without_labels if {
	count(_fired) == 0 with input as _sc({"privileged": true})
	_fired == {"PRIVILEGED"} with input as _sc({"privileged": true})
		with data.driftaudit.namespaces as {"shop": {"declared": {"pod-security.kubernetes.io/enforce": "baseline"}}}
}
