//! Rebuilds the library when a built-in policy or baseline changes: they are
//! embedded with `include_dir!`, which cargo does not track by itself (a new
//! file under `policies/` would otherwise be missing from the binary).
//! Also records the Git commit the binary is built from
//! (`report.evidence.tool.build`): `DRIFTAUDIT_BUILD` if set (a plain word), else read from
//! `.git` (a work tree's `.git` file is followed); never fails.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=baselines");
    println!("cargo:rerun-if-env-changed=DRIFTAUDIT_BUILD");
    // Only a plain version-like word is taken: the value is written into a
    // cargo directive and shown in every report, so a newline or control
    // character in it must not reach either.
    let build = std::env::var("DRIFTAUDIT_BUILD")
        .ok()
        .filter(|b| {
            let plain = !b.is_empty()
                && b.len() <= 64
                && b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"._+-".contains(&c));
            if !plain && !b.is_empty() {
                println!("cargo:warning=DRIFTAUDIT_BUILD ignored: only letters, digits and ._+- (at most 64)");
            }
            plain
        })
        .or_else(git_head)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DRIFTAUDIT_BUILD={build}");
}

fn git_head() -> Option<String> {
    let mut git = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?).join(".git");
    if git.is_file() {
        let text = std::fs::read_to_string(&git).ok()?;
        git = PathBuf::from(text.trim().strip_prefix("gitdir:")?.trim());
    }
    let head = git.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    let text = std::fs::read_to_string(&head).ok()?;
    let text = text.trim();
    let Some(name) = text.strip_prefix("ref:").map(str::trim) else {
        return hex(text);
    };
    // A linked work tree keeps its refs in the common directory.
    let common = std::fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.clone());
    for dir in [&git, &common] {
        let file = dir.join(name);
        if file.is_file() {
            println!("cargo:rerun-if-changed={}", file.display());
            return std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| hex(t.trim()));
        }
    }
    packed(&common, name)
}

fn packed(common: &Path, name: &str) -> Option<String> {
    let file = common.join("packed-refs");
    println!("cargo:rerun-if-changed={}", file.display());
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(_, n)| *n == name)
        .and_then(|(sha, _)| hex(sha))
}

fn hex(text: &str) -> Option<String> {
    (text.len() >= 40 && text.chars().all(|c| c.is_ascii_hexdigit())).then(|| text.to_string())
}
