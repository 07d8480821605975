//! Rebuilds the library when a built-in policy or baseline changes: they are
//! embedded with `include_dir!`, which cargo does not track by itself (a new
//! file under `policies/` would otherwise be missing from the binary).

fn main() {
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=baselines");
}
