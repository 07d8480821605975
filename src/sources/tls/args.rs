//! The TLS endpoint flags of `scan`, `diff` and `capture`.

use std::sync::Arc;

use clap::Args;

use super::{TlsEndpoint, TlsEndpoints};
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "TLS endpoints")]
pub struct TlsArgs {
    /// Read the certificate a TLS endpoint serves (repeatable): HOST:PORT[,sni=NAME].
    #[arg(long = "tls-endpoint", value_name = "HOST:PORT[,sni=NAME]")]
    pub tls_endpoint: Vec<String>,
}

impl SourceArgs for TlsArgs {
    fn given(&self) -> bool {
        !self.tls_endpoint.is_empty()
    }

    fn collectors(&self, limits: &LiveTimeouts) -> Result<Vec<LiveSource>, InputError> {
        if !self.given() {
            return Ok(Vec::new());
        }
        let endpoints = self
            .tls_endpoint
            .iter()
            .map(|text| TlsEndpoint::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(vec![Arc::new(TlsEndpoints {
            endpoints,
            timeout: limits.network,
        })])
    }
}
