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
    NoApiVersion,
    NoKind,
    /// No (or an empty) `metadata.name`, and no `metadata.generateName` that
    /// could stand in for it: the kind is given.
    NoName(String),
    /// A `List` whose `items` is not a list: what it is instead.
    ItemsNotAList(&'static str),
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestError::NoApiVersion => {
                f.write_str("no `apiVersion`: not a Kubernetes manifest")
            }
            ManifestError::NoKind => f.write_str("no `kind`: not a Kubernetes manifest"),
            ManifestError::NoName(kind) => write!(
                f,
                "{kind} has neither `metadata.name` nor `metadata.generateName`"
            ),
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
    lines: Option<Arc<LineMap>>,
    default_namespace: &str,
    position: Option<usize>,
) -> Result<Resource, ManifestError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let api_version = field("apiVersion").ok_or(ManifestError::NoApiVersion)?;
    let kind = field("kind").ok_or(ManifestError::NoKind)?;
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
        _ => return Err(ManifestError::NoName(kind)),
    };
    let namespace = match metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
    {
        Some(ns) if !is_cluster_scoped(&kind) => ns.to_string(),
        _ if is_cluster_scoped(&kind) => String::new(),
        _ => default_namespace.to_string(),
    };
    let mut facts = Value::Object(Default::default());
    if redact::is_secret(&api_version, &kind) {
        let values = redact::secret_values(&body);
        facts = facts::secret_facts(&namespace, &name, &values);
        drop(values);
        if let Some(metadata) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert("namespace".into(), Value::String(namespace.clone()));
        }
        redact::redact_secret(&mut body);
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
            ManifestError::NoName("Job".into())
        );
    }

    #[test]
    fn neither_name_nor_generate_name_is_an_error() {
        for metadata in [
            json!({}),
            json!({"name": ""}),
            json!({"generateName": ""}),
            json!(7),
        ] {
            let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
            let error =
                declared_kubernetes_resource(body, declared(), None, "default", 1).unwrap_err();
            assert_eq!(
                error.to_string(),
                "ConfigMap has neither `metadata.name` nor `metadata.generateName`"
            );
        }
    }
}
