//! Policy evaluation with `regorus`: policies are compiled once, then evaluated
//! per resource side in parallel, each resource meeting only the rules routed
//! to its kind; whole-inventory rules run once per target.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use anyhow::bail;
use rayon::prelude::*;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, LimitError};
use serde_json::{json, Value};

use super::library::{rules_of, PolicyFile, RuleInfo, Scope, WORKLOAD_KINDS};
use super::recursion::find_cycles;
use crate::config::WorkloadConfig;
use crate::diag::{Code, Diagnostic, Place, Span};
use crate::model::{Identity, InputError, Severity};

/// Longest a single rule may run on one input before it is stopped as an error.
const EVALUATION_LIMIT: Duration = Duration::from_secs(10);

/// Most elements `numbers.range` may build: regorus allocates the whole list
/// up front, so `numbers.range(0, 1e9)` would abort the process on a 24 GB
/// allocation. A million elements is 24 MB.
const MAX_RANGE_ELEMENTS: u64 = 1_000_000;

/// Compiled policies and the rules the scan evaluates.
#[derive(Clone)]
pub struct PolicySet {
    engine: Engine,
    pub rules: Vec<RuleInfo>,
    /// Rules the config disables (`policies.disable`): loaded for their
    /// metadata (a controls section says they did not run), never evaluated.
    pub disabled: Vec<RuleInfo>,
    /// The kinds the `workloads` entry of `custom.kinds` routes to: those of
    /// the built-in table (`super::workloads`), and the configured ones.
    pub workload_kinds: BTreeSet<String>,
    /// Every namespace an `exempt_namespaces` list of the baselines names:
    /// `lib.exemptions` is asked only about resources of these namespaces
    /// (or without one), so a scan with no exempt resource pays nothing for it.
    exempt_namespaces: BTreeSet<String>,
    /// Where the Pod Security Standards rules (package `driftaudit.pss`) can
    /// find nothing, so they are not evaluated (`super::pss::PodSecurityScope`).
    pod_security: super::pss::PodSecurityScope,
    /// Rules whose baseline switch (`custom.enabled_by`) is off: loaded and
    /// listed, never evaluated.
    switched_off: BTreeSet<String>,
}

/// The namespaces named by `data.baselines.<section>.exempt_namespaces`
/// (bare names or `{name}` entries), whatever the section.
fn exempt_namespaces(baselines: &Value) -> BTreeSet<String> {
    let Some(sections) = baselines.as_object() else {
        return BTreeSet::new();
    };
    sections
        .values()
        .filter_map(|section| section.get("exempt_namespaces")?.as_array())
        .flatten()
        .filter_map(|entry| entry.as_str().or_else(|| entry.get("name")?.as_str()))
        .map(str::to_string)
        .collect()
}

/// Where a regorus error points and its one-line message. regorus 0.14 gives
/// its parse and compile errors only as text (`anyhow!` of a formatted
/// message, `--> file:line:col` on one line, `error: ...` on the last); its
/// `Span` type is not part of the error. This function is the one place that
/// reads that text.
fn describe_rego_error(message: &str, fallback: &str) -> (Place, String) {
    let location = message.lines().find_map(|line| {
        let place = line.trim().strip_prefix("--> ")?;
        let mut parts = place.rsplitn(3, ':');
        let column: u32 = parts.next()?.parse().ok()?;
        let line_number: u32 = parts.next()?.parse().ok()?;
        let file = parts.next()?;
        Some(Place::span(
            file,
            Span {
                line: line_number,
                column,
                len: 0,
            },
        ))
    });
    let summary = message
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .unwrap_or(message.trim())
        .to_string();
    (location.unwrap_or_else(|| Place::parse(fallback)), summary)
}

/// Builds an engine with the given files (a broken file is reported and left
/// out, the others still load) and the baseline data as `data.baselines`.
///
/// Recursive rules are rejected here (each group reported at its first rule),
/// and the files that define them are left out: regorus would recurse until
/// the stack overflows.
pub fn load_engine(files: &[PolicyFile], baselines: &Value) -> (Engine, Vec<InputError>) {
    let (mut engine, mut errors) = engine_with(files, None);
    let cycles = find_cycles(engine.get_modules());
    if !cycles.is_empty() {
        let mut excluded: Vec<&str> = Vec::new();
        for cycle in &cycles {
            let rules = cycle.rules.join(", ");
            errors.push(Diagnostic::error(
                Code::RegoCompile,
                Place::parse(&cycle.location),
                format!("Rego error: recursion is not allowed ({rules} refer to themselves through each other)"),
            ));
            // Every file of the group is left out, so each is reported: the
            // rules of a file that is not loaded are not evaluated.
            let first_file = cycle.location.rsplit_once(':').map_or("", |(file, _)| file);
            for file in cycle.files.iter().filter(|f| f.as_str() != first_file) {
                errors.push(Diagnostic::error(
                    Code::RegoCompile,
                    Place::file(file),
                    format!(
                        "Rego error: left out, it takes part in the recursion reported at {}",
                        cycle.location
                    ),
                ));
            }
            excluded.extend(cycle.files.iter().map(String::as_str));
        }
        // The engine is rebuilt without those files; their other errors are
        // already reported.
        (engine, _) = engine_with(files, Some(&excluded));
    }
    let data = json!({
        "baselines": baselines,
        "driftaudit": {
            "builtin_workloads": super::workloads::builtin_index(),
            "pod_security": super::pss::tables(),
        },
    });
    if let Err(e) = add_data(&mut engine, data, "baselines", "baseline data") {
        errors.push(e);
    }
    (engine, errors)
}

/// An engine with the limits and bounded builtins, and every file not in `excluded`.
fn engine_with(files: &[PolicyFile], excluded: Option<&[&str]>) -> (Engine, Vec<InputError>) {
    let mut engine = Engine::new();
    engine.set_execution_timer_config(timer(EVALUATION_LIMIT));
    add_bounded_builtins(&mut engine);
    let mut errors = Vec::new();
    for file in files {
        if excluded.is_some_and(|names| names.contains(&file.name.as_str())) {
            continue;
        }
        if let Some(line) = too_deeply_nested(&file.text) {
            errors.push(Diagnostic::error(
                Code::RegoCompile,
                Place::line(&file.name, line as u32),
                format!(
                    "Rego error: brackets nested deeper than {MAX_REGO_NESTING} levels \
                     (the Rego parser's time grows exponentially with nesting)"
                ),
            ));
            continue;
        }
        if let Err(e) = engine.add_policy(file.name.clone(), file.text.clone()) {
            let (location, message) = describe_rego_error(&e.to_string(), &file.name);
            errors.push(Diagnostic::error(
                Code::RegoCompile,
                location,
                format!("Rego error: {message}"),
            ));
        }
    }
    (engine, errors)
}

/// Deepest bracket nesting a policy file may have. regorus's parser takes
/// time exponential in the nesting of `[`, `{` and `(` (a second at 16 levels,
/// minutes at 20); real policies stay well below this.
const MAX_REGO_NESTING: usize = 12;

/// The line where a policy's brackets first nest deeper than
/// `MAX_REGO_NESTING`, outside strings and comments; checked before parsing.
fn too_deeply_nested(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut line = 1;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => {
                            line += usize::from(c == '\n');
                            break;
                        }
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                    line += usize::from(c == '\n');
                }
            }
            '[' | '{' | '(' => {
                depth += 1;
                if depth > MAX_REGO_NESTING {
                    return Some(line);
                }
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn timer(limit: Duration) -> ExecutionTimerConfig {
    ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(256).expect("non-zero"),
    }
}

/// Replaces builtins that would abort or break reproducibility. regorus looks
/// up extensions before its builtins, so these take their place.
fn add_bounded_builtins(engine: &mut Engine) {
    let range = |args: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
        bounded_range("numbers.range", &args[0], &args[1], 1)
    };
    let range_step = |args: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
        match args[2].as_i64() {
            Ok(step) if step > 0 => bounded_range("numbers.range_step", &args[0], &args[1], step),
            _ => bail!("numbers.range_step: the step must be a positive integer"),
        }
    };
    let random = |_: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
        bail!("rand.intn is not available: reports must be reproducible")
    };
    for (name, arity, extension) in [
        (
            "numbers.range",
            2,
            Box::new(range) as Box<dyn regorus::Extension>,
        ),
        ("numbers.range_step", 3, Box::new(range_step)),
        ("rand.intn", 2, Box::new(random)),
    ] {
        engine
            .add_extension(name.to_string(), arity, extension)
            .expect("each builtin is replaced once, on a new engine");
    }
}

/// The integers from `from` to `to` (either direction) every `step`, refusing
/// more than [`MAX_RANGE_ELEMENTS`] before anything is allocated.
fn bounded_range(
    name: &str,
    from: &regorus::Value,
    to: &regorus::Value,
    step: i64,
) -> anyhow::Result<regorus::Value> {
    let (Ok(from), Ok(to)) = (from.as_i64(), to.as_i64()) else {
        return Ok(regorus::Value::Undefined);
    };
    let elements = (i128::from(to) - i128::from(from)).unsigned_abs() / step as u128 + 1;
    if elements > u128::from(MAX_RANGE_ELEMENTS) {
        bail!("{name}: {elements} elements exceed the limit of {MAX_RANGE_ELEMENTS}");
    }
    let direction = if to >= from { step } else { -step };
    let values: Vec<regorus::Value> = (0..elements as i64)
        .map(|i| regorus::Value::from(from + i * direction))
        .collect();
    Ok(regorus::Value::from(values))
}

/// Binds `time.now_ns()` to the scan clock: policies never read the wall clock.
pub fn bind_clock(engine: &mut Engine, clock_ns: i64) {
    let now = move |_: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
        Ok(regorus::Value::from(clock_ns))
    };
    engine
        .add_extension("time.now_ns".to_string(), 0, Box::new(now))
        .expect("the clock is bound once per engine copy");
}

/// Whether an evaluation error is regorus's time limit (its message carries
/// the elapsed time, which must never reach a report).
pub(crate) fn is_time_limit(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<LimitError>(),
        Some(LimitError::TimeLimitExceeded { .. })
    ) || error.to_string().contains("execution exceeded time limit")
}

/// The time left for evaluations: the total policy budget of a scan.
#[derive(Clone, Copy)]
struct Budget {
    deadline: Option<Instant>,
}

impl Budget {
    /// The limit for the next evaluation, or `None` when the budget is spent.
    fn next_limit(&self) -> Option<Duration> {
        let Some(deadline) = self.deadline else {
            return Some(EVALUATION_LIMIT);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then(|| left.min(EVALUATION_LIMIT))
    }

    fn spent(&self) -> bool {
        self.next_limit().is_none()
    }
}

/// Whether an evaluation error is regorus's memory limit.
fn is_memory_limit(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<LimitError>(),
        Some(LimitError::MemoryLimitExceeded { .. })
    ) || error
        .to_string()
        .contains("execution exceeded memory limit")
}

const MEMORY_SPENT: &str =
    "stopped: policy evaluation went beyond its memory bound (--policy-memory)";

/// What bounds one scan's policy evaluation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationLimits {
    /// The scan clock, returned by `time.now_ns()`.
    pub clock_ns: i64,
    /// Total time for all evaluations.
    pub time: Option<Duration>,
    /// Bytes the evaluations may hold beyond what the process held when they began.
    pub memory: Option<u64>,
}

/// Sets regorus's process-wide memory limit for the life of the guard.
struct MemoryBound;

impl MemoryBound {
    fn new(extra: Option<u64>) -> Option<MemoryBound> {
        let extra = extra?;
        regorus::flush_thread_memory_counters();
        let held = regorus_mimalloc::global_allocation_stats_snapshot().allocated;
        regorus::set_global_memory_limit(Some(held.saturating_add(extra)));
        Some(MemoryBound)
    }
}

impl Drop for MemoryBound {
    fn drop(&mut self) {
        regorus::set_global_memory_limit(None);
    }
}

const BUDGET_SPENT: &str =
    "not evaluated: the total policy evaluation time (--policy-timeout) ran out";

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
        let mut disabled_rules = Vec::new();
        for rule in rules {
            if let Some(first) = seen.get(&rule.id) {
                errors.push(InputError::error(
                    Code::PolicyDuplicateId,
                    Place::parse(&rule.location),
                    format!(
                        "rule id {} is used twice (first at {first}); this one is skipped",
                        rule.id
                    ),
                ));
                continue;
            }
            seen.insert(rule.id.clone(), rule.location.clone());
            if disabled.contains(&rule.id) {
                disabled_rules.push(rule);
            } else {
                unique.push(rule);
            }
        }
        unique.sort_by(|a, b| a.id.cmp(&b.id));
        let workload_kinds = super::workloads::builtin_kinds();
        let switched_off = unique
            .iter()
            .filter(|rule| !rule.switched_on(baselines))
            .map(|rule| rule.id.clone())
            .collect();
        (
            PolicySet {
                engine,
                switched_off,
                rules: unique,
                disabled: disabled_rules,
                workload_kinds,
                exempt_namespaces: exempt_namespaces(baselines),
                pod_security: super::pss::PodSecurityScope::new(baselines),
            },
            errors,
        )
    }

    /// Whether some rule of `scope` is evaluated (not switched off).
    pub fn evaluates(&self, scope: Scope) -> bool {
        self.rules
            .iter()
            .any(|r| r.scope == scope && !self.switched_off.contains(&r.id))
    }

    /// The kinds `rule` is routed to, with `workloads` spelt out.
    pub fn routed_kinds(&self, rule: &RuleInfo) -> Vec<String> {
        let mut kinds = Vec::new();
        for kind in &rule.kinds {
            if kind == WORKLOAD_KINDS {
                kinds.extend(self.workload_kinds.iter().cloned());
            } else {
                kinds.push(kind.clone());
            }
        }
        kinds
    }

    /// Adds the custom resources of the config's `workloads` section: rules
    /// routed to `workloads` meet their kinds, and `lib.pod_specs` finds their
    /// pod specs (they reach Rego as `data.driftaudit.workloads`).
    pub fn add_workloads(&mut self, workloads: &[WorkloadConfig]) -> Result<(), InputError> {
        if workloads.is_empty() {
            return Ok(());
        }
        let data = json!({ "driftaudit": { "workloads": workloads } });
        add_data(
            &mut self.engine,
            data,
            "workloads",
            "the configured workload kinds",
        )?;
        self.workload_kinds
            .extend(workloads.iter().map(|w| w.kind.clone()));
        Ok(())
    }

    /// Adds what the scan read that rules look up beside their input, under
    /// `data.driftaudit`: the Pod Security labels of the namespaces
    /// (`namespaces`) and the roles bound to public subjects
    /// (`bound_roles`), see `super::pss`.
    pub fn add_scan_data(&mut self, scan_data: serde_json::Value) -> Result<(), InputError> {
        self.pod_security.read_namespaces(&scan_data["namespaces"]);
        // Nothing to add (no Namespace, no binding to everyone): the engine
        // stays as compiled.
        let empty = |key: &str| scan_data[key].as_object().is_none_or(|m| m.is_empty());
        if empty("namespaces") && empty("bound_roles") {
            return Ok(());
        }
        let data = json!({ "driftaudit": scan_data });
        add_data(
            &mut self.engine,
            data,
            "namespaces",
            "the namespaces' labels and bound roles",
        )
    }
}

/// Adds `data` to the engine's data document; `what` names it in the error,
/// `place` is where the error points.
fn add_data(
    engine: &mut Engine,
    data: serde_json::Value,
    place: &str,
    what: &str,
) -> Result<(), InputError> {
    engine.add_data(regorus::Value::from(data)).map_err(|e| {
        InputError::error(
            Code::Input,
            Place::Text(place.into()),
            format!("cannot load {what}: {e}"),
        )
    })
}

/// What one rule said about one input.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub rule: usize,
    pub message: String,
    pub severity: Severity,
    pub path: Option<String>,
    /// The rule's own exemption of this finding (`"suppressed": {by, reason}`).
    pub suppressed: Option<Exemption>,
}

/// An exemption that names a resource side: from `lib.exemptions` (every rule
/// of `category`), or a rule's own (`category` empty: that finding only).
/// `refused` says why it names the resource but does not apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Exemption {
    #[serde(default)]
    pub category: String,
    pub by: String,
    pub reason: String,
    #[serde(default)]
    pub refused: Option<String>,
}

/// The rule of `policies/lib.rego` that says which exemptions name the
/// resource under evaluation.
const EXEMPTIONS: &str = "data.driftaudit.lib.exemptions";

/// The exemptions `lib.exemptions` yields for the input set on `engine`;
/// none when it cannot be evaluated (its findings then stay findings).
fn exemptions_of(engine: &mut Engine) -> Vec<Exemption> {
    let Ok(value) = engine.eval_rule(EXEMPTIONS.to_string()) else {
        return Vec::new();
    };
    let Ok(Value::Array(items)) = serde_json::to_value(&value) else {
        return Vec::new();
    };
    let mut found: Vec<Exemption> = items
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .collect();
    found.sort_by(|a, b| (&a.category, &a.by).cmp(&(&b.category, &b.by)));
    found
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
#[derive(Clone)]
pub struct UnitResult {
    pub verdicts: Vec<Verdict>,
    pub errors: Vec<(usize, String)>,
    /// What `lib.exemptions` says about the unit; asked only when a rule
    /// found something on a resource side.
    pub exemptions: Vec<Exemption>,
}

impl PolicySet {
    /// Whether rule `index` is evaluated against `unit`: its scope, its
    /// switch, its kinds and sources, the facts it needs, and (Pod Security
    /// Standards) whether the namespace can hold what it looks for.
    pub fn routes(&self, index: usize, unit: &EvalUnit) -> bool {
        self.meets(index, unit) && self.in_pod_security_scope(index, unit)
    }

    /// `routes` but for the Pod Security Standards scope: the unit is of the
    /// rule's scope, kinds, sources and facts, and its switch is on.
    pub fn meets(&self, index: usize, unit: &EvalUnit) -> bool {
        let rule = &self.rules[index];
        rule.scope == unit.scope
            && !self.switched_off.contains(&rule.id)
            && match &unit.identity {
                Some(id) => rule.applies_to(id.source.as_str(), &id.kind, &self.workload_kinds),
                None => true,
            }
            && rule.facts.iter().all(|f| unit.facts.contains(&f.as_str()))
    }

    /// False for a Pod Security Standards rule and a resource of a
    /// namespace where the configured level checks nothing.
    pub fn in_pod_security_scope(&self, index: usize, unit: &EvalUnit) -> bool {
        self.rules[index].package != super::pss::PACKAGE
            || unit
                .identity
                .as_ref()
                .is_none_or(|id| self.pod_security.may_apply(&id.namespace))
    }

    /// Whether the rule's baseline switch (`custom.enabled_by`) is off.
    pub fn is_switched_off(&self, id: &str) -> bool {
        self.switched_off.contains(id)
    }

    /// Evaluates every unit against the rules routed to it, in parallel, with
    /// `time.now_ns()` reading the scan clock. With a time limit, evaluations
    /// that would start, or still run, after it has passed end as errors ("not
    /// evaluated"): a slow rule costs at most the limit, not inputs × rules ×
    /// the per-evaluation limit. With a memory limit, a rule that allocates
    /// beyond it ends as an error instead of exhausting the machine.
    pub fn evaluate<F>(
        &self,
        units: &[EvalUnit],
        limits: &EvaluationLimits,
        input_of: F,
    ) -> Vec<UnitResult>
    where
        F: Fn(usize) -> Value + Sync,
    {
        let budget = Budget {
            deadline: limits.time.map(|b| Instant::now() + b),
        };
        let clock_ns = limits.clock_ns;
        let _memory = MemoryBound::new(limits.memory);
        // Analysed once here: regorus analyses every module the first time an
        // engine evaluates, and rayon clones the engine for each piece of
        // work it splits off, so an unprepared engine was analysed again for
        // each (a cost that grows with the size of the rule library).
        let mut prepared = self.engine.clone();
        bind_clock(&mut prepared, clock_ns);
        let _ = prepared.eval_query("true".to_string(), false);
        units
            .par_iter()
            .enumerate()
            .map_init(
                || prepared.clone(),
                |engine, (position, unit)| {
                    let routed: Vec<usize> = (0..self.rules.len())
                        .filter(|&index| self.routes(index, unit))
                        .collect();
                    let mut result = UnitResult {
                        verdicts: Vec::new(),
                        errors: Vec::new(),
                        exemptions: Vec::new(),
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
                    // Packages evaluated as a whole go in one query, so the library
                    // rules they share (`driftaudit.lib`: kind, pod specs,
                    // containers) are computed once per input, not once per package.
                    let whole: Vec<&str> = by_package
                        .iter()
                        .filter(|(_, indices)| indices.len() > 1)
                        .map(|(package, _)| *package)
                        .collect();
                    if whole.len() > 1 {
                        if let Some(limit) = budget.next_limit() {
                            engine.set_execution_timer_config(timer(limit));
                            if let Ok(values) = evaluate_packages(engine, &whole) {
                                for (package, value) in whole.iter().zip(values) {
                                    for index in by_package.remove(package).unwrap_or_default() {
                                        let rule = &self.rules[index];
                                        collect_verdicts(
                                            index,
                                            rule,
                                            &value[rule.rule.as_str()],
                                            &mut result,
                                        );
                                    }
                                }
                            }
                        }
                    }
                    for (package, indices) in by_package {
                        if indices.len() > 1 {
                            let Some(limit) = budget.next_limit() else {
                                for index in indices {
                                    result.errors.push((index, BUDGET_SPENT.to_string()));
                                }
                                continue;
                            };
                            engine.set_execution_timer_config(timer(limit));
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
                            let Some(limit) = budget.next_limit() else {
                                result.errors.push((index, BUDGET_SPENT.to_string()));
                                continue;
                            };
                            engine.set_execution_timer_config(timer(limit));
                            match engine.eval_rule(rule.query()) {
                                Ok(value) => collect_verdicts(index, rule, &value, &mut result),
                                Err(e) if is_memory_limit(&e) => {
                                    result.errors.push((index, MEMORY_SPENT.to_string()));
                                }
                                Err(e) if is_time_limit(&e) && budget.spent() => {
                                    result.errors.push((index, BUDGET_SPENT.to_string()));
                                }
                                Err(e) if is_time_limit(&e) => result.errors.push((
                                    index,
                                    format!(
                                        "stopped: it ran longer than {} s on one input",
                                        EVALUATION_LIMIT.as_secs()
                                    ),
                                )),
                                Err(e) => {
                                    let (at, message) =
                                        describe_rego_error(&e.to_string(), &rule.location);
                                    result.errors.push((index, format!("{message} at {at}")));
                                }
                            }
                        }
                    }
                    let may_be_exempt = unit.identity.as_ref().is_some_and(|id| {
                        id.namespace.is_empty() || self.exempt_namespaces.contains(&id.namespace)
                    });
                    if !result.verdicts.is_empty() && may_be_exempt {
                        if let Some(limit) = budget.next_limit() {
                            engine.set_execution_timer_config(timer(limit));
                            result.exemptions = exemptions_of(engine);
                        }
                    }
                    result
                },
            )
            .collect()
    }
}

/// Several packages in one query: `[data.a, data.b, ...]`, their values in order.
fn evaluate_packages(engine: &mut Engine, packages: &[&str]) -> Result<Vec<regorus::Value>, ()> {
    let refs: Vec<String> = packages.iter().map(|p| format!("data.{p}")).collect();
    match query_value(engine, format!("[{}]", refs.join(", ")))? {
        regorus::Value::Array(values) if values.len() == packages.len() => {
            Ok(values.iter().cloned().collect())
        }
        _ => Err(()),
    }
}

fn evaluate_package(engine: &mut Engine, package: &str) -> Result<regorus::Value, ()> {
    query_value(engine, format!("data.{package}"))
}

/// The value of a one-expression query.
fn query_value(engine: &mut Engine, query: String) -> Result<regorus::Value, ()> {
    let results = engine.eval_query(query, false).map_err(|_| ())?;
    results
        .result
        .into_iter()
        .next()
        .and_then(|r| r.expressions.into_iter().next())
        .map(|e| e.value)
        .ok_or(())
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
                suppressed: None,
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
                    suppressed: map
                        .get("suppressed")
                        .and_then(|s| serde_json::from_value::<Exemption>(s.clone()).ok())
                        .filter(|s| s.refused.is_none())
                        .map(|s| Exemption {
                            category: String::new(),
                            ..s
                        }),
                }
            }
            Value::Bool(true) => Verdict {
                rule: index,
                message: rule.title.clone(),
                severity: rule.severity,
                path: None,
                suppressed: None,
            },
            _ => continue,
        };
        result.verdicts.push(verdict);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use crate::policy::{builtin_policy_files, load_baselines};

    fn builtin() -> PolicySet {
        let baselines = load_baselines(&[]).unwrap();
        let (set, errors) = PolicySet::compile(&builtin_policy_files(), &baselines, &[]);
        assert!(errors.is_empty(), "{errors:?}");
        set
    }

    fn unit(group: &str, kind: &str) -> EvalUnit {
        EvalUnit {
            identity: Some(Identity {
                source: Source::Kubernetes,
                group: group.into(),
                kind: kind.into(),
                namespace: "shop".into(),
                name: "w".into(),
                environment: String::new(),
            }),
            scope: Scope::Resource,
            facts: Vec::new(),
        }
    }

    /// The ids of the rules that flagged each unit, evaluating `bodies`.
    fn flagged(set: &PolicySet, units: &[EvalUnit], bodies: &[Value]) -> Vec<Vec<String>> {
        let results = set.evaluate(units, &EvaluationLimits::default(), |i| {
            let id = units[i].identity.as_ref().unwrap();
            json!({"resource": bodies[i], "identity": {"source": "kubernetes", "group": id.group,
                   "kind": id.kind, "namespace": id.namespace, "name": id.name}})
        });
        results
            .iter()
            .map(|r| {
                assert!(r.errors.is_empty(), "{:?}", r.errors);
                let mut ids: Vec<String> = r
                    .verdicts
                    .iter()
                    .map(|v| set.rules[v.rule].id.clone())
                    .collect();
                ids.sort();
                ids.dedup();
                ids
            })
            .collect()
    }

    #[test]
    fn pod_rules_are_routed_to_every_builtin_workload_kind() {
        let set = builtin();
        let kinds: Vec<&str> = set.workload_kinds.iter().map(String::as_str).collect();
        assert_eq!(
            kinds,
            [
                "CronJob",
                "DaemonSet",
                "Deployment",
                "DeploymentConfig",
                "Job",
                "Pod",
                "PodTemplate",
                "ReplicaSet",
                "ReplicationController",
                "Rollout",
                "StatefulSet"
            ]
        );
        let privileged = set
            .rules
            .iter()
            .find(|r| r.id == "DA-PRIV-001")
            .expect("built-in rule");
        for kind in &set.workload_kinds {
            assert!(privileged.applies_to("kubernetes", kind, &set.workload_kinds));
        }
        assert!(!privileged.applies_to("kubernetes", "ConfigMap", &set.workload_kinds));
        assert!(!privileged.applies_to("traefik", "Pod", &set.workload_kinds));
        assert_eq!(privileged.kinds, ["workloads"]);
        assert_eq!(set.routed_kinds(privileged), kinds);
    }

    #[test]
    fn configured_workloads_are_routed_and_located() {
        let mut set = builtin();
        let webapp = json!({"apiVersion": "example.com/v1", "kind": "WebApp",
            "spec": {"runtime": {"pod": {"hostNetwork": true, "securityContext": {"runAsNonRoot": true},
                "containers": [{"name": "c", "image": "app:1", "securityContext": {"privileged": true}}]}}}});
        let units = [unit("example.com", "WebApp")];
        assert_eq!(
            flagged(&set, &units, std::slice::from_ref(&webapp)),
            [Vec::<String>::new()]
        );
        set.add_workloads(&[WorkloadConfig {
            group: "example.com".into(),
            kind: "WebApp".into(),
            pod_spec_path: "spec.runtime.pod".into(),
        }])
        .unwrap();
        assert!(set.workload_kinds.contains("WebApp"));
        assert_eq!(
            flagged(&set, &units, &[webapp]),
            [["DA-PRIV-001", "DA-PRIV-002"]]
        );
        // The data sits beside the built-in packages: they still evaluate.
        let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "app"}]}}}});
        assert_eq!(
            flagged(&set, &[unit("argoproj.io", "Rollout")], &[rollout]),
            [["DA-IMG-002", "DA-PRIV-007"]]
        );
    }

    #[test]
    fn exempt_namespaces_are_read_from_every_section_in_both_shapes() {
        let baselines = json!({
            "privileges": {"exempt_namespaces": [{"name": "kube-system", "reason": "r"}, "tools"]},
            "acme": {"exempt_namespaces": ["vendor"]},
            "images": {"exempt_namespaces": []},
            "odd": ["not a section"],
            "other": {"exempt_namespaces": "x"},
        });
        let found: Vec<String> = exempt_namespaces(&baselines).into_iter().collect();
        assert_eq!(found, ["kube-system", "tools", "vendor"]);
    }
}
