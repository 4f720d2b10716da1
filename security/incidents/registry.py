"""How an incident names the resources it affected without `security` importing the catalog:
the catalog registers a lookup from a resource code to its name and page."""

from __future__ import annotations

from collections.abc import Callable

# code -> (name, url) or None when there is no such resource.
ResourceLookup = Callable[[str], "tuple[str, str] | None"]

_LOOKUP: list[ResourceLookup] = []


def register_resource_lookup(lookup: ResourceLookup) -> None:
    _LOOKUP[:] = [lookup]


def resource_lookup(code: str) -> tuple[str, str] | None:
    """(name, url) of the resource with `code`; ("", "") when nobody registered a lookup (the
    code is then kept as written); None when the lookup knows no such resource."""
    if not _LOOKUP:
        return ("", "")
    return _LOOKUP[0](code)
