package driftaudit.certificates_test

import data.driftaudit.certificates

_input(facts) := {
	"contract_version": 1,
	"state": "live",
	"identity": {"source": "kubernetes", "apiVersion": "v1", "group": "", "kind": "Secret", "namespace": "shop", "name": "shop-tls"},
	"resource": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop-tls", "namespace": "shop"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "sha256:00", "tls.key": "sha256:11"}},
	"counterpart": null,
	"drift": null,
	"facts": {"certificates": facts},
	"now": "2026-11-21T12:00:00Z",
}

# A parsed leaf certificate with the given days_remaining, as the collector derives it.
_cert(days, not_after) := {
	"source": "Secret shop/shop-tls key tls.crt",
	"position": 0,
	"subject": "CN=shop.example.com",
	"issuer": "CN=Example CA",
	"sans": ["shop.example.com"],
	"serial": "0a1b",
	"fingerprint_sha256": "00ff",
	"not_before": "2026-01-01T00:00:00Z",
	"not_after": not_after,
	"days_remaining": days,
	"expired": days < 0,
	"not_yet_valid": false,
	"self_signed": false,
}

_all_findings := (((((certificates.deny_expired | certificates.deny_expiring_soon) | certificates.warn_expiring) | certificates.deny_not_yet_valid) | certificates.deny_unparseable) | certificates.deny_san_mismatch) | certificates.deny_default_certificate

# --- DA-CERT-001 expired -----------------------------------------------------

test_expired_fires if {
	findings := certificates.deny_expired with input as _input([_cert(-3, "2026-11-18T00:00:00Z")])
	findings == {{"msg": "certificate CN=shop.example.com (Secret shop/shop-tls key tls.crt) expired on 2026-11-18T00:00:00Z (3 days ago)"}}
}

test_expired_only_expired_rule if {
	findings := _all_findings with input as _input([_cert(-3, "2026-11-18T00:00:00Z")])
	count(findings) == 1
}

test_expired_today if {
	# not_after <= now with less than a day gone: days_remaining is 0 and expired is true
	cert := object.union(_cert(0, "2026-11-21T11:00:00Z"), {"expired": true})
	count(certificates.deny_expired) == 1 with input as _input([cert])
	count(certificates.deny_expiring_soon) == 0 with input as _input([cert])
}

test_valid_not_expired if {
	count(certificates.deny_expired) == 0 with input as _input([_cert(200, "2027-06-09T00:00:00Z")])
}

test_expired_chain_certificate if {
	intermediate := object.union(_cert(-1, "2026-11-20T00:00:00Z"), {"position": 1, "subject": "CN=Example Intermediate"})
	findings := certificates.deny_expired with input as _input([_cert(100, "2027-03-01T00:00:00Z"), intermediate])
	some f in findings
	startswith(f.msg, "chain certificate #1 CN=Example Intermediate")
	count(findings) == 1
}

# --- DA-CERT-002 / DA-CERT-003 thresholds ------------------------------------

test_expiring_within_fail_days if {
	findings := certificates.deny_expiring_soon with input as _input([_cert(5, "2026-11-26T12:00:00Z")])
	findings == {{"msg": "certificate CN=shop.example.com (Secret shop/shop-tls key tls.crt) expires on 2026-11-26T12:00:00Z, in 5 days (certificates.fail_days is 14)"}}
	count(certificates.warn_expiring) == 0 with input as _input([_cert(5, "2026-11-26T12:00:00Z")])
}

test_fail_days_boundary if {
	count(certificates.deny_expiring_soon) == 1 with input as _input([_cert(14, "2026-12-05T12:00:00Z")])
	count(certificates.deny_expiring_soon) == 0 with input as _input([_cert(15, "2026-12-06T12:00:00Z")])
	count(certificates.deny_expiring_soon) == 1 with input as _input([_cert(0, "2026-11-21T18:00:00Z")])
}

test_warn_window if {
	findings := certificates.warn_expiring with input as _input([_cert(20, "2026-12-11T12:00:00Z")])
	findings == {{"msg": "certificate CN=shop.example.com (Secret shop/shop-tls key tls.crt) expires on 2026-12-11T12:00:00Z, in 20 days (certificates.warn_days is 30)"}}
	count(certificates.deny_expiring_soon) == 0 with input as _input([_cert(20, "2026-12-11T12:00:00Z")])
}

test_warn_days_boundary if {
	count(certificates.warn_expiring) == 1 with input as _input([_cert(30, "2026-12-21T12:00:00Z")])
	count(certificates.warn_expiring) == 0 with input as _input([_cert(31, "2026-12-22T12:00:00Z")])
	count(certificates.warn_expiring) == 0 with input as _input([_cert(14, "2026-12-05T12:00:00Z")])
	count(certificates.warn_expiring) == 1 with input as _input([_cert(15, "2026-12-06T12:00:00Z")])
}

test_thresholds_from_baselines if {
	count(certificates.deny_expiring_soon) == 0 with input as _input([_cert(10, "2026-12-01T12:00:00Z")])
		with data.baselines.certificates.fail_days as 7
		with data.baselines.certificates.warn_days as 60
	count(certificates.warn_expiring) == 1 with input as _input([_cert(10, "2026-12-01T12:00:00Z")])
		with data.baselines.certificates.fail_days as 7
		with data.baselines.certificates.warn_days as 60
	count(certificates.warn_expiring) == 1 with input as _input([_cert(45, "2027-01-05T12:00:00Z")])
		with data.baselines.certificates.fail_days as 7
		with data.baselines.certificates.warn_days as 60
}

# The defaults (fail_days 14, warn_days 30) come from baselines/default.yaml,
# loaded as data for these tests as for a scan.
test_thresholds_default if {
	count(certificates.deny_expiring_soon) == 1 with input as _input([_cert(14, "2026-12-05T12:00:00Z")])
	count(certificates.warn_expiring) == 1 with input as _input([_cert(30, "2026-12-21T12:00:00Z")])
	count(certificates.warn_expiring) == 0 with input as _input([_cert(31, "2026-12-22T12:00:00Z")])
}

test_long_lived_certificate_passes if {
	count(_all_findings) == 0 with input as _input([_cert(365, "2027-11-21T12:00:00Z")])
}

# --- DA-CERT-004 not yet valid -----------------------------------------------

test_not_yet_valid_fires if {
	cert := object.union(_cert(400, "2027-12-26T00:00:00Z"), {"not_before": "2026-12-01T00:00:00Z", "not_yet_valid": true})
	findings := certificates.deny_not_yet_valid with input as _input([cert])
	findings == {{"msg": "certificate CN=shop.example.com (Secret shop/shop-tls key tls.crt) is not valid before 2026-12-01T00:00:00Z"}}
}

test_valid_now_passes if {
	count(certificates.deny_not_yet_valid) == 0 with input as _input([_cert(100, "2027-03-01T00:00:00Z")])
}

# --- DA-CERT-005 unparseable -------------------------------------------------

test_unparseable_fires if {
	findings := certificates.deny_unparseable with input as _input([{"source": "Secret shop/shop-tls key tls.crt", "error": "no PEM certificate found"}])
	findings == {{"msg": "certificate in Secret shop/shop-tls key tls.crt could not be parsed: no PEM certificate found"}}
}

test_unparseable_does_not_trigger_validity_rules if {
	findings := _all_findings with input as _input([{"source": "x", "error": "bad"}])
	count(findings) == 1
}

test_parsed_certificate_is_not_unparseable if {
	count(certificates.deny_unparseable) == 0 with input as _input([_cert(100, "2027-03-01T00:00:00Z")])
}

test_mixed_facts if {
	facts := [_cert(-1, "2026-11-20T00:00:00Z"), _cert(3, "2026-11-24T12:00:00Z"), {"source": "y", "error": "truncated"}]
	count(_all_findings) == 3 with input as _input(facts)
}

# --- totality ----------------------------------------------------------------

test_no_facts_yield_nothing if {
	count(_all_findings) == 0 with input as {"resource": {"kind": "ConfigMap"}}
	count(_all_findings) == 0 with input as {"resource": {"kind": "ConfigMap"}, "facts": {}}
	count(_all_findings) == 0 with input as {"resource": {"kind": "ConfigMap"}, "facts": {"certificates": []}}
	count(_all_findings) == 0 with input as {"resource": {"kind": "ConfigMap"}, "facts": {"certificates": "x"}}
	count(_all_findings) == 0 with input as {"resource": {"kind": "ConfigMap"}, "facts": null}
	count(_all_findings) == 0 with input as {"facts": {"certificates": [null, 1, {"source": "x"}, {"days_remaining": "3", "expired": false}]}}
}

test_sparse_fact_does_not_error if {
	# a fact with only the contract's numeric fields still produces a readable message
	findings := certificates.deny_expiring_soon with input as {"facts": {"certificates": [{"days_remaining": 1, "expired": false}]}}
	findings == {{"msg": "certificate (no subject) ((no source)) expires on (no not_after), in 1 day (certificates.fail_days is 14)"}}
}

# --- locations ---------------------------------------------------------------

test_findings_carry_the_fact_path if {
	cert := object.union(_cert(-3, "2026-11-18T00:00:00Z"), {"path": "data[\"tls.crt\"]"})
	some f in certificates.deny_expired with input as _input([cert])
	f.path == "data[\"tls.crt\"]"
}

# --- DA-CERT-006 SAN mismatch / DA-CERT-007 default certificate ---------------

_served(sni, subject, sans) := object.union(_cert(200, "2027-06-09T00:00:00Z"), {
	"source": "TLS endpoint 127.0.0.1:8443 (SNI x)",
	"sni": sni, "subject": subject, "issuer": subject, "sans": sans, "self_signed": true,
})

test_san_mismatch_fires if {
	findings := certificates.deny_san_mismatch with input as _input([_served("api.example.test", "CN=app.example.test", ["app.example.test"])])
	findings == {{"msg": "certificate CN=app.example.test (TLS endpoint 127.0.0.1:8443 (SNI x)) was served for api.example.test, which its names [app.example.test] do not cover"}}
}

test_san_match_passes if {
	count(certificates.deny_san_mismatch) == 0 with input as _input([_served("app.example.test", "CN=app.example.test", ["app.example.test"])])
	count(certificates.deny_san_mismatch) == 0 with input as _input([_served("App.Example.Test", "CN=app.example.test", ["app.example.test"])])
}

test_wildcard_covers_one_label_only if {
	count(certificates.deny_san_mismatch) == 0 with input as _input([_served("a.example.test", "CN=w", ["*.example.test"])])
	count(certificates.deny_san_mismatch) == 1 with input as _input([_served("a.b.example.test", "CN=w", ["*.example.test"])])
	count(certificates.deny_san_mismatch) == 1 with input as _input([_served("example.test", "CN=w", ["*.example.test"])])
}

test_without_sni_no_mismatch if {
	cert := object.remove(_served("x", "CN=app.example.test", ["app.example.test"]), ["sni"])
	count(certificates.deny_san_mismatch) == 0 with input as _input([cert])
}

test_default_certificate_fires_once if {
	cert := _served("unknown.example.test", "CN=TRAEFIK DEFAULT CERT", ["0a.1b.traefik.default"])
	findings := _all_findings with input as _input([cert])
	findings == {{"msg": "Traefik's self-signed default certificate was served (TLS endpoint 127.0.0.1:8443 (SNI x)) for unknown.example.test"}}
}

test_chain_certificates_are_not_leaves if {
	cert := object.union(_served("api.example.test", "CN=Example CA", []), {"position": 1})
	count(certificates.deny_san_mismatch) == 0 with input as _input([cert])
}

# --- DA-CERT-008 / DA-CERT-009: cert-manager Certificate status ----------------

_cm_input(status_facts) := {
	"contract_version": 1,
	"state": "live",
	"identity": {"source": "kubernetes", "apiVersion": "cert-manager.io/v1", "group": "cert-manager.io", "kind": "Certificate", "namespace": "shop", "name": "shop-tls"},
	"resource": {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "shop-tls", "namespace": "shop"}, "spec": {"secretName": "shop-tls"}},
	"counterpart": null,
	"drift": null,
	"facts": {"status": status_facts},
	"now": "2026-11-21T12:00:00Z",
}

_cm_status(overrides) := object.union(
	{
		"ready": {"status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired", "last_transition_time": "2026-09-01T00:00:00Z"},
		"ready_since_hours": 1956,
		"not_after": "2026-12-01T00:00:00Z",
		"renewal_time": "2026-11-01T00:00:00Z",
		"renewal_overdue_hours": null,
		"renewal_grace_hours": 24,
		"last_failure_time": null,
		"failed_issuance_attempts": null,
		"has_status": true,
		"secret_read": false,
		"invalid": [],
	},
	overrides,
)

test_cert_manager_ready_is_clean if {
	count(certificates.deny_cert_manager_not_ready) == 0 with input as _cm_input(_cm_status({}))
	count(certificates.deny_cert_manager_renewal_overdue) == 0 with input as _cm_input(_cm_status({}))
}

test_cert_manager_not_ready_fires_with_reason_and_failures if {
	status := _cm_status({
		"ready": {"status": "False", "reason": "Failed", "message": "The certificate request has failed to complete and will be retried", "last_transition_time": "2026-11-20T08:00:00Z"},
		"last_failure_time": "2026-11-20T08:00:00Z",
		"failed_issuance_attempts": 3,
	})
	findings := certificates.deny_cert_manager_not_ready with input as _cm_input(status)
	findings == {{
		"msg": `cert-manager Certificate "shop-tls" is not ready: Ready is False (Failed: The certificate request has failed to complete and will be retried) since 2026-11-20T08:00:00Z; 3 failed issuance attempts, the last at 2026-11-20T08:00:00Z`,
		"path": "status.conditions",
	}}
}

test_cert_manager_without_ready_condition_fires if {
	findings := certificates.deny_cert_manager_not_ready with input as _cm_input(_cm_status({"ready": null}))
	count(findings) == 1
	# No status at all (a live object the controller never saw): not judged here.
	count(certificates.deny_cert_manager_not_ready) == 0 with input as _cm_input(_cm_status({"ready": null, "has_status": false}))
}

test_cert_manager_declared_side_is_not_judged if {
	inp := object.union(_cm_input(_cm_status({"ready": null})), {"state": "declared"})
	count(certificates.deny_cert_manager_not_ready) == 0 with input as inp
}

test_cert_manager_renewal_overdue_fires if {
	status := _cm_status({"renewal_time": "2026-11-18T00:00:00Z", "renewal_overdue_hours": 84})
	findings := certificates.deny_cert_manager_renewal_overdue with input as _cm_input(status)
	findings == {{
		"msg": `cert-manager Certificate "shop-tls" was due for renewal at 2026-11-18T00:00:00Z, 84 hours before the scan (grace 24 hours); notAfter is still 2026-12-01T00:00:00Z`,
		"path": "status.renewalTime",
	}}
}
