//! The host calls every typed wrapper makes, in one place: in a module
//! (`wasm32`) they are the WIT imports; built natively, for `cargo test`,
//! they go to the fake host a test installed ([`crate::testing`]), since
//! there is no runtime to import from.
//!
//! Errors are the host's text, as they cross the component boundary; the
//! wrappers turn them into [`crate::Error`]s.

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::calls::*;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::*;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use crate::bindings::consfig::module::{forms as wit_forms, host, types};
    use crate::host::fs::{DirEntry, FileKind, Stat};
    use crate::host::log::Level;
    use crate::host::{Command, GroupInfo, Identity, OsRelease, Output, UserInfo};
    use crate::{Change, Context, Form, Mode};

    fn change(change: types::Change) -> Change {
        match change {
            types::Change::Unchanged => Change::Unchanged,
            types::Change::Changed => Change::Changed,
        }
    }

    pub fn log(level: Level, message: &str) {
        let level = match level {
            Level::Debug => host::Level::Debug,
            Level::Info => host::Level::Info,
            Level::Warn => host::Level::Warn,
            Level::Error => host::Level::Error,
        };
        host::log(level, message);
    }

    pub fn run(command: &Command) -> Result<Output, String> {
        let output = host::run(&host::Command {
            argv: command.argv().to_vec(),
            stdin: command.input().map(<[u8]>::to_vec),
            env: command.envs().to_vec(),
            cwd: command.working_dir().map(str::to_owned),
            read_only: command.is_query(),
        })?;
        Ok(Output {
            exit_code: output.exit_code,
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
        host::read_file(path)
    }

    pub fn write_file(path: &str, contents: &[u8], mode: Option<u32>) -> Result<(), String> {
        host::write_file(path, contents, mode)
    }

    pub fn stat(path: &str) -> Result<Option<Stat>, String> {
        let Some(stat) = host::stat(path)? else {
            return Ok(None);
        };
        Ok(Some(Stat {
            kind: file_kind(stat.kind),
            // The host reports permission bits only.
            mode: Mode::new(stat.mode & Mode::MAX).map_err(|e| e.to_string())?,
            size: stat.size,
            uid: stat.uid,
            gid: stat.gid,
            mtime: stat.mtime,
        }))
    }

    fn file_kind(kind: host::FileKind) -> FileKind {
        match kind {
            host::FileKind::File => FileKind::File,
            host::FileKind::Directory => FileKind::Directory,
            host::FileKind::Symlink => FileKind::Symlink,
            host::FileKind::Other => FileKind::Other,
        }
    }

    pub fn remove(path: &str) -> Result<(), String> {
        host::remove(path)
    }

    pub fn mkdir(path: &str, mode: Option<u32>) -> Result<(), String> {
        host::mkdir(path, mode)
    }

    pub fn chmod(path: &str, mode: u32) -> Result<(), String> {
        host::chmod(path, mode)
    }

    pub fn chown(path: &str, owner: Option<&str>, group: Option<&str>) -> Result<(), String> {
        host::chown(path, owner, group)
    }

    pub fn symlink(target: &str, link: &str) -> Result<(), String> {
        host::symlink(target, link)
    }

    pub fn readlink(path: &str) -> Result<String, String> {
        host::readlink(path)
    }

    pub fn list_dir(path: &str) -> Result<Vec<DirEntry>, String> {
        let entries = host::list_dir(path)?;
        Ok(entries
            .into_iter()
            .map(|entry| DirEntry {
                name: entry.name,
                kind: file_kind(entry.kind),
            })
            .collect())
    }

    pub fn rename(source: &str, destination: &str) -> Result<(), String> {
        host::rename(source, destination)
    }

    pub fn os_release() -> Result<OsRelease, String> {
        let host::OsInfo {
            id,
            version_id,
            version_codename,
            pretty_name,
        } = host::os_release()?;
        Ok(OsRelease {
            id,
            version_id,
            version_codename,
            pretty_name,
        })
    }

    pub fn lookup_user(user: &str) -> Result<Option<UserInfo>, String> {
        Ok(host::lookup_user(user)?.map(|user| UserInfo {
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            comment: user.comment,
            home: user.home,
            shell: user.shell,
        }))
    }

    pub fn lookup_group(group: &str) -> Result<Option<GroupInfo>, String> {
        Ok(host::lookup_group(group)?.map(|group| GroupInfo {
            name: group.name,
            gid: group.gid,
            members: group.members,
        }))
    }

    pub fn in_chroot() -> bool {
        host::in_chroot()
    }

    pub fn var(key: &str) -> Option<String> {
        host::var(key)
    }

    pub fn vars() -> String {
        host::vars()
    }

    pub fn consfig_file(path: &str) -> Result<Vec<u8>, String> {
        host::consfig_file(path)
    }

    pub fn whoami() -> Identity {
        let host::Identity {
            uid,
            gid,
            user,
            home,
        } = host::whoami();
        Identity {
            uid,
            gid,
            user,
            home,
        }
    }

    pub fn hostname() -> String {
        host::hostname()
    }

    pub fn architecture() -> String {
        host::architecture()
    }

    pub fn data(key: &str) -> Result<Vec<u8>, String> {
        host::data(key)
    }

    pub fn apply(form: &Form) -> Result<Change, String> {
        wit_forms::apply(&form.to_string()).map(change)
    }

    pub fn validate_form(form: &Form) -> Result<(), String> {
        wit_forms::validate_form(&form.to_string())
    }

    pub fn subdeploy(contexts: &[Context], forms: &[Form]) -> Result<Change, String> {
        let contexts: Vec<String> = contexts.iter().map(|c| c.as_str().to_owned()).collect();
        let forms: Vec<String> = forms.iter().map(Form::to_string).collect();
        wit_forms::subdeploy(&contexts, &forms).map(change)
    }

    pub fn dump_image(path: &str, form: &Form, grants: &[String]) -> Result<Change, String> {
        wit_forms::dump_image(path, &form.to_string(), grants).map(change)
    }
}
