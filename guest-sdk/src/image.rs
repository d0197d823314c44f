//! Dumping the pristine image as a bundle: a standalone executable that
//! evaluates one form when it starts, for running a service.

use crate::{Change, Error, Form, Result, sys};

/// Write a bundle at the absolute `path`: a runtime without compiler, the
/// compiled code of every loaded module, and `form`, which the executable
/// applies when started, with `grants` for its modules (`net:ADDR:PORT`,
/// `net` for any address). The host writes it from the pristine image,
/// atomically, mode 0755; changed only when the bytes differ. The bundle's
/// modules get no grant that the modules this call was made through lack,
/// and writing it needs `write:DIR` for the path, as any file does.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// A bundle serving the site on port 8080, at `path`.
/// #[property]
/// fn service_dumped(path: String) -> Result<Change> {
///     let form = Form::new("cool-web-service:start-server").arg(8080)?;
///     image::dump(&path, &form, &["net:127.0.0.1:8080".to_owned()])
/// }
/// # consfig_guest::module! { name: "site", properties: [service_dumped] }
/// # fn main() {}
/// ```
pub fn dump(path: &str, form: &Form, grants: &[String]) -> Result<Change> {
    sys::dump_image(path, form, grants).map_err(Error::new)
}
