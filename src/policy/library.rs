//! The policy library: Rego files (built-in, embedded in the binary, and the
//! user's directories), the `# METADATA` of each rule, and the baseline data.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use include_dir::{include_dir, Dir};
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::Value;

use crate::diag::{read_text, unknown_key, Code, Diagnostic, Place};
use crate::model::{InputError, Severity};
use crate::sources::declared::json_type;
use crate::yaml::{parse_documents, parse_spanned, push_index, push_key, SpanMap};

static BUILTIN_POLICIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");
static BUILTIN_BASELINES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/baselines");

/// One Rego file.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Shown in messages: `builtin:policies/images.rego` or a real path.
    pub name: String,
    pub text: String,
}

impl PolicyFile {
    pub fn is_test(&self) -> bool {
        self.name.ends_with("_test.rego")
    }
}

/// The text of an embedded file, named as in messages
/// (`builtin:policies/images.rego`, `builtin:baselines/default.yaml`).
pub fn builtin_text(name: &str) -> Option<&'static str> {
    let (folder, path) = name.strip_prefix("builtin:")?.split_once('/')?;
    let files = match folder {
        "policies" => &BUILTIN_POLICIES,
        "baselines" => &BUILTIN_BASELINES,
        _ => return None,
    };
    files.get_file(path)?.contents_utf8()
}

/// The built-in policy files, in name order.
pub fn builtin_policy_files() -> Vec<PolicyFile> {
    let mut files: Vec<PolicyFile> = BUILTIN_POLICIES
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "rego"))
        .map(|f| PolicyFile {
            name: format!("builtin:policies/{}", f.path().display()),
            text: f.contents_utf8().unwrap_or_default().to_string(),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// Every `*.rego` file below `dir`, in path order.
pub fn policy_files_in(dir: &Path) -> Result<Vec<PolicyFile>, InputError> {
    if !dir.is_dir() {
        return Err(InputError::error(
            Code::Io,
            Place::file(dir.display().to_string()),
            "policy directory does not exist",
        ));
    }
    let mut paths = Vec::new();
    collect_rego(dir, &mut paths).map_err(|e| {
        InputError::error(
            Code::Io,
            Place::file(dir.display().to_string()),
            e.to_string(),
        )
        .with_source(e)
    })?;
    paths.sort();
    if paths.is_empty() {
        tracing::warn!(dir = %dir.display(), "the policy directory holds no .rego file");
    } else {
        tracing::info!(dir = %dir.display(), files = paths.len(), "read the policy directory");
    }
    paths
        .into_iter()
        .map(|path| {
            let refuse = |e: std::io::Error| {
                InputError::error(
                    Code::Io,
                    Place::file(path.display().to_string()),
                    format!("cannot read: {e}"),
                )
                .with_source(e)
            };
            // Never through a link, never a FIFO or device, never unbounded:
            // a policy folder may come from the scanned repository.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(refuse(std::io::Error::other(
                    "a symbolic link (policy files are read only as regular files, never through a link)",
                )));
            }
            let (file, _) = crate::no_follow::open_regular(&path).map_err(refuse)?;
            let bytes = crate::no_follow::read_bounded(file, MAX_POLICY_FILE).map_err(refuse)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| refuse(std::io::Error::other("not UTF-8 text")))?;
            Ok(PolicyFile {
                name: path.display().to_string(),
                text,
            })
        })
        .collect()
}

/// The largest policy file read (4 MiB).
pub const MAX_POLICY_FILE: u64 = 4 << 20;

/// Every `.rego` file under `dir`. Links are not followed: a link named
/// `*.rego` is kept, so reading it fails with an error naming it (a policy
/// folder of a pull request linking `/proc/self/environ` or `/dev/zero`), and
/// a linked folder is not entered.
fn collect_rego(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_rego(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rego") {
            out.push(path);
        } else if kind.is_symlink() {
            tracing::warn!(path = %path.display(), "a link in a policy folder is not followed");
        }
    }
    Ok(())
}

/// The `custom.kinds` entry that routes a rule to every workload kind: the
/// built-in ones (`super::workloads`) and the custom
/// resources of the config's `workloads` section.
pub const WORKLOAD_KINDS: &str = "workloads";

/// Whether a rule runs once per resource side or once per scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Resource,
    Inventory,
}

/// A rule the scan evaluates, with what its `# METADATA` block says.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub category: String,
    pub remediation: String,
    pub kinds: Vec<String>,
    pub sources: Vec<String>,
    /// Facts the rule needs (`custom.facts`): it only meets inputs that have them.
    pub facts: Vec<String>,
    /// The baseline switch that turns the rule on (`custom.enabled_by`, a
    /// dotted key such as `hardening.probes`): unless that key is `true`, the
    /// rule is not evaluated at all.
    pub enabled_by: Option<String>,
    /// The controls the rule evidences (`custom.controls`, a list of
    /// strings): for built-in rules framework ids such as
    /// `CIS-K8s-1.10:5.2.2` or `ISO27001-2022:A.8.24` (`super::controls`,
    /// docs/controls.md); a user's rule may name any, or none.
    pub controls: Vec<String>,
    pub scope: Scope,
    pub package: String,
    /// The Rego rule name inside the package.
    pub rule: String,
    /// `file:line` of the rule.
    pub location: String,
}

impl RuleInfo {
    /// Whether the rule's switch (`custom.enabled_by`) is on in `baselines`;
    /// a rule without a switch always is.
    pub fn switched_on(&self, baselines: &Value) -> bool {
        self.enabled_by.as_deref().is_none_or(|key| {
            key.split('.')
                .try_fold(baselines, |value, part| value.get(part))
                .is_some_and(|value| value == &Value::Bool(true))
        })
    }

    /// `data.<package>.<rule>`
    pub fn query(&self) -> String {
        format!("data.{}.{}", self.package, self.rule)
    }

    /// Whether the rule is routed to objects of `source` and `kind`;
    /// `workload_kinds` is what the `workloads` entry of `custom.kinds` stands for.
    pub fn applies_to(&self, source: &str, kind: &str, workload_kinds: &BTreeSet<String>) -> bool {
        let kind_ok = self.kinds.iter().any(|k| {
            k == "*" || k == kind || (k == WORKLOAD_KINDS && workload_kinds.contains(kind))
        });
        let source_ok =
            self.sources.is_empty() || self.sources.iter().any(|s| s == "*" || s == source);
        kind_ok && source_ok
    }
}

/// Package-wide defaults from the block above `package`.
#[derive(Default, Clone)]
struct PackageDefaults {
    category: Option<String>,
    kinds: Option<Vec<String>>,
    sources: Option<Vec<String>>,
    facts: Option<Vec<String>>,
    controls: Option<Vec<String>>,
    scope: Option<String>,
}

/// Reads the rules of one file from its `# METADATA` blocks.
pub fn rules_of(file: &PolicyFile) -> Result<Vec<RuleInfo>, InputError> {
    let lines: Vec<&str> = file.text.lines().collect();
    let mut package = String::new();
    let mut defaults = PackageDefaults::default();
    let mut rules = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(rest) = line.strip_prefix("package ") {
            package = rest.trim().to_string();
            i += 1;
            continue;
        }
        if line != "# METADATA" {
            i += 1;
            continue;
        }
        let block_line = i + 1;
        let mut yaml = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim_start().starts_with('#') {
            let comment = lines[i].trim_start().trim_start_matches('#');
            yaml.push_str(comment.strip_prefix(' ').unwrap_or(comment));
            yaml.push('\n');
            i += 1;
        }
        while i < lines.len() && lines[i].trim().is_empty() {
            i += 1;
        }
        let metadata = parse_documents(&yaml)
            .map_err(|e| {
                Diagnostic::error(
                    Code::PolicyMetadata,
                    Place::line(&file.name, (block_line + e.line as usize) as u32),
                    format!("METADATA is not valid YAML: {}", e.message),
                )
            })?
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Null);
        let custom = metadata.get("custom").cloned().unwrap_or(Value::Null);
        let Some(next) = lines.get(i) else { break };
        let at = format!("{}:{}", file.name, i + 1);
        let controls = controls_field(&custom).map_err(|problem| {
            let line = yaml
                .lines()
                .position(|l| l.trim_start().starts_with("controls:"))
                .map_or(i + 1, |k| block_line + k + 1);
            Diagnostic::error(
                Code::PolicyMetadata,
                Place::line(&file.name, line as u32),
                format!("METADATA `custom.controls` {problem}"),
            )
            .with_note("docs/controls.md describes custom.controls")
        })?;
        if next.trim_start().starts_with("package ") {
            defaults = PackageDefaults {
                category: str_field(&custom, "category"),
                kinds: list_field(&custom, "kinds"),
                sources: list_field(&custom, "sources"),
                facts: list_field(&custom, "facts"),
                controls,
                scope: str_field(&custom, "scope"),
            };
            continue;
        }
        let Some(id) = str_field(&custom, "id") else {
            continue;
        };
        let rule: String = next
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if rule.is_empty() {
            return Err(Diagnostic::error(
                Code::PolicyMetadata,
                Place::line(&file.name, (i + 1) as u32),
                "a METADATA block with `custom.id` must be followed by a rule",
            ));
        }
        let severity_text = str_field(&custom, "severity").unwrap_or_else(|| "medium".into());
        let severity = Severity::parse(&severity_text).ok_or_else(|| {
            Diagnostic::error(
                Code::PolicyMetadata,
                Place::line(&file.name, (i + 1) as u32),
                format!("rule {id}: unknown severity `{severity_text}` (critical, high, medium, low or info)"),
            )
        })?;
        let scope = match str_field(&custom, "scope")
            .or(defaults.scope.clone())
            .as_deref()
        {
            None | Some("resource") => Scope::Resource,
            Some("inventory") => Scope::Inventory,
            Some(other) => {
                return Err(Diagnostic::error(
                    Code::PolicyMetadata,
                    Place::line(&file.name, (i + 1) as u32),
                    format!("rule {id}: unknown scope `{other}` (resource or inventory)"),
                ))
            }
        };
        rules.push(RuleInfo {
            title: str_field(&metadata, "title").unwrap_or_else(|| id.clone()),
            description: str_field(&metadata, "description").unwrap_or_default(),
            severity,
            category: str_field(&custom, "category")
                .or(defaults.category.clone())
                .unwrap_or_else(|| "general".into()),
            remediation: str_field(&custom, "remediation").unwrap_or_default(),
            kinds: list_field(&custom, "kinds")
                .or(defaults.kinds.clone())
                .unwrap_or_else(|| vec!["*".into()]),
            sources: list_field(&custom, "sources")
                .or(defaults.sources.clone())
                .unwrap_or_default(),
            facts: list_field(&custom, "facts")
                .or(defaults.facts.clone())
                .unwrap_or_default(),
            enabled_by: str_field(&custom, "enabled_by"),
            controls: controls.or(defaults.controls.clone()).unwrap_or_default(),
            scope,
            package: package.clone(),
            rule,
            location: at,
            id,
        });
    }
    Ok(rules)
}

fn str_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(|v| match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// `custom.controls`: absent, or a list of non-empty strings (trimmed).
fn controls_field(custom: &Value) -> Result<Option<Vec<String>>, String> {
    let items = match custom.get("controls") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(format!(
                "must be a list of strings, not {}",
                json_type(other)
            ))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(n, item)| match item {
            Value::String(text) if !text.trim().is_empty() => Ok(text.trim().to_string()),
            Value::String(_) => Err(format!("item {} is empty", n + 1)),
            other => Err(format!(
                "item {} must be a string, not {}",
                n + 1,
                json_type(other)
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn list_field(value: &Value, key: &str) -> Option<Vec<String>> {
    match value.get(key)? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
        ),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

/// The baseline data: the built-in defaults with each file merged over them in
/// order (objects merge key by key; lists and scalars replace). Every file is
/// checked against baselines/default.schema.json first: a wrongly typed value
/// or an unknown key of a built-in section is an error at its line and column.
pub fn load_baselines(extra: &[std::path::PathBuf]) -> Result<Value, InputError> {
    let mut merged = Value::Object(Default::default());
    let mut builtin: Vec<_> = BUILTIN_BASELINES
        .files()
        .filter(|f| {
            f.path()
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml")
        })
        .collect();
    builtin.sort_by_key(|f| f.path().to_path_buf());
    for file in builtin {
        let name = format!("builtin:baselines/{}", file.path().display());
        merge(
            &mut merged,
            parse_baseline(file.contents_utf8().unwrap_or_default(), &name)?,
        );
    }
    for path in extra {
        let name = path.display().to_string();
        let text = read_text(path, "baseline")?;
        tracing::info!(file = %name, "read the baseline file");
        merge(&mut merged, parse_baseline(&text, &name)?);
    }
    Ok(merged)
}

/// baselines/default.schema.json, compiled once.
fn baseline_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = BUILTIN_BASELINES
            .get_file("default.schema.json")
            .and_then(|f| f.contents_utf8())
            .expect("baselines/default.schema.json is embedded");
        let schema: Value = serde_json::from_str(text).expect("the baseline schema is JSON");
        jsonschema::validator_for(&schema).expect("the baseline schema is a valid JSON Schema")
    })
}

fn parse_baseline(text: &str, name: &str) -> Result<Value, InputError> {
    let mut documents = parse_spanned(text).map_err(|e| e.diagnostic(name))?;
    if let Some((extra, _)) = documents.get(1) {
        return Err(Diagnostic::error(
            Code::MultipleDocuments,
            Place::line(name, extra.line),
            "the baseline holds more than one YAML document; merge them into one",
        ));
    }
    let Some((document, spans)) = documents.pop() else {
        return Ok(Value::Object(Default::default()));
    };
    if !document.value.is_object() {
        return Err(Diagnostic::error(
            Code::BaselineNotMapping,
            Place::line(name, document.line),
            "a baseline file must be a mapping",
        ));
    }
    check_baseline(&document.value, name, &spans)?;
    Ok(document.value)
}

/// Checks a baseline against its schema; the first problem in file order is
/// reported, at the offending key (unknown keys) or value.
fn check_baseline(value: &Value, name: &str, spans: &SpanMap) -> Result<(), InputError> {
    let mut problems: Vec<Diagnostic> = baseline_schema()
        .iter_errors(value)
        .map(|error| {
            let mut path = String::new();
            for segment in error.instance_path().iter() {
                path = match segment {
                    LocationSegment::Property(key) => push_key(&path, &key),
                    LocationSegment::Index(index) => push_index(&path, index),
                };
            }
            let shown = if path.is_empty() {
                "the baseline".to_string()
            } else {
                path.clone()
            };
            match error.kind() {
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    let key = unexpected.first().cloned().unwrap_or_default();
                    let key_path = push_key(&path, &key);
                    let span = spans.get(&key_path).map(|s| s.key).unwrap_or_default();
                    let known = known_keys(&path);
                    let known: Vec<&str> = known.iter().map(String::as_str).collect();
                    unknown_key(
                        Code::BaselineUnknownKey,
                        Place::span(name, span),
                        &key,
                        &format!("baseline section `{shown}`"),
                        &known,
                    )
                }
                _ => {
                    let span = spans.get(&path).map(|s| s.value).unwrap_or_default();
                    Diagnostic::error(
                        Code::BaselineInvalidValue,
                        Place::span(name, span),
                        format!("{shown}: {}", describe_schema_error(&error)),
                    )
                    .with_label("does not match baselines/default.schema.json")
                    .with_note("docs/baselines.md describes every key of the built-in sections")
                }
            }
        })
        .collect();
    problems.sort_by_key(|d| match &d.location {
        Place::File { line, column, .. } => (line.unwrap_or(0), column.unwrap_or(0)),
        _ => (0, 0),
    });
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// The schema's complaint, naming the value when it is a short scalar
/// (`"two weeks" is not of type "integer"`), else calling it `value`.
fn describe_schema_error(error: &jsonschema::ValidationError<'_>) -> String {
    let instance: &Value = error.instance();
    let short = match instance {
        Value::Object(_) | Value::Array(_) => false,
        Value::String(text) => text.chars().count() <= 60,
        _ => true,
    };
    if short {
        error.to_string()
    } else {
        error.masked().to_string()
    }
}

/// The keys the schema names for the object at `path` (a built-in section).
fn known_keys(path: &str) -> Vec<String> {
    let schema = BUILTIN_BASELINES
        .get_file("default.schema.json")
        .and_then(|f| f.contents_utf8())
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .unwrap_or(Value::Null);
    let mut node = &schema;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        node = &node["properties"][key];
    }
    node["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source {
                match target.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_on_only_when_its_switch_is_true() {
        let rule = |enabled_by: Option<&str>| RuleInfo {
            id: "X-1".into(),
            title: String::new(),
            description: String::new(),
            severity: Severity::Low,
            category: "hardening".into(),
            remediation: String::new(),
            kinds: vec![],
            sources: vec![],
            facts: vec![],
            enabled_by: enabled_by.map(str::to_string),
            controls: vec![],
            scope: Scope::Resource,
            package: "p".into(),
            rule: "r".into(),
            location: String::new(),
        };
        let baselines =
            serde_json::json!({"hardening": {"probes": true, "resources": false, "odd": "true"}});
        assert!(rule(None).switched_on(&baselines));
        assert!(rule(Some("hardening.probes")).switched_on(&baselines));
        for off in [
            "hardening.resources",
            "hardening.odd",
            "hardening.missing",
            "nothing.at.all",
        ] {
            assert!(!rule(Some(off)).switched_on(&baselines), "{off}");
        }
    }

    #[test]
    fn metadata_blocks_describe_rules() {
        let file = PolicyFile {
            name: "p.rego".into(),
            text: "# METADATA\n# custom:\n#   category: images\n#   kinds: [Pod]\npackage x.y\n\n# METADATA\n# title: No latest\n# custom:\n#   id: T-1\n#   severity: high\n#   remediation: pin it\ndeny_latest contains f if {\n  f := \"x\"\n}\n\nhelper := 1\n".into(),
        };
        let rules = rules_of(&file).unwrap();
        assert_eq!(rules.len(), 1);
        let rule = &rules[0];
        assert_eq!(rule.id, "T-1");
        assert_eq!(rule.query(), "data.x.y.deny_latest");
        assert_eq!(rule.category, "images");
        assert_eq!(rule.kinds, vec!["Pod".to_string()]);
        assert_eq!(rule.severity, Severity::High);
        assert_eq!(rule.location, "p.rego:13");
    }

    #[test]
    fn bad_severity_names_the_line() {
        let file = PolicyFile {
            name: "p.rego".into(),
            text: "package a\n# METADATA\n# custom:\n#   id: A\n#   severity: urgent\ndeny contains 1 if true\n".into(),
        };
        let err = rules_of(&file).unwrap_err();
        assert_eq!(err.location, "p.rego:6");
        assert_eq!(err.code, Code::PolicyMetadata);
    }

    #[test]
    fn controls_must_be_a_list_of_strings_reported_at_their_line() {
        let file = |controls: &str| {
            PolicyFile {
            name: "p.rego".into(),
            text: format!("package a\n# METADATA\n# custom:\n#   id: A\n#   controls{controls}\n#   severity: low\ndeny contains 1 if true\n"),
        }
        };
        let rules = rules_of(&file(
            ":\n#     - ISO27001-2022:A.8.24\n#     - \" own-1 \"",
        ))
        .unwrap();
        assert_eq!(rules[0].controls, vec!["ISO27001-2022:A.8.24", "own-1"]);
        assert!(rules_of(&file(": ~")).unwrap()[0].controls.is_empty());
        for (bad, says) in [
            (
                ": CIS-K8s-1.10:5.2.2",
                "must be a list of strings, not a string",
            ),
            (": {cis: 5.2.2}", "must be a list of strings, not a map"),
            (": [5.2, x]", "item 1 must be a string, not a number"),
            (
                ":\n#     - ok\n#     - [nested]",
                "item 2 must be a string, not a list",
            ),
            (": [\"\"]", "item 1 is empty"),
        ] {
            let err = rules_of(&file(bad)).unwrap_err();
            assert_eq!(err.code, Code::PolicyMetadata, "{bad}");
            assert_eq!(err.location, "p.rego:5", "{bad}");
            assert!(err.message.ends_with(says), "{bad}: {}", err.message);
        }
        // A package-level default is checked the same way.
        let err = rules_of(&PolicyFile {
            name: "q.rego".into(),
            text: "# METADATA\n# custom:\n#   controls: 7\npackage a\n".into(),
        })
        .unwrap_err();
        assert_eq!(err.location, "q.rego:3");
    }

    #[test]
    fn builtin_files_are_found_by_their_message_name() {
        let text = builtin_text("builtin:baselines/default.yaml").unwrap();
        assert!(text.contains("certificates:"));
        let first = &builtin_policy_files()[0];
        assert_eq!(builtin_text(&first.name), Some(first.text.as_str()));
        assert_eq!(builtin_text("builtin:elsewhere/x"), None);
        assert_eq!(builtin_text("policies/x.rego"), None);
    }

    #[test]
    fn the_builtin_baseline_passes_its_schema() {
        let merged = load_baselines(&[]).unwrap();
        assert_eq!(merged["certificates"]["fail_days"], 14);
    }

    #[test]
    fn wrongly_typed_baseline_values_are_errors_at_their_value() {
        let err = parse_baseline(
            "# ours\ncertificates:\n  fail_days: \"two weeks\"\n",
            "b.yaml",
        )
        .unwrap_err();
        assert_eq!(err.code, Code::BaselineInvalidValue);
        assert_eq!(err.location, "b.yaml:3:14", "{err:?}");
        assert!(err.message.starts_with("certificates.fail_days: "), "{err}");
    }

    #[test]
    fn unknown_keys_of_builtin_sections_are_errors_other_sections_are_free() {
        let err = parse_baseline(
            "images:\n  forbid_latest: true\n  aproved_registries: [a]\n",
            "b.yaml",
        )
        .unwrap_err();
        assert_eq!(err.code, Code::BaselineUnknownKey);
        assert_eq!(err.location, "b.yaml:3:3", "{err:?}");
        assert_eq!(err.help(), Some("did you mean `approved_registries`?"));
        // Sections of the user's own policies are free.
        assert!(parse_baseline("acme:\n  anything: [1]\n", "b.yaml").is_ok());
        let err = parse_baseline("- a\n", "b.yaml").unwrap_err();
        assert_eq!(err.code, Code::BaselineNotMapping);
    }

    #[test]
    fn baselines_merge_deeply() {
        let mut a =
            serde_json::json!({"images": {"forbid_latest": true, "approved_registries": ["a/"]}});
        merge(
            &mut a,
            serde_json::json!({"images": {"approved_registries": ["b/"]}}),
        );
        assert_eq!(
            a,
            serde_json::json!({"images": {"forbid_latest": true, "approved_registries": ["b/"]}})
        );
    }
}
