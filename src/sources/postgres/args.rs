//! The PostgreSQL flags of `scan`, `diff` and `capture`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use clap::Args;
use serde::Deserialize;

use super::PostgresOptions;
use crate::diag::{Code, Diagnostic, Place};
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "PostgreSQL")]
pub struct PostgresArgs {
    /// Live PostgreSQL server (repeatable): a URL or key=value connection string
    /// without password; missing parts come from PGHOST, PGPORT, PGUSER,
    /// PGDATABASE, PGSSLMODE ("" = all from the environment)
    /// [config: postgres.dsns; the flags replace them and their password_file].
    #[arg(long = "postgres", value_name = "DSN")]
    pub postgres: Vec<String>,
    /// File whose first line is the PostgreSQL password [default: PGPASSWORD,
    /// then PGPASSFILE or ~/.pgpass] [config: postgres.password_file].
    #[arg(long, value_name = "FILE")]
    pub postgres_password_file: Option<PathBuf>,
}

/// The `postgres:` section of the config file: servers, never a password
/// (only a file holding one).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSection {
    /// Servers to read (`--postgres`): connection strings without password.
    pub dsns: Vec<String>,
    /// File whose first line is the password, relative to the config file.
    pub password_file: Option<PathBuf>,
}

impl PostgresSection {
    /// Every connection string is one, without password, as `--postgres`
    /// requires; `at` gives the place of a key inside the section. The line
    /// of a refused string is never shown, nor the string itself.
    pub fn check(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (i, dsn) in self.dsns.iter().enumerate() {
            let key = format!("dsns[{i}]");
            let Err(error) = PostgresOptions::parse(dsn, None) else {
                continue;
            };
            let password = tokio_postgres::Config::from_str(dsn)
                .is_ok_and(|config| config.get_password().is_some());
            let diagnostic = if password {
                Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&key),
                    format!("postgres.{key}: the connection string holds a password, which never belongs in the config"),
                )
                .with_help("give `password_file` (its first line is the password), PGPASSWORD or PGPASSFILE (~/.pgpass)")
            } else {
                Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&key),
                    format!("postgres.{key}: {}", error.message),
                )
            };
            return Err(diagnostic.with_line_hidden());
        }
        Ok(())
    }
}

impl PostgresArgs {
    /// The flags over the config's section: `--postgres` replaces the
    /// section whole (its password file belongs to its servers);
    /// `--postgres-password-file` wins over `password_file`. `resolve` turns
    /// a path of the config into one relative to here.
    pub fn with_config(
        &self,
        section: Option<&PostgresSection>,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> PostgresArgs {
        match section {
            Some(section) if self.postgres.is_empty() => PostgresArgs {
                postgres: section.dsns.clone(),
                postgres_password_file: self
                    .postgres_password_file
                    .clone()
                    .or_else(|| section.password_file.as_deref().map(resolve)),
            },
            _ => self.clone(),
        }
    }
}

impl SourceArgs for PostgresArgs {
    fn given(&self) -> bool {
        !self.postgres.is_empty()
    }

    fn collectors(&self, _limits: &LiveTimeouts) -> Result<Vec<LiveSource>, InputError> {
        self.postgres
            .iter()
            .map(|dsn| {
                let options = PostgresOptions::parse(dsn, self.postgres_password_file.clone())?;
                Ok(Arc::new(options) as LiveSource)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_replace_the_sections_servers_and_their_password_file() {
        let section = PostgresSection {
            dsns: vec!["host=a".into(), "host=b".into()],
            password_file: Some("pw".into()),
        };
        let resolve = |p: &Path| Path::new("/conf").join(p);
        let none = PostgresArgs::default();
        let merged = none.with_config(Some(&section), &resolve);
        assert_eq!(merged.postgres, ["host=a", "host=b"]);
        assert_eq!(merged.postgres_password_file, Some("/conf/pw".into()));
        assert!(merged.given());
        let flags = PostgresArgs {
            postgres: vec!["host=c".into()],
            postgres_password_file: None,
        };
        let merged = flags.with_config(Some(&section), &resolve);
        assert_eq!(merged.postgres, ["host=c"]);
        assert_eq!(merged.postgres_password_file, None);
        let file_only = PostgresArgs {
            postgres: vec![],
            postgres_password_file: Some("mine".into()),
        };
        let merged = file_only.with_config(Some(&section), &resolve);
        assert_eq!(merged.postgres, ["host=a", "host=b"]);
        assert_eq!(merged.postgres_password_file, Some("mine".into()));
        assert!(!none.with_config(None, &resolve).given());
    }
}
