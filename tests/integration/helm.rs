//! Helm charts (issue 10, item 3): a folder holding `Chart.yaml` is rendered
//! with `helm template` when helm is on PATH, otherwise it is one coverage gap
//! per chart, never YAML errors per template. No Linux helm binary can be
//! installed here: "no helm" is the real PATH with every folder holding a
//! `helm` left out, and the invocation is checked with the stand-in script
//! `fixtures/helm-standin/helm`, which fails loudly on any argument real helm
//! would not accept in that place.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{commit_all, deployment_yaml, driftaudit, finish, write, Run};
use crate::declared_coverage::states;

/// The real PATH without any folder holding a `helm`.
pub fn path_without_helm() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("helm").exists())
        .collect();
    std::env::join_paths(kept).unwrap().into_string().unwrap()
}

/// The stand-in's folder first, then the real PATH.
pub fn path_with_standin() -> String {
    let standin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/fixtures/helm-standin");
    format!("{}:{}", standin.display(), path_without_helm())
}

fn scan(dir: &Path, path: &str, args: &[&str]) -> Run {
    finish(
        driftaudit()
            .current_dir(dir)
            .env("PATH", path)
            // The stand-in refuses to run when it sees this: helm's
            // environment must be emptied.
            .env("DRIFTAUDIT_TEST_LEAK", "a value helm must not see")
            .args(["scan", "--repo", "."])
            .args(args),
    )
}

/// A chart in `dir` (folder name `web`, chart name `webapp`): a Deployment
/// whose image comes from the values, a Service, and a helper template.
fn chart(root: &Path, dir: &str) {
    write(
        root,
        &format!("{dir}/Chart.yaml"),
        "apiVersion: v2\nname: webapp\nversion: 1.0.0\n",
    );
    write(
        root,
        &format!("{dir}/values.yaml"),
        "image: nginx:1.25.3\nport: 80\n",
    );
    write(
        root,
        &format!("{dir}/templates/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: main\n          image: {{ .Values.image }}\n",
    );
    write(
        root,
        &format!("{dir}/templates/service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports:\n    - port: {{ .Values.port }}\n",
    );
    write(
        root,
        &format!("{dir}/templates/_helpers.tpl"),
        "{{- define \"web.name\" -}}web{{- end }}\n",
    );
}

/// A repository holding the chart in `charts/web`, then `files` written
/// over it, and a plain Deployment beside it.
fn chart_repo(files: &[(&str, &str)], plain_image: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path(), "charts/web");
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    write(
        dir.path(),
        "plain/app.yaml",
        &deployment_yaml("plain", "shop", 1, plain_image),
    );
    dir
}

/// Findings as `rule namespace/name @ file:line`.
fn findings(report: &Value) -> Vec<String> {
    let mut found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}/{} @ {}:{}",
                f["rule"].as_str().unwrap(),
                f["resource"]["namespace"].as_str().unwrap(),
                f["resource"]["name"].as_str().unwrap(),
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"]
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn without_helm_each_chart_is_one_gap_and_the_manifests_beside_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    chart(root, "charts/web");
    chart(root, "charts/api");
    write(
        root,
        "plain/app.yaml",
        &deployment_yaml("plain", "shop", 1, "nginx:latest"),
    );
    let run = scan(root, &path_without_helm(), &["--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "no YAML error per template"
    );
    let gaps: Vec<String> = report["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} — {}",
                g["scope"].as_str().unwrap(),
                g["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        gaps,
        [
            "Helm chart `charts/api` — Helm chart not rendered: install helm or exclude it (git.exclude)",
            "Helm chart `charts/web` — Helm chart not rendered: install helm or exclude it (git.exclude)",
        ]
    );
    let states = states(&report);
    for file in [
        "Chart.yaml",
        "values.yaml",
        "templates/service.yaml",
        "templates/_helpers.tpl",
    ] {
        let (state, reason) = &states[&format!("charts/web/{file}")];
        assert_eq!(state, "not_checked", "{file}");
        assert_eq!(
            reason,
            "in Helm chart `charts/web`, not rendered: install helm or exclude it"
        );
    }
    // The plain manifest is still checked.
    assert_eq!(states["plain/app.yaml"].0, "read");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"]["name"] == "plain"),
        "{report}"
    );

    let run = scan(
        root,
        &path_without_helm(),
        &["--allow-partial", "--fail-on", "critical"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("PARTIAL"), "{}", run.stdout);
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
    assert!(!run.stdout.contains("YAML"), "{}", run.stdout);
}

#[test]
fn a_repository_that_is_all_charts_never_exits_0_without_helm() {
    let dir = tempfile::tempdir().unwrap();
    chart(dir.path(), "charts/web");
    for extra in [&[][..], &["--allow-partial"][..]] {
        let run = scan(dir.path(), &path_without_helm(), extra);
        assert_ne!(run.code, 0, "{}", run.all());
        assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
        assert!(
            run.stdout.contains("Helm chart `charts/web`"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn with_helm_the_chart_is_rendered_and_findings_point_at_its_templates() {
    let dir = chart_repo(
        &[
            ("envs/a.yaml", "image: nginx:1.0\n"),
            ("envs/b.yaml", "image: nginx:latest\n"),
            (
                "driftaudit.yaml",
                "git:\n  helm:\n    values: [envs/a.yaml, envs/b.yaml]\n",
            ),
        ],
        "registry.example.com/p:1",
    );
    let root = dir.path();
    let run = scan(root, &path_with_standin(), &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(report["coverage"], serde_json::json!([]), "{report}");
    let states = states(&report);
    for file in [
        "charts/web/Chart.yaml",
        "charts/web/values.yaml",
        "charts/web/templates/deployment.yaml",
        "charts/web/templates/_helpers.tpl",
        "envs/a.yaml",
        "envs/b.yaml",
    ] {
        assert_eq!(
            states[file],
            ("rendered".to_string(), "charts/web".to_string()),
            "{file}"
        );
    }
    assert_eq!(states["plain/app.yaml"].0, "read");
    // The values files were passed in order (b.yaml's image wins), the
    // release is named after the folder, in the default namespace, and the
    // findings point at the template.
    assert_eq!(
        findings(&report),
        [
            "DA-IMG-002 default/web @ charts/web/templates/deployment.yaml:1",
            "DA-PRIV-007 default/web @ charts/web/templates/deployment.yaml:1",
        ]
    );
    assert_eq!(report["summary"]["declared_resources"], 3);

    // In the other order a.yaml wins (no `:latest`); the release is the configured one.
    write(
        root,
        "driftaudit.yaml",
        "git:\n  helm:\n    values: [envs/b.yaml, envs/a.yaml]\n    release: shop\n",
    );
    let run = scan(root, &path_with_standin(), &["--format", "json"]);
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(
        findings(&report),
        ["DA-PRIV-007 default/shop @ charts/web/templates/deployment.yaml:1"]
    );

    // From a Git ref: the chart is taken from the commit, not the folder.
    let repo = git2::Repository::init(root).unwrap();
    commit_all(&repo, "chart");
    write(
        root,
        "charts/web/values.yaml",
        "image: nginx:latest\nport: 80\n",
    );
    write(root, "driftaudit.yaml", "git:\n  helm: {}\n");
    let run = scan(
        root,
        &path_with_standin(),
        &["--ref", "HEAD", "--format", "json"],
    );
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(
        findings(&report),
        ["DA-PRIV-007 default/web @ charts/web/templates/deployment.yaml:1"],
        "the commit is rendered, not the working tree (whose values say :latest)"
    );
}

#[test]
fn a_helm_failure_is_an_error_naming_the_chart_and_helms_message() {
    let dir = chart_repo(
        &[(
            "charts/web/templates/check.yaml",
            "{{ fail \"image.tag is required\" }}\n",
        )],
        "nginx:latest",
    );
    let root = dir.path();
    let run = scan(root, &path_with_standin(), &["--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let report = run.json();
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["code"], "DA-E410");
    assert_eq!(errors[0]["location"], "charts/web/Chart.yaml:1");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.starts_with("Helm chart `charts/web` not rendered: `helm template` failed: Error: execution error at (webapp/templates/check.yaml:1:4): image.tag is required"), "{message}");
    assert!(
        !message.contains("driftaudit-"),
        "no scratch path: {message}"
    );
    let (state, reason) = &states(&report)["charts/web/templates/deployment.yaml"];
    assert_eq!(state, "not_checked");
    assert_eq!(
        reason,
        "in Helm chart `charts/web`, not rendered: helm failed (see errors)"
    );
    assert_eq!(report["coverage"][0]["scope"], "Helm chart `charts/web`");
    // The manifests beside it are still checked.
    assert!(
        report["findings"].to_string().contains("\"plain\""),
        "{report}"
    );
}

#[test]
fn dependencies_are_never_fetched_and_vendored_ones_are_rendered() {
    let dir = chart_repo(
        &[(
            "charts/web/Chart.yaml",
            "apiVersion: v2\nname: webapp\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 18.0.0\n  repository: https://charts.example.com\n",
        )],
        "registry.example.com/p:1",
    );
    let root = dir.path();
    let run = scan(root, &path_with_standin(), &["--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    let reason = report["coverage"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(
            "dependency `redis` (https://charts.example.com) is not vendored under charts/"
        ),
        "{reason}"
    );

    // Vendored (a local `file://` dependency built under charts/): rendered
    // offline, its resources point at the subchart's template.
    write(
        root,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: webapp\nversion: 1.0.0\ndependencies:\n- name: lib\n  version: 0.1.0\n  repository: file://../lib\n",
    );
    write(
        root,
        "charts/web/charts/lib/Chart.yaml",
        "apiVersion: v2\nname: lib\nversion: 0.1.0\n",
    );
    write(
        root,
        "charts/web/charts/lib/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-lib\ndata:\n  a: b\n",
    );
    let run = scan(root, &path_with_standin(), &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert_eq!(report["coverage"], serde_json::json!([]), "{report}");
    assert!(
        findings(&report).contains(
            &"DA-PRIV-007 default/web @ charts/web/templates/deployment.yaml:1".to_string()
        ),
        "{report}"
    );
    let states = states(&report);
    assert_eq!(
        states["charts/web/charts/lib/templates/cm.yaml"],
        ("rendered".to_string(), "charts/web".to_string()),
        "a subchart is part of its chart, not a chart of its own"
    );
    assert_eq!(
        report["summary"]["declared_resources"], 4,
        "{}",
        report["summary"]
    );
}

#[test]
fn a_chart_whose_chart_yaml_is_excluded_is_not_read_as_yaml() {
    let dir = chart_repo(
        &[("driftaudit.yaml", "git:\n  exclude: [\"**/Chart.yaml\"]\n")],
        "registry.example.com/p:1",
    );
    let root = dir.path();
    let run = scan(root, &path_without_helm(), &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    let (state, reason) = &states(&report)["charts/web/templates/service.yaml"];
    assert_eq!(state, "excluded");
    assert_eq!(
        reason,
        "in Helm chart `charts/web`, whose Chart.yaml is excluded (git.exclude `**/Chart.yaml`)"
    );
}

#[test]
fn the_stand_in_refuses_what_real_helm_would_not_be_given() {
    let standin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/fixtures/helm-standin/helm");
    let scratch = tempfile::Builder::new()
        .prefix("driftaudit-")
        .tempdir()
        .unwrap();
    chart(scratch.path(), "tree/web");
    let home = scratch.path().join("home");
    let chart_dir = scratch.path().join("tree/web");
    let chart_dir = chart_dir.to_str().unwrap();
    let run = |args: &[&str], leak: bool| {
        let mut command = std::process::Command::new(&standin);
        command
            .env_clear()
            .env("PATH", path_without_helm())
            .env("HOME", &home);
        for (key, sub) in [
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
            ("HELM_REPOSITORY_CONFIG", "config/r.yaml"),
            ("HELM_REPOSITORY_CACHE", "cache/r"),
            ("HELM_REGISTRY_CONFIG", "config/g.json"),
        ] {
            command.env(key, home.join(sub));
        }
        command.env("HELM_NO_PLUGINS", "1");
        if leak {
            command.env("DRIFTAUDIT_TEST_LEAK", "x");
        }
        let output = command.args(args).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let good = [
        "template",
        "web",
        chart_dir,
        "--namespace",
        "default",
        "--include-crds",
    ];
    let (code, stdout, stderr) = run(&good, false);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("# Source: webapp/templates/deployment.yaml\n"),
        "{stdout}"
    );
    assert!(stdout.contains("image: nginx:1.25.3"), "{stdout}");
    for bad in [
        &[
            "template",
            "Web_1",
            chart_dir,
            "--namespace",
            "default",
            "--include-crds",
        ][..],
        &[
            "template",
            "web",
            chart_dir,
            "--values",
            "x.yaml",
            "--namespace",
            "default",
            "--include-crds",
        ][..],
        &[
            "template",
            "web",
            chart_dir,
            "--namespace",
            "default",
            "--dependency-update",
            "--include-crds",
        ][..],
        &["template", "web", chart_dir, "--namespace", "default"][..],
        &[
            "install",
            "web",
            chart_dir,
            "--namespace",
            "default",
            "--include-crds",
        ][..],
    ] {
        let (code, _, stderr) = run(bad, false);
        assert_eq!(code, 64, "{bad:?} was accepted");
        assert!(stderr.starts_with("helm STAND-IN: "), "{stderr}");
    }
    assert_eq!(
        run(&good, true).0,
        64,
        "a variable leaked into helm's environment"
    );
}

#[test]
fn a_chart_at_the_root_is_named_after_its_chart_and_its_other_folders_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    chart(root, ".");
    write(root, "ci/test-values.yaml", "image: nginx:latest\n");
    let run = scan(root, &path_with_standin(), &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(report["coverage"], serde_json::json!([]), "{report}");
    assert_eq!(
        findings(&report),
        ["DA-PRIV-007 default/webapp @ templates/deployment.yaml:1"]
    );
    let states = states(&report);
    assert_eq!(
        states["templates/service.yaml"],
        ("rendered".to_string(), ".".to_string())
    );
    assert_eq!(
        states["ci/test-values.yaml"],
        (
            "not_checked".to_string(),
            "in the folder of Helm chart `.`, outside templates/, crds/ and charts/: helm does not read it".to_string()
        )
    );
}
