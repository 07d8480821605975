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

# Settings come from data.baselines.backups (baselines/default.yaml). Each one
# falls back to the documented default when the key is absent or has the wrong
# type, so the rules behave the same with or without the default baseline file.

default _settings := {}

_settings := s if {
	s := data.baselines.backups
	is_object(s)
}

_list(key, fallback) := v if {
	v := object.get(_settings, key, fallback)
	is_array(v)
} else := fallback

_rpo_hours_default := v if {
	v := object.get(_settings, "rpo_hours", 24)
	is_number(v)
	v > 0
} else := 24

_backup_label := "driftaudit.io/backup"

_rpo_annotation := "driftaudit.io/rpo-hours"

_kind := k if {
	k := input.identity.kind
	is_string(k)
} else := k if {
	k := input.resource.kind
	is_string(k)
} else := ""

# The API group, from the identity or else from the body's apiVersion.
_group := g if {
	g := input.identity.group
	is_string(g)
	g != ""
} else := g if {
	api_version := input.resource.apiVersion
	is_string(api_version)
	contains(api_version, "/")
	g := split(api_version, "/")[0]
} else := ""

_name := n if {
	n := input.resource.metadata.name
	is_string(n)
} else := n if {
	n := input.identity.name
	is_string(n)
} else := ""

_label := v if {
	v := input.resource.metadata.labels[_backup_label]
	is_string(v)
} else := ""

# A CronJob is a backup when labelled driftaudit.io/backup=true, or when its
# name matches backups.cronjob_name_patterns and it is not labelled "false".
_is_backup_cronjob if {
	_kind == "CronJob"
	_label == "true"
}

_is_backup_cronjob if {
	_kind == "CronJob"
	_label != "false"
	some pattern in _list("cronjob_name_patterns", ["backup|dump|snapshot"])
	is_string(pattern)
	regex.is_valid(pattern)
	regex.match(pattern, _name)
}

_is_cnpg_scheduled_backup if {
	_kind == "ScheduledBackup"
	_group == "postgresql.cnpg.io"
}

_is_velero_schedule if {
	_kind == "Schedule"
	_group == "velero.io"
}

_backup_kind := "backup CronJob" if _is_backup_cronjob

else := "CloudNativePG ScheduledBackup" if _is_cnpg_scheduled_backup

else := "Velero Schedule" if _is_velero_schedule

_is_timestamp(t) if {
	is_string(t)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$`, t)
}

# The RPO for this resource: its driftaudit.io/rpo-hours annotation, else the baseline.
_rpo_hours := to_number(v) if {
	v := input.resource.metadata.annotations[_rpo_annotation]
	is_string(v)
	regex.match(`^[0-9]+(\.[0-9]+)?$`, v)
	to_number(v) > 0
} else := _rpo_hours_default

# METADATA
# title: Backup CronJob suspended
# description: >-
#   A CronJob recognised as a backup (backups.cronjob_name_patterns or the label
#   driftaudit.io/backup=true) has spec.suspend set to true: no backup is taken.
# custom:
#   id: DA-BAK-001
#   severity: high
#   category: backups
#   kinds: [CronJob]
#   remediation: Set spec.suspend to false (or remove it) once the reason for suspending the backup is resolved.
deny_suspended_backup_cronjob contains finding if {
	_is_backup_cronjob
	input.resource.spec.suspend == true
	finding := {
		"msg": sprintf(`backup CronJob "%s" is suspended (spec.suspend: true)`, [_name]),
		"path": "spec.suspend",
	}
}

# METADATA
# title: CloudNativePG scheduled backup suspended
# description: A CloudNativePG ScheduledBackup has spec.suspend set to true, so no backup of its cluster is taken.
# custom:
#   id: DA-BAK-002
#   severity: high
#   category: backups
#   kinds: [ScheduledBackup]
#   remediation: Set spec.suspend to false (or remove it) on the ScheduledBackup.
deny_suspended_cnpg_backup contains finding if {
	_is_cnpg_scheduled_backup
	input.resource.spec.suspend == true
	finding := {
		"msg": sprintf(`ScheduledBackup "%s"%s is suspended (spec.suspend: true)`, [_name, _cnpg_cluster]),
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
#   severity: high
#   category: backups
#   kinds: [Schedule]
#   remediation: Set spec.paused to false (or run velero schedule unpause) on the Schedule.
deny_paused_velero_schedule contains finding if {
	_is_velero_schedule
	input.resource.spec.paused == true
	finding := {
		"msg": sprintf(`Velero Schedule "%s" is paused (spec.paused: true)`, [_name]),
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
#   severity: high
#   category: backups
#   remediation: Apply the declared resource (sync the GitOps application) and check why it was not deployed or was deleted.
deny_declared_backup_missing contains finding if {
	input.state == "declared"
	input.drift.status == "missing"
	kind := _backup_kind
	finding := {
		"msg": sprintf(`%s "%s" is declared but does not exist in the live state`, [kind, _name]),
		"path": "metadata.name",
	}
}

# METADATA
# title: Backup older than the RPO
# description: >-
#   The last successful run of a live backup CronJob (status.lastSuccessfulTime) is
#   older than the recovery point objective, backups.rpo_hours or the resource's
#   driftaudit.io/rpo-hours annotation, measured from the scan time. Skipped when
#   the CronJob has never succeeded.
# custom:
#   id: DA-BAK-005
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
	_is_timestamp(last)
	_is_timestamp(input.now)
	age_ns := time.parse_rfc3339_ns(input.now) - time.parse_rfc3339_ns(last)
	age_ns > (_rpo_hours * 3600) * 1000000000
	finding := {
		"msg": sprintf(
			`backup CronJob "%s" last succeeded at %s, %v hours before the scan (RPO %v hours)`,
			[_name, last, floor(age_ns / 3600000000000), _rpo_hours],
		),
		"path": "status.lastSuccessfulTime",
	}
}
