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
    /// No (or an empty) `metadata.name`: the kind is given.
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
                "{kind} has no `metadata.name` (generateName is not supported for declared objects)"
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
/// secret value gets past it.
pub fn kubernetes_resource(
    mut body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
    default_namespace: &str,
) -> Result<Resource, ManifestError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let api_version = field("apiVersion").ok_or(ManifestError::NoApiVersion)?;
    let kind = field("kind").ok_or(ManifestError::NoKind)?;
    let metadata = body.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ManifestError::NoName(kind.clone()))?
        .to_string();
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
    .with_lines(lines))
}
