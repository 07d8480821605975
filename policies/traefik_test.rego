package driftaudit.traefik_test

import data.driftaudit.traefik

_input(state, body) := {
	"contract_version": 1,
	"state": state,
	"identity": {"source": "traefik", "apiVersion": "traefik.driftaudit.io/v1", "group": "traefik.driftaudit.io", "kind": "HttpRouter", "namespace": "", "name": "legacy-api"},
	"resource": body,
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": "2026-11-21T12:00:00Z",
}

# As /api/http/routers returned it for a router whose service does not exist.
_disabled := {
	"entryPoints": ["websecure"], "middlewares": ["missing-mw"], "service": "missing-svc",
	"rule": "Host(`old.example.test`)", "tls": {"options": "default"},
	"error": ["the service \"missing-svc@file\" does not exist"], "status": "disabled",
}

test_disabled_router_fires_with_its_errors if {
	findings := traefik.deny_router_disabled with input as _input("live", _disabled)
	findings == {{
		"msg": "router legacy-api is disabled in the running Traefik: the service \"missing-svc@file\" does not exist",
		"path": "rule",
	}}
}

test_errors_are_joined_in_order if {
	body := object.union(_disabled, {"error": ["b went wrong", "a went wrong"]})
	some f in traefik.deny_router_disabled with input as _input("live", body)
	f.msg == "router legacy-api is disabled in the running Traefik: a went wrong; b went wrong"
}

test_disabled_without_errors_still_fires if {
	body := object.remove(_disabled, ["error"])
	some f in traefik.deny_router_disabled with input as _input("live", body)
	endswith(f.msg, ": no error given")
}

test_enabled_router_passes if {
	body := object.union(object.remove(_disabled, ["error"]), {"status": "enabled"})
	count(traefik.deny_router_disabled) == 0 with input as _input("live", body)
}

test_declared_side_never_fires if {
	count(traefik.deny_router_disabled) == 0 with input as _input("declared", _disabled)
}

test_odd_error_values_do_not_fail if {
	body := object.union(_disabled, {"error": "not a list"})
	some f in traefik.deny_router_disabled with input as _input("live", body)
	endswith(f.msg, ": no error given")
	count(traefik.deny_router_disabled) == 0 with input as {"state": "live", "resource": "x"}
}
