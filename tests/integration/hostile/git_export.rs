//! Attacks on reading a Git ref, exporting it for kustomize and running
//! kustomize (issue 8, items 1, 2 and 6): hostile tree-entry names, symlinks,
//! overlay paths leaving the tree, signals during a render, and kustomize
//! errors that echo secrets or carry timestamps.

use std::net::TcpListener;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use git2::{ObjectType, Oid, Repository};

use crate::common::{driftaudit, finish, write, Run};

/// A node of a tree written object by object, so names that `git add` (and
/// libgit2's index) refuse can be stored, as a hostile pushed commit can hold them.
enum Node {
    File(Vec<u8>),
    Dir(Vec<(Vec<u8>, Node)>),
    Symlink(String),
    Submodule,
}

fn file(name: &str, text: &str) -> (Vec<u8>, Node) {
    (
        name.as_bytes().to_vec(),
        Node::File(text.as_bytes().to_vec()),
    )
}

fn dir(name: &str, children: Vec<(Vec<u8>, Node)>) -> (Vec<u8>, Node) {
    (name.as_bytes().to_vec(), Node::Dir(children))
}

fn link(name: &str, target: &str) -> (Vec<u8>, Node) {
    (name.as_bytes().to_vec(), Node::Symlink(target.to_string()))
}

/// Writes a raw tree object (no name checks) and returns its id.
fn raw_tree(repo: &Repository, entries: Vec<(Vec<u8>, Node)>) -> Oid {
    let mut rows: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (name, node) in entries {
        let (mode, id, is_dir) = match node {
            Node::File(content) => ("100644", repo.blob(&content).unwrap(), false),
            Node::Dir(children) => ("40000", raw_tree(repo, children), true),
            Node::Symlink(target) => ("120000", repo.blob(target.as_bytes()).unwrap(), false),
            Node::Submodule => (
                "160000",
                Oid::from_str("1234567890123456789012345678901234567890").unwrap(),
                false,
            ),
        };
        // Git sorts a directory as if its name ended with `/`.
        let mut key = name.clone();
        if is_dir {
            key.push(b'/');
        }
        let mut row = format!("{mode} ").into_bytes();
        row.extend_from_slice(&name);
        row.push(0);
        row.extend_from_slice(id.as_bytes());
        rows.push((key, row));
    }
    rows.sort();
    let bytes: Vec<u8> = rows.into_iter().flat_map(|(_, row)| row).collect();
    repo.odb().unwrap().write(ObjectType::Tree, &bytes).unwrap()
}

/// A repository whose HEAD commit holds exactly `entries`.
fn hostile_repo(path: &Path, entries: Vec<(Vec<u8>, Node)>) {
    let repo = Repository::init(path).unwrap();
    let tree_id = raw_tree(&repo, entries);
    let tree = repo.find_tree(tree_id).unwrap();
    let signature = git2::Signature::new(
        "Test",
        "test@example.test",
        &git2::Time::new(1_700_000_000, 0),
    )
    .unwrap();
    repo.commit(Some("HEAD"), &signature, &signature, "hostile", &tree, &[])
        .unwrap();
}

fn configmap(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: apps\ndata:\n  value: {value}\n")
}

/// `deploy/overlays/prod` with a kustomization listing `resources`, plus `extra`
/// entries at the root of the tree.
fn overlay_tree(
    resources: &[&str],
    overlay_extra: Vec<(Vec<u8>, Node)>,
    extra: Vec<(Vec<u8>, Node)>,
) -> Vec<(Vec<u8>, Node)> {
    let kustomization = format!(
        "resources:\n{}",
        resources
            .iter()
            .map(|r| format!("- {r}\n"))
            .collect::<String>()
    );
    let mut prod = vec![
        file("kustomization.yaml", &kustomization),
        file("cm.yaml", &configmap("inside", "fine")),
    ];
    prod.extend(overlay_extra);
    let mut root = vec![dir(
        "deploy",
        vec![dir("overlays", vec![dir("prod", prod)])],
    )];
    root.extend(extra);
    root
}

/// A test-owned layout: `base/repo` (the repository) and `base/tmp` (TMPDIR).
struct Layout {
    base: tempfile::TempDir,
}

impl Layout {
    fn new() -> Layout {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(base.path().join("repo")).unwrap();
        std::fs::create_dir_all(base.path().join("tmp")).unwrap();
        Layout { base }
    }
    fn base(&self) -> &Path {
        self.base.path()
    }
    fn repo(&self) -> PathBuf {
        self.base().join("repo")
    }
    fn tmp(&self) -> PathBuf {
        self.base().join("tmp")
    }
    fn command(&self, args: &[&str]) -> Command {
        let mut command = driftaudit();
        command
            .current_dir(self.repo())
            .env("TMPDIR", self.tmp())
            .env("PATH", path_with_kubectl())
            .args(args);
        command
    }
    fn run(&self, args: &[&str]) -> Run {
        finish(&mut self.command(args))
    }
    /// A scan of HEAD that renders the overlay from an export of the ref.
    fn scan_ref_with_overlay(&self) -> Run {
        self.run(&[
            "scan",
            "--repo",
            ".",
            "--ref",
            "HEAD",
            "--kustomize",
            "deploy/overlays/prod",
            "--format",
            "json",
        ])
    }
    fn tmp_is_empty(&self) -> bool {
        std::fs::read_dir(self.tmp()).unwrap().next().is_none()
    }
}

/// kubectl lives in pip's script directory.
fn path_with_kubectl() -> String {
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{scripts}:{}", std::env::var("PATH").unwrap_or_default())
}

fn error_messages(run: &Run) -> String {
    run.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}: {}\n", e["location"], e["message"]))
        .collect()
}

#[test]
fn git_tree_entry_dotdot_cannot_write_outside_scratch() {
    let layout = Layout::new();
    hostile_repo(
        &layout.repo(),
        overlay_tree(
            &["cm.yaml"],
            vec![],
            vec![dir(
                "..",
                vec![
                    file("escaped-one.yaml", &configmap("escaped", "one")),
                    dir("..", vec![file("escaped-two.yaml", "two")]),
                ],
            )],
        ),
    );
    let r = layout.scan_ref_with_overlay();
    // The export sits in TMPDIR: `..` lands in TMPDIR, `../..` in the layout root.
    assert!(!layout.tmp().join("escaped-one.yaml").exists());
    assert!(!layout.base().join("escaped-two.yaml").exists());
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = error_messages(&r);
    assert!(
        errors.contains("`..`") && errors.contains("HEAD"),
        "{errors}"
    );
    assert!(!r.stdout.contains("escaped"), "{}", r.stdout);
    assert!(layout.tmp_is_empty());
}

#[test]
fn git_tree_entry_with_an_absolute_name_cannot_write_outside_scratch() {
    let layout = Layout::new();
    let target = layout.base().join("absolute-escape.yaml");
    hostile_repo(
        &layout.repo(),
        overlay_tree(
            &["cm.yaml"],
            vec![],
            vec![file(
                target.to_str().unwrap(),
                "written through an absolute name",
            )],
        ),
    );
    let r = layout.scan_ref_with_overlay();
    assert!(!target.exists(), "an absolute tree entry wrote {target:?}");
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        error_messages(&r).contains("absolute-escape.yaml"),
        "{}",
        r.all()
    );
}

#[test]
fn git_tree_entries_named_dot_git_dot_or_with_backslashes_are_refused() {
    for hostile in [".GIT", ".git", ".", "..\\..\\evil.yaml", "a\u{1b}[31mred"] {
        let layout = Layout::new();
        hostile_repo(
            &layout.repo(),
            overlay_tree(
                &["cm.yaml"],
                vec![],
                vec![dir(
                    hostile,
                    vec![file("config", "[core]\n\thooksPath = /tmp\n")],
                )],
            ),
        );
        let r = layout.scan_ref_with_overlay();
        assert_eq!(r.code, 2, "{hostile:?}: {}", r.all());
        let errors = error_messages(&r);
        assert!(
            errors.contains("not a plain file name"),
            "{hostile:?}: {errors}"
        );
        // Control characters are shown escaped, never raw.
        assert!(!r.all().contains('\u{1b}'), "{}", r.all());
        assert!(layout.tmp_is_empty());
    }
}

#[test]
fn git_tree_entry_dotdot_is_refused_when_reading_a_ref_without_kustomize() {
    let layout = Layout::new();
    hostile_repo(
        &layout.repo(),
        vec![
            dir("apps", vec![file("cm.yaml", &configmap("inside", "fine"))]),
            dir("..", vec![file("cm.yaml", &configmap("escaped", "two"))]),
        ],
    );
    let r = layout.run(&["scan", "--repo", ".", "--ref", "HEAD", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(error_messages(&r).contains("`..`"), "{}", r.all());
}

#[test]
fn git_symlink_out_of_the_tree_is_never_followed_by_kustomize() {
    let layout = Layout::new();
    let outside = write(
        layout.base(),
        "outside/leak.yaml",
        &configmap("leaked", "PLANTED-OUTSIDE-VALUE"),
    );
    hostile_repo(
        &layout.repo(),
        overlay_tree(
            &["cm.yaml", "absolute.yaml", "relative.yaml"],
            vec![
                link("absolute.yaml", outside.to_str().unwrap()),
                link("relative.yaml", "../../../../outside/leak.yaml"),
            ],
            vec![],
        ),
    );
    let r = layout.scan_ref_with_overlay();
    assert!(!r.all().contains("PLANTED-OUTSIDE-VALUE"), "{}", r.all());
    assert!(!r.all().contains("leaked"), "{}", r.all());
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = error_messages(&r);
    assert!(
        errors.contains("points out of the tree")
            && errors.contains("deploy/overlays/prod/absolute.yaml"),
        "{errors}"
    );
}

#[test]
fn git_symlink_to_a_file_inside_the_tree_is_exported_as_a_copy() {
    let layout = Layout::new();
    let kustomization = "resources:\n- cm.yaml\n- shared.yaml\n";
    hostile_repo(
        &layout.repo(),
        vec![dir(
            "deploy",
            vec![
                dir(
                    "overlays",
                    vec![dir(
                        "prod",
                        vec![
                            file("kustomization.yaml", kustomization),
                            file("cm.yaml", &configmap("inside", "fine")),
                            link("shared.yaml", "../../shared/./cm.yaml"),
                        ],
                    )],
                ),
                // Rendered through the link, so not read again on its own.
                dir("shared", vec![file("cm.yaml", &configmap("shared", "ok"))]),
            ],
        )],
    );
    let r = layout.scan_ref_with_overlay();
    assert_eq!(r.code, 0, "{}", r.all());
    // `inside` and `shared`, the latter rendered through the link.
    assert_eq!(r.json()["summary"]["declared_resources"], 2, "{}", r.stdout);
}

#[test]
fn git_submodule_in_an_overlay_is_skipped_visibly() {
    let layout = Layout::new();
    hostile_repo(
        &layout.repo(),
        overlay_tree(
            &["cm.yaml", "vendor"],
            vec![(b"vendor".to_vec(), Node::Submodule)],
            vec![],
        ),
    );
    let r = layout.scan_ref_with_overlay();
    assert_eq!(r.code, 2, "{}", r.all());
    let errors = error_messages(&r);
    assert!(
        errors.contains("submodule") && errors.contains("deploy/overlays/prod/vendor"),
        "{errors}"
    );
}

/// A TCP listener that accepts and never answers: kustomize fetching a remote
/// resource from it hangs. Tells `accepted` on each connection.
fn silent_listener() -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (accepted, on_accept) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = accepted.send(());
        }
    });
    (port, on_accept)
}

/// Processes whose parent is `pid` (from /proc).
fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: comm may hold spaces, so split after `)`.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            children.push(child);
        }
    }
    children
}

fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Modes of everything under `dir` that are not private (0700 dirs, 0600 files).
fn non_private_modes(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            if mode != 0o700 {
                out.push(format!("{:?} {mode:o}", entry.path()));
            }
            non_private_modes(&entry.path(), out);
        } else if mode != 0o600 {
            out.push(format!("{:?} {mode:o}", entry.path()));
        }
    }
}

/// Starts a render that hangs on a remote resource, checks the export while
/// it exists, sends `signal` and checks that everything is gone.
fn signal_during_render(signal: i32, expected_code: i32) {
    let layout = Layout::new();
    let (port, on_accept) = silent_listener();
    let remote = format!("http://127.0.0.1:{port}/x.yaml");
    hostile_repo(
        &layout.repo(),
        overlay_tree(&["cm.yaml", &remote], vec![], vec![]),
    );
    let mut child = layout
        .command(&[
            "scan",
            "--repo",
            ".",
            "--ref",
            "HEAD",
            "--kustomize",
            "deploy/overlays/prod",
            "--format",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let accepted = on_accept.recv_timeout(Duration::from_secs(60));
    let kustomize_children = children_of(pid);
    let mut exposed = Vec::new();
    non_private_modes(&layout.tmp(), &mut exposed);
    let export_existed = !layout.tmp_is_empty();
    unsafe {
        libc::kill(pid as i32, signal);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Give the kernel a moment to reap the killed group before looking.
    std::thread::sleep(Duration::from_millis(300));
    let survivors: Vec<u32> = kustomize_children
        .iter()
        .copied()
        .filter(|p| is_running(*p))
        .collect();
    for survivor in &survivors {
        unsafe {
            libc::kill(*survivor as i32, libc::SIGKILL);
        }
    }
    assert!(
        accepted.is_ok(),
        "kustomize never fetched the remote resource"
    );
    assert!(export_existed, "no export in TMPDIR while kustomize ran");
    assert!(exposed.is_empty(), "export not private: {exposed:?}");
    assert!(!kustomize_children.is_empty(), "no kustomize child seen");
    let status = status.expect("driftaudit did not end within 10 s of the signal");
    assert_eq!(status.code(), Some(expected_code), "{status:?}");
    assert!(survivors.is_empty(), "kustomize survived: {survivors:?}");
    let left: Vec<_> = std::fs::read_dir(layout.tmp())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "scratch left behind: {left:?}");
}

#[test]
fn sigterm_during_kustomize_removes_the_private_export_and_kills_kustomize() {
    signal_during_render(libc::SIGTERM, 143);
}

#[test]
fn sigint_during_kustomize_removes_the_private_export_and_kills_kustomize() {
    signal_during_render(libc::SIGINT, 130);
}

/// An overlay outside the repository, with a ConfigMap that must never be read.
fn outside_overlay(layout: &Layout) -> PathBuf {
    let outside = layout.base().join("outside");
    write(&outside, "kustomization.yaml", "resources:\n- cm.yaml\n");
    write(
        &outside,
        "cm.yaml",
        &configmap("outside-overlay", "PLANTED-OUTSIDE"),
    );
    outside
}

#[test]
fn kustomize_overlay_paths_cannot_leave_the_directory() {
    let layout = Layout::new();
    let outside = outside_overlay(&layout);
    write(&layout.repo(), "apps/cm.yaml", &configmap("inside", "fine"));
    symlink(&outside, layout.repo().join("linked")).unwrap();
    for overlay in [
        "../outside",
        outside.to_str().unwrap(),
        "linked",
        "apps/../../outside",
    ] {
        let r = layout.run(&[
            "scan",
            "--repo",
            ".",
            "--kustomize",
            overlay,
            "--format",
            "json",
        ]);
        assert!(
            !r.all().contains("outside-overlay"),
            "{overlay}: {}",
            r.all()
        );
        assert_eq!(r.code, 2, "{overlay}: {}", r.all());
        assert!(
            error_messages(&r).contains("inside the repository"),
            "{overlay}: {}",
            r.all()
        );
    }
}

#[test]
fn kustomize_overlay_paths_cannot_leave_the_ref() {
    let layout = Layout::new();
    outside_overlay(&layout);
    hostile_repo(&layout.repo(), overlay_tree(&["cm.yaml"], vec![], vec![]));
    // The export sits in base/tmp/<scratch>: three levels up is the layout root.
    for overlay in ["../../outside", "deploy/../../../outside"] {
        let r = layout.run(&[
            "scan",
            "--repo",
            ".",
            "--ref",
            "HEAD",
            "--kustomize",
            overlay,
            "--format",
            "json",
        ]);
        assert!(
            !r.all().contains("outside-overlay"),
            "{overlay}: {}",
            r.all()
        );
        assert_eq!(r.code, 2, "{overlay}: {}", r.all());
        assert!(
            error_messages(&r).contains("inside the repository"),
            "{overlay}: {}",
            r.all()
        );
    }
}

#[test]
fn traefik_cert_file_cannot_follow_a_symlink_out_of_the_tree() {
    let layout = Layout::new();
    let certificate = rcgen::generate_simple_self_signed(vec!["leak.example.test".into()])
        .unwrap()
        .cert
        .pem();
    let outside = layout.base().join("outside-certs");
    write(&outside, "leak.crt", &certificate);
    let repo = layout.repo();
    write(
        &repo,
        "driftaudit.yaml",
        "git:\n  traefik: [\"traefik/**/*.yml\"]\n",
    );
    write(
        &repo,
        "traefik/dynamic/dynamic.yml",
        "tls:\n  certificates:\n    - certFile: certs/leak.crt\n    - certFile: files/leak.crt\n",
    );
    // A symlinked folder and a symlinked file, both pointing out of the tree.
    symlink(&outside, repo.join("traefik/certs")).unwrap();
    std::fs::create_dir_all(repo.join("traefik/files")).unwrap();
    symlink(
        outside.join("leak.crt"),
        repo.join("traefik/files/leak.crt"),
    )
    .unwrap();
    let r = layout.run(&["scan", "--repo", ".", "--format", "json"]);
    assert!(!r.all().contains("leak.example.test"), "{}", r.all());
    assert_eq!(r.json()["summary"]["declared_resources"], 0, "{}", r.stdout);
}

#[test]
fn traefik_cert_file_that_is_a_symlink_in_a_ref_is_not_read_as_a_certificate() {
    let layout = Layout::new();
    hostile_repo(
        &layout.repo(),
        vec![
            file(
                "driftaudit.yaml",
                "git:\n  traefik: [\"traefik/**/*.yml\"]\n",
            ),
            dir(
                "traefik",
                vec![
                    file(
                        "dynamic.yml",
                        "tls:\n  certificates:\n    - certFile: certs/leak.crt\n",
                    ),
                    dir("certs", vec![link("leak.crt", "/etc/ssl/certs/leak.crt")]),
                ],
            ),
        ],
    );
    write(
        &layout.repo(),
        "driftaudit.yaml",
        "git:\n  traefik: [\"traefik/**/*.yml\"]\n",
    );
    let r = layout.run(&["scan", "--repo", ".", "--ref", "HEAD", "--format", "json"]);
    assert!(
        !r.stdout.contains("/etc/ssl/certs/leak.crt"),
        "{}",
        r.stdout
    );
    assert_eq!(r.json()["summary"]["declared_resources"], 0, "{}", r.stdout);
}

/// A directory whose overlay has a secretGenerator kustomize rejects, echoing
/// the literal in its error.
fn broken_secret_generator(layout: &Layout) {
    write(
        &layout.repo(),
        "deploy/kustomization.yaml",
        "secretGenerator:\n- name: db\n  literals:\n  - password=PLANTED-LITERAL-ONE\n  - \"broken PLANTED-LITERAL-TWO\"\n",
    );
}

#[test]
fn kustomize_errors_never_echo_secret_generator_literals() {
    let layout = Layout::new();
    broken_secret_generator(&layout);
    for format in ["json", "text"] {
        let r = layout.run(&[
            "scan",
            "--repo",
            ".",
            "--kustomize",
            "deploy",
            "--format",
            format,
        ]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            !r.all().contains("PLANTED-LITERAL"),
            "{format}: {}",
            r.all()
        );
        assert!(r.all().contains("deploy/kustomization.yaml"), "{}", r.all());
        assert!(r.all().contains("secretGenerator"), "{}", r.all());
    }
}

#[test]
fn kustomize_errors_are_byte_identical_across_runs() {
    let layout = Layout::new();
    let repo = layout.repo();
    write(
        &repo,
        "deploy/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    let git = Repository::init(&repo).unwrap();
    crate::common::commit_all(&git, "overlay");
    let args = [
        "scan",
        "--repo",
        ".",
        "--ref",
        "HEAD",
        "--kustomize",
        "deploy",
        "--now",
        "2026-11-21T12:00:00Z",
    ];
    let first = layout.run(&args);
    std::thread::sleep(Duration::from_millis(20));
    let second = layout.run(&args);
    assert_eq!(first.code, 2, "{}", first.all());
    assert_eq!(first.all(), second.all());
    assert!(
        first.all().contains("deploy/kustomization.yaml"),
        "{}",
        first.all()
    );
}
