//! What a deploy is asked to do: each host's plan (how to reach it, what to
//! apply, its secrets), and the options every host shares (the binaries to
//! ship, the policy, how many hosts at once).

use std::collections::BTreeMap;
use std::path::PathBuf;

use consfig_contract::Form;

use super::compiler::Compiler;
use super::connection::Hop;
use super::connection::bootstrap::Runtimes;
use super::consfig_file::Vars;
use super::consfig_files::HostFiles;
use super::data_sources::DataSource;
use super::installation::Installation;
use crate::engine::cache::Cache;
use crate::sandbox::policy::Policy;

/// One host to deploy: how to reach it and what to apply.
#[derive(Debug, Clone)]
pub struct HostPlan {
    pub name: String,
    pub hops: Vec<Hop>,
    pub forms: Vec<Form>,
    /// SSH identity files named for this host in Consfig.toml.
    pub identity_files: Vec<PathBuf>,
    /// A file holding the login user's password, for a `sudo` hop that needs one.
    pub sudo_password_file: Option<PathBuf>,
    /// The SSH configuration to read instead of the user's and the system's.
    pub ssh_config_file: Option<PathBuf>,
    /// A file holding the password of the user an `su` hop switches to.
    pub su_password_file: Option<PathBuf>,
    /// Where this host's data is read from, by key: read when the host is
    /// deployed, before it is connected to, and sent to its runtime only.
    pub data: BTreeMap<String, DataSource>,
    /// This host's variables, sent with its policy.
    pub vars: Vars,
    /// The files of the consfig its forms name, sent to it when it lacks them.
    pub files: HostFiles,
}

pub struct DeployOptions {
    /// The runtimes, one per architecture: started locally or shipped to
    /// targets, the one for each target's architecture.
    pub runtimes: Runtimes,
    /// Compiles the modules for each target's architecture, once.
    pub compiler: Compiler,
    /// Grants and limits for every form, and per module.
    pub policy: Policy,
    pub accept_new_host_keys: bool,
    /// Hosts deployed at once.
    pub jobs: usize,
}

/// Hosts deployed at once unless told otherwise: each host mostly waits on its
/// network and its target, so more than the controller's cores.
pub const DEFAULT_JOBS: usize = 16;

impl DeployOptions {
    pub fn new(installation: &Installation) -> std::io::Result<Self> {
        Ok(DeployOptions {
            runtimes: Runtimes::load(installation)?,
            compiler: Compiler::new(Cache::from_env().map_err(std::io::Error::other)?),
            policy: Policy::default(),
            accept_new_host_keys: false,
            jobs: DEFAULT_JOBS,
        })
    }
}
