//! YAML and JSON documents with line numbers: every document keeps the line it
//! starts on, and every field the line it sits on, so drift entries, findings
//! and input errors can point at the exact line (`file:line` in the text and
//! JSON reports). Configuration and baseline files also keep the line, column
//! and length of every key and value ([`SpanMap`]), so a load-time diagnostic
//! can underline the offending text.

use std::borrow::Cow;

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
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

    /// With the entries below `from` also recorded below `to`, where `to`
    /// has no entry of its own (a Secret's `stringData` read as `data`).
    pub fn with_alias(&self, from: &str, to: &str) -> LineMap {
        let mut entries = self.entries.clone();
        for (path, line) in &self.entries {
            let Some(rest) = path.strip_prefix(from) else {
                continue;
            };
            if rest.starts_with(['.', '[']) {
                let aliased = format!("{to}{rest}");
                let known = self
                    .entries
                    .binary_search_by(|(p, _)| p.as_str().cmp(&aliased))
                    .is_ok();
                if !known {
                    entries.push((aliased, *line));
                }
            }
        }
        LineMap::from_entries(entries)
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

/// The value at `path` (as [`push_key`] and [`push_index`] write it:
/// `spec.containers[0].image`, `data["tls.crt"]`) in `value`; `None` when
/// the path is malformed or leads nowhere.
pub fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix('[') {
            if tail.starts_with('"') {
                // A JSON string key: read it with the JSON reader, then `]`.
                let mut stream = serde_json::Deserializer::from_str(tail).into_iter::<String>();
                let key = stream.next()?.ok()?;
                let after = &tail[stream.byte_offset()..];
                rest = after.strip_prefix(']')?;
                current = current.as_object()?.get(&key)?;
            } else {
                let end = tail.find(']')?;
                let index: usize = tail[..end].parse().ok()?;
                current = current.as_array()?.get(index)?;
                rest = &tail[end + 1..];
            }
        } else {
            let tail = rest.strip_prefix('.').unwrap_or(rest);
            let end = tail.find(['.', '[']).unwrap_or(tail.len());
            if end == 0 {
                return None;
            }
            current = current.as_object()?.get(&tail[..end])?;
            rest = &tail[end..];
        }
    }
    Some(current)
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

/// Parses a (multi-document) YAML or JSON text the way Kubernetes' decoder
/// reads it (see [the module's reading rules](self#reading-rules)). Empty
/// documents are dropped. The first broken document is the error.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, SyntaxError> {
    let (documents, mut errors) = parse_documents_lenient(text);
    if errors.is_empty() {
        Ok(documents)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// Like [`parse_documents`], but every document that parses is kept beside
/// the errors of those that do not (in line order).
pub fn parse_documents_lenient(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    let (documents, errors) = documents(text, false, Schema::Kubernetes);
    (
        documents
            .into_iter()
            .map(|(document, _)| document)
            .collect(),
        errors,
    )
}

/// Parses driftaudit's own files (configuration, baselines) with the span of
/// every key and value of each document. Plain scalars follow the YAML 1.2
/// core schema (`on`, `yes`, `0755` stay what YAML 1.2 says), everything else
/// (document separators, merge keys, duplicate keys) is read as in
/// [`parse_documents`].
pub fn parse_spanned(text: &str) -> Result<Vec<(Document, SpanMap)>, SyntaxError> {
    let (documents, mut errors) = documents(text, true, Schema::Core);
    if errors.is_empty() {
        Ok(documents)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// How untagged plain scalars are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Schema {
    /// go-yaml v2 (YAML 1.1), as Kubernetes' decoder reads manifests.
    #[default]
    Kubernetes,
    /// The YAML 1.2 core schema.
    Core,
}

fn documents(
    text: &str,
    spans: bool,
    schema: Schema,
) -> (Vec<(Document, SpanMap)>, Vec<SyntaxError>) {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for chunk in chunks(text) {
        let parsed = match chunk.separator_error {
            Some(error) => Err(error),
            None => read_chunk(chunk.text, chunk.first_line, spans, schema),
        };
        match parsed {
            Ok(Some(document)) => documents.push(document),
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    (documents, errors)
}

/// The document of one chunk, or `None` when it is empty.
fn read_chunk(
    text: &str,
    first_line: u32,
    spans: bool,
    schema: Schema,
) -> Result<Option<(Document, SpanMap)>, SyntaxError> {
    let mut fixed: Option<String> = None;
    loop {
        let current = fixed.as_deref().unwrap_or(text);
        let error = match compose(current, first_line) {
            Ok(Some(root)) => return document(&root, spans, schema),
            Ok(None) => return Ok(None),
            Err(error) => error,
        };
        // libyaml (kubectl) accepts the continuation lines of a quoted
        // scalar at any indentation, saphyr only deeper than their block.
        // Their leading blanks are folded away, so indenting them changes
        // nothing but the parser's verdict.
        let reindented = error
            .message
            .contains("invalid indentation in quoted scalar")
            .then(|| reindent_quoted(current, error.line - first_line, error.column - 1))
            .flatten();
        match reindented {
            Some(text) => fixed = Some(text),
            None => return Err(error),
        }
    }
}

/// `text` with the continuation lines of the quoted scalar opening at
/// (`line`, `column`) (0-based) indented past it, or `None` when there is
/// nothing to change.
fn reindent_quoted(text: &str, line: u32, column: u32) -> Option<String> {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let opening = lines.get(line as usize)?;
    let (offset, quote) = opening.char_indices().nth(column as usize)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let indent = " ".repeat(column as usize + 1);
    // Find the closing quote, line by line.
    let mut rest = &opening[offset + 1..];
    let mut changed = Vec::new();
    let mut index = line as usize;
    loop {
        let mut chars = rest.char_indices().peekable();
        let mut closed = false;
        while let Some((_, c)) = chars.next() {
            match (quote, c) {
                ('"', '\\') => {
                    chars.next();
                }
                ('"', '"') => closed = true,
                ('\'', '\'') if chars.peek().map(|p| p.1) == Some('\'') => {
                    chars.next();
                }
                ('\'', '\'') => closed = true,
                _ => {}
            }
            if closed {
                break;
            }
        }
        if closed {
            break;
        }
        index += 1;
        let next = lines.get(index)?;
        let content = next.trim_start_matches([' ', '\t']);
        if !content.trim().is_empty() && next.len() - content.len() <= column as usize {
            changed.push(index);
        }
        rest = next;
    }
    if changed.is_empty() {
        return None;
    }
    let owned: Vec<String> = changed
        .iter()
        .map(|&i| format!("{indent}{}", lines[i].trim_start_matches([' ', '\t'])))
        .collect();
    for (i, line) in changed.iter().zip(&owned) {
        lines[*i] = line;
    }
    Some(lines.concat())
}

/// Whether a document's root mapping says `apiVersion: driftaudit.io/...`.
fn driftaudit_object(root: &Node<'_>) -> bool {
    let Kind::Mapping(pairs) = &root.kind else {
        return false;
    };
    let text = |node: &Node<'_>| match &node.target().kind {
        Kind::Scalar { text, .. } => Some(text.to_string()),
        _ => None,
    };
    pairs.iter().any(|(key, value)| {
        text(key).as_deref() == Some("apiVersion")
            && text(value).is_some_and(|v| v.starts_with("driftaudit.io/"))
    })
}

/// The document of one node tree, or `None` when it is null (empty).
fn document(
    root: &Node<'_>,
    spans: bool,
    schema: Schema,
) -> Result<Option<(Document, SpanMap)>, SyntaxError> {
    // driftaudit's own objects (`apiVersion: driftaudit.io/...`, e.g. a
    // PostgresBaseline in the repository) are read as its own files are.
    let schema = if schema == Schema::Kubernetes && driftaudit_object(root) {
        Schema::Core
    } else {
        schema
    };
    let mut converter = Converter {
        schema,
        ..Converter::default()
    };
    let value = converter.value(root, String::new(), 0)?;
    if value.is_null() {
        return Ok(None);
    }
    // A key set twice (by a merge, then explicitly) keeps the line of the
    // value that won: the one recorded last.
    let mut entries = converter.lines;
    entries.reverse();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut span_map = SpanMap::default();
    if spans {
        record_spans(
            root,
            String::new(),
            None,
            &mut span_map.entries,
            (0, schema),
        );
        span_map.entries.sort_by(|a, b| a.0.cmp(&b.0));
        span_map.entries.dedup_by(|a, b| a.0 == b.0);
    }
    Ok(Some((
        Document {
            line: root.start.line,
            value,
            lines: LineMap { entries },
        },
        span_map,
    )))
}

/// One document's text as kubectl cuts the stream: at every line that starts
/// with `---` followed by nothing but blanks or a comment.
struct Chunk<'a> {
    text: &'a str,
    /// 1-based line of the chunk's first line in the whole text.
    first_line: u32,
    /// A `---` line followed by content, which kubectl refuses.
    separator_error: Option<SyntaxError>,
}

fn chunks(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut first_line = 1u32;
    let mut separator_error = None;
    let mut offset = 0usize;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index as u32 + 1;
        let line_start = offset;
        offset += line.len();
        let Some(rest) = line.strip_prefix("---") else {
            continue;
        };
        let rest = rest.trim();
        chunks.push(Chunk {
            text: &text[start..line_start],
            first_line,
            separator_error: separator_error.take(),
        });
        start = offset;
        first_line = number + 1;
        if !rest.is_empty() && !rest.starts_with('#') {
            separator_error = Some(SyntaxError {
                line: number,
                column: 4,
                message: format!(
                    "invalid document separator `---{}`: kubectl accepts only a comment after \
                     `---` on its line; put the content on the next line",
                    line[3..].trim_end()
                ),
            });
        }
    }
    chunks.push(Chunk {
        text: &text[start..],
        first_line,
        separator_error,
    });
    chunks
}

/// A position in the whole text: 1-based line, 0-based column and the byte
/// index within its chunk (only differences of indexes are used).
#[derive(Debug, Clone, Copy)]
struct Pos {
    line: u32,
    col: u32,
    index: usize,
}

/// A node of one document, built from the parser's events. Anchored nodes
/// are shared, so an alias costs nothing until it is converted.
struct Node<'a> {
    start: Pos,
    end: Pos,
    kind: Kind<'a>,
}

enum Kind<'a> {
    Scalar {
        text: Cow<'a, str>,
        style: ScalarStyle,
        tag: Option<Cow<'a, Tag>>,
    },
    Sequence(Vec<Rc<Node<'a>>>),
    Mapping(Vec<(Rc<Node<'a>>, Rc<Node<'a>>)>),
    Alias(Rc<Node<'a>>),
}

impl<'a> Node<'a> {
    /// The node an alias stands for (the node itself otherwise).
    fn target(&self) -> &Node<'a> {
        match &self.kind {
            Kind::Alias(target) => target.target(),
            _ => self,
        }
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.start.line,
            column: self.start.col + 1,
            message: message.into(),
        }
    }
}

/// A collection being built.
struct Frame<'a> {
    start: Pos,
    anchor: usize,
    items: Vec<Rc<Node<'a>>>,
    mapping: bool,
}

/// Builds the first document of a chunk from the parser's events, refusing
/// nesting beyond [`MAX_DEPTH`] as soon as it opens. What follows the first
/// document's end (`...`) in the same chunk is not read, as kubectl does not.
fn compose(text: &str, first_line: u32) -> Result<Option<Rc<Node<'_>>>, SyntaxError> {
    let pos = |marker: saphyr_parser::Marker| Pos {
        line: marker.line() as u32 + first_line - 1,
        col: marker.col() as u32,
        index: marker.index(),
    };
    let mut anchors: HashMap<usize, Rc<Node<'_>>> = HashMap::new();
    let mut frames: Vec<Frame<'_>> = Vec::new();
    let mut root = None;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| SyntaxError {
            line: e.marker().line() as u32 + first_line - 1,
            column: e.marker().col() as u32 + 1,
            message: e.info().to_string(),
        })?;
        let (start, end) = (pos(span.start), pos(span.end));
        let (node, anchor) = match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if frames.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        line: start.line,
                        column: start.col + 1,
                        message: format!(
                            "mappings and sequences nested deeper than {MAX_DEPTH} levels"
                        ),
                    });
                }
                frames.push(Frame {
                    start,
                    anchor,
                    items: Vec::new(),
                    mapping: matches!(event, Event::MappingStart(..)),
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = frames.pop() else { continue };
                let kind = if frame.mapping {
                    let mut pairs = Vec::with_capacity(frame.items.len() / 2);
                    let mut items = frame.items.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        pairs.push((key, value));
                    }
                    Kind::Mapping(pairs)
                } else {
                    Kind::Sequence(frame.items)
                };
                let node = Node {
                    start: frame.start,
                    end: start,
                    kind,
                };
                (node, frame.anchor)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let kind = Kind::Scalar { text, style, tag };
                (Node { start, end, kind }, anchor)
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    return Err(SyntaxError {
                        line: start.line,
                        column: start.col + 1,
                        message: "an alias inside the node its anchor names (a cycle)".into(),
                    });
                };
                let kind = Kind::Alias(Rc::clone(target));
                (Node { start, end, kind }, 0)
            }
            Event::DocumentEnd if root.is_some() => break,
            Event::DocumentEnd if frames.is_empty() => {
                // An empty document, then maybe one after `...`: kubectl reads
                // only the first document of each `---` chunk.
                break;
            }
            _ => continue,
        };
        let node = Rc::new(node);
        if anchor > 0 {
            anchors.insert(anchor, Rc::clone(&node));
        }
        match frames.last_mut() {
            Some(frame) => frame.items.push(node),
            None => root = Some(node),
        }
    }
    Ok(root)
}

/// go-yaml v2's guard against alias bombs: the share of nodes decoded through
/// aliases allowed for a document of `decoded` nodes.
fn allowed_alias_ratio(decoded: usize) -> f64 {
    const LOW: usize = 400_000;
    const HIGH: usize = 4_000_000;
    if decoded <= LOW {
        0.99
    } else if decoded >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decoded - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

/// Turns a node tree into JSON as sigs.k8s.io/yaml does (go-yaml v2, then
/// JSON), recording the line of every field.
#[derive(Default)]
struct Converter {
    schema: Schema,
    lines: Vec<(String, u32)>,
    decoded: usize,
    aliased: usize,
    alias_depth: usize,
}

impl Converter {
    fn count(&mut self, node: &Node<'_>) -> Result<(), SyntaxError> {
        self.decoded += 1;
        if self.alias_depth > 0 {
            self.aliased += 1;
        }
        if self.aliased > 100
            && self.decoded > 1000
            && self.aliased as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded)
        {
            return Err(node.error("the document expands too many aliases (an alias bomb)"));
        }
        Ok(())
    }

    fn value(&mut self, node: &Node<'_>, path: String, depth: usize) -> Result<Value, SyntaxError> {
        self.count(node)?;
        if depth > MAX_DEPTH {
            return Err(node.error(format!(
                "mappings and sequences nested deeper than {MAX_DEPTH} levels (through aliases)"
            )));
        }
        Ok(match &node.kind {
            Kind::Scalar { text, style, tag } => {
                match resolve(text, *style, tag.as_deref(), self.schema)
                    .map_err(|m| node.error(m))?
                {
                    Resolved::Float(f) if !f.is_finite() => {
                        return Err(node.error(
                            "number is infinite or NaN (`.inf`, `.nan` or out of range); \
                             Kubernetes rejects it",
                        ))
                    }
                    resolved => resolved.into_json(),
                }
            }
            Kind::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let child = push_index(&path, i);
                    self.lines.push((child.clone(), item.start.line));
                    out.push(self.value(item, child, depth + 1)?);
                }
                Value::Array(out)
            }
            Kind::Mapping(pairs) => {
                let mut out = Map::with_capacity(pairs.len());
                self.mapping_into(pairs, &path, &mut out, (depth, false))?;
                Value::Object(out)
            }
            Kind::Alias(target) => {
                self.alias_depth += 1;
                let value = self.value(target, path, depth);
                self.alias_depth -= 1;
                value?
            }
        })
    }

    /// Adds the entries of a mapping to `out` in order, as go-yaml v2 does:
    /// a merge key (`<<`) sets the keys of the mapping(s) it names, over the
    /// keys already set; a later key sets its value over a merged one.
    fn mapping_into(
        &mut self,
        pairs: &[(Rc<Node<'_>>, Rc<Node<'_>>)],
        path: &str,
        out: &mut Map<String, Value>,
        (depth, merged): (usize, bool),
    ) -> Result<(), SyntaxError> {
        // Keys already in `out` may come from elsewhere (a merge): then the
        // keys of this mapping are tracked on their own.
        let has_merge = merged || pairs.iter().any(|(key, _)| is_merge(key));
        let mut explicit: HashMap<String, u32> = HashMap::new();
        for (index, (key, value)) in pairs.iter().enumerate() {
            if is_merge(key) {
                self.merge(value, path, out, depth)?;
                continue;
            }
            let key_text = map_key(key, self.schema)?;
            let line = key.start.line;
            let duplicate = if has_merge {
                explicit.insert(key_text.clone(), line).is_some()
            } else {
                out.contains_key(&key_text)
            };
            if duplicate {
                let first = pairs[..index]
                    .iter()
                    .find(|(k, _)| {
                        !is_merge(k) && map_key(k, self.schema).ok().as_ref() == Some(&key_text)
                    })
                    .map_or(line, |(k, _)| k.start.line);
                return Err(key.error(format!(
                    "duplicate key `{key_text}` (lines {first} and {line}): kubectl silently \
                     keeps the last one, kustomize refuses the file; keep one"
                )));
            }
            let child = push_key(path, &key_text);
            self.lines.push((child.clone(), line));
            let converted = self.value(value, child, depth + 1)?;
            out.insert(key_text, converted);
        }
        Ok(())
    }

    /// The value of a merge key: a mapping, or a list of mappings of which
    /// the earlier ones win.
    fn merge(
        &mut self,
        value: &Node<'_>,
        path: &str,
        out: &mut Map<String, Value>,
        depth: usize,
    ) -> Result<(), SyntaxError> {
        const WANT_MAP: &str = "a merge key `<<` needs a mapping or a list of mappings";
        let aliased = matches!(value.kind, Kind::Alias(_));
        self.alias_depth += usize::from(aliased);
        let result = match &value.target().kind {
            Kind::Mapping(pairs) => self
                .count(value)
                .and_then(|()| self.mapping_into(pairs, path, out, (depth, true))),
            Kind::Sequence(items) => {
                self.count(value)?;
                let mut result = Ok(());
                for item in items.iter().rev() {
                    let Kind::Mapping(pairs) = &item.target().kind else {
                        result = Err(item.error(WANT_MAP));
                        break;
                    };
                    let aliased = matches!(item.kind, Kind::Alias(_));
                    self.alias_depth += usize::from(aliased);
                    result = self
                        .count(item)
                        .and_then(|()| self.mapping_into(pairs, path, out, (depth, true)));
                    self.alias_depth -= usize::from(aliased);
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            _ => Err(value.error(WANT_MAP)),
        };
        self.alias_depth -= usize::from(aliased);
        result
    }
}

/// A plain `<<` key (or one tagged `!!merge`).
fn is_merge(key: &Node<'_>) -> bool {
    match &key.kind {
        Kind::Scalar { text, style, tag } => {
            text == "<<"
                && match tag {
                    None => *style == ScalarStyle::Plain,
                    Some(tag) => tag.is_yaml_core_schema() && tag.suffix == "merge",
                }
        }
        _ => false,
    }
}

/// A mapping key as a JSON key, as sigs.k8s.io/yaml writes it: strings as
/// they are, integers in decimal, booleans as `true`/`false`, floats in Go's
/// shortest 32-bit form; a null key or one beyond int64 is an error there.
fn map_key(key: &Node<'_>, schema: Schema) -> Result<String, SyntaxError> {
    let Kind::Scalar { text, style, tag } = &key.target().kind else {
        return Err(key.error("complex mapping keys are not supported"));
    };
    Ok(
        match resolve(text, *style, tag.as_deref(), schema).map_err(|m| key.error(m))? {
            Resolved::Str(s) => s,
            Resolved::Int(i) => i.to_string(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Float(f) => go_float32_key(f),
            Resolved::Null => {
                return Err(key.error(
                    "a null mapping key (`~`, `null` or nothing): kubectl refuses it; quote it",
                ))
            }
            Resolved::UInt(_) => {
                return Err(key.error(
                    "a mapping key beyond the 64-bit signed range: kubectl refuses it; quote it",
                ))
            }
        },
    )
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, with go-yaml's names for the
/// infinities and NaN.
fn go_float32_key(f: f64) -> String {
    let v = f as f32;
    if v.is_nan() {
        return ".nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same f32.
    let scientific = format!("{:e}", v.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if v < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{exp_sign}{:02}", exponent.abs());
    }
    let point = exponent + 1;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// A scalar's value under go-yaml v2's YAML 1.1 rules.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
}

impl Resolved {
    /// The JSON value, as Go's encoder writes it: a float without a fraction
    /// is written as an integer (`1.0` → `1`).
    fn into_json(self) -> Value {
        match self {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(i.into()),
            Resolved::UInt(u) => Value::Number(u.into()),
            Resolved::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 9.2e18 {
                    Value::Number((f as i64).into())
                } else {
                    Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
            }
            Resolved::Str(s) => Value::String(s),
        }
    }
}

/// Resolves a scalar as go-yaml v2 does (YAML 1.1): only plain scalars are
/// typed; a core tag (`!!int`, `!!str`, ...) asks for a type; any other tag
/// leaves the text a string.
fn resolve(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    schema: Schema,
) -> Result<Resolved, String> {
    let Some(tag) = tag else {
        return Ok(if style != ScalarStyle::Plain {
            Resolved::Str(text.to_string())
        } else if schema == Schema::Core {
            resolve_core(text)
        } else {
            resolve_plain(text)
        });
    };
    if !tag.is_yaml_core_schema() {
        return Ok(Resolved::Str(text.to_string()));
    }
    let wanted = tag.suffix.as_str();
    match wanted {
        "str" => return Ok(Resolved::Str(text.to_string())),
        "binary" => {
            use base64::Engine as _;
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            return base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map(|bytes| Resolved::Str(String::from_utf8_lossy(&bytes).into_owned()))
                .map_err(|_| format!("`{text}` is not base64 (tagged !!binary)"));
        }
        "bool" | "int" | "float" | "null" | "timestamp" => {}
        _ => return Ok(Resolved::Str(text.to_string())),
    }
    let resolved = resolve_plain(text);
    let fits = match (&resolved, wanted) {
        (Resolved::Bool(_), "bool") | (Resolved::Null, "null") => true,
        (Resolved::Int(_) | Resolved::UInt(_), "int") | (Resolved::Float(_), "float") => true,
        (Resolved::Str(_), "timestamp") => looks_like_timestamp(text),
        _ => false,
    };
    match (resolved, wanted) {
        (resolved, _) if fits => Ok(resolved),
        (Resolved::Int(i), "float") => Ok(Resolved::Float(i as f64)),
        _ => Err(format!("cannot read `{text}` as !!{wanted}")),
    }
}

/// An untagged plain scalar under the YAML 1.2 core schema.
fn resolve_core(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let radix = |prefix: &str, radix: u32| {
        let digits = text.strip_prefix(prefix)?;
        let ok = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
        ok.then(|| u64::from_str_radix(digits, radix).ok())
            .flatten()
    };
    if let Some(n) = radix("0x", 16).or_else(|| radix("0o", 8)) {
        return i64::try_from(n).map_or(Resolved::UInt(n), Resolved::Int);
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Resolved::Int(i);
        }
        if let Ok(u) = unsigned.parse::<u64>() {
            if !text.starts_with('-') {
                return Resolved::UInt(u);
            }
        }
    }
    if yaml_style_float(text) {
        if let Ok(f) = text.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    Resolved::Str(text.to_string())
}

/// go-yaml v2's `resolve` for an untagged plain scalar.
fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let string = || Resolved::Str(text.to_string());
    match text.as_bytes()[0] {
        b'.' => {
            if go_underscores_ok(text) {
                if let Ok(f) = text.replace('_', "").parse::<f64>() {
                    return Resolved::Float(f);
                }
            }
            string()
        }
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = text.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                return i;
            }
            if yaml_style_float(&plain) {
                if let Ok(f) = plain.parse::<f64>() {
                    return Resolved::Float(f);
                }
            }
            string()
        }
        _ => string(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: an
/// optional sign, then `0x`, `0o`, `0b` or a leading `0` (octal) or decimal.
fn go_parse_int(s: &str) -> Option<Resolved> {
    let (negative, signed, body) = match s.as_bytes().first()? {
        b'-' => (true, true, &s[1..]),
        b'+' => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u128 + 1 {
            return Some(Resolved::Int((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    if magnitude <= i64::MAX as u128 {
        Some(Resolved::Int(magnitude as i64))
    } else if magnitude <= u64::MAX as u128 && !signed {
        Some(Resolved::UInt(magnitude as u64))
    } else {
        None
    }
}

/// go-yaml v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's rule for underscores in a number: each one between two digits.
fn go_underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
    })
}

/// Whether a plain scalar is a YAML 1.1 timestamp go-yaml accepts (it is kept
/// as the string it is).
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
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

fn span_of(node: &Node<'_>) -> Span {
    let (start, end) = (node.start, node.end);
    Span {
        line: start.line,
        column: start.col + 1,
        // Only text on one line is underlined; a block value is pointed at.
        len: if end.line == start.line {
            end.index.saturating_sub(start.index) as u32
        } else {
            0
        },
    }
}

/// Records the spans of every key and value below `node` (whose key, if it is
/// a mapping value, is `key`). The nesting was bounded when the document was
/// converted.
fn record_spans(
    node: &Node<'_>,
    path: String,
    key: Option<Span>,
    out: &mut Vec<(String, FieldSpan)>,
    (depth, schema): (usize, Schema),
) {
    if depth > MAX_DEPTH {
        return;
    }
    let value = span_of(node);
    out.push((
        path.clone(),
        FieldSpan {
            key: key.unwrap_or(value),
            value,
        },
    ));
    match &node.target().kind {
        Kind::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                record_spans(item, push_index(&path, i), None, out, (depth + 1, schema));
            }
        }
        Kind::Mapping(pairs) => {
            for (k, v) in pairs {
                if is_merge(k) {
                    continue;
                }
                let Ok(text) = map_key(k, schema) else {
                    continue;
                };
                let child = push_key(&path, &text);
                record_spans(v, child, Some(span_of(k)), out, (depth + 1, schema));
            }
        }
        _ => {}
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
    fn value_at_reads_the_paths_push_key_writes() {
        let body = serde_json::json!({
            "spec": {"containers": [{"image": "a"}, {"image": "b"}]},
            "data": {"tls.crt": "x", "say \"hi\"]": 1},
        });
        let image = push_key(&push_index("spec.containers", 1), "image");
        assert_eq!(value_at(&body, &image), Some(&serde_json::json!("b")));
        let cert = push_key("data", "tls.crt");
        assert_eq!(value_at(&body, &cert), Some(&serde_json::json!("x")));
        let odd = push_key("data", "say \"hi\"]");
        assert_eq!(value_at(&body, &odd), Some(&serde_json::json!(1)));
        assert_eq!(value_at(&body, ""), Some(&body));
        for nowhere in [
            "spec.containers[2]",
            "spec.missing",
            "spec..x",
            "spec.containers[x]",
            "data[\"tls.crt\"",
            "spec.containers.image",
        ] {
            assert_eq!(value_at(&body, nowhere), None, "{nowhere}");
        }
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
    fn manifests_follow_yaml_1_1_and_own_files_yaml_1_2() {
        let text = "a: on\nb: 0755\nc: y\non: x\n";
        let manifest = &parse_documents(text).unwrap()[0].value;
        assert_eq!(
            manifest,
            &serde_json::json!({"a": true, "b": 493, "c": true, "true": "x"})
        );
        let own = &parse_spanned(text).unwrap()[0].0.value;
        assert_eq!(
            own,
            &serde_json::json!({"a": "on", "b": 755, "c": "y", "on": "x"})
        );
    }

    #[test]
    fn driftaudit_objects_in_a_repository_keep_yaml_1_2() {
        let text =
            "apiVersion: driftaudit.io/v1\nkind: PostgresBaseline\nspec: {on: table, x: yes}\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(
            docs[0].value["spec"],
            serde_json::json!({"on": "table", "x": "yes"})
        );
    }

    #[test]
    fn float_keys_are_written_as_go_writes_32_bit_floats() {
        for (f, text) in [
            (1.5, "1.5"),
            (1.23456789, "1.2345679"),
            (1e6, "1e+06"),
            (100000.0, "100000"),
            (0.1, "0.1"),
            (0.00001, "1e-05"),
            (-2.5e-3, "-0.0025"),
            (1.0, "1"),
        ] {
            assert_eq!(go_float32_key(f), text, "{f}");
        }
    }

    #[test]
    fn an_alias_bomb_is_an_error_not_a_memory_blowup() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_documents(&text).unwrap_err();
        assert!(err.message.contains("aliases"), "{err:?}");
        // A few aliases are fine.
        let docs = parse_documents("a: &a [1, 2]\nb: [*a, *a]\n").unwrap();
        assert_eq!(docs[0].value["b"], serde_json::json!([[1, 2], [1, 2]]));
    }

    #[test]
    fn merge_keys_apply_in_order_as_go_yaml_v2_does() {
        // (`y` would be the key `true`: YAML 1.1.)
        let text = "base: &b {p: 1, q: 1}\nm:\n  p: 0\n  <<: *b\n  q: 2\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs[0].value["m"], serde_json::json!({"p": 1, "q": 2}));
        assert_eq!(docs[0].lines.line_of("m.q"), Some(5));
    }

    #[test]
    fn kubectl_separators_cut_documents_and_keep_lines() {
        let text = "a: 1\n--- # c\nb: 2\n--- {c: 3}\nd: 4\n---\ne: 5\n...\nf: 6\n";
        let (docs, errors) = parse_documents_lenient(text);
        let values: Vec<_> = docs.iter().map(|d| d.value.clone()).collect();
        assert_eq!(
            values,
            [
                serde_json::json!({"a": 1}),
                serde_json::json!({"b": 2}),
                serde_json::json!({"e": 5})
            ]
        );
        assert_eq!(docs[2].line, 7);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 4);
    }

    #[test]
    fn quoted_continuation_lines_need_no_indentation_as_in_libyaml() {
        let docs = parse_documents("m:\n  a: \"x\ny\"\n  b: 'p\nq'\n  c: 1\n").unwrap();
        assert_eq!(
            docs[0].value["m"],
            serde_json::json!({"a": "x y", "b": "p q", "c": 1})
        );
        assert_eq!(docs[0].lines.line_of("m.c"), Some(6));
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
