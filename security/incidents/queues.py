"""Incidents in the navigation, and the work queue of open incidents for those who handle
them."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from . import selectors
from .models import Incident
from .permissions import uses_incidents

QUEUE_LENGTH = 10


def _open(user) -> list[WorkItem]:
    return [
        WorkItem(
            title=f"{i.get_level_display()} · {i.title}",
            url=reverse("security:incident-detail", args=[i.pk]),
            state=i.get_state_display(),
            deadline=i.occurred_at,
            overdue=i.level in (Incident.Level.ESPECIALLY_MAJOR, Incident.Level.MAJOR),
        )
        for i in selectors.open_incidents_for(user)[:QUEUE_LENGTH]
    ]


def register() -> None:
    register_nav(
        NavItem(
            "security_incidents",
            _("Incidents and drills"),
            "security:incident-list",
            uses_incidents,
            order=86,
            group="security_group",
        )
    )
    register_queue(
        QueueSource(
            "security_incidents_open",
            _("Open security incidents"),
            frozenset({Role.SECURITY_ADMIN, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            _open,
            order=32,
        )
    )
