//! The `archive` module: archives extracted on the host.
//!
//! Archives are decoded inside the module by Rust crates (`tar`, `flate2`,
//! `lzma-rs`, `zip`), so the host needs no `tar` or `unzip`, and every entry
//! is confined beneath the destination before anything is written.

mod confine;
mod extracted;
mod format;

consfig_guest::module! {
    name: "archive",
    export: false,
    // Extracting writes wherever the consfig says; grant the module the
    // directories it extracts into (and reads archives from) instead of `/`.
    needs: ["write:/"],
    doc: "Archives (.tar, .tar.gz, .tar.xz, .zip) extracted on the host, confined beneath \
          their destination.",
    properties: [extracted::extracted],
}

#[cfg(test)]
mod tests {
    use consfig_guest::prelude::*;
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::extracted::extracted;
    use crate::format::build::{self, Item};

    use consfig_guest::testing::failure;

    fn items() -> Vec<Item<'static>> {
        vec![
            Item::Dir("app/", 0o750),
            Item::File("app/run.sh", b"#!/bin/sh\necho hi\n", 0o4755),
            Item::File("app/conf/app.conf", b"port = 80\n", 0o640),
            Item::Symlink("app/current", "run.sh"),
            Item::Dir("app/ro/", 0o555),
            Item::File("app/ro/data", b"x", 0o444),
        ]
    }

    fn extract(host: &FakeHost, archive: &str, dest: &str) -> Result<Change> {
        let (archive, dest) = (archive.to_owned(), dest.to_owned());
        host.apply(move || extracted(archive, dest, None))
    }

    fn readlink(host: &FakeHost, path: &str) -> String {
        let path = path.to_owned();
        host.apply(move || fs::readlink(path)).unwrap()
    }

    fn mode(host: &FakeHost, path: &str) -> u32 {
        host.stat(path).unwrap().mode.bits()
    }

    #[test]
    fn every_format_extracts_once() {
        for (name, bytes) in [
            ("/tmp/a.tar", build::tar(&items())),
            ("/tmp/a.tar.gz", build::tar_gz(&items())),
            ("/tmp/a.tgz", build::tar_gz(&items())),
            ("/tmp/a.tar.xz", build::tar_xz(&items())),
            ("/tmp/a.zip", build::zip(&items())),
        ] {
            let host = FakeHost::new().file(name, bytes);
            assert_eq!(
                extract(&host, name, "/srv/www"),
                Ok(Change::Changed),
                "{name}"
            );
            let text = |p: &str| host.text(&format!("/srv/www/app/{p}"));
            assert_eq!(
                text("run.sh").as_deref(),
                Some("#!/bin/sh\necho hi\n"),
                "{name}"
            );
            assert_eq!(
                text("conf/app.conf").as_deref(),
                Some("port = 80\n"),
                "{name}"
            );
            assert_eq!(text("ro/data").as_deref(), Some("x"), "{name}");
            assert_eq!(
                mode(&host, "/srv/www/app/run.sh"),
                0o755,
                "{name}: no set-uid"
            );
            assert_eq!(mode(&host, "/srv/www/app/conf/app.conf"), 0o640, "{name}");
            assert_eq!(mode(&host, "/srv/www/app"), 0o750, "{name}");
            assert_eq!(mode(&host, "/srv/www/app/ro"), 0o555, "{name}: set last");
            assert_eq!(
                mode(&host, "/srv/www/app/conf"),
                0o755,
                "{name}: made as a parent"
            );
            assert_eq!(readlink(&host, "/srv/www/app/current"), "run.sh", "{name}");
            assert_eq!(
                extract(&host, name, "/srv/www"),
                Ok(Change::Unchanged),
                "{name}"
            );
        }
    }

    #[test]
    fn only_what_differs_is_written_back() {
        let host = FakeHost::new().file("/a.tgz", build::tar_gz(&items()));
        assert_eq!(extract(&host, "/a.tgz", "/srv"), Ok(Change::Changed));
        let host = host
            .file("/srv/app/run.sh", "tampered")
            .mode("/srv/app/conf/app.conf", 0o666)
            .file("/srv/app/extra", "kept");
        host.apply(|| fs::remove("/srv/app/current")).unwrap();
        host.apply(|| fs::symlink("conf", "/srv/app/current"))
            .unwrap();
        assert_eq!(extract(&host, "/a.tgz", "/srv"), Ok(Change::Changed));
        assert_eq!(
            host.text("/srv/app/run.sh").as_deref(),
            Some("#!/bin/sh\necho hi\n")
        );
        assert_eq!(mode(&host, "/srv/app/conf/app.conf"), 0o640);
        assert_eq!(readlink(&host, "/srv/app/current"), "run.sh");
        assert_eq!(host.text("/srv/app/extra").as_deref(), Some("kept"));
        assert_eq!(extract(&host, "/a.tgz", "/srv"), Ok(Change::Unchanged));
    }

    #[test]
    fn check_mode_predicts_and_then_sees_its_own_writes() {
        let host = FakeHost::new()
            .file("/a.zip", build::zip(&items()))
            .check_mode();
        assert_eq!(extract(&host, "/a.zip", "/srv"), Ok(Change::Changed));
        assert_eq!(extract(&host, "/a.zip", "/srv"), Ok(Change::Unchanged));
    }

    #[test]
    fn entries_leaving_the_destination_are_refused_before_anything_is_written() {
        let cases: [(&[Item], &str); 5] = [
            (
                &[Item::File("ok", b"", 0o644), Item::File("../x", b"", 0o644)],
                "the entry \"../x\" climbs out of the destination with `..`",
            ),
            (
                &[
                    Item::File("ok", b"", 0o644),
                    Item::File("/etc/x", b"", 0o644),
                ],
                "the entry \"/etc/x\" has an absolute path: entries are extracted beneath \
                 the destination",
            ),
            (
                &[Item::File("ok", b"", 0o644), Item::Symlink("etc", "/etc")],
                "the symlink \"etc\" points to \"/etc\", outside the destination",
            ),
            (
                &[Item::Symlink("up", "../.."), Item::File("ok", b"", 0o644)],
                "the symlink \"up\" points to \"../..\", outside the destination",
            ),
            (
                &[
                    Item::Symlink("sub", "inside"),
                    Item::File("sub/passwd", b"", 0o644),
                ],
                "the entry \"sub/passwd\" lies beneath \"sub\", a symlink: nothing is \
                 extracted through a symlink",
            ),
        ];
        for (items, why) in cases {
            let host = FakeHost::new().file("/evil.tar", build::tar(items));
            assert_eq!(
                failure(extract(&host, "/evil.tar", "/srv/www")),
                format!("/evil.tar: {why}; nothing was extracted into /srv/www")
            );
            assert!(!host.exists("/srv/www"), "{why}: nothing written");
            assert!(!host.exists("/etc/x") && !host.exists("/srv/x"), "{why}");
        }
    }

    #[test]
    fn a_symlink_already_under_the_destination_is_not_written_through() {
        let host = FakeHost::new()
            .file(
                "/a.tar",
                build::tar(&[Item::File("conf/x", b"evil", 0o644)]),
            )
            .dir("/etc")
            .symlink("/srv/conf", "/etc");
        assert_eq!(
            failure(extract(&host, "/a.tar", "/srv")),
            "/a.tar: the entry \"conf/x\" lies beneath \"conf\", a symlink: nothing is \
             extracted through a symlink; nothing was extracted into /srv"
        );
        assert!(!host.exists("/etc/x"));
    }

    #[test]
    fn something_else_in_an_entrys_place_is_not_replaced() {
        let host = FakeHost::new()
            .file(
                "/a.tar",
                build::tar(&[Item::File("a", b"x", 0o644), Item::File("b/c", b"", 0o644)]),
            )
            .dir("/srv/b/c");
        assert_eq!(
            failure(extract(&host, "/a.tar", "/srv")),
            "/srv/b/c is a directory, where the archive has a file: not replacing it"
        );
        assert!(!host.exists("/srv/a"), "checked before writing");
    }

    #[test]
    fn creates_skips_the_archive_when_its_path_exists() {
        let host = FakeHost::new().file("/a.tar.xz", build::tar_xz(&items()));
        let with_creates = || {
            extracted(
                "/a.tar.xz".into(),
                "/opt".into(),
                Some("/opt/app/run.sh".into()),
            )
        };
        assert_eq!(host.apply(with_creates), Ok(Change::Changed));
        let host = host.file("/opt/app/run.sh", "changed by hand");
        assert_eq!(host.apply(with_creates), Ok(Change::Unchanged));
        assert_eq!(
            host.text("/opt/app/run.sh").as_deref(),
            Some("changed by hand")
        );
        assert_eq!(
            failure(host.apply(|| extracted("/a.tar.xz".into(), "/opt".into(), Some("x".into())))),
            "creates must be an absolute path without `..`, not \"x\""
        );
    }

    #[test]
    fn what_is_not_an_archive_names_it() {
        let host = FakeHost::new().file("/notes.txt", "hello");
        assert_eq!(
            failure(extract(&host, "/notes.txt", "/srv")),
            "/notes.txt: not a .tar, .tar.gz (.tgz), .tar.xz (.txz) or .zip archive \
             (judged by its first bytes and its name)"
        );
        assert_eq!(
            failure(extract(&host, "/srv/../etc/a.tar", "/srv")),
            "archive must be an absolute path without `..`, not \"/srv/../etc/a.tar\""
        );
    }

    #[test]
    fn forms_take_creates_by_name() {
        let host = FakeHost::new()
            .module(&MODULE)
            .file("/a.tgz", build::tar_gz(&items()))
            .file("/srv/app/run.sh", "");
        let form: Form =
            r#"["archive:extracted", "/a.tgz", "/srv", {"creates": "/srv/app/run.sh"}]"#
                .parse()
                .unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
        let form: Form = r#"["archive:extracted", "/a.tgz", "/srv"]"#.parse().unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    }
}
