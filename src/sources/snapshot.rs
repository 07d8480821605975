//! The live snapshot file: a captured live Inventory (versioned JSON, see
//! `docs/snapshot-format.md`). `capture` writes it; `scan --live-snapshot` reads it.

use futures::future::{BoxFuture, FutureExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::collect::{blocking, Collected, Collector, LiveScope};
use super::kubernetes::{kubernetes_resource, ManifestError};
use super::traefik::{self, traefik_resource};
use crate::diag::{Code, Place, Span};
use crate::model::{CoverageGap, InputError, Inventory, Origin, Resource, Source};
use crate::model::{Deadline, LiveTarget};
use crate::redact;

pub const FORMAT: &str = "driftaudit-snapshot";
/// The version `capture` writes: 2, Secret values as keyed hashes or not at all.
pub const VERSION: u32 = 2;
/// Versions `scan` reads. Version 1 stored Secret values as digests salted
/// with public values (reversible by trying values): they are never trusted.
pub const READABLE: [u32; 2] = [1, 2];

#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotFile {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub captured_at: Option<String>,
    /// How Secret values are stored (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_values: Option<SecretValues>,
    pub targets: Vec<SnapshotTarget>,
}

/// How a snapshot stores Secret values: `hmac-sha256` under the key whose id
/// is `key_id` (`capture --secret-key-file`), or `not-captured`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretValues {
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

const KEYED: &str = "hmac-sha256";
const NOT_CAPTURED: &str = "not-captured";

#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotTarget {
    pub name: String,
    /// Sources this target covers; absent: those of its resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub coverage: Vec<CoverageGap>,
    /// Kinds never compared with Git (see `LiveTarget::uncompared_kinds`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncompared_kinds: Vec<String>,
    #[serde(default)]
    pub resources: Vec<SnapshotResource>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotResource {
    pub source: Source,
    #[serde(default)]
    pub endpoint: String,
    /// Given for sources other than Kubernetes, whose objects do not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<SnapshotIdentity>,
    pub object: Value,
    /// Facts derived at capture time from material the snapshot does not keep
    /// (certificates of Secrets, whose data is stored as digests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotIdentity {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub namespace: String,
    pub name: String,
}

/// Reads a snapshot file. A file that cannot be used at all is an error; a bad
/// resource inside it is reported and the others are kept.
pub fn load_snapshot(
    path: &std::path::Path,
) -> Result<(Vec<LiveTarget>, Vec<InputError>), InputError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::error(
            Code::SnapshotUnreadable,
            Place::file(&name),
            format!("cannot read snapshot: {e}"),
        )
        .with_source(e)
    })?;
    parse_snapshot(&text, &name)
}

/// serde_json's 1-based line and byte column as a line and character column.
fn json_span(text: &str, line: usize, byte_column: usize) -> Span {
    let column = text
        .lines()
        .nth(line.saturating_sub(1))
        .filter(|_| line > 0 && byte_column > 0)
        .map_or(0, |shown| {
            let mut end = byte_column.saturating_sub(1).min(shown.len());
            while !shown.is_char_boundary(end) {
                end -= 1;
            }
            shown[..end].chars().count() + 1
        });
    Span {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        len: 0,
    }
}

pub fn parse_snapshot(
    text: &str,
    name: &str,
) -> Result<(Vec<LiveTarget>, Vec<InputError>), InputError> {
    let file: SnapshotFile = serde_json::from_str(text).map_err(|e| {
        // Broken JSON is a syntax error; JSON of the wrong shape is not a snapshot.
        let code = if e.is_syntax() || e.is_eof() {
            Code::Syntax
        } else {
            Code::SnapshotInvalid
        };
        // The place holds the position: the message does not repeat it.
        let text_of = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let what = text_of.strip_suffix(&position).unwrap_or(&text_of);
        InputError::error(
            code,
            Place::span(name, json_span(text, e.line(), e.column())),
            format!("not a driftaudit snapshot: {what}"),
        )
        .with_source(e)
    })?;
    if file.format != FORMAT {
        return Err(InputError::error(
            Code::SnapshotInvalid,
            Place::file(name),
            format!("format is `{}`, expected `{FORMAT}`", file.format),
        ));
    }
    if !READABLE.contains(&file.version) {
        return Err(InputError::error(
            Code::SnapshotInvalid,
            Place::file(name),
            format!(
                "snapshot version {} is not supported (this driftaudit reads versions 1 and {VERSION})",
                file.version
            ),
        ));
    }
    let secrets = secret_trust(file.version, file.secret_values.as_ref());
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for target in file.targets {
        let mut live = LiveTarget {
            name: target.name.clone(),
            sources: target.sources.clone(),
            inventory: Inventory::default(),
            coverage: target.coverage,
            uncompared_kinds: target.uncompared_kinds,
            identity: Default::default(),
        };
        for gap in &mut live.coverage {
            if gap.target.is_empty() {
                gap.target = target.name.clone();
            }
        }
        // Namespaces whose Secrets hold values that cannot be compared.
        let mut uncompared: std::collections::BTreeMap<String, String> = Default::default();
        for (index, entry) in target.resources.into_iter().enumerate() {
            let place = Place::Text(format!("{name}: target {} resource #{index}", target.name));
            let endpoint = entry.endpoint.clone();
            match live_resources(entry, &target.name, &secrets, &mut |namespace| {
                uncompared
                    .entry(namespace.to_string())
                    .or_insert_with(|| endpoint.clone());
            }) {
                Ok(resources) => {
                    for resource in resources {
                        if let Err(duplicate) = live.inventory.insert(resource) {
                            errors.push(InputError::error(
                                Code::SnapshotInvalid,
                                place.clone(),
                                format!("{} appears twice", duplicate.identity),
                            ));
                        }
                    }
                }
                Err(error) => errors.push(InputError::error(
                    Code::SnapshotInvalid,
                    place,
                    error.to_string(),
                )),
            }
        }
        for (namespace, endpoint) in uncompared {
            live.coverage.push(CoverageGap {
                source: Source::Kubernetes,
                target: target.name.clone(),
                scope: format!("v1 Secret values in {namespace}"),
                reason: secrets.reason.clone(),
                endpoint,
                kind: Some(crate::model::GapKind {
                    group: String::new(),
                    kind: "Secret".into(),
                    namespace,
                }),
            });
        }
        if live.sources.is_empty() {
            live.sources = live.inventory.iter().map(|r| r.identity.source).collect();
            live.sources.dedup();
            live.sources.sort();
            live.sources.dedup();
        }
        targets.push(live);
    }
    Ok((targets, errors))
}

/// The resources of one snapshot entry. A Kubernetes list (`kind: List`,
/// `SecretList`, any `<Kind>List` with `items`) is split into its items, each
/// built and redacted on its own; every object passes through the same
/// constructor as live ones (`kubernetes_resource`, `traefik_resource`), so a
/// hand-made or old snapshot gets the same redaction and normalisation.
/// Why a resource entry of a snapshot cannot be used.
#[derive(Debug)]
enum EntryError {
    Manifest(ManifestError),
    /// A `*List` whose `items` is not a list: the list's kind.
    ItemsNotAList(String),
    /// Not a Kubernetes entry and no `identity`: the source.
    NoIdentity(Source),
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryError::Manifest(error) => error.fmt(f),
            EntryError::ItemsNotAList(kind) => write!(f, "`{kind}` has `items` that is not a list"),
            EntryError::NoIdentity(source) => {
                write!(f, "a {} resource needs an `identity`", source.as_str())
            }
        }
    }
}

/// Whether a snapshot's keyed Secret hashes can be compared in this run, and
/// why not.
struct SecretTrust {
    trusted: bool,
    reason: String,
}

fn secret_trust(version: u32, stored: Option<&SecretValues>) -> SecretTrust {
    let run_key = redact::secret_key_id();
    let (trusted, reason) = match (version, stored) {
        (1, _) => (
            false,
            "a version-1 snapshot stores Secret values as digests salted with public values, which can be reversed by trying values: they are not trusted and not compared (capture again, with --secret-key-file)".to_string(),
        ),
        (_, Some(SecretValues { hash, key_id: Some(id) })) if hash == KEYED => match run_key {
            Some(key) if key == *id => (true, String::new()),
            Some(_) => (
                false,
                "the snapshot's Secret values are keyed hashes under another key than --secret-key-file: not compared".to_string(),
            ),
            None => (
                false,
                "the snapshot's Secret values are keyed hashes: give the capture's key (--secret-key-file or DRIFTAUDIT_SECRET_KEY_FILE) to compare them; not compared".to_string(),
            ),
        },
        _ => (
            false,
            format!("the snapshot holds no Secret values (captured without --secret-key-file, `{NOT_CAPTURED}`): not compared"),
        ),
    };
    SecretTrust { trusted, reason }
}

fn live_resources(
    entry: SnapshotResource,
    target: &str,
    secrets: &SecretTrust,
    uncompared: &mut dyn FnMut(&str),
) -> Result<Vec<Resource>, EntryError> {
    let origin = Origin::Live {
        target: target.to_string(),
        endpoint: entry.endpoint.clone(),
    };
    let stored_facts = entry.facts;
    let resources = match (entry.source, entry.identity) {
        (Source::Kubernetes, _) => kubernetes_objects(entry.object)?
            .into_iter()
            .map(|mut object| {
                let is_secret = redact::is_secret(
                    object
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    object
                        .get("kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                );
                if is_secret && redact::distrust_secret_digests(&mut object, secrets.trusted) {
                    let namespace = object
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                        .unwrap_or("default");
                    uncompared(namespace);
                }
                kubernetes_resource(object, origin.clone(), None, "default")
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(EntryError::Manifest)?,
        (Source::Traefik, Some(identity)) => {
            let provider = traefik_provider(&identity.api_version);
            vec![traefik_resource(
                &identity.kind,
                provider,
                &identity.name,
                entry.object,
                origin,
                None,
                Value::Object(Default::default()),
            )]
        }
        (source, Some(identity)) => {
            let mut body = entry.object;
            let salt = format!("{} {}", identity.kind, identity.name);
            redact::redact_urls(&mut body, &salt);
            vec![Resource::new(
                source,
                &identity.api_version,
                &identity.kind,
                &identity.namespace,
                &identity.name,
                body,
                origin,
            )]
        }
        (source, None) => return Err(EntryError::NoIdentity(source)),
    };
    let mut resources = resources;
    // Facts derived from the object itself win; stored ones fill what the
    // redacted object can no longer give.
    if let Some(Value::Object(stored)) = stored_facts {
        for resource in &mut resources {
            if let Value::Object(current) = &mut resource.facts {
                for (key, value) in &stored {
                    current.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    Ok(resources)
}

/// The objects of a Kubernetes entry: itself, or the items of a list. Items
/// of a typed list (`SecretList`) carry no `apiVersion`/`kind`: they are
/// set from the list, as the API server means them.
fn kubernetes_objects(object: Value) -> Result<Vec<Value>, EntryError> {
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(item_kind) = kind.strip_suffix("List").map(str::to_string) else {
        return Ok(vec![object]);
    };
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let items = match object.get("items") {
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return Err(EntryError::ItemsNotAList(kind.to_string())),
        // A kind that merely ends in `List` and holds no items is an object.
        None => return Ok(vec![object]),
    };
    Ok(items
        .into_iter()
        .map(|mut item| {
            if let (Some(map), false) = (item.as_object_mut(), item_kind.is_empty()) {
                map.entry("apiVersion")
                    .or_insert_with(|| Value::String(api_version.clone()));
                map.entry("kind")
                    .or_insert_with(|| Value::String(item_kind.clone()));
            }
            item
        })
        .collect())
}

/// The Traefik provider named by a snapshot apiVersion
/// (`kubernetescrd.traefik.driftaudit.io/v1` → `kubernetescrd`).
fn traefik_provider(api_version: &str) -> &str {
    api_version
        .strip_suffix(traefik::API_VERSION)
        .and_then(|rest| rest.strip_suffix('.'))
        .filter(|p| !p.is_empty())
        .unwrap_or(traefik::FILE_PROVIDER)
}

/// Serialises live targets as a snapshot (bodies are already redacted).
/// Secret values are kept as keyed hashes under the user's key when one was
/// given (`redact::set_secret_key`), else replaced by `<not captured>`: the
/// hashes under the random per-run key are never written.
pub fn to_snapshot(targets: &[LiveTarget], captured_at: &str) -> SnapshotFile {
    let key_id = redact::secret_key_id();
    SnapshotFile {
        format: FORMAT.into(),
        version: VERSION,
        captured_at: Some(captured_at.to_string()),
        secret_values: Some(SecretValues {
            hash: if key_id.is_some() {
                KEYED
            } else {
                NOT_CAPTURED
            }
            .to_string(),
            key_id: key_id.clone(),
        }),
        targets: targets
            .iter()
            .map(|t| SnapshotTarget {
                name: t.name.clone(),
                sources: t.sources.clone(),
                coverage: t.coverage.clone(),
                uncompared_kinds: t.uncompared_kinds.clone(),
                resources: t
                    .inventory
                    .iter()
                    .map(|r| {
                        let endpoint = match &r.origin {
                            Origin::Live { endpoint, .. } => endpoint.clone(),
                            Origin::Declared { .. } => String::new(),
                        };
                        let mut object = r.body.clone();
                        if redact::is_secret(&r.api_version, &r.identity.kind) {
                            redact::redact_secret(&mut object);
                            if key_id.is_none() {
                                redact::drop_secret_values(&mut object);
                            }
                        }
                        SnapshotResource {
                            source: r.identity.source,
                            endpoint,
                            identity: (r.identity.source != Source::Kubernetes).then(|| {
                                SnapshotIdentity {
                                    api_version: r.api_version.clone(),
                                    kind: r.identity.kind.clone(),
                                    namespace: r.identity.namespace.clone(),
                                    name: r.identity.name.clone(),
                                }
                            }),
                            object,
                            facts: r
                                .facts
                                .as_object()
                                .filter(|f| !f.is_empty())
                                .map(|_| r.facts.clone()),
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A snapshot file as a live source (`--live-snapshot`).
#[derive(Debug, Clone)]
pub struct SnapshotSource(pub std::path::PathBuf);

/// A local file: read whatever the clock says.
impl Collector for SnapshotSource {
    fn label(&self) -> String {
        format!("snapshot {}", self.0.display())
    }

    fn bounded(&self) -> bool {
        false
    }

    fn collect(
        &self,
        _scope: &LiveScope<'_>,
        _deadline: Deadline,
    ) -> BoxFuture<'static, Collected> {
        let path = self.0.clone();
        async move {
            match blocking(move || load_snapshot(&path)).await {
                Ok((targets, errors)) => Collected { targets, errors },
                Err(error) => Collected {
                    targets: Vec::new(),
                    errors: vec![error],
                },
            }
        }
        .boxed()
    }

    fn unread(&self, _reason: &str) -> Vec<LiveTarget> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_point_at_line_and_character_column() {
        let text = "{\n  \"format\": \"é€\",, \"x\": 1\n}\n";
        let error = parse_snapshot(text, "s.json").map(|_| ()).unwrap_err();
        assert_eq!(error.code, Code::Syntax);
        // serde_json says byte column 21; the second comma is character 18.
        assert_eq!(error.location, "s.json:2:18");
        assert_eq!(
            error.message,
            "not a driftaudit snapshot: key must be a string"
        );
        let wrong_shape = parse_snapshot("{\"format\": 3}", "s.json")
            .map(|_| ())
            .unwrap_err();
        assert_eq!(wrong_shape.code, Code::SnapshotInvalid);
    }
}
