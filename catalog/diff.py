"""Field-by-field differences between two versions of a catalog entry, items included."""

from __future__ import annotations

from dataclasses import dataclass

from .models import DataItem, ResourceVersion

VERSION_DIFF_FIELDS = ResourceVersion.CONTENT_FIELDS
# Items are matched by name, so the name itself is not compared.
ITEM_DIFF_FIELDS = tuple(f for f in DataItem.CONTENT_FIELDS if f != "name")


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ItemChange:
    name: str
    kind: str  # "added", "removed", "changed"
    changes: tuple[Change, ...] = ()


def _display(obj, field: str) -> str:
    f = obj._meta.get_field(field)
    if f.choices:
        return str(getattr(obj, f"get_{field}_display")())
    value = getattr(obj, field)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return "" if value is None else str(value)


def _label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def version_diff(
    old: ResourceVersion, new: ResourceVersion
) -> tuple[list[Change], list[ItemChange]]:
    """What changed from `old` to `new` (both with items prefetched)."""
    fields = [
        Change(_label(ResourceVersion, f), _display(old, f), _display(new, f))
        for f in VERSION_DIFF_FIELDS
        if _display(old, f) != _display(new, f)
    ]
    old_themes = ", ".join(sorted(str(t) for t in old.themes.all()))
    new_themes = ", ".join(sorted(str(t) for t in new.themes.all()))
    if old_themes != new_themes:
        fields.append(Change(_label(ResourceVersion, "themes"), old_themes, new_themes))
    old_items = {i.name: i for i in old.items.all()}
    new_items = {i.name: i for i in new.items.all()}
    items: list[ItemChange] = []
    for name, item in new_items.items():
        if name not in old_items:
            items.append(ItemChange(name, "added"))
            continue
        changes = tuple(
            Change(_label(DataItem, f), _display(old_items[name], f), _display(item, f))
            for f in ITEM_DIFF_FIELDS
            if _display(old_items[name], f) != _display(item, f)
        )
        if changes:
            items.append(ItemChange(name, "changed", changes))
    items += [ItemChange(name, "removed") for name in old_items if name not in new_items]
    return fields, items
