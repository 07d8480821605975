//! The Traefik API flags of `scan`, `diff` and `capture`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use super::api::{TraefikAuth, TraefikOptions};
use crate::diag::{Code, Diagnostic, Place};
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Traefik")]
pub struct TraefikArgs {
    /// Live state from a running Traefik's API (e.g. http://127.0.0.1:8080)
    /// [config: a `traefik:` section; the flags replace it whole].
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

/// The `traefik:` section of the config file: the settings of the flags
/// above, never a secret itself (only files holding one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraefikSection {
    /// The API's URL (`--traefik-url`).
    pub url: String,
    /// Basic-auth user (`--traefik-user`).
    #[serde(default)]
    pub user: Option<String>,
    /// File holding the user's password, relative to the config file.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// File holding a bearer token, relative to the config file.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Do not verify the API's TLS certificate (`--traefik-insecure`).
    #[serde(default)]
    pub insecure: bool,
}

impl TraefikSection {
    /// Checks the section as the flags are checked; `at` gives the place of
    /// a key inside it. A URL's line is never shown: it may hold credentials.
    pub fn check(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        let refuse = |key: &str, message: &str, label: &str| {
            Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                at(key),
                format!("traefik.{key}: {message}"),
            )
            .with_label(label.to_string()))
        };
        match check_url(&self.url) {
            Err(UrlProblem::Scheme) => {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at("url"),
                    "traefik.url: not an http:// or https:// URL",
                )
                .with_line_hidden())
            }
            Err(UrlProblem::Credentials) => {
                return Err(Diagnostic::error(
                    Code::ConfigInvalidValue,
                    at("url"),
                    "traefik.url: the URL holds credentials, which never belong in the config",
                )
                .with_line_hidden()
                .with_help(
                    "give `user` with `password_file` (or DRIFTAUDIT_TRAEFIK_PASSWORD), or `token_file`",
                ))
            }
            Ok(()) => {}
        }
        if self.user.is_some() && self.token_file.is_some() {
            return refuse(
                "token_file",
                "give either `user` or `token_file`, not both",
                "conflicts with `user`",
            );
        }
        if self.password_file.is_some() && self.user.is_none() {
            return refuse(
                "password_file",
                "a password file needs `user`",
                "no `user` for it",
            );
        }
        Ok(())
    }
}

impl TraefikArgs {
    /// The flags over the config's section: `--traefik-url` replaces the
    /// section whole (its credentials belong to its URL). `resolve` turns a
    /// path of the config into one relative to here.
    pub fn with_config(
        &self,
        section: Option<&TraefikSection>,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> TraefikArgs {
        match section {
            Some(section) if self.traefik_url.is_none() => TraefikArgs {
                traefik_url: Some(section.url.clone()),
                traefik_user: section.user.clone(),
                traefik_password_file: section.password_file.as_deref().map(resolve),
                traefik_token_file: section.token_file.as_deref().map(resolve),
                traefik_insecure: section.insecure,
            },
            _ => self.clone(),
        }
    }
}

/// Why a Traefik URL is refused.
enum UrlProblem {
    Scheme,
    Credentials,
}

fn check_url(url: &str) -> Result<(), UrlProblem> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or(UrlProblem::Scheme)?;
    // Credentials in a URL end up in reports and process lists.
    if rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .contains('@')
    {
        return Err(UrlProblem::Credentials);
    }
    Ok(())
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
    match check_url(url) {
        Err(UrlProblem::Scheme) => {
            return Err(InputError::error(
                Code::BadFlagValue,
                Place::Argument("--traefik-url".into()),
                format!("`{url}` is not an http:// or https:// URL"),
            ))
        }
        Err(UrlProblem::Credentials) => return Err(InputError::error(
            Code::BadFlagValue,
            Place::Argument("--traefik-url".into()),
            "the URL holds credentials: use --traefik-user with DRIFTAUDIT_TRAEFIK_PASSWORD, or --traefik-token-file",
        )),
        Ok(()) => {}
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
