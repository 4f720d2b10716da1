"""Who must know that a masking changed.

The datastore's read functions (security/zones.py) mask in SQL with the rules they were made
with; when a rule, a data element's rule or a published version's items change, the tables
that use them must get new functions. `security` imports no chapter, so the chapters register
an observer here (`register_masking_observer`); the services that change a masking call
`masking_changed(...)` inside their transaction, and each observer does its part in that
same transaction (the aggregation app queues a durable job that remakes the affected tables'
functions: it is sent when the change commits, and never when it rolls back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MaskingChange:
    """What changed: masking rules (their ids), data elements whose rule was set (ids), and
    resources whose published items (with their rules) changed (ids)."""

    rule_ids: frozenset[int] = frozenset()
    element_ids: frozenset[int] = frozenset()
    resource_ids: frozenset[int] = frozenset()
    acting_user: object = None

    def __bool__(self) -> bool:
        return bool(self.rule_ids or self.element_ids or self.resource_ids)


MaskingObserver = Callable[[MaskingChange], None]
_OBSERVERS: dict[str, MaskingObserver] = {}


def register_masking_observer(key: str, observer: MaskingObserver) -> None:
    """Call `observer(change)` on every masking change (registered once per key, from an
    AppConfig.ready())."""
    _OBSERVERS[key] = observer


def masking_observers() -> list[MaskingObserver]:
    return [_OBSERVERS[k] for k in sorted(_OBSERVERS)]


def _ids(values: Iterable) -> frozenset[int]:
    return frozenset(int(getattr(v, "pk", v)) for v in values if v is not None)


def masking_changed(
    *,
    rules: Iterable = (),
    elements: Iterable = (),
    resources: Iterable = (),
    acting_user=None,
) -> MaskingChange:
    """Tell every observer (in the caller's transaction) that these rules, elements or
    resources (objects or ids) mask differently now. Returns the change."""
    change = MaskingChange(
        rule_ids=_ids(rules),
        element_ids=_ids(elements),
        resource_ids=_ids(resources),
        acting_user=acting_user,
    )
    if change:
        for observer in masking_observers():
            observer(change)
    return change
