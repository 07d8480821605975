//! `--format openreports` (docs/formats.md): every object validates against
//! the openAPIV3Schema of its OpenReports CRD (`../shared/schemas/`, made
//! strict: a field the CRD does not know is an error, as the API server would
//! prune it), every Report sits in the namespace of the resource it is about,
//! names are DNS subdomain names, kubectl reads the stream as we wrote it and
//! applies it (client dry run against a discovery stub), and the output is the
//! same on every run and through `report --input`.

use std::path::Path;
use std::process::Command;

use crate::common::{driftaudit, finish, run, write};
use serde_json::{json, Value};

/// The `v1alpha1` openAPIV3Schema of a CRD file, strict: every object schema
/// that lists its properties refuses others (`x-kubernetes-*` keys are left
/// in: JSON Schema ignores keywords it does not know).
fn crd_schema(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/schemas")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared schemas sit beside the checkout)",
            path.display()
        )
    });
    let crd = driftaudit::yaml::parse_documents(&text)
        .unwrap()
        .remove(0)
        .value;
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha1")
        .expect("v1alpha1");
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    fn strict(schema: &mut Value) {
        if let Value::Object(map) = schema {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for child in map.values_mut() {
                strict(child);
            }
        } else if let Value::Array(items) = schema {
            items.iter_mut().for_each(strict);
        }
    }
    strict(&mut schema);
    schema
}

struct Validators {
    report: jsonschema::Validator,
    cluster: jsonschema::Validator,
}

impl Validators {
    fn load() -> Validators {
        let load =
            |file| jsonschema::validator_for(&crd_schema(file)).expect("the CRD schema loads");
        let validators = Validators {
            report: load("openreports.io_reports.yaml"),
            cluster: load("openreports.io_clusterreports.yaml"),
        };
        // The schemas refuse what the API server would refuse.
        for bad in [
            json!({"results": [{"rule": "no policy"}]}),
            json!({"results": [{"policy": "p", "result": "failed"}]}),
            json!({"results": [{"policy": "p", "severity": "warning"}]}),
            json!({"results": [{"policy": "p", "timestamp": {"seconds": 1}}]}),
            json!({"results": [{"policy": "p", "properties": {"line": 7}}]}),
            json!({"summary": {"fail": "1"}}),
            json!({"spec": {}}),
        ] {
            assert!(!validators.report.is_valid(&bad), "accepted {bad}");
            assert!(!validators.cluster.is_valid(&bad), "accepted {bad}");
        }
        validators
    }
}

/// Kubernetes' DNS subdomain rule, written again here: at most 253
/// characters, dot-separated labels of `[a-z0-9-]` starting and ending with
/// a letter or digit.
fn dns_subdomain(name: &str) -> bool {
    let label = |l: &str| {
        let bytes = l.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || *b == b'-')
    };
    name.len() <= 253 && name.split('.').all(label)
}

/// Checks every object of an OpenReports stream and returns them.
fn check_stream(stream: &str) -> Vec<Value> {
    let validators = Validators::load();
    let objects: Vec<Value> = driftaudit::yaml::parse_documents(stream)
        .expect("YAML")
        .into_iter()
        .map(|d| d.value)
        .collect();
    assert!(!objects.is_empty());
    let mut names = std::collections::BTreeSet::new();
    for object in &objects {
        assert_eq!(object["apiVersion"], "openreports.io/v1alpha1", "{object}");
        let (validator, namespaced) = match object["kind"].as_str() {
            Some("Report") => (&validators.report, true),
            Some("ClusterReport") => (&validators.cluster, false),
            other => panic!("kind {other:?}"),
        };
        let errors: Vec<String> = validator
            .iter_errors(object)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}:\n{object:#}", errors.join("\n"));

        let metadata = &object["metadata"];
        let name = metadata["name"].as_str().unwrap();
        assert!(dns_subdomain(name), "{name}");
        assert_eq!(
            metadata["labels"]["app.kubernetes.io/managed-by"],
            "driftaudit"
        );
        let namespace = metadata["namespace"].as_str();
        assert_eq!(namespace.is_some(), namespaced, "{object}");
        if let Some(namespace) = namespace {
            assert!(dns_subdomain(namespace) && namespace.len() <= 63);
        }
        assert!(
            names.insert((object["kind"].to_string(), namespace, name)),
            "two objects named {name}"
        );
        // A Report is about one resource of its own namespace.
        if namespaced {
            assert_eq!(object["scope"]["namespace"].as_str(), namespace, "{object}");
        }
        let results = object["results"].as_array().unwrap();
        for result in results {
            for resource in result["resources"].as_array().into_iter().flatten() {
                assert_eq!(resource, &object["scope"], "{object}");
            }
        }
        for outcome in ["pass", "fail", "warn", "error", "skip"] {
            let count = results.iter().filter(|r| r["result"] == outcome).count();
            assert_eq!(object["summary"][outcome], count, "{outcome} in {object}");
        }
    }
    objects
}

fn demo_openreports() -> String {
    let result = finish(driftaudit().current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "scan",
        "--demo",
        "--format",
        "openreports",
    ]));
    assert_eq!(
        result.code, 1,
        "the demo fails by design: {}",
        result.stderr
    );
    result.stdout
}

#[test]
fn demo_openreports_validate_against_the_crds_one_report_per_resource() {
    let stream = demo_openreports();
    assert_eq!(stream, demo_openreports(), "byte-identical across runs");
    let objects = check_stream(&stream);

    // The scan's ClusterReport, then one object per resource with findings.
    assert_eq!(objects[0]["kind"], "ClusterReport");
    assert_eq!(objects[0]["metadata"]["name"], "driftaudit-scan");
    assert_eq!(
        objects[0]["metadata"]["annotations"]["driftaudit/now"],
        "2026-11-22T00:00:00Z"
    );
    assert_eq!(objects.len(), 16, "{stream}");
    let results: Vec<&Value> = objects
        .iter()
        .flat_map(|o| o["results"].as_array().unwrap())
        .collect();
    // 27 findings: critical and high fail (the demo's --fail-on is high),
    // medium ones are warnings.
    assert_eq!(results.len(), 27);
    let count = |outcome: &str| results.iter().filter(|r| r["result"] == outcome).count();
    assert_eq!((count("fail"), count("warn")), (20, 7));
    for result in &results {
        let high = matches!(result["severity"].as_str(), Some("critical" | "high"));
        assert_eq!(result["result"] == "fail", high, "{result}");
        assert_eq!(
            result["timestamp"],
            json!({"seconds": 1_795_305_600_i64, "nanos": 0})
        );
        assert!(result["properties"]["fingerprint"].is_string(), "{result}");
        assert_eq!(
            result["policy"],
            format!("driftaudit/{}", result["category"].as_str().unwrap())
        );
    }

    let find = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name} in\n{stream}"))
    };
    // A cluster-scoped resource: a ClusterReport without a namespace.
    let binding = find(
        "ClusterReport",
        "driftaudit-clusterrolebinding-deployer-cluster-admin",
    );
    assert_eq!(binding["scope"]["kind"], "ClusterRoleBinding");
    assert!(binding["scope"].get("namespace").is_none());
    // The expired certificate: file, line, fingerprint and drift status.
    let tls = find("Report", "driftaudit-secret-legacy-tls");
    assert_eq!(tls["metadata"]["namespace"], "payments");
    let properties = &tls["results"][0]["properties"];
    assert_eq!(properties["file"], "apps/payments/legacy-tls.yaml");
    assert_eq!(properties["line"], "8");
    assert_eq!(
        properties["fingerprint"],
        "29c8702508e5f49c7c06827789a3fc54"
    );
    assert_eq!(properties["driftStatus"], "in_sync");
    assert_eq!(tls["results"][0]["rule"], "DA-CERT-001");
    assert_eq!(tls["results"][0]["severity"], "critical");
    // A live-only resource (no file) still has its Report, drift unmanaged.
    let shell = find("Report", "driftaudit-deployment-debug-shell");
    assert_eq!(shell["metadata"]["namespace"], "shop");
    assert_eq!(
        shell["summary"],
        json!({"pass": 0, "fail": 2, "warn": 2, "error": 0, "skip": 0})
    );
    for result in shell["results"].as_array().unwrap() {
        assert_eq!(result["properties"]["driftStatus"], "unmanaged");
        assert!(result["properties"].get("file").is_none());
        assert_eq!(result["properties"]["states"], "live");
    }
    assert_eq!(
        find("Report", "driftaudit-scheduledbackup-nightly")["results"][0]["properties"]
            ["driftStatus"],
        "missing"
    );

    assert_eq!(
        kubectl_decode(&stream),
        objects,
        "kubectl decodes the same objects"
    );
}

/// The objects kubectl reads from the stream, offline, through the builder
/// `kubectl apply -f -` uses (see yaml_kubectl.rs).
fn kubectl_decode(stream: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "reports.yaml", stream);
    let out = Command::new(crate::yaml_kubectl::kubectl())
        .args(["label", "--local", "-o", "json", "zz-", "-f"])
        .arg(&file)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A saved demo report with what the demo lacks: a waived finding, a
/// whole-inventory one, a coverage gap, names that are not
/// DNS names, a name clash, a PostgreSQL resource and environments.
#[test]
fn a_saved_report_with_suppressions_gaps_and_awkward_names_renders_valid_reports() {
    let dir = tempfile::tempdir().unwrap();
    let saved = run(&["scan", "--demo", "--format", "json"]).stdout;
    let mut report: Value = serde_json::from_str(&saved).unwrap();
    let findings = report["findings"].as_array_mut().unwrap();
    // Text YAML refuses raw or reads as line breaks, and quoting's own characters.
    let hostile = "tab\t \"q\" back\\slash nul\u{0} del\u{7f} nel\u{85} csi\u{9b} ls\u{2028} bom\u{feff} \u{1F600} #x: y";
    findings[0]["message"] = json!(hostile);
    let template = findings[0].clone();
    let mut waived = findings.remove(0);
    waived["suppression"] = json!({
        "kind": "external",
        "by": "waiver .driftaudit/waivers.yaml:3",
        "reason": "rotated \"next\" week: see TICKET-1",
        "owner": "sec@example.com",
        "expires": "2026-12-31",
    });
    report["suppressed_findings"] = json!([waived]);
    let with = |resource: Value, environment: Option<&str>| {
        let mut finding = template.clone();
        finding["resource"] = resource;
        if let Some(environment) = environment {
            finding["environment"] = json!(environment);
        }
        finding
    };
    let findings = report["findings"].as_array_mut().unwrap();
    findings.push(with(Value::Null, None));
    findings.push(with(
        json!({"source": "kubernetes", "apiVersion": "rbac.authorization.k8s.io/v1",
               "kind": "ClusterRole", "namespace": "", "name": "system:controller:Weird"}),
        None,
    ));
    findings.push(with(
        json!({"source": "kubernetes", "apiVersion": "v1", "kind": "ConfigMap",
               "namespace": "shop", "name": "x".repeat(300)}),
        None,
    ));
    // The same Deployment in two environments: the names clash and both get a digest.
    for environment in ["staging", "prod"] {
        findings.push(with(
            json!({"source": "kubernetes", "apiVersion": "apps/v1", "kind": "Deployment",
                   "namespace": "edge", "name": "proxy"}),
            Some(environment),
        ));
    }
    findings.push(with(
        json!({"source": "kubernetes", "apiVersion": "v1", "kind": "ConfigMap",
               "namespace": "Not A_Namespace", "name": "c"}),
        None,
    ));
    findings.push(with(
        json!({"source": "postgres", "apiVersion": "postgres.driftaudit/v1", "kind": "Role",
               "namespace": "db.internal:5432", "name": "app_owner"}),
        None,
    ));
    report["coverage"] = json!([{
        "source": "kubernetes", "target": "demo-cluster",
        "scope": "apps/v1 Deployment in payments", "reason": "forbidden (403)"
    }]);
    let input = write(dir.path(), "report.json", &report.to_string());
    let result = run(&[
        "report",
        "--input",
        &input.display().to_string(),
        "--format",
        "openreports",
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let objects = check_stream(&result.stdout);
    let stream = &result.stdout;
    assert_eq!(
        kubectl_decode(stream),
        objects,
        "kubectl decodes the same objects"
    );
    let messages = objects
        .iter()
        .flat_map(|o| o["results"].as_array().unwrap())
        .filter(|r| r["message"] == hostile)
        .count();
    assert!(messages >= 6, "the message survives the YAML: {stream}");

    let scan = &objects[0];
    assert_eq!(scan["metadata"]["name"], "driftaudit-scan");
    assert_eq!(scan["summary"]["error"], 1, "the gap: {scan:#}");
    assert_eq!(
        scan["summary"]["fail"], 1,
        "the inventory finding: {scan:#}"
    );
    let gap = scan["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["result"] == "error")
        .unwrap();
    assert_eq!(gap["policy"], "driftaudit/coverage");
    assert!(gap["message"].as_str().unwrap().contains("forbidden (403)"));

    let skipped: Vec<&Value> = objects
        .iter()
        .flat_map(|o| o["results"].as_array().unwrap())
        .filter(|r| r["result"] == "skip")
        .collect();
    assert_eq!(skipped.len(), 1, "{stream}");
    assert_eq!(
        skipped[0]["properties"]["justification"],
        "rotated \"next\" week: see TICKET-1"
    );
    assert_eq!(skipped[0]["properties"]["owner"], "sec@example.com");

    let names: Vec<&str> = objects
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    let weird = names
        .iter()
        .find(|n| n.starts_with("driftaudit-clusterrole-system-controller-weird-"))
        .unwrap_or_else(|| panic!("{names:?}"));
    assert_eq!(
        weird.len(),
        "driftaudit-clusterrole-system-controller-weird-".len() + 8
    );
    assert!(names.iter().any(|n| n.len() == 253), "{names:?}");
    let proxies: Vec<&Value> = objects
        .iter()
        .filter(|o| o["scope"]["name"] == "proxy")
        .collect();
    assert_eq!(proxies.len(), 2);
    assert_ne!(
        proxies[0]["metadata"]["name"],
        proxies[1]["metadata"]["name"]
    );
    for proxy in proxies {
        assert_eq!(proxy["metadata"]["namespace"], "edge");
        assert!(proxy["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("driftaudit-deployment-proxy-"));
        assert!(proxy["results"][0]["properties"]["environment"].is_string());
    }
    // A namespace no cluster could have: a ClusterReport naming it in its scope.
    let odd = objects
        .iter()
        .find(|o| o["scope"]["namespace"] == "Not A_Namespace")
        .unwrap();
    assert_eq!(odd["kind"], "ClusterReport");
    // A PostgreSQL role is not in a Kubernetes namespace: a ClusterReport.
    let role = objects
        .iter()
        .find(|o| o["scope"]["name"] == "app_owner")
        .unwrap();
    assert_eq!(role["kind"], "ClusterReport");
    assert!(role["scope"].get("namespace").is_none());
    assert_eq!(role["results"][0]["properties"]["source"], "postgres");
    assert_eq!(
        role["results"][0]["properties"]["namespace"],
        "db.internal:5432"
    );
}

/// A stand-in for an API server with the OpenReports CRDs installed, as far
/// as `kubectl apply --dry-run=client` needs one: discovery of the
/// `openreports.io/v1alpha1` kinds, and 404 for every object (none exists
/// yet). kubectl cannot map a custom kind without discovery, so no offline
/// mode applies these objects. Bound to 127.0.0.1 on a port of the kernel's;
/// stopped and joined when dropped, even when the test fails.
struct DiscoveryStub {
    port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DiscoveryStub {
    fn start() -> DiscoveryStub {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        let resource = |name: &str, kind: &str, namespaced: bool| {
            json!({"name": name, "singularName": kind.to_lowercase(), "namespaced": namespaced,
                   "kind": kind, "verbs": ["create", "get", "list", "patch", "update"]})
        };
        let group_version =
            json!({"groupVersion": "openreports.io/v1alpha1", "version": "v1alpha1"});
        let answers: Vec<(&str, Value)> = vec![
            (
                "/api",
                json!({"kind": "APIVersions", "versions": ["v1"],
                            "serverAddressByClientCIDRs": []}),
            ),
            (
                "/apis",
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "openreports.io", "versions": [group_version],
                 "preferredVersion": group_version}]}),
            ),
            (
                "/api/v1",
                json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": []}),
            ),
            (
                "/apis/openreports.io/v1alpha1",
                json!({"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "openreports.io/v1alpha1", "resources": [
                    resource("reports", "Report", true),
                    resource("clusterreports", "ClusterReport", false)]}),
            ),
        ];
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    match reader.read_line(&mut header) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if header == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let target = line.split(' ').nth(1).unwrap_or("").to_string();
                let path = target.split('?').next().unwrap_or("").to_string();
                seen.lock()
                    .unwrap()
                    .push(format!("{} {path}", line.split(' ').next().unwrap_or("")));
                let (status, body) = match answers.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) => ("200 OK", body.to_string()),
                    None => (
                        "404 Not Found",
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "reason": "NotFound", "code": 404, "message": "not found"})
                        .to_string(),
                    ),
                };
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        DiscoveryStub {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn kubeconfig(&self, dir: &Path) -> std::path::PathBuf {
        write(
            dir,
            "kubeconfig",
            &format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: stub, cluster: {{server: \"http://127.0.0.1:{}\"}}}}]\nusers: [{{name: stub, user: {{token: stub}}}}]\ncontexts: [{{name: stub, context: {{cluster: stub, user: stub}}}}]\ncurrent-context: stub\n",
                self.port
            ),
        )
    }
}

impl Drop for DiscoveryStub {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn kubectl_applies_the_demo_reports_against_a_discovery_stub() {
    let stream = demo_openreports();
    let objects = check_stream(&stream);
    let dir = tempfile::tempdir().unwrap();
    let stub = DiscoveryStub::start();
    let mut command = Command::new(crate::yaml_kubectl::kubectl());
    command
        .args([
            "apply",
            "--dry-run=client",
            "--validate=false",
            "-o",
            "name",
            "-f",
            "-",
        ])
        .env("KUBECONFIG", stub.kubeconfig(dir.path()))
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("kubectl runs");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stream.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}.openreports.io/{}",
                o["kind"].as_str().unwrap().to_lowercase(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
    // kubectl looked each object up where it belongs: a Report in its namespace.
    let requests = stub.requests.lock().unwrap().clone();
    for object in &objects {
        let name = object["metadata"]["name"].as_str().unwrap();
        let path = match object["metadata"]["namespace"].as_str() {
            Some(namespace) => {
                format!("GET /apis/openreports.io/v1alpha1/namespaces/{namespace}/reports/{name}")
            }
            None => format!("GET /apis/openreports.io/v1alpha1/clusterreports/{name}"),
        };
        assert!(requests.contains(&path), "{path} not in {requests:#?}");
    }
}

#[test]
fn an_input_error_is_an_error_result_of_the_scan_report() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: [\n",
    );
    let result = run(&[
        "scan",
        "--repo",
        &dir.path().display().to_string(),
        "--now",
        "2026-11-22T00:00:00Z",
        "--format",
        "openreports",
    ]);
    assert_eq!(result.code, 2, "{}", result.stderr);
    let objects = check_stream(&result.stdout);
    assert_eq!(objects.len(), 1, "{}", result.stdout);
    let scan = &objects[0];
    assert_eq!(scan["metadata"]["name"], "driftaudit-scan");
    assert_eq!(
        scan["metadata"]["annotations"]["driftaudit/result"],
        "error (exit 2)"
    );
    let error = &scan["results"][0];
    assert_eq!(error["result"], "error");
    assert_eq!(error["policy"], "driftaudit/input");
    assert!(
        error["message"].as_str().unwrap().starts_with("a.yaml:5:"),
        "{error}"
    );
    assert_eq!(
        error["timestamp"],
        json!({"seconds": 1_795_305_600_i64, "nanos": 0})
    );
}
