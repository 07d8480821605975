//! OpenReports (`openreports.io/v1alpha1`, the successor of the Kubernetes
//! policy WG's PolicyReport): a YAML stream of `Report` objects, one per
//! namespaced Kubernetes resource with findings, in that resource's
//! namespace and scoped to it (as Kyverno's per-resource reports are), and
//! `ClusterReport` objects for cluster-scoped resources, for resources of the
//! other sources (PostgreSQL, Traefik, backups), and one for the scan itself
//! (`driftaudit-scan`: whole-inventory findings, input errors and coverage
//! gaps as `error` results). Valid against the CRDs
//! (`../shared/schemas/openreports.io_*.yaml`) and applyable with
//! `kubectl apply -f -`. A pure function of the report: the only time is the
//! report's `now`, and objects come sorted. See docs/formats.md.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{Finding, Report};
use crate::model::{ResourceRef, Source};

const API_VERSION: &str = "openreports.io/v1alpha1";
/// The report's `source`: the engine that manages it.
const SOURCE: &str = "driftaudit";
/// The name of the ClusterReport that describes the scan itself.
const SCAN_REPORT: &str = "driftaudit-scan";
/// Kubernetes' limit on a DNS subdomain name (`metadata.name`).
const MAX_NAME: usize = 253;

/// The identity a report is made for: a resource in an environment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    source: &'static str,
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
    environment: Option<String>,
}

impl Key {
    fn of(resource: &ResourceRef, environment: Option<&String>) -> Key {
        Key {
            source: resource.source.as_str(),
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
            namespace: resource.namespace.clone(),
            name: resource.name.clone(),
            environment: environment.cloned(),
        }
    }

    fn kubernetes(&self) -> bool {
        self.source == Source::Kubernetes.as_str()
    }

    /// A `Report` in the resource's namespace, or a `ClusterReport`:
    /// cluster-scoped Kubernetes resources, every other source (a
    /// PostgreSQL server is not a Kubernetes namespace), and a declared
    /// namespace no cluster could have (not a DNS label).
    fn report_namespace(&self) -> Option<&str> {
        let label = self.namespace.len() <= 63
            && !self.namespace.contains('.')
            && is_dns_subdomain(&self.namespace);
        (self.kubernetes() && label).then_some(self.namespace.as_str())
    }

    /// The referent, as an `ObjectReference` (`scope` and `results[].resources`).
    fn object_reference(&self) -> Value {
        let mut reference = Map::new();
        reference.insert("apiVersion".into(), json!(self.api_version));
        reference.insert("kind".into(), json!(self.kind));
        if self.kubernetes() && !self.namespace.is_empty() {
            reference.insert("namespace".into(), json!(self.namespace));
        }
        reference.insert("name".into(), json!(self.name));
        Value::Object(reference)
    }

    /// A short digest of the whole identity, for names that need one.
    fn digest(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.source,
            &self.api_version,
            &self.kind,
            &self.namespace,
            &self.name,
            self.environment.as_deref().unwrap_or(""),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `driftaudit-<kind>-<name>`, lowercased, when that is a valid DNS
    /// subdomain name; else `hashed_name`.
    fn plain_name(&self) -> String {
        let plain = format!("driftaudit-{}-{}", self.kind, self.name).to_ascii_lowercase();
        if is_dns_subdomain(&plain) {
            plain
        } else {
            self.hashed_name()
        }
    }

    /// The plain name with every character outside `[a-z0-9]` made a `-`,
    /// cut to fit, and `-<8 hex digits of the identity>` appended.
    fn hashed_name(&self) -> String {
        let mut name = String::new();
        for c in format!("driftaudit-{}-{}", self.kind, self.name).chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                name.push(c);
            } else if !name.ends_with('-') {
                name.push('-');
            }
        }
        name.truncate(MAX_NAME - 9);
        let name = name.trim_end_matches('-');
        format!("{name}-{}", self.digest())
    }
}

/// Kubernetes' `IsDNS1123Subdomain`: at most 253 characters, dot-separated
/// labels of `[a-z0-9-]` that start and end with a letter or digit.
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= MAX_NAME
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The OpenReports objects of `report` as a YAML stream (`---` before each).
pub fn render(report: &Report) -> String {
    let timestamp = timestamp(&report.scan.now);
    let drift = drift_statuses(report);

    // Fixed findings are left out: they are not in the scanned state.
    let mut groups: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    let mut inventory: Vec<&Finding> = Vec::new();
    for finding in report.findings.iter().chain(&report.suppressed_findings) {
        match &finding.resource {
            Some(resource) => groups
                .entry(Key::of(resource, finding.environment.as_ref()))
                .or_default()
                .push(finding),
            None => inventory.push(finding),
        }
    }

    // Names: plain when unique in their namespace (or among cluster
    // reports), else every one of the clashing names gets its digest.
    let mut taken: BTreeMap<(Option<&str>, String), usize> = BTreeMap::new();
    taken.insert((None, SCAN_REPORT.to_string()), 1);
    for key in groups.keys() {
        *taken
            .entry((key.report_namespace(), key.plain_name()))
            .or_default() += 1;
    }

    let mut objects: Vec<(Option<String>, String, Value)> = Vec::new();
    for (key, group) in &groups {
        let namespace = key.report_namespace();
        let plain = key.plain_name();
        let name = if taken[&(namespace, plain.clone())] > 1 {
            key.hashed_name()
        } else {
            plain
        };
        let results: Vec<Value> = group
            .iter()
            .map(|finding| finding_result(report, finding, Some(key), &drift, &timestamp))
            .collect();
        let object = object(
            namespace,
            &name,
            Some(key.object_reference()),
            Map::new(),
            results,
        );
        objects.push((namespace.map(str::to_string), name, object));
    }
    // Cluster reports first, then namespaced ones, each sorted by name.
    objects.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));

    let mut scan_results: Vec<Value> = inventory
        .iter()
        .map(|finding| finding_result(report, finding, None, &drift, &timestamp))
        .collect();
    for error in &report.errors {
        let mut result = Map::new();
        result.insert("policy".into(), json!("driftaudit/input"));
        result.insert("rule".into(), json!(error.code.as_str()));
        result.insert("category".into(), json!("input"));
        result.insert("result".into(), json!("error"));
        result.insert("message".into(), json!(error.to_string()));
        insert_timestamp(&mut result, &timestamp);
        scan_results.push(Value::Object(result));
    }
    for gap in &report.coverage {
        let mut result = Map::new();
        result.insert("policy".into(), json!("driftaudit/coverage"));
        result.insert("rule".into(), json!("coverage-gap"));
        result.insert("category".into(), json!("coverage"));
        result.insert("result".into(), json!("error"));
        result.insert(
            "message".into(),
            json!(format!("not checked: {} ({})", gap.scope, gap.reason)),
        );
        insert_timestamp(&mut result, &timestamp);
        let mut properties = Map::new();
        properties.insert("source".into(), json!(gap.source.as_str()));
        if !gap.target.is_empty() {
            properties.insert("target".into(), json!(gap.target));
        }
        properties.insert("scope".into(), json!(gap.scope));
        result.insert("properties".into(), Value::Object(properties));
        scan_results.push(Value::Object(result));
    }
    let scan = object(
        None,
        SCAN_REPORT,
        None,
        scan_annotations(report),
        scan_results,
    );

    let mut out = String::new();
    for object in std::iter::once(&scan).chain(objects.iter().map(|(_, _, o)| o)) {
        out.push_str("---\n");
        out.push_str(&crate::yaml::to_yaml(object));
    }
    escape_unprintable(&out)
}

/// YAML (and kubectl's go-yaml) refuses DEL, the C1 controls and a BOM
/// inside a document, and reads NEL, LS and PS as line breaks; JSON, which
/// quotes our strings, leaves them raw. The YAML writer quotes every
/// non-ASCII or control-bearing string, so each such character is inside a
/// double-quoted scalar, where `\uXXXX` means it.
fn escape_unprintable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A `Report` (with a namespace) or a `ClusterReport`, with its summary.
fn object(
    namespace: Option<&str>,
    name: &str,
    scope: Option<Value>,
    annotations: Map<String, Value>,
    results: Vec<Value>,
) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    if let Some(namespace) = namespace {
        metadata.insert("namespace".into(), json!(namespace));
    }
    metadata.insert(
        "labels".into(),
        json!({"app.kubernetes.io/managed-by": "driftaudit"}),
    );
    if !annotations.is_empty() {
        metadata.insert("annotations".into(), Value::Object(annotations));
    }
    let count = |outcome: &str| results.iter().filter(|r| r["result"] == outcome).count();
    let summary = json!({
        "pass": count("pass"),
        "fail": count("fail"),
        "warn": count("warn"),
        "error": count("error"),
        "skip": count("skip"),
    });
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(API_VERSION));
    object.insert(
        "kind".into(),
        json!(if namespace.is_some() {
            "Report"
        } else {
            "ClusterReport"
        }),
    );
    object.insert("metadata".into(), Value::Object(metadata));
    if let Some(scope) = scope {
        object.insert("scope".into(), scope);
    }
    object.insert("source".into(), json!(SOURCE));
    object.insert("summary".into(), summary);
    object.insert("results".into(), Value::Array(results));
    Value::Object(object)
}

/// What was scanned, on the scan's ClusterReport (annotation values are free text).
fn scan_annotations(report: &Report) -> Map<String, Value> {
    let mut annotations = Map::new();
    let scan = &report.scan;
    annotations.insert("driftaudit/version".into(), json!(report.tool.version));
    annotations.insert("driftaudit/now".into(), json!(scan.now));
    if let Some(declared) = &scan.declared {
        annotations.insert("driftaudit/declared".into(), json!(declared));
    }
    if let Some(commit) = &scan.commit {
        annotations.insert("driftaudit/commit".into(), json!(commit));
    }
    if !scan.live.is_empty() {
        annotations.insert("driftaudit/live".into(), json!(scan.live.join(", ")));
    }
    annotations.insert(
        "driftaudit/result".into(),
        json!(format!(
            "{} (exit {})",
            serde_json::to_value(report.summary.result)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            report.summary.exit_code
        )),
    );
    annotations
}

/// One result for one finding: `fail` at or above `--fail-on`, `warn`
/// below it (reported, not failing the gate), `skip` when suppressed.
fn finding_result(
    report: &Report,
    finding: &Finding,
    key: Option<&Key>,
    drift: &BTreeMap<Key, Vec<(String, &'static str)>>,
    timestamp: &Option<(i64, u32)>,
) -> Value {
    let outcome = if finding.suppression.is_some() {
        "skip"
    } else if report
        .summary
        .fail_on
        .is_some_and(|threshold| finding.severity >= threshold)
    {
        "fail"
    } else {
        "warn"
    };
    let mut result = Map::new();
    result.insert(
        "policy".into(),
        json!(format!("driftaudit/{}", finding.category)),
    );
    result.insert("rule".into(), json!(finding.rule));
    result.insert("category".into(), json!(finding.category));
    result.insert("severity".into(), json!(finding.severity.as_str()));
    result.insert("result".into(), json!(outcome));
    result.insert("message".into(), json!(finding.message));
    insert_timestamp(&mut result, timestamp);
    if let Some(key) = key {
        result.insert("resources".into(), json!([key.object_reference()]));
    }

    let mut properties = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        properties.insert(name.to_string(), value);
    };
    set("title", finding.title.clone());
    set("fingerprint", finding.fingerprint.clone());
    set(
        "states",
        finding
            .states
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    if !finding.targets.is_empty() {
        set("targets", finding.targets.join(","));
    }
    if let Some(location) = &finding.location {
        set("file", location.file.clone());
        set("line", location.line.to_string());
    }
    if let Some(path) = &finding.path {
        set("path", path.clone());
    }
    if let Some(environment) = &finding.environment {
        set("environment", environment.clone());
    }
    if let Some(state) = finding.baseline_state {
        set(
            "baselineState",
            match state {
                super::BaselineState::New => "new",
                super::BaselineState::Existing => "existing",
            }
            .into(),
        );
    }
    if !finding.controls.is_empty() {
        set("controls", finding.controls.join(","));
    }
    set("remediation", finding.remediation.clone());
    if let Some(key) = key {
        if !key.kubernetes() {
            set("source", key.source.to_string());
            if !key.namespace.is_empty() {
                set("namespace", key.namespace.clone());
            }
        }
        let status = if !report.summary.drift_checked {
            Some("not_checked".to_string())
        } else {
            match drift.get(key).map(Vec::as_slice) {
                None | Some([]) => None,
                Some([(_, status)]) => Some(status.to_string()),
                Some(many) => Some(
                    many.iter()
                        .map(|(target, status)| format!("{target}={status}"))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            }
        };
        if let Some(status) = status {
            set("driftStatus", status);
        }
    }
    if let Some(suppression) = &finding.suppression {
        set("suppressedBy", suppression.by.clone());
        set("justification", suppression.reason.clone());
        if let Some(owner) = &suppression.owner {
            set("owner", owner.clone());
        }
        if let Some(expires) = &suppression.expires {
            set("expires", expires.clone());
        }
    }
    result.insert("properties".into(), json!(properties));
    Value::Object(result)
}

/// The drift status of every resource, per live target.
fn drift_statuses(report: &Report) -> BTreeMap<Key, Vec<(String, &'static str)>> {
    let mut statuses: BTreeMap<Key, BTreeSet<(String, &'static str)>> = BTreeMap::new();
    for drift in &report.drift {
        statuses
            .entry(Key::of(&drift.resource, drift.environment.as_ref()))
            .or_default()
            .insert((drift.target.clone(), drift.status.as_str()));
    }
    statuses
        .into_iter()
        .map(|(key, set)| (key, set.into_iter().collect()))
        .collect()
}

/// The report's `now` as seconds and nanoseconds since the epoch; none when
/// a report read back holds something else (the field is optional).
fn timestamp(now: &str) -> Option<(i64, u32)> {
    let time =
        time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339).ok()?;
    Some((time.unix_timestamp(), time.nanosecond()))
}

fn insert_timestamp(result: &mut Map<String, Value>, timestamp: &Option<(i64, u32)>) {
    if let Some((seconds, nanos)) = timestamp {
        result.insert(
            "timestamp".into(),
            json!({"seconds": seconds, "nanos": nanos}),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_subdomains_derived_from_kind_and_name() {
        let key = |kind: &str, name: &str| Key {
            source: "kubernetes",
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: "shop".into(),
            name: name.into(),
            environment: None,
        };
        assert_eq!(
            key("Deployment", "web").plain_name(),
            "driftaudit-deployment-web"
        );
        assert_eq!(
            key("ConfigMap", "a.b").plain_name(),
            "driftaudit-configmap-a.b"
        );
        let colon = key("ClusterRole", "system:controller:x").plain_name();
        assert!(
            colon.starts_with("driftaudit-clusterrole-system-controller-x-"),
            "{colon}"
        );
        assert_eq!(
            colon.len(),
            "driftaudit-clusterrole-system-controller-x-".len() + 8
        );
        let long = key("ConfigMap", &"x".repeat(300)).plain_name();
        assert_eq!(long.len(), MAX_NAME);
        for name in [colon, long, key("A", "Ü..-").plain_name()] {
            assert!(is_dns_subdomain(&name), "{name}");
        }
        // The digest covers the whole identity.
        let mut other = key("Deployment", "web");
        other.environment = Some("prod".into());
        assert_ne!(key("Deployment", "web").digest(), other.digest());
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain("A"));
        assert!(is_dns_subdomain("a.b-c"));
    }

    #[test]
    fn timestamps_come_from_the_report_clock() {
        assert_eq!(timestamp("2026-11-22T00:00:00Z"), Some((1_795_305_600, 0)));
        assert_eq!(
            timestamp("1970-01-01T00:00:01.5+00:00"),
            Some((1, 500_000_000))
        );
        assert_eq!(timestamp("yesterday"), None);
    }
}
