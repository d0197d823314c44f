"""Which argument of a form goes to which parameter of a property.

Required parameters are given by position. Optional ones (trailing
parameters with a default, or annotated `T | None`) are given by position
too, or by name in a JSON object that ends the form:
`["user:exists", "ada", {"shell": "/bin/zsh"}]`. The last argument is that
object exactly when the property has optional parameters, the last
argument is a JSON object, and every required argument comes before it. So
an object given for a required parameter is always that parameter, and an
optional parameter whose value is itself an object is given by name:
`{"settings": {...}}`. (The same rules as the Rust SDK's, with the same
messages.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import Error
from .schema import Schema


@dataclass(frozen=True)
class Param:
    """One parameter of a property, in the order of the function's."""

    #: The name a form gives it by: the Python name in kebab case.
    name: str
    schema: Schema
    #: Whether a form may leave it out.
    optional: bool
    #: The value a left-out argument takes, as JSON text; None for none
    #: (the argument is then None).
    default: str | None


def parse(args: str) -> list[Any]:
    """The JSON text the host passes as a form's arguments."""
    try:
        values = json.loads(args)
    except ValueError as e:
        raise Error(f"the arguments are not valid JSON: {e}") from None
    if not isinstance(values, list):
        raise Error(f"the arguments must be a JSON array, not {_kind(values)}")
    return values


# Where a parameter's value is in a form: by position, by name, or missing.
POSITIONAL, NAMED, MISSING = "positional", "named", "missing"


def arrange(params: list[Param], args: list[Any]) -> list[tuple[str, Any]]:
    """(how, value) for each parameter. Refuses more positional arguments
    than parameters, unknown names, names of required parameters, and a
    parameter given both ways."""
    positional, named = _split_named(params, args)
    check_count(params, len(positional))
    given: list[tuple[str, Any]] = [
        (POSITIONAL, positional[i]) if i < len(positional) else (MISSING, None)
        for i in range(len(params))
    ]
    for key, value in (named or {}).items():
        index = next((i for i, p in enumerate(params) if p.name == key), None)
        if index is None:
            raise Error(f"unknown keyword argument {json.dumps(key)}: {_keywords(params)}")
        number = index + 1
        if not params[index].optional:
            raise Error(f"argument {number} ({key}) is required: give it by position, not by name")
        if given[index][0] == POSITIONAL:
            raise Error(f"argument {number} ({key}) is given twice: by position and by name")
        given[index] = (NAMED, value)
    return given


def decode(params: list[Param], index: int, how: str, value: Any) -> Any:
    """The value of parameter `index`, decoded from where `arrange` found it."""
    param = params[index]
    number = index + 1
    if how == MISSING:
        if param.default is not None:
            return param.schema.decode(json.loads(param.default))
        if param.schema.nullable:
            return param.schema.decode(None)
        raise Error(f"missing argument {number} ({param.name})")
    try:
        return param.schema.decode(value)
    except Error as e:
        where = f"argument {number} ({param.name})" if how == POSITIONAL else f"keyword argument {param.name}"
        raise e.context(where) from None


def _split_named(params: list[Param], args: list[Any]) -> tuple[list[Any], dict[str, Any] | None]:
    required = sum(1 for p in params if not p.optional)
    takes_names = required < len(params)
    if takes_names and args and isinstance(args[-1], dict) and len(args) - 1 >= required:
        return args[:-1], args[-1]
    return args, None


def _keywords(params: list[Param]) -> str:
    names = [p.name for p in params if p.optional]
    return f"it takes {', '.join(names)}" if names else "this property takes none"


def check_count(params: list[Param], given: int) -> None:
    """Refuse more positional arguments than parameters."""
    if given <= len(params):
        return
    names = ", ".join(p.name for p in params)
    if not params:
        expected = "none"
    elif any(p.optional for p in params):
        expected = f"at most {len(params)} ({names})"
    else:
        expected = f"{len(params)} ({names})"
    raise Error(f"too many arguments: expected {expected}, got {given}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
