//! Environments (issue 10, item 4): the same object declared once per
//! environment, environments from the config or from the repository's Argo CD
//! and Flux objects, findings and drift that carry the environment.

use serde_json::Value;

use crate::common::{deployment_yaml, live_deployment, run_in, snapshot_json, write};

/// A Deployment `web` that is privileged and runs `:latest`.
fn risky_web(namespace: Option<&str>) -> String {
    let namespace = namespace
        .map(|n| format!("  namespace: {n}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{namespace}spec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      securityContext: {{runAsNonRoot: true}}\n      containers:\n        - name: main\n          image: nginx:latest\n          securityContext:\n            privileged: true\n"
    )
}

/// The report, with its environment fields, holds to docs/report-schema.json.
pub(crate) fn assert_matches_report_schema(report: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// (rule, resource namespace/name, environment) of every finding.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {report}"))
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    f["resource"]["namespace"].as_str().unwrap_or_default(),
                    f["resource"]["name"].as_str().unwrap_or_default()
                ),
                f["environment"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn has(report: &Value, rule: &str, resource: &str, environment: &str) -> bool {
    findings(report)
        .iter()
        .any(|(r, n, e)| r == rule && n == resource && e == environment)
}

fn environments_of(report: &Value, path: &str) -> Vec<String> {
    report["declared_coverage"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in the coverage: {report}"))["environments"]
        .as_array()
        .map(|a| a.iter().map(|e| e.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn config_environments_evaluate_both_copies_of_one_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "repo/envs/staging/web.yaml", &risky_web(Some("shop")));
    write(
        root,
        "repo/envs/production/web.yaml",
        &deployment_yaml("web", "shop", 2, "nginx:1.27.0"),
    );
    write(
        root,
        "repo/shared/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: shop}\ndata: {a: b}\n",
    );
    write(
        root,
        "driftaudit.yaml",
        "environments:\n  - name: staging\n    paths: [envs/staging]\n  - name: production\n    paths: [./envs/production/]\n",
    );
    let run = run_in(root, &["scan", "--repo", "repo", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report = run.json();
    assert_matches_report_schema(&report);
    assert_eq!(report["summary"]["declared_resources"], 3, "{report}");
    assert!(
        has(&report, "DA-PRIV-001", "shop/web", "staging"),
        "{:?}",
        findings(&report)
    );
    assert!(
        has(&report, "DA-IMG-002", "shop/web", "staging"),
        "{:?}",
        findings(&report)
    );
    assert!(
        !findings(&report).iter().any(|(_, _, e)| e == "production"),
        "the production copy is clean: {:?}",
        findings(&report)
    );
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(
        environments_of(&report, "envs/staging/web.yaml"),
        ["staging"]
    );
    assert_eq!(
        environments_of(&report, "envs/production/web.yaml"),
        ["production"]
    );
    assert!(environments_of(&report, "shared/config.yaml").is_empty());

    // The text report names the environment.
    let text = run_in(root, &["scan", "--repo", "repo"]);
    assert!(
        text.stdout
            .contains("DA-PRIV-001 Deployment shop/web (environment staging)"),
        "{}",
        text.stdout
    );

    // --environment reads only the environments it names.
    let only = run_in(
        root,
        &[
            "scan",
            "--repo",
            "repo",
            "--environment",
            "production",
            "--format",
            "json",
        ],
    );
    let report = only.json();
    assert_eq!(report["summary"]["declared_resources"], 1, "{report}");
    assert!(findings(&report).is_empty(), "{:?}", findings(&report));
    let unknown = run_in(root, &["scan", "--repo", "repo", "--environment", "qa"]);
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(
        unknown.all().contains("no environment `qa`"),
        "{}",
        unknown.all()
    );
}

#[test]
fn argo_cd_applications_are_environments() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "envs/staging/web.yaml", &risky_web(None));
    write(
        root,
        "envs/production/web.yaml",
        &deployment_yaml("web", "web-prod", 2, "nginx:1.27.0"),
    );
    write(
        root,
        "argocd/apps.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-staging\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example/shop.git\n    path: envs/staging\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: web-stg\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-production\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://git.example/shop.git\n    path: ./envs/production\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: web-prod\n",
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report = run.json();
    // The staging copy has no namespace: it takes the Application's destination.
    assert!(
        has(&report, "DA-PRIV-001", "web-stg/web", "web-staging"),
        "{:?}",
        findings(&report)
    );
    assert!(!findings(&report)
        .iter()
        .any(|(_, _, e)| e == "web-production"));
    assert_eq!(
        environments_of(&report, "envs/staging/web.yaml"),
        ["web-staging"]
    );
    assert_matches_report_schema(&report);
    let found: Vec<(String, String)> = report["scan"]["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["from"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "web-production".to_string(),
                "Argo CD Application argocd/web-production".to_string()
            ),
            (
                "web-staging".to_string(),
                "Argo CD Application argocd/web-staging".to_string()
            ),
        ]
    );
    // The Applications themselves are read under no environment.
    assert!(environments_of(&report, "argocd/apps.yaml").is_empty());

    // A chart from a Helm repository is not in this repository: a gap naming it.
    write(
        root,
        "argocd/redis.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: redis\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://charts.example/\n    chart: redis\n    targetRevision: 18.0.0\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: cache\n",
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 3, "{}", run.all());
    let gaps = run.json()["coverage"].to_string();
    assert!(
        gaps.contains("Argo CD Application argocd/redis") && gaps.contains("Helm chart `redis`"),
        "{gaps}"
    );
}

#[test]
fn an_application_set_list_generator_makes_one_environment_per_element() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "envs/staging/web.yaml", &risky_web(None));
    write(
        root,
        "envs/production/web.yaml",
        &deployment_yaml("web", "placeholder", 2, "nginx:1.27.0")
            .replace("  namespace: placeholder\n", ""),
    );
    write(
        root,
        "argocd/web.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: web\n  namespace: argocd\nspec:\n  generators:\n    - list:\n        elements:\n          - env: staging\n            cluster: stg\n          - env: production\n            cluster: prd\n  template:\n    metadata:\n      name: 'web-{{env}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://git.example/shop.git\n        path: 'envs/{{env}}'\n      destination:\n        name: '{{cluster}}'\n        namespace: 'web-{{env}}'\n",
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report = run.json();
    assert!(
        has(&report, "DA-PRIV-001", "web-staging/web", "web-staging"),
        "{:?}",
        findings(&report)
    );
    assert_eq!(
        environments_of(&report, "envs/production/web.yaml"),
        ["web-production"]
    );
    assert_eq!(report["summary"]["declared_resources"], 3, "{report}");
}

#[test]
fn a_flux_kustomization_puts_its_objects_in_its_target_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "apps/web.yaml", &risky_web(Some("written-here")));
    write(
        root,
        "clusters/prod/apps.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  targetNamespace: shop\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report = run.json();
    assert!(
        has(&report, "DA-PRIV-001", "shop/web", "apps"),
        "{:?}",
        findings(&report)
    );
    assert_eq!(environments_of(&report, "apps/web.yaml"), ["apps"]);

    // A root Kustomization holds the others' folders: each file belongs to
    // the deepest environment, so nothing is read twice.
    write(
        root,
        "clusters/prod/flux-system.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  path: ./\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let report = run.json();
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(environments_of(&report, "apps/web.yaml"), ["apps"]);
    assert_eq!(
        environments_of(&report, "clusters/prod/apps.yaml"),
        ["flux-system"]
    );
    assert!(
        has(&report, "DA-PRIV-001", "shop/web", "apps"),
        "{:?}",
        findings(&report)
    );
    assert_eq!(
        findings(&report)
            .iter()
            .filter(|f| f.0 == "DA-PRIV-001")
            .count(),
        1
    );
}

#[test]
fn a_duplicate_inside_one_environment_names_both_places_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "repo/envs/staging/a.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27.0"),
    );
    // The second copy is privileged: evaluated too, though never compared.
    write(root, "repo/envs/staging/b.yaml", &risky_web(Some("shop")));
    write(
        root,
        "repo/envs/staging/c.yaml",
        &risky_web(Some("shop")).replace("name: web\n", "name: api\n"),
    );
    write(
        root,
        "repo/envs/production/web.yaml",
        &deployment_yaml("web", "shop", 2, "nginx:1.27.0"),
    );
    write(
        root,
        "driftaudit.yaml",
        "environments:\n  - name: staging\n    paths: [envs/staging]\n  - name: production\n    paths: [envs/production]\n",
    );
    let run = run_in(root, &["scan", "--repo", "repo", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let report = run.json();
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("declared twice in environment `staging`")
            && errors.contains("envs/staging/a.yaml:1")
            && errors.contains("envs/staging/b.yaml"),
        "{errors}"
    );
    let copy = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "DA-PRIV-001" && f["resource"]["name"] == "web")
        .unwrap_or_else(|| panic!("the second copy was not evaluated: {report}"));
    assert_eq!(copy["environment"], "staging");
    assert_eq!(copy["location"]["file"], "envs/staging/b.yaml", "{copy}");
    // The other documents are still checked; production's copy is no duplicate.
    assert!(
        has(&report, "DA-PRIV-001", "shop/api", "staging"),
        "{:?}",
        findings(&report)
    );
    assert_eq!(report["summary"]["declared_resources"], 3, "{report}");
    assert!(!errors.contains("production"), "{errors}");

    // Without environments, the message says how to declare them.
    let plain = run_in(root, &["scan", "--repo", "repo", "--config", "/dev/null"]);
    assert_eq!(plain.code, 2, "{}", plain.all());
    assert!(
        plain.all().contains("outside any environment") && plain.all().contains("environments:"),
        "{}",
        plain.all()
    );
}

#[test]
fn bad_environment_entries_are_refused_at_their_config_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "repo/envs/staging/web.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27.0"),
    );
    let cases = [
        (
            "environments:\n  - name: staging\n    paths: [envs/staging]\n    cluster: x\n",
            "4:5",
            "unknown",
        ),
        (
            "environments:\n  - name: staging\n    paths: [envs/staging]\n  - name: staging\n    paths: [envs/staging]\n",
            "4:11",
            "named twice",
        ),
        (
            "environments:\n  - name: staging\n    paths: [../elsewhere]\n",
            "3:13",
            "inside the repository",
        ),
        (
            "environments:\n  - name: staging\n    paths: [envs/staging]\n    namespace: Not_A_Namespace\n",
            "4:16",
            "not a namespace",
        ),
        (
            "environments:\n  - name: staging\n    paths:\n      - envs/staging\n      - envs/qa\n",
            "5:9",
            "`envs/qa` is not a file or folder",
        ),
    ];
    for (config, at, says) in cases {
        write(root, "driftaudit.yaml", config);
        let run = run_in(root, &["scan", "--repo", "repo"]);
        assert_eq!(run.code, 2, "{config}\n{}", run.all());
        assert!(
            run.all().contains(&format!("driftaudit.yaml:{at}")) && run.all().contains(says),
            "{config}\nexpected {at} / {says}:\n{}",
            run.all()
        );
    }
}

#[test]
fn live_targets_are_compared_with_the_environments_that_deploy_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "repo/envs/staging/web.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27.0"),
    );
    write(
        root,
        "repo/envs/production/web.yaml",
        &deployment_yaml("web", "shop", 2, "nginx:1.27.0"),
    );
    write(
        root,
        "driftaudit.yaml",
        "environments:\n  - name: staging\n    paths: [envs/staging]\n    kube_context: stg\n  - name: production\n    paths: [envs/production]\n    kube_context: prod-cluster\n",
    );
    write(
        root,
        "live.json",
        &snapshot_json(
            "prod-cluster",
            &[live_deployment("web", "shop", 3, "nginx:1.27.0")],
        ),
    );
    let run = run_in(
        root,
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "live.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 3, "staging was not compared: {}", run.all());
    let report = run.json();
    assert_matches_report_schema(&report);
    let drift = report["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1, "{report}");
    assert_eq!(drift[0]["status"], "modified", "{report}");
    assert_eq!(drift[0]["environment"], "production", "{report}");
    let gaps = report["coverage"].to_string();
    assert!(
        gaps.contains("environment `staging`") && gaps.contains("--kube-context stg"),
        "{gaps}"
    );
    // Scanning only production: complete (drift alone passes without --fail-on-drift).
    let run = run_in(
        root,
        &[
            "scan",
            "--repo",
            "repo",
            "--live-snapshot",
            "live.json",
            "--environment",
            "production",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.json()["summary"]["complete"], true, "{}", run.all());
}

#[test]
fn thousands_of_generated_environments_are_read_up_to_a_limit_and_the_rest_is_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "apps/web.yaml",
        &deployment_yaml("web", "shop", 1, "nginx:1.27.0"),
    );
    let elements: String = (0..600)
        .map(|i| format!("          - idx: \"{i:03}\"\n"))
        .collect();
    write(
        root,
        "argocd/set.yaml",
        &format!("apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: many\n  namespace: argocd\nspec:\n  generators:\n    - list:\n        elements:\n{elements}  template:\n    metadata:\n      name: 'web-{{{{idx}}}}'\n    spec:\n      source:\n        repoURL: https://git.example/shop.git\n        path: apps\n      destination:\n        namespace: 'ns-{{{{idx}}}}'\n"),
    );
    let started = std::time::Instant::now();
    let run = run_in(root, &["scan", "--repo", ".", "--format", "json"]);
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 3, "{}", run.all());
    let report = run.json();
    assert_eq!(
        report["scan"]["environments"].as_array().unwrap().len(),
        500
    );
    let gaps = report["coverage"].to_string();
    assert!(
        gaps.contains("100 environment(s) from `web-500` on") && gaps.contains("--environment"),
        "{gaps}"
    );
    // Each environment read its own copy, in its own namespace.
    assert_eq!(
        report["summary"]["declared_resources"], 501,
        "{}",
        report["summary"]
    );
}
