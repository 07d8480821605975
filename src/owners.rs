//! Owners (docs/owners.md): who answers for each finding and drift entry,
//! from, in this order, a label or annotation of the resource named in the
//! config (`owners.label`, `owners.annotation`), the repository's CODEOWNERS
//! file (the declared file's owners), and the environment's owner
//! (`environments[].owner`, `owners.environments`). Filled once findings and
//! drift are final ([`fill`], called from `scan`), so every format sees them;
//! `--group-by owner` groups them ([`group_by_owner`]).

pub mod codeowners;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::drift::{Drift, DriftStatus};
use crate::model::{Identity, Inventory, LiveTarget, Resource};
use crate::report::{Finding, Report};
use crate::sources::git::DeclaredTree;

pub use codeowners::CodeOwners;

/// Label and annotation values longer than this are not an owner (an
/// annotation of a live object may hold anything).
pub const MAX_OWNER: usize = 256;

/// The config's `owners` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnersConfig {
    /// Label names whose value is the owner, tried in order (a name or a list).
    pub label: Names,
    /// Annotation names, tried in order after the labels.
    pub annotation: Names,
    /// Read the repository's CODEOWNERS file [default: true].
    pub codeowners: bool,
    /// Owners of environments by name, for environments found in Argo CD and
    /// Flux objects (the config's own `environments[].owner` wins).
    pub environments: BTreeMap<String, String>,
}

impl Default for OwnersConfig {
    fn default() -> Self {
        OwnersConfig {
            label: Names::default(),
            annotation: Names::default(),
            codeowners: true,
            environments: BTreeMap::new(),
        }
    }
}

/// One name, or a list of names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(pub Vec<String>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            One(String),
            Many(Vec<String>),
        }
        match Written::deserialize(deserializer) {
            Ok(Written::One(name)) => Ok(Names(vec![name])),
            Ok(Written::Many(names)) => Ok(Names(names)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a label or annotation name, or a list of names",
            )),
        }
    }
}

impl OwnersConfig {
    /// What is wrong with the section, and which of its keys says it.
    pub fn problem(&self) -> Option<(String, String)> {
        for (key, names) in [("label", &self.label), ("annotation", &self.annotation)] {
            for name in &names.0 {
                if name.is_empty()
                    || name.len() > 316
                    || name.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Some((
                        key.to_string(),
                        format!(
                            "`{}` is not a {key} name",
                            crate::printable::printable(name)
                        ),
                    ));
                }
            }
        }
        for (name, owner) in &self.environments {
            if let Some(why) = owner_problem(owner) {
                return Some((format!("environments.{name}"), why));
            }
        }
        None
    }
}

/// Why an owner written in the config cannot be used.
pub fn owner_problem(owner: &str) -> Option<String> {
    if owner.trim().is_empty() {
        Some("the owner is empty".into())
    } else if owner.len() > MAX_OWNER || owner.chars().any(crate::printable::needs_escape) {
        Some(format!(
            "an owner is at most {MAX_OWNER} bytes of printable text"
        ))
    } else {
        None
    }
}

/// What a scan needs to fill owners (from the config).
#[derive(Debug, Clone, Default)]
pub struct OwnerOptions {
    pub labels: Vec<String>,
    pub annotations: Vec<String>,
    pub codeowners: bool,
    /// Owner of each environment, by name.
    pub environments: BTreeMap<String, String>,
}

impl OwnerOptions {
    /// From the config's `owners` section and `environments[].owner`.
    pub fn from_config(config: &crate::config::Config) -> OwnerOptions {
        let mut environments = config.owners.environments.clone();
        for environment in &config.environments {
            if let Some(owner) = &environment.owner {
                environments.insert(environment.name.clone(), owner.clone());
            }
        }
        OwnerOptions {
            labels: config.owners.label.0.clone(),
            annotations: config.owners.annotation.0.clone(),
            codeowners: config.owners.codeowners,
            environments,
        }
    }
}

/// What owners are found from.
pub struct OwnerSources<'a> {
    pub options: &'a OwnerOptions,
    /// The declared tree, and the commit its files were read from.
    pub tree: Option<(&'a DeclaredTree, Option<&'a str>)>,
    pub declared: &'a Inventory,
    pub targets: &'a [LiveTarget],
}

/// Sets `owner` on every finding (reported, suppressed and fixed: `lists`)
/// and drift entry. CODEOWNERS lines that cannot be used are warnings on
/// standard error (`DA-E411`), never errors of the scan.
pub fn fill(sources: &OwnerSources, lists: &mut [&mut Vec<Finding>], drift: &mut [Drift]) {
    let options = sources.options;
    let nothing = options.labels.is_empty()
        && options.annotations.is_empty()
        && !options.codeowners
        && options.environments.is_empty();
    if nothing {
        return;
    }
    let codeowners = match (options.codeowners, sources.tree) {
        (true, Some((tree, commit))) => {
            let (codeowners, warnings) = codeowners::load(tree, commit);
            for warning in warnings {
                tracing::warn!("{} {warning}", warning.code);
            }
            codeowners
        }
        _ => None,
    };
    // Each declared file is matched once, however many entries it holds.
    let by_file: std::cell::RefCell<BTreeMap<String, Option<String>>> = Default::default();
    let owner_of = |identity: Option<Identity>,
                    target: &[&str],
                    file: Option<&str>,
                    environment: Option<&str>| {
        identity
            .and_then(|identity| from_metadata(sources, &identity, target))
            .or_else(|| {
                let (file, codeowners) = (file?, codeowners.as_ref()?);
                by_file
                    .borrow_mut()
                    .entry(file.to_string())
                    .or_insert_with(|| codeowners.owner_of(file).map(str::to_string))
                    .clone()
            })
            .or_else(|| options.environments.get(environment?).cloned())
    };
    for findings in lists.iter_mut() {
        for finding in findings.iter_mut() {
            let identity = finding
                .resource
                .as_ref()
                .map(|r| Identity::of_reference(r, finding.environment.as_deref()));
            let targets: Vec<&str> = finding.targets.iter().map(String::as_str).collect();
            finding.owner = owner_of(
                identity,
                &targets,
                finding.location.as_ref().map(|l| l.file.as_str()),
                finding.environment.as_deref(),
            );
        }
    }
    for entry in drift.iter_mut() {
        entry.owner = owner_of(
            Some(entry.identity.clone()),
            &[entry.target.as_str()],
            entry.location.as_ref().map(|l| l.file.as_str()),
            entry.environment.as_deref(),
        );
    }
}

/// The first configured label, then annotation, of the declared resource
/// that has one; else of the live object on the first of `targets` holding it
/// (found by the identity as is: a live object paired with an environment's
/// declaration carries the environment's name; else without the environment,
/// as every other live object).
fn from_metadata(sources: &OwnerSources, identity: &Identity, targets: &[&str]) -> Option<String> {
    let options = sources.options;
    if options.labels.is_empty() && options.annotations.is_empty() {
        return None;
    }
    if let Some(owner) = sources
        .declared
        .get(identity)
        .and_then(|r| metadata_owner(options, r))
    {
        return Some(owner);
    }
    let bare = Identity {
        environment: String::new(),
        ..identity.clone()
    };
    sources
        .targets
        .iter()
        .filter(|t| targets.contains(&t.name.as_str()))
        .find_map(|t| {
            let live = t
                .inventory
                .get(identity)
                .or_else(|| t.inventory.get(&bare))?;
            metadata_owner(options, live)
        })
}

fn metadata_owner(options: &OwnerOptions, resource: &Resource) -> Option<String> {
    let metadata = resource.body.get("metadata")?;
    let value = |section: &str, name: &str| {
        let text = metadata.get(section)?.get(name)?.as_str()?.trim();
        (!text.is_empty() && text.len() <= MAX_OWNER).then(|| text.to_string())
    };
    options
        .labels
        .iter()
        .find_map(|name| value("labels", name))
        .or_else(|| {
            options
                .annotations
                .iter()
                .find_map(|name| value("annotations", name))
        })
}

/// `--group-by owner`: the report's findings and drift by owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Groups {
    /// What they are grouped by: `owner`.
    pub by: String,
    /// One group per owner value, sorted by it; the group without owner
    /// (`owner: null`) last.
    pub groups: Vec<Group>,
}

/// The entries of one owner value (several owners of one CODEOWNERS line
/// are one value, `@a @b`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub owner: Option<String>,
    /// Indices into the report's `findings`.
    pub findings: Vec<usize>,
    /// Their fingerprints, in the same order.
    pub fingerprints: Vec<String>,
    /// Indices into the report's `drift`, in-sync entries left out.
    pub drift: Vec<usize>,
}

/// How reports name the group without owner.
pub const NO_OWNER: &str = "(no owner)";

/// The groups of `--group-by owner`.
pub fn group_by_owner(report: &Report) -> Groups {
    fn group<'m, 'r>(
        groups: &'m mut BTreeMap<Option<&'r str>, Group>,
        owner: Option<&'r str>,
    ) -> &'m mut Group {
        groups.entry(owner).or_insert_with(|| Group {
            owner: owner.map(str::to_string),
            findings: Vec::new(),
            fingerprints: Vec::new(),
            drift: Vec::new(),
        })
    }
    let mut by_owner: BTreeMap<Option<&str>, Group> = BTreeMap::new();
    for (i, finding) in report.findings.iter().enumerate() {
        let entry = group(&mut by_owner, finding.owner.as_deref());
        entry.findings.push(i);
        entry.fingerprints.push(finding.fingerprint.clone());
    }
    for (i, drift) in report.drift.iter().enumerate() {
        if drift.status != DriftStatus::InSync {
            group(&mut by_owner, drift.owner.as_deref()).drift.push(i);
        }
    }
    // `None` sorts first in a BTreeMap: moved last.
    let mut groups: Vec<Group> = by_owner.into_values().collect();
    if groups.first().is_some_and(|g| g.owner.is_none()) {
        let none = groups.remove(0);
        groups.push(none);
    }
    Groups {
        by: "owner".into(),
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_or_many() {
        let one: OwnersConfig =
            serde_json::from_value(serde_json::json!({"label": "team"})).unwrap();
        assert_eq!(one.label.0, ["team"]);
        assert!(one.codeowners);
        let many: OwnersConfig =
            serde_json::from_value(serde_json::json!({"annotation": ["a", "b"]})).unwrap();
        assert_eq!(many.annotation.0, ["a", "b"]);
        assert!(serde_json::from_value::<OwnersConfig>(serde_json::json!({"label": 3})).is_err());
    }
}
