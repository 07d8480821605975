//! The Traefik API flags of `scan`, `diff` and `capture`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::api::{TraefikAuth, TraefikOptions};
use crate::diag::{Code, Place};
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Traefik")]
pub struct TraefikArgs {
    /// Live state from a running Traefik's API (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    pub traefik_url: Option<String>,
    /// User for the Traefik API's basic auth; the password comes from the
    /// environment variable DRIFTAUDIT_TRAEFIK_PASSWORD or --traefik-password-file.
    #[arg(long, value_name = "USER", requires = "traefik_url")]
    pub traefik_user: Option<String>,
    /// File holding the password for --traefik-user.
    #[arg(long, value_name = "FILE", requires = "traefik_user")]
    pub traefik_password_file: Option<PathBuf>,
    /// File holding a bearer token for the Traefik API.
    #[arg(
        long,
        value_name = "FILE",
        requires = "traefik_url",
        conflicts_with = "traefik_user"
    )]
    pub traefik_token_file: Option<PathBuf>,
    /// Do not verify the TLS certificate of an https:// Traefik API.
    #[arg(long, requires = "traefik_url")]
    pub traefik_insecure: bool,
}

impl SourceArgs for TraefikArgs {
    fn given(&self) -> bool {
        self.traefik_url.is_some()
    }

    fn collectors(&self, limits: &LiveTimeouts) -> Result<Vec<LiveSource>, InputError> {
        match &self.traefik_url {
            Some(url) => Ok(vec![Arc::new(traefik_options(self, url, limits.network)?)]),
            None => Ok(Vec::new()),
        }
    }
}

/// Environment variable holding the password of --traefik-user.
const TRAEFIK_PASSWORD_ENV: &str = "DRIFTAUDIT_TRAEFIK_PASSWORD";

/// A secret read from a file: surrounding whitespace (the final newline) is
/// not part of it.
fn read_secret_file(path: &std::path::Path, flag: &str) -> Result<String, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::error(
            Code::CredentialUnreadable,
            Place::Argument(flag.into()),
            format!("cannot read {}: {e}", path.display()),
        )
        .with_source(e)
    })?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(InputError::error(
            Code::CredentialUnreadable,
            Place::Argument(flag.into()),
            format!("{} is empty", path.display()),
        ));
    }
    Ok(secret)
}

fn traefik_options(
    arguments: &TraefikArgs,
    url: &str,
    timeout: Duration,
) -> Result<TraefikOptions, InputError> {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Err(InputError::error(
            Code::BadFlagValue,
            Place::Argument("--traefik-url".into()),
            format!("`{url}` is not an http:// or https:// URL"),
        ));
    };
    // Credentials in a URL end up in reports and process lists.
    if rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .contains('@')
    {
        return Err(InputError::error(
            Code::BadFlagValue,
            Place::Argument("--traefik-url".into()),
            "the URL holds credentials: use --traefik-user with DRIFTAUDIT_TRAEFIK_PASSWORD, or --traefik-token-file",
        ));
    }
    let mut options = TraefikOptions::new(url);
    options.insecure = arguments.traefik_insecure;
    options.timeout = timeout;
    if let Some(user) = &arguments.traefik_user {
        let password = match &arguments.traefik_password_file {
            Some(path) => read_secret_file(path, "--traefik-password-file")?,
            None => std::env::var(TRAEFIK_PASSWORD_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    InputError::error(
                        Code::CredentialUnreadable,
                        Place::Argument("--traefik-user".into()),
                        format!("no password: set {TRAEFIK_PASSWORD_ENV} or give --traefik-password-file"),
                    )
                })?,
        };
        options.auth = Some(TraefikAuth::Basic {
            user: user.clone(),
            password,
        });
    }
    if let Some(path) = &arguments.traefik_token_file {
        options.auth = Some(TraefikAuth::Bearer(read_secret_file(
            path,
            "--traefik-token-file",
        )?));
    }
    Ok(options)
}
