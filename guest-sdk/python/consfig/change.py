"""What applying a property did: `Change.CHANGED` or `Change.UNCHANGED`
(in check mode, what it would do)."""

from __future__ import annotations

import enum


class Change(enum.Enum):
    """What a property did to the host. `a | b` is changed when either is,
    to combine the steps of a property."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"

    @staticmethod
    def of(changed: bool) -> Change:
        """`Change.CHANGED` when `changed`, else `Change.UNCHANGED`."""
        return Change.CHANGED if changed else Change.UNCHANGED

    def __or__(self, other: Change) -> Change:
        if not isinstance(other, Change):
            return NotImplemented
        return Change.of(self is Change.CHANGED or other is Change.CHANGED)

    def __bool__(self) -> bool:
        return self is Change.CHANGED
