//! Every Kubernetes resource, declared and live, is built here.

use std::sync::Arc;

use serde_json::Value;

use crate::facts;
use crate::model::{api_group, Origin, Resource, Source};
use crate::redact;
use crate::yaml::LineMap;

/// Kinds the Kubernetes API serves without a namespace. A declared object of
/// any other kind without `metadata.namespace` lives in `default`.
const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "ConstraintTemplate",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED_KINDS.contains(&kind)
}

/// Why an object body is not a usable Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// Neither `apiVersion` nor `kind` (as strings).
    NoApiVersionNorKind,
    /// No `apiVersion`; the kind is given.
    NoApiVersion(String),
    /// No `kind`; the apiVersion is given.
    NoKind(String),
    /// No (or an empty) `metadata.name`, and no `metadata.generateName` that
    /// could stand in for it: the kind, and what is missing.
    NoName(String, MissingName),
    /// A `List` whose `items` is not a list: what it is instead.
    ItemsNotAList(&'static str),
}

/// What an object without a name lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingName {
    /// No `metadata` at all.
    Metadata,
    /// `metadata` is not a map (what it is instead).
    MetadataNotAMap(&'static str),
    /// `metadata` has no `name` (nor `generateName`).
    Name,
    /// `metadata.name` is empty or not a string.
    NameNotText,
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestError::NoApiVersionNorKind => f.write_str(
                "neither `apiVersion` nor `kind`: this document is not a Kubernetes object",
            ),
            ManifestError::NoApiVersion(kind) => write!(
                f,
                "`kind: {kind}` without `apiVersion`: a Kubernetes object needs both"
            ),
            ManifestError::NoKind(api_version) => write!(
                f,
                "`apiVersion: {api_version}` without `kind`: a Kubernetes object needs both"
            ),
            ManifestError::NoName(kind, missing) => match missing {
                MissingName::Metadata => write!(
                    f,
                    "{kind} has no `metadata` at all: it needs `metadata.name` (or `metadata.generateName`)"
                ),
                MissingName::MetadataNotAMap(found) => write!(
                    f,
                    "{kind}: `metadata` is {found}, not a map holding `name`"
                ),
                MissingName::Name => write!(
                    f,
                    "{kind} has `metadata` but no `metadata.name` (nor `metadata.generateName`)"
                ),
                MissingName::NameNotText => write!(
                    f,
                    "{kind}: `metadata.name` is empty or not a string (and there is no `metadata.generateName`)"
                ),
            },
            ManifestError::ItemsNotAList(found) => {
                write!(
                    f,
                    "`items` of a list must be a list of objects, not {found}"
                )
            }
        }
    }
}

impl std::error::Error for ManifestError {}

/// Builds a Kubernetes resource from an object body: checks the fields that make
/// its identity, derives facts from Secret material and redacts it. This is the
/// single entry point for Kubernetes objects, declared and live alike, so no
/// secret value gets past it. An object without `metadata.name` is refused:
/// live objects always have one (declared ones go through
/// [`declared_kubernetes_resource`]).
pub fn kubernetes_resource(
    body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
    default_namespace: &str,
) -> Result<Resource, ManifestError> {
    build(body, origin, lines, default_namespace, None)
}

/// [`kubernetes_resource`] for the object at `position` (from 1, items of a
/// `List` counted one by one) of a declared file. An object with only
/// `metadata.generateName` (an Argo CD hook Job) is given a name no live object
/// can have, [`generated_name`], and is marked so drift leaves it out.
pub fn declared_kubernetes_resource(
    body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
    default_namespace: &str,
    position: usize,
) -> Result<Resource, ManifestError> {
    build(body, origin, lines, default_namespace, Some(position))
}

/// The name of a declared object that only has `generateName`: the prefix,
/// then its file and position in `<...>`, e.g. `db-migrate-<hooks/migrate.yaml#2>`.
/// Stable while the file's objects keep their order, unique in the
/// repository, and never a real name (`<`, `>`, `#` and `/` are not allowed in
/// Kubernetes names).
pub fn generated_name(prefix: &str, file: &str, position: usize) -> String {
    format!("{prefix}<{file}#{position}>")
}

fn build(
    mut body: Value,
    origin: Origin,
    mut lines: Option<Arc<LineMap>>,
    default_namespace: &str,
    position: Option<usize>,
) -> Result<Resource, ManifestError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let (api_version, kind) = match (field("apiVersion"), field("kind")) {
        (Some(api_version), Some(kind)) => (api_version, kind),
        (None, None) => return Err(ManifestError::NoApiVersionNorKind),
        (None, Some(kind)) => return Err(ManifestError::NoApiVersion(kind)),
        (Some(api_version), None) => return Err(ManifestError::NoKind(api_version)),
    };
    let metadata = body.get("metadata");
    let text = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
    };
    let (name, generate_name) = match (text("name"), text("generateName"), &origin, position) {
        (Some(name), _, _, _) => (name.to_string(), None),
        (None, Some(prefix), Origin::Declared { file, .. }, Some(position)) => (
            generated_name(prefix, file, position),
            Some(prefix.to_string()),
        ),
        _ => {
            let missing = match metadata {
                None | Some(Value::Null) => MissingName::Metadata,
                Some(Value::Object(map)) if map.contains_key("name") => MissingName::NameNotText,
                Some(Value::Object(_)) => MissingName::Name,
                Some(other) => MissingName::MetadataNotAMap(match other {
                    Value::Bool(_) => "a boolean",
                    Value::Number(_) => "a number",
                    Value::String(_) => "a string",
                    _ => "a list",
                }),
            };
            return Err(ManifestError::NoName(kind, missing));
        }
    };
    let namespace = match metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(ns) if !is_cluster_scoped(&kind) => ns.to_string(),
        _ if is_cluster_scoped(&kind) => String::new(),
        _ => default_namespace.to_string(),
    };
    // The body names the namespace the identity has (one the manifest does
    // not name is given to it, as kubectl does before sending it): the
    // comparison, strict mode too, never sees a namespace Git did not set.
    if !namespace.is_empty() {
        if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("namespace".into(), Value::String(namespace.clone()));
        }
    }
    let mut facts = Value::Object(Default::default());
    if redact::is_secret(&api_version, &kind) {
        let values = redact::secret_values(&body);
        facts = facts::secret_facts(&namespace, &name, &values);
        drop(values);
        redact::redact_secret(&mut body);
        // `stringData` keys now live in `data`: their lines come along.
        lines = lines.map(|map| Arc::new(map.with_alias("stringData", "data")));
    } else if kind == "Certificate" && api_group(&api_version) == "cert-manager.io" {
        facts = facts::cert_manager_facts(&namespace, &name, &body);
    }
    redact::redact_urls(&mut body, &format!("{kind} {namespace}/{name}"));
    Ok(Resource::new(
        Source::Kubernetes,
        &api_version,
        &kind,
        &namespace,
        &name,
        body,
        origin,
    )
    .with_facts(facts)
    .with_lines(lines)
    .with_generate_name(generate_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn declared() -> Origin {
        Origin::Declared {
            file: "hooks/migrate.yaml".into(),
            line: 3,
            commit: None,
        }
    }

    #[test]
    fn a_declared_object_with_generate_name_gets_a_name_from_its_place() {
        let body = json!({"apiVersion": "batch/v1", "kind": "Job",
                          "metadata": {"generateName": "db-migrate-", "namespace": "shop"}});
        let resource =
            declared_kubernetes_resource(body.clone(), declared(), None, "default", 2).unwrap();
        assert_eq!(resource.identity.name, "db-migrate-<hooks/migrate.yaml#2>");
        assert_eq!(resource.identity.namespace, "shop");
        assert_eq!(resource.generate_name.as_deref(), Some("db-migrate-"));
        // The body is left as written.
        assert_eq!(resource.body["metadata"].get("name"), None);

        // A name wins over generateName, as with kubectl.
        let mut named = body.clone();
        named["metadata"]["name"] = json!("db-migrate");
        let resource = declared_kubernetes_resource(named, declared(), None, "default", 2).unwrap();
        assert_eq!(resource.identity.name, "db-migrate");
        assert_eq!(resource.generate_name, None);

        // Live objects always have a name: one without is refused.
        let live = Origin::Live {
            target: "prod".into(),
            endpoint: "api".into(),
        };
        assert_eq!(
            kubernetes_resource(body, live, None, "default").unwrap_err(),
            ManifestError::NoName("Job".into(), MissingName::Name)
        );
    }

    #[test]
    fn neither_name_nor_generate_name_is_an_error_saying_what_is_missing() {
        for (metadata, said) in [
            (json!({}), "ConfigMap has `metadata` but no `metadata.name` (nor `metadata.generateName`)"),
            (json!({"name": ""}), "ConfigMap: `metadata.name` is empty or not a string (and there is no `metadata.generateName`)"),
            (json!({"generateName": ""}), "ConfigMap has `metadata` but no `metadata.name` (nor `metadata.generateName`)"),
            (json!(7), "ConfigMap: `metadata` is a number, not a map holding `name`"),
            (Value::Null, "ConfigMap has no `metadata` at all: it needs `metadata.name` (or `metadata.generateName`)"),
        ] {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
            let error =
                declared_kubernetes_resource(body, declared(), None, "default", 1).unwrap_err();
            assert_eq!(error.to_string(), said);
        }
        let error = declared_kubernetes_resource(json!({"kind": "Pod"}), declared(), None, "d", 1)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`kind: Pod` without `apiVersion`: a Kubernetes object needs both"
        );
        let error =
            declared_kubernetes_resource(json!({"a": 1}), declared(), None, "d", 1).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("neither `apiVersion` nor `kind`"));
    }
}
