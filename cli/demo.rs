//! The bundled demo: a GitOps repository, a live snapshot and a config,
//! embedded in the binary so `driftaudit scan --demo` runs anywhere.

use std::path::PathBuf;

use driftaudit::diag::{Code, Place};
use driftaudit::model::InputError;
use include_dir::{include_dir, Dir};

static DEMO: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/demo");

/// The demo's fixed scan clock, so its report is the same on every run.
pub const DEMO_CLOCK: &str = "2026-11-22T00:00:00Z";

/// The demo written out to a scratch directory, removed when dropped.
pub struct Demo {
    dir: tempfile::TempDir,
}

impl Demo {
    pub fn extract() -> Result<Demo, InputError> {
        let dir = tempfile::tempdir().map_err(|e| {
            InputError::error(
                Code::Io,
                Place::Argument("--demo".into()),
                format!("cannot create a scratch directory: {e}"),
            )
            .with_source(e)
        })?;
        DEMO.extract(dir.path()).map_err(|e| {
            InputError::error(
                Code::Io,
                Place::Argument("--demo".into()),
                format!("cannot write the demo files: {e}"),
            )
            .with_source(e)
        })?;
        Ok(Demo { dir })
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("driftaudit.yaml")
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn snapshot(&self) -> PathBuf {
        self.dir.path().join("live-snapshot.json")
    }
}
