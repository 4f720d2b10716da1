"""Data quality in the navigation, and its work queues: the agency's open quality issues
(with deadlines) and, for the bureau, the issues answered or verified that wait for it."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from ..models import QualityIssue
from .permissions import is_agency_worker, issues_visible_to, uses_quality

QUEUE_LENGTH = 10
S = QualityIssue.State


def _items(issues) -> list[WorkItem]:
    now = timezone.now()
    return [
        WorkItem(
            title=f"{i.resource.code} · {i.rule.name}",
            url=reverse("quality:issue-detail", args=[i.pk]),
            state=i.get_state_display(),
            deadline=i.deadline,
            overdue=bool(i.deadline and i.deadline < now and i.state in (S.OPEN, S.ESCALATED)),
        )
        for i in issues
    ]


def _to_answer(user) -> list[WorkItem]:
    if not is_agency_worker(user):
        return []
    qs = issues_visible_to(user).filter(
        provider_id=user.organization_id, state__in=[S.OPEN, S.ESCALATED]
    )
    return _items(qs.order_by("deadline")[:QUEUE_LENGTH])


def _to_decide(user) -> list[WorkItem]:
    qs = issues_visible_to(user).filter(state__in=[S.ANSWERED, S.VERIFIED])
    return _items(qs.order_by("updated_at")[:QUEUE_LENGTH])


def register() -> None:
    register_nav(NavItem("quality", _("Data quality"), "quality:board", uses_quality, order=63))
    register_queue(
        QueueSource(
            "quality_to_answer",
            _("Quality issues to answer"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _to_answer,
            order=32,
        )
    )
    register_queue(
        QueueSource(
            "quality_to_decide",
            _("Quality issues to close or reopen"),
            frozenset({Role.CITY_REVIEWER}),
            _to_decide,
            order=32,
        )
    )
