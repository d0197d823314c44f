"""The module as the host sees it: `module(...)` declares it, and the
`properties` export (init, describe, validate, apply) works on it.

`module(...)` binds the export class, `Properties`, into the namespace of
the file calling it (the app, `app.py`), where the build finds it: an app
needs nothing but `from consfig import ...`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from componentize_py_types import Err
from wit_world.imports import host as _host
from wit_world.imports import types as _types

from . import arguments
from .change import Change
from .errors import DefinitionError, Error, reason
from .form import Form, dumps, validate_elsewhere, validating
from .names import is_name
from .properties import REGISTERED, Property


class Module:
    """What `module(...)` declares, with the properties defined."""

    def __init__(self, name: str, doc: str, needs: list[str],
                 init: Callable[[], None] | None, app_dir: str | None) -> None:
        self.name = name
        self.doc = doc
        self.needs = needs
        self.init = init
        #: The directory of the app's files, to say where an exception was raised.
        self.app_dir = app_dir

    def property(self, full_name: str) -> Property:
        """The property with this full name, e.g. `file:has-content`."""
        module, colon, own = full_name.partition(":")
        if colon and module == self.name:
            for prop in REGISTERED:
                if prop.name == own:
                    return prop
        known = ", ".join(f"{self.name}:{p.name}" for p in REGISTERED)
        known = f"it has {known}" if known else "it has none"
        raise Error(f"module {self.name} has no property {full_name} ({known})")

    def validate(self, name: str, args: str) -> None:
        """Decode a form's arguments without effect; forms among them are
        validated too, with whichever module defines their property."""
        prop = self.property(name)
        values = arguments.parse(args)
        with validating(self._validate_nested):
            prop.decode(values)

    def _validate_nested(self, form: Form) -> None:
        try:
            if form.name.partition(":")[0] == self.name:
                self.validate(form.name, dumps(form.args))
            else:
                validate_elsewhere(form)
        except Error as e:
            raise e.context(form.name) from None

    def apply(self, name: str, args: str) -> Change:
        return self.property(name).call(arguments.parse(args), name)

    def describe(self) -> _types.ModuleInfo:
        return _types.ModuleInfo(
            name=self.name,
            doc=self.doc.strip(),
            needs=list(self.needs),
            properties=[
                _types.PropertyInfo(
                    name=f"{self.name}:{p.name}",
                    doc=p.doc,
                    params=[
                        _types.ParamInfo(
                            name=param.name,
                            schema=param.schema.text,
                            optional=param.optional,
                            default=param.default,
                        )
                        for param in p.params
                    ],
                )
                for p in REGISTERED
            ],
        )


_declared: Module | None = None


def module(name: str, doc: str = "", needs: Iterable[str] = (),
           init: Callable[[], None] | None = None) -> None:
    """Declare the module, in app.py: its name (every property's prefix,
    `NAME:property`), its doc, the grants it needs to work (`write:/srv`,
    `command:/usr/bin/systemctl reload nginx`; a deploy refuses to start
    when the consfig does not grant them), and a function to run once when
    it is loaded, before the first form."""
    global _declared
    if _declared is not None:
        raise DefinitionError(f"module {name}: a module is declared once, and {_declared.name} was")
    if not is_name(name):
        raise DefinitionError(
            f"module {name!r}: a module's name is lowercase letters, digits and single inner "
            "dashes, starting with a letter"
        )
    needs = list(needs)
    if not all(isinstance(n, str) for n in needs):
        raise DefinitionError(f"module {name}: needs are grants written as text, e.g. \"write:/srv\"")
    caller = sys._getframe(1).f_globals
    app_file = caller.get("__file__")
    app_dir = app_file.rsplit("/", 1)[0] if isinstance(app_file, str) and "/" in app_file else None
    _declared = Module(name, doc, needs, init, app_dir)
    caller["Properties"] = Properties


def _module() -> Module:
    if _declared is None:
        raise Error('no module is declared: app.py must call module("NAME", ...)')
    return _declared


def _app_dir() -> str | None:
    return _declared.app_dir if _declared else None


def _flush() -> None:
    """What the module printed reaches the form's output before the call returns."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


class Properties:
    """The `properties` export: errors become text, and any exception
    escaping a property fails its form (see `errors.reason`)."""

    def init(self) -> None:
        try:
            module = _module()
            if module.init is not None:
                module.init()
        except BaseException as e:
            raise Err(reason(e, _app_dir())) from None
        finally:
            _flush()

    def describe(self) -> _types.ModuleInfo:
        try:
            return _module().describe()
        except BaseException as e:
            # Describe cannot fail: say why before the call traps.
            _host.panicked(reason(e, _app_dir()))
            raise
        finally:
            _flush()

    def validate(self, name: str, args: str) -> None:
        try:
            _module().validate(name, args)
        except BaseException as e:
            raise Err(reason(e, _app_dir())) from None
        finally:
            _flush()

    def apply(self, name: str, args: str) -> _types.Change:
        try:
            change = _module().apply(name, args)
        except BaseException as e:
            raise Err(reason(e, _app_dir())) from None
        finally:
            _flush()
        return _types.Change.CHANGED if change is Change.CHANGED else _types.Change.UNCHANGED
