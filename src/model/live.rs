//! What live collection produces and the limits it runs under: shared by
//! every collector, the runner, drift and the snapshot writer.

use std::time::{Duration, Instant};

use super::{CoverageGap, Identity, Inventory, Source};

/// One live system as read by a collector.
#[derive(Debug, Default)]
pub struct LiveTarget {
    /// How reports name it (`prod-cluster`, `traefik http://127.0.0.1:8080`).
    pub name: String,
    /// The sources it covers: declared resources of other sources are not
    /// compared with it (a Traefik target says nothing about Deployments).
    pub sources: Vec<Source>,
    pub inventory: Inventory,
    pub coverage: Vec<CoverageGap>,
    /// Kinds of its sources that are never compared with Git: the collector
    /// cannot read them (Traefik's API does not expose TLS options), or Git does
    /// not declare them (Traefik entry points live in the static config). Such
    /// declared resources are not "missing" and such live ones not "unmanaged".
    pub uncompared_kinds: Vec<String>,
    /// What identifies the system read (`report.evidence.targets`): e.g.
    /// the API server URL, its CA fingerprint and version, the cluster id;
    /// null where it could not be told, never secret material.
    pub identity: serde_json::Map<String, serde_json::Value>,
}

impl LiveTarget {
    pub fn covers(&self, source: Source) -> bool {
        self.sources.contains(&source)
    }

    /// Whether drift compares this resource with the target.
    pub fn compares(&self, identity: &Identity) -> bool {
        self.covers(identity.source)
            && !self.uncompared_kinds.contains(&identity.kind)
            && !self.coverage.iter().any(|g| g.hides(identity))
    }
}

/// The time limits of live collection, all in one place. Collectors stop
/// themselves at their deadline where they can; `request` and `network`
/// bound each call they make on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTimeouts {
    /// Each source (`--source-timeout`).
    pub source: Duration,
    /// All sources together (`--scan-timeout`).
    pub scan: Duration,
    /// Each Kubernetes API request (`--kube-timeout`).
    pub kube_request: Duration,
    /// Each other network call: a Traefik API request, a TLS handshake.
    pub network: Duration,
}

impl LiveTimeouts {
    /// The deadline of a source started at `start`: the earlier of its own
    /// limit and the end of live collection.
    pub fn deadline_from(&self, start: Instant) -> Deadline {
        let own_end = start + self.source;
        let scan_end = start + self.scan;
        if own_end < scan_end {
            Deadline {
                at: own_end,
                limit: format!(
                    "the source timeout of {} s (--source-timeout, timeouts.source)",
                    self.source.as_secs()
                ),
            }
        } else {
            Deadline {
                at: scan_end,
                limit: format!(
                    "the scan timeout of {} s (--scan-timeout, timeouts.scan)",
                    self.scan.as_secs()
                ),
            }
        }
    }
}

impl Default for LiveTimeouts {
    fn default() -> Self {
        LiveTimeouts {
            source: Duration::from_secs(120),
            scan: Duration::from_secs(600),
            kube_request: Duration::from_secs(30),
            network: Duration::from_secs(10),
        }
    }
}

/// When a collector must be done, and which limit set that time (for the
/// gap's reason: the limit as configured, never a measured duration).
#[derive(Debug, Clone)]
pub struct Deadline {
    pub at: Instant,
    /// `the source timeout of 120 s (--source-timeout, timeouts.source)`: named
    /// by both places it can be set (the flag and the config key).
    pub limit: String,
}

impl Deadline {
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The reason of a gap the deadline causes.
    pub fn reason(&self) -> String {
        format!("did not finish within {}", self.limit)
    }
}
