//! TLS endpoints as a live source: connects to `host:port` (with an optional
//! SNI name), reads the certificate chain the server sends without trusting
//! it, and turns it into certificate facts. This is how driftaudit sees what
//! clients really get: an expired certificate, one whose names do not cover
//! the SNI, or Traefik's self-signed default certificate for an unknown name.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use serde_json::{json, Value};

pub mod args;
pub mod unverified;

use futures::future::BoxFuture;

use super::collect::{blocking_target, Collected, Collector, LiveScope};
use crate::diag::{Code, Place};
use crate::facts::chain_facts;
use crate::model::{CoverageGap, Deadline, InputError, LiveTarget, Origin, Resource, Source};
use unverified::UnverifiedChain;

/// The apiVersion and kind of endpoint resources.
pub const API_VERSION: &str = "traefik.driftaudit.io/v1";
pub const KIND: &str = "TLSEndpoint";

/// One `--tls-endpoint host:port[,sni=name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsEndpoint {
    pub host: String,
    pub port: u16,
    /// The name to ask for; `None`: the host when it is a name, no SNI for an IP.
    pub sni: Option<String>,
}

impl TlsEndpoint {
    /// Parses `host:port`, `[::1]:443`, `host:port,sni=name` (a `--tls-endpoint` value).
    pub fn parse(text: &str) -> Result<TlsEndpoint, InputError> {
        let bad = |message: String| {
            InputError::error(
                Code::BadFlagValue,
                Place::Argument("--tls-endpoint".into()),
                message,
            )
        };
        let mut parts = text.split(',');
        let address = parts.next().unwrap_or_default().trim();
        let mut sni = None;
        for option in parts {
            match option.trim().split_once('=') {
                Some(("sni", name)) if !name.trim().is_empty() => {
                    sni = Some(name.trim().to_string())
                }
                _ => {
                    return Err(bad(format!(
                        "unknown option `{option}` in `{text}` (expected host:port[,sni=name])"
                    )))
                }
            }
        }
        let (host, port) = address.rsplit_once(':').ok_or_else(|| {
            bad(format!(
                "`{text}` has no port (expected host:port[,sni=name])"
            ))
        })?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port: u16 = port
            .parse()
            .map_err(|_| bad(format!("`{port}` in `{text}` is not a port number")))?;
        if host.is_empty() {
            return Err(bad(format!(
                "`{text}` has no host (expected host:port[,sni=name])"
            )));
        }
        Ok(TlsEndpoint {
            host: host.to_string(),
            port,
            sni,
        })
    }

    /// How reports name it: `host:port` or `host:port,sni=name`.
    pub fn label(&self) -> String {
        let address = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        match &self.sni {
            Some(sni) => format!("{address},sni={sni}"),
            None => address,
        }
    }

    /// The SNI actually sent: rustls sends none for an IP address.
    fn server_name(&self) -> Result<(ServerName<'static>, Option<String>), String> {
        let name = self.sni.clone().unwrap_or_else(|| self.host.clone());
        let server_name = ServerName::try_from(name.clone())
            .map_err(|e| format!("`{name}` is not a valid server name: {e}"))?;
        let sent = matches!(server_name, ServerName::DnsName(_)).then_some(name);
        Ok((server_name, sent))
    }
}

/// What one handshake saw.
struct Handshake {
    chain: Vec<Vec<u8>>,
    protocol: String,
    cipher: String,
}

/// One handshake, bounded as a whole (a server dripping a byte just inside
/// every read timeout cannot hold it): by `timeout` from its start, or by the
/// source's deadline when that comes first.
fn handshake(
    endpoint: &TlsEndpoint,
    timeout: Duration,
    deadline: Option<&Deadline>,
) -> Result<Handshake, String> {
    let own_end = Instant::now() + timeout;
    let (end, overdue) = match deadline {
        Some(d) if d.at < own_end => (d.at, d.reason()),
        _ => (
            own_end,
            format!(
                "TLS handshake did not finish within {} s",
                timeout.as_secs()
            ),
        ),
    };
    let remaining = || Some(end.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(UnverifiedChain::new(provider.clone()));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    let (server_name, _) = endpoint.server_name()?;
    let mut connection =
        rustls::ClientConnection::new(Arc::new(config), server_name).map_err(|e| e.to_string())?;
    let address = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{}`: {e}", endpoint.host))?
        .next()
        .ok_or_else(|| format!("`{}` resolves to no address", endpoint.host))?;
    let mut socket = TcpStream::connect_timeout(&address, remaining().ok_or(overdue.clone())?)
        .map_err(|e| format!("cannot connect to {address}: {}", e.kind()))?;
    while connection.is_handshaking() {
        let left = remaining().ok_or(overdue.clone())?;
        socket
            .set_read_timeout(Some(left))
            .and_then(|_| socket.set_write_timeout(Some(left)))
            .map_err(|e| e.to_string())?;
        if let Err(e) = connection.complete_io(&mut socket) {
            if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) {
                return Err(overdue);
            }
            let recorded = verifier.chain();
            // A server that closes after sending its certificate (client
            // certificates required, say) still showed its chain.
            if recorded.is_empty() {
                return Err(format!("TLS handshake failed: {e}"));
            }
            break;
        }
    }
    let chain = verifier.chain();
    if chain.is_empty() {
        return Err("the server sent no certificate".into());
    }
    Ok(Handshake {
        chain,
        protocol: connection
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: connection
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
    })
}

/// Reads every endpoint into one target. An endpoint that cannot be read is a
/// coverage gap. The target compares nothing with Git (its `sources` are
/// empty): an endpoint is only judged by the certificate policies.
pub fn collect(
    endpoints: &[TlsEndpoint],
    timeout: Duration,
    deadline: Option<&Deadline>,
) -> LiveTarget {
    let mut target = LiveTarget {
        name: "tls endpoints".into(),
        ..LiveTarget::default()
    };
    for endpoint in endpoints {
        let label = endpoint.label();
        let sent_sni = endpoint.server_name().ok().and_then(|(_, sent)| sent);
        match handshake(endpoint, timeout, deadline) {
            Ok(seen) => {
                let source = match &sent_sni {
                    Some(sni) => format!(
                        "TLS endpoint {}:{} (SNI {sni})",
                        endpoint.host, endpoint.port
                    ),
                    None => format!("TLS endpoint {}:{} (no SNI)", endpoint.host, endpoint.port),
                };
                let mut certificates = chain_facts(&source, &seen.chain);
                if let (Some(sni), Some(Value::Object(leaf))) =
                    (&sent_sni, certificates.first_mut())
                {
                    leaf.insert("sni".into(), json!(sni));
                }
                let body = json!({
                    "address": format!("{}:{}", endpoint.host, endpoint.port),
                    "sni": sent_sni,
                    "protocol": seen.protocol,
                    "cipherSuite": seen.cipher,
                });
                let origin = Origin::Live {
                    target: target.name.clone(),
                    endpoint: label.clone(),
                };
                let resource =
                    Resource::new(Source::Traefik, API_VERSION, KIND, "", &label, body, origin)
                        .with_facts(json!({ "certificates": certificates }));
                // Two flags naming one endpoint give one resource.
                let _ = target.inventory.insert(resource);
            }
            Err(reason) => target.coverage.push(CoverageGap {
                source: Source::Traefik,
                target: target.name.clone(),
                scope: format!("TLS endpoint {label}"),
                reason,
                endpoint: label,
                kind: None,
            }),
        }
    }
    target.coverage.sort();
    target
}

/// Every `--tls-endpoint`, one live source and one target.
#[derive(Debug, Clone)]
pub struct TlsEndpoints {
    pub endpoints: Vec<TlsEndpoint>,
    /// Limit of each handshake.
    pub timeout: Duration,
}

/// Handshakes are blocking I/O: they run off the runtime's workers.
impl Collector for TlsEndpoints {
    fn label(&self) -> String {
        "tls endpoints".into()
    }

    fn collect(&self, _scope: &LiveScope<'_>, deadline: Deadline) -> BoxFuture<'static, Collected> {
        let sources = self.clone();
        blocking_target(move || collect(&sources.endpoints, sources.timeout, Some(&deadline)))
    }

    fn unread(&self, reason: &str) -> Vec<LiveTarget> {
        let name = "tls endpoints".to_string();
        let mut coverage: Vec<CoverageGap> = self
            .endpoints
            .iter()
            .map(|endpoint| CoverageGap {
                source: Source::Traefik,
                target: name.clone(),
                scope: format!("TLS endpoint {}", endpoint.label()),
                reason: reason.to_string(),
                endpoint: endpoint.label(),
                kind: None,
            })
            .collect();
        coverage.sort();
        // The endpoint target compares nothing with Git (its `sources` are empty).
        vec![LiveTarget {
            name,
            coverage,
            ..LiveTarget::default()
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_with_and_without_sni() {
        assert_eq!(
            TlsEndpoint::parse("127.0.0.1:8443,sni=app.example.test").unwrap(),
            TlsEndpoint {
                host: "127.0.0.1".into(),
                port: 8443,
                sni: Some("app.example.test".into())
            }
        );
        assert_eq!(TlsEndpoint::parse("[::1]:443").unwrap().host, "::1");
        assert_eq!(
            TlsEndpoint::parse("[::1]:443").unwrap().label(),
            "[::1]:443"
        );
        assert!(TlsEndpoint::parse("example.test").is_err());
        assert!(TlsEndpoint::parse("example.test:https").is_err());
        assert!(TlsEndpoint::parse("example.test:443,foo=bar").is_err());
    }

    #[test]
    fn sni_is_sent_for_names_only() {
        let ip = TlsEndpoint::parse("127.0.0.1:443").unwrap();
        assert_eq!(ip.server_name().unwrap().1, None);
        let named = TlsEndpoint::parse("127.0.0.1:443,sni=a.example.test").unwrap();
        assert_eq!(
            named.server_name().unwrap().1.as_deref(),
            Some("a.example.test")
        );
    }
}
