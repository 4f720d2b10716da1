"""Inspections in the work queues: the subject's people see the inspections they were told of
(with the planned dates), the bureau's reviewers the open inspections of their bureau with the
next step's day."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import SHANGHAI
from wuhan_pdr.kernel.workdays import today as local_today
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from .models import Inspection
from .permissions import is_city_reviewer, is_subject_member, may_plan

S = Inspection.State
QUEUE_LENGTH = 10


def _due(inspection: Inspection) -> dt.date | None:
    if inspection.state in (S.PLANNED, S.NOTIFIED):
        return inspection.planned_start
    if inspection.state == S.IN_PROGRESS:
        return inspection.planned_end
    return inspection.follow_up_due


def _item(i: Inspection, *, subject_view: bool) -> WorkItem:
    due = i.planned_end if subject_view else _due(i)
    overdue = bool(due and due < local_today() and not subject_view)
    if subject_view:
        title = _("%(title)s (%(start)s to %(end)s)") % {
            "title": i.title,
            "start": f"{i.planned_start:%Y-%m-%d}",
            "end": f"{i.planned_end:%Y-%m-%d}",
        }
    else:
        title = f"#{i.pk} {i.subject.name} · {i.title}"
    return WorkItem(
        title=title,
        url=reverse("supervision:inspection", args=[i.pk]),
        state=_("Overdue") if overdue else i.get_state_display(),
        deadline=dt.datetime.combine(due, dt.time(23, 59), tzinfo=SHANGHAI) if due else None,
        overdue=overdue,
    )


def _subject(user) -> list[WorkItem]:
    if not is_subject_member(user):
        return []
    qs = Inspection.objects.filter(
        subject_id=user.organization_id,
        state__in=(S.NOTIFIED, S.IN_PROGRESS, S.FINDINGS),
    ).select_related("subject")
    return [_item(i, subject_view=True) for i in qs.order_by("planned_start", "pk")[:QUEUE_LENGTH]]


def _bureau(user) -> list[WorkItem]:
    if not may_plan(user):
        return []
    qs = Inspection.objects.filter(state__in=Inspection.OPEN_STATES)
    if not is_city_reviewer(user):
        qs = qs.filter(bureau_id=user.organization_id)
    qs = qs.select_related("subject").order_by("planned_start", "pk")
    return [_item(i, subject_view=False) for i in qs[:QUEUE_LENGTH]]


def register() -> None:
    register_queue(
        QueueSource(
            "inspections_subject",
            gettext_lazy("Supervision inspections of our organization"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN, Role.OPERATOR}),
            _subject,
            order=58,
        )
    )
    register_queue(
        QueueSource(
            "inspections_bureau",
            gettext_lazy("Supervision inspections to carry out"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            _bureau,
            order=58,
        )
    )
