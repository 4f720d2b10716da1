"""Objections in the navigation and the work queues: for the bureau, those to decide, to
hold the consultation on and to close; for the provider's staff, those to carry out."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav, signed_in
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from ..models import Objection
from . import selectors
from .permissions import is_bureau, is_provider_worker
from .services import objection_title

S = Objection.State
QUEUE_LENGTH = 10


def _items(qs) -> list[WorkItem]:
    now = timezone.now()
    return [
        WorkItem(
            title=objection_title(o),
            url=reverse("objections:detail", kwargs={"pk": o.pk}),
            state=o.get_state_display(),
            deadline=o.step_deadline,
            overdue=bool(o.step_deadline and o.step_deadline < now),
        )
        for o in qs[:QUEUE_LENGTH]
    ]


def _bureau(state):
    def items(user) -> list[WorkItem]:
        if not is_bureau(user):
            return []
        return _items(selectors.open_objections(user, states=[state]))

    return items


def _to_carry_out(user) -> list[WorkItem]:
    if not is_provider_worker(user):
        return []
    return _items(selectors.open_objections(user, states=[S.AGREED], provider_only=True))


def register() -> None:
    register_nav(NavItem("objections", _("Objections"), "objections:index", signed_in, order=75))
    for key, label, state, order in (
        ("objections_to_decide", _("Objections to accept or reject"), S.SUBMITTED, 40),
        ("objections_to_consult", _("Objections: consultations to record"), S.ACCEPTED, 41),
        ("objections_to_close", _("Objections reported back, to close"), S.REPORTED, 42),
    ):
        register_queue(
            QueueSource(key, label, frozenset({Role.CITY_REVIEWER}), _bureau(state), order=order)
        )
    register_queue(
        QueueSource(
            "objections_to_carry_out",
            _("Objections to carry out"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _to_carry_out,
            order=43,
        )
    )
