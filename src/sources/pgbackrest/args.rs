//! The pgBackRest flags of `scan`, `diff` and `capture`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::PgBackRestOptions;
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "pgBackRest")]
pub struct PgBackRestArgs {
    /// pgBackRest stanza to read with `pgbackrest info` (repeatable).
    #[arg(long, value_name = "NAME")]
    pub pgbackrest_stanza: Vec<String>,
    /// pgBackRest configuration file [default: PGBACKREST_CONFIG, then /etc/pgbackrest/pgbackrest.conf].
    #[arg(long, value_name = "FILE", requires = "pgbackrest_stanza")]
    pub pgbackrest_config: Option<PathBuf>,
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
