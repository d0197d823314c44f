//! The architectures Consfig's runtime is built for: the name a target's
//! `uname -m` and the runtime itself report, and the target triple code is
//! compiled for. Adding one: an entry here, a line in the Makefile's
//! `RUNTIME_ARCHES` (with its cross linker).

/// One architecture runtimes exist for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Architecture {
    /// As Rust's `std::env::consts::ARCH` and Linux's `uname -m` say it.
    pub name: &'static str,
    /// What code for it is compiled as (Linux, glibc).
    pub triple: &'static str,
    /// Every name `uname -m` may give it, its own first.
    pub uname: &'static [&'static str],
}

/// Every architecture this build knows how to compile for.
pub const ARCHITECTURES: &[Architecture] = &[
    Architecture {
        name: "x86_64",
        triple: "x86_64-unknown-linux-gnu",
        uname: &["x86_64", "amd64"],
    },
    Architecture {
        name: "aarch64",
        triple: "aarch64-unknown-linux-gnu",
        uname: &["aarch64", "arm64"],
    },
];

/// The architecture of `name` (`uname -m`'s other spellings included),
/// if it is one of [`ARCHITECTURES`].
pub fn by_name(name: &str) -> Option<&'static Architecture> {
    ARCHITECTURES.iter().find(|arch| arch.uname.contains(&name))
}

/// The architecture this program runs on.
pub fn native() -> &'static Architecture {
    by_name(std::env::consts::ARCH).unwrap_or_else(|| {
        panic!(
            "this build runs on {}, which is not in engine::architecture::ARCHITECTURES",
            std::env::consts::ARCH
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_uname_gives_map_to_the_known_architectures() {
        assert_eq!(
            by_name("x86_64").unwrap().triple,
            "x86_64-unknown-linux-gnu"
        );
        assert_eq!(by_name("arm64").unwrap().name, "aarch64");
        assert!(by_name("riscv64").is_none());
        assert_eq!(native().name, std::env::consts::ARCH);
    }
}
