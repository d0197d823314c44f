//! The `host` interface as the bindings declare it. Each call forwards to its
//! typed implementation in this layer, and its error becomes text here: the
//! one place the host's errors are turned into strings for a module (a
//! refusal by the grants noted on the way, for check mode's report).

use super::bindings::consfig::module::host::{
    self, Command, CommandOutput, DirEntry, FileStat, GroupInfo, Identity, Level, OsInfo, UserInfo,
};
use super::state::HostState;

impl host::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        HostState::log(self, level, &message);
    }

    fn panicked(&mut self, message: String) {
        HostState::panicked(self, &message);
    }

    fn run(&mut self, command: Command) -> Result<CommandOutput, String> {
        HostState::run(self, command).map_err(|e| self.refusal_noted(e))
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        HostState::read_file(self, &path).map_err(|e| self.refusal_noted(e))
    }

    fn write_file(
        &mut self,
        path: String,
        contents: Vec<u8>,
        mode: Option<u32>,
    ) -> Result<(), String> {
        HostState::write_file(self, &path, &contents, mode).map_err(|e| self.refusal_noted(e))
    }

    fn stat(&mut self, path: String) -> Result<Option<FileStat>, String> {
        HostState::stat(self, &path).map_err(|e| self.refusal_noted(e))
    }

    fn remove(&mut self, path: String) -> Result<(), String> {
        HostState::remove(self, &path).map_err(|e| self.refusal_noted(e))
    }

    fn mkdir(&mut self, path: String, mode: Option<u32>) -> Result<(), String> {
        HostState::mkdir(self, &path, mode).map_err(|e| self.refusal_noted(e))
    }

    fn chmod(&mut self, path: String, mode: u32) -> Result<(), String> {
        HostState::chmod(self, &path, mode).map_err(|e| self.refusal_noted(e))
    }

    fn whoami(&mut self) -> Identity {
        HostState::whoami(self)
    }

    fn hostname(&mut self) -> String {
        HostState::hostname(self)
    }

    fn architecture(&mut self) -> String {
        HostState::architecture(self)
    }

    fn data(&mut self, key: String) -> Result<Vec<u8>, String> {
        HostState::data(self, &key).map_err(|e| self.refusal_noted(e))
    }

    // PLACEHOLDERS: each replaced by its typed implementation in this layer.
    fn chown(
        &mut self,
        _path: String,
        _owner: Option<String>,
        _group: Option<String>,
    ) -> Result<(), String> {
        Err("chown: PLACEHOLDER".into())
    }

    fn symlink(&mut self, _target: String, _link: String) -> Result<(), String> {
        Err("symlink: PLACEHOLDER".into())
    }

    fn readlink(&mut self, _path: String) -> Result<String, String> {
        Err("readlink: PLACEHOLDER".into())
    }

    fn list_dir(&mut self, _path: String) -> Result<Vec<DirEntry>, String> {
        Err("list-dir: PLACEHOLDER".into())
    }

    fn rename(&mut self, _source: String, _destination: String) -> Result<(), String> {
        Err("rename: PLACEHOLDER".into())
    }

    fn os_release(&mut self) -> Result<OsInfo, String> {
        Err("os-release: PLACEHOLDER".into())
    }

    fn lookup_user(&mut self, _user: String) -> Result<Option<UserInfo>, String> {
        Err("lookup-user: PLACEHOLDER".into())
    }

    fn lookup_group(&mut self, _group: String) -> Result<Option<GroupInfo>, String> {
        Err("lookup-group: PLACEHOLDER".into())
    }

    fn in_chroot(&mut self) -> bool {
        false // PLACEHOLDER
    }

    fn var(&mut self, key: String) -> Option<String> {
        HostState::var(self, &key)
    }

    fn vars(&mut self) -> String {
        HostState::vars(self)
    }

    fn consfig_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        HostState::consfig_file(self, &path).map_err(|e| self.refusal_noted(e))
    }
}
