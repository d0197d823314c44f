"""`@property`: a typed Python function as a property of the module.

Its name is the function's in kebab case (`has_content` is `has-content`)
unless given (`@property(name="sources.list")`), its doc the docstring, and
its parameters the function's, each with the schema of its annotation (see
`schema`) and, when it has one, its default as JSON. What is wrong with a
definition stops the build, naming the function and parameter.
"""

from __future__ import annotations

import inspect
import re
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from . import arguments, schema
from .arguments import Param
from .change import Change
from .errors import DefinitionError, Error
from .form import dumps
from .names import is_property_part, kebab

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Property:
    """One property: its name within the module, doc, parameters and function."""

    name: str
    doc: str
    params: list[Param]
    function: Callable[..., Any]

    def decode(self, args: list[Any]) -> list[Any]:
        """The function's arguments, decoded from a form's."""
        given = arguments.arrange(self.params, args)
        return [arguments.decode(self.params, i, how, value) for i, (how, value) in enumerate(given)]

    def call(self, args: list[Any], full_name: str) -> Change:
        """Decode the arguments and run the function."""
        result = self.function(*self.decode(args))
        if not isinstance(result, Change):
            raise Error(
                f"{full_name} returned {result!r}, not a Change: "
                "return Change.CHANGED or Change.UNCHANGED"
            )
        return result


#: Every property defined, in order.
REGISTERED: list[Property] = []


@overload
def property(function: F, /) -> F: ...
@overload
def property(*, name: str | None = None) -> Callable[[F], F]: ...


def property(function: Any = None, /, *, name: str | None = None) -> Any:
    """Make a function a property of the module: `@property`, or
    `@property(name="...")` to name it otherwise than the function. The
    function stays what it was, so other properties may call it."""
    if function is None:
        return lambda f: property(f, name=name)
    described = _describe(function, name)
    if any(p.name == described.name for p in REGISTERED):
        raise DefinitionError(
            f"property {function.__qualname__}: the module has a property named "
            f"{described.name} already"
        )
    REGISTERED.append(described)
    # The export, where the build looks for it, even before (or without)
    # `module(...)`: a module that declares none then says so when loaded.
    from .export import Properties

    function.__globals__.setdefault("Properties", Properties)
    return function


def _describe(function: Callable[..., Any], name: str | None) -> Property:
    code = function.__code__
    # The build names the app's directories /0, /1, ...: the file as the author knows it.
    file = re.sub(r"^/[0-9]+/", "", code.co_filename)
    where = f"property {function.__qualname__} ({file}:{code.co_firstlineno})"
    own = name if name is not None else kebab(function.__name__)
    if not is_property_part(own):
        raise DefinitionError(
            f"{where}: {own!r} is no property name: lowercase letters, digits and single "
            "inner dashes (or dots), starting with a letter; name it with "
            '@property(name="...")'
        )
    try:
        hints = typing.get_type_hints(function)
    except Exception as e:
        raise DefinitionError(f"{where}: its annotations do not resolve: {e}") from None
    described = [_param(where, p, hints) for p in inspect.signature(function).parameters.values()]
    # Trailing parameters that have a default or are `T | None` may be left out.
    params: list[Param] = []
    optional = True
    for param, has_default in reversed(described):
        optional = optional and (has_default or param.schema.text.startswith("optional<"))
        params.insert(0, Param(param.name, param.schema, optional, param.default))
    return Property(own, inspect.getdoc(function) or "", params, function)


def _param(where: str, p: inspect.Parameter, hints: dict[str, Any]) -> tuple[Param, bool]:
    """The parameter (not yet known optional), and whether it has a default."""
    at = f"{where}, parameter {p.name}"
    if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
        raise DefinitionError(
            f"{at}: *args, **kwargs and keyword-only parameters take no part of a form; "
            "give each argument a parameter of its own"
        )
    name = kebab(p.name.strip("_")) if p.name.startswith("_") else kebab(p.name)
    try:
        kind = schema.of(hints.get(p.name, Any))
    except schema.Unsupported as e:
        raise DefinitionError(f"{at}: {e}") from None
    default: str | None = None
    if p.default is not p.empty and p.default is None and not kind.nullable:
        raise DefinitionError(
            f"{at}: the default None is no value of {kind.text}: annotate it `... | None`"
        )
    if p.default is not p.empty and p.default is not None:
        try:
            default = dumps(p.default)
            json.loads(default)
        except (TypeError, ValueError) as e:
            raise DefinitionError(f"{at}: the default {p.default!r} cannot be made JSON: {e}") from None
        try:
            kind.decode(json.loads(default))
        except Error as e:
            raise DefinitionError(f"{at}: the default {default} is no value of {kind.text}: {e}") from None
    return Param(name, kind, False, default), p.default is not p.empty
