# METADATA
# title: Traefik
# description: >-
#   The running Traefik: routers it could not build (status disabled, with the
#   errors Traefik reports). Reads the live router bodies of /api/{http,tcp,udp}/routers.
# custom:
#   category: traefik
#   kinds: [HttpRouter, TcpRouter, UdpRouter]
#   sources: [traefik]
package driftaudit.traefik

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

_errors_text(router) := concat("; ", sort([e | some e in router.error; is_string(e)])) if {
	is_array(router.error)
	count(router.error) > 0
} else := "no error given"

# METADATA
# title: Traefik router disabled
# description: >-
#   Traefik reports the router as disabled: it does not route any request, even
#   when Git declares it. The errors say why (a missing service or middleware,
#   a bad rule, an unknown TLS option).
# custom:
#   id: DA-TRAEFIK-001
#   controls:
#     - ISO27001-2022:A.8.9
#   severity: high
#   category: traefik
#   remediation: Fix what the error names (declare the missing service or middleware, correct the rule), then check the router's status in the Traefik dashboard.
deny_router_disabled contains finding if {
	input.state == "live"
	input.resource.status == "disabled"
	finding := {
		"msg": sprintf("router %s is disabled in the running Traefik: %s", [data.driftaudit.lib.name, _errors_text(input.resource)]),
		"path": "rule",
	}
}
