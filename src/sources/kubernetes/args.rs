//! The Kubernetes flags of `scan`, `diff` and `capture`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::KubeOptions;
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Kubernetes")]
pub struct KubeArgs {
    /// Read the live state of the kubeconfig's current context.
    #[arg(long)]
    pub kube: bool,
    /// Read the live state of this kubeconfig context (repeatable: several clusters, concurrently).
    #[arg(long = "kube-context", value_name = "NAME")]
    pub kube_context: Vec<String>,
    /// Kubeconfig file [default: $KUBECONFIG or ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Read the cluster the tool runs in, with its pod's service account.
    #[arg(long)]
    pub in_cluster: bool,
    /// Limit of each Kubernetes API request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub kube_timeout: u64,
}

impl KubeArgs {
    /// Each API request's limit (at least a second).
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.kube_timeout.max(1))
    }
}

impl SourceArgs for KubeArgs {
    fn given(&self) -> bool {
        self.kube || self.in_cluster || self.kubeconfig.is_some() || !self.kube_context.is_empty()
    }

    fn collectors(&self, limits: &LiveTimeouts) -> Result<Vec<LiveSource>, InputError> {
        if !self.given() {
            return Ok(Vec::new());
        }
        Ok(vec![Arc::new(KubeOptions {
            kubeconfig: self.kubeconfig.clone(),
            contexts: self.kube_context.clone(),
            in_cluster: self.in_cluster,
            timeout: limits.kube_request,
            ..KubeOptions::default()
        })])
    }
}
