//! How to reach a PostgreSQL server: the `--postgres` connection string (URL or
//! `key=value`), completed from the usual `PG*` environment variables the way
//! libpq does, the password from a file, `PGPASSWORD` or the password file
//! (`PGPASSFILE`, `~/.pgpass`) — never from the command line — and TLS through
//! rustls.
//!
//! TLS follows libpq: `sslmode=disable` never encrypts, `prefer` (the default)
//! and `require` encrypt; the server certificate is verified (chain and host
//! name) only when `PGSSLROOTCERT` names a CA file, as libpq does when a root
//! certificate is present.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Config;

use crate::diag::{Code, Place};
use crate::model::InputError;
use crate::sources::tls::unverified::UnverifiedChain;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One `--postgres` target as given on the command line. It holds no
/// password: the password is read when connecting.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    dsn: String,
    /// `--postgres-password-file`: the first line is the password.
    pub password_file: Option<PathBuf>,
    /// The flag that gave it (`--postgres`, `--history`), for messages.
    flag: &'static str,
}

impl PostgresOptions {
    /// Checks a connection string from the command line. A password in it is
    /// refused: command lines are visible to every user of the machine.
    pub fn parse(dsn: &str, password_file: Option<PathBuf>) -> Result<Self, InputError> {
        Self::parse_for(dsn, password_file, "--postgres")
    }

    /// [`PostgresOptions::parse`] for another flag (`--history`): messages
    /// name it and its `FLAG-password-file`.
    pub fn parse_for(
        dsn: &str,
        password_file: Option<PathBuf>,
        flag: &'static str,
    ) -> Result<Self, InputError> {
        let config = Config::from_str(dsn).map_err(|e| {
            InputError::error(
                Code::BadFlagValue,
                Place::Argument(flag.into()),
                format!("not a PostgreSQL connection string (URL or key=value): {e}"),
            )
        })?;
        if config.get_password().is_some() {
            return Err(InputError::error(
                Code::BadFlagValue,
                Place::Argument(flag.into()),
                format!(
                    "the connection string contains a password; give it with PGPASSWORD, \
                     PGPASSFILE (~/.pgpass) or {flag}-password-file instead"
                ),
            ));
        }
        Ok(PostgresOptions {
            dsn: dsn.to_string(),
            password_file,
            flag,
        })
    }
}

/// A connection ready to be opened, and the label reports use for the server.
pub struct Connection {
    pub config: Config,
    pub label: String,
    /// `None`: plain TCP (`sslmode=disable`).
    pub tls: Option<ClientConfig>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Completes the connection string from the environment and reads the password.
/// Errors name what to fix and never carry the password.
pub fn resolve(options: &PostgresOptions) -> Result<Connection, String> {
    let mut config = Config::from_str(&options.dsn)
        .map_err(|e| format!("not a PostgreSQL connection string: {e}"))?;
    if config.get_hosts().is_empty() {
        for host in env("PGHOST")
            .unwrap_or_else(|| "localhost".into())
            .split(',')
        {
            config.host(host);
        }
    }
    if config.get_ports().is_empty() {
        let port = match env("PGPORT") {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("PGPORT `{p}` is not a port number"))?,
            None => 5432,
        };
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        let dbname = env("PGDATABASE").unwrap_or_else(|| config.get_user().unwrap_or("").into());
        config.dbname(&dbname);
    }
    let explicit_sslmode = options.dsn.contains("sslmode");
    let mut verify_peer = false;
    if !explicit_sslmode {
        if let Some(mode) = env("PGSSLMODE") {
            config.ssl_mode(match mode.as_str() {
                "disable" => SslMode::Disable,
                "allow" | "prefer" => SslMode::Prefer,
                "require" => SslMode::Require,
                "verify-ca" | "verify-full" => {
                    verify_peer = true;
                    SslMode::Require
                }
                other => return Err(format!("PGSSLMODE `{other}` is not an sslmode")),
            });
        }
    }
    if config.get_connect_timeout().is_none() {
        let seconds = env("PGCONNECT_TIMEOUT")
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|t| *t > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        config.connect_timeout(seconds);
    }
    config.application_name("driftaudit");

    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or_default().to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let label = format!("{host}:{port}/{dbname}");

    if let Some(password) = password(options, &host, port, &dbname, &user)? {
        config.password(password);
    }
    let root_cert = env("PGSSLROOTCERT").map(PathBuf::from);
    if verify_peer && root_cert.is_none() {
        return Err(
            "PGSSLMODE asks to verify the server certificate: set PGSSLROOTCERT to the CA file"
                .into(),
        );
    }
    let tls = match config.get_ssl_mode() {
        SslMode::Disable => None,
        _ => Some(tls_config(root_cert.as_deref())?),
    };
    Ok(Connection { config, label, tls })
}

fn password(
    options: &PostgresOptions,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Result<Option<String>, String> {
    if let Some(file) = &options.password_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            format!(
                "cannot read the password file {} ({}-password-file): {e}",
                file.display(),
                options.flag
            )
        })?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    if let Some(password) = env("PGPASSWORD") {
        return Ok(Some(password));
    }
    let passfile = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".pgpass")));
    Ok(passfile
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| passfile_lookup(&text, host, port, dbname, user)))
}

/// Finds the password of the first matching `host:port:database:user:password`
/// line of a password file (`*` matches anything; `\:` and `\\` are escapes;
/// a socket directory matches `localhost`, as in libpq).
pub fn passfile_lookup(
    text: &str,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Option<String> {
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let port = port.to_string();
    let wanted = [host, port.as_str(), dbname, user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .find_map(|line| {
            let fields = split_passfile_line(line);
            if fields.len() != 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, value)| field == "*" || field == value);
            matches.then(|| fields[4].clone())
        })
}

fn split_passfile_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

fn tls_config(root_cert: Option<&Path>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let config = match root_cert {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read PGSSLROOTCERT {}: {e}", path.display()))?;
            for certificate in certificates {
                let certificate = certificate
                    .map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
                roots
                    .add(certificate)
                    .map_err(|e| format!("bad CA certificate in {}: {e}", path.display()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            // libpq's `sslmode=require` without a root certificate: encrypted,
            // handshake signatures checked, the chain not (nothing to check it against).
            .with_custom_certificate_verifier(Arc::new(UnverifiedChain::new(provider)))
            .with_no_client_auth(),
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_connection_strings_are_refused() {
        for dsn in [
            "postgres://app:secret@db:5432/app",
            "host=db user=app password=secret",
        ] {
            let error = PostgresOptions::parse(dsn, None).unwrap_err();
            assert!(error.message.contains("PGPASSWORD"), "{error}");
            assert!(!error.to_string().contains("secret"));
        }
        assert!(PostgresOptions::parse("postgres://app@db:5432/app", None).is_ok());
    }

    #[test]
    fn password_file_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:*:app:nope\ndb:5432:*:app:pa\\:ss\n*:*:*:*:any\n";
        assert_eq!(
            passfile_lookup(text, "db", 5432, "shop", "app").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            passfile_lookup(text, "x", 1, "y", "z").as_deref(),
            Some("any")
        );
        assert_eq!(
            passfile_lookup("localhost:5432:app:u:pw\n", "/run/pg", 5432, "app", "u").as_deref(),
            Some("pw")
        );
    }
}
