//! The PostgreSQL flags of `scan`, `diff` and `capture`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::PostgresOptions;
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "PostgreSQL")]
pub struct PostgresArgs {
    /// Live PostgreSQL server (repeatable): a URL or key=value connection string
    /// without password; missing parts come from PGHOST, PGPORT, PGUSER,
    /// PGDATABASE, PGSSLMODE ("" = all from the environment).
    #[arg(long = "postgres", value_name = "DSN")]
    pub postgres: Vec<String>,
    /// File whose first line is the PostgreSQL password [default: PGPASSWORD, then PGPASSFILE or ~/.pgpass].
    #[arg(long, value_name = "FILE")]
    pub postgres_password_file: Option<PathBuf>,
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
