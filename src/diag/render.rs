//! The one renderer of diagnostics for people, in the style of rustc and
//! cargo-deny (through `annotate-snippets`, the crate rustc itself renders
//! with): code and message, then the place, then the offending line of the
//! file with the offending text underlined, then notes and help. Every piece of
//! untrusted text (paths, messages, the file's line) is made printable first.

use std::borrow::Cow;

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::{Diagnostic, Place};
use crate::printable::printable;

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colours (only for a terminal that wants them).
    pub color: bool,
}

/// Renders a diagnostic, reading the offending line from its file when the
/// place has a line and the file can be read.
pub fn render(diagnostic: &Diagnostic, options: &RenderOptions) -> String {
    let source = match &diagnostic.location {
        Place::File {
            path,
            line: Some(_),
            ..
        } if !diagnostic.line_hidden() => std::fs::read_to_string(path).ok(),
        _ => None,
    };
    render_with_source(diagnostic, source.as_deref(), options)
}

/// Renders a diagnostic with the text of its file given (`None`: no line shown).
pub fn render_with_source(
    diagnostic: &Diagnostic,
    source: Option<&str>,
    options: &RenderOptions,
) -> String {
    let source = source.filter(|_| !diagnostic.line_hidden());
    // A file is named on its own ` --> ` line; any other place leads the message.
    let message = match &diagnostic.location {
        Place::File { .. } => printable(&diagnostic.message).into_owned(),
        other => format!(
            "{}: {}",
            printable(&other.to_string()),
            printable(&diagnostic.message)
        ),
    };
    let title = Level::ERROR
        .primary_title(message)
        .id(diagnostic.code.as_str());
    let label = diagnostic.label().map(printable);
    let mut group: Group<'_> = match (&diagnostic.location, source) {
        (
            Place::File {
                path,
                line: Some(line),
                column,
                len,
            },
            Some(text),
        ) => match snippet_line(text, *line, column.unwrap_or(0), *len) {
            Some((shown, range)) => {
                let annotation = AnnotationKind::Primary.span(range);
                let annotation = match label {
                    Some(label) => annotation.label(label),
                    None => annotation,
                };
                title.element(
                    Snippet::source(shown)
                        .line_start(*line as usize)
                        .path(printable(path).into_owned())
                        .annotation(annotation),
                )
            }
            None => title.element(origin(&diagnostic.location)),
        },
        (Place::File { .. }, _) => title.element(origin(&diagnostic.location)),
        _ => Group::with_title(title),
    };
    for note in diagnostic.notes() {
        group = group.element(Level::NOTE.message(printable(note)));
    }
    if let Some(help) = diagnostic.help() {
        group = group.element(Level::HELP.message(printable(help)));
    }
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = renderer.decor_style(DecorStyle::Ascii).render(&[group]);
    out.push('\n');
    out
}

/// The ` --> file:line:column` line for a diagnostic whose line is not shown.
fn origin<'a>(place: &Place) -> Origin<'a> {
    match place {
        Place::File {
            path,
            line: Some(line),
            column,
            ..
        } => {
            let origin = Origin::path(printable(path).into_owned()).line(*line as usize);
            match column {
                Some(column) => origin.char_column(*column as usize),
                None => origin,
            }
        }
        other => Origin::path(printable(&other.to_string()).into_owned()),
    }
}

/// Line `line` of `text`, made printable, and the byte range of the `len`
/// characters from `column` (1-based; 0: the whole line) within it.
fn snippet_line(
    text: &str,
    line: u32,
    column: u32,
    len: u32,
) -> Option<(String, std::ops::Range<usize>)> {
    let raw = text.lines().nth((line as usize).checked_sub(1)?)?;
    let shown = printable(raw).into_owned();
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    if column == 0 || column as usize > chars.len() + 1 {
        // No column: underline the line's text, without its indentation.
        let start = shown.len() - shown.trim_start().len();
        let end = shown.trim_end().len().max(start);
        return Some((shown, start..end));
    }
    let byte_at = |index: usize| chars.get(index).map_or(raw.len(), |(at, _)| *at);
    let start_char = column as usize - 1;
    let end_char = (start_char + len as usize).min(chars.len());
    // Offsets in the printable line: the printable form of what precedes.
    let start = printable_len(&raw[..byte_at(start_char)]);
    let end = printable_len(&raw[..byte_at(end_char)]).max(start);
    Some((shown, start..end))
}

fn printable_len(text: &str) -> usize {
    match printable(text) {
        Cow::Borrowed(t) => t.len(),
        Cow::Owned(t) => t.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Span};

    #[test]
    fn a_file_diagnostic_shows_its_line_and_underlines_the_span() {
        let diagnostic = Diagnostic::error(
            Code::ConfigUnknownKey,
            Place::span(
                "driftaudit.yaml",
                Span {
                    line: 2,
                    column: 3,
                    len: 4,
                },
            ),
            "unknown key `stri`",
        )
        .with_label("not a key of `drift`")
        .with_help("did you mean `strict`?");
        let out = render_with_source(
            &diagnostic,
            Some("drift:\n  stri: true\n"),
            &RenderOptions::default(),
        );
        assert_eq!(
            out,
            "error[DA-E101]: unknown key `stri`\n --> driftaudit.yaml:2:3\n  |\n2 |   stri: true\n  |   ^^^^ not a key of `drift`\n  |\n  = help: did you mean `strict`?\n"
        );
    }

    #[test]
    fn other_places_are_named_without_a_snippet() {
        let diagnostic = Diagnostic::error(
            Code::Input,
            Place::Argument("--now".into()),
            "`x` is not a time",
        );
        let out = render(&diagnostic, &RenderOptions::default());
        assert_eq!(out, "error[DA-E001]: --now: `x` is not a time\n");
    }

    #[test]
    fn colour_is_only_what_the_renderer_adds() {
        let diagnostic = Diagnostic::error(
            Code::Syntax,
            Place::span(
                "a.yaml",
                Span {
                    line: 1,
                    column: 1,
                    len: 1,
                },
            ),
            "bad",
        );
        let plain = render_with_source(&diagnostic, Some("x\n"), &RenderOptions::default());
        let coloured = render_with_source(&diagnostic, Some("x\n"), &RenderOptions { color: true });
        assert!(!plain.contains('\u{1b}'));
        assert!(coloured.contains('\u{1b}'));
        assert!(coloured.contains("bad") && coloured.contains("a.yaml"));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let diagnostic = Diagnostic::error(
            Code::Syntax,
            Place::span(
                "a\u{1b}[31m.yaml",
                Span {
                    line: 1,
                    column: 4,
                    len: 1,
                },
            ),
            "bad\nvalue",
        );
        let out = render_with_source(&diagnostic, Some("a\u{1b}: [\n"), &RenderOptions::default());
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(out.contains("bad\\nvalue"), "{out}");
    }
}
