//! The `mount` module: file systems mounted now, as the kernel's mount
//! table (`/proc/self/mountinfo`) shows them; mounted with `mount` when
//! missing. What is mounted at boot is `/etc/fstab` (see `fstab:has-entries`).

use consfig_guest::prelude::*;

const MOUNTINFO: &str = "/proc/self/mountinfo";
const PROGRAM: &str = "/usr/bin/mount";

/// SRC is mounted at PATH now: when the mount table
/// (`/proc/self/mountinfo`, read as a file) shows nothing mounted at PATH,
/// `mount [-t FSTYPE] [-o OPTS] -- SRC PATH` mounts it. With `opts`
/// holding `bind` or `rbind`, SRC is a directory (or file) bind-mounted at
/// PATH, and any mount at PATH counts (the table names a bind mount by its
/// device, not SRC); otherwise the mount at PATH must have SRC as its
/// source and, when given, FSTYPE as its type, or the property fails
/// rather than mount over it.
///
/// Options: `fstype` (`tmpfs`, `ext4`, …; left to `mount` when not given),
/// `opts`, the comma-separated mount options (`size=16m,mode=0755`,
/// `bind`, `ro`). A file system mounted already is not remounted to change
/// its options.
///
/// Unchanged when it is mounted. PATH must exist (`file:directory-exists`
/// makes it). Check mode reads the mount table and skips `mount`, so it
/// predicts exactly. Nothing is written to `/etc/fstab`.
#[property]
pub fn mounted(
    path: String,
    src: String,
    fstype: Option<String>,
    opts: Option<String>,
) -> Result<Change> {
    ensure!(
        path.starts_with('/')
            && !path.chars().any(char::is_control)
            && !path.split('/').any(|c| c == "." || c == ".."),
        "the path {path:?} is not an absolute path (without control characters, `.` or `..`)"
    );
    let path = match path.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    };
    ensure!(
        !src.is_empty()
            && !src.starts_with('-')
            && !src.chars().any(|c| c.is_whitespace() || c.is_control()),
        "the source {src:?} is empty, starts with `-` or has whitespace or control characters"
    );
    if let Some(fstype) = &fstype {
        ensure!(
            !fstype.is_empty()
                && !fstype.starts_with('-')
                && fstype
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c)),
            "the file system type {fstype:?} is not one (letters, digits and `._+-`)"
        );
    }
    if let Some(opts) = &opts {
        ensure!(
            !opts.is_empty()
                && !opts.starts_with('-')
                && !opts.chars().any(|c| c.is_whitespace() || c.is_control()),
            "the options {opts:?} are empty, start with `-` or have whitespace or control \
             characters"
        );
    }
    let bind = opts
        .as_deref()
        .is_some_and(|o| o.split(',').any(|o| o == "bind" || o == "rbind"));

    let table = fs::read_to_string(MOUNTINFO)?;
    if let Some(mount) = parse(&table).into_iter().rev().find(|m| m.point == path) {
        if bind {
            return Ok(Change::Unchanged);
        }
        let same_type = fstype.as_deref().is_none_or(|t| t == mount.fstype);
        ensure!(
            mount.source == src && same_type,
            "{path} has {} ({}) mounted, not {src}{}: unmount it first",
            mount.source,
            mount.fstype,
            fstype.map(|t| format!(" ({t})")).unwrap_or_default()
        );
        return Ok(Change::Unchanged);
    }
    match fs::stat(&path)? {
        Some(_) => {}
        None => bail!("{path} does not exist: make it first (file:directory-exists)"),
    }
    let mut command = Command::change(PROGRAM);
    if let Some(fstype) = &fstype {
        command = command.args(["-t", fstype]);
    }
    if let Some(opts) = &opts {
        command = command.args(["-o", opts]);
    }
    command.args(["--", &src, &path]).succeed()?;
    info!("mounted {src} at {path}");
    Ok(Change::Changed)
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    point: String,
    fstype: String,
    source: String,
}

/// The mounts of a mountinfo table, in order (a later one at the same
/// point is on top).
fn parse(table: &str) -> Vec<Mount> {
    table
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let separator = fields.iter().position(|f| *f == "-")?;
            Some(Mount {
                point: unescape(fields.get(4)?),
                fstype: unescape(fields.get(separator + 1)?),
                source: unescape(fields.get(separator + 2)?),
            })
        })
        .collect()
}

/// A mountinfo field with its octal escapes (`\040` for a space) decoded.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(digits) => {
                let value = digits.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

consfig_guest::module! {
    name: "mount",
    export: false,
    needs: ["read:/", "command:/usr/bin/mount"],
    doc: "File systems mounted now (tmpfs, bind mounts, devices).",
    properties: [mounted],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    const TABLE: &str = "\
22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
30 22 0:25 / /proc rw,nosuid - proc proc rw\n\
40 22 0:30 / /srv/my\\040data rw - tmpfs tmpfs rw,size=1024k\n\
41 22 8:1 /srv/src /srv/bound rw - ext4 /dev/sda1 rw\n";

    use consfig_guest::testing::failure;

    fn host() -> FakeHost {
        FakeHost::new()
            .file(MOUNTINFO, TABLE)
            .dir("/mnt/scratch")
            .dir("/srv/src")
    }

    fn mount(
        path: &str,
        src: &str,
        fstype: Option<&str>,
        opts: Option<&str>,
    ) -> impl Fn() -> Result<Change> {
        let (path, src) = (path.to_owned(), src.to_owned());
        let (fstype, opts) = (fstype.map(str::to_owned), opts.map(str::to_owned));
        move || mounted(path.clone(), src.clone(), fstype.clone(), opts.clone())
    }

    #[test]
    fn mounts_a_tmpfs_that_is_not_mounted() {
        let host = host().command(
            [
                PROGRAM,
                "-t",
                "tmpfs",
                "-o",
                "size=16m,mode=0755",
                "--",
                "tmpfs",
                "/mnt/scratch",
            ],
            0,
            "",
        );
        let scratch = mount(
            "/mnt/scratch/",
            "tmpfs",
            Some("tmpfs"),
            Some("size=16m,mode=0755"),
        );
        assert_eq!(host.apply(&scratch), Ok(Change::Changed));
        assert!(host.commands_not_run().is_empty());
        assert_eq!(host.logged(), ["info: mounted tmpfs at /mnt/scratch"]);
        // Once the table shows it: unchanged.
        let host = host.file(
            MOUNTINFO,
            format!("{TABLE}50 22 0:40 / /mnt/scratch rw - tmpfs tmpfs rw,size=16384k\n"),
        );
        assert_eq!(host.apply(&scratch), Ok(Change::Unchanged));
        assert_eq!(host.commands_run().len(), 1);
    }

    #[test]
    fn decodes_escaped_mount_points_and_takes_any_type_when_none_is_given() {
        let host = host().dir("/srv/my data");
        assert_eq!(
            host.apply(mount("/srv/my data", "tmpfs", None, None)),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(mount("/", "/dev/sda1", Some("ext4"), None)),
            Ok(Change::Unchanged)
        );
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn bind_mounts_count_any_mount_at_the_path() {
        let host = host().dir("/mnt/bind").command(
            [PROGRAM, "-o", "ro,bind", "--", "/srv/src", "/mnt/bind"],
            0,
            "",
        );
        assert_eq!(
            host.apply(mount("/srv/bound", "/srv/src", None, Some("bind"))),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(mount("/mnt/bind", "/srv/src", None, Some("ro,bind"))),
            Ok(Change::Changed)
        );
        assert!(host.commands_not_run().is_empty());
    }

    #[test]
    fn something_else_mounted_there_fails_rather_than_mount_over_it() {
        let host = host();
        assert_eq!(
            failure(host.apply(mount("/proc", "tmpfs", Some("tmpfs"), None))),
            "/proc has proc (proc) mounted, not tmpfs (tmpfs): unmount it first"
        );
        assert_eq!(
            failure(host.apply(mount("/srv/my data", "tmpfs", Some("ramfs"), None))),
            "/srv/my data has tmpfs (tmpfs) mounted, not tmpfs (ramfs): unmount it first"
        );
    }

    #[test]
    fn check_mode_reads_the_table_and_skips_mount() {
        let host = host().check_mode();
        assert_eq!(
            host.apply(mount("/mnt/scratch", "tmpfs", Some("tmpfs"), None)),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.commands_skipped(),
            [[PROGRAM, "-t", "tmpfs", "--", "tmpfs", "/mnt/scratch"]]
        );
        assert_eq!(
            host.apply(mount("/proc", "proc", Some("proc"), None)),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn a_missing_path_fails_before_mount() {
        assert_eq!(
            failure(host().apply(mount("/mnt/none", "tmpfs", Some("tmpfs"), None))),
            "/mnt/none does not exist: make it first (file:directory-exists)"
        );
    }

    #[test]
    fn refuses_options_and_injection_in_every_argument() {
        let host = host();
        let cases = [
            (mount("mnt", "tmpfs", None, None), "the path"),
            (mount("/mnt/../etc", "tmpfs", None, None), "the path"),
            (mount("/mnt/a\n", "tmpfs", None, None), "the path"),
            (mount("/mnt/scratch", "--bind", None, None), "the source"),
            (mount("/mnt/scratch", "-o", None, None), "the source"),
            (mount("/mnt/scratch", "a b", None, None), "the source"),
            (mount("/mnt/scratch", "", None, None), "the source"),
            (
                mount("/mnt/scratch", "tmpfs", Some("-o"), None),
                "the file system type",
            ),
            (
                mount("/mnt/scratch", "tmpfs", Some("tmpfs,x y"), None),
                "the file system type",
            ),
            (
                mount("/mnt/scratch", "tmpfs", None, Some("--rbind")),
                "the options",
            ),
            (
                mount("/mnt/scratch", "tmpfs", None, Some("size=1m x")),
                "the options",
            ),
            (
                mount("/mnt/scratch", "tmpfs", None, Some("")),
                "the options",
            ),
        ];
        for (property, message) in cases {
            let got = failure(host.apply(property));
            assert!(got.starts_with(message), "{got}");
        }
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn unescapes_octal_only() {
        assert_eq!(unescape("a\\040b\\011c"), "a b\tc");
        assert_eq!(unescape("a\\x"), "a\\x");
        assert_eq!(unescape("end\\"), "end\\");
    }
}
