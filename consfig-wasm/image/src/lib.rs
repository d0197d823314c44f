//! The `image` module: Consfig's `image-dumped`. A bundle is a standalone
//! executable — a runtime without compiler, the compiled code of the modules
//! this deploy loaded, and one form it applies when started — for running a
//! service from a consfig without Consfig on the host.

use consfig_guest::prelude::*;

/// The executable at `path` is a bundle that applies `form` when started,
/// with `grants` for its modules (`net:127.0.0.1:8080`, `net:*:8080`, or `net`
/// for any address; none by default, so a service that listens needs one).
///
/// The host writes it from the pristine image, so it holds nothing of this
/// deploy, atomically with mode 0755. Changed only when its bytes differ from
/// the file there: the same modules, form and grants give the same bytes.
#[property]
fn dumped(path: String, form: Form, grants: Option<Vec<String>>) -> Result<Change> {
    ensure!(
        path.starts_with('/'),
        "{path:?} is relative: give the bundle's absolute path"
    );
    image::dump(&path, &form, &grants.unwrap_or_default())
}

consfig_guest::module! {
    name: "image",
    needs: ["write:/"],
    doc: "Bundles: the pristine image as a standalone executable that applies one form.",
    properties: [dumped],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::{Dump, FakeHost};

    use super::*;

    fn serve() -> Form {
        Form::new("cool-web-service:serves")
            .arg("127.0.0.1:8080")
            .unwrap()
    }

    #[test]
    fn asks_the_host_for_the_bundle() {
        let host = FakeHost::new().dump("/usr/local/bin/site", Change::Changed);
        let grants = vec!["net:127.0.0.1:8080".to_owned()];
        let dump = || dumped("/usr/local/bin/site".into(), serve(), Some(grants.clone()));
        assert_eq!(host.apply(dump), Ok(Change::Changed));
        assert_eq!(
            host.dumps(),
            [Dump {
                path: "/usr/local/bin/site".into(),
                form: serve(),
                grants
            }]
        );
    }

    #[test]
    fn grants_nothing_unless_given_and_needs_an_absolute_path() {
        let host = FakeHost::new();
        assert_eq!(
            host.apply(|| dumped("/srv/b".into(), serve(), None)),
            Ok(Change::Unchanged)
        );
        assert!(host.dumps()[0].grants.is_empty());
        assert_eq!(
            host.apply(|| dumped("b".into(), serve(), None))
                .unwrap_err()
                .message(),
            "\"b\" is relative: give the bundle's absolute path"
        );
        assert_eq!(host.dumps().len(), 1);
    }
}
