//! The `driftaudit.yaml` configuration file: what to read, what to ignore, which
//! policies and baselines apply.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::diag::{read_text, unknown_key, Code, Diagnostic, Place, Span};
use crate::model::InputError;
use crate::sources::kubernetes::args::KubeSection;
use crate::sources::pgbackrest::args::PgBackRestSection;
use crate::sources::postgres::args::PostgresSection;
use crate::sources::tls::args::TlsSection;
use crate::sources::traefik::args::TraefikSection;
use crate::yaml::{parse_spanned, push_index, push_key, SpanMap};

/// The whole configuration. Every field has a default, so an empty file is valid.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub version: u32,
    pub git: GitConfig,
    /// Namespaces whose live objects must all be declared. Empty: every
    /// namespace a declared resource lives in.
    pub managed_namespaces: Vec<String>,
    pub drift: DriftConfig,
    pub unmanaged: UnmanagedConfig,
    pub policies: PolicyConfig,
    /// Baseline files merged over the built-in defaults, relative to the config file.
    pub baselines: Vec<PathBuf>,
    /// Custom resources that embed a pod spec: the rules that look at pods
    /// check them too (`docs/policy-input.md`).
    pub workloads: Vec<WorkloadConfig>,
    /// Environments: declared sets read on their own, each with its own
    /// identity and live target (`docs/environments.md`). None: found in the
    /// repository's Argo CD and Flux objects.
    pub environments: Vec<EnvironmentConfig>,
    /// Who answers for findings and drift (docs/owners.md).
    pub owners: crate::owners::OwnersConfig,
    /// Default `--fail-on` severity.
    pub fail_on: Option<String>,
    /// The history store of `scan` (`--history`, docs/history.md):
    /// `sqlite:PATH` (relative to the config file) or `postgres:DSN`
    /// without password; empty for `.driftaudit/history.db` beside the config.
    pub history: Option<String>,
    /// The waivers file (docs/waivers.md), relative to the config file
    /// [default: `.driftaudit/waivers.yaml` of the declared repository].
    pub waivers: Option<PathBuf>,
    /// Limits of the live sources (`--source-timeout`, `--scan-timeout`).
    pub timeouts: TimeoutsConfig,
    // One section per live source, each the settings of its flag group; a
    // section makes its source live like the flags. Flags win (see README).
    pub kubernetes: Option<KubeSection>,
    pub traefik: Option<TraefikSection>,
    pub tls: Option<TlsSection>,
    pub postgres: Option<PostgresSection>,
    pub pgbackrest: Option<PgBackRestSection>,
    /// Directory the relative paths above are resolved against (the config's folder).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file as named in diagnostics, and where each of its keys
    /// and values sits, so later checks can point at the line that set them.
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub spans: SpanMap,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitConfig {
    /// Sub-directories of the repository to read.
    pub paths: Vec<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Kustomize overlay directories, rendered with `kustomize build`, besides
    /// every folder holding a kustomization file; `false` turns both off.
    pub kustomize: KustomizeSetting,
    /// How Helm charts (folders holding `Chart.yaml`) are rendered.
    pub helm: crate::sources::kubernetes::helm_setting::HelmSetting,
    /// Globs of Traefik file-provider dynamic configuration files (YAML,
    /// TOML), read as Traefik objects rather than Kubernetes manifests.
    pub traefik: Vec<String>,
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig {
            paths: vec![],
            include: vec!["**/*.yaml".into(), "**/*.yml".into(), "**/*.json".into()],
            exclude: vec![],
            kustomize: KustomizeSetting::default(),
            helm: Default::default(),
            traefik: vec![],
        }
    }
}

/// A kind of custom resource that embeds a pod spec: `{group, kind,
/// pod_spec_path}`, the path written with dots (`spec.template.spec`). A kind
/// with pod specs at several places is listed once per path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadConfig {
    pub group: String,
    pub kind: String,
    pub pod_spec_path: String,
}

/// A DNS label (RFC 1123): what a namespace name, and each part of an API
/// group, must be. At most 63 lowercase letters, digits and `-`, not at either end.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl WorkloadConfig {
    /// What is wrong with the entry, and which of its keys says it.
    fn problem(&self) -> Option<(&'static str, String)> {
        if !self.group.contains('.') || !self.group.split('.').all(is_dns_label) {
            return Some((
                "group",
                format!(
                    "`{}` is not the API group of a custom resource (a DNS name such as `example.com`)",
                    self.group
                ),
            ));
        }
        let mut kind = self.kind.chars();
        if !kind.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !kind.all(|c| c.is_ascii_alphanumeric())
        {
            return Some((
                "kind",
                format!(
                    "`{}` is not a kind (letters and digits, e.g. `WebApp`)",
                    self.kind
                ),
            ));
        }
        let key = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !self.pod_spec_path.split('.').all(key) {
            return Some((
                "pod_spec_path",
                format!(
                    "`{}` is not a path of object keys joined by dots (e.g. `spec.template.spec`); list indexes and wildcards are not supported",
                    self.pod_spec_path
                ),
            ));
        }
        None
    }
}

/// One entry of `environments`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    pub name: String,
    /// Folders (or files) of the repository, relative to its root.
    pub paths: Vec<String>,
    /// As `git.kustomize`; absent: `git.kustomize`.
    #[serde(default)]
    pub kustomize: Option<KustomizeSetting>,
    #[serde(default)]
    pub helm: crate::sources::kubernetes::helm_setting::HelmSetting,
    /// Namespace of the environment's namespaced objects that name none.
    #[serde(default)]
    pub namespace: Option<String>,
    /// The kubeconfig context the environment is deployed to.
    #[serde(default)]
    pub kube_context: Option<String>,
    /// Who answers for the environment's findings and drift (docs/owners.md).
    #[serde(default)]
    pub owner: Option<String>,
}

impl EnvironmentConfig {
    /// What is wrong with the entry, and which of its keys says it.
    fn problem(&self) -> Option<(String, String)> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 253
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if !name_ok {
            return Some((
                "name".into(),
                format!(
                    "`{}` is not an environment name (letters, digits, `-`, `_`, `.`, `/`)",
                    crate::printable::printable(&self.name)
                ),
            ));
        }
        if self.paths.is_empty() {
            return Some((
                "paths".into(),
                "an environment needs at least one path (a folder of the repository)".into(),
            ));
        }
        for (i, path) in self.paths.iter().enumerate() {
            if path.starts_with('/') || path.split('/').any(|p| p == "..") || path.trim().is_empty()
            {
                return Some((
                    format!("paths[{i}]"),
                    format!(
                        "`{}` must be a folder inside the repository, relative to its root (no `..`, not absolute)",
                        crate::printable::printable(path)
                    ),
                ));
            }
        }
        if let Some(namespace) = &self.namespace {
            if !is_dns_label(namespace) {
                return Some((
                    "namespace".into(),
                    format!(
                        "`{}` is not a namespace name (a DNS label: lowercase letters, digits, `-`)",
                        crate::printable::printable(namespace)
                    ),
                ));
            }
        }
        if self.kube_context.as_deref() == Some("") {
            return Some(("kube_context".into(), "the context name is empty".into()));
        }
        if let Some(why) = self.owner.as_deref().and_then(crate::owners::owner_problem) {
            return Some(("owner".into(), why));
        }
        None
    }
}

/// `git.kustomize`: a list of overlay folders (kustomization folders are
/// found on their own too), or `false` to render none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustomizeSetting {
    pub overlays: Vec<String>,
    /// Render every folder holding a kustomization file.
    pub auto: bool,
}

impl Default for KustomizeSetting {
    fn default() -> Self {
        KustomizeSetting {
            overlays: Vec::new(),
            auto: true,
        }
    }
}

impl<'de> Deserialize<'de> for KustomizeSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KustomizeSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of kustomization folders, or `false`")
            }
            fn visit_bool<E: serde::de::Error>(self, on: bool) -> Result<Self::Value, E> {
                Ok(KustomizeSetting {
                    overlays: Vec::new(),
                    auto: on,
                })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut overlays = Vec::new();
                while let Some(overlay) = seq.next_element::<String>()? {
                    overlays.push(overlay);
                }
                Ok(KustomizeSetting {
                    overlays,
                    auto: true,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    /// Compare every field, not only those the declared document sets.
    pub strict: bool,
    pub ignore: Vec<IgnoreRule>,
    /// Field managers trusted to set fields Git does not set, besides the
    /// appliers and the cluster's own controllers.
    pub trusted_managers: Vec<String>,
}

/// Fields (JSONPath) that are never drift for the matching resources: an
/// [`ObjectPattern`] with `paths` (written flat: `{kind, namespace, name, paths}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "IgnoreRuleFields")]
pub struct IgnoreRule {
    pub object: ObjectPattern,
    /// JSONPath expressions, checked when the config is read.
    pub paths: Vec<String>,
}

/// How an ignore rule is written. serde cannot refuse unknown keys of a
/// flattened struct, so the pattern's keys are named here once more.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreRuleFields {
    #[serde(default)]
    kind: NamePattern,
    #[serde(default)]
    namespace: NamePattern,
    #[serde(default)]
    name: NamePattern,
    paths: Vec<String>,
}

impl From<IgnoreRuleFields> for IgnoreRule {
    fn from(fields: IgnoreRuleFields) -> IgnoreRule {
        IgnoreRule {
            object: ObjectPattern {
                kind: fields.kind,
                namespace: fields.namespace,
                name: fields.name,
            },
            paths: fields.paths,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct UnmanagedConfig {
    /// Extra patterns of live objects that are never reported as unmanaged.
    pub exclude: Vec<ObjectPattern>,
    /// Turn off the built-in exclusions (controller-made objects and the like).
    pub no_default_exclusions: bool,
    /// Label selector (`key=value,key!=value,key,!key`): live objects that match
    /// it in any namespace must be declared too.
    pub selector: Option<String>,
    /// Kinds searched for unmanaged objects besides the declared ones
    /// (`apiVersion/Kind`, e.g. `apps/v1/Deployment`, `v1/ConfigMap`).
    pub kinds: Option<Vec<String>>,
}

/// `kind`/`namespace`/`name` glob patterns (`*` matches anything).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectPattern {
    #[serde(default)]
    pub kind: NamePattern,
    #[serde(default)]
    pub namespace: NamePattern,
    #[serde(default)]
    pub name: NamePattern,
}

/// Limits of live collection, in seconds; the flags win.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutsConfig {
    /// Each live source (`--source-timeout`).
    pub source: Option<u64>,
    /// All live sources together (`--scan-timeout`).
    pub scan: Option<u64>,
    /// All policy evaluations of a scan together (`--policy-timeout`).
    pub policy: Option<u64>,
}

/// Defaults of the limits (seconds; MiB for memory): what a flag or the
/// config may change, and what an untrusted config may only lower.
pub const DEFAULT_SOURCE_TIMEOUT: u64 = 120;
pub const DEFAULT_SCAN_TIMEOUT: u64 = 600;
pub const DEFAULT_POLICY_TIMEOUT: u64 = 300;
pub const DEFAULT_POLICY_MEMORY_MIB: u64 = 2048;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Extra policy directories, relative to the config file.
    pub dirs: Vec<PathBuf>,
    /// Rule ids that are not evaluated.
    pub disable: Vec<String>,
    /// Frameworks whose controls the report gives a status (`--framework`,
    /// docs/controls.md): `cis-k8s`, `nsa-cisa`, `pss`, `iso27001`, `soc2`.
    pub frameworks: Vec<String>,
    /// MiB policy evaluation may allocate beyond what the scan holds
    /// (`--policy-memory`).
    pub memory: Option<u64>,
}

/// A glob over a kind, namespace or name (`*`, `?`, `[a-z]`, `{a,b}`), compiled
/// once when the config is read. globset matches through finite automata, so a
/// hostile pattern such as `*a*a*a*a*b` costs linear time, never backtracking.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct NamePattern {
    matcher: globset::GlobMatcher,
}

/// How the error of a pattern that does not compile starts, when serde
/// carries it as text (see `describe_serde_error`).
const BAD_PATTERN: &str = "bad pattern";

impl NamePattern {
    pub fn new(pattern: &str) -> Result<NamePattern, globset::Error> {
        globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map(|glob| NamePattern {
                matcher: glob.compile_matcher(),
            })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.matcher.is_match(text)
    }
}

impl TryFrom<String> for NamePattern {
    type Error = String;
    fn try_from(pattern: String) -> Result<NamePattern, String> {
        NamePattern::new(&pattern).map_err(|e| format!("{BAD_PATTERN} `{pattern}`: {}", e.kind()))
    }
}

impl Default for NamePattern {
    fn default() -> NamePattern {
        NamePattern::new("*").expect("`*` is a valid pattern")
    }
}

/// The span of the value at `path` (or of its nearest ancestor).
fn value_span(spans: &SpanMap, path: &str) -> Span {
    spans.get(path).map(|s| s.value).unwrap_or_default()
}

/// Turns serde's refusal of the config into a diagnostic at the key or value
/// it names. serde reports an unknown key and a bad pattern only as text
/// ("unknown field \`x\`, expected one of ..."); that text is read here, and
/// nowhere else.
fn describe_serde_error(
    error: &serde_path_to_error::Error<serde_json::Error>,
    name: &str,
    spans: &SpanMap,
) -> Diagnostic {
    let mut path = String::new();
    for segment in error.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => path = push_index(&path, *index),
            serde_path_to_error::Segment::Map { key } => path = push_key(&path, key),
            serde_path_to_error::Segment::Enum { variant } => path = push_key(&path, variant),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let mut text = error.inner().to_string();
    // A value of these sections may be a secret written where it must not
    // be: serde quotes the value it refuses, and the line would show it.
    let secret_prone = SECRET_PRONE
        .iter()
        .any(|section| path == *section || path.starts_with(&format!("{section}.")));
    if secret_prone {
        if let (Some(start), Some(end)) = (text.find('"'), text.rfind('"')) {
            if start < end {
                text.replace_range(start..=end, "(not shown)");
            }
        }
    }
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        // The unknown key ends the path when serde recorded it.
        let key_path = if spans.contains(&path) {
            path.clone()
        } else {
            push_key(&path, key)
        };
        let section = match crate::yaml::parent_path(&key_path) {
            None | Some("") => "the configuration".to_string(),
            Some(parent) => format!("`{parent}`"),
        };
        let span = spans.get(&key_path).map(|s| s.key).unwrap_or_default();
        let diagnostic = unknown_key(
            Code::ConfigUnknownKey,
            Place::span(name, span),
            key,
            &section,
            &known,
        );
        // `password: ...` where only `password_file` is known: not shown.
        return if secret_prone {
            diagnostic.with_line_hidden()
        } else {
            diagnostic
        };
    }
    let at = Place::span(name, value_span(spans, &path));
    let shown = if path.is_empty() {
        "the configuration".to_string()
    } else {
        path.clone()
    };
    if let Some(rest) = text.strip_prefix(BAD_PATTERN) {
        return Diagnostic::error(
            Code::ConfigBadGlob,
            at,
            format!("{shown}: {BAD_PATTERN}{rest}"),
        )
        .with_label("not a glob");
    }
    let diagnostic = Diagnostic::error(Code::ConfigInvalidValue, at, format!("{shown}: {text}"))
        .with_label("invalid value");
    if secret_prone {
        diagnostic.with_line_hidden()
    } else {
        diagnostic
    }
}

/// Sections whose values may hold a secret by mistake (a password in a
/// connection string or URL): their refused values and lines are not shown.
const SECRET_PRONE: [&str; 2] = ["postgres", "traefik"];

/// Whether labels match an equality-based label selector. An empty selector
/// matches nothing here: it is only used to widen the managed scope.
pub fn selector_matches(selector: &str, labels: Option<&serde_json::Map<String, Value>>) -> bool {
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let terms: Vec<&str> = selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    !terms.is_empty()
        && terms.iter().all(|term| {
            if let Some((key, value)) = term.split_once("!=") {
                label(key.trim()) != Some(value.trim())
            } else if let Some((key, value)) =
                term.split_once("==").or_else(|| term.split_once('='))
            {
                label(key.trim()) == Some(value.trim())
            } else if let Some(key) = term.strip_prefix('!') {
                label(key.trim()).is_none()
            } else {
                label(term).is_some()
            }
        })
}

impl ObjectPattern {
    pub fn matches(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.kind.is_match(kind) && self.namespace.is_match(namespace) && self.name.is_match(name)
    }
}

impl IgnoreRule {
    /// Whether the rule's object pattern matches.
    pub fn matches(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.object.matches(kind, namespace, name)
    }
}

impl Config {
    /// Reads a config file and checks it whole: keys, types, globs and
    /// JSONPaths. Each problem points at its line and column.
    pub fn load(path: &Path) -> Result<Config, InputError> {
        let text = read_text(path, "config")?;
        Config::finish(path, &text, false)
    }

    /// [`Config::load`] for a config the scanned repository supplies
    /// (`--untrusted-config`): the file itself must be a regular file of its
    /// folder, not a link, at most 1 MiB; then [`Config::confine`].
    pub fn load_untrusted(path: &Path) -> Result<Config, InputError> {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let text = crate::diag::read_untrusted_text(path, folder, "config", 1 << 20)?;
        Config::finish(path, &text, true)
    }

    fn finish(path: &Path, text: &str, untrusted: bool) -> Result<Config, InputError> {
        let name = path.display().to_string();
        let mut config = Config::parse(text, &name)?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if untrusted {
            config.confine()?;
        }
        config.check_files()?;
        Ok(config)
    }

    /// The place of a key or value of the config file (`drift.ignore[0].paths`).
    pub fn place_of(&self, path: &str) -> Place {
        Place::span(&self.name, value_span(&self.spans, path))
    }

    /// The policy folders and baseline files the config names exist (checked
    /// here, so the error points at the config line that names them).
    /// Treats the config as hostile (`--untrusted-config`: a pull request's
    /// own `driftaudit.yaml`): it may name no live source (whose credentials,
    /// from the environment or files, would go to a server the config names),
    /// and every file or folder it names must be relative and resolve, links
    /// followed, inside the config's own folder: a baseline, policy folder or
    /// waivers file pointing at `/home/runner/.ssh/id_ed25519` would otherwise
    /// be read and its lines shown in a parse error.
    pub fn confine(&self) -> Result<(), InputError> {
        let live = [
            ("kubernetes", self.kubernetes.is_some()),
            ("traefik", self.traefik.is_some()),
            ("tls", self.tls.is_some()),
            ("postgres", self.postgres.is_some()),
            ("pgbackrest", self.pgbackrest.is_some()),
        ];
        if let Some((section, _)) = live.iter().find(|(_, given)| *given) {
            return Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                self.place_of(section),
                format!(
                    "an untrusted config (--untrusted-config) may not name live sources; \
                     `{section}` is refused (give live targets by flags, or the config by --config)"
                ),
            ));
        }
        // The history store is written: a pull request must not choose where.
        if self.history.is_some() {
            return Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                self.place_of("history"),
                "an untrusted config (--untrusted-config) may not name a history store (it is written to); give it by --history",
            ));
        }
        // Limits that protect the scan: lowered, never raised (a pull request
        // adding a heavy rule and lifting the memory bound or time budget).
        let limits = [
            (
                "timeouts.source",
                self.timeouts.source,
                DEFAULT_SOURCE_TIMEOUT,
            ),
            ("timeouts.scan", self.timeouts.scan, DEFAULT_SCAN_TIMEOUT),
            (
                "timeouts.policy",
                self.timeouts.policy,
                DEFAULT_POLICY_TIMEOUT,
            ),
            (
                "policies.memory",
                self.policies.memory,
                DEFAULT_POLICY_MEMORY_MIB,
            ),
        ];
        for (key, value, default) in limits {
            if value.is_some_and(|v| v > default) {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    self.place_of(key),
                    format!(
                        "an untrusted config (--untrusted-config) may lower `{key}`, not raise it above its default {default}; give the flag to raise it"
                    ),
                ));
            }
        }
        let root = std::fs::canonicalize(if self.base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.base_dir
        })
        .map_err(|e| {
            Diagnostic::error(
                Code::Io,
                Place::file(&self.name),
                format!("cannot resolve the config's folder: {e}"),
            )
        })?;
        for (key, path, _) in self.named_paths() {
            let inside = !path.is_absolute()
                && std::fs::canonicalize(self.resolve(path))
                    .is_ok_and(|real| real.starts_with(&root));
            if !inside {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    self.place_of(&key),
                    format!(
                        "{key}: {} is outside the config's folder (an untrusted config may \
                         only name files of its own repository, links included)",
                        crate::printable::printable(&path.display().to_string())
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Every file and folder the config names: (key, path as written, is a folder).
    fn named_paths(&self) -> Vec<(String, &Path, bool)> {
        let folders = self
            .policies
            .dirs
            .iter()
            .enumerate()
            .map(|(i, dir)| (push_index("policies.dirs", i), dir.as_path(), true));
        let files = self
            .baselines
            .iter()
            .enumerate()
            .map(|(i, file)| (push_index("baselines", i), file.as_path(), false));
        // The files the live sources' sections name (kubeconfig, secrets).
        let mut named: Vec<(&str, &Option<PathBuf>)> = Vec::new();
        if let Some(section) = &self.kubernetes {
            named.push(("kubernetes.kubeconfig", &section.kubeconfig));
        }
        if let Some(section) = &self.traefik {
            named.push(("traefik.password_file", &section.password_file));
            named.push(("traefik.token_file", &section.token_file));
        }
        if let Some(section) = &self.postgres {
            named.push(("postgres.password_file", &section.password_file));
        }
        if let Some(section) = &self.pgbackrest {
            named.push(("pgbackrest.config", &section.config));
        }
        named.push(("waivers", &self.waivers));
        let source_files = named
            .into_iter()
            .filter_map(|(key, path)| Some((key.to_string(), path.as_ref()?.as_path(), false)));
        folders.chain(files).chain(source_files).collect()
    }

    fn check_files(&self) -> Result<(), InputError> {
        for (key, path, folder) in self.named_paths() {
            let resolved = self.resolve(path);
            let (exists, what) = if folder {
                (resolved.is_dir(), "policy directory".to_string())
            } else if key.starts_with("baselines") {
                (resolved.is_file(), "baseline file".to_string())
            } else {
                (resolved.is_file(), format!("{key}: file"))
            };
            if !exists {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    self.place_of(&key),
                    format!("{what} {} does not exist", resolved.display()),
                )
                .with_label(format!(
                    "no such {}",
                    if folder { "directory" } else { "file" }
                )));
            }
        }
        Ok(())
    }

    /// Parses config text; `name` (the file) is used in diagnostics.
    pub fn parse(text: &str, name: &str) -> Result<Config, InputError> {
        let mut documents = parse_spanned(text).map_err(|e| e.diagnostic(name))?;
        // A second document would be silently ignored: settings a reader sees
        // in the file must be settings the scan uses.
        if let Some((extra, _)) = documents.get(1) {
            return Err(Diagnostic::error(
                Code::MultipleDocuments,
                Place::line(name, extra.line),
                "the config holds more than one YAML document; merge them into one",
            ));
        }
        let (value, spans) = match documents.pop() {
            Some((document, spans)) => (document.value, spans),
            None => (Value::Object(Default::default()), SpanMap::default()),
        };
        let at = |path: &str| Place::span(name, value_span(&spans, path));
        let mut config: Config = serde_path_to_error::deserialize(&value)
            .map_err(|e| describe_serde_error(&e, name, &spans))?;
        if config.version > 1 {
            return Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                at("version"),
                format!(
                    "config version {} is newer than this driftaudit understands (1)",
                    config.version
                ),
            ));
        }
        if let Some(severity) = &config.fail_on {
            if crate::model::Severity::parse(severity).is_none() && severity != "none" {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at("fail_on"),
                    format!("fail_on: unknown severity `{severity}`"),
                )
                .with_label("not a severity")
                .with_help("one of critical, high, medium, low, info or none"));
            }
        }
        config.check_globs(&at)?;
        config.check_json_paths(&at)?;
        config.check_sources(&at)?;
        config.check_workloads(&at)?;
        config.check_frameworks(&at)?;
        config.check_environments(&at)?;
        if let Some((key, why)) = config.owners.problem() {
            return Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                at(&format!("owners.{key}")),
                format!("owners.{key}: {why}"),
            )
            .with_label("invalid value"));
        }
        config.name = name.to_string();
        config.spans = spans;
        Ok(config)
    }

    /// The live sources' sections and the timeouts hold what their flags accept.
    fn check_sources(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (key, value) in [
            ("source", self.timeouts.source),
            ("scan", self.timeouts.scan),
            ("policy", self.timeouts.policy),
        ] {
            if value == Some(0) {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&format!("timeouts.{key}")),
                    format!("timeouts.{key} must be at least 1 second"),
                )
                .with_label("zero"));
            }
        }
        if self.policies.memory == Some(0) {
            return Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                at("policies.memory"),
                "policies.memory must be at least 1 MiB",
            )
            .with_label("zero"));
        }
        let within = |section: &'static str| move |key: &str| at(&format!("{section}.{key}"));
        if let Some(section) = &self.kubernetes {
            section.check(&within("kubernetes"))?;
        }
        if let Some(section) = &self.traefik {
            section.check(&within("traefik"))?;
        }
        if let Some(section) = &self.tls {
            section.check(&within("tls"))?;
        }
        if let Some(section) = &self.postgres {
            section.check(&within("postgres"))?;
        }
        Ok(())
    }

    /// Each `policies.frameworks` entry names a framework `--framework` knows.
    fn check_frameworks(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (i, name) in self.policies.frameworks.iter().enumerate() {
            if crate::report::controls::framework_prefix(name).is_none() {
                let entry = push_index("policies.frameworks", i);
                let names: Vec<&str> = crate::report::controls::FRAMEWORKS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&entry),
                    format!(
                        "{entry}: `{}` is not a framework (one of {})",
                        crate::printable::printable(name),
                        names.join(", ")
                    ),
                )
                .with_label("unknown framework"));
            }
        }
        Ok(())
    }

    /// Each `workloads` entry names a custom resource kind and a path, once.
    fn check_workloads(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (i, workload) in self.workloads.iter().enumerate() {
            let entry = push_index("workloads", i);
            if let Some((key, message)) = workload.problem() {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&push_key(&entry, key)),
                    format!("{entry}.{key}: {message}"),
                )
                .with_label("invalid value"));
            }
            if let Some(first) = self.workloads[..i].iter().position(|w| w == workload) {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&entry),
                    format!(
                        "{entry}: {} {} at {} is listed twice (first as workloads[{first}])",
                        workload.group, workload.kind, workload.pod_spec_path
                    ),
                )
                .with_label("listed twice"));
            }
        }
        Ok(())
    }

    /// Each `environments` entry is well formed, and named once.
    fn check_environments(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (i, environment) in self.environments.iter().enumerate() {
            let entry = push_index("environments", i);
            if let Some((key, message)) = environment.problem() {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&format!("{entry}.{key}")),
                    format!("{entry}.{key}: {message}"),
                )
                .with_label("invalid value"));
            }
            if let Some(first) = self.environments[..i]
                .iter()
                .position(|e| e.name == environment.name)
            {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&push_key(&entry, "name")),
                    format!(
                        "{entry}.name: environment `{}` is named twice (first as environments[{first}])",
                        environment.name
                    ),
                )
                .with_label("named twice"));
            }
        }
        Ok(())
    }

    /// The file globs of `git` compile (the object patterns compiled while
    /// the config was read).
    fn check_globs(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        let lists = [
            ("include", &self.git.include),
            ("exclude", &self.git.exclude),
            ("traefik", &self.git.traefik),
        ];
        for (key, patterns) in lists {
            for (i, pattern) in patterns.iter().enumerate() {
                if let Err(e) = globset::Glob::new(pattern) {
                    return Err(Diagnostic::error(
                        Code::ConfigBadGlob,
                        at(&push_index(&format!("git.{key}"), i)),
                        format!("bad glob `{pattern}` in git.{key}: {}", e.kind()),
                    )
                    .with_label("not a glob")
                    .with_source(e));
                }
            }
        }
        Ok(())
    }

    /// Every JSONPath of `drift.ignore` parses, before any resource is read
    /// (a bad one would otherwise surface only when a matching resource is compared).
    fn check_json_paths(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (i, rule) in self.drift.ignore.iter().enumerate() {
            for (j, expression) in rule.paths.iter().enumerate() {
                if let Err(e) = jsonpath_rust::parser::parse_json_path(expression) {
                    let path = push_index(&format!("drift.ignore[{i}].paths"), j);
                    let detail = e.to_string();
                    let detail = detail
                        .lines()
                        .rev()
                        .find_map(|l| l.trim().strip_prefix("= "))
                        .unwrap_or(detail.lines().next().unwrap_or_default())
                        .to_string();
                    return Err(Diagnostic::error(
                        Code::ConfigBadJsonPath,
                        at(&path),
                        format!("bad JSONPath `{expression}` in drift.ignore: {detail}"),
                    )
                    .with_label("not a JSONPath")
                    .with_help("paths are RFC 9535 JSONPath, e.g. `$.spec.replicas` or `$.metadata.annotations['a/b']`")
                    .with_source(e));
                }
            }
        }
        Ok(())
    }

    /// A path from the config, resolved against the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_has_defaults() {
        let config = Config::parse("", "x").unwrap();
        assert!(config.git.include.contains(&"**/*.yaml".to_string()));
        assert!(!config.drift.strict);
        assert!(
            config.git.kustomize.auto,
            "kustomizations are rendered by default"
        );
    }

    #[test]
    fn git_helm_names_values_files_and_a_release() {
        let config = Config::parse(
            "git:\n  helm:\n    values: [envs/a.yaml, envs/b.yaml]\n    release: shop\n",
            "x",
        )
        .unwrap();
        assert_eq!(config.git.helm.values, ["envs/a.yaml", "envs/b.yaml"]);
        assert_eq!(config.git.helm.release.as_deref(), Some("shop"));
        assert_eq!(Config::default().git.helm, Default::default());
        let error = Config::parse("git:\n  helm:\n    value: [a.yaml]\n", "c.yaml").unwrap_err();
        assert_eq!(error.code, Code::ConfigUnknownKey, "{error}");
    }

    #[test]
    fn git_kustomize_is_a_list_or_false() {
        let listed = Config::parse("git:\n  kustomize: [deploy/prod]\n", "x").unwrap();
        assert_eq!(listed.git.kustomize.overlays, ["deploy/prod"]);
        assert!(listed.git.kustomize.auto);
        let off = Config::parse("git:\n  kustomize: false\n", "x").unwrap();
        assert!(!off.git.kustomize.auto && off.git.kustomize.overlays.is_empty());
        let error =
            Config::parse("git:\n  include: []\n  kustomize: {a: 1}\n", "c.yaml").unwrap_err();
        assert_eq!(error.location.to_string(), "c.yaml:3:14", "{error}");
        assert!(
            error
                .message
                .contains("a list of kustomization folders, or `false`"),
            "{error}"
        );
    }

    #[test]
    fn unknown_keys_are_errors_at_their_key() {
        let err = Config::parse("gti: {}\n", "driftaudit.yaml").unwrap_err();
        assert!(err.message.contains("gti"), "{err}");
        assert_eq!(err.code, Code::ConfigUnknownKey);
        assert_eq!(err.location, "driftaudit.yaml:1:1");
        assert_eq!(err.help(), Some("did you mean `git`?"));
        let err = Config::parse("drift:\n  strict: true\n  ignor: []\n", "c.yaml").unwrap_err();
        assert_eq!(err.location, "c.yaml:3:3");
        assert_eq!(err.message, "unknown key `ignor` in `drift`");
        let err = Config::parse(
            "drift:\n  ignore:\n    - kind: Deployment\n      path: [x]\n",
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(err.location, "c.yaml:4:7", "{err:?}");
    }

    #[test]
    fn missing_policy_folders_and_baselines_point_at_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("driftaudit.yaml");
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        std::fs::write(dir.path().join("acme.yaml"), "images: {}\n").unwrap();
        std::fs::write(
            &path,
            "policies:\n  dirs: [policies]\nbaselines: [acme.yaml]\n",
        )
        .unwrap();
        assert!(Config::load(&path).is_ok());
        std::fs::write(&path, "policies:\n  dirs: [policies, nope]\n").unwrap();
        let err = Config::load(&path).unwrap_err();
        assert_eq!(err.code, Code::ConfigInvalidValue);
        assert_eq!(
            err.location,
            format!("{}:2:20", path.display()).as_str(),
            "{err:?}"
        );
        std::fs::write(&path, "baselines:\n  - acme.yaml\n  - gone.yaml\n").unwrap();
        let err = Config::load(&path).unwrap_err();
        assert_eq!(err.location, format!("{}:3:5", path.display()).as_str());
    }

    #[test]
    fn wrong_types_point_at_the_value() {
        let err = Config::parse("drift:\n  strict: maybe\n", "c.yaml").unwrap_err();
        assert_eq!(err.code, Code::ConfigInvalidValue);
        assert_eq!(err.location, "c.yaml:2:11", "{err:?}");
        assert!(
            err.message.starts_with("drift.strict: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn bad_patterns_and_json_paths_are_found_at_load() {
        let err = Config::parse(
            "unmanaged:\n  exclude:\n    - name: \"[unclosed\"\n",
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(err.code, Code::ConfigBadGlob);
        assert_eq!(err.location, "c.yaml:3:13", "{err:?}");
        assert!(err.message.contains("[unclosed"), "{err}");
        let err = Config::parse("git:\n  exclude: [\"a/{b\"]\n", "c.yaml").unwrap_err();
        assert_eq!(err.code, Code::ConfigBadGlob);
        assert_eq!(err.location, "c.yaml:2:13", "{err:?}");
        let err = Config::parse(
            "drift:\n  ignore:\n    - paths: [$.spec.replicas, \"$.[\"]\n",
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(err.code, Code::ConfigBadJsonPath);
        assert_eq!(err.location, "c.yaml:3:32", "{err:?}");
        let ok = Config::parse(
            "drift:\n  ignore:\n    - kind: Deploy*\n      paths: [$.spec.replicas]\n",
            "c.yaml",
        )
        .unwrap();
        assert!(ok.drift.ignore[0].matches("Deployment", "shop", "web"));
    }

    #[test]
    fn source_sections_are_read_and_checked_at_their_line() {
        let config = Config::parse(
            "kubernetes:\n  contexts: [prod]\n  kubeconfig: kube/config\ntraefik: {url: \"http://127.0.0.1:8080\", token_file: token}\ntls: {endpoints: [\"a:443\"]}\npostgres: {dsns: [\"host=db user=app\"], password_file: pw}\npgbackrest: {stanzas: [main]}\ntimeouts: {source: 5}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(config.kubernetes.unwrap().contexts, ["prod"]);
        assert_eq!(config.traefik.unwrap().url, "http://127.0.0.1:8080");
        assert_eq!(config.postgres.unwrap().dsns, ["host=db user=app"]);
        assert_eq!(config.pgbackrest.unwrap().stanzas, ["main"]);
        assert_eq!(config.timeouts.source, Some(5));
        assert!(Config::parse("", "c.yaml").unwrap().kubernetes.is_none());

        let err = Config::parse("kubernetes:\n  kube_context: x\n", "c.yaml").unwrap_err();
        assert_eq!(err.code, Code::ConfigUnknownKey);
        assert_eq!(err.location, "c.yaml:2:3", "{err:?}");
        assert_eq!(err.message, "unknown key `kube_context` in `kubernetes`");
        let err = Config::parse("kubernetes:\n  in_cluster: 3\n", "c.yaml").unwrap_err();
        assert_eq!(err.location, "c.yaml:2:15", "{err:?}");
        let err = Config::parse("tls:\n  endpoints: [\"a:1\", nope]\n", "c.yaml").unwrap_err();
        assert_eq!(err.location, "c.yaml:2:22", "{err:?}");
        let err = Config::parse("timeouts: {scan: 0}\n", "c.yaml").unwrap_err();
        assert_eq!(err.location, "c.yaml:1:18", "{err:?}");
        let err = Config::parse("traefik: {token_file: t}\n", "c.yaml").unwrap_err();
        assert!(err.message.contains("missing field `url`"), "{err}");
    }

    #[test]
    fn secrets_in_the_config_are_refused_without_showing_them() {
        for text in [
            "postgres:\n  dsns:\n    - host=db password=hunter2\n",
            "postgres:\n  dsns:\n    - postgres://app:hunter2@db/app\n",
            "postgres:\n  dsns: postgres://app:hunter2@db/app\n",
            "traefik:\n  url: http://admin:hunter2@127.0.0.1:8080\n",
            "traefik:\n  url: [http://admin:hunter2@127.0.0.1:8080]\n",
        ] {
            let err = Config::parse(text, "c.yaml").unwrap_err();
            assert_eq!(err.code, Code::ConfigInvalidValue, "{err:?}");
            assert!(err.location.starts_with("c.yaml:"), "{err:?}");
            assert!(err.line_hidden(), "{err:?}");
            let shown = format!("{err:?} {err}");
            assert!(!shown.contains("hunter2"), "{shown}");
            let rendered = crate::diag::render_with_source(&err, Some(text), &Default::default());
            assert!(!rendered.contains("hunter2"), "{rendered}");
        }
        let err = Config::parse("postgres: {dsns: [\"password=x\"]}\n", "c.yaml").unwrap_err();
        assert!(err.message.contains("holds a password"), "{err}");
        // Secrets only ever in files: a `password` key is unknown.
        let err =
            Config::parse("traefik: {url: \"http://t\", password: x}\n", "c.yaml").unwrap_err();
        assert_eq!(err.code, Code::ConfigUnknownKey);
    }

    #[test]
    fn the_readme_example_is_a_valid_config() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## Configuration").unwrap()..];
        let start = section.find("```yaml\n").unwrap() + "```yaml\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let config = Config::parse(example, "README.md").unwrap();
        let kubernetes = config.kubernetes.unwrap();
        assert_eq!(kubernetes.contexts, ["prod", "staging"]);
        assert_eq!(config.traefik.unwrap().user.as_deref(), Some("ops"));
        assert_eq!(config.tls.unwrap().endpoints.len(), 2);
        assert_eq!(config.pgbackrest.unwrap().stanzas, ["main"]);
        assert_eq!(config.timeouts.scan, Some(600));
    }

    #[test]
    fn workloads_are_read_and_checked_at_their_line() {
        let config = Config::parse(
            "workloads:\n  - {group: example.com, kind: WebApp, pod_spec_path: spec.template.spec}\n  - {group: example.com, kind: WebApp, pod_spec_path: spec.worker}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(config.workloads.len(), 2);
        assert_eq!(config.workloads[1].pod_spec_path, "spec.worker");
        assert!(Config::parse("", "c.yaml").unwrap().workloads.is_empty());

        for (text, at, wanted) in [
            (
                "workloads:\n  - {group: apps, kind: X, pod_spec_path: spec}\n",
                "c.yaml:2:13",
                "workloads[0].group: `apps` is not the API group of a custom resource",
            ),
            (
                "workloads:\n  - group: example.com\n    kind: web-app\n    pod_spec_path: spec\n",
                "c.yaml:3:11",
                "workloads[0].kind: `web-app` is not a kind",
            ),
            (
                "workloads:\n  - {group: a.io, kind: A, pod_spec_path: \"spec.pods[0]\"}\n",
                "c.yaml:2:43",
                "workloads[0].pod_spec_path: `spec.pods[0]` is not a path",
            ),
            (
                "workloads:\n  - {group: a.io, kind: A, pod_spec_path: spec..x}\n",
                "c.yaml:2:43",
                "is not a path of object keys",
            ),
            (
                "workloads:\n  - {group: a.io, kind: A, pod_spec_path: spec}\n  - {group: a.io, kind: A, pod_spec_path: spec}\n",
                "c.yaml:3:5",
                "workloads[1]: a.io A at spec is listed twice (first as workloads[0])",
            ),
        ] {
            let err = Config::parse(text, "c.yaml").unwrap_err();
            assert_eq!(err.code, Code::ConfigInvalidValue, "{err:?}");
            assert_eq!(err.location, at, "{err:?}");
            assert!(err.message.starts_with(wanted) || err.message.contains(wanted), "{err}");
        }
        let err = Config::parse("workloads:\n  - {group: a.io, kind: A}\n", "c.yaml").unwrap_err();
        assert!(
            err.message.contains("missing field `pod_spec_path`"),
            "{err}"
        );
        let err = Config::parse(
            "workloads:\n  - {group: a.io, kind: A, pod_spec_path: spec, path: x}\n",
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(err.code, Code::ConfigUnknownKey, "{err:?}");
    }

    #[test]
    fn environments_are_read_and_checked_at_their_line() {
        let config = Config::parse(
            "environments:\n  - name: staging\n    paths: [envs/staging]\n    kustomize: false\n    helm: {values: [v.yaml], release: web}\n    namespace: shop\n    kube_context: stg\n",
            "c.yaml",
        )
        .unwrap();
        let staging = &config.environments[0];
        assert_eq!(staging.paths, ["envs/staging"]);
        assert_eq!(staging.kustomize.as_ref().map(|k| k.auto), Some(false));
        assert_eq!(staging.helm.values, ["v.yaml"]);
        assert_eq!(staging.helm.release.as_deref(), Some("web"));
        assert_eq!(staging.kube_context.as_deref(), Some("stg"));
        for (text, at, wanted) in [
            (
                "environments:\n  - name: \"a b\"\n    paths: [x]\n",
                "c.yaml:2:11",
                "environments[0].name: `a b` is not an environment name",
            ),
            (
                "environments:\n  - name: a\n    paths: []\n",
                "c.yaml:3:12",
                "at least one path",
            ),
            (
                "environments:\n  - {name: a, paths: [x]}\n  - {name: a, paths: [y]}\n",
                "c.yaml:3:12",
                "environment `a` is named twice",
            ),
        ] {
            let err = Config::parse(text, "c.yaml").unwrap_err();
            assert_eq!(err.code, Code::ConfigInvalidValue, "{err:?}");
            assert_eq!(err.location, at, "{err:?}");
            assert!(err.message.contains(wanted), "{err}");
        }
        let err = Config::parse(
            "environments:\n  - {name: a, paths: [x], helm: {value: [v.yaml]}}\n",
            "c.yaml",
        )
        .unwrap_err();
        assert_eq!(err.code, Code::ConfigUnknownKey, "{err:?}");
    }

    #[test]
    fn glob_patterns() {
        let matches = |pattern: &str, text: &str| NamePattern::new(pattern).unwrap().is_match(text);
        assert!(matches("*", "anything"));
        assert!(matches("*", ""));
        assert!(matches("kube-*", "kube-system"));
        assert!(!matches("kube-*", "shop"));
        assert!(matches("*-tls", "shop-tls"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(matches("sh.helm.release.*", "sh.helm.release.v1.app.v3"));
        assert!(NamePattern::new("[").is_err());
    }

    #[test]
    fn label_selectors() {
        let labels: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"team": "shop", "tier": "web"}"#).unwrap();
        assert!(selector_matches("team=shop", Some(&labels)));
        assert!(selector_matches("team==shop,tier", Some(&labels)));
        assert!(!selector_matches("team=shop,tier!=web", Some(&labels)));
        assert!(selector_matches("!owner", Some(&labels)));
        assert!(!selector_matches("owner", None));
        assert!(!selector_matches("", Some(&labels)));
    }
}
