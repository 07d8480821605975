//! What is not drift. Server-populated fields, API-server defaults and
//! equivalent spellings (`1000m` = `1`, `1Gi` = `1073741824`, `"80"` = `80`) are
//! normalised away here so a freshly applied resource is never reported as drift.

use serde_json::Value;

use crate::sources::rules::{is_zero, scalars_equivalent};

/// Metadata fields the API server writes.
const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations written by tools and controllers, not by the author.
const SERVER_ANNOTATIONS: [&str; 2] = [
    crate::redact::LAST_APPLIED,
    "deployment.kubernetes.io/revision",
];

/// Removes server-populated fields (metadata bookkeeping, `status`, tool
/// annotations) from a Kubernetes object.
pub fn strip_server_fields(body: &Value) -> Value {
    let mut body = body.clone();
    let Some(object) = body.as_object_mut() else {
        return body;
    };
    object.remove("status");
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        for field in SERVER_METADATA {
            metadata.remove(field);
        }
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            for annotation in SERVER_ANNOTATIONS {
                annotations.remove(annotation);
            }
        }
    }
    if object.get("kind").and_then(Value::as_str) == Some("Pod") {
        if let Some(Value::Object(spec)) = object.get_mut("spec") {
            strip_admission_fields(spec);
        }
    }
    remove_null_timestamps(&mut body);
    body
}

/// Where the service-account admission plugin mounts the token volume.
const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Removes what admission adds to every Pod: the projected service-account
/// token volume `kube-api-access-*` (with a `serviceAccountToken` source) and
/// its mounts, and the default `not-ready`/`unreachable` NoExecute
/// tolerations of 300 s (DefaultTolerationSeconds). Applied to both sides, so
/// a Pod whose manifest spells them out the same compares the same.
fn strip_admission_fields(spec: &mut serde_json::Map<String, Value>) {
    let mut token_volumes = Vec::new();
    if let Some(Value::Array(volumes)) = spec.get_mut("volumes") {
        volumes.retain(|volume| {
            let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
            let injected = name.starts_with("kube-api-access-")
                && volume
                    .pointer("/projected/sources")
                    .and_then(Value::as_array)
                    .is_some_and(|sources| {
                        sources
                            .iter()
                            .any(|s| s.get("serviceAccountToken").is_some())
                    });
            if injected {
                token_volumes.push(name.to_string());
            }
            !injected
        });
        if volumes.is_empty() {
            spec.remove("volumes");
        }
    }
    if !token_volumes.is_empty() {
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let Some(Value::Array(containers)) = spec.get_mut(list) else {
                continue;
            };
            for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                let Some(Value::Array(mounts)) = container.get_mut("volumeMounts") else {
                    continue;
                };
                mounts.retain(|mount| {
                    let name = mount.get("name").and_then(Value::as_str).unwrap_or("");
                    !(token_volumes.iter().any(|v| v == name)
                        && mount.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH))
                });
                if mounts.is_empty() {
                    container.remove("volumeMounts");
                }
            }
        }
    }
    if let Some(Value::Array(tolerations)) = spec.get_mut("tolerations") {
        tolerations.retain(|t| !is_default_toleration(t));
        if tolerations.is_empty() {
            spec.remove("tolerations");
        }
    }
}

/// `{key: node.kubernetes.io/not-ready|unreachable, operator: Exists,
/// effect: NoExecute, tolerationSeconds: 300}`, as admission adds it.
fn is_default_toleration(toleration: &Value) -> bool {
    let Some(map) = toleration.as_object() else {
        return false;
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str);
    matches!(
        text("key"),
        Some("node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable")
    ) && text("operator") == Some("Exists")
        && text("effect") == Some("NoExecute")
        && map.get("tolerationSeconds").and_then(Value::as_i64) == Some(300)
        && map.len() == 4
}

/// Pod templates come back with `metadata.creationTimestamp: null`.
fn remove_null_timestamps(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("creationTimestamp").is_some_and(Value::is_null) {
                map.remove("creationTimestamp");
            }
            map.values_mut().for_each(remove_null_timestamps);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_null_timestamps),
        _ => {}
    }
}

/// Defaults the API server fills in, by kind and path pattern (`[*]` stands
/// for any index, a leading `**.` for any prefix). `None` accepts any value
/// (allocated or derived fields such as `clusterIP`). Taken from objects a real
/// kube-apiserver returned after `kubectl apply`.
const DEFAULTS: &[(&str, &str, Option<&str>)] = &[
    // Pod specs, wherever they sit (Pod, templates of workloads, CronJob jobs).
    (
        "*",
        "**.containers[*].terminationMessagePath",
        Some("\"/dev/termination-log\""),
    ),
    (
        "*",
        "**.containers[*].terminationMessagePolicy",
        Some("\"File\""),
    ),
    ("*", "**.containers[*].imagePullPolicy", None),
    ("*", "**.containers[*].ports[*].protocol", Some("\"TCP\"")),
    (
        "*",
        "**.initContainers[*].terminationMessagePath",
        Some("\"/dev/termination-log\""),
    ),
    (
        "*",
        "**.initContainers[*].terminationMessagePolicy",
        Some("\"File\""),
    ),
    ("*", "**.initContainers[*].imagePullPolicy", None),
    ("*", "**.template.spec.restartPolicy", Some("\"Always\"")),
    (
        "*",
        "**.template.spec.terminationGracePeriodSeconds",
        Some("30"),
    ),
    ("*", "**.template.spec.dnsPolicy", Some("\"ClusterFirst\"")),
    (
        "*",
        "**.template.spec.schedulerName",
        Some("\"default-scheduler\""),
    ),
    ("Pod", "spec.restartPolicy", Some("\"Always\"")),
    ("Pod", "spec.terminationGracePeriodSeconds", Some("30")),
    ("Pod", "spec.dnsPolicy", Some("\"ClusterFirst\"")),
    ("Pod", "spec.schedulerName", Some("\"default-scheduler\"")),
    ("Pod", "spec.enableServiceLinks", Some("true")),
    (
        "Pod",
        "spec.preemptionPolicy",
        Some("\"PreemptLowerPriority\""),
    ),
    ("Pod", "spec.priority", Some("0")),
    ("Pod", "spec.serviceAccount", None),
    ("Pod", "spec.serviceAccountName", Some("\"default\"")),
    ("Deployment", "spec.replicas", Some("1")),
    ("Deployment", "spec.revisionHistoryLimit", Some("10")),
    ("Deployment", "spec.progressDeadlineSeconds", Some("600")),
    (
        "Deployment",
        "spec.strategy.type",
        Some("\"RollingUpdate\""),
    ),
    (
        "Deployment",
        "spec.strategy.rollingUpdate.maxSurge",
        Some("\"25%\""),
    ),
    (
        "Deployment",
        "spec.strategy.rollingUpdate.maxUnavailable",
        Some("\"25%\""),
    ),
    ("StatefulSet", "spec.replicas", Some("1")),
    ("StatefulSet", "spec.revisionHistoryLimit", Some("10")),
    (
        "StatefulSet",
        "spec.podManagementPolicy",
        Some("\"OrderedReady\""),
    ),
    (
        "StatefulSet",
        "spec.updateStrategy.type",
        Some("\"RollingUpdate\""),
    ),
    (
        "StatefulSet",
        "spec.updateStrategy.rollingUpdate.partition",
        Some("0"),
    ),
    (
        "StatefulSet",
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
        Some("\"Retain\""),
    ),
    (
        "StatefulSet",
        "spec.persistentVolumeClaimRetentionPolicy.whenScaled",
        Some("\"Retain\""),
    ),
    ("DaemonSet", "spec.revisionHistoryLimit", Some("10")),
    (
        "DaemonSet",
        "spec.updateStrategy.type",
        Some("\"RollingUpdate\""),
    ),
    (
        "DaemonSet",
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        Some("1"),
    ),
    (
        "DaemonSet",
        "spec.updateStrategy.rollingUpdate.maxSurge",
        Some("0"),
    ),
    ("CronJob", "spec.concurrencyPolicy", Some("\"Allow\"")),
    ("CronJob", "spec.successfulJobsHistoryLimit", Some("3")),
    ("CronJob", "spec.failedJobsHistoryLimit", Some("1")),
    ("CronJob", "spec.suspend", Some("false")),
    ("Job", "spec.backoffLimit", Some("6")),
    ("Job", "spec.completions", Some("1")),
    ("Job", "spec.parallelism", Some("1")),
    ("Job", "spec.completionMode", Some("\"NonIndexed\"")),
    ("Job", "spec.suspend", Some("false")),
    (
        "Job",
        "spec.podReplacementPolicy",
        Some("\"TerminatingOrFailed\""),
    ),
    ("Job", "spec.manualSelector", Some("false")),
    ("Job", "spec.selector", None),
    ("Job", "spec.template.metadata.labels", None),
    ("Service", "spec.clusterIP", None),
    ("Service", "spec.clusterIPs", None),
    ("Service", "spec.type", Some("\"ClusterIP\"")),
    ("Service", "spec.sessionAffinity", Some("\"None\"")),
    ("Service", "spec.ipFamilies", None),
    ("Service", "spec.ipFamilyPolicy", Some("\"SingleStack\"")),
    ("Service", "spec.internalTrafficPolicy", Some("\"Cluster\"")),
    ("Service", "spec.externalTrafficPolicy", Some("\"Cluster\"")),
    (
        "Service",
        "spec.allocateLoadBalancerNodePorts",
        Some("true"),
    ),
    ("Service", "spec.ports[*].protocol", Some("\"TCP\"")),
    ("Service", "spec.ports[*].targetPort", None),
    ("Service", "spec.ports[*].nodePort", None),
    (
        "Namespace",
        "metadata.labels[\"kubernetes.io/metadata.name\"]",
        None,
    ),
    ("Namespace", "spec.finalizers", None),
    ("Secret", "type", Some("\"Opaque\"")),
    (
        "PersistentVolumeClaim",
        "spec.volumeMode",
        Some("\"Filesystem\""),
    ),
    ("PersistentVolumeClaim", "spec.storageClassName", None),
    ("PersistentVolumeClaim", "spec.volumeName", None),
    (
        "ScheduledBackup",
        "spec.backupOwnerReference",
        Some("\"none\""),
    ),
    (
        "ScheduledBackup",
        "spec.method",
        Some("\"barmanObjectStore\""),
    ),
];

/// Turns a concrete path into its pattern form: `a[3].b` → `a[*].b`.
fn pattern_of(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('*');
        }
    }
    out
}

fn pattern_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_prefix("**.") {
        Some(suffix) => {
            path.ends_with(suffix) && {
                let cut = path.len() - suffix.len();
                cut > 0 && path.as_bytes()[cut - 1] == b'.'
            }
        }
        None => pattern == path,
    }
}

/// Whether a live-only field at `path` (concrete) holds what the API server
/// would fill in by itself, recursively for objects.
pub fn is_server_default(kind: &str, path: &str, value: &Value) -> bool {
    if is_zero(value) {
        return true;
    }
    let pattern = pattern_of(path);
    for (entry_kind, entry_path, default) in DEFAULTS {
        if (*entry_kind == "*" || *entry_kind == kind) && pattern_matches(entry_path, &pattern) {
            return match default {
                None => true,
                Some(text) => serde_json::from_str::<Value>(text)
                    .is_ok_and(|d| values_equivalent(&d, value, path)),
            };
        }
    }
    match value {
        Value::Object(map) => map
            .iter()
            .all(|(k, v)| is_server_default(kind, &crate::yaml::push_key(path, k), v)),
        _ => false,
    }
}

/// Path segments under which strings are resource quantities.
const QUANTITY_PARENTS: [&str; 7] = [
    "limits",
    "requests",
    "capacity",
    "allocatable",
    "hard",
    "used",
    "storage",
];

fn is_quantity_path(path: &str) -> bool {
    path.split(['.', '['])
        .any(|segment| QUANTITY_PARENTS.contains(&segment))
        || path.ends_with("sizeLimit")
}

/// Whether two scalars mean the same thing at `path`.
pub fn values_equivalent(declared: &Value, live: &Value, path: &str) -> bool {
    match (declared, live) {
        _ if declared == live => true,
        (Value::Number(_), Value::Number(_)) => scalars_equivalent(declared, live),
        (Value::String(_), _) | (_, Value::String(_)) if is_quantity_path(path) => {
            match (Quantity::of(declared), Quantity::of(live)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
        _ if is_data_path(path) => false,
        // int-or-string fields (ports, maxSurge counts): "80" and 80 are one value.
        _ => scalars_equivalent(declared, live),
    }
}

/// ConfigMap and Secret payloads are strings that must match as written.
fn is_data_path(path: &str) -> bool {
    path.starts_with("data") || path.starts_with("stringData") || path.starts_with("binaryData")
}

/// A Kubernetes resource quantity as an exact value: `mantissa × 10^exp10 × 2^exp2`,
/// reduced so that equal quantities compare equal whatever their spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    mantissa: i128,
    exp10: i32,
}

impl Quantity {
    fn of(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    /// Parses `1`, `0.5`, `100m`, `1Gi`, `1e3`, `1.5k`.
    pub fn parse(text: &str) -> Option<Quantity> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let (mut mantissa, mut exp10) = parse_decimal(number)?;
        let (binary_power, decimal_power) = match suffix {
            "" => (0, 0),
            "Ki" => (10, 0),
            "Mi" => (20, 0),
            "Gi" => (30, 0),
            "Ti" => (40, 0),
            "Pi" => (50, 0),
            "Ei" => (60, 0),
            "n" => (0, -9),
            "u" => (0, -6),
            "m" => (0, -3),
            "k" => (0, 3),
            "M" => (0, 6),
            "G" => (0, 9),
            "T" => (0, 12),
            "P" => (0, 15),
            "E" => (0, 18),
            s if s.starts_with(['e', 'E']) => (0, s[1..].parse::<i32>().ok()?),
            _ => return None,
        };
        mantissa = mantissa.checked_mul(1i128.checked_shl(binary_power)?)?;
        exp10 += decimal_power;
        Some(Quantity { mantissa, exp10 }.reduced())
    }

    fn reduced(mut self) -> Quantity {
        if self.mantissa == 0 {
            return Quantity {
                mantissa: 0,
                exp10: 0,
            };
        }
        while self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.exp10 += 1;
        }
        self
    }
}

fn parse_decimal(text: &str) -> Option<(i128, i32)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .chars()
        .chain(fraction.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut mantissa: i128 = 0;
    for c in whole.chars().chain(fraction.chars()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(c as u8 - b'0'))?;
    }
    Some((
        if negative { -mantissa } else { mantissa },
        -(fraction.len() as i32),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_compare_by_value() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1Gi"), q("1073741824"));
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1k"), q("1000"));
        assert_eq!(q("1e3"), q("1k"));
        assert_ne!(q("1Gi"), q("1G"));
        assert_ne!(q("100m"), q("1"));
        assert!(Quantity::parse("abc").is_none());
        assert!(Quantity::parse("1Xi").is_none());
    }

    #[test]
    fn equivalent_spellings_are_equal() {
        assert!(values_equivalent(
            &json!("1000m"),
            &json!("1"),
            "spec.containers[0].resources.limits.cpu"
        ));
        assert!(values_equivalent(
            &json!("1Gi"),
            &json!("1073741824"),
            "spec.resources.requests.storage"
        ));
        assert!(values_equivalent(
            &json!("80"),
            &json!(80),
            "spec.ports[0].targetPort"
        ));
        assert!(values_equivalent(&json!(1), &json!(1.0), "spec.replicas"));
        assert!(!values_equivalent(
            &json!("1"),
            &json!("1.0"),
            "data.VERSION"
        ));
        assert!(!values_equivalent(&json!("80"), &json!(80), "data.PORT"));
        assert!(!values_equivalent(
            &json!("1000m"),
            &json!("1"),
            "metadata.labels.tier"
        ));
    }

    #[test]
    fn server_defaults_are_recognised() {
        assert!(is_server_default(
            "Deployment",
            "spec.template.spec.containers[0].terminationMessagePath",
            &json!("/dev/termination-log")
        ));
        assert!(is_server_default(
            "Deployment",
            "spec.strategy",
            &json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        ));
        assert!(!is_server_default(
            "Deployment",
            "spec.strategy",
            &json!({"type": "Recreate"})
        ));
        assert!(!is_server_default("Deployment", "spec.replicas", &json!(3)));
        assert!(is_server_default(
            "Service",
            "spec.clusterIP",
            &json!("10.96.0.12")
        ));
    }

    #[test]
    fn admission_fields_of_pods_are_stripped_and_look_alikes_kept() {
        let mount = |name: &str| {
            json!({"name": name, "readOnly": true,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
        };
        let pod = json!({"kind": "Pod", "spec": {
            "volumes": [
                {"name": "kube-api-access-abcde", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
                {"name": "kube-api-access-mine", "configMap": {"name": "x"}}],
            "containers": [{"name": "c", "volumeMounts": [mount("kube-api-access-abcde"), mount("kube-api-access-mine")]}],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]}});
        assert_eq!(
            strip_server_fields(&pod)["spec"],
            json!({
                "volumes": [{"name": "kube-api-access-mine", "configMap": {"name": "x"}}],
                "containers": [{"name": "c", "volumeMounts": [mount("kube-api-access-mine")]}],
                "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                 "effect": "NoExecute", "tolerationSeconds": 60}]})
        );
        // Only Pods: a template keeps what its author wrote.
        let mut template = pod.clone();
        template["kind"] = json!("PodTemplate");
        assert_eq!(strip_server_fields(&template)["spec"], pod["spec"]);
    }

    #[test]
    fn server_fields_are_stripped() {
        let live = json!({"metadata": {"name": "a", "uid": "x", "resourceVersion": "1",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"}},
            "spec": {"template": {"metadata": {"creationTimestamp": null}}}, "status": {}});
        let stripped = strip_server_fields(&live);
        assert_eq!(
            stripped,
            json!({"metadata": {"name": "a", "annotations": {"team": "a"}},
            "spec": {"template": {"metadata": {}}}})
        );
    }
}
