"""What authorization.revenue registers with the kernel and other apps, called from
AppConfig.ready(): menu entries, the bureau's work queue and the demo seeder."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from django.urls import reverse

    from wuhan_pdr.accounts.roles import Role
    from wuhan_pdr.kernel.navigation import NavItem, register_nav
    from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from .permissions import is_bureau, uses_revenue, uses_statements
    from .selectors import revenue_waiting_distribution

    register_nav(
        NavItem(
            "operation_revenue",
            _("Operation revenue"),
            "revenue:list",
            uses_revenue,
            order=76,
            group="operation_group",
        )
    )
    register_nav(
        NavItem(
            "revenue_statements",
            _("Revenue statements"),
            "revenue:statements",
            uses_statements,
            order=77,
            group="operation_group",
        )
    )

    def waiting(user) -> list[WorkItem]:
        if not is_bureau(user):
            return []
        return [
            WorkItem(
                title=f"{r.operator.name} · {r.period_start:%Y-%m-%d}–{r.period_end:%Y-%m-%d}",
                url=reverse("revenue:detail", args=[r.pk]),
                state=str(_("To distribute")),
            )
            for r in revenue_waiting_distribution()[:10]
        ]

    register_queue(
        QueueSource(
            "revenue_to_distribute",
            _("Operation revenue to distribute"),
            frozenset({Role.CITY_REVIEWER}),
            waiting,
            order=60,
        )
    )
