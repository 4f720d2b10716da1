"""What the data tool register adds to the platform (called from SecurityConfig.ready()):
its assessment subject kind, its menu entry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.navigation import NavItem, register_nav

from . import demo as _demo  # noqa: F401  (registers its seeder)
from .assessments import register as register_subject
from .permissions import sees_tools


def register() -> None:
    register_subject()
    register_nav(
        NavItem(
            "security_data_tools",
            _("Data tools"),
            "security:tool-list",
            sees_tools,
            order=86,
            group="security_group",
        )
    )
