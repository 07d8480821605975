//! What the operators say happened, as facts (`input.facts.status`,
//! docs/policy-input.md): cert-manager `Certificate`s, CloudNativePG
//! `Cluster`s and Velero `Schedule`s of the live state. Derived from the
//! live objects' `status` (which drift keeps ignoring), joined across objects
//! where one object's facts need others (a Schedule's backups, a Cluster's
//! `Backup`s, a Certificate's Secret), and computed against the scan clock
//! (`--now`), after the live state is read and before the rules run.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::backups::{bounded, condition, format_time, hours, parse_time};
use crate::model::{LiveTarget, Source};

/// Sets `facts.status` on every live operator object of `targets`.
pub fn attach(targets: &mut [LiveTarget], now: OffsetDateTime, baselines: &Value) {
    for target in targets.iter_mut() {
        let mut status = Vec::new();
        for evidence in crate::backups::cloudnativepg_clusters(target, now, baselines)
            .into_iter()
            .chain(crate::backups::velero_schedules(target, now, baselines))
        {
            status.push((evidence.identity, evidence.facts));
        }
        // Secrets read with a parsed certificate: a Certificate whose Secret
        // is one of them has its expiry judged there, not twice. (A Secret
        // whose certificate does not parse leaves status.notAfter judged.)
        let read_secrets: BTreeSet<(String, String)> = target
            .inventory
            .iter()
            .filter(|r| {
                r.identity.source == Source::Kubernetes
                    && r.identity.group.is_empty()
                    && r.identity.kind == "Secret"
                    && r.facts
                        .get("certificates")
                        .and_then(Value::as_array)
                        .is_some_and(|c| c.iter().any(|fact| fact.get("error").is_none()))
            })
            .map(|r| (r.identity.namespace.clone(), r.identity.name.clone()))
            .collect();
        for resource in target.inventory.resources.values_mut() {
            let id = &resource.identity;
            if id.source != Source::Kubernetes
                || id.group != "cert-manager.io"
                || id.kind != "Certificate"
            {
                continue;
            }
            let secret = resource
                .body
                .pointer("/spec/secretName")
                .and_then(Value::as_str)
                .map(|name| (id.namespace.clone(), name.to_string()));
            let secret_read = secret.as_ref().is_some_and(|s| read_secrets.contains(s));
            let facts = certificate_status(&resource.body, now, baselines, secret_read);
            if secret_read {
                if let Value::Object(map) = &mut resource.facts {
                    map.remove("certificates");
                }
            }
            set_status(&mut resource.facts, facts);
        }
        for (identity, facts) in status {
            if let Some(resource) = target.inventory.resources.get_mut(&identity) {
                set_status(&mut resource.facts, facts);
            }
        }
        // CronJobs: the RPO DA-BAK-005 holds a backup CronJob to, resolved
        // here like every other kind's (annotation, backups.overrides,
        // backups.rpo_hours); whether it is a backup CronJob the rule decides.
        for resource in target.inventory.resources.values_mut() {
            let id = &resource.identity;
            if id.source != Source::Kubernetes || id.group != "batch" || id.kind != "CronJob" {
                continue;
            }
            if let Some(rpo) = crate::backups::rpo_for(baselines, &resource.body) {
                set_status(&mut resource.facts, json!({"rpo_hours": hours(rpo)}));
            }
        }
    }
}

fn set_status(facts: &mut Value, status: Value) {
    if !facts.is_object() {
        *facts = json!({});
    }
    if let Value::Object(map) = facts {
        map.insert("status".into(), status);
    }
}

/// A cert-manager `Certificate`'s status as facts: its `Ready` condition,
/// `notAfter`, `renewalTime` and the hours since it passed, the last
/// failure, and whether its Secret was read (then the Secret's certificate
/// is judged for expiry, not `status.notAfter`).
pub fn certificate_status(
    body: &Value,
    now: OffsetDateTime,
    baselines: &Value,
    secret_read: bool,
) -> Value {
    let status = |key: &str| body.pointer(&format!("/status/{key}"));
    let mut invalid = Vec::new();
    let mut time_of = |key: &str| match status(key) {
        None | Some(Value::Null) => None,
        Some(value) => {
            let parsed = value.as_str().and_then(parse_time);
            if parsed.is_none() {
                invalid.push(format!("status.{key}"));
            }
            parsed
        }
    };
    let not_after = time_of("notAfter");
    let renewal = time_of("renewalTime");
    let last_failure = time_of("lastFailureTime");
    let grace_hours = baselines
        .pointer("/certificates/renewal_grace_hours")
        .and_then(Value::as_f64)
        .filter(|h| h.is_finite() && *h >= 0.0)
        .unwrap_or(0.0);
    // Renewal is overdue when renewalTime has passed by more than the grace:
    // a renewal moves renewalTime (and notAfter) forward, so one that stays
    // in the past means the issued certificate was not replaced.
    let overdue_hours = renewal
        .map(|t| (now - t).whole_seconds())
        .filter(|s| *s as f64 > grace_hours * 3600.0)
        .map(|s| s.div_euclid(3600));
    let ready = condition(body, "Ready");
    let ready_since_hours = ready
        .get("last_transition_time")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .map(|t| (now - t).whole_seconds().div_euclid(3600));
    json!({
        "ready": ready,
        "ready_since_hours": ready_since_hours,
        "not_after": not_after.map(format_time),
        "renewal_time": renewal.map(format_time),
        "renewal_overdue_hours": overdue_hours,
        "renewal_grace_hours": grace_hours,
        "not_after_passed": not_after.map(|t| t <= now),
        "last_failure_time": last_failure.map(format_time),
        "failed_issuance_attempts": status("failedIssuanceAttempts").map(bounded).filter(Value::is_number),
        "secret_name": body.pointer("/spec/secretName").map(bounded).filter(Value::is_string),
        "secret_read": secret_read,
        "has_status": body.get("status").is_some_and(Value::is_object),
        "invalid": invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn renewal_is_overdue_past_the_grace_and_bad_times_are_named() {
        let baselines = json!({"certificates": {"renewal_grace_hours": 24}});
        let body = json!({"status": {
            "notAfter": "2026-12-01T00:00:00Z", "renewalTime": "2026-11-20T00:00:00Z",
            "conditions": [{"type": "Ready", "status": "False", "reason": "Failed", "message": "x", "lastTransitionTime": "2026-11-20T00:00:00Z"}],
            "failedIssuanceAttempts": 3, "lastFailureTime": "yesterday"}});
        let facts = certificate_status(&body, datetime!(2026-11-22 12:00 UTC), &baselines, false);
        assert_eq!(facts["renewal_overdue_hours"], 60);
        assert_eq!(facts["ready"]["status"], "False");
        assert_eq!(facts["ready_since_hours"], 60);
        assert_eq!(facts["failed_issuance_attempts"], 3);
        assert_eq!(facts["invalid"], json!(["status.lastFailureTime"]));
        let facts = certificate_status(&body, datetime!(2026-11-20 23:00 UTC), &baselines, false);
        assert_eq!(
            facts["renewal_overdue_hours"],
            Value::Null,
            "within the grace"
        );
        // Wrong types: no panic, nothing made up.
        let hostile = json!({"status": {"notAfter": 7, "renewalTime": {"a": 1}, "conditions": "Ready",
            "failedIssuanceAttempts": "many"}});
        let facts =
            certificate_status(&hostile, datetime!(2026-11-22 12:00 UTC), &baselines, false);
        assert_eq!(facts["ready"], Value::Null);
        assert_eq!(facts["failed_issuance_attempts"], Value::Null);
        assert_eq!(
            facts["invalid"],
            json!(["status.notAfter", "status.renewalTime"])
        );
    }

    fn target(objects: Vec<Value>) -> LiveTarget {
        let mut inventory = crate::model::Inventory::default();
        for body in objects {
            let origin = crate::model::Origin::Live {
                target: "prod".into(),
                endpoint: "https://127.0.0.1".into(),
            };
            let resource =
                crate::sources::kubernetes::kubernetes_resource(body, origin, None, "default")
                    .unwrap();
            inventory.insert(resource).unwrap();
        }
        LiveTarget {
            name: "prod".into(),
            sources: vec![Source::Kubernetes],
            inventory,
            coverage: vec![],
            uncompared_kinds: vec![],
            identity: Default::default(),
        }
    }

    fn velero_backup(name: &str, phase: Value, completed: Value) -> Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero", "labels": {"velero.io/schedule-name": "daily"}},
            "status": {"phase": phase, "completionTimestamp": completed, "errors": 1e300}})
    }

    #[test]
    fn overrides_pick_the_first_matching_entry_and_the_annotation_wins() {
        let baselines = json!({"backups": {"rpo_hours": 24, "min_retention_days": 7, "overrides": [
            {"namespace": "payments", "labels": {"tier": "gold"}, "rpo_hours": 1},
            {"namespace": "payments", "rpo_hours": 4},
            {"labels": {"tier": "archive"}, "min_retention_days": 90},
            {"namespace": "payments", "rpo_hours": -3}]}});
        let object = |ns: &str, labels: Value, annotations: Value| json!({"metadata": {"namespace": ns, "labels": labels, "annotations": annotations}});
        let rpo = |body: &Value| crate::backups::rpo_for(&baselines, body);
        assert_eq!(
            rpo(&object("payments", json!({"tier": "gold"}), json!({}))),
            Some(3600)
        );
        assert_eq!(
            rpo(&object("payments", json!({}), json!({}))),
            Some(4 * 3600)
        );
        assert_eq!(rpo(&object("shop", json!({}), json!({}))), Some(24 * 3600));
        assert_eq!(
            rpo(&object(
                "payments",
                json!({}),
                json!({"driftaudit.io/rpo-hours": "168"})
            )),
            Some(168 * 3600)
        );
        // Only what the rules accept as an annotation: no exponent, sign or space.
        for bogus in ["1e3", "-4", " 4", "inf", "4.", ".5", "a week"] {
            assert_eq!(
                rpo(&object(
                    "shop",
                    json!({}),
                    json!({"driftaudit.io/rpo-hours": bogus})
                )),
                Some(24 * 3600),
                "{bogus}"
            );
        }
        assert_eq!(
            rpo(&object(
                "shop",
                json!({}),
                json!({"driftaudit.io/rpo-hours": "1.5"})
            )),
            Some(5400)
        );
        let archive = crate::backups::thresholds_for(
            &baselines,
            &object("shop", json!({"tier": "archive"}), json!({})),
        );
        assert_eq!(archive.min_retention_days, Some(90.0));
        assert_eq!(archive.rpo_seconds, Some(24 * 3600));
    }

    #[test]
    fn velero_schedules_join_their_backups_and_bad_times_are_not_fresh() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let baselines = json!({"backups": {"rpo_hours": 24}});
        let schedule = json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": "daily", "namespace": "velero", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"schedule": "0 1 * * *"}});
        // Thousands of backups, newest failed, one with a bad time, one of another schedule.
        let mut objects = vec![schedule.clone()];
        for day in 0..3000 {
            let time = (now - time::Duration::days(3000 - day) + time::Duration::hours(1))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            objects.push(velero_backup(
                &format!("daily-{day:05}"),
                json!("Completed"),
                json!(time),
            ));
        }
        objects.push(velero_backup(
            "daily-bad",
            json!("Completed"),
            json!("2026-13-45"),
        ));
        objects.push(velero_backup(
            "daily-future",
            json!("Completed"),
            json!("9999-12-31T00:00:00Z"),
        ));
        objects.push(velero_backup(
            "daily-new",
            json!("PartiallyFailed"),
            json!("2026-11-21T01:30:00Z"),
        ));
        let started = std::time::Instant::now();
        let rows = crate::backups::velero_schedules(&target(objects), now, &baselines);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(rows.len(), 1);
        let row = &rows[0].row;
        assert_eq!(row.newest_success.as_deref(), Some("2026-11-20T13:00:00Z"));
        assert_eq!(row.age_seconds, Some(23 * 3600));
        assert!(!row.stale);
        assert_eq!(row.last_failure.as_deref(), Some("2026-11-21T01:30:00Z"));
        assert_eq!(rows[0].facts["last_backup"]["phase"], "PartiallyFailed");
        assert_eq!(rows[0].facts["last_backup"]["errors"], json!(1e300));
        assert_eq!(
            rows[0].facts["backup"]["invalid"],
            json!([
                "Backup status.completionTimestamp",
                "Backup status.completionTimestamp (after the scan clock)"
            ])
        );

        // Only backups with unreadable times: no success, stale.
        let objects = vec![
            schedule,
            velero_backup("daily-x", json!("Completed"), json!(12345)),
            velero_backup("daily-y", json!({"phase": 1}), json!("yesterday")),
        ];
        let rows = crate::backups::velero_schedules(&target(objects), now, &baselines);
        assert_eq!(rows[0].row.newest_success, None);
        assert!(rows[0].row.stale);
        assert_eq!(rows[0].row.evidence, "no successful velero backup");
    }

    #[test]
    fn cloudnativepg_clusters_take_the_newest_of_status_and_backups() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let baselines = json!({"backups": {"rpo_hours": 24, "min_retention_days": 7}});
        let cluster = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
            "metadata": {"name": "shop-db", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"backup": {"retentionPolicy": "30d"}},
            "status": {"lastSuccessfulBackup": "2026-11-18T02:00:00Z", "firstRecoverabilityPoint": "2026-11-16T12:00:00Z",
                "conditions": [{"type": "ContinuousArchiving", "status": "False", "reason": "ContinuousArchivingFailing",
                    "message": "x".repeat(5000), "lastTransitionTime": "2026-11-21T09:00:00Z"}]}});
        let backup = |name: &str, phase: &str, stopped: &str| {
            json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "shop"}, "spec": {"cluster": {"name": "shop-db"}},
            "status": {"phase": phase, "startedAt": stopped, "stoppedAt": stopped, "error": "AccessDenied"}})
        };
        let objects = vec![
            cluster,
            backup("b1", "completed", "2026-11-19T02:10:00Z"),
            backup("b2", "failed", "2026-11-20T02:05:00Z"),
        ];
        let rows = crate::backups::cloudnativepg_clusters(&target(objects), now, &baselines);
        let (row, facts) = (&rows[0].row, &rows[0].facts);
        assert_eq!(row.newest_success.as_deref(), Some("2026-11-19T02:10:00Z"));
        assert_eq!(row.evidence, "Backup shop/b1 status.stoppedAt");
        assert!(row.stale, "57h > 24h");
        assert_eq!(row.last_failure.as_deref(), Some("2026-11-20T02:05:00Z"));
        assert_eq!(facts["last_backup"]["phase"], "failed");
        assert_eq!(facts["continuous_archiving"]["status"], "False");
        assert_eq!(
            facts["continuous_archiving"]["message"]
                .as_str()
                .unwrap()
                .len(),
            300
        );
        assert_eq!(facts["recoverability_hours"], 120);
        assert_eq!(facts["expected_recoverability_days"], 30.0);
    }

    #[test]
    fn a_certificate_is_judged_by_its_secret_when_that_was_read_and_parsed() {
        let now = datetime!(2026-11-22 00:00 UTC);
        let certificate = |name: &str, secret: &str| {
            json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                "metadata": {"name": name, "namespace": "shop"}, "spec": {"secretName": secret},
                "status": {"notAfter": "2026-12-01T00:00:00Z", "renewalTime": "2026-11-10T00:00:00Z"}})
        };
        let secret = |name: &str, crt: &str| {
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": name, "namespace": "shop"},
                "data": {"tls.crt": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, crt)}})
        };
        let pem = include_str!("../fixtures/demo/repo/apps/shop/shop-tls.yaml");
        let pem: String = pem
            .lines()
            .skip_while(|l| !l.contains("BEGIN CERTIFICATE"))
            .take_while(|l| !l.contains("tls.key"))
            .map(|l| format!("{}\n", l.trim()))
            .collect();
        let mut targets = vec![target(vec![
            certificate("read", "read-tls"),
            secret("read-tls", &pem),
            certificate("broken", "broken-tls"),
            secret("broken-tls", "not a certificate"),
            certificate("absent", "absent-tls"),
        ])];
        attach(
            &mut targets,
            now,
            &json!({"certificates": {"renewal_grace_hours": 24}}),
        );
        let facts = |name: &str| {
            targets[0]
                .inventory
                .iter()
                .find(|r| r.identity.kind == "Certificate" && r.identity.name == name)
                .unwrap()
                .facts
                .clone()
        };
        assert_eq!(
            facts("read").get("certificates"),
            None,
            "judged on its Secret"
        );
        assert_eq!(facts("read")["status"]["secret_read"], true);
        assert_eq!(facts("read")["status"]["renewal_overdue_hours"], 288);
        for name in ["broken", "absent"] {
            assert_eq!(
                facts(name)["certificates"][0]["not_after"],
                "2026-12-01T00:00:00Z",
                "{name}: judged on status.notAfter"
            );
            assert_eq!(facts(name)["status"]["secret_read"], false);
        }
    }
}
