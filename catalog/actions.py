"""Actions later chapters offer on a catalog entry's page, without the catalog importing them.

The resource page shows a button for each registered action the viewer may take (e.g.
aggregation's "Raise an objection", shown only to those who may object to that resource), so
a button never leads a user to a refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

from .models import Resource


@dataclass(frozen=True)
class ResourceAction:
    """A button on a resource's page: `label`, `url(resource)`, and `allowed(user, resource)`."""

    key: str
    label: str | Promise
    url: Callable[[Resource], str]
    allowed: Callable[[object, Resource], bool]


_ACTIONS: dict[str, ResourceAction] = {}


def register_resource_action(action: ResourceAction) -> ResourceAction:
    """Offer `action` on every resource page (registering the same key again replaces it)."""
    _ACTIONS[action.key] = action
    return action


def resource_actions_for(user, resource: Resource) -> list[dict]:
    """The actions `user` may take on `resource`, as `{"label", "url"}` for the template."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        {"label": a.label, "url": a.url(resource)}
        for a in _ACTIONS.values()
        if a.allowed(user, resource)
    ]
