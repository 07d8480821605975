//! The policy input contract: what a Rego rule sees as `input`
//! (`docs/policy-input.md`), as typed values, and the list of inputs one scan
//! evaluates (every resource side that is judged, and one whole inventory per
//! live target for inventory rules).
//!
//! Fields are only ever added within a contract version; removing one or
//! changing its meaning bumps [`CONTRACT_VERSION`]. The field order here is the
//! order of the documented tables.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::drift::{made_by_cluster, source_is_declared, Change, Drift, DriftStatus};
use crate::facts::with_clock;
use crate::model::LiveTarget;
use crate::model::{Identity, Inventory, Resource};
use crate::report::FindingState;

/// `input.contract_version`.
pub const CONTRACT_VERSION: u32 = 1;

/// `input.identity`: which resource this is.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityInput<'a> {
    /// `kubernetes`, `traefik`, `postgres` or `backup`.
    pub source: &'static str,
    #[serde(rename = "apiVersion")]
    pub api_version: &'a str,
    pub group: &'a str,
    pub kind: &'a str,
    /// `""` for cluster-scoped objects.
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> IdentityInput<'a> {
    pub fn of(resource: &'a Resource) -> Self {
        let id = &resource.identity;
        IdentityInput {
            source: id.source.as_str(),
            api_version: &resource.api_version,
            group: &id.group,
            kind: &id.kind,
            namespace: &id.namespace,
            name: &id.name,
        }
    }
}

/// `input.drift`: the resource's drift on the target it is judged for.
#[derive(Debug, Clone, Serialize)]
pub struct DriftInput<'a> {
    pub status: DriftStatus,
    pub changes: &'a [Change],
}

impl<'a> DriftInput<'a> {
    pub fn of(drift: Option<&'a Drift>) -> Option<Self> {
        drift.map(|d| DriftInput {
            status: d.status,
            changes: &d.changes,
        })
    }
}

/// `input.state`: which side of a resource is under evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Declared,
    Live,
}

impl From<Side> for FindingState {
    fn from(side: Side) -> Self {
        match side {
            Side::Declared => FindingState::Declared,
            Side::Live => FindingState::Live,
        }
    }
}

/// The input of a per-resource rule (`scope: resource`).
#[derive(Debug, Clone, Serialize)]
pub struct ResourceInput<'a> {
    pub contract_version: u32,
    /// The body under evaluation, secret values already replaced by digests.
    pub resource: &'a Value,
    pub identity: IdentityInput<'a>,
    pub state: Side,
    /// The other side's body, when both exist.
    pub counterpart: Option<&'a Value>,
    /// Null when the resource is not compared with a live target.
    pub drift: Option<DriftInput<'a>>,
    /// Derived facts, with the dates measured against `now`.
    pub facts: Value,
    pub now: &'a str,
    /// The declared resource's environment (`docs/environments.md`); null
    /// when the scan has none or the object is under none.
    pub environment: Option<&'a str>,
}

/// One entry of `input.resources` for whole-inventory rules.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryEntry<'a> {
    pub identity: IdentityInput<'a>,
    pub declared: Option<&'a Value>,
    pub live: Option<&'a Value>,
    pub drift: Option<DriftInput<'a>>,
    pub facts: Value,
    /// As `input.environment` of per-resource rules.
    pub environment: Option<&'a str>,
}

/// The input of a whole-inventory rule (`scope: inventory`).
#[derive(Debug, Clone, Serialize)]
pub struct InventoryInput<'a> {
    pub contract_version: u32,
    pub now: &'a str,
    pub has_live: bool,
    pub resources: Vec<InventoryEntry<'a>>,
}

/// One resource side to evaluate, and where its findings belong.
#[derive(Debug, Clone)]
pub struct ResourceUnit<'a> {
    pub resource: &'a Resource,
    /// The declared resource (for locations), when there is one.
    pub declared: Option<&'a Resource>,
    pub counterpart: Option<&'a Resource>,
    pub drift: Option<&'a Drift>,
    pub state: Side,
    /// The live target it was judged for; `None` without live state.
    pub target: Option<&'a str>,
}

impl<'a> ResourceUnit<'a> {
    /// The declared side alone, compared with nothing.
    pub fn declared_only(resource: &'a Resource) -> Self {
        ResourceUnit {
            resource,
            declared: Some(resource),
            counterpart: None,
            drift: None,
            state: Side::Declared,
            target: None,
        }
    }

    /// The value Rego sees as `input`.
    pub fn input(&self, now: &'a str, clock: OffsetDateTime) -> ResourceInput<'a> {
        ResourceInput {
            contract_version: CONTRACT_VERSION,
            resource: &self.resource.body,
            identity: IdentityInput::of(self.resource),
            state: self.state,
            counterpart: self.counterpart.map(|r| &r.body),
            drift: DriftInput::of(self.drift),
            facts: with_clock(&self.resource.facts, clock),
            now,
            environment: self
                .declared
                .map(|d| d.identity.environment.as_str())
                .filter(|e| !e.is_empty()),
        }
    }

    /// Keys of the resource's facts that hold something, for `custom.facts` routing.
    pub fn present_facts(&self) -> Vec<&'static str> {
        const KNOWN: [&str; 2] = ["certificates", "status"];
        let facts = &self.resource.facts;
        KNOWN
            .into_iter()
            .filter(|key| {
                facts
                    .get(*key)
                    .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty()))
            })
            .collect()
    }
}

type DriftIndex<'a> = BTreeMap<(&'a str, &'a Identity), &'a Drift>;

/// Drift by target name and identity.
pub fn index_drift(drift: &[Drift]) -> DriftIndex<'_> {
    drift
        .iter()
        .map(|d| ((d.target.as_str(), &d.identity), d))
        .collect()
}

/// Every resource side a scan judges, in a stable order: declared sides first
/// (once per live target that covers the resource's source, since the drift
/// differs per target, or once without drift when none does), then live sides
/// target by target.
pub fn resource_units<'a>(
    declared: &'a Inventory,
    targets: &'a [LiveTarget],
    drift_by: &DriftIndex<'a>,
) -> Vec<ResourceUnit<'a>> {
    let mut units = Vec::new();
    for resource in declared.iter() {
        let covering: Vec<&LiveTarget> = targets
            .iter()
            .filter(|t| t.compares(&resource.identity))
            .collect();
        if covering.is_empty() {
            units.push(ResourceUnit::declared_only(resource));
        }
        for target in covering {
            units.push(ResourceUnit {
                resource,
                declared: Some(resource),
                counterpart: target.inventory.get(&resource.identity),
                drift: drift_by
                    .get(&(target.name.as_str(), &resource.identity))
                    .copied(),
                state: Side::Declared,
                target: Some(target.name.as_str()),
            });
        }
    }
    for target in targets {
        for resource in target.inventory.iter() {
            let counterpart = declared.get(&resource.identity);
            let d = drift_by
                .get(&(target.name.as_str(), &resource.identity))
                .copied();
            // Live objects are judged when Git declares them, when they are
            // unmanaged, when the target never compares them with Git (TLS
            // endpoints, Traefik entry points), or when Git declares nothing of
            // their source (a live-only scan); objects made by controllers are
            // judged through their owner, and objects outside the managed scope
            // are not ours.
            let judged = counterpart.is_some()
                || d.is_some_and(|d| d.status == DriftStatus::Unmanaged)
                || !target.compares(&resource.identity)
                || (!source_is_declared(declared, resource.identity.source)
                    && !made_by_cluster(resource, &target.inventory));
            if !judged {
                continue;
            }
            units.push(ResourceUnit {
                resource,
                declared: counterpart,
                counterpart,
                drift: d,
                state: Side::Live,
                target: Some(target.name.as_str()),
            });
        }
    }
    units
}

/// The inputs of whole-inventory rules: one per live target, or one without
/// live state when the scan has none.
pub fn inventory_inputs<'a>(
    declared: &[&'a Resource],
    targets: &'a [LiveTarget],
    drift_by: &DriftIndex<'a>,
    now: &'a str,
    clock: OffsetDateTime,
) -> Vec<InventoryInput<'a>> {
    let live_sides: Vec<Option<&LiveTarget>> = if targets.is_empty() {
        vec![None]
    } else {
        targets.iter().map(Some).collect()
    };
    live_sides
        .into_iter()
        .map(|live| {
            let mut entries: BTreeMap<&Identity, (Option<&Resource>, Option<&Resource>)> =
                BTreeMap::new();
            for resource in declared {
                entries.entry(&resource.identity).or_default().0 = Some(*resource);
            }
            if let Some(t) = live {
                for resource in t.inventory.iter() {
                    entries.entry(&resource.identity).or_default().1 = Some(resource);
                }
            }
            let resources = entries
                .into_iter()
                .map(|(identity, (d, l))| {
                    let any = d.or(l).expect("one side exists");
                    let drift =
                        live.and_then(|t| drift_by.get(&(t.name.as_str(), identity)).copied());
                    InventoryEntry {
                        identity: IdentityInput::of(any),
                        declared: d.map(|r| &r.body),
                        live: l.map(|r| &r.body),
                        drift: DriftInput::of(drift),
                        facts: with_clock(&any.facts, clock),
                        environment: Some(identity.environment.as_str()).filter(|e| !e.is_empty()),
                    }
                })
                .collect();
            InventoryInput {
                contract_version: CONTRACT_VERSION,
                now,
                has_live: live.is_some(),
                resources,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::ChangeKind;
    use crate::model::{Origin, Source};
    use crate::sources::rules::Writer;
    use serde_json::json;

    fn resource() -> Resource {
        Resource {
            identity: Identity {
                source: Source::Kubernetes,
                group: "apps".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "web".into(),
                environment: String::new(),
            },
            api_version: "apps/v1".into(),
            body: json!({"kind": "Deployment"}),
            origin: Origin::Declared {
                file: "web.yaml".into(),
                line: 1,
                commit: None,
            },
            facts: json!({"certificates": []}),
            lines: None,
            generate_name: None,
        }
    }

    #[test]
    fn resource_input_is_the_documented_object() {
        let resource = resource();
        let drift = Drift {
            owner: None,
            history: None,
            target: "prod".into(),
            resource: resource.reference(),
            environment: None,
            status: DriftStatus::Modified,
            changes: vec![Change {
                path: "spec.replicas".into(),
                kind: ChangeKind::Modified,
                declared: json!(2),
                live: json!(3),
                changed_by: Some(Writer {
                    manager: "kubectl".into(),
                    operation: "Update".into(),
                    time: None,
                    subresource: Some("scale".into()),
                }),
                location: Some(crate::model::Location {
                    file: "web.yaml".into(),
                    line: 7,
                }),
            }],
            diff: String::new(),
            location: None,
            note: None,
            identity: resource.identity.clone(),
        };
        let unit = ResourceUnit {
            resource: &resource,
            declared: Some(&resource),
            counterpart: None,
            drift: Some(&drift),
            state: Side::Declared,
            target: Some("prod"),
        };
        let now = "2026-11-21T12:00:00Z";
        let value = serde_json::to_value(unit.input(now, OffsetDateTime::UNIX_EPOCH)).unwrap();
        assert_eq!(
            value,
            json!({
                "contract_version": CONTRACT_VERSION,
                "resource": {"kind": "Deployment"},
                "identity": {"source": "kubernetes", "apiVersion": "apps/v1", "group": "apps",
                             "kind": "Deployment", "namespace": "shop", "name": "web"},
                "state": "declared",
                "counterpart": null,
                "drift": {"status": "modified",
                          "changes": [{"path": "spec.replicas", "kind": "modified",
                                       "declared": 2, "live": 3,
                                       "changed_by": {"manager": "kubectl", "operation": "Update",
                                                      "time": null, "subresource": "scale"},
                                       "location": {"file": "web.yaml", "line": 7}}]},
                "facts": {"certificates": []},
                "now": now,
                "environment": null,
            })
        );
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "contract_version",
                "resource",
                "identity",
                "state",
                "counterpart",
                "drift",
                "facts",
                "now",
                "environment"
            ]
        );
        assert!(unit.present_facts().is_empty(), "an empty list is no fact");
    }

    #[test]
    fn inventory_input_without_live_state() {
        let mut declared = Inventory::default();
        declared.insert(resource()).unwrap();
        let drift_by = index_drift(&[]);
        let resources: Vec<&Resource> = declared.iter().collect();
        let inputs = inventory_inputs(
            &resources,
            &[],
            &drift_by,
            "now",
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(inputs.len(), 1);
        let value = serde_json::to_value(&inputs[0]).unwrap();
        assert_eq!(value["has_live"], json!(false));
        assert_eq!(value["resources"][0]["live"], Value::Null);
        assert_eq!(value["resources"][0]["drift"], Value::Null);
        assert_eq!(
            value["resources"][0]["declared"],
            json!({"kind": "Deployment"})
        );
    }
}
