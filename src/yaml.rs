//! YAML and JSON documents with line numbers: every document keeps the line it
//! starts on, and every field the line it sits on, so drift entries, findings
//! and input errors can point at the exact line (`file:line` in the text and
//! JSON reports). Configuration and baseline files also keep the line, column
//! and length of every key and value ([`SpanMap`]), so a load-time diagnostic
//! can underline the offending text.

use std::borrow::Cow;

use saphyr::{MarkedYaml, Scalar, YamlData, YamlLoader};
use saphyr_parser::Span as MarkedSpan;
use saphyr_parser::{Event, Parser, ScanError, SpannedEventReceiver};
use serde_json::{Map, Number, Value};

use crate::diag::{Code, Diagnostic, Place, Span};

/// Deepest nesting of mappings and sequences accepted in any YAML or JSON
/// input (serde_json's own limit). Kubernetes objects stay far below it; a
/// deeper document is hostile, and walking it would overflow the stack of the
/// worker threads (2 MiB) that parse, compare and evaluate documents.
pub const MAX_DEPTH: usize = 128;

/// One document of a multi-document stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// 1-based line where the document's content starts.
    pub line: u32,
    pub value: Value,
    pub lines: LineMap,
}

/// Field path → 1-based line, sorted by path for lookup.
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    entries: Vec<(String, u32)>,
}

impl LineMap {
    /// A map from (path, line) pairs gathered by another parser (TOML).
    pub fn from_entries(mut entries: Vec<(String, u32)>) -> LineMap {
        entries.sort();
        entries.dedup_by(|a, b| a.0 == b.0);
        LineMap { entries }
    }

    /// The line of `path`, or of its nearest recorded ancestor.
    pub fn line_of(&self, path: &str) -> Option<u32> {
        nearest(&self.entries, path).copied()
    }

    /// The entries below `prefix`, re-rooted (used for `kind: List` items).
    pub fn subtree(&self, prefix: &str) -> LineMap {
        let mut entries = self
            .entries
            .iter()
            .filter_map(|(p, l)| {
                let rest = p.strip_prefix(prefix)?;
                let rest = match rest.strip_prefix('.') {
                    Some(r) => r,
                    None if rest.is_empty() || rest.starts_with('[') => rest,
                    None => return None,
                };
                Some((rest.to_string(), *l))
            })
            .collect::<Vec<_>>();
        entries.sort();
        LineMap { entries }
    }
}

/// The value of `path` in entries sorted by path, or of its nearest ancestor.
fn nearest<'a, T>(entries: &'a [(String, T)], path: &str) -> Option<&'a T> {
    let mut probe = path;
    loop {
        if let Ok(at) = entries.binary_search_by(|(p, _)| p.as_str().cmp(probe)) {
            return Some(&entries[at].1);
        }
        probe = parent_path(probe)?;
    }
}

/// The parent of a dotted path: `a.b[0]` → `a.b`, `a.b` → `a`, `a` → ``.
pub fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    // `a["x.y"]` or `a[0]`: cut at the bracket that opens the last segment.
    let cut = if let Some(quoted) = path.strip_suffix("\"]") {
        quoted.rfind("[\"")?
    } else if path.ends_with(']') {
        path.rfind('[')?
    } else {
        path.rfind('.').unwrap_or(0)
    };
    Some(&path[..cut])
}

/// Appends a map key to a dotted path, quoting keys that are not plain names.
pub fn push_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !key.as_bytes()[0].is_ascii_digit();
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.to_string())),
    }
}

/// Appends a list index to a dotted path.
pub fn push_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// A YAML or JSON syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl SyntaxError {
    /// The diagnostic for this error in `file`.
    pub fn diagnostic(&self, file: &str) -> Diagnostic {
        Diagnostic::error(
            Code::Syntax,
            Place::span(
                file,
                Span {
                    line: self.line,
                    column: self.column,
                    len: 0,
                },
            ),
            format!("YAML syntax error: {}", self.message),
        )
    }
}

/// Parses a (multi-document) YAML or JSON text. Empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, SyntaxError> {
    Ok(documents(text, false)?
        .into_iter()
        .map(|(document, _)| document)
        .collect())
}

/// Like [`parse_documents`], with the span of every key and value of each document.
pub fn parse_spanned(text: &str) -> Result<Vec<(Document, SpanMap)>, SyntaxError> {
    documents(text, true)
}

fn documents(text: &str, spans: bool) -> Result<Vec<(Document, SpanMap)>, SyntaxError> {
    let nodes = load_nodes(text)?;
    let mut documents = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let mut entries = Vec::new();
        let value = convert(node, String::new(), &mut entries)?;
        if value.is_null() {
            continue;
        }
        entries.sort();
        entries.dedup_by(|a, b| a.0 == b.0);
        let mut span_map = SpanMap::default();
        if spans {
            record_spans(node, String::new(), None, &mut span_map.entries);
            span_map.entries.sort_by(|a, b| a.0.cmp(&b.0));
            span_map.entries.dedup_by(|a, b| a.0 == b.0);
        }
        documents.push((
            Document {
                line: node.span.start.line() as u32,
                value,
                lines: LineMap { entries },
            },
            span_map,
        ));
    }
    Ok(documents)
}

/// Where a key and its value sit in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldSpan {
    /// The key of a mapping entry, or the item of a sequence.
    pub key: Span,
    pub value: Span,
}

/// Field path (as in [`LineMap`]) → spans of its key and value.
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    entries: Vec<(String, FieldSpan)>,
}

impl SpanMap {
    /// The spans of `path`, or of its nearest recorded ancestor (the root
    /// document has the path ``).
    pub fn get(&self, path: &str) -> Option<FieldSpan> {
        nearest(&self.entries, path).copied()
    }

    /// Whether `path` itself (not an ancestor) is recorded.
    pub fn contains(&self, path: &str) -> bool {
        self.entries
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .is_ok()
    }
}

fn span_of(marked: &MarkedSpan) -> Span {
    let (start, end) = (marked.start, marked.end);
    Span {
        line: start.line() as u32,
        column: start.col() as u32 + 1,
        // Only text on one line is underlined; a block value is pointed at.
        len: if end.line() == start.line() {
            end.index().saturating_sub(start.index()) as u32
        } else {
            0
        },
    }
}

/// Records the spans of every key and value below `node` (whose key, if it is
/// a mapping value, is `key`). The nesting was bounded when the nodes were built.
fn record_spans(
    node: &MarkedYaml<'_>,
    path: String,
    key: Option<Span>,
    out: &mut Vec<(String, FieldSpan)>,
) {
    let value = span_of(&node.span);
    out.push((
        path.clone(),
        FieldSpan {
            key: key.unwrap_or(value),
            value,
        },
    ));
    match &node.data {
        YamlData::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                record_spans(item, push_index(&path, i), None, out);
            }
        }
        YamlData::Mapping(map) => {
            for (k, v) in map.iter() {
                let text = match &k.data {
                    YamlData::Value(scalar) => scalar_key(scalar),
                    YamlData::Representation(text, _, _) => text.to_string(),
                    _ => continue,
                };
                record_spans(v, push_key(&path, &text), Some(span_of(&k.span)), out);
            }
        }
        YamlData::Tagged(_, inner) => record_spans(inner, path, key, out),
        _ => {}
    }
}

fn scan_error(error: &ScanError) -> SyntaxError {
    SyntaxError {
        line: error.marker().line() as u32,
        column: error.marker().col() as u32 + 1,
        message: error.info().to_string(),
    }
}

/// Builds the node trees from the parser's events, refusing nesting beyond
/// [`MAX_DEPTH`] as soon as it opens. saphyr's own `load` recurses once per
/// level, so the events are pulled here in a loop instead.
fn load_nodes(text: &str) -> Result<Vec<MarkedYaml<'_>>, SyntaxError> {
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    let mut depth = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| scan_error(&e))?;
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SyntaxError {
                        line: span.start.line() as u32,
                        column: span.start.col() as u32 + 1,
                        message: format!(
                            "mappings and sequences nested deeper than {MAX_DEPTH} levels"
                        ),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        loader.on_event(event, span);
        if let Some(error) = loader.error() {
            return Err(scan_error(error));
        }
    }
    Ok(loader.into_documents())
}

fn convert(
    node: &MarkedYaml<'_>,
    path: String,
    lines: &mut Vec<(String, u32)>,
) -> Result<Value, SyntaxError> {
    let line = node.span.start.line() as u32;
    Ok(match &node.data {
        YamlData::Value(Scalar::FloatingPoint(f)) if !f.is_finite() => {
            return Err(SyntaxError {
                line,
                column: node.span.start.col() as u32 + 1,
                message: "number is infinite or NaN (`.inf`, `.nan` or out of range); \
                          Kubernetes rejects it"
                    .into(),
            })
        }
        YamlData::Value(scalar) => scalar_value(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let child = push_index(&path, i);
                lines.push((child.clone(), item.span.start.line() as u32));
                out.push(convert(item, child, lines)?);
            }
            Value::Array(out)
        }
        YamlData::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, value) in map.iter() {
                let key_text = match &key.data {
                    YamlData::Value(scalar) => scalar_key(scalar),
                    YamlData::Representation(text, _, _) => text.to_string(),
                    _ => {
                        return Err(SyntaxError {
                            line: key.span.start.line() as u32,
                            column: key.span.start.col() as u32 + 1,
                            message: "complex mapping keys are not supported".into(),
                        })
                    }
                };
                let child = push_key(&path, &key_text);
                lines.push((child.clone(), key.span.start.line() as u32));
                let converted = convert(value, child, lines)?;
                out.insert(key_text, converted);
            }
            Value::Object(out)
        }
        YamlData::Tagged(_, inner) => convert(inner, path, lines)?,
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(SyntaxError {
                line,
                column: node.span.start.col() as u32 + 1,
                message: "unresolvable alias or invalid value".into(),
            })
        }
    })
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn scalar_key(scalar: &Scalar<'_>) -> String {
    match scalar {
        Scalar::String(s) => s.to_string(),
        Scalar::Null => "null".into(),
        other => match scalar_value(other) {
            Value::String(s) => s,
            v => v.to_string(),
        },
    }
}

/// Renders a JSON value as block YAML, deterministically (for human diffs).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(value, 0, &mut out);
    out
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                out.push_str(&" ".repeat(indent));
                out.push_str(&yaml_scalar_text(&Value::String(key.clone())));
                out.push(':');
                write_child(child, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&" ".repeat(indent));
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key goes on the dash line, the rest aligned under it.
                        let mut nested = String::new();
                        write_yaml(item, indent + 2, &mut nested);
                        out.push(' ');
                        out.push_str(&nested[indent + 2..]);
                    }
                    _ => write_child(item, indent, out),
                }
            }
        }
        scalar => {
            out.push_str(&" ".repeat(indent));
            out.push_str(&yaml_scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn write_child(child: &Value, indent: usize, out: &mut String) {
    match child {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_yaml(child, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml(child, indent + 2, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&yaml_scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn yaml_scalar_text(value: &Value) -> Cow<'static, str> {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Number(n) => n.to_string().into(),
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
                && !s.starts_with(['-', '.', '@'])
                && !looks_typed(s);
            if plain {
                s.clone().into()
            } else {
                Value::String(s.clone()).to_string().into()
            }
        }
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// Whether a plain YAML scalar would read back as something other than a string.
fn looks_typed(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "~"
    ) || s.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_start_line_and_field_lines() {
        let text = "# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n  annotations:\n    example.com/x: y\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 2);
        assert_eq!(docs[1].line, 9);
        assert_eq!(docs[1].lines.line_of("metadata.name"), Some(12));
        assert_eq!(
            docs[1]
                .lines
                .line_of("metadata.annotations[\"example.com/x\"]"),
            Some(14)
        );
        // An unknown field falls back to its nearest known ancestor.
        assert_eq!(docs[1].lines.line_of("metadata.labels.x"), Some(11));
    }

    #[test]
    fn syntax_errors_carry_their_line() {
        let err = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn nesting_beyond_the_limit_is_a_syntax_error_with_its_line() {
        let at_limit = format!("{}x\n", "- ".repeat(MAX_DEPTH));
        assert!(parse_documents(&at_limit).is_ok());
        let text = format!("a: 1\nb:\n  {}x\n", "- ".repeat(MAX_DEPTH * 100));
        let err = parse_documents(&text).unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
        assert!(err.message.contains("nested deeper"), "{err:?}");
    }

    #[test]
    fn non_finite_numbers_are_syntax_errors() {
        for number in ["1e400", ".nan", "-.inf", ".Inf"] {
            let err = parse_documents(&format!("a: 1\nb: {number}\n")).unwrap_err();
            assert_eq!(err.line, 2, "{number}: {err:?}");
        }
    }

    #[test]
    fn json_is_read_with_lines() {
        let docs =
            parse_documents("{\n  \"kind\": \"List\",\n  \"items\": [\n    {\"a\": 1}\n  ]\n}\n")
                .unwrap();
        assert_eq!(docs[0].value["items"][0]["a"], 1);
        assert_eq!(docs[0].lines.line_of("items[0].a"), Some(4));
    }

    #[test]
    fn paths_quote_keys_that_are_not_plain_names() {
        assert_eq!(push_key("", "metadata"), "metadata");
        assert_eq!(push_key("data", "tls.crt"), "data[\"tls.crt\"]");
        assert_eq!(parent_path("data[\"tls.crt\"]"), Some("data"));
        assert_eq!(parent_path("a.b[0]"), Some("a.b"));
        assert_eq!(parent_path("a.b"), Some("a"));
        assert_eq!(parent_path("a"), Some(""));
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "a:\n  bb: \"two weeks\"\n  c: [x, yy]\n";
        let (_, spans) = parse_spanned(text).unwrap().remove(0);
        let bb = spans.get("a.bb").unwrap();
        assert_eq!((bb.key.line, bb.key.column, bb.key.len), (2, 3, 2));
        assert_eq!((bb.value.line, bb.value.column), (2, 7));
        let yy = spans.get("a.c[1]").unwrap();
        assert_eq!((yy.value.line, yy.value.column, yy.value.len), (3, 10, 2));
        // An unknown path falls back to its nearest ancestor.
        assert_eq!(spans.get("a.bb.x"), Some(bb));
        assert!(!spans.contains("a.bb.x"));
    }

    #[test]
    fn yaml_rendering_is_stable_and_readable() {
        let v: Value = serde_json::json!({"a": {"b": [1, {"c": "x", "d": "true"}]}, "e": []});
        assert_eq!(
            to_yaml(&v),
            "a:\n  b:\n    - 1\n    - c: x\n      d: \"true\"\ne: []\n"
        );
    }
}
