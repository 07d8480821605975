//! The renderers over hand-built reports: new, existing, fixed and
//! suppressed findings, hostile text, and the JSON round trip that
//! `driftaudit report --input` relies on.

use super::*;
use crate::diag::{Code, Place, Span};
use crate::model::{Location, ResourceRef, Source};

fn finding(rule: &str, name: &str, severity: Severity, state: Option<BaselineState>) -> Finding {
    Finding {
        owner: None,
        history: None,
        rule: rule.into(),
        title: format!("Title of {rule}"),
        severity,
        category: "privileges".into(),
        message: format!("container of {name} runs privileged"),
        resource: Some(ResourceRef {
            source: Source::Kubernetes,
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: name.into(),
        }),
        environment: None,
        states: vec![FindingState::Declared],
        targets: Vec::new(),
        location: Some(Location {
            file: format!("apps/{name}.yaml"),
            line: 12,
        }),
        path: Some("spec.template.spec.containers[0].securityContext.privileged".into()),
        remediation: "Drop privileged.".into(),
        controls: vec!["CIS-5.2.1".into()],
        fingerprint: format!("{:0>32}", name.len()),
        baseline_state: state,
        suppression: None,
    }
}

/// Two new findings, one existing, one suppressed, one fixed; an input
/// error and a coverage gap.
fn report() -> Report {
    let mut suppressed = finding("DA-PRIV-001", "agent", Severity::Critical, None);
    suppressed.suppression = Some(Suppression {
        kind: "external",
        by: "waivers".into(),
        reason: "vendor agent | until 2027 @team <b>".into(),
        owner: None,
        expires: None,
    });
    let mut live_only = finding(
        "DA-PRIV-002",
        "live-only",
        Severity::Medium,
        Some(BaselineState::New),
    );
    live_only.location = None;
    live_only.states = vec![FindingState::Live];
    live_only.message = "50% of it\nis | *odd* `x` @here <script>".into();
    let findings = vec![
        finding(
            "DA-PRIV-001",
            "web",
            Severity::Critical,
            Some(BaselineState::New),
        ),
        finding(
            "DA-PRIV-001",
            "old",
            Severity::Critical,
            Some(BaselineState::Existing),
        ),
        live_only,
        suppressed,
    ];
    let scan = ScanDescription {
        now: "2026-11-22T00:00:00Z".into(),
        declared: Some("repo".into()),
        commit: None,
        files_read: 3,
        live: Vec::new(),
        strict: false,
        policies: true,
        environments: Vec::new(),
        compare: None,
    };
    let errors = vec![
        Diagnostic::error(
            Code::Syntax,
            Place::span(
                "apps/bad.yaml",
                Span {
                    line: 3,
                    column: 7,
                    len: 1,
                },
            ),
            "bad YAML",
        ),
        Diagnostic::error(Code::Usage, Place::Argument("--now".into()), "bad time"),
    ];
    let coverage = vec![CoverageGap {
        source: Source::Kubernetes,
        target: "prod".into(),
        scope: "apps/v1 Deployment in shop".into(),
        reason: "forbidden".into(),
        endpoint: String::new(),
        kind: None,
    }];
    let mut report = Report::assemble(
        scan,
        None,
        3,
        0,
        Vec::new(),
        findings,
        Vec::new(),
        coverage,
        errors,
        2,
        Some(Severity::High),
        false,
        false,
    );
    report.fixed_findings = vec![finding("DA-PRIV-003", "gone", Severity::High, None)];
    report.attach_rules(&[RuleMeta {
        id: "DA-PRIV-001".into(),
        title: "Privileged container".into(),
        description: "A container runs privileged.".into(),
        severity: Severity::Critical,
        category: "privileges".into(),
        remediation: "Drop privileged.".into(),
        controls: vec!["CIS-5.2.1".into()],
    }]);
    report
}

use crate::model::{CoverageGap, InputError as Diagnostic};

fn all_formats(report: &Report) -> Vec<String> {
    vec![
        json::render(report),
        sarif::render(report, &sarif::SarifOptions { drift: true }),
        github::render(report),
        markdown::render(report),
        junit::render(report),
        html::render(report),
        text::render(
            report,
            &text::TextOptions {
                style: text::Style { color: false },
                diffs: true,
                list_in_sync: true,
                list_suppressed: true,
            },
        ),
    ]
}

#[test]
fn a_report_read_back_from_json_renders_byte_for_byte_the_same() {
    let report = report();
    let read = Report::from_json(&json::render(&report)).expect("reads back");
    assert_eq!(all_formats(&read), all_formats(&report));
    assert_eq!(read.errors[0].to_string(), "apps/bad.yaml:3:7: bad YAML");
}

#[test]
fn the_rules_list_every_rule_a_finding_names() {
    let report = report();
    let ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["DA-PRIV-001", "DA-PRIV-002", "DA-PRIV-003"]);
    assert_eq!(report.rules[0].description, "A container runs privileged.");
    // Not in the catalog: taken from its finding.
    assert_eq!(report.rules[1].description, "Title of DA-PRIV-002");
    // Attached again after more findings (a compared base's fixed ones):
    // what was listed stays, the new rule is added.
    let mut report = report;
    report
        .fixed_findings
        .push(finding("DA-PRIV-004", "other", Severity::Low, None));
    report.attach_rules(&[]);
    let ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["DA-PRIV-001", "DA-PRIV-002", "DA-PRIV-003", "DA-PRIV-004"]
    );
    assert_eq!(report.rules[0].description, "A container runs privileged.");
}

#[test]
fn sarif_marks_new_existing_and_suppressed_and_leaves_fixed_out() {
    let report = report();
    let sarif: serde_json::Value =
        serde_json::from_str(&sarif::render(&report, &Default::default())).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let state = |name: &str| {
        results
            .iter()
            .find(|r| r["properties"]["resource"] == format!("Deployment shop/{name}"))
            .unwrap_or_else(|| panic!("no result for {name}"))
    };
    assert_eq!(state("web")["baselineState"], "new");
    assert_eq!(state("old")["baselineState"], "unchanged");
    let agent = state("agent");
    assert!(agent.get("baselineState").is_none());
    assert_eq!(agent["suppressions"][0]["kind"], "external");
    assert_eq!(agent["suppressions"][0]["status"], "accepted");
    assert_eq!(
        agent["suppressions"][0]["justification"],
        "vendor agent | until 2027 @team <b>"
    );
    assert_eq!(agent["suppressions"][0]["properties"]["by"], "waivers");
    assert!(state("web").get("suppressions").is_none());
    // Fixed findings are not results (GitHub would open them again).
    assert_eq!(results.len(), 4);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 2, "the fixed finding's rule is not listed");
    assert_eq!(rules[0]["properties"]["tags"][2], "CIS-5.2.1");
    // The live-only finding: a LIVE path and the resource as a logical location.
    let live = state("live-only");
    assert_eq!(
        live["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "driftaudit-live/kubernetes/Deployment/shop/live-only"
    );
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

#[test]
fn markdown_puts_new_findings_first_folds_the_rest_and_escapes_messages() {
    let text = markdown::render(&report());
    assert!(text.starts_with("<!-- driftaudit-report -->\n"), "{text}");
    let new = text.find("### New findings (2)").expect("new findings");
    let existing = text
        .find("<details><summary>Existing findings (1)</summary>")
        .expect("existing folded");
    let suppressed = text
        .find("<details><summary>Suppressed findings (1)</summary>")
        .expect("suppressed folded");
    let fixed = text
        .find("<details><summary>Fixed findings (1)</summary>")
        .expect("fixed folded");
    assert!(new < existing && existing < suppressed && suppressed < fixed);
    assert!(
        text.contains(r"50% of it is \| \*odd\* \`x\` &#64;here &lt;script&gt;"),
        "{text}"
    );
    assert!(
        text.contains(r"vendor agent \| until 2027 &#64;team &lt;b&gt;"),
        "{text}"
    );
    assert!(!text.contains("<script>") && !text.contains("@here"));
    // Every table row has as many cells as its header.
    for line in text.lines().filter(|l| l.starts_with('|')) {
        let cells = line.replace(r"\|", "").matches('|').count();
        assert!(cells == 6 || cells == 7 || cells == 8, "{cells}: {line}");
    }
    assert!(text.contains("**Not checked:** 2 input error(s), 1 coverage gap(s)"));
    assert_eq!(text, markdown::render(&report()), "stable");
}

#[test]
fn github_annotates_new_findings_first_escapes_and_skips_suppressed() {
    let out = github::render(&report());
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(
            "::error file=apps/web.yaml,line=12,title=DA-PRIV-001 Title of DA-PRIV-001::"
        ),
        "{out}"
    );
    assert!(lines[0].contains("(new)"));
    assert!(lines[1].starts_with("::warning title=DA-PRIV-002"), "{out}");
    assert!(lines[1].contains("50%25 of it%0Ais"), "{out}");
    assert!(
        lines[2].starts_with("::error file=apps/old.yaml,line=12,"),
        "{out}"
    );
    assert!(lines[2].contains("(existing)"));
    assert!(
        !out.contains("agent"),
        "suppressed findings are not annotated"
    );

    // Past ten of a kind, the rest is counted.
    let mut many = report();
    many.findings = (0..25)
        .map(|i| finding("DA-PRIV-001", &format!("w{i}"), Severity::High, None))
        .collect();
    let out = github::render(&many);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("::error ")).count(),
        10
    );
    assert!(
        out.contains("::notice title=driftaudit::15 more finding(s) not annotated"),
        "{out}"
    );
}

#[test]
fn no_untrusted_text_starts_a_workflow_command_or_breaks_a_markdown_code_span() {
    let mut hostile = report();
    let name = "web\n::stop-commands::x\r\u{1b}]8;;https://evil.example\u{7}\u{202e}";
    hostile.findings = vec![finding("DA-PRIV-001", name, Severity::High, None)];
    hostile.findings[0].rule = "R\r<img src=https://evil.example/a.png>".into();
    let out = github::render(&hostile);
    for line in out.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::notice ")
                || line.starts_with("driftaudit: "),
            "a line of its own: {line:?} in {out}"
        );
    }
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'));
    assert!(
        out.contains("[Deployment shop/web%0A::stop-commands::x%0D\\u{1b}"),
        "{out}"
    );
    let markdown = markdown::render(&hostile);
    assert!(!markdown.contains("<img"), "{markdown}");
    assert!(
        !markdown.contains('\r') && !markdown.contains('\u{202e}'),
        "{markdown}"
    );
}

#[test]
fn junit_fails_findings_skips_suppressed_and_errors_an_incomplete_scan() {
    let xml = junit::render(&report());
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML");
    let cases: Vec<(String, String)> = parsed
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .map(|c| {
            let status = match &c.status {
                quick_junit::TestCaseStatus::Success { .. } => "pass",
                quick_junit::TestCaseStatus::Skipped { .. } => "skipped",
                quick_junit::TestCaseStatus::NonSuccess { kind, .. } => match kind {
                    quick_junit::NonSuccessKind::Failure => "failure",
                    quick_junit::NonSuccessKind::Error => "error",
                },
            };
            (c.name.as_str().to_string(), status.to_string())
        })
        .collect();
    let status = |name: &str| {
        cases
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.as_str())
            .unwrap_or_else(|| panic!("no case {name}: {cases:?}"))
    };
    assert_eq!(status("scan is complete"), "error");
    assert_eq!(status("Deployment shop/web"), "failure");
    assert_eq!(status("Deployment shop/agent"), "skipped");
    assert_eq!(cases.len(), 5, "{cases:?}");
    assert!(xml.contains("suppressed by waivers: vendor agent"));
}

#[test]
fn a_json_that_is_no_report_is_refused_with_the_reason() {
    assert!(Report::from_json("[]")
        .unwrap_err()
        .contains("not a driftaudit report"));
    let mut value: serde_json::Value = serde_json::from_str(&json::render(&report())).unwrap();
    for old in ["1", "3"] {
        value["schema_version"] = old.into();
        assert!(Report::from_json(&value.to_string())
            .unwrap_err()
            .contains(&format!("schema_version `{old}`")));
    }
    value["schema_version"] = "2".into();
    value["errors"][0]["code"] = "DA-E999".into();
    assert!(Report::from_json(&value.to_string())
        .unwrap_err()
        .contains("unknown diagnostic code"));
}

#[test]
fn html_shows_every_part_of_an_incomplete_scan_and_escapes_hostile_text() {
    let html = html::render(&report());
    // Incomplete: the gap and the input errors are said up front and listed.
    assert!(html.contains("<p id=\"incomplete\"><strong>Not everything was checked:</strong> 1 coverage gap(s), 2 input error(s)"), "{html}");
    assert!(html.contains("<td>apps&#x2f;v1 Deployment in shop</td><td>forbidden</td>"));
    assert!(html.contains("apps&#x2f;bad.yaml:3:7: bad YAML"));
    assert!(html.contains("Drift: not checked (no live source)"));
    // Suppressed with its reason, fixed in their own section.
    assert!(html.contains("id=\"suppressed-1\""));
    assert!(html.contains("waivers: vendor agent | until 2027 @team &lt;b&gt;"));
    assert!(html.contains("id=\"fixed-1\""));
    // A line break in a message is shown escaped, markup as text.
    assert!(html.contains("50% of it\\nis | *odd* `x` @here &lt;script&gt;"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<b>"));
    // No controls section without --framework.
    assert!(!html.contains("id=\"controls\""));
}
