//! Atomic file replacement: write a temporary file beside the target, fsync it,
//! and rename it over the target, so readers see the old or the new bytes and a
//! crash never leaves a half-written file under the final name.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// How the temporary files start, so that leftovers can be recognised.
pub const TEMP_PREFIX: &str = ".consfig-";

/// Replace `path` with `bytes`, mode `mode`, and, when given, owner `(uid, gid)`.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<()> {
    // A bare name's parent is "", which tempfile joins as the current directory.
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name to replace"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    let file = tmp.as_file();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(file, Some(uid), Some(gid))?;
    }
    // After chown, which clears set-id bits.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
