"""Work queues of the registration procedure on the home page: for the registration body,
applications to accept (with their deadline, overdue ones first) and those waiting for its
next step (review, objections, code); for applicants, applications sent back."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

QUEUE_ITEMS = 20


def _item(r, deadline=None) -> WorkItem:
    now = timezone.now()
    return WorkItem(
        title=f"{r.name} · {r.registrant.name}",
        url=reverse("registration:detail", args=[r.pk]),
        state=r.get_state_display(),
        deadline=deadline,
        overdue=bool(deadline and deadline < now),
    )


def _to_accept(user) -> list[WorkItem]:
    from .permissions import is_registrar
    from .selectors import waiting_for_acceptance

    if not is_registrar(user):
        return []
    rows = waiting_for_acceptance().order_by("accept_by", "pk")[:QUEUE_ITEMS]
    return [_item(r, r.accept_by) for r in rows]


def _next_step(user) -> list[WorkItem]:
    from .models import NoticeObjection, Registration
    from .permissions import is_registrar
    from .selectors import ready_for_next_step

    if not is_registrar(user):
        return []
    rows = list(ready_for_next_step().order_by("updated_at", "pk")[:QUEUE_ITEMS])
    held = (
        Registration.objects.filter(
            state=Registration.State.NOTICE, objections__state=NoticeObjection.State.OPEN
        )
        .select_related("registrant")
        .distinct()[:QUEUE_ITEMS]
    )
    seen = {r.pk for r in rows}
    rows += [r for r in held if r.pk not in seen]
    return [_item(r) for r in rows]


def _sent_back(user) -> list[WorkItem]:
    from .models import Registration
    from .permissions import registrations_visible_to

    rows = registrations_visible_to(user).filter(state=Registration.State.RETURNED)
    return [_item(r) for r in rows.order_by("sent_back_at", "pk")[:QUEUE_ITEMS]]


def register() -> None:
    register_queue(
        QueueSource(
            "registration_accept",
            _("Registration applications to accept"),
            frozenset({Role.REGISTRAR}),
            _to_accept,
            order=70,
        )
    )
    register_queue(
        QueueSource(
            "registration_next",
            _("Registrations to review, objections to answer, codes to assign"),
            frozenset({Role.REGISTRAR}),
            _next_step,
            order=71,
        )
    )
    register_queue(
        QueueSource(
            "registration_sent_back",
            _("Registration applications sent back to you"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN, Role.OPERATOR}),
            _sent_back,
            order=72,
        )
    )
