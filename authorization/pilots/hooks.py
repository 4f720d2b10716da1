"""What authorization.pilots registers with the kernel and other apps, called from
AppConfig.ready(): menu entries, work queues, the demo seeder and the periodic task."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from django.urls import reverse

    from wuhan_pdr.accounts.roles import Role
    from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav
    from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from . import tasks as _tasks  # noqa: F401  (celery tasks)
    from .permissions import is_applicant, is_bureau, uses_pilots
    from .selectors import open_calls, proposals_to_score

    register_nav(
        NavItem(
            "pilot_calls",
            _("Pilot calls"),
            "pilots:calls",
            uses_pilots,
            order=78,
            group="operation_group",
        )
    )
    register_nav(
        NavItem(
            "pilots_public",
            _("Selected pilots"),
            "pilots:public",
            everyone,
            order=79,
            group="operation_group",
        )
    )

    def to_score(user) -> list[WorkItem]:
        if not is_bureau(user):
            return []
        return [
            WorkItem(
                title=f"{p.call.title} · {p.organization.name} · {p.title}",
                url=reverse("pilots:proposal", args=[p.pk]),
                state=str(_("To score")),
                deadline=p.call.deadline,
            )
            for p in proposals_to_score(user)[:10]
        ]

    def calls_open(user) -> list[WorkItem]:
        if not is_applicant(user):
            return []
        return [
            WorkItem(
                title=f"{c.title} · {c.area}",
                url=reverse("pilots:call", args=[c.pk]),
                state=str(_("Open for proposals")),
                deadline=c.deadline,
            )
            for c in open_calls().exclude(proposals__organization_id=user.organization_id)[:10]
        ]

    register_queue(
        QueueSource(
            "pilot_proposals_to_score",
            _("Pilot proposals to score"),
            frozenset({Role.CITY_REVIEWER}),
            to_score,
            order=61,
        )
    )
    register_queue(
        QueueSource(
            "pilot_calls_open",
            _("Calls for pilots open to you"),
            frozenset({Role.OPERATOR, Role.REQUESTER}),
            calls_open,
            order=62,
        )
    )
