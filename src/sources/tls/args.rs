//! The TLS endpoint flags of `scan`, `diff` and `capture`.

use std::sync::Arc;

use clap::Args;
use serde::Deserialize;

use super::{TlsEndpoint, TlsEndpoints};
use crate::diag::{Code, Diagnostic, Place};
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "TLS endpoints")]
pub struct TlsArgs {
    /// Read the certificate a TLS endpoint serves (repeatable): HOST:PORT[,sni=NAME]
    /// [config: tls.endpoints, replaced by the flags].
    #[arg(long = "tls-endpoint", value_name = "HOST:PORT[,sni=NAME]")]
    pub tls_endpoint: Vec<String>,
}

/// The `tls:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSection {
    /// Endpoints to read (`--tls-endpoint`): `HOST:PORT[,sni=NAME]`.
    pub endpoints: Vec<String>,
}

impl TlsSection {
    /// Every endpoint parses; `at` gives the place of a key inside the section.
    pub fn check(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        for (i, text) in self.endpoints.iter().enumerate() {
            if let Err(message) = TlsEndpoint::parse(text) {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at(&format!("endpoints[{i}]")),
                    format!("tls.endpoints[{i}]: {message}"),
                )
                .with_label("not HOST:PORT[,sni=NAME]"));
            }
        }
        Ok(())
    }
}

impl TlsArgs {
    /// The flags over the config's section: `--tls-endpoint` replaces the
    /// section's endpoints.
    pub fn with_config(&self, section: Option<&TlsSection>) -> TlsArgs {
        match section {
            Some(section) if self.tls_endpoint.is_empty() => TlsArgs {
                tls_endpoint: section.endpoints.clone(),
            },
            _ => self.clone(),
        }
    }
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
