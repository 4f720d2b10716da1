"""What supervision.inspections registers, called from AppConfig.ready(): its menu entry, work
queues and demo seeder."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from wuhan_pdr.kernel.navigation import NavItem, register_nav

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from .permissions import may_see_inspections
    from .queues import register as register_queues

    register_nav(
        NavItem(
            "inspections",
            _("Supervision inspections"),
            "supervision:inspections",
            may_see_inspections,
            order=25,
            group="supervision_group",
        )
    )
    register_queues()
