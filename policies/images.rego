# METADATA
# title: Container images
# description: Where workload images come from and whether they are pinned.
# custom:
#   category: images
#   kinds: [workloads]
#   sources: [kubernetes]
package driftaudit.images

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# Settings are read from data.baselines.images (defaults: baselines/default.yaml).

_approved_registries := {_normalise_location(entry) |
	some entry in data.baselines.images.approved_registries
	entry != ""
}

_approved_images := {ref.repository |
	some entry in data.baselines.images.approved_images
	entry != ""
	ref := _image_ref(entry)
}

# Namespace exemptions (exempt_namespaces) are decided by lib.exemptions for
# every rule of the family: the rules here report everything they see.

# Every container with a usable image reference, with the path of its entry.
_images contains img if {
	some c in data.driftaudit.lib.containers
	image := c.container.image
	is_string(image)
	image != ""
	img := {
		"what": c.what,
		"image": image,
		"ref": _image_ref(image),
		"path": sprintf("%s.image", [c.path]),
	}
}

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
#   controls:
#     - CIS-K8s-1.10:5.5.1
#     - NSA-CISA-1.2:Kubernetes Pod security
#   severity: high
#   category: images
#   remediation: >-
#     Mirror the image into an approved registry and reference it from there, or add
#     the registry to images.approved_registries in your baseline.
deny_unapproved_registry contains finding if {
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
#   controls:
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - ISO27001-2022:A.8.32
#     - SOC2-2017:CC8.1
#   severity: medium
#   category: images
#   remediation: Reference a fixed version tag (e.g. nginx:1.27.2) or pin the image by digest.
deny_latest_tag contains finding if {
	data.baselines.images.forbid_latest == true
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
#   controls:
#     - NSA-CISA-1.2:Kubernetes Pod security
#     - ISO27001-2022:A.8.32
#     - SOC2-2017:CC8.1
#   severity: medium
#   category: images
#   remediation: Append the image digest, e.g. registry.example.com/app:1.4.2@sha256:<digest>.
deny_missing_digest contains finding if {
	data.baselines.images.require_digest == true
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
#   controls:
#     - CIS-K8s-1.10:5.5.1
#     - NSA-CISA-1.2:Kubernetes Pod security
#   severity: high
#   category: images
#   remediation: Use an approved image, or add the repository to images.approved_images in your baseline.
deny_unapproved_image contains finding if {
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
