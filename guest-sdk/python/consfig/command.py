"""Commands on the host: `query(...)` makes one that only looks, which
check mode (`consfig deploy --check`) runs, in a read-only view of the
system; `change(...)` makes one that changes the host, which check mode
skips, answering as if it exited 0 with no output. There is no third way,
so no module can forget to choose.

    out = query("dpkg-query", "-W", "nginx").run(check=False)
    change("/usr/bin/systemctl", "reload", "nginx").run()

The module needs a `command:` grant for the program (and `env:NAME` for
each variable it sets).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from componentize_py_types import Err
from wit_world.imports import host as _host

from .errors import Error
from .host import _bytes, log


@dataclass(frozen=True)
class Output:
    """What a command did."""

    #: The exit code, or None when a signal killed it.
    exit_code: int | None
    stdout: bytes
    stderr: bytes

    @property
    def success(self) -> bool:
        """Whether it exited with code 0."""
        return self.exit_code == 0

    @property
    def status(self) -> str:
        """`exit code 1`, or `killed by a signal`."""
        return "killed by a signal" if self.exit_code is None else f"exit code {self.exit_code}"

    @property
    def stdout_text(self) -> str:
        """Standard output as text (invalid UTF-8 replaced)."""
        return self.stdout.decode(errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode(errors="replace")


class Command:
    """A command to run on the host, made by `query` or `change`; its
    methods set what it gets and return it, to chain them."""

    def __init__(self, argv: tuple[str, ...], read_only: bool) -> None:
        if len(argv) == 1 and isinstance(argv[0], (list, tuple)):
            argv = tuple(argv[0])
        if not argv:
            raise Error("a command needs at least the program to run")
        self.argv = [_word(a, f"argument {i}") for i, a in enumerate(argv)]
        self.read_only = read_only
        self._stdin: bytes | None = None
        self._env: list[tuple[str, str]] = []
        self._cwd: str | None = None

    def stdin(self, data: bytes | str) -> Command:
        """Bytes (or text, as UTF-8) fed to its standard input (otherwise /dev/null)."""
        self._stdin = _bytes(data, f"{self}: stdin")
        return self

    def env(self, key: str, value: str) -> Command:
        """An environment variable on top of the runtime's (grant `env:KEY`)."""
        self._env.append((_word(key, "an env name"), _word(value, f"env {key}")))
        return self

    def cwd(self, directory: str) -> Command:
        """The working directory, an absolute path."""
        self._cwd = _word(directory, "cwd")
        return self

    def run(self, check: bool = True) -> Output:
        """Run it to completion. With `check` (the default) it must exit 0,
        else an Error names the command line, how it ended and what it wrote
        on stderr; what it printed is logged. With `check=False`, the output
        whatever the exit code. An Error either way when it cannot start."""
        command = _host.Command(
            argv=self.argv, stdin=self._stdin, env=self._env, cwd=self._cwd, read_only=self.read_only
        )
        try:
            out = _host.run(command)
        except Err as e:
            raise Error(str(e.value)) from None
        output = Output(out.exit_code, bytes(out.stdout), bytes(out.stderr))
        if not check:
            return output
        if not output.success:
            said = output.stderr_text.strip()
            raise Error(f"{self}: {output.status}{': ' + said if said else ''}")
        for text in (output.stdout_text, output.stderr_text):
            if text.strip():
                log.info(text.rstrip())
        return output

    def __str__(self) -> str:
        """The command line as a shell would read it, for messages."""
        return " ".join(_shell_quote(a) for a in self.argv)

    def __repr__(self) -> str:
        return f"{'query' if self.read_only else 'change'}({str(self)!r})"


def _word(value: object, what: str) -> str:
    """Text for a command: a str, an int or a path, never silently anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int, os.PathLike)):
        raise Error(f"a command's {what} is text, not {type(value).__name__} {value!r}")
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def _shell_quote(word: str) -> str:
    if _PLAIN.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def query(*argv: str) -> Command:
    """A command that only looks and changes nothing (`getent`,
    `dpkg-query`, `systemctl is-active`): check mode runs it too. The
    program is looked up in PATH when it has no `/`."""
    return Command(argv, read_only=True)


def change(*argv: str) -> Command:
    """A command that changes the host (`useradd`, `apt-get install`):
    check mode skips it and reports it skipped."""
    return Command(argv, read_only=False)
