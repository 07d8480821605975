//! The pgBackRest flags of `scan`, `diff` and `capture`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde::Deserialize;

use super::PgBackRestOptions;
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "pgBackRest")]
pub struct PgBackRestArgs {
    /// pgBackRest stanza to read with `pgbackrest info` (repeatable)
    /// [config: pgbackrest.stanzas, replaced by the flags].
    #[arg(long, value_name = "NAME")]
    pub pgbackrest_stanza: Vec<String>,
    /// pgBackRest configuration file [default: PGBACKREST_CONFIG, then
    /// /etc/pgbackrest/pgbackrest.conf] [config: pgbackrest.config].
    #[arg(long, value_name = "FILE", requires = "pgbackrest_stanza")]
    pub pgbackrest_config: Option<PathBuf>,
}

/// The `pgbackrest:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PgBackRestSection {
    /// Stanzas to read (`--pgbackrest-stanza`).
    pub stanzas: Vec<String>,
    /// pgBackRest configuration file, relative to the config file.
    pub config: Option<PathBuf>,
}

impl PgBackRestArgs {
    /// The flags over the config's section: `--pgbackrest-stanza` replaces
    /// the section's stanzas, `--pgbackrest-config` wins over `config`.
    /// `resolve` turns a path of the config into one relative to here.
    pub fn with_config(
        &self,
        section: Option<&PgBackRestSection>,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> PgBackRestArgs {
        let mut merged = self.clone();
        let Some(section) = section else {
            return merged;
        };
        if merged.pgbackrest_stanza.is_empty() {
            merged.pgbackrest_stanza = section.stanzas.clone();
        }
        if merged.pgbackrest_config.is_none() {
            merged.pgbackrest_config = section.config.as_deref().map(resolve);
        }
        merged
    }
}

impl SourceArgs for PgBackRestArgs {
    fn given(&self) -> bool {
        !self.pgbackrest_stanza.is_empty()
    }

    fn collectors(&self, _limits: &LiveTimeouts) -> Result<Vec<LiveSource>, InputError> {
        Ok(self
            .pgbackrest_stanza
            .iter()
            .map(|stanza| {
                Arc::new(PgBackRestOptions {
                    stanza: stanza.clone(),
                    config: self.pgbackrest_config.clone(),
                    deadline: None,
                }) as LiveSource
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_replace_the_sections_stanzas_and_win_over_its_config() {
        let section = PgBackRestSection {
            stanzas: vec!["main".into()],
            config: Some("pgbackrest.conf".into()),
        };
        let resolve = |p: &Path| Path::new("/conf").join(p);
        let merged = PgBackRestArgs::default().with_config(Some(&section), &resolve);
        assert_eq!(merged.pgbackrest_stanza, ["main"]);
        assert_eq!(
            merged.pgbackrest_config,
            Some("/conf/pgbackrest.conf".into())
        );
        let flags = PgBackRestArgs {
            pgbackrest_stanza: vec!["other".into()],
            pgbackrest_config: Some("/etc/x.conf".into()),
        };
        let merged = flags.with_config(Some(&section), &resolve);
        assert_eq!(merged.pgbackrest_stanza, ["other"]);
        assert_eq!(merged.pgbackrest_config, Some("/etc/x.conf".into()));
    }
}
