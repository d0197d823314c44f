//! Getting this exact runtime onto a target and starting it.
//!
//! The runtime lives at `~/.cache/consfig/runtime/<sha256>/consfig` (under
//! `$XDG_CACHE_HOME` when set). A small POSIX-sh script on the target learns
//! its architecture (`uname -m`), picks the runtime built for it from the
//! ones the controller has, and starts it if present and its hash is the one
//! expected; otherwise it says so, receives the gzip-compressed binary on its
//! standard input, checks the hash, and renames it into place before
//! starting it. A target that has the binary is sent no binary bytes; one
//! of an architecture without a runtime is told so before anything is sent.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::super::compiler::packed;
use super::super::installation::Installation;
use super::become_user::{Become, Passwords};
use crate::engine::architecture::{self, Architecture};
use crate::engine::cache::{Cache, sha256_hex};

/// The first line the script prints: the target has the runtime and starts it.
pub const READY: &str = "consfig-bootstrap: ready";
/// The script needs the bytes of the runtime for the architecture that follows.
pub const NEED: &str = "consfig-bootstrap: need ";
/// The target's architecture, which follows, has no runtime here.
pub const UNSUPPORTED: &str = "consfig-bootstrap: unsupported ";
/// The become hop (sudo, su) needs the password it takes (see become_user).
pub const PASSWORD: &str = "consfig-bootstrap: password";

/// A password that never shows in logs or debug output.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A binary the controller ships, content-addressed: the `consfig` it runs,
/// which is the runtime, or the bundle stub beside it.
pub struct RuntimeBinary {
    pub path: PathBuf,
    pub sha256: String,
    /// Bytes, uncompressed.
    pub size: u64,
    /// Where its gzip is kept, in the controller's cache.
    gzip_path: PathBuf,
    compressed: OnceLock<Result<Vec<u8>, String>>,
}

impl RuntimeBinary {
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        let sha256 = sha256_hex(&bytes);
        let cache = Cache::from_env().map_err(std::io::Error::other)?;
        Ok(RuntimeBinary {
            path: path.to_owned(),
            gzip_path: cache.root().join("runtime").join(format!("{sha256}.gz")),
            sha256,
            size: bytes.len() as u64,
            compressed: OnceLock::new(),
        })
    }

    /// The binary gzip-compressed for the wire: made once, when a target
    /// first lacks it, and kept in the controller's cache.
    pub fn compressed(&self) -> Result<&[u8], String> {
        self.compressed
            .get_or_init(|| {
                let bytes = std::fs::read(&self.path)
                    .map_err(|e| format!("{}: {e}", self.path.display()))?;
                if sha256_hex(&bytes) != self.sha256 {
                    return Err(format!("{} changed while deploying", self.path.display()));
                }
                Ok(packed(&bytes, &self.gzip_path))
            })
            .as_ref()
            .map(Vec::as_slice)
            .map_err(Clone::clone)
    }
}

/// Quote a string for POSIX sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The runtimes this controller ships, one per architecture built.
pub struct Runtimes {
    binaries: Vec<(&'static Architecture, RuntimeBinary)>,
}

impl Runtimes {
    /// Every runtime `installation` has.
    pub fn load(installation: &Installation) -> std::io::Result<Self> {
        let mut binaries = Vec::new();
        for name in installation.architectures() {
            let arch = architecture::by_name(name).expect("a known architecture");
            let path = installation
                .runtime_for(arch)
                .map_err(std::io::Error::other)?;
            let binary = RuntimeBinary::load(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            binaries.push((arch, binary));
        }
        Ok(Runtimes { binaries })
    }

    /// Just `binary`, for targets of this machine's architecture.
    pub fn native_only(binary: RuntimeBinary) -> Self {
        Runtimes {
            binaries: vec![(architecture::native(), binary)],
        }
    }

    /// The runtime for `arch` (as `uname -m` or the runtime names it).
    pub fn get(&self, arch: &str) -> Option<&RuntimeBinary> {
        let arch = architecture::by_name(arch)?;
        self.binaries
            .iter()
            .find(|(a, _)| *a == arch)
            .map(|(_, binary)| binary)
    }

    /// The runtime this machine runs (`local` hops).
    pub fn native(&self) -> Option<&RuntimeBinary> {
        self.get(architecture::native().name)
    }

    /// The architectures there is a runtime for, for errors.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self.binaries.iter().map(|(a, _)| a.name).collect();
        if names.is_empty() {
            "none (build them with `make`)".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// The error of a target whose architecture has no runtime here.
    pub fn unsupported(&self, arch: &str) -> String {
        format!(
            "the target's architecture is {arch} (uname -m) and this controller has no runtime for it; runtimes here: {}. `make` builds one per architecture of its RUNTIME_ARCHES",
            self.names()
        )
    }
}

/// The script that starts (and if need be first receives) the runtime for
/// the target's architecture.
pub fn script(runtimes: &Runtimes) -> String {
    let mut cases = String::new();
    for (arch, binary) in &runtimes.binaries {
        cases.push_str(&format!(
            "  {}) a={}; s={} ;;\n",
            arch.uname.join("|"),
            arch.name,
            binary.sha256
        ));
    }
    format!(
        r#"set -eu
# receive MARKER FILE SHA256: ask for FILE, take its gzip, verify, put it in place.
receive() {{
  mkdir -p "${{2%/*}}"
  t="$2.incoming.$$"
  trap 'rm -f "$t"' EXIT
  echo "$1"
  read -r size
  head -c "$size" | gzip -dc > "$t"
  h=$(sha256sum "$t")
  h=${{h%% *}}
  if [ "$h" != "$3" ]; then echo "consfig-bootstrap: received ${{2##*/}} hashes to $h, not $3" >&2; exit 3; fi
  chmod 0755 "$t"
  mv -f "$t" "$2"
  trap - EXIT
}}
a=$(uname -m)
case "$a" in
{cases}  *) echo "{UNSUPPORTED}$a"; exit 4 ;;
esac
c="${{XDG_CACHE_HOME:-$HOME/.cache}}/consfig"
d="$c/runtime/$s"
# What runs is checked every time: a cached runtime changed since it was put
# there (by anything that could write the cache) is received again.
h=$(sha256sum "$d/consfig" 2>/dev/null) || h=
[ -x "$d/consfig" ] && [ "${{h%% *}}" = "$s" ] || receive "{NEED}$a" "$d/consfig" "$s"
echo "{READY}"
exec "$d/consfig" runtime
"#
    )
}

/// What an SSH client asks the target's login shell to run: the script,
/// through the become hop `via` (sudo, su or doas) if there is one.
pub fn remote_command(runtimes: &Runtimes, via: Option<&Become>) -> String {
    let script = script(runtimes);
    let script = match via {
        None => script,
        Some(via) => via.command(&script),
    };
    format!("sh -c {}", sh_quote(&script))
}

/// After the script started: answer its need for the binary or, through
/// `via` (the become hop and the host's passwords), for a password, if any,
/// and wait until it starts the runtime. Returns the binary bytes sent.
pub fn finish(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
    runtimes: &Runtimes,
    via: Option<(&Become, &Passwords)>,
) -> Result<u64, String> {
    let mut sent = 0;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => {
                return Err("the target closed the connection while starting the runtime".into());
            }
            Ok(_) => {}
            Err(e) => return Err(format!("starting the runtime: {e}")),
        }
        let line = line.trim_end();
        if let Some(arch) = line.strip_prefix(UNSUPPORTED) {
            return Err(runtimes.unsupported(arch));
        }
        let needed = line
            .strip_prefix(NEED)
            .map(|arch| runtimes.get(arch).ok_or_else(|| runtimes.unsupported(arch)));
        if let Some(runtime) = needed {
            let bytes = runtime?.compressed()?;
            writeln!(writer, "{}", bytes.len())
                .and_then(|()| writer.write_all(bytes))
                .and_then(|()| writer.flush())
                .map_err(|e| format!("uploading the runtime: {e}"))?;
            sent += bytes.len() as u64;
            continue;
        }
        match line {
            READY => return Ok(sent),
            PASSWORD => {
                let (via, passwords) =
                    via.ok_or("the target asked for a password, which nothing here takes")?;
                let password = passwords
                    .get(via.method)
                    .ok_or_else(|| via.needs_password())?;
                writeln!(writer, "{}", password.0)
                    .and_then(|()| writer.flush())
                    .map_err(|e| format!("answering {}: {e}", via.method))?;
            }
            other => {
                return Err(format!(
                    "unexpected output while starting the runtime: {other:?}"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_sh() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    /// The script for `runtimes`, run by a real sh with its cache in `dir`
    /// (and `path` as PATH, if given), its input and output piped.
    fn run_script(runtimes: &Runtimes, dir: &Path, path: Option<&str>) -> std::process::Child {
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c")
            .arg(script(runtimes))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        if let Some(path) = path {
            sh.env("PATH", path);
        }
        sh.spawn().unwrap()
    }

    /// The script, run by a real sh: first it needs the binary, then it has it.
    #[test]
    fn script_receives_verifies_and_starts_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake-consfig");
        std::fs::write(&fake, "#!/bin/sh\necho \"runtime started with $1\"\n").unwrap();
        let runtimes = Runtimes::native_only(RuntimeBinary::load(&fake).unwrap());
        let runtime = runtimes.native().unwrap();
        let run =
            |input: &mut dyn FnMut(&mut std::process::ChildStdin, &mut dyn BufRead) -> u64| {
                let mut child = run_script(&runtimes, dir.path(), None);
                let mut stdin = child.stdin.take().unwrap();
                let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
                let sent = input(&mut stdin, &mut stdout);
                drop(stdin);
                let mut rest = String::new();
                std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
                assert!(child.wait().unwrap().success());
                (sent, rest)
            };
        let mut go = |stdin: &mut std::process::ChildStdin, stdout: &mut dyn BufRead| {
            finish(&mut &mut *stdout, stdin, &runtimes, None).unwrap()
        };
        let (sent, rest) = run(&mut go);
        assert_eq!(sent, runtime.compressed().unwrap().len() as u64);
        assert_eq!(rest, "runtime started with runtime\n");
        let installed = dir
            .path()
            .join(format!("cache/consfig/runtime/{}/consfig", runtime.sha256));
        assert!(installed.exists());
        let (sent, _) = run(&mut go);
        assert_eq!(sent, 0, "present: no bytes");
        // A cached runtime someone rewrote is not run: it is received again.
        std::fs::write(&installed, "#!/bin/sh\necho planted\n").unwrap();
        let (sent, rest) = run(&mut go);
        assert_eq!(sent, runtime.compressed().unwrap().len() as u64);
        assert_eq!(rest, "runtime started with runtime\n");
    }

    /// A target whose architecture has no runtime is told so before
    /// anything is sent, and the error names what there is.
    #[test]
    fn a_target_of_another_architecture_without_a_runtime_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake-consfig");
        std::fs::write(&fake, "#!/bin/sh\necho started\n").unwrap();
        let runtimes = Runtimes::native_only(RuntimeBinary::load(&fake).unwrap());
        // uname answers as a riscv64 machine would.
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(bin.join("uname"), "#!/bin/sh\necho riscv64\n").unwrap();
        std::fs::set_permissions(
            bin.join("uname"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let mut child = run_script(&runtimes, dir.path(), Some(&path));
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let error = finish(&mut stdout, &mut stdin, &runtimes, None).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "the target's architecture is riscv64 (uname -m) and this controller has no runtime for it; runtimes here: {}",
                std::env::consts::ARCH
            )),
            "{error}"
        );
        assert!(!child.wait().unwrap().success());
        assert!(
            !dir.path().join("cache/consfig/runtime").exists(),
            "nothing received"
        );
        // Asked by name for one this controller lacks: the same error.
        let mut asked = std::io::Cursor::new(format!("{NEED}aarch64\n"));
        let error = finish(&mut asked, &mut Vec::new(), &runtimes, None).unwrap_err();
        assert!(error.contains("architecture is aarch64"), "{error}");
    }
}
