//! The program a command runs, as the sandbox checks it: the path the module
//! gave (absolute, or a bare name found in PATH), the file that path resolves
//! to, and the interpreters a script names — the files whose contents decide
//! what runs. The command executes the resolved file, so what runs is what
//! was checked.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The dynamic loader's configuration and the directories it loads
/// libraries from: whoever may write one of them decides what every
/// dynamically linked program runs.
const LOADER_PATHS: [&str; 11] = [
    "/etc/ld.so.preload",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/lib",
    "/lib32",
    "/lib64",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/local/lib",
];

/// How many `#!` interpreters deep a script is followed (Linux stops at 4).
const MAX_INTERPRETERS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    #[error(
        "{0:?}: a program path with a / must be absolute (a relative one would be found from the command's directory)"
    )]
    Relative(String),
    #[error("{0:?}: {1}")]
    BadPath(String, &'static str),
    #[error("{0}: no such program in PATH")]
    NotFound(String),
    #[error("{0}: {1}")]
    Unreadable(String, std::io::Error),
}

/// A program as checked and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// As the module named it, or as found in PATH.
    pub given: PathBuf,
    /// The file it resolves to, symlinks followed: what is executed.
    pub real: PathBuf,
    /// The interpreters of a script, outermost last, each resolved.
    pub interpreters: Vec<PathBuf>,
}

impl Program {
    /// The program `name` names: an absolute path as it is, a bare name
    /// looked up in `search_path` (absolute entries only). A path with a `/`
    /// that is not absolute is refused: it would be resolved against the
    /// command's directory, not where it was checked.
    pub fn find(name: &str, search_path: Option<&OsStr>) -> Result<Program, ProgramError> {
        let given = if name.contains('/') {
            if !name.starts_with('/') {
                return Err(ProgramError::Relative(name.to_owned()));
            }
            consfig_contract::absolute_path(name)
                .map_err(|reason| ProgramError::BadPath(name.to_owned(), reason))?
        } else {
            let default = OsStr::new("/usr/sbin:/usr/bin:/sbin:/bin");
            std::env::split_paths(search_path.unwrap_or(default))
                .filter(|dir| dir.is_absolute())
                .map(|dir| dir.join(name))
                .find(|candidate| is_executable(candidate))
                .ok_or_else(|| ProgramError::NotFound(name.to_owned()))?
        };
        let real = std::fs::canonicalize(&given)
            .map_err(|e| ProgramError::Unreadable(given.display().to_string(), e))?;
        let mut interpreters = Vec::new();
        let mut script = real.clone();
        while interpreters.len() < MAX_INTERPRETERS {
            match interpreter_of(&script) {
                Some(interpreter) => {
                    let resolved = std::fs::canonicalize(&interpreter).unwrap_or(interpreter);
                    interpreters.push(resolved.clone());
                    script = resolved;
                }
                None => break,
            }
        }
        Ok(Program {
            given,
            real,
            interpreters,
        })
    }

    /// The first of the files that decide what this program runs — itself
    /// (as given and as resolved), its interpreters, the dynamic loader's
    /// files — that lies beneath `dir`, or holds it (a library directory).
    pub fn decided_beneath(&self, dir: &Path) -> Option<PathBuf> {
        let own = [&self.given, &self.real]
            .into_iter()
            .chain(&self.interpreters)
            .find(|file| file.starts_with(dir))
            .cloned();
        own.or_else(|| {
            LOADER_PATHS
                .iter()
                .map(Path::new)
                .find(|loader| loader.starts_with(dir) || dir.starts_with(loader))
                .map(Path::to_owned)
        })
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The interpreter a `#!` line names, if the file starts with one.
fn interpreter_of(path: &Path) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let mut file = std::fs::File::open(path).ok()?;
    let n = file.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let interpreter = text.split_whitespace().next()?;
    Some(PathBuf::from(interpreter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn names_are_found_in_absolute_path_entries_only() {
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join("true");
        std::fs::write(&planted, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The planted directory, named relative to this process's directory.
        let up = "../".repeat(std::env::current_dir().unwrap().components().count() - 1);
        let relative = format!("{up}{}", dir.path().strip_prefix("/").unwrap().display());
        assert!(Path::new(&relative).join("true").is_file());
        let search = format!("{relative}:/usr/bin:/bin");
        let found = Program::find("true", Some(OsStr::new(&search))).unwrap();
        assert!(
            found.given.is_absolute() && found.given != planted,
            "{found:?}"
        );
        assert!(matches!(
            Program::find("./true", None),
            Err(ProgramError::Relative(_))
        ));
        assert!(matches!(
            Program::find("bin/true", None),
            Err(ProgramError::Relative(_))
        ));
        assert!(matches!(
            Program::find("/usr/../bin/true", None),
            Err(ProgramError::BadPath(..))
        ));
        assert!(matches!(
            Program::find("no-such-program-here", None),
            Err(ProgramError::NotFound(_))
        ));
    }

    #[test]
    fn a_name_is_found_only_as_an_executable_file() {
        let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let tool = |i: usize| dirs[i].path().join("consfig-tool");
        // First a file nobody may execute, then a directory (searchable:
        // its x bits set), then the program.
        std::fs::write(tool(0), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(tool(0), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::create_dir(tool(1)).unwrap();
        std::fs::set_permissions(tool(1), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(tool(2), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(tool(2), std::fs::Permissions::from_mode(0o700)).unwrap();
        let search = std::env::join_paths(dirs.iter().map(|d| d.path())).unwrap();
        let found = Program::find("consfig-tool", Some(&search)).unwrap();
        assert_eq!(found.given, tool(2));
    }

    #[test]
    fn interpreters_are_followed_a_bounded_number_of_times() {
        // Scripts interpreted by scripts, one more than is followed.
        let dir = tempfile::tempdir().unwrap();
        let script = |i: usize| dir.path().join(format!("s{i}"));
        for i in 0..=MAX_INTERPRETERS {
            let next = script(i + 1);
            std::fs::write(script(i), format!("#!{}\n", next.display())).unwrap();
        }
        std::fs::write(script(MAX_INTERPRETERS + 1), "#!/bin/sh\n").unwrap();
        let program = Program::find(&script(0).display().to_string(), None).unwrap();
        let followed: Vec<PathBuf> = (1..=MAX_INTERPRETERS).map(script).collect();
        assert_eq!(program.interpreters, followed);
    }

    #[test]
    fn a_script_is_decided_by_its_interpreter_and_everything_by_the_loader() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("tool");
        std::fs::write(&script, "#!/bin/sh -e\necho hi\n").unwrap();
        let program = Program::find(&script.display().to_string(), None).unwrap();
        assert_eq!(program.interpreters.len(), 1, "{program:?}");
        let shell = &program.interpreters[0];
        assert_eq!(
            program.decided_beneath(shell.parent().unwrap()),
            Some(shell.clone())
        );
        assert_eq!(program.decided_beneath(dir.path()), Some(script.clone()));
        assert_eq!(
            program.decided_beneath(Path::new("/etc")),
            Some(PathBuf::from("/etc/ld.so.preload"))
        );
        assert!(
            program
                .decided_beneath(Path::new("/usr/lib/x86_64-linux-gnu"))
                .is_some()
        );
        assert_eq!(program.decided_beneath(Path::new("/srv/www")), None);
        assert_eq!(program.decided_beneath(Path::new("/etc/nginx")), None);
    }
}
