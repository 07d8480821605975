//! The SARIF 2.1.0 report (GitHub code scanning, IDE viewers): one run whose
//! `tool.driver.rules` are the rules of the findings, one result per finding
//! (suppressed ones with their `suppressions`), and with `--sarif-drift` one
//! result per drifted field. Own serde types over the few SARIF objects used
//! (docs/formats.md says why not a crate). Deterministic: the report's order,
//! no time of day.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{BaselineState, Finding, Report, RuleMeta};
use crate::drift::{Drift, DriftStatus};
use crate::model::{Location, ResourceRef, Severity};

/// Where SARIF's `uri`s of repository files are relative to.
pub const SRCROOT: &str = "%SRCROOT%";
/// The base of the made-up locations of results that have no declared file.
pub const LIVE: &str = "LIVE";
/// The key of `partialFingerprints` (docs/fingerprints.md).
pub const FINGERPRINT_KEY: &str = "driftaudit/v1";

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/driftaudit/driftaudit";

/// What the SARIF report holds besides the findings.
#[derive(Debug, Clone, Copy, Default)]
pub struct SarifOptions {
    /// One result per drifted field (`--sarif-drift`).
    pub drift: bool,
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    original_uri_base_ids: BTreeMap<&'static str, UriBase>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct UriBase {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    severity: Severity,
    category: String,
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct SarifSuppression<'a> {
    kind: &'a str,
    status: &'static str,
    justification: &'a str,
    properties: SuppressionProperties<'a>,
}

#[derive(Serialize)]
struct SuppressionProperties<'a> {
    by: &'a str,
    /// A waiver's owner and last day (docs/waivers.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<&'a str>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    states: &'a [super::FindingState],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    targets: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    /// Who answers for it (docs/owners.md); left out when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
}

/// SARIF level of a severity: critical and high fail (`error`), medium warns,
/// low and info are notes.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score it buckets as critical
/// above 9.0, high from 7.0, medium from 4.0, low above 0).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The three made-up rules of drift results (`--sarif-drift`).
fn drift_rule(status: DriftStatus) -> RuleMeta {
    let (id, title, description, remediation) = match status {
        DriftStatus::Missing => (
            "drift/missing",
            "Declared resource missing live",
            "The resource is declared in Git but does not exist on the live target.",
            "Sync the target from Git (or remove the declaration if the resource is gone for good).",
        ),
        DriftStatus::Unmanaged => (
            "drift/unmanaged",
            "Live resource not declared",
            "The resource runs on the live target in a managed namespace but no declared file holds it.",
            "Declare it in Git, or delete it from the target.",
        ),
        _ => (
            "drift/modified",
            "Live field differs from Git",
            "A field of the live resource differs from what Git declares.",
            "Sync the target from Git, or change the declaration to what should run.",
        ),
    };
    RuleMeta {
        id: id.into(),
        title: title.into(),
        description: description.into(),
        severity: Severity::Medium,
        category: "drift".into(),
        remediation: remediation.into(),
        controls: Vec::new(),
    }
}

pub fn render(report: &Report, options: &SarifOptions) -> String {
    // The rules of the findings, sorted by id, then the drift rules used.
    let mut metas: Vec<RuleMeta> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let by_id = report.rules_by_id();
    for finding in report.findings.iter().chain(&report.suppressed_findings) {
        if seen.insert(finding.rule.as_str()) {
            metas.push(by_id[finding.rule.as_str()].clone());
        }
    }
    metas.sort_by(|a, b| a.id.cmp(&b.id));
    let drifted: Vec<&Drift> = if options.drift {
        report
            .drift
            .iter()
            .filter(|d| d.status != DriftStatus::InSync)
            .collect()
    } else {
        Vec::new()
    };
    for status in [
        DriftStatus::Modified,
        DriftStatus::Missing,
        DriftStatus::Unmanaged,
    ] {
        if drifted.iter().any(|d| d.status == status) {
            metas.push(drift_rule(status));
        }
    }
    let positions: std::collections::HashMap<&str, usize> = metas
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let index_of = |id: &str| positions[id];

    let mut results = Vec::new();
    for finding in report.findings.iter().chain(&report.suppressed_findings) {
        results.push(finding_result(finding, index_of(&finding.rule)));
    }
    for drift in drifted {
        let rule = drift_rule(drift.status);
        let rule_index = index_of(&rule.id);
        results.extend(drift_results(drift, rule_index, &metas[rule_index].id));
    }

    let mut bases = BTreeMap::new();
    bases.insert(
        SRCROOT,
        UriBase {
            description: Text {
                text: "The root of the declared repository".into(),
            },
        },
    );
    bases.insert(
        LIVE,
        UriBase {
            description: Text {
                text: "Not a file: live state that no declared file holds (kind/namespace/name)"
                    .into(),
            },
        },
    );
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool.name,
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules: metas.iter().map(rule).collect(),
                },
            },
            original_uri_base_ids: bases,
            invocations: vec![Invocation {
                execution_successful: report.errors.is_empty(),
            }],
            results,
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serialises");
    text.push('\n');
    text
}

fn rule(meta: &RuleMeta) -> Rule {
    let mut tags = vec!["security".to_string(), meta.category.clone()];
    tags.extend(meta.controls.iter().cloned());
    Rule {
        id: meta.id.clone(),
        name: rule_name(&meta.title),
        short_description: Text {
            text: meta.title.clone(),
        },
        full_description: Text {
            text: meta.description.clone(),
        },
        help: Help {
            text: format!("{}\n\nRemediation: {}", meta.description, meta.remediation),
            markdown: format!(
                "{}\n\n**Remediation:** {}",
                super::markdown::escape(&meta.description),
                super::markdown::escape(&meta.remediation)
            ),
        },
        default_configuration: Configuration {
            level: level(meta.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(meta.severity),
            severity: meta.severity,
            category: meta.category.clone(),
            tags,
        },
    }
}

/// `Certificate expired` → `CertificateExpired`: SARIF's `name` is an
/// identifier.
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn finding_result(finding: &Finding, rule_index: usize) -> SarifResult<'_> {
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY, finding.fingerprint.clone());
    SarifResult {
        rule_id: &finding.rule,
        rule_index,
        level: level(finding.severity),
        message: Text {
            text: finding.message.clone(),
        },
        locations: vec![location(
            finding.location.as_ref(),
            finding.resource.as_ref(),
            finding.environment.as_deref(),
        )],
        partial_fingerprints: fingerprints,
        baseline_state: finding.baseline_state.map(|s| match s {
            BaselineState::New => "new",
            BaselineState::Existing => "unchanged",
        }),
        suppressions: finding
            .suppression
            .iter()
            .map(|s| SarifSuppression {
                kind: s.kind,
                status: "accepted",
                justification: &s.reason,
                properties: SuppressionProperties {
                    by: &s.by,
                    owner: s.owner.as_deref(),
                    expires: s.expires.as_deref(),
                },
            })
            .collect(),
        properties: ResultProperties {
            severity: finding.severity.as_str(),
            resource: finding.resource.as_ref().map(display),
            environment: finding.environment.as_deref(),
            states: &finding.states,
            targets: &finding.targets,
            path: finding.path.as_deref(),
            owner: finding.owner.as_deref(),
        },
    }
}

/// One result per drifted field of a modified resource; one per missing or
/// unmanaged resource.
fn drift_results<'a>(
    drift: &'a Drift,
    rule_index: usize,
    rule_id: &'a str,
) -> Vec<SarifResult<'a>> {
    let resource = display(&drift.resource);
    let environment = drift.environment.as_deref();
    let result = |message: String, path: Option<&'a str>, at: Option<&Location>| {
        let mut fingerprints = BTreeMap::new();
        fingerprints.insert(
            FINGERPRINT_KEY,
            drift_fingerprint(drift, path.unwrap_or_default()),
        );
        SarifResult {
            rule_id,
            rule_index,
            level: "warning",
            message: Text { text: message },
            locations: vec![location(at, Some(&drift.resource), environment)],
            partial_fingerprints: fingerprints,
            baseline_state: None,
            suppressions: Vec::new(),
            properties: ResultProperties {
                severity: "medium",
                resource: Some(resource.clone()),
                environment,
                states: &[],
                targets: std::slice::from_ref(&drift.target),
                path,
                owner: drift.owner.as_deref(),
            },
        }
    };
    match drift.status {
        DriftStatus::Modified => drift
            .changes
            .iter()
            .map(|change| {
                let how = match change.kind {
                    crate::drift::ChangeKind::Modified => "differs live from Git",
                    crate::drift::ChangeKind::Added => "is set live but not in Git",
                    crate::drift::ChangeKind::Removed => "is set in Git but not live",
                };
                let by = change
                    .changed_by
                    .as_ref()
                    .map(|w| format!(" (written by {})", w.manager))
                    .unwrap_or_default();
                result(
                    format!(
                        "{resource} on {}: `{}` {how}{by}",
                        drift.target, change.path
                    ),
                    Some(&change.path),
                    change.location.as_ref().or(drift.location.as_ref()),
                )
            })
            .collect(),
        DriftStatus::Missing => vec![result(
            format!("{resource} is declared but missing on {}", drift.target),
            None,
            drift.location.as_ref(),
        )],
        DriftStatus::Unmanaged => vec![result(
            format!("{resource} runs on {} but is not declared", drift.target),
            None,
            None,
        )],
        DriftStatus::InSync => Vec::new(),
    }
}

/// Target, resource, status and field: stable across line moves.
fn drift_fingerprint(drift: &Drift, path: &str) -> String {
    let r = &drift.resource;
    let mut hash = Sha256::new();
    for part in [
        "drift",
        drift.target.as_str(),
        r.source.as_str(),
        &r.kind,
        &r.namespace,
        &r.name,
        drift.environment.as_deref().unwrap_or_default(),
        drift.status.as_str(),
        path,
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn display(resource: &ResourceRef) -> String {
    resource.display_name()
}

/// Source, kind, namespace (when there is one) and name.
fn parts(r: &ResourceRef) -> Vec<&str> {
    let mut parts = vec![r.source.as_str(), r.kind.as_str()];
    if !r.namespace.is_empty() {
        parts.push(&r.namespace);
    }
    parts.push(&r.name);
    parts
}

/// The declared file and line when there is one. A result without one (a
/// live-only resource, a whole-inventory rule) still needs a physical
/// location for GitHub code scanning, which rejects a file where any result
/// has none: it gets a made-up path under `LIVE`
/// (`driftaudit-live/<source>/<kind>/<namespace>/<name>`) that GitHub lists
/// without a code view; the logical location names the resource either way.
fn location(
    at: Option<&Location>,
    resource: Option<&ResourceRef>,
    environment: Option<&str>,
) -> SarifLocation {
    let logical = resource
        .map(|r| {
            let mut fully_qualified_name = parts(r).join("/");
            if let Some(environment) = environment {
                fully_qualified_name = format!("{environment}:{fully_qualified_name}");
            }
            LogicalLocation {
                name: r.name.clone(),
                fully_qualified_name,
                kind: "resource",
            }
        })
        .into_iter()
        .collect();
    let physical_location = match at {
        Some(at) => PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: encode_uri(&at.file),
                uri_base_id: SRCROOT,
            },
            region: (at.line > 0).then_some(Region {
                start_line: at.line,
            }),
        },
        None => {
            let path = match resource {
                Some(r) => std::iter::once("driftaudit-live".to_string())
                    .chain(parts(r).iter().map(|p| encode_uri(&p.replace('/', "_"))))
                    .collect::<Vec<_>>()
                    .join("/"),
                None => "driftaudit-live/inventory".to_string(),
            };
            PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: path,
                    uri_base_id: LIVE,
                },
                region: None,
            }
        }
    };
    SarifLocation {
        physical_location,
        logical_locations: logical,
    }
}

/// A relative path as a URI reference: every byte outside RFC 3986's
/// unreserved set (and `/`) percent-encoded.
pub fn encode_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded_and_names_are_identifiers() {
        assert_eq!(encode_uri("apps/a b/ü.yaml"), "apps/a%20b/%C3%BC.yaml");
        assert_eq!(
            rule_name("Privileged container (root)"),
            "PrivilegedContainerRoot"
        );
    }
}
