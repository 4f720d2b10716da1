"""The standards in the navigation, and change requests in the work queues of the filers
(drafts and returned requests) and of the city bureau's reviewers (submitted ones)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from .models import ElementChangeRequest
from .permissions import is_city_reviewer
from .services import request_title

R = ElementChangeRequest.State
QUEUE_LENGTH = 10


def _items(qs) -> list[WorkItem]:
    now = timezone.now()
    return [
        WorkItem(
            title=f"#{r.pk} {request_title(r)}",
            url=reverse("standards:request", kwargs={"pk": r.pk}),
            state=r.get_state_display(),
            deadline=r.step_deadline,
            overdue=bool(r.step_deadline and r.step_deadline < now),
        )
        for r in qs.select_related("element").order_by("step_deadline", "-updated_at")[
            :QUEUE_LENGTH
        ]
    ]


def _to_fix(user) -> list[WorkItem]:
    if not user.organization_id:
        return []
    return _items(
        ElementChangeRequest.objects.filter(
            organization_id=user.organization_id, state__in=[R.DRAFT, R.RETURNED]
        )
    )


def _to_review(user) -> list[WorkItem]:
    if not is_city_reviewer(user):
        return []
    return _items(ElementChangeRequest.objects.filter(state=R.SUBMITTED))


def register() -> None:
    register_nav(
        NavItem("standards", _("Data standards"), "standards:elements", everyone, order=50)
    )
    register_queue(
        QueueSource(
            "standards_to_fix",
            _("Data element requests: drafts and returned"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _to_fix,
            order=15,
        )
    )
    register_queue(
        QueueSource(
            "standards_to_review",
            _("Data element requests to review"),
            frozenset({Role.CITY_REVIEWER}),
            _to_review,
            order=16,
        )
    )
