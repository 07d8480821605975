# METADATA
# title: Certificates
# description: >-
#   Validity of the X.509 certificates found in any resource (TLS Secrets, Traefik
#   certificates, TLS endpoints), read from input.facts.certificates.
# custom:
#   category: certificates
#   kinds: ["*"]
#   facts: [certificates]
package driftaudit.certificates

# Thresholds are read from data.baselines.certificates (defaults:
# baselines/default.yaml). Dates come from the facts (computed against
# input.now), never from the wall clock.

_fail_days := data.baselines.certificates.fail_days

_warn_days := data.baselines.certificates.warn_days

# Parsed certificates: every fact without an error.
_certificates contains cert if {
	facts := input.facts.certificates
	is_array(facts)
	some cert in facts
	is_object(cert)
	not cert.error
	is_number(cert.days_remaining)
}

# "certificate CN=shop.example.com (Secret shop/shop-tls key tls.crt)", or
# "chain certificate #1 ..." for certificates after the leaf.
_describe(cert) := sprintf("%s %s (%s)", [_position(cert), _text(cert, "subject"), _text(cert, "source")])

_position(cert) := sprintf("chain certificate #%v", [cert.position]) if {
	is_number(cert.position)
	cert.position > 0
} else := "certificate"

# A finding points at the field the certificate came from (`data["tls.crt"]`,
# `certFile`) when the fact names it, so locations give that line.
_finding(cert, msg) := {"msg": msg, "path": cert.path} if {
	is_string(cert.path)
	cert.path != ""
} else := {"msg": msg}

_days_text(n) := "1 day" if n == 1

else := sprintf("%v days", [n])

_text(cert, key) := cert[key] if {
	is_string(cert[key])
	cert[key] != ""
} else := sprintf("(no %s)", [key])

# METADATA
# title: Certificate expired
# description: The certificate's notAfter date is at or before the scan time.
# custom:
#   id: DA-CERT-001
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: critical
#   category: certificates
#   remediation: Renew the certificate and deploy the new one (check that its issuer, e.g. cert-manager, is renewing it).
deny_expired contains finding if {
	some cert in _certificates
	cert.expired == true
	finding := _finding(cert, sprintf(
		"%s expired on %s (%s ago)",
		[_describe(cert), _text(cert, "not_after"), _days_text(abs(cert.days_remaining))],
	))
}

# METADATA
# title: Certificate expires soon
# description: >-
#   The certificate expires within certificates.fail_days days (days_remaining at or
#   below the threshold).
# custom:
#   id: DA-CERT-002
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   category: certificates
#   remediation: Renew the certificate now; automated renewal should have replaced it well before this point.
deny_expiring_soon contains finding if {
	some cert in _certificates
	cert.expired == false
	cert.days_remaining <= _fail_days
	finding := _finding(cert, sprintf(
		"%s expires on %s, in %s (certificates.fail_days is %v)",
		[_describe(cert), _text(cert, "not_after"), _days_text(cert.days_remaining), _fail_days],
	))
}

# METADATA
# title: Certificate expiry approaching
# description: >-
#   The certificate expires within certificates.warn_days days but after
#   certificates.fail_days days.
# custom:
#   id: DA-CERT-003
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: medium
#   category: certificates
#   remediation: Plan the renewal, or check that automated renewal is configured for this certificate.
warn_expiring contains finding if {
	some cert in _certificates
	cert.expired == false
	cert.days_remaining > _fail_days
	cert.days_remaining <= _warn_days
	finding := _finding(cert, sprintf(
		"%s expires on %s, in %s (certificates.warn_days is %v)",
		[_describe(cert), _text(cert, "not_after"), _days_text(cert.days_remaining), _warn_days],
	))
}

# METADATA
# title: Certificate not yet valid
# description: >-
#   The certificate's notBefore date is after the scan time; clients reject it
#   until then. Often a clock problem on the issuer or a certificate deployed early.
# custom:
#   id: DA-CERT-004
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   category: certificates
#   remediation: Deploy a certificate that is valid now, or check the issuer's clock.
deny_not_yet_valid contains finding if {
	some cert in _certificates
	cert.not_yet_valid == true
	finding := _finding(cert, sprintf(
		"%s is not valid before %s",
		[_describe(cert), _text(cert, "not_before")],
	))
}

# METADATA
# title: Certificate cannot be parsed
# description: >-
#   A value expected to hold a PEM or DER certificate could not be parsed, so its
#   validity cannot be checked.
# custom:
#   id: DA-CERT-005
#   controls:
#     - ISO27001-2022:A.8.24
#   severity: medium
#   category: certificates
#   remediation: Replace the value with a valid PEM-encoded certificate chain.
deny_unparseable contains finding if {
	facts := input.facts.certificates
	is_array(facts)
	some cert in facts
	is_object(cert)
	cert.error
	finding := _finding(cert, sprintf(
		"certificate in %s could not be parsed: %s",
		[_text(cert, "source"), _error_text(cert.error)],
	))
}

_error_text(e) := e if is_string(e)

else := "unknown error"

# The subject Traefik gives the certificate it generates when no configured
# certificate matches the requested name.
_traefik_default_subject := "CN=TRAEFIK DEFAULT CERT"

# Leaf certificates a TLS endpoint served for a requested name (facts with `sni`).
_served_leaves contains cert if {
	some cert in _certificates
	cert.position == 0
	is_string(cert.sni)
	cert.sni != ""
}

# Whether a SAN covers a name: equal (case-insensitive), or a wildcard
# `*.example.com` standing for exactly one label.
_san_covers(san, name) if lower(san) == lower(name)

_san_covers(san, name) if {
	startswith(san, "*.")
	labels := split(lower(name), ".")
	count(labels) > 2
	concat(".", array.slice(labels, 1, count(labels))) == lower(trim_prefix(san, "*."))
}

_sans(cert) := [s | some s in cert.sans; is_string(s)] if is_array(cert.sans)

else := []

# METADATA
# title: Certificate does not cover the requested name
# description: >-
#   A TLS endpoint answered a request for a name (SNI) with a certificate whose
#   subject alternative names do not include it: clients reject the connection.
# custom:
#   id: DA-CERT-006
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   category: certificates
#   remediation: Serve a certificate whose SANs include the name (add it to the certificate or configure the matching certificate for this host).
deny_san_mismatch contains finding if {
	some cert in _served_leaves
	cert.subject != _traefik_default_subject
	not _covered(cert)
	finding := _finding(cert, sprintf(
		"%s was served for %s, which its names [%s] do not cover",
		[_describe(cert), cert.sni, concat(", ", _sans(cert))],
	))
}

_covered(cert) if {
	some san in _sans(cert)
	_san_covers(san, cert.sni)
}

# METADATA
# title: Traefik default certificate served
# description: >-
#   A TLS endpoint answered with Traefik's self-signed default certificate: no
#   configured certificate matches the requested name, so every client fails
#   verification.
# custom:
#   id: DA-CERT-007
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   category: certificates
#   remediation: Configure a certificate for this host (tls.certificates, a certResolver or a TLSStore default certificate).
deny_default_certificate contains finding if {
	some cert in _certificates
	cert.position == 0
	cert.subject == _traefik_default_subject
	finding := _finding(cert, sprintf(
		"Traefik's self-signed default certificate was served (%s)%s",
		[_text(cert, "source"), _sni_text(cert)],
	))
}

_sni_text(cert) := sprintf(" for %s", [cert.sni]) if {
	is_string(cert.sni)
	cert.sni != ""
} else := ""

# --- cert-manager Certificate status (input.facts.status) --------------------

_is_cert_manager_certificate if {
	data.driftaudit.lib.kind == "Certificate"
	data.driftaudit.lib.group == "cert-manager.io"
	input.state == "live"
}

_ready_detail(ready) := sprintf(" (%s: %s)", [ready.reason, ready.message]) if {
	is_string(ready.reason)
	is_string(ready.message)
} else := sprintf(" (%s)", [ready.reason]) if {
	is_string(ready.reason)
} else := ""

_failure_text(status) := sprintf("; %v failed issuance attempts, the last at %s", [status.failed_issuance_attempts, status.last_failure_time]) if {
	is_number(status.failed_issuance_attempts)
	is_string(status.last_failure_time)
} else := sprintf("; last failure at %s", [status.last_failure_time]) if {
	is_string(status.last_failure_time)
} else := ""

# METADATA
# title: cert-manager certificate not ready
# description: >-
#   A live cert-manager Certificate's Ready condition is not True (or it has a
#   status without a Ready condition): cert-manager could not issue or renew
#   it, and the Secret may hold an old certificate or none.
# custom:
#   id: DA-CERT-008
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   category: certificates
#   kinds: [Certificate]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Read the Certificate's events and its CertificateRequest/Order (kubectl describe
#     certificate), fix the issuer or the challenge, then let cert-manager retry
#     (cmctl renew).
deny_cert_manager_not_ready contains finding if {
	_is_cert_manager_certificate
	status := input.facts.status
	status.has_status == true
	ready := status.ready
	is_object(ready)
	ready.status != "True"
	finding := {
		"msg": sprintf(
			`cert-manager Certificate "%s" is not ready: Ready is %v%s since %v%s`,
			[data.driftaudit.lib.name, ready.status, _ready_detail(ready), ready.last_transition_time, _failure_text(status)],
		),
		"path": "status.conditions",
	}
}

deny_cert_manager_not_ready contains finding if {
	_is_cert_manager_certificate
	status := input.facts.status
	status.has_status == true
	status.ready == null
	finding := {
		"msg": sprintf(`cert-manager Certificate "%s" has no Ready condition in its status%s`, [data.driftaudit.lib.name, _failure_text(status)]),
		"path": "status",
	}
}

# METADATA
# title: cert-manager renewal overdue
# description: >-
#   A live cert-manager Certificate's status.renewalTime passed more than
#   certificates.renewal_grace_hours before the scan. A renewal moves
#   renewalTime (and notAfter) forward, so one still in the past means the
#   certificate in use was not replaced.
# custom:
#   id: DA-CERT-009
#   controls:
#     - ISO27001-2022:A.8.24
#     - SOC2-2017:CC6.7
#   severity: high
#   category: certificates
#   kinds: [Certificate]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Find out why cert-manager did not renew (kubectl describe certificate, the
#     CertificateRequest and the issuer's logs), fix it and trigger a renewal
#     (cmctl renew) before notAfter.
deny_cert_manager_renewal_overdue contains finding if {
	_is_cert_manager_certificate
	status := input.facts.status
	hours := status.renewal_overdue_hours
	is_number(hours)
	finding := {
		"msg": sprintf(
			`cert-manager Certificate "%s" was due for renewal at %s, %v hours before the scan (grace %v hours); notAfter is still %v%s`,
			[data.driftaudit.lib.name, status.renewal_time, hours, status.renewal_grace_hours, status.not_after, _failure_text(status)],
		),
		"path": "status.renewalTime",
	}
}
