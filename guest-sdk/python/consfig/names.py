"""Module, property and parameter names, as the contract spells them.

A name is lowercase ASCII letters, digits and single inner dashes, starting
with a letter (`file`, `has-content`); a property's own name may also have
single inner dots (`standard-sources.list`). Python names become names in
kebab case: `home_dir` is `home-dir`.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def kebab(python_name: str) -> str:
    """`home_dir` -> `home-dir`."""
    return python_name.replace("_", "-")


def is_name(name: str) -> bool:
    """Whether `name` may name a module, or a parameter."""
    return _NAME.fullmatch(name) is not None


def is_property_part(name: str) -> bool:
    """Whether `name` may name a property within its module."""
    return all(is_name(part) for part in name.split("."))


def is_property_name(full: str) -> bool:
    """Whether `full` is `module:property`, both parts names."""
    module, colon, prop = full.partition(":")
    return bool(colon) and is_name(module) and is_property_part(prop)
