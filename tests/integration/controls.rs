//! Controls as data (docs/controls.md): `policy list` shows each rule's
//! `custom.controls`, `--control` filters by them, findings carry them, and a
//! user rule's malformed list is a METADATA error at its line.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{deployment_yaml, findings_for, run, run_in, write};

/// rule id -> controls, from `policy list --format json` with `extra` arguments.
fn listed(extra: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut args = vec!["policy", "list", "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    let rules: Value = serde_json::from_str(&r.stdout).unwrap();
    rules
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            let controls = rule["controls"]
                .as_array()
                .unwrap_or_else(|| panic!("no controls array in {rule}"))
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            (rule["id"].as_str().unwrap().to_string(), controls)
        })
        .collect()
}

#[test]
fn policy_list_shows_the_controls_of_every_builtin_rule() {
    let rules = listed(&[]);
    assert!(rules.len() > 60, "{}", rules.len());
    for (id, controls) in &rules {
        assert!(!controls.is_empty(), "{id} lists no controls");
    }
    assert_eq!(
        rules["DA-PSS-PRIVILEGED"],
        [
            "CIS-K8s-1.10:5.2.2",
            "NSA-CISA-1.2:Kubernetes Pod security",
            "PSS:baseline/Privileged Containers"
        ]
    );
    assert!(rules["DA-CERT-001"].contains(&"ISO27001-2022:A.8.24".to_string()));
    assert!(rules["DA-BAK-001"].contains(&"ISO27001-2022:A.8.13".to_string()));
    assert!(rules["DA-PRIV-008"].contains(&"ISO27001-2022:A.8.2".to_string()));

    let text = run(&["policy", "list"]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout
            .contains("CIS-K8s-1.10:5.2.2, NSA-CISA-1.2:Kubernetes Pod security, PSS:baseline/Privileged Containers\n"),
        "{}",
        text.stdout
    );
}

#[test]
fn policy_list_filters_by_control_prefix_at_a_boundary() {
    let all = listed(&[]);
    let pod_security = listed(&["--control", "CIS-K8s-1.10:5.2"]);
    let expected: Vec<&String> = all
        .iter()
        .filter(|(_, controls)| controls.iter().any(|c| c.starts_with("CIS-K8s-1.10:5.2.")))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(pod_security.keys().collect::<Vec<_>>(), expected);
    assert!(pod_security.contains_key("DA-PSS-HOST-PORTS"));
    assert!(!pod_security.contains_key("DA-BAK-001"));
    assert!(!pod_security.contains_key("DA-RBAC-001"));

    // 5.2.1 is not 5.2.12 or 5.2.13: no built-in rule evidences 5.2.1 itself.
    assert!(listed(&["--control", "CIS-K8s-1.10:5.2.1"]).is_empty());
    // Several prefixes: any of them.
    let either = listed(&["--control", "SOC2-2017:A1", "--control", "PSS:restricted"]);
    assert!(either.contains_key("DA-BAK-012"));
    assert!(either.contains_key("DA-PSS-RUN-AS-USER"));
    assert!(!either.contains_key("DA-PSS-PRIVILEGED"));

    let text = run(&["policy", "list", "--control", "ISO27001-2022:A.8.13"]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(text.stdout.ends_with("\n18 rules\n"), "{}", text.stdout);
    assert!(!text.stdout.contains("DA-CERT"), "{}", text.stdout);
}

#[test]
fn scan_findings_carry_their_rules_controls() {
    let rules = listed(&[]);
    let result = run(&["scan", "--demo", "--format", "json"]);
    assert_eq!(result.code, 1, "{}", result.all());
    let report = result.json();
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for finding in findings {
        let rule = finding["rule"].as_str().unwrap();
        let carried: Vec<&str> = finding["controls"]
            .as_array()
            .unwrap_or_else(|| panic!("no controls on {finding}"))
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(carried, rules[rule], "{rule}");
    }
}

const OWN_RULE: &str = "package team.own\n\n# METADATA\n# custom:\n#   id: OWN-1\n#   severity: high\n#   kinds: [Deployment]\nCONTROLS\ndeny contains \"found\" if true\n";

fn scan_with_own_rule(controls: &str) -> crate::common::Run {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 2, "registry.example/web:1.0"),
    );
    write(
        dir.path(),
        "policies/own.rego",
        &OWN_RULE.replace("CONTROLS\n", controls),
    );
    run_in(
        dir.path(),
        &[
            "scan", "--repo", "repo", "--policy", "policies", "--format", "json",
        ],
    )
}

#[test]
fn a_user_rule_may_name_its_own_controls_or_none() {
    let named = scan_with_own_rule("#   controls: [ACME-SEC-7, \"CIS-K8s-1.10:5.7.4\"]\n");
    assert_eq!(named.code, 1, "{}", named.all());
    let report = named.json();
    let own = findings_for(&report, "OWN-1", "web");
    assert_eq!(own.len(), 1, "{}", named.all());
    assert_eq!(
        own[0]["controls"],
        serde_json::json!(["ACME-SEC-7", "CIS-K8s-1.10:5.7.4"])
    );

    let none = scan_with_own_rule("");
    assert_eq!(none.code, 1, "{}", none.all());
    let report = none.json();
    let own = findings_for(&report, "OWN-1", "web");
    assert_eq!(own.len(), 1, "{}", none.all());
    assert!(own[0].get("controls").is_none(), "{}", own[0]);
}

#[test]
fn a_user_rules_controls_that_are_not_a_list_of_strings_are_an_error_at_their_line() {
    for (controls, says) in [
        (
            "#   controls: CIS-K8s-1.10:5.2.2\n",
            "must be a list of strings, not a string",
        ),
        (
            "#   controls:\n#     - 5.2\n",
            "item 1 must be a string, not a number",
        ),
    ] {
        let r = scan_with_own_rule(controls);
        assert_eq!(r.code, 2, "{}", r.all());
        // The one error: the rule is not evaluated, and the scan says so.
        let errors = r.json()["errors"].clone();
        assert_eq!(errors.as_array().map(Vec::len), Some(1), "{errors}");
        let error = &errors[0];
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("METADATA `custom.controls` "),
            "{error}"
        );
        assert_eq!(error["location"], "policies/own.rego:8", "{error}");
        assert!(
            error["message"].as_str().unwrap().ends_with(says),
            "{error}"
        );
        assert_eq!(error["code"], "DA-E302", "{error}");
    }
}
