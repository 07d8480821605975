//! The kubectl differential test: driftaudit must read every manifest of
//! `fixtures/yaml-kubectl/` exactly as Kubernetes' decoder does.
//!
//! The reference is the real kubectl, run offline, with no cluster and no
//! kubeconfig: `kubectl label --local -f FILE -o json zz-` (remove a label
//! that is not there). `--local` reads the file through the same resource
//! builder as `kubectl create`/`apply` (`StreamVisitor` →
//! `YAMLOrJSONDecoder`: the stream cut at `---` lines, each document decoded by
//! sigs.k8s.io/yaml, i.e. go-yaml v2 with YAML 1.1 rules, then JSON) and prints
//! each object as JSON without contacting a server. (`kubectl create
//! --dry-run=client` needs the server's discovery even with
//! `--validate=false`, so it cannot run offline.)
//!
//! Compared: the semantic JSON of every document (objects as maps, numbers by
//! value). The only field kubectl adds, and which is ignored when driftaudit's
//! document has none, is the empty `metadata.labels: {}` the label command
//! leaves behind.
//!
//! - `same/`: kubectl accepts the file; driftaudit's documents equal kubectl's.
//! - `rejected/`: kubectl refuses the file; driftaudit reports an error too.
//! - `stricter/`: kubectl accepts the file but driftaudit refuses it on
//!   purpose (duplicate keys, a number out of range); docs/yaml.md says why.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn corpus(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/yaml-kubectl")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// kubectl from PATH, or from the folder where pip puts console scripts
/// (scripts/test.sh installs it there).
pub(crate) fn kubectl() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    on_path
        .into_iter()
        .chain(scripts)
        .map(|dir| dir.join("kubectl"))
        .find(|path| path.is_file())
        .expect("kubectl is not installed (scripts/test.sh installs it with pip)")
}

/// What kubectl decodes from `file`: its objects, or its error.
fn kubectl_decode(kubectl: &Path, file: &Path) -> Result<Vec<Value>, String> {
    let out = Command::new(kubectl)
        .args(["label", "--local", "-o", "json", "zz-", "-f"])
        .arg(file)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("kubectl runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("kubectl printed something else than JSON: {e}"))
}

fn driftaudit_decode(file: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(file).unwrap();
    driftaudit::yaml::parse_documents(&text)
        .map(|documents| documents.into_iter().map(|d| d.value).collect())
        .map_err(|e| format!("line {}: {}", e.line, e.message))
}

/// Equal as JSON values: objects as maps, numbers by value.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Drops the empty `metadata.labels` the label command adds.
fn without_added_labels(mut kubectl: Value, ours: &Value) -> Value {
    if ours.pointer("/metadata/labels").is_none() {
        if let Some(metadata) = kubectl.get_mut("metadata").and_then(Value::as_object_mut) {
            if metadata.get("labels") == Some(&Value::Object(Default::default())) {
                metadata.remove("labels");
            }
        }
    }
    kubectl
}

#[test]
fn driftaudit_reads_every_tricky_manifest_as_kubectl_does() {
    let kubectl = kubectl();
    let files = corpus("same");
    assert!(files.len() >= 40, "only {} files", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let theirs = match kubectl_decode(&kubectl, file) {
            Ok(objects) => objects,
            Err(e) => {
                failures.push(format!("{name}: kubectl refuses it: {e}"));
                continue;
            }
        };
        let ours = match driftaudit_decode(file) {
            Ok(documents) => documents,
            Err(e) => {
                failures.push(format!("{name}: driftaudit refuses it: {e}"));
                continue;
            }
        };
        if theirs.is_empty() {
            failures.push(format!("{name}: kubectl printed no object"));
        }
        if theirs.len() != ours.len() {
            failures.push(format!(
                "{name}: kubectl read {} documents, driftaudit {}",
                theirs.len(),
                ours.len()
            ));
            continue;
        }
        for (theirs, ours) in theirs.into_iter().zip(&ours) {
            let theirs = without_added_labels(theirs, ours);
            if !same_json(&theirs, ours) {
                failures.push(format!(
                    "{name}:\n  kubectl:    {theirs}\n  driftaudit: {ours}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn what_kubectl_refuses_driftaudit_refuses() {
    let kubectl = kubectl();
    let files = corpus("rejected");
    assert!(!files.is_empty());
    for file in &files {
        let name = file.display();
        assert!(
            kubectl_decode(&kubectl, file).is_err(),
            "{name}: kubectl accepts it"
        );
        let ours = driftaudit_decode(file);
        assert!(ours.is_err(), "{name}: driftaudit accepts it: {ours:?}");
    }
}

#[test]
fn driftaudit_is_stricter_than_kubectl_only_where_documented() {
    let kubectl = kubectl();
    let files = corpus("stricter");
    assert!(!files.is_empty());
    for file in &files {
        let name = file.display();
        assert!(
            kubectl_decode(&kubectl, file).is_ok(),
            "{name}: kubectl refuses it (move it to rejected/)"
        );
        let error = driftaudit_decode(file).expect_err("driftaudit refuses it");
        let file_name = file.file_name().unwrap().to_string_lossy();
        if file_name.starts_with("duplicate") {
            assert!(error.contains("duplicate key"), "{name}: {error}");
        }
    }
}

#[test]
fn a_duplicate_key_names_the_key_and_both_lines() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  a: \"1\"\n  b: x\n  a: \"2\"\n";
    let error = driftaudit::yaml::parse_documents(text).unwrap_err();
    assert_eq!(error.line, 8, "{error:?}");
    assert!(error.message.contains("`a`"), "{error:?}");
    assert!(error.message.contains("lines 6 and 8"), "{error:?}");
}

/// kubectl stops at the first broken document of a file, after reading the
/// ones before it; driftaudit keeps every document that parses, and reports
/// the broken one with its line.
#[test]
fn a_broken_document_does_not_hide_the_others_of_its_file() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: [1, 2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n";
    let (documents, errors) = driftaudit::yaml::parse_documents_lenient(text);
    let names: Vec<&str> = documents
        .iter()
        .map(|d| d.value["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["before", "after"]);
    assert_eq!(documents[1].line, 12);
    assert_eq!(documents[1].lines.line_of("metadata.name"), Some(15));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!((10..=11).contains(&errors[0].line), "{errors:?}");

    // kubectl reads the first document before it meets the broken one.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("three.yaml");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(kubectl())
        .args(["label", "--local", "-o", "json", "zz-", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let first: Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .next()
        .expect("kubectl printed the first object")
        .unwrap();
    assert_eq!(first["metadata"]["name"], "before");
}
