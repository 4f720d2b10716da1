"""Aggregation in the navigation, and its work queue: failed batches (the agency's channels;
for the bureau, every channel's in the last 7 days). Channels waiting for a security
assessment are in the security administrator's assessment queue (security.assessments)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from security.models import Grade
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import NavItem, register_nav, signed_in
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from . import selectors
from .models import Channel
from .permissions import sees_all_channels, works_for

QUEUE_LENGTH = 10


def _uses_channels(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (sees_all_channels(user) or works_for(user, user.organization_id))
    )


def _sees_board_only(user) -> bool:
    """The board has a menu entry of its own only for those who do not use the channel pages
    (district reviewers); the others reach it through the aggregation tabs."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and not _uses_channels(user)
        and selectors.board_scope(user) is not None
    )


def _failed(user) -> list[WorkItem]:
    return [
        WorkItem(
            title=f"{b.channel.resource.code} · {b.channel.name}",
            url=reverse("aggregation:batch-detail", args=[b.pk]),
            state=str(_("Failed")),
            deadline=b.finished_at or b.created_at,
            overdue=True,
        )
        for b in selectors.failed_batches_for(user)[:QUEUE_LENGTH]
    ]


def _zone_moves(user) -> list[WorkItem]:
    """Tables waiting to move to another storage zone: a move to a less protected zone waits
    for the security administrator's confirmation; the others may be confirmed by the
    provider too. Linked to the resource's channel page, where the move is confirmed."""
    labels = dict(Grade.Zone.choices)
    moves = [m for m in selectors.pending_zone_moves() if not m.confirmed][:QUEUE_LENGTH]
    channels = dict(
        Channel.objects.filter(resource_id__in=[m.table.resource_id for m in moves])
        .order_by("-pk")
        .values_list("resource_id", "pk")
    )
    items = []
    for m in moves:
        channel_id = channels.get(m.table.resource_id)
        if channel_id is None:
            continue
        items.append(
            WorkItem(
                title=_("%(resource)s: from the %(a)s to the %(b)s")
                % {
                    "resource": m.table.resource.code,
                    "a": labels.get(m.from_zone, m.from_zone),
                    "b": labels.get(m.to_zone, m.to_zone),
                },
                url=reverse("aggregation:channel-detail", args=[channel_id]),
                state=str(
                    _("Your confirmation is needed") if m.downgrade else _("Provider may confirm")
                ),
                overdue=m.downgrade,
            )
        )
    return items


def register() -> None:
    register_nav(
        NavItem(
            "aggregation", _("Data aggregation"), "aggregation:channels", _uses_channels, order=60
        )
    )
    register_nav(
        NavItem(
            "aggregation_board",
            _("Aggregation board"),
            "aggregation:board",
            _sees_board_only,
            order=61,
        )
    )
    register_nav(
        NavItem("downtime", _("System downtime"), "aggregation:downtime", signed_in, order=62)
    )
    register_queue(
        QueueSource(
            "aggregation_failed",
            _("Failed data loads"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN, Role.CITY_REVIEWER}),
            _failed,
            order=30,
        )
    )
    register_queue(
        QueueSource(
            "aggregation_zone_moves",
            _("Tables moving to another storage zone"),
            frozenset({Role.SECURITY_ADMIN}),
            _zone_moves,
            order=31,
        )
    )
