//! The drift engine: matches declared and live resources by identity and says,
//! per resource, whether it is in sync, modified (with field-level changes and a
//! unified diff for people), missing or unmanaged.

use std::collections::BTreeSet;

use jsonpath_rust::JsonPath;
use serde::Serialize;
use serde_json::Value;
use similar::TextDiff;

use crate::config::{selector_matches, IgnoreRule, ObjectPattern};
use crate::diag::{Code, Place};
use crate::model::{Identity, InputError, Inventory, LiveTarget, Resource, ResourceRef, Source};
use crate::redact::mask_for_display;
use crate::sources::registry::rules_for;
use crate::sources::rules::{is_zero, SourceRules};
use crate::yaml::{push_index, push_key, to_yaml};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    InSync,
    Modified,
    Missing,
    Unmanaged,
}

impl DriftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftStatus::InSync => "in_sync",
            DriftStatus::Modified => "modified",
            DriftStatus::Missing => "missing",
            DriftStatus::Unmanaged => "unmanaged",
        }
    }

    pub const ALL: [DriftStatus; 4] = [
        DriftStatus::Modified,
        DriftStatus::Missing,
        DriftStatus::Unmanaged,
        DriftStatus::InSync,
    ];
}

/// One field that differs. A side where the field is absent is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub declared: Value,
    pub live: Value,
}

/// The drift of one resource on one live target.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub target: String,
    pub resource: ResourceRef,
    /// The environment of the declared resource (`docs/environments.md`);
    /// left out when the scan has no environments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub status: DriftStatus,
    pub changes: Vec<Change>,
    /// Unified diff (declared → live) for people; empty when in sync.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
    #[serde(skip)]
    pub identity: Identity,
}

/// How to compare.
#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    pub strict: bool,
    pub ignore: Vec<IgnoreRule>,
    /// Namespaces whose every live object must be declared; empty = the
    /// namespaces the declared resources live in.
    pub managed_namespaces: Vec<String>,
    pub unmanaged_exclude: Vec<ObjectPattern>,
    pub default_exclusions: bool,
    /// Live objects matching this label selector are managed wherever they are.
    pub managed_selector: Option<String>,
}

/// Whether a live object is made by the system itself (controllers, the API
/// server) rather than by a person: the source's rules say.
pub fn made_by_cluster(resource: &Resource, live: &Inventory) -> bool {
    rules_for(resource.identity.source).made_by_system(resource, live)
}

/// Compares the declared inventory with one live target's inventory.
pub fn compute_drift(
    declared: &Inventory,
    live_target: &LiveTarget,
    options: &DriftOptions,
) -> (Vec<Drift>, Vec<InputError>) {
    let live = &live_target.inventory;
    let target = live_target.name.as_str();
    let mut drifts = Vec::new();
    let mut errors = Vec::new();
    // An object declared with only `generateName` has a made-up name: it
    // matches no live object, so it is neither missing nor compared.
    for resource in declared
        .iter()
        .filter(|r| r.generate_name.is_none() && live_target.compares(&r.identity))
    {
        let drift = match live.get(&resource.identity) {
            Some(live_resource) => {
                let (changes, diff) = compare(resource, live_resource, options, &mut errors);
                let status = if changes.is_empty() {
                    DriftStatus::InSync
                } else {
                    DriftStatus::Modified
                };
                Drift {
                    environment: Some(resource.identity.environment.clone())
                        .filter(|e| !e.is_empty()),
                    target: target.to_string(),
                    resource: resource.reference(),
                    status,
                    changes,
                    diff,
                    identity: resource.identity.clone(),
                }
            }
            None => Drift {
                environment: Some(resource.identity.environment.clone()).filter(|e| !e.is_empty()),
                target: target.to_string(),
                resource: resource.reference(),
                status: DriftStatus::Missing,
                changes: vec![],
                diff: String::new(),
                identity: resource.identity.clone(),
            },
        };
        drifts.push(drift);
    }
    let managed = managed_namespaces(declared, options);
    let generated: Vec<&Resource> = declared
        .iter()
        .filter(|r| r.generate_name.is_some())
        .collect();
    for resource in live.iter() {
        if declared.get(&resource.identity).is_some()
            || generated
                .iter()
                .any(|d| rules_for(d.identity.source).made_from(d, resource))
            || !live_target.compares(&resource.identity)
            || !is_unmanaged_candidate(resource, declared, live, &managed, options)
        {
            continue;
        }
        drifts.push(Drift {
            environment: Some(resource.identity.environment.clone()).filter(|e| !e.is_empty()),
            target: target.to_string(),
            resource: resource.reference(),
            status: DriftStatus::Unmanaged,
            changes: vec![],
            diff: String::new(),
            identity: resource.identity.clone(),
        });
    }
    drifts.sort_by(|a, b| a.identity.cmp(&b.identity));
    (drifts, errors)
}

pub fn managed_namespaces(declared: &Inventory, options: &DriftOptions) -> BTreeSet<String> {
    if !options.managed_namespaces.is_empty() {
        return options.managed_namespaces.iter().cloned().collect();
    }
    declared
        .iter()
        .filter(|r| rules_for(r.identity.source).namespaced())
        .filter_map(|r| {
            if r.identity.kind == "Namespace" && r.identity.group.is_empty() {
                Some(r.identity.name.clone())
            } else if !r.identity.namespace.is_empty() {
                Some(r.identity.namespace.clone())
            } else {
                None
            }
        })
        .collect()
}

/// Whether Git manages any resource of `source`: only then can a live object
/// of that source be "unmanaged" (a live-only scan has nothing to compare with).
pub fn source_is_declared(declared: &Inventory, source: Source) -> bool {
    declared.iter().any(|r| r.identity.source == source)
}

fn is_unmanaged_candidate(
    resource: &Resource,
    declared: &Inventory,
    live: &Inventory,
    managed: &BTreeSet<String>,
    options: &DriftOptions,
) -> bool {
    let id = &resource.identity;
    let rules = rules_for(id.source);
    let selected = options.managed_selector.as_deref().is_some_and(|selector| {
        selector_matches(
            selector,
            resource
                .body
                .pointer("/metadata/labels")
                .and_then(Value::as_object),
        )
    });
    if rules.namespaced()
        && !selected
        && (id.namespace.is_empty() || !managed.contains(&id.namespace))
    {
        return false;
    }
    if !rules.namespaced() && !source_is_declared(declared, id.source) {
        return false;
    }
    if options.default_exclusions && rules.made_by_system(resource, live) {
        return false;
    }
    if rules.is_builtin(resource) {
        return false;
    }
    !options
        .unmanaged_exclude
        .iter()
        .any(|p| p.matches(&id.kind, &id.namespace, &id.name))
}

/// Field-level changes and the human diff between the two sides of a resource.
fn compare(
    declared: &Resource,
    live: &Resource,
    options: &DriftOptions,
    errors: &mut Vec<InputError>,
) -> (Vec<Change>, String) {
    let rules = rules_for(declared.identity.source);
    let (declared_body, live_body) = (
        rules.compared_body(&declared.body),
        rules.compared_body(&live.body),
    );
    let ignored = ignored_paths(
        &declared.identity,
        &declared_body,
        &live_body,
        &options.ignore,
        errors,
    );
    let mut comparison = Comparison {
        rules,
        kind: &declared.identity.kind,
        strict: options.strict,
        ignored: &ignored,
        changes: Vec::new(),
    };
    comparison.walk(&declared_body, &live_body, "");
    let changes: Vec<Change> = comparison
        .changes
        .into_iter()
        .map(|c| Change {
            declared: mask_for_display(&c.declared, Some(&c.live), false),
            live: mask_for_display(&c.live, Some(&c.declared), true),
            path: c.path,
        })
        .collect();
    if changes.is_empty() {
        return (changes, String::new());
    }
    let shown_live = project(
        rules,
        &live_body,
        &declared_body,
        &declared.identity.kind,
        options.strict,
        "",
    );
    let left = to_yaml(&mask_for_display(&declared_body, Some(&shown_live), false));
    let right = to_yaml(&mask_for_display(&shown_live, Some(&declared_body), true));
    let name = declared.identity.display_name();
    let diff = TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .header(&format!("declared {name}"), &format!("live {name}"))
        .to_string();
    (changes, diff)
}

struct Comparison<'a> {
    rules: &'a dyn SourceRules,
    kind: &'a str,
    strict: bool,
    ignored: &'a [String],
    changes: Vec<Change>,
}

impl Comparison<'_> {
    fn is_ignored(&self, path: &str) -> bool {
        self.ignored.iter().any(|p| {
            path == p
                || (path.starts_with(p.as_str())
                    && matches!(path.as_bytes().get(p.len()), Some(b'.' | b'[')))
        })
    }

    fn record(&mut self, path: &str, declared: Value, live: Value) {
        if !self.is_ignored(path) {
            self.changes.push(Change {
                path: path.to_string(),
                declared,
                live,
            });
        }
    }

    fn walk(&mut self, declared: &Value, live: &Value, path: &str) {
        if self.is_ignored(path) {
            return;
        }
        match (declared, live) {
            (Value::Object(d), Value::Object(l)) => {
                for (key, d_value) in d {
                    let child = push_key(path, key);
                    match l.get(key) {
                        Some(l_value) => self.walk(d_value, l_value, &child),
                        None if is_zero(d_value) => {}
                        None => self.record(&child, d_value.clone(), Value::Null),
                    }
                }
                if self.strict {
                    for (key, l_value) in l {
                        let child = push_key(path, key);
                        if !d.contains_key(key)
                            && !self.rules.is_server_default(self.kind, &child, l_value)
                        {
                            self.record(&child, Value::Null, l_value.clone());
                        }
                    }
                }
            }
            (Value::Array(d), Value::Array(l)) => {
                let pairs = pair_items(d, l);
                for (d_index, l_index) in pairs {
                    match (d_index, l_index) {
                        (Some(i), Some(j)) => self.walk(&d[i], &l[j], &push_index(path, i)),
                        (Some(i), None) => {
                            self.record(&push_index(path, i), d[i].clone(), Value::Null)
                        }
                        (None, Some(j)) => {
                            self.record(&push_index(path, j), Value::Null, l[j].clone())
                        }
                        (None, None) => {}
                    }
                }
            }
            (d, l) if self.rules.values_equivalent(d, l, path) => {}
            (d, Value::Null) if is_zero(d) => {}
            (d, l) => self.record(path, d.clone(), l.clone()),
        }
    }
}

/// Pairs the items of two lists: by `name` when every item has one (the merge
/// key of containers, env, volumes, ports...), else by position.
fn pair_items(declared: &[Value], live: &[Value]) -> Vec<(Option<usize>, Option<usize>)> {
    let name = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
    let keyed = !declared.is_empty() && declared.iter().chain(live).all(|v| name(v).is_some());
    if !keyed {
        let n = declared.len().max(live.len());
        return (0..n)
            .map(|i| {
                (
                    (i < declared.len()).then_some(i),
                    (i < live.len()).then_some(i),
                )
            })
            .collect();
    }
    let mut pairs: Vec<(Option<usize>, Option<usize>)> = declared
        .iter()
        .enumerate()
        .map(|(i, d)| (Some(i), live.iter().position(|l| name(l) == name(d))))
        .collect();
    for (j, l) in live.iter().enumerate() {
        if !declared.iter().any(|d| name(d) == name(l)) {
            pairs.push((None, Some(j)));
        }
    }
    pairs
}

/// The live body as people should read it next to the declared one: only the
/// fields the declared side sets (or, in strict mode, all but server defaults).
fn project(
    rules: &dyn SourceRules,
    live: &Value,
    declared: &Value,
    kind: &str,
    strict: bool,
    path: &str,
) -> Value {
    match (live, declared) {
        (Value::Object(l), Value::Object(d)) => {
            let mut out = serde_json::Map::new();
            for (key, d_value) in d {
                if let Some(l_value) = l.get(key) {
                    out.insert(
                        key.clone(),
                        project(rules, l_value, d_value, kind, strict, &push_key(path, key)),
                    );
                }
            }
            if strict {
                for (key, l_value) in l {
                    let child = push_key(path, key);
                    if !d.contains_key(key) && !rules.is_server_default(kind, &child, l_value) {
                        out.insert(key.clone(), l_value.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(d)) => {
            let mut out = Vec::new();
            for (d_index, l_index) in pair_items(d, l) {
                match (d_index, l_index) {
                    (Some(i), Some(j)) => out.push(project(
                        rules,
                        &l[j],
                        &d[i],
                        kind,
                        strict,
                        &push_index(path, i),
                    )),
                    (None, Some(j)) => out.push(l[j].clone()),
                    _ => {}
                }
            }
            Value::Array(out)
        }
        // Equivalent spellings show as declared, so the diff shows only real changes.
        (l, d) if rules.values_equivalent(d, l, path) => d.clone(),
        (l, _) => l.clone(),
    }
}

/// The paths (in this crate's dotted form) that the user's ignore rules select
/// on either side of a resource.
fn ignored_paths(
    identity: &Identity,
    declared: &Value,
    live: &Value,
    rules: &[IgnoreRule],
    errors: &mut Vec<InputError>,
) -> Vec<String> {
    let mut paths = BTreeSet::new();
    for rule in rules
        .iter()
        .filter(|r| r.matches(&identity.kind, &identity.namespace, &identity.name))
    {
        for expression in &rule.paths {
            for body in [declared, live] {
                match body.query_only_path(expression) {
                    Ok(found) => paths.extend(found.iter().filter_map(|p| from_normalized_path(p))),
                    Err(e) => {
                        errors.push(InputError::error(
                            Code::ConfigBadJsonPath,
                            Place::Text("config drift.ignore".into()),
                            format!("bad JSONPath `{expression}`: {e}"),
                        ));
                        break;
                    }
                }
            }
        }
    }
    let mut errors_seen = BTreeSet::new();
    errors.retain(|e| errors_seen.insert(e.clone()));
    paths.into_iter().collect()
}

/// Converts an RFC 9535 normalized path (`$['spec']['ports'][0]`) to a dotted path.
fn from_normalized_path(normalized: &str) -> Option<String> {
    let mut rest = normalized.strip_prefix('$')?;
    let mut path = String::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix('[')?;
        if let Some(quoted) = rest.strip_prefix('\'') {
            let mut key = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                match c {
                    '\\' => {
                        let (_, escaped) = chars.next()?;
                        key.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                    }
                    '\'' => break i,
                    c => key.push(c),
                }
            };
            path = push_key(&path, &key);
            rest = quoted[end + 1..].strip_prefix(']')?;
        } else {
            let close = rest.find(']')?;
            path = push_index(&path, rest[..close].parse().ok()?);
            rest = &rest[close + 1..];
        }
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;
    use crate::sources::kubernetes::{declared_kubernetes_resource, kubernetes_resource};
    use serde_json::json;

    fn job(metadata: Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata,
               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
    }

    #[test]
    fn objects_declared_with_generate_name_are_left_out_of_drift() {
        let mut declared = Inventory::default();
        for (position, metadata) in [
            (1, json!({"generateName": "migrate-", "namespace": "shop"})),
            (2, json!({"name": "seed", "namespace": "shop"})),
        ] {
            let origin = Origin::Declared {
                file: "hooks.yaml".into(),
                line: 1,
                commit: None,
            };
            let resource =
                declared_kubernetes_resource(job(metadata), origin, None, "default", position)
                    .unwrap();
            declared.insert(resource).unwrap();
        }
        let mut target = LiveTarget {
            name: "prod".into(),
            sources: vec![Source::Kubernetes],
            ..LiveTarget::default()
        };
        // The hook's run (the API server's suffix), a look-alike name, and a
        // run of the same prefix in another namespace.
        for (name, namespace) in [
            ("migrate-x7k2p", "shop"),
            ("migrate-manual", "shop"),
            ("migrate-x7k2p", "other"),
        ] {
            let origin = Origin::Live {
                target: "prod".into(),
                endpoint: "api".into(),
            };
            let body = job(json!({"name": name, "namespace": namespace}));
            let resource = kubernetes_resource(body, origin, None, "default").unwrap();
            target.inventory.insert(resource).unwrap();
        }
        let options = DriftOptions {
            managed_namespaces: vec!["shop".into(), "other".into()],
            ..DriftOptions::default()
        };
        let (drift, errors) = compute_drift(&declared, &target, &options);
        assert!(errors.is_empty(), "{errors:?}");
        let found: Vec<(String, DriftStatus)> = drift
            .iter()
            .map(|d| (d.identity.display_name(), d.status))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "Job other/migrate-x7k2p".to_string(),
                    DriftStatus::Unmanaged
                ),
                (
                    "Job shop/migrate-manual".to_string(),
                    DriftStatus::Unmanaged
                ),
                ("Job shop/seed".to_string(), DriftStatus::Missing),
            ]
        );
    }

    #[test]
    fn normalized_paths_convert() {
        assert_eq!(
            from_normalized_path("$['spec']['replicas']").unwrap(),
            "spec.replicas"
        );
        assert_eq!(
            from_normalized_path("$['metadata']['annotations']['a.b/c']").unwrap(),
            "metadata.annotations[\"a.b/c\"]"
        );
        assert_eq!(
            from_normalized_path("$['spec']['ports'][1]['port']").unwrap(),
            "spec.ports[1].port"
        );
    }
}
