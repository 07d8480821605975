//! Diagnostics: every input driftaudit cannot use is described by one
//! [`Diagnostic`], with a stable code (`DA-E…`, listed in docs/diagnostics.md),
//! a structured place (file, line and column; an endpoint; a ref; a flag), a
//! message, optional notes and help, and the error that caused it. The report
//! lists them; [`render`] prints them for people, with the offending line.

mod render;

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::printable::printable;

pub use render::{render, render_with_source, RenderOptions};

/// The stable code of a diagnostic. A code never changes meaning; a new kind of
/// problem gets a new code. docs/diagnostics.md explains each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// An input that could not be used, not classified further.
    Input,
    /// A file could not be read or written.
    Io,
    /// A YAML or JSON syntax error.
    Syntax,
    /// A configuration or baseline file holds more than one YAML document.
    MultipleDocuments,
    /// A command line that cannot be used: a flag value that does not parse, nothing to scan.
    Usage,
    /// A key the configuration does not know (a typo, most often).
    ConfigUnknownKey,
    /// A configuration value of the wrong type or out of its range.
    ConfigInvalidValue,
    /// A glob of the configuration does not compile.
    ConfigBadGlob,
    /// A JSONPath of `drift.ignore[].paths` does not parse.
    ConfigBadJsonPath,
    /// A baseline value does not match baselines/default.schema.json.
    BaselineInvalidValue,
    /// A key the built-in baseline sections do not know.
    BaselineUnknownKey,
    /// A baseline file is not a mapping.
    BaselineNotMapping,
    /// A Rego file does not compile.
    RegoCompile,
    /// A `# METADATA` block of a rule is invalid.
    PolicyMetadata,
    /// A rule failed while it was evaluated.
    PolicyFailed,
    /// Two rules with one id.
    PolicyDuplicateId,
    /// The declared repository, or a file in it, cannot be read.
    RepositoryUnreadable,
    /// A Git ref that does not resolve to a commit.
    UnknownRef,
    /// A Git tree entry driftaudit refuses to read or export (unsafe name, symlink out of the tree).
    UnsafeTreeEntry,
    /// A declared document that is not a usable Kubernetes object.
    NotAManifest,
    /// A resource declared twice.
    DuplicateResource,
    /// A kustomize overlay that cannot be rendered.
    KustomizeFailed,
    /// An invalid item of a source's own declared file (driftaudit.io documents, Traefik files).
    InvalidDeclaredItem,
    /// The declared side holds no resource at all.
    NothingDeclared,
    /// A `--path` / `git.paths` entry that names nothing in the declared tree.
    PathNotFound,
    /// A Helm chart that `helm template` could not render.
    HelmFailed,
    /// A live snapshot file cannot be read.
    SnapshotUnreadable,
    /// A live snapshot that is not a usable driftaudit snapshot.
    SnapshotInvalid,
    /// A flag value that is not a usable endpoint, URL or DSN.
    BadFlagValue,
    /// A credential file that cannot be read or is not usable.
    CredentialUnreadable,
    /// The live sources gave nothing to compare with.
    NothingLive,
    /// An entry of the waivers file is invalid (docs/waivers.md).
    WaiverInvalid,
    /// A line of the repository's CODEOWNERS file cannot be used, or the
    /// file cannot be read: a warning, the scan goes on (docs/owners.md).
    CodeownersInvalid,
    /// The history store cannot be opened, read or written (docs/history.md).
    HistoryStore,
}

impl Code {
    pub const ALL: [Code; 34] = [
        Code::Input,
        Code::Io,
        Code::Syntax,
        Code::MultipleDocuments,
        Code::Usage,
        Code::ConfigUnknownKey,
        Code::ConfigInvalidValue,
        Code::ConfigBadGlob,
        Code::ConfigBadJsonPath,
        Code::BaselineInvalidValue,
        Code::BaselineUnknownKey,
        Code::BaselineNotMapping,
        Code::RegoCompile,
        Code::PolicyMetadata,
        Code::PolicyFailed,
        Code::PolicyDuplicateId,
        Code::RepositoryUnreadable,
        Code::UnknownRef,
        Code::UnsafeTreeEntry,
        Code::NotAManifest,
        Code::DuplicateResource,
        Code::KustomizeFailed,
        Code::InvalidDeclaredItem,
        Code::NothingDeclared,
        Code::PathNotFound,
        Code::HelmFailed,
        Code::SnapshotUnreadable,
        Code::SnapshotInvalid,
        Code::BadFlagValue,
        Code::CredentialUnreadable,
        Code::NothingLive,
        Code::WaiverInvalid,
        Code::CodeownersInvalid,
        Code::HistoryStore,
    ];

    /// `DA-E001`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Input => "DA-E001",
            Code::Io => "DA-E002",
            Code::Syntax => "DA-E003",
            Code::MultipleDocuments => "DA-E004",
            Code::Usage => "DA-E005",
            Code::ConfigUnknownKey => "DA-E101",
            Code::ConfigInvalidValue => "DA-E102",
            Code::ConfigBadGlob => "DA-E103",
            Code::ConfigBadJsonPath => "DA-E104",
            Code::BaselineInvalidValue => "DA-E201",
            Code::BaselineUnknownKey => "DA-E202",
            Code::BaselineNotMapping => "DA-E203",
            Code::RegoCompile => "DA-E301",
            Code::PolicyMetadata => "DA-E302",
            Code::PolicyFailed => "DA-E303",
            Code::PolicyDuplicateId => "DA-E304",
            Code::RepositoryUnreadable => "DA-E401",
            Code::UnknownRef => "DA-E402",
            Code::UnsafeTreeEntry => "DA-E403",
            Code::NotAManifest => "DA-E404",
            Code::DuplicateResource => "DA-E405",
            Code::KustomizeFailed => "DA-E406",
            Code::InvalidDeclaredItem => "DA-E407",
            Code::NothingDeclared => "DA-E408",
            Code::PathNotFound => "DA-E409",
            Code::HelmFailed => "DA-E410",
            Code::SnapshotUnreadable => "DA-E501",
            Code::SnapshotInvalid => "DA-E502",
            Code::BadFlagValue => "DA-E503",
            Code::CredentialUnreadable => "DA-E504",
            Code::NothingLive => "DA-E505",
            Code::WaiverInvalid => "DA-E601",
            Code::CodeownersInvalid => "DA-E411",
            Code::HistoryStore => "DA-E701",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A position in a text file: 1-based line and column (in characters), and how
/// many characters the offending text spans (0: a point).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub len: u32,
}

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// A file, with the line (and column) when known.
    File {
        path: String,
        line: Option<u32>,
        column: Option<u32>,
        /// Characters of the offending text from `column` (0: a point).
        len: u32,
    },
    /// A network endpoint: a URL or `host:port`.
    Endpoint(String),
    /// A Git ref.
    Ref(String),
    /// A command-line flag such as `--now`.
    Argument(String),
    /// Anything else, as written (`arguments`, `standard output`, a target name).
    Text(String),
}

impl Place {
    /// A whole file.
    pub fn file(path: impl Into<String>) -> Place {
        Place::File {
            path: path.into(),
            line: None,
            column: None,
            len: 0,
        }
    }

    /// A span of a file; a span with line 0 (unknown) names the whole file.
    pub fn span(path: impl Into<String>, span: Span) -> Place {
        Place::File {
            path: path.into(),
            line: (span.line > 0).then_some(span.line),
            column: (span.line > 0 && span.column > 0).then_some(span.column),
            len: span.len,
        }
    }

    /// A line of a file.
    pub fn line(path: impl Into<String>, line: u32) -> Place {
        Place::span(
            path,
            Span {
                line,
                column: 0,
                len: 0,
            },
        )
    }

    /// Reads a location kept as text (a rule's `file:line`): `--flag`, a URL,
    /// `file:line` (or `file:line:column`) when the file part looks like a path,
    /// else the text as written.
    pub fn parse(text: &str) -> Place {
        if text.starts_with("--") {
            return Place::Argument(text.to_string());
        }
        if text.contains("://") {
            return Place::Endpoint(text.to_string());
        }
        let numbers = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let looks_like_path = |s: &str| {
            const EXTENSIONS: [&str; 9] = [
                ".yaml", ".yml", ".json", ".toml", ".rego", ".pem", ".crt", ".conf", ".txt",
            ];
            !s.is_empty()
                && !s.contains(char::is_whitespace)
                && (s.contains('/') || EXTENSIONS.iter().any(|e| s.ends_with(e)))
        };
        if let Some((rest, last)) = text.rsplit_once(':') {
            if numbers(last) {
                let line: Option<u32> = last.parse().ok();
                if let Some((file, middle)) = rest.rsplit_once(':') {
                    if numbers(middle) && looks_like_path(file) {
                        return Place::File {
                            path: file.to_string(),
                            line: middle.parse().ok(),
                            column: line,
                            len: 0,
                        };
                    }
                }
                if looks_like_path(rest) && line.is_some() {
                    return Place::File {
                        path: rest.to_string(),
                        line,
                        column: None,
                        len: 0,
                    };
                }
            }
        }
        Place::Text(text.to_string())
    }

    /// The file this place is in, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Place::File { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Whether the place, as written, starts with `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.to_string().starts_with(prefix)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File {
                path, line, column, ..
            } => {
                f.write_str(path)?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                    if let Some(column) = column {
                        write!(f, ":{column}")?;
                    }
                }
                Ok(())
            }
            Place::Endpoint(text)
            | Place::Ref(text)
            | Place::Argument(text)
            | Place::Text(text) => f.write_str(text),
        }
    }
}

impl Place {
    /// Whether the place, as written, is `text`.
    fn is_written(&self, text: &str) -> bool {
        match self {
            Place::File {
                path, line, column, ..
            } => {
                let Some(rest) = text.strip_prefix(path.as_str()) else {
                    return false;
                };
                match (line, column) {
                    (None, _) => rest.is_empty(),
                    (Some(line), None) => rest == format!(":{line}"),
                    (Some(line), Some(column)) => rest == format!(":{line}:{column}"),
                }
            }
            Place::Endpoint(written)
            | Place::Ref(written)
            | Place::Argument(written)
            | Place::Text(written) => written == text,
        }
    }
}

impl PartialEq<&str> for Place {
    fn eq(&self, other: &&str) -> bool {
        self.is_written(other)
    }
}

impl PartialEq<String> for Place {
    fn eq(&self, other: &String) -> bool {
        self.is_written(other)
    }
}

/// What caused a diagnostic (kept for `std::error::Error::source`).
type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// One input that could not be used. Reports list them (each means exit 2);
/// the CLI renders them with [`render`].
#[derive(Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub location: Place,
    pub message: String,
    /// What few diagnostics have, boxed to keep `Result<_, Diagnostic>` small.
    extra: Option<Box<Extra>>,
}

#[derive(Clone, Default)]
struct Extra {
    /// Shown under the offending text, when a line is shown.
    label: Option<String>,
    notes: Vec<String>,
    help: Option<String>,
    source: Option<Cause>,
    /// The offending line may hold a secret: it is never shown.
    line_hidden: bool,
}

impl Diagnostic {
    /// A diagnostic with its code and structured place.
    pub fn error(code: Code, location: Place, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            location,
            message: message.into(),
            extra: None,
        }
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    /// A short text shown under the offending text.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.extra_mut().label = Some(label.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.extra_mut().notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.extra_mut().help = Some(help.into());
        self
    }

    /// Never shows the offending line (it may hold a secret); the place
    /// still names the line and column.
    pub fn with_line_hidden(mut self) -> Diagnostic {
        self.extra_mut().line_hidden = true;
        self
    }

    pub fn line_hidden(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| e.line_hidden)
    }

    pub fn label(&self) -> Option<&str> {
        self.extra.as_ref()?.label.as_deref()
    }

    pub fn notes(&self) -> &[String] {
        self.extra.as_ref().map_or(&[], |e| &e.notes)
    }

    pub fn help(&self) -> Option<&str> {
        self.extra.as_ref()?.help.as_deref()
    }

    /// Chains the error that caused this one (`std::error::Error::source`).
    pub fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Diagnostic {
        self.extra_mut().source = Some(Arc::new(source));
        self
    }

    /// The fields compared, sorted and deduplicated (not the cause).
    #[allow(clippy::type_complexity)]
    fn key(&self) -> (String, &str, Code, Option<&str>, &[String], Option<&str>) {
        (
            self.location.to_string(),
            &self.message,
            self.code,
            self.label(),
            self.notes(),
            self.help(),
        )
    }
}

impl fmt::Debug for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnostic")
            .field("code", &self.code)
            .field("location", &self.location)
            .field("message", &self.message)
            .field("label", &self.label())
            .field("notes", &self.notes())
            .field("help", &self.help())
            .field(
                "source",
                &self
                    .extra
                    .as_ref()
                    .and_then(|e| e.source.as_ref())
                    .map(|s| s.to_string()),
            )
            .finish()
    }
}

/// `location: message`, made printable (one line, no control characters).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            printable(&self.location.to_string()),
            printable(&self.message)
        )
    }
}

impl std::error::Error for Diagnostic {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.extra
            .as_ref()?
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for Diagnostic {
    fn eq(&self, other: &Diagnostic) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Diagnostic {}

/// By location as written, then message: the order reports list errors in.
impl Ord for Diagnostic {
    fn cmp(&self, other: &Diagnostic) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Diagnostic {
    fn partial_cmp(&self, other: &Diagnostic) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// In reports: `{"code": "DA-E101", "location": "driftaudit.yaml:3:1", "message": ...}`.
impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Diagnostic", 3)?;
        out.serialize_field("code", self.code.as_str())?;
        out.serialize_field("location", &self.location.to_string())?;
        out.serialize_field("message", &self.message)?;
        out.end()
    }
}

/// A report read back (`driftaudit report --input`): the code must be one
/// this build knows; the location is parsed back into its place.
impl<'de> serde::Deserialize<'de> for Diagnostic {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Diagnostic, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written {
            code: String,
            location: String,
            message: String,
        }
        let written = Written::deserialize(deserializer)?;
        let code = Code::ALL
            .into_iter()
            .find(|c| c.as_str() == written.code)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("unknown diagnostic code `{}`", written.code))
            })?;
        // Written back exactly as read: a place that would print otherwise
        // stays text.
        let place = match Place::parse(&written.location) {
            place if place == written.location => place,
            _ => Place::Text(written.location),
        };
        Ok(Diagnostic::error(code, place, written.message))
    }
}

/// Reads a text file; `what` names it in the message (`config`, `baseline`).
pub fn read_text(path: &std::path::Path, what: &str) -> Result<String, Diagnostic> {
    std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(
            Code::Io,
            Place::file(path.display().to_string()),
            format!("cannot read {what}: {e}"),
        )
        .with_source(e)
    })
}

/// Reads a file the scanned repository supplies (its `.driftaudit/waivers.yaml`,
/// a `driftaudit.yaml` found in the working directory): refused when it is a
/// symbolic link or lies (through a linked folder) outside `root`, is not a
/// regular file, is larger than `max` bytes or is not UTF-8. A pull request
/// could otherwise point it at `/proc/self/environ` or a credentials file,
/// whose lines a syntax error would then print.
pub fn read_untrusted_text(
    path: &std::path::Path,
    root: &std::path::Path,
    what: &str,
    max: u64,
) -> Result<String, Diagnostic> {
    let refuse = |why: String| {
        Diagnostic::error(
            Code::Io,
            Place::file(path.display().to_string()),
            format!("refused {what}: {why}"),
        )
    };
    let inside = match (path.canonicalize(), root.canonicalize()) {
        (Ok(real), Ok(real_root)) => real.starts_with(&real_root),
        _ => false,
    };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) || !inside {
        return Err(refuse(
            "it is a symbolic link, or lies outside the repository through one".into(),
        ));
    }
    let (file, _) = crate::no_follow::open_regular(path).map_err(|e| refuse(e.to_string()))?;
    let bytes = crate::no_follow::read_bounded(file, max).map_err(|e| refuse(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| refuse("not UTF-8 text".into()))
}

/// An unknown `key` in `within` (a phrase: "the configuration", "`drift`"),
/// with the nearest known key as help and every known key as a note.
pub fn unknown_key(
    code: Code,
    place: Place,
    key: &str,
    within: &str,
    known: &[&str],
) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(code, place, format!("unknown key `{key}` in {within}"))
        .with_label("unknown key");
    if let Some(near) = closest(key, known) {
        diagnostic = diagnostic.with_help(format!("did you mean `{near}`?"));
    }
    if !known.is_empty() {
        diagnostic = diagnostic.with_note(format!("known keys: {}", known.join(", ")));
    }
    diagnostic
}

/// The candidate nearest to a misspelt `word` (for "did you mean"), if any is
/// close: a third of its letters, plus one, may differ.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d > 0 && *d <= c.chars().count() / 3 + 1)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested() {
        let keys = ["managed_namespaces", "git", "drift", "baselines"];
        assert_eq!(
            closest("managed_namespace", &keys),
            Some("managed_namespaces")
        );
        assert_eq!(closest("gti", &keys), Some("git"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn free_form_locations_are_read_into_places() {
        assert_eq!(
            Place::parse("x.yml:2"),
            Place::File {
                path: "x.yml".into(),
                line: Some(2),
                column: None,
                len: 0
            }
        );
        assert_eq!(
            Place::parse("repo/a b/p.rego:3:7"),
            Place::Text("repo/a b/p.rego:3:7".into())
        );
        assert_eq!(
            Place::parse("policies/p.rego:3:7"),
            Place::File {
                path: "policies/p.rego".into(),
                line: Some(3),
                column: Some(7),
                len: 0
            }
        );
        assert_eq!(Place::parse("--now"), Place::Argument("--now".into()));
        assert_eq!(
            Place::parse("https://traefik:8080"),
            Place::Endpoint("https://traefik:8080".into())
        );
        // A host and port is not a file and a line.
        assert_eq!(
            Place::parse("db.example.com:5432"),
            Place::Text("db.example.com:5432".into())
        );
        assert_eq!(Place::parse("arguments"), Place::Text("arguments".into()));
    }

    #[test]
    fn places_print_as_written() {
        for text in ["x.yml:2", "a/b.rego:3:7", "--now", "arguments", "h:1"] {
            assert_eq!(Place::parse(text).to_string(), text);
        }
    }

    #[test]
    fn every_code_is_distinct_and_shaped_alike() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(text.starts_with("DA-E") && text.len() == 7, "{text}");
            assert!(seen.insert(text), "{text} twice");
        }
    }

    #[test]
    fn every_code_is_documented() {
        let docs = include_str!("../../docs/diagnostics.md");
        for code in Code::ALL {
            assert!(
                docs.contains(&format!("| `{code}` |")),
                "{code} is missing from docs/diagnostics.md"
            );
        }
    }

    #[test]
    fn the_cause_is_the_source() {
        use std::error::Error;
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let diagnostic =
            Diagnostic::error(Code::Io, Place::file("a.yaml"), "cannot read").with_source(io);
        assert_eq!(diagnostic.source().unwrap().to_string(), "gone");
        assert_eq!(
            serde_json::to_string(&diagnostic).unwrap(),
            r#"{"code":"DA-E002","location":"a.yaml","message":"cannot read"}"#
        );
    }
}
