//! Traefik's dynamic configuration as Git declares it: file-provider files in
//! YAML or TOML (`http`/`tcp`/`udp` routers, services, middlewares, servers
//! transports; `tls.options`, `tls.stores`, `tls.certificates`), each object a
//! resource with its file and line. Certificates named by `certFile` are read
//! from the repository (or inline PEM) for their facts and fingerprint.

use std::sync::Arc;

use serde_json::{json, Map, Number, Value};

use super::{traefik_resource, FILE_PROVIDER, SECTIONS, TLS_CERTIFICATE, TLS_OPTIONS, TLS_STORE};
use crate::diag::{Code, Place, Span};
use crate::facts;
use crate::model::{InputError, Origin, Resource};
use crate::yaml::{parse_documents, push_index, push_key, LineMap};

/// Reads a repository file by its path relative to the root (certificates).
pub type ReadFile<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// One dynamic configuration file → resources. Errors name the file and line.
pub fn resources_from_file(
    text: &str,
    file: &str,
    commit: Option<&str>,
    read_file: ReadFile,
) -> (Vec<Resource>, Vec<InputError>) {
    let documents = if file.ends_with(".toml") {
        toml_document(text, file).map(|d| vec![d])
    } else {
        parse_documents(text)
            .map(|docs| docs.into_iter().map(|d| (d.value, d.lines)).collect())
            .map_err(|e| e.diagnostic(file))
    };
    let documents = match documents {
        Ok(documents) => documents,
        Err(error) => return (Vec::new(), vec![error]),
    };
    let mut reader = FileReader {
        file,
        commit,
        read_file,
        resources: Vec::new(),
        errors: Vec::new(),
    };
    for (value, lines) in documents {
        reader.document(&value, &Arc::new(lines));
    }
    (reader.resources, reader.errors)
}

struct FileReader<'a> {
    file: &'a str,
    commit: Option<&'a str>,
    read_file: ReadFile<'a>,
    resources: Vec<Resource>,
    errors: Vec<InputError>,
}

impl FileReader<'_> {
    fn line(&self, lines: &LineMap, path: &str) -> u32 {
        lines.line_of(path).unwrap_or(1)
    }

    fn error(&mut self, lines: &LineMap, path: &str, message: String) {
        let at = Place::line(self.file, self.line(lines, path));
        self.errors
            .push(InputError::error(Code::InvalidDeclaredItem, at, message));
    }

    fn origin(&self, line: u32) -> Origin {
        Origin::Declared {
            file: self.file.to_string(),
            line,
            commit: self.commit.map(str::to_string),
        }
    }

    fn document(&mut self, value: &Value, lines: &Arc<LineMap>) {
        let Some(root) = value.as_object() else {
            self.error(
                lines,
                "",
                "not a Traefik dynamic configuration: expected a map with http, tcp, udp or tls"
                    .into(),
            );
            return;
        };
        for (key, section) in root {
            match key.as_str() {
                "http" | "tcp" | "udp" => self.protocol(key, section, lines),
                "tls" => self.tls(section, lines),
                other => self.error(
                    lines,
                    &push_key("", other),
                    format!("unknown top-level key `{other}` in a Traefik dynamic configuration (expected http, tcp, udp or tls; check `git.traefik` in the config)"),
                ),
            }
        }
    }

    fn protocol(&mut self, protocol: &str, value: &Value, lines: &Arc<LineMap>) {
        let Some(sections) = value.as_object() else {
            self.error(lines, protocol, format!("`{protocol}` must be a map"));
            return;
        };
        for (section, objects) in sections {
            let path = push_key(protocol, section);
            let Some((_, _, kind)) = SECTIONS
                .iter()
                .find(|(p, s, _)| *p == protocol && s == section)
            else {
                self.error(
                    lines,
                    &path,
                    format!("unknown section `{path}` in a Traefik dynamic configuration"),
                );
                continue;
            };
            self.named_objects(kind, &path, objects, lines, |_, _, _| json!({}));
        }
    }

    /// Each entry of a map of named objects becomes a resource; `facts_of`
    /// derives facts from (object, its path, line map).
    fn named_objects(
        &mut self,
        kind: &str,
        path: &str,
        objects: &Value,
        lines: &Arc<LineMap>,
        facts_of: impl Fn(&Self, &Value, &str) -> Value,
    ) {
        let Some(objects) = objects.as_object() else {
            if !objects.is_null() {
                self.error(
                    lines,
                    path,
                    format!("`{path}` must be a map of names to objects"),
                );
            }
            return;
        };
        for (name, body) in objects {
            let object_path = push_key(path, name);
            if !body.is_object() {
                self.error(
                    lines,
                    &object_path,
                    format!("{kind} `{name}` must be a map"),
                );
                continue;
            }
            let facts = facts_of(self, body, &object_path);
            let line = self.line(lines, &object_path);
            self.resources.push(traefik_resource(
                kind,
                FILE_PROVIDER,
                name,
                body.clone(),
                self.origin(line),
                Some(Arc::new(lines.subtree(&object_path))),
                facts,
            ));
        }
    }

    fn tls(&mut self, value: &Value, lines: &Arc<LineMap>) {
        let Some(tls) = value.as_object() else {
            self.error(lines, "tls", "`tls` must be a map".into());
            return;
        };
        for (key, section) in tls {
            let path = push_key("tls", key);
            match key.as_str() {
                "options" => {
                    self.named_objects(TLS_OPTIONS, &path, section, lines, |_, _, _| json!({}))
                }
                "stores" => self.named_objects(TLS_STORE, &path, section, lines, |reader, store, at| {
                    let certificate = store.pointer("/defaultCertificate/certFile");
                    match certificate.and_then(Value::as_str) {
                        Some(cert_file) => reader
                            .certificate(cert_file, &format!("{at}.defaultCertificate.certFile"))
                            .map(|(_, facts)| json!({ "certificates": with_path(facts, "defaultCertificate.certFile") }))
                            .unwrap_or_else(|| json!({})),
                        None => json!({}),
                    }
                }),
                "certificates" => self.certificates(section, &path, lines),
                other => self.error(
                    lines,
                    &path,
                    format!("unknown section `tls.{other}` (expected options, stores or certificates)"),
                ),
            }
        }
    }

    /// `tls.certificates` is a list without names: each certificate is named
    /// by its fingerprint, as the API names it. One whose file is not in the
    /// repository (mounted at run time) cannot be compared and is left out.
    fn certificates(&mut self, value: &Value, path: &str, lines: &Arc<LineMap>) {
        let Some(items) = value.as_array() else {
            self.error(lines, path, "`tls.certificates` must be a list".into());
            return;
        };
        for (index, item) in items.iter().enumerate() {
            let item_path = push_index(path, index);
            let Some(cert_file) = item.get("certFile").and_then(Value::as_str) else {
                self.error(
                    lines,
                    &item_path,
                    "a TLS certificate needs `certFile` (a path or inline PEM)".into(),
                );
                continue;
            };
            let Some((leaf_der, facts)) =
                self.certificate(cert_file, &format!("{item_path}.certFile"))
            else {
                continue;
            };
            let line = self.line(lines, &item_path);
            let origin = self.origin(line);
            let item_lines = Some(Arc::new(lines.subtree(&item_path)));
            let facts = with_path(facts, "certFile");
            let (name, body) = match leaf_der {
                Some(der) => (facts::fingerprint_sha256(&der), certificate_body(&facts)),
                // Unparsable: still a resource, so DA-CERT-005 reports it.
                None => (cert_file.to_string(), json!({})),
            };
            self.resources.push(traefik_resource(
                TLS_CERTIFICATE,
                "",
                &name,
                body,
                origin,
                item_lines,
                json!({ "certificates": facts }),
            ));
        }
    }

    /// The leaf's DER (when it parses) and the facts of a `certFile` value.
    /// `None` when the file is not in the repository.
    fn certificate(&self, cert_file: &str, at: &str) -> Option<(Option<Vec<u8>>, Vec<Value>)> {
        let (bytes, source) = if cert_file.contains("-----BEGIN") {
            (
                cert_file.as_bytes().to_vec(),
                format!("{} {at} (inline PEM)", self.file),
            )
        } else {
            let found = candidate_paths(self.file, cert_file)
                .into_iter()
                .find_map(|p| (self.read_file)(&p).map(|bytes| (bytes, p)))?;
            (found.0, format!("{} ({at} in {})", found.1, self.file))
        };
        let facts = facts::certificate_facts(&source, None, &bytes);
        let leaf = facts::first_certificate_der(&bytes);
        Some((leaf, facts))
    }
}

/// Where a relative `certFile` may sit in the repository: Traefik resolves it
/// against its working directory, which is unknown here, so the folder of the
/// configuration file and each of its parents up to the root are tried.
fn candidate_paths(file: &str, cert_file: &str) -> Vec<String> {
    let relative = cert_file.trim_start_matches("./");
    if relative.starts_with('/') {
        return Vec::new();
    }
    let mut candidates = Vec::new();
    let mut dir = file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    loop {
        candidates.push(if dir.is_empty() {
            relative.to_string()
        } else {
            format!("{dir}/{relative}")
        });
        if dir.is_empty() {
            break;
        }
        dir = dir.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    }
    candidates
}

fn with_path(mut facts: Vec<Value>, path: &str) -> Vec<Value> {
    for fact in &mut facts {
        if let Value::Object(map) = fact {
            map.insert("path".into(), json!(path));
        }
    }
    facts
}

/// The body of a certificate resource: what Traefik's API shows of it, so a
/// declared certificate and the one Traefik serves compare equal.
pub fn certificate_body(facts: &[Value]) -> Value {
    let Some(leaf) = facts.first() else {
        return json!({});
    };
    let common_name = leaf
        .get("subject")
        .and_then(Value::as_str)
        .and_then(|s| s.split(", ").find_map(|rdn| rdn.strip_prefix("CN=")))
        .unwrap_or_default();
    let mut sans: Vec<&str> = leaf
        .get("sans")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    sans.sort();
    json!({
        "commonName": common_name,
        "sans": sans,
        "notBefore": leaf.get("not_before").cloned().unwrap_or(Value::Null),
        "notAfter": leaf.get("not_after").cloned().unwrap_or(Value::Null),
    })
}

/// A TOML document as JSON, with the line of every key.
fn toml_document(text: &str, file: &str) -> Result<(Value, LineMap), InputError> {
    let table = toml::de::DeTable::parse(text).map_err(|e| {
        let span = e.span().map_or(
            Span {
                line: 1,
                column: 0,
                len: 0,
            },
            |range| span_at(text, range),
        );
        InputError::error(
            Code::Syntax,
            Place::span(file, span),
            format!("TOML syntax error: {}", e.message()),
        )
    })?;
    let mut entries = Vec::new();
    let value = toml_table(text, table.get_ref(), "", &mut entries);
    Ok((value, LineMap::from_entries(entries)))
}

fn toml_table(
    text: &str,
    table: &toml::de::DeTable,
    path: &str,
    entries: &mut Vec<(String, u32)>,
) -> Value {
    let mut out = Map::new();
    for (key, value) in table.iter() {
        let child = push_key(path, key.get_ref());
        entries.push((child.clone(), line_at(text, key.span().start)));
        out.insert(
            key.get_ref().to_string(),
            toml_value(text, value.get_ref(), &child, entries),
        );
    }
    Value::Object(out)
}

fn toml_value(
    text: &str,
    value: &toml::de::DeValue,
    path: &str,
    entries: &mut Vec<(String, u32)>,
) -> Value {
    use toml::de::DeValue;
    match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(i.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.as_str().to_string())),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let child = push_index(path, i);
                    entries.push((child.clone(), line_at(text, item.span().start)));
                    toml_value(text, item.get_ref(), &child, entries)
                })
                .collect(),
        ),
        DeValue::Table(table) => toml_table(text, table, path, entries),
    }
}

/// 1-based line of a byte offset.
/// The line, column and length (in characters) of a byte range of `text`.
fn span_at(text: &str, range: std::ops::Range<usize>) -> Span {
    let start = floor_char_boundary(text, range.start);
    let end = floor_char_boundary(text, range.end.max(start));
    let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
    Span {
        line: line_at(text, start),
        column: text[line_start..start].chars().count() as u32 + 1,
        len: text[start..end]
            .split('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count() as u32,
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn line_at(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(_: &str) -> Option<Vec<u8>> {
        None
    }

    #[test]
    fn yaml_objects_become_resources_with_lines() {
        let text = "http:\n  routers:\n    app:\n      rule: Host(`a`)\n      service: svc@file\n  services:\n    svc:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\ntls:\n  options:\n    default:\n      minVersion: VersionTLS12\n";
        let (resources, errors) = resources_from_file(text, "dyn/a.yml", None, &no_files);
        assert!(errors.is_empty(), "{errors:?}");
        let kinds: Vec<(&str, &str)> = resources
            .iter()
            .map(|r| (r.identity.kind.as_str(), r.identity.name.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("HttpRouter", "app"),
                ("HttpService", "svc"),
                ("TLSOptions", "default")
            ]
        );
        assert_eq!(resources[0].body["service"], "svc");
        assert_eq!(resources[0].location_of(Some("rule")).unwrap().line, 4);
        assert_eq!(resources[1].location_of(None).unwrap().line, 7);
    }

    #[test]
    fn syntax_errors_point_at_line_and_column() {
        let (_, errors) = resources_from_file(
            "[http.routers.app]\nrule = \"Host(`a`)\"\nservice = \n",
            "dyn/a.toml",
            None,
            &no_files,
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, Code::Syntax);
        assert_eq!(errors[0].location, "dyn/a.toml:3:11");
        assert!(errors[0].message.starts_with("TOML syntax error: "));
        let (_, errors) =
            resources_from_file("http:\n  routers: [a\n", "dyn/a.yml", None, &no_files);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, Code::Syntax);
        assert!(errors[0].location.starts_with("dyn/a.yml:"));
        assert!(errors[0].message.starts_with("YAML syntax error: "));
    }

    #[test]
    fn toml_objects_carry_their_lines() {
        let text = "[http.routers.app]\nrule = \"Host(`a`)\"\nentryPoints = [\"web\"]\nservice = \"svc\"\n\n[[http.services.svc.loadBalancer.servers]]\nurl = \"http://127.0.0.1:1\"\n";
        let (resources, errors) = resources_from_file(text, "dyn/a.toml", None, &no_files);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(resources.len(), 2);
        assert_eq!(resources[0].body["entryPoints"], json!(["web"]));
        assert_eq!(resources[0].location_of(Some("service")).unwrap().line, 4);
        assert_eq!(
            resources[1].body["loadBalancer"]["servers"][0]["url"],
            "http://127.0.0.1:1"
        );
        assert_eq!(
            resources[1]
                .location_of(Some("loadBalancer.servers[0].url"))
                .unwrap()
                .line,
            7
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let (_, errors) =
            resources_from_file("http:\n  routes:\n    a: {}\n", "x.yml", None, &no_files);
        assert_eq!(errors[0].location, "x.yml:2");
        let (_, errors) = resources_from_file("[http\nx = 1\n", "x.toml", None, &no_files);
        assert!(errors[0].location.starts_with("x.toml:1"), "{errors:?}");
        let (_, errors) = resources_from_file("apiVersion: v1\n", "x.yml", None, &no_files);
        assert!(errors[0].message.contains("apiVersion"), "{errors:?}");
    }

    #[test]
    fn certificate_files_are_searched_from_the_config_folder_up() {
        assert_eq!(
            candidate_paths("traefik/dynamic/d.yml", "certs/a.crt"),
            [
                "traefik/dynamic/certs/a.crt",
                "traefik/certs/a.crt",
                "certs/a.crt"
            ]
        );
        assert!(candidate_paths("d.yml", "/etc/certs/a.crt").is_empty());
    }
}
