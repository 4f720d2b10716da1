"""What supervision.rectification registers, called from AppConfig.ready(): menu entries, work
queues, the demo seeder and the beat tasks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from wuhan_pdr.kernel.navigation import NavItem, register_nav

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from . import tasks as _tasks  # noqa: F401  (celery tasks)
    from .permissions import is_city_reviewer, may_see_orders
    from .queues import register as register_queues

    register_nav(
        NavItem(
            "rectification",
            _("Rectification orders"),
            "supervision:orders",
            may_see_orders,
            order=20,
            group="supervision_group",
        )
    )
    register_nav(
        NavItem(
            "rectification_suggestions",
            _("Suggested orders"),
            "supervision:suggestions",
            is_city_reviewer,
            order=21,
            group="supervision_group",
        )
    )
    register_queues()
