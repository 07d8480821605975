//! The HTML report (`--format html`, docs/formats.md): checked in a real
//! headless Chromium (Debian `chromium`): the page loads with no console
//! message (no script error, nothing refused by its Content-Security-Policy),
//! its key elements are in the DOM Chromium built, a screenshot is taken, and
//! the PDF Chromium prints holds the summary and every finding
//! (`pdftotext`, Debian `poppler-utils`). Hostile text stays text.
//!
//! Without `chromium` the browser tests say so loudly and skip, unless
//! `DRIFTAUDIT_REQUIRE_BROWSER` is set (CI sets it): then they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{driftaudit, finish, run, write};
use serde_json::Value;

/// How long one Chromium run may take before it is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether the browser tests can run: `chromium` and `pdftotext` are
/// installed. Missing, they skip with a loud message, or fail when
/// `DRIFTAUDIT_REQUIRE_BROWSER` is set.
fn browser_available(test: &str) -> bool {
    let missing: Vec<&str> = ["chromium", "pdftotext"]
        .into_iter()
        .filter(|p| !on_path(p))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let required = std::env::var_os("DRIFTAUDIT_REQUIRE_BROWSER").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "{test}: DRIFTAUDIT_REQUIRE_BROWSER is set and {} is not installed (apt-get install chromium poppler-utils)",
        missing.join(" and ")
    );
    eprintln!(
        "\n!!!!! SKIPPED {test}: {} not installed (apt-get install chromium poppler-utils); \
         set DRIFTAUDIT_REQUIRE_BROWSER=1 to make this a failure !!!!!\n",
        missing.join(" and ")
    );
    false
}

struct Browsed {
    stdout: String,
    stderr: String,
}

/// One headless Chromium run on `page` with `args`, in a fresh profile
/// under `scratch`; killed (its whole process group, by id) after
/// [`BROWSER_TIMEOUT`].
fn chromium(scratch: &Path, page: &Path, args: &[String]) -> Browsed {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let out = tempfile::NamedTempFile::new_in(scratch).unwrap();
    let err = tempfile::NamedTempFile::new_in(scratch).unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let group = child.id() as i32;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Its helpers (renderer, GPU, zygote) share its process group: none
    // outlives the run, whether it ended or hung.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
    if status.is_none() {
        let _ = child.wait();
    }
    let browsed = Browsed {
        stdout: std::fs::read_to_string(out.path()).unwrap_or_default(),
        stderr: std::fs::read_to_string(err.path()).unwrap_or_default(),
    };
    let status = status.unwrap_or_else(|| {
        panic!(
            "chromium did not finish within {BROWSER_TIMEOUT:?} (killed):\n{}",
            browsed.stderr
        )
    });
    assert!(status.success(), "chromium failed: {}", browsed.stderr);
    browsed
}

/// What the page printed on its console (script errors, loads its
/// Content-Security-Policy refused), from Chromium's log on stderr.
fn console_messages(scratch: &Path, page: &Path) -> (String, Vec<String>) {
    let browsed = chromium(
        scratch,
        page,
        &[
            "--enable-logging=stderr".into(),
            "--v=0".into(),
            "--dump-dom".into(),
        ],
    );
    let console = browsed
        .stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    (browsed.stdout, console)
}

/// Letters, digits and slashes only: PDF text breaks lines (and words at
/// hyphens) where the page wrapped them.
fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{ad}')
        .collect()
}

fn demo_html(dir: &Path, extra: &[&str]) -> PathBuf {
    let result = finish(
        driftaudit()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["scan", "--demo", "--format", "html"])
            .args(extra),
    );
    assert_eq!(
        result.code, 1,
        "the demo fails by design: {}",
        result.stderr
    );
    write(dir, "report.html", &result.stdout)
}

#[test]
fn demo_html_loads_clean_in_headless_chromium_and_prints_every_finding_to_pdf() {
    if !browser_available(
        "demo_html_loads_clean_in_headless_chromium_and_prints_every_finding_to_pdf",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = demo_html(dir.path(), &[]);
    let html = std::fs::read_to_string(&page).unwrap();
    let report = run(&["scan", "--demo", "--format", "json"]).json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 27);

    // Self-contained: no script at all, and a policy that forbids any load.
    assert!(!html.to_lowercase().contains("<script"), "{html}");
    assert!(html.contains(
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#
    ));
    for external in ["http://", "https://", "src=", "@import", "url("] {
        assert!(!html.contains(external), "{external} in the page");
    }

    // The console check detects what it must: the same page with a script
    // that throws and an image from the network logs both as refused.
    let injected = write(
        dir.path(),
        "injected.html",
        &html.replace(
            "</body>",
            "<script>throw new Error('boom')</script><img src=\"http://127.0.0.1:9/x.png\"></body>",
        ),
    );
    let (_, console) = console_messages(dir.path(), &injected);
    assert!(
        console.iter().any(|l| l.contains("inline script"))
            && console.iter().any(|l| l.contains("127.0.0.1:9")),
        "the console check sees a script and a load: {console:#?}"
    );

    // The report itself: no console message at all, and its parts rendered.
    let (dom, console) = console_messages(dir.path(), &page);
    assert!(console.is_empty(), "console messages: {console:#?}");
    for id in [
        "summary",
        "summary-line",
        "findings",
        "findings-table",
        "drift",
        "coverage",
        "evidence",
        "evidence-block",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no #{id} in the DOM");
    }
    for n in 1..=findings.len() {
        assert!(dom.contains(&format!("id=\"finding-{n}\"")), "finding-{n}");
    }
    assert_eq!(dom.matches("class=\"finding-row\"").count(), findings.len());

    // A screenshot of the page as a person sees it.
    let png = dir.path().join("report.png");
    chromium(
        dir.path(),
        &page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".into(),
        ],
    );
    let image = std::fs::read(&png).expect("the screenshot is written");
    assert!(image.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        image.len() > 50_000,
        "a real page, not a blank one: {} bytes",
        image.len()
    );

    // Printed to PDF: the summary and every finding (rule and resource) are
    // in its text, none cut off.
    let pdf = dir.path().join("report.pdf");
    chromium(
        dir.path(),
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(text.status.success());
    let text = squeezed(&String::from_utf8_lossy(&text.stdout));
    let summary = "27 findings (3 critical, 17 high, 7 medium, 0 low, 0 info), 0 suppressed";
    assert!(text.contains(&squeezed(summary)), "no summary in: {text}");
    assert!(text.contains(&squeezed(
        "Drift: 4 modified, 1 missing, 1 unmanaged, 16 in sync"
    )));
    for finding in findings {
        let rule = finding["rule"].as_str().unwrap();
        let resource = &finding["resource"];
        let name = format!(
            "{} {}/{}",
            resource["kind"].as_str().unwrap(),
            resource["namespace"].as_str().unwrap(),
            resource["name"].as_str().unwrap()
        );
        let name = name.replace(" /", " ");
        let message = finding["message"].as_str().unwrap();
        for needle in [rule, &name, message] {
            assert!(
                text.contains(&squeezed(needle)),
                "{needle} not in the PDF text"
            );
        }
    }
    // The drifted field, side by side with who changed it.
    assert!(text.contains(&squeezed("data.LOG_LEVEL")));
    assert!(text.contains("kubectlpatch"));
    // The folded unified diff is printed open.
    assert!(text.contains("+LOG_LEVEL:debug"), "the diff is not printed");
}

/// A report whose finding message, resource name and drifted values hold
/// markup: the page shows them as text, runs nothing, and Chromium's DOM
/// holds the text, not an element.
#[test]
fn hostile_text_in_a_report_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut report: Value = run(&["scan", "--demo", "--format", "json"]).json();
    let attack = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    report["findings"][0]["message"] = attack.into();
    report["findings"][0]["resource"]["name"] = "</td><b>bold</b>".into();
    let drifted = report["drift"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["status"] == "modified")
        .unwrap();
    drifted["changes"][0]["live"] = "<iframe src=//evil>".into();
    drifted["changes"][0]["changed_by"]["manager"] = "<style>body{display:none}</style>".into();
    let input = write(dir.path(), "report.json", &report.to_string())
        .display()
        .to_string();
    let result = run(&["report", "--format", "html", "--input", &input]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let html = result.stdout;
    for raw in ["<script", "<img", "<b>", "<iframe", "<style>body"] {
        assert!(!html.contains(raw), "{raw} left as markup");
    }
    assert!(html.contains(
        "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#x27;&amp;"
    ), "the message escaped");
    assert!(html.contains("&lt;iframe src=&#x2f;&#x2f;evil&gt;"));
    if !browser_available("hostile_text_in_a_report_is_shown_as_text") {
        return;
    }
    let page = write(dir.path(), "hostile.html", &html);
    let (dom, console) = console_messages(dir.path(), &page);
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        !dom.contains("<iframe") && !dom.contains("<b>bold"),
        "{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "shown as text"
    );
}

#[test]
fn html_has_the_controls_table_the_side_by_side_drift_and_is_deterministic() {
    let args = [
        "scan",
        "--demo",
        "--format",
        "html",
        "--framework",
        "cis-k8s",
        "--framework",
        "iso27001",
    ];
    let first = run(&args);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let second = run(&args);
    assert_eq!(first.stdout, second.stdout, "same inputs, same bytes");
    let html = first.stdout;
    let json_args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "html" { "json" } else { a })
        .collect();
    let report = run(&json_args).json();
    let controls = report["controls"]["controls"].as_array().unwrap();
    assert!(!controls.is_empty());
    assert!(html.contains("id=\"controls-table\""));
    assert_eq!(
        html.matches("<tr class=\"control\">").count(),
        controls.len()
    );
    for control in controls {
        let id = control["id"].as_str().unwrap();
        assert!(
            html.contains(&format!("<td class=\"mono\">{id}</td>")),
            "{id}"
        );
    }
    let counts = &report["controls"]["counts"];
    assert!(html.contains(&format!(
        "{} pass, {} fail, {} not assessed, {} waived.",
        counts["pass"], counts["fail"], counts["not_assessed"], counts["waived"]
    )));
    // Declared | live, with who changed it, and the unified diff folded.
    assert!(html.contains(
        "<tr class=\"change\"><td class=\"mono\">data.LOG_LEVEL<div class=\"muted\">apps&#x2f;shop&#x2f;shop-config.yaml:7</div></td><td class=\"declared mono\">info</td><td class=\"live mono\">debug</td><td>kubectl-patch (Update) at 2026-11-21T22:04:08Z</td></tr>"
    ), "{html}");
    assert!(html.contains("<span class=\"del\">-  LOG_LEVEL: info</span>"));
    assert!(html.contains("<span class=\"add\">+  LOG_LEVEL: debug</span>"));
    // Without --framework there is no controls section.
    let plain = run(&["scan", "--demo", "--format", "html"]).stdout;
    assert!(!plain.contains("id=\"controls\""));
    // The only clock is the report's own.
    assert!(html.contains("2026-11-22T00:00:00Z"));
}
