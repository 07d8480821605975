//! Declared-only scan benchmark: generates N synthetic resources in a real Git
//! repository and times `driftaudit scan --ref HEAD` with every built-in policy,
//! through the release binary. Prints wall time and peak memory per size.
//!
//! `cargo bench --bench scan` (sizes from DRIFTAUDIT_BENCH_SIZES, default
//! `1000,10000,100000`). Figures are copied into docs/benchmarks.md.
//!
//! Then, per size, the pull-request check: a second commit changes one
//! application's file, and `scan --ref HEAD --compare-ref HEAD~1` (base and
//! head in one run) is timed against `scan --ref HEAD` (head only), runs
//! alternating; issue 13 asks for at most 1.3x.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use git2::{Oid, Repository, Signature, Time};

/// The resources of one synthetic application: what a GitOps repo holds per
/// service (a workload, its Service, config, identity; a TLS Secret for one in ten).
fn application(index: usize, certificate: &str) -> (String, usize) {
    let ns = format!("team-{}", index % 40);
    let image = if index.is_multiple_of(7) {
        "docker.io/library/nginx:latest".to_string()
    } else {
        format!("registry.example.com/apps/app-{index}:1.{}.0", index % 13)
    };
    let mut text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{index}\n  namespace: {ns}\n  labels: {{app: app-{index}}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app-{index}}}\n  template:\n    metadata:\n      labels: {{app: app-{index}}}\n    spec:\n      serviceAccountName: app-{index}\n      securityContext: {{runAsNonRoot: true}}\n      containers:\n        - name: main\n          image: {image}\n          ports: [{{containerPort: 8080}}]\n          resources:\n            limits: {{cpu: 500m, memory: 256Mi}}\n            requests: {{cpu: 100m, memory: 128Mi}}\n          securityContext: {{allowPrivilegeEscalation: false}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{index}\n  namespace: {ns}\nspec:\n  selector: {{app: app-{index}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{index}\n  namespace: {ns}\ndata:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: \"a,b,c\"\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-{index}\n  namespace: {ns}\n"
    );
    let mut count = 4;
    if index.is_multiple_of(10) {
        let indented: String = certificate.lines().map(|l| format!("    {l}\n")).collect();
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app-{index}-tls\n  namespace: {ns}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n{indented}  tls.key: not-a-real-key\n"
        ));
        count += 1;
    }
    (text, count)
}

/// Writes `resources` resources into a new repository's object database (one
/// file per application) and commits them; no working tree is written.
fn generate(dir: &Path, resources: usize, certificate: &str) -> (usize, usize) {
    let repo = Repository::init_bare(dir).expect("init");
    let mut written = 0;
    let mut index = 0;
    let mut apps: Vec<(String, Oid)> = Vec::new();
    while written < resources {
        let (text, count) = application(index, certificate);
        apps.push((
            format!("app-{index}.yaml"),
            repo.blob(text.as_bytes()).expect("blob"),
        ));
        written += count;
        index += 1;
    }
    // One folder per 100 applications keeps trees at a realistic size.
    let mut root = repo.treebuilder(None).expect("treebuilder");
    for (chunk_index, chunk) in apps.chunks(100).enumerate() {
        let mut folder = repo.treebuilder(None).expect("treebuilder");
        for (name, oid) in chunk {
            folder.insert(name, *oid, 0o100644).expect("insert");
        }
        let folder_id = folder.write().expect("tree");
        root.insert(format!("apps-{chunk_index:04}"), folder_id, 0o040000)
            .expect("insert");
    }
    let tree = repo
        .find_tree(root.write().expect("tree"))
        .expect("find tree");
    let signature =
        Signature::new("bench", "bench@example.test", &Time::new(1_700_000_000, 0)).expect("sig");
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "synthetic",
        &tree,
        &[],
    )
    .expect("commit");
    (written, apps.len())
}

/// Runs one scan of `repo` with `binary`; its wall time and peak RSS (KiB),
/// from `wait4`'s resource usage of that one child.
// The child is reaped by `wait4` (which `Child::wait` cannot give the usage of).
#[allow(clippy::zombie_processes)]
fn scan_once(binary: &Path, repo: &Path, extra: &[&str]) -> (Duration, i64) {
    let started = Instant::now();
    let child = Command::new(binary)
        .args(["scan", "--repo"])
        .arg(repo)
        .args(extra)
        .args([
            "--ref",
            "HEAD",
            "--format",
            "json",
            "--output",
            "/dev/null",
            "--now",
            "2026-11-22T00:00:00Z",
            "--fail-on",
            "none",
        ])
        .spawn()
        .expect("the binary runs");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 only writes into the integers and the struct we own, and
    // reaps the child we spawned (so `child` is never waited for again).
    let reaped = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(reaped, child.id() as i32, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{} failed with status {status}",
        binary.display()
    );
    (elapsed, usage.ru_maxrss)
}

/// Medians (and peak RSS) of `runs` scans without and with a SQLite history,
/// alternating; the store gets one scan first so every timed run compares
/// with a previous scan and records a new one.
fn history_runs(binary: &Path, repo: &Path, runs: usize) -> HistoryRuns {
    let store = tempfile::tempdir().expect("tempdir");
    let spec = format!("sqlite:{}", store.path().join("history.db").display());
    let with = ["--history", spec.as_str()];
    scan_once(binary, repo, &with);
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut peaks = [0i64; 2];
    for _ in 0..runs {
        for (index, extra) in [&[][..], &with[..]].into_iter().enumerate() {
            let (elapsed, peak) = scan_once(binary, repo, extra);
            times[index].push(elapsed);
            peaks[index] = peaks[index].max(peak);
        }
    }
    let findings = Command::new(binary)
        .args(["history", "list", "--format", "json", "--history", &spec])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v[0]["findings"].as_i64())
        .unwrap_or(-1);
    let median = |t: &mut Vec<Duration>| {
        t.sort();
        t[runs / 2]
    };
    HistoryRuns {
        plain: median(&mut times[0]),
        plain_peak: peaks[0],
        with: median(&mut times[1]),
        with_peak: peaks[1],
        findings,
    }
}

/// What `history_runs` measured.
struct HistoryRuns {
    plain: Duration,
    plain_peak: i64,
    with: Duration,
    with_peak: i64,
    /// Findings recorded per scan (from `history list`).
    findings: i64,
}

/// Commits a change to one application's file (replicas and image of
/// `apps-0000/app-3.yaml`) on top of HEAD: the head of a pull request.
fn commit_one_change(dir: &Path, certificate: &str) {
    let repo = Repository::open_bare(dir).expect("open");
    let parent = repo.head().and_then(|h| h.peel_to_commit()).expect("HEAD");
    let root = parent.tree().expect("tree");
    let folder_id = root.get_name("apps-0000").expect("apps-0000").id();
    let folder = repo.find_tree(folder_id).expect("folder");
    let (text, _) = application(3, certificate);
    let changed = text
        .replace("replicas: 2", "replicas: 3")
        .replace(":1.3.0", ":1.4.0");
    let mut builder = repo.treebuilder(Some(&folder)).expect("treebuilder");
    builder
        .insert(
            "app-3.yaml",
            repo.blob(changed.as_bytes()).expect("blob"),
            0o100644,
        )
        .expect("insert");
    let folder_id = builder.write().expect("tree");
    let mut builder = repo.treebuilder(Some(&root)).expect("treebuilder");
    builder
        .insert("apps-0000", folder_id, 0o040000)
        .expect("insert");
    let tree = repo
        .find_tree(builder.write().expect("tree"))
        .expect("find tree");
    let signature =
        Signature::new("bench", "bench@example.test", &Time::new(1_700_000_100, 0)).expect("sig");
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "one change",
        &tree,
        &[&parent],
    )
    .expect("commit");
}

/// Head-only against base+head (`--compare-ref HEAD~1`) on a repository
/// whose HEAD changed one file: medians of `runs`, alternating.
fn compare_runs(binary: &Path, repo: &Path, runs: usize) -> [(Duration, i64); 2] {
    let modes: [&[&str]; 2] = [&[], &["--compare-ref", "HEAD~1"]];
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut peaks = [0i64; 2];
    for _ in 0..runs {
        for (index, extra) in modes.iter().enumerate() {
            let (elapsed, peak) = scan_once(binary, repo, extra);
            times[index].push(elapsed);
            peaks[index] = peaks[index].max(peak);
        }
    }
    for t in &mut times {
        t.sort();
    }
    [
        (times[0][runs / 2], peaks[0]),
        (times[1][runs / 2], peaks[1]),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let sizes: Vec<usize> = std::env::var("DRIFTAUDIT_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("sizes are numbers"))
        .collect();
    // This build's binary, and with DRIFTAUDIT_BENCH_COMPARE=/path/to/driftaudit
    // another build (an older commit) run on the same repositories, alternating
    // with this one run by run so both see the same machine load.
    let mut binaries = vec![PathBuf::from(env!("CARGO_BIN_EXE_driftaudit"))];
    binaries.extend(std::env::var_os("DRIFTAUDIT_BENCH_COMPARE").map(PathBuf::from));
    let runs: usize = std::env::var("DRIFTAUDIT_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3);
    let certificate = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/repo/apps/shop/shop-tls.yaml"),
    )
    .ok()
    .and_then(|t| {
        let start = t.find("-----BEGIN CERTIFICATE-----")?;
        let end = t.find("-----END CERTIFICATE-----")? + "-----END CERTIFICATE-----".len();
        Some(
            t[start..end]
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
    .expect("the demo's certificate");
    println!("| binary | resources | files | wall (median of {runs}) | peak RSS |");
    println!("|---|---:|---:|---:|---:|");
    let mut compared = Vec::new();
    // DRIFTAUDIT_BENCH_HISTORY=1: the same scan with and without a SQLite
    // history (`--history sqlite:FILE`, docs/history.md), alternating run by run.
    let history = std::env::var_os("DRIFTAUDIT_BENCH_HISTORY").is_some();
    let mut remembered = Vec::new();
    for size in sizes {
        // DRIFTAUDIT_BENCH_KEEP=DIR keeps each repository (DIR/N) for other
        // tools, e.g. `valgrind --tool=callgrind` on the same input.
        let dir = tempfile::tempdir().expect("tempdir");
        let kept =
            std::env::var_os("DRIFTAUDIT_BENCH_KEEP").map(|d| Path::new(&d).join(size.to_string()));
        let repo = kept.clone().unwrap_or_else(|| dir.path().to_path_buf());
        std::fs::create_dir_all(&repo).expect("the repository folder");
        let (written, files) = generate(&repo, size, &certificate);
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); binaries.len()];
        let mut peaks: Vec<i64> = vec![0; binaries.len()];
        for _ in 0..runs {
            for (index, binary) in binaries.iter().enumerate() {
                let (elapsed, peak) = scan_once(binary, &repo, &[]);
                times[index].push(elapsed);
                peaks[index] = peaks[index].max(peak);
            }
        }
        for (index, binary) in binaries.iter().enumerate() {
            times[index].sort();
            let name = if index == 0 { "this build" } else { "compared" };
            println!(
                "| {name} ({}) | {written} | {files} | {:.2} s | {:.0} MiB |",
                binary.display(),
                times[index][runs / 2].as_secs_f64(),
                peaks[index] as f64 / 1024.0
            );
        }
        if history {
            remembered.push((written, history_runs(&binaries[0], &repo, runs)));
        }
        commit_one_change(&repo, &certificate);
        let [head, both] = compare_runs(&binaries[0], &repo, runs);
        compared.push((written, head, both));
    }
    if history {
        println!("\nWith a SQLite history (steady state: the store holds the previous scan), this build\n");
        println!("| resources | findings | without (median of {runs}) | with --history | change | peak RSS without / with |");
        println!("|---:|---:|---:|---:|---:|---:|");
        for (written, r) in remembered {
            println!(
                "| {written} | {} | {:.2} s | {:.2} s | {:+.1} % | {:.0} / {:.0} MiB |",
                r.findings,
                r.plain.as_secs_f64(),
                r.with.as_secs_f64(),
                (r.with.as_secs_f64() / r.plain.as_secs_f64() - 1.0) * 100.0,
                r.plain_peak as f64 / 1024.0,
                r.with_peak as f64 / 1024.0
            );
        }
    }
    println!("\nOne file changed: head only (`--ref HEAD`) against base+head (`--compare-ref HEAD~1`), this build\n");
    println!("| resources | head only (median of {runs}) | base+head | ratio | peak RSS head / base+head |");
    println!("|---:|---:|---:|---:|---:|");
    for (written, head, both) in compared {
        println!(
            "| {written} | {:.2} s | {:.2} s | {:.2}x | {:.0} / {:.0} MiB |",
            head.0.as_secs_f64(),
            both.0.as_secs_f64(),
            both.0.as_secs_f64() / head.0.as_secs_f64(),
            head.1 as f64 / 1024.0,
            both.1 as f64 / 1024.0
        );
    }
}
