"""Forms -- `["file:has-content", "/etc/motd", "hi\\n"]` -- built in Python,
`apply` to have the host apply one with whichever module defines it, and
`subdeploy` to have forms applied in other contexts (a chroot, another
user). This is how a property composes others, other modules' included.

A form is also an argument like any other: a parameter annotated `Form`
(or `list[Form]`) is given a JSON array, and each form in it is validated
(property and arguments) when the form holding it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from wit_world.imports import forms as _forms
from wit_world.imports import types as _types
from componentize_py_types import Err

from .change import Change
from .errors import Error
from .names import is_property_name, kebab


class Form:
    """A property's full name and its arguments.

    `Form("user:exists", "ada", shell="/bin/zsh")` is
    `["user:exists", "ada", {"shell": "/bin/zsh"}]`: keyword arguments are
    given by name (in kebab case) in an object ending the form, which is how
    a form gives a property's optional parameters by name.
    """

    __slots__ = ("name", "args")

    def __init__(self, name: str, *args: Any, **named: Any) -> None:
        self.name: str = name
        self.args: list[Any] = list(args)
        if named:
            self.args.append({kebab(key): value for key, value in named.items()})

    @staticmethod
    def from_json(value: Any) -> Form:
        """A form from its JSON value (or JSON text): an array whose first
        element is the property's full name, `module:property`."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise Error(f"a form must be JSON: {e}") from None
        if not (isinstance(value, list) and value and isinstance(value[0], str)):
            shown = _shorten(json.dumps(value, ensure_ascii=False, separators=(",", ":")), 60)
            raise Error(
                "a form is a JSON array whose first element is a property name, "
                f'like ["file:has-content", "/etc/motd", "hi\\n"]; got {shown}'
            )
        name = value[0]
        if not is_property_name(name):
            raise Error(
                f"{json.dumps(name)} is not a property name: expected module:property, "
                'such as "file:has-content"'
            )
        form = Form(name)
        form.args = list(value[1:])
        return form

    def to_json(self) -> list[Any]:
        """The form as a JSON value: `["file:absent", "/tmp/x"]`."""
        return [self.name, *self.args]

    def __str__(self) -> str:
        """The form as JSON text, as the host takes it."""
        return dumps(self.to_json())

    def __repr__(self) -> str:
        return f"Form({str(self)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Form) and (self.name, self.args) == (other.name, other.args)

    def __hash__(self) -> int:
        return hash(str(self))

    def apply(self) -> Change:
        """Apply this form on the host; see `apply`."""
        return apply(self)


def dumps(value: Any) -> str:
    """JSON text of a value, forms among it written as their arrays."""

    def form_as_json(item: Any) -> Any:
        if isinstance(item, Form):
            return item.to_json()
        raise TypeError(f"{type(item).__name__} {item!r} cannot be made JSON")

    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=form_as_json
    )


def _text(form: Form | str) -> str:
    """A form as the host takes it: a Form, or its JSON text as is."""
    if isinstance(form, Form):
        try:
            return str(form)
        except (TypeError, ValueError) as e:
            raise Error(f"{form.name}: an argument cannot be made JSON: {e}") from None
    return form


def _change(change: _types.Change) -> Change:
    return Change.CHANGED if change == _types.Change.CHANGED else Change.UNCHANGED


def apply(form: Form | str) -> Change:
    """Apply a form with a property of any module the host has loaded, and
    return what it did; its errors come back prefixed with the form's name.

    The form runs with the grants of the module that defines its property
    and of the module applying it: what neither may do, the form may not.
    A form of the caller's own module runs in another, fresh instance of
    it (to run your own property here, call its function).
    """
    text = _text(form)
    name = form.name if isinstance(form, Form) else _name_of(text)
    try:
        return _change(_forms.apply(text))
    except Err as e:
        raise Error(f"{name}: {e.value}") from None


def subdeploy(contexts: list[str], forms: list[Form | str]) -> Change:
    """Apply `forms` in a subdeployment: a child process of the host that
    enters the `contexts` first, in order, each form on a fresh copy of the
    modules. A context is `chroot:PATH`, `chroot-bare:PATH` or
    `setuid:USER` (the module needs `subdeploy` and a `context:` grant for
    each). Every form runs even when one before it failed; changed when any
    changed; an Error when a context cannot be entered or any form failed.
    """
    if isinstance(contexts, str) or isinstance(forms, (str, Form)):
        raise Error('subdeploy takes a list of contexts and a list of forms: subdeploy(["chroot:/srv"], [form])')
    try:
        return _change(_forms.subdeploy(list(contexts), [_text(f) for f in forms]))
    except Err as e:
        raise Error(str(e.value)) from None


def _name_of(text: str) -> str:
    try:
        return Form.from_json(text).name
    except Error:
        return "form"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# Validating forms among a form's arguments: while a form is validated, each
# Form decoded from its arguments is validated too (by `_validator`).
_validator: Callable[[Form], None] | None = None


@contextmanager
def validating(validator: Callable[[Form], None]) -> Iterator[None]:
    """While in this block, validate every Form decoded with `validator`."""
    global _validator
    outer = _validator
    _validator = validator
    try:
        yield
    finally:
        _validator = outer


def decoded(form: Form) -> Form:
    """A form just decoded from an argument: validated, if a validation is
    under way (with the module defining its property)."""
    if _validator is not None:
        _validator(form)
    return form


def validate_elsewhere(form: Form) -> None:
    """Validate a form of another module, through the host."""
    try:
        _forms.validate_form(str(form))
    except Err as e:
        raise Error(str(e.value)) from None
