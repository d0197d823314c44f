"""The host calls: every effect a module has on the machine it configures
goes through these, which the runtime controls. A call the module's grants
do not allow raises `Error`, naming the grant it lacks; so does any other
failure, with the host's message.

| call | grant |
|---|---|
| `read_file`, `stat`, `exists`, `readlink`, `list_dir` | `read:DIR` (or `write:DIR`) |
| `write_file`, `remove`, `mkdir`, `chmod`, `chown`, `symlink`, `rename` | `write:DIR` |
| `whoami`, `hostname`, `architecture`, `os_release`, `lookup_user`, `lookup_group`, `in_chroot` | none |
| `var`, `vars`, `consfig_file` | none |
| `data`, `data_text` | `data:KEY` |
| `log.debug`, `log.info`, `log.warn`, `log.error` | none |

While forms are only being validated the host refuses every call with an
effect; a property's top level and decoding of arguments never need one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from componentize_py_types import Err
from wit_world.imports import host as _host

from .errors import Error

T = TypeVar("T")


def _call(function: Callable[..., T], *args: Any) -> T:
    try:
        return function(*args)
    except Err as e:
        raise Error(str(e.value)) from None


class _Log:
    """Lines in the current form's output, with a level (what the module
    prints to stdout and stderr is captured too)."""

    @staticmethod
    def debug(message: object) -> None:
        _host.log(_host.Level.DEBUG, str(message))

    @staticmethod
    def info(message: object) -> None:
        _host.log(_host.Level.INFO, str(message))

    @staticmethod
    def warn(message: object) -> None:
        _host.log(_host.Level.WARN, str(message))

    @staticmethod
    def error(message: object) -> None:
        _host.log(_host.Level.ERROR, str(message))


log = _Log()

# Files.

_KINDS = {
    _host.FileKind.FILE: "file",
    _host.FileKind.DIRECTORY: "directory",
    _host.FileKind.SYMLINK: "symlink",
    _host.FileKind.OTHER: "other",
}


@dataclass(frozen=True)
class FileStat:
    """What `stat` says of a path."""

    #: `file`, `directory`, `symlink` or `other`.
    kind: str
    #: Permission bits (e.g. 0o644), without the file-type bits.
    mode: int
    size: int
    uid: int
    gid: int
    #: Last modification, in seconds since the Unix epoch.
    mtime: int


@dataclass(frozen=True)
class DirEntry:
    """One entry of a directory: its name (without the directory) and kind."""

    name: str
    kind: str


def _bytes(data: bytes | str, what: str) -> bytes:
    """Bytes, or text as UTF-8; anything else (an int would make that many
    zero bytes) is refused."""
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise Error(f"{what}: bytes or str, not {type(data).__name__}")


def read_file(path: str) -> bytes:
    """The contents of the file at `path`."""
    return _call(_host.read_file, path)


def read_text(path: str) -> str:
    """The file at `path` as UTF-8 text."""
    data = read_file(path)
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise Error(f"{path} is not UTF-8 text") from None


def write_file(path: str, data: bytes | str, mode: int | None = None) -> None:
    """Replace the file's contents atomically (text is written as UTF-8).
    Without `mode`, an existing file keeps its mode and a new one gets 0o644."""
    _call(_host.write_file, path, _bytes(data, f"write_file {path}"), mode)


def stat(path: str) -> FileStat | None:
    """The status of `path`, not following a final symlink; None when
    nothing is there."""
    s = _call(_host.stat, path)
    if s is None:
        return None
    return FileStat(_KINDS[s.kind], s.mode, s.size, s.uid, s.gid, s.mtime)


def exists(path: str) -> bool:
    """Whether anything (a dangling symlink included) is at `path`."""
    return stat(path) is not None


def remove(path: str) -> None:
    """Remove a file, a symlink or an empty directory."""
    _call(_host.remove, path)


def mkdir(path: str, mode: int | None = None) -> None:
    """Make a directory and any missing parents (mode 0o755 without `mode`)."""
    _call(_host.mkdir, path, mode)


def chmod(path: str, mode: int) -> None:
    _call(_host.chmod, path, mode)


def chown(path: str, owner: str | int | None = None, group: str | int | None = None) -> None:
    """Set the owner and/or group of `path`, each a name (of the target's own
    /etc/passwd and /etc/group) or a number; None leaves it as it is."""
    _call(_host.chown, path, None if owner is None else str(owner), None if group is None else str(group))


def symlink(target: str, link: str) -> None:
    """Make a symlink at `link` whose contents are `target`."""
    _call(_host.symlink, target, link)


def readlink(path: str) -> str:
    return _call(_host.readlink, path)


def list_dir(path: str) -> list[DirEntry]:
    """The entries of a directory, sorted by name, without `.` and `..`."""
    return [DirEntry(e.name, _KINDS[e.kind]) for e in _call(_host.list_dir, path)]


def rename(source: str, destination: str) -> None:
    """Rename atomically, replacing a file (not a directory) at `destination`."""
    _call(_host.rename, source, destination)


# Facts: no grant needed.


@dataclass(frozen=True)
class Identity:
    """Who the form runs as."""

    uid: int
    gid: int
    #: The user's name, when the password database has one for the uid.
    user: str | None
    #: The value of HOME, if set.
    home: str | None

    @property
    def is_root(self) -> bool:
        return self.uid == 0


@dataclass(frozen=True)
class OsRelease:
    """What /etc/os-release says: id `debian`, version_id `12`, ..."""

    id: str
    version_id: str | None
    version_codename: str | None
    pretty_name: str | None


@dataclass(frozen=True)
class UserInfo:
    """An account of the target's own /etc/passwd."""

    name: str
    uid: int
    gid: int
    #: The GECOS field, e.g. the full name.
    comment: str
    home: str
    shell: str


@dataclass(frozen=True)
class GroupInfo:
    """A group of the target's own /etc/group, with its supplementary members."""

    name: str
    gid: int
    members: list[str]


def whoami() -> Identity:
    """Who the process applying the form runs as (in a `setuid:USER`
    subdeployment, that user)."""
    me = _host.whoami()
    return Identity(me.uid, me.gid, me.user, me.home)


def os_release() -> OsRelease:
    """What /etc/os-release of the root the form runs in says (inside a
    chroot, the chroot's)."""
    os = _call(_host.os_release)
    return OsRelease(os.id, os.version_id, os.version_codename, os.pretty_name)


def lookup_user(user: str | int) -> UserInfo | None:
    """The account named `user` (or with that uid), read from the target's
    own /etc/passwd; None when there is none."""
    u = _call(_host.lookup_user, str(user))
    return None if u is None else UserInfo(u.name, u.uid, u.gid, u.comment, u.home, u.shell)


def lookup_group(group: str | int) -> GroupInfo | None:
    """The group named `group` (or with that gid); None when there is none."""
    g = _call(_host.lookup_group, str(group))
    return None if g is None else GroupInfo(g.name, g.gid, list(g.members))


def in_chroot() -> bool:
    """Whether the form runs in a chroot (where, say, no service should start)."""
    return _host.in_chroot()


def hostname() -> str:
    return _host.hostname()


def architecture() -> str:
    """The machine's architecture as `uname -m` says it, e.g. `x86_64`."""
    return _host.architecture()


# What the consfig gives this host.


def data(key: str) -> bytes:
    """This host's data `key` (`[hosts.NAME] data`), such as a password:
    the module needs the grant `data:KEY`. The runtime blanks it out of
    every output and reason it reports."""
    return _call(_host.data, key)


def data_text(key: str) -> str:
    """`data` as UTF-8 text, without the trailing newline files end with."""
    raw = data(key)
    try:
        return raw.decode().rstrip("\r\n")
    except UnicodeDecodeError:
        raise Error(f"data {key} is not UTF-8 text") from None


def var(key: str) -> Any:
    """This host's variable `key`, decoded from JSON ([vars] of Consfig.toml,
    overridden by its groups', overridden by its own); None when unset."""
    text = _host.var(key)
    return None if text is None else _from_runtime_json(text)


def vars() -> dict[str, Any]:
    """Every variable of this host, merged as `var` merges them."""
    value = _from_runtime_json(_host.vars())
    return value if isinstance(value, dict) else {}


def consfig_file(path: str) -> bytes:
    """The file at `path` (relative to Consfig.toml) of the consfig: only
    files this host's forms name by that path are sent."""
    return _call(_host.consfig_file, path)


def _from_runtime_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
