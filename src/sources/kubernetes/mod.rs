//! Kubernetes: manifests in Git (plain or rendered by kustomize) and the
//! objects a cluster serves. This module builds every Kubernetes resource
//! (`kubernetes_resource`) and says how drift treats them (`RULES`).

pub mod kustomize;
pub mod live;
pub mod normalize;
mod rules;

pub use live::{collect, read_plan, KubeOptions, ReadPlan, DEFAULT_ORPHAN_KINDS};
pub use rules::KubernetesRules;

/// How drift treats Kubernetes objects.
pub static RULES: KubernetesRules = KubernetesRules;

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use serde_json::Value;

use super::collect::{unread_target, Collected, Collector, LiveScope};
use crate::facts;
use crate::model::{api_group, Deadline, Identity, LiveTarget, Origin, Resource, Source};
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

/// Builds a Kubernetes resource from an object body: checks the fields that make
/// its identity, derives facts from Secret material and redacts it. This is the
/// single entry point for Kubernetes objects, declared and live alike, so no
/// secret value gets past it.
pub fn kubernetes_resource(
    mut body: Value,
    origin: Origin,
    lines: Option<Arc<LineMap>>,
    default_namespace: &str,
) -> Result<Resource, String> {
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let api_version = field("apiVersion").ok_or("no `apiVersion`: not a Kubernetes manifest")?;
    let kind = field("kind").ok_or("no `kind`: not a Kubernetes manifest")?;
    let metadata = body.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{kind} has no `metadata.name` (generateName is not supported for declared objects)"))?
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
    Ok(Resource {
        identity: Identity {
            source: Source::Kubernetes,
            group: api_group(&api_version).to_string(),
            kind,
            namespace,
            name,
        },
        api_version,
        body,
        origin,
        facts,
        lines,
    })
}

/// A Kubernetes live source: one target per context (or the pod's cluster).
impl Collector for KubeOptions {
    fn label(&self) -> String {
        format!("kubernetes {}", self.target_names().join(", "))
    }

    fn collect(&self, scope: &LiveScope<'_>, deadline: Deadline) -> BoxFuture<'static, Collected> {
        let plan = read_plan(
            scope.declared,
            scope.managed_namespaces,
            scope.orphan_kinds,
            scope.managed_selector.map(str::to_string),
        );
        let mut options = self.clone();
        options.deadline = Some(deadline);
        async move { Collected::from(collect(&options, &plan).await) }.boxed()
    }

    fn unread(&self, reason: &str) -> Vec<LiveTarget> {
        self.target_names()
            .into_iter()
            .map(|name| {
                unread_target(
                    name,
                    Source::Kubernetes,
                    "the whole cluster".into(),
                    String::new(),
                    reason,
                )
            })
            .collect()
    }
}

impl KubeOptions {
    /// How reports name the targets of these options.
    fn target_names(&self) -> Vec<String> {
        if self.in_cluster {
            vec!["in-cluster".into()]
        } else if self.contexts.is_empty() {
            vec!["current-context".into()]
        } else {
            self.contexts.clone()
        }
    }
}
