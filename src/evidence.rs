//! Evidence directories (`scan --evidence-dir DIR`, `driftaudit verify DIR`;
//! docs/evidence.md): the files of one scan, a manifest of their SHA-256
//! digests, and optionally an Ed25519 signature over the manifest's bytes.
//!
//! Writing is deterministic: the same files give byte-identical manifests
//! (no mtimes, entries sorted by path; Ed25519 signatures are deterministic).
//! Verifying treats the directory and its manifest as hostile: paths are
//! checked before use, symbolic links are never followed, and every changed,
//! missing or extra file is named.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path};

use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest, at the root of the directory.
pub const MANIFEST: &str = "manifest.json";
/// The SHA-256 of the manifest's bytes (hex), so an unsigned directory
/// still tells a changed manifest from a changed file.
pub const MANIFEST_DIGEST: &str = "manifest.sha256";
/// The Ed25519 signature over the manifest's bytes (hex), when signed.
pub const SIGNATURE: &str = "manifest.sig";
pub const FORMAT: &str = "driftaudit-evidence";
pub const VERSION: u32 = 1;
/// Deepest directory nesting verify walks into.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub tool: Tool,
    /// The scan's clock (the report's `scan.now`).
    pub now: String,
    /// The signing key, when the manifest is signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SigningKey>,
    /// Every file but the manifest, its digest and its signature; sorted by path.
    pub files: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SigningKey {
    /// `ed25519`.
    pub algorithm: String,
    /// The raw 32-byte public key, hex.
    pub public_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Relative, `/`-separated.
    pub path: String,
    pub size: u64,
    /// Hex.
    pub sha256: String,
}

/// One file to write: its relative path (`/`-separated) and bytes.
pub struct EvidenceFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The merged baselines as an evidence directory writes them
/// (`baselines.json`), and as `report.evidence.baselines_sha256` digests them.
pub fn baselines_bytes(baselines: &serde_json::Value) -> Vec<u8> {
    (serde_json::to_string_pretty(baselines).expect("baselines serialise") + "\n").into_bytes()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The fingerprint of a public key as verify and the docs show it:
/// `SHA256:` and the hex SHA-256 of the raw 32 bytes.
pub fn fingerprint(public_key: &[u8]) -> String {
    format!("SHA256:{}", sha256_hex(public_key))
}

/// Whether a manifest path is safe to join under the directory: relative,
/// `/`-separated plain names, none of them `.`, `..` or empty, and not one
/// of the manifest's own files.
pub fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && !path.contains('\\')
        && !path.contains('\0')
        && path.split('/').all(|part| {
            !part.is_empty() && part != "." && part != ".." && !part.chars().any(char::is_control)
        })
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        && ![MANIFEST, MANIFEST_DIGEST, SIGNATURE].contains(&path)
}

/// Reads an Ed25519 private key: PKCS#8 as PEM (`-----BEGIN PRIVATE KEY-----`,
/// as `openssl genpkey -algorithm ed25519` and `driftaudit keygen` write it)
/// or DER; v1 (without the public key) and v2.
pub fn load_private_key(bytes: &[u8]) -> Result<Ed25519KeyPair, String> {
    let der = pem_or_der(bytes, "PRIVATE KEY")?;
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|e| format!("not an Ed25519 private key in PKCS#8: {e}"))
}

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Reads an Ed25519 public key: PEM `PUBLIC KEY` (`openssl pkey -pubout`,
/// `driftaudit keygen`), its DER, or the 32 raw bytes as 64 hex digits.
pub fn load_public_key(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if let Some(raw) = std::str::from_utf8(bytes)
        .ok()
        .map(str::trim)
        .filter(|t| t.len() == 64)
        .and_then(unhex)
    {
        return Ok(raw);
    }
    let der = pem_or_der(bytes, "PUBLIC KEY")?;
    match der.strip_prefix(&SPKI_PREFIX[..]) {
        Some(raw) if raw.len() == 32 => Ok(raw.to_vec()),
        _ => Err(
            "not an Ed25519 public key (PEM or DER SubjectPublicKeyInfo, or 64 hex digits)".into(),
        ),
    }
}

/// The public key of a key pair as PEM `PUBLIC KEY`.
pub fn public_key_pem(key: &Ed25519KeyPair) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.public_key().as_ref());
    pem("PUBLIC KEY", &der)
}

pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_or_der(bytes: &[u8], label: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(bytes.to_vec());
    };
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else {
        if text.contains("-----BEGIN") {
            return Err(format!("a PEM file without a `{begin}` block"));
        }
        return Ok(bytes.to_vec());
    };
    let rest = &text[start + begin.len()..];
    let Some(stop) = rest.find(&end) else {
        return Err(format!("a PEM block without its `{end}` line"));
    };
    let body: String = rest[..stop].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("a PEM block that is not base64: {e}"))
}

/// A fresh PKCS#8 v2 Ed25519 private key, as PEM.
pub fn generate_private_key() -> Result<String, String> {
    let rng = ring::rand::SystemRandom::new();
    let document = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| "the system random generator failed".to_string())?;
    Ok(pem("PRIVATE KEY", document.as_ref()))
}

/// The manifest of `files` as written (pretty JSON, one trailing newline).
pub fn manifest_bytes(files: &[EvidenceFile], now: &str, key: Option<&Ed25519KeyPair>) -> Vec<u8> {
    let mut entries: Vec<Entry> = files
        .iter()
        .map(|f| Entry {
            path: f.path.clone(),
            size: f.bytes.len() as u64,
            sha256: sha256_hex(&f.bytes),
        })
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        now: now.into(),
        signing_key: key.map(|key| SigningKey {
            algorithm: "ed25519".into(),
            public_key: hex(key.public_key().as_ref()),
        }),
        files: entries,
    };
    let mut text = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
    text.push(b'\n');
    text
}

/// Refuses a path that exists and is not an empty directory (or is a
/// symbolic link): evidence goes into a fresh directory only. Called before
/// the scan so a wrong path costs no scan.
pub fn check_target(dir: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot read it: {e}")),
        Ok(meta) if meta.file_type().is_symlink() => {
            Err("it is a symbolic link; give a new directory".into())
        }
        Ok(meta) if !meta.is_dir() => Err("it exists and is not a directory".into()),
        Ok(_) => match std::fs::read_dir(dir) {
            Ok(mut entries) => match entries.next() {
                None => Ok(()),
                Some(_) => Err(
                    "the directory is not empty; evidence goes into a new or empty directory"
                        .into(),
                ),
            },
            Err(e) => Err(format!("cannot read it: {e}")),
        },
    }
}

/// Writes the files, the manifest, its digest and (with a key) its signature
/// into `dir`, which must not exist or be empty. Files are created with
/// `create_new` (never through an existing file or link). The error names
/// the path that failed.
pub fn write_dir(
    dir: &Path,
    files: &[EvidenceFile],
    now: &str,
    key: Option<&Ed25519KeyPair>,
) -> Result<(), (String, String)> {
    let at = |path: &Path, e: &dyn std::fmt::Display| (path.display().to_string(), e.to_string());
    check_target(dir).map_err(|e| (dir.display().to_string(), e))?;
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| at(dir, &e))?;
    }
    let manifest = manifest_bytes(files, now, key);
    let mut all: Vec<(&str, &[u8])> = files
        .iter()
        .map(|f| (f.path.as_str(), f.bytes.as_slice()))
        .collect();
    let digest = format!("{}\n", sha256_hex(&manifest));
    let signature = key.map(|key| format!("{}\n", hex(key.sign(&manifest).as_ref())));
    all.push((MANIFEST, &manifest));
    all.push((MANIFEST_DIGEST, digest.as_bytes()));
    if let Some(signature) = &signature {
        all.push((SIGNATURE, signature.as_bytes()));
    }
    for (path, bytes) in all {
        debug_assert!(safe_path(path) || [MANIFEST, MANIFEST_DIGEST, SIGNATURE].contains(&path));
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            create_dirs_under(dir, parent).map_err(|e| at(parent, &e))?;
        }
        write_new(&full, bytes).map_err(|e| at(&full, &e))?;
    }
    Ok(())
}

/// Creates `parent` and the directories between `root` and it, refusing
/// any that exists as something else than a real directory.
fn create_dirs_under(root: &Path, parent: &Path) -> std::io::Result<()> {
    let relative = parent.strip_prefix(root).unwrap_or(Path::new(""));
    let mut current = root.to_path_buf();
    for component in relative.components() {
        current.push(component);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(std::io::Error::other(
                    "exists and is not a directory (or is a symbolic link)",
                ))
            }
            Err(_) => std::fs::create_dir(&current)?,
        }
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// One line per problem, each naming the file: `changed: report.json (…)`.
    pub problems: Vec<String>,
    /// Files whose digest matched.
    pub verified: usize,
    /// The fingerprint of the key the signature was checked with, when it held.
    pub signed_by: Option<String>,
    /// Signed, but only checked against the key the manifest itself names (no `--key`).
    pub key_not_pinned: bool,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a directory holds, by relative path: `Ok(())` for a regular file,
/// `Err(what)` for anything else (a link, a device, too deep).
type Listing = BTreeMap<String, Result<(), &'static str>>;

fn list(root: &Path, relative: &str, depth: usize, out: &mut Listing) -> std::io::Result<()> {
    let dir = if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    };
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let (name, utf8) = match file_name.to_str() {
            Some(name) => (name.to_string(), true),
            // Shown with its bytes escaped: a backslash never appears in a
            // listed path, so this can neither pass for nor hide another.
            None => (
                file_name.as_encoded_bytes().escape_ascii().to_string(),
                false,
            ),
        };
        let path = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        let kind = entry.file_type()?;
        if !utf8 {
            out.insert(path, Err("a name that is not UTF-8"));
        } else if kind.is_symlink() {
            out.insert(path, Err("a symbolic link"));
        } else if kind.is_dir() {
            if depth >= MAX_DEPTH {
                out.insert(path, Err("a directory nested too deep"));
            } else {
                list(root, &path, depth + 1, out)?;
            }
        } else if kind.is_file() {
            out.insert(path, Ok(()));
        } else {
            out.insert(path, Err("not a regular file"));
        }
    }
    Ok(())
}

/// The SHA-256 and size of a regular file, read without following a link.
/// What was opened is checked again (a folder swapped for a link between
/// listing and opening could lead to a device), and a size other than the
/// `expected` one is returned unread: a changed file, never hours of hashing
/// a huge sparse one.
fn digest_file(path: &Path, expected: u64) -> std::io::Result<(String, u64)> {
    let (file, metadata) = crate::no_follow::open_regular(path)?;
    if metadata.len() != expected {
        return Ok((String::new(), metadata.len()));
    }
    let mut file = file.take(expected + 1);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Reads a small file of the directory (the manifest, its digest or
/// signature) without following a link; at most `limit` bytes.
fn read_small(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    crate::no_follow::read_bounded(crate::no_follow::open(path)?, limit)
}

/// Checks an evidence directory. `Err` when it cannot be checked at all
/// (not a directory, no readable manifest.json): exit 2. Otherwise every
/// problem found is in the verdict (exit 1 unless none).
pub fn verify(dir: &Path, key: Option<&[u8]>) -> Result<Verdict, String> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err("not a directory".into()),
        Err(e) => return Err(format!("cannot read it: {e}")),
    }
    let mut listing = Listing::new();
    list(dir, "", 0, &mut listing).map_err(|e| format!("cannot list it: {e}"))?;
    if !listing.contains_key(MANIFEST) {
        return Err(format!("not an evidence directory: no {MANIFEST}"));
    }
    let mut verdict = Verdict::default();
    let problems = &mut verdict.problems;
    let manifest_bytes = match listing.remove(MANIFEST).expect("checked") {
        Ok(()) => read_small(&dir.join(MANIFEST), 64 << 20)
            .map_err(|e| format!("cannot read {MANIFEST}: {e}"))?,
        Err(what) => return Err(format!("{MANIFEST} is {what}")),
    };

    // The manifest's own digest.
    match listing.remove(MANIFEST_DIGEST) {
        None => problems.push(format!("missing: {MANIFEST_DIGEST}")),
        Some(Err(what)) => problems.push(format!("not a regular file: {MANIFEST_DIGEST} ({what})")),
        Some(Ok(())) => match read_small(&dir.join(MANIFEST_DIGEST), 1024) {
            Ok(bytes) => {
                let written = String::from_utf8_lossy(&bytes);
                if written.trim_end_matches('\n') != sha256_hex(&manifest_bytes)
                    || written.matches('\n').count() != 1
                {
                    problems.push(format!(
                        "changed: {MANIFEST} or {MANIFEST_DIGEST} (the manifest's SHA-256 is not the one recorded)"
                    ));
                }
            }
            Err(e) => problems.push(format!("unreadable: {MANIFEST_DIGEST} ({e})")),
        },
    }

    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(manifest) => manifest,
        Err(e) => {
            problems.push(format!("changed: {MANIFEST} (not a manifest: {e})"));
            return Ok(verdict);
        }
    };
    if manifest.format != FORMAT || manifest.version != VERSION {
        problems.push(format!(
            "changed: {MANIFEST} (format `{}` version {}, this build reads `{FORMAT}` version {VERSION})",
            crate::printable::printable(&manifest.format),
            manifest.version
        ));
        return Ok(verdict);
    }

    // The signature.
    let signature = listing.remove(SIGNATURE);
    match (&manifest.signing_key, signature) {
        (None, None) => {
            if key.is_some() {
                problems.push(format!(
                    "unsigned: {MANIFEST} names no signing key and there is no {SIGNATURE}, but --key was given"
                ));
            }
        }
        (None, Some(_)) => problems.push(format!(
            "extra: {SIGNATURE} (the manifest names no signing key)"
        )),
        (Some(_), None) => problems.push(format!("missing: {SIGNATURE}")),
        (Some(_), Some(Err(what))) => {
            problems.push(format!("not a regular file: {SIGNATURE} ({what})"))
        }
        (Some(named), Some(Ok(()))) => {
            check_signature(dir, named, key, &manifest_bytes, &mut verdict);
        }
    }
    let problems = &mut verdict.problems;

    // Every file of the manifest.
    let mut seen = std::collections::BTreeSet::new();
    for entry in &manifest.files {
        let shown = crate::printable::printable(&entry.path);
        if !safe_path(&entry.path) {
            problems.push(format!(
                "refused: {MANIFEST} lists `{shown}`, not a plain relative path inside the directory"
            ));
            continue;
        }
        if !seen.insert(entry.path.as_str()) {
            problems.push(format!("refused: {MANIFEST} lists `{shown}` twice"));
            continue;
        }
        match listing.remove(&entry.path) {
            None => problems.push(format!("missing: {shown}")),
            Some(Err(what)) => problems.push(format!("not a regular file: {shown} ({what})")),
            Some(Ok(())) => match digest_file(&dir.join(&entry.path), entry.size) {
                Ok((sha256, size)) if sha256 == entry.sha256 && size == entry.size => {
                    verdict.verified += 1;
                }
                Ok((_, size)) => problems.push(format!(
                    "changed: {shown} (SHA-256 differs{})",
                    if size == entry.size {
                        String::new()
                    } else {
                        format!("; {size} bytes, the manifest says {}", entry.size)
                    }
                )),
                Err(e) => problems.push(format!("unreadable: {shown} ({e})")),
            },
        }
    }
    for (path, _) in listing {
        problems.push(format!(
            "extra: {} (not in the manifest)",
            crate::printable::printable(&path)
        ));
    }
    Ok(verdict)
}

fn check_signature(
    dir: &Path,
    named: &SigningKey,
    key: Option<&[u8]>,
    manifest: &[u8],
    verdict: &mut Verdict,
) {
    let problems = &mut verdict.problems;
    let Some(in_manifest) = (named.algorithm == "ed25519")
        .then(|| unhex(&named.public_key))
        .flatten()
        .filter(|k| k.len() == 32)
    else {
        problems.push(format!(
            "changed: {MANIFEST} (its signing key is not an Ed25519 public key)"
        ));
        return;
    };
    let public = match key {
        Some(given) if given != in_manifest.as_slice() => {
            problems.push(format!(
                "wrong key: {MANIFEST} is signed by {}, not by the --key {}",
                fingerprint(&in_manifest),
                fingerprint(given)
            ));
            return;
        }
        Some(given) => given.to_vec(),
        None => {
            verdict.key_not_pinned = true;
            in_manifest
        }
    };
    let signature = match read_small(&dir.join(SIGNATURE), 1024) {
        Ok(bytes) => bytes,
        Err(e) => {
            problems.push(format!("unreadable: {SIGNATURE} ({e})"));
            return;
        }
    };
    let text = String::from_utf8_lossy(&signature);
    let valid = text.matches('\n').count() == 1
        && unhex(text.trim_end_matches('\n')).is_some_and(|sig| {
            UnparsedPublicKey::new(&ED25519, &public)
                .verify(manifest, &sig)
                .is_ok()
        });
    if valid {
        verdict.signed_by = Some(fingerprint(&public));
    } else {
        problems.push(format!(
            "bad signature: {SIGNATURE} does not sign {MANIFEST} with {} (one of them changed)",
            fingerprint(&public)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_directory_are_unsafe() {
        for bad in [
            "",
            "../x",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "./a",
            "a/",
            "a\\b",
            "manifest.json",
            "manifest.sig",
            "a\nb",
        ] {
            assert!(!safe_path(bad), "{bad:?}");
        }
        for good in ["report.json", "policies/builtin/images.rego", "a.b/c"] {
            assert!(safe_path(good), "{good:?}");
        }
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let private = generate_private_key().unwrap();
        let pair = load_private_key(private.as_bytes()).unwrap();
        let public = load_public_key(public_key_pem(&pair).as_bytes()).unwrap();
        assert_eq!(public, pair.public_key().as_ref());
        assert!(
            load_private_key(b"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n")
                .is_err()
        );
        assert!(load_public_key(b"garbage").is_err());
    }
}
