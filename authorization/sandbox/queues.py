"""The sandbox in the menu and in the work queues: the provider's data officer sees the sessions
to review (overdue ones flagged), the city bureau the sessions whose reply is overdue (like
share requests' overdue replies)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from . import selectors
from .permissions import may_use_sandbox

QUEUE_LENGTH = 10


def _item(s, now) -> WorkItem:
    from .services import session_title

    overdue = bool(s.step_deadline and s.step_deadline < now)
    return WorkItem(
        title=f"{session_title(s)} {s.organization.name}",
        url=reverse("sandbox:detail", kwargs={"pk": s.pk}),
        state=gettext_now("Overdue") if overdue else s.get_state_display(),
        deadline=s.step_deadline,
        overdue=overdue,
    )


def _to_review(user) -> list[WorkItem]:
    now = timezone.now()
    return [_item(s, now) for s in selectors.sessions_to_review(user)[:QUEUE_LENGTH]]


def _overdue_for_bureau(user) -> list[WorkItem]:
    now = timezone.now()
    return [_item(s, now) for s in selectors.sessions_overdue(user, now=now)[:QUEUE_LENGTH]]


def register() -> None:
    register_nav(NavItem("sandbox", _("Data sandbox"), "sandbox:index", may_use_sandbox, order=86))
    register_queue(
        QueueSource(
            "sandbox_to_review",
            _("Sandbox sessions to review"),
            frozenset({Role.AGENCY_ADMIN}),
            _to_review,
            order=47,
        )
    )
    register_queue(
        QueueSource(
            "sandbox_overdue",
            _("Sandbox sessions with an overdue reply"),
            frozenset({Role.CITY_REVIEWER}),
            _overdue_for_bureau,
            order=48,
        )
    )
