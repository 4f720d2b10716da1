"""What supervision.disputes registers: its menu entry, demo seeder and beat task, the
receiver of sharing's `coordination_asked` signal (opens the linked dispute) and the disputes
panels on share request, objection and revenue pages."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy


def register() -> None:
    from authorization.sharing.signals import coordination_asked
    from wuhan_pdr.kernel.navigation import NavItem, register_nav
    from wuhan_pdr.kernel.panels import register_record_panel

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from . import panels
    from . import tasks as _tasks  # noqa: F401  (celery tasks)
    from .permissions import may_see_disputes
    from .services import on_coordination_asked

    coordination_asked.connect(on_coordination_asked, dispatch_uid="supervision.disputes")
    register_record_panel("sharing.request", panels.share_request_panel)
    register_record_panel("objections.objection", panels.objection_panel)
    register_record_panel("revenue.revenue", panels.revenue_panel)
    register_record_panel("revenue.statement", panels.statement_panel)

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
