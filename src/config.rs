//! The `driftaudit.yaml` configuration file: what to read, what to ignore, which
//! policies and baselines apply.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::model::InputError;
use crate::yaml::parse_documents;

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
    /// Default `--fail-on` severity.
    pub fail_on: Option<String>,
    /// Directory the relative paths above are resolved against (the config's folder).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitConfig {
    /// Sub-directories of the repository to read.
    pub paths: Vec<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Kustomize overlay directories, rendered with `kustomize build`.
    pub kustomize: Vec<String>,
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
            kustomize: vec![],
            traefik: vec![],
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    /// Compare every field, not only those the declared document sets.
    pub strict: bool,
    pub ignore: Vec<IgnoreRule>,
}

/// Fields (JSONPath) that are never drift for the matching resources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    #[serde(default)]
    pub kind: NamePattern,
    #[serde(default)]
    pub namespace: NamePattern,
    #[serde(default)]
    pub name: NamePattern,
    pub paths: Vec<String>,
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectPattern {
    #[serde(default)]
    pub kind: NamePattern,
    #[serde(default)]
    pub namespace: NamePattern,
    #[serde(default)]
    pub name: NamePattern,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Extra policy directories, relative to the config file.
    pub dirs: Vec<PathBuf>,
    /// Rule ids that are not evaluated.
    pub disable: Vec<String>,
}

/// A glob over a kind, namespace or name (`*`, `?`, `[a-z]`, `{a,b}`), compiled
/// once when the config is read. globset matches through finite automata, so a
/// hostile pattern such as `*a*a*a*a*b` costs linear time, never backtracking.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct NamePattern {
    matcher: globset::GlobMatcher,
}

impl NamePattern {
    pub fn new(pattern: &str) -> Result<NamePattern, String> {
        globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .backslash_escape(true)
            .build()
            .map(|glob| NamePattern {
                matcher: glob.compile_matcher(),
            })
            .map_err(|e| format!("bad pattern `{pattern}`: {e}"))
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.matcher.is_match(text)
    }
}

impl TryFrom<String> for NamePattern {
    type Error = String;
    fn try_from(pattern: String) -> Result<NamePattern, String> {
        NamePattern::new(&pattern)
    }
}

impl Default for NamePattern {
    fn default() -> NamePattern {
        NamePattern::new("*").expect("`*` is a valid pattern")
    }
}

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
    pub fn matches(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.kind.is_match(kind) && self.namespace.is_match(namespace) && self.name.is_match(name)
    }
}

impl Config {
    /// Reads a config file; errors name the file (and line for syntax errors).
    pub fn load(path: &Path) -> Result<Config, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            InputError::new(
                path.display().to_string(),
                format!("cannot read config: {e}"),
            )
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// Parses config text; `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Config, InputError> {
        let documents = parse_documents(text).map_err(|e| {
            InputError::new(
                format!("{name}:{}", e.line),
                format!("YAML syntax error: {}", e.message),
            )
        })?;
        // A second document would be silently ignored: settings a reader sees
        // in the file must be settings the scan uses.
        if let Some(extra) = documents.get(1) {
            return Err(InputError::new(
                format!("{name}:{}", extra.line),
                "the config holds more than one YAML document; merge them into one",
            ));
        }
        let value = documents
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Object(Default::default()));
        let config: Config = serde_json::from_value(value)
            .map_err(|e| InputError::new(name, format!("invalid configuration: {e}")))?;
        if config.version > 1 {
            return Err(InputError::new(
                name,
                format!(
                    "config version {} is newer than this driftaudit understands (1)",
                    config.version
                ),
            ));
        }
        if let Some(severity) = &config.fail_on {
            if crate::model::Severity::parse(severity).is_none() && severity != "none" {
                return Err(InputError::new(
                    name,
                    format!("fail_on: unknown severity `{severity}`"),
                ));
            }
        }
        Ok(config)
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
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::parse("gti: {}\n", "driftaudit.yaml").unwrap_err();
        assert!(err.message.contains("gti"), "{err}");
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
