//! The memory limit: a module's linear memory may grow only as far as the
//! limit of the module running allows. Growth past it traps the form with a
//! message naming the limit. The host holds no more for it either: a file it
//! reads is refused past the same limit (`read-file`).

use super::state::HostState;
use crate::sandbox::policy::show_bytes;

/// Tables hold function references; a million is far beyond any module.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl wasmtime::ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let module = self.running_module().unwrap_or("");
        let limit = self.policy().limits.for_module(module).memory;
        if desired as u64 > limit {
            let who = if module.is_empty() {
                "a module".to_owned()
            } else {
                format!("module {module}")
            };
            wasmtime::bail!(
                "memory limit of {} exceeded: {who} asked for {}",
                show_bytes(limit),
                show_bytes(desired as u64)
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use crate::host::error::HostError;
    use crate::host::test_support::host_under;
    use crate::sandbox::grants::ModuleGrants;
    use crate::sandbox::policy::{Limits, Policy};

    #[test]
    fn memory_may_grow_to_the_running_modules_limit() {
        let mut policy = Policy::default();
        policy.limits.forms.memory = Some(64 << 20);
        policy.limits.modules.insert(
            "big".into(),
            Limits {
                memory: Some(256 << 20),
                ..Limits::default()
            },
        );
        let mut host = host_under(policy);
        assert!(host.memory_growing(0, 64 << 20, None).unwrap());
        let refused = host.memory_growing(0, 65 << 20, None).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("memory limit of 64 MiB exceeded: module m asked for 65 MiB"),
            "{refused}"
        );
        host.enter("big");
        assert!(host.memory_growing(0, 200 << 20, None).unwrap());
        host.leave();
        assert!(host.memory_growing(0, 200 << 20, None).is_err());
        assert!(host.table_growing(0, 10_000, None).unwrap());
        assert!(!host.table_growing(0, 2_000_000, None).unwrap());
    }

    #[test]
    fn a_file_read_is_refused_past_the_modules_memory_limit() {
        let mut policy = Policy::default();
        policy.limits.forms.memory = Some(1 << 20);
        policy.grants.insert(
            "m".into(),
            ModuleGrants {
                grants: consfig_contract::parse_grants(&["read:/dev"]).unwrap(),
                ..ModuleGrants::default()
            },
        );
        let mut host = host_under(policy);
        let start = std::time::Instant::now();
        let refused = host.read_file("/dev/zero").unwrap_err();
        assert!(
            matches!(refused, HostError::TooLarge { limit, .. } if limit == 1 << 20),
            "{refused}"
        );
        assert_eq!(
            refused.to_string(),
            "read-file /dev/zero: the file is larger than the memory limit of 1 MiB of the module reading it (raise memory in [limits] or the module's limits)"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(host.read_file("/dev/null").unwrap(), b"");
    }
}
