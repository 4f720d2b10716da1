"""Work queues of authorized operation on the home page: applications waiting for the
authorizing bureau (with its review deadline), applications returned to the operator, yearly
disclosure reports to write (due date, overdue) and to check and publish."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel import workdays
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

QUEUE_ITEMS = 20


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=workdays.SHANGHAI)


def _authorizations(user, state: str) -> list[WorkItem]:
    from .selectors import authorizations_visible_to
    from .workflows import authorization_workflow

    now = timezone.now()
    out = []
    for a in authorizations_visible_to(user, state=state).order_by("step_deadline", "pk")[
        :QUEUE_ITEMS
    ]:
        if not authorization_workflow.available_to(a, user):
            continue
        out.append(
            WorkItem(
                title=f"#{a.pk} {a.operator.name} · {a.get_kind_display()}",
                url=f"/operation/authorizations/{a.pk}/",
                state=a.get_state_display(),
                deadline=a.step_deadline,
                overdue=bool(a.step_deadline and a.step_deadline < now),
            )
        )
    return out


def _disclosures(user, states: tuple[str, ...]) -> list[WorkItem]:
    from .selectors import disclosures_visible_to
    from .workflows import disclosure_workflow

    today = workdays.today()
    out = []
    for d in (
        disclosures_visible_to(user).filter(state__in=states).order_by("due_on", "pk")[:QUEUE_ITEMS]
    ):
        if not disclosure_workflow.available_to(d, user):
            continue
        out.append(
            WorkItem(
                title=_("Yearly disclosure %(year)d · %(org)s")
                % {"year": d.year, "org": d.operator.name},
                url=f"/operation/disclosures/{d.pk}/",
                state=d.get_state_display(),
                deadline=_end_of(d.due_on),
                overdue=today > d.due_on,
            )
        )
    return out


def register() -> None:
    from .models import OperationAuthorization, YearlyDisclosure

    A, D = OperationAuthorization.State, YearlyDisclosure.State
    register_queue(
        QueueSource(
            "operation_review",
            _("Operation authorizations waiting for your review"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            lambda user: _authorizations(user, A.SUBMITTED),
            order=62,
        )
    )
    register_queue(
        QueueSource(
            "operation_returned",
            _("Operation applications returned to you"),
            frozenset({Role.OPERATOR}),
            lambda user: _authorizations(user, A.RETURNED),
            order=62,
        )
    )
    register_queue(
        QueueSource(
            "operation_disclosure_draft",
            _("Yearly disclosure reports to submit"),
            frozenset({Role.OPERATOR}),
            lambda user: _disclosures(user, (D.DRAFT, D.RETURNED)),
            order=63,
        )
    )
    register_queue(
        QueueSource(
            "operation_disclosure_check",
            _("Yearly disclosure reports to check and publish"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            lambda user: _disclosures(user, (D.SUBMITTED,)),
            order=63,
        )
    )
