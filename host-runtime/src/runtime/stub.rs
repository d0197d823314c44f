//! Where a runtime gets the stub it builds bundles on, when a form asks
//! for one (`dump-image`): a bundle carries its stub at the start of its
//! executable, and the runtime the controller ships is the stub itself.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::bundle::format::stub_length;
use crate::engine::launcher::LaunchError;

/// Where this process gets the stub: its own executable, opened when it
/// starts, before any context is entered, so it reads the same in any
/// chroot and as any user.
pub enum StubSource {
    /// The first `len` bytes of this executable.
    OwnExecutable { file: File, len: u64 },
    /// Nowhere: why.
    None(String),
}

impl StubSource {
    /// A bundle's: the start of its own executable.
    pub fn own_executable() -> StubSource {
        Self::open(|file| stub_length(file).ok_or("this executable is not a bundle".to_owned()))
    }

    /// The runtime's: the runtime is the stub, its whole executable (or,
    /// run from a bundle, the stub it starts with).
    pub fn runtime_executable() -> StubSource {
        Self::open(|file| match stub_length(file) {
            Some(len) => Ok(len),
            None => file.metadata().map(|m| m.len()).map_err(|e| e.to_string()),
        })
    }

    fn open(length: impl FnOnce(&File) -> Result<u64, String>) -> StubSource {
        let opened =
            File::open("/proc/self/exe").map_err(|e| format!("cannot open this executable: {e}"));
        match opened.and_then(|file| length(&file).map(|len| (file, len))) {
            Ok((file, len)) => StubSource::OwnExecutable { file, len },
            Err(reason) => StubSource::None(reason),
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, LaunchError> {
        match self {
            StubSource::OwnExecutable { file, len } => {
                let mut bytes = vec![0u8; usize::try_from(*len).unwrap_or(usize::MAX)];
                file.read_exact_at(&mut bytes, 0)
                    .map_err(|e| LaunchError::NoStub(format!("reading the bundle stub: {e}")))?;
                Ok(bytes)
            }
            StubSource::None(reason) => Err(LaunchError::NoStub(reason.clone())),
        }
    }
}
