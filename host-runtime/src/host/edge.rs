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

    fn chown(
        &mut self,
        path: String,
        owner: Option<String>,
        group: Option<String>,
    ) -> Result<(), String> {
        HostState::chown(self, &path, owner.as_deref(), group.as_deref())
            .map_err(|e| self.refusal_noted(e))
    }

    fn symlink(&mut self, target: String, link: String) -> Result<(), String> {
        HostState::symlink(self, &target, &link).map_err(|e| self.refusal_noted(e))
    }

    fn readlink(&mut self, path: String) -> Result<String, String> {
        HostState::readlink(self, &path).map_err(|e| self.refusal_noted(e))
    }

    fn list_dir(&mut self, path: String) -> Result<Vec<DirEntry>, String> {
        HostState::list_dir(self, &path).map_err(|e| self.refusal_noted(e))
    }

    fn rename(&mut self, source: String, destination: String) -> Result<(), String> {
        HostState::rename(self, &source, &destination).map_err(|e| self.refusal_noted(e))
    }

    fn os_release(&mut self) -> Result<OsInfo, String> {
        HostState::os_release(self).map_err(|e| self.refusal_noted(e))
    }

    fn lookup_user(&mut self, user: String) -> Result<Option<UserInfo>, String> {
        HostState::lookup_user(self, &user).map_err(|e| self.refusal_noted(e))
    }

    fn lookup_group(&mut self, group: String) -> Result<Option<GroupInfo>, String> {
        HostState::lookup_group(self, &group).map_err(|e| self.refusal_noted(e))
    }

    fn in_chroot(&mut self) -> bool {
        HostState::in_chroot(self)
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
