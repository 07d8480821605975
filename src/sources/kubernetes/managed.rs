//! `metadata.managedFields`: who wrote which field of a live object. Each
//! entry names a field manager (`kubectl-client-side-apply`, `kubectl-patch`,
//! `argocd-controller`...), its operation (`Apply` or `Update`), a time, and
//! the fields it owns as a FieldsV1 set: a JSON tree whose keys are
//! `f:<field>`, `k:<JSON object of key fields>` (an item of a keyed list,
//! e.g. `k:{"name":"web"}`), `v:<JSON value>` (an item of a set) or
//! `i:<index>`, and `.` (the node itself is owned). A leaf `{}` is owned whole.
//!
//! The parser never panics and stays bounded on hostile input: depth, members
//! and key lengths are limited; a member it cannot read (malformed JSON in a
//! `k:` key, an unknown prefix) is left out, never guessed.

use serde_json::Value;

use crate::sources::rules::{FieldSet, Member, WriteRecord, Writer};

/// Deepest FieldsV1 nesting read (real objects nest about 20 levels).
const MAX_DEPTH: usize = 64;
/// Members read per object, over all entries.
const MAX_MEMBERS: usize = 10_000;
/// Longest member key read (a `k:` key holds a few key fields).
const MAX_KEY: usize = 4096;
/// Entries read per object.
const MAX_ENTRIES: usize = 256;

/// Managers that apply what Git declares. An `Update` by one of them at
/// creation owns every field the object then had, server defaults included,
/// so their fields are never out-of-band. `kubectl` counts only for `Apply`
/// (server-side apply): `kubectl scale` writes as `kubectl` too, through the
/// `scale` subresource.
const APPLIERS: [&str; 7] = [
    "kubectl-client-side-apply",
    "kubectl-create",
    "argocd-controller",
    "argocd-application-controller",
    "kustomize-controller",
    "helm-controller",
    "helm",
];

/// The cluster's own controllers: their fields (HPA-set replicas, the
/// scheduler's node name, the API server's own objects) are never drift.
pub const DEFAULT_TRUSTED: [&str; 6] = [
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-apiserver",
    "cloud-controller-manager",
    "cluster-autoscaler",
];

/// Whether `writer` applies Git or is a trusted controller.
pub fn trusts(writer: &Writer, configured: &[String]) -> bool {
    let manager = writer.manager.as_str();
    (manager == "kubectl" && writer.operation == "Apply" && writer.subresource.is_none())
        || APPLIERS.contains(&manager)
        || DEFAULT_TRUSTED.contains(&manager)
        || configured.iter().any(|m| m == manager)
}

/// The write record of a live object, or `None` when it carries no
/// `metadata.managedFields` (or none that can be read).
pub fn write_record(live: &Value) -> Option<WriteRecord> {
    let entries = live.pointer("/metadata/managedFields")?.as_array()?;
    let mut budget = MAX_MEMBERS;
    let mut record = WriteRecord::default();
    for entry in entries.iter().take(MAX_ENTRIES) {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && s.len() <= MAX_KEY)
                .map(str::to_string)
        };
        let Some(manager) = text("manager") else {
            continue;
        };
        if entry
            .get("fieldsType")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "FieldsV1")
        {
            continue;
        }
        let writer = Writer {
            manager,
            operation: text("operation").unwrap_or_default(),
            time: text("time"),
            subresource: text("subresource"),
        };
        let fields = match entry.get("fieldsV1") {
            Some(tree) => parse_fields(tree, &mut budget),
            None => FieldSet::default(),
        };
        record.entries.push((writer, fields));
    }
    (!record.entries.is_empty()).then_some(record)
}

/// Parses a FieldsV1 tree (a JSON object). Bounded by [`MAX_DEPTH`] and the
/// member `budget`; what lies past a bound is left out.
pub fn parse_fields(tree: &Value, budget: &mut usize) -> FieldSet {
    parse_node(tree, 0, budget)
}

fn parse_node(tree: &Value, depth: usize, budget: &mut usize) -> FieldSet {
    let Some(map) = tree.as_object() else {
        return FieldSet::default();
    };
    let mut set = FieldSet {
        whole: map.is_empty(),
        members: Vec::new(),
    };
    if depth >= MAX_DEPTH {
        return set;
    }
    for (key, child) in map {
        if key == "." {
            set.whole = true;
            continue;
        }
        if *budget == 0 {
            break;
        }
        let Some(member) = parse_member(key) else {
            continue;
        };
        *budget -= 1;
        let child = parse_node(child, depth + 1, budget);
        set.members.push((member, child));
    }
    set
}

/// One FieldsV1 key as a member; `None` for what cannot be read.
pub fn parse_member(key: &str) -> Option<Member> {
    if key.len() > MAX_KEY {
        return None;
    }
    let (prefix, rest) = key.split_at_checked(2)?;
    match prefix {
        "f:" => Some(Member::Field(rest.to_string())),
        "k:" => match serde_json::from_str::<Value>(rest).ok()? {
            Value::Object(keys) if !keys.is_empty() => Some(Member::Keys(keys)),
            _ => None,
        },
        "v:" => serde_json::from_str::<Value>(rest).ok().map(Member::Value),
        "i:" => rest.parse().ok().map(Member::Index),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_of_every_kind_are_read() {
        assert_eq!(
            parse_member("f:replicas"),
            Some(Member::Field("replicas".into()))
        );
        assert_eq!(
            parse_member("f:kubectl.kubernetes.io/last-applied-configuration"),
            Some(Member::Field(
                "kubectl.kubernetes.io/last-applied-configuration".into()
            ))
        );
        let Some(Member::Keys(keys)) = parse_member(r#"k:{"port":80,"protocol":"TCP"}"#) else {
            panic!("a k: member");
        };
        assert_eq!(keys["port"], json!(80));
        assert_eq!(
            parse_member(r#"v:"kubernetes""#),
            Some(Member::Value(json!("kubernetes")))
        );
        assert_eq!(parse_member("i:3"), Some(Member::Index(3)));
        assert!(Member::Keys(keys).names_item(
            0,
            &json!({"port": 80, "protocol": "TCP", "targetPort": 8080})
        ));
    }

    #[test]
    fn hostile_members_are_left_out_never_a_panic() {
        for key in [
            "",
            "f",
            "é",
            "ké",
            "k:",
            "k:{",
            r#"k:{"name":"#,
            "k:[1,2]",
            "k:{}",
            "k:null",
            "v:",
            "v:{",
            "i:-1",
            "i:x",
            "i:99999999999999999999999",
            "x:y",
            "\u{0}:",
        ] {
            // Anything may come back but a panic.
            let _ = parse_member(key);
        }
        assert_eq!(parse_member("k:{"), None);
        assert_eq!(parse_member("k:{}"), None);
        assert_eq!(parse_member("i:-1"), None);
        let huge = format!("f:{}", "a".repeat(MAX_KEY + 1));
        assert_eq!(parse_member(&huge), None);
        let huge_key = format!("k:{{\"name\":\"{}\"}}", "a".repeat(1 << 20));
        assert_eq!(parse_member(&huge_key), None);
    }

    #[test]
    fn deep_and_wide_trees_are_bounded() {
        // 1,000 levels (JSON readers stop at 128): read to MAX_DEPTH only.
        let mut tree = json!({});
        for _ in 0..1_000 {
            let mut parent = serde_json::Map::new();
            parent.insert("f:a".into(), tree);
            tree = Value::Object(parent);
        }
        let mut budget = MAX_MEMBERS;
        let set = parse_fields(&tree, &mut budget);
        let mut depth = 0;
        let mut node = &set;
        while let Some((_, child)) = node.members.first() {
            depth += 1;
            node = child;
        }
        assert_eq!(depth, MAX_DEPTH);

        let wide: serde_json::Map<String, Value> = (0..(MAX_MEMBERS + 10))
            .map(|i| (format!("f:k{i}"), json!({})))
            .collect();
        let mut budget = MAX_MEMBERS;
        let set = parse_fields(&Value::Object(wide), &mut budget);
        assert_eq!(set.members.len(), MAX_MEMBERS);
        assert_eq!(budget, 0);
    }

    #[test]
    fn a_real_entry_is_read_with_its_writer() {
        let live = json!({"metadata": {"managedFields": [
            {"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
             "time": "2026-11-21T22:03:25Z", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:selector": {}, "f:template": {"f:spec": {"f:containers": {
                 "k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}},
            {"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"},
            {"operation": "Update", "fieldsV1": {}},
            "not an entry",
            {"manager": "x", "fieldsType": "FieldsV2", "fieldsV1": {}}
        ]}});
        let record = write_record(&live).unwrap();
        assert_eq!(record.entries.len(), 2);
        let (apply, fields) = &record.entries[0];
        assert_eq!(apply.manager, "kubectl");
        assert_eq!(apply.time.as_deref(), Some("2026-11-21T22:03:25Z"));
        assert!(trusts(apply, &[]));
        let (scale, _) = &record.entries[1];
        assert_eq!(scale.subresource.as_deref(), Some("scale"));
        assert_eq!(scale.time, None);
        assert!(!trusts(scale, &[]));
        assert!(trusts(scale, &["kubectl".into()]));
        let (Member::Field(spec), spec_set) = &fields.members[0] else {
            panic!()
        };
        assert_eq!(spec, "spec");
        assert!(!spec_set.whole);
        assert!(write_record(&json!({"metadata": {}})).is_none());
        assert!(write_record(&json!({"metadata": {"managedFields": "x"}})).is_none());
    }
}
