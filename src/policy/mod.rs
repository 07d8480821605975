//! The policy engine: Rego rules (built-in and the user's) evaluated in-process
//! by `regorus` against one documented input contract (`docs/policy-input.md`).
//!
//! `stage` is what a scan calls: it builds the inputs (`input`), evaluates the
//! rules (`engine`, with the files and baselines of `library`) and turns the
//! results into findings (`findings`).

pub mod controls;
pub mod engine;
pub mod findings;
pub mod input;
pub mod library;
pub mod pss;
pub mod recursion;
pub mod stage;
pub mod testing;
pub mod workloads;

pub use engine::{EvalUnit, PolicySet};
pub use input::CONTRACT_VERSION;
pub use library::{
    builtin_policy_files, load_baselines, policy_files_in, PolicyFile, RuleInfo, Scope,
};
pub use stage::{PolicyOptions, PolicyOutcome};
