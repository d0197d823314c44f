//! The fake host's files: an in-memory tree of files, directories, symlinks
//! and special files, each with a mode, an owner and a modification time,
//! that answers the file calls as a Linux host would — the same refusals
//! (ENOENT, EEXIST, EISDIR, ENOTDIR, ENOTEMPTY, ELOOP, EINVAL), symlinks
//! followed where the system follows them.
//!
//! Time is a clock of its own, one second further at every change, so that
//! tests are repeatable and a change always moves an mtime.

use std::collections::BTreeMap;
use std::io;

use crate::Mode;
use crate::host::fs::{DirEntry, FileKind, Stat};

const ENOENT: i32 = 2;
const EBUSY: i32 = 16;
const EEXIST: i32 = 17;
const ENOTDIR: i32 = 20;
const EISDIR: i32 = 21;
const EINVAL: i32 = 22;
const ENOTEMPTY: i32 = 39;
const ELOOP: i32 = 40;

/// How many symlinks one path may go through, as on Linux.
const MAX_LINKS: u32 = 40;

/// The fake clock's first reading: 2023-11-14, seconds since the Unix epoch.
pub(crate) const START_TIME: i64 = 1_700_000_000;

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    File(Vec<u8>),
    Directory,
    Symlink(String),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Last modification, in seconds since the Unix epoch.
    pub mtime: i64,
}

impl Node {
    fn kind(&self) -> FileKind {
        match self.kind {
            Kind::File(_) => FileKind::File,
            Kind::Directory => FileKind::Directory,
            Kind::Symlink(_) => FileKind::Symlink,
            Kind::Other => FileKind::Other,
        }
    }

    fn stat(&self) -> Stat {
        let size = match &self.kind {
            Kind::File(content) => content.len() as u64,
            Kind::Directory => 4096,
            Kind::Symlink(target) => target.len() as u64,
            Kind::Other => 0,
        };
        Stat {
            kind: self.kind(),
            mode: Mode::new(self.mode & Mode::MAX).expect("masked to a mode"),
            size,
            uid: self.uid,
            gid: self.gid,
            mtime: self.mtime,
        }
    }
}

/// Absolute paths, without `.`, `..` or repeated slashes, to what is there.
/// The root directory is always there.
#[derive(Debug, Clone)]
pub(crate) struct Files {
    nodes: BTreeMap<String, Node>,
    /// The time now: the last change's.
    clock: i64,
}

impl Default for Files {
    fn default() -> Self {
        let root = Node {
            kind: Kind::Directory,
            mode: 0o755,
            uid: 0,
            gid: 0,
            mtime: START_TIME,
        };
        Files {
            nodes: BTreeMap::from([("/".to_owned(), root)]),
            clock: START_TIME,
        }
    }
}

fn components(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_owned)
}

fn join(components: &[String]) -> String {
    format!("/{}", components.join("/"))
}

/// The directory holding a resolved path (`/` for `/` itself).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(slash) => &path[..slash],
    }
}

/// Whether the resolved path `path` is `dir` or beneath it.
fn is_within(path: &str, dir: &str) -> bool {
    path == dir || dir == "/" || path.starts_with(&format!("{dir}/"))
}

impl Files {
    /// The path `path` names, its symlinks followed (the last one only with
    /// `follow_last`): what is there, or where something would be made. Its
    /// parent exists and is a directory, or this is an error.
    fn resolve(&self, path: &str, follow_last: bool) -> io::Result<String> {
        if !path.starts_with('/') {
            return Err(errno(EINVAL));
        }
        let mut pending: Vec<String> = components(path).collect();
        pending.reverse();
        let mut current: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(component) = pending.pop() {
            if component == ".." {
                current.pop();
                continue;
            }
            current.push(component);
            let last = pending.is_empty();
            match self.nodes.get(&join(&current)).map(|n| &n.kind) {
                None if last => {}
                None => return Err(errno(ENOENT)),
                Some(Kind::Symlink(target)) if !last || follow_last => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(errno(ELOOP));
                    }
                    current.pop();
                    if target.starts_with('/') {
                        current.clear();
                    }
                    pending.extend(components(target).collect::<Vec<_>>().into_iter().rev());
                }
                Some(Kind::Directory) => {}
                Some(_) if last => {}
                Some(_) => return Err(errno(ENOTDIR)),
            }
        }
        Ok(join(&current))
    }

    /// What is at the exact path (no symlink followed).
    #[cfg(test)]
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.resolve(path, false)
            .ok()
            .and_then(|p| self.nodes.get(&p))
    }

    /// Put `node` at `path`, making missing parent directories (mode 0755,
    /// owned by root), as a test sets the host up.
    pub fn put(&mut self, path: &str, node: Node) {
        assert!(
            path.starts_with('/'),
            "FakeHost: {path:?} is not an absolute path"
        );
        let parts: Vec<String> = components(path).collect();
        for end in 1..parts.len() {
            let parent = join(&parts[..end]);
            match self.nodes.get(&parent).map(|n| &n.kind) {
                None => {
                    let dir = Node {
                        kind: Kind::Directory,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        mtime: self.clock,
                    };
                    self.nodes.insert(parent, dir);
                }
                Some(Kind::Directory) => {}
                Some(_) => panic!("FakeHost: {path}: {parent} is not a directory"),
            }
        }
        let node = Node {
            mtime: self.clock,
            ..node
        };
        self.nodes.insert(join(&parts), node);
    }

    /// The clock moved on for a change: its new reading.
    fn tick(&mut self) -> i64 {
        self.clock += 1;
        self.clock
    }

    /// An entry of the directory holding `path` (resolved) was made,
    /// removed or renamed: the directory's mtime is now.
    fn touch_parent(&mut self, path: &str, now: i64) {
        if let Some(dir) = self.nodes.get_mut(parent(path)) {
            dir.mtime = now;
        }
    }

    /// Change what is at the exact path, as a test sets the host up.
    pub fn edit(&mut self, path: &str, edit: impl FnOnce(&mut Node)) {
        let node = self
            .nodes
            .get_mut(&join(&components(path).collect::<Vec<_>>()))
            .unwrap_or_else(|| panic!("FakeHost: nothing at {path} to change: add it first"));
        edit(node);
    }

    pub fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let path = self.resolve(path, true)?;
        match self.nodes.get(&path).map(|n| &n.kind) {
            None => Err(errno(ENOENT)),
            Some(Kind::Directory) => Err(errno(EISDIR)),
            Some(Kind::File(content)) => Ok(content.clone()),
            Some(_) => Ok(Vec::new()),
        }
    }

    /// Replace what is at the path with a file, as a rename would (a symlink
    /// there is replaced, not followed). What is replaced keeps its owner,
    /// and its mode unless one is given; a new file (or one replacing a
    /// symlink) gets 0644 and `owner`.
    pub fn write(
        &mut self,
        path: &str,
        contents: &[u8],
        mode: Option<u32>,
        owner: (u32, u32),
    ) -> io::Result<()> {
        let path = self.resolve(path, false)?;
        let (mode, (uid, gid)) = match self.nodes.get(&path) {
            None => (mode.unwrap_or(0o644), owner),
            Some(old) => match old.kind {
                Kind::Directory => return Err(errno(EISDIR)),
                Kind::Symlink(_) => (mode.unwrap_or(0o644), owner),
                _ => (mode.unwrap_or(old.mode), (old.uid, old.gid)),
            },
        };
        let now = self.tick();
        let node = Node {
            kind: Kind::File(contents.to_vec()),
            mode,
            uid,
            gid,
            mtime: now,
        };
        // Written to a temporary file renamed into place: the directory changes too.
        self.touch_parent(&path, now);
        self.nodes.insert(path, node);
        Ok(())
    }

    /// Nothing there is `None`, a missing parent directory too.
    pub fn stat(&self, path: &str) -> io::Result<Option<Stat>> {
        match self.resolve(path, false) {
            Ok(path) => Ok(self.nodes.get(&path).map(Node::stat)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn remove(&mut self, path: &str) -> io::Result<()> {
        let path = self.resolve(path, false)?;
        if path == "/" {
            return Err(errno(EBUSY));
        }
        match self.nodes.get(&path).map(|n| &n.kind) {
            None => Err(errno(ENOENT)),
            Some(Kind::Directory) if self.has_children(&path) => Err(errno(ENOTEMPTY)),
            Some(_) => {
                self.nodes.remove(&path);
                let now = self.tick();
                self.touch_parent(&path, now);
                Ok(())
            }
        }
    }

    fn has_children(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.nodes
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }

    /// `mkdir -p`: each missing directory gets `mode` and `owner`; one that
    /// is there (or a symlink to one) is left alone. A symlink to anything
    /// else, or to nothing, is in the way, as on Linux.
    pub fn mkdir(&mut self, path: &str, mode: u32, owner: (u32, u32)) -> io::Result<()> {
        if !path.starts_with('/') {
            return Err(errno(EINVAL));
        }
        let parts: Vec<String> = components(path).collect();
        for end in 1..=parts.len() {
            let prefix = join(&parts[..end]);
            let last = end == parts.len();
            let at = self.resolve(&prefix, false)?;
            match self.nodes.get(&at).map(|n| &n.kind) {
                Some(Kind::Directory) => {}
                Some(Kind::Symlink(_)) => {
                    let to = self.resolve(&prefix, true).ok();
                    let to_dir = to.and_then(|to| self.nodes.get(&to));
                    match to_dir.map(|n| &n.kind) {
                        Some(Kind::Directory) => {}
                        _ if last => return Err(errno(EEXIST)),
                        _ => return Err(errno(ENOENT)),
                    }
                }
                Some(_) if last => return Err(errno(EEXIST)),
                Some(_) => return Err(errno(ENOTDIR)),
                None => {
                    let now = self.tick();
                    let dir = Node {
                        kind: Kind::Directory,
                        mode,
                        uid: owner.0,
                        gid: owner.1,
                        mtime: now,
                    };
                    self.touch_parent(&at, now);
                    self.nodes.insert(at, dir);
                }
            }
        }
        Ok(())
    }

    /// The mode of what the path leads to (a symlink is followed).
    pub fn chmod(&mut self, path: &str, mode: u32) -> io::Result<()> {
        let path = self.resolve(path, true)?;
        let node = self.nodes.get_mut(&path).ok_or_else(|| errno(ENOENT))?;
        node.mode = mode;
        Ok(())
    }

    /// The owner and/or group of what is at the path itself (a symlink is
    /// not followed, as `lchown`); `None` leaves it. As Linux does, even
    /// for root, a change clears the set-uid bit of what is not a
    /// directory, and its set-gid bit when it is group-executable.
    pub fn chown(&mut self, path: &str, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        let path = self.resolve(path, false)?;
        let node = self.nodes.get_mut(&path).ok_or_else(|| errno(ENOENT))?;
        node.uid = uid.unwrap_or(node.uid);
        node.gid = gid.unwrap_or(node.gid);
        let changed = uid.is_some() || gid.is_some();
        if changed && node.kind != Kind::Directory {
            node.mode &= !0o4000;
            if node.mode & 0o010 != 0 {
                node.mode &= !0o2000;
            }
        }
        Ok(())
    }

    /// A symlink at `link` to `target`, owned by `owner`; nothing may be at
    /// `link`, not even a dangling symlink.
    pub fn symlink(&mut self, target: &str, link: &str, owner: (u32, u32)) -> io::Result<()> {
        if target.is_empty() {
            return Err(errno(ENOENT));
        }
        let link = self.resolve(link, false)?;
        if self.nodes.contains_key(&link) {
            return Err(errno(EEXIST));
        }
        let now = self.tick();
        let node = Node {
            kind: Kind::Symlink(target.to_owned()),
            mode: 0o777,
            uid: owner.0,
            gid: owner.1,
            mtime: now,
        };
        self.touch_parent(&link, now);
        self.nodes.insert(link, node);
        Ok(())
    }

    /// The contents of the symlink at the path; EINVAL when it is no symlink.
    pub fn readlink(&self, path: &str) -> io::Result<String> {
        let path = self.resolve(path, false)?;
        match self.nodes.get(&path).map(|n| &n.kind) {
            None => Err(errno(ENOENT)),
            Some(Kind::Symlink(target)) => Ok(target.clone()),
            Some(_) => Err(errno(EINVAL)),
        }
    }

    /// The entries of the directory the path leads to (a symlink is
    /// followed), sorted by name, each as what it is itself.
    pub fn list_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        let dir = self.resolve(path, true)?;
        match self.nodes.get(&dir).map(|n| &n.kind) {
            None => return Err(errno(ENOENT)),
            Some(Kind::Directory) => {}
            Some(_) => return Err(errno(ENOTDIR)),
        }
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let mut entries: Vec<DirEntry> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| p.len() > prefix.len() && !p[prefix.len()..].contains('/'))
            .map(|(p, node)| DirEntry {
                name: p[prefix.len()..].to_owned(),
                kind: node.kind(),
            })
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// `rename(2)`: what is at `source` (a symlink itself, not followed) is
    /// now at `destination`, with everything beneath it, replacing a file or
    /// symlink there, or an empty directory by a directory.
    pub fn rename(&mut self, source: &str, destination: &str) -> io::Result<()> {
        let from = self.resolve(source, false)?;
        let to = self.resolve(destination, false)?;
        let moving = self.nodes.get(&from).ok_or_else(|| errno(ENOENT))?;
        if from == "/" || to == "/" {
            return Err(errno(EBUSY));
        }
        if from == to {
            return Ok(());
        }
        let moving_dir = matches!(moving.kind, Kind::Directory);
        if moving_dir && is_within(&to, &from) {
            return Err(errno(EINVAL));
        }
        match self.nodes.get(&to).map(|n| &n.kind) {
            Some(Kind::Directory) if !moving_dir => return Err(errno(EISDIR)),
            Some(Kind::Directory) if self.has_children(&to) => return Err(errno(ENOTEMPTY)),
            Some(Kind::Directory) | None => {}
            Some(_) if moving_dir => return Err(errno(ENOTDIR)),
            Some(_) => {}
        }
        let moved: Vec<String> = self
            .nodes
            .keys()
            .filter(|p| is_within(p, &from))
            .cloned()
            .collect();
        for old in moved {
            let node = self.nodes.remove(&old).expect("listed just now");
            let new = format!("{to}{}", &old[from.len()..]);
            self.nodes.insert(new, node);
        }
        let now = self.tick();
        self.touch_parent(&from, now);
        self.touch_parent(&to, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> Node {
        Node {
            kind: Kind::File(content.into()),
            mode: 0o600,
            uid: 1000,
            gid: 1000,
            mtime: 0,
        }
    }

    fn symlink(target: &str) -> Node {
        Node {
            kind: Kind::Symlink(target.into()),
            mode: 0o777,
            uid: 0,
            gid: 0,
            mtime: 0,
        }
    }

    fn code(e: io::Error) -> i32 {
        e.raw_os_error().unwrap()
    }

    #[test]
    fn follows_symlinks_where_the_system_does() {
        let mut files = Files::default();
        files.put("/etc/real/x", file("x\n"));
        files.put("/etc/link", symlink("real"));
        files.put("/abs", symlink("/etc/real/x"));
        files.put("/loop", symlink("/loop"));
        assert_eq!(files.read("/etc/link/x").unwrap(), b"x\n");
        assert_eq!(files.read("/abs").unwrap(), b"x\n");
        assert_eq!(files.read("/etc/real/../real/./x").unwrap(), b"x\n");
        assert!(files.stat("/abs").unwrap().unwrap().is_symlink());
        assert_eq!(files.stat("/nope/x").unwrap(), None);
        assert_eq!(code(files.stat("/etc/real/x/y").unwrap_err()), ENOTDIR);
        assert_eq!(code(files.read("/loop").unwrap_err()), ELOOP);
        assert_eq!(code(files.read("/etc/real/x/y").unwrap_err()), ENOTDIR);
        assert_eq!(code(files.read("/nope/x").unwrap_err()), ENOENT);
        assert_eq!(code(files.read("/etc").unwrap_err()), EISDIR);
        assert_eq!(code(files.read("etc").unwrap_err()), EINVAL);
    }

    #[test]
    fn writes_replace_keeping_a_files_mode_and_owner() {
        let mut files = Files::default();
        files.put("/etc/motd", file("old"));
        files.write("/etc/motd", b"new", None, (0, 0)).unwrap();
        let motd = files.get("/etc/motd").unwrap();
        assert_eq!((motd.mode, motd.uid), (0o600, 1000));
        files.write("/etc/new", b"", None, (5, 6)).unwrap();
        let new = files.get("/etc/new").unwrap();
        assert_eq!((new.mode, new.uid, new.gid), (0o644, 5, 6));
        files.put("/etc/link", symlink("motd"));
        files.write("/etc/link", b"l", Some(0o640), (0, 0)).unwrap();
        assert_eq!(
            files.get("/etc/link").unwrap().kind,
            Kind::File(b"l".to_vec())
        );
        assert_eq!(files.read("/etc/motd").unwrap(), b"new");
        assert_eq!(
            code(files.write("/etc", b"", None, (0, 0)).unwrap_err()),
            EISDIR
        );
        assert_eq!(
            code(files.write("/no/x", b"", None, (0, 0)).unwrap_err()),
            ENOENT
        );
    }

    #[test]
    fn makes_removes_and_chmods() {
        let mut files = Files::default();
        files.mkdir("/srv/a/b", 0o700, (1, 2)).unwrap();
        assert_eq!(files.get("/srv/a").unwrap().mode, 0o700);
        files.mkdir("/srv/a", 0o755, (0, 0)).unwrap();
        assert_eq!(files.get("/srv/a").unwrap().mode, 0o700, "left alone");
        files.put("/srv/f", file(""));
        assert_eq!(
            code(files.mkdir("/srv/f", 0o755, (0, 0)).unwrap_err()),
            EEXIST
        );
        assert_eq!(
            code(files.mkdir("/srv/f/g", 0o755, (0, 0)).unwrap_err()),
            ENOTDIR
        );
        assert_eq!(code(files.remove("/srv/a").unwrap_err()), ENOTEMPTY);
        files.remove("/srv/a/b").unwrap();
        files.remove("/srv/a").unwrap();
        assert!(files.get("/srv/a").is_none());
        assert_eq!(code(files.remove("/srv/a").unwrap_err()), ENOENT);
        assert_eq!(code(files.remove("/").unwrap_err()), EBUSY);
        files.put("/srv/dangling", symlink("/nowhere"));
        assert_eq!(
            code(files.mkdir("/srv/dangling", 0o755, (0, 0)).unwrap_err()),
            EEXIST
        );
        assert_eq!(
            code(files.mkdir("/srv/dangling/x", 0o755, (0, 0)).unwrap_err()),
            ENOENT
        );
        assert!(files.get("/nowhere").is_none());
        files.put("/srv/to-dir", symlink("/srv"));
        files.mkdir("/srv/to-dir/new", 0o755, (0, 0)).unwrap();
        assert!(files.get("/srv/new").is_some());
        files.put("/srv/l", symlink("f"));
        files.chmod("/srv/l", 0o640).unwrap();
        assert_eq!(files.get("/srv/f").unwrap().mode, 0o640);
        assert_eq!(files.get("/srv/l").unwrap().mode, 0o777);
    }

    #[test]
    fn chown_clears_set_id_bits_as_linux_does() {
        let mut files = Files::default();
        files.put("/tool", file(""));
        files.put(
            "/dir",
            Node {
                kind: Kind::Directory,
                ..file("")
            },
        );
        let mode = |files: &Files, path: &str| files.get(path).unwrap().mode;
        for (before, after) in [
            (0o4755, 0o755),
            (0o2755, 0o755),
            (0o2745, 0o2745),
            (0o6711, 0o711),
        ] {
            files.chmod("/tool", before).unwrap();
            files.chown("/tool", Some(0), None).unwrap();
            assert_eq!(mode(&files, "/tool"), after, "{before:o}");
        }
        files.chmod("/tool", 0o4755).unwrap();
        files.chown("/tool", None, None).unwrap();
        assert_eq!(mode(&files, "/tool"), 0o4755, "no change, nothing cleared");
        files.chmod("/dir", 0o6775).unwrap();
        files.chown("/dir", Some(5), Some(5)).unwrap();
        assert_eq!(mode(&files, "/dir"), 0o6775, "a directory keeps them");
    }
}
