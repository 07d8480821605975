//! The report formats (docs/formats.md): SARIF valid against the OASIS
//! schema, JUnit XML that parses, GitHub annotations with file and line, the
//! Markdown comment, several outputs from one scan, and `driftaudit report`
//! rendering a saved JSON report byte for byte as the scan did.

use std::path::Path;

use crate::common::{driftaudit, finish, run, write};
use serde_json::Value;

const FORMATS: [&str; 8] = [
    "text",
    "json",
    "sarif",
    "github",
    "markdown",
    "junit",
    "openreports",
    "html",
];

/// The demo scan in one format (standard output), with no job summary file.
fn demo(format: &str, extra: &[&str]) -> crate::common::Run {
    let mut command = driftaudit();
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["scan", "--demo", "--format", format])
        .args(extra);
    let result = finish(&mut command);
    assert_eq!(
        result.code, 1,
        "the demo fails by design: {}",
        result.stderr
    );
    result
}

/// The SARIF 2.1.0 schema of the OASIS TC (`../shared/schemas/`, draft-04).
fn sarif_validator() -> jsonschema::Validator {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared schemas sit beside the checkout)",
            path.display()
        )
    }))
    .unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema loads")
}

pub(crate) fn assert_valid_sarif(sarif: &Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

#[test]
fn demo_sarif_validates_against_the_sarif_schema_and_carries_rules_and_locations() {
    let validator = sarif_validator();
    // The schema is strict enough to refuse a broken log.
    assert!(
        !validator.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]}))
    );

    for extra in [&[][..], &["--sarif-drift"][..]] {
        let sarif: Value = serde_json::from_str(&demo("sarif", extra).stdout).unwrap();
        assert_valid_sarif(&sarif);
        let run = &sarif["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        for result in results {
            // ruleIndex points at the rule of ruleId.
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"], "{result}");
            // Every result has a physical location (GitHub refuses a file otherwise).
            let physical = &result["locations"][0]["physicalLocation"];
            assert!(physical["artifactLocation"]["uri"].is_string(), "{result}");
        }
        let expired = results
            .iter()
            .find(|r| r["ruleId"] == "DA-CERT-001")
            .expect("the expired certificate");
        let physical = &expired["locations"][0]["physicalLocation"];
        assert_eq!(
            physical["artifactLocation"]["uri"],
            "apps/payments/legacy-tls.yaml"
        );
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], 8);
        assert_eq!(expired["level"], "error");
        assert_eq!(
            expired["partialFingerprints"]["driftaudit/v1"],
            "29c8702508e5f49c7c06827789a3fc54"
        );
        let rule = rules.iter().find(|r| r["id"] == "DA-CERT-001").unwrap();
        assert_eq!(rule["properties"]["security-severity"], "9.5");
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        assert!(rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Remediation: Renew"));
        assert!(rule["fullDescription"]["text"].as_str().unwrap().len() > 20);
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&Value::from("certificates")), "{tags:?}");
        // A live-only finding: logical location, and a made-up LIVE path.
        let live = results
            .iter()
            .find(|r| r["ruleId"] == "DA-PRIV-001")
            .expect("the privileged live-only Deployment");
        let location = &live["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "LIVE"
        );
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            "kubernetes/Deployment/shop/debug-shell"
        );
        let drift_results = results
            .iter()
            .filter(|r| r["ruleId"].as_str().unwrap().starts_with("drift/"))
            .count();
        if extra.is_empty() {
            assert_eq!(results.len(), 27);
            assert_eq!(drift_results, 0);
        } else {
            assert!(drift_results >= 6, "{drift_results}");
            // A modified field points at the declared line it contradicts.
            let log_level = results
                .iter()
                .find(|r| r["properties"]["path"] == "data.LOG_LEVEL")
                .expect("the drifted ConfigMap field");
            let physical = &log_level["locations"][0]["physicalLocation"];
            assert_eq!(
                physical["artifactLocation"]["uri"],
                "apps/shop/shop-config.yaml"
            );
            assert_eq!(physical["region"]["startLine"], 7);
        }
    }
}

#[test]
fn demo_junit_parses_as_junit_xml() {
    let xml = demo("junit", &[]).stdout;
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML");
    assert_eq!(
        parsed.failures, 26,
        "one failing test case per rule and resource"
    );
    assert_eq!(parsed.tests, 27);
    // And a plain XML parser (python3's xml.etree) agrees on its shape.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "junit.xml", &xml);
    let check = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as ET\n\
             root = ET.parse(sys.argv[1]).getroot()\n\
             assert root.tag == 'testsuites', root.tag\n\
             cases = root.findall('testsuite/testcase')\n\
             assert all(c.get('name') and c.get('classname') for c in cases)\n\
             print(len(cases), len(root.findall('testsuite/testcase/failure')))",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "27 26");
}

#[test]
fn github_annotations_carry_file_and_line_and_stay_within_the_step_limit() {
    let out = demo("github", &[]).stdout;
    let commands: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    let errors = commands
        .iter()
        .filter(|l| l.starts_with("::error "))
        .count();
    assert_eq!(errors, 10, "GitHub shows 10 errors per step:\n{out}");
    assert!(out.contains("10 more finding(s) not annotated"), "{out}");
    assert!(
        out.contains("::error file=apps/payments/legacy-tls.yaml,line=8,title=DA-CERT-001 Certificate expired::"),
        "{out}"
    );
    // Every finding with a declared file names it and its line.
    let declared = commands
        .iter()
        .filter(|l| l.contains(" file="))
        .filter(|l| !l.contains(",line="))
        .count();
    assert_eq!(declared, 0, "{out}");
    assert!(commands.iter().filter(|l| l.contains(",line=")).count() >= 12);
}

#[test]
fn github_format_appends_the_markdown_summary_to_the_step_summary_file() {
    let dir = tempfile::tempdir().unwrap();
    let summary = write(dir.path(), "summary.md", "earlier step\n");
    let result = finish(
        driftaudit()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["scan", "--demo", "--format", "github"]),
    );
    assert_eq!(result.code, 1, "{}", result.stderr);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n<!-- driftaudit-report -->\n"),
        "{text}"
    );
    assert_eq!(
        &text["earlier step\n".len()..],
        demo("markdown", &[]).stdout
    );
}

#[test]
fn every_format_of_the_demo_matches_its_golden_file() {
    // The text report's golden file is in demo.rs; JSON is checked field by field.
    for format in FORMATS
        .into_iter()
        .filter(|f| !["text", "json"].contains(f))
    {
        insta::assert_snapshot!(format!("demo_scan_{format}"), demo(format, &[]).stdout);
    }
    insta::assert_snapshot!(
        "demo_scan_sarif_drift",
        demo("sarif", &["--sarif-drift"]).stdout
    );
}

#[test]
fn one_scan_writes_several_outputs_and_report_renders_them_again_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).display().to_string();
    let mut args: Vec<String> = ["scan", "--demo", "--format", "json", "--sarif-drift"]
        .map(String::from)
        .to_vec();
    for format in FORMATS {
        args.push("--output".into());
        args.push(format!("{format}={}", at(&format!("scan.{format}"))));
    }
    let result = finish(
        driftaudit()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("GITHUB_STEP_SUMMARY")
            .args(&args),
    );
    assert_eq!(
        result.code, 1,
        "the format leaves the exit code alone: {}",
        result.stderr
    );
    let saved = std::fs::read_to_string(at("scan.json")).unwrap();
    assert_eq!(result.stdout, saved, "standard output is --format's report");
    for format in FORMATS {
        let rendered = finish(driftaudit().env_remove("GITHUB_STEP_SUMMARY").args([
            "report",
            "--input",
            &at("scan.json"),
            "--format",
            format,
            "--sarif-drift",
        ]));
        assert_eq!(rendered.code, 0, "{format}: {}", rendered.stderr);
        let scanned = std::fs::read_to_string(at(&format!("scan.{format}"))).unwrap();
        assert!(!scanned.is_empty());
        assert_eq!(
            rendered.stdout, scanned,
            "{format} differs after `report --input`"
        );
    }
    // A plain --output FILE takes standard output's place.
    let plain = at("plain.sarif");
    let result = run(&["scan", "--demo", "--format", "sarif", "--output", &plain]);
    assert_eq!(result.code, 1);
    assert_eq!(result.stdout, "");
    assert_eq!(
        std::fs::read_to_string(&plain).unwrap(),
        demo("sarif", &[]).stdout
    );
}

#[test]
fn an_output_that_cannot_be_written_is_an_input_error_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no/such/dir/out.sarif");
    let good = dir.path().join("j.xml");
    let result = run(&[
        "scan",
        "--demo",
        "--format",
        "json",
        "--output",
        &format!("sarif={}", bad.display()),
        "--output",
        &format!("junit={}", good.display()),
    ]);
    assert_eq!(result.code, 2, "{}", result.all());
    assert!(
        result.stderr.contains(&bad.display().to_string()),
        "{}",
        result.stderr
    );
    assert!(good.exists(), "the other outputs are still written");
}

#[test]
fn report_refuses_a_file_that_is_not_a_driftaudit_report() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "other.json",
            r#"{"tool": {"name": "trivy"}}"#,
            "not a driftaudit report",
        ),
        (
            "future.json",
            r#"{"schema_version": "3", "tool": {"name": "driftaudit", "version": "9"}}"#,
            "schema_version `3`",
        ),
        (
            "old.json",
            r#"{"schema_version": "1", "tool": {"name": "driftaudit", "version": "0.1.0"}}"#,
            "schema_version `1`",
        ),
        ("broken.json", "{", "EOF"),
        (
            "partial.json",
            r#"{"schema_version": "2", "tool": {"name": "driftaudit", "version": "0.1.0"}}"#,
            "missing field",
        ),
    ];
    for (name, text, reason) in cases {
        let path = write(dir.path(), name, text);
        let result = run(&[
            "report",
            "--input",
            &path.display().to_string(),
            "--format",
            "sarif",
        ]);
        assert_eq!(result.code, 2, "{name}: {}", result.all());
        assert_eq!(result.stdout, "", "{name}");
        assert!(result.stderr.contains(name), "{name}: {}", result.stderr);
        assert!(result.stderr.contains(reason), "{name}: {}", result.stderr);
        assert!(
            result.stderr.contains("schema_version 2"),
            "{}",
            result.stderr
        );
    }
    let missing = dir.path().join("absent.json").display().to_string();
    let result = run(&["report", "--input", &missing, "--format", "text"]);
    assert_eq!(result.code, 2);
    assert!(result.stderr.contains("absent.json"), "{}", result.stderr);
}

#[test]
fn report_json_lists_the_rules_of_its_findings() {
    let report = demo("json", &[]).stdout;
    let report: Value = serde_json::from_str(&report).unwrap();
    let ids: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "sorted, once each");
    let mut named: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    named.sort();
    named.dedup();
    assert_eq!(ids, named);
}

#[test]
fn markdown_backup_and_changed_waiver_lists_stop_at_the_row_limit_like_the_findings() {
    // The demo's JSON with 60 backup rows and 60 changed waivers, rendered
    // again by `report --input`: each list stops at 50 with the rest counted.
    let mut report: Value = serde_json::from_str(&demo("json", &[]).stdout).unwrap();
    let row = report["backups"][0].clone();
    report["backups"] = (0..60)
        .map(|i| {
            let mut row = row.clone();
            row["name"] = format!("shop/db-{i:02}").into();
            row
        })
        .collect();
    let changed: Vec<Value> = (0..60)
        .map(|i| {
            serde_json::json!({"location": {"file": ".driftaudit/waivers.yaml", "line": i + 1},
                "rule": "DA-IMG-001", "owner": "@shop", "expires": "2027-01-01",
                "change": "added", "waived_findings": 1})
        })
        .collect();
    report["waivers"] = serde_json::json!({"file": ".driftaudit/waivers.yaml", "total": 60,
        "waived_findings": 0, "expired": 0, "stale": [], "changed": changed});
    let gate_changes: Vec<Value> = (0..60)
        .map(|i| serde_json::json!({"path": format!("policies/p{i:02}.rego"), "change": "added"}))
        .collect();
    report["scan"]["compare"] = serde_json::json!({"base_ref": "main",
        "base_commit": "0".repeat(40), "fail_on_existing": false, "gate_changes": gate_changes});
    let dir = tempfile::tempdir().unwrap();
    let saved = write(
        dir.path(),
        "report.json",
        &serde_json::to_string(&report).unwrap(),
    );
    let run = run(&[
        "report",
        "--input",
        saved.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    let markdown = &run.stdout;
    assert!(markdown.contains("### Backups (60)"), "{}", run.all());
    assert!(markdown.contains("shop/db-49"), "{markdown}");
    assert!(!markdown.contains("shop/db-50"), "{markdown}");
    assert!(
        markdown.contains("### Waivers this change adds or extends (60)"),
        "{markdown}"
    );
    assert!(markdown.contains("waivers.yaml:50`"), "{markdown}");
    assert!(!markdown.contains("waivers.yaml:51`"), "{markdown}");
    assert!(
        markdown.contains("### The scan's own configuration changes (60)"),
        "{markdown}"
    );
    assert!(markdown.contains("policies/p49.rego"), "{markdown}");
    // GitHub shows 10 warnings per step: the first 10 of these 120 are
    // annotated ahead of the findings' warnings, the rest counted in a notice.
    let github = crate::common::run(&[
        "report",
        "--input",
        saved.to_str().unwrap(),
        "--format",
        "github",
    ])
    .stdout;
    let warnings: Vec<&str> = github
        .lines()
        .filter(|l| l.starts_with("::warning"))
        .collect();
    assert_eq!(warnings.len(), 10, "{github}");
    assert!(
        warnings.iter().all(|w| w.contains("by this change")),
        "{github}"
    );
    assert!(
        github.contains("::notice title=driftaudit::110 more changed waiver(s) or configuration file(s) not annotated"),
        "{github}"
    );
    assert!(!markdown.contains("policies/p50.rego"), "{markdown}");
    assert_eq!(
        markdown
            .matches("\n… and 10 more (the JSON report lists them all).")
            .count(),
        3,
        "{markdown}"
    );
}
