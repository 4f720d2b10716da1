"""What supervision.disputes registers: its menu entry, demo seeder and beat task."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy


def register() -> None:
    from wuhan_pdr.kernel.navigation import NavItem, register_nav

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from . import tasks as _tasks  # noqa: F401  (celery tasks)
    from .permissions import may_see_disputes

    register_nav(
        NavItem(
            "disputes",
            pgettext_lazy("dispute", "Disputes"),
            "supervision:disputes",
            may_see_disputes,
            order=30,
            group="supervision_group",
        )
    )
