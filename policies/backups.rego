# METADATA
# title: Backups
# description: >-
#   Backup schedules (backup CronJobs, CloudNativePG ScheduledBackups, Velero
#   Schedules) are declared, running, not suspended and recently successful.
# custom:
#   category: backups
#   kinds: [CronJob, ScheduledBackup, Schedule]
#   sources: [kubernetes]
package driftaudit.backups

# The library is referenced by full path (data.driftaudit.lib.<rule>), not
# imported: regorus evaluates every rule of an imported package on each use.

# Settings are read from data.baselines.backups (defaults: baselines/default.yaml).

_backup_label := "driftaudit.io/backup"

_rpo_annotation := "driftaudit.io/rpo-hours"

_label := v if {
	v := input.resource.metadata.labels[_backup_label]
	is_string(v)
} else := ""

# A CronJob is a backup when labelled driftaudit.io/backup=true, or when its
# name matches backups.cronjob_name_patterns and it is not labelled "false".
_is_backup_cronjob if {
	data.driftaudit.lib.kind == "CronJob"
	_label == "true"
}

_is_backup_cronjob if {
	data.driftaudit.lib.kind == "CronJob"
	_label != "false"
	some pattern in data.baselines.backups.cronjob_name_patterns
	# A pattern RE2 rejects matches nothing (rather than failing every rule).
	regex.is_valid(pattern)
	regex.match(pattern, data.driftaudit.lib.name)
}

_is_cnpg_scheduled_backup if {
	data.driftaudit.lib.kind == "ScheduledBackup"
	data.driftaudit.lib.group == "postgresql.cnpg.io"
}

_is_velero_schedule if {
	data.driftaudit.lib.kind == "Schedule"
	data.driftaudit.lib.group == "velero.io"
}

_backup_kind := "backup CronJob" if _is_backup_cronjob

else := "CloudNativePG ScheduledBackup" if _is_cnpg_scheduled_backup

else := "Velero Schedule" if _is_velero_schedule

# The RPO for this resource: as resolved in Rust for the live side
# (input.facts.status.rpo_hours: the annotation, else a matching
# backups.overrides entry, else backups.rpo_hours; docs/backups.md); else its
# driftaudit.io/rpo-hours annotation, else the baseline.
_rpo_hours := h if {
	h := input.facts.status.rpo_hours
	is_number(h)
	h > 0
} else := to_number(v) if {
	v := input.resource.metadata.annotations[_rpo_annotation]
	is_string(v)
	regex.match(`^[0-9]+(\.[0-9]+)?$`, v)
	to_number(v) > 0
} else := data.baselines.backups.rpo_hours

# METADATA
# title: Backup CronJob suspended
# description: >-
#   A CronJob recognised as a backup (backups.cronjob_name_patterns or the label
#   driftaudit.io/backup=true) has spec.suspend set to true: no backup is taken.
# custom:
#   id: DA-BAK-001
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [CronJob]
#   remediation: Set spec.suspend to false (or remove it) once the reason for suspending the backup is resolved.
deny_suspended_backup_cronjob contains finding if {
	_is_backup_cronjob
	input.resource.spec.suspend == true
	finding := {
		"msg": sprintf(`backup CronJob "%s" is suspended (spec.suspend: true)`, [data.driftaudit.lib.name]),
		"path": "spec.suspend",
	}
}

# METADATA
# title: CloudNativePG scheduled backup suspended
# description: A CloudNativePG ScheduledBackup has spec.suspend set to true, so no backup of its cluster is taken.
# custom:
#   id: DA-BAK-002
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [ScheduledBackup]
#   remediation: Set spec.suspend to false (or remove it) on the ScheduledBackup.
deny_suspended_cnpg_backup contains finding if {
	_is_cnpg_scheduled_backup
	input.resource.spec.suspend == true
	finding := {
		"msg": sprintf(`ScheduledBackup "%s"%s is suspended (spec.suspend: true)`, [data.driftaudit.lib.name, _cnpg_cluster]),
		"path": "spec.suspend",
	}
}

_cnpg_cluster := sprintf(` of cluster "%s"`, [c]) if {
	c := input.resource.spec.cluster.name
	is_string(c)
} else := ""

# METADATA
# title: Velero schedule paused
# description: A Velero Schedule has spec.paused set to true, so Velero creates no backups from it.
# custom:
#   id: DA-BAK-003
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Schedule]
#   remediation: Set spec.paused to false (or run velero schedule unpause) on the Schedule.
deny_paused_velero_schedule contains finding if {
	_is_velero_schedule
	input.resource.spec.paused == true
	finding := {
		"msg": sprintf(`Velero Schedule "%s" is paused (spec.paused: true)`, [data.driftaudit.lib.name]),
		"path": "spec.paused",
	}
}

# METADATA
# title: Declared backup not running
# description: >-
#   A backup schedule declared in Git (backup CronJob, CloudNativePG ScheduledBackup
#   or Velero Schedule) does not exist in the live state, so the backups it
#   declares are not taken.
# custom:
#   id: DA-BAK-004
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   remediation: Apply the declared resource (sync the GitOps application) and check why it was not deployed or was deleted.
deny_declared_backup_missing contains finding if {
	input.state == "declared"
	input.drift.status == "missing"
	kind := _backup_kind
	finding := {
		"msg": sprintf(`%s "%s" is declared but does not exist in the live state`, [kind, data.driftaudit.lib.name]),
		"path": "metadata.name",
	}
}

# METADATA
# title: Backup older than the RPO
# description: >-
#   The last successful run of a live backup CronJob (status.lastSuccessfulTime) is
#   older than the recovery point objective, backups.rpo_hours or the resource's
#   driftaudit.io/rpo-hours annotation, measured from the scan time, or lies more than 300
#   seconds after the scan clock (treated as no successful backup, as the backup
#   table does). Skipped when the CronJob has never succeeded.
# custom:
#   id: DA-BAK-005
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [CronJob]
#   remediation: >-
#     Find out why the backup Job fails or does not run (kubectl get jobs, events,
#     logs) and take a backup now; adjust driftaudit.io/rpo-hours if the schedule is
#     intentionally less frequent.
deny_stale_backup contains finding if {
	input.state == "live"
	_is_backup_cronjob
	last := input.resource.status.lastSuccessfulTime
	age_ns := data.driftaudit.lib.age_ns(last)
	age_ns > (_rpo_hours * 3600) * 1000000000
	finding := {
		"msg": sprintf(
			`backup CronJob "%s" last succeeded at %s, %v hours before the scan (RPO %v hours)`,
			[data.driftaudit.lib.name, last, floor(age_ns / 3600000000000), _rpo_hours],
		),
		"path": "status.lastSuccessfulTime",
	}
}

deny_stale_backup contains finding if {
	input.state == "live"
	_is_backup_cronjob
	last := input.resource.status.lastSuccessfulTime
	data.driftaudit.lib.after_clock(last)
	finding := {
		"msg": sprintf(
			`backup CronJob "%s" last succeeded at %s, after the scan clock (treated as no successful backup)`,
			[data.driftaudit.lib.name, last],
		),
		"path": "status.lastSuccessfulTime",
	}
}

# --- CloudNativePG clusters, pgBackRest stanzas and WAL archiving -------------

_is_cnpg_cluster if {
	data.driftaudit.lib.kind == "Cluster"
	data.driftaudit.lib.group == "postgresql.cnpg.io"
}

# A CNPG backup target: an object store (barmanObjectStore), volume snapshots,
# or a backup plugin such as barman-cloud (spec.plugins).
_cnpg_has_backup if {
	backup := input.resource.spec.backup
	is_object(backup)
	some key in ["barmanObjectStore", "volumeSnapshot"]
	is_object(backup[key])
}

_cnpg_has_backup if {
	some plugin in input.resource.spec.plugins
	is_string(plugin.name)
	contains(plugin.name, "barman")
}

# METADATA
# title: CloudNativePG cluster without backups
# description: >-
#   A CloudNativePG Cluster has no spec.backup target (barmanObjectStore or
#   volumeSnapshot) and no barman backup plugin, so neither base backups nor WAL
#   archives of its database are kept anywhere.
# custom:
#   id: DA-BAK-006
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Cluster]
#   sources: [kubernetes]
#   remediation: Configure spec.backup.barmanObjectStore (or volumeSnapshot, or the barman-cloud plugin) and a ScheduledBackup for the cluster.
deny_cnpg_cluster_without_backup contains finding if {
	_is_cnpg_cluster
	not _cnpg_has_backup
	finding := {
		"msg": sprintf(`CloudNativePG Cluster "%s" has no backup configuration (spec.backup)`, [data.driftaudit.lib.name]),
		"path": "spec",
	}
}

# CNPG retention policies are "<n>d", "<n>w" or "<n>m" (months of 30 days).
_retention_days(text) := to_number(trim_suffix(text, "d")) if {
	regex.match(`^[1-9][0-9]*d$`, text)
} else := to_number(trim_suffix(text, "w")) * 7 if {
	regex.match(`^[1-9][0-9]*w$`, text)
} else := to_number(trim_suffix(text, "m")) * 30 if {
	regex.match(`^[1-9][0-9]*m$`, text)
}

# METADATA
# title: Backup retention below the baseline
# description: >-
#   A CloudNativePG Cluster keeps backups for fewer days (spec.backup.retentionPolicy)
#   than backups.min_retention_days.
# custom:
#   id: DA-BAK-007
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: medium
#   category: backups
#   kinds: [Cluster]
#   sources: [kubernetes]
#   remediation: Raise spec.backup.retentionPolicy to at least backups.min_retention_days.
deny_cnpg_retention_too_short contains finding if {
	_is_cnpg_cluster
	policy := input.resource.spec.backup.retentionPolicy
	is_string(policy)
	days := _retention_days(policy)
	minimum := data.baselines.backups.min_retention_days
	days < minimum
	finding := {
		"msg": sprintf(`CloudNativePG Cluster "%s" keeps backups %v days (retentionPolicy %s), below the baseline of %v days`, [data.driftaudit.lib.name, days, policy, minimum]),
		"path": "spec.backup.retentionPolicy",
	}
}

_is_stanza if {
	input.identity.source == "backup"
	data.driftaudit.lib.kind == "PgBackRestStanza"
}

_stanza := s if {
	s := input.resource.stanza
	is_string(s)
} else := data.driftaudit.lib.name

# METADATA
# title: pgBackRest stanza missing or in error
# description: >-
#   pgbackrest info reports a status code other than 0 for the stanza: missing
#   stanza path (1), no valid backups (2), missing stanza data (3), or another
#   error. pgbackrest info exits 0 in these cases; only its status says so.
# custom:
#   id: DA-BAK-008
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: critical
#   category: backups
#   kinds: [PgBackRestStanza]
#   sources: [backup]
#   remediation: Create the stanza (pgbackrest stanza-create), check the repository path and the configuration, then run pgbackrest check and a full backup.
deny_stanza_error contains finding if {
	_is_stanza
	input.state == "live"
	code := input.resource.status.code
	is_number(code)
	code != 0
	finding := {
		"msg": sprintf(`pgBackRest stanza "%s" has status %v: %v`, [_stanza, code, input.resource.status.message]),
		"path": "status.code",
	}
}

# METADATA
# title: No pgBackRest backup within the RPO
# description: >-
#   The newest successful backup (full, diff or incr) of a live pgBackRest stanza
#   finished more than backups.rpo_hours before the scan time or more than 300
#   seconds after the scan clock (treated as no successful backup), or the
#   stanza has no successful backup at all.
# custom:
#   id: DA-BAK-009
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [PgBackRestStanza]
#   sources: [backup]
#   remediation: Find out why the scheduled pgbackrest backup did not run or failed (its log, the scheduler), and take a backup now.
deny_stanza_stale contains finding if {
	_is_stanza
	input.state == "live"
	input.resource.status.code == 0
	last := input.resource.last_backup
	is_object(last)
	last.error != true
	age_ns := data.driftaudit.lib.age_ns(last.stop)
	age_ns > (data.baselines.backups.rpo_hours * 3600) * 1000000000
	finding := {
		"msg": sprintf(
			`pgBackRest stanza "%s": newest backup %s (%s) finished at %s, %v hours before the scan (RPO %v hours)`,
			[_stanza, last.label, last.type, last.stop, floor(age_ns / 3600000000000), data.baselines.backups.rpo_hours],
		),
		"path": "last_backup.stop",
	}
}

deny_stanza_stale contains finding if {
	_is_stanza
	input.state == "live"
	input.resource.status.code == 0
	last := input.resource.last_backup
	is_object(last)
	last.error != true
	data.driftaudit.lib.after_clock(last.stop)
	finding := {
		"msg": sprintf(
			`pgBackRest stanza "%s": newest backup %s (%s) finished at %s, after the scan clock (treated as no successful backup)`,
			[_stanza, last.label, last.type, last.stop],
		),
		"path": "last_backup.stop",
	}
}

deny_stanza_stale contains finding if {
	_is_stanza
	input.state == "live"
	input.resource.status.code == 0
	last := object.get(input.resource, "last_backup", null)
	not _successful(last)
	finding := {
		"msg": sprintf(`pgBackRest stanza "%s" has no successful backup`, [_stanza]),
		"path": "last_backup",
	}
}

_successful(backup) if {
	is_object(backup)
	backup.error != true
}

# METADATA
# title: pgBackRest retention below the baseline
# description: >-
#   The full-backup retention of a pgBackRest stanza (repo1-retention-full, from
#   its configuration or its declaration in Git) keeps fewer full backups than
#   backups.min_retention_full, or fewer days than backups.min_retention_days
#   when repo1-retention-full-type is time.
# custom:
#   id: DA-BAK-010
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: medium
#   category: backups
#   kinds: [PgBackRestStanza]
#   sources: [backup]
#   remediation: Raise repo1-retention-full in pgbackrest.conf (and in the declared stanza).
deny_stanza_retention contains finding if {
	_is_stanza
	full := input.resource.retention.full
	is_number(full)
	object.get(input.resource.retention, "full_type", "count") == "count"
	minimum := data.baselines.backups.min_retention_full
	full < minimum
	finding := {
		"msg": sprintf(`pgBackRest stanza "%s" keeps %v full backups, below the baseline of %v`, [_stanza, full, minimum]),
		"path": "retention.full",
	}
}

deny_stanza_retention contains finding if {
	_is_stanza
	full := input.resource.retention.full
	is_number(full)
	input.resource.retention.full_type == "time"
	minimum := data.baselines.backups.min_retention_days
	full < minimum
	finding := {
		"msg": sprintf(`pgBackRest stanza "%s" keeps full backups %v days, below the baseline of %v days`, [_stanza, full, minimum]),
		"path": "retention.full",
	}
}

_is_archiver if {
	input.identity.source == "postgres"
	data.driftaudit.lib.kind == "Archiver"
}

# METADATA
# title: WAL archiving off
# description: >-
#   archive_mode is off on a PostgreSQL server while backups.require_wal_archiving
#   is true: without archived WAL, a restore can only go back to the last base
#   backup, never to a point in time.
# custom:
#   id: DA-BAK-011
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Archiver]
#   sources: [postgres]
#   remediation: Set archive_mode = on and an archive_command (e.g. pgbackrest --stanza=<name> archive-push %p), then restart the server.
deny_archiving_off contains finding if {
	_is_archiver
	data.baselines.backups.require_wal_archiving == true
	input.resource.archive_mode == "off"
	finding := {
		"msg": sprintf(`WAL archiving is off on %s (archive_mode = off)`, [data.driftaudit.lib.namespace]),
		"path": "archive_mode",
	}
}

# METADATA
# title: WAL archiving failing
# description: >-
#   pg_stat_archiver shows failures since the last successful archive: WAL
#   segments pile up in pg_wal and the point-in-time recovery window stops
#   growing.
# custom:
#   id: DA-BAK-012
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Archiver]
#   sources: [postgres]
#   remediation: Read the server log for the failing archive_command, fix it (stanza, repository, permissions) and check with pgbackrest check.
deny_archiving_failing contains finding if {
	_is_archiver
	input.state == "live"
	input.resource.failing == true
	finding := {
		"msg": sprintf(
			`WAL archiving fails on %s: %v failures, last %v at %v; last success %v`,
			[data.driftaudit.lib.namespace, input.resource.failed_count, input.resource.last_failed_wal, input.resource.last_failed_time, _last_archived],
		),
		"path": "failed_count",
	}
}

_last_archived := t if {
	t := input.resource.last_archived_time
	is_string(t)
} else := "never"

# --- What the operators report: CloudNativePG and Velero status ---------------
# input.facts.status is derived in Rust (src/backups.rs) from the live objects'
# status, joined across objects (a Cluster's Backups, a Schedule's Backups) and
# measured against input.now; the RPO is resolved there too (annotation,
# backups.overrides, backups.rpo_hours), so these rules and the report's backup
# table agree.

_backup_facts := b if {
	input.state == "live"
	b := input.facts.status.backup
	is_object(b)
}

# Why no time counts: fields whose timestamps did not parse.
_invalid_text(b) := sprintf(" (unreadable times count as no backup: %s)", [concat(", ", b.invalid)]) if {
	is_array(b.invalid)
	count(b.invalid) > 0
} else := ""

_stale_message(what, b) := sprintf(
	`%s: newest successful backup at %s (%s), %v hours before the scan (RPO %v hours)`,
	[what, b.newest_success, b.evidence, b.age_hours, b.rpo_hours],
) if {
	is_string(b.newest_success)
} else := sprintf(`%s has no successful backup (RPO %v hours)%s`, [what, b.rpo_hours, _invalid_text(b)])

# Stale: older than the RPO; or none at all once the object is older than its RPO.
_stale(b) if {
	b.stale == true
	is_string(b.newest_success)
}

_stale(b) if {
	b.stale == true
	not is_string(b.newest_success)
	b.young != true
}

# METADATA
# title: CloudNativePG backup older than the RPO
# description: >-
#   The newest successful backup of a live CloudNativePG Cluster (the newer of
#   status.lastSuccessfulBackup and the stoppedAt of its completed Backup
#   objects) is older than its RPO, or there is none while the cluster is older
#   than its RPO. The RPO is the cluster's driftaudit.io/rpo-hours annotation,
#   else the first matching backups.overrides entry, else backups.rpo_hours.
# custom:
#   id: DA-BAK-013
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Cluster]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Check the cluster's ScheduledBackup (suspended? schedule?), the Backup objects
#     and the instance manager's logs; take a backup now (kubectl cnpg backup).
deny_cnpg_backup_stale contains finding if {
	_is_cnpg_cluster
	b := _backup_facts
	_stale(b)
	finding := {
		"msg": _stale_message(sprintf(`CloudNativePG Cluster "%s"`, [data.driftaudit.lib.name]), b),
		"path": "status.lastSuccessfulBackup",
	}
}

_error_suffix(last, key) := sprintf(": %s", [last[key]]) if {
	is_string(last[key])
	last[key] != ""
} else := ""

# METADATA
# title: CloudNativePG last backup failed
# description: >-
#   The newest Backup object of a live CloudNativePG Cluster (by stoppedAt, else
#   startedAt) is in phase failed.
# custom:
#   id: DA-BAK-014
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Cluster]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Read the failed Backup's status.error and the instance manager's logs (object
#     store credentials, bucket, network), fix the cause and take a backup now.
deny_cnpg_backup_failed contains finding if {
	_is_cnpg_cluster
	input.state == "live"
	last := input.facts.status.last_backup
	is_object(last)
	last.phase == "failed"
	finding := {
		"msg": sprintf(
			`CloudNativePG Cluster "%s": the newest backup, Backup "%s" at %v, failed%s`,
			[data.driftaudit.lib.name, last.name, last.time, _error_suffix(last, "error")],
		),
		"path": "status",
	}
}

# METADATA
# title: CloudNativePG WAL archiving failing
# description: >-
#   A live CloudNativePG Cluster's ContinuousArchiving condition is False: WAL
#   segments are not archived, so point-in-time recovery stops at the last
#   archived segment and pg_wal fills up.
# custom:
#   id: DA-BAK-015
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Cluster]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Read the condition's message and the instance manager's logs (barman-cloud-wal-archive),
#     fix the object store access, and check that archiving resumes (kubectl cnpg status).
deny_cnpg_archiving_failing contains finding if {
	_is_cnpg_cluster
	input.state == "live"
	archiving := input.facts.status.continuous_archiving
	is_object(archiving)
	archiving.status == "False"
	finding := {
		"msg": sprintf(
			`CloudNativePG Cluster "%s": WAL archiving is failing (ContinuousArchiving False since %v%s)`,
			[data.driftaudit.lib.name, archiving.last_transition_time, _condition_detail(archiving)],
		),
		"path": "status.conditions",
	}
}

_condition_detail(c) := sprintf(", %s: %s", [c.reason, c.message]) if {
	is_string(c.reason)
	is_string(c.message)
} else := sprintf(", %s", [c.reason]) if {
	is_string(c.reason)
} else := ""

# METADATA
# title: CloudNativePG recoverability window shorter than the retention
# description: >-
#   The point-in-time recovery window of a live CloudNativePG Cluster (from
#   status.firstRecoverabilityPoint to the scan time) is shorter than the
#   retention it should keep: its spec.backup.retentionPolicy when set, else
#   backups.min_retention_days (or a matching backups.overrides entry). Not
#   reported for a cluster younger than that retention.
# custom:
#   id: DA-BAK-016
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: medium
#   category: backups
#   kinds: [Cluster]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Find out why older backups are gone (retention, object store lifecycle rules,
#     failed backups) and check that base backups and WAL are kept for the whole window.
deny_cnpg_recoverability_short contains finding if {
	_is_cnpg_cluster
	input.state == "live"
	status := input.facts.status
	hours := status.recoverability_hours
	is_number(hours)
	days := status.expected_recoverability_days
	is_number(days)
	hours < days * 24
	_older_than_hours(status.backup, days * 24)
	finding := {
		"msg": sprintf(
			`CloudNativePG Cluster "%s" can be recovered back to %s only, %v hours before the scan; %s asks for %v days`,
			[data.driftaudit.lib.name, status.first_recoverability_point, hours, status.retention_from, days],
		),
		"path": "status.firstRecoverabilityPoint",
	}
}

# The object is older than `hours` (or its age is unknown).
_older_than_hours(b, hours) if {
	is_number(b.object_age_hours)
	b.object_age_hours >= hours
}

_older_than_hours(b, _) if {
	not is_number(b.object_age_hours)
}

# METADATA
# title: Velero backup older than the RPO
# description: >-
#   The newest Completed Backup of a live Velero Schedule (Backups labelled
#   velero.io/schedule-name, by status.completionTimestamp) is older than its
#   RPO, or there is none while the Schedule is older than its RPO. The RPO is
#   resolved as for DA-BAK-013.
# custom:
#   id: DA-BAK-017
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Schedule]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Check the Schedule (paused? schedule?), its recent Backups (velero backup describe,
#     velero backup logs) and the Velero server's logs; take a backup now
#     (velero backup create --from-schedule).
deny_velero_backup_stale contains finding if {
	_is_velero_schedule
	b := _backup_facts
	_stale(b)
	finding := {
		"msg": _stale_message(sprintf(`Velero Schedule "%s"`, [data.driftaudit.lib.name]), b),
		"path": "status.lastBackup",
	}
}

# METADATA
# title: Velero last backup failed
# description: >-
#   The newest finished Backup of a live Velero Schedule is Failed,
#   PartiallyFailed or FailedValidation (PartiallyFailed is reported as medium:
#   some items were backed up).
# custom:
#   id: DA-BAK-018
#   controls:
#     - ISO27001-2022:A.8.13
#     - SOC2-2017:A1.2
#   severity: high
#   category: backups
#   kinds: [Schedule]
#   sources: [kubernetes]
#   facts: [status]
#   remediation: >-
#     Read the Backup's errors (velero backup describe --details, velero backup logs),
#     fix the cause (storage location, volume snapshotter, hooks) and take a backup now.
deny_velero_backup_failed contains finding if {
	_is_velero_schedule
	input.state == "live"
	last := input.facts.status.last_backup
	is_object(last)
	last.phase in {"Failed", "PartiallyFailed", "FailedValidation"}
	finding := {
		"msg": sprintf(
			`Velero Schedule "%s": the newest backup, Backup "%s" at %v, ended %s (%v errors, %v warnings)%s`,
			[data.driftaudit.lib.name, last.name, last.time, last.phase, object.get(last, "errors", 0), object.get(last, "warnings", 0), _error_suffix(last, "failureReason")],
		),
		"severity": _velero_failed_severity(last.phase),
		"path": "status",
	}
}

_velero_failed_severity("PartiallyFailed") := "medium"

_velero_failed_severity(phase) := "high" if phase != "PartiallyFailed"
