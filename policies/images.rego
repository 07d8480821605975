# METADATA
# title: Container images
# description: Where workload images come from and whether they are pinned.
# custom:
#   category: images
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   sources: [kubernetes]
package driftaudit.images

# Settings come from data.baselines.images (baselines/default.yaml). Each one
# falls back to the documented default when the key is absent or has the wrong
# type, so the rules behave the same with or without the default baseline file.

default _settings := {}

_settings := s if {
	s := data.baselines.images
	is_object(s)
}

_list(key, fallback) := v if {
	v := object.get(_settings, key, fallback)
	is_array(v)
} else := fallback

_bool(key, fallback) := v if {
	v := object.get(_settings, key, fallback)
	is_boolean(v)
} else := fallback

_approved_registries := {_normalise_location(entry) |
	some entry in _list("approved_registries", [])
	is_string(entry)
	entry != ""
}

_approved_images := {ref.repository |
	some entry in _list("approved_images", [])
	is_string(entry)
	entry != ""
	ref := _image_ref(entry)
}

_exempt_namespaces := {ns | some ns in _list("exempt_namespaces", ["kube-system"]); is_string(ns)}

_namespace := ns if {
	ns := input.identity.namespace
	is_string(ns)
	ns != ""
} else := ns if {
	ns := input.resource.metadata.namespace
	is_string(ns)
} else := ""

_exempt if _namespace in _exempt_namespaces

# Pod specs of the resource under evaluation: a Pod's own spec, a controller's
# pod template, or a CronJob's job template. Found by shape, so a kind routed
# here by a user's metadata (ReplicationController, Argo Rollout, ...) works too.
_pod_specs contains {"path": "spec", "spec": s} if {
	s := input.resource.spec
	_is_pod_spec(s)
}

_pod_specs contains {"path": "spec.template.spec", "spec": s} if {
	s := input.resource.spec.template.spec
	_is_pod_spec(s)
}

_pod_specs contains {"path": "spec.jobTemplate.spec.template.spec", "spec": s} if {
	s := input.resource.spec.jobTemplate.spec.template.spec
	_is_pod_spec(s)
}

_is_pod_spec(s) if {
	is_object(s)
	is_array(s.containers)
}

_container_fields := {
	"containers": "container",
	"initContainers": "init container",
	"ephemeralContainers": "ephemeral container",
}

# Every container with a usable image reference, with the path of its entry.
_images contains img if {
	some pod in _pod_specs
	some field, label in _container_fields
	containers := pod.spec[field]
	is_array(containers)
	some i, container in containers
	is_object(container)
	image := container.image
	is_string(image)
	image != ""
	img := {
		"what": sprintf(`%s "%s"`, [label, _container_name(container, i)]),
		"image": image,
		"ref": _image_ref(image),
		"path": sprintf("%s.%s[%d].image", [pod.path, field, i]),
	}
}

_container_name(container, _) := container.name if is_string(container.name)

else := "(unnamed)"

# An image reference split the way Docker normalises it:
#   nginx                        -> docker.io/library/nginx, tag ""
#   bitnami/redis:7              -> docker.io/bitnami/redis, tag "7"
#   localhost:5000/app@sha256:.. -> localhost:5000/app, digest "sha256:.."
# The first path component is a registry host only when it contains "." or ":"
# or is "localhost".
_image_ref(image) := ref if {
	name_tag := _before(image, "@")
	digest := _after(image, "@")
	parts := split(name_tag, "/")
	last := parts[count(parts) - 1]
	path := array.concat(array.slice(parts, 0, count(parts) - 1), [_before(last, ":")])
	location := _location(path)
	ref := {
		"registry": location[0],
		"repository": concat("/", location),
		"tag": _after(last, ":"),
		"digest": digest,
	}
}

_location(path) := _repository_parts(_normalise_host(path[0]), array.slice(path, 1, count(path))) if {
	count(path) > 1
	_is_registry_host(path[0])
} else := _repository_parts("docker.io", path)

# Docker Hub's official images live under "library/".
_repository_parts(host, rest) := ["docker.io", "library", rest[0]] if {
	host == "docker.io"
	count(rest) == 1
} else := array.concat([host], rest)

_is_registry_host(s) if contains(s, ".")

_is_registry_host(s) if contains(s, ":")

_is_registry_host(s) if s == "localhost"

_normalise_host(host) := "docker.io" if lower(host) == "index.docker.io"

else := lower(host)

# "ghcr.io/acme/" or "https://GHCR.io/acme" -> "ghcr.io/acme"
_normalise_location(entry) := concat("/", array.concat([_normalise_host(parts[0])], array.slice(parts, 1, count(parts)))) if {
	trimmed := trim_suffix(trim_prefix(trim_prefix(entry, "https://"), "http://"), "/")
	parts := split(trimmed, "/")
}

_before(s, sep) := substring(s, 0, i) if {
	i := indexof(s, sep)
	i >= 0
} else := s

_after(s, sep) := substring(s, i + count(sep), -1) if {
	i := indexof(s, sep)
	i >= 0
} else := ""

_registry_approved(ref) if ref.repository in _approved_registries

_registry_approved(ref) if {
	some entry in _approved_registries
	startswith(ref.repository, concat("", [entry, "/"]))
}

# METADATA
# title: Image from an unapproved registry
# description: >-
#   The image is pulled from a registry (or registry path) that is not listed in
#   images.approved_registries. Images without a registry host come from Docker Hub
#   (docker.io). The rule does nothing while the list is empty.
# custom:
#   id: DA-IMG-001
#   severity: high
#   category: images
#   remediation: >-
#     Mirror the image into an approved registry and reference it from there, or add
#     the registry to images.approved_registries in your baseline.
deny_unapproved_registry contains finding if {
	not _exempt
	count(_approved_registries) > 0
	some img in _images
	not _registry_approved(img.ref)
	finding := {
		"msg": sprintf(
			`%s uses image "%s" from registry "%s", which is not in images.approved_registries`,
			[img.what, img.image, img.ref.registry],
		),
		"path": img.path,
	}
}

# METADATA
# title: Image uses the latest tag or no tag
# description: >-
#   The image has no tag or the tag "latest" and no digest, so what runs changes
#   whenever the tag is pushed again and the declared state no longer says which
#   image runs. Controlled by images.forbid_latest.
# custom:
#   id: DA-IMG-002
#   severity: medium
#   category: images
#   remediation: Reference a fixed version tag (e.g. nginx:1.27.2) or pin the image by digest.
deny_latest_tag contains finding if {
	not _exempt
	_bool("forbid_latest", true) == true
	some img in _images
	img.ref.digest == ""
	img.ref.tag in {"", "latest"}
	finding := {
		"msg": sprintf(`%s uses image "%s" %s`, [img.what, img.image, _latest_reason(img.ref.tag)]),
		"path": img.path,
	}
}

_latest_reason("") := "without a tag (implicitly :latest) and without a digest"

_latest_reason("latest") := "with the tag :latest and without a digest"

# METADATA
# title: Image not pinned by digest
# description: >-
#   The image is referenced by tag only. Tags can be moved; a sha256 digest names
#   exactly one image. Enabled by images.require_digest (off by default).
# custom:
#   id: DA-IMG-003
#   severity: medium
#   category: images
#   remediation: Append the image digest, e.g. registry.example.com/app:1.4.2@sha256:<digest>.
deny_missing_digest contains finding if {
	not _exempt
	_bool("require_digest", false) == true
	some img in _images
	not regex.match(`^sha256:[0-9a-f]{64}$`, img.ref.digest)
	finding := {
		"msg": sprintf(`%s uses image "%s", which is not pinned by a sha256 digest`, [img.what, img.image]),
		"path": img.path,
	}
}

# METADATA
# title: Image repository not approved
# description: >-
#   The image repository is not in images.approved_images. Entries are compared as
#   normalised repositories (nginx means docker.io/library/nginx); tags and digests
#   in entries are ignored. The rule does nothing while the list is empty.
# custom:
#   id: DA-IMG-004
#   severity: high
#   category: images
#   remediation: Use an approved image, or add the repository to images.approved_images in your baseline.
deny_unapproved_image contains finding if {
	not _exempt
	count(_approved_images) > 0
	some img in _images
	not img.ref.repository in _approved_images
	finding := {
		"msg": sprintf(
			`%s uses image "%s" (repository %s), which is not in images.approved_images`,
			[img.what, img.image, img.ref.repository],
		),
		"path": img.path,
	}
}
