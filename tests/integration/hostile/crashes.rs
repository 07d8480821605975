//! Inputs that used to abort the process (stack overflow, huge allocation):
//! each must end as an input error (exit 2) naming the file and line.

use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::common::{deployment_yaml, driftaudit, finish, run_in, write, Run};

/// Asserts a run ended with exit 2 (not a signal) and `needle` in its output.
fn assert_input_error(run: &Run, needle: &str) {
    assert_eq!(run.code, 2, "expected exit 2 (input error):\n{}", run.all());
    assert!(
        run.all().contains(needle),
        "no `{needle}` in:\n{}",
        run.all()
    );
}

/// A nested block sequence (`- - - … x`) `levels` deep, on one line.
fn nested_block_sequence(levels: usize) -> String {
    format!("{}x\n", "- ".repeat(levels))
}

fn scan_repo(dir: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--repo", "repo", "--format", "json"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn deeply_nested_block_yaml_manifest_is_an_input_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    write(dir.path(), "repo/deep.yaml", &nested_block_sequence(5_000));
    let run = scan_repo(dir.path(), &[]);
    assert_input_error(&run, "deep.yaml:1");
    assert!(run.all().contains("nested"), "{}", run.all());
}

#[test]
fn deeply_nested_block_mappings_over_many_lines_are_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n");
    for level in 0..400 {
        text.push_str(&" ".repeat(level + 1));
        text.push_str("a:\n");
    }
    write(dir.path(), "repo/deep.yaml", &text);
    let run = scan_repo(dir.path(), &[]);
    assert_input_error(&run, "deep.yaml:");
}

#[test]
fn sixty_thousand_level_config_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    write(
        dir.path(),
        "driftaudit.yaml",
        &format!("git:\n  paths:\n    {}", nested_block_sequence(60_000)),
    );
    let run = scan_repo(dir.path(), &["--config", "driftaudit.yaml"]);
    assert_input_error(&run, "driftaudit.yaml:");
}

#[test]
fn sixty_thousand_level_baseline_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    write(
        dir.path(),
        "deep-baseline.yaml",
        &format!("images:\n  x:\n    {}", nested_block_sequence(60_000)),
    );
    let run = scan_repo(dir.path(), &["--baseline", "deep-baseline.yaml"]);
    assert_input_error(&run, "deep-baseline.yaml:");
}

#[test]
fn deeply_nested_json_manifest_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{{\"kind\": {}1{}}}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    write(dir.path(), "repo/deep.json", &text);
    let run = scan_repo(dir.path(), &[]);
    assert_input_error(&run, "deep.json:1");
}

#[test]
fn deeply_nested_traefik_toml_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let text = format!(
        "[http.routers.r]\nrule = {}\"x\"{}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    write(dir.path(), "repo/traefik/dynamic.toml", &text);
    write(
        dir.path(),
        "driftaudit.yaml",
        "git:\n  traefik: [\"traefik/*.toml\"]\n",
    );
    let run = scan_repo(dir.path(), &["--config", "driftaudit.yaml"]);
    assert_input_error(&run, "dynamic.toml:");
}

#[test]
fn deeply_nested_snapshot_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let text = format!(
        "{{\"format\": {}1{}}}\n",
        "[".repeat(60_000),
        "]".repeat(60_000)
    );
    write(dir.path(), "snapshot.json", &text);
    let run = scan_repo(dir.path(), &["--live-snapshot", "snapshot.json"]);
    assert_input_error(&run, "snapshot.json:1");
}

const RULE_HEADER: &str = "package team.hostile\n\n# METADATA\n# title: Hostile rule\n# custom:\n#   id: HOSTILE-001\n#   kinds: [Deployment]\n";

#[test]
fn recursive_user_rego_function_is_rejected_at_load_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let policy = format!(
        "{RULE_HEADER}deny contains \"loop\" if {{\n  f(1)\n}}\n\nf(x) if {{\n  f(x + 1)\n}}\n"
    );
    write(dir.path(), "policies/hostile.rego", &policy);
    let run = scan_repo(dir.path(), &["--policy", "policies"]);
    assert_input_error(&run, "hostile.rego:12");
    assert!(run.all().contains("recursi"), "{}", run.all());
}

#[test]
fn mutually_recursive_user_rules_are_rejected_at_load() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let policy = format!(
        "{RULE_HEADER}deny contains \"loop\" if {{\n  ping(1)\n}}\n\nping(x) := y if {{\n  y := pong(x)\n}}\n\npong(x) := y if {{\n  y := ping(x)\n}}\n"
    );
    write(dir.path(), "policies/hostile.rego", &policy);
    let run = scan_repo(dir.path(), &["--policy", "policies"]);
    assert_input_error(&run, "hostile.rego:");
    assert!(run.all().contains("recursi"), "{}", run.all());
}

#[test]
fn huge_numbers_range_is_a_rule_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let policy = format!(
        "{RULE_HEADER}deny contains \"big\" if {{\n  count(numbers.range(0, 1e9)) > 0\n}}\n"
    );
    write(dir.path(), "policies/hostile.rego", &policy);
    let run = scan_repo(dir.path(), &["--policy", "policies"]);
    assert_input_error(&run, "HOSTILE-001");
    assert!(run.all().contains("numbers.range"), "{}", run.all());
}

const SLOW_RULE: &str = "deny contains \"slow\" if {\n  count([x | some x in numbers.range(0, 100000); some y in numbers.range(0, 100000)]) < 0\n}\n";

/// A slow rule over six Deployments, with the policy budget `budget` gives
/// (a flag, or a config file it writes).
fn slow_rule_stopped_by(budget: &dyn Fn(&std::path::Path) -> Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..6 {
        write(
            dir.path(),
            &format!("repo/web{i}.yaml"),
            &deployment_yaml(&format!("web{i}"), "shop", 3, "nginx:1.27"),
        );
    }
    write(
        dir.path(),
        "policies/hostile.rego",
        &format!("{RULE_HEADER}{SLOW_RULE}"),
    );
    let extra = budget(dir.path());
    let mut args = vec!["--policy", "policies"];
    args.extend(extra.iter().map(String::as_str));
    let started = Instant::now();
    let run = scan_repo(dir.path(), &args);
    let took = started.elapsed();
    assert_input_error(&run, "HOSTILE-001");
    assert!(run.all().contains("not evaluated"), "{}", run.all());
    assert!(took < Duration::from_secs(9), "took {took:?}");
}

#[test]
fn total_policy_budget_stops_a_slow_rule_across_many_inputs() {
    slow_rule_stopped_by(&|_| vec!["--policy-timeout".into(), "2".into()]);
}

#[test]
fn the_policy_budget_and_memory_bound_come_from_the_config_too() {
    slow_rule_stopped_by(&|dir| {
        write(dir, "driftaudit.yaml", "timeouts:\n  policy: 2\n");
        vec!["--config".into(), "driftaudit.yaml".into()]
    });
    // Zero is refused at its line, as the flags refuse it.
    for (text, key, line) in [
        ("timeouts:\n  policy: 0\n", "timeouts.policy", 2),
        ("policies:\n  memory: 0\n", "policies.memory", 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "repo/web.yaml",
            &deployment_yaml("web", "shop", 3, "nginx:1.27"),
        );
        write(dir.path(), "driftaudit.yaml", text);
        let run = scan_repo(dir.path(), &["--config", "driftaudit.yaml"]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains(key), "{}", run.all());
        assert!(
            run.stderr.contains(&format!("driftaudit.yaml:{line}")),
            "{}",
            run.all()
        );
    }
}

#[test]
fn policy_allocating_gigabytes_is_stopped_by_the_memory_bound() {
    allocating_rule_stopped_by(false);
}

#[test]
fn the_memory_bound_of_the_config_stops_it_too() {
    allocating_rule_stopped_by(true);
}

/// A rule allocating gigabytes, bounded to 256 MiB by `--policy-memory` or
/// by the config's `policies.memory`.
fn allocating_rule_stopped_by(config: bool) {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    // Each element is a new 2-million-number list (48 MB): gigabytes within seconds.
    let policy = format!(
        "{RULE_HEADER}deny contains \"big\" if {{\n  r := numbers.range(0, 999999)\n  count([array.concat(r, r) | some x in r]) < 0\n}}\n"
    );
    write(dir.path(), "policies/hostile.rego", &policy);
    let mut command = driftaudit();
    command.current_dir(dir.path()).args([
        "scan", "--repo", "repo", "--format", "json", "--policy", "policies",
    ]);
    if config {
        write(dir.path(), "driftaudit.yaml", "policies:\n  memory: 256\n");
        command.args(["--config", "driftaudit.yaml"]);
    } else {
        command.args(["--policy-memory", "256"]);
    }
    // Without a bound the rule fills the address space and the process aborts
    // on a failed allocation; the limit keeps the machine running the tests safe.
    // At 1.5 GiB it is below the default bound (2 GiB): only the 256 MiB asked
    // for, by the flag or by the config, stops the rule before the abort.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 3 << 29,
                rlim_max: 3 << 29,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = finish(&mut command);
    assert_input_error(&run, "HOSTILE-001");
    assert!(run.all().contains("--policy-memory"), "{}", run.all());
    assert!(!run.all().contains("usage="), "{}", run.all());
}

#[test]
fn recursion_across_two_files_reports_both_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    write(
        dir.path(),
        "policies/a.rego",
        &format!("{RULE_HEADER}deny contains \"a\" if {{\n  data.team.other.y\n}}\n"),
    );
    write(
        dir.path(),
        "policies/b.rego",
        "package team.other\n\n# METADATA\n# title: Other\n# custom:\n#   id: OTHER-001\n#   kinds: [Deployment]\ndeny contains \"other\" if true\n\ny if {\n  count(data.team.hostile.deny) > 0\n}\n",
    );
    let run = scan_repo(dir.path(), &["--policy", "policies"]);
    assert_input_error(&run, "a.rego:");
    // The other file is left out as a whole, and says why.
    assert!(
        run.all().contains("b.rego  Rego error: left out")
            || run.all().contains("\"policies/b.rego\""),
        "{}",
        run.all()
    );
    assert!(
        run.all().contains("takes part in the recursion"),
        "{}",
        run.all()
    );
}

#[test]
fn deeply_nested_rego_brackets_are_rejected_before_the_parser_spins() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &deployment_yaml("web", "shop", 3, "nginx:1.27"),
    );
    let nested = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let policy =
        format!("{RULE_HEADER}deny contains \"deep\" if {{\n  x := {nested}\n  count(x) > 5\n}}\n");
    write(dir.path(), "policies/deep.rego", &policy);
    let started = Instant::now();
    let run = scan_repo(dir.path(), &["--policy", "policies"]);
    assert_input_error(&run, "deep.rego:");
    assert!(run.all().contains("nested deeper than"), "{}", run.all());
    // A hang guard far above a normal run, not a speed target: the parser
    // alone would spin for hours on this file.
    assert!(started.elapsed() < Duration::from_secs(120));
}
