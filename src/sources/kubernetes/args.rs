//! The Kubernetes flags of `scan`, `diff` and `capture`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use serde::Deserialize;

use super::KubeOptions;
use crate::diag::{Code, Diagnostic, Place};
use crate::model::{InputError, LiveTimeouts};
use crate::sources::collect::{LiveSource, SourceArgs};

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Kubernetes")]
pub struct KubeArgs {
    /// Read the live state of the kubeconfig's current context [config: a `kubernetes:` section].
    #[arg(long)]
    pub kube: bool,
    /// Read the live state of this kubeconfig context (repeatable: several
    /// clusters, concurrently) [config: kubernetes.contexts, replaced by the flags].
    #[arg(long = "kube-context", value_name = "NAME")]
    pub kube_context: Vec<String>,
    /// Kubeconfig file [default: $KUBECONFIG or ~/.kube/config] [config: kubernetes.kubeconfig].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Read the cluster the tool runs in, with its pod's service account [config: kubernetes.in_cluster].
    #[arg(long)]
    pub in_cluster: bool,
    /// Limit of each Kubernetes API request as a whole (connecting, retries, the body) and of discovery, in seconds [default: 30] [config: kubernetes.request_timeout].
    #[arg(long, value_name = "SECONDS")]
    pub kube_timeout: Option<u64>,
}

/// The `kubernetes:` section of the config file: the settings of the flags
/// above. The section makes the source live, like `--kube`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KubeSection {
    /// Contexts to read (`--kube-context`); empty: the current context.
    pub contexts: Vec<String>,
    /// Kubeconfig file (`--kubeconfig`), relative to the config file.
    pub kubeconfig: Option<PathBuf>,
    /// The cluster the tool runs in (`--in-cluster`).
    pub in_cluster: bool,
    /// Limit of each API request, in seconds (`--kube-timeout`).
    pub request_timeout: Option<u64>,
}

impl KubeSection {
    /// Checks the section; `at` gives the place of a key inside it.
    pub fn check(&self, at: &dyn Fn(&str) -> Place) -> Result<(), InputError> {
        if self.request_timeout == Some(0) {
            return Err(Diagnostic::error(
                Code::ConfigInvalidValue,
                at("request_timeout"),
                "kubernetes.request_timeout must be at least 1 second",
            )
            .with_label("zero"));
        }
        Ok(())
    }
}

impl KubeArgs {
    /// Each API request's limit (at least a second).
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.kube_timeout.unwrap_or(30).max(1))
    }

    /// The flags over the config's section: a flag naming clusters
    /// (`--kube`, `--kube-context`, `--in-cluster`) replaces the section's
    /// clusters; `--kubeconfig` and `--kube-timeout` win over their keys.
    /// `resolve` turns a path of the config into one relative to here.
    pub fn with_config(
        &self,
        section: Option<&KubeSection>,
        resolve: &dyn Fn(&Path) -> PathBuf,
    ) -> KubeArgs {
        let mut merged = self.clone();
        let Some(section) = section else {
            return merged;
        };
        if !(self.kube || self.in_cluster || !self.kube_context.is_empty()) {
            merged.kube = true;
            merged.kube_context = section.contexts.clone();
            merged.in_cluster = section.in_cluster;
        }
        if merged.kubeconfig.is_none() {
            merged.kubeconfig = section.kubeconfig.as_deref().map(resolve);
        }
        if merged.kube_timeout.is_none() {
            merged.kube_timeout = section.request_timeout;
        }
        merged
    }
}

impl KubeArgs {
    /// The namespace of the context(s) read, as kubectl gives it to a
    /// manifest without one; `None` without a live Kubernetes source, in the
    /// cluster, or when the contexts name none or different ones.
    pub fn context_namespace(&self) -> Result<Option<String>, InputError> {
        if !self.given() || self.in_cluster {
            return Ok(None);
        }
        super::live::context_namespace(self.kubeconfig.as_deref(), &self.kube_context)
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
        if !self.in_cluster {
            super::live::check_kubeconfig(self.kubeconfig.as_deref(), &self.kube_context)?;
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
