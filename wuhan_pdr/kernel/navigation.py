"""The portal's navigation: each entry says who may see it, so the menu shows a role only
what it may use. Chapter apps add entries with `register_nav()` in AppConfig.ready().

Entries may belong to a group (`register_nav_group`): the menu bar then shows the group as
one drop-down holding the entries the user may see, or the entry itself when only one is
visible. `menu_for(user, path)` builds the bar and marks where the page belongs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.urls import reverse
from django.utils.functional import Promise

Visible = Callable[[object], bool]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    visible: Visible
    order: int = 100
    group: str = ""

    @property
    def url(self) -> str:
        return _reverse(self.url_name)


_NAV: dict[str, NavItem] = {}


@lru_cache(maxsize=256)
def _reverse(url_name: str) -> str:
    # The menu is drawn twice on every page and checked against the path: reverse once.
    return reverse(url_name)


def register_nav(item: NavItem) -> None:
    _NAV[item.key] = item


def nav_for(user) -> list[NavItem]:
    return sorted((i for i in _NAV.values() if i.visible(user)), key=lambda i: (i.order, i.key))


@dataclass(frozen=True)
class NavGroup:
    """A drop-down of the menu bar. Entries join it by naming it (`NavItem.group`) or by
    being listed in `members` (so the platform can arrange the bar in one place)."""

    key: str
    label: str | Promise
    order: int = 100
    members: tuple[str, ...] = ()


_GROUPS: dict[str, NavGroup] = {}


def register_nav_group(group: NavGroup) -> None:
    _GROUPS[group.key] = group


@dataclass
class MenuEntry:
    """One place on the menu bar: a link, or a group of links (`children`)."""

    label: str | Promise
    url: str = ""
    current: bool = False
    children: list[MenuEntry] | None = None


def _is_current(url: str, path: str) -> bool:
    return path == "/" if url == "/" else path.startswith(url)


def menu_for(user, path: str = "") -> list[MenuEntry]:
    """The menu bar for `user` on the page at `path`, groups folded into drop-downs."""
    items = nav_for(user)
    # The longest matching URL is the current page's entry (e.g. /catalog/mine/ over /catalog/).
    current_url = max((i.url for i in items if _is_current(i.url, path)), key=len, default=None)
    placed: list[tuple[tuple, MenuEntry]] = []
    grouped: dict[str, list[NavItem]] = {}
    member_of = {m: g.key for g in _GROUPS.values() for m in g.members}
    for item in items:
        group_key = item.group if item.group in _GROUPS else member_of.get(item.key)
        if group_key:
            grouped.setdefault(group_key, []).append(item)
        else:
            entry = MenuEntry(item.label, item.url, item.url == current_url)
            placed.append(((item.order, item.key), entry))
    for key, members in grouped.items():
        group = _GROUPS[key]
        if len(members) == 1:
            only = members[0]
            entry = MenuEntry(only.label, only.url, only.url == current_url)
        else:
            children = [MenuEntry(i.label, i.url, i.url == current_url) for i in members]
            entry = MenuEntry(group.label, children=children)
            entry.current = any(c.current for c in children)
        placed.append(((group.order, key), entry))
    return [entry for _order, entry in sorted(placed, key=lambda p: p[0])]


def everyone(user) -> bool:
    return True


def signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))
