//! The hostile-input suite: one test per way an attacker (a stranger's pull
//! request, a compromised API server) tried to turn the scanner against its
//! user. Each test is named for what it attacks.

mod crashes;
mod credentials;
mod deadlines;
mod determinism;
mod false_clean;
mod git_export;
mod terminal_and_globs;
mod untrusted_config;
