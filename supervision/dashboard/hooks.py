"""What supervision.dashboard registers: its menu entry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from supervision.evaluation.permissions import sees_all
    from wuhan_pdr.kernel.navigation import NavItem, register_nav

    register_nav(
        NavItem(
            "supervision_dashboard",
            _("Supervision dashboard"),
            "supervision:dashboard",
            sees_all,
            order=5,
            group="supervision_group",
        )
    )
