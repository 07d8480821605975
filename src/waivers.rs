//! Waivers (`docs/waivers.md`): findings a team accepts for a while, each
//! with a reason, an owner and an end date. A waived finding is reported as
//! suppressed with its justification and never counts; a waiver past its
//! date no longer suppresses and becomes a finding of its own
//! (`DA-WAIVER-EXPIRED`); a waiver that matches nothing is reported as stale.
//! Separate from the baseline's exemptions (`lib.exemptions`), which stay
//! as they are.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::config::NamePattern;
use crate::diag::{read_text, unknown_key, Code, Diagnostic, Place, Span};
use crate::model::{InputError, Location, Severity};
use crate::report::{Finding, FindingState, Suppression};
use crate::yaml::{parse_spanned, push_index, push_key, SpanMap};

/// Where the waivers file is looked for when the config names none:
/// relative to the declared repository (`--repo`), else to the working directory.
pub const DEFAULT_FILE: &str = ".driftaudit/waivers.yaml";

/// The rule id of the finding an expired waiver becomes.
pub const EXPIRED_RULE: &str = "DA-WAIVER-EXPIRED";

/// The category of `DA-WAIVER-EXPIRED`.
pub const CATEGORY: &str = "waivers";

/// The keys of a waiver entry, and of its `resource`.
const ENTRY_KEYS: [&str; 6] = [
    "rule",
    "resource",
    "fingerprint",
    "reason",
    "owner",
    "expires",
];
const RESOURCE_KEYS: [&str; 4] = ["kind", "namespace", "name", "environment"];

/// A glob and the text it was written as.
#[derive(Debug, Clone)]
pub struct Glob {
    pub text: String,
    pattern: NamePattern,
}

impl Glob {
    fn is_match(&self, value: &str) -> bool {
        self.pattern.is_match(value)
    }
}

/// One entry of the waivers file.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// 1-based line of the entry in the file.
    pub line: u32,
    pub rule: Glob,
    pub kind: Option<Glob>,
    pub namespace: Option<Glob>,
    pub name: Option<Glob>,
    pub environment: Option<Glob>,
    /// Exact fingerprint of the one finding it waives, when given.
    pub fingerprint: Option<String>,
    pub reason: String,
    pub owner: String,
    /// The last day (UTC) the waiver holds.
    pub expires: Date,
}

/// The waivers of a scan: the file they came from and its entries.
#[derive(Debug, Clone, Default)]
pub struct Waivers {
    /// The file as reports name it (relative to the declared repository when inside it).
    pub file: String,
    pub entries: Vec<Waiver>,
    /// Its path inside the declared repository, when it lies there: with
    /// `--compare-ref` the base's version of it is read to tell which
    /// waivers the change adds or extends.
    pub in_repository: Option<String>,
}

/// What the waivers did in a scan: the report's `waivers` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WaiverSummary {
    pub file: String,
    /// Entries in the file.
    pub total: usize,
    /// Findings a waiver suppressed (in `suppressed_findings`).
    pub waived_findings: usize,
    /// Waivers past their date (each a `DA-WAIVER-EXPIRED` finding).
    pub expired: usize,
    /// Waivers that match no finding of this scan: reported, never failing.
    pub stale: Vec<StaleWaiver>,
    /// With `--compare-ref`: waivers the change adds, or whose `expires` it
    /// moves later, than the base's waivers file: a pull request that waives
    /// its own findings says so to its reviewers. Left out otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<ChangedWaiver>,
}

/// A waiver the change under `--compare-ref` adds or extends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChangedWaiver {
    pub location: Location,
    pub rule: String,
    pub owner: String,
    pub expires: String,
    /// `added` (the base has no waiver of the same rule, resource and
    /// fingerprint) or `extended` (the base's expires earlier).
    pub change: WaiverChange,
    /// Findings of this scan it waives.
    pub waived_findings: usize,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WaiverChange {
    Added,
    Extended,
}

impl WaiverChange {
    pub fn as_str(self) -> &'static str {
        match self {
            WaiverChange::Added => "added",
            WaiverChange::Extended => "extended",
        }
    }
}

/// Fills `summary.changed`: the waivers of `head` that `base` (the base's
/// waivers file; `None` when the base has none) lacks, or has with an earlier
/// `expires`. Waivers are the same when rule, resource globs and fingerprint
/// are written the same; reason and owner may change freely.
pub fn mark_changed(
    summary: &mut WaiverSummary,
    head: &Waivers,
    base: Option<&Waivers>,
    findings: &[Finding],
) {
    let key = |w: &Waiver| {
        let glob = |g: &Option<Glob>| g.as_ref().map(|g| g.text.clone());
        (
            w.rule.text.clone(),
            glob(&w.kind),
            glob(&w.namespace),
            glob(&w.name),
            glob(&w.environment),
            w.fingerprint.clone(),
        )
    };
    let mut before: std::collections::HashMap<_, Date> = std::collections::HashMap::new();
    for waiver in base.map(|b| b.entries.as_slice()).unwrap_or_default() {
        let latest = before.entry(key(waiver)).or_insert(waiver.expires);
        *latest = (*latest).max(waiver.expires);
    }
    summary.changed = head
        .entries
        .iter()
        .filter_map(|waiver| {
            let change = match before.get(&key(waiver)) {
                None => WaiverChange::Added,
                Some(expires) if *expires < waiver.expires => WaiverChange::Extended,
                Some(_) => return None,
            };
            let by = format!("waiver {}:{}", head.file, waiver.line);
            let waived_findings = findings
                .iter()
                .filter(|f| f.suppression.as_ref().is_some_and(|s| s.by == by))
                .count();
            Some(ChangedWaiver {
                location: Location {
                    file: head.file.clone(),
                    line: waiver.line,
                },
                rule: waiver.rule.text.clone(),
                owner: waiver.owner.clone(),
                expires: waiver.expires.to_string(),
                change,
                waived_findings,
            })
        })
        .collect();
}

/// A waiver that matched no finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StaleWaiver {
    pub location: Location,
    pub rule: String,
    pub owner: String,
    pub expires: String,
}

impl Waiver {
    /// Whether the waiver names `finding` (its date aside).
    pub fn matches(&self, finding: &Finding) -> bool {
        if !self.rule.is_match(&finding.rule) {
            return false;
        }
        if let Some(fingerprint) = &self.fingerprint {
            if fingerprint != &finding.fingerprint {
                return false;
            }
        }
        let selects_resource =
            self.kind.is_some() || self.namespace.is_some() || self.name.is_some();
        if selects_resource {
            let Some(resource) = &finding.resource else {
                return false;
            };
            let fits =
                |glob: &Option<Glob>, value: &str| glob.as_ref().is_none_or(|g| g.is_match(value));
            if !(fits(&self.kind, &resource.kind)
                && fits(&self.namespace, &resource.namespace)
                && fits(&self.name, &resource.name))
            {
                return false;
            }
        }
        if let Some(environment) = &self.environment {
            match &finding.environment {
                Some(e) if environment.is_match(e) => {}
                _ => return false,
            }
        }
        true
    }

    /// Past its date at `now`: the waiver holds through the whole of its
    /// `expires` day (UTC).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now.to_offset(time::UtcOffset::UTC).date() > self.expires
    }

    /// What the waiver covers, in words (`DA-PRIV-001 for Deployment shop/api`).
    fn subject(&self) -> String {
        let mut parts = Vec::new();
        for (key, glob) in [
            ("kind", &self.kind),
            ("namespace", &self.namespace),
            ("name", &self.name),
            ("environment", &self.environment),
        ] {
            if let Some(glob) = glob {
                parts.push(format!("{key} {}", glob.text));
            }
        }
        if let Some(fingerprint) = &self.fingerprint {
            parts.push(format!("fingerprint {fingerprint}"));
        }
        if parts.is_empty() {
            self.rule.text.clone()
        } else {
            format!("{} ({})", self.rule.text, parts.join(", "))
        }
    }
}

/// Applies `waivers` to the findings of a scan at `now`: a finding a
/// current waiver matches gets its suppression (the first such waiver in the
/// file wins); an expired waiver suppresses nothing and adds a
/// `DA-WAIVER-EXPIRED` finding at its line; waivers matching no finding are
/// stale. Findings already suppressed by an exemption keep that exemption
/// (a waiver matching them is not stale). The findings stay sorted as the
/// report lists them.
pub fn apply(
    waivers: &Waivers,
    findings: &mut Vec<Finding>,
    now: OffsetDateTime,
) -> Option<WaiverSummary> {
    if waivers.entries.is_empty() && waivers.file.is_empty() {
        return None;
    }
    let mut used = vec![false; waivers.entries.len()];
    let mut waived = 0;
    for finding in findings.iter_mut() {
        let mut matching = waivers
            .entries
            .iter()
            .enumerate()
            .filter(|(_, w)| w.matches(finding));
        let mut suppressed_by = None;
        for (index, waiver) in matching.by_ref() {
            used[index] = true;
            if suppressed_by.is_none() && !waiver.expired(now) {
                suppressed_by = Some(waiver);
            }
        }
        if finding.suppression.is_some() {
            continue;
        }
        if let Some(waiver) = suppressed_by {
            finding.suppression = Some(Suppression {
                kind: "external",
                by: format!("waiver {}:{}", waivers.file, waiver.line),
                reason: waiver.reason.clone(),
                owner: Some(waiver.owner.clone()),
                expires: Some(waiver.expires.to_string()),
            });
            waived += 1;
        }
    }
    let mut expired = 0;
    let mut stale = Vec::new();
    for (waiver, used) in waivers.entries.iter().zip(&used) {
        if waiver.expired(now) {
            expired += 1;
            findings.push(expired_finding(&waivers.file, waiver, *used));
        } else if !used {
            stale.push(StaleWaiver {
                location: Location {
                    file: waivers.file.clone(),
                    line: waiver.line,
                },
                rule: waiver.rule.text.clone(),
                owner: waiver.owner.clone(),
                expires: waiver.expires.to_string(),
            });
        }
    }
    if expired > 0 {
        findings.sort_by(crate::policy::findings::report_order);
    }
    Some(WaiverSummary {
        file: waivers.file.clone(),
        total: waivers.entries.len(),
        waived_findings: waived,
        expired,
        stale,
        changed: Vec::new(),
    })
}

/// The finding of an expired waiver: high, so the default `--fail-on`
/// fails on it, at the waiver's line, naming its owner.
fn expired_finding(file: &str, waiver: &Waiver, matched: bool) -> Finding {
    let covers = if matched {
        "the findings it covered count again"
    } else {
        "it matches no finding any more"
    };
    let message = format!(
        "waiver of {} owned by {} expired on {}: {covers}",
        waiver.subject(),
        waiver.owner,
        waiver.expires
    );
    // Stable while the entry is unchanged: never the file or the line.
    let identity = format!("{}\n{}\n{}", waiver.subject(), waiver.owner, waiver.expires);
    Finding {
        owner: None,
        history: None,
        rule: EXPIRED_RULE.into(),
        title: "Waiver expired".into(),
        severity: Severity::High,
        category: CATEGORY.into(),
        message,
        resource: None,
        environment: None,
        states: vec![FindingState::Declared],
        targets: Vec::new(),
        location: Some(Location {
            file: file.to_string(),
            line: waiver.line,
        }),
        path: None,
        remediation: format!(
            "{} decides: fix the findings the waiver covers, or give it a new `expires` date with a reason that still holds",
            waiver.owner
        ),
        controls: Vec::new(),
        fingerprint: crate::policy::findings::fingerprint(EXPIRED_RULE, None, None, None, &identity),
        baseline_state: None,
        suppression: None,
    }
}

/// Reads the waivers file at `path`; `name` is how reports name it. Every
/// problem is an error at its line (exit 2): waivers that may not hold must
/// not quietly suppress or quietly stop suppressing.
pub fn load(path: &Path, name: &str) -> Result<Waivers, InputError> {
    let text = read_text(path, "the waivers file")?;
    parse(&text, &path.display().to_string(), name)
}

/// The largest waivers file read from a repository (1 MiB).
pub const MAX_REPOSITORY_FILE: u64 = 1 << 20;

/// [`load`] for the waivers file the scanned repository supplies
/// (`.driftaudit/waivers.yaml` under `root`): read as untrusted input
/// (`diag::read_untrusted_text`: no symbolic link, inside `root`, a regular
/// file of at most [`MAX_REPOSITORY_FILE`] bytes).
pub fn load_from_repository(path: &Path, root: &Path, name: &str) -> Result<Waivers, InputError> {
    let text =
        crate::diag::read_untrusted_text(path, root, "the waivers file", MAX_REPOSITORY_FILE)?;
    parse(&text, &path.display().to_string(), name)
}

/// Parses waivers text; `shown` names the file in diagnostics, `name` in reports.
pub fn parse(text: &str, shown: &str, name: &str) -> Result<Waivers, InputError> {
    let mut documents = parse_spanned(text).map_err(|e| e.diagnostic(shown))?;
    if let Some((extra, _)) = documents.get(1) {
        return Err(Diagnostic::error(
            Code::MultipleDocuments,
            Place::line(shown, extra.line),
            "the waivers file holds more than one YAML document; merge them into one",
        ));
    }
    let (value, spans) = match documents.pop() {
        Some((document, spans)) => (document.value, spans),
        None => (Value::Null, SpanMap::default()),
    };
    let reader = Reader {
        file: shown,
        spans: &spans,
    };
    let entries = match &value {
        Value::Null => Vec::new(),
        Value::Object(top) => {
            for key in top.keys() {
                if key != "waivers" {
                    return Err(unknown_key(
                        Code::WaiverInvalid,
                        Place::span(shown, reader.key_span(&push_key("", key))),
                        key,
                        "the waivers file",
                        &["waivers"],
                    ));
                }
            }
            match top.get("waivers") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| reader.waiver(&push_index("waivers", i), item))
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(reader.invalid("waivers", "`waivers` must be a list of entries"))
                }
            }
        }
        _ => {
            return Err(reader.invalid(
                "",
                "the waivers file must be a mapping with a `waivers` list",
            ))
        }
    };
    Ok(Waivers {
        file: name.to_string(),
        entries,
        in_repository: None,
    })
}

struct Reader<'a> {
    file: &'a str,
    spans: &'a SpanMap,
}

impl Reader<'_> {
    fn value_span(&self, path: &str) -> Span {
        self.spans.get(path).map(|s| s.value).unwrap_or_default()
    }

    fn key_span(&self, path: &str) -> Span {
        self.spans.get(path).map(|s| s.key).unwrap_or_default()
    }

    fn invalid(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(
            Code::WaiverInvalid,
            Place::span(self.file, self.value_span(path)),
            message,
        )
        .with_label("invalid waiver")
    }

    /// A required non-empty string that is not a placeholder of `driftaudit waive`.
    fn text(
        &self,
        entry: &str,
        map: &serde_json::Map<String, Value>,
        key: &str,
    ) -> Result<String, Diagnostic> {
        let path = push_key(entry, key);
        match map.get(key) {
            None | Some(Value::Null) => Err(Diagnostic::error(
                Code::WaiverInvalid,
                Place::span(self.file, self.value_span(entry)),
                format!("{entry}: `{key}` is required (every waiver says why, who owns it and until when)"),
            )
            .with_label(format!("no `{key}`"))
            .with_help("each entry needs `reason`, `owner` and `expires` (YYYY-MM-DD)")),
            Some(Value::String(text)) if text.trim().is_empty() => {
                Err(self.invalid(&path, format!("{path}: `{key}` is empty")))
            }
            Some(Value::String(text)) if text.starts_with('<') && text.ends_with('>') => Err(self
                .invalid(
                    &path,
                    format!("{path}: `{key}` is still the placeholder `{text}`: fill it in"),
                )),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(self.invalid(
                &path,
                format!("{path}: `{key}` must be text, not {}", kind_of(other)),
            )),
        }
    }

    fn glob(&self, path: &str, value: &Value) -> Result<Glob, Diagnostic> {
        let Value::String(text) = value else {
            return Err(self.invalid(
                path,
                format!("{path}: must be text (a glob), not {}", kind_of(value)),
            ));
        };
        let pattern = NamePattern::new(text).map_err(|e| {
            Diagnostic::error(
                Code::WaiverInvalid,
                Place::span(self.file, self.value_span(path)),
                format!("{path}: bad glob `{text}`: {}", e.kind()),
            )
            .with_label("not a glob")
        })?;
        Ok(Glob {
            text: text.clone(),
            pattern,
        })
    }

    fn waiver(&self, entry: &str, value: &Value) -> Result<Waiver, Diagnostic> {
        let Value::Object(map) = value else {
            return Err(self.invalid(
                entry,
                format!(
                    "{entry}: an entry must be a mapping (rule, resource, reason, owner, expires)"
                ),
            ));
        };
        for key in map.keys() {
            if !ENTRY_KEYS.contains(&key.as_str()) {
                return Err(unknown_key(
                    Code::WaiverInvalid,
                    Place::span(self.file, self.key_span(&push_key(entry, key))),
                    key,
                    &format!("`{entry}`"),
                    &ENTRY_KEYS,
                ));
            }
        }
        let line = self.value_span(entry).line;
        let rule = match map.get("rule") {
            None | Some(Value::Null) => {
                return Err(Diagnostic::error(
                    Code::WaiverInvalid,
                    Place::span(self.file, self.value_span(entry)),
                    format!(
                        "{entry}: `rule` is required (a rule id or a glob such as `DA-PRIV-*`)"
                    ),
                )
                .with_label("no `rule`"))
            }
            Some(value) => self.glob(&push_key(entry, "rule"), value)?,
        };
        let (mut kind, mut namespace, mut name, mut environment) = (None, None, None, None);
        // Whether some kind, namespace or name glob narrows the waiver (one
        // made of `*` alone matches every resource).
        let mut narrows = false;
        if let Some(resource) = map.get("resource") {
            let path = push_key(entry, "resource");
            let Value::Object(selector) = resource else {
                return Err(self.invalid(
                    &path,
                    format!(
                        "{path}: must be a mapping of kind, namespace, name, environment (globs)"
                    ),
                ));
            };
            for (key, value) in selector {
                let key_path = push_key(&path, key);
                let slot = match key.as_str() {
                    "kind" => &mut kind,
                    "namespace" => &mut namespace,
                    "name" => &mut name,
                    "environment" => &mut environment,
                    _ => {
                        return Err(unknown_key(
                            Code::WaiverInvalid,
                            Place::span(self.file, self.key_span(&key_path)),
                            key,
                            &format!("`{path}`"),
                            &RESOURCE_KEYS,
                        ))
                    }
                };
                if key != "environment"
                    && !value
                        .as_str()
                        .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c == '*'))
                {
                    narrows = true;
                }
                *slot = Some(self.glob(&key_path, value)?);
            }
        }
        let fingerprint = match map.get("fingerprint") {
            None | Some(Value::Null) => None,
            Some(Value::String(text))
                if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Some(text.to_ascii_lowercase())
            }
            Some(_) => {
                let path = push_key(entry, "fingerprint");
                return Err(self.invalid(
                    &path,
                    format!("{path}: a fingerprint is 32 hex digits, as a report's `fingerprint` shows it (quoted: digits alone read as a number)"),
                ));
            }
        };
        if !narrows && fingerprint.is_none() {
            return Err(Diagnostic::error(
                Code::WaiverInvalid,
                Place::span(self.file, self.value_span(entry)),
                format!("{entry}: names no resource (or only `*` globs) and no fingerprint: it would waive the rule everywhere"),
            )
            .with_label("too broad")
            .with_help("add `resource: {kind, namespace, name}` (globs) or the finding's `fingerprint`; to turn a rule off everywhere use the config's `policies.disable`"));
        }
        let reason = self.text(entry, map, "reason")?;
        let owner = self.text(entry, map, "owner")?;
        let expires_path = push_key(entry, "expires");
        let expires = match map.get("expires") {
            Some(Value::String(text)) => parse_date(text).ok_or_else(|| {
                self.invalid(
                    &expires_path,
                    format!("{expires_path}: `{text}` is not a date (YYYY-MM-DD, e.g. 2026-12-31)"),
                )
                .with_label("not a date")
            })?,
            None | Some(Value::Null) => {
                self.text(entry, map, "expires")?;
                unreachable!("a missing `expires` is an error")
            }
            Some(other) => {
                return Err(self
                    .invalid(
                        &expires_path,
                        format!(
                            "{expires_path}: `expires` must be a date (YYYY-MM-DD), not {}",
                            kind_of(other)
                        ),
                    )
                    .with_label("not a date"))
            }
        };
        Ok(Waiver {
            line,
            rule,
            kind,
            namespace,
            name,
            environment,
            fingerprint,
            reason,
            owner,
            expires,
        })
    }
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn parse_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).ok()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The finding with `fingerprint` in a JSON report (`findings` or
/// `suppressed_findings`), or why there is none to waive.
pub fn find_finding<'a>(report: &'a Value, fingerprint: &str) -> Result<&'a Value, String> {
    let wanted = fingerprint.trim().to_ascii_lowercase();
    if wanted.len() != 32 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "`{}` is not a fingerprint (32 hex digits, as a report's `fingerprint` shows it)",
            crate::printable::printable(fingerprint)
        ));
    }
    let lists = ["findings", "suppressed_findings"];
    let all: Vec<&Value> = lists
        .iter()
        .filter_map(|list| report.get(*list).and_then(Value::as_array))
        .flatten()
        .collect();
    if report.get("findings").and_then(Value::as_array).is_none() {
        return Err("not a driftaudit JSON report: no `findings` list".into());
    }
    let found = all
        .iter()
        .find(|f| f.get("fingerprint").and_then(Value::as_str) == Some(wanted.as_str()))
        .ok_or_else(|| {
            format!(
                "no finding with fingerprint {wanted} in the report ({} finding(s)); the JSON report (`--format json`) shows each finding's fingerprint",
                all.len()
            )
        })?;
    if found.get("rule").and_then(Value::as_str) == Some(EXPIRED_RULE) {
        let at = found
            .get("location")
            .map(|l| format!("{}:{}", l["file"].as_str().unwrap_or_default(), l["line"]))
            .unwrap_or_default();
        return Err(format!(
            "this is an expired waiver ({}): renew or remove that waiver instead",
            crate::printable::printable(&at)
        ));
    }
    Ok(found)
}

/// Escapes glob metacharacters so a name matches only itself.
pub fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A ready waivers entry for the finding `finding` (a finding of a JSON
/// report), expiring on `expires`: the rule, its resource (names escaped as
/// globs), the fingerprint, and placeholders for reason and owner that the
/// loader refuses until they are filled in.
pub fn entry_for(finding: &Value, expires: Date) -> String {
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let field = |key: &str| finding.get(key).and_then(Value::as_str).unwrap_or_default();
    let mut out = String::new();
    out += &format!(
        "  # {} ({}): {}\n",
        crate::printable::printable(field("rule")),
        crate::printable::printable(field("severity")),
        crate::printable::printable(field("message"))
    );
    if let Some(location) = finding.get("location").filter(|l| !l.is_null()) {
        out += &format!(
            "  # at {}:{}\n",
            crate::printable::printable(
                location
                    .get("file")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
            location
                .get("line")
                .and_then(Value::as_u64)
                .unwrap_or_default()
        );
    }
    out += &format!("  - rule: {}\n", quote(field("rule")));
    let mut selector = Vec::new();
    if let Some(resource) = finding.get("resource").filter(|r| r.is_object()) {
        for key in ["kind", "namespace", "name"] {
            let value = resource
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default();
            selector.push(format!("{key}: {}", quote(&glob_escape(value))));
        }
    }
    if let Some(environment) = finding.get("environment").and_then(Value::as_str) {
        selector.push(format!("environment: {}", quote(&glob_escape(environment))));
    }
    if !selector.is_empty() {
        out += &format!("    resource: {{{}}}\n", selector.join(", "));
    }
    out += &format!("    fingerprint: {}\n", quote(field("fingerprint")));
    out += "    reason: \"<why this finding is accepted for now>\"\n";
    out += "    owner: \"<team or person who renews or fixes it>\"\n";
    out += &format!("    expires: {expires}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "waivers:\n  - rule: DA-PRIV-*\n    resource: {kind: Deployment, namespace: shop, name: api-*}\n    reason: vendor agent\n    owner: team-payments\n    expires: 2026-12-31\n";

    #[test]
    fn a_waiver_reads_with_its_line_and_globs() {
        let waivers = parse(FILE, "w.yaml", "w.yaml").unwrap();
        let waiver = &waivers.entries[0];
        assert_eq!(waiver.line, 2);
        assert!(waiver.rule.is_match("DA-PRIV-001"));
        assert!(waiver.name.as_ref().unwrap().is_match("api-v2"));
        assert_eq!(waiver.expires.to_string(), "2026-12-31");
        let at = |text: &str| {
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
        };
        assert!(
            !waiver.expired(at("2026-12-31T23:59:59Z")),
            "holds through its day"
        );
        assert!(waiver.expired(at("2027-01-01T00:00:00Z")));
    }

    #[test]
    fn missing_and_bad_fields_are_errors_at_their_line() {
        // (missing `reason`, `owner`, `expires` and an impossible date: tests/integration/waivers.rs)
        let cases = [
            (
                FILE.replace("2026-12-31", "2026-12-31x"),
                6,
                "is not a date",
            ),
            (FILE.replace("2026-12-31", "20261231"), 6, "must be a date"),
            (
                FILE.replace("owner: team-payments", "owner: \"\""),
                5,
                "is empty",
            ),
            (
                FILE.replace("owner: team-payments", "owner: \"<team>\""),
                5,
                "placeholder",
            ),
            (FILE.replace("owner:", "owners:"), 5, "unknown key `owners`"),
            (
                FILE.replace("name: api-*", "name: \"api-[\""),
                3,
                "bad glob",
            ),
            (
                FILE.replace(
                    "    resource: {kind: Deployment, namespace: shop, name: api-*}\n",
                    "",
                ),
                2,
                "waive the rule everywhere",
            ),
        ];
        for (text, line, message) in cases {
            let error = parse(&text, "w.yaml", "w.yaml").unwrap_err();
            assert_eq!(error.code, Code::WaiverInvalid, "{text}");
            assert!(error.message.contains(message), "{text}: {}", error.message);
            match &error.location {
                Place::File {
                    path,
                    line: Some(l),
                    ..
                } => {
                    assert_eq!(
                        (path.as_str(), *l),
                        ("w.yaml", line),
                        "{text}: {}",
                        error.message
                    )
                }
                other => panic!("{text}: no line: {other:?}"),
            }
        }
    }

    #[test]
    fn glob_escape_matches_only_the_name() {
        let pattern = NamePattern::new(&glob_escape("a*[b]{c}?")).unwrap();
        assert!(pattern.is_match("a*[b]{c}?"));
        assert!(!pattern.is_match("axx[b]{c}?"));
    }
}
