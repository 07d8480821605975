#[path = "../common/mod.rs"]
mod common;
mod crashes;
mod determinism;
