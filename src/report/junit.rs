//! The JUnit XML report (GitLab's test report, Jenkins' junit step), written
//! with `quick-junit`: one test suite per rule, one test case per rule and
//! resource that the rule found something on; a finding is a `failure`, a
//! suppressed one `skipped` with its reason. Input errors and coverage gaps
//! are `error` test cases of the suite `driftaudit`, so a scan that did not
//! check everything never looks green. No times, no timestamps.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use super::{Finding, Report};

/// `Deployment shop/web`, or `(inventory)` for whole-inventory rules, with
/// the environment when the scan has some.
fn case_name(finding: &Finding) -> String {
    let resource = finding.resource_name();
    match &finding.environment {
        Some(environment) => format!("{resource} [{environment}]"),
        None => resource,
    }
}

fn describe(finding: &Finding) -> String {
    let mut text = finding.message.clone();
    if let Some(at) = &finding.location {
        text += &format!("\nat {}:{}", at.file, at.line);
    }
    if let Some(path) = &finding.path {
        text += &format!("\nfield {path}");
    }
    text += &format!(
        "\nseverity {}; fingerprint {}",
        finding.severity, finding.fingerprint
    );
    if let Some(owner) = &finding.owner {
        text += &format!("\nowner {owner}");
    }
    if let Some(suppression) = &finding.suppression {
        text += &format!("\nsuppressed by {}: {}", suppression.by, suppression.reason);
    }
    text += &format!("\nremediation: {}", finding.remediation);
    text
}

pub fn render(report: &Report) -> String {
    // rule → resource → (findings, suppressed findings)
    type Cases<'a> = BTreeMap<String, (Vec<&'a Finding>, Vec<&'a Finding>)>;
    let mut rules: BTreeMap<&str, Cases> = BTreeMap::new();
    for finding in &report.findings {
        let cases = rules.entry(&finding.rule).or_default();
        cases.entry(case_name(finding)).or_default().0.push(finding);
    }
    for finding in &report.suppressed_findings {
        let cases = rules.entry(&finding.rule).or_default();
        cases.entry(case_name(finding)).or_default().1.push(finding);
    }

    let mut junit = JUnit::new("driftaudit");
    let mut scan = TestSuite::new("driftaudit");
    let mut checked = TestCase::new("scan is complete", TestCaseStatus::success());
    checked.set_classname("driftaudit");
    if !report.errors.is_empty() || !report.coverage.is_empty() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(format!(
            "{} input error(s), {} coverage gap(s): not everything was checked",
            report.errors.len(),
            report.coverage.len()
        ));
        status.set_type("incomplete");
        let mut lines: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        lines.extend(report.coverage.iter().map(|g| {
            format!(
                "{} {}: {} — {}",
                g.target,
                g.source.as_str(),
                g.scope,
                g.reason
            )
        }));
        status.set_description(lines.join("\n"));
        checked = TestCase::new("scan is complete", status);
        checked.set_classname("driftaudit");
    }
    scan.add_test_case(checked);
    junit.add_test_suite(scan);

    // Looked up once per rule, not searched for (a saved report may be large).
    let by_id = report.rules_by_id();
    for (rule, cases) in rules {
        let title = by_id
            .get(rule)
            .map(|m| m.title.as_str())
            .unwrap_or_default();
        let mut suite = TestSuite::new(format!("{rule} {title}"));
        for (name, (found, suppressed)) in cases {
            // A finding fails the case; only suppressed ones skip it.
            let (mut status, listed) = match found.first() {
                Some(first) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(first.message.clone());
                    status.set_type(first.severity.as_str());
                    (status, &found)
                }
                None => {
                    let mut status = TestCaseStatus::skipped();
                    if let Some(s) = suppressed.first().and_then(|f| f.suppression.as_ref()) {
                        status.set_message(format!("suppressed by {}: {}", s.by, s.reason));
                    }
                    (status, &suppressed)
                }
            };
            status.set_description(
                listed
                    .iter()
                    .map(|f| describe(f))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            );
            let mut case = TestCase::new(name, status);
            case.set_classname(rule);
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    let mut text = junit.to_string().expect("JUnit XML serialises");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}
