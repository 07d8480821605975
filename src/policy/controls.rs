//! Control ids: how a rule's `custom.controls` names what it evidences
//! (docs/controls.md). Each id is `<framework>-<version>:<control>` for one of
//! the frameworks below, and only controls the framework has are accepted, so
//! a typo (`CIS-5.2.2`, `ISO27001-2022:A.8.99`) is caught by the test that
//! checks every built-in rule. A user's rule may name any controls, or none.

/// CIS Kubernetes Benchmark v1.10.0, section 5 "Policies": every
/// recommendation id of the section.
const CIS_K8S_1_10: &[&str] = &[
    "5.1.1", "5.1.2", "5.1.3", "5.1.4", "5.1.5", "5.1.6", "5.1.7", "5.1.8", "5.1.9", "5.1.10",
    "5.1.11", "5.1.12", "5.1.13", "5.2.1", "5.2.2", "5.2.3", "5.2.4", "5.2.5", "5.2.6", "5.2.7",
    "5.2.8", "5.2.9", "5.2.10", "5.2.11", "5.2.12", "5.2.13", "5.3.1", "5.3.2", "5.4.1", "5.4.2",
    "5.5.1", "5.7.1", "5.7.2", "5.7.3", "5.7.4",
];

/// NSA/CISA Kubernetes Hardening Guidance v1.2 (August 2022): its main
/// sections, named as the guidance names them.
const NSA_CISA_1_2: &[&str] = &[
    "Kubernetes Pod security",
    "Network separation and hardening",
    "Authentication and authorization",
    "Audit logging and threat detection",
    "Upgrading and application security practices",
];

/// Pod Security Standards: `<level>/<control>`, the control named as the
/// Kubernetes documentation names it.
const PSS: &[&str] = &[
    "baseline/HostProcess",
    "baseline/Host Namespaces",
    "baseline/Privileged Containers",
    "baseline/Capabilities",
    "baseline/HostPath Volumes",
    "baseline/Host Ports",
    "baseline/AppArmor",
    "baseline/SELinux",
    "baseline//proc Mount Type",
    "baseline/Seccomp",
    "baseline/Sysctls",
    "restricted/Volume Types",
    "restricted/Privilege Escalation",
    "restricted/Running as Non-root",
    "restricted/Running as Non-root user",
    "restricted/Seccomp",
    "restricted/Capabilities",
];

/// ISO/IEC 27001:2022 Annex A: the number of controls of each theme
/// (A.5 organizational 37, A.6 people 8, A.7 physical 14, A.8 technological 34).
const ISO27001_2022: &[(u32, u32)] = &[(5, 37), (6, 8), (7, 14), (8, 34)];

/// SOC 2, 2017 Trust Services Criteria: each series and its last point
/// (CC1.1 to CC1.5, ..., A1.1 to A1.3, P1.1, P3.1 to P3.2, ...).
const SOC2_2017: &[(&str, u32)] = &[
    ("CC1.", 5),
    ("CC2.", 3),
    ("CC3.", 4),
    ("CC4.", 2),
    ("CC5.", 3),
    ("CC6.", 8),
    ("CC7.", 5),
    ("CC8.", 1),
    ("CC9.", 2),
    ("A1.", 3),
    ("C1.", 2),
    ("PI1.", 5),
    ("P1.", 1),
    ("P2.", 1),
    ("P3.", 2),
    ("P4.", 3),
    ("P5.", 2),
    ("P6.", 7),
    ("P7.", 1),
    ("P8.", 1),
];

/// The framework prefixes (`<name>-<version>:`, `PSS:`), in docs order.
pub const FRAMEWORKS: &[&str] = &[
    "CIS-K8s-1.10:",
    "NSA-CISA-1.2:",
    "PSS:",
    "ISO27001-2022:",
    "SOC2-2017:",
];

/// Checks that `id` names a control of a known framework version, or says
/// what is wrong with it.
pub fn check_control_id(id: &str) -> Result<(), String> {
    let Some((framework, control)) = id.split_once(':') else {
        return Err(format!(
            "`{id}` has no framework prefix (one of {})",
            FRAMEWORKS.join(" ")
        ));
    };
    let known = match framework {
        "CIS-K8s-1.10" => CIS_K8S_1_10.contains(&control),
        "NSA-CISA-1.2" => NSA_CISA_1_2.contains(&control),
        "PSS" => PSS.contains(&control),
        "ISO27001-2022" => iso_control(control),
        "SOC2-2017" => soc2_criterion(control),
        _ => {
            return Err(format!(
                "`{id}`: unknown framework `{framework}` (one of {})",
                FRAMEWORKS.join(" ")
            ))
        }
    };
    if known {
        Ok(())
    } else {
        Err(format!("`{id}`: {framework} has no control `{control}`"))
    }
}

/// Whether `control` falls under `prefix` (`policy list --control`): equal,
/// or longer at a boundary, so `CIS-K8s-1.10:5.2` takes `5.2.2` and
/// `5.2.13`, `CIS-K8s-1.10:5.2.1` takes `5.2.1` only, and `ISO27001` or
/// `ISO27001-2022:` take every ISO control.
pub fn under_prefix(control: &str, prefix: &str) -> bool {
    let Some(rest) = control.strip_prefix(prefix) else {
        return false;
    };
    rest.is_empty()
        || prefix.ends_with([':', '.', '/', '-'])
        || rest.starts_with([':', '.', '/', '-'])
}

/// `A.<theme>.<n>` within the theme's range.
fn iso_control(control: &str) -> bool {
    let Some(rest) = control.strip_prefix("A.") else {
        return false;
    };
    let Some((theme, number)) = rest.split_once('.') else {
        return false;
    };
    let (Some(theme), Some(number)) = (plain_number(theme), plain_number(number)) else {
        return false;
    };
    ISO27001_2022
        .iter()
        .any(|&(t, last)| t == theme && (1..=last).contains(&number))
}

/// `<series><n>` within the series' range.
fn soc2_criterion(control: &str) -> bool {
    SOC2_2017.iter().any(|&(series, last)| {
        control
            .strip_prefix(series)
            .and_then(plain_number)
            .is_some_and(|n| (1..=last).contains(&n))
    })
}

/// A decimal number without sign or leading zero.
fn plain_number(text: &str) -> Option<u32> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::library::{builtin_policy_files, rules_of, RuleInfo};

    fn builtin_rules() -> Vec<RuleInfo> {
        builtin_policy_files()
            .iter()
            .filter(|f| !f.is_test())
            .flat_map(|f| rules_of(f).expect("built-in METADATA is valid"))
            .collect()
    }

    #[test]
    fn known_ids_pass_and_typos_fail() {
        for good in [
            "CIS-K8s-1.10:5.2.2",
            "CIS-K8s-1.10:5.1.13",
            "NSA-CISA-1.2:Kubernetes Pod security",
            "PSS:baseline//proc Mount Type",
            "PSS:restricted/Running as Non-root user",
            "ISO27001-2022:A.8.24",
            "ISO27001-2022:A.5.37",
            "SOC2-2017:CC6.1",
            "SOC2-2017:A1.2",
        ] {
            assert_eq!(check_control_id(good), Ok(()), "{good}");
        }
        for bad in [
            "CIS-5.2.2",
            "CIS-K8s-1.10:5.2.14",
            "CIS-K8s-1.9:5.2.2",
            "CIS-K8s-1.10:5.6.1",
            "NSA-CISA-1.2:Pod security",
            "NSA-CISA:Kubernetes Pod security",
            "PSS:Privileged Containers",
            "PSS:baseline/Privileged containers",
            "PSS:restricted/HostProcess",
            "ISO27001-2022:A.8.35",
            "ISO27001-2022:A.9.2.3",
            "ISO27001-2022:A.8.024",
            "ISO27001:A.8.24",
            "SOC2-2017:CC6.9",
            "SOC2-2017:CC6.",
            "SOC2-2017:A1.+2",
            "SOC2:CC6.1",
            "",
            "cis-k8s-1.10:5.2.2",
        ] {
            assert!(check_control_id(bad).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn prefixes_match_at_a_boundary() {
        let cis = "CIS-K8s-1.10:5.2.13";
        for yes in [
            "CIS",
            "CIS-K8s-1.10",
            "CIS-K8s-1.10:",
            "CIS-K8s-1.10:5.2",
            cis,
        ] {
            assert!(under_prefix(cis, yes), "{yes}");
        }
        for no in [
            "CIS-K8s-1.10:5.2.1",
            "CIS-K8s-1.1",
            "CIS-K8s-1.10:5.2.13.1",
            "cis",
            "PSS",
        ] {
            assert!(!under_prefix(cis, no), "{no}");
        }
        assert!(under_prefix("PSS:baseline/Seccomp", "PSS:baseline"));
        assert!(!under_prefix("PSS:baseline/Seccomp", "PSS:base"));
    }

    #[test]
    fn every_builtin_rule_names_known_controls() {
        let rules = builtin_rules();
        assert!(rules.len() > 60, "{} rules", rules.len());
        for rule in &rules {
            assert!(
                !rule.controls.is_empty(),
                "{} ({}) lists no controls",
                rule.id,
                rule.location
            );
            for control in &rule.controls {
                if let Err(problem) = check_control_id(control) {
                    panic!("{} ({}): {problem}", rule.id, rule.location);
                }
            }
            let mut unique = rule.controls.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                rule.controls.len(),
                "{} repeats a control",
                rule.id
            );
        }
    }

    /// docs/controls.md has one table row per built-in rule with exactly its
    /// controls, in the order the rule lists them.
    #[test]
    fn docs_list_every_rule_with_exactly_its_controls() {
        let docs = include_str!("../../docs/controls.md");
        let mut documented = std::collections::BTreeMap::new();
        for line in docs.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // | `DA-X-001` | title | `a`, `b` |
            if cells.len() == 5 && cells[1].starts_with("`DA-") {
                let id = cells[1].trim_matches('`').to_string();
                let controls: Vec<String> = cells[3]
                    .split("`, `")
                    .map(|c| c.trim_matches('`').to_string())
                    .collect();
                assert!(
                    documented.insert(id.clone(), controls).is_none(),
                    "{id} twice in docs/controls.md"
                );
            }
        }
        let rules = builtin_rules();
        for rule in &rules {
            assert_eq!(
                documented.remove(&rule.id).as_ref(),
                Some(&rule.controls),
                "docs/controls.md row of {} (expected `{}`)",
                rule.id,
                rule.controls.join("`, `")
            );
        }
        assert!(
            documented.is_empty(),
            "docs/controls.md lists rules that do not exist: {:?}",
            documented.keys()
        );
    }
}
