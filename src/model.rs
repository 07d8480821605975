//! The data model every stage shares: resource identities, resources with their
//! origin, inventories keyed by identity, and the problems a scan can meet.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod declared;
mod live;

pub use declared::{DeclaredCoverage, DeclaredFile, FileCounts, FileState};
pub use live::{Deadline, LiveTarget, LiveTimeouts};

use crate::yaml::LineMap;

/// Which system a resource belongs to. Kubernetes is one source among several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Kubernetes,
    Traefik,
    Postgres,
    Backup,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Kubernetes => "kubernetes",
            Source::Traefik => "traefik",
            Source::Postgres => "postgres",
            Source::Backup => "backup",
        }
    }
}

/// The key that matches a declared resource with its live counterpart. The API
/// version is left out on purpose: `apps/v1` and `apps/v1beta2` name one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub source: Source,
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The declared environment the object belongs to (`docs/environments.md`);
    /// empty for live objects and for files under no environment. The same
    /// object may be declared once per environment.
    pub environment: String,
}

impl Identity {
    /// The identity a resource reference names (with its environment, empty
    /// for none): what a report read back from JSON knows of a resource.
    pub fn of_reference(reference: &ResourceRef, environment: Option<&str>) -> Identity {
        Identity {
            source: reference.source,
            group: api_group(&reference.api_version).to_string(),
            kind: reference.kind.clone(),
            namespace: reference.namespace.clone(),
            name: reference.name.clone(),
            environment: environment.unwrap_or_default().to_string(),
        }
    }

    /// A placeholder until [`Identity::of_reference`] replaces it.
    pub fn unknown() -> Identity {
        Identity {
            source: Source::Kubernetes,
            group: String::new(),
            kind: String::new(),
            namespace: String::new(),
            name: String::new(),
            environment: String::new(),
        }
    }

    /// `Deployment shop/web`, `ClusterRole admin`.
    pub fn display_name(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

/// The group part of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core).
pub fn api_group(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    }
}

/// The identity as reports print it (`resource` in the JSON schema).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    pub source: Source,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ResourceRef {
    /// `Deployment shop/web`, `ClusterRole admin`.
    pub fn display_name(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Where a resource was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Origin {
    /// A document in a file of the declared repository (path relative to its root).
    Declared {
        file: String,
        line: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
    /// An object read from a live endpoint of a named target.
    Live { target: String, endpoint: String },
}

/// One object of any source.
#[derive(Debug, Clone)]
pub struct Resource {
    pub identity: Identity,
    pub api_version: String,
    /// The body, with every secret value already replaced by a digest.
    pub body: Value,
    pub origin: Origin,
    /// Derived facts (certificates, ...); an object, never secret material.
    pub facts: Value,
    /// Line of each field of a declared document, for pointing findings at a line.
    pub lines: Option<Arc<LineMap>>,
    /// The `metadata.generateName` of a declared object without a name (an
    /// Argo CD hook Job): its identity's name is made up from its file and
    /// position, so it never matches a live object and drift leaves it out.
    pub generate_name: Option<String>,
}

impl Resource {
    /// The one constructor: the identity's group comes from the apiVersion;
    /// no facts and no line map until `with_facts` / `with_lines`.
    pub fn new(
        source: Source,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        body: Value,
        origin: Origin,
    ) -> Resource {
        Resource {
            identity: Identity {
                source,
                group: api_group(api_version).to_string(),
                kind: kind.to_string(),
                namespace: namespace.to_string(),
                name: name.to_string(),
                environment: String::new(),
            },
            api_version: api_version.to_string(),
            body,
            origin,
            facts: Value::Object(Default::default()),
            lines: None,
            generate_name: None,
        }
    }

    /// With derived facts (an object).
    pub fn with_facts(mut self, facts: Value) -> Resource {
        self.facts = facts;
        self
    }

    /// With a made-up name: the object only has `metadata.generateName`.
    pub fn with_generate_name(mut self, prefix: Option<String>) -> Resource {
        self.generate_name = prefix;
        self
    }

    /// With the line map of its declared document.
    pub fn with_lines(mut self, lines: Option<Arc<LineMap>>) -> Resource {
        self.lines = lines;
        self
    }

    pub fn reference(&self) -> ResourceRef {
        ResourceRef {
            source: self.identity.source,
            api_version: self.api_version.clone(),
            kind: self.identity.kind.clone(),
            namespace: self.identity.namespace.clone(),
            name: self.identity.name.clone(),
        }
    }

    /// File and line of `path` (or of the document when the path is unknown).
    pub fn location_of(&self, path: Option<&str>) -> Option<Location> {
        match &self.origin {
            Origin::Declared { file, line, .. } => {
                let at = match (&self.lines, path) {
                    (Some(lines), Some(path)) => lines.line_of(path).unwrap_or(*line),
                    _ => *line,
                };
                Some(Location {
                    file: file.clone(),
                    line: at,
                })
            }
            Origin::Live { .. } => None,
        }
    }
}

/// A place in the declared repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

/// Resources keyed by identity in a sorted map, so every output is deterministic.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub resources: BTreeMap<Identity, Resource>,
}

impl Inventory {
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    pub fn get(&self, identity: &Identity) -> Option<&Resource> {
        self.resources.get(identity)
    }

    /// Adds a resource; a second resource with the same identity is refused and
    /// handed back so the caller can report both places.
    pub fn insert(&mut self, resource: Resource) -> Result<(), Box<Resource>> {
        use std::collections::btree_map::Entry;
        match self.resources.entry(resource.identity.clone()) {
            Entry::Vacant(slot) => {
                slot.insert(resource);
                Ok(())
            }
            Entry::Occupied(_) => Err(Box::new(resource)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values()
    }
}

/// What a live source could not read. Each gap makes the scan incomplete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CoverageGap {
    pub source: Source,
    #[serde(default)]
    pub target: String,
    /// What was not checked, e.g. `apps/v1 Deployment in payments`.
    pub scope: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    /// Structured scope, when the gap is about one kind: its API group and kind,
    /// and the namespace (empty: every namespace). Declared resources inside a
    /// gap are not compared (they would look "missing"); without a kind the gap
    /// covers the whole source of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<GapKind>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GapKind {
    pub group: String,
    pub kind: String,
    #[serde(default)]
    pub namespace: String,
}

impl CoverageGap {
    /// Whether this gap means `identity` could not be checked on the gap's target.
    pub fn hides(&self, identity: &Identity) -> bool {
        if self.source != identity.source {
            return false;
        }
        match &self.kind {
            None => true,
            Some(k) => {
                k.group == identity.group
                    && k.kind == identity.kind
                    && (k.namespace.is_empty() || k.namespace == identity.namespace)
            }
        }
    }
}

/// An input that could not be used: a broken file, a bad ref, a malformed
/// policy. A typed diagnostic with a code and a structured place
/// (`InputError::error(code, place, message)`).
pub type InputError = crate::diag::Diagnostic;

/// Policy severities, most severe last so `Ord` compares naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
