package driftaudit.backups_test

import data.driftaudit.backups

_now := "2026-11-21T12:00:00Z"

_group(api_version) := split(api_version, "/")[0] if contains(api_version, "/")

else := ""

_input(state, drift_status, resource) := {
	"contract_version": 1,
	"state": state,
	"identity": {
		"source": "kubernetes",
		"apiVersion": resource.apiVersion,
		"group": _group(resource.apiVersion),
		"kind": resource.kind,
		"namespace": object.get(resource.metadata, "namespace", ""),
		"name": resource.metadata.name,
	},
	"resource": resource,
	"counterpart": null,
	"drift": _drift(drift_status),
	"facts": {},
	"now": _now,
}

_drift(null) := null

_drift(status) := {"status": status, "changes": []} if status != null

_cronjob(name, metadata_extra, spec_extra, status) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": object.union({"name": name, "namespace": "shop"}, metadata_extra),
	"spec": object.union(
		{
			"schedule": "0 2 * * *",
			"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "pg-dump", "image": "postgres:16"}]}}}},
		},
		spec_extra,
	),
	"status": status,
}

_suspended(name) := _cronjob(name, {}, {"suspend": true}, {})

_scheduled_backup(spec_extra) := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "ScheduledBackup",
	"metadata": {"name": "nightly", "namespace": "shop"},
	"spec": object.union({"cluster": {"name": "shop-db"}, "schedule": "0 0 2 * * *"}, spec_extra),
}

_velero_schedule(spec_extra) := {
	"apiVersion": "velero.io/v1",
	"kind": "Schedule",
	"metadata": {"name": "daily", "namespace": "velero"},
	"spec": object.union({"schedule": "0 1 * * *", "template": {"includedNamespaces": ["*"]}}, spec_extra),
}

_all_findings := (((backups.deny_suspended_backup_cronjob | backups.deny_suspended_cnpg_backup) | backups.deny_paused_velero_schedule) | backups.deny_declared_backup_missing) | backups.deny_stale_backup

# --- DA-BAK-001 suspended backup CronJob -------------------------------------

test_suspended_backup_cronjob_live if {
	findings := backups.deny_suspended_backup_cronjob with input as _input("live", "modified", _suspended("db-backup"))
	findings == {{"msg": `backup CronJob "db-backup" is suspended (spec.suspend: true)`, "path": "spec.suspend"}}
}

test_suspended_backup_cronjob_declared if {
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("declared", "in_sync", _suspended("db-backup"))
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("declared", null, _suspended("db-backup"))
}

test_name_patterns_match_anywhere_in_the_name if {
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("live", null, _suspended("nightly-pg-dump"))
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("live", null, _suspended("volume-snapshot"))
}

test_running_backup_cronjob_passes if {
	count(backups.deny_suspended_backup_cronjob) == 0 with input as _input("live", null, _cronjob("db-backup", {}, {"suspend": false}, {}))
	count(backups.deny_suspended_backup_cronjob) == 0 with input as _input("live", null, _cronjob("db-backup", {}, {}, {}))
}

test_suspended_non_backup_cronjob_passes if {
	count(backups.deny_suspended_backup_cronjob) == 0 with input as _input("live", null, _suspended("report-mailer"))
}

test_backup_label_marks_cronjob if {
	cronjob := _cronjob("pg-nightly", {"labels": {"driftaudit.io/backup": "true"}}, {"suspend": true}, {})
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("live", null, cronjob)
}

test_backup_label_false_excludes_cronjob if {
	cronjob := _cronjob("cache-dump-cleaner", {"labels": {"driftaudit.io/backup": "false"}}, {"suspend": true}, {})
	count(backups.deny_suspended_backup_cronjob) == 0 with input as _input("live", null, cronjob)
}

test_custom_name_patterns if {
	cronjob_name_patterns := ["^pgbackrest-"]
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("live", null, _suspended("pgbackrest-full")) with data.baselines.backups.cronjob_name_patterns as cronjob_name_patterns
	count(backups.deny_suspended_backup_cronjob) == 0 with input as _input("live", null, _suspended("db-backup")) with data.baselines.backups.cronjob_name_patterns as cronjob_name_patterns
}

test_invalid_pattern_is_ignored if {
	count(backups.deny_suspended_backup_cronjob) == 1 with input as _input("live", null, _suspended("db-backup"))
		with data.baselines.backups.cronjob_name_patterns as ["(unclosed", "backup"]
}

# --- DA-BAK-002 CloudNativePG ScheduledBackup --------------------------------

test_cnpg_suspended_fires if {
	findings := backups.deny_suspended_cnpg_backup with input as _input("declared", "in_sync", _scheduled_backup({"suspend": true}))
	findings == {{"msg": `ScheduledBackup "nightly" of cluster "shop-db" is suspended (spec.suspend: true)`, "path": "spec.suspend"}}
}

test_cnpg_active_passes if {
	count(backups.deny_suspended_cnpg_backup) == 0 with input as _input("live", null, _scheduled_backup({}))
	count(backups.deny_suspended_cnpg_backup) == 0 with input as _input("live", null, _scheduled_backup({"suspend": false}))
}

test_cnpg_other_group_ignored if {
	resource := object.union(_scheduled_backup({"suspend": true}), {"apiVersion": "example.com/v1"})
	count(backups.deny_suspended_cnpg_backup) == 0 with input as _input("live", null, resource)
}

test_cnpg_group_from_api_version_without_identity if {
	count(backups.deny_suspended_cnpg_backup) == 1 with input as {"state": "live", "resource": _scheduled_backup({"suspend": true})}
}

# --- DA-BAK-003 Velero Schedule ----------------------------------------------

test_velero_paused_fires if {
	findings := backups.deny_paused_velero_schedule with input as _input("live", null, _velero_schedule({"paused": true}))
	findings == {{"msg": `Velero Schedule "daily" is paused (spec.paused: true)`, "path": "spec.paused"}}
}

test_velero_unpaused_passes if {
	count(backups.deny_paused_velero_schedule) == 0 with input as _input("live", null, _velero_schedule({}))
	count(backups.deny_paused_velero_schedule) == 0 with input as _input("live", null, _velero_schedule({"paused": false}))
}

test_velero_other_schedule_kind_ignored if {
	resource := object.union(_velero_schedule({"paused": true}), {"apiVersion": "scheduling.example.com/v1"})
	count(backups.deny_paused_velero_schedule) == 0 with input as _input("live", null, resource)
}

# --- DA-BAK-004 declared backup missing live ---------------------------------

test_declared_backup_cronjob_missing if {
	findings := backups.deny_declared_backup_missing with input as _input("declared", "missing", _cronjob("db-backup", {}, {}, {}))
	findings == {{"msg": `backup CronJob "db-backup" is declared but does not exist in the live state`, "path": "metadata.name"}}
}

test_declared_cnpg_and_velero_missing if {
	findings := backups.deny_declared_backup_missing with input as _input("declared", "missing", _scheduled_backup({}))
	findings == {{"msg": `CloudNativePG ScheduledBackup "nightly" is declared but does not exist in the live state`, "path": "metadata.name"}}
	count(backups.deny_declared_backup_missing) == 1 with input as _input("declared", "missing", _velero_schedule({}))
}

test_missing_non_backup_passes if {
	count(backups.deny_declared_backup_missing) == 0 with input as _input("declared", "missing", _cronjob("report-mailer", {}, {}, {}))
}

test_present_backup_passes if {
	count(backups.deny_declared_backup_missing) == 0 with input as _input("declared", "in_sync", _cronjob("db-backup", {}, {}, {}))
	count(backups.deny_declared_backup_missing) == 0 with input as _input("declared", "modified", _cronjob("db-backup", {}, {}, {}))
}

test_missing_only_on_declared_side if {
	count(backups.deny_declared_backup_missing) == 0 with input as _input("live", "missing", _cronjob("db-backup", {}, {}, {}))
	count(backups.deny_declared_backup_missing) == 0 with input as _input("live", "unmanaged", _cronjob("db-backup", {}, {}, {}))
}

test_no_live_source_passes if {
	count(backups.deny_declared_backup_missing) == 0 with input as _input("declared", null, _cronjob("db-backup", {}, {}, {}))
}

# --- DA-BAK-005 stale backup -------------------------------------------------

test_stale_backup_fires if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastScheduleTime": "2026-11-21T02:00:00Z", "lastSuccessfulTime": "2026-11-19T10:30:00Z"})
	findings := backups.deny_stale_backup with input as _input("live", "in_sync", cronjob)
	findings == {{
		"msg": `backup CronJob "db-backup" last succeeded at 2026-11-19T10:30:00Z, 49 hours before the scan (RPO 24 hours)`,
		"path": "status.lastSuccessfulTime",
	}}
}

test_stale_success_after_the_scan_clock_fires if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2099-01-01T00:00:00Z"})
	findings := backups.deny_stale_backup with input as _input("live", "in_sync", cronjob)
	findings == {{
		"msg": `backup CronJob "db-backup" last succeeded at 2099-01-01T00:00:00Z, after the scan clock (treated as no successful backup)`,
		"path": "status.lastSuccessfulTime",
	}}
	# Within the 300 seconds of clock skew the backup table allows: fresh.
	skewed := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-21T12:05:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", "in_sync", skewed)
	beyond := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-21T12:05:01Z"})
	count(backups.deny_stale_backup) == 1 with input as _input("live", "in_sync", beyond)
	count(backups.deny_stale_backup) == 0 with input as _input("declared", null, beyond)
}

test_fresh_backup_passes if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-21T02:03:10Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", "in_sync", cronjob)
}

test_stale_boundary if {
	exactly := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-20T12:00:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, exactly)
	just_over := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-20T11:59:59Z"})
	count(backups.deny_stale_backup) == 1 with input as _input("live", null, just_over)
}

test_stale_uses_input_now_with_offset if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-21T02:00:00+02:00"})
	value := object.union(_input("live", null, cronjob), {"now": "2026-11-22T00:30:00Z"})
	count(backups.deny_stale_backup) == 1 with input as value
}

test_stale_rpo_from_baselines if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-19T10:30:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, cronjob) with data.baselines.backups.rpo_hours as 72
	count(backups.deny_stale_backup) == 1 with input as _input("live", null, cronjob) with data.baselines.backups.rpo_hours as 0.5
}

test_stale_rpo_annotation_overrides if {
	weekly := _cronjob("db-backup", {"annotations": {"driftaudit.io/rpo-hours": "168"}}, {}, {"lastSuccessfulTime": "2026-11-17T02:00:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, weekly)
	bogus := _cronjob("db-backup", {"annotations": {"driftaudit.io/rpo-hours": "a week"}}, {}, {"lastSuccessfulTime": "2026-11-17T02:00:00Z"})
	count(backups.deny_stale_backup) == 1 with input as _input("live", null, bogus)
}

test_stale_skipped_when_never_succeeded if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastScheduleTime": "2026-11-01T02:00:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, cronjob)
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, _cronjob("db-backup", {}, {}, null))
}

test_stale_only_live if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-01T02:00:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("declared", "in_sync", cronjob)
}

test_stale_non_backup_cronjob_passes if {
	cronjob := _cronjob("report-mailer", {}, {}, {"lastSuccessfulTime": "2026-11-01T02:00:00Z"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, cronjob)
}

test_stale_bad_timestamps_do_not_error if {
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "yesterday"})
	count(backups.deny_stale_backup) == 0 with input as _input("live", null, cronjob)
	old := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-01T02:00:00Z"})
	count(backups.deny_stale_backup) == 0 with input as object.union(_input("live", null, old), {"now": "now"})
	count(backups.deny_stale_backup) == 0 with input as object.remove(_input("live", null, old), ["now"])
}

# --- totality ----------------------------------------------------------------

test_unrelated_shapes_yield_nothing if {
	shapes := [
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "backup-config", "namespace": "shop"}, "data": {"k": "v"}},
		{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backup", "namespace": "shop"}, "spec": {"suspend": true}},
		{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "db-backup", "namespace": "shop"}},
		{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "db-backup", "namespace": "shop", "labels": null}, "spec": "x", "status": "x"},
		{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": 7, "namespace": "shop"}, "spec": {"suspend": "true"}},
		{"apiVersion": "velero.io/v1", "kind": "Schedule", "metadata": {"name": "x", "namespace": "velero"}, "spec": null},
	]
	every shape in shapes {
		count(_all_findings) == 0 with input as _input("live", null, shape)
		count(_all_findings) == 0 with input as _input("declared", "in_sync", shape)
	}
}

test_input_without_drift_or_state if {
	count(_all_findings) == 0 with input as {"resource": _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-01T02:00:00Z"})}
}

# --- DA-BAK-006 / DA-BAK-007 CloudNativePG Cluster ------------------------------

_cluster(spec) := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "Cluster",
	"metadata": {"name": "shop-db", "namespace": "shop"},
	"spec": object.union({"instances": 3}, spec),
}

test_cnpg_cluster_without_backup_fires if {
	findings := backups.deny_cnpg_cluster_without_backup with input as _input("declared", null, _cluster({}))
	findings == {{"msg": `CloudNativePG Cluster "shop-db" has no backup configuration (spec.backup)`, "path": "spec"}}
}

test_cnpg_cluster_with_backup_passes if {
	store := {"backup": {"barmanObjectStore": {"destinationPath": "s3://b/"}, "retentionPolicy": "30d"}}
	count(backups.deny_cnpg_cluster_without_backup) == 0 with input as _input("live", null, _cluster(store))
	plugin := {"plugins": [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": true}]}
	count(backups.deny_cnpg_cluster_without_backup) == 0 with input as _input("live", null, _cluster(plugin))
}

test_cnpg_retention_below_baseline if {
	short := {"backup": {"barmanObjectStore": {"destinationPath": "s3://b/"}, "retentionPolicy": "3d"}}
	findings := backups.deny_cnpg_retention_too_short with input as _input("declared", null, _cluster(short))
	findings == {{"msg": `CloudNativePG Cluster "shop-db" keeps backups 3 days (retentionPolicy 3d), below the baseline of 7 days`, "path": "spec.backup.retentionPolicy"}}
	weeks := {"backup": {"barmanObjectStore": {}, "retentionPolicy": "2w"}}
	count(backups.deny_cnpg_retention_too_short) == 0 with input as _input("declared", null, _cluster(weeks))
	count(backups.deny_cnpg_retention_too_short) == 1 with input as _input("declared", null, _cluster(weeks)) with data.baselines.backups.min_retention_days as 30
}

# --- DA-BAK-008 .. DA-BAK-010 pgBackRest ----------------------------------------

_stanza_input(state, body) := {
	"contract_version": 1,
	"state": state,
	"identity": {"source": "backup", "apiVersion": "backup.driftaudit.io/v1", "group": "backup.driftaudit.io", "kind": "PgBackRestStanza", "namespace": "", "name": body.stanza},
	"resource": body,
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": _now,
}

_full := {"label": "20261121-013045F", "type": "full", "start": "2026-11-21T01:30:45Z", "stop": "2026-11-21T01:30:53Z", "error": false}

_stanza(extra) := object.union(
	{"stanza": "demo", "status": {"code": 0, "message": "ok"}, "last_backup": _full, "last_full": _full, "retention": {"full": 2}},
	extra,
)

test_missing_stanza_fires if {
	body := _stanza({"status": {"code": 1, "message": "missing stanza path"}, "last_backup": null})
	findings := backups.deny_stanza_error with input as _stanza_input("live", body)
	findings == {{"msg": `pgBackRest stanza "demo" has status 1: missing stanza path`, "path": "status.code"}}
	count(backups.deny_stanza_stale) == 0 with input as _stanza_input("live", body)
}

test_fresh_stanza_passes if {
	count(backups.deny_stanza_error | backups.deny_stanza_stale) == 0 with input as _stanza_input("live", _stanza({}))
}

test_stale_stanza_fires if {
	findings := backups.deny_stanza_stale with input as _stanza_input("live", _stanza({})) with input.now as "2026-11-28T12:00:00Z"
	findings == {{
		"msg": `pgBackRest stanza "demo": newest backup 20261121-013045F (full) finished at 2026-11-21T01:30:53Z, 178 hours before the scan (RPO 24 hours)`,
		"path": "last_backup.stop",
	}}
}

test_stanza_backup_after_the_scan_clock_fires if {
	future := object.union(_full, {"stop": "2099-01-01T00:00:00Z"})
	findings := backups.deny_stanza_stale with input as _stanza_input("live", _stanza({"last_backup": future}))
	findings == {{
		"msg": `pgBackRest stanza "demo": newest backup 20261121-013045F (full) finished at 2099-01-01T00:00:00Z, after the scan clock (treated as no successful backup)`,
		"path": "last_backup.stop",
	}}
	skewed := object.union(_full, {"stop": "2026-11-21T12:05:00Z"})
	count(backups.deny_stanza_stale) == 0 with input as _stanza_input("live", _stanza({"last_backup": skewed}))
}

test_stanza_without_backup_fires if {
	findings := backups.deny_stanza_stale with input as _stanza_input("live", _stanza({"last_backup": null}))
	findings == {{"msg": `pgBackRest stanza "demo" has no successful backup`, "path": "last_backup"}}
	failed := object.union(_full, {"error": true})
	count(backups.deny_stanza_stale) == 1 with input as _stanza_input("live", _stanza({"last_backup": failed}))
}

test_stanza_retention if {
	findings := backups.deny_stanza_retention with input as _stanza_input("declared", _stanza({"retention": {"full": 1}}))
	findings == {{"msg": `pgBackRest stanza "demo" keeps 1 full backups, below the baseline of 2`, "path": "retention.full"}}
	count(backups.deny_stanza_retention) == 0 with input as _stanza_input("live", _stanza({}))
	count(backups.deny_stanza_retention) == 1 with input as _stanza_input("live", _stanza({"retention": {"full": 3, "full_type": "time"}}))
	count(backups.deny_stanza_retention) == 0 with input as _stanza_input("live", _stanza({"retention": {}}))
}

# --- DA-BAK-011 / DA-BAK-012 WAL archiving --------------------------------------

_archiver_input(body) := {
	"contract_version": 1,
	"state": "live",
	"identity": {"source": "postgres", "apiVersion": "postgres.driftaudit.io/v1", "group": "postgres.driftaudit.io", "kind": "Archiver", "namespace": "127.0.0.1:5432/appdb", "name": "archiver"},
	"resource": body,
	"counterpart": null,
	"drift": null,
	"facts": {},
	"now": _now,
}

test_archiving_off if {
	findings := backups.deny_archiving_off with input as _archiver_input({"archive_mode": "off"})
	findings == {{"msg": "WAL archiving is off on 127.0.0.1:5432/appdb (archive_mode = off)", "path": "archive_mode"}}
	count(backups.deny_archiving_off) == 0 with input as _archiver_input({"archive_mode": "on"})
	count(backups.deny_archiving_off) == 0 with input as _archiver_input({"archive_mode": "off"}) with data.baselines.backups.require_wal_archiving as false
}

test_archiving_failing if {
	body := {
		"archive_mode": "on", "failing": true, "failed_count": 4, "archived_count": 0,
		"last_failed_wal": "000000010000000000000001", "last_failed_time": "2026-11-21T21:30:33.578981Z",
		"last_archived_time": null,
	}
	findings := backups.deny_archiving_failing with input as _archiver_input(body)
	findings == {{"msg": "WAL archiving fails on 127.0.0.1:5432/appdb: 4 failures, last 000000010000000000000001 at 2026-11-21T21:30:33.578981Z; last success never", "path": "failed_count"}}
	count(backups.deny_archiving_failing) == 0 with input as _archiver_input(object.union(body, {"failing": false}))
}

# --- DA-BAK-013..018: what CloudNativePG and Velero report --------------------

_status_input(resource, status_facts) := object.union(_input("live", "in_sync", resource), {"facts": {"status": status_facts}})

_cnpg_cluster_object := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "Cluster",
	"metadata": {"name": "shop-db", "namespace": "shop"},
	"spec": {"instances": 1, "backup": {"retentionPolicy": "30d", "barmanObjectStore": {"destinationPath": "s3://b/"}}},
}

_backup_row(overrides) := object.union(
	{
		"kind": "cloudnativepg", "target": "prod", "name": "shop/shop-db",
		"newest_success": "2026-11-21T02:00:00Z", "age_seconds": 36000, "age_hours": 10,
		"rpo_seconds": 86400, "rpo_hours": 24, "stale": false, "young": false,
		"object_age_hours": 2000, "invalid": [],
		"evidence": "Backup shop/shop-db-20261121 status.stoppedAt",
	},
	overrides,
)

_cnpg_status(overrides) := object.union(
	{
		"backup": _backup_row({}),
		"last_backup": {"name": "shop-db-20261121", "phase": "completed", "time": "2026-11-21T02:00:00Z"},
		"continuous_archiving": {"status": "True", "reason": "ContinuousArchivingSuccess", "message": null, "last_transition_time": "2026-10-01T00:00:00Z"},
		"first_recoverability_point": "2026-10-20T00:00:00Z",
		"recoverability_hours": 780,
		"expected_recoverability_days": 30,
		"retention_from": "spec.backup.retentionPolicy",
	},
	overrides,
)

_cnpg_findings := ((backups.deny_cnpg_backup_stale | backups.deny_cnpg_backup_failed) | backups.deny_cnpg_archiving_failing) | backups.deny_cnpg_recoverability_short

test_cnpg_healthy_cluster_is_clean if {
	count(_cnpg_findings) == 0 with input as _status_input(_cnpg_cluster_object, _cnpg_status({}))
}

test_cnpg_stale_backup_fires if {
	status := _cnpg_status({"backup": _backup_row({"newest_success": "2026-11-18T02:00:00Z", "age_seconds": 295200, "age_hours": 82, "stale": true, "evidence": "status.lastSuccessfulBackup"})})
	findings := backups.deny_cnpg_backup_stale with input as _status_input(_cnpg_cluster_object, status)
	findings == {{
		"msg": `CloudNativePG Cluster "shop-db": newest successful backup at 2026-11-18T02:00:00Z (status.lastSuccessfulBackup), 82 hours before the scan (RPO 24 hours)`,
		"path": "status.lastSuccessfulBackup",
	}}
}

test_cnpg_no_backup_fires_unless_young if {
	none := _backup_row({"newest_success": null, "age_seconds": null, "age_hours": null, "stale": true, "invalid": ["status.lastSuccessfulBackup"], "evidence": "no successful cloudnativepg backup"})
	findings := backups.deny_cnpg_backup_stale with input as _status_input(_cnpg_cluster_object, _cnpg_status({"backup": none}))
	findings == {{
		"msg": `CloudNativePG Cluster "shop-db" has no successful backup (RPO 24 hours) (unreadable times count as no backup: status.lastSuccessfulBackup)`,
		"path": "status.lastSuccessfulBackup",
	}}
	young := object.union(none, {"young": true})
	count(backups.deny_cnpg_backup_stale) == 0 with input as _status_input(_cnpg_cluster_object, _cnpg_status({"backup": young}))
}

test_cnpg_failed_backup_fires if {
	status := _cnpg_status({"last_backup": {"name": "shop-db-20261121", "phase": "failed", "time": "2026-11-21T02:05:00Z", "error": "can't upload: AccessDenied"}})
	findings := backups.deny_cnpg_backup_failed with input as _status_input(_cnpg_cluster_object, status)
	findings == {{
		"msg": `CloudNativePG Cluster "shop-db": the newest backup, Backup "shop-db-20261121" at 2026-11-21T02:05:00Z, failed: can't upload: AccessDenied`,
		"path": "status",
	}}
}

test_cnpg_archiving_failing_fires if {
	status := _cnpg_status({"continuous_archiving": {"status": "False", "reason": "ContinuousArchivingFailing", "message": "unexpected failure invoking barman-cloud-wal-archive: exit status 4", "last_transition_time": "2026-11-21T09:00:00Z"}})
	findings := backups.deny_cnpg_archiving_failing with input as _status_input(_cnpg_cluster_object, status)
	findings == {{
		"msg": `CloudNativePG Cluster "shop-db": WAL archiving is failing (ContinuousArchiving False since 2026-11-21T09:00:00Z, ContinuousArchivingFailing: unexpected failure invoking barman-cloud-wal-archive: exit status 4)`,
		"path": "status.conditions",
	}}
}

test_cnpg_recoverability_window_short_fires if {
	status := _cnpg_status({"first_recoverability_point": "2026-11-16T12:00:00Z", "recoverability_hours": 120})
	findings := backups.deny_cnpg_recoverability_short with input as _status_input(_cnpg_cluster_object, status)
	findings == {{
		"msg": `CloudNativePG Cluster "shop-db" can be recovered back to 2026-11-16T12:00:00Z only, 120 hours before the scan; spec.backup.retentionPolicy asks for 30 days`,
		"path": "status.firstRecoverabilityPoint",
	}}
	# A cluster younger than the window it should keep cannot have it yet.
	young := object.union(status, {"backup": _backup_row({"object_age_hours": 130})})
	count(backups.deny_cnpg_recoverability_short) == 0 with input as _status_input(_cnpg_cluster_object, young)
}

test_cnpg_status_rules_skip_declared_side if {
	inp := object.union(_status_input(_cnpg_cluster_object, _cnpg_status({"continuous_archiving": {"status": "False"}})), {"state": "declared"})
	count(_cnpg_findings) == 0 with input as inp
}

_velero_status(overrides) := object.union(
	{
		"backup": _backup_row({"kind": "velero", "name": "velero/daily", "evidence": "Backup velero/daily-20261121010000 status.completionTimestamp"}),
		"last_backup": {"name": "daily-20261121010000", "phase": "Completed", "time": "2026-11-21T01:10:00Z", "errors": 0, "warnings": 0},
		"backups_seen": 3,
	},
	overrides,
)

test_velero_healthy_schedule_is_clean if {
	inp := _status_input(_velero_schedule({}), _velero_status({}))
	count(backups.deny_velero_backup_stale | backups.deny_velero_backup_failed) == 0 with input as inp
}

test_velero_stale_fires if {
	row := _backup_row({"kind": "velero", "name": "velero/daily", "newest_success": "2026-11-17T01:10:00Z", "age_seconds": 384600, "age_hours": 106, "stale": true, "evidence": "Backup velero/daily-20261117010000 status.completionTimestamp"})
	findings := backups.deny_velero_backup_stale with input as _status_input(_velero_schedule({}), _velero_status({"backup": row}))
	findings == {{
		"msg": `Velero Schedule "daily": newest successful backup at 2026-11-17T01:10:00Z (Backup velero/daily-20261117010000 status.completionTimestamp), 106 hours before the scan (RPO 24 hours)`,
		"path": "status.lastBackup",
	}}
}

test_velero_never_succeeded_fires if {
	row := _backup_row({"kind": "velero", "newest_success": null, "age_seconds": null, "age_hours": null, "stale": true})
	findings := backups.deny_velero_backup_stale with input as _status_input(_velero_schedule({}), _velero_status({"backup": row}))
	findings == {{"msg": `Velero Schedule "daily" has no successful backup (RPO 24 hours)`, "path": "status.lastBackup"}}
}

test_velero_failed_fires_with_severity_by_phase if {
	failed := {"name": "daily-20261121010000", "phase": "Failed", "time": "2026-11-21T01:02:00Z", "errors": 0, "warnings": 0, "failureReason": "unable to get backup storage location"}
	findings := backups.deny_velero_backup_failed with input as _status_input(_velero_schedule({}), _velero_status({"last_backup": failed}))
	findings == {{
		"msg": `Velero Schedule "daily": the newest backup, Backup "daily-20261121010000" at 2026-11-21T01:02:00Z, ended Failed (0 errors, 0 warnings): unable to get backup storage location`,
		"severity": "high",
		"path": "status",
	}}
	partial := {"name": "daily-20261121010000", "phase": "PartiallyFailed", "time": "2026-11-21T01:20:00Z", "errors": 2, "warnings": 1}
	some f in backups.deny_velero_backup_failed with input as _status_input(_velero_schedule({}), _velero_status({"last_backup": partial}))
	f.severity == "medium"
}

test_stale_rpo_from_the_resolved_fact if {
	# The live side carries the RPO resolved in Rust (annotation, backups.overrides, rpo_hours).
	cronjob := _cronjob("db-backup", {}, {}, {"lastSuccessfulTime": "2026-11-21T02:00:00Z"})
	value := object.union(_input("live", null, cronjob), {"facts": {"status": {"rpo_hours": 4}}})
	findings := backups.deny_stale_backup with input as value
	findings == {{
		"msg": `backup CronJob "db-backup" last succeeded at 2026-11-21T02:00:00Z, 10 hours before the scan (RPO 4 hours)`,
		"path": "status.lastSuccessfulTime",
	}}
	count(backups.deny_stale_backup) == 0 with input as object.union(value, {"facts": {"status": {"rpo_hours": 12}}})
}
