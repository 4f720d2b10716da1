"""Rectification orders in the work queues: the agency's open orders (overdue flagged), the
bureau's answers to verify and the city bureau's suggestions to decide."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import SHANGHAI
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from .models import OrderSuggestion, RectificationOrder
from .permissions import is_agency_member, is_city_reviewer, may_issue, visible_orders_q

S = RectificationOrder.State
QUEUE_LENGTH = 10


def _item(o: RectificationOrder) -> WorkItem:
    return WorkItem(
        title=f"#{o.pk} {o.agency.name} · {o.get_case_display()}",
        url=reverse("supervision:order", args=[o.pk]),
        state=_("Overdue") if o.is_overdue else o.get_state_display(),
        deadline=dt.datetime.combine(o.due_on, dt.time(23, 59), tzinfo=SHANGHAI),
        overdue=o.is_overdue,
    )


def _agency(user) -> list[WorkItem]:
    if not is_agency_member(user):
        return []
    qs = RectificationOrder.objects.filter(
        agency_id=user.organization_id, state__in=RectificationOrder.OPEN_STATES
    ).select_related("agency")
    return [_item(o) for o in qs.order_by("due_on", "pk")[:QUEUE_LENGTH]]


def _bureau(user) -> list[WorkItem]:
    if not may_issue(user):
        return []
    qs = RectificationOrder.objects.filter(visible_orders_q(user)).filter(
        state=S.ANSWERED
    ) | RectificationOrder.objects.filter(visible_orders_q(user)).filter(
        escalated_at__isnull=False, state__in=RectificationOrder.OPEN_STATES
    )
    items = [_item(o) for o in qs.select_related("agency").order_by("due_on", "pk")[:QUEUE_LENGTH]]
    if is_city_reviewer(user):
        n = OrderSuggestion.objects.filter(state=OrderSuggestion.State.OPEN).count()
        if n:
            items.append(
                WorkItem(
                    title=_("%(n)s suggested rectification orders to decide") % {"n": n},
                    url=reverse("supervision:suggestions"),
                )
            )
    return items


def register() -> None:
    register_queue(
        QueueSource(
            "rectification_agency",
            gettext_lazy("Rectification orders to our agency"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _agency,
            order=60,
        )
    )
    register_queue(
        QueueSource(
            "rectification_bureau",
            gettext_lazy("Rectification orders to verify or follow up"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            _bureau,
            order=60,
        )
    )
