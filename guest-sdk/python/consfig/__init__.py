"""Write Consfig modules in Python.

A module is a directory holding `app.py` (other .py files beside it may be
imported), built into a Wasm component that runs in the same sandbox as a
module in any other language, each form on a fresh copy of it:

    from consfig import Change, Error, change, host, module, property

    module("site", doc="A small static site.")

    @property
    def page(path: str, title: str = "Hello") -> Change:
        \"\"\"The page at `path` says `title`.\"\"\"
        text = f"<h1>{title}</h1>\\n"
        if host.exists(path) and host.read_text(path) == text:
            return Change.UNCHANGED
        host.write_file(path, text, 0o644)
        return Change.CHANGED

`["site:page", "/srv/index.html"]` and
`["site:page", "/srv/index.html", {"title": "Hi"}]` are its forms. A
property's name is its function's in kebab case, its doc the docstring and
its parameters the function's: each annotation is the schema its argument
must match (see `consfig.schema`), and the trailing parameters with a
default or annotated `T | None` may be left out or given by name.

The app's top level runs when the module is built (the build snapshots the
interpreter with the app imported), so `module(...)` and the decorators run
then; host calls work only in properties and in `module(init=...)`.
"""

from __future__ import annotations

from . import host
from .change import Change
from .command import Command, Output, change, query
from .errors import DefinitionError, Error
from .export import Properties, module
from .form import Form, apply, subdeploy
from .properties import property

__all__ = [
    "Change",
    "Command",
    "DefinitionError",
    "Error",
    "Form",
    "Output",
    "Properties",
    "apply",
    "change",
    "host",
    "module",
    "property",
    "query",
    "subdeploy",
]
