//! Dumping the pristine image as a bundle: a standalone executable that
//! evaluates one form when it starts, for running a service.

use crate::{Change, Error, Form, Result, sys};

/// Write a bundle at the absolute `path`: a runtime without compiler, the
/// compiled code of every loaded module, and `form`, which the executable
/// applies when started, with `grants` for its modules (`net:ADDR:PORT`,
/// `net` for any address). The host writes it from the pristine image,
/// atomically, mode 0755; changed only when the bytes differ.
pub fn dump(path: &str, form: &Form, grants: &[String]) -> Result<Change> {
    sys::dump_image(path, form, grants).map_err(Error::new)
}
