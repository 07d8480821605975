//! The policy engine: Rego rules (built-in and the user's) evaluated in-process
//! by `regorus` against one documented input contract (`docs/policy-input.md`).

pub mod engine;
pub mod library;
pub mod recursion;
pub mod testing;

pub use engine::{EvalUnit, PolicySet};
pub use library::{
    builtin_policy_files, load_baselines, policy_files_in, PolicyFile, RuleInfo, Scope,
};
