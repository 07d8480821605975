//! Declared coverage (issue 10, items 1 and 2): every file of the scanned
//! paths ends read, rendered by kustomize, excluded by the config or not
//! checked; kustomization folders are rendered by default with the real
//! kustomize; a scan that checked nothing never passes.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{commit_all, deployment_yaml, run_in, write};

/// Each file of the report's declared coverage: path → (state, by/reason).
pub fn states(report: &Value) -> BTreeMap<String, (String, String)> {
    report["declared_coverage"]["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no declared coverage: {report}"))
        .iter()
        .map(|file| {
            let detail = match &file["by"] {
                Value::Array(by) => by
                    .iter()
                    .map(|o| o.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
                _ => file["reason"].as_str().unwrap_or_default().to_string(),
            };
            (
                file["path"].as_str().unwrap().to_string(),
                (file["state"].as_str().unwrap().to_string(), detail),
            )
        })
        .collect()
}

/// A Deployment in namespace `shop`.
fn deploy(root: &std::path::Path, path: &str, name: &str, image: &str) {
    write(root, path, &deployment_yaml(name, "shop", 1, image));
}

fn state_of(report: &Value, path: &str) -> (String, String) {
    states(report)
        .remove(path)
        .unwrap_or_else(|| panic!("{path} is not in the declared coverage: {report}"))
}

fn image_names(report: &Value) -> Vec<String> {
    let mut names: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["resource"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A repository with a kustomization at its root that includes two files
/// and a base folder (itself a kustomization), leaves one file out, and a
/// patch; plus a README and an excluded folder.
fn root_kustomization_repo(root: &std::path::Path) {
    write(
        root,
        "kustomization.yaml",
        "resources:\n- web.yaml\n- api.yaml\n- base\npatches:\n- path: replicas.yaml\n",
    );
    deploy(root, "web.yaml", "web", "nginx:latest");
    deploy(root, "api.yaml", "api", "nginx:latest");
    write(
        root,
        "replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 3\n",
    );
    write(root, "base/kustomization.yaml", "resources:\n- db.yaml\n");
    deploy(root, "base/db.yaml", "db", "postgres:latest");
    // Not listed by any kustomization: read on its own.
    deploy(root, "extra/left-out.yaml", "left-out", "nginx:latest");
    write(root, "README.md", "# shop\n");
    write(root, "docs/example.yaml", "not: a manifest\n");
    write(root, "driftaudit.yaml", "git:\n  exclude: [\"docs/**\"]\n");
}

fn check_root_kustomization(report: &Value) {
    // web, api and db through kustomize, once each; left-out on its own.
    assert_eq!(report["summary"]["declared_resources"], 4, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(image_names(report), ["api", "db", "left-out", "web"]);
    let expected: BTreeMap<String, (String, String)> = [
        ("README.md", "excluded", "not matched by git.include"),
        ("api.yaml", "rendered", "."),
        ("base/db.yaml", "rendered", "."),
        ("base/kustomization.yaml", "rendered", "."),
        ("docs/example.yaml", "excluded", "git.exclude `docs/**`"),
        (
            "driftaudit.yaml",
            "excluded",
            "driftaudit's configuration file",
        ),
        ("extra/left-out.yaml", "read", ""),
        ("kustomization.yaml", "rendered", "."),
        ("replicas.yaml", "rendered", "."),
        ("web.yaml", "rendered", "."),
    ]
    .into_iter()
    .map(|(path, state, detail)| (path.to_string(), (state.to_string(), detail.to_string())))
    .collect();
    assert_eq!(states(report), expected);
    assert_eq!(
        report["declared_coverage"]["counts"],
        serde_json::json!({"read": 1, "rendered": 6, "excluded": 3, "not_checked": 0})
    );
    // The patch was applied: the render really went through kustomize.
    let web = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "web")
        .unwrap();
    assert_eq!(web["location"]["file"], "kustomization.yaml", "{web}");
}

#[test]
fn a_root_kustomization_is_rendered_and_files_it_leaves_out_are_read() {
    let dir = tempfile::tempdir().unwrap();
    root_kustomization_repo(dir.path());
    let run = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "no --fail-on: findings only: {}", run.all());
    check_root_kustomization(&run.json());
}

#[test]
fn a_root_kustomization_in_a_git_ref_is_rendered_from_the_ref() {
    let dir = tempfile::tempdir().unwrap();
    root_kustomization_repo(dir.path());
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit_all(&repo, "shop");
    // The working tree differs from the ref: the ref is what counts.
    std::fs::remove_file(dir.path().join("base/db.yaml")).unwrap();
    deploy(dir.path(), "new.yaml", "new", "x:1");
    let run = run_in(
        dir.path(),
        &["scan", "--repo", ".", "--ref", "HEAD", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let report = run.json();
    assert!(report["scan"]["commit"].is_string());
    check_root_kustomization(&report);
}

#[test]
fn only_the_top_overlay_is_rendered_and_the_base_counts_as_rendered_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "base/kustomization.yaml", "resources: [app.yaml]\n");
    deploy(root, "base/app.yaml", "app", "nginx:latest");
    write(
        root,
        "overlays/prod/kustomization.yaml",
        "resources: [../../base]\nnamespace: prod\n",
    );
    write(
        root,
        "overlays/prod/unlisted.yaml",
        &deployment_yaml("unlisted", "prod", 1, "nginx:1"),
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    let report = run.json();
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "no duplicate: {}",
        run.all()
    );
    assert_eq!(report["summary"]["declared_resources"], 2, "{}", run.stdout);
    assert_eq!(
        state_of(&report, "base/app.yaml"),
        ("rendered".into(), "overlays/prod".into())
    );
    assert_eq!(
        state_of(&report, "base/kustomization.yaml"),
        ("rendered".into(), "overlays/prod".into())
    );
    assert_eq!(
        state_of(&report, "overlays/prod/unlisted.yaml"),
        ("read".into(), String::new())
    );
    // The overlay's namespace applied: rendered by prod, not by the base.
    let names: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["resource"]["namespace"].as_str().unwrap().to_string(),
                f["resource"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(names.contains(&("prod".into(), "app".into())), "{names:?}");
    assert!(!names.contains(&("shop".into(), "app".into())), "{names:?}");
}

#[test]
fn kustomize_false_reads_every_file_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/kustomization.yaml", "resources: [web.yaml]\n");
    deploy(root, "app/web.yaml", "web", "nginx:1");
    write(root, "driftaudit.yaml", "git:\n  kustomize: false\n");
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{}", run.all());
    assert_eq!(report["summary"]["declared_resources"], 1);
    assert_eq!(
        state_of(&report, "app/web.yaml"),
        ("read".into(), String::new())
    );
    assert_eq!(state_of(&report, "app/kustomization.yaml").0, "excluded");

    // Neither a list nor `false`: refused at its line and column.
    write(root, "driftaudit.yaml", "git:\n  kustomize: yes-please\n");
    let run = run_in(root, &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("driftaudit.yaml:2:14"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("a list of kustomization folders, or `false`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_empty_repository_never_passes() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["scan", "--repo", "."]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stdout.contains("nothing declared"), "{}", run.stdout);
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);

    // An empty commit, with --allow-partial too.
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit_all(&repo, "empty");
    let run = run_in(
        dir.path(),
        &["scan", "--repo", ".", "--ref", "HEAD", "--allow-partial"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
}

#[test]
fn a_missing_path_is_an_input_error_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    deploy(dir.path(), "apps/web.yaml", "web", "nginx:1");
    let repo = git2::Repository::init(dir.path()).unwrap();
    commit_all(&repo, "apps");
    for extra in [&[][..], &["--ref", "HEAD"][..]] {
        let mut args = vec!["scan", "--repo", ".", "--path", "apps", "--path", "no-such"];
        args.extend_from_slice(extra);
        args.extend(["--format", "json"]);
        let run = run_in(dir.path(), &args);
        assert_eq!(run.code, 2, "{}", run.all());
        let report = run.json();
        let errors = report["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["code"], "DA-E409");
        assert_eq!(errors[0]["location"], "--path no-such");
        // What exists is still read.
        assert_eq!(report["summary"]["declared_resources"], 1);
    }
    // In the working tree but not in the ref: missing in what is scanned.
    deploy(dir.path(), "later/x.yaml", "x", "nginx:1");
    let run = run_in(
        dir.path(),
        &["scan", "--repo", ".", "--ref", "HEAD", "--path", "later"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stdout.contains("`later` is not a file or folder"),
        "{}",
        run.stdout
    );
}

fn helm_chart(root: &std::path::Path) {
    write(
        root,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(root, "charts/web/values.yaml", "replicas: 2\n");
    for name in ["deployment", "service", "ingress"] {
        write(
            root,
            &format!("charts/web/templates/{name}.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n",
        );
    }
}

#[test]
fn a_helm_chart_is_one_coverage_gap_not_yaml_errors() {
    let dir = tempfile::tempdir().unwrap();
    helm_chart(dir.path());
    deploy(
        dir.path(),
        "plain.yaml",
        "plain",
        "registry.example.com/p:1",
    );
    let run = run_in(dir.path(), &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "no YAML error per template"
    );
    let gaps = report["coverage"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["scope"], "Helm chart `charts/web`");
    assert_eq!(
        gaps[0]["reason"],
        "Helm chart not rendered: install helm or exclude it (git.exclude)"
    );
    for file in [
        "Chart.yaml",
        "values.yaml",
        "templates/deployment.yaml",
        "templates/service.yaml",
        "templates/ingress.yaml",
    ] {
        let (state, reason) = state_of(&report, &format!("charts/web/{file}"));
        assert_eq!(state, "not_checked", "{file}");
        assert!(reason.contains("Helm chart `charts/web`"), "{reason}");
    }
    assert_eq!(state_of(&report, "plain.yaml").0, "read");
    assert_eq!(report["summary"]["result"], "incomplete");

    // Allowed: PARTIAL, never PASS, and it says what was not checked.
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--allow-partial",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("PARTIAL"), "{}", run.stdout);
    assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("not checked charts/web/templates/service.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Helm chart `charts/web`"),
        "{}",
        run.stdout
    );
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--allow-partial",
            "--fail-on",
            "critical",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.json()["summary"]["result"], "partial");

    // Excluding it is the way to a complete scan.
    write(
        dir.path(),
        "driftaudit.yaml",
        "git:\n  exclude: [\"charts/**\"]\n",
    );
    let run = run_in(
        dir.path(),
        &[
            "scan",
            "--repo",
            ".",
            "--fail-on",
            "critical",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["summary"]["result"], "pass");
}

#[test]
fn a_repository_of_helm_charts_only_never_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    helm_chart(dir.path());
    for extra in [&[][..], &["--allow-partial"][..]] {
        let mut args = vec!["scan", "--repo", "."];
        args.extend_from_slice(extra);
        let run = run_in(dir.path(), &args);
        assert_ne!(run.code, 0, "{}", run.all());
        assert!(!run.stdout.contains("PASS"), "{}", run.stdout);
        assert!(run.stdout.contains("Helm chart"), "{}", run.stdout);
    }
}

#[test]
fn symlinks_and_submodules_are_not_silently_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    deploy(root, "outside/real.yaml", "real", "x:1");
    deploy(root, "apps/web.yaml", "web", "x:1");
    std::os::unix::fs::symlink(root.join("outside/real.yaml"), root.join("apps/link.yaml"))
        .unwrap();
    let run = run_in(
        root,
        &["scan", "--repo", ".", "--path", "apps", "--format", "json"],
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    let (state, reason) = state_of(&report, "apps/link.yaml");
    assert_eq!(state, "not_checked");
    assert!(reason.contains("symlink"), "{reason}");
    assert_eq!(report["coverage"][0]["scope"], "symlink `apps/link.yaml`");
    // Outside --path: not listed.
    assert!(!states(&report).contains_key("outside/real.yaml"));
}

#[test]
fn a_component_renders_only_through_the_overlay_that_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    deploy(root, "base/app.yaml", "app", "nginx:1");
    write(root, "base/kustomization.yaml", "resources: [app.yaml]\n");
    let component = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: latest.yaml\n";
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: main\n        image: nginx:latest\n";
    for name in ["used", "unused"] {
        write(
            root,
            &format!("components/{name}/kustomization.yaml"),
            component,
        );
        write(root, &format!("components/{name}/latest.yaml"), patch);
    }
    write(
        root,
        "overlay/kustomization.yaml",
        "resources: [../base]\ncomponents: [../components/used]\n",
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    let report = run.json();
    assert_eq!(report["errors"], serde_json::json!([]), "{}", run.all());
    assert_eq!(report["summary"]["declared_resources"], 1);
    // The component's patch was applied by the real kustomize.
    assert!(run.stdout.contains("nginx:latest"), "{}", run.stdout);
    assert_eq!(
        state_of(&report, "components/used/latest.yaml"),
        ("rendered".into(), "overlay".into())
    );
    let (state, reason) = state_of(&report, "components/unused/latest.yaml");
    assert_eq!(state, "not_checked");
    assert!(reason.contains("component `components/unused`"), "{reason}");
}
