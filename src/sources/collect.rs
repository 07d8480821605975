//! The live collection runner. Each live source is a `Collector`; this runs
//! them all concurrently on one async runtime and returns their targets in
//! the order the sources were given. A collector never fails the whole scan:
//! what it cannot read becomes a gap, reported and counted (exit 3).
//!
//! Every collector runs under a deadline: the earlier of its own
//! (`--source-timeout`) and the end of live collection (`--scan-timeout`).
//! Collectors stop themselves at it where they can (between pages, between
//! LISTs, during a TLS handshake); a collector still running shortly after it
//! is abandoned and its whole target becomes a coverage gap, so no source can
//! hold the scan and the rest of the report is still written.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};

use crate::diag::{Code, Place};
use crate::model::{CoverageGap, Deadline, InputError, Inventory, LiveTarget, LiveTimeouts};

/// What the declared side asks live collection to read: collectors that
/// read selectively (Kubernetes LISTs) derive their plan from it.
#[derive(Debug, Clone, Copy)]
pub struct LiveScope<'a> {
    pub declared: &'a Inventory,
    /// Namespaces whose every object is managed (see `drift::managed_namespaces`).
    pub managed_namespaces: &'a BTreeSet<String>,
    /// `apiVersion/Kind` searched for unmanaged objects besides the declared kinds.
    pub orphan_kinds: &'a [String],
    /// Label selector of objects that are managed wherever they are.
    pub managed_selector: Option<&'a str>,
}

/// What one collector returns: its targets, and input errors that do not
/// stop the others (an unreadable snapshot).
#[derive(Debug, Default)]
pub struct Collected {
    pub targets: Vec<LiveTarget>,
    pub errors: Vec<InputError>,
}

impl From<Vec<LiveTarget>> for Collected {
    fn from(targets: Vec<LiveTarget>) -> Self {
        Collected {
            targets,
            errors: Vec::new(),
        }
    }
}

/// One live source: a cluster (or several contexts), a Traefik API, a set of
/// TLS endpoints, a PostgreSQL server, a pgBackRest stanza, a snapshot file.
pub trait Collector: fmt::Debug + Send + Sync {
    /// How progress and logs name it (`kubernetes current-context`).
    fn label(&self) -> String;

    /// Whether the deadline applies: a local file is read whatever the clock says.
    fn bounded(&self) -> bool {
        true
    }

    /// Reads the source. Whatever the future needs from `scope` is taken
    /// before it is returned; blocking work runs inside it through
    /// `tokio::task::spawn_blocking`, so it never holds a runtime worker.
    fn collect(&self, scope: &LiveScope<'_>, deadline: Deadline) -> BoxFuture<'static, Collected>;

    /// The targets of the source when it was not read (or not to its end):
    /// each with gaps covering the whole of it, for `reason`.
    fn unread(&self, reason: &str) -> Vec<LiveTarget>;
}

/// A live source as scan options hold it.
pub type LiveSource = Arc<dyn Collector>;

/// The command-line flags of one source (a `clap::Args` group flattened
/// into the scan arguments): whether any is given, and the collectors they ask for.
pub trait SourceArgs {
    /// Whether the flags ask for this source at all.
    fn given(&self) -> bool;

    /// The live sources the flags ask for, with the scan's limits.
    fn collectors(&self, limits: &LiveTimeouts) -> Result<Vec<LiveSource>, InputError>;
}

/// How long an abandoned collector gets past its deadline to report its own,
/// more precise gaps first.
const GRACE: Duration = Duration::from_millis(1500);

/// Reads every live source concurrently, each under its deadline. Input
/// errors (an unreadable snapshot) are returned beside the targets.
pub fn collect_live(
    sources: &[LiveSource],
    scope: &LiveScope<'_>,
    timeouts: &LiveTimeouts,
) -> (Vec<LiveTarget>, Vec<InputError>) {
    if sources.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return (Vec::new(), vec![error]),
    };
    let start = Instant::now();
    let deadline = timeouts.deadline_from(start);
    let runs: Vec<_> = sources
        .iter()
        .map(|source| {
            let label = source.label();
            tracing::info!(target: "driftaudit::progress", event = "start", what = %label);
            let task = runtime.spawn(source.collect(scope, deadline.clone()));
            let limit = source.bounded().then(|| deadline.clone());
            let source = Arc::clone(source);
            async move {
                let begun = Instant::now();
                let outcome = match &limit {
                    Some(deadline) => {
                        tokio::time::timeout(deadline.remaining() + GRACE, task)
                            .await
                            .map_err(|_| "abandoned past its deadline")
                    }
                    None => Ok(task.await),
                };
                let collected = match outcome {
                    Ok(Ok(collected)) => collected,
                    Ok(Err(_panicked)) => {
                        tracing::debug!(source = %label, "collector stopped without a result");
                        Collected::from(source.unread(&deadline_reason(&limit)))
                    }
                    Err(why) => {
                        tracing::debug!(source = %label, "collector {why}");
                        Collected::from(source.unread(&deadline_reason(&limit)))
                    }
                };
                for gap in collected.targets.iter().flat_map(|t| &t.coverage) {
                    tracing::debug!(
                        source = %label,
                        scope = %gap.scope,
                        reason = %gap.reason,
                        "not read"
                    );
                }
                let objects: usize = collected.targets.iter().map(|t| t.inventory.len()).sum();
                let gaps: usize = collected.targets.iter().map(|t| t.coverage.len()).sum();
                tracing::debug!(
                    source = %label,
                    targets = collected.targets.len(),
                    objects,
                    gaps,
                    errors = collected.errors.len(),
                    elapsed_ms = begun.elapsed().as_millis() as u64,
                    "collected"
                );
                tracing::info!(target: "driftaudit::progress", event = "done", what = %label, objects);
                collected
            }
        })
        .collect();
    let results = runtime.block_on(futures::future::join_all(runs));
    // Abandoned blocking collectors are left behind: the process exits after the report.
    runtime.shutdown_background();
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for collected in results {
        targets.extend(collected.targets);
        errors.extend(collected.errors);
    }
    (targets, errors)
}

fn deadline_reason(limit: &Option<Deadline>) -> String {
    match limit {
        Some(deadline) => deadline.reason(),
        None => "did not finish".into(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, InputError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            InputError::error(
                Code::Input,
                Place::Text("runtime".into()),
                format!("cannot start the async runtime: {e}"),
            )
            .with_source(e)
        })
}

/// Runs blocking collector work off the runtime's workers. A panic in it
/// goes on to the collector's task: the runner makes the source unread.
pub async fn blocking<T, F>(work: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Only at runtime shutdown, when nobody waits for the result.
        Err(_) => std::future::pending().await,
    }
}

/// The future of a collector whose blocking work gives one target.
pub fn blocking_target<F>(work: F) -> BoxFuture<'static, Collected>
where
    F: FnOnce() -> LiveTarget + Send + 'static,
{
    async move { Collected::from(vec![blocking(work).await]) }.boxed()
}

/// A gap covering one whole source of a target, for `Collector::unread`.
pub fn unread_target(
    name: String,
    source: crate::model::Source,
    scope: String,
    endpoint: String,
    reason: &str,
) -> LiveTarget {
    LiveTarget {
        coverage: vec![CoverageGap {
            source,
            target: name.clone(),
            scope,
            reason: reason.to_string(),
            endpoint,
            kind: None,
        }],
        name,
        sources: vec![source],
        ..LiveTarget::default()
    }
}

/// All coverage gaps of the targets, for the report.
pub fn coverage_of(targets: &[LiveTarget]) -> Vec<CoverageGap> {
    targets
        .iter()
        .flat_map(|t| t.coverage.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;

    /// A collector that answers after `delay`, blocking a thread meanwhile.
    #[derive(Debug)]
    struct Slow {
        name: &'static str,
        delay: Duration,
    }

    impl Collector for Slow {
        fn label(&self) -> String {
            self.name.into()
        }

        fn collect(
            &self,
            _scope: &LiveScope<'_>,
            _deadline: Deadline,
        ) -> BoxFuture<'static, Collected> {
            let (name, delay) = (self.name, self.delay);
            blocking_target(move || {
                std::thread::sleep(delay);
                LiveTarget {
                    name: name.into(),
                    sources: vec![Source::Traefik],
                    ..LiveTarget::default()
                }
            })
        }

        fn unread(&self, reason: &str) -> Vec<LiveTarget> {
            vec![unread_target(
                self.name.into(),
                Source::Traefik,
                "everything".into(),
                String::new(),
                reason,
            )]
        }
    }

    #[test]
    fn collectors_run_together_in_order_and_a_hung_one_is_abandoned() {
        let sources: Vec<LiveSource> = vec![
            Arc::new(Slow {
                name: "hung",
                delay: Duration::from_secs(60),
            }),
            Arc::new(Slow {
                name: "quick",
                delay: Duration::from_millis(700),
            }),
            Arc::new(Slow {
                name: "second",
                delay: Duration::from_millis(700),
            }),
        ];
        let declared = Inventory::default();
        let managed = BTreeSet::new();
        let scope = LiveScope {
            declared: &declared,
            managed_namespaces: &managed,
            orphan_kinds: &[],
            managed_selector: None,
        };
        let timeouts = LiveTimeouts {
            source: Duration::from_secs(1),
            ..LiveTimeouts::default()
        };
        let started = Instant::now();
        let (targets, errors) = collect_live(&sources, &scope, &timeouts);
        let took = started.elapsed();
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["hung", "quick", "second"]);
        assert_eq!(
            targets[0].coverage[0].reason,
            "did not finish within the source timeout of 1 s (--source-timeout, timeouts.source)"
        );
        assert!(targets[1].coverage.is_empty() && targets[2].coverage.is_empty());
        // One second of deadline plus the grace: the hung thread is waited
        // for neither then nor at the runtime's shutdown.
        assert!(took < Duration::from_secs(4), "took {took:?}");
    }
}
