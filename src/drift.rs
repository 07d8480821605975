//! The drift engine: matches declared and live resources by identity and says,
//! per resource, whether it is in sync, modified (with field-level changes and a
//! unified diff for people), missing or unmanaged.

use std::collections::BTreeSet;

use jsonpath_rust::JsonPath;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::TextDiff;

use crate::config::{selector_matches, IgnoreRule, ObjectPattern};
use crate::diag::{Code, Place};
use crate::model::Location;
use crate::model::{Identity, InputError, Inventory, LiveTarget, Resource, ResourceRef, Source};
use crate::redact::mask_for_display;
use crate::sources::registry::rules_for;
use crate::sources::rules::{is_zero, FieldSet, Member, SourceRules, Step, WriteRecord, Writer};
use crate::yaml::{push_index, push_key, to_yaml};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub declared: Value,
    pub live: Value,
    /// Who wrote the live value (Kubernetes: the managedFields entry owning
    /// the path); `null` when nobody does (the field was removed live) or
    /// the object records no writers.
    pub changed_by: Option<Writer>,
    /// The declared line this change contradicts: the field, or its nearest
    /// declared parent; the resource's first line for `added` fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// What happened to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Set on both sides, to different values.
    Modified,
    /// Set live only: Git does not set it.
    Added,
    /// Set in Git only.
    Removed,
}

impl ChangeKind {
    fn of(declared: &Value, live: &Value) -> ChangeKind {
        match (declared, live) {
            (Value::Null, _) => ChangeKind::Added,
            (_, Value::Null) => ChangeKind::Removed,
            _ => ChangeKind::Modified,
        }
    }
}

/// The drift of one resource on one live target.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub diff: String,
    /// Where the declared resource starts (absent for unmanaged ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What could not be checked: the live object records no writers (no
    /// managedFields), so its changes are not attributed and fields Git does
    /// not set are compared as before (not at all unless `strict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who answers for it (see `Finding::owner`). Left out when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// With `--history` (see `Finding::history`); left out otherwise.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::EntryHistory>,
    /// Not in the JSON; a report read back (`driftaudit report --input`)
    /// rebuilds it from `resource` and `environment`.
    #[serde(skip, default = "Identity::unknown")]
    pub identity: Identity,
}

/// The note of a compared object that records no writers.
pub const NO_WRITERS_NOTE: &str = "the live object has no managedFields: changes are not attributed and fields Git does not set are not checked";

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
    /// Writers (field managers) trusted to set fields Git does not set,
    /// besides the source's appliers and controllers (`drift.trusted_managers`).
    pub trusted_managers: Vec<String>,
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
    // A source may compare through a view of its own (declared objects made
    // from other sources' documents, live objects renamed after them).
    let mut notes = std::collections::BTreeMap::new();
    let mut view_declared = None;
    let mut view_live = None;
    for source in &live_target.sources {
        let current_declared = view_declared.as_ref().unwrap_or(declared);
        let current_live = view_live.as_ref().unwrap_or(&live_target.inventory);
        if let Some(view) = rules_for(*source).comparison_view(current_declared, current_live) {
            let mut merged = current_declared.clone();
            for resource in view.derived {
                // A derived object never replaces one Git declares itself.
                let _ = merged.insert(resource);
            }
            notes.extend(view.notes);
            view_declared = Some(merged);
            view_live = Some(view.live);
        }
    }
    let declared = view_declared.as_ref().unwrap_or(declared);
    let live = view_live.as_ref().unwrap_or(&live_target.inventory);
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
                let (changes, diff, note) = compare(resource, live_resource, options, &mut errors);
                let status = if changes.is_empty() {
                    DriftStatus::InSync
                } else {
                    DriftStatus::Modified
                };
                Drift {
                    owner: None,
                    history: None,
                    environment: Some(resource.identity.environment.clone())
                        .filter(|e| !e.is_empty()),
                    target: target.to_string(),
                    resource: resource.reference(),
                    status,
                    changes,
                    diff,
                    location: resource.location_of(None),
                    note,
                    identity: resource.identity.clone(),
                }
            }
            None => Drift {
                owner: None,
                history: None,
                environment: Some(resource.identity.environment.clone()).filter(|e| !e.is_empty()),
                target: target.to_string(),
                resource: resource.reference(),
                status: DriftStatus::Missing,
                changes: vec![],
                diff: String::new(),
                location: resource.location_of(None),
                note: None,
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
            owner: None,
            history: None,
            environment: Some(resource.identity.environment.clone()).filter(|e| !e.is_empty()),
            target: target.to_string(),
            resource: resource.reference(),
            status: DriftStatus::Unmanaged,
            changes: vec![],
            diff: String::new(),
            location: None,
            note: None,
            identity: resource.identity.clone(),
        });
    }
    for drift in &mut drifts {
        if let (None, Some(note)) = (&drift.note, notes.get(&drift.identity)) {
            drift.note = Some(note.clone());
        }
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

/// Field-level changes, the human diff, and a note on what could not be
/// checked, between the two sides of a resource.
fn compare(
    declared: &Resource,
    live: &Resource,
    options: &DriftOptions,
    errors: &mut Vec<InputError>,
) -> (Vec<Change>, String, Option<String>) {
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
    let record = rules.write_record(&live.body);
    let note = (rules.records_writers() && record.is_none()).then(|| NO_WRITERS_NOTE.to_string());
    let kind = declared.identity.kind.as_str();
    let mut comparison = Comparison {
        rules,
        kind,
        strict: options.strict,
        ignored: &ignored,
        whole_maps: rules.whole_maps(kind),
        steps: Vec::new(),
        changes: Vec::new(),
    };
    comparison.walk(&declared_body, &live_body, "");
    if let (Some(record), false) = (&record, options.strict) {
        comparison.out_of_band(
            record,
            &declared_body,
            &live_body,
            &options.trusted_managers,
        );
    }
    let found = std::mem::take(&mut comparison.changes);
    let added: Vec<(Vec<Step>, Value)> = found
        .iter()
        .filter(|f| f.writer.is_some() && f.declared.is_null())
        .map(|f| (f.steps.clone(), f.live.clone()))
        .collect();
    let changes: Vec<Change> = found
        .into_iter()
        .map(|found| {
            let kind = ChangeKind::of(&found.declared, &found.live);
            let changed_by = match (&found.writer, &record) {
                (Some(writer), _) => Some(writer.clone()),
                (None, Some(record)) if !found.live.is_null() => {
                    writer_of(record, &live_body, &found.steps, |_| true)
                }
                _ => None,
            };
            let location = match kind {
                ChangeKind::Added => declared.location_of(None),
                _ => declared.location_of(Some(&found.path)),
            };
            Change {
                declared: mask_for_display(&found.declared, Some(&found.live), false),
                live: mask_for_display(&found.live, Some(&found.declared), true),
                path: found.path,
                kind,
                changed_by,
                location,
            }
        })
        .collect();
    if changes.is_empty() {
        return (changes, String::new(), note);
    }
    let mut shown_live = project(&comparison, &live_body, &declared_body, "");
    for (steps, value) in &added {
        show_added(&mut shown_live, &declared_body, &live_body, steps, value);
    }
    let left = to_yaml(&mask_for_display(&declared_body, Some(&shown_live), false));
    let right = to_yaml(&mask_for_display(&shown_live, Some(&declared_body), true));
    let name = declared.identity.display_name();
    let diff = TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .header(&format!("declared {name}"), &format!("live {name}"))
        .to_string();
    (changes, diff, note)
}

/// A change as found: its path (declared indices), its steps into the live
/// body (live indices), and its writer when already known.
struct Found {
    path: String,
    steps: Vec<Step>,
    declared: Value,
    live: Value,
    writer: Option<Writer>,
}

struct Comparison<'a> {
    rules: &'a dyn SourceRules,
    kind: &'a str,
    strict: bool,
    ignored: &'a [String],
    /// Maps Git declares as a whole: their live-only keys are drift.
    whole_maps: &'static [&'static str],
    /// Steps into the live body to where the walk is.
    steps: Vec<Step>,
    changes: Vec<Found>,
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
            self.changes.push(Found {
                path: path.to_string(),
                steps: self.steps.clone(),
                declared,
                live,
                writer: None,
            });
        }
    }

    /// Whether live-only keys of the map at `path` are compared.
    fn all_keys(&self, path: &str) -> bool {
        self.strict || self.whole_maps.contains(&path)
    }

    fn walk(&mut self, declared: &Value, live: &Value, path: &str) {
        if self.is_ignored(path) {
            return;
        }
        match (declared, live) {
            (Value::Object(d), Value::Object(l)) => {
                for (key, d_value) in d {
                    let child = push_key(path, key);
                    self.steps.push(Step::Key(key.clone()));
                    match l.get(key) {
                        Some(l_value) => self.walk(d_value, l_value, &child),
                        None if is_zero(d_value) => {}
                        None => self.record(&child, d_value.clone(), Value::Null),
                    }
                    self.steps.pop();
                }
                if self.all_keys(path) {
                    let whole = !self.strict;
                    for (key, l_value) in l {
                        let child = push_key(path, key);
                        if !d.contains_key(key)
                            && (whole || !self.rules.is_server_default(self.kind, &child, l_value))
                        {
                            self.steps.push(Step::Key(key.clone()));
                            self.record(&child, Value::Null, l_value.clone());
                            self.steps.pop();
                        }
                    }
                }
            }
            (Value::Array(d), Value::Array(l)) => {
                let pairs = pair_items(d, l);
                for (d_index, l_index) in pairs {
                    if let Some(j) = l_index {
                        self.steps.push(Step::Index(j));
                    }
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
                    if l_index.is_some() {
                        self.steps.pop();
                    }
                }
            }
            (d, l) if self.rules.values_equivalent(d, l, path) => {}
            (d, Value::Null) if is_zero(d) => {}
            (d, l) => self.record(path, d.clone(), l.clone()),
        }
    }

    /// Live fields Git does not set, written by a writer the source does not
    /// trust (not an applier, not a controller of the system, not in
    /// `trusted`), and owned by no trusted writer: each an `added` change
    /// with its writer. Server defaults and zero values stay silent.
    fn out_of_band(
        &mut self,
        record: &WriteRecord,
        declared: &Value,
        live: &Value,
        trusted: &[String],
    ) {
        let mut candidates: Vec<(String, Vec<Step>, Value)> = Vec::new();
        for (writer, fields) in &record.entries {
            if self.rules.trusts(writer, trusted) {
                continue;
            }
            self.steps.clear();
            untrusted_fields(fields, declared, live, "", &mut self.steps, &mut candidates);
        }
        self.steps.clear();
        let mut seen: std::collections::HashSet<String> =
            self.changes.iter().map(|c| c.path.clone()).collect();
        for (path, steps, value) in candidates {
            if self.is_ignored(&path)
                || is_zero(&value)
                || self.rules.is_server_default(self.kind, &path, &value)
                || !seen.insert(path.clone())
            {
                continue;
            }
            // A field a trusted writer owns too is not out-of-band.
            if writer_of(record, live, &steps, |w| self.rules.trusts(w, trusted)).is_some() {
                continue;
            }
            let writer = writer_of(record, live, &steps, |w| !self.rules.trusts(w, trusted));
            self.changes.push(Found {
                path,
                steps,
                declared: Value::Null,
                live: value,
                writer,
            });
        }
    }
}

/// The fields of `fields` set in `live` where `declared` (set at this node)
/// does not set them: `(path, steps, live value)`. Where the declared side
/// has another shape, or a list item is not paired, the walk reports it.
fn untrusted_fields(
    fields: &FieldSet,
    declared: &Value,
    live: &Value,
    path: &str,
    steps: &mut Vec<Step>,
    out: &mut Vec<(String, Vec<Step>, Value)>,
) {
    // Live item → its declared item, worked out once per list.
    let mut paired: Option<Vec<Option<usize>>> = None;
    for (member, child) in &fields.members {
        match member {
            Member::Field(name) => {
                let (Some(l), Some(d)) = (live.get(name.as_str()), declared.as_object()) else {
                    continue;
                };
                let child_path = push_key(path, name);
                steps.push(Step::Key(name.clone()));
                match d.get(name.as_str()) {
                    Some(d_value) => untrusted_fields(child, d_value, l, &child_path, steps, out),
                    None => undeclared_fields(child, l, &child_path, steps, out),
                }
                steps.pop();
            }
            item => {
                let (Some(l), Some(d)) = (live.as_array(), declared.as_array()) else {
                    continue;
                };
                let Some(j) = item.find_item(l) else {
                    continue;
                };
                let declared_of = paired.get_or_insert_with(|| {
                    let mut of = vec![None; l.len()];
                    for (i, found) in pair_items(d, l) {
                        if let (Some(i), Some(j)) = (i, found) {
                            of[j] = Some(i);
                        }
                    }
                    of
                });
                if let Some(i) = declared_of[j] {
                    steps.push(Step::Index(j));
                    untrusted_fields(child, &d[i], &l[j], &push_index(path, i), steps, out);
                    steps.pop();
                }
            }
        }
    }
}

/// The owned fields below a node Git does not set: map fields one by one,
/// list items whole.
fn undeclared_fields(
    fields: &FieldSet,
    live: &Value,
    path: &str,
    steps: &mut Vec<Step>,
    out: &mut Vec<(String, Vec<Step>, Value)>,
) {
    if fields.members.is_empty() {
        if fields.whole {
            out.push((path.to_string(), steps.clone(), live.clone()));
        }
        return;
    }
    for (member, child) in &fields.members {
        match member {
            Member::Field(name) => {
                let Some(l) = live.get(name.as_str()) else {
                    continue;
                };
                steps.push(Step::Key(name.clone()));
                undeclared_fields(child, l, &push_key(path, name), steps, out);
                steps.pop();
            }
            item => {
                let Some((l, j)) = live.as_array().and_then(|l| Some((l, item.find_item(l)?)))
                else {
                    continue;
                };
                steps.push(Step::Index(j));
                if child.whole {
                    out.push((push_index(path, j), steps.clone(), l[j].clone()));
                } else {
                    undeclared_fields(child, &l[j], &push_index(path, j), steps, out);
                }
                steps.pop();
            }
        }
    }
}

/// How a writer's fields cover the live field at `steps`: 2 when it owns it
/// (or an atomic field holding it), 1 when it owns something below it.
fn ownership(fields: &FieldSet, live: &Value, steps: &[Step]) -> Option<u8> {
    let Some((first, rest)) = steps.split_first() else {
        return if fields.whole {
            Some(2)
        } else {
            (!fields.members.is_empty()).then_some(1)
        };
    };
    if fields.members.is_empty() {
        // An atomic field (a leaf) owns everything it holds.
        return fields.whole.then_some(2);
    }
    let (child, next) = match first {
        Step::Key(key) => (
            fields
                .members
                .iter()
                .find(|(m, _)| matches!(m, Member::Field(f) if f == key))?,
            live.get(key.as_str())?,
        ),
        Step::Index(j) => {
            let item = live.as_array()?.get(*j)?;
            (
                fields
                    .members
                    .iter()
                    .find(|(m, _)| m.names_item(*j, item))?,
                item,
            )
        }
    };
    ownership(&child.1, next, rest)
}

/// The writer of the live field at `steps` among those `eligible`: one that
/// owns it before one that owns only part of it, then the latest.
fn writer_of(
    record: &WriteRecord,
    live: &Value,
    steps: &[Step],
    eligible: impl Fn(&Writer) -> bool,
) -> Option<Writer> {
    record
        .entries
        .iter()
        .enumerate()
        .filter(|(_, (writer, _))| eligible(writer))
        .filter_map(|(index, (writer, fields))| {
            ownership(fields, live, steps).map(|rank| ((rank, writer.time.clone(), index), writer))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, writer)| writer.clone())
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
/// fields the declared side sets (or, in strict mode, all but server
/// defaults; every key of a map Git declares as a whole).
fn project(comparison: &Comparison<'_>, live: &Value, declared: &Value, path: &str) -> Value {
    let rules = comparison.rules;
    match (live, declared) {
        (Value::Object(l), Value::Object(d)) => {
            let mut out = serde_json::Map::new();
            for (key, d_value) in d {
                if let Some(l_value) = l.get(key) {
                    out.insert(
                        key.clone(),
                        project(comparison, l_value, d_value, &push_key(path, key)),
                    );
                }
            }
            if comparison.all_keys(path) {
                for (key, l_value) in l {
                    let child = push_key(path, key);
                    if !d.contains_key(key)
                        && (!comparison.strict
                            || !rules.is_server_default(comparison.kind, &child, l_value))
                    {
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
                    (Some(i), Some(j)) => {
                        out.push(project(comparison, &l[j], &d[i], &push_index(path, i)))
                    }
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

/// Puts an out-of-band field (at `steps` of the live body) into the
/// projected live body, so the diff shows it. Below a map Git does not set,
/// the maps on the way are made; a list item is found where the projection
/// put it (paired items in declared order, then live-only ones).
fn show_added(shown: &mut Value, declared: &Value, live: &Value, steps: &[Step], value: &Value) {
    let Some((first, rest)) = steps.split_first() else {
        *shown = value.clone();
        return;
    };
    match first {
        Step::Key(key) => {
            let (Some(next_live), Some(map)) = (live.get(key.as_str()), shown.as_object_mut())
            else {
                return;
            };
            match declared.get(key.as_str()) {
                Some(next_declared) => {
                    if let Some(child) = map.get_mut(key) {
                        show_added(child, next_declared, next_live, rest, value);
                    }
                }
                None if rest.iter().all(|s| matches!(s, Step::Key(_))) => {
                    let child = map
                        .entry(key.clone())
                        .or_insert_with(|| Value::Object(Default::default()));
                    show_added(child, &Value::Null, next_live, rest, value);
                }
                None => {
                    map.insert(key.clone(), next_live.clone());
                }
            }
        }
        Step::Index(j) => {
            let (Some(d), Some(l), Some(items)) =
                (declared.as_array(), live.as_array(), shown.as_array_mut())
            else {
                return;
            };
            let shown_pairs: Vec<(Option<usize>, Option<usize>)> = pair_items(d, l)
                .into_iter()
                .filter(|(_, l_index)| l_index.is_some())
                .collect();
            let Some(at) = shown_pairs.iter().position(|p| p.1 == Some(*j)) else {
                return;
            };
            if let (Some(i), Some(item)) = (shown_pairs[at].0, items.get_mut(at)) {
                show_added(item, &d[i], &l[*j], rest, value);
            }
        }
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

    fn compared(declared: Value, live: Value, strict: bool) -> Vec<Change> {
        drift_of(declared, live, strict).changes
    }

    fn drift_of(declared: Value, live: Value, strict: bool) -> Drift {
        let origin = Origin::Declared {
            file: "web.yaml".into(),
            line: 1,
            commit: None,
        };
        let mut inventory = Inventory::default();
        let resource = declared_kubernetes_resource(declared, origin, None, "default", 1).unwrap();
        inventory.insert(resource).unwrap();
        let mut target = LiveTarget {
            name: "prod".into(),
            sources: vec![Source::Kubernetes],
            ..LiveTarget::default()
        };
        let origin = Origin::Live {
            target: "prod".into(),
            endpoint: "api".into(),
        };
        let resource = kubernetes_resource(live, origin, None, "default").unwrap();
        target.inventory.insert(resource).unwrap();
        let options = DriftOptions {
            strict,
            ..DriftOptions::default()
        };
        let (drift, errors) = compute_drift(&inventory, &target, &options);
        assert!(errors.is_empty(), "{errors:?}");
        drift[0].clone()
    }

    fn deployment(containers: Value, managed: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "shop", "managedFields": managed},
               "spec": {"template": {"spec": {"containers": containers}}}})
    }

    fn entry(manager: &str, time: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": "Update", "time": time,
               "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    #[test]
    fn keyed_list_items_are_attributed_whatever_their_live_order() {
        let declared = deployment(
            json!([{"name": "web", "image": "web:1"}, {"name": "log", "image": "log:1"}]),
            json!(null),
        );
        let containers = |key: &str, fields: Value| json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {key: fields}}}}});
        let live = deployment(
            json!([{"name": "log", "image": "log:2"}, {"name": "web", "image": "web:1"},
                   {"name": "proxy", "image": "proxy:1"}]),
            json!([
                entry("kubectl-client-side-apply", "2026-01-01T00:00:00Z",
                      containers("k:{\"name\":\"web\"}", json!({".": {}, "f:image": {}, "f:name": {}}))),
                entry("kubectl-set", "2026-01-02T00:00:00Z",
                      containers("k:{\"name\":\"log\"}", json!({"f:image": {}}))),
                entry("injector", "2026-01-03T00:00:00Z",
                      containers("k:{\"name\":\"proxy\"}", json!({".": {}, "f:image": {}, "f:name": {}}))),
                // Hostile entries: read as nothing, never a panic.
                entry("broken", "2026-01-04T00:00:00Z",
                      containers("k:{\"name\":", json!({"f:image": {}}))),
                {"manager": 7, "fieldsV1": "x"},
            ]),
        );
        let changes = compared(declared, live, false);
        let found: Vec<(&str, ChangeKind, Option<&str>)> = changes
            .iter()
            .map(|c| {
                (
                    c.path.as_str(),
                    c.kind,
                    c.changed_by.as_ref().map(|w| w.manager.as_str()),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "spec.template.spec.containers[1].image",
                    ChangeKind::Modified,
                    Some("kubectl-set")
                ),
                (
                    "spec.template.spec.containers[2]",
                    ChangeKind::Added,
                    Some("injector")
                ),
            ]
        );
    }

    #[test]
    fn a_field_an_applier_shares_is_not_out_of_band() {
        let declared = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}});
        let mut live = declared.clone();
        live["metadata"]["annotations"] = json!({"owner": "team-a", "note": "hi"});
        let owned = |keys: Value| json!({"f:metadata": {"f:annotations": keys}});
        live["metadata"]["managedFields"] = json!([
            {"manager": "argocd-controller", "operation": "Apply", "time": "2026-01-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": owned(json!({"f:owner": {}}))},
            {"manager": "other", "operation": "Apply", "time": "2026-01-02T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": owned(json!({"f:owner": {}, "f:note": {}}))},
        ]);
        let drift = drift_of(declared.clone(), live.clone(), false);
        let changes = &drift.changes;
        assert_eq!(changes.len(), 1, "{changes:?}");
        // The diff shows it, and only it.
        assert!(
            drift.diff.contains("+  annotations:\n+    note: hi\n"),
            "{}",
            drift.diff
        );
        assert!(!drift.diff.contains("owner"), "{}", drift.diff);
        assert_eq!(changes[0].path, "metadata.annotations.note");
        assert_eq!(changes[0].changed_by.as_ref().unwrap().manager, "other");
        // Strict: every live-only field, with its latest writer.
        let strict = compared(declared, live, true);
        assert_eq!(strict.len(), 1, "{strict:?}");
        assert_eq!(strict[0].path, "metadata.annotations");
        assert_eq!(strict[0].changed_by.as_ref().unwrap().manager, "other");
    }

    #[test]
    fn a_huge_write_record_stays_fast() {
        let declared = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "big", "namespace": "shop"}, "data": {"A": "1"}});
        let mut live = declared.clone();
        let n = 20_000;
        let mut owned = serde_json::Map::new();
        for i in 0..n {
            live["data"][format!("k{i}")] = json!("v");
            live["metadata"]["labels"][format!("l{i}")] = json!("v");
            owned.insert(format!("f:k{i}"), json!({}));
        }
        let mut labels: serde_json::Map<String, Value> =
            (0..n).map(|i| (format!("f:l{i}"), json!({}))).collect();
        labels.insert(".".into(), json!({}));
        live["metadata"]["managedFields"] = json!([entry(
            "someone",
            "2026-01-01T00:00:00Z",
            json!({"f:data": owned, "f:metadata": {"f:labels": labels}})
        )]);
        let started = std::time::Instant::now();
        let changes = compared(declared, live, false);
        // Every added key is drift; the record is read up to its bound.
        assert_eq!(
            changes
                .iter()
                .filter(|c| c.path.starts_with("data."))
                .count(),
            n
        );
        assert!(changes.iter().any(|c| c.changed_by.is_some()));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
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
