//! From rule results to report findings: each verdict becomes a finding of
//! its rule, suppressed when an exemption covers it (the rule's own, else a
//! namespace exemption of `lib.exemptions` for its category), findings that
//! say the same thing about the same resource are merged (their states and
//! targets joined), and rules that failed to evaluate become one input error
//! each, however many inputs they failed on.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::engine::{Exemption, PolicySet, UnitResult, Verdict};
use super::input::ResourceUnit;
use super::library::RuleInfo;
use crate::diag::{Code, Place};
use crate::model::{InputError, Resource};
use crate::report::{Finding, FindingState, Suppression};

/// The message and suppression of `verdict`: its rule's own exemption, else
/// the first exemption of its category that applies. An exemption of its
/// category that is refused adds why to the message (the finding counts).
fn judge(
    verdict: &Verdict,
    rule: &RuleInfo,
    exemptions: &[Exemption],
) -> (String, Option<Suppression>) {
    let suppression = |e: &Exemption| Suppression {
        kind: "external",
        by: e.by.clone(),
        reason: e.reason.clone(),
        owner: None,
        expires: None,
    };
    if let Some(own) = &verdict.suppressed {
        return (verdict.message.clone(), Some(suppression(own)));
    }
    let mut message = verdict.message.clone();
    for exemption in exemptions.iter().filter(|e| e.category == rule.category) {
        match &exemption.refused {
            None => return (message, Some(suppression(exemption))),
            Some(why) => {
                message = format!("{message} (not exempt by {}: {why})", exemption.by);
            }
        }
    }
    (message, None)
}

/// The fingerprint of a finding (`docs/fingerprints.md`): SHA-256 over the
/// rule, the resource's identity (source, API group, kind, namespace, name,
/// environment), the field path and the offending value at that path, or the
/// message when the rule names no path or a whole element. Never the file or the line: a finding keeps its
/// fingerprint when lines shift or its resource moves to another file.
/// 32 hex digits.
pub fn fingerprint(
    rule: &str,
    resource: Option<&Resource>,
    environment: Option<&str>,
    path: Option<&str>,
    message: &str,
) -> String {
    let mut hasher = Sha256::new();
    let mut field = |text: &str| {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    };
    field("driftaudit-fingerprint-1");
    field(rule);
    match resource {
        Some(r) => {
            let id = &r.identity;
            field(&format!("{:?}", id.source));
            field(&id.group);
            field(&id.kind);
            field(&id.namespace);
            field(&id.name);
        }
        None => field("inventory"),
    }
    field(environment.unwrap_or_default());
    field(path.unwrap_or_default());
    // The offending value when the path names a field (a scalar, or a field
    // that is absent); when it names a whole element (a container, an RBAC
    // rule, a subject), the message, which names what in it offends: an
    // unrelated edit inside the element (an image bump) keeps the finding.
    let value = path.map(|path| resource.and_then(|r| crate::yaml::value_at(&r.body, path)));
    match value {
        Some(None) => field("value:null"),
        // A secret value is a keyed digest (random per run unless a key is
        // given): it stands for "a secret value", never for which one.
        Some(Some(Value::String(text))) if crate::redact::is_digest(text) => field("value:secret"),
        Some(Some(v)) if !v.is_object() && !v.is_array() => field(&format!("value:{v}")),
        _ => field(&format!("message:{message}")),
    }
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Findings of `results` (one per unit: the resource units first, in order,
/// then the whole-inventory inputs), sorted as the report lists them: most
/// severe first, then by category, rule, resource and message. Rules that
/// failed are pushed onto `errors`.
pub fn collect_findings(
    policies: &PolicySet,
    units: &[ResourceUnit],
    results: Vec<UnitResult>,
    errors: &mut Vec<InputError>,
) -> Vec<Finding> {
    type Key = (
        String,
        String,
        String,
        Option<String>,
        Option<Suppression>,
        String,
    );
    let mut merged: BTreeMap<Key, Finding> = BTreeMap::new();
    let mut failures: BTreeMap<(usize, String), (String, usize)> = BTreeMap::new();
    for (position, result) in results.into_iter().enumerate() {
        let unit = units.get(position);
        for (rule, message) in result.errors {
            let subject = unit
                .map(|u| {
                    let state = FindingState::from(u.state).as_str();
                    format!("{} ({state})", u.resource.identity)
                })
                .unwrap_or_else(|| "the whole inventory".into());
            let first_line = message.lines().next().unwrap_or_default().to_string();
            failures
                .entry((rule, first_line))
                .and_modify(|(_, count)| *count += 1)
                .or_insert((format!("{subject}: {message}"), 1));
        }
        for verdict in result.verdicts {
            let rule = &policies.rules[verdict.rule];
            let (message, suppression) = judge(&verdict, rule, &result.exemptions);
            let (resource, location, state, target) = match unit {
                Some(u) => (
                    Some(u.resource.reference()),
                    u.declared
                        .and_then(|d| d.location_of(verdict.path.as_deref())),
                    FindingState::from(u.state),
                    u.target,
                ),
                None => (None, None, FindingState::Inventory, None),
            };
            let key_resource = resource
                .as_ref()
                .map(|r| format!("{:?}", (r.source, &r.kind, &r.namespace, &r.name)))
                .unwrap_or_default();
            let environment = unit
                .and_then(|u| u.declared)
                .map(|d| d.identity.environment.clone())
                .filter(|e| !e.is_empty());
            let key = (
                rule.id.clone(),
                key_resource,
                message.clone(),
                verdict.path.clone(),
                suppression.clone(),
                environment.clone().unwrap_or_default(),
            );
            // Hashed once per finding, not again for each side or target merged into it.
            let finding = merged.entry(key).or_insert_with(|| Finding {
                owner: None,
                history: None,
                fingerprint: fingerprint(
                    &rule.id,
                    unit.map(|u| u.resource),
                    environment.as_deref(),
                    verdict.path.as_deref(),
                    &verdict.message,
                ),
                rule: rule.id.clone(),
                title: rule.title.clone(),
                severity: verdict.severity,
                category: rule.category.clone(),
                message,
                resource,
                environment,
                states: Vec::new(),
                targets: Vec::new(),
                location,
                path: verdict.path.clone(),
                remediation: rule.remediation.clone(),
                controls: rule.controls.clone(),
                baseline_state: None,
                suppression,
            });
            finding.severity = finding.severity.max(verdict.severity);
            if !finding.states.contains(&state) {
                finding.states.push(state);
                finding.states.sort();
            }
            if let Some(t) = target {
                if !finding.targets.iter().any(|known| known == t) {
                    finding.targets.push(t.to_string());
                    finding.targets.sort();
                }
            }
        }
    }
    for ((rule, _), (message, count)) in failures {
        let info = &policies.rules[rule];
        let more = if count > 1 {
            format!(" (and {} more inputs)", count - 1)
        } else {
            String::new()
        };
        errors.push(InputError::error(
            Code::PolicyFailed,
            Place::parse(&info.location),
            format!(
                "rule {} failed, so it was not checked{more}: {message}",
                info.id
            ),
        ));
    }
    let mut findings: Vec<Finding> = merged.into_values().collect();
    findings.sort_by(report_order);
    findings
}

/// The order the report lists findings in: most severe first, then by
/// category, rule, resource, environment and message.
pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.category.cmp(&b.category))
        .then_with(|| a.rule.cmp(&b.rule))
        .then_with(|| a.resource.cmp(&b.resource))
        .then_with(|| a.environment.cmp(&b.environment))
        .then_with(|| a.message.cmp(&b.message))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Identity, Origin, Resource, Severity, Source};
    use crate::policy::engine::Verdict;
    use crate::policy::input::Side;
    use crate::policy::PolicyFile;

    fn policies() -> PolicySet {
        let file = PolicyFile {
            name: "p.rego".into(),
            text: "package p\n\n# METADATA\n# title: T\n# custom:\n#   id: T-1\n#   severity: low\n#   category: c\ndeny contains \"m\" if true\n".into(),
        };
        let (set, errors) = PolicySet::compile(&[file], &json!({}), &[]);
        assert!(errors.is_empty(), "{errors:?}");
        set
    }

    fn resource() -> Resource {
        Resource {
            identity: Identity {
                source: Source::Kubernetes,
                group: String::new(),
                kind: "Pod".into(),
                namespace: "shop".into(),
                name: "p".into(),
                environment: String::new(),
            },
            api_version: "v1".into(),
            body: json!({}),
            origin: Origin::Declared {
                file: "p.yaml".into(),
                line: 1,
                commit: None,
            },
            facts: json!({}),
            lines: None,
            generate_name: None,
        }
    }

    #[test]
    fn fingerprints_ignore_file_line_and_key_order_but_not_the_value() {
        let mut pod = resource();
        pod.body = json!({"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true, "runAsUser": 0}}]}});
        let path = Some("spec.containers[0].securityContext.privileged");
        let base = fingerprint("R-1", Some(&pod), None, path, "m");
        assert_eq!(base.len(), 32);
        let mut moved = pod.clone();
        moved.origin = Origin::Declared {
            file: "elsewhere/p.yaml".into(),
            line: 40,
            commit: Some("abc".into()),
        };
        moved.body = json!({"spec": {"containers": [{"securityContext": {"runAsUser": 0, "privileged": true}, "name": "a", "image": "b"}]}});
        assert_eq!(
            fingerprint("R-1", Some(&moved), None, path, "other words"),
            base
        );
        let mut changed = pod.clone();
        changed.body["spec"]["containers"][0]["securityContext"]["privileged"] = json!("true");
        assert_ne!(fingerprint("R-1", Some(&changed), None, path, "m"), base);
        assert_ne!(fingerprint("R-2", Some(&pod), None, path, "m"), base);
        assert_ne!(
            fingerprint("R-1", Some(&pod), Some("prod"), path, "m"),
            base
        );
        let mut renamed = pod.clone();
        renamed.identity.name = "q".into();
        assert_ne!(fingerprint("R-1", Some(&renamed), None, path, "m"), base);
        // A path to a whole element: an edit inside it keeps the finding,
        // the message tells findings apart.
        let element = Some("spec.containers[0]");
        let whole = fingerprint("R-1", Some(&pod), None, element, "m");
        assert_eq!(whole, fingerprint("R-1", Some(&moved), None, element, "m"));
        assert_ne!(whole, fingerprint("R-1", Some(&pod), None, element, "n"));
        // An absent field hashes as null, whatever the message says.
        let absent = Some("spec.containers[0].securityContext.runAsNonRoot");
        assert_eq!(
            fingerprint("R-1", Some(&pod), None, absent, "m"),
            fingerprint("R-1", Some(&moved), None, absent, "n")
        );
        // A secret value never enters a fingerprint: its digest changes
        // from run to run.
        let mut secret = pod.clone();
        secret.body =
            json!({"data": {"tls.crt": crate::redact::digest("a", "b", "tls.crt", b"x")}});
        let mut other = pod.clone();
        other.body = json!({"data": {"tls.crt": crate::redact::digest("a", "b", "tls.crt", b"y")}});
        let cert = Some("data[\"tls.crt\"]");
        assert_eq!(
            fingerprint("R-1", Some(&secret), None, cert, "m"),
            fingerprint("R-1", Some(&other), None, cert, "m")
        );
        // Without a path the message tells findings apart.
        let a = fingerprint("R-1", Some(&pod), None, None, "image a:latest");
        assert_ne!(
            a,
            fingerprint("R-1", Some(&pod), None, None, "image b:latest")
        );
        assert_eq!(
            a,
            fingerprint("R-1", Some(&moved), None, None, "image a:latest")
        );
    }

    fn verdict(severity: Severity) -> Verdict {
        Verdict {
            rule: 0,
            message: "m".into(),
            severity,
            path: None,
            suppressed: None,
        }
    }

    #[test]
    fn one_finding_per_rule_resource_and_message_across_sides_and_targets() {
        let policies = policies();
        let resource = resource();
        let unit = |state, target| ResourceUnit {
            resource: &resource,
            declared: Some(&resource),
            counterpart: None,
            drift: None,
            state,
            target: Some(target),
        };
        let units = [
            unit(Side::Live, "b"),
            unit(Side::Declared, "a"),
            unit(Side::Live, "a"),
        ];
        let found = |severity| UnitResult {
            verdicts: vec![verdict(severity)],
            errors: Vec::new(),
            exemptions: Vec::new(),
        };
        // The last one is a whole-inventory input, after the resource units.
        let results = vec![
            found(Severity::Low),
            found(Severity::High),
            found(Severity::Low),
            found(Severity::Low),
        ];
        let mut errors = Vec::new();
        let findings = collect_findings(&policies, &units, results, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(findings.len(), 2);
        let on_resource = &findings[0];
        assert_eq!(on_resource.severity, Severity::High, "the highest wins");
        assert_eq!(
            on_resource.states,
            [FindingState::Declared, FindingState::Live]
        );
        assert_eq!(on_resource.targets, ["a", "b"]);
        assert_eq!(on_resource.resource.as_ref().unwrap().name, "p");
        let inventory = &findings[1];
        assert_eq!(inventory.states, [FindingState::Inventory]);
        assert!(inventory.resource.is_none() && inventory.targets.is_empty());
        assert_eq!(
            serde_json::to_value(&on_resource.states).unwrap(),
            json!(["declared", "live"])
        );
    }

    #[test]
    fn a_failing_rule_is_one_error_however_many_inputs() {
        let policies = policies();
        let resource = resource();
        let unit = ResourceUnit {
            resource: &resource,
            declared: Some(&resource),
            counterpart: None,
            drift: None,
            state: Side::Declared,
            target: None,
        };
        let failed = || UnitResult {
            verdicts: Vec::new(),
            errors: vec![(0, "boom\nat line 3".into())],
            exemptions: Vec::new(),
        };
        let mut errors = Vec::new();
        let findings = collect_findings(
            &policies,
            &[unit.clone(), unit],
            vec![failed(), failed(), failed()],
            &mut errors,
        );
        assert!(findings.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].location, "p.rego:9");
        assert_eq!(
            errors[0].message,
            "rule T-1 failed, so it was not checked (and 2 more inputs): Pod shop/p (declared): boom\nat line 3"
        );
    }

    #[test]
    fn exemptions_suppress_by_category_refusals_say_why_and_a_rules_own_wins() {
        let policies = policies();
        let rule = &policies.rules[0];
        assert_eq!(rule.category, "c");
        let exemption = |category: &str, refused: Option<&str>| Exemption {
            category: category.into(),
            by: format!("{category}.exempt_namespaces"),
            reason: "r".into(),
            refused: refused.map(str::to_string),
        };
        let plain = verdict(Severity::High);
        // another category's exemption does nothing
        assert_eq!(
            judge(&plain, rule, &[exemption("other", None)]),
            ("m".to_string(), None)
        );
        let (message, suppression) = judge(&plain, rule, &[exemption("c", None)]);
        assert_eq!(message, "m");
        let suppression = suppression.unwrap();
        assert_eq!(
            (
                suppression.kind,
                suppression.by.as_str(),
                suppression.reason.as_str()
            ),
            ("external", "c.exempt_namespaces", "r")
        );
        assert_eq!(
            judge(
                &plain,
                rule,
                &[exemption("c", Some("it grants everything"))]
            ),
            (
                "m (not exempt by c.exempt_namespaces: it grants everything)".to_string(),
                None
            )
        );
        let own = Verdict {
            suppressed: Some(exemption("", None)),
            ..plain
        };
        let (_, suppression) = judge(&own, rule, &[exemption("c", Some("no"))]);
        assert_eq!(suppression.unwrap().by, ".exempt_namespaces");
    }
}
