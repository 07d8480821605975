#[path = "../common/mod.rs"]
mod common;
mod credentials;
mod deadlines;
