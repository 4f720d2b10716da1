"""The portal's navigation: each entry says who may see it, so the menu shows a role only
what it may use. Chapter apps add entries with `register_nav()` in AppConfig.ready()."""

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


def everyone(user) -> bool:
    return True


def signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))
