//! The progress indicator: a `tracing` layer that turns the
//! `driftaudit::progress` events (a `start` and a `done` per unit of work: a
//! live source, the declared repository, policy evaluation) into one spinner
//! per unit while it runs. Installed only when standard error is a terminal
//! (and not with `-q`), so nothing changes for pipes, files and CI logs.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// The target the pipeline's progress events use (contract in
/// docs/architecture.md and the coordination notes).
pub const TARGET: &str = "driftaudit::progress";

/// Spinners for the units of work in flight, drawn by one `MultiProgress`.
pub struct ProgressLayer {
    multi: MultiProgress,
    running: Mutex<HashMap<String, ProgressBar>>,
    tick: Option<Duration>,
}

impl ProgressLayer {
    /// Spinners drawn on standard error, ticking on their own.
    pub fn stderr() -> ProgressLayer {
        ProgressLayer::new(
            ProgressDrawTarget::stderr(),
            Some(Duration::from_millis(120)),
        )
    }

    /// Spinners drawn on `target`; `tick` makes them turn between events.
    pub fn new(target: ProgressDrawTarget, tick: Option<Duration>) -> ProgressLayer {
        ProgressLayer {
            multi: MultiProgress::with_draw_target(target),
            running: Mutex::new(HashMap::new()),
            tick,
        }
    }

    /// The bars' owner: log lines are written through its `suspend`, so they
    /// do not tear a spinner apart.
    pub fn multi(&self) -> MultiProgress {
        self.multi.clone()
    }

    fn start(&self, what: String) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(what.clone());
        match self.tick {
            Some(every) => bar.enable_steady_tick(every),
            None => bar.tick(),
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(previous) = running.insert(what, bar) {
            previous.finish_and_clear();
            self.multi.remove(&previous);
        }
    }

    fn done(&self, what: &str) {
        let bar = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(what);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    /// The units of work whose spinner is shown, sorted.
    #[cfg(test)]
    fn shown(&self) -> Vec<String> {
        let mut names: Vec<String> = self.running.lock().unwrap().keys().cloned().collect();
        names.sort();
        names
    }
}

/// The fields of a progress event.
#[derive(Default)]
struct Progress {
    event: Option<String>,
    what: Option<String>,
}

impl Visit for Progress {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl Progress {
    fn record(&mut self, field: &Field, value: String) {
        match field.name() {
            "event" => self.event = Some(value),
            "what" => self.what = Some(value),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for ProgressLayer {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut progress = Progress::default();
        event.record(&mut progress);
        let Some(what) = progress.what else { return };
        match progress.event.as_deref() {
            Some("start") => self.start(what),
            Some("done") => self.done(&what),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Arc;

    use indicatif::TermLike;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// A terminal that keeps what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn text(&self) -> String {
            self.0.lock().unwrap().clone()
        }
        fn put(&self, text: &str) -> io::Result<()> {
            self.0.lock().unwrap().push_str(text);
            Ok(())
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            self.put(&format!("<up {n}>"))
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            self.put(&format!("<down {n}>"))
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.put(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.put(s)
        }
        fn clear_line(&self) -> io::Result<()> {
            self.put("<clear>")
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The layer, kept by the test too, to look at its spinners.
    struct Shared(Arc<ProgressLayer>);

    impl<S: Subscriber> Layer<S> for Shared {
        fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
            Layer::<S>::on_event(&*self.0, event, context);
        }
    }

    #[test]
    fn progress_events_drive_one_spinner_per_unit_of_work() {
        let screen = Screen::default();
        let layer = Arc::new(ProgressLayer::new(
            ProgressDrawTarget::term_like_with_hz(Box::new(screen.clone()), 100),
            None,
        ));
        let subscriber = tracing_subscriber::registry().with(Shared(Arc::clone(&layer)));
        tracing::subscriber::with_default(subscriber, || {
            let label = "kubernetes prod-cluster";
            tracing::info!(target: "driftaudit::progress", event = "start", what = %label);
            tracing::info!(target: "driftaudit::progress", event = "start", what = "policies");
            assert_eq!(layer.shown(), ["kubernetes prod-cluster", "policies"]);
            // Other targets, and progress events without a unit, are not progress.
            tracing::info!(event = "start", what = "not progress");
            tracing::info!(target: "driftaudit::progress", event = "start");
            assert_eq!(layer.shown().len(), 2);
            tracing::info!(target: "driftaudit::progress", event = "done", what = %label, objects = 5000);
            assert_eq!(layer.shown(), ["policies"]);
            tracing::info!(target: "driftaudit::progress", event = "done", what = "policies", objects = 12);
            assert!(layer.shown().is_empty());
        });
        let drawn = screen.text();
        assert!(drawn.contains("kubernetes prod-cluster"), "{drawn:?}");
        assert!(!drawn.contains("not progress"), "{drawn:?}");
        assert!(drawn.contains("policies"), "{drawn:?}");
        // Finished spinners are wiped, not left behind: nothing is drawn after
        // the last line was cleared.
        let after_last_clear = drawn.rsplit("<clear>").next().unwrap();
        assert!(
            !after_last_clear.contains("policies") && !after_last_clear.contains("kubernetes"),
            "{drawn:?}"
        );
    }
}
