//! `driftaudit policy test`: runs the `test_*` rules of Rego files, as `opa test` does.

use serde_json::Value;

use super::engine::{bind_clock, is_time_limit, load_engine};
use super::library::PolicyFile;
use crate::model::InputError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    Error(String),
}

#[derive(Debug, Clone)]
pub struct TestResult {
    /// `data.<package>.<test>`
    pub name: String,
    /// `file:line` of the test rule.
    pub location: String,
    pub outcome: Outcome,
}

/// Runs the tests found in `tests` with `library` loaded beside them.
pub fn run_tests(
    library: &[PolicyFile],
    tests: &[PolicyFile],
    baselines: &Value,
) -> (Vec<TestResult>, Vec<InputError>) {
    let mut all: Vec<PolicyFile> = library.to_vec();
    for file in tests {
        if !all.iter().any(|f| f.name == file.name) {
            all.push(file.clone());
        }
    }
    let (mut engine, errors) = load_engine(&all, baselines);
    // Tests have no scan clock; `time.now_ns()` reads the start of the run.
    bind_clock(
        &mut engine,
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64,
    );
    let mut results = Vec::new();
    for file in tests {
        let mut package = String::new();
        let mut seen = Vec::new();
        for (number, line) in file.text.lines().enumerate() {
            if let Some(rest) = line.trim().strip_prefix("package ") {
                package = rest.trim().to_string();
                continue;
            }
            if !line.starts_with("test_") {
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let query = format!("data.{package}.{name}");
            let outcome = match engine.eval_rule(query.clone()) {
                Ok(regorus::Value::Bool(true)) => Outcome::Pass,
                Ok(_) => Outcome::Fail,
                Err(e) if is_time_limit(&e) => {
                    Outcome::Error("stopped: it ran longer than its time limit".into())
                }
                Err(e) => Outcome::Error(e.to_string()),
            };
            results.push(TestResult {
                name: query,
                location: format!("{}:{}", file.name, number + 1),
                outcome,
            });
        }
    }
    (results, errors)
}
