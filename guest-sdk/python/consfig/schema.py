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
sees it; decoding checks again, in the runtime's words (so a module never
depends on it), and makes Forms of forms.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from .errors import Error
from .form import Form, decoded


class Mismatch(Error):
    """A value not of its schema: where in the argument (`item 2`, `key "port"`),
    what was expected and what it was -- in the runtime's words."""

    def __init__(self, expected: str, got: str, place: tuple[str, ...] = ()) -> None:
        self.expected = expected
        self.got = got
        self.place = place
        super().__init__("".join(f"{p}: " for p in place) + f"expected {expected}, got {got}")

    def within(self, place: str) -> Mismatch:
        return Mismatch(self.expected, self.got, (place, *self.place))


class Schema:
    """A decoder for one annotation, and its schema text."""

    text: str
    #: Whether it takes `null`: a left-out argument without a default is then None.
    nullable = False

    def decode(self, value: Any) -> Any:
        raise NotImplementedError

    def expected(self) -> str:
        """What it takes, in words: `a list of strings`."""
        raise NotImplementedError

    def plural(self) -> str:
        return f"values that are {self.expected()}"

    def same_kind(self, value: Any) -> bool:
        """Whether a value of this kind of JSON could be of the schema."""
        return False

    def mismatch(self, value: Any) -> Mismatch:
        return Mismatch(self.expected(), kind(value))


class _Scalar(Schema):
    def __init__(self, text: str, expected: str, plural: str, accepts: typing.Callable[[Any], bool],
                 convert: typing.Callable[[Any], Any] = lambda v: v) -> None:
        self.text = text
        self._expected = expected
        self._plural = plural
        self._accepts = accepts
        self._convert = convert

    def expected(self) -> str:
        return self._expected

    def plural(self) -> str:
        return self._plural

    def decode(self, value: Any) -> Any:
        if not self._accepts(value):
            raise self.mismatch(value)
        return self._convert(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


STRING = _Scalar("string", "a string", "strings", lambda v: isinstance(v, str))
INTEGER = _Scalar("integer", "an integer", "integers", _is_int)
NUMBER = _Scalar("number", "a number", "numbers", lambda v: _is_int(v) or isinstance(v, float), float)
BOOL = _Scalar("bool", "a boolean", "booleans", lambda v: isinstance(v, bool))
ANY = _Scalar("any", "any value", "values", lambda v: True)
ANY.nullable = True


class _Form(Schema):
    text = "form"

    def expected(self) -> str:
        return "a form (an array starting with a property name)"

    def plural(self) -> str:
        return "forms"

    def same_kind(self, value: Any) -> bool:
        return isinstance(value, list)

    def decode(self, value: Any) -> Any:
        try:
            form = Form.from_json(value) if isinstance(value, list) else None
        except Error:
            form = None
        if form is None:
            raise self.mismatch(value)
        return decoded(form)


FORM = _Form()


class _List(Schema):
    def __init__(self, item: Schema) -> None:
        self.item = item
        self.text = f"list<{item.text}>"

    def expected(self) -> str:
        return f"a list of {self.item.plural()}"

    def plural(self) -> str:
        return f"lists ({self.expected()})"

    def same_kind(self, value: Any) -> bool:
        return isinstance(value, list)

    def decode(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise self.mismatch(value)
        decoded_items = []
        for i, item in enumerate(value):
            try:
                decoded_items.append(self.item.decode(item))
            except Mismatch as m:
                raise m.within(f"item {i + 1}") from None
        return decoded_items


class _Object(Schema):
    def __init__(self, values: Schema | None) -> None:
        self.values = values
        self.text = "object" if values is None else f"object<{values.text}>"

    def expected(self) -> str:
        return "an object" if self.values is None else f"an object of {self.values.plural()}"

    def plural(self) -> str:
        return f"objects ({self.expected()})"

    def same_kind(self, value: Any) -> bool:
        return isinstance(value, dict)

    def decode(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise self.mismatch(value)
        if self.values is None:
            return value
        decoded_values = {}
        for key, item in value.items():
            try:
                decoded_values[key] = self.values.decode(item)
            except Mismatch as m:
                raise m.within(f"key {json.dumps(key, ensure_ascii=False)}") from None
        return decoded_values


class _Optional(Schema):
    nullable = True

    def __init__(self, inner: Schema) -> None:
        self.inner = inner
        self.text = f"optional<{inner.text}>"

    def expected(self) -> str:
        return f"{self.inner.expected()} or null"

    def decode(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.inner.decode(value)
        except Mismatch as m:
            # Said of the value itself, the mismatch names null too.
            raise (self.mismatch(value) if not m.place else m) from None


class _Union(Schema):
    def __init__(self, options: list[Schema]) -> None:
        self.options = options
        self.text = "|".join(o.text for o in options)
        self.nullable = any(o.nullable for o in options)

    def expected(self) -> str:
        return " or ".join(o.expected() for o in self.options)

    def decode(self, value: Any) -> Any:
        for option in self.options:
            try:
                return option.decode(value)
            except Mismatch:
                continue
        # One alternative of the value's own kind says more than "none of them".
        alike = [o for o in self.options if o.same_kind(value)]
        if len(alike) == 1:
            return alike[0].decode(value)
        raise self.mismatch(value)


class _Custom(Schema):
    def __init__(self, cls: type, text: str) -> None:
        self.cls = cls
        self.text = text

    def expected(self) -> str:
        return f"a {self.cls.__name__} ({self.text})"

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


def kind(value: Any) -> str:
    """What kind of JSON value `value` is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
