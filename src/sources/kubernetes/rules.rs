//! How drift treats Kubernetes objects: server-written fields are stripped,
//! API-server defaults and equivalent spellings are not drift (see
//! `normalize`), objects the cluster makes itself are not unmanaged, and the
//! unmanaged search stays inside managed namespaces.

use serde_json::Value;

use super::{managed, normalize};
use crate::model::{api_group, Identity, Inventory, Resource, Source};
use crate::sources::rules::{SourceRules, WriteRecord, Writer};

/// The Kubernetes rules, registered in `sources::rules`.
pub struct KubernetesRules;

impl SourceRules for KubernetesRules {
    fn source(&self) -> Source {
        Source::Kubernetes
    }

    fn compared_body(&self, body: &Value) -> Value {
        normalize::strip_server_fields(body)
    }

    fn is_server_default(&self, kind: &str, path: &str, value: &Value) -> bool {
        normalize::is_server_default(kind, path, value)
    }

    fn values_equivalent(&self, declared: &Value, live: &Value, path: &str) -> bool {
        normalize::values_equivalent(declared, live, path)
    }

    fn made_by_system(&self, resource: &Resource, live: &Inventory) -> bool {
        made_by_cluster(resource, live)
    }

    fn made_from(&self, declared: &Resource, live: &Resource) -> bool {
        made_from_generate_name(declared, live)
    }

    fn namespaced(&self) -> bool {
        true
    }

    fn is_builtin(&self, resource: &Resource) -> bool {
        is_apiserver_object(&resource.identity) || is_backup_record(&resource.identity)
    }

    fn records_writers(&self) -> bool {
        true
    }

    fn write_record(&self, live: &Value) -> Option<WriteRecord> {
        managed::write_record(live)
    }

    fn trusts(&self, writer: &Writer, configured: &[String]) -> bool {
        managed::trusts(writer, configured)
    }

    fn whole_maps(&self, kind: &str) -> &'static [&'static str] {
        match kind {
            "ConfigMap" => &["data", "binaryData"],
            // `stringData` is merged into `data` when a Secret is read.
            "Secret" => &["data", "stringData"],
            _ => &[],
        }
    }
}

/// The API server's own objects: the `default/kubernetes` Service it
/// reconciles, and the Endpoints and EndpointSlice that point at itself.
fn is_apiserver_object(id: &Identity) -> bool {
    id.namespace == "default"
        && id.name == "kubernetes"
        && matches!(
            (id.group.as_str(), id.kind.as_str()),
            ("", "Service") | ("", "Endpoints") | ("discovery.k8s.io", "EndpointSlice")
        )
}

/// Whether the API server made `live` from `declared`'s `generateName` (an
/// Argo CD hook Job left after its run): same kind and namespace, and the
/// name is the prefix (cut to 58 characters) and the 5 random characters the
/// API server appends, from its alphabet.
fn made_from_generate_name(declared: &Resource, live: &Resource) -> bool {
    const ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";
    let Some(prefix) = &declared.generate_name else {
        return false;
    };
    let prefix = prefix.get(..58).unwrap_or(prefix);
    let (d, l) = (&declared.identity, &live.identity);
    d.group == l.group
        && d.kind == l.kind
        && d.namespace == l.namespace
        && l.name
            .strip_prefix(prefix)
            .is_some_and(|suffix| suffix.len() == 5 && suffix.chars().all(|c| ALPHABET.contains(c)))
}

/// Kinds controllers and the API server create by themselves.
const CONTROLLER_KINDS: [&str; 6] = [
    "Endpoints",
    "EndpointSlice",
    "Event",
    "Lease",
    "ControllerRevision",
    "PodMetrics",
];

/// Whether a live object is made by the cluster itself rather than by a person.
/// An owner reference counts only when the owner it names (kind, name and uid)
/// was read from the same target: anyone can write `ownerReferences` by hand,
/// and a dangling one must not hide an object. Service-account token Secrets are
/// not excluded: since Kubernetes 1.24 they are made by people, and a hand-made
/// one is a long-lived credential that must be declared.
fn made_by_cluster(resource: &Resource, live: &Inventory) -> bool {
    let id = &resource.identity;
    CONTROLLER_KINDS.contains(&id.kind.as_str())
        || (id.kind == "ServiceAccount" && id.name == "default")
        || (id.kind == "ConfigMap" && id.name == "kube-root-ca.crt")
        || has_live_owner(resource, live)
}

/// A backup an operator keeps as a record: a Velero `Backup` or a
/// CloudNativePG `Backup`. The operator writes one for each run of a
/// schedule, and a person writes one with `velero backup create` or
/// `kubectl cnpg backup`; either is a record of a backup taken, not
/// configuration Git should hold, whatever schedule it names or whether that
/// schedule still exists. They are read for their status
/// (`input.facts.status`, the backup table), never unmanaged drift.
fn is_backup_record(id: &Identity) -> bool {
    matches!(
        (id.group.as_str(), id.kind.as_str()),
        ("velero.io", "Backup") | ("postgresql.cnpg.io", "Backup")
    )
}

fn has_live_owner(resource: &Resource, live: &Inventory) -> bool {
    let Some(owners) = resource
        .body
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
    else {
        return false;
    };
    owners.iter().any(|owner| {
        let field = |key: &str| owner.get(key).and_then(Value::as_str).unwrap_or_default();
        let (kind, name, uid) = (field("kind"), field("name"), field("uid"));
        if kind.is_empty() || name.is_empty() || uid.is_empty() {
            return false;
        }
        // Owners live in the object's namespace, or are cluster-scoped.
        [resource.identity.namespace.as_str(), ""]
            .into_iter()
            .any(|namespace| {
                let identity = Identity {
                    source: Source::Kubernetes,
                    group: api_group(field("apiVersion")).to_string(),
                    kind: kind.to_string(),
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    environment: String::new(),
                };
                live.get(&identity).is_some_and(|found| {
                    found.body.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid)
                })
            })
    })
}
