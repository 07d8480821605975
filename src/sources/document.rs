//! driftaudit's own declared documents (`apiVersion: driftaudit.io/v1`):
//! where one sits in the repository, and what a source's reader of such a
//! document gets and returns. The sources register the kinds they read in
//! `sources::registry`.

use std::sync::Arc;

use serde_json::Value;

use crate::diag::{Code, Place};
use crate::model::{InputError, Origin, Resource};
use crate::yaml::LineMap;

/// Reads one document of a registered kind: the resources it declares, and
/// its wrong items with their line (the others are kept).
pub type DocumentReader = fn(&Value, &DocumentPlace) -> (Vec<Resource>, Vec<InputError>);

/// Where the document came from, for origins and errors.
pub struct DocumentPlace<'a> {
    pub file: &'a str,
    pub line: u32,
    pub commit: Option<&'a str>,
    pub lines: &'a LineMap,
}

impl DocumentPlace<'_> {
    pub fn line_of(&self, path: &str) -> u32 {
        self.lines.line_of(path).unwrap_or(self.line)
    }

    pub fn error(&self, path: &str, message: impl Into<String>) -> InputError {
        let at = if path.is_empty() {
            self.line
        } else {
            self.line_of(path)
        };
        let message = message.into();
        let message = if path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        };
        InputError::error(
            Code::InvalidDeclaredItem,
            Place::line(self.file, at),
            message,
        )
    }

    pub fn origin(&self, path: &str) -> Origin {
        Origin::Declared {
            file: self.file.to_string(),
            line: self.line_of(path),
            commit: self.commit.map(str::to_string),
        }
    }

    pub fn lines_below(&self, path: &str) -> Option<Arc<LineMap>> {
        Some(Arc::new(self.lines.subtree(path)))
    }
}
