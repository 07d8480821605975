//! The conventions of the command line itself: `-v`/`-q` and `RUST_LOG` on
//! standard error (never on standard output), no progress drawn when standard
//! error is not a terminal, shell completions and the manual page.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::common::{driftaudit, finish, run, run_in, write, Run};

fn with_env(args: &[&str], key: &str, value: &str) -> Run {
    finish(
        driftaudit()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env(key, value)
            .args(args),
    )
}

/// A repository with one Deployment, a baseline file, and a policy directory
/// with no policy in it.
fn repo_with_inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "repo/web.yaml",
        &crate::common::deployment_yaml("web", "shop", 2, "nginx:1.25"),
    );
    write(
        dir.path(),
        "team-baseline.yaml",
        "images:\n  approved_registries: [\"nginx\"]\n",
    );
    std::fs::create_dir_all(dir.path().join("no-policies")).unwrap();
    write(
        dir.path(),
        "driftaudit.yaml",
        "version: 1\nbaselines: [\"team-baseline.yaml\"]\n",
    );
    dir
}

const SCAN: [&str; 9] = [
    "scan",
    "--repo",
    "repo",
    "--policy",
    "no-policies",
    "--now",
    "2026-11-21T12:00:00Z",
    "--fail-on",
    "none",
];

#[test]
fn verbose_says_what_was_read_on_stderr_only() {
    let dir = repo_with_inputs();
    let quiet_default = run_in(dir.path(), &SCAN);
    assert_eq!(quiet_default.code, 0, "{}", quiet_default.all());
    let mut args = SCAN.to_vec();
    args.push("-v");
    let verbose = run_in(dir.path(), &args);
    assert_eq!(verbose.code, 0, "{}", verbose.all());
    // The report is the same; everything said goes to stderr.
    assert_eq!(verbose.stdout, quiet_default.stdout);
    for read in [
        "read the config file file=driftaudit.yaml",
        "read the baseline file file=team-baseline.yaml",
        "INFO",
    ] {
        assert!(
            verbose.stderr.contains(read),
            "no `{read}` in:\n{}",
            verbose.stderr
        );
    }
    assert!(
        !quiet_default.stderr.contains("INFO"),
        "{}",
        quiet_default.stderr
    );
}

#[test]
fn warnings_show_by_default_and_quiet_hides_them_but_not_errors() {
    let dir = repo_with_inputs();
    let warning = "the policy directory holds no .rego file dir=no-policies";
    let default = run_in(dir.path(), &SCAN);
    assert!(default.stderr.contains("WARN"), "{}", default.stderr);
    assert!(default.stderr.contains(warning), "{}", default.stderr);

    let mut args = SCAN.to_vec();
    args.push("-q");
    let quiet = run_in(dir.path(), &args);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert_eq!(quiet.stderr, "", "-q prints nothing but errors");
    assert_eq!(quiet.stdout, default.stdout);

    // Errors still show with -q.
    let error = run_in(
        dir.path(),
        &["-q", "scan", "--repo", "repo", "--now", "yesterday"],
    );
    assert_eq!(error.code, 2, "{}", error.all());
    assert!(error.stderr.contains("--now"), "{}", error.stderr);

    // -q and -v together make no sense.
    assert_eq!(run_in(dir.path(), &["-q", "-v", "scan", "--demo"]).code, 2);
}

#[test]
fn rust_log_wins_over_the_flags_when_set() {
    // Without RUST_LOG, -v opens info.
    let verbose = run(&["-v", "scan", "--demo"]);
    assert!(
        verbose.stderr.contains("read the config file"),
        "{}",
        verbose.stderr
    );
    // RUST_LOG=error closes what -v opens, and hides warnings.
    let closed = with_env(&["-v", "scan", "--demo"], "RUST_LOG", "error");
    assert_eq!(closed.stderr, "", "{}", closed.stderr);
    // RUST_LOG opens info without -v.
    let open = with_env(&["scan", "--demo"], "RUST_LOG", "driftaudit=info");
    assert!(
        open.stderr.contains("read the config file"),
        "{}",
        open.stderr
    );
    // A RUST_LOG that is not a filter is said, and the flags apply.
    let bad = with_env(&["scan", "--demo"], "RUST_LOG", "driftaudit=[[[");
    assert!(bad.stderr.contains("RUST_LOG ignored"), "{}", bad.stderr);
    assert_eq!(bad.code, 1, "{}", bad.all());
}

#[test]
fn nothing_is_drawn_on_stderr_when_it_is_not_a_terminal() {
    // The demo reads the declared repository, a live snapshot and the
    // policies, the units of work the progress indicator follows; with stderr
    // a pipe, it stays empty.
    let result = run(&["scan", "--demo"]);
    assert_eq!(result.code, 1, "{}", result.all());
    assert_eq!(result.stderr, "");
}

#[test]
fn on_a_terminal_the_scan_and_its_report_are_unchanged() {
    // `script` runs the scan with a pseudo-terminal as stdin, stdout and
    // stderr: the progress layer is installed; the report goes to a file.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let command = format!(
        "{} scan --demo --format json --output {}",
        env!("CARGO_BIN_EXE_driftaudit"),
        report.display()
    );
    let status = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("script (util-linux) runs");
    assert_eq!(status.code(), Some(1));
    let piped = run(&["scan", "--demo", "--format", "json"]);
    assert_eq!(std::fs::read_to_string(&report).unwrap(), piped.stdout);
}

/// Runs `command` with `input` on its standard input, to its end.
fn feed(command: &mut Command, input: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} does not run ({e}); scripts/test.sh installs it"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let script = run(&["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.all());
    let complete = |words: &[&str]| -> String {
        // Bash calls the function with the command, the current word and the
        // previous one.
        let cword = words.len() - 1;
        let program = format!(
            "source /dev/stdin; COMP_WORDS=({}); COMP_CWORD={cword}; _driftaudit driftaudit '{}' '{}'; echo \"${{COMPREPLY[@]}}\"",
            words.join(" "),
            words[cword],
            words[cword - 1],
        );
        let output = feed(Command::new("bash").args(["-c", &program]), &script.stdout);
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    };
    assert_eq!(complete(&["driftaudit", "sc"]), "scan");
    assert_eq!(
        complete(&["driftaudit", "scan", "--kube-con"]),
        "--kube-context"
    );
    assert_eq!(complete(&["driftaudit", "policy", "t"]), "test");
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run(&["completions", shell]);
        assert_eq!(script.code, 0, "{shell}: {}", script.all());
        assert!(script.stdout.contains("--live-snapshot"), "{shell}");
        assert!(script.stdout.contains("capture"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
}

/// The flags `driftaudit SUBCOMMAND --help` lists.
fn flags_in_help(subcommand: &[&str]) -> Vec<String> {
    let mut args = subcommand.to_vec();
    args.push("--help");
    let help = run(&args);
    assert_eq!(help.code, 0, "{}", help.all());
    let mut flags: Vec<String> = help
        .stdout
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(|word| {
            word.trim_end_matches(|c: char| !c.is_alphanumeric())
                .to_string()
        })
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn the_man_page_names_every_subcommand_and_every_scan_flag() {
    let page = run(&["man"]);
    assert_eq!(page.code, 0, "{}", page.all());
    assert!(
        page.stdout.contains("\n.TH driftaudit 1 "),
        "{}",
        page.stdout
    );
    // roff writes a minus as `\-`.
    let text = page.stdout.replace("\\-", "-");
    for subcommand in [
        "scan",
        "diff",
        "capture",
        "policy",
        "policy test",
        "policy list",
        "completions",
        "man",
        "report",
        "verify",
        "keygen",
    ] {
        let heading = format!(".SH \"DRIFTAUDIT {}\"", subcommand.to_uppercase());
        assert!(text.contains(&heading), "no {heading}");
    }
    let flags = flags_in_help(&["scan"]);
    assert!(flags.len() > 30, "{flags:?}");
    for flag in &flags {
        assert!(
            text.contains(&format!("\\fB{flag}\\fR")),
            "no {flag} in the man page"
        );
    }
    // groff formats it without a warning.
    let output = feed(
        Command::new("groff").args(["-man", "-Tutf8", "-ww", "-z"]),
        &page.stdout,
    );
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn policy_test_lists_passing_tests_with_verbose() {
    let short = run(&["policy", "test"]);
    assert_eq!(short.code, 0, "{}", short.all());
    assert!(!short.stdout.contains("PASS"), "{}", short.stdout);
    for flag in ["-v", "--verbose"] {
        let long = run(&["policy", "test", flag]);
        assert_eq!(long.code, 0, "{}", long.all());
        assert!(long.stdout.contains("PASS  "), "{}", long.stdout);
        assert_eq!(
            long.stdout.lines().last(),
            short.stdout.lines().last(),
            "the same summary"
        );
    }
}

#[test]
fn a_closed_or_broken_stderr_changes_neither_the_report_nor_the_exit_code() {
    let dir = repo_with_inputs();
    let expected = run_in(dir.path(), &SCAN);
    let args = SCAN.join(" ");
    // Standard error closed (`2>&-`), with warnings and every event to write.
    let closed = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!("exec \"$0\" -vvv {args} 2>&-"))
        .arg(env!("CARGO_BIN_EXE_driftaudit"))
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&closed.stdout), expected.stdout);
    // Standard error a pipe nobody reads any more (EPIPE on every write).
    let mut child = driftaudit()
        .current_dir(dir.path())
        .arg("-vvv")
        .args(SCAN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let broken = child.wait_with_output().unwrap();
    assert_eq!(broken.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&broken.stdout), expected.stdout);
}
