"""Filing in the navigation and in the work queues: each agency sees, per open campaign, the
stage it is at (flagged overdue past the deadline) and its IT projects waiting for it; the
bureau sees agencies past a campaign's deadline and the projects waiting for its decision."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav
from wuhan_pdr.kernel.workdays import SHANGHAI
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from ..permissions import reviewable_providers_q
from . import selectors
from .models import ITProject
from .permissions import is_filer, may_use_filing

P = ITProject.State
QUEUE_LENGTH = 10


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)


def _campaign_items(user) -> list[WorkItem]:
    """The agency's stage in each open campaign it has not finished."""
    if not is_filer(user):
        return []
    items = []
    for campaign in selectors.open_campaigns()[:QUEUE_LENGTH]:
        rows = selectors.campaign_board(user, campaign)
        mine = next((r for r in rows if r.organization_id == user.organization_id), None)
        if mine is None or mine.stage == selectors.Stage.PUBLICATION:
            continue
        items.append(
            WorkItem(
                title=_("%(campaign)s: your agency is at “%(stage)s”")
                % {"campaign": campaign.name, "stage": mine.stage_label},
                url=reverse("filing:campaign", kwargs={"pk": campaign.pk}),
                state=_("Overdue") if mine.overdue else str(mine.stage_label),
                deadline=_end_of(campaign.deadline),
                overdue=mine.overdue,
            )
        )
    return items


def _overdue_agencies(user) -> list[WorkItem]:
    """For the bureau: per open campaign past its deadline, how many agencies are late."""
    items = []
    for campaign in selectors.open_campaigns()[:QUEUE_LENGTH]:
        if not selectors.is_past_deadline(campaign):
            continue
        late = [r for r in selectors.campaign_board(user, campaign) if r.overdue]
        if not late:
            continue
        items.append(
            WorkItem(
                title=_("%(campaign)s: %(n)d agencies past the deadline")
                % {"campaign": campaign.name, "n": len(late)},
                url=reverse("filing:campaign", kwargs={"pk": campaign.pk}) + "?overdue=on",
                state=_("Overdue"),
                deadline=_end_of(campaign.deadline),
                overdue=True,
            )
        )
    return items


def _project_items(qs) -> list[WorkItem]:
    return [
        WorkItem(
            title=f"{p.organization.name} · {p.name}",
            url=reverse("filing:project", kwargs={"pk": p.pk}),
            state=p.get_state_display(),
        )
        for p in qs.select_related("organization").order_by("updated_at")[:QUEUE_LENGTH]
    ]


def _projects_to_fix(user) -> list[WorkItem]:
    if not is_filer(user):
        return []
    return _project_items(
        ITProject.objects.filter(
            organization_id=user.organization_id,
            state__in=[P.DRAFT, P.RETURNED, P.APPROVED],
        )
    )


def _projects_to_decide(user) -> list[WorkItem]:
    return _project_items(
        ITProject.objects.filter(
            reviewable_providers_q(user, prefix="organization"),
            state__in=[P.SUBMITTED, P.ACCEPTANCE_SUBMITTED],
        )
    )


FILERS = frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN})
REVIEWERS = frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER})


def register() -> None:
    register_nav(
        NavItem("filing", gettext_lazy("Agency filing"), "filing:home", may_use_filing, order=25)
    )
    register_queue(
        QueueSource(
            "filing_campaign",
            gettext_lazy("Catalog compilation campaigns"),
            FILERS,
            _campaign_items,
            order=9,
        )
    )
    register_queue(
        QueueSource(
            "filing_projects_to_fix",
            gettext_lazy("IT projects to complete"),
            FILERS,
            _projects_to_fix,
            order=17,
        )
    )
    register_queue(
        QueueSource(
            "filing_overdue",
            gettext_lazy("Agencies past a campaign deadline"),
            REVIEWERS,
            _overdue_agencies,
            order=9,
        )
    )
    register_queue(
        QueueSource(
            "filing_projects_to_decide",
            gettext_lazy("IT projects to decide on"),
            REVIEWERS,
            _projects_to_decide,
            order=17,
        )
    )
