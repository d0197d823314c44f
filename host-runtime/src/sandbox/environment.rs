//! The environment a module's command gets: which variables may reach it,
//! from the runtime's own environment or set by the module, and the ones
//! that never reach the commands of untrusted modules because they change
//! what a program runs rather than what it does.

/// Variables the dynamic loader and the C library read to load code or data
/// from a path: glibc drops exactly these (and every `LD_` one) for set-uid
/// programs, for the same reason. Given to a granted command, `LD_PRELOAD`
/// runs the module's own code as whoever the runtime is.
const LOADER_VARIABLES: [&str; 13] = [
    "GCONV_PATH",
    "GETCONF_DIR",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "LOCPATH",
    "MALLOC_TRACE",
    "NIS_PATH",
    "NLSPATH",
    "RESOLV_HOST_CONF",
    "RES_OPTIONS",
    "TMPDIR",
    "TZDIR",
];

/// Whether `name` steers the dynamic loader or the C library's loading of
/// files: never passed to the commands of untrusted modules, granted or not.
pub fn steers_loader(name: &str) -> bool {
    name.starts_with("LD_") || LOADER_VARIABLES.contains(&name)
}

/// Variables every program expects, passed from the runtime's environment
/// to every command without a grant.
pub const BASE_VARIABLES: [&str; 5] = ["PATH", "HOME", "USER", "LOGNAME", "LANG"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_variables_are_recognised_by_name() {
        for name in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "LD_AUDIT",
            "LD_",
            "GCONV_PATH",
        ] {
            assert!(steers_loader(name), "{name}");
        }
        for name in ["LANG", "OLD_PRELOAD", "ld_preload", "PATH", "GCONV"] {
            assert!(!steers_loader(name), "{name}");
        }
    }
}
