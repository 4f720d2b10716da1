"""Assessments in the navigation, and the security administrator's work queue: subjects whose
assessment is overdue (expired, failed, revoked), subjects waiting for a first one, and passes
ending within the reminder window."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav
from wuhan_pdr.kernel.workdays import today as local_today
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from . import selectors
from .permissions import sees_assessments

QUEUE_LENGTH = 10


def _day_end(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))


def _due(user) -> list[WorkItem]:
    today = local_today()
    items = [
        WorkItem(
            title=a.subject_title,
            url=reverse("security:assessment-detail", args=[a.pk]),
            state=str(_("Revoked") if a.revoked_at else a.get_result_display())
            if (a.revoked_at or not a.passed)
            else str(_("Expired")),
            deadline=_day_end(a.valid_until) if a.valid_until else None,
            overdue=True,
        )
        for a in selectors.overdue_assessments(today=today)[:QUEUE_LENGTH]
    ]
    items += [
        WorkItem(
            title=f"{p.kind_label} · {p.title}",
            url=reverse("security:assessment-new", args=[p.kind, p.subject_id]),
            state=str(_("Not assessed")),
        )
        for p in selectors.pending_subjects(limit=QUEUE_LENGTH)
    ]
    horizon = today + dt.timedelta(days=settings.ASSESSMENT_REMINDER_DAYS)
    items += [
        WorkItem(
            title=a.subject_title,
            url=reverse("security:assessment-detail", args=[a.pk]),
            state=str(_("Expiring soon")),
            deadline=_day_end(a.valid_until),
        )
        for a in selectors.current_assessments(status="expiring", today=today).filter(
            valid_until__lte=horizon
        )[:QUEUE_LENGTH]
    ]
    return items[: QUEUE_LENGTH * 2]


def register() -> None:
    # The security chapter's drop-down ("security_group") is arranged with the others in
    # accounts/navigation.py MENU_GROUPS; its pages join it by key.
    register_nav(
        NavItem(
            "security_assessments",
            _("Security assessments"),
            "security:assessment-list",
            sees_assessments,
            order=85,
            group="security_group",
        )
    )
    register_queue(
        QueueSource(
            "security_assessments_due",
            _("Security assessments due"),
            frozenset({Role.SECURITY_ADMIN}),
            _due,
            order=31,
        )
    )
