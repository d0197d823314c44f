"""A parameter's annotation as Consfig's schema, and decoding a form's JSON
argument into the Python value the annotation says.

| annotation | schema | the function gets |
|---|---|---|
| `str`, `int`, `float`, `bool` | `string`, `integer`, `number`, `bool` | that |
| `list[T]` (`list`: `list[Any]`) | `list<T>` | a list |
| `dict[str, T]` (`dict`: any object) | `object<T>` (`object`) | a dict |
| `Form` | `form` | a `Form` (validated when the form holding it is) |
| `Any`, or none | `any` | the JSON value |
| `T | None`, `Optional[T]` | `optional<T>` | T, or None for `null` |
| `A | B` | `A|B` | the first that decodes |
| a class with `consfig_schema` and `from_json` | its `consfig_schema` | what `from_json(value)` returns |

The runtime checks every argument against the schema before the module
sees it; decoding checks again (a form applied by another module's
property arrives the same way), and makes Forms of forms.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from .errors import Error
from .form import Form, decoded


class Schema:
    """A decoder for one annotation, and its schema text."""

    text: str
    #: What a value must be, for errors: `a string`.
    expected: str
    #: Whether it takes `null`: a left-out argument without a default is then None.
    nullable = False

    def decode(self, value: Any) -> Any:
        raise NotImplementedError

    def mismatch(self, value: Any) -> Error:
        return Error(f"invalid type: {shown(value)}, expected {self.expected}")


class _Scalar(Schema):
    def __init__(self, text: str, expected: str, accepts: typing.Callable[[Any], bool],
                 convert: typing.Callable[[Any], Any] = lambda v: v) -> None:
        self.text = text
        self.expected = expected
        self._accepts = accepts
        self._convert = convert

    def decode(self, value: Any) -> Any:
        if not self._accepts(value):
            raise self.mismatch(value)
        return self._convert(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


STRING = _Scalar("string", "a string", lambda v: isinstance(v, str))
INTEGER = _Scalar("integer", "an integer", _is_int)
NUMBER = _Scalar("number", "a number", lambda v: _is_int(v) or isinstance(v, float), float)
BOOL = _Scalar("bool", "a boolean", lambda v: isinstance(v, bool))
ANY = _Scalar("any", "any value", lambda v: True)
ANY.nullable = True


class _Form(Schema):
    text = "form"
    expected = "a form"

    def decode(self, value: Any) -> Any:
        return decoded(Form.from_json(value))


FORM = _Form()


class _List(Schema):
    def __init__(self, item: Schema) -> None:
        self.item = item
        self.text = f"list<{item.text}>"
        self.expected = f"an array of {item.text}"

    def decode(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise self.mismatch(value)
        return [self.item.decode(v) for v in value]


class _Object(Schema):
    def __init__(self, values: Schema | None) -> None:
        self.values = values
        self.text = "object" if values is None else f"object<{values.text}>"
        self.expected = "an object" if values is None else f"an object of {values.text}"

    def decode(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise self.mismatch(value)
        if self.values is None:
            return value
        return {k: self.values.decode(v) for k, v in value.items()}


class _Optional(Schema):
    nullable = True

    def __init__(self, inner: Schema) -> None:
        self.inner = inner
        self.text = f"optional<{inner.text}>"
        self.expected = f"{inner.expected} or null"

    def decode(self, value: Any) -> Any:
        return None if value is None else self.inner.decode(value)


class _Union(Schema):
    def __init__(self, options: list[Schema]) -> None:
        self.options = options
        self.text = "|".join(o.text for o in options)
        self.expected = " or ".join(o.expected for o in options)

    def decode(self, value: Any) -> Any:
        for option in self.options:
            try:
                return option.decode(value)
            except Error:
                continue
        raise self.mismatch(value)


class _Custom(Schema):
    def __init__(self, cls: type, text: str) -> None:
        self.cls = cls
        self.text = text
        self.expected = f"a {cls.__name__}"

    def decode(self, value: Any) -> Any:
        return self.cls.from_json(value)


class Unsupported(Exception):
    """An annotation with no schema; the message says which."""


_SCALARS: dict[Any, Schema] = {str: STRING, int: INTEGER, float: NUMBER, bool: BOOL}


def of(annotation: Any) -> Schema:
    """The schema of an annotation; Unsupported when it has none."""
    if annotation is Any or annotation is typing.Any:
        return ANY
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation is Form:
        return FORM
    origin = typing.get_origin(annotation) or annotation
    arguments = typing.get_args(annotation)
    if origin is list:
        return _List(of(arguments[0]) if arguments else ANY)
    if origin is dict:
        if not arguments:
            return _Object(None)
        key, value = arguments
        if key is not str:
            raise Unsupported(f"{_show(annotation)}: a JSON object's keys are str")
        values = of(value)
        return _Object(None if values is ANY else values)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in arguments if a is not type(None)]
        inner = of(options[0]) if len(options) == 1 else _Union([of(a) for a in options])
        return _Optional(inner) if len(options) < len(arguments) else inner
    if isinstance(annotation, type) and hasattr(annotation, "from_json"):
        text = getattr(annotation, "consfig_schema", None)
        if not isinstance(text, str):
            raise Unsupported(
                f"{annotation.__name__} has from_json but no consfig_schema: "
                "give it the schema of the JSON it takes, e.g. consfig_schema = \"string\""
            )
        return _Custom(annotation, text)
    raise Unsupported(
        f"{_show(annotation)} has no schema: annotate with str, int, float, bool, "
        "list[T], dict[str, T], Form, Any, T | None, A | B, or a class with "
        "consfig_schema and from_json"
    )


def _show(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def shown(value: Any) -> str:
    """A JSON value as decoding errors show it: integer `42`, string "x"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{json.dumps(value)}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return f"string {text if len(text) <= 60 else text[:60] + '…'}"
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__
