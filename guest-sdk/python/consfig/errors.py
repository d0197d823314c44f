"""Why a property failed: `Error`, and the reason a form fails with when
an exception escapes its property.

A property fails its form by raising `Error("what went wrong")`: the form's
reason is that message. Host calls raise `Error` with the host's message.
Any other exception escaping a property is a mistake in the module: the
form fails with its type, message and where it was raised
(`ZeroDivisionError: division by zero (at app.py:12, in website)`), and
the whole traceback goes to the form's output.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from componentize_py_types import Err


class Error(Exception):
    """A property's failure, for the person running the deploy: the form
    fails with exactly this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def context(self, context: str) -> Error:
        """The same failure, prefixed with what was being done:
        `writing /etc/motd: Permission denied`."""
        return Error(f"{context}: {self.message}")


def reason(error: BaseException, app_dir: str | None) -> str:
    """The reason a form fails with when `error` escapes its property: the
    message of an `Error` (or of a host call's error the module let through);
    for any other exception its type, its message and the last frame of the
    traceback in the module's own files (any frame if none is), whose whole
    traceback is printed to the form's output."""
    if isinstance(error, Error):
        return _text(error.message)
    if isinstance(error, Err):
        return _text(str(error.value))
    name = type(error).__name__
    try:
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
        text = str(error)
    except BaseException:
        # An exception whose message itself fails: its type says enough.
        text = ""
    said = f"{name}: {text}" if text else name
    where = _where(error.__traceback__, app_dir)
    return _text(f"{said} (at {where})" if where else said)


def _text(text: str) -> str:
    """Text that crosses to the host: what UTF-8 cannot carry (lone
    surrogates) replaced, so that the reason itself never fails."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _where(tb: TracebackType | None, app_dir: str | None) -> str | None:
    """`app.py:12, in website`: the innermost frame in the module's
    directory, else the innermost frame."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return None
    own = [f for f in frames if app_dir and f.filename.startswith(app_dir + "/")]
    frame = (own or frames)[-1]
    path = frame.filename
    if app_dir and path.startswith(app_dir + "/"):
        path = path[len(app_dir) + 1 :]
    return f"{path}:{frame.lineno}, in {frame.name}"


class DefinitionError(Exception):
    """A mistake in a module's definition -- a parameter without a schema,
    a default of the wrong type, a bad name -- found when the module is
    built (its top level runs then), naming the property and parameter."""
