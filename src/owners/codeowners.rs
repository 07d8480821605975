//! A repository's CODEOWNERS file (docs/owners.md): found where GitHub (and
//! GitLab) look for it, read from the same tree as the declared files, parsed
//! line by line and matched with GitHub's rule: the last matching pattern
//! wins. The file is hostile input (a pull request from a stranger): its size
//! and line count are bounded, each pattern is compiled by globset (finite
//! automata: no pattern makes matching slow), and a line that cannot be used
//! is skipped with a warning naming the file and line.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::diag::{Code, Diagnostic, Place};
use crate::sources::git::DeclaredTree;

/// Where the file is looked for, in this order; the first place that holds
/// an entry is the one used (GitHub's three places, then GitLab's own).
pub const LOCATIONS: [&str; 4] = [
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// GitHub ignores a CODEOWNERS file larger than 3 MB.
pub const MAX_BYTES: u64 = 3 * 1024 * 1024;
/// Lines beyond this make the file refused whole: matching a prefix of it
/// would give owners the file does not say.
pub const MAX_LINES: usize = 20_000;
/// A pattern or an owner longer than this is refused (its line skipped).
pub const MAX_TOKEN: usize = 1024;
/// Owners on one line beyond this: the line is refused.
pub const MAX_OWNERS: usize = 64;

/// Globs compiled together in one set, at most this many: one automaton of
/// thousands of patterns can outgrow the regex engine's limits.
const CHUNK: usize = 256;

/// The rules of one CODEOWNERS file, in file order.
#[derive(Debug, Clone)]
pub struct CodeOwners {
    /// The file as found (`.github/CODEOWNERS`).
    pub file: String,
    /// Each rule's owners, space-separated in file order; `None`: the line
    /// names no owner (what it matches has none).
    owners: Vec<Option<String>>,
    /// The globs of the rules in file order, in sets of at most [`CHUNK`];
    /// each set with the rule of each of its globs.
    chunks: Vec<(GlobSet, Vec<usize>)>,
}

impl CodeOwners {
    /// The owners of `path` (relative to the repository root, with `/`):
    /// those of the last rule whose pattern matches it.
    pub fn owner_of(&self, path: &str) -> Option<&str> {
        let path = path.trim_start_matches("./");
        let last =
            self.chunks.iter().rev().find_map(|(set, rules)| {
                set.matches(path).into_iter().map(|glob| rules[glob]).max()
            })?;
        self.owners[last].as_deref()
    }

    /// Parses the text of `file`; each line that cannot be used is a warning
    /// (returned), the others still count.
    pub fn parse(file: &str, text: &str) -> (Option<CodeOwners>, Vec<Diagnostic>) {
        let mut warnings = Vec::new();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            warnings.push(warning(
                Place::file(file),
                format!("{lines} lines, more than {MAX_LINES}: not read, no owner comes from it"),
            ));
            return (None, warnings);
        }
        let mut owners = Vec::new();
        // Each glob with its rule and line.
        let mut globs: Vec<(globset::Glob, usize, u32)> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            match parse_line(line) {
                Ok(None) => {}
                Ok(Some((patterns, owner))) => {
                    let rule = owners.len();
                    owners.push(owner);
                    globs.extend(patterns.into_iter().map(|glob| (glob, rule, number)));
                }
                Err(why) => warnings.push(warning(
                    Place::line(file, number),
                    format!("{why}; the line is skipped"),
                )),
            }
        }
        let mut chunks = Vec::new();
        for chunk in globs.chunks(CHUNK) {
            compile(file, chunk, &mut chunks, &mut warnings);
        }
        warnings.sort_by_key(|w| match &w.location {
            Place::File { line, .. } => line.unwrap_or(0),
            _ => 0,
        });
        (
            Some(CodeOwners {
                file: file.to_string(),
                owners,
                chunks,
            }),
            warnings,
        )
    }
}

/// Compiles `globs` as one set; a set the engine refuses is split in two
/// until the glob it cannot take is found alone: a warning at its line.
fn compile(
    file: &str,
    globs: &[(globset::Glob, usize, u32)],
    chunks: &mut Vec<(GlobSet, Vec<usize>)>,
    warnings: &mut Vec<Diagnostic>,
) {
    if globs.is_empty() {
        return;
    }
    let mut builder = GlobSetBuilder::new();
    for (glob, _, _) in globs {
        builder.add(glob.clone());
    }
    match builder.build() {
        Ok(set) => chunks.push((set, globs.iter().map(|(_, rule, _)| *rule).collect())),
        Err(e) if globs.len() == 1 => warnings.push(warning(
            Place::line(file, globs[0].2),
            format!(
                "the pattern cannot be compiled ({}); the line is skipped",
                e.kind()
            ),
        )),
        Err(_) => {
            let (first, second) = globs.split_at(globs.len() / 2);
            compile(file, first, chunks, warnings);
            compile(file, second, chunks, warnings);
        }
    }
}

fn warning(place: Place, message: String) -> Diagnostic {
    Diagnostic::error(Code::CodeownersInvalid, place, message)
}

type Rule = (Vec<globset::Glob>, Option<String>);

/// One line: `Ok(None)` for a blank line, a comment or a GitLab section
/// header; the globs of its pattern and its owners; or why it is refused.
fn parse_line(line: &str) -> Result<Option<Rule>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    // GitLab sections: `[Name]`, `^[Name]`, `[Name][2]`, `[Name] @owner`.
    // Their default owners are not used (docs/owners.md).
    if line.starts_with('[') || line.starts_with("^[") {
        return Ok(None);
    }
    let mut tokens = line.split_whitespace();
    let pattern = tokens.next().unwrap_or_default();
    let mut owners: Vec<&str> = Vec::new();
    for token in tokens {
        if token.starts_with('#') {
            break;
        }
        check_owner(token)?;
        owners.push(token);
    }
    if owners.len() > MAX_OWNERS {
        return Err(format!("more than {MAX_OWNERS} owners"));
    }
    let globs = globs_of(pattern)?;
    let owner = (!owners.is_empty()).then(|| owners.join(" "));
    Ok(Some((globs, owner)))
}

/// An owner: `@user`, `@org/team`, or an e-mail address.
fn check_owner(token: &str) -> Result<(), String> {
    let shown = || crate::printable::printable(token).into_owned();
    if token.len() > MAX_TOKEN {
        return Err(format!("an owner longer than {MAX_TOKEN} bytes"));
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    let ok = match token.strip_prefix('@') {
        Some(name) => !name.is_empty() && name.chars().all(name_char),
        None => match token.split_once('@') {
            Some((user, host)) => {
                let mail_char = |c: char| c.is_ascii_alphanumeric() || "-_.+".contains(c);
                !user.is_empty()
                    && host.contains('.')
                    && user.chars().all(mail_char)
                    && host.chars().all(mail_char)
            }
            None => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an owner (`@user`, `@org/team` or an e-mail address)",
            shown()
        ))
    }
}

/// The globs of a gitignore-style pattern, over paths relative to the root:
/// a leading `/` or a `/` inside anchors it at the root, otherwise it matches
/// at any depth; a trailing `/` matches a folder (everything under it); a
/// pattern whose last part has no wildcard matches a file or a folder of
/// that name; `*` stays within one folder, `**` crosses them.
fn globs_of(pattern: &str) -> Result<Vec<globset::Glob>, String> {
    let shown = || crate::printable::printable(pattern).into_owned();
    if pattern.len() > MAX_TOKEN {
        return Err(format!("a pattern longer than {MAX_TOKEN} bytes"));
    }
    if pattern.starts_with('!') {
        return Err(format!(
            "`{}`: negation (`!`) is not supported in CODEOWNERS",
            shown()
        ));
    }
    if pattern.contains(['[', ']']) {
        return Err(format!(
            "`{}`: character ranges (`[ ]`) are not supported in CODEOWNERS",
            shown()
        ));
    }
    if pattern.contains(['\\', '{', '}']) || pattern.chars().any(crate::printable::needs_escape) {
        return Err(format!(
            "`{}`: escapes, braces and control characters are not supported in CODEOWNERS",
            shown()
        ));
    }
    let folder_only = pattern.ends_with('/');
    let trimmed = pattern.trim_end_matches('/');
    let anchored = trimmed.starts_with('/') || trimmed.trim_start_matches('/').contains('/');
    let body = trimmed.trim_start_matches('/');
    if body.is_empty() {
        return Err(format!("`{}` names no path", shown()));
    }
    if body
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "`{}`: empty, `.` or `..` path parts are not supported",
            shown()
        ));
    }
    let base = if anchored || body.starts_with("**") {
        body.to_string()
    } else {
        format!("**/{body}")
    };
    let last = body.rsplit('/').next().unwrap_or(body);
    let wildcard_last = last.contains(['*', '?']);
    let mut texts = Vec::new();
    if !folder_only {
        texts.push(base.clone());
    }
    // `docs/*` owns the files directly in docs/, not deeper ones (GitHub);
    // `apps`, `apps/` and `**/logs` own everything under such a folder.
    if folder_only || !wildcard_last || last == "**" {
        if base.ends_with("/**") || base == "**" {
            texts.push(base.clone());
        } else {
            texts.push(format!("{base}/**"));
        }
    }
    texts.dedup();
    texts
        .iter()
        .map(|text| {
            GlobBuilder::new(text)
                .literal_separator(true)
                .backslash_escape(false)
                .build()
                .map_err(|e| format!("`{}` is not a valid pattern ({})", shown(), e.kind()))
        })
        .collect()
}

/// The CODEOWNERS file of the declared tree (of `commit` for a Git ref: the
/// commit the declared files were read from), with the warnings of reading
/// and parsing it. `None` when there is none or it cannot be used.
pub fn load(tree: &DeclaredTree, commit: Option<&str>) -> (Option<CodeOwners>, Vec<Diagnostic>) {
    let found = match tree {
        DeclaredTree::Directory(root) => read_from_folder(root),
        DeclaredTree::GitRef { repo, .. } => read_from_git(repo, commit),
    };
    match found {
        Ok(Some((file, text))) => CodeOwners::parse(&file, &text),
        Ok(None) => (None, Vec::new()),
        Err(warning) => (None, vec![warning]),
    }
}

type Found = Result<Option<(String, String)>, Diagnostic>;

/// The first of [`LOCATIONS`] that exists in the folder. A link (or a path
/// leading out of the folder through one), a FIFO, a file too large or not
/// UTF-8 is refused: a warning, and no owner from CODEOWNERS.
fn read_from_folder(root: &Path) -> Found {
    for location in LOCATIONS {
        let path = root.join(location);
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        return match crate::diag::read_untrusted_text(&path, root, "the CODEOWNERS file", MAX_BYTES)
        {
            Ok(text) => Ok(Some((location.to_string(), text))),
            Err(e) => Err(warning(
                Place::file(location),
                format!("{}; no owner comes from it", e.message),
            )),
        };
    }
    Ok(None)
}

/// The first of [`LOCATIONS`] in the commit's tree: a regular file's blob,
/// its size checked before it is loaded. A symlink entry is refused.
fn read_from_git(repo: &Path, commit: Option<&str>) -> Found {
    let refuse = |location: &str, why: String| {
        Err(warning(
            Place::file(location),
            format!("{why}; no owner comes from it"),
        ))
    };
    let Some(commit) = commit else {
        return Ok(None);
    };
    let Ok(repository) = git2::Repository::open(repo) else {
        return Ok(None);
    };
    let Some(tree) = git2::Oid::from_str(commit)
        .ok()
        .and_then(|id| repository.find_commit(id).ok())
        .and_then(|c| c.tree().ok())
    else {
        return Ok(None);
    };
    for location in LOCATIONS {
        let Ok(entry) = tree.get_path(Path::new(location)) else {
            continue;
        };
        if entry.filemode() & 0o170000 != 0o100000 {
            return refuse(location, "not a regular file (a symbolic link?)".into());
        }
        let size = repository
            .odb()
            .and_then(|odb| odb.read_header(entry.id()))
            .map(|(size, _)| size as u64);
        match size {
            Ok(size) if size > MAX_BYTES => {
                return refuse(location, format!("larger than {MAX_BYTES} bytes"))
            }
            Ok(_) => {}
            Err(e) => return refuse(location, format!("cannot be read ({})", e.message())),
        }
        return match repository.find_blob(entry.id()) {
            Ok(blob) => match std::str::from_utf8(blob.content()) {
                Ok(text) => Ok(Some((location.to_string(), text.to_string()))),
                Err(_) => refuse(location, "not UTF-8 text".into()),
            },
            Err(e) => refuse(location, format!("cannot be read ({})", e.message())),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> CodeOwners {
        let (owners, warnings) = CodeOwners::parse("CODEOWNERS", text);
        assert!(warnings.is_empty(), "{warnings:?}");
        owners.unwrap()
    }

    #[test]
    fn the_last_matching_pattern_wins() {
        let owners = rules("* @all\n*.yaml @yaml\napps/ @apps\n");
        assert_eq!(owners.owner_of("README.md"), Some("@all"));
        assert_eq!(owners.owner_of("base/x.yaml"), Some("@yaml"));
        assert_eq!(owners.owner_of("apps/web/x.yaml"), Some("@apps"));
        let reversed = rules("apps/ @apps\n*.yaml @yaml\n");
        assert_eq!(reversed.owner_of("apps/web/x.yaml"), Some("@yaml"));
    }

    #[test]
    fn anchored_and_unanchored_patterns() {
        let owners = rules("/apps/ @root-apps\nlogs @logs\nbuild/logs/ @build\n");
        assert_eq!(owners.owner_of("apps/a.yaml"), Some("@root-apps"));
        assert_eq!(owners.owner_of("x/apps/a.yaml"), None);
        assert_eq!(owners.owner_of("logs"), Some("@logs"));
        assert_eq!(owners.owner_of("deep/er/logs/a.yaml"), Some("@logs"));
        assert_eq!(owners.owner_of("build/logs/a.yaml"), Some("@build"));
        assert_eq!(
            owners.owner_of("x/build/logs/a.yaml"),
            Some("@logs"),
            "a pattern with an inner slash is anchored"
        );
    }

    #[test]
    fn stars_stay_in_a_folder_and_double_stars_cross_them() {
        let owners = rules("docs/* @docs\n/a/**/z.yaml @z\n**/logs @anylogs\n");
        assert_eq!(owners.owner_of("docs/a.md"), Some("@docs"));
        assert_eq!(
            owners.owner_of("docs/deep/a.md"),
            None,
            "GitHub: not nested files"
        );
        assert_eq!(owners.owner_of("a/z.yaml"), Some("@z"));
        assert_eq!(owners.owner_of("a/b/c/z.yaml"), Some("@z"));
        assert_eq!(owners.owner_of("x/logs/y/f"), Some("@anylogs"));
    }

    #[test]
    fn a_line_without_owners_leaves_its_files_without_owner() {
        let owners = rules("* @all\n/apps/github\n");
        assert_eq!(owners.owner_of("apps/github/x.yaml"), None);
        assert_eq!(owners.owner_of("apps/other.yaml"), Some("@all"));
    }

    #[test]
    fn several_owners_are_kept_in_file_order_and_comments_end_the_line() {
        let owners = rules("# team\n*.yaml @b @a me@example.com # not an owner\n");
        assert_eq!(owners.owner_of("x.yaml"), Some("@b @a me@example.com"));
    }

    #[test]
    fn gitlab_sections_do_not_break_parsing() {
        let owners = rules("[Docs] @docs\n*.md @writers\n^[Optional][2]\n*.yaml @ops\n");
        assert_eq!(owners.owner_of("a.md"), Some("@writers"));
        assert_eq!(owners.owner_of("a.yaml"), Some("@ops"));
    }

    #[test]
    fn invalid_lines_are_skipped_with_a_warning_at_their_line() {
        let text =
            "* @all\n!apps/ @x\nfoo[ab] @y\na/../b @z\n*.yaml not-an-owner\n/ @root\nok/ @ok\n";
        let (owners, warnings) = CodeOwners::parse(".github/CODEOWNERS", text);
        let owners = owners.unwrap();
        let lines: Vec<String> = warnings.iter().map(|w| w.location.to_string()).collect();
        assert_eq!(
            lines,
            [
                ".github/CODEOWNERS:2",
                ".github/CODEOWNERS:3",
                ".github/CODEOWNERS:4",
                ".github/CODEOWNERS:5",
                ".github/CODEOWNERS:6"
            ]
        );
        assert!(warnings.iter().all(|w| w.code == Code::CodeownersInvalid));
        assert_eq!(owners.owner_of("ok/a.yaml"), Some("@ok"));
        assert_eq!(owners.owner_of("b.yaml"), Some("@all"));
    }

    #[test]
    fn pathological_patterns_match_in_linear_time() {
        let star = "*a".repeat(400);
        let text = format!("{star}b @slow\n");
        let owners = rules(&text);
        let path = "a".repeat(5000);
        let started = std::time::Instant::now();
        assert_eq!(owners.owner_of(&path), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn thousands_of_patterns_are_compiled_in_sets_the_engine_takes() {
        let slow: String = (0..5000)
            .map(|i| format!("{}b{i} @slow\n", "*a".repeat(30)))
            .collect();
        let owners = rules(&format!("/apps/ @apps\n{slow}/apps/last/ @last\n"));
        assert_eq!(owners.owner_of("apps/x.yaml"), Some("@apps"));
        assert_eq!(owners.owner_of("apps/last/x.yaml"), Some("@last"));
        assert_eq!(
            owners.owner_of(&format!("{}b77", "a".repeat(30))),
            Some("@slow")
        );
    }

    #[test]
    fn too_many_lines_refuse_the_file() {
        let text = "* @a\n".repeat(MAX_LINES + 1);
        let (owners, warnings) = CodeOwners::parse("CODEOWNERS", &text);
        assert!(owners.is_none());
        assert_eq!(warnings.len(), 1);
    }
}
