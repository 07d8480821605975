package driftaudit.images_test

import data.driftaudit.images
import data.driftaudit.lib

_input(resource) := {
	"contract_version": 1,
	"state": "declared",
	"identity": {
		"source": "kubernetes",
		"apiVersion": resource.apiVersion,
		"group": "apps",
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

_deployment(namespace, containers) := _input({
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": {"replicas": 1, "template": {"spec": {"containers": containers}}},
})

_image(image) := _deployment("shop", [{"name": "web", "image": image}])

_path := "spec.template.spec.containers[0].image"


# --- image reference normalisation -------------------------------------------

test_ref_official_image if {
	images._image_ref("nginx") == {"registry": "docker.io", "repository": "docker.io/library/nginx", "tag": "", "digest": ""}
}

test_ref_hub_org_image if {
	images._image_ref("bitnami/redis:7.2") == {"registry": "docker.io", "repository": "docker.io/bitnami/redis", "tag": "7.2", "digest": ""}
}

test_ref_explicit_hub_hosts if {
	images._image_ref("docker.io/nginx:1.27").repository == "docker.io/library/nginx"
	images._image_ref("index.docker.io/library/nginx").repository == "docker.io/library/nginx"
	images._image_ref("Docker.IO/acme/app").registry == "docker.io"
}

test_ref_registry_with_port_and_digest if {
	digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	images._image_ref(concat("", ["localhost:5000/team/app:1.0@", digest])) == {
		"registry": "localhost:5000",
		"repository": "localhost:5000/team/app",
		"tag": "1.0",
		"digest": digest,
	}
}

test_ref_port_is_not_a_tag if {
	images._image_ref("registry.example.com:5000/app") == {"registry": "registry.example.com:5000", "repository": "registry.example.com:5000/app", "tag": "", "digest": ""}
}

test_ref_localhost_and_plain_first_component if {
	images._image_ref("localhost/app").registry == "localhost"
	images._image_ref("acme/app").registry == "docker.io"
	images._image_ref("ghcr.io/acme/tools/cli:v2").repository == "ghcr.io/acme/tools/cli"
}

# --- DA-IMG-001 unapproved registry ------------------------------------------

test_registry_not_enforced_by_default if {
	count(images.deny_unapproved_registry) == 0 with input as _image("evil.example.com/app:1.0")
}

test_registry_unapproved_fires if {
	findings := images.deny_unapproved_registry with input as _image("evil.example.com/app:1.0")
		with data.baselines.images.approved_registries as ["registry.example.com"]
	findings == {{
		"msg": `container "web" uses image "evil.example.com/app:1.0" from registry "evil.example.com", which is not in images.approved_registries`,
		"path": _path,
	}}
}

test_registry_approved_passes if {
	count(images.deny_unapproved_registry) == 0 with input as _image("registry.example.com/app:1.0")
		with data.baselines.images.approved_registries as ["registry.example.com"]
}

test_registry_hub_image_is_docker_io if {
	findings := images.deny_unapproved_registry with input as _image("nginx:1.27")
		with data.baselines.images.approved_registries as ["registry.example.com"]
	some f in findings
	contains(f.msg, `from registry "docker.io"`)
	count(images.deny_unapproved_registry) == 0 with input as _image("nginx:1.27")
		with data.baselines.images.approved_registries as ["docker.io"]
}

test_registry_host_compared_case_insensitively if {
	count(images.deny_unapproved_registry) == 0 with input as _image("Registry.Example.com/app:1.0")
		with data.baselines.images.approved_registries as ["https://registry.example.COM/"]
}

test_registry_path_prefix if {
	approved_registries := ["ghcr.io/acme"]
	count(images.deny_unapproved_registry) == 0 with input as _image("ghcr.io/acme/api:1.0")
		with data.baselines.images.approved_registries as approved_registries
	count(images.deny_unapproved_registry) == 1 with input as _image("ghcr.io/other/api:1.0")
		with data.baselines.images.approved_registries as approved_registries
	# a prefix must end at a path boundary
	count(images.deny_unapproved_registry) == 1 with input as _image("ghcr.io/acmecorp/api:1.0")
		with data.baselines.images.approved_registries as approved_registries
}

test_registry_hub_official_only if {
	approved_registries := ["docker.io/library"]
	count(images.deny_unapproved_registry) == 0 with input as _image("nginx:1.27") with data.baselines.images.approved_registries as approved_registries
	count(images.deny_unapproved_registry) == 1 with input as _image("bitnami/nginx:1.27") with data.baselines.images.approved_registries as approved_registries
}

# The rule reports what it sees in an exempt namespace; lib.exemptions
# suppresses it (reported as suppressed, with the reason).
test_registry_exempt_namespace if {
	count(images.deny_unapproved_registry) == 1 with input as _deployment("kube-system", [{"name": "dns", "image": "evil.example.com/dns:1"}])
		with data.baselines.images.approved_registries as ["registry.example.com"]
	some exemption in lib.exemptions with input as _deployment("kube-system", [])
	exemption.category == "images"
	exemption.by == "images.exempt_namespaces"
	contains(exemption.reason, "distribution")
	not exemption.refused
}

# --- DA-IMG-002 latest / untagged --------------------------------------------

test_latest_untagged_fires if {
	findings := images.deny_latest_tag with input as _image("nginx")
	findings == {{
		"msg": `container "web" uses image "nginx" without a tag (implicitly :latest) and without a digest`,
		"path": _path,
	}}
}

test_latest_tag_fires if {
	findings := images.deny_latest_tag with input as _image("registry.example.com/app:latest")
	findings == {{
		"msg": `container "web" uses image "registry.example.com/app:latest" with the tag :latest and without a digest`,
		"path": _path,
	}}
}

test_latest_port_is_not_a_tag if {
	count(images.deny_latest_tag) == 1 with input as _image("localhost:5000/app")
	count(images.deny_latest_tag) == 0 with input as _image("localhost:5000/app:2.1")
}

test_latest_versioned_tag_passes if {
	count(images.deny_latest_tag) == 0 with input as _image("nginx:1.27.2")
}

test_latest_with_digest_passes if {
	count(images.deny_latest_tag) == 0 with input as _image("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	count(images.deny_latest_tag) == 0 with input as _image("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
}

test_latest_disabled if {
	count(images.deny_latest_tag) == 0 with input as _image("nginx:latest")
		with data.baselines.images.forbid_latest as false
}

test_latest_exempt_namespace if {
	count(images.deny_latest_tag) == 1 with input as _deployment("kube-system", [{"name": "x", "image": "nginx"}])
	count({e | some e in lib.exemptions; e.category == "images"}) == 1 with input as _deployment("kube-system", [])
	count(lib.exemptions) == 0 with input as _deployment("kube-system", [])
		with data.baselines.images.exempt_namespaces as []
		with data.baselines.privileges.exempt_namespaces as []
}

test_latest_every_container_kind if {
	resource := {
		"apiVersion": "v1",
		"kind": "Pod",
		"metadata": {"name": "p", "namespace": "shop"},
		"spec": {
			"initContainers": [{"name": "init", "image": "busybox"}],
			"containers": [{"name": "ok", "image": "nginx:1.27"}, {"name": "app", "image": "app:latest"}],
			"ephemeralContainers": [{"name": "debug", "image": "alpine"}],
		},
	}
	findings := images.deny_latest_tag with input as _input(resource)
	{f.path | some f in findings} == {
		"spec.initContainers[0].image",
		"spec.containers[1].image",
		"spec.ephemeralContainers[0].image",
	}
	some f in findings
	startswith(f.msg, `init container "init"`)
	some g in findings
	startswith(g.msg, `ephemeral container "debug"`)
}

test_latest_cronjob_template if {
	resource := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "job", "namespace": "shop"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}},
	}
	findings := images.deny_latest_tag with input as _input(resource)
	{f.path | some f in findings} == {"spec.jobTemplate.spec.template.spec.containers[0].image"}
}

# The input of a resource whose identity carries its real API group.
_of_group(group, resource) := object.union(_input(resource), {"identity": {"group": group}})

test_latest_in_every_workload_kind if {
	pod := {"containers": [{"name": "app", "image": "app:latest"}]}
	cases := [
		["", {"apiVersion": "v1", "kind": "PodTemplate", "template": {"spec": pod}}, "template.spec"],
		["", {"apiVersion": "v1", "kind": "ReplicationController", "spec": {"template": {"spec": pod}}}, "spec.template.spec"],
		["apps.openshift.io", {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "spec": {"template": {"spec": pod}}}, "spec.template.spec"],
		["argoproj.io", {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": {"template": {"spec": pod}}}, "spec.template.spec"],
	]
	every case in cases {
		resource := object.union(case[1], {"metadata": {"name": "w", "namespace": "shop"}})
		findings := images.deny_latest_tag with input as _of_group(case[0], resource)
		{f.path | some f in findings} == {concat("", [case[2], ".containers[0].image"])}
	}
}

test_latest_in_a_configured_custom_resource if {
	configured := [{"group": "example.com", "kind": "WebApp", "pod_spec_path": "spec.runtime"}]
	webapp := {
		"apiVersion": "example.com/v1",
		"kind": "WebApp",
		"metadata": {"name": "w", "namespace": "shop"},
		"spec": {"runtime": {"containers": [{"name": "app", "image": "app"}]}},
	}
	findings := images.deny_latest_tag with input as _of_group("example.com", webapp) with data.driftaudit.workloads as configured
	{f.path | some f in findings} == {"spec.runtime.containers[0].image"}
	# not configured: its pod spec is nowhere the locator looks
	count(images.deny_latest_tag) == 0 with input as _of_group("example.com", webapp)
}

# --- DA-IMG-003 digest -------------------------------------------------------

test_digest_off_by_default if {
	count(images.deny_missing_digest) == 0 with input as _image("nginx:1.27")
}

test_digest_required_fires if {
	findings := images.deny_missing_digest with input as _image("nginx:1.27")
		with data.baselines.images.require_digest as true
	findings == {{"msg": `container "web" uses image "nginx:1.27", which is not pinned by a sha256 digest`, "path": _path}}
}

test_digest_required_passes if {
	count(images.deny_missing_digest) == 0 with input as _image("nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		with data.baselines.images.require_digest as true
}

test_digest_malformed_fires if {
	count(images.deny_missing_digest) == 1 with input as _image("nginx@sha256:abc")
		with data.baselines.images.require_digest as true
}

# --- DA-IMG-004 approved images ----------------------------------------------

test_approved_images_not_enforced_by_default if {
	count(images.deny_unapproved_image) == 0 with input as _image("anything.example.com/x:1")
}

test_approved_images_normalised if {
	approved_images := ["nginx", "ghcr.io/acme/api:ignored-tag"]
	count(images.deny_unapproved_image) == 0 with input as _image("docker.io/library/nginx:1.27") with data.baselines.images.approved_images as approved_images
	count(images.deny_unapproved_image) == 0 with input as _image("ghcr.io/acme/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		with data.baselines.images.approved_images as approved_images
}

test_approved_images_fires if {
	findings := images.deny_unapproved_image with input as _image("bitnami/nginx:1.27")
		with data.baselines.images.approved_images as ["nginx"]
	findings == {{
		"msg": `container "web" uses image "bitnami/nginx:1.27" (repository docker.io/bitnami/nginx), which is not in images.approved_images`,
		"path": _path,
	}}
}

test_approved_images_exact_repository if {
	# ghcr.io/acme does not approve ghcr.io/acme/api: entries are repositories, not prefixes
	count(images.deny_unapproved_image) == 1 with input as _image("ghcr.io/acme/api:1")
		with data.baselines.images.approved_images as ["ghcr.io/acme"]
}

# --- totality on unrelated or malformed shapes -------------------------------

_all_findings := images.deny_unapproved_registry | images.deny_latest_tag | images.deny_missing_digest | images.deny_unapproved_image

_strict := object.union(data.baselines, {"images": {
	"approved_registries": ["registry.example.com"],
	"approved_images": ["registry.example.com/app"],
	"require_digest": true,
}})

test_unrelated_shapes_yield_nothing if {
	shapes := [
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}, "data": {"k": "v"}},
		{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "shop"}, "spec": {"ports": [{"port": 80}]}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": "oops"},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": {"name": "x"}}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": [null, "x", {"name": "noimage"}, {"name": "num", "image": 5}, {"name": "empty", "image": ""}]}},
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"}, "spec": {"template": null}},
	]
	every shape in shapes {
		count(_all_findings) == 0 with input as _input(shape) with data.baselines as _strict
	}
}

test_input_without_identity if {
	findings := images.deny_latest_tag with input as {"resource": {"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "nginx"}]}}}
	count(findings) == 1
}

test_exempt_namespace_reports_every_rule if {
	kube_system := _deployment("kube-system", [{"name": "dns", "image": "evil.example.com/dns"}])
	count(_all_findings) == 4 with input as kube_system with data.baselines as _strict
	count(_all_findings) == 4 with input as kube_system with data.baselines as object.union(_strict, {"images": {"exempt_namespaces": []}})
}
