#[path = "../common/mod.rs"]
mod common;
mod git_export;
