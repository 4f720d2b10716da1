"""The work queues of conditional opening on the home page: applications waiting for the
provider's data officer, and those waiting for the data bureau, with their deadlines."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

QUEUE_ITEMS = 20


def _waiting(user, state: str) -> list[WorkItem]:
    from .selectors import applications_visible_to
    from .workflows import application_workflow

    now = timezone.now()
    out = []
    for a in applications_visible_to(user, state=state).order_by("step_deadline", "pk")[
        :QUEUE_ITEMS
    ]:
        if not application_workflow.available_to(a, user):
            continue
        out.append(
            WorkItem(
                title=f"{a.resource.published_version.name} · {a.organization.name}",
                url=f"/open/applications/{a.pk}/",
                state=a.get_state_display(),
                deadline=a.step_deadline,
                overdue=bool(a.step_deadline and a.step_deadline < now),
            )
        )
    return out


def register() -> None:
    from .models import OpenApplication

    register_queue(
        QueueSource(
            "open_applications_provider",
            _("Open-data applications waiting for your decision"),
            frozenset({Role.AGENCY_ADMIN}),
            lambda user: _waiting(user, OpenApplication.State.SUBMITTED),
            order=60,
        )
    )
    register_queue(
        QueueSource(
            "open_applications_bureau",
            _("Open-data applications waiting for the data bureau"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            lambda user: _waiting(user, OpenApplication.State.PROVIDER_APPROVED),
            order=60,
        )
    )
