//! Logging on standard error through `tracing`: `-v`/`-q` (or `RUST_LOG`,
//! which wins when set) choose what is shown, warnings by default. Standard
//! output carries only reports. Writing to standard error never panics and
//! never fails a scan (closed, full or a broken pipe: the line is dropped).
//! On a terminal, the progress layer (`progress.rs`) draws spinners, and log
//! lines are written around them.

use std::io::{self, IsTerminal, Write};

use indicatif::MultiProgress;
use tracing::Level;
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
use tracing_subscriber::fmt::time::Uptime;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

use crate::progress::{ProgressLayer, TARGET};

/// What the command line asked for: `-v` counted, or `-q`.
#[derive(Clone, Copy, Debug)]
pub struct Verbosity {
    pub verbose: u8,
    pub quiet: bool,
}

impl Verbosity {
    /// The filter when `RUST_LOG` is not set: warnings (and errors) by default,
    /// errors only with `-q`; `-v`, `-vv`, `-vvv` open driftaudit's own events
    /// (info, debug, trace), never the libraries' (their debug output can hold
    /// request details).
    pub fn directives(self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "warn,driftaudit=info",
            (false, 2) => "warn,driftaudit=debug",
            (false, _) => "warn,driftaudit=trace",
        }
    }
}

/// Installs the global subscriber: log lines on standard error, and the
/// progress spinners when standard error is a terminal and `-q` is not given.
pub fn init(verbosity: Verbosity) {
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|text| !text.trim().is_empty());
    let (filter, rejected) = match rust_log.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(error)) => (EnvFilter::new(verbosity.directives()), Some(error)),
        None => (EnvFilter::new(verbosity.directives()), None),
    };
    // Times since start on every line once the user asked for detail: the
    // gaps between lines are what each step took.
    let detailed = verbosity.verbose > 0 || rust_log.is_some();
    let progress = (!verbosity.quiet && io::stderr().is_terminal()).then(ProgressLayer::stderr);
    let writer = StderrLines {
        around: progress.as_ref().map(ProgressLayer::multi),
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .log_internal_errors(false);
    // The libraries' debug and trace events are never shown, whatever
    // RUST_LOG says: they can hold request details a hostile server echoed
    // back (kube-client logs an error Status's message, which may carry the
    // bearer token, at debug).
    let filter = filter.and(filter_fn(|metadata| {
        metadata.target().starts_with("driftaudit") || *metadata.level() <= Level::INFO
    }));
    let lines: Box<dyn Layer<Registry> + Send + Sync> = if detailed {
        lines
            .with_timer(Uptime::default())
            .with_filter(filter)
            .boxed()
    } else {
        lines.without_time().with_filter(filter).boxed()
    };
    let progress = progress.map(|layer| {
        layer
            .with_filter(filter_fn(|metadata| metadata.target() == TARGET))
            .boxed()
    });
    let subscriber = tracing_subscriber::registry().with(lines).with(progress);
    // Fails only when a subscriber is already set: keep that one.
    let _ = tracing::subscriber::set_global_default(subscriber);
    if let Some(error) = rejected {
        tracing::warn!("RUST_LOG ignored, it is not a valid filter: {error}");
    }
}

/// Log lines to standard error, written around the progress spinners.
struct StderrLines {
    around: Option<MultiProgress>,
}

impl<'a> MakeWriter<'a> for StderrLines {
    type Writer = StderrLine<'a>;

    fn make_writer(&'a self) -> StderrLine<'a> {
        StderrLine(self.around.as_ref())
    }
}

struct StderrLine<'a>(Option<&'a MultiProgress>);

impl Write for StderrLine<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        // A log line that cannot be written is dropped: the report and the exit
        // code are the result, not the log.
        let put = || {
            let _ = io::stderr().lock().write_all(line);
        };
        match self.0 {
            Some(multi) => multi.suspend(put),
            None => put(),
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Verbosity;

    #[test]
    fn verbosity_opens_only_driftaudit_events() {
        let level = |verbose, quiet| Verbosity { verbose, quiet }.directives();
        assert_eq!(level(0, false), "warn");
        assert_eq!(level(1, false), "warn,driftaudit=info");
        assert_eq!(level(2, false), "warn,driftaudit=debug");
        assert_eq!(level(3, false), "warn,driftaudit=trace");
        assert_eq!(level(7, false), "warn,driftaudit=trace");
        assert_eq!(level(0, true), "error");
    }
}
