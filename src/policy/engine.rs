//! Policy evaluation with `regorus`: policies are compiled once, then evaluated
//! per resource side in parallel, each resource meeting only the rules routed
//! to its kind; whole-inventory rules run once per target.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use rayon::prelude::*;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::Engine;
use serde_json::{json, Value};

use super::library::{rules_of, PolicyFile, RuleInfo, Scope};
use crate::model::{Identity, InputError, Severity};

/// Longest a single rule may run on one input before it is stopped as an error.
const EVALUATION_LIMIT: Duration = Duration::from_secs(10);

/// Compiled policies and the rules the scan evaluates.
#[derive(Clone)]
pub struct PolicySet {
    engine: Engine,
    pub rules: Vec<RuleInfo>,
}

/// Where a regorus error points (`--> file:line:col`) and its one-line message.
fn describe_rego_error(message: &str, fallback: &str) -> (String, String) {
    let location = message.lines().find_map(|line| {
        let place = line.trim().strip_prefix("--> ")?;
        let mut parts = place.rsplitn(3, ':');
        let column = parts.next()?;
        let line_number = parts.next()?;
        let file = parts.next()?;
        Some((format!("{file}:{line_number}"), column.to_string()))
    });
    let summary = message
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .unwrap_or(message.trim())
        .to_string();
    match location {
        Some((at, column)) => (at, format!("{summary} (column {column})")),
        None => (fallback.to_string(), summary),
    }
}

/// Builds an engine with the given files (a broken file is reported and left
/// out, the others still load) and the baseline data as `data.baselines`.
pub fn load_engine(files: &[PolicyFile], baselines: &Value) -> (Engine, Vec<InputError>) {
    let mut engine = Engine::new();
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: EVALUATION_LIMIT,
        check_interval: NonZeroU32::new(256).expect("non-zero"),
    });
    let mut errors = Vec::new();
    for file in files {
        if let Err(e) = engine.add_policy(file.name.clone(), file.text.clone()) {
            let (location, message) = describe_rego_error(&e.to_string(), &file.name);
            errors.push(InputError::new(location, format!("Rego error: {message}")));
        }
    }
    if let Err(e) = engine.add_data(regorus::Value::from(json!({ "baselines": baselines }))) {
        errors.push(InputError::new(
            "baselines",
            format!("cannot load baseline data: {e}"),
        ));
    }
    (engine, errors)
}

impl PolicySet {
    /// Compiles the policy files (test files are left out) and reads their rules.
    pub fn compile(
        files: &[PolicyFile],
        baselines: &Value,
        disabled: &[String],
    ) -> (PolicySet, Vec<InputError>) {
        let files: Vec<PolicyFile> = files.iter().filter(|f| !f.is_test()).cloned().collect();
        let (engine, mut errors) = load_engine(&files, baselines);
        let mut rules: Vec<RuleInfo> = Vec::new();
        // Rules of a file that did not compile cannot run; the file is already reported.
        let failed: Vec<String> = files
            .iter()
            .filter(|f| {
                errors.iter().any(|e| {
                    e.location == f.name || e.location.starts_with(&format!("{}:", f.name))
                })
            })
            .map(|f| f.name.clone())
            .collect();
        for file in files.iter().filter(|f| !failed.contains(&f.name)) {
            match rules_of(file) {
                Ok(found) => rules.extend(found),
                Err(error) => errors.push(error),
            }
        }
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut unique = Vec::new();
        for rule in rules {
            if let Some(first) = seen.get(&rule.id) {
                errors.push(InputError::new(
                    rule.location.clone(),
                    format!(
                        "rule id {} is used twice (first at {first}); this one is skipped",
                        rule.id
                    ),
                ));
                continue;
            }
            seen.insert(rule.id.clone(), rule.location.clone());
            if !disabled.contains(&rule.id) {
                unique.push(rule);
            }
        }
        unique.sort_by(|a, b| a.id.cmp(&b.id));
        (
            PolicySet {
                engine,
                rules: unique,
            },
            errors,
        )
    }
}

/// What one rule said about one input.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub rule: usize,
    pub message: String,
    pub severity: Severity,
    pub path: Option<String>,
}

/// One input to evaluate: a resource side (per-resource rules) or a whole
/// inventory (inventory rules). The input itself is built by the caller on
/// demand, inside the worker, so inputs are never all in memory at once.
pub struct EvalUnit {
    pub identity: Option<Identity>,
    pub scope: Scope,
    /// Keys of `input.facts` that hold something (for `custom.facts` routing).
    pub facts: Vec<&'static str>,
}

/// The result of evaluating one unit.
pub struct UnitResult {
    pub verdicts: Vec<Verdict>,
    pub errors: Vec<(usize, String)>,
}

impl PolicySet {
    /// Evaluates every unit against the rules routed to it, in parallel.
    pub fn evaluate<F>(&self, units: &[EvalUnit], input_of: F) -> Vec<UnitResult>
    where
        F: Fn(usize) -> Value + Sync,
    {
        units
            .par_iter()
            .enumerate()
            .map_init(
                || self.engine.clone(),
                |engine, (position, unit)| {
                    let routed: Vec<usize> = self
                        .rules
                        .iter()
                        .enumerate()
                        .filter(|(_, rule)| rule.scope == unit.scope)
                        .filter(|(_, rule)| match &unit.identity {
                            Some(id) => rule.applies_to(id.source.as_str(), &id.kind),
                            None => true,
                        })
                        .filter(|(_, rule)| {
                            rule.facts.iter().all(|f| unit.facts.contains(&f.as_str()))
                        })
                        .map(|(i, _)| i)
                        .collect();
                    let mut result = UnitResult {
                        verdicts: Vec::new(),
                        errors: Vec::new(),
                    };
                    if routed.is_empty() {
                        return result;
                    }
                    engine.set_input(regorus::Value::from(input_of(position)));
                    // Rules of one package share their helper rules: evaluating the
                    // package once computes those once, where one call per rule
                    // would start from scratch each time.
                    let mut by_package: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                    for index in routed {
                        by_package
                            .entry(self.rules[index].package.as_str())
                            .or_default()
                            .push(index);
                    }
                    for (package, indices) in by_package {
                        if indices.len() > 1 {
                            if let Ok(value) = evaluate_package(engine, package) {
                                for index in indices {
                                    let rule = &self.rules[index];
                                    collect_verdicts(
                                        index,
                                        rule,
                                        &value[rule.rule.as_str()],
                                        &mut result,
                                    );
                                }
                                continue;
                            }
                        }
                        // One rule, or the package failed as a whole: rule by rule,
                        // so an error is pinned on the rule that raised it.
                        for index in indices {
                            let rule = &self.rules[index];
                            match engine.eval_rule(rule.query()) {
                                Ok(value) => collect_verdicts(index, rule, &value, &mut result),
                                Err(e) => {
                                    let (at, message) =
                                        describe_rego_error(&e.to_string(), &rule.location);
                                    result.errors.push((index, format!("{message} at {at}")));
                                }
                            }
                        }
                    }
                    result
                },
            )
            .collect()
    }
}

fn evaluate_package(engine: &mut Engine, package: &str) -> Result<regorus::Value, ()> {
    let results = engine
        .eval_query(format!("data.{package}"), false)
        .map_err(|_| ())?;
    let value = results
        .result
        .into_iter()
        .next()
        .and_then(|r| r.expressions.into_iter().next())
        .map(|e| e.value)
        .ok_or(())?;
    Ok(value)
}

fn collect_verdicts(
    index: usize,
    rule: &RuleInfo,
    value: &regorus::Value,
    result: &mut UnitResult,
) {
    let items: Vec<Value> = match serde_json::to_value(value) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Null) | Err(_) => return,
        Ok(Value::Bool(false)) => return,
        Ok(other) => vec![other],
    };
    for item in items {
        let verdict = match item {
            Value::String(message) => Verdict {
                rule: index,
                message,
                severity: rule.severity,
                path: None,
            },
            Value::Object(map) => {
                let severity = map
                    .get("severity")
                    .and_then(Value::as_str)
                    .and_then(Severity::parse);
                let message = map
                    .get("msg")
                    .or_else(|| map.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or(&rule.title)
                    .to_string();
                Verdict {
                    rule: index,
                    message,
                    severity: severity.unwrap_or(rule.severity),
                    path: map.get("path").and_then(Value::as_str).map(str::to_string),
                }
            }
            Value::Bool(true) => Verdict {
                rule: index,
                message: rule.title.clone(),
                severity: rule.severity,
                path: None,
            },
            _ => continue,
        };
        result.verdicts.push(verdict);
    }
}
